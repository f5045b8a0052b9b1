/* SPDX-License-Identifier: MIT */
/* Client helpers shared by the attack suite and the soak (tests/attack/,
 * tests/soak/): loopback sockets, one-shot HTTP exchanges, an
 * incremental SSE id reader, and the server under test as a child process
 * driven through its stdin. Every wait here is bounded in time. */
#ifndef SSE_ATTACK_UTIL_H
#define SSE_ATTACK_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <pthread.h>
#include "../host_util.h" /* now_ms, sleep_ms */

/* Connect to 127.0.0.1:port (blocking, at most 2 s). fd or -1. */
int  au_connect(unsigned port);
/* Start a non-blocking connect; poll for POLLOUT. fd or -1. */
int  au_connect_nb(unsigned port);
/* Send all of buf, at most ms in total. 0, or -1 on error or timeout. */
int  au_send_all(int fd, const void *buf, size_t len, long ms);
/* Close with SO_LINGER 0: the peer gets a RST instead of a FIN. */
void au_close_rst(int fd);

/* What one connection got back. */
typedef struct au_resp {
    int    status;     /* from "HTTP/1.1 NNN", 0 if no status line came */
    int    closed;     /* the server closed (EOF) */
    int    reset;      /* ECONNRESET while reading */
    int    timed_out;  /* neither within the time allowed */
    long   ms;         /* from sending to the end seen */
    size_t len;
    char   buf[8192];  /* what was read (NUL-terminated, may be cut) */
} au_resp_t;

/* Read into r until the peer closes, at most ms. stop_at_head: return once a
 * complete response head has arrived (for streams, which do not end). */
void au_read_resp(int fd, au_resp_t *r, long ms, int stop_at_head);
/* Connect, send req[0..len), optionally shutdown(SHUT_WR), read as above.
 * -1 if the connection could not be made. */
int  au_exchange(unsigned port, const void *req, size_t len, int half_close,
                 long ms, int stop_at_head, au_resp_t *r);
/* 1 if the head in r holds this header line prefix (case-insensitive). */
int  au_has_header(const au_resp_t *r, const char *prefix);

/* Incremental SSE reader that keeps only what the checks need: ids. */
typedef struct au_sse {
    int      fd;
    int      head_done;   /* the HTTP head was skipped */
    int      status;
    int      eof;         /* EOF or error seen */
    uint64_t last_id;     /* last id seen (0: none yet) */
    uint64_t events;      /* events with an id */
    uint64_t gaps;        /* ids missing between two consecutive events */
    uint64_t dups;        /* ids not above the previous one */
    uint64_t first_id;    /* first id on this connection */
    int      saw_retry;   /* a "retry:" line came */
    long     retry_ms;    /* its value */
    size_t   chunk;       /* most bytes per read (0: as many as fit) */
    uint64_t bad_data;    /* "data: N" lines whose N is not the event's id */
    size_t   len;
    char     buf[16384];
} au_sse_t;

void au_sse_init(au_sse_t *s, int fd, uint64_t last_id);
/* Read what is there (waiting at most ms) and account the ids.
 * Bytes read, 0 on timeout, -1 at EOF/error. */
int  au_sse_poll(au_sse_t *s, long ms);

/* The server under test: a child with its stdin/stdout on pipes. */
typedef struct au_srv {
    pid_t    pid;
    int      in, out;     /* its stdin (we write), its stdout (we read) */
    unsigned port;
    pthread_mutex_t lock; /* one command and its reply at a time */
    char     line[1024];  /* last reply */
} au_srv_t;

/* One command-line option of the server: "--name value". */
typedef struct au_opt {
    const char *name;
    long        value;
} au_opt_t;
#define AU_MAX_OPTS 8

/* Start prog with opts[0..n) (n <= AU_MAX_OPTS), its stderr appended to
 * log (NULL: ours); wait for "ready port=P" (5 s). 0 or -1. */
int  au_srv_start(au_srv_t *s, const char *prog, const au_opt_t *opts, size_t n,
                  const char *log);
/* Send one command, wait for its one-line reply (10 s). Pointer to the line
 * or NULL. Callers on several threads hold s->lock around it and the use of
 * the line (au_srv_get does). */
const char *au_srv_cmd(au_srv_t *s, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
/* The value of key in the reply to cmd (under s->lock), or -1. */
long long au_srv_get(au_srv_t *s, const char *cmd, const char *key);
/* Value of "key=NUMBER" in a reply, or -1. */
long long au_kv(const char *line, const char *key);
/* "quit", then wait for the exit (5 s, then SIGKILL). Exit status or -1. */
int  au_srv_stop(au_srv_t *s);

/* One "ok - ..." / "FAIL - ..." line, counted in au_passed / au_failed.
 * Returns cond. */
extern int au_passed, au_failed;
#if defined(__GNUC__)
__attribute__((format(printf, 2, 3)))
#endif
int au_check(int cond, const char *fmt, ...);

#endif /* SSE_ATTACK_UTIL_H */
