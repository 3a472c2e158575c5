/* attestctl ek verify: the EK checks of a challenge (virtual-TPM rules,
 * chain, CRLs) on a certificate file, for operators deciding whether a
 * machine's TPM will be admitted and why not. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/x509.h>

#include "config.h"
#include "ctl.h"
#include "ek_check.h"
#include "ekcert.h"
#include "ekcert_chain.h"
#include "fileio.h"
#include "policy.h"
#include "tpm_wire.h"

/* A TPM2B_PUBLIC is under 1 KiB even for RSA-4096 with a policy digest. */
#define CTL_EK_PUB_MAX 4096

static void ek_usage(FILE *out)
{
	fprintf(
	    out,
	    "usage: attestctl ek verify [--policy FILE] [--ek-pub FILE] [--json] CERT "
	    "[INTERMEDIATE...]\n\n"
	    "Runs attestd's EK checks on an EK certificate: the virtual-TPM rules, then the\n"
	    "chain to the policy's anchors (with the policy's intermediates and the\n"
	    "INTERMEDIATE files, in any order), then the policy's CRLs.\n"
	    "  CERT          DER as read from NV (tpm2_nvread 0x1c00002; 0xFF padding is\n"
	    "                allowed) or PEM\n"
	    "  INTERMEDIATE  PEM (any number of certificates) or DER files, like ek_chain\n"
	    "  --policy FILE the policy to apply (default: the one in attestd's configuration)\n"
	    "  --ek-pub FILE the TPM's EK public (TPM2B_PUBLIC, tpm2_createek -u) must be a\n"
	    "                supported EK template (ek_invalid) and the certificate's key\n"
	    "                (ek_key_mismatch), as attestd checks a challenge's ek_pub\n"
	    "  --json        one JSON object instead of text\n"
	    "The first line is the verdict: ok, or the error code attestd would answer.\n"
	    "Exit status 0 only when the certificate is trusted.\n");
}

/* The certificate as a client sends it: DER files as they are (padding
 * kept), PEM converted to DER. Not a certificate at all: the bytes as they
 * are, for ek_check to refuse with ek_cert_invalid like attestd would. */
static int read_cert(const char *path, uint8_t **out, size_t *len)
{
	struct ekcert *c = NULL;
	unsigned char *der = NULL;
	int n;

	if (fileio_read(path, EKCERT_MAX_INPUT, out, len) != ERR_OK)
		return ctl_fail(ERR_BAD_REQUEST);
	if (*len == 0 || (*out)[0] == 0x30 || ekcert_parse(*out, *len, &c) != ERR_OK)
		return CTL_EXIT_OK;
	n = i2d_X509(ekcert_x509(c), &der);
	ekcert_free(c);
	if (n <= 0 || (size_t)n > *len) {
		OPENSSL_free(der);
		return ctl_fail(err_fail(ERR_INTERNAL, "%s: cannot encode as DER", path));
	}
	memcpy(*out, der, (size_t)n); /* DER is shorter than its PEM */
	*len = (size_t)n;
	OPENSSL_free(der);
	return CTL_EXIT_OK;
}

static int read_chain(char **paths, int count, STACK_OF(X509) * *out)
{
	STACK_OF(X509) *all = sk_X509_new_null();

	*out = NULL;
	if (all == NULL)
		return ctl_fail(err_fail(ERR_INTERNAL, "out of memory"));
	for (int i = 0; i < count; i++) {
		STACK_OF(X509) *some = NULL;
		if (ekcert_load_certs(paths[i], &some) != ERR_OK) {
			sk_X509_pop_free(all, X509_free);
			return ctl_fail(ERR_BAD_REQUEST);
		}
		while (sk_X509_num(some) > 0) {
			X509 *x = sk_X509_shift(some);
			if (!sk_X509_push(all, x)) {
				X509_free(x);
				sk_X509_pop_free(some, X509_free);
				sk_X509_pop_free(all, X509_free);
				return ctl_fail(err_fail(ERR_INTERNAL, "out of memory"));
			}
		}
		sk_X509_free(some);
	}
	*out = all;
	return CTL_EXIT_OK;
}

/* The challenge's checks on ek_pub, after the certificate's: ek_invalid,
 * then ek_key_mismatch. */
static err_t check_ek_pub(const char *path, const struct ek_verdict *v)
{
	uint8_t *bytes = NULL;
	size_t len = 0;
	TPMT_PUBLIC pub;
	struct tpm_ek_profile profile;
	EVP_PKEY *key = NULL;
	err_t rc;

	rc = fileio_read(path, CTL_EK_PUB_MAX, &bytes, &len);
	if (rc == ERR_OK)
		rc = tpm_wire_public(bytes, len, "ek_pub", &pub);
	if (rc == ERR_OK)
		rc = tpm_ek_check(&pub, &profile, &key);
	if (rc == ERR_OK)
		rc = ekcert_key_equal(v->key, key);
	EVP_PKEY_free(key);
	free(bytes);
	return rc;
}

static void print_text(err_t rc, const struct ek_verdict *v, const struct policy *p)
{
	const struct ekcert_tpm_info *t;

	printf("%s\n", err_code_str(rc));
	if (rc != ERR_OK)
		printf("detail: %s\n", err_detail());
	if (v != NULL) {
		t = &v->tpm;
		if (t->has_tcg_san) {
			printf("manufacturer: %s", t->manufacturer_str);
			if (t->vendor_code[0] != '\0' || t->vendor_name != NULL)
				printf(" (%s%s%s)", t->vendor_code,
				       t->vendor_code[0] != '\0' && t->vendor_name != NULL ? ", "
											   : "",
				       t->vendor_name != NULL ? t->vendor_name : "");
			printf("\nmodel: %s\nversion: %s\n", t->model, t->version);
		} else {
			printf("manufacturer: (no TCG subject alternative name)\n");
		}
		if (t->has_spec)
			printf("tpm spec: family %s, level %u, revision %u\n", t->spec_family,
			       t->spec_level, t->spec_revision);
		printf("machine id: %s\nissuer: %s\n", v->machine_id, v->issuer);
		for (size_t i = 0; i < v->chain_len; i++)
			printf("%s %zu %s%s\n", i == 0 ? "chain:" : "      ", i, v->chain[i],
			       i + 1 == v->chain_len ? " (anchor)" : "");
	}
	printf("policy: %s (%s)\n", policy_name(p), p->path != NULL ? p->path : "-");
}

static json_t *tpm_json(const struct ekcert_tpm_info *t)
{
	json_t *o = json_object();

	if (o == NULL || !t->has_tcg_san)
		return o;
	json_object_set_new(o, "manufacturer", json_string(t->manufacturer_str));
	if (t->vendor_code[0] != '\0')
		json_object_set_new(o, "vendor_code", json_string(t->vendor_code));
	if (t->vendor_name != NULL)
		json_object_set_new(o, "vendor", json_string(t->vendor_name));
	json_object_set_new(o, "model", json_string(t->model));
	json_object_set_new(o, "version", json_string(t->version));
	if (t->has_spec)
		json_object_set_new(o, "spec",
				    json_pack("{s:s, s:I, s:I}", "family", t->spec_family, "level",
					      (json_int_t)t->spec_level, "revision",
					      (json_int_t)t->spec_revision));
	return o;
}

static int print_json(err_t rc, const struct ek_verdict *v, const struct policy *p)
{
	json_t *o = json_pack("{s:s, s:s, s:s}", "verdict", err_code_str(rc), "detail",
			      rc == ERR_OK ? "" : err_detail(), "policy", policy_name(p));
	json_t *chain = json_array();
	int ok;

	if (o == NULL || chain == NULL) {
		json_decref(o);
		json_decref(chain);
		return ctl_fail(err_fail(ERR_INTERNAL, "out of memory"));
	}
	if (v != NULL) {
		json_object_set_new(o, "tpm", tpm_json(&v->tpm));
		json_object_set_new(o, "machine_id", json_string(v->machine_id));
		json_object_set_new(o, "issuer", json_string(v->issuer));
		for (size_t i = 0; i < v->chain_len; i++)
			json_array_append_new(chain, json_string(v->chain[i]));
	}
	json_object_set_new(o, "chain", chain);
	ok = json_dumpf(o, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER) == 0;
	json_decref(o);
	if (!ok)
		return ctl_fail(err_fail(ERR_INTERNAL, "cannot write JSON"));
	printf("\n");
	return CTL_EXIT_OK;
}

static int ek_verify(const char *policy_path, const char *ek_pub, bool json, char **files,
		     int count)
{
	struct policy *p = NULL;
	uint8_t *cert = NULL;
	size_t len = 0;
	STACK_OF(X509) *chain = NULL;
	const struct ek_verdict *v = NULL;
	int status;
	err_t rc;

	if (policy_path == NULL) {
		const struct config *cfg = ctl_config();
		if (cfg == NULL)
			return CTL_EXIT_FAIL;
		policy_path = cfg->policy;
	}
	if (policy_load_file(policy_path, &p) != ERR_OK)
		return ctl_fail(ERR_BAD_REQUEST);
	status = read_cert(files[0], &cert, &len);
	if (status == CTL_EXIT_OK)
		status = read_chain(files + 1, count - 1, &chain);
	if (status == CTL_EXIT_OK) {
		struct ek_sent_chain sent;

		rc = ek_sent_chain_from_stack(chain, &sent);
		if (rc == ERR_OK) {
			rc = ek_check(p, cert, len, &sent, &v);
			ek_sent_chain_clear(&sent);
		}
		if (rc == ERR_OK && ek_pub != NULL)
			rc = check_ek_pub(ek_pub, v);
		if (rc == ERR_INTERNAL) {
			status = ctl_fail(rc);
		} else {
			if (json) {
				status = print_json(rc, v, p);
			} else {
				print_text(rc, v, p);
				status = CTL_EXIT_OK;
			}
			if (status == CTL_EXIT_OK && rc != ERR_OK)
				status = CTL_EXIT_FAIL;
		}
	}
	ek_verdict_release(v);
	sk_X509_pop_free(chain, X509_free);
	free(cert);
	policy_free(p);
	return status;
}

int ctl_ek_run(int argc, char **argv)
{
	static const struct option options[] = {
	    {"policy", required_argument, NULL, 'p'},
	    {"ek-pub", required_argument, NULL, 'e'},
	    {"json", no_argument, NULL, 'j'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	const char *policy_path = NULL, *ek_pub = NULL;
	bool json = false;
	int opt;

	if (argc < 2 || strcmp(argv[1], "verify") != 0) {
		bool help =
		    argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0);
		ek_usage(help ? stdout : stderr);
		return help ? CTL_EXIT_OK : CTL_EXIT_USAGE;
	}
	argc--;
	argv++;
	optind = 1;
	while ((opt = getopt_long(argc, argv, "p:e:jh", options, NULL)) != -1) {
		switch (opt) {
		case 'p':
			policy_path = optarg;
			break;
		case 'e':
			ek_pub = optarg;
			break;
		case 'j':
			json = true;
			break;
		case 'h':
			ek_usage(stdout);
			return CTL_EXIT_OK;
		default:
			ek_usage(stderr);
			return CTL_EXIT_USAGE;
		}
	}
	if (optind >= argc) {
		ek_usage(stderr);
		return CTL_EXIT_USAGE;
	}
	return ek_verify(policy_path, ek_pub, json, argv + optind, argc - optind);
}
