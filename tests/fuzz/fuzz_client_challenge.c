/* The challenge answer comes from the network, from the verifier or from
 * anything that can answer in its place: evidence_parse_challenge must not
 * misbehave on any body, and what it accepts must be what the client can
 * safely use (TPM2B sizes within their buffers, a session it can send back
 * as a JSON string, a selection it can name to the TPM). */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "evidence.h"
#include "pcrs.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The selection the client will quote: canonical, and read back the same. */
static void check_selection(const struct pcr_selection *sel)
{
	char text[PCR_SELECTION_STR_MAX + 1];
	struct pcr_selection again;

	if (!pcr_selection_format(sel, text, sizeof(text)) ||
	    pcr_selection_parse(text, &again) != ERR_OK || again.bank != sel->bank ||
	    again.mask != sel->mask || sel->mask == 0 || sel->mask >> PCR_COUNT != 0)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct challenge c;
	size_t session_len;

	err_clear(); /* so a refusal without a reason shows */
	if (evidence_parse_challenge(data, size, &c) != ERR_OK) {
		/* A refusal says why, and leaves nothing to free. */
		if (c.session != NULL || err_detail()[0] == '\0')
			abort();
		return 0;
	}
	if (c.session == NULL)
		abort();
	session_len = strlen(c.session);
	if (session_len == 0 || session_len > EVIDENCE_SESSION_MAX)
		abort();
	if (c.credential_blob.size > sizeof(c.credential_blob.credential) ||
	    c.encrypted_secret.size > sizeof(c.encrypted_secret.secret) || c.expires_in < 0)
		abort();
	check_selection(&c.selection);
	evidence_challenge_free(&c);
	if (c.session != NULL)
		abort();
	evidence_challenge_free(&c); /* twice is harmless */
	return 0;
}
