/*
 * range.h - the HTTP Range header as Swift serves it, and the text of a
 * multipart/byteranges response.
 *
 * range_resolve() turns a Range header and an object length into what the
 * response must be: the whole object (200, the header is ignored), some byte
 * ranges (206), or nothing (416, whose Content-Range names only the length).
 * The rules are Swift's (swob Range and ranges_for_length):
 *   - the value must start with "bytes=" (any case); spaces are removed first;
 *     any syntactically bad spec (no '-', non-digits, "-", "5-3") makes the
 *     whole header ignored;
 *   - "a-b" is clipped to the length, "a-" runs to the end, "-n" is the last n
 *     bytes (all of them when n > length), "-0" and a start at or past the
 *     end are unsatisfiable and dropped;
 *   - more than RANGE_MAX_RANGES satisfiable ranges, more than
 *     RANGE_MAX_OVERLAPS overlapping pairs, or RANGE_MAX_NONASCENDING or more
 *     ranges not in ascending order -> 416 (RFC 7233 section 6.1);
 *   - a zero-length object with a satisfiable (suffix) range -> 200.
 * Ranges keep the client's order and are not merged, as Swift does.
 *
 * The multipart helpers build the exact bytes Swift sends, so a response can
 * carry a Content-Length computed before the first byte is read:
 *   for each range:  part header, the bytes [start, end), "\r\n"
 *   then:            "--<boundary>--"
 *
 * Memory: nothing is allocated; a range set is a fixed array (the limit is
 * what Swift allows, so a longer header cannot make it grow).
 * Thread-safety: every function is reentrant.
 */
#ifndef CAIRN_RANGE_H
#define CAIRN_RANGE_H

#include <stddef.h>
#include <stdint.h>

#define RANGE_MAX_RANGES 50
#define RANGE_MAX_OVERLAPS 2
#define RANGE_MAX_NONASCENDING 8
#define RANGE_BOUNDARY_LEN 32 /* lower-case hex digits, as Swift's */

enum range_outcome {
    RANGE_WHOLE,         /* no usable Range: serve the whole object, 200 */
    RANGE_PARTIAL,       /* serve set->r[0..n), 206 */
    RANGE_UNSATISFIABLE, /* 416, see range_content_range_unsatisfied() */
};

/* One byte range, half-open: bytes start .. end-1. */
struct range_byte {
    uint64_t start;
    uint64_t end;
};

struct range_set {
    size_t n;
    struct range_byte r[RANGE_MAX_RANGES];
};

/*
 * Decides how to answer a GET whose Range header is `hdr` (NULL when the
 * request has none) for an object of `length` bytes. On RANGE_PARTIAL, set
 * holds n >= 1 ranges in request order; otherwise set->n is 0.
 * Callers apply it after the preconditions (common/preconds.h) and only to
 * GET: Swift answers HEAD with 200 whatever the Range says.
 */
enum range_outcome range_resolve(const char *hdr, uint64_t length,
                                 struct range_set *set);

/* Writes "bytes <first>-<last>/<length>" for r into buf (NUL-terminated).
 * Returns the length the whole text needs, as snprintf. */
size_t range_content_range(char *buf, size_t bufsz, const struct range_byte *r,
                           uint64_t length);

/* Writes the 416 Content-Range: "bytes", a space, a star, "/<length>".
 * snprintf's return. */
size_t range_content_range_unsatisfied(char *buf, size_t bufsz,
                                       uint64_t length);

/*
 * Fills boundary with RANGE_BOUNDARY_LEN random lower-case hex digits and a
 * NUL (getrandom(2); falls back to a time/pid mix if that fails, a boundary
 * needs to be unlikely in the body, not secret).
 */
void range_boundary_new(char boundary[RANGE_BOUNDARY_LEN + 1]);

/* Writes "multipart/byteranges;boundary=<boundary>" (the response's
 * Content-Type, no space after ';' as Swift). snprintf's return. */
size_t range_multipart_content_type(char *buf, size_t bufsz,
                                    const char *boundary);

/*
 * Writes the text before part r's bytes:
 *   "--<boundary>\r\nContent-Type: <ctype>\r\nContent-Range: bytes a-b/len\r\n\r\n"
 * ctype is the object's own Content-Type. Returns the length the whole text
 * needs (as snprintf): call with bufsz 0 to size a buffer.
 */
size_t range_part_header(char *buf, size_t bufsz, const char *boundary,
                         const char *ctype, const struct range_byte *r,
                         uint64_t length);

/* The text after each part's bytes: always "\r\n" (2 bytes). */
#define RANGE_PART_TRAILER "\r\n"

/* Writes the closing "--<boundary>--" (no CRLF after it, as Swift).
 * snprintf's return. */
size_t range_multipart_end(char *buf, size_t bufsz, const char *boundary);

/*
 * Content-Length of the whole multipart body for these ranges: every part
 * header, the bytes, every trailer and the closing line.
 */
uint64_t range_multipart_length(const struct range_set *set,
                                const char *boundary, const char *ctype,
                                uint64_t length);

#endif
