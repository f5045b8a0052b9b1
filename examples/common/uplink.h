/* SPDX-License-Identifier: MIT */
/* The --uplink, --uplink-token and --uplink-ca flags the programs share:
 * reading them, refusing a token or CA without a URL, and starting the
 * uplink (sse_uplink.h) once the server runs. */
#ifndef SSE_EXAMPLES_UPLINK_H
#define SSE_EXAMPLES_UPLINK_H

#include "ssedge/sse.h"
#include "args.h"

/* The flags' --help paragraphs; @p what: the events that go up. */
#define UPLINK_HELP(what) \
    "    --uplink URL\n" \
    "        Also forward " what "\n" \
    "        to a hub such as nginx + nchan (examples/nchan): POST to\n" \
    "        http[s]://HOST[:PORT]/PATH, one keep-alive connection, everything the\n" \
    "        hub has not acknowledged sent again after an outage. Needs a build\n" \
    "        with CONFIG_SSE_UPLINK. Default: none.\n" \
    "    --uplink-token TOKEN\n" \
    "        \"Authorization: Bearer TOKEN\" on every POST to the hub. Default: none.\n" \
    "    --uplink-ca PEM\n" \
    "        For an https hub: the CA its certificate must chain to (required\n" \
    "        then). Default: none.\n"

/* 1 if the current flag is one of the uplink's (its value taken), else 0.
 * @p with_ca: whether the program offers --uplink-ca (https hubs). */
static inline int uplink_flag(args_t *a, sse_uplink_cfg_t *u, int with_ca)
{
    if (args_is(a, "--uplink"))
        u->url = args_str(a, "a URL http[s]://HOST[:PORT]/PATH");
    else if (args_is(a, "--uplink-token"))
        u->token = args_str(a, "a bearer token");
    else if (with_ca && args_is(a, "--uplink-ca"))
        u->ca_file = args_str(a, "a PEM file");
    else
        return 0;
    return 1;
}

/* After the flags: a token or a CA means nothing without the hub's URL. */
static inline void uplink_check(const args_t *a, const sse_uplink_cfg_t *u)
{
    if ((u->token || u->ca_file) && !u->url)
        args_fail_flag(a, u->token ? "--uplink-token" : "--uplink-ca", "needs --uplink too");
}

/* Once the server runs: forward its events if --uplink was given. The URL
 * is checked here (ssedge logs what is wrong with it); the hub is only
 * reached from the uplink's thread, so one that is down is no error.
 * @return SSE_OK, also without --uplink; else the server is stopped again
 *         and the caller names --uplink and the URL, then exits 1. */
static inline int uplink_start_or_stop(const sse_uplink_cfg_t *u)
{
    int r;
    if (!u->url || (r = sse_uplink_start(u)) == SSE_OK)
        return SSE_OK;
    sse_server_stop();
    return r;
}

/* At the end, before sse_server_stop(). */
static inline void uplink_stop(const sse_uplink_cfg_t *u)
{
    if (u->url)
        sse_uplink_stop();
}

#endif /* SSE_EXAMPLES_UPLINK_H */
