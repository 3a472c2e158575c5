/* The two decisions of the protocol. Each check runs in DESIGN.md's order
 * and the first failure answers, so a client (and a test) always gets the
 * same code for the same evidence. */
#include "eval.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "b64.h"
#include "boot.h"
#include "ek_check.h"
#include "evlog.h"
#include "policy.h"
#include "tpm_wire.h"

/* The policy may narrow DESIGN.md's AK types (e.g. ECC only). */
static err_t check_ak_algorithm(const struct policy *p, const TPMT_PUBLIC *ak)
{
	unsigned alg = ak->type == TPM2_ALG_RSA ? POLICY_AK_RSA2048 : POLICY_AK_ECC_P256;

	if ((p->ak_algorithms & alg) == 0)
		return err_fail(ERR_AK_INVALID, "rule ak_algorithms: %s AKs are not accepted",
				alg == POLICY_AK_RSA2048 ? "rsa2048" : "ecc_p256");
	return ERR_OK;
}

err_t eval_challenge(const struct policy *p, const struct challenge_evidence *e,
		     struct challenge_verdict *out)
{
	const struct ek_verdict *v = NULL;
	err_t rc;

	memset(out, 0, sizeof(*out));
	rc = ek_check(p, e->ek_cert, e->ek_cert_len, e->ek_chain, &v);
	if (v != NULL) {
		/* Facts for the record, trusted or not. */
		memcpy(out->machine_id, v->machine_id, sizeof(out->machine_id));
		snprintf(out->ek_issuer, sizeof(out->ek_issuer), "%s", v->issuer);
		snprintf(out->ek_manufacturer, sizeof(out->ek_manufacturer), "%s",
			 v->tpm.manufacturer_str);
	}
	if (rc != ERR_OK)
		goto out;
	TRY_OUT(rc, tpm_ek_load(e->ek_pub, &out->ek));
	/* One key for all three: the certificate's, the one MakeCredential
	 * encrypts to, and the machine id (Keylime's ek/ekcert/ek_tpm split). */
	TRY_OUT(rc, ekcert_key_equal(v->key, out->ek.key));
	TRY_OUT(rc, tpm_ak_check(e->ak_pub, NULL));
	TRY_OUT(rc, check_ak_algorithm(p, e->ak_pub));
	TRY_OUT(rc, tpm_object_name(e->ak_pub, &out->ak_name));
out:
	ek_verdict_release(v);
	return rc;
}

void eval_challenge_release(struct challenge_verdict *v)
{
	tpm_ek_release(&v->ek);
}

/* The quoted bank's values, in ascending PCR order, concatenated: the form
 * the event-log check compares against. */
static size_t quoted_values(const struct pcr_bank *b, uint8_t *out)
{
	size_t n = 0;

	for (unsigned i = 0; i < PCR_COUNT; i++) {
		if (b->present & (1u << i)) {
			memcpy(out + n, b->value[i], b->digest_len);
			n += b->digest_len;
		}
	}
	return n;
}

static err_t eval_event_log(const struct policy *p, const struct quote_evidence *e,
			    const struct quote_facts *f)
{
	const struct boot_policy *boot = &p->boot;
	uint8_t values[PCR_COUNT * PCR_DIGEST_MAX];
	struct evlog *log = NULL;
	struct evlog_pcrs *replayed = NULL;
	enum evlog_bank bank;
	size_t n;
	err_t rc;

	if (e->event_log == NULL) {
		if (p->event_log_required)
			return err_fail(ERR_POLICY_VIOLATION,
					"rule event_log_required: no event log was sent");
		return ERR_OK;
	}
	replayed = calloc(1, sizeof(*replayed));
	if (replayed == NULL)
		return err_fail(ERR_INTERNAL, "out of memory");
	TRY_OUT(rc, evlog_parse(e->event_log, e->event_log_len, &log));
	/* Only the quoted bank can be checked, so only it is replayed. */
	if (!evlog_bank_from_alg(f->quoted.alg, &bank)) {
		rc = err_fail(ERR_EVENTLOG_INVALID, "quoted bank %#x is not one an event log has",
			      f->quoted.alg);
		goto out;
	}
	TRY_OUT(rc, evlog_replay_banks(log, 1u << bank, replayed));
	n = quoted_values(&f->quoted, values);
	TRY_OUT(rc, evlog_check_pcrs(replayed, f->quoted.alg, f->quoted.present, values, n,
				     boot_policy_check_flags(boot)));
	TRY_OUT(rc, boot_policy_eval(boot, log, replayed));
out:
	evlog_free(log);
	free(replayed);
	return rc;
}

err_t eval_quote(const struct policy *p, const struct quote_evidence *e, struct quote_verdict *out)
{
	struct quote_input in = {
	    .attest = e->quote,
	    .attest_len = e->quote_len,
	    .sig = e->signature,
	    .sig_len = e->signature_len,
	    .ak = e->ak,
	    .requested = e->requested,
	    .pcrs = e->pcrs,
	};

	memset(out, 0, sizeof(*out));
	memcpy(in.nonce, e->nonce, QUOTE_NONCE_SIZE);
	TRY(quote_verify(&in, &out->facts));
	hex_encode(out->facts.pcr_digest, out->facts.pcr_digest_len, out->pcr_digest_hex);
	return eval_event_log(p, e, &out->facts);
}
