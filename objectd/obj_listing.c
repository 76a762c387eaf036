/*
 * obj_listing.c - listing query parsing and the json/xml/plain formatter
 * (see obj_listing.h). The byte formats are Swift 2.30's:
 *
 *   json  Python json.dumps of a list of dicts: ", " and ": " separators,
 *         keys in Swift's insertion order (containers: bytes, hash, name,
 *         content_type, last_modified; accounts: name, count, bytes,
 *         last_modified), non-ASCII as \uXXXX (lower-case hex, surrogate
 *         pairs above U+FFFF), control characters as \n \r \t \b \f or
 *         \u00XX, '"' and '\' escaped, DEL as \u007f.
 *   xml   ElementTree's tostring with Swift's declaration; text escapes
 *         & < >, attributes also " \r \n \t; UTF-8 raw. A container's root
 *         is written with no whitespace, an empty one as <container
 *         name="c" />; an account's root text and each child's tail are "\n".
 *   plain each name or subdir and "\n".
 *
 * The formatter appends into a chunk buffer and hands full chunks to the
 * writer, so memory is bounded by OBJ_LISTING_CHUNK plus one entry.
 */
#include "objectd/obj_listing.h"

#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/names.h"
#include "common/util.h"
#include "common/xalloc.h"

/* ------------------------------------------------------------------ query */

enum qparam { QP_MARKER, QP_END_MARKER, QP_PREFIX, QP_DELIMITER, QP_PATH, QP_FORMAT,
              QP_REVERSE, QP_LIMIT, QP_COUNT };

/* Swift validates in this order (validate_container_params, then limit). */
static const char *const qp_names[QP_COUNT] = {"marker", "end_marker", "prefix", "delimiter",
                                               "path", "format", "reverse", "limit"};

static size_t utf8_next(const unsigned char *s, size_t len, uint32_t *cp);

/* Python's bytes.decode('utf-8') succeeds (NUL excluded, see header). */
static bool utf8_ok(const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *)s;
    while (len) {
        uint32_t cp;
        size_t n = utf8_next(p, len, &cp);
        if (n == 0 || cp == 0)
            return false;
        p += n;
        len -= n;
    }
    return true;
}

void obj_listing_query_release(struct obj_listing_query *q)
{
    free(q->store);
    q->store = NULL;
}

/* --- Accept, as swob.Accept parses and matches it */

static bool acc_token_char(unsigned char c)
{
    return c > 0x20 && c != 0x7f && !strchr("()<>@,;:\\\"/[]?={}", c);
}

static bool acc_space(unsigned char c)
{
    return c == ' ' || (c >= '\t' && c <= '\r') || (c >= 0x1c && c <= 0x1f);
}

struct acc_type {
    const char *type;
    size_t tlen;
    const char *sub;
    size_t slen;
    double q;
    bool exact;
};

static size_t span_token(const char *s, size_t i, size_t len)
{
    size_t j = i;
    while (j < len && acc_token_char((unsigned char)s[j]))
        j++;
    return j;
}

/* One media range; -EINVAL when swob would raise ValueError. */
static int acc_parse_one(const char *s, size_t len, struct acc_type *t)
{
    size_t i = 0;
    while (i < len && acc_space((unsigned char)s[i]))
        i++;
    size_t j = span_token(s, i, len);
    if (j == i || j >= len || s[j] != '/')
        return -EINVAL;
    t->type = s + i;
    t->tlen = j - i;
    i = j + 1;
    j = span_token(s, i, len);
    if (j == i)
        return -EINVAL;
    t->sub = s + i;
    t->slen = j - i;
    size_t ext = j;
    /* (\s*;\s*token\s*=\s*(token|quoted))* \s* $ */
    i = j;
    for (;;) {
        while (i < len && acc_space((unsigned char)s[i]))
            i++;
        if (i == len)
            break;
        if (s[i] != ';')
            return -EINVAL;
        i++;
        while (i < len && acc_space((unsigned char)s[i]))
            i++;
        j = span_token(s, i, len);
        if (j == i)
            return -EINVAL;
        i = j;
        while (i < len && acc_space((unsigned char)s[i]))
            i++;
        if (i >= len || s[i] != '=')
            return -EINVAL;
        i++;
        while (i < len && acc_space((unsigned char)s[i]))
            i++;
        if (i < len && s[i] == '"') {
            i++;
            while (i < len && s[i] != '"') {
                if (s[i] == '\\' && i + 1 < len)
                    i++;
                i++;
            }
            if (i >= len)
                return -EINVAL;
            i++;
        } else {
            j = span_token(s, i, len);
            if (j == i)
                return -EINVAL;
            i = j;
        }
    }
    /* swob: parms split on ';', each "name=value" split on '=' */
    t->q = 1.0;
    bool seen_q = false;
    size_t p = ext;
    while (p < len) {
        size_t e = p;
        while (e < len && s[e] != ';')
            e++;
        size_t a = p, b = e;
        while (a < b && acc_space((unsigned char)s[a]))
            a++;
        while (b > a && acc_space((unsigned char)s[b - 1]))
            b--;
        if (a < b) {
            const char *eq = memchr(s + a, '=', b - a);
            if (!eq || memchr(eq + 1, '=', (size_t)(s + b - eq - 1)))
                return -EINVAL;
            size_t na = a, nb = (size_t)(eq - s);
            while (nb > na && acc_space((unsigned char)s[nb - 1]))
                nb--;
            if (nb - na == 1 && s[na] == 'q') {
                if (seen_q)
                    return -EINVAL;
                seen_q = true;
                size_t va = (size_t)(eq - s) + 1;
                while (va < b && acc_space((unsigned char)s[va]))
                    va++;
                char num[64];
                if (b - va == 0 || b - va >= sizeof(num))
                    return -EINVAL;
                memcpy(num, s + va, b - va);
                num[b - va] = '\0';
                double q;
                if (parse_double(num, &q) < 0)
                    return -EINVAL;
                t->q = q;
            }
        }
        p = e + 1;
    }
    t->exact = !(t->tlen == 1 && t->type[0] == '*') && !(t->slen == 1 && t->sub[0] == '*');
    return 0;
}

static bool acc_match(const struct acc_type *t, const char *option)
{
    const char *slash = strchr(option, '/');
    size_t ot = (size_t)(slash - option), os = strlen(slash + 1);
    bool tm = (t->tlen == 1 && t->type[0] == '*') ||
              (t->tlen == ot && memcmp(t->type, option, ot) == 0);
    bool sm = (t->slen == 1 && t->sub[0] == '*') ||
              (t->slen == os && memcmp(t->sub, slash + 1, os) == 0);
    return tm && sm;
}

static const char *const listing_options[] = {"text/plain", "application/json",
                                              "application/xml", "text/xml"};

/* best_match over Swift's four listing types; NULL when none. */
static int accept_best(const char *accept, const char **out)
{
    *out = NULL;
    if (!accept || !accept[0]) {
        *out = listing_options[0];
        return 0;
    }
    size_t n = 1;
    for (const char *c = accept; *c; c++)
        n += *c == ',';
    struct acc_type *types = xcalloc(n, sizeof(*types));
    size_t nt = 0;
    const char *p = accept;
    int rc = 0;
    for (;;) {
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);
        rc = acc_parse_one(p, len, &types[nt]);
        if (rc < 0)
            break;
        nt++;
        if (!comma)
            break;
        p = comma + 1;
    }
    if (rc == 0) {
        /* stable sort: quality, then exact before globs, both descending */
        for (size_t i = 1; i < nt; i++) {
            struct acc_type t = types[i];
            size_t j = i;
            while (j > 0 && (types[j - 1].q < t.q ||
                             (types[j - 1].q == t.q && !types[j - 1].exact && t.exact))) {
                types[j] = types[j - 1];
                j--;
            }
            types[j] = t;
        }
        for (size_t i = 0; i < nt && !*out; i++)
            for (size_t k = 0; k < 4 && !*out; k++)
                if (acc_match(&types[i], listing_options[k]))
                    *out = listing_options[k];
    }
    free(types);
    return rc;
}

int obj_listing_query_parse(const char *qs, const char *accept, struct obj_listing_query *q,
                            struct err *e)
{
    const char *raw[QP_COUNT] = {0};
    size_t rawlen[QP_COUNT] = {0};
    size_t qlen = qs ? strlen(qs) : 0;
    char *namebuf = xmalloc(qlen + 1);

    memset(q, 0, sizeof(*q));
    q->store = xmalloc(qlen + QP_COUNT + 1);
    for (size_t i = 0; i < qlen;) {
        size_t end = i;
        while (end < qlen && qs[end] != '&')
            end++;
        if (end > i) {
            const char *eq = memchr(qs + i, '=', end - i);
            size_t nlen = eq ? (size_t)(eq - (qs + i)) : end - i;
            size_t dn = names_unquote_plus(qs + i, nlen, namebuf);
            for (int k = 0; k < QP_COUNT; k++) {
                if (strlen(qp_names[k]) == dn && memcmp(namebuf, qp_names[k], dn) == 0) {
                    raw[k] = eq ? eq + 1 : qs + end;
                    rawlen[k] = eq ? (size_t)(qs + end - (eq + 1)) : 0;
                }
            }
        }
        i = end + 1;
    }
    free(namebuf);

    const char *val[QP_COUNT] = {0};
    size_t vlen[QP_COUNT] = {0};
    char *w = q->store;
    for (int k = 0; k < QP_COUNT; k++) {
        if (!raw[k])
            continue;
        vlen[k] = names_unquote_plus(raw[k], rawlen[k], w); /* NUL-terminates */
        val[k] = w;
        w += vlen[k] + 1;
        if (vlen[k] && (!utf8_ok(val[k], vlen[k]) || memchr(val[k], '\0', vlen[k])))
            return err_set(e, -EINVAL, "\"%s\" parameter not valid UTF-8", qp_names[k]);
    }

    struct obj_db_list_params *p = &q->params;
    p->marker = val[QP_MARKER];
    p->end_marker = val[QP_END_MARKER];
    p->prefix = val[QP_PREFIX];
    p->delimiter = val[QP_DELIMITER];
    p->path = val[QP_PATH];
    p->limit = OBJ_DB_LISTING_LIMIT;
    if (vlen[QP_LIMIT]) {
        bool digits = true;
        for (size_t i = 0; i < vlen[QP_LIMIT]; i++)
            digits &= val[QP_LIMIT][i] >= '0' && val[QP_LIMIT][i] <= '9';
        if (digits) {
            uint64_t lim;
            if (parse_u64(val[QP_LIMIT], &lim) < 0 || lim > OBJ_DB_LISTING_LIMIT)
                return err_set(e, -E2BIG, "Maximum limit is %d", OBJ_DB_LISTING_LIMIT);
            p->limit = (uint32_t)lim;
        }
    }
    if (val[QP_REVERSE]) {
        static const char *const truthy[] = {"true", "1", "yes", "on", "t", "y"};
        for (size_t i = 0; i < 6; i++)
            if (strcasecmp(val[QP_REVERSE], truthy[i]) == 0)
                p->reverse = true;
    }

    const char *ct;
    if (vlen[QP_FORMAT]) {
        const char *f = val[QP_FORMAT];
        if (strcasecmp(f, "json") == 0)
            ct = "application/json";
        else if (strcasecmp(f, "xml") == 0)
            ct = "application/xml";
        else
            ct = "text/plain";
    } else {
        q->format_from_accept = true;
        if (accept_best(accept, &ct) < 0)
            return err_set(e, -EINVAL, "Invalid Accept header");
        if (!ct)
            return err_set(e, -ENOTSUP, "Not Acceptable");
    }
    q->content_type = ct;
    if (strcmp(ct, "application/json") == 0)
        q->format = OBJ_LISTING_JSON;
    else if (strstr(ct, "/xml"))
        q->format = OBJ_LISTING_XML;
    else
        q->format = OBJ_LISTING_PLAIN;
    return 0;
}

/* -------------------------------------------------------------- formatter */

struct obj_listing_fmt {
    enum obj_listing_format format;
    bool account;
    char *name;
    obj_listing_write_fn *write;
    void *arg;
    char *buf;
    size_t len;
    size_t count;
    int err;
};

struct obj_listing_fmt *obj_listing_fmt_new(enum obj_listing_format format, bool account,
                                            const char *name, obj_listing_write_fn *write,
                                            void *arg)
{
    struct obj_listing_fmt *f = xcalloc(1, sizeof(*f));
    f->format = format;
    f->account = account;
    f->name = xstrdup(name ? name : "");
    f->write = write;
    f->arg = arg;
    f->buf = xmalloc(OBJ_LISTING_CHUNK);
    return f;
}

void obj_listing_fmt_free(struct obj_listing_fmt *f)
{
    if (!f)
        return;
    free(f->name);
    free(f->buf);
    free(f);
}

size_t obj_listing_fmt_count(const struct obj_listing_fmt *f)
{
    return f->count;
}

static void flush(struct obj_listing_fmt *f)
{
    if (f->len && !f->err)
        f->err = f->write(f->arg, f->buf, f->len);
    f->len = 0;
}

static void out(struct obj_listing_fmt *f, const char *s, size_t n)
{
    while (n) {
        size_t room = OBJ_LISTING_CHUNK - f->len;
        size_t k = n < room ? n : room;
        memcpy(f->buf + f->len, s, k);
        f->len += k;
        s += k;
        n -= k;
        if (f->len == OBJ_LISTING_CHUNK)
            flush(f);
    }
}

static void outs(struct obj_listing_fmt *f, const char *s)
{
    out(f, s, strlen(s));
}

/* Decodes one UTF-8 sequence at s; returns its length, or 0 if it is not
 * valid UTF-8 (overlong forms, surrogates and > U+10FFFF included). */
static size_t utf8_next(const unsigned char *s, size_t len, uint32_t *cp)
{
    unsigned c = s[0];
    size_t n;
    if (c < 0x80) {
        *cp = c;
        return 1;
    } else if ((c & 0xe0) == 0xc0) {
        n = 2;
        *cp = c & 0x1f;
    } else if ((c & 0xf0) == 0xe0) {
        n = 3;
        *cp = c & 0x0f;
    } else if ((c & 0xf8) == 0xf0) {
        n = 4;
        *cp = c & 0x07;
    } else {
        return 0;
    }
    if (len < n)
        return 0;
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        *cp = *cp << 6 | (s[i] & 0x3f);
    }
    if ((n == 2 && *cp < 0x80) || (n == 3 && *cp < 0x800) || (n == 4 && *cp < 0x10000) ||
        *cp > 0x10ffff || (*cp >= 0xd800 && *cp <= 0xdfff))
        return 0;
    return n;
}

static void json_str(struct obj_listing_fmt *f, const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t len = strlen(s);
    char esc[16];
    out(f, "\"", 1);
    while (len) {
        size_t run = 0;
        while (run < len && p[run] >= 0x20 && p[run] < 0x7f && p[run] != '"' && p[run] != '\\')
            run++;
        out(f, (const char *)p, run);
        p += run;
        len -= run;
        if (!len)
            break;
        uint32_t cp;
        size_t n = utf8_next(p, len, &cp);
        if (n == 0) {
            /* not UTF-8: cannot happen for names Swift accepted */
            cp = 0xfffd;
            n = 1;
        }
        p += n;
        len -= n;
        switch (cp) {
        case '"': outs(f, "\\\""); continue;
        case '\\': outs(f, "\\\\"); continue;
        case '\n': outs(f, "\\n"); continue;
        case '\r': outs(f, "\\r"); continue;
        case '\t': outs(f, "\\t"); continue;
        case '\b': outs(f, "\\b"); continue;
        case '\f': outs(f, "\\f"); continue;
        default: break;
        }
        if (cp < 0x10000) {
            snprintf(esc, sizeof(esc), "\\u%04x", cp);
            outs(f, esc);
        } else {
            uint32_t v = cp - 0x10000;
            snprintf(esc, sizeof(esc), "\\u%04x\\u%04x", 0xd800 + (v >> 10), 0xdc00 + (v & 0x3ff));
            outs(f, esc);
        }
    }
    out(f, "\"", 1);
}

static void xml_str(struct obj_listing_fmt *f, const char *s, bool attr)
{
    for (const char *p = s; *p; p++) {
        switch (*p) {
        case '&': outs(f, "&amp;"); break;
        case '<': outs(f, "&lt;"); break;
        case '>': outs(f, "&gt;"); break;
        case '"': attr ? outs(f, "&quot;") : out(f, p, 1); break;
        case '\r': attr ? outs(f, "&#13;") : out(f, p, 1); break;
        case '\n': attr ? outs(f, "&#10;") : out(f, p, 1); break;
        case '\t': attr ? outs(f, "&#09;") : out(f, p, 1); break;
        default: out(f, p, 1); break;
        }
    }
}

static const char xml_decl[] = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";

static void begin(struct obj_listing_fmt *f)
{
    if (f->format == OBJ_LISTING_JSON) {
        outs(f, "[");
    } else if (f->format == OBJ_LISTING_XML) {
        outs(f, xml_decl);
        outs(f, f->account ? "<account name=\"" : "<container name=\"");
        xml_str(f, f->name, true);
        outs(f, f->account ? "\">\n" : "\">");
    }
}

static void xml_elem(struct obj_listing_fmt *f, const char *tag, const char *text)
{
    outs(f, "<");
    outs(f, tag);
    outs(f, ">");
    xml_str(f, text, false);
    outs(f, "</");
    outs(f, tag);
    outs(f, ">");
}

int obj_listing_fmt_entry(void *fmtp, const struct obj_db_list_entry *e)
{
    struct obj_listing_fmt *f = fmtp;
    char num[32], lm[TS_INTERNAL_LEN];
    char *ct = NULL, *sb = NULL;
    if (f->count == 0)
        begin(f);
    else if (f->format == OBJ_LISTING_JSON)
        outs(f, ", ");
    f->count++;

    if (f->format == OBJ_LISTING_PLAIN) {
        outs(f, e->name);
        out(f, "\n", 1);
        return f->err;
    }
    if (e->is_subdir) {
        if (f->format == OBJ_LISTING_JSON) {
            outs(f, "{\"subdir\": ");
            json_str(f, e->name);
            outs(f, "}");
        } else {
            outs(f, "<subdir name=\"");
            xml_str(f, e->name, true);
            if (f->account) {
                outs(f, "\" />\n");
            } else {
                outs(f, "\">");
                xml_elem(f, "name", e->name);
                outs(f, "</subdir>");
            }
        }
        return f->err;
    }
    if (f->account) {
        ts_isoformat(&e->put_ts, lm);
        if (f->format == OBJ_LISTING_JSON) {
            outs(f, "{\"name\": ");
            json_str(f, e->name);
            snprintf(num, sizeof(num), "%" PRIu64, e->object_count);
            outs(f, ", \"count\": ");
            outs(f, num);
            snprintf(num, sizeof(num), "%" PRIu64, e->bytes_used);
            outs(f, ", \"bytes\": ");
            outs(f, num);
            outs(f, ", \"last_modified\": ");
            json_str(f, lm);
            outs(f, "}");
        } else {
            outs(f, "<container>");
            xml_elem(f, "name", e->name);
            snprintf(num, sizeof(num), "%" PRIu64, e->object_count);
            xml_elem(f, "count", num);
            snprintf(num, sizeof(num), "%" PRIu64, e->bytes_used);
            xml_elem(f, "bytes", num);
            xml_elem(f, "last_modified", lm);
            outs(f, "</container>\n");
        }
        return f->err;
    }
    /* Swift's update_data_record: swift_bytes overrides the size */
    obj_db_content_type_split(e->content_type ? e->content_type : "", &ct, &sb);
    snprintf(num, sizeof(num), "%" PRIu64, e->size);
    if (sb) {
        int64_t v;
        if (parse_i64(sb, &v) == 0)
            snprintf(num, sizeof(num), "%" PRId64, v);
    }
    ts_isoformat(&e->last_modified, lm);
    if (f->format == OBJ_LISTING_JSON) {
        outs(f, "{\"bytes\": ");
        outs(f, num);
        outs(f, ", \"hash\": ");
        json_str(f, e->etag ? e->etag : "");
        outs(f, ", \"name\": ");
        json_str(f, e->name);
        outs(f, ", \"content_type\": ");
        json_str(f, ct);
        outs(f, ", \"last_modified\": ");
        json_str(f, lm);
        outs(f, "}");
    } else {
        outs(f, "<object>");
        xml_elem(f, "name", e->name);
        xml_elem(f, "hash", e->etag ? e->etag : "");
        xml_elem(f, "bytes", num);
        xml_elem(f, "content_type", ct);
        xml_elem(f, "last_modified", lm);
        outs(f, "</object>");
    }
    free(ct);
    free(sb);
    return f->err;
}

int obj_listing_fmt_finish(struct obj_listing_fmt *f)
{
    if (f->format == OBJ_LISTING_JSON) {
        if (f->count == 0)
            begin(f);
        outs(f, "]");
    } else if (f->format == OBJ_LISTING_XML) {
        if (f->count == 0 && !f->account) {
            outs(f, xml_decl);
            outs(f, "<container name=\"");
            xml_str(f, f->name, true);
            outs(f, "\" />");
        } else {
            if (f->count == 0)
                begin(f);
            outs(f, f->account ? "</account>" : "</container>");
        }
    }
    flush(f);
    return f->err;
}
