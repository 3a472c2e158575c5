/* EK certificate parsing (wire DER with NV padding, PEM files), names,
 * the machine id and the key comparison; the TCG fields are ekcert_tcg.c's. */
#include "ekcert.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>

#include "b64.h"
#include "ekcert_tcg.h"

struct ekcert {
	X509 *x509;
	struct ekcert_tpm_info tpm;
};

void ekcert_name_line(const X509_NAME *name, char *out, size_t cap)
{
	const unsigned long flags = XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB;
	BIO *bio;
	int n;

	if (cap == 0)
		return;
	out[0] = '\0';
	if (name == NULL || X509_NAME_entry_count(name) == 0) {
		snprintf(out, cap, "(empty)");
		return;
	}
	bio = BIO_new(BIO_s_mem());
	if (bio == NULL || X509_NAME_print_ex(bio, name, 0, flags) < 0) {
		snprintf(out, cap, "(unprintable)");
		BIO_free(bio);
		ERR_clear_error();
		return;
	}
	n = BIO_read(bio, out, cap - 1 > INT_MAX ? INT_MAX : (int)(cap - 1));
	out[n > 0 ? n : 0] = '\0';
	BIO_free(bio);
}

/* ---- parsing ---- */

static err_t invalid(const char *what)
{
	ERR_clear_error();
	return err_fail(ERR_EK_CERT_INVALID, "%s", what);
}

err_t ekcert_x509_from_der(const uint8_t *buf, size_t len, X509 **out)
{
	const unsigned char *p = buf;
	X509 *x;

	*out = NULL;
	if (len == 0 || len > EKCERT_MAX_INPUT)
		return invalid(len == 0 ? "empty certificate" : "certificate too large");
	x = d2i_X509(NULL, &p, (long)len);
	if (x == NULL)
		return invalid("not a DER X.509 certificate");
	/* NV indices are read whole, so a certificate shorter than its index is
	 * followed by the erased-flash value 0xFF. Only that may follow. */
	for (size_t i = (size_t)(p - buf); i < len; i++) {
		if (buf[i] != 0xFF) {
			X509_free(x);
			return invalid("data other than 0xFF padding after the certificate");
		}
	}
	*out = x;
	return ERR_OK;
}

static err_t ekcert_from_x509(X509 *x, struct ekcert **out)
{
	struct ekcert *c;
	err_t rc;

	if (X509_get0_pubkey(x) == NULL)
		return invalid("certificate key cannot be decoded");
	c = calloc(1, sizeof(*c));
	if (c == NULL)
		return err_fail(ERR_INTERNAL, "out of memory");
	rc = ekcert_tcg_read(x, &c->tpm);
	if (rc != ERR_OK) {
		free(c);
		return rc;
	}
	c->x509 = x;
	*out = c;
	return ERR_OK;
}

err_t ekcert_parse_der(const uint8_t *buf, size_t len, struct ekcert **out)
{
	X509 *x;
	err_t rc;

	*out = NULL;
	TRY(ekcert_x509_from_der(buf, len, &x));
	rc = ekcert_from_x509(x, out);
	if (rc != ERR_OK)
		X509_free(x);
	return rc;
}

static err_t x509_from_pem(const uint8_t *buf, size_t len, X509 **out)
{
	BIO *bio = BIO_new_mem_buf(buf, (int)len);
	X509 *x = NULL, *second = NULL;
	err_t rc = ERR_OK;

	if (bio == NULL)
		return err_fail(ERR_INTERNAL, "out of memory");
	x = PEM_read_bio_X509(bio, NULL, NULL, NULL);
	if (x == NULL) {
		rc = invalid("neither DER nor a PEM certificate");
		goto out;
	}
	second = PEM_read_bio_X509(bio, NULL, NULL, NULL);
	if (second != NULL) {
		rc = invalid("more than one certificate in the PEM input");
		goto out;
	}
	ERR_clear_error(); /* the second read's "no start line" */
	*out = x;
	x = NULL;
out:
	X509_free(x);
	X509_free(second);
	BIO_free(bio);
	return rc;
}

err_t ekcert_parse(const uint8_t *buf, size_t len, struct ekcert **out)
{
	X509 *x = NULL;
	err_t rc;

	*out = NULL;
	if (len == 0 || len > EKCERT_MAX_INPUT)
		return invalid(len == 0 ? "empty certificate" : "certificate too large");
	/* A DER certificate starts with a SEQUENCE tag; PEM starts with text. */
	if (buf[0] == 0x30)
		return ekcert_parse_der(buf, len, out);
	TRY(x509_from_pem(buf, len, &x));
	rc = ekcert_from_x509(x, out);
	if (rc != ERR_OK)
		X509_free(x);
	return rc;
}

void ekcert_free(struct ekcert *c)
{
	if (c == NULL)
		return;
	X509_free(c->x509);
	free(c);
}

X509 *ekcert_x509(const struct ekcert *c)
{
	return c->x509;
}

EVP_PKEY *ekcert_key(const struct ekcert *c)
{
	return X509_get0_pubkey(c->x509);
}

const struct ekcert_tpm_info *ekcert_tpm_info(const struct ekcert *c)
{
	return &c->tpm;
}

/* ---- identity of the key ---- */

static err_t machine_id_of_der(unsigned char *der, int n, char out[static EKCERT_MACHINE_ID_SIZE])
{
	unsigned char digest[32];
	unsigned int dlen = 0;
	int ok;

	if (n <= 0) {
		ERR_clear_error();
		return err_fail(ERR_INTERNAL, "cannot encode the EK public key");
	}
	ok = EVP_Digest(der, (size_t)n, digest, &dlen, EVP_sha256(), NULL);
	OPENSSL_free(der);
	if (ok != 1 || dlen != sizeof(digest)) {
		ERR_clear_error();
		return err_fail(ERR_INTERNAL, "SHA-256 failed");
	}
	memcpy(out, "sha256:", 7);
	hex_encode(digest, sizeof(digest), out + 7);
	return ERR_OK;
}

err_t ekcert_key_machine_id(EVP_PKEY *key, char out[static EKCERT_MACHINE_ID_SIZE])
{
	unsigned char *der = NULL;
	int n = i2d_PUBKEY(key, &der);

	return machine_id_of_der(der, n, out);
}

err_t ekcert_machine_id(const struct ekcert *c, char out[static EKCERT_MACHINE_ID_SIZE])
{
	unsigned char *der = NULL;
	/* The certificate's own SubjectPublicKeyInfo structure, re-encoded
	 * as parsed: ~1 us, where deriving it from the key through OpenSSL
	 * 3.0's encoders (ekcert_key_machine_id) takes ~75 us. */
	int n = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(c->x509), &der);

	return machine_id_of_der(der, n, out);
}

err_t ekcert_key_equal(EVP_PKEY *cert_key, EVP_PKEY *ek_pub)
{
	/* 1 equal; 0 different; -1 different types; -2 not comparable. Only 1
	 * is a match. */
	if (cert_key != NULL && ek_pub != NULL && EVP_PKEY_eq(cert_key, ek_pub) == 1)
		return ERR_OK;
	ERR_clear_error();
	return err_fail(ERR_EK_KEY_MISMATCH, "ek_pub is not the key of the EK certificate");
}

err_t ekcert_check_key(const struct ekcert *c, EVP_PKEY *ek_pub)
{
	return ekcert_key_equal(ekcert_key(c), ek_pub);
}
