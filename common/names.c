/*
 * names.c - request-name rules shared by proxy and objectd; see names.h.
 *
 * Where Swift's behaviour has odd corners (which of "/v1/a//o" and "/v1//c"
 * is a 404 and which a 412, when a trailing '/' names the parent) the code
 * reproduces the corner and the tests pin it down with Swift's own answers.
 */
#include "common/names.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "common/xalloc.h"

#define SPLIT_MAX 8

__attribute__((format(printf, 3, 4)))
static int verdict(struct names_verdict *v, int status, const char *fmt, ...)
{
    if (v) {
        v->status = status;
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(v->body, sizeof(v->body), fmt, ap);
        va_end(ap);
    }
    return -EINVAL;
}

static void verdict_ok(struct names_verdict *v)
{
    if (v) {
        v->status = 0;
        v->body[0] = '\0';
    }
}

/* ---------------------------------------------------------------- UTF-8 */

bool names_utf8_valid(const char *str, size_t len, unsigned flags)
{
    const unsigned char *s = (const unsigned char *)str;
    if (len == 0)
        return false;
    size_t i = 0;
    while (i < len) {
        unsigned char c = s[i];
        if (c < 0x80) {
            if (c == 0 && !(flags & NAMES_UTF8_ALLOW_NUL))
                return false;
            i++;
            continue;
        }
        size_t need;
        unsigned char lo = 0x80, hi = 0xbf; /* range of the second byte */
        if (c >= 0xc2 && c <= 0xdf) {
            need = 1;
        } else if (c >= 0xe0 && c <= 0xef) {
            need = 2;
            if (c == 0xe0)
                lo = 0xa0; /* overlong */
            else if (c == 0xed)
                hi = 0x9f; /* surrogates */
        } else if (c >= 0xf0 && c <= 0xf4) {
            need = 3;
            if (c == 0xf0)
                lo = 0x90; /* overlong */
            else if (c == 0xf4)
                hi = 0x8f; /* above U+10FFFF */
        } else {
            return false; /* continuation byte, C0/C1 overlong, F5..FF */
        }
        if (len - i <= need)
            return false;
        if (s[i + 1] < lo || s[i + 1] > hi)
            return false;
        for (size_t j = 2; j <= need; j++)
            if ((s[i + j] & 0xc0) != 0x80)
                return false;
        i += need + 1;
    }
    return true;
}

size_t names_utf8_count(const char *s, size_t len)
{
    size_t n = 0;
    for (size_t i = 0; i < len; i++)
        if (((unsigned char)s[i] & 0xc0) != 0x80)
            n++;
    return n;
}

/* ---------------------------------------------------------------- URL coding */

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* out never runs ahead of in, so decoding in place (out == in) is safe */
static size_t unquote(const char *in, size_t len, char *out, bool plus)
{
    size_t o = 0;
    for (size_t i = 0; i < len; i++) {
        int h, l;
        if (plus && in[i] == '+') {
            out[o++] = ' ';
        } else if (in[i] == '%' && i + 2 < len && (h = hexval(in[i + 1])) >= 0 &&
                   (l = hexval(in[i + 2])) >= 0) {
            out[o++] = (char)(h << 4 | l);
            i += 2;
        } else {
            out[o++] = in[i];
        }
    }
    out[o] = '\0';
    return o;
}

size_t names_unquote(const char *in, size_t len, char *out)
{
    return unquote(in, len, out, false);
}

size_t names_unquote_plus(const char *in, size_t len, char *out)
{
    return unquote(in, len, out, true);
}

size_t names_quote(const char *in, size_t len, const char *safe, char *out)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t o = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)in[i];
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
            (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-' ||
            c == '~' || (c && safe && strchr(safe, c))) {
            out[o++] = (char)c;
        } else {
            out[o++] = '%';
            out[o++] = hex[c >> 4];
            out[o++] = hex[c & 15];
        }
    }
    out[o] = '\0';
    return o;
}

/* ---------------------------------------------------------------- paths */

/* "Invalid path: <quote(path)>" with the quoted text bounded. */
static int invalid(struct names_verdict *v, const char *what, const char *s,
                   size_t len)
{
    char q[3 * 300 + 1];
    if (len > 300)
        len = 300;
    names_quote(s, len, "/", q);
    return verdict(v, 400, "Invalid %s: %s", what, q);
}

int names_split_path(char *path, int minsegs, int maxsegs, bool rest_with_last,
                     char **segs, struct names_verdict *v)
{
    if (minsegs < 1 || maxsegs < minsegs || maxsegs > SPLIT_MAX)
        return verdict(v, 500, "bad split_path arguments");
    /* Python's path.split('/', maxsplit) with maxsplit = maxsegs when the
     * rest goes with the last segment, maxsegs + 1 otherwise. */
    int maxsplit = rest_with_last ? maxsegs : maxsegs + 1;
    char *part[SPLIT_MAX + 2];
    size_t plen[SPLIT_MAX + 2];
    int count = 0;
    char *p = path;
    for (;;) {
        part[count] = p;
        char *slash = count < maxsplit ? strchr(p, '/') : NULL;
        if (!slash) {
            plen[count++] = strlen(p);
            break;
        }
        plen[count++] = (size_t)(slash - p);
        p = slash + 1;
    }
    bool bad = plen[0] != 0 || count < minsegs + 1;
    for (int i = 1; !bad && i <= minsegs && i < count; i++)
        if (plen[i] == 0)
            bad = true;
    if (!bad && !rest_with_last && count == maxsegs + 2 &&
        plen[maxsegs + 1] != 0)
        bad = true;
    if (bad)
        return invalid(v, "path", path, strlen(path));
    for (int i = 1; i < count && i <= maxsegs; i++)
        part[i][plen[i]] = '\0';
    for (int i = 0; i < maxsegs; i++)
        segs[i] = i + 1 < count ? part[i + 1] : NULL;
    verdict_ok(v);
    return 0;
}

static bool str_in(const char *s, const struct conf_list *l)
{
    for (size_t i = 0; i < l->n; i++)
        if (strcmp(l->v[i], s) == 0)
            return true;
    return false;
}

int names_parse_api_path(const char *raw, size_t len,
                         const struct cluster_constraints *k,
                         struct names_api_path *out, struct names_verdict *v)
{
    memset(out, 0, sizeof(*out));
    char *buf = xmalloc(len + 1);
    size_t n = names_unquote(raw, len, buf);
    if (!names_utf8_valid(buf, n, 0)) {
        free(buf);
        return verdict(v, 412, "Invalid UTF8 or contains NULL");
    }
    char *segs[4];
    if (names_split_path(buf, 1, 4, true, segs, NULL) != 0) {
        free(buf);
        return verdict(v, 404, "%s", "");
    }
    const char *ver = segs[0], *a = segs[1], *c = segs[2], *o = segs[3];
    if (a && *a && !str_in(ver, &k->valid_api_versions)) {
        free(buf);
        return verdict(v, 400, "%s", "");
    }
    bool ha = a && *a, hc = c && *c, ho = o && *o;
    enum names_kind kind;
    if (ha && hc && ho)
        kind = NAMES_OBJECT;
    else if (ha && hc)
        kind = NAMES_CONTAINER;
    else if (ha && !hc && !ho)
        kind = NAMES_ACCOUNT;
    else
        kind = NAMES_NONE;
    if (kind == NAMES_NONE) {
        free(buf);
        return verdict(v, 412, "Bad URL");
    }
    out->buf = buf;
    out->kind = kind;
    out->version = ver;
    out->account = a;
    out->container = kind >= NAMES_CONTAINER ? c : NULL;
    out->object = kind == NAMES_OBJECT ? o : NULL;
    verdict_ok(v);
    return 0;
}

void names_api_path_release(struct names_api_path *p)
{
    free(p->buf);
    memset(p, 0, sizeof(*p));
}

static bool dot_or_dotdot(const char *s)
{
    return strcmp(s, ".") == 0 || strcmp(s, "..") == 0;
}

int names_split_backend_path(char *path, size_t len, int minsegs, int maxsegs,
                             bool rest_with_last, char **segs,
                             struct names_verdict *v)
{
    if (!names_utf8_valid(path, len, NAMES_UTF8_ALLOW_NUL))
        return verdict(v, 412, "Invalid UTF8 or contains NULL");
    if (memchr(path, '\0', len))
        return invalid(v, "path", path, strlen(path)); /* cannot split it */
    if (minsegs < 2)
        return verdict(v, 500, "bad split_path arguments");
    if (names_split_path(path, minsegs, maxsegs, rest_with_last, segs, v))
        return -EINVAL;
    /* split_path already refused empty required segments; '/' cannot be
     * in one either, so "." and ".." are what remains to refuse. */
    if (dot_or_dotdot(segs[0]))
        return invalid(v, "device", segs[0], strlen(segs[0]));
    if (dot_or_dotdot(segs[1]))
        return invalid(v, "partition", segs[1], strlen(segs[1]));
    return 0;
}

/* ---------------------------------------------------------------- limits */

static int check_name_len(const char *what, const char *name, size_t len,
                          int64_t max, struct names_verdict *v)
{
    size_t n = names_utf8_count(name, len);
    if ((int64_t)n > max)
        return verdict(v, 400, "%s name length of %zu longer than %" PRId64,
                       what, n, max);
    verdict_ok(v);
    return 0;
}

int names_check_account_name(const char *name, size_t len,
                             const struct cluster_constraints *k,
                             struct names_verdict *v)
{
    return check_name_len("Account", name, len, k->max_account_name_length,
                          v);
}

int names_check_container_name(const char *name, size_t len,
                               const struct cluster_constraints *k,
                               struct names_verdict *v)
{
    return check_name_len("Container", name, len,
                          k->max_container_name_length, v);
}

int names_check_metadata(const struct names_header *h, size_t n,
                         enum names_target target,
                         const struct cluster_constraints *k,
                         struct names_verdict *v)
{
    static const char *const prefixes[] = {"x-account-meta-",
                                           "x-container-meta-",
                                           "x-object-meta-"};
    const char *prefix = prefixes[target];
    size_t plen = strlen(prefix);
    int64_t count = 0, size = 0;
    for (size_t i = 0; i < n; i++) {
        if ((int64_t)h[i].value_len > k->max_header_size) {
            size_t cut = h[i].name_len;
            if ((int64_t)cut > k->max_meta_name_length)
                cut = (size_t)k->max_meta_name_length;
            return verdict(v, 400, "Header value too long: %.*s", (int)cut,
                           h[i].name);
        }
        if (h[i].name_len < plen ||
            strncasecmp(h[i].name, prefix, plen) != 0)
            continue;
        const char *key = h[i].name + plen;
        size_t klen = h[i].name_len - plen;
        if (klen == 0)
            return verdict(v, 400, "Metadata name cannot be empty");
        if (target != NAMES_T_OBJECT &&
            (!names_utf8_valid(key, klen, 0) ||
             (h[i].value_len &&
              !names_utf8_valid(h[i].value, h[i].value_len, 0))))
            return verdict(v, 400, "Metadata must be valid UTF-8");
        count++;
        size += (int64_t)(klen + h[i].value_len);
        if ((int64_t)klen > k->max_meta_name_length)
            return verdict(v, 400, "Metadata name too long: %s%.*s", prefix,
                           (int)klen, key);
        if ((int64_t)h[i].value_len > k->max_meta_value_length)
            return verdict(v, 400, "Metadata value longer than %" PRId64
                           ": %s%.*s", k->max_meta_value_length, prefix,
                           (int)klen, key);
        if (count > k->max_meta_count)
            return verdict(v, 400, "Too many metadata items; max %" PRId64,
                           k->max_meta_count);
        if (size > k->max_meta_overall_size)
            return verdict(v, 400, "Total metadata too large; max %" PRId64,
                           k->max_meta_overall_size);
    }
    verdict_ok(v);
    return 0;
}

int names_check_object_creation(const struct names_object_put *put,
                                const struct names_header *h, size_t n,
                                const struct cluster_constraints *k,
                                struct names_verdict *v)
{
    if (put->content_length >= 0 &&
        (uint64_t)put->content_length > k->max_file_size)
        return verdict(v, 413, "Your request is too large.");
    if (put->content_length < 0 && !put->chunked)
        return verdict(v, 411, "Missing Content-Length header.");
    size_t len = names_utf8_count(put->object, put->object_len);
    if ((int64_t)len > k->max_object_name_length)
        return verdict(v, 400, "Object name length of %zu longer than %" PRId64,
                       len, k->max_object_name_length);
    if (!put->content_type)
        return verdict(v, 400, "No content type");
    if (!names_utf8_valid(put->content_type, strlen(put->content_type), 0))
        return verdict(v, 400, "Invalid Content-Type");
    return names_check_metadata(h, n, NAMES_T_OBJECT, k, v);
}

int names_listing_limit(const char *given, int64_t max, int64_t *limit,
                        struct names_verdict *v)
{
    *limit = max;
    verdict_ok(v);
    if (!given || !*given || strspn(given, "0123456789") != strlen(given))
        return 0;
    /* Any number longer than 18 digits is above every sane maximum. */
    int64_t val = 0;
    bool big = strlen(given) > 18;
    for (const char *p = given; !big && *p; p++)
        val = val * 10 + (*p - '0');
    if (big || val > max)
        return verdict(v, 412, "Maximum limit is %" PRId64, max);
    *limit = val;
    return 0;
}
