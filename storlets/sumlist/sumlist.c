/*
 * sumlist - the merge storlet of the Distributed example: sums one number
 * over the split outputs and lists it per object.
 *
 * Input: the merge stream of docs/compound-storlets.md section 2.3 on fd 0
 * (a part frame, the part's bytes as chunks, a zero chunk, for every
 * split; then an end frame). Each part's bytes are one JSON object, e.g.
 * cellcount's {"object": ..., "cells": N, ...}; at most 1 MiB each.
 * Parameters:
 *   key   the number to sum (default "cells")
 * Output: one line of JSON,
 *   {"key":"cells","total":T,"parts":N,
 *    "objects":[{"object":"scans/a.pgm","cells":3},...]}
 * with the objects in request order (the part frames' index), whatever
 * order the splits finished in; output metadata Total, Parts;
 * Content-Type application/json. The total is an integer when every value
 * is one. Exit 65 when the stream is malformed, ends early, lacks a part,
 * or a part has no number `key` (the reason names the part's object).
 * Memory: one part and one small entry per part.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cairn_storlet.h"

#define PART_MAX (1u << 20)

int main(void)
{
    struct storlet *s = storlet_start();
    const char *key = storlet_param_or(s, "key", "cells");
    if (!*key)
        storlet_fail(s, STORLET_EXIT_BAD_PARAM, "parameter key: must not be empty");
    json_t *list = json_array();   /* {"object", key} per part, by index */
    char *buf = malloc(PART_MAX);
    if (!buf)
        storlet_fail(s, STORLET_EXIT_FAILED, "out of memory");
    json_int_t itotal = 0;
    double dtotal = 0;
    bool real = false;
    struct storlet_part part;
    while (storlet_merge_next(s, &part)) {
        size_t len = storlet_merge_read_whole(s, buf, PART_MAX);
        json_error_t je;
        json_t *o = json_loadb(buf, len, 0, &je);
        json_t *v = json_object_get(o, key);
        if (!json_is_number(v))
            storlet_fail(s, STORLET_EXIT_BAD_INPUT, "part %s: no number \"%s\" in its output",
                         part.path, key);
        if (json_is_real(v))
            real = true;
        else
            itotal += json_integer_value(v);
        dtotal += json_number_value(v);
        while (json_array_size(list) <= part.index)
            json_array_append_new(list, json_null());
        json_t *e = json_pack("{s:s}", "object", part.path);
        json_object_set(e, key, v);
        json_array_set_new(list, part.index, e);
        json_decref(o);
    }
    free(buf);
    /* storlet_merge_next checked the parts are exactly 0..parts-1: the
     * list has no hole left. */
    size_t parts = storlet_merge_count(s);
    json_t *out = json_pack("{s:s, s:o, s:I, s:o}", "key", key, "total",
                            real ? json_real(dtotal) : json_integer(itotal), "parts",
                            (json_int_t)parts, "objects", list);
    char *text = json_dumps(out, JSON_COMPACT | JSON_PRESERVE_ORDER);
    char num[64];
    if (real)
        snprintf(num, sizeof(num), "%.17g", dtotal);
    else
        snprintf(num, sizeof(num), "%lld", (long long)itotal);
    storlet_set_meta(s, "Total", num);
    snprintf(num, sizeof(num), "%zu", parts);
    storlet_set_meta(s, "Parts", num);
    storlet_set_content_type(s, "application/json");
    if (!text || storlet_printf(s, "%s\n", text) < 0)
        storlet_fail(s, STORLET_EXIT_FAILED, "write: output closed");
    free(text);
    json_decref(out);
    return storlet_finish(s);
}
