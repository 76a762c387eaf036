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
#define PARTS_MAX 100000u

struct entry {
    char *path;
    json_t *value;     /* json: the part; raw: json_true() as a marker */
};

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
    struct entry *ent = NULL;
    size_t nent = 0, received = 0, held = 0, parts;
    for (;;) {
        json_t *f = storlet_merge_frame(s);
        const char *type = json_string_value(json_object_get(f, "type"));
        if (type && strcmp(type, "end") == 0) {
            json_t *p = json_object_get(f, "parts");
            if (!json_is_integer(p) || json_integer_value(p) < 0)
                storlet_fail(s, STORLET_EXIT_BAD_INPUT, "merge input: bad end frame");
            parts = (size_t)json_integer_value(p);
            json_decref(f);
            break;
        }
        json_t *jidx = json_object_get(f, "index");
        const char *path = json_string_value(json_object_get(f, "path"));
        if (!type || strcmp(type, "part") != 0 || !json_is_integer(jidx) || !path ||
            json_integer_value(jidx) < 0 || json_integer_value(jidx) >= PARTS_MAX)
            storlet_fail(s, STORLET_EXIT_BAD_INPUT, "merge input: bad part frame");
        size_t idx = (size_t)json_integer_value(jidx);
        if (idx >= nent) {
            size_t nn = idx + 1 > 2 * nent ? idx + 1 : 2 * nent;
            ent = realloc(ent, nn * sizeof(*ent));
            if (!ent)
                storlet_fail(s, STORLET_EXIT_FAILED, "out of memory");
            memset(ent + nent, 0, (nn - nent) * sizeof(*ent));
            nent = nn;
        }
        if (ent[idx].value)
            storlet_fail(s, STORLET_EXIT_BAD_INPUT, "merge input: part %zu (%s) twice", idx,
                         path);
        size_t len = 0;
        for (;;) {
            uint32_t n = storlet_read_u32(s, "a chunk length");
            if (n == 0)
                break;
            if (n > CHUNK_MAX)
                storlet_fail(s, STORLET_EXIT_BAD_INPUT, "part %s: chunk of %u bytes", path, n);
            if (raw) {
                storlet_read_exact(s, buf, n, "a chunk");
                if (storlet_write(s, buf, n) < 0)
                    storlet_fail(s, STORLET_EXIT_FAILED, "write: output closed");
                continue;
            }
            if (n > PART_MAX - len)
                storlet_fail(s, STORLET_EXIT_BAD_INPUT, "part %s: more than %u bytes", path,
                             PART_MAX);
            storlet_read_exact(s, buf + len, n, "a chunk");
            len += n;
        }
        if (raw) {
            ent[idx].value = json_true();
        } else {
            held += len;
            if (held > HELD_MAX)
                storlet_fail(s, STORLET_EXIT_BAD_INPUT, "the parts hold more than %u bytes",
                             HELD_MAX);
            json_error_t je;
            ent[idx].value = json_loadb(buf, len, JSON_DECODE_ANY, &je);
            if (!ent[idx].value)
                storlet_fail(s, STORLET_EXIT_BAD_INPUT, "part %s: not JSON: %s", path, je.text);
        }
        ent[idx].path = strdup(path);
        received++;
        json_decref(f);
    }
    free(buf);
    if (received != parts)
        storlet_fail(s, STORLET_EXIT_BAD_INPUT, "merge input: %zu parts, the end frame says %zu",
                     received, parts);
    json_t *list = raw ? NULL : json_array();
    for (size_t i = 0; i < nent; i++) {
        if (!ent[i].value)
            continue;
        if (i >= parts)
            storlet_fail(s, STORLET_EXIT_BAD_INPUT, "merge input: part index %zu of %zu parts",
                         i, parts);
        if (list) {
            json_t *e = json_pack("{s:s}", "object", ent[i].path);
            json_object_set(e, "output", ent[i].value);
            json_array_append_new(list, e);
        }
        json_decref(ent[i].value);
        free(ent[i].path);
    }
    free(ent);
    if (raw)
        return storlet_finish(s);
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
