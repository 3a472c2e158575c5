/* Evaluating a boot policy on a replayed, quote-checked event log. Facts
 * come only from events in PCRs the quote confirmed, and facts read from
 * event data only where the digest covers that data, so a log cannot
 * claim what the TPM did not measure. Rules, each named in the refusal:
 *
 * secure_boot        the SecureBoot variable (PCR 7) is measured once, as 1
 * variables.V        the digest of variable V's event (PK, KEK, db, dbx) is
 *                    one of the allowed ones
 * certificates.V     every X.509 certificate in V is on the allow-list
 *                    (SHA-256 of the DER)
 * components         every boot component (boot applications in PCR 4,
 *                    kernel/initrd files in PCR 9) has an allowed digest
 * pcrs               the required PCRs replayed to the required values
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <openssl/evp.h>

#include "b64.h"
#include "boot.h"
#include "boot_facts.h"
#include "boot_virtual.h"
#include "efi_siglist.h"
#include "evlog_decode.h"

/* Digest prefix shown in a refusal: enough to find it, short enough to fit. */
#define BOOT_DETAIL_DIGEST_BYTES 12

/* Room for a component's description in a refusal. */
#define BOOT_DETAIL_TEXT_MAX 72

__attribute__((format(printf, 2, 3))) static err_t violation(const char *rule, const char *fmt, ...)
{
	char what[ERR_DETAIL_MAX];
	va_list ap;

	va_start(ap, fmt);
	(void)vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	return err_fail(ERR_POLICY_VIOLATION, "rule %s: %s", rule, what);
}

static void short_hex(const uint8_t *p, char out[2 * BOOT_DETAIL_DIGEST_BYTES + 1])
{
	hex_encode(p, BOOT_DETAIL_DIGEST_BYTES, out);
}

static bool in_set(const struct boot_digest_set *set, const uint8_t *digest, size_t n)
{
	for (size_t i = 0; i < set->count; i++) {
		if (memcmp(set->digests[i], digest, n) == 0)
			return true;
	}
	return false;
}

/* A bank in which the event is confirmed by the quote, the policy's first. */
static bool confirmed_bank(const struct boot_policy *p, const struct evlog_pcrs *replayed,
			   const struct evlog_event *ev, enum evlog_bank *bank)
{
	if (boot_event_verified(replayed, ev, p->bank)) {
		*bank = p->bank;
		return true;
	}
	for (unsigned b = 0; b < EVLOG_BANK_COUNT; b++) {
		if (boot_event_verified(replayed, ev, (enum evlog_bank)b)) {
			*bank = (enum evlog_bank)b;
			return true;
		}
	}
	return false;
}

/* The one measurement of a PCR 7 variable: none or several is a refusal. */
static err_t one_config_var(const struct evlog *log, const char *rule, const char *name,
			    const struct evlog_event **ev, size_t *index)
{
	size_t count;

	*ev = boot_find_config_var(log, name, index, &count);
	if (*ev == NULL)
		return violation(rule, "no %s measurement in PCR 7", name);
	if (count > 1)
		return violation(rule, "%s is measured %zu times", name, count);
	return ERR_OK;
}

/* The one trusted, data-bound measurement of a PCR 7 variable. */
static err_t trusted_config_var(const struct boot_policy *p, const struct evlog *log,
				const struct evlog_pcrs *replayed, const char *rule,
				const char *name, struct efi_variable *var, size_t *index)
{
	const struct evlog_event *ev;
	enum evlog_bank bank;

	TRY(one_config_var(log, rule, name, &ev, index));
	if (!confirmed_bank(p, replayed, ev, &bank))
		return violation(rule, "PCR 7 was not checked against the quote");
	if (!boot_event_data_bound(ev, bank) || !evlog_decode_variable(ev, var))
		return violation(rule, "event %zu's data is not what its digest measured", *index);
	return ERR_OK;
}

static err_t eval_secure_boot(const struct boot_policy *p, const struct evlog *log,
			      const struct evlog_pcrs *replayed)
{
	struct efi_variable var;
	size_t index;

	TRY(trusted_config_var(p, log, replayed, "secure_boot", "SecureBoot", &var, &index));
	if (var.data_len != 1 || var.data[0] != 1)
		return violation("secure_boot", "Secure Boot is off (SecureBoot %s%02x, event %zu)",
				 var.data_len == 0 ? "empty" : "=",
				 var.data_len == 0 ? 0 : var.data[0], index);
	return ERR_OK;
}

static err_t eval_variable_digest(const struct boot_policy *p, const struct evlog *log,
				  const struct evlog_pcrs *replayed, enum boot_var v)
{
	char rule[32], hex[2 * BOOT_DETAIL_DIGEST_BYTES + 1];
	const char *name = boot_var_name(v);
	const struct evlog_event *ev;
	size_t index;

	snprintf(rule, sizeof(rule), "variables.%s", name);
	TRY(one_config_var(log, rule, name, &ev, &index));
	if (!boot_event_verified(replayed, ev, p->bank))
		return violation(rule, "%s PCR 7 was not checked against the quote",
				 evlog_bank_name(p->bank));
	if (!in_set(&p->variables[v], ev->digest[p->bank], evlog_bank_size(p->bank))) {
		short_hex(ev->digest[p->bank], hex);
		return violation(rule, "%s digest %s... is not allowed (event %zu)", name, hex,
				 index);
	}
	return ERR_OK;
}

static err_t eval_certificates(const struct boot_policy *p, const struct evlog *log,
			       const struct evlog_pcrs *replayed, enum boot_var v)
{
	char rule[32], hex[2 * BOOT_DETAIL_DIGEST_BYTES + 1];
	struct efi_siglist_iter it;
	struct efi_signature sig;
	struct efi_variable var;
	enum efi_siglist_step step;
	size_t index;

	snprintf(rule, sizeof(rule), "certificates.%s", boot_var_name(v));
	TRY(trusted_config_var(p, log, replayed, rule, boot_var_name(v), &var, &index));
	efi_siglist_begin(&it, var.data, var.data_len);
	while ((step = efi_siglist_next(&it, &sig)) == EFI_SIGLIST_NEXT) {
		uint8_t fp[32];

		if (memcmp(sig.type, efi_cert_x509_guid, 16) != 0)
			continue;
		if (EVP_Digest(sig.data, sig.len, fp, NULL, EVP_sha256(), NULL) != 1)
			return err_fail(ERR_INTERNAL, "SHA-256 failed");
		if (!in_set(&p->certificates[v], fp, sizeof(fp))) {
			short_hex(fp, hex);
			return violation(rule, "certificate %s... is not allowed (event %zu)", hex,
					 index);
		}
	}
	if (step == EFI_SIGLIST_MALFORMED)
		return violation(rule, "malformed signature list (event %zu)", index);
	return ERR_OK;
}

static err_t eval_components(const struct boot_policy *p, const struct evlog *log,
			     const struct evlog_pcrs *replayed)
{
	size_t n = evlog_bank_size(p->bank);

	for (size_t i = 0; i < evlog_event_count(log); i++) {
		const struct evlog_event *ev = evlog_event_at(log, i);
		char hex[2 * BOOT_DETAIL_DIGEST_BYTES + 1], text[BOOT_DETAIL_TEXT_MAX];

		if (!boot_is_component(ev))
			continue;
		if (!boot_event_verified(replayed, ev, p->bank))
			return violation("components",
					 "%s PCR %u was not checked against the quote",
					 evlog_bank_name(p->bank), ev->pcr);
		if (in_set(&p->components, ev->digest[p->bank], n))
			continue;
		short_hex(ev->digest[p->bank], hex);
		evlog_describe(ev, text, sizeof(text));
		return violation("components", "%s... is not allowed: %s (event %zu)", hex, text,
				 i);
	}
	return ERR_OK;
}

static err_t eval_pcrs(const struct boot_policy *p, const struct evlog_pcrs *replayed)
{
	for (unsigned b = 0; b < EVLOG_BANK_COUNT; b++) {
		const struct evlog_pcr_values *want = &p->pcrs[b];
		const char *bank = evlog_bank_name((enum evlog_bank)b);
		size_t n = evlog_bank_size((enum evlog_bank)b), k = 0;

		if (want->mask == 0)
			continue;
		if (!(replayed->banks & (1u << b)))
			return violation("pcrs", "the event log has no %s bank", bank);
		for (unsigned pcr = 0; pcr < EVLOG_PCR_COUNT; pcr++) {
			char have_hex[2 * BOOT_DETAIL_DIGEST_BYTES + 1];
			char want_hex[2 * BOOT_DETAIL_DIGEST_BYTES + 1];
			const uint8_t *wanted;

			if (!(want->mask & (1u << pcr)))
				continue;
			wanted = want->values + n * k++;
			if (!(replayed->verified[b] & (1u << pcr)))
				return violation("pcrs",
						 "%s PCR %u was not checked against the quote",
						 bank, pcr);
			if (memcmp(replayed->value[b][pcr], wanted, n) == 0)
				continue;
			short_hex(replayed->value[b][pcr], have_hex);
			short_hex(wanted, want_hex);
			return violation("pcrs", "%s PCR %u is %s..., policy wants %s...", bank,
					 pcr, have_hex, want_hex);
		}
	}
	return ERR_OK;
}

err_t boot_policy_eval(const struct boot_policy *p, const struct evlog *log,
		       const struct evlog_pcrs *replayed)
{
	TRY(boot_virtual_check(log, p->virtual_rules_off));
	if (p->require_secure_boot)
		TRY(eval_secure_boot(p, log, replayed));
	for (unsigned v = 0; v < BOOT_VAR_COUNT; v++) {
		if (p->variables[v].present)
			TRY(eval_variable_digest(p, log, replayed, (enum boot_var)v));
		if (p->certificates[v].present)
			TRY(eval_certificates(p, log, replayed, (enum boot_var)v));
	}
	if (p->components.present)
		TRY(eval_components(p, log, replayed));
	return eval_pcrs(p, replayed);
}
