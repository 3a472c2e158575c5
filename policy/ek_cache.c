/* Bounded set-associative cache of EK verdicts; see ek_cache.h. */
#include "ek_cache.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

struct ek_cache_slot {
	uint8_t key[EK_CACHE_KEY_SIZE];
	uint64_t stamp; /* insertion order within the set: the oldest goes first */
	const struct ek_verdict *verdict;
};

struct ek_cache_set {
	pthread_mutex_t lock;
	uint64_t clock;
	struct ek_cache_slot slot[EK_CACHE_WAYS];
};

struct ek_cache {
	struct ek_cache_set set[EK_CACHE_SETS];
};

err_t ek_cache_new(struct ek_cache **out)
{
	struct ek_cache *c = calloc(1, sizeof(*c));

	*out = NULL;
	if (c == NULL)
		return err_fail(ERR_INTERNAL, "out of memory");
	for (size_t i = 0; i < EK_CACHE_SETS; i++) {
		if (pthread_mutex_init(&c->set[i].lock, NULL) != 0) {
			while (i-- > 0)
				pthread_mutex_destroy(&c->set[i].lock);
			free(c);
			return err_fail(ERR_INTERNAL, "cannot create a lock");
		}
	}
	*out = c;
	return ERR_OK;
}

void ek_cache_free(struct ek_cache *c)
{
	if (c == NULL)
		return;
	for (size_t i = 0; i < EK_CACHE_SETS; i++) {
		for (size_t w = 0; w < EK_CACHE_WAYS; w++)
			ek_verdict_release(c->set[i].slot[w].verdict);
		pthread_mutex_destroy(&c->set[i].lock);
	}
	free(c);
}

/* The key is a SHA-256 output, so any of its bytes spread evenly. */
static struct ek_cache_set *set_of(struct ek_cache *c, const uint8_t *key)
{
	uint32_t h = (uint32_t)key[0] | (uint32_t)key[1] << 8 | (uint32_t)key[2] << 16 |
		     (uint32_t)key[3] << 24;

	return &c->set[h % EK_CACHE_SETS];
}

const struct ek_verdict *ek_cache_get(struct ek_cache *c,
				      const uint8_t key[static EK_CACHE_KEY_SIZE], time_t now)
{
	struct ek_cache_set *s = set_of(c, key);
	const struct ek_verdict *found = NULL, *stale = NULL;

	pthread_mutex_lock(&s->lock);
	for (size_t w = 0; w < EK_CACHE_WAYS; w++) {
		struct ek_cache_slot *slot = &s->slot[w];
		if (slot->verdict == NULL || memcmp(slot->key, key, EK_CACHE_KEY_SIZE) != 0)
			continue;
		if (now < slot->verdict->valid_until) {
			found = ek_verdict_ref(slot->verdict);
		} else {
			stale = slot->verdict;
			slot->verdict = NULL;
		}
		break;
	}
	pthread_mutex_unlock(&s->lock);
	ek_verdict_release(stale); /* outside the lock: freeing takes time */
	return found;
}

void ek_cache_put(struct ek_cache *c, const uint8_t key[static EK_CACHE_KEY_SIZE],
		  const struct ek_verdict *v)
{
	struct ek_cache_set *s = set_of(c, key);
	struct ek_cache_slot *victim = NULL;
	const struct ek_verdict *old;

	pthread_mutex_lock(&s->lock);
	for (size_t w = 0; w < EK_CACHE_WAYS && victim == NULL; w++) {
		if (s->slot[w].verdict != NULL &&
		    memcmp(s->slot[w].key, key, EK_CACHE_KEY_SIZE) == 0)
			victim = &s->slot[w]; /* another thread raced us here */
	}
	for (size_t w = 0; w < EK_CACHE_WAYS && victim == NULL; w++) {
		if (s->slot[w].verdict == NULL)
			victim = &s->slot[w];
	}
	if (victim == NULL) {
		victim = &s->slot[0];
		for (size_t w = 1; w < EK_CACHE_WAYS; w++) {
			if (s->slot[w].stamp < victim->stamp)
				victim = &s->slot[w];
		}
	}
	old = victim->verdict;
	memcpy(victim->key, key, EK_CACHE_KEY_SIZE);
	victim->stamp = ++s->clock;
	victim->verdict = ek_verdict_ref(v);
	pthread_mutex_unlock(&s->lock);
	ek_verdict_release(old);
}
