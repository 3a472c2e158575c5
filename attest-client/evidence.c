/* Request bodies and answer parsing. Marshalling goes through tss2-mu so
 * the bytes are the TPM's wire encoding, the same tpm2-tools writes. */
#include "evidence.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <tss2/tss2_mu.h>

#include "b64.h"
#include "json_util.h"

static err_t oom(void)
{
	return err_fail(ERR_INTERNAL, "out of memory");
}

/* obj[key] = base64(p[0..n)) */
static err_t put_b64(json_t *obj, const char *key, const uint8_t *p, size_t n)
{
	char *text = b64_encode(p, n);
	int rc;

	if (text == NULL)
		return oom();
	rc = json_object_set_new(obj, key, json_string(text));
	free(text);
	return rc == 0 ? ERR_OK : oom();
}

static err_t put_public(json_t *obj, const char *key, const TPM2B_PUBLIC *pub)
{
	uint8_t buf[sizeof(TPM2B_PUBLIC)];
	size_t off = 0;

	if (Tss2_MU_TPM2B_PUBLIC_Marshal(pub, buf, sizeof(buf), &off) != TSS2_RC_SUCCESS)
		return err_fail(ERR_INTERNAL, "%s: cannot be marshalled", key);
	return put_b64(obj, key, buf, off);
}

err_t evidence_challenge_request(const struct evidence_identity *id, json_t **out)
{
	json_t *body = json_object(), *chain = NULL;
	err_t rc = ERR_OK;

	*out = NULL;
	if (body == NULL)
		return oom();
	TRY_OUT(rc, put_b64(body, "ek_cert", id->certs->leaf.der, id->certs->leaf.len));
	if (id->certs->chain_count > 0) {
		chain = json_array();
		if (chain == NULL || json_object_set(body, "ek_chain", chain) != 0) {
			rc = oom();
			goto out;
		}
		for (size_t i = 0; i < id->certs->chain_count; i++) {
			char *text = b64_encode(id->certs->chain[i].der, id->certs->chain[i].len);

			if (text == NULL || json_array_append_new(chain, json_string(text)) != 0)
				rc = oom();
			free(text);
			if (rc != ERR_OK)
				goto out;
		}
	}
	TRY_OUT(rc, put_public(body, "ek_pub", id->ek_pub));
	TRY_OUT(rc, put_public(body, "ak_pub", id->ak_pub));
	if (id->host != NULL && json_object_set_new(body, "host", json_deep_copy(id->host)) != 0) {
		rc = oom();
		goto out;
	}
	*out = body;
	body = NULL;
out:
	json_decref(chain);
	json_decref(body);
	return rc;
}

err_t evidence_pcrs(const struct pcr_bank *bank, json_t **out)
{
	const char *name = pcr_bank_name(bank->alg);
	json_t *pcrs = json_object(), *values = json_object();
	err_t rc = ERR_OK;

	*out = NULL;
	if (name == NULL || bank->digest_len == 0 || bank->digest_len > PCR_DIGEST_MAX) {
		rc = err_fail(ERR_INTERNAL, "PCR bank 0x%04x has no name", bank->alg);
		goto out;
	}
	if (pcrs == NULL || values == NULL || json_object_set(pcrs, name, values) != 0) {
		rc = oom();
		goto out;
	}
	for (unsigned i = 0; i < PCR_COUNT; i++) {
		char index[4], hex[2 * PCR_DIGEST_MAX + 1];

		if (!(bank->present & (1u << i)))
			continue;
		snprintf(index, sizeof(index), "%u", i);
		hex_encode(bank->value[i], bank->digest_len, hex);
		if (json_object_set_new(values, index, json_string(hex)) != 0) {
			rc = oom();
			goto out;
		}
	}
	*out = pcrs;
	pcrs = NULL;
out:
	json_decref(values);
	json_decref(pcrs);
	return rc;
}

err_t evidence_quote_request(const struct evidence_quote *q, json_t **out)
{
	uint8_t sig[sizeof(TPMT_SIGNATURE)];
	size_t sig_len = 0;
	json_t *body = json_object(), *pcrs = NULL;
	err_t rc = ERR_OK;

	*out = NULL;
	if (body == NULL || json_object_set_new(body, "session", json_string(q->session)) != 0) {
		rc = oom();
		goto out;
	}
	TRY_OUT(rc, put_b64(body, "secret", q->secret->buffer, q->secret->size));
	/* tpm2_quote -m: the TPMS_ATTEST bytes without the TPM2B size. */
	TRY_OUT(rc, put_b64(body, "quote", q->attest->attestationData, q->attest->size));
	if (Tss2_MU_TPMT_SIGNATURE_Marshal(q->signature, sig, sizeof(sig), &sig_len) !=
	    TSS2_RC_SUCCESS) {
		rc = err_fail(ERR_INTERNAL, "signature: cannot be marshalled");
		goto out;
	}
	TRY_OUT(rc, put_b64(body, "signature", sig, sig_len));
	TRY_OUT(rc, evidence_pcrs(q->pcrs, &pcrs));
	if (json_object_set(body, "pcrs", pcrs) != 0) {
		rc = oom();
		goto out;
	}
	if (q->event_log != NULL)
		TRY_OUT(rc, put_b64(body, "event_log", q->event_log, q->event_log_len));
	*out = body;
	body = NULL;
out:
	json_decref(pcrs);
	json_decref(body);
	return rc;
}

/* ------------------------------------------------------------- answers */

static err_t get_string(const json_t *obj, const char *name, size_t max, const char **out)
{
	const json_t *v = json_object_get(obj, name);

	if (!json_is_string(v))
		return err_fail(ERR_BAD_REQUEST, "%s: missing or not a string", name);
	if (json_string_length(v) == 0 || json_string_length(v) > max)
		return err_fail(ERR_BAD_REQUEST, "%s: empty or longer than %zu bytes", name, max);
	*out = json_string_value(v);
	return ERR_OK;
}

/* A base64 field that must hold exactly one TPM structure: the fields below
 * are unmarshalled from buf[0..len) and checked here to have used it all. */
static err_t whole_structure(const char *name, TSS2_RC rc, size_t used, size_t len)
{
	if (rc != TSS2_RC_SUCCESS || used != len)
		return err_fail(ERR_BAD_REQUEST, "%s: not one complete TPM structure", name);
	return ERR_OK;
}

err_t evidence_parse_challenge(const uint8_t *body, size_t len, struct challenge *out)
{
	json_t *obj = NULL;
	const json_t *expires;
	const char *text = NULL;
	uint8_t *buf = NULL;
	size_t buf_len = 0, used = 0;
	TSS2_RC trc;
	err_t rc;

	memset(out, 0, sizeof(*out));
	TRY(json_parse_object(body, len, &obj));
	TRY_OUT(rc, json_get_b64(obj, "credential_blob", sizeof(TPM2B_ID_OBJECT), &buf, &buf_len));
	trc = Tss2_MU_TPM2B_ID_OBJECT_Unmarshal(buf, buf_len, &used, &out->credential_blob);
	TRY_OUT(rc, whole_structure("credential_blob", trc, used, buf_len));
	free(buf);
	buf = NULL;
	used = 0;
	TRY_OUT(rc, json_get_b64(obj, "encrypted_secret", sizeof(TPM2B_ENCRYPTED_SECRET), &buf,
				 &buf_len));
	trc = Tss2_MU_TPM2B_ENCRYPTED_SECRET_Unmarshal(buf, buf_len, &used, &out->encrypted_secret);
	TRY_OUT(rc, whole_structure("encrypted_secret", trc, used, buf_len));
	free(buf);
	buf = NULL;
	TRY_OUT(rc, json_get_b64(obj, "nonce", QUOTE_NONCE_SIZE, &buf, &buf_len));
	if (buf_len != QUOTE_NONCE_SIZE) {
		rc = err_fail(ERR_BAD_REQUEST, "nonce: %zu bytes, expected %d", buf_len,
			      QUOTE_NONCE_SIZE);
		goto out;
	}
	memcpy(out->nonce, buf, QUOTE_NONCE_SIZE);
	TRY_OUT(rc, get_string(obj, "pcr_selection", PCR_SELECTION_STR_MAX, &text));
	TRY_OUT(rc, err_context(pcr_selection_parse(text, &out->selection), "pcr_selection"));
	expires = json_object_get(obj, "expires_in");
	if (!json_is_integer(expires) || json_integer_value(expires) < 0) {
		rc = err_fail(ERR_BAD_REQUEST, "expires_in: missing or not a whole number of "
					       "seconds");
		goto out;
	}
	out->expires_in = json_integer_value(expires);
	TRY_OUT(rc, get_string(obj, "session", EVIDENCE_SESSION_MAX, &text));
	out->session = strdup(text);
	if (out->session == NULL)
		rc = oom();
out:
	free(buf);
	json_decref(obj);
	if (rc != ERR_OK)
		evidence_challenge_free(out);
	return rc;
}

void evidence_challenge_free(struct challenge *c)
{
	if (c == NULL)
		return;
	free(c->session);
	memset(c, 0, sizeof(*c));
}

static bool printable(const char *s)
{
	for (; *s != '\0'; s++) {
		if (*s < 0x20 || *s > 0x7e)
			return false;
	}
	return true;
}

/* Only what a compact JWS can hold: the token goes into a file that
 * scripts and HTTP headers use as it is. */
static bool token_shaped(const char *s)
{
	unsigned dots = 0;
	size_t part = 0;

	for (; *s != '\0'; s++) {
		if (*s == '.') {
			if (part == 0)
				return false;
			dots++;
			part = 0;
		} else if ((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') ||
			   (*s >= '0' && *s <= '9') || *s == '-' || *s == '_') {
			part++;
		} else {
			return false;
		}
	}
	return dots == 2 && part > 0;
}

static err_t copy_field(const json_t *obj, const char *name, char *dst, size_t cap)
{
	const char *text = NULL;

	TRY(get_string(obj, name, cap - 1, &text));
	if (!printable(text))
		return err_fail(ERR_BAD_REQUEST, "%s: not printable text", name);
	memcpy(dst, text, strlen(text) + 1);
	return ERR_OK;
}

err_t evidence_parse_admission(const uint8_t *body, size_t len, struct admission *out)
{
	json_t *obj = NULL;
	const json_t *id;
	err_t rc;

	memset(out, 0, sizeof(*out));
	TRY(json_parse_object(body, len, &obj));
	TRY_OUT(rc, copy_field(obj, "token", out->token, sizeof(out->token)));
	if (!token_shaped(out->token)) {
		rc = err_fail(ERR_BAD_REQUEST, "token: not a compact JWS");
		goto out;
	}
	TRY_OUT(rc, copy_field(obj, "expires_at", out->expires_at, sizeof(out->expires_at)));
	TRY_OUT(rc, copy_field(obj, "machine_id", out->machine_id, sizeof(out->machine_id)));
	id = json_object_get(obj, "attestation_id");
	if (json_is_integer(id))
		snprintf(out->attestation_id, sizeof(out->attestation_id), "%" JSON_INTEGER_FORMAT,
			 json_integer_value(id));
	else
		TRY_OUT(rc, copy_field(obj, "attestation_id", out->attestation_id,
				       sizeof(out->attestation_id)));
out:
	json_decref(obj);
	if (rc != ERR_OK)
		OPENSSL_cleanse(out->token, sizeof(out->token));
	return rc;
}

/* Copies a remote string for a terminal: printable ASCII only, cut to fit. */
static void copy_printable(char *dst, size_t cap, const char *src)
{
	size_t i = 0;

	for (; src != NULL && src[i] != '\0' && i + 1 < cap; i++)
		dst[i] = src[i] >= 0x20 && src[i] <= 0x7e ? src[i] : '?';
	dst[i] = '\0';
}

void evidence_parse_refusal(const uint8_t *body, size_t len, long status, struct refusal *out)
{
	json_t *obj = NULL;
	const json_t *code, *detail;

	memset(out, 0, sizeof(*out));
	snprintf(out->code, sizeof(out->code), "http_%ld", status);
	if (json_parse_object(body, len, &obj) != ERR_OK) {
		err_clear();
		return;
	}
	code = json_object_get(obj, "error");
	detail = json_object_get(obj, "detail");
	if (json_is_string(code) && json_string_length(code) > 0)
		copy_printable(out->code, sizeof(out->code), json_string_value(code));
	if (json_is_string(detail))
		copy_printable(out->detail, sizeof(out->detail), json_string_value(detail));
	json_decref(obj);
}
