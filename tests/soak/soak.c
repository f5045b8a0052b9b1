/* SPDX-License-Identifier: MIT */
/* The soak: churning SSE clients (one thread each) against a publishing
 * sse_attack_server, then loss, duplicates and resource drift.
 *
 *   sse_soak --server BIN/sse_attack_server [--seconds N] [--steady N]
 *            [--churn N] [--slow N] [--slots N] [--rate R] [--seed N]
 *            [--server-log FILE]
 *
 * Client kinds: steady readers (connected throughout); churners (connected
 * 0.3-4 s, then gone 0-1.5 s by FIN or RST, back with Last-Event-ID, one
 * time in ten without it); slow readers (16 KB receive buffer, small reads
 * with naps, now and then a stall of 1-3 s, so the server drops some of them
 * and they resume). A flood of slots + 16 stream requests comes every
 * flood period and holds what it gets for half a second.
 *
 * Loss: a client that comes back with Last-Event-ID while the server's
 * oldest event (asked just before reconnecting) is at least one second of
 * events older than what it needs is "within the window": every id after its
 * last one must arrive, once, in order. Within one connection every id must
 * follow the previous one (the server closes a stream that falls off the
 * ring; it never skips). Beyond the window, ids evicted before the client
 * came back are counted apart, not as loss. Duplicates (an id not above the
 * last one seen by that client, across reconnects) must be 0 everywhere.
 *
 * Drift: after a warm-up (ring filled and wrapped, every slot's thread
 * started by a flood) all clients leave; once the server holds no slot its
 * threads, descriptors and anonymous RSS (RssAnon: heap, stacks, static
 * data, which the server writes once at start so late first use of a static
 * page is not counted; via its "proc" command) are taken. The same is taken after the run, when
 * the clients have left again. The publisher keeps publishing throughout.
 * Threads and descriptors must match exactly; RSS may grow by up to two
 * fresh thread stacks (RSS_SLACK_KB): a connection's thread frees its slot
 * before it has ended, so the next connection's thread can start while it
 * ends, and glibc hands a thread a cached stack only once its last owner has
 * gone: a churn that beats the warm-up's peak of threads alive maps a new
 * stack (two touched pages). +8 KiB was seen once in about 25 runs, not
 * again in 5 reruns; this cause is inferred, not traced. A leak of a dozen
 * bytes per connection is still over the slack in a 180 s run.
 *
 * Prints the figures and ends with exactly "soak: N passed, M failed".
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include "../attack/attack_util.h"

#define RETRY_MS          200   /* retry hint on an open stream */
#define OVERLOAD_RETRY_MS 500   /* and on an overload answer: tells them apart */
#define EVENT_SIZE        64
#define RSS_SLACK_KB      16 /* two fresh thread stacks' touched pages: see Drift */

enum kind { STEADY, CHURN, SLOW };
static const char *const kind_name[] = { "steady", "churning", "slow" };

enum { RUN, PAUSE, DONE };
static int phase; /* atomic */

static au_srv_t srv;
static unsigned rate = 500, slots = 48;

/* A client's counters, one list (type, name): declared in struct client,
 * summed per kind and over all clients by add_counts(). */
#define CLIENT_COUNTERS(X) \
    X(uint64_t, events) X(uint64_t, lost) X(uint64_t, dups) X(uint64_t, bad_data) \
    X(uint64_t, evicted) X(uint64_t, chosen_skip) X(unsigned, conns) X(unsigned, resume_in) \
    X(unsigned, resume_out) X(unsigned, fresh) X(unsigned, overloads) \
    X(unsigned, server_closes) X(unsigned, rsts)
#define COUNTER_FIELD(type, name) type name;

struct client {
    enum kind kind;
    int       idx;
    uint64_t  rng;
    uint64_t  last_id;
    CLIENT_COUNTERS(COUNTER_FIELD)
    pthread_t th;
};

static int get_phase(void) { return __atomic_load_n(&phase, __ATOMIC_ACQUIRE); }

static uint64_t rnd(uint64_t *s) /* xorshift64* */
{
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return *s * 2685821657736338717ULL;
}

static long rnd_between(uint64_t *s, long lo, long hi)
{
    return lo + (long)(rnd(s) % (uint64_t)(hi - lo + 1));
}

static long long srv_get(const char *cmd, const char *key)
{
    return au_srv_get(&srv, cmd, key);
}

/* Sleep ms unless the phase leaves RUN first. */
static void nap(long ms)
{
    long end = now_ms() + ms;
    while (get_phase() == RUN && now_ms() < end)
        sleep_ms(end - now_ms() < 20 ? end - now_ms() : 20);
}

/* One connection of a client, from connect to close. */
static void one_connection(struct client *c, au_sse_t *s)
{
    char req[256];
    int fd, n, use_leid, in_window = 1, rst;
    long until, next_stall;
    uint64_t last = c->last_id;

    use_leid = last != 0 && !(c->kind == CHURN && rnd(&c->rng) % 10 == 0);
    if (use_leid) {
        /* Within the window if the server still holds, by one second's worth
         * of events to spare, the first event this client needs. */
        long long oldest = srv_get("stats", "oldest_id");
        in_window = oldest >= 0 && (uint64_t)oldest + rate <= last + 1;
    }
    fd = au_connect(srv.port);
    if (fd < 0) {
        nap(100);
        return;
    }
    if (c->kind == SLOW) {
        int small = 16384;
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
    }
    if (use_leid)
        n = snprintf(req, sizeof req, "GET /events HTTP/1.1\r\nHost: soak\r\n"
                     "Accept: text/event-stream\r\nLast-Event-ID: %llu\r\n\r\n",
                     (unsigned long long)last);
    else
        n = snprintf(req, sizeof req, "GET /events HTTP/1.1\r\nHost: soak\r\n"
                     "Accept: text/event-stream\r\n\r\n");
    if (au_send_all(fd, req, (size_t)n, 2000) != 0) {
        close(fd);
        nap(100);
        return;
    }
    c->conns++;
    /* Ids are checked against the last one this client saw, on any connection. */
    au_sse_init(s, fd, last);
    if (c->kind == SLOW)
        s->chunk = 1024; /* with the naps below: about 25 KB/s */
    until = c->kind == CHURN ? now_ms() + rnd_between(&c->rng, 300, 4000) : -1;
    next_stall = now_ms() + rnd_between(&c->rng, 2000, 8000);
    while (get_phase() == RUN && !s->eof && (until < 0 || now_ms() < until)) {
        if (c->kind == SLOW) {
            if (now_ms() >= next_stall) {
                nap(rnd_between(&c->rng, 1000, 3000));
                next_stall = now_ms() + rnd_between(&c->rng, 2000, 8000);
            }
            au_sse_poll(s, 50);
            nap(rnd_between(&c->rng, 5, 40));
        } else {
            au_sse_poll(s, 50);
        }
    }
    rst = c->kind == CHURN && rnd(&c->rng) % 2;
    if (rst) {
        au_close_rst(fd);
        c->rsts++;
    } else {
        close(fd);
    }

    /* Account. */
    if (s->eof && s->events == 0 && s->saw_retry && s->retry_ms == OVERLOAD_RETRY_MS) {
        c->overloads++;
        nap(rnd_between(&c->rng, 100, 400));
        return;
    }
    c->events += s->events;
    c->dups += s->dups;
    c->bad_data += s->bad_data;
    if (s->events && last != 0 && s->first_id > last + 1) {
        uint64_t first_gap = s->first_id - last - 1;
        if (!use_leid) {
            c->chosen_skip += first_gap; /* asked for live events only */
            s->gaps -= first_gap;
        } else if (!in_window) {
            c->evicted += first_gap;
            s->gaps -= first_gap;
        }
    }
    c->lost += s->gaps;
    if (use_leid && in_window)
        c->resume_in++;
    else if (use_leid)
        c->resume_out++;
    else if (last != 0)
        c->fresh++;
    if (s->last_id > c->last_id)
        c->last_id = s->last_id;
    if (s->eof && get_phase() == RUN)
        c->server_closes++;
    if (c->kind == CHURN)
        nap(rnd_between(&c->rng, 0, 1500));
}

static void *client_main(void *arg)
{
    struct client *c = arg;
    au_sse_t *s = malloc(sizeof *s);
    int p;
    if (!s)
        return NULL;
    while ((p = get_phase()) != DONE) {
        if (p == PAUSE) {
            sleep_ms(20);
            continue;
        }
        one_connection(c, s);
    }
    free(s);
    return NULL;
}

/* ---- floods --------------------------------------------------------------- */

static unsigned floods, flood_conns, flood_overload, flood_slot, flood_other;

static void flood_once(void)
{
    enum { MAXF = 1100 };
    static int fds[MAXF];
    static const char req[] =
        "GET /events HTTP/1.1\r\nHost: flood\r\nAccept: text/event-stream\r\n\r\n";
    unsigned n = slots + 16, i;
    uint64_t r = (uint64_t)now_ms() | 1;
    if (n > MAXF)
        n = MAXF;
    for (i = 0; i < n; i++) {
        fds[i] = au_connect(srv.port);
        if (fds[i] >= 0)
            au_send_all(fds[i], req, sizeof req - 1, 1000);
    }
    for (i = 0; i < n; i++) {
        au_resp_t *resp = malloc(sizeof *resp);
        if (fds[i] < 0 || !resp) {
            free(resp);
            continue;
        }
        au_read_resp(fds[i], resp, 1000, 1);
        flood_conns++;
        if (resp->status == 200 && strstr(resp->buf, "retry: 500\n"))
            flood_overload++;
        else if (resp->status == 200)
            flood_slot++;
        else
            flood_other++;
        free(resp);
    }
    sleep_ms(500);
    for (i = 0; i < n; i++) {
        if (fds[i] < 0)
            continue;
        if (rnd(&r) % 2)
            au_close_rst(fds[i]);
        else
            close(fds[i]);
    }
    floods++;
}

static long flood_period_ms = 15000, first_flood_ms = 2500;

/* Floods come from this thread only: the first in the warm-up, so that
 * every slot's thread and stack has existed once before the first
 * measurement, then one per period. */
static void *flood_main(void *unused)
{
    long next = now_ms() + first_flood_ms;
    (void)unused;
    while (get_phase() != DONE) {
        if (get_phase() == RUN && now_ms() >= next) {
            flood_once();
            next = now_ms() + flood_period_ms;
        }
        sleep_ms(50);
    }
    return NULL;
}

/* ---- measurement ----------------------------------------------------------- */


#define check au_check /* attack_util.c: counted ok/FAIL lines */

struct usage {
    long long threads, fds, rss_kb;
};

/* Clients gone: wait until no slot is held and the thread count stops
 * moving (connection threads end just after freeing their slot), then take
 * the figures. want_threads > 0: wait for that count instead. */
static int quiesce(struct usage *u, long long want_threads)
{
    long end = now_ms() + 10000;
    long long prev = -1;
    int stable = 0;
    while (srv_get("stats", "active") != 0 && now_ms() < end)
        sleep_ms(20);
    while (now_ms() < end) {
        long long t = srv_get("proc", "threads");
        if (want_threads > 0 ? t == want_threads : t == prev)
            stable++;
        else
            stable = 0;
        prev = t;
        if (stable >= 3)
            break;
        sleep_ms(100);
    }
    pthread_mutex_lock(&srv.lock);
    {
        const char *l = au_srv_cmd(&srv, "proc");
        u->threads = au_kv(l, "threads");
        u->fds = au_kv(l, "fds");
        u->rss_kb = au_kv(l, "rss_kb");
    }
    pthread_mutex_unlock(&srv.lock);
    return srv_get("stats", "active") == 0;
}

/* Add c's counters to *to. */
static void add_counts(struct client *to, const struct client *c)
{
#define ADD_COUNTER(type, name) to->name += c->name;
    CLIENT_COUNTERS(ADD_COUNTER)
#undef ADD_COUNTER
}

int main(int argc, char **argv)
{
    const char *server = NULL, *log = NULL;
    unsigned seconds = 60, nsteady = 6, nchurn = 20, nslow = 4, n, i;
    uint64_t seed = (uint64_t)now_ms();
    struct client *cl;
    pthread_t fl;
    struct usage u0, u1;
    long warm_ms, t0, t_main;
    long long pub0, pub1, skipped, first_id, window;

    for (i = 1; i + 1 < (unsigned)argc; i += 2) {
        /* The options that take a count. */
        const struct {
            const char *name;
            unsigned   *to;
        } counts[] = {
            { "--seconds", &seconds }, { "--steady", &nsteady }, { "--churn", &nchurn },
            { "--slow", &nslow }, { "--slots", &slots }, { "--rate", &rate },
        };
        size_t k = 0;
        if (strcmp(argv[i], "--server") == 0) {
            server = argv[i + 1];
        } else if (strcmp(argv[i], "--server-log") == 0) {
            log = argv[i + 1];
        } else if (strcmp(argv[i], "--seed") == 0) {
            seed = strtoull(argv[i + 1], NULL, 10);
        } else {
            while (k < sizeof counts / sizeof counts[0] && strcmp(argv[i], counts[k].name) != 0)
                k++;
            if (k == sizeof counts / sizeof counts[0])
                break;
            *counts[k].to = (unsigned)strtoul(argv[i + 1], NULL, 10);
        }
    }
    n = nsteady + nchurn + nslow;
    if (!server || i != (unsigned)argc || seconds < 5 || rate < 10 || slots < 4 ||
        n == 0 || n >= slots) {
        fprintf(stderr, "usage: %s --server PATH [--seconds N>=5] [--steady N] [--churn N] "
                "[--slow N] [--slots N > clients] [--rate R>=10] [--seed N] "
                "[--server-log FILE]\n", argv[0]);
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);
    {
        const au_opt_t opts[] = {
            { "--slots", (long)slots }, { "--header-timeout-ms", 2000 },
            { "--send-timeout-ms", 2000 }, { "--idle-check-ms", 200 },
            { "--heartbeat-ms", 1000 }, { "--retry-ms", RETRY_MS },
            { "--overload-retry-ms", OVERLOAD_RETRY_MS },
        };
        if (!check(au_srv_start(&srv, server, opts, sizeof opts / sizeof opts[0], log) == 0,
                   "server starts (%u slots)", slots)) {
            printf("soak: %d passed, %d failed\n", au_passed, au_failed);
            return 1;
        }
    }
    /* Warm-up: a tenth of the run, 5 to 15 s, with one flood in it. */
    warm_ms = seconds * 100L;
    warm_ms = warm_ms < 5000 ? 5000 : warm_ms > 15000 ? 15000 : warm_ms;
    flood_period_ms = seconds * 1000L / 4;
    if (flood_period_ms > 20000)
        flood_period_ms = 20000;
    if (flood_period_ms < warm_ms)
        flood_period_ms = warm_ms;
    printf("# soak: %u s after a %ld ms warm-up; %u clients (%u steady, %u churning, %u slow), "
           "%u slots, %u events/s of %d bytes, a flood of %u connections every %ld s, "
           "seed %llu\n", seconds, warm_ms, n, nsteady, nchurn, nslow, slots, rate, EVENT_SIZE,
           slots + 16, flood_period_ms / 1000, (unsigned long long)seed);
    fflush(stdout);

    pthread_mutex_lock(&srv.lock);
    au_srv_cmd(&srv, "rate %u %d", rate, EVENT_SIZE);
    pthread_mutex_unlock(&srv.lock);
    cl = calloc(n, sizeof *cl);
    for (i = 0; i < n; i++) {
        cl[i].kind = i < nsteady ? STEADY : i < nsteady + nchurn ? CHURN : SLOW;
        cl[i].idx = (int)i;
        cl[i].rng = (seed + i * 0x9E3779B97F4A7C15ULL) | 1;
        pthread_create(&cl[i].th, NULL, client_main, &cl[i]);
    }
    first_flood_ms = warm_ms / 2;
    pthread_create(&fl, NULL, flood_main, NULL);

    t0 = now_ms();
    while (now_ms() - t0 < warm_ms)
        sleep_ms(50);
    __atomic_store_n(&phase, PAUSE, __ATOMIC_RELEASE);
    check(quiesce(&u0, 0), "warm-up: every client left, no slot held");
    pub0 = srv_get("stats", "published");

    __atomic_store_n(&phase, RUN, __ATOMIC_RELEASE);
    t_main = now_ms();
    while (now_ms() - t_main < (long)seconds * 1000L) {
        sleep_ms(200);
        if (kill(srv.pid, 0) != 0)
            break;
    }
    __atomic_store_n(&phase, PAUSE, __ATOMIC_RELEASE);
    check(quiesce(&u1, u0.threads), "end: every client left, no slot held");
    pub1 = srv_get("stats", "published");
    skipped = srv_get("stats", "skipped");
    first_id = srv_get("stats", "oldest_id");
    window = srv_get("stats", "last_id") - first_id + 1;

    __atomic_store_n(&phase, DONE, __ATOMIC_RELEASE);
    for (i = 0; i < n; i++)
        pthread_join(cl[i].th, NULL);
    pthread_join(fl, NULL);

    {
        struct client t[3], all; /* per kind, and every client */
        unsigned silent[3] = { 0, 0, 0 }; /* clients of a kind that got nothing */
        int k;
        memset(t, 0, sizeof t);
        memset(&all, 0, sizeof all);
        for (i = 0; i < n; i++) {
            add_counts(&t[cl[i].kind], &cl[i]);
            add_counts(&all, &cl[i]);
            if (cl[i].events == 0)
                silent[cl[i].kind]++;
        }
        printf("# events: published %lld in the run (%lld in all, %lld skipped by a late "
               "publisher), delivered %llu over %u connections (%u ended by RST)\n",
               pub1 - pub0, pub1, skipped, (unsigned long long)all.events, all.conns, all.rsts);
        printf("# resumes with Last-Event-ID: %u within the ring window, %u beyond it (%llu "
               "events evicted before they came back); %u reconnects without it (%llu events "
               "skipped by choice); %u overload answers; %u streams closed by the server "
               "(ring window at the end: %lld events, %.1f s)\n",
               all.resume_in, all.resume_out, (unsigned long long)all.evicted, all.fresh,
               (unsigned long long)all.chosen_skip, all.overloads, all.server_closes, window,
               (double)window / rate);
        for (k = 0; k < 3; k++)
            printf("#   %-8s: %llu events, %u connections, %u closed by the server, "
                   "%llu lost, %llu dup\n", kind_name[k], (unsigned long long)t[k].events,
                   t[k].conns, t[k].server_closes, (unsigned long long)t[k].lost,
                   (unsigned long long)t[k].dups);
        printf("# floods: %u of %u connections each: %u overload answers, %u got a slot, "
               "%u other\n", floods, slots + 16, flood_overload, flood_slot, flood_other);
        printf("# server: RSS %lld -> %lld KiB (drift %+lld), threads %lld -> %lld (drift "
               "%+lld), fds %lld -> %lld (drift %+lld)\n", u0.rss_kb, u1.rss_kb,
               u1.rss_kb - u0.rss_kb, u0.threads, u1.threads, u1.threads - u0.threads, u0.fds,
               u1.fds, u1.fds - u0.fds);
        printf("# figures: duration %u s, clients %u, events delivered %llu, lost %llu, "
               "dups %llu, RSS %lld->%lld KiB, threads %lld->%lld, fds %lld->%lld\n",
               seconds, n, (unsigned long long)all.events, (unsigned long long)all.lost,
               (unsigned long long)all.dups, u0.rss_kb, u1.rss_kb, u0.threads, u1.threads, u0.fds,
               u1.fds);

        for (k = 0; k < 3; k++)
            if ((k == STEADY ? nsteady : k == CHURN ? nchurn : nslow) > 0)
                check(silent[k] == 0, "every %s client received events (%llu)", kind_name[k],
                      (unsigned long long)t[k].events);
        check(all.resume_in > 0, "clients resumed with Last-Event-ID within the window (%u)",
              all.resume_in);
        check(all.lost == 0, "events lost by clients within the ring window: %llu",
              (unsigned long long)all.lost);
        check(all.dups == 0, "duplicate events: %llu", (unsigned long long)all.dups);
        check(all.bad_data == 0, "events whose data did not match their id: %llu",
              (unsigned long long)all.bad_data);
        check(t[STEADY].server_closes == 0, "steady readers never closed by the server (%u)",
              t[STEADY].server_closes);
        check(floods > 0 && flood_overload > 0,
              "floods got overload answers (%u floods, %u answers)", floods, flood_overload);
        check(u1.threads == u0.threads, "server threads drift: %+lld (%lld -> %lld)",
              u1.threads - u0.threads, u0.threads, u1.threads);
        check(u1.fds == u0.fds, "server descriptors drift: %+lld (%lld -> %lld)",
              u1.fds - u0.fds, u0.fds, u1.fds);
        check(u1.rss_kb - u0.rss_kb <= RSS_SLACK_KB,
              "server anonymous RSS drift after warm-up: %+lld KiB (%lld -> %lld; at most %d)",
              u1.rss_kb - u0.rss_kb, u0.rss_kb, u1.rss_kb, RSS_SLACK_KB);
    }
    {
        au_resp_t *r = malloc(sizeof *r);
        static const char plain[] = "GET / HTTP/1.1\r\nHost: a\r\n\r\n";
        int ok = r && au_exchange(srv.port, plain, sizeof plain - 1, 0, 2000, 0, r) == 0 &&
                 r->status == 200;
        check(ok, "server still serving at the end");
        free(r);
    }
    check(au_srv_stop(&srv) == 0, "server stops cleanly (exit 0)");
    free(cl);
    printf("soak: %d passed, %d failed\n", au_passed, au_failed);
    return au_failed ? 1 : 0;
}
