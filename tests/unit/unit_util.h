/* Small helpers shared by the unit tests. */
#ifndef ATTEST_UNIT_UTIL_H
#define ATTEST_UNIT_UTIL_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A fresh temporary directory for one test; removed by unit_rmtree. */
static inline char *unit_tmpdir(void)
{
	char tmpl[] = "/tmp/attest-unit-XXXXXX";
	char *d = mkdtemp(tmpl);

	if (d == NULL) {
		perror("mkdtemp");
		abort();
	}
	return strdup(d);
}

static inline void unit_rmtree(char *dir)
{
	char cmd[512];

	if (dir == NULL)
		return;
	if (snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir) < (int)sizeof(cmd) && system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", dir);
	free(dir);
}

#endif
