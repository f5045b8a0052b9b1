/* SPDX-License-Identifier: MIT */
/* The event ring: encoded events stored once, bounded in bytes and count,
 * read by every stream through its own cursor (an event id). Writers are
 * serialised by the caller (the server lock); readers take no lock at all:
 * a seqlock-style check on the tail tells them when what they copied was
 * overwritten meanwhile. Nothing here blocks or allocates. */
#ifndef SSE_RING_H
#define SSE_RING_H

#include <stddef.h>
#include <stdint.h>
#include "sse_opt.h"
#include "ssedge/sse.h"

/** Channel value of an event for every stream. */
#define SSE_RING_ALL 0xFFu

typedef struct sse_ring_ev {
    uint64_t      id;
    uint32_t      off;     /* start in bytes[]; an event never wraps */
    uint32_t      len;
    sse_conn_id_t target;  /* SSE_CONN_NONE, or the one connection it is for */
    uint8_t       channel; /* SSE_RING_ALL or 0..CONFIG_SSE_MAX_CHANNELS-1 */
} sse_ring_ev_t;

typedef struct sse_ring {
    uint64_t      head_id;  /* id the next event gets (ids start at 1) */
    uint64_t      tail_id;  /* oldest id still held; == head_id when empty */
    uint32_t      wpos;     /* where the next event's bytes would start */
    /* Low 32 bits of head_id / tail_id, published atomically for lock-free
     * readers (a 64-bit atomic would need libatomic on Cortex-M). Readers
     * rebuild the full id from their own 64-bit cursor. */
    uint32_t      head_lo;
    uint32_t      tail_lo;
    sse_ring_ev_t ev[CONFIG_SSE_RING_EVENTS];   /* slot = id % RING_EVENTS */
    char          bytes[CONFIG_SSE_RING_BYTES];
} sse_ring_t;

/** Empty ring whose first event will get id @p first_id (>= 1); writes
 * the whole ring once (its RAM is committed from here on). */
void sse_ring_init(sse_ring_t *r, uint64_t first_id);

/**
 * Reserve room for an event of @p len bytes, evicting the oldest events as
 * needed, and return where to write it; the event gets id r->head_id.
 * Call sse_ring_commit() with the same len right after writing, before
 * any other reserve (an abandoned reserve leaves wpos where that event
 * would have gone). @return NULL if len is 0 or larger
 * than half the ring (cannot be held while another event is being read).
 */
char *sse_ring_reserve(sse_ring_t *r, uint32_t len);

/** Make the reserved event visible. @return its id. */
uint64_t sse_ring_commit(sse_ring_t *r, uint32_t len, uint8_t channel,
                         sse_conn_id_t target);

/**
 * Where a stream resuming after @p last_id starts: the next id if it is in
 * the ring, the oldest held event if @p last_id is older than that (what
 * was evicted is gone), and the oldest held event too if @p last_id was
 * never issued (the ids restarted, e.g. after a reboot: send all we have).
 */
uint64_t sse_ring_resume_cursor(const sse_ring_t *r, uint64_t last_id);

/**
 * Copy the events from *cursor on that a stream with channel @p mask and id
 * @p self receives, as many whole events as fit @p cap, and advance *cursor
 * past everything copied or skipped. Safe without the writers' lock, from
 * any number of readers at once.
 * @return bytes copied (0: nothing new); SSE_ERR_CLOSED if *cursor is older
 *         than the oldest held event, before or during the copy (the stream
 *         fell behind).
 */
int sse_ring_read(const sse_ring_t *r, uint64_t *cursor, uint32_t mask,
                  sse_conn_id_t self, char *buf, size_t cap);

/** sse_ring_read() that also sets *@p personal (when not NULL) to 1 if an
 *  event addressed to one connection (sse_send_to) lay in the range read,
 *  copied or skipped, else 0. With 0 the bytes depend only on the start
 *  cursor and @p mask: every stream at that cursor with that mask gets the
 *  same (the fan-out writer copies them once for all of them). */
int sse_ring_read_ex(const sse_ring_t *r, uint64_t *cursor, uint32_t mask,
                     sse_conn_id_t self, char *buf, size_t cap, int *personal);

/**
 * The next event from *cursor on that a hub uplink forwards: one published
 * to every stream (when @p all is set) or to a channel in @p mask; events
 * for one connection are passed over. Copies it into @p buf and moves
 * *cursor past it (and past what was passed over).
 * @return its length (*id and *channel set: SSE_RING_ALL or the channel);
 *         0 if there is none yet; SSE_ERR_TOO_LARGE if it does not fit
 *         @p cap (cursor unmoved); SSE_ERR_CLOSED if *cursor is older than
 *         the oldest held event (the ring overwrote what was not read).
 */
int sse_ring_next(const sse_ring_t *r, uint64_t *cursor, int all, uint32_t mask,
                  char *buf, size_t cap, uint64_t *id, uint8_t *channel);

/** 1 if events after @p cursor exist (lock-free, for a reader about to park). */
int sse_ring_has_new(const sse_ring_t *r, uint64_t cursor);

/** 1 if a stream (mask, self) receives event @p e. */
static inline int sse_ring_match(const sse_ring_ev_t *e, uint32_t mask,
                                 sse_conn_id_t self)
{
    if (e->target != SSE_CONN_NONE)
        return e->target == self;
    return e->channel == SSE_RING_ALL || (mask >> e->channel) & 1u;
}

#endif /* SSE_RING_H */
