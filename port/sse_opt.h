/* SPDX-License-Identifier: MIT */
/**
 * @file sse_opt.h
 * @brief Every tunable of ssedge (core/ and the ports): Kconfig values,
 * fallbacks, consistency checks. Beside the port contract, since ports read
 * it too.
 *
 * Kconfig builds pass build/include/sse_config.h with -imacros. A build
 * without Kconfig may name its own file with -DSSE_USER_CONFIG="file.h";
 * anything still undefined falls back to the Kconfig default below, the
 * conditional ones (TLS, port) included: scripts/check-kconfig.py
 * compares the two for every port and TLS combination.
 */
#ifndef SSE_OPT_H
#define SSE_OPT_H

#ifdef SSE_USER_CONFIG
#include SSE_USER_CONFIG
#endif

#ifndef CONFIG_SSE_THREAD_STACK_SIZE
#if defined(CONFIG_SSE_TLS)
#define CONFIG_SSE_THREAD_STACK_SIZE 49152 /* mbedTLS's handshake goes deep */
#else
#define CONFIG_SSE_THREAD_STACK_SIZE 16384
#endif
#endif
#ifndef CONFIG_SSE_LISTEN_BACKLOG
#define CONFIG_SSE_LISTEN_BACKLOG 16
#endif
#ifndef CONFIG_SSE_ACCEPT_POLL_MS
#define CONFIG_SSE_ACCEPT_POLL_MS 200
#endif
#ifndef CONFIG_SSE_MAX_CONNECTIONS
#define CONFIG_SSE_MAX_CONNECTIONS 16
#endif
#ifndef CONFIG_SSE_REQ_BUF_SIZE
#define CONFIG_SSE_REQ_BUF_SIZE 1024
#endif
#ifndef CONFIG_SSE_HTTP_MAX_REQUEST_LINE
#define CONFIG_SSE_HTTP_MAX_REQUEST_LINE 512
#endif
#ifndef CONFIG_SSE_HTTP_MAX_HEADERS
#define CONFIG_SSE_HTTP_MAX_HEADERS 32
#endif
#ifndef CONFIG_SSE_SEND_BUF_SIZE
#define CONFIG_SSE_SEND_BUF_SIZE 2048
#endif
#ifndef CONFIG_SSE_CONN_BUFS
#define CONFIG_SSE_CONN_BUFS CONFIG_SSE_MAX_CONNECTIONS
#endif
#ifndef CONFIG_SSE_HEADER_TIMEOUT_MS
#define CONFIG_SSE_HEADER_TIMEOUT_MS 5000
#endif
#ifndef CONFIG_SSE_SEND_TIMEOUT_MS
#define CONFIG_SSE_SEND_TIMEOUT_MS 5000
#endif
#ifndef CONFIG_SSE_IDLE_CHECK_MS
#define CONFIG_SSE_IDLE_CHECK_MS 1000
#endif
#ifndef CONFIG_SSE_OVERLOAD_TIMEOUT_MS
#define CONFIG_SSE_OVERLOAD_TIMEOUT_MS 100
#endif
#ifndef CONFIG_SSE_OVERLOAD_RETRY_MS
#define CONFIG_SSE_OVERLOAD_RETRY_MS 10000
#endif
#ifndef CONFIG_SSE_RING_BYTES
#define CONFIG_SSE_RING_BYTES 16384
#endif
#ifndef CONFIG_SSE_RING_EVENTS
#define CONFIG_SSE_RING_EVENTS 128
#endif
#ifndef CONFIG_SSE_MAX_EVENT_BYTES
#define CONFIG_SSE_MAX_EVENT_BYTES 1024
#endif
#ifndef CONFIG_SSE_MAX_CHANNELS
#define CONFIG_SSE_MAX_CHANNELS 8
#endif
#ifndef CONFIG_SSE_MAX_CORS_ORIGINS
#define CONFIG_SSE_MAX_CORS_ORIGINS 4
#endif
#ifndef CONFIG_SSE_MAX_ROUTES
#define CONFIG_SSE_MAX_ROUTES 8
#endif
#ifndef CONFIG_SSE_RETRY_MS
#define CONFIG_SSE_RETRY_MS 3000
#endif
#ifndef CONFIG_SSE_HEARTBEAT_MS
#define CONFIG_SSE_HEARTBEAT_MS 15000
#endif
#ifndef CONFIG_SSE_FANOUT_INLINE_STREAMS
#if defined(CONFIG_SSE_PORT_LWIP)
#define CONFIG_SSE_FANOUT_INLINE_STREAMS 0
#else
#define CONFIG_SSE_FANOUT_INLINE_STREAMS 32
#endif
#endif
#ifndef CONFIG_SSE_FANOUT_BATCH
#if defined(CONFIG_SSE_PORT_IO_URING)
#define CONFIG_SSE_FANOUT_BATCH 64
#else
#define CONFIG_SSE_FANOUT_BATCH 1
#endif
#endif
#ifndef CONFIG_SSE_FANOUT_REST_PERCENT
#define CONFIG_SSE_FANOUT_REST_PERCENT 100
#endif
#ifndef CONFIG_SSE_FANOUT_REST_MAX_MS
#define CONFIG_SSE_FANOUT_REST_MAX_MS 2
#endif
#ifndef CONFIG_SSE_COALESCE_MS
#define CONFIG_SSE_COALESCE_MS 0
#endif
#ifndef CONFIG_SSE_PUBLISH_BODY_MAX
#if defined(CONFIG_SSE_PORT_LWIP)
#define CONFIG_SSE_PUBLISH_BODY_MAX 0
#else
#define CONFIG_SSE_PUBLISH_BODY_MAX 1024
#endif
#endif
#ifndef CONFIG_SSE_MAX_TIMERS
#define CONFIG_SSE_MAX_TIMERS 16
#endif
#ifndef CONFIG_SSE_SOCK_SNDBUF
#define CONFIG_SSE_SOCK_SNDBUF 0
#endif
#ifndef CONFIG_SSE_AUTH_MIN_TOKEN_LEN
#define CONFIG_SSE_AUTH_MIN_TOKEN_LEN 16
#endif
/* lwIP port: MEMP_NUM_NETCONN checked against the slots (Kconfig's
 * SSE_LWIP_NETCONN_CHECK). Kconfig's header (SSE_KCONFIG) defines a bool
 * only when it is set; a build without Kconfig checks unless its
 * SSE_USER_CONFIG defines CONFIG_SSE_LWIP_NETCONN_CHECK 0. */
#ifndef CONFIG_SSE_LWIP_NETCONN_CHECK
#if defined(SSE_KCONFIG)
#define CONFIG_SSE_LWIP_NETCONN_CHECK 0
#else
#define CONFIG_SSE_LWIP_NETCONN_CHECK 1
#endif
#endif
#if defined(CONFIG_SSE_TLS)
#ifndef CONFIG_SSE_TLS_HANDSHAKE_TIMEOUT_MS
#define CONFIG_SSE_TLS_HANDSHAKE_TIMEOUT_MS 10000
#endif
#ifndef CONFIG_SSE_TLS_IN_CONTENT_LEN
#define CONFIG_SSE_TLS_IN_CONTENT_LEN 16384
#endif
#ifndef CONFIG_SSE_TLS_OUT_CONTENT_LEN
#define CONFIG_SSE_TLS_OUT_CONTENT_LEN 4096
#endif
#endif
#if defined(CONFIG_SSE_UPLINK)
#ifndef CONFIG_SSE_UPLINK_BUF_SIZE
#define CONFIG_SSE_UPLINK_BUF_SIZE 2048
#endif
#ifndef CONFIG_SSE_UPLINK_ROUTES
#define CONFIG_SSE_UPLINK_ROUTES 4
#endif
#ifndef CONFIG_SSE_UPLINK_CONNECT_TIMEOUT_MS
#define CONFIG_SSE_UPLINK_CONNECT_TIMEOUT_MS 3000
#endif
#ifndef CONFIG_SSE_UPLINK_ANSWER_TIMEOUT_MS
#define CONFIG_SSE_UPLINK_ANSWER_TIMEOUT_MS 5000
#endif
#ifndef CONFIG_SSE_UPLINK_BACKOFF_MIN_MS
#define CONFIG_SSE_UPLINK_BACKOFF_MIN_MS 200
#endif
#ifndef CONFIG_SSE_UPLINK_BACKOFF_MAX_MS
#define CONFIG_SSE_UPLINK_BACKOFF_MAX_MS 10000
#endif
#if CONFIG_SSE_UPLINK_BUF_SIZE < CONFIG_SSE_MAX_EVENT_BYTES + 320
#error "CONFIG_SSE_UPLINK_BUF_SIZE must hold the largest event plus its POST head: raise it in menuconfig"
#endif
#endif
#ifndef CONFIG_SSE_LOG_LEVEL
#define CONFIG_SSE_LOG_LEVEL 2
#endif
#ifndef CONFIG_SSE_LOG_LINE
#define CONFIG_SSE_LOG_LINE 160
#endif

/* Checks Kconfig ranges cannot express (they relate two options). */
#if CONFIG_SSE_MAX_EVENT_BYTES > CONFIG_SSE_SEND_BUF_SIZE
#error "CONFIG_SSE_MAX_EVENT_BYTES must fit CONFIG_SSE_SEND_BUF_SIZE; set them in menuconfig"
#endif
#if 2 * CONFIG_SSE_MAX_EVENT_BYTES > CONFIG_SSE_RING_BYTES
#error "CONFIG_SSE_RING_BYTES must hold at least two largest events; set it in menuconfig"
#endif
#if CONFIG_SSE_PUBLISH_BODY_MAX > CONFIG_SSE_MAX_EVENT_BYTES
#error "CONFIG_SSE_PUBLISH_BODY_MAX must not exceed CONFIG_SSE_MAX_EVENT_BYTES (the body is one event's data, read into the send buffer)"
#endif
#if CONFIG_SSE_HTTP_MAX_REQUEST_LINE >= CONFIG_SSE_REQ_BUF_SIZE
#error "CONFIG_SSE_HTTP_MAX_REQUEST_LINE must be smaller than CONFIG_SSE_REQ_BUF_SIZE"
#endif
#if CONFIG_SSE_MAX_CHANNELS > 32
#error "CONFIG_SSE_MAX_CHANNELS is at most 32 (one bit each in a connection's mask)"
#endif
#if CONFIG_SSE_MAX_CONNECTIONS > 65535
#error "CONFIG_SSE_MAX_CONNECTIONS must fit 16 bits (connection ids hold it)"
#endif
#if CONFIG_SSE_FANOUT_BATCH < 1
#error "CONFIG_SSE_FANOUT_BATCH is at least 1 (1: every send on its own)"
#endif

#endif /* SSE_OPT_H */
