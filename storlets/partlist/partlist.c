/*
 * partlist - the plainest merge storlet of a Distributed request
 * (docs/compound-storlets.md section 2): it keeps every split's output,
 * computing nothing. With fixity as the split it gives one document with
 * every object's digests.
 *
 * Input: the merge stream of docs/compound-storlets.md section 2.3 on fd 0.
 * Parameters:
 *   format  json (default): each part is one JSON value of at most 1 MiB
 *           (all of them together at most 64 MiB); output one line,
 *             {"parts":N,"objects":[{"object":"c/o","output":<value>},...]}
 *           in request order (the part frames' index), whatever order the
 *           splits finished in; Content-Type application/json.
 *           raw: the parts' bytes one after the other, in the order they
 *           arrive, streamed (any size, memory one chunk); nothing between
 *           them; Content-Type application/octet-stream.
 * Output metadata: Format; with json also Parts.
 * Exit 64 for an unknown format; 65 when the stream is malformed, ends
 * early, lacks or repeats a part, or (json) a part is not JSON (the reason
 * names its object). In raw mode a stream found bad after output started
 * ends the response abnormally, as any failure after output does.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cairn_storlet.h"

#define CHUNK_MAX (1u << 20)
#define PART_MAX (1u << 20)
#define HELD_MAX (64u << 20)

int main(void)
{
    struct storlet *s = storlet_start();
    const char *format = storlet_param_or(s, "format", "json");
    bool raw = strcmp(format, "raw") == 0;
    if (!raw && strcmp(format, "json") != 0)
        storlet_fail(s, STORLET_EXIT_BAD_PARAM, "parameter format: '%s': json or raw", format);
    storlet_set_meta(s, "Format", format);
    if (raw) {
        storlet_set_content_type(s, "application/octet-stream");
        if (storlet_send_meta(s) < 0)
            storlet_fail(s, STORLET_EXIT_FAILED, "sending the metadata failed");
    }
    char *buf = malloc(raw ? CHUNK_MAX : PART_MAX);
    if (!buf)
        storlet_fail(s, STORLET_EXIT_FAILED, "out of memory");
    json_t *list = raw ? NULL : json_array();   /* {"object", "output"} by index */
    size_t held = 0;
    struct storlet_part part;
    while (storlet_merge_next(s, &part)) {
        if (raw) {
            size_t n;
            while ((n = storlet_merge_read(s, buf, CHUNK_MAX)) > 0)
                if (storlet_write(s, buf, n) < 0)
                    storlet_fail(s, STORLET_EXIT_FAILED, "write: output closed");
            continue;
        }
        size_t len = storlet_merge_read_whole(s, buf, PART_MAX);
        held += len;
        if (held > HELD_MAX)
            storlet_fail(s, STORLET_EXIT_BAD_INPUT, "the parts hold more than %u bytes",
                         HELD_MAX);
        json_error_t je;
        json_t *v = json_loadb(buf, len, JSON_DECODE_ANY, &je);
        if (!v)
            storlet_fail(s, STORLET_EXIT_BAD_INPUT, "part %s: not JSON: %s", part.path, je.text);
        while (json_array_size(list) <= part.index)
            json_array_append_new(list, json_null());
        json_array_set_new(list, part.index,
                           json_pack("{s:s, s:o}", "object", part.path, "output", v));
    }
    free(buf);
    if (raw)
        return storlet_finish(s);
    /* storlet_merge_next checked the parts are exactly 0..parts-1: the
     * list has no hole left. */
    size_t parts = storlet_merge_count(s);
    json_t *out = json_pack("{s:I, s:o}", "parts", (json_int_t)parts, "objects", list);
    char *text = json_dumps(out, JSON_COMPACT | JSON_PRESERVE_ORDER);
    char num[32];
    snprintf(num, sizeof(num), "%zu", parts);
    storlet_set_meta(s, "Parts", num);
    storlet_set_content_type(s, "application/json");
    if (!text || storlet_printf(s, "%s\n", text) < 0)
        storlet_fail(s, STORLET_EXIT_FAILED, "write: output closed");
    free(text);
    json_decref(out);
    return storlet_finish(s);
}
