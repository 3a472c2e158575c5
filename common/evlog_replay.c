/* Replay of a parsed event log into per-bank PCR values, and the comparison
 * of those values with the PCRs a quote signed. */
#include <stdio.h>
#include <string.h>

#include <openssl/evp.h>

#include "b64.h"
#include "evlog.h"

static const char ebs_invocation[] = "Exit Boot Services Invocation";
static const char ebs_success[] = "Exit Boot Services Returned with Success";

/* Reset values (PC Client PTP, PCR attributes): PCR 0 carries the startup
 * locality in its last byte; the DRTM PCRs 17-22 reset to all ones and only
 * a dynamic launch zeroes them; every other PCR resets to zero. */
static void initial_value(unsigned pcr, uint8_t locality, uint8_t *v, size_t n)
{
	memset(v, pcr >= 17 && pcr <= 22 ? 0xFF : 0x00, n);
	if (pcr == 0)
		v[n - 1] = locality;
}

/* v = H(v || digest), both of the bank's size. */
static bool extend(EVP_MD_CTX *ctx, const EVP_MD *md, uint8_t *v, size_t n, const uint8_t *digest)
{
	return EVP_DigestInit_ex2(ctx, md, NULL) == 1 && EVP_DigestUpdate(ctx, v, n) == 1 &&
	       EVP_DigestUpdate(ctx, digest, n) == 1 && EVP_DigestFinal_ex(ctx, v, NULL) == 1;
}

static bool extends_pcr(const struct evlog_event *ev)
{
	return ev->type != EV_NO_ACTION && ev->pcr != EVLOG_PCR_NONE;
}

static bool is_ebs_invocation(const struct evlog_event *ev)
{
	return ev->pcr == 5 && ev->type == EV_EFI_ACTION &&
	       ev->data_len == sizeof(ebs_invocation) - 1 &&
	       memcmp(ev->data, ebs_invocation, ev->data_len) == 0;
}

static err_t replay_bank(const struct evlog *log, enum evlog_bank bank, EVP_MD_CTX *ctx,
			 struct evlog_pcrs *out)
{
	size_t n = evlog_bank_size(bank), count = evlog_event_count(log);
	EVP_MD *md = EVP_MD_fetch(NULL, evlog_bank_name(bank), NULL);
	err_t rc = ERR_OK;

	if (md == NULL)
		return err_fail(ERR_INTERNAL, "OpenSSL has no %s", evlog_bank_name(bank));
	for (unsigned pcr = 0; pcr < EVLOG_PCR_COUNT; pcr++)
		initial_value(pcr, evlog_startup_locality(log), out->value[bank][pcr], n);
	for (size_t i = 0; i < count; i++) {
		const struct evlog_event *ev = evlog_event_at(log, i);

		if (!extends_pcr(ev) || ev->digest[bank] == NULL)
			continue;
		if (!extend(ctx, md, out->value[bank][ev->pcr], n, ev->digest[bank])) {
			rc = err_fail(ERR_INTERNAL, "%s extend failed", evlog_bank_name(bank));
			break;
		}
		out->extended[bank] |= 1u << ev->pcr;
	}
	EVP_MD_free(md);
	return rc;
}

err_t evlog_replay(const struct evlog *log, struct evlog_pcrs *out)
{
	return evlog_replay_banks(log, evlog_banks(log), out);
}

err_t evlog_replay_banks(const struct evlog *log, uint32_t banks, struct evlog_pcrs *out)
{
	EVP_MD_CTX *ctx;
	err_t rc = ERR_OK;

	memset(out, 0, sizeof(*out));
	banks &= evlog_banks(log);
	ctx = EVP_MD_CTX_new();
	if (ctx == NULL)
		return err_fail(ERR_INTERNAL, "out of memory");
	for (unsigned b = 0; b < EVLOG_BANK_COUNT && rc == ERR_OK; b++) {
		if (banks & (1u << b))
			rc = replay_bank(log, (enum evlog_bank)b, ctx, out);
	}
	EVP_MD_CTX_free(ctx);
	if (rc != ERR_OK)
		return rc;
	out->banks = banks;
	for (size_t i = 0; i < evlog_event_count(log); i++)
		out->exit_boot_services_logged |= is_ebs_invocation(evlog_event_at(log, i));
	return ERR_OK;
}

/* The PCR 5 value firmware that forgets to log ExitBootServices reaches:
 * the replayed value extended with both EV_EFI_ACTION strings' digests. */
static err_t pcr5_with_ebs(enum evlog_bank bank, const uint8_t *replayed, uint8_t *v)
{
	const char *actions[] = {ebs_invocation, ebs_success};
	size_t n = evlog_bank_size(bank);
	EVP_MD *md = EVP_MD_fetch(NULL, evlog_bank_name(bank), NULL);
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	uint8_t digest[EVLOG_MAX_DIGEST];
	bool ok = md != NULL && ctx != NULL;

	memcpy(v, replayed, n);
	for (size_t i = 0; ok && i < sizeof(actions) / sizeof(actions[0]); i++)
		ok = EVP_Digest(actions[i], strlen(actions[i]), digest, NULL, md, NULL) == 1 &&
		     extend(ctx, md, v, n, digest);
	EVP_MD_CTX_free(ctx);
	EVP_MD_free(md);
	return ok ? ERR_OK : err_fail(ERR_INTERNAL, "%s failed", evlog_bank_name(bank));
}

/* Hex of the first bytes only, so both values fit in an error detail. */
#define EVLOG_DETAIL_DIGEST_BYTES 16

static err_t mismatch(enum evlog_bank bank, unsigned pcr, const uint8_t *replayed,
		      const uint8_t *quoted)
{
	char r[2 * EVLOG_DETAIL_DIGEST_BYTES + 1], q[2 * EVLOG_DETAIL_DIGEST_BYTES + 1];
	size_t n = evlog_bank_size(bank);
	size_t shown = n < EVLOG_DETAIL_DIGEST_BYTES ? n : EVLOG_DETAIL_DIGEST_BYTES;

	hex_encode(replayed, shown, r);
	hex_encode(quoted, shown, q);
	return err_fail(ERR_EVENTLOG_REPLAY_MISMATCH,
			"%s PCR %u: log replays to %s%s, quote has %s%s", evlog_bank_name(bank),
			pcr, r, shown < n ? "..." : "", q, shown < n ? "..." : "");
}

err_t evlog_check_pcrs(struct evlog_pcrs *replayed, uint16_t bank_alg, uint32_t pcr_mask,
		       const uint8_t *values, size_t values_len, unsigned flags)
{
	enum evlog_bank bank;
	size_t n, k = 0;

	if (!evlog_bank_from_alg(bank_alg, &bank))
		return err_fail(ERR_EVENTLOG_INVALID, "no replay for PCR bank 0x%04x", bank_alg);
	if (!(replayed->banks & (1u << bank)))
		return err_fail(ERR_EVENTLOG_INVALID, "event log has no %s bank",
				evlog_bank_name(bank));
	if (pcr_mask >> EVLOG_PCR_COUNT)
		return err_fail(ERR_BAD_REQUEST, "PCR selection beyond PCR %d",
				EVLOG_PCR_COUNT - 1);
	n = evlog_bank_size(bank);
	if (values_len != (size_t)__builtin_popcount(pcr_mask) * n)
		return err_fail(ERR_BAD_REQUEST, "%zu bytes of quoted %s values for %d PCRs",
				values_len, evlog_bank_name(bank), __builtin_popcount(pcr_mask));
	for (unsigned pcr = 0; pcr < EVLOG_PCR_COUNT; pcr++) {
		const uint8_t *mine = replayed->value[bank][pcr];
		const uint8_t *quoted;

		if (!(pcr_mask & (1u << pcr)))
			continue;
		quoted = values + n * k++;
		if (memcmp(mine, quoted, n) == 0)
			continue;
		if (pcr == 5 && (flags & EVLOG_CHECK_ALLOW_MISSING_EBS) &&
		    !replayed->exit_boot_services_logged) {
			uint8_t fixed[EVLOG_MAX_DIGEST];

			TRY(pcr5_with_ebs(bank, mine, fixed));
			if (memcmp(fixed, quoted, n) == 0)
				continue;
		}
		return mismatch(bank, pcr, mine, quoted);
	}
	replayed->verified[bank] |= pcr_mask;
	return ERR_OK;
}
