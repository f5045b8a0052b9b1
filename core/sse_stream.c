/* SPDX-License-Identifier: MIT */
/* A stream's own part: its head, the Last-Event-ID replay, on_open, what
 * its socket could not take at once; then it parks for the fan-out writer. */
#include <string.h>
#include "sse_log.h"
#include "sse_atomic.h"
#include "sse_srv.h"

/* Send the stream's head (CORS headers and the retry hint included). */
int sse_stream_open(struct sse_conn *c)
{
    size_t n = sizeof SSE_STREAM_HEAD - 1;
    int r;
    memcpy(c->buf->out, SSE_STREAM_HEAD, n);
    r = sse_cors_headers(c->buf->out + n, sizeof c->buf->out - n - 2, c->origin);
    if (r < 0)
        return SSE_ERR_TOO_LARGE;
    n += (size_t)r;
    memcpy(c->buf->out + n, "\r\n", 2);
    n += 2;
    if (S.cfg.retry_ms && !c->head_only) {
        r = sse_event_retry(c->buf->out + n, sizeof c->buf->out - n, S.cfg.retry_ms, NULL);
        n += r > 0 ? (size_t)r : 0;
    }
    return sse_io_send(&c->sock, &c->tls, c->buf->out, n, S.cfg.send_timeout_ms);
}

/* A stream's own part: the rest of what its socket did not take at once
 * from the fan-out writer, the replay after Last-Event-ID, and any events
 * that came meanwhile, with sends that may wait up to send_timeout_ms for a
 * slow peer. Once caught up it gives its buffers back and parks, and the
 * fan-out writer sends to it until it falls behind, leaves or ends. on_open
 * runs once the replay is out. */
void sse_stream_run(struct sse_conn *c, sse_fan_t *f, const sse_route_t *route,
                   const sse_http_req_t *rq)
{
    char who[SSE_PORT_PEER_LEN];
    int opened = 0, why;
    f->last_send = f->last_check = sse_port_now_ms();
    while (!sse_srv_stopping() && !sse_load_acq(&f->kill)) {
        const char *p = c->buf->out;
        int n;
        if (f->hb_left) {
            p = &SSE_FAN_HEARTBEAT[SSE_FAN_HEARTBEAT_LEN - (int)f->hb_left];
            n = (int)f->hb_left;
            f->hb_left = 0;
        } else {
            uint32_t skip = f->skip, run = f->run;
            f->skip = f->run = 0;
            n = sse_ring_read(&S.ring, &f->cursor, f->mask, f->id, c->buf->out,
                              sizeof c->buf->out);
            /* Publishes this: the copy above happened before any later
             * overwrite of those bytes (see sse_fanout_order_reads). */
            sse_store_rel(&f->acked, (uint32_t)f->cursor);
            /* The writer's half-sent run comes back whole, the same bytes
             * first; shorter would mean its start left the ring. */
            if (n < 0 || (uint32_t)n < run)
                goto behind;
            /* Its rest goes first and alone, exactly as the writer's send
             * was cut: a TLS session may hold that send's record half out,
             * and mbedTLS takes only the same call again. */
            if (run) {
                if (sse_io_send(&c->sock, &c->tls, p + skip, run - skip,
                                S.cfg.send_timeout_ms) != SSE_OK)
                    goto failed;
                f->last_send = f->last_check = sse_port_now_ms();
                p += run;
                n -= (int)run;
            }
        }
        if (n > 0) {
            if (sse_io_send(&c->sock, &c->tls, p, (size_t)n, S.cfg.send_timeout_ms) != SSE_OK)
                goto failed;
            f->last_send = f->last_check = sse_port_now_ms();
            continue;
        }
        if (!opened) {
            opened = 1;
            if (route->on_open)
                route->on_open(f->id, rq, route->user);
            continue;
        }
        /* Parked, the stream needs no buffer: the next thread at work
         * takes this one while its pages are still warm. */
        sse_conn_give_back(c);
        why = sse_fan_park(f);
        if (why == SSE_FAN_MORE) {
            sse_count(&S.n.slow_sends);
            if (!sse_conn_borrow(c, S.cfg.send_timeout_ms)) {
                if (sse_srv_stopping() || sse_load_acq(&f->kill))
                    return; /* ended while it waited: nothing failed */
                SSE_LOG(SSE_LOG_WARN, "%s: no connection buffer free in %u ms for a slow "
                        "send (CONFIG_SSE_CONN_BUFS); closing", WHO(&c->sock, who),
                        (unsigned)S.cfg.send_timeout_ms);
                goto failed;
            }
            continue;
        }
        if (why == SSE_FAN_BEHIND)
            goto behind;
        if (why == SSE_FAN_FAILED)
            goto failed;
        return; /* the peer left, sse_conn_close() or stop */
    }
    return;
behind:
    sse_count(&S.n.fell_behind);
    SSE_LOG(SSE_LOG_INFO, "%s: stream fell behind the ring (CONFIG_SSE_RING_BYTES/EVENTS); closing",
            WHO(&c->sock, who));
    return;
failed:
    sse_count(&S.n.send_failures);
}
