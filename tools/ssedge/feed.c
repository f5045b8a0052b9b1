/* SPDX-License-Identifier: MIT */
/* The ssedge command's input: plain lines (one line, one event) or SSE
 * records (event:/data: lines ended by a blank line), each checked by the
 * library's framer as it is published; a bad one is logged and skipped,
 * never sent half-way. */
#include <stdio.h>
#include <string.h>
#include "ssedge.h"

static void count(unsigned long *c)
{
    __atomic_add_fetch(c, 1, __ATOMIC_RELAXED);
}

static void record_reset(feed_t *f)
{
    f->data_len = 0;
    f->has_data = 0;
    f->has_name = 0;
    f->bad = NULL;
    f->bad_line = 0;
}

void feed_init(feed_t *f, int sse, const char *event, int channel)
{
    memset(f, 0, sizeof *f);
    f->sse = sse;
    f->event = event;
    f->channel = channel;
}

/* What sse_publish() refused, for the log. */
static const char *refusal(int r)
{
    switch (r) {
    case SSE_ERR_TOO_LARGE:
        return "larger than one event may be, encoded (CONFIG_SSE_MAX_EVENT_BYTES)";
    case SSE_ERR_INVALID:
        return "refused by the framer (not UTF-8)";
    default:
        return sse_strerror(r);
    }
}

static void publish(feed_t *f, const char *name, const char *data, size_t len, const char *what)
{
    int r = sse_publish(f->channel, name, data, len, NULL);
    if (r == SSE_OK) {
        count(&f->events);
        return;
    }
    count(&f->skipped);
    logmsg(LOG_WARNING, "%s %lu: %s: skipped", what, f->lines, refusal(r));
}

/* Plain mode: the line is the data. An empty line carries nothing. */
static void plain_line(feed_t *f)
{
    if (f->len)
        publish(f, f->event, f->line, f->len, "line");
}

static void record_end(feed_t *f)
{
    if (f->bad) {
        count(&f->skipped);
        logmsg(LOG_WARNING, "record ending at line %lu: %s (line %lu): skipped", f->lines,
               f->bad, f->bad_line);
    } else if (f->has_data) {
        publish(f, f->has_name && f->name[0] ? f->name : NULL, f->data, f->data_len,
                "record ending at line");
    } else if (f->has_name) {
        /* A browser would not dispatch it either. */
        count(&f->skipped);
        logmsg(LOG_WARNING, "record ending at line %lu: no data: line: skipped", f->lines);
    }
    record_reset(f);
}

static void record_bad(feed_t *f, const char *why)
{
    if (!f->bad) {
        f->bad = why;
        f->bad_line = f->lines;
    }
}

static int field_is(const char *l, size_t n, const char *name)
{
    return n == strlen(name) && memcmp(l, name, n) == 0;
}

/* --sse: one line of a record (WHATWG's field rules; fields ssedge has no
 * use for are named in the log instead of silently dropped). */
static void sse_line(feed_t *f)
{
    const char *l = f->line, *v, *colon;
    size_t n = f->len, fn, vn;
    if (n == 0) {
        record_end(f);
        return;
    }
    if (l[0] == ':')
        return; /* a comment */
    colon = memchr(l, ':', n);
    fn = colon ? (size_t)(colon - l) : n;
    v = colon ? colon + 1 : l + n;
    if (v < l + n && *v == ' ')
        v++;
    vn = (size_t)(l + n - v);
    if (field_is(l, fn, "data")) {
        if (f->data_len + f->has_data + vn > FEED_MAX) {
            record_bad(f, "data longer than one event may be (CONFIG_SSE_MAX_EVENT_BYTES)");
            return;
        }
        if (f->has_data)
            f->data[f->data_len++] = '\n';
        memcpy(f->data + f->data_len, v, vn);
        f->data_len += vn;
        f->has_data = 1;
    } else if (field_is(l, fn, "event")) {
        memcpy(f->name, v, vn);
        f->name[vn] = 0;
        f->has_name = 1;
        if (memchr(v, 0, vn))
            record_bad(f, "NUL in the event name");
    } else if (field_is(l, fn, "id") || field_is(l, fn, "retry")) {
        if (!f->warned_id)
            logmsg(LOG_NOTICE, "line %lu: id: and retry: lines are ignored (ssedge numbers the "
                   "events itself; said once)", f->lines);
        f->warned_id = 1;
    } else {
        record_bad(f, "not an SSE field (event:, data:, id:, retry: or a :comment)");
    }
}

static void end_line(feed_t *f)
{
    f->lines++;
    if (f->too_long) {
        if (f->sse) {
            record_bad(f, "a line longer than one event may be (CONFIG_SSE_MAX_EVENT_BYTES)");
        } else {
            count(&f->skipped);
            logmsg(LOG_WARNING, "line %lu: longer than %d bytes, the largest event "
                   "(CONFIG_SSE_MAX_EVENT_BYTES): skipped", f->lines, FEED_MAX);
        }
    } else if (f->sse) {
        sse_line(f);
    } else {
        plain_line(f);
    }
    f->len = 0;
    f->too_long = 0;
}

void feed_bytes(feed_t *f, const char *p, size_t n)
{
    const char *end = p + n;
    while (p < end) {
        const char *brk;
        size_t take;
        if (f->after_cr) { /* CRLF is one line break */
            f->after_cr = 0;
            if (*p == '\n' && ++p == end)
                break;
        }
        /* Copy up to the next CR or LF in one go. */
        for (brk = p; brk < end && *brk != '\n' && *brk != '\r'; brk++)
            ;
        take = (size_t)(brk - p);
        if (take > FEED_MAX - f->len) {
            take = FEED_MAX - f->len;
            f->too_long = 1;
        }
        memcpy(f->line + f->len, p, take);
        f->len += take;
        if (brk == end)
            break;
        f->after_cr = *brk == '\r';
        end_line(f);
        p = brk + 1;
    }
}

void feed_end(feed_t *f)
{
    if (f->len || f->too_long)
        end_line(f);
    f->after_cr = 0;
    if (f->sse && (f->has_data || f->has_name || f->bad)) {
        count(&f->skipped);
        logmsg(LOG_WARNING, "input ended inside a record (no blank line after line %lu): "
               "dropped", f->lines);
        record_reset(f);
    }
}
