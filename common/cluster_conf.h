/*
 * cluster_conf.h - the cluster-wide settings every node shares
 * (etc/cairn.conf, the counterpart of Swift's /etc/swift/swift.conf).
 *
 *   [swift-hash]         swift_hash_path_prefix / swift_hash_path_suffix:
 *                        the secrets of the hash path (common/hashpath.h);
 *                        at least one must be set, and they must never change
 *                        once data is stored.
 *   [swift-constraints]  the API limits with Swift's defaults and meanings
 *                        (swift/common/constraints.py); the proxy publishes
 *                        them in /info and enforces them (common/names.h).
 *
 * A struct cluster_conf is filled once at start-up (or into a fresh struct
 * on reload) and then read-only, so any thread may read it.
 */
#ifndef CAIRN_CLUSTER_CONF_H
#define CAIRN_CLUSTER_CONF_H

#include <stdint.h>

#include "common/conf.h"
#include "common/hashpath.h"

struct cluster_constraints {
    uint64_t max_file_size;          /* object PUT > this -> 413 */
    int64_t max_meta_name_length;    /* bytes after X-<type>-Meta- */
    int64_t max_meta_value_length;
    int64_t max_meta_count;          /* per request */
    int64_t max_meta_overall_size;   /* sum of names + values per request */
    int64_t max_header_size;         /* any header value */
    int64_t max_object_name_length;
    int64_t container_listing_limit;
    int64_t account_listing_limit;
    int64_t max_account_name_length;
    int64_t max_container_name_length;
    int64_t extra_header_count;      /* max headers = meta_count + 36 + this */
    struct conf_list valid_api_versions; /* "v1", "v1.0" */
};

struct cluster_conf {
    char *hash_path_prefix; /* "" when unset */
    char *hash_path_suffix;
    struct cluster_constraints constraints;
};

/* The option table (CONF_END-terminated); the sample file is rendered from
 * it, so etc/cairn.conf.sample and this table cannot drift. */
extern const struct conf_option cluster_conf_table[];

/* Text that heads etc/cairn.conf.sample. */
extern const char cluster_conf_intro[];

/*
 * Loads the file at path into *cc (which the caller zeroed). Every problem
 * is added to errs (file:line: ...). Returns 0, or -EINVAL when errs got
 * something; *cc must be released either way.
 */
int cluster_conf_load(const char *path, struct cluster_conf *cc,
                      struct conf_errors *errs);

/* Same from an already parsed file (e.g. one file holding more sections,
 * or a buffer in tests). */
int cluster_conf_apply(const struct conf *c, struct cluster_conf *cc,
                       struct conf_errors *errs);

/* Frees the strings and lists inside *cc and zeroes them. */
void cluster_conf_release(struct cluster_conf *cc);

/* Fills cc's defaults without any file (tests, tools). Release after. */
void cluster_conf_defaults(struct cluster_conf *cc);

/* The hash path secrets as common/hashpath.h wants them (borrowed from cc). */
struct hashpath_secret cluster_conf_secret(const struct cluster_conf *cc);

/* Maximum number of request headers: max_meta_count + 36 +
 * max(extra_header_count, 0), as Swift computes MAX_HEADER_COUNT. */
int64_t cluster_conf_max_header_count(const struct cluster_constraints *k);

#endif
