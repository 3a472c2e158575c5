/* The in-process halves of tests/bench/run-attestd-bench: the baselines that
 * attestd's HTTP figures are printed beside, and a large history to query.
 *
 *   bench_attestd crypto [--ek rsa|ecc] [--seconds S]
 *       CPU µs of the cryptography one attestation needs (NOTES-performance.md:
 *       MakeCredential's public-key step, the quote's ECDSA verify, the
 *       ES256 token, SHA-256 of a 30 KB event log), each an EVP loop on one
 *       core, and the ceiling in attestations/s on all cores; likewise the
 *       ES256 verify each admission check needs.
 *   bench_attestd fill DB --rows N [--machines M] [--paths-dir DIR]
 *       appends N hash-chained rows (attestd's schema and row hash, so
 *       `attestctl audit verify` passes) over the last 30 days from M
 *       machines, and writes DIR/machine-paths and DIR/time-paths: history
 *       queries (100 rows of one machine, of one hour) for loadgen.
 *   bench_attestd query DB --paths FILE [--seconds S]
 *       the same questions asked of sqlite directly, on one connection, with
 *       the index-friendly SQL a point query needs: the floor under the
 *       history endpoint.
 * Prints one JSON object of figures; asserts nothing. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <sqlite3.h>

#include "b64.h"
#include "store.h"
#include "store_sqlite_sql.h"

/* The event log the crypto ceiling hashes: NOTES-performance.md's 30 KB. */
#define BENCH_EVLOG_BYTES (30 * 1024)
/* Operations between clock reads: rare enough not to weigh on a 20 µs op. */
#define BENCH_BATCH 16
/* Rows per fill transaction: big enough to amortise the commit, small
 * enough that the WAL stays a few MB. */
#define FILL_ROWS_PER_TXN 50000
/* The history spans this long, as a month of a fleet's attestations. */
#define FILL_SPAN_S (30 * 86400)
/* Distinct queries written for loadgen (and asked again here). */
#define FILL_QUERIES 1000
/* One in this many rows is a refusal. */
#define FILL_REFUSAL_EVERY 20
/* Who issued the filled rows' EK certificates (the test PKI's RSA CA). */
#define FILL_EK_ISSUER                                                                             \
	"CN=attestd Test TPM EK Intermediate CA RSA,O=attestd test TPM manufacturer,C=DE"
#define FILL_EK_MANUFACTURER "id:53544D20"
#define QUERY_PAGE	     100
#define QUERY_MAX_PATHS	     100000

static void die(const char *what)
{
	fprintf(stderr, "bench_attestd: %s\n", what);
	exit(1);
}

static double cpu_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double wall_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- crypto: the per-attestation ceiling ---- */

struct crypto_case {
	EVP_PKEY *ek;	       /* RSA-2048 or P-256 */
	EVP_PKEY *ak, *issuer; /* P-256: quote signer, token signer */
	uint8_t quote[160], quote_sig[80], token[600], token_sig[80], evlog[BENCH_EVLOG_BYTES];
	size_t quote_sig_len, token_sig_len;
};

/* MakeCredential's public-key step for an RSA EK: OAEP-SHA256 with the
 * label "IDENTITY" over a 32-byte seed, with a fresh context as a request
 * gets one. */
static void op_rsa_oaep(struct crypto_case *c)
{
	uint8_t seed[32] = {1}, out[256];
	size_t out_len = sizeof(out);
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_pkey(NULL, c->ek, NULL);
	OSSL_PARAM params[] = {
	    OSSL_PARAM_construct_utf8_string(OSSL_ASYM_CIPHER_PARAM_PAD_MODE, "oaep", 0),
	    OSSL_PARAM_construct_utf8_string(OSSL_ASYM_CIPHER_PARAM_OAEP_DIGEST, "SHA256", 0),
	    OSSL_PARAM_construct_octet_string(OSSL_ASYM_CIPHER_PARAM_OAEP_LABEL, "IDENTITY", 9),
	    OSSL_PARAM_construct_end(),
	};

	if (ctx == NULL || EVP_PKEY_encrypt_init_ex(ctx, params) != 1 ||
	    EVP_PKEY_encrypt(ctx, out, &out_len, seed, sizeof(seed)) != 1)
		die("RSA-OAEP encrypt");
	EVP_PKEY_CTX_free(ctx);
}

/* The same for a P-256 EK: an ephemeral key and ECDH with the EK, whose
 * point was validated once when it was loaded. */
static void op_ecdh(struct crypto_case *c)
{
	EVP_PKEY *eph = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	EVP_PKEY_CTX *ctx = eph != NULL ? EVP_PKEY_CTX_new_from_pkey(NULL, eph, NULL) : NULL;
	uint8_t z[32];
	size_t z_len = sizeof(z);

	if (ctx == NULL || EVP_PKEY_derive_init(ctx) != 1 ||
	    EVP_PKEY_derive_set_peer_ex(ctx, c->ek, 0) != 1 || EVP_PKEY_derive(ctx, z, &z_len) != 1)
		die("P-256 keygen + ECDH");
	EVP_PKEY_CTX_free(ctx);
	EVP_PKEY_free(eph);
}

static void op_quote_verify(struct crypto_case *c)
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();

	if (md == NULL ||
	    EVP_DigestVerifyInit_ex(md, NULL, "SHA256", NULL, NULL, c->ak, NULL) != 1 ||
	    EVP_DigestVerify(md, c->quote_sig, c->quote_sig_len, c->quote, sizeof(c->quote)) != 1)
		die("ECDSA verify");
	EVP_MD_CTX_free(md);
}

static void sign(EVP_PKEY *key, const uint8_t *msg, size_t len, uint8_t *sig, size_t *sig_len)
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();

	if (md == NULL || EVP_DigestSignInit_ex(md, NULL, "SHA256", NULL, NULL, key, NULL) != 1 ||
	    EVP_DigestSign(md, sig, sig_len, msg, len) != 1)
		die("ECDSA sign");
	EVP_MD_CTX_free(md);
}

static void op_token_sign(struct crypto_case *c)
{
	uint8_t sig[80];
	size_t sig_len = sizeof(sig);

	sign(c->issuer, c->token, sizeof(c->token), sig, &sig_len);
}

/* Not part of an attestation: what each admission check must pay at least
 * (the ES256 signature of the token it is shown). */
static void op_token_verify(struct crypto_case *c)
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();

	if (md == NULL ||
	    EVP_DigestVerifyInit_ex(md, NULL, "SHA256", NULL, NULL, c->issuer, NULL) != 1 ||
	    EVP_DigestVerify(md, c->token_sig, c->token_sig_len, c->token, sizeof(c->token)) != 1)
		die("ES256 verify");
	EVP_MD_CTX_free(md);
}

static void op_evlog_hash(struct crypto_case *c)
{
	uint8_t digest[32];

	if (EVP_Digest(c->evlog, sizeof(c->evlog), digest, NULL, EVP_sha256(), NULL) != 1)
		die("SHA-256");
}

/* CPU µs per call of op, over about `seconds` of CPU time. */
static double us_per_op(double seconds, void (*op)(struct crypto_case *), struct crypto_case *c)
{
	double start = cpu_now(), elapsed;
	unsigned long n = 0;

	do {
		for (int i = 0; i < BENCH_BATCH; i++)
			op(c);
		n += BENCH_BATCH;
		elapsed = cpu_now() - start;
	} while (elapsed < seconds);
	return 1e6 * elapsed / (double)n;
}

static int cmd_crypto(bool rsa, double seconds)
{
	struct crypto_case c = {0};
	long cores = sysconf(_SC_NPROCESSORS_ONLN);
	double ek_us, verify_us, token_us, hash_us, total, admission_us;

	c.ek = rsa ? EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048)
		   : EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	c.ak = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	c.issuer = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	if (c.ek == NULL || c.ak == NULL || c.issuer == NULL ||
	    RAND_bytes(c.quote, sizeof(c.quote)) != 1 || RAND_bytes(c.evlog, sizeof(c.evlog)) != 1)
		die("key generation");
	c.quote_sig_len = sizeof(c.quote_sig);
	sign(c.ak, c.quote, sizeof(c.quote), c.quote_sig, &c.quote_sig_len);
	c.token_sig_len = sizeof(c.token_sig);
	sign(c.issuer, c.token, sizeof(c.token), c.token_sig, &c.token_sig_len);

	ek_us = us_per_op(seconds, rsa ? op_rsa_oaep : op_ecdh, &c);
	verify_us = us_per_op(seconds, op_quote_verify, &c);
	token_us = us_per_op(seconds, op_token_sign, &c);
	hash_us = us_per_op(seconds, op_evlog_hash, &c);
	total = ek_us + verify_us + token_us + hash_us;
	admission_us = us_per_op(seconds, op_token_verify, &c);
	if (cores < 1)
		cores = 1;
	json_t *out = json_pack(
	    "{s:s, s:f, s:f, s:f, s:f, s:f, s:I, s:f, s:f, s:f}", "ek", rsa ? "rsa" : "ecc",
	    "ek_credential_us", ek_us, "quote_verify_us", verify_us, "token_sign_us", token_us,
	    "evlog_sha256_us", hash_us, "per_attestation_us", total, "cores", (json_int_t)cores,
	    "ceiling_per_s", 1e6 * (double)cores / total, "token_verify_us", admission_us,
	    "admission_ceiling_per_s", 1e6 * (double)cores / admission_us);
	json_dumpf(out, stdout, JSON_COMPACT);
	putchar('\n');
	json_decref(out);
	EVP_PKEY_free(c.ek);
	EVP_PKEY_free(c.ak);
	EVP_PKEY_free(c.issuer);
	return 0;
}

/* ---- fill: a large, valid history ---- */

static void exec_sql(sqlite3 *db, const char *sql)
{
	if (sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK)
		die(sqlite3_errmsg(db));
}

/* xorshift64: reproducible choices without libc's shared rand state. */
static uint64_t next_random(uint64_t *state)
{
	*state ^= *state << 13;
	*state ^= *state >> 7;
	*state ^= *state << 17;
	return *state;
}

/* Machine i's id, in DESIGN.md's form. */
static void machine_id(unsigned i, char out[80])
{
	char seed[32];
	uint8_t h[32];
	int n = snprintf(seed, sizeof(seed), "bench machine %u", i);

	if (EVP_Digest(seed, (size_t)n, h, NULL, EVP_sha256(), NULL) != 1)
		die("SHA-256");
	memcpy(out, "sha256:", 7);
	hex_encode(h, sizeof(h), out + 7);
}

/* A row as attestd writes one for a quote: mostly admissions with a token,
 * some refusals with a code and a detail. */
static void make_row(struct attestation_record *r, int64_t id, int64_t t, unsigned machine)
{
	uint8_t jti[16];

	memset(r, 0, sizeof(*r));
	r->id = id;
	r->time = t;
	snprintf(r->phase, sizeof(r->phase), "quote");
	machine_id(machine, r->machine_id);
	snprintf(r->ek_issuer, sizeof(r->ek_issuer), "%s", FILL_EK_ISSUER);
	snprintf(r->ek_manufacturer, sizeof(r->ek_manufacturer), "%s", FILL_EK_MANUFACTURER);
	r->admitted = id % FILL_REFUSAL_EVERY != 0;
	if (r->admitted) {
		memcpy(jti, &id, sizeof(id));
		memcpy(jti + 8, &t, sizeof(t));
		hex_encode(jti, sizeof(jti), r->token_jti);
	} else {
		snprintf(r->error, sizeof(r->error), "eventlog_replay_mismatch");
		snprintf(r->detail, sizeof(r->detail), "sha256 PCR 4: the log does not replay");
	}
	snprintf(r->policy, sizeof(r->policy), "bench");
	memcpy(r->pcr_digest, r->machine_id + 7, 64);
	r->reset_count = 7;
	r->restart_count = 3;
	snprintf(r->host, sizeof(r->host), "{\"hostname\":\"bench-%05u\"}", machine);
}

/* Binds a row to SQL_ATTESTATION_INSERT, in SQL_ATTESTATION_COLUMNS order. */
static void insert_row(sqlite3 *db, sqlite3_stmt *st, const struct attestation_record *r)
{
	const char *text[] = {r->phase,
			      r->machine_id,
			      r->ek_issuer,
			      r->ek_manufacturer,
			      store_outcome_str(r->admitted),
			      r->error,
			      r->detail,
			      r->policy,
			      r->pcr_digest};

	sqlite3_reset(st);
	sqlite3_bind_int64(st, 1, r->id);
	sqlite3_bind_int64(st, 2, r->time);
	for (int i = 0; i < 9; i++)
		sqlite3_bind_text(st, 3 + i, text[i], -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 12, r->reset_count);
	sqlite3_bind_int64(st, 13, r->restart_count);
	sqlite3_bind_text(st, 14, r->host, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 15, r->token_jti, -1, SQLITE_STATIC);
	sqlite3_bind_blob(st, 16, r->prev_hash, STORE_HASH_LEN, SQLITE_STATIC);
	sqlite3_bind_blob(st, 17, r->hash, STORE_HASH_LEN, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_DONE)
		die(sqlite3_errmsg(db));
}

static void write_paths(const char *dir, unsigned machines, int64_t start)
{
	char path[4096], id[80];
	uint64_t rnd = 0x9e3779b97f4a7c15u;
	FILE *by_machine, *by_time;

	snprintf(path, sizeof(path), "%s/machine-paths", dir);
	by_machine = fopen(path, "w");
	snprintf(path, sizeof(path), "%s/time-paths", dir);
	by_time = fopen(path, "w");
	if (by_machine == NULL || by_time == NULL)
		die("cannot write the paths files");
	for (unsigned i = 0; i < FILL_QUERIES; i++) {
		int64_t since = start + (int64_t)(next_random(&rnd) % (FILL_SPAN_S - 3600));

		machine_id((unsigned)(next_random(&rnd) % machines), id);
		fprintf(by_machine, "/v1/attestations?machine=%s&limit=%d\n", id, QUERY_PAGE);
		fprintf(by_time, "/v1/attestations?since=%lld&until=%lld&limit=%d\n",
			(long long)since, (long long)since + 3600, QUERY_PAGE);
	}
	if (fclose(by_machine) != 0 || fclose(by_time) != 0)
		die("writing the paths files failed");
}

static int cmd_fill(const char *db_path, long long rows, unsigned machines, const char *paths_dir)
{
	char spec[4200];
	struct store *store = NULL;
	struct attestation_record *r = malloc(sizeof(*r));
	uint8_t head_hash[STORE_HASH_LEN] = {0};
	int64_t head_id = 0, start = (int64_t)time(NULL) - FILL_SPAN_S;
	sqlite3 *db = NULL;
	sqlite3_stmt *head, *insert, *seen;
	double wall = wall_now();

	/* attestd's own code makes the schema, so the rows land in its tables. */
	snprintf(spec, sizeof(spec), "sqlite:%s", db_path);
	if (r == NULL || store_open(spec, &store) != ERR_OK)
		die("cannot open the store");
	store_close(store);
	if (sqlite3_open(db_path, &db) != SQLITE_OK)
		die("cannot open the database");
	/* Bench data: a crash during the fill only loses the fill, so no
	 * journal and no fsync; a cache that holds the indexes, whose inserts
	 * land all over them. attestd gets its WAL database back at the end. */
	exec_sql(db, "PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF; PRAGMA cache_size=-262144");
	if (sqlite3_prepare_v2(db, SQL_CHAIN_HEAD, -1, &head, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(db, SQL_ATTESTATION_INSERT, -1, &insert, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(db, SQL_MACHINE_SEEN, -1, &seen, NULL) != SQLITE_OK)
		die(sqlite3_errmsg(db));
	/* Appending to an existing history continues its chain. */
	if (sqlite3_step(head) == SQLITE_ROW) {
		if (sqlite3_column_bytes(head, 1) != STORE_HASH_LEN)
			die("the chain head has no hash");
		head_id = sqlite3_column_int64(head, 0);
		memcpy(head_hash, sqlite3_column_blob(head, 1), STORE_HASH_LEN);
	}
	sqlite3_finalize(head);
	exec_sql(db, "BEGIN");
	for (long long i = 0; i < rows; i++) {
		int64_t t = start + (int64_t)(i * FILL_SPAN_S / rows);

		make_row(r, head_id + 1, t, (unsigned)(i % machines));
		memcpy(r->prev_hash, head_hash, STORE_HASH_LEN);
		if (store_row_hash(r, r->hash) != ERR_OK)
			die("row hash");
		insert_row(db, insert, r);
		head_id = r->id;
		memcpy(head_hash, r->hash, STORE_HASH_LEN);
		if ((i + 1) % FILL_ROWS_PER_TXN == 0) {
			exec_sql(db, "COMMIT");
			exec_sql(db, "BEGIN");
		}
	}
	/* The machines table as attestd keeps it beside the history. */
	for (unsigned m = 0; m < machines; m++) {
		char id[80];

		machine_id(m, id);
		sqlite3_reset(seen);
		sqlite3_bind_text(seen, 1, id, -1, SQLITE_STATIC);
		sqlite3_bind_text(seen, 2, FILL_EK_ISSUER, -1, SQLITE_STATIC);
		sqlite3_bind_text(seen, 3, FILL_EK_MANUFACTURER, -1, SQLITE_STATIC);
		sqlite3_bind_int64(seen, 4, start + FILL_SPAN_S);
		sqlite3_bind_text(seen, 5, "admitted", -1, SQLITE_STATIC);
		if (sqlite3_step(seen) != SQLITE_DONE)
			die(sqlite3_errmsg(db));
	}
	exec_sql(db, "COMMIT");
	exec_sql(db, "PRAGMA journal_mode=WAL");
	sqlite3_finalize(insert);
	sqlite3_finalize(seen);
	sqlite3_close(db);
	if (paths_dir != NULL)
		write_paths(paths_dir, machines, start);
	printf("{\"rows\":%lld,\"machines\":%u,\"last_id\":%lld,\"seconds\":%.1f}\n", rows,
	       machines, (long long)head_id, wall_now() - wall);
	free(r);
	return 0;
}

/* ---- query: the floor under the history endpoint ---- */

/* The questions of the paths files, in the SQL a point query needs: the
 * (machine_id, id) and (time, id) indexes answer each in index order. */
#define SQL_BY_MACHINE                                                                             \
	"SELECT " SQL_ATTESTATION_COLUMNS " FROM attestations WHERE machine_id = ?1"               \
	" ORDER BY id LIMIT ?3"
#define SQL_BY_TIME                                                                                \
	"SELECT " SQL_ATTESTATION_COLUMNS " FROM attestations WHERE time >= ?1 AND time < ?2"      \
	" ORDER BY time, id LIMIT ?3"
#define SQL_COLUMN_COUNT 17

struct question {
	char machine[80]; /* "" for a time range */
	long long since, until;
};

static size_t read_questions(const char *file, struct question **out)
{
	char line[1024];
	struct question *q = calloc(QUERY_MAX_PATHS, sizeof(*q));
	size_t n = 0;
	FILE *f = fopen(file, "r");

	if (q == NULL || f == NULL)
		die("cannot read the paths file");
	while (n < QUERY_MAX_PATHS && fgets(line, sizeof(line), f) != NULL) {
		const char *m = strstr(line, "machine=");

		if (m != NULL ? sscanf(m, "machine=%79[^&\n]", q[n].machine) == 1
			      : sscanf(line, "/v1/attestations?since=%lld&until=%lld", &q[n].since,
				       &q[n].until) == 2)
			n++;
	}
	fclose(f);
	if (n == 0)
		die("no history queries in the paths file");
	*out = q;
	return n;
}

static int by_value(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static int cmd_query(const char *db_path, const char *paths, double seconds)
{
	struct question *q = NULL;
	size_t nq = read_questions(paths, &q), n = 0, cap = 1 << 16, rows = 0;
	double *lat = malloc(cap * sizeof(*lat)), start, elapsed;
	sqlite3 *db = NULL;
	sqlite3_stmt *by_machine = NULL, *by_time = NULL;

	if (lat == NULL || sqlite3_open_v2(db_path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(db, SQL_BY_MACHINE, -1, &by_machine, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(db, SQL_BY_TIME, -1, &by_time, NULL) != SQLITE_OK)
		die("cannot query the database");
	start = wall_now();
	do {
		const struct question *x = &q[n % nq];
		sqlite3_stmt *st = x->machine[0] != '\0' ? by_machine : by_time;
		double t0 = wall_now();

		sqlite3_reset(st);
		if (st == by_machine) {
			sqlite3_bind_text(st, 1, x->machine, -1, SQLITE_STATIC);
		} else {
			sqlite3_bind_int64(st, 1, x->since);
			sqlite3_bind_int64(st, 2, x->until);
		}
		sqlite3_bind_int64(st, 3, QUERY_PAGE);
		/* Every column read out, as a page of JSON needs them. */
		while (sqlite3_step(st) == SQLITE_ROW) {
			for (int c = 0; c < SQL_COLUMN_COUNT; c++)
				(void)sqlite3_column_bytes(st, c);
			rows++;
		}
		if (n == cap) {
			double *grown = realloc(lat, 2 * cap * sizeof(*lat));

			if (grown == NULL)
				die("out of memory");
			lat = grown;
			cap *= 2;
		}
		lat[n++] = wall_now() - t0;
		elapsed = wall_now() - start;
	} while (elapsed < seconds);
	qsort(lat, n, sizeof(*lat), by_value);
	printf("{\"queries\":%zu,\"rate\":%.1f,\"rows_per_query\":%.1f,\"p50_ms\":%.3f,"
	       "\"p99_ms\":%.3f}\n",
	       n, (double)n / elapsed, (double)rows / (double)n, 1e3 * lat[(n - 1) / 2],
	       1e3 * lat[(size_t)((double)n * 0.99 + 0.999999) - 1]);
	sqlite3_finalize(by_machine);
	sqlite3_finalize(by_time);
	sqlite3_close(db);
	free(lat);
	free(q);
	return 0;
}

/* ---- command line ---- */

static int usage(void)
{
	fprintf(stderr, "usage: bench_attestd crypto [--ek rsa|ecc] [--seconds S]\n"
			"       bench_attestd fill DB --rows N [--machines M] [--paths-dir DIR]\n"
			"       bench_attestd query DB --paths FILE [--seconds S]\n");
	return 2;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"ek", required_argument, NULL, 'e'},
	    {"seconds", required_argument, NULL, 's'},
	    {"rows", required_argument, NULL, 'r'},
	    {"machines", required_argument, NULL, 'm'},
	    {"paths-dir", required_argument, NULL, 'd'},
	    {"paths", required_argument, NULL, 'p'},
	    {NULL, 0, NULL, 0},
	};
	const char *ek = "rsa", *paths_dir = NULL, *paths = NULL;
	double seconds = 0.5;
	long long rows = 0;
	unsigned machines = 1000;
	int opt;

	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (opt) {
		case 'e':
			ek = optarg;
			break;
		case 's':
			seconds = strtod(optarg, NULL);
			break;
		case 'r':
			rows = strtoll(optarg, NULL, 10);
			break;
		case 'm':
			machines = (unsigned)strtoul(optarg, NULL, 10);
			break;
		case 'd':
			paths_dir = optarg;
			break;
		case 'p':
			paths = optarg;
			break;
		default:
			return usage();
		}
	}
	if (optind < argc && strcmp(argv[optind], "crypto") == 0 && optind + 1 == argc &&
	    (strcmp(ek, "rsa") == 0 || strcmp(ek, "ecc") == 0) && seconds > 0)
		return cmd_crypto(strcmp(ek, "rsa") == 0, seconds);
	if (optind + 2 == argc && strcmp(argv[optind], "fill") == 0 && rows > 0 && machines > 0)
		return cmd_fill(argv[optind + 1], rows, machines, paths_dir);
	if (optind + 2 == argc && strcmp(argv[optind], "query") == 0 && paths != NULL &&
	    seconds > 0)
		return cmd_query(argv[optind + 1], paths, seconds);
	return usage();
}
