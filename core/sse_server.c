/* SPDX-License-Identifier: MIT */
/* The server: listener, static connection slots (one thread each), request
 * dispatch, a stream's own part (head, replay, slow peers; the fan-out
 * writer in sse_fanout.c sends the rest), publishing and stop. */
#include <stdio.h>
#include <string.h>
#include "sse_opt.h"
#include "sse_port.h"
#include "sse_log.h"
#include "sse_atomic.h"
#include "sse_ring.h"
#include "sse_fanout.h"
#include "sse_timer.h"
#include "sse_tls.h"
#include "sse_ingest.h"
#include "ssedge/sse.h"

enum conn_state { C_FREE = 0, C_HTTP, C_STREAM, C_CLOSING };

struct sse_conn {
    enum conn_state  state;    /* changed under S.lock */
    uint16_t         gen;      /* bumped per use: ids of old uses fail */
    int              replied;  /* a handler's answer went (at least partly) out */
    int              reply_failed; /* a handler's sse_reply() did not fit */
    int              head_only;/* HEAD: no body */
    sse_str_t        origin;   /* allowed CORS origin of this request, or none */
    sse_port_sock_t  sock;     /* this slot's thread's, or the writer's while parked */
    sse_tls_conn_t   tls;      /* its TLS session when cfg.tls is set */
    char             req[CONFIG_SSE_REQ_BUF_SIZE];
    char             out[CONFIG_SSE_SEND_BUF_SIZE];
};

static struct {
    sse_port_mutex_t lock;     /* ring, slot states, flags, counters */
    sse_port_cond_t  idle;     /* a slot or the listener finished */
    int              inited;   /* atomic: see init_once() */
    int              running;  /* between start and the end of stop */
    int              stopping; /* atomic: read without the lock by streams */
    int              listener_alive;
    int              tls;      /* connections speak TLS */
    unsigned         active;
    unsigned         streams;
    uint16_t         port;
    sse_server_cfg_t cfg;
    sse_route_t      routes[CONFIG_SSE_MAX_ROUTES];
    const char      *chan_names[CONFIG_SSE_MAX_CHANNELS];
    const char      *cors[CONFIG_SSE_MAX_CORS_ORIGINS + 1]; /* +1: 0 allowed */
    sse_port_sock_t  listener;
    struct {                   /* atomics, bumped without the lock */
        unsigned long accepted, overloaded, fell_behind, send_failures, slow_sends,
                      bad_requests, tls_failures, auth_failures;
    } n;
    char             scratch[CONFIG_SSE_REQ_BUF_SIZE]; /* listener's, when full */
    int              quiet_streak;     /* listener's: see overload() */
    sse_ring_t       ring;
    struct sse_conn  conns[CONFIG_SSE_MAX_CONNECTIONS];
} S;

/* No Content-Length: the stream ends when the connection does. no-cache
 * and X-Accel-Buffering keep proxies (nginx) from holding events back. */
static const char stream_head[] =
    "HTTP/1.1 200 OK\r\n"
    "Content-Type: text/event-stream\r\n"
    "Cache-Control: no-cache, no-store\r\n"
    "X-Accel-Buffering: no\r\n";

/* ---- helpers --------------------------------------------------------------- */

static sse_conn_id_t conn_id(const struct sse_conn *c)
{
    return ((uint32_t)c->gen << 16) | (uint32_t)(c - S.conns + 1);
}

/* Slot of a live id, or NULL; lock held. */
static struct sse_conn *conn_by_id(sse_conn_id_t id)
{
    uint32_t idx = (id & 0xFFFFu) - 1;
    struct sse_conn *c;
    if (id == SSE_CONN_NONE || idx >= CONFIG_SSE_MAX_CONNECTIONS)
        return NULL;
    c = &S.conns[idx];
    return c->state != C_FREE && conn_id(c) == id ? c : NULL;
}

static int stopping(void)
{
    return sse_load_acq(&S.stopping);
}

static uint32_t min_u32(uint32_t a, uint32_t b) { return a < b ? a : b; }

/* "client 192.0.2.7:51234" for log lines about a connection. */
#define WHO(sock, buf) sse_port_sock_peer((sock), (buf), sizeof (buf))

/* Decimal value of a Last-Event-ID; 0 (= none) if it is not a number we
 * issued: ids are plain decimal counters. */
static uint64_t parse_id(sse_str_t s)
{
    uint64_t v = 0;
    size_t i;
    if (!s.p || s.n == 0 || s.n > 20)
        return 0;
    for (i = 0; i < s.n; i++) {
        unsigned d = (unsigned)(s.p[i] - '0');
        if (d > 9 || v > (UINT64_MAX - d) / 10)
            return 0;
        v = v * 10 + d;
    }
    return v;
}

/* Discard request bytes already received, so that close() sends FIN, not a
 * RST that could destroy our answer in flight. One read that does not
 * wait: a client that keeps sending cannot hold this thread. */
static void drain_close(sse_port_sock_t *s, sse_tls_conn_t *t, char *buf, size_t cap)
{
    (void)sse_io_recv(s, t, buf, cap, 0);
    if (t)
        sse_tls_end(t);
    sse_port_close(s);
}

/* The request's Origin if the configuration allows it, else none. */
static sse_str_t cors_origin(const sse_http_req_t *rq)
{
    sse_str_t none = { NULL, 0 };
    unsigned i;
    if (!rq->origin.p)
        return none;
    for (i = 0; i < S.cfg.num_cors_origins; i++) {
        const char *o = S.cors[i];
        if (strcmp(o, "*") == 0 ||
            (strlen(o) == rq->origin.n && memcmp(o, rq->origin.p, rq->origin.n) == 0))
            return rq->origin;
    }
    return none;
}

/* CORS response headers for an allowed origin ("" when none) into buf.
 * The origin is echoed rather than "*" so credentials can work, hence
 * Vary: Origin for caches. @return length, or -1 if it did not fit. */
static int cors_headers(char *buf, size_t cap, sse_str_t origin)
{
    int n;
    if (!origin.p) {
        if (cap)
            buf[0] = 0;
        return 0;
    }
    n = snprintf(buf, cap, "Access-Control-Allow-Origin: %.*s\r\nVary: Origin\r\n%s",
                 (int)origin.n, origin.p,
                 S.cfg.cors_credentials ? "Access-Control-Allow-Credentials: true\r\n" : "");
    return n > 0 && (size_t)n < cap ? n : -1;
}

static const sse_str_t no_origin = { NULL, 0 };

/* Method names are case-sensitive (RFC 9110 9.1): "get" is not GET. */
static int method_is(sse_str_t m, const char *name)
{
    size_t n = strlen(name);
    return m.n == n && memcmp(m.p, name, n) == 0;
}

/* Send a complete small response and close: used for errors, refusals and
 * overload. Built in place in buf (no stack copy: stacks are small on a
 * board); CORS headers for an allowed origin; 204 and 304 carry no body. */
static void answer_close(sse_port_sock_t *s, sse_tls_conn_t *t, char *buf, size_t cap,
                         int status, sse_str_t origin, const char *extra,
                         uint32_t timeout_ms, int head)
{
    const char *reason = sse_http_reason(status);
    int n = snprintf(buf, cap, "HTTP/1.1 %d %s\r\n", status, reason), r;
    if (n > 0 && (size_t)n < cap && (r = cors_headers(buf + n, cap - (size_t)n, origin)) > 0)
        n += r;
    if (n > 0 && (size_t)n < cap) {
        if (status == 204 || status == 304)
            r = snprintf(buf + n, cap - (size_t)n, "Connection: close\r\n%s\r\n",
                         extra ? extra : "");
        else
            /* A HEAD answer has the headers of the GET answer, no body. */
            r = snprintf(buf + n, cap - (size_t)n,
                         "Content-Type: text/plain\r\nContent-Length: %u\r\n"
                         "Connection: close\r\n%s\r\n%s%s",
                         (unsigned)strlen(reason) + 1, extra ? extra : "",
                         head ? "" : reason, head ? "" : "\n");
        n = r > 0 && (size_t)r < cap - (size_t)n ? n + r : -1;
    }
    if (n > 0 && (size_t)n < cap)
        sse_io_send(s, t, buf, (size_t)n, timeout_ms);
    drain_close(s, t, buf, cap);
}

/* Channels named in "?ch=a,b" (commas may come as %2C). @return SSE_OK
 * with *mask or'ed, or SSE_ERR_INVALID for an unknown name. */
static int query_channels(sse_str_t query, uint32_t *mask)
{
    sse_str_t v;
    size_t i = 0;
    if (!sse_http_query_get(query, "ch", &v) || !v.p)
        return SSE_OK;
    while (i < v.n) {
        size_t start = i, end;
        unsigned k;
        int found = 0;
        while (i < v.n && v.p[i] != ',' && !(v.p[i] == '%' && i + 2 < v.n &&
               v.p[i + 1] == '2' && (v.p[i + 2] == 'C' || v.p[i + 2] == 'c')))
            i++;
        end = i;
        i += i < v.n ? (v.p[i] == ',' ? 1 : 3) : 0;
        if (end == start)
            continue;
        for (k = 0; k < S.cfg.num_channel_names && !found; k++) {
            if (strlen(S.chan_names[k]) == end - start &&
                memcmp(S.chan_names[k], v.p + start, end - start) == 0) {
                *mask |= 1u << k;
                found = 1;
            }
        }
        if (!found)
            return SSE_ERR_INVALID;
    }
    return SSE_OK;
}

/* Which stream route a request is for, or NULL. *status gets a refusal
 * (405, 406, 400) when the path is a stream but the request cannot be. */
static const sse_route_t *match_route(const sse_http_req_t *rq, int *status)
{
    const sse_route_t *any = NULL;
    unsigned i;
    *status = 0;
    for (i = 0; i < S.cfg.num_routes; i++) {
        const sse_route_t *r = &S.routes[i];
        if (strcmp(r->path, "*") == 0) {
            any = r;
            continue;
        }
        if (strlen(r->path) != rq->path.n || memcmp(r->path, rq->path.p, rq->path.n) != 0)
            continue;
        if (sse_http_accept_q(rq->accept, "text", "event-stream", 0) == 0)
            *status = 406;
        else if (!method_is(rq->method, "GET") && !method_is(rq->method, "HEAD"))
            *status = 405;
        else if (rq->content_length > 0 || rq->chunked)
            *status = 400;
        return r;
    }
    if (any && sse_http_accept_q(rq->accept, "text", "event-stream", 1) > 0) {
        if (!method_is(rq->method, "GET") && !method_is(rq->method, "HEAD"))
            *status = 405;
        else if (rq->content_length > 0 || rq->chunked)
            *status = 400;
        return any;
    }
    return NULL;
}

/* ---- one connection -------------------------------------------------------- */

/* Read and parse the request head. @return parsed length (> 0; *got says
 * how much was read, a body's first bytes included), 0 if the peer went
 * away or we are stopping, or -1 with an HTTP status to answer. */
static int read_request(sse_port_sock_t *s, sse_tls_conn_t *t, char *buf, size_t cap,
                        sse_http_req_t *rq, uint32_t timeout_ms, int *status, size_t *got)
{
    uint32_t start = sse_port_now_ms();
    size_t len = 0;
    for (;;) {
        uint32_t spent;
        int r = len ? sse_http_parse(buf, len, rq, CONFIG_SSE_HTTP_MAX_REQUEST_LINE,
                                     CONFIG_SSE_HTTP_MAX_HEADERS)
                    : SSE_ERR_INCOMPLETE;
        *got = len;
        if (r > 0)
            return r;
        if (r != SSE_ERR_INCOMPLETE) {
            *status = rq->status ? rq->status : 400;
            return -1;
        }
        if (len == cap) {
            *status = rq->status ? rq->status : 431;
            return -1;
        }
        spent = sse_port_now_ms() - start;
        if (spent >= timeout_ms) {
            *status = 408;
            return -1;
        }
        /* Wake up now and then to notice a stop (only we may close s). */
        r = sse_io_recv(s, t, buf + len, cap - len,
                    min_u32(timeout_ms - spent, CONFIG_SSE_ACCEPT_POLL_MS));
        if (r > 0)
            len += (size_t)r;
        else if (r != SSE_ERR_TIMEOUT || stopping())
            return 0;
    }
}

int sse_reply(sse_conn_t *c, int status, const char *content_type,
              const char *extra_headers, const void *body, size_t len)
{
    int n, r, bodyless = status == 204 || status == 304;
    if (!c || c->replied || status < 200 || status > 599 || (bodyless && len))
        return SSE_ERR_ARG;
    n = snprintf(c->out, sizeof c->out, "HTTP/1.1 %d %s\r\n", status, sse_http_reason(status));
    if (!bodyless && n > 0 && (size_t)n < sizeof c->out)
        n += snprintf(c->out + n, sizeof c->out - (size_t)n,
                      "Content-Type: %s\r\nContent-Length: %lu\r\n",
                      content_type ? content_type : "text/plain", (unsigned long)len);
    if (n > 0 && (size_t)n < sizeof c->out)
        n += snprintf(c->out + n, sizeof c->out - (size_t)n, "Connection: close\r\n%s",
                      extra_headers ? extra_headers : "");
    r = n > 0 && (size_t)n < sizeof c->out
      ? cors_headers(c->out + n, sizeof c->out - (size_t)n, c->origin) : -1;
    if (r < 0 || (size_t)(n + r) + 2 >= sizeof c->out) {
        /* Nothing went out: the handler may try again; if it does not,
         * the client gets a 500, not a bare close. */
        char who[SSE_PORT_PEER_LEN];
        c->reply_failed = 1;
        SSE_LOG(SSE_LOG_ERR, "%s: reply %d: head does not fit CONFIG_SSE_SEND_BUF_SIZE (%u bytes)",
                WHO(&c->sock, who), status, (unsigned)sizeof c->out);
        return SSE_ERR_TOO_LARGE;
    }
    c->replied = 1;
    n += r;
    memcpy(c->out + n, "\r\n", 2);
    n += 2;
    r = sse_io_send(&c->sock, &c->tls, c->out, (size_t)n, S.cfg.send_timeout_ms);
    if (r == SSE_OK && len && !c->head_only)
        r = sse_io_send(&c->sock, &c->tls, body, len, S.cfg.send_timeout_ms);
    return r;
}

/* A stream's own part: everything its socket did not take at once (the
 * fan-out writer's leftovers), the replay after Last-Event-ID, and any
 * events that came meanwhile, with sends that may wait up to
 * send_timeout_ms for a slow peer. Once caught up it parks, and the fan-out
 * writer sends to it until it falls behind, leaves or ends. on_open runs
 * once the replay is out. */
static void stream(struct sse_conn *c, sse_fan_t *f, const sse_route_t *route,
                   const sse_http_req_t *rq)
{
    char who[SSE_PORT_PEER_LEN];
    int opened = 0, why;
    f->last_send = f->last_check = sse_port_now_ms();
    while (!stopping() && !sse_load_acq(&f->kill)) {
        int n;
        if (f->pending) {
            n = (int)f->pending;
            f->pending = 0;
        } else {
            n = sse_ring_read(&S.ring, &f->cursor, f->mask, f->id, c->out, sizeof c->out);
            /* Publishes this: the copy above happened before any later
             * overwrite of those bytes (see sse_fanout_order_reads). */
            sse_store_rel(&f->acked, (uint32_t)f->cursor);
            if (n < 0)
                goto behind;
        }
        if (n > 0) {
            if (sse_io_send(&c->sock, &c->tls, c->out, (size_t)n, S.cfg.send_timeout_ms) != SSE_OK)
                goto failed;
            f->last_send = f->last_check = sse_port_now_ms();
            continue;
        }
        if (!opened) {
            opened = 1;
            if (route->on_open)
                route->on_open(f->id, rq, route->user);
            continue;
        }
        why = sse_fan_park(f);
        if (why == SSE_FAN_MORE) {
            sse_count(&S.n.slow_sends);
            continue;
        }
        if (why == SSE_FAN_BEHIND)
            goto behind;
        if (why == SSE_FAN_FAILED)
            goto failed;
        return; /* the peer left, sse_conn_close() or stop */
    }
    return;
behind:
    sse_count(&S.n.fell_behind);
    SSE_LOG(SSE_LOG_INFO, "%s: stream fell behind the ring (CONFIG_SSE_RING_BYTES/EVENTS); closing",
            WHO(&c->sock, who));
    return;
failed:
    sse_count(&S.n.send_failures);
}

static void release(struct sse_conn *c)
{
    sse_tls_end(&c->tls);
    sse_port_close(&c->sock);
    sse_port_mutex_lock(&S.lock);
    c->state = C_FREE;
    S.active--;
    sse_port_cond_broadcast(&S.idle);
    sse_port_mutex_unlock(&S.lock);
}

/* OPTIONS, for any path: a CORS preflight from an allowed origin gets 204
 * with what may follow; from another origin 403. */
static void preflight(struct sse_conn *c, const sse_http_req_t *rq)
{
    if (rq->origin.p && !c->origin.p) {
        char who[SSE_PORT_PEER_LEN];
        SSE_LOG(SSE_LOG_WARN, "%s: preflight from origin %.*s, not allowed: 403",
                WHO(&c->sock, who), (int)rq->origin.n, rq->origin.p);
        answer_close(&c->sock, &c->tls, c->out, sizeof c->out, 403, no_origin, NULL,
                     S.cfg.send_timeout_ms, 0);
        return;
    }
    if (sse_ingest_wants(&S.cfg, rq)) { /* a page that will POST /publish */
        answer_close(&c->sock, &c->tls, c->out, sizeof c->out, 204, c->origin,
                     c->origin.p ? SSE_INGEST_PREFLIGHT : "Allow: POST, OPTIONS\r\n",
                     S.cfg.send_timeout_ms, 0);
        return;
    }
    answer_close(&c->sock, &c->tls, c->out, sizeof c->out, 204, c->origin,
                 c->origin.p ? "Allow: GET, HEAD, OPTIONS\r\n"
                               "Access-Control-Allow-Methods: GET, HEAD, OPTIONS\r\n"
                               "Access-Control-Allow-Headers: Last-Event-ID, Cache-Control, "
                               "Authorization, Accept\r\n"
                               "Access-Control-Max-Age: 600\r\n"
                             : "Allow: GET, HEAD, OPTIONS\r\n",
                 S.cfg.send_timeout_ms, 0);
}

/* ---- access control ------------------------------------------------------ */

static int hexval(unsigned ch)
{
    if (ch >= '0' && ch <= '9')
        return (int)(ch - '0');
    ch |= 0x20;
    return ch >= 'a' && ch <= 'f' ? (int)(ch - 'a' + 10) : -1;
}

/* Is the presented value p[0..n) (percent-decoded when pct) equal to want?
 * Every presented byte is compared and the loop never stops at the first
 * difference, so the time depends on the lengths only: it tells an
 * attacker nothing about how much of a guess was right. */
static int token_eq(const char *want, const char *p, size_t n, int pct)
{
    size_t wl = strlen(want), i = 0, k = 0;
    unsigned diff = 0;
    while (i < n) {
        unsigned ch = (unsigned char)p[i++];
        int hi, lo;
        if (pct && ch == '%' && i + 1 < n && (hi = hexval((unsigned char)p[i])) >= 0 &&
            (lo = hexval((unsigned char)p[i + 1])) >= 0) {
            ch = (unsigned)(hi << 4 | lo);
            i += 2;
        }
        /* Past the end of want: a difference (0x100 never equals a byte). */
        diff |= (k < wl ? (unsigned char)want[k] : 0x100u) ^ ch;
        k++;
    }
    return (diff | (unsigned)(k != wl)) == 0;
}

/* The credential a request presents: the bearer token of its Authorization
 * header, else its "token" query parameter. 1 if it has one. */
static int presented_token(const sse_request_t *req, sse_str_t *v, int *pct)
{
    sse_str_t a = req->authorization;
    if (a.p && a.n > 7 && sse_str_ieq((sse_str_t){ a.p, 6 }, "Bearer") && a.p[6] == ' ') {
        size_t i = 7;
        while (i < a.n && a.p[i] == ' ')
            i++;
        v->p = a.p + i;
        v->n = a.n - i;
        while (v->n && (v->p[v->n - 1] == ' ' || v->p[v->n - 1] == '\t'))
            v->n--;
        *pct = 0;
        return v->n > 0;
    }
    *pct = 1;
    return sse_http_query_get(req->query, "token", v) && v->p && v->n > 0;
}

int sse_token_ok(const sse_request_t *req, const char *token)
{
    sse_str_t v;
    int pct;
    if (!req || !token || !presented_token(req, &v, &pct))
        return 0;
    return token_eq(token, v.p, v.n, pct);
}

/* A stream route with a token: 401 unless the request presents it. The
 * challenge says whether a credential came and was wrong (RFC 6750). */
static int check_token(struct sse_conn *c, const sse_route_t *route, const sse_request_t *rq)
{
    char who[SSE_PORT_PEER_LEN];
    sse_str_t v;
    int pct, presented;
    if (!route->token || sse_token_ok(rq, route->token))
        return 0;
    presented = presented_token(rq, &v, &pct);
    SSE_LOG(SSE_LOG_WARN, "%s: stream request for %.*s refused: 401 (%s token)",
            WHO(&c->sock, who), (int)rq->path.n, rq->path.p, presented ? "wrong" : "no");
    sse_count(&S.n.auth_failures);
    answer_close(&c->sock, &c->tls, c->out, sizeof c->out, 401, c->origin,
                 presented ? "WWW-Authenticate: Bearer realm=\"ssedge\", error=\"invalid_token\"\r\n"
                           : "WWW-Authenticate: Bearer realm=\"ssedge\"\r\n",
                 S.cfg.send_timeout_ms, c->head_only);
    return 1;
}

/* A stream request the route refuses (405/406/400 from matching, or the
 * application's on_request status, e.g. 204 "stop reconnecting"). */
static void refuse(struct sse_conn *c, int status)
{
    char who[SSE_PORT_PEER_LEN];
    if (status < 200 || status > 599) {
        SSE_LOG(SSE_LOG_ERR, "%s: on_request returned %d (not 200..599): answering 500",
                WHO(&c->sock, who), status);
        status = 500;
    }
    SSE_LOG(status == 204 ? SSE_LOG_INFO : SSE_LOG_WARN, "%s: stream request refused: %d %s",
            WHO(&c->sock, who), status, sse_http_reason(status));
    answer_close(&c->sock, &c->tls, c->out, sizeof c->out, status, c->origin,
                 status == 405 ? "Allow: GET, HEAD\r\n" : NULL, S.cfg.send_timeout_ms,
                 c->head_only);
}

/* Send the stream's head (CORS headers and the retry hint included). */
static int stream_open(struct sse_conn *c)
{
    size_t n = sizeof stream_head - 1;
    int r;
    memcpy(c->out, stream_head, n);
    r = cors_headers(c->out + n, sizeof c->out - n - 2, c->origin);
    if (r < 0)
        return SSE_ERR_TOO_LARGE;
    n += (size_t)r;
    memcpy(c->out + n, "\r\n", 2);
    n += 2;
    if (S.cfg.retry_ms && !c->head_only) {
        r = sse_event_retry(c->out + n, sizeof c->out - n, S.cfg.retry_ms, NULL);
        n += r > 0 ? (size_t)r : 0;
    }
    return sse_io_send(&c->sock, &c->tls, c->out, n, S.cfg.send_timeout_ms);
}

static void conn_thread(void *arg)
{
    struct sse_conn *c = arg;
    sse_http_req_t rq;
    const sse_route_t *route;
    int status = 0, r;
    char who[SSE_PORT_PEER_LEN];
    uint32_t t0;
    size_t got;

    c->replied = 0;
    c->reply_failed = 0;
    c->head_only = 0;
    c->origin.p = NULL;
    c->origin.n = 0;
    if (S.tls) {
        r = sse_tls_handshake(&c->tls, &c->sock, stopping);
        if (r != SSE_OK) {
            sse_count(&S.n.tls_failures);
            goto out;
        }
    }
    t0 = sse_port_now_ms();
    r = read_request(&c->sock, &c->tls, c->req, sizeof c->req, &rq, S.cfg.header_timeout_ms,
                     &status, &got);
    if (r == 0)
        goto out;
    if (r < 0) {
        SSE_LOG(SSE_LOG_WARN, "%s: request rejected: %d %s", WHO(&c->sock, who), status,
                sse_http_reason(status));
        sse_count(&S.n.bad_requests);
        answer_close(&c->sock, &c->tls, c->out, sizeof c->out, status, no_origin, NULL,
                     S.cfg.send_timeout_ms, 0);
        goto out;
    }
    if (rq.minor_version == 1 && !rq.host.p) {
        /* RFC 9112 3.2: an HTTP/1.1 request without Host is answered 400. */
        SSE_LOG(SSE_LOG_WARN, "%s: request rejected: 400 (HTTP/1.1 without Host)",
                WHO(&c->sock, who));
        sse_count(&S.n.bad_requests);
        answer_close(&c->sock, &c->tls, c->out, sizeof c->out, 400, no_origin, NULL,
                     S.cfg.send_timeout_ms, method_is(rq.method, "HEAD"));
        goto out;
    }
    c->head_only = method_is(rq.method, "HEAD");
    c->origin = cors_origin(&rq);
    if (method_is(rq.method, "OPTIONS")) {
        preflight(c, &rq);
        goto out;
    }
    if (sse_ingest_wants(&S.cfg, &rq)) { /* POST /publish: core/sse_ingest.c */
        sse_ingest_io_t io = { &c->sock, &c->tls, c->out, sizeof c->out, c->req + r,
                               got - (size_t)r, t0, S.cfg.header_timeout_ms, stopping };
        status = sse_ingest_serve(c, &rq, &S.cfg, &io);
        if (status == 401 || status == 403)
            sse_count(&S.n.auth_failures);
        goto answered;
    }
    route = match_route(&rq, &status);
    if (route) {
        uint32_t mask = route->channel >= 0 ? 1u << route->channel : 0;
        sse_conn_id_t self;
        sse_fan_t *f;
        if (!status && check_token(c, route, &rq))
            goto out; /* answered 401 */
        if (!status && query_channels(rq.query, &mask) != SSE_OK) {
            SSE_LOG(SSE_LOG_WARN, "%s: stream asks for an unknown channel (%.*s): 400",
                    WHO(&c->sock, who), (int)rq.query.n, rq.query.p);
            status = 400;
        }
        if (!status && route->on_request)
            status = route->on_request(&rq, route->user);
        if (status) {
            refuse(c, status);
            goto out;
        }
        if (stream_open(c) != SSE_OK || c->head_only)
            goto out;
        f = sse_fan_open((unsigned)(c - S.conns));
        if (!f) {
            SSE_LOG(SSE_LOG_ERR, "%s: no condition variable for a stream", WHO(&c->sock, who));
            goto out;
        }
        f->sock = &c->sock;
        f->tls = S.tls ? &c->tls : NULL; /* a plain send reads no TLS state */
        f->out = c->out;
        f->mask = mask;
        sse_port_mutex_lock(&S.lock);
        f->id = self = conn_id(c);
        f->cursor = rq.last_event_id.p
                  ? sse_ring_resume_cursor(&S.ring, parse_id(rq.last_event_id))
                  : S.ring.head_id;
        sse_store_rlx(&f->acked, (uint32_t)f->cursor);
        c->state = C_STREAM;
        S.streams++;
        sse_port_mutex_unlock(&S.lock);
        stream(c, f, route, &rq);
        /* Leave the streaming state before the timers go, so none can be
         * added to a stream that is closing. */
        sse_port_mutex_lock(&S.lock);
        c->state = C_CLOSING;
        S.streams--;
        sse_port_mutex_unlock(&S.lock);
        sse_timer_del_conn(self);
        if (route->on_close)
            route->on_close(self, route->user);
        goto out;
    }
    if (rq.content_length > 0 || rq.chunked) {
        /* ssedge reads no request bodies. */
        answer_close(&c->sock, &c->tls, c->out, sizeof c->out, 413, c->origin, NULL,
                     S.cfg.send_timeout_ms, c->head_only);
        goto out;
    }
    r = S.cfg.handler ? S.cfg.handler(c, &rq, S.cfg.handler_user) : SSE_ERR_INVALID;
    if (!c->replied) {
        /* No answer: "no such path" unless the handler meant to answer. */
        status = r == SSE_OK || c->reply_failed ? 500 : 404;
        if (status == 500)
            SSE_LOG(SSE_LOG_ERR, "%s: handler for %.*s gave no answer (%s): 500",
                    WHO(&c->sock, who), (int)rq.path.n, rq.path.p,
                    c->reply_failed ? "its reply did not fit" : "returned SSE_OK");
        answer_close(&c->sock, &c->tls, c->out, sizeof c->out, status, c->origin, NULL,
                     S.cfg.send_timeout_ms, c->head_only);
        goto out;
    }
answered:
    if (c->replied)
        drain_close(&c->sock, &c->tls, c->req, sizeof c->req);
out:
    release(c);
}

/* ---- listener ---------------------------------------------------------------- */

/* All slots busy: answer from the listener itself, quickly. A browser's
 * EventSource gives up for good on any non-200 answer, so a stream request
 * gets a 200 stream holding only a retry back-off and is closed; the
 * browser reconnects after it. Anything else gets 503 + Retry-After. */
static void overload(sse_port_sock_t *s)
{
    sse_http_req_t rq;
    int status = 0, r;
    size_t got;
    if (S.tls) {
        /* A handshake would hold the listener; a closed connection is a
         * network error to a browser, which retries. */
        sse_port_close(s);
        return;
    }
    /* The listener reads the request itself, so a connection that sends
     * nothing would hold it for the whole timeout; a row of them would
     * stall every answer behind. After one such connection the next get
     * only what has already arrived (1 ms), until one sends a request in
     * time: a browser sends its request with the connect, and one that
     * is cut short sees a network error and retries. */
    r = read_request(s, NULL, S.scratch, sizeof S.scratch, &rq,
                     S.quiet_streak ? 1u : CONFIG_SSE_OVERLOAD_TIMEOUT_MS, &status, &got);
    if (r < 0 && status == 408) {
        /* No request in time: no answer either. A 503 would end an
         * EventSource for good; a closed connection makes it retry. */
        S.quiet_streak = 1;
        sse_port_close(s);
        return;
    }
    S.quiet_streak = 0;
    if (r > 0 && match_route(&rq, &status) && status == 0) {
        int n = (int)sizeof stream_head - 1;
        memcpy(S.scratch, stream_head, (size_t)n);
        memcpy(S.scratch + n, "\r\n", 2);
        n += 2;
        r = sse_event_retry(S.scratch + n, sizeof S.scratch - (size_t)n,
                            S.cfg.overload_retry_ms, NULL);
        if (r > 0)
            sse_port_send(s, S.scratch, (size_t)(n + r), CONFIG_SSE_OVERLOAD_TIMEOUT_MS);
        drain_close(s, NULL, S.scratch, sizeof S.scratch);
    } else if (r == 0) {
        sse_port_close(s);
    } else {
        char ra[40];
        snprintf(ra, sizeof ra, "Retry-After: %lu\r\n",
                 (unsigned long)((S.cfg.overload_retry_ms + 999) / 1000));
        answer_close(s, NULL, S.scratch, sizeof S.scratch, 503, no_origin, ra,
                     CONFIG_SSE_OVERLOAD_TIMEOUT_MS, r > 0 && method_is(rq.method, "HEAD"));
    }
}

static struct sse_conn *take_slot(sse_port_sock_t *s)
{
    unsigned i;
    struct sse_conn *c = NULL;
    sse_port_mutex_lock(&S.lock);
    for (i = 0; i < S.cfg.max_connections; i++) {
        if (S.conns[i].state == C_FREE) {
            c = &S.conns[i];
            c->state = C_HTTP;
            c->gen++;
            c->sock = *s;
            S.active++;
            sse_count(&S.n.accepted);
            break;
        }
    }
    if (!c)
        sse_count(&S.n.overloaded);
    sse_port_mutex_unlock(&S.lock);
    return c;
}

static void listener_thread(void *unused)
{
    (void)unused;
    while (!stopping()) {
        sse_port_sock_t cs;
        struct sse_conn *c;
        int r = sse_port_accept(&S.listener, &cs, CONFIG_SSE_ACCEPT_POLL_MS);
        if (r == SSE_ERR_TIMEOUT)
            continue;
        if (r != SSE_OK) {
            /* Out of descriptors or a stack error: back off, don't spin. */
            SSE_LOG(SSE_LOG_WARN, "accept failed: %s", sse_strerror(r));
            sse_port_sleep_ms(CONFIG_SSE_ACCEPT_POLL_MS / 4 + 1);
            continue;
        }
        c = take_slot(&cs);
        if (c)
            S.quiet_streak = 0; /* not overloaded now */
        if (!c) {
            char who[SSE_PORT_PEER_LEN];
            SSE_LOG(SSE_LOG_INFO, "%s: all %u slots busy: overload answer", WHO(&cs, who),
                    S.cfg.max_connections);
            overload(&cs);
            continue;
        }
        if (sse_port_thread_create(conn_thread, c, CONFIG_SSE_THREAD_STACK_SIZE,
                                   "sse_conn") != SSE_OK) {
            SSE_LOG(SSE_LOG_ERR, "no thread for a connection: overload answer");
            sse_port_sock_init(&c->sock);
            release(c);
            overload(&cs);
        }
    }
    sse_port_close(&S.listener);
    sse_port_mutex_lock(&S.lock);
    S.listener_alive = 0;
    sse_port_cond_broadcast(&S.idle);
    sse_port_mutex_unlock(&S.lock);
}

/* ---- public ---------------------------------------------------------------- */

void sse_server_cfg_init(sse_server_cfg_t *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->bind_addr = "0.0.0.0";
    cfg->port = 8080;
    cfg->max_connections = CONFIG_SSE_MAX_CONNECTIONS;
    cfg->retry_ms = CONFIG_SSE_RETRY_MS;
    cfg->heartbeat_ms = CONFIG_SSE_HEARTBEAT_MS;
    cfg->idle_check_ms = CONFIG_SSE_IDLE_CHECK_MS;
    cfg->send_timeout_ms = CONFIG_SSE_SEND_TIMEOUT_MS;
    cfg->header_timeout_ms = CONFIG_SSE_HEADER_TIMEOUT_MS;
    cfg->overload_retry_ms = CONFIG_SSE_OVERLOAD_RETRY_MS;
    cfg->coalesce_ms = CONFIG_SSE_COALESCE_MS;
}

/* Locks and ring, once per process, by whoever comes first: the first
 * start, or a publish before any start (its events wait in the ring for
 * replay). State: 0 none, 1 being made, 2 ready. */
static int init_once(void)
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
        sse_fanout_init() != SSE_OK) {
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
static int ready(void)
{
    return sse_load_acq(&S.inited) == 2;
}

/* SSE_ERR_ARG with one log line saying which setting and what it takes. */
#define BAD_CFG(...) do { SSE_LOG(SSE_LOG_ERR, "cannot start: " __VA_ARGS__); \
                          return SSE_ERR_ARG; } while (0)

static int check_cfg(const sse_server_cfg_t *cfg)
{
    unsigned i;
    if (!cfg)
        BAD_CFG("no configuration (cfg is NULL)");
    if (cfg->num_routes > CONFIG_SSE_MAX_ROUTES || (cfg->num_routes && !cfg->routes))
        BAD_CFG("%u routes given, at most CONFIG_SSE_MAX_ROUTES (%d), routes != NULL",
                cfg->num_routes, CONFIG_SSE_MAX_ROUTES);
    if (cfg->max_connections == 0 || cfg->max_connections > CONFIG_SSE_MAX_CONNECTIONS)
        BAD_CFG("max_connections %u: 1..CONFIG_SSE_MAX_CONNECTIONS (%d)", cfg->max_connections,
                CONFIG_SSE_MAX_CONNECTIONS);
    if (cfg->idle_check_ms == 0 || cfg->send_timeout_ms == 0 || cfg->header_timeout_ms == 0)
        BAD_CFG("idle_check_ms, send_timeout_ms and header_timeout_ms must not be 0");
    if (cfg->num_channel_names > CONFIG_SSE_MAX_CHANNELS ||
        (cfg->num_channel_names && !cfg->channel_names))
        BAD_CFG("%u channel names, at most CONFIG_SSE_MAX_CHANNELS (%d)",
                cfg->num_channel_names, CONFIG_SSE_MAX_CHANNELS);
    if (cfg->num_cors_origins > CONFIG_SSE_MAX_CORS_ORIGINS ||
        (cfg->num_cors_origins && !cfg->cors_origins))
        BAD_CFG("%u CORS origins, at most CONFIG_SSE_MAX_CORS_ORIGINS (%d)",
                cfg->num_cors_origins, CONFIG_SSE_MAX_CORS_ORIGINS);
    for (i = 0; i < cfg->num_channel_names; i++)
        if (!cfg->channel_names[i] || !cfg->channel_names[i][0])
            BAD_CFG("channel name %u is empty", i);
    for (i = 0; i < cfg->num_cors_origins; i++)
        if (!cfg->cors_origins[i])
            BAD_CFG("CORS origin %u is NULL", i);
    for (i = 0; i < cfg->num_routes; i++) {
        const sse_route_t *r = &cfg->routes[i];
        if (!r->path || (r->path[0] != '/' && strcmp(r->path, "*") != 0))
            BAD_CFG("route %u: path must start with '/' or be \"*\"", i);
        if (r->channel < SSE_CHANNEL_NONE || r->channel >= CONFIG_SSE_MAX_CHANNELS)
            BAD_CFG("route %s: channel %d, 0..%d or SSE_CHANNEL_NONE", r->path, r->channel,
                    CONFIG_SSE_MAX_CHANNELS - 1);
        if (r->token && strlen(r->token) < CONFIG_SSE_AUTH_MIN_TOKEN_LEN)
            BAD_CFG("route %s: token of %u characters, at least "
                    "CONFIG_SSE_AUTH_MIN_TOKEN_LEN (%d)", r->path, (unsigned)strlen(r->token),
                    CONFIG_SSE_AUTH_MIN_TOKEN_LEN);
    }
#if !defined(CONFIG_SSE_TLS)
    if (cfg->tls)
        BAD_CFG("cfg.tls is set, but this build has no TLS (CONFIG_SSE_TLS)");
#endif
    return sse_ingest_check(cfg);
}

int sse_server_start(const sse_server_cfg_t *cfg)
{
    int r;
    if ((r = check_cfg(cfg)) != SSE_OK)
        return r;
    if ((r = init_once()) != SSE_OK || (r = sse_port_init()) != SSE_OK)
        return r;
    sse_port_mutex_lock(&S.lock);
    if (S.running) {
        sse_port_mutex_unlock(&S.lock);
        return SSE_ERR_BUSY;
    }
    S.cfg = *cfg;
    /* memcpy from NULL is undefined even for 0 bytes. */
    if (cfg->num_routes)
        memcpy(S.routes, cfg->routes, cfg->num_routes * sizeof *cfg->routes);
    if (cfg->num_channel_names)
        memcpy(S.chan_names, cfg->channel_names, cfg->num_channel_names * sizeof(char *));
    if (cfg->num_cors_origins)
        memcpy(S.cors, cfg->cors_origins, cfg->num_cors_origins * sizeof(char *));
    sse_store_rel(&S.stopping, 0);
    S.quiet_streak = 0;
    S.running = 1;
    sse_port_mutex_unlock(&S.lock);

    if (cfg->tls && (r = sse_tls_init(cfg->tls)) != SSE_OK) {
        SSE_LOG(SSE_LOG_ERR, "TLS set-up failed: %s", sse_strerror(r));
        goto fail;
    }
    /* The caller's TLS settings were parsed; only "is TLS" is kept. */
    S.tls = cfg->tls != NULL;
    S.cfg.tls = NULL;
    r = sse_port_listen(&S.listener, cfg->bind_addr, cfg->port, CONFIG_SSE_LISTEN_BACKLOG);
    if (r != SSE_OK)
        goto fail; /* the port logged the address and the reason */
    S.port = sse_port_sock_local_port(&S.listener);
    if ((r = sse_timer_service_start()) != SSE_OK)
        goto fail_close;
    if ((r = sse_fanout_start(&S.ring, cfg->heartbeat_ms, cfg->idle_check_ms,
                              cfg->coalesce_ms)) != SSE_OK) {
        sse_timer_service_stop();
        goto fail_close;
    }
    S.listener_alive = 1;
    r = sse_port_thread_create(listener_thread, NULL, CONFIG_SSE_THREAD_STACK_SIZE,
                               "sse_listen");
    if (r != SSE_OK) {
        S.listener_alive = 0;
        sse_fanout_stop();
        sse_timer_service_stop();
        goto fail_close;
    }
    SSE_LOG(SSE_LOG_INFO, "listening on %s port %u, %u slots",
            cfg->bind_addr ? cfg->bind_addr : "*", (unsigned)S.port, cfg->max_connections);
    return SSE_OK;
fail_close:
    sse_port_close(&S.listener);
fail:
    if (cfg->tls)
        sse_tls_deinit();
    sse_port_mutex_lock(&S.lock);
    S.running = 0;
    sse_port_mutex_unlock(&S.lock);
    return r;
}

int sse_server_stop(void)
{
    if (!ready())
        return SSE_ERR_ARG;
    sse_port_mutex_lock(&S.lock);
    if (!S.running || sse_load_rlx(&S.stopping)) {
        sse_port_mutex_unlock(&S.lock);
        return SSE_ERR_ARG;
    }
    sse_store_rel(&S.stopping, 1);
    sse_port_mutex_unlock(&S.lock);
    /* Parked streams come back to their threads, which see the stop. */
    sse_fanout_stop();
    sse_port_mutex_lock(&S.lock);
    while (S.active > 0 || S.listener_alive)
        sse_port_cond_wait(&S.idle, &S.lock, CONFIG_SSE_ACCEPT_POLL_MS);
    sse_port_mutex_unlock(&S.lock);
    sse_timer_service_stop();
    if (S.tls)
        sse_tls_deinit();
    sse_port_mutex_lock(&S.lock);
    S.running = 0;
    S.port = 0;
    sse_port_mutex_unlock(&S.lock);
    SSE_LOG(SSE_LOG_INFO, "stopped");
    return SSE_OK;
}

uint16_t sse_server_port(void)
{
    uint16_t p;
    if (!ready())
        return 0;
    sse_port_mutex_lock(&S.lock);
    p = S.running ? S.port : 0;
    sse_port_mutex_unlock(&S.lock);
    return p;
}

int sse_server_stats(sse_stats_t *st)
{
    if (!st)
        return SSE_ERR_ARG;
    memset(st, 0, sizeof *st);
    if (!ready())
        return SSE_OK;
    sse_port_mutex_lock(&S.lock);
    st->accepted = sse_load_rlx(&S.n.accepted);
    st->overloaded = sse_load_rlx(&S.n.overloaded);
    st->fell_behind = sse_load_rlx(&S.n.fell_behind);
    st->send_failures = sse_load_rlx(&S.n.send_failures);
    st->slow_sends = sse_load_rlx(&S.n.slow_sends);
    st->bad_requests = sse_load_rlx(&S.n.bad_requests);
    st->tls_failures = sse_load_rlx(&S.n.tls_failures);
    st->auth_failures = sse_load_rlx(&S.n.auth_failures);
    st->active = S.active;
    st->streams = S.streams;
    st->last_id = S.ring.head_id - 1;
    st->oldest_id = S.ring.tail_id;
    sse_port_mutex_unlock(&S.lock);
    return SSE_OK;
}

/* Encode into the ring under the lock, then wake the streams that may want
 * it with one call, whatever their number. */
static int publish(int channel, sse_conn_id_t target, const char *event,
                   const char *data, size_t len, uint64_t *id)
{
    sse_event_t ev;
    size_t need = 0;
    char *dst;
    int r;

    if (channel < SSE_CHANNEL_ALL || channel >= CONFIG_SSE_MAX_CHANNELS)
        return SSE_ERR_ARG;
    if (init_once() != SSE_OK)
        return SSE_ERR_NOMEM;
    memset(&ev, 0, sizeof ev);
    ev.event = event;
    ev.data = data ? data : "";
    ev.data_len = data ? len : 0;
    ev.has_id_num = 1;

    sse_port_mutex_lock(&S.lock);
    if (target != SSE_CONN_NONE) {
        struct sse_conn *c = conn_by_id(target);
        if (!c || c->state != C_STREAM) {
            sse_port_mutex_unlock(&S.lock);
            return SSE_ERR_CLOSED;
        }
    }
    ev.id_num = S.ring.head_id;
    r = sse_event_encode(NULL, 0, &ev, &need);
    if (r != SSE_ERR_TOO_LARGE) {
        sse_port_mutex_unlock(&S.lock);
        return r < 0 ? r : SSE_ERR_INVALID;
    }
    if (need > CONFIG_SSE_MAX_EVENT_BYTES) {
        sse_port_mutex_unlock(&S.lock);
        return SSE_ERR_TOO_LARGE;
    }
    /* Readers copy without a lock: order their past copies before the
     * overwrites below. */
    sse_fanout_order_reads();
    dst = sse_ring_reserve(&S.ring, (uint32_t)need);
    r = sse_event_encode(dst, need, &ev, NULL);
    sse_ring_commit(&S.ring, (uint32_t)need,
                    channel == SSE_CHANNEL_ALL ? SSE_RING_ALL : (uint8_t)channel, target);
    if (id)
        *id = ev.id_num;
    sse_port_mutex_unlock(&S.lock);
    sse_fence_full(); /* the new head before the writer's bell moves */
    sse_fanout_published();
    return r > 0 ? SSE_OK : r;
}

int sse_conn_close(sse_conn_id_t conn)
{
    struct sse_conn *c;
    int r = SSE_ERR_CLOSED;
    if (!ready())
        return SSE_ERR_CLOSED;
    sse_port_mutex_lock(&S.lock);
    c = conn_by_id(conn);
    if (c && c->state == C_STREAM) {
        sse_store_rel(&sse_fan_of((unsigned)(c - S.conns))->kill, 1);
        r = SSE_OK;
    }
    sse_port_mutex_unlock(&S.lock);
    if (r == SSE_OK)
        sse_fanout_kick(); /* a parked stream: the writer hands it back */
    return r;
}

/* The stream is checked and the timer added under the server's lock, and
 * a closing stream leaves C_STREAM under that lock before its timers are
 * removed: an add either comes first (and is removed with the others) or
 * sees the stream gone. Lock order: S.lock, then the timer service's. */
int sse_conn_timer_add(sse_conn_id_t conn, uint32_t period_ms, sse_conn_timer_fn fn,
                       void *arg)
{
    struct sse_conn *c;
    int r;
    if (!fn || conn == SSE_CONN_NONE)
        return SSE_ERR_ARG;
    if (!ready())
        return SSE_ERR_CLOSED;
    sse_port_mutex_lock(&S.lock);
    c = conn_by_id(conn);
    r = c && c->state == C_STREAM ? sse_timer_add_owned(conn, period_ms, fn, arg)
                                  : SSE_ERR_CLOSED;
    sse_port_mutex_unlock(&S.lock);
    return r;
}

int sse_channel(const char *name)
{
    int r = SSE_ERR_ARG;
    unsigned i;
    if (!ready() || !name)
        return SSE_ERR_ARG;
    sse_port_mutex_lock(&S.lock);
    for (i = 0; S.running && i < S.cfg.num_channel_names; i++) {
        if (strcmp(S.chan_names[i], name) == 0) {
            r = (int)i;
            break;
        }
    }
    sse_port_mutex_unlock(&S.lock);
    return r;
}

int sse_publish(int channel, const char *event, const char *data, size_t len, uint64_t *id)
{
    return publish(channel, SSE_CONN_NONE, event, data, len, id);
}

int sse_send_to(sse_conn_id_t conn, const char *event, const char *data, size_t len,
                uint64_t *id)
{
    if (conn == SSE_CONN_NONE)
        return SSE_ERR_ARG;
    return publish(SSE_CHANNEL_ALL, conn, event, data, len, id);
}
