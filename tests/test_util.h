/* SPDX-License-Identifier: MIT */
/* Helpers shared by the integration suites: a buffered reader for sockets
 * and child processes, an SSE event parser, clients of the server under
 * test, its usual settings and a record of the streams it opened. */
#ifndef SSE_TEST_UTIL_H
#define SSE_TEST_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include "ssedge/sse.h"
#include "host_util.h" /* now_ms, sleep_ms, threads_now, fds_now */

/* Wait until f() == want, at most ms; returns the last value seen. */
int  settle(int (*f)(void), int want, long ms);

/* Output of a socket or of a child process (stdout+stderr through a pipe). */
typedef struct reader {
    int    fd;
    pid_t  pid;    /* child, or 0 for a socket */
    size_t len;
    int    eof;
    char   buf[1 << 16];
} reader_t;

/* Read more, waiting at most ms. Bytes read, 0 on timeout, -1 at EOF. */
int rd_fill(reader_t *r, long ms);
/* Wait until the buffer holds needle. 1 if it does (bounded by ms). */
int rd_wait_for(reader_t *r, const char *needle, long ms);
/* Read until EOF (bounded). 1 if EOF was seen. */
int rd_until_eof(reader_t *r, long ms);

/* One parsed SSE event. */
typedef struct ev {
    char     event[32];
    uint64_t id;
    int      has_id;
    char     data[256];
} ev_t;

/* Take the next complete event out of the buffer (skips an HTTP response
 * head at the start, retry-only and comment frames). 1 if one was taken. */
int take_event(reader_t *r, ev_t *ev);
/* Wait for the next event, at most ms. */
int next_event(reader_t *r, ev_t *ev, long ms);

/* Clients of the server under test (ssedge's sse_server_port(), at the
 * backend's client address). */
#define STREAM_REQ(path) \
    "GET " path " HTTP/1.1\r\nHost: t\r\nAccept: text/event-stream\r\n\r\n"
/* Connect fd (made here when -1) to ip:port; returns the fd or -1. */
int connect_fd(int fd, const char *ip, uint16_t port);
int tcp_connect_to(const char *ip, uint16_t port);
int server_connect(void); /* not tcp_connect: lwIP exports that name */
int send_str(int fd, const char *s); /* 0 if all went */
/* A client that sent @p request (NULL: nothing yet); asserts it connected. */
reader_t *client_open(const char *request);
void client_close(reader_t *c);
/* Open a stream and wait for the response head (and the retry frame). */
reader_t *stream_open_with(const char *request);
reader_t *stream_open(const char *path);

/* The suites' usual server: ssedge's defaults, then the backend's bind
 * address, an OS-chosen port, routes[0..n), 8 slots, an idle check every
 * 50 ms, no heartbeat, retry 1500 ms. A suite then changes what it tests. */
void server_cfg(sse_server_cfg_t *cfg, const sse_route_t *routes, unsigned n);

/* The server's counters now; the two the suites settle() on. */
sse_stats_t stats_now(void);
int active_i(void);
int streams_i(void);

/* Publish 400-byte events of fill to every stream until the server hands
 * a stream back to its own thread (stats' slow_sends passes slow0), then 20
 * more; at most max, within what the ring holds. A 1 ms nap every 4th;
 * each(arg) after every event (each may be NULL). ids[] gets their ids;
 * returns how many. Asserts that the hand-back came. */
unsigned publish_until_handed_back(char fill, uint64_t *ids, unsigned max, uint64_t slow0,
                                   void (*each)(void *arg), void *arg);

/* Start the server with cfg; asserts (fatal) that it started on a port. */
void start_with(const sse_server_cfg_t *cfg);

/* A route's on_open that records the streams' ids in the order they open
 * (the newest OPENED_MAX of them). */
#define OPENED_MAX 160
void opened_record(sse_conn_id_t conn, const sse_request_t *req, void *user);
void opened_reset(void);
unsigned opened_n(void);             /* streams opened since the reset */
sse_conn_id_t opened_id(unsigned i); /* the i-th of them (0: none, or no longer kept) */

#endif /* SSE_TEST_UTIL_H */
