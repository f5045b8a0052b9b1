/* SPDX-License-Identifier: MIT */
/* The one server's state and its slot ids. */
#include <string.h>
#include "sse_atomic.h"
#include "sse_srv.h"

struct sse_srv sse_srv;

sse_conn_id_t sse_srv_conn_id(const struct sse_conn *c)
{
    return ((uint32_t)c->gen << 16) | (uint32_t)(c - S.conns + 1);
}

/* Slot of a live id, or NULL; lock held. */
struct sse_conn *sse_srv_conn(sse_conn_id_t id)
{
    uint32_t idx = (id & 0xFFFFu) - 1;
    struct sse_conn *c;
    if (id == SSE_CONN_NONE || idx >= CONFIG_SSE_MAX_CONNECTIONS)
        return NULL;
    c = &S.conns[idx];
    return c->state != C_FREE && sse_srv_conn_id(c) == id ? c : NULL;
}

int sse_srv_stopping(void)
{
    return sse_load_acq(&S.stopping);
}

/* Locks and ring, once per process, by whoever comes first: the first
 * start, or a publish before any start (its events wait in the ring for
 * replay). State: 0 none, 1 being made, 2 ready. */
int sse_srv_init(void)
{
    int st = 0;
    if (sse_load_acq(&S.inited) == 2)
        return SSE_OK;
    if (!__atomic_compare_exchange_n(&S.inited, &st, 1, 0, __ATOMIC_ACQ_REL,
                                     __ATOMIC_ACQUIRE)) {
        while ((st = sse_load_acq(&S.inited)) == 1)
            sse_port_sleep_ms(1);
        return st == 2 ? SSE_OK : SSE_ERR_NOMEM;
    }
    if (sse_port_mutex_init(&S.lock) != SSE_OK || sse_port_cond_init(&S.idle) != SSE_OK ||
        sse_fanout_init() != SSE_OK || sse_connbuf_init() != SSE_OK) {
        sse_store_rel(&S.inited, 0);
        return SSE_ERR_NOMEM;
    }
    /* No loop over the slots: a slot gets its socket when taken, and a
     * slot never taken is never touched (its pages cost no RAM). */
    sse_ring_init(&S.ring, 1);
    sse_store_rel(&S.inited, 2);
    return SSE_OK;
}

/* The locks exist (a start or a publish happened). */
int sse_srv_ready(void)
{
    return sse_load_acq(&S.inited) == 2;
}

int sse_conn_borrow(struct sse_conn *c, uint32_t timeout_ms)
{
    c->buf = sse_connbuf_take(timeout_ms, sse_srv_stopping);
    return c->buf != NULL;
}

void sse_conn_give_back(struct sse_conn *c)
{
    sse_connbuf_give(c->buf);
    c->buf = NULL;
}
