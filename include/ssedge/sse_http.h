/* SPDX-License-Identifier: MIT */
/**
 * @file sse_http.h
 * @brief Minimal, strict HTTP/1.1 request parser over a caller-owned buffer.
 *
 * picohttpparser-style: the parser is stateless and allocates nothing; every
 * string it returns points into the caller's buffer, which must outlive the
 * request. Call it again with the whole buffer each time more bytes arrive.
 *
 * Return value of sse_http_parse():
 *   > 0                 the request head is complete; this many bytes were used
 *   SSE_ERR_INCOMPLETE  need more bytes; req->status says what to answer if the
 *                       buffer is already full (414 while the request line is
 *                       unfinished, 431 after it)
 *   SSE_ERR_INVALID     malformed; req->status holds the answer (400, 505...)
 *   SSE_ERR_TOO_LARGE   a limit was passed; req->status is 414 or 431
 *   SSE_ERR_ARG         req is NULL, or buf is NULL with len > 0
 * After an error only req->status is meaningful.
 *
 * Accepted: "METHOD SP origin-form SP HTTP/1.0 (or 1.1) CRLF", "name: value CRLF"
 * (a bare LF line end is tolerated as RFC 9112 allows), blank line.
 * Rejected with 400: bare CR, NUL or other control bytes, obs-fold, a space
 * before the colon, a target that is not origin-form ("*", "http://..."),
 * two Content-Length headers, Content-Length together with Transfer-Encoding,
 * a non-numeric Content-Length, a Transfer-Encoding that does not end in
 * chunked (RFC 9112 6.1). HTTP/0.9 lines and other major versions give
 * 505 (HTTP/2's preface "PRI * HTTP/2.0" included).
 */
#ifndef SSE_HTTP_H
#define SSE_HTTP_H

#include <stddef.h>
#include <stdint.h>
#include "ssedge/sse_err.h"

#ifdef __cplusplus
extern "C" {
#endif

/** A (pointer, length) view into the request buffer; p == NULL if absent. */
typedef struct sse_str {
    const char *p;
    size_t      n;
} sse_str_t;

/** What ssedge keeps of a request. Reset by every call to sse_http_parse(). */
typedef struct sse_http_req {
    sse_str_t method;        /**< e.g. "GET" */
    sse_str_t target;        /**< whole request-target, e.g. "/events?ch=a" */
    sse_str_t path;          /**< target up to '?' */
    sse_str_t query;         /**< after '?', without it; p == NULL if none */
    int       minor_version; /**< 0 or 1 (HTTP/1.x) */
    sse_str_t accept;        /**< values of the headers ssedge uses; repeated */
    sse_str_t last_event_id; /**< Accept headers are not merged: last one wins */
    sse_str_t host;
    sse_str_t connection;
    sse_str_t origin;
    sse_str_t authorization;
    sse_str_t accept_encoding;
    int64_t   content_length;/**< -1 when absent */
    int       chunked;       /**< 1: the body is chunked (a Transfer-Encoding
                                  ending in chunked; any other is refused) */
    unsigned  num_headers;   /**< header lines seen */
    int       status;        /**< HTTP status to answer on error (see above) */
    sse_str_t head;          /**< the whole head, request line to blank line */
} sse_http_req_t;

/**
 * Parse the request head in @p buf[0..len).
 *
 * @param max_line    longest request line accepted (414 beyond it)
 * @param max_headers most header lines accepted (431 beyond it)
 * @return see the file comment.
 */
int sse_http_parse(const char *buf, size_t len, sse_http_req_t *req,
                   size_t max_line, unsigned max_headers);

/**
 * Quality with which an Accept header value admits @p type / @p subtype.
 *
 * The value is read as a list of media ranges with parameters (RFC 9110
 * 12.5.1); "type/subtype" beats "type/ *" beats "* / *" whatever their order.
 * @param explicit_only 1: ignore wildcard ranges (only an exact match counts)
 * @return q in thousandths (0..1000): 0 means not acceptable. An absent
 *         header (acc->p == NULL) returns 1000 (anything is acceptable).
 *         A malformed list returns 0.
 */
int sse_http_accept_q(sse_str_t acc, const char *type, const char *subtype,
                      int explicit_only);

/** Reason phrase of an HTTP status code ("Not Found"); "Unknown" if unknown. */
const char *sse_http_reason(int status);

/**
 * Find @p key in an application/x-www-form-urlencoded query string and return
 * its raw (still percent-encoded) value.
 * @return 1 found (*val set, possibly empty), 0 not found.
 */
int sse_http_query_get(sse_str_t query, const char *key, sse_str_t *val);

/**
 * Any header of a parsed request, by name (case-insensitive), e.g. "Cookie"
 * or "If-None-Match": the fields above are only the ones ssedge uses.
 * @return 1 with *value set to the first such line's value (spaces around
 *         it removed; it may be empty), 0 if there is none.
 */
int sse_http_header(const sse_http_req_t *req, const char *name, sse_str_t *value);

/** Case-insensitive compare of a view with a NUL-terminated string: 1 equal. */
int sse_str_ieq(sse_str_t s, const char *z);

#ifdef __cplusplus
}
#endif

#endif /* SSE_HTTP_H */
