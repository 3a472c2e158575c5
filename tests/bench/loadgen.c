/* Load generator for a running attestd, with software TPMs (soft_tpm.h) in
 * place of hardware ones, so the verifier is the only thing measured.
 *
 *   loadgen --url URL attest --pki DIR [--ek rsa|ecc] [--ack-log FILE]
 *       each thread is one machine doing challenge -> ActivateCredential ->
 *       quote (sha256 PCRs and a ~30 KB event log) -> POST quote, over one
 *       keep-alive connection; latency is the whole attestation. With
 *       --ack-log, "ATTESTATION_ID TOKEN" is appended for every 200 as soon
 *       as it arrives (the crash test's record of what clients saw).
 *       --no-chain leaves the EK intermediate out of the challenge.
 *   loadgen --url URL get --path P [--path P...] [--paths FILE] [--header H]
 *       GET of the paths in turn (admission checks, history queries, a no-op
 *       endpoint as their baseline); 2xx counts as success.
 *
 * Common options: --threads N (8), --seconds S (5), --server-pid PID (adds
 * attestd's CPU time per operation, read from /proc). Prints one JSON object
 * of figures on stdout; never judges them. */
#include <getopt.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <jansson.h>

#include "b64.h"
#include "json_util.h"
#include "pcrs.h"
#include "soft_tpm.h"

#define LOADGEN_MAX_THREADS 256
#define LOADGEN_MAX_HEADERS 8
#define LOADGEN_MAX_PATHS   100000
/* Longest path line read from --paths. */
#define LOADGEN_PATH_MAX 1024
/* A server answer larger than this is not one of attestd's (a 1000-row
 * history page is ~1 MB). */
#define LOADGEN_MAX_RESPONSE (8u << 20)
/* After a transport error (the server is down), wait this long before the
 * next try, so a dead server does not turn the client into a busy loop. */
#define LOADGEN_RETRY_PAUSE_NS (20 * 1000 * 1000)
/* Per-request ceiling: far above any sane latency, bounds a hung server. */
#define LOADGEN_REQUEST_TIMEOUT_S 30L

struct options {
	const char *url, *mode, *pki, *ack_log;
	const char *headers[LOADGEN_MAX_HEADERS];
	size_t nheaders;
	char **paths;
	size_t npaths;
	unsigned threads;
	double seconds;
	enum soft_ek_type ek;
	bool send_chain;
	long server_pid;
};

struct shared {
	const struct options *opt;
	pthread_barrier_t ready;
	double deadline;
	FILE *ack;
	pthread_mutex_t ack_mu;
};

struct worker {
	pthread_t thread;
	struct shared *sh;
	unsigned index;
	CURL *curl;
	struct curl_slist *headers;
	struct soft_tpm *tpm;
	/* Attest mode, what never changes: the challenge body, and the end of
	 * every quote body (the event log member, ~40 KB). */
	char *challenge_body, *quote_tail;
	size_t quote_tail_len;
	char *response;
	size_t response_len;
	double *latency;
	size_t nlatency, cap;
	unsigned long ok, failed;
	char first_error[256];
};

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(const char *what)
{
	fprintf(stderr, "loadgen: %s\n", what);
	exit(1);
}

static size_t on_data(char *p, size_t size, size_t n, void *ctx)
{
	struct worker *w = ctx;
	size_t len = size * n;
	char *grown;

	if (len > LOADGEN_MAX_RESPONSE - w->response_len)
		return 0;
	grown = realloc(w->response, w->response_len + len + 1);
	if (grown == NULL)
		return 0;
	memcpy(grown + w->response_len, p, len);
	w->response = grown;
	w->response_len += len;
	w->response[w->response_len] = '\0';
	return len;
}

/* One request on the worker's keep-alive connection: the HTTP status, or 0
 * when the transport failed. The answer is in w->response. */
static long request(struct worker *w, const char *path, const char *post_body)
{
	char url[LOADGEN_PATH_MAX + 256];
	long status = 0;

	snprintf(url, sizeof(url), "%s%s", w->sh->opt->url, path);
	w->response_len = 0;
	if (w->response != NULL)
		w->response[0] = '\0';
	curl_easy_setopt(w->curl, CURLOPT_URL, url);
	if (post_body != NULL)
		curl_easy_setopt(w->curl, CURLOPT_POSTFIELDS, post_body);
	else
		curl_easy_setopt(w->curl, CURLOPT_HTTPGET, 1L);
	if (curl_easy_perform(w->curl) != CURLE_OK ||
	    curl_easy_getinfo(w->curl, CURLINFO_RESPONSE_CODE, &status) != CURLE_OK)
		return 0;
	return status;
}

static void note_failure(struct worker *w, const char *what, long status)
{
	w->failed++;
	if (w->first_error[0] == '\0')
		snprintf(w->first_error, sizeof(w->first_error), "%s: HTTP %ld %.180s", what,
			 status, w->response != NULL ? w->response : "");
	if (status == 0) {
		struct timespec pause = {0, LOADGEN_RETRY_PAUSE_NS};

		nanosleep(&pause, NULL);
	}
}

static void note_success(struct worker *w, double seconds)
{
	if (w->nlatency == w->cap) {
		size_t cap = w->cap != 0 ? w->cap * 2 : 4096;
		double *grown = realloc(w->latency, cap * sizeof(*grown));

		if (grown == NULL)
			die("out of memory");
		w->latency = grown;
		w->cap = cap;
	}
	w->latency[w->nlatency++] = seconds;
	w->ok++;
}

/* A JSON string of the standard base64 of p[0..n). */
static json_t *b64_json(const uint8_t *p, size_t n)
{
	char *s = b64_encode(p, n);
	json_t *j = s != NULL ? json_string(s) : NULL;

	free(s);
	if (j == NULL)
		die("out of memory");
	return j;
}

/* Compact text of j, which it consumes. */
static char *dump(json_t *j)
{
	char *s = j != NULL ? json_dumps(j, JSON_COMPACT) : NULL;

	json_decref(j);
	if (s == NULL)
		die("out of memory");
	return s;
}

/* ---- attest mode ---- */

/* One machine per thread. Its challenge body never changes: made once. */
static void prepare_machine(struct worker *w)
{
	size_t cert_len, chain_len, ek_len, ak_len, log_len;
	const uint8_t *cert, *chain, *ek, *ak, *log;
	char host[32];
	json_t *body;

	w->tpm = soft_tpm_new(w->sh->opt->ek, w->sh->opt->pki);
	cert = soft_tpm_ek_cert(w->tpm, &cert_len);
	chain = soft_tpm_ek_chain(w->tpm, &chain_len);
	ek = soft_tpm_ek_pub(w->tpm, &ek_len);
	ak = soft_tpm_ak_pub(w->tpm, &ak_len);
	log = soft_tpm_event_log(w->tpm, &log_len);
	snprintf(host, sizeof(host), "loadgen-%u", w->index);
	body = json_pack("{s:o, s:o, s:o, s:{s:s}}", "ek_cert", b64_json(cert, cert_len), "ek_pub",
			 b64_json(ek, ek_len), "ak_pub", b64_json(ak, ak_len), "host", "hostname",
			 host);
	/* The intermediate goes along, as attest-client sends what the TPM's
	 * NV chain indices hold. */
	if (body == NULL ||
	    (w->sh->opt->send_chain &&
	     json_object_set_new(body, "ek_chain", json_pack("[o]", b64_json(chain, chain_len))) !=
		 0))
		die("out of memory");
	w->challenge_body = dump(body);
	/* Base64 needs no JSON escaping, so the log is pasted in as text once
	 * rather than escaped by jansson on every request: the load generator
	 * shares the cores with attestd, and this was most of its time. */
	char *b64 = b64_encode(log, log_len);
	if (b64 == NULL || asprintf(&w->quote_tail, ",\"event_log\":\"%s\"}", b64) < 0)
		die("out of memory");
	w->quote_tail_len = strlen(w->quote_tail);
	free(b64);
}

static char *quote_body(struct worker *w, const char *session, const uint8_t *secret,
			size_t secret_len, const uint8_t *attest, size_t attest_len,
			const uint8_t *sig, size_t sig_len, uint32_t mask)
{
	json_t *values = json_object();

	if (values == NULL)
		die("out of memory");
	for (unsigned i = 0; i < PCR_COUNT; i++) {
		char index[4], hex[2 * 32 + 1];

		if (!(mask & (1u << i)))
			continue;
		snprintf(index, sizeof(index), "%u", i);
		hex_encode(soft_tpm_pcr_sha256(w->tpm, i), 32, hex);
		if (json_object_set_new(values, index, json_string(hex)) != 0)
			die("out of memory");
	}
	char *head =
	    dump(json_pack("{s:s, s:o, s:o, s:o, s:{s:o}}", "session", session, "secret",
			   b64_json(secret, secret_len), "quote", b64_json(attest, attest_len),
			   "signature", b64_json(sig, sig_len), "pcrs", "sha256", values));
	size_t head_len = strlen(head) - 1; /* without its closing brace */
	char *body = realloc(head, head_len + w->quote_tail_len + 1);

	if (body == NULL)
		die("out of memory");
	memcpy(body + head_len, w->quote_tail, w->quote_tail_len + 1);
	return body;
}

static void acknowledge(struct worker *w, json_int_t id, const char *token)
{
	struct shared *sh = w->sh;

	if (sh->ack == NULL)
		return;
	pthread_mutex_lock(&sh->ack_mu);
	fprintf(sh->ack, "%lld %s\n", (long long)id, token);
	fflush(sh->ack);
	pthread_mutex_unlock(&sh->ack_mu);
}

/* The machine's half of the protocol, as attest-client does it. */
static void attest_once(struct worker *w)
{
	double start = now();
	json_t *challenge = NULL, *answer = NULL;
	uint8_t *blob = NULL, *enc = NULL, *nonce = NULL;
	uint8_t secret[64], attest[SOFT_TPM_ATTEST_MAX], sig[SOFT_TPM_SIGNATURE_MAX];
	size_t blob_len = 0, enc_len = 0, nonce_len = 0, secret_len = 0, attest_len, sig_len;
	const char *session, *selection, *token;
	struct pcr_selection sel;
	char *body = NULL;
	json_int_t id;
	long status;

	status = request(w, "/v1/attest/challenge", w->challenge_body);
	if (status != 200) {
		note_failure(w, "challenge", status);
		goto out;
	}
	challenge = json_loads(w->response, 0, NULL);
	session = json_string_value(json_object_get(challenge, "session"));
	selection = json_string_value(json_object_get(challenge, "pcr_selection"));
	if (session == NULL || selection == NULL ||
	    json_get_b64(challenge, "credential_blob", sizeof(TPM2B_ID_OBJECT), &blob, &blob_len) !=
		ERR_OK ||
	    json_get_b64(challenge, "encrypted_secret", sizeof(TPM2B_ENCRYPTED_SECRET), &enc,
			 &enc_len) != ERR_OK ||
	    json_get_b64(challenge, "nonce", 32, &nonce, &nonce_len) != ERR_OK || nonce_len != 32 ||
	    pcr_selection_parse(selection, &sel) != ERR_OK || sel.bank != TPM2_ALG_SHA256) {
		note_failure(w, "challenge answer", status);
		goto out;
	}
	if (!soft_tpm_activate(w->tpm, blob, blob_len, enc, enc_len, secret, &secret_len)) {
		note_failure(w, "ActivateCredential", status);
		goto out;
	}
	soft_tpm_quote(w->tpm, nonce, sel.mask, attest, &attest_len, sig, &sig_len);
	body =
	    quote_body(w, session, secret, secret_len, attest, attest_len, sig, sig_len, sel.mask);
	status = request(w, "/v1/attest/quote", body);
	if (status != 200) {
		note_failure(w, "quote", status);
		goto out;
	}
	answer = json_loads(w->response, 0, NULL);
	token = json_string_value(json_object_get(answer, "token"));
	id = json_integer_value(json_object_get(answer, "attestation_id"));
	if (token == NULL || id <= 0) {
		note_failure(w, "quote answer", status);
		goto out;
	}
	acknowledge(w, id, token);
	note_success(w, now() - start);
out:
	json_decref(challenge);
	json_decref(answer);
	free(blob);
	free(enc);
	free(nonce);
	free(body);
}

/* ---- get mode ---- */

static void get_once(struct worker *w, size_t *next)
{
	const struct options *o = w->sh->opt;
	double start = now();
	long status = request(w, o->paths[*next % o->npaths], NULL);

	(*next)++;
	if (status >= 200 && status < 300)
		note_success(w, now() - start);
	else
		note_failure(w, "GET", status);
}

/* ---- threads ---- */

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	const struct options *o = w->sh->opt;
	bool attest = strcmp(o->mode, "attest") == 0;
	/* Threads start at different paths, so they do not query in step. */
	size_t next = (size_t)w->index * 7919;

	w->curl = curl_easy_init();
	w->headers = curl_slist_append(NULL, "Content-Type: application/json");
	/* curl would wait for a 100 Continue before every body over 1 KiB. */
	w->headers = curl_slist_append(w->headers, "Expect:");
	for (size_t i = 0; i < o->nheaders; i++)
		w->headers = curl_slist_append(w->headers, o->headers[i]);
	if (w->curl == NULL || w->headers == NULL)
		die("curl set-up failed");
	curl_easy_setopt(w->curl, CURLOPT_HTTPHEADER, w->headers);
	curl_easy_setopt(w->curl, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(w->curl, CURLOPT_WRITEDATA, w);
	curl_easy_setopt(w->curl, CURLOPT_TIMEOUT, LOADGEN_REQUEST_TIMEOUT_S);
	curl_easy_setopt(w->curl, CURLOPT_NOSIGNAL, 1L);
	if (attest)
		prepare_machine(w);
	pthread_barrier_wait(&w->sh->ready);
	pthread_barrier_wait(&w->sh->ready); /* the main thread set the deadline */
	while (now() < w->sh->deadline) {
		if (attest)
			attest_once(w);
		else
			get_once(w, &next);
	}
	return NULL;
}

static void worker_free(struct worker *w)
{
	curl_easy_cleanup(w->curl);
	curl_slist_free_all(w->headers);
	soft_tpm_free(w->tpm);
	free(w->challenge_body);
	free(w->quote_tail);
	free(w->response);
	free(w->latency);
}

/* ---- figures ---- */

static int by_value(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* The nearest-rank percentile of sorted v[0..n), in ms. */
static double percentile_ms(const double *v, size_t n, double p)
{
	size_t rank;

	if (n == 0)
		return 0;
	rank = (size_t)(p / 100.0 * (double)n + 0.999999);
	return 1000.0 * v[rank == 0 ? 0 : rank - 1];
}

static double cpu_seconds_self(void)
{
	struct rusage ru;

	if (getrusage(RUSAGE_SELF, &ru) != 0)
		return 0;
	return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
	       (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

/* utime + stime of another process (fields 14 and 15 of /proc/PID/stat,
 * counted after the command name, which may hold spaces); -1 if unknown. */
static double cpu_seconds_of(long pid)
{
	char path[64], line[1024], *p;
	unsigned long long utime, stime;
	FILE *f;

	if (pid <= 0)
		return -1;
	snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
	f = fopen(path, "r");
	if (f == NULL)
		return -1;
	p = fgets(line, sizeof(line), f);
	fclose(f);
	if (p == NULL || (p = strrchr(line, ')')) == NULL ||
	    sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &utime,
		   &stime) != 2)
		return -1;
	return (double)(utime + stime) / (double)sysconf(_SC_CLK_TCK);
}

static void report(const struct options *o, struct worker *workers, double elapsed,
		   double client_cpu, double server_cpu)
{
	size_t n = 0;
	unsigned long ok = 0, failed = 0;
	const char *first_error = "";
	double *all;
	json_t *out;

	for (unsigned i = 0; i < o->threads; i++)
		n += workers[i].nlatency;
	all = malloc((n != 0 ? n : 1) * sizeof(*all));
	if (all == NULL)
		die("out of memory");
	n = 0;
	for (unsigned i = 0; i < o->threads; i++) {
		if (workers[i].nlatency > 0) /* a worker with no answers has no array */
			memcpy(all + n, workers[i].latency, workers[i].nlatency * sizeof(*all));
		n += workers[i].nlatency;
		ok += workers[i].ok;
		failed += workers[i].failed;
		if (first_error[0] == '\0')
			first_error = workers[i].first_error;
	}
	qsort(all, n, sizeof(*all), by_value);
	out = json_pack("{s:s, s:I, s:f, s:I, s:I, s:f, s:f, s:f, s:f, s:f, s:s}", "mode", o->mode,
			"threads", (json_int_t)o->threads, "seconds", elapsed, "ok", (json_int_t)ok,
			"failed", (json_int_t)failed, "rate", (double)ok / elapsed, "p50_ms",
			percentile_ms(all, n, 50), "p99_ms", percentile_ms(all, n, 99), "max_ms",
			percentile_ms(all, n, 100), "client_cpu_us",
			ok != 0 ? 1e6 * client_cpu / (double)ok : 0.0, "first_error", first_error);
	if (out == NULL)
		die("out of memory");
	if (server_cpu >= 0)
		json_object_set_new(out, "server_cpu_us",
				    json_real(ok != 0 ? 1e6 * server_cpu / (double)ok : 0.0));
	if (strcmp(o->mode, "attest") == 0)
		json_object_set_new(out, "ek", json_string(o->ek == SOFT_EK_RSA ? "rsa" : "ecc"));
	json_dumpf(out, stdout, JSON_COMPACT);
	putchar('\n');
	json_decref(out);
	free(all);
}

static void run(const struct options *o)
{
	struct shared sh = {.opt = o};
	struct worker *workers = calloc(o->threads, sizeof(*workers));
	double start, client_cpu, server_cpu;

	if (workers == NULL || pthread_barrier_init(&sh.ready, NULL, o->threads + 1) != 0 ||
	    pthread_mutex_init(&sh.ack_mu, NULL) != 0)
		die("set-up failed");
	if (o->ack_log != NULL && (sh.ack = fopen(o->ack_log, "w")) == NULL)
		die("cannot write the --ack-log file");
	for (unsigned i = 0; i < o->threads; i++) {
		workers[i].sh = &sh;
		workers[i].index = i;
		if (pthread_create(&workers[i].thread, NULL, worker_main, &workers[i]) != 0)
			die("cannot start a thread");
	}
	pthread_barrier_wait(&sh.ready); /* every machine made, every handle set up */
	start = now();
	sh.deadline = start + o->seconds;
	client_cpu = cpu_seconds_self();
	server_cpu = cpu_seconds_of(o->server_pid);
	pthread_barrier_wait(&sh.ready);
	for (unsigned i = 0; i < o->threads; i++)
		pthread_join(workers[i].thread, NULL);
	client_cpu = cpu_seconds_self() - client_cpu;
	if (server_cpu >= 0) {
		double after = cpu_seconds_of(o->server_pid);

		server_cpu = after >= 0 ? after - server_cpu : -1;
	}
	report(o, workers, now() - start, client_cpu, server_cpu);
	if (sh.ack != NULL && fclose(sh.ack) != 0)
		die("writing the --ack-log file failed");
	for (unsigned i = 0; i < o->threads; i++)
		worker_free(&workers[i]);
	free(workers);
	pthread_barrier_destroy(&sh.ready);
	pthread_mutex_destroy(&sh.ack_mu);
}

/* ---- command line ---- */

static void usage(void)
{
	fprintf(stderr,
		"usage: loadgen --url URL [--threads N] [--seconds S] [--server-pid PID] MODE ...\n"
		"  attest --pki DIR [--ek rsa|ecc] [--no-chain] [--ack-log FILE]\n"
		"  get (--path P | --paths FILE)... [--header 'Name: value']...\n");
	exit(2);
}

static void add_path(struct options *o, const char *path)
{
	char **grown;

	if (o->npaths == LOADGEN_MAX_PATHS || path[0] != '/' || strlen(path) >= LOADGEN_PATH_MAX)
		die("bad or too many paths (each starts with '/')");
	grown = realloc(o->paths, (o->npaths + 1) * sizeof(*grown));
	if (grown == NULL || (grown[o->npaths] = strdup(path)) == NULL)
		die("out of memory");
	o->paths = grown;
	o->npaths++;
}

static void read_paths(struct options *o, const char *file)
{
	char line[LOADGEN_PATH_MAX + 2];
	FILE *f = fopen(file, "r");

	if (f == NULL)
		die("cannot read the --paths file");
	while (fgets(line, sizeof(line), f) != NULL) {
		line[strcspn(line, "\r\n")] = '\0';
		if (line[0] != '\0')
			add_path(o, line);
	}
	fclose(f);
}

static void parse_args(int argc, char **argv, struct options *o)
{
	static const struct option opts[] = {
	    {"url", required_argument, NULL, 'u'},     {"threads", required_argument, NULL, 't'},
	    {"seconds", required_argument, NULL, 's'}, {"server-pid", required_argument, NULL, 'P'},
	    {"pki", required_argument, NULL, 'k'},     {"ek", required_argument, NULL, 'e'},
	    {"ack-log", required_argument, NULL, 'a'}, {"path", required_argument, NULL, 'p'},
	    {"paths", required_argument, NULL, 'f'},   {"header", required_argument, NULL, 'H'},
	    {"no-chain", no_argument, NULL, 'n'},      {NULL, 0, NULL, 0},
	};
	int opt;

	*o = (struct options){.threads = 8, .seconds = 5, .ek = SOFT_EK_RSA, .send_chain = true};
	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (opt) {
		case 'u':
			o->url = optarg;
			break;
		case 't':
			o->threads = (unsigned)strtoul(optarg, NULL, 10);
			break;
		case 's':
			o->seconds = strtod(optarg, NULL);
			break;
		case 'P':
			o->server_pid = strtol(optarg, NULL, 10);
			break;
		case 'k':
			o->pki = optarg;
			break;
		case 'e':
			if (strcmp(optarg, "rsa") != 0 && strcmp(optarg, "ecc") != 0)
				usage();
			o->ek = strcmp(optarg, "rsa") == 0 ? SOFT_EK_RSA : SOFT_EK_ECC;
			break;
		case 'a':
			o->ack_log = optarg;
			break;
		case 'n':
			o->send_chain = false;
			break;
		case 'p':
			add_path(o, optarg);
			break;
		case 'f':
			read_paths(o, optarg);
			break;
		case 'H':
			if (o->nheaders == LOADGEN_MAX_HEADERS)
				die("too many --header options");
			o->headers[o->nheaders++] = optarg;
			break;
		default:
			usage();
		}
	}
	if (optind + 1 != argc || o->url == NULL || o->threads == 0 ||
	    o->threads > LOADGEN_MAX_THREADS || !(o->seconds > 0))
		usage();
	o->mode = argv[optind];
	if (strcmp(o->mode, "attest") == 0 ? o->pki == NULL
					   : strcmp(o->mode, "get") != 0 || o->npaths == 0)
		usage();
}

int main(int argc, char **argv)
{
	struct options o;

	parse_args(argc, argv, &o);
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		die("curl_global_init failed");
	run(&o);
	for (size_t i = 0; i < o.npaths; i++)
		free(o.paths[i]);
	free(o.paths);
	curl_global_cleanup();
	return 0;
}
