/* SPDX-License-Identifier: MIT */
/* Timer service internals used by the server (public calls are in sse.h). */
#ifndef SSE_TIMER_H
#define SSE_TIMER_H

#include "ssedge/sse.h"

/** Start the timer thread (timers added before start begin counting now).
 *  @return SSE_OK, SSE_ERR_BUSY if running, SSE_ERR_NOMEM (no thread). */
int sse_timer_service_start(void);

/** Stop the timer thread, wait for it, and remove every timer. */
void sse_timer_service_stop(void);

/** A timer owned by @p owner (fn gets the owner's id), removed with
 *  sse_timer_del_conn(owner). No check that the owner lives: the caller
 *  (the server, for sse_conn_timer_add) does that under its own lock.
 *  @return as sse_timer_add(). */
int sse_timer_add_owned(sse_conn_id_t owner, uint32_t period_ms, sse_conn_timer_fn fn,
                        void *arg);

/** Remove every timer tied to @p conn and wait until none of its callbacks
 *  is running. Must not be called from the timer thread. */
void sse_timer_del_conn(sse_conn_id_t conn);

/** Timers in use (for tests and leak checks). */
unsigned sse_timer_count(void);

#endif /* SSE_TIMER_H */
