/* SPDX-License-Identifier: MIT */
/* Answers that are not streams: errors, refusals and preflights (closed after),
 * CORS headers, and sse_reply() for handlers. */
#include <stdio.h>
#include <string.h>
#include "sse_log.h"
#include "sse_srv.h"
#include "sse_ingest.h"

/* Discard request bytes already received, so that close() sends FIN, not a
 * RST that could destroy our answer in flight. One read that does not
 * wait: a client that keeps sending cannot hold this thread. */
void sse_drain_close(sse_port_sock_t *s, sse_tls_conn_t *t, char *buf, size_t cap)
{
    (void)sse_io_recv(s, t, buf, cap, 0);
    if (t)
        sse_tls_end(t);
    sse_port_close(s);
}

/* The request's Origin if the configuration allows it, else none. */
sse_str_t sse_cors_origin(const sse_http_req_t *rq)
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
int sse_cors_headers(char *buf, size_t cap, sse_str_t origin)
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

const sse_str_t sse_no_origin = { NULL, 0 };

/* Send a complete small response and close: used for errors, refusals and
 * overload. Built in place in buf (no stack copy: stacks are small on a
 * board); CORS headers for an allowed origin; 204 and 304 carry no body. */
void sse_answer_close(sse_port_sock_t *s, sse_tls_conn_t *t, char *buf, size_t cap,
                         int status, sse_str_t origin, const char *extra,
                         uint32_t timeout_ms, int head)
{
    const char *reason = sse_http_reason(status);
    int n = snprintf(buf, cap, "HTTP/1.1 %d %s\r\n", status, reason), r;
    if (n > 0 && (size_t)n < cap && (r = sse_cors_headers(buf + n, cap - (size_t)n, origin)) > 0)
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
    sse_drain_close(s, t, buf, cap);
}

int sse_reply(sse_conn_t *c, int status, const char *content_type,
              const char *extra_headers, const void *body, size_t len)
{
    int n, r, bodyless = status == 204 || status == 304;
    if (!c || c->replied || status < 200 || status > 599 || (bodyless && len))
        return SSE_ERR_ARG;
    n = snprintf(c->buf->out, sizeof c->buf->out, "HTTP/1.1 %d %s\r\n", status, sse_http_reason(status));
    if (!bodyless && n > 0 && (size_t)n < sizeof c->buf->out)
        n += snprintf(c->buf->out + n, sizeof c->buf->out - (size_t)n,
                      "Content-Type: %s\r\nContent-Length: %lu\r\n",
                      content_type ? content_type : "text/plain", (unsigned long)len);
    if (n > 0 && (size_t)n < sizeof c->buf->out)
        n += snprintf(c->buf->out + n, sizeof c->buf->out - (size_t)n, "%s%s",
                      c->keep_alive ? "" : "Connection: close\r\n",
                      extra_headers ? extra_headers : "");
    r = n > 0 && (size_t)n < sizeof c->buf->out
      ? sse_cors_headers(c->buf->out + n, sizeof c->buf->out - (size_t)n, c->origin) : -1;
    if (r < 0 || (size_t)(n + r) + 2 >= sizeof c->buf->out) {
        /* Nothing went out: the handler may try again; if it does not,
         * the client gets a 500, not a bare close. */
        char who[SSE_PORT_PEER_LEN];
        c->reply_failed = 1;
        SSE_LOG(SSE_LOG_ERR, "%s: reply %d: head does not fit CONFIG_SSE_SEND_BUF_SIZE (%u bytes)",
                WHO(&c->sock, who), status, (unsigned)sizeof c->buf->out);
        return SSE_ERR_TOO_LARGE;
    }
    c->replied = 1;
    n += r;
    memcpy(c->buf->out + n, "\r\n", 2);
    n += 2;
    r = sse_io_send(&c->sock, &c->tls, c->buf->out, (size_t)n, S.cfg.send_timeout_ms);
    if (r == SSE_OK && len && !c->head_only)
        r = sse_io_send(&c->sock, &c->tls, body, len, S.cfg.send_timeout_ms);
    return r;
}

/* OPTIONS, for any path: a CORS preflight from an allowed origin gets 204
 * with what may follow (POST when @p publish: the path is POST /publish's);
 * from another origin 403. */
void sse_preflight(struct sse_conn *c, const sse_http_req_t *rq, int publish)
{
    if (rq->origin.p && !c->origin.p) {
        char who[SSE_PORT_PEER_LEN];
        SSE_LOG(SSE_LOG_WARN, "%s: preflight from origin %.*s, not allowed: 403",
                WHO(&c->sock, who), (int)rq->origin.n, rq->origin.p);
        sse_answer_close(&c->sock, &c->tls, c->buf->out, sizeof c->buf->out, 403, sse_no_origin, NULL,
                         S.cfg.send_timeout_ms, 0);
        return;
    }
    if (publish) { /* a page that will POST /publish */
        sse_answer_close(&c->sock, &c->tls, c->buf->out, sizeof c->buf->out, 204, c->origin,
                         c->origin.p ? SSE_INGEST_PREFLIGHT : "Allow: POST, OPTIONS\r\n",
                         S.cfg.send_timeout_ms, 0);
        return;
    }
    sse_answer_close(&c->sock, &c->tls, c->buf->out, sizeof c->buf->out, 204, c->origin,
                     c->origin.p ? "Allow: GET, HEAD, OPTIONS\r\n"
                                   "Access-Control-Allow-Methods: GET, HEAD, OPTIONS\r\n"
                                   "Access-Control-Allow-Headers: Last-Event-ID, Cache-Control, "
                                   "Authorization, Accept\r\n"
                                   "Access-Control-Max-Age: 600\r\n"
                                 : "Allow: GET, HEAD, OPTIONS\r\n",
                     S.cfg.send_timeout_ms, 0);
}

/* A stream request the route refuses (405/406/400 from matching, or the
 * application's on_request status, e.g. 204 "stop reconnecting"). */
void sse_refuse(struct sse_conn *c, int status)
{
    char who[SSE_PORT_PEER_LEN];
    if (status < 200 || status > 599) {
        SSE_LOG(SSE_LOG_ERR, "%s: on_request returned %d (not 200..599): answering 500",
                WHO(&c->sock, who), status);
        status = 500;
    }
    SSE_LOG(status == 204 ? SSE_LOG_INFO : SSE_LOG_WARN, "%s: stream request refused: %d %s",
            WHO(&c->sock, who), status, sse_http_reason(status));
    sse_answer_close(&c->sock, &c->tls, c->buf->out, sizeof c->buf->out, status, c->origin,
                     status == 405 ? "Allow: GET, HEAD\r\n" : NULL, S.cfg.send_timeout_ms,
                     c->head_only);
}
