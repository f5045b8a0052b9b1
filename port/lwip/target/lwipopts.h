/* SPDX-License-Identifier: MIT */
/**
 * @file lwipopts.h
 * @brief lwIP options for an example Cortex-M4 FreeRTOS board running
 *        ssedge (configs/cortex_m4_lwip_defconfig: 4 stream slots).
 *
 * With port/lwip/target ahead of the lwIP headers on the include path this
 * file, arch/cc.h and arch/sys_arch.h replace Debian's hosted (Linux) ones,
 * so ssedge's lwIP port compiles as it would for the board. A real board
 * compiles lwIP's own sources with this same file; everything not set here
 * keeps lwIP's opt.h default.
 *
 * RAM (sizeof of these headers' structures, arm-none-eabi-gcc): for 4
 * connections the memp pools come to 17.3 KiB (12.1 KiB of them the 8 Rx
 * pbufs) and the heap to 16.3 KiB, about 34 KiB in all (about 73 KiB for
 * 16 connections, mostly heap for send queues), plus the ARP/ND6 tables
 * and the tcpip thread's stack.
 */
#ifndef LWIPOPTS_H
#define LWIPOPTS_H

/* ---- system -------------------------------------------------------------- */
#define NO_SYS                      0   /* FreeRTOS: sockets and netconn */
#define SYS_LIGHTWEIGHT_PROT        1
#define LWIP_TCPIP_CORE_LOCKING     1   /* socket calls take the core lock
                                         * instead of a round trip through
                                         * the tcpip thread; TCP output then
                                         * runs on the caller's stack */
#define MEM_ALIGNMENT               4
#define MEM_LIBC_MALLOC             0   /* static lwIP heap and pools */
#define MEMP_MEM_MALLOC             0

/* sys_thread_new() stack sizes are bytes (lwIP's convention), which the
 * contrib FreeRTOS port divides by sizeof(StackType_t) for xTaskCreate():
 * CONFIG_SSE_THREAD_STACK_SIZE is the stack in bytes. */
#define LWIP_FREERTOS_THREAD_STACKSIZE_IS_STACKWORDS 0

#define TCPIP_THREAD_NAME           "tcpip"
#define TCPIP_THREAD_STACKSIZE      2048
#define TCPIP_THREAD_PRIO           4   /* < configMAX_PRIORITIES, above
                                         * ssedge's threads (DEFAULT_THREAD_PRIO,
                                         * 1) */
#define TCPIP_MBOX_SIZE             16
#define DEFAULT_THREAD_STACKSIZE    1024
#define DEFAULT_TCP_RECVMBOX_SIZE   8
#define DEFAULT_UDP_RECVMBOX_SIZE   4
#define DEFAULT_RAW_RECVMBOX_SIZE   4
#define DEFAULT_ACCEPTMBOX_SIZE     4

/* ---- memory ------------------------------------------------------------- */
/* ssedge connection slots lwIP is sized for: CONFIG_SSE_MAX_CONNECTIONS of
 * configs/cortex_m4_lwip_defconfig. The board's lwIP and ssedge must see
 * the same value (set it here, or pass -DSSE_LWIP_CONNECTIONS=N to both:
 * scripts/size.sh does so for its 16-connection build). */
#ifndef SSE_LWIP_CONNECTIONS
#define SSE_LWIP_CONNECTIONS        4
#endif
/* Sockets (lwIP's socket table is MEMP_NUM_NETCONN long): one per slot, the
 * listener, the one connection the listener answers itself when every slot
 * is busy, and 2 for the application. ssedge's lwIP port checks
 * MEMP_NUM_NETCONN >= CONFIG_SSE_MAX_CONNECTIONS + 1 at compile time. */
#define MEMP_NUM_NETCONN            (SSE_LWIP_CONNECTIONS + 4)
#define MEMP_NUM_TCP_PCB            (SSE_LWIP_CONNECTIONS + 6) /* + TIME_WAIT */
#define MEMP_NUM_TCP_PCB_LISTEN     2
#define MEMP_NUM_UDP_PCB            4   /* DHCP + application */
/* Unsent/unacked segments: a full send queue for every slot and one more
 * (SSE writes are small, often one segment each). */
#define MEMP_NUM_TCP_SEG            (TCP_SND_QUEUELEN * (SSE_LWIP_CONNECTIONS + 1))
#define MEMP_NUM_PBUF               16
#define MEMP_NUM_NETBUF             4
#define PBUF_POOL_SIZE              8   /* Rx buffers of ~1.5 KiB: requests are
                                         * small, streams receive nothing */
/* lwIP heap: lwip_send() copies into it, and each stream may hold up to
 * TCP_SND_BUF unacknowledged there until CONFIG_SSE_SEND_TIMEOUT_MS cuts a
 * peer that stopped reading. */
#define MEM_SIZE                    ((SSE_LWIP_CONNECTIONS + 1) * TCP_SND_BUF + 2048)

/* ---- protocols ---------------------------------------------------------- */
#define LWIP_ETHERNET               1
#define LWIP_ARP                    1
#define LWIP_IPV4                   1
#define LWIP_IPV6                   1   /* "::" listeners take both */
#define LWIP_ICMP                   1
#define LWIP_DHCP                   1
#define LWIP_UDP                    1
#define LWIP_TCP                    1
#define LWIP_RAW                    0
#define LWIP_IGMP                   0
#define LWIP_DNS                    0   /* ssedge only parses numeric addresses */

/* ---- TCP ----------------------------------------------------------------- */
#define TCP_MSS                     1460
/* Two segments in flight per stream: ssedge's send buffer is 2 KiB and a
 * peer that stops reading is cut after CONFIG_SSE_SEND_TIMEOUT_MS. */
#define TCP_SND_BUF                 (2 * TCP_MSS)
#define TCP_WND                     (2 * TCP_MSS)  /* requests are small */
#define TCP_LISTEN_BACKLOG          1   /* honour CONFIG_SSE_LISTEN_BACKLOG */
#define LWIP_TCP_KEEPALIVE          1

/* ---- sockets ------------------------------------------------------------ */
#define LWIP_NETCONN                1
#define LWIP_SOCKET                 1
/* lwip_socket(), lwip_recv()...: no unprefixed names or macros (as in
 * Debian's hosted lwIP), so nothing shadows newlib's read/write/close. */
#define LWIP_COMPAT_SOCKETS         0
#define LWIP_POSIX_SOCKETS_IO_NAMES 0
#define LWIP_SO_RCVTIMEO            1   /* struct timeval, as POSIX */
#define LWIP_SO_SNDTIMEO            1
#define SO_REUSE                    1   /* SO_REUSEADDR */
#define LWIP_SOCKET_SELECT          1
#define LWIP_SOCKET_POLL            1

/* ---- statistics and debug ------------------------------------------------ */
#define LWIP_STATS                  0

#endif /* LWIPOPTS_H */
