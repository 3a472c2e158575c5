/* tpm2-tools context files (`tpm2_createak -c ak.ctx`): the saved context of
 * a loaded object, which TPM2_ContextLoad brings back. */
#ifndef ATTEST_CLIENT_CTXFILE_H
#define ATTEST_CLIENT_CTXFILE_H

#include <stddef.h>
#include <stdint.h>

#include <tss2/tss2_tpm2_types.h>

#include "err.h"

/* A context file is a header and one TPMS_CONTEXT: well under 8 KiB. */
#define CTXFILE_MAX_SIZE (sizeof(TPMS_CONTEXT) + 64)

/* Parses the tpm2-tools format: magic 0xBADCC0DE and version 1 (big-endian
 * u32 each), hierarchy u32, savedHandle u32, sequence u64, then the context
 * blob as u16 size and bytes; nothing after it. ERR_BAD_REQUEST otherwise
 * (also for the serialized persistent-handle form tpm2_evictcontrol -o
 * writes: name that handle with ak_handle instead). */
err_t ctxfile_parse(const uint8_t *p, size_t len, TPMS_CONTEXT *out) WARN_UNUSED;

#endif
