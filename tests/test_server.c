/* SPDX-License-Identifier: MIT */
/* Integration suite: the real server on real sockets and threads, driven by
 * a small C client and by curl. The same suite runs over both ports: the
 * backend (tests/backend/) says where the server binds and where clients
 * connect (POSIX: loopback; lwIP: lwIP's address on a tap link). */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <CUnit/CUnit.h>

#include "ssedge/sse.h"
#include "sse_timer.h"
#include "tests.h"
#include "test_util.h"
#include "backend/backend.h"

/* ---- helpers --------------------------------------------------------------- */


/* Threads of this process when no server runs: the test's own, plus any a
 * sanitizer runtime keeps (TSan has one). Measured at suite start. */
static int base_threads;

static int suite_init(void)
{
    int prev = -1, now = threads_now(), tries = 0;
    while (now != prev && tries++ < 50) { /* let exiting threads finish */
        prev = now;
        sleep_ms(50);
        now = threads_now();
    }
    base_threads = now;
    return 0;
}

static int timers_i(void) { return (int)sse_timer_count(); }

/* ---- server set-up ----------------------------------------------------------- */

static int hello_handler(sse_conn_t *c, const sse_request_t *req, void *user)
{
    (void)user;
    if (req->path.n == 6 && memcmp(req->path.p, "/hello", 6) == 0)
        return sse_reply(c, 200, "text/plain", NULL, "hi\n", 3);
    return SSE_ERR_INVALID; /* -> 404 */
}

static int conn_timer_fires;
static pthread_mutex_t fires_lock = PTHREAD_MUTEX_INITIALIZER;

static void conn_tick(sse_conn_id_t conn, void *arg)
{
    (void)arg;
    pthread_mutex_lock(&fires_lock);
    conn_timer_fires++;
    pthread_mutex_unlock(&fires_lock);
    sse_send_to(conn, "tick", "for you", 7, NULL);
}

static void timed_open(sse_conn_id_t conn, const sse_request_t *req, void *user)
{
    (void)req;
    (void)user;
    CU_ASSERT(sse_conn_timer_add(conn, 20, conn_tick, NULL) > 0);
}

/* Refuses with the status in user (204: "stop reconnecting"). */
static int refuse_with(const sse_request_t *req, void *user)
{
    (void)req;
    return *(const int *)user;
}
static const int status_204 = 204, status_403 = 403;

static const sse_route_t routes[] = {
    { .path = "/events", .channel = SSE_CHANNEL_NONE, .on_open = opened_record } /* the newest, for sse_conn_close */,
    { .path = "/ch1", .channel = 1 },
    { .path = "/timed", .channel = SSE_CHANNEL_NONE, .on_open = timed_open },
    { .path = "/gone", .channel = SSE_CHANNEL_NONE, .user = (void *)&status_204, .on_request = refuse_with },
    { .path = "/private", .channel = SSE_CHANNEL_NONE, .user = (void *)&status_403, .on_request = refuse_with },
    { .path = "/secure", .channel = SSE_CHANNEL_NONE, .token = "tok+en/0123456789=" },
};
static const char *const chan_names[] = { "a", "b", "c" };

static void cfg_default(sse_server_cfg_t *cfg)
{
    server_cfg(cfg, routes, sizeof routes / sizeof routes[0]);
    cfg->channel_names = chan_names;
    cfg->num_channel_names = 3;
    cfg->handler = hello_handler;
}

static void start_default(void)
{
    sse_server_cfg_t cfg;
    cfg_default(&cfg);
    start_with(&cfg);
}

static void publish_n(int n, const char *event)
{
    char data[64];
    int i;
    for (i = 0; i < n; i++) {
        int len = snprintf(data, sizeof data, "payload %d", i);
        CU_ASSERT_EQUAL(sse_publish(SSE_CHANNEL_ALL, event, data, (size_t)len, NULL), SSE_OK);
    }
}

/* ---- tests ------------------------------------------------------------------ */

static void test_server_stream_headers_and_frames(void)
{
    reader_t *c;
    ev_t ev;
    uint64_t id0;
    start_default();
    c = stream_open("/events");
    CU_ASSERT(strncmp(c->buf, "HTTP/1.1 200 OK\r\n", 17) == 0);
    CU_ASSERT(strstr(c->buf, "\r\nContent-Type: text/event-stream\r\n") != NULL);
    CU_ASSERT(strstr(c->buf, "\r\nCache-Control: no-cache, no-store\r\n") != NULL);
    CU_ASSERT(strstr(c->buf, "Access-Control-Allow-Origin") == NULL); /* CORS off */
    CU_ASSERT(strstr(c->buf, "\r\nX-Accel-Buffering: no\r\n") != NULL);
    CU_ASSERT(strstr(c->buf, "Content-Length") == NULL);
    CU_ASSERT(rd_wait_for(c, "retry: 1500\n\n", 1000));
    CU_ASSERT_EQUAL(settle(active_i, 1, 1000), 1);
    sleep_ms(50); /* the stream is registered once its head is out */
    CU_ASSERT_EQUAL(sse_publish(SSE_CHANNEL_ALL, "message", "hello", 5, &id0), SSE_OK);
    CU_ASSERT_EQUAL(sse_publish(SSE_CHANNEL_ALL, NULL, "two\nlines", 9, NULL), SSE_OK);
    CU_ASSERT_FATAL(next_event(c, &ev, 2000));
    CU_ASSERT_STRING_EQUAL(ev.event, "message");
    CU_ASSERT_STRING_EQUAL(ev.data, "hello");
    CU_ASSERT_EQUAL(ev.id, id0);
    CU_ASSERT(rd_wait_for(c, "data: two\ndata: lines\n\n", 2000));
    {
        char want[64];
        snprintf(want, sizeof want, "id: %llu\ndata: two\n", (unsigned long long)id0 + 1);
        CU_ASSERT(strstr(c->buf, want) != NULL);
    }
    client_close(c);
    CU_ASSERT_EQUAL(sse_server_stop(), SSE_OK);
}

static void test_server_plain_requests(void)
{
    static const struct {
        const char *req;
        const char *status_line;
    } cases[] = {
        { "GET /hello HTTP/1.1\r\nHost: x\r\n\r\n", "HTTP/1.1 200 OK" },
        { "GET /nope HTTP/1.1\r\nHost: x\r\n\r\n", "HTTP/1.1 404 " },
        { "POST /events HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\n\r\n", "HTTP/1.1 405 " },
        { "GET /events HTTP/1.1\r\nHost: x\r\nAccept: application/json\r\n\r\n", "HTTP/1.1 406 " },
        { "GARBAGE\r\n\r\n", "HTTP/1.1 400 " },
        { "GET /x HTTP/2.0\r\n\r\n", "HTTP/1.1 505 " },
        { "GET /x HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\n", "HTTP/1.1 400 " },
        { "POST /hello HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello", "HTTP/1.1 413 " },
        /* RFC 9112 3.2: HTTP/1.1 needs a Host; HTTP/1.0 does not. */
        { "GET /hello HTTP/1.1\r\n\r\n", "HTTP/1.1 400 " },
        { "GET /hello HTTP/1.0\r\n\r\n", "HTTP/1.1 200 OK" },
    };
    size_t i;
    start_default();
    for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        reader_t *c = client_open(cases[i].req);
        rd_until_eof(c, 2000);
        CU_ASSERT(c->eof);
        if (strncmp(c->buf, cases[i].status_line, strlen(cases[i].status_line)) != 0) {
            fprintf(stderr, "\ncase %zu: got '%.40s'\n", i, c->buf);
            CU_FAIL("wrong status");
        }
        client_close(c);
    }
    {   /* HEAD: the headers of the GET answer, no body, errors included */
        static const char *const heads[] = {
            "HEAD /nope HTTP/1.1\r\nHost: x\r\n\r\n",
            "HEAD /events HTTP/1.1\r\nHost: x\r\nAccept: application/json\r\n\r\n",
            "HEAD /secure HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\n\r\n",
        };
        static const char *const want[] = { "HTTP/1.1 404 ", "HTTP/1.1 406 ", "HTTP/1.1 401 " };
        for (i = 0; i < 3; i++) {
            reader_t *c = client_open(heads[i]);
            const char *end;
            rd_until_eof(c, 2000);
            CU_ASSERT(strncmp(c->buf, want[i], strlen(want[i])) == 0);
            CU_ASSERT(strstr(c->buf, "\r\nContent-Length: ") != NULL);
            end = strstr(c->buf, "\r\n\r\n");
            CU_ASSERT(end != NULL && end[4] == 0);
            client_close(c);
        }
    }
    {   /* Method names are case-sensitive: "get" is no GET (405 on a stream). */
        reader_t *c = client_open("get /events HTTP/1.1\r\nHost: x\r\n"
                                  "Accept: text/event-stream\r\n\r\n");
        rd_until_eof(c, 2000);
        CU_ASSERT(strncmp(c->buf, "HTTP/1.1 405 ", 13) == 0);
        client_close(c);
    }
    {   /* request line too long: 414 */
        char big[CONFIG_SSE_REQ_BUF_SIZE + 64];
        reader_t *c;
        memset(big, 'a', sizeof big);
        memcpy(big, "GET /", 5);
        big[sizeof big - 1] = 0;
        c = client_open(big);
        rd_until_eof(c, 2000);
        CU_ASSERT(strncmp(c->buf, "HTTP/1.1 414 ", 13) == 0);
        client_close(c);
    }
    {   /* too many headers: 431 */
        char req[4096];
        size_t n = (size_t)snprintf(req, sizeof req, "GET /hello HTTP/1.1\r\n");
        int k;
        for (k = 0; k < CONFIG_SSE_HTTP_MAX_HEADERS + 2 && n < sizeof req - 16; k++)
            n += (size_t)snprintf(req + n, sizeof req - n, "X%d: y\r\n", k);
        snprintf(req + n, sizeof req - n, "\r\n");
        reader_t *c = client_open(req);
        rd_until_eof(c, 2000);
        CU_ASSERT(strncmp(c->buf, "HTTP/1.1 431 ", 13) == 0);
        client_close(c);
    }
    CU_ASSERT_EQUAL(sse_server_stop(), SSE_OK);
}

static void test_server_header_timeout_408(void)
{
    sse_server_cfg_t cfg;
    reader_t *c;
    long t0;
    cfg_default(&cfg);
    cfg.header_timeout_ms = 300;
    start_with(&cfg);
    c = client_open("GET /events HTTP/1.1\r\nHost: x\r\n"); /* never finished */
    t0 = now_ms();
    rd_until_eof(c, 3000);
    CU_ASSERT(strncmp(c->buf, "HTTP/1.1 408 ", 13) == 0);
    CU_ASSERT(now_ms() - t0 >= 250 && now_ms() - t0 < 2000);
    client_close(c);
    CU_ASSERT_EQUAL(settle(active_i, 0, 1000), 0);
    CU_ASSERT_EQUAL(sse_server_stop(), SSE_OK);
}

static void test_server_curl_stream(void)
{
    char cmd[256], out[8192];
    FILE *p;
    size_t n;
    int i;
    start_default();
    snprintf(cmd, sizeof cmd,
             "curl -sS -N -i --max-time 2 -H 'Accept: text/event-stream' "
             "http://%s:%u/events 2>&1", tb_client_addr(), (unsigned)sse_server_port());
    p = popen(cmd, "r");
    CU_ASSERT_PTR_NOT_NULL_FATAL(p);
    /* Publish while curl is connected: wait for its stream to be live. */
    for (i = 0; i < 100; i++) {
        sse_stats_t st;
        sse_server_stats(&st);
        if (st.streams == 1)
            break;
        sleep_ms(10);
    }
    for (i = 0; i < 3; i++) {
        CU_ASSERT_EQUAL(sse_publish(SSE_CHANNEL_ALL, "message", "hello", 5, NULL), SSE_OK);
        sleep_ms(50);
    }
    n = fread(out, 1, sizeof out - 1, p);
    out[n] = 0;
    pclose(p);
    CU_ASSERT(strstr(out, "HTTP/1.1 200 OK") != NULL);
    CU_ASSERT(strstr(out, "Content-Type: text/event-stream") != NULL);
    CU_ASSERT(strstr(out, "retry: 1500") != NULL);
    {
        int frames = 0;
        const char *q = out;
        while ((q = strstr(q, "event: message\nid: ")) != NULL) {
            frames++;
            q++;
        }
        CU_ASSERT_EQUAL(frames, 3);
    }
    CU_ASSERT(strstr(out, "data: hello\n\n") != NULL);
    CU_ASSERT_EQUAL(sse_server_stop(), SSE_OK);
}

static void test_server_last_event_id_resume(void)
{
    reader_t *c;
    ev_t ev;
    uint64_t first, last_seen = 0, id;
    char req[256];
    int i;
    start_default();
    c = stream_open("/events");
    sleep_ms(50);
    publish_n(5, "message");
    for (i = 0; i < 5; i++) {
        CU_ASSERT_FATAL(next_event(c, &ev, 2000));
        last_seen = ev.id;
    }
    client_close(c);
    /* Published while the client was away. */
    CU_ASSERT_EQUAL(sse_publish(SSE_CHANNEL_ALL, "message", "missed", 6, &first), SSE_OK);
    publish_n(6, "message");
    snprintf(req, sizeof req,
             "GET /events HTTP/1.1\r\nHost: t\r\nAccept: text/event-stream\r\n"
             "Last-Event-ID: %llu\r\n\r\n", (unsigned long long)last_seen);
    c = stream_open_with(req);
    for (id = last_seen + 1; id < first + 7; id++) {
        CU_ASSERT_FATAL(next_event(c, &ev, 2000));
        CU_ASSERT_EQUAL(ev.id, id);
    }
    /* Then live events, no duplicate, no gap. */
    CU_ASSERT_EQUAL(sse_publish(SSE_CHANNEL_ALL, "message", "live", 4, &id), SSE_OK);
    CU_ASSERT_FATAL(next_event(c, &ev, 2000));
    CU_ASSERT_EQUAL(ev.id, id);
    CU_ASSERT_STRING_EQUAL(ev.data, "live");
    CU_ASSERT_FALSE(next_event(c, &ev, 200));
    client_close(c);
    CU_ASSERT_EQUAL(sse_server_stop(), SSE_OK);
}

static void test_server_overload_answers(void)
{
    sse_server_cfg_t cfg;
    reader_t *s[4], *extra;
    ev_t ev;
    uint64_t id;
    int i;
    cfg_default(&cfg);
    cfg.max_connections = 4;
    cfg.overload_retry_ms = 7000;
    start_with(&cfg);
    for (i = 0; i < 4; i++)
        s[i] = stream_open("/events");
    CU_ASSERT_EQUAL(settle(active_i, 4, 1000), 4);
    /* N+1th stream: 200, only a retry back-off, closed. */
    extra = client_open(STREAM_REQ("/events"));
    rd_until_eof(extra, 2000);
    CU_ASSERT(extra->eof);
    CU_ASSERT(strncmp(extra->buf, "HTTP/1.1 200 OK\r\n", 17) == 0);
    CU_ASSERT(strstr(extra->buf, "text/event-stream") != NULL);
    {
        char *body = strstr(extra->buf, "\r\n\r\n");
        CU_ASSERT_PTR_NOT_NULL_FATAL(body);
        CU_ASSERT_STRING_EQUAL(body + 4, "retry: 7000\n\n");
    }
    client_close(extra);
    /* N+1th plain request: 503 with Retry-After. */
    extra = client_open("GET /hello HTTP/1.1\r\nHost: x\r\n\r\n");
    rd_until_eof(extra, 2000);
    CU_ASSERT(strncmp(extra->buf, "HTTP/1.1 503 ", 13) == 0);
    CU_ASSERT(strstr(extra->buf, "Retry-After: 7\r\n") != NULL);
    client_close(extra);
    /* Everyone else keeps streaming. */
    sleep_ms(50);
    CU_ASSERT_EQUAL(sse_publish(SSE_CHANNEL_ALL, "message", "still here", 10, &id), SSE_OK);
    for (i = 0; i < 4; i++) {
        CU_ASSERT(next_event(s[i], &ev, 2000));
        CU_ASSERT_EQUAL(ev.id, id);
        client_close(s[i]);
    }
    {
        sse_stats_t st;
        sse_server_stats(&st);
        CU_ASSERT(st.overloaded >= 2);
    }
    CU_ASSERT_EQUAL(sse_server_stop(), SSE_OK);
}

/* What the second 500 of 1000 connect cycles may add to the process's
 * address space: the C library's caches move by tens of MiB; a leaked
 * 8 MiB thread stack per cycle adds 4 GiB. */
#define CYCLES_VM_GROWTH_KIB (128L * 1024)

static void test_server_connect_cycles_no_leak(void)
{
    sse_server_cfg_t cfg;
    int threads0, fds0, i, streams = 0, refused = 0;
    long vm0 = -1;
    cfg_default(&cfg);
    cfg.max_connections = 32;
    cfg.idle_check_ms = 20;
    start_with(&cfg);
    /* Listener, timer and fan-out writer threads, nothing left from earlier. */
    threads0 = settle(threads_now, base_threads + 3, 3000);
    CU_ASSERT_EQUAL(threads0, base_threads + 3);
    fds0 = fds_now();
    for (i = 0; i < 1000; i++) {
        int fd = server_connect();
        if (i == 500)
            vm0 = proc_status_kib("VmSize");
        if (fd < 0) {
            /* A client port reused while the server's stack still holds
             * that 4-tuple in TIME_WAIT is reset (seen once over lwIP, which
             * answers such a SYN with RST): a client retries. */
            refused++;
            sleep_ms(10);
            fd = server_connect();
        }
        CU_ASSERT_FATAL(fd >= 0);
        if (i % 10 == 3) {
            close(fd);              /* gone before sending anything */
        } else if (i % 10 == 7) {
            reader_t c;
            c.fd = fd;
            c.len = 0;
            c.eof = 0;
            send_str(fd, "GET /hello HTTP/1.1\r\nHost: x\r\n\r\n");
            rd_until_eof(&c, 2000);
            CU_ASSERT(strncmp(c.buf, "HTTP/1.1 200", 12) == 0);
            close(fd);
        } else {
            char head[512];
            ssize_t n;
            send_str(fd, STREAM_REQ("/events"));
            n = recv(fd, head, sizeof head - 1, 0);
            if (n > 0) {
                head[n] = 0;
                streams += strstr(head, "retry: 1500") != NULL;
            }
            close(fd);
        }
        /* Let the server notice closes before slots run out. */
        while (stats_now().active >= cfg.max_connections - 2)
            sleep_ms(2);
    }
    CU_ASSERT(streams >= 690);
    CU_ASSERT(refused <= 5); /* a rare reset, not a pattern */
    CU_ASSERT_EQUAL(settle(active_i, 0, 3000), 0);
    CU_ASSERT_EQUAL(settle(threads_now, threads0, 3000), threads0);
    CU_ASSERT_EQUAL(settle(fds_now, fds0, 3000), fds0);
    /* Address space: a finished connection thread gives its stack back.
     * The C library's caches (stacks, malloc arenas) fill over the first
     * cycles and then hold; a stack kept per thread (lwIP's unix port
     * before its threads were detached) grew it by 4 GiB here. Under
     * qemu-user (tests/rpi/qemu_test.sh sets SSE_TESTS_EMULATED) it is the
     * emulator's, which keeps about 280 KiB of its own per thread that ended
     * (qemu 7.2, aarch64, with a program that only starts threads): not
     * checked there. */
    if (!getenv("SSE_TESTS_EMULATED")) {
        long grew = proc_status_kib("VmSize") - vm0;
        CU_ASSERT(vm0 > 0 && grew < CYCLES_VM_GROWTH_KIB);
        if (vm0 <= 0 || grew >= CYCLES_VM_GROWTH_KIB)
            fprintf(stderr, "\n    address space: %ld KiB at cycle 500, %+ld KiB since\n", vm0,
                    grew);
    }
    CU_ASSERT_EQUAL(sse_server_stop(), SSE_OK);
}

/* A client that stops reading must not slow the others. */
static void test_server_slow_reader_isolated(void)
{
    sse_server_cfg_t cfg;
    reader_t *fast[3];
    int slow_fd, i, k, small = 4096;
    long worst = 0;
    uint64_t first = 0, id = 0;
    char data[400];
    uint64_t expect[3];
    sse_stats_t st;

    cfg_default(&cfg);
    cfg.send_timeout_ms = 1000;
    start_with(&cfg);
    slow_fd = socket(AF_INET, SOCK_STREAM, 0);
    setsockopt(slow_fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
    CU_ASSERT_FATAL(connect_fd(slow_fd, tb_client_addr(), sse_server_port()) == slow_fd);
    send_str(slow_fd, STREAM_REQ("/events"));
    for (i = 0; i < 3; i++)
        fast[i] = stream_open("/events");
    CU_ASSERT_EQUAL(settle(active_i, 4, 1000), 4);
    sleep_ms(50);
    memset(data, 'x', sizeof data);
    for (i = 0; i < 3; i++)
        expect[i] = 0;
    /* ~1.2 MB over ~3 s, far beyond what the slow socket can buffer; the
     * fast clients read as it comes. */
    for (k = 0; k < 3000; k++) {
        long t0 = now_ms();
        CU_ASSERT_EQUAL_FATAL(sse_publish(SSE_CHANNEL_ALL, "bulk", data, sizeof data, &id), SSE_OK);
        if (now_ms() - t0 > worst)
            worst = now_ms() - t0;
        if (!first)
            first = id;
        for (i = 0; i < 3; i++) {
            ev_t ev;
            while (take_event(fast[i], &ev) || rd_fill(fast[i], 0) > 0) {
                if (ev.has_id) {
                    if (expect[i] == 0)
                        expect[i] = first;
                    CU_ASSERT_EQUAL(ev.id, expect[i]);
                    expect[i] = ev.id + 1;
                    ev.has_id = 0;
                }
            }
        }
        if (k % 4 == 0)
            sleep_ms(1);
    }
    /* Every fast client got every event, in order. */
    for (i = 0; i < 3; i++) {
        ev_t ev;
        while (expect[i] <= id && next_event(fast[i], &ev, 2000)) {
            CU_ASSERT_EQUAL(ev.id, expect[i]);
            expect[i] = ev.id + 1;
        }
        CU_ASSERT_EQUAL(expect[i], id + 1);
        client_close(fast[i]);
    }
    CU_ASSERT(worst < 100); /* a publisher never waits for a client */
    /* The slow one was dropped: fell off the ring or its send timed out. */
    for (i = 0; i < 300; i++) {
        sse_server_stats(&st);
        if (st.fell_behind + st.send_failures >= 1)
            break;
        sleep_ms(10);
    }
    CU_ASSERT(st.fell_behind + st.send_failures >= 1);
    close(slow_fd);
    CU_ASSERT_EQUAL(settle(active_i, 0, 3000), 0);
    CU_ASSERT_EQUAL(sse_server_stop(), SSE_OK);
}

static void test_server_heartbeat_on_idle(void)
{
    sse_server_cfg_t cfg;
    reader_t *c;
    const char *q;
    int beats = 0;
    cfg_default(&cfg);
    cfg.heartbeat_ms = 150;
    start_with(&cfg);
    c = stream_open("/events");
    rd_wait_for(c, "__never__", 700);
    for (q = c->buf; (q = strstr(q, "\n: hb\n\n")) != NULL; q++)
        beats++;
    CU_ASSERT(beats >= 3 && beats <= 5);
    client_close(c);
    CU_ASSERT_EQUAL(sse_server_stop(), SSE_OK);
}

static void test_server_channels_and_targets(void)
{
    reader_t *all, *ch1, *timed;
    ev_t ev;
    uint64_t id_all, id_ch1, id_ch2;
    int got_tick = 0;
    start_default();
    all = stream_open("/events");
    ch1 = stream_open("/ch1");
    sleep_ms(50);
    CU_ASSERT_EQUAL(sse_publish(1, "c1", "one", 3, &id_ch1), SSE_OK);
    CU_ASSERT_EQUAL(sse_publish(2, "c2", "two", 3, &id_ch2), SSE_OK);
    CU_ASSERT_EQUAL(sse_publish(SSE_CHANNEL_ALL, "all", "x", 1, &id_all), SSE_OK);
    CU_ASSERT_EQUAL(sse_publish(CONFIG_SSE_MAX_CHANNELS, "bad", "x", 1, NULL), SSE_ERR_ARG);
    CU_ASSERT(next_event(ch1, &ev, 2000) && ev.id == id_ch1);
    CU_ASSERT(next_event(ch1, &ev, 2000) && ev.id == id_all);
    CU_ASSERT(next_event(all, &ev, 2000) && ev.id == id_all);
    CU_ASSERT_FALSE(next_event(all, &ev, 100));
    /* A timer tied to a stream sends to that stream only, and goes away
     * with it. */
    timed = stream_open("/timed");
    while (got_tick < 3 && next_event(timed, &ev, 2000))
        got_tick += strcmp(ev.event, "tick") == 0 && strcmp(ev.data, "for you") == 0;
    CU_ASSERT_EQUAL(got_tick, 3);
    CU_ASSERT_EQUAL(sse_timer_count(), 1);
    CU_ASSERT_FALSE(next_event(all, &ev, 100)); /* not for us */
    client_close(timed);
    CU_ASSERT_EQUAL(settle(timers_i, 0, 2000), 0);
    {
        int before, after;
        pthread_mutex_lock(&fires_lock);
        before = conn_timer_fires;
        pthread_mutex_unlock(&fires_lock);
        sleep_ms(100);
        pthread_mutex_lock(&fires_lock);
        after = conn_timer_fires;
        pthread_mutex_unlock(&fires_lock);
        CU_ASSERT_EQUAL(before, after);
    }
    CU_ASSERT_EQUAL(sse_send_to(0x7fff0001u, "x", "y", 1, NULL), SSE_ERR_CLOSED);
    client_close(all);
    client_close(ch1);
    CU_ASSERT_EQUAL(sse_server_stop(), SSE_OK);
}

/* "::" serves both families: a plain request answers over IPv6 (POSIX:
 * ::1; lwIP: its global address on the tap link) and over IPv4. */
static void test_server_ipv6_and_dual_stack(void)
{
    const char *ips[2];
    sse_server_cfg_t cfg;
    size_t i, n = 0;
    if (tb_client_addr6())
        ips[n++] = tb_client_addr6();
    ips[n++] = tb_client_addr();
    cfg_default(&cfg);
    cfg.bind_addr = "::";
    start_with(&cfg);
    for (i = 0; i < n; i++) {
        reader_t c;
        memset(&c, 0, sizeof c);
        c.fd = tcp_connect_to(ips[i], sse_server_port());
        CU_ASSERT_FATAL(c.fd >= 0);
        send_str(c.fd, "GET /hello HTTP/1.1\r\nHost: x\r\n\r\n");
        rd_until_eof(&c, 2000);
        CU_ASSERT(strncmp(c.buf, "HTTP/1.1 200", 12) == 0);
        CU_ASSERT(strstr(c.buf, "\r\n\r\nhi\n") != NULL);
        close(c.fd);
    }
    CU_ASSERT_EQUAL(sse_server_stop(), SSE_OK);
}

static void test_server_start_stop_repeated(void)
{
    int i;
    sse_server_cfg_t cfg;
    cfg_default(&cfg);
    CU_ASSERT_EQUAL(sse_server_stop(), SSE_ERR_ARG); /* not running */
    for (i = 0; i < 10; i++) {
        reader_t *c;
        ev_t ev;
        uint64_t id;
        start_with(&cfg);
        CU_ASSERT_EQUAL(sse_server_start(&cfg), SSE_ERR_BUSY);
        c = stream_open("/events");
        CU_ASSERT_EQUAL(settle(active_i, 1, 1000), 1);
        sleep_ms(20);
        CU_ASSERT_EQUAL(sse_publish(SSE_CHANNEL_ALL, "message", "x", 1, &id), SSE_OK);
        CU_ASSERT(next_event(c, &ev, 2000) && ev.id == id);
        /* Stop with the client still connected: it sees the stream end. */
        CU_ASSERT_EQUAL(sse_server_stop(), SSE_OK);
        rd_until_eof(c, 2000);
        CU_ASSERT(c->eof);
        client_close(c);
    }
    /* Stopped: every ssedge thread is gone, only the test's own remains. */
    CU_ASSERT_EQUAL(settle(threads_now, base_threads, 3000), base_threads);
    {
        sse_server_cfg_t bad = cfg;
        bad.max_connections = CONFIG_SSE_MAX_CONNECTIONS + 1;
        CU_ASSERT_EQUAL(sse_server_start(&bad), SSE_ERR_ARG);
        bad = cfg;
        bad.bind_addr = "not-an-address";
        CU_ASSERT_EQUAL(sse_server_start(&bad), SSE_ERR_ARG);
    }
}

/* Read a whole short response (server closes). */
static reader_t *roundtrip(const char *req)
{
    reader_t *c = client_open(req);
    rd_until_eof(c, 2000);
    CU_ASSERT(c->eof);
    return c;
}

/* One exchange of the CORS test: the request (a stream when stream), the
 * answer's start (NULL: not checked), texts it must hold and must not. */
typedef struct cors_case {
    const char *req;
    int         stream;
    const char *status;
    const char *has[4];
    const char *lacks[2];
} cors_case_t;

#define CORS_STREAM(origin) \
    "GET /events HTTP/1.1\r\nHost: t\r\nAccept: text/event-stream\r\nOrigin: " origin "\r\n\r\n"
#define ACAO(origin) "\r\nAccess-Control-Allow-Origin: " origin "\r\n"

static void cors_check(const cors_case_t *k, size_t n)
{
    for (; n > 0; n--, k++) {
        reader_t *c = k->stream ? stream_open_with(k->req) : roundtrip(k->req);
        if (k->status)
            CU_ASSERT(strncmp(c->buf, k->status, strlen(k->status)) == 0);
        for (size_t i = 0; i < 4 && k->has[i]; i++)
            CU_ASSERT(strstr(c->buf, k->has[i]) != NULL);
        for (size_t i = 0; i < 2 && k->lacks[i]; i++)
            CU_ASSERT(strstr(c->buf, k->lacks[i]) == NULL);
        client_close(c);
    }
}

static void test_server_cors(void)
{
    static const char *const origins[] = { "http://ok.test" }, *const any[] = { "*" };
    static const cors_case_t listed[] = {
        /* Allowed origin: the stream names it back, caches told it varies. */
        { CORS_STREAM("http://ok.test"), 1, NULL,
          { ACAO("http://ok.test"), "\r\nVary: Origin\r\n" }, { "Access-Control-Allow-Credentials" } },
        /* Another origin: no CORS headers, the browser will not expose it. */
        { CORS_STREAM("http://evil.test"), 1, "HTTP/1.1 200", { NULL },
          { "Access-Control-Allow-Origin" } },
        /* Plain replies carry it too. */
        { "GET /hello HTTP/1.1\r\nHost: t\r\nOrigin: http://ok.test\r\n\r\n", 0, "HTTP/1.1 200",
          { ACAO("http://ok.test"), "\r\n\r\nhi\n" }, { NULL } },
        /* Preflight: allowed -> 204 with what may follow; other -> 403. */
        { "OPTIONS /events HTTP/1.1\r\nHost: t\r\nOrigin: http://ok.test\r\n"
          "Access-Control-Request-Method: GET\r\n"
          "Access-Control-Request-Headers: last-event-id\r\n\r\n", 0, "HTTP/1.1 204 ",
          { ACAO("http://ok.test"), "\r\nAccess-Control-Allow-Methods: GET, HEAD, OPTIONS\r\n",
            "Last-Event-ID" }, { "Content-Length" } },
        { "OPTIONS /events HTTP/1.1\r\nHost: t\r\nOrigin: http://evil.test\r\n\r\n", 0,
          "HTTP/1.1 403 ", { NULL }, { NULL } },
    };
    /* Credentials, when configured; and "*" admits any origin, echoed. */
    static const cors_case_t credentials[] = {
        { CORS_STREAM("http://x.test:8080"), 1, NULL,
          { ACAO("http://x.test:8080"), "\r\nAccess-Control-Allow-Credentials: true\r\n" },
          { NULL } },
    };
    /* Not configured: an OPTIONS without Origin still gets 204 + Allow. */
    static const cors_case_t unset[] = {
        { "OPTIONS /hello HTTP/1.1\r\nHost: t\r\n\r\n", 0, "HTTP/1.1 204 ",
          { "\r\nAllow: GET, HEAD, OPTIONS\r\n" }, { "Access-Control" } },
    };
    sse_server_cfg_t cfg;
    cfg_default(&cfg);
    cfg.cors_origins = origins;
    cfg.num_cors_origins = 1;
    start_with(&cfg);
    cors_check(listed, sizeof listed / sizeof listed[0]);
    CU_ASSERT_EQUAL(sse_server_stop(), SSE_OK);
    cfg.cors_origins = any;
    cfg.cors_credentials = 1;
    start_with(&cfg);
    cors_check(credentials, 1);
    CU_ASSERT_EQUAL(sse_server_stop(), SSE_OK);
    start_default();
    cors_check(unset, 1);
    CU_ASSERT_EQUAL(sse_server_stop(), SSE_OK);
}

static void test_server_query_channels(void)
{
    reader_t *ac, *enc, *plain, *bad;
    ev_t ev;
    uint64_t ida, idb, idc, idall;
    start_default();
    CU_ASSERT_EQUAL(sse_channel("a"), 0);
    CU_ASSERT_EQUAL(sse_channel("c"), 2);
    CU_ASSERT_EQUAL(sse_channel("nope"), SSE_ERR_ARG);
    ac = stream_open("/events?ch=a,c");
    enc = stream_open("/events?x=1&ch=b%2Ca");
    plain = stream_open("/events");
    sleep_ms(50);
    CU_ASSERT_EQUAL(sse_publish(sse_channel("a"), "a", "1", 1, &ida), SSE_OK);
    CU_ASSERT_EQUAL(sse_publish(sse_channel("b"), "b", "2", 1, &idb), SSE_OK);
    CU_ASSERT_EQUAL(sse_publish(sse_channel("c"), "c", "3", 1, &idc), SSE_OK);
    CU_ASSERT_EQUAL(sse_publish(SSE_CHANNEL_ALL, "all", "4", 1, &idall), SSE_OK);
    CU_ASSERT(next_event(ac, &ev, 2000) && ev.id == ida);
    CU_ASSERT(next_event(ac, &ev, 2000) && ev.id == idc);
    CU_ASSERT(next_event(ac, &ev, 2000) && ev.id == idall);
    CU_ASSERT(next_event(enc, &ev, 2000) && ev.id == ida);
    CU_ASSERT(next_event(enc, &ev, 2000) && ev.id == idb);
    CU_ASSERT(next_event(enc, &ev, 2000) && ev.id == idall);
    CU_ASSERT(next_event(plain, &ev, 2000) && ev.id == idall);
    CU_ASSERT_FALSE(next_event(plain, &ev, 100));
    bad = roundtrip(STREAM_REQ("/events?ch=a,zzz"));
    CU_ASSERT(strncmp(bad->buf, "HTTP/1.1 400 ", 13) == 0);
    client_close(bad);
    client_close(ac);
    client_close(enc);
    client_close(plain);
    CU_ASSERT_EQUAL(sse_server_stop(), SSE_OK);
}

static void test_server_refusal_and_close(void)
{
    reader_t *c;
    sse_conn_id_t id;
    start_default();
    /* 204 tells an EventSource to stop for good: no body, closed. */
    c = roundtrip(STREAM_REQ("/gone"));
    CU_ASSERT(strncmp(c->buf, "HTTP/1.1 204 No Content\r\n", 25) == 0);
    CU_ASSERT(strstr(c->buf, "\r\n\r\n") != NULL && strstr(c->buf, "\r\n\r\n")[4] == 0);
    client_close(c);
    c = roundtrip(STREAM_REQ("/private"));
    CU_ASSERT(strncmp(c->buf, "HTTP/1.1 403 ", 13) == 0);
    client_close(c);
    /* sse_conn_close ends one stream from outside; the client sees EOF. */
    c = stream_open("/events");
    CU_ASSERT_EQUAL(settle(active_i, 1, 1000), 1);
    sleep_ms(20);
    id = opened_id(opened_n() - 1); /* the newest */
    CU_ASSERT_EQUAL(sse_conn_close(id), SSE_OK);
    rd_until_eof(c, 2000);
    CU_ASSERT(c->eof);
    CU_ASSERT_EQUAL(settle(active_i, 0, 2000), 0);
    CU_ASSERT_EQUAL(sse_conn_close(id), SSE_ERR_CLOSED);
    client_close(c);
    CU_ASSERT_EQUAL(sse_server_stop(), SSE_OK);
}

/* A route with a bearer token: 401 + WWW-Authenticate unless the request
 * presents it, in the header or (EventSource) as ?token=. */
static void test_server_bearer_token(void)
{
    static const struct {
        const char *req;
        int status;         /* 200 or 401 */
        const char *error;  /* 401: the challenge's error attribute or NULL */
    } cases[] = {
        { STREAM_REQ("/secure"), 401, NULL },
        { "GET /secure HTTP/1.1\r\nHost: t\r\nAccept: text/event-stream\r\n"
          "Authorization: Bearer tok+en/0123456789=\r\n\r\n", 200, NULL },
        { "GET /secure HTTP/1.1\r\nHost: t\r\nAccept: text/event-stream\r\n"
          "Authorization: bearer   tok+en/0123456789=  \r\n\r\n", 200, NULL },
        { "GET /secure HTTP/1.1\r\nHost: t\r\nAccept: text/event-stream\r\n"
          "Authorization: Bearer tok+en/0123456789\r\n\r\n", 401, "invalid_token" },
        { "GET /secure HTTP/1.1\r\nHost: t\r\nAccept: text/event-stream\r\n"
          "Authorization: Bearer tok+en/0123456789==\r\n\r\n", 401, "invalid_token" },
        { "GET /secure HTTP/1.1\r\nHost: t\r\nAccept: text/event-stream\r\n"
          "Authorization: Bearer Tok+en/0123456789=\r\n\r\n", 401, "invalid_token" },
        { "GET /secure HTTP/1.1\r\nHost: t\r\nAccept: text/event-stream\r\n"
          "Authorization: Basic dG9rZW4=\r\n\r\n", 401, NULL },
        /* EventSource: encodeURIComponent("tok+en/0123456789=") */
        { STREAM_REQ("/secure?token=tok%2Ben%2F0123456789%3D"), 200, NULL },
        { STREAM_REQ("/secure?ch=a&token=tok%2ben%2f0123456789%3d"), 200, NULL },
        { STREAM_REQ("/secure?token=tok%2Ben%2F0123456789"), 401, "invalid_token" },
        { STREAM_REQ("/secure?token="), 401, NULL },
        { STREAM_REQ("/secure?token=tok%2Ben%2F0123456789%3"), 401, "invalid_token" },
        /* The token of another route opens nothing else, and open routes
         * need none. */
        { STREAM_REQ("/events"), 200, NULL },
    };
    sse_server_cfg_t cfg;
    sse_stats_t st;
    size_t i;
    uint64_t refused;
    cfg_default(&cfg);
    start_with(&cfg);
    sse_server_stats(&st); /* counters run on across restarts */
    refused = st.auth_failures;
    for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        reader_t *c = client_open(cases[i].req);
        if (cases[i].status == 200) {
            CU_ASSERT(rd_wait_for(c, "retry: 1500\n\n", 2000));
            if (strncmp(c->buf, "HTTP/1.1 200 OK\r\n", 17) != 0) {
                fprintf(stderr, "\ncase %zu: got '%.60s'\n", i, c->buf);
                CU_FAIL("token accepted");
            }
        } else {
            char want[128];
            rd_until_eof(c, 2000);
            CU_ASSERT(c->eof);
            refused++;
            if (strncmp(c->buf, "HTTP/1.1 401 ", 13) != 0) {
                fprintf(stderr, "\ncase %zu: got '%.60s'\n", i, c->buf);
                CU_FAIL("token refused");
            }
            if (cases[i].error)
                snprintf(want, sizeof want,
                         "\r\nWWW-Authenticate: Bearer realm=\"ssedge\", error=\"%s\"\r\n",
                         cases[i].error);
            else
                snprintf(want, sizeof want, "\r\nWWW-Authenticate: Bearer realm=\"ssedge\"\r\n");
            CU_ASSERT(strstr(c->buf, want) != NULL);
            CU_ASSERT(strstr(c->buf, "retry:") == NULL); /* no stream, no event */
        }
        client_close(c);
    }
    /* A right token streams events like any stream. */
    {
        reader_t *c = stream_open("/secure?token=tok%2Ben%2F0123456789%3D");
        ev_t ev;
        uint64_t id;
        CU_ASSERT_EQUAL(settle(active_i, 1, 2000), 1);
        sleep_ms(50);
        CU_ASSERT_EQUAL(sse_publish(SSE_CHANNEL_ALL, "message", "secret", 6, &id), SSE_OK);
        CU_ASSERT(next_event(c, &ev, 2000) && ev.id == id && strcmp(ev.data, "secret") == 0);
        client_close(c);
    }
    sse_server_stats(&st);
    CU_ASSERT_EQUAL(st.auth_failures, refused);
    CU_ASSERT_EQUAL(sse_server_stop(), SSE_OK);

    /* With CORS on, a 401 carries the origin, so the page can see it. */
    {
        static const char *const origins[] = { "http://ok.test" };
        reader_t *c;
        cfg.cors_origins = origins;
        cfg.num_cors_origins = 1;
        start_with(&cfg);
        c = roundtrip("GET /secure HTTP/1.1\r\nHost: t\r\nAccept: text/event-stream\r\n"
                      "Origin: http://ok.test\r\n\r\n");
        CU_ASSERT(strncmp(c->buf, "HTTP/1.1 401 ", 13) == 0);
        CU_ASSERT(strstr(c->buf, "\r\nAccess-Control-Allow-Origin: http://ok.test\r\n") != NULL);
        client_close(c);
        CU_ASSERT_EQUAL(sse_server_stop(), SSE_OK);
    }
    /* A guessable token cannot ship: too short is refused at start. */
    {
        sse_route_t weak[1] = { { .path = "/w", .channel = SSE_CHANNEL_NONE, .token = "short" } };
        sse_server_cfg_t bad;
        cfg_default(&bad);
        bad.routes = weak;
        bad.num_routes = 1;
        CU_ASSERT_EQUAL(sse_server_start(&bad), SSE_ERR_ARG);
    }
}

/* sse_token_ok() for handlers of plain paths. */
static void test_server_token_ok(void)
{
    sse_http_req_t rq;
    static const char hdr[] = "Bearer abcdefghijklmnop";
    static const char q[] = "x=1&token=abcdefghijklmno%70";
    memset(&rq, 0, sizeof rq);
    CU_ASSERT_EQUAL(sse_token_ok(&rq, "abcdefghijklmnop"), 0);
    rq.authorization.p = hdr;
    rq.authorization.n = sizeof hdr - 1;
    CU_ASSERT_EQUAL(sse_token_ok(&rq, "abcdefghijklmnop"), 1);
    CU_ASSERT_EQUAL(sse_token_ok(&rq, "abcdefghijklmnoq"), 0);
    CU_ASSERT_EQUAL(sse_token_ok(&rq, "abcdefghijklmno"), 0);
    CU_ASSERT_EQUAL(sse_token_ok(&rq, NULL), 0);
    CU_ASSERT_EQUAL(sse_token_ok(NULL, "abcdefghijklmnop"), 0);
    memset(&rq, 0, sizeof rq);
    rq.query.p = q;
    rq.query.n = sizeof q - 1;
    CU_ASSERT_EQUAL(sse_token_ok(&rq, "abcdefghijklmnop"), 1);
    CU_ASSERT_EQUAL(sse_token_ok(&rq, "abcdefghijklmno%70"), 0);
}

static const tb_test_t tests[] = {
    TB_TEST(test_server_stream_headers_and_frames),
    TB_TEST(test_server_plain_requests),
    TB_TEST(test_server_header_timeout_408),
    TB_TEST(test_server_curl_stream),
    TB_TEST(test_server_last_event_id_resume),
    TB_TEST(test_server_overload_answers),
    TB_TEST(test_server_connect_cycles_no_leak),
    TB_TEST(test_server_slow_reader_isolated),
    TB_TEST(test_server_heartbeat_on_idle),
    TB_TEST(test_server_channels_and_targets),
    TB_TEST(test_server_ipv6_and_dual_stack),
    TB_TEST(test_server_cors),
    TB_TEST(test_server_query_channels),
    TB_TEST(test_server_refusal_and_close),
    TB_TEST(test_server_bearer_token),
    TB_TEST(test_server_token_ok),
    TB_TEST(test_server_start_stop_repeated),
};

int test_server_register(void)
{
    return TB_SUITE("server", suite_init, NULL, tests);
}
