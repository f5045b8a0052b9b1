/* SPDX-License-Identifier: MIT */
/* POST /publish seam of the server: which requests are for it, the check
 * of cfg.publish_token, and serving one (its body becomes one event). With
 * CONFIG_SSE_PUBLISH_BODY_MAX 0 it is compiled out: stubs below. */
#ifndef SSE_INGEST_H
#define SSE_INGEST_H

#include "sse_opt.h"
#include "sse_port.h"
#include "sse_tls.h"
#include "ssedge/sse.h"

/** The path POST publishes to. */
#define SSE_INGEST_PATH "/publish"

/** A CORS preflight's answer for it, from an allowed origin: a page sends
 *  the token in Authorization, which only a preflight can allow. */
#define SSE_INGEST_PREFLIGHT "Allow: POST, OPTIONS\r\n" \
    "Access-Control-Allow-Methods: POST, OPTIONS\r\n" \
    "Access-Control-Allow-Headers: Authorization, Content-Type\r\n" \
    "Access-Control-Max-Age: 600\r\n"

/** What the server lends one publish request. The body is read into the
 *  connection's send buffer: a POST never streams, and every answer goes
 *  out through sse_reply() only after the body was published. */
typedef struct sse_ingest_io {
    sse_port_sock_t *sock;
    sse_tls_conn_t  *tls;       /* its session (inactive: plain) */
    char            *buf;       /* the send buffer */
    size_t           cap;       /* CONFIG_SSE_SEND_BUF_SIZE */
    const char      *early;     /* body bytes that came with the head */
    size_t           early_len;
    uint32_t         start_ms;  /* the request began: head and body share */
    uint32_t         timeout_ms;/* header_timeout_ms */
    int            (*stopping)(void);
    int             *keep_alive; /* set: the answer leaves the connection open;
                                  * cleared here for any answer but 201 */
} sse_ingest_io_t;

#if CONFIG_SSE_PUBLISH_BODY_MAX > 0

/** cfg.publish_token is usable (or NULL). @return SSE_OK, or SSE_ERR_ARG
 *  with a log line naming the setting and its limit. */
int sse_ingest_check(const sse_server_cfg_t *cfg);

/** 1 if @p rq is for POST /publish: publishing is on and the path is
 *  SSE_INGEST_PATH (any method: others get 405). */
int sse_ingest_wants(const sse_server_cfg_t *cfg, const sse_http_req_t *rq);

/**
 * Answer one request for SSE_INGEST_PATH through sse_reply(): check method,
 * token, Content-Type, length and query, read the body, publish it.
 * @return the status answered (201 published), or 0 when the peer left or
 *         the server stops before an answer went out.
 */
int sse_ingest_serve(sse_conn_t *c, const sse_http_req_t *rq, const sse_server_cfg_t *cfg,
                     const sse_ingest_io_t *io);

#else /* compiled out: no body buffer, no code */

#include "sse_log.h"

static inline int sse_ingest_check(const sse_server_cfg_t *cfg)
{
    if (!cfg->publish_token)
        return SSE_OK;
    SSE_LOG(SSE_LOG_ERR, "cannot start: cfg.publish_token is set, but this build has no "
            "POST /publish (CONFIG_SSE_PUBLISH_BODY_MAX is 0)");
    return SSE_ERR_ARG;
}
static inline int sse_ingest_wants(const sse_server_cfg_t *cfg, const sse_http_req_t *rq)
{ (void)cfg; (void)rq; return 0; }
static inline int sse_ingest_serve(sse_conn_t *c, const sse_http_req_t *rq,
                                   const sse_server_cfg_t *cfg, const sse_ingest_io_t *io)
{ (void)c; (void)rq; (void)cfg; (void)io; return 0; }

#endif /* CONFIG_SSE_PUBLISH_BODY_MAX */
#endif /* SSE_INGEST_H */
