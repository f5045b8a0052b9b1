/* SPDX-License-Identifier: MIT */
/* A controllable ssedge server for the end-to-end tests (tests/e2e/).
 *
 *   sse_e2e_server --port P [--retry-ms N] [--cert PEM --key PEM]
 *
 * Binds 127.0.0.1 (P may be 0). --cert/--key serve https instead (a build
 * with CONFIG_SSE_TLS; any other build exits 1 saying so); "start" after
 * "stop" keeps TLS.
 * Serves the stream /events (every event, plus "?ch=a,b" channels), the
 * same behind the bearer token "e2e+token/0123456789=" at /secure, and a
 * minimal same-origin page at GET /; everything else is 404. Prints
 * "ready port=P" (over https: "ready port=P tls=1") once listening, or one
 * line "err ..." and exits 1 if it cannot start; then reads one command a
 * line on stdin and answers each with exactly one line on stdout starting
 * with "ok" or "err":
 *
 *   publish N [EVENT]    N events to every stream  -> ok first=ID last=ID
 *   publish_ch NAME N    N events on channel NAME  -> ok first=ID last=ID
 *   stop | start [RETRY_MS]                        -> ok
 *   kick                 close every open stream   -> ok n=K
 *   refuse STATUS        on_request answers STATUS (0: stream again) -> ok
 *   log                  -> ok opens=N requests=R leids=<Last-Event-ID list>
 *   stats                -> ok streams=S active=A last_id=L oldest_id=O
 *                           tls_failures=F (failed TLS handshakes)
 *                           auth_failures=U (401s from /secure)
 *   quit (or EOF)        stop and exit 0
 */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "ssedge/sse.h"
#include "../host_util.h" /* ctl_reply */

#define MAX_OPEN  256  /* streams tracked for "kick" */
#define MAX_LEIDS 128  /* Last-Event-ID values remembered for "log" */
#define LEID_LEN  24

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static sse_conn_id_t open_ids[MAX_OPEN];
static unsigned num_open;
static unsigned long opens, requests;
static int refuse_status;
static char leids[MAX_LEIDS][LEID_LEN];
static unsigned num_leids;
static unsigned long published; /* data counter: "n1", "n2", ... */

static const char page[] =
    "<!doctype html><html><head><meta charset=\"utf-8\"><title>e2e</title>"
    "</head><body><p>ssedge e2e</p></body></html>\n";

static int on_request(const sse_request_t *req, void *user)
{
    int st;
    (void)user;
    pthread_mutex_lock(&lock);
    requests++;
    if (num_leids < MAX_LEIDS) {
        char *d = leids[num_leids++];
        if (req->last_event_id.p == NULL) {
            strcpy(d, "-");
        } else {
            size_t n = req->last_event_id.n, i;
            if (n > LEID_LEN - 1)
                n = LEID_LEN - 1;
            for (i = 0; i < n; i++) {
                char ch = req->last_event_id.p[i];
                /* keep the reply one token: no separators or blanks */
                d[i] = (ch == ',' || ch == ' ' || ch == '\t') ? '_' : ch;
            }
            d[n] = 0;
            if (n == 0)
                strcpy(d, "\"\"");
        }
    }
    st = refuse_status;
    pthread_mutex_unlock(&lock);
    return st;
}

static void on_open(sse_conn_id_t conn, const sse_request_t *req, void *user)
{
    (void)req;
    (void)user;
    pthread_mutex_lock(&lock);
    opens++;
    if (num_open < MAX_OPEN)
        open_ids[num_open++] = conn;
    pthread_mutex_unlock(&lock);
}

static void on_close(sse_conn_id_t conn, void *user)
{
    unsigned i;
    (void)user;
    pthread_mutex_lock(&lock);
    for (i = 0; i < num_open; i++) {
        if (open_ids[i] == conn) {
            open_ids[i] = open_ids[--num_open];
            break;
        }
    }
    pthread_mutex_unlock(&lock);
}

static int handler(sse_conn_t *c, const sse_request_t *req, void *user)
{
    (void)user;
    if (req->path.n == 1 && req->path.p[0] == '/')
        return sse_reply(c, 200, "text/html; charset=utf-8", NULL, page,
                         sizeof page - 1);
    return sse_reply(c, 404, "text/plain", NULL, "not found\n", 10);
}

#define E2E_TOKEN "e2e+token/0123456789=" /* needs escaping in a query */

static const sse_route_t routes[] = {
    { .path = "/events", .channel = SSE_CHANNEL_NONE, .on_open = on_open, .on_close = on_close, .on_request = on_request },
    /* Every event too, for holders of the bearer token only. */
    { .path = "/secure", .channel = SSE_CHANNEL_NONE, .token = E2E_TOKEN },
};
static const char *const channel_names[] = { "a", "b" };

static sse_server_cfg_t cfg;

/* Publish n events named ev on channel ch; reply with the ids. */
static void publish_n(int ch, const char *ev, long n)
{
    uint64_t first = 0, last = 0, id;
    long k;
    int r;
    if (n < 1 || n > 100000) {
        ctl_reply("err count");
        return;
    }
    for (k = 0; k < n; k++) {
        char data[32];
        int len = snprintf(data, sizeof data, "n%lu", ++published);
        r = sse_publish(ch, ev, data, (size_t)len, &id);
        if (r != SSE_OK) {
            ctl_reply("err publish %s", sse_strerror(r));
            return;
        }
        if (k == 0)
            first = id;
        last = id;
    }
    ctl_reply("ok first=%llu last=%llu", (unsigned long long)first,
          (unsigned long long)last);
}

static int parse_long(const char *s, long *out)
{
    char *end;
    if (s == NULL)
        return -1;
    *out = strtol(s, &end, 10);
    return (*end == 0 && end != s) ? 0 : -1;
}

static void do_log(void)
{
    /* "ok opens=N requests=R leids=" + up to MAX_LEIDS * LEID_LEN */
    static char buf[64 + MAX_LEIDS * (LEID_LEN + 1)];
    size_t off;
    unsigned i;
    pthread_mutex_lock(&lock);
    off = (size_t)snprintf(buf, sizeof buf, "ok opens=%lu requests=%lu leids=",
                           opens, requests);
    for (i = 0; i < num_leids; i++)
        off += (size_t)snprintf(buf + off, sizeof buf - off, "%s%s",
                                i ? "," : "", leids[i]);
    pthread_mutex_unlock(&lock);
    ctl_reply("%s", buf);
}

static void do_kick(void)
{
    sse_conn_id_t ids[MAX_OPEN];
    unsigned n, i, closed = 0;
    pthread_mutex_lock(&lock);
    n = num_open;
    memcpy(ids, open_ids, n * sizeof ids[0]);
    pthread_mutex_unlock(&lock);
    for (i = 0; i < n; i++)
        if (sse_conn_close(ids[i]) == SSE_OK)
            closed++;
    ctl_reply("ok n=%u", closed);
}

static void command(char *line)
{
    char *argv[4] = { 0 };
    char *save = NULL, *tok;
    int argc = 0, r;
    long v;

    for (tok = strtok_r(line, " \t\r\n", &save); tok && argc < 4;
         tok = strtok_r(NULL, " \t\r\n", &save))
        argv[argc++] = tok;
    if (argc == 0) {
        ctl_reply("err empty");
        return;
    }
    if (strcmp(argv[0], "publish") == 0) {
        if (parse_long(argv[1], &v) != 0) {
            ctl_reply("err usage: publish N [EVENT]");
            return;
        }
        publish_n(SSE_CHANNEL_ALL, argv[2] ? argv[2] : "message", v);
    } else if (strcmp(argv[0], "publish_ch") == 0) {
        int ch;
        if (argv[1] == NULL || parse_long(argv[2], &v) != 0) {
            ctl_reply("err usage: publish_ch NAME N");
            return;
        }
        ch = sse_channel(argv[1]);
        if (ch < 0) {
            ctl_reply("err channel %s: %s", argv[1], sse_strerror(ch));
            return;
        }
        publish_n(ch, argv[1], v);
    } else if (strcmp(argv[0], "stop") == 0) {
        r = sse_server_stop();
        if (r == SSE_OK)
            ctl_reply("ok");
        else
            ctl_reply("err stop %s", sse_strerror(r));
    } else if (strcmp(argv[0], "start") == 0) {
        if (argv[1]) {
            if (parse_long(argv[1], &v) != 0 || v < 0) {
                ctl_reply("err usage: start [RETRY_MS]");
                return;
            }
            cfg.retry_ms = (uint32_t)v;
        }
        r = sse_server_start(&cfg);
        if (r == SSE_OK)
            ctl_reply("ok");
        else
            ctl_reply("err start %s", sse_strerror(r));
    } else if (strcmp(argv[0], "kick") == 0) {
        do_kick();
    } else if (strcmp(argv[0], "refuse") == 0) {
        if (parse_long(argv[1], &v) != 0 || v < 0 || v > 999) {
            ctl_reply("err usage: refuse STATUS");
            return;
        }
        pthread_mutex_lock(&lock);
        refuse_status = (int)v;
        pthread_mutex_unlock(&lock);
        ctl_reply("ok");
    } else if (strcmp(argv[0], "log") == 0) {
        do_log();
    } else if (strcmp(argv[0], "stats") == 0) {
        sse_stats_t st;
        sse_server_stats(&st);
        ctl_reply("ok streams=%u active=%u last_id=%llu oldest_id=%llu "
              "tls_failures=%llu auth_failures=%llu",
              st.streams, st.active, (unsigned long long)st.last_id,
              (unsigned long long)st.oldest_id,
              (unsigned long long)st.tls_failures,
              (unsigned long long)st.auth_failures);
    } else if (strcmp(argv[0], "quit") == 0) {
        sse_server_stop();
        ctl_reply("ok");
        exit(0);
    } else {
        ctl_reply("err unknown command %s", argv[0]);
    }
}

static void usage(const char *argv0)
{
    fprintf(stderr,
            "usage: %s --port P [--retry-ms N] [--cert PEM --key PEM]\n",
            argv0);
    exit(2);
}

int main(int argc, char **argv)
{
    static sse_tls_cfg_t tls; /* outlives every "start" */
    char line[512];
    int i, r, have_port = 0;

    sse_server_cfg_init(&cfg);
    cfg.bind_addr = "127.0.0.1";
    cfg.routes = routes;
    cfg.num_routes = sizeof routes / sizeof routes[0];
    cfg.handler = handler;
    cfg.channel_names = channel_names;
    cfg.num_channel_names = sizeof channel_names / sizeof channel_names[0];
    cfg.max_connections = 64;
    cfg.idle_check_ms = 100;
    memset(&tls, 0, sizeof tls);
    for (i = 1; i < argc; i += 2) {
        long v;
        if (i + 1 >= argc)
            usage(argv[0]);
        if (strcmp(argv[i], "--cert") == 0) {
            tls.cert_file = argv[i + 1];
            continue;
        }
        if (strcmp(argv[i], "--key") == 0) {
            tls.key_file = argv[i + 1];
            continue;
        }
        if (parse_long(argv[i + 1], &v) != 0 || v < 0)
            usage(argv[0]);
        if (strcmp(argv[i], "--port") == 0 && v <= 65535) {
            cfg.port = (uint16_t)v;
            have_port = 1;
        } else if (strcmp(argv[i], "--retry-ms") == 0) {
            cfg.retry_ms = (uint32_t)v;
        } else {
            usage(argv[0]);
        }
    }
    if (!have_port || (tls.cert_file == NULL) != (tls.key_file == NULL))
        usage(argv[0]);
    if (tls.cert_file != NULL)
        cfg.tls = &tls; /* kept in cfg: "start" after "stop" is https too */

    r = sse_server_start(&cfg);
    if (r != SSE_OK) {
        const char *why = "";
#ifndef CONFIG_SSE_TLS
        if (cfg.tls != NULL && r == SSE_ERR_ARG)
            why = " (--cert/--key: this build has no CONFIG_SSE_TLS; use "
                  "configs/posix_tls_defconfig)";
#endif
        ctl_reply("err start %s%s", sse_strerror(r), why);
        fprintf(stderr, "sse_e2e_server: cannot start %s on 127.0.0.1:%u: %s%s\n",
                cfg.tls ? "https" : "http", (unsigned)cfg.port, sse_strerror(r),
                why);
        return 1;
    }
    cfg.port = sse_server_port(); /* "start" after "stop" binds the same port */
    ctl_reply("ready port=%u%s", (unsigned)cfg.port, cfg.tls ? " tls=1" : "");

    while (fgets(line, sizeof line, stdin) != NULL)
        command(line);
    sse_server_stop(); /* EOF: as "quit" (SSE_ERR_ARG if already stopped) */
    return 0;
}
