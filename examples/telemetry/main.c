/* SPDX-License-Identifier: MIT */
/* Telemetry example: every stream gets "message: hello" from its own timer,
 * everyone gets a JSON telemetry event, and the channels "load", "mem" and
 * "clients" carry one series each; GET / serves a live dashboard whose files
 * (examples/telemetry/web/) are compiled in by scripts/embed.py. */
#define _DEFAULT_SOURCE
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "ssedge/sse.h"
#include "../common/args.h"
#include "../common/serve.h"
#include "../common/uplink.h"
#include "../common/web.h"
extern const struct sse_asset telemetry_assets[];
extern const size_t telemetry_assets_count;

#define DEFAULT_PORT 8080
#define DEFAULT_INTERVAL_MS 2000
#define MAX_INTERVAL_MS 86400000L /* a day */


static const char *const channel_names[] = { "load", "mem", "clients" };
enum { CH_LOAD, CH_MEM, CH_CLIENTS, NUM_CH };

static volatile sig_atomic_t quit;
static uint32_t interval_ms = DEFAULT_INTERVAL_MS;
static struct timespec started;
static int channels[NUM_CH];

static void on_signal(int sig) { (void)sig; quit = 1; }

/* The original behaviour: a timer per connection, removed by ssedge the
 * moment that connection closes (no callback can run after that). */
static void hello(sse_conn_id_t conn, void *arg)
{
    (void)arg;
    sse_send_to(conn, "message", "hello", 5, NULL);
}

static void on_open(sse_conn_id_t conn, const sse_request_t *req, void *user)
{
    (void)req;
    (void)user;
    if (sse_conn_timer_add(conn, interval_ms, hello, NULL) < 0)
        fprintf(stderr, "telemetry: no timer slot for a stream\n");
}

/* Memory in use, percent, from /proc/meminfo; 0 where there is none. */
static double mem_used_pct(void)
{
    FILE *f = fopen("/proc/meminfo", "r");
    char line[128];
    unsigned long total = 0, avail = 0, free_kb = 0, v;
    int have_avail = 0;

    if (!f)
        return 0;
    while (fgets(line, sizeof line, f)) {
        if (sscanf(line, "MemTotal: %lu", &v) == 1)
            total = v;
        else if (sscanf(line, "MemAvailable: %lu", &v) == 1) {
            avail = v;
            have_avail = 1;
        } else if (sscanf(line, "MemFree: %lu", &v) == 1)
            free_kb = v;
    }
    fclose(f);
    if (!have_avail)
        avail = free_kb;
    if (total == 0 || avail > total)
        return 0;
    return 100.0 * (double)(total - avail) / (double)total;
}

static void publish_value(int ch, const char *name, double v, int decimals,
                          long long t_ms)
{
    char json[64];
    int n;
    if (ch < 0)
        return;
    n = snprintf(json, sizeof json, "{\"v\":%.*f,\"t\":%lld}", decimals, v, t_ms);
    if (n > 0 && (size_t)n < sizeof json)
        sse_publish(ch, name, json, (size_t)n, NULL);
}

/* Everyone gets the device's state; it is kept in the ring, so a browser
 * that reconnects with Last-Event-ID gets what it missed. Each series also
 * goes to its own channel, for streams that asked for it with ?ch=. */
static void telemetry(void *arg)
{
    struct timespec now;
    sse_stats_t st;
    double load[1] = { 0 };
    char json[128];
    long long t_ms;
    int n;
    (void)arg;
    clock_gettime(CLOCK_MONOTONIC, &now);
    sse_server_stats(&st);
    if (getloadavg(load, 1) < 1)
        load[0] = 0;
    n = snprintf(json, sizeof json, "{\"uptime_s\":%ld,\"load\":%.2f,\"clients\":%u}",
                 (long)(now.tv_sec - started.tv_sec), load[0], st.streams);
    sse_publish(SSE_CHANNEL_ALL, "telemetry", json, (size_t)n, NULL);

    t_ms = (long long)(now.tv_sec - started.tv_sec) * 1000 +
           (now.tv_nsec - started.tv_nsec) / 1000000;
    publish_value(channels[CH_LOAD], "load", load[0], 2, t_ms);
    publish_value(channels[CH_MEM], "mem", mem_used_pct(), 1, t_ms);
    publish_value(channels[CH_CLIENTS], "clients", (double)st.streams, 0, t_ms);
}

static int handler(sse_conn_t *c, const sse_request_t *req, void *user)
{
    const struct sse_asset *a = web_find(telemetry_assets, telemetry_assets_count, req->path);
    char headers[128];
    int html;
    (void)user;
    if (!a)
        return sse_reply(c, 200, "text/plain", NULL, "ok\n", 3);
    html = strncmp(a->content_type, "text/html", 9) == 0;
    if (a->gz && web_accepts_gzip(req->accept_encoding)) {
        snprintf(headers, sizeof headers, "Content-Encoding: gzip\r\n"
                 "Vary: Accept-Encoding\r\n%s", html ? "Cache-Control: no-cache\r\n" : "");
        return sse_reply(c, 200, a->content_type, headers, a->gz, a->gz_len);
    }
    /* Vary also on the plain copy, so a cache never hands it to a client
     * that could have had the gzip one, nor the reverse. */
    snprintf(headers, sizeof headers, "%s%s", a->gz ? "Vary: Accept-Encoding\r\n" : "",
             html ? "Cache-Control: no-cache\r\n" : "");
    return sse_reply(c, 200, a->content_type, headers[0] ? headers : NULL, a->data,
                     a->len);
}

/* --help: man-page style, on stdout (it was asked for; not an error). */
static void help(void)
{
    printf("NAME\n"
           "    telemetry - stream a device's state to browsers (Server-Sent Events)\n"
           "\n"
           "SYNOPSIS\n"
           "    telemetry [--port N] [--bind ADDR] [--interval-ms N] [--cors-origin ORIGIN]...\n"
           "              [--token TOKEN] [--cert PEM --key PEM [--ca PEM]]\n"
           "              [--uplink URL [--uplink-token TOKEN] [--uplink-ca PEM]]\n"
           "\n"
           "DESCRIPTION\n"
           "    GET /events streams \"message: hello\" every interval from a timer of that\n"
           "    connection, a JSON \"telemetry\" event for every stream, and the channels\n"
           "    load, mem and clients to streams that ask for them (/events?ch=load,mem).\n"
           "    Any path asked for with Accept: text/event-stream streams too. GET /\n"
           "    serves a live dashboard; any other path answers \"ok\".\n"
           "\n"
           "OPTIONS\n"
           "    --port N\n"
           "        TCP port, 0..65535; 0 takes any free port (printed at start).\n"
           "        Default: %d.\n"
           "    --bind ADDR\n"
           "        Numeric IPv4 or IPv6 address to listen on; \"::\" takes IPv6 and IPv4.\n"
           "        Default: 0.0.0.0 (every IPv4 interface).\n"
           "    --interval-ms N\n"
           "        Period of the events, 1..%ld ms. Default: %d.\n"
           "    --cors-origin ORIGIN\n"
           "        An origin allowed to read the streams from another site, e.g.\n"
           "        https://dash.example; \"*\" allows any. Repeatable, up to %d times.\n"
           "        Default: none (same origin only).\n"
           "    --token TOKEN\n"
           "        Streams need this bearer token: \"Authorization: Bearer TOKEN\" or\n"
           "        ?token=TOKEN (the dashboard passes on its own ?token=). At least %d\n"
           "        characters. Default: none (open to anyone).\n"
           "    --cert PEM\n"
           "        Serve https with this certificate (chain), a PEM file; needs --key and\n"
           "        a build with CONFIG_SSE_TLS (make run-tls). Default: plain http.\n"
           "    --key PEM\n"
           "        The private key of --cert, a PEM file. Default: none.\n"
           "    --ca PEM\n"
           "        With --cert: require client certificates signed by this CA (mutual\n"
           "        TLS). Default: none (no client certificate asked for).\n"
           UPLINK_HELP("its events (those for every stream and the three channels)")
           "    -h, --help\n"
           "        Print this and exit.\n"
           "\n"
           "EXIT STATUS\n"
           "    0 after SIGINT or SIGTERM; 1 if the server cannot start (a line says\n"
           "    why); 2 for a flag or value it does not take (a line names it).\n"
           "\n"
           "EXAMPLE\n"
           "    telemetry --port 8080 &\n"
           "    curl -N -H 'Accept: text/event-stream' http://127.0.0.1:8080/events\n",
           DEFAULT_PORT, MAX_INTERVAL_MS, DEFAULT_INTERVAL_MS, MAX_CORS_ORIGINS,
           MIN_TOKEN_LEN);
}

int main(int argc, char **argv)
{
    /* Not const: --token fills in the last field. */
    static sse_route_t routes[] = {
        /* path, channel, on_open, on_close, user, on_request, token */
        { "/events", SSE_CHANNEL_NONE, on_open, NULL, NULL, NULL, NULL },
        /* Any other path asked for with Accept: text/event-stream streams too. */
        { "*", SSE_CHANNEL_NONE, on_open, NULL, NULL, NULL, NULL },
    };
    static const char *cors[MAX_CORS_ORIGINS];
    char host[64], why[160];
    sse_tls_cfg_t tls;
    sse_server_cfg_t cfg;
    unsigned num_cors = 0;
    args_t a;
    sse_uplink_cfg_t uplink;
    sse_uplink_route_t uplink_routes[NUM_CH];
    int i, r, tid;

    memset(&tls, 0, sizeof tls);
    sse_server_cfg_init(&cfg);
    cfg.port = DEFAULT_PORT;
    cfg.routes = routes;
    cfg.num_routes = 2;
    cfg.handler = handler;
    cfg.channel_names = channel_names;
    cfg.num_channel_names = NUM_CH;
    sse_uplink_cfg_init(&uplink);
    args_init(&a, "telemetry", help, argc, argv);
    while (args_next(&a)) {
        if (args_is(&a, "--port")) {
            cfg.port = (uint16_t)args_long(&a, 0, 65535);
        } else if (args_is(&a, "--bind")) {
            cfg.bind_addr = args_addr(&a);
        } else if (args_is(&a, "--interval-ms")) {
            interval_ms = (uint32_t)args_long(&a, 1, MAX_INTERVAL_MS);
        } else if (args_is(&a, "--token")) {
            routes[0].token = routes[1].token = serve_token(&a);
        } else if (uplink_flag(&a, &uplink, 1)) {
            continue;
        } else if (args_is(&a, "--cors-origin")) {
            serve_cors_origin(&a, cors, &num_cors);
        } else if (args_is(&a, "--cert") || args_is(&a, "--key") || args_is(&a, "--ca")) {
            const char **f = args_is(&a, "--cert") ? &tls.cert_file
                           : args_is(&a, "--key") ? &tls.key_file : &tls.ca_file;
            *f = args_str(&a, "a PEM file");
#ifndef CONFIG_SSE_TLS
            args_fail(&a, "this build has no TLS (CONFIG_SSE_TLS; make run-tls builds one)");
#endif
        } else {
            args_unknown(&a);
        }
    }
    serve_finish(&a, &cfg, &tls, cors, num_cors);
    uplink_check(&a, &uplink);
    clock_gettime(CLOCK_MONOTONIC, &started);
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);

    if (serve_start(&cfg, why, sizeof why) != SSE_OK) {
        fprintf(stderr, "telemetry: %s\n", why);
        return 1;
    }
    for (i = 0; i < NUM_CH; i++) {
        channels[i] = sse_channel(channel_names[i]);
        if (channels[i] < 0)
            fprintf(stderr, "telemetry: no channel %s: %s\n", channel_names[i],
                    sse_strerror(channels[i]));
    }
    /* The hub's channel carries what a dashboard's stream does: the events
     * for every stream and the three series. */
    for (i = 0; i < NUM_CH; i++) {
        if (channels[i] >= 0) {
            uplink_routes[uplink.num_routes].channel = channels[i];
            uplink_routes[uplink.num_routes++].path = NULL;
        }
    }
    uplink.routes = uplink_routes;
    if ((r = uplink_start_or_stop(&uplink)) != SSE_OK) {
        /* ssedge logged why on the line before */
        fprintf(stderr, "telemetry: --uplink %s: %s\n", uplink.url, sse_strerror(r));
        return 1;
    }
    tid = sse_timer_add(interval_ms, telemetry, NULL);
    if (tid < 0)
        fprintf(stderr, "telemetry: no timer: %s\n", sse_strerror(tid));
    printf("telemetry: %s://%s:%u/  (stream: /events?ch=load,mem,clients)\n",
           cfg.tls ? "https" : "http", args_url_host(host, sizeof host, cfg.bind_addr),
           (unsigned)sse_server_port());
    fflush(stdout);
    while (!quit)
        usleep(100 * 1000);
    uplink_stop(&uplink);
    sse_server_stop();
    return 0;
}
