/* SPDX-License-Identifier: MIT */
/* ssedge-rpi: a board-status daemon (CPU temperature, load, memory, uptime as
 * one JSON "stats" event per interval on /events) with an embedded dashboard
 * at /, server stats for monitoring, a token, CORS, TLS and an uplink to a
 * hub when asked; logs for journald, stops cleanly on SIGTERM/SIGINT. */
#define _DEFAULT_SOURCE
/* 32-bit builds (armhf): 64-bit inode numbers and directory offsets, or
 * glob()'s readdir fails with EOVERFLOW on such file systems (seen with
 * qemu-arm on an ext4 host). */
#define _FILE_OFFSET_BITS 64
#include <errno.h>
#include <glob.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "ssedge/sse.h"
#include "../common/args.h"
#include "../common/log.h"
#include "../common/serve.h"
#include "../common/stats.h"
#include "../common/uplink.h"
#include "../common/web.h"

extern const struct sse_asset rpi_assets[];
extern const size_t rpi_assets_count;

#define NAME "ssedge-rpi"

static char root[PATH_MAX / 2] = "";    /* --root: prefix for /sys and /proc */
static char temp_path[PATH_MAX];        /* chosen thermal zone, "" = none */
static const char *stats_path;          /* --stats: NULL = none */
static const char *token;               /* --token: streams and stats need it */
static int temp_failing;                /* log a failing zone once, not per tick */

ARGS_PRINTF(2, 3)
static void logmsg(int prio, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    log_vline(NAME, prio, fmt, ap);
    va_end(ap);
}

static FILE *open_under_root(const char *path)
{
    char full[PATH_MAX];
    snprintf(full, sizeof full, "%s%s", root, path);
    return fopen(full, "r");
}

/* The CPU's zone: Raspberry Pi OS calls it "cpu-thermal"; else any zone
 * whose type mentions cpu or soc; else the first one. */
static void pick_thermal_zone(void)
{
    char pattern[PATH_MAX];
    glob_t g;
    size_t i, best = 0;
    int best_rank = -1;

    snprintf(pattern, sizeof pattern, "%s/sys/class/thermal/thermal_zone*/temp", root);
    if (glob(pattern, 0, NULL, &g) != 0) {
        logmsg(LOG_WARNING, "no thermal zone under %s/sys/class/thermal:"
               " temp_c is null in every event", root);
        return;
    }
    for (i = 0; i < g.gl_pathc; i++) {
        char type_path[PATH_MAX], type[64] = "";
        FILE *f;
        int rank = 0;
        size_t n = strlen(g.gl_pathv[i]);
        snprintf(type_path, sizeof type_path, "%.*stype", (int)(n - 4), g.gl_pathv[i]);
        if ((f = fopen(type_path, "r")) != NULL) {
            if (!fgets(type, sizeof type, f))
                type[0] = '\0';
            fclose(f);
        }
        type[strcspn(type, "\n")] = '\0';
        if (strcmp(type, "cpu-thermal") == 0)
            rank = 2;
        else if (strstr(type, "cpu") || strstr(type, "soc"))
            rank = 1;
        if (rank > best_rank) {
            best_rank = rank;
            best = i;
        }
    }
    snprintf(temp_path, sizeof temp_path, "%s", g.gl_pathv[best]);
    globfree(&g);
    logmsg(LOG_INFO, "CPU temperature from %s", temp_path);
}

/* Degrees Celsius into *c; -1 when unknown. */
static int read_temp(double *c)
{
    FILE *f;
    long milli;
    int ok;

    if (!temp_path[0])
        return -1;
    f = fopen(temp_path, "r");
    ok = f && fscanf(f, "%ld", &milli) == 1;
    if (f)
        fclose(f);
    if (!ok && !temp_failing)
        logmsg(LOG_WARNING, "cannot read %s: temp_c is null until it can", temp_path);
    else if (ok && temp_failing)
        logmsg(LOG_INFO, "reading %s again", temp_path);
    temp_failing = !ok;
    if (!ok)
        return -1;
    *c = (double)milli / 1000.0;
    return 0;
}

static int read_loadavg(double load[3])
{
    FILE *f = open_under_root("/proc/loadavg");
    int ok = f && fscanf(f, "%lf %lf %lf", &load[0], &load[1], &load[2]) == 3;
    if (f)
        fclose(f);
    return ok ? 0 : -1;
}

/* MemTotal and MemAvailable, kB. */
static int read_meminfo(unsigned long *total, unsigned long *avail)
{
    FILE *f = open_under_root("/proc/meminfo");
    char line[128];
    int have = 0;

    if (!f)
        return -1;
    while (have != 3 && fgets(line, sizeof line, f)) {
        if (sscanf(line, "MemTotal: %lu", total) == 1)
            have |= 1;
        else if (sscanf(line, "MemAvailable: %lu", avail) == 1)
            have |= 2;
    }
    fclose(f);
    return have == 3 ? 0 : -1;
}

static int read_uptime(double *s)
{
    FILE *f = open_under_root("/proc/uptime");
    int ok = f && fscanf(f, "%lf", s) == 1;
    if (f)
        fclose(f);
    return ok ? 0 : -1;
}

/* Timer thread: one event for everyone; it stays in the ring, so a
 * dashboard that reconnects with Last-Event-ID gets what it missed. */
static void publish_stats(void *arg)
{
    char json[256];
    double temp, load[3], up;
    unsigned long total, avail;
    int n = 0, r;
    (void)arg;

    stats_put(json, sizeof json, &n, "{\"temp_c\":");
    if (read_temp(&temp) == 0)
        stats_put(json, sizeof json, &n, "%.1f", temp);
    else
        stats_put(json, sizeof json, &n, "null");
    if (read_loadavg(load) == 0)
        stats_put(json, sizeof json, &n, ",\"load\":[%.2f,%.2f,%.2f]", load[0], load[1], load[2]);
    else
        stats_put(json, sizeof json, &n, ",\"load\":null");
    if (read_meminfo(&total, &avail) == 0)
        stats_put(json, sizeof json, &n, ",\"mem\":{\"total_kb\":%lu,\"available_kb\":%lu}",
            total, avail);
    else
        stats_put(json, sizeof json, &n, ",\"mem\":null");
    if (read_uptime(&up) == 0)
        stats_put(json, sizeof json, &n, ",\"uptime_s\":%.0f}", up);
    else
        stats_put(json, sizeof json, &n, ",\"uptime_s\":null}");
    if (n < 0 || (size_t)n >= sizeof json)
        return; /* cannot happen with these fields; never send half a JSON */
    r = sse_publish(SSE_CHANNEL_ALL, "stats", json, (size_t)n, NULL);
    if (r != SSE_OK)
        logmsg(LOG_ERR, "publish: %s", sse_strerror(r));
}

/* GET / and the dashboard's files, the stats at --stats; else 404. */
static int handler(sse_conn_t *c, const sse_request_t *req, void *user)
{
    const struct sse_asset *a;
    (void)user;
    if (stats_path && strlen(stats_path) == req->path.n &&
        memcmp(stats_path, req->path.p, req->path.n) == 0) {
        char buf[4096]; /* 2.9 KB of Prometheus text, 3.4 KB with 20-digit counters */
        if (token && !sse_token_ok(req, token))
            return sse_reply(c, 401, "text/plain", "WWW-Authenticate: Bearer realm=\"ssedge\"\r\n",
                             "a bearer token is needed\n", 25);
        return stats_reply(c, req, buf, sizeof buf, NULL, 0);
    }
    a = web_find(rpi_assets, rpi_assets_count, req->path);
    if (a)
        return web_reply(c, req, a);
    return sse_reply(c, 404, "text/plain", NULL, "not found\n", 10);
}

#define DEFAULT_PORT 8080
#define DEFAULT_INTERVAL_MS 1000
#define MAX_INTERVAL_MS 86400000L /* a day */

/* --help: man-page style, on stdout (it was asked for; not an error). */
static void help(void)
{
    printf("NAME\n"
           "    " NAME " - board status (temperature, load, memory, uptime) as\n"
           "    Server-Sent Events, with a dashboard\n"
           "\n"
           "SYNOPSIS\n"
           "    " NAME " [--port N] [--bind ADDR] [--interval-ms N] [--root DIR]\n"
           "               [--token TOKEN] [--cors-origin ORIGIN]... [--stats PATH]\n"
           "               [--cert PEM --key PEM]\n"
           "               [--uplink URL [--uplink-token TOKEN] [--uplink-ca PEM]]\n"
           "\n"
           "DESCRIPTION\n"
           "    GET /events streams one JSON \"stats\" event per interval (kept for\n"
           "    replay: a browser that reconnects with Last-Event-ID gets what it\n"
           "    missed); GET / serves the dashboard. Logs go to stderr with \"<N>\"\n"
           "    priorities for journald. SIGTERM or SIGINT ends every stream and exits.\n"
           "\n"
           "OPTIONS\n"
           "    --port N\n"
           "        TCP port, 0..65535; 0 takes any free port (logged at start).\n"
           "        Default: %d.\n"
           "    --bind ADDR\n"
           "        Numeric IPv4 or IPv6 address to listen on; \"::\" takes IPv6 and IPv4.\n"
           "        Default: 0.0.0.0 (every IPv4 interface).\n"
           "    --interval-ms N\n"
           "        Period of the stats event, 1..%ld ms. Default: %d.\n"
           "    --root DIR\n"
           "        Read DIR/sys and DIR/proc instead of /sys and /proc (tests), at most\n"
           "        %d characters. Default: none (the real /sys and /proc).\n"
           "    --token TOKEN\n"
           "        Streams and stats need this bearer token: \"Authorization: Bearer\n"
           "        TOKEN\" or ?token=TOKEN (open the dashboard as /?token=TOKEN). At\n"
           "        least %d characters. Default: none (open to anyone on the LAN).\n"
           "    --cors-origin ORIGIN\n"
           "        An origin allowed to read the stream from another site, e.g.\n"
           "        https://dash.example; \"*\" allows any. Repeatable, up to %d times.\n"
           "        Default: none (same origin only).\n"
           "    --stats PATH\n"
           "        Serve the server's numbers at PATH (e.g. /stats): JSON, or the\n"
           "        Prometheus text format for \"Accept: text/plain; version=0.0.4\".\n"
           "        Default: none.\n"
           "    --cert PEM\n"
           "        Serve https with this certificate (chain), a PEM file; needs --key\n"
           "        and a build with CONFIG_SSE_TLS. Default: plain http.\n"
           "    --key PEM\n"
           "        The private key of --cert, a PEM file. Default: none.\n"
           UPLINK_HELP("the stats events")
           "    -h, --help\n"
           "        Print this and exit.\n"
           "\n"
           "EXIT STATUS\n"
           "    0 after SIGTERM or SIGINT; 1 if the server cannot start (a line says\n"
           "    why); 2 for a flag or value it does not take (a line names it).\n"
           "\n"
           "FILES\n"
           "    /sys/class/thermal/thermal_zone*/temp, /proc/loadavg, /proc/meminfo,\n"
           "    /proc/uptime\n",
           DEFAULT_PORT, MAX_INTERVAL_MS, DEFAULT_INTERVAL_MS, (int)sizeof root - 1,
           MIN_TOKEN_LEN, MAX_CORS_ORIGINS);
}

int main(int argc, char **argv)
{
    static sse_route_t routes[] = {
        /* no callbacks; open to anyone on the LAN unless --token */
        { .path = "/events", .channel = SSE_CHANNEL_NONE },
    };
    static const char *cors[MAX_CORS_ORIGINS];
    unsigned num_cors = 0;
    sse_tls_cfg_t tls;
    sse_server_cfg_t cfg;
    sse_uplink_cfg_t uplink;
    sigset_t stop_sigs;
    long interval_ms = DEFAULT_INTERVAL_MS, port = DEFAULT_PORT;
    char host[64], why[160];
    args_t a;
    int r, sig = 0;

    memset(&tls, 0, sizeof tls);
    sse_server_cfg_init(&cfg);
    cfg.routes = routes;
    cfg.num_routes = 1;
    cfg.handler = handler;
    sse_uplink_cfg_init(&uplink);
    args_init(&a, NAME, help, argc, argv);
    while (args_next(&a)) {
        if (args_is(&a, "--port")) {
            port = args_long(&a, 0, 65535);
        } else if (args_is(&a, "--bind")) {
            cfg.bind_addr = args_addr(&a);
        } else if (args_is(&a, "--interval-ms")) {
            interval_ms = args_long(&a, 1, MAX_INTERVAL_MS);
        } else if (args_is(&a, "--root")) {
            const char *dir = args_str(&a, "a directory holding sys/ and proc/");
            if (strlen(dir) >= sizeof root)
                args_fail(&a, "longer than %d characters", (int)sizeof root - 1);
            strcpy(root, dir);
        } else if (args_is(&a, "--token")) {
            token = routes[0].token = serve_token(&a);
        } else if (args_is(&a, "--cors-origin")) {
            serve_cors_origin(&a, cors, &num_cors);
        } else if (args_is(&a, "--stats")) {
            const char *p = args_str(&a, "a path, e.g. /stats");
            if (p[0] != '/' || strcmp(p, "/") == 0 || strcmp(p, "/events") == 0 ||
                strpbrk(p, "? ") || web_find(rpi_assets, rpi_assets_count,
                                             (sse_str_t){ p, strlen(p) }))
                args_fail(&a, "a path of its own starting with '/' (e.g. /stats)");
            stats_path = p;
        } else if (args_is(&a, "--cert") || args_is(&a, "--key")) {
            const char **f = args_is(&a, "--cert") ? &tls.cert_file : &tls.key_file;
            *f = args_str(&a, "a PEM file");
#ifndef CONFIG_SSE_TLS
            args_fail(&a, "this build has no TLS (CONFIG_SSE_TLS)");
#endif
        } else if (uplink_flag(&a, &uplink, 1)) {
            continue;
        } else {
            args_unknown(&a);
        }
    }
    cfg.port = (uint16_t)port;
    serve_finish(&a, &cfg, &tls, cors, num_cors);
    uplink_check(&a, &uplink);

    /* Block the stop signals before any thread exists: ssedge's threads
     * inherit the mask, so only sigwait() below ever takes them. */
    sigemptyset(&stop_sigs);
    sigaddset(&stop_sigs, SIGTERM);
    sigaddset(&stop_sigs, SIGINT);
    pthread_sigmask(SIG_BLOCK, &stop_sigs, NULL);

    pick_thermal_zone();
    if (serve_start(&cfg, why, sizeof why) != SSE_OK) {
        logmsg(LOG_ERR, "%s", why);
        return 1;
    }
    if ((r = uplink_start_or_stop(&uplink)) != SSE_OK) {
        /* ssedge logged why on the line before */
        logmsg(LOG_ERR, "--uplink %s: %s", uplink.url, sse_strerror(r));
        return 1;
    }
    r = sse_timer_add((uint32_t)interval_ms, publish_stats, NULL);
    if (r < 0) {
        logmsg(LOG_ERR, "no timer: %s", sse_strerror(r));
        uplink_stop(&uplink);
        sse_server_stop();
        return 1;
    }
    logmsg(LOG_INFO, "serving %s://%s:%u/ (stream /events, stats every %ld ms%s%s)",
           cfg.tls ? "https" : "http", args_url_host(host, sizeof host, cfg.bind_addr),
           (unsigned)sse_server_port(), interval_ms, uplink.url ? ", uplink to " : "",
           uplink.url ? uplink.url : "");

    while (sigwait(&stop_sigs, &sig) != 0)
        ;
    logmsg(LOG_INFO, "%s: stopping", sig == SIGTERM ? "SIGTERM" : "SIGINT");
    /* Ends every stream (clients see the response end) and returns once all
     * of ssedge's threads have finished. */
    uplink_stop(&uplink);
    r = sse_server_stop();
    if (r != SSE_OK) {
        logmsg(LOG_ERR, "stop: %s", sse_strerror(r));
        return 1;
    }
    logmsg(LOG_INFO, "stopped");
    return 0;
}
