/*
 * cluster_conf.c - etc/cairn.conf: hash path secrets and API constraints;
 * see cluster_conf.h. Defaults are Swift 2.30's (swift/common/constraints.py).
 */
#include "common/cluster_conf.h"

#include <errno.h>
#include <stddef.h>
#include <string.h>

#define CC(f) offsetof(struct cluster_conf, f)
#define CK(f) offsetof(struct cluster_conf, constraints.f)
#define INT_MAX32 2147483647

const char cluster_conf_intro[] =
    "cairn.conf.sample - settings shared by every node of a Cairn cluster "
    "(the counterpart of Swift's swift.conf). Copy it to cairn.conf, set the "
    "hash path secrets, and install the same file on every proxy and storage "
    "node.\n"
    "Lines starting with # are comments; each option below is shown with its "
    "default, so uncomment only what you change. Generated from the option "
    "table in common/cluster_conf.c.";

const struct conf_option cluster_conf_table[] = {
    {"swift-hash", "swift_hash_path_suffix", CONF_STRING,
     CC(hash_path_suffix), NULL, 0, 0, NULL, 0,
     "Secret appended to every name before it is hashed into a partition. "
     "Set it (and/or the prefix) to a random value once, keep it secret, "
     "use the same value on every node, and never change it after data has "
     "been stored: objects would no longer be found. At least one of prefix "
     "and suffix must be set."},
    {"swift-hash", "swift_hash_path_prefix", CONF_STRING,
     CC(hash_path_prefix), NULL, 0, 0, NULL, 0,
     "Secret prepended to every name before it is hashed; same rules as the "
     "suffix."},
    {"swift-constraints", "max_file_size", CONF_SIZE,
     CK(max_file_size), "5368709122", 1, INT64_MAX, NULL, 0,
     "Largest object a single PUT may store, in bytes; bigger uploads get "
     "413 and must be segmented (SLO/DLO)."},
    {"swift-constraints", "max_meta_name_length", CONF_INT,
     CK(max_meta_name_length), "128", 1, INT_MAX32, NULL, 0,
     "Longest metadata name, in bytes, not counting the X-<type>-Meta- "
     "prefix."},
    {"swift-constraints", "max_meta_value_length", CONF_INT,
     CK(max_meta_value_length), "256", 1, INT_MAX32, NULL, 0,
     "Longest metadata value, in bytes."},
    {"swift-constraints", "max_meta_count", CONF_INT,
     CK(max_meta_count), "90", 1, INT_MAX32, NULL, 0,
     "Most metadata items one request may carry."},
    {"swift-constraints", "max_meta_overall_size", CONF_INT,
     CK(max_meta_overall_size), "4096", 1, INT_MAX32, NULL, 0,
     "Largest sum of metadata name and value lengths in one request, in "
     "bytes."},
    {"swift-constraints", "max_header_size", CONF_INT,
     CK(max_header_size), "8192", 1, INT_MAX32, NULL, 0,
     "Longest value of any one request header, in bytes."},
    {"swift-constraints", "max_object_name_length", CONF_INT,
     CK(max_object_name_length), "1024", 1, INT_MAX32, NULL, 0,
     "Longest object name, in bytes after URL decoding."},
    {"swift-constraints", "container_listing_limit", CONF_INT,
     CK(container_listing_limit), "10000", 1, INT_MAX32, NULL, 0,
     "Most objects one container listing returns; a larger limit= gets "
     "412."},
    {"swift-constraints", "account_listing_limit", CONF_INT,
     CK(account_listing_limit), "10000", 1, INT_MAX32, NULL, 0,
     "Most containers one account listing returns; a larger limit= gets "
     "412."},
    {"swift-constraints", "max_account_name_length", CONF_INT,
     CK(max_account_name_length), "256", 1, INT_MAX32, NULL, 0,
     "Longest account name, in bytes."},
    {"swift-constraints", "max_container_name_length", CONF_INT,
     CK(max_container_name_length), "256", 1, INT_MAX32, NULL, 0,
     "Longest container name, in bytes."},
    {"swift-constraints", "extra_header_count", CONF_INT,
     CK(extra_header_count), "0", 0, 10000, NULL, 0,
     "Headers a request may carry beyond max_meta_count plus 36 (raise it "
     "when a client or middleware needs more)."},
    {"swift-constraints", "valid_api_versions", CONF_LIST,
     CK(valid_api_versions), "v1, v1.0", 0, 0, NULL, 0,
     "API version strings accepted as the first path segment."},
    CONF_END,
};

int cluster_conf_apply(const struct conf *c, struct cluster_conf *cc,
                       struct conf_errors *errs)
{
    int rc = conf_load(c, cluster_conf_table, cc, errs);
    if (!cc->hash_path_prefix[0] && !cc->hash_path_suffix[0]) {
        /* Swift refuses to start in this case too: every node would hash
         * with no secret and an attacker could aim names at partitions. */
        conf_errors_add(errs, "%s: [swift-hash] sets neither "
                        "swift_hash_path_suffix nor swift_hash_path_prefix, "
                        "expected at least one secret", conf_name(c));
        rc = -EINVAL;
    }
    return rc;
}

int cluster_conf_load(const char *path, struct cluster_conf *cc,
                      struct conf_errors *errs)
{
    struct conf *c = conf_parse_file(path, errs);
    if (!c) {
        cluster_conf_defaults(cc);
        return -EINVAL;
    }
    size_t before = errs->count;
    cluster_conf_apply(c, cc, errs);
    conf_free(c);
    return errs->count > before ? -EINVAL : 0;
}

void cluster_conf_release(struct cluster_conf *cc)
{
    conf_release(cluster_conf_table, cc);
}

void cluster_conf_defaults(struct cluster_conf *cc)
{
    struct conf_errors errs;
    conf_errors_init(&errs);
    struct conf *c = conf_parse_buf("(defaults)", "", 0, &errs);
    conf_load(c, cluster_conf_table, cc, &errs);
    conf_free(c);
    conf_errors_release(&errs);
}

struct hashpath_secret cluster_conf_secret(const struct cluster_conf *cc)
{
    struct hashpath_secret s = {cc->hash_path_prefix, cc->hash_path_suffix};
    return s;
}

int64_t cluster_conf_max_header_count(const struct cluster_constraints *k)
{
    return k->max_meta_count + 36 +
           (k->extra_header_count > 0 ? k->extra_header_count : 0);
}
