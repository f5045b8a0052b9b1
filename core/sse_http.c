/* SPDX-License-Identifier: MIT */
/* HTTP/1.x request-head parser, header lookup, Accept negotiation, query lookup and reason phrases. */
#include <limits.h>
#include <stddef.h>
#include <string.h>
#include "ssedge/sse_http.h"

/* The parser is re-run over the whole buffer each time bytes arrive, so it
 * keeps no state between calls: every check below is a pure function of
 * buf[0..len). Each scan stops at len before dereferencing, so a prefix is
 * always safe to parse. */

static int is_digit(unsigned char c)
{
    return c >= '0' && c <= '9';
}

/* RFC 9110 5.6.2 tchar: what methods, header names and media types are made of. */
static int is_tchar(unsigned char c)
{
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || is_digit(c))
        return 1;
    switch (c) {
    case '!': case '#': case '$': case '%': case '&': case '\'': case '*':
    case '+': case '-': case '.': case '^': case '_': case '`': case '|':
    case '~':
        return 1;
    default:
        return 0;
    }
}

/* Visible ASCII: the only bytes an origin-form target may hold unencoded. */
static int is_vchar(unsigned char c)
{
    return c >= 0x21 && c <= 0x7E;
}

static int is_ows(unsigned char c)
{
    return c == ' ' || c == '\t';
}

/* Field values may carry HTAB and obs-text but no other control byte, since
 * CR, LF and NUL are what request-smuggling tricks are built from. */
static int is_bad_value_byte(unsigned char c)
{
    return (c < 0x20 && c != '\t') || c == 0x7F;
}

static unsigned char lower(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') ? (unsigned char)(c + ('a' - 'A')) : c;
}

/* 1 if p[0..n) equals z ignoring ASCII case. */
static int ieq(const char *p, size_t n, const char *z)
{
    size_t i;

    for (i = 0; i < n; i++) {
        if (z[i] == '\0' || lower((unsigned char)p[i]) != lower((unsigned char)z[i]))
            return 0;
    }
    return z[n] == '\0';
}

/* 1 if p[0..n) equals z byte for byte (query keys are not case-folded). */
static int eq_exact(const char *p, size_t n, const char *z)
{
    size_t i;

    for (i = 0; i < n; i++) {
        if (z[i] == '\0' || p[i] != z[i])
            return 0;
    }
    return z[n] == '\0';
}

int sse_str_ieq(sse_str_t s, const char *z)
{
    if (s.p == NULL || z == NULL)
        return 0;
    return ieq(s.p, s.n, z);
}

static int fail(sse_http_req_t *req, int err, int status)
{
    req->status = status;
    return err;
}

/*
 * Check the request line p[0..n) (terminator excluded). complete == 0 means
 * the line end has not arrived: then only errors that no further byte could
 * undo are reported, and SSE_ERR_INCOMPLETE otherwise. On success the
 * request-line fields of req are filled and 0 is returned.
 */
static int parse_request_line(const char *p, size_t n, int complete, sse_http_req_t *req)
{
    /* '#' stands for one DIGIT: RFC 9112 HTTP-version is exactly 8 bytes. */
    static const char version_pattern[] = "HTTP/#.#";
    size_t i = 0, m, t, tn, v, k;

    while (i < n && is_tchar((unsigned char)p[i]))
        i++;
    if (i == n && !complete)
        return fail(req, SSE_ERR_INCOMPLETE, 414);
    if (i == 0 || i == n || p[i] != ' ')
        return fail(req, SSE_ERR_INVALID, 400);
    m = i++;

    t = i;
    while (i < n && is_vchar((unsigned char)p[i]))
        i++;
    if (i == n) {
        if (!complete)
            return fail(req, SSE_ERR_INCOMPLETE, 414);
        /* "GET /path" with no version is HTTP/0.9, which we do not speak. */
        return fail(req, SSE_ERR_INVALID, i == t ? 400 : 505);
    }
    if (i == t || p[i] != ' ')
        return fail(req, SSE_ERR_INVALID, 400);
    tn = i - t;
    v = ++i;

    for (k = 0; v + k < n; k++) {
        unsigned char c = (unsigned char)p[v + k];
        char want = version_pattern[k];

        if (k == sizeof version_pattern - 1)
            return fail(req, SSE_ERR_INVALID, 400); /* junk after the version */
        if (want == '#' ? !is_digit(c) : c != (unsigned char)want)
            return fail(req, SSE_ERR_INVALID, 400);
    }
    if (!complete)
        return fail(req, SSE_ERR_INCOMPLETE, 414);
    if (n - v < sizeof version_pattern - 1)
        return fail(req, SSE_ERR_INVALID, 400);
    /* The version is judged before the target form so that HTTP/2's preface
     * "PRI * HTTP/2.0" gets 505, not the 400 its "*" target would earn. */
    if (p[v + 5] != '1' || (p[v + 7] != '0' && p[v + 7] != '1'))
        return fail(req, SSE_ERR_INVALID, 505);
    /* Only origin-form: absolute-form is for proxies, "*" for OPTIONS. */
    if (p[t] != '/')
        return fail(req, SSE_ERR_INVALID, 400);

    req->method.p = p;
    req->method.n = m;
    req->target.p = p + t;
    req->target.n = tn;
    req->path = req->target;
    for (k = 0; k < tn; k++) {
        if (p[t + k] == '?') {
            req->path.n = k;
            req->query.p = p + t + k + 1;
            req->query.n = tn - k - 1;
            break;
        }
    }
    req->minor_version = p[v + 7] - '0';
    return 0;
}

/* RFC 9110 8.6: 1*DIGIT only, so "+5", "-1", "1 2" and "" are all refused
 * (a lenient reading here is how request smuggling starts). */
static int parse_content_length(const char *p, size_t n, int64_t *out)
{
    int64_t v = 0;
    size_t i;

    if (n == 0)
        return -1;
    for (i = 0; i < n; i++) {
        int d;

        if (!is_digit((unsigned char)p[i]))
            return -1;
        d = p[i] - '0';
        if (v > (INT64_MAX - d) / 10)
            return -1;
        v = v * 10 + d;
    }
    *out = v;
    return 0;
}

/* req->chunked while the last Transfer-Encoding seen does not end in
 * chunked (never returned: the head is refused). */
#define TE_NOT_CHUNKED 2

/* Headers kept as they are, the last copy winning. */
static const struct { const char *name; size_t off; } kept[] = {
    { "accept", offsetof(sse_http_req_t, accept) },
    { "last-event-id", offsetof(sse_http_req_t, last_event_id) },
    { "connection", offsetof(sse_http_req_t, connection) },
    { "origin", offsetof(sse_http_req_t, origin) },
    { "authorization", offsetof(sse_http_req_t, authorization) },
    { "accept-encoding", offsetof(sse_http_req_t, accept_encoding) },
};

/* Store one header if ssedge uses it; reject the framing conflicts. */
static int keep_header(sse_http_req_t *req, const char *name, size_t nlen,
                       const char *val, size_t vlen)
{
    sse_str_t v;

    v.p = val;
    v.n = vlen;
    if (ieq(name, nlen, "content-length")) {
        /* A second copy, even equal, or one beside Transfer-Encoding makes
         * the body length ambiguous between us and any proxy in front. */
        if (req->content_length >= 0 || req->chunked)
            return fail(req, SSE_ERR_INVALID, 400);
        if (parse_content_length(val, vlen, &req->content_length) != 0)
            return fail(req, SSE_ERR_INVALID, 400);
    } else if (ieq(name, nlen, "transfer-encoding")) {
        /* RFC 9112 6.1: a request whose final coding is not chunked has
         * no knowable length (400). Lines add up, so a later line may
         * still end in chunked: decided at the end of the head. */
        size_t e = vlen, b;
        if (req->content_length >= 0)
            return fail(req, SSE_ERR_INVALID, 400);
        while (e > 0 && (is_ows((unsigned char)val[e - 1]) || val[e - 1] == ','))
            e--;
        for (b = e; b > 0 && val[b - 1] != ',' && !is_ows((unsigned char)val[b - 1]); b--)
            ;
        req->chunked = ieq(val + b, e - b, "chunked") ? 1 : TE_NOT_CHUNKED;
    } else if (ieq(name, nlen, "host")) {
        if (req->host.p != NULL) /* RFC 9112 3.2: more than one is a 400 */
            return fail(req, SSE_ERR_INVALID, 400);
        req->host = v;
    } else {
        size_t i;
        for (i = 0; i < sizeof kept / sizeof kept[0]; i++)
            if (ieq(name, nlen, kept[i].name)) {
                *(sse_str_t *)(void *)((char *)req + kept[i].off) = v;
                break;
            }
    }
    return 0;
}

/* buf[*pos] is CR or LF: step past "\r\n" or a bare "\n".
 * @return SSE_OK, SSE_ERR_INCOMPLETE (CR is the last byte so far) or
 *         SSE_ERR_INVALID (a bare CR, which smuggling relies on). */
static int skip_eol(const char *buf, size_t len, size_t *pos)
{
    if (buf[*pos] == '\r') {
        if (*pos + 1 == len)
            return SSE_ERR_INCOMPLETE;
        if (buf[*pos + 1] != '\n')
            return SSE_ERR_INVALID;
        (*pos)++;
    }
    (*pos)++;
    return SSE_OK;
}

int sse_http_parse(const char *buf, size_t len, sse_http_req_t *req,
                   size_t max_line, unsigned max_headers)
{
    static const sse_http_req_t empty_req = { .content_length = -1 };
    size_t lim, i, pos;
    int rc;

    if (req == NULL)
        return SSE_ERR_ARG;
    *req = empty_req;
    if (buf == NULL && len != 0)
        return fail(req, SSE_ERR_ARG, 500);

    /* Look for the request line's end only within max_line + 1 bytes: if
     * none is there the line is already too long, however much more comes.
     * len > max_line guarantees max_line + 1 does not wrap. */
    lim = len > max_line ? max_line + 1 : len;
    for (i = 0; i < lim && buf[i] != '\r' && buf[i] != '\n'; i++)
        ;
    if (i == lim) {
        if (len > max_line)
            return fail(req, SSE_ERR_TOO_LARGE, 414);
        return parse_request_line(buf, len, 0, req);
    }
    if (buf[i] == '\r') {
        if (i + 1 == len) /* the LF may still come */
            return parse_request_line(buf, i, 0, req);
        if (buf[i + 1] != '\n')
            return fail(req, SSE_ERR_INVALID, 400);
        pos = i + 2;
    } else {
        pos = i + 1; /* bare LF, tolerated by RFC 9112 2.2 */
    }
    rc = parse_request_line(buf, i, 1, req);
    if (rc != 0)
        return rc;

    /* Header lines, each "name:" OWS value OWS (CR)LF, up to an empty line. */
    for (;;) {
        size_t name, nlen, val, vend;
        unsigned char c;

        if (pos == len)
            return fail(req, SSE_ERR_INCOMPLETE, 431);
        c = (unsigned char)buf[pos];
        if (c == '\r' || c == '\n') {
            int r = skip_eol(buf, len, &pos);
            if (r != SSE_OK)
                return fail(req, r, r == SSE_ERR_INCOMPLETE ? 431 : 400);
            /* The result is an int: a head beyond INT_MAX cannot be reported. */
            if (pos > (size_t)INT_MAX)
                return fail(req, SSE_ERR_TOO_LARGE, 431);
            if (req->chunked == TE_NOT_CHUNKED)
                return fail(req, SSE_ERR_INVALID, 400);
            req->head.p = buf;
            req->head.n = pos;
            return (int)pos;
        }
        /* obs-fold (RFC 9112 5.2) is refused rather than unfolded. */
        if (is_ows(c))
            return fail(req, SSE_ERR_INVALID, 400);
        if (req->num_headers >= max_headers)
            return fail(req, SSE_ERR_TOO_LARGE, 431);

        name = pos;
        while (pos < len && is_tchar((unsigned char)buf[pos]))
            pos++;
        if (pos == len)
            return fail(req, SSE_ERR_INCOMPLETE, 431);
        /* Empty name, space before ':' or any other stray byte. */
        if (pos == name || buf[pos] != ':')
            return fail(req, SSE_ERR_INVALID, 400);
        nlen = pos - name;
        pos++;

        while (pos < len && is_ows((unsigned char)buf[pos]))
            pos++;
        val = pos;
        while (pos < len && buf[pos] != '\r' && buf[pos] != '\n') {
            if (is_bad_value_byte((unsigned char)buf[pos]))
                return fail(req, SSE_ERR_INVALID, 400);
            pos++;
        }
        if (pos == len)
            return fail(req, SSE_ERR_INCOMPLETE, 431);
        vend = pos;
        {
            int r = skip_eol(buf, len, &pos);
            if (r != SSE_OK)
                return fail(req, r, r == SSE_ERR_INCOMPLETE ? 431 : 400);
        }
        while (vend > val && is_ows((unsigned char)buf[vend - 1]))
            vend--;

        req->num_headers++;
        rc = keep_header(req, buf + name, nlen, buf + val, vend - val);
        if (rc != 0)
            return rc;
    }
}

/* RFC 9110 12.4.2 qvalue in thousandths, or -1 if malformed. */
static int parse_qvalue(const char *p, size_t n)
{
    int q, scale = 100;
    size_t i;

    if (n == 0 || (p[0] != '0' && p[0] != '1'))
        return -1;
    q = (p[0] - '0') * 1000;
    if (n == 1)
        return q;
    if (p[1] != '.' || n > 5)
        return -1;
    for (i = 2; i < n; i++) {
        if (!is_digit((unsigned char)p[i]))
            return -1;
        q += (p[i] - '0') * scale;
        scale /= 10;
    }
    return q > 1000 ? -1 : q; /* "1.5" has the right shape but is out of range */
}

static const char *skip_ows(const char *p, const char *end)
{
    while (p < end && is_ows((unsigned char)*p))
        p++;
    return p;
}

static const char *skip_token(const char *p, const char *end)
{
    while (p < end && is_tchar((unsigned char)*p))
        p++;
    return p;
}

/* Past a quoted-string starting at the '"' at p, or NULL if it is malformed. */
static const char *skip_quoted(const char *p, const char *end)
{
    for (p++; p < end; p++) {
        unsigned char c = (unsigned char)*p;

        if (c == '"')
            return p + 1;
        if (c == '\\') {
            if (++p == end)
                return NULL;
            c = (unsigned char)*p;
        }
        if (is_bad_value_byte(c))
            return NULL;
    }
    return NULL;
}

int sse_http_accept_q(sse_str_t acc, const char *type, const char *subtype,
                      int explicit_only)
{
    const char *p, *end;
    int best_rank = 0, best_q = 0;

    if (acc.p == NULL)
        return 1000; /* RFC 9110 12.5.1: no Accept means anything goes */
    if (type == NULL || subtype == NULL)
        return 0;
    p = acc.p;
    end = p + acc.n;

    for (;;) {
        const char *ts, *te, *ss, *se;
        int q = 1000, rank = 0;
        int any_type, any_sub;

        p = skip_ows(p, end);
        if (p == end)
            break;
        if (*p == ',') { /* empty list elements are legal and ignored */
            p++;
            continue;
        }

        ts = p;
        te = p = skip_token(p, end);
        if (te == ts || p == end || *p != '/')
            return 0;
        ss = ++p;
        se = p = skip_token(p, end);
        if (se == ss)
            return 0;
        any_type = te - ts == 1 && *ts == '*';
        any_sub = se - ss == 1 && *ss == '*';
        if (any_type && !any_sub) /* "* /html" is not a media range */
            return 0;

        /* Parameters: only q matters; the rest must merely be well-formed. */
        for (;;) {
            const char *ns, *ne, *vs;

            p = skip_ows(p, end);
            if (p == end || *p == ',')
                break;
            if (*p != ';')
                return 0;
            p = skip_ows(p + 1, end);
            ns = p;
            ne = p = skip_token(p, end);
            if (ne == ns || p == end || *p != '=')
                return 0;
            vs = ++p;
            if (p < end && *p == '"') {
                p = skip_quoted(p, end);
                if (p == NULL || ieq(ns, (size_t)(ne - ns), "q"))
                    return 0;
            } else {
                p = skip_token(p, end);
                if (p == vs)
                    return 0;
                if (ieq(ns, (size_t)(ne - ns), "q")) {
                    q = parse_qvalue(vs, (size_t)(p - vs));
                    if (q < 0)
                        return 0;
                }
            }
        }

        /* Specificity, not list order, decides which range speaks for us. */
        if (any_type) {
            rank = explicit_only ? 0 : 1;
        } else if (ieq(ts, (size_t)(te - ts), type)) {
            if (any_sub)
                rank = explicit_only ? 0 : 2;
            else if (ieq(ss, (size_t)(se - ss), subtype))
                rank = 3;
        }
        /* Equally specific duplicates: the most generous one wins. */
        if (rank > best_rank || (rank != 0 && rank == best_rank && q > best_q)) {
            best_rank = rank;
            best_q = q;
        }
        if (p < end)
            p++; /* the ',' */
    }
    return best_rank != 0 ? best_q : 0;
}

const char *sse_http_reason(int status)
{
    switch (status) {
    case 100: return "Continue";
    case 101: return "Switching Protocols";
    case 200: return "OK";
    case 201: return "Created";
    case 202: return "Accepted";
    case 204: return "No Content";
    case 206: return "Partial Content";
    case 301: return "Moved Permanently";
    case 302: return "Found";
    case 303: return "See Other";
    case 304: return "Not Modified";
    case 307: return "Temporary Redirect";
    case 308: return "Permanent Redirect";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 406: return "Not Acceptable";
    case 408: return "Request Timeout";
    case 409: return "Conflict";
    case 410: return "Gone";
    case 411: return "Length Required";
    case 412: return "Precondition Failed";
    case 413: return "Content Too Large";
    case 414: return "URI Too Long";
    case 415: return "Unsupported Media Type";
    case 416: return "Range Not Satisfiable";
    case 417: return "Expectation Failed";
    case 422: return "Unprocessable Content";
    case 426: return "Upgrade Required";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    case 505: return "HTTP Version Not Supported";
    default:  return "Unknown";
    }
}

int sse_http_query_get(sse_str_t query, const char *key, sse_str_t *val)
{
    const char *p, *end;

    if (query.p == NULL || key == NULL)
        return 0;
    p = query.p;
    end = p + query.n;
    while (p < end) {
        const char *s = p, *eq = NULL, *e;

        for (; p < end && *p != '&'; p++) {
            if (eq == NULL && *p == '=')
                eq = p;
        }
        e = p;
        if (p < end)
            p++; /* the '&' */
        if (e == s)
            continue; /* "a&&b": an empty pair names nothing */
        if (eq_exact(s, (size_t)((eq != NULL ? eq : e) - s), key)) {
            if (val != NULL) {
                /* "a" alone is key a with an empty (but present) value. */
                val->p = eq != NULL ? eq + 1 : e;
                val->n = (size_t)(e - val->p);
            }
            return 1;
        }
    }
    return 0;
}

int sse_http_header(const sse_http_req_t *req, const char *name, sse_str_t *value)
{
    size_t pos = 0, n, nl = name ? strlen(name) : 0;
    const char *p;
    if (!req || !req->head.p || !name || !value)
        return 0;
    p = req->head.p;
    n = req->head.n;
    /* The head parsed: lines end in LF, the request line comes first. */
    while (pos < n && p[pos] != '\n')
        pos++;
    pos++;
    while (pos < n && p[pos] != '\r' && p[pos] != '\n') {
        size_t line = pos, colon, v, e;
        while (pos < n && p[pos] != '\n')
            pos++;
        e = pos;
        pos++;
        for (colon = line; colon < e && p[colon] != ':'; colon++)
            ;
        if (colon - line != nl || !ieq(p + line, nl, name))
            continue;
        for (v = colon + 1; v < e && is_ows((unsigned char)p[v]); v++)
            ;
        while (e > v && (p[e - 1] == '\r' || is_ows((unsigned char)p[e - 1])))
            e--;
        value->p = p + v;
        value->n = e - v;
        return 1;
    }
    return 0;
}
