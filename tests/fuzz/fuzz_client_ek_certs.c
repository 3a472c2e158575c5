/* EK certificates reach the client as bytes from TPM NV indices (DER,
 * often padded with 0xFF to the index's size) or from files (DER or PEM),
 * and are sent to the verifier exactly as they came. Whatever the bytes,
 * ek_certs_add_der and ek_certs_add_file must not misbehave, and what they
 * keep must be the input's own bytes: for DER the kept certificates back to
 * back are the input up to padding of 0xFF only. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <openssl/err.h>

#include "ek_certs.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

/* The input as a file, without touching the disk. */
static int file_fd = -1;
static char file_path[64];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	file_fd = memfd_create("fuzz-ek-certs", MFD_CLOEXEC);
	if (file_fd < 0)
		abort();
	snprintf(file_path, sizeof(file_path), "/proc/self/fd/%d", file_fd);
	return 0;
}

/* What a successful add kept: the leaf (when asked for) with a key the
 * client can derive an EK for, and no more chain entries than there is
 * room for, none of them empty. (That each is one whole certificate is
 * what d2i_X509 said while cutting; parsing again would only ask it twice.) */
static void check_kept(const struct ek_certs *c, bool as_leaf)
{
	if (c->chain_count > EK_CERTS_CHAIN_MAX)
		abort();
	if (as_leaf) {
		if (c->leaf.der == NULL || c->leaf.len == 0)
			abort();
		if (c->alg != CLIENT_ALG_RSA && c->alg != CLIENT_ALG_ECC)
			abort();
	} else if (c->leaf.der != NULL || c->chain_count == 0) {
		abort();
	}
	for (size_t i = 0; i < c->chain_count; i++) {
		if (c->chain[i].der == NULL || c->chain[i].len == 0)
			abort();
	}
}

/* DER: the kept bytes are the input's own, in order, then only 0xFF. */
static void check_cut_from(const struct ek_certs *c, const uint8_t *p, size_t len)
{
	size_t off = 0;

	if (c->leaf.der != NULL) {
		if (c->leaf.len > len || memcmp(c->leaf.der, p, c->leaf.len) != 0)
			abort();
		off = c->leaf.len;
	}
	for (size_t i = 0; i < c->chain_count; i++) {
		if (c->chain[i].len > len - off ||
		    memcmp(c->chain[i].der, p + off, c->chain[i].len) != 0)
			abort();
		off += c->chain[i].len;
	}
	for (; off < len; off++) {
		if (p[off] != 0xff)
			abort();
	}
}

static void add_der(const uint8_t *data, size_t size, bool as_leaf)
{
	struct ek_certs c;

	ek_certs_init(&c);
	err_clear(); /* so a refusal without a reason shows */
	if (ek_certs_add_der(&c, data, size, as_leaf) == ERR_OK) {
		check_kept(&c, as_leaf);
		check_cut_from(&c, data, size);
	} else if (err_detail()[0] == '\0') {
		abort();
	}
	ek_certs_free(&c);
}

static void add_file(const uint8_t *data, size_t size)
{
	struct ek_certs c;

	if (ftruncate(file_fd, 0) != 0 || pwrite(file_fd, data, size, 0) != (ssize_t)size)
		abort();
	ek_certs_init(&c);
	err_clear();
	if (ek_certs_add_file(&c, file_path, true) == ERR_OK)
		check_kept(&c, true);
	else if (err_detail()[0] == '\0')
		abort();
	ek_certs_free(&c);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char pem_start[] = "-----BEGIN ";

	add_der(data, size, true);  /* the EK certificate index */
	add_der(data, size, false); /* an index of the chain range */
	/* --ek-cert FILE: a DER file goes to ek_certs_add_der as above, so
	 * only PEM needs the file's own path (and the run stays fast). */
	if (memmem(data, size, pem_start, sizeof(pem_start) - 1) != NULL)
		add_file(data, size);
	ERR_clear_error();
	return 0;
}
