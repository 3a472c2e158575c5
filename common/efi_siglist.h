/* EFI_SIGNATURE_LIST sequences (UEFI 2.10 section 32.4.1), the contents of
 * the Secure Boot variables PK, KEK, db and dbx: a bounded walk over every
 * signature of every list. */
#ifndef ATTEST_EFI_SIGLIST_H
#define ATTEST_EFI_SIGLIST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "abuf.h"

extern const uint8_t efi_cert_x509_guid[16];
extern const uint8_t efi_cert_sha256_guid[16];

struct efi_signature {
	const uint8_t *type;  /* the list's SignatureType GUID */
	const uint8_t *owner; /* SignatureOwner GUID */
	const uint8_t *data;  /* an X.509 DER certificate, a SHA-256 hash, ... */
	size_t len;
};

struct efi_siglist_iter {
	struct abuf lists; /* what is left of the variable */
	struct abuf sigs;  /* what is left of the current list's signatures */
	const uint8_t *type;
	uint32_t sig_size;
	bool malformed; /* sticky: once malformed, always malformed */
};

enum efi_siglist_step {
	EFI_SIGLIST_NEXT,      /* *out holds the next signature */
	EFI_SIGLIST_END,       /* every list read, nothing left over */
	EFI_SIGLIST_MALFORMED, /* a size that does not add up */
};

void efi_siglist_begin(struct efi_siglist_iter *it, const uint8_t *p, size_t len);
enum efi_siglist_step efi_siglist_next(struct efi_siglist_iter *it,
				       struct efi_signature *out) WARN_UNUSED;

#endif
