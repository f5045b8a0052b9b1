/* SPDX-License-Identifier: MIT */
/* Command-line parsing shared by the example programs: strict numbers and
 * addresses, and one-line errors ("prog: --flag: what it accepts", exit 2). */
#ifndef SSE_EXAMPLES_ARGS_H
#define SSE_EXAMPLES_ARGS_H

#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Exit status for a command line the program does not accept. */
#define ARGS_EXIT_USAGE 2

#if defined(__GNUC__)
#define ARGS_NORETURN __attribute__((noreturn))
#define ARGS_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define ARGS_NORETURN
#define ARGS_PRINTF(f, a)
#endif

/* One pass over argv: args_next() steps to each flag, the value readers
 * take the word after it and name the flag when they refuse it. */
typedef struct args {
    const char *prog; /* name at the start of every message */
    void (*help)(void); /* prints the usage for --help and -h */
    int argc;
    char **argv;
    int i;            /* index of the current flag */
    const char *flag; /* the current flag */
} args_t;

static inline void args_init(args_t *a, const char *prog, void (*help)(void), int argc,
                             char **argv)
{
    a->prog = prog;
    a->help = help;
    a->argc = argc;
    a->argv = argv;
    a->i = 0;
    a->flag = "";
}

static inline int args_is(const args_t *a, const char *name)
{
    return strcmp(a->flag, name) == 0;
}

/* The next flag, or NULL once every word is read. --help and -h print the
 * usage and exit 0 here, before any thread exists. */
static inline const char *args_next(args_t *a)
{
    if (a->i + 1 >= a->argc)
        return NULL;
    a->flag = a->argv[++a->i];
    if (args_is(a, "--help") || args_is(a, "-h")) {
        a->help();
        exit(0);
    }
    return a->flag;
}

/* "prog: FLAG: message" on stderr, then exit 2: one line that says what
 * was wrong, instead of a usage screen to search. */
ARGS_NORETURN ARGS_PRINTF(3, 4)
static inline void args_fail_flag(const args_t *a, const char *flag, const char *fmt, ...)
{
    char msg[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    fprintf(stderr, "%s: %s: %s\n", a->prog, flag, msg);
    exit(ARGS_EXIT_USAGE);
}

/* Refuse the current flag's value. */
#define args_fail(a, ...) args_fail_flag((a), (a)->flag, __VA_ARGS__)

/* The current word is no flag this program has. */
ARGS_NORETURN
static inline void args_unknown(const args_t *a)
{
    args_fail(a, "%s (%s --help lists the flags)",
              a->flag[0] == '-' ? "unknown flag" : "unexpected argument", a->prog);
}

/* The current flag's value; @p accepts says what it takes, for the error
 * when it is missing (the end of argv, or another flag). */
static inline const char *args_str(args_t *a, const char *accepts)
{
    const char *v;
    if (a->i + 1 >= a->argc)
        args_fail(a, "needs a value: %s", accepts);
    v = a->argv[a->i + 1];
    if (v[0] == '-' && v[1] == '-')
        args_fail(a, "needs a value: %s (got the flag %s)", accepts, v);
    a->i++;
    return v;
}

/* @p s as a whole decimal number in lo..hi: digits with an optional '-',
 * nothing before or after (strtol alone takes " 8", "8x" and "+8", and
 * wraps what does not fit). @return 0, or -1 with *out unchanged. */
static inline int args_parse_long(const char *s, long lo, long hi, long *out)
{
    const char *d = s[0] == '-' ? s + 1 : s;
    char *end;
    long v;

    if (*d < '0' || *d > '9')
        return -1;
    errno = 0;
    v = strtol(s, &end, 10);
    if (*end != '\0' || errno == ERANGE || v < lo || v > hi)
        return -1;
    *out = v;
    return 0;
}

/* The current flag's value as a number in lo..hi. */
static inline long args_long(args_t *a, long lo, long hi)
{
    const char *s;
    long v = 0;
    if (a->i + 1 >= a->argc)
        args_fail(a, "needs a value: a number %ld..%ld", lo, hi);
    s = a->argv[++a->i];
    if (args_parse_long(s, lo, hi, &v) != 0)
        args_fail(a, "\"%s\" is not a number %ld..%ld", s, lo, hi);
    return v;
}

/* The current flag's value as a numeric IPv4 or IPv6 address (ssedge
 * binds what it is given and resolves no names). */
static inline const char *args_addr(args_t *a)
{
    const char *s = args_str(a, "a numeric IPv4 or IPv6 address");
    unsigned char buf[16];
    if (inet_pton(AF_INET, s, buf) != 1 && inet_pton(AF_INET6, s, buf) != 1)
        args_fail(a, "\"%s\" is not a numeric IPv4 or IPv6 address"
                  " (e.g. 0.0.0.0, 127.0.0.1, ::, ::1)", s);
    return s;
}

/* @p addr as the host part of a URL: IPv6 in brackets ("[::1]"). */
static inline const char *args_url_host(char *buf, size_t size, const char *addr)
{
    int v6 = strchr(addr, ':') != NULL;
    snprintf(buf, size, "%s%s%s", v6 ? "[" : "", addr, v6 ? "]" : "");
    return buf;
}

#endif /* SSE_EXAMPLES_ARGS_H */
