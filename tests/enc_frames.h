/* SPDX-License-Identifier: MIT */
/* One encoder interface over the framer's three frames (event, comment,
 * retry), so a check written once runs on each: the framer suite's bounds
 * checks and the fuzz properties' size-query contract. */
#ifndef SSE_ENC_FRAMES_H
#define SSE_ENC_FRAMES_H

#include <stddef.h>

/* The sse_event.h contract: write into buf[0..cap), *need the frame's size. */
typedef int (*enc_fn)(char *buf, size_t cap, const void *arg, size_t *need);

int enc_event(char *buf, size_t cap, const void *arg, size_t *need);   /* arg: sse_event_t */
int enc_comment(char *buf, size_t cap, const void *arg, size_t *need); /* arg: the text */
int enc_retry(char *buf, size_t cap, const void *arg, size_t *need);   /* arg: uint32_t ms */

#endif /* SSE_ENC_FRAMES_H */
