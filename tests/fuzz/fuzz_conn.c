/* SPDX-License-Identifier: MIT */
/* libFuzzer target: whole connections through the real server over loopback
 * TCP (request bytes in, answer bytes checked; see fuzz_net.c). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include "ssedge/sse_err.h"
#include "fuzz_props.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n);

/* One server for the whole run: starting one per input would cost more than
 * the input. It is never stopped; the process exit ends it. */
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    int r = fz_conn_start();
    (void)argc;
    (void)argv;
    if (r != SSE_OK) {
        fprintf(stderr, "fuzz_conn: server did not start: %s\n", sse_strerror(r));
        abort();
    }
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
    return fz_hold("fuzz_conn", fz_conn_check(d, n));
}
