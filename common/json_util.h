/* Strict JSON request bodies: one parse, duplicate keys refused, a declared
 * set of fields with their types (unknown or missing ones are bad_request
 * naming the field), and base64 fields decoded with a size cap. */
#ifndef ATTEST_JSON_UTIL_H
#define ATTEST_JSON_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "err.h"

/* Nesting deeper than this is refused: our documents are two levels deep,
 * and jansson recurses. */
#define JSON_MAX_DEPTH 16

/* Parses body as one JSON object. ERR_BAD_REQUEST for malformed JSON,
 * duplicate keys, another top-level type or excessive nesting. */
err_t json_parse_object(const uint8_t *body, size_t len, json_t **out) WARN_UNUSED;

struct json_field {
	const char *name;
	json_type
	    type; /* JSON_STRING, JSON_OBJECT, JSON_ARRAY, JSON_INTEGER, JSON_TRUE (any bool) */
	bool required;
};

/* Every member of obj must be one of fields with the right type; every
 * required field must be present. */
err_t json_check_fields(const json_t *obj, const struct json_field *fields,
			size_t nfields) WARN_UNUSED;

/* Decodes the strict base64 string member name (ERR_BAD_REQUEST naming it
 * when absent, not a string, not canonical base64 or longer than max). */
err_t json_get_b64(const json_t *obj, const char *name, size_t max, uint8_t **out,
		   size_t *len) WARN_UNUSED;

#endif
