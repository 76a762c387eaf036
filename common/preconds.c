/*
 * preconds.c - see preconds.h. Dates are read by common/timestamp.h's
 * ts_parse_http_date, which follows Python's email.utils.parsedate as swob
 * does.
 */
#include "common/preconds.h"

#include <ctype.h>
#include <errno.h>
#include <stddef.h>
#include <string.h>
#include <strings.h>

#include "common/timestamp.h"

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
        ts_parse_http_date(req->if_modified_since, &t) == 0 &&
        obj->last_modified <= t)
        return 304;
    if (req->if_unmodified_since &&
        ts_parse_http_date(req->if_unmodified_since, &t) == 0 &&
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
