/* SPDX-License-Identifier: MIT */
/* Telemetry example: every stream gets "message: hello" from its own timer
 * and everyone gets a JSON telemetry event; GET / serves a live page. */
#define _DEFAULT_SOURCE
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "ssedge/sse.h"

extern const unsigned char telemetry_page[];
extern const size_t telemetry_page_len;

static volatile sig_atomic_t quit;
static uint32_t interval_ms = 2000;
static struct timespec started;

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

/* Everyone gets the device's state; it is kept in the ring, so a browser
 * that reconnects with Last-Event-ID gets what it missed. */
static void telemetry(void *arg)
{
    struct timespec now;
    sse_stats_t st;
    double load[1] = { 0 };
    char json[128];
    int n;
    (void)arg;
    clock_gettime(CLOCK_MONOTONIC, &now);
    sse_server_stats(&st);
    if (getloadavg(load, 1) < 1)
        load[0] = 0;
    n = snprintf(json, sizeof json, "{\"uptime_s\":%ld,\"load\":%.2f,\"clients\":%u}",
                 (long)(now.tv_sec - started.tv_sec), load[0], st.streams);
    sse_publish(SSE_CHANNEL_ALL, "telemetry", json, (size_t)n, NULL);
}

static int handler(sse_conn_t *c, const sse_request_t *req, void *user)
{
    (void)user;
    if (req->path.n == 1 && req->path.p[0] == '/')
        return sse_reply(c, 200, "text/html; charset=utf-8", NULL, telemetry_page,
                         telemetry_page_len);
    return sse_reply(c, 200, "text/plain", NULL, "ok\n", 3);
}

static void usage(const char *argv0)
{
    fprintf(stderr, "usage: %s [--port N] [--bind ADDR] [--interval-ms N]\n", argv0);
    exit(2);
}

int main(int argc, char **argv)
{
    static const sse_route_t routes[] = {
        { "/events", SSE_CHANNEL_ALL, on_open, NULL, NULL },
        /* Any other path asked for with Accept: text/event-stream streams too. */
        { "*", SSE_CHANNEL_ALL, on_open, NULL, NULL },
    };
    sse_server_cfg_t cfg;
    int i, r, tid;

    sse_server_cfg_init(&cfg);
    cfg.routes = routes;
    cfg.num_routes = 2;
    cfg.handler = handler;
    for (i = 1; i < argc; i++) {
        if (i + 1 >= argc)
            usage(argv[0]);
        if (strcmp(argv[i], "--port") == 0)
            cfg.port = (uint16_t)atoi(argv[++i]);
        else if (strcmp(argv[i], "--bind") == 0)
            cfg.bind_addr = argv[++i];
        else if (strcmp(argv[i], "--interval-ms") == 0)
            interval_ms = (uint32_t)atoi(argv[++i]);
        else
            usage(argv[0]);
    }
    if (interval_ms == 0)
        usage(argv[0]);
    clock_gettime(CLOCK_MONOTONIC, &started);
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);

    r = sse_server_start(&cfg);
    if (r != SSE_OK) {
        fprintf(stderr, "telemetry: cannot start on %s:%u: %s\n", cfg.bind_addr,
                (unsigned)cfg.port, sse_strerror(r));
        return 1;
    }
    tid = sse_timer_add(interval_ms, telemetry, NULL);
    if (tid < 0)
        fprintf(stderr, "telemetry: no timer: %s\n", sse_strerror(tid));
    printf("telemetry: http://%s:%u/  (stream: /events)\n", cfg.bind_addr,
           (unsigned)sse_server_port());
    fflush(stdout);
    while (!quit)
        usleep(100 * 1000);
    sse_server_stop();
    return 0;
}
