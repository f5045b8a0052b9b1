/* SPDX-License-Identifier: MIT */
/* Host helpers every test program shares (the CUnit runner, the attack and
 * soak clients, the attack and e2e servers; the bench client's count_dir): a monotonic clock and naps,
 * this process's thread and descriptor counts and address space, and the one-line replies of
 * the test servers' stdin control protocol. Plain libc, no ssedge. */
#ifndef SSE_HOST_UTIL_H
#define SSE_HOST_UTIL_H

long now_ms(void);       /* monotonic, in ms */
void sleep_ms(long ms);  /* whole naps (EINTR resumes); <= 0 returns at once */
int  count_dir(const char *path); /* entries but . and .., -1 if unreadable */
int  threads_now(void);  /* threads of this process */
int  fds_now(void);      /* open descriptors of this process */
/* A field of /proc/self/status in KiB ("VmSize": the address space,
 * "RssAnon": resident heap, stacks and data); -1 if unreadable. */
long proc_status_kib(const char *field);

/* One line of the control protocol on stdout, flushed at once: the driver
 * waits for it. */
#if defined(__GNUC__)
__attribute__((format(printf, 1, 2)))
#endif
void ctl_reply(const char *fmt, ...);

#endif /* SSE_HOST_UTIL_H */
