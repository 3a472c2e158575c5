/* The EK checks of a challenge, in the order DESIGN.md fixes:
 *   ek_cert_invalid (not X.509; NV 0xFF padding allowed)
 *   -> ek_virtual_tpm: virtual-TPM rules on the EK certificate (issuer, SAN)
 *      and on every certificate the client sent, before and independently
 *      of chain building, so a virtual EK is never "just untrusted"
 *   -> ek_chain_untrusted / ek_revoked: the chain to a configured anchor
 *   -> ek_virtual_tpm: the rules on every CA of the chain that was built
 *      (catches a vTPM CA someone put in the trust store).
 * The EK-public comparison (ek_key_mismatch) is the caller's, after
 * ek_invalid: ekcert_key_equal(verdict->key, ek_pub).
 *
 * Verdicts are cached per policy (policy/ek_cache.h), keyed by SHA-256 over
 * the certificate bytes and the certificates sent with it: the sent
 * intermediates can change the verdict, so they are part of the key. */
#ifndef ATTEST_EK_CHECK_H
#define ATTEST_EK_CHECK_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "ekcert.h"
#include "ekcert_chain.h"
#include "err.h"

struct policy;

/* Room for one name line in a verdict; longer names are cut. */
#define EK_NAME_MAX 200

/* Read-only once made; shared between threads by reference count. */
struct ek_verdict {
	err_t code; /* ERR_OK: trusted */
	char detail[ERR_DETAIL_MAX];
	struct ekcert_tpm_info tpm;
	char machine_id[EKCERT_MACHINE_ID_SIZE];
	char issuer[EK_NAME_MAX];			 /* the EK certificate's issuer */
	EVP_PKEY *key;					 /* the EK certificate's key */
	size_t chain_len;				 /* 0 unless trusted */
	char chain[EKCERT_MAX_CHAIN_DEPTH][EK_NAME_MAX]; /* subjects, EK first, anchor last */
	time_t valid_until;				 /* when a cached copy must be recomputed */
	atomic_uint refs;				 /* internal */
};

/* The intermediates a client sent, as the DER bytes it sent (each may carry
 * NV 0xFF padding). They are parsed only when no cached verdict answers:
 * d2i_X509 costs more than the rest of a cached challenge. */
struct ek_sent_chain {
	size_t count; /* at most EKCERT_MAX_SENT_CHAIN */
	const uint8_t *der[EKCERT_MAX_SENT_CHAIN];
	size_t len[EKCERT_MAX_SENT_CHAIN];
};

/* DER-encodes certificates an operator gave (files) into the form above;
 * free with ek_sent_chain_clear. */
err_t ek_sent_chain_from_stack(STACK_OF(X509) * certs, struct ek_sent_chain *out) WARN_UNUSED;
void ek_sent_chain_clear(struct ek_sent_chain *c);

/* Runs the checks above on ek_cert (DER, NV padding allowed) and the
 * intermediates the client sent (may be NULL): an entry that is not a
 * certificate is ERR_BAD_REQUEST naming it ("ek_chain[1]: ..."). Returns the
 * verdict's code and sets the thread's error detail. *out is the verdict
 * whenever the certificate parsed, trusted or not (so a refusal can be
 * recorded with its manufacturer and machine id); NULL for ek_cert_invalid,
 * bad_request and internal errors. Release it with ek_verdict_release. */
err_t ek_check(const struct policy *p, const uint8_t *ek_cert, size_t len,
	       const struct ek_sent_chain *sent, const struct ek_verdict **out) WARN_UNUSED;

const struct ek_verdict *ek_verdict_ref(const struct ek_verdict *v);
void ek_verdict_release(const struct ek_verdict *v);

#endif
