/* SPDX-License-Identifier: MIT */
/* Suite "port": the port contract (port/sse_port.h) itself, on whichever
 * port the runner is built with: threads, mutual exclusion, condition
 * variables under concurrent waiters (lwIP builds them from one binary
 * semaphore per waiter), the event count's masks, the clock, sends that
 * never wait. */
#define _GNU_SOURCE /* readlink, for the io_uring check */
#include <stdio.h>
#include <string.h>
#include <CUnit/CUnit.h>

#include "sse_port.h"
#include "ssedge/sse_err.h"
#include "tests.h"
#include "test_util.h"

#define WAITERS 8 /* concurrent waiters: within the lwIP pool (connections + 5) */

static sse_port_mutex_t m;
static sse_port_cond_t cv;
static int tickets, consumed, started, finished, go;
static unsigned long counter;

static int suite_init(void)
{
    if (sse_port_init() != SSE_OK || sse_port_mutex_init(&m) != SSE_OK ||
        sse_port_cond_init(&cv) != SSE_OK)
        return -1;
    return 0;
}

static int suite_clean(void)
{
    sse_port_cond_destroy(&cv);
    sse_port_mutex_destroy(&m);
    return 0;
}

/* Wait (polling, bounded) until *v reaches want under the mutex. */
static int reach(const int *v, int want, uint32_t ms)
{
    uint32_t t0 = sse_port_now_ms();
    int now;
    for (;;) {
        sse_port_mutex_lock(&m);
        now = *v;
        sse_port_mutex_unlock(&m);
        if (now >= want || sse_port_now_ms() - t0 > ms)
            return now;
        sse_port_sleep_ms(2);
    }
}

static void reset(void)
{
    sse_port_mutex_lock(&m);
    tickets = consumed = started = finished = go = 0;
    counter = 0;
    sse_port_mutex_unlock(&m);
}

static void spawn(void (*fn)(void *), void *arg)
{
    CU_ASSERT_EQUAL_FATAL(sse_port_thread_create(fn, arg, 16384, "t"), SSE_OK);
}

/* ---- mutex ------------------------------------------------------------------ */

#define INCS 20000
static void incrementer(void *arg)
{
    int i;
    (void)arg;
    for (i = 0; i < INCS; i++) {
        sse_port_mutex_lock(&m);
        counter++; /* a plain read-modify-write: only the mutex keeps it exact */
        sse_port_mutex_unlock(&m);
    }
    sse_port_mutex_lock(&m);
    finished++;
    sse_port_mutex_unlock(&m);
}

static void test_port_mutex_excludes(void)
{
    int i;
    reset();
    for (i = 0; i < 4; i++)
        spawn(incrementer, NULL);
    CU_ASSERT_EQUAL(reach(&finished, 4, 20000), 4);
    sse_port_mutex_lock(&m);
    CU_ASSERT_EQUAL(counter, 4UL * INCS);
    sse_port_mutex_unlock(&m);
}

/* ---- condition variable ---------------------------------------------------- */

/* Takes one ticket, waiting for it on the condition (no timeout: a lost
 * wake-up shows as a consumer that never finishes). */
static void consumer(void *arg)
{
    (void)arg;
    sse_port_mutex_lock(&m);
    started++;
    while (tickets == 0)
        sse_port_cond_wait(&cv, &m, SSE_PORT_FOREVER);
    tickets--;
    consumed++;
    sse_port_mutex_unlock(&m);
}

/* From a reset: WAITERS threads of fn started, then a moment for them to
 * park on the condition. */
static void park_waiters(void (*fn)(void *))
{
    int i;
    reset();
    for (i = 0; i < WAITERS; i++)
        spawn(fn, NULL);
    CU_ASSERT_EQUAL(reach(&started, WAITERS, 5000), WAITERS);
    sse_port_sleep_ms(20);
}

/* One signal per ticket, WAITERS consumers parked at once: every ticket is
 * taken, so no signal was lost among concurrent waiters. */
static void test_port_cond_signal_each_waiter(void)
{
    int i;
    park_waiters(consumer);
    for (i = 0; i < WAITERS; i++) {
        sse_port_mutex_lock(&m);
        tickets++;
        sse_port_mutex_unlock(&m);
        sse_port_cond_signal(&cv); /* outside the mutex: allowed */
        if (i % 2)
            sse_port_sleep_ms(1);
    }
    CU_ASSERT_EQUAL(reach(&consumed, WAITERS, 5000), WAITERS);
    sse_port_mutex_lock(&m);
    CU_ASSERT_EQUAL(tickets, 0);
    sse_port_mutex_unlock(&m);
}

static void gate(void *arg)
{
    (void)arg;
    sse_port_mutex_lock(&m);
    started++;
    while (!go)
        sse_port_cond_wait(&cv, &m, SSE_PORT_FOREVER);
    finished++;
    sse_port_mutex_unlock(&m);
}

/* One broadcast releases every waiter. */
static void test_port_cond_broadcast_all(void)
{
    park_waiters(gate);
    sse_port_mutex_lock(&m);
    go = 1;
    sse_port_cond_broadcast(&cv); /* under the mutex: allowed too */
    sse_port_mutex_unlock(&m);
    CU_ASSERT_EQUAL(reach(&finished, WAITERS, 5000), WAITERS);
}

/* A wait with nobody to signal times out, roughly on time, mutex held. */
static void test_port_cond_timeout(void)
{
    uint32_t t0, dt;
    int r;
    sse_port_mutex_lock(&m);
    t0 = sse_port_now_ms();
    r = sse_port_cond_wait(&cv, &m, 60);
    dt = sse_port_now_ms() - t0;
    /* Spurious returns are allowed; a timeout must not come early. */
    CU_ASSERT(r == SSE_ERR_TIMEOUT || r == SSE_OK);
    if (r == SSE_ERR_TIMEOUT)
        CU_ASSERT(dt >= 50);
    CU_ASSERT(dt < 2000);
    counter = 7; /* we hold the mutex again: this write is ours */
    sse_port_mutex_unlock(&m);
}

/* Signals racing timeouts: short timed waits while a signaller fires at
 * random-ish moments. Every ticket must still be consumed and no waiter may
 * stay stuck (the lwIP port's signal-after-timeout path). */
static void timed_consumer(void *arg)
{
    int want = *(const int *)arg, got = 0;
    sse_port_mutex_lock(&m);
    started++;
    while (got < want) {
        if (tickets > 0) {
            tickets--;
            got++;
            consumed++;
            continue;
        }
        sse_port_cond_wait(&cv, &m, 1 + (uint32_t)(got % 3));
    }
    finished++;
    sse_port_mutex_unlock(&m);
}

static void test_port_cond_signal_vs_timeout(void)
{
    static const int per = 300;
    int i, n = 4;
    reset();
    for (i = 0; i < n; i++)
        spawn(timed_consumer, (void *)&per);
    CU_ASSERT_EQUAL(reach(&started, n, 5000), n);
    for (i = 0; i < per * n; i++) {
        sse_port_mutex_lock(&m);
        tickets++;
        sse_port_mutex_unlock(&m);
        if (i % 3)
            sse_port_cond_signal(&cv);
        else
            sse_port_cond_broadcast(&cv);
        if (i % 50 == 0)
            sse_port_sleep_ms(1);
    }
    CU_ASSERT_EQUAL(reach(&finished, n, 20000), n);
    CU_ASSERT_EQUAL(reach(&consumed, per * n, 1000), per * n);
}

/* ---- event count ---------------------------------------------------------- */

static sse_port_evt_t evt;
static int woke[3];

static void evt_waiter(void *arg)
{
    int k = *(const int *)arg;
    uint32_t seen = sse_port_evt_seq(&evt);
    sse_port_mutex_lock(&m);
    started++;
    sse_port_mutex_unlock(&m);
    /* Interest 1 << k; a wake for another mask may wake us spuriously:
     * wait again until our own bit's wake (the sequence moved past the
     * value our waker saw, signalled by go == k + 1). */
    for (;;) {
        int mine;
        sse_port_evt_wait(&evt, seen, 1u << k, 5000);
        seen = sse_port_evt_seq(&evt);
        sse_port_mutex_lock(&m);
        mine = go == k + 1;
        sse_port_mutex_unlock(&m);
        if (mine)
            break;
    }
    sse_port_mutex_lock(&m);
    woke[k] = (int)sse_port_now_ms();
    finished++;
    sse_port_mutex_unlock(&m);
}

static void test_port_evt_masks(void)
{
    static const int ks[3] = { 0, 1, 2 };
    int i;
    uint32_t seen, t0;
    reset();
    CU_ASSERT_EQUAL_FATAL(sse_port_evt_init(&evt), SSE_OK);
    /* A wake between reading the sequence and waiting is not lost. */
    seen = sse_port_evt_seq(&evt);
    sse_port_evt_wake(&evt, 1);
    t0 = sse_port_now_ms();
    CU_ASSERT_EQUAL(sse_port_evt_wait(&evt, seen, 1, 3000), SSE_OK);
    CU_ASSERT(sse_port_now_ms() - t0 < 1000);
    CU_ASSERT(sse_port_evt_seq(&evt) != seen);
    /* Three waiters, one bit each; each wake with one bit ends its waiter
     * well before the 5 s timeout. */
    for (i = 0; i < 3; i++)
        spawn(evt_waiter, (void *)&ks[i]);
    CU_ASSERT_EQUAL(reach(&started, 3, 5000), 3);
    sse_port_sleep_ms(20);
    for (i = 2; i >= 0; i--) {
        sse_port_mutex_lock(&m);
        go = i + 1;
        sse_port_mutex_unlock(&m);
        t0 = sse_port_now_ms();
        sse_port_evt_wake(&evt, 1u << i);
        CU_ASSERT_EQUAL(reach(&finished, 3 - i, 2000), 3 - i);
        CU_ASSERT(sse_port_now_ms() - t0 < 2000);
    }
}

/* ---- threads and clock ------------------------------------------------------ */

static void quick(void *arg)
{
    (void)arg;
    sse_port_mutex_lock(&m);
    finished++;
    sse_port_mutex_unlock(&m);
}

static void test_port_threads_and_clock(void)
{
    int i;
    uint32_t t0, dt;
    reset();
    for (i = 0; i < 64; i++)
        spawn(quick, NULL);
    CU_ASSERT_EQUAL(reach(&finished, 64, 10000), 64);
    t0 = sse_port_now_ms();
    sse_port_sleep_ms(30);
    dt = sse_port_now_ms() - t0;
    CU_ASSERT(dt >= 29 && dt < 1000);
    {
        unsigned char a[32], b[32];
        CU_ASSERT_EQUAL(sse_port_random(a, sizeof a), SSE_OK);
        CU_ASSERT_EQUAL(sse_port_random(b, sizeof b), SSE_OK);
        CU_ASSERT(memcmp(a, b, sizeof a) != 0);
    }
}

/* ---- sockets ------------------------------------------------------------ */

#include <unistd.h>
#include <arpa/inet.h>
#include <poll.h>
#include <sys/socket.h>
#include "backend/backend.h"

/* A Linux client (receive buffer @p rcvbuf, 0: the default) connected to a
 * listener of the port on the backend's address; the port's end in *cs.
 * @return the client's fd. */
static int port_pair(sse_port_sock_t *ls, sse_port_sock_t *cs, int rcvbuf)
{
    struct sockaddr_in a;
    int fd;
    CU_ASSERT_EQUAL_FATAL(sse_port_listen(ls, tb_bind_addr(), 0, 4), SSE_OK);
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_port = htons(sse_port_sock_local_port(ls));
    inet_pton(AF_INET, tb_client_addr(), &a.sin_addr);
    fd = socket(AF_INET, SOCK_STREAM, 0);
    CU_ASSERT_FATAL(fd >= 0);
    if (rcvbuf)
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
    CU_ASSERT_FATAL(connect(fd, (struct sockaddr *)&a, sizeof a) == 0);
    CU_ASSERT_EQUAL_FATAL(sse_port_accept(ls, cs, 2000), SSE_OK);
    return fd;
}

/* Bytes the client can read within @p quiet_ms of silence (all 'x'). */
static long drain_x(int fd, long quiet_ms, int *all_x)
{
    char buf[4096];
    long got = 0;
    struct pollfd p = { fd, POLLIN, 0 };
    while (poll(&p, 1, (int)quiet_ms) > 0) {
        ssize_t n = recv(fd, buf, sizeof buf, 0), i;
        if (n <= 0)
            break;
        for (i = 0; i < n; i++)
            *all_x &= buf[i] == 'x';
        got += n;
    }
    return got;
}

/* sse_port_send(s, chunk, 0) on its own thread, so a send that waits
 * makes the test fail instead of hang. */
static struct {
    sse_port_sock_t *s;
    int              r;
} send0;

static void send0_main(void *arg)
{
    static char chunk[1000];
    int r = SSE_OK, i;
    (void)arg;
    memset(chunk, 'x', sizeof chunk);
    /* Until the path is full again (a stack may have made a little room
     * since): bounded, each call returning at once. */
    for (i = 0; i < 1000 && (r = sse_port_send(send0.s, chunk, sizeof chunk, 0)) == SSE_OK; i++)
        ;
    sse_port_mutex_lock(&m);
    send0.r = r;
    finished++;
    sse_port_mutex_unlock(&m);
}

/* sse_port_try_send() takes what fits and returns 0 when the path is full,
 * without waiting; sse_port_send() with timeout 0 says SSE_ERR_TIMEOUT at
 * once; room comes back as the client reads; a gone peer is an error. */
static void test_port_try_send_never_waits(void)
{
    sse_port_sock_t ls, cs;
    char chunk[1000];
    long sent = 0, got;
    int fd, r = 1, i, all_x = 1;
    uint32_t t0;
    memset(chunk, 'x', sizeof chunk);
    fd = port_pair(&ls, &cs, 4096);
    t0 = sse_port_now_ms();
    /* Bounded: a few MB at most could ever be in flight. */
    for (i = 0; i < 20000 && (r = sse_port_try_send(&cs, chunk, sizeof chunk)) > 0; i++)
        sent += r;
    CU_ASSERT_EQUAL(r, 0); /* full, not an error */
    CU_ASSERT(sent > 0);
    CU_ASSERT(sse_port_now_ms() - t0 < 3000);
    /* A zero timeout: no wait at all (POSIX once waited forever here). */
    reset();
    send0.s = &cs;
    spawn(send0_main, NULL);
    if (reach(&finished, 1, 2000) != 1) {
        CU_FAIL("sse_port_send with timeout 0 waited");
        close(fd); /* the reset ends that send */
        reach(&finished, 1, 5000);
        sse_port_close(&cs);
        sse_port_close(&ls);
        return;
    }
    CU_ASSERT_EQUAL(send0.r, SSE_ERR_TIMEOUT);
    /* The client reads it all (and what the zero-timeout sends got out). */
    got = drain_x(fd, 300, &all_x);
    CU_ASSERT(got >= sent);
    CU_ASSERT(all_x);
    r = sse_port_try_send(&cs, chunk, sizeof chunk);
    CU_ASSERT(r > 0); /* room again */
    close(fd);
    /* The peer is gone: a later send fails (once its reset is back). */
    for (i = 0; i < 200 && (r = sse_port_try_send(&cs, chunk, sizeof chunk)) >= 0; i++)
        sse_port_sleep_ms(10);
    CU_ASSERT(r == SSE_ERR_CLOSED || r == SSE_ERR_IO);
    sse_port_close(&cs);
    sse_port_close(&ls);
}

/* ---- batches of sends ------------------------------------------------------ */

#define BATCH 4 /* sockets in a batch */

/* File descriptors of io_uring instances this process holds (Linux). */
static int uring_fds(void)
{
    int n = 0;
#if defined(__linux__)
    char path[64], link[64];
    int fd;
    for (fd = 0; fd < 1024; fd++) {
        ssize_t k;
        snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
        k = readlink(path, link, sizeof link - 1);
        if (k > 0) {
            link[k] = 0;
            n += strcmp(link, "anon_inode:[io_uring]") == 0;
        }
    }
#endif
    return n;
}

/* Read exactly @p len bytes from @p fd (2 s of silence at most). */
static int read_exact(int fd, char *buf, size_t len)
{
    size_t got = 0;
    struct pollfd p = { fd, POLLIN, 0 };
    while (got < len && poll(&p, 1, 2000) > 0) {
        ssize_t k = recv(fd, buf + got, len - got, 0);
        if (k <= 0)
            break;
        got += (size_t)k;
    }
    return got == len ? 0 : -1;
}

/* sse_port_try_send_many(): each entry as sse_port_try_send() would answer,
 * every socket's bytes in order over many batches, a full socket at 0 and
 * a gone peer as an error beside streams that take theirs; on Linux with
 * CONFIG_SSE_PORT_IO_URING one io_uring, opened and closed with the batch. */
static void test_port_try_send_many(void)
{
    sse_port_sock_t ls, cs[BATCH];
    sse_port_send_t v[BATCH];
    struct sockaddr_in a;
    char msg[BATCH][32], chunk[1000], want[2048], got[2048];
    int fd[BATCH], i, round, r = 1, rings = uring_fds();
    size_t wl[BATCH] = {0};
    memset(chunk, 'x', sizeof chunk);
    CU_ASSERT_EQUAL(sse_port_batch_open(BATCH), SSE_OK);
#if defined(CONFIG_SSE_PORT_POSIX) && defined(CONFIG_SSE_PORT_IO_URING) && \
    defined(__linux__) && !defined(SSE_POSIX_PORTABLE)
    {
        /* Unless the kernel refuses io_uring to everyone here. */
        FILE *f = fopen("/proc/sys/kernel/io_uring_disabled", "r");
        int off = 0;
        if (f && fscanf(f, "%d", &off) != 1)
            off = 0;
        if (f)
            fclose(f);
        if (!off)
            CU_ASSERT_EQUAL(uring_fds(), rings + 1);
    }
#endif
    CU_ASSERT_EQUAL_FATAL(sse_port_listen(&ls, tb_bind_addr(), 0, BATCH), SSE_OK);
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_port = htons(sse_port_sock_local_port(&ls));
    inet_pton(AF_INET, tb_client_addr(), &a.sin_addr);
    for (i = 0; i < BATCH; i++) {
        int rcv = 4096;
        fd[i] = socket(AF_INET, SOCK_STREAM, 0);
        CU_ASSERT_FATAL(fd[i] >= 0);
        setsockopt(fd[i], SOL_SOCKET, SO_RCVBUF, &rcv, sizeof rcv);
        CU_ASSERT_FATAL(connect(fd[i], (struct sockaddr *)&a, sizeof a) == 0);
        CU_ASSERT_EQUAL_FATAL(sse_port_accept(&ls, &cs[i], 2000), SSE_OK);
    }
    /* Rounds of one send per socket, each socket its own text. */
    for (round = 0; round < 40; round++) {
        for (i = 0; i < BATCH; i++) {
            int len = snprintf(msg[i], sizeof msg[i], "%d:%d\n", i, round);
            v[i].sock = &cs[i];
            v[i].buf = msg[i];
            v[i].len = (size_t)len;
            v[i].res = SSE_ERR_ARG;
            wl[i] += (size_t)len;
        }
        CU_ASSERT_EQUAL(sse_port_try_send_many(v, BATCH), SSE_OK);
        for (i = 0; i < BATCH; i++)
            CU_ASSERT_EQUAL(v[i].res, (int)v[i].len);
    }
    for (i = 0; i < BATCH; i++) {
        size_t k = 0;
        for (round = 0; round < 40; round++)
            k += (size_t)snprintf(want + k, sizeof want - k, "%d:%d\n", i, round);
        CU_ASSERT_EQUAL(k, wl[i]);
        CU_ASSERT_EQUAL(read_exact(fd[i], got, k), 0);
        CU_ASSERT(memcmp(got, want, k) == 0);
    }
    /* Socket 1 full (its client reads nothing), socket 2's peer gone. */
    for (i = 0; i < 20000 && (r = sse_port_try_send(&cs[1], chunk, sizeof chunk)) > 0; i++)
        ;
    CU_ASSERT_EQUAL(r, 0);
    close(fd[2]);
    for (i = 0; i < 200 && (r = sse_port_try_send(&cs[2], chunk, sizeof chunk)) >= 0; i++)
        sse_port_sleep_ms(10);
    CU_ASSERT(r < 0);
    for (i = 0; i < BATCH; i++) {
        v[i].sock = &cs[i];
        v[i].buf = i == 1 || i == 2 ? chunk : "ok\n";
        v[i].len = i == 1 || i == 2 ? sizeof chunk : 3;
        v[i].res = SSE_ERR_ARG;
    }
    CU_ASSERT_EQUAL(sse_port_try_send_many(v, BATCH), SSE_OK);
    CU_ASSERT_EQUAL(v[0].res, 3);
    CU_ASSERT(v[1].res >= 0 && v[1].res < (int)sizeof chunk); /* full: 0, or a little room */
    CU_ASSERT(v[2].res == SSE_ERR_CLOSED || v[2].res == SSE_ERR_IO);
    CU_ASSERT_EQUAL(v[3].res, 3);
    CU_ASSERT(read_exact(fd[0], got, 3) == 0 && memcmp(got, "ok\n", 3) == 0);
    CU_ASSERT(read_exact(fd[3], got, 3) == 0 && memcmp(got, "ok\n", 3) == 0);
    for (i = 0; i < BATCH; i++) {
        if (i != 2)
            close(fd[i]);
        sse_port_close(&cs[i]);
    }
    sse_port_close(&ls);
    sse_port_batch_close();
    CU_ASSERT_EQUAL(uring_fds(), rings);
}

/* The peer of an accepted socket names the client's address and port (for
 * log lines); a socket that is not connected gives "?". */
static void test_port_sock_peer(void)
{
    sse_port_sock_t ls, cs, none;
    struct sockaddr_in a;
    socklen_t al = sizeof a;
    char buf[SSE_PORT_PEER_LEN], want[SSE_PORT_PEER_LEN], ip[INET_ADDRSTRLEN];
    int fd = port_pair(&ls, &cs, 0);
    /* The client's own end, as the port sees it from the other side. */
    CU_ASSERT_FATAL(getsockname(fd, (struct sockaddr *)&a, &al) == 0);
    inet_ntop(AF_INET, &a.sin_addr, ip, sizeof ip);
    snprintf(want, sizeof want, "%s:%u", ip, (unsigned)ntohs(a.sin_port));
    CU_ASSERT_STRING_EQUAL(sse_port_sock_peer(&cs, buf, sizeof buf), want);
    sse_port_sock_init(&none);
    CU_ASSERT_STRING_EQUAL(sse_port_sock_peer(&none, buf, sizeof buf), "?");
    close(fd);
    sse_port_close(&cs);
    sse_port_close(&ls);
}

/* A Linux listener at the backend's host address (what the port's own
 * clients reach), backlog @p backlog; its port in *port. */
static int host_listener(int backlog, uint16_t *port)
{
    struct sockaddr_in a;
    socklen_t al = sizeof a;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    inet_pton(AF_INET, tb_host_addr(), &a.sin_addr);
    CU_ASSERT_FATAL(fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof a) == 0 &&
                    listen(fd, backlog) == 0 &&
                    getsockname(fd, (struct sockaddr *)&a, &al) == 0);
    *port = ntohs(a.sin_port);
    return fd;
}

/* sse_port_connect(): reaches a listener and carries bytes both ways; a
 * port nobody listens on is refused; a listener whose queue is full never
 * answers and the connect gives up within its bound. */
static void test_port_connect(void)
{
    sse_port_sock_t c;
    uint16_t port, dead;
    char buf[8];
    int ls = host_listener(4, &port), fd, i, q[4], nq = 0;
    uint32_t t0;

    /* A link just brought up (lwIP's tap) may fail the first attempts:
     * retry for a few seconds, as a client of ssedge does (backoff). */
    t0 = sse_port_now_ms();
    while ((i = sse_port_connect(&c, tb_host_addr(), port, 2000)) != SSE_OK &&
           sse_port_now_ms() - t0 < 5000)
        sse_port_sleep_ms(200);
    CU_ASSERT_EQUAL_FATAL(i, SSE_OK);
    fd = accept(ls, NULL, NULL);
    CU_ASSERT_FATAL(fd >= 0);
    CU_ASSERT_EQUAL(send(fd, "hi", 2, 0), 2);
    CU_ASSERT_EQUAL(sse_port_recv(&c, buf, sizeof buf, 2000), 2);
    CU_ASSERT(memcmp(buf, "hi", 2) == 0);
    CU_ASSERT_EQUAL(sse_port_send(&c, "yo", 2, 2000), SSE_OK);
    CU_ASSERT_EQUAL(recv(fd, buf, sizeof buf, 0), 2);
    CU_ASSERT(memcmp(buf, "yo", 2) == 0);
    close(fd);
    CU_ASSERT_EQUAL(sse_port_recv(&c, buf, sizeof buf, 2000), SSE_ERR_CLOSED);
    sse_port_close(&c);
    close(ls);

    /* Refused: the port is free again. */
    ls = host_listener(1, &dead);
    close(ls);
    CU_ASSERT_EQUAL(sse_port_connect(&c, tb_host_addr(), dead, 2000), SSE_ERR_CLOSED);
    CU_ASSERT_EQUAL(sse_port_connect(&c, "", dead, 100), SSE_ERR_ARG);

    /* A full accept queue drops the SYN: no answer, a bounded wait. */
    ls = host_listener(0, &port);
    for (i = 0; i < 4; i++) {
        struct sockaddr_in a;
        int qfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
        memset(&a, 0, sizeof a);
        a.sin_family = AF_INET;
        a.sin_port = htons(port);
        inet_pton(AF_INET, tb_host_addr(), &a.sin_addr);
        (void)connect(qfd, (struct sockaddr *)&a, sizeof a);
        q[nq++] = qfd;
    }
    sleep_ms(100); /* the queue fills */
    t0 = sse_port_now_ms();
    CU_ASSERT_EQUAL(sse_port_connect(&c, tb_host_addr(), port, 300), SSE_ERR_TIMEOUT);
    CU_ASSERT(sse_port_now_ms() - t0 >= 250 && sse_port_now_ms() - t0 < 3000);
    for (i = 0; i < nq; i++)
        close(q[i]);
    close(ls);
#if defined(CONFIG_SSE_PORT_POSIX)
    /* A name, through the resolver. */
    ls = host_listener(4, &port);
    CU_ASSERT_EQUAL(sse_port_connect(&c, "localhost", port, 2000), SSE_OK);
    sse_port_close(&c);
    close(ls);
#endif
}

#if defined(CONFIG_SSE_PORT_POSIX)

/* An accepted socket carries CONFIG_SSE_SOCK_SNDBUF when it is set (Linux
 * reports twice the value asked for), and the OS's own size otherwise. */
static void test_port_accepted_sndbuf(void)
{
    sse_port_sock_t ls, cs;
    struct sockaddr_in a;
    int fd, sb = 0;
    socklen_t sl = sizeof sb;
    CU_ASSERT_EQUAL_FATAL(sse_port_listen(&ls, "127.0.0.1", 0, 4), SSE_OK);
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_port = htons(sse_port_sock_local_port(&ls));
    inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
    fd = socket(AF_INET, SOCK_STREAM, 0);
    CU_ASSERT_FATAL(fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof a) == 0);
    CU_ASSERT_EQUAL_FATAL(sse_port_accept(&ls, &cs, 2000), SSE_OK);
    CU_ASSERT_EQUAL(getsockopt(cs.fd, SOL_SOCKET, SO_SNDBUF, &sb, &sl), 0);
#if CONFIG_SSE_SOCK_SNDBUF > 0
    CU_ASSERT(sb >= CONFIG_SSE_SOCK_SNDBUF && sb <= 2 * CONFIG_SSE_SOCK_SNDBUF + 4096);
#else
    CU_ASSERT(sb > 0);
#endif
    sse_port_close(&cs);
    sse_port_close(&ls);
    close(fd);
}
#endif

static const tb_test_t tests[] = {
    TB_TEST(test_port_mutex_excludes),
    TB_TEST(test_port_cond_signal_each_waiter),
    TB_TEST(test_port_cond_broadcast_all),
    TB_TEST(test_port_cond_timeout),
    TB_TEST(test_port_cond_signal_vs_timeout),
    TB_TEST(test_port_evt_masks),
    TB_TEST(test_port_threads_and_clock),
    TB_TEST(test_port_try_send_never_waits),
    TB_TEST(test_port_try_send_many),
    TB_TEST(test_port_sock_peer),
    TB_TEST(test_port_connect),
#if defined(CONFIG_SSE_PORT_POSIX)
    TB_TEST(test_port_accepted_sndbuf),
#endif
};

int test_port_register(void)
{
    return TB_SUITE("port", suite_init, suite_clean, tests);
}
