/* PCR selection strings, the TPM's selection lists and client PCR values. */
#include "pcrs.h"

#include <stdio.h>
#include <string.h>

#include "b64.h"
#include "tpm_crypto.h"

static const struct {
	const char *name;
	uint16_t alg;
} pcr_banks[PCR_BANKS_MAX] = {
    {"sha1", TPM2_ALG_SHA1},
    {"sha256", TPM2_ALG_SHA256},
    {"sha384", TPM2_ALG_SHA384},
    {"sha512", TPM2_ALG_SHA512},
};

static bool bank_from_name(const char *name, size_t len, uint16_t *alg)
{
	for (size_t i = 0; i < PCR_BANKS_MAX; i++) {
		if (strlen(pcr_banks[i].name) == len && memcmp(pcr_banks[i].name, name, len) == 0) {
			*alg = pcr_banks[i].alg;
			return true;
		}
	}
	return false;
}

const char *pcr_bank_name(uint16_t alg)
{
	for (size_t i = 0; i < PCR_BANKS_MAX; i++) {
		if (pcr_banks[i].alg == alg)
			return pcr_banks[i].name;
	}
	return NULL;
}

/* A PCR index: "0" to "23", decimal, no sign, no leading zero, so that each
 * PCR has one spelling and "007" cannot pass for "7" beside it. */
static bool index_parse(const char *s, size_t len, unsigned *out)
{
	unsigned v = 0;

	if (len == 0 || len > 2 || (len == 2 && s[0] == '0'))
		return false;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (unsigned)(s[i] - '0');
	}
	if (v >= PCR_COUNT)
		return false;
	*out = v;
	return true;
}

err_t pcr_selection_parse(const char *s, struct pcr_selection *out)
{
	const char *colon = strchr(s, ':'), *item;
	uint32_t mask = 0;

	if (colon == NULL || !bank_from_name(s, (size_t)(colon - s), &out->bank))
		return err_fail(ERR_BAD_REQUEST, "pcr selection \"%.40s\": unknown bank", s);
	item = colon + 1;
	for (;;) {
		const char *comma = strchr(item, ',');
		size_t len = comma != NULL ? (size_t)(comma - item) : strlen(item);
		unsigned index;

		if (!index_parse(item, len, &index))
			return err_fail(ERR_BAD_REQUEST, "pcr selection \"%.40s\": bad PCR index",
					s);
		if (mask & (UINT32_C(1) << index))
			return err_fail(ERR_BAD_REQUEST, "pcr selection \"%.40s\": PCR %u twice", s,
					index);
		mask |= UINT32_C(1) << index;
		if (comma == NULL)
			break;
		item = comma + 1;
	}
	out->mask = mask;
	return ERR_OK;
}

static bool mask_valid(uint32_t mask)
{
	return mask != 0 && (mask >> PCR_COUNT) == 0;
}

bool pcr_selection_format(const struct pcr_selection *sel, char *out, size_t cap)
{
	const char *name = pcr_bank_name(sel->bank);
	size_t len;
	int n;

	if (name == NULL || !mask_valid(sel->mask))
		return false;
	n = snprintf(out, cap, "%s:", name);
	if (n < 0 || (size_t)n >= cap)
		return false;
	len = (size_t)n;
	for (unsigned i = 0; i < PCR_COUNT; i++) {
		if ((sel->mask & (UINT32_C(1) << i)) == 0)
			continue;
		n = snprintf(out + len, cap - len, "%s%u", out[len - 1] == ':' ? "" : ",", i);
		if (n < 0 || (size_t)n >= cap - len)
			return false;
		len += (size_t)n;
	}
	return true;
}

bool pcr_selection_equals(const struct pcr_selection *sel, const TPML_PCR_SELECTION *tpm)
{
	const TPMS_PCR_SELECTION *entry = &tpm->pcrSelections[0];
	uint32_t mask = 0;

	if (tpm->count != 1 || entry->hash != sel->bank ||
	    entry->sizeofSelect > sizeof(entry->pcrSelect))
		return false;
	/* sizeofSelect <= 4 bytes, so the whole bitmap fits in 32 bits. */
	for (size_t i = 0; i < entry->sizeofSelect; i++)
		mask |= (uint32_t)entry->pcrSelect[i] << (8 * i);
	return mask == sel->mask;
}

const struct pcr_bank *pcr_values_bank(const struct pcr_values *v, uint16_t alg)
{
	for (size_t i = 0; i < v->bank_count; i++) {
		if (v->banks[i].alg == alg)
			return &v->banks[i];
	}
	return NULL;
}

static err_t bank_from_json(const char *name, const json_t *values, struct pcr_bank *bank)
{
	const char *key;
	size_t key_len;
	json_t *value;

	if (!json_is_object(values))
		return err_fail(ERR_BAD_REQUEST, "pcrs.%s: not an object", name);
	/* Key lengths come from jansson, so "7\u0000x" is no second PCR 7. */
	json_object_keylen_foreach((json_t *)values, key, key_len, value)
	{
		unsigned index;
		size_t got = 0;
		const char *hex = json_string_value(value);

		if (!index_parse(key, key_len, &index))
			return err_fail(ERR_BAD_REQUEST, "pcrs.%s.%.8s: not a PCR index 0..23",
					name, key);
		if (hex == NULL)
			return err_fail(ERR_BAD_REQUEST, "pcrs.%s.%u: not a string", name, index);
		if (json_string_length(value) != 2 * bank->digest_len ||
		    !hex_decode(hex, json_string_length(value), bank->value[index],
				sizeof(bank->value[index]), &got) ||
		    got != bank->digest_len)
			return err_fail(ERR_BAD_REQUEST, "pcrs.%s.%u: not %zu bytes of hex", name,
					index, bank->digest_len);
		if (bank->present & (UINT32_C(1) << index))
			return err_fail(ERR_BAD_REQUEST, "pcrs.%s.%u: given twice", name, index);
		bank->present |= UINT32_C(1) << index;
	}
	return ERR_OK;
}

err_t pcr_values_from_json(const json_t *pcrs, struct pcr_values *out)
{
	const char *name;
	size_t name_len;
	json_t *values;

	memset(out, 0, sizeof(*out));
	if (!json_is_object(pcrs))
		return err_fail(ERR_BAD_REQUEST, "pcrs: not an object");
	json_object_keylen_foreach((json_t *)pcrs, name, name_len, values)
	{
		struct pcr_bank *bank;
		uint16_t alg;

		if (!bank_from_name(name, name_len, &alg))
			return err_fail(ERR_BAD_REQUEST, "pcrs.%.16s: unknown bank", name);
		/* Each known name once, so at most PCR_BANKS_MAX banks. */
		if (pcr_values_bank(out, alg) != NULL || out->bank_count == PCR_BANKS_MAX)
			return err_fail(ERR_BAD_REQUEST, "pcrs.%s: bank twice", name);
		bank = &out->banks[out->bank_count++];
		bank->alg = alg;
		bank->digest_len = tpm_hash_size(alg);
		TRY(bank_from_json(name, values, bank));
	}
	return ERR_OK;
}
