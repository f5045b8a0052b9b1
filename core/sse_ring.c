/* SPDX-License-Identifier: MIT */
/* Event ring storage: placement, eviction, resume cursors and copying out. */
#include <string.h>
#include "sse_ring.h"

void sse_ring_init(sse_ring_t *r, uint64_t first_id)
{
    r->head_id = first_id ? first_id : 1;
    r->tail_id = r->head_id;
    r->wpos = 0;
}

static const sse_ring_ev_t *slot(const sse_ring_t *r, uint64_t id)
{
    return &r->ev[id % CONFIG_SSE_RING_EVENTS];
}

/* Where an event of len bytes can start without touching held events, or
 * -1 if the oldest must go first. Events are contiguous; one that does not
 * fit before the end starts again at 0 and the gap is left unused. */
static long place(const sse_ring_t *r, uint32_t len)
{
    const sse_ring_ev_t *old, *new_;
    if (r->tail_id == r->head_id)
        return 0;
    old = slot(r, r->tail_id);
    new_ = slot(r, r->head_id - 1);
    if (new_->off >= old->off) {        /* held bytes do not wrap */
        if ((uint64_t)r->wpos + len <= CONFIG_SSE_RING_BYTES)
            return (long)r->wpos;
        return len <= old->off ? 0 : -1;
    }
    /* held bytes wrap: free space is wpos .. oldest start */
    return (uint64_t)r->wpos + len <= old->off ? (long)r->wpos : -1;
}

char *sse_ring_reserve(sse_ring_t *r, uint32_t len)
{
    long at;
    if (len == 0 || len > CONFIG_SSE_RING_BYTES / 2)
        return NULL;
    if (r->head_id - r->tail_id >= CONFIG_SSE_RING_EVENTS)
        r->tail_id++;                     /* every slot in use: drop oldest */
    while ((at = place(r, len)) < 0)
        r->tail_id++;
    if (r->tail_id == r->head_id)
        at = 0;
    r->wpos = (uint32_t)at;
    return r->bytes + at;
}

uint64_t sse_ring_commit(sse_ring_t *r, uint32_t len, uint8_t channel,
                         sse_conn_id_t target)
{
    sse_ring_ev_t *e = &r->ev[r->head_id % CONFIG_SSE_RING_EVENTS];
    e->id = r->head_id;
    e->off = r->wpos;
    e->len = len;
    e->channel = channel;
    e->target = target;
    r->wpos += len;
    return r->head_id++;
}

uint64_t sse_ring_resume_cursor(const sse_ring_t *r, uint64_t last_id)
{
    if (last_id >= r->head_id)        /* from the future: ids restarted */
        return r->tail_id;
    if (last_id + 1 < r->tail_id)     /* evicted since: send what is held */
        return r->tail_id;
    return last_id + 1;
}

int sse_ring_read(const sse_ring_t *r, uint64_t *cursor, uint32_t mask,
                  sse_conn_id_t self, char *buf, size_t cap)
{
    uint64_t id = *cursor;
    size_t n = 0;
    if (id < r->tail_id)
        return SSE_ERR_CLOSED;
    for (; id < r->head_id; id++) {
        const sse_ring_ev_t *e = slot(r, id);
        if (!sse_ring_match(e, mask, self))
            continue;
        if (e->len > cap - n)
            break;
        memcpy(buf + n, r->bytes + e->off, e->len);
        n += e->len;
    }
    *cursor = id;
    return (int)n;
}
