/* SPDX-License-Identifier: MIT */
/* The program the ssedge command runs: started in its own process group
 * (so a stop reaches whatever it started too) with its standard output and
 * error in pipes; its stderr lines become ssedge's log lines. */
#define _GNU_SOURCE /* pipe2 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/wait.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif
#include "ssedge.h"

void logmsg(int prio, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    log_vline("ssedge", prio, fmt, ap);
    va_end(ap);
}

uint64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* In the child, between fork and exec: only async-signal-safe calls. */
static void exec_child(char **argv, int out, int err)
{
    sigset_t none;
    int null = open("/dev/null", O_RDONLY);
    /* Its own process group: ssedge stops it and whatever it started. */
    setpgid(0, 0);
#ifdef __linux__
    /* ssedge killed outright (SIGKILL, OOM): the program is told too. */
    prctl(PR_SET_PDEATHSIG, SIGTERM);
#endif
    /* ssedge ignores SIGPIPE and blocks its stop signals; the program
     * starts with the defaults (an exec keeps both). */
    signal(SIGPIPE, SIG_DFL);
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    if (null < 0 || dup2(null, STDIN_FILENO) < 0 || dup2(out, STDOUT_FILENO) < 0 ||
        dup2(err, STDERR_FILENO) < 0)
        _exit(127);
    execvp(argv[0], argv);
    {
        /* Said on its stderr, which ssedge logs. */
        const char *why = strerror(errno);
        if (write(STDERR_FILENO, "cannot run ", 11) < 0 ||
            write(STDERR_FILENO, argv[0], strlen(argv[0])) < 0 ||
            write(STDERR_FILENO, ": ", 2) < 0 || write(STDERR_FILENO, why, strlen(why)) < 0 ||
            write(STDERR_FILENO, "\n", 1) < 0) {
            /* nothing to be done */
        }
    }
    _exit(127);
}

int child_start(child_t *c)
{
    int out[2], err[2];
    pid_t pid;
    if (pipe2(out, O_CLOEXEC) != 0) {
        logmsg(LOG_ERR, "cannot make a pipe for %s: %s", c->argv[0], strerror(errno));
        return -1;
    }
    if (pipe2(err, O_CLOEXEC) != 0) {
        logmsg(LOG_ERR, "cannot make a pipe for %s: %s", c->argv[0], strerror(errno));
        close(out[0]);
        close(out[1]);
        return -1;
    }
    pid = fork();
    if (pid == 0)
        exec_child(c->argv, out[1], err[1]);
    close(out[1]);
    close(err[1]);
    if (pid < 0) {
        logmsg(LOG_ERR, "cannot start %s: fork: %s", c->argv[0], strerror(errno));
        close(out[0]);
        close(err[0]);
        return -1;
    }
    setpgid(pid, pid); /* also here: no race with a signal sent right after */
    c->pid = c->pgid = pid;
    c->out = out[0];
    c->err = err[0];
    c->errlen = 0;
    c->started_ms = mono_ms();
    logmsg(LOG_INFO, "started %s (pid %ld)", c->argv[0], (long)pid);
    return 0;
}

static void err_line(child_t *c)
{
    if (c->errlen)
        logmsg(LOG_NOTICE, "%s[%ld]: %.*s", c->argv[0], (long)c->pgid, (int)c->errlen,
               c->errline);
    c->errlen = 0;
}

int child_read_err(child_t *c)
{
    char buf[512];
    ssize_t n = read(c->err, buf, sizeof buf), i;
    if (n < 0 && (errno == EINTR || errno == EAGAIN))
        return 0;
    if (n <= 0) {
        err_line(c); /* a last line without LF */
        close(c->err);
        c->err = -1;
        return -1;
    }
    for (i = 0; i < n; i++) {
        if (buf[i] == '\n' || buf[i] == '\r') {
            err_line(c);
        } else {
            if (c->errlen == sizeof c->errline)
                err_line(c); /* a very long line comes in pieces */
            c->errline[c->errlen++] = buf[i];
        }
    }
    return 0;
}

void child_subreaper(void)
{
#ifdef __linux__
    /* What CMD starts and leaves behind becomes ssedge's child, not init's:
     * ssedge reaps it, so none lingers as a zombie where init does not reap
     * (containers), and "the group is empty" can really be waited for. */
    if (prctl(PR_SET_CHILD_SUBREAPER, 1) != 0)
        logmsg(LOG_NOTICE, "not the reaper of what the program leaves (prctl: %s): init is",
               strerror(errno));
#endif
}

int child_reap(child_t *c, int *status)
{
    int found = 0, st;
    pid_t r;
    /* Every child that ended: CMD, and orphans of its group handed to us. */
    for (;;) {
        r = waitpid(-1, &st, WNOHANG);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        if (r == c->pid) {
            *status = st;
            c->pid = 0;
            found = 1;
        }
    }
    return found;
}

void child_signal(const child_t *c, int sig)
{
    if (c->pgid > 0)
        kill(-c->pgid, sig);
}

void child_close_pipes(child_t *c)
{
    if (c->out >= 0)
        close(c->out);
    if (c->err >= 0) {
        err_line(c);
        close(c->err);
    }
    c->out = c->err = -1;
}
