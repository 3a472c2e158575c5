/* EK trust store and chain verification; the trust model is explained in
 * ekcert_chain.h. */
#include "ekcert_chain.h"

#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "fileio.h"

struct ekcert_trust {
	X509_STORE *anchors; /* anchors and CRLs only: see PARTIAL_CHAIN */
	STACK_OF(X509) * intermediates;
	size_t total_certs;
	bool has_crls;
	enum ekcert_expired expired;
};

/* A path longer than this in a policy is a mistake, not a file. */
#define TRUST_MAX_PATH 4096

err_t ekcert_trust_new(enum ekcert_expired expired, struct ekcert_trust **out)
{
	struct ekcert_trust *t = calloc(1, sizeof(*t));

	*out = NULL;
	if (t == NULL)
		return err_fail(ERR_INTERNAL, "out of memory");
	t->anchors = X509_STORE_new();
	t->intermediates = sk_X509_new_null();
	t->expired = expired;
	if (t->anchors == NULL || t->intermediates == NULL) {
		ekcert_trust_free(t);
		return err_fail(ERR_INTERNAL, "out of memory");
	}
	*out = t;
	return ERR_OK;
}

void ekcert_trust_free(struct ekcert_trust *t)
{
	if (t == NULL)
		return;
	X509_STORE_free(t->anchors);
	sk_X509_pop_free(t->intermediates, X509_free);
	free(t);
}

/* ---- reading certificate and CRL files ---- */

struct loaded {
	STACK_OF(X509) * certs;
	STACK_OF(X509_CRL) * crls;
};

static void loaded_free(struct loaded *l)
{
	sk_X509_pop_free(l->certs, X509_free);
	sk_X509_CRL_pop_free(l->crls, X509_CRL_free);
}

static err_t load_pem(const char *path, const uint8_t *buf, size_t len, struct loaded *l)
{
	BIO *bio = BIO_new_mem_buf(buf, (int)len);
	STACK_OF(X509_INFO) *infos = NULL;
	err_t rc = ERR_OK;

	if (bio == NULL)
		return err_fail(ERR_INTERNAL, "out of memory");
	infos = PEM_X509_INFO_read_bio(bio, NULL, NULL, NULL);
	if (infos == NULL) {
		rc = err_fail(ERR_BAD_REQUEST, "%s: malformed PEM", path);
		goto out;
	}
	for (int i = 0; i < sk_X509_INFO_num(infos); i++) {
		X509_INFO *info = sk_X509_INFO_value(infos, i);
		if (info->x509 != NULL) {
			if (!sk_X509_push(l->certs, info->x509))
				goto oom;
			info->x509 = NULL;
		}
		if (info->crl != NULL) {
			if (!sk_X509_CRL_push(l->crls, info->crl))
				goto oom;
			info->crl = NULL;
		}
	}
	goto out;
oom:
	rc = err_fail(ERR_INTERNAL, "out of memory");
out:
	sk_X509_INFO_pop_free(infos, X509_INFO_free);
	BIO_free(bio);
	return rc;
}

/* One DER certificate or CRL filling the whole file. */
static err_t load_der(const char *path, const uint8_t *buf, size_t len, struct loaded *l)
{
	const unsigned char *p = buf;
	X509 *x = d2i_X509(NULL, &p, (long)len);
	X509_CRL *crl;

	if (x != NULL && p == buf + len) {
		if (sk_X509_push(l->certs, x))
			return ERR_OK;
		X509_free(x);
		return err_fail(ERR_INTERNAL, "out of memory");
	}
	X509_free(x);
	p = buf;
	crl = d2i_X509_CRL(NULL, &p, (long)len);
	if (crl != NULL && p == buf + len) {
		if (sk_X509_CRL_push(l->crls, crl))
			return ERR_OK;
		X509_CRL_free(crl);
		return err_fail(ERR_INTERNAL, "out of memory");
	}
	X509_CRL_free(crl);
	return err_fail(ERR_BAD_REQUEST, "%s: neither PEM nor one DER certificate or CRL", path);
}

static err_t load_file(const char *path, struct loaded *l)
{
	uint8_t *buf = NULL;
	size_t len = 0;
	int before = sk_X509_num(l->certs) + sk_X509_CRL_num(l->crls);
	err_t rc;

	TRY(fileio_read(path, EKCERT_TRUST_MAX_FILE, &buf, &len));
	if (len > 0 && memmem(buf, len, "-----BEGIN ", 11) != NULL)
		rc = load_pem(path, buf, len, l);
	else
		rc = load_der(path, buf, len, l);
	free(buf);
	ERR_clear_error();
	if (rc == ERR_OK && sk_X509_num(l->certs) + sk_X509_CRL_num(l->crls) == before)
		rc = err_fail(ERR_BAD_REQUEST, "%s: no certificate or CRL in it", path);
	return rc;
}

static int trust_file_filter(const struct dirent *d)
{
	static const char *const suffixes[] = {".pem", ".crt", ".cer", ".der", ".crl"};
	size_t n = strlen(d->d_name);

	if (d->d_name[0] == '.')
		return 0;
	for (size_t i = 0; i < sizeof(suffixes) / sizeof(suffixes[0]); i++) {
		if (n > 4 && strcmp(d->d_name + n - 4, suffixes[i]) == 0)
			return 1;
	}
	return 0;
}

/* A directory's trust files in name order, so errors and counts are the
 * same on every machine. */
static err_t load_dir(const char *path, struct loaded *l)
{
	struct dirent **names = NULL;
	int n = scandir(path, &names, trust_file_filter, alphasort);
	err_t rc = ERR_OK;

	if (n < 0)
		return err_fail(ERR_BAD_REQUEST, "%s: cannot read the directory", path);
	for (int i = 0; i < n; i++) {
		char file[TRUST_MAX_PATH];
		int w = snprintf(file, sizeof(file), "%s/%s", path, names[i]->d_name);
		if (rc == ERR_OK && (w < 0 || (size_t)w >= sizeof(file)))
			rc = err_fail(ERR_BAD_REQUEST, "%s: path too long", path);
		if (rc == ERR_OK)
			rc = load_file(file, l);
		free(names[i]);
	}
	free(names);
	if (rc == ERR_OK && n == 0)
		rc = err_fail(ERR_BAD_REQUEST, "%s: no certificate files in it", path);
	return rc;
}

static err_t load_path(const char *path, struct loaded *l)
{
	struct stat st;

	l->certs = sk_X509_new_null();
	l->crls = sk_X509_CRL_new_null();
	if (l->certs == NULL || l->crls == NULL)
		return err_fail(ERR_INTERNAL, "out of memory");
	if (strlen(path) >= TRUST_MAX_PATH)
		return err_fail(ERR_BAD_REQUEST, "path too long");
	if (stat(path, &st) != 0)
		return err_fail(ERR_BAD_REQUEST, "%s: does not exist", path);
	return S_ISDIR(st.st_mode) ? load_dir(path, l) : load_file(path, l);
}

err_t ekcert_load_certs(const char *path, STACK_OF(X509) * *out)
{
	struct loaded l = {0};
	err_t rc = load_path(path, &l);

	*out = NULL;
	if (rc == ERR_OK && sk_X509_num(l.certs) == 0)
		rc = err_fail(ERR_BAD_REQUEST, "%s: no certificate in it", path);
	if (rc == ERR_OK) {
		*out = l.certs;
		l.certs = NULL;
	}
	loaded_free(&l);
	return rc;
}

/* ---- building the store ---- */

static err_t count_cert(struct ekcert_trust *t, const char *path)
{
	if (t->total_certs >= EKCERT_TRUST_MAX_CERTS)
		return err_fail(ERR_BAD_REQUEST, "%s: more than %d certificates in the trust store",
				path, EKCERT_TRUST_MAX_CERTS);
	t->total_certs++;
	return ERR_OK;
}

err_t ekcert_trust_add_anchors(struct ekcert_trust *t, const char *path)
{
	struct loaded l = {0};
	err_t rc = load_path(path, &l);

	for (int i = 0; rc == ERR_OK && i < sk_X509_num(l.certs); i++) {
		X509 *x = sk_X509_value(l.certs, i);
		char name[160];
		if (X509_check_ca(x) == 0) {
			ekcert_name_line(X509_get_subject_name(x), name, sizeof(name));
			rc = err_fail(ERR_BAD_REQUEST, "%s: anchor %s is not a CA certificate",
				      path, name);
			break;
		}
		(void)X509_check_purpose(x, -1, 0); /* as for intermediates, below */
		rc = count_cert(t, path);
		if (rc == ERR_OK && X509_STORE_add_cert(t->anchors, x) != 1)
			rc = err_fail(ERR_INTERNAL, "%s: cannot add an anchor", path);
	}
	if (rc == ERR_OK && sk_X509_CRL_num(l.crls) > 0)
		rc = err_fail(ERR_BAD_REQUEST, "%s: CRLs belong in \"crls\"", path);
	loaded_free(&l);
	ERR_clear_error();
	return rc;
}

static bool have_intermediate(const struct ekcert_trust *t, X509 *x)
{
	for (int i = 0; i < sk_X509_num(t->intermediates); i++) {
		if (X509_cmp(sk_X509_value(t->intermediates, i), x) == 0)
			return true;
	}
	return false;
}

err_t ekcert_trust_add_intermediates(struct ekcert_trust *t, const char *path)
{
	struct loaded l = {0};
	err_t rc = load_path(path, &l);

	while (rc == ERR_OK && sk_X509_num(l.certs) > 0) {
		X509 *x = sk_X509_shift(l.certs);
		/* Fill OpenSSL's lazy extension cache now, while one thread
		 * owns the certificate. */
		(void)X509_check_purpose(x, -1, 0);
		if (have_intermediate(t, x)) {
			X509_free(x);
			continue;
		}
		rc = count_cert(t, path);
		if (rc == ERR_OK && !sk_X509_push(t->intermediates, x))
			rc = err_fail(ERR_INTERNAL, "out of memory");
		if (rc != ERR_OK)
			X509_free(x);
	}
	if (rc == ERR_OK && sk_X509_CRL_num(l.crls) > 0)
		rc = err_fail(ERR_BAD_REQUEST, "%s: CRLs belong in \"crls\"", path);
	loaded_free(&l);
	ERR_clear_error();
	return rc;
}

err_t ekcert_trust_add_crls(struct ekcert_trust *t, const char *path)
{
	struct loaded l = {0};
	err_t rc = load_path(path, &l);

	if (rc == ERR_OK && sk_X509_num(l.certs) > 0)
		rc = err_fail(ERR_BAD_REQUEST, "%s: certificates in a CRL file", path);
	for (int i = 0; rc == ERR_OK && i < sk_X509_CRL_num(l.crls); i++) {
		if (X509_STORE_add_crl(t->anchors, sk_X509_CRL_value(l.crls, i)) != 1)
			rc = err_fail(ERR_INTERNAL, "%s: cannot add a CRL", path);
	}
	if (rc == ERR_OK)
		t->has_crls = true;
	loaded_free(&l);
	ERR_clear_error();
	return rc;
}

size_t ekcert_trust_anchor_count(const struct ekcert_trust *t)
{
	STACK_OF(X509_OBJECT) *objs = X509_STORE_get0_objects(t->anchors);
	size_t n = 0;

	for (int i = 0; i < sk_X509_OBJECT_num(objs); i++) {
		if (X509_OBJECT_get_type(sk_X509_OBJECT_value(objs, i)) == X509_LU_X509)
			n++;
	}
	return n;
}

size_t ekcert_trust_intermediate_count(const struct ekcert_trust *t)
{
	return (size_t)sk_X509_num(t->intermediates);
}

/* ---- verification ---- */

/* Relaxes exactly the checks the trust model says are not failures. */
static int verify_cb(int ok, X509_STORE_CTX *ctx)
{
	const struct ekcert_trust *t = X509_STORE_CTX_get_app_data(ctx);

	if (ok)
		return 1;
	switch (X509_STORE_CTX_get_error(ctx)) {
	case X509_V_ERR_CERT_HAS_EXPIRED:
		return t->expired == EKCERT_EXPIRED_ALLOW;
	case X509_V_ERR_UNABLE_TO_GET_CRL: /* this issuer has no configured CRL */
	case X509_V_ERR_CRL_HAS_EXPIRED:   /* a stale CRL still lists what it lists */
		return 1;
	default:
		return 0;
	}
}

static err_t chain_failure(X509_STORE_CTX *ctx)
{
	int e = X509_STORE_CTX_get_error(ctx);
	int depth = X509_STORE_CTX_get_error_depth(ctx);
	X509 *cur = X509_STORE_CTX_get_current_cert(ctx);
	char name[160] = "?";
	bool missing_issuer = e == X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY ||
			      e == X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT;

	if (cur != NULL)
		ekcert_name_line(missing_issuer ? X509_get_issuer_name(cur)
						: X509_get_subject_name(cur),
				 name, sizeof(name));
	ERR_clear_error();
	if (e == X509_V_ERR_CERT_REVOKED)
		return err_fail(ERR_EK_REVOKED, "certificate at depth %d (%s) is revoked", depth,
				name);
	return err_fail(ERR_EK_CHAIN_UNTRUSTED, "%s at depth %d (%s %s)",
			X509_verify_cert_error_string(e), depth,
			missing_issuer ? "issuer" : "subject", name);
}

/* The store's intermediates plus what the client sent, minus self-signed
 * certificates (a root from the client is never an anchor). Shallow: the
 * certificates stay owned by the store and the caller. */
static err_t candidates(const struct ekcert_trust *t, STACK_OF(X509) * sent, STACK_OF(X509) * *out)
{
	STACK_OF(X509) *all = sk_X509_dup(t->intermediates);
	int n = sent != NULL ? sk_X509_num(sent) : 0;

	*out = NULL;
	if (all == NULL)
		return err_fail(ERR_INTERNAL, "out of memory");
	if (n > EKCERT_MAX_SENT_CHAIN) {
		sk_X509_free(all);
		return err_fail(ERR_EK_CHAIN_UNTRUSTED, "more than %d intermediates sent",
				EKCERT_MAX_SENT_CHAIN);
	}
	for (int i = 0; i < n; i++) {
		X509 *x = sk_X509_value(sent, i);
		if (X509_self_signed(x, 0) == 1)
			continue;
		if (!sk_X509_push(all, x)) {
			sk_X509_free(all);
			return err_fail(ERR_INTERNAL, "out of memory");
		}
	}
	ERR_clear_error();
	*out = all;
	return ERR_OK;
}

err_t ekcert_verify_chain(const struct ekcert_trust *t, X509 *leaf, STACK_OF(X509) * sent,
			  STACK_OF(X509) * *chain)
{
	STACK_OF(X509) *untrusted = NULL;
	X509_STORE_CTX *ctx = NULL;
	unsigned long flags = X509_V_FLAG_PARTIAL_CHAIN;
	err_t rc = ERR_OK;

	if (chain != NULL)
		*chain = NULL;
	/* An EK certificate is an end entity; one that claims to be a CA could
	 * otherwise end its own chain if an operator made it an anchor. */
	if (X509_check_ca(leaf) != 0)
		return err_fail(ERR_EK_CHAIN_UNTRUSTED, "the EK certificate is a CA certificate");
	TRY(candidates(t, sent, &untrusted));
	ctx = X509_STORE_CTX_new();
	if (ctx == NULL ||
	    X509_STORE_CTX_init(ctx, (X509_STORE *)t->anchors, leaf, untrusted) != 1) {
		rc = err_fail(ERR_INTERNAL, "cannot set up chain verification");
		goto out;
	}
	if (t->has_crls)
		flags |= X509_V_FLAG_CRL_CHECK | X509_V_FLAG_CRL_CHECK_ALL;
	X509_STORE_CTX_set_flags(ctx, flags);
	/* OpenSSL's depth counts the intermediates only. */
	X509_STORE_CTX_set_depth(ctx, EKCERT_MAX_CHAIN_DEPTH - 2);
	X509_STORE_CTX_set_app_data(ctx, (void *)t);
	X509_STORE_CTX_set_verify_cb(ctx, verify_cb);
	if (X509_verify_cert(ctx) != 1) {
		rc = chain_failure(ctx);
		goto out;
	}
	if (chain != NULL) {
		*chain = X509_STORE_CTX_get1_chain(ctx);
		if (*chain == NULL)
			rc = err_fail(ERR_INTERNAL, "out of memory");
	}
out:
	X509_STORE_CTX_free(ctx);
	sk_X509_free(untrusted);
	ERR_clear_error();
	return rc;
}
