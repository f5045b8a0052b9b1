/* SPDX-License-Identifier: MIT */
/* The fan-out writer: one thread sends new ring events to every parked
 * stream's socket without blocking, so a publish costs at most one wake-up
 * (of this thread, and only when it sleeps) however many streams there
 * are. A stream's own thread keeps its connection's life (request, replay,
 * a peer too slow for a non-blocking send, close) and parks here whenever
 * it has caught up with the ring. */
#ifndef SSE_FANOUT_H
#define SSE_FANOUT_H

#include <stdint.h>
#include "sse_opt.h"
#include "sse_port.h"
#include "sse_ring.h"
#include "sse_tls.h"

/** Why a parked stream came back to its thread (sse_fan_park()). */
enum sse_fan_why {
    SSE_FAN_MORE = 0, /**< socket full: the rest of a heartbeat (hb_left), or
                           bytes skip..run of the events from cursor on, go
                           from the stream's thread */
    SSE_FAN_GONE,     /**< the peer closed (seen by an idle check) */
    SSE_FAN_FAILED,   /**< a send failed: reset or error */
    SSE_FAN_BEHIND,   /**< the cursor fell off the ring */
    SSE_FAN_END       /**< sse_conn_close() or the server stops */
};

/** One stream slot's fan-out state. The fields a sweep reads for every
 *  stream come first, within one cache line. */
typedef struct sse_fan {
    /* Owned by whoever holds the stream: its thread, or the writer while
     * it is parked. */
    uint64_t         cursor;     /* next event id to look at */
    uint32_t         last_send;  /* port ms: bytes last went out */
    uint32_t         last_check; /* port ms: last sign the peer is there */
    /* Set by the stream's thread before its first park; fixed after. */
    uint32_t         mask;       /* channels */
    sse_conn_id_t    id;
    sse_port_sock_t  sock;       /* a copy: the writer's sends and checks change
                                    nothing in it, and it stays in this line */
    sse_tls_conn_t  *tls;        /* its TLS session, or NULL: plain */
    int              kill;       /* atomic: end this stream */
    uint32_t         acked;      /* atomic: see sse_fanout_order_reads() */
    /* Hand-backs. The rest of a half-sent run of events stays in the ring
     * (a parked stream holds no buffer): its thread reads the same run
     * again from cursor and skips what went. */
    uint32_t         run;        /* after SSE_FAN_MORE: bytes from cursor the writer sent */
    uint32_t         skip;       /* after SSE_FAN_MORE: of those, the bytes that went */
    uint32_t         hb_left;    /* after SSE_FAN_MORE: heartbeat bytes still to go */
    int              why;        /* enum sse_fan_why of the last hand-back */
    int              parked;     /* the writer holds it; changed under the lock */
    int              cv_ready;   /* cv made (on the slot's first stream) */
    sse_port_cond_t  cv;         /* its thread sleeps here while parked */
} sse_fan_t;

/** Create the locks once (the server's first start). @return SSE_OK or
 *  SSE_ERR_NOMEM. */
int sse_fanout_init(void);

/**
 * Start the writer thread over @p ring: heartbeats every @p heartbeat_ms
 * (0 = none) and a peer-close check every @p idle_check_ms for parked
 * streams with nothing to send; with @p coalesce_ms, at most one write per
 * stream per that period. With @p tls, publishers never send themselves
 * (encrypting for every stream would make a publish long): the writer does.
 * @return SSE_OK or SSE_ERR_NOMEM (no thread).
 */
int sse_fanout_start(sse_ring_t *ring, uint32_t heartbeat_ms, uint32_t idle_check_ms,
                     uint32_t coalesce_ms, int tls);

/** Stop the writer: every parked stream is handed back with SSE_FAN_END,
 *  later parks return it at once; returns once the thread has finished. */
void sse_fanout_stop(void);

/** Times the writer rested because it could not keep up (see
 *  CONFIG_SSE_FANOUT_REST_PERCENT); runs on across stop and start. */
unsigned long sse_fanout_rests(void);

/** The heartbeat comment the writer sends (hb_left counts its last bytes). */
#define SSE_FAN_HEARTBEAT ": hb\n\n"
#define SSE_FAN_HEARTBEAT_LEN ((int)sizeof SSE_FAN_HEARTBEAT - 1)

/** Slot @p slot's state, reset for a new stream (kill cleared, nothing
 *  pending); the caller sets the fixed fields and the cursor. NULL if its
 *  condition variable could not be made (the port is out of them). */
sse_fan_t *sse_fan_open(unsigned slot);

/** The state of slot @p slot. */
sse_fan_t *sse_fan_of(unsigned slot);

/**
 * Hand a stream that has caught up with the ring to the writer and sleep
 * until the writer gives it back. Called only by the stream's thread.
 * @return an enum sse_fan_why.
 */
int sse_fan_park(sse_fan_t *f);

/** A stream to end (f->kill set) or another change: wake the writer if
 *  it sleeps. Never blocks; callable from any thread. */
void sse_fanout_kick(void);

/** New events are in the ring: up to CONFIG_SSE_FANOUT_INLINE_STREAMS
 *  parked streams, when no sweep runs, get them from the calling thread
 *  (non-blocking sends); else the writer is woken. */
void sse_fanout_published(void);

/**
 * Before the ring overwrites events: in a ThreadSanitizer build, an acquire
 * of every reader's progress (the writer's and each stream thread's), so
 * the copies they made before are ordered before the overwrite in the
 * sanitizer's model. Elsewhere nothing: the ring's seqlock fences order
 * them, and a torn copy is dropped by its tail check.
 */
void sse_fanout_order_reads(void);

#endif /* SSE_FANOUT_H */
