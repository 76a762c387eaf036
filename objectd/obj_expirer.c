/*
 * obj_expirer.c - the object expirer: deletes objects whose X-Delete-At
 * has passed.
 *
 * Swift queues expiring objects in a hidden .expiring_objects account and
 * one expirer deletes them through the proxy. Cairn does the simpler,
 * node-local thing (documented in docs/internals/replication.md): each
 * node walks its own objects, and every replica of an expired object gets
 * a tombstone timestamped exactly at its X-Delete-At. Since all replicas
 * choose the same timestamp, their suffix hashes agree without any
 * replication traffic, and a newer PUT (a later timestamp) still wins.
 * The node then tells the container replicas (container ring) to drop
 * the row, with the same timestamp, so listings converge too; a failed
 * container update is retried by the next pass only if the object was
 * still expired there (a missed row update is logged).
 *
 * Reads already treat an expired object as absent (OBJ_DF_EXPIRED), so the
 * pass interval only decides when the disk space comes back.
 *
 * Threading: blocking; one pass at a time per process (obj_repl.h).
 */
#define LOG_COMPONENT "objectd"

#include "objectd/obj_repl_int.h"

#include <curl/curl.h>
#include <dirent.h>
#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/timestamp.h"
#include "common/util.h"
#include "common/xalloc.h"
#include "objectd/obj_diskfile.h"
#include "objectd/obj_server.h"

struct expire {
    struct obj_bg *bg;
    struct obj_bg_stats *st;
    struct obj_bg_http *http;
    const char *dev;
};

/* Tells the container replicas of name ("/a/c/o") the row is gone. */
static void update_containers(struct expire *x, const char *name,
                              const struct ts *ts)
{
    char *copy = xstrdup(name + 1);
    char *c = strchr(copy, '/');
    char *o = c ? strchr(c + 1, '/') : NULL;
    if (!c || !o) {
        free(copy);
        return;
    }
    *c++ = '\0';
    *o++ = '\0';
    int64_t part = obj_bg_partition(x->bg, OBJ_BG_RING_CONTAINER, copy, c,
                                    NULL);
    struct obj_bg_node prim[OBJ_BG_MAX_REPLICAS];
    size_t np = part < 0 ? 0 : obj_bg_primaries(x->bg, OBJ_BG_RING_CONTAINER,
                                                (uint32_t)part, prim,
                                                OBJ_BG_MAX_REPLICAS);
    char tsb[TS_INTERNAL_LEN];
    ts_internal(ts, tsb);
    char *line = xasprintf("X-Timestamp: %s", tsb);
    struct curl_slist *h = curl_slist_append(NULL, line);
    free(line);
    for (size_t i = 0; i < np; i++) {
        char *path = obj_bg_path(prim[i].dev, (uint32_t)part, name);
        struct obj_bg_req r = { .method = "DELETE", .node = &prim[i],
                                .path = path, .headers = h };
        int code = obj_bg_http_do(x->http, &r);
        free(r.resp);
        if (code < 200 || (code >= 300 && code != 404)) {
            x->st->failures++;
            log_warn("expirer: container row %s at %s:%d/%s: status %d",
                     name, prim[i].ip, prim[i].port, prim[i].dev, code);
        }
        free(path);
    }
    curl_slist_free_all(h);
    free(copy);
}

static int expire_one(uint32_t part, const char *suffix, const char *hash,
                      void *arg)
{
    struct expire *x = arg;
    (void)suffix;
    if (atomic_load(&x->bg->stopping))
        return -ECANCELED;
    struct obj_df_reader *rd = NULL;
    if (obj_df_open(x->bg->srv->devs, x->dev, part, hash, 0, &rd) != 0)
        return 0;
    const struct obj_df_info *in = obj_df_info(rd);
    x->st->checked++;
    if (in->state != OBJ_DF_EXPIRED) {
        obj_df_reader_free(rd);
        return 0;
    }
    struct ts tomb;
    if (ts_from_double((double)in->delete_at, 0, &tomb) != 0 ||
        ts_cmp(&tomb, &in->ts) <= 0) {
        /* X-Delete-At equal to the last write: one offset step later */
        tomb = in->ts;
        tomb.offset++;
    }
    const char *name = json_string_value(json_object_get(in->meta, "name"));
    json_t *tm = name ? json_pack("{s:s}", "name", name) : NULL;
    int rc = obj_df_delete(x->bg->srv->devs, x->dev, part, hash, &tomb, tm);
    json_decref(tm);
    if (rc != 0) {
        log_warn("expirer %s/%u/%s: %s", x->dev, part, hash, strerror(-rc));
    } else {
        x->st->expired++;
        if (name)
            update_containers(x, name, &tomb);
    }
    obj_df_reader_free(rd);
    return 0;
}

int obj_expirer_once(struct obj_bg *bg, struct obj_bg_stats *st)
{
    DIR *d = opendir(bg->srv->conf.devices);
    if (!d)
        return -errno;
    struct expire x = { .bg = bg, .st = st, .http = obj_bg_http_new(bg) };
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        if (de->d_name[0] == '.' ||
            obj_devices_check(bg->srv->devs, de->d_name) != 0)
            continue;
        x.dev = de->d_name;
        int rc = obj_df_walk(bg->srv->devs, de->d_name, NULL, NULL,
                             expire_one, &x);
        if (rc == -ECANCELED)
            break;
        if (rc != 0)
            log_warn("expirer %s: %s", de->d_name, strerror(-rc));
    }
    closedir(d);
    obj_bg_http_free(x.http);
    return 0;
}
