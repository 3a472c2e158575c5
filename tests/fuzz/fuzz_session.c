/* Sealed sessions come back from clients: session_open must refuse
 * anything that is not exactly what this server sealed, without reading out
 * of bounds, whatever the bytes. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "session.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct session_key key = {{1, 2, 3}};
	struct session s;
	char *text = malloc(size + 1);

	if (text == NULL)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	/* A forged session must never open: the key is not in the input. */
	if (session_open(&key, text, size, 0, &s) == ERR_OK)
		abort();
	free(text);
	return 0;
}
