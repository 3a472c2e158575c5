/* tpm2-tools context file reader, through the bounded cursor. */
#include "ctxfile.h"

#include <string.h>

#include "abuf.h"

/* lib/files.c of tpm2-tools: the header every file it writes starts with. */
#define CTXFILE_MAGIC	0xBADCC0DEu
#define CTXFILE_VERSION 1u

err_t ctxfile_parse(const uint8_t *p, size_t len, TPMS_CONTEXT *out)
{
	struct abuf b;
	uint32_t magic, version;
	uint16_t blob_size;

	memset(out, 0, sizeof(*out));
	abuf_init(&b, p, len);
	if (!abuf_u32be(&b, &magic) || magic != CTXFILE_MAGIC)
		return err_fail(ERR_BAD_REQUEST, "not a tpm2-tools context file (no 0xBADCC0DE "
						 "header; a persistent AK is named by ak_handle)");
	if (!abuf_u32be(&b, &version) || version != CTXFILE_VERSION)
		return err_fail(ERR_BAD_REQUEST, "unsupported context file version");
	/* tpm2-tools' own field order, not TPMS_CONTEXT's wire order. */
	if (!abuf_u32be(&b, &out->hierarchy) || !abuf_u32be(&b, &out->savedHandle) ||
	    !abuf_u64be(&b, &out->sequence) || !abuf_u16be(&b, &blob_size))
		return err_fail(ERR_BAD_REQUEST, "context file truncated");
	if (blob_size > sizeof(out->contextBlob.buffer))
		return err_fail(ERR_BAD_REQUEST,
				"context blob of %u bytes exceeds the %zu a "
				"TPMS_CONTEXT holds",
				blob_size, sizeof(out->contextBlob.buffer));
	if (!abuf_copy(&b, out->contextBlob.buffer, blob_size))
		return err_fail(ERR_BAD_REQUEST, "context blob truncated");
	out->contextBlob.size = blob_size;
	if (!abuf_expect_end(&b))
		return err_fail(ERR_BAD_REQUEST, "bytes after the context blob");
	return ERR_OK;
}
