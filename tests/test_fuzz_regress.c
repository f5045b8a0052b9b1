/* SPDX-License-Identifier: MIT */
/* Suite "fuzz": the seed corpora and every input a fuzzer once broke
 * (tests/fuzz/regress/<target>/), replayed through the fuzz targets' own
 * property checks: parser, framer, and connections to a real server. */
#define _GNU_SOURCE
/* 32-bit builds under qemu-user on a 64-bit ext4 host: readdir() fails with
 * EOVERFLOW unless offsets are 64-bit (seen on armhf). */
#define _FILE_OFFSET_BITS 64
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <CUnit/CUnit.h>
#include "tests.h"
#include "fuzz/fuzz_props.h"
/* The Makefile compiles only the .c files directly in tests/: the checks come in as source. */
#include "fuzz/fuzz_props.c"
#ifdef CONFIG_SSE_PORT_POSIX
#include "fuzz/fuzz_net.c" /* loopback TCP from the host's own sockets */
#endif

#define FZ_MAX_INPUT (64u * 1024u)

typedef const char *(*fz_check_fn)(const uint8_t *d, size_t n);

/* Run from the repository root (as make test does), or say where with
 * SSE_FUZZ_DIR. */
static const char *fz_root(void)
{
    const char *r = getenv("SSE_FUZZ_DIR");
    return r && *r ? r : "tests/fuzz";
}

static int fz_not_dot(const struct dirent *e)
{
    return e->d_name[0] != '.';
}

static char fz_msg[1024];

/* Replay every file of root/kind/target through check; each failure names
 * its file. @return files replayed, -1 if the directory is missing. */
static int fz_replay(const char *kind, const char *target, fz_check_fn check)
{
    char dir[256], path[512];
    struct dirent **names;
    uint8_t *buf = malloc(FZ_MAX_INPUT);
    int n, i;

    CU_ASSERT_FATAL(buf != NULL);
    snprintf(dir, sizeof dir, "%s/%s/%s", fz_root(), kind, target);
    n = scandir(dir, &names, fz_not_dot, alphasort);
    if (n < 0) {
        free(buf);
        return -1;
    }
    for (i = 0; i < n; i++) {
        FILE *f;
        size_t len = 0;
        const char *why = "cannot read the file";

        snprintf(path, sizeof path, "%s/%s", dir, names[i]->d_name);
        f = fopen(path, "rb");
        if (f) {
            len = fread(buf, 1, FZ_MAX_INPUT, f);
            why = ferror(f) ? "cannot read the file" : check(buf, len);
            fclose(f);
        }
        snprintf(fz_msg, sizeof fz_msg, "%s: %s", path, why ? why : "");
        CU_assertImplementation(why == NULL ? CU_TRUE : CU_FALSE, __LINE__, fz_msg, __FILE__,
                                "", CU_FALSE);
        free(names[i]);
    }
    free(names);
    free(buf);
    return n;
}

/* Seeds must be there (a run from elsewhere would pass vacuously);
 * regression directories may not exist yet. */
static void fz_replay_target(const char *target, fz_check_fn check)
{
    int seeds = fz_replay("corpus", target, check);
    snprintf(fz_msg, sizeof fz_msg, "no seeds under %s/corpus/%s (set SSE_FUZZ_DIR)", fz_root(),
             target);
    CU_assertImplementation(seeds > 0 ? CU_TRUE : CU_FALSE, __LINE__, fz_msg, __FILE__, "",
                            CU_FALSE);
    (void)fz_replay("regress", target, check);
}

static void test_fuzz_http_inputs(void)
{
    fz_replay_target("fuzz_http", fz_http_check);
}

static void test_fuzz_event_inputs(void)
{
    fz_replay_target("fuzz_event", fz_event_check);
}

#ifdef CONFIG_SSE_PORT_POSIX
static void test_fuzz_conn_inputs(void)
{
    CU_ASSERT_EQUAL_FATAL(fz_conn_start(), SSE_OK);
    fz_replay_target("fuzz_conn", fz_conn_check);
    fz_conn_stop();
}
#endif

static const tb_test_t tests[] = {
    TB_TEST(test_fuzz_http_inputs),
    TB_TEST(test_fuzz_event_inputs),
#ifdef CONFIG_SSE_PORT_POSIX
    TB_TEST(test_fuzz_conn_inputs),
#endif
};

int test_fuzz_register(void)
{
    return TB_SUITE("fuzz", NULL, NULL, tests);
}
