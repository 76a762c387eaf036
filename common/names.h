/*
 * names.h - the rules for request names that proxy and objectd share:
 * strict UTF-8, URL percent-coding, splitting of API and backend paths, and
 * Swift's constraint checks on names and metadata (prefix names_).
 *
 * Behaviour follows Swift 2.30 (swift/common/constraints.py, utils.split_path,
 * proxy/server.py get_controller): the same statuses and, where Swift writes
 * one, the same response body text, so clients and tests that look at
 * either see no difference. Lengths of account, container and object names
 * count code points (Swift on Python 3 measures decoded str); metadata
 * lengths count bytes (Swift measures WSGI header strings).
 *
 * Swift does not reject "." or ".." as account, container or object names
 * (they are hashed, never used as file names), and neither does Cairn; it
 * rejects them, as Swift does, only as backend device and partition.
 *
 * Everything here is pure: no allocation except where stated, no globals,
 * thread-safe.
 */
#ifndef CAIRN_NAMES_H
#define CAIRN_NAMES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/cluster_conf.h"

/* What to answer when a check fails. */
struct names_verdict {
    int status;      /* 0 when acceptable, else the HTTP status to send */
    char body[1024]; /* Swift's body text; "" where Swift sends its default
                        page for the status. Truncated beyond 1023 bytes. */
};

/* ---------------------------------------------------------------- UTF-8 */

enum names_utf8_flags {
    NAMES_UTF8_ALLOW_NUL = 1 << 0, /* Swift's internal=True (reserved names) */
};

/*
 * True if s[0..len) is well-formed UTF-8: no overlong forms, no surrogates
 * (U+D800..DFFF), nothing above U+10FFFF, no truncated sequence, and no NUL
 * unless flags allow it. Empty input is not valid (as Swift's check_utf8).
 */
bool names_utf8_valid(const char *s, size_t len, unsigned flags);

/* Code points in valid UTF-8 s[0..len) (counts lead bytes). */
size_t names_utf8_count(const char *s, size_t len);

/* ---------------------------------------------------------------- URL coding */

/*
 * Percent-decodes in[0..len) into out (at least len + 1 bytes), as a WSGI
 * server decodes PATH_INFO: "%XX" with two hex digits becomes the byte, a
 * '%' not followed by two hex digits stays literal, '+' stays '+'. out is
 * NUL-terminated; returns the decoded length (out may contain NUL bytes).
 * out may be in itself (decoding in place). Pure; thread-safe.
 */
size_t names_unquote(const char *in, size_t len, char *out);

/*
 * As names_unquote, but '+' becomes a space, as Python's unquote_plus
 * decodes a query-string name or value (byte-wise, latin-1).
 */
size_t names_unquote_plus(const char *in, size_t len, char *out);

/*
 * Percent-encodes in[0..len) into out (at least 3 * len + 1 bytes) as
 * Python's urllib.parse.quote(s, safe): letters, digits, "_.-~" and the
 * bytes in `safe` (Swift uses "/") are kept, every other byte becomes "%XX"
 * with upper-case hex. Returns the length written (out NUL-terminated).
 */
size_t names_quote(const char *in, size_t len, const char *safe, char *out);

/* ---------------------------------------------------------------- paths */

/*
 * Swift's split_path on a decoded, NUL-terminated path that is modified in
 * place: segs[0..maxsegs) receive the segments (NULL for those absent) as
 * pointers into path. minsegs segments are required and must be non-empty;
 * with rest_with_last the last segment keeps any further '/'s, without it
 * a path with more segments is invalid (one trailing '/' is tolerated).
 * 1 <= minsegs <= maxsegs <= 8. Returns 0 or -EINVAL; on -EINVAL path is
 * unchanged and, when v is not NULL, v holds 400 and "Invalid path: <quoted>".
 */
int names_split_path(char *path, int minsegs, int maxsegs, bool rest_with_last,
                     char **segs, struct names_verdict *v);

enum names_kind {
    NAMES_NONE,      /* not an API path Swift serves */
    NAMES_ACCOUNT,
    NAMES_CONTAINER,
    NAMES_OBJECT,
};

struct names_api_path {
    char *buf;             /* the decoded path, heap, owned */
    enum names_kind kind;
    const char *version;   /* e.g. "v1"; all four point into buf */
    const char *account;   /* NULL unless kind >= NAMES_ACCOUNT */
    const char *container; /* NULL unless kind >= NAMES_CONTAINER */
    const char *object;    /* NULL unless kind == NAMES_OBJECT; may hold '/' */
};

/*
 * Parses a client request path (the raw, percent-encoded path of the
 * request line, without the query string) as the proxy routes it:
 *   invalid UTF-8 or NUL after decoding -> 412 "Invalid UTF8 or contains NULL"
 *   not /<version>/... at all             -> 404 (Swift's split_path fails)
 *   version not in k->valid_api_versions  -> 400
 *   no usable account/container/object    -> 412 "Bad URL" ("/v1", "/v1//c",
 *                                             "/v1/a//o")
 * "/v1/a/" is the account and "/v1/a/c/" the container, as in Swift.
 * Returns 0 with *out filled (release with names_api_path_release), or
 * -EINVAL with v set and *out empty. Names are not length-checked here: use
 * names_check_*_name per method as Swift does.
 */
int names_parse_api_path(const char *raw, size_t len,
                         const struct cluster_constraints *k,
                         struct names_api_path *out, struct names_verdict *v);
void names_api_path_release(struct names_api_path *p);

/*
 * Splits and validates a backend path "/<device>/<partition>/<account>
 * [/<container>[/<object>]]" already percent-decoded, in place, as
 * objectd's split_and_validate_path: split_path(minsegs, maxsegs,
 * rest_with_last), then device and partition must be non-empty, contain no
 * '/', and not be "." or "..". Also checks UTF-8 (NUL allowed, as Swift's
 * internal check). Failures: 412 "Invalid UTF8 or contains NULL", or 400
 * with "Invalid path: ...", "Invalid device: ...", "Invalid partition: ...".
 * Returns 0 or -EINVAL.
 */
int names_split_backend_path(char *path, size_t len, int minsegs, int maxsegs,
                             bool rest_with_last, char **segs,
                             struct names_verdict *v);

/* ---------------------------------------------------------------- limits */

/* 400 "Account name length of N longer than M" (N in code points). */
int names_check_account_name(const char *name, size_t len,
                             const struct cluster_constraints *k,
                             struct names_verdict *v);
/* 400 "Container name length of N longer than M". */
int names_check_container_name(const char *name, size_t len,
                               const struct cluster_constraints *k,
                               struct names_verdict *v);

enum names_target {
    NAMES_T_ACCOUNT,
    NAMES_T_CONTAINER,
    NAMES_T_OBJECT,
};

/* One request header, not necessarily NUL-terminated. */
struct names_header {
    const char *name;
    size_t name_len;
    const char *value;
    size_t value_len;
};

/*
 * Swift's check_metadata over all request headers for the given target
 * ("x-<target>-meta-*", case-insensitive), first failure wins, in header
 * order:
 *   any value > max_header_size   -> 400 "Header value too long: <name>"
 *                                    (name cut to max_meta_name_length)
 *   empty name after the prefix   -> 400 "Metadata name cannot be empty"
 *   bad UTF-8 in name or value (account/container only)
 *                                 -> 400 "Metadata must be valid UTF-8"
 *   name > max_meta_name_length   -> 400 "Metadata name too long: x-...-meta-<name>"
 *   value > max_meta_value_length -> 400 "Metadata value longer than M: x-...-meta-<name>"
 *   count > max_meta_count        -> 400 "Too many metadata items; max M"
 *   names + values > max_meta_overall_size
 *                                 -> 400 "Total metadata too large; max M"
 * Returns 0 or -EINVAL (v set).
 */
int names_check_metadata(const struct names_header *h, size_t n,
                         enum names_target target,
                         const struct cluster_constraints *k,
                         struct names_verdict *v);

/* Request facts check_object_creation needs. */
struct names_object_put {
    int64_t content_length;   /* -1 when there is no Content-Length */
    bool chunked;             /* Transfer-Encoding: chunked */
    const char *content_type; /* NULL when absent (NUL-terminated) */
    const char *object;       /* decoded object name */
    size_t object_len;
};

/*
 * Swift's check_object_creation, in Swift's order:
 *   length > max_file_size          -> 413 "Your request is too large."
 *   no length and not chunked       -> 411 "Missing Content-Length header."
 *   name > max_object_name_length   -> 400 "Object name length of N longer than M"
 *   no Content-Type                 -> 400 "No content type"
 *   Content-Type not UTF-8          -> 400 "Invalid Content-Type"
 *   then names_check_metadata(..., NAMES_T_OBJECT, ...).
 * (X-Delete-At/After validation is not part of this function.)
 * Returns 0 or -EINVAL (v set).
 */
int names_check_object_creation(const struct names_object_put *put,
                                const struct names_header *h, size_t n,
                                const struct cluster_constraints *k,
                                struct names_verdict *v);

/*
 * A listing's limit= as Swift's constrain_req_limit: absent, empty or not
 * all digits -> max; a number above max -> 412 "Maximum limit is M".
 * given may be NULL. Returns 0 (with *limit) or -EINVAL (v set).
 */
int names_listing_limit(const char *given, int64_t max, int64_t *limit,
                        struct names_verdict *v);

#endif
