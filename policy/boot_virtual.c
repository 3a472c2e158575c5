/* Virtual-platform rules. A VM whose TPM is emulated or passed through can
 * present an EK that looks physical; the firmware measurements still show
 * who booted it. Each rule below is one indicator, named so an operator can
 * switch it off for a lab. "Bound" means the text checked is what the
 * event's digest covers, so a log that hides it fails replay; "unbound"
 * text is reported by the firmware beside a digest of something else (an
 * honest VM shows it, a forged log could omit it).
 *
 * rule                    looks at
 * firmware_version        EV_S_CRTM_VERSION text naming a hypervisor's
 *                         firmware: "GCE Virtual Firmware", OVMF, SeaBIOS,
 *                         QEMU, Hyper-V, VMware, Xen, VirtualBox, ... (bound
 *                         where the firmware hashes the string: 30 of 31 in
 *                         the vectors)
 * empty_firmware_version  EV_S_CRTM_VERSION that is an empty UTF-16 string:
 *                         OVMF's default build (no firmware version set);
 *                         physical firmware names its version (bound)
 * no_crtm                 nothing measured into PCR 0 but its separator: the
 *                         firmware has no S-CRTM of its own, as SeaBIOS;
 *                         physical firmware always measures its boot block
 *                         (bound: PCR 0 replays only with exactly these events)
 * firmware_strings        hypervisor names in other firmware-written strings
 *                         of PCRs 0-7: POST code labels, firmware-blob and
 *                         handoff-table descriptions, EV_ACTION/EV_EFI_ACTION,
 *                         EV_NONHOST_* ("GCE NonHostInfo") and EV_NO_ACTION
 *                         (SP800-155 platform "Google Compute Engine") (mostly
 *                         unbound)
 * boot_option             Boot#### descriptions naming virtual disks/devices:
 *                         "QEMU HARDDISK", "Google PersistentDisk",
 *                         "nvme_card-pd", "VirtScsi", "UEFI Misc Device" (OVMF's
 *                         virtio-blk), "Msft Virtual", "VMware", "VBOX" (bound:
 *                         firmware hashes the variable or its data)
 * device_path             device paths of boot options and loaded images with
 *                         vendor nodes of virtual buses (QEMU fw_cfg kernel
 *                         loader, virtio-mmio, Hyper-V VMBus, Xen bus) or NICs
 *                         with a hypervisor's MAC prefix (52:54:00 QEMU/KVM,
 *                         00:15:5d Hyper-V, VMware, Xen, VirtualBox, Parallels)
 *                         (bound for Boot####, unbound for image loads)
 * ovmf_firmware_volume    device paths into OVMF's DXE firmware volume
 *                         (FvNameGuid 7cb8bdc9-f8eb-4f34-aaea-3ee4af6516a1 of
 *                         OvmfPkg, also in Google's GCE firmware)
 */
#include "boot_virtual.h"

#include <string.h>

#include "efi_devpath.h"
#include "efi_text.h"
#include "evlog_decode.h"

/* Room for the evidence in an error detail, which holds ERR_DETAIL_MAX. */
#define BOOT_EVIDENCE_MAX 160

/* Hypervisor and virtual-firmware names, matched case-insensitively. */
static const char *const virtual_firmware_names[] = {
    "QEMU",
    "OVMF",
    "SeaBIOS",
    "Bochs",
    "KVM",
    "Hyper-V",
    "VMware",
    "VirtualBox",
    "innotek",
    "Xen",
    "Parallels",
    "bhyve",
    "Google Compute Engine",
    "GCE Virtual Firmware",
    "GCE NonHostInfo",
    "Amazon EC2",
};

/* Descriptions firmware gives boot options of virtual devices. */
static const char *const virtual_boot_option_names[] = {
    "QEMU",	    "Google PersistentDisk",
    "nvme_card-pd", "VirtScsi",
    "Virtio",	    "UEFI Misc Device",
    "Msft Virtual", "VMware",
    "VBOX",	    "Hyper-V",
    "Xen",
};

/* Vendor device-path GUIDs of virtual buses (EDK2 OvmfPkg, Hyper-V). */
static const struct {
	uint8_t guid[16];
	const char *what;
} virtual_vendor_nodes[] = {
    {EFI_GUID_BYTES(0x1428F772, 0xB64A, 0x441E, 0xB8, 0xC3, 0x9E, 0xBD, 0xD7, 0xF8, 0x93, 0xC7),
     "QEMU fw_cfg kernel loader"},
    {EFI_GUID_BYTES(0x837DCA9E, 0xE874, 0x4D82, 0xB2, 0x9A, 0x23, 0xFE, 0x0E, 0x23, 0xD1, 0xE2),
     "virtio-mmio transport"},
    {EFI_GUID_BYTES(0x9B17E5A2, 0x0891, 0x42DD, 0xB6, 0x53, 0x80, 0xB5, 0xC2, 0x28, 0x09, 0xBA),
     "Hyper-V VMBus"},
    {EFI_GUID_BYTES(0xA732241F, 0x383D, 0x4D9C, 0x8A, 0xE1, 0x8E, 0x09, 0x83, 0x75, 0x89, 0xD7),
     "Xen bus"},
};

/* IEEE OUIs hypervisors give virtual NICs. */
static const struct {
	uint8_t oui[3];
	const char *what;
} virtual_mac_prefixes[] = {
    {{0x52, 0x54, 0x00}, "QEMU/KVM"},	{{0x00, 0x15, 0x5D}, "Hyper-V"},
    {{0x00, 0x50, 0x56}, "VMware"},	{{0x00, 0x0C, 0x29}, "VMware"},
    {{0x00, 0x05, 0x69}, "VMware"},	{{0x00, 0x16, 0x3E}, "Xen"},
    {{0x08, 0x00, 0x27}, "VirtualBox"}, {{0x00, 0x1C, 0x42}, "Parallels"},
};

static const uint8_t ovmf_dxe_fv_guid[16] =
    EFI_GUID_BYTES(0x7CB8BDC9, 0xF8EB, 0x4F34, 0xAA, 0xEA, 0x3E, 0xE4, 0xAF, 0x65, 0x16, 0xA1);

#define EFI_DP_MEDIA_PIWG_FV 0x07

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* A rule scans the log and, when it fires, writes its evidence. */
typedef bool (*boot_virtual_fn)(const struct evlog *log, struct textbuf *evidence);

/* The name found in data read as ASCII or as UTF-16LE, or NULL. */
static const char *find_name(const uint8_t *p, size_t len, const char *const *names, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (ascii_contains(p, len, names[i]) || utf16_contains(p, len / 2, names[i]))
			return names[i];
	}
	return NULL;
}

static bool rule_firmware_version(const struct evlog *log, struct textbuf *ev_text)
{
	for (size_t i = 0; i < evlog_event_count(log); i++) {
		const struct evlog_event *ev = evlog_event_at(log, i);
		const char *name;

		if (ev->type != EV_S_CRTM_VERSION)
			continue;
		name = find_name(ev->data, ev->data_len, virtual_firmware_names,
				 COUNT(virtual_firmware_names));
		if (name != NULL) {
			textbuf_printf(ev_text, "S-CRTM version names '%s' (event %zu)", name, i);
			return true;
		}
	}
	return false;
}

static bool all_zero(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (p[i] != 0)
			return false;
	}
	return true;
}

static bool rule_empty_firmware_version(const struct evlog *log, struct textbuf *ev_text)
{
	for (size_t i = 0; i < evlog_event_count(log); i++) {
		const struct evlog_event *ev = evlog_event_at(log, i);

		/* L"" is two zero bytes; a zero-length version is no better. */
		if (ev->type == EV_S_CRTM_VERSION && ev->data_len <= 2 &&
		    all_zero(ev->data, ev->data_len)) {
			textbuf_printf(ev_text, "S-CRTM version is an empty string (event %zu)", i);
			return true;
		}
	}
	return false;
}

static bool rule_no_crtm(const struct evlog *log, struct textbuf *ev_text)
{
	for (size_t i = 0; i < evlog_event_count(log); i++) {
		const struct evlog_event *ev = evlog_event_at(log, i);

		if (ev->pcr == 0 && ev->type != EV_NO_ACTION && ev->type != EV_SEPARATOR)
			return false;
	}
	textbuf_printf(ev_text, "PCR 0 holds no firmware measurement, only its separator");
	return true;
}

static bool is_firmware_string_event(const struct evlog_event *ev)
{
	if (ev->pcr > 7)
		return false; /* PCRs 8 and up (and Windows' unextended events) are the OS's */
	switch (ev->type) {
	case EV_POST_CODE:
	case EV_NO_ACTION:
	case EV_ACTION:
	case EV_EFI_ACTION:
	case EV_S_CRTM_CONTENTS:
	case EV_NONHOST_CODE:
	case EV_NONHOST_CONFIG:
	case EV_NONHOST_INFO:
	case EV_EFI_PLATFORM_FIRMWARE_BLOB2:
	case EV_EFI_HANDOFF_TABLES2:
		return true;
	default:
		return false;
	}
}

static bool rule_firmware_strings(const struct evlog *log, struct textbuf *ev_text)
{
	for (size_t i = 0; i < evlog_event_count(log); i++) {
		const struct evlog_event *ev = evlog_event_at(log, i);
		const char *name;

		if (!is_firmware_string_event(ev))
			continue;
		name = find_name(ev->data, ev->data_len, virtual_firmware_names,
				 COUNT(virtual_firmware_names));
		if (name != NULL) {
			textbuf_printf(ev_text, "%s in PCR %u names '%s' (event %zu)",
				       evlog_type_name(ev->type), ev->pcr, name, i);
			return true;
		}
	}
	return false;
}

static bool is_boot_variable(const struct evlog_event *ev)
{
	return ev->type == EV_EFI_VARIABLE_BOOT || ev->type == EV_EFI_VARIABLE_BOOT2;
}

static bool rule_boot_option(const struct evlog *log, struct textbuf *ev_text)
{
	for (size_t i = 0; i < evlog_event_count(log); i++) {
		const struct evlog_event *ev = evlog_event_at(log, i);
		struct efi_variable var;
		struct efi_load_option opt;
		const char *name;

		if (!is_boot_variable(ev) || !evlog_decode_variable(ev, &var) ||
		    !efi_decode_load_option(var.data, var.data_len, &opt))
			continue;
		name = find_name(opt.desc, opt.desc_units * 2, virtual_boot_option_names,
				 COUNT(virtual_boot_option_names));
		if (name != NULL) {
			textbuf_printf(ev_text, "boot option '");
			textbuf_utf16(ev_text, opt.desc, opt.desc_units);
			textbuf_printf(ev_text, "' names '%s' (event %zu)", name, i);
			return true;
		}
	}
	return false;
}

/* The device path an event carries: a boot option's or a loaded image's. */
static bool event_devpath(const struct evlog_event *ev, const uint8_t **dp, size_t *len)
{
	struct efi_variable var;
	struct efi_load_option opt;
	struct efi_image_load img;

	switch (ev->type) {
	case EV_EFI_VARIABLE_BOOT:
	case EV_EFI_VARIABLE_BOOT2:
		if (!evlog_decode_variable(ev, &var) ||
		    !efi_decode_load_option(var.data, var.data_len, &opt))
			return false;
		*dp = opt.devpath;
		*len = opt.devpath_len;
		return true;
	case EV_EFI_BOOT_SERVICES_APPLICATION:
	case EV_EFI_BOOT_SERVICES_DRIVER:
	case EV_EFI_RUNTIME_SERVICES_DRIVER:
		if (!evlog_decode_image_load(ev, &img))
			return false;
		*dp = img.devpath;
		*len = img.devpath_len;
		return true;
	default:
		return false;
	}
}

/* What makes a node virtual for the device_path rule, or NULL. */
static const char *virtual_node(const struct efi_dp_node *n)
{
	const uint8_t *guid = efi_dp_vendor_guid(n);

	for (size_t i = 0; guid != NULL && i < COUNT(virtual_vendor_nodes); i++) {
		if (memcmp(guid, virtual_vendor_nodes[i].guid, 16) == 0)
			return virtual_vendor_nodes[i].what;
	}
	if (n->type == EFI_DP_MESSAGING && n->subtype == EFI_DP_MSG_MAC && n->len >= 3) {
		for (size_t i = 0; i < COUNT(virtual_mac_prefixes); i++) {
			if (memcmp(n->data, virtual_mac_prefixes[i].oui, 3) == 0)
				return virtual_mac_prefixes[i].what;
		}
	}
	return NULL;
}

static const char *ovmf_volume_node(const struct efi_dp_node *n)
{
	return n->type == EFI_DP_MEDIA && n->subtype == EFI_DP_MEDIA_PIWG_FV && n->len == 16 &&
		       memcmp(n->data, ovmf_dxe_fv_guid, 16) == 0
		   ? "OVMF DXE firmware volume"
		   : NULL;
}

/* Runs a node test over every device path in the log. */
static bool scan_devpaths(const struct evlog *log, const char *(*test)(const struct efi_dp_node *),
			  struct textbuf *ev_text)
{
	for (size_t i = 0; i < evlog_event_count(log); i++) {
		const struct evlog_event *ev = evlog_event_at(log, i);
		struct efi_dp_node node;
		const uint8_t *dp;
		size_t dp_len, off = 0;
		bool malformed;

		if (!event_devpath(ev, &dp, &dp_len))
			continue;
		while (efi_dp_next(dp, dp_len, &off, &node, &malformed)) {
			const char *what = test(&node);

			if (what != NULL) {
				textbuf_printf(ev_text, "%s in device path of %s (event %zu)", what,
					       evlog_type_name(ev->type), i);
				return true;
			}
		}
	}
	return false;
}

static bool rule_device_path(const struct evlog *log, struct textbuf *ev_text)
{
	return scan_devpaths(log, virtual_node, ev_text);
}

static bool rule_ovmf_firmware_volume(const struct evlog *log, struct textbuf *ev_text)
{
	return scan_devpaths(log, ovmf_volume_node, ev_text);
}

#define BOOT_VR_NAME_ENTRY(id, name) [id] = name,
static const char *const rule_names[BOOT_VR_COUNT] = {BOOT_VIRTUAL_RULES(BOOT_VR_NAME_ENTRY)};
#undef BOOT_VR_NAME_ENTRY

static const boot_virtual_fn rule_fns[BOOT_VR_COUNT] = {
    [BOOT_VR_FIRMWARE_VERSION] = rule_firmware_version,
    [BOOT_VR_EMPTY_FIRMWARE_VERSION] = rule_empty_firmware_version,
    [BOOT_VR_NO_CRTM] = rule_no_crtm,
    [BOOT_VR_FIRMWARE_STRINGS] = rule_firmware_strings,
    [BOOT_VR_BOOT_OPTION] = rule_boot_option,
    [BOOT_VR_DEVICE_PATH] = rule_device_path,
    [BOOT_VR_OVMF_FIRMWARE_VOLUME] = rule_ovmf_firmware_volume,
};

const char *boot_virtual_rule_name(enum boot_virtual_rule rule)
{
	return (unsigned)rule < BOOT_VR_COUNT ? rule_names[rule] : "unknown";
}

bool boot_virtual_rule_from_name(const char *name, enum boot_virtual_rule *out)
{
	for (unsigned r = 0; r < BOOT_VR_COUNT; r++) {
		if (strcmp(rule_names[r], name) == 0) {
			*out = (enum boot_virtual_rule)r;
			return true;
		}
	}
	return false;
}

uint32_t boot_virtual_fired(const struct evlog *log)
{
	uint32_t fired = 0;

	for (unsigned r = 0; r < BOOT_VR_COUNT; r++) {
		char evidence[BOOT_EVIDENCE_MAX];
		struct textbuf t;

		textbuf_init(&t, evidence, sizeof(evidence));
		if (rule_fns[r](log, &t))
			fired |= 1u << r;
	}
	return fired;
}

err_t boot_virtual_check(const struct evlog *log, uint32_t rules_off)
{
	for (unsigned r = 0; r < BOOT_VR_COUNT; r++) {
		char evidence[BOOT_EVIDENCE_MAX];
		struct textbuf t;

		if (rules_off & (1u << r))
			continue;
		textbuf_init(&t, evidence, sizeof(evidence));
		if (rule_fns[r](log, &t))
			return err_fail(ERR_VIRTUAL_PLATFORM, "rule %s: %s", rule_names[r],
					evidence);
	}
	return ERR_OK;
}
