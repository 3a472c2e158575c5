/* The EK checks of a challenge and their verdict cache; the order and the
 * reasons are in ek_check.h. */
#include "ek_check.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>

#include "ek_cache.h"
#include "policy.h"
#include "vtpm.h"

const struct ek_verdict *ek_verdict_ref(const struct ek_verdict *v)
{
	if (v != NULL)
		atomic_fetch_add(&((struct ek_verdict *)v)->refs, 1);
	return v;
}

void ek_verdict_release(const struct ek_verdict *v)
{
	struct ek_verdict *w = (struct ek_verdict *)v;

	if (w == NULL || atomic_fetch_sub(&w->refs, 1) != 1)
		return;
	EVP_PKEY_free(w->key);
	free(w);
}

/* SHA-256 over everything the verdict depends on besides the policy: the
 * certificate bytes and the bytes of each certificate sent with it, each
 * length-prefixed so no two inputs give the same stream. */
static err_t cache_key(const uint8_t *cert, size_t len, const struct ek_sent_chain *sent,
		       uint8_t key[static EK_CACHE_KEY_SIZE])
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	bool ok = md != NULL && EVP_DigestInit_ex(md, EVP_sha256(), NULL) == 1;
	size_t count = sent != NULL ? sent->count : 0;
	unsigned int klen = 0;

	for (size_t i = 0; ok && i <= count; i++) {
		const uint8_t *p = i == 0 ? cert : sent->der[i - 1];
		size_t plen = i == 0 ? len : sent->len[i - 1];
		uint8_t n[8];

		for (int b = 0; b < 8; b++)
			n[b] = (uint8_t)((uint64_t)plen >> (8 * (7 - b)));
		ok = EVP_DigestUpdate(md, n, sizeof(n)) == 1 && EVP_DigestUpdate(md, p, plen) == 1;
	}
	ok = ok && EVP_DigestFinal_ex(md, key, &klen) == 1 && klen == EK_CACHE_KEY_SIZE;
	EVP_MD_CTX_free(md);
	if (!ok) {
		ERR_clear_error();
		return err_fail(ERR_INTERNAL, "SHA-256 failed");
	}
	return ERR_OK;
}

err_t ek_sent_chain_from_stack(STACK_OF(X509) * certs, struct ek_sent_chain *out)
{
	memset(out, 0, sizeof(*out));
	for (int i = 0; certs != NULL && i < sk_X509_num(certs); i++) {
		unsigned char *der = NULL;
		int n;

		if (out->count == EKCERT_MAX_SENT_CHAIN) {
			ek_sent_chain_clear(out);
			return err_fail(ERR_BAD_REQUEST, "more than %d intermediates",
					EKCERT_MAX_SENT_CHAIN);
		}
		n = i2d_X509(sk_X509_value(certs, i), &der);
		if (n <= 0) {
			ek_sent_chain_clear(out);
			return err_fail(ERR_INTERNAL, "cannot encode a certificate");
		}
		out->der[out->count] = der;
		out->len[out->count++] = (size_t)n;
	}
	return ERR_OK;
}

void ek_sent_chain_clear(struct ek_sent_chain *c)
{
	for (size_t i = 0; i < c->count; i++)
		OPENSSL_free((void *)c->der[i]);
	c->count = 0;
}

/* The sent certificates as OpenSSL objects, for a verdict not cached. */
static err_t parse_sent(const struct ek_sent_chain *sent, STACK_OF(X509) * *out)
{
	*out = NULL;
	if (sent == NULL || sent->count == 0)
		return ERR_OK;
	if (sent->count > EKCERT_MAX_SENT_CHAIN)
		return err_fail(ERR_BAD_REQUEST, "ek_chain: more than %d certificates",
				EKCERT_MAX_SENT_CHAIN);
	*out = sk_X509_new_null();
	if (*out == NULL)
		return err_fail(ERR_INTERNAL, "out of memory");
	for (size_t i = 0; i < sent->count; i++) {
		X509 *x = NULL;

		if (ekcert_x509_from_der(sent->der[i], sent->len[i], &x) != ERR_OK)
			return err_fail(ERR_BAD_REQUEST, "ek_chain[%zu]: not an X.509 certificate",
					i);
		if (!sk_X509_push(*out, x)) {
			X509_free(x);
			return err_fail(ERR_INTERNAL, "out of memory");
		}
	}
	return ERR_OK;
}

static time_t asn1_time(const ASN1_TIME *t)
{
	struct tm tm;

	if (ASN1_TIME_to_tm(t, &tm) != 1) {
		ERR_clear_error();
		return 0;
	}
	return timegm(&tm);
}

/* A verdict holds while the clock cannot change it: at most
 * EK_CACHE_MAX_AGE, and with expiry checks on, not past the first notAfter
 * of the chain. */
static time_t valid_until(const struct policy *p, STACK_OF(X509) * chain, time_t now)
{
	time_t until = now + EK_CACHE_MAX_AGE;

	for (int i = 0; !p->allow_expired && chain != NULL && i < sk_X509_num(chain); i++) {
		time_t end = asn1_time(X509_get0_notAfter(sk_X509_value(chain, i)));
		if (end < until)
			until = end;
	}
	return until;
}

static err_t new_verdict(const struct ekcert *c, struct ek_verdict **out)
{
	struct ek_verdict *v = calloc(1, sizeof(*v));
	err_t rc;

	*out = NULL;
	if (v == NULL)
		return err_fail(ERR_INTERNAL, "out of memory");
	atomic_init(&v->refs, 1);
	v->tpm = *ekcert_tpm_info(c);
	ekcert_name_line(X509_get_issuer_name(ekcert_x509(c)), v->issuer, sizeof(v->issuer));
	rc = ekcert_machine_id(c, v->machine_id);
	v->key = ekcert_key(c);
	if (rc != ERR_OK || EVP_PKEY_up_ref(v->key) != 1) {
		v->key = NULL;
		ek_verdict_release(v);
		return rc != ERR_OK ? rc : err_fail(ERR_INTERNAL, "cannot reference the EK key");
	}
	*out = v;
	return ERR_OK;
}

/* Virtual-TPM rules on every certificate the client sent, subject and
 * issuer: they run before the chain, like the leaf's. */
static err_t check_sent(const struct policy *p, STACK_OF(X509) * chain)
{
	char where[32];

	for (int i = 0; chain != NULL && i < sk_X509_num(chain); i++) {
		snprintf(where, sizeof(where), "ek_chain[%d]", i);
		TRY(vtpm_check_ca(p->vtpm, sk_X509_value(chain, i), where));
	}
	return ERR_OK;
}

/* The chain, then the rules on every CA in it (the EK certificate, index
 * 0, had its own). On success the subjects go into the verdict. */
static err_t check_chain(const struct policy *p, const struct ekcert *c, STACK_OF(X509) * sent,
			 struct ek_verdict *v, time_t now)
{
	STACK_OF(X509) *chain = NULL;
	char where[32];
	err_t rc;

	rc = ekcert_verify_chain(p->ek_trust, ekcert_x509(c), sent, &chain);
	v->valid_until = valid_until(p, chain, now);
	for (int i = 1; rc == ERR_OK && i < sk_X509_num(chain); i++) {
		snprintf(where, sizeof(where), "chain[%d]", i);
		rc = vtpm_check_ca(p->vtpm, sk_X509_value(chain, i), where);
	}
	for (int i = 0; rc == ERR_OK && i < sk_X509_num(chain) && i < EKCERT_MAX_CHAIN_DEPTH; i++) {
		ekcert_name_line(X509_get_subject_name(sk_X509_value(chain, i)), v->chain[i],
				 EK_NAME_MAX);
		v->chain_len = (size_t)i + 1;
	}
	sk_X509_pop_free(chain, X509_free);
	return rc;
}

static err_t judge(const struct policy *p, const struct ekcert *c, STACK_OF(X509) * sent,
		   struct ek_verdict *v, time_t now)
{
	v->valid_until = now + EK_CACHE_MAX_AGE;
	TRY(vtpm_check_leaf(p->vtpm, c));
	TRY(check_sent(p, sent));
	return check_chain(p, c, sent, v, now);
}

/* A cached verdict answers like a fresh one, detail included. */
static err_t replay(const struct ek_verdict *v)
{
	if (v->code == ERR_OK) {
		err_clear();
		return ERR_OK;
	}
	return err_fail(v->code, "%s", v->detail);
}

err_t ek_check(const struct policy *p, const uint8_t *ek_cert, size_t len,
	       const struct ek_sent_chain *sent, const struct ek_verdict **out)
{
	uint8_t key[EK_CACHE_KEY_SIZE];
	struct ekcert *c = NULL;
	struct ek_verdict *v = NULL;
	STACK_OF(X509) *chain = NULL;
	time_t now = time(NULL);
	const struct ek_verdict *hit;
	err_t rc;

	*out = NULL;
	TRY(cache_key(ek_cert, len, sent, key));
	hit = ek_cache_get(p->ek_cache, key, now);
	if (hit != NULL) {
		*out = hit;
		return replay(hit);
	}
	/* DESIGN.md's order: a malformed ek_chain entry (400) before the EK
	 * certificate itself. */
	TRY_OUT(rc, parse_sent(sent, &chain));
	TRY_OUT(rc, ekcert_parse_der(ek_cert, len, &c));
	if (new_verdict(c, &v) != ERR_OK) {
		rc = ERR_INTERNAL;
		goto out;
	}
	err_clear();
	v->code = judge(p, c, chain, v, now);
	if (v->code == ERR_INTERNAL) {
		ek_verdict_release(v); /* not a verdict: never cached */
		rc = ERR_INTERNAL;
		goto out;
	}
	snprintf(v->detail, sizeof(v->detail), "%s", err_detail());
	ek_cache_put(p->ek_cache, key, v);
	*out = v;
	rc = v->code;
out:
	ekcert_free(c);
	sk_X509_pop_free(chain, X509_free);
	return rc;
}
