/* SPDX-License-Identifier: MIT */
/* sse_bench_server: the ssedge side of the fan-out benchmark (one "*" route, a paced publisher). */
#define _GNU_SOURCE /* -std=c99 hides clock_nanosleep, sigaction and friends */

#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "ssedge/sse.h"
#include "backend/backend.h"

#define NS_PER_S 1000000000ULL

/* If the publisher wakes this many periods late it publishes the missed
 * events back to back; beyond that it drops them, so a descheduled publisher
 * never dumps a burst on the clients that the configured rate would not. */
#define MAX_CATCHUP_PERIODS 8

static volatile sig_atomic_t g_stop;

static void on_signal(int sig)
{
    (void)sig;
    g_stop = 1;
}

static uint64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * NS_PER_S + (uint64_t)ts.tv_nsec;
}

static void usage(const char *argv0)
{
    fprintf(stderr,
            "usage: %s --port P --rate R [--bind ADDR] [--max-conn N] [--coalesce-ms MS]\n"
            "          [--cert PEM --key PEM]\n"
            "  publishes R events/s \"<seq> <t_monotonic_ns>\" to every stream\n"
            "  --cert/--key: serve https (needs a CONFIG_SSE_TLS build,\n"
            "  e.g. build/tls/bin; scripts/devcert.sh makes a pair)\n",
            argv0);
    exit(2);
}

static unsigned long parse_ul(const char *s, unsigned long min,
                              unsigned long max, const char *argv0)
{
    char *end;
    unsigned long v;

    errno = 0;
    v = strtoul(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || v < min || v > max) {
        fprintf(stderr, "bad number: %s\n", s);
        usage(argv0);
    }
    return v;
}

/* The bench opens a thousand sockets and threads; the default soft limit of
 * 1024 fds would make accept() fail long before the slots run out. */
static void raise_nofile(void)
{
    struct rlimit rl;

    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        if (setrlimit(RLIMIT_NOFILE, &rl) != 0)
            perror("setrlimit(RLIMIT_NOFILE)");
    }
}

int main(int argc, char **argv)
{
    static const sse_route_t routes[] = {
        /* "*": whatever path the client asks for, as long as its Accept
         * names text/event-stream, which the bench client always sends. */
        { .path = "*", .channel = SSE_CHANNEL_NONE },
    };
    sse_server_cfg_t cfg;
    sse_tls_cfg_t tls;
    sse_stats_t st;
    struct sigaction sa;
    sigset_t sigs;
    unsigned long port = 0, rate = 0, max_conn = 0, coalesce = CONFIG_SSE_COALESCE_MS;
    const char *bind_addr = NULL; /* the backend's: loopback on POSIX */
    uint64_t base, k, seq = 0, skipped = 0, pub_errors = 0;
    /* Why a run fell short of its rate: late wake-ups (CPU starvation) or
     * sse_publish() itself taking long (lock contention). */
    uint64_t late_max = 0, pub_max = 0, pub_sum = 0;
    int rc, i, first_err = 0;

    memset(&tls, 0, sizeof(tls));
    for (i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--port") == 0 && i + 1 < argc)
            port = parse_ul(argv[++i], 0, 65535, argv[0]);
        else if (strcmp(argv[i], "--rate") == 0 && i + 1 < argc)
            rate = parse_ul(argv[++i], 1, 1000000, argv[0]);
        else if (strcmp(argv[i], "--bind") == 0 && i + 1 < argc)
            bind_addr = argv[++i];
        else if (strcmp(argv[i], "--coalesce-ms") == 0 && i + 1 < argc)
            coalesce = parse_ul(argv[++i], 0, 1000, argv[0]);
        else if (strcmp(argv[i], "--max-conn") == 0 && i + 1 < argc)
            max_conn = parse_ul(argv[++i], 1, CONFIG_SSE_MAX_CONNECTIONS,
                                argv[0]);
        else if (strcmp(argv[i], "--cert") == 0 && i + 1 < argc)
            tls.cert_file = argv[++i];
        else if (strcmp(argv[i], "--key") == 0 && i + 1 < argc)
            tls.key_file = argv[++i];
        else
            usage(argv[0]);
    }
    if (rate == 0 || (tls.cert_file == NULL) != (tls.key_file == NULL))
        usage(argv[0]);
#if !defined(CONFIG_SSE_TLS)
    if (tls.cert_file != NULL) {
        fprintf(stderr, "%s: --cert/--key need a build with CONFIG_SSE_TLS "
                "(make BUILD=build/tls KCONFIG_CONFIG=build/tls/.config "
                "DEFCONFIG=configs/posix_tls_defconfig "
                "build/tls/bin/sse_bench_server)\n", argv[0]);
        return 2;
    }
#endif

    raise_nofile();

    /* Block the stop signals before ssedge creates its threads (they
     * inherit the mask), so SIGINT/SIGTERM land on this thread and cut its
     * clock_nanosleep short instead of waking a random connection thread. */
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGINT);
    sigaddset(&sigs, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &sigs, NULL);

    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal; /* no SA_RESTART: the sleep must return EINTR */
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    /* Clients hang up at the end of every run; a write to a closed socket
     * must cost an error return, not the process. */
    sa.sa_handler = SIG_IGN;
    sigaction(SIGPIPE, &sa, NULL);

    /* The port's stack (lwIP: tcpip thread and tap netif), after the mask:
     * its threads inherit it too. */
    if (tb_up() != 0)
        return 1;
    if (bind_addr == NULL)
        bind_addr = tb_bind_addr();
    sse_server_cfg_init(&cfg);
    cfg.bind_addr = bind_addr;
    cfg.port = (uint16_t)port;
    cfg.routes = routes;
    cfg.num_routes = 1;
    if (max_conn != 0)
        cfg.max_connections = (unsigned)max_conn;
    cfg.coalesce_ms = (uint32_t)coalesce;
    if (tls.cert_file != NULL)
        cfg.tls = &tls; /* every connection is https */

    rc = sse_server_start(&cfg);
    if (rc != SSE_OK) {
        fprintf(stderr, "sse_server_start(%s:%lu): %s\n", bind_addr, port,
                sse_strerror(rc));
        return 1;
    }
    pthread_sigmask(SIG_UNBLOCK, &sigs, NULL);

    printf("listening port=%u pid=%ld tls=%s\n", (unsigned)sse_server_port(),
           (long)getpid(), cfg.tls ? "on" : "off");
    fflush(stdout);

    /* Event k of the current second is due at base + k * 1e9 / rate: an
     * absolute schedule, so sleeping late never accumulates drift, and the
     * integer division does not drift either because base moves by exactly
     * one second every `rate` events. */
    base = mono_ns();
    k = 1;
    while (!g_stop) {
        uint64_t due = base + k * NS_PER_S / rate;
        struct timespec ts;
        uint64_t now, t;
        char buf[64];
        int len;

        ts.tv_sec = (time_t)(due / NS_PER_S);
        ts.tv_nsec = (long)(due % NS_PER_S);
        rc = clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
        if (rc == EINTR)
            continue; /* the loop condition sees g_stop */

        now = mono_ns();
        if (now > due && now - due > late_max)
            late_max = now - due;
        if (now > due + MAX_CATCHUP_PERIODS * NS_PER_S / rate) {
            /* Too late to catch up without a burst: restart the schedule
             * at now and count what was dropped. */
            skipped += (now - due) * rate / NS_PER_S;
            base = now;
            k = 0;
        }

        seq++;
        t = mono_ns(); /* as late as possible: latency is publish-to-read */
        len = snprintf(buf, sizeof(buf), "%llu %llu", (unsigned long long)seq,
                       (unsigned long long)t);
        rc = sse_publish(SSE_CHANNEL_ALL, "message", buf, (size_t)len, NULL);
        now = mono_ns() - t;
        pub_sum += now;
        if (now > pub_max)
            pub_max = now;
        if (rc != SSE_OK) {
            if (pub_errors++ == 0)
                first_err = rc;
        }

        if (++k > rate) { /* keep k * 1e9 small: move base on by one second */
            base += NS_PER_S;
            k -= rate;
        }
    }

    rc = sse_server_stop();
    if (sse_server_stats(&st) != SSE_OK)
        memset(&st, 0, sizeof(st));
    printf("stopped published=%llu skipped=%llu late_max_us=%llu "
           "publish_avg_us=%.1f publish_max_us=%llu publish_errors=%llu%s%s "
           "accepted=%llu overloaded=%llu fell_behind=%llu send_failures=%llu slow_sends=%llu "
           "bad_requests=%llu tls_failures=%llu last_id=%llu stop=%s\n",
           (unsigned long long)seq, (unsigned long long)skipped,
           (unsigned long long)(late_max / 1000),
           seq ? (double)pub_sum / (double)seq / 1000.0 : 0.0,
           (unsigned long long)(pub_max / 1000),
           (unsigned long long)pub_errors,
           pub_errors ? " first_error=" : "",
           pub_errors ? sse_strerror(first_err) : "",
           (unsigned long long)st.accepted, (unsigned long long)st.overloaded,
           (unsigned long long)st.fell_behind,
           (unsigned long long)st.send_failures,
           (unsigned long long)st.slow_sends,
           (unsigned long long)st.bad_requests,
           (unsigned long long)st.tls_failures,
           (unsigned long long)st.last_id, sse_strerror(rc));
    fflush(stdout);
    return rc == SSE_OK ? 0 : 1;
}
