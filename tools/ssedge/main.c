/* SPDX-License-Identifier: MIT */
/* ssedge, the command: each line a program prints (or that comes on stdin)
 * becomes one Server-Sent Event on /events, with a dashboard at /, POST
 * /publish for other programs and stats for monitoring. Flags, the server,
 * and the loop that runs the program, restarts it and stops it. */
#define _GNU_SOURCE /* strsignal, pipe2 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/wait.h>
#include "ssedge/sse.h"
#include "ssedge.h"
#include "../../examples/common/args.h"
#include "../../examples/common/serve.h"
#include "../../examples/common/stats.h"
#include "../../examples/common/uplink.h"
#include "../../examples/common/web.h"

extern const struct sse_asset ssedge_assets[];
extern const size_t ssedge_assets_count;

#define NAME "ssedge"
#define DEFAULT_PORT 8080
#define DEFAULT_RESTART_MS 1000
#define MAX_RESTART_MS 30000L    /* the back-off doubles up to this */
#define HEALTHY_MS 10000         /* a program that ran this long restarts at once-ish */
#define STOP_GRACE_MS 5000       /* SIGTERM to the program, then SIGKILL */
#define DRAIN_MS 1000            /* output held open after the program exited */
#ifdef CONFIG_SSE_MAX_CHANNELS
#define MAX_CHANNELS CONFIG_SSE_MAX_CHANNELS
#else
#define MAX_CHANNELS 8
#endif

static feed_t feed;
static child_t child = { .out = -1, .err = -1 };
static unsigned long restarts;
static int sigpipe[2] = { -1, -1 };

/* What the handler serves, fixed before the server starts. */
static struct {
    const char *token;        /* streams, stats and ssedge.json need it */
    const char *stats_path;   /* NULL: no stats */
    const char *channels[MAX_CHANNELS];
    unsigned    num_channels;
    const char *source;       /* what the input is, for the page */
    char        json[512];    /* /ssedge.json */
    size_t      json_len;
} web;

/* ---- HTTP ---------------------------------------------------------------- */

static int path_is(const sse_request_t *req, const char *p)
{
    return strlen(p) == req->path.n && memcmp(p, req->path.p, req->path.n) == 0;
}

static int refuse_401(sse_conn_t *c)
{
    return sse_reply(c, 401, "text/plain", "WWW-Authenticate: Bearer realm=\"ssedge\"\r\n",
                     "a bearer token is needed\n", 25);
}

static int handler(sse_conn_t *c, const sse_request_t *req, void *user)
{
    const struct sse_asset *a;
    (void)user;
    if (web.stats_path && path_is(req, web.stats_path)) {
        char buf[4608]; /* 3.6 KB of Prometheus text, 4.1 KB with 20-digit counters */
        int running = child.pid > 0;
        stats_extra_t x[] = {
            { "input_lines", "Lines read from the program or stdin", 1, 0 },
            { "input_events", "Events published from the input", 1, 0 },
            { "input_skipped", "Lines or records refused (logged)", 1, 0 },
            { "program_restarts", "Times --restart started the program again", 1, 0 },
            { "program_running", "1 while the program runs", 0, 0 },
        };
        if (web.token && !sse_token_ok(req, web.token))
            return refuse_401(c);
        x[0].value = __atomic_load_n(&feed.lines, __ATOMIC_RELAXED);
        x[1].value = __atomic_load_n(&feed.events, __ATOMIC_RELAXED);
        x[2].value = __atomic_load_n(&feed.skipped, __ATOMIC_RELAXED);
        x[3].value = __atomic_load_n(&restarts, __ATOMIC_RELAXED);
        x[4].value = (unsigned long)running;
        return stats_reply(c, req, buf, sizeof buf, x, sizeof x / sizeof x[0]);
    }
    if (path_is(req, "/ssedge.json")) {
        if (web.token && !sse_token_ok(req, web.token))
            return refuse_401(c);
        return sse_reply(c, 200, "application/json", "Cache-Control: no-store\r\n", web.json,
                         web.json_len);
    }
    a = web_find(ssedge_assets, ssedge_assets_count, req->path);
    if (a)
        return web_reply(c, req, a);
    return sse_reply(c, 404, "text/plain", NULL, "not found\n", 10);
}

/* A JSON string of @p s (printable ASCII kept, the rest escaped). */
static void json_str(char *buf, size_t cap, int *n, const char *s)
{
    stats_put(buf, cap, n, "\"");
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch == '"' || ch == '\\')
            stats_put(buf, cap, n, "\\%c", ch);
        else if (ch < 0x20 || ch >= 0x7f)
            stats_put(buf, cap, n, "\\u%04x", ch);
        else
            stats_put(buf, cap, n, "%c", ch);
    }
    stats_put(buf, cap, n, "\"");
}

/* /ssedge.json: where the page finds the stream and what feeds it. */
static void make_page_json(int sse_mode, const char *event)
{
    int n = 0;
    unsigned i;
    stats_put(web.json, sizeof web.json, &n, "{\"stream\":\"/events\",\"channels\":[");
    for (i = 0; i < web.num_channels; i++) {
        if (i)
            stats_put(web.json, sizeof web.json, &n, ",");
        json_str(web.json, sizeof web.json, &n, web.channels[i]);
    }
    stats_put(web.json, sizeof web.json, &n, "],\"source\":");
    json_str(web.json, sizeof web.json, &n, web.source);
    stats_put(web.json, sizeof web.json, &n, ",\"input\":\"%s\",\"event\":",
              sse_mode ? "sse" : "lines");
    json_str(web.json, sizeof web.json, &n, event ? event : "message");
    stats_put(web.json, sizeof web.json, &n, "}\n");
    web.json_len = n > 0 ? (size_t)n : 0;
    if (n < 0) { /* names too long for the page's summary: the essentials */
        n = snprintf(web.json, sizeof web.json, "{\"stream\":\"/events\",\"channels\":[]}\n");
        web.json_len = (size_t)n;
    }
}

/* ---- flags --------------------------------------------------------------- */

static void help(void)
{
    printf("NAME\n"
           "    " NAME " - a program's output, or POSTs, as a live Server-Sent Events\n"
           "    stream with a dashboard\n"
           "\n"
           "SYNOPSIS\n"
           "    " NAME " [OPTIONS] -- CMD [ARGS...]\n"
           "    CMD | " NAME " [OPTIONS]\n"
           "\n"
           "DESCRIPTION\n"
           "    Runs CMD and publishes each line of its standard output as one event on\n"
           "    GET /events (every event gets the next id; a browser that reconnects with\n"
           "    Last-Event-ID gets what it missed). Without CMD it reads its own standard\n"
           "    input. GET / serves a dashboard: the events as they come and a chart of\n"
           "    every series whose data is a number or JSON with numeric fields.\n"
           "    CMD's standard error goes to ssedge's log (stderr, \"<N>\" priorities for\n"
           "    journald), with its exit status or signal. SIGTERM or SIGINT stop CMD's\n"
           "    process group (SIGKILL after %d s), then the server; exit 0.\n"
           "\n"
           "    The replay ring is sized when ssedge is built (CONFIG_SSE_RING_BYTES and\n"
           "    CONFIG_SSE_RING_EVENTS; make menuconfig): this build keeps the last %d\n"
           "    events within %d bytes. One event is at most %d bytes encoded\n"
           "    (CONFIG_SSE_MAX_EVENT_BYTES); a longer line is refused with a log line.\n"
           "    CMD is never held back: a stream whose reader lags it by more than the\n"
           "    ring holds is closed (streams_fell_behind); its browser resumes from what\n"
           "    the ring still has.\n"
           "\n"
           "OPTIONS\n"
           "    --sse\n"
           "        The input is SSE-framed: \"event: NAME\" and \"data: TEXT\" lines, a blank\n"
           "        line ends each event (several data lines make multi-line data).\n"
           "        \": text\" is a comment; id: and retry: are ignored. A record with any\n"
           "        other line, bad UTF-8 or too much data is logged and skipped.\n"
           "        Default: plain lines, one line one event (empty lines skipped).\n"
           "    --event NAME\n"
           "        Event name of plain lines. Default: none (browsers see \"message\").\n"
           "    --channel NAME\n"
           "        Publish the input on this channel instead of to every stream; streams\n"
           "        subscribe with /events?ch=NAME. Repeatable (up to %d): later ones\n"
           "        are channels for POST /publish?ch=. Default: none.\n"
           "    --port N\n"
           "        TCP port, 0..65535; 0 takes any free port (logged). Default: %d.\n"
           "    --bind ADDR\n"
           "        Numeric IPv4 or IPv6 address to listen on; \"::\" takes IPv6 and IPv4.\n"
           "        Default: 0.0.0.0 (every IPv4 interface).\n"
           "    --cors-origin ORIGIN\n"
           "        An origin allowed to read the stream from another site; \"*\" allows\n"
           "        any. Repeatable, up to %d times. Default: none (same origin only).\n"
           "    --token TOKEN\n"
           "        Streams, stats and /ssedge.json need this bearer token\n"
           "        (\"Authorization: Bearer TOKEN\" or ?token=; open the dashboard as\n"
           "        /?token=TOKEN). At least %d characters. Default: none (open).\n"
           "    --publish-token TOKEN\n"
           "        Turn on POST /publish: with this bearer token a request's body (up to\n"
           "        %d bytes, CONFIG_SSE_PUBLISH_BODY_MAX) becomes one event; ?event= names\n"
           "        it, ?ch= picks a --channel. At least %d characters. Default: off.\n"
           "    --stats PATH\n"
           "        Serve the server's and the input's numbers at PATH (e.g. /stats): JSON,\n"
           "        or Prometheus text for \"Accept: text/plain; version=0.0.4\".\n"
           "        Default: none.\n"
           "    --cert PEM\n"
           "        Serve https with this certificate (chain); needs --key and a build with\n"
           "        CONFIG_SSE_TLS. Default: plain http.\n"
           "    --key PEM\n"
           "        The private key of --cert. Default: none.\n"
           "    --restart\n"
           "        Start CMD again when it exits, after --restart-delay-ms, doubling for\n"
           "        each quick exit up to %ld s (reset once it ran %d s).\n"
           "        Default: when CMD exits, ssedge exits with its status.\n"
           "    --restart-delay-ms N\n"
           "        First delay of --restart, 10..%ld ms. Default: %d.\n"
           "    --linger\n"
           "        When the input ends, keep serving (the ring replays it) until SIGTERM.\n"
           "        Default: exit with CMD's status (stdin: 0).\n"
           UPLINK_HELP("every event (those for every stream and every --channel's)")
           "    -h, --help\n"
           "        Print this and exit.\n"
           "\n"
           "EXIT STATUS\n"
           "    0 after SIGTERM or SIGINT, or when stdin ends; CMD's exit status when it\n"
           "    ends (128+N for signal N) without --restart or --linger; 1 if the server\n"
           "    cannot start; 2 for a flag or value it does not take (a line names it).\n"
           "\n"
           "ENVIRONMENT\n"
           "    CMD gets PYTHONUNBUFFERED=1 (unless set): Python would hold its output in\n"
           "    8 KiB blocks on a pipe. Other programs may need stdbuf -oL or a flush.\n"
           "\n"
           "EXAMPLES\n"
           "    " NAME " --port 8080 -- ./sensor.sh\n"
           "    ./sensor.sh | " NAME " --port 8080 --event temp\n"
           "    curl -N http://127.0.0.1:8080/events\n",
           STOP_GRACE_MS / 1000, CONFIG_SSE_RING_EVENTS, CONFIG_SSE_RING_BYTES, FEED_MAX,
           MAX_CHANNELS, DEFAULT_PORT, MAX_CORS_ORIGINS, MIN_TOKEN_LEN,
           CONFIG_SSE_PUBLISH_BODY_MAX, MIN_TOKEN_LEN, MAX_RESTART_MS / 1000,
           HEALTHY_MS / 1000, MAX_RESTART_MS * 120, DEFAULT_RESTART_MS);
}

/* An event name the framer takes (non-empty, no CR/LF, UTF-8). */
static int name_ok(const char *name)
{
    sse_event_t ev;
    size_t need;
    memset(&ev, 0, sizeof ev);
    ev.event = name;
    ev.data = "";
    return sse_event_encode(NULL, 0, &ev, &need) == SSE_ERR_TOO_LARGE;
}

/* ---- signals -------------------------------------------------------------- */

static void on_signal(int sig)
{
    char b = sig == SIGCHLD ? 'C' : 'T';
    int e = errno;
    if (write(sigpipe[1], &b, 1) < 0) {
        /* the pipe is full: a wake-up is pending anyway */
    }
    errno = e;
}

/* Signals come to the main thread only (the server's threads block them),
 * through a pipe the loop polls. */
static void signals_setup(void)
{
    struct sigaction sa;
    sigset_t set;
    if (pipe2(sigpipe, O_CLOEXEC | O_NONBLOCK) != 0) {
        logmsg(LOG_ERR, "pipe: %s", strerror(errno));
        exit(1);
    }
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sa.sa_flags = SA_RESTART;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGCHLD, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGCHLD);
    pthread_sigmask(SIG_BLOCK, &set, NULL); /* until the server's threads exist */
}

static void signals_unblock(void)
{
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGCHLD);
    pthread_sigmask(SIG_UNBLOCK, &set, NULL);
}

/* ---- the loop ------------------------------------------------------------- */

/* Log how the program ended; @return the exit status ssedge passes on. */
static int ended(int status)
{
    double secs = (double)(mono_ms() - child.started_ms) / 1000.0;
    if (WIFSIGNALED(status)) {
        logmsg(LOG_WARNING, "%s (pid %ld) was killed by signal %d (%s) after %.1f s",
               child.argv[0], (long)child.pgid, WTERMSIG(status), strsignal(WTERMSIG(status)),
               secs);
        return 128 + WTERMSIG(status);
    }
    logmsg(WEXITSTATUS(status) ? LOG_WARNING : LOG_INFO,
           "%s (pid %ld) exited with status %d after %.1f s", child.argv[0], (long)child.pgid,
           WEXITSTATUS(status), secs);
    return WEXITSTATUS(status);
}

/* What the program left in its process group goes too: SIGTERM, or when
 * ssedge stops (they had their SIGTERM with the group) SIGKILL, and then
 * a bounded wait until the group is empty, so that none outlives ssedge. */
static void sweep_group(int stopping)
{
    int i;
    if (child.pgid <= 0 || kill(-child.pgid, 0) != 0)
        return;
    logmsg(LOG_NOTICE, "%s what %s left running in its process group %ld",
           stopping ? "killing" : "stopping", child.argv[0], (long)child.pgid);
    child_signal(&child, stopping ? SIGKILL : SIGTERM);
    for (i = 0; stopping && i < 100 && kill(-child.pgid, 0) == 0; i++) {
        int st;
        usleep(10 * 1000); /* 1 s at most */
        child_reap(&child, &st); /* orphans are ours (child_subreaper) */
    }
}

static int run(int have_cmd, int restart, uint32_t restart_ms, int linger)
{
    char buf[65536];
    uint64_t restart_at = 0, kill_at = 0, drain_until = 0;
    uint32_t backoff = restart_ms;
    int in = have_cmd ? -1 : STDIN_FILENO;
    int stopping = 0, ended_input = 0, exit_code = 0, status = 0, reaped = 0;

    if (have_cmd && child_start(&child) != 0)
        return 1;
    for (;;) {
        struct pollfd p[3];
        int np = 0, timeout = -1, r;
        uint64_t now = mono_ms(), next = 0;
        int out = have_cmd ? child.out : in;

        p[np].fd = sigpipe[0];
        p[np++].events = POLLIN;
        if (out >= 0) {
            p[np].fd = out;
            p[np++].events = POLLIN;
        }
        if (have_cmd && child.err >= 0) {
            p[np].fd = child.err;
            p[np++].events = POLLIN;
        }
        if (restart_at && (!next || restart_at < next))
            next = restart_at;
        if (kill_at && (!next || kill_at < next))
            next = kill_at;
        if (drain_until && (!next || drain_until < next))
            next = drain_until;
        if (next)
            timeout = next > now ? (int)(next - now) : 0;
        r = poll(p, (nfds_t)np, timeout);
        if (r < 0 && errno != EINTR) {
            logmsg(LOG_ERR, "poll: %s", strerror(errno));
            return 1;
        }
        now = mono_ms();
        for (int i = 0; r > 0 && i < np; i++) {
            ssize_t n;
            if (!p[i].revents)
                continue;
            if (p[i].fd == sigpipe[0]) {
                char sig[16];
                while ((n = read(sigpipe[0], sig, sizeof sig)) > 0)
                    for (ssize_t k = 0; k < n; k++)
                        stopping += sig[k] == 'T';
            } else if (p[i].fd == out) {
                n = read(out, buf, sizeof buf);
                if (n > 0) {
                    feed_bytes(&feed, buf, (size_t)n);
                } else if (n == 0 || (errno != EINTR && errno != EAGAIN)) {
                    feed_end(&feed);
                    if (have_cmd) {
                        close(child.out);
                        child.out = -1;
                    } else {
                        in = -1; /* stdin stays open: a closed fd 0 could be reused */
                        ended_input = 1;
                        logmsg(LOG_INFO, "standard input ended after %lu lines", feed.lines);
                    }
                }
            } else if (have_cmd && p[i].fd == child.err) {
                child_read_err(&child);
            }
        }
        /* The program: reaped, its output read to the end (or held open by
         * what it started, for DRAIN_MS at most). */
        if (have_cmd && child_reap(&child, &status)) {
            reaped = 1;
            exit_code = ended(status);
            drain_until = now + DRAIN_MS;
        }
        if (have_cmd && reaped && ((child.out < 0 && child.err < 0) || now >= drain_until)) {
            if (child.out >= 0)
                feed_end(&feed);
            child_close_pipes(&child);
            sweep_group(stopping);
            reaped = 0;
            drain_until = 0;
            kill_at = 0;
            ended_input = 1;
        }
        if (stopping && !kill_at && !ended_input && have_cmd && child.pid > 0) {
            logmsg(LOG_INFO, "stopping: SIGTERM to %s (process group %ld)", child.argv[0],
                   (long)child.pgid);
            child_signal(&child, SIGTERM);
            kill_at = now + STOP_GRACE_MS;
        }
        if (child.pid > 0 && kill_at && (now >= kill_at || stopping > 1)) {
            logmsg(LOG_WARNING, "%s: SIGKILL to process group %ld", stopping > 1 ?
                   "a second stop signal" : "still running after the grace period",
                   (long)child.pgid);
            child_signal(&child, SIGKILL);
            kill_at = now + STOP_GRACE_MS; /* cannot be ignored; the reap comes */
        }
        if (stopping && (ended_input || !have_cmd || child.pid == 0) && !reaped)
            return 0;
        if (ended_input && !stopping) {
            ended_input = 0;
            if (restart) {
                if (now - child.started_ms >= HEALTHY_MS)
                    backoff = restart_ms;
                restart_at = now + backoff;
                logmsg(LOG_INFO, "restarting %s in %u ms", child.argv[0], (unsigned)backoff);
                /* doubling up to 30 s, or the first delay if that is longer */
                backoff = backoff * 2 > MAX_RESTART_MS && backoff * 2 > restart_ms
                        ? (restart_ms > MAX_RESTART_MS ? restart_ms : (uint32_t)MAX_RESTART_MS)
                        : backoff * 2;
            } else if (linger) {
                logmsg(LOG_INFO, "the input ended: serving until SIGTERM (--linger)");
                linger = 2; /* said once */
            } else {
                return exit_code;
            }
        }
        if (restart_at && now >= restart_at) {
            restart_at = 0;
            if (child_start(&child) == 0)
                __atomic_add_fetch(&restarts, 1, __ATOMIC_RELAXED);
            else
                restart_at = now + backoff;
        }
    }
}

int main(int argc, char **argv)
{
    static sse_route_t routes[] = {
        { .path = "/events", .channel = SSE_CHANNEL_NONE },
    };
    static const char *cors[MAX_CORS_ORIGINS];
    sse_tls_cfg_t tls;
    sse_server_cfg_t cfg;
    const char *event = NULL;
    unsigned num_cors = 0;
    long restart_ms = DEFAULT_RESTART_MS;
    int sse_mode = 0, restart = 0, linger = 0, r, code, have_cmd, channel = SSE_CHANNEL_ALL;
    unsigned i;
    char host[64], why[160];
    args_t a;
    sse_uplink_cfg_t uplink;
    sse_uplink_route_t uplink_routes[MAX_CHANNELS];

    memset(&tls, 0, sizeof tls);
    sse_uplink_cfg_init(&uplink);
    sse_server_cfg_init(&cfg);
    cfg.port = DEFAULT_PORT;
    cfg.routes = routes;
    cfg.num_routes = 1;
    cfg.handler = handler;
    args_init(&a, NAME, help, argc, argv);
    while (args_next(&a)) {
        if (args_is(&a, "--")) {
            break;
        } else if (args_is(&a, "--port")) {
            cfg.port = (uint16_t)args_long(&a, 0, 65535);
        } else if (args_is(&a, "--bind")) {
            cfg.bind_addr = args_addr(&a);
        } else if (args_is(&a, "--sse")) {
            sse_mode = 1;
        } else if (args_is(&a, "--event")) {
            event = args_str(&a, "an event name");
            if (!name_ok(event))
                args_fail(&a, "not an event name: empty, a line break or not UTF-8");
        } else if (args_is(&a, "--channel")) {
            const char *ch = args_str(&a, "a channel name");
            if (!ch[0] || strspn(ch, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                     "0123456789._-") != strlen(ch))
                args_fail(&a, "a channel name is letters, digits, '.', '_' and '-'");
            if (web.num_channels == MAX_CHANNELS)
                args_fail(&a, "at most %d channels (CONFIG_SSE_MAX_CHANNELS)", MAX_CHANNELS);
            web.channels[web.num_channels++] = ch;
        } else if (args_is(&a, "--token") || args_is(&a, "--publish-token")) {
            const char *t = serve_token(&a);
            if (args_is(&a, "--token"))
                web.token = routes[0].token = t;
            else
                cfg.publish_token = t;
#if CONFIG_SSE_PUBLISH_BODY_MAX == 0
            if (cfg.publish_token)
                args_fail(&a, "this build has no POST /publish (CONFIG_SSE_PUBLISH_BODY_MAX 0)");
#endif
        } else if (args_is(&a, "--cors-origin")) {
            serve_cors_origin(&a, cors, &num_cors);
        } else if (args_is(&a, "--stats")) {
            const char *p = args_str(&a, "a path, e.g. /stats");
            if (p[0] != '/' || strchr(p, '?') || strchr(p, ' ') || strcmp(p, "/") == 0 ||
                strcmp(p, "/events") == 0 || strcmp(p, "/publish") == 0 ||
                web_find(ssedge_assets, ssedge_assets_count, (sse_str_t){ p, strlen(p) }) ||
                strcmp(p, "/ssedge.json") == 0)
                args_fail(&a, "a path of its own starting with '/' (e.g. /stats)");
            web.stats_path = p;
        } else if (args_is(&a, "--cert") || args_is(&a, "--key")) {
            const char **f = args_is(&a, "--cert") ? &tls.cert_file : &tls.key_file;
            *f = args_str(&a, "a PEM file");
#ifndef CONFIG_SSE_TLS
            args_fail(&a, "this build has no TLS (CONFIG_SSE_TLS)");
#endif
        } else if (args_is(&a, "--restart")) {
            restart = 1;
        } else if (args_is(&a, "--restart-delay-ms")) {
            restart_ms = args_long(&a, 10, MAX_RESTART_MS * 120);
        } else if (args_is(&a, "--linger")) {
            linger = 1;
        } else if (uplink_flag(&a, &uplink, 1)) {
            continue;
        } else {
            args_unknown(&a);
        }
    }
    have_cmd = args_is(&a, "--") && a.i + 1 < argc;
    if (args_is(&a, "--") && !have_cmd)
        args_fail_flag(&a, "--", "needs a command after it");
    if (restart && !have_cmd)
        args_fail_flag(&a, "--restart", "needs a command (-- CMD ARGS...) to start again");
    if (restart && linger)
        args_fail_flag(&a, "--linger", "has no use with --restart (the input never ends)");
    serve_finish(&a, &cfg, &tls, cors, num_cors);
    uplink_check(&a, &uplink);
    if (web.num_channels) {
        cfg.channel_names = web.channels;
        cfg.num_channel_names = web.num_channels;
    }
    if (have_cmd) {
        const char *slash = strrchr(argv[a.i + 1], '/');
        child.argv = argv + a.i + 1;
        web.source = slash ? slash + 1 : argv[a.i + 1];
    } else {
        web.source = "stdin";
    }
    make_page_json(sse_mode, event);

    /* Python holds its output in blocks on a pipe: the events would come
     * in bursts. Set before any thread exists; the user's own setting wins. */
    setenv("PYTHONUNBUFFERED", "1", 0);
    signals_setup();
    child_subreaper();
    if (serve_start(&cfg, why, sizeof why) != SSE_OK) {
        logmsg(LOG_ERR, "%s", why);
        return 1;
    }
    signals_unblock();
    if (web.num_channels)
        channel = sse_channel(web.channels[0]);
    /* Every channel goes up too, to the URL's own path. */
    for (i = 0; i < web.num_channels; i++) {
        uplink_routes[i].channel = sse_channel(web.channels[i]);
        uplink_routes[i].path = NULL;
    }
    uplink.routes = uplink_routes;
    uplink.num_routes = web.num_channels;
    if ((r = uplink_start_or_stop(&uplink)) != SSE_OK) {
        /* ssedge logged why on the line before */
        logmsg(LOG_ERR, "--uplink %s: %s", uplink.url, sse_strerror(r));
        return 1;
    }
    feed_init(&feed, sse_mode, event, channel);
    logmsg(LOG_INFO, "serving %s://%s:%u/ (stream /events%s%s, input: %s%s)",
           cfg.tls ? "https" : "http", args_url_host(host, sizeof host, cfg.bind_addr),
           (unsigned)sse_server_port(), web.num_channels ? "?ch=" : "",
           web.num_channels ? web.channels[0] : "", sse_mode ? "SSE records from " : "lines of ",
           web.source);

    code = run(have_cmd, restart, (uint32_t)restart_ms, linger);
    uplink_stop(&uplink);
    r = sse_server_stop();
    logmsg(LOG_INFO, "stopped (%lu lines, %lu events, %lu skipped)", feed.lines, feed.events,
           feed.skipped);
    return r == SSE_OK ? code : 1;
}
