/* PCR selections ("sha256:0,1,2", one bank) and the PCR values a client sends
 * ({"sha256": {"0": "HEX", ...}, ...}), in plain forms the quote verifier and
 * the event-log replay share. */
#ifndef ATTEST_PCRS_H
#define ATTEST_PCRS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>
#include <tss2/tss2_tpm2_types.h>

#include "err.h"

/* PC Client TPMs have 24 PCRs per bank (TCG PC Client Platform TPM
 * Profile); an index beyond is no PCR a verifier can reason about. */
#define PCR_COUNT 24

/* Banks we know: SHA-1, SHA-256, SHA-384, SHA-512. */
#define PCR_BANKS_MAX 4

/* Largest PCR value (SHA-512). */
#define PCR_DIGEST_MAX 64

/* "sha512:" and all 24 indices: 7 + 10 * 2 + 14 * 3 - 1 = 68, and a NUL. */
#define PCR_SELECTION_STR_MAX 69

/* One bank and a set of PCRs in it: bit i of mask is PCR i. */
struct pcr_selection {
	uint16_t bank; /* TPM2_ALG_SHA256, ... */
	uint32_t mask;
};

/* Parses "BANK:I,J,..." (bank sha1, sha256, sha384 or sha512; decimal
 * indices 0..23 without leading zeros, any order, each once, at least one).
 * ERR_BAD_REQUEST otherwise. */
err_t pcr_selection_parse(const char *s, struct pcr_selection *out) WARN_UNUSED;

/* Writes the canonical form, indices ascending; false if cap is too small
 * or the selection is not valid. */
bool pcr_selection_format(const struct pcr_selection *sel, char *out, size_t cap) WARN_UNUSED;

/* True when the TPM's selection list names exactly this bank and these
 * PCRs: one entry, same hash, same bits (bytes past the list's end count as
 * zero, any bit past PCR 23 makes it different). */
bool pcr_selection_equals(const struct pcr_selection *sel,
			  const TPML_PCR_SELECTION *tpm) WARN_UNUSED;

/* The values of one bank; bit i of `present` says value[i] was given. */
struct pcr_bank {
	uint16_t alg;
	size_t digest_len;
	uint32_t present;
	uint8_t value[PCR_COUNT][PCR_DIGEST_MAX];
};

struct pcr_values {
	size_t bank_count;
	struct pcr_bank banks[PCR_BANKS_MAX];
};

/* Reads the `pcrs` field: an object of banks, each an object of PCR index
 * (decimal string 0..23, no leading zeros) to value (hex of exactly the
 * bank's digest size, either case, no 0x). ERR_BAD_REQUEST, with a detail
 * naming the entry ("pcrs.sha256.7: ..."), for anything else. */
err_t pcr_values_from_json(const json_t *pcrs, struct pcr_values *out) WARN_UNUSED;

/* The bank for alg in v, or NULL. */
const struct pcr_bank *pcr_values_bank(const struct pcr_values *v, uint16_t alg);

/* "sha256" for TPM2_ALG_SHA256 ...; NULL for banks we do not know. */
const char *pcr_bank_name(uint16_t alg);

#endif
