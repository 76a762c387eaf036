/*
 * timestamp.h - Swift's X-Timestamp and the date forms around it
 * (prefix ts_).
 *
 * A timestamp is a count of 10-microsecond units since the Epoch plus an
 * "offset" that orders writes carrying the same time (Swift's internal
 * form). Text forms, as swift.common.utils.Timestamp writes them:
 *   normal    "1700000000.12345"                   (%016.05f: 10.5 digits)
 *   internal  "1700000000.12345_000000000000000a"  (16 hex digits), or the
 *             normal form when the offset is 0
 *   short     "1700000000.12345_a"                 (for .meta file names)
 *   iso       "2023-11-14T22:13:20.123450"         (listings' last_modified)
 *   http      "Tue, 14 Nov 2023 22:13:21 GMT"      (Last-Modified, RFC 7231)
 * Ordering is by time, then offset; for timestamps of the normal range
 * (0 <= t < 10^10 s) the internal strings sort the same way.
 *
 * Parsing follows Swift: a decimal number (fraction and exponent allowed,
 * "1700000000", "1700000000.123456", "1.7e9") is read as a double and
 * rounded to 5 decimals the way "%.5f" rounds it, then "_<hex offset>" may
 * follow. Negative times and times >= 10^10 s are rejected, as Swift does.
 *
 * All functions are pure (no allocation, no global state) and thread-safe;
 * output buffers are sized by the TS_*_LEN constants (including the NUL).
 */
#ifndef CAIRN_TIMESTAMP_H
#define CAIRN_TIMESTAMP_H

#include <stddef.h>
#include <stdint.h>

#define TS_UNITS_PER_SEC 100000

struct ts {
    int64_t units;   /* 10 µs units since 1970-01-01T00:00:00Z */
    uint64_t offset; /* orders equal times; 0 for client requests */
};

#define TS_NORMAL_LEN 18    /* 16 chars, 17 at 10^10 s exactly, + NUL */
#define TS_INTERNAL_LEN 35  /* normal + '_' + 16 hex + NUL */
#define TS_ISO_LEN 27       /* "YYYY-MM-DDTHH:MM:SS.ffffff" + NUL */
#define TS_HTTP_DATE_LEN 30 /* "Thu, 01 Dec 1994 16:00:00 GMT" + NUL */

/*
 * Parses a timestamp in any form Swift accepts in X-Timestamp (normal,
 * internal, short, or a plain integer/decimal number of seconds) from the
 * whole string s. Returns 0, -EINVAL (not a timestamp) or -ERANGE
 * (negative, >= 10^10 s, or offset beyond 64 bits).
 */
int ts_parse(const char *s, struct ts *out);
/* Same for the first len bytes of s. */
int ts_parse_n(const char *s, size_t len, struct ts *out);

/* From seconds as a double (rounded like "%.5f"), with an offset.
 * Returns 0, -EINVAL (NaN) or -ERANGE (negative or >= 10^10). */
int ts_from_double(double secs, uint64_t offset, struct ts *out);

/* The current time (CLOCK_REALTIME), offset 0. */
struct ts ts_now(void);

/* <0, 0, >0 as a is older than, equal to, newer than b (time, then offset). */
int ts_cmp(const struct ts *a, const struct ts *b);

/* Seconds as a double (the offset is not part of it). */
double ts_to_double(const struct ts *t);

void ts_normal(const struct ts *t, char buf[TS_NORMAL_LEN]);
/* Normal form when the offset is 0, else with "_%016x". */
void ts_internal(const struct ts *t, char buf[TS_INTERNAL_LEN]);
/* Normal form when the offset is 0, else with "_%x". */
void ts_short(const struct ts *t, char buf[TS_INTERNAL_LEN]);

/* "YYYY-MM-DDTHH:MM:SS.ffffff" of the time (UTC, no zone suffix). */
void ts_isoformat(const struct ts *t, char buf[TS_ISO_LEN]);
/* Parses that form (1 to 6 fraction digits, as strptime's %f) into *out
 * with offset 0. Returns 0, -EINVAL or -ERANGE. */
int ts_parse_iso(const char *s, struct ts *out);

/* Whole seconds rounded up, as Swift computes Last-Modified. */
int64_t ts_ceil_seconds(const struct ts *t);

/* RFC 7231 IMF-fixdate of secs since the Epoch (0 <= secs < 253402300800). */
void ts_http_date(int64_t secs, char buf[TS_HTTP_DATE_LEN]);

/*
 * Parses an HTTP date (If-Modified-Since, If-Unmodified-Since) into seconds
 * since the Epoch. Accepts what Python's email.utils.parsedate reads in
 * practice: IMF-fixdate "Sun, 06 Nov 1994 08:49:37 GMT", RFC 850
 * "Sunday, 06-Nov-94 08:49:37 GMT", asctime "Sun Nov  6 08:49:37 1994";
 * day name optional, month names case-insensitive, seconds optional,
 * two-digit years mapped as Python does (69..99 -> 19xx, 0..68 -> 20xx).
 * Like Swift (which uses parsedate, not parsedate_tz), a zone such as
 * "+0200" is accepted and ignored: the time is taken as UTC.
 * Returns 0 or -EINVAL.
 */
int ts_parse_http_date(const char *s, int64_t *secs);

#endif
