/* SPDX-License-Identifier: MIT */
/* The server flags the programs share: --token's length, --cors-origin's
 * list, and after the loop --cert/--key/--ca paired and handed to the
 * server's settings. */
#ifndef SSE_EXAMPLES_SERVE_H
#define SSE_EXAMPLES_SERVE_H

#include <string.h>
#include "ssedge/sse.h"
#include "args.h"

#define MAX_CORS_ORIGINS 4
/* The library refuses shorter route tokens at start; say so at the flag. */
#ifdef CONFIG_SSE_AUTH_MIN_TOKEN_LEN
#define MIN_TOKEN_LEN CONFIG_SSE_AUTH_MIN_TOKEN_LEN
#else
#define MIN_TOKEN_LEN 16
#endif

/* The current flag's value as a bearer token. */
static inline const char *serve_token(args_t *a)
{
    const char *t = args_str(a, "a bearer token");
    if (strlen(t) < MIN_TOKEN_LEN)
        args_fail(a, "needs at least %d characters", MIN_TOKEN_LEN);
    return t;
}

/* --cors-origin: one more origin in cors[MAX_CORS_ORIGINS]. */
static inline void serve_cors_origin(args_t *a, const char **cors, unsigned *num)
{
    const char *o = args_str(a, "an origin (https://host[:port]) or \"*\"");
    if (*num == MAX_CORS_ORIGINS)
        args_fail(a, "at most %d origins", MAX_CORS_ORIGINS);
    cors[(*num)++] = o;
}

/* After the flags: a key or CA needs its certificate and a certificate its
 * key; then https. The origins, if any, go to the settings too. */
static inline void serve_finish(const args_t *a, sse_server_cfg_t *cfg, sse_tls_cfg_t *tls,
                                const char **cors, unsigned num_cors)
{
    if (tls->cert_file || tls->key_file || tls->ca_file) {
        if (!tls->cert_file)
            args_fail_flag(a, tls->key_file ? "--key" : "--ca", "needs --cert too");
        if (!tls->key_file)
            args_fail_flag(a, "--cert", "needs --key too");
        cfg->tls = tls;
    }
    if (num_cors) {
        cfg->cors_origins = cors;
        cfg->num_cors_origins = num_cors;
    }
}

/* sse_server_start(); when it fails, @p why gets the line to print after
 * the library's own (which says why): "cannot serve on HOST:PORT: error". */
static inline int serve_start(const sse_server_cfg_t *cfg, char *why, size_t size)
{
    char host[64];
    int r = sse_server_start(cfg);
    if (r != SSE_OK)
        snprintf(why, size, "cannot serve on %s:%u: %s",
                 args_url_host(host, sizeof host, cfg->bind_addr), (unsigned)cfg->port,
                 sse_strerror(r));
    return r;
}

#endif /* SSE_EXAMPLES_SERVE_H */
