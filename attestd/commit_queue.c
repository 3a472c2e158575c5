/* The group-commit queue and its writer thread. */
#include "commit_queue.h"

#include "log.h"

static void *writer_main(void *arg)
{
	struct commit_queue *q = arg;

	pthread_mutex_lock(&q->mu);
	for (;;) {
		struct commit_item *batch, *last;
		size_t n = 1;
		err_t rc;

		while (q->head == NULL && !q->stopping)
			pthread_cond_wait(&q->work, &q->mu);
		if (q->head == NULL)
			break; /* stopping, and everything queued is written */
		batch = last = q->head;
		while (last->next != NULL && n < q->max_batch) {
			last = last->next;
			n++;
		}
		q->head = last->next;
		if (q->head == NULL)
			q->tail = NULL;
		last->next = NULL;
		pthread_mutex_unlock(&q->mu);

		rc = q->write(q->backend, batch, n);
		if (rc != ERR_OK)
			log_error("%s (%zu decisions not recorded)", err_detail(), n);

		pthread_mutex_lock(&q->mu);
		for (struct commit_item *p = batch; p != NULL; p = p->next) {
			if (rc != ERR_OK)
				p->result = rc;
			p->done = true;
		}
		pthread_cond_broadcast(&q->done);
	}
	pthread_mutex_unlock(&q->mu);
	return NULL;
}

err_t commit_queue_start(struct commit_queue *q, size_t max_batch, commit_write_fn write,
			 void *backend)
{
	q->head = q->tail = NULL;
	q->stopping = false;
	q->max_batch = max_batch;
	q->write = write;
	q->backend = backend;
	pthread_mutex_init(&q->mu, NULL);
	pthread_cond_init(&q->work, NULL);
	pthread_cond_init(&q->done, NULL);
	q->started = pthread_create(&q->writer, NULL, writer_main, q) == 0;
	return q->started ? ERR_OK : err_fail(ERR_INTERNAL, "cannot start the store writer");
}

void commit_queue_stop(struct commit_queue *q)
{
	if (!q->started)
		return;
	pthread_mutex_lock(&q->mu);
	q->stopping = true;
	pthread_cond_signal(&q->work);
	pthread_mutex_unlock(&q->mu);
	pthread_join(q->writer, NULL);
	q->started = false;
	/* The lock stays usable, so a late caller is refused, not undefined. */
}

err_t commit_queue_submit(struct commit_queue *q, const uint8_t *session_id,
			  int64_t session_expires_at, struct attestation_record *rec)
{
	struct commit_item item = {session_id, session_expires_at, rec, ERR_OK, false, NULL};

	pthread_mutex_lock(&q->mu);
	if (q->stopping) {
		pthread_mutex_unlock(&q->mu);
		return err_fail(ERR_UNAVAILABLE, "store is closing");
	}
	if (q->tail != NULL)
		q->tail->next = &item;
	else
		q->head = &item;
	q->tail = &item;
	pthread_cond_signal(&q->work);
	while (!item.done)
		pthread_cond_wait(&q->done, &q->mu);
	pthread_mutex_unlock(&q->mu);
	if (item.result == ERR_UNAVAILABLE)
		return err_fail(ERR_UNAVAILABLE, "the decision could not be recorded");
	if (item.result == ERR_SESSION_REPLAYED)
		return err_fail(ERR_SESSION_REPLAYED, "session was already used");
	return item.result;
}
