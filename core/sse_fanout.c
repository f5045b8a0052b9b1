/* SPDX-License-Identifier: MIT */
/* The fan-out writer: parked streams, the writer thread's sweep over them,
 * non-blocking sends, heartbeats and idle checks, hand-backs. */
#include "sse_opt.h"
#include "sse_port.h"
#include "sse_atomic.h"
#include "sse_log.h"
#include "sse_fanout.h"

#define WORDS ((CONFIG_SSE_MAX_CONNECTIONS + 31) / 32)

static struct {
    sse_port_mutex_t lock;     /* hand-backs, parking, the writer's end */
    sse_port_cond_t  done;     /* the writer thread finished */
    sse_port_evt_t   bell;     /* the writer sleeps here; kicks ring it */
    int              inited;
    int              running;  /* atomic: the writer should go on */
    int              alive;    /* the writer thread has not finished */
    int              closed;   /* no parking: the writer is gone or going */
    sse_ring_t      *ring;
    uint32_t         heartbeat_ms, idle_check_ms, coalesce_ms;
    unsigned         inline_max; /* parked streams a publisher sends to itself */
    unsigned         hiwater;  /* atomic: slots 0..hiwater-1 have streamed */
    unsigned         nparked;  /* atomic: streams the writer holds */
    int              sweeping; /* atomic: someone sweeps (the writer or a publisher) */
    int              missed;   /* atomic: a sweep was wanted while one ran */
    uint32_t         acked;    /* atomic: the writer's sweeps, for order_reads */
    unsigned long    rests;    /* atomic: see sse_fanout_rests() */
    uint32_t         parked[WORDS]; /* atomic bit per slot: the writer holds it */
    /* The writer's copy of the events due, shared by every stream at the
     * same cursor with the same channels: copied once, sent to each. */
    struct {
        uint64_t start, end;
        uint32_t mask;
        int      n;
        int      valid;
        int      partial; /* stopped before the head: buf full, or a race */
    } cache;
    char             buf[CONFIG_SSE_SEND_BUF_SIZE];
    /* Sends of this sweep gathered for the port (all from buf, which is not
     * refilled before they go): each stream's cursor once its send is whole. */
    sse_port_send_t  out[CONFIG_SSE_FANOUT_BATCH];
    uint64_t         out_end[CONFIG_SSE_FANOUT_BATCH];
    uint16_t         out_slot[CONFIG_SSE_FANOUT_BATCH];
    unsigned         nout;
    uint32_t         now;      /* the sweep's clock */
    int              more;     /* a stream whose batch went has more to send */
    char             scratch[16]; /* what an idle check reads and drops */
    sse_fan_t        fans[CONFIG_SSE_MAX_CONNECTIONS];
} F;

int sse_fanout_init(void)
{
    if (F.inited)
        return SSE_OK;
    if (sse_port_mutex_init(&F.lock) != SSE_OK || sse_port_cond_init(&F.done) != SSE_OK ||
        sse_port_evt_init(&F.bell) != SSE_OK)
        return SSE_ERR_NOMEM;
    F.closed = 1;
    F.inited = 1;
    return SSE_OK;
}

sse_fan_t *sse_fan_of(unsigned slot)
{
    return &F.fans[slot];
}

sse_fan_t *sse_fan_open(unsigned slot)
{
    sse_fan_t *f = &F.fans[slot];
    /* Made on a slot's first stream, so slots never used stay untouched.
     * Nobody waits on it between streams. */
    if (!f->cv_ready && sse_port_cond_init(&f->cv) != SSE_OK)
        return NULL;
    f->cv_ready = 1;
    unsigned hw = sse_load_rlx(&F.hiwater);
    while (slot >= hw && !__atomic_compare_exchange_n(&F.hiwater, &hw, slot + 1, 0,
                                                      __ATOMIC_RELAXED, __ATOMIC_RELAXED))
        ;
    f->run = f->skip = 0;
    f->hb_left = 0;
    f->why = SSE_FAN_MORE;
    sse_store_rlx(&f->kill, 0);
    return f;
}

void sse_fanout_kick(void)
{
    sse_port_evt_wake(&F.bell, 1);
}

void sse_fanout_order_reads(void)
{
#if defined(SSE_TSAN)
    /* A loop over every stream on each publish: only for the sanitizer. */
    unsigned i, hw = sse_load_acq(&F.hiwater);
    (void)sse_load_acq(&F.acked);
    for (i = 0; i < hw; i++)
        (void)sse_load_acq(&F.fans[i].acked);
#endif
}

/* ---- the stream's side ------------------------------------------------------ */

int sse_fan_park(sse_fan_t *f)
{
    unsigned i = (unsigned)(f - F.fans);
    int why;
    sse_port_mutex_lock(&F.lock);
    if (F.closed) {
        sse_port_mutex_unlock(&F.lock);
        return SSE_FAN_END;
    }
    f->parked = 1;
    __atomic_fetch_add(&F.nparked, 1, __ATOMIC_RELEASE);
    /* Release: the writer that sees the bit sees cursor and the rest. */
    __atomic_fetch_or(&F.parked[i / 32], 1u << (i % 32), __ATOMIC_RELEASE);
    sse_port_mutex_unlock(&F.lock);
    /* Events published since our last look, and our heartbeat and idle
     * deadlines, are the writer's now: let it take them into account. */
    sse_fanout_kick();
    sse_port_mutex_lock(&F.lock);
    while (f->parked)
        sse_port_cond_wait(&f->cv, &F.lock, SSE_PORT_FOREVER);
    why = f->why;
    sse_port_mutex_unlock(&F.lock);
    return why;
}

/* ---- the writer's side ------------------------------------------------------- */

/* Give slot @p i back to its thread. */
static void hand_back(unsigned i, int why)
{
    sse_fan_t *f = &F.fans[i];
    __atomic_fetch_and(&F.parked[i / 32], ~(1u << (i % 32)), __ATOMIC_RELAXED);
    __atomic_fetch_sub(&F.nparked, 1, __ATOMIC_RELAXED);
    sse_port_mutex_lock(&F.lock);
    f->why = why;
    f->parked = 0;
    sse_port_cond_signal(&f->cv);
    sse_port_mutex_unlock(&F.lock);
}

/* A send of @p n bytes of events for parked slot @p i, its cursor to be
 * @p end once they are all out, took @p r (< 0: it failed). Short, the
 * cursor stays at this run and the stream's thread reads it again from the
 * ring and skips what went. @return -1 if the stream went back to its
 * thread, else 1 if it has more to send right away, 0 if not. */
static int settle(unsigned i, int r, int n, uint64_t end, uint32_t now)
{
    sse_fan_t *f = &F.fans[i];
    if (r < 0) {
        hand_back(i, SSE_FAN_FAILED);
        return -1;
    }
    if (r > 0)
        f->last_send = f->last_check = now;
    if (r < n) {
        f->run = (uint32_t)n;
        f->skip = (uint32_t)r;
        hand_back(i, SSE_FAN_MORE);
        return -1;
    }
    f->cursor = end;
    return sse_ring_has_new(F.ring, end);
}

/* Shrink *wait to a stream's next heartbeat or idle check, its last send
 * @p since_send and its last sign of the peer @p since_check ms ago. */
static void shrink_wait(uint32_t since_send, uint32_t since_check, uint32_t *wait)
{
    uint32_t next = F.idle_check_ms - since_check;
    if (F.heartbeat_ms && F.heartbeat_ms - since_send < next)
        next = F.heartbeat_ms - since_send;
    if (next < *wait)
        *wait = next;
}

/* Send what was gathered, and settle each stream. */
static void flush(void)
{
    unsigned k, n = F.nout;
    if (n == 0)
        return;
    F.nout = 0;
    (void)sse_port_try_send_many(F.out, n);
    for (k = 0; k < n; k++)
        if (settle(F.out_slot[k], F.out[k].res, (int)F.out[k].len, F.out_end[k], F.now) > 0)
            F.more = 1;
}

/* Gather F.buf's first @p n bytes for parked slot @p i, its cursor to be
 * @p end once they are out. */
static void gather(unsigned i, int n, uint64_t end)
{
    sse_port_send_t *o = &F.out[F.nout];
    o->sock = &F.fans[i].sock;
    o->buf = F.buf;
    o->len = (size_t)n;
    F.out_slot[F.nout] = (uint16_t)i;
    F.out_end[F.nout] = end;
    if (++F.nout == CONFIG_SSE_FANOUT_BATCH)
        flush();
}

/* The events due for @p f into F.buf (or already there for an earlier
 * stream at the same cursor and channels). @return bytes (0: nothing for
 * its channels), or SSE_ERR_CLOSED if it fell off the ring; *end gets the
 * cursor after them. */
static int fill(const sse_fan_t *f, uint64_t *end)
{
    uint64_t cur = f->cursor;
    int n, personal = 0;
    /* Events published since the copy was made go to the streams this sweep
     * has yet to serve: copied again, they wait no whole sweep more (at 1000
     * streams a sweep takes milliseconds). A copy that stopped short stays. */
    if (F.cache.valid && F.cache.start == cur && F.cache.mask == f->mask &&
        (F.cache.partial || !sse_ring_has_new(F.ring, F.cache.end))) {
        *end = F.cache.end;
        return F.cache.n;
    }
    flush(); /* what was gathered goes out of F.buf before it changes */
    n = sse_ring_read_ex(F.ring, &cur, f->mask, f->id, F.buf, sizeof F.buf, &personal);
    F.cache.valid = n >= 0 && !personal;
    F.cache.partial = n >= 0 && sse_ring_has_new(F.ring, cur);
    F.cache.start = f->cursor;
    F.cache.end = cur;
    F.cache.mask = f->mask;
    F.cache.n = n;
    *end = cur;
    return n;
}

/* Send @p n bytes to parked slot @p i without waiting. @return the bytes
 * the socket took, or -1: the send failed and the stream went back. */
static int push(sse_fan_t *f, unsigned i, const char *buf, int n, uint32_t now)
{
    int r = sse_io_try_send(&f->sock, f->tls, buf, (size_t)n);
    if (r < 0) {
        hand_back(i, SSE_FAN_FAILED);
        return -1;
    }
    if (r > 0)
        f->last_send = f->last_check = now;
    return r;
}

/* One parked stream: its new events, else a heartbeat or an idle check
 * when due. *wait shrinks to its next deadline. @return 1 if it has more
 * events to send right away. */
static int serve(unsigned i, uint32_t now, uint32_t *wait)
{
    sse_fan_t *f = &F.fans[i];
    int more = 0;
    if (sse_load_acq(&f->kill)) {
        hand_back(i, SSE_FAN_END);
        return 0;
    }
    if (sse_ring_has_new(F.ring, f->cursor)) {
        uint64_t end;
        int n = fill(f, &end);
        if (n < 0) {
            hand_back(i, SSE_FAN_BEHIND);
            return 0;
        }
        if (n > 0 && !(f->tls && f->tls->live)) {
            /* Out with the batch: then it has just sent (or is back with
             * its thread), so no heartbeat or idle check is due. */
            gather(i, n, end);
            shrink_wait(0, 0, wait);
            return 0;
        }
        more = settle(i, n > 0 ? sse_io_try_send(&f->sock, f->tls, F.buf, (size_t)n) : 0, n,
                      end, now);
        if (more < 0)
            return 0;
    }
    if (F.heartbeat_ms && now - f->last_send >= F.heartbeat_ms) {
        int r = push(f, i, SSE_FAN_HEARTBEAT, SSE_FAN_HEARTBEAT_LEN, now);
        if (r < 0)
            return 0;
        if (r < SSE_FAN_HEARTBEAT_LEN) {
            f->hb_left = (uint32_t)(SSE_FAN_HEARTBEAT_LEN - r);
            hand_back(i, SSE_FAN_MORE);
            return 0;
        }
    } else if (now - f->last_check >= F.idle_check_ms) {
        /* Nothing to say for a while: is the peer still there? A stream
         * never reads, so EOF or a reset here means it left. */
        int r = sse_io_recv(&f->sock, f->tls, F.scratch, sizeof F.scratch, 0);
        if (r != SSE_ERR_TIMEOUT && r <= 0) {
            hand_back(i, SSE_FAN_GONE);
            return 0;
        }
        f->last_check = now;
    }
    shrink_wait(now - f->last_send, now - f->last_check, wait);
    return more;
}

/* Every parked stream once. @return 1 if some have more to send now. */
static int sweep(uint32_t *wait)
{
    uint32_t now = sse_port_now_ms();
    unsigned w, hw = (sse_load_acq(&F.hiwater) + 31) / 32;
    int again = 0;
    F.cache.valid = 0;
    F.now = now;
    F.more = 0;
    *wait = SSE_PORT_FOREVER;
    for (w = 0; w < hw; w++) {
        uint32_t bits = __atomic_load_n(&F.parked[w], __ATOMIC_ACQUIRE);
        while (bits) {
            unsigned b = (unsigned)__builtin_ctz(bits);
            bits &= bits - 1;
            again |= serve(w * 32 + b, now, wait);
        }
    }
    flush();
    again |= F.more;
    /* Our copies out of the ring are done (see sse_fanout_order_reads). */
    sse_store_rel(&F.acked, sse_load_rlx(&F.acked) + 1);
    return again;
}

static int try_role(void)
{
    int expected = 0;
    return __atomic_compare_exchange_n(&F.sweeping, &expected, 1, 0, __ATOMIC_ACQUIRE,
                                       __ATOMIC_RELAXED);
}

/* One sweeper at a time: the writer, or a publisher sending itself. */
static int take_role(void)
{
    if (try_role())
        return 1;
    /* Whoever sweeps now looks again when done, or has the writer look.
     * It may have dropped the role, and read missed, between our two
     * steps: then the role is free and ours. With the fences, either we
     * see it free or it sees missed (drop_role), never neither; else the
     * writer, which waits for that kick, could sleep with work due. */
    sse_store_rel(&F.missed, 1);
    sse_fence_full();
    return try_role();
}

/* @p again: the sweep left work behind. Someone who found the role taken
 * meanwhile, or work left behind, goes to the writer. */
static void drop_role(int again)
{
    sse_store_rel(&F.sweeping, 0);
    sse_fence_full();
    if (__atomic_exchange_n(&F.missed, 0, __ATOMIC_ACQ_REL) || again)
        sse_fanout_kick();
}

void sse_fanout_published(void)
{
    uint32_t wait;
    unsigned n = sse_load_acq(&F.nparked);
    /* Few streams and nobody sweeping: send from here, which costs less
     * than waking the writer (a thread wake-up costs several sends). */
    if (n == 0 || n > F.inline_max || F.coalesce_ms ||
        sse_load_rlx(&F.sweeping) || !take_role()) {
        sse_fanout_kick();
        return;
    }
    drop_role(sweep(&wait));
}

/* Sweeps in a row have left work behind for @p busy ms: events come faster
 * than one write per stream and event can carry them. A rest in proportion
 * lets each stream's next write carry more of them, for fewer sends (and
 * fewer reads by each peer) per event. Sweeps shorter than a millisecond
 * add up until the clock sees them. Its first half is a sleep; the second
 * ends at the next kick (a publish, as a rule), so the sweep after it
 * starts with the newest event in hand rather than a moment before it:
 * at 1000 streams and 1000 events/s that lowered p99 by 3 to 5 ms at the
 * same CPU (see CONFIG_SSE_FANOUT_REST_MAX_MS). @return 1 if it rested. */
static int rest(uint32_t busy)
{
    uint32_t ms = busy * CONFIG_SSE_FANOUT_REST_PERCENT / 100, nap, seen;
    if (ms == 0)
        return 0;
    if (ms > CONFIG_SSE_FANOUT_REST_MAX_MS)
        ms = CONFIG_SSE_FANOUT_REST_MAX_MS; /* busy may hold a preemption */
    __atomic_fetch_add(&F.rests, 1, __ATOMIC_RELAXED);
    nap = ms / 2 ? ms / 2 : 1;
    sse_port_sleep_ms(nap);
    if (ms > nap) {
        /* Kicks before this point (the publishes that left work behind)
         * do not count: read the bell now. */
        seen = sse_port_evt_seq(&F.bell);
        (void)sse_port_evt_wait(&F.bell, seen, 1, ms - nap);
    }
    return 1;
}

unsigned long sse_fanout_rests(void)
{
    return sse_load_rlx(&F.rests);
}

static void writer_thread(void *unused)
{
    uint32_t last = sse_port_now_ms() - F.coalesce_ms, t0, busy_from = 0;
    unsigned w, behind = 0; /* sweeps in a row that left work behind, since busy_from */
    (void)unused;
    while (sse_load_acq(&F.running)) {
        /* Read the bell before looking: a kick after this moves it, so
         * the wait below returns at once instead of missing the work. */
        uint32_t seen = sse_port_evt_seq(&F.bell), wait;
        int again;
        sse_fence_full();
        if (F.coalesce_ms) {
            /* At most one write per stream per coalesce_ms: events that
             * come faster wait for the rest of the period and go together. */
            uint32_t since = sse_port_now_ms() - last;
            if (since < F.coalesce_ms)
                sse_port_sleep_ms(F.coalesce_ms - since);
            last = sse_port_now_ms();
        }
        if (!take_role()) {
            /* A publisher sweeps; it rings the bell when done (missed). */
            sse_port_evt_wait(&F.bell, seen, 1, SSE_PORT_FOREVER);
            continue;
        }
        again = sweep(&wait);
        t0 = F.now; /* when the sweep began; read while the role is ours */
        sse_store_rel(&F.sweeping, 0);
        sse_store_rlx(&F.missed, 0); /* this loop looks again anyway */
        if (!again) {
            behind = 0;
            sse_port_evt_wait(&F.bell, seen, 1, wait);
        } else if (behind++ == 0) {
            busy_from = t0;
        } else if (!F.coalesce_ms && rest(sse_port_now_ms() - busy_from)) {
            busy_from = sse_port_now_ms();
        }
    }
    /* No stream may park any more; give back every parked one, once no
     * publisher sweeps. */
    sse_port_mutex_lock(&F.lock);
    F.closed = 1;
    sse_port_mutex_unlock(&F.lock);
    while (!take_role())
        sse_port_sleep_ms(1);
    for (w = 0; w < WORDS; w++) {
        uint32_t bits = __atomic_load_n(&F.parked[w], __ATOMIC_ACQUIRE);
        while (bits) {
            unsigned b = (unsigned)__builtin_ctz(bits);
            bits &= bits - 1;
            hand_back(w * 32 + b, SSE_FAN_END);
        }
    }
    sse_store_rel(&F.sweeping, 0);
    sse_port_mutex_lock(&F.lock);
    F.alive = 0;
    sse_port_cond_broadcast(&F.done);
    sse_port_mutex_unlock(&F.lock);
}

int sse_fanout_start(sse_ring_t *ring, uint32_t heartbeat_ms, uint32_t idle_check_ms,
                     uint32_t coalesce_ms, int tls)
{
    int r;
    F.ring = ring;
    F.inline_max = tls ? 0 : CONFIG_SSE_FANOUT_INLINE_STREAMS;
    F.heartbeat_ms = heartbeat_ms;
    F.idle_check_ms = idle_check_ms;
    F.coalesce_ms = coalesce_ms;
    F.nout = 0;
    /* A TLS stream's bytes come from its session: never gathered. */
    if (!tls)
        (void)sse_port_batch_open(CONFIG_SSE_FANOUT_BATCH);
    sse_port_mutex_lock(&F.lock);
    F.closed = 0;
    F.alive = 1;
    sse_store_rel(&F.running, 1);
    sse_port_mutex_unlock(&F.lock);
    r = sse_port_thread_create(writer_thread, NULL, CONFIG_SSE_THREAD_STACK_SIZE, "sse_fanout");
    if (r != SSE_OK) {
        sse_port_mutex_lock(&F.lock);
        F.closed = 1;
        F.alive = 0;
        sse_store_rel(&F.running, 0);
        sse_port_mutex_unlock(&F.lock);
        sse_port_batch_close();
        SSE_LOG(SSE_LOG_ERR, "no thread for the fan-out writer");
    }
    return r;
}

void sse_fanout_stop(void)
{
    sse_store_rel(&F.running, 0);
    sse_fanout_kick();
    sse_port_mutex_lock(&F.lock);
    while (F.alive)
        sse_port_cond_wait(&F.done, &F.lock, CONFIG_SSE_ACCEPT_POLL_MS);
    sse_port_mutex_unlock(&F.lock);
    sse_port_batch_close();
}
