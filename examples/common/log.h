/* SPDX-License-Identifier: MIT */
/* Log lines for journald, shared by the daemons: "<N>NAME: message" on
 * stderr, N the syslog priority (the library's own lines look the same). */
#ifndef SSE_EXAMPLES_LOG_H
#define SSE_EXAMPLES_LOG_H

#include <stdarg.h>
#include <stdio.h>
#include <unistd.h>

/* journald reads a "<N>" line prefix as the syslog priority. */
enum { LOG_ERR = 3, LOG_WARNING = 4, LOG_NOTICE = 5, LOG_INFO = 6 };

/* One line, cut to fit; the program's logmsg() passes its name. */
static inline void log_vline(const char *name, int prio, const char *fmt, va_list ap)
{
    char line[640];
    int n = snprintf(line, sizeof line, "<%d>%s: ", prio, name), m;

    m = vsnprintf(line + n, sizeof line - (size_t)n - 1, fmt, ap);
    if (m < 0)
        m = 0;
    n += m;
    if (n > (int)sizeof line - 2)
        n = (int)sizeof line - 2;
    line[n++] = '\n';
    /* one write per line: lines from several threads never interleave */
    if (write(STDERR_FILENO, line, (size_t)n) < 0) {
        /* nowhere left to report it */
    }
}

#endif /* SSE_EXAMPLES_LOG_H */
