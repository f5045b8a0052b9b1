/* SPDX-License-Identifier: MIT */
/* TLS seam of the server: one session per connection over the port's
 * socket calls, and a connection's I/O through it (sse_io_*). Without
 * CONFIG_SSE_TLS the session calls are stubs, so the server has no #if of
 * its own. Return values follow the port's send/recv. */
#ifndef SSE_TLS_H
#define SSE_TLS_H

#include "sse_opt.h"
#include "sse_port.h"
#include "ssedge/sse.h"

#if defined(CONFIG_SSE_TLS)
#include <mbedtls/ctr_drbg.h>
#include <mbedtls/entropy.h>
#include <mbedtls/ssl.h>
#include <mbedtls/x509_crt.h>

typedef struct sse_tls_conn {
    mbedtls_ssl_context ssl;     /* set up per handshake, freed by sse_tls_end() */
    sse_port_sock_t    *sock;
    uint32_t            timeout; /* for the bio callbacks of the current call */
    int                 live;    /* ssl is set up */
} sse_tls_conn_t;

/** Parse certificate/key/CA, seed the random generator from the port,
 *  build the shared configuration. @return SSE_OK, SSE_ERR_INVALID (does
 *  not parse, key does not match), SSE_ERR_IO (file, entropy). */
int  sse_tls_init(const sse_tls_cfg_t *cfg);
void sse_tls_deinit(void);

/** Run the handshake on @p s within the handshake timeout, giving up early
 *  when stop() says so. @return SSE_OK; SSE_ERR_TIMEOUT; SSE_ERR_CLOSED
 *  (peer left or stop); SSE_ERR_INVALID (not TLS, refused certificate). */
int  sse_tls_handshake(sse_tls_conn_t *t, sse_port_sock_t *s, int (*stop)(void));
int  sse_tls_send(sse_tls_conn_t *t, const void *buf, size_t len, uint32_t timeout_ms);
int  sse_tls_recv(sse_tls_conn_t *t, void *buf, size_t len, uint32_t timeout_ms);
/** Encrypt and send what the socket takes now, never waiting.
 *  @return plaintext bytes done (0..len), or SSE_ERR_CLOSED. Bytes after
 *  those may sit half-sent inside mbedTLS: the next send on this session
 *  must start with them (same bytes, any buffer), as mbedTLS requires. */
int  sse_tls_try_send(sse_tls_conn_t *t, const void *buf, size_t len);
/** Send close_notify (best effort) and free the session; the caller closes
 *  the socket. No-op if no session. */
void sse_tls_end(sse_tls_conn_t *t);

/* ---- client sessions (the uplink to a hub) ---- */

/** A client configuration: the CA a server must chain to, and a random
 *  generator of its own. */
typedef struct sse_tls_client {
    mbedtls_ssl_config       conf;
    mbedtls_x509_crt         ca;
    mbedtls_ctr_drbg_context drbg;
    mbedtls_entropy_context  entropy;
    int                      ready;
} sse_tls_client_t;

/** Set up @p c to verify servers against the CA (a buffer, or a file when
 *  @p ca_len is 0). @return SSE_OK; SSE_ERR_INVALID (the CA does not
 *  parse); SSE_ERR_IO (file, entropy). Logged. */
int  sse_tls_client_init(sse_tls_client_t *c, const unsigned char *ca, size_t ca_len,
                         const char *ca_file);
void sse_tls_client_free(sse_tls_client_t *c);

/** Handshake as a client of @p host over @p s within @p timeout_ms; the
 *  server's certificate must chain to the CA and name @p host. Then @p t
 *  works with sse_tls_send/recv/end. @return SSE_OK; SSE_ERR_TIMEOUT;
 *  SSE_ERR_CLOSED; SSE_ERR_INVALID (certificate refused: logged). */
int  sse_tls_client_handshake(sse_tls_client_t *c, sse_tls_conn_t *t, sse_port_sock_t *s,
                              const char *host, uint32_t timeout_ms);

#else /* !CONFIG_SSE_TLS */

typedef struct sse_tls_conn {
    int live; /* always 0 */
} sse_tls_conn_t;

static inline int sse_tls_init(const sse_tls_cfg_t *cfg) { (void)cfg; return SSE_ERR_ARG; }
static inline void sse_tls_deinit(void) { }
static inline int sse_tls_handshake(sse_tls_conn_t *t, sse_port_sock_t *s, int (*stop)(void))
{ (void)t; (void)s; (void)stop; return SSE_ERR_ARG; }
static inline int sse_tls_send(sse_tls_conn_t *t, const void *b, size_t n, uint32_t to)
{ (void)t; (void)b; (void)n; (void)to; return SSE_ERR_IO; }
static inline int sse_tls_recv(sse_tls_conn_t *t, void *b, size_t n, uint32_t to)
{ (void)t; (void)b; (void)n; (void)to; return SSE_ERR_IO; }
static inline int sse_tls_try_send(sse_tls_conn_t *t, const void *b, size_t n)
{ (void)t; (void)b; (void)n; return SSE_ERR_IO; }
static inline void sse_tls_end(sse_tls_conn_t *t) { (void)t; }

typedef struct sse_tls_client {
    int ready; /* always 0 */
} sse_tls_client_t;
static inline int sse_tls_client_init(sse_tls_client_t *c, const unsigned char *ca,
                                      size_t ca_len, const char *ca_file)
{ (void)c; (void)ca; (void)ca_len; (void)ca_file; return SSE_ERR_ARG; }
static inline void sse_tls_client_free(sse_tls_client_t *c) { (void)c; }
static inline int sse_tls_client_handshake(sse_tls_client_t *c, sse_tls_conn_t *t,
                                           sse_port_sock_t *s, const char *host,
                                           uint32_t timeout_ms)
{ (void)c; (void)t; (void)s; (void)host; (void)timeout_ms; return SSE_ERR_ARG; }

#endif /* CONFIG_SSE_TLS */

/* A connection's socket I/O, through its TLS session when it has one. */
static inline int sse_io_send(sse_port_sock_t *s, sse_tls_conn_t *t, const void *buf,
                              size_t len, uint32_t timeout_ms)
{
    return t && t->live ? sse_tls_send(t, buf, len, timeout_ms)
                        : sse_port_send(s, buf, len, timeout_ms);
}

static inline int sse_io_try_send(sse_port_sock_t *s, sse_tls_conn_t *t, const void *buf,
                                  size_t len)
{
    return t && t->live ? sse_tls_try_send(t, buf, len) : sse_port_try_send(s, buf, len);
}

static inline int sse_io_recv(sse_port_sock_t *s, sse_tls_conn_t *t, void *buf, size_t len,
                              uint32_t timeout_ms)
{
    return t && t->live ? sse_tls_recv(t, buf, len, timeout_ms)
                        : sse_port_recv(s, buf, len, timeout_ms);
}
#endif /* SSE_TLS_H */
