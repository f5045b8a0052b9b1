/* SPDX-License-Identifier: MIT */
/* POSIX port: batches of non-blocking sends, one io_uring submission each on Linux. */
#if !defined(_GNU_SOURCE)
#define _GNU_SOURCE /* MSG_NOSIGNAL */
#endif
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "sse_opt.h"
#include "sse_port.h"

#if defined(CONFIG_SSE_PORT_POSIX) || !defined(CONFIG_SSE_PORT_LWIP)

#if defined(CONFIG_SSE_PORT_IO_URING) && CONFIG_SSE_PORT_IO_URING && defined(SSE_POSIX_LINUX)
#define USE_URING 1
#include <liburing.h>
#include <unistd.h>

/* On the VM of the README's benchmarks an empty system call (getppid)
 * took about a microsecond, a sixth of a loopback send: a sweep over 3000
 * streams pays it once per batch instead of once per stream. */
static struct io_uring ring;
static int ring_on;
static unsigned ring_max;

#define PENDING INT_MIN /* res of an entry the ring has not answered */

static int map_res(int res)
{
    if (res >= 0)
        return res;
    if (res == -EAGAIN || res == -EWOULDBLOCK || res == -EINTR)
        return 0; /* full (or interrupted): the stream's thread takes over */
    return res == -EPIPE || res == -ECONNRESET ? SSE_ERR_CLOSED : SSE_ERR_IO;
}

/* The batch goes one send at a time from here on: say why, once. */
static void one_by_one(const char *why, int err)
{
    char msg[160];
    snprintf(msg, sizeof msg, "fan-out: io_uring %s (%s): sends go one by one", why,
             err ? strerror(err) : "a full socket's send waited");
    sse_port_log(SSE_LOG_WARN, msg);
}

/* Submit the @p n sends queued for @p v and collect their answers. With
 * MSG_DONTWAIT every send completes inside the submitting call. @return 0,
 * or -1 if the ring failed: entries still PENDING were never submitted. */
static int run_batch(sse_port_send_t *v, unsigned n)
{
    unsigned sent = 0, got = 0, i;
    struct io_uring_cqe *cqe;
    while (sent < n) {
        int r = io_uring_submit(&ring);
        if (r > 0) {
            sent += (unsigned)r;
        } else if (r != -EINTR) {
            one_by_one("failed", r < 0 ? -r : EIO); /* out of kernel memory, say */
            break;
        }
    }
    while (got < sent) {
        int r = io_uring_wait_cqe(&ring, &cqe);
        if (r == -EINTR)
            continue;
        if (r < 0) {
            one_by_one("failed", -r);
            /* Submitted, outcome unknown: sending again could repeat bytes,
             * so those streams count as failed (they resume by id). */
            for (i = 0; i < sent; i++) /* the ring takes them in order */
                if (v[i].res == PENDING)
                    v[i].res = SSE_ERR_IO;
            return -1;
        }
        v[cqe->user_data].res = map_res(cqe->res);
        io_uring_cqe_seen(&ring, cqe);
        got++;
    }
    return sent == n ? 0 : -1;
}

/* Does a send with MSG_DONTWAIT on a full socket complete at once with
 * -EAGAIN? (Kernels before 5.6 lack the send op; without that answer a
 * full socket would leave the request waiting, and the sweep with it.) */
static int probe(void)
{
    int sv[2], ok = 0, size = 4096;
    char fill[512] = {0};
    struct io_uring_sqe *sqe;
    struct io_uring_cqe *cqe = NULL;
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0)
        return 0;
    (void)setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &size, sizeof size);
    while (send(sv[0], fill, sizeof fill, MSG_DONTWAIT | MSG_NOSIGNAL) > 0)
        ;
    sqe = io_uring_get_sqe(&ring);
    io_uring_prep_send(sqe, sv[0], fill, sizeof fill, MSG_DONTWAIT | MSG_NOSIGNAL);
    if (io_uring_submit(&ring) == 1) {
        if (io_uring_peek_cqe(&ring, &cqe) == 0) {
            ok = cqe->res == -EAGAIN;
        } else {
            /* It waits for room: closing the peer ends it. */
            close(sv[1]);
            sv[1] = -1;
            while (io_uring_wait_cqe(&ring, &cqe) == -EINTR)
                ;
        }
        io_uring_cqe_seen(&ring, cqe);
    }
    close(sv[0]);
    if (sv[1] >= 0)
        close(sv[1]);
    return ok;
}
#endif

int sse_port_batch_open(unsigned max)
{
#if defined(USE_URING)
    int r;
    if (ring_on || max < 2)
        return SSE_OK;
    /* Refused by the kernel (io_uring_disabled, a container's seccomp
     * profile): the batch goes one send at a time. */
    if ((r = io_uring_queue_init(max, &ring, 0)) != 0) {
        one_by_one("refused", -r);
        return SSE_OK;
    }
    if (!probe()) {
        io_uring_queue_exit(&ring);
        one_by_one("unfit", 0);
        return SSE_OK;
    }
    ring_max = max;
    ring_on = 1;
#else
    (void)max;
#endif
    return SSE_OK;
}

void sse_port_batch_close(void)
{
#if defined(USE_URING)
    if (ring_on)
        io_uring_queue_exit(&ring);
    ring_on = 0;
#endif
}

int sse_port_try_send_many(sse_port_send_t *v, unsigned n)
{
    unsigned i;
#if defined(USE_URING)
    if (ring_on && n > 1 && n <= ring_max) {
        for (i = 0; i < n; i++) {
            struct io_uring_sqe *sqe = io_uring_get_sqe(&ring);
            io_uring_prep_send(sqe, v[i].sock->fd, v[i].buf, v[i].len,
                               MSG_DONTWAIT | MSG_NOSIGNAL);
            io_uring_sqe_set_data64(sqe, i);
            v[i].res = PENDING;
        }
        if (run_batch(v, n) == 0)
            return SSE_OK;
        /* The ring failed: drop it (and what it never took), and send the
         * rest, now and from here on, one by one. */
        io_uring_queue_exit(&ring);
        ring_on = 0;
        for (i = 0; i < n; i++)
            if (v[i].res == PENDING)
                v[i].res = sse_port_try_send(v[i].sock, v[i].buf, v[i].len);
        return SSE_OK;
    }
#endif
    for (i = 0; i < n; i++)
        v[i].res = sse_port_try_send(v[i].sock, v[i].buf, v[i].len);
    return SSE_OK;
}

#endif /* the POSIX port */
