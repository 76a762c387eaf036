/*
 * eng_dist.h - Distributed storlets: a split storlet runs on many objects
 * in parallel, each next to its data, and a merge storlet on the proxy
 * combines their outputs (docs/compound-storlets.md section 2).
 *
 * This module is the pure part: the request document (the JSON body of
 * POST /v1/<account> with X-Storlet-Distributed: 1), parsed with every
 * limit checked and every error a 400 reason; and the encoder of the
 * framed stream that carries the split outputs into the merge storlet's
 * fd 0. It runs nothing; the proxy does.
 *
 * Threading: no globals; a struct eng_dist is immutable after parsing and
 * may be read by any thread.
 */
#ifndef CAIRN_ENG_DIST_H
#define CAIRN_ENG_DIST_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "common/err.h"
#include "engine/eng_seq.h"

struct evbuffer;

#define ENG_DIST_HEADER "X-Storlet-Distributed"   /* value: "1" */
#define ENG_DIST_BODY_MAX 65536             /* bytes of the request body */
#define ENG_DIST_OBJECTS_MAX 1000           /* entries of "objects" */
#define ENG_DIST_RESOURCES_DEFAULT 1000     /* "max_resources" default */
#define ENG_DIST_RESOURCES_MAX 10000        /* and its ceiling */
#define ENG_DIST_CONCURRENCY_DEFAULT 8
#define ENG_DIST_CONCURRENCY_MAX 64
#define ENG_DIST_CHAIN_MAX 4                /* stages of split, of merge */
#define ENG_DIST_CHUNK_MAX (1u << 20)       /* bytes in one stream chunk */

struct eng_dist_object {
    char *container;   /* owned */
    char *object;      /* owned */
};

struct eng_dist {
    /* resources: either a list of objects ... */
    struct eng_dist_object *objects;
    size_t nobjects;
    /* ... or every object of a container under a prefix (objects NULL) */
    char *container;
    char *prefix;               /* "" for the whole container */
    struct eng_seq split;       /* 1..4 stages, run per resource */
    struct eng_seq merge;       /* 1..4 stages, on the proxy */
    struct eng_dist_object result;   /* container NULL: no result object */
    unsigned max_resources;     /* fan-out bound */
    unsigned concurrency;       /* splits running at once */
};

/*
 * Parses and checks a request body (docs/compound-storlets.md section
 * 2.1): at most ENG_DIST_BODY_MAX bytes of JSON, unknown keys refused,
 * object paths "container/object" (container 1-256 bytes without '/',
 * object 1-1024 bytes, UTF-8), no object twice, chains as eng_seq_from_json
 * with at most 4 stages, max_resources 1..10000, concurrency 1..64; a
 * list of objects longer than max_resources is refused. Returns the
 * request (eng_dist_free) or NULL with the 400 reason in e, naming the
 * key ("resources.objects[3]: ...").
 */
struct eng_dist *eng_dist_parse(const char *body, size_t len, struct err *e);

/* NULL is a no-op. */
void eng_dist_free(struct eng_dist *d);

/*
 * The fan-out check for a container + prefix request once the proxy has
 * counted the listing: returns 0, or -E2BIG with the reason ("the prefix
 * 'p1/' of container 'scans' names more than 1000 objects; raise
 * max_resources or narrow the prefix") when n > d->max_resources, or
 * -ENOENT ("... names no object") when n == 0: never a silently short or
 * empty answer.
 */
int eng_dist_check_count(const struct eng_dist *d, size_t n, struct err *e);

/*
 * The merge input stream (docs/compound-storlets.md section 2.3). For
 * each split output, in the order the splits finish:
 *   eng_dist_put_part(out, index, path, metadata, content_type)
 *   eng_dist_put_chunk(out, bytes, n)   (any number; each n 1..1 MiB)
 *   eng_dist_put_part_end(out)
 * and at the very end eng_dist_put_end(out, parts). index is the
 * resource's position (0-based) in the request or listing, path
 * "container/object"; metadata (borrowed object of strings, or NULL) and
 * content_type (or NULL) are the split's output metadata. Each returns 0,
 * or -EINVAL for a chunk of 0 or more than ENG_DIST_CHUNK_MAX bytes.
 */
int eng_dist_put_part(struct evbuffer *out, size_t index, const char *path, json_t *metadata,
                      const char *content_type);
int eng_dist_put_chunk(struct evbuffer *out, const void *buf, size_t n);
int eng_dist_put_part_end(struct evbuffer *out);
int eng_dist_put_end(struct evbuffer *out, size_t parts);

#endif
