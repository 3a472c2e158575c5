/* Event-log parse + replay throughput on the vectors, printed next to the
 * SHA-256 throughput of the same bytes and of `openssl speed` measured in
 * the same run (the target: parse + replay at half of SHA-256 or better,
 * NOTES-performance.md). Prints figures; asserts nothing about time.
 * usage: bench_evlog [DIR]   (default: $ATTEST_SOURCE_ROOT/tests/data/eventlogs) */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>

#include "evlog.h"
#include "fileio.h"

/* Enough logs for every vector and a few made later. */
#define BENCH_MAX_LOGS 128
/* Each measurement runs at least this long, best of BENCH_RUNS. */
#define BENCH_MIN_SECONDS 1.0
#define BENCH_RUNS	  3

struct corpus {
	uint8_t *log[BENCH_MAX_LOGS];
	size_t len[BENCH_MAX_LOGS];
	size_t count, bytes;
};

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void load_corpus(const char *dir, struct corpus *c)
{
	DIR *d = opendir(dir);
	struct dirent *e;

	if (d == NULL) {
		perror(dir);
		exit(1);
	}
	while ((e = readdir(d)) != NULL && c->count < BENCH_MAX_LOGS) {
		size_t n = strlen(e->d_name);
		char path[2048];

		if (n < 4 || strcmp(e->d_name + n - 4, ".bin") != 0)
			continue;
		if (snprintf(path, sizeof(path), "%s/%s", dir, e->d_name) >= (int)sizeof(path))
			continue;
		if (fileio_read(path, EVLOG_MAX_SIZE, &c->log[c->count], &c->len[c->count]) !=
		    ERR_OK) {
			fprintf(stderr, "%s\n", err_detail());
			exit(1);
		}
		c->bytes += c->len[c->count++];
	}
	closedir(d);
	if (c->count == 0) {
		fprintf(stderr, "no *.bin logs in %s\n", dir);
		exit(1);
	}
}

/* What a verifier does: parse, replay the quoted bank (SHA-256, or SHA1
 * for a legacy log). */
static uint32_t quoted_bank(const struct evlog *log)
{
	uint32_t sha256 = 1u << EVLOG_BANK_SHA256;

	return evlog_banks(log) & sha256 ? sha256 : 1u << EVLOG_BANK_SHA1;
}

static uint32_t every_bank(const struct evlog *log)
{
	return evlog_banks(log);
}

static uint32_t (*replayed_banks)(const struct evlog *log);

static void parse_replay_all(const struct corpus *c)
{
	static struct evlog_pcrs pcrs;

	for (size_t i = 0; i < c->count; i++) {
		struct evlog *log;

		if (evlog_parse(c->log[i], c->len[i], &log) != ERR_OK ||
		    evlog_replay_banks(log, replayed_banks(log), &pcrs) != ERR_OK) {
			fprintf(stderr, "log %zu: %s\n", i, err_detail());
			exit(1);
		}
		evlog_free(log);
	}
}

static void sha256_all(const struct corpus *c)
{
	static EVP_MD *md;
	uint8_t out[32];

	if (md == NULL)
		md = EVP_MD_fetch(NULL, "SHA256", NULL);
	for (size_t i = 0; i < c->count; i++) {
		if (md == NULL || EVP_Digest(c->log[i], c->len[i], out, NULL, md, NULL) != 1)
			exit(1);
	}
}

/* Passes over the corpus per second, best of BENCH_RUNS. */
static double passes_per_second(void (*fn)(const struct corpus *), const struct corpus *c)
{
	double best = 0;

	for (int run = 0; run < BENCH_RUNS; run++) {
		double start = now(), elapsed;
		long passes = 0;

		do {
			fn(c);
			passes++;
			elapsed = now() - start;
		} while (elapsed < BENCH_MIN_SECONDS);
		if (passes / elapsed > best)
			best = passes / elapsed;
	}
	return best;
}

/* `openssl speed -evp sha256` on 16 KiB blocks (the size of a typical log),
 * in MB/s; 0 when it cannot be run. -elapsed: by default speed divides by
 * CPU time, which flatters it on a loaded machine; we measure wall time. */
static double openssl_speed_sha256(void)
{
	FILE *p =
	    popen("openssl speed -elapsed -evp sha256 -bytes 16384 -seconds 1 2>/dev/null", "r");
	char line[512];
	double kbytes = 0;

	if (p == NULL)
		return 0;
	while (fgets(line, sizeof(line), p) != NULL) {
		char *last = strrchr(line, ' ');

		/* The result line: "sha256  <k bytes/s for each size>k". */
		if (strncmp(line, "sha256", 6) == 0 && last != NULL)
			kbytes = strtod(last + 1, NULL);
	}
	pclose(p);
	return kbytes * 1000.0 / 1e6;
}

int main(int argc, char **argv)
{
	static struct corpus c;
	char dir[1024];
	const char *root = getenv("ATTEST_SOURCE_ROOT");
	double pr, pr_all, sha, speed;

	if (argc > 1)
		snprintf(dir, sizeof(dir), "%s", argv[1]);
	else
		snprintf(dir, sizeof(dir), "%s/tests/data/eventlogs", root != NULL ? root : ".");
	load_corpus(dir, &c);
	replayed_banks = quoted_bank;
	pr = passes_per_second(parse_replay_all, &c);
	replayed_banks = every_bank;
	pr_all = passes_per_second(parse_replay_all, &c);
	sha = passes_per_second(sha256_all, &c);
	speed = openssl_speed_sha256();
	printf("corpus: %zu logs, %zu bytes (%s)\n", c.count, c.bytes, dir);
	printf("parse+replay (quoted bank): %8.1f MB/s  %9.0f logs/s\n", pr * (double)c.bytes / 1e6,
	       pr * (double)c.count);
	printf("parse+replay (every bank):  %8.1f MB/s  %9.0f logs/s\n",
	       pr_all * (double)c.bytes / 1e6, pr_all * (double)c.count);
	printf("SHA-256 of the same logs:   %8.1f MB/s\n", sha * (double)c.bytes / 1e6);
	printf(
	    "ratio parse+replay (quoted bank) / SHA-256 of the same logs: %.2f (target >= 0.50)\n",
	    pr / sha);
	if (speed > 0)
		printf("openssl speed -evp sha256 (16 KiB blocks): %.1f MB/s; ratio parse+replay "
		       "(quoted bank) / it: %.2f\n",
		       speed, pr * (double)c.bytes / 1e6 / speed);
	else
		printf("openssl speed -evp sha256: could not run\n");
	for (size_t i = 0; i < c.count; i++)
		free(c.log[i]);
	return 0;
}
