/* sse_bench_floor: the raw epoll floor of the fan-out bench: one thread, one write() per stream per tick (the events due since the last). */
#define _GNU_SOURCE /* accept4, strcasestr, signalfd */

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "peers/pace.h"

#define HEAD_MAX 4096      /* a request head longer than this is refused */
#define FRAME_MAX 128      /* one event's frame, whatever its numbers */
#define FRAMES_MAX (16 * FRAME_MAX) /* events one tick may carry */
#define OUT_MAX (1u << 20) /* unsent bytes one stream may hold before it is dropped */

/* One accepted connection: the request head while it is read, then the
 * bytes a stream could not take yet. */
typedef struct conn {
    int fd;
    int streaming;
    int dead;            /* closed during this epoll batch, freed after it */
    struct conn *next_dead;
    size_t idx;          /* in g_streams while streaming */
    char *head;          /* request head so far (NUL-terminated) */
    size_t head_len;
    char *out;           /* unsent bytes: [out_off, out_len) */
    size_t out_off, out_len, out_size;
} conn_t;

static int g_ep;
static conn_t **g_streams;
static size_t g_nstreams, g_streams_size;
static uint64_t g_dropped; /* streams closed for holding more than OUT_MAX */
static conn_t *g_dead;     /* closed, freed once the current batch is done */

/* epoll tags for the three fds that are not connections */
static char k_listen, k_timer, k_signal;

static const char k_stream_head[] =
    "HTTP/1.1 200 OK\r\n"
    "Content-Type: text/event-stream\r\n"
    "Cache-Control: no-cache\r\n"
    "\r\n";
static const char k_not_found[] =
    "HTTP/1.1 404 Not Found\r\n"
    "Content-Length: 0\r\n"
    "Connection: close\r\n"
    "\r\n";

static void die(const char *what)
{
    perror(what);
    exit(1);
}

static void watch(conn_t *c, uint32_t events, int op)
{
    struct epoll_event ev;

    memset(&ev, 0, sizeof(ev));
    ev.events = events;
    ev.data.ptr = c;
    if (epoll_ctl(g_ep, op, c->fd, &ev) != 0)
        die("epoll_ctl");
}

/* Close now, free later: the current epoll batch may still name it. */
static void conn_close(conn_t *c)
{
    if (c->streaming) { /* swap-remove from the stream list */
        g_streams[c->idx] = g_streams[--g_nstreams];
        g_streams[c->idx]->idx = c->idx;
        c->streaming = 0;
    }
    close(c->fd); /* also removes it from the epoll set */
    c->dead = 1;
    c->next_dead = g_dead;
    g_dead = c;
}

static void free_dead(void)
{
    while (g_dead != NULL) {
        conn_t *c = g_dead;

        g_dead = c->next_dead;
        free(c->head);
        free(c->out);
        free(c);
    }
}

/* Keep [p, p+n) to send on EPOLLOUT; -1 if that makes more than OUT_MAX. */
static int out_keep(conn_t *c, const char *p, size_t n)
{
    size_t pending = c->out_len - c->out_off;

    if (pending + n > OUT_MAX)
        return -1;
    if (c->out_off > 0) { /* move the unsent bytes to the front */
        memmove(c->out, c->out + c->out_off, pending);
        c->out_off = 0;
        c->out_len = pending;
    }
    if (c->out_len + n > c->out_size) {
        size_t size = c->out_size ? c->out_size : 4096;
        char *q;

        while (size < c->out_len + n)
            size *= 2;
        if ((q = realloc(c->out, size)) == NULL)
            return -1;
        c->out = q;
        c->out_size = size;
    }
    memcpy(c->out + c->out_len, p, n);
    c->out_len += n;
    return 0;
}

/* One write() of the frame, or queue it behind bytes already waiting.
 * -1: the stream is gone (error, or too far behind). */
static int conn_send(conn_t *c, const char *p, size_t n)
{
    ssize_t w;

    if (c->out_len > c->out_off) {
        if (out_keep(c, p, n) != 0) {
            g_dropped++;
            return -1;
        }
        return 0;
    }
    w = write(c->fd, p, n);
    if (w == (ssize_t)n)
        return 0;
    if (w < 0) {
        if (errno != EAGAIN && errno != EWOULDBLOCK)
            return -1;
        w = 0;
    }
    if (out_keep(c, p + w, n - (size_t)w) != 0) {
        g_dropped++;
        return -1;
    }
    watch(c, EPOLLIN | EPOLLOUT, EPOLL_CTL_MOD);
    return 0;
}

/* EPOLLOUT: send what was kept; back to EPOLLIN only once it is all out. */
static int conn_flush(conn_t *c)
{
    while (c->out_off < c->out_len) {
        ssize_t w = write(c->fd, c->out + c->out_off, c->out_len - c->out_off);

        if (w < 0)
            return (errno == EAGAIN || errno == EWOULDBLOCK) ? 0 : -1;
        c->out_off += (size_t)w;
    }
    c->out_off = c->out_len = 0;
    watch(c, EPOLLIN, EPOLL_CTL_MOD);
    return 0;
}

/* Does the head ask for a stream: a GET whose Accept names text/event-stream? */
static int wants_stream(char *head)
{
    char *line, *next;

    if (strncmp(head, "GET ", 4) != 0)
        return 0;
    for (line = strchr(head, '\n'); line != NULL; line = next) {
        line++;
        next = strchr(line, '\n');
        if (strncasecmp(line, "accept:", 7) == 0) {
            int found;

            if (next != NULL)
                *next = '\0'; /* search this line only */
            found = strcasestr(line + 7, "text/event-stream") != NULL;
            if (next != NULL)
                *next = '\n';
            if (found)
                return 1;
        }
    }
    return 0;
}

/* EPOLLIN: collect the request head and answer it; once streaming, only
 * watch for the client going away. -1: close it. */
static int conn_read(conn_t *c)
{
    char scratch[4096];
    ssize_t r;

    if (c->streaming) {
        r = read(c->fd, scratch, sizeof(scratch)); /* whatever it sends is ignored */
        if (r == 0 || (r < 0 && errno != EAGAIN && errno != EWOULDBLOCK))
            return -1;
        return 0;
    }
    r = read(c->fd, c->head + c->head_len, HEAD_MAX - 1 - c->head_len);
    if (r < 0)
        return (errno == EAGAIN || errno == EWOULDBLOCK) ? 0 : -1;
    if (r == 0)
        return -1;
    c->head_len += (size_t)r;
    c->head[c->head_len] = '\0';
    if (strstr(c->head, "\r\n\r\n") == NULL && strstr(c->head, "\n\n") == NULL)
        return c->head_len < HEAD_MAX - 1 ? 0 : -1;

    if (!wants_stream(c->head)) {
        if (write(c->fd, k_not_found, sizeof(k_not_found) - 1) < 0) {
            /* closed right after either way */
        }
        return -1;
    }
    free(c->head);
    c->head = NULL;
    if (g_nstreams == g_streams_size) {
        size_t size = g_streams_size ? 2 * g_streams_size : 1024;
        conn_t **s = realloc(g_streams, size * sizeof(*s));

        if (s == NULL)
            return -1;
        g_streams = s;
        g_streams_size = size;
    }
    c->streaming = 1;
    c->idx = g_nstreams;
    g_streams[g_nstreams++] = c;
    /* From here on it gets every event: the next tick is its first. */
    return conn_send(c, k_stream_head, sizeof(k_stream_head) - 1);
}

static void on_accept(int lfd)
{
    for (;;) {
        int one = 1, fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        conn_t *c;

        if (fd < 0) {
            if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS ||
                errno == ENOMEM)
                perror("accept4"); /* the client retries */
            return;
        }
        /* Each write is a whole event: send it now, not behind Nagle. */
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
        c = calloc(1, sizeof(*c));
        if (c == NULL || (c->head = malloc(HEAD_MAX)) == NULL) {
            free(c);
            close(fd);
            continue;
        }
        c->fd = fd;
        watch(c, EPOLLIN, EPOLL_CTL_ADD);
    }
}

static int listen_on(const struct sockaddr_in *addr, unsigned *bound)
{
    struct sockaddr_in sa = *addr;
    socklen_t sl = sizeof(sa);
    int one = 1, fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

    if (fd < 0)
        die("socket");
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
        listen(fd, SOMAXCONN) != 0 ||
        getsockname(fd, (struct sockaddr *)&sa, &sl) != 0)
        die("bind/listen");
    *bound = ntohs(sa.sin_port);
    return fd;
}

static void arm(int tfd, uint64_t due)
{
    struct itimerspec its;

    memset(&its, 0, sizeof(its));
    its.it_value.tv_sec = (time_t)(due / NS_PER_S);
    its.it_value.tv_nsec = (long)(due % NS_PER_S);
    if (timerfd_settime(tfd, TFD_TIMER_ABSTIME, &its, NULL) != 0)
        die("timerfd_settime");
}

int main(int argc, char **argv)
{
    struct epoll_event ev, evs[256];
    pace_args_t args;
    pace_t pace;
    sigset_t sigs;
    unsigned port;
    int lfd, tfd, sfd, stop = 0;
    char extra[64];

    pace_parse(argc, argv, &args);
    pace_raise_nofile();
    signal(SIGPIPE, SIG_IGN); /* a client may hang up at any time */

    /* SIGINT/SIGTERM arrive through the loop as a readable signalfd. */
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGINT);
    sigaddset(&sigs, SIGTERM);
    sigprocmask(SIG_BLOCK, &sigs, NULL);
    if ((sfd = signalfd(-1, &sigs, SFD_NONBLOCK | SFD_CLOEXEC)) < 0)
        die("signalfd");

    lfd = listen_on(&args.addr, &port);
    if ((g_ep = epoll_create1(EPOLL_CLOEXEC)) < 0)
        die("epoll_create1");
    if ((tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC)) < 0)
        die("timerfd_create");
    memset(&ev, 0, sizeof(ev));
    ev.events = EPOLLIN;
    ev.data.ptr = &k_listen;
    epoll_ctl(g_ep, EPOLL_CTL_ADD, lfd, &ev);
    ev.data.ptr = &k_timer;
    epoll_ctl(g_ep, EPOLL_CTL_ADD, tfd, &ev);
    ev.data.ptr = &k_signal;
    epoll_ctl(g_ep, EPOLL_CTL_ADD, sfd, &ev);

    pace_print_listening(port, (long)getpid());
    pace_start(&pace, args.rate);
    arm(tfd, pace_due(&pace));

    while (!stop) {
        int i, n = epoll_wait(g_ep, evs, (int)(sizeof(evs) / sizeof(evs[0])), -1);

        if (n < 0) {
            if (errno == EINTR)
                continue;
            die("epoll_wait");
        }
        for (i = 0; i < n; i++) {
            void *tag = evs[i].data.ptr;
            uint32_t e = evs[i].events;

            if (tag == &k_signal) {
                stop = 1;
            } else if (tag == &k_listen) {
                on_accept(lfd);
            } else if (tag == &k_timer) {
                uint64_t expirations, t;
                char frames[FRAMES_MAX];
                size_t s, len = 0;

                if (read(tfd, &expirations, sizeof(expirations)) < 0)
                    continue; /* not due after all */
                /* Every event due by now (one, unless the last sweep
                 * overran), formatted once, then one write() per stream. */
                do {
                    (void)pace_begin(&pace);
                    t = pace_now();
                    len += (size_t)pace_frame(frames + len, sizeof(frames) - len, &pace, t);
                    pace_end(&pace, t);
                } while (pace_due(&pace) <= pace_now() && sizeof(frames) - len >= FRAME_MAX);
                for (s = 0; s < g_nstreams;) {
                    conn_t *c = g_streams[s];

                    if (conn_send(c, frames, len) != 0)
                        conn_close(c); /* the last stream moved to s */
                    else
                        s++;
                }
                arm(tfd, pace_due(&pace));
            } else {
                conn_t *c = tag;
                int bad = 0;

                if (c->dead)
                    continue;
                if (e & EPOLLOUT)
                    bad = conn_flush(c) != 0;
                if (!bad && (e & (EPOLLIN | EPOLLHUP | EPOLLERR)))
                    bad = conn_read(c) != 0;
                if (bad)
                    conn_close(c);
            }
        }
        free_dead();
    }

    /* Stop: close every connection, then report. */
    while (g_nstreams > 0)
        conn_close(g_streams[g_nstreams - 1]);
    free_dead();
    close(lfd);
    snprintf(extra, sizeof(extra), " dropped=%llu", (unsigned long long)g_dropped);
    pace_print_stopped(&pace, extra);
    return 0;
}
