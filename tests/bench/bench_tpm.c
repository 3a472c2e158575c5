/* Throughput of the verifier's TPM crypto on one core: MakeCredential for an
 * RSA-2048 and a P-256 EK (alone, and with loading the EK as a challenge
 * does), and quote verification with an ECDSA and an RSASSA AK, each beside
 * the `openssl speed` figure of the operation that dominates it, measured
 * in the same run (these machines drift 10-25% between runs,
 * NOTES-performance.md). Rates are per CPU second of this process, as
 * `openssl speed` counts them, so other load on the machine does not skew
 * the ratio. Prints; asserts nothing.
 *
 * Usage: bench_tpm [SECONDS per measurement, default 1] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "quote.h"
#include "tpm_crypto.h"
#include "tpm_soft.h"
#include "tpm_wire.h"

/* How often the clock is read: rarely enough not to weigh on a 20 µs op. */
#define BENCH_BATCH 64

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Runs op in batches for about `seconds`; returns operations per second. */
static double per_second(double seconds, void (*op)(void *), void *arg)
{
	double start = now(), elapsed;
	unsigned long n = 0;

	do {
		for (int i = 0; i < BENCH_BATCH; i++)
			op(arg);
		n += BENCH_BATCH;
		elapsed = now() - start;
	} while (elapsed < seconds);
	return (double)n / elapsed;
}

struct credential_case {
	TPMT_PUBLIC ek_pub;
	struct tpm_ek ek;
	TPM2B_NAME name;
};

static void make_credential(void *arg)
{
	struct credential_case *c = arg;
	static const uint8_t secret[32] = {1};
	struct tpm_credential cred;

	if (tpm_make_credential(&c->ek, &c->name, secret, sizeof(secret), &cred) != ERR_OK)
		abort();
}

/* What a challenge pays: the template check and key import of the EK the
 * client sent, then the credential. */
static void load_ek_and_make_credential(void *arg)
{
	struct credential_case *c = arg;
	struct credential_case fresh = {.name = c->name};

	if (tpm_ek_load(&c->ek_pub, &fresh.ek) != ERR_OK)
		abort();
	make_credential(&fresh);
	tpm_ek_release(&fresh.ek);
}

static void credential_case_init(struct credential_case *c, EVP_PKEY *ek_key)
{
	EVP_PKEY *ak_key = soft_ec_key("P-256");
	TPMT_PUBLIC pub;

	soft_ek_public(ek_key, &c->ek_pub);
	if (tpm_ek_load(&c->ek_pub, &c->ek) != ERR_OK)
		abort();
	soft_ak_public(ak_key, TPM2_ALG_ECDSA, &pub);
	if (tpm_object_name(&pub, &c->name) != ERR_OK)
		abort();
	EVP_PKEY_free(ak_key);
}

struct quote_case {
	uint8_t attest[sizeof(TPMS_ATTEST)], sig[sizeof(TPMT_SIGNATURE)];
	TPMT_PUBLIC ak;
	struct pcr_selection requested;
	struct pcr_values pcrs;
	struct quote_input in;
};

static void verify_quote(void *arg)
{
	struct quote_case *q = arg;
	struct quote_facts facts;

	if (quote_verify(&q->in, &facts) != ERR_OK)
		abort();
}

/* A quote of sha256:0-7 as a TPM would sign it, by a software AK. */
static void quote_case_init(struct quote_case *q, EVP_PKEY *ak_key, uint16_t scheme)
{
	uint8_t nonce[QUOTE_NONCE_SIZE] = {7}, values[8 * 32];
	struct pcr_bank *bank = &q->pcrs.banks[0];
	TPMS_ATTEST attest;
	TPMT_SIGNATURE sig;

	memset(q, 0, sizeof(*q));
	for (size_t i = 0; i < sizeof(values); i++)
		values[i] = (uint8_t)i;
	q->requested = (struct pcr_selection){TPM2_ALG_SHA256, 0xff};
	q->pcrs.bank_count = 1;
	*bank = (struct pcr_bank){.alg = TPM2_ALG_SHA256, .digest_len = 32, .present = 0xff};
	for (int i = 0; i < 8; i++)
		memcpy(bank->value[i], values + 32 * i, 32);
	soft_ak_public(ak_key, scheme, &q->ak);
	soft_quote(nonce, TPM2_ALG_SHA256, 0xff, values, sizeof(values), &attest);
	q->in.attest = q->attest;
	q->in.attest_len = soft_marshal_attest(&attest, q->attest, sizeof(q->attest));
	soft_sign(ak_key, scheme, q->attest, q->in.attest_len, &sig);
	q->in.sig = q->sig;
	q->in.sig_len = soft_marshal_signature(&sig, q->sig, sizeof(q->sig));
	q->in.ak = &q->ak;
	memcpy(q->in.nonce, nonce, sizeof(nonce));
	q->in.requested = &q->requested;
	q->in.pcrs = &q->pcrs;
}

/* `openssl speed -mr` lines in OpenSSL 3: "+F2:i:bits:sign/s:verify/s" (RSA),
 * "+F4:i:bits:sign/s:verify/s" (ECDSA), "+F5:i:bits:derive/s:s/op" (ECDH). */
struct openssl_figures {
	double rsa2048_public, ecdsa_p256_verify, ecdh_p256;
};

static bool openssl_speed(double seconds, struct openssl_figures *out)
{
	char cmd[128], line[256];
	FILE *p;
	unsigned idx, bits;
	double a, b;

	memset(out, 0, sizeof(*out));
	snprintf(cmd, sizeof(cmd),
		 "openssl speed -seconds %u -mr rsa2048 ecdsap256 ecdhp256 2>/dev/null",
		 seconds < 1 ? 1u : (unsigned)seconds);
	p = popen(cmd, "r");
	if (p == NULL)
		return false;
	while (fgets(line, sizeof(line), p) != NULL) {
		if (sscanf(line, "+F2:%u:%u:%lf:%lf", &idx, &bits, &a, &b) == 4 && bits == 2048)
			out->rsa2048_public = b;
		else if (sscanf(line, "+F4:%u:%u:%lf:%lf", &idx, &bits, &a, &b) == 4 && bits == 256)
			out->ecdsa_p256_verify = b;
		else if (sscanf(line, "+F5:%u:%u:%lf:%lf", &idx, &bits, &a, &b) == 4 && bits == 256)
			out->ecdh_p256 = a;
	}
	return pclose(p) == 0 && out->rsa2048_public > 0 && out->ecdsa_p256_verify > 0 &&
	       out->ecdh_p256 > 0;
}

static void row(const char *what, double ours, const char *base, double base_rate)
{
	printf("%-34s %10.0f   %-28s %10.0f   %5.2f\n", what, ours, base, base_rate,
	       base_rate > 0 ? ours / base_rate : 0.0);
}

int main(int argc, char **argv)
{
	double seconds = argc > 1 ? atof(argv[1]) : 1.0;
	EVP_PKEY *ek_rsa = soft_rsa_key(2048), *ek_ecc = soft_ec_key("P-256");
	EVP_PKEY *ak_rsa = soft_rsa_key(2048), *ak_ecc = soft_ec_key("P-256");
	struct credential_case cred_rsa, cred_ecc;
	static struct quote_case quote_rsa, quote_ecc;
	struct openssl_figures ossl;
	double r_cred_rsa, r_cred_ecc, r_load_rsa, r_load_ecc, r_quote_ecc, r_quote_rsa;

	if (seconds <= 0) {
		fprintf(stderr, "usage: %s [seconds per measurement]\n", argv[0]);
		return 2;
	}
	credential_case_init(&cred_rsa, ek_rsa);
	credential_case_init(&cred_ecc, ek_ecc);
	quote_case_init(&quote_rsa, ak_rsa, TPM2_ALG_RSASSA);
	quote_case_init(&quote_ecc, ak_ecc, TPM2_ALG_ECDSA);

	r_cred_rsa = per_second(seconds, make_credential, &cred_rsa);
	r_cred_ecc = per_second(seconds, make_credential, &cred_ecc);
	r_load_rsa = per_second(seconds, load_ek_and_make_credential, &cred_rsa);
	r_load_ecc = per_second(seconds, load_ek_and_make_credential, &cred_ecc);
	r_quote_ecc = per_second(seconds, verify_quote, &quote_ecc);
	r_quote_rsa = per_second(seconds, verify_quote, &quote_rsa);
	if (!openssl_speed(seconds, &ossl))
		fprintf(stderr, "bench_tpm: openssl speed gave no figures; ratios are 0\n");

	printf("one core, per CPU second; ratio = ours / openssl speed, same run\n");
	printf("%-34s %10s   %-28s %10s   %5s\n", "operation", "ours/s", "openssl speed operation",
	       "openssl/s", "ratio");
	row("MakeCredential, RSA-2048 EK", r_cred_rsa, "rsa2048 public op (verify)",
	    ossl.rsa2048_public);
	/* Ours is an ephemeral keygen and a derive: two point multiplications. */
	row("MakeCredential, P-256 EK", r_cred_ecc, "ecdhp256 derive", ossl.ecdh_p256);
	row("EK load + MakeCredential, RSA-2048", r_load_rsa, "rsa2048 public op (verify)",
	    ossl.rsa2048_public);
	row("EK load + MakeCredential, P-256", r_load_ecc, "ecdhp256 derive", ossl.ecdh_p256);
	row("quote verify, ECDSA P-256 AK", r_quote_ecc, "ecdsap256 verify",
	    ossl.ecdsa_p256_verify);
	row("quote verify, RSASSA-2048 AK", r_quote_rsa, "rsa2048 public op (verify)",
	    ossl.rsa2048_public);

	tpm_ek_release(&cred_rsa.ek);
	tpm_ek_release(&cred_ecc.ek);
	EVP_PKEY_free(ek_rsa);
	EVP_PKEY_free(ek_ecc);
	EVP_PKEY_free(ak_rsa);
	EVP_PKEY_free(ak_ecc);
	return 0;
}
