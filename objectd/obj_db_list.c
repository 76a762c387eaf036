/*
 * obj_db_list.c - the listing walk shared by container and account
 * listings: Swift's list_objects_iter / list_containers_iter over a RocksDB
 * iterator instead of repeated SQL queries.
 *
 * Swift runs a query per "page" with bounds computed from marker,
 * end_marker and prefix, and starts a new query each time a name rolls up
 * into a subdir (skipping everything under it). Here one iterator is
 * re-seeked at the same points, so the bounds, the order in which marker /
 * end_marker move, and the quirks (path skipping names equal to
 * "<dir>0" after a nested directory, a subdir equal to the marker being
 * left out, reverse swapping the markers) are exactly Swift's.
 *
 * Names compare bytewise (UTF-8), which is code point order, as SQLite's
 * BINARY collation and Python's str comparison give. Nothing is collected:
 * each entry goes to the callback as it is read. Reads use the snapshot the
 * caller's read options carry.
 */
#define LOG_COMPONENT "objectd"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/xalloc.h"
#include "objectd/obj_db_int.h"

/* A byte string that is either absent (p NULL) or present (maybe empty). */
struct bstr {
    char *p;
    size_t len;
};

static void bs_set(struct bstr *b, const char *p, size_t len)
{
    char *n = p ? xstrndup(p, len) : NULL;
    free(b->p);
    b->p = n;
    b->len = p ? len : 0;
}

static bool bs_truthy(const struct bstr *b)
{
    return b->p && b->len > 0;
}

static int bs_cmp(const char *a, size_t alen, const char *b, size_t blen)
{
    size_t n = alen < blen ? alen : blen;
    int c = memcmp(a, b, n);
    if (c)
        return c;
    return alen < blen ? -1 : alen > blen ? 1 : 0;
}

/*
 * Python's s[:-1] + chr(ord(s[-1]) + 1) on UTF-8 bytes: the last code point
 * incremented. Falls back to incrementing the last byte on invalid input.
 */
static void succ_last(const char *s, size_t len, struct bstr *out)
{
    size_t start = len;
    while (start > 0 && ((unsigned char)s[start - 1] & 0xc0) == 0x80)
        start--;
    if (start > 0)
        start--;
    const unsigned char *p = (const unsigned char *)s + start;
    size_t n = len - start;
    uint32_t cp;
    char enc[4];
    size_t elen;
    if (n == 1 && p[0] < 0x80)
        cp = p[0];
    else if (n == 2 && (p[0] & 0xe0) == 0xc0)
        cp = (uint32_t)(p[0] & 0x1f) << 6 | (p[1] & 0x3f);
    else if (n == 3 && (p[0] & 0xf0) == 0xe0)
        cp = (uint32_t)(p[0] & 0x0f) << 12 | (uint32_t)(p[1] & 0x3f) << 6 | (p[2] & 0x3f);
    else if (n == 4 && (p[0] & 0xf8) == 0xf0)
        cp = (uint32_t)(p[0] & 0x07) << 18 | (uint32_t)(p[1] & 0x3f) << 12 |
             (uint32_t)(p[2] & 0x3f) << 6 | (p[3] & 0x3f);
    else
        cp = UINT32_MAX;
    if (cp == UINT32_MAX || cp >= 0x10ffff) {
        bs_set(out, s, len);
        if (len)
            out->p[len - 1] = (char)((unsigned char)out->p[len - 1] + 1);
        return;
    }
    cp++;
    if (cp < 0x80) {
        enc[0] = (char)cp;
        elen = 1;
    } else if (cp < 0x800) {
        enc[0] = (char)(0xc0 | cp >> 6);
        enc[1] = (char)(0x80 | (cp & 0x3f));
        elen = 2;
    } else if (cp < 0x10000) {
        enc[0] = (char)(0xe0 | cp >> 12);
        enc[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
        enc[2] = (char)(0x80 | (cp & 0x3f));
        elen = 3;
    } else {
        enc[0] = (char)(0xf0 | cp >> 18);
        enc[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
        enc[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
        enc[3] = (char)(0x80 | (cp & 0x3f));
        elen = 4;
    }
    char *buf = xmalloc(start + elen + 1);
    memcpy(buf, s, start);
    memcpy(buf + start, enc, elen);
    buf[start + elen] = '\0';
    free(out->p);
    out->p = buf;
    out->len = start + elen;
}

/* Where a scan starts and stops (names only; keys add the header). */
struct bounds {
    const struct bstr *lower;   /* NULL: from the first name */
    bool lower_incl;
    const struct bstr *upper;   /* NULL: to the last name; always exclusive */
};

static bool key_in_section(const char *key, size_t klen, const struct obj_buf *kp)
{
    return klen >= kp->len && memcmp(key, kp->p, kp->len) == 0;
}

/* Positions `it` at the first row of the scan in the scan's direction. */
static void scan_seek(rocksdb_iterator_t *it, const struct obj_buf *kp, const struct bounds *b,
                      bool reverse, struct obj_buf *tmp)
{
    if (!reverse) {
        tmp->len = 0;
        obj_buf_put(tmp, kp->p, kp->len);
        if (b->lower)
            obj_buf_put(tmp, b->lower->p, b->lower->len);
        rocksdb_iter_seek(it, tmp->p, tmp->len);
        if (b->lower && !b->lower_incl && rocksdb_iter_valid(it)) {
            size_t klen;
            const char *key = rocksdb_iter_key(it, &klen);
            if (klen == tmp->len && memcmp(key, tmp->p, klen) == 0)
                rocksdb_iter_next(it);
        }
        return;
    }
    tmp->len = 0;
    obj_buf_put(tmp, kp->p, kp->len);
    if (b->upper) {
        obj_buf_put(tmp, b->upper->p, b->upper->len);
    } else {
        /* just past the section: the same header with the next sub byte */
        tmp->p[kp->len - 1] = (char)(tmp->p[kp->len - 1] + 1);
    }
    rocksdb_iter_seek_for_prev(it, tmp->p, tmp->len);
    if (rocksdb_iter_valid(it)) {
        size_t klen;
        const char *key = rocksdb_iter_key(it, &klen);
        if (klen == tmp->len && memcmp(key, tmp->p, klen) == 0)
            rocksdb_iter_prev(it);
    }
}

/* True while the current row is inside the scan's bounds. */
static bool scan_inside(const char *name, size_t nlen, const struct bounds *b, bool reverse)
{
    if (!reverse) {
        return !b->upper || bs_cmp(name, nlen, b->upper->p, b->upper->len) < 0;
    }
    if (!b->lower)
        return true;
    int c = bs_cmp(name, nlen, b->lower->p, b->lower->len);
    return b->lower_incl ? c >= 0 : c > 0;
}

static const char *find_bytes(const char *hay, size_t hlen, size_t from, const char *needle,
                              size_t nlen)
{
    if (nlen == 0 || from > hlen || hlen - from < nlen)
        return NULL;
    return memmem(hay + from, hlen - from, needle, nlen);
}

/*
 * Moves the scan past every name that starts with name[0..end) + delim (the
 * group the delimiter rolls up), as Swift re-queries: in reverse the
 * end_marker becomes that group's name, forward the marker becomes
 * name[0..end) followed by delim with its last code point incremented.
 * tmpb and namebuf are scratch.
 */
static void skip_group(const char *name, size_t end, const struct bstr *delim, bool reverse,
                       struct bstr *marker, struct bstr *end_marker, struct bstr *tmpb,
                       struct obj_buf *namebuf)
{
    if (reverse) {
        bs_set(end_marker, name, end + delim->len);
        return;
    }
    succ_last(delim->p, delim->len, tmpb);
    namebuf->len = 0;
    obj_buf_put(namebuf, name, end);
    obj_buf_put(namebuf, tmpb->p, tmpb->len);
    bs_set(marker, namebuf->p, namebuf->len);
}

int obj_db_list_walk(const struct obj_rdctx *cx, const struct obj_dbref *ref,
                     const struct obj_db_list_params *p, obj_list_decode_fn *decode, void *darg,
                     obj_db_list_fn *fn, void *arg)
{
    struct bstr marker = {0}, end_marker = {0}, prefix = {0}, delim = {0}, path = {0};
    struct bstr end_prefix = {0}, orig_marker = {0}, tmpb = {0};
    struct obj_buf kp = {0}, tmp = {0}, scratch = {0}, namebuf = {0};
    bool reverse = p->reverse, delim_force_gte = false, path_mode = p->path != NULL;
    uint32_t limit = p->limit, results = 0;
    int rc = 0;

    bs_set(&marker, p->marker ? p->marker : "", p->marker ? strlen(p->marker) : 0);
    if (p->end_marker)
        bs_set(&end_marker, p->end_marker, strlen(p->end_marker));
    if (p->prefix)
        bs_set(&prefix, p->prefix, strlen(p->prefix));
    if (p->delimiter)
        bs_set(&delim, p->delimiter, strlen(p->delimiter));
    if (reverse) {
        struct bstr t = marker;
        marker = end_marker;
        end_marker = t;
    }
    if (path_mode) {
        size_t n = strlen(p->path);
        if (n) {
            while (n > 0 && p->path[n - 1] == '/')
                n--;
            bs_set(&path, p->path, n);
            path.p = xrealloc(path.p, n + 2);
            path.p[n] = '/';
            path.p[n + 1] = '\0';
            path.len = n + 1;
        } else {
            bs_set(&path, "", 0);
        }
        bs_set(&prefix, path.p, path.len);
        bs_set(&delim, "/", 1);
    } else if (bs_truthy(&delim) && !bs_truthy(&prefix)) {
        bs_set(&prefix, "", 0);
    }
    if (bs_truthy(&prefix))
        succ_last(prefix.p, prefix.len, &end_prefix);
    if (marker.p)
        bs_set(&orig_marker, marker.p, marker.len);
    bool rollup = bs_truthy(&delim); /* Swift: "prefix is None or not delimiter" */

    obj_key(&kp, ref, 'o', NULL, 0);
    rocksdb_iterator_t *it = rocksdb_create_iterator(cx->db->rdb, cx->ro ? cx->ro : cx->db->ropts);

    while (results < limit) {
        struct bounds b = {NULL, false, NULL};
        if (bs_truthy(&end_marker) &&
            (!bs_truthy(&prefix) ||
             bs_cmp(end_marker.p, end_marker.len, end_prefix.p, end_prefix.len) < 0))
            b.upper = &end_marker;
        else if (bs_truthy(&prefix))
            b.upper = &end_prefix;
        if (delim_force_gte) {
            b.lower = &marker;
            b.lower_incl = true;
            delim_force_gte = false;
        } else if (bs_truthy(&marker) &&
                   (!bs_truthy(&prefix) ||
                    bs_cmp(marker.p, marker.len, prefix.p, prefix.len) >= 0)) {
            b.lower = &marker;
        } else if (bs_truthy(&prefix)) {
            b.lower = &prefix;
            b.lower_incl = true;
        }

        scan_seek(it, &kp, &b, reverse, &tmp);
        bool requery = false;
        while (rocksdb_iter_valid(it) && results < limit) {
            size_t klen, vlen;
            const char *key = rocksdb_iter_key(it, &klen);
            if (!key_in_section(key, klen, &kp))
                break;
            const char *name = key + kp.len;
            size_t nlen = klen - kp.len;
            if (!scan_inside(name, nlen, &b, reverse))
                break;
            struct obj_list_row row = {name, nlen, rocksdb_iter_value(it, &vlen), 0};
            row.val_len = vlen;
            struct obj_db_list_entry e;
            memset(&e, 0, sizeof(e));
            scratch.len = 0;
            int d = decode(darg, &row, &e, &scratch);
            if (d < 0) {
                rc = d;
                goto out;
            }
            if (d == 0) {
                if (reverse)
                    rocksdb_iter_prev(it);
                else
                    rocksdb_iter_next(it);
                continue;
            }
            namebuf.len = 0;
            obj_buf_put(&namebuf, name, nlen);
            obj_buf_put(&namebuf, "", 1);
            e.name = namebuf.p;
            if (rollup) {
                if (reverse)
                    bs_set(&end_marker, name, nlen);
                else
                    bs_set(&marker, name, nlen);
                const char *hit = find_bytes(name, nlen, prefix.len, delim.p, delim.len);
                size_t end = hit ? (size_t)(hit - name) : 0;
                if (path_mode) {
                    if (bs_cmp(name, nlen, path.p, path.len) == 0)
                        goto next;
                    if (hit && nlen > end + delim.len) {
                        skip_group(name, end, &delim, reverse, &marker, &end_marker, &tmpb,
                                   &namebuf);
                        requery = true;
                        break;
                    }
                } else if (hit) {
                    skip_group(name, end, &delim, reverse, &marker, &end_marker, &tmpb,
                               &namebuf);
                    if (!reverse)
                        delim_force_gte = true;
                    size_t dlen = end + delim.len;
                    if (!orig_marker.p || bs_cmp(name, dlen, orig_marker.p, orig_marker.len) != 0) {
                        struct obj_db_list_entry se;
                        memset(&se, 0, sizeof(se));
                        namebuf.len = 0;
                        obj_buf_put(&namebuf, name, dlen);
                        obj_buf_put(&namebuf, "", 1);
                        se.name = namebuf.p;
                        se.is_subdir = true;
                        results++;
                        rc = fn(arg, &se);
                        if (rc)
                            goto out;
                    }
                    requery = true;
                    break;
                }
            }
            results++;
            rc = fn(arg, &e);
            if (rc)
                goto out;
        next:
            if (reverse)
                rocksdb_iter_prev(it);
            else
                rocksdb_iter_next(it);
        }
        if (!requery)
            break; /* the range is exhausted, or the limit is reached */
    }
out:
    {
        char *rerr = NULL;
        rocksdb_iter_get_error(it, &rerr);
        if (rerr) {
            log_err("rocksdb iterator: %s", rerr);
            rocksdb_free(rerr);
            if (rc == 0)
                rc = -EIO;
        }
    }
    rocksdb_iter_destroy(it);
    free(marker.p);
    free(end_marker.p);
    free(prefix.p);
    free(delim.p);
    free(path.p);
    free(end_prefix.p);
    free(orig_marker.p);
    free(tmpb.p);
    obj_buf_release(&kp);
    obj_buf_release(&tmp);
    obj_buf_release(&scratch);
    obj_buf_release(&namebuf);
    return rc;
}
