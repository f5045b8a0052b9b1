/* SPDX-License-Identifier: MIT */
/* Suite "contract": what include/ssedge/sse.h promises, each through the
 * real server and sockets: connection timers go with their stream, even
 * when added while it closes; a handler's return value; on_open after the
 * replay; sse_reply() refusals and a head too large for the buffer;
 * start-up refusals and request errors that say why, and for whom. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <pthread.h>
#include <sched.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <CUnit/CUnit.h>

#include "ssedge/sse.h"
#include "sse_port.h"
#include "sse_timer.h"
#include "tests.h"
#include "test_util.h"
#include "backend/backend.h"

/* ---- connection timers against closing streams --------------------------- */

#define RECENT 64
static struct {
    pthread_mutex_t lock;
    sse_conn_id_t   ids[RECENT]; /* streams opened lately, live or not */
    unsigned        n;
    int             stop;
    unsigned        close_adds, close_refused;
} hammer = { PTHREAD_MUTEX_INITIALIZER, { 0 }, 0, 0, 0, 0 };

static void tick(sse_conn_id_t conn, void *arg)
{
    (void)conn;
    (void)arg;
}

static void idle_timer(void *arg)
{
    (void)arg;
}

static void remember(sse_conn_id_t conn, const sse_request_t *req, void *user)
{
    (void)req;
    (void)user;
    pthread_mutex_lock(&hammer.lock);
    hammer.ids[hammer.n++ % RECENT] = conn;
    pthread_mutex_unlock(&hammer.lock);
}

/* on_close adds a timer to the closing stream: always refused. */
static void add_on_close(sse_conn_id_t conn, void *user)
{
    int r = sse_conn_timer_add(conn, 10, tick, NULL);
    (void)user;
    pthread_mutex_lock(&hammer.lock);
    hammer.close_adds++;
    hammer.close_refused += r == SSE_ERR_CLOSED;
    pthread_mutex_unlock(&hammer.lock);
    if (r > 0)
        sse_timer_del(r); /* keep the slots for the test's own count */
}

/* Adds timers to recently opened streams as fast as it can. */
static void *adder(void *arg)
{
    unsigned k = 0;
    (void)arg;
    for (;;) {
        sse_conn_id_t id;
        pthread_mutex_lock(&hammer.lock);
        if (hammer.stop) {
            pthread_mutex_unlock(&hammer.lock);
            return NULL;
        }
        id = hammer.ids[k++ % RECENT];
        pthread_mutex_unlock(&hammer.lock);
        /* Slots full: back off a little, or three spinning adders starve
         * the streams they race against (under valgrind, past the test's
         * 2 s for an answer). */
        if (id != SSE_CONN_NONE &&
            sse_conn_timer_add(id, 10, tick, NULL) == SSE_ERR_NOMEM)
            sleep_ms(1);
        else
            sched_yield();
    }
}

static const sse_route_t timer_routes[] = {
    { .path = "/t", .channel = SSE_CHANNEL_NONE, .on_open = remember, .on_close = add_on_close },
};

static void start_routes(const sse_route_t *routes, unsigned n, sse_handler_fn handler)
{
    sse_server_cfg_t cfg;
    server_cfg(&cfg, routes, n);
    cfg.handler = handler;
    cfg.max_connections = 16;
    cfg.idle_check_ms = 20;
    cfg.retry_ms = 0;
    CU_ASSERT_EQUAL_FATAL(sse_server_start(&cfg), SSE_OK);
}

static int timers_i(void) { return (int)sse_timer_count(); }

/* 200 streams open and close while three threads add timers to them and
 * each on_close adds one more: once every stream is gone no timer is left
 * (each closing stream took its own with it) and the service still has all
 * its slots for the server's own timers. */
static void test_contract_conn_timers_go_with_stream(void)
{
    pthread_t t[3];
    int i, id;
    start_routes(timer_routes, 1, NULL);
    hammer.n = 0;
    hammer.stop = 0;
    hammer.close_adds = hammer.close_refused = 0;
    memset(hammer.ids, 0, sizeof hammer.ids);
    for (i = 0; i < 3; i++)
        CU_ASSERT_FATAL(pthread_create(&t[i], NULL, adder, NULL) == 0);
    for (i = 0; i < 200; i++) {
        reader_t *c = stream_open("/t");
        if (i % 2)
            sleep_ms(1);
        client_close(c);
    }
    CU_ASSERT_EQUAL(settle(active_i, 0, 5000), 0);
    pthread_mutex_lock(&hammer.lock);
    hammer.stop = 1;
    pthread_mutex_unlock(&hammer.lock);
    for (i = 0; i < 3; i++)
        pthread_join(t[i], NULL);
    CU_ASSERT_EQUAL(settle(timers_i, 0, 2000), 0);
    /* Every stream that opened closed with its add refused (a connect
     * may have met a full server and got the overload answer instead). */
    CU_ASSERT(hammer.n >= 100);
    CU_ASSERT_EQUAL(hammer.close_adds, hammer.n);
    CU_ASSERT_EQUAL(hammer.close_refused, hammer.n);
    /* Every slot free: CONFIG_SSE_MAX_TIMERS global timers fit. */
    for (i = 0; i < CONFIG_SSE_MAX_TIMERS; i++) {
        id = sse_timer_add(100000, idle_timer, NULL);
        CU_ASSERT(id > 0);
    }
    CU_ASSERT_EQUAL(sse_timer_count(), CONFIG_SSE_MAX_TIMERS);
    CU_ASSERT_EQUAL(sse_server_stop(), SSE_OK); /* removes every timer */
    CU_ASSERT_EQUAL(sse_timer_count(), 0);
}

/* ---- request handlers ------------------------------------------------------- */

static int handler(sse_conn_t *c, const sse_request_t *req, void *user)
{
    static const char big[] = "X-Big: "
        "0123456789012345678901234567890123456789012345678901234567890123456789";
    char huge[CONFIG_SSE_SEND_BUF_SIZE + 200];
    (void)user;
#define IS(lit) (req->path.n == sizeof lit - 1 && memcmp(req->path.p, lit, sizeof lit - 1) == 0)
    if (IS("/ok-no-reply"))
        return SSE_OK;            /* a bug: says it answered */
    if (IS("/not-mine"))
        return SSE_ERR_INVALID;   /* no such path */
    if (IS("/replied-then-error")) {
        sse_reply(c, 200, "text/plain", NULL, "fine\n", 5);
        return SSE_ERR_IO;        /* the answer stands */
    }
    if (IS("/statuses")) {
        int bad = sse_reply(c, 99, NULL, NULL, "", 0) != SSE_ERR_ARG ||
                  sse_reply(c, 600, NULL, NULL, "", 0) != SSE_ERR_ARG ||
                  sse_reply(c, 999, NULL, NULL, "", 0) != SSE_ERR_ARG ||
                  sse_reply(c, 204, NULL, NULL, "x", 1) != SSE_ERR_ARG;
        return sse_reply(c, bad ? 500 : 204, NULL, NULL, NULL, 0);
    }
    memset(huge, 'h', sizeof huge);
    memcpy(huge, big, sizeof big - 1);
    memcpy(huge + sizeof huge - 3, "\r\n", 3);
    if (IS("/too-big-then-small")) {
        int r = sse_reply(c, 200, "text/plain", huge, "big\n", 4);
        if (r != SSE_ERR_TOO_LARGE)
            return sse_reply(c, 500, NULL, NULL, "wrong\n", 6);
        return sse_reply(c, 200, "text/plain", NULL, "second try\n", 11);
    }
    if (IS("/too-big"))
        return sse_reply(c, 200, "text/plain", huge, "big\n", 4);
    return SSE_ERR_INVALID;
#undef IS
}

/* The status line of a plain GET of @p path. */
static int status_of(const char *path, char *body, size_t cap)
{
    char req[160];
    reader_t *c;
    int status = -1;
    snprintf(req, sizeof req, "GET %s HTTP/1.1\r\nHost: t\r\n\r\n", path);
    c = client_open(req);
    rd_until_eof(c, 3000);
    if (sscanf(c->buf, "HTTP/1.1 %d", &status) != 1)
        status = -1;
    if (body) {
        const char *b = strstr(c->buf, "\r\n\r\n");
        snprintf(body, cap, "%s", b ? b + 4 : "");
    }
    client_close(c);
    return status;
}

static void test_contract_handler_return_and_reply(void)
{
    char body[128];
    start_routes(timer_routes, 1, handler);
    CU_ASSERT_EQUAL(status_of("/ok-no-reply", NULL, 0), 500);
    CU_ASSERT_EQUAL(status_of("/not-mine", NULL, 0), 404);
    CU_ASSERT_EQUAL(status_of("/replied-then-error", body, sizeof body), 200);
    CU_ASSERT_STRING_EQUAL(body, "fine\n");
    CU_ASSERT_EQUAL(status_of("/statuses", body, sizeof body), 204);
    CU_ASSERT_EQUAL(status_of("/too-big-then-small", body, sizeof body), 200);
    CU_ASSERT_STRING_EQUAL(body, "second try\n");
    CU_ASSERT_EQUAL(status_of("/too-big", NULL, 0), 500); /* not a bare close */
    CU_ASSERT_EQUAL(sse_server_stop(), SSE_OK);
}

/* ---- on_open after the replay ------------------------------------------------ */

static struct {
    pthread_mutex_t lock;
    pthread_cond_t  cv;
    int             replay_seen; /* the client has every replayed event */
    int             open_saw;    /* on_open found it so: 1 yes, -1 no */
} oo = { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, 0 };

/* Waits (bounded) until the test's client has the replay: if ssedge sent
 * the replay only after on_open, it never comes while we wait. */
static void open_after_replay(sse_conn_id_t conn, const sse_request_t *req, void *user)
{
    struct timespec until;
    (void)conn;
    (void)req;
    (void)user;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += 2;
    pthread_mutex_lock(&oo.lock);
    while (!oo.replay_seen && pthread_cond_timedwait(&oo.cv, &oo.lock, &until) == 0)
        ;
    oo.open_saw = oo.replay_seen ? 1 : -1;
    pthread_mutex_unlock(&oo.lock);
}

static const sse_route_t open_routes[] = {
    { .path = "/r", .channel = SSE_CHANNEL_NONE, .on_open = open_after_replay },
};

static void test_contract_on_open_after_replay(void)
{
    uint64_t first = 0, id;
    char req[200];
    reader_t *c;
    ev_t ev;
    int i, got = 0;
    start_routes(open_routes, 1, NULL);
    oo.replay_seen = 0;
    oo.open_saw = 0;
    for (i = 0; i < 5; i++) {
        CU_ASSERT_EQUAL(sse_publish(SSE_CHANNEL_ALL, NULL, "before", 6, &id), SSE_OK);
        if (!first)
            first = id;
    }
    snprintf(req, sizeof req,
             "GET /r HTTP/1.1\r\nHost: t\r\nAccept: text/event-stream\r\n"
             "Last-Event-ID: %llu\r\n\r\n", (unsigned long long)(first - 1));
    c = client_open(req);
    while (got < 5 && next_event(c, &ev, 3000))
        got += ev.has_id && ev.id == first + (uint64_t)got;
    CU_ASSERT_EQUAL(got, 5);
    pthread_mutex_lock(&oo.lock);
    oo.replay_seen = got == 5;
    pthread_cond_broadcast(&oo.cv);
    pthread_mutex_unlock(&oo.lock);
    for (i = 0; i < 300; i++) {
        pthread_mutex_lock(&oo.lock);
        got = oo.open_saw;
        pthread_mutex_unlock(&oo.lock);
        if (got)
            break;
        sleep_ms(10);
    }
    CU_ASSERT_EQUAL(got, 1);
    client_close(c);
    CU_ASSERT_EQUAL(settle(active_i, 0, 3000), 0);
    CU_ASSERT_EQUAL(sse_server_stop(), SSE_OK);
}

/* ---- errors that say why --------------------------------------------------- */

static int logged(const char *needle)
{
    if (strstr(tb_log_text(), needle))
        return 1;
    fprintf(stderr, "\n    no \"%s\" in the log:\n%s", needle, tb_log_text());
    return 0;
}

/* Start-up refusals name the setting and its limit, or the stack's own
 * reason; a refused request's line names the client. */
static void test_contract_errors_say_why(void)
{
    static const sse_route_t short_token[] = {
        { .path = "/s", .channel = SSE_CHANNEL_NONE, .token = "abcde" },
    };
    sse_server_cfg_t cfg;
    sse_port_sock_t taken;
    char who[64];
    reader_t *c;
    int fd;
    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;

    sse_server_cfg_init(&cfg);
    cfg.bind_addr = tb_bind_addr();
    cfg.port = 0;
    cfg.routes = short_token;
    cfg.num_routes = 1;
    tb_log_start();
    CU_ASSERT_EQUAL(sse_server_start(&cfg), SSE_ERR_ARG);
    tb_log_stop();
    CU_ASSERT(logged("token of 5 characters, at least CONFIG_SSE_AUTH_MIN_TOKEN_LEN (16)"));

    cfg.num_routes = 0;
    cfg.bind_addr = "localhost";
    tb_log_start();
    CU_ASSERT_EQUAL(sse_server_start(&cfg), SSE_ERR_ARG);
    tb_log_stop();
    CU_ASSERT(logged("cannot listen on localhost port 0: not a numeric IPv4 or IPv6 address"));

    /* A port another socket holds. */
    CU_ASSERT_EQUAL_FATAL(sse_port_listen(&taken, tb_bind_addr(), 0, 1), SSE_OK);
    cfg.bind_addr = tb_bind_addr();
    cfg.port = sse_port_sock_local_port(&taken);
    tb_log_start();
    CU_ASSERT_EQUAL(sse_server_start(&cfg), SSE_ERR_IO);
    tb_log_stop();
    CU_ASSERT(logged("in use")); /* "Address already in use", "address in use" */
    sse_port_close(&taken);

    cfg.port = 0;
    cfg.max_connections = CONFIG_SSE_MAX_CONNECTIONS + 1;
    tb_log_start();
    CU_ASSERT_EQUAL(sse_server_start(&cfg), SSE_ERR_ARG);
    tb_log_stop();
    CU_ASSERT(logged("CONFIG_SSE_MAX_CONNECTIONS"));
#if !defined(CONFIG_SSE_TLS)
    {
        sse_tls_cfg_t tls;
        memset(&tls, 0, sizeof tls);
        cfg.max_connections = 4;
        cfg.tls = &tls;
        tb_log_start();
        CU_ASSERT_EQUAL(sse_server_start(&cfg), SSE_ERR_ARG);
        tb_log_stop();
        CU_ASSERT(logged("this build has no TLS (CONFIG_SSE_TLS)"));
    }
#endif

    /* A bad request: its log line carries the client's address. */
    start_routes(timer_routes, 1, NULL);
    tb_log_start();
    c = client_open("GET / HTTP/1.1\r\nHost: t\r\nX: a\rb\r\n\r\n");
    fd = c->fd;
    rd_until_eof(c, 3000);
    CU_ASSERT(strncmp(c->buf, "HTTP/1.1 400 ", 13) == 0);
    CU_ASSERT_FATAL(getsockname(fd, (struct sockaddr *)&ss, &sl) == 0);
    snprintf(who, sizeof who, ":%u: request rejected: 400",
             (unsigned)ntohs(((struct sockaddr_in *)&ss)->sin_port));
    sleep_ms(50);
    tb_log_stop();
    CU_ASSERT(logged(who));
    client_close(c);
    CU_ASSERT_EQUAL(sse_server_stop(), SSE_OK);
}

static const tb_test_t tests[] = {
    TB_TEST(test_contract_conn_timers_go_with_stream),
    TB_TEST(test_contract_handler_return_and_reply),
    TB_TEST(test_contract_on_open_after_replay),
    TB_TEST(test_contract_errors_say_why),
};

int test_contract_register(void)
{
    return TB_SUITE("contract", NULL, NULL, tests);
}
