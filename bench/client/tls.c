/* SPDX-License-Identifier: MIT */
/* The bench client's --tls: mbedTLS's client on each non-blocking stream, its handshake step, and its figures for the report. */
#define _GNU_SOURCE /* -std=c99 hides epoll, sockets, clock_gettime and /proc helpers */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/socket.h>

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

#include "client.h"

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

int tls_global_init(const char *cafile)
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

int tls_conn_new(conn_t *c)
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

void tls_conn_free(conn_t *c)
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

ssize_t tls_send(conn_t *c, const void *buf, size_t len, int *want_out)
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

ssize_t tls_recv(conn_t *c, void *buf, size_t len)
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

int tls_conn_new(conn_t *c)
{
    (void)c;
    return ENOTSUP;
}

void tls_conn_free(conn_t *c)
{
    (void)c;
}

ssize_t tls_send(conn_t *c, const void *buf, size_t len, int *want_out)
{
    (void)c; (void)buf; (void)len; (void)want_out;
    errno = ENOTSUP;
    return -1;
}

ssize_t tls_recv(conn_t *c, void *buf, size_t len)
{
    (void)c; (void)buf; (void)len;
    errno = ENOTSUP;
    return -1;
}

#endif /* CONFIG_SSE_TLS */

#if defined(CONFIG_SSE_TLS)
/* One step of the handshake, on readiness; then the request. */
void tls_handshake_step(conn_t *c, ll now)
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
void tls_handshake_step(conn_t *c, ll now)
{
    (void)c;
    (void)now;
}
#endif

/* The report's TLS fields: "tls=off", or the version, suite and handshake
 * times of the run. */
void tls_summary(char *buf, size_t n)
{
    snprintf(buf, n, "tls=off");
#if defined(CONFIG_SSE_TLS)
    if (g.tls)
        snprintf(buf, n,
                 "tls=on tls_version=%s tls_suite=%s tls_handshakes=%u "
                 "tls_hs_avg_ms=%.2f tls_hs_max_ms=%.2f",
                 T.version[0] ? T.version : "na",
                 T.suite[0] ? T.suite : "na", T.handshakes,
                 T.handshakes ? (double)T.hs_sum_ns / T.handshakes / 1e6 : 0.0,
                 (double)T.hs_max_ns / 1e6);
#endif
}
