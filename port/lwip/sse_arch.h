/* SPDX-License-Identifier: MIT */
/**
 * @file sse_arch.h
 * @brief lwIP port types: what core embeds in its slots.
 *
 * Built on lwIP's sockets API (lwip_socket() ...) and its sys_arch layer
 * (sys_mutex_t, sys_sem_t, sys_thread_new). The lwIP handles are stored
 * by value: on Debian's hosted lwIP they are pointers to objects lwIP
 * allocates, on FreeRTOS they are RTOS handles.
 *
 * This header deliberately includes no lwIP header (core/ must not see
 * lwIP's macros): the lwIP handles are kept in storage of the same type
 * declared through lwIP's own arch/sys_arch.h only in the port's .c file.
 * So they are held here as opaque, suitably aligned byte arrays whose size
 * the .c file checks at compile time against sizeof(sys_mutex_t).
 */
#ifndef SSE_ARCH_H
#define SSE_ARCH_H

#include <stddef.h>
#include <stdint.h>

/* Room for one sys_mutex_t (a pointer on Debian's unix port, a
 * SemaphoreHandle_t in a struct on FreeRTOS). The port's .c file checks
 * sizeof(sys_mutex_t) <= this at compile time; a port whose sys_mutex_t
 * is a full in-place object (some RTOS ports store the whole control
 * block) raises it with -DSSE_LWIP_MUTEX_BYTES=N. */
#ifndef SSE_LWIP_MUTEX_BYTES
#define SSE_LWIP_MUTEX_BYTES 16
#endif

typedef struct sse_port_sock {
    int      fd;       /* lwIP socket number, -1 = no socket (never a libc fd) */
    uint32_t rcv_to;   /* timeout last set with SO_RCVTIMEO, 0 = unknown */
    uint32_t snd_to;   /* the same for SO_SNDTIMEO */
} sse_port_sock_t;

typedef struct sse_port_mutex {
    union {
        unsigned char bytes[SSE_LWIP_MUTEX_BYTES];
        void         *align_p;
        uint64_t      align_u;
    } m;               /* a sys_mutex_t */
} sse_port_mutex_t;

struct sse_lwip_waiter; /* port-internal: one parked thread, see the .c */

/* A condition variable is only the list of its parked waiters: each waiter
 * brings its own binary semaphore from the port's static pool. */
typedef struct sse_port_cond {
    struct sse_lwip_waiter *head;
    struct sse_lwip_waiter *tail;
} sse_port_cond_t;

/* Event count: sequence + mutex + condition. The waiters' interest masks
 * are kept in their pool slots, so a wake skips the threads it does not
 * concern. */
typedef struct sse_port_evt {
    uint32_t         seq;
    sse_port_mutex_t m;
    sse_port_cond_t  c;
} sse_port_evt_t;

/**
 * lwIP has no strong random source, so sse_port_random() fails with
 * SSE_ERR_IO (and TLS does not start) until the board gives one: its
 * hardware RNG (STM32 RNG, ESP32 esp_fill_random, ...). @p fn fills
 * @p len bytes at @p buf and returns 0 on success, non-zero on failure;
 * it must be callable from any thread. Call before sse_server_start();
 * NULL removes it.
 */
void sse_port_lwip_set_random(int (*fn)(void *buf, size_t len));

/**
 * Where log lines go. By default LWIP_PLATFORM_DIAG() (printf on most
 * ports); a board may send them to its own logger. @p fn gets the level
 * (SSE_LOG_ERR .. SSE_LOG_DBG of sse_port.h) and one line without newline, from any thread.
 * NULL restores the default.
 */
void sse_port_lwip_set_log(void (*fn)(int level, const char *msg));

#endif /* SSE_ARCH_H */
