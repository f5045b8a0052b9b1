/* SPDX-License-Identifier: MIT */
/* The ssedge command's parts: its log, the input parser (lines or SSE
 * records into events) and the program it runs (CMD, its process group). */
#ifndef SSEDGE_CMD_H
#define SSEDGE_CMD_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include "ssedge/sse.h"

/* The longest line or record the input may hold: one encoded event can
 * be no longer (the build's CONFIG_SSE_MAX_EVENT_BYTES). */
#ifdef CONFIG_SSE_MAX_EVENT_BYTES
#define FEED_MAX CONFIG_SSE_MAX_EVENT_BYTES
#else
#define FEED_MAX 1024
#endif

/* LOG_ERR, LOG_WARNING, LOG_NOTICE, LOG_INFO: journald's priorities. */
#include "../../examples/common/log.h"

#if defined(__GNUC__)
__attribute__((format(printf, 2, 3)))
#endif
void logmsg(int prio, const char *fmt, ...);

/* ---- input: lines or SSE records, checked, published (feed.c) ----------- */

typedef struct feed {
    /* settings */
    int         sse;        /* --sse: records of event:/data: lines */
    const char *event;      /* plain lines: their event name (NULL: message) */
    int         channel;    /* SSE_CHANNEL_ALL or a channel index */
    /* counters: bumped here, read by the stats page on a server thread
     * (relaxed atomics) */
    unsigned long lines, events, skipped;
    /* the line being read */
    char        line[FEED_MAX + 1];
    size_t      len;
    int         too_long;   /* past FEED_MAX: dropped up to its end */
    int         after_cr;   /* a CR ended the last line: skip one LF */
    /* --sse: the record being read */
    char        data[FEED_MAX + 1];
    size_t      data_len;
    int         has_data;
    char        name[FEED_MAX + 1];
    int         has_name;
    const char *bad;        /* why the record is refused, or NULL */
    unsigned long bad_line; /* where that was seen */
    int         warned_id;  /* "id:"/"retry:" ignored: said once */
} feed_t;

void feed_init(feed_t *f, int sse, const char *event, int channel);
/* Take input bytes: every complete line is handled at once. */
void feed_bytes(feed_t *f, const char *p, size_t n);
/* The input ended: a last line without LF is taken; a record without its
 * blank line is dropped (as a browser would) with a log line. */
void feed_end(feed_t *f);

/* ---- the program: CMD in its own process group (child.c) ------------------ */

typedef struct child {
    char   **argv;
    pid_t    pid;        /* 0: not running (reaped) */
    pid_t    pgid;       /* its process group, kept after the reap: what it
                            started may still run there */
    int      out, err;   /* read ends of its stdout and stderr, -1: closed */
    uint64_t started_ms;
    char     errline[512]; /* a stderr line being read */
    size_t   errlen;
} child_t;

uint64_t mono_ms(void);
/* Start CMD: stdin /dev/null, stdout and stderr into pipes, its own process
 * group. @return 0, or -1 with a log line (no pipe, no fork). A program
 * that cannot be executed exits 127 after saying why on its stderr. */
int child_start(child_t *c);
/* Read its stderr into log lines; @return -1 at EOF. */
int child_read_err(child_t *c);
/* Become the reaper of what CMD leaves behind (Linux; elsewhere a no-op). */
void child_subreaper(void);
/* Reap it if it has exited: @return 1 with *status (waitpid's), else 0.
 * Reaps any other ended child too (orphans of its group). */
int child_reap(child_t *c, int *status);
/* Signal its whole process group (the program and what it started). */
void child_signal(const child_t *c, int sig);
/* Close the pipes that are still open. */
void child_close_pipes(child_t *c);

#endif /* SSEDGE_CMD_H */
