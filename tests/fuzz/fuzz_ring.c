/* SPDX-License-Identifier: MIT */
/* libFuzzer target: the event ring (placement, eviction, resume, reads by
 * channel and target) driven by an op sequence and checked against a model. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A small ring wraps and evicts within a few ops; the ring is compiled in
 * here with these sizes (the library's copy keeps the configured ones). A
 * POST /publish body is one event, so its limit comes down with the event's
 * (sse_opt.h refuses a larger one). */
#undef CONFIG_SSE_RING_BYTES
#undef CONFIG_SSE_RING_EVENTS
#undef CONFIG_SSE_MAX_EVENT_BYTES
#undef CONFIG_SSE_PUBLISH_BODY_MAX
#define CONFIG_SSE_RING_BYTES      1024
#define CONFIG_SSE_RING_EVENTS     16
#define CONFIG_SSE_MAX_EVENT_BYTES 512
#define CONFIG_SSE_PUBLISH_BODY_MAX 512
#include "sse_ring.c"

#define MAX_OPS  4096   /* ids issued per input at most */
#define READERS  4

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n);

static sse_ring_t ring;

/* What the model knows of every id issued in this input. */
static struct {
    uint32_t      len;
    uint8_t       channel;
    sse_conn_id_t target;
} model[MAX_OPS + 2];

static uint8_t pattern(uint64_t id, uint32_t j)
{
    return (uint8_t)(id * 151u + j * 7u + 1u);
}

static void fail(const char *why)
{
    fprintf(stderr, "fuzz_ring: property broken: %s\n", why);
    abort();
}

/* Every held event is where it claims, inside the ring, with its bytes
 * intact (an overlap would have overwritten one of them). */
static void check_held(void)
{
    uint64_t id;
    if (ring.tail_id > ring.head_id || ring.head_id - ring.tail_id > CONFIG_SSE_RING_EVENTS)
        fail("ring: tail/head out of order or too many events");
    for (id = ring.tail_id; id < ring.head_id; id++) {
        const sse_ring_ev_t *e = &ring.ev[id % CONFIG_SSE_RING_EVENTS];
        uint32_t j;
        if (e->id != id || e->len != model[id].len || e->channel != model[id].channel ||
            e->target != model[id].target || e->off > CONFIG_SSE_RING_BYTES ||
            e->len > CONFIG_SSE_RING_BYTES - e->off)
            fail("ring: a held event's slot is wrong");
        for (j = 0; j < e->len; j++)
            if ((uint8_t)ring.bytes[e->off + j] != pattern(id, j))
                fail("ring: a held event's bytes were overwritten");
    }
}

/* A read returned n bytes for cursor from..to: exactly the matching events
 * in between, whole, and it stopped only at the head or at a matching
 * event that did not fit. */
static void check_read(const char *buf, int n, uint64_t from, uint64_t to, uint32_t mask,
                       sse_conn_id_t self, size_t cap)
{
    size_t pos = 0;
    uint64_t id;
    if (to < from || to > ring.head_id || (size_t)n > cap)
        fail("ring: read moved the cursor wrongly or overfilled");
    for (id = from; id < to; id++) {
        sse_ring_ev_t e;
        uint32_t j;
        e.target = model[id].target;
        e.channel = model[id].channel;
        if (!sse_ring_match(&e, mask, self))
            continue;
        if (pos + model[id].len > (size_t)n)
            fail("ring: read left out a matching event");
        for (j = 0; j < model[id].len; j++)
            if ((uint8_t)buf[pos + j] != pattern(id, j))
                fail("ring: read copied wrong bytes");
        pos += model[id].len;
    }
    if (pos != (size_t)n)
        fail("ring: read returned bytes of no event");
    if (to < ring.head_id) {
        sse_ring_ev_t e;
        e.target = model[to].target;
        e.channel = model[to].channel;
        if (!sse_ring_match(&e, mask, self) || model[to].len <= cap - (size_t)n)
            fail("ring: read stopped early");
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
    static char buf[CONFIG_SSE_RING_BYTES];
    uint64_t cur[READERS];
    uint32_t mask[READERS] = { 0, 1, 6, 0xFF };
    sse_conn_id_t self[READERS] = { 1, 2, 3, 4 };
    size_t i;
    int k;

    sse_ring_init(&ring, 1);
    for (k = 0; k < READERS; k++)
        cur[k] = 1;
    for (i = 0; i + 4 <= n && ring.head_id <= MAX_OPS; i += 4) {
        uint8_t op = d[i], a = d[i + 1], b = d[i + 2], c = d[i + 3];
        k = a % READERS;
        switch (op % 4) {
        case 0: { /* publish */
            uint32_t len = 1u + (uint32_t)(a | (b & 3) << 8) % (CONFIG_SSE_RING_BYTES / 2 + 8);
            uint8_t ch = c % (CONFIG_SSE_MAX_CHANNELS + 1) == CONFIG_SSE_MAX_CHANNELS
                       ? SSE_RING_ALL : (uint8_t)(c % (CONFIG_SSE_MAX_CHANNELS + 1));
            sse_conn_id_t target = (sse_conn_id_t)((op >> 2) % 6 < 4 ? 0 : (op >> 2) % 4 + 1);
            char *p = sse_ring_reserve(&ring, len);
            uint32_t j;
            if (len > CONFIG_SSE_RING_BYTES / 2) {
                if (p)
                    fail("ring: reserve took more than half the ring");
                break;
            }
            if (!p || p < ring.bytes || p + len > ring.bytes + CONFIG_SSE_RING_BYTES)
                fail("ring: reserve gave no room or room outside the ring");
            for (j = 0; j < len; j++)
                p[j] = (char)pattern(ring.head_id, j);
            model[ring.head_id].len = len;
            model[ring.head_id].channel = ch;
            model[ring.head_id].target = target;
            if (sse_ring_commit(&ring, len, ch, target) != ring.head_id - 1)
                fail("ring: commit returned another id");
            check_held();
            break;
        }
        case 1: { /* read */
            size_t cap = (size_t)b * 8u % (sizeof buf + 1);
            uint64_t from = cur[k];
            int r = sse_ring_read(&ring, &cur[k], mask[k], self[k], buf, cap);
            if (r == SSE_ERR_CLOSED) {
                if (from >= ring.tail_id || cur[k] != from)
                    fail("ring: CLOSED for a cursor still held");
                cur[k] = ring.tail_id;
            } else if (r < 0) {
                fail("ring: read returned an unexpected error");
            } else {
                if (from < ring.tail_id)
                    fail("ring: read from an evicted cursor did not say CLOSED");
                check_read(buf, r, from, cur[k], mask[k], self[k], cap);
            }
            if (sse_ring_has_new(&ring, cur[k]) != (cur[k] != ring.head_id))
                fail("ring: has_new disagrees with the head");
            break;
        }
        case 2: { /* resume after some id, old, current or from the future */
            uint64_t last = (uint64_t)b << 8 | c;
            uint64_t at = sse_ring_resume_cursor(&ring, last);
            if (at < ring.tail_id || at > ring.head_id)
                fail("ring: resume cursor outside the ring");
            if (last + 1 >= ring.tail_id && last < ring.head_id && at != last + 1)
                fail("ring: resume skipped or repeated held events");
            cur[k] = at;
            break;
        }
        default: /* a reader's subscriptions */
            mask[k] = (uint32_t)b;
            self[k] = c % 6;
            break;
        }
    }
    return 0;
}
