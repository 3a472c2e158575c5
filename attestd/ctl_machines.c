/* attestctl machines: enroll, revoke, reinstate, list, show. Works on the
 * store directly, so it acts at once for every running attestd. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ctl.h"
#include "ekcert.h"
#include "fileio.h"
#include "record_json.h"
#include "store.h"

static void machines_usage(FILE *out)
{
	fprintf(out, "usage: attestctl [-c CONFIG] machines enroll (MACHINE_ID | --ek-cert FILE) "
		     "[--note TEXT]\n"
		     "       attestctl [-c CONFIG] machines revoke MACHINE_ID [--reason TEXT]\n"
		     "       attestctl [-c CONFIG] machines reinstate MACHINE_ID\n"
		     "       attestctl [-c CONFIG] machines list\n"
		     "       attestctl [-c CONFIG] machines show MACHINE_ID\n"
		     "\n"
		     "MACHINE_ID is sha256:<hex of the EK's SubjectPublicKeyInfo>, as attestd\n"
		     "reports it; --ek-cert computes it from an EK certificate (DER or PEM).\n");
}

static int machine_id_from_cert(const char *path, char id[static EKCERT_MACHINE_ID_SIZE])
{
	uint8_t *buf = NULL;
	size_t len = 0;
	struct ekcert *c = NULL;
	err_t rc;

	rc = fileio_read(path, EKCERT_MAX_INPUT, &buf, &len);
	if (rc == ERR_OK)
		rc = ekcert_parse(buf, len, &c);
	if (rc == ERR_OK)
		rc = ekcert_machine_id(c, id);
	ekcert_free(c);
	free(buf);
	return rc == ERR_OK ? CTL_EXIT_OK : ctl_fail(rc);
}

static bool print_machine(const struct machine *m, void *ctx)
{
	(void)ctx;
	printf("%s  %-9s %-8s last %s  %s\n", m->id, m->enrolled ? "enrolled" : "-",
	       m->revoked_at != 0 ? "REVOKED" : "active",
	       m->last_outcome[0] != '\0' ? m->last_outcome : "never", m->note);
	return true;
}

static int show_machine(struct store *st, const char *id)
{
	struct machine m;
	err_t rc = st->ops->machine_get(st, id, &m);
	json_t *j;

	if (rc != ERR_OK)
		return ctl_fail(rc);
	j = machine_to_json(&m);
	json_dumpf(j, stdout, JSON_INDENT(2));
	putchar('\n');
	json_decref(j);
	return CTL_EXIT_OK;
}

int ctl_machines_run(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"ek-cert", required_argument, NULL, 'e'},
	    {"note", required_argument, NULL, 'n'},
	    {"reason", required_argument, NULL, 'r'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	const char *ek_cert = NULL, *note = "", *reason = "", *verb, *id = NULL;
	char cert_id[EKCERT_MACHINE_ID_SIZE];
	struct store *st = NULL;
	int opt, status;
	err_t rc = ERR_OK;

	while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (opt) {
		case 'e':
			ek_cert = optarg;
			break;
		case 'n':
			note = optarg;
			break;
		case 'r':
			reason = optarg;
			break;
		case 'h':
			machines_usage(stdout);
			return CTL_EXIT_OK;
		default:
			machines_usage(stderr);
			return CTL_EXIT_USAGE;
		}
	}
	if (optind >= argc) {
		machines_usage(stderr);
		return CTL_EXIT_USAGE;
	}
	verb = argv[optind++];
	if (optind < argc)
		id = argv[optind++];
	if (ek_cert != NULL) {
		if (id != NULL || machine_id_from_cert(ek_cert, cert_id) != CTL_EXIT_OK)
			return id != NULL ? CTL_EXIT_USAGE : CTL_EXIT_FAIL;
		id = cert_id;
	}
	bool needs_id = strcmp(verb, "list") != 0;
	if (optind != argc || needs_id != (id != NULL) ||
	    (needs_id && !store_machine_id_valid(id))) {
		if (id != NULL && !store_machine_id_valid(id))
			fprintf(stderr, "attestctl: '%s' is not a machine id (sha256:<64 hex>)\n",
				id);
		machines_usage(stderr);
		return CTL_EXIT_USAGE;
	}
	if (strcmp(verb, "enroll") != 0 && strcmp(verb, "revoke") != 0 &&
	    strcmp(verb, "reinstate") != 0 && strcmp(verb, "list") != 0 &&
	    strcmp(verb, "show") != 0) {
		machines_usage(stderr);
		return CTL_EXIT_USAGE;
	}
	status = ctl_open_store(&st);
	if (status != CTL_EXIT_OK)
		return status;
	if (strcmp(verb, "enroll") == 0)
		rc = st->ops->machine_enroll(st, id, note, time(NULL));
	else if (strcmp(verb, "revoke") == 0)
		rc = st->ops->machine_set_revoked(st, id, time(NULL), reason);
	else if (strcmp(verb, "reinstate") == 0)
		rc = st->ops->machine_set_revoked(st, id, 0, "");
	else if (strcmp(verb, "list") == 0)
		rc = st->ops->machines_list(st, NULL, SIZE_MAX >> 1, print_machine, NULL);
	if (rc != ERR_OK)
		status = ctl_fail(rc);
	else if (strcmp(verb, "list") != 0)
		status = show_machine(st, id);
	store_close(st);
	return status;
}
