/* SPDX-License-Identifier: MIT */
/* A small blocking mbedTLS client for the tls suite (see tls_client.h). */
#define _GNU_SOURCE
#include "sse_opt.h"

#if defined(CONFIG_SSE_TLS)
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <mbedtls/error.h>
#include "tls_client.h"

static void say(const char *what, int err)
{
    char msg[100];
    mbedtls_strerror(err, msg, sizeof msg);
    fprintf(stderr, "tls_client: %s: -0x%04x %s\n", what, (unsigned)-err, msg);
}

int tls_client_open(tls_client_t *t, const char *ip, uint16_t port,
                    const unsigned char *ca, size_t ca_len, int rcvbuf)
{
    struct sockaddr_in a;
    int r;
    memset(t, 0, sizeof *t);
    mbedtls_net_init(&t->net);
    mbedtls_ssl_init(&t->ssl);
    mbedtls_ssl_config_init(&t->conf);
    mbedtls_ctr_drbg_init(&t->drbg);
    mbedtls_entropy_init(&t->entropy);
    mbedtls_x509_crt_init(&t->ca);
    if ((r = mbedtls_ctr_drbg_seed(&t->drbg, mbedtls_entropy_func, &t->entropy, NULL, 0)) ||
        (r = mbedtls_x509_crt_parse(&t->ca, ca, ca_len)) ||
        (r = mbedtls_ssl_config_defaults(&t->conf, MBEDTLS_SSL_IS_CLIENT,
                                         MBEDTLS_SSL_TRANSPORT_STREAM,
                                         MBEDTLS_SSL_PRESET_DEFAULT))) {
        say("set-up", r);
        return -1;
    }
    mbedtls_ssl_conf_authmode(&t->conf, MBEDTLS_SSL_VERIFY_REQUIRED);
    mbedtls_ssl_conf_ca_chain(&t->conf, &t->ca, NULL);
    mbedtls_ssl_conf_rng(&t->conf, mbedtls_ctr_drbg_random, &t->drbg);
    if ((r = mbedtls_ssl_setup(&t->ssl, &t->conf)) ||
        (r = mbedtls_ssl_set_hostname(&t->ssl, "localhost"))) {
        say("session", r);
        return -1;
    }
    t->net.fd = socket(AF_INET, SOCK_STREAM, 0);
    if (t->net.fd < 0)
        return -1;
    if (rcvbuf)
        setsockopt(t->net.fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    inet_pton(AF_INET, ip, &a.sin_addr);
    if (connect(t->net.fd, (struct sockaddr *)&a, sizeof a) != 0) {
        perror("tls_client: connect");
        return -1;
    }
    mbedtls_ssl_set_bio(&t->ssl, &t->net, mbedtls_net_send, mbedtls_net_recv, NULL);
    while ((r = mbedtls_ssl_handshake(&t->ssl)) != 0) {
        if (r != MBEDTLS_ERR_SSL_WANT_READ && r != MBEDTLS_ERR_SSL_WANT_WRITE) {
            say("handshake", r);
            return -1;
        }
    }
    return 0;
}

int tls_client_write(tls_client_t *t, const char *s)
{
    size_t n = strlen(s), done = 0;
    while (done < n) {
        int r = mbedtls_ssl_write(&t->ssl, (const unsigned char *)s + done, n - done);
        if (r > 0)
            done += (size_t)r;
        else if (r != MBEDTLS_ERR_SSL_WANT_WRITE && r != MBEDTLS_ERR_SSL_WANT_READ)
            return -1;
    }
    return 0;
}

int tls_client_read(tls_client_t *t, char *buf, size_t n, long ms)
{
    int r;
    if (mbedtls_ssl_get_bytes_avail(&t->ssl) == 0) {
        struct pollfd p = { t->net.fd, POLLIN, 0 };
        if (poll(&p, 1, (int)ms) <= 0)
            return 0;
    }
    r = mbedtls_ssl_read(&t->ssl, (unsigned char *)buf, n);
    if (r > 0)
        return r;
    return r == MBEDTLS_ERR_SSL_WANT_READ || r == MBEDTLS_ERR_SSL_WANT_WRITE ? 0 : -1;
}

void tls_client_close(tls_client_t *t)
{
    mbedtls_ssl_free(&t->ssl);
    mbedtls_ssl_config_free(&t->conf);
    mbedtls_x509_crt_free(&t->ca);
    mbedtls_ctr_drbg_free(&t->drbg);
    mbedtls_entropy_free(&t->entropy);
    mbedtls_net_free(&t->net);
}

#else
typedef int sse_tls_client_unused; /* ISO C wants a declaration */
#endif /* CONFIG_SSE_TLS */
