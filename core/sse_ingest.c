/* SPDX-License-Identifier: MIT */
/* POST /publish: a request with the configured bearer token whose body
 * (Content-Length, at most CONFIG_SSE_PUBLISH_BODY_MAX bytes) becomes one
 * event through sse_publish(). The body is read into the connection's own
 * send buffer within the header timeout; nothing here allocates. */
#include <stdio.h>
#include <string.h>
#include "sse_ingest.h"
#include "sse_log.h"

#if CONFIG_SSE_PUBLISH_BODY_MAX > 0

#define WHO(io, buf) sse_port_sock_peer((io)->sock, (buf), sizeof (buf))

int sse_ingest_check(const sse_server_cfg_t *cfg)
{
    if (cfg->publish_token && strlen(cfg->publish_token) < CONFIG_SSE_AUTH_MIN_TOKEN_LEN) {
        SSE_LOG(SSE_LOG_ERR, "cannot start: publish_token of %u characters, at least "
                "CONFIG_SSE_AUTH_MIN_TOKEN_LEN (%d)", (unsigned)strlen(cfg->publish_token),
                CONFIG_SSE_AUTH_MIN_TOKEN_LEN);
        return SSE_ERR_ARG;
    }
    return SSE_OK;
}

int sse_ingest_wants(const sse_server_cfg_t *cfg, const sse_http_req_t *rq)
{
    return cfg->publish_token && rq->path.n == sizeof SSE_INGEST_PATH - 1 &&
           memcmp(rq->path.p, SSE_INGEST_PATH, rq->path.n) == 0;
}

static int hexval(unsigned ch)
{
    if (ch >= '0' && ch <= '9')
        return (int)(ch - '0');
    ch |= 0x20;
    return ch >= 'a' && ch <= 'f' ? (int)(ch - 'a' + 10) : -1;
}

/* Query parameter @p key, form-decoded ('+' is a space) and NUL-terminated
 * into out[0..cap). @return its length; 0 when absent or empty (the
 * default applies); -1 for a bad escape or a NUL; -2 if it does not fit. */
static int query_arg(sse_str_t query, const char *key, char *out, size_t cap)
{
    sse_str_t v;
    size_t i = 0, n = 0;
    if (!sse_http_query_get(query, key, &v) || !v.p)
        return 0;
    while (i < v.n) {
        unsigned ch = (unsigned char)v.p[i++];
        if (ch == '%') {
            int hi, lo;
            if (i + 1 >= v.n || (hi = hexval((unsigned char)v.p[i])) < 0 ||
                (lo = hexval((unsigned char)v.p[i + 1])) < 0)
                return -1;
            ch = (unsigned)(hi << 4 | lo);
            i += 2;
        } else if (ch == '+') {
            ch = ' ';
        }
        if (ch == 0)
            return -1;
        if (n + 1 >= cap)
            return -2;
        out[n++] = (char)ch;
    }
    if (cap)
        out[n] = 0;
    return (int)n;
}

/* Content-Type text/plain or application/octet-stream (parameters
 * allowed, a charset only if it is UTF-8 or its ASCII subset), or none. */
static int type_ok(const sse_http_req_t *rq)
{
    sse_str_t v, t, cs;
    const char *semi, *p, *end;
    if (!sse_http_header(rq, "Content-Type", &v) || v.n == 0)
        return 1;
    semi = memchr(v.p, ';', v.n);
    t.p = v.p;
    t.n = semi ? (size_t)(semi - v.p) : v.n;
    while (t.n && (t.p[t.n - 1] == ' ' || t.p[t.n - 1] == '\t'))
        t.n--;
    if (!sse_str_ieq(t, "text/plain") && !sse_str_ieq(t, "application/octet-stream"))
        return 0;
    for (p = semi, end = v.p + v.n; p && p < end; p = memchr(p + 1, ';', (size_t)(end - p - 1))) {
        const char *q = p + 1;
        while (q < end && (*q == ' ' || *q == '\t'))
            q++;
        if ((size_t)(end - q) < 8 || !sse_str_ieq((sse_str_t){ q, 8 }, "charset="))
            continue;
        cs.p = q + 8;
        cs.n = 0;
        while (cs.p + cs.n < end && cs.p[cs.n] != ';' && cs.p[cs.n] != ' ')
            cs.n++;
        if (cs.n >= 2 && cs.p[0] == '"' && cs.p[cs.n - 1] == '"') {
            cs.p++;
            cs.n -= 2;
        }
        if (!sse_str_ieq(cs, "utf-8") && !sse_str_ieq(cs, "us-ascii"))
            return 0;
    }
    return 1;
}

/* Reply @p status with a one-line reason (also its log line when it is
 * a refusal); extra headers may be NULL. */
static int answer(sse_conn_t *c, const sse_ingest_io_t *io, int status, const char *extra,
                  const char *why)
{
    char body[96];
    int n = snprintf(body, sizeof body, "%s\n", why);
    if (status != 201)
        *io->keep_alive = 0; /* a refused body may still be coming: close */
    if (status >= 400) {
        char who[SSE_PORT_PEER_LEN];
        SSE_LOG(SSE_LOG_WARN, "%s: POST " SSE_INGEST_PATH " refused: %d (%s)", WHO(io, who),
                status, why);
    }
    sse_reply(c, status, "text/plain", extra, body,
              n > 0 && (size_t)n < sizeof body ? (size_t)n : sizeof body - 1);
    return status;
}

/* Bytes of a refused request's body, so that closing does not reset the
 * connection under our answer while the client still sends: at most what
 * it declared and fits the time left. */
static void discard(const sse_http_req_t *rq, const sse_ingest_io_t *io)
{
    int64_t left = rq->content_length - (int64_t)io->early_len;
    while (left > 0 && !io->stopping()) {
        uint32_t spent = sse_port_now_ms() - io->start_ms;
        int r;
        if (spent >= io->timeout_ms)
            break;
        r = sse_io_recv(io->sock, io->tls, io->buf,
                        left < (int64_t)io->cap ? (size_t)left : io->cap,
                        io->timeout_ms - spent < CONFIG_SSE_ACCEPT_POLL_MS
                        ? io->timeout_ms - spent : CONFIG_SSE_ACCEPT_POLL_MS);
        if (r > 0)
            left -= r;
        else if (r != SSE_ERR_TIMEOUT)
            break;
    }
}

/* The body into io->buf[0..len): what came with the head, then the rest
 * within the time left of the header timeout. @return 0; 408 when time
 * ran out; 400 when the client ended its side first (it may still read
 * the answer); -1 when the connection failed or the server stops. */
static int read_body(const sse_http_req_t *rq, const sse_ingest_io_t *io, size_t len)
{
    size_t have = io->early_len < len ? io->early_len : len;
    sse_str_t expect;
    memcpy(io->buf, io->early, have);
    /* curl and others wait for this before a large body (RFC 9110 10.1.1). */
    if (have < len && rq->minor_version == 1 && sse_http_header(rq, "Expect", &expect) &&
        sse_str_ieq(expect, "100-continue") &&
        sse_io_send(io->sock, io->tls, "HTTP/1.1 100 Continue\r\n\r\n", 25,
                    io->timeout_ms) != SSE_OK)
        return -1;
    while (have < len) {
        uint32_t spent = sse_port_now_ms() - io->start_ms;
        int r;
        if (spent >= io->timeout_ms)
            return 408;
        /* Wake up now and then to notice a stop. */
        r = sse_io_recv(io->sock, io->tls, io->buf + have, len - have,
                        io->timeout_ms - spent < CONFIG_SSE_ACCEPT_POLL_MS
                        ? io->timeout_ms - spent : CONFIG_SSE_ACCEPT_POLL_MS);
        if (r > 0)
            have += (size_t)r;
        else if (r == SSE_ERR_CLOSED && !io->stopping())
            return 400;
        else if (r != SSE_ERR_TIMEOUT || io->stopping())
            return -1;
    }
    return 0;
}

int sse_ingest_serve(sse_conn_t *c, const sse_http_req_t *rq, const sse_server_cfg_t *cfg,
                     const sse_ingest_io_t *io)
{
    char idtxt[24];
    const char *event = NULL;
    sse_str_t tok;
    size_t len;
    int ch = SSE_CHANNEL_ALL, n, r, status;
    uint64_t id;

    if (rq->method.n != 4 || memcmp(rq->method.p, "POST", 4) != 0) {
        status = answer(c, io, 405, "Allow: POST\r\n", "POST only");
        goto refused;
    }
    if (!sse_token_ok(rq, cfg->publish_token)) {
        /* 401 asks for a token; a wrong one is refused for good. */
        if (sse_http_query_get(rq->query, "token", &tok) || rq->authorization.p)
            status = answer(c, io, 403, NULL, "wrong token");
        else
            status = answer(c, io, 401, "WWW-Authenticate: Bearer realm=\"ssedge\"\r\n",
                            "no token: Authorization: Bearer TOKEN");
        goto refused;
    }
    if (!type_ok(rq)) {
        status = answer(c, io, 415, NULL,
                        "Content-Type: text/plain, application/octet-stream or none; UTF-8");
        goto refused;
    }
    if (rq->chunked || rq->content_length < 0) {
        status = answer(c, io, 411, NULL, "a Content-Length is needed (no chunked body)");
        goto refused;
    }
    if (rq->content_length > CONFIG_SSE_PUBLISH_BODY_MAX) {
        char why[64];
        snprintf(why, sizeof why, "body over CONFIG_SSE_PUBLISH_BODY_MAX (%d bytes)",
                 CONFIG_SSE_PUBLISH_BODY_MAX);
        status = answer(c, io, 413, NULL, why);
        goto refused;
    }
    len = (size_t)rq->content_length;
    /* Event and channel names go into the buffer past the body: if they
     * do not fit there, the event would not fit CONFIG_SSE_MAX_EVENT_BYTES
     * either (it holds the body and the name). */
    n = query_arg(rq->query, "event", io->buf + len, io->cap - len);
    if (n > 0) {
        event = io->buf + len;
        len += (size_t)n + 1;
    }
    r = n >= 0 ? query_arg(rq->query, "ch", io->buf + len, io->cap - len) : n;
    if (n == -2 || r == -2) {
        status = answer(c, io, 413, NULL, "the event would not fit CONFIG_SSE_MAX_EVENT_BYTES");
        goto refused;
    }
    if (n < 0 || r < 0) {
        status = answer(c, io, 400, NULL, "bad escape or NUL in ?event= or ?ch=");
        goto refused;
    }
    if (r > 0 && (ch = sse_channel(io->buf + len)) < 0) {
        status = answer(c, io, 400, NULL, "unknown channel in ?ch=");
        goto refused;
    }
    len = (size_t)rq->content_length;
    r = read_body(rq, io, len);
    if (r < 0)
        return 0;
    if (r == 408)
        return answer(c, io, 408, NULL, "body not complete within the header timeout");
    if (r == 400)
        return answer(c, io, 400, NULL, "the body ended before its Content-Length");
    r = sse_publish(ch, event, io->buf, len, &id);
    if (r == SSE_ERR_INVALID)
        return answer(c, io, 400, NULL, "refused by the framer: not UTF-8, or CR/LF in ?event=");
    if (r == SSE_ERR_TOO_LARGE)
        return answer(c, io, 413, NULL, "the event does not fit CONFIG_SSE_MAX_EVENT_BYTES");
    if (r != SSE_OK)
        return answer(c, io, 500, NULL, sse_strerror(r));
    snprintf(idtxt, sizeof idtxt, "%llu", (unsigned long long)id);
    return answer(c, io, 201, NULL, idtxt);
refused:
    discard(rq, io);
    return status;
}

#else
/* ISO C wants at least one declaration in a translation unit. */
typedef int sse_ingest_compiled_out_t;
#endif /* CONFIG_SSE_PUBLISH_BODY_MAX */
