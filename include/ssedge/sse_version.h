/* SPDX-License-Identifier: MIT */
/**
 * @file sse_version.h
 * @brief ssedge's version, for programs and for ssedge.pc (one place).
 *
 * Semantic versioning: MAJOR changes when a program written for the
 * previous one may no longer build or behave the same; MINOR adds without
 * breaking; PATCH only fixes. Before 1.0.0 a MINOR step may break.
 * A program that needs a feature checks at compile time, e.g.
 *
 *     #if SSE_VERSION_MAJOR == 0 && SSE_VERSION_MINOR < 2
 *     #error "needs ssedge 0.2 or later"
 *     #endif
 *
 * `make install` copies SSE_VERSION_STRING into ssedge.pc, so
 * `pkg-config --modversion ssedge` and `pkg-config --atleast-version=0.2.0
 * ssedge` report the same version as this header. These are the headers'
 * version: the one a program was compiled against.
 */
#ifndef SSE_VERSION_H
#define SSE_VERSION_H

#define SSE_VERSION_MAJOR 0      /**< incompatible API changes */
#define SSE_VERSION_MINOR 2      /**< additions that keep the API */
#define SSE_VERSION_PATCH 0      /**< fixes only */
/** "MAJOR.MINOR.PATCH", the same numbers as the three macros above. */
#define SSE_VERSION_STRING "0.2.0"

#endif /* SSE_VERSION_H */
