/* UEFI device-path walk and text form. Only the node types firmware logs
 * carry are named; every other node prints as Path(type,subtype,hex). */
#include "efi_devpath.h"

#include <string.h>

#include "abuf.h"

#define EFI_DP_HEADER_SIZE  4
#define EFI_DP_END_ENTIRE   0xFF
#define EFI_DP_END_INSTANCE 0x01

/* PNP ids of the ACPI node of a PCI(e) root bridge (EISA "PNP0A03"/"PNP0A08"). */
#define EFI_ACPI_PCI_ROOT_HID  0x0A0341D0u
#define EFI_ACPI_PCIE_ROOT_HID 0x0A0841D0u

/* Longest node payload shown as hex in the generic form. */
#define EFI_DP_GENERIC_HEX_MAX 32

bool efi_dp_next(const uint8_t *p, size_t len, size_t *off, struct efi_dp_node *node,
		 bool *malformed)
{
	struct abuf b;
	uint16_t node_len;

	*malformed = false;
	abuf_init(&b, p, len);
	if (*off > len || !abuf_skip(&b, *off) || abuf_remaining(&b) == 0)
		return false;
	if (!abuf_u8(&b, &node->type) || !abuf_u8(&b, &node->subtype) ||
	    !abuf_u16le(&b, &node_len) || node_len < EFI_DP_HEADER_SIZE ||
	    !abuf_bytes(&b, node_len - EFI_DP_HEADER_SIZE, &node->data)) {
		*malformed = true;
		return false;
	}
	node->len = node_len - EFI_DP_HEADER_SIZE;
	*off = b.off;
	return !(node->type == EFI_DP_END && node->subtype == EFI_DP_END_ENTIRE);
}

const uint8_t *efi_dp_vendor_guid(const struct efi_dp_node *n)
{
	bool vendor = (n->type == EFI_DP_HARDWARE && n->subtype == EFI_DP_HW_VENDOR) ||
		      (n->type == EFI_DP_MESSAGING && n->subtype == EFI_DP_MSG_VENDOR) ||
		      (n->type == EFI_DP_MEDIA && n->subtype == EFI_DP_MEDIA_VENDOR);

	return vendor && n->len >= 16 ? n->data : NULL;
}

static void generic_text(struct textbuf *t, const struct efi_dp_node *n)
{
	size_t shown = n->len < EFI_DP_GENERIC_HEX_MAX ? n->len : EFI_DP_GENERIC_HEX_MAX;

	textbuf_printf(t, "Path(%u,%u,", n->type, n->subtype);
	textbuf_hex(t, n->data, shown);
	textbuf_printf(t, "%s)", shown < n->len ? "..." : "");
}

static void vendor_text(struct textbuf *t, const char *kind, const struct efi_dp_node *n)
{
	textbuf_printf(t, "Ven%s(", kind);
	textbuf_guid(t, n->data);
	if (n->len > 16) {
		textbuf_printf(t, ",");
		textbuf_hex(t, n->data + 16, n->len - 16);
	}
	textbuf_printf(t, ")");
}

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t le64(const uint8_t *p)
{
	return (uint64_t)le32(p) | (uint64_t)le32(p + 4) << 32;
}

static uint16_t le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

/* Each returns false when the node is not of a size it knows, so the
 * caller prints it generically instead of reading past it. */
static bool hardware_text(struct textbuf *t, const struct efi_dp_node *n)
{
	if (n->subtype == EFI_DP_HW_PCI && n->len == 2)
		textbuf_printf(t, "Pci(0x%x,0x%x)", n->data[1], n->data[0]);
	else if (n->subtype == EFI_DP_HW_VENDOR && n->len >= 16)
		vendor_text(t, "Hw", n);
	else
		return false;
	return true;
}

static bool acpi_text(struct textbuf *t, const struct efi_dp_node *n)
{
	uint32_t hid, uid;

	if (n->subtype != 0x01 || n->len != 8)
		return false;
	hid = le32(n->data);
	uid = le32(n->data + 4);
	if (hid == EFI_ACPI_PCI_ROOT_HID)
		textbuf_printf(t, "PciRoot(0x%x)", uid);
	else if (hid == EFI_ACPI_PCIE_ROOT_HID)
		textbuf_printf(t, "PcieRoot(0x%x)", uid);
	else
		textbuf_printf(t, "Acpi(0x%08x,0x%x)", hid, uid);
	return true;
}

static bool messaging_text(struct textbuf *t, const struct efi_dp_node *n)
{
	const uint8_t *d = n->data;

	switch (n->subtype) {
	case 0x02: /* SCSI */
		if (n->len != 4)
			return false;
		textbuf_printf(t, "Scsi(0x%x,0x%x)", le16(d), le16(d + 2));
		return true;
	case 0x05: /* USB */
		if (n->len != 2)
			return false;
		textbuf_printf(t, "USB(0x%x,0x%x)", d[0], d[1]);
		return true;
	case EFI_DP_MSG_MAC: /* 32-byte address field, 6 used by Ethernet */
		if (n->len != 33)
			return false;
		textbuf_printf(t, "MAC(");
		textbuf_hex(t, d, 6);
		textbuf_printf(t, ",0x%x)", d[32]);
		return true;
	case EFI_DP_MSG_VENDOR:
		if (n->len < 16)
			return false;
		vendor_text(t, "Msg", n);
		return true;
	case 0x12: /* SATA */
		if (n->len != 6)
			return false;
		textbuf_printf(t, "Sata(0x%x,0x%x,0x%x)", le16(d), le16(d + 2), le16(d + 4));
		return true;
	case 0x17: /* NVMe namespace */
		if (n->len != 12)
			return false;
		textbuf_printf(t, "NVMe(0x%x,", le32(d));
		textbuf_hex(t, d + 4, 8);
		textbuf_printf(t, ")");
		return true;
	case 0x18: /* URI */
		textbuf_printf(t, "Uri(");
		textbuf_ascii(t, d, n->len);
		textbuf_printf(t, ")");
		return true;
	default:
		return false;
	}
}

static bool media_text(struct textbuf *t, const struct efi_dp_node *n)
{
	const uint8_t *d = n->data;

	switch (n->subtype) {
	case 0x01: /* hard drive partition */
		if (n->len != 38)
			return false;
		textbuf_printf(t, "HD(%u,%s,", le32(d), d[37] == 2 ? "GPT" : "MBR");
		if (d[37] == 2)
			textbuf_guid(t, d + 20);
		else
			textbuf_printf(t, "0x%08x", le32(d + 20));
		textbuf_printf(t, ",0x%llx,0x%llx)", (unsigned long long)le64(d + 4),
			       (unsigned long long)le64(d + 12));
		return true;
	case EFI_DP_MEDIA_VENDOR:
		if (n->len < 16)
			return false;
		vendor_text(t, "Media", n);
		return true;
	case EFI_DP_MEDIA_FILE:
		textbuf_utf16(t, d, n->len / 2);
		return true;
	case 0x06: /* PIWG firmware file */
	case 0x07: /* PIWG firmware volume */
		if (n->len != 16)
			return false;
		textbuf_printf(t, "%s(", n->subtype == 0x06 ? "FvFile" : "Fv");
		textbuf_guid(t, d);
		textbuf_printf(t, ")");
		return true;
	case 0x08: /* relative offset range */
		if (n->len != 20)
			return false;
		textbuf_printf(t, "Offset(0x%llx,0x%llx)", (unsigned long long)le64(d + 4),
			       (unsigned long long)le64(d + 12));
		return true;
	default:
		return false;
	}
}

static void node_text(struct textbuf *t, const struct efi_dp_node *n)
{
	bool known = false;

	switch (n->type) {
	case EFI_DP_HARDWARE:
		known = hardware_text(t, n);
		break;
	case EFI_DP_ACPI:
		known = acpi_text(t, n);
		break;
	case EFI_DP_MESSAGING:
		known = messaging_text(t, n);
		break;
	case EFI_DP_MEDIA:
		known = media_text(t, n);
		break;
	default:
		break;
	}
	if (!known)
		generic_text(t, n);
}

void efi_dp_text(struct textbuf *t, const uint8_t *p, size_t len)
{
	struct efi_dp_node n;
	size_t off = 0;
	bool malformed, first = true;

	while (efi_dp_next(p, len, &off, &n, &malformed)) {
		if (n.type == EFI_DP_END && n.subtype == EFI_DP_END_INSTANCE) {
			textbuf_printf(t, ",");
			first = true;
			continue;
		}
		if (!first)
			textbuf_printf(t, "/");
		node_text(t, &n);
		first = false;
	}
	if (malformed)
		textbuf_printf(t, "%s<malformed>", first ? "" : "/");
}
