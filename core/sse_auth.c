/* SPDX-License-Identifier: MIT */
/* Bearer tokens: sse_token_ok() and the 401 of a route that wants one. */
#include <string.h>
#include "sse_log.h"
#include "sse_atomic.h"
#include "sse_srv.h"

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
int sse_auth_check(struct sse_conn *c, const sse_route_t *route, const sse_request_t *rq)
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
    sse_answer_close(&c->sock, &c->tls, c->buf->out, sizeof c->buf->out, 401, c->origin,
                     presented ? "WWW-Authenticate: Bearer realm=\"ssedge\", error=\"invalid_token\"\r\n"
                           : "WWW-Authenticate: Bearer realm=\"ssedge\"\r\n",
                     S.cfg.send_timeout_ms, c->head_only);
    return 1;
}
