/* SPDX-License-Identifier: MIT */
/* What the server's files ask of the uplink (core/sse_uplink.c): a wake-up
 * on new events and its figures for sse_server_stats(). */
#ifndef SSE_UPLINK_INT_H
#define SSE_UPLINK_INT_H

#include "ssedge/sse.h"

/** New events are in the ring: wake the uplink if it waits for them. */
void sse_uplink_kick(void);

/** The uplink's fields of @p st (left 0 when it never ran). */
void sse_uplink_fill(sse_stats_t *st);

/** ThreadSanitizer builds: acquire the uplink's progress through the ring,
 *  as sse_fanout_order_reads() does for the streams. */
void sse_uplink_order_reads(void);

#endif /* SSE_UPLINK_INT_H */
