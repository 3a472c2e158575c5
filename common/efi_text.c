/* Bounded text rendering of firmware strings and GUIDs. */
#include "efi_text.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static const char cut_marker[] = "...";

void textbuf_init(struct textbuf *t, char *out, size_t cap)
{
	t->out = out;
	t->cap = cap;
	t->len = 0;
	t->truncated = cap == 0;
	if (cap > 0)
		out[0] = '\0';
}

/* Marks the text as cut, ending it in "..." when there is room for that. */
static void textbuf_cut(struct textbuf *t)
{
	t->truncated = true;
	if (t->cap >= sizeof(cut_marker)) {
		memcpy(t->out + t->cap - sizeof(cut_marker), cut_marker, sizeof(cut_marker));
		t->len = t->cap - 1;
	}
}

static void textbuf_putc(struct textbuf *t, char c)
{
	if (t->truncated)
		return;
	if (t->len + 1 >= t->cap) {
		textbuf_cut(t);
		return;
	}
	t->out[t->len++] = c;
	t->out[t->len] = '\0';
}

void textbuf_printf(struct textbuf *t, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (t->truncated)
		return;
	va_start(ap, fmt);
	n = vsnprintf(t->out + t->len, t->cap - t->len, fmt, ap);
	va_end(ap);
	if (n < 0) {
		t->out[t->len] = '\0';
		textbuf_cut(t);
	} else if ((size_t)n >= t->cap - t->len) {
		textbuf_cut(t);
	} else {
		t->len += (size_t)n;
	}
}

static bool printable(unsigned c)
{
	return c >= 0x20 && c < 0x7f;
}

void textbuf_ascii(struct textbuf *t, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n && !t->truncated; i++)
		textbuf_putc(t, printable(p[i]) ? (char)p[i] : '.');
}

void textbuf_utf16(struct textbuf *t, const uint8_t *p, size_t n_units)
{
	for (size_t i = 0; i < n_units && !t->truncated; i++) {
		unsigned u = (unsigned)p[2 * i] | (unsigned)p[2 * i + 1] << 8;

		if (u == 0)
			break;
		textbuf_putc(t, printable(u) ? (char)u : '?');
	}
}

void textbuf_hex(struct textbuf *t, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n && !t->truncated; i++)
		textbuf_printf(t, "%02x", p[i]);
}

void textbuf_guid(struct textbuf *t, const uint8_t g[static 16])
{
	textbuf_printf(t, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
		       g[3], g[2], g[1], g[0], g[5], g[4], g[7], g[6], g[8], g[9], g[10], g[11],
		       g[12], g[13], g[14], g[15]);
}

static unsigned fold(unsigned c)
{
	return c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c;
}

/* Shared search: unit(i) reads code unit i of the haystack. */
#define CONTAINS_BODY(n, unit)                                                                     \
	do {                                                                                       \
		size_t m = strlen(needle);                                                         \
		if (m == 0)                                                                        \
			return true;                                                               \
		for (size_t i = 0; m <= (n) && i <= (n)-m; i++) {                                  \
			size_t j = 0;                                                              \
			while (j < m && fold(unit(i + j)) == fold((unsigned char)needle[j]))       \
				j++;                                                               \
			if (j == m)                                                                \
				return true;                                                       \
		}                                                                                  \
		return false;                                                                      \
	} while (0)

bool utf16_contains(const uint8_t *p, size_t n_units, const char *needle)
{
#define UTF16_UNIT(k) ((unsigned)p[2 * (k)] | (unsigned)p[2 * (k) + 1] << 8)
	CONTAINS_BODY(n_units, UTF16_UNIT);
#undef UTF16_UNIT
}

bool ascii_contains(const uint8_t *p, size_t n, const char *needle)
{
#define ASCII_UNIT(k) ((unsigned)p[k])
	CONTAINS_BODY(n, ASCII_UNIT);
#undef ASCII_UNIT
}
