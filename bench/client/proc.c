/* SPDX-License-Identifier: MIT */
/* The bench client's view of the server from /proc (CPU, RSS, fds, the stalled stream's TCP state) and of its own CPU. */
#define _GNU_SOURCE /* -std=c99 hides epoll, sockets, clock_gettime and /proc helpers */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "client.h"
#include "../../tests/host_util.h" /* count_dir */

/* VmRSS of a process, or with no_file, VmRSS less RssFile: its anonymous
 * and shared-memory pages without the pages it maps from files. Those are
 * libraries' code, shared with every process using them, and a first
 * connection faults in some (send, epoll): the floor, which keeps nothing
 * per connection, moved by 4 to 17 KiB per connection at 10 streams from
 * libc's pages alone. */
static ll status_kib(long pid, int no_file)
{
    char path[64], line[256];
    FILE *f;
    long rss = -1, file = no_file ? -1 : 0;

    if (pid <= 0)
        return -1;
    snprintf(path, sizeof(path), "/proc/%ld/status", pid);
    f = fopen(path, "r");
    if (f == NULL)
        return -1;
    while (fgets(line, sizeof(line), f) != NULL) {
        if (strncmp(line, "VmRSS:", 6) == 0)
            rss = strtol(line + 6, NULL, 10);
        else if (no_file && strncmp(line, "RssFile:", 8) == 0)
            file = strtol(line + 8, NULL, 10);
    }
    fclose(f);
    return rss < 0 || file < 0 ? -1 : rss - file;
}

static ll rss_kib_pid(long pid)
{
    return status_kib(pid, 1);
}

static ll vmrss_kib_pid(long pid)
{
    return status_kib(pid, 0);
}

/* utime + stime of the whole process (all threads), in µs. */
static ll cpu_us_pid(long pid)
{
    char path[64], buf[2048];
    FILE *f;
    size_t n;
    char *p, *end;
    unsigned long long utime, stime;
    long tck = sysconf(_SC_CLK_TCK);
    int field;

    if (pid <= 0 || tck <= 0)
        return -1;
    snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
    f = fopen(path, "r");
    if (f == NULL)
        return -1;
    n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[n] = '\0';
    /* comm may hold spaces and parentheses: fields count from the last ')'.
     * Then field 3 (state) follows; utime and stime are fields 14 and 15. */
    p = strrchr(buf, ')');
    if (p == NULL)
        return -1;
    p++;
    for (field = 3; field < 14; field++) {
        while (*p == ' ')
            p++;
        while (*p != ' ' && *p != '\0')
            p++;
    }
    utime = strtoull(p, &end, 10);
    if (end == p)
        return -1;
    stime = strtoull(end, &p, 10);
    if (p == end)
        return -1;
    return (ll)((utime + stime) * 1000000ULL / (unsigned long long)tck);
}

static ll fds_pid(long pid)
{
    char path[64];
    if (pid <= 0)
        return -1;
    snprintf(path, sizeof(path), "/proc/%ld/fd", pid);
    return count_dir(path);
}

/* The server is one process or several (nginx's worker and the publisher
 * feeding it): its figures are the sums over --server-pid's list. -1 when
 * there is no list or any process cannot be read. */
static ll sum_over_pids(ll (*one)(long pid))
{
    ll sum = 0, v;
    unsigned i;

    if (g.npids == 0)
        return -1;
    for (i = 0; i < g.npids; i++) {
        if ((v = one(g.server_pid[i])) < 0)
            return -1;
        sum += v;
    }
    return sum;
}

long read_rss_kib(void)
{
    return (long)sum_over_pids(rss_kib_pid);
}

long read_vmrss_kib(void)
{
    return (long)sum_over_pids(vmrss_kib_pid);
}

ll read_cpu_us(void)
{
    return sum_over_pids(cpu_us_pid);
}

long count_fds(void)
{
    return (long)sum_over_pids(fds_pid);
}


/* The server's end of the stalled stream, from /proc/net/tcp: its TCP state
 * and send queue. After the server closes a socket whose peer reads nothing,
 * the FIN waits behind the unsent data, so the client would never notice;
 * the state (FIN_WAIT1 instead of ESTABLISHED, or gone) tells it at once. */
const char *tcp_state_name(unsigned st)
{
    static const char *names[] = { "?", "ESTABLISHED", "SYN_SENT", "SYN_RECV",
        "FIN_WAIT1", "FIN_WAIT2", "TIME_WAIT", "CLOSE", "CLOSE_WAIT",
        "LAST_ACK", "LISTEN", "CLOSING" };
    return st < sizeof(names) / sizeof(names[0]) ? names[st] : "?";
}

int server_sock_state(unsigned srv_port, int cli_port, unsigned *state,
                             long *txq)
{
    FILE *f = fopen("/proc/net/tcp", "r");
    char line[512];
    int found = 0;

    if (f == NULL)
        return -1;
    while (fgets(line, sizeof(line), f) != NULL) {
        unsigned lport, rport, st;
        unsigned long tx, rx;
        if (sscanf(line, " %*d: %*x:%x %*x:%x %x %lx:%lx", &lport, &rport,
                   &st, &tx, &rx) != 5)
            continue;
        if (lport == srv_port && (int)rport == cli_port) {
            *state = st;
            *txq = (long)tx;
            found = 1;
            break;
        }
    }
    fclose(f);
    return found;
}

/* 3000 streams need more than the usual soft limit of 1024 fds: take the
 * hard limit (a stream is one fd; epoll and stdio add a few). */
void raise_nofile(unsigned need)
{
    struct rlimit rl;

    if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
        return;
    if (rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        if (setrlimit(RLIMIT_NOFILE, &rl) != 0)
            perror("setrlimit(RLIMIT_NOFILE)");
    }
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY &&
        rl.rlim_cur < (rlim_t)need + 16)
        fprintf(stderr, "sse_bench_client: fd limit %llu is below %u streams "
                "(raise ulimit -Hn); connects past it will fail\n",
                (unsigned long long)rl.rlim_cur, need);
}

ll cpu_self_us(void)
{
    struct rusage ru;

    getrusage(RUSAGE_SELF, &ru);
    return (ll)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000LL +
           ru.ru_utime.tv_usec + ru.ru_stime.tv_usec;
}
