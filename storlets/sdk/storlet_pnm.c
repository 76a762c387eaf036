/*
 * storlet_pnm.c - the binary PGM/PPM header, for image storlets
 * (cellcount, image-roi). Netpbm's rules: "P5" or "P6", then width, height
 * and maxval as decimal numbers separated by whitespace and '#' comments
 * (to the end of the line), and exactly one whitespace byte before the
 * first sample. Reads from a stdio stream so the caller can go on with
 * fread() at the first sample. Single-threaded, as the SDK.
 */
#include "cairn_storlet.h"

#include <stdint.h>

#define PNM_NUMBER_MAX 1000000000u

static bool pnm_space(int c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

static int pnm_char(struct storlet *s, FILE *in)
{
    int c = getc(in);
    if (c == EOF)
        storlet_fail(s, STORLET_EXIT_BAD_INPUT, "not a PNM image: the header ends early");
    return c;
}

static uint64_t pnm_number(struct storlet *s, FILE *in, const char *what)
{
    int c = pnm_char(s, in);
    for (;;) {
        if (c == '#') {
            while (c != '\n' && c != '\r')
                c = pnm_char(s, in);
        } else if (pnm_space(c)) {
            c = pnm_char(s, in);
        } else {
            break;
        }
    }
    if (c < '0' || c > '9')
        storlet_fail(s, STORLET_EXIT_BAD_INPUT, "not a PNM image: the %s is not a number",
                     what);
    uint64_t v = 0;
    while (c >= '0' && c <= '9') {
        v = v * 10 + (uint64_t)(c - '0');
        if (v > PNM_NUMBER_MAX)
            storlet_fail(s, STORLET_EXIT_BAD_INPUT, "PNM %s too large", what);
        c = pnm_char(s, in);
    }
    /* One whitespace byte ends each number; after maxval it is the last
     * byte of the header. */
    if (!pnm_space(c))
        storlet_fail(s, STORLET_EXIT_BAD_INPUT, "not a PNM image: junk after the %s", what);
    return v;
}

void storlet_pnm_header(struct storlet *s, FILE *in, struct storlet_pnm *img)
{
    int a = pnm_char(s, in), b = pnm_char(s, in);
    if (a != 'P' || (b != '5' && b != '6'))
        storlet_fail(s, STORLET_EXIT_BAD_INPUT,
                     "not a binary PGM/PPM image (P5 or P6 expected)");
    img->kind = b - '0';
    img->channels = img->kind == 5 ? 1 : 3;
    img->width = pnm_number(s, in, "width");
    img->height = pnm_number(s, in, "height");
    img->maxval = pnm_number(s, in, "maxval");
    if (!img->width || !img->height)
        storlet_fail(s, STORLET_EXIT_BAD_INPUT, "PNM image of size %llux%llu",
                     (unsigned long long)img->width, (unsigned long long)img->height);
    if (!img->maxval || img->maxval > 65535)
        storlet_fail(s, STORLET_EXIT_BAD_INPUT, "PNM maxval %llu not in 1..65535",
                     (unsigned long long)img->maxval);
    img->bytes_per_sample = img->maxval > 255 ? 2 : 1;
}
