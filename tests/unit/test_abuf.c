/* Boundaries of the bounded reader and writer. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "abuf.h"

static const uint8_t sample[] = {0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09};

static void test_empty_buffer(void **state)
{
	struct abuf b;
	uint8_t v8;
	const uint8_t *p;

	(void)state;
	abuf_init(&b, NULL, 123); /* a NULL buffer has no bytes, whatever len says */
	assert_int_equal(abuf_remaining(&b), 0);
	assert_true(abuf_expect_end(&b));
	assert_false(abuf_u8(&b, &v8));
	assert_true(abuf_bytes(&b, 0, &p)); /* zero bytes always fit */
	assert_false(abuf_skip(&b, 1));
}

static void test_integers_endianness(void **state)
{
	struct abuf b;
	uint16_t v16;
	uint32_t v32;
	uint64_t v64;

	(void)state;
	abuf_init(&b, sample, sizeof(sample));
	assert_true(abuf_u16be(&b, &v16));
	assert_int_equal(v16, 0x0102);
	assert_true(abuf_u16le(&b, &v16));
	assert_int_equal(v16, 0x0403);
	abuf_init(&b, sample, sizeof(sample));
	assert_true(abuf_u32be(&b, &v32));
	assert_int_equal(v32, 0x01020304);
	assert_true(abuf_u32le(&b, &v32));
	assert_int_equal(v32, 0x08070605);
	abuf_init(&b, sample, sizeof(sample));
	assert_true(abuf_u64be(&b, &v64));
	assert_true(v64 == 0x0102030405060708ULL);
	abuf_init(&b, sample, sizeof(sample));
	assert_true(abuf_u64le(&b, &v64));
	assert_true(v64 == 0x0807060504030201ULL);
}

static void test_exact_end_and_one_past(void **state)
{
	struct abuf b;
	const uint8_t *p;
	uint32_t v32;
	uint8_t v8;

	(void)state;
	abuf_init(&b, sample, sizeof(sample));
	assert_true(abuf_bytes(&b, sizeof(sample), &p)); /* exactly everything */
	assert_ptr_equal(p, sample);
	assert_true(abuf_expect_end(&b));
	assert_false(abuf_u8(&b, &v8)); /* one past the end */

	abuf_init(&b, sample, sizeof(sample));
	assert_false(abuf_bytes(&b, sizeof(sample) + 1, &p));
	assert_int_equal(b.off, 0); /* a failed read does not move the cursor */

	/* A multi-byte read that straddles the end reads nothing. */
	abuf_init(&b, sample, sizeof(sample));
	assert_true(abuf_skip(&b, sizeof(sample) - 3));
	assert_false(abuf_u32be(&b, &v32));
	assert_int_equal(abuf_remaining(&b), 3);
	assert_false(abuf_expect_end(&b));
}

static void test_size_max_lengths(void **state)
{
	struct abuf b, child;
	const uint8_t *p;
	uint8_t dst[4];

	(void)state;
	abuf_init(&b, sample, sizeof(sample));
	assert_true(abuf_skip(&b, 1));
	/* With off = 1, off + SIZE_MAX wraps to 0, which a naive
	 * `off + n > len` check would accept. */
	assert_false(abuf_bytes(&b, SIZE_MAX, &p));
	assert_false(abuf_skip(&b, SIZE_MAX));
	assert_false(abuf_copy(&b, dst, SIZE_MAX));
	assert_false(abuf_child(&b, SIZE_MAX, &child));
	assert_int_equal(b.off, 1);
	/* With off = 5, off + (SIZE_MAX - 1) wraps to 3, inside the buffer. */
	assert_true(abuf_skip(&b, 4));
	assert_false(abuf_bytes(&b, SIZE_MAX - 1, &p));
	assert_int_equal(b.off, 5);
}

static void test_child_view_is_bounded(void **state)
{
	struct abuf b, child;
	uint32_t v32;
	uint8_t v8;

	(void)state;
	abuf_init(&b, sample, sizeof(sample));
	assert_true(abuf_skip(&b, 1));
	assert_true(abuf_child(&b, 3, &child));
	assert_int_equal(b.off, 4); /* the parent moved past the child */
	assert_int_equal(abuf_remaining(&child), 3);
	assert_false(abuf_u32be(&child, &v32)); /* 4 bytes exist in the parent, not the child */
	assert_true(abuf_u8(&child, &v8));
	assert_int_equal(v8, 0x02);
	assert_false(abuf_expect_end(&child));
	assert_true(abuf_skip(&child, 2));
	assert_true(abuf_expect_end(&child));

	assert_true(abuf_child(&b, 0, &child)); /* an empty child is valid */
	assert_true(abuf_expect_end(&child));
	assert_false(abuf_child(&b, abuf_remaining(&b) + 1, &child));
}

static void test_copy(void **state)
{
	struct abuf b;
	uint8_t dst[4] = {0};

	(void)state;
	abuf_init(&b, sample, sizeof(sample));
	assert_true(abuf_copy(&b, dst, 4));
	assert_memory_equal(dst, sample, 4);
	assert_true(abuf_copy(&b, NULL, 0));
}

static void test_writer(void **state)
{
	uint8_t out[8];
	struct wbuf w;
	const uint8_t expect[] = {0xaa, 0x12, 0x34, 0xde, 0xad, 0xbe, 0xef, 0x01};

	(void)state;
	wbuf_init(&w, out, sizeof(out));
	wbuf_u8(&w, 0xaa);
	wbuf_u16be(&w, 0x1234);
	wbuf_u32be(&w, 0xdeadbeef);
	wbuf_put(&w, "\x01", 1); /* exactly fills */
	assert_true(wbuf_ok(&w));
	assert_int_equal(w.len, sizeof(out));
	assert_memory_equal(out, expect, sizeof(expect));

	wbuf_u8(&w, 0xff); /* one past the end */
	assert_false(wbuf_ok(&w));
	assert_int_equal(w.len, sizeof(out));

	wbuf_init(&w, out, sizeof(out));
	wbuf_u32le(&w, 0x01020304);
	assert_memory_equal(out, "\x04\x03\x02\x01", 4);
	wbuf_put(&w, out, SIZE_MAX); /* must not wrap */
	assert_false(wbuf_ok(&w));
	wbuf_u8(&w, 0); /* sticky: later writes are dropped */
	assert_int_equal(w.len, 4);

	wbuf_init(&w, NULL, 10);
	wbuf_put(&w, "", 0);
	assert_true(wbuf_ok(&w));
	wbuf_u8(&w, 1);
	assert_false(wbuf_ok(&w));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_empty_buffer),
	    cmocka_unit_test(test_integers_endianness),
	    cmocka_unit_test(test_exact_end_and_one_past),
	    cmocka_unit_test(test_size_max_lengths),
	    cmocka_unit_test(test_child_view_is_bounded),
	    cmocka_unit_test(test_copy),
	    cmocka_unit_test(test_writer),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
