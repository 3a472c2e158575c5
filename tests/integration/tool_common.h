/* Shared by the integration-test tools: reading the files tpm2-tools wrote
 * and reporting failures as "code: detail" on stderr. */
#ifndef ATTEST_TOOL_COMMON_H
#define ATTEST_TOOL_COMMON_H

#include <stdio.h>
#include <stdlib.h>

#include "err.h"
#include "fileio.h"
#include "tpm_wire.h"

/* Largest input file: TPM structures are a few hundred bytes, PCR JSON a
 * few KiB. */
#define TOOL_FILE_MAX (64u * 1024)

/* Exit statuses: 0 verified/made, 1 refused with a code, 2 unusable input. */
#define TOOL_REFUSED 1
#define TOOL_USAGE   2

static inline int tool_refused(err_t rc)
{
	printf("%s\n", err_code_str(rc));
	fprintf(stderr, "%s: %s\n", err_code_str(rc), err_detail());
	return TOOL_REFUSED;
}

static inline uint8_t *tool_read(const char *path, size_t *len)
{
	uint8_t *data = NULL;

	if (fileio_read(path, TOOL_FILE_MAX, &data, len) != ERR_OK) {
		fprintf(stderr, "cannot read %s: %s\n", path, err_detail());
		exit(TOOL_USAGE);
	}
	return data;
}

/* A TPM2B_PUBLIC file (tpm2_createek/createak -u). */
static inline err_t tool_public(const char *path, const char *field, TPMT_PUBLIC *out)
{
	size_t len;
	uint8_t *bytes = tool_read(path, &len);
	err_t rc = tpm_wire_public(bytes, len, field, out);

	free(bytes);
	return rc;
}

#endif
