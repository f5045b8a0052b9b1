/* SPDX-License-Identifier: MIT */
/* ssedge over lwIP on a Linux host: Debian's hosted lwIP (liblwip-dev) with
 * its tap driver, so clients reach lwIP's own TCP over a real link
 * (tests/lwip/lwip_host_test.sh makes the tap in a network namespace).
 *
 * ssedge itself goes through port/lwip only; this file may use POSIX for
 * what a board would do otherwise (arguments, signals, stdout).
 *
 *   PRECONFIGURED_TAPIF=tap0 sse_lwip_host --ip 192.168.77.2 \
 *       --netmask 255.255.255.0 --gw 192.168.77.1 --port 8080
 *
 * GET /events streams `event: message` / `data: hello` from a global timer
 * every --interval-ms (kept in the ring: Last-Event-ID replays them), plus
 * `event: ping` from a timer of that connection (not replayed). GET /stats
 * answers the counters; anything else answers "ok".
 * Signals: SIGUSR1 prints a `stats ...` line, SIGUSR2 stops and starts the
 * ssedge server again (lwIP stays up: tapif cannot be torn down),
 * SIGTERM/SIGINT stop and exit.
 */
#define _DEFAULT_SOURCE /* sigwait, and lwIP's headers want SSIZE_MAX */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ssedge/sse.h"
#include "../common/args.h"
#include "../common/serve.h"
#include "../common/stats.h"
#include "../common/uplink.h"

/* Debian's hosted lwIP: its headers are -Wundef/-Wshadow clean (a board's
 * may not be: port/lwip/ guards them). */
#include "lwip/opt.h"
#include "lwip/sys.h"
#include "lwip/tcpip.h"
#include "lwip/netif.h"
#include "lwip/ip_addr.h"
#include "netif/tapif.h"

static uint32_t interval_ms = 1000;
static int conn_timer = 1;
static struct netif tap_netif;
static sys_sem_t up_sem;
static ip4_addr_t a_ip, a_mask, a_gw;

/* ---- lwIP bring-up: the order a board uses too ---------------------------- */

/* Runs on the tcpip thread with the core lock held: netif calls are legal
 * here (from another thread they need LOCK_TCPIP_CORE()). */
static void tcpip_ready(void *arg)
{
    (void)arg;
    if (!netif_add(&tap_netif, &a_ip, &a_mask, &a_gw, NULL, tapif_init, tcpip_input)) {
        fprintf(stderr, "lwip_host: netif_add failed\n");
        exit(1);
    }
    /* Debian's liblwip 2.1.3 overflows its pool pbufs on received frames
     * over 590 bytes (its memp and pbuf code disagree on the pool size): a
     * 576-byte MTU makes lwIP advertise MSS 536 so peers stay below that.
     * A board's own lwIP build does not need this. */
    tap_netif.mtu = 576;
    netif_set_default(&tap_netif);
    netif_set_up(&tap_netif);
    netif_set_link_up(&tap_netif);
#if LWIP_IPV6
    netif_create_ip6_linklocal_address(&tap_netif, 1);
#endif
    sys_sem_signal(&up_sem);
}

static void lwip_up(void)
{
    if (sys_sem_new(&up_sem, 0) != ERR_OK) {
        fprintf(stderr, "lwip_host: no semaphore\n");
        exit(1);
    }
    tcpip_init(tcpip_ready, NULL);
    sys_arch_sem_wait(&up_sem, 0); /* 0 = forever in lwIP */
    sys_sem_free(&up_sem);
}

/* ---- ssedge application ------------------------------------------------------ */

static void hello(void *arg)
{
    (void)arg;
    sse_publish(SSE_CHANNEL_ALL, "message", "hello", 5, NULL);
}

static void ping(sse_conn_id_t conn, void *arg)
{
    char data[16];
    int n = snprintf(data, sizeof data, "%lu", (unsigned long)conn);
    (void)arg;
    sse_send_to(conn, "ping", data, (size_t)n, NULL);
}

static void on_open(sse_conn_id_t conn, const sse_request_t *req, void *user)
{
    (void)req;
    (void)user;
    if (conn_timer && sse_conn_timer_add(conn, interval_ms, ping, NULL) < 0)
        fprintf(stderr, "lwip_host: no timer slot for a stream\n");
}

/* "stats name=value ...": every number of sse_server_stats(), named as in
 * examples/common/stats.h, and the connection buffers lent. @return its
 * length, or -1 if it does not fit (every value at 20 digits does). */
#define STATS_LINE_MAX 1024
static int stats_line(char *buf, size_t cap)
{
    sse_stats_t st;
    int n = 0;
    sse_server_stats(&st);
    stats_put(buf, cap, &n, "stats");
#define STATS_LINE_FIELD(name, help, counter, v) \
    stats_put(buf, cap, &n, " %s=%llu", name, (unsigned long long)(v));
    STATS_SERVER_FIELDS(&st, STATS_LINE_FIELD)
#undef STATS_LINE_FIELD
    stats_put(buf, cap, &n, " bufs_lent=%u\n", st.conn_bufs_lent);
    return n;
}

static int handler(sse_conn_t *c, const sse_request_t *req, void *user)
{
    (void)user;
    if (req->path.n == 6 && memcmp(req->path.p, "/stats", 6) == 0) {
        char body[STATS_LINE_MAX];
        int n = stats_line(body, sizeof body);
        return sse_reply(c, 200, "text/plain", NULL, body,
                         n > 0 ? (size_t)n : 0);
    }
    return sse_reply(c, 200, "text/plain", NULL, "ok\n", 3);
}

/* --help: what each flag takes and its default. */
static void help(void)
{
    printf("usage: lwip_host [--ip A] [--netmask M] [--gw G] [--port N] [--bind ADDR]\n"
           "                 [--interval-ms N] [--max-conn N] [--idle-check-ms N] [--no-conn-timer]\n"
           "                 [--uplink URL [--uplink-token TOKEN]]\n"
           "  --ip, --netmask, --gw  lwIP's IPv4 address on the tap link\n"
           "                         (default 192.168.77.2/255.255.255.0 via 192.168.77.1)\n"
           "  --port N          0..65535 (default 8080)\n"
           "  --bind ADDR       numeric address lwIP listens on (default 0.0.0.0)\n"
           "  --interval-ms N   period of each stream's hello, 1..86400000 (default 1000)\n"
           "  --max-conn N      slots, 1..%d (default all)\n"
           "  --idle-check-ms N 10..600000 (default %d)\n"
           "  --no-conn-timer   no per-connection hello timer\n"
           "  --uplink URL      forward every event to a hub, http://HOST:PORT/PATH\n"
           "                    (HOST numeric: this lwIP has no DNS)\n"
           "  --uplink-token T  Authorization: Bearer T on every POST to the hub\n"
           "  Set PRECONFIGURED_TAPIF=tapN to use an existing tap device.\n",
           CONFIG_SSE_MAX_CONNECTIONS, CONFIG_SSE_IDLE_CHECK_MS);
}

/* An IPv4 address for lwIP, or exit 2 naming the flag. */
static void ip4_arg(args_t *a, ip4_addr_t *out)
{
    const char *v = args_str(a, "a numeric IPv4 address");
    if (!ip4addr_aton(v, out))
        args_fail(a, "\"%s\" is not a numeric IPv4 address", v);
}

int main(int argc, char **argv)
{
    static const sse_route_t routes[] = {
        /* path, channel, on_open, on_close, user, on_request, token */
        { .path = "/events", .channel = SSE_CHANNEL_NONE, .on_open = on_open },
    };
    sse_server_cfg_t cfg;
    sse_uplink_cfg_t uplink;
    sigset_t sigs;
    args_t a;
    int r, restarts = 0;
    char why[160];

    sse_server_cfg_init(&cfg);
    cfg.routes = routes;
    cfg.num_routes = 1;
    cfg.handler = handler;
    cfg.bind_addr = "0.0.0.0";
    ip4addr_aton("192.168.77.2", &a_ip);
    ip4addr_aton("255.255.255.0", &a_mask);
    ip4addr_aton("192.168.77.1", &a_gw);
    sse_uplink_cfg_init(&uplink);
    args_init(&a, "lwip_host", help, argc, argv);
    while (args_next(&a)) {
        if (args_is(&a, "--no-conn-timer")) {
            conn_timer = 0;
        } else if (args_is(&a, "--ip")) {
            ip4_arg(&a, &a_ip);
        } else if (args_is(&a, "--netmask")) {
            ip4_arg(&a, &a_mask);
        } else if (args_is(&a, "--gw")) {
            ip4_arg(&a, &a_gw);
        } else if (args_is(&a, "--port")) {
            cfg.port = (uint16_t)args_long(&a, 0, 65535);
        } else if (args_is(&a, "--bind")) {
            cfg.bind_addr = args_addr(&a);
        } else if (args_is(&a, "--interval-ms")) {
            interval_ms = (uint32_t)args_long(&a, 1, 86400000L);
        } else if (args_is(&a, "--max-conn")) {
            cfg.max_connections = (unsigned)args_long(&a, 1, CONFIG_SSE_MAX_CONNECTIONS);
        } else if (args_is(&a, "--idle-check-ms")) {
            cfg.idle_check_ms = (uint32_t)args_long(&a, 10, 600000L);
        } else if (uplink_flag(&a, &uplink, 0)) {
            continue;
        } else {
            args_unknown(&a);
        }
    }
    uplink_check(&a, &uplink);

    /* Signals are taken synchronously by this thread only: block them
     * before lwIP starts its threads (they inherit the mask), so no
     * lwIP thread is ever interrupted by one. */
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGINT);
    sigaddset(&sigs, SIGTERM);
    sigaddset(&sigs, SIGUSR1);
    sigaddset(&sigs, SIGUSR2);
    sigprocmask(SIG_BLOCK, &sigs, NULL);

    /* 1. lwIP: tcpip thread, netif added and up. 2. ssedge. */
    lwip_up();
    if (serve_start(&cfg, why, sizeof why) != SSE_OK) {
        fprintf(stderr, "lwip_host: %s\n", why);
        return 1;
    }
    if ((r = uplink_start_or_stop(&uplink)) != SSE_OK) {
        fprintf(stderr, "lwip_host: --uplink %s: %s\n", uplink.url, sse_strerror(r));
        return 1;
    }
    r = sse_timer_add(interval_ms, hello, NULL);
    if (r < 0)
        fprintf(stderr, "lwip_host: no timer: %s\n", sse_strerror(r));
    printf("lwip_host: %s port %u on lwIP %s", cfg.bind_addr, (unsigned)sse_server_port(),
           ip4addr_ntoa(&a_ip));
#if LWIP_IPV6
    printf(" (link-local %s)", ip6addr_ntoa(netif_ip6_addr(&tap_netif, 0)));
#endif
    printf(", %u slots\nready\n", cfg.max_connections);
    fflush(stdout);

    for (;;) {
        char line[STATS_LINE_MAX];
        int sig = 0;
        if (sigwait(&sigs, &sig) != 0)
            continue;
        if (sig == SIGUSR1) {
            if (stats_line(line, sizeof line) > 0)
                fputs(line, stdout);
            fflush(stdout);
        } else if (sig == SIGUSR2) {
            /* sse_server_stop() ends the timer service with its timers:
             * the global one is added again after the start. */
            r = sse_server_stop();
            if (r == SSE_OK)
                r = sse_server_start(&cfg);
            if (r == SSE_OK && (r = sse_timer_add(interval_ms, hello, NULL)) > 0)
                r = SSE_OK;
            printf("restart %d %s port %u\n", ++restarts, r == SSE_OK ? "ok" : sse_strerror(r),
                   (unsigned)sse_server_port());
            fflush(stdout);
        } else {
            break;
        }
    }
    uplink_stop(&uplink);
    sse_server_stop();
    printf("stopped\n");
    fflush(stdout);
    /* tapif has no teardown: the process ends with lwIP running. */
    return 0;
}
