/* The PostgreSQL store against a throwaway server (initdb + pg_ctl in a
 * temporary directory, run as the `postgres` user when we are root): the
 * sqlite contract (chain, append-only, single-use sessions, machines,
 * queries, API keys), and what several instances on one database add (two
 * handles stand in for two attestd instances): one chain under concurrent
 * writers, a replay refused by the other instance, schema migrations that
 * do not race, and 503 while the server is down with recovery after. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>
#include <libpq-fe.h>

#include "store.h"
#include "store_pg.h"
#include "store_pg_int.h"
#include "store_contract.h"
#include "unit_util.h"

/* The server, shared by all tests; each test gets a database of its own. */
static struct {
	char *dir;
	char bin[256];
	int port;
	bool as_postgres;
} srv;

struct fixture {
	char spec[256];
	char db[32];
	struct store *st;
};

/* Runs a shell command as the server's user; false when it failed. */
__attribute__((format(printf, 1, 2))) static bool sh(const char *fmt, ...)
{
	char cmd[2048], inner[1900];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(inner, sizeof(inner), fmt, ap);
	va_end(ap);
	if (srv.as_postgres)
		snprintf(cmd, sizeof(cmd), "runuser -u postgres -- sh -c '%s' >>%s/test.log 2>&1",
			 inner, srv.dir);
	else
		snprintf(cmd, sizeof(cmd), "sh -c '%s' >>%s/test.log 2>&1", inner, srv.dir);
	return system(cmd) == 0;
}

/* fsync=off: these tests check logic, not durability on power loss (the
 * integration tests run with fsync on), and it keeps the run short. */
static bool server_start(void)
{
	return sh("%s/pg_ctl -D %s/data -l %s/server.log -w -t 30 -o \"-p %d -k %s "
		  "-c listen_addresses=127.0.0.1 -c max_connections=200 -c fsync=off\" start",
		  srv.bin, srv.dir, srv.dir, srv.port, srv.dir);
}

static bool server_stop(void)
{
	return sh("%s/pg_ctl -D %s/data -m immediate -w stop", srv.bin, srv.dir);
}

/* A TCP port free on 127.0.0.1 now (another process could take it before
 * the server binds; then the start fails loudly). */
static int free_port(void)
{
	struct sockaddr_in a = {.sin_family = AF_INET};
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0), port = -1;

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0 &&
	    getsockname(fd, (struct sockaddr *)&a, &len) == 0)
		port = ntohs(a.sin_port);
	if (fd >= 0)
		close(fd);
	return port;
}

static int group_setup(void **state)
{
	FILE *p = popen("ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1", "r");

	(void)state;
	if (p == NULL || fgets(srv.bin, sizeof(srv.bin), p) == NULL) {
		fprintf(stderr, "PostgreSQL server programs are missing (scripts/install-deps)\n");
		return -1;
	}
	pclose(p);
	srv.bin[strcspn(srv.bin, "\n")] = '\0';
	srv.dir = unit_tmpdir();
	srv.as_postgres = geteuid() == 0;
	srv.port = free_port();
	if (srv.port < 0)
		return -1;
	if (srv.as_postgres) {
		char cmd[600];

		snprintf(cmd, sizeof(cmd), "chown postgres: %s", srv.dir);
		if (system(cmd) != 0)
			return -1;
	}
	if (!sh("%s/initdb -D %s/data -U attestd --auth=trust -E UTF8 --locale=C --no-sync",
		srv.bin, srv.dir) ||
	    !server_start()) {
		fprintf(stderr, "cannot start PostgreSQL; see %s/test.log\n", srv.dir);
		return -1;
	}
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	(void)server_stop();
	unit_rmtree(srv.dir);
	return 0;
}

/* Runs SQL on a database as a role; returns the first value of the
 * result ("" when none), or NULL when the statement failed. */
static char *psql_as(const char *user, const char *db, const char *sql)
{
	static char value[256];
	char conninfo[256];
	PGconn *c;
	PGresult *r;
	char *out = NULL;

	snprintf(conninfo, sizeof(conninfo), "host=127.0.0.1 port=%d user=%s dbname=%s", srv.port,
		 user, db);
	c = PQconnectdb(conninfo);
	assert_int_equal(PQstatus(c), CONNECTION_OK);
	r = PQexec(c, sql);
	if (PQresultStatus(r) == PGRES_COMMAND_OK || PQresultStatus(r) == PGRES_TUPLES_OK) {
		snprintf(value, sizeof(value), "%s", PQntuples(r) > 0 ? PQgetvalue(r, 0, 0) : "");
		out = value;
	}
	PQclear(r);
	PQfinish(c);
	return out;
}

/* As the owner, who created the schema. */
static char *psql(const char *db, const char *sql)
{
	return psql_as("attestd", db, sql);
}

static int setup(void **state)
{
	static int n;
	struct fixture *f = calloc(1, sizeof(*f));
	char sql[160];

	snprintf(f->db, sizeof(f->db), "t%d", ++n);
	/* A natural-language collation (ICU English: "a" < "b" < "B"), as on a
	 * server set up for people: ids must still page in byte order. */
	snprintf(sql, sizeof(sql),
		 "CREATE DATABASE %s TEMPLATE template0 LOCALE_PROVIDER icu ICU_LOCALE 'en-US'"
		 " LOCALE 'C.UTF-8'",
		 f->db);
	if (psql("postgres", sql) == NULL)
		return -1;
	snprintf(f->spec, sizeof(f->spec), "postgresql://attestd@127.0.0.1:%d/%s", srv.port, f->db);
	if (store_open(f->spec, &f->st) != ERR_OK) {
		fprintf(stderr, "store_open: %s\n", err_detail());
		return -1;
	}
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	store_close(f->st);
	free(f);
	return 0;
}

static void commit_n(struct store *st, int n, int64_t time)
{
	for (int i = 0; i < n; i++) {
		struct attestation_record r;

		make_record(&r, "sha256:aa", i % 2 == 0, time + i);
		assert_int_equal(st->ops->commit_decision(st, NULL, 0, &r), ERR_OK);
	}
}

static void assert_audit(struct store *st, int64_t rows, int64_t first_bad)
{
	struct audit_result a;

	assert_int_equal(st->ops->audit_verify(st, &a), ERR_OK);
	assert_int_equal(a.rows, rows);
	assert_int_equal(a.first_bad_id, first_bad);
}

static void test_chain_and_reopen(void **state)
{
	struct fixture *f = *state;
	struct attestation_record r, got;

	commit_n(f->st, 5, 100);
	assert_audit(f->st, 5, 0);
	store_close(f->st);
	assert_int_equal(store_open(f->spec, &f->st), ERR_OK);
	make_record(&r, "sha256:bb", true, 200);
	assert_int_equal(f->st->ops->commit_decision(f->st, NULL, 0, &r), ERR_OK);
	assert_int_equal(r.id, 6);
	assert_int_equal(f->st->ops->attestation_get(f->st, 5, &got), ERR_OK);
	assert_memory_equal(r.prev_hash, got.hash, STORE_HASH_LEN);
	/* Every field comes back as it went in: the hash, which covers them
	 * all, recomputed from what was read, is the one computed on write. */
	uint8_t again[STORE_HASH_LEN];
	assert_int_equal(f->st->ops->attestation_get(f->st, 6, &got), ERR_OK);
	assert_int_equal(store_row_hash(&got, again), ERR_OK);
	assert_memory_equal(again, r.hash, STORE_HASH_LEN);
	assert_int_equal(got.restart_count, -1);
	assert_string_equal(got.host, r.host);
	assert_int_equal(f->st->ops->attestation_get(f->st, 99, &got), ERR_NOT_FOUND);
	assert_audit(f->st, 6, 0);
}

static void test_history_is_append_only_and_edits_are_detected(void **state)
{
	struct fixture *f = *state;
	struct audit_result a;

	commit_n(f->st, 4, 100);
	assert_null(psql(f->db, "UPDATE attestations SET outcome='admitted' WHERE id=2"));
	assert_null(psql(f->db, "DELETE FROM attestations WHERE id=2"));
	assert_null(psql(f->db, "TRUNCATE attestations"));
	/* One who drops the guard and edits a refusal into an admission is
	 * caught by the chain at that row. */
	assert_non_null(psql(f->db,
			     "ALTER TABLE attestations DISABLE TRIGGER attestations_no_update;"
			     "UPDATE attestations SET outcome='admitted', error='' WHERE id=2"));
	assert_int_equal(f->st->ops->audit_verify(f->st, &a), ERR_OK);
	assert_int_equal(a.first_bad_id, 2);
	assert_non_null(strstr(a.reason, "edited"));
}

static void test_removed_rows_are_detected(void **state)
{
	struct fixture *f = *state;
	struct audit_result a;

	commit_n(f->st, 4, 100);
	assert_non_null(psql(f->db,
			     "ALTER TABLE attestations DISABLE TRIGGER attestations_no_delete;"
			     "DELETE FROM attestations WHERE id=3"));
	assert_int_equal(f->st->ops->audit_verify(f->st, &a), ERR_OK);
	assert_int_equal(a.first_bad_id, 4);
	assert_non_null(strstr(a.reason, "prev_hash"));
	/* Cutting the end leaves an intact but shorter chain: the chain head
	 * still names the last row that was appended. */
	assert_non_null(psql(f->db, "DELETE FROM attestations WHERE id=4"));
	assert_int_equal(f->st->ops->audit_verify(f->st, &a), ERR_OK);
	assert_int_equal(a.first_bad_id, 4);
	assert_non_null(strstr(a.reason, "removed at the end"));
}

static void test_session_single_use_across_instances(void **state)
{
	struct fixture *f = *state;
	struct store *other = NULL;
	struct attestation_record r, got;
	uint8_t sid[16] = {1, 2, 3};
	bool used = true;

	assert_int_equal(store_open(f->spec, &other), ERR_OK);
	assert_int_equal(f->st->ops->session_used(f->st, sid, &used), ERR_OK);
	assert_false(used);
	make_record(&r, "sha256:aa", true, 100);
	strcpy(r.token_jti, "jti-1");
	assert_int_equal(f->st->ops->commit_decision(f->st, sid, 4000000000LL, &r), ERR_OK);
	assert_int_equal(other->ops->session_used(other, sid, &used), ERR_OK);
	assert_true(used);
	/* The replay reaches the other instance: recorded as a refusal, and
	 * no token id is kept. */
	make_record(&r, "sha256:aa", true, 101);
	strcpy(r.token_jti, "jti-2");
	assert_int_equal(other->ops->commit_decision(other, sid, 4000000000LL, &r),
			 ERR_SESSION_REPLAYED);
	assert_false(r.admitted);
	assert_string_equal(r.error, "session_replayed");
	assert_string_equal(r.token_jti, "");
	assert_int_equal(f->st->ops->attestation_get(f->st, r.id, &got), ERR_OK);
	assert_false(got.admitted);
	assert_string_equal(got.error, "session_replayed");
	store_close(other);
	assert_audit(f->st, 2, 0);
}

#define RACERS 8

struct race {
	struct store *st;
	const uint8_t *sid;
	err_t rc;
};

static void *race_commit(void *arg)
{
	struct race *r = arg;
	struct attestation_record rec;

	make_record(&rec, "sha256:aa", true, 100);
	strcpy(rec.token_jti, "jti");
	r->rc = r->st->ops->commit_decision(r->st, r->sid, 4000000000LL, &rec);
	return NULL;
}

/* The same session sent to two instances at once, several times over:
 * exactly one is admitted. */
static void test_concurrent_replays_admit_once(void **state)
{
	struct fixture *f = *state;
	struct store *other = NULL;
	uint8_t sid[16] = {9, 9, 9};
	pthread_t t[RACERS];
	struct race r[RACERS];
	int ok = 0, replayed = 0;

	assert_int_equal(store_open(f->spec, &other), ERR_OK);
	for (int i = 0; i < RACERS; i++) {
		r[i] = (struct race){i % 2 ? other : f->st, sid, ERR_INTERNAL};
		assert_int_equal(pthread_create(&t[i], NULL, race_commit, &r[i]), 0);
	}
	for (int i = 0; i < RACERS; i++) {
		assert_int_equal(pthread_join(t[i], NULL), 0);
		ok += r[i].rc == ERR_OK;
		replayed += r[i].rc == ERR_SESSION_REPLAYED;
	}
	store_close(other);
	assert_int_equal(ok, 1);
	assert_int_equal(replayed, RACERS - 1);
	assert_audit(f->st, RACERS, 0);
}

static bool collect_machine(const struct machine *m, void *ctx)
{
	char *ids = ctx;

	strcat(ids, m->id);
	strcat(ids, " ");
	return true;
}

/* Byte order and an exclusive cursor, as the sqlite store pages them, on
 * a database whose own collation would sort "B" after "b". */
static void test_machines_list_pages(void **state)
{
	struct fixture *f = *state;
	char ids[256] = "";

	assert_int_equal(f->st->ops->machine_enroll(f->st, "sha256:b", "", 1), ERR_OK);
	assert_int_equal(f->st->ops->machine_enroll(f->st, "sha256:B", "", 1), ERR_OK);
	assert_int_equal(f->st->ops->machine_enroll(f->st, "sha256:a", "", 1), ERR_OK);
	assert_int_equal(f->st->ops->machines_list(f->st, NULL, 2, collect_machine, ids), ERR_OK);
	assert_string_equal(ids, "sha256:B sha256:a ");
	ids[0] = '\0';
	assert_int_equal(f->st->ops->machines_list(f->st, "sha256:a", 2, collect_machine, ids),
			 ERR_OK);
	assert_string_equal(ids, "sha256:b ");
}

static void test_machines_seen_by_every_instance(void **state)
{
	struct fixture *f = *state;
	struct store *other = NULL;
	struct machine m;
	struct attestation_record r;

	assert_int_equal(store_open(f->spec, &other), ERR_OK);
	assert_int_equal(f->st->ops->machine_get(f->st, "sha256:aa", &m), ERR_NOT_FOUND);
	assert_int_equal(f->st->ops->machine_set_revoked(f->st, "sha256:aa", 5, "x"),
			 ERR_NOT_FOUND);
	assert_int_equal(f->st->ops->machine_enroll(f->st, "sha256:aa", "rack 4", 50), ERR_OK);
	assert_int_equal(other->ops->machine_get(other, "sha256:aa", &m), ERR_OK);
	assert_true(m.enrolled);
	assert_string_equal(m.note, "rack 4");
	make_record(&r, "sha256:aa", true, 60);
	assert_int_equal(other->ops->commit_decision(other, NULL, 0, &r), ERR_OK);
	assert_int_equal(f->st->ops->machine_get(f->st, "sha256:aa", &m), ERR_OK);
	assert_int_equal(m.first_seen, 60);
	assert_string_equal(m.last_outcome, "admitted");
	assert_true(m.enrolled); /* seeing a machine keeps its enrollment */
	assert_int_equal(f->st->ops->machine_set_revoked(f->st, "sha256:aa", 70, "stolen"), ERR_OK);
	assert_int_equal(other->ops->machine_get(other, "sha256:aa", &m), ERR_OK);
	assert_int_equal(m.revoked_at, 70);
	assert_string_equal(m.note, "stolen");
	assert_int_equal(other->ops->machine_set_revoked(other, "sha256:aa", 0, ""), ERR_OK);
	assert_int_equal(f->st->ops->machine_get(f->st, "sha256:aa", &m), ERR_OK);
	assert_int_equal(m.revoked_at, 0);
	assert_string_equal(m.note, "stolen"); /* "" keeps the note */
	store_close(other);
}

static void test_query_filters(void **state)
{
	contract_query_filters(((struct fixture *)*state)->st);
}

static bool collect_ids(const struct attestation_record *r, void *ctx)
{
	char *ids = ctx;

	snprintf(ids + strlen(ids), 64, "%lld@%lld ", (long long)r->id, (long long)r->time);
	return true;
}

/* A decision that started earlier (or on an instance whose clock is a
 * little behind) but commits later takes the head's time, as in the
 * sqlite store; a time range then pages by id cursor without a gap. */
static void test_times_never_go_down(void **state)
{
	struct fixture *f = *state;
	static const int64_t times[] = {100, 200, 150, 300};
	char ids[256] = "";

	for (size_t i = 0; i < 4; i++) {
		struct attestation_record r;

		make_record(&r, "sha256:aa", true, times[i]);
		assert_int_equal(f->st->ops->commit_decision(f->st, NULL, 0, &r), ERR_OK);
		assert_int_equal(r.time, i == 2 ? 200 : times[i]);
	}
	struct attestation_filter page = {.outcome = -1, .since = 150, .until = 400, .limit = 2};
	assert_int_equal(f->st->ops->attestations_query(f->st, &page, collect_ids, ids), ERR_OK);
	assert_string_equal(ids, "2@200 3@200 ");
	page.after_id = 3;
	ids[0] = '\0';
	assert_int_equal(f->st->ops->attestations_query(f->st, &page, collect_ids, ids), ERR_OK);
	assert_string_equal(ids, "4@300 ");
	assert_audit(f->st, 4, 0);
}

static void test_api_keys(void **state)
{
	contract_api_keys(((struct fixture *)*state)->st);
}

#define WRITERS 4

/* Two instances, each with several handler threads, appending at once:
 * one chain, dense ids. */
static void test_concurrent_instances_keep_one_chain(void **state)
{
	struct fixture *f = *state;
	struct store *other = NULL;
	pthread_t t[2 * WRITERS];

	assert_int_equal(store_open(f->spec, &other), ERR_OK);
	for (int i = 0; i < 2 * WRITERS; i++)
		assert_int_equal(pthread_create(&t[i], NULL, commit_many, i % 2 ? other : f->st),
				 0);
	for (int i = 0; i < 2 * WRITERS; i++) {
		void *res;

		assert_int_equal(pthread_join(t[i], &res), 0);
		assert_null(res);
	}
	store_close(other);
	assert_audit(f->st, 2 * WRITERS * PER_WRITER, 0);
	assert_string_equal(psql(f->db, "SELECT max(id) = count(*) FROM attestations"), "t");
}

static void *open_store(void *arg)
{
	struct fixture *f = arg;
	struct store *st = NULL;

	if (store_open(f->spec, &st) != ERR_OK)
		return (void *)1;
	store_close(st);
	return NULL;
}

/* Instances starting together on a new database: the migration runs
 * once; a database from a newer attestd is refused, not written. */
static void test_migrations(void **state)
{
	struct fixture *f = *state;
	pthread_t t[4];
	struct store *st = NULL;

	assert_non_null(psql("postgres", "CREATE DATABASE fresh"));
	struct fixture fresh = *f;
	snprintf(fresh.spec, sizeof(fresh.spec), "postgres://attestd@127.0.0.1:%d/fresh", srv.port);
	for (int i = 0; i < 4; i++)
		assert_int_equal(pthread_create(&t[i], NULL, open_store, &fresh), 0);
	for (int i = 0; i < 4; i++) {
		void *res;

		assert_int_equal(pthread_join(t[i], &res), 0);
		assert_null(res);
	}
	assert_string_equal(
	    psql("fresh", "SELECT count(*) || ':' || max(version) FROM attestd_schema"), "1:1");
	assert_non_null(psql(f->db, "UPDATE attestd_schema SET version = 99"));
	assert_int_equal(store_open(f->spec, &st), ERR_INTERNAL);
	assert_non_null(strstr(err_detail(), "newer"));
}

static void test_utf8_repair(void **state)
{
	char ok[] = "plain, \xc3\xa9t\xc3\xa9, \xe2\x82\xac, \xf0\x9f\x98\x80";
	char cut[] = "caf\xc3";			    /* cut in the middle of a character */
	char overlong[] = "\xc0\xaf/\xe0\x80\xaf";  /* '/' spelled in two and three bytes */
	char surrogate[] = "\xed\xa0\x80!";	    /* UTF-16 surrogates are not UTF-8 */
	char beyond[] = "\xf4\x90\x80\x80\xff\xfe"; /* past U+10FFFF, and never-valid bytes */

	(void)state;
	assert_false(pg_utf8_repair(ok));
	assert_string_equal(ok, "plain, \xc3\xa9t\xc3\xa9, \xe2\x82\xac, \xf0\x9f\x98\x80");
	assert_true(pg_utf8_repair(cut));
	assert_string_equal(cut, "caf?");
	assert_true(pg_utf8_repair(overlong));
	assert_string_equal(overlong, "?\?/?\?\?"); /* escaped: no trigraphs */
	assert_true(pg_utf8_repair(surrogate));
	assert_string_equal(surrogate, "?\?\?!");
	assert_true(pg_utf8_repair(beyond));
	assert_string_equal(beyond, "?\?\?\?\?\?");
}

/* A client's host metadata cut in the middle of a character, or an issuer
 * with raw bytes, would make PostgreSQL refuse the row and with it every
 * other decision of the batch: such bytes are recorded as '?', before the
 * row is hashed, so the chain still verifies. */
static void test_text_that_is_not_utf8_is_recorded(void **state)
{
	struct fixture *f = *state;
	struct attestation_record r, got;

	make_record(&r, "sha256:aa", false, 100);
	memset(r.host, 'x', sizeof(r.host) - 2);
	r.host[sizeof(r.host) - 3] = '\xc3'; /* the first byte of a two-byte character */
	r.host[sizeof(r.host) - 2] = '\0';
	strcpy(r.ek_issuer, "CN=\xff\xfe Corp");
	assert_int_equal(f->st->ops->commit_decision(f->st, NULL, 0, &r), ERR_OK);
	assert_int_equal(f->st->ops->attestation_get(f->st, r.id, &got), ERR_OK);
	assert_string_equal(got.ek_issuer, "CN=?\? Corp");
	assert_int_equal(got.host[sizeof(got.host) - 3], '?');
	assert_audit(f->st, 1, 0);
}

/* The README's runtime role: no DDL, and no UPDATE or DELETE of the
 * history even with the triggers out of the way. */
#define APP_ROLE_GRANTS                                                                            \
	"GRANT SELECT ON attestd_schema TO attestd_app;"                                           \
	"GRANT SELECT, INSERT ON attestations, api_keys TO attestd_app;"                           \
	"GRANT SELECT, UPDATE ON chain_head TO attestd_app;"                                       \
	"GRANT SELECT, INSERT, DELETE ON sessions_used TO attestd_app;"                            \
	"GRANT SELECT, INSERT, UPDATE ON machines TO attestd_app;"

/* After the owner migrated the schema, attestd runs as a role that can
 * append and read but not create, edit or delete: every operation works,
 * and the history cannot be changed through that role. */
static void test_runs_as_least_privileged_role(void **state)
{
	struct fixture *f = *state;
	struct store *app = NULL;
	struct attestation_record r;
	struct machine m;
	uint8_t sid[16] = {4}, key[STORE_HASH_LEN] = {5};
	char spec[256], role[16];

	commit_n(f->st, 2, 100);
	assert_non_null(psql(f->db, "CREATE ROLE attestd_app LOGIN;" APP_ROLE_GRANTS));
	snprintf(spec, sizeof(spec), "postgresql://attestd_app@127.0.0.1:%d/%s", srv.port, f->db);
	assert_int_equal(store_open(spec, &app), ERR_OK);
	make_record(&r, "sha256:aa", true, 300);
	assert_int_equal(app->ops->commit_decision(app, sid, 4000000000LL, &r), ERR_OK);
	assert_int_equal(r.id, 3);
	assert_int_equal(app->ops->machine_enroll(app, "sha256:bb", "", 5), ERR_OK);
	assert_int_equal(app->ops->machine_set_revoked(app, "sha256:bb", 6, "lost"), ERR_OK);
	assert_int_equal(app->ops->machine_get(app, "sha256:bb", &m), ERR_OK);
	assert_int_equal(app->ops->apikey_add(app, key, "gateway", "gw", 7), ERR_OK);
	assert_int_equal(app->ops->apikey_role(app, key, role), ERR_OK);
	assert_audit(app, 3, 0);
	store_close(app);
	assert_null(psql_as("attestd_app", f->db, "ALTER TABLE attestations DISABLE TRIGGER ALL"));
	assert_null(
	    psql_as("attestd_app", f->db, "UPDATE attestations SET error = '' WHERE id = 1"));
	assert_null(psql_as("attestd_app", f->db, "DELETE FROM attestations"));
	assert_null(psql_as("attestd_app", f->db, "CREATE TABLE x (y int)"));
	assert_non_null(psql(f->db, "REVOKE ALL ON ALL TABLES IN SCHEMA public FROM attestd_app;"
				    "DROP ROLE attestd_app"));
}

/* attestd logs its store at start; a password in the URI must not be
 * in the log. */
static void test_redact_uri(void **state)
{
	char out[128];

	(void)state;
	store_pg_redact_uri("postgresql://app:s3cret@db:5432/attestd", out, sizeof(out));
	assert_string_equal(out, "postgresql://app:***@db:5432/attestd");
	store_pg_redact_uri("postgres://db/attestd?sslmode=require&password=s3cret&x=1", out,
			    sizeof(out));
	assert_string_equal(out, "postgres://db/attestd?sslmode=require&password=***&x=1");
	store_pg_redact_uri("postgresql://app@db/attestd?password=s3cret", out, sizeof(out));
	assert_string_equal(out, "postgresql://app@db/attestd?password=***");
	store_pg_redact_uri("postgresql://app@db/x?passfile=/etc/pgpass", out, sizeof(out));
	assert_string_equal(out, "postgresql://app@db/x?passfile=/etc/pgpass");
	store_pg_redact_uri("postgresql://h1:5432,h2:5432/db?target_session_attrs=read-write", out,
			    sizeof(out));
	assert_string_equal(out, "postgresql://h1:5432,h2:5432/db?target_session_attrs=read-write");
	store_pg_redact_uri("postgresql://app:s3cret@db/attestd", out, 20);
	assert_string_equal(out, "postgresql://app:**");
}

/* A server that cannot be reached is ERR_UNAVAILABLE (503), and what the
 * operator wrote in the URI, password included, is not repeated. */
static void test_unreachable_server(void **state)
{
	struct store *st = NULL;

	(void)state;
	assert_int_equal(store_open("postgresql://attestd:s3cret@127.0.0.1:1/x", &st),
			 ERR_UNAVAILABLE);
	assert_null(strstr(err_detail(), "s3cret"));
}

/* The server goes down and comes back: while it is down every call is
 * ERR_UNAVAILABLE and nothing is admitted; afterwards the same handle
 * works again without being reopened, and the chain continues. */
static void test_server_restart(void **state)
{
	struct fixture *f = *state;
	struct attestation_record r;
	struct machine m;
	bool used;
	uint8_t sid[16] = {7};

	commit_n(f->st, 3, 100);
	assert_true(server_stop());
	make_record(&r, "sha256:aa", true, 200);
	assert_int_equal(f->st->ops->commit_decision(f->st, sid, 4000000000LL, &r),
			 ERR_UNAVAILABLE);
	assert_int_equal(f->st->ops->machine_get(f->st, "sha256:aa", &m), ERR_UNAVAILABLE);
	assert_int_equal(f->st->ops->session_used(f->st, sid, &used), ERR_UNAVAILABLE);
	assert_true(server_start());
	assert_int_equal(f->st->ops->machine_get(f->st, "sha256:aa", &m), ERR_OK);
	make_record(&r, "sha256:aa", true, 201);
	assert_int_equal(f->st->ops->commit_decision(f->st, sid, 4000000000LL, &r), ERR_OK);
	assert_int_equal(r.id, 4); /* the refused decision left no row */
	assert_audit(f->st, 4, 0);
}

struct slow_commit {
	struct store *st;
	struct attestation_record rec;
	err_t rc;
};

static void *commit_in_thread(void *arg)
{
	struct slow_commit *c = arg;
	uint8_t sid[16] = {8};

	c->rc = c->st->ops->commit_decision(c->st, sid, 4000000000LL, &c->rec);
	return NULL;
}

/* The server dies while a decision's transaction is under way (a trigger
 * holds the INSERT for two seconds): the caller gets ERR_UNAVAILABLE, so
 * no token leaves for it, and after the restart no row of it exists, its
 * session is still unused, and the chain is intact. */
static void test_crash_during_commit(void **state)
{
	struct fixture *f = *state;
	struct slow_commit c = {.st = f->st, .rc = ERR_INTERNAL};
	pthread_t t;
	bool used = true;
	uint8_t sid[16] = {8};

	commit_n(f->st, 2, 100);
	assert_non_null(psql(f->db, "CREATE FUNCTION slow() RETURNS trigger LANGUAGE plpgsql AS"
				    " $$BEGIN PERFORM pg_sleep(2); RETURN NEW; END$$;"
				    "CREATE TRIGGER slow BEFORE INSERT ON attestations"
				    " FOR EACH ROW EXECUTE FUNCTION slow()"));
	make_record(&c.rec, "sha256:aa", true, 300);
	strcpy(c.rec.token_jti, "jti-in-flight");
	assert_int_equal(pthread_create(&t, NULL, commit_in_thread, &c), 0);
	usleep(500 * 1000); /* the INSERT is sleeping in the server */
	assert_true(server_stop());
	assert_int_equal(pthread_join(t, NULL), 0);
	assert_int_equal(c.rc, ERR_UNAVAILABLE);
	assert_true(server_start());
	assert_string_equal(psql(f->db, "SELECT count(*) FROM attestations"), "2");
	assert_int_equal(f->st->ops->session_used(f->st, sid, &used), ERR_OK);
	assert_false(used);
	assert_non_null(psql(f->db, "DROP TRIGGER slow ON attestations"));
	commit_n(f->st, 1, 400);
	assert_audit(f->st, 3, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_chain_and_reopen, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_history_is_append_only_and_edits_are_detected,
					    setup, teardown),
	    cmocka_unit_test_setup_teardown(test_removed_rows_are_detected, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_session_single_use_across_instances, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_concurrent_replays_admit_once, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_machines_seen_by_every_instance, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_machines_list_pages, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_query_filters, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_times_never_go_down, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_api_keys, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_concurrent_instances_keep_one_chain, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_migrations, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_runs_as_least_privileged_role, setup, teardown),
	    cmocka_unit_test(test_utf8_repair),
	    cmocka_unit_test_setup_teardown(test_text_that_is_not_utf8_is_recorded, setup,
					    teardown),
	    cmocka_unit_test(test_redact_uri),
	    cmocka_unit_test(test_unreachable_server),
	    cmocka_unit_test_setup_teardown(test_server_restart, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_crash_during_commit, setup, teardown),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
