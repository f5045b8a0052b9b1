/* SPDX-License-Identifier: MIT */
/* sse_bench_server: the ssedge side of the fan-out benchmark (one "*" route, a paced publisher). */
#define _GNU_SOURCE /* -std=c99 hides clock_nanosleep, sigaction and friends */

#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ssedge/sse.h"
#include "ssedge/sse_uplink.h"
#include "backend/backend.h"
/* The publishing schedule (a publisher that wakes more than a few periods
 * late drops the missed events instead of bursting them), the stop signals
 * and the stop line's first fields, as the peer servers have them. */
#include "peers/pace.h"

static void usage(const char *argv0)
{
    fprintf(stderr,
            "usage: %s --port P --rate R [--bind ADDR] [--max-conn N] [--coalesce-ms MS]\n"
            "          [--cert PEM --key PEM] [--uplink URL [--uplink-token T]]\n"
            "  publishes R events/s \"<seq> <t_monotonic_ns> <late_us>\" to every stream\n"
            "  --uplink: forwards them to a hub too (make bench-hub)\n"
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

int main(int argc, char **argv)
{
    static const sse_route_t routes[] = {
        /* "*": whatever path the client asks for, as long as its Accept
         * names text/event-stream, which the bench client always sends. */
        { .path = "*", .channel = SSE_CHANNEL_NONE },
    };
    sse_server_cfg_t cfg;
    sse_tls_cfg_t tls;
    sse_uplink_cfg_t up;
    sse_stats_t st;
    sigset_t sigs;
    pace_t pace;
    unsigned long port = 0, rate = 0, max_conn = 0, coalesce = CONFIG_SSE_COALESCE_MS;
    const char *bind_addr = NULL; /* the backend's: loopback on POSIX */
    uint64_t pub_errors = 0;
    char extra[768]; /* every count at 20 digits fits */
    int rc, i, first_err = 0;

    memset(&tls, 0, sizeof(tls));
    sse_uplink_cfg_init(&up);
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
        else if (strcmp(argv[i], "--uplink") == 0 && i + 1 < argc)
            up.url = argv[++i];
        else if (strcmp(argv[i], "--uplink-token") == 0 && i + 1 < argc)
            up.token = argv[++i];
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

    /* The bench opens a thousand sockets and threads; the default soft
     * limit of 1024 fds would make accept() fail long before the slots run
     * out. */
    pace_raise_nofile();

    /* Block the stop signals before ssedge creates its threads (they
     * inherit the mask), so SIGINT/SIGTERM land on this thread and cut its
     * clock_nanosleep short instead of waking a random connection thread. */
    pace_signals(&sigs);

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
    /* Started after the server, as the examples do: it forwards from the
     * ring the server's publishes fill. */
    if (up.url != NULL && (rc = sse_uplink_start(&up)) != SSE_OK) {
        fprintf(stderr, "sse_uplink_start(%s): %s\n", up.url, sse_strerror(rc));
        (void)sse_server_stop();
        return 1;
    }
    pace_signals_unblock(&sigs);

    printf("listening port=%u pid=%ld tls=%s\n", (unsigned)sse_server_port(),
           (long)getpid(), cfg.tls ? "on" : "off");
    fflush(stdout);

    /* Why a run fell short of its rate shows in the stop line: late
     * wake-ups (CPU starvation) or sse_publish() itself taking long (lock
     * contention). */
    pace_start(&pace, rate);
    while (!pace_stop) {
        uint64_t t;
        char buf[64];
        int len;

        if (pace_sleep(&pace) == EINTR)
            continue; /* the loop condition sees pace_stop */
        (void)pace_begin(&pace);
        t = pace_now(); /* as late as possible: latency is publish-to-read */
        len = pace_data(buf, sizeof(buf), &pace, t);
        rc = sse_publish(SSE_CHANNEL_ALL, "message", buf, (size_t)len, NULL);
        if (rc != SSE_OK) {
            if (pub_errors++ == 0)
                first_err = rc;
        }
        pace_end(&pace, t);
    }

    if (up.url != NULL)
        (void)sse_uplink_stop();
    rc = sse_server_stop();
    if (sse_server_stats(&st) != SSE_OK)
        memset(&st, 0, sizeof(st));
    snprintf(extra, sizeof(extra), " publish_errors=%llu%s%s "
             "accepted=%llu overloaded=%llu fell_behind=%llu send_failures=%llu slow_sends=%llu writer_rests=%llu "
             "bad_requests=%llu tls_failures=%llu last_id=%llu uplink_sent=%llu "
             "uplink_retries=%llu uplink_lost=%llu uplink_duplicates=%llu conn_bufs_peak=%u stop=%s",
             (unsigned long long)pub_errors,
             pub_errors ? " first_error=" : "",
             pub_errors ? sse_strerror(first_err) : "",
             (unsigned long long)st.accepted, (unsigned long long)st.overloaded,
             (unsigned long long)st.fell_behind,
             (unsigned long long)st.send_failures,
             (unsigned long long)st.slow_sends, (unsigned long long)st.writer_rests,
             (unsigned long long)st.bad_requests,
             (unsigned long long)st.tls_failures,
             (unsigned long long)st.last_id, (unsigned long long)st.uplink_sent,
             (unsigned long long)st.uplink_retries, (unsigned long long)st.uplink_lost,
             (unsigned long long)st.uplink_duplicates, st.conn_bufs_peak, sse_strerror(rc));
    pace_print_stopped(&pace, extra);
    return rc == SSE_OK ? 0 : 1;
}
