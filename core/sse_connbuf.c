/* SPDX-License-Identifier: MIT */
/* The pool of connection buffers (see sse_connbuf.h): a stack of the pairs
 * given back, and the ones never lent after them. */
#include "sse_port.h"
#include "sse_atomic.h"
#include "sse_connbuf.h"

/* More pairs than slots could never be lent. */
#if CONFIG_SSE_CONN_BUFS < CONFIG_SSE_MAX_CONNECTIONS
#define NBUFS CONFIG_SSE_CONN_BUFS
#else
#define NBUFS CONFIG_SSE_MAX_CONNECTIONS
#endif

static struct {
    sse_port_mutex_t lock;
    sse_port_cond_t  back;       /* a pair came back, or a stop */
    int              inited;
    unsigned         fresh;      /* bufs[fresh..] never lent: pages untouched */
    unsigned         nback;      /* back[0..nback): given back, last on top */
    unsigned         lent, peak; /* atomic for readers */
    uint16_t         stack[NBUFS];
    sse_connbuf_t    bufs[NBUFS];
} P;

int sse_connbuf_init(void)
{
    if (P.inited)
        return SSE_OK;
    if (sse_port_mutex_init(&P.lock) != SSE_OK || sse_port_cond_init(&P.back) != SSE_OK)
        return SSE_ERR_NOMEM;
    P.inited = 1;
    return SSE_OK;
}

sse_connbuf_t *sse_connbuf_take(uint32_t timeout_ms, int (*stop)(void))
{
    sse_connbuf_t *b = NULL;
    uint32_t t0 = sse_port_now_ms(), waited = 0;
    sse_port_mutex_lock(&P.lock);
    for (;;) {
        /* Last given back first: a few warm pairs serve everyone and the
         * rest of the array is never touched (no RAM on a paged OS). */
        if (P.nback)
            b = &P.bufs[P.stack[--P.nback]];
        else if (P.fresh < NBUFS)
            b = &P.bufs[P.fresh++];
        if (b || stop() || waited >= timeout_ms)
            break;
        sse_port_cond_wait(&P.back, &P.lock, timeout_ms - waited);
        waited = sse_port_now_ms() - t0;
    }
    if (b) {
        sse_store_rlx(&P.lent, P.lent + 1);
        if (P.lent > P.peak)
            sse_store_rlx(&P.peak, P.lent);
    }
    sse_port_mutex_unlock(&P.lock);
    return b;
}

void sse_connbuf_give(sse_connbuf_t *b)
{
    if (!b)
        return;
    sse_port_mutex_lock(&P.lock);
    P.stack[P.nback++] = (uint16_t)(b - P.bufs);
    sse_store_rlx(&P.lent, P.lent - 1);
    sse_port_cond_signal(&P.back);
    sse_port_mutex_unlock(&P.lock);
}

void sse_connbuf_wake(void)
{
    sse_port_mutex_lock(&P.lock);
    sse_port_cond_broadcast(&P.back);
    sse_port_mutex_unlock(&P.lock);
}

unsigned sse_connbuf_peak(void)
{
    return sse_load_rlx(&P.peak);
}

unsigned sse_connbuf_lent(void)
{
    return sse_load_rlx(&P.lent);
}

void sse_connbuf_reset_peak(void)
{
    sse_port_mutex_lock(&P.lock);
    sse_store_rlx(&P.peak, P.lent);
    sse_port_mutex_unlock(&P.lock);
}
