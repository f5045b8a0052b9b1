/* SPDX-License-Identifier: MIT */
/* The server under attack and soak (tests/attack/, tests/soak/): ssedge on
 * 127.0.0.1 with its slot count and timeouts from the command line, a paced
 * publisher thread, and a stdin control line protocol.
 *
 *   sse_attack_server [--slots N] [--header-timeout-ms MS] [--send-timeout-ms MS]
 *                     [--idle-check-ms MS] [--heartbeat-ms MS] [--retry-ms MS]
 *                     [--overload-retry-ms MS]
 *
 * Binds an OS-chosen port and prints "ready port=P pid=PID". /events streams
 * every event; GET / answers 200 "ok"; anything else 404. Each stdin line
 * gets exactly one stdout line starting with "ok" or "err":
 *
 *   publish N [SIZE]  N events now, data SIZE bytes -> ok first=ID last=ID
 *   rate R [SIZE]     R events/s from the publisher thread (0: pause) -> ok
 *   stats             -> ok active= streams= accepted= overloaded= fell_behind=
 *                        send_failures= bad_requests= last_id= oldest_id=
 *                        published= skipped=
 *   proc              -> ok threads=T fds=F rss_kb=R   (this process, /proc)
 *   quit (or EOF)     stop the server and exit 0
 *
 * Event data is "<seq> " padded with 'x' to SIZE bytes (at least the number).
 * Only this program publishes, one event at a time under one lock, so seq
 * equals the event's id: a client checks the ids and what they carry.
 */
#define _GNU_SOURCE /* clock_nanosleep, sigaction under -std=c99 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "ssedge/sse.h"
#include "../host_util.h" /* ctl_reply, threads_now, fds_now, proc_status_kib */

#define NS_PER_S 1000000000ULL
#define MAX_DATA 900 /* stays below CONFIG_SSE_MAX_EVENT_BYTES with the fields */
/* A publisher woken this many periods late skips ahead instead of bursting. */
#define MAX_CATCHUP 64

#if CONFIG_SSE_MAX_EVENT_BYTES < MAX_DATA + 64
#error "sse_attack_server needs CONFIG_SSE_MAX_EVENT_BYTES >= 964"
#endif

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t  wake = PTHREAD_COND_INITIALIZER;
static unsigned long   rate;          /* events/s, 0 = paused */
static unsigned long   rate_size = 32;
static unsigned long   rate_gen;      /* bumped per "rate": restart the schedule */
static int             quitting;
static uint64_t        published, skipped; /* under lock */
static pthread_mutex_t pub_lock = PTHREAD_MUTEX_INITIALIZER; /* seq + publish */
static uint64_t        seq;

static uint64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * NS_PER_S + (uint64_t)ts.tv_nsec;
}

/* One event: data "<seq> xxx..." of size bytes. Sequence and ring id move
 * together under pub_lock, so the two threads that publish never interleave
 * a sequence number with another's id. */
static int publish_one(unsigned long size, uint64_t *id)
{
    char data[MAX_DATA + 1];
    int n, r;
    pthread_mutex_lock(&pub_lock);
    n = snprintf(data, sizeof data, "%llu ", (unsigned long long)++seq);
    if (n > 0 && (unsigned long)n < size) {
        memset(data + n, 'x', size - (size_t)n);
        n = (int)size;
    }
    r = sse_publish(SSE_CHANNEL_ALL, NULL, data, (size_t)n, id);
    pthread_mutex_unlock(&pub_lock);
    pthread_mutex_lock(&lock);
    if (r == SSE_OK)
        published++;
    pthread_mutex_unlock(&lock);
    return r;
}

/* Publishes at `rate` on an absolute schedule (no drift from late wake-ups);
 * sleeps on the condition variable while paused. Lives as long as the
 * process, so the thread count does not depend on the rate. */
static void *publisher(void *unused)
{
    uint64_t base = 0, k = 0;
    unsigned long gen = (unsigned long)-1;
    (void)unused;
    pthread_mutex_lock(&lock);
    while (!quitting) {
        unsigned long r = rate, size = rate_size;
        uint64_t due, now;
        struct timespec ts;
        if (r == 0) {
            pthread_cond_wait(&wake, &lock);
            continue;
        }
        if (gen != rate_gen) {
            gen = rate_gen;
            base = mono_ns();
            k = 0;
        }
        pthread_mutex_unlock(&lock);
        due = base + (k + 1) * NS_PER_S / r;
        ts.tv_sec = (time_t)(due / NS_PER_S);
        ts.tv_nsec = (long)(due % NS_PER_S);
        /* Bounded naps so a new rate or quit is seen within 50 ms. */
        now = mono_ns();
        if (due > now + 50000000ULL) {
            uint64_t t = now + 50000000ULL;
            ts.tv_sec = (time_t)(t / NS_PER_S);
            ts.tv_nsec = (long)(t % NS_PER_S);
            clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
            pthread_mutex_lock(&lock);
            continue;
        }
        clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
        now = mono_ns();
        if (now > due + MAX_CATCHUP * NS_PER_S / r) {
            pthread_mutex_lock(&lock);
            skipped += (now - due) * r / NS_PER_S;
            base = now;
            k = 0;
            continue;
        }
        publish_one(size, NULL);
        k++;
        if (k == r) { /* keep k small: base moves one second per r events */
            base += NS_PER_S;
            k = 0;
        }
        pthread_mutex_lock(&lock);
    }
    pthread_mutex_unlock(&lock);
    return NULL;
}

/* Write every page of this program's static data (.data, .bss: ssedge's
 * slots and buffer pool live there; its ring it writes itself at start)
 * once, before anything runs, writing back what is there. Static memory
 * has a fixed size, but its pages become resident only when first used,
 * some of them late (a slot's send buffer filled to its end for the first
 * time): the soak's RSS drift would count that. Touched up front, what can
 * still grow is heap, stacks and leaks. */
static void prefault_static(void)
{
    FILE *f = fopen("/proc/self/maps", "r");
    char line[512], exe[256] = "";
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    int after_exe = 0;
    if (!f || n <= 0) {
        if (f)
            fclose(f);
        return;
    }
    exe[n] = 0;
    while (fgets(line, sizeof line, f)) {
        unsigned long lo, hi;
        char perms[8], path[300] = "";
        int is_exe;
        if (sscanf(line, "%lx-%lx %7s %*s %*s %*s %299s", &lo, &hi, perms, path) < 3)
            continue;
        is_exe = strcmp(path, exe) == 0;
        /* The executable's writable mapping, and the nameless one right
         * after it (.bss beyond the file's last page). */
        if (strcmp(perms, "rw-p") == 0 && (is_exe || (after_exe && path[0] == 0))) {
            volatile char *p;
            for (p = (volatile char *)lo; p < (volatile char *)hi; p += 4096)
                *p = *p;
        }
        after_exe = is_exe;
    }
    fclose(f);
}

/* Anonymous resident memory (RssAnon): heap, stacks, static data. File
 * pages (libc's code, paged in as new paths first run) are left out: they
 * are shared, bounded, and not the program's to leak. */
static long rss_kb(void)
{
    return proc_status_kib("RssAnon");
}

static int handler(sse_conn_t *c, const sse_request_t *req, void *user)
{
    (void)user;
    if (req->path.n == 1 && req->path.p[0] == '/')
        return sse_reply(c, 200, "text/plain", NULL, "ok\n", 3);
    return sse_reply(c, 404, "text/plain", NULL, "not found\n", 10);
}

static int parse_ul(const char *s, unsigned long max, unsigned long *out)
{
    char *end;
    if (!s)
        return -1;
    errno = 0;
    *out = strtoul(s, &end, 10);
    return errno == 0 && end != s && *end == 0 && *out <= max ? 0 : -1;
}

static void command(char *line)
{
    char *argv[4] = { 0 };
    char *save = NULL, *tok;
    int argc = 0;
    unsigned long a, b = 32;

    for (tok = strtok_r(line, " \t\r\n", &save); tok && argc < 4;
         tok = strtok_r(NULL, " \t\r\n", &save))
        argv[argc++] = tok;
    if (argc == 0) {
        ctl_reply("err empty");
    } else if (strcmp(argv[0], "publish") == 0) {
        uint64_t id = 0, first = 0;
        unsigned long k;
        if (parse_ul(argv[1], 1000000, &a) != 0 || a == 0 ||
            (argv[2] && parse_ul(argv[2], MAX_DATA, &b) != 0)) {
            ctl_reply("err usage: publish N [SIZE<=%d]", MAX_DATA);
            return;
        }
        for (k = 0; k < a; k++) {
            int r = publish_one(b, &id);
            if (r != SSE_OK) {
                ctl_reply("err publish %s", sse_strerror(r));
                return;
            }
            if (k == 0)
                first = id;
        }
        ctl_reply("ok first=%llu last=%llu", (unsigned long long)first, (unsigned long long)id);
    } else if (strcmp(argv[0], "rate") == 0) {
        if (parse_ul(argv[1], 1000000, &a) != 0 ||
            (argv[2] && parse_ul(argv[2], MAX_DATA, &b) != 0)) {
            ctl_reply("err usage: rate R [SIZE<=%d]", MAX_DATA);
            return;
        }
        pthread_mutex_lock(&lock);
        rate = a;
        rate_size = b;
        rate_gen++;
        pthread_cond_signal(&wake);
        pthread_mutex_unlock(&lock);
        ctl_reply("ok");
    } else if (strcmp(argv[0], "stats") == 0) {
        sse_stats_t st;
        uint64_t pub, skip;
        sse_server_stats(&st);
        pthread_mutex_lock(&lock);
        pub = published;
        skip = skipped;
        pthread_mutex_unlock(&lock);
        ctl_reply("ok active=%u streams=%u accepted=%llu overloaded=%llu fell_behind=%llu "
              "send_failures=%llu bad_requests=%llu last_id=%llu oldest_id=%llu "
              "published=%llu skipped=%llu",
              st.active, st.streams, (unsigned long long)st.accepted,
              (unsigned long long)st.overloaded, (unsigned long long)st.fell_behind,
              (unsigned long long)st.send_failures, (unsigned long long)st.bad_requests,
              (unsigned long long)st.last_id, (unsigned long long)st.oldest_id,
              (unsigned long long)pub, (unsigned long long)skip);
    } else if (strcmp(argv[0], "proc") == 0) {
        ctl_reply("ok threads=%d fds=%d rss_kb=%ld", threads_now(), fds_now(), rss_kb());
    } else {
        ctl_reply("err unknown command %s", argv[0]);
    }
}

static void usage(const char *argv0)
{
    fprintf(stderr,
            "usage: %s [--slots N] [--header-timeout-ms MS] [--send-timeout-ms MS]\n"
            "          [--idle-check-ms MS] [--heartbeat-ms MS] [--retry-ms MS]\n"
            "          [--overload-retry-ms MS]\n",
            argv0);
    exit(2);
}

int main(int argc, char **argv)
{
    static const sse_route_t routes[] = {
        { .path = "/events", .channel = SSE_CHANNEL_NONE },
    };
    sse_server_cfg_t cfg;
    struct sigaction sa;
    pthread_t pub;
    char line[256];
    int i, r;

    sse_server_cfg_init(&cfg);
    cfg.bind_addr = "127.0.0.1";
    cfg.port = 0;
    cfg.routes = routes;
    cfg.num_routes = 1;
    cfg.handler = handler;
    for (i = 1; i < argc; i += 2) {
        unsigned long v;
        if (i + 1 >= argc || parse_ul(argv[i + 1], 3600000, &v) != 0)
            usage(argv[0]);
        if (strcmp(argv[i], "--slots") == 0 && v >= 1 && v <= CONFIG_SSE_MAX_CONNECTIONS)
            cfg.max_connections = (unsigned)v;
        else if (strcmp(argv[i], "--header-timeout-ms") == 0 && v > 0)
            cfg.header_timeout_ms = (uint32_t)v;
        else if (strcmp(argv[i], "--send-timeout-ms") == 0 && v > 0)
            cfg.send_timeout_ms = (uint32_t)v;
        else if (strcmp(argv[i], "--idle-check-ms") == 0 && v > 0)
            cfg.idle_check_ms = (uint32_t)v;
        else if (strcmp(argv[i], "--heartbeat-ms") == 0)
            cfg.heartbeat_ms = (uint32_t)v;
        else if (strcmp(argv[i], "--retry-ms") == 0)
            cfg.retry_ms = (uint32_t)v;
        else if (strcmp(argv[i], "--overload-retry-ms") == 0)
            cfg.overload_retry_ms = (uint32_t)v;
        else
            usage(argv[0]);
    }
    /* A client that vanished must cost a send error, not the process. */
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = SIG_IGN;
    sigaction(SIGPIPE, &sa, NULL);

    prefault_static();
    r = sse_server_start(&cfg);
    if (r != SSE_OK) {
        ctl_reply("err start %s", sse_strerror(r));
        return 1;
    }
    if (pthread_create(&pub, NULL, publisher, NULL) != 0) {
        ctl_reply("err publisher thread");
        sse_server_stop();
        return 1;
    }
    ctl_reply("ready port=%u pid=%ld", (unsigned)sse_server_port(), (long)getpid());

    while (fgets(line, sizeof line, stdin) != NULL) {
        if (strncmp(line, "quit", 4) == 0)
            break;
        command(line);
    }
    pthread_mutex_lock(&lock);
    quitting = 1;
    pthread_cond_signal(&wake);
    pthread_mutex_unlock(&lock);
    pthread_join(pub, NULL);
    sse_server_stop();
    ctl_reply("ok");
    return 0;
}
