/* SPDX-License-Identifier: MIT */
/* sse_server_stats() for monitoring, shared by the programs: JSON, or the
 * Prometheus text format (0.0.4) when the client asks for text/plain or
 * OpenMetrics by name, plus a program's own numbers. */
#ifndef SSE_EXAMPLES_STATS_H
#define SSE_EXAMPLES_STATS_H

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include "ssedge/sse.h"

/* One number of the program's own (the server's come from sse_stats_t). */
typedef struct stats_extra {
    const char   *name;    /* JSON key; "ssedge_" + name in Prometheus */
    const char   *help;    /* Prometheus HELP text */
    int           counter; /* 1: only grows (a _total), 0: a gauge */
    unsigned long value;
} stats_extra_t;

/* Appends to buf at *n; *n becomes -1 once it no longer fits. */
#if defined(__GNUC__)
__attribute__((format(printf, 4, 5)))
#endif
static inline void stats_put(char *buf, size_t cap, int *n, const char *fmt, ...)
{
    va_list ap;
    int m;
    if (*n < 0 || (size_t)*n >= cap)
        return;
    va_start(ap, fmt);
    m = vsnprintf(buf + *n, cap - (size_t)*n, fmt, ap);
    va_end(ap);
    *n = m < 0 || (size_t)m >= cap - (size_t)*n ? -1 : *n + m;
}

/* The server's numbers: name, help, counter, value. */
#define STATS_SERVER_FIELDS(st, X) \
    X("connections_active", "Connections holding a slot now", 0, (st)->active) \
    X("streams_active", "Event streams open now", 0, (st)->streams) \
    X("connections_accepted", "Connections given a slot", 1, (st)->accepted) \
    X("connections_overloaded", "Connections refused because every slot was busy", 1, (st)->overloaded) \
    X("streams_fell_behind", "Streams closed: their reader fell off the event ring", 1, (st)->fell_behind) \
    X("streams_send_failures", "Streams closed: a send failed or timed out", 1, (st)->send_failures) \
    X("slow_sends", "Sends a socket could not take at once", 1, (st)->slow_sends) \
    X("writer_rests", "Pauses of the fan-out writer, which could not keep up: events gathered", 1, (st)->writer_rests) \
    X("bad_requests", "Requests the parser refused", 1, (st)->bad_requests) \
    X("tls_failures", "TLS handshakes that failed or timed out", 1, (st)->tls_failures) \
    X("auth_failures", "Requests refused for their token", 1, (st)->auth_failures) \
    X("event_last_id", "Id of the newest event", 0, (st)->last_id) \
    X("event_oldest_id", "Id of the oldest event still in the ring (replayable)", 0, (st)->oldest_id) \
    X("uplink_state", "Uplink to a hub: 0 off, 1 reaching for it, 2 connected", 0, (st)->uplink_state) \
    X("uplink_acked_id", "Id of the newest event the hub acknowledged", 0, (st)->uplink_acked_id) \
    X("uplink_sent", "Events the hub acknowledged", 1, (st)->uplink_sent) \
    X("uplink_retries", "Uplink connects and requests tried again", 1, (st)->uplink_retries) \
    X("uplink_lost", "Events that never reached the hub (overwritten, or refused by it)", 1, (st)->uplink_lost) \
    X("uplink_duplicates", "Events sent to the hub again after a lost answer", 1, (st)->uplink_duplicates)

/* JSON object of every number. @return its length, or -1 if cap is short. */
static inline int stats_json(char *buf, size_t cap, const sse_stats_t *st,
                             const stats_extra_t *x, size_t nx)
{
    int n = 0;
    size_t i;
    const char *sep = "";
#define STATS_JSON_FIELD(name, help, counter, v) \
    stats_put(buf, cap, &n, "%s\"%s\":%llu", sep, name, (unsigned long long)(v)); sep = ",";
    stats_put(buf, cap, &n, "{");
    STATS_SERVER_FIELDS(st, STATS_JSON_FIELD)
#undef STATS_JSON_FIELD
    for (i = 0; i < nx; i++)
        stats_put(buf, cap, &n, ",\"%s\":%lu", x[i].name, x[i].value);
    stats_put(buf, cap, &n, "}\n");
    return n;
}

/* Prometheus text format 0.0.4: "# HELP", "# TYPE" and one sample each,
 * metric names "ssedge_<name>" (counters end in _total). */
static inline int stats_prometheus(char *buf, size_t cap, const sse_stats_t *st,
                                   const stats_extra_t *x, size_t nx)
{
    int n = 0;
    size_t i;
#define STATS_PROM_FIELD(name, help, counter, v) \
    stats_put(buf, cap, &n, "# HELP ssedge_%s%s %s\n# TYPE ssedge_%s%s %s\nssedge_%s%s %llu\n", \
              name, (counter) ? "_total" : "", help, name, (counter) ? "_total" : "", \
              (counter) ? "counter" : "gauge", name, (counter) ? "_total" : "", \
              (unsigned long long)(v));
    STATS_SERVER_FIELDS(st, STATS_PROM_FIELD)
#undef STATS_PROM_FIELD
    for (i = 0; i < nx; i++) {
        const char *t = x[i].counter ? "_total" : "";
        stats_put(buf, cap, &n, "# HELP ssedge_%s%s %s\n# TYPE ssedge_%s%s %s\nssedge_%s%s %lu\n",
                  x[i].name, t, x[i].help, x[i].name, t, x[i].counter ? "counter" : "gauge",
                  x[i].name, t, x[i].value);
    }
    return n;
}

/* Prometheus asks with "Accept: text/plain; version=0.0.4" (or
 * OpenMetrics first, text/plain after); browsers and curl name neither
 * explicitly and get JSON, as does a client that prefers JSON. */
static inline int stats_wants_text(const sse_request_t *req)
{
    int text = sse_http_accept_q(req->accept, "text", "plain", 1);
    int om = sse_http_accept_q(req->accept, "application", "openmetrics-text", 1);
    int json = sse_http_accept_q(req->accept, "application", "json", 1);
    if (om > text)
        text = om;
    return req->accept.p && text > 0 && text >= json;
}

/* Answer a stats request: @p buf is scratch for the body. */
static inline int stats_reply(sse_conn_t *c, const sse_request_t *req, char *buf, size_t cap,
                              const stats_extra_t *x, size_t nx)
{
    sse_stats_t st;
    int text = stats_wants_text(req), n;
    sse_server_stats(&st);
    n = text ? stats_prometheus(buf, cap, &st, x, nx) : stats_json(buf, cap, &st, x, nx);
    if (n < 0)
        return sse_reply(c, 500, "text/plain", NULL, "stats do not fit\n", 17);
    return sse_reply(c, 200, text ? "text/plain; version=0.0.4; charset=utf-8"
                                  : "application/json",
                     "Cache-Control: no-store\r\nVary: Accept\r\n", buf, (size_t)n);
}

#endif /* SSE_EXAMPLES_STATS_H */
