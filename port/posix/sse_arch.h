/* SPDX-License-Identifier: MIT */
/** @file sse_arch.h  @brief POSIX port types: what core embeds in its slots. */
#ifndef SSE_ARCH_H
#define SSE_ARCH_H

#include <pthread.h>
#include <stdint.h>

/* Linux's own calls (futexes, accept4, SOCK_CLOEXEC, MSG_NOSIGNAL), unless
 * SSE_POSIX_PORTABLE asks for the path every other POSIX system takes:
 * make test builds and runs that path on Linux too. */
#if defined(__linux__) && !defined(SSE_POSIX_PORTABLE)
#define SSE_POSIX_LINUX 1
#endif

typedef struct sse_port_sock {
    int      fd;       /* -1 = no socket */
    uint32_t rcv_to;   /* timeout last set with SO_RCVTIMEO, to skip repeats */
    uint32_t snd_to;
} sse_port_sock_t;

typedef struct sse_port_mutex {
    pthread_mutex_t m;
} sse_port_mutex_t;

typedef struct sse_port_cond {
    pthread_cond_t c;  /* uses CLOCK_MONOTONIC where the OS has it */
} sse_port_cond_t;

/* Event count: a Linux futex word, or a mutex + condition elsewhere. */
typedef struct sse_port_evt {
    uint32_t        seq;
    uint32_t        waiters;  /* lets a wake skip the syscall when nobody sleeps */
#if !defined(SSE_POSIX_LINUX)
    sse_port_mutex_t m;
    sse_port_cond_t  c;
#endif
} sse_port_evt_t;

#endif /* SSE_ARCH_H */
