/* EK certificates from NV or files. OpenSSL finds where each DER
 * certificate ends; the bytes sent are the TPM's (or the file's) own, never
 * re-encoded, so a verifier sees exactly what the manufacturer signed. */
#include "ek_certs.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "ekcert.h"
#include "fileio.h"
#include "log.h"
#include "templates.h"
#include "tpm_wire.h"

/* Every defined index of the EK certificate and chain ranges fits. */
#define NV_LIST_MAX (EK_CERTS_NV_CHAIN_LAST - EK_CERTS_NV_FIRST + 1)

/* swtpm and some TPMs certify a P-384 EK here; its high-range template is
 * not one the client derives, so only a clear message can come of it. */
#define NV_EK_CERT_P384 0x01c00016u

void ek_certs_init(struct ek_certs *c)
{
	memset(c, 0, sizeof(*c));
}

void ek_certs_free(struct ek_certs *c)
{
	if (c == NULL)
		return;
	free(c->leaf.der);
	for (size_t i = 0; i < c->chain_count; i++)
		free(c->chain[i].der);
	ek_certs_init(c);
}

static err_t leaf_key_alg(X509 *x, enum client_key_alg *alg)
{
	EVP_PKEY *key = X509_get0_pubkey(x);
	char group[32];
	size_t glen;

	if (key != NULL && EVP_PKEY_get_base_id(key) == EVP_PKEY_RSA &&
	    EVP_PKEY_get_bits(key) == 2048) {
		*alg = CLIENT_ALG_RSA;
		return ERR_OK;
	}
	if (key != NULL && EVP_PKEY_get_base_id(key) == EVP_PKEY_EC &&
	    EVP_PKEY_get_group_name(key, group, sizeof(group), &glen) == 1 &&
	    strcmp(group, "prime256v1") == 0) {
		*alg = CLIENT_ALG_ECC;
		return ERR_OK;
	}
	return err_fail(ERR_BAD_REQUEST, "the EK certificate's key is neither RSA-2048 nor NIST "
					 "P-256 (the TCG default EK templates the client uses)");
}

/* Stores a copy of one certificate's bytes as the leaf or in the chain. */
static err_t keep(struct ek_certs *c, const uint8_t *der, size_t len, X509 *x, bool as_leaf)
{
	struct ek_cert_der *slot;

	if (as_leaf) {
		if (c->leaf.der != NULL)
			return err_fail(ERR_BAD_REQUEST, "a second EK certificate");
		TRY(leaf_key_alg(x, &c->alg));
		slot = &c->leaf;
	} else {
		if (c->chain_count == EK_CERTS_CHAIN_MAX)
			return err_fail(ERR_BAD_REQUEST, "more than %d chain certificates",
					EK_CERTS_CHAIN_MAX);
		slot = &c->chain[c->chain_count];
	}
	slot->der = malloc(len);
	if (slot->der == NULL)
		return err_fail(ERR_INTERNAL, "out of memory");
	memcpy(slot->der, der, len);
	slot->len = len;
	if (!as_leaf)
		c->chain_count++;
	return ERR_OK;
}

static bool only_padding(const uint8_t *p, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		if (p[i] != 0xff)
			return false;
	}
	return true;
}

err_t ek_certs_add_der(struct ek_certs *c, const uint8_t *p, size_t len, bool as_leaf)
{
	size_t off = 0;

	if (len > EKCERT_MAX_INPUT)
		return err_fail(ERR_BAD_REQUEST, "certificate data larger than %d bytes",
				EKCERT_MAX_INPUT);
	/* A DER certificate starts with a SEQUENCE tag; 0xFF cannot start one,
	 * so padding is told from a next certificate by its first byte. */
	while (off < len && !only_padding(p + off, len - off)) {
		const unsigned char *q = p + off;
		X509 *x = d2i_X509(NULL, &q, (long)(len - off));
		size_t used;
		err_t rc;

		if (x == NULL) {
			ERR_clear_error();
			return err_fail(ERR_BAD_REQUEST, "not a DER X.509 certificate at byte %zu",
					off);
		}
		used = (size_t)(q - (p + off));
		rc = keep(c, p + off, used, x, as_leaf);
		X509_free(x);
		TRY(rc);
		as_leaf = false;
		off += used;
	}
	if (off == 0)
		return err_fail(ERR_BAD_REQUEST, "no certificate");
	return ERR_OK;
}

static err_t add_pem(struct ek_certs *c, const uint8_t *p, size_t len, bool as_leaf)
{
	BIO *bio = BIO_new_mem_buf(p, (int)len);
	size_t blocks = 0;
	err_t rc = ERR_OK;

	if (bio == NULL)
		return err_fail(ERR_INTERNAL, "out of memory");
	for (;;) {
		char *name = NULL, *header = NULL;
		unsigned char *data = NULL;
		long dlen = 0;

		if (PEM_read_bio(bio, &name, &header, &data, &dlen) != 1) {
			ERR_clear_error(); /* the end of the text, or junk after it */
			break;
		}
		if (strcmp(name, "CERTIFICATE") != 0)
			rc = err_fail(ERR_BAD_REQUEST,
				      "a PEM block of type %s, expected "
				      "CERTIFICATE",
				      name);
		else
			rc = ek_certs_add_der(c, data, (size_t)dlen, as_leaf && blocks == 0);
		OPENSSL_free(name);
		OPENSSL_free(header);
		OPENSSL_free(data);
		if (rc != ERR_OK)
			break;
		blocks++;
	}
	BIO_free(bio);
	if (rc == ERR_OK && blocks == 0)
		rc = err_fail(ERR_BAD_REQUEST, "no PEM CERTIFICATE block");
	return rc;
}

err_t ek_certs_add_file(struct ek_certs *c, const char *path, bool as_leaf)
{
	uint8_t *buf = NULL;
	size_t len = 0;
	err_t rc;

	TRY(fileio_read(path, EKCERT_MAX_INPUT, &buf, &len));
	/* A DER certificate starts with a SEQUENCE tag; PEM text never does.
	 * (Searching for "-----BEGIN " would misread a DER certificate whose
	 * subject happens to contain it.) */
	if (len > 0 && buf[0] == 0x30)
		rc = ek_certs_add_der(c, buf, len, as_leaf);
	else
		rc = add_pem(c, buf, len, as_leaf);
	free(buf);
	return err_context(rc, path);
}

static bool listed(const uint32_t *idx, size_t n, uint32_t want)
{
	for (size_t i = 0; i < n; i++) {
		if (idx[i] == want)
			return true;
	}
	return false;
}

/* CLIENT_ALG_AUTO's choice: ECC first (an ECC primary takes milliseconds
 * where RSA can take seconds on a hardware TPM), and before that any
 * certified algorithm whose EK is already persistent. */
static err_t choose_alg(struct tpmdev *t, const uint32_t *idx, size_t n, enum client_key_alg *alg)
{
	static const enum client_key_alg order[] = {CLIENT_ALG_ECC, CLIENT_ALG_RSA};
	bool found = false;

	for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
		bool persisted = false;

		if (!listed(idx, n, template_ek_cert_index(order[i])))
			continue;
		TRY(tpmdev_persistent_exists(t, template_ek_persistent_handle(order[i]),
					     &persisted));
		if (persisted || !found)
			*alg = order[i];
		found = true;
		if (persisted)
			break;
	}
	if (found)
		return ERR_OK;
	return err_fail(ERR_NOT_FOUND,
			"no EK certificate in NV at 0x%08x (ECC P-256) or 0x%08x "
			"(RSA-2048)%s; for certificates served online give "
			"--ek-cert FILE",
			template_ek_cert_index(CLIENT_ALG_ECC),
			template_ek_cert_index(CLIENT_ALG_RSA),
			listed(idx, n, NV_EK_CERT_P384) ? " (a P-384 EK is not supported)" : "");
}

static err_t read_index(struct tpmdev *t, uint32_t index, struct ek_certs *c, bool as_leaf)
{
	uint8_t *buf = NULL;
	size_t len = 0;
	char where[32];
	err_t rc;

	TRY(tpmdev_nv_read(t, index, EKCERT_MAX_INPUT, &buf, &len));
	rc = ek_certs_add_der(c, buf, len, as_leaf);
	free(buf);
	snprintf(where, sizeof(where), "NV 0x%08x", index);
	return err_context(rc, where);
}

err_t ek_certs_read_nv(struct tpmdev *t, enum client_key_alg alg, struct ek_certs *c)
{
	uint32_t idx[NV_LIST_MAX];
	size_t n = 0;

	TRY(tpmdev_nv_list(t, EK_CERTS_NV_FIRST, EK_CERTS_NV_CHAIN_LAST, idx, NV_LIST_MAX, &n));
	if (alg == CLIENT_ALG_AUTO)
		TRY(choose_alg(t, idx, n, &alg));
	else if (!listed(idx, n, template_ek_cert_index(alg)))
		return err_fail(ERR_NOT_FOUND, "no %s EK certificate in NV at 0x%08x",
				client_key_alg_name(alg), template_ek_cert_index(alg));
	TRY(read_index(t, template_ek_cert_index(alg), c, true));
	if (c->alg != alg)
		return err_fail(ERR_BAD_REQUEST,
				"NV 0x%08x holds a certificate for another "
				"key type",
				template_ek_cert_index(alg));
	/* Intermediates help the verifier build the chain but are not needed
	 * when it has them already: one that cannot be read is skipped. */
	for (size_t i = 0; i < n; i++) {
		if (idx[i] < EK_CERTS_NV_CHAIN_FIRST)
			continue;
		if (read_index(t, idx[i], c, false) != ERR_OK)
			log_warn("skipping EK chain certificate: %s", err_detail());
	}
	return ERR_OK;
}

bool ek_certs_certify(const struct ek_certs *c, const TPM2B_PUBLIC *pub)
{
	const unsigned char *q = c->leaf.der;
	X509 *x = c->leaf.der ? d2i_X509(NULL, &q, (long)c->leaf.len) : NULL;
	EVP_PKEY *key = NULL;
	bool same;

	same = x != NULL && tpm_public_key(&pub->publicArea, &key) &&
	       ekcert_key_equal(X509_get0_pubkey(x), key) == ERR_OK;
	EVP_PKEY_free(key);
	X509_free(x);
	ERR_clear_error();
	return same;
}
