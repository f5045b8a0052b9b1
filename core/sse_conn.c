/* SPDX-License-Identifier: MIT */
/* One connection's thread: TLS handshake, request, dispatch to a stream,
 * a preflight or the handler, and the slot's release. */
#include <string.h>
#include "sse_log.h"
#include "sse_atomic.h"
#include "sse_timer.h"
#include "sse_srv.h"
#include "sse_ingest.h"

static uint32_t min_u32(uint32_t a, uint32_t b) { return a < b ? a : b; }

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

/* 1 if a Connection header's value lists "close" (tokens separated by
 * commas and optional white space, any case). */
static int lists_close(sse_str_t v)
{
    size_t i = 0, b, e;
    while (i < v.n) {
        while (i < v.n && (v.p[i] == ' ' || v.p[i] == '\t' || v.p[i] == ','))
            i++;
        for (b = i; i < v.n && v.p[i] != ','; i++)
            ;
        for (e = i; e > b && (v.p[e - 1] == ' ' || v.p[e - 1] == '\t'); e--)
            ;
        if (e > b && sse_str_ieq((sse_str_t){ v.p + b, e - b }, "close"))
            return 1;
    }
    return 0;
}

/* Wait for bytes of a request head into @p buf until @p timeout_ms after
 * @p start, waking now and then to notice a stop (only we may close s).
 * @return bytes read (> 0), 0 if the peer went away or we are stopping,
 * SSE_ERR_TIMEOUT once the time is up. */
static int recv_head(sse_port_sock_t *s, sse_tls_conn_t *t, char *buf, size_t cap,
                     uint32_t start, uint32_t timeout_ms)
{
    for (;;) {
        uint32_t spent = sse_port_now_ms() - start;
        int r;
        if (spent >= timeout_ms)
            return SSE_ERR_TIMEOUT;
        r = sse_io_recv(s, t, buf, cap, min_u32(timeout_ms - spent, CONFIG_SSE_ACCEPT_POLL_MS));
        if (r > 0)
            return r;
        if (r != SSE_ERR_TIMEOUT || sse_srv_stopping())
            return 0;
    }
}

/* Read and parse the request head within @p timeout_ms of @p start; @p have
 * bytes of it may be in @p buf already (what followed the last request on a
 * kept connection, or the first byte, read before a buffer was borrowed).
 * @return parsed length (> 0; *got says how much was read, a body's first
 * bytes included), 0 if the peer went away or we are stopping, or -1 with
 * an HTTP status to answer. */
int sse_read_request(sse_port_sock_t *s, sse_tls_conn_t *t, char *buf, size_t cap,
                     size_t have, sse_http_req_t *rq, uint32_t start, uint32_t timeout_ms,
                     int *status, size_t *got)
{
    size_t len = have;
    for (;;) {
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
        r = recv_head(s, t, buf + len, cap - len, start, timeout_ms);
        if (r == SSE_ERR_TIMEOUT) {
            *status = 408;
            return -1;
        }
        if (r == 0)
            return 0;
        len += (size_t)r;
    }
}

void sse_conn_release(struct sse_conn *c)
{
    sse_tls_end(&c->tls);
    sse_port_close(&c->sock);
    sse_conn_give_back(c);
    sse_port_mutex_lock(&S.lock);
    c->state = C_FREE;
    S.active--;
    sse_port_cond_broadcast(&S.idle);
    sse_port_mutex_unlock(&S.lock);
}

void sse_conn_thread(void *arg)
{
    struct sse_conn *c = arg;
    sse_http_req_t rq;
    const sse_route_t *route;
    int status = 0, r;
    char who[SSE_PORT_PEER_LEN], b0 = 0;
    uint32_t t0;
    size_t got, have = 0;
    int kept = 0; /* this request follows a POST /publish on the same connection */

    c->replied = 0;
    c->reply_failed = 0;
    c->head_only = 0;
    c->keep_alive = 0;
    c->origin.p = NULL;
    c->origin.n = 0;
    if (S.tls) {
        r = sse_tls_handshake(&c->tls, &c->sock, sse_srv_stopping);
        if (r != SSE_OK) {
            sse_count(&S.n.tls_failures);
            goto out;
        }
    }
    /* Borrow the buffer pair only once the request's first byte is in: a
     * client that connects and says nothing keeps none from the pool (two
     * pairs on a board), and clients that connect together borrow one each
     * as they speak, not all at once. */
    t0 = sse_port_now_ms();
    r = recv_head(&c->sock, &c->tls, &b0, 1, t0, S.cfg.header_timeout_ms);
    if (r == 0)
        goto out; /* gone or stopping: closed quietly */
    if (!sse_conn_borrow(c, S.cfg.header_timeout_ms)) {
        if (!sse_srv_stopping()) {
            SSE_LOG(SSE_LOG_WARN, "%s: no connection buffer free in %u ms "
                    "(CONFIG_SSE_CONN_BUFS); closed unanswered", WHO(&c->sock, who),
                    (unsigned)S.cfg.header_timeout_ms);
            sse_count(&S.n.overloaded);
        }
        goto out;
    }
    if (r > 0)
        c->buf->req[have++] = b0;
    goto head; /* its time runs from t0: a silent client's is up (408) */
request:
    t0 = sse_port_now_ms();
head:
    r = sse_read_request(&c->sock, &c->tls, c->buf->req, sizeof c->buf->req, have, &rq, t0,
                         S.cfg.header_timeout_ms, &status, &got);
    if (r == 0 || (r < 0 && kept && status == 408 && got == 0))
        goto out; /* gone, stopping, or a kept connection left idle: closed quietly */
    if (r < 0) {
        SSE_LOG(SSE_LOG_WARN, "%s: request rejected: %d %s", WHO(&c->sock, who), status,
                sse_http_reason(status));
        sse_count(&S.n.bad_requests);
        sse_answer_close(&c->sock, &c->tls, c->buf->out, sizeof c->buf->out, status, sse_no_origin, NULL,
                         S.cfg.send_timeout_ms, 0);
        goto out;
    }
    if (rq.minor_version == 1 && !rq.host.p) {
        /* RFC 9112 3.2: an HTTP/1.1 request without Host is answered 400. */
        SSE_LOG(SSE_LOG_WARN, "%s: request rejected: 400 (HTTP/1.1 without Host)",
                WHO(&c->sock, who));
        sse_count(&S.n.bad_requests);
        sse_answer_close(&c->sock, &c->tls, c->buf->out, sizeof c->buf->out, 400, sse_no_origin, NULL,
                         S.cfg.send_timeout_ms, sse_method_is(rq.method, "HEAD"));
        goto out;
    }
    c->head_only = sse_method_is(rq.method, "HEAD");
    c->origin = sse_cors_origin(&rq);
    if (sse_method_is(rq.method, "OPTIONS")) {
        sse_preflight(c, &rq, sse_ingest_wants(&S.cfg, &rq));
        goto out;
    }
    if (sse_ingest_wants(&S.cfg, &rq)) { /* POST /publish: core/sse_ingest.c */
        sse_ingest_io_t io = { &c->sock, &c->tls, c->buf->out, sizeof c->buf->out, c->buf->req + r,
                               got - (size_t)r, t0, S.cfg.header_timeout_ms, sse_srv_stopping,
                               &c->keep_alive };
        /* HTTP/1.1 keeps the connection for the next POST (a script's
         * client posts one event after another) unless the client says
         * close; ingest clears it for any answer but 201. */
        c->keep_alive = rq.minor_version == 1 && !lists_close(rq.connection);
        status = sse_ingest_serve(c, &rq, &S.cfg, &io);
        if (status == 401 || status == 403)
            sse_count(&S.n.auth_failures);
        if (c->keep_alive && status == 201) {
            /* What came after the body is the next request's start. */
            size_t body = (size_t)rq.content_length, after = (size_t)r + body;
            have = got > after ? got - after : 0;
            memmove(c->buf->req, c->buf->req + after, have);
            c->replied = 0;
            c->keep_alive = 0;
            kept = 1;
            goto request;
        }
        c->keep_alive = 0;
        goto answered;
    }
    route = sse_route_match(&rq, &status);
    if (route) {
        uint32_t mask = route->channel >= 0 ? 1u << route->channel : 0;
        sse_conn_id_t self;
        sse_fan_t *f;
        if (!status && sse_auth_check(c, route, &rq))
            goto out; /* answered 401 */
        if (!status && sse_route_channels(rq.query, &mask) != SSE_OK) {
            SSE_LOG(SSE_LOG_WARN, "%s: stream asks for an unknown channel (%.*s): 400",
                    WHO(&c->sock, who), (int)rq.query.n, rq.query.p);
            status = 400;
        }
        if (!status && route->on_request)
            status = route->on_request(&rq, route->user);
        if (status) {
            sse_refuse(c, status);
            goto out;
        }
        if (sse_stream_open(c) != SSE_OK || c->head_only)
            goto out;
        f = sse_fan_open((unsigned)(c - S.conns));
        if (!f) {
            SSE_LOG(SSE_LOG_ERR, "%s: no condition variable for a stream", WHO(&c->sock, who));
            goto out;
        }
        f->sock = c->sock;
        f->tls = S.tls ? &c->tls : NULL; /* a plain send reads no TLS state */
        f->mask = mask;
        sse_port_mutex_lock(&S.lock);
        f->id = self = sse_srv_conn_id(c);
        f->cursor = rq.last_event_id.p
                  ? sse_ring_resume_cursor(&S.ring, parse_id(rq.last_event_id))
                  : S.ring.head_id;
        sse_store_rlx(&f->acked, (uint32_t)f->cursor);
        c->state = C_STREAM;
        S.streams++;
        sse_port_mutex_unlock(&S.lock);
        sse_stream_run(c, f, route, &rq);
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
        sse_answer_close(&c->sock, &c->tls, c->buf->out, sizeof c->buf->out, 413, c->origin, NULL,
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
        sse_answer_close(&c->sock, &c->tls, c->buf->out, sizeof c->buf->out, status, c->origin, NULL,
                         S.cfg.send_timeout_ms, c->head_only);
        goto out;
    }
answered:
    if (c->replied)
        sse_drain_close(&c->sock, &c->tls, c->buf->req, sizeof c->buf->req);
out:
    sse_conn_release(c);
}
