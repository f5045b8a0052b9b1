/* SPDX-License-Identifier: MIT */
/* The bench client's connections: connects paced by --max-inflight with retries, the request, the response head, and each readiness. */
#define _GNU_SOURCE /* -std=c99 hides epoll, sockets, clock_gettime and /proc helpers */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "client.h"

static const char *memmem_ci(const char *h, size_t hn, const char *needle)
{
    size_t nn = strlen(needle), i;

    for (i = 0; i + nn <= hn; i++)
        if (strncasecmp(h + i, needle, nn) == 0)
            return h + i;
    return NULL;
}

/* send()/read() on a connection, over TLS or not. -1 with errno EAGAIN
 * when it would block; *want_out says whether it waits to write (TLS may
 * need to read first). */
static ssize_t conn_send(conn_t *c, const void *buf, size_t len, int *want_out)
{
    *want_out = 1;
    if (c->tls != NULL)
        return tls_send(c, buf, len, want_out);
    return send(c->fd, buf, len, MSG_NOSIGNAL);
}

static ssize_t conn_recv(conn_t *c, void *buf, size_t len)
{
    if (c->tls != NULL)
        return tls_recv(c, buf, len);
    return read(c->fd, buf, len);
}

/* ---- connections ---------------------------------------------------------- */

void set_events(conn_t *c, uint32_t ev, int op)
{
    struct epoll_event e;

    memset(&e, 0, sizeof(e));
    e.events = ev;
    e.data.u32 = (uint32_t)(c - g.c);
    if (epoll_ctl(g.ep, op, c->fd, &e) != 0) {
        perror("epoll_ctl");
        exit(3);
    }
}

void close_fd(conn_t *c)
{
    tls_conn_free(c);
    if (c->fd >= 0) {
        close(c->fd); /* also removes it from the epoll set */
        c->fd = -1;
    }
}

/* Not answered yet: counts against --max-inflight, so TLS handshakes are
 * paced like the connects (they cost CPU on both sides). */
int in_flight(const conn_t *c)
{
    return c->state == C_CONNECTING || c->state == C_HANDSHAKE ||
           c->state == C_REQUEST || c->state == C_HEAD;
}

/* This attempt failed: retry later (with back-off) or give up. */
void attempt_failed(conn_t *c, int err, ll now)
{
    if (in_flight(c))
        g.inflight--;
    close_fd(c);
    switch (err) {
    case ECONNREFUSED: g.fail_refused++; break;
    case ECONNRESET: case EPIPE: g.fail_reset++; break;
    case EPROTO: g.fail_status++; break;
    case ETIMEDOUT: g.fail_timeout++; break;
    case EAGAIN: g.fail_no_event++; break;
    case EBADMSG: g.fail_tls++; break;
    default: g.fail_other++; break;
    }
    c->carry_len = 0;
    if (c->retries < MAX_RETRIES && (g.phase == P_CONNECT || c->is_stall)) {
        c->retries++;
        g.retries_total++;
        c->state = C_IDLE;
        c->retry_ns = now + 50 * NS_PER_MS * c->retries;
        g.retry_pending++;
    } else {
        c->state = C_FAILED;
        if (c->is_stall)
            stl.connect_failed = 1;
        else
            g.failed++;
    }
}

void send_request(conn_t *c, ll now)
{
    while (c->req_off < g.req_len) {
        int want_out;
        ssize_t w = conn_send(c, g.req + c->req_off, g.req_len - c->req_off,
                              &want_out);
        if (w < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK) {
                set_events(c, want_out ? EPOLLOUT : EPOLLIN, EPOLL_CTL_MOD);
                return;
            }
            attempt_failed(c, errno, now);
            return;
        }
        c->req_off += (size_t)w;
    }
    c->state = C_HEAD;
    set_events(c, EPOLLIN, EPOLL_CTL_MOD);
}


/* TCP is up: the TLS handshake first, or the request at once. */
static void tcp_connected(conn_t *c, ll now)
{
    if (c->tls != NULL) {
        c->state = C_HANDSHAKE;
        c->hs_ns = now_ns();
        tls_handshake_step(c, now);
    } else {
        send_request(c, now);
    }
}

void start_connect(conn_t *c, ll now)
{
    int fd, rc;

    fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        perror("socket");
        c->state = C_CONNECTING; /* so attempt_failed() balances inflight */
        g.inflight++;
        attempt_failed(c, errno, now);
        return;
    }
    if (c->is_stall && stl.rcvbuf > 0 &&
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &stl.rcvbuf,
                   sizeof(stl.rcvbuf)) != 0)
        perror("setsockopt(SO_RCVBUF)");
    c->fd = fd;
    c->req_off = 0;
    c->carry_len = 0;
    c->has_data = 0;
    c->has_id = 0;
    c->attempt_ns = now;
    c->state = C_CONNECTING;
    g.inflight++;
    if (g.tls && (rc = tls_conn_new(c)) != 0) {
        attempt_failed(c, rc, now);
        return;
    }

    rc = connect(fd, (const struct sockaddr *)&g.addr, sizeof(g.addr));
    if (rc == 0) {
        set_events(c, EPOLLIN, EPOLL_CTL_ADD);
        tcp_connected(c, now);
    } else if (errno == EINPROGRESS) {
        set_events(c, EPOLLOUT, EPOLL_CTL_ADD);
    } else {
        attempt_failed(c, errno, now);
    }
}



static void head_done(conn_t *c, ll now)
{
    g.inflight--;
    if (c->is_stall) {
        struct sockaddr_in sa;
        socklen_t sl = sizeof(sa);
        /* Stop reading from here on; only watch for FIN/RST (EPOLLHUP and
         * EPOLLERR are always reported), so level triggering stays quiet. */
        c->state = C_STALLED;
        set_events(c, EPOLLRDHUP, EPOLL_CTL_MOD);
        if (getsockname(c->fd, (struct sockaddr *)&sa, &sl) == 0)
            stl.local_port = ntohs(sa.sin_port);
        stl.start_ns = now;
        stl.end_ns = now + (ll)(stl.stall_s * NS_PER_S);
        stl.next_sample_ns = now + NS_PER_S;
        stl.next_print_ns = now + stl.print_every_ns;
        stall_sample(now, "start", 1);
        stl.rss_min = stl.rss_max = stl.rss_start;
        return;
    }
    /* Counted as connected at its first event, not now: ssedge answers a
     * stream it has no slot for with 200 and a lone "retry:", then closes. */
    c->state = C_STREAM;
}

/* Check the response head; hand what follows it to the stream parser. */
static void on_head_bytes(conn_t *c, size_t total, ll now)
{
    const char *buf = g.rbuf, *eoh = NULL;
    size_t i, hlen;

    for (i = 0; i + 4 <= total; i++) {
        if (memcmp(buf + i, "\r\n\r\n", 4) == 0) {
            eoh = buf + i;
            break;
        }
    }
    if (eoh == NULL) {
        if (total > CARRY_MAX) {
            attempt_failed(c, EPROTO, now);
            return;
        }
        memcpy(c->carry, buf, total);
        c->carry_len = (uint16_t)total;
        return;
    }
    hlen = (size_t)(eoh - buf);
    if (hlen < 12 || memcmp(buf, "HTTP/1.1 200", 12) != 0 ||
        memmem_ci(buf, hlen, "text/event-stream") == NULL ||
        memmem_ci(buf, hlen, "chunked") != NULL) {
        /* Not a stream this client can read (503 when full, 404...). A
         * chunked body is refused outright: ssedge does not chunk, and
         * parsing chunk sizes as SSE lines would count garbage. */
        attempt_failed(c, EPROTO, now);
        return;
    }
    c->carry_len = 0;
    head_done(c, now);
    if (parse_stream(c, eoh + 4, total - hlen - 4, now) != 0) {
        if (!c->is_stall) {
            g.broken++;
            if (c->events > 0)
                g.connected--;
            else
                g.failed++;
        }
        close_fd(c);
        c->state = C_BROKEN;
    }
}

static void stream_ended(conn_t *c, int err, ll now)
{
    if (c->is_stall) {
        stl.eof_ns = now;
        close_fd(c);
        c->state = C_CLOSED;
        return;
    }
    /* A stream that ends before its first event is an overload answer
     * ("retry:" only, then close) or a refusal: a failed attempt, retried
     * while still connecting. */
    if (c->events == 0) {
        attempt_failed(c, err ? err : EAGAIN, now);
        return;
    }
    if (g.broken++ == 0)
        fprintf(stderr, "sse_bench_client: stream %u ended (%s) after %llu "
                "events\n", (unsigned)(c - g.c),
                err ? strerror(err) : "EOF", (unsigned long long)c->events);
    g.connected--;
    close_fd(c);
    c->state = C_BROKEN;
}

/* Plain: one read per readiness (level-triggered epoll comes back for the
 * rest). TLS: one record per mbedtls_ssl_read(), and mbedTLS may hold
 * bytes the kernel no longer shows, so read until it wants more from the
 * socket. The clock is read right after each read (for TLS: after the
 * record is decrypted), which is what the latency measures. */
static void on_readable(conn_t *c)
{
    for (;;) {
        size_t carry = c->carry_len;
        ssize_t r;
        ll now;

        memcpy(g.rbuf, c->carry, carry);
        r = conn_recv(c, g.rbuf + carry, RBUF_SIZE);
        now = now_ns();
        if (r < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
                return;
            if (c->state == C_HEAD)
                attempt_failed(c, errno, now);
            else
                stream_ended(c, errno, now);
            return;
        }
        if (r == 0) {
            if (c->state == C_HEAD)
                attempt_failed(c, ECONNRESET, now);
            else
                stream_ended(c, 0, now);
            return;
        }
        if (c->state == C_HEAD) {
            on_head_bytes(c, carry + (size_t)r, now);
        } else if (parse_stream(c, g.rbuf, carry + (size_t)r, now) != 0) {
            g.malformed++;
            stream_ended(c, EPROTO, now);
        }
        if (c->tls == NULL || c->fd < 0 ||
            (c->state != C_HEAD && c->state != C_STREAM))
            return; /* plain, closed, or the stalled stream stops here */
    }
}

void on_event(conn_t *c)
{
    ll now = now_ns();

    switch (c->state) {
    case C_CONNECTING: {
        int err = 0;
        socklen_t len = sizeof(err);
        if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0)
            err = errno;
        if (err != 0) {
            attempt_failed(c, err, now);
            return;
        }
        tcp_connected(c, now);
        break;
    }
    case C_HANDSHAKE:
        tls_handshake_step(c, now);
        break;
    case C_REQUEST:
        send_request(c, now);
        break;
    case C_HEAD:
    case C_STREAM:
        on_readable(c);
        break;
    case C_STALLED:
        /* FIN or RST while not reading: note it once and stop polling the
         * fd (level-triggered HUP would fire forever); keep the fd so the
         * buffered events can still be read when the stall ends. */
        if (stl.hup_ns == 0)
            stl.hup_ns = now;
        epoll_ctl(g.ep, EPOLL_CTL_DEL, c->fd, NULL);
        break;
    default:
        break;
    }
}

/* Start fresh connects and due retries while few enough are in flight. */
void pump_connects(ll now)
{
    unsigned i;

    while (g.phase == P_CONNECT && g.next_fresh < g.clients &&
           g.inflight < g.max_inflight)
        start_connect(&g.c[g.next_fresh++], now);
    if (g.retry_pending == 0)
        return;
    for (i = 0; i < g.nconns && g.inflight < g.max_inflight; i++) {
        conn_t *c = &g.c[i];
        if (c->state == C_IDLE && c->retries > 0 && c->retry_ns <= now) {
            g.retry_pending--;
            start_connect(c, now);
        }
    }
}

/* Connect attempts that got no answer in time count as failed attempts. */
void expire_attempts(ll now)
{
    unsigned i;

    if (g.inflight == 0)
        return;
    for (i = 0; i < g.nconns; i++) {
        conn_t *c = &g.c[i];
        if (in_flight(c) && now - c->attempt_ns > ATTEMPT_TIMEOUT)
            attempt_failed(c, ETIMEDOUT, now);
    }
}
