/* SPDX-License-Identifier: MIT */
/* pace.h: command line, publishing schedule and stop line the bench's peer servers share with sse_bench_server. */
#ifndef BENCH_PEERS_PACE_H
#define BENCH_PEERS_PACE_H

/* Header-only: each peer is one .c file plus this. The includer defines
 * _GNU_SOURCE (or _POSIX_C_SOURCE >= 200112L) before any system header. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#define NS_PER_S 1000000000ULL

/* Same rule as sse_bench_server: a publisher that wakes more than this many
 * periods late drops the missed slots instead of bursting them. */
#define MAX_CATCHUP_PERIODS 8

typedef struct {
    const char *bind_addr;   /* --bind, default 127.0.0.1 */
    unsigned port;           /* --port, 0 = any free port */
    unsigned long rate;      /* --rate, events per second */
    struct sockaddr_in addr; /* bind_addr:port */
} pace_args_t;

/* The schedule: event k of the current second is due at base + k * 1e9 /
 * rate (absolute, so a late wake-up never accumulates drift), plus what the
 * stop line reports. */
typedef struct {
    unsigned long rate;
    uint64_t base, k;
    uint64_t due_cur;  /* when the event being published was due */
    uint64_t seq, skipped;
    uint64_t late_max, pub_sum, pub_max; /* ns */
} pace_t;

/* Set by SIGINT or SIGTERM: the publishing loop ends. */
static volatile sig_atomic_t pace_stop;

static void pace_on_signal(int sig)
{
    (void)sig;
    pace_stop = 1;
}

/* SIGINT and SIGTERM set pace_stop, without SA_RESTART so the publisher's
 * sleep returns EINTR; SIGPIPE is ignored (clients hang up at the end of
 * every run: a write to a closed socket must cost an error return, not the
 * process). With @p sigs, the stop signals are also blocked in this thread
 * until pace_signals_unblock(sigs): threads the server starts meanwhile
 * inherit the mask, so the signals land on the publishing thread and cut
 * its sleep short instead of waking a random connection thread. */
static inline void pace_signals(sigset_t *sigs)
{
    struct sigaction act;

    if (sigs != NULL) {
        sigemptyset(sigs);
        sigaddset(sigs, SIGINT);
        sigaddset(sigs, SIGTERM);
        pthread_sigmask(SIG_BLOCK, sigs, NULL);
    }
    memset(&act, 0, sizeof(act));
    act.sa_handler = pace_on_signal;
    sigemptyset(&act.sa_mask);
    sigaction(SIGINT, &act, NULL);
    sigaction(SIGTERM, &act, NULL);
    act.sa_handler = SIG_IGN;
    sigaction(SIGPIPE, &act, NULL);
}

/* The server's threads are up: the stop signals may come to this one. */
static inline void pace_signals_unblock(const sigset_t *sigs)
{
    pthread_sigmask(SIG_UNBLOCK, sigs, NULL);
}

static inline uint64_t pace_now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * NS_PER_S + (uint64_t)ts.tv_nsec;
}

/* One line naming what was wrong, then exit 2. */
static inline void pace_usage(const char *argv0, const char *msg)
{
    fprintf(stderr, "%s: %s (usage: %s --port P --rate R [--bind ADDR])\n",
            argv0, msg, argv0);
    exit(2);
}

static inline unsigned long pace_number(const char *argv0, const char *flag,
                                        const char *s, unsigned long min,
                                        unsigned long max)
{
    char msg[160];
    char *end;
    unsigned long v;

    errno = 0;
    v = strtoul(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || v < min || v > max) {
        snprintf(msg, sizeof(msg), "bad value for %s: %s", flag, s);
        pace_usage(argv0, msg);
    }
    return v;
}

/* --port P --rate R [--bind ADDR]; exits 2 naming the flag on anything else. */
static inline void pace_parse(int argc, char **argv, pace_args_t *a)
{
    char msg[160];
    int i;

    a->bind_addr = "127.0.0.1";
    a->port = 0;
    a->rate = 0;
    for (i = 1; i < argc; i++) {
        const char *f = argv[i];

        if (strcmp(f, "--port") != 0 && strcmp(f, "--rate") != 0 &&
            strcmp(f, "--bind") != 0) {
            snprintf(msg, sizeof(msg), "unknown flag: %s", f);
            pace_usage(argv[0], msg);
        }
        if (i + 1 >= argc) {
            snprintf(msg, sizeof(msg), "%s needs a value", f);
            pace_usage(argv[0], msg);
        }
        if (strcmp(f, "--port") == 0)
            a->port = (unsigned)pace_number(argv[0], f, argv[++i], 0, 65535);
        else if (strcmp(f, "--rate") == 0)
            a->rate = pace_number(argv[0], f, argv[++i], 1, 1000000);
        else
            a->bind_addr = argv[++i];
    }
    if (a->rate == 0)
        pace_usage(argv[0], "--rate is required");
    memset(&a->addr, 0, sizeof(a->addr));
    a->addr.sin_family = AF_INET;
    a->addr.sin_port = htons((uint16_t)a->port);
    if (inet_pton(AF_INET, a->bind_addr, &a->addr.sin_addr) != 1) {
        snprintf(msg, sizeof(msg), "bad value for --bind (IPv4 address): %s",
                 a->bind_addr);
        pace_usage(argv[0], msg);
    }
}

/* Thousands of sockets (and threads): lift the soft fd limit to the hard one. */
static inline void pace_raise_nofile(void)
{
    struct rlimit rl;

    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        if (setrlimit(RLIMIT_NOFILE, &rl) != 0)
            perror("setrlimit(RLIMIT_NOFILE)");
    }
}

static inline void pace_start(pace_t *p, unsigned long rate)
{
    memset(p, 0, sizeof(*p));
    p->rate = rate;
    p->base = pace_now();
    p->k = 1;
}

/* When the next event is due (CLOCK_MONOTONIC ns). */
static inline uint64_t pace_due(const pace_t *p)
{
    return p->base + p->k * NS_PER_S / p->rate;
}

/* Sleep until the next event is due; EINTR when a signal cut it short. */
static inline int pace_sleep(const pace_t *p)
{
    uint64_t due = pace_due(p);
    struct timespec ts;

    ts.tv_sec = (time_t)(due / NS_PER_S);
    ts.tv_nsec = (long)(due % NS_PER_S);
    return clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
}

/* The due time has passed: record how late, apply the skip rule, and
 * return the new event's seq (1, 2, ...). */
static inline uint64_t pace_begin(pace_t *p)
{
    uint64_t due = pace_due(p), now = pace_now();

    if (now > due && now - due > p->late_max)
        p->late_max = now - due;
    p->due_cur = due;
    if (now > due + MAX_CATCHUP_PERIODS * NS_PER_S / p->rate) {
        /* Too late to catch up without a burst: restart the schedule at
         * now and count what was dropped. This event stands for the last
         * slot that came due, so its lateness stays under one period. */
        uint64_t missed = (now - due) * p->rate / NS_PER_S;

        p->skipped += missed;
        p->due_cur = due + missed * NS_PER_S / p->rate;
        p->base = now;
        p->k = 0;
    }
    return ++p->seq;
}

/* The event taken at t (pace_now() just before publishing) is out. */
static inline void pace_end(pace_t *p, uint64_t t)
{
    uint64_t d = pace_now() - t;

    p->pub_sum += d;
    if (d > p->pub_max)
        p->pub_max = d;
    if (++p->k > p->rate) { /* keep k * 1e9 small: move base on by 1 s */
        p->base += NS_PER_S;
        p->k -= p->rate;
    }
}

/* How long after its due time the event taken at t was, in µs: the
 * client adds it back, so besides publish-to-read it measures due-to-read,
 * which also holds a publisher's own lateness (one that sends from its
 * publishing thread stamps late when its last sweep overran). */
static inline unsigned long long pace_late_us(const pace_t *p, uint64_t t)
{
    return t > p->due_cur ? (unsigned long long)((t - p->due_cur) / 1000) : 0;
}

/* "<seq> <t> <late_us>": the data line every peer publishes. */
static inline int pace_data(char *buf, size_t size, const pace_t *p, uint64_t t)
{
    return snprintf(buf, size, "%llu %llu %llu", (unsigned long long)p->seq,
                    (unsigned long long)t, pace_late_us(p, t));
}

/* The whole SSE frame: "id: <seq>\nevent: message\ndata: <seq> <t> <late_us>\n\n". */
static inline int pace_frame(char *buf, size_t size, const pace_t *p, uint64_t t)
{
    return snprintf(buf, size, "id: %llu\nevent: message\ndata: %llu %llu %llu\n\n",
                    (unsigned long long)p->seq, (unsigned long long)p->seq,
                    (unsigned long long)t, pace_late_us(p, t));
}

static inline void pace_print_listening(unsigned port, long pid)
{
    printf("listening port=%u pid=%ld\n", port, pid);
    fflush(stdout);
}

/* The first fields of sse_bench_server's stop line; extra is appended
 * (" key=value..." or ""). */
static inline void pace_print_stopped(const pace_t *p, const char *extra)
{
    printf("stopped published=%llu skipped=%llu late_max_us=%llu "
           "publish_avg_us=%.1f publish_max_us=%llu%s\n",
           (unsigned long long)p->seq, (unsigned long long)p->skipped,
           (unsigned long long)(p->late_max / 1000),
           p->seq ? (double)p->pub_sum / (double)p->seq / 1000.0 : 0.0,
           (unsigned long long)(p->pub_max / 1000), extra ? extra : "");
    fflush(stdout);
}

#endif
