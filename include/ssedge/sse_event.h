/* SPDX-License-Identifier: MIT */
/**
 * @file sse_event.h
 * @brief SSE framer: encodes one event into a caller buffer (WHATWG rules).
 *
 * Output layout, always in this order: "event: <name>\n", "id: <id>\n",
 * "retry: <ms>\n", one "data: <line>\n" per line of data, then "\n".
 * Lines end with LF only, no BOM is written. Data is split at "\r\n", "\n" and
 * "\r" (each is one line break), so a browser sees exactly the data given.
 * A comment frame is ": <text>\n" per line followed by "\n".
 * Nothing here allocates, locks or depends on the configuration.
 */
#ifndef SSE_EVENT_H
#define SSE_EVENT_H

#include <stddef.h>
#include <stdint.h>
#include "ssedge/sse_err.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Fields of one event. NULL (or has_id_num/has_retry = 0) leaves a field out. */
typedef struct sse_event {
    const char *event;     /**< event type, NUL-terminated; NULL = none ("message") */
    const char *id;        /**< id text, NUL-terminated; NULL = none. See id_num. */
    uint64_t    id_num;    /**< numeric id, written in decimal when has_id_num */
    int         has_id_num;/**< 1: write id_num (id must then be NULL) */
    uint32_t    retry_ms;  /**< reconnection time hint */
    int         has_retry; /**< 1: write "retry: retry_ms" */
    const char *data;      /**< payload (UTF-8), any line breaks; NULL = no data lines */
    size_t      data_len;  /**< bytes at data; 0 with data != NULL gives one "data: \n" */
} sse_event_t;

/**
 * Encode @p ev into @p buf.
 *
 * The event name and id are NUL-terminated, so cannot hold NUL; they must not
 * contain CR or LF (a browser would split the field) and, like data, must be
 * valid UTF-8. An event without data is legal on the wire but a browser does
 * not dispatch it.
 *
 * @param buf  destination; may be NULL when @p cap is 0 (size query)
 * @param cap  bytes available at @p buf
 * @param ev   the event
 * @return bytes written (> 0) on success;
 *         SSE_ERR_INVALID if the event name or id contains CR or LF, the
 *         event name is "" (pass NULL for "message"), any field is not valid
 *         UTF-8, id and has_id_num are both set, or the event has no field;
 *         SSE_ERR_ARG if @p ev is NULL, or @p buf is NULL with @p cap > 0;
 *         SSE_ERR_TOO_LARGE if @p cap is too small: nothing beyond @p cap is
 *         written and *need (when not NULL) receives the exact size needed.
 */
int sse_event_encode(char *buf, size_t cap, const sse_event_t *ev, size_t *need);

/**
 * Encode a comment frame (used for heartbeats): ": text\n" per line of
 * @p text (split like data), then "\n". A NULL or empty text gives ":\n\n".
 * @return bytes written, or SSE_ERR_TOO_LARGE (with *need set) as above.
 */
int sse_event_comment(char *buf, size_t cap, const char *text, size_t *need);

/**
 * Encode only "retry: <ms>\n\n" (the overload back-off frame).
 * @return bytes written; SSE_ERR_TOO_LARGE (with *need set); SSE_ERR_ARG if
 *         @p buf is NULL with @p cap > 0.
 */
int sse_event_retry(char *buf, size_t cap, uint32_t retry_ms, size_t *need);

/**
 * Check that @p s (length @p n) is valid UTF-8 (no overlongs, no surrogates,
 * nothing above U+10FFFF). @return 1 if valid, 0 if not.
 */
int sse_utf8_valid(const char *s, size_t n);

#ifdef __cplusplus
}
#endif

#endif /* SSE_EVENT_H */
