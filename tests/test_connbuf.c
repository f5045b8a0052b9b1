/* SPDX-License-Identifier: MIT */
/* Suite "connbuf": the pool of request and send buffers (core/sse_connbuf.c)
 * on its own with real threads, then through the server on either port:
 * parked streams hold none, a connection that finds none is closed
 * unanswered and counted, one given back serves the next. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <sys/socket.h>
#include <CUnit/CUnit.h>

#include "ssedge/sse.h"
#include "sse_connbuf.h"
#include "tests.h"
#include "test_util.h"
#include "backend/backend.h"

/* The pairs the pool holds (more than the slots are never made). */
#define NBUFS (CONFIG_SSE_CONN_BUFS < CONFIG_SSE_MAX_CONNECTIONS \
               ? CONFIG_SSE_CONN_BUFS : CONFIG_SSE_MAX_CONNECTIONS)

static sse_connbuf_t *held[NBUFS];
static int stop_flag;
static int never(void) { return 0; }
static int flagged(void) { return __atomic_load_n(&stop_flag, __ATOMIC_ACQUIRE); }

static int by_address(const void *a, const void *b)
{
    const char *x = *(const char *const *)a, *y = *(const char *const *)b;
    return x < y ? -1 : x > y;
}

/* Take every pair; asserts each is a whole pair of its own (sorted by
 * address, each ends before the next begins). */
static void take_all(void)
{
    static sse_connbuf_t *sorted[NBUFS];
    unsigned i, overlaps = 0;
    for (i = 0; i < NBUFS; i++) {
        held[i] = sse_connbuf_take(1000, never);
        CU_ASSERT_PTR_NOT_NULL_FATAL(held[i]);
    }
    memcpy(sorted, held, sizeof sorted);
    qsort(sorted, NBUFS, sizeof sorted[0], by_address);
    for (i = 1; i < NBUFS; i++)
        overlaps += (char *)(sorted[i - 1] + 1) > (char *)sorted[i];
    CU_ASSERT_EQUAL(overlaps, 0);
}

static void give_all(void)
{
    unsigned i;
    for (i = 0; i < NBUFS; i++) {
        sse_connbuf_give(held[i]);
        held[i] = NULL;
    }
}

/* A thread that, after a nap, gives back a pair or raises the stop flag
 * and wakes the waiters. */
struct later { long nap_ms; sse_connbuf_t *give; };
static void *later_thread(void *arg)
{
    struct later *l = arg;
    sleep_ms(l->nap_ms);
    if (l->give) {
        sse_connbuf_give(l->give);
    } else {
        __atomic_store_n(&stop_flag, 1, __ATOMIC_RELEASE);
        sse_connbuf_wake();
    }
    return NULL;
}

/* Every pair once, then none: a take waits its timeout, a pair given back
 * by another thread ends the wait with that pair, the last given back is
 * lent first, and a stop (flag + wake) ends a wait at once. */
static void test_connbuf_pool_on_its_own(void)
{
    pthread_t th;
    struct later l;
    sse_connbuf_t *b, *a;
    long t0, dt;
    CU_ASSERT_EQUAL_FATAL(sse_connbuf_init(), SSE_OK);
    CU_ASSERT_EQUAL_FATAL(sse_connbuf_lent(), 0); /* no server runs */
    take_all();
    CU_ASSERT_EQUAL(sse_connbuf_lent(), NBUFS);
    t0 = now_ms();
    CU_ASSERT_PTR_NULL(sse_connbuf_take(150, never));
    dt = now_ms() - t0;
    CU_ASSERT(dt >= 140 && dt < 2000);
    /* given back meanwhile: the waiter gets that one */
    l.nap_ms = 100;
    l.give = held[NBUFS / 2];
    held[NBUFS / 2] = NULL;
    CU_ASSERT_EQUAL_FATAL(pthread_create(&th, NULL, later_thread, &l), 0);
    t0 = now_ms();
    b = sse_connbuf_take(5000, never);
    dt = now_ms() - t0;
    pthread_join(th, NULL);
    CU_ASSERT(b == l.give);
    CU_ASSERT(dt >= 50 && dt < 4000);
    /* last in, first out */
    a = held[0];
    sse_connbuf_give(a);
    sse_connbuf_give(b);
    CU_ASSERT(sse_connbuf_take(0, never) == b);
    CU_ASSERT(sse_connbuf_take(0, never) == a);
    held[NBUFS / 2] = b;
    /* a stop ends a wait long before its timeout */
    __atomic_store_n(&stop_flag, 0, __ATOMIC_RELEASE);
    l.nap_ms = 100;
    l.give = NULL;
    CU_ASSERT_EQUAL_FATAL(pthread_create(&th, NULL, later_thread, &l), 0);
    t0 = now_ms();
    CU_ASSERT_PTR_NULL(sse_connbuf_take(10000, flagged));
    dt = now_ms() - t0;
    pthread_join(th, NULL);
    CU_ASSERT(dt < 5000);
    give_all();
    CU_ASSERT_EQUAL(sse_connbuf_lent(), 0);
}

static const sse_route_t routes[] = {
    { .path = "/s", .channel = SSE_CHANNEL_NONE, .on_open = opened_record },
};

static int lent_i(void) { return (int)stats_now().conn_bufs_lent; }
static int opened_i(void) { return (int)opened_n(); }

static void start_timeouts(uint32_t header_timeout_ms, uint32_t send_timeout_ms)
{
    sse_server_cfg_t cfg;
    server_cfg(&cfg, routes, 1);
    cfg.max_connections = CONFIG_SSE_MAX_CONNECTIONS < 16 ? CONFIG_SSE_MAX_CONNECTIONS : 16;
    cfg.retry_ms = 0;
    cfg.header_timeout_ms = header_timeout_ms;
    cfg.send_timeout_ms = send_timeout_ms;
    opened_reset();
    start_with(&cfg);
}

static void start(uint32_t header_timeout_ms)
{
    start_timeouts(header_timeout_ms, 5000);
}

/* Streams opened one at a time each give their pair back when they park:
 * one pair served them all, and an event still reaches every one. */
static void test_connbuf_parked_streams_hold_none(void)
{
    enum { N = 10 };
    reader_t *c[N];
    unsigned i, n;
    ev_t ev;
    uint64_t id;
    start(5000);
    n = CONFIG_SSE_MAX_CONNECTIONS < N ? CONFIG_SSE_MAX_CONNECTIONS : N;
    for (i = 0; i < n; i++) {
        c[i] = stream_open("/s");
        CU_ASSERT_EQUAL(settle(opened_i, (int)i + 1, 5000), (int)i + 1);
        CU_ASSERT_EQUAL(settle(lent_i, 0, 5000), 0);
    }
    CU_ASSERT_EQUAL(stats_now().streams, n);
    CU_ASSERT_EQUAL(stats_now().conn_bufs_peak, 1);
    CU_ASSERT_EQUAL_FATAL(sse_publish(SSE_CHANNEL_ALL, NULL, "to all", 6, &id), SSE_OK);
    for (i = 0; i < n; i++)
        CU_ASSERT(next_event(c[i], &ev, 3000) && ev.id == id && strcmp(ev.data, "to all") == 0);
    CU_ASSERT_EQUAL(stats_now().conn_bufs_lent, 0);
    for (i = 0; i < n; i++)
        client_close(c[i]);
    CU_ASSERT_EQUAL(settle(active_i, 0, 5000), 0);
    CU_ASSERT_EQUAL(sse_server_stop(), SSE_OK);
}

/* Clients that connect and say nothing hold no pair (a board's pool has
 * two): a stream opened after them is served at once, and each of them is
 * served when it speaks. */
static void test_connbuf_silent_clients_hold_none(void)
{
    enum { N = 3 };
    reader_t *quiet[N], *c;
    unsigned i, n;
    start(5000);
    n = CONFIG_SSE_MAX_CONNECTIONS - 1 < N ? CONFIG_SSE_MAX_CONNECTIONS - 1 : N;
    for (i = 0; i < n; i++) {
        quiet[i] = calloc(1, sizeof *quiet[i]);
        CU_ASSERT_PTR_NOT_NULL_FATAL(quiet[i]);
        quiet[i]->fd = socket(AF_INET, SOCK_STREAM, 0);
        CU_ASSERT_FATAL(connect_fd(quiet[i]->fd, tb_client_addr(), sse_server_port()) ==
                        quiet[i]->fd);
    }
    /* Their threads run and wait for a byte; none has borrowed. */
    CU_ASSERT_EQUAL(settle(active_i, (int)n, 5000), (int)n);
    sleep_ms(100);
    CU_ASSERT_EQUAL(lent_i(), 0);
    c = stream_open("/s");
    CU_ASSERT_EQUAL(settle(opened_i, 1, 5000), 1);
    for (i = 0; i < n; i++) {
        CU_ASSERT(send_str(quiet[i]->fd, STREAM_REQ("/s")) == 0);
        CU_ASSERT(rd_wait_for(quiet[i], "\r\n\r\n", 5000));
        CU_ASSERT(strncmp(quiet[i]->buf, "HTTP/1.1 200 OK\r\n", 17) == 0);
    }
    CU_ASSERT_EQUAL(settle(opened_i, (int)n + 1, 5000), (int)n + 1);
    CU_ASSERT_EQUAL(settle(lent_i, 0, 5000), 0);
    for (i = 0; i < n; i++)
        client_close(quiet[i]);
    client_close(c);
    CU_ASSERT_EQUAL(settle(active_i, 0, 5000), 0);
    CU_ASSERT_EQUAL(sse_server_stop(), SSE_OK);
}

/* With every pair taken, a new connection waits header_timeout_ms, is
 * closed without a byte and counted as overloaded; one that finds a pair
 * given back while it waits is served as usual. */
static void test_connbuf_none_free(void)
{
    reader_t *c, *d;
    sse_stats_t st0;
    pthread_t th;
    struct later l;
    long t0;
    start(300);
    st0 = stats_now();
    take_all();
    t0 = now_ms();
    c = client_open(STREAM_REQ("/s"));
    CU_ASSERT(rd_until_eof(c, 5000));
    CU_ASSERT(now_ms() - t0 >= 250);
    CU_ASSERT_EQUAL(c->len, 0);
    CU_ASSERT_EQUAL(settle(active_i, 0, 5000), 0);
    CU_ASSERT_EQUAL(stats_now().overloaded, st0.overloaded + 1);
    client_close(c);
    /* one back while the next waits */
    l.nap_ms = 100;
    l.give = held[0];
    held[0] = NULL;
    CU_ASSERT_EQUAL_FATAL(pthread_create(&th, NULL, later_thread, &l), 0);
    d = client_open(STREAM_REQ("/s"));
    CU_ASSERT(rd_wait_for(d, "\r\n\r\n", 5000));
    CU_ASSERT(strncmp(d->buf, "HTTP/1.1 200 OK\r\n", 17) == 0);
    pthread_join(th, NULL);
    CU_ASSERT_EQUAL(settle(opened_i, 1, 5000), 1);
    client_close(d);
    CU_ASSERT_EQUAL(settle(active_i, 0, 5000), 0);
    give_all();
    CU_ASSERT_EQUAL(sse_server_stop(), SSE_OK);
    CU_ASSERT_EQUAL(sse_connbuf_lent(), 0);
}

/* Read what a stream has so far and drop it. */
static void drain(void *arg)
{
    reader_t *r = arg;
    ev_t ev;
    do
        while (take_event(r, &ev))
            ;
    while (rd_fill(r, 0) > 0);
}

/* A parked stream whose socket fills goes back to its thread, which needs
 * a pair to finish the send: with none free within send_timeout_ms the
 * stream is closed as a failed send, and the others go on. */
static void test_connbuf_none_free_for_a_slow_send(void)
{
    reader_t *slow = calloc(1, sizeof *slow), *fast;
    static uint64_t ids[400];
    int small = 4096;
    unsigned k;
    sse_stats_t st0;
    ev_t ev;
    uint64_t id;
    long end;
    int seen = 0;
    CU_ASSERT_PTR_NOT_NULL_FATAL(slow);
    start_timeouts(5000, 300);
    st0 = stats_now();
    slow->fd = socket(AF_INET, SOCK_STREAM, 0);
    setsockopt(slow->fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
    CU_ASSERT_FATAL(connect_fd(slow->fd, tb_client_addr(), sse_server_port()) == slow->fd);
    CU_ASSERT(send_str(slow->fd, STREAM_REQ("/s")) == 0);
    fast = stream_open("/s");
    CU_ASSERT_EQUAL(settle(opened_i, 2, 5000), 2);
    CU_ASSERT_EQUAL(settle(lent_i, 0, 5000), 0);
    take_all();
    k = publish_until_handed_back('x', ids, 400, st0.slow_sends, drain, fast);
    CU_ASSERT(k > 0);
    CU_ASSERT_EQUAL(settle(streams_i, 1, 5000), 1);
    CU_ASSERT_EQUAL(stats_now().send_failures, st0.send_failures + 1);
    /* what its socket held, then the end */
    end = now_ms() + 5000;
    while (!slow->eof && now_ms() < end) {
        (void)rd_fill(slow, 100);
        drain(slow);
    }
    CU_ASSERT(slow->eof);
    give_all();
    /* the fast one, read all along, goes on */
    CU_ASSERT_EQUAL_FATAL(sse_publish(SSE_CHANNEL_ALL, NULL, "last", 4, &id), SSE_OK);
    end = now_ms() + 3000;
    while (!seen && now_ms() < end && next_event(fast, &ev, end - now_ms()))
        seen = ev.id == id;
    CU_ASSERT(seen);
    client_close(slow);
    client_close(fast);
    CU_ASSERT_EQUAL(settle(active_i, 0, 5000), 0);
    CU_ASSERT_EQUAL(sse_server_stop(), SSE_OK);
}

static const tb_test_t tests[] = {
    TB_TEST(test_connbuf_pool_on_its_own),
    TB_TEST(test_connbuf_parked_streams_hold_none),
    TB_TEST(test_connbuf_silent_clients_hold_none),
    TB_TEST(test_connbuf_none_free),
    TB_TEST(test_connbuf_none_free_for_a_slow_send),
};

int test_connbuf_register(void)
{
    return TB_SUITE("connbuf", NULL, NULL, tests);
}
