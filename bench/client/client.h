/* SPDX-License-Identifier: MIT */
/* The bench client's internal header: its types, its shared state and the calls between its files. */
#ifndef BENCH_CLIENT_H
#define BENCH_CLIENT_H

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

/*
 * How it works, in one thread:
 *  - connect N streams, at most --max-inflight without an answer yet (the
 *    server's listen backlog is small; overrunning it costs 1 s SYN retries);
 *  - parse every stream's bytes as they come: one read per readiness, the
 *    clock read once right after it, so latency = that instant minus the
 *    publisher's t carried in "data: <seq> <t>";
 *  - warm-up, then a measuring window over which the server's CPU time
 *    (/proc/PID/stat, summed over every --server-pid: nginx's worker and
 *    nchan's publisher are one server) and the events delivered are counted;
 *  - optionally one extra stream that stops reading, to watch the server's
 *    RSS and whether (and when) it gives that stream up;
 *  - with --tls (a CONFIG_SSE_TLS build) every stream is https: the TLS
 *    handshake runs in the same loop on the non-blocking socket and counts
 *    as part of the connect (so it is paced like the connects), and each
 *    readiness reads records until mbedTLS wants more bytes.
 * Every loop is bounded by a count or by the hard deadline.
 */

typedef long long ll;

#define NS_PER_S   1000000000LL
#define NS_PER_MS  1000000LL
#define NS_PER_US  1000LL

#define CARRY_MAX       2048        /* response head or one partial line */
#define RBUF_SIZE       (64 * 1024) /* one read, shared by all connections */
#define MAX_EPOLL       1024        /* events per epoll_wait(), not a limit on streams */
#define MAX_PIDS        8           /* --server-pid A,B,...: summed */
#define MAX_RETRIES     5
#define ATTEMPT_TIMEOUT (5 * NS_PER_S) /* connect + response head */
#define STALL_OBSERVE   (3 * NS_PER_S) /* reading again after the stall */

/* Latency histogram: 1 µs buckets below 10 ms, 10 µs buckets up to 10 s,
 * one overflow bucket. 8 MB of counters, whatever the run length. */
#define H_FINE    10000
#define H_COARSE  999000
#define H_BUCKETS (H_FINE + H_COARSE + 1)

typedef struct hist {
    uint64_t b[H_BUCKETS];
    uint64_t n, sum_ns;
    ll       max_ns;
} hist_t;

/* C_HANDSHAKE and C_REQUEST only with --tls (plain sends the request while
 * still C_CONNECTING). */
enum { C_IDLE, C_CONNECTING, C_HANDSHAKE, C_REQUEST, C_HEAD, C_STREAM,
       C_STALLED, C_FAILED, C_BROKEN, C_CLOSED };
enum { P_CONNECT, P_WARMUP, P_WINDOW, P_TAIL, P_DONE };

typedef struct conn {
    int      fd;
    uint8_t  state;
    uint8_t  retries;
    uint8_t  is_stall;
    uint8_t  has_data;   /* the event being parsed had a valid data line */
    uint8_t  has_id;
    uint16_t carry_len;
    size_t   req_off;    /* request bytes sent so far */
    ll       attempt_ns; /* when this connect attempt started */
    ll       retry_ns;   /* back-off: not before this time */
    ll       hs_ns;      /* --tls: when the handshake started */
    void    *tls;        /* --tls: its mbedtls_ssl_context, else NULL */
    int      io_err;     /* --tls: errno of the last failed send/recv */
    uint64_t cur_seq, cur_id;
    ll       cur_t;
    ll       cur_due;     /* when the event was due; -1: the data did not say */
    uint64_t last_seq;   /* 0 = nothing received yet */
    uint64_t events;
    char     carry[CARRY_MAX];
} conn_t;

extern struct client {
    /* options */
    unsigned port, clients, max_inflight, rate;
    struct sockaddr_in addr; /* --host (default 127.0.0.1) and --port */
    double   seconds, warmup, connect_timeout;
    long     server_pid[MAX_PIDS]; /* --server-pid: CPU and RSS are summed */
    unsigned npids;
    int      ids_any;     /* --ids any: ids are not seqs (nchan), no check */
    const char *path;
    /* request */
    char     req[512];
    size_t   req_len;
    /* state */
    conn_t  *c;
    unsigned nconns;      /* clients, + 1 with --stall-one */
    int      ep;
    int      phase;
    unsigned next_fresh;  /* next never-tried connection */
    unsigned inflight;    /* connecting or waiting for the head */
    unsigned retry_pending;
    unsigned connected, failed, broken, retries_total;
    unsigned fail_refused, fail_reset, fail_status, fail_timeout, fail_other;
    unsigned fail_no_event; /* 200 then closed before any event: overload */
    unsigned fail_tls;      /* handshake refused (certificate, protocol) */
    int      tls;           /* --tls */
    const char *cafile;     /* --cafile */
    /* counters */
    uint64_t events_total, lost, dup, id_mismatch, malformed;
    uint64_t window_events;
    uint64_t max_seq;     /* newest event seen on any measured stream */
    hist_t   lat;         /* publish (t) to read */
    hist_t   due;         /* due (t - late) to read */
    char     rbuf[RBUF_SIZE + CARRY_MAX];
} g;

/* The stalled stream's story, kept apart from the measured ones. */
extern struct stall {
    conn_t  *c;
    int      local_port;
    ll       start_ns, end_ns, observe_end_ns;
    ll       srv_closed_ns;  /* first seen not ESTABLISHED on the server */
    ll       hup_ns;         /* FIN or RST reached the client */
    ll       eof_ns;         /* read() returned 0 after the stall */
    ll       next_sample_ns, next_print_ns, print_every_ns;
    long     rss_start, rss_min, rss_max, rss_end;
    uint64_t events_before, events_after, lost_after;
    double   stall_s;        /* --stall-one */
    int      rcvbuf;         /* --stall-rcvbuf; 0 = kernel default */
    int      resumed, done, connect_failed;
    char     srv_state_end[16];
} stl;

/* What the phases measured, for the report (-1: could not be read). */
typedef struct run {
    ll       connect_ns, win_start, win_actual;
    ll       cpu0, cpu1, self0, self1;  /* server's and own CPU over the window */
    ll       ccpu0, ccpu1;              /* server's CPU over the connects */
    uint64_t seq0, seq1;                /* newest seq at the window's ends */
    long     rss_base, rss_end;         /* VmRSS less RssFile (proc.c) */
    long     vm_base, vm_end;           /* VmRSS, files' pages included */
    unsigned open_at_end, measured_at_end;
    const char *end_reason;             /* "done", "signal", "deadline", ... */
} run_t;

extern volatile sig_atomic_t g_sig;

static inline ll now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (ll)ts.tv_sec * NS_PER_S + ts.tv_nsec;
}

/* proc.c: the server's figures from /proc, summed over --server-pid, and
 * the client's own. */
long read_rss_kib(void);   /* VmRSS less RssFile */
long read_vmrss_kib(void); /* VmRSS */
ll read_cpu_us(void);
long count_fds(void);
const char *tcp_state_name(unsigned st);
int server_sock_state(unsigned srv_port, int cli_port, unsigned *state, long *txq);
ll cpu_self_us(void);
void raise_nofile(unsigned need);

/* parse.c: SSE parsing and the latency histograms. */
int parse_stream(conn_t *c, const char *p, size_t n, ll now);
double hist_quantile_ms(const hist_t *h, double q);

/* tls.c: --tls over mbedTLS (stubs in a build without CONFIG_SSE_TLS). */
int tls_global_init(const char *cafile);
int tls_conn_new(conn_t *c);
void tls_conn_free(conn_t *c);
ssize_t tls_send(conn_t *c, const void *buf, size_t len, int *want_out);
ssize_t tls_recv(conn_t *c, void *buf, size_t len);
void tls_handshake_step(conn_t *c, ll now);
void tls_summary(char *buf, size_t n);

/* conn.c: connects, paced; response heads; reads. */
void set_events(conn_t *c, uint32_t ev, int op);
void close_fd(conn_t *c);
int in_flight(const conn_t *c);
void attempt_failed(conn_t *c, int err, ll now);
void send_request(conn_t *c, ll now);
void start_connect(conn_t *c, ll now);
void on_event(conn_t *c);
void pump_connects(ll now);
void expire_attempts(ll now);

/* stall.c: the stream that stops reading. */
void stall_sample(ll now, const char *label, int print);
void stall_tick(ll now);

/* phases.c: connect, warm-up, window, tail. */
void run_phases(run_t *run);

/* report.c: the result lines; the exit status. */
int report(const run_t *run);

#endif /* BENCH_CLIENT_H */
