/* SPDX-License-Identifier: MIT */
/* ring.h: the frame ring the thread-per-stream peers (libmicrohttpd, CivetWeb) publish into on the paced schedule and each stream's thread copies out of. */
#ifndef BENCH_PEERS_RING_H
#define BENCH_PEERS_RING_H

/* Header-only, after pace.h. The library side (accepting, the response,
 * writing) stays in each peer, in that library's own idiom; this is only
 * the data both hand their library: the newest frames, and a publisher. */
#include <pthread.h>

/* The newest frames, for streams that are a few events behind; a stream
 * further behind than this is ended. */
#define RING 4096
#define FRAME_MAX 96

static struct {
    size_t len;
    char buf[FRAME_MAX];
} g_ring[RING];                  /* frame of seq s is g_ring[s % RING] */
static uint64_t g_latest;        /* seq of the newest frame; 0: none yet */
static int g_stopping;
static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t g_cond = PTHREAD_COND_INITIALIZER; /* a new frame, or stop */
static uint64_t g_fell_behind;   /* streams ended for falling out of the ring */

/* A stream's place: the next seq it sends, and how much of that frame is out. */
typedef struct {
    uint64_t next;
    size_t off;
} ring_pos_t;

/* A new stream starts with the next event. */
static inline void ring_pos_init(ring_pos_t *s)
{
    pthread_mutex_lock(&g_lock);
    s->next = g_latest + 1;
    pthread_mutex_unlock(&g_lock);
    s->off = 0;
}

/* On the stream's thread: wait for a frame it has not sent, then copy into
 * buf (up to max bytes) every frame it missed while writing. @return the
 * bytes copied; 0 when the server stops; -1 when the stream fell out of
 * the ring (its next frame was overwritten). */
static inline long ring_read(ring_pos_t *s, char *buf, size_t max)
{
    size_t n = 0;

    pthread_mutex_lock(&g_lock);
    while (!g_stopping && s->next > g_latest)
        pthread_cond_wait(&g_cond, &g_lock);
    if (g_stopping) {
        pthread_mutex_unlock(&g_lock);
        return 0;
    }
    if (g_latest - s->next >= RING) {
        g_fell_behind++;
        pthread_mutex_unlock(&g_lock);
        return -1;
    }
    while (s->next <= g_latest && n < max) {
        const char *f = g_ring[s->next % RING].buf;
        size_t len = g_ring[s->next % RING].len, take = len - s->off;

        if (take > max - n)
            take = max - n;
        memcpy(buf + n, f + s->off, take);
        n += take;
        s->off += take;
        if (s->off < len)
            break; /* buf is full */
        s->next++;
        s->off = 0;
    }
    pthread_mutex_unlock(&g_lock);
    return (long)n;
}

/* The publishing thread: one frame per due time until a stop signal, then
 * every stream's wait ends. */
static inline void ring_publish(pace_t *pace, unsigned long rate)
{
    pace_start(pace, rate);
    while (!pace_stop) {
        uint64_t seq, t;

        if (pace_sleep(pace) == EINTR)
            continue; /* the loop condition sees pace_stop */
        seq = pace_begin(pace);
        t = pace_now();
        pthread_mutex_lock(&g_lock);
        g_ring[seq % RING].len = (size_t)pace_frame(g_ring[seq % RING].buf,
                                                    FRAME_MAX, pace, t);
        g_latest = seq;
        pthread_cond_broadcast(&g_cond);
        pthread_mutex_unlock(&g_lock);
        pace_end(pace, t);
    }
    pthread_mutex_lock(&g_lock);
    g_stopping = 1;
    pthread_cond_broadcast(&g_cond);
    pthread_mutex_unlock(&g_lock);
}

/* The stop line with the count of streams that fell behind. */
static inline void ring_print_stopped(const pace_t *pace)
{
    char extra[64];

    snprintf(extra, sizeof(extra), " fell_behind=%llu",
             (unsigned long long)g_fell_behind);
    pace_print_stopped(pace, extra);
}

#endif
