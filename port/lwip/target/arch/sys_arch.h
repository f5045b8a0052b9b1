/* SPDX-License-Identifier: MIT */
/**
 * @file arch/sys_arch.h
 * @brief lwIP's OS types for a FreeRTOS board, in the style of lwIP's
 *        contrib/ports/freertos: each lwIP object wraps one FreeRTOS handle.
 *
 * Enough for lwIP's headers (and so ssedge's lwIP port) to compile for the
 * target; the functions (sys_mutex_new, sys_sem_new, sys_thread_new...)
 * come from the board's sys_arch.c (lwIP's contrib FreeRTOS port, which
 * these types match). No FreeRTOS header is needed here: the handles are
 * kept as void *, as the contrib port does.
 *
 * Unlike Debian's hosted port, where sys_sem_t and sys_mutex_t are
 * pointers and SYS_SEM_NULL exists, these are structs: portable code tests
 * them only with sys_*_valid() / sys_*_set_invalid().
 */
#ifndef LWIP_ARCH_SYS_ARCH_H
#define LWIP_ARCH_SYS_ARCH_H

#include "lwip/opt.h"
#include "lwip/arch.h"

/* Returned by the *_fromisr() calls when a higher-priority task woke. */
#define ERR_NEED_SCHED 123

/* Critical sections (SYS_LIGHTWEIGHT_PROT): taskENTER_CRITICAL(). */
typedef u32_t sys_prot_t;

/* FreeRTOS has real mutexes (lwip/sys.h would default this to 0 only
 * after including this file). */
#ifndef LWIP_COMPAT_MUTEX
#define LWIP_COMPAT_MUTEX 0
#endif

#if !LWIP_COMPAT_MUTEX
/** A FreeRTOS mutex (the contrib port creates a recursive one). */
typedef struct sys_mutex { void *mut; } sys_mutex_t;
#define sys_mutex_valid_val(m)   ((m).mut != NULL)
#define sys_mutex_valid(m)       (((m) != NULL) && sys_mutex_valid_val(*(m)))
#define sys_mutex_set_invalid(m) ((m)->mut = NULL)
#endif

/** A FreeRTOS binary semaphore. */
typedef struct sys_sem { void *sem; } sys_sem_t;
#define sys_sem_valid_val(s)     ((s).sem != NULL)
#define sys_sem_valid(s)         (((s) != NULL) && sys_sem_valid_val(*(s)))
#define sys_sem_set_invalid(s)   ((s)->sem = NULL)

/** A FreeRTOS queue of void *. */
typedef struct sys_mbox { void *mbx; } sys_mbox_t;
#define sys_mbox_valid_val(m)    ((m).mbx != NULL)
#define sys_mbox_valid(m)        (((m) != NULL) && sys_mbox_valid_val(*(m)))
#define sys_mbox_set_invalid(m)  ((m)->mbx = NULL)

/** A FreeRTOS task. sys_thread_new() has no failure return: the contrib
 *  port asserts when xTaskCreate() fails. */
typedef struct sys_thread { void *thread_handle; } sys_thread_t;

/* vTaskDelay() in milliseconds. */
void sys_arch_msleep(u32_t delay_ms);
#define sys_msleep(ms) sys_arch_msleep(ms)

#if LWIP_NETCONN_SEM_PER_THREAD
/* One semaphore per task, kept in a FreeRTOS thread-local pointer. */
sys_sem_t *sys_arch_netconn_sem_get(void);
void sys_arch_netconn_sem_alloc(void);
void sys_arch_netconn_sem_free(void);
#define LWIP_NETCONN_THREAD_SEM_GET()   sys_arch_netconn_sem_get()
#define LWIP_NETCONN_THREAD_SEM_ALLOC() sys_arch_netconn_sem_alloc()
#define LWIP_NETCONN_THREAD_SEM_FREE()  sys_arch_netconn_sem_free()
#endif

#endif /* LWIP_ARCH_SYS_ARCH_H */
