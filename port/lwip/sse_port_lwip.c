/* SPDX-License-Identifier: MIT */
/* lwIP port: lwIP's sockets API and sys_arch (threads, mutexes, binary
 * semaphores, sys_now) behind sse_port.h. No POSIX call and no heap of its
 * own: everything goes through lwip_* socket calls and sys_* primitives
 * (which may allocate inside, as lwIP's ports do). */

/* Debian's hosted lwIP: its arch/cc.h includes <sys/types.h> (which has
 * ssize_t), then lwip/arch.h typedefs ssize_t itself unless SSIZE_MAX is
 * known, and strict -std=c99 hides SSIZE_MAX. Asking for POSIX
 * declarations makes the two agree; nothing POSIX is called. A board's
 * toolchain is not __unix__ and is untouched. */
#if defined(__unix__) && !defined(_POSIX_C_SOURCE)
#define _POSIX_C_SOURCE 200112L
#endif

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "sse_opt.h"
#include "sse_port.h"
#include "sse_atomic.h"

#if defined(CONFIG_SSE_PORT_LWIP)

/* lwIP's headers, and a board's arch/cc.h and lwipopts.h, are not promised
 * to be -Wundef/-Wshadow clean (`#if SOME_OPTION` on names a port leaves
 * undefined); those two warnings are off inside them only, on for this
 * file's own code. (Debian's 2.1.3 headers happen to be clean.) */
#if defined(__GNUC__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wundef"
#pragma GCC diagnostic ignored "-Wshadow"
#endif
#include "lwip/opt.h"
#include "lwip/arch.h"
#include "lwip/sys.h"
#include "lwip/err.h"
#include "lwip/errno.h"
#include "lwip/ip_addr.h"
#include "lwip/inet.h"
#include "lwip/def.h"
#include "lwip/sockets.h"
#include "lwip/netdb.h"
#if defined(__GNUC__)
#pragma GCC diagnostic pop
#endif

/* ---- what lwipopts.h must give us ---------------------------------------- */

#if NO_SYS
#error "the ssedge lwIP port needs an OS: set NO_SYS=0 in lwipopts.h"
#endif
#if !LWIP_SOCKET
#error "the ssedge lwIP port uses lwIP's sockets API: set LWIP_SOCKET=1 in lwipopts.h"
#endif
#if !LWIP_SO_RCVTIMEO
#error "ssedge wakes its threads with receive timeouts: set LWIP_SO_RCVTIMEO=1 in lwipopts.h"
#endif
#if !LWIP_SO_SNDTIMEO
#error "ssedge bounds every send: set LWIP_SO_SNDTIMEO=1 in lwipopts.h"
#endif
#if !LWIP_TCP
#error "ssedge serves HTTP over TCP: set LWIP_TCP=1 in lwipopts.h"
#endif
/* One socket per connection slot plus the listener. MEMP_NUM_NETCONN is the
 * size of lwIP's socket table (NUM_SOCKETS); a client arriving when every
 * slot is busy needs one more for the overload answer (else lwip_accept
 * fails with ENFILE and the client sees a reset, which a browser also
 * retries). make reads the same value before compiling anything; Kconfig's
 * SSE_LWIP_NETCONN_CHECK turns both off for an lwIP whose socket table is
 * not bounded by MEMP_NUM_NETCONN (Debian's hosted one). */
#if defined(MEMP_NUM_NETCONN) && CONFIG_SSE_LWIP_NETCONN_CHECK
#if MEMP_NUM_NETCONN < CONFIG_SSE_MAX_CONNECTIONS + 1
#error "MEMP_NUM_NETCONN must be at least CONFIG_SSE_MAX_CONNECTIONS + 1 (slots + listener): raise it in lwipopts.h or lower CONFIG_SSE_MAX_CONNECTIONS"
#endif
#endif

/* The sse_port_mutex_t storage of sse_arch.h must hold a sys_mutex_t. */
typedef char sse_lwip_mutex_fits[sizeof(sys_mutex_t) <= SSE_LWIP_MUTEX_BYTES ? 1 : -1];

#define MTX(pm) ((sys_mutex_t *)(void *)(pm)->m.bytes)

/* lwIP's sys_arch_sem_wait() timeout: 0 means forever there. */
#define LWIP_FOREVER 0u

/* What a board does when a thread function returns. A FreeRTOS task must
 * never return: it deletes itself. lwIP's unix port (Debian's hosted lwIP,
 * its arch/cc.h names the system) runs threads on pthreads it never joins
 * nor detaches: returning would end the thread but keep its stack mapped
 * (8 MiB of address space per connection, 8 GiB after 1000 connections).
 * Detached, it goes back to the C library. A board may define
 * SSE_LWIP_THREAD_EXIT() for other RTOSes. */
#if !defined(SSE_LWIP_THREAD_EXIT)
#if defined(INC_FREERTOS_H) && defined(INC_TASK_H)
#define SSE_LWIP_THREAD_EXIT() vTaskDelete(NULL)
#elif defined(LWIP_UNIX_LINUX) || defined(LWIP_UNIX_HURD) || defined(LWIP_UNIX_KFREEBSD) || \
    defined(LWIP_UNIX_MACH) || defined(LWIP_UNIX_OPENBSD) || defined(LWIP_UNIX_CYGWIN) ||    \
    defined(LWIP_UNIX_ANDROID)
#include <pthread.h>
#define SSE_LWIP_THREAD_EXIT() (void)pthread_detach(pthread_self())
#else
#define SSE_LWIP_THREAD_EXIT() do { } while (0)
#endif
#endif

/* ---- the waiter pool ---------------------------------------------------------
 *
 * lwIP offers mutexes and semaphores but no condition variable, and
 * Debian's unix port has BINARY semaphores (a signal caps the count at 1),
 * so "one semaphore per condition, signal it N times for N waiters" loses
 * wake-ups. Instead every parked thread gets a semaphore of its own:
 *
 *  - a static pool of waiter slots, each with one binary sys_sem created
 *    once (first sse_port_*_init), never freed;
 *  - a waiter takes a free slot and links it at the tail of the
 *    condition's list (both under pool_lock), while it still holds the
 *    caller's mutex; only then releases that mutex and waits on its own
 *    semaphore. A signal after the release finds the slot linked, so no
 *    wake-up is lost;
 *  - signal unlinks the head slot, marks it signalled and signals its
 *    semaphore, all under pool_lock; broadcast does that to every slot;
 *    an event-count wake to every slot whose interest mask intersects;
 *  - with one waiter per semaphore a binary semaphore loses nothing: it
 *    is signalled at most once per linking;
 *  - a signal racing a timeout: the waiter's sem wait times out, then it
 *    takes pool_lock. If the slot is still linked nobody signalled it: it
 *    unlinks itself and reports the timeout. If it is not linked, a
 *    signaller chose it and (under pool_lock, before we got the lock)
 *    signalled its semaphore, so the count is exactly 1: the waiter takes
 *    it (returns at once) and reports a wake-up. A slot thus goes back to
 *    the free list with a count of 0, and no stale count ever makes a later
 *    wait return spuriously; the signal is not lost either, it woke this
 *    waiter.
 *
 * Lock order: caller's mutex, then pool_lock. Signal and broadcast take
 * only pool_lock, so they may be called with or without the caller's mutex.
 *
 * Size: the threads that can be parked at one time are the connection
 * threads (CONFIG_SSE_MAX_CONNECTIONS, each parked on its own condition
 * or in sse_timer_del), the listener (its back-off sleep uses a slot too),
 * the timer thread, the fan-out writer, the thread in sse_server_stop() and
 * an application thread in sse_timer_del(): MAX_CONNECTIONS + 5. More application threads
 * waiting at once do not break anything: a wait that finds the pool empty
 * sleeps a short while and returns as a spurious wake-up (allowed by the
 * contract; callers re-check), so the pool size only decides efficiency.
 */
#ifndef SSE_LWIP_WAITERS
#define SSE_LWIP_WAITERS (CONFIG_SSE_MAX_CONNECTIONS + 5)
#endif
/* Poll period of a wait that found no free slot. */
#define SSE_LWIP_POLL_MS 10u

struct sse_lwip_waiter {
    sys_sem_t               sem;
    struct sse_lwip_waiter *next, *prev; /* in a cond's list or the free list */
    sse_port_cond_t        *cond;        /* linked into, NULL otherwise */
    uint32_t                mask;        /* event-count interest, all ones for conds */
    int                     signaled;
};

static struct sse_lwip_waiter pool[SSE_LWIP_WAITERS];
static struct sse_lwip_waiter *pool_free;
static sys_mutex_t pool_lock;

/* Thread start hand-off (see sse_port_thread_create). */
static sys_mutex_t spawn_lock;
static sys_sem_t   spawn_taken;
static struct {
    void (*fn)(void *);
    void *arg;
} spawn;

static int pool_state; /* atomic: 0 none, 1 being created, 2 ready */

static void (*log_hook)(int level, const char *msg);
static int (*random_hook)(void *buf, size_t len);

/* Create the pool and the port's own locks once, whoever comes first. */
static int pool_init(void)
{
    int expected = 0;
    unsigned i, made = 0;

    if (__atomic_load_n(&pool_state, __ATOMIC_ACQUIRE) == 2)
        return SSE_OK;
    if (!__atomic_compare_exchange_n(&pool_state, &expected, 1, 0, __ATOMIC_ACQ_REL,
                                     __ATOMIC_ACQUIRE)) {
        /* Another thread is creating it: wait for its result. */
        while (__atomic_load_n(&pool_state, __ATOMIC_ACQUIRE) == 1)
            sys_msleep(1);
        return __atomic_load_n(&pool_state, __ATOMIC_ACQUIRE) == 2 ? SSE_OK : SSE_ERR_NOMEM;
    }
    if (sys_mutex_new(&pool_lock) != ERR_OK)
        goto fail0;
    if (sys_mutex_new(&spawn_lock) != ERR_OK)
        goto fail1;
    if (sys_sem_new(&spawn_taken, 0) != ERR_OK)
        goto fail2;
    pool_free = NULL;
    for (made = 0; made < SSE_LWIP_WAITERS; made++) {
        struct sse_lwip_waiter *w = &pool[made];
        if (sys_sem_new(&w->sem, 0) != ERR_OK)
            goto fail3;
        w->cond = NULL;
        w->prev = NULL;
        w->next = pool_free;
        pool_free = w;
    }
    __atomic_store_n(&pool_state, 2, __ATOMIC_RELEASE);
    return SSE_OK;
fail3:
    for (i = 0; i < made; i++)
        sys_sem_free(&pool[i].sem);
    sys_sem_free(&spawn_taken);
fail2:
    sys_mutex_free(&spawn_lock);
fail1:
    sys_mutex_free(&pool_lock);
fail0:
    __atomic_store_n(&pool_state, 0, __ATOMIC_RELEASE);
    return SSE_ERR_NOMEM;
}

/* pool_lock held. */
static void cond_link(sse_port_cond_t *c, struct sse_lwip_waiter *w)
{
    w->cond = c;
    w->next = NULL;
    w->prev = c->tail;
    if (c->tail)
        c->tail->next = w;
    else
        c->head = w;
    c->tail = w;
}

/* pool_lock held. */
static void cond_unlink(struct sse_lwip_waiter *w)
{
    sse_port_cond_t *c = w->cond;
    if (w->prev)
        w->prev->next = w->next;
    else
        c->head = w->next;
    if (w->next)
        w->next->prev = w->prev;
    else
        c->tail = w->prev;
    w->next = w->prev = NULL;
    w->cond = NULL;
}

/* pool_lock held: unlink @p w and wake it (its semaphore was at 0). */
static void wake_one(struct sse_lwip_waiter *w)
{
    cond_unlink(w);
    w->signaled = 1;
    sys_sem_signal(&w->sem);
}

/* pool_lock held. */
static struct sse_lwip_waiter *slot_take(void)
{
    struct sse_lwip_waiter *w = pool_free;
    if (w)
        pool_free = w->next;
    return w;
}

/* pool_lock held; @p w unlinked and its semaphore at 0. */
static void slot_give(struct sse_lwip_waiter *w)
{
    w->next = pool_free;
    w->prev = NULL;
    pool_free = w;
}

/* Release @p m, wait for a wake-up of @p c that concerns @p mask, take @p m
 * again. */
static int cond_wait_mask(sse_port_cond_t *c, sse_port_mutex_t *m, uint32_t mask,
                          uint32_t timeout_ms)
{
    struct sse_lwip_waiter *w;
    u32_t r;
    int res;

    if (timeout_ms == 0) {
        /* Do not block: give others a chance at the mutex, report the
         * (empty) wait as timed out. */
        sys_mutex_unlock(MTX(m));
        sys_mutex_lock(MTX(m));
        return SSE_ERR_TIMEOUT;
    }
    sys_mutex_lock(&pool_lock);
    w = slot_take();
    if (!w) {
        /* More parked threads than slots: poll instead (a spurious
         * wake-up as far as the caller knows). */
        uint32_t nap = timeout_ms < SSE_LWIP_POLL_MS ? timeout_ms : SSE_LWIP_POLL_MS;
        sys_mutex_unlock(&pool_lock);
        sys_mutex_unlock(MTX(m));
        sys_msleep(nap);
        sys_mutex_lock(MTX(m));
        return nap == timeout_ms ? SSE_ERR_TIMEOUT : SSE_OK;
    }
    w->signaled = 0;
    w->mask = mask;
    cond_link(c, w);
    sys_mutex_unlock(&pool_lock);
    sys_mutex_unlock(MTX(m));

    r = sys_arch_sem_wait(&w->sem, timeout_ms == SSE_PORT_FOREVER ? LWIP_FOREVER
                                                                   : (u32_t)timeout_ms);

    sys_mutex_lock(&pool_lock);
    if (!w->signaled) {
        /* Timed out and nobody chose us (r is SYS_ARCH_TIMEOUT). */
        cond_unlink(w);
        res = SSE_ERR_TIMEOUT;
    } else {
        if (r == SYS_ARCH_TIMEOUT)
            /* Chosen after our timeout: the count is 1 (signalled under
             * pool_lock before we took it). Take it so the slot goes back
             * clean; this returns at once. */
            (void)sys_arch_sem_wait(&w->sem, LWIP_FOREVER);
        res = SSE_OK;
    }
    slot_give(w);
    sys_mutex_unlock(&pool_lock);
    sys_mutex_lock(MTX(m));
    return res;
}

/* Wake the waiters of @p c whose mask intersects @p mask (all if 0),
 * at most @p max of them. */
static void cond_wake(sse_port_cond_t *c, uint32_t mask, unsigned max)
{
    struct sse_lwip_waiter *w, *next;
    if (mask == 0)
        mask = 0xFFFFFFFFu;
    sys_mutex_lock(&pool_lock);
    for (w = c->head; w && max > 0; w = next) {
        next = w->next;
        if (w->mask & mask) {
            wake_one(w);
            max--;
        }
    }
    sys_mutex_unlock(&pool_lock);
}

/* ---- init ----------------------------------------------------------------- */

int sse_port_init(void)
{
    /* lwIP never raises SIGPIPE: a send to a gone peer returns an error.
     * The stack itself (tcpip_init, netifs) is the application's to bring
     * up before sse_server_start(). */
    return pool_init() == SSE_OK ? SSE_OK : SSE_ERR_IO;
}

/* ---- sockets ------------------------------------------------------------ */

void sse_port_sock_init(sse_port_sock_t *s)
{
    s->fd = -1;
    s->rcv_to = 0;
    s->snd_to = 0;
}

int sse_port_sock_valid(const sse_port_sock_t *s)
{
    return s->fd >= 0;
}

/* errno after a failed lwip_* call, as an sse_err_t. */
static int map_errno(int e)
{
    switch (e) {
    case EAGAIN:
#if EWOULDBLOCK != EAGAIN
    case EWOULDBLOCK:
#endif
    case ETIMEDOUT:
        return SSE_ERR_TIMEOUT;
    case ENOTCONN: /* lwIP: ERR_CLSD, the connection was closed */
    case EPIPE:
        return SSE_ERR_CLOSED;
    case ENFILE:
    case EMFILE:
    case ENOBUFS:
    case ENOMEM:
        return SSE_ERR_NOMEM;
    default:
        return SSE_ERR_IO;
    }
}

/* Set SO_RCVTIMEO / SO_SNDTIMEO to @p ms (SSE_PORT_FOREVER = none) unless
 * the socket already has it: a stream sends with the same timeout every
 * time, and each setsockopt is a round trip through lwIP's socket lock.
 * lwIP takes a struct timeval, or an int of milliseconds when built with
 * LWIP_SO_SNDRCVTIMEO_NONSTANDARD; 0 means "no timeout" for both. */
static int set_timeo(int fd, int opt, uint32_t *cached, uint32_t ms)
{
#if LWIP_SO_SNDRCVTIMEO_NONSTANDARD
    int v;
#else
    struct timeval v;
#endif
    if (*cached == ms)
        return SSE_OK;
#if LWIP_SO_SNDRCVTIMEO_NONSTANDARD
    v = ms == SSE_PORT_FOREVER ? 0 : ms > 0x7FFFFFFFu ? 0x7FFFFFFF : (int)ms;
#else
    memset(&v, 0, sizeof v);
    if (ms != SSE_PORT_FOREVER) {
        v.tv_sec = (long)(ms / 1000u);
        v.tv_usec = (long)(ms % 1000u) * 1000L;
    }
#endif
    if (lwip_setsockopt(fd, SOL_SOCKET, opt, &v, (socklen_t)sizeof v) != 0)
        return map_errno(errno);
    *cached = ms;
    return SSE_OK;
}

/* Parse a numeric address into a sockaddr for lwip_bind. */
static int make_addr(const char *addr, uint16_t port, struct sockaddr_storage *ss,
                     socklen_t *len, int *family)
{
    ip_addr_t ip;
    memset(ss, 0, sizeof *ss);
    if (!addr || !*addr)
#if LWIP_IPV4
        addr = "0.0.0.0";
#else
        addr = "::";
#endif
    if (!ipaddr_aton(addr, &ip))
        return SSE_ERR_ARG;
#if LWIP_IPV6
    if (IP_IS_V6(&ip)) {
        struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)(void *)ss;
        sin6->sin6_family = AF_INET6;
        sin6->sin6_port = lwip_htons(port);
        /* 16 bytes in network order on both sides (lwIP's
         * inet6_addr_from_ip6addr needs glibc's non-standard s6_addr32). */
        memcpy(&sin6->sin6_addr, ip_2_ip6(&ip)->addr, 16);
        *len = (socklen_t)sizeof *sin6;
        *family = AF_INET6;
        return SSE_OK;
    }
#endif
#if LWIP_IPV4
    {
        struct sockaddr_in *sin = (struct sockaddr_in *)(void *)ss;
        sin->sin_family = AF_INET;
        sin->sin_port = lwip_htons(port);
        inet_addr_from_ip4addr(&sin->sin_addr, ip_2_ip4(&ip));
        *len = (socklen_t)sizeof *sin;
        *family = AF_INET;
        return SSE_OK;
    }
#else
    return SSE_ERR_ARG;
#endif
}

static void listen_failed(const char *addr, uint16_t port, const char *why, int err)
{
    char msg[CONFIG_SSE_LOG_LINE];
    if (err)
        snprintf(msg, sizeof msg, "cannot listen on %s port %u: %s (lwIP errno %d)",
                 addr && *addr ? addr : "*", (unsigned)port, why, err);
    else
        snprintf(msg, sizeof msg, "cannot listen on %s port %u: %s",
                 addr && *addr ? addr : "*", (unsigned)port, why);
    sse_port_log(SSE_LOG_ERR, msg);
}

int sse_port_listen(sse_port_sock_t *ls, const char *addr, uint16_t port,
                    int backlog)
{
    struct sockaddr_storage ss;
    socklen_t len = 0;
    int fd, family = AF_INET;

    sse_port_sock_init(ls);
    if (make_addr(addr, port, &ss, &len, &family) != SSE_OK) {
        listen_failed(addr, port, "not a numeric IPv4 or IPv6 address", 0);
        return SSE_ERR_ARG;
    }
    fd = lwip_socket(family, SOCK_STREAM, 0);
    if (fd < 0) {
        listen_failed(addr, port, "no socket (MEMP_NUM_NETCONN?)", errno);
        return SSE_ERR_IO;
    }
#if SO_REUSE
    {
        int one = 1;
        (void)lwip_setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, (socklen_t)sizeof one);
    }
#endif
    /* "::" accepts IPv4 too: lwIP binds an AF_INET6 socket without
     * IPV6_V6ONLY on "::" to IP_ANY_TYPE (dual stack). */
    if (lwip_bind(fd, (struct sockaddr *)(void *)&ss, len) != 0 ||
        lwip_listen(fd, backlog) != 0) {
        int e = errno;
        listen_failed(addr, port, e == EADDRINUSE ? "address in use" : "bind/listen failed", e);
        lwip_close(fd);
        return SSE_ERR_IO;
    }
    ls->fd = fd;
    return SSE_OK;
}

const char *sse_port_sock_peer(const sse_port_sock_t *s, char *buf, size_t cap)
{
    struct sockaddr_storage ss;
    socklen_t len = (socklen_t)sizeof ss;
    char ip[48];
    ip_addr_t a;
    snprintf(buf, cap, "?");
    if (s->fd < 0 || lwip_getpeername(s->fd, (struct sockaddr *)(void *)&ss, &len) != 0)
        return buf;
#if LWIP_IPV4
    if (ss.ss_family == AF_INET) {
        const struct sockaddr_in *sin = (const struct sockaddr_in *)(const void *)&ss;
        ip_addr_set_zero_ip4(&a);
        inet_addr_to_ip4addr(ip_2_ip4(&a), &sin->sin_addr);
        if (ipaddr_ntoa_r(&a, ip, (int)sizeof ip))
            snprintf(buf, cap, "%s:%u", ip, (unsigned)lwip_ntohs(sin->sin_port));
        return buf;
    }
#endif
#if LWIP_IPV6
    if (ss.ss_family == AF_INET6) {
        const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)(const void *)&ss;
        ip_addr_set_zero_ip6(&a);
        memcpy(ip_2_ip6(&a)->addr, &sin6->sin6_addr, 16);
        if (ipaddr_ntoa_r(&a, ip, (int)sizeof ip))
            snprintf(buf, cap, "[%s]:%u", ip, (unsigned)lwip_ntohs(sin6->sin6_port));
    }
#endif
    (void)a;
    (void)ip;
    return buf;
}

uint16_t sse_port_sock_local_port(const sse_port_sock_t *s)
{
    struct sockaddr_storage ss;
    socklen_t len = (socklen_t)sizeof ss;
    if (s->fd < 0 || lwip_getsockname(s->fd, (struct sockaddr *)(void *)&ss, &len) != 0)
        return 0;
#if LWIP_IPV4
    if (ss.ss_family == AF_INET)
        return lwip_ntohs(((struct sockaddr_in *)(void *)&ss)->sin_port);
#endif
#if LWIP_IPV6
    if (ss.ss_family == AF_INET6)
        return lwip_ntohs(((struct sockaddr_in6 *)(void *)&ss)->sin6_port);
#endif
    return 0;
}

int sse_port_accept(sse_port_sock_t *ls, sse_port_sock_t *cs,
                    uint32_t timeout_ms)
{
    int r;
    sse_port_sock_init(cs);
    /* lwip_accept waits as long as the listener's receive timeout; it has
     * no "don't block" flag, so 0 becomes the shortest wait. */
    r = set_timeo(ls->fd, SO_RCVTIMEO, &ls->rcv_to, timeout_ms ? timeout_ms : 1);
    if (r != SSE_OK)
        return SSE_ERR_IO;
    for (;;) {
        int fd = lwip_accept(ls->fd, NULL, NULL);
        if (fd >= 0) {
            int one = 1;
            /* Events are small and latency matters more than segments. */
            (void)lwip_setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, (socklen_t)sizeof one);
            cs->fd = fd;
            return SSE_OK;
        }
        if (errno == EINTR)
            continue;
        if (errno == ECONNABORTED)
            return SSE_ERR_TIMEOUT; /* the peer gave up before we took it */
        r = map_errno(errno);
        return r == SSE_ERR_CLOSED ? SSE_ERR_IO : r;
    }
}

/* Wait until connecting fd finishes, at most timeout_ms. 0 when it did. */
static int connect_wait(int fd, uint32_t timeout_ms)
{
#if LWIP_SOCKET_POLL
    struct pollfd p;
    int to = timeout_ms > 0x7FFFFFFFu ? 0x7FFFFFFF : (int)timeout_ms;
    p.fd = fd;
    p.events = POLLOUT;
    p.revents = 0;
    return lwip_poll(&p, 1, to) > 0 ? 0 : SSE_ERR_TIMEOUT;
#elif LWIP_SOCKET_SELECT
    fd_set w;
    struct timeval tv;
    FD_ZERO(&w);
    FD_SET(fd, &w);
    tv.tv_sec = (long)(timeout_ms / 1000u);
    tv.tv_usec = (long)(timeout_ms % 1000u) * 1000L;
    return lwip_select(fd + 1, NULL, &w, NULL, &tv) > 0 ? 0 : SSE_ERR_TIMEOUT;
#else
#error "sse_port_connect needs LWIP_SOCKET_POLL or LWIP_SOCKET_SELECT in lwipopts.h"
#endif
}

int sse_port_connect(sse_port_sock_t *s, const char *host, uint16_t port,
                     uint32_t timeout_ms)
{
    struct sockaddr_storage ss;
    socklen_t len = 0;
    int fd, family = AF_INET, err = 0, flags, r;
    socklen_t el = (socklen_t)sizeof err;
    char msg[CONFIG_SSE_LOG_LINE];

    sse_port_sock_init(s);
    if (!host || !*host)
        return SSE_ERR_ARG;
    if (make_addr(host, port, &ss, &len, &family) != SSE_OK) {
#if LWIP_DNS
        struct addrinfo hints, *ai = NULL;
        char portstr[8];
        memset(&hints, 0, sizeof hints);
        hints.ai_family = AF_UNSPEC;
        hints.ai_socktype = SOCK_STREAM;
        snprintf(portstr, sizeof portstr, "%u", (unsigned)port);
        if (lwip_getaddrinfo(host, portstr, &hints, &ai) != 0 || !ai) {
            snprintf(msg, sizeof msg, "cannot resolve %s (lwIP DNS)", host);
            sse_port_log(SSE_LOG_WARN, msg);
            return SSE_ERR_IO;
        }
        memcpy(&ss, ai->ai_addr, ai->ai_addrlen);
        len = (socklen_t)ai->ai_addrlen;
        family = ai->ai_family;
        lwip_freeaddrinfo(ai);
#else
        snprintf(msg, sizeof msg, "cannot resolve %s: lwIP built without LWIP_DNS, "
                 "give a numeric address", host);
        sse_port_log(SSE_LOG_WARN, msg);
        return SSE_ERR_ARG;
#endif
    }
    fd = lwip_socket(family, SOCK_STREAM, 0);
    if (fd < 0)
        return SSE_ERR_NOMEM;
    flags = lwip_fcntl(fd, F_GETFL, 0);
    (void)lwip_fcntl(fd, F_SETFL, flags | O_NONBLOCK);
    if (lwip_connect(fd, (struct sockaddr *)(void *)&ss, len) != 0) {
        if (errno != EINPROGRESS && errno != EINTR)
            err = errno;
        else if ((r = connect_wait(fd, timeout_ms)) != 0) {
            lwip_close(fd);
            return r;
        } else if (lwip_getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &el) != 0)
            err = errno;
    }
    if (err) {
        lwip_close(fd);
        return err == ECONNREFUSED || err == ECONNRESET ? SSE_ERR_CLOSED
             : err == ETIMEDOUT ? SSE_ERR_TIMEOUT : SSE_ERR_IO;
    }
    (void)lwip_fcntl(fd, F_SETFL, flags & ~O_NONBLOCK);
    {
        int one = 1;
        (void)lwip_setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, (socklen_t)sizeof one);
    }
    s->fd = fd;
    return SSE_OK;
}

int sse_port_recv(sse_port_sock_t *s, void *buf, size_t len,
                  uint32_t timeout_ms)
{
    int flags = 0;
    if (timeout_ms == 0)
        flags = MSG_DONTWAIT;
    else if (set_timeo(s->fd, SO_RCVTIMEO, &s->rcv_to, timeout_ms) != SSE_OK)
        return SSE_ERR_IO;
    if (len > 0x7FFFFFFFu)
        len = 0x7FFFFFFFu;
    for (;;) {
        ssize_t n = lwip_recv(s->fd, buf, len, flags);
        int e;
        if (n > 0)
            return (int)n;
        if (n == 0)
            return SSE_ERR_CLOSED;
        e = errno;
        if (e == EINTR)
            continue;
        if (e == ENOTCONN)
            return SSE_ERR_CLOSED;
        if (e == EPIPE || e == ENOMEM || e == ENOBUFS || e == ENFILE)
            return SSE_ERR_IO; /* a reset or a broken socket, not a slow peer */
        return map_errno(e);
    }
}

int sse_port_try_send(sse_port_sock_t *s, const void *buf, size_t len)
{
    if (len > 0x7FFFFFFFu)
        len = 0x7FFFFFFFu;
    for (;;) {
        /* lwIP 2.x writes what fits of a non-blocking send (partial). */
        ssize_t n = lwip_send(s->fd, buf, len, MSG_DONTWAIT);
        int e;
        if (n >= 0)
            return (int)n;
        e = errno;
        if (e == EINTR)
            continue;
        if (e == ECONNRESET || e == ECONNABORTED || e == EPIPE || e == ENOTCONN)
            return SSE_ERR_CLOSED;
        return map_errno(e) == SSE_ERR_TIMEOUT ? 0 : SSE_ERR_IO;
    }
}

/* A send on lwIP is a message to the tcpip thread whatever the batch:
 * the sends of a batch go one by one. */
int sse_port_batch_open(unsigned max)
{
    (void)max;
    return SSE_OK;
}

void sse_port_batch_close(void)
{
}

int sse_port_try_send_many(sse_port_send_t *v, unsigned n)
{
    unsigned i;
    for (i = 0; i < n; i++)
        v[i].res = sse_port_try_send(v[i].sock, v[i].buf, v[i].len);
    return SSE_OK;
}

int sse_port_send(sse_port_sock_t *s, const void *buf, size_t len,
                  uint32_t timeout_ms)
{
    const char *p = buf;
    int flags = 0;
    if (timeout_ms == 0)
        flags = MSG_DONTWAIT;
    else if (set_timeo(s->fd, SO_SNDTIMEO, &s->snd_to, timeout_ms) != SSE_OK)
        return SSE_ERR_IO;
    /* lwIP raises no signal: a gone peer is an error return (no SIGPIPE). */
    while (len > 0) {
        size_t chunk = len > 0x7FFFFFFFu ? 0x7FFFFFFFu : len;
        ssize_t n = lwip_send(s->fd, p, chunk, flags);
        int e;
        if (n > 0) {
            p += n;
            len -= (size_t)n;
            continue;
        }
        if (n == 0)
            return SSE_ERR_IO;
        e = errno;
        if (e == EINTR)
            continue;
        if (e == ECONNRESET || e == ECONNABORTED || e == EPIPE || e == ENOTCONN)
            return SSE_ERR_CLOSED;
        /* EWOULDBLOCK: no progress within timeout_ms. Part of the buffer
         * may be sent: the stream is unusable, the caller closes it. */
        return map_errno(e) == SSE_ERR_TIMEOUT ? SSE_ERR_TIMEOUT : SSE_ERR_IO;
    }
    return SSE_OK;
}

void sse_port_close(sse_port_sock_t *s)
{
    /* Only the owning thread gets here (core's rule): in lwIP 2.1 without
     * LWIP_NETCONN_FULLDUPLEX, closing a socket another thread is blocked
     * on deadlocks the stack. */
    if (s->fd >= 0)
        (void)lwip_close(s->fd);
    sse_port_sock_init(s);
}

/* ---- threads ------------------------------------------------------------- */

/* fn and arg reach the new thread through the static `spawn` record; the
 * creator holds spawn_lock until the thread has copied them (no heap). */
static void trampoline(void *unused)
{
    void (*fn)(void *) = spawn.fn;
    void *arg = spawn.arg;
    (void)unused;
    sys_sem_signal(&spawn_taken);
#if LWIP_NETCONN_SEM_PER_THREAD
    lwip_socket_thread_init();
#endif
    fn(arg);
#if LWIP_NETCONN_SEM_PER_THREAD
    lwip_socket_thread_cleanup();
#endif
    SSE_LWIP_THREAD_EXIT();
}

int sse_port_thread_create(void (*fn)(void *), void *arg, size_t stack_size,
                           const char *name)
{
    int stack = stack_size > 0x7FFFFFFFu ? 0x7FFFFFFF : (int)stack_size;
    if (pool_init() != SSE_OK)
        return SSE_ERR_NOMEM;
    /* sys_thread_new "MUST NOT FAIL" (lwIP's sys.h): a port that cannot
     * create the thread aborts or asserts inside it, so there is no failure
     * to report here. The stack size is in bytes (FreeRTOS port: unless
     * LWIP_FREERTOS_THREAD_STACKSIZE_IS_STACKWORDS); Debian's unix port
     * ignores it. */
    sys_mutex_lock(&spawn_lock);
    spawn.fn = fn;
    spawn.arg = arg;
    (void)sys_thread_new(name ? name : "sse", trampoline, NULL, stack, DEFAULT_THREAD_PRIO);
    (void)sys_arch_sem_wait(&spawn_taken, LWIP_FOREVER);
    sys_mutex_unlock(&spawn_lock);
    return SSE_OK;
}

/* ---- mutex and condition ------------------------------------------------- */

int sse_port_mutex_init(sse_port_mutex_t *m)
{
    memset(m, 0, sizeof *m);
    return sys_mutex_new(MTX(m)) == ERR_OK ? SSE_OK : SSE_ERR_NOMEM;
}

void sse_port_mutex_destroy(sse_port_mutex_t *m) { sys_mutex_free(MTX(m)); }
void sse_port_mutex_lock(sse_port_mutex_t *m)    { sys_mutex_lock(MTX(m)); }
void sse_port_mutex_unlock(sse_port_mutex_t *m)  { sys_mutex_unlock(MTX(m)); }

int sse_port_cond_init(sse_port_cond_t *c)
{
    c->head = c->tail = NULL;
    return pool_init();
}

void sse_port_cond_destroy(sse_port_cond_t *c)
{
    /* Nothing is owned: the semaphores belong to the pool. */
    c->head = c->tail = NULL;
}

int sse_port_cond_wait(sse_port_cond_t *c, sse_port_mutex_t *m,
                       uint32_t timeout_ms)
{
    return cond_wait_mask(c, m, 0xFFFFFFFFu, timeout_ms);
}

void sse_port_cond_signal(sse_port_cond_t *c)    { cond_wake(c, 0xFFFFFFFFu, 1); }
void sse_port_cond_broadcast(sse_port_cond_t *c) { cond_wake(c, 0xFFFFFFFFu, ~0u); }

/* ---- event count ----------------------------------------------------------- */

int sse_port_evt_init(sse_port_evt_t *e)
{
    __atomic_store_n(&e->seq, 0, __ATOMIC_RELAXED);
    if (sse_port_cond_init(&e->c) != SSE_OK)
        return SSE_ERR_NOMEM;
    return sse_port_mutex_init(&e->m);
}

uint32_t sse_port_evt_seq(sse_port_evt_t *e)
{
    return __atomic_load_n(&e->seq, __ATOMIC_ACQUIRE);
}

int sse_port_evt_wait(sse_port_evt_t *e, uint32_t seen, uint32_t mask,
                      uint32_t timeout_ms)
{
    int r = SSE_OK;
    sse_port_mutex_lock(&e->m);
    /* A wake moves seq under e->m before waking, and we are linked before
     * e->m is released: a wake either shows here or finds us linked. */
    if (__atomic_load_n(&e->seq, __ATOMIC_ACQUIRE) == seen)
        r = cond_wait_mask(&e->c, &e->m, mask ? mask : 0xFFFFFFFFu, timeout_ms);
    sse_port_mutex_unlock(&e->m);
    return r;
}

void sse_port_evt_wake(sse_port_evt_t *e, uint32_t mask)
{
    sse_port_mutex_lock(&e->m);
    __atomic_fetch_add(&e->seq, 1, __ATOMIC_SEQ_CST);
    sse_port_mutex_unlock(&e->m);
    /* Waking outside e->m is safe (see evt_wait) and keeps publishers from
     * holding it while threads are signalled. */
    cond_wake(&e->c, mask, ~0u);
}

/* ---- entropy ---------------------------------------------------------------- */

void sse_port_lwip_set_random(int (*fn)(void *buf, size_t len))
{
    __atomic_store_n(&random_hook, fn, __ATOMIC_RELEASE);
}

int sse_port_random(void *buf, size_t len)
{
    int (*fn)(void *, size_t) = __atomic_load_n(&random_hook, __ATOMIC_ACQUIRE);
    /* lwIP's LWIP_RAND() is not cryptographic (rand() on the unix port):
     * without a board RNG there is no entropy to give. */
    if (!fn)
        return SSE_ERR_IO;
    return fn(buf, len) == 0 ? SSE_OK : SSE_ERR_IO;
}

/* ---- time and log ------------------------------------------------------- */

uint32_t sse_port_now_ms(void)
{
    return (uint32_t)sys_now();
}

void sse_port_sleep_ms(uint32_t ms)
{
    struct sse_lwip_waiter *w = NULL;
    if (ms == 0)
        return;
    /* Wait on a pool slot's semaphore, which nobody signals: a sleep that
     * allocates nothing (sys_msleep creates a semaphore each time). */
    if (pool_init() == SSE_OK) {
        sys_mutex_lock(&pool_lock);
        w = slot_take();
        sys_mutex_unlock(&pool_lock);
    }
    if (!w) {
        sys_msleep(ms);
        return;
    }
    while (ms > 0) {
        /* lwIP reads 0 as forever; SSE_PORT_FOREVER is a long sleep. */
        u32_t step = ms > 0x7FFFFFFFu ? 0x7FFFFFFFu : ms;
        (void)sys_arch_sem_wait(&w->sem, step);
        ms -= step;
    }
    sys_mutex_lock(&pool_lock);
    slot_give(w);
    sys_mutex_unlock(&pool_lock);
}

void sse_port_lwip_set_log(void (*fn)(int level, const char *msg))
{
    __atomic_store_n(&log_hook, fn, __ATOMIC_RELEASE);
}

void sse_port_log(int level, const char *msg)
{
    static const char *const names[] = { "error", "error", "warn", "info", "debug" }; /* SSE_LOG_* */
    void (*fn)(int, const char *) = __atomic_load_n(&log_hook, __ATOMIC_ACQUIRE);
    if (fn) {
        fn(level, msg);
        return;
    }
    LWIP_PLATFORM_DIAG(("ssedge %s: %s\n",
                        names[level < SSE_LOG_ERR ? SSE_LOG_ERR : level > SSE_LOG_DBG ? SSE_LOG_DBG
                                                                                 : level],
                        msg));
}

#endif /* CONFIG_SSE_PORT_LWIP */
