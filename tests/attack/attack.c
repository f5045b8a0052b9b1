/* SPDX-License-Identifier: MIT */
/* The attack suite: hostile and broken HTTP clients against
 * sse_attack_server over loopback, each case bounded in time.
 *
 *   sse_attack --server BIN/sse_attack_server [--server-log FILE] [--seed N]
 *              [--mutations N]
 *   sse_attack --reader PORT FD     (internal: the client process that is
 *                                    SIGSTOPped; reads a stream, says "R" on
 *                                    FD once streaming, exits 0 at EOF)
 *
 * Prints "ok - ..." or "FAIL - ..." per check and ends with exactly
 * "attack: N passed, M failed"; exit status 0 only if nothing failed.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include "attack_util.h"

/* The server's settings for every case (passed on its command line). */
#define SLOTS           8
#define HEADER_TO_MS    1000
#define SEND_TO_MS      1000
#define IDLE_CHECK_MS   100
#define HEARTBEAT_MS    1000
#define OVERLOAD_RETRY  2000
/* Scheduling allowance on top of a configured time: the machine is shared
 * (2 cores, other builds and tests running beside this one). */
#define SLACK_MS        600

static au_srv_t srv;

static const char stream_req[] =
    "GET /events HTTP/1.1\r\nHost: a\r\nAccept: text/event-stream\r\n\r\n";
static const char plain_req[] = "GET / HTTP/1.1\r\nHost: a\r\n\r\n";

#define check au_check /* attack_util.c: counted ok/FAIL lines */

/* One value from the server's "stats" or "proc" line. */
static long long srv_get(const char *cmd, const char *key)
{
    return au_srv_get(&srv, cmd, key);
}

static int srv_ok(const char *cmd)
{
    const char *l;
    int ok;
    pthread_mutex_lock(&srv.lock);
    l = au_srv_cmd(&srv, "%s", cmd);
    ok = l && strncmp(l, "ok", 2) == 0;
    pthread_mutex_unlock(&srv.lock);
    return ok;
}

static void set_rate(long rate, long size)
{
    char cmd[64];
    snprintf(cmd, sizeof cmd, "rate %ld %ld", rate, size);
    if (!srv_ok(cmd))
        check(0, "server accepts \"%s\"", cmd);
}

/* Wait until the stats value key is want (ms at most; *took: how long).
 * Returns the last value seen. */
static long long settle(const char *key, long long want, long ms, long *took)
{
    long start = now_ms(), end = start + ms;
    long long v;
    while ((v = srv_get("stats", key)) != want && now_ms() < end)
        sleep_ms(10);
    if (took)
        *took = now_ms() - start;
    return v;
}

/* The server still answers a plain request (and, with_stream, opens a
 * stream, then waits for that slot to come back: a stream's slot is freed
 * at the server's next idle check after we go). */
static int serving(int with_stream)
{
    au_resp_t r;
    int ok;
    if (au_exchange(srv.port, plain_req, sizeof plain_req - 1, 0, 2000, 0, &r) != 0 ||
        r.status != 200 || !strstr(r.buf, "\r\n\r\nok\n"))
        return 0;
    if (!with_stream)
        return 1;
    ok = au_exchange(srv.port, stream_req, sizeof stream_req - 1, 0, 2000, 1, &r) == 0 &&
         r.status == 200 && au_has_header(&r, "Content-Type: text/event-stream");
    return ok && settle("active", 0, IDLE_CHECK_MS + 1000, NULL) == 0;
}

/* ---- request smuggling and malformed shapes ------------------------------- */

struct shape {
    const char *what;
    const char *req;
    size_t      len;   /* 0: strlen */
    int         status;
};
#define SH(w, s, st)     { w, s, 0, st }
#define SHN(w, s, n, st) { w, s, n, st }

static const struct shape shapes[] = {
    SH("Content-Length with Transfer-Encoding",
       "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n"
       "0\r\n\r\n", 400),
    SH("Transfer-Encoding then Content-Length",
       "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n"
       "0\r\n\r\n", 400),
    SH("Content-Length 0 with Transfer-Encoding on a stream",
       "GET /events HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\nTransfer-Encoding: chunked\r\n\r\n",
       400),
    SH("duplicate Content-Length, same value",
       "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\nabc", 400),
    SH("duplicate Content-Length, different values",
       "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nContent-Length: 30\r\n\r\nabc", 400),
    SH("Content-Length as a list",
       "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3, 3\r\n\r\nabc", 400),
    SH("Content-Length with a sign",
       "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: +3\r\n\r\nabc", 400),
    SH("Content-Length in hex",
       "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 0x3\r\n\r\nabc", 400),
    SH("space before the colon (Transfer-Encoding : chunked)",
       "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding : chunked\r\n\r\n0\r\n\r\n", 400),
    SH("obs-fold",
       "GET / HTTP/1.1\r\nHost: a\r\nX-A: b\r\n c\r\n\r\n", 400),
    SH("obs-fold carrying Transfer-Encoding",
       "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding:\r\n chunked\r\n\r\n0\r\n\r\n", 400),
    SH("header line starting with a tab",
       "GET / HTTP/1.1\r\n\tHost: a\r\n\r\n", 400),
    SH("bare CR inside a header value",
       "GET / HTTP/1.1\r\nHost: a\r\nX-A: b\rContent-Length: 5\r\n\r\n", 400),
    SH("bare CR as a line end",
       "GET / HTTP/1.1\rHost: a\r\n\r\n", 400),
    SH("bare CR hiding a header among bare LF lines",
       "GET / HTTP/1.1\nHost: a\nX: y\rTransfer-Encoding: chunked\n\n", 400),
    SHN("NUL in a header value",
        "GET / HTTP/1.1\r\nHost: a\r\nX-A: b\0c\r\n\r\n", 37, 400),
    SHN("NUL in a header name",
        "GET / HTTP/1.1\r\nHost: a\r\nX\0A: b\r\n\r\n", 35, 400),
    SHN("NUL in the target",
        "GET /ev\0ents HTTP/1.1\r\nHost: a\r\n\r\n", 35, 400),
    SH("absolute-form target",
       "GET http://evil.example/events HTTP/1.1\r\nHost: a\r\n\r\n", 400),
    SH("asterisk-form target",
       "OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n", 400),
    SH("authority-form target (CONNECT)",
       "CONNECT evil.example:443 HTTP/1.1\r\nHost: evil.example:443\r\n\r\n", 400),
    SH("two Host headers",
       "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400),
    SH("two spaces after the method",
       "GET  / HTTP/1.1\r\nHost: a\r\n\r\n", 400),
    SH("tab as request-line separator",
       "GET\t/ HTTP/1.1\r\nHost: a\r\n\r\n", 400),
    SH("control byte in a header value",
       "GET / HTTP/1.1\r\nHost: a\r\nX-A: \x1b[31m\r\n\r\n", 400),
    SH("high byte in a header name",
       "GET / HTTP/1.1\r\nHost: a\r\nX\xc3\xa9: b\r\n\r\n", 400),
    SH("lower-case protocol name",
       "GET / http/1.1\r\nHost: a\r\n\r\n", 400),
    SH("HTTP/0.9 request line", "GET /\r\n", 505),
    SH("HTTP/0.9 request line for a stream", "GET /events\r\n\r\n", 505),
    SH("HTTP/2 connection preface", "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", 505),
    SH("HTTP/2.0 request line", "GET /events HTTP/2.0\r\nHost: a\r\n\r\n", 505),
    SH("HTTP/1.2 request line", "GET / HTTP/1.2\r\nHost: a\r\n\r\n", 505),
    SH("HTTP/3.0 absolute-form (version judged first)",
       "GET http://a/ HTTP/3.0\r\n\r\n", 505),
};

/* The shape gets its status, the server closes, promptly (no timeout), and
 * still serves afterwards. */
static void smuggling(void)
{
    size_t i;
    long long bad0 = srv_get("stats", "bad_requests");
    for (i = 0; i < sizeof shapes / sizeof shapes[0]; i++) {
        const struct shape *s = &shapes[i];
        size_t len = s->len ? s->len : strlen(s->req);
        au_resp_t r;
        int sent = au_exchange(srv.port, s->req, len, 0, 3000, 0, &r) == 0;
        int serves = serving(0);
        check(sent && r.status == s->status && r.closed && !r.timed_out &&
              r.ms < HEADER_TO_MS && serves,
              "smuggling: %s -> %d (want %d), %s in %ld ms, server %s", s->what,
              r.status, s->status, r.closed ? (r.reset ? "reset" : "closed") : "NOT closed",
              r.ms, serves ? "still serving" : "NOT serving");
    }
    check(serving(1), "smuggling: server still serving (page and stream)");
    check(srv_get("stats", "bad_requests") - bad0 >= (long long)(sizeof shapes / sizeof shapes[0]),
          "smuggling: counted in stats.bad_requests (%lld more)",
          srv_get("stats", "bad_requests") - bad0);

    /* A second request hidden behind a complete one is never answered:
     * ssedge answers one request per connection and closes. */
    {
        static const char two[] = "GET / HTTP/1.1\r\nHost: a\r\n\r\n"
                                  "GET /events HTTP/1.1\r\nHost: a\r\n\r\n";
        au_resp_t r;
        const char *second;
        au_exchange(srv.port, two, sizeof two - 1, 0, 3000, 0, &r);
        second = strstr(r.buf + (r.len ? 1 : 0), "HTTP/1.1");
        check(r.status == 200 && r.closed && second == NULL,
              "smuggling: pipelined second request ignored (one %d answer, then closed)",
              r.status);
    }
    /* Bodies are not read: Transfer-Encoding alone (no Content-Length) on a
     * plain path is 413 and on a stream path 400, closed either way, so a
     * chunked body can never be taken for the next request. */
    {
        static const char te[] = "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
                                 "5\r\nGET /\r\n0\r\n\r\n";
        static const char tes[] = "GET /events HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
                                  "0\r\n\r\n";
        au_resp_t r;
        au_exchange(srv.port, te, sizeof te - 1, 0, 3000, 0, &r);
        check(r.status == 413 && r.closed && !strstr(r.buf + 1, "HTTP/1.1"),
              "smuggling: chunked body on a plain path -> %d (want 413), closed", r.status);
        au_exchange(srv.port, tes, sizeof tes - 1, 0, 3000, 0, &r);
        check(r.status == 400 && r.closed,
              "smuggling: chunked body on a stream path -> %d (want 400), closed", r.status);
    }
}

/* ---- oversize lines and header floods ------------------------------------- */

static void oversize(void)
{
    static char big[70000];
    size_t n;
    au_resp_t r;
    int i;

    /* Request line past CONFIG_SSE_HTTP_MAX_REQUEST_LINE, and past the buffer. */
    {
        static const size_t lens[] = { 600, 1100, 4000 };
        for (i = 0; i < 3; i++) {
            n = (size_t)snprintf(big, sizeof big, "GET /");
            memset(big + n, 'a', lens[i]);
            n += lens[i];
            n += (size_t)snprintf(big + n, sizeof big - n, " HTTP/1.1\r\nHost: a\r\n\r\n");
            au_exchange(srv.port, big, n, 0, 3000, 0, &r);
            check((r.status == 414 || (r.reset && r.status == 0 && lens[i] > 2000)) &&
                  r.closed && r.ms < HEADER_TO_MS,
                  "oversize: %u-byte target -> %d (want 414), %s in %ld ms",
                  (unsigned)lens[i], r.status, r.reset ? "reset" : "closed", r.ms);
        }
    }
    /* 40 short headers: past CONFIG_SSE_HTTP_MAX_HEADERS (32). */
    n = (size_t)snprintf(big, sizeof big, "GET / HTTP/1.1\r\n");
    for (i = 0; i < 40; i++)
        n += (size_t)snprintf(big + n, sizeof big - n, "X-H%d: v\r\n", i);
    n += (size_t)snprintf(big + n, sizeof big - n, "\r\n");
    au_exchange(srv.port, big, n, 0, 3000, 0, &r);
    check(r.status == 431 && r.closed, "header flood: 40 headers -> %d (want 431), closed",
          r.status);
    /* One header line longer than the whole request buffer. */
    n = (size_t)snprintf(big, sizeof big, "GET / HTTP/1.1\r\nX-Big: ");
    memset(big + n, 'b', 1500);
    n += 1500;
    n += (size_t)snprintf(big + n, sizeof big - n, "\r\n\r\n");
    au_exchange(srv.port, big, n, 0, 3000, 0, &r);
    check(r.status == 431 && r.closed, "oversize: 1500-byte header line -> %d (want 431), closed",
          r.status);
    /* Few headers but a head larger than the buffer. */
    n = (size_t)snprintf(big, sizeof big, "GET / HTTP/1.1\r\n");
    for (i = 0; i < 12; i++) {
        n += (size_t)snprintf(big + n, sizeof big - n, "X-H%d: ", i);
        memset(big + n, 'c', 100);
        n += 100;
        n += (size_t)snprintf(big + n, sizeof big - n, "\r\n");
    }
    n += (size_t)snprintf(big + n, sizeof big - n, "\r\n");
    au_exchange(srv.port, big, n, 0, 3000, 0, &r);
    check(r.status == 431 && r.closed, "header flood: 12 x 100-byte headers (1.3 KB head) -> %d "
          "(want 431), closed", r.status);
    /* An endless stream of header lines, written as fast as the socket takes
     * them: the server must answer and close, not keep reading. */
    {
        int fd = au_connect(srv.port);
        long start = now_ms();
        size_t sent = 0;
        int k = 0;
        if (fd >= 0) {
            au_send_all(fd, "GET / HTTP/1.1\r\n", 16, 1000);
            while (sent < (size_t)(4 << 20) && now_ms() - start < 3000) {
                char line[64];
                struct pollfd pf = { fd, POLLIN, 0 };
                int len = snprintf(line, sizeof line, "X-Flood-%d: aaaaaaaaaaaaaaaa\r\n", k++);
                if (poll(&pf, 1, 0) > 0)
                    break; /* the answer (or the close) is here */
                if (au_send_all(fd, line, (size_t)len, 200) != 0)
                    break;
                sent += (size_t)len;
            }
            au_read_resp(fd, &r, 3000, 0);
            close(fd);
        }
        /* Unread bytes at close make Linux send RST, which may destroy the
         * answer in flight: either way the server stopped reading fast. */
        check(fd >= 0 && (r.status == 431 || r.reset) && r.closed &&
              now_ms() - start < 3000,
              "header flood: endless header lines -> %s after %u bytes, closed in %ld ms",
              r.status == 431 ? "431" : (r.reset ? "reset (answer lost to RST)" : "no answer"),
              (unsigned)sent, now_ms() - start);
    }
    check(serving(1), "oversize: server still serving");
}

/* ---- slowloris ------------------------------------------------------------ */

/* Trickle one header byte every period_ms on each of n connections; read
 * each answer. Returns how many got 408 within the header timeout + SLACK_MS. */
static int slowloris(int n, long period_ms, int probe_overload, long *max_ms)
{
    static const char start[] = "GET /events HTTP/1.1\r\nHost: a\r\nX-Slow: ";
    int fds[SLOTS * 2], got[SLOTS * 2], ok = 0, i, done = 0;
    long t0 = now_ms(), last = 0;
    au_resp_t *r = calloc((size_t)n, sizeof *r);
    *max_ms = 0;
    for (i = 0; i < n; i++) {
        fds[i] = au_connect(srv.port);
        got[i] = 0;
        if (fds[i] >= 0)
            au_send_all(fds[i], start, sizeof start - 1, 500);
    }
    while (done < n && now_ms() - t0 < HEADER_TO_MS + 3000) {
        if (now_ms() - last >= period_ms) {
            last = now_ms();
            for (i = 0; i < n; i++)
                if (fds[i] >= 0 && !got[i])
                    (void)send(fds[i], "a", 1, MSG_NOSIGNAL | MSG_DONTWAIT);
        }
        if (probe_overload == 1 && now_ms() - t0 > 300) {
            /* Every slot is held by a slow client: newcomers get the quick
             * overload answers, not a wait. */
            au_resp_t o;
            au_exchange(srv.port, stream_req, sizeof stream_req - 1, 0, 1000, 0, &o);
            check(o.status == 200 && au_has_header(&o, "Content-Type: text/event-stream") &&
                  strstr(o.buf, "retry: 2000") && o.closed && o.ms < SLACK_MS,
                  "slowloris: all %d slots held -> a stream request gets 200 + "
                  "\"retry: %d\" and is closed in %ld ms", n, OVERLOAD_RETRY, o.ms);
            au_exchange(srv.port, plain_req, sizeof plain_req - 1, 0, 1000, 0, &o);
            check(o.status == 503 && au_has_header(&o, "Retry-After: 2") && o.closed &&
                  o.ms < SLACK_MS,
                  "slowloris: all %d slots held -> GET / gets %d (want 503 + Retry-After: 2) "
                  "in %ld ms", n, o.status, o.ms);
            probe_overload = 2;
        }
        for (i = 0; i < n; i++) {
            struct pollfd pf;
            if (fds[i] < 0 || got[i])
                continue;
            pf.fd = fds[i];
            pf.events = POLLIN;
            pf.revents = 0;
            if (poll(&pf, 1, 0) > 0) {
                long ms = now_ms() - t0;
                au_read_resp(fds[i], &r[i], 1000, 0);
                got[i] = 1;
                done++;
                if (ms > *max_ms)
                    *max_ms = ms;
                if (r[i].status == 408 && r[i].closed && ms >= HEADER_TO_MS - 50 &&
                    ms <= HEADER_TO_MS + SLACK_MS)
                    ok++;
            }
        }
        sleep_ms(5);
    }
    for (i = 0; i < n; i++)
        if (fds[i] >= 0)
            close(fds[i]);
    free(r);
    return ok;
}

static void slow_clients(void)
{
    long max_ms, took;
    long long act;
    int ok;

    ok = slowloris(1, 150, 0, &max_ms);
    act = settle("active", 0, 1000, &took);
    check(ok == 1 && act == 0, "slowloris: one byte per 150 ms -> 408 after %ld ms (header "
          "timeout %d ms), slot back (active %lld)", max_ms, HEADER_TO_MS, act);

    ok = slowloris(SLOTS, 200, 1, &max_ms);
    act = settle("active", 0, 1000, &took);
    check(ok == SLOTS && act == 0, "slowloris: %d of %d slot-holding trickles got 408 by %ld ms, "
          "every slot back (active %lld)", ok, SLOTS, max_ms, act);

    /* Connects and says nothing at all. */
    {
        au_resp_t r;
        au_exchange(srv.port, "", 0, 0, HEADER_TO_MS + 2000, 0, &r);
        act = settle("active", 0, 1000, &took);
        check(r.status == 408 && r.closed && r.ms >= HEADER_TO_MS - 50 &&
              r.ms <= HEADER_TO_MS + SLACK_MS && act == 0,
              "slowloris: silent connection -> %d after %ld ms, slot back", r.status, r.ms);
    }
    check(serving(1), "slowloris: server still serving");
}

/* ---- randomly mutated requests -------------------------------------------- */

static const char *const seeds[] = {
    "GET /events HTTP/1.1\r\nHost: a\r\nAccept: text/event-stream\r\nLast-Event-ID: 3\r\n\r\n",
    "GET / HTTP/1.1\r\nHost: a\r\nUser-Agent: m\r\n\r\n",
    "HEAD /events HTTP/1.0\r\nAccept: */*\r\n\r\n",
    "OPTIONS /events HTTP/1.1\r\nOrigin: http://o\r\nAccess-Control-Request-Method: GET\r\n\r\n",
    "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabc",
    "GET /events?ch=x HTTP/1.1\nAccept: text/event-stream;q=0.5, */*\n\n",
};
static const char special[] = "\r\n\0 \t:/*?%\x7f\x80\xff,;=\"0123456789-";
static const char *const inserts[] = {
    "Transfer-Encoding: chunked\r\n", "Content-Length: 7\r\n", "Content-Length: 0\r\n",
    " folded\r\n", "Host: b\r\n", "Accept: text/html\r\n", "\r\n", "\r", "\n", "\0",
    "HTTP/1.1", "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", "Last-Event-ID: 99999999999999999999\r\n",
};

static uint64_t rnd(uint64_t *s) /* xorshift64* */
{
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return *s * 2685821657736338717ULL;
}

/* 1..4 mutations of a seed request into out; its length. */
static size_t mutate(uint64_t *s, char *out, size_t cap)
{
    const char *src = seeds[rnd(s) % (sizeof seeds / sizeof seeds[0])];
    size_t n = strlen(src), k, ops = 1 + rnd(s) % 4;
    memcpy(out, src, n);
    for (k = 0; k < ops; k++) {
        size_t at = n ? rnd(s) % (n + 1) : 0;
        switch (rnd(s) % 7) {
        case 0: /* flip to a random byte */
            if (at < n)
                out[at] = (char)rnd(s);
            break;
        case 1: /* a byte that matters to HTTP */
            if (at < n)
                out[at] = special[rnd(s) % (sizeof special - 1)];
            break;
        case 2: /* insert a byte that matters */
            if (n + 1 < cap) {
                memmove(out + at + 1, out + at, n - at);
                out[at] = special[rnd(s) % (sizeof special - 1)];
                n++;
            }
            break;
        case 3: /* delete a run */
            if (at < n) {
                size_t d = 1 + rnd(s) % 8;
                if (d > n - at)
                    d = n - at;
                memmove(out + at, out + at + d, n - at - d);
                n -= d;
            }
            break;
        case 4: { /* insert a hostile fragment */
            const char *f = inserts[rnd(s) % (sizeof inserts / sizeof inserts[0])];
            size_t fl = f[0] ? strlen(f) : 1;
            if (n + fl < cap) {
                memmove(out + at + fl, out + at, n - at);
                memcpy(out + at, f, fl);
                n += fl;
            }
            break;
        }
        case 5: /* truncate */
            n = at;
            break;
        default: /* repeat a run (long lines, many headers) */
            if (at < n) {
                size_t len = 1 + rnd(s) % 64, rep = 1 + rnd(s) % 40, i;
                if (len > n - at)
                    len = n - at;
                for (i = 0; i < rep && n + len < cap; i++) {
                    memmove(out + at + len, out + at, n - at);
                    n += len;
                }
            }
            break;
        }
    }
    return n;
}

struct fuzz {
    uint64_t seed;
    int      count;
    int      status[600];
    int      no_answer, garbage, timeouts, connect_fail, overload_retries;
    char     example[160]; /* a request that misbehaved, for the log */
};

/* Send one request, half-close, read the answer. */
static void fuzz_one(const char *req, size_t n, au_resp_t *r, int *connect_fail)
{
    int fd = au_connect(srv.port), stream;
    if (fd < 0) {
        (*connect_fail)++;
        memset(r, 0, sizeof *r);
        r->closed = 1;
        return;
    }
    (void)au_send_all(fd, req, n, 1000);
    /* The end of our request: an incomplete head is closed at once
     * instead of waiting out the header timeout. */
    shutdown(fd, SHUT_WR);
    au_read_resp(fd, r, 3000, 1);
    stream = au_has_header(r, "Content-Type: text/event-stream");
    if (!r->timed_out && !r->closed && r->status && !stream) {
        au_resp_t rest; /* not a stream: the server must close it */
        au_read_resp(fd, &rest, 3000, 0);
        r->timed_out = rest.timed_out;
    }
    if (stream)
        au_close_rst(fd); /* the next publish finds the stream gone */
    else
        close(fd);
}

static void *fuzz_worker(void *arg)
{
    struct fuzz *f = arg;
    uint64_t s = f->seed | 1;
    char req[8192];
    int i, tries;
    for (i = 0; i < f->count; i++) {
        size_t n = mutate(&s, req, sizeof req);
        au_resp_t r;
        /* An overload answer means the request never reached the parser:
         * try again a little later (slots free as streams notice we left). */
        for (tries = 0; tries < 100; tries++) {
            fuzz_one(req, n, &r, &f->connect_fail);
            if (!(r.status == 503 || (r.status == 200 && strstr(r.buf, "retry: 2000\n"))))
                break;
            f->overload_retries++;
            sleep_ms(5);
        }
        if (r.timed_out) {
            f->timeouts++;
        } else if (r.len == 0) {
            f->no_answer++;
            continue;
        } else if (r.status >= 100 && r.status < 600) {
            f->status[r.status]++;
            continue;
        } else {
            f->garbage++;
        }
        if (!f->example[0]) {
            size_t k, o = 0;
            for (k = 0; k < n && o + 5 < sizeof f->example; k++) {
                unsigned char c = (unsigned char)req[k];
                o += (size_t)snprintf(f->example + o, sizeof f->example - o,
                                      c >= 0x20 && c < 0x7f && c != '\\' ? "%c" : "\\x%02x", c);
            }
        }
    }
    return NULL;
}

static void mutations(uint64_t seed, int total)
{
    enum { WORKERS = 4 };
    static const int allowed[] = { 200, 204, 400, 403, 404, 405, 406, 408, 413, 414, 431,
                                   503, 505 };
    static struct fuzz f[WORKERS];
    pthread_t th[WORKERS];
    int sum[600] = { 0 }, i, k, odd = 0, answered = 0, no_answer = 0, garbage = 0, to = 0,
        cf = 0, retries = 0;
    long start = now_ms(), took;
    char hist[512];
    size_t o = 0;
    long long act;

    /* Events flowing make a stream we left find out at once (its send
     * fails) instead of at its next idle check. */
    set_rate(1000, 16);
    for (i = 0; i < WORKERS; i++) {
        memset(&f[i], 0, sizeof f[i]);
        f[i].seed = seed + (uint64_t)i * 0x9E3779B97F4A7C15ULL;
        f[i].count = total / WORKERS + (i < total % WORKERS);
        pthread_create(&th[i], NULL, fuzz_worker, &f[i]);
    }
    for (i = 0; i < WORKERS; i++) {
        pthread_join(th[i], NULL);
        for (k = 0; k < 600; k++)
            sum[k] += f[i].status[k];
        no_answer += f[i].no_answer;
        garbage += f[i].garbage;
        to += f[i].timeouts;
        cf += f[i].connect_fail;
        retries += f[i].overload_retries;
    }
    set_rate(0, 16);
    for (k = 0; k < 600; k++) {
        size_t a;
        int known = 0;
        if (!sum[k])
            continue;
        answered += sum[k];
        for (a = 0; a < sizeof allowed / sizeof allowed[0]; a++)
            known |= allowed[a] == k;
        if (!known)
            odd += sum[k];
        o += (size_t)snprintf(hist + o, sizeof hist - o, "%s%d:%d", o ? " " : "", k, sum[k]);
    }
    check(to == 0 && garbage == 0 && odd == 0 && cf == 0 &&
          answered + no_answer == total,
          "mutations: %d requests (seed %llu) in %ld ms: answered %d [%s], closed without an "
          "answer %d (incomplete heads), garbage %d, timed out %d, unexpected status %d, "
          "connect failures %d; %d overload answers retried",
          total, (unsigned long long)seed, now_ms() - start, answered, hist, no_answer,
          garbage, to, odd, cf, retries);
    for (i = 0; i < WORKERS; i++)
        if (f[i].example[0])
            printf("# a request that timed out or got garbage: %s\n", f[i].example);
    act = settle("active", 0, 3000, &took);
    check(act == 0 && serving(1), "mutations: every slot back (active %lld) and still serving",
          act);
}

/* ---- floods past the slot count ------------------------------------------ */

/* Streams read on a thread of their own, ids checked. */
#define PUMP_MAX 4
static struct pump {
    pthread_t th;
    int       n, stop;
    au_sse_t  s[PUMP_MAX];
} pump;

static void *pump_run(void *unused)
{
    (void)unused;
    while (!__atomic_load_n(&pump.stop, __ATOMIC_ACQUIRE)) {
        struct pollfd pf[PUMP_MAX];
        int i;
        for (i = 0; i < pump.n; i++) {
            pf[i].fd = pump.s[i].eof ? -1 : pump.s[i].fd;
            pf[i].events = POLLIN;
            pf[i].revents = 0;
        }
        if (poll(pf, (nfds_t)pump.n, 20) <= 0)
            continue;
        for (i = 0; i < pump.n; i++)
            if (pf[i].revents)
                while (au_sse_poll(&pump.s[i], 0) > 0)
                    ;
    }
    return NULL;
}

/* Open n streams into the pump and start it. Number opened. */
static int pump_start(int n)
{
    int i, ok = 0;
    memset(&pump, 0, sizeof pump);
    for (i = 0; i < n && i < PUMP_MAX; i++) {
        int fd = au_connect(srv.port);
        au_sse_init(&pump.s[i], fd, 0);
        if (fd >= 0 && au_send_all(fd, stream_req, sizeof stream_req - 1, 1000) == 0) {
            long end = now_ms() + 2000;
            while (!pump.s[i].head_done && !pump.s[i].eof && now_ms() < end)
                au_sse_poll(&pump.s[i], 50);
            ok += pump.s[i].status == 200;
        }
    }
    pump.n = i;
    pthread_create(&pump.th, NULL, pump_run, NULL);
    return ok;
}

static void pump_stop(void)
{
    int i;
    __atomic_store_n(&pump.stop, 1, __ATOMIC_RELEASE);
    pthread_join(pump.th, NULL);
    for (i = 0; i < pump.n; i++)
        if (pump.s[i].fd >= 0)
            close(pump.s[i].fd);
}

/* The pump's streams got events, none missing or repeated, and were still
 * open when the pump stopped (call after pump_stop(): no race). */
static int pump_healthy(char *why, size_t cap, uint64_t min_events)
{
    int i, ok = 1;
    size_t o = 0;
    for (i = 0; i < pump.n; i++) {
        au_sse_t *s = &pump.s[i];
        o += (size_t)snprintf(why + o, cap - o,
                              "%s#%d: %llu events, %llu missing, %llu dup, %llu bad data%s",
                              i ? "; " : "", i, (unsigned long long)s->events,
                              (unsigned long long)s->gaps, (unsigned long long)s->dups,
                              (unsigned long long)s->bad_data, s->eof ? ", CLOSED" : "");
        if (s->events < min_events || s->gaps || s->dups || s->bad_data || s->eof)
            ok = 0;
        if (o >= cap)
            o = cap - 1;
    }
    return ok;
}

static void flood(void)
{
    enum { FLOOD = 40 };
    int fds[FLOOD], holders[SLOTS], i, nh = 0, streams_ok = 0, plain_ok = 0, answered = 0;
    long t0, max_ms = 0, took, total_ms;
    long long ov0 = srv_get("stats", "overloaded"), act;
    char why[512];

    long pump_t0;
    set_rate(200, 32);
    i = pump_start(2);
    pump_t0 = now_ms();
    check(i == 2, "flood: two streams open before the flood");
    /* Fill the remaining slots with more streams. */
    for (i = 0; i < SLOTS - 2; i++) {
        au_resp_t r;
        holders[nh] = au_connect(srv.port);
        if (holders[nh] < 0)
            continue;
        au_send_all(holders[nh], stream_req, sizeof stream_req - 1, 1000);
        au_read_resp(holders[nh], &r, 2000, 1);
        nh++;
    }
    act = settle("active", SLOTS, 2000, NULL);
    check(act == SLOTS, "flood: all %d slots taken (active %lld)", SLOTS, act);

    /* 40 connections at once, half asking for a stream, half for a page:
     * non-blocking connects, each request sent the moment its connection
     * is up, each answer timed from its own request. The listen backlog
     * (CONFIG_SSE_LISTEN_BACKLOG) may make the kernel drop some SYNs, which
     * the client retries a second later: that shows in the total only. */
    {
        struct pollfd pf[FLOOD];
        long sent[FLOOD];
        au_resp_t *r = calloc(FLOOD, sizeof *r);
        int left = 0;
        t0 = now_ms();
        for (i = 0; i < FLOOD; i++) {
            fds[i] = au_connect_nb(srv.port);
            pf[i].fd = fds[i];
            pf[i].events = POLLOUT;
            sent[i] = -1;
            left += fds[i] >= 0;
        }
        while (left > 0 && now_ms() - t0 < 5000) {
            if (poll(pf, FLOOD, 50) <= 0)
                continue;
            for (i = 0; i < FLOOD; i++) {
                ssize_t n;
                if (pf[i].fd < 0 || !pf[i].revents)
                    continue;
                if (sent[i] < 0) {
                    const char *q = i % 2 ? plain_req : stream_req;
                    size_t ql = i % 2 ? sizeof plain_req - 1 : sizeof stream_req - 1;
                    if (send(fds[i], q, ql, MSG_NOSIGNAL) != (ssize_t)ql) {
                        pf[i].fd = -1;
                        left--;
                        continue;
                    }
                    sent[i] = now_ms();
                    pf[i].events = POLLIN;
                    continue;
                }
                n = recv(fds[i], r[i].buf + r[i].len, sizeof r[i].buf - 1 - r[i].len,
                         MSG_DONTWAIT);
                if (n > 0) {
                    r[i].len += (size_t)n;
                    r[i].buf[r[i].len] = 0;
                    continue;
                }
                if (n < 0 && errno == EAGAIN)
                    continue;
                r[i].closed = 1;
                r[i].ms = now_ms() - sent[i];
                if (r[i].ms > max_ms)
                    max_ms = r[i].ms;
                if (r[i].len > 12)
                    r[i].status = atoi(r[i].buf + 9);
                pf[i].fd = -1;
                left--;
                answered++;
            }
        }
        total_ms = now_ms() - t0;
        for (i = 0; i < FLOOD; i++) {
            if (fds[i] >= 0)
                close(fds[i]);
            if (!r[i].closed)
                continue;
            if (i % 2 == 0 && r[i].status == 200 &&
                strstr(r[i].buf, "\r\n\r\nretry: 2000\n\n") && !strstr(r[i].buf, "id: "))
                streams_ok++;
            if (i % 2 == 1 && r[i].status == 503 && au_has_header(&r[i], "Retry-After: 2"))
                plain_ok++;
        }
        free(r);
    }
    check(streams_ok == FLOOD / 2 && plain_ok == FLOOD / 2 && max_ms < SLACK_MS,
          "flood: %d connections past %d slots: %d/%d stream requests got 200 + retry only and "
          "were closed, %d/%d plain requests got 503 + Retry-After; each answered within %ld ms "
          "of its request (%ld ms for all %d)",
          FLOOD, SLOTS, streams_ok, FLOOD / 2, plain_ok, FLOOD / 2, max_ms, total_ms, answered);
    check(srv_get("stats", "overloaded") - ov0 >= FLOOD,
          "flood: stats.overloaded counted them (+%lld)", srv_get("stats", "overloaded") - ov0);

    /* Silent connections past the slot count: the first holds the listener
     * for CONFIG_SSE_OVERLOAD_TIMEOUT_MS, the rest only get what already
     * arrived, so a real request behind them is answered at once. */
    {
        enum { SILENT = 10 };
        int sil[SILENT];
        au_resp_t r;
        for (i = 0; i < SILENT; i++)
            sil[i] = au_connect(srv.port);
        sleep_ms(20);
        au_exchange(srv.port, plain_req, sizeof plain_req - 1, 0, 5000, 0, &r);
        check(r.status == 503 && r.ms < 100 + SLACK_MS,
              "flood: behind %d silent connections a request still gets %d (want 503) "
              "in %ld ms (one overload timeout at most, not one per silent connection)",
              SILENT, r.status, r.ms);
        for (i = 0; i < SILENT; i++)
            if (sil[i] >= 0)
                close(sil[i]);
    }
    sleep_ms(300);
    set_rate(0, 32);
    sleep_ms(100);
    pump_stop();
    {
        /* At 200 events/s: at least half of what the phase's length
         * allows (it is short now that silent connections cost little). */
        long ms = now_ms() - pump_t0;
        uint64_t want = ms > 400 ? (uint64_t)(ms / 10) : 20;
        check(pump_healthy(why, sizeof why, want),
              "flood: the streams open before it kept receiving, at least %llu events in "
              "%ld ms (%s)", (unsigned long long)want, ms, why);
    }
    for (i = 0; i < nh; i++)
        close(holders[i]);
    act = settle("active", 0, 2000, &took);
    check(act == 0, "flood: every slot back %ld ms after the streams left (active %lld)", took,
          act);
}

/* ---- clients that vanish, stop or half-close ------------------------------ */

static int open_stream(au_resp_t *r)
{
    int fd = au_connect(srv.port);
    if (fd < 0)
        return -1;
    au_send_all(fd, stream_req, sizeof stream_req - 1, 1000);
    au_read_resp(fd, r, 2000, 1);
    return fd;
}

static void resets(void)
{
    au_resp_t r;
    long took;
    long long act, sf0, fb0;
    int fd;

    /* RST after part of a request head. */
    fd = au_connect(srv.port);
    au_send_all(fd, "GET /events HTTP/1.1\r\nHost: a\r\nAcc", 35, 1000);
    sleep_ms(50);
    au_close_rst(fd);
    act = settle("active", 0, 2000, &took);
    check(act == 0 && took < HEADER_TO_MS,
          "reset: RST mid-request -> slot back in %ld ms (before the %d ms header timeout)",
          took, HEADER_TO_MS);

    /* RST on an idle stream. */
    fd = open_stream(&r);
    au_close_rst(fd);
    act = settle("active", 0, 2000, &took);
    check(r.status == 200 && act == 0 && took <= IDLE_CHECK_MS + SLACK_MS,
          "reset: RST on an idle stream -> slot back in %ld ms (idle check %d ms)", took,
          IDLE_CHECK_MS);

    /* RST while the server is writing to us: 4.5 MB/s of events, read at
     * full speed for 300 ms, then the reset lands between or inside sends. */
    {
        au_sse_t *ss = malloc(sizeof *ss);
        long end;
        sf0 = srv_get("stats", "send_failures");
        fb0 = srv_get("stats", "fell_behind");
        set_rate(5000, 900);
        fd = au_connect(srv.port);
        au_send_all(fd, stream_req, sizeof stream_req - 1, 1000);
        au_sse_init(ss, fd, 0);
        end = now_ms() + 300;
        while (!ss->eof && now_ms() < end)
            au_sse_poll(ss, 10);
        au_close_rst(fd);
        act = settle("active", 0, 2000, &took);
        set_rate(0, 900);
        check(ss->status == 200 && ss->events > 100 && act == 0 && took < SEND_TO_MS,
              "reset: RST while the server writes 4.5 MB/s to us (%llu events read) -> slot "
              "back in %ld ms (send_failures +%lld, fell_behind +%lld)",
              (unsigned long long)ss->events, took, srv_get("stats", "send_failures") - sf0,
              srv_get("stats", "fell_behind") - fb0);
        free(ss);
    }
}

/* The SIGSTOPped client: a process of its own that reads a stream. */
static int reader_main(unsigned port, int fd_ready)
{
    au_sse_t *s = malloc(sizeof *s);
    int fd = au_connect(port), eof;
    long end;
    /* Even stopped, it must not outlive a suite that was killed. */
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (!s || fd < 0 || au_send_all(fd, stream_req, sizeof stream_req - 1, 1000) != 0) {
        free(s);
        return 2;
    }
    au_sse_init(s, fd, 0);
    end = now_ms() + 60000;
    while (!s->head_done && !s->eof && now_ms() < end)
        au_sse_poll(s, 100);
    if (write(fd_ready, "R\n", 2) != 2) {
        free(s);
        return 2;
    }
    while (!s->eof && now_ms() < end) /* bounded: 60 s at most */
        au_sse_poll(s, 100);
    eof = s->eof;
    free(s);
    close(fd);
    return eof ? 0 : 1;
}

static void stopped_reader(const char *self)
{
    int pfd[2], st = 0, i;
    pid_t pid;
    char port[16], fdarg[16], buf[4], why[512];
    long t0, took = -1;
    long long streams, sf0 = srv_get("stats", "send_failures"),
              fb0 = srv_get("stats", "fell_behind");

    if (pump_start(2) != 2)
        check(0, "SIGSTOP: two healthy streams open");
    if (pipe(pfd) != 0)
        return;
    snprintf(port, sizeof port, "%u", srv.port);
    snprintf(fdarg, sizeof fdarg, "%d", pfd[1]);
    pid = fork();
    if (pid == 0) {
        char *argv[] = { (char *)self, (char *)"--reader", port, fdarg, NULL };
        close(pfd[0]);
        execv("/proc/self/exe", argv);
        _exit(127);
    }
    close(pfd[1]);
    {
        struct pollfd pf = { pfd[0], POLLIN, 0 };
        if (poll(&pf, 1, 3000) <= 0 || read(pfd[0], buf, 2) != 2) {
            check(0, "SIGSTOP: the reader process is streaming");
            kill(pid, SIGKILL);
            waitpid(pid, &st, 0);
            close(pfd[0]);
            pump_stop();
            return;
        }
    }
    close(pfd[0]);
    kill(pid, SIGSTOP);
    /* 5000 events/s of 900 bytes: 4.5 MB/s into a reader that stopped. */
    set_rate(5000, 900);
    t0 = now_ms();
    for (i = 0; i < 2000; i++) { /* 20 s at most */
        streams = srv_get("stats", "streams");
        if (streams == 2) {
            took = now_ms() - t0;
            break;
        }
        sleep_ms(10);
    }
    sleep_ms(500); /* the healthy ones keep going a while longer */
    set_rate(0, 900);
    sleep_ms(200);
    check(took >= 0 && took < 15000,
          "SIGSTOP: a stopped reader (4.5 MB/s published) was dropped after %ld ms "
          "(send timeout %d ms; send_failures +%lld, fell_behind +%lld)",
          took, SEND_TO_MS, srv_get("stats", "send_failures") - sf0,
          srv_get("stats", "fell_behind") - fb0);
    pump_stop();
    check(pump_healthy(why, sizeof why, 1000),
          "SIGSTOP: the other streams kept receiving meanwhile (%s)", why);
    kill(pid, SIGCONT);
    for (i = 0; i < 200; i++) { /* 20 s: it drains its socket, then sees EOF */
        if (waitpid(pid, &st, WNOHANG) == pid)
            break;
        sleep_ms(100);
    }
    if (i == 200) {
        kill(pid, SIGKILL);
        waitpid(pid, &st, 0);
    }
    check(i < 200 && WIFEXITED(st) && WEXITSTATUS(st) == 0,
          "SIGSTOP: after SIGCONT the reader drained its socket and saw the close "
          "(%s %d after %d ms)", i == 200 ? "killed, status" : WIFEXITED(st) ? "exit" : "signal",
          WIFEXITED(st) ? WEXITSTATUS(st) : WIFSIGNALED(st) ? WTERMSIG(st) : st, i * 100);
    check(settle("active", 0, 2000, NULL) == 0, "SIGSTOP: every slot back");
}

static void half_close(void)
{
    au_resp_t r;
    long took;
    long long act;
    int fd;

    au_exchange(srv.port, plain_req, sizeof plain_req - 1, 1, 3000, 0, &r);
    check(r.status == 200 && strstr(r.buf, "\r\n\r\nok\n") && r.closed,
          "half-close: GET / then SHUT_WR -> full 200 answer, then closed");

    fd = au_connect(srv.port);
    au_send_all(fd, "GET / HTTP/1.1\r\nHo", 18, 1000);
    shutdown(fd, SHUT_WR);
    au_read_resp(fd, &r, 3000, 0);
    close(fd);
    act = settle("active", 0, 2000, &took);
    check(r.closed && r.len == 0 && r.ms < HEADER_TO_MS && act == 0,
          "half-close: part of a head then SHUT_WR -> closed without an answer in %ld ms, "
          "slot back", r.ms);

    /* A stream whose client half-closes: FIN is how a departed client shows
     * itself, so the server ends the stream at its next idle check. */
    fd = open_stream(&r);
    shutdown(fd, SHUT_WR);
    {
        au_resp_t rest;
        au_read_resp(fd, &rest, 3000, 0);
        close(fd);
        act = settle("active", 0, 2000, &took);
        check(r.status == 200 && rest.closed && rest.ms <= IDLE_CHECK_MS + SLACK_MS && act == 0,
              "half-close: idle stream then SHUT_WR -> closed by the server after %ld ms "
              "(idle check %d ms), slot back", rest.ms, IDLE_CHECK_MS);
    }

    /* While events flow the idle check does not run: the half-closed
     * client keeps reading them; the close comes at the first quiet check. */
    {
        au_sse_t *s = malloc(sizeof *s);
        long end;
        fd = au_connect(srv.port);
        au_send_all(fd, stream_req, sizeof stream_req - 1, 1000);
        au_sse_init(s, fd, 0);
        end = now_ms() + 2000;
        while (!s->head_done && !s->eof && now_ms() < end)
            au_sse_poll(s, 50);
        set_rate(500, 32);
        shutdown(fd, SHUT_WR);
        end = now_ms() + 1000;
        while (!s->eof && now_ms() < end)
            au_sse_poll(s, 50);
        set_rate(0, 32);
        end = now_ms() + 3000;
        took = now_ms();
        while (!s->eof && now_ms() < end)
            au_sse_poll(s, 50);
        took = now_ms() - took;
        close(fd);
        act = settle("active", 0, 2000, NULL);
        check(s->events >= 200 && s->gaps == 0 && s->eof && act == 0,
              "half-close: a stream half-closed while 500 events/s flow keeps receiving "
              "(%llu events, %llu missing), then is closed %ld ms after they stop; slot back",
              (unsigned long long)s->events, (unsigned long long)s->gaps, took);
        free(s);
    }
}

int main(int argc, char **argv)
{
    const char *server = NULL, *log = NULL;
    uint64_t seed = (uint64_t)now_ms();
    int nmut = 10000, i;
    long long threads0, fds0, threads1, fds1;
    long t_start = now_ms();

    if (argc == 4 && strcmp(argv[1], "--reader") == 0)
        return reader_main((unsigned)atoi(argv[2]), atoi(argv[3]));
    for (i = 1; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--server") == 0)
            server = argv[i + 1];
        else if (strcmp(argv[i], "--seed") == 0)
            seed = strtoull(argv[i + 1], NULL, 10);
        else if (strcmp(argv[i], "--server-log") == 0)
            log = argv[i + 1];
        else if (strcmp(argv[i], "--mutations") == 0)
            nmut = atoi(argv[i + 1]);
    }
    if (!server || i != argc || nmut < 4) {
        fprintf(stderr, "usage: %s --server PATH [--server-log FILE] [--seed N] [--mutations N]\n", argv[0]);
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);
    {
        static const au_opt_t opts[] = {
            { "--slots", SLOTS }, { "--header-timeout-ms", HEADER_TO_MS },
            { "--send-timeout-ms", SEND_TO_MS }, { "--idle-check-ms", IDLE_CHECK_MS },
            { "--heartbeat-ms", HEARTBEAT_MS }, { "--overload-retry-ms", OVERLOAD_RETRY },
            { "--retry-ms", 500 },
        };
        if (!check(au_srv_start(&srv, server, opts, sizeof opts / sizeof opts[0], log) == 0,
                   "server starts (%s, %d slots, header timeout %d ms, send timeout %d ms, "
                   "idle check %d ms)", server, SLOTS, HEADER_TO_MS, SEND_TO_MS,
                   IDLE_CHECK_MS)) {
            printf("attack: %d passed, %d failed\n", au_passed, au_failed);
            return 1;
        }
    }
    check(serving(1), "baseline: GET / is 200 and /events streams");
    settle("active", 0, 2000, NULL);
    threads0 = srv_get("proc", "threads");
    fds0 = srv_get("proc", "fds");

    smuggling();
    oversize();
    slow_clients();
    mutations(seed, nmut);
    flood();
    resets();
    stopped_reader(argv[0]);
    half_close();

    check(serving(1), "end: still serving");
    check(settle("active", 0, 3000, NULL) == 0, "end: no slot held");
    {
        long end = now_ms() + 3000;
        do {
            threads1 = srv_get("proc", "threads");
            fds1 = srv_get("proc", "fds");
        } while ((threads1 != threads0 || fds1 != fds0) && now_ms() < end &&
                 (sleep_ms(50), 1));
    }
    check(threads1 == threads0 && fds1 == fds0,
          "end: server threads %lld -> %lld, descriptors %lld -> %lld", threads0, threads1,
          fds0, fds1);
    check(au_srv_stop(&srv) == 0, "server stops cleanly (exit 0)");
    printf("# %ld s in all\n", (now_ms() - t_start + 500) / 1000);
    printf("attack: %d passed, %d failed\n", au_passed, au_failed);
    return au_failed ? 1 : 0;
}
