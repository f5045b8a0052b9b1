/* SPDX-License-Identifier: MIT */
/* Whole-connection harness: the real server with a few routes on 127.0.0.1,
 * one loopback TCP client per input, and checks on the answer. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include "ssedge/sse.h"
#include "fuzz_props.h"

#define FZ_SLOTS     64
#define FZ_HANG_MS   10000   /* no end of answer this long: a hang */
#define FZ_MARK_MS   20      /* re-publish the stream marker this often */
#define FZ_MAX_ANSWER (1u << 20)

static const char *const chan_names[] = { "a", "b", "c" };
/* At least CONFIG_SSE_AUTH_MIN_TOKEN_LEN (16 by default) characters. */
#define FZ_TOKEN "fz-Token_0123456789abcdefghijkl"  /* 31 */
static const char *const origins[] = { "http://ok.example", "https://b.example" };
/* Set by callbacks on server threads when an API promise breaks. */
static const char *volatile server_why;
static unsigned execs;
static uint64_t last_bad;

static int refuse_stop(const sse_request_t *rq, void *user)
{
    (void)rq;
    (void)user;
    return 204;
}

static int need_auth(const sse_request_t *rq, void *user)
{
    (void)user;
    return rq->authorization.p ? 0 : 401;
}

static int odd_status(const sse_request_t *rq, void *user)
{
    (void)rq;
    (void)user;
    return 99; /* not a status: the server must answer 500 */
}

static void tick(sse_conn_id_t conn, void *arg)
{
    (void)arg;
    (void)sse_send_to(conn, "tick", "t", 1, NULL);
}

/* Per-connection event and timer: the paths an application's on_open uses. */
static void on_open(sse_conn_id_t conn, const sse_request_t *rq, void *user)
{
    int r;
    (void)user;
    r = sse_send_to(conn, "hello", rq->path.p, rq->path.n, NULL);
    if (r != SSE_OK && r != SSE_ERR_TOO_LARGE)
        server_why = "conn: sse_send_to from on_open failed";
    r = sse_conn_timer_add(conn, 5, tick, NULL);
    if (r <= 0 && r != SSE_ERR_NOMEM)
        server_why = "conn: sse_conn_timer_add from on_open failed";
}

/* Designated: sse_route_t may grow fields. */
static const sse_route_t routes[] = {
    { .path = "/events", .channel = SSE_CHANNEL_NONE, .on_open = on_open },
    { .path = "/ch", .channel = 0 },
    { .path = "/stop", .channel = SSE_CHANNEL_NONE, .on_request = refuse_stop },
    { .path = "/auth", .channel = 1, .on_open = on_open, .on_request = need_auth },
    { .path = "/odd", .channel = 2, .on_request = odd_status },
    { .path = "/tok", .channel = SSE_CHANNEL_NONE, .on_open = on_open, .token = FZ_TOKEN },
    { .path = "*", .channel = SSE_CHANNEL_NONE },
};

static int path_is(const sse_request_t *rq, const char *p)
{
    return rq->path.n == strlen(p) && memcmp(rq->path.p, p, rq->path.n) == 0;
}

static int handler(sse_conn_t *c, const sse_request_t *rq, void *user)
{
    static const char big[3000] = { 'x' };
    (void)user;
    if (path_is(rq, "/none"))
        return SSE_ERR_ARG; /* the server answers 404 */
    if (path_is(rq, "/big"))
        return sse_reply(c, 200, "application/octet-stream", NULL, big, sizeof big);
    if (path_is(rq, "/echo"))
        return sse_reply(c, 200, NULL, "X-Fz: echo\r\n", rq->query.p, rq->query.n);
    if (path_is(rq, "/tokplain"))
        return sse_token_ok(rq, FZ_TOKEN) ? sse_reply(c, 200, NULL, NULL, "in\n", 3)
                                          : sse_reply(c, 401, NULL, NULL, "out\n", 4);
    if (path_is(rq, "/twice")) {
        (void)sse_reply(c, 201, NULL, NULL, "a", 1);
        if (sse_reply(c, 200, NULL, NULL, "b", 1) != SSE_ERR_ARG)
            server_why = "conn: a second sse_reply was not refused";
        return SSE_OK;
    }
    return sse_reply(c, 200, "text/plain", NULL, "ok\n", 3);
}

int fz_conn_start(void)
{
    sse_server_cfg_t cfg;
    sse_stats_t st;

    sse_server_cfg_init(&cfg);
    cfg.bind_addr = "127.0.0.1";
    cfg.port = 0;
    cfg.routes = routes;
    cfg.num_routes = sizeof routes / sizeof routes[0];
    cfg.handler = handler;
    cfg.max_connections = FZ_SLOTS < CONFIG_SSE_MAX_CONNECTIONS ? FZ_SLOTS
                                                                : CONFIG_SSE_MAX_CONNECTIONS;
    cfg.channel_names = chan_names;
    cfg.num_channel_names = 3;
    cfg.cors_origins = origins;
    cfg.num_cors_origins = CONFIG_SSE_MAX_CORS_ORIGINS < 2 ? CONFIG_SSE_MAX_CORS_ORIGINS : 2;
    cfg.cors_credentials = 1;
    /* Short timers keep each input fast: a stream whose client left is
     * noticed within idle_check_ms. */
    cfg.retry_ms = 1000;
    cfg.heartbeat_ms = 50;
    cfg.idle_check_ms = 20;
    cfg.send_timeout_ms = 1000;
    /* Never reached (the client's FIN comes at once): a 408 would be a bug. */
    cfg.header_timeout_ms = 5000;
#if CONFIG_SSE_PUBLISH_BODY_MAX > 0
    cfg.publish_token = FZ_TOKEN; /* POST /publish: bodies read, events made */
#endif
    server_why = NULL;
    sse_server_stats(&st);
    last_bad = st.bad_requests;
    return sse_server_start(&cfg);
}

void fz_conn_stop(void)
{
    (void)sse_server_stop();
}

static long mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

static int connect_lo(void)
{
    struct sockaddr_in a;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_port = htons(sse_server_port());
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
        /* libFuzzer's once-a-second SIGALRM can interrupt a connect that
         * waits for a SYN to be sent again (the server's backlog was full);
         * the handshake goes on: wait for it (5 s) instead of failing. */
        struct pollfd p = { fd, POLLOUT, 0 };
        int err = errno, r = 0;
        socklen_t len = sizeof err;
        if (err == EINTR) {
            while ((r = poll(&p, 1, 5000)) < 0 && errno == EINTR)
                ;
            if (r != 1 || getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0)
                err = ETIMEDOUT;
        }
        if (err != 0) {
            fprintf(stderr, "fuzz: connect to 127.0.0.1:%u: %s\n",
                    (unsigned)sse_server_port(), strerror(err));
            close(fd);
            return -1;
        }
    }
    return fd;
}

/* 1 if all went out; 0 if the server answered and closed early (fine). */
static int send_all(int fd, const uint8_t *d, size_t n)
{
    while (n > 0) {
        ssize_t w = send(fd, d, n, MSG_NOSIGNAL);
        if (w <= 0)
            return 0;
        d += w;
        n -= (size_t)w;
    }
    return 1;
}

typedef struct {
    char  *buf;
    size_t len, cap;
    int    eof;
} answer_t;

/* Read what is there within ms. 0 ok (maybe nothing), -1 buffer full. */
static int read_some(int fd, answer_t *a, int ms)
{
    struct pollfd p;
    ssize_t r;

    p.fd = fd;
    p.events = POLLIN;
    if (poll(&p, 1, ms < 0 ? 0 : ms) <= 0)
        return 0;
    if (a->len == a->cap) {
        size_t nc = a->cap ? a->cap * 2 : 4096;
        char *nb;
        if (nc > FZ_MAX_ANSWER)
            return -1;
        nb = realloc(a->buf, nc);
        if (!nb)
            abort();
        a->buf = nb;
        a->cap = nc;
    }
    r = recv(fd, a->buf + a->len, a->cap - a->len, 0);
    if (r > 0)
        a->len += (size_t)r;
    else if (r == 0 || (errno != EINTR && errno != EAGAIN))
        a->eof = 1; /* EOF, or a reset after the answer */
    return 0;
}

static const char *find(const char *h, size_t n, const char *needle)
{
    return memmem(h, n, needle, strlen(needle));
}

/* Case-insensitive "\r\nName: " in the head; its value, or NULL. */
static const char *header(const char *head, size_t n, const char *name)
{
    size_t nl = strlen(name), i;
    for (i = 0; i + nl + 4 <= n; i++) {
        if (head[i] == '\r' && head[i + 1] == '\n' && strncasecmp(head + i + 2, name, nl) == 0 &&
            head[i + 2 + nl] == ':' && head[i + 3 + nl] == ' ')
            return head + i + 4 + nl;
    }
    return NULL;
}

/* Every line of a stream body is a known SSE field, a comment or blank
 * (up to the last LF: the reader may stop mid-line). */
static const char *stream_body_ok(const char *b, size_t n)
{
    static const char *const ok[] = { "retry: ", "id: ", "event: ", "data: ", ":" };
    size_t pos = 0, k;
    while (n > 0 && b[n - 1] != '\n')
        n--;
    if (memchr(b, '\r', n))
        return "conn: CR in a stream body";
    while (pos < n) {
        const char *nl = memchr(b + pos, '\n', n - pos);
        size_t ll = nl ? (size_t)(nl - (b + pos)) : n - pos;
        int known = ll == 0;
        for (k = 0; k < sizeof ok / sizeof ok[0] && !known; k++)
            known = ll >= strlen(ok[k]) && memcmp(b + pos, ok[k], strlen(ok[k])) == 0;
        if (!known)
            return "conn: unknown line in a stream body";
        pos += ll + 1;
    }
    return NULL;
}

static int is_stream(const char *head, size_t head_len)
{
    const char *ct = header(head, head_len, "Content-Type");
    return ct && strncmp(ct, "text/event-stream\r", 18) == 0;
}

/* Some prefix of d[0..n) is refused with @p status. The server answers
 * the first prefix it happens to see refused, and a malformed request line
 * that is also too long is 400 while short, 414 once past the limit: both
 * are right. Only run on a mismatch (quadratic). */
static int prefix_refused_with(const uint8_t *d, size_t n, int status)
{
    sse_http_req_t rq;
    size_t k;
    for (k = 1; k <= n; k++) {
        int rc = sse_http_parse((const char *)d, k, &rq, FZ_MAX_LINE, FZ_MAX_HDRS);
        if ((rc == SSE_ERR_INVALID || rc == SSE_ERR_TOO_LARGE) && rq.status == status)
            return 1;
    }
    return 0;
}

/* The answer as a whole: status line, CRLF head, body as announced. */
static const char *next_answer_ok(const answer_t *rest, const uint8_t *d, size_t n);

/* The answer to the request at d (n bytes sent, the first got parsed into
 * rq with parse_rc), and to what followed when it kept the connection. */
static const char *answer_ok(const answer_t *a, int parse_rc, const sse_http_req_t *rq,
                             const uint8_t *d, size_t got, size_t n)
{
    const char *end, *cl, *b;
    size_t head_len, body_len, i;
    int status;
    answer_t view;
    sse_str_t expect;

    /* POST /publish answers "100 Continue" first when asked (Expect): the
     * checks below are about the final answer after it. */
    if (a->len >= 25 && memcmp(a->buf, "HTTP/1.1 100 Continue\r\n\r\n", 25) == 0) {
        if (parse_rc <= 0 || !sse_http_header(rq, "Expect", &expect))
            return "conn: 100 Continue without an Expect";
        view = *a;
        view.buf += 25;
        view.len -= 25;
        a = &view;
    }
    if (a->len < 13 || memcmp(a->buf, "HTTP/1.1 ", 9) != 0 || a->buf[12] != ' ')
        return "conn: answer does not start with \"HTTP/1.1 NNN \"";
    for (i = 9, status = 0; i < 12; i++) {
        if (a->buf[i] < '0' || a->buf[i] > '9')
            return "conn: status is not 3 digits";
        status = status * 10 + (a->buf[i] - '0');
    }
    if (status < 100 || status > 599)
        return "conn: status out of 100..599";
    /* Refused heads get the parser's status (503 if every slot was busy). */
    if (parse_rc < 0 && status != rq->status && status != 503 &&
        !prefix_refused_with(d, got, status))
        return "conn: a refused request got another status than the parser's";
    end = find(a->buf, a->len, "\r\n\r\n");
    if (!end)
        return a->eof ? "conn: answer head never ends" : "conn: answer head incomplete";
    head_len = (size_t)(end - a->buf) + 4;
    for (i = 0; i < head_len; i++) {
        if ((a->buf[i] == '\r' && a->buf[i + 1] != '\n') ||
            (a->buf[i] == '\n' && (i == 0 || a->buf[i - 1] != '\r')))
            return "conn: bare CR or LF in the answer head";
    }
    b = a->buf + head_len;
    body_len = a->len - head_len;
    cl = header(a->buf, head_len, "Content-Length");
    if (is_stream(a->buf, head_len)) {
        if (cl)
            return "conn: a stream with a Content-Length";
        return stream_body_ok(b, body_len);
    }
    if (cl) {
        /* A HEAD answer (errors included) has no body (RFC 9110 9.3.2);
         * methods are case-sensitive, so only "HEAD" is one. */
        unsigned long want = strtoul(cl, NULL, 10);
        int head_req = parse_rc > 0 && rq->method.n == 4 && memcmp(rq->method.p, "HEAD", 4) == 0;
        /* A 201 without "Connection: close" (POST /publish on HTTP/1.1)
         * kept the connection: what follows answers the next request. */
        if (!head_req && status == 201 && body_len > want && parse_rc > 0 &&
            rq->content_length >= 0 && !header(a->buf, head_len, "Connection")) {
            answer_t rest = *a;
            size_t next = (size_t)parse_rc + (size_t)rq->content_length;
            if (next >= n)
                return "conn: an answer after a kept 201 with no request left";
            rest.buf = (char *)b + want;
            rest.len = body_len - want;
            return next_answer_ok(&rest, d + next, n - next);
        }
        if (head_req ? body_len != 0 : body_len != want)
            return head_req ? "conn: an answer to HEAD with a body"
                            : "conn: body length differs from Content-Length";
    } else if (status != 204 && status != 304) {
        return "conn: an answer without Content-Length that is no stream";
    }
    return NULL;
}

/* Now and then an event from the input, so replays carry varied frames. */
static void publish_some(const uint8_t *d, size_t n)
{
    int ch = (int)(execs % 4) - 1;
    if (execs % 8 == 0)
        (void)sse_publish(ch, n && d[0] & 1 ? "fz" : NULL, (const char *)d, n < 200 ? n : 200,
                          NULL);
    /* A slot the server never uses names no stream. */
    if (sse_send_to(0x12340000u | (FZ_SLOTS + 2u), NULL, "x", 1, NULL) != SSE_ERR_CLOSED)
        server_why = "conn: sse_send_to a dead id did not say CLOSED";
}

static const char *server_ok(void)
{
    sse_stats_t st;
    if (server_why)
        return server_why;
    if (sse_server_port() == 0)
        return "conn: the server stopped";
    if (sse_server_stats(&st) != SSE_OK || st.active > FZ_SLOTS || st.streams > st.active ||
        st.bad_requests < last_bad || st.oldest_id > st.last_id + 1)
        return "conn: stats insane";
    last_bad = st.bad_requests;
    return NULL;
}

/* Where the answer being read starts: past a 100 Continue and every
 * complete answer with a Content-Length before it (a kept connection
 * answers one request after another). */
static size_t current_answer(const answer_t *a)
{
    size_t at = 0;
    for (;;) {
        const char *end, *cl;
        size_t head_len, want;
        if (a->len - at >= 25 && memcmp(a->buf + at, "HTTP/1.1 100 Continue\r\n\r\n", 25) == 0) {
            at += 25;
            continue;
        }
        end = find(a->buf + at, a->len - at, "\r\n\r\n");
        if (!end)
            return at;
        head_len = (size_t)(end - (a->buf + at)) + 4;
        cl = header(a->buf + at, head_len, "Content-Length");
        if (!cl)
            return at;
        want = strtoul(cl, NULL, 10);
        if (a->len - at - head_len <= want)
            return at;
        at += head_len + want;
    }
}

/* The answer to a request that followed a kept 201 at d (n bytes). */
static const char *next_answer_ok(const answer_t *rest, const uint8_t *d, size_t n)
{
    size_t got = n < CONFIG_SSE_REQ_BUF_SIZE ? n : CONFIG_SSE_REQ_BUF_SIZE;
    sse_http_req_t rq;
    const char *why;
    char *copy = malloc(got ? got : 1);
    int rc;
    if (!copy)
        abort();
    memcpy(copy, d, got);
    rc = sse_http_parse(copy, got, &rq, FZ_MAX_LINE, FZ_MAX_HDRS);
    if (rc == SSE_ERR_INCOMPLETE && n < CONFIG_SSE_REQ_BUF_SIZE)
        why = "conn: an answer to a second request cut short by EOF";
    else
        why = answer_ok(rest, rc, &rq, d, got, n);
    free(copy);
    return why;
}

const char *fz_conn_check(const uint8_t *d, size_t n)
{
    answer_t a = { NULL, 0, 0, 0 };
    sse_http_req_t rq;
    const char *why = NULL;
    char *copy;
    size_t got = n < CONFIG_SSE_REQ_BUF_SIZE ? n : CONFIG_SSE_REQ_BUF_SIZE;
    long start, last_mark = 0;
    int fd, rc, expect_answer, marked = 0;
    size_t sent = 0;

    execs++;
    publish_some(d, n);
    /* What the server will make of it: it reads at most its buffer; a head
     * still incomplete at EOF is closed without a word, all else answered. */
    copy = malloc(got ? got : 1);
    if (!copy)
        abort();
    memcpy(copy, d, got);
    rc = sse_http_parse(copy, got, &rq, FZ_MAX_LINE, FZ_MAX_HDRS);
    expect_answer = rc != SSE_ERR_INCOMPLETE || n >= CONFIG_SSE_REQ_BUF_SIZE;

    fd = connect_lo();
    if (fd < 0) {
        why = "conn: cannot connect";
        goto out;
    }
    /* Every fourth input goes in two pieces with a pause between, so the
     * server parses a partial head first, as it does with slow clients. */
    if (execs % 4 == 0 && n > 1) {
        int one = 1;
        size_t k = 1 + (d[0] * 131u + d[n - 1]) % (n - 1);
        struct timespec pause = { 0, 1000000L };
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        if (send_all(fd, d, k))
            nanosleep(&pause, NULL);
        sent = k;
    }
    if (sent < n)
        (void)send_all(fd, d + sent, n - sent);
    shutdown(fd, SHUT_WR);

    start = mono_ms();
    while (!a.eof) {
        long now = mono_ms();
        const char *head_end, *cur;
        if (now - start > FZ_HANG_MS) {
            why = "conn: answer did not end within the bound (hang)";
            break;
        }
        if (read_some(fd, &a, FZ_MARK_MS) != 0) {
            why = "conn: answer longer than 1 MiB";
            break;
        }
        /* A live stream never ends: publish a marker until it shows up
         * (the stream may not be subscribed yet when its head arrives). */
        cur = a.len ? a.buf + current_answer(&a) : NULL;
        head_end = cur ? find(cur, a.len - (size_t)(cur - a.buf), "\r\n\r\n") : NULL;
        if (head_end && is_stream(cur, (size_t)(head_end - cur) + 4)) {
            if (find(head_end, a.len - (size_t)(head_end - a.buf), "data: fz-mark\n"))
                break;
            if (!marked || now - last_mark >= FZ_MARK_MS) {
                (void)sse_publish(SSE_CHANNEL_ALL, NULL, "fz-mark", 7, NULL);
                marked = 1;
                last_mark = now;
            }
        }
    }
    close(fd);
    if (why)
        goto out;
    if (!expect_answer) {
        if (a.len)
            why = "conn: an answer to a request cut short by EOF";
    } else if (a.len == 0) {
        why = "conn: a complete (or buffer-filling) request got no answer";
    } else {
        why = answer_ok(&a, rc, &rq, d, got, n);
    }
out:
    if (!why)
        why = server_ok();
    free(copy);
    free(a.buf);
    return why;
}
