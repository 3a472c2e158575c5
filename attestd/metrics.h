/* Prometheus counters and latency histograms for /metrics. Lock-free
 * (relaxed atomics): a scrape may see one counter a request ahead of
 * another, which Prometheus tolerates. */
#ifndef ATTEST_METRICS_H
#define ATTEST_METRICS_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"

enum metrics_endpoint { METRICS_CHALLENGE, METRICS_QUOTE, METRICS_ADMISSION, METRICS_ENDPOINTS };

/* Upper bounds (seconds) of the latency buckets, ending in +Inf. */
#define METRICS_BUCKETS 10

struct metrics {
	/* Decisions by endpoint (challenge or quote) and code (ERR_OK = admitted
	 * or challenge issued). */
	atomic_ulong decisions[METRICS_ENDPOINTS][ERR_COUNT];
	atomic_ulong latency_bucket[METRICS_ENDPOINTS][METRICS_BUCKETS];
	atomic_ulong latency_count[METRICS_ENDPOINTS];
	atomic_ulong latency_sum_us[METRICS_ENDPOINTS];
	atomic_ulong tokens_issued;
};

void metrics_decision(struct metrics *m, enum metrics_endpoint ep, err_t code);
void metrics_latency(struct metrics *m, enum metrics_endpoint ep, uint64_t micros);
void metrics_token_issued(struct metrics *m);

/* The Prometheus text exposition (malloc'd). */
char *metrics_render(struct metrics *m, size_t *len);

/* Monotonic microseconds, for latency measurements. */
uint64_t metrics_now_us(void);

#endif
