/* Throughput of the EK checks on one core, with the shipped default policy
 * and real EK certificates: parsing, the chain check of each hardware
 * vector beside the `openssl speed` rate of the signature verifications
 * that chain needs (measured in the same run: these machines drift 10-25%
 * between runs), the whole uncached EK check, and a cached verdict. Rates
 * are per CPU second of this process, as `openssl speed` counts them.
 * Prints; asserts nothing.
 *
 * Usage: bench_ekcert [SECONDS per measurement, default 1] [SOURCE_ROOT]
 * SOURCE_ROOT defaults to $ATTEST_SOURCE_ROOT, else the current directory. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/x509.h>

#include "ek_check.h"
#include "ekcert.h"
#include "ekcert_chain.h"
#include "fileio.h"
#include "policy.h"
#include "vtpm.h"

/* Clock reads per batch: rarely enough not to weigh on a 1 µs cache hit. */
#define BENCH_BATCH 32

/* Signature verifications one chain check performs, at most. */
#define BENCH_MAX_SIGS (EKCERT_MAX_CHAIN_DEPTH - 1)

static double cpu_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double rate(double seconds, void (*op)(void *), void *arg)
{
	double start = cpu_now(), elapsed;
	unsigned long n = 0;

	do {
		for (int i = 0; i < BENCH_BATCH; i++)
			op(arg);
		n += BENCH_BATCH;
		elapsed = cpu_now() - start;
	} while (elapsed < seconds);
	return (double)n / elapsed;
}

struct ek_case {
	const char *file;
	const struct policy *policy;
	uint8_t *der;
	size_t len;
	X509 *leaf;
	/* `openssl speed` names of the verifications the chain costs. */
	char sigs[BENCH_MAX_SIGS][16];
	int nsigs;
};

static void op_d2i(void *arg)
{
	const struct ek_case *c = arg;
	const unsigned char *p = c->der;
	X509 *x = d2i_X509(NULL, &p, (long)c->len);

	if (x == NULL)
		abort();
	X509_free(x);
}

static void op_parse(void *arg)
{
	const struct ek_case *c = arg;
	struct ekcert *e = NULL;

	if (ekcert_parse_der(c->der, c->len, &e) != ERR_OK)
		abort();
	ekcert_free(e);
}

static void op_chain(void *arg)
{
	const struct ek_case *c = arg;

	if (ekcert_verify_chain(c->policy->ek_trust, c->leaf, NULL, NULL) != ERR_OK)
		abort();
}

/* What ek_check does on a cache miss, without storing the verdict. */
static void op_uncached(void *arg)
{
	const struct ek_case *c = arg;
	struct ekcert *e = NULL;
	STACK_OF(X509) *chain = NULL;
	char id[EKCERT_MACHINE_ID_SIZE];

	if (ekcert_parse_der(c->der, c->len, &e) != ERR_OK ||
	    vtpm_check_leaf(c->policy->vtpm, e) != ERR_OK || ekcert_machine_id(e, id) != ERR_OK ||
	    ekcert_verify_chain(c->policy->ek_trust, ekcert_x509(e), NULL, &chain) != ERR_OK)
		abort();
	for (int i = 1; i < sk_X509_num(chain); i++) {
		if (vtpm_check_ca(c->policy->vtpm, sk_X509_value(chain, i), "chain") != ERR_OK)
			abort();
	}
	sk_X509_pop_free(chain, X509_free);
	ekcert_free(e);
}

static void op_cached(void *arg)
{
	const struct ek_case *c = arg;
	const struct ek_verdict *v = NULL;

	if (ek_check(c->policy, c->der, c->len, NULL, &v) != ERR_OK)
		abort();
	ek_verdict_release(v);
}

/* Reads the vector and names the signature checks of its chain: each
 * certificate below the anchor verified with its issuer's key. */
static void case_init(struct ek_case *c, const char *root, const char *name, const struct policy *p)
{
	char path[4096];
	struct ekcert *e = NULL;
	STACK_OF(X509) *chain = NULL;

	snprintf(path, sizeof(path), "%s/tests/data/ekcerts/hardware/%s", root, name);
	c->file = name;
	c->policy = p;
	if (fileio_read(path, EKCERT_MAX_INPUT, &c->der, &c->len) != ERR_OK ||
	    ekcert_parse_der(c->der, c->len, &e) != ERR_OK ||
	    ekcert_verify_chain(p->ek_trust, ekcert_x509(e), NULL, &chain) != ERR_OK) {
		fprintf(stderr, "bench_ekcert: %s: %s\n", path, err_detail());
		exit(1);
	}
	c->leaf = X509_dup(ekcert_x509(e));
	for (int i = 0; i + 1 < sk_X509_num(chain) && c->nsigs < BENCH_MAX_SIGS; i++) {
		EVP_PKEY *k = X509_get0_pubkey(sk_X509_value(chain, i + 1));
		bool rsa = EVP_PKEY_get_base_id(k) == EVP_PKEY_RSA;
		snprintf(c->sigs[c->nsigs++], sizeof(c->sigs[0]), "%s%d", rsa ? "rsa" : "ecdsap",
			 EVP_PKEY_get_bits(k));
	}
	sk_X509_pop_free(chain, X509_free);
	ekcert_free(e);
}

/* `openssl speed -mr` verify rates in OpenSSL 3: "+F2:i:bits:sign/s:verify/s"
 * (RSA), "+F4:i:bits:sign/s:verify/s" (ECDSA). */
struct speed_figure {
	char name[16];
	double verify_per_s;
};

static size_t openssl_speed(double seconds, const struct ek_case *cases, size_t ncases,
			    struct speed_figure *out, size_t cap)
{
	char cmd[512], line[256];
	size_t n = 0;
	int used;
	FILE *p;

	for (size_t i = 0; i < ncases; i++) {
		for (int s = 0; s < cases[i].nsigs; s++) {
			size_t k;
			for (k = 0; k < n && strcmp(out[k].name, cases[i].sigs[s]) != 0; k++)
				;
			if (k == n && n < cap)
				snprintf(out[n++].name, sizeof(out[0].name), "%s",
					 cases[i].sigs[s]);
		}
	}
	used = snprintf(cmd, sizeof(cmd), "openssl speed -seconds %u -mr",
			seconds < 1 ? 1u : (unsigned)seconds);
	for (size_t k = 0; k < n && used > 0 && (size_t)used < sizeof(cmd); k++)
		used += snprintf(cmd + used, sizeof(cmd) - (size_t)used, " %s", out[k].name);
	if (used < 0 || (size_t)used >= sizeof(cmd) - sizeof(" 2>/dev/null"))
		return n;
	snprintf(cmd + used, sizeof(cmd) - (size_t)used, " 2>/dev/null");
	p = popen(cmd, "r");
	if (p == NULL)
		return n;
	while (fgets(line, sizeof(line), p) != NULL) {
		unsigned kind, idx, bits;
		double sign, verify;
		char name[16];
		if (sscanf(line, "+F%u:%u:%u:%lf:%lf", &kind, &idx, &bits, &sign, &verify) != 5 ||
		    (kind != 2 && kind != 4))
			continue;
		snprintf(name, sizeof(name), "%s%u", kind == 2 ? "rsa" : "ecdsap", bits);
		for (size_t k = 0; k < n; k++) {
			if (strcmp(out[k].name, name) == 0)
				out[k].verify_per_s = verify;
		}
	}
	pclose(p);
	return n;
}

/* Chain checks per second if signature verification were all they cost. */
static double chain_ceiling(const struct ek_case *c, const struct speed_figure *f, size_t n,
			    char *what, size_t cap)
{
	double seconds_per_check = 0;

	what[0] = '\0';
	for (int s = 0; s < c->nsigs; s++) {
		size_t k;
		for (k = 0; k < n && strcmp(f[k].name, c->sigs[s]) != 0; k++)
			;
		if (k == n || f[k].verify_per_s <= 0)
			return 0;
		seconds_per_check += 1.0 / f[k].verify_per_s;
		snprintf(what + strlen(what), cap - strlen(what), "%s%s", s > 0 ? " + " : "",
			 c->sigs[s]);
	}
	return seconds_per_check > 0 ? 1.0 / seconds_per_check : 0;
}

static void row(const char *what, double ours, const char *base, double base_rate)
{
	if (base_rate > 0)
		printf("%-44s %9.0f   %-30s %9.0f   %5.2f\n", what, ours, base, base_rate,
		       ours / base_rate);
	else
		printf("%-44s %9.0f   %-30s %9s   %5s\n", what, ours, base, "-", "-");
}

int main(int argc, char **argv)
{
	static const char *const vectors[] = {
	    "stm_st33htph_rsa2048_ek_ffpadded.der",
	    "stm_st33htph_eccp256_ek.der",
	    "ifx_slb9670_rsa2048_ek.der",
	    "ntc_npct6xx_rsa2048_ek.der",
	    "ntc_eccp256_ek_rootca2111_nonder_issuer.der",
	};
	enum { NCASES = sizeof(vectors) / sizeof(vectors[0]) };
	double seconds = argc > 1 ? atof(argv[1]) : 1.0;
	const char *root = argc > 2 ? argv[2] : getenv("ATTEST_SOURCE_ROOT");
	char policy_path[4096], what[128], base[128];
	struct policy *p = NULL;
	static struct ek_case cases[NCASES];
	struct speed_figure speed[NCASES * BENCH_MAX_SIGS];
	double chain_rate[NCASES], d2i, parse, uncached, cached;
	size_t nspeed;

	if (seconds <= 0) {
		fprintf(stderr, "usage: %s [seconds per measurement] [source root]\n", argv[0]);
		return 2;
	}
	snprintf(policy_path, sizeof(policy_path), "%s/policy/default.json",
		 root != NULL ? root : ".");
	if (policy_load_file(policy_path, &p) != ERR_OK) {
		fprintf(stderr, "bench_ekcert: %s\n", err_detail());
		return 1;
	}
	for (size_t i = 0; i < NCASES; i++)
		case_init(&cases[i], root != NULL ? root : ".", vectors[i], p);

	d2i = rate(seconds, op_d2i, &cases[0]);
	parse = rate(seconds, op_parse, &cases[0]);
	for (size_t i = 0; i < NCASES; i++)
		chain_rate[i] = rate(seconds, op_chain, &cases[i]);
	uncached = rate(seconds, op_uncached, &cases[0]);
	cached = rate(seconds, op_cached, &cases[0]);
	nspeed = openssl_speed(seconds, cases, NCASES, speed, sizeof(speed) / sizeof(speed[0]));

	printf("one core, per CPU second; default policy: %zu anchors, %zu intermediates, "
	       "%zu virtual-TPM rules\n",
	       ekcert_trust_anchor_count(p->ek_trust), ekcert_trust_intermediate_count(p->ek_trust),
	       vtpm_rules_count(p->vtpm));
	printf("ratio = ours / baseline; openssl speed measured in this run\n");
	printf("%-44s %9s   %-30s %9s   %5s\n", "operation", "ours/s", "baseline", "base/s",
	       "ratio");
	row("EK parse (DER + TCG fields), STM RSA", parse, "d2i_X509 alone", d2i);
	for (size_t i = 0; i < NCASES; i++) {
		double ceiling = chain_ceiling(&cases[i], speed, nspeed, base, sizeof(base));
		snprintf(what, sizeof(what), "chain check %.30s", cases[i].file);
		row(what, chain_rate[i], base, ceiling);
	}
	row("EK check uncached (parse, rules, chain), STM", uncached, "chain check alone",
	    chain_rate[0]);
	row("EK check, cached verdict, STM RSA", cached, "EK check uncached", uncached);
	for (size_t i = 0; i < NCASES; i++) {
		free(cases[i].der);
		X509_free(cases[i].leaf);
	}
	policy_free(p);
	return 0;
}
