/* SPDX-License-Identifier: MIT */
/* POSIX port: BSD sockets, pthreads and CLOCK_MONOTONIC behind sse_port.h. */
#if !defined(_GNU_SOURCE)
#define _GNU_SOURCE /* accept4, MSG_NOSIGNAL, pthread_condattr_setclock */
#endif
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>
#include <limits.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/syscall.h>
#if defined(__APPLE__)
#include <stdlib.h> /* arc4random_buf */
#endif

#include "sse_opt.h"
#include "sse_port.h"
#if defined(SSE_POSIX_LINUX)
#include <linux/futex.h>
#endif

#if defined(CONFIG_SSE_PORT_POSIX) || !defined(CONFIG_SSE_PORT_LWIP)

#if defined(SSE_POSIX_LINUX)
#define SEND_FLAGS MSG_NOSIGNAL
#else
#define SEND_FLAGS 0 /* SO_NOSIGPIPE where there is one, SIGPIPE ignored */
#endif

int sse_port_init(void)
{
    /* A peer that resets mid-write must give EPIPE, not kill the process;
     * MSG_NOSIGNAL covers Linux, ignoring SIGPIPE covers the rest. Only
     * touch the handler if the application left it at the default. */
    struct sigaction sa;
    if (sigaction(SIGPIPE, NULL, &sa) == 0 && sa.sa_handler == SIG_DFL) {
        sa.sa_handler = SIG_IGN;
        sigemptyset(&sa.sa_mask);
        sa.sa_flags = 0;
        sigaction(SIGPIPE, &sa, NULL);
    }
    return SSE_OK;
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

#if !defined(SSE_POSIX_LINUX)
/* A new socket of ours is not inherited by programs the application runs
 * (Linux sets that in the same call). */
static int cloexec(int fd)
{
    if (fd >= 0)
        (void)fcntl(fd, F_SETFD, FD_CLOEXEC);
    return fd;
}
#endif

static void sock_setup(int fd)
{
    int one = 1;
#ifdef SO_NOSIGPIPE
    setsockopt(fd, SOL_SOCKET, SO_NOSIGPIPE, &one, sizeof one);
#endif
    /* Events are small and latency matters more than segment count. */
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
#if CONFIG_SSE_SOCK_SNDBUF > 0
    {   /* Bound what a stalled reader can pin in the kernel (Kconfig help). */
        int sb = CONFIG_SSE_SOCK_SNDBUF;
        setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sb, sizeof sb);
    }
#endif
}

static void listen_failed(const char *addr, uint16_t port, const char *why)
{
    char msg[CONFIG_SSE_LOG_LINE];
    snprintf(msg, sizeof msg, "cannot listen on %s port %u: %s", addr && *addr ? addr : "*",
             (unsigned)port, why);
    sse_port_log(SSE_LOG_ERR, msg);
}

int sse_port_listen(sse_port_sock_t *ls, const char *addr, uint16_t port,
                    int backlog)
{
    struct addrinfo hints, *ai = NULL;
    char portstr[8];
    int fd, one = 1;

    sse_port_sock_init(ls);
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV | AI_PASSIVE;
    snprintf(portstr, sizeof portstr, "%u", (unsigned)port);
    if (getaddrinfo(addr && *addr ? addr : NULL, portstr, &hints, &ai) != 0 || !ai) {
        listen_failed(addr, port, "not a numeric IPv4 or IPv6 address");
        return SSE_ERR_ARG;
    }

#if defined(SSE_POSIX_LINUX)
    fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
#else
    fd = cloexec(socket(ai->ai_family, SOCK_STREAM, 0));
#endif
    if (fd < 0) {
        listen_failed(addr, port, strerror(errno));
        freeaddrinfo(ai);
        return SSE_ERR_IO;
    }
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (ai->ai_family == AF_INET6) {
        int zero = 0; /* "::" serves IPv4 too where the OS allows */
        setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof zero);
    }
    if (bind(fd, ai->ai_addr, ai->ai_addrlen) != 0 || listen(fd, backlog) != 0) {
        listen_failed(addr, port, strerror(errno));
        close(fd);
        freeaddrinfo(ai);
        return SSE_ERR_IO;
    }
    freeaddrinfo(ai);
    ls->fd = fd;
    return SSE_OK;
}

const char *sse_port_sock_peer(const sse_port_sock_t *s, char *buf, size_t cap)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    char ip[INET6_ADDRSTRLEN];
    snprintf(buf, cap, "?");
    if (s->fd < 0 || getpeername(s->fd, (struct sockaddr *)&ss, &len) != 0)
        return buf;
    if (ss.ss_family == AF_INET &&
        inet_ntop(AF_INET, &((struct sockaddr_in *)&ss)->sin_addr, ip, sizeof ip))
        snprintf(buf, cap, "%s:%u", ip, (unsigned)ntohs(((struct sockaddr_in *)&ss)->sin_port));
    else if (ss.ss_family == AF_INET6 &&
             inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&ss)->sin6_addr, ip, sizeof ip))
        snprintf(buf, cap, "[%s]:%u", ip,
                 (unsigned)ntohs(((struct sockaddr_in6 *)&ss)->sin6_port));
    return buf;
}

uint16_t sse_port_sock_local_port(const sse_port_sock_t *s)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    if (s->fd < 0 || getsockname(s->fd, (struct sockaddr *)&ss, &len) != 0)
        return 0;
    if (ss.ss_family == AF_INET)
        return ntohs(((struct sockaddr_in *)&ss)->sin_port);
    if (ss.ss_family == AF_INET6)
        return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
    return 0;
}

/* Wait until fd is ready; 0 ready, else SSE_ERR_TIMEOUT / SSE_ERR_IO. */
static int wait_fd(int fd, short events, uint32_t timeout_ms)
{
    struct pollfd p;
    int to = timeout_ms == SSE_PORT_FOREVER ? -1
           : timeout_ms > INT_MAX ? INT_MAX : (int)timeout_ms;
    p.fd = fd;
    p.events = events;
    for (;;) {
        int r = poll(&p, 1, to);
        if (r > 0)
            return 0;
        if (r == 0)
            return SSE_ERR_TIMEOUT;
        if (errno != EINTR)
            return SSE_ERR_IO;
    }
}

int sse_port_accept(sse_port_sock_t *ls, sse_port_sock_t *cs,
                    uint32_t timeout_ms)
{
    int r = wait_fd(ls->fd, POLLIN, timeout_ms);
    sse_port_sock_init(cs);
    if (r != 0)
        return r;
    for (;;) {
#if defined(SSE_POSIX_LINUX)
        int fd = accept4(ls->fd, NULL, NULL, SOCK_CLOEXEC);
#else
        int fd = cloexec(accept(ls->fd, NULL, NULL));
#endif
        if (fd >= 0) {
            sock_setup(fd);
            cs->fd = fd;
            return SSE_OK;
        }
        switch (errno) {
        case EINTR:
            continue;
        case EAGAIN:
#if EWOULDBLOCK != EAGAIN
        case EWOULDBLOCK:
#endif
        case ECONNABORTED:
            return SSE_ERR_TIMEOUT; /* the peer gave up before we took it */
        case EMFILE:
        case ENFILE:
        case ENOBUFS:
        case ENOMEM:
            return SSE_ERR_NOMEM;
        default:
            return SSE_ERR_IO;
        }
    }
}

/* One address of a connect: non-blocking connect, a bounded wait for the
 * answer, then a blocking socket again. */
static int connect_one(const struct addrinfo *a, uint32_t timeout_ms, int *fd_out)
{
    int fd, flags, err = 0, r;
    socklen_t el = sizeof err;
#if defined(SSE_POSIX_LINUX)
    fd = socket(a->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
#else
    fd = cloexec(socket(a->ai_family, SOCK_STREAM, 0));
#endif
    if (fd < 0)
        return SSE_ERR_IO;
    flags = fcntl(fd, F_GETFL, 0);
    fcntl(fd, F_SETFL, flags | O_NONBLOCK);
    if (connect(fd, a->ai_addr, a->ai_addrlen) != 0) {
        if (errno != EINPROGRESS && errno != EINTR) {
            err = errno;
        } else if ((r = wait_fd(fd, POLLOUT, timeout_ms)) != 0) {
            close(fd);
            return r;
        } else if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &el) != 0) {
            err = errno;
        }
    }
    if (err) {
        close(fd);
        return err == ECONNREFUSED ? SSE_ERR_CLOSED
             : err == ETIMEDOUT ? SSE_ERR_TIMEOUT : SSE_ERR_IO;
    }
    {   /* Connecting to a port of this host that nothing listens on, the
         * OS may pick that very port for our end and connect the socket to
         * itself: that is a refusal, not a hub. */
        struct sockaddr_storage me, peer;
        socklen_t ml = sizeof me, pl = sizeof peer;
        if (getsockname(fd, (struct sockaddr *)&me, &ml) == 0 &&
            getpeername(fd, (struct sockaddr *)&peer, &pl) == 0 && ml == pl &&
            memcmp(&me, &peer, ml) == 0) {
            close(fd);
            return SSE_ERR_CLOSED;
        }
    }
    fcntl(fd, F_SETFL, flags);
    sock_setup(fd);
    *fd_out = fd;
    return SSE_OK;
}

int sse_port_connect(sse_port_sock_t *s, const char *host, uint16_t port,
                     uint32_t timeout_ms)
{
    struct addrinfo hints, *ai = NULL, *a;
    char portstr[8], msg[CONFIG_SSE_LOG_LINE];
    int r = SSE_ERR_IO, g;
    sse_port_sock_init(s);
    if (!host || !*host)
        return SSE_ERR_ARG;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICSERV;
    snprintf(portstr, sizeof portstr, "%u", (unsigned)port);
    if ((g = getaddrinfo(host, portstr, &hints, &ai)) != 0 || !ai) {
        snprintf(msg, sizeof msg, "cannot resolve %s: %s", host, gai_strerror(g));
        sse_port_log(SSE_LOG_WARN, msg);
        return SSE_ERR_IO;
    }
    for (a = ai; a; a = a->ai_next) {
        int fd = -1;
        r = connect_one(a, timeout_ms, &fd);
        if (r == SSE_OK) {
            s->fd = fd;
            break;
        }
    }
    freeaddrinfo(ai);
    return r;
}

/* Set SO_RCVTIMEO / SO_SNDTIMEO only when the value changes: it is a syscall
 * and a stream sends with the same timeout every time. */
static void set_timeo(int fd, int opt, uint32_t *cached, uint32_t ms)
{
    struct timeval tv;
    if (*cached == ms)
        return;
    if (ms == SSE_PORT_FOREVER) {
        tv.tv_sec = 0;
        tv.tv_usec = 0;
    } else {
        tv.tv_sec = (time_t)(ms / 1000);
        tv.tv_usec = (suseconds_t)((ms % 1000) * 1000);
    }
    if (setsockopt(fd, SOL_SOCKET, opt, &tv, sizeof tv) == 0)
        *cached = ms;
}

int sse_port_recv(sse_port_sock_t *s, void *buf, size_t len,
                  uint32_t timeout_ms)
{
    int flags = 0;
    if (timeout_ms == 0)
        flags = MSG_DONTWAIT;
    else
        set_timeo(s->fd, SO_RCVTIMEO, &s->rcv_to, timeout_ms);
    for (;;) {
        ssize_t n = recv(s->fd, buf, len, flags);
        if (n > 0)
            return n > INT_MAX ? INT_MAX : (int)n;
        if (n == 0)
            return SSE_ERR_CLOSED;
        if (errno == EINTR)
            continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK)
            return SSE_ERR_TIMEOUT;
        return SSE_ERR_IO;
    }
}

int sse_port_try_send(sse_port_sock_t *s, const void *buf, size_t len)
{
    if (len > INT_MAX)
        len = INT_MAX;
    for (;;) {
        ssize_t n = send(s->fd, buf, len, SEND_FLAGS | MSG_DONTWAIT);
        if (n >= 0)
            return (int)n;
        if (errno == EINTR)
            continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK)
            return 0;
        return errno == EPIPE || errno == ECONNRESET ? SSE_ERR_CLOSED : SSE_ERR_IO;
    }
}

int sse_port_send(sse_port_sock_t *s, const void *buf, size_t len,
                  uint32_t timeout_ms)
{
    const char *p = buf;
    if (timeout_ms == 0) {
        /* SO_SNDTIMEO {0,0} would mean "wait forever": try once instead. */
        while (len > 0) {
            int n = sse_port_try_send(s, p, len);
            if (n <= 0)
                return n == 0 ? SSE_ERR_TIMEOUT : n;
            p += n;
            len -= (size_t)n;
        }
        return SSE_OK;
    }
    set_timeo(s->fd, SO_SNDTIMEO, &s->snd_to, timeout_ms);
    while (len > 0) {
        ssize_t n = send(s->fd, p, len, SEND_FLAGS);
        if (n > 0) {
            p += n;
            len -= (size_t)n;
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return SSE_ERR_TIMEOUT;
        if (n < 0 && (errno == EPIPE || errno == ECONNRESET))
            return SSE_ERR_CLOSED;
        return SSE_ERR_IO;
    }
    return SSE_OK;
}

void sse_port_close(sse_port_sock_t *s)
{
    if (s->fd >= 0)
        close(s->fd);
    sse_port_sock_init(s);
}

/* ---- threads ------------------------------------------------------------- */

struct thread_start {
    void (*fn)(void *);
    void *arg;
};

/* The trampoline matches pthread's signature; fn/arg travel in the pointer
 * pair passed by value through a small static-free handoff: the creator
 * blocks until the new thread has copied them (no heap). */
struct thread_handoff {
    struct thread_start st;
    pthread_mutex_t m;
    pthread_cond_t c;
    int taken;
};

static void *trampoline(void *p)
{
    struct thread_handoff *h = p;
    struct thread_start st = h->st;
    pthread_mutex_lock(&h->m);
    h->taken = 1;
    pthread_cond_signal(&h->c);
    pthread_mutex_unlock(&h->m);
    st.fn(st.arg);
    return NULL;
}

int sse_port_thread_create(void (*fn)(void *), void *arg, size_t stack_size,
                           const char *name)
{
    struct thread_handoff h;
    pthread_attr_t attr;
    pthread_t t;
    size_t min = (size_t)sysconf(_SC_THREAD_STACK_MIN);
    int r;

    (void)name;
    if (stack_size < min)
        stack_size = min;
    h.st.fn = fn;
    h.st.arg = arg;
    h.taken = 0;
    pthread_mutex_init(&h.m, NULL);
    pthread_cond_init(&h.c, NULL);
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    pthread_attr_setstacksize(&attr, stack_size);
    r = pthread_create(&t, &attr, trampoline, &h);
    pthread_attr_destroy(&attr);
    if (r == 0) {
        pthread_mutex_lock(&h.m);
        while (!h.taken)
            pthread_cond_wait(&h.c, &h.m);
        pthread_mutex_unlock(&h.m);
    }
    pthread_cond_destroy(&h.c);
    pthread_mutex_destroy(&h.m);
    return r == 0 ? SSE_OK : SSE_ERR_NOMEM;
}

/* ---- mutex and condition ------------------------------------------------- */

/* Absolute time @p ms from now on clock @p clk (timed waits take deadlines). */
static void deadline(clockid_t clk, uint32_t ms, struct timespec *ts)
{
    clock_gettime(clk, ts);
    ts->tv_sec += (time_t)(ms / 1000);
    ts->tv_nsec += (long)(ms % 1000) * 1000000L;
    if (ts->tv_nsec >= 1000000000L) {
        ts->tv_sec++;
        ts->tv_nsec -= 1000000000L;
    }
}

int sse_port_mutex_init(sse_port_mutex_t *m)
{
    return pthread_mutex_init(&m->m, NULL) == 0 ? SSE_OK : SSE_ERR_NOMEM;
}

void sse_port_mutex_destroy(sse_port_mutex_t *m) { pthread_mutex_destroy(&m->m); }
void sse_port_mutex_lock(sse_port_mutex_t *m)    { pthread_mutex_lock(&m->m); }
void sse_port_mutex_unlock(sse_port_mutex_t *m)  { pthread_mutex_unlock(&m->m); }

#if defined(__APPLE__) || defined(SSE_POSIX_PORTABLE)
#define SSE_COND_CLOCK CLOCK_REALTIME /* macOS has no condattr_setclock */
#else
#define SSE_COND_CLOCK CLOCK_MONOTONIC
#endif

int sse_port_cond_init(sse_port_cond_t *c)
{
    pthread_condattr_t a;
    int r;
    if (pthread_condattr_init(&a) != 0)
        return SSE_ERR_NOMEM;
#if !defined(__APPLE__) && !defined(SSE_POSIX_PORTABLE)
    pthread_condattr_setclock(&a, SSE_COND_CLOCK);
#endif
    r = pthread_cond_init(&c->c, &a);
    pthread_condattr_destroy(&a);
    return r == 0 ? SSE_OK : SSE_ERR_NOMEM;
}

void sse_port_cond_destroy(sse_port_cond_t *c) { pthread_cond_destroy(&c->c); }

int sse_port_cond_wait(sse_port_cond_t *c, sse_port_mutex_t *m,
                       uint32_t timeout_ms)
{
    struct timespec ts;
    int r;
    if (timeout_ms == SSE_PORT_FOREVER) {
        pthread_cond_wait(&c->c, &m->m);
        return SSE_OK;
    }
    deadline(SSE_COND_CLOCK, timeout_ms, &ts);
    r = pthread_cond_timedwait(&c->c, &m->m, &ts);
    return r == ETIMEDOUT ? SSE_ERR_TIMEOUT : SSE_OK;
}

void sse_port_cond_signal(sse_port_cond_t *c)    { pthread_cond_signal(&c->c); }
void sse_port_cond_broadcast(sse_port_cond_t *c) { pthread_cond_broadcast(&c->c); }

/* ---- event count ----------------------------------------------------------- */

int sse_port_evt_init(sse_port_evt_t *e)
{
    e->seq = 0;
    e->waiters = 0;
#if !defined(SSE_POSIX_LINUX)
    if (sse_port_mutex_init(&e->m) != SSE_OK)
        return SSE_ERR_NOMEM;
    if (sse_port_cond_init(&e->c) != SSE_OK) {
        sse_port_mutex_destroy(&e->m);
        return SSE_ERR_NOMEM;
    }
#endif
    return SSE_OK;
}

uint32_t sse_port_evt_seq(sse_port_evt_t *e)
{
    return __atomic_load_n(&e->seq, __ATOMIC_SEQ_CST);
}

#if defined(SSE_POSIX_LINUX)
/* FUTEX_*_BITSET wakes exactly the waiters whose mask intersects, in one
 * syscall however many there are; its timeout is absolute on
 * CLOCK_MONOTONIC. */
int sse_port_evt_wait(sse_port_evt_t *e, uint32_t seen, uint32_t mask,
                      uint32_t timeout_ms)
{
    struct timespec ts, *tsp = NULL;
    long r = 0;
    int err = 0;
    if (mask == 0)
        mask = FUTEX_BITSET_MATCH_ANY;
    if (timeout_ms != SSE_PORT_FOREVER) {
        deadline(CLOCK_MONOTONIC, timeout_ms, &ts);
        tsp = &ts;
    }
    __atomic_fetch_add(&e->waiters, 1, __ATOMIC_SEQ_CST);
    if (__atomic_load_n(&e->seq, __ATOMIC_SEQ_CST) == seen) {
        r = syscall(SYS_futex, &e->seq, FUTEX_WAIT_BITSET | FUTEX_PRIVATE_FLAG,
                    seen, tsp, NULL, mask);
        err = errno;
    }
    __atomic_fetch_sub(&e->waiters, 1, __ATOMIC_SEQ_CST);
    return r != 0 && err == ETIMEDOUT ? SSE_ERR_TIMEOUT : SSE_OK;
}

void sse_port_evt_wake(sse_port_evt_t *e, uint32_t mask)
{
    __atomic_fetch_add(&e->seq, 1, __ATOMIC_SEQ_CST);
    if (__atomic_load_n(&e->waiters, __ATOMIC_SEQ_CST) != 0)
        syscall(SYS_futex, &e->seq, FUTEX_WAKE_BITSET | FUTEX_PRIVATE_FLAG,
                INT_MAX, NULL, NULL, mask ? mask : FUTEX_BITSET_MATCH_ANY);
}
#else
/* Portable fallback: a broadcast wakes everyone; waiters re-check. */
int sse_port_evt_wait(sse_port_evt_t *e, uint32_t seen, uint32_t mask,
                      uint32_t timeout_ms)
{
    int r = SSE_OK;
    (void)mask;
    sse_port_mutex_lock(&e->m);
    if (__atomic_load_n(&e->seq, __ATOMIC_SEQ_CST) == seen)
        r = sse_port_cond_wait(&e->c, &e->m, timeout_ms);
    sse_port_mutex_unlock(&e->m);
    return r;
}

void sse_port_evt_wake(sse_port_evt_t *e, uint32_t mask)
{
    (void)mask;
    sse_port_mutex_lock(&e->m);
    __atomic_fetch_add(&e->seq, 1, __ATOMIC_SEQ_CST);
    sse_port_cond_broadcast(&e->c);
    sse_port_mutex_unlock(&e->m);
}
#endif

/* ---- entropy ---------------------------------------------------------------- */

int sse_port_random(void *buf, size_t len)
{
#if defined(__APPLE__)
    arc4random_buf(buf, len);
    return SSE_OK;
#else
    unsigned char *p = buf;
    while (len > 0) {
        /* getrandom() without the glibc wrapper's header requirements. */
        long n = syscall(SYS_getrandom, p, len, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return SSE_ERR_IO;
        p += n;
        len -= (size_t)n;
    }
    return SSE_OK;
#endif
}

/* ---- time and log ------------------------------------------------------- */

uint32_t sse_port_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint32_t)((uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u);
}

void sse_port_sleep_ms(uint32_t ms)
{
    struct timespec ts;
    ts.tv_sec = (time_t)(ms / 1000);
    ts.tv_nsec = (long)(ms % 1000) * 1000000L;
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

void sse_port_log(int level, const char *msg)
{
    /* "<N>" prefixes are read by journald/systemd as the syslog priority
     * (3 err, 4 warning, 6 info, 7 debug); one write keeps lines whole. */
    static const char prio[] = { '3', '3', '4', '6', '7' }; /* by SSE_LOG_* */
    char line[CONFIG_SSE_LOG_LINE + 24]; /* the message plus our prefix */
    int n = snprintf(line, sizeof line, "<%c>ssedge: %s\n",
                     prio[level < SSE_LOG_ERR ? SSE_LOG_ERR : level > SSE_LOG_DBG ? SSE_LOG_DBG
                                                                               : level], msg);
    if (n > (int)sizeof line - 1)
        n = (int)sizeof line - 1;
    if (n > 0 && write(STDERR_FILENO, line, (size_t)n) < 0) {
        /* nowhere left to report it */
    }
}

#endif /* CONFIG_SSE_PORT_POSIX */
