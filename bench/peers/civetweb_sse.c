/* sse_bench_civetweb: the fan-out bench's CivetWeb peer (one worker thread per stream, looping in its request handler). */
#define _GNU_SOURCE /* clock_nanosleep, sigaction */

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <civetweb.h>

#include "pace.h"

/* Worker threads: one per stream (CivetWeb's model), 3000 streams plus a
 * few for other requests. */
#define NUM_THREADS "3016"

/* The newest frames, for streams that are a few events behind; a stream
 * further behind than this is ended. */
#define RING 4096
#define FRAME_MAX 96

static struct {
    size_t len;
    char buf[FRAME_MAX];
} g_ring[RING];                  /* frame of seq s is g_ring[s % RING] */
static uint64_t g_latest;        /* seq of the newest frame; 0: none yet */
static int g_stopping;
static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t g_cond = PTHREAD_COND_INITIALIZER; /* a new frame, or stop */
static uint64_t g_fell_behind;   /* streams ended for falling out of the ring */

static volatile sig_atomic_t g_stop;

static void on_signal(int sig)
{
    (void)sig;
    g_stop = 1;
}

/* Every request ("**"): a GET asking for text/event-stream streams until
 * the server stops or the client goes away; anything else gets 404. */
static int on_request(struct mg_connection *conn, void *cbdata)
{
    const struct mg_request_info *ri = mg_get_request_info(conn);
    const char *accept = mg_get_header(conn, "Accept");
    char buf[4096];
    uint64_t next;

    (void)cbdata;
    if (strcmp(ri->request_method, "GET") != 0 || accept == NULL ||
        strstr(accept, "text/event-stream") == NULL) {
        mg_printf(conn, "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n"
                        "Connection: close\r\n\r\n");
        return 404;
    }
    mg_printf(conn, "HTTP/1.1 200 OK\r\n"
                    "Content-Type: text/event-stream\r\n"
                    "Cache-Control: no-cache\r\n"
                    "\r\n");

    pthread_mutex_lock(&g_lock);
    next = g_latest + 1; /* starts with the next event */
    for (;;) {
        size_t n = 0;

        while (!g_stopping && next > g_latest)
            pthread_cond_wait(&g_cond, &g_lock);
        if (g_stopping)
            break;
        if (g_latest - next >= RING) { /* its next frame was overwritten */
            g_fell_behind++;
            break;
        }
        /* The new frame, or every frame it missed while writing. */
        while (next <= g_latest && n + g_ring[next % RING].len <= sizeof(buf)) {
            memcpy(buf + n, g_ring[next % RING].buf, g_ring[next % RING].len);
            n += g_ring[next % RING].len;
            next++;
        }
        pthread_mutex_unlock(&g_lock);
        if (mg_write(conn, buf, n) <= 0) { /* the client went away */
            pthread_mutex_lock(&g_lock);
            break;
        }
        pthread_mutex_lock(&g_lock);
    }
    pthread_mutex_unlock(&g_lock);
    return 200;
}

int main(int argc, char **argv)
{
    struct mg_callbacks callbacks;
    struct mg_server_port ports[4];
    struct mg_context *ctx;
    struct sigaction act;
    pace_args_t args;
    pace_t pace;
    sigset_t sigs;
    char listen_on[300], extra[64];
    const char *options[] = {
        "listening_ports", listen_on,
        "num_threads", NUM_THREADS,
        NULL, NULL,
    };
    int nports;

    pace_parse(argc, argv, &args);
    snprintf(listen_on, sizeof(listen_on), "%s:%u", args.bind_addr, args.port);
    pace_raise_nofile();

    /* Stop signals land on this (the publishing) thread: CivetWeb's
     * threads inherit the mask set before they start. */
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGINT);
    sigaddset(&sigs, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &sigs, NULL);
    memset(&act, 0, sizeof(act));
    act.sa_handler = on_signal; /* no SA_RESTART: the sleep returns EINTR */
    sigemptyset(&act.sa_mask);
    sigaction(SIGINT, &act, NULL);
    sigaction(SIGTERM, &act, NULL);
    act.sa_handler = SIG_IGN;
    sigaction(SIGPIPE, &act, NULL);

    mg_init_library(0);
    memset(&callbacks, 0, sizeof(callbacks));
    ctx = mg_start(&callbacks, NULL, options);
    if (ctx == NULL) {
        fprintf(stderr, "%s: mg_start(listening_ports=%s) failed\n", argv[0],
                listen_on);
        return 1;
    }
    mg_set_request_handler(ctx, "**", on_request, NULL);
    pthread_sigmask(SIG_UNBLOCK, &sigs, NULL);
    nports = mg_get_server_ports(ctx, (int)(sizeof(ports) / sizeof(ports[0])),
                                 ports);
    pace_print_listening(nports > 0 ? (unsigned)ports[0].port : args.port,
                         (long)getpid());

    pace_start(&pace, args.rate);
    while (!g_stop) {
        uint64_t seq, t;

        if (pace_sleep(&pace) == EINTR)
            continue; /* the loop condition sees g_stop */
        seq = pace_begin(&pace);
        t = pace_now();
        pthread_mutex_lock(&g_lock);
        g_ring[seq % RING].len = (size_t)pace_frame(g_ring[seq % RING].buf,
                                                    FRAME_MAX, seq, t);
        g_latest = seq;
        pthread_cond_broadcast(&g_cond);
        pthread_mutex_unlock(&g_lock);
        pace_end(&pace, t);
    }

    pthread_mutex_lock(&g_lock);
    g_stopping = 1;
    pthread_cond_broadcast(&g_cond);
    pthread_mutex_unlock(&g_lock);
    mg_stop(ctx);
    mg_exit_library();
    snprintf(extra, sizeof(extra), " fell_behind=%llu",
             (unsigned long long)g_fell_behind);
    pace_print_stopped(&pace, extra);
    return 0;
}
