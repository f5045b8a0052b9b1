/* SPDX-License-Identifier: MIT */
/* Serving files compiled in by scripts/embed.py: find one by path ("/" is
 * /index.html) and answer with its gzip copy when the client accepts gzip. */
#ifndef SSE_EXAMPLES_WEB_H
#define SSE_EXAMPLES_WEB_H

#include <string.h>
#include "ssedge/sse.h"

/* Same definition as in the generated assets.c (scripts/embed.py). */
#ifndef SSE_ASSET_DEFINED
#define SSE_ASSET_DEFINED
struct sse_asset {
    const char *path;
    const char *content_type;
    const unsigned char *data;
    size_t len;
    const unsigned char *gz;
    size_t gz_len;
};
#endif

/* 1 if an Accept-Encoding value admits gzip: "gzip" (or "x-gzip") listed
 * with q > 0, or absent from the list and "*" with q > 0. */
static inline int web_accepts_gzip(sse_str_t ae)
{
    const char *p = ae.p, *end = ae.p + ae.n;
    int gzip_q = -1, star_q = -1;

    if (!ae.p)
        return 0;
    while (p < end) {
        const char *tok, *tok_end;
        int q = 1;
        sse_str_t t;
        while (p < end && (*p == ' ' || *p == '\t' || *p == ','))
            p++;
        tok = p;
        while (p < end && *p != ',' && *p != ';' && *p != ' ' && *p != '\t')
            p++;
        tok_end = p;
        /* parameters: only q matters; q=0, 0., 0.0, 0.00, 0.000 refuse */
        while (p < end && *p != ',') {
            const char *v;
            if (*p != ';') {
                p++;
                continue;
            }
            p++;
            while (p < end && (*p == ' ' || *p == '\t'))
                p++;
            if (end - p < 2 || (p[0] != 'q' && p[0] != 'Q') || p[1] != '=')
                continue;
            v = p + 2;
            if (v < end && *v == '0') {
                v++;
                if (v < end && *v == '.')
                    for (v++; v < end && *v == '0'; v++)
                        ;
                q = !(v == end || *v == ',' || *v == ';' || *v == ' ' || *v == '\t');
            }
            p = v;
        }
        t.p = tok;
        t.n = (size_t)(tok_end - tok);
        if (sse_str_ieq(t, "gzip") || sse_str_ieq(t, "x-gzip"))
            gzip_q = q;
        else if (t.n == 1 && tok[0] == '*')
            star_q = q;
    }
    return gzip_q >= 0 ? gzip_q : star_q > 0;
}

/* The asset at @p path ("/" is "/index.html"), or NULL. */
static inline const struct sse_asset *web_find(const struct sse_asset *assets, size_t n,
                                               sse_str_t path)
{
    size_t i;
    if (path.n == 1 && path.p[0] == '/') {
        path.p = "/index.html";
        path.n = strlen(path.p);
    }
    for (i = 0; i < n; i++)
        if (strlen(assets[i].path) == path.n && memcmp(assets[i].path, path.p, path.n) == 0)
            return &assets[i];
    return NULL;
}

/* Answer with @p a: gzip when accepted; Vary on both copies so a cache
 * never hands one to a client that should have had the other; no-cache so
 * a new binary shows its new page at once. */
static inline int web_reply(sse_conn_t *c, const sse_request_t *req, const struct sse_asset *a)
{
    if (a->gz && web_accepts_gzip(req->accept_encoding))
        return sse_reply(c, 200, a->content_type, "Content-Encoding: gzip\r\n"
                         "Vary: Accept-Encoding\r\nCache-Control: no-cache\r\n", a->gz, a->gz_len);
    return sse_reply(c, 200, a->content_type, a->gz ?
                     "Vary: Accept-Encoding\r\nCache-Control: no-cache\r\n" :
                     "Cache-Control: no-cache\r\n", a->data, a->len);
}

#endif /* SSE_EXAMPLES_WEB_H */
