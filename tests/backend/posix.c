/* SPDX-License-Identifier: MIT */
/* Test backend for the POSIX port: the host's loopback, nothing to bring up;
 * log capture by standing a file in for stderr, where the port writes. */
#define _GNU_SOURCE
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "backend.h"

int tb_up(void) { return 0; }
const char *tb_name(void) { return "posix"; }
const char *tb_bind_addr(void) { return "127.0.0.1"; }
const char *tb_client_addr(void) { return "127.0.0.1"; }
const char *tb_client_addr6(void) { return "::1"; }
const char *tb_host_addr(void) { return "127.0.0.1"; }

static int saved_err = -1;
static FILE *cap;
static char text[16384];

void tb_log_start(void)
{
    tb_log_stop();
    cap = tmpfile();
    if (!cap)
        return;
    fflush(stderr);
    saved_err = dup(STDERR_FILENO);
    dup2(fileno(cap), STDERR_FILENO);
}

void tb_log_stop(void)
{
    size_t n;
    if (!cap)
        return;
    fflush(stderr);
    dup2(saved_err, STDERR_FILENO);
    close(saved_err);
    saved_err = -1;
    rewind(cap);
    n = fread(text, 1, sizeof text - 1, cap);
    text[n] = 0;
    fclose(cap);
    cap = NULL;
}

const char *tb_log_text(void)
{
    return text;
}
