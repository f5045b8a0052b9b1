/* SPDX-License-Identifier: MIT */
/* Suite registration entry points and helpers shared by the tests. */
#ifndef SSE_TESTS_H
#define SSE_TESTS_H

#include <stddef.h>
#include <CUnit/CUnit.h>

/* Each returns 0 on success (CUnit registry error otherwise). */
int test_http_register(void);
int test_event_register(void);
int test_ring_register(void);
int test_port_register(void);   /* the port contract, on the port built in */
int test_timer_register(void);
int test_server_register(void);
int test_fanout_register(void); /* the fan-out writer through real sockets */
int test_connbuf_register(void); /* the pool of connection buffers */
int test_contract_register(void); /* what sse.h promises */
int test_uplink_register(void);   /* the uplink to a hub (none without CONFIG_SSE_UPLINK) */
int test_tls_register(void);    /* no tests unless CONFIG_SSE_TLS */
int test_fuzz_register(void);   /* seeds and fuzz regressions replayed */
int test_publish_register(void); /* POST /publish (core/sse_ingest.c) */

/* A suite is a table of its tests; TB_TEST(fn) names one after its
 * function (SPDK's CU_ADD_TEST idea). */
typedef struct tb_test {
    const char *name;
    CU_TestFunc fn;
} tb_test_t;
#define TB_TEST(fn) { #fn, (fn) }

/* Add suite name with every test of tests[0..n); setup and teardown run
 * around each test (NULL: nothing). 0, or -1 with CUnit's error set. */
int tb_add_suite(const char *name, CU_InitializeFunc init, CU_CleanupFunc clean,
                 CU_SetUpFunc setup, CU_TearDownFunc teardown,
                 const tb_test_t *tests, size_t n);
/* The usual case: no per-test setup, the whole table. */
#define TB_SUITE(name, init, clean, tests) \
    tb_add_suite((name), (init), (clean), NULL, NULL, (tests), \
                 sizeof(tests) / sizeof((tests)[0]))

#endif /* SSE_TESTS_H */
