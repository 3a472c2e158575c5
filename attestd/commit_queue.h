/* Group commit, shared by the store backends: callers queue decisions and
 * wait; one writer thread takes every queued decision (up to a batch cap),
 * has the backend write them in one transaction, and wakes each caller only
 * when that transaction has committed (or failed). Many decisions share one
 * fsync, and nothing is acknowledged before it is durable. */
#ifndef ATTEST_COMMIT_QUEUE_H
#define ATTEST_COMMIT_QUEUE_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "store.h"

/* One queued decision; lives on its caller's stack while it waits. */
struct commit_item {
	const uint8_t *session_id; /* consumed in the same transaction; may be NULL */
	int64_t session_expires_at;
	struct attestation_record *rec;
	err_t result; /* the backend sets ERR_SESSION_REPLAYED for a used session */
	bool done;
	struct commit_item *next;
};

/* Writes batch (n items linked by next) in one transaction, setting each
 * item's result; a non-OK return fails the whole batch (nothing written). */
typedef err_t (*commit_write_fn)(void *backend, struct commit_item *batch, size_t n);

struct commit_queue {
	pthread_mutex_t mu;
	pthread_cond_t work, done;
	struct commit_item *head, *tail;
	bool stopping;
	pthread_t writer;
	bool started;
	size_t max_batch;
	commit_write_fn write;
	void *backend;
};

/* Starts the writer thread. */
err_t commit_queue_start(struct commit_queue *q, size_t max_batch, commit_write_fn write,
			 void *backend) WARN_UNUSED;

/* Lets the writer drain what is queued, then stops it; later submissions
 * are refused with ERR_UNAVAILABLE. Safe on a queue that never started. */
void commit_queue_stop(struct commit_queue *q);

/* Queues one decision and waits for its transaction: ERR_OK,
 * ERR_SESSION_REPLAYED (recorded as a refusal), or ERR_UNAVAILABLE. */
err_t commit_queue_submit(struct commit_queue *q, const uint8_t *session_id,
			  int64_t session_expires_at, struct attestation_record *rec) WARN_UNUSED;

#endif
