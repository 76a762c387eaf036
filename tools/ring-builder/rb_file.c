/*
 * rb_file.c - the builder file: JSON (Jansson), written atomically.
 *
 * Layout (docs/ring-builder.md has the full description):
 *   { "format": "cairn-ring-builder", "format_version": 1,
 *     "id", "version", "part_power", "replicas", "min_part_hours",
 *     "overload", "devs_changed", "dispersion", "last_part_moves_epoch",
 *     "last_part_gather_start",
 *     "devs": [ {id, region, zone, ip, port, replication_ip,
 *                replication_port, device, weight, meta, parts, removing}
 *               or null for a free id, ... ],
 *     "replica2part2dev": null or [ base64 of little-endian uint16 ids, ...],
 *     "last_part_moves": null or base64 of one byte per partition,
 *     "checksum": "md5:<hex>" }
 * The checksum line comes first and holds the MD5 of every other byte of
 * the file, so any change that is not made by this tool (an edit, a
 * truncation) is detected on load before the JSON is even parsed.
 * The metadata stays readable; the big tables are compact.
 */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/bug.h"
#include "common/md5.h"
#include "common/util.h"
#include "common/xalloc.h"
#include "tools/ring-builder/rb.h"

#define DUMP_FLAGS (JSON_INDENT(1) | JSON_SORT_KEYS | JSON_REAL_PRECISION(17))

static char *b64_encode(const void *data, size_t len)
{
    char *out = xmalloc(4 * ((len + 2) / 3) + 1);
    EVP_EncodeBlock((unsigned char *)out, data, (int)len);
    return out;
}

/* Decodes into a new buffer; returns its length or -1. */
static long b64_decode(const char *s, unsigned char **out)
{
    size_t n = strlen(s);
    if (n % 4)
        return -1;
    unsigned char *buf = xmalloc(n / 4 * 3 + 1);
    int len = EVP_DecodeBlock(buf, (const unsigned char *)s, (int)n);
    if (len < 0) {
        free(buf);
        return -1;
    }
    if (n >= 1 && s[n - 1] == '=')
        len--;
    if (n >= 2 && s[n - 2] == '=')
        len--;
    *out = buf;
    return len;
}

static void new_id(char out[33])
{
    unsigned char raw[16];
    if (getrandom(raw, sizeof(raw), 0) != (ssize_t)sizeof(raw)) {
        uint64_t t = now_mono_ns() ^ ((uint64_t)getpid() << 32);
        memcpy(raw, &t, 8);
        memcpy(raw + 8, &t, 8);
    }
    raw[6] = (raw[6] & 0x0f) | 0x40;   /* uuid4 shape, as Swift's ids */
    raw[8] = (raw[8] & 0x3f) | 0x80;
    hex_encode(raw, 16, out);
}

char *rb_serialize(struct rb_builder *b, size_t *len)
{
    if (!b->id[0])
        new_id(b->id);
    json_t *root = json_object();
    json_object_set_new(root, "format", json_string("cairn-ring-builder"));
    json_object_set_new(root, "format_version", json_integer(1));
    json_object_set_new(root, "id", json_string(b->id));
    json_object_set_new(root, "version", json_integer((json_int_t)b->version));
    json_object_set_new(root, "part_power", json_integer(b->part_power));
    json_object_set_new(root, "replicas", json_real(b->replicas));
    json_object_set_new(root, "min_part_hours", json_integer(b->min_part_hours));
    json_object_set_new(root, "overload", json_real(b->overload));
    json_object_set_new(root, "devs_changed", json_boolean(b->devs_changed));
    json_object_set_new(root, "dispersion", json_real(b->dispersion));
    json_object_set_new(root, "last_part_moves_epoch",
                        json_integer(b->last_part_moves_epoch));
    json_object_set_new(root, "last_part_gather_start",
                        json_integer(b->last_part_gather_start));
    json_t *devs = json_array();
    for (uint32_t i = 0; i < b->dev_cap; i++) {
        const struct rb_dev *d = &b->devs[i];
        if (!d->present) {
            json_array_append_new(devs, json_null());
            continue;
        }
        json_array_append_new(devs, json_pack(
            "{s:I, s:I, s:I, s:s, s:I, s:s, s:I, s:s, s:f, s:s, s:I, s:b}",
            "id", (json_int_t)d->id, "region", (json_int_t)d->region,
            "zone", (json_int_t)d->zone, "ip", d->ip,
            "port", (json_int_t)d->port,
            "replication_ip", d->replication_ip,
            "replication_port", (json_int_t)d->replication_port,
            "device", d->device, "weight", d->weight, "meta", d->meta,
            "parts", (json_int_t)d->parts, "removing", d->removing));
    }
    json_object_set_new(root, "devs", devs);
    if (b->r2p2d) {
        json_t *rows = json_array();
        for (uint32_t r = 0; r < b->rows; r++) {
            size_t n = b->row_len[r];
            unsigned char *le = xmalloc(n * 2 + 1);
            for (size_t p = 0; p < n; p++) {
                le[2 * p] = (unsigned char)(b->r2p2d[r][p] & 0xff);
                le[2 * p + 1] = (unsigned char)(b->r2p2d[r][p] >> 8);
            }
            char *s = b64_encode(le, n * 2);
            json_array_append_new(rows, json_string(s));
            free(s);
            free(le);
        }
        json_object_set_new(root, "replica2part2dev", rows);
    } else {
        json_object_set_new(root, "replica2part2dev", json_null());
    }
    if (b->last_part_moves) {
        char *s = b64_encode(b->last_part_moves, b->parts);
        json_object_set_new(root, "last_part_moves", json_string(s));
        free(s);
    } else {
        json_object_set_new(root, "last_part_moves", json_null());
    }
    /* The checksum line goes first (keys are sorted; "checksum" sorts
     * first) and covers the rest of the file, byte for byte. */
    char *body = json_dumps(root, DUMP_FLAGS);
    json_decref(root);
    BUG_ON(!body || strncmp(body, "{\n", 2) != 0);
    size_t blen = strlen(body);
    body = xrealloc(body, blen + 2);
    body[blen++] = '\n';
    body[blen] = '\0';
    char hex[MD5_HEX_LEN];
    struct md5 m;
    md5_init(&m);
    md5_update(&m, body, blen);
    md5_final_hex(&m, hex);
    char *text = xasprintf("{\n \"checksum\": \"md5:%s\",\n%s", hex,
                           body + 2);
    free(body);
    *len = strlen(text);
    return text;
}

int rb_save(struct rb_builder *b, const char *path, struct err *e)
{
    size_t len;
    char *text = rb_serialize(b, &len);
    int rc = file_write_atomic(path, text, len);
    free(text);
    if (rc)
        return err_set(e, rc, "%s: cannot write: %s", path, strerror(-rc));
    return 0;
}

/* ------------------------------------------------------------ load */

static int get_uint(json_t *o, const char *k, uint64_t max, uint64_t *out)
{
    json_t *v = json_object_get(o, k);
    if (!json_is_integer(v) || json_integer_value(v) < 0 ||
        (uint64_t)json_integer_value(v) > max)
        return -1;
    *out = (uint64_t)json_integer_value(v);
    return 0;
}

static int get_real(json_t *o, const char *k, double *out)
{
    json_t *v = json_object_get(o, k);
    if (!json_is_number(v))
        return -1;
    *out = json_number_value(v);
    return 0;
}

static int get_str(json_t *o, const char *k, char *out, size_t outsz)
{
    json_t *v = json_object_get(o, k);
    if (!json_is_string(v) || strlen(json_string_value(v)) >= outsz)
        return -1;
    str_copy(out, json_string_value(v), outsz);
    return 0;
}

static int load_dev(json_t *o, uint32_t idx, struct rb_dev *d)
{
    uint64_t v;
    if (!json_is_object(o))
        return -1;
    if (get_uint(o, "id", RING_MAX_DEVS - 1, &v) || v != idx)
        return -1;
    d->id = idx;
    if (get_uint(o, "region", UINT32_MAX, &v))
        return -1;
    d->region = (uint32_t)v;
    if (get_uint(o, "zone", UINT32_MAX, &v))
        return -1;
    d->zone = (uint32_t)v;
    if (get_uint(o, "port", 65535, &v))
        return -1;
    d->port = (uint32_t)v;
    if (get_uint(o, "replication_port", 65535, &v))
        return -1;
    d->replication_port = (uint32_t)v;
    if (get_uint(o, "parts", UINT32_MAX * 256ull, &v))
        return -1;
    d->parts = (int64_t)v;
    if (get_str(o, "ip", d->ip, sizeof(d->ip)) ||
        get_str(o, "replication_ip", d->replication_ip,
                sizeof(d->replication_ip)) ||
        get_str(o, "device", d->device, sizeof(d->device)) ||
        get_str(o, "meta", d->meta, sizeof(d->meta)) ||
        get_real(o, "weight", &d->weight) || !(d->weight >= 0))
        return -1;
    json_t *rm = json_object_get(o, "removing");
    if (!json_is_boolean(rm))
        return -1;
    d->removing = json_is_true(rm);
    d->present = true;
    return 0;
}

static int parse_builder(json_t *root, struct rb_builder *b, const char **why)
{
    uint64_t v;
    json_t *fmt = json_object_get(root, "format");
    *why = "not a cairn-ring-builder file";
    if (!json_is_string(fmt) ||
        strcmp(json_string_value(fmt), "cairn-ring-builder") != 0)
        return -1;
    *why = "unsupported format_version";
    if (get_uint(root, "format_version", 1, &v) || v != 1)
        return -1;
    *why = "bad header field";
    if (get_str(root, "id", b->id, sizeof(b->id)) ||
        get_uint(root, "version", INT64_MAX, &b->version) ||
        get_uint(root, "part_power", 31, &v) || v < 1)
        return -1;
    b->part_power = (uint32_t)v;
    b->parts = (uint32_t)1 << b->part_power;
    if (get_real(root, "replicas", &b->replicas) || !(b->replicas >= 1) ||
        b->replicas > 65535 ||
        get_uint(root, "min_part_hours", UINT32_MAX, &v))
        return -1;
    b->min_part_hours = (uint32_t)v;
    if (get_real(root, "overload", &b->overload) || !(b->overload >= 0) ||
        get_real(root, "dispersion", &b->dispersion) ||
        get_uint(root, "last_part_gather_start", b->parts - 1, &v))
        return -1;
    b->last_part_gather_start = (uint32_t)v;
    json_t *epoch = json_object_get(root, "last_part_moves_epoch");
    json_t *dc = json_object_get(root, "devs_changed");
    if (!json_is_integer(epoch) || !json_is_boolean(dc))
        return -1;
    b->last_part_moves_epoch = json_integer_value(epoch);
    b->devs_changed = json_is_true(dc);

    *why = "bad device list";
    json_t *devs = json_object_get(root, "devs");
    if (!json_is_array(devs) || json_array_size(devs) > RING_MAX_DEVS)
        return -1;
    b->dev_cap = (uint32_t)json_array_size(devs);
    b->devs = xcalloc(b->dev_cap ? b->dev_cap : 1, sizeof(*b->devs));
    for (uint32_t i = 0; i < b->dev_cap; i++) {
        json_t *d = json_array_get(devs, i);
        if (!json_is_null(d) && load_dev(d, i, &b->devs[i]))
            return -1;
    }

    *why = "bad replica2part2dev table";
    json_t *rows = json_object_get(root, "replica2part2dev");
    json_t *lpm = json_object_get(root, "last_part_moves");
    if (json_is_array(rows)) {
        b->rows = (uint32_t)json_array_size(rows);
        if (b->rows > 65535)
            return -1;
        b->r2p2d = xcalloc(b->rows ? b->rows : 1, sizeof(*b->r2p2d));
        b->row_len = xcalloc(b->rows ? b->rows : 1, sizeof(*b->row_len));
        int64_t *count = xcalloc(b->dev_cap + 1, sizeof(*count));
        int bad = 0;
        for (uint32_t r = 0; r < b->rows && !bad; r++) {
            json_t *s = json_array_get(rows, r);
            unsigned char *raw = NULL;
            long len = json_is_string(s) ? b64_decode(json_string_value(s), &raw)
                                         : -1;
            if (len < 0 || len % 2 || (uint64_t)len / 2 > b->parts) {
                free(raw);
                bad = 1;
                break;
            }
            b->row_len[r] = (uint32_t)(len / 2);
            b->r2p2d[r] = xmalloc((size_t)len + 1);
            for (long p = 0; p < len / 2; p++) {
                uint16_t id = (uint16_t)(raw[2 * p] | (raw[2 * p + 1] << 8));
                b->r2p2d[r][p] = id;
                if (id == RB_NONE_DEV)
                    continue;
                if (id >= b->dev_cap || !b->devs[id].present) {
                    bad = 1;
                    break;
                }
                count[id]++;
            }
            free(raw);
        }
        for (uint32_t i = 0; i < b->dev_cap && !bad; i++)
            if (b->devs[i].present && b->devs[i].parts != count[i])
                bad = 1;
        free(count);
        if (bad)
            return -1;
    } else if (!json_is_null(rows)) {
        return -1;
    } else {
        for (uint32_t i = 0; i < b->dev_cap; i++)
            if (b->devs[i].parts)
                return -1;
    }
    *why = "bad last_part_moves";
    if (json_is_string(lpm)) {
        unsigned char *raw = NULL;
        long len = b64_decode(json_string_value(lpm), &raw);
        if (len != (long)b->parts) {
            free(raw);
            return -1;
        }
        b->last_part_moves = raw;
    } else if (!json_is_null(lpm)) {
        return -1;
    }
    return 0;
}

/* The file's checksum line: the second line, exactly this shape. */
#define SUM_PREFIX " \"checksum\": \"md5:"
#define SUM_LINE_LEN (sizeof(SUM_PREFIX) - 1 + 32 + 3)   /* hex + "",\n" */

static int check_sum(const char *text, size_t len)
{
    if (len < 2 + SUM_LINE_LEN || strncmp(text, "{\n", 2) != 0 ||
        strncmp(text + 2, SUM_PREFIX, sizeof(SUM_PREFIX) - 1) != 0)
        return -1;
    const char *hex = text + 2 + sizeof(SUM_PREFIX) - 1;
    if (strncmp(hex + 32, "\",\n", 3) != 0)
        return -1;
    char got[MD5_HEX_LEN];
    struct md5 m;
    md5_init(&m);
    md5_update(&m, "{\n", 2);
    md5_update(&m, text + 2 + SUM_LINE_LEN, len - 2 - SUM_LINE_LEN);
    md5_final_hex(&m, got);
    return strncmp(got, hex, 32) == 0 ? 0 : -1;
}

int rb_load(const char *path, struct rb_builder **out, struct err *e)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        int err = errno;
        if (err == ENOENT)
            return err_set(e, -ENOENT,
                           "Ring Builder file does not exist: %s", path);
        if (err == EACCES || err == EPERM)
            return err_set(e, -EACCES,
                           "Ring Builder file cannot be accessed: %s", path);
        return err_set(e, -err, "%s: %s", path, strerror(err));
    }
    struct stat st;
    char *text = NULL;
    size_t len = 0;
    if (fstat(fileno(f), &st) == 0 && S_ISREG(st.st_mode)) {
        len = (size_t)st.st_size;
        text = xmalloc(len + 1);
        if (fread(text, 1, len, f) != len) {
            free(text);
            text = NULL;
        }
    }
    fclose(f);
    if (!text)
        return err_set(e, -EINVAL, "Ring Builder file is invalid: %s "
                       "(cannot read it)", path);
    text[len] = '\0';
    const char *why = "checksum mismatch";
    int rc = -1;
    struct rb_builder *b = xcalloc(1, sizeof(*b));
    if (check_sum(text, len) == 0) {
        json_error_t je;
        json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
        why = "not a JSON object";
        if (json_is_object(root))
            rc = parse_builder(root, b, &why);
        json_decref(root);
    }
    free(text);
    if (rc) {
        rb_free(b);
        return err_set(e, -EINVAL, "Ring Builder file is invalid: %s (%s)",
                       path, why);
    }
    *out = b;
    return 0;
}
