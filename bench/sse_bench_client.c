/* SPDX-License-Identifier: MIT */
/* sse_bench_client: neutral one-thread epoll SSE load client; measures delivery, latency, server CPU and RSS. Its command line and start; bench/client/ holds the rest. */
#define _GNU_SOURCE /* -std=c99 hides epoll, sockets, clock_gettime and /proc helpers */

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>

#include "client/client.h"

struct client g;
struct stall stl;
volatile sig_atomic_t g_sig;

static void on_signal(int sig)
{
    (void)sig;
    g_sig = 1;
}

static void usage(const char *argv0)
{
    fprintf(stderr,
        "usage: %s --port P --clients N --seconds S [--warmup W] [--host IPV4]\n"
        "          [--server-pid PID[,PID...]] [--ids seq|any] [--path /x]\n"
        "          [--stall-one SECONDS]\n"
        "          [--rate R (label only)] [--max-inflight K]\n"
        "          [--connect-timeout SECONDS] [--stall-rcvbuf BYTES]\n"
        "          [--tls --cafile PEM]\n"
        "  --stall-rcvbuf: receive buffer of the stalled stream (set before\n"
        "  connecting; small makes the server's send block within seconds\n"
        "  instead of after the kernel has buffered minutes of events)\n"
        "  --server-pid: CPU and RSS are summed over the processes listed\n"
        "  --ids any: accept any id: value (e.g. nchan's time:tag); default\n"
        "  seq: an id that differs from the data's seq counts as id_mismatch\n"
        "  --tls: https, the server's certificate verified against --cafile\n"
        "  for the name \"localhost\" (a CONFIG_SSE_TLS build: build/tls/bin)\n",
        argv0);
    exit(2);
}

static double parse_num(const char *str, double min, double max,
                        const char *argv0)
{
    char *end;
    double v;

    errno = 0;
    v = strtod(str, &end);
    if (errno != 0 || end == str || *end != '\0' || !(v >= min && v <= max)) {
        fprintf(stderr, "bad number: %s\n", str);
        usage(argv0);
    }
    return v;
}

/* --server-pid PID[,PID...]: every process the server is made of. */
static void parse_pids(const char *list, const char *argv0)
{
    char buf[256], *tok, *save = NULL;

    if (strlen(list) >= sizeof(buf))
        usage(argv0);
    strcpy(buf, list);
    g.npids = 0;
    for (tok = strtok_r(buf, ",", &save); tok != NULL;
         tok = strtok_r(NULL, ",", &save)) {
        if (g.npids >= MAX_PIDS) {
            fprintf(stderr, "%s: at most %d server pids\n", argv0, MAX_PIDS);
            usage(argv0);
        }
        g.server_pid[g.npids++] = (long)parse_num(tok, 1, 1e9, argv0);
    }
    if (g.npids == 0)
        usage(argv0);
}

int main(int argc, char **argv)
{
    struct sigaction sa;
    run_t run;
    int i, stall = 0;

    g.warmup = 2;
    g.addr.sin_family = AF_INET;
    g.addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    g.max_inflight = 16; /* ssedge's default listen backlog: never overrun it */
    g.path = "/events";
    g.connect_timeout = -1;
    for (i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--tls") == 0) {
            g.tls = 1;
            continue;
        }
        if (i + 1 >= argc)
            usage(argv[0]);
        if (strcmp(a, "--port") == 0)
            g.port = (unsigned)parse_num(argv[++i], 1, 65535, argv[0]);
        else if (strcmp(a, "--host") == 0) {
            if (inet_pton(AF_INET, argv[++i], &g.addr.sin_addr) != 1)
                usage(argv[0]);
        }
        else if (strcmp(a, "--clients") == 0)
            g.clients = (unsigned)parse_num(argv[++i], 1, 100000, argv[0]);
        else if (strcmp(a, "--seconds") == 0)
            g.seconds = parse_num(argv[++i], 0.1, 86400, argv[0]);
        else if (strcmp(a, "--warmup") == 0)
            g.warmup = parse_num(argv[++i], 0, 3600, argv[0]);
        else if (strcmp(a, "--server-pid") == 0)
            parse_pids(argv[++i], argv[0]);
        else if (strcmp(a, "--ids") == 0) {
            const char *v = argv[++i];
            if (strcmp(v, "any") == 0)
                g.ids_any = 1;
            else if (strcmp(v, "seq") == 0)
                g.ids_any = 0;
            else
                usage(argv[0]);
        }
        else if (strcmp(a, "--path") == 0)
            g.path = argv[++i];
        else if (strcmp(a, "--stall-one") == 0) {
            stl.stall_s = parse_num(argv[++i], 1, 86400, argv[0]);
            stall = 1;
        } else if (strcmp(a, "--stall-rcvbuf") == 0)
            stl.rcvbuf = (int)parse_num(argv[++i], 0, 1 << 26, argv[0]);
        else if (strcmp(a, "--rate") == 0)
            g.rate = (unsigned)parse_num(argv[++i], 0, 1e7, argv[0]);
        else if (strcmp(a, "--max-inflight") == 0)
            g.max_inflight = (unsigned)parse_num(argv[++i], 1, 4096, argv[0]);
        else if (strcmp(a, "--connect-timeout") == 0)
            g.connect_timeout = parse_num(argv[++i], 1, 3600, argv[0]);
        else if (strcmp(a, "--cafile") == 0)
            g.cafile = argv[++i];
        else
            usage(argv[0]);
    }
    if (g.tls || g.cafile != NULL) {
#if defined(CONFIG_SSE_TLS)
        if (!g.tls || g.cafile == NULL) {
            fprintf(stderr, "%s: --tls and --cafile go together (the CA "
                    "that signed the server's certificate, e.g. DIR/ca.crt "
                    "from scripts/devcert.sh DIR)\n", argv[0]);
            return 2;
        }
        if (tls_global_init(g.cafile) != 0)
            return 3;
#else
        fprintf(stderr, "%s: --tls/--cafile need a client built with "
                "CONFIG_SSE_TLS: make BUILD=build/tls "
                "KCONFIG_CONFIG=build/tls/.config "
                "DEFCONFIG=configs/posix_tls_defconfig "
                "build/tls/bin/sse_bench_client\n", argv[0]);
        return 2;
#endif
    }
    if (g.port == 0 || g.clients == 0 || g.seconds <= 0 || g.path[0] != '/' ||
        strlen(g.path) > 256)
        usage(argv[0]);
    g.addr.sin_port = htons((uint16_t)g.port);
    if (g.connect_timeout < 0)
        g.connect_timeout = 10.0 + g.clients / 50.0;

    raise_nofile(g.clients + 1);
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sa.sa_handler = SIG_IGN;
    sigaction(SIGPIPE, &sa, NULL);

    g.req_len = (size_t)snprintf(g.req, sizeof(g.req),
        "GET %s HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\n\r\n",
        g.path);

    g.nconns = g.clients + (stall ? 1u : 0u);
    g.c = calloc(g.nconns, sizeof(*g.c));
    if (g.c == NULL) {
        perror("calloc");
        return 3;
    }
    for (i = 0; i < (int)g.nconns; i++)
        g.c[i].fd = -1;
    if (stall) {
        stl.c = &g.c[g.clients];
        stl.c->is_stall = 1;
        /* ~12 printed samples over the stall, 1 to 5 s apart */
        stl.print_every_ns = (ll)(stl.stall_s / 12.0 * NS_PER_S);
        if (stl.print_every_ns < NS_PER_S)
            stl.print_every_ns = NS_PER_S;
        if (stl.print_every_ns > 5 * NS_PER_S)
            stl.print_every_ns = 5 * NS_PER_S;
    }
    g.ep = epoll_create1(EPOLL_CLOEXEC);
    if (g.ep < 0) {
        perror("epoll_create1");
        return 3;
    }

    memset(&run, 0, sizeof(run));
    run_phases(&run);
    return report(&run);
}
