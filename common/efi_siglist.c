/* Bounded walk over EFI_SIGNATURE_LISTs. */
#include "efi_siglist.h"

#include "efi_text.h"

const uint8_t efi_cert_x509_guid[16] =
    EFI_GUID_BYTES(0xA5C059A1, 0x94E4, 0x4AA7, 0x87, 0xB5, 0xAB, 0x15, 0x5C, 0x2B, 0xF0, 0x72);
const uint8_t efi_cert_sha256_guid[16] =
    EFI_GUID_BYTES(0xC1C41626, 0x504C, 0x4092, 0xAC, 0xA9, 0x41, 0xF9, 0x36, 0x93, 0x43, 0x28);

/* SignatureType, SignatureListSize, SignatureHeaderSize, SignatureSize. */
#define EFI_SIGLIST_HEADER_SIZE 28
/* Each EFI_SIGNATURE_DATA starts with its owner's GUID. */
#define EFI_SIGNATURE_OWNER_SIZE 16

void efi_siglist_begin(struct efi_siglist_iter *it, const uint8_t *p, size_t len)
{
	abuf_init(&it->lists, p, len);
	abuf_init(&it->sigs, NULL, 0);
	it->type = NULL;
	it->sig_size = 0;
	it->malformed = false;
}

/* Opens the next list; its signatures must fill it exactly. */
static enum efi_siglist_step open_list(struct efi_siglist_iter *it)
{
	struct abuf list;
	uint32_t list_size, header_size;

	if (!abuf_bytes(&it->lists, 16, &it->type) || !abuf_u32le(&it->lists, &list_size) ||
	    !abuf_u32le(&it->lists, &header_size) || !abuf_u32le(&it->lists, &it->sig_size) ||
	    list_size < EFI_SIGLIST_HEADER_SIZE ||
	    !abuf_child(&it->lists, list_size - EFI_SIGLIST_HEADER_SIZE, &list) ||
	    !abuf_skip(&list, header_size) || it->sig_size < EFI_SIGNATURE_OWNER_SIZE ||
	    abuf_remaining(&list) % it->sig_size != 0)
		return EFI_SIGLIST_MALFORMED;
	if (!abuf_child(&list, abuf_remaining(&list), &it->sigs))
		return EFI_SIGLIST_MALFORMED;
	return EFI_SIGLIST_NEXT;
}

enum efi_siglist_step efi_siglist_next(struct efi_siglist_iter *it, struct efi_signature *out)
{
	while (abuf_remaining(&it->sigs) == 0) {
		if (it->malformed)
			return EFI_SIGLIST_MALFORMED;
		if (abuf_remaining(&it->lists) == 0)
			return EFI_SIGLIST_END;
		if (open_list(it) != EFI_SIGLIST_NEXT) {
			it->malformed = true;
			return EFI_SIGLIST_MALFORMED;
		}
	}
	out->type = it->type;
	if (!abuf_bytes(&it->sigs, EFI_SIGNATURE_OWNER_SIZE, &out->owner) ||
	    !abuf_bytes(&it->sigs, it->sig_size - EFI_SIGNATURE_OWNER_SIZE, &out->data))
		return EFI_SIGLIST_MALFORMED; /* unreachable: sizes checked in open_list */
	out->len = it->sig_size - EFI_SIGNATURE_OWNER_SIZE;
	return EFI_SIGLIST_NEXT;
}
