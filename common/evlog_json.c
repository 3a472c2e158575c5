/* PCR values to and from JSON. */
#include "evlog_json.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "b64.h"

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
		if (bank == NULL || json_object_set_new(banks, evlog_bank_name((enum evlog_bank)b),
							bank) != 0)
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

/* "0".."23" exactly: no sign, no leading zero, no trailing bytes. */
static bool parse_pcr_key(const char *key, unsigned *pcr)
{
	unsigned v = 0;
	size_t n = strlen(key);

	if (n == 0 || n > 2 || (n == 2 && key[0] == '0'))
		return false;
	for (size_t i = 0; i < n; i++) {
		if (key[i] < '0' || key[i] > '9')
			return false;
		v = v * 10 + (unsigned)(key[i] - '0');
	}
	*pcr = v;
	return v < EVLOG_PCR_COUNT;
}

static err_t bank_from_json(enum evlog_bank bank, const char *name, const json_t *obj,
			    struct evlog_pcr_values *out)
{
	uint8_t by_pcr[EVLOG_PCR_COUNT][EVLOG_MAX_DIGEST];
	size_t n = evlog_bank_size(bank), got;
	const char *key;
	json_t *val;

	if (!json_is_object(obj))
		return err_fail(ERR_BAD_REQUEST, "pcrs.%s: not an object", name);
	json_object_foreach((json_t *)obj, key, val) {
		const char *hex = json_string_value(val);
		unsigned pcr;

		if (!parse_pcr_key(key, &pcr))
			return err_fail(ERR_BAD_REQUEST, "pcrs.%s: bad PCR index \"%.8s\"", name, key);
		if (hex == NULL || !hex_decode(hex, strlen(hex), by_pcr[pcr], n, &got) || got != n)
			return err_fail(ERR_BAD_REQUEST, "pcrs.%s.%u: not %zu bytes of hex", name, pcr,
					n);
		out->mask |= 1u << pcr;
	}
	for (unsigned pcr = 0; pcr < EVLOG_PCR_COUNT; pcr++) {
		if (out->mask & (1u << pcr)) {
			memcpy(out->values + out->len, by_pcr[pcr], n);
			out->len += n;
		}
	}
	return ERR_OK;
}

err_t evlog_pcr_values_from_json(const json_t *banks, struct evlog_pcr_values out[EVLOG_BANK_COUNT])
{
	const char *name;
	json_t *obj;

	memset(out, 0, EVLOG_BANK_COUNT * sizeof(out[0]));
	if (!json_is_object(banks))
		return err_fail(ERR_BAD_REQUEST, "pcrs: not an object");
	json_object_foreach((json_t *)banks, name, obj) {
		enum evlog_bank bank;

		if (!evlog_bank_from_name(name, &bank))
			return err_fail(ERR_BAD_REQUEST, "pcrs: unknown bank \"%.16s\"", name);
		TRY(bank_from_json(bank, name, obj, &out[bank]));
	}
	return ERR_OK;
}

err_t evlog_check_pcr_values(struct evlog_pcrs *replayed,
			     const struct evlog_pcr_values expected[EVLOG_BANK_COUNT], unsigned flags)
{
	for (unsigned b = 0; b < EVLOG_BANK_COUNT; b++) {
		if (expected[b].mask == 0 || !(replayed->banks & (1u << b)))
			continue;
		TRY(evlog_check_pcrs(replayed, evlog_bank_alg((enum evlog_bank)b), expected[b].mask,
				     expected[b].values, expected[b].len, flags));
	}
	return ERR_OK;
}
