/* Feeds outside bytes as a TPMT_SIGNATURE to the unmarshaller and to the
 * signature check with a real ECDSA and a real RSASSA AK: odd r and s
 * sizes, short RSA signatures, unknown schemes and hashes. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "fuzz_tpm_keys.h"
#include "tpm_crypto.h"
#include "tpm_wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_with(const uint8_t *ak_bytes, size_t ak_len, const TPMT_SIGNATURE *sig)
{
	static const uint8_t msg[] = "\xffTCG\x80\x18 not what any TPM signed";
	TPMT_PUBLIC ak;
	EVP_PKEY *key = NULL;

	if (tpm_wire_public(ak_bytes, ak_len, "ak", &ak) != ERR_OK ||
	    tpm_ak_check(&ak, &key) != ERR_OK)
		abort();
	/* No input can be a valid signature over a message no TPM signed. */
	if (tpm_signature_verify(&ak, key, sig, msg, sizeof(msg)) == ERR_OK)
		abort();
	EVP_PKEY_free(key);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	TPMT_SIGNATURE sig;

	if (tpm_wire_signature(data, size, "signature", &sig) != ERR_OK)
		return 0;
	check_with(fuzz_ak_ecc, sizeof(fuzz_ak_ecc), &sig);
	check_with(fuzz_ak_rsa, sizeof(fuzz_ak_rsa), &sig);
	return 0;
}
