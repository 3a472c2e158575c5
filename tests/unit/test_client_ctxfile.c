/* tpm2-tools context files: the layout tpm2_createak -c writes is read
 * whole, and every other byte string is refused before the TPM sees it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "abuf.h"
#include "ctxfile.h"

/* magic, version, hierarchy, savedHandle, sequence, blob size, blob */
static size_t make_file(uint8_t *out, size_t cap, uint32_t magic, uint32_t version,
			uint16_t blob_size, size_t blob_bytes)
{
	struct wbuf w;

	wbuf_init(&w, out, cap);
	wbuf_u32be(&w, magic);
	wbuf_u32be(&w, version);
	wbuf_u32be(&w, 0x4000000b); /* TPM_RH_ENDORSEMENT */
	wbuf_u32be(&w, 0x80000001);
	wbuf_u32be(&w, 0);
	wbuf_u32be(&w, 0x1234);
	wbuf_u16be(&w, blob_size);
	for (size_t i = 0; i < blob_bytes; i++)
		wbuf_u8(&w, (uint8_t)i);
	assert_true(wbuf_ok(&w));
	return w.len;
}

static void test_tpm2_tools_layout_is_read(void **state)
{
	uint8_t file[4096];
	size_t len = make_file(file, sizeof(file), 0xBADCC0DE, 1, 100, 100);
	TPMS_CONTEXT ctx;

	(void)state;
	assert_int_equal(ctxfile_parse(file, len, &ctx), ERR_OK);
	assert_int_equal(ctx.hierarchy, 0x4000000b);
	assert_int_equal(ctx.savedHandle, 0x80000001);
	assert_int_equal(ctx.sequence, 0x1234);
	assert_int_equal(ctx.contextBlob.size, 100);
	assert_int_equal(ctx.contextBlob.buffer[99], 99);
}

static void test_anything_else_is_refused(void **state)
{
	uint8_t file[sizeof(TPMS_CONTEXT) + 256];
	TPMS_CONTEXT ctx;
	size_t len;
	uint16_t too_big = (uint16_t)(sizeof(ctx.contextBlob.buffer) + 1);

	(void)state;
	/* tpm2_evictcontrol -o writes a serialized ESYS_TR, not a context */
	len = make_file(file, sizeof(file), 0x00000001, 1, 10, 10);
	assert_int_equal(ctxfile_parse(file, len, &ctx), ERR_BAD_REQUEST);
	assert_non_null(strstr(err_detail(), "ak_handle"));
	len = make_file(file, sizeof(file), 0xBADCC0DE, 2, 10, 10);
	assert_int_equal(ctxfile_parse(file, len, &ctx), ERR_BAD_REQUEST);
	/* every truncation, and one byte too many */
	len = make_file(file, sizeof(file), 0xBADCC0DE, 1, 10, 10);
	for (size_t n = 0; n < len; n++)
		assert_int_equal(ctxfile_parse(file, n, &ctx), ERR_BAD_REQUEST);
	len = make_file(file, sizeof(file), 0xBADCC0DE, 1, 10, 11);
	assert_int_equal(ctxfile_parse(file, len, &ctx), ERR_BAD_REQUEST);
	/* a blob larger than a TPMS_CONTEXT can hold */
	len = make_file(file, sizeof(file), 0xBADCC0DE, 1, too_big, too_big);
	assert_int_equal(ctxfile_parse(file, len, &ctx), ERR_BAD_REQUEST);
	assert_int_equal(ctx.contextBlob.size, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_tpm2_tools_layout_is_read),
	    cmocka_unit_test(test_anything_else_is_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
