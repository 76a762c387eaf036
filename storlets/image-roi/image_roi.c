/*
 * image-roi - cut a region of interest out of a PGM/PPM image and write it
 * as PNG (or as PNM), streaming.
 *
 * Input: binary PNM, P5 (grey) or P6 (RGB), maxval 1..65535 (two bytes per
 * sample, big-endian, above 255), '#' comments in the header.
 * Parameters:
 *   x, y            top-left corner of the region (default 0, 0)
 *   width, height   size of the region (default: to the image's edge)
 *   format          png (default) or pnm
 *   level           zlib level for PNG, 0..9 (default 6)
 * Output: the region, as an 8-bit (maxval <= 255) or 16-bit PNG, grey or
 * RGB, samples scaled to the full range when maxval is not 255/65535; or as
 * a PNM of the same kind. Output metadata: Roi "x,y,w,h", Source-Size "WxH",
 * Source-Format "P5|P6"; Content-Type image/png or image/x-portable-*.
 * Exit 64 for parameters that do not fit the image, 65 for an input that is
 * not a binary PNM or ends early.
 *
 * Memory: one input row and zlib's window; rows above the region are read
 * and dropped, reading stops after its last row. PNG chunks (IDAT of at
 * most 64 KiB, each with its CRC) are written as the deflate stream fills
 * them; the signature and IHDR wait for the first IDAT, so an input found
 * truncated before any IDAT was full fails before any output.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "cairn_storlet.h"

#define ROW_MAX (64u << 20)
#define IDAT_MAX (64u << 10)


struct png_out {
    struct storlet *s;
    bool header_sent;
    unsigned char ihdr[13];
    z_stream z;
    unsigned char zbuf[IDAT_MAX];
};

/* ------------------------------------------------------------ PNM header */

static void read_header(struct storlet *s, FILE *in, struct storlet_pnm *p)
{
    storlet_pnm_header(s, in, p);
    if (p->width * p->channels * p->bytes_per_sample > ROW_MAX)
        storlet_fail(s, STORLET_EXIT_BAD_INPUT, "PNM rows over %u bytes", ROW_MAX);
}

/* ------------------------------------------------------------ PNG */

static void put32(unsigned char *b, uint32_t v)
{
    b[0] = (unsigned char)(v >> 24);
    b[1] = (unsigned char)(v >> 16);
    b[2] = (unsigned char)(v >> 8);
    b[3] = (unsigned char)v;
}

static void out_bytes(struct storlet *s, const void *b, size_t n)
{
    if (storlet_write(s, b, n) < 0)
        storlet_fail(s, STORLET_EXIT_FAILED, "writing the output failed");
}

static void chunk(struct png_out *o, const char *type, const unsigned char *data, size_t n)
{
    unsigned char head[8], tail[4];
    put32(head, (uint32_t)n);
    memcpy(head + 4, type, 4);
    uLong crc = crc32(0L, (const Bytef *)type, 4);
    if (n)
        crc = crc32(crc, data, (uInt)n);
    put32(tail, (uint32_t)crc);
    out_bytes(o->s, head, 8);
    if (n)
        out_bytes(o->s, data, n);
    out_bytes(o->s, tail, 4);
}

static void png_header(struct png_out *o)
{
    if (o->header_sent)
        return;
    static const unsigned char sig[8] = { 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n' };
    out_bytes(o->s, sig, 8);
    chunk(o, "IHDR", o->ihdr, 13);
    o->header_sent = true;
}

/* Deflates n bytes (flush = Z_NO_FLUSH or Z_FINISH), emitting full IDATs. */
static void png_feed(struct png_out *o, const unsigned char *b, size_t n, int flush)
{
    o->z.next_in = (Bytef *)(uintptr_t)b;
    o->z.avail_in = (uInt)n;
    for (;;) {
        int rc = deflate(&o->z, flush);
        if (rc == Z_STREAM_ERROR)
            storlet_fail(o->s, STORLET_EXIT_FAILED, "zlib deflate failed");
        if (o->z.avail_out == 0) {
            png_header(o);
            chunk(o, "IDAT", o->zbuf, IDAT_MAX);
            o->z.next_out = o->zbuf;
            o->z.avail_out = IDAT_MAX;
            continue;
        }
        if (flush == Z_FINISH ? rc == Z_STREAM_END : o->z.avail_in == 0)
            break;
    }
    if (flush == Z_FINISH) {
        png_header(o);
        if (o->z.avail_out < IDAT_MAX)
            chunk(o, "IDAT", o->zbuf, IDAT_MAX - o->z.avail_out);
        chunk(o, "IEND", NULL, 0);
    }
}

/* ------------------------------------------------------------ main */

static uint64_t param(struct storlet *s, const char *key, uint64_t dflt)
{
    uint64_t v;
    if (storlet_param_u64(s, key, dflt, &v) < 0)
        storlet_fail(s, STORLET_EXIT_BAD_PARAM, "%s=%s: not a non-negative integer", key,
                     storlet_param(s, key));
    return v;
}

/* Scales samples to the full range of their width (in place). */
static void scale(unsigned char *b, size_t nsamples, const struct storlet_pnm *p)
{
    uint64_t full = p->bytes_per_sample == 1 ? 255 : 65535;
    if (p->maxval == full)
        return;
    for (size_t i = 0; i < nsamples; i++) {
        uint64_t v = p->bytes_per_sample == 1 ? b[i] : (uint64_t)b[2 * i] << 8 | b[2 * i + 1];
        if (v > p->maxval)
            v = p->maxval;
        v = (v * full + p->maxval / 2) / p->maxval;
        if (p->bytes_per_sample == 1) {
            b[i] = (unsigned char)v;
        } else {
            b[2 * i] = (unsigned char)(v >> 8);
            b[2 * i + 1] = (unsigned char)v;
        }
    }
}

int main(void)
{
    struct storlet *s = storlet_start();
    FILE *in = storlet_input_file(s, 0);
    if (!in)
        storlet_fail(s, STORLET_EXIT_FAILED, "cannot open the input");
    const char *format = storlet_param_or(s, "format", "png");
    bool png = strcmp(format, "png") == 0;
    if (!png && strcmp(format, "pnm") != 0)
        storlet_fail(s, STORLET_EXIT_BAD_PARAM, "format=%s: png or pnm", format);
    uint64_t level = param(s, "level", 6);
    if (level > 9)
        storlet_fail(s, STORLET_EXIT_BAD_PARAM, "level=%llu: 0..9", (unsigned long long)level);

    struct storlet_pnm p;
    read_header(s, in, &p);
    uint64_t x = param(s, "x", 0), y = param(s, "y", 0);
    if (x >= p.width || y >= p.height)
        storlet_fail(s, STORLET_EXIT_BAD_PARAM, "region corner %llu,%llu is outside the %llux%llu image",
                     (unsigned long long)x, (unsigned long long)y, (unsigned long long)p.width,
                     (unsigned long long)p.height);
    uint64_t w = param(s, "width", p.width - x), h = param(s, "height", p.height - y);
    if (!w || !h || w > p.width - x || h > p.height - y)
        storlet_fail(s, STORLET_EXIT_BAD_PARAM,
                     "region %llux%llu at %llu,%llu does not fit the %llux%llu image",
                     (unsigned long long)w, (unsigned long long)h, (unsigned long long)x,
                     (unsigned long long)y, (unsigned long long)p.width, (unsigned long long)p.height);

    char v[128];
    snprintf(v, sizeof(v), "%llu,%llu,%llu,%llu", (unsigned long long)x, (unsigned long long)y,
             (unsigned long long)w, (unsigned long long)h);
    storlet_set_meta(s, "Roi", v);
    snprintf(v, sizeof(v), "%llux%llu", (unsigned long long)p.width, (unsigned long long)p.height);
    storlet_set_meta(s, "Source-Size", v);
    storlet_set_meta(s, "Source-Format", p.kind == 5 ? "P5" : "P6");
    storlet_set_content_type(s, png ? "image/png"
                                    : p.kind == 5 ? "image/x-portable-graymap"
                                                  : "image/x-portable-pixmap");

    size_t row = (size_t)(p.width * p.channels * p.bytes_per_sample);
    size_t off = (size_t)(x * p.channels * p.bytes_per_sample), len = (size_t)(w * p.channels * p.bytes_per_sample);
    unsigned char *buf = malloc(row + 1);
    if (!buf)
        storlet_fail(s, STORLET_EXIT_FAILED, "out of memory for a %zu-byte row", row);

    static struct png_out o;
    o.s = s;
    if (png) {
        put32(o.ihdr, (uint32_t)w);
        put32(o.ihdr + 4, (uint32_t)h);
        o.ihdr[8] = (unsigned char)(p.bytes_per_sample * 8);
        o.ihdr[9] = p.kind == 5 ? 0 : 2;   /* grey / RGB */
        o.ihdr[10] = o.ihdr[11] = o.ihdr[12] = 0;
        if (deflateInit(&o.z, (int)level) != Z_OK)
            storlet_fail(s, STORLET_EXIT_FAILED, "zlib init failed");
        o.z.next_out = o.zbuf;
        o.z.avail_out = IDAT_MAX;
    } else {
        char hdr[96];
        int n = snprintf(hdr, sizeof(hdr), "P%d\n%llu %llu\n%llu\n", p.kind,
                         (unsigned long long)w, (unsigned long long)h,
                         (unsigned long long)p.maxval);
        out_bytes(s, hdr, (size_t)n);
    }
    for (uint64_t r = 0; r < y + h; r++) {
        if (fread(buf + 1, 1, row, in) != row)
            storlet_fail(s, STORLET_EXIT_BAD_INPUT, "truncated image: row %llu of %llu is short",
                         (unsigned long long)r, (unsigned long long)p.height);
        if (r < y)
            continue;
        unsigned char *px = buf + 1 + off;
        if (png) {
            scale(px, (size_t)(w * p.channels), &p);
            px[-1] = 0;   /* filter type None, just before the row */
            png_feed(&o, px - 1, len + 1, Z_NO_FLUSH);
        } else {
            out_bytes(s, px, len);
        }
    }
    if (png) {
        png_feed(&o, NULL, 0, Z_FINISH);
        deflateEnd(&o.z);
    }
    free(buf);
    return storlet_finish(s);
}
