/* SPDX-License-Identifier: MIT */
/* Test backend for the POSIX port: the host's loopback, nothing to bring up. */
#include "backend.h"

int tb_up(void) { return 0; }
const char *tb_name(void) { return "posix"; }
const char *tb_bind_addr(void) { return "127.0.0.1"; }
const char *tb_client_addr(void) { return "127.0.0.1"; }
const char *tb_client_addr6(void) { return "::1"; }
