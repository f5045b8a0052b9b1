/* SPDX-License-Identifier: MIT */
/* Publishing into the ring (to all, a channel or one stream), closing one
 * stream, its timers, channel names. */
#include <string.h>
#include "sse_log.h"
#include "sse_atomic.h"
#include "sse_timer.h"
#include "sse_srv.h"
#include "sse_uplink_int.h"

/* Encode into the ring under the lock, then wake the streams that may want
 * it with one call, whatever their number. */
static int publish(int channel, sse_conn_id_t target, const char *event,
                   const char *data, size_t len, uint64_t *id)
{
    sse_event_t ev;
    size_t need = 0;
    char *dst;
    int r;

    if (channel < SSE_CHANNEL_ALL || channel >= CONFIG_SSE_MAX_CHANNELS)
        return SSE_ERR_ARG;
    if (sse_srv_init() != SSE_OK)
        return SSE_ERR_NOMEM;
    memset(&ev, 0, sizeof ev);
    ev.event = event;
    ev.data = data ? data : "";
    ev.data_len = data ? len : 0;
    ev.has_id_num = 1;

    sse_port_mutex_lock(&S.lock);
    if (target != SSE_CONN_NONE) {
        struct sse_conn *c = sse_srv_conn(target);
        if (!c || c->state != C_STREAM) {
            sse_port_mutex_unlock(&S.lock);
            return SSE_ERR_CLOSED;
        }
    }
    ev.id_num = S.ring.head_id;
    r = sse_event_encode(NULL, 0, &ev, &need);
    if (r != SSE_ERR_TOO_LARGE) {
        sse_port_mutex_unlock(&S.lock);
        return r < 0 ? r : SSE_ERR_INVALID;
    }
    if (need > CONFIG_SSE_MAX_EVENT_BYTES) {
        sse_port_mutex_unlock(&S.lock);
        return SSE_ERR_TOO_LARGE;
    }
    /* Readers copy without a lock: order their past copies before the
     * overwrites below. */
    sse_fanout_order_reads();
    sse_uplink_order_reads();
    dst = sse_ring_reserve(&S.ring, (uint32_t)need);
    r = sse_event_encode(dst, need, &ev, NULL);
    sse_ring_commit(&S.ring, (uint32_t)need,
                    channel == SSE_CHANNEL_ALL ? SSE_RING_ALL : (uint8_t)channel, target);
    if (id)
        *id = ev.id_num;
    sse_port_mutex_unlock(&S.lock);
    sse_fence_full(); /* the new head before the writer's bell moves */
    sse_fanout_published();
    if (target == SSE_CONN_NONE)
        sse_uplink_kick();
    return r > 0 ? SSE_OK : r;
}

int sse_conn_close(sse_conn_id_t conn)
{
    struct sse_conn *c;
    int r = SSE_ERR_CLOSED;
    if (!sse_srv_ready())
        return SSE_ERR_CLOSED;
    sse_port_mutex_lock(&S.lock);
    c = sse_srv_conn(conn);
    if (c && c->state == C_STREAM) {
        sse_store_rel(&sse_fan_of((unsigned)(c - S.conns))->kill, 1);
        r = SSE_OK;
    }
    sse_port_mutex_unlock(&S.lock);
    if (r == SSE_OK)
        sse_fanout_kick(); /* a parked stream: the writer hands it back */
    return r;
}

/* The stream is checked and the timer added under the server's lock, and
 * a closing stream leaves C_STREAM under that lock before its timers are
 * removed: an add either comes first (and is removed with the others) or
 * sees the stream gone. Lock order: S.lock, then the timer service's. */
int sse_conn_timer_add(sse_conn_id_t conn, uint32_t period_ms, sse_conn_timer_fn fn,
                       void *arg)
{
    struct sse_conn *c;
    int r;
    if (!fn || conn == SSE_CONN_NONE)
        return SSE_ERR_ARG;
    if (!sse_srv_ready())
        return SSE_ERR_CLOSED;
    sse_port_mutex_lock(&S.lock);
    c = sse_srv_conn(conn);
    r = c && c->state == C_STREAM ? sse_timer_add_owned(conn, period_ms, fn, arg)
                                  : SSE_ERR_CLOSED;
    sse_port_mutex_unlock(&S.lock);
    return r;
}

int sse_channel(const char *name)
{
    int r = SSE_ERR_ARG;
    unsigned i;
    if (!sse_srv_ready() || !name)
        return SSE_ERR_ARG;
    sse_port_mutex_lock(&S.lock);
    for (i = 0; S.running && i < S.cfg.num_channel_names; i++) {
        if (strcmp(S.chan_names[i], name) == 0) {
            r = (int)i;
            break;
        }
    }
    sse_port_mutex_unlock(&S.lock);
    return r;
}

int sse_publish(int channel, const char *event, const char *data, size_t len, uint64_t *id)
{
    return publish(channel, SSE_CONN_NONE, event, data, len, id);
}

int sse_send_to(sse_conn_id_t conn, const char *event, const char *data, size_t len,
                uint64_t *id)
{
    if (conn == SSE_CONN_NONE)
        return SSE_ERR_ARG;
    return publish(SSE_CHANNEL_ALL, conn, event, data, len, id);
}
