/* Bounded text output for rendering firmware data: a builder that cuts
 * instead of overflowing, UTF-16LE strings, and EFI GUIDs. */
#ifndef ATTEST_EFI_TEXT_H
#define ATTEST_EFI_TEXT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Appends to out[0..cap), always NUL-terminated; once something did not fit
 * the text ends in "..." and `truncated` is set. */
struct textbuf {
	char *out;
	size_t cap;
	size_t len;
	bool truncated;
};

void textbuf_init(struct textbuf *t, char *out, size_t cap);
void textbuf_printf(struct textbuf *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Bytes as text, each byte outside printable ASCII as '.'. */
void textbuf_ascii(struct textbuf *t, const uint8_t *p, size_t n);
/* UTF-16LE code units up to the first NUL or n_units; code points outside
 * printable ASCII become '?', so hostile strings cannot carry control
 * characters to a terminal or a log. */
void textbuf_utf16(struct textbuf *t, const uint8_t *p, size_t n_units);
void textbuf_hex(struct textbuf *t, const uint8_t *p, size_t n);
/* An EFI_GUID as stored in firmware (three little-endian fields, then
 * eight bytes): "8be4df61-93ca-11d2-aa0d-00e098032b8c". */
void textbuf_guid(struct textbuf *t, const uint8_t guid[static 16]);

/* The bytes of an EFI_GUID as firmware stores it, from its text form's
 * fields, for constant tables. */
#define EFI_GUID_BYTES(a, b, c, d0, d1, d2, d3, d4, d5, d6, d7)                                    \
	{                                                                                          \
		(uint8_t)(a), (uint8_t)((a) >> 8), (uint8_t)((a) >> 16), (uint8_t)((a) >> 24),     \
		    (uint8_t)(b), (uint8_t)((b) >> 8), (uint8_t)(c), (uint8_t)((c) >> 8), d0, d1,  \
		    d2, d3, d4, d5, d6, d7                                                         \
	}

/* Case-insensitive search of an ASCII needle in UTF-16LE text (n_units
 * code units), for matching firmware strings against known names. */
bool utf16_contains(const uint8_t *p, size_t n_units, const char *needle);
/* Same over raw bytes (ASCII text in event data). */
bool ascii_contains(const uint8_t *p, size_t n, const char *needle);

#endif
