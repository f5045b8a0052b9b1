/* SPDX-License-Identifier: MIT */
/* The listener: a slot and a thread per connection, or the overload answer
 * when every slot is busy. */
#include <stdio.h>
#include <string.h>
#include "sse_log.h"
#include "sse_atomic.h"
#include "sse_srv.h"

/* All slots busy: answer from the listener itself, quickly. A browser's
 * EventSource gives up for good on any non-200 answer, so a stream request
 * gets a 200 stream holding only a retry back-off and is closed; the
 * browser reconnects after it. Anything else gets 503 + Retry-After. */
static void overload(sse_port_sock_t *s)
{
    sse_http_req_t rq;
    int status = 0, r;
    size_t got;
    if (S.tls) {
        /* A handshake would hold the listener; a closed connection is a
         * network error to a browser, which retries. */
        sse_port_close(s);
        return;
    }
    /* The listener reads the request itself, so a connection that sends
     * nothing would hold it for the whole timeout; a row of them would
     * stall every answer behind. After one such connection the next get
     * only what has already arrived (1 ms), until one sends a request in
     * time: a browser sends its request with the connect, and one that
     * is cut short sees a network error and retries. */
    r = sse_read_request(s, NULL, S.scratch, sizeof S.scratch, 0, &rq, sse_port_now_ms(),
                         S.quiet_streak ? 1u : CONFIG_SSE_OVERLOAD_TIMEOUT_MS, &status, &got);
    if (r < 0 && status == 408) {
        /* No request in time: no answer either. A 503 would end an
         * EventSource for good; a closed connection makes it retry. */
        S.quiet_streak = 1;
        sse_port_close(s);
        return;
    }
    S.quiet_streak = 0;
    if (r > 0 && sse_route_match(&rq, &status) && status == 0) {
        int n = (int)sizeof SSE_STREAM_HEAD - 1;
        memcpy(S.scratch, SSE_STREAM_HEAD, (size_t)n);
        memcpy(S.scratch + n, "\r\n", 2);
        n += 2;
        r = sse_event_retry(S.scratch + n, sizeof S.scratch - (size_t)n,
                            S.cfg.overload_retry_ms, NULL);
        if (r > 0)
            sse_port_send(s, S.scratch, (size_t)(n + r), CONFIG_SSE_OVERLOAD_TIMEOUT_MS);
        sse_drain_close(s, NULL, S.scratch, sizeof S.scratch);
    } else if (r == 0) {
        sse_port_close(s);
    } else {
        char ra[40];
        snprintf(ra, sizeof ra, "Retry-After: %lu\r\n",
                 (unsigned long)((S.cfg.overload_retry_ms + 999) / 1000));
        sse_answer_close(s, NULL, S.scratch, sizeof S.scratch, 503, sse_no_origin, ra,
                         CONFIG_SSE_OVERLOAD_TIMEOUT_MS, r > 0 && sse_method_is(rq.method, "HEAD"));
    }
}

static struct sse_conn *take_slot(sse_port_sock_t *s)
{
    unsigned i;
    struct sse_conn *c = NULL;
    sse_port_mutex_lock(&S.lock);
    for (i = 0; i < S.cfg.max_connections; i++) {
        if (S.conns[i].state == C_FREE) {
            c = &S.conns[i];
            c->state = C_HTTP;
            c->gen++;
            c->sock = *s;
            S.active++;
            sse_count(&S.n.accepted);
            break;
        }
    }
    if (!c)
        sse_count(&S.n.overloaded);
    sse_port_mutex_unlock(&S.lock);
    return c;
}

void sse_listener_thread(void *unused)
{
    (void)unused;
    while (!sse_srv_stopping()) {
        sse_port_sock_t cs;
        struct sse_conn *c;
        int r = sse_port_accept(&S.listener, &cs, CONFIG_SSE_ACCEPT_POLL_MS);
        if (r == SSE_ERR_TIMEOUT)
            continue;
        if (r != SSE_OK) {
            /* Out of descriptors or a stack error: back off, don't spin. */
            SSE_LOG(SSE_LOG_WARN, "accept failed: %s", sse_strerror(r));
            sse_port_sleep_ms(CONFIG_SSE_ACCEPT_POLL_MS / 4 + 1);
            continue;
        }
        c = take_slot(&cs);
        if (c)
            S.quiet_streak = 0; /* not overloaded now */
        if (!c) {
            char who[SSE_PORT_PEER_LEN];
            SSE_LOG(SSE_LOG_INFO, "%s: all %u slots busy: overload answer", WHO(&cs, who),
                    S.cfg.max_connections);
            overload(&cs);
            continue;
        }
        if (sse_port_thread_create(sse_conn_thread, c, CONFIG_SSE_THREAD_STACK_SIZE,
                                   "sse_conn") != SSE_OK) {
            SSE_LOG(SSE_LOG_ERR, "no thread for a connection: overload answer");
            sse_port_sock_init(&c->sock);
            sse_conn_release(c);
            overload(&cs);
        }
    }
    sse_port_close(&S.listener);
    sse_port_mutex_lock(&S.lock);
    S.listener_alive = 0;
    sse_port_cond_broadcast(&S.idle);
    sse_port_mutex_unlock(&S.lock);
}
