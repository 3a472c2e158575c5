/* The verifier's decisions, pure: evidence in, verdict and facts out, in
 * the order DESIGN.md fixes ("Order of the quote checks"). No HTTP, no
 * store: enrollment and single use are the daemon's, around these. */
#ifndef ATTEST_EVAL_H
#define ATTEST_EVAL_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/x509.h>
#include <tss2/tss2_tpm2_types.h>

#include "ek_check.h"
#include "ekcert.h"
#include "err.h"
#include "pcrs.h"
#include "quote.h"
#include "tpm_crypto.h"

struct policy;

/* The challenge's evidence, already decoded from the wire (400s are the
 * caller's: base64, TPM2B_PUBLIC unmarshalling, ek_chain certificates). */
struct challenge_evidence {
	const uint8_t *ek_cert; /* DER, NV padding allowed */
	size_t ek_cert_len;
	const struct ek_sent_chain *ek_chain; /* intermediates the client sent; may be NULL */
	const TPMT_PUBLIC *ek_pub;
	const TPMT_PUBLIC *ak_pub;
};

struct challenge_verdict {
	char machine_id[EKCERT_MACHINE_ID_SIZE];
	char ek_issuer[256];
	char ek_manufacturer[EKCERT_TCG_STR_MAX + 1]; /* "id:53544D20", "" when none */
	struct tpm_ek ek;			      /* ready for MakeCredential */
	TPM2B_NAME ak_name;
};

/* ek_cert_invalid -> ek_virtual_tpm -> ek_chain_untrusted / ek_revoked ->
 * ek_invalid -> ek_key_mismatch -> ak_invalid. On failure the verdict
 * still holds what was learned (machine id and issuer once the certificate
 * parsed) for the record. Release with eval_challenge_release always. */
err_t eval_challenge(const struct policy *p, const struct challenge_evidence *e,
		     struct challenge_verdict *out) WARN_UNUSED;
void eval_challenge_release(struct challenge_verdict *v);

struct quote_evidence {
	const uint8_t *quote; /* TPMS_ATTEST */
	size_t quote_len;
	const uint8_t *signature; /* TPMT_SIGNATURE */
	size_t signature_len;
	const TPMT_PUBLIC *ak;
	const uint8_t *nonce; /* QUOTE_NONCE_SIZE bytes */
	const struct pcr_selection *requested;
	const struct pcr_values *pcrs;
	const uint8_t *event_log; /* NULL when the client sent none */
	size_t event_log_len;
};

struct quote_verdict {
	struct quote_facts facts;
	char pcr_digest_hex[2 * PCR_DIGEST_MAX + 1];
};

/* quote checks (quote_verify) -> event log (eventlog_invalid,
 * eventlog_replay_mismatch; a missing log is policy_violation when the
 * policy requires one) -> boot policy (virtual_platform, policy_violation). */
err_t eval_quote(const struct policy *p, const struct quote_evidence *e,
		 struct quote_verdict *out) WARN_UNUSED;

#endif
