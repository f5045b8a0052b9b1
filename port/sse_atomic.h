/* SPDX-License-Identifier: MIT */
/* The few atomics core/ and the lwIP port use, on the GCC/clang builtins that every supported
 * toolchain has (gcc, clang, arm-none-eabi-gcc); 32-bit (or machine-word)
 * only, so Cortex-M needs no libatomic. */
#ifndef SSE_ATOMIC_H
#define SSE_ATOMIC_H

#if !defined(__GNUC__)
#error "ssedge needs the __atomic builtins of GCC or clang (port/sse_atomic.h)"
#endif

#define sse_load_acq(p)     __atomic_load_n((p), __ATOMIC_ACQUIRE)
#define sse_load_rlx(p)     __atomic_load_n((p), __ATOMIC_RELAXED)
#define sse_store_rel(p, v) __atomic_store_n((p), (v), __ATOMIC_RELEASE)
#define sse_store_rlx(p, v) __atomic_store_n((p), (v), __ATOMIC_RELAXED)
#define sse_fence_acq()     __atomic_thread_fence(__ATOMIC_ACQUIRE)
#define sse_fence_rel()     __atomic_thread_fence(__ATOMIC_RELEASE)
#define sse_fence_full()    __atomic_thread_fence(__ATOMIC_SEQ_CST)
/* ThreadSanitizer builds: orderings only it needs to be shown (it does not
 * model the fences a seqlock relies on; real hardware does). */
#if defined(__SANITIZE_THREAD__)
#define SSE_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define SSE_TSAN 1
#endif
#endif

/* A seqlock reader's speculative copy: it may overlap a writer's overwrite
 * and is thrown away when the check after it fails. That overlap is the
 * design, not a bug, so ThreadSanitizer is told not to record the copy's
 * reads (its writes to the reader's own buffer are private); elsewhere
 * these are nothing. */
#if defined(SSE_TSAN)
void AnnotateIgnoreReadsBegin(const char *file, int line);
void AnnotateIgnoreReadsEnd(const char *file, int line);
#define sse_seqlock_copy_begin() AnnotateIgnoreReadsBegin(__FILE__, __LINE__)
#define sse_seqlock_copy_end()   AnnotateIgnoreReadsEnd(__FILE__, __LINE__)
#else
#define sse_seqlock_copy_begin() ((void)0)
#define sse_seqlock_copy_end()   ((void)0)
#endif

/* A statistics counter: a machine word, so lock-free everywhere. */
#define sse_count(p)        ((void)__atomic_fetch_add((p), 1, __ATOMIC_RELAXED))

#endif /* SSE_ATOMIC_H */
