/* SPDX-License-Identifier: MIT */
/* The framer's three frames behind one encoder interface (see enc_frames.h). */
#include <stdint.h>
#include "ssedge/sse_event.h"
#include "enc_frames.h"

int enc_event(char *buf, size_t cap, const void *arg, size_t *need)
{
    return sse_event_encode(buf, cap, arg, need);
}

int enc_comment(char *buf, size_t cap, const void *arg, size_t *need)
{
    return sse_event_comment(buf, cap, arg, need);
}

int enc_retry(char *buf, size_t cap, const void *arg, size_t *need)
{
    return sse_event_retry(buf, cap, *(const uint32_t *)arg, need);
}
