/* Adds where a failure happened in front of its detail ("/etc/ek.pem: not a
 * DER X.509 certificate"), keeping the error code. */
#ifndef ATTEST_CLIENT_ERR_CONTEXT_H
#define ATTEST_CLIENT_ERR_CONTEXT_H

#include <stdio.h>

#include "err.h"

static inline err_t err_context(err_t rc, const char *context)
{
	char detail[ERR_DETAIL_MAX];

	if (rc == ERR_OK)
		return rc;
	snprintf(detail, sizeof(detail), "%s", err_detail());
	return err_fail(rc, "%s: %s", context, detail);
}

#endif
