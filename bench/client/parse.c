/* SPDX-License-Identifier: MIT */
/* The bench client's SSE parsing of each stream (seq, id, publish and due time) and its latency histograms. */
#define _GNU_SOURCE /* -std=c99 hides epoll, sockets, clock_gettime and /proc helpers */

#include <string.h>

#include "client.h"

/* ---- latency histogram ---------------------------------------------------- */

static void hist_add(hist_t *h, ll ns)
{
    ll us;
    size_t i;

    if (ns < 0)
        ns = 0; /* same clock on both sides; cannot happen, but never index < 0 */
    us = ns / NS_PER_US;
    if (us < H_FINE)
        i = (size_t)us;
    else if (us < H_FINE + (ll)H_COARSE * 10)
        i = H_FINE + (size_t)((us - H_FINE) / 10);
    else
        i = H_BUCKETS - 1;
    h->b[i]++;
    h->n++;
    h->sum_ns += (uint64_t)ns;
    if (ns > h->max_ns)
        h->max_ns = ns;
}

/* Upper edge of the bucket holding the q-quantile, in ms (-1: no samples). */
double hist_quantile_ms(const hist_t *h, double q)
{
    uint64_t want, cum = 0;
    size_t i;

    if (h->n == 0)
        return -1;
    want = (uint64_t)(q * (double)h->n);
    if ((double)want < q * (double)h->n)
        want++;
    if (want == 0)
        want = 1;
    for (i = 0; i < H_BUCKETS; i++) {
        cum += h->b[i];
        if (cum >= want)
            break;
    }
    if (i < H_FINE)
        return (double)(i + 1) / 1000.0;
    if (i < H_BUCKETS - 1)
        return (double)(H_FINE + (i - H_FINE + 1) * 10) / 1000.0;
    return (double)h->max_ns / 1e6;
}

/* ---- SSE parsing ---------------------------------------------------------- */

/* Decimal digits at [p, end) up to a space; 0 on anything else. */
static int parse_u64(const char **pp, const char *end, uint64_t *out)
{
    const char *p = *pp;
    uint64_t v = 0;
    int digits = 0;

    while (p < end && *p >= '0' && *p <= '9' && digits < 20) {
        v = v * 10 + (uint64_t)(*p - '0');
        p++;
        digits++;
    }
    if (digits == 0)
        return 0;
    *pp = p;
    *out = v;
    return 1;
}

static void event_done(conn_t *c, ll now)
{
    uint64_t seq = c->cur_seq;

    c->events++;
    if (c->is_stall) {
        if (!stl.resumed)
            stl.events_before++;
        else {
            stl.events_after++;
            if (c->last_seq != 0 && seq > c->last_seq + 1)
                stl.lost_after += seq - c->last_seq - 1;
        }
        if (seq > c->last_seq)
            c->last_seq = seq;
        return;
    }
    g.events_total++;
    if (c->events == 1)
        g.connected++; /* streaming for real: see stream_ended() */
    if (c->has_id && !g.ids_any && c->cur_id != seq)
        g.id_mismatch++;
    if (c->last_seq != 0) {
        if (seq > c->last_seq + 1)
            g.lost += seq - c->last_seq - 1;
        else if (seq <= c->last_seq)
            g.dup++;
    }
    if (seq > c->last_seq)
        c->last_seq = seq;
    if (seq > g.max_seq)
        g.max_seq = seq;
    if (g.phase == P_WINDOW) {
        g.window_events++;
        hist_add(&g.lat, now - c->cur_t);
        if (c->cur_due >= 0)
            hist_add(&g.due, now - c->cur_due);
    }
}

static void handle_line(conn_t *c, const char *p, size_t n, ll now)
{
    const char *end = p + n, *v;
    uint64_t seq, t, late = 0;
    int ok, has_late;

    if (n == 0) { /* blank line: the event is complete */
        if (c->has_data)
            event_done(c, now);
        c->has_data = 0;
        c->has_id = 0;
        return;
    }
    if (p[0] == ':')
        return; /* comment: heartbeat */
    if (n >= 5 && memcmp(p, "data:", 5) == 0) {
        v = p + 5;
        if (v < end && *v == ' ')
            v++;
        /* "<seq> <t>" or "<seq> <t> <late_us>": t is when the publisher
         * took the event, late_us how long after its due time. */
        ok = parse_u64(&v, end, &seq) && v < end && *v == ' ' &&
             (v++, parse_u64(&v, end, &t));
        has_late = ok && v < end && *v == ' ';
        if (has_late)
            ok = (v++, parse_u64(&v, end, &late)) && late * (uint64_t)NS_PER_US <= t;
        if (ok && v == end) {
            c->cur_seq = seq;
            c->cur_t = (ll)t;
            c->cur_due = has_late ? (ll)(t - late * (uint64_t)NS_PER_US) : -1;
            c->has_data = 1;
        } else {
            g.malformed++;
            c->has_data = 0;
        }
    } else if (n >= 3 && memcmp(p, "id:", 3) == 0) {
        v = p + 3;
        if (v < end && *v == ' ')
            v++;
        c->has_id = parse_u64(&v, end, &c->cur_id) && v == end;
    }
    /* event:, retry: and unknown fields do not matter here */
}

/* Parse the stream bytes at [p, p+n), keep the unfinished line. */
int parse_stream(conn_t *c, const char *p, size_t n, ll now)
{
    const char *end = p + n, *nl;

    while (p < end && (nl = memchr(p, '\n', (size_t)(end - p))) != NULL) {
        size_t len = (size_t)(nl - p);
        if (len > 0 && p[len - 1] == '\r')
            len--;
        handle_line(c, p, len, now);
        p = nl + 1;
    }
    if ((size_t)(end - p) > CARRY_MAX)
        return -1; /* a line longer than any this bench publishes */
    memmove(c->carry, p, (size_t)(end - p));
    c->carry_len = (uint16_t)(end - p);
    return 0;
}
