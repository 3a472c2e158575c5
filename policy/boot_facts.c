/* Finding and trusting the events boot policy looks at. */
#include "boot_facts.h"

#include <string.h>

#include <openssl/evp.h>

#include "evlog_decode.h"

static const char *const var_names[BOOT_VAR_COUNT] = {
    [BOOT_VAR_PK] = "PK",
    [BOOT_VAR_KEK] = "KEK",
    [BOOT_VAR_DB] = "db",
    [BOOT_VAR_DBX] = "dbx",
};

const char *boot_var_name(enum boot_var v)
{
	return (unsigned)v < BOOT_VAR_COUNT ? var_names[v] : "unknown";
}

/* db and dbx live under the image-security GUID, the others under the
 * global-variable GUID. */
static const uint8_t *var_guid(const char *name)
{
	return strcmp(name, "db") == 0 || strcmp(name, "dbx") == 0
		   ? efi_image_security_database_guid
		   : efi_global_variable_guid;
}

const struct evlog_event *boot_find_config_var(const struct evlog *log, const char *name,
					       size_t *index, size_t *count)
{
	const struct evlog_event *found = NULL;

	*count = 0;
	for (size_t i = 0; i < evlog_event_count(log); i++) {
		const struct evlog_event *ev = evlog_event_at(log, i);
		struct efi_variable v;

		if (ev->type != EV_EFI_VARIABLE_DRIVER_CONFIG || ev->pcr != BOOT_PCR_SECURE_BOOT ||
		    !evlog_decode_variable(ev, &v) || !efi_variable_is(&v, var_guid(name), name))
			continue;
		if ((*count)++ == 0) {
			found = ev;
			*index = i;
		}
	}
	return found;
}

bool boot_is_component(const struct evlog_event *ev)
{
	return (ev->pcr == BOOT_PCR_BOOT_APPS && ev->type == EV_EFI_BOOT_SERVICES_APPLICATION) ||
	       (ev->pcr == BOOT_PCR_KERNEL && (ev->type == EV_IPL || ev->type == EV_EVENT_TAG));
}

bool boot_event_verified(const struct evlog_pcrs *replayed, const struct evlog_event *ev,
			 enum evlog_bank bank)
{
	return ev->pcr < EVLOG_PCR_COUNT && (replayed->verified[bank] & (1u << ev->pcr)) &&
	       ev->digest[bank] != NULL;
}

bool boot_event_data_bound(const struct evlog_event *ev, enum evlog_bank bank)
{
	uint8_t md[EVLOG_MAX_DIGEST];
	unsigned int len = 0;
	EVP_MD *alg;
	bool ok;

	if (ev->digest[bank] == NULL)
		return false;
	alg = EVP_MD_fetch(NULL, evlog_bank_name(bank), NULL);
	ok = alg != NULL && EVP_Digest(ev->data, ev->data_len, md, &len, alg, NULL) == 1 &&
	     len == evlog_bank_size(bank) && memcmp(md, ev->digest[bank], len) == 0;
	EVP_MD_free(alg);
	return ok;
}
