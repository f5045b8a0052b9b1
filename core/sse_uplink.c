/* SPDX-License-Identifier: MIT */
/* The uplink: one thread that POSTs published events to an HTTP hub over a
 * keep-alive connection, from a cursor in the ring that moves only on the
 * hub's 2xx (store and forward), with back-off, loss and duplicate counts. */
#include <stdio.h>
#include <string.h>
#include "sse_opt.h"
#include "sse_port.h"
#include "sse_atomic.h"
#include "sse_log.h"
#include "sse_tls.h"
#include "sse_srv.h"
#include "sse_uplink_int.h"
#include "ssedge/sse_uplink.h"

void sse_uplink_cfg_init(sse_uplink_cfg_t *cfg)
{
    memset(cfg, 0, sizeof *cfg);
}

#if defined(CONFIG_SSE_UPLINK)

enum { U_OFF = 0, U_TRYING = 1, U_CONNECTED = 2 };

#define HOST_MAX 256 /* a DNS name is at most 253 characters */

static struct {
    sse_port_mutex_t lock;      /* start/stop, the cursor and acked id */
    sse_port_cond_t  done;      /* the thread finished */
    sse_port_evt_t   bell;      /* the thread waits here for events or stop */
    int              inited;
    int              running;   /* atomic: the thread should go on */
    int              alive;     /* the thread has not finished */
    /* Settings (strings kept by pointer, see sse_uplink_start()). */
    char             host[HOST_MAX];
    uint16_t         port;
    int              https;
    const char      *path;      /* of events for every stream */
    const char      *token, *header;
    sse_uplink_route_t routes[CONFIG_SSE_UPLINK_ROUTES];
    unsigned         num_routes;
    uint32_t         mask;      /* the routes' channels */
    /* Progress (lock). */
    uint64_t         cursor;    /* next id to look at */
    int              have_cursor;
    uint64_t         acked_id;
    /* Figures (atomics). */
    int              state;
    unsigned long    sent, retries, lost, dups;
    uint32_t         acked;     /* atomic: for sse_uplink_order_reads */
    /* The connection (the thread's own). */
    sse_port_sock_t  sock;
    sse_tls_client_t tls_cfg;
    sse_tls_conn_t   tls;
    char             ev[CONFIG_SSE_MAX_EVENT_BYTES]; /* one event out of the ring */
    char             buf[CONFIG_SSE_UPLINK_BUF_SIZE]; /* a request, then its answer */
} U;

static int stopping(void)
{
    return !sse_load_acq(&U.running);
}

/* ---- the hub's URL ----------------------------------------------------------- */

/* "http[s]://HOST[:PORT]/PATH": host copied, path kept by pointer. */
static int parse_url(const char *url)
{
    const char *h, *e, *colon = NULL;
    size_t n;
    unsigned long port = 0;
    if (!url)
        return SSE_ERR_ARG;
    if (strncmp(url, "http://", 7) == 0) {
        U.https = 0;
        h = url + 7;
    } else if (strncmp(url, "https://", 8) == 0) {
        U.https = 1;
        h = url + 8;
    } else {
        return SSE_ERR_ARG;
    }
    if (*h == '[') { /* [IPv6] */
        e = strchr(h, ']');
        if (!e)
            return SSE_ERR_ARG;
        n = (size_t)(e - h - 1);
        if (n == 0 || n >= sizeof U.host)
            return SSE_ERR_ARG;
        memcpy(U.host, h + 1, n);
        e++;
        colon = *e == ':' ? e : NULL;
    } else {
        for (e = h; *e && *e != '/' && *e != ':'; e++)
            ;
        n = (size_t)(e - h);
        if (n == 0 || n >= sizeof U.host)
            return SSE_ERR_ARG;
        memcpy(U.host, h, n);
        colon = *e == ':' ? e : NULL;
    }
    U.host[n] = 0;
    if (colon) {
        for (e = colon + 1; *e >= '0' && *e <= '9' && port <= 65535; e++)
            port = port * 10 + (unsigned long)(*e - '0');
        if (e == colon + 1 || port == 0 || port > 65535)
            return SSE_ERR_ARG;
    }
    if (*e != '/' && *e != 0)
        return SSE_ERR_ARG;
    U.port = (uint16_t)(port ? port : U.https ? 443 : 80);
    U.path = *e ? e : "/";
    for (; *e; e++)
        if ((unsigned char)*e <= ' ' || *e == 0x7f)
            return SSE_ERR_ARG; /* would break the request line */
    return SSE_OK;
}

/* A header value we put on the wire: no line break may smuggle another. */
static int line_ok(const char *s)
{
    for (; s && *s; s++)
        if (*s == '\r' || *s == '\n')
            return 0;
    return 1;
}

/* ---- one event, as a POST --------------------------------------------------------- */

/* The request for the encoded event @p ev (n bytes: "event:", "id:", "data:"
 * lines) into U.buf: the data lines joined by "\n" are the body (what nchan
 * hands its subscribers as data). @return its length, or -1 if it does not
 * fit. */
static int build_request(const char *ev, int n, uint8_t channel)
{
    const char *name = "message", *path = U.path, *p, *end = ev + n;
    size_t name_len = 7, body = 0, lines = 0, at;
    unsigned i;
    int r, v6 = strchr(U.host, ':') != NULL;
    for (i = 0; channel != SSE_RING_ALL && i < U.num_routes; i++)
        if (U.routes[i].channel == channel)
            path = U.routes[i].path;
    for (p = ev; p < end;) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t len = nl ? (size_t)(nl - p) : (size_t)(end - p);
        if (len > 7 && memcmp(p, "event: ", 7) == 0) {
            name = p + 7;
            name_len = len - 7;
        } else if (len >= 6 && memcmp(p, "data: ", 6) == 0) {
            body += len - 6;
            lines++;
        }
        p += len + 1;
    }
    body += lines ? lines - 1 : 0;
    r = snprintf(U.buf, sizeof U.buf,
                 "POST %s HTTP/1.1\r\nHost: %s%s%s:%u\r\n"
                 "Content-Type: text/plain; charset=utf-8\r\nContent-Length: %lu\r\n"
                 "X-EventSource-Event: %.*s\r\n%s%s%s%s%s\r\n",
                 path, v6 ? "[" : "", U.host, v6 ? "]" : "", (unsigned)U.port,
                 (unsigned long)body, (int)name_len, name,
                 U.token ? "Authorization: Bearer " : "", U.token ? U.token : "",
                 U.token ? "\r\n" : "", U.header ? U.header : "", U.header ? "\r\n" : "");
    if (r <= 0 || (size_t)r + body > sizeof U.buf)
        return -1;
    at = (size_t)r;
    for (p = ev, lines = 0; p < end;) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t len = nl ? (size_t)(nl - p) : (size_t)(end - p);
        if (len >= 6 && memcmp(p, "data: ", 6) == 0) {
            if (lines++)
                U.buf[at++] = '\n';
            memcpy(U.buf + at, p + 6, len - 6);
            at += len - 6;
        }
        p += len + 1;
    }
    return (int)at;
}

static int io_send(const void *buf, size_t len)
{
    return sse_io_send(&U.sock, U.https ? &U.tls : NULL, buf, len,
                       CONFIG_SSE_UPLINK_ANSWER_TIMEOUT_MS);
}

static int io_recv(void *buf, size_t len, uint32_t timeout_ms)
{
    return sse_io_recv(&U.sock, U.https ? &U.tls : NULL, buf, len, timeout_ms);
}

/* Case-insensitive "Name:" at the start of a header line. */
static int is_header(const char *line, const char *name)
{
    size_t i, n = strlen(name);
    for (i = 0; i < n; i++) {
        char c = line[i];
        if (c >= 'A' && c <= 'Z')
            c = (char)(c - 'A' + 'a');
        if (c != name[i])
            return 0;
    }
    return line[n] == ':';
}

static unsigned long header_num(const char *line)
{
    unsigned long v = 0;
    line = strchr(line, ':') + 1;
    while (*line == ' ' || *line == '\t')
        line++;
    while (*line >= '0' && *line <= '9')
        v = v * 10 + (unsigned long)(*line++ - '0');
    return v;
}

/* Receive up to @p max bytes into U.buf + @p at, within the answer's time
 * counted from @p start. @return bytes read (> 0), or an sse_err_t. */
static int recv_by(size_t at, size_t max, uint32_t start)
{
    uint32_t spent = sse_port_now_ms() - start;
    int r;
    if (spent >= CONFIG_SSE_UPLINK_ANSWER_TIMEOUT_MS)
        return SSE_ERR_TIMEOUT;
    r = io_recv(U.buf + at, max, CONFIG_SSE_UPLINK_ANSWER_TIMEOUT_MS - spent);
    return r == 0 ? SSE_ERR_CLOSED : r;
}

/* Read and skip @p n bytes of body; @p have already read. */
static int skip_body(unsigned long n, size_t have, uint32_t start)
{
    while (have < n) {
        int r = recv_by(0, n - have < sizeof U.buf ? n - have : sizeof U.buf, start);
        if (r < 0)
            return r;
        have += (size_t)r;
    }
    return SSE_OK;
}

/* The hub's answer to one POST: its status, the body skipped (a
 * Content-Length, or chunks), *keep 0 when the hub closes after it.
 * @return the status (100..599), or an sse_err_t. */
static int read_answer(int *keep)
{
    uint32_t start = sse_port_now_ms();
    size_t len = 0, head = 0;
    unsigned long clen = 0;
    int status = 0, chunked = 0;
    char *line;
    *keep = 1;
    for (;;) {
        char *e;
        int r;
        if (len == sizeof U.buf - 1)
            return SSE_ERR_TOO_LARGE;
        if ((r = recv_by(len, sizeof U.buf - 1 - len, start)) < 0)
            return r;
        len += (size_t)r;
        U.buf[len] = 0;
        if ((e = strstr(U.buf, "\r\n\r\n")) != NULL) {
            head = (size_t)(e - U.buf) + 4;
            break;
        }
    }
    if (sscanf(U.buf, "HTTP/1.%*d %d", &status) != 1 || status < 100 || status > 599)
        return SSE_ERR_INVALID;
    for (line = strstr(U.buf, "\r\n") + 2; line < U.buf + head - 2;
         line = strstr(line, "\r\n") + 2) {
        if (is_header(line, "content-length"))
            clen = header_num(line);
        else if (is_header(line, "transfer-encoding"))
            chunked = strstr(line, "chunked") != NULL && strstr(line, "chunked") < strstr(line, "\r\n");
        else if (is_header(line, "connection") && strstr(line, "close") &&
                 strstr(line, "close") < strstr(line, "\r\n"))
            *keep = 0;
    }
    if (chunked) {
        /* Small answers only: read until the last chunk's "0\r\n\r\n". */
        len -= head;
        memmove(U.buf, U.buf + head, len);
        U.buf[len] = 0;
        while (!strstr(U.buf, "0\r\n\r\n")) {
            int r;
            if (len >= sizeof U.buf - 1) { /* keep the tail: the end marker may straddle */
                memmove(U.buf, U.buf + len - 8, 8);
                len = 8;
            }
            if ((r = recv_by(len, sizeof U.buf - 1 - len, start)) < 0)
                return r;
            len += (size_t)r;
            U.buf[len] = 0;
        }
    } else if (status >= 200 && status != 204 && status != 304) {
        int r = skip_body(clen, len - head, start);
        if (r != SSE_OK)
            return r;
    }
    return status;
}

/* ---- the connection ------------------------------------------------------------ */

static void disconnect(void)
{
    if (U.https)
        sse_tls_end(&U.tls);
    sse_port_close(&U.sock);
    sse_store_rlx(&U.state, U_TRYING);
}

static int connect_hub(void)
{
    int r = sse_port_connect(&U.sock, U.host, U.port, CONFIG_SSE_UPLINK_CONNECT_TIMEOUT_MS);
    if (r == SSE_OK && U.https &&
        (r = sse_tls_client_handshake(&U.tls_cfg, &U.tls, &U.sock, U.host,
                                      CONFIG_SSE_UPLINK_CONNECT_TIMEOUT_MS)) != SSE_OK) {
        sse_tls_end(&U.tls);
        sse_port_close(&U.sock);
    }
    return r;
}

/* Has the hub closed an idle keep-alive connection? Then the next request
 * would be lost in a closing socket: reconnect first, and count nothing. */
static int hub_closed(void)
{
    char c;
    int r = io_recv(&c, 1, 0);
    return r != SSE_ERR_TIMEOUT;
}

/* Sleep @p ms, or less if stopped. */
static void nap(uint32_t ms)
{
    uint32_t start = sse_port_now_ms();
    while (!stopping()) {
        uint32_t seen = sse_port_evt_seq(&U.bell), spent = sse_port_now_ms() - start;
        if (spent >= ms)
            return;
        sse_port_evt_wait(&U.bell, seen, 1, ms - spent);
    }
}

static uint32_t next_backoff(uint32_t b)
{
    b = b ? b * 2 : CONFIG_SSE_UPLINK_BACKOFF_MIN_MS;
    return b > CONFIG_SSE_UPLINK_BACKOFF_MAX_MS ? CONFIG_SSE_UPLINK_BACKOFF_MAX_MS : b;
}

/* A failed connect or request, in words for the log. */
static const char *why(int r)
{
    switch (r) {
    case SSE_ERR_CLOSED:    return "refused or closed";
    case SSE_ERR_TIMEOUT:   return "no answer in time";
    case SSE_ERR_INVALID:   return "not HTTP, or its certificate refused";
    case SSE_ERR_IO:        return "connection reset or network error";
    case SSE_ERR_TOO_LARGE: return "answer head larger than CONFIG_SSE_UPLINK_BUF_SIZE";
    case SSE_ERR_NOMEM:     return "no socket free";
    case SSE_ERR_ARG:       return "address not usable (the line before says why)";
    default:                return sse_strerror(r);
    }
}

static void uplink_thread(void *unused)
{
    uint32_t backoff = 0;
    int resend = 0, said = 0; /* said: the last trouble was logged */
    (void)unused;
    while (!stopping()) {
        uint64_t cur, id = 0;
        uint8_t ch = 0;
        uint32_t seen;
        int n, r, keep = 1, status;

        if (backoff)
            nap(backoff);
        if (stopping())
            break;
        if (!sse_port_sock_valid(&U.sock)) {
            sse_store_rlx(&U.state, U_TRYING);
            if ((r = connect_hub()) != SSE_OK) {
                sse_count(&U.retries);
                backoff = next_backoff(backoff);
                if (!said++)
                    SSE_LOG(SSE_LOG_WARN, "uplink: hub %s port %u: %s; retrying every %u ms at most",
                            U.host, (unsigned)U.port, why(r), CONFIG_SSE_UPLINK_BACKOFF_MAX_MS);
                continue;
            }
            sse_store_rlx(&U.state, U_CONNECTED);
            SSE_LOG(SSE_LOG_INFO, "uplink: connected to hub %s port %u%s", U.host,
                    (unsigned)U.port, U.https ? " (https)" : "");
        }

        /* The next event, or wait for one. */
        seen = sse_port_evt_seq(&U.bell);
        sse_port_mutex_lock(&U.lock);
        cur = U.cursor;
        sse_port_mutex_unlock(&U.lock);
        n = sse_ring_next(&S.ring, &cur, 1, U.mask, U.ev, sizeof U.ev, &id, &ch);
        sse_store_rel(&U.acked, (uint32_t)cur); /* see sse_uplink_order_reads */
        if (n == SSE_ERR_CLOSED) {
            uint64_t oldest;
            sse_port_mutex_lock(&S.lock);
            oldest = S.ring.tail_id;
            sse_port_mutex_unlock(&S.lock);
            sse_port_mutex_lock(&U.lock);
            SSE_LOG(SSE_LOG_WARN, "uplink: %llu events lost (ids %llu..%llu): the ring "
                    "overwrote them before the hub took them",
                    (unsigned long long)(oldest - U.cursor), (unsigned long long)U.cursor,
                    (unsigned long long)(oldest - 1));
            U.lost += (unsigned long)(oldest - U.cursor);
            U.cursor = oldest;
            resend = 0;
            sse_port_mutex_unlock(&U.lock);
            continue;
        }
        if (n <= 0) {
            sse_port_mutex_lock(&U.lock);
            U.cursor = cur; /* past events for one connection or other channels */
            sse_port_mutex_unlock(&U.lock);
            backoff = 0;
            sse_port_evt_wait(&U.bell, seen, 1, CONFIG_SSE_ACCEPT_POLL_MS);
            continue;
        }

        /* POST it; the cursor moves past it only on a 2xx. */
        r = build_request(U.ev, n, ch);
        if (r < 0) {
            SSE_LOG(SSE_LOG_ERR, "uplink: event %llu with its POST head (path, token, header) "
                    "does not fit CONFIG_SSE_UPLINK_BUF_SIZE (%d): not forwarded",
                    (unsigned long long)id, CONFIG_SSE_UPLINK_BUF_SIZE);
            sse_port_mutex_lock(&U.lock);
            U.lost++;
            U.cursor = cur;
            sse_port_mutex_unlock(&U.lock);
            continue;
        }
        if (!resend && hub_closed()) {
            disconnect();
            continue;
        }
        r = io_send(U.buf, (size_t)r);
        status = r == SSE_OK ? read_answer(&keep) : r;
        if (status < 0) {
            /* The request may have reached the hub: sent again, a possible
             * duplicate. */
            sse_count(&U.retries);
            resend = 1;
            disconnect();
            backoff = next_backoff(backoff);
            if (!said++)
                SSE_LOG(SSE_LOG_WARN, "uplink: hub %s port %u: %s; event %llu goes again",
                        U.host, (unsigned)U.port, why(status), (unsigned long long)id);
            continue;
        }
        if (status >= 200 && status < 300) {
            sse_port_mutex_lock(&U.lock);
            U.cursor = cur;
            U.acked_id = id;
            sse_port_mutex_unlock(&U.lock);
            sse_count(&U.sent);
            if (resend)
                sse_count(&U.dups);
            if (said)
                SSE_LOG(SSE_LOG_INFO, "uplink: the hub takes events again (from %llu)",
                        (unsigned long long)id);
            resend = said = 0;
            backoff = 0;
        } else if (status == 400 || status == 413) {
            /* The hub will never take this one: say so, count it, go on. */
            SSE_LOG(SSE_LOG_WARN, "uplink: hub refused event %llu for good: %d", (unsigned long long)id,
                    status);
            sse_port_mutex_lock(&U.lock);
            U.cursor = cur;
            U.lost++;
            sse_port_mutex_unlock(&U.lock);
            resend = 0;
        } else {
            sse_count(&U.retries);
            backoff = next_backoff(backoff);
            resend = 0;
            if (!said++)
                SSE_LOG(SSE_LOG_WARN, "uplink: hub answered %d to event %llu; retrying", status,
                        (unsigned long long)id);
        }
        if (!keep)
            disconnect();
    }
    if (sse_port_sock_valid(&U.sock))
        disconnect();
    sse_store_rlx(&U.state, U_OFF);
    sse_port_mutex_lock(&U.lock);
    U.alive = 0;
    sse_port_cond_broadcast(&U.done);
    sse_port_mutex_unlock(&U.lock);
}

/* ---- public ---------------------------------------------------------------------- */

#define BAD(...) do { SSE_LOG(SSE_LOG_ERR, "uplink: " __VA_ARGS__); return SSE_ERR_ARG; } while (0)

int sse_uplink_start(const sse_uplink_cfg_t *cfg)
{
    unsigned i;
    int r;
    if (!cfg)
        BAD("no configuration");
    if (sse_srv_init() != SSE_OK)
        return SSE_ERR_NOMEM;
    if (!U.inited) {
        if (sse_port_mutex_init(&U.lock) != SSE_OK || sse_port_cond_init(&U.done) != SSE_OK ||
            sse_port_evt_init(&U.bell) != SSE_OK)
            return SSE_ERR_NOMEM;
        sse_port_sock_init(&U.sock);
        U.inited = 1;
    }
    sse_port_mutex_lock(&U.lock);
    r = U.alive ? SSE_ERR_BUSY : SSE_OK;
    sse_port_mutex_unlock(&U.lock);
    if (r != SSE_OK)
        return r;
    if (parse_url(cfg->url) != SSE_OK)
        BAD("URL \"%s\" is not http[s]://HOST[:PORT]/PATH", cfg->url ? cfg->url : "(null)");
    if (!line_ok(cfg->token) || !line_ok(cfg->header) || (cfg->header && !strchr(cfg->header, ':')))
        BAD("token and header must be one line (header: \"Name: value\")");
    if (cfg->num_routes > CONFIG_SSE_UPLINK_ROUTES || (cfg->num_routes && !cfg->routes))
        BAD("%u routes, at most CONFIG_SSE_UPLINK_ROUTES (%d)", cfg->num_routes,
            CONFIG_SSE_UPLINK_ROUTES);
    U.mask = 0;
    for (i = 0; i < cfg->num_routes; i++) {
        const sse_uplink_route_t *rt = &cfg->routes[i];
        if (rt->channel < 0 || rt->channel >= CONFIG_SSE_MAX_CHANNELS ||
            (rt->path && rt->path[0] != '/'))
            BAD("route %u: channel 0..%d and a path starting with '/' (or NULL)", i,
                CONFIG_SSE_MAX_CHANNELS - 1);
        U.routes[i] = *rt;
        if (!rt->path)
            U.routes[i].path = U.path;
        U.mask |= 1u << rt->channel;
    }
    U.num_routes = cfg->num_routes;
    U.token = cfg->token;
    U.header = cfg->header;
    if (U.https) {
#if !defined(CONFIG_SSE_TLS)
        BAD("https needs a build with CONFIG_SSE_TLS");
#else
        if (!cfg->ca_len && !cfg->ca_file)
            BAD("https needs a CA to check the hub against (ca or ca_file)");
        sse_tls_client_free(&U.tls_cfg);
        if ((r = sse_tls_client_init(&U.tls_cfg, cfg->ca, cfg->ca_len, cfg->ca_file)) != SSE_OK)
            return r;
#endif
    }
    sse_port_mutex_lock(&U.lock);
    if (cfg->after_id) {
        U.cursor = cfg->after_id + 1;
    } else if (!U.have_cursor) {
        sse_port_mutex_lock(&S.lock);
        U.cursor = S.ring.tail_id; /* every event still held */
        sse_port_mutex_unlock(&S.lock);
    }
    U.have_cursor = 1;
    U.alive = 1;
    sse_store_rel(&U.running, 1);
    sse_store_rlx(&U.state, U_TRYING);
    sse_port_mutex_unlock(&U.lock);
    r = sse_port_thread_create(uplink_thread, NULL, CONFIG_SSE_THREAD_STACK_SIZE, "sse_uplink");
    if (r != SSE_OK) {
        sse_port_mutex_lock(&U.lock);
        U.alive = 0;
        sse_store_rel(&U.running, 0);
        sse_store_rlx(&U.state, U_OFF);
        sse_port_mutex_unlock(&U.lock);
        SSE_LOG(SSE_LOG_ERR, "uplink: no thread");
        return r;
    }
    SSE_LOG(SSE_LOG_INFO, "uplink: forwarding to %s://%s:%u%s from event %llu",
            U.https ? "https" : "http", U.host, (unsigned)U.port, U.path,
            (unsigned long long)U.cursor);
    return SSE_OK;
}

int sse_uplink_stop(void)
{
    if (!U.inited)
        return SSE_ERR_ARG;
    sse_port_mutex_lock(&U.lock);
    if (!U.alive || !sse_load_rlx(&U.running)) {
        sse_port_mutex_unlock(&U.lock);
        return SSE_ERR_ARG;
    }
    sse_store_rel(&U.running, 0);
    sse_port_mutex_unlock(&U.lock);
    sse_port_evt_wake(&U.bell, 1);
    sse_port_mutex_lock(&U.lock);
    while (U.alive) {
        sse_port_evt_wake(&U.bell, 1);
        sse_port_cond_wait(&U.done, &U.lock, CONFIG_SSE_ACCEPT_POLL_MS);
    }
    sse_port_mutex_unlock(&U.lock);
    return SSE_OK;
}

void sse_uplink_kick(void)
{
    if (sse_load_acq(&U.running))
        sse_port_evt_wake(&U.bell, 1);
}

void sse_uplink_fill(sse_stats_t *st)
{
    if (!U.inited)
        return;
    st->uplink_state = sse_load_rlx(&U.state);
    st->uplink_sent = sse_load_rlx(&U.sent);
    st->uplink_retries = sse_load_rlx(&U.retries);
    st->uplink_duplicates = sse_load_rlx(&U.dups);
    sse_port_mutex_lock(&U.lock);
    st->uplink_acked_id = U.acked_id;
    st->uplink_lost = U.lost;
    sse_port_mutex_unlock(&U.lock);
}

void sse_uplink_order_reads(void)
{
#if defined(SSE_TSAN)
    (void)sse_load_acq(&U.acked);
#endif
}

#else /* !CONFIG_SSE_UPLINK */

int sse_uplink_start(const sse_uplink_cfg_t *cfg)
{
    (void)cfg;
    SSE_LOG(SSE_LOG_ERR, "uplink: this build has no uplink (CONFIG_SSE_UPLINK)");
    return SSE_ERR_ARG;
}

int sse_uplink_stop(void)
{
    return SSE_ERR_ARG;
}

void sse_uplink_kick(void) { }
void sse_uplink_fill(sse_stats_t *st) { (void)st; }
void sse_uplink_order_reads(void) { }

#endif /* CONFIG_SSE_UPLINK */
