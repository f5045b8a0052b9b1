/* SPDX-License-Identifier: MIT */
/* A program built against an installed ssedge (pkg-config ssedge): starts a
 * server on a loopback port, opens a stream to itself, publishes one event
 * and checks it arrives. Exit 0 when it does. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <ssedge/sse.h>

int main(void)
{
    static const sse_route_t routes[] = {
        { .path = "/events", .channel = SSE_CHANNEL_NONE },
    };
    static const char req[] =
        "GET /events HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\n\r\n";
    struct timeval tv = { 0, 200000 };
    struct sockaddr_in a;
    sse_server_cfg_t cfg;
    char buf[2048];
    size_t len = 0;
    int fd, rc = 1, i;

    sse_server_cfg_init(&cfg);
    cfg.bind_addr = "127.0.0.1";
    cfg.routes = routes;
    cfg.num_routes = 1;
    if (sse_server_start(&cfg) != SSE_OK)
        return 1;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_port = htons(sse_server_port());
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    fd = socket(AF_INET, SOCK_STREAM, 0);
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    if (fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof a) == 0 &&
        send(fd, req, sizeof req - 1, 0) == (ssize_t)(sizeof req - 1)) {
        /* Publish until the stream is registered (after its head went out,
         * so the first events may come too early) and the event shows up. */
        for (i = 0; i < 40 && rc != 0; i++) {
            ssize_t n;
            sse_publish(SSE_CHANNEL_ALL, "hello", "installed", 9, NULL);
            n = recv(fd, buf + len, sizeof buf - 1 - len, 0);
            if (n == 0 || len + (n > 0 ? (size_t)n : 0) >= sizeof buf - 1)
                break;
            if (n < 0)
                continue; /* nothing within 200 ms: publish again */
            len += (size_t)n;
            buf[len] = 0;
            if (strstr(buf, "event: hello\n") && strstr(buf, "data: installed\n"))
                rc = 0;
        }
    }
    printf("%s\n", rc == 0 ? "hello_ssedge: event received" : "hello_ssedge: no event");
    if (fd >= 0)
        close(fd);
    sse_server_stop();
    return rc;
}
