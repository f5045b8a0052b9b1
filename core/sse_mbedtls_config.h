/* SPDX-License-Identifier: MIT */
/* mbedTLS settings that follow ssedge's Kconfig. Firmware that builds
 * mbedTLS itself passes this file as MBEDTLS_USER_CONFIG_FILE (with
 * -imacros of sse_config.h), so each TLS connection's record buffers are
 * CONFIG_SSE_TLS_IN/OUT_CONTENT_LEN bytes. A prebuilt library (Debian's)
 * keeps the sizes it was built with; ssedge logs them at start. */
#ifndef SSE_MBEDTLS_CONFIG_H
#define SSE_MBEDTLS_CONFIG_H

#if defined(CONFIG_SSE_TLS)
#undef MBEDTLS_SSL_IN_CONTENT_LEN
#define MBEDTLS_SSL_IN_CONTENT_LEN CONFIG_SSE_TLS_IN_CONTENT_LEN
#undef MBEDTLS_SSL_OUT_CONTENT_LEN
#define MBEDTLS_SSL_OUT_CONTENT_LEN CONFIG_SSE_TLS_OUT_CONTENT_LEN
/* Lets a client ask for smaller records (RFC 6066 max_fragment_length). */
#define MBEDTLS_SSL_MAX_FRAGMENT_LENGTH
/* One random generator is shared by every connection thread. */
#define MBEDTLS_THREADING_C
#endif

#endif /* SSE_MBEDTLS_CONFIG_H */
