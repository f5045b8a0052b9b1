/* SPDX-License-Identifier: MIT */
/* The one CUnit runner: checks its arguments, registers the suites asked
 * for (the table below is the one list), runs them; exit 1 on a failure.
 * Usage: sse_tests [-s suite]... [-l] [-h]   (bad arguments exit 2) */
#include <stdio.h>
#include <string.h>
#include <CUnit/Basic.h>
#include "tests.h"
#include "host_util.h"
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
    { "connbuf", test_connbuf_register },
    { "contract", test_contract_register },
    { "uplink", test_uplink_register },
    { "tls",    test_tls_register },
    { "fuzz",   test_fuzz_register },
    { "publish", test_publish_register },
};
#define NSUITES (sizeof suites / sizeof suites[0])

int tb_add_suite(const char *name, CU_InitializeFunc init, CU_CleanupFunc clean,
                 CU_SetUpFunc setup, CU_TearDownFunc teardown,
                 const tb_test_t *tests, size_t n)
{
    CU_pSuite s = CU_add_suite_with_setup_and_teardown(name, init, clean, setup,
                                                       teardown);
    if (s == NULL)
        return -1;
    for (size_t k = 0; k < n; k++)
        if (CU_add_test(s, tests[k].name, tests[k].fn) == NULL)
            return -1;
    return 0;
}

static void list_suites(FILE *f, const char *sep)
{
    for (size_t k = 0; k < NSUITES; k++)
        fprintf(f, "%s%s", k ? sep : "", suites[k].name);
}

static int is_suite(const char *name)
{
    for (size_t k = 0; k < NSUITES; k++)
        if (strcmp(suites[k].name, name) == 0)
            return 1;
    return 0;
}

static void usage(void)
{
    printf("usage: sse_tests [-s SUITE]... [-l] [-h]\n"
           "  -s SUITE    run this suite (repeatable); default: every suite\n"
           "  -l          list the suites, one a line, and exit\n"
           "  -h, --help  print this and exit\n"
           "suites: ");
    list_suites(stdout, " ");
    printf("\nexit status: 0 all passed, 1 a test failed, 2 bad arguments or set-up\n");
}

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
    /* Every argument is checked before anything runs: a misspelt suite
     * must not quietly run nothing, or everything. */
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
            usage();
            return 0;
        }
        if (strcmp(argv[i], "-l") == 0) {
            list_suites(stdout, "\n");
            putchar('\n');
            return 0;
        }
        if (strcmp(argv[i], "-s") == 0) {
            if (i + 1 >= argc) {
                fprintf(stderr, "sse_tests: -s: needs a suite name (suites: ");
                list_suites(stderr, " ");
                fprintf(stderr, ")\n");
                return 2;
            }
            if (!is_suite(argv[++i])) {
                fprintf(stderr, "sse_tests: no suite \"%s\" (suites: ", argv[i]);
                list_suites(stderr, " ");
                fprintf(stderr, ")\n");
                return 2;
            }
            continue;
        }
        fprintf(stderr, "sse_tests: %s: unknown argument (sse_tests --help)\n", argv[i]);
        return 2;
    }
    /* The port's network stack (lwIP: tcpip thread and tap netif). */
    if (tb_up() != 0)
        return 2;
    printf("backend: %s, clients connect to %s\n", tb_name(), tb_client_addr());
    int base_threads = count_dir("/proc/self/task"); /* the backend's own */
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
    /* A stopped server's connection threads are detached: the last may
     * still be on its way out. Let them finish (2 s at most), so a leak
     * checker at exit sees none of them alive. */
    for (long end = now_ms() + 2000;
         base_threads > 0 && count_dir("/proc/self/task") > base_threads && now_ms() < end;)
        sleep_ms(5);
    return bad ? 1 : 0;
}
