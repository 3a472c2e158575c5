/* The verifier policy: what a machine must show to be admitted, loaded once
 * from a JSON file (policy/default.json is the shipped one, policy/README.md
 * documents every key). Unknown keys, duplicate keys and values of the
 * wrong type or range are errors: a typo must never silently weaken a
 * policy. Relative paths in the policy are resolved against the policy
 * file's directory.
 *
 * Keys (all at the top level of one JSON object):
 * | key                  | type     | default                    | meaning
 * | name                 | string   | required                   | recorded with every decision
 * | comment              | string   | -                          | free text, ignored
 * | ek                   | object   | required                   | EK trust, below
 * | ek.trust_anchors     | [path]   | required, >= 1             | files/dirs of anchor CAs
 * | ek.intermediates     | [path]   | []                         | files/dirs of other CAs
 * | ek.crls              | [path]   | []                         | files/dirs of CRLs
 * | ek.allow_expired     | bool     | true                       | see ekcert_chain.h
 * | ek.virtual_tpm       | [rule]   | []                         | see vtpm.h
 * | enrollment_required  | bool     | false                      | only pre-registered EKs
 * | ak_algorithms        | [string] | ["rsa2048","ecc_p256"]     | AK key types accepted
 * | pcr_selection        | string   | "sha256:0,1,2,3,4,5,6,7"   | what the quote must cover
 * | event_log_required   | bool     | true                       | refuse quotes without a log
 * | token_ttl            | integer  | 300 (1..86400)             | admission token lifetime, s
 * | session_ttl          | integer  | 60 (1..3600)               | challenge lifetime, s
 * | boot                 | object   | {} (boot.h defaults)       | event-log rules, policy/boot.h
 */
#ifndef ATTEST_POLICY_H
#define ATTEST_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "boot.h"
#include "ekcert_chain.h"
#include "err.h"
#include "pcrs.h"

/* A policy file is a few KiB; 1 MiB leaves room for long allow-lists of
 * boot digests. */
#define POLICY_MAX_FILE (1024 * 1024)

#define POLICY_TOKEN_TTL_DEFAULT   300
#define POLICY_TOKEN_TTL_MAX	   86400 /* a day: longer tokens outlive revocation checks */
#define POLICY_SESSION_TTL_DEFAULT 60
#define POLICY_SESSION_TTL_MAX	   3600 /* a quote takes seconds; an hour is generous */

/* AK key types (DESIGN.md "AK"), as bits of policy.ak_algorithms. */
enum policy_ak_alg {
	POLICY_AK_RSA2048 = 1u << 0,  /* "rsa2048": RSASSA or RSAPSS, SHA-256 */
	POLICY_AK_ECC_P256 = 1u << 1, /* "ecc_p256": ECDSA, SHA-256 */
};

struct ek_cache;
struct vtpm_rules;

/* Read-only after policy_load_file; may be shared by many threads. */
struct policy {
	char *name;
	char *path; /* the file it was loaded from */
	struct ekcert_trust *ek_trust;
	struct vtpm_rules *vtpm;
	bool allow_expired;
	bool enrollment_required;
	unsigned ak_algorithms; /* enum policy_ak_alg bits */
	struct pcr_selection pcr_selection;
	bool event_log_required;
	unsigned token_ttl;
	unsigned session_ttl;
	struct boot_policy boot;
	struct ek_cache *ek_cache; /* internally locked */
	bool boot_loaded;	   /* internal: boot needs boot_policy_free */
};

/* Loads and checks a policy file, builds its trust store and rules.
 * ERR_BAD_REQUEST (or ERR_NOT_FOUND for a missing file) with a detail
 * naming the file and the key; *out is NULL then. */
err_t policy_load_file(const char *path, struct policy **out) WARN_UNUSED;

/* The same from JSON text; relative paths resolve against base_dir. */
err_t policy_load_json(const char *json, size_t len, const char *base_dir,
		       struct policy **out) WARN_UNUSED;

void policy_free(struct policy *p);

const char *policy_name(const struct policy *p);

#endif
