/* TCG PC Client event-log parser: reads both log formats through a bounded
 * cursor into an owning table of events that point into a private copy of
 * the bytes. Every length is checked against what remains and a named cap
 * before it is used; any inconsistency ends parsing with the event index and
 * byte offset in the error detail. */
#include "evlog.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "abuf.h"

/* Size of the SHA1 digest in the legacy TCG_PCClientPCREvent header. */
#define EVLOG_LEGACY_DIGEST_SIZE 20

/* First capacity of the event table; doubled up to EVLOG_MAX_EVENTS. Most
 * firmware logs fit without a reallocation. */
#define EVLOG_INITIAL_EVENTS 128

static const uint8_t spec_id_event03[16] = "Spec ID Event03";
static const uint8_t startup_locality_sig[16] = "StartupLocality";

struct evlog {
	uint8_t *bytes; /* private copy: events point into it */
	size_t len;
	enum evlog_format format;
	uint32_t banks;
	uint8_t startup_locality;
	size_t count, cap;
	struct evlog_event *events;
};

static const struct {
	const char *name; /* our name, the JSON key and OpenSSL's digest name */
	uint16_t alg;	  /* TPM2_ALG_ID */
	size_t size;
} bank_info[EVLOG_BANK_COUNT] = {
    [EVLOG_BANK_SHA1] = {"sha1", 0x0004, 20},
    [EVLOG_BANK_SHA256] = {"sha256", 0x000B, 32},
    [EVLOG_BANK_SHA384] = {"sha384", 0x000C, 48},
    [EVLOG_BANK_SHA512] = {"sha512", 0x000D, 64},
};

struct evlog_alg {
	uint16_t alg;
	uint16_t size;
	int bank; /* enum evlog_bank, or -1 for an algorithm we only skip */
};

/* State of one parse: the cursor, where the current event began, and what
 * the Spec ID event declared. */
struct evlog_parser {
	struct evlog *log;
	struct abuf in;
	size_t index;
	size_t offset;
	size_t n_algs;
	struct evlog_alg algs[EVLOG_MAX_ALGORITHMS];
	bool pcr0_extended;
	bool locality_seen;
};

__attribute__((format(printf, 2, 3))) static err_t invalid(const struct evlog_parser *ps,
							   const char *fmt, ...)
{
	char what[ERR_DETAIL_MAX];
	va_list ap;

	va_start(ap, fmt);
	(void)vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	return err_fail(ERR_EVENTLOG_INVALID, "event %zu at offset %zu: %s", ps->index, ps->offset,
			what);
}

static err_t read_event_data(struct evlog_parser *ps, struct evlog_event *ev)
{
	uint32_t size;

	if (!abuf_u32le(&ps->in, &size))
		return invalid(ps, "truncated event size");
	if (size > EVLOG_MAX_EVENT_SIZE)
		return invalid(ps, "event data of %u bytes exceeds the cap of %zu", size,
			       EVLOG_MAX_EVENT_SIZE);
	if (!abuf_bytes(&ps->in, size, &ev->data))
		return invalid(ps, "event data of %u bytes runs past the end of the log", size);
	ev->data_len = size;
	return ERR_OK;
}

static err_t read_legacy_event(struct evlog_parser *ps, struct evlog_event *ev,
			       const uint8_t **sha1)
{
	if (!abuf_u32le(&ps->in, &ev->pcr) || !abuf_u32le(&ps->in, &ev->type) ||
	    !abuf_bytes(&ps->in, EVLOG_LEGACY_DIGEST_SIZE, sha1))
		return invalid(ps, "truncated event header");
	return read_event_data(ps, ev);
}

static const struct evlog_alg *find_alg(const struct evlog_parser *ps, uint16_t alg, size_t *idx)
{
	for (size_t i = 0; i < ps->n_algs; i++) {
		if (ps->algs[i].alg == alg) {
			*idx = i;
			return &ps->algs[i];
		}
	}
	return NULL;
}

/* TCG_EfiSpecIdEvent (PC Client PFP 10.4.5.1): declares the digest
 * algorithms and sizes of every following TCG_PCR_EVENT2. */
static err_t read_spec_id(struct evlog_parser *ps, const struct evlog_event *ev)
{
	struct abuf b;
	uint32_t platform_class, n_algs;
	uint8_t minor, major, errata, uintn_size, vendor_size;

	abuf_init(&b, ev->data, ev->data_len);
	if (!abuf_skip(&b, sizeof(spec_id_event03)) || !abuf_u32le(&b, &platform_class) ||
	    !abuf_u8(&b, &minor) || !abuf_u8(&b, &major) || !abuf_u8(&b, &errata) ||
	    !abuf_u8(&b, &uintn_size) || !abuf_u32le(&b, &n_algs))
		return invalid(ps, "truncated Spec ID event");
	if (n_algs == 0 || n_algs > EVLOG_MAX_ALGORITHMS)
		return invalid(ps, "Spec ID event declares %u algorithms", n_algs);
	for (uint32_t i = 0; i < n_algs; i++) {
		struct evlog_alg *a = &ps->algs[i];
		enum evlog_bank bank;
		size_t dup;

		if (!abuf_u16le(&b, &a->alg) || !abuf_u16le(&b, &a->size))
			return invalid(ps, "truncated Spec ID algorithm list");
		if (find_alg(ps, a->alg, &dup) != NULL)
			return invalid(ps, "Spec ID event declares algorithm 0x%04x twice", a->alg);
		a->bank = -1;
		if (evlog_bank_from_alg(a->alg, &bank)) {
			if (a->size != evlog_bank_size(bank))
				return invalid(ps, "Spec ID event gives %s a size of %u",
					       evlog_bank_name(bank), a->size);
			a->bank = (int)bank;
			ps->log->banks |= 1u << bank;
		}
		ps->n_algs = i + 1;
	}
	if (!abuf_u8(&b, &vendor_size) || !abuf_skip(&b, vendor_size) || !abuf_expect_end(&b))
		return invalid(ps, "Spec ID vendor info does not match the event size");
	return ERR_OK;
}

/* TCG_PCR_EVENT2: digests of algorithms the Spec ID event declared, each at
 * most once. Usually all of them; Windows logs events it extended into only
 * some banks (TPM2_PCR_Extend takes any subset), and a bank without a digest
 * in an event was not extended by it. */
static err_t read_agile_event(struct evlog_parser *ps, struct evlog_event *ev)
{
	bool seen[EVLOG_MAX_ALGORITHMS] = {false};
	uint32_t count;

	if (!abuf_u32le(&ps->in, &ev->pcr) || !abuf_u32le(&ps->in, &ev->type) ||
	    !abuf_u32le(&ps->in, &count))
		return invalid(ps, "truncated event header");
	if (count > ps->n_algs)
		return invalid(ps, "event has %u digests, the Spec ID event declares %zu", count,
			       ps->n_algs);
	for (uint32_t i = 0; i < count; i++) {
		const struct evlog_alg *a;
		const uint8_t *digest;
		uint16_t alg;
		size_t idx;

		if (!abuf_u16le(&ps->in, &alg))
			return invalid(ps, "truncated digest list");
		a = find_alg(ps, alg, &idx);
		if (a == NULL)
			return invalid(
			    ps, "digest algorithm 0x%04x not declared by the Spec ID event", alg);
		if (seen[idx])
			return invalid(ps, "two digests of algorithm 0x%04x", alg);
		seen[idx] = true;
		if (!abuf_bytes(&ps->in, a->size, &digest))
			return invalid(ps, "truncated digest of algorithm 0x%04x", alg);
		if (a->bank >= 0)
			ev->digest[a->bank] = digest;
	}
	return read_event_data(ps, ev);
}

static bool data_starts_with(const struct evlog_event *ev, const uint8_t sig[16])
{
	return ev->data_len >= 16 && memcmp(ev->data, sig, 16) == 0;
}

/* Checks what replay relies on: PCR indices in range, and a StartupLocality
 * that comes once, in PCR 0, before anything is extended into PCR 0. */
static err_t check_event(struct evlog_parser *ps, const struct evlog_event *ev)
{
	if (ev->pcr >= EVLOG_PCR_COUNT && ev->pcr != EVLOG_PCR_NONE)
		return invalid(ps, "PCR index %u out of range", ev->pcr);
	if (ev->type == EV_NO_ACTION && data_starts_with(ev, startup_locality_sig)) {
		if (ev->data_len != sizeof(startup_locality_sig) + 1 || ev->pcr != 0)
			return invalid(ps, "malformed StartupLocality event");
		if (ps->locality_seen || ps->pcr0_extended)
			return invalid(ps, "StartupLocality after PCR 0 was set");
		ps->locality_seen = true;
		ps->log->startup_locality = ev->data[sizeof(startup_locality_sig)];
	} else if (ev->type != EV_NO_ACTION && ev->pcr == 0) {
		ps->pcr0_extended = true;
	}
	return ERR_OK;
}

static err_t append_event(struct evlog_parser *ps, const struct evlog_event *ev)
{
	struct evlog *log = ps->log;

	if (log->count == log->cap) {
		size_t cap = log->cap == 0 ? EVLOG_INITIAL_EVENTS : log->cap * 2;
		struct evlog_event *grown;

		if (cap > EVLOG_MAX_EVENTS)
			cap = EVLOG_MAX_EVENTS;
		if (log->count == cap)
			return invalid(ps, "more than %d events", EVLOG_MAX_EVENTS);
		grown = realloc(log->events, cap * sizeof(*grown));
		if (grown == NULL)
			return err_fail(ERR_INTERNAL, "out of memory for %zu events", cap);
		log->events = grown;
		log->cap = cap;
	}
	log->events[log->count++] = *ev;
	return ERR_OK;
}

static err_t parse_events(struct evlog_parser *ps)
{
	struct evlog_event ev = {0};
	const uint8_t *sha1;

	/* The first event is always in the legacy format: either a real SHA1
	 * event or the Spec ID event that switches to the crypto-agile one. */
	TRY(read_legacy_event(ps, &ev, &sha1));
	if (ev.type == EV_NO_ACTION && ev.pcr == 0 && data_starts_with(&ev, spec_id_event03)) {
		ps->log->format = EVLOG_FORMAT_CRYPTO_AGILE;
		TRY(read_spec_id(ps, &ev));
	} else {
		ps->log->format = EVLOG_FORMAT_LEGACY_SHA1;
		ps->log->banks = 1u << EVLOG_BANK_SHA1;
		ev.digest[EVLOG_BANK_SHA1] = sha1;
	}
	for (;;) {
		TRY(check_event(ps, &ev));
		TRY(append_event(ps, &ev));
		if (abuf_remaining(&ps->in) == 0)
			return ERR_OK;
		memset(&ev, 0, sizeof(ev));
		ps->index++;
		ps->offset = ps->in.off;
		ev.offset = ps->offset;
		if (ps->log->format == EVLOG_FORMAT_CRYPTO_AGILE) {
			TRY(read_agile_event(ps, &ev));
		} else {
			TRY(read_legacy_event(ps, &ev, &sha1));
			ev.digest[EVLOG_BANK_SHA1] = sha1;
		}
	}
}

err_t evlog_parse(const uint8_t *bytes, size_t len, struct evlog **out)
{
	struct evlog_parser ps = {0};
	struct evlog *log;
	err_t rc;

	*out = NULL;
	if (bytes == NULL || len == 0)
		return err_fail(ERR_EVENTLOG_INVALID, "event log is empty");
	if (len > EVLOG_MAX_SIZE)
		return err_fail(ERR_EVENTLOG_INVALID,
				"event log of %zu bytes exceeds the cap of %zu", len,
				EVLOG_MAX_SIZE);
	log = calloc(1, sizeof(*log));
	if (log == NULL)
		return err_fail(ERR_INTERNAL, "out of memory");
	log->bytes = malloc(len);
	if (log->bytes == NULL) {
		free(log);
		return err_fail(ERR_INTERNAL, "out of memory for a %zu-byte log", len);
	}
	memcpy(log->bytes, bytes, len);
	log->len = len;
	ps.log = log;
	abuf_init(&ps.in, log->bytes, len);
	TRY_OUT(rc, parse_events(&ps));
	*out = log;
	return ERR_OK;
out:
	evlog_free(log);
	return rc;
}

void evlog_free(struct evlog *log)
{
	if (log == NULL)
		return;
	free(log->events);
	free(log->bytes);
	free(log);
}

enum evlog_format evlog_format(const struct evlog *log)
{
	return log->format;
}

uint32_t evlog_banks(const struct evlog *log)
{
	return log->banks;
}

size_t evlog_event_count(const struct evlog *log)
{
	return log->count;
}

const struct evlog_event *evlog_event_at(const struct evlog *log, size_t i)
{
	return i < log->count ? &log->events[i] : NULL;
}

uint8_t evlog_startup_locality(const struct evlog *log)
{
	return log->startup_locality;
}

const char *evlog_bank_name(enum evlog_bank bank)
{
	return (unsigned)bank < EVLOG_BANK_COUNT ? bank_info[bank].name : "unknown";
}

size_t evlog_bank_size(enum evlog_bank bank)
{
	return (unsigned)bank < EVLOG_BANK_COUNT ? bank_info[bank].size : 0;
}

uint16_t evlog_bank_alg(enum evlog_bank bank)
{
	return (unsigned)bank < EVLOG_BANK_COUNT ? bank_info[bank].alg : 0;
}

bool evlog_bank_from_alg(uint16_t alg, enum evlog_bank *out)
{
	for (unsigned b = 0; b < EVLOG_BANK_COUNT; b++) {
		if (bank_info[b].alg == alg) {
			*out = (enum evlog_bank)b;
			return true;
		}
	}
	return false;
}

bool evlog_bank_from_name(const char *name, enum evlog_bank *out)
{
	for (unsigned b = 0; b < EVLOG_BANK_COUNT; b++) {
		if (name != NULL && strcmp(bank_info[b].name, name) == 0) {
			*out = (enum evlog_bank)b;
			return true;
		}
	}
	return false;
}
