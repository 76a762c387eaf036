/*
 * obj_repl.c - the object replicator: keeps every primary of a partition
 * holding the newest version of each object, moves handoff partitions
 * home, and (after a rebalance) moves partitions that are no longer ours.
 *
 * For each local device in the object ring and each partition directory
 * on it:
 *   - targets: the other primaries when this device is a primary, all of
 *     them when it is not (a handoff, or a partition moved away);
 *   - REPLICATE /<dev>/<part> on each target returns its suffix hashes
 *     (obj_df_suffix_hashes there); suffixes whose MD5 differs from ours
 *     (or that the peer lacks) are pushed, object by object, through the
 *     ordinary backend API with the original timestamps: PUT (body, ETag,
 *     metadata; "Expect: 100-continue" so a peer that already holds the
 *     same or a newer version answers 409 before any body byte is sent),
 *     then POST for a newer .meta, or DELETE for a tombstone. The backend
 *     keeps the newest timestamp, so a push never overwrites newer data;
 *     the peer's own pass pushes its newer data back to us;
 *   - off-primary copies of an object are removed only after every
 *     primary acknowledged it (2xx, or 409: it already holds the same or
 *     newer), and only the exact files that were pushed, so a write that
 *     lands meanwhile stays.
 * A target that cannot be reached is skipped for this pass (and blocks
 * handoff removal); nothing is lost, the next pass tries again.
 *
 * Threading: blocking; one pass at a time per process (obj_repl.h).
 */
#define LOG_COMPONENT "objectd"

#include "objectd/obj_repl_int.h"

#include <curl/curl.h>
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/http.h"
#include "common/log.h"
#include "common/timestamp.h"
#include "common/util.h"
#include "common/xalloc.h"
#include "objectd/obj_diskfile.h"
#include "objectd/obj_server.h"

struct repl_pass {
    struct obj_bg *bg;
    struct obj_bg_stats *st;
    struct obj_bg_http *http;
    const struct obj_bg_node *local;
    uint32_t part;
    bool handoff;
    struct obj_bg_node targets[OBJ_BG_MAX_REPLICAS];
    json_t *remote[OBJ_BG_MAX_REPLICAS]; /* suffix -> md5, NULL: unreachable */
    size_t ntargets;
    struct obj_df_suffix_hash *local_h;
    size_t nlocal;
    bool all_ok;                          /* every object reached every target */
};

/* The replicator's own port: the object role's (a once-mode process does
 * not listen, so the configured port). */
static int object_port(const struct obj_server *srv)
{
    return srv->ports[OBJ_ROLE_OBJECT] ? srv->ports[OBJ_ROLE_OBJECT]
                                       : (int)srv->conf.bind_port;
}

static json_t *fetch_hashes(struct repl_pass *rp, const struct obj_bg_node *t)
{
    char *path = xasprintf("/%s/%u", t->dev, rp->part);
    struct obj_bg_req r = { .method = "REPLICATE", .node = t, .path = path,
                            .want_resp = true };
    int code = obj_bg_http_do(rp->http, &r);
    free(path);
    json_t *j = NULL;
    if (code == 200) {
        json_error_t je;
        j = json_loads(r.resp, 0, &je);
        if (j && !json_is_object(j)) {
            json_decref(j);
            j = NULL;
        }
    }
    if (!j) {
        rp->st->failures++;
        if (code > 0)
            log_warn("REPLICATE %s:%d/%s/%u: status %d", t->ip, t->port,
                     t->dev, rp->part, code);
    }
    free(r.resp);
    return j;
}

static const char *local_md5(const struct repl_pass *rp, const char *suffix)
{
    for (size_t i = 0; i < rp->nlocal; i++)
        if (strcmp(rp->local_h[i].suffix, suffix) == 0)
            return rp->local_h[i].md5;
    return NULL;
}

/* Does target i already agree with us on this suffix? */
static bool suffix_same(const struct repl_pass *rp, size_t i,
                        const char *suffix)
{
    const char *mine = local_md5(rp, suffix);
    const char *theirs = json_string_value(json_object_get(rp->remote[i],
                                                           suffix));
    return mine && theirs && strcmp(mine, theirs) == 0;
}

static ssize_t body_read(void *arg, void *buf, size_t len, uint64_t off)
{
    return obj_df_pread(arg, buf, len, off);
}

static struct curl_slist *add_hdr(struct curl_slist *l, const char *name,
                                  const char *value)
{
    char *line = xasprintf("%s: %s", name, value);
    struct curl_slist *n = curl_slist_append(l, line);
    free(line);
    if (!n)
        abort();
    return n;
}

/* The object's metadata as request headers (not "name", which is the
 * path, nor anything that could not be a header). */
static struct curl_slist *meta_headers(struct curl_slist *l, json_t *meta,
                                       bool *have_ctype)
{
    const char *k;
    json_t *v;
    json_object_foreach(meta, k, v) {
        const char *s = json_string_value(v);
        if (!s || strcmp(k, "name") == 0 || !http_header_ok(k, s))
            continue;
        if (strcasecmp(k, "Content-Type") == 0)
            *have_ctype = true;
        l = add_hdr(l, k, s);
    }
    return l;
}

static bool ok_status(int code, const char *method)
{
    if (code >= 200 && code < 300)
        return true;
    if (code == 409) /* the peer holds the same or newer */
        return true;
    /* a DELETE of what the peer lacks still writes the tombstone */
    return code == 404 && strcmp(method, "DELETE") == 0;
}

/* Sends one request; counts it; returns whether the peer holds it now. */
static bool send_one(struct repl_pass *rp, const struct obj_bg_node *t,
                     struct obj_bg_req *r)
{
    int code = obj_bg_http_do(rp->http, r);
    free(r->resp);
    r->resp = NULL;
    if (ok_status(code, r->method)) {
        if (code != 409 && code != 404)
            rp->st->pushed++;
        return true;
    }
    rp->st->failures++;
    if (code > 0)
        log_warn("replicate %s %s:%d%s: status %d", r->method, t->ip, t->port,
                 r->path, code);
    return false;
}

/* Pushes one object to target t. Returns whether t holds it afterwards. */
static bool push_object(struct repl_pass *rp, const struct obj_bg_node *t,
                        struct obj_df_reader *rd, const char *hash)
{
    const struct obj_df_info *in = obj_df_info(rd);
    const char *name = json_string_value(json_object_get(in->meta, "name"));
    if (!name) {
        /* tombstones written before names were kept in them */
        log_warn("replicate %s/%u/%s: no name in its metadata; not pushed",
                 rp->local->dev, rp->part, hash);
        rp->st->failures++;
        return false;
    }
    char *path = obj_bg_path(t->dev, rp->part, name);
    char tsb[TS_INTERNAL_LEN];
    bool ok;
    if (in->state == OBJ_DF_DELETED) {
        ts_internal(&in->ts_ts, tsb);
        struct curl_slist *h = add_hdr(NULL, "X-Timestamp", tsb);
        struct obj_bg_req r = { .method = "DELETE", .node = t, .path = path,
                                .headers = h };
        ok = send_one(rp, t, &r);
        curl_slist_free_all(h);
        free(path);
        return ok;
    }
    /* EXISTS or EXPIRED: the .data, then a newer .meta */
    int fd;
    uint64_t off;
    if (obj_df_body_fd(rd, &fd, &off) != 0) {
        free(path);
        return false;
    }
    ts_internal(&in->data_ts, tsb);
    bool have_ctype = false;
    struct curl_slist *h = add_hdr(NULL, "X-Timestamp", tsb);
    h = add_hdr(h, "ETag", in->etag);
    h = add_hdr(h, "Expect", "100-continue");
    h = meta_headers(h, in->meta, &have_ctype);
    if (!have_ctype)
        h = add_hdr(h, "Content-Type", "application/octet-stream");
    struct obj_bg_req r = { .method = "PUT", .node = t, .path = path,
                            .headers = h, .body_len = in->content_length,
                            .body_fn = body_read, .body_arg = rd };
    ok = send_one(rp, t, &r);
    curl_slist_free_all(h);
    if (ok)
        rp->st->bytes += in->content_length;
    if (ok && (in->meta_ts.units || in->meta_ts.offset) &&
        ts_cmp(&in->meta_ts, &in->data_ts) > 0) {
        ts_internal(&in->meta_ts, tsb);
        have_ctype = false;
        h = add_hdr(NULL, "X-Timestamp", tsb);
        h = meta_headers(h, in->meta, &have_ctype);
        struct obj_bg_req p = { .method = "POST", .node = t, .path = path,
                                .headers = h };
        ok = send_one(rp, t, &p);
        curl_slist_free_all(h);
    }
    free(path);
    return ok;
}

/* Removes the files of a handoff object that every primary now holds:
 * only those that were pushed, then the directories if they are empty. */
static void remove_pushed(struct repl_pass *rp, const char *suffix,
                          const char *hash, const struct obj_df_info *in)
{
    const char *root = rp->bg->srv->conf.devices;
    char dir[4096];
    snprintf(dir, sizeof(dir), "%s/%s/objects/%u/%s/%s", root, rp->local->dev,
             rp->part, suffix, hash);
    const struct ts *tss[3] = { &in->data_ts, &in->meta_ts, &in->ts_ts };
    static const char *const ext[3] = { ".data", ".meta", ".ts" };
    for (int i = 0; i < 3; i++) {
        if (!tss[i]->units && !tss[i]->offset)
            continue;
        char tsb[TS_INTERNAL_LEN], path[4200];
        ts_internal(tss[i], tsb);
        snprintf(path, sizeof(path), "%s/%s%s", dir, tsb, ext[i]);
        if (unlink(path) == -1 && errno != ENOENT)
            log_warn("%s: %s", path, strerror(errno));
    }
    if (rmdir(dir) == 0) {
        rp->st->removed++;
        char *slash = strrchr(dir, '/');
        *slash = '\0';
        (void)rmdir(dir); /* the suffix, when it was the last object */
    }
}

static int walk_cb(uint32_t part, const char *suffix, const char *hash,
                   void *arg)
{
    struct repl_pass *rp = arg;
    if (atomic_load(&rp->bg->stopping))
        return -ECANCELED;
    bool need = false;
    for (size_t i = 0; i < rp->ntargets; i++)
        need = need || (rp->remote[i] && !suffix_same(rp, i, suffix));
    if (!need && !rp->handoff)
        return 0;
    struct obj_df_reader *rd = NULL;
    int rc = obj_df_open(rp->bg->srv->devs, rp->local->dev, part, hash, 0, &rd);
    if (rc != 0) {
        rp->all_ok = false;
        return 0;
    }
    const struct obj_df_info *in = obj_df_info(rd);
    if (in->state == OBJ_DF_ABSENT) {
        obj_df_reader_free(rd);
        return 0;
    }
    bool everywhere = true;
    for (size_t i = 0; i < rp->ntargets; i++) {
        if (!rp->remote[i]) {
            everywhere = false;
            continue;
        }
        if (suffix_same(rp, i, suffix))
            continue;
        if (!push_object(rp, &rp->targets[i], rd, hash))
            everywhere = false;
    }
    if (!everywhere)
        rp->all_ok = false;
    else if (rp->handoff)
        remove_pushed(rp, suffix, hash, in);
    obj_df_reader_free(rd);
    return 0;
}

static void remove_part_dir(struct repl_pass *rp)
{
    char dir[4096];
    snprintf(dir, sizeof(dir), "%s/%s/objects/%u", rp->bg->srv->conf.devices,
             rp->local->dev, rp->part);
    /* what is left once every suffix went: hashes.pkl-like files we never
     * write, so an rmdir suffices (and fails harmlessly if not empty) */
    (void)rmdir(dir);
}

static void replicate_part(struct obj_bg *bg, struct obj_bg_stats *st,
                           struct obj_bg_http *http,
                           const struct obj_bg_node *local, uint32_t part)
{
    struct repl_pass rp = { .bg = bg, .st = st, .http = http, .local = local,
                            .part = part, .all_ok = true };
    struct obj_bg_node prim[OBJ_BG_MAX_REPLICAS];
    size_t np = obj_bg_primaries(bg, OBJ_BG_RING_OBJECT, part, prim,
                                 OBJ_BG_MAX_REPLICAS);
    rp.handoff = true;
    for (size_t i = 0; i < np; i++) {
        if (strcmp(prim[i].ip, local->ip) == 0 && prim[i].port == local->port &&
            strcmp(prim[i].dev, local->dev) == 0)
            rp.handoff = false;
        else
            rp.targets[rp.ntargets++] = prim[i];
    }
    if (rp.ntargets == 0)
        return;
    st->parts++;
    int rc = obj_df_suffix_hashes(bg->srv->devs, local->dev, part, 0,
                                  &rp.local_h, &rp.nlocal);
    if (rc != 0) {
        log_warn("replicate %s/%u: %s", local->dev, part, strerror(-rc));
        return;
    }
    if (rp.nlocal == 0) {
        if (rp.handoff)
            remove_part_dir(&rp);
        goto out;
    }
    bool any_diff = false;
    for (size_t i = 0; i < rp.ntargets; i++) {
        rp.remote[i] = fetch_hashes(&rp, &rp.targets[i]);
        if (!rp.remote[i]) {
            rp.all_ok = false;
            continue;
        }
        for (size_t s = 0; s < rp.nlocal; s++) {
            if (!suffix_same(&rp, i, rp.local_h[s].suffix)) {
                any_diff = true;
                st->suffixes++;
            }
        }
    }
    if (any_diff || rp.handoff)
        obj_df_walk(bg->srv->devs, local->dev, &part, NULL, walk_cb, &rp);
    if (rp.handoff && rp.all_ok) {
        /* removes the now empty suffixes, then the partition */
        struct obj_df_suffix_hash *h = NULL;
        size_t n = 0;
        if (obj_df_suffix_hashes(bg->srv->devs, local->dev, part, 0, &h,
                                 &n) == 0 && n == 0)
            remove_part_dir(&rp);
        free(h);
    }
out:
    for (size_t i = 0; i < rp.ntargets; i++)
        json_decref(rp.remote[i]);
    free(rp.local_h);
}

int obj_repl_objects_once(struct obj_bg *bg, struct obj_bg_stats *st)
{
    if (!obj_bg_ring(bg, OBJ_BG_RING_OBJECT))
        return -ENOENT;
    struct obj_bg_node locals[64];
    size_t nl = obj_bg_local_devs(bg, OBJ_BG_RING_OBJECT,
                                  object_port(bg->srv), locals, 64);
    struct obj_bg_http *http = obj_bg_http_new(bg);
    for (size_t d = 0; d < nl && !atomic_load(&bg->stopping); d++) {
        if (obj_devices_check(bg->srv->devs, locals[d].dev) != 0)
            continue;
        uint32_t *parts = NULL;
        size_t n = 0;
        int rc = obj_df_partitions(bg->srv->devs, locals[d].dev, &parts, &n);
        if (rc != 0) {
            log_warn("replicate %s: %s", locals[d].dev, strerror(-rc));
            continue;
        }
        for (size_t i = 0; i < n && !atomic_load(&bg->stopping); i++)
            replicate_part(bg, st, http, &locals[d], parts[i]);
        free(parts);
    }
    obj_bg_http_free(http);
    return 0;
}

int obj_repl_once(struct obj_bg *bg, struct obj_bg_stats *st)
{
    int rc = obj_repl_objects_once(bg, st);
    int rc2 = obj_repl_dbs_once(bg, OBJ_BG_RING_CONTAINER, st);
    int rc3 = obj_repl_dbs_once(bg, OBJ_BG_RING_ACCOUNT, st);
    /* a missing ring is not an error of the pass: it is logged at load */
    if (rc == -ENOENT && rc2 == -ENOENT && rc3 == -ENOENT)
        return -ENOENT;
    return 0;
}
