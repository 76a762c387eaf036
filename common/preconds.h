/*
 * preconds.h - HTTP conditional requests (If-Match, If-None-Match,
 * If-Modified-Since, If-Unmodified-Since) decided as Swift decides them.
 *
 * Reads (GET and HEAD alike, swob's conditional_response), in this order,
 * the first rule that fires wins:
 *   1. the object exists and If-None-Match lists its ETag or "*"     -> 304
 *   2. the object exists and If-Match is present without its ETag     -> 412
 *      (an If-Match with no usable entry, e.g. "", never matches)
 *   3. the object is missing and If-Match lists "*"                   -> 412
 *   4. the object exists and Last-Modified <= If-Modified-Since       -> 304
 *   5. the object exists and Last-Modified >  If-Unmodified-Since     -> 412
 * An unparsable date (common/timestamp.h, ts_parse_http_date) makes its
 * header ignored. ETag lists are split on ',',
 * entries trimmed, one pair of surrounding double quotes removed ("W/" weak
 * tags are not special, as in Swift). Last-Modified is whole seconds: the
 * object's X-Timestamp rounded up (the caller rounds).
 *
 * Writes (an object server PUT): only If-None-Match counts; when the object
 * exists and the header lists "*" or its ETag -> 412. (The proxy additionally
 * answers 400 to a PUT If-None-Match without "*": preconds_list_has_star().)
 *
 * No allocation; every function is reentrant.
 */
#ifndef CAIRN_PRECONDS_H
#define CAIRN_PRECONDS_H

#include <stdbool.h>
#include <stdint.h>

/* The conditional headers of a request; NULL when a header is absent. */
struct preconds_req {
    const char *if_match;
    const char *if_none_match;
    const char *if_modified_since;
    const char *if_unmodified_since;
};

/* What the server holds. */
struct preconds_obj {
    bool exists;
    const char *etag;      /* may be quoted; NULL when unknown */
    int64_t last_modified; /* Unix seconds, already rounded up */
};

/*
 * Evaluates the read rules above. Returns 0 when the request proceeds
 * normally (200/206/404...), or 304 or 412.
 */
int preconds_eval_read(const struct preconds_req *req,
                       const struct preconds_obj *obj);

/* Evaluates the write rule above. Returns 0 or 412. */
int preconds_eval_write(const struct preconds_req *req,
                        const struct preconds_obj *obj);

/*
 * True when `etag` is in the ETag list `list` (either side may carry
 * quotes), or when the list holds "*". NULL list or etag -> false.
 */
bool preconds_etag_in_list(const char *list, const char *etag);

/* True when the ETag list holds a "*" entry (quoted or not). A client PUT
 * whose If-None-Match does not is answered 400 by Swift's proxy. NULL -> false. */
bool preconds_list_has_star(const char *list);

#endif
