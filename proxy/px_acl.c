/*
 * px_acl.c - container ACL cleaning and evaluation; see px_acl.h. The rules
 * are Swift's (common/middleware/acl.py, tempauth.py authorize), restated.
 */
#include "proxy/px_acl.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "common/names.h"
#include "common/util.h"

/* An element of a comma-separated list, trimmed: [b, e). */
struct span {
    const char *b, *e;
};

static struct span trim(const char *b, const char *e)
{
    while (b < e && isspace((unsigned char)*b))
        b++;
    while (e > b && isspace((unsigned char)e[-1]))
        e--;
    return (struct span){b, e};
}

/* Iterates over the comma-separated elements of s; *pos starts at s. */
static bool next_elem(const char **pos, struct span *out)
{
    const char *p = *pos;
    if (!p)
        return false;
    const char *comma = strchr(p, ',');
    const char *end = comma ? comma : p + strlen(p);
    *out = trim(p, end);
    *pos = comma ? comma + 1 : NULL;
    return true;
}

static bool span_eq(struct span s, const char *lit)
{
    size_t n = strlen(lit);
    return (size_t)(s.e - s.b) == n && memcmp(s.b, lit, n) == 0;
}

static int append(char *out, size_t outsz, size_t *len, const char *s,
                  size_t n)
{
    if (*len + n + 1 > outsz)
        return -ENOSPC;
    memcpy(out + *len, s, n);
    *len += n;
    out[*len] = '\0';
    return 0;
}

int px_acl_clean(const char *header, const char *value, char *out,
                 size_t outsz, char *why, size_t whysz)
{
    bool write = false;
    for (const char *h = header; *h; h++)
        if (strncasecmp(h, "write", 5) == 0)
            write = true;
    size_t len = 0;
    if (outsz)
        out[0] = '\0';
    const char *pos = value;
    struct span el;
    while (next_elem(&pos, &el)) {
        if (el.b == el.e)
            continue;
        const char *colon = memchr(el.b, ':', (size_t)(el.e - el.b));
        struct span first = colon ? trim(el.b, colon) : el;
        if (len && append(out, outsz, &len, ",", 1))
            return -ENOSPC;
        if (!colon || first.b == first.e || *first.b != '.') {
            if (append(out, outsz, &len, el.b, (size_t)(el.e - el.b)))
                return -ENOSPC;
            continue;
        }
        struct span second = trim(colon + 1, el.e);
        if (!(span_eq(first, ".r") || span_eq(first, ".ref") ||
              span_eq(first, ".referer") || span_eq(first, ".referrer"))) {
            snprintf(why, whysz, "Unknown designator '%.*s' in ACL: '%.*s'",
                     (int)(first.e - first.b), first.b,
                     (int)(el.e - el.b), el.b);
            return -EINVAL;
        }
        if (write) {
            snprintf(why, whysz, "Referrers not allowed in write ACL: '%.*s'",
                     (int)(el.e - el.b), el.b);
            return -EINVAL;
        }
        bool negate = false;
        if (second.b < second.e && *second.b == '-') {
            negate = true;
            second = trim(second.b + 1, second.e);
        }
        if (second.e - second.b > 1 && *second.b == '*')
            second = trim(second.b + 1, second.e);
        if (second.b == second.e || span_eq(second, ".")) {
            snprintf(why, whysz,
                     "No host/domain value after referrer designation in "
                     "ACL: '%.*s'",
                     (int)(el.e - el.b), el.b);
            return -EINVAL;
        }
        if (append(out, outsz, &len, negate ? ".r:-" : ".r:", negate ? 4 : 3) ||
            append(out, outsz, &len, second.b, (size_t)(second.e - second.b)))
            return -ENOSPC;
    }
    return 0;
}

/* urlparse(referer).hostname, lower-cased, or "unknown". */
static void referer_host(const char *ref, char *out, size_t outsz)
{
    str_copy(out, "unknown", outsz);
    if (!ref)
        return;
    const char *p = strstr(ref, "//");
    const char *colon = strchr(ref, ':');
    /* A netloc exists only after "scheme://" or a leading "//". */
    if (!p || (p != ref && (!colon || colon + 1 != p)))
        return;
    p += 2;
    size_t n = strcspn(p, "/?#");
    const char *at = memchr(p, '@', n);
    if (at) {
        n -= (size_t)(at + 1 - p);
        p = at + 1;
    }
    size_t hl;
    if (*p == '[') {
        const char *rb = memchr(p, ']', n);
        if (!rb)
            return;
        p++;
        hl = (size_t)(rb - p);
    } else {
        const char *c = memchr(p, ':', n);
        hl = c ? (size_t)(c - p) : n;
    }
    if (hl == 0 || hl >= outsz)
        return;
    for (size_t i = 0; i < hl; i++)
        out[i] = (char)tolower((unsigned char)p[i]);
    out[hl] = '\0';
}

static bool host_match(struct span m, const char *rhost)
{
    size_t ml = (size_t)(m.e - m.b), rl = strlen(rhost);
    if (ml == rl && memcmp(m.b, rhost, ml) == 0)
        return true;
    return ml && *m.b == '.' && rl >= ml &&
           memcmp(rhost + rl - ml, m.b, ml) == 0;
}

bool px_acl_referrer_allowed(const char *acl, const char *referer)
{
    char rhost[256];
    bool have_host = false, allow = false;
    const char *pos = acl;
    struct span el;
    while (next_elem(&pos, &el)) {
        if (el.e - el.b < 3 || memcmp(el.b, ".r:", 3) != 0)
            continue;
        struct span m = {el.b + 3, el.e};
        if (!have_host) {
            referer_host(referer, rhost, sizeof(rhost));
            have_host = true;
        }
        if (m.b < m.e && *m.b == '-') {
            m.b++;
            if (host_match(m, rhost))
                allow = false;
        } else if (span_eq(m, "*") || host_match(m, rhost)) {
            allow = true;
        }
    }
    return allow;
}

bool px_acl_has_group(const char *acl, const char *const *groups, size_t n)
{
    char buf[1024];
    const char *pos = acl;
    struct span el;
    while (next_elem(&pos, &el)) {
        size_t len = (size_t)(el.e - el.b);
        if (!len || len >= sizeof(buf) || (len >= 3 && !memcmp(el.b, ".r:", 3)))
            continue;
        size_t dl = names_unquote(el.b, len, buf);
        for (size_t i = 0; i < n; i++)
            if (strlen(groups[i]) == dl && memcmp(groups[i], buf, dl) == 0)
                return true;
    }
    return false;
}

bool px_acl_has_rlistings(const char *acl)
{
    const char *pos = acl;
    struct span el;
    while (next_elem(&pos, &el))
        if (span_eq(el, ".rlistings"))
            return true;
    return false;
}

static bool in_groups(const struct px_identity *id, const char *g)
{
    for (size_t i = 0; i < id->ngroups; i++)
        if (strcmp(id->groups[i], g) == 0)
            return true;
    return false;
}

enum px_authz px_acl_authorize(const struct px_identity *id,
                               const struct px_authz_req *r)
{
    const char *pfx = r->reseller_prefix;
    if (!str_has_prefix(r->account, pfx))
        return PX_AUTHZ_DENY;
    bool plain_account = strcmp(r->account, pfx) != 0 && r->account[0] != '.';
    if (id->authenticated && in_groups(id, ".reseller_admin") && plain_account)
        return PX_AUTHZ_OWNER;
    if (id->authenticated && in_groups(id, r->account) &&
        (!r->method_put_or_delete || r->has_container))
        return PX_AUTHZ_OWNER;
    if (r->method_options)
        return PX_AUTHZ_ALLOW;
    if (r->acl) {
        if (px_acl_referrer_allowed(r->acl, r->referer) &&
            (r->has_object || px_acl_has_rlistings(r->acl)))
            return PX_AUTHZ_ALLOW;
        if (id->authenticated &&
            px_acl_has_group(r->acl, id->groups, id->ngroups))
            return PX_AUTHZ_ALLOW;
    }
    return PX_AUTHZ_DENY;
}
