/*
 * cellcount - count bright cells in a greyscale PGM image: the split
 * storlet of the Distributed example (docs/compound-storlets.md).
 *
 * A cell is a connected component of pixels brighter than `threshold`.
 * The image is read one row at a time and labelled with a union-find over
 * the labels of two rows only: when a row is done, a component of the row
 * above that no pixel of this row touches can grow no more, so it is
 * counted and forgotten. Memory is O(width), whatever the height.
 *
 * Input: binary PGM (P5), maxval 1..65535 (two bytes per sample,
 * big-endian, above 255), '#' comments in the header.
 * Parameters:
 *   threshold     a pixel is bright when its sample is greater than this
 *                 (default maxval / 2)
 *   connectivity  4 or 8 (default 8: diagonal neighbours touch)
 *   min_size      components of fewer pixels are not cells (default 1)
 * Output: one line of JSON,
 *   {"object":"scans/a.pgm","cells":N,"bright_pixels":P,"width":W,
 *    "height":H,"threshold":T,"connectivity":C,"min_size":M}
 * ("object" is the request's container/object, null when unknown), and
 * output metadata Cells, Bright-Pixels; Content-Type application/json.
 * Exit 64 for a bad parameter, 65 for an input that is not a P5 PGM or
 * ends early.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cairn_storlet.h"

#define WIDTH_MAX 1000000u

struct uf {
    uint32_t *parent;
    uint64_t *size;       /* pixels, valid at roots */
    uint32_t n;           /* nodes 1..n-1 in use; 0 is background */
};

static uint32_t uf_find(struct uf *u, uint32_t x)
{
    while (u->parent[x] != x) {
        u->parent[x] = u->parent[u->parent[x]];
        x = u->parent[x];
    }
    return x;
}

static uint32_t uf_union(struct uf *u, uint32_t a, uint32_t b)
{
    a = uf_find(u, a);
    b = uf_find(u, b);
    if (a == b)
        return a;
    if (u->size[a] < u->size[b]) {
        uint32_t t = a;
        a = b;
        b = t;
    }
    u->parent[b] = a;
    u->size[a] += u->size[b];
    return a;
}

/* ------------------------------------------------------------ counting */

struct count {
    uint64_t cells, bright, min_size;
};

/* A finished component of `size` pixels. */
static void finish(struct count *k, uint64_t size)
{
    if (size >= k->min_size)
        k->cells++;
}

int main(void)
{
    struct storlet *s = storlet_start();
    FILE *in = storlet_input_file(s, 0);
    if (!in)
        storlet_fail(s, STORLET_EXIT_FAILED, "input: %s", strerror(errno));
    struct storlet_pnm img;
    storlet_pnm_header(s, in, &img);
    if (img.kind != 5)
        storlet_fail(s, STORLET_EXIT_BAD_INPUT, "not a binary PGM image (P5)");
    if (img.width > WIDTH_MAX)
        storlet_fail(s, STORLET_EXIT_BAD_INPUT, "PGM width must be 1..%u", WIDTH_MAX);
    uint64_t w = img.width, h = img.height, maxval = img.maxval;

    uint64_t threshold, conn, min_size;
    if (storlet_param_u64(s, "threshold", maxval / 2, &threshold) < 0 || threshold > 65535)
        storlet_fail(s, STORLET_EXIT_BAD_PARAM, "parameter threshold: expected 0..65535");
    if (storlet_param_u64(s, "connectivity", 8, &conn) < 0 || (conn != 4 && conn != 8))
        storlet_fail(s, STORLET_EXIT_BAD_PARAM, "parameter connectivity: expected 4 or 8");
    if (storlet_param_u64(s, "min_size", 1, &min_size) < 0 || min_size == 0)
        storlet_fail(s, STORLET_EXIT_BAD_PARAM, "parameter min_size: expected an integer >= 1");

    size_t bps = maxval > 255 ? 2 : 1;
    unsigned char *row = malloc(w * bps);
    uint32_t *prev = calloc(w, sizeof(*prev));   /* labels of the row above */
    uint32_t *cur = calloc(w, sizeof(*cur));
    /* nodes: the row above's components (at most (w+1)/2) and this row's
     * new labels (at most (w+1)/2), plus the background */
    size_t cap = w + 2;
    struct uf u = {malloc(cap * sizeof(uint32_t)), malloc(cap * sizeof(uint64_t)), 1};
    uint32_t *newid = malloc(cap * sizeof(uint32_t));
    uint64_t *newsize = malloc(cap * sizeof(uint64_t));
    unsigned char *seen = calloc(cap, 1);
    if (!row || !prev || !cur || !u.parent || !u.size || !newid || !newsize || !seen)
        storlet_fail(s, STORLET_EXIT_FAILED, "out of memory for a %llu-pixel row",
                     (unsigned long long)w);
    u.parent[0] = 0;
    u.size[0] = 0;
    uint32_t nprev = 0;   /* the row above's components are nodes 1..nprev */
    struct count k = {0, 0, min_size};

    for (uint64_t y = 0; y < h; y++) {
        if (fread(row, bps, w, in) != w)
            storlet_fail(s, STORLET_EXIT_BAD_INPUT, "truncated image: row %llu of %llu",
                         (unsigned long long)y, (unsigned long long)h);
        for (uint64_t x = 0; x < w; x++) {
            unsigned v = bps == 2 ? (unsigned)row[2 * x] << 8 | row[2 * x + 1] : row[x];
            if (v <= threshold) {
                cur[x] = 0;
                continue;
            }
            k.bright++;
            uint32_t nb[4], nn = 0;
            if (x > 0 && cur[x - 1])
                nb[nn++] = cur[x - 1];
            if (prev[x])
                nb[nn++] = prev[x];
            if (conn == 8) {
                if (x > 0 && prev[x - 1])
                    nb[nn++] = prev[x - 1];
                if (x + 1 < w && prev[x + 1])
                    nb[nn++] = prev[x + 1];
            }
            uint32_t l;
            if (nn == 0) {
                /* a new node; at most one per run of bright pixels, so
                 * fewer than cap - nprev */
                l = u.n++;
                u.parent[l] = l;
                u.size[l] = 0;
            } else {
                l = nb[0];
                for (uint32_t i = 1; i < nn; i++)
                    l = uf_union(&u, l, nb[i]);
            }
            l = uf_find(&u, l);
            u.size[l]++;
            cur[x] = l;
        }
        /* components of the row above that this row does not touch are
         * complete */
        for (uint64_t x = 0; x < w; x++)
            if (cur[x])
                seen[uf_find(&u, cur[x])] = 1;
        for (uint32_t i = 1; i <= nprev; i++) {
            uint32_t r = uf_find(&u, i);
            if (!seen[r]) {
                seen[r] = 2;   /* counted */
                finish(&k, u.size[r]);
            }
        }
        /* renumber this row's components 1..n for the next row */
        uint32_t n = 0;
        for (uint32_t i = 0; i < u.n; i++)
            newid[i] = 0;
        for (uint64_t x = 0; x < w; x++) {
            if (!cur[x])
                continue;
            uint32_t r = uf_find(&u, cur[x]);
            if (!newid[r]) {
                newid[r] = ++n;
                newsize[n] = u.size[r];
            }
            prev[x] = newid[r];
        }
        for (uint64_t x = 0; x < w; x++)
            if (!cur[x])
                prev[x] = 0;
        memset(seen, 0, u.n);
        for (uint32_t i = 1; i <= n; i++) {
            u.parent[i] = i;
            u.size[i] = newsize[i];
        }
        u.n = n + 1;
        nprev = n;
    }
    /* after the last row, every component left is complete */
    for (uint32_t i = 1; i <= nprev; i++)
        finish(&k, u.size[i]);

    const char *c = storlet_request(s, "container");
    const char *o = storlet_request(s, "object");
    json_t *out = json_pack("{s:o, s:I, s:I, s:I, s:I, s:I, s:I, s:I}", "object",
                            c && o ? json_sprintf("%s/%s", c, o) : json_null(), "cells",
                            (json_int_t)k.cells, "bright_pixels", (json_int_t)k.bright, "width",
                            (json_int_t)w, "height", (json_int_t)h, "threshold",
                            (json_int_t)threshold, "connectivity", (json_int_t)conn, "min_size",
                            (json_int_t)min_size);
    char *text = out ? json_dumps(out, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
    if (!text)
        storlet_fail(s, STORLET_EXIT_FAILED, "cannot encode the result");
    char num[32];
    snprintf(num, sizeof(num), "%llu", (unsigned long long)k.cells);
    storlet_set_meta(s, "Cells", num);
    snprintf(num, sizeof(num), "%llu", (unsigned long long)k.bright);
    storlet_set_meta(s, "Bright-Pixels", num);
    storlet_set_content_type(s, "application/json");
    if (storlet_printf(s, "%s\n", text) < 0)
        storlet_fail(s, STORLET_EXIT_FAILED, "write: output closed");
    free(text);
    json_decref(out);
    free(row);
    free(prev);
    free(cur);
    free(u.parent);
    free(u.size);
    free(newid);
    free(newsize);
    free(seen);
    return storlet_finish(s);
}
