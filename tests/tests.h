/* SPDX-License-Identifier: MIT */
/* Suite registration entry points and helpers shared by the tests. */
#ifndef SSE_TESTS_H
#define SSE_TESTS_H

#include <CUnit/CUnit.h>

/* Each returns 0 on success (CUnit registry error otherwise). */
int test_http_register(void);
int test_event_register(void);
int test_ring_register(void);
int test_port_register(void);   /* the port contract, on the port built in */
int test_timer_register(void);
int test_server_register(void);
int test_fanout_register(void); /* the fan-out writer through real sockets */
int test_contract_register(void); /* what sse.h promises */
int test_uplink_register(void);   /* the uplink to a hub (none without CONFIG_SSE_UPLINK) */
int test_tls_register(void);    /* no tests unless CONFIG_SSE_TLS */
int test_fuzz_register(void);   /* seeds and fuzz regressions replayed */
int test_publish_register(void); /* POST /publish (core/sse_ingest.c) */

/* Add a test named after its function (SPDK's CU_ADD_TEST idea). */
#define TEST_ADD(suite, fn) \
    (CU_add_test((suite), #fn, (fn)) == NULL ? -1 : 0)

#endif /* SSE_TESTS_H */
