/* Capturing a boot policy from a known-good machine's event log: every fact
 * boot_policy_eval checks, with the values this log has. */
#include <stdio.h>
#include <string.h>

#include "b64.h"
#include "boot.h"
#include "boot_facts.h"
#include "efi_devpath.h"
#include "evlog_decode.h"
#include "evlog_json.h"

/* Room for a component's name: its device path or file name. */
#define BOOT_COMPONENT_NAME_MAX 160

/* PCRs 0-7 always (firmware, its configuration, the boot manager, Secure
 * Boot); 8 and 9 (grub's commands, kernel and initrd) and 14 (shim's MOK
 * lists) when the log has events there. */
#define BOOT_CAPTURE_ALWAYS  0x000000FFu
#define BOOT_CAPTURE_IF_USED ((1u << 8) | (1u << 9) | (1u << 14))

static json_t *hex_json(const uint8_t *p, size_t n)
{
	char hex[2 * EVLOG_MAX_DIGEST + 1];

	hex_encode(p, n, hex);
	return json_string(hex);
}

static bool secure_boot_on(const struct evlog *log)
{
	size_t index, count;
	struct efi_variable var;
	const struct evlog_event *ev = boot_find_config_var(log, "SecureBoot", &index, &count);

	return ev != NULL && count == 1 && evlog_decode_variable(ev, &var) && var.data_len == 1 &&
	       var.data[0] == 1;
}

/* {"PK": ["HEX"], ...} for each variable measured exactly once. */
static json_t *capture_variables(const struct evlog *log, enum evlog_bank bank)
{
	json_t *vars = json_object();

	for (unsigned v = 0; vars != NULL && v < BOOT_VAR_COUNT; v++) {
		const char *name = boot_var_name((enum boot_var)v);
		size_t index, count;
		const struct evlog_event *ev = boot_find_config_var(log, name, &index, &count);

		if (ev == NULL || count != 1 || ev->digest[bank] == NULL)
			continue;
		if (json_object_set_new(
			vars, name,
			json_pack("[o]", hex_json(ev->digest[bank], evlog_bank_size(bank)))) != 0) {
			json_decref(vars);
			vars = NULL;
		}
	}
	return vars;
}

/* A boot application by its device path, a file or tag by its text. */
static void component_name(const struct evlog_event *ev, char *out, size_t cap)
{
	struct efi_image_load img;
	struct textbuf t;

	if (ev->type == EV_EFI_BOOT_SERVICES_APPLICATION && evlog_decode_image_load(ev, &img)) {
		textbuf_init(&t, out, cap);
		efi_dp_text(&t, img.devpath, img.devpath_len);
	} else {
		evlog_describe(ev, out, cap);
	}
}

static json_t *capture_components(const struct evlog *log, enum evlog_bank bank)
{
	json_t *list = json_array();

	for (size_t i = 0; list != NULL && i < evlog_event_count(log); i++) {
		const struct evlog_event *ev = evlog_event_at(log, i);
		char name[BOOT_COMPONENT_NAME_MAX];

		if (!boot_is_component(ev) || ev->digest[bank] == NULL)
			continue;
		component_name(ev, name, sizeof(name));
		if (json_array_append_new(
			list, json_pack("{s:s, s:o}", "name", name, "digest",
					hex_json(ev->digest[bank], evlog_bank_size(bank)))) != 0) {
			json_decref(list);
			list = NULL;
		}
	}
	return list;
}

static uint32_t captured_pcrs(const struct evlog_pcrs *replayed, enum evlog_bank bank)
{
	return BOOT_CAPTURE_ALWAYS | (replayed->extended[bank] & BOOT_CAPTURE_IF_USED);
}

static json_t *selection_json(enum evlog_bank bank, uint32_t mask)
{
	char text[128];
	size_t len = (size_t)snprintf(text, sizeof(text), "%s:", evlog_bank_name(bank));

	for (unsigned pcr = 0; pcr < EVLOG_PCR_COUNT; pcr++) {
		if (mask & (1u << pcr))
			len += (size_t)snprintf(text + len, sizeof(text) - len, "%u,", pcr);
	}
	text[len - 1] = '\0'; /* the last comma; 24 two-digit PCRs fit easily */
	return json_string(text);
}

err_t boot_policy_capture(const struct evlog *log, const struct evlog_pcrs *replayed,
			  enum evlog_bank bank, json_t **out)
{
	struct evlog_pcrs only_bank;
	uint32_t mask = captured_pcrs(replayed, bank);
	json_t *boot, *pcrs, *doc;

	*out = NULL;
	if (!(replayed->banks & (1u << bank)))
		return err_fail(ERR_EVENTLOG_INVALID, "event log has no %s bank",
				evlog_bank_name(bank));
	memcpy(&only_bank, replayed, sizeof(only_bank));
	only_bank.banks = 1u << bank;
	pcrs = evlog_pcrs_to_json(&only_bank, mask);
	boot =
	    json_pack("{s:s, s:b, s:o*, s:o*, s:o*}", "bank", evlog_bank_name(bank), "secure_boot",
		      secure_boot_on(log), "variables", capture_variables(log, bank), "components",
		      capture_components(log, bank), "pcrs", pcrs);
	doc = boot != NULL ? json_pack("{s:o, s:o}", "pcr_selection", selection_json(bank, mask),
				       "boot", boot)
			   : NULL;
	/* json_pack took every reference, also when it failed; "o*" left out
	 * a member that could not be built. */
	if (doc == NULL || json_object_size(boot) != 5) {
		json_decref(doc);
		return err_fail(ERR_INTERNAL, "out of memory");
	}
	*out = doc;
	return ERR_OK;
}
