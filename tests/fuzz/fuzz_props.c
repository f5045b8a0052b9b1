/* SPDX-License-Identifier: MIT */
/* Properties of the HTTP parser and the SSE framer, checked per fuzz input. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "ssedge/sse_http.h"
#include "ssedge/sse_event.h"
#include "fuzz_props.h"
#include "../ref_text.h" /* the independent UTF-8 check and line joining */
#include "../enc_frames.h"

/* Every input is copied into a buffer of exactly its size, so ASan flags a
 * read one byte past it (the caller's buffer may be larger). */
static char *dup_exact(const uint8_t *d, size_t n)
{
    char *b = malloc(n ? n : 1);
    if (b && n)
        memcpy(b, d, n);
    return b;
}

/* ---- HTTP parser ------------------------------------------------------------- */

/* v is absent (NULL, 0) or lies inside [lo, hi). Compared as integers:
 * ordering unrelated pointers is undefined. */
static int view_in(sse_str_t v, const char *lo, const char *hi)
{
    uintptr_t p = (uintptr_t)v.p, l = (uintptr_t)lo, h = (uintptr_t)hi;
    if (!v.p)
        return v.n == 0;
    return p >= l && p <= h && v.n <= h - p;
}

/* A header value: inside the header lines, no line break, OWS trimmed. */
static int value_ok(sse_str_t v, const char *lo, const char *hi)
{
    if (!view_in(v, lo, hi))
        return 0;
    if (!v.p || v.n == 0)
        return 1;
    if (memchr(v.p, '\r', v.n) || memchr(v.p, '\n', v.n))
        return 0;
    return v.p[0] != ' ' && v.p[0] != '\t' && v.p[v.n - 1] != ' ' && v.p[v.n - 1] != '\t';
}

/* Same view relative to its own buffer. */
static int same_view(sse_str_t a, const char *abase, sse_str_t b, const char *bbase)
{
    if (!a.p || !b.p)
        return !a.p && !b.p && a.n == b.n;
    return a.p - abase == b.p - bbase && a.n == b.n;
}

static int same_req(const sse_http_req_t *a, const char *ab, const sse_http_req_t *b,
                    const char *bb)
{
    return same_view(a->method, ab, b->method, bb) && same_view(a->target, ab, b->target, bb) &&
           same_view(a->path, ab, b->path, bb) && same_view(a->query, ab, b->query, bb) &&
           same_view(a->accept, ab, b->accept, bb) &&
           same_view(a->last_event_id, ab, b->last_event_id, bb) &&
           same_view(a->host, ab, b->host, bb) && same_view(a->connection, ab, b->connection, bb) &&
           same_view(a->origin, ab, b->origin, bb) &&
           same_view(a->authorization, ab, b->authorization, bb) &&
           same_view(a->accept_encoding, ab, b->accept_encoding, bb) &&
           a->minor_version == b->minor_version && a->content_length == b->content_length &&
           a->chunked == b->chunked && a->num_headers == b->num_headers &&
           a->status == b->status;
}

static int is_error(int rc)
{
    return rc == SSE_ERR_INVALID || rc == SSE_ERR_TOO_LARGE;
}

/* The documented (rc, status) pairs. */
static const char *result_ok(int rc, int status, size_t n)
{
    if (rc > 0)
        return (size_t)rc <= n && status == 0 ? NULL : "http: bad length or status on success";
    if (rc == SSE_ERR_INCOMPLETE || rc == SSE_ERR_TOO_LARGE)
        return status == 414 || status == 431 ? NULL : "http: incomplete/too large without 414/431";
    if (rc == SSE_ERR_INVALID)
        return status == 400 || status == 505 ? NULL : "http: invalid without 400/505";
    return "http: unexpected return code";
}

/* A successful parse of b[0..rc): every view where it must be. */
static const char *success_ok(const char *b, int rc, const sse_http_req_t *rq)
{
    const char *end = b + rc, *line_end = memchr(b, '\n', (size_t)rc);
    size_t i, lines = 0;

    if (b[rc - 1] != '\n' || !line_end)
        return "http: head does not end with LF";
    if (rq->method.p != b || rq->method.n == 0 || rq->target.p != b + rq->method.n + 1 ||
        !view_in(rq->target, b, line_end) || rq->target.n == 0 || rq->target.p[0] != '/')
        return "http: method/target misplaced";
    for (i = 0; i < rq->method.n; i++)
        if ((unsigned char)b[i] <= ' ' || (unsigned char)b[i] >= 0x7F)
            return "http: method holds a control byte or space";
    for (i = 0; i < rq->target.n; i++)
        if ((unsigned char)rq->target.p[i] <= ' ' || (unsigned char)rq->target.p[i] >= 0x7F)
            return "http: target holds a control byte or space";
    if (rq->path.p != rq->target.p || rq->path.n > rq->target.n ||
        memchr(rq->path.p, '?', rq->path.n))
        return "http: path is not the target up to '?'";
    if (rq->query.p) {
        if (rq->query.p != rq->target.p + rq->path.n + 1 || rq->target.p[rq->path.n] != '?' ||
            rq->query.n != rq->target.n - rq->path.n - 1)
            return "http: query is not what follows the first '?'";
    } else if (rq->path.n != rq->target.n) {
        return "http: no query, yet the path is shorter than the target";
    }
    if (rq->minor_version != 0 && rq->minor_version != 1)
        return "http: minor version not 0/1";
    line_end++;
    if (!value_ok(rq->accept, line_end, end) || !value_ok(rq->last_event_id, line_end, end) ||
        !value_ok(rq->host, line_end, end) || !value_ok(rq->connection, line_end, end) ||
        !value_ok(rq->origin, line_end, end) || !value_ok(rq->authorization, line_end, end) ||
        !value_ok(rq->accept_encoding, line_end, end))
        return "http: header value outside the header lines or untrimmed";
    if (rq->content_length < -1 || (rq->chunked != 0 && rq->chunked != 1) ||
        (rq->chunked && rq->content_length >= 0))
        return "http: content-length/chunked inconsistent";
    if (rq->num_headers > FZ_MAX_HDRS)
        return "http: more headers than allowed";
    if (rq->head.p != b || rq->head.n != (size_t)rc)
        return "http: head is not the bytes parsed";
    {   /* The lookup finds what the parser kept, the same bytes. */
        sse_str_t v;
        if ((rq->host.p != NULL) != sse_http_header(rq, "Host", &v) ||
            (rq->host.p && (v.p != rq->host.p || v.n != rq->host.n)))
            return "http: sse_http_header(Host) differs from the parsed Host";
    }
    /* Request line + headers + blank line, each ending in LF (bare CR is refused). */
    for (i = 0; i < (size_t)rc; i++)
        lines += b[i] == '\n';
    if (lines != rq->num_headers + 2)
        return "http: header count differs from the line count";
    return NULL;
}

/* Accept and query helpers on any view: results inside their bounds. */
static const char *helpers_ok(sse_str_t v)
{
    sse_str_t val;
    int q = sse_http_accept_q(v, "text", "event-stream", 0);
    int e = sse_http_accept_q(v, "text", "event-stream", 1);

    if (q < 0 || q > 1000 || e < 0 || e > 1000)
        return "accept_q out of 0..1000";
    /* An exact range outranks every wildcard: both modes then agree. */
    if (e > 0 && q != e)
        return "accept_q: explicit match not the overall answer";
    if (sse_http_query_get(v, "ch", &val) &&
        (!val.p || !view_in(val, v.p, v.p + v.n)))
        return "query_get: value outside the query";
    return NULL;
}

/* Parse a copy of d[0..k) (only rc and status are kept). */
static int parse_copy(const uint8_t *d, size_t k, size_t line, unsigned hdrs, int *status,
                      sse_http_req_t *out, char **keep)
{
    sse_http_req_t rq;
    char *b = dup_exact(d, k);
    int rc;

    if (!b)
        abort();
    rc = sse_http_parse(b, k, &rq, line, hdrs);
    *status = rq.status;
    if (out) {
        *out = rq;
        *keep = b;
    } else {
        free(b);
    }
    return rc;
}

const char *fz_http_check(const uint8_t *d, size_t n)
{
    sse_http_req_t rq, pq;
    char *b = NULL, *pb = NULL;
    const char *why = NULL;
    int rc, st, prc, pst;
    size_t splits[4], i, small_line;
    unsigned small_hdrs;

    rc = parse_copy(d, n, FZ_MAX_LINE, FZ_MAX_HDRS, &st, &rq, &b);
    if ((why = result_ok(rc, st, n)) != NULL)
        goto out;
    if (rc > 0 && (why = success_ok(b, rc, &rq)) != NULL)
        goto out;
    if (rc > 0 && ((why = helpers_ok(rq.accept)) != NULL || (why = helpers_ok(rq.query)) != NULL))
        goto out;
    {
        sse_str_t raw;
        raw.p = b;
        raw.n = n;
        if ((why = helpers_ok(raw)) != NULL)
            goto out;
    }

    /* The server re-parses the whole buffer as bytes arrive: a prefix must
     * never contradict the full input. */
    splits[0] = n / 2;
    splits[1] = n ? n - 1 : 0;
    splits[2] = n ? (d[0] * 131u + d[n - 1]) % n : 0;
    splits[3] = rc > 0 ? (size_t)rc - 1 : n / 3;
    for (i = 0; i < 4; i++) {
        size_t k = splits[i];
        prc = parse_copy(d, k, FZ_MAX_LINE, FZ_MAX_HDRS, &pst, NULL, NULL);
        if ((why = result_ok(prc, pst, k)) != NULL)
            goto out;
        if (prc > 0 && prc != rc) {
            why = "http: a prefix parsed complete, the whole input differently";
            goto out;
        }
        if (is_error(prc) && !is_error(rc)) {
            why = "http: a prefix failed, the whole input did not";
            goto out;
        }
        if (rc > 0 && k < (size_t)rc && prc != SSE_ERR_INCOMPLETE) {
            why = "http: a prefix of a complete head was not INCOMPLETE";
            goto out;
        }
        if (rc == SSE_ERR_INCOMPLETE && prc != SSE_ERR_INCOMPLETE) {
            why = "http: incomplete input with a prefix that is not";
            goto out;
        }
    }
    /* The head alone, cut from the rest, parses to the very same request. */
    if (rc > 0) {
        prc = parse_copy(d, (size_t)rc, FZ_MAX_LINE, FZ_MAX_HDRS, &pst, &pq, &pb);
        if (prc != rc || !same_req(&rq, b, &pq, pb)) {
            why = "http: the head alone parses differently";
            goto out;
        }
    }

    /* Tighter limits can only turn an answer into 414/431, never change it. */
    small_line = 1 + (n * 31u + (n ? d[n - 1] : 0)) % FZ_MAX_LINE;
    small_hdrs = (n ? d[0] : 0) % (FZ_MAX_HDRS + 1);
    prc = parse_copy(d, n, small_line, small_hdrs, &pst, NULL, NULL);
    if ((why = result_ok(prc, pst, n)) != NULL)
        goto out;
    if ((prc > 0 && prc != rc) || (prc == SSE_ERR_INCOMPLETE && rc != SSE_ERR_INCOMPLETE) ||
        (prc == SSE_ERR_INVALID && (rc != SSE_ERR_INVALID || pst != st)))
        why = "http: tighter limits changed the answer beyond 414/431";
out:
    free(b);
    free(pb);
    return why;
}

/* ---- SSE framer ---------------------------------------------------------------- */

static int has_crlf(const char *s)
{
    return strchr(s, '\r') != NULL || strchr(s, '\n') != NULL;
}

/* Lines of o[0..len) under one prefix, joined by LF, must equal want;
 * the frame ends with one blank line. */
static const char *lines_are(const char *o, size_t len, const char *pfx, const char *want,
                             size_t want_len)
{
    size_t pl = strlen(pfx), pos = 0, w = 0;
    int first = 1;

    while (pos < len) {
        const char *nl = memchr(o + pos, '\n', len - pos);
        size_t ll;
        if (!nl)
            return "frame: last line has no LF";
        ll = (size_t)(nl - (o + pos));
        if (ll == 0)
            return pos + 1 == len && !first ? (w == want_len ? NULL : "frame: lines lost data")
                                            : "frame: blank line before the end";
        if (ll < pl || memcmp(o + pos, pfx, pl) != 0)
            return "frame: line without its prefix";
        if (!first) {
            if (w >= want_len || want[w] != '\n')
                return "frame: line break where the data has none";
            w++;
        }
        if (ll - pl > want_len - w || memcmp(o + pos + pl, want + w, ll - pl) != 0)
            return "frame: line differs from the data";
        w += ll - pl;
        first = 0;
        pos += ll + 1;
    }
    return "frame: no blank line at the end";
}

/* Read back an encoded event: header lines in order, then data lines. */
static const char *event_reads_back(const char *o, size_t len, const sse_event_t *ev,
                                    const char *norm, size_t norm_len)
{
    char num[32];
    size_t pos = 0;

    if (memchr(o, '\r', len))
        return "event: output holds a CR";
    if (len < 2 || o[len - 1] != '\n' || o[len - 2] != '\n')
        return "event: frame does not end with a blank line";
    if (ev->event) {
        size_t nl = strlen(ev->event);
        if (len - pos < 8 + nl || memcmp(o + pos, "event: ", 7) != 0 ||
            memcmp(o + pos + 7, ev->event, nl) != 0 || o[pos + 7 + nl] != '\n')
            return "event: event line wrong";
        pos += 8 + nl;
    }
    if (ev->id || ev->has_id_num) {
        const char *id = ev->id;
        size_t il;
        if (!id) {
            snprintf(num, sizeof num, "%llu", (unsigned long long)ev->id_num);
            id = num;
        }
        il = strlen(id);
        if (len - pos < 5 + il || memcmp(o + pos, "id: ", 4) != 0 ||
            memcmp(o + pos + 4, id, il) != 0 || o[pos + 4 + il] != '\n')
            return "event: id line wrong";
        pos += 5 + il;
    }
    if (ev->has_retry) {
        size_t rl = (size_t)snprintf(num, sizeof num, "%lu", (unsigned long)ev->retry_ms);
        if (len - pos < 8 + rl || memcmp(o + pos, "retry: ", 7) != 0 ||
            memcmp(o + pos + 7, num, rl) != 0 || o[pos + 7 + rl] != '\n')
            return "event: retry line wrong";
        pos += 8 + rl;
    }
    if (!ev->data)
        return pos + 1 == len ? NULL : "event: bytes after the fields of a data-less event";
    return lines_are(o + pos, len - pos, "data: ", norm, norm_len);
}

/* Size query, exact buffer, one byte short: the contract of sse_event.h.
 * On success *out holds the frame (caller frees). */
static const char *encode_exact(enc_fn fn, const void *arg, int want_ok, char **out,
                                size_t *out_len)
{
    size_t need = 0, need2 = 0;
    char *buf, *shortb;
    int rc;

    *out = NULL;
    rc = fn(NULL, 0, arg, &need);
    if (!want_ok)
        return rc == SSE_ERR_INVALID ? NULL : "frame: invalid input not refused";
    if (rc != SSE_ERR_TOO_LARGE || need < 2)
        return "frame: size query did not report TOO_LARGE with a size";
    if (fn(NULL, 1, arg, NULL) != SSE_ERR_ARG)
        return "frame: NULL buffer with cap > 0 not refused";
    buf = malloc(need);
    shortb = malloc(need - 1);
    if (!buf || !shortb)
        abort();
    rc = fn(buf, need, arg, &need2);
    if (rc < 0 || (size_t)rc != need || need2 != need) {
        free(buf);
        free(shortb);
        return "frame: exact-size buffer not filled exactly";
    }
    need2 = 0;
    rc = fn(shortb, need - 1, arg, &need2);
    free(shortb);
    if (rc != SSE_ERR_TOO_LARGE || need2 != need) {
        free(buf);
        return "frame: one byte short not refused with the size";
    }
    *out = buf;
    *out_len = need;
    return NULL;
}

/* Input layout: [flags][name len][id len][id_num: 8 LE][retry: 4 LE]
 * [name][id][data...]; missing bytes count as 0. flags: 1 event, 2 id text,
 * 4 numeric id, 8 retry, 16 data. Names and ids end at their first NUL. */
#define FZ_EV_HDR 15u

static uint8_t byte_at(const uint8_t *d, size_t n, size_t i)
{
    return i < n ? d[i] : 0;
}

static char *cstr_at(const uint8_t *d, size_t n, size_t off, size_t len)
{
    size_t have = off < n ? (n - off < len ? n - off : len) : 0;
    char *s = malloc(have + 1);
    if (!s)
        abort();
    if (have)
        memcpy(s, d + off, have);
    s[have] = 0;
    return s;
}

const char *fz_event_check(const uint8_t *d, size_t n)
{
    uint8_t flags = byte_at(d, n, 0);
    size_t nlen = byte_at(d, n, 1), ilen = byte_at(d, n, 2), doff, dlen, norm_len, i;
    uint64_t idn = 0;
    uint32_t retry = 0;
    char *name = cstr_at(d, n, FZ_EV_HDR, nlen);
    char *id = cstr_at(d, n, FZ_EV_HDR + nlen, ilen);
    char *data, *norm, *out = NULL, *text;
    const char *why = NULL;
    size_t out_len = 0;
    sse_event_t ev;
    int valid;

    for (i = 0; i < 8; i++)
        idn |= (uint64_t)byte_at(d, n, 3 + i) << (8 * i);
    for (i = 0; i < 4; i++)
        retry |= (uint32_t)byte_at(d, n, 11 + i) << (8 * i);
    doff = FZ_EV_HDR + nlen + ilen;
    dlen = doff < n ? n - doff : 0;
    data = dup_exact(doff < n ? d + doff : d, dlen);
    norm = malloc(dlen + 1);
    if (!data || !norm)
        abort();
    norm_len = ref_normalize(data, dlen, norm);

    memset(&ev, 0, sizeof ev);
    ev.event = flags & 1 ? name : NULL;
    ev.id = flags & 2 ? id : NULL;
    ev.has_id_num = !!(flags & 4);
    ev.id_num = idn;
    ev.has_retry = !!(flags & 8);
    ev.retry_ms = retry;
    ev.data = flags & 16 ? data : NULL;
    ev.data_len = dlen;

    if (sse_utf8_valid(data, dlen) != ref_utf8_valid((const unsigned char *)data, dlen) ||
        sse_utf8_valid(name, strlen(name)) != ref_utf8_valid((const unsigned char *)name, strlen(name))) {
        why = "utf8: library and reference disagree";
        goto out;
    }
    if (sse_event_encode(NULL, 0, NULL, NULL) != SSE_ERR_ARG) {
        why = "event: NULL event not refused";
        goto out;
    }

    /* What sse_event.h promises to refuse, worked out independently. */
    valid = (ev.event || ev.id || ev.has_id_num || ev.has_retry || ev.data) &&
            !(ev.id && ev.has_id_num);
    if (ev.event && (!ev.event[0] || has_crlf(ev.event) ||
                     !ref_utf8_valid((const unsigned char *)ev.event, strlen(ev.event))))
        valid = 0;
    if (ev.id && (has_crlf(ev.id) || !ref_utf8_valid((const unsigned char *)ev.id, strlen(ev.id))))
        valid = 0;
    if (ev.data && !ref_utf8_valid((const unsigned char *)data, dlen))
        valid = 0;
    if ((why = encode_exact(enc_event, &ev, valid, &out, &out_len)) != NULL)
        goto out;
    if (out && (why = event_reads_back(out, out_len, &ev, norm, norm_len)) != NULL)
        goto out;
    free(out);
    out = NULL;

    /* The data bytes as a comment (up to the first NUL, no UTF-8 rule). */
    text = cstr_at(d, n, doff, dlen);
    why = encode_exact(enc_comment, text, 1, &out, &out_len);
    if (!why) {
        size_t tl = strlen(text);
        if (tl == 0) {
            if (out_len != 3 || memcmp(out, ":\n\n", 3) != 0)
                why = "comment: empty text not \":\\n\\n\"";
        } else {
            tl = ref_normalize(text, tl, norm);
            why = memchr(out, '\r', out_len) ? "comment: output holds a CR"
                                              : lines_are(out, out_len, ": ", norm, tl);
        }
    }
    free(text);
    free(out);
    out = NULL;
    if (why)
        goto out;

    if ((why = encode_exact(enc_retry, &retry, 1, &out, &out_len)) == NULL) {
        char want[32];
        int wl = snprintf(want, sizeof want, "retry: %lu\n\n", (unsigned long)retry);
        if ((size_t)wl != out_len || memcmp(out, want, out_len) != 0)
            why = "retry: frame wrong";
    }
out:
    free(out);
    free(name);
    free(id);
    free(data);
    free(norm);
    return why;
}
