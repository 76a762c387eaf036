/*
 * timestamp.c - Swift's timestamp forms and HTTP dates; see timestamp.h.
 *
 * Rounding: Swift reads the text with float() and prints it with "%.5f";
 * strtod and glibc's printf are both exact on the binary value, so doing
 * the same here gives the same digits, including for inputs with more than
 * five decimals. Internally the time is then kept as an integer count of
 * 10 µs units, so comparisons and every output form are exact.
 *
 * Calendar arithmetic is proleptic Gregorian on day counts (no libc time
 * zone state is touched, so everything is thread-safe and TZ-independent).
 */
#include "common/timestamp.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define TS_MAX_SECS 10000000000.0 /* Swift: "timestamp too large" */

/* ---------------------------------------------------------------- calendar */

/* Days since 1970-01-01 of a Gregorian date (month 1..12). */
static int64_t days_from_civil(int64_t y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;                              /* 0..399 */
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1; /* 0..365 */
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;     /* 0..146096 */
    return era * 146097 + doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *y, int *m, int *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = yoe + era * 400 + (*m <= 2);
}

static int days_in_month(int64_t y, int m)
{
    static const int dm[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
        return 29;
    return dm[m - 1];
}

/* Floor division and modulo for negative seconds. */
static void split_secs(int64_t secs, int64_t *days, int64_t *rem)
{
    *days = secs / 86400;
    *rem = secs % 86400;
    if (*rem < 0) {
        *rem += 86400;
        (*days)--;
    }
}

static const char *const mon_names[12] = {"Jan", "Feb", "Mar", "Apr", "May",
                                          "Jun", "Jul", "Aug", "Sep", "Oct",
                                          "Nov", "Dec"};
static const char *const day_names[7] = {"Mon", "Tue", "Wed", "Thu", "Fri",
                                         "Sat", "Sun"};

/* ---------------------------------------------------------------- core */

int ts_from_double(double secs, uint64_t offset, struct ts *out)
{
    if (isnan(secs))
        return -EINVAL;
    if (secs < 0 || secs >= TS_MAX_SECS)
        return -ERANGE;
    if (secs == 0)
        secs = 0.0; /* "-0" would print as "-0.00000" (Swift's quirk, not ours) */
    char buf[40];
    int n = snprintf(buf, sizeof(buf), "%.5f", secs);
    if (n <= 6 || n >= (int)sizeof(buf))
        return -ERANGE;
    int64_t units = 0;
    for (int i = 0; i < n; i++) {
        if (buf[i] == '.')
            continue;
        if (buf[i] < '0' || buf[i] > '9')
            return -EINVAL;
        units = units * 10 + (buf[i] - '0');
    }
    out->units = units;
    out->offset = offset;
    return 0;
}

/* Checks the decimal syntax Swift's float() meets in practice: digits with
 * an optional fraction and exponent, an optional sign. No spaces, no
 * "inf"/"nan", no hex floats (strtod would take them). */
static bool decimal_syntax(const char *s, size_t len)
{
    size_t i = 0, digits = 0;
    if (i < len && (s[i] == '+' || s[i] == '-'))
        i++;
    while (i < len && isdigit((unsigned char)s[i]))
        i++, digits++;
    if (i < len && s[i] == '.') {
        i++;
        while (i < len && isdigit((unsigned char)s[i]))
            i++, digits++;
    }
    if (digits == 0)
        return false;
    if (i < len && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        if (i < len && (s[i] == '+' || s[i] == '-'))
            i++;
        size_t ed = 0;
        while (i < len && isdigit((unsigned char)s[i]))
            i++, ed++;
        if (ed == 0)
            return false;
    }
    return i == len;
}

int ts_parse_n(const char *s, size_t len, struct ts *out)
{
    const char *us = memchr(s, '_', len);
    size_t blen = us ? (size_t)(us - s) : len;
    if (blen == 0 || blen > 64 || !decimal_syntax(s, blen))
        return -EINVAL;
    uint64_t offset = 0;
    if (us) {
        const char *h = us + 1, *end = s + len;
        /* "123_" means offset 0 to Swift (int('', 16) is never reached) */
        for (; h < end; h++) {
            int v;
            if (*h >= '0' && *h <= '9')
                v = *h - '0';
            else if (*h >= 'a' && *h <= 'f')
                v = *h - 'a' + 10;
            else if (*h >= 'A' && *h <= 'F')
                v = *h - 'A' + 10;
            else
                return -EINVAL;
            if (offset > (UINT64_MAX >> 4))
                return -ERANGE;
            offset = (offset << 4) | (uint64_t)v;
        }
    }
    char num[65];
    memcpy(num, s, blen);
    num[blen] = '\0';
    errno = 0;
    double d = strtod(num, NULL);
    if (errno == ERANGE && d != 0)
        return -ERANGE;
    return ts_from_double(d, offset, out);
}

int ts_parse(const char *s, struct ts *out)
{
    return ts_parse_n(s, strlen(s), out);
}

struct ts ts_now(void)
{
    struct timespec tv;
    clock_gettime(CLOCK_REALTIME, &tv);
    struct ts t = {(int64_t)tv.tv_sec * TS_UNITS_PER_SEC +
                       (tv.tv_nsec + 5000) / 10000,
                   0};
    return t;
}

int ts_cmp(const struct ts *a, const struct ts *b)
{
    if (a->units != b->units)
        return a->units < b->units ? -1 : 1;
    if (a->offset != b->offset)
        return a->offset < b->offset ? -1 : 1;
    return 0;
}

double ts_to_double(const struct ts *t)
{
    char buf[TS_NORMAL_LEN];
    ts_normal(t, buf);
    return strtod(buf, NULL);
}

void ts_normal(const struct ts *t, char buf[TS_NORMAL_LEN])
{
    /* units is within [0, 10^15] by construction; the wide scratch buffer
     * only keeps the compiler's truncation analysis quiet. */
    char tmp[48];
    uint64_t u = (uint64_t)t->units;
    snprintf(tmp, sizeof(tmp), "%010" PRIu64 ".%05" PRIu64,
             u / TS_UNITS_PER_SEC, u % TS_UNITS_PER_SEC);
    memcpy(buf, tmp, TS_NORMAL_LEN - 1);
    buf[TS_NORMAL_LEN - 1] = '\0';
}

void ts_internal(const struct ts *t, char buf[TS_INTERNAL_LEN])
{
    ts_normal(t, buf);
    if (t->offset) {
        size_t n = strlen(buf);
        snprintf(buf + n, TS_INTERNAL_LEN - n, "_%016" PRIx64, t->offset);
    }
}

void ts_short(const struct ts *t, char buf[TS_INTERNAL_LEN])
{
    ts_normal(t, buf);
    if (t->offset) {
        size_t n = strlen(buf);
        snprintf(buf + n, TS_INTERNAL_LEN - n, "_%" PRIx64, t->offset);
    }
}

int64_t ts_ceil_seconds(const struct ts *t)
{
    return (t->units + TS_UNITS_PER_SEC - 1) / TS_UNITS_PER_SEC;
}

void ts_isoformat(const struct ts *t, char buf[TS_ISO_LEN])
{
    int64_t days, rem, y;
    int m, d;
    split_secs(t->units / TS_UNITS_PER_SEC, &days, &rem);
    civil_from_days(days, &y, &m, &d);
    char tmp[64];
    snprintf(tmp, sizeof(tmp), "%04d-%02d-%02dT%02d:%02d:%02d.%06d", (int)y,
             m, d, (int)(rem / 3600), (int)(rem / 60 % 60), (int)(rem % 60),
             (int)(t->units % TS_UNITS_PER_SEC) * 10);
    memcpy(buf, tmp, TS_ISO_LEN - 1);
    buf[TS_ISO_LEN - 1] = '\0';
}

/* Reads exactly n digits at *p into *v. */
static bool digits_n(const char **p, int n, int *v)
{
    int x = 0;
    for (int i = 0; i < n; i++) {
        if (!isdigit((unsigned char)(*p)[i]))
            return false;
        x = x * 10 + ((*p)[i] - '0');
    }
    *p += n;
    *v = x;
    return true;
}

int ts_parse_iso(const char *s, struct ts *out)
{
    int y, mo, d, h, mi, se;
    const char *p = s;
    if (!digits_n(&p, 4, &y) || *p++ != '-' || !digits_n(&p, 2, &mo) ||
        *p++ != '-' || !digits_n(&p, 2, &d) || *p++ != 'T' ||
        !digits_n(&p, 2, &h) || *p++ != ':' || !digits_n(&p, 2, &mi) ||
        *p++ != ':' || !digits_n(&p, 2, &se) || *p++ != '.')
        return -EINVAL;
    int us = 0, nd = 0;
    while (isdigit((unsigned char)*p) && nd < 6) {
        us = us * 10 + (*p++ - '0');
        nd++;
    }
    if (nd == 0 || *p)
        return -EINVAL;
    for (; nd < 6; nd++)
        us *= 10;
    if (mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo) || h > 23 ||
        mi > 59 || se > 59)
        return -EINVAL;
    int64_t secs = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 +
                   se;
    /* As Swift: total_seconds() of the difference from the Epoch, i.e.
     * whole microseconds divided by 10^6, then the usual rounding. */
    double dsecs = (double)(secs * 1000000 + us) / 1e6;
    return ts_from_double(dsecs, 0, out);
}

/* ---------------------------------------------------------------- HTTP */

void ts_http_date(int64_t secs, char buf[TS_HTTP_DATE_LEN])
{
    int64_t days, rem, y;
    int m, d;
    split_secs(secs, &days, &rem);
    civil_from_days(days, &y, &m, &d);
    int64_t wd = (days % 7 + 7 + 3) % 7; /* 1970-01-01 was a Thursday */
    char tmp[64];
    snprintf(tmp, sizeof(tmp), "%s, %02d %s %04d %02d:%02d:%02d GMT",
             day_names[wd], d, mon_names[m - 1], (int)y, (int)(rem / 3600),
             (int)(rem / 60 % 60), (int)(rem % 60));
    memcpy(buf, tmp, TS_HTTP_DATE_LEN - 1);
    buf[TS_HTTP_DATE_LEN - 1] = '\0';
}

#define HD_MAX_TOK 8

struct tok {
    char s[32];
};

static int month_index(const char *s)
{
    static const char *const full[12] = {
        "january", "february", "march", "april", "may", "june", "july",
        "august", "september", "october", "november", "december"};
    for (int i = 0; i < 12; i++)
        if (strcasecmp(s, mon_names[i]) == 0 || strcasecmp(s, full[i]) == 0)
            return i + 1;
    return 0;
}

static bool parse_uint(const char *s, int *v)
{
    if (!*s || strlen(s) > 9)
        return false;
    int x = 0;
    for (; *s; s++) {
        if (!isdigit((unsigned char)*s))
            return false;
        x = x * 10 + (*s - '0');
    }
    *v = x;
    return true;
}

static void strip_comma(char *s)
{
    size_t n = strlen(s);
    if (n && s[n - 1] == ',')
        s[n - 1] = '\0';
}

int ts_parse_http_date(const char *s, int64_t *secs)
{
    struct tok t[HD_MAX_TOK];
    int n = 0;
    /* Split on white space. */
    for (const char *p = s; *p;) {
        while (*p == ' ' || *p == '\t')
            p++;
        if (!*p)
            break;
        const char *w = p;
        while (*p && *p != ' ' && *p != '\t')
            p++;
        size_t len = (size_t)(p - w);
        if (n == HD_MAX_TOK || len >= sizeof(t[0].s))
            return -EINVAL;
        memcpy(t[n].s, w, len);
        t[n].s[len] = '\0';
        n++;
    }
    if (n == 0)
        return -EINVAL;
    /* A leading day name, with or without its comma, is dropped; so is
     * anything up to a comma glued to the date ("Sun,06 Nov ..."). */
    size_t l0 = strlen(t[0].s);
    bool dayname = false;
    for (int i = 0; i < 7; i++)
        if (strcasecmp(t[0].s, day_names[i]) == 0)
            dayname = true;
    if (t[0].s[l0 - 1] == ',' || dayname) {
        memmove(&t[0], &t[1], (size_t)(n - 1) * sizeof(t[0]));
        n--;
    } else {
        char *c = strrchr(t[0].s, ',');
        if (c)
            memmove(t[0].s, c + 1, strlen(c + 1) + 1);
    }
    /* RFC 850: "06-Nov-94 08:49:37 GMT". */
    if (n == 3) {
        char *a = t[0].s, *b = strchr(a, '-');
        char *c = b ? strchr(b + 1, '-') : NULL;
        if (b && c && !strchr(c + 1, '-')) {
            struct tok d[3];
            *b = *c = '\0';
            snprintf(d[0].s, sizeof(d[0].s), "%s", a);
            snprintf(d[1].s, sizeof(d[1].s), "%s", b + 1);
            snprintf(d[2].s, sizeof(d[2].s), "%s", c + 1);
            t[4] = t[2];
            t[3] = t[1];
            t[0] = d[0];
            t[1] = d[1];
            t[2] = d[2];
            n = 5;
        }
    }
    /* Four fields: a zone may be glued to the last one, else none. */
    if (n == 4) {
        char *z = strchr(t[3].s, '+');
        if (!z)
            z = strchr(t[3].s, '-');
        if (z && z > t[3].s) {
            snprintf(t[4].s, sizeof(t[4].s), "%s", z);
            *z = '\0';
        } else {
            t[4].s[0] = '\0';
        }
        n = 5;
    }
    if (n < 5)
        return -EINVAL;
    char *dd = t[0].s, *mm = t[1].s, *yy = t[2].s, *tm = t[3].s;
    int mon = month_index(mm);
    if (!mon) {
        char *x = dd;
        dd = mm;
        mm = x;
        mon = month_index(mm);
        if (!mon)
            return -EINVAL;
    }
    strip_comma(dd);
    if (strchr(yy, ':')) { /* asctime: the year comes after the time */
        char *x = yy;
        yy = tm;
        tm = x;
    }
    strip_comma(yy);
    if (!isdigit((unsigned char)yy[0])) {
        yy = t[4].s; /* the zone took the year's place */
    }
    strip_comma(tm);
    int year, day, hh, mi, ss = 0;
    char *c1 = strchr(tm, ':');
    if (!c1)
        return -EINVAL;
    *c1 = '\0';
    char *c2 = strchr(c1 + 1, ':');
    if (c2)
        *c2 = '\0';
    if (!parse_uint(yy, &year) || !parse_uint(dd, &day) ||
        !parse_uint(tm, &hh) || !parse_uint(c1 + 1, &mi) ||
        (c2 && !parse_uint(c2 + 1, &ss)))
        return -EINVAL;
    if (year < 100)
        year += year > 68 ? 1900 : 2000;
    if (year < 1 || year > 9999 || day < 1 ||
        day > days_in_month(year, mon) || hh > 23 || mi > 59 || ss > 59)
        return -EINVAL;
    *secs = days_from_civil(year, mon, day) * 86400 + hh * 3600 + mi * 60 +
            ss;
    return 0;
}
