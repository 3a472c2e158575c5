/* Policy loading: strict JSON to the model in policy.h, with the EK trust
 * store and virtual-TPM rules built once here (not per request). */
#include "policy.h"

#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ek_cache.h"
#include "fileio.h"
#include "json_util.h"
#include "vtpm.h"

/* Longest policy name: it is recorded with every decision and put in
 * tokens. */
#define POLICY_NAME_MAX 64

/* Most paths in one list: one anchors and one intermediates directory per
 * vendor is about twenty. */
#define POLICY_MAX_PATHS 256

/* clang-format off */
static const struct json_field policy_fields[] = {
	{"name", JSON_STRING, true},
	{"comment", JSON_STRING, false},
	{"ek", JSON_OBJECT, true},
	{"enrollment_required", JSON_TRUE, false},
	{"ak_algorithms", JSON_ARRAY, false},
	{"pcr_selection", JSON_STRING, false},
	{"event_log_required", JSON_TRUE, false},
	{"token_ttl", JSON_INTEGER, false},
	{"session_ttl", JSON_INTEGER, false},
	{"boot", JSON_OBJECT, false},
};

static const struct json_field ek_fields[] = {
	{"comment", JSON_STRING, false},
	{"trust_anchors", JSON_ARRAY, true},
	{"intermediates", JSON_ARRAY, false},
	{"crls", JSON_ARRAY, false},
	{"allow_expired", JSON_TRUE, false},
	{"virtual_tpm", JSON_ARRAY, false},
};
/* clang-format on */

static const struct {
	const char *name;
	enum policy_ak_alg bit;
} ak_algorithm_names[] = {
    {"rsa2048", POLICY_AK_RSA2048},
    {"ecc_p256", POLICY_AK_ECC_P256},
};

/* Re-fails with the key path in front of the detail a helper recorded. */
static err_t under(err_t rc, const char *key)
{
	char detail[ERR_DETAIL_MAX];

	if (rc == ERR_OK)
		return rc;
	snprintf(detail, sizeof(detail), "%s", err_detail());
	return err_fail(rc, "%s%s", key, detail);
}

static bool flag(const json_t *obj, const char *key, bool dflt)
{
	const json_t *v = json_object_get(obj, key);

	return v != NULL ? json_is_true(v) : dflt;
}

static err_t load_name(const json_t *root, struct policy *p)
{
	const json_t *v = json_object_get(root, "name");
	size_t n = json_string_length(v);

	if (n == 0 || n > POLICY_NAME_MAX || strlen(json_string_value(v)) != n)
		return err_fail(ERR_BAD_REQUEST, "name: 1 to %d characters", POLICY_NAME_MAX);
	for (const char *s = json_string_value(v); *s != '\0'; s++) {
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return err_fail(ERR_BAD_REQUEST, "name: control characters");
	}
	p->name = strdup(json_string_value(v));
	return p->name != NULL ? ERR_OK : err_fail(ERR_INTERNAL, "out of memory");
}

static err_t resolve(const char *base_dir, const char *path, char out[static PATH_MAX])
{
	int n = path[0] == '/' ? snprintf(out, PATH_MAX, "%s", path)
			       : snprintf(out, PATH_MAX, "%s/%s", base_dir, path);

	if (n < 0 || n >= PATH_MAX)
		return err_fail(ERR_BAD_REQUEST, "path too long");
	return ERR_OK;
}

typedef err_t (*trust_add_fn)(struct ekcert_trust *t, const char *path);

/* Each string of an array of paths, resolved, handed to add. */
static err_t load_paths(const json_t *ek, const char *key, bool required, const char *base_dir,
			struct ekcert_trust *t, trust_add_fn add)
{
	const json_t *list = json_object_get(ek, key);
	const json_t *v;
	size_t i;
	char path[PATH_MAX];

	if (list == NULL)
		return ERR_OK;
	if (required && json_array_size(list) == 0)
		return err_fail(ERR_BAD_REQUEST, "ek.%s: at least one path", key);
	if (json_array_size(list) > POLICY_MAX_PATHS)
		return err_fail(ERR_BAD_REQUEST, "ek.%s: more than %d paths", key,
				POLICY_MAX_PATHS);
	json_array_foreach(list, i, v)
	{
		char at[64];
		err_t rc;

		snprintf(at, sizeof(at), "ek.%s[%zu]: ", key, i);
		if (!json_is_string(v) || json_string_length(v) == 0 ||
		    strlen(json_string_value(v)) != json_string_length(v))
			return err_fail(ERR_BAD_REQUEST, "%smust be a path", at);
		rc = resolve(base_dir, json_string_value(v), path);
		if (rc == ERR_OK)
			rc = add(t, path);
		if (rc != ERR_OK)
			return under(rc, at);
	}
	return ERR_OK;
}

static err_t load_ek(const json_t *ek, const char *base_dir, struct policy *p)
{
	const json_t *rules = json_object_get(ek, "virtual_tpm");
	json_t *none = NULL;
	err_t rc;

	TRY(under(json_check_fields(ek, ek_fields, sizeof(ek_fields) / sizeof(ek_fields[0])),
		  "ek."));
	p->allow_expired = flag(ek, "allow_expired", true);
	TRY(ekcert_trust_new(p->allow_expired ? EKCERT_EXPIRED_ALLOW : EKCERT_EXPIRED_DENY,
			     &p->ek_trust));
	TRY(load_paths(ek, "trust_anchors", true, base_dir, p->ek_trust, ekcert_trust_add_anchors));
	TRY(load_paths(ek, "intermediates", false, base_dir, p->ek_trust,
		       ekcert_trust_add_intermediates));
	TRY(load_paths(ek, "crls", false, base_dir, p->ek_trust, ekcert_trust_add_crls));
	if (rules == NULL) {
		none = json_array();
		if (none == NULL)
			return err_fail(ERR_INTERNAL, "out of memory");
		rules = none;
	}
	rc = vtpm_rules_load(rules, &p->vtpm);
	json_decref(none);
	return rc;
}

static err_t load_ak_algorithms(const json_t *root, struct policy *p)
{
	const json_t *list = json_object_get(root, "ak_algorithms");
	const json_t *v;
	size_t i;

	if (list == NULL) {
		p->ak_algorithms = POLICY_AK_RSA2048 | POLICY_AK_ECC_P256;
		return ERR_OK;
	}
	if (json_array_size(list) == 0)
		return err_fail(ERR_BAD_REQUEST, "ak_algorithms: at least one");
	json_array_foreach(list, i, v)
	{
		size_t k;
		for (k = 0; k < sizeof(ak_algorithm_names) / sizeof(ak_algorithm_names[0]); k++) {
			if (json_is_string(v) &&
			    strcmp(json_string_value(v), ak_algorithm_names[k].name) == 0)
				break;
		}
		if (k == sizeof(ak_algorithm_names) / sizeof(ak_algorithm_names[0]))
			return err_fail(ERR_BAD_REQUEST,
					"ak_algorithms[%zu]: not rsa2048 or ecc_p256", i);
		if (p->ak_algorithms & ak_algorithm_names[k].bit)
			return err_fail(ERR_BAD_REQUEST, "ak_algorithms[%zu]: listed twice", i);
		p->ak_algorithms |= ak_algorithm_names[k].bit;
	}
	return ERR_OK;
}

static err_t load_seconds(const json_t *root, const char *key, unsigned dflt, unsigned max,
			  unsigned *out)
{
	const json_t *v = json_object_get(root, key);
	json_int_t n;

	*out = dflt;
	if (v == NULL)
		return ERR_OK;
	n = json_integer_value(v);
	if (n < 1 || n > (json_int_t)max)
		return err_fail(ERR_BAD_REQUEST, "%s: 1 to %u seconds", key, max);
	*out = (unsigned)n;
	return ERR_OK;
}

static err_t load_boot(const json_t *root, struct policy *p)
{
	const json_t *boot = json_object_get(root, "boot");
	json_t *empty = NULL;
	err_t rc;

	if (boot == NULL) {
		/* Absent: the boot module's defaults (Secure Boot required, every
		 * virtual-platform rule on). */
		empty = json_object();
		if (empty == NULL)
			return err_fail(ERR_INTERNAL, "out of memory");
		boot = empty;
	}
	rc = under(boot_policy_load(boot, &p->boot), "boot.");
	json_decref(empty);
	return rc;
}

static err_t load_root(const json_t *root, const char *base_dir, struct policy *p)
{
	const char *selection = json_string_value(json_object_get(root, "pcr_selection"));

	TRY(json_check_fields(root, policy_fields,
			      sizeof(policy_fields) / sizeof(policy_fields[0])));
	TRY(load_name(root, p));
	TRY(load_ek(json_object_get(root, "ek"), base_dir, p));
	p->enrollment_required = flag(root, "enrollment_required", false);
	TRY(load_ak_algorithms(root, p));
	TRY(under(pcr_selection_parse(selection != NULL ? selection : "sha256:0,1,2,3,4,5,6,7",
				      &p->pcr_selection),
		  "pcr_selection: "));
	p->event_log_required = flag(root, "event_log_required", true);
	TRY(load_seconds(root, "token_ttl", POLICY_TOKEN_TTL_DEFAULT, POLICY_TOKEN_TTL_MAX,
			 &p->token_ttl));
	TRY(load_seconds(root, "session_ttl", POLICY_SESSION_TTL_DEFAULT, POLICY_SESSION_TTL_MAX,
			 &p->session_ttl));
	TRY(ek_cache_new(&p->ek_cache));
	/* Last: nothing after it can fail, so a loaded boot policy is always
	 * part of a complete policy (policy_free frees it then). */
	TRY(load_boot(root, p));
	p->boot_loaded = true;
	return ERR_OK;
}

err_t policy_load_json(const char *json, size_t len, const char *base_dir, struct policy **out)
{
	struct policy *p = calloc(1, sizeof(*p));
	json_t *root = NULL;
	err_t rc;

	*out = NULL;
	if (p == NULL)
		return err_fail(ERR_INTERNAL, "out of memory");
	rc = json_parse_object((const uint8_t *)json, len, &root);
	if (rc == ERR_OK)
		rc = load_root(root, base_dir, p);
	json_decref(root);
	if (rc != ERR_OK) {
		policy_free(p);
		return rc;
	}
	*out = p;
	return ERR_OK;
}

err_t policy_load_file(const char *path, struct policy **out)
{
	uint8_t *text = NULL;
	size_t len = 0;
	char *copy = strdup(path);
	char prefix[PATH_MAX + 16];
	err_t rc;

	*out = NULL;
	if (copy == NULL)
		return err_fail(ERR_INTERNAL, "out of memory");
	rc = fileio_read(path, POLICY_MAX_FILE, &text, &len);
	if (rc == ERR_OK)
		rc = policy_load_json((const char *)text, len, dirname(copy), out);
	if (rc == ERR_OK) {
		(*out)->path = strdup(path);
		if ((*out)->path == NULL) {
			policy_free(*out);
			*out = NULL;
			rc = err_fail(ERR_INTERNAL, "out of memory");
		}
	} else {
		snprintf(prefix, sizeof(prefix), "policy %s: ", path);
		rc = under(rc, prefix);
	}
	free(text);
	free(copy);
	return rc;
}

void policy_free(struct policy *p)
{
	if (p == NULL)
		return;
	ek_cache_free(p->ek_cache);
	vtpm_rules_free(p->vtpm);
	ekcert_trust_free(p->ek_trust);
	if (p->boot_loaded)
		boot_policy_free(&p->boot);
	free(p->path);
	free(p->name);
	free(p);
}

const char *policy_name(const struct policy *p)
{
	return p->name;
}
