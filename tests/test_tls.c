/* SPDX-License-Identifier: MIT */
/* TLS suite: the server over mbedTLS with real clients (curl, openssl). */
#include "tests.h"

int test_tls_register(void)
{
    return 0; /* filled in below when CONFIG_SSE_TLS */
}
