/* SPDX-License-Identifier: MIT */
/* Event ring storage: placement, eviction, resume cursors and copying out. */
#include <string.h>
#include "sse_atomic.h"
#include "sse_ring.h"

void sse_ring_init(sse_ring_t *r, uint64_t first_id)
{
    /* Write every byte once: on a hosted OS a static ring's pages are
     * otherwise mapped on first write, so the process's RSS would creep
     * until the ring has wrapped (hours at a low rate: it reads like a
     * leak) and the first pass of publishing would take the page faults.
     * Committed here, the RSS at start is the RSS for good. */
    memset(r, 0, sizeof(*r));
    r->head_id = first_id ? first_id : 1;
    r->tail_id = r->head_id;
    r->wpos = 0;
    sse_store_rel(&r->head_lo, (uint32_t)r->head_id);
    sse_store_rel(&r->tail_lo, (uint32_t)r->tail_id);
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
    /* Readers must see the new tail before any byte of an evicted event
     * changes: if they copied such a byte, their tail check after the copy
     * fails (seqlock: tail store, release fence, then the data stores). */
    if (sse_load_rlx(&r->tail_lo) != (uint32_t)r->tail_id) {
        sse_store_rlx(&r->tail_lo, (uint32_t)r->tail_id);
        sse_fence_rel();
    }
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
    sse_store_rel(&r->head_lo, (uint32_t)(r->head_id + 1));
    return r->head_id++;
}

int sse_ring_has_new(const sse_ring_t *r, uint64_t cursor)
{
    return __atomic_load_n(&r->head_lo, __ATOMIC_SEQ_CST) != (uint32_t)cursor;
}

uint64_t sse_ring_resume_cursor(const sse_ring_t *r, uint64_t last_id)
{
    if (last_id >= r->head_id)        /* from the future: ids restarted */
        return r->tail_id;
    if (last_id + 1 < r->tail_id)     /* evicted since: send what is held */
        return r->tail_id;
    return last_id + 1;
}

/* Has the tail passed @p start? Ids are compared by 32-bit difference. */
static int behind(const sse_ring_t *r, uint64_t start)
{
    return (int32_t)(sse_load_rlx(&r->tail_lo) - (uint32_t)start) > 0;
}

/* A lock-free read is a seqlock's: read_begin() takes the head to read up
 * to (SSE_ERR_CLOSED if the tail passed start already), slot_copy() each
 * event, read_end() says whether the tail passed start meanwhile, in which
 * case what was copied may be torn and is thrown away. */
static int read_begin(const sse_ring_t *r, uint64_t start, uint64_t *head)
{
    *head = start + (uint32_t)(sse_load_acq(&r->head_lo) - (uint32_t)start);
    if (behind(r, start))
        return SSE_ERR_CLOSED;
    sse_seqlock_copy_begin();
    return SSE_OK;
}

/* Copy slot @p id into @p e. 0 if it is being rewritten (nonsense): never
 * copy out of bounds, and let read_end() decide. */
static int slot_copy(const sse_ring_t *r, uint64_t id, sse_ring_ev_t *e)
{
    *e = *slot(r, id);
    return e->id == id && e->off <= CONFIG_SSE_RING_BYTES &&
           e->len <= CONFIG_SSE_RING_BYTES - e->off;
}

static int read_end(const sse_ring_t *r, uint64_t start)
{
    sse_seqlock_copy_end();
    sse_fence_acq();
    return behind(r, start) ? SSE_ERR_CLOSED : SSE_OK;
}

int sse_ring_read(const sse_ring_t *r, uint64_t *cursor, uint32_t mask,
                  sse_conn_id_t self, char *buf, size_t cap)
{
    return sse_ring_read_ex(r, cursor, mask, self, buf, cap, NULL);
}

int sse_ring_read_ex(const sse_ring_t *r, uint64_t *cursor, uint32_t mask,
                     sse_conn_id_t self, char *buf, size_t cap, int *personal)
{
    const uint64_t start = *cursor;
    uint64_t id = start, head;
    size_t n = 0;
    int own = 0;

    if (read_begin(r, start, &head) != SSE_OK)
        return SSE_ERR_CLOSED;
    for (; id < head; id++) {
        sse_ring_ev_t e;
        if (!slot_copy(r, id, &e))
            break;
        if (!sse_ring_match(&e, mask, self)) {
            own |= e.target != SSE_CONN_NONE;
            continue;
        }
        if (e.len > cap - n)
            break;
        own |= e.target != SSE_CONN_NONE;
        memcpy(buf + n, r->bytes + e.off, e.len);
        n += e.len;
    }
    if (read_end(r, start) != SSE_OK)
        return SSE_ERR_CLOSED;
    *cursor = id;
    if (personal)
        *personal = own;
    return (int)n;
}

int sse_ring_next(const sse_ring_t *r, uint64_t *cursor, int all, uint32_t mask,
                  char *buf, size_t cap, uint64_t *id, uint8_t *channel)
{
    const uint64_t start = *cursor;
    uint64_t at = start, head;
    sse_ring_ev_t e;
    int n = 0;

    if (read_begin(r, start, &head) != SSE_OK)
        return SSE_ERR_CLOSED;
    for (; at < head; at++) {
        if (!slot_copy(r, at, &e))
            break;
        if (e.target != SSE_CONN_NONE ||
            !(e.channel == SSE_RING_ALL ? all != 0 : ((mask >> e.channel) & 1u) != 0))
            continue;
        if (e.len > cap) {
            n = SSE_ERR_TOO_LARGE;
            break;
        }
        memcpy(buf, r->bytes + e.off, e.len);
        n = (int)e.len;
        break;
    }
    if (read_end(r, start) != SSE_OK)
        return SSE_ERR_CLOSED;
    if (n < 0)
        return n;
    if (n > 0) {
        *id = at;
        *channel = e.channel;
        at++;
    }
    *cursor = at;
    return n;
}
