/* SPDX-License-Identifier: MIT */
/* libFuzzer target: the SSE framer (event, comment and retry frames) and its properties. */
#include "fuzz_props.h"

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n);

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
    return fz_hold("fuzz_event", fz_event_check(d, n));
}
