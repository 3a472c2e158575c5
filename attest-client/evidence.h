/* The JSON bodies of the two-call protocol (DESIGN.md, "Protocol"): the
 * requests, with every TPM structure marshalled exactly as tpm2-tools
 * writes it and sent as padded base64, and the verifier's answers, parsed
 * strictly because they come from the network. */
#ifndef ATTEST_CLIENT_EVIDENCE_H
#define ATTEST_CLIENT_EVIDENCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>
#include <tss2/tss2_tpm2_types.h>

#include "ek_certs.h"
#include "err.h"
#include "pcrs.h"
#include "quote.h"

/* The sealed session is the server's state (a few hundred bytes); a larger
 * one is not what attestd sends. */
#define EVIDENCE_SESSION_MAX 8192

/* A JWT with the attestation facts is well under 2 KiB. */
#define EVIDENCE_TOKEN_MAX 16384

/* expires_at, machine_id and attestation_id are short identifiers. */
#define EVIDENCE_FIELD_MAX 256

/* Stable error codes are short words ("ek_virtual_tpm"). */
#define EVIDENCE_CODE_MAX 64

struct evidence_identity {
	const struct ek_certs *certs;
	const TPM2B_PUBLIC *ek_pub;
	const TPM2B_PUBLIC *ak_pub;
	const json_t *host; /* NULL: left out */
};

/* POST /v1/attest/challenge: ek_cert, ek_chain (when there is one), ek_pub,
 * ak_pub, host. */
err_t evidence_challenge_request(const struct evidence_identity *id, json_t **out) WARN_UNUSED;

/* {"BANK": {"I": "hex", ...}} with exactly the PCRs present in bank. */
err_t evidence_pcrs(const struct pcr_bank *bank, json_t **out) WARN_UNUSED;

struct evidence_quote {
	const char *session;
	const TPM2B_DIGEST *secret;
	const TPM2B_ATTEST *attest;
	const TPMT_SIGNATURE *signature;
	const struct pcr_bank *pcrs;
	const uint8_t *event_log; /* NULL: left out */
	size_t event_log_len;
};

/* POST /v1/attest/quote: session, secret, quote, signature, pcrs and, when
 * there is one, event_log. */
err_t evidence_quote_request(const struct evidence_quote *q, json_t **out) WARN_UNUSED;

/* The challenge answer. */
struct challenge {
	TPM2B_ID_OBJECT credential_blob;
	TPM2B_ENCRYPTED_SECRET encrypted_secret;
	uint8_t nonce[QUOTE_NONCE_SIZE];
	struct pcr_selection selection;
	json_int_t expires_in;
	char *session; /* malloc'd, sent back as it came */
};

/* Reads the challenge answer: each field present with its type, binary
 * fields canonical base64 whose TPM structures unmarshal completely, a
 * 32-byte nonce, a selection pcr_selection_parse takes. Other fields are
 * ignored (a newer server may add some). ERR_BAD_REQUEST naming the field. */
err_t evidence_parse_challenge(const uint8_t *body, size_t len, struct challenge *out) WARN_UNUSED;
void evidence_challenge_free(struct challenge *c);

/* The 200 answer of the quote call. */
struct admission {
	char token[EVIDENCE_TOKEN_MAX + 1]; /* a compact JWS: three base64url parts */
	char expires_at[EVIDENCE_FIELD_MAX + 1];
	char machine_id[EVIDENCE_FIELD_MAX + 1];
	char attestation_id[EVIDENCE_FIELD_MAX + 1]; /* a number or a string */
};

err_t evidence_parse_admission(const uint8_t *body, size_t len, struct admission *out) WARN_UNUSED;

/* An error answer {"error": CODE, "detail": ...}. */
struct refusal {
	char code[EVIDENCE_CODE_MAX + 1];
	char detail[ERR_DETAIL_MAX];
};

/* Never fails: a body that is not an error object gives code "http_STATUS"
 * and no detail. Both strings are cut to printable ASCII, since they are
 * printed on a terminal. */
void evidence_parse_refusal(const uint8_t *body, size_t len, long status, struct refusal *out);

#endif
