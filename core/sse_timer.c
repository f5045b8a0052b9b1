/* SPDX-License-Identifier: MIT */
/* Timer service: static slots, one thread, periods on the port's clock.
 * It knows nothing of servers: a timer may carry an owner id, and
 * sse_timer_del_conn() removes an owner's timers. */
#include "sse_opt.h"
#include "sse_port.h"
#include "sse_log.h"
#include "sse_timer.h"

typedef struct timer_slot {
    uint16_t          gen;     /* part of the id: a stale id never matches */
    uint8_t           used;
    uint32_t          period;
    uint32_t          due;     /* port clock, compared by signed difference */
    sse_conn_id_t     conn;    /* SSE_CONN_NONE for a global timer */
    sse_timer_fn      fn;
    sse_conn_timer_fn cfn;
    void             *arg;
} timer_slot_t;

static struct {
    sse_port_mutex_t lock;
    sse_port_cond_t  cond;     /* new timer, stop, or a callback finished */
    int              inited;
    int              running;  /* thread should run */
    int              alive;    /* thread has not finished yet */
    int              firing;   /* slot whose callback runs now, or -1 */
    timer_slot_t     t[CONFIG_SSE_MAX_TIMERS];
} T;

/* The lock lives as long as the process; created by the first user, which
 * is the server's start (single-threaded by contract) or a test. */
static int timer_init(void)
{
    if (T.inited)
        return SSE_OK;
    if (sse_port_mutex_init(&T.lock) != SSE_OK)
        return SSE_ERR_NOMEM;
    if (sse_port_cond_init(&T.cond) != SSE_OK) {
        sse_port_mutex_destroy(&T.lock);
        return SSE_ERR_NOMEM;
    }
    T.firing = -1;
    T.inited = 1;
    return SSE_OK;
}

static int timer_id(int idx)
{
    return (int)(((uint32_t)(T.t[idx].gen & 0x7FFFu) << 16) | (uint32_t)(idx + 1));
}

static int add(uint32_t period_ms, sse_conn_id_t conn, sse_timer_fn fn,
               sse_conn_timer_fn cfn, void *arg)
{
    int i, id = SSE_ERR_NOMEM;
    if (period_ms == 0 || period_ms > INT32_MAX || (!fn && !cfn))
        return SSE_ERR_ARG;
    if (timer_init() != SSE_OK)
        return SSE_ERR_NOMEM;
    sse_port_mutex_lock(&T.lock);
    for (i = 0; i < CONFIG_SSE_MAX_TIMERS; i++) {
        timer_slot_t *s = &T.t[i];
        if (s->used)
            continue;
        s->used = 1;
        s->gen++;
        s->period = period_ms;
        s->due = sse_port_now_ms() + period_ms;
        s->conn = conn;
        s->fn = fn;
        s->cfn = cfn;
        s->arg = arg;
        id = timer_id(i);
        sse_port_cond_broadcast(&T.cond);
        break;
    }
    sse_port_mutex_unlock(&T.lock);
    if (id == SSE_ERR_NOMEM)
        SSE_LOG(SSE_LOG_WARN, "timer slots full (CONFIG_SSE_MAX_TIMERS=%d)",
                CONFIG_SSE_MAX_TIMERS);
    return id;
}

int sse_timer_add(uint32_t period_ms, sse_timer_fn fn, void *arg)
{
    if (!fn)
        return SSE_ERR_ARG;
    return add(period_ms, SSE_CONN_NONE, fn, NULL, arg);
}

int sse_timer_add_owned(sse_conn_id_t owner, uint32_t period_ms, sse_conn_timer_fn fn,
                        void *arg)
{
    if (!fn || owner == SSE_CONN_NONE)
        return SSE_ERR_ARG;
    return add(period_ms, owner, NULL, fn, arg);
}

int sse_timer_del(int id)
{
    int idx = (int)((uint32_t)id & 0xFFFFu) - 1;
    int r = SSE_ERR_ARG;
    if (id <= 0 || idx < 0 || idx >= CONFIG_SSE_MAX_TIMERS || !T.inited)
        return SSE_ERR_ARG;
    sse_port_mutex_lock(&T.lock);
    if (T.t[idx].used && timer_id(idx) == id) {
        T.t[idx].used = 0;
        r = SSE_OK;
    }
    sse_port_mutex_unlock(&T.lock);
    return r;
}

void sse_timer_del_conn(sse_conn_id_t conn)
{
    int i, busy;
    if (!T.inited || conn == SSE_CONN_NONE)
        return;
    sse_port_mutex_lock(&T.lock);
    for (i = 0; i < CONFIG_SSE_MAX_TIMERS; i++)
        if (T.t[i].used && T.t[i].conn == conn)
            T.t[i].used = 0;
    /* A callback for this connection may be running right now; the caller
     * is about to free the connection, so wait it out. */
    do {
        busy = T.firing >= 0 && T.t[T.firing].conn == conn;
        if (busy)
            sse_port_cond_wait(&T.cond, &T.lock, SSE_PORT_FOREVER);
    } while (busy);
    sse_port_mutex_unlock(&T.lock);
}

unsigned sse_timer_count(void)
{
    unsigned n = 0;
    int i;
    if (!T.inited)
        return 0;
    sse_port_mutex_lock(&T.lock);
    for (i = 0; i < CONFIG_SSE_MAX_TIMERS; i++)
        n += T.t[i].used;
    sse_port_mutex_unlock(&T.lock);
    return n;
}

static void timer_thread(void *unused)
{
    (void)unused;
    sse_port_mutex_lock(&T.lock);
    while (T.running) {
        uint32_t now = sse_port_now_ms();
        int32_t wait = INT32_MAX;
        int i, next = -1;
        for (i = 0; i < CONFIG_SSE_MAX_TIMERS; i++) {
            int32_t d;
            if (!T.t[i].used)
                continue;
            d = (int32_t)(T.t[i].due - now);
            if (next < 0 || d < wait) {
                wait = d;
                next = i;
            }
        }
        if (next < 0) {
            sse_port_cond_wait(&T.cond, &T.lock, SSE_PORT_FOREVER);
        } else if (wait > 0) {
            sse_port_cond_wait(&T.cond, &T.lock, (uint32_t)wait);
        } else {
            timer_slot_t *s = &T.t[next];
            sse_timer_fn fn = s->fn;
            sse_conn_timer_fn cfn = s->cfn;
            sse_conn_id_t conn = s->conn;
            void *arg = s->arg;
            /* Keep the cadence; after a long stall skip the missed ticks
             * rather than firing a burst. */
            s->due += s->period;
            if ((int32_t)(now - s->due) >= 0)
                s->due = now + s->period;
            T.firing = next;
            sse_port_mutex_unlock(&T.lock);
            if (cfn)
                cfn(conn, arg);
            else
                fn(arg);
            sse_port_mutex_lock(&T.lock);
            T.firing = -1;
            sse_port_cond_broadcast(&T.cond);
        }
    }
    T.alive = 0;
    sse_port_cond_broadcast(&T.cond);
    sse_port_mutex_unlock(&T.lock);
}

int sse_timer_service_start(void)
{
    int r, i;
    if (timer_init() != SSE_OK)
        return SSE_ERR_NOMEM;
    sse_port_mutex_lock(&T.lock);
    if (T.alive) {
        sse_port_mutex_unlock(&T.lock);
        return SSE_ERR_BUSY;
    }
    T.running = 1;
    T.alive = 1;
    /* Timers added while stopped count their first period from now. */
    for (i = 0; i < CONFIG_SSE_MAX_TIMERS; i++)
        if (T.t[i].used)
            T.t[i].due = sse_port_now_ms() + T.t[i].period;
    sse_port_mutex_unlock(&T.lock);
    r = sse_port_thread_create(timer_thread, NULL, CONFIG_SSE_THREAD_STACK_SIZE,
                               "sse_timer");
    if (r != SSE_OK) {
        sse_port_mutex_lock(&T.lock);
        T.running = 0;
        T.alive = 0;
        sse_port_mutex_unlock(&T.lock);
    }
    return r;
}

void sse_timer_service_stop(void)
{
    int i;
    if (!T.inited)
        return;
    sse_port_mutex_lock(&T.lock);
    T.running = 0;
    sse_port_cond_broadcast(&T.cond);
    while (T.alive)
        sse_port_cond_wait(&T.cond, &T.lock, SSE_PORT_FOREVER);
    for (i = 0; i < CONFIG_SSE_MAX_TIMERS; i++)
        T.t[i].used = 0;
    sse_port_mutex_unlock(&T.lock);
}
