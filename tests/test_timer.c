/* SPDX-License-Identifier: MIT */
/* Suite "timer": the timer service (core/sse_timer.c) on real threads via
 * the port: rates, deletion, slots, stale ids, stop/start, self-deletion. */
#define _POSIX_C_SOURCE 200809L

#include <limits.h>
#include <stdint.h>
#include <CUnit/CUnit.h>
#include "ssedge/sse.h"
#include "sse_opt.h"
#include "sse_port.h"
#include "sse_timer.h"
#include "tests.h"

#define NT CONFIG_SSE_MAX_TIMERS
#define LONG_MS 600000u      /* a period that never elapses during a test */
#define WAIT_MS 3000u        /* how long to wait for something that must come */

/* ---- counters shared with the timer thread (atomics only) ------------ */

static int ld(const int *p)      { return __atomic_load_n(p, __ATOMIC_SEQ_CST); }
static void st(int *p, int v)    { __atomic_store_n(p, v, __ATOMIC_SEQ_CST); }
static int inc(int *p)           { return __atomic_add_fetch(p, 1, __ATOMIC_SEQ_CST); }

static void count_cb(void *arg)
{
    inc(arg);
}

static void conn_cb(sse_conn_id_t conn, void *arg)
{
    (void)conn;
    inc(arg);
}

static uint32_t now(void)
{
    return sse_port_now_ms();
}

/* Poll until *p >= n or WAIT_MS pass. @return the last value seen. */
static int wait_for(const int *p, int n)
{
    uint32_t t0 = now();
    int v;
    while ((v = ld(p)) < n && now() - t0 < WAIT_MS)
        sse_port_sleep_ms(2);
    return v;
}

/* A timer added at t_before (read before the add) fires for the k-th time
 * no earlier than t_before + k * period (first call after one period, no
 * catch-up bursts). So a count read before t_after may not exceed this. */
static int max_calls(uint32_t t_before, uint32_t t_after, uint32_t period)
{
    return (int)((t_after - t_before) / period);
}

/* For tests that need k timers at once (CONFIG_SSE_MAX_TIMERS may be 1). */
#define NEED_TIMERS(k) do { \
        if (NT < (k)) { CU_PASS("needs more CONFIG_SSE_MAX_TIMERS"); return; } \
    } while (0)

/* Counters the callbacks below share with their tests, by test. */
static int inflight, overlap;                  /* callbacks_serialised */
static int nstamp, stall_done, stall_calls;    /* no_burst_after_stall */
static int self_id, self_calls, self_del_rc;   /* callback_deletes_itself */
static int added_id, added_calls, adder_calls; /* callback_adds_timer */
static int *const counters[] = {
    &inflight, &overlap, &nstamp, &stall_done, &stall_calls, &self_id, &self_calls,
    &self_del_rc, &added_id, &added_calls, &adder_calls,
};

/* Every test starts and ends with the service stopped and no timers, and
 * starts with the counters at 0 (no callback runs once it is stopped). */
static void setup(void)
{
    sse_timer_service_stop();
    for (size_t i = 0; i < sizeof counters / sizeof counters[0]; i++)
        st(counters[i], 0);
}

static void teardown(void)
{
    sse_timer_service_stop();
}

static int suite_clean(void)
{
    sse_timer_service_stop();
    return 0;
}

/* ---- arguments ---------------------------------------------------------- */

static void test_timer_args(void)
{
    int n = 0;
    unsigned before = sse_timer_count();

    CU_ASSERT_EQUAL(sse_timer_add(0, count_cb, &n), SSE_ERR_ARG);
    CU_ASSERT_EQUAL(sse_timer_add(20, NULL, &n), SSE_ERR_ARG);
    CU_ASSERT_EQUAL(sse_timer_add(0, NULL, NULL), SSE_ERR_ARG);
    /* Connection timers need a live stream; the server is not running. */
    CU_ASSERT_EQUAL(sse_conn_timer_add(12345, 20, conn_cb, &n), SSE_ERR_CLOSED);
    CU_ASSERT_EQUAL(sse_conn_timer_add(1, 20, conn_cb, &n), SSE_ERR_CLOSED);
    CU_ASSERT_EQUAL(sse_conn_timer_add(SSE_CONN_NONE, 20, conn_cb, &n), SSE_ERR_ARG);
    CU_ASSERT_EQUAL(sse_conn_timer_add(12345, 20, NULL, &n), SSE_ERR_ARG);
    CU_ASSERT_EQUAL(sse_timer_count(), before);
    CU_ASSERT_EQUAL(sse_timer_count(), 0);
}

/* ---- rates ------------------------------------------------------------- */

static void test_timer_periodic_rate(void)
{
    const uint32_t period = 20;
    int n = 0, id, c, c_first;
    uint32_t t0, t1;

    CU_ASSERT_EQUAL_FATAL(sse_timer_service_start(), SSE_OK);
    t0 = now();
    id = sse_timer_add(period, count_cb, &n);
    CU_ASSERT_FATAL(id > 0);
    CU_ASSERT_EQUAL(sse_timer_count(), 1);
    /* Not before one period. */
    c_first = ld(&n);
    t1 = now();
    CU_ASSERT(c_first <= max_calls(t0, t1, period));

    /* Sample a few times over ~300 ms: never ahead of schedule. */
    for (int i = 0; i < 6; i++) {
        sse_port_sleep_ms(50);
        c = ld(&n);
        t1 = now();
        CU_ASSERT(c <= max_calls(t0, t1, period));
    }
    c = ld(&n);
    t1 = now();
    /* ~15 on an idle machine; a loaded one skips ticks, never bursts. */
    CU_ASSERT(c >= 3);
    CU_ASSERT(c <= max_calls(t0, t1, period));
    CU_ASSERT(c <= 17 || t1 - t0 > 340);
    CU_ASSERT_EQUAL(sse_timer_del(id), SSE_OK);
    CU_ASSERT_EQUAL(sse_timer_count(), 0);
}

static void test_timer_two_rates(void)
{
    const uint32_t pf = 15, ps = 90;
    int nf = 0, ns = 0, idf, ids, cf, cs;
    uint32_t t0, t1;

    NEED_TIMERS(2);
    CU_ASSERT_EQUAL_FATAL(sse_timer_service_start(), SSE_OK);
    t0 = now();
    ids = sse_timer_add(ps, count_cb, &ns);
    idf = sse_timer_add(pf, count_cb, &nf);
    CU_ASSERT_FATAL(ids > 0 && idf > 0 && ids != idf);
    for (int i = 0; i < 12; i++) {
        sse_port_sleep_ms(50);
        cf = ld(&nf);
        cs = ld(&ns);
        t1 = now();
        CU_ASSERT(cf <= max_calls(t0, t1, pf));
        CU_ASSERT(cs <= max_calls(t0, t1, ps));
    }
    cs = ld(&ns);
    cf = ld(&nf);
    /* ~600 ms: about 40 and 6 when idle. */
    CU_ASSERT(cf >= 3);
    CU_ASSERT(cs >= 1);
    CU_ASSERT(cf > cs);
    CU_ASSERT_EQUAL(sse_timer_del(idf), SSE_OK);
    CU_ASSERT_EQUAL(sse_timer_del(ids), SSE_OK);
}

/* Callbacks of all timers run one at a time. */

static void serial_cb(void *arg)
{
    if (inc(&inflight) != 1)
        st(&overlap, 1);
    sse_port_sleep_ms(1);
    __atomic_sub_fetch(&inflight, 1, __ATOMIC_SEQ_CST);
    inc(arg);
}

static void test_timer_callbacks_serialised(void)
{
    int n[4] = { 0, 0, 0, 0 }, id[4];
    const int k = NT < 4 ? NT : 4;

    CU_ASSERT_EQUAL_FATAL(sse_timer_service_start(), SSE_OK);
    for (int i = 0; i < k; i++) {
        id[i] = sse_timer_add((uint32_t)(2 + i), serial_cb, &n[i]);
        CU_ASSERT_FATAL(id[i] > 0);
    }
    sse_port_sleep_ms(150);
    for (int i = 0; i < k; i++)
        CU_ASSERT_EQUAL(sse_timer_del(id[i]), SSE_OK);
    sse_port_sleep_ms(20);
    for (int i = 0; i < k; i++)
        CU_ASSERT(ld(&n[i]) >= 1);
    CU_ASSERT_EQUAL(ld(&overlap), 0);
}

/* A long callback stalls the thread; the missed ticks of a fast timer are
 * skipped, not fired in a burst. Times are taken on the timer thread. */
#define STAMPS 256
static uint32_t stamp[STAMPS];
static uint32_t stall_end;

static void stamp_cb(void *arg)
{
    int i = inc(&nstamp) - 1;
    (void)arg;
    if (i < STAMPS)
        __atomic_store_n(&stamp[i], now(), __ATOMIC_SEQ_CST);
}

static void stall_cb(void *arg)
{
    (void)arg;
    if (inc(&stall_calls) != 1)
        return;
    sse_port_sleep_ms(150);
    __atomic_store_n(&stall_end, now(), __ATOMIC_SEQ_CST);
    st(&stall_done, 1);
}

static void test_timer_no_burst_after_stall(void)
{
    int fast, slow, n, i, near = 0;
    uint32_t end;

    NEED_TIMERS(2);
    CU_ASSERT_EQUAL_FATAL(sse_timer_service_start(), SSE_OK);
    fast = sse_timer_add(10, stamp_cb, NULL);
    slow = sse_timer_add(30, stall_cb, NULL);
    CU_ASSERT_FATAL(fast > 0 && slow > 0);
    CU_ASSERT(wait_for(&stall_done, 1) == 1);
    sse_port_sleep_ms(60);
    CU_ASSERT_EQUAL(sse_timer_del(fast), SSE_OK);
    CU_ASSERT_EQUAL(sse_timer_del(slow), SSE_OK);
    sse_port_sleep_ms(20);
    end = __atomic_load_n(&stall_end, __ATOMIC_SEQ_CST);
    n = ld(&nstamp);
    CU_ASSERT_FATAL(n < STAMPS);
    /* 15 ticks were missed during the stall; at most the one that is due
     * (plus one for clock granularity) may come right after it. */
    for (i = 0; i < n; i++) {
        uint32_t d = __atomic_load_n(&stamp[i], __ATOMIC_SEQ_CST) - end;
        if ((int32_t)d >= 0 && d <= 4)
            near++;
    }
    CU_ASSERT(near >= 1);
    CU_ASSERT(near <= 2);
    CU_ASSERT(n >= 2);
}

/* ---- deletion ---------------------------------------------------------- */

static void test_timer_del_stops(void)
{
    const uint32_t period = 10;
    int n = 0, id, c1;

    CU_ASSERT_EQUAL_FATAL(sse_timer_service_start(), SSE_OK);
    id = sse_timer_add(period, count_cb, &n);
    CU_ASSERT_FATAL(id > 0);
    CU_ASSERT(wait_for(&n, 3) >= 3);
    CU_ASSERT_EQUAL(sse_timer_del(id), SSE_OK);
    CU_ASSERT_EQUAL(sse_timer_count(), 0);
    /* A call already running may finish; nothing starts afterwards. */
    sse_port_sleep_ms(period + 40);
    c1 = ld(&n);
    sse_port_sleep_ms(5 * period);
    CU_ASSERT_EQUAL(ld(&n), c1);
    /* Gone: deleting again is an error. */
    CU_ASSERT_EQUAL(sse_timer_del(id), SSE_ERR_ARG);
}

static void test_timer_del_bad_ids(void)
{
    int n = 0, id, i;
    const int bad[] = { 0, -1, -12345, INT_MIN, INT_MAX, 0x10000, 0xFFFF,
                        NT + 1, 0x7FFF0000 };

    CU_ASSERT_EQUAL_FATAL(sse_timer_service_start(), SSE_OK);
    /* With no timer at all, nothing is a live id. */
    for (i = 0; i < (int)(sizeof bad / sizeof bad[0]); i++)
        CU_ASSERT_EQUAL(sse_timer_del(bad[i]), SSE_ERR_ARG);
    for (i = 1; i <= NT + 1; i++)
        CU_ASSERT_EQUAL(sse_timer_del(i), SSE_ERR_ARG);

    /* With one live timer, every other value is refused and leaves it. */
    id = sse_timer_add(LONG_MS, count_cb, &n);
    CU_ASSERT_FATAL(id > 0);
    for (i = 0; i < (int)(sizeof bad / sizeof bad[0]); i++)
        if (bad[i] != id)
            CU_ASSERT_EQUAL(sse_timer_del(bad[i]), SSE_ERR_ARG);
    CU_ASSERT_EQUAL(sse_timer_del(id + 1), SSE_ERR_ARG);
    CU_ASSERT_EQUAL(sse_timer_del(id - 1), SSE_ERR_ARG);
    CU_ASSERT_EQUAL(sse_timer_del(id ^ (1 << 20)), SSE_ERR_ARG);
    CU_ASSERT_EQUAL(sse_timer_del(id ^ (1 << 30)), SSE_ERR_ARG);
    CU_ASSERT_EQUAL(sse_timer_del(-id), SSE_ERR_ARG);
    CU_ASSERT_EQUAL(sse_timer_count(), 1);
    CU_ASSERT_EQUAL(sse_timer_del(id), SSE_OK);
    CU_ASSERT_EQUAL(sse_timer_count(), 0);
}

/* ---- slots and ids ----------------------------------------------------- */

static void test_timer_slots(void)
{
    int n = 0, ids[NT], extra, again, i, j;

    CU_ASSERT_EQUAL_FATAL(sse_timer_count(), 0);
    for (i = 0; i < NT; i++) {
        ids[i] = sse_timer_add(LONG_MS, count_cb, &n);
        CU_ASSERT_FATAL(ids[i] > 0);
        for (j = 0; j < i; j++)             /* distinct (counted if not) */
            if (ids[j] == ids[i])
                CU_ASSERT_FATAL(ids[j] != ids[i]);
        CU_ASSERT_EQUAL(sse_timer_count(), (unsigned)(i + 1));
    }
    extra = sse_timer_add(LONG_MS, count_cb, &n);
    CU_ASSERT_EQUAL(extra, SSE_ERR_NOMEM);
    CU_ASSERT_EQUAL(sse_timer_count(), (unsigned)NT);

    /* One freed: one more fits, then full again. */
    CU_ASSERT_EQUAL(sse_timer_del(ids[NT / 2]), SSE_OK);
    CU_ASSERT_EQUAL(sse_timer_count(), (unsigned)(NT - 1));
    again = sse_timer_add(LONG_MS, count_cb, &n);
    CU_ASSERT_FATAL(again > 0);
    CU_ASSERT_EQUAL(sse_timer_count(), (unsigned)NT);
    CU_ASSERT_EQUAL(sse_timer_add(LONG_MS, count_cb, &n), SSE_ERR_NOMEM);
    /* It took the freed slot, yet the old id does not name it. */
    CU_ASSERT(again != ids[NT / 2]);
    CU_ASSERT_EQUAL(sse_timer_del(ids[NT / 2]), SSE_ERR_ARG);
    CU_ASSERT_EQUAL(sse_timer_count(), (unsigned)NT);
    ids[NT / 2] = again;

    for (i = 0; i < NT; i++)
        CU_ASSERT_EQUAL(sse_timer_del(ids[i]), SSE_OK);
    CU_ASSERT_EQUAL(sse_timer_count(), 0);
    CU_ASSERT_EQUAL(ld(&n), 0);
}

static void test_timer_stale_id(void)
{
    int n = 0, a, b, i;

    /* Del and re-add with every slot free: the old id stays dead, over
     * many generations of the same slot. */
    a = sse_timer_add(LONG_MS, count_cb, &n);
    CU_ASSERT_FATAL(a > 0);
    for (i = 0; i < 200; i++) {
        CU_ASSERT_EQUAL_FATAL(sse_timer_del(a), SSE_OK);
        b = sse_timer_add(LONG_MS, count_cb, &n);
        CU_ASSERT_FATAL(b > 0);
        CU_ASSERT_FATAL(b != a);
        CU_ASSERT_EQUAL_FATAL(sse_timer_del(a), SSE_ERR_ARG);
        CU_ASSERT_EQUAL_FATAL(sse_timer_count(), 1);
        a = b;
    }
    CU_ASSERT_EQUAL(sse_timer_del(a), SSE_OK);
    CU_ASSERT_EQUAL(sse_timer_count(), 0);
}

/* ---- service stop / start ---------------------------------------------- */

static void test_timer_stop_removes_all(void)
{
    int n[3], id[3], snap[3];
    const int k = NT < 3 ? NT : 3;

    for (int round = 0; round < 5; round++) {
        CU_ASSERT_EQUAL_FATAL(sse_timer_service_start(), SSE_OK);
        CU_ASSERT_EQUAL(sse_timer_service_start(), SSE_ERR_BUSY);
        CU_ASSERT_EQUAL(sse_timer_count(), 0);
        for (int i = 0; i < k; i++) {
            st(&n[i], 0);
            id[i] = sse_timer_add((uint32_t)(5 + 3 * i), count_cb, &n[i]);
            CU_ASSERT_FATAL(id[i] > 0);
        }
        for (int i = 0; i < k; i++)
            CU_ASSERT(wait_for(&n[i], 2) >= 2);
        sse_timer_service_stop();
        CU_ASSERT_EQUAL(sse_timer_count(), 0);
        /* stop waited for the thread: no call comes after it returned. */
        for (int i = 0; i < k; i++)
            snap[i] = ld(&n[i]);
        sse_port_sleep_ms(40);
        for (int i = 0; i < k; i++) {
            CU_ASSERT_EQUAL(ld(&n[i]), snap[i]);
            CU_ASSERT_EQUAL(sse_timer_del(id[i]), SSE_ERR_ARG);
        }
        sse_timer_service_stop();               /* twice is harmless */
        CU_ASSERT_EQUAL(sse_timer_count(), 0);
    }
}

static void test_timer_added_while_stopped(void)
{
    int n = 0, id;

    id = sse_timer_add(20, count_cb, &n);
    CU_ASSERT_FATAL(id > 0);
    CU_ASSERT_EQUAL(sse_timer_count(), 1);
    sse_port_sleep_ms(100);
    CU_ASSERT_EQUAL(ld(&n), 0);                 /* no thread, no calls */
    CU_ASSERT_EQUAL_FATAL(sse_timer_service_start(), SSE_OK);
    CU_ASSERT(wait_for(&n, 3) >= 3);
    CU_ASSERT_EQUAL(sse_timer_del(id), SSE_OK);
}

/* sse_timer.h: "timers added before start begin counting now" (at start),
 * and sse.h: the first call comes after one period. */
static void test_timer_added_before_start_counts_from_start(void)
{
    const uint32_t period = 200;
    int n = 0, id, c;
    uint32_t t0, t1;

    id = sse_timer_add(period, count_cb, &n);
    CU_ASSERT_FATAL(id > 0);
    sse_port_sleep_ms(period + 100);            /* longer than a period */
    t0 = now();
    CU_ASSERT_EQUAL_FATAL(sse_timer_service_start(), SSE_OK);
    sse_port_sleep_ms(period / 4);
    c = ld(&n);
    t1 = now();
    CU_ASSERT(c <= max_calls(t0, t1, period));
    CU_ASSERT(wait_for(&n, 1) >= 1);            /* it does run */
    CU_ASSERT_EQUAL(sse_timer_del(id), SSE_OK);
}

/* ---- callbacks using the API --------------------------------------------- */


static void self_del_cb(void *arg)
{
    (void)arg;
    inc(&self_calls);
    st(&self_del_rc, sse_timer_del(ld(&self_id)));
}

static void test_timer_callback_deletes_itself(void)
{
    int n = 0, other, id;

    NEED_TIMERS(2);
    st(&self_del_rc, 1); /* not yet: the callback's sse_timer_del() answers */
    /* Added before start so the id is known before any call. */
    id = sse_timer_add(10, self_del_cb, NULL);
    CU_ASSERT_FATAL(id > 0);
    st(&self_id, id);
    other = sse_timer_add(10, count_cb, &n);     /* keeps running */
    CU_ASSERT_FATAL(other > 0);
    CU_ASSERT_EQUAL_FATAL(sse_timer_service_start(), SSE_OK);
    CU_ASSERT(wait_for(&self_calls, 1) >= 1);
    CU_ASSERT(wait_for(&n, ld(&n) + 5) >= 5);     /* many periods later */
    CU_ASSERT_EQUAL(ld(&self_calls), 1);
    CU_ASSERT_EQUAL(ld(&self_del_rc), SSE_OK);
    CU_ASSERT_EQUAL(sse_timer_count(), 1);
    CU_ASSERT_EQUAL(sse_timer_del(id), SSE_ERR_ARG);
    CU_ASSERT_EQUAL(sse_timer_del(other), SSE_OK);
    CU_ASSERT_EQUAL(sse_timer_count(), 0);
}


static void added_cb(void *arg)
{
    (void)arg;
    inc(&added_calls);
}

static void adder_cb(void *arg)
{
    (void)arg;
    if (inc(&adder_calls) == 1)
        st(&added_id, sse_timer_add(5, added_cb, NULL));
}

static void test_timer_callback_adds_timer(void)
{
    int id;

    NEED_TIMERS(2);
    CU_ASSERT_EQUAL_FATAL(sse_timer_service_start(), SSE_OK);
    id = sse_timer_add(10, adder_cb, NULL);
    CU_ASSERT_FATAL(id > 0);
    CU_ASSERT(wait_for(&added_calls, 3) >= 3);
    CU_ASSERT(ld(&added_id) > 0);
    CU_ASSERT(ld(&added_id) != id);
    CU_ASSERT_EQUAL(sse_timer_count(), 2);
    CU_ASSERT_EQUAL(sse_timer_del(ld(&added_id)), SSE_OK);
    CU_ASSERT_EQUAL(sse_timer_del(id), SSE_OK);
    CU_ASSERT_EQUAL(sse_timer_count(), 0);
}

/* Removing a connection's timers leaves global timers alone. */
static void test_timer_del_conn_keeps_global(void)
{
    int n = 0, id;

    CU_ASSERT_EQUAL_FATAL(sse_timer_service_start(), SSE_OK);
    id = sse_timer_add(10, count_cb, &n);
    CU_ASSERT_FATAL(id > 0);
    sse_timer_del_conn(42);
    sse_timer_del_conn(SSE_CONN_NONE);
    CU_ASSERT_EQUAL(sse_timer_count(), 1);
    CU_ASSERT(wait_for(&n, 2) >= 2);
    CU_ASSERT_EQUAL(sse_timer_del(id), SSE_OK);
}

/* Last: what the next suite finds. */
static void test_timer_leaves_clean(void)
{
    sse_timer_service_stop();
    CU_ASSERT_EQUAL(sse_timer_count(), 0);
    /* Stopped: start works (not BUSY), then stop again. */
    CU_ASSERT_EQUAL(sse_timer_service_start(), SSE_OK);
    sse_timer_service_stop();
    CU_ASSERT_EQUAL(sse_timer_count(), 0);
}

static const tb_test_t tests[] = {
    TB_TEST(test_timer_args),
    TB_TEST(test_timer_periodic_rate),
    TB_TEST(test_timer_two_rates),
    TB_TEST(test_timer_callbacks_serialised),
    TB_TEST(test_timer_no_burst_after_stall),
    TB_TEST(test_timer_del_stops),
    TB_TEST(test_timer_del_bad_ids),
    TB_TEST(test_timer_slots),
    TB_TEST(test_timer_stale_id),
    TB_TEST(test_timer_stop_removes_all),
    TB_TEST(test_timer_added_while_stopped),
    TB_TEST(test_timer_added_before_start_counts_from_start),
    TB_TEST(test_timer_callback_deletes_itself),
    TB_TEST(test_timer_callback_adds_timer),
    TB_TEST(test_timer_del_conn_keeps_global),
    TB_TEST(test_timer_leaves_clean),
};

int test_timer_register(void)
{
    return tb_add_suite("timer", NULL, suite_clean, setup, teardown, tests,
                        sizeof tests / sizeof tests[0]);
}
