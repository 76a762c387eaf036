/*
 * concat - its input followed by other objects (or another storlet's output
 * on each of them), read through the services channel: the example of
 * services invocation, and the simplest merge step.
 *
 * Parameters:
 *   objects     comma-separated paths ("container/object" in the caller's
 *               account, or "/account/container/object"), at most 16
 *               (required)
 *   storlet     if set, the output of this storlet run on each object is
 *               appended instead of the object itself (services "invoke")
 *   skip-input  true|false: leave out this invocation's own input
 * Output: the parts, one after the other, nothing in between. Output
 * metadata: Parts (the number of parts). Everything is read with the
 * caller's credentials, by the engine.
 * Failure: a part that cannot be opened (404, 403, ...) or that ends short
 * fails the invocation with its reason; since earlier parts may already be
 * out, that can be an aborted response: never a silent short answer.
 * Memory: one 64 KiB buffer.
 */
#include <errno.h>
#include <string.h>

#include "cairn_storlet.h"

#define PARTS_MAX 16

static char buf[64 << 10];

static void copy_stream(struct storlet *s, struct storlet_stream *st, const char *what)
{
    ssize_t n;
    while ((n = storlet_stream_read(st, buf, sizeof(buf))) > 0)
        if (storlet_write(s, buf, (size_t)n) < 0)
            storlet_fail(s, STORLET_EXIT_FAILED, "writing the output failed");
    if (n < 0)
        storlet_fail(s, STORLET_EXIT_FAILED, "%s: read failed: %s", what, strerror((int)-n));
    if (storlet_stream_close(s, st) < 0)
        storlet_fail(s, STORLET_EXIT_FAILED, "%s: the stream ended short", what);
}

int main(void)
{
    struct storlet *s = storlet_start();
    const char *list = storlet_param(s, "objects");
    const char *other = storlet_param(s, "storlet");
    bool skip;
    if (!list || !*list)
        storlet_fail(s, STORLET_EXIT_BAD_PARAM, "the parameter objects is required");
    if (storlet_param_bool(s, "skip-input", false, &skip) < 0)
        storlet_fail(s, STORLET_EXIT_BAD_PARAM, "skip-input: true or false");
    if (!storlet_has_services(s))
        storlet_fail(s, STORLET_EXIT_FAILED, "no services channel: cannot read other objects");

    char paths[1024];
    if (strlen(list) >= sizeof(paths))
        storlet_fail(s, STORLET_EXIT_BAD_PARAM, "objects: list too long");
    snprintf(paths, sizeof(paths), "%s", list);
    char *part[PARTS_MAX], *save = NULL;
    unsigned n = 0;
    for (char *p = strtok_r(paths, ",", &save); p; p = strtok_r(NULL, ",", &save)) {
        if (n == PARTS_MAX)
            storlet_fail(s, STORLET_EXIT_BAD_PARAM, "objects: more than %d", PARTS_MAX);
        part[n++] = p;
    }
    char v[16];
    snprintf(v, sizeof(v), "%u", n + (skip ? 0 : 1));
    storlet_set_meta(s, "Parts", v);

    if (!skip) {
        ssize_t k;
        while ((k = storlet_read(s, buf, sizeof(buf))) > 0)
            if (storlet_write(s, buf, (size_t)k) < 0)
                storlet_fail(s, STORLET_EXIT_FAILED, "writing the output failed");
        if (k < 0)
            storlet_fail(s, STORLET_EXIT_FAILED, "reading the input failed");
    }
    for (unsigned i = 0; i < n; i++) {
        struct storlet_stream st;
        char why[256];
        int rc = other ? storlet_invoke(s, other, part[i], NULL, &st, why, sizeof(why))
                       : storlet_open_object(s, part[i], NULL, &st, why, sizeof(why));
        if (rc < 0)
            storlet_fail(s, rc == -EINVAL ? STORLET_EXIT_BAD_PARAM : STORLET_EXIT_FAILED,
                         "%s: %s", part[i], why);
        copy_stream(s, &st, part[i]);
    }
    return storlet_finish(s);
}
