/* sse_bench_mhd: the fan-out bench's libmicrohttpd peer (thread per connection, one blocking content reader per stream). */
#define _GNU_SOURCE /* clock_nanosleep, sigaction, ssize_t for microhttpd.h */

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <unistd.h>

#include <microhttpd.h>

#include "pace.h"

/* The newest frames, for streams that are a few events behind; a stream
 * further behind than this is ended. */
#define RING 4096
#define FRAME_MAX 96

static struct {
    size_t len;
    char buf[FRAME_MAX];
} g_ring[RING];                  /* frame of seq s is g_ring[s % RING] */
static uint64_t g_latest;        /* seq of the newest frame; 0: none yet */
static int g_stopping;
static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t g_cond = PTHREAD_COND_INITIALIZER; /* a new frame, or stop */
static uint64_t g_fell_behind;   /* streams ended for falling out of the ring */

static volatile sig_atomic_t g_stop;

/* One stream: the next seq it sends, and how much of that frame is out. */
struct stream {
    uint64_t next;
    size_t off;
};

static void on_signal(int sig)
{
    (void)sig;
    g_stop = 1;
}

/* MHD's content reader, on the stream's own connection thread: wait for
 * the next event, then hand MHD every frame the stream has not sent yet. */
static ssize_t stream_read(void *cls, uint64_t pos, char *buf, size_t max)
{
    struct stream *s = cls;
    size_t n = 0;

    (void)pos;
    pthread_mutex_lock(&g_lock);
    while (!g_stopping && s->next > g_latest)
        pthread_cond_wait(&g_cond, &g_lock);
    if (g_stopping) {
        pthread_mutex_unlock(&g_lock);
        return MHD_CONTENT_READER_END_OF_STREAM;
    }
    if (g_latest - s->next >= RING) { /* its next frame was overwritten */
        g_fell_behind++;
        pthread_mutex_unlock(&g_lock);
        return MHD_CONTENT_READER_END_WITH_ERROR;
    }
    while (s->next <= g_latest && n < max) {
        const char *f = g_ring[s->next % RING].buf;
        size_t len = g_ring[s->next % RING].len, take = len - s->off;

        if (take > max - n)
            take = max - n;
        memcpy(buf + n, f + s->off, take);
        n += take;
        s->off += take;
        if (s->off < len)
            break; /* MHD's buffer is full */
        s->next++;
        s->off = 0;
    }
    pthread_mutex_unlock(&g_lock);
    return (ssize_t)n;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn,
                                  const char *url, const char *method,
                                  const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **req_cls)
{
    const char *accept = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
                                                     MHD_HTTP_HEADER_ACCEPT);
    struct MHD_Response *r;
    struct stream *s;
    enum MHD_Result ret;

    (void)cls;
    (void)url;
    (void)version;
    (void)upload_data;
    (void)upload_data_size;
    (void)req_cls;
    if (strcmp(method, MHD_HTTP_METHOD_GET) != 0 || accept == NULL ||
        strstr(accept, "text/event-stream") == NULL) {
        r = MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT);
        ret = MHD_queue_response(conn, MHD_HTTP_NOT_FOUND, r);
        MHD_destroy_response(r);
        return ret;
    }

    if ((s = malloc(sizeof(*s))) == NULL)
        return MHD_NO;
    pthread_mutex_lock(&g_lock);
    s->next = g_latest + 1; /* starts with the next event */
    pthread_mutex_unlock(&g_lock);
    s->off = 0;
    r = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 1024, stream_read,
                                          s, free);
    if (r == NULL) {
        free(s);
        return MHD_NO;
    }
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "text/event-stream");
    MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-cache");
    /* A plain body that ends when the connection does, not chunked
     * (which the bench client refuses, as it would count chunk sizes). */
    MHD_set_response_options(r, MHD_RF_HTTP_1_0_COMPATIBLE_STRICT, MHD_RO_END);
    ret = MHD_queue_response(conn, MHD_HTTP_OK, r);
    MHD_destroy_response(r);
    return ret;
}

int main(int argc, char **argv)
{
    const union MHD_DaemonInfo *info;
    struct MHD_Daemon *d;
    struct sigaction act;
    pace_args_t args;
    pace_t pace;
    sigset_t sigs;
    char extra[64];

    pace_parse(argc, argv, &args);
    pace_raise_nofile();

    /* Stop signals land on this (the publishing) thread: MHD's threads
     * inherit the mask set before they start. */
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGINT);
    sigaddset(&sigs, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &sigs, NULL);
    memset(&act, 0, sizeof(act));
    act.sa_handler = on_signal; /* no SA_RESTART: the sleep returns EINTR */
    sigemptyset(&act.sa_mask);
    sigaction(SIGINT, &act, NULL);
    sigaction(SIGTERM, &act, NULL);
    act.sa_handler = SIG_IGN;
    sigaction(SIGPIPE, &act, NULL);

    /* poll() rather than select(): thousands of fds are above FD_SETSIZE.
     * No MHD_USE_ERROR_LOG: it logs every client that hangs up on its
     * stream, i.e. every stream at the end of every run. */
    d = MHD_start_daemon(MHD_USE_THREAD_PER_CONNECTION |
                         MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_POLL,
                         (uint16_t)args.port, NULL, NULL, on_request, NULL,
                         MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&args.addr,
                         MHD_OPTION_CONNECTION_LIMIT, 4000u,
                         MHD_OPTION_CONNECTION_TIMEOUT, 0u, /* streams never time out */
                         MHD_OPTION_END);
    if (d == NULL) {
        fprintf(stderr, "%s: MHD_start_daemon(%s:%u) failed\n", argv[0],
                args.bind_addr, args.port);
        return 1;
    }
    pthread_sigmask(SIG_UNBLOCK, &sigs, NULL);
    info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
    pace_print_listening(info != NULL ? info->port : args.port, (long)getpid());

    pace_start(&pace, args.rate);
    while (!g_stop) {
        uint64_t seq, t;

        if (pace_sleep(&pace) == EINTR)
            continue; /* the loop condition sees g_stop */
        seq = pace_begin(&pace);
        t = pace_now();
        pthread_mutex_lock(&g_lock);
        g_ring[seq % RING].len = (size_t)pace_frame(g_ring[seq % RING].buf,
                                                    FRAME_MAX, seq, t);
        g_latest = seq;
        pthread_cond_broadcast(&g_cond);
        pthread_mutex_unlock(&g_lock);
        pace_end(&pace, t);
    }

    pthread_mutex_lock(&g_lock);
    g_stopping = 1;
    pthread_cond_broadcast(&g_cond);
    pthread_mutex_unlock(&g_lock);
    MHD_stop_daemon(d);
    snprintf(extra, sizeof(extra), " fell_behind=%llu",
             (unsigned long long)g_fell_behind);
    pace_print_stopped(&pace, extra);
    return 0;
}
