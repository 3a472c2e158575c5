/* Group commit: every caller waits for its own batch's outcome; batches
 * gather what queued up; a failed batch fails all of its callers; stopping
 * writes what is queued first. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <pthread.h>
#include <unistd.h>

#include <cmocka.h>

#include "commit_queue.h"

struct fake_backend {
	pthread_mutex_t mu;
	int batches;
	int items;
	size_t largest;
	bool fail;
	int64_t replay_id; /* items with rec->id == this get ERR_SESSION_REPLAYED */
};

static err_t fake_write(void *ctx, struct commit_item *batch, size_t n)
{
	struct fake_backend *b = ctx;
	size_t walked = 0;

	usleep(2000); /* an fsync's worth of time, so callers pile up */
	pthread_mutex_lock(&b->mu);
	b->batches++;
	for (struct commit_item *p = batch; p != NULL; p = p->next) {
		walked++;
		p->result = p->rec->id == b->replay_id ? ERR_SESSION_REPLAYED : ERR_OK;
	}
	assert_int_equal(walked, n);
	b->items += (int)n;
	if (n > b->largest)
		b->largest = n;
	pthread_mutex_unlock(&b->mu);
	return b->fail ? err_fail(ERR_UNAVAILABLE, "disk gone") : ERR_OK;
}

struct caller {
	struct commit_queue *q;
	struct attestation_record rec;
	err_t rc;
};

static void *submit(void *arg)
{
	struct caller *c = arg;

	c->rc = commit_queue_submit(c->q, NULL, 0, &c->rec);
	return NULL;
}

#define CALLERS 32

static void run_callers(struct commit_queue *q, struct caller *c)
{
	pthread_t t[CALLERS];

	for (int i = 0; i < CALLERS; i++) {
		c[i].q = q;
		c[i].rec.id = i;
		assert_int_equal(pthread_create(&t[i], NULL, submit, &c[i]), 0);
	}
	for (int i = 0; i < CALLERS; i++)
		assert_int_equal(pthread_join(t[i], NULL), 0);
}

static void test_batches_and_results(void **state)
{
	struct fake_backend b = {PTHREAD_MUTEX_INITIALIZER, 0, 0, 0, false, 7};
	struct commit_queue q;
	struct caller c[CALLERS] = {0};

	(void)state;
	assert_int_equal(commit_queue_start(&q, 8, fake_write, &b), ERR_OK);
	run_callers(&q, c);
	for (int i = 0; i < CALLERS; i++)
		assert_int_equal(c[i].rc, i == 7 ? ERR_SESSION_REPLAYED : ERR_OK);
	assert_int_equal(b.items, CALLERS);
	assert_true(b.batches < CALLERS); /* callers shared transactions */
	assert_true(b.largest <= 8);	  /* never more than the cap */
	commit_queue_stop(&q);
	/* A stopped queue takes nothing more. */
	assert_int_equal(commit_queue_submit(&q, NULL, 0, &c[0].rec), ERR_UNAVAILABLE);
}

static void test_failed_batch_fails_its_callers(void **state)
{
	struct fake_backend b = {PTHREAD_MUTEX_INITIALIZER, 0, 0, 0, true, -1};
	struct commit_queue q;
	struct caller c[CALLERS] = {0};

	(void)state;
	assert_int_equal(commit_queue_start(&q, 512, fake_write, &b), ERR_OK);
	run_callers(&q, c);
	for (int i = 0; i < CALLERS; i++)
		assert_int_equal(c[i].rc, ERR_UNAVAILABLE); /* never acknowledged */
	commit_queue_stop(&q);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_batches_and_results),
	    cmocka_unit_test(test_failed_batch_fails_its_callers),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
