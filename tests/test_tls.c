/* SPDX-License-Identifier: MIT */
/* TLS suite: the server over mbedTLS with real clients (curl, openssl
 * s_client) and raw sockets playing bad peers, on loopback, in-process.
 * Certificates are made with the openssl CLI into a temporary directory at
 * suite start and removed at the end. Without CONFIG_SSE_TLS the suite is
 * empty. */
#define _GNU_SOURCE
#include "tests.h"
#include "test_util.h"
#include "backend/backend.h"

#if defined(CONFIG_SSE_TLS)
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <CUnit/CUnit.h>

#include "ssedge/sse.h"
#include "tls_client.h"

extern char **environ;

/* Threads of this process with no server running (measured at suite start). */
static int base_threads;

/* ---- certificates ----------------------------------------------------------- */

static char cert_dir[64];
#define CERT_PATH 128
static char p_ca[CERT_PATH], p_srv_crt[CERT_PATH], p_srv_key[CERT_PATH],
            p_cli_crt[CERT_PATH], p_cli_key[CERT_PATH], p_oth_crt[CERT_PATH],
            p_oth_key[CERT_PATH], p_missing[CERT_PATH];
/* Where make_certs() leaves each file (in cert_dir). */
static const struct {
    char       *path;
    const char *file;
} cert_files[] = {
    { p_ca, "ca.crt" },
    { p_srv_crt, "server.crt" },
    { p_srv_key, "server.key" },
    { p_cli_crt, "client.crt" },
    { p_cli_key, "client.key" },
    { p_oth_crt, "other_client.crt" },
    { p_oth_key, "other_client.key" },
    { p_missing, "does-not-exist.crt" },
};

typedef struct pem {
    unsigned char buf[8192];
    size_t        len;   /* counts the final NUL, as mbedTLS wants for PEM */
} pem_t;
static pem_t pem_ca, pem_srv_crt, pem_srv_key, pem_cli_key;

static int read_pem(const char *path, pem_t *p)
{
    FILE *f = fopen(path, "rb");
    size_t n;
    if (!f)
        return -1;
    n = fread(p->buf, 1, sizeof p->buf - 1, f);
    fclose(f);
    if (n == 0 || n >= sizeof p->buf - 1)
        return -1;
    p->buf[n] = 0;
    p->len = n + 1;
    return 0;
}

/* A test CA and an unrelated one (ECDSA P-256); a server certificate for
 * localhost, 127.0.0.1 and the backend's address ($2) and a client
 * certificate from the first, another client certificate from the second. */
static const char cert_script[] =
    "set -e; cd \"$1\"; umask 077\n"
    "ca() { openssl req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes"
    " -keyout $1.key -sha256 -days 2 -subj \"/CN=$2\""
    " -addext basicConstraints=critical,CA:TRUE"
    " -addext keyUsage=critical,keyCertSign,cRLSign -out $1.crt 2>/dev/null; }\n"
    "leaf() { openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes"
    " -keyout $1.key -subj \"/CN=$3\" -out $1.csr 2>/dev/null\n"
    "  printf '%s\\nbasicConstraints=CA:FALSE\\nkeyUsage=digitalSignature\\n' \"$4\" > $1.ext\n"
    "  openssl x509 -req -in $1.csr -CA $2.crt -CAkey $2.key -CAcreateserial -days 2"
    " -sha256 -extfile $1.ext -out $1.crt 2>/dev/null; rm -f $1.csr $1.ext; }\n"
    "ca ca 'ssedge test CA'\n"
    "ca other_ca 'unrelated test CA'\n"
    "leaf server ca localhost"
    " \"subjectAltName=DNS:localhost,IP:127.0.0.1,IP:$2\nextendedKeyUsage=serverAuth\"\n"
    "leaf client ca 'test client' 'extendedKeyUsage=clientAuth'\n"
    "leaf other_client other_ca 'test client' 'extendedKeyUsage=clientAuth'\n";

static int make_certs(void)
{
    char cmd[sizeof cert_script + 256];
    FILE *f;
    char script[128];
    snprintf(cert_dir, sizeof cert_dir, "/tmp/ssedge-tls-XXXXXX");
    if (!mkdtemp(cert_dir))
        return -1;
    snprintf(script, sizeof script, "%s/make.sh", cert_dir);
    f = fopen(script, "w");
    if (!f)
        return -1;
    fputs(cert_script, f);
    fclose(f);
    /* The server certificate names the address clients use (the backend's). */
    snprintf(cmd, sizeof cmd, "sh '%s' '%s' '%s'", script, cert_dir, tb_client_addr());
    if (system(cmd) != 0)
        return -1;
    for (size_t k = 0; k < sizeof cert_files / sizeof cert_files[0]; k++)
        snprintf(cert_files[k].path, CERT_PATH, "%s/%s", cert_dir, cert_files[k].file);
    return read_pem(p_ca, &pem_ca) || read_pem(p_srv_crt, &pem_srv_crt) ||
           read_pem(p_srv_key, &pem_srv_key) || read_pem(p_cli_key, &pem_cli_key) ? -1 : 0;
}

static void remove_certs(void)
{
    char cmd[128];
    if (cert_dir[0] && strncmp(cert_dir, "/tmp/ssedge-tls-", 16) == 0) {
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", cert_dir);
        if (system(cmd) != 0)
            fprintf(stderr, "tls: could not remove %s\n", cert_dir);
    }
    cert_dir[0] = 0;
}

/* ---- readers: sockets and child processes ----------------------------------- */


/* Children still running, killed by cleanup() if a test bails out. */
#define MAX_KIDS 16
static reader_t *kids[MAX_KIDS];

/* Run "sh -c cmd", stdin from /dev/null, its output into a reader. */
static reader_t *spawn(const char *cmd)
{
    reader_t *r = calloc(1, sizeof *r);
    posix_spawn_file_actions_t fa;
    char *argv[] = { (char *)"sh", (char *)"-c", (char *)cmd, NULL };
    int p[2], i, rc;
    CU_ASSERT_PTR_NOT_NULL_FATAL(r);
    CU_ASSERT_FATAL(pipe2(p, O_CLOEXEC) == 0);
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&fa, p[1], 1);
    posix_spawn_file_actions_adddup2(&fa, p[1], 2);
    rc = posix_spawn(&r->pid, "/bin/sh", &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    close(p[1]);
    r->fd = p[0];
    if (rc != 0) {
        close(p[0]);
        free(r);
        CU_FAIL_FATAL("posix_spawn");
    }
    for (i = 0; i < MAX_KIDS; i++) {
        if (!kids[i]) {
            kids[i] = r;
            break;
        }
    }
    return r;
}

/* Wait until at least n bytes are in (bounded). */
static int rd_wait_len(reader_t *r, size_t n, long ms)
{
    long end = now_ms() + ms;
    while (r->len < n && !r->eof && now_ms() < end)
        rd_fill(r, end - now_ms());
    return r->len >= n;
}

/* Wait for the child to exit (killing it after ms), free the reader.
 * @return its exit code, 128+signal if killed, -1 on error. */
static int reap(reader_t *r, long ms)
{
    long end = now_ms() + ms;
    int status = 0, i;
    pid_t w;
    if (!r)
        return -1;
    for (i = 0; i < MAX_KIDS; i++)
        if (kids[i] == r)
            kids[i] = NULL;
    while ((w = waitpid(r->pid, &status, WNOHANG)) == 0 && now_ms() < end) {
        /* Keep the pipe drained so the child is never stuck writing. */
        if (rd_fill(r, 10) > 0)
            r->len = 0;
        else if (r->eof)
            sleep_ms(5);
    }
    if (w == 0) {
        kill(r->pid, SIGKILL);
        w = waitpid(r->pid, &status, 0);
        fprintf(stderr, "\n(tls: child %d killed after %ld ms)\n", (int)r->pid, ms);
    }
    close(r->fd);
    free(r);
    if (w < 0)
        return -1;
    if (WIFEXITED(status))
        return WEXITSTATUS(status);
    return WIFSIGNALED(status) ? 128 + WTERMSIG(status) : -1;
}

/* A raw TCP connection to the server (the backend's address), as a reader. */
static reader_t *tcp_open(void)
{
    reader_t *r = calloc(1, sizeof *r);
    struct sockaddr_in a;
    CU_ASSERT_PTR_NOT_NULL_FATAL(r);
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_port = htons(sse_server_port());
    inet_pton(AF_INET, tb_client_addr(), &a.sin_addr);
    r->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    CU_ASSERT_FATAL(r->fd >= 0);
    if (connect(r->fd, (struct sockaddr *)&a, sizeof a) != 0) {
        close(r->fd);
        free(r);
        CU_FAIL_FATAL("connect");
    }
    return r;
}

static int tcp_send(reader_t *r, const void *buf, size_t len)
{
    return send(r->fd, buf, len, MSG_NOSIGNAL) == (ssize_t)len ? 0 : -1;
}

static void tcp_close(reader_t *r)
{
    if (r) {
        close(r->fd);
        free(r);
    }
}

/* ---- events ------------------------------------------------------------------ */


/* Expect exactly the ids first..last, in order, then (after a short wait)
 * nothing more. @return how many matched. */
static uint64_t expect_ids(reader_t *c, uint64_t first, uint64_t last, long ms)
{
    uint64_t id, got = 0;
    ev_t ev;
    for (id = first; id <= last; id++) {
        if (!next_event(c, &ev, ms)) {
            fprintf(stderr, "\ntls: id %llu never came\n", (unsigned long long)id);
            CU_FAIL("missing event");
            return got;
        }
        if (ev.id != id) {
            fprintf(stderr, "\ntls: got id %llu, want %llu\n", (unsigned long long)ev.id,
                    (unsigned long long)id);
            CU_FAIL("wrong event id");
            return got;
        }
        got++;
    }
    CU_ASSERT_FALSE(next_event(c, &ev, 100));
    return got;
}

/* ---- publisher thread: events throughout a test --------------------------------- */

typedef struct publisher {
    pthread_t       th;
    pthread_mutex_t mu;
    int             stop;
    uint64_t        first, last;
    unsigned        count, errors;
} publisher_t;

static void *pub_main(void *arg)
{
    publisher_t *p = arg;
    for (;;) {
        char data[32];
        uint64_t id = 0;
        int stop, n, r;
        pthread_mutex_lock(&p->mu);
        stop = p->stop;
        n = snprintf(data, sizeof data, "tick %u", p->count);
        pthread_mutex_unlock(&p->mu);
        if (stop)
            break;
        r = sse_publish(SSE_CHANNEL_ALL, "tick", data, (size_t)n, &id);
        pthread_mutex_lock(&p->mu);
        if (r == SSE_OK) {
            if (!p->first)
                p->first = id;
            p->last = id;
            p->count++;
        } else {
            p->errors++;
        }
        pthread_mutex_unlock(&p->mu);
        sleep_ms(20);
    }
    return NULL;
}

static void pub_start(publisher_t *p)
{
    memset(p, 0, sizeof *p);
    pthread_mutex_init(&p->mu, NULL);
    CU_ASSERT_FATAL(pthread_create(&p->th, NULL, pub_main, p) == 0);
}

static unsigned pub_count(publisher_t *p)
{
    unsigned n;
    pthread_mutex_lock(&p->mu);
    n = p->count;
    pthread_mutex_unlock(&p->mu);
    return n;
}

/* Wait until at least n events are out (bounded). */
static int pub_wait(publisher_t *p, unsigned n, long ms)
{
    long end = now_ms() + ms;
    while (pub_count(p) < n && now_ms() < end)
        sleep_ms(5);
    return pub_count(p) >= n;
}

static void pub_stop(publisher_t *p)
{
    pthread_mutex_lock(&p->mu);
    p->stop = 1;
    pthread_mutex_unlock(&p->mu);
    pthread_join(p->th, NULL);
    pthread_mutex_destroy(&p->mu);
    CU_ASSERT_EQUAL(p->errors, 0);
}

/* ---- server set-up -------------------------------------------------------------- */

static int hello_handler(sse_conn_t *c, const sse_request_t *req, void *user)
{
    (void)user;
    if (req->path.n == 6 && memcmp(req->path.p, "/hello", 6) == 0)
        return sse_reply(c, 200, "text/plain", NULL, "hi\n", 3);
    return SSE_ERR_INVALID;
}

static const sse_route_t routes[] = {
    { .path = "/events", .channel = SSE_CHANNEL_NONE },
};

enum { BY_BUFFER, BY_FILE };

/* The server certificate and key as buffers or as files. */
static void tls_default(sse_tls_cfg_t *t, int how)
{
    memset(t, 0, sizeof *t);
    if (how == BY_BUFFER) {
        t->cert = pem_srv_crt.buf;
        t->cert_len = pem_srv_crt.len;
        t->key = pem_srv_key.buf;
        t->key_len = pem_srv_key.len;
    } else {
        t->cert_file = p_srv_crt;
        t->key_file = p_srv_key;
    }
}

static void cfg_default(sse_server_cfg_t *cfg, const sse_tls_cfg_t *tls)
{
    server_cfg(cfg, routes, 1);
    cfg->handler = hello_handler;
    cfg->tls = tls;
}

/* Kill children and stop a server left over by a test that bailed out. */
static void cleanup(void)
{
    int i;
    for (i = 0; i < MAX_KIDS; i++) {
        if (kids[i]) {
            kill(kids[i]->pid, SIGKILL);
            reap(kids[i], 2000);
        }
    }
    if (sse_server_port() != 0)
        sse_server_stop();
}

/* After a cleanup, the usual server over TLS, its certificate given as how
 * (tls and cfg are the caller's and stay in use while it runs). */
static void start_tls(sse_tls_cfg_t *tls, sse_server_cfg_t *cfg, int how)
{
    cleanup();
    tls_default(tls, how);
    cfg_default(cfg, tls);
    start_with(cfg);
}

/* curl on https://ADDR:PORT/PATH (the backend's address) with the test CA, response head
 * included in the output (-i), no output buffering (-N). */
static reader_t *curl(const char *path, const char *extra)
{
    char cmd[1024];
    snprintf(cmd, sizeof cmd,
             "exec curl -sS -N -i --max-time 20 --cacert '%s' -H 'Accept: text/event-stream' "
             "%s https://%s:%u%s",
             p_ca, extra ? extra : "", tb_client_addr(), (unsigned)sse_server_port(), path);
    return spawn(cmd);
}

/* A curl stream on /events, live (counted as a stream) when this returns. */
static reader_t *curl_stream(const char *extra, int streams_after)
{
    reader_t *r = curl("/events", extra);
    if (settle(streams_i, streams_after, 5000) != streams_after) {
        rd_fill(r, 0);
        fprintf(stderr, "\ntls: curl stream not live; curl said: %.300s\n", r->buf);
        CU_FAIL_FATAL("stream did not open");
    }
    return r;
}

static int suite_init(void)
{
    int prev = -1, now = threads_now(), tries = 0;
    long t0 = now_ms();
    while (now != prev && tries++ < 50) { /* let exiting threads finish */
        prev = now;
        sleep_ms(50);
        now = threads_now();
    }
    base_threads = now;
    if (make_certs() != 0) {
        fprintf(stderr, "tls: cannot make test certificates with openssl\n");
        remove_certs();
        return -1;
    }
    if (now_ms() - t0 > 1500)
        fprintf(stderr, "tls: certificates took %ld ms\n", now_ms() - t0);
    return 0;
}

static int suite_clean(void)
{
    cleanup();
    remove_certs();
    return 0;
}

/* ---- streams ------------------------------------------------------------------- */

static void test_tls_curl_stream(void)
{
    sse_tls_cfg_t tls;
    sse_server_cfg_t cfg;
    reader_t *c;
    uint64_t id0 = 0, id;
    ev_t ev;
    int i;
    start_tls(&tls, &cfg, BY_BUFFER);
    c = curl_stream(NULL, 1);
    CU_ASSERT(rd_wait_for(c, "retry: 1500\n\n", 3000));
    CU_ASSERT(strncmp(c->buf, "HTTP/1.1 200 OK\r\n", 17) == 0);
    CU_ASSERT(strstr(c->buf, "\r\nContent-Type: text/event-stream\r\n") != NULL);
    CU_ASSERT(strstr(c->buf, "\r\nCache-Control: no-cache, no-store\r\n") != NULL);
    CU_ASSERT(strstr(c->buf, "Content-Length") == NULL);
    for (i = 0; i < 3; i++) {
        CU_ASSERT_EQUAL(sse_publish(SSE_CHANNEL_ALL, "message", "hello", 5, &id), SSE_OK);
        if (!id0)
            id0 = id;
    }
    CU_ASSERT_EQUAL(sse_publish(SSE_CHANNEL_ALL, NULL, "two\nlines", 9, &id), SSE_OK);
    for (i = 0; i < 3; i++) {
        CU_ASSERT_FATAL(next_event(c, &ev, 3000));
        CU_ASSERT_STRING_EQUAL(ev.event, "message");
        CU_ASSERT_STRING_EQUAL(ev.data, "hello");
        CU_ASSERT_EQUAL(ev.id, id0 + (uint64_t)i);
    }
    {
        char want[64];
        snprintf(want, sizeof want, "id: %llu\ndata: two\ndata: lines\n\n",
                 (unsigned long long)id);
        CU_ASSERT(rd_wait_for(c, want, 3000));
    }
    CU_ASSERT_EQUAL(sse_server_stop(), SSE_OK);
    /* The stream ended with close_notify: curl calls that a complete
     * response (an end without it would be curl error 56). */
    CU_ASSERT(rd_until_eof(c, 5000));
    CU_ASSERT_EQUAL(reap(c, 5000), 0);
}

static void test_tls_last_event_id_resume(void)
{
    sse_tls_cfg_t tls;
    sse_server_cfg_t cfg;
    reader_t *c;
    ev_t ev;
    uint64_t first = 0, last_seen = 0, id;
    char hdr[96];
    int i;
    start_tls(&tls, &cfg, BY_FILE);
    c = curl_stream(NULL, 1);
    for (i = 0; i < 5; i++)
        CU_ASSERT_EQUAL(sse_publish(SSE_CHANNEL_ALL, "message", "seen", 4, NULL), SSE_OK);
    for (i = 0; i < 5; i++) {
        CU_ASSERT_FATAL(next_event(c, &ev, 3000));
        CU_ASSERT_STRING_EQUAL(ev.data, "seen");
        last_seen = ev.id;
    }
    /* The client goes away (no close_notify: killed). */
    kill(c->pid, SIGTERM);
    reap(c, 3000);
    CU_ASSERT_EQUAL(settle(streams_i, 0, 3000), 0);
    CU_ASSERT_EQUAL(settle(active_i, 0, 3000), 0);
    /* Published while it was away. */
    for (i = 0; i < 6; i++) {
        CU_ASSERT_EQUAL(sse_publish(SSE_CHANNEL_ALL, "message", "missed", 6, &id), SSE_OK);
        if (!first)
            first = id;
    }
    CU_ASSERT_EQUAL(first, last_seen + 1);
    snprintf(hdr, sizeof hdr, "-H 'Last-Event-ID: %llu'", (unsigned long long)last_seen);
    c = curl_stream(hdr, 1);
    CU_ASSERT(rd_wait_for(c, "HTTP/1.1 200 OK\r\n", 3000));
    for (id = first; id < first + 6; id++) {
        CU_ASSERT_FATAL(next_event(c, &ev, 3000));
        CU_ASSERT_EQUAL(ev.id, id);
        CU_ASSERT_STRING_EQUAL(ev.data, "missed");
    }
    /* Then live ones: no duplicate, no gap. */
    CU_ASSERT_EQUAL(sse_publish(SSE_CHANNEL_ALL, "message", "live", 4, &id), SSE_OK);
    CU_ASSERT_EQUAL(id, first + 6);
    CU_ASSERT_FATAL(next_event(c, &ev, 3000));
    CU_ASSERT_EQUAL(ev.id, id);
    CU_ASSERT_STRING_EQUAL(ev.data, "live");
    CU_ASSERT_FALSE(next_event(c, &ev, 200));
    CU_ASSERT_EQUAL(sse_server_stop(), SSE_OK);
    CU_ASSERT_EQUAL(reap(c, 5000), 0);
}

/* A TLS reader whose socket fills (small receive buffer, not reading): the
 * fan-out writer leaves a record half-sent inside mbedTLS and hands the
 * stream to its thread, which must finish that record before anything
 * else. Read again: every event decrypts, in order, none twice. */
static void test_tls_slow_reader_handed_back(void)
{
    sse_tls_cfg_t tls;
    sse_server_cfg_t cfg;
    tls_client_t cl;
    reader_t *r = calloc(1, sizeof *r);
    static uint64_t ids[600];
    sse_stats_t st0, st;
    unsigned k, got = 0;
    int n;
    ev_t ev;
    cleanup();
    CU_ASSERT_PTR_NOT_NULL_FATAL(r);
    tls_default(&tls, BY_BUFFER);
    cfg_default(&cfg, &tls);
    cfg.send_timeout_ms = 10000;
    start_with(&cfg);
    st0 = stats_now();
    CU_ASSERT_FATAL(tls_client_open(&cl, tb_client_addr(), sse_server_port(), pem_ca.buf,
                                    pem_ca.len, 4096) == 0);
    CU_ASSERT_FATAL(tls_client_write(&cl, "GET /events HTTP/1.1\r\nHost: t\r\n"
                                          "Accept: text/event-stream\r\n\r\n") == 0);
    CU_ASSERT_EQUAL_FATAL(settle(streams_i, 1, 3000), 1);
    sleep_ms(50);
    k = publish_until_handed_back('z', ids, 500, st0.slow_sends, NULL, NULL);
    sleep_ms(200);
    while (got < k && (n = tls_client_read(&cl, r->buf + r->len,
                                           sizeof r->buf - 1 - r->len, 3000)) > 0) {
        r->len += (size_t)n;
        r->buf[r->len] = 0;
        while (got < k && take_event(r, &ev)) {
            if (!ev.has_id)
                continue;
            CU_ASSERT_EQUAL(ev.id, ids[got]);
            if (ev.id != ids[got])
                break;
            got++;
        }
    }
    CU_ASSERT_EQUAL(got, k);
    st = stats_now();
    CU_ASSERT_EQUAL(st.fell_behind + st.send_failures, st0.fell_behind + st0.send_failures);
    tls_client_close(&cl);
    free(r);
    CU_ASSERT_EQUAL(settle(active_i, 0, 3000), 0);
    CU_ASSERT_EQUAL(sse_server_stop(), SSE_OK);
}

static void test_tls_openssl_s_client_stream(void)
{
    sse_tls_cfg_t tls;
    sse_server_cfg_t cfg;
    reader_t *c;
    char cmd[1024];
    uint64_t id0 = 0, id;
    int i;
    start_tls(&tls, &cfg, BY_FILE);
    /* -quiet implies -ign_eof: s_client keeps reading after its stdin (the
     * request) ends, until the server closes; -verify_return_error makes a
     * certificate it cannot verify fatal. */
    snprintf(cmd, sizeof cmd,
             "(printf 'GET /events HTTP/1.1\\r\\nHost: localhost\\r\\n"
             "Accept: text/event-stream\\r\\n\\r\\n') | "
             "timeout 15 openssl s_client -connect %s:%u -CAfile '%s' "
             "-verify_return_error -quiet 2>/dev/null",
             tb_client_addr(), (unsigned)sse_server_port(), p_ca);
    c = spawn(cmd);
    CU_ASSERT_EQUAL_FATAL(settle(streams_i, 1, 5000), 1);
    CU_ASSERT(rd_wait_for(c, "retry: 1500\n\n", 3000));
    CU_ASSERT(strncmp(c->buf, "HTTP/1.1 200 OK\r\n", 17) == 0);
    CU_ASSERT(strstr(c->buf, "\r\nContent-Type: text/event-stream\r\n") != NULL);
    for (i = 0; i < 3; i++) {
        CU_ASSERT_EQUAL(sse_publish(SSE_CHANNEL_ALL, "message", "over s_client", 13, &id),
                        SSE_OK);
        if (!id0)
            id0 = id;
    }
    CU_ASSERT_EQUAL(expect_ids(c, id0, id0 + 2, 3000), 3);
    CU_ASSERT_EQUAL(sse_server_stop(), SSE_OK);
    /* s_client leaves when the server closes. */
    CU_ASSERT_EQUAL(reap(c, 5000), 0);
}

/* ---- bad peers ------------------------------------------------------------------- */

/* One bad peer against a server that also streams to curl. The peer runs
 * while events are published every 20 ms; afterwards its slot and thread
 * are free, tls_failures grew by `failures`, and curl got every event. */
static void with_streaming_client(uint32_t hs_timeout_ms, int how, void (*peer)(void),
                                  unsigned failures)
{
    sse_tls_cfg_t tls;
    sse_server_cfg_t cfg;
    reader_t *c;
    publisher_t pub;
    sse_stats_t st0, st1;
    int want_threads;
    tls_default(&tls, how);
    tls.handshake_timeout_ms = hs_timeout_ms;
    cfg_default(&cfg, &tls);
    start_with(&cfg);
    c = curl_stream(NULL, 1);
    pub_start(&pub);
    /* Listener, timer, fan-out writer, the stream's thread, the publisher. */
    want_threads = base_threads + 5;
    CU_ASSERT_EQUAL(settle(threads_now, want_threads, 3000), want_threads);
    st0 = stats_now();
    CU_ASSERT(pub_wait(&pub, 3, 3000)); /* events before the peer ... */
    peer();
    /* Closed cleanly: slot and thread free again, failure counted. */
    CU_ASSERT_EQUAL(settle(active_i, 1, 3000), 1);
    CU_ASSERT_EQUAL(stats_now().streams, 1);
    CU_ASSERT_EQUAL(settle(threads_now, want_threads, 3000), want_threads);
    st1 = stats_now();
    CU_ASSERT_EQUAL(st1.tls_failures, st0.tls_failures + failures);
    CU_ASSERT_EQUAL(st1.accepted, st0.accepted + failures);
    CU_ASSERT_EQUAL(st1.bad_requests, st0.bad_requests);
    CU_ASSERT(pub_wait(&pub, pub_count(&pub) + 3, 3000)); /* ... and after it */
    pub_stop(&pub);
    /* The stream saw every event published throughout, in order. */
    CU_ASSERT_EQUAL(expect_ids(c, pub.first, pub.last, 3000), pub.last - pub.first + 1);
    CU_ASSERT_EQUAL(sse_server_stop(), SSE_OK);
    CU_ASSERT_EQUAL(reap(c, 5000), 0);
    CU_ASSERT_EQUAL(settle(threads_now, base_threads, 3000), base_threads);
}

/* The peer's connection must be closed by the server within ms: returns
 * the time it took, or -1 (and fails) if it stayed open. */
static long closed_within(reader_t *r, long ms)
{
    long t0 = now_ms();
    if (!rd_until_eof(r, ms)) {
        CU_FAIL("server kept a bad peer's connection open");
        return -1;
    }
    return now_ms() - t0;
}

static void peer_plain_http(void)
{
    static const char *const reqs[] = {
        "GET /events HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\n\r\n",
        "GET /hello HTTP/1.0\r\n\r\n",
    };
    size_t i;
    for (i = 0; i < sizeof reqs / sizeof reqs[0]; i++) {
        reader_t *r = tcp_open();
        CU_ASSERT(tcp_send(r, reqs[i], strlen(reqs[i])) == 0);
        /* Not TLS: refused at once (the handshake timeout is 5 s here). */
        CU_ASSERT(closed_within(r, 2000) >= 0);
        /* No HTTP answer in plain text: at most a TLS alert record. */
        CU_ASSERT(strstr(r->buf, "HTTP/") == NULL);
        CU_ASSERT(r->len == 0 || (unsigned char)r->buf[0] == 0x15);
        tcp_close(r);
    }
}

static void test_tls_plain_http_on_tls_port(void)
{
    cleanup();
    with_streaming_client(5000, BY_BUFFER, peer_plain_http, 2);
}

static void random_bytes(unsigned char *b, size_t n)
{
    int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
    CU_ASSERT_FATAL(fd >= 0);
    CU_ASSERT(read(fd, b, n) == (ssize_t)n);
    close(fd);
}

static void peer_garbage(void)
{
    unsigned char g[512];
    reader_t *r;
    /* Random bytes; the first one made not to be a handshake record (0x16)
     * nor an SSLv2 hello, so its fate does not depend on the dice. */
    random_bytes(g, sizeof g);
    g[0] = (unsigned char)(0x20 + g[0] % 0x40);
    r = tcp_open();
    CU_ASSERT(tcp_send(r, g, sizeof g) == 0);
    CU_ASSERT(closed_within(r, 2000) >= 0);
    CU_ASSERT(strstr(r->buf, "HTTP/") == NULL);
    tcp_close(r);
    /* A well-framed handshake record holding a ClientHello of random bytes. */
    random_bytes(g, sizeof g);
    g[0] = 0x16; g[1] = 0x03; g[2] = 0x01;
    g[3] = (unsigned char)((sizeof g - 5) >> 8); g[4] = (unsigned char)(sizeof g - 5);
    g[5] = 0x01; /* client_hello */
    g[6] = 0; g[7] = (unsigned char)((sizeof g - 9) >> 8); g[8] = (unsigned char)(sizeof g - 9);
    r = tcp_open();
    CU_ASSERT(tcp_send(r, g, sizeof g) == 0);
    CU_ASSERT(closed_within(r, 2000) >= 0);
    CU_ASSERT(strstr(r->buf, "HTTP/") == NULL);
    tcp_close(r);
}

static void test_tls_garbage_handshake(void)
{
    cleanup();
    with_streaming_client(5000, BY_FILE, peer_garbage, 2);
}

static void peer_stall(void)
{
    reader_t *r = tcp_open();
    long took = closed_within(r, 3000); /* handshake timeout: 300 ms */
    CU_ASSERT(took >= 250 && took < 1500);
    if (took >= 0 && (took < 250 || took >= 1500))
        fprintf(stderr, "\ntls: stalled handshake closed after %ld ms\n", took);
    CU_ASSERT_EQUAL(r->len, 0);
    tcp_close(r);
}

static void test_tls_stalled_handshake_times_out(void)
{
    cleanup();
    with_streaming_client(300, BY_BUFFER, peer_stall, 1);
}

/* A complete TLS 1.2 ClientHello the server accepts (it answers with its
 * ServerHello, checked below): ECDHE-ECDSA with AES-GCM on P-256. Made by
 * hand rather than captured from a client, so these tests depend on no
 * external program. */
static const unsigned char client_hello[] = {
    0x16, 0x03, 0x01, 0x00, 0x47,             /* record: handshake, 71 bytes */
    0x01, 0x00, 0x00, 0x43,                   /* client_hello, 67 bytes */
    0x03, 0x03,                               /* TLS 1.2 */
    0x5a, 0x11, 0x7e, 0x02, 0x9c, 0x43, 0xd8, 0x6b, 0x21, 0x90, 0x3f, 0xe4, 0x77, 0x0c,
    0xb5, 0x68, 0x12, 0xaf, 0x3d, 0x84, 0xc6, 0x59, 0x0e, 0xf1, 0x2a, 0x97, 0x63, 0xbc,
    0x48, 0x05, 0xde, 0x71,                   /* client random */
    0x00,                                     /* no session id */
    0x00, 0x04, 0xc0, 0x2b, 0xc0, 0x2c,       /* ECDHE_ECDSA_WITH_AES_{128,256}_GCM */
    0x01, 0x00,                               /* compression: null */
    0x00, 0x16,                               /* extensions, 22 bytes */
    0x00, 0x0a, 0x00, 0x04, 0x00, 0x02, 0x00, 0x17, /* supported_groups: secp256r1 */
    0x00, 0x0b, 0x00, 0x02, 0x01, 0x00,             /* ec_point_formats: uncompressed */
    0x00, 0x0d, 0x00, 0x04, 0x00, 0x02, 0x04, 0x03, /* sig algs: ecdsa_secp256r1_sha256 */
};

/* Wait until only the stream holds a slot; ms it took. */
static long slot_freed_within(long ms)
{
    long t0 = now_ms();
    int v = settle(active_i, 1, ms);
    CU_ASSERT_EQUAL(v, 1);
    return now_ms() - t0;
}

static void peer_leaves_mid_handshake(void)
{
    static const unsigned char stub[] = { 0x16, 0x03, 0x01, 0x00 };
    reader_t *r;
    long took;
    /* The first 20 bytes of a ClientHello, then gone. */
    r = tcp_open();
    CU_ASSERT(tcp_send(r, client_hello, 20) == 0);
    tcp_close(r);
    took = slot_freed_within(2000);
    CU_ASSERT(took < 1000); /* noticed at once, not at the 5 s timeout */
    /* Four bytes of a record header, then gone. */
    r = tcp_open();
    CU_ASSERT(tcp_send(r, stub, sizeof stub) == 0);
    tcp_close(r);
    took = slot_freed_within(2000);
    CU_ASSERT(took < 1000);
    /* All of it but the last byte, then gone. */
    r = tcp_open();
    CU_ASSERT(tcp_send(r, client_hello, sizeof client_hello - 1) == 0);
    tcp_close(r);
    took = slot_freed_within(2000);
    CU_ASSERT(took < 1000);
    /* The whole ClientHello; leave once the server has answered (it now
     * waits for our key exchange). */
    r = tcp_open();
    CU_ASSERT(tcp_send(r, client_hello, sizeof client_hello) == 0);
    CU_ASSERT(rd_wait_len(r, 6, 2000));
    /* A handshake record in TLS 1.2 starting with a ServerHello. */
    CU_ASSERT(r->len >= 6 && memcmp(r->buf, "\x16\x03\x03", 3) == 0 && r->buf[5] == 0x02);
    tcp_close(r);
    took = slot_freed_within(2000);
    CU_ASSERT(took < 1000);
}

static void test_tls_client_leaves_mid_handshake(void)
{
    cleanup();
    CU_ASSERT_EQUAL_FATAL(sizeof client_hello, 5 + 0x47);
    with_streaming_client(5000, BY_BUFFER, peer_leaves_mid_handshake, 4);
}

/* ---- mutual TLS ------------------------------------------------------------------- */

/* A stream request with these curl options is refused in the handshake:
 * no answer, curl fails, one more TLS failure, the one good stream stays. */
static void expect_refused(const char *opts)
{
    sse_stats_t st0 = stats_now();
    reader_t *r = curl("/events", opts);
    rd_until_eof(r, 10000);
    CU_ASSERT(strstr(r->buf, "HTTP/1.1 200") == NULL);
    CU_ASSERT(strstr(r->buf, "text/event-stream") == NULL);
    CU_ASSERT(reap(r, 5000) != 0);
    CU_ASSERT_EQUAL(settle(active_i, 1, 3000), 1);
    CU_ASSERT_EQUAL(stats_now().tls_failures, st0.tls_failures + 1);
}

static void test_tls_mutual_client_certificates(void)
{
    sse_tls_cfg_t tls;
    sse_server_cfg_t cfg;
    reader_t *good, *r;
    char good_opts[512], other_opts[512];
    uint64_t id;
    ev_t ev;
    cleanup();
    tls_default(&tls, BY_FILE);
    tls.ca = pem_ca.buf;
    tls.ca_len = pem_ca.len;
    cfg_default(&cfg, &tls);
    start_with(&cfg);
    snprintf(good_opts, sizeof good_opts, "--cert '%s' --key '%s'", p_cli_crt, p_cli_key);
    snprintf(other_opts, sizeof other_opts, "--cert '%s' --key '%s'", p_oth_crt, p_oth_key);

    /* A client certificate from the CA: the stream opens. */
    good = curl_stream(good_opts, 1);
    CU_ASSERT(rd_wait_for(good, "retry: 1500\n\n", 3000));
    CU_ASSERT(strncmp(good->buf, "HTTP/1.1 200 OK\r\n", 17) == 0);
    CU_ASSERT_EQUAL(sse_publish(SSE_CHANNEL_ALL, "message", "mtls", 4, &id), SSE_OK);
    CU_ASSERT(next_event(good, &ev, 3000) && ev.id == id);

    /* No client certificate, or one from another CA: refused during the
     * handshake. */
    expect_refused(NULL);
    expect_refused(other_opts);

    /* Non-stream requests need the certificate just the same. */
    r = curl("/hello", good_opts);
    CU_ASSERT(rd_until_eof(r, 10000));
    CU_ASSERT(strncmp(r->buf, "HTTP/1.1 200 OK\r\n", 17) == 0);
    CU_ASSERT(strstr(r->buf, "\r\n\r\nhi\n") != NULL);
    CU_ASSERT_EQUAL(reap(r, 5000), 0);

    /* The good stream was not disturbed. */
    CU_ASSERT_EQUAL(stats_now().streams, 1);
    CU_ASSERT_EQUAL(sse_publish(SSE_CHANNEL_ALL, "message", "still", 5, &id), SSE_OK);
    CU_ASSERT(next_event(good, &ev, 3000) && ev.id == id);
    CU_ASSERT_EQUAL(sse_server_stop(), SSE_OK);
    CU_ASSERT_EQUAL(reap(good, 5000), 0);

    /* The CA as a file works the same way. */
    tls.ca = NULL;
    tls.ca_len = 0;
    tls.ca_file = p_ca;
    start_with(&cfg);
    r = curl("/hello", good_opts);
    CU_ASSERT(rd_until_eof(r, 10000));
    CU_ASSERT(strncmp(r->buf, "HTTP/1.1 200 OK\r\n", 17) == 0);
    CU_ASSERT_EQUAL(reap(r, 5000), 0);
    r = curl("/hello", other_opts);
    rd_until_eof(r, 10000);
    CU_ASSERT(strstr(r->buf, "HTTP/1.1 200") == NULL);
    CU_ASSERT(reap(r, 5000) != 0);
    CU_ASSERT_EQUAL(sse_server_stop(), SSE_OK);
}

/* ---- configuration errors ------------------------------------------------------ */

/* A correct start after a failed one: serves /hello over https. */
static void correct_start_works(int how)
{
    sse_tls_cfg_t tls;
    sse_server_cfg_t cfg;
    reader_t *r;
    tls_default(&tls, how);
    cfg_default(&cfg, &tls);
    start_with(&cfg);
    r = curl("/hello", NULL);
    CU_ASSERT(rd_until_eof(r, 10000));
    CU_ASSERT(strncmp(r->buf, "HTTP/1.1 200 OK\r\n", 17) == 0);
    CU_ASSERT_EQUAL(reap(r, 5000), 0);
    CU_ASSERT_EQUAL(sse_server_stop(), SSE_OK);
}

/* Start must fail with `want` and leave nothing running. */
static void start_fails(const sse_tls_cfg_t *tls, int want, const char *what)
{
    sse_server_cfg_t cfg;
    int r;
    cfg_default(&cfg, tls);
    r = sse_server_start(&cfg);
    if (r != want) {
        fprintf(stderr, "\ntls: %s: start returned %d (%s), want %d (%s)\n", what, r,
                sse_strerror(r), want, sse_strerror(want));
        CU_FAIL("wrong result for a bad TLS configuration");
    }
    if (r == SSE_OK)
        sse_server_stop();
    CU_ASSERT_EQUAL(sse_server_port(), 0);
    CU_ASSERT_EQUAL(settle(threads_now, base_threads, 2000), base_threads);
}

static const unsigned char garbage_pem[] =
    "-----BEGIN CERTIFICATE-----\n"
    "bm90IGEgY2VydGlmaWNhdGUgYXQgYWxs\n"
    "-----END CERTIFICATE-----\n";

static void test_tls_config_errors(void)
{
    sse_tls_cfg_t tls;
    cleanup();

    /* A key that does not belong to the certificate. */
    tls_default(&tls, BY_BUFFER);
    tls.key = pem_cli_key.buf;
    tls.key_len = pem_cli_key.len;
    start_fails(&tls, SSE_ERR_INVALID, "key does not match (buffers)");
    correct_start_works(BY_BUFFER);
    tls_default(&tls, BY_FILE);
    tls.key_file = p_cli_key;
    start_fails(&tls, SSE_ERR_INVALID, "key does not match (files)");
    correct_start_works(BY_FILE);

    /* A certificate file that is not there. */
    tls_default(&tls, BY_FILE);
    tls.cert_file = p_missing;
    start_fails(&tls, SSE_ERR_IO, "missing certificate file");
    correct_start_works(BY_FILE);

    /* A PEM buffer of garbage. */
    tls_default(&tls, BY_BUFFER);
    tls.cert = garbage_pem;
    tls.cert_len = sizeof garbage_pem;
    start_fails(&tls, SSE_ERR_INVALID, "garbage certificate PEM");
    correct_start_works(BY_BUFFER);

    /* No certificate at all. */
    memset(&tls, 0, sizeof tls);
    start_fails(&tls, SSE_ERR_ARG, "nothing given");
    correct_start_works(BY_BUFFER);
    tls_default(&tls, BY_BUFFER);
    tls.cert = NULL;
    tls.cert_len = 0;
    start_fails(&tls, SSE_ERR_ARG, "key but no certificate");
    correct_start_works(BY_FILE);
}

/* The rest of sse_server_start()'s documented TLS results: "SSE_ERR_IO if
 * ... a TLS file cannot be read", SSE_ERR_INVALID if the certificate, key
 * or CA does not parse, SSE_ERR_ARG when an item is missing. */
static void test_tls_config_errors_key_ca_chain(void)
{
    static unsigned char chain[sizeof pem_srv_crt.buf + sizeof garbage_pem];
    sse_tls_cfg_t tls;
    cleanup();

    tls_default(&tls, BY_BUFFER);
    tls.key = NULL;
    tls.key_len = 0;
    start_fails(&tls, SSE_ERR_ARG, "certificate but no key");

    tls_default(&tls, BY_FILE);
    tls.key_file = p_missing;
    start_fails(&tls, SSE_ERR_IO, "missing key file");

    tls_default(&tls, BY_BUFFER);
    tls.key = garbage_pem;
    tls.key_len = sizeof garbage_pem;
    start_fails(&tls, SSE_ERR_INVALID, "garbage key PEM");

    tls_default(&tls, BY_BUFFER);
    tls.ca = garbage_pem;
    tls.ca_len = sizeof garbage_pem;
    start_fails(&tls, SSE_ERR_INVALID, "garbage CA PEM");
    correct_start_works(BY_BUFFER);

    /* The server's certificate followed by a broken one in the same PEM
     * buffer: a chain that does not parse. */
    memcpy(chain, pem_srv_crt.buf, pem_srv_crt.len - 1);
    memcpy(chain + pem_srv_crt.len - 1, garbage_pem, sizeof garbage_pem);
    tls_default(&tls, BY_BUFFER);
    tls.cert = chain;
    tls.cert_len = pem_srv_crt.len - 1 + sizeof garbage_pem;
    start_fails(&tls, SSE_ERR_INVALID, "certificate chain with a broken second certificate");

    tls_default(&tls, BY_FILE);
    tls.ca_file = p_missing;
    start_fails(&tls, SSE_ERR_IO, "missing CA file");
    correct_start_works(BY_FILE);
}

/* ---- overload, start/stop ----------------------------------------------------------- */

/* All slots busy: a TLS connection is closed without an answer, the
 * streams carry on. */
static void test_tls_overload_closes_without_answer(void)
{
    sse_tls_cfg_t tls;
    sse_server_cfg_t cfg;
    reader_t *s1, *s2, *r;
    sse_stats_t st0;
    uint64_t id;
    ev_t ev;
    cleanup();
    tls_default(&tls, BY_BUFFER);
    cfg_default(&cfg, &tls);
    cfg.max_connections = 2;
    start_with(&cfg);
    s1 = curl_stream(NULL, 1);
    s2 = curl_stream(NULL, 2);
    st0 = stats_now();
    r = tcp_open();
    CU_ASSERT(closed_within(r, 2000) >= 0);
    CU_ASSERT_EQUAL(r->len, 0);
    tcp_close(r);
    r = curl("/events", NULL);
    rd_until_eof(r, 10000);
    CU_ASSERT(strstr(r->buf, "HTTP/1.1") == NULL);
    CU_ASSERT(reap(r, 5000) != 0);
    CU_ASSERT_EQUAL(stats_now().overloaded, st0.overloaded + 2);
    CU_ASSERT_EQUAL(stats_now().tls_failures, st0.tls_failures);
    CU_ASSERT_EQUAL(sse_publish(SSE_CHANNEL_ALL, "message", "still here", 10, &id), SSE_OK);
    CU_ASSERT(next_event(s1, &ev, 3000) && ev.id == id);
    CU_ASSERT(next_event(s2, &ev, 3000) && ev.id == id);
    CU_ASSERT_EQUAL(sse_server_stop(), SSE_OK);
    CU_ASSERT_EQUAL(reap(s1, 5000), 0);
    CU_ASSERT_EQUAL(reap(s2, 5000), 0);
}

static void test_tls_start_stop_repeated(void)
{
    int i;
    cleanup();
    for (i = 0; i < 5; i++) {
        sse_tls_cfg_t tls;
        sse_server_cfg_t cfg;
        reader_t *c, *stalled;
        uint64_t id;
        ev_t ev;
        long t0, took;
        tls_default(&tls, i % 2 ? BY_FILE : BY_BUFFER);
        cfg_default(&cfg, &tls);
        start_with(&cfg);
        CU_ASSERT_EQUAL(sse_server_start(&cfg), SSE_ERR_BUSY);
        c = curl_stream(NULL, 1);
        CU_ASSERT_EQUAL(sse_publish(SSE_CHANNEL_ALL, "message", "round", 5, &id), SSE_OK);
        CU_ASSERT(next_event(c, &ev, 3000) && ev.id == id);
        /* Also one connection stuck in its handshake (10 s timeout). */
        stalled = tcp_open();
        CU_ASSERT_EQUAL(settle(active_i, 2, 2000), 2);
        /* Listener, timer, fan-out writer and the two connections. */
        CU_ASSERT_EQUAL(settle(threads_now, base_threads + 5, 2000), base_threads + 5);
        /* Stop with both connected: the stream ends cleanly for curl, the
         * handshake is abandoned, stop does not wait for its timeout. */
        t0 = now_ms();
        CU_ASSERT_EQUAL(sse_server_stop(), SSE_OK);
        took = now_ms() - t0;
        CU_ASSERT(took < 1500);
        CU_ASSERT(rd_until_eof(c, 5000));
        CU_ASSERT_EQUAL(reap(c, 5000), 0);
        CU_ASSERT(rd_until_eof(stalled, 2000));
        tcp_close(stalled);
        CU_ASSERT_EQUAL(settle(threads_now, base_threads, 3000), base_threads);
    }
}

static const tb_test_t tests[] = {
    TB_TEST(test_tls_curl_stream),
    TB_TEST(test_tls_last_event_id_resume),
    TB_TEST(test_tls_slow_reader_handed_back),
    TB_TEST(test_tls_openssl_s_client_stream),
    TB_TEST(test_tls_plain_http_on_tls_port),
    TB_TEST(test_tls_garbage_handshake),
    TB_TEST(test_tls_stalled_handshake_times_out),
    TB_TEST(test_tls_client_leaves_mid_handshake),
    TB_TEST(test_tls_mutual_client_certificates),
    TB_TEST(test_tls_config_errors),
    TB_TEST(test_tls_config_errors_key_ca_chain),
    TB_TEST(test_tls_overload_closes_without_answer),
    TB_TEST(test_tls_start_stop_repeated),
};

int test_tls_register(void)
{
    return TB_SUITE("tls", suite_init, suite_clean, tests);
}

#else /* !CONFIG_SSE_TLS */

int test_tls_register(void)
{
    return 0; /* a build without TLS has no TLS suite */
}

#endif /* CONFIG_SSE_TLS */
