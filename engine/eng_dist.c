/*
 * eng_dist.c - Distributed storlets: the request document and the merge
 * input stream (engine/eng_dist.h; user contract in
 * docs/compound-storlets.md section 2).
 *
 * The parser refuses what it does not understand and every limit is
 * checked before anything proportional to the request is allocated (the
 * body is bounded first). Pure functions; thread-safe.
 */
#include "engine/eng_dist.h"

#include <errno.h>
#include <event2/buffer.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/names.h"
#include "common/util.h"
#include "common/xalloc.h"

#define CONTAINER_MAX 256
#define OBJECT_MAX 1024
#define FRAME_MAX (1u << 20)

static bool utf8_ok(const char *s, size_t n)
{
    return n > 0 && names_utf8_valid(s, n, 0);
}

/* "container/object" into o (owned strings). */
static int split_path(const char *path, const char *where, struct eng_dist_object *o,
                      struct err *e)
{
    const char *slash = strchr(path, '/');
    size_t cl = slash ? (size_t)(slash - path) : 0;
    if (!slash || cl == 0 || !slash[1])
        return err_set(e, -EINVAL, "%s: '%.64s': expected container/object", where, path);
    if (cl > CONTAINER_MAX || !utf8_ok(path, cl))
        return err_set(e, -EINVAL, "%s: container: 1-%d bytes of UTF-8", where, CONTAINER_MAX);
    size_t ol = strlen(slash + 1);
    if (ol > OBJECT_MAX || !utf8_ok(slash + 1, ol))
        return err_set(e, -EINVAL, "%s: object: 1-%d bytes of UTF-8", where, OBJECT_MAX);
    o->container = xstrndup(path, cl);
    o->object = xstrdup(slash + 1);
    return 0;
}

static int get_uint(json_t *o, const char *key, unsigned dflt, unsigned max, unsigned *out,
                    struct err *e)
{
    json_t *v = json_object_get(o, key);
    if (!v) {
        *out = dflt;
        return 0;
    }
    if (!json_is_integer(v) || json_integer_value(v) < 1 || json_integer_value(v) > max)
        return err_set(e, -EINVAL, "%s: expected an integer 1-%u", key, max);
    *out = (unsigned)json_integer_value(v);
    return 0;
}

static int parse_resources(json_t *r, struct eng_dist *d, struct err *e)
{
    if (!json_is_object(r))
        return err_set(e, -EINVAL,
                       "resources: expected {\"objects\": [...]} or {\"container\": ..., "
                       "\"prefix\": ...}");
    const char *k;
    json_t *v;
    json_object_foreach(r, k, v) {
        if (strcmp(k, "objects") != 0 && strcmp(k, "container") != 0 &&
            strcmp(k, "prefix") != 0)
            return err_set(e, -EINVAL, "resources: unknown key \"%.64s\"", k);
    }
    json_t *objs = json_object_get(r, "objects");
    json_t *cont = json_object_get(r, "container");
    json_t *pre = json_object_get(r, "prefix");
    if (objs && (cont || pre))
        return err_set(e, -EINVAL,
                       "resources: give either \"objects\" or \"container\" (and \"prefix\")");
    if (objs) {
        if (!json_is_array(objs) || json_array_size(objs) == 0)
            return err_set(e, -EINVAL, "resources.objects: expected a non-empty list");
        if (json_array_size(objs) > ENG_DIST_OBJECTS_MAX)
            return err_set(e, -EINVAL, "resources.objects: more than %d objects",
                           ENG_DIST_OBJECTS_MAX);
        d->objects = xcalloc(json_array_size(objs), sizeof(*d->objects));
        size_t i;
        json_array_foreach(objs, i, v) {
            char where[64];
            snprintf(where, sizeof(where), "resources.objects[%zu]", i);
            if (!json_is_string(v))
                return err_set(e, -EINVAL, "%s: expected a string container/object", where);
            if (split_path(json_string_value(v), where, &d->objects[i], e) < 0)
                return -EINVAL;
            d->nobjects = i + 1;
            for (size_t j = 0; j < i; j++)
                if (strcmp(d->objects[j].container, d->objects[i].container) == 0 &&
                    strcmp(d->objects[j].object, d->objects[i].object) == 0)
                    return err_set(e, -EINVAL, "%s: the same object as resources.objects[%zu]",
                                   where, j);
        }
        return 0;
    }
    if (!cont)
        return err_set(e, -EINVAL, "resources: \"objects\" or \"container\" is required");
    const char *c = json_string_value(cont);
    if (!c || !*c || strlen(c) > CONTAINER_MAX || strchr(c, '/'))
        return err_set(e, -EINVAL, "resources.container: 1-%d bytes without '/'",
                       CONTAINER_MAX);
    if (pre && (!json_is_string(pre) || strlen(json_string_value(pre)) > OBJECT_MAX))
        return err_set(e, -EINVAL, "resources.prefix: expected a string of at most %d bytes",
                       OBJECT_MAX);
    d->container = xstrdup(c);
    d->prefix = xstrdup(pre ? json_string_value(pre) : "");
    return 0;
}

static const char *const top_keys[] = {
    "resources", "split", "merge", "result", "max_resources", "concurrency",
};

struct eng_dist *eng_dist_parse(const char *body, size_t len, struct err *e)
{
    if (len > ENG_DIST_BODY_MAX) {
        err_set(e, -EINVAL, "the request body is %zu bytes, at most %d", len, ENG_DIST_BODY_MAX);
        return NULL;
    }
    json_error_t je;
    json_t *j = json_loadb(body, len, JSON_REJECT_DUPLICATES, &je);
    struct eng_dist *d = xcalloc(1, sizeof(*d));
    eng_seq_init(&d->split);
    eng_seq_init(&d->merge);
    int rc = -EINVAL;
    if (!j) {
        err_set(e, -EINVAL, "not JSON: %s at character %d", je.text, je.position);
        goto out;
    }
    if (!json_is_object(j)) {
        err_set(e, -EINVAL, "expected an object with resources, split and merge");
        goto out;
    }
    const char *k;
    json_t *v;
    json_object_foreach(j, k, v) {
        bool known = false;
        for (size_t i = 0; i < sizeof(top_keys) / sizeof(top_keys[0]); i++)
            known = known || strcmp(k, top_keys[i]) == 0;
        if (!known) {
            err_set(e, -EINVAL, "unknown key \"%.64s\"", k);
            goto out;
        }
    }
    if (get_uint(j, "max_resources", ENG_DIST_RESOURCES_DEFAULT, ENG_DIST_RESOURCES_MAX,
                 &d->max_resources, e) < 0 ||
        get_uint(j, "concurrency", ENG_DIST_CONCURRENCY_DEFAULT, ENG_DIST_CONCURRENCY_MAX,
                 &d->concurrency, e) < 0)
        goto out;
    v = json_object_get(j, "resources");
    if (!v) {
        err_set(e, -EINVAL, "resources: missing");
        goto out;
    }
    if (parse_resources(v, d, e) < 0)
        goto out;
    if (d->objects && d->nobjects > d->max_resources) {
        err_set(e, -EINVAL, "resources.objects: %zu objects, more than max_resources %u",
                d->nobjects, d->max_resources);
        goto out;
    }
    v = json_object_get(j, "split");
    if (!v) {
        err_set(e, -EINVAL, "split: missing (a storlet or a list of them)");
        goto out;
    }
    if (eng_seq_from_json(v, ENG_DIST_CHAIN_MAX, "split", &d->split, e) < 0)
        goto out;
    v = json_object_get(j, "merge");
    if (!v) {
        err_set(e, -EINVAL, "merge: missing (a storlet or a list of them)");
        goto out;
    }
    if (eng_seq_from_json(v, ENG_DIST_CHAIN_MAX, "merge", &d->merge, e) < 0)
        goto out;
    v = json_object_get(j, "result");
    if (v) {
        if (!json_is_string(v)) {
            err_set(e, -EINVAL, "result: expected a string container/object");
            goto out;
        }
        if (split_path(json_string_value(v), "result", &d->result, e) < 0)
            goto out;
    }
    rc = 0;
    err_clear(e);
out:
    json_decref(j);
    if (rc < 0) {
        eng_dist_free(d);
        return NULL;
    }
    return d;
}

void eng_dist_free(struct eng_dist *d)
{
    if (!d)
        return;
    for (size_t i = 0; i < d->nobjects; i++) {
        free(d->objects[i].container);
        free(d->objects[i].object);
    }
    free(d->objects);
    free(d->container);
    free(d->prefix);
    free(d->result.container);
    free(d->result.object);
    eng_seq_release(&d->split);
    eng_seq_release(&d->merge);
    free(d);
}

int eng_dist_check_count(const struct eng_dist *d, size_t n, struct err *e)
{
    if (n == 0)
        return err_set(e, -ENOENT, "the prefix '%.256s' of container '%.256s' names no object",
                       d->prefix ? d->prefix : "", d->container ? d->container : "");
    if (n > d->max_resources)
        return err_set(e, -E2BIG,
                       "the prefix '%.256s' of container '%.256s' names more than %u objects; "
                       "raise max_resources or narrow the prefix",
                       d->prefix ? d->prefix : "", d->container ? d->container : "",
                       d->max_resources);
    return 0;
}

/* ------------------------------------------------------------ the stream */

static void put_u32(struct evbuffer *out, uint32_t v)
{
    unsigned char b[4] = {(unsigned char)(v >> 24), (unsigned char)(v >> 16),
                          (unsigned char)(v >> 8), (unsigned char)v};
    evbuffer_add(out, b, 4);
}

/* One frame: length + compact JSON of o (stolen). */
static int put_frame(struct evbuffer *out, json_t *o)
{
    char *s = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    size_t n = strlen(s);
    if (n > FRAME_MAX) {
        free(s);
        return -EINVAL;
    }
    put_u32(out, (uint32_t)n);
    evbuffer_add(out, s, n);
    free(s);
    return 0;
}

int eng_dist_put_part(struct evbuffer *out, size_t index, const char *path, json_t *metadata,
                      const char *content_type)
{
    json_t *o = json_pack("{s:s, s:I, s:s}", "type", "part", "index", (json_int_t)index, "path",
                          path);
    if (!o)
        return -EINVAL;   /* path not UTF-8 */
    json_object_set_new(o, "metadata", metadata ? json_deep_copy(metadata) : json_object());
    json_object_set_new(o, "content_type", content_type ? json_string(content_type) : json_null());
    return put_frame(out, o);
}

int eng_dist_put_chunk(struct evbuffer *out, const void *buf, size_t n)
{
    if (n == 0 || n > ENG_DIST_CHUNK_MAX)
        return -EINVAL;
    put_u32(out, (uint32_t)n);
    evbuffer_add(out, buf, n);
    return 0;
}

int eng_dist_put_part_end(struct evbuffer *out)
{
    put_u32(out, 0);
    return 0;
}

int eng_dist_put_end(struct evbuffer *out, size_t parts)
{
    return put_frame(out, json_pack("{s:s, s:I}", "type", "end", "parts", (json_int_t)parts));
}
