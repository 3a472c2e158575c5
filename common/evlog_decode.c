/* Bounded decoders for event data and the operator's one-line view. */
#include "evlog_decode.h"

#include <string.h>

#include "abuf.h"
#include "efi_devpath.h"
#include "efi_text.h"

const uint8_t efi_global_variable_guid[16] =
    EFI_GUID_BYTES(0x8BE4DF61, 0x93CA, 0x11D2, 0xAA, 0x0D, 0x00, 0xE0, 0x98, 0x03, 0x2B, 0x8C);
const uint8_t efi_image_security_database_guid[16] =
    EFI_GUID_BYTES(0xD719B2CB, 0x3D3A, 0x4596, 0xA3, 0xBC, 0xDA, 0xD0, 0x0E, 0x67, 0x65, 0x6F);

static const uint8_t smbios_table_guid[16] =
    EFI_GUID_BYTES(0xEB9D2D31, 0x2D88, 0x11D3, 0x9A, 0x16, 0x00, 0x90, 0x27, 0x3F, 0xC1, 0x4D);
static const uint8_t smbios3_table_guid[16] =
    EFI_GUID_BYTES(0xF2FD1544, 0x9794, 0x4A2C, 0x99, 0x2E, 0xE5, 0xBB, 0xCF, 0x20, 0xE3, 0x94);

/* Longest data shown as hex when an event has no better description. */
#define EVLOG_DESCRIBE_HEX_MAX 32

bool evlog_decode_variable(const struct evlog_event *ev, struct efi_variable *out)
{
	struct abuf b;
	uint64_t name_units, data_len;

	abuf_init(&b, ev->data, ev->data_len);
	/* Compare the 64-bit lengths with what remains before multiplying or
	 * narrowing them. */
	if (!abuf_bytes(&b, 16, &out->guid) || !abuf_u64le(&b, &name_units) ||
	    !abuf_u64le(&b, &data_len) || name_units > abuf_remaining(&b) / 2 ||
	    !abuf_bytes(&b, (size_t)name_units * 2, &out->name) || data_len > abuf_remaining(&b) ||
	    !abuf_bytes(&b, (size_t)data_len, &out->data))
		return false;
	out->name_units = (size_t)name_units;
	out->data_len = (size_t)data_len;
	return abuf_expect_end(&b);
}

bool efi_variable_is(const struct efi_variable *v, const uint8_t guid[static 16],
		     const char *ascii_name)
{
	size_t n = strlen(ascii_name);

	if (memcmp(v->guid, guid, 16) != 0 || v->name_units != n)
		return false;
	for (size_t i = 0; i < n; i++) {
		if (v->name[2 * i] != (uint8_t)ascii_name[i] || v->name[2 * i + 1] != 0)
			return false;
	}
	return true;
}

bool evlog_decode_image_load(const struct evlog_event *ev, struct efi_image_load *out)
{
	struct abuf b;
	uint64_t dp_len;

	abuf_init(&b, ev->data, ev->data_len);
	if (!abuf_u64le(&b, &out->address) || !abuf_u64le(&b, &out->length) ||
	    !abuf_u64le(&b, &out->link_address) || !abuf_u64le(&b, &dp_len) ||
	    dp_len > abuf_remaining(&b) || !abuf_bytes(&b, (size_t)dp_len, &out->devpath))
		return false;
	out->devpath_len = (size_t)dp_len;
	return abuf_expect_end(&b);
}

bool evlog_decode_blob(const struct evlog_event *ev, struct efi_blob *out)
{
	struct abuf b;
	uint8_t desc_len = 0;

	abuf_init(&b, ev->data, ev->data_len);
	out->desc = NULL;
	if (ev->type == EV_EFI_PLATFORM_FIRMWARE_BLOB2 &&
	    (!abuf_u8(&b, &desc_len) || !abuf_bytes(&b, desc_len, &out->desc)))
		return false;
	out->desc_len = desc_len;
	return abuf_u64le(&b, &out->base) && abuf_u64le(&b, &out->length) && abuf_expect_end(&b);
}

bool evlog_decode_handoff(const struct evlog_event *ev, struct efi_handoff *out)
{
	struct abuf b;
	uint8_t desc_len = 0;

	abuf_init(&b, ev->data, ev->data_len);
	out->desc = NULL;
	if (ev->type == EV_EFI_HANDOFF_TABLES2 &&
	    (!abuf_u8(&b, &desc_len) || !abuf_bytes(&b, desc_len, &out->desc)))
		return false;
	out->desc_len = desc_len;
	if (!abuf_u64le(&b, &out->count) ||
	    out->count != abuf_remaining(&b) / EFI_HANDOFF_ENTRY_SIZE ||
	    abuf_remaining(&b) % EFI_HANDOFF_ENTRY_SIZE != 0)
		return false;
	out->tables = b.p + b.off;
	return true;
}

bool evlog_decode_tagged(const struct evlog_event *ev, struct evlog_tagged *out)
{
	struct abuf b;
	uint32_t len;

	abuf_init(&b, ev->data, ev->data_len);
	if (!abuf_u32le(&b, &out->id) || !abuf_u32le(&b, &len) || !abuf_bytes(&b, len, &out->data))
		return false;
	out->len = len;
	return abuf_expect_end(&b);
}

bool efi_decode_load_option(const uint8_t *p, size_t len, struct efi_load_option *out)
{
	struct abuf b;
	uint16_t dp_len;
	size_t units = 0;

	abuf_init(&b, p, len);
	if (!abuf_u32le(&b, &out->attributes) || !abuf_u16le(&b, &dp_len))
		return false;
	out->desc = b.p + b.off;
	/* The description ends at its UTF-16 NUL, which must lie inside. */
	for (;;) {
		uint16_t u;

		if (!abuf_u16le(&b, &u))
			return false;
		if (u == 0)
			break;
		units++;
	}
	out->desc_units = units;
	if (!abuf_bytes(&b, dp_len, &out->devpath))
		return false;
	out->devpath_len = dp_len;
	out->optional_len = abuf_remaining(&b);
	return abuf_bytes(&b, out->optional_len, &out->optional);
}

bool evlog_data_is_utf16(const uint8_t *p, size_t len)
{
	if (len < 2 || len % 2 != 0)
		return false;
	for (size_t i = 0; i < len; i += 2) {
		bool text = p[i] >= 0x20 && p[i] < 0x7f;
		bool nul_at_end = p[i] == 0 && i + 2 == len;

		if (p[i + 1] != 0 || !(text || nul_at_end))
			return false;
	}
	return true;
}

static const struct {
	uint32_t type;
	const char *name;
} type_names[] = {
#define EVLOG_TYPE_NAME(t)                                                                         \
	{                                                                                          \
		t, #t                                                                              \
	}
    EVLOG_TYPE_NAME(EV_PREBOOT_CERT),
    EVLOG_TYPE_NAME(EV_POST_CODE),
    EVLOG_TYPE_NAME(EV_NO_ACTION),
    EVLOG_TYPE_NAME(EV_SEPARATOR),
    EVLOG_TYPE_NAME(EV_ACTION),
    EVLOG_TYPE_NAME(EV_EVENT_TAG),
    EVLOG_TYPE_NAME(EV_S_CRTM_CONTENTS),
    EVLOG_TYPE_NAME(EV_S_CRTM_VERSION),
    EVLOG_TYPE_NAME(EV_CPU_MICROCODE),
    EVLOG_TYPE_NAME(EV_PLATFORM_CONFIG_FLAGS),
    EVLOG_TYPE_NAME(EV_TABLE_OF_DEVICES),
    EVLOG_TYPE_NAME(EV_COMPACT_HASH),
    EVLOG_TYPE_NAME(EV_IPL),
    EVLOG_TYPE_NAME(EV_IPL_PARTITION_DATA),
    EVLOG_TYPE_NAME(EV_NONHOST_CODE),
    EVLOG_TYPE_NAME(EV_NONHOST_CONFIG),
    EVLOG_TYPE_NAME(EV_NONHOST_INFO),
    EVLOG_TYPE_NAME(EV_OMIT_BOOT_DEVICE_EVENTS),
    EVLOG_TYPE_NAME(EV_EFI_VARIABLE_DRIVER_CONFIG),
    EVLOG_TYPE_NAME(EV_EFI_VARIABLE_BOOT),
    EVLOG_TYPE_NAME(EV_EFI_BOOT_SERVICES_APPLICATION),
    EVLOG_TYPE_NAME(EV_EFI_BOOT_SERVICES_DRIVER),
    EVLOG_TYPE_NAME(EV_EFI_RUNTIME_SERVICES_DRIVER),
    EVLOG_TYPE_NAME(EV_EFI_GPT_EVENT),
    EVLOG_TYPE_NAME(EV_EFI_ACTION),
    EVLOG_TYPE_NAME(EV_EFI_PLATFORM_FIRMWARE_BLOB),
    EVLOG_TYPE_NAME(EV_EFI_HANDOFF_TABLES),
    EVLOG_TYPE_NAME(EV_EFI_PLATFORM_FIRMWARE_BLOB2),
    EVLOG_TYPE_NAME(EV_EFI_HANDOFF_TABLES2),
    EVLOG_TYPE_NAME(EV_EFI_VARIABLE_BOOT2),
    EVLOG_TYPE_NAME(EV_EFI_GPT_EVENT2),
    EVLOG_TYPE_NAME(EV_EFI_HCRTM_EVENT),
    EVLOG_TYPE_NAME(EV_EFI_VARIABLE_AUTHORITY),
    EVLOG_TYPE_NAME(EV_EFI_SPDM_FIRMWARE_BLOB),
    EVLOG_TYPE_NAME(EV_EFI_SPDM_FIRMWARE_CONFIG),
#undef EVLOG_TYPE_NAME
};

const char *evlog_type_name(uint32_t type)
{
	for (size_t i = 0; i < sizeof(type_names) / sizeof(type_names[0]); i++) {
		if (type_names[i].type == type)
			return type_names[i].name;
	}
	return "EV_UNKNOWN";
}

/* Firmware strings: UTF-16LE or ASCII, trailing NULs dropped. */
static void describe_string(struct textbuf *t, const uint8_t *p, size_t len)
{
	if (evlog_data_is_utf16(p, len)) {
		textbuf_utf16(t, p, len / 2);
		return;
	}
	while (len > 0 && p[len - 1] == 0)
		len--;
	textbuf_ascii(t, p, len);
}

static void describe_hex(struct textbuf *t, const uint8_t *p, size_t len)
{
	size_t shown = len < EVLOG_DESCRIBE_HEX_MAX ? len : EVLOG_DESCRIBE_HEX_MAX;

	textbuf_printf(t, "%zu bytes: ", len);
	textbuf_hex(t, p, shown);
	textbuf_printf(t, "%s", shown < len ? "..." : "");
}

static bool name_is_boot_option(const struct efi_variable *v)
{
	static const char hex[] = "0123456789ABCDEFabcdef";

	if (memcmp(v->guid, efi_global_variable_guid, 16) != 0 || v->name_units != 8)
		return false;
	for (size_t i = 0; i < 8; i++) {
		uint8_t c = v->name[2 * i];

		if (v->name[2 * i + 1] != 0 || (i < 4 && c != (uint8_t) "Boot"[i]) ||
		    (i >= 4 && (c == 0 || strchr(hex, c) == NULL)))
			return false;
	}
	return true;
}

static void describe_variable(struct textbuf *t, const struct evlog_event *ev)
{
	struct efi_variable v;
	struct efi_load_option opt;

	if (!evlog_decode_variable(ev, &v)) {
		textbuf_printf(t, "<malformed variable> ");
		describe_hex(t, ev->data, ev->data_len);
		return;
	}
	textbuf_utf16(t, v.name, v.name_units);
	textbuf_printf(t, " (");
	textbuf_guid(t, v.guid);
	textbuf_printf(t, ") ");
	if (name_is_boot_option(&v) && efi_decode_load_option(v.data, v.data_len, &opt)) {
		textbuf_printf(t, "\"");
		textbuf_utf16(t, opt.desc, opt.desc_units);
		textbuf_printf(t, "\" ");
		efi_dp_text(t, opt.devpath, opt.devpath_len);
	} else if (v.data_len <= 2) {
		textbuf_printf(t, "= ");
		textbuf_hex(t, v.data, v.data_len);
	} else {
		describe_hex(t, v.data, v.data_len);
	}
}

static void describe_image(struct textbuf *t, const struct evlog_event *ev)
{
	struct efi_image_load img;

	if (!evlog_decode_image_load(ev, &img)) {
		describe_hex(t, ev->data, ev->data_len);
		return;
	}
	textbuf_printf(t, "%llu bytes at 0x%llx: ", (unsigned long long)img.length,
		       (unsigned long long)img.address);
	efi_dp_text(t, img.devpath, img.devpath_len);
}

static void describe_blob(struct textbuf *t, const struct evlog_event *ev)
{
	struct efi_blob blob;

	if (!evlog_decode_blob(ev, &blob)) {
		describe_string(t, ev->data, ev->data_len);
		return;
	}
	if (blob.desc != NULL) {
		textbuf_ascii(t, blob.desc, blob.desc_len);
		textbuf_printf(t, ": ");
	}
	textbuf_printf(t, "0x%llx bytes at 0x%llx", (unsigned long long)blob.length,
		       (unsigned long long)blob.base);
}

static void describe_handoff(struct textbuf *t, const struct evlog_event *ev)
{
	struct efi_handoff h;

	if (!evlog_decode_handoff(ev, &h)) {
		describe_hex(t, ev->data, ev->data_len);
		return;
	}
	if (h.desc != NULL) {
		textbuf_ascii(t, h.desc, h.desc_len);
		textbuf_printf(t, ": ");
	}
	for (uint64_t i = 0; i < h.count; i++) {
		const uint8_t *g = h.tables + i * EFI_HANDOFF_ENTRY_SIZE;

		if (memcmp(g, smbios_table_guid, 16) == 0)
			textbuf_printf(t, "%sSMBIOS", i ? ", " : "");
		else if (memcmp(g, smbios3_table_guid, 16) == 0)
			textbuf_printf(t, "%sSMBIOS3", i ? ", " : "");
		else {
			textbuf_printf(t, "%s", i ? ", " : "");
			textbuf_guid(t, g);
		}
	}
}

static void describe_tagged(struct textbuf *t, const struct evlog_event *ev)
{
	struct evlog_tagged tag;

	if (!evlog_decode_tagged(ev, &tag)) {
		describe_hex(t, ev->data, ev->data_len);
		return;
	}
	textbuf_printf(t, "tag 0x%08x: ", tag.id);
	describe_string(t, tag.data, tag.len);
}

/* EV_NO_ACTION data starts with a 16-byte NUL-padded signature ("Spec ID
 * Event03", "StartupLocality", "SP800-155 Event3"); the rest is binary. */
#define EVLOG_NO_ACTION_SIGNATURE 16

static void describe_no_action(struct textbuf *t, const struct evlog_event *ev)
{
	size_t n = 0;

	if (ev->data_len < EVLOG_NO_ACTION_SIGNATURE) {
		describe_hex(t, ev->data, ev->data_len);
		return;
	}
	while (n < EVLOG_NO_ACTION_SIGNATURE && ev->data[n] != 0)
		n++;
	textbuf_ascii(t, ev->data, n);
	if (n == 15 && memcmp(ev->data, "StartupLocality", 15) == 0 && ev->data_len == 17)
		textbuf_printf(t, " %u", ev->data[16]);
	else
		textbuf_printf(t, " (%zu more bytes)", ev->data_len - EVLOG_NO_ACTION_SIGNATURE);
}

void evlog_describe(const struct evlog_event *ev, char *out, size_t cap)
{
	struct textbuf t;

	textbuf_init(&t, out, cap);
	switch (ev->type) {
	case EV_S_CRTM_VERSION:
	case EV_POST_CODE:
	case EV_ACTION:
	case EV_EFI_ACTION:
	case EV_IPL:
	case EV_OMIT_BOOT_DEVICE_EVENTS:
	case EV_COMPACT_HASH:
		if (ev->type == EV_POST_CODE && ev->data_len == 16)
			describe_blob(&t, ev);
		else
			describe_string(&t, ev->data, ev->data_len);
		break;
	case EV_NO_ACTION:
		describe_no_action(&t, ev);
		break;
	case EV_SEPARATOR:
		describe_hex(&t, ev->data, ev->data_len);
		break;
	case EV_EFI_VARIABLE_DRIVER_CONFIG:
	case EV_EFI_VARIABLE_BOOT:
	case EV_EFI_VARIABLE_BOOT2:
	case EV_EFI_VARIABLE_AUTHORITY:
		describe_variable(&t, ev);
		break;
	case EV_EFI_BOOT_SERVICES_APPLICATION:
	case EV_EFI_BOOT_SERVICES_DRIVER:
	case EV_EFI_RUNTIME_SERVICES_DRIVER:
		describe_image(&t, ev);
		break;
	case EV_EFI_PLATFORM_FIRMWARE_BLOB:
	case EV_EFI_PLATFORM_FIRMWARE_BLOB2:
		describe_blob(&t, ev);
		break;
	case EV_EFI_HANDOFF_TABLES:
	case EV_EFI_HANDOFF_TABLES2:
		describe_handoff(&t, ev);
		break;
	case EV_EVENT_TAG:
		describe_tagged(&t, ev);
		break;
	default:
		describe_hex(&t, ev->data, ev->data_len);
		break;
	}
}
