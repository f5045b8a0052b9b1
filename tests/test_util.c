/* SPDX-License-Identifier: MIT */
/* Helpers shared by the integration suites (see test_util.h). */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <CUnit/CUnit.h>
#include "ssedge/sse.h"
#include "backend/backend.h"
#include "test_util.h"

int settle(int (*f)(void), int want, long ms)
{
    long end = now_ms() + ms;
    int v;
    while ((v = f()) != want && now_ms() < end)
        sleep_ms(10);
    return v;
}

int rd_fill(reader_t *r, long ms)
{
    struct pollfd p;
    ssize_t n;
    if (r->eof)
        return -1;
    if (r->len >= sizeof r->buf - 1)
        return 0;
    p.fd = r->fd;
    p.events = POLLIN;
    p.revents = 0;
    if (poll(&p, 1, (int)(ms < 0 ? 0 : ms)) <= 0)
        return 0;
    n = read(r->fd, r->buf + r->len, sizeof r->buf - 1 - r->len);
    if (n <= 0) {
        r->eof = 1;
        return -1;
    }
    r->len += (size_t)n;
    r->buf[r->len] = 0;
    return (int)n;
}

int rd_wait_for(reader_t *r, const char *needle, long ms)
{
    long end = now_ms() + ms;
    r->buf[r->len] = 0;
    while (!strstr(r->buf, needle)) {
        long left = end - now_ms();
        if (left <= 0 || r->eof)
            return 0;
        rd_fill(r, left);
    }
    return 1;
}

int rd_until_eof(reader_t *r, long ms)
{
    long end = now_ms() + ms;
    while (!r->eof && now_ms() < end)
        rd_fill(r, end - now_ms());
    return r->eof;
}

int take_event(reader_t *c, ev_t *ev)
{
    for (;;) {
        char *start = c->buf, *end, *line;
        char *head = strstr(c->buf, "\r\n\r\n");
        if (head && memcmp(c->buf, "HTTP/", 5) == 0) {
            size_t skip = (size_t)(head + 4 - c->buf);
            memmove(c->buf, head + 4, c->len - skip + 1);
            c->len -= skip;
            continue;
        }
        end = strstr(start, "\n\n");
        if (!end)
            return 0;
        *end = 0;
        memset(ev, 0, sizeof *ev);
        for (line = start; line && *line; ) {
            char *nl = strchr(line, '\n');
            if (nl)
                *nl = 0;
            if (strncmp(line, "event: ", 7) == 0)
                snprintf(ev->event, sizeof ev->event, "%s", line + 7);
            else if (strncmp(line, "id: ", 4) == 0) {
                ev->id = strtoull(line + 4, NULL, 10);
                ev->has_id = 1;
            } else if (strncmp(line, "data: ", 6) == 0)
                snprintf(ev->data, sizeof ev->data, "%s", line + 6);
            line = nl ? nl + 1 : NULL;
        }
        {
            size_t used = (size_t)(end + 2 - c->buf);
            memmove(c->buf, end + 2, c->len - used + 1);
            c->len -= used;
        }
        if (ev->has_id || ev->data[0])
            return 1;
    }
}

int next_event(reader_t *c, ev_t *ev, long ms)
{
    long end = now_ms() + ms;
    while (!take_event(c, ev)) {
        long left = end - now_ms();
        if (left <= 0 || c->eof)
            return 0;
        rd_fill(c, left);
    }
    return 1;
}

/* ---- clients of the server under test -------------------------------------- */

/* A socket address for a numeric ip (v4 or v6) and port. */
static socklen_t make_addr(const char *ip, uint16_t port, struct sockaddr_storage *ss)
{
    memset(ss, 0, sizeof *ss);
    if (strchr(ip, ':')) {
        struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)ss;
        a6->sin6_family = AF_INET6;
        a6->sin6_port = htons(port);
        inet_pton(AF_INET6, ip, &a6->sin6_addr);
        return sizeof *a6;
    } else {
        struct sockaddr_in *a = (struct sockaddr_in *)ss;
        a->sin_family = AF_INET;
        a->sin_port = htons(port);
        inet_pton(AF_INET, ip, &a->sin_addr);
        return sizeof *a;
    }
}

int connect_fd(int fd, const char *ip, uint16_t port)
{
    struct sockaddr_storage ss;
    socklen_t len = make_addr(ip, port, &ss);
    if (fd < 0)
        fd = socket(ss.ss_family, SOCK_STREAM, 0);
    if (fd >= 0 && connect(fd, (struct sockaddr *)&ss, len) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

int tcp_connect_to(const char *ip, uint16_t port)
{
    return connect_fd(-1, ip, port);
}

int server_connect(void)
{
    return tcp_connect_to(tb_client_addr(), sse_server_port());
}

int send_str(int fd, const char *s)
{
    size_t n = strlen(s);
    return send(fd, s, n, MSG_NOSIGNAL) == (ssize_t)n ? 0 : -1;
}

reader_t *client_open(const char *request)
{
    reader_t *c = calloc(1, sizeof *c);
    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    c->fd = server_connect();
    CU_ASSERT_FATAL(c->fd >= 0);
    if (request)
        CU_ASSERT(send_str(c->fd, request) == 0);
    return c;
}

void client_close(reader_t *c)
{
    if (c) {
        close(c->fd);
        free(c);
    }
}

reader_t *stream_open_with(const char *request)
{
    reader_t *c = client_open(request);
    CU_ASSERT(rd_wait_for(c, "\r\n\r\n", 2000));
    return c;
}

reader_t *stream_open(const char *path)
{
    char req[256];
    snprintf(req, sizeof req, STREAM_REQ("%s"), path);
    return stream_open_with(req);
}

/* ---- the server under test ------------------------------------------------- */

void server_cfg(sse_server_cfg_t *cfg, const sse_route_t *routes, unsigned n)
{
    sse_server_cfg_init(cfg);
    cfg->bind_addr = tb_bind_addr();
    cfg->port = 0;
    cfg->routes = routes;
    cfg->num_routes = n;
    cfg->max_connections = 8;
    cfg->idle_check_ms = 50;
    cfg->heartbeat_ms = 0;
    cfg->retry_ms = 1500;
}

void start_with(const sse_server_cfg_t *cfg)
{
    CU_ASSERT_EQUAL_FATAL(sse_server_start(cfg), SSE_OK);
    CU_ASSERT_FATAL(sse_server_port() != 0);
}

sse_stats_t stats_now(void)
{
    sse_stats_t st;
    sse_server_stats(&st);
    return st;
}

int active_i(void)  { return (int)stats_now().active; }
int streams_i(void) { return (int)stats_now().streams; }

unsigned publish_until_handed_back(char fill, uint64_t *ids, unsigned max, uint64_t slow0,
                                   void (*each)(void *arg), void *arg)
{
    char data[400];
    unsigned k = 0, extra = 0;
    memset(data, fill, sizeof data);
    while (k < max && extra < 20) {
        CU_ASSERT_EQUAL_FATAL(sse_publish(SSE_CHANNEL_ALL, NULL, data, sizeof data, &ids[k]),
                              SSE_OK);
        k++;
        if (stats_now().slow_sends > slow0)
            extra++;
        if (each)
            each(arg);
        if (k % 4 == 0)
            sleep_ms(1);
    }
    CU_ASSERT(stats_now().slow_sends > slow0);
    return k;
}

/* on_open runs on the streams' threads. The last OPENED_MAX ids are kept,
 * opened_[i % OPENED_MAX] the i-th. */
static pthread_mutex_t opened_lock = PTHREAD_MUTEX_INITIALIZER;
static sse_conn_id_t opened_[OPENED_MAX];
static unsigned nopened;

void opened_record(sse_conn_id_t conn, const sse_request_t *req, void *user)
{
    (void)req;
    (void)user;
    pthread_mutex_lock(&opened_lock);
    opened_[nopened++ % OPENED_MAX] = conn;
    pthread_mutex_unlock(&opened_lock);
}

void opened_reset(void)
{
    pthread_mutex_lock(&opened_lock);
    nopened = 0;
    pthread_mutex_unlock(&opened_lock);
}

unsigned opened_n(void)
{
    unsigned n;
    pthread_mutex_lock(&opened_lock);
    n = nopened;
    pthread_mutex_unlock(&opened_lock);
    return n;
}

sse_conn_id_t opened_id(unsigned i)
{
    sse_conn_id_t id = 0;
    pthread_mutex_lock(&opened_lock);
    if (i < nopened && nopened - i <= OPENED_MAX)
        id = opened_[i % OPENED_MAX];
    pthread_mutex_unlock(&opened_lock);
    return id;
}
