/* Admission tokens come from anyone who can reach the gateway endpoint:
 * token_verify must refuse every forgery and never misbehave on any bytes. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "token.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

static struct token_keys *keys;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char dir[] = "/tmp/attest-fuzz-token-XXXXXX";

	(void)argc;
	(void)argv;
	if (mkdtemp(dir) == NULL || token_keys_open(dir, &keys) != ERR_OK)
		abort();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct token_claims c;

	/* Without the private key no input is a valid token. */
	if (token_verify(keys, (const char *)data, size, "attestd", "attest-gateway", 0, &c) ==
	    ERR_OK)
		abort();
	return 0;
}
