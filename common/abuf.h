/* Bounded cursors over untrusted bytes (reader) and over fixed output storage
 * (writer). A read either takes everything it asks for or nothing. */
#ifndef ATTEST_ABUF_H
#define ATTEST_ABUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"

struct abuf {
	const uint8_t *p;
	size_t len;
	size_t off;
};

void abuf_init(struct abuf *b, const void *p, size_t len);
size_t abuf_remaining(const struct abuf *b);

/* Each reader returns false and leaves the cursor unmoved when fewer bytes
 * remain than it needs. */
bool abuf_u8(struct abuf *b, uint8_t *out) WARN_UNUSED;
bool abuf_u16be(struct abuf *b, uint16_t *out) WARN_UNUSED;
bool abuf_u16le(struct abuf *b, uint16_t *out) WARN_UNUSED;
bool abuf_u32be(struct abuf *b, uint32_t *out) WARN_UNUSED;
bool abuf_u32le(struct abuf *b, uint32_t *out) WARN_UNUSED;
bool abuf_u64be(struct abuf *b, uint64_t *out) WARN_UNUSED;
bool abuf_u64le(struct abuf *b, uint64_t *out) WARN_UNUSED;

/* Points *out at the next n bytes (no copy) and moves past them. */
bool abuf_bytes(struct abuf *b, size_t n, const uint8_t **out) WARN_UNUSED;
bool abuf_copy(struct abuf *b, void *dst, size_t n) WARN_UNUSED;
bool abuf_skip(struct abuf *b, size_t n) WARN_UNUSED;

/* Makes *child a reader over exactly the next n bytes and moves the parent
 * past them, so a sub-structure cannot read beyond its declared size. */
bool abuf_child(struct abuf *b, size_t n, struct abuf *child) WARN_UNUSED;

/* True when every byte has been read: trailing data is an error unless a
 * format says otherwise. */
bool abuf_expect_end(const struct abuf *b) WARN_UNUSED;

/* Writer over caller storage. A write that does not fit sets `failed` and
 * writes nothing; later writes are ignored, so a sequence of writes is
 * checked once at the end with wbuf_ok(). */
struct wbuf {
	uint8_t *p;
	size_t cap;
	size_t len;
	bool failed;
};

void wbuf_init(struct wbuf *w, void *p, size_t cap);
void wbuf_put(struct wbuf *w, const void *src, size_t n);
void wbuf_u8(struct wbuf *w, uint8_t v);
void wbuf_u16be(struct wbuf *w, uint16_t v);
void wbuf_u32be(struct wbuf *w, uint32_t v);
void wbuf_u32le(struct wbuf *w, uint32_t v);
bool wbuf_ok(const struct wbuf *w) WARN_UNUSED;

#endif
