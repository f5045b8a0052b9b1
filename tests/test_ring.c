/* SPDX-License-Identifier: MIT */
/* Suite "ring": the event ring (core/sse_ring.c): ids, filtering, partial
 * reads, wrap-around contents, eviction, resume cursors and exact replay. */
#define _POSIX_C_SOURCE 200809L

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <CUnit/CUnit.h>
#include "sse_ring.h"
#include "tests.h"

/* For checks inside loops: counted only when they fail, so the Run Summary
 * does not count millions of asserts; a failure still stops the test. */
#define REQUIRE(x) do { if (!(x)) CU_ASSERT_FATAL(x); } while (0)

#define RB   ((uint32_t)CONFIG_SSE_RING_BYTES)
#define RN   ((uint64_t)CONFIG_SSE_RING_EVENTS)
#define MAXR (RB / 2)                       /* largest event reserve takes */
#define MAXE ((uint32_t)CONFIG_SSE_MAX_EVENT_BYTES < MAXR ? \
              (uint32_t)CONFIG_SSE_MAX_EVENT_BYTES : MAXR)

/* The ring is large: one static instance shared by the tests (each inits). */
static sse_ring_t ring;
/* Big enough to read every held event at once. */
static char rbuf[CONFIG_SSE_RING_BYTES];
static char ebuf[CONFIG_SSE_RING_BYTES / 2 + 64];

/* ---- event contents: a header naming id and length, then filler -------- */

/* "#<16 hex id> <8 hex len>\n" */
#define HDR 27
#define TABP 4099u                          /* prime: filler phase per id */
static unsigned char tab[TABP + CONFIG_SSE_RING_BYTES / 2 + 1];

static int suite_init(void)
{
    uint32_t x = 2463534242u;
    for (size_t i = 0; i < sizeof tab; i++) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        tab[i] = (unsigned char)(x >> 24);
    }
    return 0;
}

/* Bytes of event @p id of @p len bytes: filler depending on the id, with the
 * header on top when the event is long enough to carry one. */
static void make_event(char *dst, uint64_t id, uint32_t len)
{
    memcpy(dst, tab + (size_t)((id * 37u) % TABP), len);
    if (len >= HDR) {
        char h[HDR + 1];
        snprintf(h, sizeof h, "#%016llx %08lx\n", (unsigned long long)id,
                 (unsigned long)len);
        memcpy(dst, h, HDR);
    }
}

/* Parse a header; @return 1 with *id and *len set, 0 if malformed. */
static int parse_hdr(const char *p, size_t avail, uint64_t *id, uint32_t *len)
{
    char f[17];
    char *end;
    if (avail < HDR || p[0] != '#' || p[17] != ' ' || p[26] != '\n')
        return 0;
    memcpy(f, p + 1, 16);
    f[16] = '\0';
    *id = strtoull(f, &end, 16);
    if (*end)
        return 0;
    memcpy(f, p + 18, 8);
    f[8] = '\0';
    *len = (uint32_t)strtoul(f, &end, 16);
    return *end == '\0' && *len >= HDR;
}

/* Append one event carrying the pattern of its id. @return its id. */
static uint64_t append(sse_ring_t *r, uint32_t len, uint8_t channel,
                       sse_conn_id_t target)
{
    uint64_t want = r->head_id, got;
    char *dst = sse_ring_reserve(r, len);
    REQUIRE(dst != NULL);
    REQUIRE(dst >= r->bytes && dst + len <= r->bytes + RB);
    REQUIRE(r->head_id == want);                /* reserve keeps the id */
    make_event(dst, want, len);
    got = sse_ring_commit(r, len, channel, target);
    REQUIRE(got == want);
    REQUIRE(r->head_id == want + 1);
    return got;
}

static uint64_t append_all(uint32_t len)
{
    return append(&ring, len, SSE_RING_ALL, SSE_CONN_NONE);
}

/* 1 if buf holds exactly event id of len bytes. */
static int is_event(const char *buf, uint64_t id, uint32_t len)
{
    make_event(ebuf, id, len);
    return memcmp(buf, ebuf, len) == 0;
}

/* Layout checks on the held events: ids in their slots, inside the byte
 * array, no overlap (offsets rise, wrapping to a lower start at most once
 * and then ending before the oldest starts), total within the ring.
 * @return the total bytes held. */
static uint64_t check_layout(const sse_ring_t *r)
{
    uint64_t total = 0, id;
    int wraps = 0;
    uint32_t first_off = 0, prev_end = 0;
    REQUIRE(r->tail_id <= r->head_id);
    REQUIRE(r->head_id - r->tail_id <= RN);
    for (id = r->tail_id; id < r->head_id; id++) {
        const sse_ring_ev_t *e = &r->ev[id % RN];
        REQUIRE(e->id == id);
        REQUIRE(e->len > 0);
        REQUIRE((uint64_t)e->off + e->len <= RB);   /* no straddle */
        if (id == r->tail_id) {
            first_off = e->off;
        } else if (e->off < prev_end) {
            wraps++;
            REQUIRE(wraps == 1);
        }
        if (wraps)
            REQUIRE((uint64_t)e->off + e->len <= first_off);
        prev_end = e->off + e->len;
        total += e->len;
    }
    REQUIRE(total <= RB);
    return total;
}

/* Read everything from the tail in one go and check that event k of the
 * output is exactly id tail+k with length len_of(id). */
static void check_contents(const sse_ring_t *r, uint32_t (*len_of)(uint64_t))
{
    uint64_t cur = r->tail_id, id, total = check_layout(r);
    size_t pos = 0;
    int n = sse_ring_read(r, &cur, 0xFFFFFFFFu, 1, rbuf, sizeof rbuf);
    REQUIRE(n >= 0);
    REQUIRE((uint64_t)n == total);
    REQUIRE(cur == r->head_id);
    for (id = r->tail_id; id < r->head_id; id++) {
        uint32_t len = len_of(id);
        REQUIRE(pos + len <= (size_t)n);
        REQUIRE(is_event(rbuf + pos, id, len));
        pos += len;
    }
    REQUIRE(pos == (size_t)n);
}

/* ---- basics ------------------------------------------------------------ */

static void test_ring_append_read_basic(void)
{
    const uint32_t lens[] = { 5, 40, 1, HDR, MAXE < 300 ? MAXE : 300 };
    /* One slot is left for the event appended at the end. */
    const size_t nl = RN - 1 < 5 ? (size_t)RN - 1 : 5;
    uint64_t cur, id;
    size_t pos = 0, i, total = 0;
    int n;

    sse_ring_init(&ring, 1);
    CU_ASSERT_EQUAL(ring.head_id, 1);
    CU_ASSERT_EQUAL(ring.tail_id, 1);
    cur = ring.head_id;
    CU_ASSERT_EQUAL(sse_ring_read(&ring, &cur, 0xFFFFFFFFu, 1, rbuf, sizeof rbuf), 0);
    CU_ASSERT_EQUAL(cur, 1);

    for (i = 0; i < nl; i++) {
        CU_ASSERT_EQUAL(append_all(lens[i]), 1 + i);
        total += lens[i];
    }
    CU_ASSERT_EQUAL(ring.tail_id, 1);
    CU_ASSERT_EQUAL(ring.head_id, 1 + nl);
    check_layout(&ring);

    cur = 1;
    n = sse_ring_read(&ring, &cur, 0xFFFFFFFFu, 1, rbuf, sizeof rbuf);
    CU_ASSERT_EQUAL_FATAL(n, (int)total);
    CU_ASSERT_EQUAL(cur, ring.head_id);
    for (i = 0, id = 1; i < nl; i++, id++) {
        CU_ASSERT(is_event(rbuf + pos, id, lens[i]));
        pos += lens[i];
    }
    /* Nothing new: 0 and the cursor stays. */
    CU_ASSERT_EQUAL(sse_ring_read(&ring, &cur, 0xFFFFFFFFu, 1, rbuf, sizeof rbuf), 0);
    CU_ASSERT_EQUAL(cur, ring.head_id);

    /* Start in the middle: only the last two events. */
    cur = nl - 1;
    n = sse_ring_read(&ring, &cur, 0xFFFFFFFFu, 1, rbuf, sizeof rbuf);
    CU_ASSERT_EQUAL_FATAL(n, (int)(lens[nl - 2] + lens[nl - 1]));
    CU_ASSERT(is_event(rbuf, nl - 1, lens[nl - 2]));
    CU_ASSERT(is_event(rbuf + lens[nl - 2], nl, lens[nl - 1]));
    CU_ASSERT_EQUAL(cur, nl + 1);

    /* One more event is seen by a cursor parked at the head. */
    cur = ring.head_id;
    id = append_all(77);
    n = sse_ring_read(&ring, &cur, 0xFFFFFFFFu, 1, rbuf, sizeof rbuf);
    CU_ASSERT_EQUAL_FATAL(n, 77);
    CU_ASSERT(is_event(rbuf, id, 77));
    CU_ASSERT_EQUAL(cur, id + 1);
}

static void test_ring_first_id(void)
{
    const uint64_t big = ((uint64_t)1 << 40) + 3;   /* not a slot multiple */
    uint64_t cur;
    int n;

    sse_ring_init(&ring, 0);                        /* 0 means 1 */
    CU_ASSERT_EQUAL(ring.head_id, 1);
    CU_ASSERT_EQUAL(ring.tail_id, 1);

    sse_ring_init(&ring, 1000);
    CU_ASSERT_EQUAL(ring.head_id, 1000);
    CU_ASSERT_EQUAL(ring.tail_id, 1000);
    CU_ASSERT_EQUAL(append_all(10), 1000);
    CU_ASSERT_EQUAL(append_all(20), 1001);

    sse_ring_init(&ring, big);
    CU_ASSERT_EQUAL(append_all(HDR), big);
    CU_ASSERT_EQUAL(append_all(HDR + 1), big + 1);
    cur = big;
    n = sse_ring_read(&ring, &cur, 0xFFFFFFFFu, 1, rbuf, sizeof rbuf);
    CU_ASSERT_EQUAL_FATAL(n, 2 * HDR + 1);
    CU_ASSERT(is_event(rbuf, big, HDR));
    CU_ASSERT(is_event(rbuf + HDR, big + 1, HDR + 1));
    CU_ASSERT_EQUAL(cur, big + 2);
}

/* ---- filtering ------------------------------------------------------- */

struct fev { uint8_t ch; sse_conn_id_t tgt; };

/* Events base..base+cnt-1 of the table were appended with ids first.. and
 * lengths HDR + index. Read all as (mask, self) and check that exactly the
 * events flagged in want[] come out, in order; the cursor ends at the head. */
static void check_filter(size_t base, size_t cnt, uint64_t first,
                         uint32_t mask, sse_conn_id_t self, const int *want)
{
    uint64_t cur = first;
    size_t pos = 0, i;
    int n = sse_ring_read(&ring, &cur, mask, self, rbuf, sizeof rbuf);
    CU_ASSERT_FATAL(n >= 0);
    CU_ASSERT_EQUAL(cur, ring.head_id);
    for (i = base; i < base + cnt; i++) {
        uint32_t len = (uint32_t)(HDR + i);
        if (!want[i])
            continue;
        CU_ASSERT_FATAL(pos + len <= (size_t)n);
        CU_ASSERT(is_event(rbuf + pos, first + (i - base), len));
        pos += len;
    }
    CU_ASSERT_EQUAL(pos, (size_t)n);
}

#define NFEV 8

static void test_ring_channel_and_target_filter(void)
{
    const uint8_t last = (uint8_t)(CONFIG_SSE_MAX_CHANNELS - 1);
    const uint8_t mid = (uint8_t)(CONFIG_SSE_MAX_CHANNELS > 3 ? 3 : last);
    const struct fev evs[NFEV] = {
        { SSE_RING_ALL, SSE_CONN_NONE },    /* 0: everyone */
        { 0, SSE_CONN_NONE },               /* 1: channel 0 */
        { mid, SSE_CONN_NONE },             /* 2: channel mid */
        { last, SSE_CONN_NONE },            /* 3: last channel */
        { SSE_RING_ALL, 7 },                /* 4: only conn 7 */
        { SSE_RING_ALL, 9 },                /* 5: only conn 9 */
        { mid, 7 },                         /* 6: conn 7, channel ignored */
        { SSE_RING_ALL, SSE_CONN_NONE },    /* 7: everyone */
    };
    /* Streams (mask, self) and what each must receive. */
    struct { uint32_t mask; sse_conn_id_t self; int w[NFEV]; } sv[] = {
        /* no channel, conn 1: broadcasts only */
        { 0, 1,                  { 1, 0, 0, 0, 0, 0, 0, 1 } },
        /* channel 0, conn 9 */
        { 1u << 0, 9,            { 1, 1, 0, 0, 0, 1, 0, 1 } },
        /* channel mid, conn 7: its targeted events whatever their channel */
        { 1u << mid, 7,          { 1, 0, 1, 0, 1, 0, 1, 1 } },
        /* last channel, conn 8: nobody targets it */
        { 1u << last, 8,         { 1, 0, 0, 1, 0, 0, 0, 1 } },
        /* every channel, conn 9 */
        { 0xFFFFFFFFu, 9,        { 1, 1, 1, 1, 0, 1, 0, 1 } },
    };
    /* With few channels, channels 0, mid and last coincide. */
    const size_t chunk = RN < NFEV ? (size_t)RN : NFEV;
    uint64_t first, cur;
    size_t i, k, base;

    for (k = 0; k < sizeof sv / sizeof sv[0]; k++)
        for (i = 1; i <= 3; i++)
            if (evs[i].tgt == SSE_CONN_NONE && ((sv[k].mask >> evs[i].ch) & 1u))
                sv[k].w[i] = 1;

    /* All events at once, or in chunks if the ring holds fewer. */
    for (base = 0; base < NFEV; base += chunk) {
        size_t cnt = NFEV - base < chunk ? NFEV - base : chunk;
        sse_ring_init(&ring, 50 + base);
        first = ring.head_id;
        for (i = base; i < base + cnt; i++)
            append(&ring, (uint32_t)(HDR + i), evs[i].ch, evs[i].tgt);
        CU_ASSERT_EQUAL_FATAL(ring.tail_id, first);
        for (k = 0; k < sizeof sv / sizeof sv[0]; k++)
            check_filter(base, cnt, first, sv[k].mask, sv[k].self, sv[k].w);
    }

    /* Only events for others: 0 bytes, yet the cursor moves past them. */
    sse_ring_init(&ring, 1);
    append(&ring, 30, 0, SSE_CONN_NONE);
    append(&ring, 31, SSE_RING_ALL, 5);
    append(&ring, 32, last, SSE_CONN_NONE);
    append(&ring, 33, mid, 5);
    cur = 1;
    CU_ASSERT_EQUAL(sse_ring_read(&ring, &cur, 0, 6, rbuf, sizeof rbuf), 0);
    CU_ASSERT_EQUAL(cur, 5);
    /* ... and the next event for it comes out alone. */
    append(&ring, 34, SSE_RING_ALL, 6);
    CU_ASSERT_EQUAL(sse_ring_read(&ring, &cur, 0, 6, rbuf, sizeof rbuf), 34);
    CU_ASSERT(is_event(rbuf, 5, 34));
    CU_ASSERT_EQUAL(cur, 6);
}

/* ---- partial reads --------------------------------------------------- */

static void test_ring_small_buffer_whole_events(void)
{
    char small[64];
    uint64_t cur;
    int n;

    sse_ring_init(&ring, 1);
    append_all(10);                          /* 1 */
    append_all(20);                          /* 2 */
    append_all(30);                          /* 3 */
    append_all(40);                          /* 4 */

    /* 10 + 20 fit 35, 30 more does not: two whole events. */
    cur = 1;
    n = sse_ring_read(&ring, &cur, 0xFFFFFFFFu, 1, small, 35);
    CU_ASSERT_EQUAL_FATAL(n, 30);
    CU_ASSERT(is_event(small, 1, 10));
    CU_ASSERT(is_event(small + 10, 2, 20));
    CU_ASSERT_EQUAL(cur, 3);
    /* Resumes at 3. */
    n = sse_ring_read(&ring, &cur, 0xFFFFFFFFu, 1, small, 35);
    CU_ASSERT_EQUAL_FATAL(n, 30);
    CU_ASSERT(is_event(small, 3, 30));
    CU_ASSERT_EQUAL(cur, 4);
    /* Exactly the event's size is enough. */
    n = sse_ring_read(&ring, &cur, 0xFFFFFFFFu, 1, small, 40);
    CU_ASSERT_EQUAL_FATAL(n, 40);
    CU_ASSERT(is_event(small, 4, 40));
    CU_ASSERT_EQUAL(cur, 5);

    /* Exact fit of several: cap 30 gives 1 and 2 in one read. */
    cur = 1;
    n = sse_ring_read(&ring, &cur, 0xFFFFFFFFu, 1, small, 30);
    CU_ASSERT_EQUAL(n, 30);
    CU_ASSERT_EQUAL(cur, 3);
    /* Too small for the next event: nothing copied, cursor unchanged. */
    n = sse_ring_read(&ring, &cur, 0xFFFFFFFFu, 1, small, 29);
    CU_ASSERT_EQUAL(n, 0);
    CU_ASSERT_EQUAL(cur, 3);

    /* Skipped events between copied ones still advance the cursor:
     * a(ch0) b(ch1) c(ch0) with cap for one event. */
    sse_ring_init(&ring, 1);
    append(&ring, 16, 0, SSE_CONN_NONE);
    append(&ring, 16, CONFIG_SSE_MAX_CHANNELS > 1 ? 1 : 0, 99);
    append(&ring, 16, 0, SSE_CONN_NONE);
    cur = 1;
    n = sse_ring_read(&ring, &cur, 1u << 0, 2, small, 16);
    CU_ASSERT_EQUAL_FATAL(n, 16);
    CU_ASSERT(is_event(small, 1, 16));
    CU_ASSERT(cur == 2 || cur == 3);         /* b may or may not be passed */
    n = sse_ring_read(&ring, &cur, 1u << 0, 2, small, 16);
    CU_ASSERT_EQUAL_FATAL(n, 16);
    CU_ASSERT(is_event(small, 3, 16));
    CU_ASSERT_EQUAL(cur, 4);
    CU_ASSERT_EQUAL(sse_ring_read(&ring, &cur, 1u << 0, 2, small, 16), 0);
    CU_ASSERT_EQUAL(cur, 4);

    /* Reading the whole ring in small chunks gives every event once. */
    sse_ring_init(&ring, 1);
    {
        /* As many as the ring holds without evicting (lengths <= 60). */
        uint64_t id, next = 1, count = 200;
        if (count > RN)
            count = RN;
        if (count > RB / 60)
            count = RB / 60;
        for (id = 1; id <= count; id++)
            append_all((uint32_t)(1 + id % 60));
        cur = 1;
        while ((n = sse_ring_read(&ring, &cur, 0xFFFFFFFFu, 1, small,
                                  sizeof small)) > 0) {
            int pos = 0;
            while (pos < n) {
                uint32_t len = (uint32_t)(1 + next % 60);
                REQUIRE(pos + (int)len <= n);
                REQUIRE(is_event(small + pos, next, len));
                pos += (int)len;
                next++;
            }
            CU_ASSERT_EQUAL_FATAL(cur, next);
        }
        CU_ASSERT_EQUAL(n, 0);
        CU_ASSERT_EQUAL(ring.tail_id, 1);
        CU_ASSERT_EQUAL(next, count + 1);
        CU_ASSERT_EQUAL(cur, count + 1);
    }
}

/* ---- wrap-around and eviction ---------------------------------------- */

static uint32_t hash32(uint64_t id)
{
    uint64_t x = id * 0x9E3779B97F4A7C15ull;
    return (uint32_t)(x >> 32);
}

/* Mixed sizes: mostly up to MAX_EVENT_BYTES, odd ones that do not divide
 * the ring, and now and then a huge one up to the reserve limit. */
static uint32_t mixed_len(uint64_t id)
{
    uint32_t h = hash32(id), len;
    switch (h % 64) {
    case 0:  len = MAXR; break;                           /* the limit */
    case 1:  len = MAXR / 3 + 1 + (h >> 8) % (MAXR / 2 + 1); break;
    case 2:  len = MAXE; break;
    case 3:  len = 1; break;
    case 4:  len = RB / 7 > 0 && RB / 7 <= MAXR ? RB / 7 : 1; break;
    default:
        if (h % 5 == 0)
            len = 1 + (h >> 8) % 8;                       /* tiny */
        else
            len = 1 + (h >> 8) % MAXE;
        break;
    }
    if (len > MAXR)
        len = MAXR;
    return len ? len : 1;
}

static void test_ring_wrap_keeps_contents(void)
{
    uint64_t id, bytes = 0, steps = 0, evicted_before;
    const uint64_t first = 17;
    /* Every step is fully checked up to a 1 MiB / 16384-event ring; beyond
     * that (allowed by Kconfig) only every stride-th, to bound the time. */
    const uint64_t stride = 1 + (RB >> 20) + (RN >> 14);

    sse_ring_init(&ring, first);
    while (bytes < 6 * (uint64_t)RB || steps < 3 * RN) {
        uint32_t len = mixed_len(ring.head_id);
        evicted_before = ring.tail_id;
        id = append_all(len);
        REQUIRE(id == first + steps);
        /* The new event is held and the tail only moves forward. */
        REQUIRE(ring.tail_id >= evicted_before);
        REQUIRE(ring.tail_id <= id);
        if (steps % stride == 0)
            check_contents(&ring, mixed_len);
        bytes += len;
        steps++;
    }
    check_contents(&ring, mixed_len);
    /* Something really was evicted, many times over. */
    CU_ASSERT(ring.tail_id >= first + steps - RN);
}

/* Always the same size s: once full, the ring holds exactly as many events
 * as fit (floor(RB / s), or RING_EVENTS if fewer), never fewer. */
static uint32_t const_len;
static uint32_t const_len_of(uint64_t id)
{
    (void)id;
    return const_len;
}

static void test_ring_constant_size_holds_what_fits(void)
{
    uint32_t sizes[] = { MAXR, RB / 3 + 1, RB / 4, MAXE, MAXE - 1, 1000 + 7,
                         HDR };
    size_t k;

    for (k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
        uint32_t s = sizes[k];
        uint64_t fit, i;
        if (s == 0 || s > MAXR)
            continue;
        fit = RB / s;
        if (fit > RN)
            fit = RN;
        const_len = s;
        sse_ring_init(&ring, 1);
        for (i = 1; i <= 3 * fit + 5 && i <= 3 * RN; i++) {
            append_all(s);
            REQUIRE(ring.head_id - ring.tail_id == (i < fit ? i : fit));
            if (i % 97 == 0 || i <= fit + 3)
                check_contents(&ring, const_len_of);
        }
        check_contents(&ring, const_len_of);
        CU_ASSERT(ring.head_id - ring.tail_id == fit);
    }
}

/* Lengths by id for the hand-built layouts below. */
static uint32_t exact_lens[16];
static uint32_t exact_len_of(uint64_t id)
{
    return exact_lens[id];
}

static uint64_t append_exact(uint32_t len)
{
    uint64_t id = ring.head_id;
    REQUIRE(id < sizeof exact_lens / sizeof exact_lens[0]);
    exact_lens[id] = len;
    append_all(len);
    check_contents(&ring, exact_len_of);
    return id;
}

static uint32_t off_of(uint64_t id)
{
    return ring.ev[id % RN].off;
}

/* Events that fit exactly are kept; one byte more evicts (and never
 * straddles the end or overlaps the oldest). With q = RB/4:
 * A(q)@0 B(2q)@q C(RB-3q-3)@3q D(3) ends at RB exactly. */
static void start_abcd(uint32_t dlen)
{
    const uint32_t q = RB / 4;
    sse_ring_init(&ring, 1);
    CU_ASSERT_EQUAL(off_of(append_exact(q)), 0);                     /* A=1 */
    CU_ASSERT_EQUAL(off_of(append_exact(2 * q)), q);                 /* B=2 */
    CU_ASSERT_EQUAL(off_of(append_exact(RB - 3 * q - 3)), 3 * q);    /* C=3 */
    append_exact(dlen);                                              /* D=4 */
}

static void test_ring_exact_fit_boundaries(void)
{
    const uint32_t q = RB / 4;
    uint64_t id;

    if (RB < 64 || RN < 6) {
        CU_PASS("ring too small for this layout");
        return;
    }
    /* D fills the end exactly: nothing evicted. */
    start_abcd(3);
    CU_ASSERT_EQUAL(ring.tail_id, 1);
    CU_ASSERT_EQUAL(off_of(4), RB - 3);
    /* One byte more does not fit at the end: it goes to 0, A goes. */
    start_abcd(4);
    CU_ASSERT_EQUAL(off_of(4), 0);
    CU_ASSERT_EQUAL(ring.tail_id, 2);

    /* After the exact D, E of q bytes replaces exactly A at 0. */
    start_abcd(3);
    id = append_exact(q);
    CU_ASSERT_EQUAL(off_of(id), 0);
    CU_ASSERT_EQUAL(ring.tail_id, 2);
    /* Held bytes now wrap; free is none (wpos q, oldest B at q). F of 1
     * byte evicts B only; then G fills the gap up to C exactly. */
    id = append_exact(1);
    CU_ASSERT_EQUAL(off_of(id), q);
    CU_ASSERT_EQUAL(ring.tail_id, 3);
    id = append_exact(3 * q - (q + 1));
    CU_ASSERT_EQUAL(off_of(id), q + 1);
    CU_ASSERT_EQUAL(ring.tail_id, 3);                 /* C kept */
    /* Now completely full up to C: one more byte evicts C. */
    id = append_exact(1);
    CU_ASSERT_EQUAL(ring.tail_id, 4);
    CU_ASSERT_EQUAL(off_of(id), 3 * q);

    /* After the exact D, E of q + 1 bytes must evict A and B. */
    start_abcd(3);
    id = append_exact(q + 1);
    CU_ASSERT_EQUAL(off_of(id), 0);
    CU_ASSERT_EQUAL(ring.tail_id, 3);
    /* Wrapped, one byte short of C: G of that size fits, G + 1 not. */
    start_abcd(3);
    append_exact(q);                                  /* E@0, A gone */
    append_exact(1);                                  /* F@q, B gone */
    id = append_exact(3 * q - (q + 1) + 1);           /* 1 byte too many */
    CU_ASSERT(ring.tail_id >= 4);                     /* C went */
    CU_ASSERT_EQUAL(off_of(id), q + 1);
}

static uint32_t small_len(uint64_t id)
{
    uint32_t most = RB / (uint32_t)RN / 2;      /* RN events fit, gap too */
    if (most > 8)
        most = 8;
    return 1 + (uint32_t)(id % most);
}

static void test_ring_evict_by_count(void)
{
    uint64_t i, n = RN + RN / 2 + 3;

    if (RB / RN < 2) {      /* bytes run out first: count bound unreachable */
        CU_PASS("CONFIG_SSE_RING_BYTES too small to reach the count bound");
        return;
    }
    sse_ring_init(&ring, 1);
    for (i = 0; i < n; i++) {
        append_all(small_len(ring.head_id));
        REQUIRE(ring.head_id - ring.tail_id == (i + 1 < RN ? i + 1 : RN));
    }
    CU_ASSERT_EQUAL(ring.head_id, 1 + n);
    CU_ASSERT_EQUAL(ring.tail_id, 1 + n - RN);
    check_contents(&ring, small_len);
}

static void test_ring_reserve_refuses(void)
{
    sse_ring_init(&ring, 1);
    append_all(10);
    CU_ASSERT_PTR_NULL(sse_ring_reserve(&ring, 0));
    CU_ASSERT_PTR_NULL(sse_ring_reserve(&ring, MAXR + 1));
    CU_ASSERT_PTR_NULL(sse_ring_reserve(&ring, RB));
    CU_ASSERT_PTR_NULL(sse_ring_reserve(&ring, UINT32_MAX));
    /* Refusals change nothing. */
    CU_ASSERT_EQUAL(ring.head_id, 2);
    CU_ASSERT_EQUAL(ring.tail_id, 1);
    const_len = 10;
    check_contents(&ring, const_len_of);
    /* The limit itself is accepted. */
    append_all(MAXR);
    CU_ASSERT_EQUAL(ring.head_id, 3);
}

/* ---- cursors ----------------------------------------------------------- */

/* Fill with mixed-size events (all with a header) until eviction happened
 * and the ring wrapped. */
static uint32_t hdr_len(uint64_t id)
{
    return HDR + hash32(id) % (MAXE > HDR ? MAXE - HDR + 1 : 1);
}

static void fill_evicted(uint64_t first)
{
    sse_ring_init(&ring, first);
    while (ring.tail_id < first + 10)
        append_all(hdr_len(ring.head_id));
    /* A few more so the held bytes are not at a neat boundary. */
    for (int i = 0; i < 7; i++)
        append_all(hdr_len(ring.head_id));
    while (ring.head_id - ring.tail_id < 3)
        append_all(hdr_len(ring.head_id));
    check_contents(&ring, hdr_len);
}

static void test_ring_read_fell_behind(void)
{
    uint64_t cur, tail;
    int n;

    fill_evicted(1);
    tail = ring.tail_id;
    cur = tail - 1;
    CU_ASSERT_EQUAL(sse_ring_read(&ring, &cur, 0xFFFFFFFFu, 1, rbuf, sizeof rbuf),
                    SSE_ERR_CLOSED);
    cur = 1;
    CU_ASSERT_EQUAL(sse_ring_read(&ring, &cur, 0xFFFFFFFFu, 1, rbuf, sizeof rbuf),
                    SSE_ERR_CLOSED);
    /* Even a stream that would receive nothing fell behind. */
    cur = tail - 1;
    CU_ASSERT_EQUAL(sse_ring_read(&ring, &cur, 0, 1, rbuf, sizeof rbuf),
                    SSE_ERR_CLOSED);
    /* The tail itself is fine. */
    cur = tail;
    n = sse_ring_read(&ring, &cur, 0xFFFFFFFFu, 1, rbuf, sizeof rbuf);
    CU_ASSERT(n > 0);
    CU_ASSERT(is_event(rbuf, tail, hdr_len(tail)));

    /* A cursor overtaken by new events between two reads. */
    sse_ring_init(&ring, 1);
    append_all(20);
    cur = 1;
    CU_ASSERT_EQUAL(sse_ring_read(&ring, &cur, 0xFFFFFFFFu, 1, rbuf, sizeof rbuf), 20);
    CU_ASSERT_EQUAL(cur, 2);
    while (ring.tail_id <= 2)
        append_all(hdr_len(ring.head_id));
    CU_ASSERT_EQUAL(sse_ring_read(&ring, &cur, 0xFFFFFFFFu, 1, rbuf, sizeof rbuf),
                    SSE_ERR_CLOSED);
}

static void test_ring_resume_cursor(void)
{
    uint64_t t, h, l;

    /* Fresh ring starting at 1: nothing to replay whatever was asked. */
    sse_ring_init(&ring, 1);
    CU_ASSERT_EQUAL(sse_ring_resume_cursor(&ring, 0), 1);
    CU_ASSERT_EQUAL(sse_ring_resume_cursor(&ring, 1), 1);
    CU_ASSERT_EQUAL(sse_ring_resume_cursor(&ring, 5), 1);
    CU_ASSERT_EQUAL(sse_ring_resume_cursor(&ring, UINT64_MAX), 1);

    /* Fresh ring continuing at 100 (ids kept across a restart). */
    sse_ring_init(&ring, 100);
    CU_ASSERT_EQUAL(sse_ring_resume_cursor(&ring, 99), 100);
    CU_ASSERT_EQUAL(sse_ring_resume_cursor(&ring, 50), 100);
    CU_ASSERT_EQUAL(sse_ring_resume_cursor(&ring, 0), 100);
    CU_ASSERT_EQUAL(sse_ring_resume_cursor(&ring, 100), 100);
    CU_ASSERT_EQUAL(sse_ring_resume_cursor(&ring, UINT64_MAX), 100);

    /* A few events, nothing evicted. */
    sse_ring_init(&ring, 1);
    append_all(30);
    append_all(30);
    append_all(30);                                  /* ids 1..3, head 4 */
    CU_ASSERT_EQUAL(sse_ring_resume_cursor(&ring, 0), 1);
    CU_ASSERT_EQUAL(sse_ring_resume_cursor(&ring, 1), 2);
    CU_ASSERT_EQUAL(sse_ring_resume_cursor(&ring, 2), 3);
    CU_ASSERT_EQUAL(sse_ring_resume_cursor(&ring, 3), 4);
    CU_ASSERT_EQUAL(sse_ring_resume_cursor(&ring, 4), 1);   /* future */
    CU_ASSERT_EQUAL(sse_ring_resume_cursor(&ring, 1000), 1);

    /* With eviction. */
    fill_evicted(1);
    t = ring.tail_id;
    h = ring.head_id;
    CU_ASSERT_FATAL(t > 2 && h > t + 2);
    for (l = t; l + 1 < h; l++)
        REQUIRE(sse_ring_resume_cursor(&ring, l) == l + 1);
    CU_ASSERT_EQUAL(sse_ring_resume_cursor(&ring, h - 1), h);   /* up to date */
    CU_ASSERT_EQUAL(sse_ring_resume_cursor(&ring, t - 1), t);   /* just evicted */
    CU_ASSERT_EQUAL(sse_ring_resume_cursor(&ring, t - 2), t);   /* lost one */
    CU_ASSERT_EQUAL(sse_ring_resume_cursor(&ring, 0), t);
    CU_ASSERT_EQUAL(sse_ring_resume_cursor(&ring, h), t);       /* future */
    CU_ASSERT_EQUAL(sse_ring_resume_cursor(&ring, h + 1000), t);
    CU_ASSERT_EQUAL(sse_ring_resume_cursor(&ring, UINT64_MAX), t);
}

/* Read from cur until nothing is left, in chunks of cap bytes, parsing the
 * ids out of the events. Checks each event's bytes; ids go to out[]. */
static size_t read_ids(uint64_t cur, size_t cap, uint64_t *out, size_t max)
{
    size_t nids = 0;
    int n;
    while ((n = sse_ring_read(&ring, &cur, 0xFFFFFFFFu, 1, rbuf, cap)) > 0) {
        int pos = 0;
        while (pos < n) {
            uint64_t id;
            uint32_t len;
            REQUIRE(parse_hdr(rbuf + pos, (size_t)(n - pos), &id, &len));
            REQUIRE(pos + (int)len <= n);
            REQUIRE(is_event(rbuf + pos, id, len));
            REQUIRE(nids < max);
            out[nids++] = id;
            pos += (int)len;
        }
    }
    CU_ASSERT_EQUAL(n, 0);
    CU_ASSERT_EQUAL(cur, ring.head_id);
    return nids;
}

static void test_ring_replay_exact(void)
{
    static uint64_t ids[CONFIG_SSE_RING_EVENTS + 1];
    /* Several reads per replay; still room for the largest event. */
    const size_t cap = 3 * (size_t)MAXE < RB ? 3 * (size_t)MAXE : RB;
    uint64_t t, h, l;

    fill_evicted(1);
    t = ring.tail_id;
    h = ring.head_id;
    /* Every Last-Event-ID a client could hold, from just evicted to newest. */
    for (l = t - 1; l < h; l++) {
        size_t n = read_ids(sse_ring_resume_cursor(&ring, l), cap, ids,
                            sizeof ids / sizeof ids[0]);
        CU_ASSERT_EQUAL_FATAL(n, (size_t)(h - 1 - l));
        for (size_t i = 0; i < n; i++)
            REQUIRE(ids[i] == l + 1 + i);      /* no gap, no dup */
    }
    /* Older than that: everything held, from the tail. */
    {
        size_t n = read_ids(sse_ring_resume_cursor(&ring, t - 2), cap, ids,
                            sizeof ids / sizeof ids[0]);
        CU_ASSERT_EQUAL_FATAL(n, (size_t)(h - t));
        for (size_t i = 0; i < n; i++)
            REQUIRE(ids[i] == t + i);
    }
    /* From the future (ids restarted): everything held, too. */
    {
        size_t n = read_ids(sse_ring_resume_cursor(&ring, h + 5), cap, ids,
                            sizeof ids / sizeof ids[0]);
        CU_ASSERT_EQUAL_FATAL(n, (size_t)(h - t));
        CU_ASSERT_EQUAL(n ? ids[0] : 0, t);
    }
}

static const tb_test_t tests[] = {
    TB_TEST(test_ring_append_read_basic),
    TB_TEST(test_ring_first_id),
    TB_TEST(test_ring_channel_and_target_filter),
    TB_TEST(test_ring_small_buffer_whole_events),
    TB_TEST(test_ring_wrap_keeps_contents),
    TB_TEST(test_ring_constant_size_holds_what_fits),
    TB_TEST(test_ring_exact_fit_boundaries),
    TB_TEST(test_ring_evict_by_count),
    TB_TEST(test_ring_reserve_refuses),
    TB_TEST(test_ring_read_fell_behind),
    TB_TEST(test_ring_resume_cursor),
    TB_TEST(test_ring_replay_exact),
};

int test_ring_register(void)
{
    return TB_SUITE("ring", suite_init, NULL, tests);
}
