/* SPDX-License-Identifier: MIT */
/* The tests' own UTF-8 check: decodes each sequence, written apart from the
 * framer's range tables, so the framer suite and the fuzz properties have
 * something independent to compare sse_utf8_valid() against. */
#ifndef SSE_REF_UTF8_H
#define SSE_REF_UTF8_H

#include <stddef.h>

/* 1 if s[0..n) is well-formed UTF-8 (no overlongs, surrogates or code
 * points above U+10FFFF), else 0. */
int ref_utf8_valid(const unsigned char *s, size_t n);

#endif /* SSE_REF_UTF8_H */
