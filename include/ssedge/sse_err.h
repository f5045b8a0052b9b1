/* SPDX-License-Identifier: MIT */
/**
 * @file sse_err.h
 * @brief Return codes shared by every ssedge function, core and port alike.
 *
 * Functions that return a count return it as a positive int and an error as one
 * of these negative values; functions that only succeed or fail return SSE_OK.
 */
#ifndef SSE_ERR_H
#define SSE_ERR_H

#ifdef __cplusplus
extern "C" {
#endif

typedef enum sse_err {
    SSE_OK             =  0, /**< success */
    SSE_ERR_INVALID    = -1, /**< malformed input (bad request, CR/LF in an id) */
    SSE_ERR_INCOMPLETE = -2, /**< more bytes are needed (parser) */
    SSE_ERR_TOO_LARGE  = -3, /**< does not fit the buffer or a configured limit */
    SSE_ERR_TIMEOUT    = -4, /**< a timed operation ran out of time */
    SSE_ERR_CLOSED     = -5, /**< peer closed, or the object is gone / stopped */
    SSE_ERR_NOMEM      = -6, /**< a static pool (slots, timers, threads) is full */
    SSE_ERR_IO         = -7, /**< a socket or OS call failed */
    SSE_ERR_ARG        = -8, /**< a caller error: NULL, out of range, wrong state */
    SSE_ERR_BUSY       = -9  /**< the server is already running */
} sse_err_t;

/** @return a constant English name for @p err ("SSE_ERR_TIMEOUT"...); never NULL. */
const char *sse_strerror(int err);

#ifdef __cplusplus
}
#endif

#endif /* SSE_ERR_H */
