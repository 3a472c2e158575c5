/* PCR values to and from JSON. */
#include "evlog_json.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "b64.h"
#include "pcrs.h"

json_t *evlog_pcrs_to_json(const struct evlog_pcrs *replayed, uint32_t mask)
{
	json_t *banks = json_object();

	if (banks == NULL)
		return NULL;
	for (unsigned b = 0; b < EVLOG_BANK_COUNT; b++) {
		size_t n = evlog_bank_size((enum evlog_bank)b);
		json_t *bank;

		if (!(replayed->banks & (1u << b)))
			continue;
		bank = json_object();
		if (bank == NULL ||
		    json_object_set_new(banks, evlog_bank_name((enum evlog_bank)b), bank) != 0)
			goto fail;
		for (unsigned pcr = 0; pcr < EVLOG_PCR_COUNT; pcr++) {
			char key[4], hex[2 * EVLOG_MAX_DIGEST + 1];

			if (!(mask & (1u << pcr)))
				continue;
			(void)snprintf(key, sizeof(key), "%u", pcr);
			hex_encode(replayed->value[b][pcr], n, hex);
			if (json_object_set_new(bank, key, json_string(hex)) != 0)
				goto fail;
		}
	}
	return banks;
fail:
	json_decref(banks);
	return NULL;
}

_Static_assert(PCR_COUNT == EVLOG_PCR_COUNT && PCR_DIGEST_MAX <= EVLOG_MAX_DIGEST,
	       "pcrs.h and evlog.h disagree on the PCR set");

err_t evlog_pcr_values_from_json(const json_t *banks, struct evlog_pcr_values out[EVLOG_BANK_COUNT])
{
	struct pcr_values parsed;

	memset(out, 0, EVLOG_BANK_COUNT * sizeof(out[0]));
	/* One reader of this shape for the whole project: the quote side's. */
	TRY(pcr_values_from_json(banks, &parsed));
	for (size_t i = 0; i < parsed.bank_count; i++) {
		const struct pcr_bank *pb = &parsed.banks[i];
		enum evlog_bank bank;

		if (!evlog_bank_from_alg(pb->alg, &bank))
			return err_fail(ERR_BAD_REQUEST, "pcrs: bank 0x%04x cannot be replayed",
					pb->alg);
		out[bank].mask = pb->present;
		for (unsigned pcr = 0; pcr < EVLOG_PCR_COUNT; pcr++) {
			if (pb->present & (1u << pcr)) {
				memcpy(out[bank].values + out[bank].len, pb->value[pcr],
				       pb->digest_len);
				out[bank].len += pb->digest_len;
			}
		}
	}
	return ERR_OK;
}

err_t evlog_check_pcr_values(struct evlog_pcrs *replayed,
			     const struct evlog_pcr_values expected[EVLOG_BANK_COUNT],
			     unsigned flags)
{
	for (unsigned b = 0; b < EVLOG_BANK_COUNT; b++) {
		if (expected[b].mask == 0 || !(replayed->banks & (1u << b)))
			continue;
		TRY(evlog_check_pcrs(replayed, evlog_bank_alg((enum evlog_bank)b), expected[b].mask,
				     expected[b].values, expected[b].len, flags));
	}
	return ERR_OK;
}
