/* Quote verification by attestd's code, for the integration tests: the
 * counterpart of tpm2_checkquote, with DESIGN.md's checks and codes.
 *
 * Usage: tool_checkquote AK_PUB QUOTE SIG PCRS_JSON NONCE_HEX SELECTION
 * QUOTE and SIG are tpm2_quote -m and -s, PCRS_JSON the protocol's `pcrs`
 * field, SELECTION like "sha256:0,1,2". Prints "ok" and the quote's facts,
 * or the error code (detail on stderr) and exits 1. */
#include <inttypes.h>
#include <string.h>

#include "b64.h"
#include "quote.h"
#include "tool_common.h"

static err_t pcrs_from_file(const char *path, struct pcr_values *out)
{
	json_error_t error;
	json_t *j = json_load_file(path, JSON_REJECT_DUPLICATES, &error);
	err_t rc;

	if (j == NULL)
		return err_fail(ERR_BAD_REQUEST, "pcrs: %s", error.text);
	rc = pcr_values_from_json(j, out);
	json_decref(j);
	return rc;
}

static err_t check(char **argv, struct quote_facts *facts)
{
	TPMT_PUBLIC ak;
	struct pcr_selection requested;
	struct pcr_values pcrs;
	struct quote_input in = {.ak = &ak, .requested = &requested, .pcrs = &pcrs};
	size_t nonce_len = 0;
	uint8_t *attest, *sig;
	err_t rc;

	if (strlen(argv[5]) != 2 * QUOTE_NONCE_SIZE ||
	    !hex_decode(argv[5], strlen(argv[5]), in.nonce, sizeof(in.nonce), &nonce_len))
		return err_fail(ERR_BAD_REQUEST, "nonce: not %d bytes of hex", QUOTE_NONCE_SIZE);
	TRY(tool_public(argv[1], "ak_pub", &ak));
	TRY(pcr_selection_parse(argv[6], &requested));
	TRY(pcrs_from_file(argv[4], &pcrs));
	attest = tool_read(argv[2], &in.attest_len);
	sig = tool_read(argv[3], &in.sig_len);
	in.attest = attest;
	in.sig = sig;
	rc = quote_verify(&in, facts);
	free(attest);
	free(sig);
	return rc;
}

int main(int argc, char **argv)
{
	struct quote_facts facts;
	char digest[2 * PCR_DIGEST_MAX + 1];
	err_t rc;

	if (argc != 7) {
		fprintf(stderr, "usage: %s AK_PUB QUOTE SIG PCRS_JSON NONCE_HEX SELECTION\n",
			argv[0]);
		return TOOL_USAGE;
	}
	rc = check(argv, &facts);
	if (rc != ERR_OK)
		return tool_refused(rc);
	hex_encode(facts.pcr_digest, facts.pcr_digest_len, digest);
	printf("ok\nclock %" PRIu64 "\nreset_count %" PRIu32 "\nrestart_count %" PRIu32
	       "\nsafe %d\nfirmware_version 0x%016" PRIx64 "\npcr_digest %s\n",
	       facts.clock, facts.reset_count, facts.restart_count, facts.safe,
	       facts.firmware_version, digest);
	return 0;
}
