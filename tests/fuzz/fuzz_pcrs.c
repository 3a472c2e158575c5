/* Feeds outside bytes to the two PCR parsers: as JSON to the `pcrs` field
 * reader, and as a string to the selection parser, whose canonical form
 * must parse back to the same selection. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pcrs.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Longer than any selection string: the parser must refuse, not cut. */
#define FUZZ_SELECTION_MAX 256

static void selection(const uint8_t *data, size_t size)
{
	char text[FUZZ_SELECTION_MAX + 1], canonical[PCR_SELECTION_STR_MAX];
	struct pcr_selection sel, again;

	if (size > FUZZ_SELECTION_MAX)
		return;
	memcpy(text, data, size);
	text[size] = '\0';
	if (pcr_selection_parse(text, &sel) != ERR_OK)
		return;
	if (sel.mask == 0 || (sel.mask >> PCR_COUNT) != 0 ||
	    !pcr_selection_format(&sel, canonical, sizeof(canonical)) ||
	    pcr_selection_parse(canonical, &again) != ERR_OK || again.bank != sel.bank ||
	    again.mask != sel.mask)
		abort();
}

static void values(const uint8_t *data, size_t size)
{
	json_t *j = json_loadb((const char *)data, size, 0, NULL);
	struct pcr_values v;

	if (j == NULL)
		return;
	if (pcr_values_from_json(j, &v) == ERR_OK) {
		if (v.bank_count > PCR_BANKS_MAX)
			abort();
		for (size_t i = 0; i < v.bank_count; i++) {
			if ((v.banks[i].present >> PCR_COUNT) != 0 ||
			    v.banks[i].digest_len > PCR_DIGEST_MAX)
				abort();
		}
	}
	json_decref(j);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	selection(data, size);
	values(data, size);
	return 0;
}
