/* SPDX-License-Identifier: MIT */
/* TLS through mbedTLS: shared config, certificate, key and random generator
 * per server; one session per connection over the port's socket calls.
 * Every difference between mbedTLS 2.28 and 3.x is kept in this file. */
#include "sse_opt.h"

#if defined(CONFIG_SSE_TLS)
#include <stdio.h>
#include <string.h>
#include <mbedtls/version.h>
#if MBEDTLS_VERSION_NUMBER >= 0x03000000
#include <mbedtls/build_info.h>
#else
#include <mbedtls/config.h>
#endif
#include <mbedtls/ctr_drbg.h>
#include <mbedtls/entropy.h>
#include <mbedtls/error.h>
#include <mbedtls/net_sockets.h> /* error codes only; its .c is POSIX-only */
#include <mbedtls/pk.h>
#include <mbedtls/ssl.h>
#include <mbedtls/x509_crt.h>
#if MBEDTLS_VERSION_NUMBER >= 0x03000000 && defined(MBEDTLS_USE_PSA_CRYPTO)
#include <psa/crypto.h>
#endif

#include "sse_log.h"
#include "sse_tls.h"

#if !defined(MBEDTLS_SSL_SRV_C) || !defined(MBEDTLS_SSL_PROTO_TLS1_2) || \
    !defined(MBEDTLS_CTR_DRBG_C) || !defined(MBEDTLS_ENTROPY_C)
#error "CONFIG_SSE_TLS needs mbedTLS with SSL_SRV_C, SSL_PROTO_TLS1_2, CTR_DRBG_C, ENTROPY_C"
#endif
#if !defined(MBEDTLS_THREADING_C)
#error "CONFIG_SSE_TLS shares one random generator between connection threads: build mbedTLS with MBEDTLS_THREADING_C (PTHREAD or ALT)"
#endif

static struct {
    int                      inited;
    uint32_t                 hs_timeout;
    mbedtls_ssl_config       conf;
    mbedtls_entropy_context  entropy;
    mbedtls_ctr_drbg_context drbg;
    mbedtls_x509_crt         cert;
    mbedtls_x509_crt         ca;
    mbedtls_pk_context       key;
} G;

static void log_mbedtls(int level, const char *what, int err)
{
#if defined(MBEDTLS_ERROR_C)
    char msg[96];
    mbedtls_strerror(err, msg, sizeof msg);
    SSE_LOG(level, "tls: %s: -0x%04x %s", what, (unsigned)-err, msg);
#else
    SSE_LOG(level, "tls: %s: -0x%04x", what, (unsigned)-err);
#endif
    (void)level;
    (void)what;
    (void)err;
}

/* ---- 2.28 / 3.x differences ------------------------------------------------- */

static int parse_key_buf(const unsigned char *buf, size_t len, const char *pw)
{
    size_t pwlen = pw ? strlen(pw) : 0;
#if MBEDTLS_VERSION_NUMBER >= 0x03000000
    return mbedtls_pk_parse_key(&G.key, buf, len, (const unsigned char *)pw, pwlen,
                                mbedtls_ctr_drbg_random, &G.drbg);
#else
    return mbedtls_pk_parse_key(&G.key, buf, len, (const unsigned char *)pw, pwlen);
#endif
}

#if defined(MBEDTLS_FS_IO)
static int parse_key_file(const char *path, const char *pw)
{
#if MBEDTLS_VERSION_NUMBER >= 0x03000000
    return mbedtls_pk_parse_keyfile(&G.key, path, pw, mbedtls_ctr_drbg_random, &G.drbg);
#else
    return mbedtls_pk_parse_keyfile(&G.key, path, pw);
#endif
}
#endif

static int key_matches_cert(void)
{
#if MBEDTLS_VERSION_NUMBER >= 0x03000000
    return mbedtls_pk_check_pair(&G.cert.pk, &G.key, mbedtls_ctr_drbg_random, &G.drbg);
#else
    return mbedtls_pk_check_pair(&G.cert.pk, &G.key);
#endif
}

static void min_tls12(void)
{
#if MBEDTLS_VERSION_NUMBER >= 0x03000000
    mbedtls_ssl_conf_min_tls_version(&G.conf, MBEDTLS_SSL_VERSION_TLS1_2);
#else
    mbedtls_ssl_conf_min_version(&G.conf, MBEDTLS_SSL_MAJOR_VERSION_3,
                                 MBEDTLS_SSL_MINOR_VERSION_3);
#endif
}

/* ---- set-up ------------------------------------------------------------------ */

/* "server certificate file /etc/x.crt" (or "... buffer") for a log line. */
static const char *item(const char *name, size_t buf_len, const char *file, char *out,
                        size_t cap)
{
    if (!buf_len && file)
        snprintf(out, cap, "%s file %s", name, file);
    else
        snprintf(out, cap, "%s buffer", name);
    return out;
}

/* The port's strong source feeds the generator (getrandom, a board RNG). */
static int port_entropy(void *unused, unsigned char *out, size_t len, size_t *olen)
{
    (void)unused;
    if (sse_port_random(out, len) != SSE_OK)
        return MBEDTLS_ERR_ENTROPY_SOURCE_FAILED;
    *olen = len;
    return 0;
}

/* An item the configuration does not give (distinct from every mbedTLS
 * result: those are 0, negative errors, or a positive count of
 * certificates in a bundle that did not parse). */
#define NOT_GIVEN 0x7fffffff

/* An mbedTLS loading result as ours: a file that cannot be read is an I/O
 * error (x509 file loading reports it with the PK code); anything else,
 * a bundle with a broken certificate included, does not parse. */
static int load_err(int r)
{
    return r == MBEDTLS_ERR_X509_FILE_IO_ERROR || r == MBEDTLS_ERR_PK_FILE_IO_ERROR
         ? SSE_ERR_IO : SSE_ERR_INVALID;
}

/* Certificates from a buffer or a file. @return 0, NOT_GIVEN, or what
 * mbedTLS said (a positive count: that many did not parse). */
static int load_crt(mbedtls_x509_crt *crt, const unsigned char *buf, size_t len,
                    const char *path)
{
    if (buf && len)
        return mbedtls_x509_crt_parse(crt, buf, len);
#if defined(MBEDTLS_FS_IO)
    if (path)
        return mbedtls_x509_crt_parse_file(crt, path);
#else
    (void)path;
#endif
    return NOT_GIVEN;
}

int sse_tls_init(const sse_tls_cfg_t *cfg)
{
    static const char pers[] = "ssedge";
    int r, ret = SSE_ERR_INVALID;
    char what[CONFIG_SSE_LOG_LINE / 2];

    if (G.inited)
        sse_tls_deinit();
    mbedtls_ssl_config_init(&G.conf);
    mbedtls_entropy_init(&G.entropy);
    mbedtls_ctr_drbg_init(&G.drbg);
    mbedtls_x509_crt_init(&G.cert);
    mbedtls_x509_crt_init(&G.ca);
    mbedtls_pk_init(&G.key);
    G.inited = 1;
    G.hs_timeout = cfg->handshake_timeout_ms ? cfg->handshake_timeout_ms
                                             : CONFIG_SSE_TLS_HANDSHAKE_TIMEOUT_MS;
#if MBEDTLS_VERSION_NUMBER >= 0x03000000 && defined(MBEDTLS_USE_PSA_CRYPTO)
    if (psa_crypto_init() != PSA_SUCCESS) {
        SSE_LOG(SSE_LOG_ERR, "tls: psa_crypto_init failed");
        ret = SSE_ERR_IO;
        goto fail;
    }
#endif
    r = mbedtls_entropy_add_source(&G.entropy, port_entropy, NULL, 32,
                                   MBEDTLS_ENTROPY_SOURCE_STRONG);
    if (r == 0)
        r = mbedtls_ctr_drbg_seed(&G.drbg, mbedtls_entropy_func, &G.entropy,
                                  (const unsigned char *)pers, sizeof pers - 1);
    if (r != 0) {
        log_mbedtls(SSE_LOG_ERR, "seeding the random generator", r);
        ret = SSE_ERR_IO;
        goto fail;
    }

    r = load_crt(&G.cert, cfg->cert, cfg->cert_len, cfg->cert_file);
    if (r != 0) {
        if (r == NOT_GIVEN)
            SSE_LOG(SSE_LOG_ERR, "tls: no certificate given");
        else if (r > 0)
            SSE_LOG(SSE_LOG_ERR, "tls: %d certificate(s) of the chain do not parse", r);
        else
            log_mbedtls(SSE_LOG_ERR, item("server certificate", cfg->cert_len, cfg->cert_file,
                                          what, sizeof what), r);
        ret = r == NOT_GIVEN ? SSE_ERR_ARG : load_err(r);
        goto fail;
    }
    if (cfg->key && cfg->key_len)
        r = parse_key_buf(cfg->key, cfg->key_len, cfg->key_password);
#if defined(MBEDTLS_FS_IO)
    else if (cfg->key_file)
        r = parse_key_file(cfg->key_file, cfg->key_password);
#endif
    else
        r = NOT_GIVEN;
    if (r != 0) {
        if (r == NOT_GIVEN)
            SSE_LOG(SSE_LOG_ERR, "tls: no private key given");
        else
            log_mbedtls(SSE_LOG_ERR, item("private key", cfg->key_len, cfg->key_file, what,
                                          sizeof what), r);
        ret = r == NOT_GIVEN ? SSE_ERR_ARG : load_err(r);
        goto fail;
    }
    if ((r = key_matches_cert()) != 0) {
        log_mbedtls(SSE_LOG_ERR, "the key does not match the certificate", r);
        goto fail;
    }
    r = load_crt(&G.ca, cfg->ca, cfg->ca_len, cfg->ca_file);
    if (r != 0 && r != NOT_GIVEN) {
        /* A CA bundle with broken entries would quietly trust less. */
        if (r > 0)
            SSE_LOG(SSE_LOG_ERR, "tls: %d client CA certificate(s) do not parse", r);
        else
            log_mbedtls(SSE_LOG_ERR, item("client CA", cfg->ca_len, cfg->ca_file, what,
                                          sizeof what), r);
        ret = load_err(r);
        goto fail;
    }

    r = mbedtls_ssl_config_defaults(&G.conf, MBEDTLS_SSL_IS_SERVER,
                                    MBEDTLS_SSL_TRANSPORT_STREAM, MBEDTLS_SSL_PRESET_DEFAULT);
    if (r == 0)
        r = mbedtls_ssl_conf_own_cert(&G.conf, &G.cert, &G.key);
    if (r != 0) {
        log_mbedtls(SSE_LOG_ERR, "configuration", r);
        goto fail;
    }
    mbedtls_ssl_conf_rng(&G.conf, mbedtls_ctr_drbg_random, &G.drbg);
    min_tls12();
    if (cfg->ca || cfg->ca_file) {
        /* Mutual TLS: no valid client certificate, no connection. */
        mbedtls_ssl_conf_ca_chain(&G.conf, &G.ca, NULL);
        mbedtls_ssl_conf_authmode(&G.conf, MBEDTLS_SSL_VERIFY_REQUIRED);
    } else {
        mbedtls_ssl_conf_authmode(&G.conf, MBEDTLS_SSL_VERIFY_NONE);
    }
    if (MBEDTLS_SSL_IN_CONTENT_LEN != CONFIG_SSE_TLS_IN_CONTENT_LEN ||
        MBEDTLS_SSL_OUT_CONTENT_LEN != CONFIG_SSE_TLS_OUT_CONTENT_LEN)
        SSE_LOG(SSE_LOG_INFO, "tls: this mbedTLS was built with %d/%d byte record buffers, "
                "not the configured %d/%d (see core/sse_mbedtls_config.h)",
                (int)MBEDTLS_SSL_IN_CONTENT_LEN, (int)MBEDTLS_SSL_OUT_CONTENT_LEN,
                CONFIG_SSE_TLS_IN_CONTENT_LEN, CONFIG_SSE_TLS_OUT_CONTENT_LEN);
    SSE_LOG(SSE_LOG_INFO, "tls: mbedTLS %s, record buffers %d in + %d out bytes per connection%s",
            MBEDTLS_VERSION_STRING, (int)MBEDTLS_SSL_IN_CONTENT_LEN,
            (int)MBEDTLS_SSL_OUT_CONTENT_LEN,
            (cfg->ca || cfg->ca_file) ? ", client certificates required" : "");
    return SSE_OK;
fail:
    sse_tls_deinit();
    return ret;
}

void sse_tls_deinit(void)
{
    if (!G.inited)
        return;
    mbedtls_ssl_config_free(&G.conf);
    mbedtls_pk_free(&G.key);
    mbedtls_x509_crt_free(&G.ca);
    mbedtls_x509_crt_free(&G.cert);
    mbedtls_ctr_drbg_free(&G.drbg);
    mbedtls_entropy_free(&G.entropy);
    G.inited = 0;
}

/* ---- sessions ----------------------------------------------------------------- */

/* I/O through the port, bounded by t->timeout; a timeout is reported as
 * WANT_* so mbedTLS can be called again. Timeout 0 (the fan-out path)
 * sends what the socket takes: mbedTLS keeps the rest of the record and
 * sends it on the next call. */
static int bio_send(void *ctx, const unsigned char *buf, size_t len)
{
    sse_tls_conn_t *t = ctx;
    int r;
    if (t->timeout == 0) {
        r = sse_port_try_send(t->sock, buf, len);
        if (r > 0)
            return r;
        return r == 0 ? MBEDTLS_ERR_SSL_WANT_WRITE : MBEDTLS_ERR_NET_SEND_FAILED;
    }
    r = sse_port_send(t->sock, buf, len, t->timeout);
    if (r == SSE_OK)
        return (int)len;
    return MBEDTLS_ERR_NET_SEND_FAILED; /* a half-sent record cannot be retried */
}

static int bio_recv(void *ctx, unsigned char *buf, size_t len)
{
    sse_tls_conn_t *t = ctx;
    int r = sse_port_recv(t->sock, buf, len, t->timeout);
    if (r > 0)
        return r;
    if (r == SSE_ERR_TIMEOUT)
        return MBEDTLS_ERR_SSL_WANT_READ;
    if (r == SSE_ERR_CLOSED)
        return 0;
    return MBEDTLS_ERR_NET_RECV_FAILED;
}

int sse_tls_handshake(sse_tls_conn_t *t, sse_port_sock_t *s, int (*stop)(void))
{
    uint32_t start = sse_port_now_ms();
    int r;
    mbedtls_ssl_init(&t->ssl);
    t->live = 1;
    t->sock = s;
    if ((r = mbedtls_ssl_setup(&t->ssl, &G.conf)) != 0) {
        log_mbedtls(SSE_LOG_ERR, "session set-up", r);
        return SSE_ERR_NOMEM;
    }
    mbedtls_ssl_set_bio(&t->ssl, t, bio_send, bio_recv, NULL);
    for (;;) {
        uint32_t spent = sse_port_now_ms() - start;
        if (spent >= G.hs_timeout) {
            char who[SSE_PORT_PEER_LEN];
            SSE_LOG(SSE_LOG_WARN, "tls: %s: handshake timed out (%u ms)",
                    sse_port_sock_peer(s, who, sizeof who), (unsigned)G.hs_timeout);
            return SSE_ERR_TIMEOUT;
        }
        /* Short waits, so a stop is noticed (only we may close the socket). */
        t->timeout = G.hs_timeout - spent < CONFIG_SSE_ACCEPT_POLL_MS
                   ? G.hs_timeout - spent : CONFIG_SSE_ACCEPT_POLL_MS;
        r = mbedtls_ssl_handshake(&t->ssl);
        if (r == 0)
            return SSE_OK;
        if (r == MBEDTLS_ERR_SSL_WANT_READ || r == MBEDTLS_ERR_SSL_WANT_WRITE) {
            if (stop())
                return SSE_ERR_CLOSED;
            continue;
        }
        if (r == MBEDTLS_ERR_SSL_CONN_EOF || r == MBEDTLS_ERR_NET_RECV_FAILED ||
            r == MBEDTLS_ERR_NET_SEND_FAILED)
            return SSE_ERR_CLOSED;
        {
            char who[SSE_PORT_PEER_LEN], what[SSE_PORT_PEER_LEN + 24];
            snprintf(what, sizeof what, "handshake with %s failed",
                     sse_port_sock_peer(s, who, sizeof who));
            log_mbedtls(SSE_LOG_WARN, what, r);
        }
        return SSE_ERR_INVALID;
    }
}

int sse_tls_send(sse_tls_conn_t *t, const void *buf, size_t len, uint32_t timeout_ms)
{
    const unsigned char *p = buf;
    t->timeout = timeout_ms;
    while (len > 0) {
        int r = mbedtls_ssl_write(&t->ssl, p, len);
        if (r > 0) {
            p += r;
            len -= (size_t)r;
        } else if (r == MBEDTLS_ERR_SSL_WANT_WRITE || r == MBEDTLS_ERR_SSL_WANT_READ) {
            return SSE_ERR_TIMEOUT;
        } else {
            return SSE_ERR_CLOSED;
        }
    }
    return SSE_OK;
}

int sse_tls_try_send(sse_tls_conn_t *t, const void *buf, size_t len)
{
    const unsigned char *p = buf;
    size_t done = 0;
    t->timeout = 0;
    while (done < len) {
        int r = mbedtls_ssl_write(&t->ssl, p + done, len - done);
        if (r > 0)
            done += (size_t)r;
        else if (r == MBEDTLS_ERR_SSL_WANT_WRITE || r == MBEDTLS_ERR_SSL_WANT_READ)
            break; /* a record may be half out: the rest goes from p + done */
        else
            return SSE_ERR_CLOSED;
    }
    return (int)done;
}

int sse_tls_recv(sse_tls_conn_t *t, void *buf, size_t len, uint32_t timeout_ms)
{
    int r;
    t->timeout = timeout_ms;
    r = mbedtls_ssl_read(&t->ssl, buf, len);
    if (r > 0)
        return r;
    if (r == MBEDTLS_ERR_SSL_WANT_READ || r == MBEDTLS_ERR_SSL_WANT_WRITE)
        return SSE_ERR_TIMEOUT;
    if (r == 0 || r == MBEDTLS_ERR_SSL_PEER_CLOSE_NOTIFY || r == MBEDTLS_ERR_SSL_CONN_EOF)
        return SSE_ERR_CLOSED;
    return SSE_ERR_IO;
}

void sse_tls_end(sse_tls_conn_t *t)
{
    if (!t->live)
        return;
    t->timeout = CONFIG_SSE_ACCEPT_POLL_MS; /* best effort, never long */
    (void)mbedtls_ssl_close_notify(&t->ssl);
    mbedtls_ssl_free(&t->ssl);
    t->live = 0;
}

/* ---- client sessions ---------------------------------------------------------- */

int sse_tls_client_init(sse_tls_client_t *c, const unsigned char *ca, size_t ca_len,
                        const char *ca_file)
{
    static const char pers[] = "ssedge uplink";
    char what[CONFIG_SSE_LOG_LINE / 2];
    int r, ret = SSE_ERR_INVALID;
    mbedtls_ssl_config_init(&c->conf);
    mbedtls_x509_crt_init(&c->ca);
    mbedtls_ctr_drbg_init(&c->drbg);
    mbedtls_entropy_init(&c->entropy);
    c->ready = 1;
    r = mbedtls_entropy_add_source(&c->entropy, port_entropy, NULL, 32,
                                   MBEDTLS_ENTROPY_SOURCE_STRONG);
    if (r == 0)
        r = mbedtls_ctr_drbg_seed(&c->drbg, mbedtls_entropy_func, &c->entropy,
                                  (const unsigned char *)pers, sizeof pers - 1);
    if (r != 0) {
        log_mbedtls(SSE_LOG_ERR, "uplink: seeding the random generator", r);
        ret = SSE_ERR_IO;
        goto fail;
    }
    r = load_crt(&c->ca, ca, ca_len, ca_file);
    if (r != 0) {
        if (r == NOT_GIVEN)
            SSE_LOG(SSE_LOG_ERR, "tls: uplink: no CA given to check the hub against");
        else if (r > 0)
            SSE_LOG(SSE_LOG_ERR, "tls: uplink: %d CA certificate(s) do not parse", r);
        else
            log_mbedtls(SSE_LOG_ERR, item("uplink CA", ca_len, ca_file, what, sizeof what), r);
        ret = r == NOT_GIVEN ? SSE_ERR_ARG : load_err(r);
        goto fail;
    }
    r = mbedtls_ssl_config_defaults(&c->conf, MBEDTLS_SSL_IS_CLIENT, MBEDTLS_SSL_TRANSPORT_STREAM,
                                    MBEDTLS_SSL_PRESET_DEFAULT);
    if (r != 0) {
        log_mbedtls(SSE_LOG_ERR, "uplink configuration", r);
        goto fail;
    }
    mbedtls_ssl_conf_authmode(&c->conf, MBEDTLS_SSL_VERIFY_REQUIRED);
    mbedtls_ssl_conf_ca_chain(&c->conf, &c->ca, NULL);
    mbedtls_ssl_conf_rng(&c->conf, mbedtls_ctr_drbg_random, &c->drbg);
#if MBEDTLS_VERSION_NUMBER >= 0x03000000
    mbedtls_ssl_conf_min_tls_version(&c->conf, MBEDTLS_SSL_VERSION_TLS1_2);
#else
    mbedtls_ssl_conf_min_version(&c->conf, MBEDTLS_SSL_MAJOR_VERSION_3,
                                 MBEDTLS_SSL_MINOR_VERSION_3);
#endif
    return SSE_OK;
fail:
    sse_tls_client_free(c);
    return ret;
}

void sse_tls_client_free(sse_tls_client_t *c)
{
    if (!c->ready)
        return;
    mbedtls_ssl_config_free(&c->conf);
    mbedtls_x509_crt_free(&c->ca);
    mbedtls_ctr_drbg_free(&c->drbg);
    mbedtls_entropy_free(&c->entropy);
    c->ready = 0;
}

int sse_tls_client_handshake(sse_tls_client_t *c, sse_tls_conn_t *t, sse_port_sock_t *s,
                             const char *host, uint32_t timeout_ms)
{
    uint32_t start = sse_port_now_ms();
    int r;
    mbedtls_ssl_init(&t->ssl);
    t->live = 1;
    t->sock = s;
    if ((r = mbedtls_ssl_setup(&t->ssl, &c->conf)) != 0 ||
        (r = mbedtls_ssl_set_hostname(&t->ssl, host)) != 0) {
        log_mbedtls(SSE_LOG_ERR, "uplink session set-up", r);
        return SSE_ERR_NOMEM;
    }
    mbedtls_ssl_set_bio(&t->ssl, t, bio_send, bio_recv, NULL);
    for (;;) {
        uint32_t spent = sse_port_now_ms() - start;
        if (spent >= timeout_ms) {
            SSE_LOG(SSE_LOG_WARN, "tls: uplink: handshake with %s timed out", host);
            return SSE_ERR_TIMEOUT;
        }
        t->timeout = timeout_ms - spent;
        r = mbedtls_ssl_handshake(&t->ssl);
        if (r == 0)
            return SSE_OK;
        if (r == MBEDTLS_ERR_SSL_WANT_READ || r == MBEDTLS_ERR_SSL_WANT_WRITE)
            continue;
        if (r == MBEDTLS_ERR_SSL_CONN_EOF || r == MBEDTLS_ERR_NET_RECV_FAILED ||
            r == MBEDTLS_ERR_NET_SEND_FAILED)
            return SSE_ERR_CLOSED;
        {
            char what[96];
            snprintf(what, sizeof what, "uplink: handshake with %s failed", host);
            log_mbedtls(SSE_LOG_WARN, what, r);
        }
        return SSE_ERR_INVALID;
    }
}

#endif /* CONFIG_SSE_TLS */
