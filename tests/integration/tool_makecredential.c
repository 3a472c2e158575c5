/* tpm2_makecredential done by attestd's code, for the integration tests:
 * reads an EK and an AK public area (tpm2_createek/createak -u) and a
 * secret, checks both keys by DESIGN.md's rules, and writes the credential
 * in the `tpm2_makecredential -o` format for tpm2_activatecredential.
 *
 * Usage: tool_makecredential EK_PUB AK_PUB SECRET OUT [AK_NAME_OUT]
 * AK_NAME_OUT receives the AK's Name as attestd computes it, to compare
 * with tpm2_createak -n. Prints the error code and exits 1 on a refusal. */
#include <string.h>

#include "tool_common.h"
#include "tpm_crypto.h"

static err_t make(const char *ek_path, const char *ak_path, const uint8_t *secret,
		  size_t secret_len, struct tpm_credential *cred, TPM2B_NAME *name)
{
	TPMT_PUBLIC ek_pub, ak_pub;
	struct tpm_ek ek;
	err_t rc;

	TRY(tool_public(ek_path, "ek_pub", &ek_pub));
	TRY(tool_public(ak_path, "ak_pub", &ak_pub));
	TRY(tpm_ak_check(&ak_pub, NULL));
	TRY(tpm_object_name(&ak_pub, name));
	rc = tpm_ek_load(&ek_pub, &ek);
	if (rc == ERR_OK)
		rc = tpm_make_credential(&ek, name, secret, secret_len, cred);
	tpm_ek_release(&ek);
	return rc;
}

int main(int argc, char **argv)
{
	struct tpm_credential cred;
	TPM2B_NAME name;
	uint8_t file[TPM_CREDENTIAL_FILE_MAX], *secret;
	size_t secret_len, file_len;
	err_t rc;

	if (argc != 5 && argc != 6) {
		fprintf(stderr, "usage: %s EK_PUB AK_PUB SECRET OUT [AK_NAME_OUT]\n", argv[0]);
		return TOOL_USAGE;
	}
	secret = tool_read(argv[3], &secret_len);
	rc = make(argv[1], argv[2], secret, secret_len, &cred, &name);
	free(secret);
	if (rc == ERR_OK)
		rc = tpm_credential_file(&cred, file, sizeof(file), &file_len);
	if (rc != ERR_OK)
		return tool_refused(rc);
	if (fileio_write_atomic(argv[4], file, file_len, 0644) != ERR_OK ||
	    (argc == 6 && fileio_write_atomic(argv[5], name.name, name.size, 0644) != ERR_OK)) {
		fprintf(stderr, "cannot write: %s\n", err_detail());
		return TOOL_USAGE;
	}
	return 0;
}
