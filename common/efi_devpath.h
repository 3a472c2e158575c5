/* UEFI device paths (UEFI 2.10 chapter 10) as found in event data: a walk
 * over the nodes, bounded by the declared size, and a text form close to
 * the one EDK2 and the UEFI shell print. */
#ifndef ATTEST_EFI_DEVPATH_H
#define ATTEST_EFI_DEVPATH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "efi_text.h"

#define EFI_DP_HARDWARE	 0x01
#define EFI_DP_ACPI	 0x02
#define EFI_DP_MESSAGING 0x03
#define EFI_DP_MEDIA	 0x04
#define EFI_DP_BBS	 0x05
#define EFI_DP_END	 0x7F

#define EFI_DP_HW_PCI	    0x01
#define EFI_DP_HW_VENDOR    0x04
#define EFI_DP_MSG_MAC	    0x0B
#define EFI_DP_MSG_VENDOR   0x0A
#define EFI_DP_MEDIA_VENDOR 0x03
#define EFI_DP_MEDIA_FILE   0x04

struct efi_dp_node {
	uint8_t type;
	uint8_t subtype;
	const uint8_t *data; /* the node's bytes after its 4-byte header */
	size_t len;
};

/* Reads the next node of p[*off..len) and moves *off past it. False at the
 * end (an End Entire node or no bytes left) and on a malformed node
 * (*malformed set then): a length below the header or beyond the path. */
bool efi_dp_next(const uint8_t *p, size_t len, size_t *off, struct efi_dp_node *node,
		 bool *malformed);

/* The vendor GUID of a vendor-defined node (hardware, messaging or media),
 * or NULL. */
const uint8_t *efi_dp_vendor_guid(const struct efi_dp_node *node);

/* Appends the text form, e.g. "PciRoot(0x0)/Pci(0x1f,0x2)/Sata(0x0,0xffff,0x0)/
 * HD(1,GPT,...)/\EFI\BOOT\BOOTX64.EFI"; a malformed tail as "<malformed>". */
void efi_dp_text(struct textbuf *t, const uint8_t *p, size_t len);

#endif
