/* SPDX-License-Identifier: MIT */
/* The pool of connection buffers: a request and a send buffer lent to a
 * connection's thread while it works (request, answer, replay, a send its
 * socket could not take at once). A stream parked with the fan-out writer
 * holds none, so the RAM they take follows the threads at work, not the
 * streams open. */
#ifndef SSE_CONNBUF_H
#define SSE_CONNBUF_H

#include <stdint.h>
#include "sse_opt.h"

typedef struct sse_connbuf {
    char req[CONFIG_SSE_REQ_BUF_SIZE];
    char out[CONFIG_SSE_SEND_BUF_SIZE];
} sse_connbuf_t;

/** Its lock, once (the server's first start or publish). @return SSE_OK or
 *  SSE_ERR_NOMEM. */
int sse_connbuf_init(void);

/**
 * Borrow a pair: the one given back last (its pages are warm), else one
 * never lent. Waits up to @p timeout_ms for one to come back while
 * @p stop() says 0.
 * @return the pair, or NULL: none came back in time, or a stop.
 */
sse_connbuf_t *sse_connbuf_take(uint32_t timeout_ms, int (*stop)(void));

/** Give back what sse_connbuf_take() lent; NULL is ignored. */
void sse_connbuf_give(sse_connbuf_t *b);

/** Wake every thread waiting in sse_connbuf_take() to look at its stop(). */
void sse_connbuf_wake(void);

/** Pairs lent now. */
unsigned sse_connbuf_lent(void);

/** The most pairs lent at once since the last sse_connbuf_reset_peak(). */
unsigned sse_connbuf_peak(void);

/** Start the peak again from what is lent now (a server start). */
void sse_connbuf_reset_peak(void);

#endif /* SSE_CONNBUF_H */
