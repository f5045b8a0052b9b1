/* SPDX-License-Identifier: MIT */
/* The tests' own references for the framer, written apart from it, that the
 * framer suite and the fuzz properties compare against: UTF-8 validity by
 * decoding (not the framer's range tables), and lines as a browser joins them. */
#ifndef SSE_REF_TEXT_H
#define SSE_REF_TEXT_H

#include <stddef.h>

/* 1 if s[0..n) is well-formed UTF-8 (no overlongs, surrogates or code
 * points above U+10FFFF), else 0. */
int ref_utf8_valid(const unsigned char *s, size_t n);

/* s[0..n) with every CRLF, CR and LF made one LF into out (room for n);
 * returns the length written. */
size_t ref_normalize(const char *s, size_t n, char *out);

#endif /* SSE_REF_TEXT_H */
