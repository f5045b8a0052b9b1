/* SPDX-License-Identifier: MIT */
/* Suite "publish": POST /publish (core/sse_ingest.c) through real sockets
 * and curl: bodies that become events on streams, every refusal with its
 * status, bodies split, trickled and abandoned, the slot given back. With
 * CONFIG_SSE_PUBLISH_BODY_MAX 0 (compiled out) it checks the refusal at
 * start and that POST bodies are still refused as before. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <CUnit/CUnit.h>

#include "ssedge/sse.h"
#include "tests.h"
#include "test_util.h"
#include "backend/backend.h"

#define TOKEN "pub-0123456789abcdef"
#define AUTH "Authorization: Bearer " TOKEN "\r\n"

static const sse_route_t routes[] = {
    { .path = "/events", .channel = SSE_CHANNEL_NONE },
};
static const char *const chan_names[] = { "a", "b" };

static void cfg_publish(sse_server_cfg_t *cfg)
{
    server_cfg(cfg, routes, 1);
    cfg->channel_names = chan_names;
    cfg->num_channel_names = 2;
    cfg->publish_token = TOKEN;
}

/* Send @p req, read the answer to its end. */
static reader_t *roundtrip(const char *req)
{
    reader_t *c = client_open(req);
    rd_until_eof(c, 3000);
    CU_ASSERT(c->eof);
    return c;
}

/* Status of an answer ("HTTP/1.1 NNN "), 0 if none. */
static int status_of(const reader_t *c)
{
    int st = 0;
    if (sscanf(c->buf, "HTTP/1.1 %d ", &st) != 1)
        return 0;
    return st;
}

/* "POST /publish?QUERY" with headers and body (Content-Length from it),
 * one request a connection (Connection: close: HTTP/1.1 would keep it). */
static void post_req(char *out, size_t cap, const char *query, const char *headers,
                     const char *body)
{
    snprintf(out, cap, "POST /publish%s%s HTTP/1.1\r\nHost: t\r\nConnection: close\r\n"
             "%sContent-Length: %u\r\n\r\n%s",
             query[0] ? "?" : "", query, headers, (unsigned)strlen(body), body);
}

#if CONFIG_SSE_PUBLISH_BODY_MAX > 0


static const char *body_of(const reader_t *c)
{
    const char *b = strstr(c->buf, "\r\n\r\n");
    return b ? b + 4 : "";
}

/* A body becomes one event with the name and channel asked for; the
 * answer is 201 with its id, and streams get it with that id. */
static void test_publish_body_becomes_event(void)
{
    sse_server_cfg_t cfg;
    reader_t *all, *chb, *c;
    char req[512];
    ev_t ev;
    uint64_t id;
    cfg_publish(&cfg);
    start_with(&cfg);
    all = stream_open("/events");
    chb = stream_open("/events?ch=b");
    CU_ASSERT_EQUAL(settle(active_i, 2, 2000), 2);
    sleep_ms(50); /* the streams are registered once their heads are out */

    post_req(req, sizeof req, "event=temp", AUTH "Content-Type: text/plain\r\n", "21.5");
    c = roundtrip(req);
    CU_ASSERT_EQUAL(status_of(c), 201);
    id = strtoull(body_of(c), NULL, 10);
    CU_ASSERT(id > 0);
    CU_ASSERT(strstr(c->buf, "\r\nContent-Type: text/plain\r\n") != NULL);
    client_close(c);
    CU_ASSERT_FATAL(next_event(all, &ev, 2000));
    CU_ASSERT_STRING_EQUAL(ev.event, "temp");
    CU_ASSERT_STRING_EQUAL(ev.data, "21.5");
    CU_ASSERT_EQUAL(ev.id, id);
    CU_ASSERT_FATAL(next_event(chb, &ev, 2000));
    CU_ASSERT_EQUAL(ev.id, id);

    /* Channel b only, a name with escapes, two lines, the token as ?token=
     * and a charset: the plain stream does not get it. */
    post_req(req, sizeof req, "ch=b&event=room%201+t&token=" TOKEN,
             "Content-Type: text/plain; charset=UTF-8\r\n", "l1\nl2");
    c = roundtrip(req);
    CU_ASSERT_EQUAL(status_of(c), 201);
    CU_ASSERT_EQUAL(strtoull(body_of(c), NULL, 10), id + 1);
    client_close(c);
    CU_ASSERT(rd_wait_for(chb, "data: l1\ndata: l2\n\n", 2000));
    CU_ASSERT_FATAL(next_event(chb, &ev, 2000));
    CU_ASSERT_STRING_EQUAL(ev.event, "room 1 t");
    CU_ASSERT_EQUAL(ev.id, id + 1);

    /* No name: "message"; octet-stream; an empty body is an empty data. */
    post_req(req, sizeof req, "", AUTH "Content-Type: application/octet-stream\r\n", "x");
    c = roundtrip(req);
    CU_ASSERT_EQUAL(status_of(c), 201);
    client_close(c);
    post_req(req, sizeof req, "", AUTH, "");
    c = roundtrip(req);
    CU_ASSERT_EQUAL(status_of(c), 201);
    client_close(c);
    CU_ASSERT_FATAL(next_event(all, &ev, 2000));
    CU_ASSERT_STRING_EQUAL(ev.event, ""); /* no event line: "message" */
    CU_ASSERT_STRING_EQUAL(ev.data, "x");
    CU_ASSERT_EQUAL(ev.id, id + 2); /* id + 1 went to channel b only */
    CU_ASSERT_FATAL(next_event(all, &ev, 2000));
    CU_ASSERT_EQUAL(ev.id, id + 3);
    CU_ASSERT_STRING_EQUAL(ev.data, "");

    /* The largest body the build takes. */
    {
        static char big[CONFIG_SSE_PUBLISH_BODY_MAX + 1], bigreq[CONFIG_SSE_PUBLISH_BODY_MAX + 256];
        uint64_t got;
        int st;
        memset(big, 'z', CONFIG_SSE_PUBLISH_BODY_MAX);
        big[CONFIG_SSE_PUBLISH_BODY_MAX] = 0;
        /* The encoded event adds "id: N\ndata: " and "\n\n": the largest
         * body that fits CONFIG_SSE_MAX_EVENT_BYTES is a little less. */
        big[CONFIG_SSE_PUBLISH_BODY_MAX - 32] = 0;
        post_req(bigreq, sizeof bigreq, "", AUTH, big);
        c = roundtrip(bigreq);
        st = status_of(c);
        CU_ASSERT_EQUAL(st, 201);
        got = strtoull(body_of(c), NULL, 10);
        client_close(c);
        CU_ASSERT(rd_wait_for(all, big, 2000));
        CU_ASSERT(got == id + 4);
    }
    client_close(all);
    client_close(chb);
    CU_ASSERT_EQUAL(sse_server_stop(), SSE_OK);
}

/* Every refusal, with its status, and nothing published by any. */
static void test_publish_refusals(void)
{
    static char over[CONFIG_SSE_PUBLISH_BODY_MAX + 2];
    static char big_event[CONFIG_SSE_PUBLISH_BODY_MAX + 1];
    static const char bad_utf8[] = "ab\xC3\x28";
    char req[CONFIG_SSE_PUBLISH_BODY_MAX + 512];
    static const struct {
        const char *query, *headers, *body;
        int status;
        const char *header; /* a header line the answer must carry, or NULL */
    } cases[] = {
        { "", "", "1", 401, "\r\nWWW-Authenticate: Bearer realm=\"ssedge\"\r\n" },
        { "", "Authorization: Bearer pub-0123456789abcdeX\r\n", "1", 403, NULL },
        { "", "Authorization: Basic cHViOnB1Yg==\r\n", "1", 403, NULL },
        { "token=pub-0123456789abcde", "", "1", 403, NULL },
        { "", AUTH "Content-Type: application/json\r\n", "{}", 415, NULL },
        { "", AUTH "Content-Type: text/plain; charset=iso-8859-1\r\n", "1", 415, NULL },
        { "", AUTH "Content-Type: text/html\r\n", "1", 415, NULL },
        { "", AUTH, bad_utf8, 400, NULL },
        { "ch=nope", AUTH, "1", 400, NULL },
        { "event=a%0Ab", AUTH, "1", 400, NULL },
        { "event=a%zz", AUTH, "1", 400, NULL },
        { "event=a%00", AUTH, "1", 400, NULL },
        { "", AUTH, over, 413, NULL },
#if CONFIG_SSE_PUBLISH_BODY_MAX + 16 > CONFIG_SSE_MAX_EVENT_BYTES
        { "", AUTH, big_event, 413, NULL }, /* fits the body limit, not an event */
#endif
    };
    sse_server_cfg_t cfg;
    sse_stats_t st;
    uint64_t last, auth;
    size_t i;
    memset(over, 'o', sizeof over - 1);
    memset(big_event, 'e', sizeof big_event - 1);
    cfg_publish(&cfg);
    start_with(&cfg);
    sse_server_stats(&st);
    last = st.last_id;
    auth = st.auth_failures;
    tb_log_start();
    for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        reader_t *c;
        post_req(req, sizeof req, cases[i].query, cases[i].headers, cases[i].body);
        c = roundtrip(req);
        if (status_of(c) != cases[i].status) {
            fprintf(stderr, "\ncase %zu: want %d, got '%.60s'\n", i, cases[i].status, c->buf);
            CU_FAIL("status");
        }
        if (cases[i].header)
            CU_ASSERT(strstr(c->buf, cases[i].header) != NULL);
        auth += cases[i].status == 401 || cases[i].status == 403;
        client_close(c);
    }
    tb_log_stop();
    /* Each refusal is logged with the client and the reason. */
    CU_ASSERT(strstr(tb_log_text(), ": POST /publish refused: 401 (no token") != NULL);
    CU_ASSERT(strstr(tb_log_text(), ": POST /publish refused: 415 (Content-Type") != NULL);
    CU_ASSERT(strstr(tb_log_text(), ": POST /publish refused: 400 (unknown channel") != NULL);
    /* No length, chunked, another method: 411, 411, 405. */
    {
        static const struct { const char *req; int status; } raw[] = {
            { "POST /publish HTTP/1.1\r\nHost: t\r\n" AUTH "\r\n", 411 },
            { "POST /publish HTTP/1.1\r\nHost: t\r\n" AUTH
              "Transfer-Encoding: chunked\r\n\r\n1\r\nx\r\n0\r\n\r\n", 411 },
            { "GET /publish HTTP/1.1\r\nHost: t\r\n" AUTH "\r\n", 405 },
            { "PUT /publish HTTP/1.1\r\nHost: t\r\n" AUTH "Content-Length: 1\r\n\r\nx", 405 },
            /* Other paths still refuse bodies. */
            { "POST /other HTTP/1.1\r\nHost: t\r\n" AUTH "Content-Length: 1\r\n\r\nx", 413 },
        };
        for (i = 0; i < sizeof raw / sizeof raw[0]; i++) {
            reader_t *c = roundtrip(raw[i].req);
            if (status_of(c) != raw[i].status) {
                fprintf(stderr, "\nraw case %zu: want %d, got '%.60s'\n", i, raw[i].status,
                        c->buf);
                CU_FAIL("status");
            }
            if (raw[i].status == 405)
                CU_ASSERT(strstr(c->buf, "\r\nAllow: POST\r\n") != NULL);
            client_close(c);
        }
    }
    sse_server_stats(&st);
    CU_ASSERT_EQUAL(st.last_id, last);        /* nothing was published */
    CU_ASSERT_EQUAL(st.auth_failures, auth);  /* 401s and 403s counted */
    CU_ASSERT_EQUAL(settle(active_i, 0, 2000), 0);
    CU_ASSERT_EQUAL(sse_server_stop(), SSE_OK);
}

/* Head and body in separate sends, and Expect: 100-continue answered
 * before the body is sent. */
static void test_publish_split_and_continue(void)
{
    sse_server_cfg_t cfg;
    reader_t *c;
    cfg_publish(&cfg);
    start_with(&cfg);
    c = client_open("POST /publish HTTP/1.1\r\nHost: t\r\nConnection: close\r\n" AUTH
                    "Content-Length: 11\r\n\r\nhel");
    sleep_ms(100);
    CU_ASSERT(send_str(c->fd, "lo ") == 0);
    sleep_ms(100);
    CU_ASSERT(send_str(c->fd, "world") == 0);
    rd_until_eof(c, 3000);
    CU_ASSERT_EQUAL(status_of(c), 201);
    client_close(c);

    c = client_open("POST /publish HTTP/1.1\r\nHost: t\r\nConnection: close\r\n" AUTH
                    "Expect: 100-continue\r\nContent-Length: 3\r\n\r\n");
    CU_ASSERT_FATAL(rd_wait_for(c, "\r\n\r\n", 2000));
    CU_ASSERT(strncmp(c->buf, "HTTP/1.1 100 Continue\r\n\r\n", 25) == 0);
    CU_ASSERT(send_str(c->fd, "abc") == 0);
    rd_until_eof(c, 3000);
    CU_ASSERT(strstr(c->buf, "\r\n\r\nHTTP/1.1 201 ") != NULL);
    client_close(c);
    CU_ASSERT_EQUAL(sse_server_stop(), SSE_OK);
}

/* A body trickled byte by byte and then abandoned is reaped at the header
 * timeout (408) with its slot back; one that is cut off frees it at once
 * (a half-close still reads a 400); none holds up another publisher. */
static void test_publish_trickle_abandoned(void)
{
    sse_server_cfg_t cfg;
    reader_t *slow, *cut, *c;
    char req[256];
    sse_stats_t st;
    uint64_t last;
    long t0;
    int i;
    cfg_publish(&cfg);
    cfg.header_timeout_ms = 600;
    start_with(&cfg);
    sse_server_stats(&st);
    last = st.last_id;
    t0 = now_ms();
    slow = client_open("POST /publish HTTP/1.1\r\nHost: t\r\n" AUTH "Content-Length: 20\r\n\r\n");
    cut = client_open("POST /publish HTTP/1.1\r\nHost: t\r\n" AUTH "Content-Length: 20\r\n\r\nab");
    for (i = 0; i < 5; i++) { /* 5 of 20 bytes, one every 50 ms */
        CU_ASSERT(send_str(slow->fd, "x") == 0);
        sleep_ms(50);
    }
    CU_ASSERT_EQUAL(active_i(), 2);
    client_close(cut); /* the client goes away mid-body */
    CU_ASSERT_EQUAL(settle(active_i, 1, 1000), 1);
    /* Another publisher is served meanwhile. */
    post_req(req, sizeof req, "", AUTH, "meanwhile");
    c = roundtrip(req);
    CU_ASSERT_EQUAL(status_of(c), 201);
    client_close(c);
    /* The trickler: 408 at the header timeout (counted from its first byte). */
    rd_until_eof(slow, 3000);
    CU_ASSERT(slow->eof);
    CU_ASSERT_EQUAL(status_of(slow), 408);
    CU_ASSERT(now_ms() - t0 >= 550 && now_ms() - t0 < 2500);
    client_close(slow);
    CU_ASSERT_EQUAL(settle(active_i, 0, 1000), 0);
    sse_server_stats(&st);
    CU_ASSERT_EQUAL(st.last_id, last + 1); /* only "meanwhile" */
    /* One that ends its side mid-body still reads a 400. */
    c = client_open("POST /publish HTTP/1.1\r\nHost: t\r\n" AUTH "Content-Length: 9\r\n\r\nhalf");
    CU_ASSERT(shutdown(c->fd, SHUT_WR) == 0);
    rd_until_eof(c, 3000);
    CU_ASSERT_EQUAL(status_of(c), 400);
    CU_ASSERT(strstr(c->buf, "before its Content-Length") != NULL);
    client_close(c);
    /* A publisher that sends its head and nothing more: 408 as well. */
    c = client_open("POST /publish HTTP/1.1\r\nHost: t\r\n" AUTH "Content-Length: 5\r\n\r\n");
    rd_until_eof(c, 3000);
    CU_ASSERT_EQUAL(status_of(c), 408);
    client_close(c);
    CU_ASSERT_EQUAL(settle(active_i, 0, 1000), 0);
    CU_ASSERT_EQUAL(sse_server_stop(), SSE_OK);
}

/* curl as a script would use it: --data-binary, a wrong token, chunked,
 * oversize. "%{http_code} body" is what each prints. */
static void test_publish_curl(void)
{
    static const struct {
        const char *args;
        const char *want; /* start of "CODE BODY" */
    } cases[] = {
        { "-H 'Authorization: Bearer " TOKEN "' --data-binary 'from curl'", "201 " },
        { "-H 'Authorization: Bearer " TOKEN "' -H 'Content-Type: text/plain' "
          "--data-binary @-", "201 " },
        { "-H 'Authorization: Bearer nope-nope-nope-nope' --data-binary x", "403 " },
        { "--data-binary x", "401 " },
        { "-H 'Authorization: Bearer " TOKEN "' -H 'Transfer-Encoding: chunked' "
          "--data-binary x", "411 " },
        { "-H 'Authorization: Bearer " TOKEN "' --data-binary @big", "413 " },
    };
    sse_server_cfg_t cfg;
    reader_t *s;
    char cmd[512], out[256], dir[] = "/tmp/sse-publish.XXXXXX", path[64];
    size_t i;
    ev_t ev;
    FILE *f;
    cfg_publish(&cfg);
    start_with(&cfg);
    CU_ASSERT_FATAL(mkdtemp(dir) != NULL);
    snprintf(path, sizeof path, "%s/big", dir);
    f = fopen(path, "w");
    CU_ASSERT_FATAL(f != NULL);
    for (i = 0; i <= CONFIG_SSE_PUBLISH_BODY_MAX; i++)
        fputc('b', f);
    fclose(f);
    s = stream_open("/events");
    sleep_ms(50);
    for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        FILE *p;
        size_t n;
        /* -application/x-www-form-urlencoded is curl's default type for
         * --data: ask for text/plain unless the case sets its own. */
        snprintf(cmd, sizeof cmd,
                 "cd %s && printf 'from stdin' | curl -sS --max-time 5 -o - -w '%%{http_code} ' "
                 "%s %s 'http://%s:%u/publish?event=c' 2>&1", dir,
                 strstr(cases[i].args, "Content-Type") ? "" : "-H 'Content-Type:'",
                 cases[i].args, tb_client_addr(), (unsigned)sse_server_port());
        p = popen(cmd, "r");
        CU_ASSERT_PTR_NOT_NULL_FATAL(p);
        n = fread(out, 1, sizeof out - 1, p);
        out[n] = 0;
        pclose(p);
        /* -o - prints the body first, then the code: "BODY CODE ". */
        if (!strstr(out, cases[i].want)) {
            fprintf(stderr, "\ncurl case %zu: want '%s', got '%s'\n", i, cases[i].want, out);
            CU_FAIL("curl");
        }
    }
    CU_ASSERT(next_event(s, &ev, 2000) && strcmp(ev.data, "from curl") == 0);
    CU_ASSERT(next_event(s, &ev, 2000) && strcmp(ev.data, "from stdin") == 0);
    client_close(s);
    unlink(path);
    rmdir(dir);
    CU_ASSERT_EQUAL(sse_server_stop(), SSE_OK);
}

/* A page of an allowed origin may POST: the preflight allows POST with
 * Authorization; the answer carries the origin; others get 403. */
static void test_publish_cors(void)
{
    static const char *const origins[] = { "http://page.test" };
    sse_server_cfg_t cfg;
    reader_t *c;
    char req[512];
    cfg_publish(&cfg);
    cfg.cors_origins = origins;
    cfg.num_cors_origins = 1;
    start_with(&cfg);
    c = roundtrip("OPTIONS /publish HTTP/1.1\r\nHost: t\r\nOrigin: http://page.test\r\n"
                  "Access-Control-Request-Method: POST\r\n"
                  "Access-Control-Request-Headers: authorization\r\n\r\n");
    CU_ASSERT_EQUAL(status_of(c), 204);
    CU_ASSERT(strstr(c->buf, "\r\nAccess-Control-Allow-Origin: http://page.test\r\n") != NULL);
    CU_ASSERT(strstr(c->buf, "\r\nAccess-Control-Allow-Methods: POST, OPTIONS\r\n") != NULL);
    CU_ASSERT(strstr(c->buf, "\r\nAccess-Control-Allow-Headers: Authorization, Content-Type\r\n")
              != NULL);
    client_close(c);
    c = roundtrip("OPTIONS /publish HTTP/1.1\r\nHost: t\r\nOrigin: http://other.test\r\n\r\n");
    CU_ASSERT_EQUAL(status_of(c), 403);
    client_close(c);
    post_req(req, sizeof req, "", AUTH "Origin: http://page.test\r\n", "from a page");
    c = roundtrip(req);
    CU_ASSERT_EQUAL(status_of(c), 201);
    CU_ASSERT(strstr(c->buf, "\r\nAccess-Control-Allow-Origin: http://page.test\r\n") != NULL);
    client_close(c);
    CU_ASSERT_EQUAL(sse_server_stop(), SSE_OK);
}

/* A keep-alive POST of @p body ("" headers: none more). */
static void keep_req(char *out, size_t cap, const char *headers, const char *body)
{
    snprintf(out, cap, "POST /publish HTTP/1.1\r\nHost: t\r\n%sContent-Length: %u\r\n\r\n%s",
             headers, (unsigned)strlen(body), body);
}

/* Answers in c->buf so far, each complete (its one-line body read). */
static int answers(reader_t *c, int want, long ms)
{
    long end = now_ms() + ms;
    for (;;) {
        int n = 0;
        const char *p = c->buf, *b;
        while ((p = strstr(p, "HTTP/1.1 ")) != NULL && (b = strstr(p, "\r\n\r\n")) != NULL &&
               strchr(b + 4, '\n') != NULL) {
            n++;
            p = strchr(b + 4, '\n');
        }
        if (n >= want || now_ms() >= end || rd_fill(c, 50) < 0)
            return n;
    }
}

/* HTTP/1.1 keeps the connection for the next POST: one, then two sent
 * together in one write, then one with Connection: close that ends it;
 * each answered 201 with the next id and no Connection: close before the
 * last, every event on the stream in order. A refusal closes at once; a
 * kept connection left idle is closed at the header timeout, slot back. */
static void test_publish_keep_alive(void)
{
    static const char *const data[] = { "first", "second", "third", "fourth" };
    sse_server_cfg_t cfg;
    reader_t *all, *c;
    char req[256], two[512];
    ev_t ev;
    uint64_t first_id = 0;
    const char *p;
    long t0;
    int i;
    cfg_publish(&cfg);
    cfg.header_timeout_ms = 600;
    start_with(&cfg);
    all = stream_open("/events");
    CU_ASSERT_EQUAL(settle(streams_i, 1, 2000), 1);

    keep_req(req, sizeof req, AUTH, data[0]);
    c = client_open(req);
    CU_ASSERT_EQUAL(answers(c, 1, 3000), 1);
    keep_req(two, sizeof two, AUTH, data[1]);
    keep_req(req, sizeof req, AUTH, data[2]);
    strcat(two, req);
    CU_ASSERT(send_str(c->fd, two) == 0);
    CU_ASSERT_EQUAL(answers(c, 3, 3000), 3);
    CU_ASSERT(strstr(c->buf, "Connection: close") == NULL);
    CU_ASSERT(!c->eof);
    keep_req(req, sizeof req, AUTH "Connection: close\r\n", data[3]);
    CU_ASSERT(send_str(c->fd, req) == 0);
    CU_ASSERT(rd_until_eof(c, 3000));
    CU_ASSERT_EQUAL(answers(c, 4, 0), 4);
    for (i = 0, p = c->buf; i < 4 && (p = strstr(p, "HTTP/1.1 ")) != NULL; i++) {
        uint64_t id = strtoull(strstr(p, "\r\n\r\n") + 4, NULL, 10);
        CU_ASSERT_EQUAL(strncmp(p, "HTTP/1.1 201 ", 13), 0);
        if (i == 0)
            first_id = id;
        CU_ASSERT_EQUAL(id, first_id + (uint64_t)i);
        p += 9;
    }
    CU_ASSERT_EQUAL(i, 4);
    CU_ASSERT(strstr(c->buf, "\r\nConnection: close\r\n") != NULL); /* the last only */
    client_close(c);
    for (i = 0; i < 4; i++) {
        CU_ASSERT_FATAL(next_event(all, &ev, 2000));
        CU_ASSERT_STRING_EQUAL(ev.data, data[i]);
        CU_ASSERT_EQUAL(ev.id, first_id + (uint64_t)i);
    }

    /* A wrong token: 403, Connection: close, closed. */
    keep_req(req, sizeof req, "Authorization: Bearer nope-" TOKEN "\r\n", "x");
    c = client_open(req);
    CU_ASSERT(rd_until_eof(c, 3000));
    CU_ASSERT_EQUAL(status_of(c), 403);
    CU_ASSERT(strstr(c->buf, "\r\nConnection: close\r\n") != NULL);
    client_close(c);

    /* Left idle after a 201: closed at the header timeout (600 ms). */
    keep_req(req, sizeof req, AUTH, "idle");
    t0 = now_ms();
    c = client_open(req);
    CU_ASSERT_EQUAL(answers(c, 1, 3000), 1);
    CU_ASSERT(rd_until_eof(c, 3000));
    CU_ASSERT(now_ms() - t0 >= 500 && now_ms() - t0 < 2500);
    client_close(c);
    client_close(all);
    CU_ASSERT_EQUAL(settle(active_i, 0, 2000), 0);
    CU_ASSERT_EQUAL(sse_server_stop(), SSE_OK);
}

/* Off unless a token is set; a short token is refused at start. */
static void test_publish_off(void)
{
    sse_server_cfg_t cfg;
    reader_t *c;
    char req[256];
    cfg_publish(&cfg);
    cfg.publish_token = "short";
    CU_ASSERT_EQUAL(sse_server_start(&cfg), SSE_ERR_ARG);
    cfg.publish_token = NULL;
    start_with(&cfg);
    post_req(req, sizeof req, "", AUTH, "x");
    c = roundtrip(req);
    CU_ASSERT_EQUAL(status_of(c), 413); /* bodies refused, as on every path */
    client_close(c);
    CU_ASSERT_EQUAL(sse_server_stop(), SSE_OK);
}

static const tb_test_t tests[] = {
    TB_TEST(test_publish_body_becomes_event),
    TB_TEST(test_publish_refusals),
    TB_TEST(test_publish_split_and_continue),
    TB_TEST(test_publish_trickle_abandoned),
    TB_TEST(test_publish_curl),
    TB_TEST(test_publish_cors),
    TB_TEST(test_publish_keep_alive),
    TB_TEST(test_publish_off),
};

int test_publish_register(void)
{
    return TB_SUITE("publish", NULL, NULL, tests);
}

#else /* CONFIG_SSE_PUBLISH_BODY_MAX == 0 */

/* Compiled out: a token is refused at start, bodies are refused as ever. */
static void test_publish_compiled_out(void)
{
    sse_server_cfg_t cfg;
    reader_t *c;
    char req[256];
    cfg_publish(&cfg);
    tb_log_start();
    CU_ASSERT_EQUAL(sse_server_start(&cfg), SSE_ERR_ARG);
    tb_log_stop();
    CU_ASSERT(strstr(tb_log_text(), "CONFIG_SSE_PUBLISH_BODY_MAX is 0") != NULL);
    cfg.publish_token = NULL;
    CU_ASSERT_EQUAL_FATAL(sse_server_start(&cfg), SSE_OK);
    post_req(req, sizeof req, "", AUTH, "x");
    c = roundtrip(req);
    CU_ASSERT_EQUAL(status_of(c), 413);
    client_close(c);
    CU_ASSERT_EQUAL(sse_server_stop(), SSE_OK);
}

static const tb_test_t tests[] = {
    TB_TEST(test_publish_compiled_out),
};

int test_publish_register(void)
{
    return TB_SUITE("publish", NULL, NULL, tests);
}

#endif
