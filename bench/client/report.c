/* SPDX-License-Identifier: MIT */
/* The bench client's result: the stalled stream's summary line and the one key=value line scripts/bench.sh reads, and the exit status. */
#define _GNU_SOURCE /* -std=c99 hides epoll, sockets, clock_gettime and /proc helpers */

#include <stdio.h>
#include <string.h>

#include "client.h"

/* v as fmt has it when have, else none ("na", "no"). */
static void fmt_or(char *buf, size_t n, int have, const char *fmt, double v,
                   const char *none)
{
    if (have)
        snprintf(buf, n, fmt, v);
    else
        snprintf(buf, n, "%s", none);
}

static void fmt_ms(char *buf, size_t n, double ms)
{
    fmt_or(buf, n, ms >= 0, "%.3f", ms, "na");
}

/* Seconds from the stall's start to t, or "no" when it never came. */
static void fmt_stall_s(char *buf, size_t n, ll t)
{
    fmt_or(buf, n, t != 0, "%.1f", (double)(t - stl.start_ns) / 1e9, "no");
}

static void print_stall_summary(void)
{
    char closed[32], hup[32], eof[32];

    fmt_stall_s(closed, sizeof(closed), stl.srv_closed_ns);
    fmt_stall_s(hup, sizeof(hup), stl.hup_ns);
    fmt_stall_s(eof, sizeof(eof), stl.eof_ns);
    printf("stall_summary stall_s=%g rcvbuf=%d connected=%s "
           "rss_start_kib=%ld rss_min_kib=%ld rss_max_kib=%ld "
           "rss_end_kib=%ld server_closed_at_s=%s "
           "client_saw_fin_at_s=%s eof_after_resume_at_s=%s "
           "server_sock_end=%s events_before=%llu "
           "events_after_resume=%llu lost_after_resume=%llu\n",
           stl.stall_s, stl.rcvbuf,
           stl.connect_failed ? "no" : stl.start_ns ? "yes" : "not_yet",
           stl.rss_start, stl.rss_min, stl.rss_max, stl.rss_end, closed, hup,
           eof, stl.srv_state_end[0] ? stl.srv_state_end : "?",
           (unsigned long long)stl.events_before,
           (unsigned long long)stl.events_after,
           (unsigned long long)stl.lost_after);
}

/* Always printed, whatever the run reached. */
int report(const run_t *r)
{
    double win_s = r->win_actual > 0 ? (double)r->win_actual / 1e9 : 0;
    int have_cpu = r->cpu0 >= 0 && r->cpu1 >= 0;
    char p50[32], p90[32], p99[32], p999[32], mx[32], mean[32];
    char cpu_ev[32], srv_pct[32], self_pct[32], rss_pc[32], vm_pc[32], ccpu[32];
    char share[32], d50[32], d99[32], dmx[32];
    char tls_kv[256];
    int ok;

    fmt_ms(p50, sizeof(p50), hist_quantile_ms(&g.lat, 0.50));
    fmt_ms(p90, sizeof(p90), hist_quantile_ms(&g.lat, 0.90));
    fmt_ms(p99, sizeof(p99), hist_quantile_ms(&g.lat, 0.99));
    fmt_ms(p999, sizeof(p999), hist_quantile_ms(&g.lat, 0.999));
    fmt_ms(mx, sizeof(mx), g.lat.n ? (double)g.lat.max_ns / 1e6 : -1);
    fmt_ms(mean, sizeof(mean),
           g.lat.n ? (double)g.lat.sum_ns / (double)g.lat.n / 1e6 : -1);
    /* From when each event was due ("na" when the data did not say). */
    fmt_ms(d50, sizeof(d50), hist_quantile_ms(&g.due, 0.50));
    fmt_ms(d99, sizeof(d99), hist_quantile_ms(&g.due, 0.99));
    fmt_ms(dmx, sizeof(dmx), g.due.n ? (double)g.due.max_ns / 1e6 : -1);
    fmt_or(cpu_ev, sizeof(cpu_ev), have_cpu && g.window_events > 0, "%.2f",
           (double)(r->cpu1 - r->cpu0) / (double)g.window_events, "na");
    fmt_or(srv_pct, sizeof(srv_pct), have_cpu && win_s > 0, "%.1f",
           (double)(r->cpu1 - r->cpu0) / 1e4 / win_s, "na");
    fmt_or(self_pct, sizeof(self_pct), win_s > 0, "%.1f",
           (double)(r->self1 - r->self0) / 1e4 / win_s, "na");
    /* Of what the measured streams should have got: each of them every
     * event published during the window (seq moved by seq1 - seq0). */
    fmt_or(share, sizeof(share), r->seq1 > r->seq0 && r->measured_at_end > 0, "%.1f",
           100.0 * (double)g.window_events /
           ((double)(r->seq1 - r->seq0) * (double)r->measured_at_end), "na");
    fmt_or(rss_pc, sizeof(rss_pc),
           r->rss_base >= 0 && r->rss_end >= 0 && r->open_at_end > 0, "%.1f",
           (double)(r->rss_end - r->rss_base) / r->open_at_end, "na");
    fmt_or(vm_pc, sizeof(vm_pc),
           r->vm_base >= 0 && r->vm_end >= 0 && r->open_at_end > 0, "%.1f",
           (double)(r->vm_end - r->vm_base) / r->open_at_end, "na");
    /* Server CPU while the streams connected (TCP, TLS handshake,
     * request), per stream connected; it also holds the delivery to
     * the streams already open, so it is an upper bound. */
    fmt_or(ccpu, sizeof(ccpu), r->ccpu0 >= 0 && r->ccpu1 >= 0 && g.connected > 0,
           "%.0f", (double)(r->ccpu1 - r->ccpu0) / (double)g.connected, "na");
    tls_summary(tls_kv, sizeof(tls_kv));

    ok = g.connected == g.clients && g.broken == 0 && win_s > 0 &&
         strcmp(r->end_reason, "done") == 0;
    if (stl.c != NULL)
        print_stall_summary();
    printf("clients=%u rate=%u connected=%u connect_failed=%u "
           "connect_retries=%u connect_s=%.2f "
           "connect_server_cpu_us_per_conn=%s %s window_s=%.2f "
           "published_per_s=%.0f delivered=%llu delivered_per_s=%.0f "
           "delivered_share=%s p50_ms=%s p90_ms=%s "
           "p99_ms=%s p999_ms=%s max_ms=%s mean_ms=%s "
           "due_p50_ms=%s due_p99_ms=%s due_max_ms=%s "
           "cpu_us_per_event=%s server_cpu_pct=%s client_cpu_pct=%s "
           "rss_base_kib=%ld rss_end_kib=%ld rss_kib_per_conn=%s "
           "vmrss_base_kib=%ld vmrss_end_kib=%ld vmrss_kib_per_conn=%s "
           "lost=%llu dup=%llu id_mismatch=%llu malformed=%llu "
           "broken=%u events_total=%llu end=%s status=%s\n",
           g.clients, g.rate, g.connected, g.failed, g.retries_total,
           (double)r->connect_ns / 1e9, ccpu, tls_kv, win_s,
           win_s > 0 ? (double)(r->seq1 - r->seq0) / win_s : 0.0,
           (unsigned long long)g.window_events,
           win_s > 0 ? (double)g.window_events / win_s : 0.0, share,
           p50, p90, p99, p999, mx, mean, d50, d99, dmx, cpu_ev, srv_pct, self_pct,
           r->rss_base, r->rss_end, rss_pc, r->vm_base, r->vm_end, vm_pc,
           (unsigned long long)g.lost, (unsigned long long)g.dup,
           (unsigned long long)g.id_mismatch,
           (unsigned long long)g.malformed, g.broken,
           (unsigned long long)g.events_total, r->end_reason,
           ok ? "ok" : "fail");
    if (g.failed || g.retries_total)
        fprintf(stderr, "sse_bench_client: connect failures: refused=%u "
                "reset=%u bad_status=%u timeout=%u closed_before_event=%u "
                "tls_refused=%u other=%u\n", g.fail_refused, g.fail_reset,
                g.fail_status, g.fail_timeout, g.fail_no_event, g.fail_tls,
                g.fail_other);
    fflush(stdout);
    return ok ? 0 : 1;
}
