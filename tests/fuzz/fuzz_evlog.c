/* Feeds arbitrary bytes to the event-log parser and, when they parse, to
 * everything that reads a parsed log: replay, the PCR check, the operator's
 * event descriptions, virtual-platform detection, boot-policy evaluation
 * (with every PCR confirmed, so every fact is read) and capture. None may
 * crash, read out of bounds or leak, whatever the input. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "boot.h"
#include "boot_virtual.h"
#include "evlog.h"
#include "evlog_decode.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A policy with every kind of rule present, so evaluation reaches the
 * signature-list and component code instead of stopping early. */
static const char fuzz_policy[] =
    "{\"secure_boot\": false, \"virtual_platform\": {\"firmware_version\": false, "
    "\"empty_firmware_version\": false, \"no_crtm\": false, \"firmware_strings\": false, "
    "\"boot_option\": false, \"device_path\": false, \"ovmf_firmware_volume\": false}, "
    "\"certificates\": {\"PK\": [], \"KEK\": [], \"db\": [], \"dbx\": []}, "
    "\"components\": []}";

static struct boot_policy *policy(void)
{
	static struct boot_policy p;
	static bool loaded;

	if (!loaded) {
		json_t *obj = json_loads(fuzz_policy, 0, NULL);

		if (obj == NULL || boot_policy_load(obj, &p) != ERR_OK)
			abort();
		json_decref(obj);
		loaded = true;
	}
	return &p;
}

/* Confirms every PCR of the first bank with its own replayed value. */
static void confirm_all(struct evlog_pcrs *r)
{
	static uint8_t values[EVLOG_PCR_COUNT * EVLOG_MAX_DIGEST];

	for (unsigned b = 0; b < EVLOG_BANK_COUNT; b++) {
		size_t n = evlog_bank_size((enum evlog_bank)b);

		if (!(r->banks & (1u << b)))
			continue;
		for (unsigned pcr = 0; pcr < EVLOG_PCR_COUNT; pcr++)
			memcpy(values + n * pcr, r->value[b][pcr], n);
		if (evlog_check_pcrs(r, evlog_bank_alg((enum evlog_bank)b), 0xFFFFFF, values,
				     n * EVLOG_PCR_COUNT, 0) != ERR_OK)
			abort(); /* a replay always matches itself */
		return;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct evlog_pcrs replayed;
	struct evlog *log = NULL;
	char text[256];
	json_t *doc = NULL;

	if (evlog_parse(data, size, &log) != ERR_OK) {
		if (log != NULL)
			abort();
		return 0;
	}
	for (size_t i = 0; i < evlog_event_count(log); i++)
		evlog_describe(evlog_event_at(log, i), text, sizeof(text));
	if (evlog_replay(log, &replayed) == ERR_OK) {
		(void)boot_virtual_fired(log);
		confirm_all(&replayed);
		(void)boot_policy_eval(policy(), log, &replayed);
		for (unsigned b = 0; b < EVLOG_BANK_COUNT; b++) {
			if (boot_policy_capture(log, &replayed, (enum evlog_bank)b, &doc) == ERR_OK)
				json_decref(doc);
		}
	}
	evlog_free(log);
	return 0;
}
