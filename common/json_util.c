/* Strict JSON helpers on jansson. */
#include "json_util.h"

#include <string.h>

#include "b64.h"

static size_t json_depth(const json_t *j, size_t limit)
{
	size_t deepest = 0;
	const char *key;
	json_t *v;
	size_t i;

	if (limit == 0)
		return 1;
	if (json_is_object(j)) {
		json_object_foreach((json_t *)j, key, v)
		{
			size_t d = json_depth(v, limit - 1);

			if (d > deepest)
				deepest = d;
		}
	} else if (json_is_array(j)) {
		json_array_foreach(j, i, v)
		{
			size_t d = json_depth(v, limit - 1);

			if (d > deepest)
				deepest = d;
		}
	} else {
		return 0;
	}
	return deepest + 1;
}

err_t json_parse_object(const uint8_t *body, size_t len, json_t **out)
{
	json_error_t jerr;
	json_t *j;

	j = json_loadb((const char *)body, len, JSON_REJECT_DUPLICATES, &jerr);
	if (j == NULL)
		return err_fail(ERR_BAD_REQUEST, "malformed JSON at line %d column %d: %s",
				jerr.line, jerr.column, jerr.text);
	if (!json_is_object(j)) {
		json_decref(j);
		return err_fail(ERR_BAD_REQUEST, "body is not a JSON object");
	}
	if (json_depth(j, JSON_MAX_DEPTH) > JSON_MAX_DEPTH) {
		json_decref(j);
		return err_fail(ERR_BAD_REQUEST, "JSON nested deeper than %d", JSON_MAX_DEPTH);
	}
	*out = j;
	return ERR_OK;
}

static bool type_matches(const json_t *v, json_type type)
{
	if (type == JSON_TRUE || type == JSON_FALSE)
		return json_is_boolean(v);
	return json_typeof(v) == type;
}

static const char *type_name(json_type type)
{
	switch (type) {
	case JSON_OBJECT:
		return "an object";
	case JSON_ARRAY:
		return "an array";
	case JSON_STRING:
		return "a string";
	case JSON_INTEGER:
		return "an integer";
	case JSON_TRUE:
	case JSON_FALSE:
		return "a boolean";
	default:
		return "a value";
	}
}

err_t json_check_fields(const json_t *obj, const struct json_field *fields, size_t nfields)
{
	const char *key;
	json_t *v;

	json_object_foreach((json_t *)obj, key, v)
	{
		size_t i;

		for (i = 0; i < nfields && strcmp(key, fields[i].name) != 0; i++)
			;
		if (i == nfields)
			return err_fail(ERR_BAD_REQUEST, "%s: unknown field", key);
		if (!type_matches(v, fields[i].type))
			return err_fail(ERR_BAD_REQUEST, "%s: must be %s", key,
					type_name(fields[i].type));
	}
	for (size_t i = 0; i < nfields; i++) {
		if (fields[i].required && json_object_get(obj, fields[i].name) == NULL)
			return err_fail(ERR_BAD_REQUEST, "%s: missing", fields[i].name);
	}
	return ERR_OK;
}

err_t json_get_b64(const json_t *obj, const char *name, size_t max, uint8_t **out, size_t *len)
{
	const json_t *v = json_object_get(obj, name);

	if (!json_is_string(v))
		return err_fail(ERR_BAD_REQUEST, "%s: missing or not a string", name);
	if (!b64_decode(json_string_value(v), json_string_length(v), max, out, len))
		return err_fail(ERR_BAD_REQUEST, "%s: not canonical base64 of at most %zu bytes",
				name, max);
	return ERR_OK;
}
