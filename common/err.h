/* The project-wide error codes: one enum, stable string codes (DESIGN.md) and
 * the one table that maps each to an HTTP status. */
#ifndef ATTEST_ERR_H
#define ATTEST_ERR_H

#include <stdbool.h>

#define WARN_UNUSED __attribute__((warn_unused_result))

/* X(enum name, stable wire code, HTTP status). Append only: the wire codes
 * are an API that clients and gateways match on. */
#define ERR_TABLE(X)                                                                               \
	X(ERR_OK, "ok", 200)                                                                       \
	X(ERR_BAD_REQUEST, "bad_request", 400)                                                     \
	X(ERR_BODY_TOO_LARGE, "body_too_large", 413)                                               \
	X(ERR_NOT_FOUND, "not_found", 404)                                                         \
	X(ERR_METHOD_NOT_ALLOWED, "method_not_allowed", 405)                                       \
	X(ERR_EK_CERT_INVALID, "ek_cert_invalid", 400)                                             \
	X(ERR_EK_INVALID, "ek_invalid", 403)                                                       \
	X(ERR_EK_CHAIN_UNTRUSTED, "ek_chain_untrusted", 403)                                       \
	X(ERR_EK_VIRTUAL_TPM, "ek_virtual_tpm", 403)                                               \
	X(ERR_EK_REVOKED, "ek_revoked", 403)                                                       \
	X(ERR_EK_KEY_MISMATCH, "ek_key_mismatch", 403)                                             \
	X(ERR_AK_INVALID, "ak_invalid", 403)                                                       \
	X(ERR_NOT_ENROLLED, "not_enrolled", 403)                                                   \
	X(ERR_MACHINE_REVOKED, "machine_revoked", 403)                                             \
	X(ERR_SESSION_INVALID, "session_invalid", 403)                                             \
	X(ERR_SESSION_EXPIRED, "session_expired", 403)                                             \
	X(ERR_SESSION_REPLAYED, "session_replayed", 403)                                           \
	X(ERR_CREDENTIAL_MISMATCH, "credential_mismatch", 403)                                     \
	X(ERR_QUOTE_INVALID, "quote_invalid", 403)                                                 \
	X(ERR_NONCE_MISMATCH, "nonce_mismatch", 403)                                               \
	X(ERR_PCR_SELECTION_MISMATCH, "pcr_selection_mismatch", 403)                               \
	X(ERR_PCR_DIGEST_MISMATCH, "pcr_digest_mismatch", 403)                                     \
	X(ERR_EVENTLOG_INVALID, "eventlog_invalid", 403)                                           \
	X(ERR_EVENTLOG_REPLAY_MISMATCH, "eventlog_replay_mismatch", 403)                           \
	X(ERR_VIRTUAL_PLATFORM, "virtual_platform", 403)                                           \
	X(ERR_POLICY_VIOLATION, "policy_violation", 403)                                           \
	X(ERR_TOKEN_EXPIRED, "token_expired", 403)                                                 \
	X(ERR_UNAUTHORIZED, "unauthorized", 401)                                                   \
	X(ERR_TOKEN_INVALID, "token_invalid", 401)                                                 \
	X(ERR_RATE_LIMITED, "rate_limited", 429)                                                   \
	X(ERR_UNAVAILABLE, "unavailable", 503)                                                     \
	X(ERR_INTERNAL, "internal", 500)

#define ERR_ENUM_ENTRY(name, code, status) name,
typedef enum err_code { ERR_TABLE(ERR_ENUM_ENTRY) ERR_COUNT } err_t;
#undef ERR_ENUM_ENTRY

/* Longest detail kept; longer ones are cut, never overflowed. */
#define ERR_DETAIL_MAX 256

/* Stable wire code ("quote_invalid"); "internal" for values outside the enum. */
const char *err_code_str(err_t e);

/* HTTP status for an error; 500 for values outside the enum. */
unsigned err_http_status(err_t e);

/* Parses a wire code back (clients read them from refusals); false if unknown. */
bool err_from_str(const char *code, err_t *out) WARN_UNUSED;

/* Records a human-readable detail for the current thread and returns e, so a
 * failure site reads `return err_fail(ERR_QUOTE_INVALID, "bad magic %08x", m);`.
 * The detail lives until the next err_fail or err_clear on this thread. */
err_t err_fail(err_t e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Puts "CONTEXT: " in front of the current detail, keeping the code:
 * `return err_context(parse(buf), path);`. ERR_OK passes through. */
err_t err_context(err_t e, const char *context);

/* The current thread's last detail ("" when none). */
const char *err_detail(void);

void err_clear(void);

/* Propagate a failure: `TRY(abuf_parse(...));` returns the error unchanged. */
#define TRY(expr)                                                                                  \
	do {                                                                                       \
		err_t try_rc_ = (expr);                                                            \
		if (try_rc_ != ERR_OK)                                                             \
			return try_rc_;                                                            \
	} while (0)

/* Same, for functions with an `out:` cleanup label and an `rc` variable. */
#define TRY_OUT(rc, expr)                                                                          \
	do {                                                                                       \
		(rc) = (expr);                                                                     \
		if ((rc) != ERR_OK)                                                                \
			goto out;                                                                  \
	} while (0)

#endif
