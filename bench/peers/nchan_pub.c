/* SPDX-License-Identifier: MIT */
/* sse_bench_nchan_pub: the publisher of the fan-out bench's nginx + nchan peer: POSTs each event to /pub (or --path) over one keep-alive connection. */
#define _GNU_SOURCE /* clock_nanosleep, sigaction, memmem, strncasecmp */

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "pace.h"

#define CONNECT_TRIES 100 /* 10 s for nginx to answer */

static int connect_to(const struct sockaddr_in *sa)
{
    int i, one = 1;

    for (i = 0; i < CONNECT_TRIES && !pace_stop; i++) {
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

        if (fd < 0)
            return -1;
        if (connect(fd, (const struct sockaddr *)sa, sizeof(*sa)) == 0) {
            setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
            return fd;
        }
        close(fd);
        usleep(100000);
    }
    return -1;
}

static int write_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);

        if (w < 0)
            return -1; /* EINTR included: pace_stop is set */
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* Read one response (head and Content-Length body); its status, or -1 if
 * the connection failed or a signal came. */
static int read_response(int fd)
{
    char buf[4096];
    size_t len = 0, body = 0, need;
    const char *eoh, *cl;
    int status;

    for (;;) {
        ssize_t r = read(fd, buf + len, sizeof(buf) - 1 - len);

        if (r <= 0)
            return -1;
        len += (size_t)r;
        buf[len] = '\0';
        if ((eoh = strstr(buf, "\r\n\r\n")) != NULL)
            break;
        if (len == sizeof(buf) - 1)
            return -1;
    }
    if (sscanf(buf, "HTTP/1.%*c %d", &status) != 1)
        return -1;
    for (cl = buf; (cl = strstr(cl, "\r\n")) != NULL && cl < eoh; cl += 2) {
        if (strncasecmp(cl + 2, "Content-Length:", 15) == 0) {
            body = strtoul(cl + 17, NULL, 10);
            break;
        }
    }
    /* Skip the body (nchan's channel info); it is never pipelined past. */
    need = (size_t)(eoh + 4 - buf) + body;
    while (len < need) {
        size_t want = need - len > sizeof(buf) ? sizeof(buf) : need - len;
        ssize_t r = read(fd, buf, want);

        if (r <= 0)
            return -1;
        len += (size_t)r;
    }
    return status;
}

/* The flags pace_parse() does not know, taken out of argv first:
 * --path P (default /pub; the hub's publish location is /pub/NAME) and
 * --token T ("Authorization: Bearer T" on every request). */
static const char *g_path = "/pub";
static char g_auth[160];

static int take_own_flags(int argc, char **argv)
{
    int i, n = 1;

    for (i = 1; i < argc; i++) {
        int path = strcmp(argv[i], "--path") == 0;

        if ((path || strcmp(argv[i], "--token") == 0) && i + 1 < argc) {
            const char *v = argv[++i];

            if (path && (v[0] != '/' || strlen(v) > 100 || strpbrk(v, " \r\n")))
                pace_usage(argv[0], "bad value for --path (/..., up to 100 characters)");
            if (!path && (strlen(v) > 100 || strpbrk(v, " \r\n")))
                pace_usage(argv[0], "bad value for --token (up to 100 characters)");
            if (path)
                g_path = v;
            else
                snprintf(g_auth, sizeof(g_auth), "Authorization: Bearer %s\r\n", v);
            continue;
        }
        argv[n++] = argv[i];
    }
    argv[n] = NULL;
    return n;
}

int main(int argc, char **argv)
{
    pace_args_t args;
    pace_t pace;
    uint64_t errors = 0, reconnects = 0;
    int fd, first_status = 0;
    char extra[128];

    argc = take_own_flags(argc, argv);
    pace_parse(argc, argv, &args);
    if (args.port == 0)
        pace_usage(argv[0], "--port must name nginx's port");

    pace_signals(NULL); /* sleep and read return EINTR */

    if ((fd = connect_to(&args.addr)) < 0) {
        fprintf(stderr, "%s: cannot connect to %s:%u\n", argv[0], args.bind_addr,
                args.port);
        return 1;
    }
    printf("connected port=%u pid=%ld\n", args.port, (long)getpid());
    fflush(stdout);

    pace_start(&pace, args.rate);
    while (!pace_stop) {
        char body[64], req[512];
        uint64_t t;
        int n, status = -1, attempt;

        if (pace_sleep(&pace) == EINTR)
            continue; /* the loop condition sees pace_stop */
        (void)pace_begin(&pace);
        t = pace_now();
        n = pace_data(body, sizeof(body), &pace, t);
        n = snprintf(req, sizeof(req),
                     "POST %s HTTP/1.1\r\n"
                     "Host: localhost\r\n"
                     "%s"
                     "X-EventSource-Event: message\r\n"
                     "Content-Type: text/plain\r\n"
                     "Content-Length: %d\r\n"
                     "\r\n%s", g_path, g_auth, n, body);
        /* One keep-alive connection; should nginx close it anyway, the
         * event goes again on a new one (nginx had not taken it). */
        for (attempt = 0; attempt < 2 && !pace_stop; attempt++) {
            if (write_all(fd, req, (size_t)n) == 0 &&
                (status = read_response(fd)) > 0)
                break;
            if (pace_stop)
                break;
            close(fd);
            reconnects++;
            if ((fd = connect_to(&args.addr)) < 0) {
                fprintf(stderr, "%s: lost nginx at %s:%u\n", argv[0],
                        args.bind_addr, args.port);
                return 1;
            }
        }
        if (pace_stop && status < 0)
            break; /* cut short by the stop signal */
        /* nchan: 201 with subscribers, 202 when none are there. */
        if (status < 200 || status > 299) {
            if (errors++ == 0)
                first_status = status;
        }
        pace_end(&pace, t);
    }

    close(fd);
    if (errors > 0)
        snprintf(extra, sizeof(extra),
                 " publish_errors=%llu first_status=%d reconnects=%llu",
                 (unsigned long long)errors, first_status,
                 (unsigned long long)reconnects);
    else
        snprintf(extra, sizeof(extra), " publish_errors=0 reconnects=%llu",
                 (unsigned long long)reconnects);
    pace_print_stopped(&pace, extra);
    return 0;
}
