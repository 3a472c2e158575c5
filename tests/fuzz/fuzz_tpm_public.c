/* Feeds outside bytes to the TPM2B_PUBLIC unmarshaller, then to everything
 * that judges a public area: Name, key building and validation, the AK and
 * EK rules, and MakeCredential with whatever EK passes them. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "tpm_crypto.h"
#include "tpm_wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void make_credential(const TPMT_PUBLIC *pub, const TPM2B_NAME *name)
{
	static const uint8_t secret[32] = {1, 2, 3};
	struct tpm_ek ek;
	struct tpm_credential cred;

	if (tpm_ek_load(pub, &ek) == ERR_OK) {
		if (ek.key == NULL ||
		    tpm_make_credential(&ek, name, secret, sizeof(secret), &cred) != ERR_OK ||
		    cred.id_object_len == 0 || cred.encrypted_secret_len == 0)
			abort();
	}
	tpm_ek_release(&ek);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	TPMT_PUBLIC pub;
	TPM2B_NAME name;
	struct tpm_ek_profile profile;
	EVP_PKEY *key = NULL;
	bool is_ak, is_ek;

	if (tpm_wire_public(data, size, "fuzz", &pub) != ERR_OK)
		return 0;
	if (tpm_object_name(&pub, &name) == ERR_OK &&
	    name.size != 2 + tpm_hash_size(pub.nameAlg))
		abort();
	if (tpm_public_key(&pub, &key) != (key != NULL))
		abort();
	EVP_PKEY_free(key);
	key = NULL;
	is_ak = tpm_ak_check(&pub, &key) == ERR_OK;
	if (is_ak != (key != NULL))
		abort();
	EVP_PKEY_free(key);
	is_ek = tpm_ek_check(&pub, &profile, NULL) == ERR_OK;
	/* A signing key is never a decryption key. */
	if (is_ak && is_ek)
		abort();
	if (is_ek && tpm_object_name(&pub, &name) == ERR_OK)
		make_credential(&pub, &name);
	return 0;
}
