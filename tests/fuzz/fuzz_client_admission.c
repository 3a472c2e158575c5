/* The quote call's 200 answer comes from the network: the token is written
 * to a file that scripts put into HTTP headers, and the other fields are
 * printed on a terminal. Whatever the body, evidence_parse_admission must
 * accept only a compact JWS and printable, non-empty, bounded fields, and
 * leave no token behind when it refuses. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "evidence.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Non-empty printable ASCII, terminated inside its buffer. */
static bool printable_within(const char *s, size_t cap)
{
	size_t n = strnlen(s, cap);

	if (n == 0 || n == cap)
		return false;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < 0x20 || s[i] > 0x7e)
			return false;
	}
	return true;
}

static const char base64url[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/* Three non-empty base64url parts joined by two dots (RFC 7515, 7.1). */
static bool compact_jws(const char *s)
{
	for (int part = 0; part < 3; part++) {
		size_t n = strspn(s, base64url);

		if (n == 0)
			return false;
		s += n;
		if (part < 2 && *s++ != '.')
			return false;
	}
	return *s == '\0';
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char no_token[EVIDENCE_TOKEN_MAX + 1];
	struct admission a;

	err_clear(); /* so a refusal without a reason shows */
	if (evidence_parse_admission(data, size, &a) != ERR_OK) {
		if (memcmp(a.token, no_token, sizeof(a.token)) != 0 || err_detail()[0] == '\0')
			abort();
		return 0;
	}
	if (!printable_within(a.token, sizeof(a.token)) || !compact_jws(a.token) ||
	    !printable_within(a.expires_at, sizeof(a.expires_at)) ||
	    !printable_within(a.machine_id, sizeof(a.machine_id)) ||
	    !printable_within(a.attestation_id, sizeof(a.attestation_id)))
		abort();
	return 0;
}
