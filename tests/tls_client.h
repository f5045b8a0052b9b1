/* SPDX-License-Identifier: MIT */
/* A small blocking mbedTLS client for the tls suite: a stream whose reader
 * the test controls down to its socket's receive buffer. */
#ifndef SSE_TLS_CLIENT_H
#define SSE_TLS_CLIENT_H

#include <stddef.h>
#include <stdint.h>
#include <mbedtls/ctr_drbg.h>
#include <mbedtls/entropy.h>
#include <mbedtls/net_sockets.h>
#include <mbedtls/ssl.h>
#include <mbedtls/x509_crt.h>

typedef struct tls_client {
    mbedtls_net_context      net;
    mbedtls_ssl_context      ssl;
    mbedtls_ssl_config       conf;
    mbedtls_ctr_drbg_context drbg;
    mbedtls_entropy_context  entropy;
    mbedtls_x509_crt         ca;
} tls_client_t;

/* Connect to ip:port with SO_RCVBUF @p rcvbuf (0: the OS's), verify the
 * server against the PEM CA (NUL counted in ca_len) and handshake.
 * 0 on success; -1 with a line on stderr. */
int  tls_client_open(tls_client_t *t, const char *ip, uint16_t port,
                     const unsigned char *ca, size_t ca_len, int rcvbuf);
int  tls_client_write(tls_client_t *t, const char *s); /* 0 if all went */
/* Plaintext bytes read within ms (0: none in time), -1 at EOF or error. */
int  tls_client_read(tls_client_t *t, char *buf, size_t n, long ms);
void tls_client_close(tls_client_t *t);

#endif /* SSE_TLS_CLIENT_H */
