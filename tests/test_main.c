/* SPDX-License-Identifier: MIT */
/* The one CUnit runner: registers every suite, runs them, exit code = failures.
 * Usage: sse_tests [-s suite]... [-l]   (-l lists suites) */
#include <stdio.h>
#include <string.h>
#include <CUnit/Basic.h>
#include "tests.h"
#include "backend/backend.h"

static const struct {
    const char *name;
    int (*reg)(void);
} suites[] = {
    { "http",   test_http_register },
    { "event",  test_event_register },
    { "ring",   test_ring_register },
    { "port",   test_port_register },
    { "timer",  test_timer_register },
    { "server", test_server_register },
    { "fanout", test_fanout_register },
    { "tls",    test_tls_register },
    { "fuzz",   test_fuzz_register },
};
#define NSUITES (sizeof suites / sizeof suites[0])

static int wanted(const char *name, int argc, char **argv)
{
    int any = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "-s") == 0 && i + 1 < argc) {
            any = 1;
            if (strcmp(argv[i + 1], name) == 0)
                return 1;
        }
    }
    return !any;
}

int main(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "-l") == 0) {
            for (size_t k = 0; k < NSUITES; k++)
                puts(suites[k].name);
            return 0;
        }
    }
    /* The port's network stack (lwIP: tcpip thread and tap netif). */
    if (tb_up() != 0)
        return 2;
    printf("backend: %s, clients connect to %s\n", tb_name(), tb_client_addr());
    if (CU_initialize_registry() != CUE_SUCCESS)
        return 2;
    for (size_t k = 0; k < NSUITES; k++) {
        if (wanted(suites[k].name, argc, argv) && suites[k].reg() != 0) {
            fprintf(stderr, "cannot register suite %s: %s\n", suites[k].name,
                    CU_get_error_msg());
            CU_cleanup_registry();
            return 2;
        }
    }
    CU_basic_set_mode(CU_BRM_VERBOSE);
    CU_basic_run_tests();
    /* CU_basic_run_tests() reports success even when asserts fail. */
    unsigned bad = CU_get_number_of_tests_failed() +
                   CU_get_number_of_suites_failed();
    CU_cleanup_registry();
    return bad ? 1 : 0;
}
