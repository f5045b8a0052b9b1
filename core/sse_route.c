/* SPDX-License-Identifier: MIT */
/* Which stream route a request is for, and the channels it asks for. */
#include <string.h>
#include "sse_srv.h"

/* Method names are case-sensitive (RFC 9110 9.1): "get" is not GET. */
int sse_method_is(sse_str_t m, const char *name)
{
    size_t n = strlen(name);
    return m.n == n && memcmp(m.p, name, n) == 0;
}

/* Channels named in "?ch=a,b" (commas may come as %2C). @return SSE_OK
 * with *mask or'ed, or SSE_ERR_INVALID for an unknown name. */
int sse_route_channels(sse_str_t query, uint32_t *mask)
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
const sse_route_t *sse_route_match(const sse_http_req_t *rq, int *status)
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
        else if (!sse_method_is(rq->method, "GET") && !sse_method_is(rq->method, "HEAD"))
            *status = 405;
        else if (rq->content_length > 0 || rq->chunked)
            *status = 400;
        return r;
    }
    if (any && sse_http_accept_q(rq->accept, "text", "event-stream", 1) > 0) {
        if (!sse_method_is(rq->method, "GET") && !sse_method_is(rq->method, "HEAD"))
            *status = 405;
        else if (rq->content_length > 0 || rq->chunked)
            *status = 400;
        return any;
    }
    return NULL;
}
