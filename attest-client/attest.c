/* The attestation flow. Local inputs first (a bad file is a usage error
 * before the TPM is touched), then the TPM's keys, then the verifier; the
 * TPM objects stay loaded across retries and are flushed once, at the end,
 * whatever happened. */
#include "attest.h"

#include <errno.h>
#include <signal.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "b64.h"
#include "ctxfile.h"
#include "ek_certs.h"
#include "evidence.h"
#include "fileio.h"
#include "host.h"
#include "log.h"
#include "net.h"
#include "templates.h"
#include "tpm.h"
#include "tpm_wire.h"

/* Set by attest_stop (SIGTERM, SIGINT): no further attempt or pause, so the
 * run ends through the path that flushes the TPM objects. */
static volatile sig_atomic_t stop_requested;

void attest_stop(int sig)
{
	(void)sig;
	stop_requested = 1;
}

/* What a step returns when it went through and the run goes on (0, the
 * same value as admitted, so a dry run that printed its evidence exits 0). */
#define STEP_DONE ATTEST_EXIT_ADMITTED

#define PATH_CHALLENGE "/v1/attest/challenge"
#define PATH_QUOTE     "/v1/attest/quote"

/* Everything sent about this machine, gathered before the first call. */
struct inputs {
	struct ek_certs certs;
	TPM2B_PUBLIC ek_pub;
	TPM2B_PUBLIC ak_pub;
	TPMS_CONTEXT ak_context;
	bool has_ak_context;
	json_t *host;
	uint8_t *event_log; /* NULL when the machine has none */
	size_t event_log_len;
	double tpm_ms, net_ms; /* for --verbose: where the time went */
};

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}

/* Logs the failure detail under a heading and gives the exit code. */
static enum attest_exit failed(enum attest_exit code, const char *heading)
{
	log_error("%s: %s", heading, err_detail());
	return code;
}

/* ------------------------------------------------------- local inputs */

static enum attest_exit read_local(const struct client_config *cfg,
				   const struct attest_options *opt, struct inputs *in)
{
	char hostname[256] = "";
	bool present = false;

	if (!opt->dry_run && net_check_url(cfg->url, cfg->insecure_http) != ERR_OK)
		return failed(ATTEST_EXIT_USAGE, "configuration");
	if (cfg->ek_cert[0] != '\0') {
		if (ek_certs_add_file(&in->certs, cfg->ek_cert, true) != ERR_OK)
			return failed(ATTEST_EXIT_USAGE, "ek_cert");
		if (cfg->ek_alg != CLIENT_ALG_AUTO && cfg->ek_alg != in->certs.alg) {
			log_error("ek_alg is %s but %s certifies a %s key",
				  client_key_alg_name(cfg->ek_alg), cfg->ek_cert,
				  client_key_alg_name(in->certs.alg));
			return ATTEST_EXIT_USAGE;
		}
	}
	if (cfg->ak_context[0] != '\0') {
		uint8_t *buf = NULL;
		size_t len = 0;
		err_t rc = fileio_read(cfg->ak_context, CTXFILE_MAX_SIZE, &buf, &len);

		if (rc == ERR_OK)
			rc = ctxfile_parse(buf, len, &in->ak_context);
		free(buf);
		if (rc != ERR_OK)
			return failed(ATTEST_EXIT_USAGE, "ak_context");
		in->has_ak_context = true;
	}
	if (host_read_event_log(cfg->event_log, &in->event_log, &in->event_log_len, &present) !=
	    ERR_OK)
		return failed(ATTEST_EXIT_USAGE, "event log");
	if (!present)
		log_info("no event log at %s: sending none", cfg->event_log);
	if (gethostname(hostname, sizeof(hostname) - 1) != 0)
		hostname[0] = '\0';
	in->host = host_metadata(hostname, HOST_DMI_DIR);
	if (in->host == NULL) {
		log_error("out of memory");
		return ATTEST_EXIT_USAGE;
	}
	return STEP_DONE;
}

/* --------------------------------------------------------------- TPM */

/* The EK certificates and the EK they certify: the persistent EK when it
 * is that key, else one derived from the TCG template. */
static enum attest_exit load_ek(const struct client_config *cfg, struct tpmdev *t,
				struct inputs *in)
{
	uint32_t handle;
	bool persisted = false;

	if (cfg->ek_cert[0] == '\0' && ek_certs_read_nv(t, cfg->ek_alg, &in->certs) != ERR_OK)
		return failed(ATTEST_EXIT_TPM, "EK certificate");
	if (cfg->ek_chain[0] != '\0' &&
	    ek_certs_add_file(&in->certs, cfg->ek_chain, false) != ERR_OK)
		return failed(ATTEST_EXIT_USAGE, "ek_chain");
	handle = template_ek_persistent_handle(in->certs.alg);
	if (tpmdev_persistent_exists(t, handle, &persisted) != ERR_OK)
		return failed(ATTEST_EXIT_TPM, "TPM");
	if (persisted) {
		if (tpmdev_ek_use_persistent(t, handle, &in->ek_pub) != ERR_OK)
			return failed(ATTEST_EXIT_TPM, "persistent EK");
		if (ek_certs_certify(&in->certs, &in->ek_pub)) {
			log_debug("EK: persistent 0x%08x", handle);
			return STEP_DONE;
		}
		log_warn("the key at 0x%08x is not the certified EK; deriving the EK", handle);
	}
	if (tpmdev_ek_create(t, in->certs.alg, &in->ek_pub) != ERR_OK)
		return failed(ATTEST_EXIT_TPM, "EK");
	if (!ek_certs_certify(&in->certs, &in->ek_pub)) {
		log_error("EK: the %s key the TPM derives from the TCG default template is not the "
			  "key of its EK certificate",
			  client_key_alg_name(in->certs.alg));
		return ATTEST_EXIT_TPM;
	}
	log_debug("EK: %s, derived from the TCG template", client_key_alg_name(in->certs.alg));
	return STEP_DONE;
}

static enum attest_exit load_ak(const struct client_config *cfg, struct tpmdev *t,
				struct inputs *in)
{
	err_t rc;

	if (cfg->ak_handle != 0)
		rc = tpmdev_ak_use_persistent(t, cfg->ak_handle, &in->ak_pub);
	else if (in->has_ak_context)
		rc = tpmdev_ak_load_context(t, &in->ak_context, &in->ak_pub);
	else
		rc = tpmdev_ak_create(t, cfg->ak_alg, &in->ak_pub);
	if (rc != ERR_OK)
		return failed(ATTEST_EXIT_TPM, "AK");
	/* A key given by handle or context may be anything: say so here
	 * rather than let the verifier answer ak_invalid. */
	if (tpm_ak_check(&in->ak_pub.publicArea, NULL) != ERR_OK)
		return failed(ATTEST_EXIT_USAGE,
			      "the configured AK is not a restricted signing key");
	return STEP_DONE;
}

/* --------------------------------------------------------- dry run */

static enum attest_exit print_dry_run(struct tpmdev *t, const struct inputs *in, json_t *challenge)
{
	struct pcr_selection sel;
	struct pcr_bank bank;
	json_t *out = NULL, *quote = NULL, *pcrs = NULL;
	enum attest_exit code = ATTEST_EXIT_USAGE;
	char *b64 = NULL;

	if (pcr_selection_parse(ATTEST_DRY_RUN_SELECTION, &sel) != ERR_OK)
		return failed(ATTEST_EXIT_USAGE, "selection");
	if (tpmdev_pcr_read(t, &sel, &bank) != ERR_OK)
		return failed(ATTEST_EXIT_TPM, "PCRs");
	if (evidence_pcrs(&bank, &pcrs) != ERR_OK)
		return failed(ATTEST_EXIT_USAGE, "PCRs");
	if (in->event_log != NULL && (b64 = b64_encode(in->event_log, in->event_log_len)) == NULL)
		goto out;
	/* What the second call would carry besides the challenge's answers. */
	quote = json_pack("{s:s, s:O}", "pcr_selection", ATTEST_DRY_RUN_SELECTION, "pcrs", pcrs);
	if (quote == NULL ||
	    (b64 != NULL && json_object_set_new(quote, "event_log", json_string(b64)) != 0))
		goto out;
	out = json_pack("{s:O, s:O}", "challenge", challenge, "quote", quote);
	if (out != NULL && json_dumpf(out, stdout, JSON_INDENT(2)) == 0 && puts("") != EOF &&
	    fflush(stdout) == 0)
		code = STEP_DONE;
out:
	if (code != STEP_DONE)
		log_error("cannot print the evidence");
	free(b64);
	json_decref(out);
	json_decref(quote);
	json_decref(pcrs);
	return code;
}

/* ------------------------------------------------------ the verifier */

/* What an HTTP answer means: 200 goes on (the caller reads the body), a
 * 4xx is the verifier's refusal, the rest is a server failure; 503 (its
 * store is down, nothing was decided) and 429 are worth another try. */
static enum attest_exit judge_answer(const struct net_response *r, bool *retry)
{
	struct refusal ref;

	if (r->status == 200)
		return STEP_DONE;
	evidence_parse_refusal(r->body, r->len, r->status, &ref);
	if (r->status == 503 || r->status == 429) {
		*retry = true;
		log_warn("verifier busy or unavailable: HTTP %ld %s: %s", r->status, ref.code,
			 ref.detail);
		return ATTEST_EXIT_UNREACHABLE;
	}
	if (r->status >= 400 && r->status < 500) {
		log_error("refused by the verifier: %s: %s", ref.code, ref.detail);
		return ATTEST_EXIT_REFUSED;
	}
	log_error("verifier failed: HTTP %ld %s: %s", r->status, ref.code, ref.detail);
	return ATTEST_EXIT_UNREACHABLE;
}

static enum attest_exit post(struct net *net, const char *path, const json_t *body,
			     struct inputs *in, struct net_response *resp, bool *retry)
{
	double start = now_ms();
	err_t rc = net_post_json(net, path, body, resp);

	in->net_ms += now_ms() - start;
	if (rc == ERR_OK)
		return judge_answer(resp, retry);
	*retry = rc == ERR_UNAVAILABLE;
	if (*retry)
		log_warn("verifier unreachable: %s", err_detail());
	else
		log_error("verifier unreachable: %s", err_detail());
	return ATTEST_EXIT_UNREACHABLE;
}

/* The second half: activate, quote, send. */
static enum attest_exit prove(struct tpmdev *t, struct net *net, struct inputs *in,
			      const struct challenge *ch, struct admission *adm, bool *retry)
{
	TPM2B_DIGEST secret = {0};
	struct tpmdev_quote q;
	struct evidence_quote eq = {ch->session, &secret,	&q.attest,	  &q.signature,
				    &q.pcrs,	 in->event_log, in->event_log_len};
	struct net_response resp = {0};
	json_t *body = NULL;
	enum attest_exit code = ATTEST_EXIT_TPM;
	double start = now_ms();

	if (tpmdev_activate_credential(t, &ch->credential_blob, &ch->encrypted_secret, &secret) !=
	    ERR_OK) {
		code = failed(ATTEST_EXIT_TPM, "credential activation");
		goto out;
	}
	if (tpmdev_quote(t, ch->nonce, &ch->selection, &q) != ERR_OK) {
		code = failed(ATTEST_EXIT_TPM, "quote");
		goto out;
	}
	in->tpm_ms += now_ms() - start;
	if (evidence_quote_request(&eq, &body) != ERR_OK) {
		code = failed(ATTEST_EXIT_USAGE, "quote request");
		goto out;
	}
	code = post(net, PATH_QUOTE, body, in, &resp, retry);
	if (code == STEP_DONE && evidence_parse_admission(resp.body, resp.len, adm) != ERR_OK)
		code = failed(ATTEST_EXIT_UNREACHABLE, "the verifier's admission is malformed");
out:
	OPENSSL_cleanse(&secret, sizeof(secret));
	json_decref(body);
	net_response_free(&resp);
	return code;
}

/* One attestation: challenge, then proof. *retry says whether a failure
 * is one another attempt may mend; each attempt starts with a fresh
 * challenge, since a session cannot be used twice. */
static enum attest_exit attempt(struct tpmdev *t, struct net *net, struct inputs *in,
				const json_t *challenge_body, struct admission *adm, bool *retry)
{
	struct net_response resp = {0};
	struct challenge ch;
	enum attest_exit code;

	*retry = false;
	code = post(net, PATH_CHALLENGE, challenge_body, in, &resp, retry);
	if (code != STEP_DONE)
		goto out;
	if (evidence_parse_challenge(resp.body, resp.len, &ch) != ERR_OK) {
		code = failed(ATTEST_EXIT_UNREACHABLE, "the verifier's challenge is malformed");
		goto out;
	}
	log_debug("challenge: %s, expires in %lld s", pcr_bank_name(ch.selection.bank),
		  (long long)ch.expires_in);
	code = prove(t, net, in, &ch, adm, retry);
	evidence_challenge_free(&ch);
out:
	net_response_free(&resp);
	return code;
}

/* retry_delay doubled per attempt up to retry_max_delay, then a random
 * part of it taken off, so many machines booting at once do not retry in
 * step. */
static void back_off(const struct client_config *cfg, unsigned attempt_no)
{
	unsigned long long delay = cfg->retry_delay_ms;
	uint32_t r = 0;
	struct timespec ts;

	for (unsigned i = 1; i < attempt_no && delay < cfg->retry_max_delay_ms; i++)
		delay *= 2;
	if (delay > cfg->retry_max_delay_ms)
		delay = cfg->retry_max_delay_ms;
	if (delay > 1 && RAND_bytes((unsigned char *)&r, sizeof(r)) == 1)
		delay -= r % (delay / 2 + 1);
	log_info("trying again in %llu ms (attempt %u of %u)", delay, attempt_no + 1,
		 cfg->retries + 1);
	ts.tv_sec = (time_t)(delay / 1000);
	ts.tv_nsec = (long)(delay % 1000) * 1000000L;
	while (!stop_requested && nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

static err_t store_token(const char *path, const char *token)
{
	char dir[CLIENT_CONFIG_MAX_VALUE];

	snprintf(dir, sizeof(dir), "%s", path);
	/* /run/attest is gone after each boot: make it, for root only. */
	if (mkdir(dirname(dir), 0700) != 0 && errno != EEXIST)
		return err_fail(ERR_BAD_REQUEST, "%s: %s", dir, strerror(errno));
	return fileio_write_atomic(path, token, strlen(token), 0600);
}

static enum attest_exit run_protocol(const struct client_config *cfg,
				     const struct attest_options *opt, struct tpmdev *t,
				     struct inputs *in, const json_t *challenge_body)
{
	struct net_options no = {cfg->url, cfg->ca_bundle, cfg->insecure_http, cfg->timeout_s};
	struct net *net = NULL;
	struct admission *adm = calloc(1, sizeof(*adm));
	enum attest_exit code = ATTEST_EXIT_UNREACHABLE;
	bool retry = false;

	if (adm == NULL) {
		log_error("out of memory");
		return ATTEST_EXIT_USAGE;
	}
	if (net_open(&no, &net) != ERR_OK) {
		code = failed(ATTEST_EXIT_USAGE, "network");
		goto out;
	}
	for (unsigned n = 1;; n++) {
		code = attempt(t, net, in, challenge_body, adm, &retry);
		if (!retry)
			break;
		if (n > cfg->retries || stop_requested) {
			log_error("verifier unreachable after %u attempts%s", n,
				  stop_requested ? " (stopped by a signal)" : "");
			break;
		}
		back_off(cfg, n);
	}
	if (code != ATTEST_EXIT_ADMITTED)
		goto out;
	if (cfg->token_file[0] != '\0' && store_token(cfg->token_file, adm->token) != ERR_OK) {
		code = failed(ATTEST_EXIT_USAGE, "token file");
		goto out;
	}
	log_info("admitted: machine %s, attestation %s, token valid until %s", adm->machine_id,
		 adm->attestation_id, adm->expires_at);
	if (opt->print_token && (puts(adm->token) == EOF || fflush(stdout) != 0))
		code = failed(ATTEST_EXIT_USAGE, "printing the token");
out:
	OPENSSL_cleanse(adm, sizeof(*adm));
	free(adm);
	net_close(net);
	return code;
}

enum attest_exit attest_run(const struct client_config *cfg, const struct attest_options *opt)
{
	struct inputs *in = calloc(1, sizeof(*in));
	struct tpmdev *t = NULL;
	json_t *challenge_body = NULL;
	struct evidence_identity id;
	enum attest_exit code;
	double start;

	if (in == NULL) {
		log_error("out of memory");
		return ATTEST_EXIT_USAGE;
	}
	ek_certs_init(&in->certs);
	code = read_local(cfg, opt, in);
	if (code != STEP_DONE)
		goto out;
	start = now_ms();
	if (tpmdev_open(cfg->tcti, &t) != ERR_OK) {
		code = failed(ATTEST_EXIT_TPM, "TPM");
		goto out;
	}
	code = load_ek(cfg, t, in);
	if (code == STEP_DONE)
		code = load_ak(cfg, t, in);
	in->tpm_ms += now_ms() - start;
	if (code != STEP_DONE)
		goto out;
	id = (struct evidence_identity){&in->certs, &in->ek_pub, &in->ak_pub, in->host};
	if (evidence_challenge_request(&id, &challenge_body) != ERR_OK) {
		code = failed(ATTEST_EXIT_USAGE, "challenge request");
		goto out;
	}
	if (opt->dry_run)
		code = print_dry_run(t, in, challenge_body);
	else
		code = run_protocol(cfg, opt, t, in, challenge_body);
	log_debug("time: TPM %.0f ms, verifier %.0f ms", in->tpm_ms, in->net_ms);
out:
	json_decref(challenge_body);
	/* Flushes the EK, the AK and the session on every path. */
	tpmdev_close(t);
	ek_certs_free(&in->certs);
	json_decref(in->host);
	free(in->event_log);
	free(in);
	return code;
}
