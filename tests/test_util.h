/* SPDX-License-Identifier: MIT */
/* Helpers shared by the integration suites: clocks, thread and fd counts,
 * a buffered reader for sockets and child processes, an SSE event parser. */
#ifndef SSE_TEST_UTIL_H
#define SSE_TEST_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

long now_ms(void);
void sleep_ms(long ms);
int  threads_now(void);  /* threads of this process */
int  fds_now(void);      /* open descriptors of this process */
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

#endif /* SSE_TEST_UTIL_H */
