/* PCR values as JSON, in the shape of `pcrs` in the protocol and of the
 * vectors' *.pcrs.json "banks": {"sha256": {"0": "hex", ...}, ...}. */
#ifndef ATTEST_EVLOG_JSON_H
#define ATTEST_EVLOG_JSON_H

#include <stdint.h>

#include <jansson.h>

#include "err.h"
#include "evlog.h"

/* Expected values of one bank in the form evlog_check_pcrs takes: the PCRs
 * set in `mask`, in ascending order, concatenated. */
struct evlog_pcr_values {
	uint32_t mask;
	size_t len;
	uint8_t values[EVLOG_PCR_COUNT * EVLOG_MAX_DIGEST];
};

/* {"sha1": {...}, "sha256": {...}} with the PCRs of `mask` of each replayed
 * bank; NULL when out of memory. */
json_t *evlog_pcrs_to_json(const struct evlog_pcrs *replayed, uint32_t mask);

/* Reads that shape into out[bank] (mask 0 for banks not listed). Unknown
 * bank names, PCR keys other than "0".."23", values that are not hex of
 * the bank's size: ERR_BAD_REQUEST naming the member. */
err_t evlog_pcr_values_from_json(const json_t *banks,
				 struct evlog_pcr_values out[EVLOG_BANK_COUNT]) WARN_UNUSED;

/* evlog_check_pcrs for every listed bank the log carries; banks the log
 * lacks are skipped (a SHA1-only log cannot speak for SHA-256 values). */
err_t evlog_check_pcr_values(struct evlog_pcrs *replayed,
			     const struct evlog_pcr_values expected[EVLOG_BANK_COUNT],
			     unsigned flags) WARN_UNUSED;

#endif
