/* attestctl keys rotate (token signing keys) and attestctl apikeys add
 * (API keys for gateways, auditors and admins). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/rand.h>

#include "b64.h"
#include "config.h"
#include "ctl.h"
#include "store.h"
#include "token.h"

/* API keys: 32 random bytes, base64url; only their SHA-256 is stored. */
#define APIKEY_BYTES 32

int ctl_keys_run(int argc, char **argv)
{
	const struct config *cfg;
	char dir[sizeof(cfg->state_dir) + 16], kid[64];
	err_t rc;

	if (argc != 2 || strcmp(argv[1], "rotate") != 0) {
		fprintf(
		    argc == 2 && strcmp(argv[1], "--help") == 0 ? stdout : stderr,
		    "usage: attestctl [-c CONFIG] keys rotate\n"
		    "\nMakes a new token signing key in STATE_DIR/token-keys; running attestd\n"
		    "instances switch to it within a second. Tokens signed by the old key stay\n"
		    "valid (and its public key stays in the JWKS) until they expire.\n");
		return argc == 2 && strcmp(argv[1], "--help") == 0 ? CTL_EXIT_OK : CTL_EXIT_USAGE;
	}
	cfg = ctl_config();
	if (cfg == NULL)
		return CTL_EXIT_FAIL;
	/* Before attestd's first start the state directory may not exist yet. */
	if (mkdir(cfg->state_dir, 0700) != 0 && errno != EEXIST)
		return ctl_fail(err_fail(ERR_INTERNAL, "%s: %s", cfg->state_dir, strerror(errno)));
	snprintf(dir, sizeof(dir), "%s/token-keys", cfg->state_dir);
	rc = token_keys_rotate(dir, kid);
	if (rc != ERR_OK)
		return ctl_fail(rc);
	printf("new signing key %s\n", kid);
	return CTL_EXIT_OK;
}

static bool role_valid(const char *role)
{
	return strcmp(role, "admin") == 0 || strcmp(role, "auditor") == 0 ||
	       strcmp(role, "gateway") == 0;
}

int ctl_apikeys_run(int argc, char **argv)
{
	uint8_t raw[APIKEY_BYTES], hash[STORE_HASH_LEN];
	struct store *st = NULL;
	char *key;
	int status;
	err_t rc;

	if (argc != 4 || strcmp(argv[1], "add") != 0 || !role_valid(argv[2])) {
		bool help = argc == 2 && strcmp(argv[1], "--help") == 0;

		fprintf(help ? stdout : stderr,
			"usage: attestctl [-c CONFIG] apikeys add ROLE NAME\n"
			"\nROLE is admin, auditor or gateway. Prints the new key once; only its\n"
			"hash is stored. Callers send it in the X-API-Key header.\n");
		return help ? CTL_EXIT_OK : CTL_EXIT_USAGE;
	}
	if (RAND_priv_bytes(raw, sizeof(raw)) != 1)
		return ctl_fail(err_fail(ERR_INTERNAL, "no randomness"));
	key = b64url_encode(raw, sizeof(raw));
	OPENSSL_cleanse(raw, sizeof(raw));
	if (key == NULL || EVP_Digest(key, strlen(key), hash, NULL, EVP_sha256(), NULL) != 1) {
		free(key);
		return ctl_fail(err_fail(ERR_INTERNAL, "making the key failed"));
	}
	status = ctl_open_store(&st);
	if (status == CTL_EXIT_OK) {
		rc = st->ops->apikey_add(st, hash, argv[2], argv[3], time(NULL));
		if (rc != ERR_OK)
			status = ctl_fail(rc);
		else
			printf("%s\n", key);
		store_close(st);
	}
	OPENSSL_clear_free(key, strlen(key));
	return status;
}
