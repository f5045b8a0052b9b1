/* SPDX-License-Identifier: MIT */
/* Suite "event": the SSE framer (core/sse_event.c) checked byte for byte,
 * against guard pages, and round-tripped through a WHATWG-style parser. */
#define _POSIX_C_SOURCE 200809L
#define _DEFAULT_SOURCE

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <CUnit/CUnit.h>
#include "ssedge/sse_event.h"
#include "tests.h"
#include "ref_text.h"
#include "enc_frames.h"

#define BIG 8192

/* ---- guard page: a buffer whose last byte is followed by PROT_NONE -------- */

static unsigned char *guard_base; /* two pages: [rw][none] */
static size_t guard_page;

static int suite_init(void)
{
    long ps = sysconf(_SC_PAGESIZE);
    void *p;

    if (ps <= 0)
        return -1;
    guard_page = (size_t)ps;
    p = mmap(NULL, 2 * guard_page, PROT_READ | PROT_WRITE,
             MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
        return -1;
    guard_base = p;
    if (mprotect(guard_base + guard_page, guard_page, PROT_NONE) != 0)
        return -1;
    return 0;
}

static int suite_clean(void)
{
    if (guard_base != NULL)
        munmap(guard_base, 2 * guard_page);
    guard_base = NULL;
    return 0;
}

/* cap bytes ending exactly at the guard page (non-NULL even for cap 0). */
static char *guard_buf(size_t cap)
{
    CU_ASSERT_FATAL(cap <= guard_page);
    return (char *)guard_base + guard_page - cap;
}

/* ---- every check runs on all three frames (enc_frames.h) ------------------ */

/* Encode into exactly need and need-1 bytes, with a canary behind cap and
 * against the guard page; every smaller cap must fail without writing past
 * it. Returns the size, or a negative code if the size query failed. */
static int check_bounds(enc_fn fn, const void *arg)
{
    size_t need = 12345, n2, cap;
    char ref[BIG];
    unsigned char *heap;
    int rc = fn(NULL, 0, arg, &need);

    if (rc != SSE_ERR_TOO_LARGE)
        return rc;
    CU_ASSERT_FATAL(need > 0 && need < BIG && need <= guard_page);
    /* A size query without need just says TOO_LARGE. */
    CU_ASSERT_EQUAL(fn(NULL, 0, arg, NULL), SSE_ERR_TOO_LARGE);

    CU_ASSERT_EQUAL(fn(ref, sizeof ref, arg, &n2), (int)need);
    CU_ASSERT_EQUAL(n2, need);

    heap = malloc(need + 16);
    CU_ASSERT_FATAL(heap != NULL);
    for (cap = 0; cap <= need; cap++) {
        size_t got = 0;
        int r;
        memset(heap, 0xA5, need + 16);
        r = fn((char *)heap, cap, arg, &got);
        CU_ASSERT_EQUAL(got, need);
        if (cap == need) {
            CU_ASSERT_EQUAL(r, (int)need);
            CU_ASSERT_EQUAL(memcmp(heap, ref, need), 0);
        } else {
            CU_ASSERT_EQUAL(r, SSE_ERR_TOO_LARGE);
        }
        for (size_t k = cap; k < need + 16; k++) {
            if (heap[k] != 0xA5) {
                CU_FAIL("byte written at or past cap");
                break;
            }
        }
        /* The same cap against the guard page: an overrun would fault. */
        got = 0;
        r = fn(guard_buf(cap), cap, arg, &got);
        CU_ASSERT_EQUAL(got, need);
        CU_ASSERT_EQUAL(r, cap == need ? (int)need : SSE_ERR_TOO_LARGE);
        if (cap == need)
            CU_ASSERT_EQUAL(memcmp(guard_buf(cap), ref, need), 0);
    }
    free(heap);
    return (int)need;
}

/* Encode ev into a large buffer and compare with the expected text (length
 * given, since data may hold NUL); then run the bounds checks. */
static void expect_fn_n(enc_fn fn, const void *arg, const char *want,
                        size_t want_len)
{
    char out[BIG];
    size_t need = 0;
    int rc;

    memset(out, 0x5A, sizeof out);
    rc = fn(out, sizeof out, arg, &need);
    CU_ASSERT_EQUAL(rc, (int)want_len);
    CU_ASSERT_EQUAL(need, want_len);
    if (rc == (int)want_len) {
        CU_ASSERT_EQUAL(memcmp(out, want, want_len), 0);
        CU_ASSERT_EQUAL((unsigned char)out[want_len], 0x5A); /* no NUL */
    }
    CU_ASSERT_EQUAL(check_bounds(fn, arg), (int)want_len);
}

static void expect_event(const sse_event_t *ev, const char *want)
{
    expect_fn_n(enc_event, ev, want, strlen(want));
}

static sse_event_t data_ev(const char *data)
{
    sse_event_t ev;
    memset(&ev, 0, sizeof ev);
    ev.data = data;
    ev.data_len = data != NULL ? strlen(data) : 0;
    return ev;
}

static void expect_comment(const char *text, const char *want)
{
    expect_fn_n(enc_comment, text, want, strlen(want));
}

static void expect_retry(uint32_t ms, const char *want)
{
    expect_fn_n(enc_retry, &ms, want, strlen(want));
}

static void expect_data(const char *data, const char *want)
{
    sse_event_t ev = data_ev(data);
    expect_event(&ev, want);
}

/* Every return path for an invalid event, including size queries. */
static void expect_invalid(const sse_event_t *ev)
{
    char out[256];
    size_t need = 777;

    memset(out, 0x5A, sizeof out);
    CU_ASSERT_EQUAL(sse_event_encode(out, sizeof out, ev, &need), SSE_ERR_INVALID);
    CU_ASSERT_EQUAL((unsigned char)out[0], 0x5A); /* nothing written */
    CU_ASSERT_EQUAL(sse_event_encode(NULL, 0, ev, &need), SSE_ERR_INVALID);
    CU_ASSERT_EQUAL(sse_event_encode(out, 1, ev, NULL), SSE_ERR_INVALID);
}

/* ---- a small WHATWG event-stream parser for the round trip ---------------- */

typedef struct {
    int      dispatched;  /* events dispatched */
    char    *data;        /* last dispatched data (malloc'd) */
    size_t   data_len;
    char     type[256];   /* last dispatched type ("message" by default) */
    char     last_id[256];
    long long retry;      /* -1: never set */
} parsed_t;

static void buf_append(char **b, size_t *len, const char *s, size_t n)
{
    char *nb = realloc(*b, *len + n + 1);
    CU_ASSERT_FATAL(nb != NULL);
    if (n != 0)
        memcpy(nb + *len, s, n);
    *len += n;
    *b = nb;
}

/* Parse a whole stream. Lines end at CRLF, LF or CR; "field: value" loses one
 * leading space; data lines are joined with LF and the last LF removed on
 * dispatch; an empty data buffer dispatches nothing. */
static void sse_parse(const char *s, size_t n, parsed_t *out)
{
    char *data = NULL, type[256] = "";
    size_t data_len = 0, i = 0;
    char id_buf[256] = "";

    memset(out, 0, sizeof *out);
    out->retry = -1;
    strcpy(out->type, "");
    if (n >= 3 && memcmp(s, "\xEF\xBB\xBF", 3) == 0)
        i = 3;
    while (i < n) {
        size_t ls = i, le, fl, vs;
        const char *colon;

        while (i < n && s[i] != '\r' && s[i] != '\n')
            i++;
        if (i == n)
            break; /* an unterminated line is never processed */
        le = i;
        i += (s[i] == '\r' && i + 1 < n && s[i + 1] == '\n') ? 2 : 1;

        if (le == ls) { /* blank line: dispatch */
            strcpy(out->last_id, id_buf);
            if (data_len == 0) {
                type[0] = '\0';
                continue;
            }
            data_len--; /* the final LF */
            free(out->data);
            out->data = data;
            out->data_len = data_len;
            strcpy(out->type, type[0] ? type : "message");
            out->dispatched++;
            data = NULL;
            data_len = 0;
            type[0] = '\0';
            continue;
        }
        if (s[ls] == ':')
            continue; /* comment */
        colon = memchr(s + ls, ':', le - ls);
        fl = colon != NULL ? (size_t)(colon - (s + ls)) : le - ls;
        vs = colon != NULL ? fl + 1 : le - ls;
        if (colon != NULL && ls + vs < le && s[ls + vs] == ' ')
            vs++;
        {
            const char *v = s + ls + vs;
            size_t vl = le - ls - vs;
            if (fl == 4 && memcmp(s + ls, "data", 4) == 0) {
                buf_append(&data, &data_len, v, vl);
                buf_append(&data, &data_len, "\n", 1);
            } else if (fl == 5 && memcmp(s + ls, "event", 5) == 0) {
                CU_ASSERT_FATAL(vl < sizeof type);
                memcpy(type, v, vl);
                type[vl] = '\0';
            } else if (fl == 2 && memcmp(s + ls, "id", 2) == 0) {
                if (memchr(v, '\0', vl) == NULL && vl < sizeof id_buf) {
                    memcpy(id_buf, v, vl);
                    id_buf[vl] = '\0';
                }
            } else if (fl == 5 && memcmp(s + ls, "retry", 5) == 0) {
                size_t k;
                long long r = 0;
                for (k = 0; k < vl && v[k] >= '0' && v[k] <= '9'; k++)
                    r = r * 10 + (v[k] - '0');
                if (vl > 0 && k == vl)
                    out->retry = r;
            }
        }
    }
    free(data);
}

/* Encode data, parse the frame back and compare with the normalised input. */
static void round_trip(const char *data, size_t len)
{
    sse_event_t ev;
    char *out = malloc(len * 7 + 64), *norm = malloc(len + 1);
    parsed_t p;
    size_t nl, need = 0;
    int rc;

    CU_ASSERT_FATAL(out != NULL && norm != NULL);
    memset(&ev, 0, sizeof ev);
    ev.data = data;
    ev.data_len = len;
    rc = sse_event_encode(out, len * 7 + 64, &ev, &need);
    CU_ASSERT_FATAL(rc > 0);
    CU_ASSERT_EQUAL((size_t)rc, need);
    sse_parse(out, (size_t)rc, &p);
    nl = ref_normalize(data, len, norm);
    CU_ASSERT_EQUAL(p.dispatched, 1);
    CU_ASSERT_STRING_EQUAL(p.type, "message");
    CU_ASSERT_EQUAL(p.data_len, nl);
    if (p.data_len == nl)
        CU_ASSERT_EQUAL(memcmp(p.data, norm, nl), 0);
    free(p.data);
    free(out);
    free(norm);
}

/* Deterministic xorshift so failures reproduce. */
static uint32_t rng_state = 0x2545F491u;
static uint32_t rnd(void)
{
    uint32_t x = rng_state;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    return rng_state = x;
}

/* ======================= tests ============================================ */

static void test_event_data_lf(void)
{
    expect_data("a", "data: a\n\n");
    expect_data("a\nb", "data: a\ndata: b\n\n");
    expect_data("a\nb\nc", "data: a\ndata: b\ndata: c\n\n");
    expect_data("a\n", "data: a\ndata: \n\n");
    expect_data("\na", "data: \ndata: a\n\n");
    expect_data("\n", "data: \ndata: \n\n");
    expect_data("a\n\nb", "data: a\ndata: \ndata: b\n\n");
}

static void test_event_data_crlf(void)
{
    expect_data("a\r\nb", "data: a\ndata: b\n\n");
    expect_data("a\r\n", "data: a\ndata: \n\n");
    expect_data("\r\na", "data: \ndata: a\n\n");
    expect_data("\r\n", "data: \ndata: \n\n");
    expect_data("a\r\n\r\nb", "data: a\ndata: \ndata: b\n\n");
}

static void test_event_data_cr(void)
{
    expect_data("a\rb", "data: a\ndata: b\n\n");
    expect_data("a\r", "data: a\ndata: \n\n");
    expect_data("\ra", "data: \ndata: a\n\n");
    expect_data("\r", "data: \ndata: \n\n");
    expect_data("a\r\rb", "data: a\ndata: \ndata: b\n\n");
}

static void test_event_data_mixed_breaks(void)
{
    /* "\r\r\n" is a CR then a CRLF: two breaks. */
    expect_data("a\r\r\nb", "data: a\ndata: \ndata: b\n\n");
    /* "\n\r" is an LF then a CR: two breaks, not one. */
    expect_data("a\n\rb", "data: a\ndata: \ndata: b\n\n");
    expect_data("\n\r", "data: \ndata: \ndata: \n\n");
    expect_data("\r\r\n", "data: \ndata: \ndata: \n\n");
    expect_data("x\ry\nz\r\nw", "data: x\ndata: y\ndata: z\ndata: w\n\n");
    expect_data("\r\n\n\r\r", "data: \ndata: \ndata: \ndata: \ndata: \n\n");
    expect_data("\n\nend\r\n\r",
                "data: \ndata: \ndata: end\ndata: \ndata: \n\n");
}

static void test_event_data_empty_and_null(void)
{
    sse_event_t ev = data_ev("");
    expect_event(&ev, "data: \n\n");

    /* data NULL: no data lines at all, even if data_len is set. */
    memset(&ev, 0, sizeof ev);
    ev.event = "ping";
    ev.data_len = 5;
    expect_event(&ev, "event: ping\n\n");
}

static void test_event_data_nul_bytes(void)
{
    static const char d[] = "a\0b\n\0";
    static const char want[] = "data: a\0b\ndata: \0\n\n";
    sse_event_t ev;

    memset(&ev, 0, sizeof ev);
    ev.data = d;
    ev.data_len = sizeof d - 1;
    expect_fn_n(enc_event, &ev, want, sizeof want - 1);
}

static void test_event_data_utf8(void)
{
    expect_data("caf\xC3\xA9 \xE2\x82\xAC\n\xF0\x9F\x98\x80",
                "data: caf\xC3\xA9 \xE2\x82\xAC\ndata: \xF0\x9F\x98\x80\n\n");
    /* A data line that looks like a field stays inside its data line. */
    expect_data("id: 5\nevent: x\n: c", "data: id: 5\ndata: event: x\ndata: : c\n\n");
}

static void test_event_field_order(void)
{
    sse_event_t ev;

    memset(&ev, 0, sizeof ev);
    ev.event = "update";
    ev.id = "abc-1";
    ev.has_retry = 1;
    ev.retry_ms = 2500;
    ev.data = "x\ny";
    ev.data_len = 3;
    expect_event(&ev, "event: update\nid: abc-1\nretry: 2500\ndata: x\ndata: y\n\n");

    ev.id = NULL;
    ev.has_id_num = 1;
    ev.id_num = 42;
    expect_event(&ev, "event: update\nid: 42\nretry: 2500\ndata: x\ndata: y\n\n");

    /* Each field alone, and a name with a retry and data. */
    {
        static const struct {
            sse_event_t ev;
            const char *want;
        } alone[] = {
            { { .event = "e" }, "event: e\n\n" },
            { { .id = "7" }, "id: 7\n\n" },
            { { .has_retry = 1, .retry_ms = 10 }, "retry: 10\n\n" },
            { { .event = "e", .has_retry = 1, .retry_ms = 1, .data = "d", .data_len = 1 },
              "event: e\nretry: 1\ndata: d\n\n" },
        };
        for (size_t i = 0; i < sizeof alone / sizeof alone[0]; i++)
            expect_event(&alone[i].ev, alone[i].want);
    }
}

static void test_event_id_text(void)
{
    sse_event_t ev;

    memset(&ev, 0, sizeof ev);
    ev.id = ""; /* resets the browser's last event id */
    expect_event(&ev, "id: \n\n");
    ev.id = " lead";
    expect_event(&ev, "id:  lead\n\n");
    ev.id = "\xE2\x82\xAC-9";
    expect_event(&ev, "id: \xE2\x82\xAC-9\n\n");
    ev.data = "p";
    ev.data_len = 1;
    ev.id = "";
    expect_event(&ev, "id: \ndata: p\n\n");
}

static void test_event_id_numeric(void)
{
    static const struct {
        uint64_t v;
        const char *want;
    } t[] = {
        { 0, "id: 0\n\n" },
        { 9, "id: 9\n\n" },
        { 10, "id: 10\n\n" },
        { 99, "id: 99\n\n" },
        { 4294967295u, "id: 4294967295\n\n" },
        { UINT64_C(4294967296), "id: 4294967296\n\n" },
        { UINT64_C(999999999999), "id: 999999999999\n\n" },
        { UINT64_C(1000000000000000000), "id: 1000000000000000000\n\n" },
        { UINT64_C(9999999999999999999), "id: 9999999999999999999\n\n" },
        { UINT64_C(10000000000000000000), "id: 10000000000000000000\n\n" },
        { UINT64_MAX, "id: 18446744073709551615\n\n" },
    };
    sse_event_t ev;
    uint64_t p = 1;
    int k;

    memset(&ev, 0, sizeof ev);
    ev.has_id_num = 1;
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        ev.id_num = t[i].v;
        expect_event(&ev, t[i].want);
    }
    /* Every power of ten and its predecessor, checked by string building. */
    for (k = 1; k < 20; k++) {
        char want[64], digits[32];
        uint64_t v = p * 10 - 1; /* 9, 99, 999, ... */
        int j;
        p *= 10;
        for (j = 0; j < k; j++)
            digits[j] = '9';
        digits[k] = '\0';
        strcpy(want, "id: ");
        strcat(want, digits);
        strcat(want, "\n\n");
        ev.id_num = v;
        expect_event(&ev, want);
        strcpy(want, "id: 1");
        for (j = 0; j < k; j++)
            digits[j] = '0';
        strcat(want, digits);
        strcat(want, "\n\n");
        ev.id_num = p;
        expect_event(&ev, want);
    }
}

static void test_event_retry_field(void)
{
    sse_event_t ev;

    memset(&ev, 0, sizeof ev);
    ev.has_retry = 1;
    ev.retry_ms = 0;
    expect_event(&ev, "retry: 0\n\n");
    ev.retry_ms = UINT32_MAX;
    expect_event(&ev, "retry: 4294967295\n\n");
    ev.has_id_num = 1;
    ev.id_num = UINT64_MAX;
    expect_event(&ev, "id: 18446744073709551615\nretry: 4294967295\n\n");
}

/* bad is refused as the event's name and as its id. */
static void expect_name_and_id_refused(const char *bad)
{
    sse_event_t ev = data_ev("ok");
    ev.event = bad;
    expect_invalid(&ev);
    ev = data_ev("ok");
    ev.id = bad;
    expect_invalid(&ev);
}

static void test_event_refuse_crlf_in_name_and_id(void)
{
    static const char *bad[] = { "a\nb", "a\rb", "a\r\nb", "\n", "\r", "ab\n", "\rab" };

    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        expect_name_and_id_refused(bad[i]);
}

static void test_event_refuse_bad_utf8(void)
{
    static const char *bad[] = {
        "\x80", "a\xC3", "\xC0\x80", "\xED\xA0\x80", "\xF4\x90\x80\x80", "\xFF",
        "\xE2\x82", "\xF0\x9F\x98",
    };
    sse_event_t ev;

    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        expect_name_and_id_refused(bad[i]);
        ev = data_ev(bad[i]);
        expect_invalid(&ev);
        /* Bad bytes after line breaks and a long ASCII run are still seen. */
        {
            char d[128];
            strcpy(d, "line one\r\nline two is long enough for words\n");
            strcat(d, bad[i]);
            strcat(d, "tail");
            ev = data_ev(d);
            expect_invalid(&ev);
        }
    }
    /* data_len cuts a valid sequence short. */
    ev = data_ev("\xE2\x82\xAC");
    ev.data_len = 2;
    expect_invalid(&ev);
}

static void test_event_refuse_empty_name(void)
{
    sse_event_t ev = data_ev("x");
    ev.event = "";
    expect_invalid(&ev);
}

static void test_event_refuse_no_fields(void)
{
    sse_event_t ev;
    memset(&ev, 0, sizeof ev);
    expect_invalid(&ev);
    /* Values without their has_ flags are still "no field". */
    ev.id_num = 5;
    ev.retry_ms = 100;
    ev.data_len = 3;
    expect_invalid(&ev);
}

static void test_event_refuse_id_and_id_num(void)
{
    sse_event_t ev = data_ev("x");
    ev.id = "1";
    ev.has_id_num = 1;
    expect_invalid(&ev);
    ev.id = "";
    expect_invalid(&ev);
}

static void test_event_refuse_null_ev(void)
{
    char out[16];
    size_t need = 99;

    CU_ASSERT_EQUAL(sse_event_encode(out, sizeof out, NULL, &need), SSE_ERR_ARG);
    CU_ASSERT_EQUAL(sse_event_encode(NULL, 0, NULL, NULL), SSE_ERR_ARG);
    CU_ASSERT_EQUAL(need, 99);
}

static void test_event_null_buf_with_cap(void)
{
    sse_event_t ev = data_ev("x");
    size_t need = 0;

    /* NULL buf is only a size query when cap is 0. */
    CU_ASSERT_EQUAL(sse_event_encode(NULL, 10, &ev, &need), SSE_ERR_ARG);
    CU_ASSERT_EQUAL(sse_event_comment(NULL, 10, "x", &need), SSE_ERR_ARG);
    CU_ASSERT_EQUAL(sse_event_retry(NULL, 10, 5, &need), SSE_ERR_ARG);
}

static void test_event_size_query(void)
{
    sse_event_t ev;
    size_t need = 0;

    memset(&ev, 0, sizeof ev);
    ev.event = "tick";
    ev.has_id_num = 1;
    ev.id_num = 123;
    ev.data = "a\r\nbc";
    ev.data_len = 5;
    CU_ASSERT_EQUAL(sse_event_encode(NULL, 0, &ev, &need), SSE_ERR_TOO_LARGE);
    CU_ASSERT_EQUAL(need, strlen("event: tick\nid: 123\ndata: a\ndata: bc\n\n"));
    CU_ASSERT_EQUAL(sse_event_comment(NULL, 0, "hb", &need), SSE_ERR_TOO_LARGE);
    CU_ASSERT_EQUAL(need, strlen(": hb\n\n"));
    CU_ASSERT_EQUAL(sse_event_comment(NULL, 0, NULL, &need), SSE_ERR_TOO_LARGE);
    CU_ASSERT_EQUAL(need, 3);
    CU_ASSERT_EQUAL(sse_event_retry(NULL, 0, 1000, &need), SSE_ERR_TOO_LARGE);
    CU_ASSERT_EQUAL(need, strlen("retry: 1000\n\n"));
    /* A buffer of cap 0 that is not NULL behaves the same. */
    need = 0;
    CU_ASSERT_EQUAL(sse_event_encode(guard_buf(0), 0, &ev, &need), SSE_ERR_TOO_LARGE);
    CU_ASSERT_EQUAL(need, strlen("event: tick\nid: 123\ndata: a\ndata: bc\n\n"));
}

static void test_event_exact_fit(void)
{
    static const char *datas[] = {
        "", "a", "a\n", "\r\n", "x\ry\nz\r\nw", "\r\r\n\n\r",
        "caf\xC3\xA9\n\xF0\x9F\x98\x80 and a longer line to cross word sizes",
    };
    sse_event_t ev;
    uint32_t r = 0;

    for (size_t i = 0; i < sizeof datas / sizeof datas[0]; i++) {
        ev = data_ev(datas[i]);
        CU_ASSERT(check_bounds(enc_event, &ev) > 0);
        ev.event = "name";
        ev.has_id_num = 1;
        ev.id_num = UINT64_MAX;
        ev.has_retry = 1;
        ev.retry_ms = UINT32_MAX;
        CU_ASSERT(check_bounds(enc_event, &ev) > 0);
        ev.has_id_num = 0;
        ev.id = "some-id";
        CU_ASSERT(check_bounds(enc_event, &ev) > 0);
        CU_ASSERT(check_bounds(enc_comment, datas[i]) > 0);
    }
    memset(&ev, 0, sizeof ev);
    ev.id = "";
    CU_ASSERT_EQUAL(check_bounds(enc_event, &ev), (int)strlen("id: \n\n"));
    CU_ASSERT_EQUAL(check_bounds(enc_comment, NULL), (int)strlen(":\n\n"));
    CU_ASSERT_EQUAL(check_bounds(enc_retry, &r), (int)strlen("retry: 0\n\n"));
    r = UINT32_MAX;
    CU_ASSERT_EQUAL(check_bounds(enc_retry, &r), (int)strlen("retry: 4294967295\n\n"));
}

static void test_event_comment_frame(void)
{
    expect_comment(NULL, ":\n\n");
    expect_comment("", ":\n\n");
    expect_comment("hb", ": hb\n\n");
    expect_comment("a\nb", ": a\n: b\n\n");
    expect_comment("a\r\nb\rc", ": a\n: b\n: c\n\n");
    expect_comment("a\n", ": a\n: \n\n");
    expect_comment("\n\r", ": \n: \n: \n\n");
    expect_comment("\r\r\n", ": \n: \n: \n\n");

    /* A comment frame dispatches nothing and sets nothing. */
    {
        char out[64];
        parsed_t p;
        int rc = sse_event_comment(out, sizeof out, "x\ndata: y\r\nid: 3", NULL);
        CU_ASSERT_FATAL(rc > 0);
        sse_parse(out, (size_t)rc, &p);
        CU_ASSERT_EQUAL(p.dispatched, 0);
        CU_ASSERT_STRING_EQUAL(p.last_id, "");
        free(p.data);
    }
}

static void test_event_retry_frame(void)
{
    expect_retry(0, "retry: 0\n\n");
    expect_retry(7, "retry: 7\n\n");
    expect_retry(5000, "retry: 5000\n\n");
    expect_retry(1000000000u, "retry: 1000000000\n\n");
    expect_retry(UINT32_MAX, "retry: 4294967295\n\n");
    {
        char out[32];
        parsed_t p;
        int rc = sse_event_retry(out, sizeof out, 5000, NULL);
        CU_ASSERT_FATAL(rc > 0);
        sse_parse(out, (size_t)rc, &p);
        CU_ASSERT_EQUAL(p.retry, 5000);
        CU_ASSERT_EQUAL(p.dispatched, 0);
        free(p.data);
    }
}

static void test_event_utf8_valid_cases(void)
{
    static const struct {
        const char *s;
        int ok;
    } t[] = {
        { "", 1 },
        { "plain ascii", 1 },
        { "\x7F", 1 },
        { "\xC2\x80", 1 },              /* U+0080, smallest 2-byte */
        { "\xDF\xBF", 1 },              /* U+07FF */
        { "\xE0\xA0\x80", 1 },          /* U+0800, smallest 3-byte */
        { "\xED\x9F\xBF", 1 },          /* U+D7FF, just below surrogates */
        { "\xEE\x80\x80", 1 },          /* U+E000, just above */
        { "\xEF\xBF\xBF", 1 },          /* U+FFFF */
        { "\xEF\xBB\xBF", 1 },          /* BOM is a valid character */
        { "\xF0\x90\x80\x80", 1 },      /* U+10000 */
        { "\xF4\x8F\xBF\xBF", 1 },      /* U+10FFFF */
        { "\xC0\x80", 0 },              /* overlong NUL */
        { "\xC1\xBF", 0 },              /* overlong */
        { "\xE0\x9F\xBF", 0 },          /* overlong 3-byte */
        { "\xF0\x8F\xBF\xBF", 0 },      /* overlong 4-byte */
        { "\xED\xA0\x80", 0 },          /* U+D800 */
        { "\xED\xBF\xBF", 0 },          /* U+DFFF */
        { "\xF4\x90\x80\x80", 0 },      /* U+110000 */
        { "\xF5\x80\x80\x80", 0 },
        { "\xF8\x88\x80\x80\x80", 0 },  /* 5-byte form */
        { "\xFE", 0 },
        { "\xFF", 0 },
        { "\x80", 0 },                  /* stray continuation */
        { "a\xBF", 0 },
        { "\xC3", 0 },                  /* truncated */
        { "\xE2\x82", 0 },
        { "\xF0\x9F\x98", 0 },
        { "\xC3\x28", 0 },              /* bad continuation */
        { "\xE2\x28\xA1", 0 },
        { "\xE2\x82\x28", 0 },
        { "\xF0\x9F\x28\x80", 0 },
        { "\xF0\x9F\x98\x28", 0 },
    };

    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        size_t n = strlen(t[i].s);
        CU_ASSERT_EQUAL(sse_utf8_valid(t[i].s, n), t[i].ok);
        CU_ASSERT_EQUAL(ref_utf8_valid((const unsigned char *)t[i].s, n), t[i].ok);
    }
    /* NUL is a valid character when the length says so. */
    CU_ASSERT_EQUAL(sse_utf8_valid("a\0b", 3), 1);
    CU_ASSERT_EQUAL(sse_utf8_valid(NULL, 0), 1);
    CU_ASSERT_EQUAL(sse_utf8_valid(NULL, 1), 0);
}

static void test_event_utf8_valid_exhaustive(void)
{
    unsigned char b[4];
    unsigned a, c, d;
    unsigned mismatches = 0;

    /* Every 1- and 2-byte input, and every 3-byte input with a lead >= 0xC0
     * and a third byte drawn from the boundary classes. */
    for (a = 0; a < 256; a++) {
        b[0] = (unsigned char)a;
        if (sse_utf8_valid((char *)b, 1) != ref_utf8_valid(b, 1))
            mismatches++;
        for (c = 0; c < 256; c++) {
            static const unsigned char thirds[] = { 0x00, 0x28, 0x7F, 0x80, 0x9F, 0xA0, 0xBF, 0xC0, 0xFF };
            b[1] = (unsigned char)c;
            if (sse_utf8_valid((char *)b, 2) != ref_utf8_valid(b, 2))
                mismatches++;
            if (a < 0xC0)
                continue;
            for (d = 0; d < sizeof thirds; d++) {
                b[2] = thirds[d];
                if (sse_utf8_valid((char *)b, 3) != ref_utf8_valid(b, 3))
                    mismatches++;
                b[3] = 0x80 + (unsigned char)(rnd() & 0x3F);
                if (sse_utf8_valid((char *)b, 4) != ref_utf8_valid(b, 4))
                    mismatches++;
            }
        }
    }
    CU_ASSERT_EQUAL(mismatches, 0);
}

/* Random byte strings (biased towards UTF-8 pieces and breaks): the framer,
 * the validator and the reference agree, and valid ones round-trip. */
static void test_event_utf8_random_vs_reference(void)
{
    static const unsigned char pool[] = {
        'a', ' ', '\r', '\n', 0x00, 0x7F, 0x80, 0xBF, 0xC2, 0xDF, 0xE0, 0xED,
        0xEF, 0xF0, 0xF4, 0xF5, 0xA0, 0x9F, 0x90, 0x8F, 0xC0, 0xFF,
    };
    unsigned mism = 0, valid_seen = 0;

    for (int it = 0; it < 20000; it++) {
        unsigned char s[48];
        size_t n = rnd() % sizeof s, i;
        int ref, rc;
        sse_event_t ev;
        char out[48 * 7 + 16];

        for (i = 0; i < n; i++)
            s[i] = (rnd() & 1) ? pool[rnd() % sizeof pool] : (unsigned char)rnd();
        ref = ref_utf8_valid(s, n);
        if (sse_utf8_valid((const char *)s, n) != ref)
            mism++;
        memset(&ev, 0, sizeof ev);
        ev.data = (const char *)s;
        ev.data_len = n;
        rc = sse_event_encode(out, sizeof out, &ev, NULL);
        if (ref ? rc <= 0 : rc != SSE_ERR_INVALID)
            mism++;
        if (ref) {
            valid_seen++;
            round_trip((const char *)s, n);
        }
    }
    CU_ASSERT_EQUAL(mism, 0);
    CU_ASSERT(valid_seen > 100);
}

/* The word-at-a-time skip: a break or a bad byte at every offset and every
 * alignment of a long ASCII run is found. */
static void test_event_scan_alignment(void)
{
    char *mem = malloc(128);
    CU_ASSERT_FATAL(mem != NULL);
    for (size_t align = 0; align < 8; align++) {
        for (size_t len = 1; len <= 64; len++) {
            char *s = mem + align;
            for (size_t pos = 0; pos < len; pos++) {
                char out[1024];
                parsed_t p;
                sse_event_t ev;
                int rc;

                memset(s, 'x', len);
                s[pos] = '\r';
                memset(&ev, 0, sizeof ev);
                ev.data = s;
                ev.data_len = len;
                rc = sse_event_encode(out, sizeof out, &ev, NULL);
                CU_ASSERT_EQUAL(rc, (int)(len + 14)); /* 2 lines + "\n" */
                if (rc > 0) {
                    sse_parse(out, (size_t)rc, &p);
                    CU_ASSERT_EQUAL(p.data_len, len);
                    CU_ASSERT(p.data_len == len && p.data[pos] == '\n' &&
                              memchr(p.data, '\r', len) == NULL);
                    free(p.data);
                }
                s[pos] = '\n';
                CU_ASSERT_EQUAL(sse_event_encode(out, sizeof out, &ev, NULL),
                                (int)(len + 14));
                s[pos] = (char)0xC3; /* truncated or followed by 'x' */
                CU_ASSERT_EQUAL(sse_utf8_valid(s, len), 0);
                CU_ASSERT_EQUAL(sse_event_encode(out, sizeof out, &ev, NULL),
                                SSE_ERR_INVALID);
                s[pos] = 'y';
                CU_ASSERT_EQUAL(sse_event_encode(out, sizeof out, &ev, NULL),
                                (int)(len + 8));
            }
        }
    }
    free(mem);
}

static void test_event_round_trip_fixed(void)
{
    static const char *datas[] = {
        "", "a", "\n", "\r", "\r\n", "a\n", "\na", "a\r\r\nb", "a\n\rb",
        "\r\n\r\n", "\n\n\n", "\r\r\r", " leading space", "  two spaces",
        ": colon first", "data: nested", ("\xEF\xBB\xBF" "bom first"),
        "tail space ", "x\ry\nz\r\nw",
    };
    for (size_t i = 0; i < sizeof datas / sizeof datas[0]; i++)
        round_trip(datas[i], strlen(datas[i]));
    round_trip("n\0ul\r\0", 6);
}

static void test_event_round_trip_random(void)
{
    static const char *tok[] = {
        "a", "b", " ", ":", "\r", "\n", "\r\n", "\n\r", "\r\r\n", "",
        "data: ", "id: 1", "\xC3\xA9", "\xE2\x82\xAC", "\xF0\x9F\x98\x80",
        "\xEF\xBB\xBF", "\xF4\x8F\xBF\xBF", "long ascii run without breaks",
    };
    char s[1024];

    for (int it = 0; it < 5000; it++) {
        size_t n = 0, k = rnd() % 40;
        while (k--) {
            const char *t = tok[rnd() % (sizeof tok / sizeof tok[0])];
            size_t tl = strlen(t);
            if (rnd() % 16 == 0)
                s[n++] = '\0';
            memcpy(s + n, t, tl);
            n += tl;
        }
        CU_ASSERT_EQUAL(sse_utf8_valid(s, n), 1);
        round_trip(s, n);
    }
}

/* Full events (type, id, retry, data) parse back to what was given. */
static void test_event_round_trip_fields(void)
{
    static const char *names[] = { "update", "x", "\xC3\xA9v\xC3\xA9nement", "with space", "a:b" };
    static const char *ids[] = { "", "1", "abc def", " x", "\xE2\x82\xAC" };

    for (int it = 0; it < 500; it++) {
        sse_event_t ev;
        char out[512];
        parsed_t p;
        int rc;
        const char *want_id;
        char num[32];

        memset(&ev, 0, sizeof ev);
        ev.event = (rnd() & 1) ? names[rnd() % 5] : NULL;
        switch (rnd() % 3) {
        case 0: ev.id = ids[rnd() % 5]; break;
        case 1: ev.has_id_num = 1; ev.id_num = ((uint64_t)rnd() << 32) | rnd(); break;
        default: break;
        }
        ev.has_retry = (int)(rnd() & 1);
        ev.retry_ms = rnd();
        ev.data = "l1\r\nl2";
        ev.data_len = 6;
        rc = sse_event_encode(out, sizeof out, &ev, NULL);
        CU_ASSERT_FATAL(rc > 0);
        sse_parse(out, (size_t)rc, &p);
        CU_ASSERT_EQUAL(p.dispatched, 1);
        CU_ASSERT_STRING_EQUAL(p.type, ev.event != NULL ? ev.event : "message");
        CU_ASSERT(p.data_len == 5 && memcmp(p.data, "l1\nl2", 5) == 0);
        if (ev.has_id_num) {
            /* Decimal built the slow way to cross-check dec_put. */
            char tmp[32];
            uint64_t v = ev.id_num;
            size_t n = 0, j;
            do {
                tmp[n++] = (char)('0' + (int)(v % 10));
                v /= 10;
            } while (v);
            for (j = 0; j < n; j++)
                num[j] = tmp[n - 1 - j];
            num[n] = '\0';
            want_id = num;
        } else {
            want_id = ev.id != NULL ? ev.id : "";
        }
        CU_ASSERT_STRING_EQUAL(p.last_id, want_id);
        CU_ASSERT_EQUAL(p.retry, ev.has_retry ? (long long)ev.retry_ms : -1);
        free(p.data);
    }
}

static const tb_test_t tests[] = {
    TB_TEST(test_event_data_lf),
    TB_TEST(test_event_data_crlf),
    TB_TEST(test_event_data_cr),
    TB_TEST(test_event_data_mixed_breaks),
    TB_TEST(test_event_data_empty_and_null),
    TB_TEST(test_event_data_nul_bytes),
    TB_TEST(test_event_data_utf8),
    TB_TEST(test_event_field_order),
    TB_TEST(test_event_id_text),
    TB_TEST(test_event_id_numeric),
    TB_TEST(test_event_retry_field),
    TB_TEST(test_event_refuse_crlf_in_name_and_id),
    TB_TEST(test_event_refuse_bad_utf8),
    TB_TEST(test_event_refuse_empty_name),
    TB_TEST(test_event_refuse_no_fields),
    TB_TEST(test_event_refuse_id_and_id_num),
    TB_TEST(test_event_refuse_null_ev),
    TB_TEST(test_event_null_buf_with_cap),
    TB_TEST(test_event_size_query),
    TB_TEST(test_event_exact_fit),
    TB_TEST(test_event_comment_frame),
    TB_TEST(test_event_retry_frame),
    TB_TEST(test_event_utf8_valid_cases),
    TB_TEST(test_event_utf8_valid_exhaustive),
    TB_TEST(test_event_utf8_random_vs_reference),
    TB_TEST(test_event_scan_alignment),
    TB_TEST(test_event_round_trip_fixed),
    TB_TEST(test_event_round_trip_random),
    TB_TEST(test_event_round_trip_fields),
};

int test_event_register(void)
{
    return TB_SUITE("event", suite_init, suite_clean, tests);
}
