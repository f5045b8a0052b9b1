/* SPDX-License-Identifier: MIT */
/* Client helpers for the attack suite and the soak (see attack_util.h). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include "attack_util.h"

/* A TCP socket to 127.0.0.1:port (type: extra SOCK_ flags; tv: a bound on
 * a blocking connect). fd or -1; a non-blocking connect may still be in
 * progress. A blocking one that timed out says EINPROGRESS too: a failure. */
static int connect_loopback(unsigned port, int type, const struct timeval *tv)
{
    struct sockaddr_in a;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | type, 0);
    if (fd < 0)
        return -1;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    /* SO_SNDTIMEO bounds connect() too on Linux. */
    if (tv)
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, tv, sizeof *tv);
    if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0 &&
        !((type & SOCK_NONBLOCK) && errno == EINPROGRESS)) {
        close(fd);
        return -1;
    }
    return fd;
}

int au_connect(unsigned port)
{
    static const struct timeval two_s = { 2, 0 };
    return connect_loopback(port, 0, &two_s);
}

int au_connect_nb(unsigned port)
{
    return connect_loopback(port, SOCK_NONBLOCK, NULL);
}

int au_send_all(int fd, const void *buf, size_t len, long ms)
{
    const char *p = buf;
    long end = now_ms() + ms;
    while (len > 0) {
        struct pollfd pf = { fd, POLLOUT, 0 };
        ssize_t n;
        long left = end - now_ms();
        if (left <= 0 || poll(&pf, 1, (int)left) <= 0)
            return -1;
        n = send(fd, p, len, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n < 0 && (errno == EINTR || errno == EAGAIN))
            continue;
        if (n <= 0)
            return -1;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

void au_close_rst(int fd)
{
    struct linger lg = { 1, 0 };
    setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
    close(fd);
}

static int head_complete(const au_resp_t *r)
{
    return strstr(r->buf, "\r\n\r\n") != NULL;
}

void au_read_resp(int fd, au_resp_t *r, long ms, int stop_at_head)
{
    long start = now_ms(), end = start + ms;
    r->status = 0;
    r->closed = r->reset = r->timed_out = 0;
    r->len = 0;
    r->buf[0] = 0;
    for (;;) {
        struct pollfd pf = { fd, POLLIN, 0 };
        long left = end - now_ms();
        ssize_t n;
        if (left <= 0) {
            r->timed_out = 1;
            break;
        }
        if (poll(&pf, 1, (int)left) <= 0)
            continue;
        if (r->len < sizeof r->buf - 1) {
            n = recv(fd, r->buf + r->len, sizeof r->buf - 1 - r->len, 0);
        } else {
            char sink[4096]; /* keep reading to see the close */
            n = recv(fd, sink, sizeof sink, 0);
            if (n > 0)
                continue;
        }
        if (n == 0) {
            r->closed = 1;
            break;
        }
        if (n < 0) {
            if (errno == EINTR || errno == EAGAIN)
                continue;
            r->reset = errno == ECONNRESET;
            r->closed = 1;
            break;
        }
        r->len += (size_t)n;
        r->buf[r->len] = 0;
        if (stop_at_head && head_complete(r))
            break;
    }
    r->ms = now_ms() - start;
    if (r->len >= 12 && memcmp(r->buf, "HTTP/1.1 ", 9) == 0 &&
        r->buf[9] >= '1' && r->buf[9] <= '5')
        r->status = atoi(r->buf + 9);
}

int au_exchange(unsigned port, const void *req, size_t len, int half_close,
                long ms, int stop_at_head, au_resp_t *r)
{
    int fd = au_connect(port);
    if (fd < 0)
        return -1;
    /* A send may fail once the server has answered and closed early (a bad
     * request line): what it answered is still there to read. */
    (void)au_send_all(fd, req, len, ms);
    if (half_close)
        shutdown(fd, SHUT_WR);
    au_read_resp(fd, r, ms, stop_at_head);
    close(fd);
    return 0;
}

int au_has_header(const au_resp_t *r, const char *prefix)
{
    const char *p = r->buf, *end = strstr(r->buf, "\r\n\r\n");
    size_t n = strlen(prefix);
    if (!end)
        end = r->buf + r->len;
    while ((p = strstr(p, "\r\n")) != NULL && p < end) {
        p += 2;
        if (strncasecmp(p, prefix, n) == 0)
            return 1;
    }
    return 0;
}

void au_sse_init(au_sse_t *s, int fd, uint64_t last_id)
{
    memset(s, 0, sizeof *s);
    s->fd = fd;
    s->last_id = last_id;
}

/* Account the complete lines in s->buf; keep a partial last line. */
static void sse_lines(au_sse_t *s)
{
    char *p = s->buf, *end = s->buf + s->len, *nl;
    if (!s->head_done) {
        char *h = strstr(s->buf, "\r\n\r\n");
        if (!h)
            return;
        if (memcmp(s->buf, "HTTP/1.1 ", 9) == 0)
            s->status = atoi(s->buf + 9);
        s->head_done = 1;
        p = h + 4;
    }
    while ((nl = memchr(p, '\n', (size_t)(end - p))) != NULL) {
        *nl = 0;
        if (strncmp(p, "id: ", 4) == 0) {
            uint64_t id = strtoull(p + 4, NULL, 10);
            if (s->events == 0)
                s->first_id = id;
            if (s->last_id != 0) {
                if (id <= s->last_id)
                    s->dups++;
                else
                    s->gaps += id - s->last_id - 1;
            }
            if (id > s->last_id)
                s->last_id = id;
            s->events++;
        } else if (strncmp(p, "retry: ", 7) == 0) {
            s->saw_retry = 1;
            s->retry_ms = strtol(p + 7, NULL, 10);
        } else if (strncmp(p, "data: ", 6) == 0) {
            /* sse_attack_server's data starts with a sequence number that
             * moves with the id: a mismatch is a torn or misplaced event. */
            if (strtoull(p + 6, NULL, 10) != s->last_id)
                s->bad_data++;
        }
        p = nl + 1;
    }
    s->len = (size_t)(end - p);
    memmove(s->buf, p, s->len);
    s->buf[s->len] = 0;
}

int au_sse_poll(au_sse_t *s, long ms)
{
    struct pollfd pf = { s->fd, POLLIN, 0 };
    ssize_t n;
    if (s->eof)
        return -1;
    if (poll(&pf, 1, (int)(ms < 0 ? 0 : ms)) <= 0)
        return 0;
    if (s->len >= sizeof s->buf - 1) { /* a line longer than the buffer */
        s->len = 0;
    }
    {
        size_t room = sizeof s->buf - 1 - s->len;
        if (s->chunk && room > s->chunk)
            room = s->chunk;
        n = recv(s->fd, s->buf + s->len, room, MSG_DONTWAIT);
    }
    if (n < 0 && (errno == EAGAIN || errno == EINTR))
        return 0;
    if (n <= 0) {
        s->eof = 1;
        return -1;
    }
    s->len += (size_t)n;
    s->buf[s->len] = 0;
    sse_lines(s);
    return (int)n;
}

/* ---- the server as a child ------------------------------------------------ */

/* One line from the child's stdout, at most ms. 0 or -1. */
static int srv_line(au_srv_t *s, long ms)
{
    size_t n = 0;
    long end = now_ms() + ms;
    for (;;) {
        struct pollfd pf = { s->out, POLLIN, 0 };
        long left = end - now_ms();
        char ch;
        if (left <= 0 || poll(&pf, 1, (int)left) <= 0)
            return -1;
        if (read(s->out, &ch, 1) != 1)
            return -1;
        if (ch == '\n')
            break;
        if (n < sizeof s->line - 1)
            s->line[n++] = ch;
    }
    s->line[n] = 0;
    return 0;
}

int au_srv_start(au_srv_t *s, const char *prog, const au_opt_t *opts, size_t n,
                 const char *log)
{
    char values[AU_MAX_OPTS][24];
    char *argv[2 * AU_MAX_OPTS + 2];
    int in[2], out[2];
    size_t k;
    memset(s, 0, sizeof *s);
    if (n > AU_MAX_OPTS || pthread_mutex_init(&s->lock, NULL) != 0)
        return -1;
    argv[0] = (char *)prog;
    for (k = 0; k < n; k++) {
        snprintf(values[k], sizeof values[k], "%ld", opts[k].value);
        argv[1 + 2 * k] = (char *)opts[k].name;
        argv[2 + 2 * k] = values[k];
    }
    argv[1 + 2 * n] = NULL;
    if (pipe2(in, O_CLOEXEC) != 0)
        return -1;
    if (pipe2(out, O_CLOEXEC) != 0) {
        close(in[0]);
        close(in[1]);
        return -1;
    }
    s->pid = fork();
    if (s->pid < 0)
        return -1;
    if (s->pid == 0) {
        dup2(in[0], 0);
        dup2(out[1], 1);
        if (log) {
            int fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0644);
            if (fd >= 0)
                dup2(fd, 2);
        }
        execv(argv[0], argv);
        _exit(127);
    }
    close(in[0]);
    close(out[1]);
    s->in = in[1];
    s->out = out[0];
    if (srv_line(s, 5000) != 0 || strncmp(s->line, "ready port=", 11) != 0)
        return -1;
    s->port = (unsigned)atoi(s->line + 11);
    return 0;
}

const char *au_srv_cmd(au_srv_t *s, const char *fmt, ...)
{
    char cmd[256];
    va_list ap;
    int n;
    va_start(ap, fmt);
    n = vsnprintf(cmd, sizeof cmd - 1, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof cmd - 1)
        return NULL;
    cmd[n++] = '\n';
    if (write(s->in, cmd, (size_t)n) != n || srv_line(s, 10000) != 0)
        return NULL;
    return s->line;
}

long long au_srv_get(au_srv_t *s, const char *cmd, const char *key)
{
    long long v;
    pthread_mutex_lock(&s->lock);
    v = au_kv(au_srv_cmd(s, "%s", cmd), key);
    pthread_mutex_unlock(&s->lock);
    return v;
}

long long au_kv(const char *line, const char *key)
{
    size_t n = strlen(key);
    const char *p = line;
    if (!line)
        return -1;
    while ((p = strstr(p, key)) != NULL) {
        if ((p == line || p[-1] == ' ') && p[n] == '=')
            return strtoll(p + n + 1, NULL, 10);
        p += n;
    }
    return -1;
}

int au_srv_stop(au_srv_t *s)
{
    int st = 0, i;
    if (s->pid <= 0)
        return -1;
    if (write(s->in, "quit\n", 5) != 5)
        kill(s->pid, SIGTERM);
    for (i = 0; i < 100; i++) { /* 5 s */
        if (waitpid(s->pid, &st, WNOHANG) == s->pid)
            break;
        sleep_ms(50);
    }
    if (i == 100) {
        kill(s->pid, SIGKILL);
        waitpid(s->pid, &st, 0);
        st = -1;
    }
    close(s->in);
    close(s->out);
    pthread_mutex_destroy(&s->lock);
    s->pid = 0;
    return st < 0 ? -1 : (WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st));
}

int au_passed, au_failed;

int au_check(int cond, const char *fmt, ...)
{
    va_list ap;
    fputs(cond ? "ok - " : "FAIL - ", stdout);
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    putchar('\n');
    fflush(stdout);
    if (cond)
        au_passed++;
    else
        au_failed++;
    return cond;
}
