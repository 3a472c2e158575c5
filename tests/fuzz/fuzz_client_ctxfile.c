/* A tpm2-tools context file is read from a path the user names and then
 * handed to TPM2_ContextLoad: ctxfile_parse must not misbehave on any
 * bytes, and what it accepts must be exactly the file, field for field, with
 * a blob that fits its TPM2B. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "abuf.h"
#include "ctxfile.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Writes ctx back in the tpm2-tools layout ctxfile.h describes. */
static size_t unparse(const TPMS_CONTEXT *ctx, uint8_t *out, size_t cap)
{
	struct wbuf w;

	wbuf_init(&w, out, cap);
	wbuf_u32be(&w, 0xBADCC0DEu);
	wbuf_u32be(&w, 1);
	wbuf_u32be(&w, ctx->hierarchy);
	wbuf_u32be(&w, ctx->savedHandle);
	wbuf_u32be(&w, (uint32_t)(ctx->sequence >> 32));
	wbuf_u32be(&w, (uint32_t)ctx->sequence);
	wbuf_u16be(&w, ctx->contextBlob.size);
	wbuf_put(&w, ctx->contextBlob.buffer, ctx->contextBlob.size);
	if (!wbuf_ok(&w))
		abort();
	return w.len;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t again[CTXFILE_MAX_SIZE];
	TPMS_CONTEXT ctx;
	size_t len;

	err_clear(); /* so a refusal without a reason shows */
	if (ctxfile_parse(data, size, &ctx) != ERR_OK) {
		if (err_detail()[0] == '\0')
			abort();
		return 0;
	}
	if (size > CTXFILE_MAX_SIZE || ctx.contextBlob.size > sizeof(ctx.contextBlob.buffer))
		abort();
	len = unparse(&ctx, again, sizeof(again));
	if (len != size || memcmp(again, data, size) != 0)
		abort();
	return 0;
}
