/* Virtual-TPM rules: loading from the policy JSON and matching against EK
 * certificates and CA certificates (see vtpm.h for the rule language). */
#include "vtpm.h"

#include <ctype.h>
#include <fnmatch.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>

/* Longest DN attribute value compared; X.520 bounds CN, O, OU at 64
 * characters, real vTPM CA names reach ~90 (Google's UCA CNs). Longer
 * values are compared cut, which can only make a long pattern miss. */
#define VTPM_VALUE_MAX 512

struct vtpm_condition {
	int nid; /* NID_commonName, ... */
	char *pattern;
};

struct vtpm_rule {
	char *name;
	bool is_ca;
	struct vtpm_condition ca[VTPM_MAX_CONDITIONS];
	size_t ca_count;
	bool has_manufacturer;
	uint32_t manufacturer;
	char *model;   /* glob, NULL: any */
	char *version; /* glob, NULL: any */
};

struct vtpm_rules {
	struct vtpm_rule *rules;
	size_t count;
};

/* The DN attributes a "ca" rule may name, by their short names. */
static const int ca_attribute_nids[] = {
    NID_commonName,  NID_organizationName, NID_organizationalUnitName,
    NID_countryName, NID_localityName,	   NID_stateOrProvinceName,
};

/* ---- loading ---- */

static err_t bad(const char *where, const char *what)
{
	return err_fail(ERR_BAD_REQUEST, "ek.virtual_tpm%s: %s", where, what);
}

static err_t pattern_copy(const json_t *v, const char *where, char **out)
{
	const char *s = json_string_value(v);
	size_t n = s != NULL ? strlen(s) : 0;

	if (s == NULL || n == 0 || n > VTPM_PATTERN_MAX || n != json_string_length(v))
		return bad(where, "must be a non-empty string of at most 256 bytes");
	*out = strdup(s);
	return *out != NULL ? ERR_OK : err_fail(ERR_INTERNAL, "out of memory");
}

static int ca_attribute_nid(const char *key)
{
	int nid = OBJ_txt2nid(key);

	ERR_clear_error();
	for (size_t i = 0; i < sizeof(ca_attribute_nids) / sizeof(ca_attribute_nids[0]); i++) {
		if (nid == ca_attribute_nids[i] && strcmp(OBJ_nid2sn(nid), key) == 0)
			return nid;
	}
	return NID_undef;
}

static err_t load_ca(const json_t *obj, const char *where, struct vtpm_rule *rule)
{
	const char *key;
	const json_t *v;
	char at[96];

	if (!json_is_object(obj) || json_object_size(obj) == 0)
		return bad(where, "\"ca\" must be an object with at least one attribute");
	if (json_object_size(obj) > VTPM_MAX_CONDITIONS)
		return bad(where, "\"ca\" has too many attributes");
	json_object_foreach((json_t *)obj, key, v)
	{
		struct vtpm_condition *c = &rule->ca[rule->ca_count];
		snprintf(at, sizeof(at), "%s.ca.%s", where, key);
		c->nid = ca_attribute_nid(key);
		if (c->nid == NID_undef)
			return bad(at, "unknown attribute (CN, O, OU, C, L, ST)");
		TRY(pattern_copy(v, at, &c->pattern));
		rule->ca_count++;
	}
	return ERR_OK;
}

static err_t load_tpm(const json_t *obj, const char *where, struct vtpm_rule *rule)
{
	const char *key;
	const json_t *v;
	char at[96];

	if (!json_is_object(obj) || json_object_size(obj) == 0)
		return bad(where, "\"tpm\" must be an object with at least one field");
	json_object_foreach((json_t *)obj, key, v)
	{
		snprintf(at, sizeof(at), "%s.tpm.%s", where, key);
		if (strcmp(key, "manufacturer") == 0) {
			const char *id = json_string_value(v);
			/* Exactly 8 digits, as certificates write it. */
			if (id == NULL || strlen(id) != 11 ||
			    !ekcert_parse_tcg_id(id, &rule->manufacturer))
				return bad(at, "must be \"id:\" and 8 hex digits");
			rule->has_manufacturer = true;
		} else if (strcmp(key, "model") == 0) {
			TRY(pattern_copy(v, at, &rule->model));
		} else if (strcmp(key, "version") == 0) {
			TRY(pattern_copy(v, at, &rule->version));
		} else {
			return bad(at, "unknown field (manufacturer, model, version)");
		}
	}
	return ERR_OK;
}

static bool valid_rule_name(const char *s)
{
	size_t n = s != NULL ? strlen(s) : 0;

	if (n == 0 || n > VTPM_NAME_MAX)
		return false;
	for (; *s != '\0'; s++) {
		if (!isalnum((unsigned char)*s) && strchr("._-", *s) == NULL)
			return false;
	}
	return true;
}

static err_t load_rule(const json_t *obj, size_t index, const struct vtpm_rules *done,
		       struct vtpm_rule *rule)
{
	char where[32];
	const char *key;
	const json_t *v;
	const json_t *ca = NULL, *tpm = NULL;

	snprintf(where, sizeof(where), "[%zu]", index);
	if (!json_is_object(obj))
		return bad(where, "must be an object");
	json_object_foreach((json_t *)obj, key, v)
	{
		if (strcmp(key, "name") == 0) {
			if (!valid_rule_name(json_string_value(v)))
				return bad(where, "name: 1-64 letters, digits, '.', '_' or '-'");
		} else if (strcmp(key, "comment") == 0) {
			if (!json_is_string(v))
				return bad(where, "comment must be a string");
		} else if (strcmp(key, "ca") == 0) {
			ca = v;
		} else if (strcmp(key, "tpm") == 0) {
			tpm = v;
		} else {
			char at[96];
			snprintf(at, sizeof(at), "%s.%s", where, key);
			return bad(at, "unknown member (name, comment, ca, tpm)");
		}
	}
	if (json_object_get(obj, "name") == NULL)
		return bad(where, "name is missing");
	if ((ca == NULL) == (tpm == NULL))
		return bad(where, "needs exactly one of \"ca\" and \"tpm\"");
	rule->name = strdup(json_string_value(json_object_get(obj, "name")));
	if (rule->name == NULL)
		return err_fail(ERR_INTERNAL, "out of memory");
	for (size_t i = 0; i < done->count; i++) {
		if (strcmp(done->rules[i].name, rule->name) == 0)
			return bad(where, "duplicate rule name");
	}
	rule->is_ca = ca != NULL;
	return rule->is_ca ? load_ca(ca, where, rule) : load_tpm(tpm, where, rule);
}

static void rule_free(struct vtpm_rule *rule)
{
	free(rule->name);
	for (size_t i = 0; i < rule->ca_count; i++)
		free(rule->ca[i].pattern);
	free(rule->model);
	free(rule->version);
}

void vtpm_rules_free(struct vtpm_rules *r)
{
	if (r == NULL)
		return;
	for (size_t i = 0; i < r->count; i++)
		rule_free(&r->rules[i]);
	free(r->rules);
	free(r);
}

err_t vtpm_rules_load(const json_t *array, struct vtpm_rules **out)
{
	struct vtpm_rules *r;
	size_t n = json_array_size(array);
	err_t rc = ERR_OK;

	*out = NULL;
	if (!json_is_array(array))
		return bad("", "must be an array of rules");
	if (n > VTPM_MAX_RULES)
		return bad("", "too many rules");
	r = calloc(1, sizeof(*r));
	if (r == NULL || (n > 0 && (r->rules = calloc(n, sizeof(*r->rules))) == NULL)) {
		free(r);
		return err_fail(ERR_INTERNAL, "out of memory");
	}
	for (size_t i = 0; i < n && rc == ERR_OK; i++) {
		rc = load_rule(json_array_get(array, i), i, r, &r->rules[i]);
		r->count = i + 1; /* so a half-loaded rule is freed too */
	}
	if (rc != ERR_OK) {
		vtpm_rules_free(r);
		return rc;
	}
	*out = r;
	return ERR_OK;
}

size_t vtpm_rules_count(const struct vtpm_rules *r)
{
	return r->count;
}

/* ---- matching ---- */

static bool glob_match(const char *pattern, const char *value)
{
	return fnmatch(pattern, value, FNM_CASEFOLD) == 0;
}

/* UTF-8 of a name entry with leading, trailing and repeated spaces folded. */
static bool entry_value(const X509_NAME_ENTRY *e, char out[static VTPM_VALUE_MAX])
{
	unsigned char *utf8 = NULL;
	int n = ASN1_STRING_to_UTF8(&utf8, X509_NAME_ENTRY_get_data(e));
	size_t o = 0;

	if (n < 0) {
		ERR_clear_error();
		return false;
	}
	for (int i = 0; i < n && o < VTPM_VALUE_MAX - 1; i++) {
		bool space = isspace(utf8[i]) != 0;
		if (space && (o == 0 || out[o - 1] == ' '))
			continue;
		out[o++] = space ? ' ' : (char)utf8[i];
	}
	if (o > 0 && out[o - 1] == ' ')
		o--;
	out[o] = '\0';
	OPENSSL_free(utf8);
	return true;
}

static bool condition_matches(const struct vtpm_condition *c, const X509_NAME *dn)
{
	char value[VTPM_VALUE_MAX];

	for (int i = X509_NAME_get_index_by_NID(dn, c->nid, -1); i >= 0;
	     i = X509_NAME_get_index_by_NID(dn, c->nid, i)) {
		if (entry_value(X509_NAME_get_entry(dn, i), value) && glob_match(c->pattern, value))
			return true;
	}
	return false;
}

static bool ca_rule_matches(const struct vtpm_rule *rule, const X509_NAME *dn)
{
	for (size_t i = 0; i < rule->ca_count; i++) {
		if (!condition_matches(&rule->ca[i], dn))
			return false;
	}
	return true;
}

static bool tpm_rule_matches(const struct vtpm_rule *rule, const struct ekcert_tpm_info *t)
{
	if (!t->has_tcg_san)
		return false;
	if (rule->has_manufacturer &&
	    !(t->manufacturer_ok && t->manufacturer == rule->manufacturer))
		return false;
	if (rule->model != NULL && !glob_match(rule->model, t->model))
		return false;
	if (rule->version != NULL && !glob_match(rule->version, t->version))
		return false;
	return true;
}

static err_t check_dn(const struct vtpm_rules *r, const X509_NAME *dn, const char *where)
{
	char line[200];

	for (size_t i = 0; i < r->count; i++) {
		if (r->rules[i].is_ca && ca_rule_matches(&r->rules[i], dn)) {
			ekcert_name_line(dn, line, sizeof(line));
			return err_fail(ERR_EK_VIRTUAL_TPM, "rule %s: %s %s", r->rules[i].name,
					where, line);
		}
	}
	return ERR_OK;
}

err_t vtpm_check_leaf(const struct vtpm_rules *r, const struct ekcert *leaf)
{
	const struct ekcert_tpm_info *t = ekcert_tpm_info(leaf);

	TRY(check_dn(r, X509_get_issuer_name(ekcert_x509(leaf)), "EK issuer"));
	for (size_t i = 0; i < r->count; i++) {
		if (!r->rules[i].is_ca && tpm_rule_matches(&r->rules[i], t))
			return err_fail(ERR_EK_VIRTUAL_TPM,
					"rule %s: EK SAN manufacturer %s, model \"%s\"",
					r->rules[i].name, t->manufacturer_str, t->model);
	}
	return ERR_OK;
}

err_t vtpm_check_ca(const struct vtpm_rules *r, X509 *ca, const char *where)
{
	char at[64];

	snprintf(at, sizeof(at), "%s subject", where);
	TRY(check_dn(r, X509_get_subject_name(ca), at));
	snprintf(at, sizeof(at), "%s issuer", where);
	return check_dn(r, X509_get_issuer_name(ca), at);
}
