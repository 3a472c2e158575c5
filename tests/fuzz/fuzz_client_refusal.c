/* An error answer comes from the network and its code and detail are
 * printed on a terminal and the code decides the exit status: whatever the
 * body and status, evidence_parse_refusal gives a non-empty code and a
 * detail, both printable ASCII and within their buffers. The first two
 * input bytes are the HTTP status (big-endian), the rest the body. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "evidence.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Printable ASCII (or nothing), terminated inside its buffer. */
static bool printable_within(const char *s, size_t cap)
{
	size_t n = strnlen(s, cap);

	if (n == cap)
		return false;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < 0x20 || s[i] > 0x7e)
			return false;
	}
	return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct refusal r;
	long status;

	if (size < 2)
		return 0;
	status = (long)((unsigned)data[0] << 8 | data[1]);
	evidence_parse_refusal(data + 2, size - 2, status, &r);
	if (r.code[0] == '\0' || !printable_within(r.code, sizeof(r.code)) ||
	    !printable_within(r.detail, sizeof(r.detail)))
		abort();
	return 0;
}
