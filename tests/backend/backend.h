/* SPDX-License-Identifier: MIT */
/* The network stack a test or bench program runs over: the host's own (POSIX
 * port) or lwIP's, brought up here on a tap link (lwIP port). One object per
 * port is linked in, so the same suites and benches run over both. */
#ifndef SSE_TEST_BACKEND_H
#define SSE_TEST_BACKEND_H

/* Bring the stack up once per process, before sse_server_start().
 * 0 on success, -1 with a message on stderr. */
int tb_up(void);
const char *tb_name(void);        /* "posix" or "lwip" */
const char *tb_bind_addr(void);   /* what the server under test binds */
const char *tb_client_addr(void); /* where a client on this host connects */
const char *tb_client_addr6(void); /* the same over IPv6, or NULL */
/* Where a server of the test itself (a Linux socket) listens so that the
 * port's own clients (sse_port_connect, the uplink) reach it. */
const char *tb_host_addr(void);

/* ssedge's log lines, captured: tb_log_start() empties the capture and
 * sends the port's log there until tb_log_stop(); tb_log_text() is what
 * came (NUL-terminated, the first 16 KiB). */
void tb_log_start(void);
void tb_log_stop(void);
const char *tb_log_text(void);

#endif /* SSE_TEST_BACKEND_H */
