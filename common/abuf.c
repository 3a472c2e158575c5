/* Bounded reader and writer; every length check is written so it cannot
 * overflow (`n > len - off`, with off <= len an invariant). */
#include "abuf.h"

#include <string.h>

void abuf_init(struct abuf *b, const void *p, size_t len)
{
	b->p = p;
	b->len = p != NULL ? len : 0;
	b->off = 0;
}

size_t abuf_remaining(const struct abuf *b)
{
	return b->len - b->off;
}

static bool abuf_take(struct abuf *b, size_t n, const uint8_t **out)
{
	if (n > b->len - b->off)
		return false;
	*out = b->p + b->off;
	b->off += n;
	return true;
}

bool abuf_bytes(struct abuf *b, size_t n, const uint8_t **out)
{
	return abuf_take(b, n, out);
}

bool abuf_copy(struct abuf *b, void *dst, size_t n)
{
	const uint8_t *src;

	if (!abuf_take(b, n, &src))
		return false;
	if (n > 0)
		memcpy(dst, src, n);
	return true;
}

bool abuf_skip(struct abuf *b, size_t n)
{
	const uint8_t *unused;

	return abuf_take(b, n, &unused);
}

bool abuf_child(struct abuf *b, size_t n, struct abuf *child)
{
	const uint8_t *start;

	if (!abuf_take(b, n, &start))
		return false;
	child->p = start;
	child->len = n;
	child->off = 0;
	return true;
}

bool abuf_expect_end(const struct abuf *b)
{
	return b->off == b->len;
}

bool abuf_u8(struct abuf *b, uint8_t *out)
{
	const uint8_t *s;

	if (!abuf_take(b, 1, &s))
		return false;
	*out = s[0];
	return true;
}

static uint64_t load_be(const uint8_t *s, size_t n)
{
	uint64_t v = 0;

	for (size_t i = 0; i < n; i++)
		v = (v << 8) | s[i];
	return v;
}

static uint64_t load_le(const uint8_t *s, size_t n)
{
	uint64_t v = 0;

	for (size_t i = n; i > 0; i--)
		v = (v << 8) | s[i - 1];
	return v;
}

#define ABUF_INT_READER(name, type, load)                                                          \
	bool name(struct abuf *b, type *out)                                                       \
	{                                                                                          \
		const uint8_t *s;                                                                  \
		if (!abuf_take(b, sizeof(type), &s))                                               \
			return false;                                                              \
		*out = (type)load(s, sizeof(type));                                                \
		return true;                                                                       \
	}

ABUF_INT_READER(abuf_u16be, uint16_t, load_be)
ABUF_INT_READER(abuf_u16le, uint16_t, load_le)
ABUF_INT_READER(abuf_u32be, uint32_t, load_be)
ABUF_INT_READER(abuf_u32le, uint32_t, load_le)
ABUF_INT_READER(abuf_u64be, uint64_t, load_be)
ABUF_INT_READER(abuf_u64le, uint64_t, load_le)

void wbuf_init(struct wbuf *w, void *p, size_t cap)
{
	w->p = p;
	w->cap = p != NULL ? cap : 0;
	w->len = 0;
	w->failed = false;
}

void wbuf_put(struct wbuf *w, const void *src, size_t n)
{
	if (w->failed)
		return;
	if (n > w->cap - w->len) {
		w->failed = true;
		return;
	}
	if (n > 0)
		memcpy(w->p + w->len, src, n);
	w->len += n;
}

void wbuf_u8(struct wbuf *w, uint8_t v)
{
	wbuf_put(w, &v, 1);
}

void wbuf_u16be(struct wbuf *w, uint16_t v)
{
	const uint8_t s[2] = {(uint8_t)(v >> 8), (uint8_t)v};

	wbuf_put(w, s, sizeof(s));
}

void wbuf_u32be(struct wbuf *w, uint32_t v)
{
	const uint8_t s[4] = {(uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8),
			      (uint8_t)v};

	wbuf_put(w, s, sizeof(s));
}

void wbuf_u32le(struct wbuf *w, uint32_t v)
{
	const uint8_t s[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16),
			      (uint8_t)(v >> 24)};

	wbuf_put(w, s, sizeof(s));
}

bool wbuf_ok(const struct wbuf *w)
{
	return !w->failed;
}
