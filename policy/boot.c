/* Loading the "boot" member of a policy into struct boot_policy. The shape:
 *
 *   "boot": {
 *     "bank": "sha256",                  digests below are of this bank
 *     "secure_boot": true,               SecureBoot must be measured as 1
 *     "allow_missing_exit_boot_services": false,
 *     "virtual_platform": {"RULE": false, ...},   switch a rule off (lab use)
 *     "variables": {"PK": ["HEX", ...], "KEK": [...], "db": [...], "dbx": [...]},
 *                                        allowed digests of each variable's event
 *     "certificates": {"PK": ["HEX", ...], ...},
 *                                        SHA-256 of every X.509 certificate the
 *                                        variable may hold
 *     "components": [{"name": "shimx64.efi", "digest": "HEX"}, ...],
 *                                        allowed digests of every boot component
 *     "pcrs": {"sha256": {"0": "HEX", ...}}       required replayed values
 *   }
 *
 * Every member is optional. Anything unknown or malformed is refused, so a
 * typo cannot silently drop a rule. */
#include "boot.h"

#include <stdlib.h>
#include <string.h>

#include "b64.h"
#include "boot_facts.h"
#include "boot_virtual.h"
#include "evlog_json.h"

/* Most digests one list may hold: a dbx-sized list (the 2024 UEFI dbx has
 * ~430 entries) ten times over; a policy generator gone wrong must not
 * exhaust memory. */
#define BOOT_MAX_DIGESTS 4096

static err_t bad(const char *what, const char *detail)
{
	return err_fail(ERR_BAD_REQUEST, "%s: %s", what, detail);
}

static err_t load_bool(const json_t *obj, const char *name, bool *out)
{
	const json_t *v = json_object_get(obj, name);

	if (v == NULL)
		return ERR_OK;
	if (!json_is_boolean(v))
		return bad(name, "not true or false");
	*out = json_is_true(v);
	return ERR_OK;
}

static err_t load_hex(const json_t *v, size_t n, uint8_t *out, const char *what, size_t i)
{
	const char *hex = json_string_value(v);
	size_t got;

	if (hex == NULL || !hex_decode(hex, strlen(hex), out, n, &got) || got != n)
		return err_fail(ERR_BAD_REQUEST, "%s[%zu]: not %zu bytes of hex", what, i, n);
	return ERR_OK;
}

/* A list of hex digests, or of {"name": ..., "digest": HEX} objects. */
static err_t load_digest_set(const json_t *arr, size_t n, const char *what,
			     struct boot_digest_set *out)
{
	size_t count = json_array_size(arr);

	if (!json_is_array(arr))
		return bad(what, "not an array");
	if (count > BOOT_MAX_DIGESTS)
		return err_fail(ERR_BAD_REQUEST, "%s: more than %d digests", what,
				BOOT_MAX_DIGESTS);
	out->digests = calloc(count > 0 ? count : 1, sizeof(*out->digests));
	if (out->digests == NULL)
		return err_fail(ERR_INTERNAL, "out of memory");
	out->present = true;
	out->count = count;
	for (size_t i = 0; i < count; i++) {
		const json_t *v = json_array_get(arr, i);

		if (json_is_object(v)) {
			const json_t *name = json_object_get(v, "name");

			if (json_object_size(v) != (name != NULL ? 2u : 1u) ||
			    (name != NULL && !json_is_string(name)))
				return err_fail(ERR_BAD_REQUEST,
						"%s[%zu]: want {\"name\": ..., \"digest\": HEX}",
						what, i);
			v = json_object_get(v, "digest");
		}
		TRY(load_hex(v, n, out->digests[i], what, i));
	}
	return ERR_OK;
}

/* {"PK": [...], "KEK": [...], "db": [...], "dbx": [...]}, each optional. */
static err_t load_var_sets(const json_t *obj, const char *member, size_t n,
			   struct boot_digest_set sets[BOOT_VAR_COUNT])
{
	const char *key;
	json_t *val;

	if (obj == NULL)
		return ERR_OK;
	if (!json_is_object(obj))
		return bad(member, "not an object");
	json_object_foreach((json_t *)obj, key, val)
	{
		char what[64];
		unsigned v;

		for (v = 0; v < BOOT_VAR_COUNT; v++) {
			if (strcmp(key, boot_var_name((enum boot_var)v)) == 0)
				break;
		}
		snprintf(what, sizeof(what), "%s.%.16s", member, key);
		if (v == BOOT_VAR_COUNT)
			return bad(what, "not PK, KEK, db or dbx");
		TRY(load_digest_set(val, n, what, &sets[v]));
	}
	return ERR_OK;
}

static err_t load_virtual_rules(const json_t *obj, uint32_t *off)
{
	const char *key;
	json_t *val;

	if (obj == NULL)
		return ERR_OK;
	if (!json_is_object(obj))
		return bad("virtual_platform", "not an object");
	json_object_foreach((json_t *)obj, key, val)
	{
		enum boot_virtual_rule rule;

		if (!boot_virtual_rule_from_name(key, &rule))
			return err_fail(ERR_BAD_REQUEST, "virtual_platform.%.32s: no such rule",
					key);
		if (!json_is_boolean(val))
			return err_fail(ERR_BAD_REQUEST, "virtual_platform.%s: not true or false",
					key);
		if (json_is_false(val))
			*off |= 1u << rule;
		else
			*off &= ~(1u << rule);
	}
	return ERR_OK;
}

static err_t load_pcrs(const json_t *obj, struct boot_policy *out)
{
	return obj == NULL ? ERR_OK : evlog_pcr_values_from_json(obj, out->pcrs);
}

static const char *const known_members[] = {
    "bank",
    "secure_boot",
    "allow_missing_exit_boot_services",
    "virtual_platform",
    "variables",
    "certificates",
    "components",
    "pcrs",
};

static err_t check_members(const json_t *obj)
{
	const char *key;
	json_t *val;

	json_object_foreach((json_t *)obj, key, val)
	{
		bool known = false;

		for (size_t i = 0; i < sizeof(known_members) / sizeof(known_members[0]); i++)
			known |= strcmp(key, known_members[i]) == 0;
		if (!known)
			return err_fail(ERR_BAD_REQUEST, "%.32s: unknown member", key);
	}
	return ERR_OK;
}

static err_t load_members(const json_t *obj, struct boot_policy *out)
{
	const json_t *bank = json_object_get(obj, "bank");
	const json_t *components = json_object_get(obj, "components");
	size_t n;

	TRY(check_members(obj));
	if (bank != NULL && !evlog_bank_from_name(json_string_value(bank), &out->bank))
		return bad("bank", "not sha1, sha256, sha384 or sha512");
	n = evlog_bank_size(out->bank);
	TRY(load_bool(obj, "secure_boot", &out->require_secure_boot));
	TRY(load_bool(obj, "allow_missing_exit_boot_services", &out->allow_missing_ebs));
	TRY(load_virtual_rules(json_object_get(obj, "virtual_platform"), &out->virtual_rules_off));
	TRY(load_var_sets(json_object_get(obj, "variables"), "variables", n, out->variables));
	/* Certificate fingerprints are SHA-256 whatever the bank. */
	TRY(load_var_sets(json_object_get(obj, "certificates"), "certificates", 32,
			  out->certificates));
	if (components != NULL)
		TRY(load_digest_set(components, n, "components", &out->components));
	return load_pcrs(json_object_get(obj, "pcrs"), out);
}

err_t boot_policy_load(const json_t *obj, struct boot_policy *out)
{
	err_t rc;

	memset(out, 0, sizeof(*out));
	out->bank = EVLOG_BANK_SHA256;
	out->require_secure_boot = true;
	if (!json_is_object(obj))
		return err_fail(ERR_BAD_REQUEST, "not an object");
	rc = load_members(obj, out);
	if (rc != ERR_OK)
		boot_policy_free(out);
	return rc;
}

void boot_policy_free(struct boot_policy *p)
{
	if (p == NULL)
		return;
	for (unsigned v = 0; v < BOOT_VAR_COUNT; v++) {
		free(p->variables[v].digests);
		free(p->certificates[v].digests);
	}
	free(p->components.digests);
	memset(p, 0, sizeof(*p));
}

unsigned boot_policy_check_flags(const struct boot_policy *p)
{
	return p->allow_missing_ebs ? EVLOG_CHECK_ALLOW_MISSING_EBS : 0;
}
