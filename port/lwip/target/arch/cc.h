/* SPDX-License-Identifier: MIT */
/**
 * @file arch/cc.h
 * @brief Compiler/C-library glue for lwIP on a Cortex-M4 with
 *        arm-none-eabi-gcc and newlib: an example for boards.
 *
 * lwIP's lwip/arch.h includes this first; it replaces Debian's hosted
 * (Linux) arch/cc.h when port/lwip/target comes first on the include path.
 * Nothing here needs an RTOS header.
 */
#ifndef LWIP_ARCH_CC_H
#define LWIP_ARCH_CC_H

#include <stdint.h>

/* newlib's headers come first, so lwIP uses newlib's definitions instead
 * of its own. struct timeval (SO_RCVTIMEO/SO_SNDTIMEO, select): newlib's. */
#define LWIP_TIMEVAL_PRIVATE 0
#include <sys/time.h>
/* fd_set, FD_SET... always from newlib (FD_SETSIZE 64 >= MEMP_NUM_NETCONN):
 * <sys/time.h> brings them only in gnu99/BSD mode, so without this a file
 * built with -std=c99 (ssedge) would get lwIP's own, smaller fd_set and
 * one built with -std=gnu99 (often lwIP itself) newlib's, and
 * lwip_select() would copy 8 bytes into a 1-byte set. */
#include <sys/select.h>
/* O_NONBLOCK, F_GETFL, F_SETFL for lwip_fcntl() from newlib too: lwIP
 * defines O_NONBLOCK as 1 only when nobody else did, so a file that
 * includes <fcntl.h> (0x4000) and lwIP's sockets.c would disagree. */
#include <fcntl.h>

/* Cortex-M4 is little endian (newlib defines BYTE_ORDER itself in
 * gnu99/BSD mode). lwIP supplies lwip_htons()/lwip_htonl(). */
#ifndef BYTE_ORDER
#define BYTE_ORDER LITTLE_ENDIAN
#endif

/* newlib's <errno.h> has the usual values (EWOULDBLOCK == EAGAIN, EINTR,
 * ETIMEDOUT...): lwIP's lwip/errno.h uses it instead of its own table, so
 * a port comparing errno against E* constants sees one set of numbers. */
#define LWIP_ERRNO_STDINCLUDE 1

/* Diagnostics and assertions: a board routes these to its console and
 * fault handler. Kept free of printf/abort so lwIP's headers pull in
 * nothing heavy; lwIP's own sources see them only with LWIP_DEBUG or
 * assertions on. */
void lwip_board_diag(const char *fmt, ...);
void lwip_board_assert(const char *msg, const char *file, int line);
#define LWIP_PLATFORM_DIAG(x)   do { lwip_board_diag x; } while (0)
#define LWIP_PLATFORM_ASSERT(x) do { lwip_board_assert((x), __FILE__, __LINE__); } while (0)

/* Random numbers for initial sequence numbers, local ports, DHCP/DNS ids:
 * the board's hardware RNG (STM32F4: RNG->DR). */
uint32_t lwip_board_rand(void);
#define LWIP_RAND() ((u32_t)lwip_board_rand())

/* GCC packs with __attribute__((packed)) (lwIP's default for __GNUC__);
 * 4-byte memory alignment is set in lwipopts.h (MEM_ALIGNMENT). */

#endif /* LWIP_ARCH_CC_H */
