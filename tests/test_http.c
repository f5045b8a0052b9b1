/* SPDX-License-Identifier: MIT */
/* Suite "http": sse_http.c, picohttpparser-style (tables, every prefix, byte
 * by byte), with each input placed right before a PROT_NONE page. */
#define _POSIX_C_SOURCE 200809L
#define _DEFAULT_SOURCE
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <CUnit/CUnit.h>
#include "tests.h"
#include "ssedge/sse_http.h"

#define MAX_LINE 1024u
#define MAX_HDRS 32u
#define DATA_PAGES 4u

/* Writable pages followed by one PROT_NONE guard page: an input copied so it
 * ends at the guard makes any read past its end fault. */
static char  *g_map;
static size_t g_map_len;
static char  *g_guard;

static int suite_init(void)
{
    long page = sysconf(_SC_PAGESIZE);
    void *m;

    if (page <= 0)
        return -1;
    g_map_len = (size_t)page * (DATA_PAGES + 1);
    m = mmap(NULL, g_map_len, PROT_READ | PROT_WRITE,
             MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED)
        return -1;
    g_map = m;
    g_guard = g_map + (size_t)page * DATA_PAGES;
    if (mprotect(g_guard, (size_t)page, PROT_NONE) != 0) {
        munmap(g_map, g_map_len);
        g_map = NULL;
        return -1;
    }
    return 0;
}

static int suite_clean(void)
{
    if (g_map != NULL)
        munmap(g_map, g_map_len);
    g_map = NULL;
    return 0;
}

static size_t guard_cap(void)
{
    return (size_t)(g_guard - g_map);
}

/* Copy n bytes so that they end exactly at the guard page. */
static const char *place(const char *s, size_t n)
{
    CU_ASSERT_FATAL(n <= guard_cap());
    if (n != 0)
        memcpy(g_guard - n, s, n);
    return g_guard - n;
}

static int parse_lim(const char *s, size_t n, sse_http_req_t *req,
                     size_t max_line, unsigned max_hdrs)
{
    return sse_http_parse(place(s, n), n, req, max_line, max_hdrs);
}

static int parse(const char *s, sse_http_req_t *req)
{
    return parse_lim(s, strlen(s), req, MAX_LINE, MAX_HDRS);
}

/* 1 if the view holds exactly z (case-sensitive). */
static int view_is(sse_str_t v, const char *z)
{
    return v.p != NULL && v.n == strlen(z) && memcmp(v.p, z, v.n) == 0;
}

/* A view of s[0..n) copied against the guard page (no NUL after it). */
static sse_str_t placed(const char *s, size_t n)
{
    sse_str_t v;

    v.p = place(s, n);
    v.n = n;
    return v;
}

/* Assert with a per-row message so a failing table row names itself. */
static char g_msg[512];
#define CHECK_ROW(cond, ...)                                                 \
    do {                                                                     \
        snprintf(g_msg, sizeof g_msg, __VA_ARGS__);                          \
        CU_assertImplementation((cond) ? CU_TRUE : CU_FALSE, __LINE__,       \
                                g_msg, __FILE__, "", CU_FALSE);              \
    } while (0)

/* ---- valid requests ------------------------------------------------------ */

/* Valid heads, used whole, by every strict prefix and byte by byte. */
static const char *const valid_reqs[] = {
    "GET / HTTP/1.1\r\n\r\n",
    "GET /events HTTP/1.1\r\nHost: example.com\r\n\r\n",
    "GET /events?ch=a&x HTTP/1.0\r\n"
    "Host: dev.local:8080\r\n"
    "Accept: text/event-stream\r\n"
    "Last-Event-ID: 42\r\n"
    "Connection: keep-alive\r\n"
    "Origin: http://example.com\r\n"
    "Authorization: Bearer abc.def\r\n"
    "User-Agent: test/1.0\r\n"
    "\r\n",
    "POST /up HTTP/1.1\nhost: h\ncontent-length: 5\n\n",
    "GET /x HTTP/1.1\r\nX-Empty:\r\nX-Tab:\tv\t\r\nX-Obs: caf\xc3\xa9\r\n\r\n",
    "PUT /a HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n",
};
#define NVALID (sizeof valid_reqs / sizeof valid_reqs[0])

static void test_http_simple_get(void)
{
    static const char r[] = "GET /events HTTP/1.1\r\nHost: example.com\r\n\r\n";
    sse_http_req_t req;

    CU_ASSERT_EQUAL(parse(r, &req), (int)strlen(r));
    CU_ASSERT(view_is(req.method, "GET"));
    CU_ASSERT(view_is(req.target, "/events"));
    CU_ASSERT(view_is(req.path, "/events"));
    CU_ASSERT_PTR_NULL(req.query.p);
    CU_ASSERT_EQUAL(req.minor_version, 1);
    CU_ASSERT(view_is(req.host, "example.com"));
    CU_ASSERT_PTR_NULL(req.accept.p);
    CU_ASSERT_PTR_NULL(req.last_event_id.p);
    CU_ASSERT_PTR_NULL(req.connection.p);
    CU_ASSERT_PTR_NULL(req.origin.p);
    CU_ASSERT_PTR_NULL(req.authorization.p);
    CU_ASSERT_EQUAL(req.content_length, -1);
    CU_ASSERT_EQUAL(req.chunked, 0);
    CU_ASSERT_EQUAL(req.num_headers, 1);
    CU_ASSERT_EQUAL(req.status, 0);
}

static void test_http_minimal_and_http10(void)
{
    sse_http_req_t req;

    CU_ASSERT_EQUAL(parse("GET / HTTP/1.1\r\n\r\n", &req), 18);
    CU_ASSERT(view_is(req.method, "GET"));
    CU_ASSERT(view_is(req.path, "/"));
    CU_ASSERT_EQUAL(req.num_headers, 0);
    CU_ASSERT_PTR_NULL(req.host.p);

    CU_ASSERT_EQUAL(parse("HEAD /a HTTP/1.0\r\n\r\n", &req), 20);
    CU_ASSERT(view_is(req.method, "HEAD"));
    CU_ASSERT_EQUAL(req.minor_version, 0);

    /* Any token is a method; the parser does not judge which are allowed. */
    CU_ASSERT_EQUAL(parse("M-SEARCH! /a HTTP/1.1\r\n\r\n", &req), 25);
    CU_ASSERT(view_is(req.method, "M-SEARCH!"));
}

static void test_http_kept_headers(void)
{
    sse_http_req_t req;
    const char *r = valid_reqs[2];

    CU_ASSERT_EQUAL(parse(r, &req), (int)strlen(r));
    CU_ASSERT(view_is(req.method, "GET"));
    CU_ASSERT(view_is(req.target, "/events?ch=a&x"));
    CU_ASSERT_EQUAL(req.minor_version, 0);
    CU_ASSERT(view_is(req.host, "dev.local:8080"));
    CU_ASSERT(view_is(req.accept, "text/event-stream"));
    CU_ASSERT(view_is(req.last_event_id, "42"));
    CU_ASSERT(view_is(req.connection, "keep-alive"));
    CU_ASSERT(view_is(req.origin, "http://example.com"));
    CU_ASSERT(view_is(req.authorization, "Bearer abc.def"));
    CU_ASSERT_EQUAL(req.num_headers, 7);
    CU_ASSERT_EQUAL(req.content_length, -1);
    CU_ASSERT_EQUAL(req.chunked, 0);
}

static void test_http_header_names_case_insensitive(void)
{
    static const char r[] =
        "GET / HTTP/1.1\r\n"
        "hOST: h\r\n"
        "aCCePT: a/b\r\n"
        "LAST-EVENT-ID: 7\r\n"
        "connection: close\r\n"
        "ORIGIN: o\r\n"
        "authorization: x\r\n"
        "CONTENT-length: 3\r\n"
        "Accept-ENCODING:  gzip, br \r\n"
        "\r\n";
    sse_http_req_t req;

    CU_ASSERT_EQUAL(parse(r, &req), (int)strlen(r));
    CU_ASSERT(view_is(req.accept_encoding, "gzip, br"));
    CU_ASSERT(view_is(req.host, "h"));
    CU_ASSERT(view_is(req.accept, "a/b"));
    CU_ASSERT(view_is(req.last_event_id, "7"));
    CU_ASSERT(view_is(req.connection, "close"));
    CU_ASSERT(view_is(req.origin, "o"));
    CU_ASSERT(view_is(req.authorization, "x"));
    CU_ASSERT_EQUAL(req.content_length, 3);
    CU_ASSERT_EQUAL(req.num_headers, 8);
}

static void test_http_value_ows_trimmed(void)
{
    static const char r[] =
        "GET / HTTP/1.1\r\n"
        "Host:h\r\n"
        "Accept: \t text/event-stream , */* \t \r\n"
        "Last-Event-ID:\r\n"
        "Origin: a b\tc \r\n"
        "X-Empty:   \r\n"
        "\r\n";
    sse_http_req_t req;

    CU_ASSERT_EQUAL(parse(r, &req), (int)strlen(r));
    CU_ASSERT(view_is(req.host, "h"));
    CU_ASSERT(view_is(req.accept, "text/event-stream , */*"));
    /* Present but empty: p is set, n is 0. */
    CU_ASSERT_PTR_NOT_NULL(req.last_event_id.p);
    CU_ASSERT_EQUAL(req.last_event_id.n, 0);
    CU_ASSERT(view_is(req.origin, "a b\tc"));
    CU_ASSERT_EQUAL(req.num_headers, 5);
}

static void test_http_repeated_header_last_wins(void)
{
    static const char r[] =
        "GET / HTTP/1.1\r\nAccept: a/a\r\nAccept: b/b\r\n\r\n";
    sse_http_req_t req;

    CU_ASSERT_EQUAL(parse(r, &req), (int)strlen(r));
    CU_ASSERT(view_is(req.accept, "b/b"));
    CU_ASSERT_EQUAL(req.num_headers, 2);
}

static void test_http_bare_lf(void)
{
    static const char r1[] = "GET /a HTTP/1.1\nHost: h\nAccept: x/y\n\n";
    static const char r2[] = "GET /a HTTP/1.1\r\nHost: h\nAccept: x/y\r\n\n";
    static const char r3[] = "GET /a HTTP/1.1\nHost: h\r\n\r\n";
    sse_http_req_t req;

    CU_ASSERT_EQUAL(parse(r1, &req), (int)strlen(r1));
    CU_ASSERT(view_is(req.host, "h"));
    CU_ASSERT(view_is(req.accept, "x/y"));
    CU_ASSERT(view_is(req.target, "/a"));
    CU_ASSERT_EQUAL(parse(r2, &req), (int)strlen(r2));
    CU_ASSERT(view_is(req.accept, "x/y"));
    CU_ASSERT_EQUAL(parse(r3, &req), (int)strlen(r3));
    CU_ASSERT(view_is(req.host, "h"));
}

static void test_http_obs_text_and_tab_in_value(void)
{
    sse_http_req_t req;
    const char *r = valid_reqs[4];

    CU_ASSERT_EQUAL(parse(r, &req), (int)strlen(r));
    CU_ASSERT_EQUAL(req.num_headers, 3);
}

static void test_http_query_split(void)
{
    sse_http_req_t req;

    CU_ASSERT(parse("GET /ev?ch=a&b=2 HTTP/1.1\r\n\r\n", &req) > 0);
    CU_ASSERT(view_is(req.target, "/ev?ch=a&b=2"));
    CU_ASSERT(view_is(req.path, "/ev"));
    CU_ASSERT(view_is(req.query, "ch=a&b=2"));

    CU_ASSERT(parse("GET /ev? HTTP/1.1\r\n\r\n", &req) > 0);
    CU_ASSERT(view_is(req.path, "/ev"));
    CU_ASSERT_PTR_NOT_NULL(req.query.p);
    CU_ASSERT_EQUAL(req.query.n, 0);

    /* Split at the first '?' only. */
    CU_ASSERT(parse("GET /a?b?c HTTP/1.1\r\n\r\n", &req) > 0);
    CU_ASSERT(view_is(req.path, "/a"));
    CU_ASSERT(view_is(req.query, "b?c"));

    CU_ASSERT(parse("GET /a/b%20c HTTP/1.1\r\n\r\n", &req) > 0);
    CU_ASSERT(view_is(req.path, "/a/b%20c"));
    CU_ASSERT_PTR_NULL(req.query.p);
}

static void test_http_content_length(void)
{
    static const struct {
        const char *value;
        int rc;            /* 0: accepted, else SSE_ERR_INVALID */
        long long expect;
    } cases[] = {
        { "0", 0, 0 },
        { "5", 0, 5 },
        { "  12  ", 0, 12 },
        { "007", 0, 7 },
        { "9223372036854775807", 0, 9223372036854775807LL },
        { "9223372036854775808", SSE_ERR_INVALID, 0 },
        { "99999999999999999999", SSE_ERR_INVALID, 0 },
        { "", SSE_ERR_INVALID, 0 },
        { "+5", SSE_ERR_INVALID, 0 },
        { "-1", SSE_ERR_INVALID, 0 },
        { "1 2", SSE_ERR_INVALID, 0 },
        { "1,1", SSE_ERR_INVALID, 0 },
        { "0x10", SSE_ERR_INVALID, 0 },
        { "12a", SSE_ERR_INVALID, 0 },
    };
    char buf[256];
    sse_http_req_t req;
    size_t i;

    for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int n = snprintf(buf, sizeof buf,
                         "POST / HTTP/1.1\r\nContent-Length: %s\r\n\r\n",
                         cases[i].value);
        int rc = parse(buf, &req);

        if (cases[i].rc == 0) {
            CHECK_ROW(rc == n, "Content-Length \"%s\": rc %d", cases[i].value, rc);
            CHECK_ROW(req.content_length == cases[i].expect,
                      "Content-Length \"%s\": got %lld", cases[i].value,
                      (long long)req.content_length);
        } else {
            CHECK_ROW(rc == cases[i].rc && req.status == 400,
                      "Content-Length \"%s\": rc %d status %d", cases[i].value,
                      rc, req.status);
        }
    }
}

static void test_http_transfer_encoding(void)
{
    sse_http_req_t req;
    const char *r = valid_reqs[5];

    CU_ASSERT_EQUAL(parse(r, &req), (int)strlen(r));
    CU_ASSERT_EQUAL(req.chunked, 1);
    CU_ASSERT_EQUAL(req.content_length, -1);
}

/* Any header by name, whether ssedge keeps it or not. */
static void test_http_header_lookup(void)
{
    static const char r[] = "GET /x HTTP/1.1\r\nHost: h\r\ncookie:  a=1; b=2 \r\n"
                            "X-Api-Key: k3y\r\nIf-None-Match: \"v1\"\nX-Empty:\r\n"
                            "X-Api-Key: second\r\n\r\nbody";
    sse_http_req_t req;
    sse_str_t v;

    CU_ASSERT_EQUAL(parse(r, &req), (int)strlen(r) - 4);
    CU_ASSERT_EQUAL(req.head.n, strlen(r) - 4);
    CU_ASSERT(sse_http_header(&req, "Cookie", &v) && v.n == 8 && memcmp(v.p, "a=1; b=2", 8) == 0);
    CU_ASSERT(sse_http_header(&req, "x-api-key", &v) && v.n == 3 && memcmp(v.p, "k3y", 3) == 0);
    CU_ASSERT(sse_http_header(&req, "IF-NONE-MATCH", &v) && v.n == 4 && memcmp(v.p, "\"v1\"", 4) == 0);
    CU_ASSERT(sse_http_header(&req, "X-Empty", &v) && v.n == 0);
    CU_ASSERT(sse_http_header(&req, "Host", &v) && v.n == 1 && v.p[0] == 'h');
    CU_ASSERT_FALSE(sse_http_header(&req, "X-Api", &v));
    CU_ASSERT_FALSE(sse_http_header(&req, "body", &v));
    CU_ASSERT_FALSE(sse_http_header(&req, "GET /x HTTP/1.1", &v));
    CU_ASSERT_FALSE(sse_http_header(NULL, "Host", &v));
    /* After a failed parse there is no head to look in. */
    CU_ASSERT(parse("GET / HTTP/1.1\r\nX: a\rb\r\n\r\n", &req) < 0);
    CU_ASSERT_FALSE(sse_http_header(&req, "X", &v));
}

static void test_http_reset_on_entry(void)
{
    sse_http_req_t req;

    memset(&req, 0x5A, sizeof req);
    CU_ASSERT(parse("GET / HTTP/1.1\r\n\r\n", &req) > 0);
    CU_ASSERT_EQUAL(req.content_length, -1);
    CU_ASSERT_EQUAL(req.chunked, 0);
    CU_ASSERT_EQUAL(req.status, 0);
    CU_ASSERT_EQUAL(req.num_headers, 0);
    CU_ASSERT_PTR_NULL(req.query.p);
    CU_ASSERT_PTR_NULL(req.accept.p);
    CU_ASSERT_PTR_NULL(req.last_event_id.p);
    CU_ASSERT_PTR_NULL(req.host.p);
    CU_ASSERT_PTR_NULL(req.connection.p);
    CU_ASSERT_PTR_NULL(req.origin.p);
    CU_ASSERT_PTR_NULL(req.authorization.p);

    /* A failing parse leaves no pointer from an earlier request behind. */
    CU_ASSERT(parse("GET /?q HTTP/1.1\r\nHost: h\r\n\r\n", &req) > 0);
    CU_ASSERT_EQUAL(parse("GET /", &req), SSE_ERR_INCOMPLETE);
    CU_ASSERT_PTR_NULL(req.method.p);
    CU_ASSERT_PTR_NULL(req.query.p);
    CU_ASSERT_PTR_NULL(req.host.p);
    CU_ASSERT_EQUAL(req.content_length, -1);
}

/* ---- the table: whole inputs and the answer expected -------------------- */

struct vec {
    const char *in;
    size_t      len;      /* 0: strlen(in) */
    int         rc;       /* > 0: expect strlen; else the error code */
    int         status;   /* req.status expected */
    const char *what;
};
#define OK(s, w)              { s, 0, 1, 0, w }
#define BAD(s, st, w)         { s, 0, SSE_ERR_INVALID, st, w }
#define BADN(s, n, st, w)     { s, n, SSE_ERR_INVALID, st, w }
#define PART(s, st, w)        { s, 0, SSE_ERR_INCOMPLETE, st, w }

static const struct vec table[] = {
    OK("GET / HTTP/1.1\r\n\r\n", "simple"),
    OK("GET / HTTP/1.0\n\n", "bare LF"),
    OK("OPTIONS /a HTTP/1.1\r\n\r\n", "OPTIONS origin-form"),
    OK("GET /~a!$&'()*+,;=:@-._ HTTP/1.1\r\n\r\n", "target punctuation"),
    PART("", 414, "empty buffer"),
    PART("GET / HTTP/1.1\r\n", 431, "headers not ended"),

    /* request line */
    BAD("\r\n\r\n", 400, "empty request line"),
    BAD("\r\nGET / HTTP/1.1\r\n\r\n", 400, "leading empty line"),
    BAD(" GET / HTTP/1.1\r\n\r\n", 400, "leading space"),
    BAD("GET  / HTTP/1.1\r\n\r\n", 400, "two spaces after method"),
    BAD("GET /  HTTP/1.1\r\n\r\n", 400, "two spaces after target"),
    BAD("GET / HTTP/1.1 \r\n\r\n", 400, "space after version"),
    BAD("GET\t/ HTTP/1.1\r\n\r\n", 400, "tab separator"),
    BAD("G(T / HTTP/1.1\r\n\r\n", 400, "non-token method"),
    BAD("GET\r\n\r\n", 400, "method alone"),
    BAD("GET \r\n\r\n", 400, "empty target"),
    BAD("GET / \r\n\r\n", 400, "empty version"),
    BAD("GET /a\x01z HTTP/1.1\r\n\r\n", 400, "control byte in target"),
    BAD("GET /a\x7f HTTP/1.1\r\n\r\n", 400, "DEL in target"),
    BAD("GET /caf\xc3\xa9 HTTP/1.1\r\n\r\n", 400, "non-ASCII target"),
    BADN("GET /a\0b HTTP/1.1\r\n\r\n", 22, 400, "NUL in target"),
    BADN("GET\0/ HTTP/1.1\r\n\r\n", 19, 400, "NUL in method"),
    BAD("GET http://h/ HTTP/1.1\r\n\r\n", 400, "absolute-form"),
    BAD("OPTIONS * HTTP/1.1\r\n\r\n", 400, "asterisk-form"),
    BAD("CONNECT h:443 HTTP/1.1\r\n\r\n", 400, "authority-form"),
    BAD("GET / HTTP/1.1\rX\r\n\r\n", 400, "bare CR in request line"),
    BAD("GET / HTTP/1.1\r\r\n\r\n", 400, "CR CR LF"),
    BAD("GET /\r/ HTTP/1.1\r\n\r\n", 400, "bare CR in target"),
    BAD("GET / http/1.1\r\n\r\n", 400, "lower-case version"),
    BAD("GET / HTTP/1.1x\r\n\r\n", 400, "junk after version"),
    BADN("GET / HTTP/1.1\0\r\n\r\n", 19, 400, "NUL after version"),
    BAD("GET / HTTP/11\r\n\r\n", 400, "version without dot"),
    BAD("GET / HTTP/1\r\n\r\n", 400, "short version"),
    BAD("GET / HTTP/1.\r\n\r\n", 400, "no minor"),
    BAD("GET / HTTP/10.0\r\n\r\n", 400, "two-digit major"),
    BAD("GET / HTTP/1.10\r\n\r\n", 400, "two-digit minor"),
    BAD("GET / XTTP/1.1\r\n\r\n", 400, "not HTTP"),
    BAD("GET / HTTP/2.0\r\n\r\n", 505, "HTTP/2.0"),
    BAD("GET / HTTP/3.0\r\n\r\n", 505, "HTTP/3.0"),
    BAD("GET / HTTP/0.9\r\n\r\n", 505, "HTTP/0.9 version"),
    BAD("GET / HTTP/1.2\r\n\r\n", 505, "HTTP/1.2"),
    BAD("GET /\r\n", 505, "HTTP/0.9 request"),
    BAD("GET /index.html\r\n\r\n", 505, "HTTP/0.9 request, blank line"),
    BAD("GET /\n", 505, "HTTP/0.9 request, bare LF"),
    BAD("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", 505, "HTTP/2 preface"),
    BAD("GET http://h/ HTTP/2.0\r\n\r\n", 505, "version before target form"),

    /* headers */
    BAD("GET / HTTP/1.1\r\nHost : h\r\n\r\n", 400, "space before colon"),
    BAD("GET / HTTP/1.1\r\nHost\t: h\r\n\r\n", 400, "tab before colon"),
    BAD("GET / HTTP/1.1\r\nA: b\r\n c\r\n\r\n", 400, "obs-fold SP"),
    BAD("GET / HTTP/1.1\r\nA: b\r\n\tc\r\n\r\n", 400, "obs-fold HTAB"),
    BAD("GET / HTTP/1.1\r\n Host: h\r\n\r\n", 400, "first header indented"),
    BAD("GET / HTTP/1.1\r\n: v\r\n\r\n", 400, "empty header name"),
    BAD("GET / HTTP/1.1\r\nHost h\r\n\r\n", 400, "no colon"),
    BAD("GET / HTTP/1.1\r\nHost\r\n\r\n", 400, "name alone"),
    BAD("GET / HTTP/1.1\r\nHo(st: h\r\n\r\n", 400, "non-token name"),
    BAD("GET / HTTP/1.1\r\nX\x80: h\r\n\r\n", 400, "high byte in name"),
    BADN("GET / HTTP/1.1\r\nX: a\0b\r\n\r\n", 26, 400, "NUL in value"),
    BADN("GET / HTTP/1.1\r\nX\0: a\r\n\r\n", 24, 400, "NUL in name"),
    BAD("GET / HTTP/1.1\r\nX: a\rb\r\n\r\n", 400, "bare CR in value"),
    BAD("GET / HTTP/1.1\r\nX: a\r\r\n\r\n", 400, "CR CR LF after value"),
    BAD("GET / HTTP/1.1\r\nX: a\x01" "b\r\n\r\n", 400, "SOH in value"),
    BAD("GET / HTTP/1.1\r\nX: a\x1b\r\n\r\n", 400, "ESC in value"),
    BAD("GET / HTTP/1.1\r\nX: a\x7f\r\n\r\n", 400, "DEL in value"),
    BAD("GET / HTTP/1.1\r\nX: a\x0b\r\n\r\n", 400, "VT in value"),
    BAD("GET / HTTP/1.1\r\n\rX", 400, "bare CR as the final line"),
    BAD("GET / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\n",
        400, "Content-Length twice, same value"),
    BAD("GET / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
        400, "Content-Length twice"),
    BAD("GET / HTTP/1.1\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n",
        400, "Content-Length then Transfer-Encoding"),
    BAD("GET / HTTP/1.1\r\nTransfer-Encoding: chunked\r\ncontent-length: 1\r\n\r\n",
        400, "Transfer-Encoding then Content-Length"),
    BAD("GET / HTTP/1.1\r\nHost: a\r\nHost: a\r\n\r\n", 400, "two Host headers"),
    BAD("GET / HTTP/1.1\r\nHost: a\r\nhost:\r\n\r\n", 400, "second Host empty"),
    OK("GET / HTTP/1.1\r\nTransfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n",
       "Transfer-Encoding twice is a list"),
    /* RFC 9112 6.1: only a final chunked coding gives a request a length. */
    BAD("POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n", 400,
        "Transfer-Encoding without chunked"),
    BAD("POST / HTTP/1.1\r\nTransfer-Encoding: chunked, gzip\r\n\r\n", 400,
        "chunked not the final coding"),
    BAD("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: gzip\r\n\r\n",
        400, "a later line ends in gzip"),
    BAD("POST / HTTP/1.1\r\nTransfer-Encoding: chunkedx\r\n\r\n", 400, "chunkedx"),
    OK("POST / HTTP/1.1\r\nTransfer-Encoding: gzip , CHUNKED \r\n\r\n",
       "gzip then chunked, any case and spacing"),
    /* The request-smuggling shapes of the attack suite (tests/attack/), at
     * the parser: each one a 400 or 505 before any body byte is looked at. */
    BAD("GET /events HTTP/1.1\r\nContent-Length: 0\r\nTransfer-Encoding: chunked\r\n\r\n",
        400, "Content-Length 0 then Transfer-Encoding"),
    BAD("GET / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nContent-Length: 0\r\n\r\n",
        400, "Transfer-Encoding then Content-Length 0"),
    BAD("POST / HTTP/1.1\r\nContent-Length: 3, 3\r\n\r\nabc", 400, "Content-Length list"),
    BAD("POST / HTTP/1.1\r\nTransfer-Encoding : chunked\r\n\r\n", 400,
        "Transfer-Encoding with a space before the colon"),
    BAD("POST / HTTP/1.1\r\nTransfer-Encoding:\r\n chunked\r\n\r\n", 400,
        "obs-fold carrying Transfer-Encoding"),
    BAD("GET / HTTP/1.1\r\n\tHost: a\r\n\r\n", 400, "first header indented by a tab"),
    BAD("GET / HTTP/1.1\nHost: a\nX: y\rTransfer-Encoding: chunked\n\n", 400,
        "bare CR hiding a header among bare-LF lines"),
    BAD("GET http://evil.example/events HTTP/1.1\r\nHost: a\r\n\r\n", 400,
        "absolute-form with a path"),
    BAD("PRI * HTTP/2.0\r\n", 505, "HTTP/2 preface, first line only"),
    BAD("GET /events\r\n\r\n", 505, "HTTP/0.9 stream request"),
    OK("GET / HTTP/1.1\r\nX-Y_z.1~!: v\r\n\r\n", "token punctuation in name"),
};
#define NTABLE (sizeof table / sizeof table[0])

static void test_http_table(void)
{
    size_t i;

    for (i = 0; i < NTABLE; i++) {
        const struct vec *v = &table[i];
        size_t n = v->len != 0 ? v->len : strlen(v->in);
        int want = v->rc > 0 ? (int)n : v->rc;
        int status = v->status;
        sse_http_req_t req;
        int rc;

        rc = parse_lim(v->in, n, &req, MAX_LINE, MAX_HDRS);
        CHECK_ROW(rc == want && req.status == status,
                  "table[%u] %s: rc %d (want %d) status %d (want %d)",
                  (unsigned)i, v->what, rc, want, req.status, status);
    }
}

/* ---- prefixes and byte-by-byte ------------------------------------------ */

static size_t first_lf(const char *s)
{
    const char *lf = strchr(s, '\n');

    return lf != NULL ? (size_t)(lf - s) : strlen(s);
}

static void test_http_every_prefix_incomplete(void)
{
    size_t i, k;

    for (i = 0; i < NVALID; i++) {
        const char *r = valid_reqs[i];
        size_t n = strlen(r), lf = first_lf(r);

        for (k = 0; k < n; k++) {
            sse_http_req_t req;
            int rc = parse_lim(r, k, &req, MAX_LINE, MAX_HDRS);
            int status = k <= lf ? 414 : 431;

            CHECK_ROW(rc == SSE_ERR_INCOMPLETE && req.status == status,
                      "valid_reqs[%u] prefix %u: rc %d status %d (want %d)",
                      (unsigned)i, (unsigned)k, rc, req.status, status);
        }
    }
}

/* Feed as a socket would: the buffer grows one byte at a time and already
 * holds the start of a pipelined request when the first one completes. */
static void test_http_byte_by_byte(void)
{
    static const char next[] = "GET /next HTTP/1.1\r\n\r\n";
    char buf[2048];
    size_t i, k;

    for (i = 0; i < NVALID; i++) {
        size_t n = strlen(valid_reqs[i]), total = n + sizeof next - 1;
        int fails = 0;

        CU_ASSERT_FATAL(total <= sizeof buf);
        memcpy(buf, valid_reqs[i], n);
        memcpy(buf + n, next, sizeof next - 1);
        for (k = 1; k <= total; k++) {
            sse_http_req_t req;
            int rc = parse_lim(buf, k, &req, MAX_LINE, MAX_HDRS);
            int want = k < n ? SSE_ERR_INCOMPLETE : (int)n;

            if (rc != want) {
                fails++;
                CHECK_ROW(0, "valid_reqs[%u] at %u bytes: rc %d want %d",
                          (unsigned)i, (unsigned)k, rc, want);
            }
        }
        CHECK_ROW(fails == 0, "valid_reqs[%u] byte by byte", (unsigned)i);
    }
}

/* Errors that no later byte could cure are reported before the line ends. */
static void test_http_early_errors(void)
{
    static const struct {
        const char *in;
        size_t len;
        int status;
    } cases[] = {
        { "G(T", 3, 400 },
        { " ", 1, 400 },
        { "GET  ", 5, 400 },
        { "GET /a\x01", 7, 400 },
        { "GET /a\0", 7, 400 },
        { "GET / X", 7, 400 },
        { "GET / HTTP/1.1x", 15, 400 },
        { "GET / HTTP/1.1\rX", 16, 400 },
        { "GET / HTTP/1.1\r\nHost : ", 23, 400 },
        { "GET / HTTP/1.1\r\nX: a\x01", 21, 400 },
        { "GET / HTTP/1.1\r\n ", 17, 400 },
    };
    size_t i;

    for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        sse_http_req_t req;
        int rc = parse_lim(cases[i].in, cases[i].len, &req, MAX_LINE, MAX_HDRS);

        CHECK_ROW(rc == SSE_ERR_INVALID && req.status == cases[i].status,
                  "early case %u: rc %d status %d", (unsigned)i, rc, req.status);
    }
}

/* ---- limits -------------------------------------------------------------- */

static void test_http_request_line_too_long(void)
{
    static const char r[] = "GET / HTTP/1.1\r\n\r\n"; /* line is 14 bytes */
    static const char lf[] = "GET / HTTP/1.1\n\n";
    char big[3000];
    sse_http_req_t req;
    size_t n;

    /* Exactly max_line is fine, one less is 414, CR or LF alike. */
    CU_ASSERT_EQUAL(parse_lim(r, strlen(r), &req, 14, MAX_HDRS), (int)strlen(r));
    CU_ASSERT_EQUAL(parse_lim(lf, strlen(lf), &req, 14, MAX_HDRS), (int)strlen(lf));
    CU_ASSERT_EQUAL(parse_lim(r, strlen(r), &req, 13, MAX_HDRS), SSE_ERR_TOO_LARGE);
    CU_ASSERT_EQUAL(req.status, 414);
    CU_ASSERT_EQUAL(parse_lim(lf, strlen(lf), &req, 13, MAX_HDRS), SSE_ERR_TOO_LARGE);
    CU_ASSERT_EQUAL(req.status, 414);
    CU_ASSERT_EQUAL(parse_lim(r, strlen(r), &req, 0, MAX_HDRS), SSE_ERR_TOO_LARGE);
    CU_ASSERT_EQUAL(req.status, 414);

    /* At the limit with only the CR in: the LF may still make it valid. */
    CU_ASSERT_EQUAL(parse_lim(r, 15, &req, 14, MAX_HDRS), SSE_ERR_INCOMPLETE);
    CU_ASSERT_EQUAL(req.status, 414);
    CU_ASSERT_EQUAL(parse_lim(r, 14, &req, 14, MAX_HDRS), SSE_ERR_INCOMPLETE);
    CU_ASSERT_EQUAL(req.status, 414);

    /* Long target, no line end yet: 414 once max_line + 1 bytes are in. */
    memcpy(big, "GET /", 5);
    memset(big + 5, 'a', sizeof big - 5);
    CU_ASSERT_EQUAL(parse_lim(big, 100, &req, 100, MAX_HDRS), SSE_ERR_INCOMPLETE);
    CU_ASSERT_EQUAL(req.status, 414);
    CU_ASSERT_EQUAL(parse_lim(big, 101, &req, 100, MAX_HDRS), SSE_ERR_TOO_LARGE);
    CU_ASSERT_EQUAL(req.status, 414);
    CU_ASSERT_EQUAL(parse_lim(big, sizeof big, &req, MAX_LINE, MAX_HDRS),
                    SSE_ERR_TOO_LARGE);
    CU_ASSERT_EQUAL(req.status, 414);

    /* The same long target with its line end present. */
    n = 2000;
    memcpy(big + n, " HTTP/1.1\r\n\r\n", 13);
    CU_ASSERT_EQUAL(parse_lim(big, n + 13, &req, MAX_LINE, MAX_HDRS), SSE_ERR_TOO_LARGE);
    CU_ASSERT_EQUAL(req.status, 414);
    CU_ASSERT_EQUAL(parse_lim(big, n + 13, &req, n + 9, MAX_HDRS), (int)(n + 13));
    CU_ASSERT_EQUAL(req.target.n, n - 4);
    CU_ASSERT_EQUAL(parse_lim(big, n + 13, &req, n + 8, MAX_HDRS), SSE_ERR_TOO_LARGE);
    CU_ASSERT_EQUAL(req.status, 414);

    /* Long header lines are not the request line: no 414 for them. */
    memcpy(big, "GET / HTTP/1.1\r\nX: ", 19);
    memset(big + 19, 'v', 200);
    memcpy(big + 219, "\r\n\r\n", 4);
    CU_ASSERT_EQUAL(parse_lim(big, 223, &req, 20, MAX_HDRS), 223);
}

static void test_http_too_many_headers(void)
{
    static const char r3[] = "GET / HTTP/1.1\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n";
    static const char r0[] = "GET / HTTP/1.1\r\n\r\n";
    sse_http_req_t req;

    CU_ASSERT_EQUAL(parse_lim(r3, strlen(r3), &req, MAX_LINE, 3), (int)strlen(r3));
    CU_ASSERT_EQUAL(req.num_headers, 3);
    CU_ASSERT_EQUAL(parse_lim(r3, strlen(r3), &req, MAX_LINE, 2), SSE_ERR_TOO_LARGE);
    CU_ASSERT_EQUAL(req.status, 431);
    CU_ASSERT_EQUAL(parse_lim(r3, strlen(r3), &req, MAX_LINE, 0), SSE_ERR_TOO_LARGE);
    CU_ASSERT_EQUAL(req.status, 431);
    CU_ASSERT_EQUAL(parse_lim(r0, strlen(r0), &req, MAX_LINE, 0), (int)strlen(r0));
    /* The third header's first byte is enough to know. */
    CU_ASSERT_EQUAL(parse_lim(r3, 29, &req, MAX_LINE, 2), SSE_ERR_TOO_LARGE);
    CU_ASSERT_EQUAL(req.status, 431);
    /* But a possible blank line after two headers is not yet an excess. */
    CU_ASSERT_EQUAL(parse_lim("GET / HTTP/1.1\r\nA: 1\r\nB: 2\r\n\r", 29, &req,
                              MAX_LINE, 2), SSE_ERR_INCOMPLETE);
    CU_ASSERT_EQUAL(req.status, 431);
}

static void test_http_null_args(void)
{
    sse_http_req_t req;

    CU_ASSERT_EQUAL(sse_http_parse("GET", 3, NULL, MAX_LINE, MAX_HDRS), SSE_ERR_ARG);
    CU_ASSERT_EQUAL(sse_http_parse(NULL, 3, &req, MAX_LINE, MAX_HDRS), SSE_ERR_ARG);
    CU_ASSERT_EQUAL(sse_http_parse(NULL, 0, &req, MAX_LINE, MAX_HDRS), SSE_ERR_INCOMPLETE);
    CU_ASSERT_EQUAL(req.status, 414);
}

/* ---- helpers ------------------------------------------------------------- */

static int accq(const char *acc, const char *t, const char *s, int expl)
{
    return sse_http_accept_q(placed(acc, strlen(acc)), t, s, expl);
}

static void test_http_accept_q(void)
{
    static const struct {
        const char *acc;
        int explicit_only;
        int q;
    } cases[] = {
        { "text/event-stream", 0, 1000 },
        { "TEXT/Event-Stream", 0, 1000 },
        { "text/html, */*;q=0.5", 0, 500 },
        { "text/html, */*;q=0.5", 1, 0 },
        { "text/event-stream;q=0, */*", 0, 0 },
        { "*/*, text/event-stream;q=0", 0, 0 },
        { "text/*;q=0.3, text/event-stream", 0, 1000 },
        { "text/event-stream;q=0.2, text/*;q=0.9, */*", 0, 200 },
        { "text/*;q=0.3, */*;q=0.9", 0, 300 },
        { "*/*;q=0.9, text/*;q=0.3", 0, 300 },
        { "text/*;q=0.3", 1, 0 },
        { "*/*", 0, 1000 },
        { "*/*", 1, 0 },
        { "text/html", 0, 0 },
        { "application/event-stream", 0, 0 },
        { "text/event-stream;q=0.123", 0, 123 },
        { "text/event-stream;q=0.5", 0, 500 },
        { "text/event-stream;q=0.05", 0, 50 },
        { "text/event-stream;q=0.", 0, 0 },
        { "text/event-stream;q=1", 0, 1000 },
        { "text/event-stream;q=1.000", 0, 1000 },
        { "text/event-stream;Q=0.7", 0, 700 },
        { "text/event-stream ; q=0.7 , text/html", 0, 700 },
        { "text/event-stream;charset=utf-8;q=0.4", 0, 400 },
        { "text/event-stream;charset=\"utf-8, x\";q=0.4", 0, 400 },
        { "text/event-stream;x=\"a\\\"b\"", 0, 1000 },
        { ",, text/event-stream ,", 0, 1000 },
        { "text/event-stream;q=0.1, text/event-stream;q=0.6", 0, 600 },
        /* malformed lists: 0 whatever they hold */
        { "", 0, 0 },
        { "   ", 0, 0 },
        { "text", 0, 0 },
        { "text/", 0, 0 },
        { "/event-stream", 0, 0 },
        { "text/event-stream;q=1.5", 0, 0 },
        { "text/event-stream;q=1.001", 0, 0 },
        { "text/event-stream;q=0.1234", 0, 0 },
        { "text/event-stream;q=2", 0, 0 },
        { "text/event-stream;q=-1", 0, 0 },
        { "text/event-stream;q=", 0, 0 },
        { "text/event-stream;q", 0, 0 },
        { "text/event-stream;q=\"0.5\"", 0, 0 },
        { "text/event-stream;", 0, 0 },
        { "text/event-stream;x=\"open", 0, 0 },
        { "text/event-stream x", 0, 0 },
        { "*/event-stream", 0, 0 },
        { "text/event-stream, */*;q=abc", 0, 0 },
        { "text/event-stream, te(t/html", 0, 0 },
    };
    size_t i;

    for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int q = accq(cases[i].acc, "text", "event-stream", cases[i].explicit_only);

        CHECK_ROW(q == cases[i].q, "accept \"%s\" explicit=%d: q %d want %d",
                  cases[i].acc, cases[i].explicit_only, q, cases[i].q);
    }

    /* Absent header: anything goes, explicit or not. */
    {
        sse_str_t none = { NULL, 0 };

        CU_ASSERT_EQUAL(sse_http_accept_q(none, "text", "event-stream", 0), 1000);
        CU_ASSERT_EQUAL(sse_http_accept_q(none, "text", "event-stream", 1), 1000);
    }
    /* Caller's type is matched case-insensitively too. */
    CU_ASSERT_EQUAL(accq("text/event-stream;q=0.8", "TEXT", "EVENT-STREAM", 1), 800);
    /* The Accept view is bounded by n, not by a NUL. */
    {
        static const char s[] = "text/event-stream;q=0.5";

        CU_ASSERT_EQUAL(sse_http_accept_q(placed(s, 17), "text",
                                          "event-stream", 0), 1000);
    }
}

static void test_http_accept_from_parsed_request(void)
{
    static const char r[] =
        "GET /ev HTTP/1.1\r\nAccept: text/html, */*;q=0.25\r\n\r\n";
    sse_http_req_t req;

    CU_ASSERT_EQUAL(parse(r, &req), (int)strlen(r));
    CU_ASSERT_EQUAL(sse_http_accept_q(req.accept, "text", "event-stream", 0), 250);
    CU_ASSERT_EQUAL(sse_http_accept_q(req.accept, "text", "html", 0), 1000);
    CU_ASSERT_EQUAL(sse_http_accept_q(req.accept, "text", "event-stream", 1), 0);
}

static void test_http_query_get(void)
{
    static const char q[] = "ch=news&x&empty=&a=1=2&pct=%41%20b&&last=z";
    sse_str_t qs, v;

    qs = placed(q, strlen(q));
    CU_ASSERT_EQUAL(sse_http_query_get(qs, "ch", &v), 1);
    CU_ASSERT(view_is(v, "news"));
    CU_ASSERT_EQUAL(sse_http_query_get(qs, "x", &v), 1);
    CU_ASSERT_PTR_NOT_NULL(v.p);
    CU_ASSERT_EQUAL(v.n, 0);
    CU_ASSERT_EQUAL(sse_http_query_get(qs, "empty", &v), 1);
    CU_ASSERT_PTR_NOT_NULL(v.p);
    CU_ASSERT_EQUAL(v.n, 0);
    CU_ASSERT_EQUAL(sse_http_query_get(qs, "a", &v), 1);
    CU_ASSERT(view_is(v, "1=2"));
    CU_ASSERT_EQUAL(sse_http_query_get(qs, "pct", &v), 1);
    CU_ASSERT(view_is(v, "%41%20b")); /* no decoding */
    CU_ASSERT_EQUAL(sse_http_query_get(qs, "last", &v), 1);
    CU_ASSERT(view_is(v, "z"));
    CU_ASSERT_EQUAL(v.p + v.n, g_guard); /* ends at the view's end */

    CU_ASSERT_EQUAL(sse_http_query_get(qs, "c", &v), 0);      /* no prefix match */
    CU_ASSERT_EQUAL(sse_http_query_get(qs, "chx", &v), 0);
    CU_ASSERT_EQUAL(sse_http_query_get(qs, "CH", &v), 0);     /* exact compare */
    CU_ASSERT_EQUAL(sse_http_query_get(qs, "news", &v), 0);   /* values are not keys */
    CU_ASSERT_EQUAL(sse_http_query_get(qs, "", &v), 0);
    CU_ASSERT_EQUAL(sse_http_query_get(qs, "ch", NULL), 1);

    /* First occurrence wins; a key at the very end with no '='. */
    qs = placed("k=1&k=2&end", 11);
    CU_ASSERT_EQUAL(sse_http_query_get(qs, "k", &v), 1);
    CU_ASSERT(view_is(v, "1"));
    CU_ASSERT_EQUAL(sse_http_query_get(qs, "end", &v), 1);
    CU_ASSERT_EQUAL(v.n, 0);

    {
        sse_str_t none = { NULL, 0 };

        CU_ASSERT_EQUAL(sse_http_query_get(none, "ch", &v), 0);
        CU_ASSERT_EQUAL(sse_http_query_get(placed("", 0), "ch", &v), 0);
    }

    /* Straight from a parsed request. */
    {
        sse_http_req_t req;

        CU_ASSERT(parse("GET /ev?channel=7&debug HTTP/1.1\r\n\r\n", &req) > 0);
        CU_ASSERT_EQUAL(sse_http_query_get(req.query, "channel", &v), 1);
        CU_ASSERT(view_is(v, "7"));
        CU_ASSERT_EQUAL(sse_http_query_get(req.query, "debug", &v), 1);
        CU_ASSERT_EQUAL(v.n, 0);
        CU_ASSERT(parse("GET /ev HTTP/1.1\r\n\r\n", &req) > 0);
        CU_ASSERT_EQUAL(sse_http_query_get(req.query, "channel", &v), 0);
    }
}

static void test_http_reason(void)
{
    static const struct {
        int code;
        const char *text;
    } cases[] = {
        { 200, "OK" }, { 204, "No Content" }, { 206, "Partial Content" },
        { 301, "Moved Permanently" }, { 302, "Found" }, { 304, "Not Modified" },
        { 400, "Bad Request" }, { 401, "Unauthorized" }, { 403, "Forbidden" },
        { 404, "Not Found" }, { 405, "Method Not Allowed" },
        { 406, "Not Acceptable" }, { 408, "Request Timeout" },
        { 411, "Length Required" }, { 413, "Content Too Large" },
        { 414, "URI Too Long" }, { 415, "Unsupported Media Type" },
        { 429, "Too Many Requests" }, { 431, "Request Header Fields Too Large" },
        { 500, "Internal Server Error" }, { 501, "Not Implemented" },
        { 503, "Service Unavailable" }, { 505, "HTTP Version Not Supported" },
        { 0, "Unknown" }, { -1, "Unknown" }, { 299, "Unknown" }, { 999, "Unknown" },
    };
    size_t i;

    for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *r = sse_http_reason(cases[i].code);

        CHECK_ROW(r != NULL && strcmp(r, cases[i].text) == 0,
                  "reason %d: \"%s\"", cases[i].code, r != NULL ? r : "(null)");
    }
}

static void test_http_str_ieq(void)
{
    sse_str_t none = { NULL, 0 };
    sse_str_t s = placed("Keep-Alive", 10);

    CU_ASSERT_EQUAL(sse_str_ieq(s, "keep-alive"), 1);
    CU_ASSERT_EQUAL(sse_str_ieq(s, "KEEP-ALIVE"), 1);
    CU_ASSERT_EQUAL(sse_str_ieq(s, "keep-aliv"), 0);
    CU_ASSERT_EQUAL(sse_str_ieq(s, "keep-alives"), 0);
    CU_ASSERT_EQUAL(sse_str_ieq(s, "keep_alive"), 0);
    CU_ASSERT_EQUAL(sse_str_ieq(s, ""), 0);
    CU_ASSERT_EQUAL(sse_str_ieq(placed("", 0), ""), 1);
    CU_ASSERT_EQUAL(sse_str_ieq(none, ""), 0);
    CU_ASSERT_EQUAL(sse_str_ieq(none, "x"), 0);
    /* '@' (0x40) and '`' (0x60) are not case pairs of anything. */
    CU_ASSERT_EQUAL(sse_str_ieq(placed("@", 1), "`"), 0);
    /* An embedded NUL in the view never equals a shorter C string. */
    CU_ASSERT_EQUAL(sse_str_ieq(placed("a\0", 2), "a"), 0);
}

static const tb_test_t tests[] = {
    TB_TEST(test_http_simple_get),
    TB_TEST(test_http_minimal_and_http10),
    TB_TEST(test_http_kept_headers),
    TB_TEST(test_http_header_names_case_insensitive),
    TB_TEST(test_http_value_ows_trimmed),
    TB_TEST(test_http_repeated_header_last_wins),
    TB_TEST(test_http_bare_lf),
    TB_TEST(test_http_obs_text_and_tab_in_value),
    TB_TEST(test_http_query_split),
    TB_TEST(test_http_content_length),
    TB_TEST(test_http_transfer_encoding),
    TB_TEST(test_http_reset_on_entry),
    TB_TEST(test_http_table),
    TB_TEST(test_http_every_prefix_incomplete),
    TB_TEST(test_http_byte_by_byte),
    TB_TEST(test_http_early_errors),
    TB_TEST(test_http_request_line_too_long),
    TB_TEST(test_http_too_many_headers),
    TB_TEST(test_http_null_args),
    TB_TEST(test_http_accept_q),
    TB_TEST(test_http_accept_from_parsed_request),
    TB_TEST(test_http_query_get),
    TB_TEST(test_http_reason),
    TB_TEST(test_http_header_lookup),
    TB_TEST(test_http_str_ieq),
};

int test_http_register(void)
{
    return TB_SUITE("http", suite_init, suite_clean, tests);
}
