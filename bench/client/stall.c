/* SPDX-License-Identifier: MIT */
/* The bench client's stalled stream: one reader that stops, sampled for the server's RSS, fds and socket state, then resumed. */
#define _GNU_SOURCE /* -std=c99 hides epoll, sockets, clock_gettime and /proc helpers */

#include <stdio.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>

#include "client.h"

void stall_sample(ll now, const char *label, int print)
{
    unsigned st = 0;
    long txq = -1, rss, fds;
    int rxq = -1, found;
    const char *stname;

    rss = read_rss_kib();
    fds = count_fds();
    found = stl.local_port > 0 ?
            server_sock_state(g.port, stl.local_port, &st, &txq) : -1;
    if (stl.c->fd >= 0 && ioctl(stl.c->fd, FIONREAD, &rxq) != 0)
        rxq = -1;
    stname = found > 0 ? tcp_state_name(st) : found == 0 ? "gone" : "?";
    if (found >= 0 && (found == 0 || st != 1) && stl.srv_closed_ns == 0)
        stl.srv_closed_ns = now;
    if (rss >= 0) {
        if (stl.rss_start == 0)
            stl.rss_start = rss;
        if (rss < stl.rss_min || stl.rss_min == 0)
            stl.rss_min = rss;
        if (rss > stl.rss_max)
            stl.rss_max = rss;
        stl.rss_end = rss;
    }
    snprintf(stl.srv_state_end, sizeof(stl.srv_state_end), "%s", stname);
    if (print) {
        printf("stall %-6s t=%5.1fs server_rss_kib=%ld server_fds=%ld "
               "server_sock=%s server_sendq=%ld client_recvq=%d\n", label,
               (double)(now - stl.start_ns) / 1e9, rss, fds, stname, txq, rxq);
        fflush(stdout);
    }
}

void stall_tick(ll now)
{
    conn_t *c = stl.c;

    if (c == NULL || stl.done || stl.start_ns == 0)
        return;
    if (!stl.resumed) {
        if (now >= stl.end_ns) {
            stall_sample(now, "end", 1);
            stl.resumed = 1;
            stl.observe_end_ns = now + STALL_OBSERVE;
            if (c->fd >= 0) {
                /* Read again: drain what the kernel buffered, then see
                 * whether the server still sends or has closed. */
                c->state = C_STREAM;
                set_events(c, EPOLLIN, stl.hup_ns ? EPOLL_CTL_ADD
                                                 : EPOLL_CTL_MOD);
            }
            return;
        }
        if (now >= stl.next_sample_ns) {
            int print = now >= stl.next_print_ns;
            stall_sample(now, "during", print);
            stl.next_sample_ns += NS_PER_S;
            if (print)
                stl.next_print_ns += stl.print_every_ns;
        }
        return;
    }
    if (c->fd < 0 || now >= stl.observe_end_ns) {
        stall_sample(now, "after", 1);
        stl.done = 1;
    }
}
