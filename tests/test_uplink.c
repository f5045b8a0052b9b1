/* SPDX-License-Identifier: MIT */
/* Suite "uplink": the uplink to a hub (core/sse_uplink.c) against a hub the
 * test runs itself (a Linux socket at the backend's host address, which the
 * port's own client reaches on either port): order and headers, keep-alive,
 * an outage in the middle, an answer lost in flight, error answers, events
 * the ring overwrote while the hub was away. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <pthread.h>
#include <poll.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <CUnit/CUnit.h>

#include "ssedge/sse.h"
#include "tests.h"
#include "test_util.h"
#include "backend/backend.h"

/* ---- a hub ---------------------------------------------------------------------- */

#define HUB_MAX 4096 /* requests remembered */

enum { HUB_OK, HUB_DROP_NEXT, HUB_RESET_NEXT, HUB_STATUS_NEXT };

static struct {
    pthread_mutex_t lock;
    pthread_t       thread;
    int             lfd;       /* listener, -1 while "down" */
    unsigned        gen;       /* moves at each down and up */
    uint16_t        port;
    int             stop;
    int             mode, status, status_left;
    unsigned        n, connections, connections_done;
    char            path[64], auth[64], extra[64];
    char            event[HUB_MAX][16];
    char            body[HUB_MAX][48];
    char            paths[HUB_MAX][24];
} hub = { .lock = PTHREAD_MUTEX_INITIALIZER, .lfd = -1 };

static int hub_listen(uint16_t port)
{
    struct sockaddr_in a;
    socklen_t al = sizeof a;
    int one = 1, fd = socket(AF_INET, SOCK_STREAM, 0);
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    inet_pton(AF_INET, tb_host_addr(), &a.sin_addr);
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) != 0 || listen(fd, 4) != 0 ||
        getsockname(fd, (struct sockaddr *)&a, &al) != 0) {
        if (fd >= 0)
            close(fd);
        return -1;
    }
    hub.port = ntohs(a.sin_port);
    return fd;
}

/* A header's value out of a request head, or "". */
static void hval(const char *head, const char *name, char *out, size_t cap)
{
    const char *p = strcasestr(head, name), *e;
    out[0] = 0;
    if (!p)
        return;
    p += strlen(name);
    while (*p == ' ')
        p++;
    e = strstr(p, "\r\n");
    snprintf(out, cap, "%.*s", (int)(e ? e - p : 0), p);
}

/* Serve one connection, accepted in generation @p gen: requests until it
 * closes, the mode says drop, or the hub went down since (even if it is up
 * again: a connection never outlives a down). */
static void hub_conn(int fd, unsigned gen)
{
    char buf[8192];
    size_t len = 0;
    for (;;) {
        char *e, clen[16], ev[16], path[64];
        size_t head, body;
        int mode, status;
        struct pollfd p = { fd, POLLIN, 0 };
        int pr = poll(&p, 1, 20);
        pthread_mutex_lock(&hub.lock);
        if (hub.stop || hub.gen != gen) { /* down: its connections go too */
            pthread_mutex_unlock(&hub.lock);
            return;
        }
        pthread_mutex_unlock(&hub.lock);
        if (pr <= 0)
            continue;
        {
            ssize_t r = recv(fd, buf + len, sizeof buf - 1 - len, 0);
            if (r <= 0)
                return;
            len += (size_t)r;
            buf[len] = 0;
        }
        while ((e = strstr(buf, "\r\n\r\n")) != NULL) {
            head = (size_t)(e - buf) + 4;
            hval(buf, "Content-Length:", clen, sizeof clen);
            body = (size_t)atoi(clen);
            if (len < head + body)
                break;
            sscanf(buf, "POST %63s", path);
            hval(buf, "X-EventSource-Event:", ev, sizeof ev);
            pthread_mutex_lock(&hub.lock);
            mode = hub.mode;
            status = hub.status;
            if (mode == HUB_DROP_NEXT || mode == HUB_RESET_NEXT) {
                hub.mode = HUB_OK;
                pthread_mutex_unlock(&hub.lock);
                if (mode == HUB_RESET_NEXT) { /* close() then sends a reset, not a FIN */
                    struct linger lg = { 1, 0 };
                    (void)setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
                }
                return; /* read, never answered: an answer lost in flight */
            }
            if (mode == HUB_STATUS_NEXT && --hub.status_left <= 0)
                hub.mode = HUB_OK;
            if (mode != HUB_STATUS_NEXT || status / 100 == 2) {
                if (hub.n < HUB_MAX) {
                    snprintf(hub.event[hub.n], sizeof hub.event[0], "%s", ev);
                    snprintf(hub.body[hub.n], sizeof hub.body[0], "%.*s", (int)body, buf + head);
                    snprintf(hub.paths[hub.n], sizeof hub.paths[0], "%.23s", path);
                    hub.n++;
                }
                snprintf(hub.path, sizeof hub.path, "%s", path);
                hval(buf, "Authorization:", hub.auth, sizeof hub.auth);
                hval(buf, "X-Device:", hub.extra, sizeof hub.extra);
                status = mode == HUB_STATUS_NEXT ? status : 201;
            }
            pthread_mutex_unlock(&hub.lock);
            {
                char ans[160];
                int n = snprintf(ans, sizeof ans,
                                 "HTTP/1.1 %d X\r\nContent-Type: text/plain\r\n"
                                 "Content-Length: 9\r\n\r\nqueued: 1", status);
                if (send(fd, ans, (size_t)n, MSG_NOSIGNAL) != n)
                    return;
            }
            memmove(buf, buf + head + body, len - head - body + 1);
            len -= head + body;
        }
    }
}

static void *hub_main(void *arg)
{
    (void)arg;
    for (;;) {
        int lfd, fd;
        unsigned gen;
        struct pollfd p;
        pthread_mutex_lock(&hub.lock);
        lfd = hub.lfd;
        gen = hub.gen;
        if (hub.stop) {
            pthread_mutex_unlock(&hub.lock);
            return NULL;
        }
        pthread_mutex_unlock(&hub.lock);
        if (lfd < 0) {
            sleep_ms(20);
            continue;
        }
        p.fd = lfd;
        p.events = POLLIN;
        if (poll(&p, 1, 50) <= 0 || (fd = accept(lfd, NULL, NULL)) < 0)
            continue;
        pthread_mutex_lock(&hub.lock);
        if (hub.gen != gen) { /* went down while we accepted: hub_down() did not wait for it */
            pthread_mutex_unlock(&hub.lock);
            close(fd);
            continue;
        }
        hub.connections++;
        pthread_mutex_unlock(&hub.lock);
        hub_conn(fd, gen);
        close(fd);
        pthread_mutex_lock(&hub.lock);
        hub.connections_done++;
        pthread_mutex_unlock(&hub.lock);
    }
}

static void hub_start(void)
{
    memset(hub.event, 0, sizeof hub.event);
    hub.n = hub.connections = hub.connections_done = 0;
    hub.mode = HUB_OK;
    hub.stop = 0;
    /* A port below Linux's ephemeral range (32768..), so that no client
     * socket takes it while the hub is down. */
    {
        static uint16_t next = 24000;
        int tries;
        for (tries = 0, hub.lfd = -1; hub.lfd < 0 && tries < 200; tries++)
            hub.lfd = hub_listen(next++);
    }
    CU_ASSERT_FATAL(hub.lfd >= 0);
    CU_ASSERT_FATAL(pthread_create(&hub.thread, NULL, hub_main, NULL) == 0);
}

/* Down: its connection closed, nothing listens on its port any more
 * (connects are refused). Returns once the connection is gone. */
static void hub_down(void)
{
    int fd, i;
    pthread_mutex_lock(&hub.lock);
    fd = hub.lfd;
    hub.lfd = -1;
    hub.gen++;
    pthread_mutex_unlock(&hub.lock);
    close(fd);
    for (i = 0; i < 200; i++) {
        unsigned open;
        pthread_mutex_lock(&hub.lock);
        open = hub.connections - hub.connections_done;
        pthread_mutex_unlock(&hub.lock);
        if (!open)
            break;
        sleep_ms(5);
    }
}

/* Up again on the same port. The connection it closed going down may
 * still hold the port a moment over lwIP's tap link (its FIN on the way):
 * try for up to 3 s, and say why if that is not enough. */
static void hub_up(void)
{
    int fd = -1, i;
    for (i = 0; i < 60 && (fd = hub_listen(hub.port)) < 0; i++)
        sleep_ms(50);
    if (fd < 0)
        fprintf(stderr, "\n    hub: cannot listen on port %u again: %s\n", (unsigned)hub.port,
                strerror(errno));
    CU_ASSERT_FATAL(fd >= 0);
    pthread_mutex_lock(&hub.lock);
    hub.lfd = fd;
    hub.gen++;
    pthread_mutex_unlock(&hub.lock);
}

static void hub_stop(void)
{
    pthread_mutex_lock(&hub.lock);
    hub.stop = 1;
    pthread_mutex_unlock(&hub.lock);
    pthread_join(hub.thread, NULL);
    if (hub.lfd >= 0)
        close(hub.lfd);
    hub.lfd = -1;
}

static unsigned hub_n(void)
{
    unsigned n;
    pthread_mutex_lock(&hub.lock);
    n = hub.n;
    pthread_mutex_unlock(&hub.lock);
    return n;
}

static int wait_hub(unsigned n, long ms)
{
    long end = now_ms() + ms;
    while (hub_n() < n && now_ms() < end)
        sleep_ms(5);
    return hub_n() >= n;
}

/* How the hub answers its next posts: HUB_DROP_NEXT reads the next one and
 * closes unanswered; HUB_STATUS_NEXT answers the next left ones status. */
static void hub_next(int mode, int status, int left)
{
    pthread_mutex_lock(&hub.lock);
    hub.mode = mode;
    hub.status = status;
    hub.status_left = left;
    pthread_mutex_unlock(&hub.lock);
}

/* The hub ends up with exactly n posts (waiting ms for them, then a moment
 * for any extra one): bodies[] in order, on paths[] unless that is NULL. */
static void hub_got(unsigned n, const char *const *bodies, const char *const *paths, long ms)
{
    CU_ASSERT(wait_hub(n, ms));
    sleep_ms(100);
    pthread_mutex_lock(&hub.lock);
    CU_ASSERT_EQUAL(hub.n, n);
    if (hub.n == n) {
        for (unsigned i = 0; i < n; i++) {
            CU_ASSERT_STRING_EQUAL(hub.body[i], bodies[i]);
            if (paths)
                CU_ASSERT_STRING_EQUAL(hub.paths[i], paths[i]);
        }
    }
    pthread_mutex_unlock(&hub.lock);
}

/* ---- helpers ---------------------------------------------------------------------- */

static void start_uplink(const char *path, const char *token, const char *header)
{
    static char url[128];
    sse_uplink_cfg_t cfg;
    sse_uplink_cfg_init(&cfg);
    snprintf(url, sizeof url, "http://%s:%u%s", tb_host_addr(), (unsigned)hub.port, path);
    cfg.url = url;
    cfg.token = token;
    cfg.header = header;
    cfg.after_id = stats_now().last_id; /* from what is published next */
    CU_ASSERT_EQUAL_FATAL(sse_uplink_start(&cfg), SSE_OK);
}

/* ---- tests ---------------------------------------------------------------------- */

/* Events for every stream reach the hub once each, in order, on one
 * keep-alive connection, with their names, multi-line data, the token and
 * the extra header; events for one connection or a channel without a route
 * do not go up. */
static void test_uplink_forwards_in_order(void)
{
    uint64_t id = 0;
    char data[32];
    int i, expect = 0;
    hub_start();
    start_uplink("/pub/dev1", "tok-0123456789abcdef", "X-Device: bench-7");
    for (i = 0; i < 200; i++) {
        int len = snprintf(data, sizeof data, "e%d", i);
        if (i % 10 == 3)
            CU_ASSERT_EQUAL(sse_publish(2, "ch", "not routed", 10, NULL), SSE_OK);
        if (i % 50 == 7) {
            CU_ASSERT_EQUAL(sse_publish(SSE_CHANNEL_ALL, "multi", "line one\nline two", 17, &id),
                            SSE_OK);
        } else {
            CU_ASSERT_EQUAL(sse_publish(SSE_CHANNEL_ALL, i % 2 ? "tick" : NULL, data,
                                        (size_t)len, &id), SSE_OK);
        }
        expect++;
    }
    CU_ASSERT_FATAL(wait_hub((unsigned)expect, 10000));
    sleep_ms(100);
    pthread_mutex_lock(&hub.lock);
    CU_ASSERT_EQUAL(hub.n, (unsigned)expect);
    CU_ASSERT_EQUAL(hub.connections, 1);
    CU_ASSERT_STRING_EQUAL(hub.path, "/pub/dev1");
    CU_ASSERT_STRING_EQUAL(hub.auth, "Bearer tok-0123456789abcdef");
    CU_ASSERT_STRING_EQUAL(hub.extra, "bench-7");
    for (i = 0; i < expect && i < (int)hub.n; i++) {
        if (i % 50 == 7) {
            CU_ASSERT_STRING_EQUAL(hub.event[i], "multi");
            CU_ASSERT_STRING_EQUAL(hub.body[i], "line one\nline two");
        } else {
            snprintf(data, sizeof data, "e%d", i);
            CU_ASSERT_STRING_EQUAL(hub.body[i], data);
            CU_ASSERT_STRING_EQUAL(hub.event[i], i % 2 ? "tick" : "message");
        }
    }
    pthread_mutex_unlock(&hub.lock);
    CU_ASSERT_EQUAL(stats_now().uplink_state, 2);
    CU_ASSERT_EQUAL(stats_now().uplink_acked_id, id);
    CU_ASSERT_EQUAL(sse_uplink_stop(), SSE_OK);
    CU_ASSERT_EQUAL(stats_now().uplink_state, 0);
    hub_stop();
}

/* Routed channels go up too: to their own path, or (NULL) the URL's;
 * other channels do not. */
static void test_uplink_channel_routes(void)
{
    static char url[128];
    static const sse_uplink_route_t routes[] = { { 1, "/pub/one" }, { 2, NULL } };
    sse_uplink_cfg_t cfg;
    hub_start();
    sse_uplink_cfg_init(&cfg);
    snprintf(url, sizeof url, "http://%s:%u/pub/dev", tb_host_addr(), (unsigned)hub.port);
    cfg.url = url;
    cfg.routes = routes;
    cfg.num_routes = 2;
    cfg.after_id = stats_now().last_id;
    CU_ASSERT_EQUAL_FATAL(sse_uplink_start(&cfg), SSE_OK);
    sse_publish(1, NULL, "c1", 2, NULL);
    sse_publish(3, NULL, "c3", 2, NULL);
    sse_publish(2, NULL, "c2", 2, NULL);
    sse_publish(SSE_CHANNEL_ALL, NULL, "all", 3, NULL);
    {
        static const char *const bodies[] = { "c1", "c2", "all" };
        static const char *const paths[] = { "/pub/one", "/pub/dev", "/pub/dev" };
        hub_got(3, bodies, paths, 5000);
    }
    CU_ASSERT_EQUAL(sse_uplink_stop(), SSE_OK);
    hub_stop();
}

/* The hub goes away in the middle: events wait in the ring and arrive, in
 * order and once each, when it is back; publishing never waited. */
static void test_uplink_outage_store_and_forward(void)
{
    sse_stats_t st0 = stats_now();
    char data[32];
    int i;
    long worst = 0;
    hub_start();
    start_uplink("/pub/dev1", NULL, NULL);
    for (i = 0; i < 20; i++) {
        int len = snprintf(data, sizeof data, "before %d", i);
        sse_publish(SSE_CHANNEL_ALL, NULL, data, (size_t)len, NULL);
    }
    CU_ASSERT_FATAL(wait_hub(20, 5000));
    hub_down();
    sleep_ms(100);
    for (i = 0; i < 100; i++) {
        int len = snprintf(data, sizeof data, "during %d", i);
        long t0 = now_ms();
        CU_ASSERT_EQUAL(sse_publish(SSE_CHANNEL_ALL, NULL, data, (size_t)len, NULL), SSE_OK);
        if (now_ms() - t0 > worst)
            worst = now_ms() - t0;
        if (i % 10 == 0)
            sleep_ms(20);
    }
    CU_ASSERT(worst < 100); /* publishers never wait for the uplink */
    CU_ASSERT_EQUAL(hub_n(), 20);
    CU_ASSERT(stats_now().uplink_retries > st0.uplink_retries);
    CU_ASSERT_EQUAL(stats_now().uplink_state, 1);
    hub_up();
    CU_ASSERT(wait_hub(120, 15000));
    sleep_ms(100);
    pthread_mutex_lock(&hub.lock);
    CU_ASSERT_EQUAL(hub.n, 120);
    for (i = 0; i < 100 && 20 + i < (int)hub.n; i++) {
        snprintf(data, sizeof data, "during %d", i);
        CU_ASSERT_STRING_EQUAL(hub.body[20 + i], data);
    }
    pthread_mutex_unlock(&hub.lock);
    CU_ASSERT_EQUAL(stats_now().uplink_lost, st0.uplink_lost);
    CU_ASSERT_EQUAL(stats_now().uplink_duplicates, st0.uplink_duplicates);
    CU_ASSERT_EQUAL(sse_uplink_stop(), SSE_OK);
    hub_stop();
}

/* An answer lost in flight (the hub closes, or resets): the event goes
 * again (the hub has it twice), counted as one duplicate; a 503 is retried;
 * a 413 is counted lost and passed; nothing else is lost or repeated. Each
 * trouble is logged with a reason in words. */
static void test_uplink_lost_answer_and_errors(void)
{
    sse_stats_t st0 = stats_now();
    const char *log;
    hub_start();
    start_uplink("/pub/dev1", NULL, NULL);
    sse_publish(SSE_CHANNEL_ALL, NULL, "one", 3, NULL);
    CU_ASSERT_FATAL(wait_hub(1, 5000));
    tb_log_start();
    hub_next(HUB_DROP_NEXT, 0, 0);
    sse_publish(SSE_CHANNEL_ALL, NULL, "two", 3, NULL);
    CU_ASSERT(wait_hub(2, 8000));
    hub_next(HUB_RESET_NEXT, 0, 0);
    sse_publish(SSE_CHANNEL_ALL, NULL, "reset", 5, NULL);
    CU_ASSERT(wait_hub(3, 8000));
    hub_next(HUB_STATUS_NEXT, 503, 2);
    sse_publish(SSE_CHANNEL_ALL, NULL, "three", 5, NULL);
    CU_ASSERT(wait_hub(4, 8000));
    hub_next(HUB_STATUS_NEXT, 413, 1);
    sse_publish(SSE_CHANNEL_ALL, NULL, "too big", 7, NULL);
    sse_publish(SSE_CHANNEL_ALL, NULL, "four", 4, NULL);
    {
        static const char *const bodies[] = { "one", "two", "reset", "three", "four" };
        hub_got(5, bodies, NULL, 8000);
    }
    tb_log_stop();
    log = tb_log_text();
    /* "two" and "reset" went again after their answers were lost: the hub
     * read each twice, the test's hub dropped the first copies, the uplink
     * counts two. */
    CU_ASSERT_EQUAL(stats_now().uplink_duplicates, st0.uplink_duplicates + 2);
    CU_ASSERT_EQUAL(stats_now().uplink_lost, st0.uplink_lost + 1);
    CU_ASSERT(stats_now().uplink_retries >= st0.uplink_retries + 4);
    CU_ASSERT(strstr(log, "goes again") != NULL);
    CU_ASSERT(strstr(log, "hub answered 503") != NULL);
    CU_ASSERT(strstr(log, "refused event") != NULL && strstr(log, ": 413") != NULL);
    CU_ASSERT(strstr(log, "SSE_ERR_") == NULL); /* reasons in words, not codes */
    if (strstr(log, "SSE_ERR_"))
        printf("\n  uplink log: %s\n", log);
    CU_ASSERT_EQUAL(sse_uplink_stop(), SSE_OK);
    hub_stop();
}

/* The hub away longer than the ring holds: what was overwritten is counted
 * and logged, the rest arrives in order. */
static void test_uplink_ring_overwrote(void)
{
    sse_stats_t st0;
    char data[32];
    int i, n = CONFIG_SSE_RING_EVENTS + 100;
    hub_start();
    start_uplink("/pub/dev1", NULL, NULL);
    st0 = stats_now();
    hub_down();
    tb_log_start();
    for (i = 0; i < n; i++) {
        int len = snprintf(data, sizeof data, "%d", i);
        sse_publish(SSE_CHANNEL_ALL, NULL, data, (size_t)len, NULL);
    }
    hub_up();
    {   /* until every event is either at the hub or counted lost */
        long end = now_ms() + 30000;
        while ((unsigned long long)(stats_now().uplink_lost - st0.uplink_lost) + hub_n() <
                   (unsigned long long)n && now_ms() < end)
            sleep_ms(20);
    }
    sleep_ms(100);
    tb_log_stop();
    CU_ASSERT(stats_now().uplink_lost > st0.uplink_lost);
    CU_ASSERT_EQUAL((unsigned long long)(stats_now().uplink_lost - st0.uplink_lost) + hub_n(),
                    (unsigned long long)n);
    CU_ASSERT(strstr(tb_log_text(), "events lost") != NULL);
    pthread_mutex_lock(&hub.lock);
    for (i = 1; i < (int)hub.n; i++)
        CU_ASSERT_EQUAL(atoi(hub.body[i]), atoi(hub.body[i - 1]) + 1);
    CU_ASSERT(hub.n > 0 && atoi(hub.body[hub.n - 1]) == n - 1);
    pthread_mutex_unlock(&hub.lock);
    CU_ASSERT_EQUAL(sse_uplink_stop(), SSE_OK);
    hub_stop();
}

/* Settings that cannot work are refused at start, with a reason. */
static void test_uplink_bad_settings(void)
{
    sse_uplink_cfg_t cfg;
    sse_uplink_cfg_init(&cfg);
    CU_ASSERT_EQUAL(sse_uplink_start(&cfg), SSE_ERR_ARG);
    cfg.url = "ftp://hub/x";
    CU_ASSERT_EQUAL(sse_uplink_start(&cfg), SSE_ERR_ARG);
    cfg.url = "http://hub:99999/x";
    CU_ASSERT_EQUAL(sse_uplink_start(&cfg), SSE_ERR_ARG);
    cfg.url = "http://hub/a b";
    CU_ASSERT_EQUAL(sse_uplink_start(&cfg), SSE_ERR_ARG);
    cfg.url = "http://hub/x";
    cfg.token = "two\r\nlines";
    CU_ASSERT_EQUAL(sse_uplink_start(&cfg), SSE_ERR_ARG);
    cfg.token = NULL;
    cfg.url = "https://hub/x"; /* no CA (or no TLS in this build) */
    CU_ASSERT_EQUAL(sse_uplink_start(&cfg), SSE_ERR_ARG);
    CU_ASSERT_EQUAL(sse_uplink_stop(), SSE_ERR_ARG); /* not running */
}

static int suite_init(void)
{
    /* The ring exists with or without a server: start one anyway, as a
     * device does, so local streams and the uplink share it. */
    sse_server_cfg_t cfg;
    sse_server_cfg_init(&cfg);
    cfg.bind_addr = tb_bind_addr();
    cfg.port = 0;
    cfg.max_connections = 4;
    return sse_server_start(&cfg) == SSE_OK ? 0 : -1;
}

static int suite_clean(void)
{
    return sse_server_stop() == SSE_OK ? 0 : -1;
}

static const tb_test_t tests[] = {
    TB_TEST(test_uplink_bad_settings),
    TB_TEST(test_uplink_forwards_in_order),
    TB_TEST(test_uplink_channel_routes),
    TB_TEST(test_uplink_outage_store_and_forward),
    TB_TEST(test_uplink_lost_answer_and_errors),
    TB_TEST(test_uplink_ring_overwrote),
};

int test_uplink_register(void)
{
#if !defined(CONFIG_SSE_UPLINK)
    return 0; /* not in this build */
#endif
    return TB_SUITE("uplink", suite_init, suite_clean, tests);
}
