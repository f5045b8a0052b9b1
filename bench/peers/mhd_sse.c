/* SPDX-License-Identifier: MIT */
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
#include "ring.h"

/* MHD's content reader, on the stream's own connection thread: wait for
 * the next event, then hand MHD every frame the stream has not sent yet. */
static ssize_t stream_read(void *cls, uint64_t pos, char *buf, size_t max)
{
    long n = ring_read(cls, buf, max);

    (void)pos;
    if (n == 0)
        return MHD_CONTENT_READER_END_OF_STREAM;
    if (n < 0)
        return MHD_CONTENT_READER_END_WITH_ERROR;
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
    ring_pos_t *s;
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
    ring_pos_init(s);
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
    pace_args_t args;
    pace_t pace;
    sigset_t sigs;

    pace_parse(argc, argv, &args);
    pace_raise_nofile();

    /* Stop signals land on this (the publishing) thread: MHD's threads
     * inherit the mask set before they start. */
    pace_signals(&sigs);

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
    pace_signals_unblock(&sigs);
    info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
    pace_print_listening(info != NULL ? info->port : args.port, (long)getpid());

    ring_publish(&pace, args.rate);
    MHD_stop_daemon(d);
    ring_print_stopped(&pace);
    return 0;
}
