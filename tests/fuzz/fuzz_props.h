/* SPDX-License-Identifier: MIT */
/* Property checks shared by the fuzz targets and the fuzz regression suite. */
#ifndef SSE_FUZZ_PROPS_H
#define SSE_FUZZ_PROPS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

/* Each check runs one input and returns NULL when every property holds,
 * else a constant text naming the one that broke: a fuzzer aborts on it,
 * the regression suite fails the test with it. */

/* The parser over d[0..n) with the server's limits: views inside the head,
 * sane lengths, same answer for every prefix and for tighter limits. */
const char *fz_http_check(const uint8_t *d, size_t n);

/* The framer: d[0..n) laid out as described in fuzz_props.c becomes an
 * event, a comment and a retry frame, each size-queried, encoded exactly,
 * refused one byte short, and read back WHATWG-style. */
const char *fz_event_check(const uint8_t *d, size_t n);

/* A whole connection (POSIX only, fuzz_conn.c): the real server on
 * 127.0.0.1, d[0..n) sent as the request over loopback TCP. */
int fz_conn_start(void);          /* 0 or an SSE_ERR_* */
void fz_conn_stop(void);
const char *fz_conn_check(const uint8_t *d, size_t n);

/* A libFuzzer target's verdict on one input: a broken property (why not
 * NULL) is named on stderr and aborts, a crash libFuzzer keeps the input
 * of. Returns 0, what LLVMFuzzerTestOneInput returns. */
static inline int fz_hold(const char *target, const char *why)
{
    if (why) {
        fprintf(stderr, "%s: property broken: %s\n", target, why);
        abort();
    }
    return 0;
}

/* The limits the server parses requests with. */
#define FZ_MAX_LINE  CONFIG_SSE_HTTP_MAX_REQUEST_LINE
#define FZ_MAX_HDRS  CONFIG_SSE_HTTP_MAX_HEADERS

#endif /* SSE_FUZZ_PROPS_H */
