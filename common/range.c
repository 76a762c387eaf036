/*
 * range.c - see range.h. Two passes over the header: the first only checks
 * syntax (one bad spec anywhere voids the whole header, so nothing may be
 * decided before the end), the second resolves specs against the length.
 * Neither pass stores more than RANGE_MAX_RANGES ranges.
 */
#include "common/range.h"

#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "common/util.h"

#define NO_VALUE UINT64_MAX /* "absent" for a spec's start or end */

/* One "a-b" spec, spaces already skipped by the cursor. */
struct spec {
    uint64_t start; /* NO_VALUE for a suffix range "-n" */
    uint64_t end;   /* NO_VALUE for an open range "a-" */
};

/* Cursor over the header with spaces removed on the fly (Swift deletes every
 * ' ' before parsing, so "by tes = 1 - 2" is the same as "bytes=1-2"). */
struct cursor {
    const char *p;
};

static char cur_peek(struct cursor *c)
{
    while (*c->p == ' ')
        c->p++;
    return *c->p;
}

static void cur_next(struct cursor *c)
{
    cur_peek(c);
    if (*c->p)
        c->p++;
}

/*
 * Reads decimal digits; numbers too large for 64 bits saturate at
 * UINT64_MAX - 1, which behaves as Swift's unbounded integers do here
 * (beyond any length). Returns the count of digits read.
 */
static size_t cur_number(struct cursor *c, uint64_t *out)
{
    size_t nd = 0;
    uint64_t v = 0;
    for (char ch = cur_peek(c); ch >= '0' && ch <= '9'; ch = cur_peek(c)) {
        unsigned d = (unsigned)(ch - '0');
        if (v > (UINT64_MAX - 1 - d) / 10)
            v = UINT64_MAX - 1;
        else
            v = v * 10 + d;
        nd++;
        cur_next(c);
    }
    *out = v;
    return nd;
}

/*
 * Parses the spec at the cursor, up to ',' or the end. Returns false on a
 * syntax error. Swift's int() also takes a '+' before the first number;
 * the second must be plain digits.
 */
static bool parse_spec(struct cursor *c, struct spec *s)
{
    s->start = NO_VALUE;
    s->end = NO_VALUE;
    bool plus = false;
    if (cur_peek(c) == '+') {
        plus = true;
        cur_next(c);
    }
    uint64_t v;
    if (cur_number(c, &v) > 0)
        s->start = v;
    else if (plus)
        return false;
    if (cur_peek(c) != '-')
        return false;
    cur_next(c);
    if (cur_number(c, &v) > 0)
        s->end = v;
    char ch = cur_peek(c);
    if (ch != ',' && ch != '\0')
        return false;
    if (s->start == NO_VALUE && s->end == NO_VALUE)
        return false;
    if (s->start != NO_VALUE && s->end != NO_VALUE && s->end < s->start)
        return false;
    return true;
}

/* Moves the cursor past "bytes=" or returns false. */
static bool skip_unit(struct cursor *c)
{
    static const char unit[] = "bytes=";
    for (size_t i = 0; i < sizeof(unit) - 1; i++) {
        char ch = cur_peek(c);
        if (ch >= 'A' && ch <= 'Z')
            ch = (char)(ch - 'A' + 'a');
        if (ch != unit[i])
            return false;
        cur_next(c);
    }
    return true;
}

static bool header_valid(const char *hdr)
{
    struct cursor c = {hdr};
    if (!skip_unit(&c))
        return false;
    for (;;) {
        struct spec s;
        if (!parse_spec(&c, &s))
            return false;
        if (cur_peek(&c) == '\0')
            return true;
        cur_next(&c); /* the ',' */
    }
}

/* Swift's overlap test on half-open ranges (strict inequalities). */
static bool overlaps(const struct range_byte *a, const struct range_byte *b)
{
    return (a->start < b->start && b->start < a->end) ||
           (a->start < b->end && b->end < a->end) ||
           (b->start < a->start && a->start < b->end) ||
           (b->start < a->end && a->end < b->end);
}

/* Python compares the (start, end) tuples. */
static bool tuple_gt(const struct range_byte *a, const struct range_byte *b)
{
    return a->start > b->start || (a->start == b->start && a->end > b->end);
}

enum range_outcome range_resolve(const char *hdr, uint64_t length,
                                 struct range_set *set)
{
    set->n = 0;
    if (!hdr || !*hdr || !header_valid(hdr))
        return RANGE_WHOLE;

    struct cursor c = {hdr};
    skip_unit(&c);
    size_t n = 0;
    for (;;) {
        struct spec s;
        parse_spec(&c, &s); /* cannot fail: header_valid() passed */
        struct range_byte r;
        bool keep = true;
        if (s.start == NO_VALUE) {
            if (s.end == 0)
                keep = false; /* "-0" */
            else if (s.end > length)
                r = (struct range_byte){0, length};
            else
                r = (struct range_byte){length - s.end, length};
        } else if (s.start >= length) {
            keep = false;
        } else if (s.end == NO_VALUE || s.end >= length) {
            r = (struct range_byte){s.start, length};
        } else {
            r = (struct range_byte){s.start, s.end + 1};
        }
        if (keep) {
            if (n == RANGE_MAX_RANGES)
                return RANGE_UNSATISFIABLE; /* too many: anti-DoS */
            set->r[n++] = r;
        }
        if (cur_peek(&c) == '\0')
            break;
        cur_next(&c);
    }
    if (n == 0)
        return RANGE_UNSATISFIABLE;

    unsigned nover = 0;
    for (size_t i = 0; i < n; i++)
        for (size_t j = i + 1; j < n; j++)
            if (overlaps(&set->r[i], &set->r[j]) &&
                ++nover > RANGE_MAX_OVERLAPS)
                return RANGE_UNSATISFIABLE;

    bool ascending = true;
    for (size_t i = 0; i + 1 < n; i++)
        if (tuple_gt(&set->r[i], &set->r[i + 1])) {
            ascending = false;
            break;
        }
    if (!ascending && n >= RANGE_MAX_NONASCENDING)
        return RANGE_UNSATISFIABLE;

    /* A suffix range on an empty object: no byte can be named in a
     * Content-Range, so Swift serves the (empty) whole. */
    if (length == 0)
        return RANGE_WHOLE;
    set->n = n;
    return RANGE_PARTIAL;
}

static size_t fmt_len(int rc)
{
    return rc < 0 ? 0 : (size_t)rc;
}

size_t range_content_range(char *buf, size_t bufsz, const struct range_byte *r,
                           uint64_t length)
{
    return fmt_len(snprintf(buf, bufsz, "bytes %" PRIu64 "-%" PRIu64 "/%" PRIu64,
                            r->start, r->end - 1, length));
}

size_t range_content_range_unsatisfied(char *buf, size_t bufsz,
                                       uint64_t length)
{
    return fmt_len(snprintf(buf, bufsz, "bytes */%" PRIu64, length));
}

void range_boundary_new(char boundary[RANGE_BOUNDARY_LEN + 1])
{
    unsigned char raw[RANGE_BOUNDARY_LEN / 2];
    ssize_t got = getrandom(raw, sizeof(raw), GRND_NONBLOCK);
    if (got != (ssize_t)sizeof(raw)) {
        uint64_t mix[2] = {now_mono_ns() ^ ((uint64_t)getpid() << 32),
                           (uint64_t)time(NULL) * 0x9e3779b97f4a7c15ULL};
        memcpy(raw, mix, sizeof(raw));
    }
    hex_encode(raw, sizeof(raw), boundary);
}

size_t range_multipart_content_type(char *buf, size_t bufsz,
                                    const char *boundary)
{
    return fmt_len(
        snprintf(buf, bufsz, "multipart/byteranges;boundary=%s", boundary));
}

size_t range_part_header(char *buf, size_t bufsz, const char *boundary,
                         const char *ctype, const struct range_byte *r,
                         uint64_t length)
{
    return fmt_len(snprintf(buf, bufsz,
                            "--%s\r\nContent-Type: %s\r\n"
                            "Content-Range: bytes %" PRIu64 "-%" PRIu64
                            "/%" PRIu64 "\r\n\r\n",
                            boundary, ctype, r->start, r->end - 1, length));
}

size_t range_multipart_end(char *buf, size_t bufsz, const char *boundary)
{
    return fmt_len(snprintf(buf, bufsz, "--%s--", boundary));
}

uint64_t range_multipart_length(const struct range_set *set,
                                const char *boundary, const char *ctype,
                                uint64_t length)
{
    uint64_t total = 0;
    for (size_t i = 0; i < set->n; i++) {
        const struct range_byte *r = &set->r[i];
        total += range_part_header(NULL, 0, boundary, ctype, r, length);
        total += r->end - r->start;
        total += sizeof(RANGE_PART_TRAILER) - 1;
    }
    total += range_multipart_end(NULL, 0, boundary);
    return total;
}
