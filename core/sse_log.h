/* SPDX-License-Identifier: MIT */
/* Logging for core/: printf-style lines to sse_port_log(), compiled out above
 * CONFIG_SSE_LOG_LEVEL so firmware pays nothing for unused levels. */
#ifndef SSE_LOG_H
#define SSE_LOG_H

#include "sse_opt.h"
#include "sse_port.h" /* the level names */

#if defined(__GNUC__)
__attribute__((format(printf, 2, 3)))
#endif
void sse_logf(int level, const char *fmt, ...);

#define SSE_LOG(level, ...) \
    do { if ((level) <= CONFIG_SSE_LOG_LEVEL) sse_logf((level), __VA_ARGS__); } while (0)

#endif /* SSE_LOG_H */
