/*
 * obj_listing.h - container and account listings as Swift writes them:
 * the query string and Accept header turned into listing parameters, and a
 * streaming formatter for format=json|xml|plain whose bytes equal Swift
 * 2.30's (key order, number formats, JSON \u escapes, ElementTree's XML
 * escaping and declaration, one name per line for plain).
 *
 * Use: obj_listing_query_parse() on the request; obj_listing_fmt_new() with
 * a write callback; pass obj_listing_fmt_entry as the obj_db_list_fn of
 * obj_db_cont_list()/obj_db_acct_list(); obj_listing_fmt_finish(). The
 * formatter holds at most one output chunk (OBJ_LISTING_CHUNK bytes) and
 * calls the writer whenever a chunk is full, so a listing of 10000 entries
 * never sits in memory whole.
 *
 * Status codes (Swift's): plain with no entries is 204 with no body; json
 * ("[]") and xml (an empty root element) are 200. For plain, nothing is
 * written before the first entry, so a writer that sees no call before
 * finish() knows to answer 204; for json and xml the first write may
 * happen only at finish(). Content-Type is obj_listing_query.content_type
 * plus "; charset=utf-8".
 *
 * Threading: a query or formatter belongs to one thread; no shared state.
 */
#ifndef CAIRN_OBJ_LISTING_H
#define CAIRN_OBJ_LISTING_H

#include <stdbool.h>
#include <stddef.h>

#include "common/err.h"
#include "objectd/obj_db.h"

enum obj_listing_format {
    OBJ_LISTING_PLAIN,
    OBJ_LISTING_JSON,
    OBJ_LISTING_XML,
};

struct obj_listing_query {
    struct obj_db_list_params params;  /* strings point into `store` */
    enum obj_listing_format format;
    /* "text/plain", "application/json", "application/xml" or "text/xml" */
    const char *content_type;
    bool format_from_accept;           /* no format= given (Vary: Accept) */
    char *store;                       /* owned */
};

/*
 * Parses a listing request: `qs` is the raw query string (percent-encoded,
 * without '?', may be NULL), `accept` the Accept header (NULL if absent).
 * Parameters follow Swift's parse_qsl (last one wins, '+' is a space,
 * "?path" with no '=' is path=""). Returns 0, or with e's text being
 * Swift's response body:
 *   -EINVAL  400 '"<name>" parameter not valid UTF-8' / 'Invalid Accept header'
 *   -E2BIG   412 "Maximum limit is 10000"
 *   -ENOTSUP 406 (no acceptable format)
 * A parameter containing NUL is treated as invalid UTF-8 (names cannot hold
 * NUL here). q is released by obj_listing_query_release() even on error.
 * Swift sends the 400 UTF-8 body as text/plain and the others as
 * text/html; charset=UTF-8 (the 406 body is its standard HTML page).
 */
int obj_listing_query_parse(const char *qs, const char *accept, struct obj_listing_query *q,
                            struct err *e);
void obj_listing_query_release(struct obj_listing_query *q);

/* Receives formatted bytes; a non-zero return aborts the listing. */
typedef int obj_listing_write_fn(void *arg, const char *buf, size_t len);

#define OBJ_LISTING_CHUNK 16384

struct obj_listing_fmt;

/*
 * A formatter for a container listing (account = false; `name` is the
 * container, used by XML) or an account listing (account = true, `name` the
 * account). name is copied. Free with obj_listing_fmt_free().
 */
struct obj_listing_fmt *obj_listing_fmt_new(enum obj_listing_format format, bool account,
                                            const char *name, obj_listing_write_fn *write,
                                            void *arg);
/* Formats one entry (an obj_db_list_fn: pass the formatter as arg).
 * Container entries get Swift's swift_bytes treatment: the parameter is
 * dropped from content_type and its value replaces bytes. */
int obj_listing_fmt_entry(void *fmt, const struct obj_db_list_entry *e);
/* Writes the closing bytes and flushes. Returns the writer's error or 0. */
int obj_listing_fmt_finish(struct obj_listing_fmt *f);
/* Entries formatted so far. */
size_t obj_listing_fmt_count(const struct obj_listing_fmt *f);
void obj_listing_fmt_free(struct obj_listing_fmt *f);

#endif
