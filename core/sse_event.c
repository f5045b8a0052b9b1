/* SPDX-License-Identifier: MIT */
/* SSE framer: validates events and encodes event, comment and retry frames (WHATWG wire format). */
#include <limits.h>
#include <string.h>
#include "ssedge/sse_event.h"

/* Word-at-a-time constants sized to size_t, so 32-bit MCUs use 32-bit words. */
#define W_ONES  ((size_t)-1 / 0xFFu)       /* 0x0101...01 */
#define W_HIGHS (W_ONES * 0x80u)           /* 0x8080...80 */
/* Non-zero iff some byte of w is zero (exact; borrows only start at a zero). */
#define W_HAS_ZERO(w) (((w) - W_ONES) & ~(w) & W_HIGHS)

/* What one scan of a byte run found. */
typedef struct {
    size_t breaks;      /* line breaks; CRLF counts as one */
    size_t break_bytes; /* bytes those breaks occupy */
    int    valid;       /* 1 if valid UTF-8 (always 1 for a lax scan) */
} scan_t;

/* Length of the valid multi-byte UTF-8 sequence at s (s[0] >= 0x80), else 0.
 * Narrowing the second byte's range rejects overlongs (E0, F0), surrogates
 * (ED) and code points above U+10FFFF (F4) without decoding. */
static size_t utf8_seq(const unsigned char *s, size_t n)
{
    unsigned c = s[0], lo = 0x80, hi = 0xBF;
    size_t len, k;

    if (c < 0xC2 || c > 0xF4)
        return 0; /* continuation byte, C0/C1 or F5..FF */
    len = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : 2;
    if (c == 0xE0)
        lo = 0xA0;
    else if (c == 0xF0)
        lo = 0x90;
    else if (c == 0xED)
        hi = 0x9F;
    else if (c == 0xF4)
        hi = 0x8F;
    if (n < len || s[1] < lo || s[1] > hi)
        return 0;
    for (k = 2; k < len; k++)
        if ((s[k] & 0xC0) != 0x80)
            return 0;
    return len;
}

/* Count line breaks in s and, when strict, check UTF-8 (stopping at the first
 * error). One pass serves both so data is read only once before writing. */
static scan_t scan(const unsigned char *s, size_t n, int strict)
{
    scan_t r = { 0, 0, 1 };
    size_t i = 0;

    while (i < n) {
        unsigned c;
        if (n - i >= sizeof(size_t)) {
            /* Skip plain ASCII without CR/LF a word at a time. */
            size_t w;
            memcpy(&w, s + i, sizeof w);
            if ((w & W_HIGHS) == 0 && !W_HAS_ZERO(w ^ (W_ONES * '\n')) &&
                !W_HAS_ZERO(w ^ (W_ONES * '\r'))) {
                i += sizeof w;
                continue;
            }
        }
        c = s[i];
        if (c == '\n') {
            r.breaks++;
            r.break_bytes++;
            i++;
        } else if (c == '\r') {
            size_t bl = (i + 1 < n && s[i + 1] == '\n') ? 2 : 1;
            r.breaks++;
            r.break_bytes += bl;
            i += bl;
        } else if (c < 0x80 || !strict) {
            i++;
        } else {
            size_t len = utf8_seq(s + i, n - i);
            if (len == 0) {
                r.valid = 0;
                return r;
            }
            i += len;
        }
    }
    return r;
}

/* A single-line field (event name, id text): valid UTF-8, no CR/LF. */
static int field_ok(const char *s, size_t n)
{
    scan_t r = scan((const unsigned char *)s, n, 1);
    return r.valid && r.breaks == 0;
}

/* Saturating size arithmetic: SIZE_MAX stands for "does not fit anywhere". */
static size_t sz_add(size_t a, size_t b)
{
    return a > SIZE_MAX - b ? SIZE_MAX : a + b;
}

static size_t sz_mul(size_t a, size_t b)
{
    return (b != 0 && a > SIZE_MAX / b) ? SIZE_MAX : a * b;
}

/* Bytes of "<pfx><line>\n" for every line of a scanned run of n bytes. */
static size_t lines_size(const scan_t *r, size_t n, size_t pfx_len)
{
    return sz_add(sz_mul(sz_add(r->breaks, 1), pfx_len + 1), n - r->break_bytes);
}

static const uint64_t pow10_u64[20] = {
    UINT64_C(1), UINT64_C(10), UINT64_C(100), UINT64_C(1000), UINT64_C(10000),
    UINT64_C(100000), UINT64_C(1000000), UINT64_C(10000000),
    UINT64_C(100000000), UINT64_C(1000000000), UINT64_C(10000000000),
    UINT64_C(100000000000), UINT64_C(1000000000000), UINT64_C(10000000000000),
    UINT64_C(100000000000000), UINT64_C(1000000000000000),
    UINT64_C(10000000000000000), UINT64_C(100000000000000000),
    UINT64_C(1000000000000000000), UINT64_C(10000000000000000000)
};

/* Decimal digits of v, by comparison so sizing needs no division. */
static size_t dec_len(uint64_t v)
{
    size_t d = 1;
    while (d < 20 && v >= pow10_u64[d])
        d++;
    return d;
}

/* Write v as exactly d = dec_len(v) digits. Values above 32 bits are cut
 * into 9-digit chunks so a 32-bit core does at most two 64-bit divisions. */
static char *dec_put(char *o, uint64_t v, size_t d)
{
    char *p = o + d;
    uint32_t w;

    while (v > UINT32_MAX) {
        uint64_t q = v / 1000000000u;
        uint32_t r = (uint32_t)(v - q * 1000000000u);
        int k;
        for (k = 0; k < 9; k++) {
            *--p = (char)('0' + r % 10u);
            r /= 10u;
        }
        v = q;
    }
    w = (uint32_t)v;
    do {
        *--p = (char)('0' + w % 10u);
        w /= 10u;
    } while (w != 0);
    return o + d;
}

static char *put(char *o, const char *s, size_t n)
{
    memcpy(o, s, n);
    return o + n;
}

/* Write "<pfx><line>\n" for each line of s, splitting at CRLF, LF and CR.
 * memchr lookaheads are refreshed only once passed, so this stays linear. */
static char *put_lines(char *o, const char *s, size_t n, const char *pfx,
                       size_t pfx_len)
{
    const char *end = s + n;
    const char *cr = memchr(s, '\r', n);
    const char *lf = memchr(s, '\n', n);

    for (;;) {
        const char *brk = (cr != NULL && (lf == NULL || cr < lf)) ? cr : lf;
        const char *stop = brk != NULL ? brk : end;

        o = put(o, pfx, pfx_len);
        o = put(o, s, (size_t)(stop - s));
        *o++ = '\n';
        if (brk == NULL)
            return o;
        s = brk + 1;
        if (brk == cr && s < end && *s == '\n')
            s++;
        if (cr != NULL && cr < s)
            cr = memchr(s, '\r', (size_t)(end - s));
        if (lf != NULL && lf < s)
            lf = memchr(s, '\n', (size_t)(end - s));
    }
}

/* Common size gate: report the size, refuse what cap or an int cannot hold. */
static int fits(size_t total, size_t cap, size_t *need)
{
    if (need != NULL)
        *need = total;
    if (total > cap || total > (size_t)INT_MAX)
        return SSE_ERR_TOO_LARGE;
    return SSE_OK;
}

int sse_event_encode(char *buf, size_t cap, const sse_event_t *ev, size_t *need)
{
    size_t total = 1; /* the blank line that ends the event */
    size_t name_len = 0, id_len = 0, id_digits = 0, retry_digits = 0;
    scan_t ds = { 0, 0, 1 };
    char *o;
    int rc;

    if (ev == NULL || (buf == NULL && cap != 0))
        return SSE_ERR_ARG;
    if (ev->event == NULL && ev->id == NULL && !ev->has_id_num &&
        !ev->has_retry && ev->data == NULL)
        return SSE_ERR_INVALID;
    if (ev->id != NULL && ev->has_id_num)
        return SSE_ERR_INVALID;

    /* Validate everything and size it before writing a byte. */
    if (ev->event != NULL) {
        name_len = strlen(ev->event);
        /* "event: \n" would mean "message"; callers say so with NULL. */
        if (name_len == 0 || !field_ok(ev->event, name_len))
            return SSE_ERR_INVALID;
        total = sz_add(total, sz_add(name_len, 8)); /* "event: " + "\n" */
    }
    if (ev->id != NULL) {
        id_len = strlen(ev->id);
        if (!field_ok(ev->id, id_len)) /* "" is fine: it resets the id */
            return SSE_ERR_INVALID;
        total = sz_add(total, sz_add(id_len, 5)); /* "id: " + "\n" */
    } else if (ev->has_id_num) {
        id_digits = dec_len(ev->id_num);
        total = sz_add(total, id_digits + 5);
    }
    if (ev->has_retry) {
        retry_digits = dec_len(ev->retry_ms);
        total = sz_add(total, retry_digits + 8); /* "retry: " + "\n" */
    }
    if (ev->data != NULL) {
        ds = scan((const unsigned char *)ev->data, ev->data_len, 1);
        if (!ds.valid)
            return SSE_ERR_INVALID;
        total = sz_add(total, lines_size(&ds, ev->data_len, 6)); /* "data: " */
    }

    rc = fits(total, cap, need);
    if (rc != SSE_OK)
        return rc;

    o = buf;
    if (ev->event != NULL) {
        o = put(o, "event: ", 7);
        o = put(o, ev->event, name_len);
        *o++ = '\n';
    }
    if (ev->id != NULL || ev->has_id_num) {
        o = put(o, "id: ", 4);
        if (ev->id != NULL)
            o = put(o, ev->id, id_len);
        else
            o = dec_put(o, ev->id_num, id_digits);
        *o++ = '\n';
    }
    if (ev->has_retry) {
        o = put(o, "retry: ", 7);
        o = dec_put(o, ev->retry_ms, retry_digits);
        *o++ = '\n';
    }
    if (ev->data != NULL)
        o = put_lines(o, ev->data, ev->data_len, "data: ", 6);
    *o++ = '\n';
    return (int)(o - buf);
}

int sse_event_comment(char *buf, size_t cap, const char *text, size_t *need)
{
    size_t n = text != NULL ? strlen(text) : 0;
    size_t total;
    scan_t r = { 0, 0, 1 };
    char *o;
    int rc;

    if (buf == NULL && cap != 0)
        return SSE_ERR_ARG;
    /* Browsers ignore comment lines whatever they hold, so no UTF-8 check. */
    if (n != 0) {
        r = scan((const unsigned char *)text, n, 0);
        total = sz_add(lines_size(&r, n, 2), 1); /* ": " per line, final "\n" */
    } else {
        total = 3; /* ":\n\n" */
    }
    rc = fits(total, cap, need);
    if (rc != SSE_OK)
        return rc;

    if (n == 0)
        o = put(buf, ":\n", 2);
    else
        o = put_lines(buf, text, n, ": ", 2);
    *o++ = '\n';
    return (int)(o - buf);
}

int sse_event_retry(char *buf, size_t cap, uint32_t retry_ms, size_t *need)
{
    size_t d = dec_len(retry_ms);
    char *o;
    int rc;

    if (buf == NULL && cap != 0)
        return SSE_ERR_ARG;
    rc = fits(d + 9, cap, need); /* "retry: " + digits + "\n\n" */
    if (rc != SSE_OK)
        return rc;
    o = put(buf, "retry: ", 7);
    o = dec_put(o, retry_ms, d);
    o = put(o, "\n\n", 2);
    return (int)(o - buf);
}

int sse_utf8_valid(const char *s, size_t n)
{
    if (n == 0)
        return 1;
    if (s == NULL)
        return 0;
    return scan((const unsigned char *)s, n, 1).valid;
}
