/* SPDX-License-Identifier: MIT */
/**
 * @file sse_port.h
 * @brief The port contract: everything core/ needs from an OS and IP stack.
 *
 * @defgroup sse_port Porting
 * A backend lives in port/<name>/ and provides:
 *  - port/<name>/sse_arch.h: the concrete types sse_port_sock_t,
 *    sse_port_mutex_t, sse_port_cond_t and sse_port_evt_t (core embeds them
 *    in static slots,
 *    so they are real structs, not pointers to allocated objects), and
 *    SSE_PORT_FOREVER if it wants a value other than UINT32_MAX;
 *  - every function below, in port/<name>/sse_port_<name>.c.
 *
 * General rules:
 *  - Timeouts are in milliseconds. 0 means "do not block" (try once);
 *    SSE_PORT_FOREVER means no timeout. (Unlike lwIP's sys_arch, where 0 is
 *    forever.)
 *  - Errors are sse_err_t values; a port maps its errno to them: would-block
 *    and timeout -> SSE_ERR_TIMEOUT, orderly peer close -> SSE_ERR_CLOSED,
 *    reset/other -> SSE_ERR_IO. Interrupted calls (EINTR) are retried inside.
 *  - A socket is used by one thread at a time, and only that thread closes
 *    it (lwIP deadlocks when a socket is closed under a blocked reader).
 *    Core never closes a socket another thread is blocked on.
 *  - No function may allocate from a heap after sse_port_init() unless the
 *    platform does so inside its own primitives (pthread_create does).
 *  - Writing to a socket whose peer has gone must return an error, never
 *    raise a signal that kills the process (SIGPIPE).
 * @{
 */
#ifndef SSE_PORT_H
#define SSE_PORT_H

#include <stddef.h>
#include <stdint.h>
#include "ssedge/sse_err.h"
#include "sse_arch.h"

#ifdef __cplusplus
extern "C" {
#endif

#ifndef SSE_PORT_FOREVER
#define SSE_PORT_FOREVER UINT32_MAX /**< timeout value meaning "no timeout" */
#endif

/** One-time set-up of the port (signals, stack bring-up checks).
 *  Called by sse_server_start(); must be safe to call more than once.
 *  @return SSE_OK or SSE_ERR_IO. */
int sse_port_init(void);

/* ---- sockets ---------------------------------------------------------- */

/** Initialise @p s to the "no socket" state (sse_port_sock_valid() is 0). */
void sse_port_sock_init(sse_port_sock_t *s);

/** @return 1 if @p s holds an open socket, 0 if not. */
int sse_port_sock_valid(const sse_port_sock_t *s);

/**
 * Open a TCP listener on @p addr : @p port.
 * @param addr numeric IPv4 ("0.0.0.0", "127.0.0.1") or IPv6 ("::", "::1")
 *             address; "::" accepts IPv4 too where the stack allows it.
 * @param port TCP port; 0 picks a free one (see sse_port_sock_local_port()).
 * @param backlog connections the stack may queue.
 * The listener reuses the address (SO_REUSEADDR) so a restart does not wait.
 * On failure the port logs one line (SSE_LOG_ERR) with the address, the
 * port and the stack's own reason ("Address already in use").
 * @return SSE_OK; SSE_ERR_ARG for an address that does not parse;
 *         SSE_ERR_IO if socket/bind/listen failed (port in use...).
 */
int sse_port_listen(sse_port_sock_t *ls, const char *addr, uint16_t port,
                    int backlog);

/** Room for sse_port_sock_peer(): "[" IPv6 "]:" port and the NUL. */
#define SSE_PORT_PEER_LEN 56

/** The peer of a connected socket as "192.0.2.7:51234" or "[2001:db8::7]:51234"
 *  into @p buf (for log lines); "?" when the stack cannot tell.
 *  @return @p buf. */
const char *sse_port_sock_peer(const sse_port_sock_t *s, char *buf, size_t cap);

/** @return the local TCP port of a bound socket, or 0 on error. */
uint16_t sse_port_sock_local_port(const sse_port_sock_t *s);

/**
 * Accept one connection, waiting at most @p timeout_ms.
 * @return SSE_OK with *cs open; SSE_ERR_TIMEOUT if none came;
 *         SSE_ERR_NOMEM when out of descriptors (caller backs off);
 *         SSE_ERR_IO on other errors.
 */
int sse_port_accept(sse_port_sock_t *ls, sse_port_sock_t *cs,
                    uint32_t timeout_ms);

/**
 * Receive up to @p len bytes, waiting at most @p timeout_ms for the first.
 * @return bytes received (> 0); SSE_ERR_TIMEOUT if none came in time;
 *         SSE_ERR_CLOSED on orderly close by the peer; SSE_ERR_IO on reset
 *         or error.
 */
int sse_port_recv(sse_port_sock_t *s, void *buf, size_t len,
                  uint32_t timeout_ms);

/**
 * Send all @p len bytes. Each wait for buffer space is bounded by
 * @p timeout_ms (0: no wait at all): a peer that stops reading makes this
 * fail, not hang.
 * @return SSE_OK when all bytes were handed to the stack;
 *         SSE_ERR_TIMEOUT if no progress for @p timeout_ms (some bytes may
 *         have been sent: the stream is then unusable and must be closed);
 *         SSE_ERR_CLOSED / SSE_ERR_IO if the peer is gone.
 */
int sse_port_send(sse_port_sock_t *s, const void *buf, size_t len,
                  uint32_t timeout_ms);

/**
 * Send what the stack takes now, without waiting for buffer space: the
 * fan-out path sends to many streams from one thread and must never stall
 * on a slow one.
 * @return bytes handed to the stack, 0..@p len (0: its buffer is full, or
 *         len was 0); SSE_ERR_CLOSED / SSE_ERR_IO if the peer is gone.
 */
int sse_port_try_send(sse_port_sock_t *s, const void *buf, size_t len);

/** One send of a batch: sse_port_try_send(sock, buf, len), its result in res. */
typedef struct sse_port_send {
    sse_port_sock_t *sock;
    const void      *buf;
    size_t           len;
    int              res; /**< out: what sse_port_try_send() would return */
} sse_port_send_t;

/**
 * Get ready for batches of up to @p max sends (the fan-out writer, at
 * start). A port that can hand a batch to its OS in one call sets that up
 * here; one that cannot, or finds it refused, sends them one by one.
 * @return SSE_OK (also when the batch will go one by one).
 */
int sse_port_batch_open(unsigned max);

/** Undo sse_port_batch_open() (the writer, at stop). */
void sse_port_batch_close(void);

/**
 * sse_port_try_send() on each of @p n (at most the max given to
 * sse_port_batch_open()) entries, in one call to the OS where it can. The
 * entries are on distinct sockets; each res is set. One caller at a time,
 * between sse_port_batch_open() and sse_port_batch_close().
 * @return SSE_OK.
 */
int sse_port_try_send_many(sse_port_send_t *v, unsigned n);

/**
 * Connect to @p host : @p port, for a client of ssedge (the uplink to a
 * hub). @p host is a numeric IPv4/IPv6 address or, where the stack has a
 * resolver (POSIX; lwIP with LWIP_DNS), a name; each address it resolves to
 * is tried in turn, each for at most @p timeout_ms. Name resolution itself
 * takes the resolver's own time. The socket returned blocks, like an
 * accepted one (sse_port_send/recv bound each wait).
 * @return SSE_OK with *s open; SSE_ERR_ARG for an empty host or a name
 *         this stack cannot resolve (logged); SSE_ERR_CLOSED if refused
 *         (nothing listens); SSE_ERR_TIMEOUT if no answer in time;
 *         SSE_ERR_IO for other errors (no route, name not found: logged).
 */
int sse_port_connect(sse_port_sock_t *s, const char *host, uint16_t port,
                     uint32_t timeout_ms);

/** Close @p s (no-op if not valid) and reset it to "no socket".
 *  Only the thread that uses the socket may call this. */
void sse_port_close(sse_port_sock_t *s);

/* ---- threads ---------------------------------------------------------- */

/**
 * Start a detached thread running fn(arg) with a stack of @p stack_size
 * bytes (the port may round it up, or ignore it where the OS decides).
 * No join is required of a port: the thread ends by returning from fn, and
 * core tracks its end itself.
 * @return SSE_OK, or SSE_ERR_NOMEM if the thread could not be created.
 */
int sse_port_thread_create(void (*fn)(void *), void *arg, size_t stack_size,
                           const char *name);

/* ---- mutex and condition ---------------------------------------------- */

/** @return SSE_OK or SSE_ERR_NOMEM. A mutex is not recursive. */
int  sse_port_mutex_init(sse_port_mutex_t *m);
void sse_port_mutex_destroy(sse_port_mutex_t *m);
void sse_port_mutex_lock(sse_port_mutex_t *m);
void sse_port_mutex_unlock(sse_port_mutex_t *m);

/** @return SSE_OK or SSE_ERR_NOMEM. */
int  sse_port_cond_init(sse_port_cond_t *c);
void sse_port_cond_destroy(sse_port_cond_t *c);

/**
 * Atomically release @p m and wait for a signal on @p c, at most
 * @p timeout_ms; @p m is held again on return. Spurious wake-ups are
 * allowed: callers re-check their predicate.
 * @return SSE_OK if woken (or spuriously), SSE_ERR_TIMEOUT if the time ran out.
 */
int  sse_port_cond_wait(sse_port_cond_t *c, sse_port_mutex_t *m,
                        uint32_t timeout_ms);

/** Wake at least one waiter of @p c. May be called with or without the
 *  associated mutex held; a signal with no waiter is lost (use a predicate). */
void sse_port_cond_signal(sse_port_cond_t *c);

/** Wake every waiter of @p c. Same rules as sse_port_cond_signal(). */
void sse_port_cond_broadcast(sse_port_cond_t *c);

/* ---- event count: one publisher wakes many waiters ------------------------ */

/*
 * An event count is a sequence number that waiters sleep on until it moves.
 * It lets one publish wake every interested stream with one call, instead
 * of one signal per stream (which at 1000 streams made publishing take
 * milliseconds). Each waiter gives a 32-bit interest mask; a wake with mask
 * M must wake at least every waiter whose mask intersects M (a port may
 * wake more, e.g. all of them: waiters re-check their own state).
 *
 * Use: seen = sse_port_evt_seq(e); check for work; if none,
 * sse_port_evt_wait(e, seen, mask, timeout). A wake between the two is not
 * lost, because every wake moves the sequence first.
 */

/** @return SSE_OK or SSE_ERR_NOMEM. */
int sse_port_evt_init(sse_port_evt_t *e);

/** Current sequence (acquire: work published before a wake is visible
 *  once the new sequence is seen). */
uint32_t sse_port_evt_seq(sse_port_evt_t *e);

/**
 * Sleep while the sequence still equals @p seen, at most @p timeout_ms.
 * @return SSE_OK if the sequence moved or the waiter was woken (spurious
 *         returns allowed), SSE_ERR_TIMEOUT if the time ran out.
 */
int sse_port_evt_wait(sse_port_evt_t *e, uint32_t seen, uint32_t mask,
                      uint32_t timeout_ms);

/** Advance the sequence and wake the waiters whose mask intersects @p mask.
 *  Never blocks for long; callable from any thread. */
void sse_port_evt_wake(sse_port_evt_t *e, uint32_t mask);

/* ---- time -------------------------------------------------------------- */

/** Monotonic milliseconds. May wrap at 2^32: use only differences. */
uint32_t sse_port_now_ms(void);

/** Sleep at least @p ms milliseconds. */
void sse_port_sleep_ms(uint32_t ms);

/* ---- entropy ----------------------------------------------------------- */

/** Fill @p buf with @p len bytes from a cryptographically strong source
 *  (TLS seeds its random generator from it). POSIX: getrandom(); a board:
 *  its hardware RNG. @return SSE_OK, or SSE_ERR_IO if none is available. */
int sse_port_random(void *buf, size_t len);

/* ---- log --------------------------------------------------------------- */

/* Log levels, most severe first (CONFIG_SSE_LOG_LEVEL keeps those up to
 * its value). */
#define SSE_LOG_ERR  1 /**< something failed: a start, a handshake, a handler */
#define SSE_LOG_WARN 2 /**< a client or setting was refused, with the reason */
#define SSE_LOG_INFO 3 /**< start, stop, streams dropped for being slow */
#define SSE_LOG_DBG  4 /**< detail for development */

/** Write one log line (no trailing newline in @p msg) at @p level, one of
 *  SSE_LOG_ERR .. SSE_LOG_DBG. Must be callable from any thread. */
void sse_port_log(int level, const char *msg);

#ifdef __cplusplus
}
#endif

/** @} */
#endif /* SSE_PORT_H */
