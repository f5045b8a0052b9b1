/* SPDX-License-Identifier: MIT */
/* Log formatting (fixed stack buffer, no heap) and sse_strerror(). */
#include <stdarg.h>
#include <stdio.h>
#include "sse_log.h"
#include "sse_port.h"

void sse_logf(int level, const char *fmt, ...)
{
    char line[CONFIG_SSE_LOG_LINE];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    sse_port_log(level, line);
}

const char *sse_strerror(int err)
{
    switch (err) {
    case SSE_OK:             return "SSE_OK";
    case SSE_ERR_INVALID:    return "SSE_ERR_INVALID";
    case SSE_ERR_INCOMPLETE: return "SSE_ERR_INCOMPLETE";
    case SSE_ERR_TOO_LARGE:  return "SSE_ERR_TOO_LARGE";
    case SSE_ERR_TIMEOUT:    return "SSE_ERR_TIMEOUT";
    case SSE_ERR_CLOSED:     return "SSE_ERR_CLOSED";
    case SSE_ERR_NOMEM:      return "SSE_ERR_NOMEM";
    case SSE_ERR_IO:         return "SSE_ERR_IO";
    case SSE_ERR_ARG:        return "SSE_ERR_ARG";
    case SSE_ERR_BUSY:       return "SSE_ERR_BUSY";
    default:                 return "SSE_ERR_UNKNOWN";
    }
}
