/* sse_bench_client: neutral one-thread epoll SSE load client; measures delivery, latency, server CPU and RSS. */
#define _GNU_SOURCE /* -std=c99 hides epoll, sockets, clock_gettime and /proc helpers */

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#if defined(CONFIG_SSE_TLS)
/* --tls: mbedTLS's client in the same epoll loop (non-blocking BIO). */
#include <mbedtls/version.h>
#include <mbedtls/ctr_drbg.h>
#include <mbedtls/entropy.h>
#include <mbedtls/error.h>
#include <mbedtls/net_sockets.h> /* MBEDTLS_ERR_NET_* codes only */
#include <mbedtls/ssl.h>
#include <mbedtls/x509_crt.h>
#if MBEDTLS_VERSION_NUMBER >= 0x03000000 && defined(MBEDTLS_USE_PSA_CRYPTO)
#include <psa/crypto.h>
#endif
#endif

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
 * one overflow bucket. 4 MB of counters, whatever the run length. */
#define H_FINE    10000
#define H_COARSE  999000
#define H_BUCKETS (H_FINE + H_COARSE + 1)

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
    uint64_t last_seq;   /* 0 = nothing received yet */
    uint64_t events;
    char     carry[CARRY_MAX];
} conn_t;

static struct {
    /* options */
    unsigned port, clients, max_inflight, rate;
    struct in_addr host; /* --host, default 127.0.0.1 */
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
    uint64_t hist[H_BUCKETS];
    uint64_t lat_n, lat_sum_ns;
    ll       lat_max_ns;
    char     rbuf[RBUF_SIZE + CARRY_MAX];
} g;

/* The stalled stream's story, kept apart from the measured ones. */
static struct {
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

static volatile sig_atomic_t g_sig;

static void on_signal(int sig)
{
    (void)sig;
    g_sig = 1;
}

static ll now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (ll)ts.tv_sec * NS_PER_S + ts.tv_nsec;
}

/* ---- /proc readers -------------------------------------------------------- */

static long read_rss_kib_pid(long pid)
{
    char path[64], line[256];
    FILE *f;
    long kib = -1;

    if (pid <= 0)
        return -1;
    snprintf(path, sizeof(path), "/proc/%ld/status", pid);
    f = fopen(path, "r");
    if (f == NULL)
        return -1;
    while (fgets(line, sizeof(line), f) != NULL) {
        if (strncmp(line, "VmRSS:", 6) == 0) {
            kib = strtol(line + 6, NULL, 10);
            break;
        }
    }
    fclose(f);
    return kib;
}

/* utime + stime of the whole process (all threads), in µs. */
static ll read_cpu_us_pid(long pid)
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

static long count_fds_pid(long pid)
{
    char path[64];
    DIR *d;
    struct dirent *e;
    long n = 0;

    if (pid <= 0)
        return -1;
    snprintf(path, sizeof(path), "/proc/%ld/fd", pid);
    d = opendir(path);
    if (d == NULL)
        return -1;
    while ((e = readdir(d)) != NULL)
        if (e->d_name[0] != '.')
            n++;
    closedir(d);
    return n;
}

/* The server is one process or several (nginx's worker and the publisher
 * feeding it): its figures are the sums over --server-pid's list. -1 when
 * there is no list or any process cannot be read. */
static long read_rss_kib(void)
{
    long sum = 0, v;
    unsigned i;

    if (g.npids == 0)
        return -1;
    for (i = 0; i < g.npids; i++) {
        if ((v = read_rss_kib_pid(g.server_pid[i])) < 0)
            return -1;
        sum += v;
    }
    return sum;
}

static ll read_cpu_us(void)
{
    ll sum = 0, v;
    unsigned i;

    if (g.npids == 0)
        return -1;
    for (i = 0; i < g.npids; i++) {
        if ((v = read_cpu_us_pid(g.server_pid[i])) < 0)
            return -1;
        sum += v;
    }
    return sum;
}

static long count_fds(void)
{
    long sum = 0, v;
    unsigned i;

    if (g.npids == 0)
        return -1;
    for (i = 0; i < g.npids; i++) {
        if ((v = count_fds_pid(g.server_pid[i])) < 0)
            return -1;
        sum += v;
    }
    return sum;
}

/* The server's end of the stalled stream, from /proc/net/tcp: its TCP state
 * and send queue. After the server closes a socket whose peer reads nothing,
 * the FIN waits behind the unsent data, so the client would never notice;
 * the state (FIN_WAIT1 instead of ESTABLISHED, or gone) tells it at once. */
static const char *tcp_state_name(unsigned st)
{
    static const char *names[] = { "?", "ESTABLISHED", "SYN_SENT", "SYN_RECV",
        "FIN_WAIT1", "FIN_WAIT2", "TIME_WAIT", "CLOSE", "CLOSE_WAIT",
        "LAST_ACK", "LISTEN", "CLOSING" };
    return st < sizeof(names) / sizeof(names[0]) ? names[st] : "?";
}

static int server_sock_state(unsigned srv_port, int cli_port, unsigned *state,
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

/* ---- latency histogram ---------------------------------------------------- */

static void hist_add(ll ns)
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
    g.hist[i]++;
    g.lat_n++;
    g.lat_sum_ns += (uint64_t)ns;
    if (ns > g.lat_max_ns)
        g.lat_max_ns = ns;
}

/* Upper edge of the bucket holding the q-quantile, in ms (-1: no samples). */
static double hist_quantile_ms(double q)
{
    uint64_t want, cum = 0;
    size_t i;

    if (g.lat_n == 0)
        return -1;
    want = (uint64_t)(q * (double)g.lat_n);
    if ((double)want < q * (double)g.lat_n)
        want++;
    if (want == 0)
        want = 1;
    for (i = 0; i < H_BUCKETS; i++) {
        cum += g.hist[i];
        if (cum >= want)
            break;
    }
    if (i < H_FINE)
        return (double)(i + 1) / 1000.0;
    if (i < H_BUCKETS - 1)
        return (double)(H_FINE + (i - H_FINE + 1) * 10) / 1000.0;
    return (double)g.lat_max_ns / 1e6;
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
        hist_add(now - c->cur_t);
    }
}

static void handle_line(conn_t *c, const char *p, size_t n, ll now)
{
    const char *end = p + n, *v;
    uint64_t seq, t;

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
        if (parse_u64(&v, end, &seq) && v < end && *v == ' ' &&
            (v++, parse_u64(&v, end, &t)) && v == end) {
            c->cur_seq = seq;
            c->cur_t = (ll)t;
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
static int parse_stream(conn_t *c, const char *p, size_t n, ll now)
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

static const char *memmem_ci(const char *h, size_t hn, const char *needle)
{
    size_t nn = strlen(needle), i;

    for (i = 0; i + nn <= hn; i++)
        if (strncasecmp(h + i, needle, nn) == 0)
            return h + i;
    return NULL;
}

/* ---- TLS (--tls, CONFIG_SSE_TLS builds only) ------------------------------ */

#if defined(CONFIG_SSE_TLS)

/* The name the server's certificate must carry. The client always connects
 * to 127.0.0.1, but mbedTLS 2.28 matches DNS names only (not IP SANs), and
 * scripts/devcert.sh puts DNS:localhost in the certificate. */
#define TLS_HOSTNAME "localhost"

/* Shared by every connection: one configuration, random generator and CA
 * chain. Each connection has its own mbedtls_ssl_context (on the heap). */
static struct {
    mbedtls_ssl_config       conf;
    mbedtls_entropy_context  entropy;
    mbedtls_ctr_drbg_context drbg;
    mbedtls_x509_crt         ca;
    unsigned handshakes;
    ll       hs_sum_ns, hs_max_ns;
    unsigned refused_printed;
    char     suite[80], version[24];
} T;

static void tls_print_err(const char *what, int err)
{
    char msg[128] = "";
#if defined(MBEDTLS_ERROR_C)
    mbedtls_strerror(err, msg, sizeof(msg));
#endif
    fprintf(stderr, "sse_bench_client: tls: %s: -0x%04x %s\n", what,
            (unsigned)-err, msg);
}

static int tls_global_init(const char *cafile)
{
    static const char pers[] = "sse_bench_client";
    int r;

    mbedtls_ssl_config_init(&T.conf);
    mbedtls_entropy_init(&T.entropy);
    mbedtls_ctr_drbg_init(&T.drbg);
    mbedtls_x509_crt_init(&T.ca);
#if MBEDTLS_VERSION_NUMBER >= 0x03000000 && defined(MBEDTLS_USE_PSA_CRYPTO)
    if (psa_crypto_init() != PSA_SUCCESS) {
        fprintf(stderr, "sse_bench_client: tls: psa_crypto_init failed\n");
        return -1;
    }
#endif
    r = mbedtls_ctr_drbg_seed(&T.drbg, mbedtls_entropy_func, &T.entropy,
                              (const unsigned char *)pers, sizeof(pers) - 1);
    if (r != 0) {
        tls_print_err("seeding the random generator", r);
        return -1;
    }
    r = mbedtls_x509_crt_parse_file(&T.ca, cafile);
    if (r != 0) { /* > 0: some certificates in the file did not parse */
        if (r > 0)
            fprintf(stderr, "sse_bench_client: tls: %s: %d certificate(s) "
                    "did not parse\n", cafile, r);
        else
            tls_print_err(cafile, r);
        return -1;
    }
    r = mbedtls_ssl_config_defaults(&T.conf, MBEDTLS_SSL_IS_CLIENT,
                                    MBEDTLS_SSL_TRANSPORT_STREAM,
                                    MBEDTLS_SSL_PRESET_DEFAULT);
    if (r != 0) {
        tls_print_err("configuration", r);
        return -1;
    }
    /* A real client: the server's chain must verify against --cafile and
     * name TLS_HOSTNAME, or the handshake fails. */
    mbedtls_ssl_conf_authmode(&T.conf, MBEDTLS_SSL_VERIFY_REQUIRED);
    mbedtls_ssl_conf_ca_chain(&T.conf, &T.ca, NULL);
    mbedtls_ssl_conf_rng(&T.conf, mbedtls_ctr_drbg_random, &T.drbg);
    return 0;
}

/* Non-blocking BIO on the connection's fd: EAGAIN becomes WANT_*, so
 * mbedTLS returns to the epoll loop, which calls it again on readiness. */
static int tls_bio_send(void *ctx, const unsigned char *buf, size_t len)
{
    conn_t *c = ctx;
    ssize_t w = send(c->fd, buf, len, MSG_NOSIGNAL);

    if (w >= 0)
        return (int)w;
    if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
        return MBEDTLS_ERR_SSL_WANT_WRITE;
    c->io_err = errno;
    return MBEDTLS_ERR_NET_SEND_FAILED;
}

static int tls_bio_recv(void *ctx, unsigned char *buf, size_t len)
{
    conn_t *c = ctx;
    ssize_t r = recv(c->fd, buf, len, 0);

    if (r > 0)
        return (int)r;
    if (r == 0)
        return 0; /* EOF: mbedTLS reports MBEDTLS_ERR_SSL_CONN_EOF */
    if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
        return MBEDTLS_ERR_SSL_WANT_READ;
    c->io_err = errno;
    return MBEDTLS_ERR_NET_RECV_FAILED;
}

static int tls_conn_new(conn_t *c)
{
    mbedtls_ssl_context *ssl = malloc(sizeof(*ssl));
    int r;

    if (ssl == NULL)
        return ENOMEM;
    mbedtls_ssl_init(ssl);
    r = mbedtls_ssl_setup(ssl, &T.conf);
    if (r == 0)
        r = mbedtls_ssl_set_hostname(ssl, TLS_HOSTNAME);
    if (r != 0) {
        if (T.refused_printed++ == 0)
            tls_print_err("session set-up", r);
        mbedtls_ssl_free(ssl);
        free(ssl);
        return ENOMEM;
    }
    mbedtls_ssl_set_bio(ssl, c, tls_bio_send, tls_bio_recv, NULL);
    c->tls = ssl;
    c->io_err = 0;
    return 0;
}

static void tls_conn_free(conn_t *c)
{
    if (c->tls != NULL) {
        mbedtls_ssl_free(c->tls);
        free(c->tls);
        c->tls = NULL;
    }
}

/* errno for a failed mbedTLS call: the socket's own error, EOF as
 * ECONNRESET, anything else (bad record, alert) as EPROTO. */
static int tls_errno(conn_t *c, int r)
{
    if (r == MBEDTLS_ERR_NET_SEND_FAILED || r == MBEDTLS_ERR_NET_RECV_FAILED)
        return c->io_err ? c->io_err : ECONNRESET;
    if (r == MBEDTLS_ERR_SSL_CONN_EOF)
        return ECONNRESET;
    return EPROTO;
}

static ssize_t tls_send(conn_t *c, const void *buf, size_t len, int *want_out)
{
    int r = mbedtls_ssl_write(c->tls, buf, len);

    if (r >= 0)
        return r;
    if (r == MBEDTLS_ERR_SSL_WANT_WRITE || r == MBEDTLS_ERR_SSL_WANT_READ) {
        *want_out = r == MBEDTLS_ERR_SSL_WANT_WRITE;
        errno = EAGAIN;
        return -1;
    }
    errno = tls_errno(c, r);
    return -1;
}

static ssize_t tls_recv(conn_t *c, void *buf, size_t len)
{
    int r = mbedtls_ssl_read(c->tls, buf, len);

    if (r > 0)
        return r;
    if (r == MBEDTLS_ERR_SSL_WANT_READ || r == MBEDTLS_ERR_SSL_WANT_WRITE) {
        errno = EAGAIN;
        return -1;
    }
    if (r == 0 || r == MBEDTLS_ERR_SSL_PEER_CLOSE_NOTIFY ||
        r == MBEDTLS_ERR_SSL_CONN_EOF)
        return 0;
    if (r != MBEDTLS_ERR_NET_RECV_FAILED && r != MBEDTLS_ERR_NET_SEND_FAILED &&
        T.refused_printed++ == 0)
        tls_print_err("read", r);
    errno = tls_errno(c, r);
    return -1;
}

#else /* !CONFIG_SSE_TLS: c->tls stays NULL, none of these is reached */

static int tls_conn_new(conn_t *c)
{
    (void)c;
    return ENOTSUP;
}

static void tls_conn_free(conn_t *c)
{
    (void)c;
}

static ssize_t tls_send(conn_t *c, const void *buf, size_t len, int *want_out)
{
    (void)c; (void)buf; (void)len; (void)want_out;
    errno = ENOTSUP;
    return -1;
}

static ssize_t tls_recv(conn_t *c, void *buf, size_t len)
{
    (void)c; (void)buf; (void)len;
    errno = ENOTSUP;
    return -1;
}

#endif /* CONFIG_SSE_TLS */

/* send()/read() on a connection, over TLS or not. -1 with errno EAGAIN
 * when it would block; *want_out says whether it waits to write (TLS may
 * need to read first). */
static ssize_t conn_send(conn_t *c, const void *buf, size_t len, int *want_out)
{
    *want_out = 1;
    if (c->tls != NULL)
        return tls_send(c, buf, len, want_out);
    return send(c->fd, buf, len, MSG_NOSIGNAL);
}

static ssize_t conn_recv(conn_t *c, void *buf, size_t len)
{
    if (c->tls != NULL)
        return tls_recv(c, buf, len);
    return read(c->fd, buf, len);
}

/* ---- connections ---------------------------------------------------------- */

static void set_events(conn_t *c, uint32_t ev, int op)
{
    struct epoll_event e;

    memset(&e, 0, sizeof(e));
    e.events = ev;
    e.data.u32 = (uint32_t)(c - g.c);
    if (epoll_ctl(g.ep, op, c->fd, &e) != 0) {
        perror("epoll_ctl");
        exit(3);
    }
}

static void close_fd(conn_t *c)
{
    tls_conn_free(c);
    if (c->fd >= 0) {
        close(c->fd); /* also removes it from the epoll set */
        c->fd = -1;
    }
}

/* Not answered yet: counts against --max-inflight, so TLS handshakes are
 * paced like the connects (they cost CPU on both sides). */
static int in_flight(const conn_t *c)
{
    return c->state == C_CONNECTING || c->state == C_HANDSHAKE ||
           c->state == C_REQUEST || c->state == C_HEAD;
}

/* This attempt failed: retry later (with back-off) or give up. */
static void attempt_failed(conn_t *c, int err, ll now)
{
    if (in_flight(c))
        g.inflight--;
    close_fd(c);
    switch (err) {
    case ECONNREFUSED: g.fail_refused++; break;
    case ECONNRESET: case EPIPE: g.fail_reset++; break;
    case EPROTO: g.fail_status++; break;
    case ETIMEDOUT: g.fail_timeout++; break;
    case EAGAIN: g.fail_no_event++; break;
    case EBADMSG: g.fail_tls++; break;
    default: g.fail_other++; break;
    }
    c->carry_len = 0;
    if (c->retries < MAX_RETRIES && (g.phase == P_CONNECT || c->is_stall)) {
        c->retries++;
        g.retries_total++;
        c->state = C_IDLE;
        c->retry_ns = now + 50 * NS_PER_MS * c->retries;
        g.retry_pending++;
    } else {
        c->state = C_FAILED;
        if (c->is_stall)
            stl.connect_failed = 1;
        else
            g.failed++;
    }
}

static void send_request(conn_t *c, ll now)
{
    while (c->req_off < g.req_len) {
        int want_out;
        ssize_t w = conn_send(c, g.req + c->req_off, g.req_len - c->req_off,
                              &want_out);
        if (w < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK) {
                set_events(c, want_out ? EPOLLOUT : EPOLLIN, EPOLL_CTL_MOD);
                return;
            }
            attempt_failed(c, errno, now);
            return;
        }
        c->req_off += (size_t)w;
    }
    c->state = C_HEAD;
    set_events(c, EPOLLIN, EPOLL_CTL_MOD);
}

#if defined(CONFIG_SSE_TLS)
/* One step of the handshake, on readiness; then the request. */
static void tls_handshake_step(conn_t *c, ll now)
{
    int r = mbedtls_ssl_handshake(c->tls);

    if (r == 0) {
        ll d = now_ns() - c->hs_ns;
        T.handshakes++;
        T.hs_sum_ns += d;
        if (d > T.hs_max_ns)
            T.hs_max_ns = d;
        if (T.suite[0] == '\0') {
            snprintf(T.suite, sizeof(T.suite), "%s",
                     mbedtls_ssl_get_ciphersuite(c->tls));
            snprintf(T.version, sizeof(T.version), "%s",
                     mbedtls_ssl_get_version(c->tls));
        }
        c->state = C_REQUEST;
        send_request(c, now);
        return;
    }
    if (r == MBEDTLS_ERR_SSL_WANT_READ) {
        set_events(c, EPOLLIN, EPOLL_CTL_MOD);
        return;
    }
    if (r == MBEDTLS_ERR_SSL_WANT_WRITE) {
        set_events(c, EPOLLOUT, EPOLL_CTL_MOD);
        return;
    }
    if (r == MBEDTLS_ERR_SSL_CONN_EOF || r == MBEDTLS_ERR_NET_RECV_FAILED ||
        r == MBEDTLS_ERR_NET_SEND_FAILED) {
        /* The server hung up: with every slot busy ssedge closes a TLS
         * connection without a handshake. Retried like a refused connect. */
        attempt_failed(c, tls_errno(c, r), now);
        return;
    }
    /* Refused: certificate verification, alert, protocol. Say why once. */
    if (T.refused_printed++ == 0) {
        tls_print_err("handshake", r);
        if (r == MBEDTLS_ERR_X509_CERT_VERIFY_FAILED) {
            char info[256];
            mbedtls_x509_crt_verify_info(info, sizeof(info), "  ",
                                         mbedtls_ssl_get_verify_result(c->tls));
            fprintf(stderr, "sse_bench_client: tls: server certificate "
                    "(expected name " TLS_HOSTNAME "):\n%s", info);
        }
    }
    attempt_failed(c, EBADMSG, now);
}
#else
static void tls_handshake_step(conn_t *c, ll now)
{
    (void)c;
    (void)now;
}
#endif

/* TCP is up: the TLS handshake first, or the request at once. */
static void tcp_connected(conn_t *c, ll now)
{
    if (c->tls != NULL) {
        c->state = C_HANDSHAKE;
        c->hs_ns = now_ns();
        tls_handshake_step(c, now);
    } else {
        send_request(c, now);
    }
}

static void start_connect(conn_t *c, ll now)
{
    struct sockaddr_in sa;
    int fd, rc;

    fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        perror("socket");
        c->state = C_CONNECTING; /* so attempt_failed() balances inflight */
        g.inflight++;
        attempt_failed(c, errno, now);
        return;
    }
    if (c->is_stall && stl.rcvbuf > 0 &&
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &stl.rcvbuf,
                   sizeof(stl.rcvbuf)) != 0)
        perror("setsockopt(SO_RCVBUF)");
    c->fd = fd;
    c->req_off = 0;
    c->carry_len = 0;
    c->has_data = 0;
    c->has_id = 0;
    c->attempt_ns = now;
    c->state = C_CONNECTING;
    g.inflight++;
    if (g.tls && (rc = tls_conn_new(c)) != 0) {
        attempt_failed(c, rc, now);
        return;
    }

    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)g.port);
    sa.sin_addr = g.host;
    rc = connect(fd, (struct sockaddr *)&sa, sizeof(sa));
    if (rc == 0) {
        set_events(c, EPOLLIN, EPOLL_CTL_ADD);
        tcp_connected(c, now);
    } else if (errno == EINPROGRESS) {
        set_events(c, EPOLLOUT, EPOLL_CTL_ADD);
    } else {
        attempt_failed(c, errno, now);
    }
}

static void stall_sample(ll now, const char *label, int print);

static void head_done(conn_t *c, ll now)
{
    g.inflight--;
    if (c->is_stall) {
        struct sockaddr_in sa;
        socklen_t sl = sizeof(sa);
        /* Stop reading from here on; only watch for FIN/RST (EPOLLHUP and
         * EPOLLERR are always reported), so level triggering stays quiet. */
        c->state = C_STALLED;
        set_events(c, EPOLLRDHUP, EPOLL_CTL_MOD);
        if (getsockname(c->fd, (struct sockaddr *)&sa, &sl) == 0)
            stl.local_port = ntohs(sa.sin_port);
        stl.start_ns = now;
        stl.end_ns = now + (ll)(stl.stall_s * NS_PER_S);
        stl.next_sample_ns = now + NS_PER_S;
        stl.next_print_ns = now + stl.print_every_ns;
        stall_sample(now, "start", 1);
        stl.rss_min = stl.rss_max = stl.rss_start;
        return;
    }
    /* Counted as connected at its first event, not now: ssedge answers a
     * stream it has no slot for with 200 and a lone "retry:", then closes. */
    c->state = C_STREAM;
}

/* Check the response head; hand what follows it to the stream parser. */
static void on_head_bytes(conn_t *c, size_t total, ll now)
{
    const char *buf = g.rbuf, *eoh = NULL;
    size_t i, hlen;

    for (i = 0; i + 4 <= total; i++) {
        if (memcmp(buf + i, "\r\n\r\n", 4) == 0) {
            eoh = buf + i;
            break;
        }
    }
    if (eoh == NULL) {
        if (total > CARRY_MAX) {
            attempt_failed(c, EPROTO, now);
            return;
        }
        memcpy(c->carry, buf, total);
        c->carry_len = (uint16_t)total;
        return;
    }
    hlen = (size_t)(eoh - buf);
    if (hlen < 12 || memcmp(buf, "HTTP/1.1 200", 12) != 0 ||
        memmem_ci(buf, hlen, "text/event-stream") == NULL ||
        memmem_ci(buf, hlen, "chunked") != NULL) {
        /* Not a stream this client can read (503 when full, 404...). A
         * chunked body is refused outright: ssedge does not chunk, and
         * parsing chunk sizes as SSE lines would count garbage. */
        attempt_failed(c, EPROTO, now);
        return;
    }
    c->carry_len = 0;
    head_done(c, now);
    if (parse_stream(c, eoh + 4, total - hlen - 4, now) != 0) {
        if (!c->is_stall) {
            g.broken++;
            if (c->events > 0)
                g.connected--;
            else
                g.failed++;
        }
        close_fd(c);
        c->state = C_BROKEN;
    }
}

static void stream_ended(conn_t *c, int err, ll now)
{
    if (c->is_stall) {
        stl.eof_ns = now;
        close_fd(c);
        c->state = C_CLOSED;
        return;
    }
    /* A stream that ends before its first event is an overload answer
     * ("retry:" only, then close) or a refusal: a failed attempt, retried
     * while still connecting. */
    if (c->events == 0) {
        attempt_failed(c, err ? err : EAGAIN, now);
        return;
    }
    if (g.broken++ == 0)
        fprintf(stderr, "sse_bench_client: stream %u ended (%s) after %llu "
                "events\n", (unsigned)(c - g.c),
                err ? strerror(err) : "EOF", (unsigned long long)c->events);
    g.connected--;
    close_fd(c);
    c->state = C_BROKEN;
}

/* Plain: one read per readiness (level-triggered epoll comes back for the
 * rest). TLS: one record per mbedtls_ssl_read(), and mbedTLS may hold
 * bytes the kernel no longer shows, so read until it wants more from the
 * socket. The clock is read right after each read (for TLS: after the
 * record is decrypted), which is what the latency measures. */
static void on_readable(conn_t *c)
{
    for (;;) {
        size_t carry = c->carry_len;
        ssize_t r;
        ll now;

        memcpy(g.rbuf, c->carry, carry);
        r = conn_recv(c, g.rbuf + carry, RBUF_SIZE);
        now = now_ns();
        if (r < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
                return;
            if (c->state == C_HEAD)
                attempt_failed(c, errno, now);
            else
                stream_ended(c, errno, now);
            return;
        }
        if (r == 0) {
            if (c->state == C_HEAD)
                attempt_failed(c, ECONNRESET, now);
            else
                stream_ended(c, 0, now);
            return;
        }
        if (c->state == C_HEAD) {
            on_head_bytes(c, carry + (size_t)r, now);
        } else if (parse_stream(c, g.rbuf, carry + (size_t)r, now) != 0) {
            g.malformed++;
            stream_ended(c, EPROTO, now);
        }
        if (c->tls == NULL || c->fd < 0 ||
            (c->state != C_HEAD && c->state != C_STREAM))
            return; /* plain, closed, or the stalled stream stops here */
    }
}

static void on_event(conn_t *c)
{
    ll now = now_ns();

    switch (c->state) {
    case C_CONNECTING: {
        int err = 0;
        socklen_t len = sizeof(err);
        if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0)
            err = errno;
        if (err != 0) {
            attempt_failed(c, err, now);
            return;
        }
        tcp_connected(c, now);
        break;
    }
    case C_HANDSHAKE:
        tls_handshake_step(c, now);
        break;
    case C_REQUEST:
        send_request(c, now);
        break;
    case C_HEAD:
    case C_STREAM:
        on_readable(c);
        break;
    case C_STALLED:
        /* FIN or RST while not reading: note it once and stop polling the
         * fd (level-triggered HUP would fire forever); keep the fd so the
         * buffered events can still be read when the stall ends. */
        if (stl.hup_ns == 0)
            stl.hup_ns = now;
        epoll_ctl(g.ep, EPOLL_CTL_DEL, c->fd, NULL);
        break;
    default:
        break;
    }
}

/* Start fresh connects and due retries while few enough are in flight. */
static void pump_connects(ll now)
{
    unsigned i;

    while (g.phase == P_CONNECT && g.next_fresh < g.clients &&
           g.inflight < g.max_inflight)
        start_connect(&g.c[g.next_fresh++], now);
    if (g.retry_pending == 0)
        return;
    for (i = 0; i < g.nconns && g.inflight < g.max_inflight; i++) {
        conn_t *c = &g.c[i];
        if (c->state == C_IDLE && c->retries > 0 && c->retry_ns <= now) {
            g.retry_pending--;
            start_connect(c, now);
        }
    }
}

/* Connect attempts that got no answer in time count as failed attempts. */
static void expire_attempts(ll now)
{
    unsigned i;

    if (g.inflight == 0)
        return;
    for (i = 0; i < g.nconns; i++) {
        conn_t *c = &g.c[i];
        if (in_flight(c) && now - c->attempt_ns > ATTEMPT_TIMEOUT)
            attempt_failed(c, ETIMEDOUT, now);
    }
}

/* ---- the stalled stream --------------------------------------------------- */

static void stall_sample(ll now, const char *label, int print)
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

static void stall_tick(ll now)
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

/* ---- main ----------------------------------------------------------------- */

static void usage(const char *argv0)
{
    fprintf(stderr,
        "usage: %s --port P --clients N --seconds S [--warmup W] [--host IPV4]\n"
        "          [--server-pid PID[,PID...]] [--ids seq|any] [--path /x]\n"
        "          [--stall-one SECONDS]\n"
        "          [--rate R (label only)] [--max-inflight K]\n"
        "          [--connect-timeout SECONDS] [--stall-rcvbuf BYTES]\n"
        "          [--tls --cafile PEM]\n"
        "  --stall-rcvbuf: receive buffer of the stalled stream (set before\n"
        "  connecting; small makes the server's send block within seconds\n"
        "  instead of after the kernel has buffered minutes of events)\n"
        "  --server-pid: CPU and RSS are summed over the processes listed\n"
        "  --ids any: accept any id: value (e.g. nchan's time:tag); default\n"
        "  seq: an id that differs from the data's seq counts as id_mismatch\n"
        "  --tls: https, the server's certificate verified against --cafile\n"
        "  for the name \"localhost\" (a CONFIG_SSE_TLS build: build/tls/bin)\n",
        argv0);
    exit(2);
}

static double parse_num(const char *str, double min, double max,
                        const char *argv0)
{
    char *end;
    double v;

    errno = 0;
    v = strtod(str, &end);
    if (errno != 0 || end == str || *end != '\0' || !(v >= min && v <= max)) {
        fprintf(stderr, "bad number: %s\n", str);
        usage(argv0);
    }
    return v;
}

/* --server-pid PID[,PID...]: every process the server is made of. */
static void parse_pids(const char *list, const char *argv0)
{
    char buf[256], *tok, *save = NULL;

    if (strlen(list) >= sizeof(buf))
        usage(argv0);
    strcpy(buf, list);
    g.npids = 0;
    for (tok = strtok_r(buf, ",", &save); tok != NULL;
         tok = strtok_r(NULL, ",", &save)) {
        if (g.npids >= MAX_PIDS) {
            fprintf(stderr, "%s: at most %d server pids\n", argv0, MAX_PIDS);
            usage(argv0);
        }
        g.server_pid[g.npids++] = (long)parse_num(tok, 1, 1e9, argv0);
    }
    if (g.npids == 0)
        usage(argv0);
}

/* 3000 streams need more than the usual soft limit of 1024 fds: take the
 * hard limit (a stream is one fd; epoll and stdio add a few). */
static void raise_nofile(unsigned need)
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

static ll cpu_self_us(void)
{
    struct rusage ru;

    getrusage(RUSAGE_SELF, &ru);
    return (ll)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000LL +
           ru.ru_utime.tv_usec + ru.ru_stime.tv_usec;
}

static void fmt_ms(char *buf, size_t n, double ms)
{
    if (ms < 0)
        snprintf(buf, n, "na");
    else
        snprintf(buf, n, "%.3f", ms);
}

int main(int argc, char **argv)
{
    static struct epoll_event evs[MAX_EPOLL];
    struct sigaction sa;
    ll t_start, connect_deadline, hard_deadline, warmup_end = 0;
    ll win_start = 0, win_end = 0, win_actual = 0, connect_ns = 0;
    ll cpu0 = -1, cpu1 = -1, self0 = 0, self1 = 0, ccpu0, ccpu1 = -1;
    uint64_t seq0 = 0, seq1 = 0;
    long rss_base, rss_end = -1;
    unsigned open_at_end = 0, measured_at_end = 0;
    const char *end_reason = "done";
    int i, rc, stall = 0;

    g.warmup = 2;
    g.host.s_addr = htonl(INADDR_LOOPBACK);
    g.max_inflight = 16; /* ssedge's default listen backlog: never overrun it */
    g.path = "/events";
    g.connect_timeout = -1;
    for (i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--tls") == 0) {
            g.tls = 1;
            continue;
        }
        if (i + 1 >= argc)
            usage(argv[0]);
        if (strcmp(a, "--port") == 0)
            g.port = (unsigned)parse_num(argv[++i], 1, 65535, argv[0]);
        else if (strcmp(a, "--host") == 0) {
            if (inet_pton(AF_INET, argv[++i], &g.host) != 1)
                usage(argv[0]);
        }
        else if (strcmp(a, "--clients") == 0)
            g.clients = (unsigned)parse_num(argv[++i], 1, 100000, argv[0]);
        else if (strcmp(a, "--seconds") == 0)
            g.seconds = parse_num(argv[++i], 0.1, 86400, argv[0]);
        else if (strcmp(a, "--warmup") == 0)
            g.warmup = parse_num(argv[++i], 0, 3600, argv[0]);
        else if (strcmp(a, "--server-pid") == 0)
            parse_pids(argv[++i], argv[0]);
        else if (strcmp(a, "--ids") == 0) {
            const char *v = argv[++i];
            if (strcmp(v, "any") == 0)
                g.ids_any = 1;
            else if (strcmp(v, "seq") == 0)
                g.ids_any = 0;
            else
                usage(argv[0]);
        }
        else if (strcmp(a, "--path") == 0)
            g.path = argv[++i];
        else if (strcmp(a, "--stall-one") == 0) {
            stl.stall_s = parse_num(argv[++i], 1, 86400, argv[0]);
            stall = 1;
        } else if (strcmp(a, "--stall-rcvbuf") == 0)
            stl.rcvbuf = (int)parse_num(argv[++i], 0, 1 << 26, argv[0]);
        else if (strcmp(a, "--rate") == 0)
            g.rate = (unsigned)parse_num(argv[++i], 0, 1e7, argv[0]);
        else if (strcmp(a, "--max-inflight") == 0)
            g.max_inflight = (unsigned)parse_num(argv[++i], 1, 4096, argv[0]);
        else if (strcmp(a, "--connect-timeout") == 0)
            g.connect_timeout = parse_num(argv[++i], 1, 3600, argv[0]);
        else if (strcmp(a, "--cafile") == 0)
            g.cafile = argv[++i];
        else
            usage(argv[0]);
    }
    if (g.tls || g.cafile != NULL) {
#if defined(CONFIG_SSE_TLS)
        if (!g.tls || g.cafile == NULL) {
            fprintf(stderr, "%s: --tls and --cafile go together (the CA "
                    "that signed the server's certificate, e.g. DIR/ca.crt "
                    "from scripts/devcert.sh DIR)\n", argv[0]);
            return 2;
        }
        if (tls_global_init(g.cafile) != 0)
            return 3;
#else
        fprintf(stderr, "%s: --tls/--cafile need a client built with "
                "CONFIG_SSE_TLS: make BUILD=build/tls "
                "KCONFIG_CONFIG=build/tls/.config "
                "DEFCONFIG=configs/posix_tls_defconfig "
                "build/tls/bin/sse_bench_client\n", argv[0]);
        return 2;
#endif
    }
    if (g.port == 0 || g.clients == 0 || g.seconds <= 0 || g.path[0] != '/' ||
        strlen(g.path) > 256)
        usage(argv[0]);
    if (g.connect_timeout < 0)
        g.connect_timeout = 10.0 + g.clients / 50.0;

    raise_nofile(g.clients + 1);
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sa.sa_handler = SIG_IGN;
    sigaction(SIGPIPE, &sa, NULL);

    g.req_len = (size_t)snprintf(g.req, sizeof(g.req),
        "GET %s HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\n\r\n",
        g.path);

    g.nconns = g.clients + (stall ? 1u : 0u);
    g.c = calloc(g.nconns, sizeof(*g.c));
    if (g.c == NULL) {
        perror("calloc");
        return 3;
    }
    for (i = 0; i < (int)g.nconns; i++)
        g.c[i].fd = -1;
    if (stall) {
        stl.c = &g.c[g.clients];
        stl.c->is_stall = 1;
        /* ~12 printed samples over the stall, 1 to 5 s apart */
        stl.print_every_ns = (ll)(stl.stall_s / 12.0 * NS_PER_S);
        if (stl.print_every_ns < NS_PER_S)
            stl.print_every_ns = NS_PER_S;
        if (stl.print_every_ns > 5 * NS_PER_S)
            stl.print_every_ns = 5 * NS_PER_S;
    }
    g.ep = epoll_create1(EPOLL_CLOEXEC);
    if (g.ep < 0) {
        perror("epoll_create1");
        return 3;
    }

    rss_base = read_rss_kib();
    if (g.npids > 0 && rss_base < 0)
        fprintf(stderr, "sse_bench_client: cannot read /proc/PID/status of "
                "every --server-pid\n");

    ccpu0 = read_cpu_us();
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
            end_reason = "signal";
            break;
        }
        if (now >= hard_deadline) {
            end_reason = "deadline";
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
                connect_ns = now - t_start;
                ccpu1 = read_cpu_us();
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
            win_start = now_ns();
            cpu0 = read_cpu_us();
            self0 = cpu_self_us();
            seq0 = g.max_seq;
            win_end = win_start + (ll)(g.seconds * NS_PER_S);
        } else if (g.phase == P_WINDOW && now >= win_end) {
            g.phase = P_TAIL;
            win_actual = now_ns() - win_start;
            cpu1 = read_cpu_us();
            self1 = cpu_self_us();
            seq1 = g.max_seq;
            rss_end = read_rss_kib();
            open_at_end = measured_at_end = g.connected;
            if (stall && stl.c->fd >= 0)
                open_at_end++;
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
            end_reason = "epoll_error";
            break;
        }
        for (rc = 0; rc < n; rc++) {
            uint32_t idx = evs[rc].data.u32;
            if (idx < g.nconns && g.c[idx].fd >= 0)
                on_event(&g.c[idx]);
        }
    }

    /* ---- report: always, whatever was reached ---- */
    {
        double win_s = win_actual > 0 ? (double)win_actual / 1e9 : 0;
        char p50[32], p90[32], p99[32], p999[32], mx[32], mean[32];
        char cpu_ev[32], srv_pct[32], self_pct[32], rss_pc[32], ccpu[32];
        char share[32];
        char tls_kv[256];
        int ok;

        if (win_actual == 0 && win_start > 0) {
            /* Cut short inside the window: report the part we have. */
            win_actual = now_ns() - win_start;
            win_s = (double)win_actual / 1e9;
            cpu1 = read_cpu_us();
            self1 = cpu_self_us();
            seq1 = g.max_seq;
            rss_end = read_rss_kib();
            measured_at_end = g.connected;
            open_at_end = g.connected + (stall && stl.c->fd >= 0 ? 1u : 0u);
        }
        fmt_ms(p50, sizeof(p50), hist_quantile_ms(0.50));
        fmt_ms(p90, sizeof(p90), hist_quantile_ms(0.90));
        fmt_ms(p99, sizeof(p99), hist_quantile_ms(0.99));
        fmt_ms(p999, sizeof(p999), hist_quantile_ms(0.999));
        fmt_ms(mx, sizeof(mx), g.lat_n ? (double)g.lat_max_ns / 1e6 : -1);
        fmt_ms(mean, sizeof(mean),
               g.lat_n ? (double)g.lat_sum_ns / (double)g.lat_n / 1e6 : -1);
        if (cpu0 >= 0 && cpu1 >= 0 && g.window_events > 0)
            snprintf(cpu_ev, sizeof(cpu_ev), "%.2f",
                     (double)(cpu1 - cpu0) / (double)g.window_events);
        else
            snprintf(cpu_ev, sizeof(cpu_ev), "na");
        if (cpu0 >= 0 && cpu1 >= 0 && win_s > 0)
            snprintf(srv_pct, sizeof(srv_pct), "%.1f",
                     (double)(cpu1 - cpu0) / 1e4 / win_s);
        else
            snprintf(srv_pct, sizeof(srv_pct), "na");
        if (win_s > 0)
            snprintf(self_pct, sizeof(self_pct), "%.1f",
                     (double)(self1 - self0) / 1e4 / win_s);
        else
            snprintf(self_pct, sizeof(self_pct), "na");
        /* Of what the measured streams should have got: each of them every
         * event published during the window (seq moved by seq1 - seq0). */
        if (seq1 > seq0 && measured_at_end > 0)
            snprintf(share, sizeof(share), "%.1f",
                     100.0 * (double)g.window_events /
                     ((double)(seq1 - seq0) * (double)measured_at_end));
        else
            snprintf(share, sizeof(share), "na");
        if (rss_base >= 0 && rss_end >= 0 && open_at_end > 0)
            snprintf(rss_pc, sizeof(rss_pc), "%.1f",
                     (double)(rss_end - rss_base) / open_at_end);
        else
            snprintf(rss_pc, sizeof(rss_pc), "na");

        /* Server CPU while the streams connected (TCP, TLS handshake,
         * request), per stream connected; it also holds the delivery to
         * the streams already open, so it is an upper bound. */
        if (ccpu0 >= 0 && ccpu1 >= 0 && g.connected > 0)
            snprintf(ccpu, sizeof(ccpu), "%.0f",
                     (double)(ccpu1 - ccpu0) / (double)g.connected);
        else
            snprintf(ccpu, sizeof(ccpu), "na");
        snprintf(tls_kv, sizeof(tls_kv), "tls=off");
#if defined(CONFIG_SSE_TLS)
        if (g.tls)
            snprintf(tls_kv, sizeof(tls_kv),
                     "tls=on tls_version=%s tls_suite=%s tls_handshakes=%u "
                     "tls_hs_avg_ms=%.2f tls_hs_max_ms=%.2f",
                     T.version[0] ? T.version : "na",
                     T.suite[0] ? T.suite : "na", T.handshakes,
                     T.handshakes ? (double)T.hs_sum_ns / T.handshakes / 1e6 : 0.0,
                     (double)T.hs_max_ns / 1e6);
#endif

        ok = g.connected == g.clients && g.broken == 0 && win_s > 0 &&
             strcmp(end_reason, "done") == 0;
        if (stall) {
            char closed[32], hup[32], eof[32];
            if (stl.srv_closed_ns)
                snprintf(closed, sizeof(closed), "%.1f",
                         (double)(stl.srv_closed_ns - stl.start_ns) / 1e9);
            else
                snprintf(closed, sizeof(closed), "no");
            if (stl.hup_ns)
                snprintf(hup, sizeof(hup), "%.1f",
                         (double)(stl.hup_ns - stl.start_ns) / 1e9);
            else
                snprintf(hup, sizeof(hup), "no");
            if (stl.eof_ns)
                snprintf(eof, sizeof(eof), "%.1f",
                         (double)(stl.eof_ns - stl.start_ns) / 1e9);
            else
                snprintf(eof, sizeof(eof), "no");
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
        printf("clients=%u rate=%u connected=%u connect_failed=%u "
               "connect_retries=%u connect_s=%.2f "
               "connect_server_cpu_us_per_conn=%s %s window_s=%.2f "
               "published_per_s=%.0f delivered=%llu delivered_per_s=%.0f "
               "delivered_share=%s p50_ms=%s p90_ms=%s "
               "p99_ms=%s p999_ms=%s max_ms=%s mean_ms=%s "
               "cpu_us_per_event=%s server_cpu_pct=%s client_cpu_pct=%s "
               "rss_base_kib=%ld rss_end_kib=%ld rss_kib_per_conn=%s "
               "lost=%llu dup=%llu id_mismatch=%llu malformed=%llu "
               "broken=%u events_total=%llu end=%s status=%s\n",
               g.clients, g.rate, g.connected, g.failed, g.retries_total,
               (double)connect_ns / 1e9, ccpu, tls_kv, win_s,
               win_s > 0 ? (double)(seq1 - seq0) / win_s : 0.0,
               (unsigned long long)g.window_events,
               win_s > 0 ? (double)g.window_events / win_s : 0.0, share,
               p50, p90, p99, p999, mx, mean, cpu_ev, srv_pct, self_pct,
               rss_base, rss_end, rss_pc,
               (unsigned long long)g.lost, (unsigned long long)g.dup,
               (unsigned long long)g.id_mismatch,
               (unsigned long long)g.malformed, g.broken,
               (unsigned long long)g.events_total, end_reason,
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
}
