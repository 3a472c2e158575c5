/* Drives the bounded reader with input-chosen operations and lengths and
 * checks its invariants: the cursor never passes the end, a failed read
 * never moves it, a child never reaches outside its parent. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "abuf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static size_t length_from(uint8_t code, size_t remaining)
{
	/* Mix small lengths, exact ends and huge ones that would overflow. */
	switch (code & 3) {
	case 0:
		return code >> 2;
	case 1:
		return remaining;
	case 2:
		return remaining + 1;
	default:
		return SIZE_MAX - (code >> 2);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct abuf prog, b, child;
	uint8_t op, lcode, v8;
	uint16_t v16;
	uint32_t v32;
	uint64_t v64;
	const uint8_t *p;

	/* The first half is the program, the second the data it reads. */
	abuf_init(&prog, data, size / 2);
	abuf_init(&b, data + size / 2, size - size / 2);
	while (abuf_u8(&prog, &op) && abuf_u8(&prog, &lcode)) {
		size_t before = b.off;
		size_t n = length_from(lcode, abuf_remaining(&b));
		bool ok;

		switch (op % 8) {
		case 0:
			ok = abuf_u8(&b, &v8);
			break;
		case 1:
			ok = abuf_u16be(&b, &v16);
			break;
		case 2:
			ok = abuf_u32le(&b, &v32);
			break;
		case 3:
			ok = abuf_u64be(&b, &v64);
			break;
		case 4:
			ok = abuf_bytes(&b, n, &p);
			if (ok && n > 0 && (p < b.p || p + n > b.p + b.len))
				abort();
			break;
		case 5:
			ok = abuf_skip(&b, n);
			break;
		case 6:
			ok = abuf_child(&b, n, &child);
			if (ok && (child.len != n || child.p + child.len > b.p + b.off))
				abort();
			if (ok)
				b = child; /* descend: keep reading inside the child */
			break;
		default:
			ok = abuf_expect_end(&b) == (abuf_remaining(&b) == 0);
			if (!ok)
				abort();
			break;
		}
		if (b.off > b.len)
			abort();
		if (!ok && b.off != before)
			abort();
	}
	return 0;
}
