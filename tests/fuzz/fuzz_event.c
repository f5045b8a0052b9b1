/* SPDX-License-Identifier: MIT */
/* libFuzzer target: the SSE framer (event, comment and retry frames) and its properties. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include "fuzz_props.h"

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n);

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
    const char *why = fz_event_check(d, n);
    if (why) {
        fprintf(stderr, "fuzz_event: property broken: %s\n", why);
        abort();
    }
    return 0;
}
