/* SPDX-License-Identifier: MIT */
/* hello: the README's "Using it" as a whole program: GET /events streams a
 * "boot" event, then a "message" with a counter every second. */
#define _POSIX_C_SOURCE 200809L /* sigtimedwait() under -std=c99 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include "ssedge/sse.h"

int main(int argc, char **argv)
{
    static const sse_route_t routes[] = {
        { .path = "/events", .channel = SSE_CHANNEL_NONE }, /* events sent to all */
    };
    const struct timespec second = { 1, 0 };
    sse_server_cfg_t cfg;
    sigset_t sigs;
    char *end = NULL, data[32];
    long port = argc > 1 ? strtol(argv[1], &end, 10) : 8080, n;
    int r, s, len;

    if (argc > 3 || (end && (end == argv[1] || *end)) || port < 0 || port > 65535) {
        fprintf(stderr, "usage: hello [PORT (0..65535, 0 = any) [BIND_ADDR]]\n");
        return 2;
    }
    /* Before the server runs: the event waits in the ring, and a client
     * that connects with "Last-Event-ID: 0" gets it replayed. */
    if ((r = sse_publish(SSE_CHANNEL_ALL, "boot", "ready", 5, NULL)) != SSE_OK) {
        fprintf(stderr, "hello: publish: %s\n", sse_strerror(r));
        return 1;
    }
    sse_server_cfg_init(&cfg);               /* Kconfig defaults */
    cfg.port = (uint16_t)port;
    cfg.bind_addr = argc > 2 ? argv[2] : cfg.bind_addr; /* numeric: 127.0.0.1, :: */
    cfg.routes = routes;
    cfg.num_routes = 1;
    /* Blocked before ssedge's threads exist (they inherit the mask), so
     * only the sigtimedwait() below takes SIGINT/SIGTERM, and at once. */
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGINT);
    sigaddset(&sigs, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &sigs, NULL);
    if ((r = sse_server_start(&cfg)) != SSE_OK) {
        fprintf(stderr, "hello: cannot start: %s\n", sse_strerror(r));
        return 1;
    }
    printf("hello: port %u\n", sse_server_port()); /* 0 asked for any */
    fflush(stdout);                          /* a pipe would hold it back */
    /* A message a second until a signal; sse_publish() never waits for a client. */
    for (n = 1; r == SSE_OK && sigtimedwait(&sigs, NULL, &second) < 0; n++) {
        len = snprintf(data, sizeof data, "%ld", n);
        r = sse_publish(SSE_CHANNEL_ALL, "message", data, (size_t)len, NULL);
    }
    if (r != SSE_OK)
        fprintf(stderr, "hello: publish: %s\n", sse_strerror(r));
    if ((s = sse_server_stop()) != SSE_OK)   /* ends every stream, joins threads */
        fprintf(stderr, "hello: stop: %s\n", sse_strerror(s));
    return r == SSE_OK && s == SSE_OK ? 0 : 1;
}
