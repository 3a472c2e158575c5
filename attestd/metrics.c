/* Metrics rendering in the Prometheus text format (version 0.0.4). */
#include "metrics.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static const double bucket_bounds_s[METRICS_BUCKETS - 1] = {
    0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.5,
};

static const char *const endpoint_names[METRICS_ENDPOINTS] = {"challenge", "quote", "admission"};

void metrics_decision(struct metrics *m, enum metrics_endpoint ep, err_t code)
{
	if ((unsigned)code < ERR_COUNT)
		atomic_fetch_add_explicit(&m->decisions[ep][code], 1, memory_order_relaxed);
}

void metrics_latency(struct metrics *m, enum metrics_endpoint ep, uint64_t micros)
{
	size_t b = 0;

	while (b < METRICS_BUCKETS - 1 && (double)micros / 1e6 > bucket_bounds_s[b])
		b++;
	atomic_fetch_add_explicit(&m->latency_bucket[ep][b], 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&m->latency_count[ep], 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&m->latency_sum_us[ep], micros, memory_order_relaxed);
}

void metrics_token_issued(struct metrics *m)
{
	atomic_fetch_add_explicit(&m->tokens_issued, 1, memory_order_relaxed);
}

uint64_t metrics_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

char *metrics_render(struct metrics *m, size_t *len)
{
	char *buf = NULL;
	size_t size = 0;
	FILE *f = open_memstream(&buf, &size);

	if (f == NULL)
		return NULL;
	fprintf(f, "# HELP attestd_decisions_total Attestation decisions by endpoint and outcome.\n"
		   "# TYPE attestd_decisions_total counter\n");
	for (int ep = 0; ep < METRICS_ENDPOINTS; ep++) {
		for (int e = 0; e < ERR_COUNT; e++) {
			unsigned long n =
			    atomic_load_explicit(&m->decisions[ep][e], memory_order_relaxed);

			if (n == 0)
				continue;
			fprintf(f, "attestd_decisions_total{endpoint=\"%s\",code=\"%s\"} %lu\n",
				endpoint_names[ep], err_code_str((err_t)e), n);
		}
	}
	fprintf(f, "# HELP attestd_request_duration_seconds Request latency by endpoint.\n"
		   "# TYPE attestd_request_duration_seconds histogram\n");
	for (int ep = 0; ep < METRICS_ENDPOINTS; ep++) {
		unsigned long cumulative = 0;

		for (int b = 0; b < METRICS_BUCKETS; b++) {
			cumulative +=
			    atomic_load_explicit(&m->latency_bucket[ep][b], memory_order_relaxed);
			if (b < METRICS_BUCKETS - 1)
				fprintf(f,
					"attestd_request_duration_seconds_bucket{endpoint=\"%s\","
					"le=\"%g\"} %lu\n",
					endpoint_names[ep], bucket_bounds_s[b], cumulative);
			else
				fprintf(f,
					"attestd_request_duration_seconds_bucket{endpoint=\"%s\","
					"le=\"+Inf\"} %lu\n",
					endpoint_names[ep], cumulative);
		}
		fprintf(f, "attestd_request_duration_seconds_sum{endpoint=\"%s\"} %.6f\n",
			endpoint_names[ep],
			(double)atomic_load_explicit(&m->latency_sum_us[ep], memory_order_relaxed) /
			    1e6);
		fprintf(f, "attestd_request_duration_seconds_count{endpoint=\"%s\"} %lu\n",
			endpoint_names[ep],
			atomic_load_explicit(&m->latency_count[ep], memory_order_relaxed));
	}
	fprintf(f,
		"# HELP attestd_tokens_issued_total Admission tokens issued.\n"
		"# TYPE attestd_tokens_issued_total counter\n"
		"attestd_tokens_issued_total %lu\n",
		atomic_load_explicit(&m->tokens_issued, memory_order_relaxed));
	if (fclose(f) != 0) {
		free(buf);
		return NULL;
	}
	*len = size;
	return buf;
}
