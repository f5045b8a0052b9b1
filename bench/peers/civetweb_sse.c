/* SPDX-License-Identifier: MIT */
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
#include "ring.h"

/* Worker threads: one per stream (CivetWeb's model), 3000 streams plus a
 * few for other requests. */
#define NUM_THREADS "3016"

/* Every request ("**"): a GET asking for text/event-stream streams until
 * the server stops or the client goes away; anything else gets 404. */
static int on_request(struct mg_connection *conn, void *cbdata)
{
    const struct mg_request_info *ri = mg_get_request_info(conn);
    const char *accept = mg_get_header(conn, "Accept");
    char buf[4096];
    ring_pos_t pos;
    long n;

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

    ring_pos_init(&pos);
    /* Until the server stops, the stream falls out of the ring (n < 0) or
     * the client goes away. */
    while ((n = ring_read(&pos, buf, sizeof(buf))) > 0 && mg_write(conn, buf, (size_t)n) > 0)
        ;
    return 200;
}

int main(int argc, char **argv)
{
    struct mg_callbacks callbacks;
    struct mg_server_port ports[4];
    struct mg_context *ctx;
    pace_args_t args;
    pace_t pace;
    sigset_t sigs;
    char listen_on[300];
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
    pace_signals(&sigs);

    mg_init_library(0);
    memset(&callbacks, 0, sizeof(callbacks));
    ctx = mg_start(&callbacks, NULL, options);
    if (ctx == NULL) {
        fprintf(stderr, "%s: mg_start(listening_ports=%s) failed\n", argv[0],
                listen_on);
        return 1;
    }
    mg_set_request_handler(ctx, "**", on_request, NULL);
    pace_signals_unblock(&sigs);
    nports = mg_get_server_ports(ctx, (int)(sizeof(ports) / sizeof(ports[0])),
                                 ports);
    pace_print_listening(nports > 0 ? (unsigned)ports[0].port : args.port,
                         (long)getpid());

    ring_publish(&pace, args.rate);
    mg_stop(ctx);
    mg_exit_library();
    ring_print_stopped(&pace);
    return 0;
}
