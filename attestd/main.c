/* attestd: the verifier daemon. Loads configuration, policy, keys and the
 * store, serves the HTTP API, and shuts down gracefully on SIGTERM/SIGINT:
 * no new connections, requests in progress finish, every decision already
 * queued is committed before the store closes. */
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "app.h"
#include "fileio.h"
#include "log.h"
#include "policy.h"
#include "store_pg.h"

/* Seconds requests in progress get to finish at shutdown. */
#define SHUTDOWN_GRACE_S 10
/* PEM files of a TLS certificate chain and key are a few KiB. */
#define TLS_PEM_MAX (256 * 1024)

static void usage(FILE *out)
{
	fprintf(out,
		"usage: attestd [--config FILE] [--check-config] [--help] [--version]\n"
		"\n"
		"TPM remote attestation verifier: validates EK certificates, credential\n"
		"activation, quotes and measured-boot event logs, and issues admission\n"
		"tokens (see attestd.conf.example for every option).\n"
		"\n"
		"  -c, --config FILE   configuration file (default /etc/attestd/attestd.conf;\n"
		"                      without one, built-in defaults are used)\n"
		"      --check-config  load configuration, policy and keys, then exit\n"
		"  -h, --help          this text\n"
		"  -V, --version       print the version\n"
		"\n"
		"Signals: SIGTERM/SIGINT stop gracefully.\n");
}

static err_t ensure_state_dir(const char *dir)
{
	if (mkdir(dir, 0700) != 0 && errno != EEXIST)
		return err_fail(ERR_INTERNAL, "state_dir %s: %s", dir, strerror(errno));
	return ERR_OK;
}

static err_t load_tls(const struct config *cfg, char **cert, char **key)
{
	uint8_t *c = NULL, *k = NULL;
	size_t clen, klen;

	*cert = *key = NULL;
	if (cfg->tls_cert[0] == '\0' && cfg->tls_key[0] == '\0') {
		if (!cfg->allow_plain_http && !config_is_loopback(cfg->listen_addr))
			return err_fail(ERR_BAD_REQUEST,
					"listen %s is not loopback: set tls_cert and tls_key, or "
					"allow_plain_http = true",
					cfg->listen_addr);
		return ERR_OK;
	}
	if (cfg->tls_cert[0] == '\0' || cfg->tls_key[0] == '\0')
		return err_fail(ERR_BAD_REQUEST, "tls_cert and tls_key must be set together");
	TRY(fileio_read(cfg->tls_cert, TLS_PEM_MAX, &c, &clen));
	err_t rc = fileio_read(cfg->tls_key, TLS_PEM_MAX, &k, &klen);
	if (rc != ERR_OK) {
		free(c);
		return rc;
	}
	*cert = (char *)c;
	*key = (char *)k;
	return ERR_OK;
}

static err_t app_open(struct app *app)
{
	char dir[sizeof(app->cfg.state_dir) + 16];

	TRY(ensure_state_dir(app->cfg.state_dir));
	TRY(policy_load_file(app->cfg.policy, &app->policy));
	TRY(session_key_load(app->cfg.state_dir, &app->session_key));
	snprintf(dir, sizeof(dir), "%s/token-keys", app->cfg.state_dir);
	TRY(token_keys_open(dir, &app->tokens));
	TRY(store_open(app->cfg.store, &app->store));
	return ERR_OK;
}

static void app_close(struct app *app)
{
	store_close(app->store);
	token_keys_free(app->tokens);
	policy_free(app->policy);
	OPENSSL_cleanse(&app->session_key, sizeof(app->session_key));
}

static unsigned default_threads(void)
{
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);

	/* Handlers block while their decision is committed; more threads than
	 * cores let group commit gather many decisions per fsync. */
	return cpus > 0 ? (unsigned)cpus * 8 : 8;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"config", required_argument, NULL, 'c'},
	    {"check-config", no_argument, NULL, 'k'},
	    {"help", no_argument, NULL, 'h'},
	    {"version", no_argument, NULL, 'V'},
	    {NULL, 0, NULL, 0},
	};
	const char *config_path = NULL;
	bool check_only = false;
	struct app *app = calloc(1, sizeof(*app));
	struct http_server *server = NULL;
	char *tls_cert = NULL, *tls_key = NULL;
	sigset_t sigs;
	int opt, sig, status = 1;

	log_init("attestd");
	/* tss2-mu logs every refused unmarshal to stderr; hostile input would
	 * flood the log. Our own refusals say what was wrong. */
	setenv("TSS2_LOG", "all+none", 0);
	if (app == NULL)
		return 1;
	while ((opt = getopt_long(argc, argv, "c:hV", opts, NULL)) != -1) {
		switch (opt) {
		case 'c':
			config_path = optarg;
			break;
		case 'k':
			check_only = true;
			break;
		case 'h':
			usage(stdout);
			free(app);
			return 0;
		case 'V':
			printf("attestd %s\n", ATTEST_VERSION);
			free(app);
			return 0;
		default:
			usage(stderr);
			free(app);
			return 2;
		}
	}
	if (optind != argc) {
		usage(stderr);
		free(app);
		return 2;
	}

	config_defaults(&app->cfg);
	if (config_path == NULL && access("/etc/attestd/attestd.conf", F_OK) == 0)
		config_path = "/etc/attestd/attestd.conf";
	if (config_path != NULL && config_load(config_path, &app->cfg) != ERR_OK) {
		log_error("configuration: %s", err_detail());
		goto out;
	}
	log_set_level(app->cfg.log_level);
	if (app->cfg.threads == 0)
		app->cfg.threads = default_threads();
	if (load_tls(&app->cfg, &tls_cert, &tls_key) != ERR_OK || app_open(app) != ERR_OK) {
		log_error("start-up: %s", err_detail());
		goto out;
	}
	if (check_only) {
		printf("configuration OK\n");
		status = 0;
		goto out;
	}

	/* Block the stop signals before threads start, so they all inherit the
	 * mask and only sigwait below receives them. */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	signal(SIGPIPE, SIG_IGN);

	struct http_server_config hc = {
	    .addr = app->cfg.listen_addr,
	    .port = app->cfg.listen_port,
	    .tls_cert_pem = tls_cert,
	    .tls_key_pem = tls_key,
	    .threads = app->cfg.threads,
	    .max_body = app->cfg.max_body,
	    .dispatch = app_dispatch,
	    .app = app,
	};
	if (http_start(&hc, &server) != ERR_OK) {
		log_error("start-up: %s", err_detail());
		goto out;
	}
	char store_shown[sizeof(app->cfg.store)];

	/* A PostgreSQL URI may carry a password: never log it. */
	store_pg_redact_uri(app->cfg.store, store_shown, sizeof(store_shown));
	log_info("listening on %s:%u (%s, %u threads), store %s, policy %s", app->cfg.listen_addr,
		 (unsigned)http_port(server), tls_cert != NULL ? "https" : "plain http",
		 app->cfg.threads, store_shown, app->cfg.policy);
	if (sigwait(&sigs, &sig) != 0)
		sig = SIGTERM;
	log_info("signal %d: finishing requests in progress, then stopping", sig);
	http_stop(server, SHUTDOWN_GRACE_S);
	status = 0;
out:
	app_close(app);
	free(tls_cert);
	if (tls_key != NULL)
		OPENSSL_clear_free(tls_key, strlen(tls_key));
	free(app);
	if (status == 0)
		log_info("stopped");
	return status;
}
