/* SPDX-License-Identifier: MIT */
/**
 * @file sse_uplink.h
 * @brief The uplink: forward published events to an HTTP hub (nginx + nchan).
 *
 * A board holds a handful of streams; a hub holds thousands and shares them
 * between nodes. The uplink POSTs every event published to every stream
 * (and, with routes, to chosen channels) to the hub's publish location,
 * one request at a time over one keep-alive connection: the data as the
 * body, the event name in an "X-EventSource-Event" header (what nchan's
 * publisher takes), "Authorization: Bearer" when a token is given, https
 * through mbedTLS with the hub's certificate checked against a CA.
 *
 * Store and forward: the uplink reads the event ring through a cursor that
 * moves only when the hub acknowledges an event (a 2xx answer). While the
 * hub is down or slow it retries with a doubling back-off
 * (CONFIG_SSE_UPLINK_BACKOFF_MIN_MS .. _MAX_MS) and, once back, sends
 * everything after the cursor, in order. Events the ring overwrote before
 * they went out are counted (uplink_lost in sse_stats_t) and logged: loss
 * is never silent. An event sent again after its answer was lost in flight
 * may reach the hub twice; those are counted (uplink_duplicates), at most
 * one per broken connection. Publishers never wait for the uplink.
 *
 * Needs a build with CONFIG_SSE_UPLINK (on by default on POSIX); https
 * needs CONFIG_SSE_TLS too. One uplink per process.
 */
#ifndef SSE_UPLINK_H
#define SSE_UPLINK_H

#include <stddef.h>
#include <stdint.h>
#include "ssedge/sse_err.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Events of one channel go up too, to the URL's path or another. */
typedef struct sse_uplink_route {
    int         channel; /**< 0..CONFIG_SSE_MAX_CHANNELS-1 */
    const char *path;    /**< e.g. "/pub/load" (kept by pointer: keep it alive),
                              or NULL: the URL's own path */
} sse_uplink_route_t;

/** Uplink settings. Fill with sse_uplink_cfg_init(), then change fields. */
typedef struct sse_uplink_cfg {
    /** "http://HOST[:PORT]/PATH" or "https://...": events published to
     *  every stream are POSTed to PATH. HOST is a name (resolved at each
     *  connect) or a numeric address, IPv6 in brackets. */
    const char *url;
    /** More paths, per channel; NULL/0 = only events for every stream. */
    const sse_uplink_route_t *routes;
    unsigned    num_routes;       /**< <= CONFIG_SSE_UPLINK_ROUTES */
    const char *token;            /**< "Authorization: Bearer TOKEN", or NULL */
    const char *header;           /**< one more "Name: value" line (no CRLF), or NULL */
    /** https: the CA the hub's certificate must chain to (required), as a
     *  buffer (PEM with its NUL counted, or DER) or a file; the URL's host
     *  must be in the certificate. */
    const unsigned char *ca;
    size_t      ca_len;
    const char *ca_file;
    /** Forward events after this id. 0: go on from where the uplink last
     *  stopped, or, on the first start, every event still in the ring. */
    uint64_t    after_id;
} sse_uplink_cfg_t;

/** Zero @p cfg (no URL: fill it in). */
void sse_uplink_cfg_init(sse_uplink_cfg_t *cfg);

/**
 * Start forwarding. The URL is checked now, the hub only reached from the
 * uplink's own thread: a hub that is down is not an error here. The strings
 * of @p cfg are copied (routes' paths and the CA file name excepted:
 * keep those alive).
 * @return SSE_OK; SSE_ERR_BUSY if already running; SSE_ERR_ARG for a URL
 *         that does not parse, a route out of range, https without a CA or
 *         in a build without CONFIG_SSE_TLS, or a build without
 *         CONFIG_SSE_UPLINK (each logged); SSE_ERR_INVALID if the CA does
 *         not parse; SSE_ERR_NOMEM if the thread cannot be created.
 */
int sse_uplink_start(const sse_uplink_cfg_t *cfg);

/**
 * Stop forwarding: the thread ends within about
 * CONFIG_SSE_UPLINK_ANSWER_TIMEOUT_MS (a request in flight may still
 * arrive at the hub). The cursor is kept for a later start.
 * @return SSE_OK, or SSE_ERR_ARG if not running.
 */
int sse_uplink_stop(void);

#ifdef __cplusplus
}
#endif

#endif /* SSE_UPLINK_H */
