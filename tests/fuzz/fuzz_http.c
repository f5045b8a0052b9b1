/* SPDX-License-Identifier: MIT */
/* libFuzzer target: the HTTP request parser and its properties. */
#include "fuzz_props.h"

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n);

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
    return fz_hold("fuzz_http", fz_http_check(d, n));
}
