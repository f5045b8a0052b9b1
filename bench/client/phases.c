/* SPDX-License-Identifier: MIT */
/* The bench client's run: connect, warm-up, the measuring window and the stalled stream's tail, in one epoll loop bounded by a hard deadline. */
#define _GNU_SOURCE /* -std=c99 hides epoll, sockets, clock_gettime and /proc helpers */

#include <errno.h>
#include <stdio.h>
#include <sys/epoll.h>

#include "client.h"

void run_phases(run_t *r)
{
    static struct epoll_event evs[MAX_EPOLL];
    ll t_start, connect_deadline, hard_deadline, warmup_end = 0, win_end = 0;
    int rc, stall = stl.c != NULL;

    r->cpu0 = r->cpu1 = r->ccpu1 = r->rss_end = r->vm_end = -1;
    r->end_reason = "done";
    r->rss_base = read_rss_kib();
    r->vm_base = read_vmrss_kib();
    if (g.npids > 0 && r->rss_base < 0)
        fprintf(stderr, "sse_bench_client: cannot read /proc/PID/status of "
                "every --server-pid\n");

    r->ccpu0 = read_cpu_us();
    t_start = now_ns();
    connect_deadline = t_start + (ll)(g.connect_timeout * NS_PER_S);
    hard_deadline = connect_deadline +
                    (ll)((g.warmup + g.seconds + stl.stall_s) * NS_PER_S) +
                    (stall ? STALL_OBSERVE : 0) + 10 * NS_PER_S;
    g.phase = P_CONNECT;

    while (g.phase != P_DONE) {
        ll now = now_ns(), next;
        int n, timeout_ms;

        if (g_sig) {
            r->end_reason = "signal";
            break;
        }
        if (now >= hard_deadline) {
            r->end_reason = "deadline";
            break;
        }

        if (g.phase == P_CONNECT) {
            pump_connects(now);
            expire_attempts(now);
            if (g.connected + g.failed >= g.clients || now >= connect_deadline) {
                if (g.connected + g.failed < g.clients) {
                    /* Give up on the stragglers: measure who is in. */
                    unsigned k;
                    for (k = 0; k < g.clients; k++) {
                        conn_t *c = &g.c[k];
                        if (c->state == C_IDLE || in_flight(c) ||
                            (c->state == C_STREAM && c->events == 0)) {
                            if (in_flight(c))
                                g.inflight--;
                            else if (c->retries > 0)
                                g.retry_pending--;
                            close_fd(c);
                            c->state = C_FAILED;
                            g.failed++;
                        }
                    }
                }
                r->connect_ns = now - t_start;
                r->ccpu1 = read_cpu_us();
                g.phase = P_WARMUP;
                warmup_end = now + (ll)(g.warmup * NS_PER_S);
                if (stall)
                    start_connect(stl.c, now);
            }
        } else if (stall && !stl.done) {
            pump_connects(now); /* retries of the stalled stream */
            expire_attempts(now);
        }

        if (g.phase == P_WARMUP && now >= warmup_end) {
            g.phase = P_WINDOW;
            r->win_start = now_ns();
            r->cpu0 = read_cpu_us();
            r->self0 = cpu_self_us();
            r->seq0 = g.max_seq;
            win_end = r->win_start + (ll)(g.seconds * NS_PER_S);
        } else if (g.phase == P_WINDOW && now >= win_end) {
            g.phase = P_TAIL;
            r->win_actual = now_ns() - r->win_start;
            r->cpu1 = read_cpu_us();
            r->self1 = cpu_self_us();
            r->seq1 = g.max_seq;
            r->rss_end = read_rss_kib();
            r->vm_end = read_vmrss_kib();
            r->open_at_end = r->measured_at_end = g.connected;
            if (stall && stl.c->fd >= 0)
                r->open_at_end++;
        }
        if (stall)
            stall_tick(now);
        if (g.phase == P_TAIL && (!stall || stl.done || stl.connect_failed))
            g.phase = P_DONE;
        if (g.phase == P_DONE)
            break;

        /* Sleep no longer than the next thing to do. */
        next = now + 100 * NS_PER_MS;
        if (g.phase == P_CONNECT)
            next = now + 10 * NS_PER_MS;
        if (g.phase == P_WARMUP && warmup_end < next)
            next = warmup_end;
        if (g.phase == P_WINDOW && win_end < next)
            next = win_end;
        timeout_ms = (int)((next - now + NS_PER_MS - 1) / NS_PER_MS);
        if (timeout_ms < 0)
            timeout_ms = 0;

        n = epoll_wait(g.ep, evs, MAX_EPOLL, timeout_ms);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            perror("epoll_wait");
            r->end_reason = "epoll_error";
            break;
        }
        for (rc = 0; rc < n; rc++) {
            uint32_t idx = evs[rc].data.u32;
            if (idx < g.nconns && g.c[idx].fd >= 0)
                on_event(&g.c[idx]);
        }
    }

    if (r->win_actual == 0 && r->win_start > 0) {
        /* Cut short inside the window: report the part we have. */
        r->win_actual = now_ns() - r->win_start;
        r->cpu1 = read_cpu_us();
        r->self1 = cpu_self_us();
        r->seq1 = g.max_seq;
        r->rss_end = read_rss_kib();
        r->vm_end = read_vmrss_kib();
        r->measured_at_end = g.connected;
        r->open_at_end = g.connected + (stall && stl.c->fd >= 0 ? 1u : 0u);
    }
}
