/* Virtual-TPM rules: refuse an EK whose certificate says it comes from a
 * virtual TPM (swtpm, cloud and hypervisor vTPMs), whatever the trust store
 * holds. A virtual TPM's CA may be trusted for other reasons, or added by
 * mistake; these rules still refuse it (ek_virtual_tpm).
 *
 * A rule is one JSON object in the policy's "ek"."virtual_tpm" array:
 *   {"name": "swtpm-localca", "ca": {"CN": "swtpm-localca*"}}
 *   {"name": "swtpm-manufacturer", "tpm": {"manufacturer": "id:00001014"}}
 * "ca" rules match a distinguished name: every listed attribute (CN, O, OU,
 * C, L, ST) must have a value matching its glob pattern (fnmatch(3): * ? [],
 * case-insensitive; values compared with runs of spaces folded to one, as
 * RFC 5280 name matching does). They are tried on the EK certificate's
 * issuer, on the subject and issuer of every certificate the client sent,
 * and on every CA of the chain that was built.
 * "tpm" rules match the TCG fields of the EK certificate's SAN:
 * "manufacturer" is an exact "id:XXXXXXXX" (8 hex digits, compared as a
 * number), "model" and "version" are glob patterns; all given must match.
 * An optional "comment" string documents a rule. */
#ifndef ATTEST_VTPM_H
#define ATTEST_VTPM_H

#include <stddef.h>

#include <jansson.h>
#include <openssl/x509.h>

#include "ekcert.h"
#include "err.h"

/* Named caps on operator input: a policy with more is a mistake. */
#define VTPM_MAX_RULES	    128
#define VTPM_MAX_CONDITIONS 6 /* one per DN attribute we match */
#define VTPM_NAME_MAX	    64
#define VTPM_PATTERN_MAX    256

struct vtpm_rules;

/* ERR_BAD_REQUEST naming the rule and member ("ek.virtual_tpm[3].ca.XX:
 * unknown attribute") for anything malformed or unknown. */
err_t vtpm_rules_load(const json_t *array, struct vtpm_rules **out) WARN_UNUSED;
void vtpm_rules_free(struct vtpm_rules *r);
size_t vtpm_rules_count(const struct vtpm_rules *r);

/* The leaf's own checks, which run before any chain is built: "ca" rules
 * on its issuer, then "tpm" rules on its SAN. ERR_EK_VIRTUAL_TPM with the
 * detail "rule NAME: <where> <what matched>", ERR_OK when none matches. */
err_t vtpm_check_leaf(const struct vtpm_rules *r, const struct ekcert *leaf) WARN_UNUSED;

/* "ca" rules on the subject and the issuer of a CA certificate; `where`
 * names it in the detail ("ek_chain[1]", "chain[2]"). */
err_t vtpm_check_ca(const struct vtpm_rules *r, X509 *ca, const char *where) WARN_UNUSED;

#endif
