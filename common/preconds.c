/*
 * preconds.c - see preconds.h. The date parser follows the steps of
 * Python's email.utils.parsedate (the one Swift's swob relies on), so a
 * date that Swift honours or ignores is honoured or ignored here too; the
 * result must then be a valid calendar date and time, as Python's datetime
 * requires.
 */
#include "common/preconds.h"

#include <ctype.h>
#include <errno.h>
#include <stddef.h>
#include <string.h>
#include <strings.h>

#include "common/util.h"

/* Entry [p, p+len) of an ETag list, trimmed, with one pair of quotes off. */
static void normalize_tag(const char **p, size_t *len)
{
    const char *s = *p;
    size_t n = *len;
    while (n && isspace((unsigned char)*s)) {
        s++;
        n--;
    }
    while (n && isspace((unsigned char)s[n - 1]))
        n--;
    if (n >= 2 && s[0] == '"' && s[n - 1] == '"') {
        s++;
        n -= 2;
    }
    *p = s;
    *len = n;
}

/*
 * Looks for an entry equal to want[0..wlen) in the list; with want NULL only
 * a "*" entry counts. A "*" entry (quoted or not, as Swift normalises it)
 * matches any want.
 */
static bool list_find(const char *list, const char *want, size_t wlen)
{
    const char *p = list;
    for (;;) {
        const char *comma = strchr(p, ',');
        size_t n = comma ? (size_t)(comma - p) : strlen(p);
        const char *tag = p;
        normalize_tag(&tag, &n);
        if (n == 1 && tag[0] == '*')
            return true;
        if (want && n == wlen && memcmp(tag, want, wlen) == 0)
            return true;
        if (!comma)
            return false;
        p = comma + 1;
    }
}

bool preconds_etag_in_list(const char *list, const char *etag)
{
    if (!list || !etag)
        return false;
    size_t wlen = strlen(etag);
    normalize_tag(&etag, &wlen);
    return list_find(list, etag, wlen);
}

bool preconds_list_has_star(const char *list)
{
    return list && list_find(list, NULL, 0);
}

int preconds_eval_read(const struct preconds_req *req,
                       const struct preconds_obj *obj)
{
    if (obj->exists && obj->etag) {
        if (req->if_none_match &&
            preconds_etag_in_list(req->if_none_match, obj->etag))
            return 304;
        if (req->if_match && !preconds_etag_in_list(req->if_match, obj->etag))
            return 412;
    }
    if (!obj->exists && req->if_match && preconds_list_has_star(req->if_match))
        return 412;
    if (!obj->exists)
        return 0;
    int64_t t;
    if (req->if_modified_since &&
        preconds_parse_http_date(req->if_modified_since, &t) == 0 &&
        obj->last_modified <= t)
        return 304;
    if (req->if_unmodified_since &&
        preconds_parse_http_date(req->if_unmodified_since, &t) == 0 &&
        obj->last_modified > t)
        return 412;
    return 0;
}

int preconds_eval_write(const struct preconds_req *req,
                        const struct preconds_obj *obj)
{
    if (!obj->exists || !req->if_none_match)
        return 0;
    if (preconds_list_has_star(req->if_none_match))
        return 412;
    if (obj->etag && preconds_etag_in_list(req->if_none_match, obj->etag))
        return 412;
    return 0;
}

/* ------------------------------------------------------------ dates */

#define MAX_TOKENS 8
#define TOKEN_MAX 40

struct tok {
    char s[TOKEN_MAX];
};

static const char *const month_names[] = {
    "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct",
    "nov", "dec", "january", "february", "march", "april", "may", "june",
    "july", "august", "september", "october", "november", "december",
};
static const char *const day_names[] = {"mon", "tue", "wed", "thu",
                                        "fri", "sat", "sun"};

static int month_index(const char *s)
{
    for (size_t i = 0; i < sizeof(month_names) / sizeof(month_names[0]); i++)
        if (strcasecmp(s, month_names[i]) == 0)
            return (int)(i % 12) + 1;
    return 0;
}

static bool is_day_name(const char *s)
{
    for (size_t i = 0; i < sizeof(day_names) / sizeof(day_names[0]); i++)
        if (strcasecmp(s, day_names[i]) == 0)
            return true;
    return false;
}

static void chop_trailing_comma(char *s)
{
    size_t n = strlen(s);
    if (n && s[n - 1] == ',')
        s[n - 1] = '\0';
}

/* Python's int() on a token: optional sign, digits only here. */
static bool parse_int(const char *s, int64_t *out)
{
    bool neg = false;
    if (*s == '+' || *s == '-') {
        neg = *s == '-';
        s++;
    }
    uint64_t v;
    if (parse_u64(s, &v) != 0 || v > 100000000)
        return false;
    *out = neg ? -(int64_t)v : (int64_t)v;
    return true;
}

static int64_t days_from_civil(int64_t y, int64_t m, int64_t d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static bool is_leap(int64_t y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

/* Splits a "h:m[:s]" (or "h.m[.s]") time; fills up to 3 parts. */
static int split_time(char *tm, char sep, char *parts[3])
{
    int n = 0;
    char *p = tm;
    for (;;) {
        if (n == 3)
            return -1;
        parts[n++] = p;
        char *q = strchr(p, sep);
        if (!q)
            break;
        *q = '\0';
        p = q + 1;
    }
    return n;
}

int preconds_parse_http_date(const char *str, int64_t *out)
{
    struct tok t[MAX_TOKENS + 2];
    size_t n = 0;
    const char *p = str;
    while (*p) {
        while (isspace((unsigned char)*p))
            p++;
        if (!*p)
            break;
        size_t len = 0;
        while (p[len] && !isspace((unsigned char)p[len]))
            len++;
        if (n == MAX_TOKENS || len >= TOKEN_MAX)
            return -EINVAL;
        memcpy(t[n].s, p, len);
        t[n].s[len] = '\0';
        n++;
        p += len;
    }
    if (n == 0)
        return -EINVAL;

    size_t first = 0;
    size_t l0 = strlen(t[0].s);
    if ((l0 && t[0].s[l0 - 1] == ',') || is_day_name(t[0].s)) {
        first = 1; /* a weekday: drop it */
    } else {
        char *c = strrchr(t[0].s, ',');
        if (c)
            memmove(t[0].s, c + 1, strlen(c + 1) + 1);
    }
    struct tok *d = t + first;
    size_t nd = n - first;

    struct tok split[3];
    if (nd == 3) { /* RFC 850: 06-Nov-94 */
        char *a = d[0].s;
        char *b = strchr(a, '-');
        char *c = b ? strchr(b + 1, '-') : NULL;
        if (b && c && !strchr(c + 1, '-')) {
            *b = '\0';
            *c = '\0';
            str_copy(split[0].s, a, TOKEN_MAX);
            str_copy(split[1].s, b + 1, TOKEN_MAX);
            str_copy(split[2].s, c + 1, TOKEN_MAX);
            struct tok rest[2] = {d[1], d[2]};
            d[0] = split[0];
            d[1] = split[1];
            d[2] = split[2];
            d[3] = rest[0];
            d[4] = rest[1];
            nd = 5;
        }
    }
    if (nd == 4) {
        char *s = d[3].s;
        char *sign = strchr(s, '+');
        if (!sign)
            sign = strchr(s, '-');
        if (sign && sign > s) {
            str_copy(d[4].s, sign, TOKEN_MAX);
            *sign = '\0';
        } else {
            d[4].s[0] = '\0';
        }
        nd = 5;
    }
    if (nd < 5)
        return -EINVAL;

    char *dd = d[0].s, *mm = d[1].s, *yy = d[2].s, *tm = d[3].s, *tz = d[4].s;
    if (!*dd || !*mm || !*yy)
        return -EINVAL;
    int mon = month_index(mm);
    if (!mon) {
        char *tmp = dd;
        dd = mm;
        mm = tmp;
        mon = month_index(mm);
        if (!mon)
            return -EINVAL;
    }
    chop_trailing_comma(dd);
    if (strchr(yy, ':') && strchr(yy, ':') != yy) {
        char *tmp = yy;
        yy = tm;
        tm = tmp;
    }
    size_t ly = strlen(yy);
    if (ly && yy[ly - 1] == ',') {
        yy[ly - 1] = '\0';
        if (!*yy)
            return -EINVAL;
    }
    if (!isdigit((unsigned char)yy[0])) {
        char *tmp = yy;
        yy = tz;
        tz = tmp;
    }
    if (!*tm)
        return -EINVAL;
    chop_trailing_comma(tm);

    char *parts[3];
    int np = split_time(tm, ':', parts);
    if (np == 1 && strchr(tm, '.'))
        np = split_time(tm, '.', parts);
    if (np != 2 && np != 3)
        return -EINVAL;

    int64_t year, day, hh, mi, ss = 0;
    if (!parse_int(yy, &year) || !parse_int(dd, &day) ||
        !parse_int(parts[0], &hh) || !parse_int(parts[1], &mi) ||
        (np == 3 && !parse_int(parts[2], &ss)))
        return -EINVAL;
    if (year >= 0 && year < 100)
        year += year > 68 ? 1900 : 2000;

    /* What datetime() accepts. */
    static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int dim = mdays[mon - 1] + (mon == 2 && is_leap(year));
    if (year < 1 || year > 9999 || day < 1 || day > dim || hh < 0 ||
        hh > 23 || mi < 0 || mi > 59 || ss < 0 || ss > 59)
        return -EINVAL;
    *out = days_from_civil(year, mon, day) * 86400 + hh * 3600 + mi * 60 + ss;
    return 0;
}
