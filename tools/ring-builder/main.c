/*
 * main.c - cairn-ring-builder: the command line of swift-ring-builder 2.30
 * over Cairn's builder file and ring file.
 *
 *   cairn-ring-builder <builder_file> [command] [args]
 *
 * Commands, arguments, device syntax, output and exit codes (0 ok, 1
 * completed with a warning, 2 error) follow swift-ring-builder so that
 * operators' scripts keep working; docs/ring-builder.md lists the few
 * differences (errors go to stderr as one line; the ring file is
 * <name>.ring). A command that fails leaves the builder file untouched:
 * the builder is saved, atomically, only at the end of a successful
 * command. create, rebalance and write_ring also keep timestamped copies
 * in backups/ beside the builder.
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <regex.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/bug.h"
#include "common/util.h"
#include "common/xalloc.h"
#include "ring/ring.h"
#include "tools/ring-builder/rb.h"

enum { EXIT_OK = 0, EXIT_WARN = 1, EXIT_ERR = 2 };

static const char *g_builder_file;
static const char *g_ring_file;
static char *g_backup_dir;

__attribute__((format(printf, 1, 2)))
static int fail(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    return EXIT_ERR;
}

/* ------------------------------------------------------------ options */

enum opt_key {
    K_ID, K_REGION, K_ZONE, K_IP, K_PORT, K_RIP, K_RPORT, K_DEVICE, K_WEIGHT,
    K_META, K_CIP, K_CPORT, K_CRIP, K_CRPORT, K_CDEVICE, K_CMETA, K_YES,
    K_COUNT
};
enum opt_type { T_INT, T_STR, T_FLOAT, T_FLAG };

static const struct optdef {
    const char *lng;
    char shrt;
    enum opt_type type;
} OPTDEFS[K_COUNT] = {
    [K_ID] = {"id", 'u', T_INT},
    [K_REGION] = {"region", 'r', T_INT},
    [K_ZONE] = {"zone", 'z', T_INT},
    [K_IP] = {"ip", 'i', T_STR},
    [K_PORT] = {"port", 'p', T_INT},
    [K_RIP] = {"replication-ip", 'j', T_STR},
    [K_RPORT] = {"replication-port", 'q', T_INT},
    [K_DEVICE] = {"device", 'd', T_STR},
    [K_WEIGHT] = {"weight", 'w', T_FLOAT},
    [K_META] = {"meta", 'm', T_STR},
    [K_CIP] = {"change-ip", 'I', T_STR},
    [K_CPORT] = {"change-port", 'P', T_INT},
    [K_CRIP] = {"change-replication-ip", 'J', T_STR},
    [K_CRPORT] = {"change-replication-port", 'Q', T_INT},
    [K_CDEVICE] = {"change-device", 'D', T_STR},
    [K_CMETA] = {"change-meta", 'M', T_STR},
    [K_YES] = {"yes", 'y', T_FLAG},
};

struct opts {
    bool has[K_COUNT];
    const char *str[K_COUNT];
    uint64_t num[K_COUNT];
    double real[K_COUNT];
    const char **args;
    int nargs;
};

static bool looks_numeric(const char *s)
{
    return s[0] == '-' && (s[1] == '.' || (s[1] >= '0' && s[1] <= '9'));
}

static int set_opt(struct opts *o, int k, const char *val)
{
    const struct optdef *d = &OPTDEFS[k];
    o->has[k] = true;
    switch (d->type) {
    case T_FLAG:
        return 0;
    case T_STR:
        o->str[k] = val;
        return 0;
    case T_INT:
        if (parse_u64(val, &o->num[k]) || o->num[k] > UINT32_MAX)
            return fail("option --%s: invalid integer value: '%s'", d->lng,
                        val);
        return 0;
    case T_FLOAT:
        if (parse_double(val, &o->real[k]))
            return fail("option --%s: invalid floating-point value: '%s'",
                        d->lng, val);
        return 0;
    }
    return 0;
}

/* optparse-like: long options (unique prefixes, --x=v), short options
 * (-r 1, -r1), "--" ends options; numbers like -1 are arguments. */
static int parse_opts(int argc, const char **argv, struct opts *o)
{
    memset(o, 0, sizeof(*o));
    o->args = xcalloc((size_t)argc + 1, sizeof(*o->args));
    bool only_args = false;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        if (only_args || a[0] != '-' || a[1] == '\0' || looks_numeric(a)) {
            o->args[o->nargs++] = a;
            continue;
        }
        if (strcmp(a, "--") == 0) {
            only_args = true;
            continue;
        }
        int k = -1;
        const char *val = NULL;
        if (a[1] == '-') {
            const char *name = a + 2;
            const char *eq = strchr(name, '=');
            size_t n = eq ? (size_t)(eq - name) : strlen(name);
            int matches = 0;
            for (int j = 0; j < K_COUNT; j++) {
                if (strncmp(OPTDEFS[j].lng, name, n) != 0)
                    continue;
                if (strlen(OPTDEFS[j].lng) == n) {
                    k = j;
                    matches = 1;
                    break;
                }
                k = j;
                matches++;
            }
            if (matches != 1)
                return fail("%s option: --%.*s", matches ? "ambiguous" : "no such",
                            (int)n, name);
            if (eq)
                val = eq + 1;
        } else {
            for (int j = 0; j < K_COUNT; j++)
                if (OPTDEFS[j].shrt == a[1])
                    k = j;
            if (k < 0)
                return fail("no such option: -%c", a[1]);
            if (a[2])
                val = a + 2;
        }
        if (OPTDEFS[k].type == T_FLAG) {
            if (val)
                return fail("--%s option does not take a value", OPTDEFS[k].lng);
        } else if (!val) {
            if (i + 1 >= argc)
                return fail("--%s option requires an argument", OPTDEFS[k].lng);
            val = argv[++i];
        }
        int rc = set_opt(o, k, val);
        if (rc)
            return rc;
    }
    return 0;
}

/* Swift's "new command format": any device option given. */
static bool new_format(const struct opts *o)
{
    return o->has[K_ID] || o->has[K_REGION] || o->has[K_ZONE] ||
           (o->has[K_IP] && o->str[K_IP][0]) ||
           (o->has[K_PORT] && o->num[K_PORT]) ||
           (o->has[K_RIP] && o->str[K_RIP][0]) ||
           (o->has[K_RPORT] && o->num[K_RPORT]) ||
           (o->has[K_DEVICE] && o->str[K_DEVICE][0]) || o->has[K_WEIGHT] ||
           (o->has[K_META] && o->str[K_META][0]);
}

static int search_from_opts(const struct opts *o, struct rb_search *s)
{
    memset(s, 0, sizeof(*s));
    /* as Swift: an option given as 0 or "" does not restrict */
    if (o->has[K_ID] && o->num[K_ID]) {
        s->has_id = true;
        s->id = (uint32_t)o->num[K_ID];
    }
    if (o->has[K_REGION] && o->num[K_REGION]) {
        s->has_region = true;
        s->region = (uint32_t)o->num[K_REGION];
    }
    if (o->has[K_ZONE] && o->num[K_ZONE]) {
        s->has_zone = true;
        s->zone = (uint32_t)o->num[K_ZONE];
    }
    if (o->has[K_PORT] && o->num[K_PORT]) {
        s->has_port = true;
        s->port = (uint32_t)o->num[K_PORT];
    }
    if (o->has[K_RPORT] && o->num[K_RPORT]) {
        s->has_rport = true;
        s->rport = (uint32_t)o->num[K_RPORT];
    }
    if (o->has[K_IP] && o->str[K_IP][0]) {
        if (rb_normalize_address(o->str[K_IP], s->ip, sizeof(s->ip)))
            return fail("Invalid address %s", o->str[K_IP]);
        s->has_ip = true;
    }
    if (o->has[K_RIP] && o->str[K_RIP][0]) {
        if (rb_normalize_address(o->str[K_RIP], s->rip, sizeof(s->rip)))
            return fail("Invalid address %s", o->str[K_RIP]);
        s->has_rip = true;
    }
    if (o->has[K_DEVICE] && o->str[K_DEVICE][0]) {
        str_copy(s->device, o->str[K_DEVICE], sizeof(s->device));
        s->has_device = true;
    }
    if (o->has[K_META] && o->str[K_META][0]) {
        str_copy(s->meta, o->str[K_META], sizeof(s->meta));
        s->has_meta = true;
    }
    if (o->has[K_WEIGHT] && o->real[K_WEIGHT] != 0) {
        s->weight = o->real[K_WEIGHT];
        s->has_weight = true;
    }
    return 0;
}

/* ------------------------------------------------------------ helpers */

static const char SEARCH_HELP[] =
    "The <search-value> can be of the form:\n"
    "    d<device_id>r<region>z<zone>-<ip>:<port>R<r_ip>:<r_port>/\n"
    "     <device_name>_<meta>\n"
    "    Any part is optional, but you must include at least one part.\n"
    "    Examples: d74  r4  z1  z1-1.2.3.4  1.2.3.4  z1:5678  :5678\n"
    "              R5.6.7.8  R:5678  /sdb1  _shiny  [::1]  z1-[::1]:5678";

static int usage(const char *text)
{
    fprintf(stderr, "%s\n", text);
    return EXIT_ERR;
}

static char *backup_path(const char *file, time_t ts)
{
    const char *base = strrchr(file, '/');
    base = base ? base + 1 : file;
    return xasprintf("%s/%lld.%s", g_backup_dir, (long long)ts, base);
}

/*
 * A backup copy: written in place without fsync, as Swift writes its
 * backups; the builder and ring themselves are written atomically and
 * durably. Returns 0 or prints the reason and returns EXIT_ERR.
 */
static int write_backup(const char *path, const void *data, size_t len)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return fail("%s: %s", path, strerror(errno));
    const char *p = data;
    while (len > 0) {
        ssize_t n = write(fd, p, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            int err = errno;
            close(fd);
            return fail("%s: %s", path, strerror(err));
        }
        p += n;
        len -= (size_t)n;
    }
    if (close(fd) != 0)
        return fail("%s: %s", path, strerror(errno));
    return 0;
}

static int backup_builder(struct rb_builder *b, time_t ts)
{
    size_t len;
    char *text = rb_serialize(b, &len);
    char *path = backup_path(g_builder_file, ts);
    int rc = write_backup(path, text, len);
    free(path);
    free(text);
    return rc;
}

/* Copies the ring file just written into backups/. */
static int backup_ring(time_t ts)
{
    FILE *f = fopen(g_ring_file, "rb");
    if (!f)
        return fail("%s: %s", g_ring_file, strerror(errno));
    size_t cap = 1 << 16, len = 0;
    char *buf = xmalloc(cap);
    size_t n;
    while ((n = fread(buf + len, 1, cap - len, f)) > 0) {
        len += n;
        if (len == cap)
            buf = xrealloc(buf, cap *= 2);
    }
    int rc = ferror(f) ? fail("%s: read error", g_ring_file) : 0;
    fclose(f);
    char *path = backup_path(g_ring_file, ts);
    if (!rc)
        rc = write_backup(path, buf, len);
    free(path);
    free(buf);
    return rc;
}

static int save_builder(struct rb_builder *b, const char *path)
{
    struct err e;
    err_clear(&e);
    if (rb_save(b, path, &e))
        return fail("%s", e.msg);
    return 0;
}

static int write_ring(const struct rb_builder *b, const char *path)
{
    struct ring_layout l;
    struct err e;
    err_clear(&e);
    rb_layout(b, &l);
    int rc = ring_write_file(path, &l, &e);
    rb_layout_release(&l);
    if (rc)
        return fail("%s", e.msg);
    return 0;
}

/* Asks when a search matched several devices (Swift's check_devs). */
static int check_devs(const struct rb_builder *b, const uint32_t *ids,
                      size_t n, const struct opts *o, const char *action,
                      const char *abort_msg)
{
    if (n == 0)
        return fail("Search value matched 0 devices. "
                    "The on-disk ring builder is unchanged.");
    if (n > 1) {
        printf("Matched more than one device:\n");
        for (size_t i = 0; i < n; i++) {
            char s[600];
            rb_format_dev(&b->devs[ids[i]], s, sizeof(s));
            printf("    %s\n", s);
        }
        if (!o->has[K_YES]) {
            printf("Are you sure you want to %s these %zu devices? (y/N) ",
                   action, n);
            fflush(stdout);
            char line[16] = "";
            if (!fgets(line, sizeof(line), stdin) || strcmp(line, "y\n") != 0)
                return fail("%s", abort_msg);
        }
    }
    return 0;
}

static bool is_ipv6(const char *ip)
{
    return strchr(ip, ':') != NULL;
}

/* ------------------------------------------------------------ commands */

static int cmd_create(int argc, const char **argv)
{
    static const char use[] =
        "cairn-ring-builder <builder_file> create <part_power> <replicas> "
        "<min_part_hours>\n"
        "    Creates <builder_file> with 2^<part_power> partitions and "
        "<replicas>.\n"
        "    <min_part_hours> is number of hours to restrict moving a "
        "partition more\n    than once.";
    if (argc < 6)
        return usage(use);
    uint64_t pp, mph;
    double replicas;
    if (parse_u64(argv[3], &pp))
        return fail("invalid part_power '%s': not a whole number", argv[3]);
    if (pp < 1 || pp > RING_MAX_PART_POWER)
        return fail("part_power must be 1..%d (was %s)", RING_MAX_PART_POWER,
                    argv[3]);
    if (parse_double(argv[4], &replicas))
        return fail("invalid replicas '%s': not a number", argv[4]);
    if (parse_u64(argv[5], &mph) || mph > UINT32_MAX)
        return fail("min_part_hours must be a non-negative whole number "
                    "(was %s)", argv[5]);
    struct rb_builder *b;
    struct err e;
    err_clear(&e);
    if (rb_new((uint32_t)pp, replicas, (uint32_t)mph, &b, &e))
        return fail("%s", e.msg);
    int rc = mkdir(g_backup_dir, 0755);
    if (rc && errno != EEXIST) {
        rb_free(b);
        return fail("%s: %s", g_backup_dir, strerror(errno));
    }
    rc = backup_builder(b, time(NULL));
    if (!rc)
        rc = save_builder(b, g_builder_file);
    rb_free(b);
    return rc ? EXIT_ERR : EXIT_OK;
}

static const struct rb_builder *g_cmp_b;

static int cmp_display(const void *x, const void *y)
{
    const struct rb_dev *a = &g_cmp_b->devs[*(const uint32_t *)x];
    const struct rb_dev *c = &g_cmp_b->devs[*(const uint32_t *)y];
    int r = ring_tier_cmp(a->region, a->zone, a->ip, c->region, c->zone, c->ip);
    if (r)
        return r;
    return strcmp(a->device, c->device);
}

/* "up-to-date" when the ring file holds exactly what the builder would
 * write: devices, version, part power and every assignment. */
static int ring_file_state(const struct rb_builder *b, char *why, size_t whysz)
{
    struct stat st;
    if (stat(g_ring_file, &st) != 0)
        return 0;
    struct err e;
    err_clear(&e);
    struct ring *r = ring_load(g_ring_file, &e);
    if (!r) {
        snprintf(why, whysz, "%s", e.msg);
        return 3;
    }
    bool same = ring_part_power(r) == b->part_power &&
                ring_version(r) == b->version &&
                ring_replica_count(r) == (b->r2p2d ? b->rows : 0);
    uint32_t lim = ring_dev_id_limit(r);
    uint32_t top = lim > b->dev_cap ? lim : b->dev_cap;
    for (uint32_t i = 0; i < top && same; i++) {
        const struct ring_dev *rd = ring_dev_by_id(r, i);
        const struct rb_dev *d = i < b->dev_cap ? &b->devs[i] : NULL;
        bool present = d && d->present;
        if (!rd || !present) {
            same = !rd && !present;
            continue;
        }
        same = rd->region == d->region && rd->zone == d->zone &&
               strcmp(rd->ip, d->ip) == 0 && rd->port == d->port &&
               strcmp(rd->replication_ip, d->replication_ip) == 0 &&
               rd->replication_port == d->replication_port &&
               strcmp(rd->device, d->device) == 0 &&
               rd->weight == d->weight && strcmp(rd->meta, d->meta) == 0;
    }
    if (same && b->r2p2d) {
        const struct ring_dev *got[64];
        for (uint32_t p = 0; p < b->parts && same; p++) {
            size_t n = ring_primaries(r, p, got, ARRAY_SIZE(got));
            size_t k = 0;
            for (uint32_t row = 0; row < b->rows && same; row++) {
                if (p >= b->row_len[row])
                    continue;
                same = k < n && got[k]->id == b->r2p2d[row][p];
                k++;
            }
            same = same && k == n;
        }
    }
    ring_free(r);
    return same ? 1 : 2;
}

static int cmd_default(struct rb_builder *b)
{
    printf("%s, build version %llu, id %s\n", g_builder_file,
           (unsigned long long)b->version, b->id[0] ? b->id : "(not assigned)");
    double balance = 0;
    bool empty = rb_balance(b, &balance) != 0;
    printf("%u partitions, %.6f replicas, %u regions, %u zones, %u devices, "
           "%.02f balance, %.02f dispersion\n", b->parts, b->replicas,
           rb_region_count(b), rb_zone_count(b), rb_dev_count(b), balance,
           b->dispersion);
    char td[64];
    rb_timedelta(rb_min_part_seconds_left(b), td, sizeof(td));
    printf("The minimum number of hours before a partition can be reassigned "
           "is %u (%s remaining)\n", b->min_part_hours, td);
    printf("The overload factor is %0.2f%% (%.6f)\n", b->overload * 100,
           b->overload);
    char why[ERR_MSG_MAX];
    switch (ring_file_state(b, why, sizeof(why))) {
    case 0:
        printf("Ring file %s not found, probably it hasn't been written yet\n",
               g_ring_file);
        break;
    case 1:
        printf("Ring file %s is up-to-date\n", g_ring_file);
        break;
    case 2:
        printf("Ring file %s is obsolete\n", g_ring_file);
        break;
    default:
        printf("Ring file %s is invalid: %s\n", g_ring_file, why);
        break;
    }
    double *bal = xcalloc(b->dev_cap + 1, sizeof(*bal));
    if (!empty)
        rb_balance_per_dev(b, bal);
    int ipw = 10, pw = 4, ripw = 14, rpw = 4, ww = 6;
    bool v6 = false, rv6 = false;
    uint32_t *ids = xmalloc((b->dev_cap + 1) * sizeof(*ids));
    uint32_t n = 0;
    for (uint32_t i = 0; i < b->dev_cap; i++) {
        const struct rb_dev *d = &b->devs[i];
        if (!d->present)
            continue;
        ids[n++] = i;
        char tmp[64];
        v6 |= is_ipv6(d->ip);
        rv6 |= is_ipv6(d->replication_ip);
        if ((int)strlen(d->ip) > ipw)
            ipw = (int)strlen(d->ip);
        if ((int)strlen(d->replication_ip) > ripw)
            ripw = (int)strlen(d->replication_ip);
        int l = snprintf(tmp, sizeof(tmp), "%u", d->port);
        if (l > pw)
            pw = l;
        l = snprintf(tmp, sizeof(tmp), "%u", d->replication_port);
        if (l > rpw)
            rpw = l;
        l = snprintf(tmp, sizeof(tmp), "%6.02f", d->weight);
        if (l > ww)
            ww = l;
    }
    ipw += v6 ? 2 : 0;
    ripw += rv6 ? 2 : 0;
    printf("Devices:%5s %6s %4s %*s:%-*s %*s:%-*s %5s %*s %10s %7s %5s %s\n",
           "id", "region", "zone", ipw, "ip address", pw, "port", ripw,
           "replication ip", rpw, "port", "name", ww, "weight", "partitions",
           "balance", "flags", "meta");
    g_cmp_b = b;
    qsort(ids, n, sizeof(*ids), cmp_display);
    for (uint32_t k = 0; k < n; k++) {
        const struct rb_dev *d = &b->devs[ids[k]];
        char ip[80], rip[80], parts[32];
        snprintf(ip, sizeof(ip), is_ipv6(d->ip) ? "[%s]" : "%s", d->ip);
        snprintf(rip, sizeof(rip), is_ipv6(d->replication_ip) ? "[%s]" : "%s",
                 d->replication_ip);
        snprintf(parts, sizeof(parts), "%lld", (long long)d->parts);
        printf("%13u %6u %4u %*s:%-*u %*s:%-*u %5s %*.02f %10s %7.02f %5s %s\n",
               d->id, d->region, d->zone, ipw, ip, pw, d->port, ripw, rip, rpw,
               d->replication_port, d->device, ww, d->weight, parts,
               bal[d->id], d->removing ? "DEL" : "", d->meta);
    }
    if (empty)
        printf("There are no devices in this ring, or all devices have been "
               "deleted\n");
    free(ids);
    free(bal);
    return EXIT_OK;
}

static const char SEARCH_USE[] =
    "cairn-ring-builder <builder_file> search <search-value>\n"
    "or\n"
    "cairn-ring-builder <builder_file> search\n"
    "    --region <region> --zone <zone> --ip <ip or hostname> --port <port>\n"
    "    --replication-ip <r_ip or r_hostname> --replication-port <r_port>\n"
    "    --device <device_name> --meta <meta> --weight <weight>\n"
    "    Shows information about matching devices.";

/* One search value or the options form (not both), as Swift's search. */
static int parse_one_search(int argc, const char **argv, struct opts *o,
                            struct rb_search *s)
{
    int rc = parse_opts(argc, argv, o);
    if (rc)
        return rc;
    if (o->nargs > 0) {
        if (new_format(o) || o->nargs != 1)
            return usage(SEARCH_USE);
        struct err e;
        err_clear(&e);
        if (rb_parse_search_value(o->args[0], s, &e))
            return fail("%s", e.msg);
        return 0;
    }
    return search_from_opts(o, s);
}

static int cmd_search(struct rb_builder *b, int argc, const char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "%s\n\n%s\n", SEARCH_USE, SEARCH_HELP);
        return EXIT_ERR;
    }
    struct opts o;
    struct rb_search s;
    int rc = parse_one_search(argc - 3, argv + 3, &o, &s);
    free(o.args);
    if (rc)
        return rc;
    uint32_t *ids = xmalloc((b->dev_cap + 1) * sizeof(*ids));
    size_t n = rb_search(b, &s, ids);
    if (!n) {
        free(ids);
        return fail("No matching devices found");
    }
    printf("Devices:    id  region  zone      ip address  port  replication ip"
           "  replication port      name weight partitions balance meta\n");
    double tw = 0;
    for (uint32_t i = 0; i < b->dev_cap; i++)
        if (b->devs[i].present)
            tw += b->devs[i].weight;
    double wp = tw > 0 ? b->parts * b->replicas / tw : 0;
    for (size_t k = 0; k < n; k++) {
        const struct rb_dev *d = &b->devs[ids[k]];
        double bal;
        if (d->weight == 0)
            bal = d->parts ? RB_MAX_BALANCE : 0;
        else
            bal = 100.0 * (double)d->parts / (d->weight * wp) - 100.0;
        char parts[32];
        snprintf(parts, sizeof(parts), "%lld", (long long)d->parts);
        printf("         %5u %7u %5u %15s %5u %15s %17u %9s %6.02f %10s "
               "%7.02f %s\n", d->id, d->region, d->zone, d->ip, d->port,
               d->replication_ip, d->replication_port, d->device, d->weight,
               parts, bal, d->meta);
    }
    free(ids);
    return EXIT_OK;
}

/* Devices matched by several search values or by the options form. */
static int collect_devs(struct rb_builder *b, struct opts *o, const char *use,
                        bool *sel, size_t *nsel)
{
    struct err e;
    err_clear(&e);
    *nsel = 0;
    uint32_t *ids = xmalloc((b->dev_cap + 1) * sizeof(*ids));
    int rc = 0;
    if (o->nargs > 0) {
        if (new_format(o)) {
            free(ids);
            return usage(use);
        }
        for (int i = 0; i < o->nargs && !rc; i++) {
            struct rb_search s;
            if (rb_parse_search_value(o->args[i], &s, &e)) {
                rc = fail("%s", e.msg);
                break;
            }
            size_t n = rb_search(b, &s, ids);
            for (size_t k = 0; k < n; k++)
                sel[ids[k]] = true;
        }
    } else {
        struct rb_search s;
        rc = search_from_opts(o, &s);
        if (!rc) {
            size_t n = rb_search(b, &s, ids);
            for (size_t k = 0; k < n; k++)
                sel[ids[k]] = true;
        }
    }
    for (uint32_t i = 0; i < b->dev_cap; i++)
        *nsel += sel[i];
    free(ids);
    return rc;
}

struct part_count {
    uint32_t part;
    uint32_t count;
    uint64_t first;           /* row * parts + part of the first match */
};

static int cmp_part_count(const void *x, const void *y)
{
    const struct part_count *a = x, *c = y;
    if (a->count != c->count)
        return a->count > c->count ? -1 : 1;
    return a->first < c->first ? -1 : a->first > c->first;
}

static int cmd_list_parts(struct rb_builder *b, int argc, const char **argv)
{
    static const char use[] =
        "cairn-ring-builder <builder_file> list_parts <search-value> "
        "[<search-value>] ..\n"
        "or\n"
        "cairn-ring-builder <builder_file> list_parts\n"
        "    --region <region> --zone <zone> --ip <ip or hostname> --port "
        "<port>\n"
        "    --replication-ip <r_ip or r_hostname> --replication-port "
        "<r_port>\n"
        "    --device <device_name> --meta <meta> --weight <weight>\n"
        "    Lists the partitions assigned to the matching devices, most "
        "matches first.";
    if (argc < 4) {
        fprintf(stderr, "%s\n\n%s\n", use, SEARCH_HELP);
        return EXIT_ERR;
    }
    if (!b->r2p2d)
        return fail("Specified builder file \"%s\" is not rebalanced yet. "
                    "Please rebalance first.", g_builder_file);
    struct opts o;
    int rc = parse_opts(argc - 3, argv + 3, &o);
    bool *sel = xcalloc(b->dev_cap + 1, sizeof(*sel));
    size_t nsel = 0;
    if (!rc)
        rc = collect_devs(b, &o, use, sel, &nsel);
    free(o.args);
    if (rc) {
        free(sel);
        return rc;
    }
    if (!nsel) {
        free(sel);
        return fail("No matching devices found");
    }
    struct part_count *pc = xcalloc(b->parts, sizeof(*pc));
    for (uint32_t p = 0; p < b->parts; p++)
        pc[p].part = p;
    for (uint32_t r = 0; r < b->rows; r++)
        for (uint32_t p = 0; p < b->row_len[r]; p++) {
            uint16_t id = b->r2p2d[r][p];
            if (id < b->dev_cap && sel[id]) {
                if (!pc[p].count)
                    pc[p].first = (uint64_t)r * b->parts + p;
                pc[p].count++;
            }
        }
    qsort(pc, b->parts, sizeof(*pc), cmp_part_count);
    if (!pc[0].count) {
        free(pc);
        free(sel);
        return fail("No matching devices found");
    }
    printf("Partition   Matches\n");
    for (uint32_t i = 0; i < b->parts && pc[i].count; i++)
        printf("%9u   %7u\n", pc[i].part, pc[i].count);
    free(pc);
    free(sel);
    return EXIT_OK;
}

static int cmd_add(struct rb_builder *b, int argc, const char **argv)
{
    static const char use[] =
        "cairn-ring-builder <builder_file> add\n"
        "    [r<region>]z<zone>-<ip>:<port>[R<r_ip>:<r_port>]/<device_name>_"
        "<meta>\n     <weight>\n"
        "    [[r<region>]z<zone>-<ip>:<port>[R<r_ip>:<r_port>]/<device_name>_"
        "<meta>\n     <weight>] ...\n"
        "or\n"
        "cairn-ring-builder <builder_file> add\n"
        "    --region <region> --zone <zone> --ip <ip or hostname> --port "
        "<port>\n"
        "    [--replication-ip <r_ip or r_hostname>] [--replication-port "
        "<r_port>]\n"
        "    --device <device_name> --weight <weight>\n"
        "    [--meta <meta>]";
    if (argc < 5)
        return usage(use);
    struct opts o;
    int rc = parse_opts(argc - 3, argv + 3, &o);
    if (rc) {
        free(o.args);
        return rc;
    }
    struct err e;
    err_clear(&e);
    if (o.nargs > 0) {
        if (new_format(&o) || o.nargs % 2) {
            free(o.args);
            return usage(use);
        }
        for (int i = 0; i < o.nargs && !rc; i += 2) {
            struct rb_dev d;
            bool has_region;
            double w;
            if (rb_parse_add_value(o.args[i], &d, &has_region, &e)) {
                rc = fail("%s", e.msg);
                break;
            }
            if (!has_region) {
                fprintf(stderr, "WARNING: No region specified for %s. "
                        "Defaulting to region 1.\n", o.args[i]);
                d.region = 1;
            }
            if (parse_double(o.args[i + 1], &w)) {
                rc = fail("Invalid weight value: '%s' for %s", o.args[i + 1],
                          o.args[i]);
                break;
            }
            if (w < 0) {
                rc = fail("Invalid weight value: %s (negative weight for %s)",
                          o.args[i + 1], o.args[i]);
                break;
            }
            d.weight = w;
            int id = rb_add_dev(b, &d, &e);
            if (id < 0) {
                rc = fail("%s The on-disk ring builder is unchanged.", e.msg);
                break;
            }
            char s[600], ws[40];
            rb_format_dev(&b->devs[id], s, sizeof(s));
            rb_py_float(w, ws, sizeof(ws));
            printf("Device %s with %s weight got id %d\n", s, ws, id);
        }
    } else {
        static const struct {
            int k;
            const char *name;
        } req[] = {{K_REGION, "-r/--region"}, {K_ZONE, "-z/--zone"},
                   {K_IP, "-i/--ip"}, {K_PORT, "-p/--port"},
                   {K_DEVICE, "-d/--device"}, {K_WEIGHT, "-w/--weight"}};
        for (size_t i = 0; i < ARRAY_SIZE(req) && !rc; i++)
            if (!o.has[req[i].k])
                rc = fail("Required argument %s not specified. "
                          "The on-disk ring builder is unchanged.", req[i].name);
        struct rb_dev d;
        memset(&d, 0, sizeof(d));
        if (!rc) {
            d.region = (uint32_t)o.num[K_REGION];
            d.zone = (uint32_t)o.num[K_ZONE];
            if (rb_normalize_address(o.str[K_IP], d.ip, sizeof(d.ip)))
                rc = fail("Invalid address %s", o.str[K_IP]);
        }
        if (!rc) {
            const char *rip = o.has[K_RIP] && o.str[K_RIP][0] ? o.str[K_RIP]
                                                              : o.str[K_IP];
            if (rb_normalize_address(rip, d.replication_ip,
                                     sizeof(d.replication_ip)))
                rc = fail("Invalid address %s", rip);
        }
        if (!rc && (o.num[K_PORT] > 65535 ||
                    (o.has[K_RPORT] && o.num[K_RPORT] > 65535)))
            rc = fail("Invalid port: ports are 0..65535");
        if (!rc) {
            d.port = (uint32_t)o.num[K_PORT];
            d.replication_port = o.has[K_RPORT] && o.num[K_RPORT]
                                     ? (uint32_t)o.num[K_RPORT] : d.port;
            const char *dev = o.str[K_DEVICE];
            size_t n = strlen(dev);
            if (n == 0 || dev[0] == ' ' || dev[n - 1] == ' ' ||
                n >= sizeof(d.device))
                rc = fail("Invalid device name '%s'", dev);
            else
                str_copy(d.device, dev, sizeof(d.device));
        }
        if (!rc && o.has[K_META] &&
            str_copy(d.meta, o.str[K_META], sizeof(d.meta)) >= sizeof(d.meta))
            rc = fail("meta longer than %zu bytes", sizeof(d.meta) - 1);
        if (!rc && o.real[K_WEIGHT] < 0)
            rc = fail("Invalid weight value: %g (negative weight)",
                      o.real[K_WEIGHT]);
        if (!rc) {
            d.weight = o.real[K_WEIGHT];
            int id = rb_add_dev(b, &d, &e);
            if (id < 0) {
                rc = fail("%s The on-disk ring builder is unchanged.", e.msg);
            } else {
                char s[600], ws[40];
                rb_format_dev(&b->devs[id], s, sizeof(s));
                rb_py_float(d.weight, ws, sizeof(ws));
                printf("Device %s with %s weight got id %d\n", s, ws, id);
            }
        }
    }
    free(o.args);
    if (rc)
        return rc;
    return save_builder(b, g_builder_file) ? EXIT_ERR : EXIT_OK;
}

/* set_weight / set_region / set_zone share their shape. */
enum set_what { SET_WEIGHT, SET_REGION, SET_ZONE };

static int apply_set(struct rb_builder *b, const uint32_t *ids, size_t n,
                     const struct opts *o, enum set_what what,
                     const char *value)
{
    static const char *names[] = {"weight", "region", "zone"};
    double w = 0;
    uint64_t v = 0;
    if (what == SET_WEIGHT) {
        if (parse_double(value, &w))
            return fail("Invalid weight value: '%s'", value);
        if (w < 0)
            return fail("Invalid weight value: %s (negative weight)", value);
    } else if (parse_u64(value, &v) || v > UINT32_MAX) {
        return fail("Invalid %s value: '%s'", names[what], value);
    }
    char action[64];
    snprintf(action, sizeof(action), "update the %s for", names[what]);
    int rc = check_devs(b, ids, n, o, action, "Aborting device modifications");
    if (rc)
        return rc;
    for (size_t i = 0; i < n; i++) {
        struct err e;
        err_clear(&e);
        struct rb_dev *d = &b->devs[ids[i]];
        if (what == SET_WEIGHT)
            rc = rb_set_weight(b, d->id, w, &e);
        else if (what == SET_REGION)
            rc = rb_set_region(b, d->id, (uint32_t)v, &e);
        else
            rc = rb_set_zone(b, d->id, (uint32_t)v, &e);
        if (rc)
            return fail("%s", e.msg);
        char s[600], vs[40];
        rb_format_dev(d, s, sizeof(s));
        if (what == SET_WEIGHT)
            rb_py_float(w, vs, sizeof(vs));
        else
            snprintf(vs, sizeof(vs), "%llu", (unsigned long long)v);
        printf("%s %s set to %s\n", s, names[what], vs);
    }
    return 0;
}

static int cmd_set(struct rb_builder *b, int argc, const char **argv,
                   enum set_what what)
{
    static const char *uses[] = {
        "cairn-ring-builder <builder_file> set_weight <search-value> "
        "<new_weight>\n    [<search-value> <new_weight>] ...\n    [--yes]\n"
        "or\n"
        "cairn-ring-builder <builder_file> set_weight\n"
        "    --region <region> --zone <zone> --ip <ip or hostname> --port "
        "<port>\n"
        "    --replication-ip <r_ip or r_hostname> --replication-port "
        "<r_port>\n"
        "    --device <device_name> --meta <meta> --weight <weight> "
        "<new_weight>\n    [--yes]",
        "cairn-ring-builder <builder_file> set_region <search-value> "
        "<region>\n    [<search-value> <region>] ...\n"
        "or\n"
        "cairn-ring-builder <builder_file> set_region\n"
        "    --region <region> --zone <zone> --ip <ip or hostname> --port "
        "<port>\n    --device <device_name> --meta <meta> <new region> "
        "[--yes]",
        "cairn-ring-builder <builder_file> set_zone <search-value> <zone>\n"
        "    [<search-value> <zone>] ...\n"
        "or\n"
        "cairn-ring-builder <builder_file> set_zone\n"
        "    --region <region> --zone <zone> --ip <ip or hostname> --port "
        "<port>\n    --device <device_name> --meta <meta> <new zone> [--yes]",
    };
    if (argc < 5) {
        fprintf(stderr, "%s\n\n%s\n", uses[what], SEARCH_HELP);
        return EXIT_ERR;
    }
    struct opts o;
    int rc = parse_opts(argc - 3, argv + 3, &o);
    uint32_t *ids = xmalloc((b->dev_cap + 1) * sizeof(*ids));
    struct err e;
    err_clear(&e);
    if (rc) {
        /* reported */
    } else if (!new_format(&o)) {
        if (o.nargs % 2 || o.nargs == 0)
            rc = usage(uses[what]);
        for (int i = 0; i + 1 < o.nargs && !rc; i += 2) {
            struct rb_search s;
            if (rb_parse_search_value(o.args[i], &s, &e)) {
                rc = fail("%s", e.msg);
                break;
            }
            size_t n = rb_search(b, &s, ids);
            rc = apply_set(b, ids, n, &o, what, o.args[i + 1]);
        }
    } else {
        if (o.nargs != 1) {
            rc = usage(uses[what]);
        } else {
            struct rb_search s;
            rc = search_from_opts(&o, &s);
            if (!rc) {
                size_t n = rb_search(b, &s, ids);
                rc = apply_set(b, ids, n, &o, what, o.args[0]);
            }
        }
    }
    free(ids);
    free(o.args);
    if (rc)
        return rc;
    return save_builder(b, g_builder_file) ? EXIT_ERR : EXIT_OK;
}

struct change {
    bool ip, port, rip, rport, device, meta;
    char ipv[64], ripv[64], devicev[64], metav[256];
    uint32_t portv, rportv;
};

/* "<ip>:<port>" fragment of a set_info change value. */
static int change_addr(const char **s, char *ip, bool *has_ip, uint32_t *port,
                       bool *has_port)
{
    const char *p = *s;
    char buf[128];
    if (rb_scan_ip(&p, buf, sizeof(buf))) {
        if (rb_normalize_ip(buf, ip, 64))
            return -EINVAL;
        *has_ip = true;
    }
    if (*p == ':') {
        p++;
        uint64_t v = 0;
        const char *start = p;
        while (*p >= '0' && *p <= '9')
            v = v * 10 + (uint64_t)(*p++ - '0');
        if (p == start || v > 65535)
            return -EINVAL;
        *port = (uint32_t)v;
        *has_port = true;
    }
    *s = p;
    return 0;
}

static int parse_change(const char *s, struct change *c)
{
    memset(c, 0, sizeof(*c));
    const char *p = s;
    if (change_addr(&p, c->ipv, &c->ip, &c->portv, &c->port))
        return -EINVAL;
    if (*p == 'R') {
        p++;
        if (change_addr(&p, c->ripv, &c->rip, &c->rportv, &c->rport))
            return -EINVAL;
    }
    if (*p == '/') {
        p++;
        const char *end = strchr(p, '_');
        size_t n = end ? (size_t)(end - p) : strlen(p);
        if (n == 0 || n >= sizeof(c->devicev))
            return -EINVAL;
        memcpy(c->devicev, p, n);
        c->devicev[n] = '\0';
        c->device = true;
        p += n;
    }
    if (*p == '_') {
        if (str_copy(c->metav, p + 1, sizeof(c->metav)) >= sizeof(c->metav))
            return -EINVAL;
        c->meta = true;
        p += strlen(p);
    }
    if (*p || !(c->ip || c->port || c->rip || c->rport || c->device || c->meta))
        return -EINVAL;
    return 0;
}

static int apply_change(struct rb_builder *b, const uint32_t *ids, size_t n,
                        const struct opts *o, const struct change *c)
{
    int rc = check_devs(b, ids, n, o, "update the info for",
                        "Aborting device modifications");
    if (rc)
        return rc;
    for (size_t i = 0; i < n; i++) {
        struct rb_dev *d = &b->devs[ids[i]];
        struct rb_dev t = *d;
        if (c->ip)
            str_copy(t.ip, c->ipv, sizeof(t.ip));
        if (c->port)
            t.port = c->portv;
        if (c->rip)
            str_copy(t.replication_ip, c->ripv, sizeof(t.replication_ip));
        if (c->rport)
            t.replication_port = c->rportv;
        if (c->device)
            str_copy(t.device, c->devicev, sizeof(t.device));
        if (c->meta)
            str_copy(t.meta, c->metav, sizeof(t.meta));
        for (uint32_t j = 0; j < b->dev_cap; j++) {
            const struct rb_dev *x = &b->devs[j];
            if (!x->present || x->id == t.id)
                continue;
            if (strcmp(x->ip, t.ip) == 0 && x->port == t.port &&
                strcmp(x->device, t.device) == 0)
                return fail("Device %u already uses %s:%u/%s.", x->id, x->ip,
                            x->port, x->device);
        }
        char before[600], after[600];
        rb_format_dev(d, before, sizeof(before));
        *d = t;
        rb_format_dev(d, after, sizeof(after));
        printf("Device %s is now %s\n", before, after);
        b->version++;
    }
    return 0;
}

static int cmd_set_info(struct rb_builder *b, int argc, const char **argv)
{
    static const char use[] =
        "cairn-ring-builder <builder_file> set_info\n"
        "    <search-value> <ip>:<port>[R<r_ip>:<r_port>]/<device_name>_"
        "<meta>\n"
        "    [<search-value> <ip>:<port>[R<r_ip>:<r_port>]/<device_name>_"
        "<meta>] ...\n    [--yes]\n"
        "or\n"
        "cairn-ring-builder <builder_file> set_info\n"
        "    --ip <ip or hostname> --port <port>\n"
        "    --replication-ip <r_ip or r_hostname> --replication-port "
        "<r_port>\n"
        "    --device <device_name> --meta <meta>\n"
        "    --change-ip <ip or hostname> --change-port <port>\n"
        "    --change-replication-ip <r_ip or r_hostname>\n"
        "    --change-replication-port <r_port>\n"
        "    --change-device <device_name>\n"
        "    --change-meta <meta>\n    [--yes]";
    if (argc < 5) {
        fprintf(stderr, "%s\n\n%s\n", use, SEARCH_HELP);
        return EXIT_ERR;
    }
    struct opts o;
    int rc = parse_opts(argc - 3, argv + 3, &o);
    uint32_t *ids = xmalloc((b->dev_cap + 1) * sizeof(*ids));
    struct err e;
    err_clear(&e);
    if (rc) {
        /* reported */
    } else if (!new_format(&o)) {
        if (o.nargs % 2 || o.nargs == 0)
            rc = usage(use);
        for (int i = 0; i + 1 < o.nargs && !rc; i += 2) {
            struct rb_search s;
            struct change c;
            if (rb_parse_search_value(o.args[i], &s, &e)) {
                rc = fail("%s", e.msg);
                break;
            }
            if (parse_change(o.args[i + 1], &c)) {
                rc = fail("Invalid set info change value: '%s'", o.args[i + 1]);
                break;
            }
            size_t n = rb_search(b, &s, ids);
            rc = apply_change(b, ids, n, &o, &c);
        }
    } else {
        struct rb_search s;
        struct change c;
        memset(&c, 0, sizeof(c));
        rc = search_from_opts(&o, &s);
        if (!rc && o.has[K_CIP] && o.str[K_CIP][0]) {
            if (rb_normalize_address(o.str[K_CIP], c.ipv, sizeof(c.ipv)))
                rc = fail("Invalid address %s", o.str[K_CIP]);
            c.ip = true;
        }
        if (!rc && o.has[K_CRIP] && o.str[K_CRIP][0]) {
            if (rb_normalize_address(o.str[K_CRIP], c.ripv, sizeof(c.ripv)))
                rc = fail("Invalid address %s", o.str[K_CRIP]);
            c.rip = true;
        }
        if (!rc && ((o.has[K_CPORT] && o.num[K_CPORT] > 65535) ||
                    (o.has[K_CRPORT] && o.num[K_CRPORT] > 65535)))
            rc = fail("Invalid port: ports are 0..65535");
        if (!rc && o.has[K_CPORT] && o.num[K_CPORT]) {
            c.port = true;
            c.portv = (uint32_t)o.num[K_CPORT];
        }
        if (!rc && o.has[K_CRPORT] && o.num[K_CRPORT]) {
            c.rport = true;
            c.rportv = (uint32_t)o.num[K_CRPORT];
        }
        if (!rc && o.has[K_CDEVICE] && o.str[K_CDEVICE][0]) {
            if (str_copy(c.devicev, o.str[K_CDEVICE], sizeof(c.devicev)) >=
                sizeof(c.devicev))
                rc = fail("Invalid device name '%s'", o.str[K_CDEVICE]);
            c.device = true;
        }
        if (!rc && o.has[K_CMETA] && o.str[K_CMETA][0]) {
            if (str_copy(c.metav, o.str[K_CMETA], sizeof(c.metav)) >=
                sizeof(c.metav))
                rc = fail("meta longer than %zu bytes", sizeof(c.metav) - 1);
            c.meta = true;
        }
        if (!rc) {
            size_t n = rb_search(b, &s, ids);
            rc = apply_change(b, ids, n, &o, &c);
        }
    }
    free(ids);
    free(o.args);
    if (rc)
        return rc;
    return save_builder(b, g_builder_file) ? EXIT_ERR : EXIT_OK;
}

static int cmd_remove(struct rb_builder *b, int argc, const char **argv)
{
    static const char use[] =
        "cairn-ring-builder <builder_file> remove <search-value> "
        "[search-value ...]\n    [--yes]\n"
        "or\n"
        "cairn-ring-builder <builder_file> remove\n"
        "    --region <region> --zone <zone> --ip <ip or hostname> --port "
        "<port>\n"
        "    --replication-ip <r_ip or r_hostname> --replication-port "
        "<r_port>\n"
        "    --device <device_name> --meta <meta> --weight <weight>\n"
        "    [--yes]";
    if (argc < 4) {
        fprintf(stderr, "%s\n\n%s\n", use, SEARCH_HELP);
        return EXIT_ERR;
    }
    struct opts o;
    int rc = parse_opts(argc - 3, argv + 3, &o);
    bool *sel = xcalloc(b->dev_cap + 1, sizeof(*sel));
    size_t n = 0;
    if (!rc)
        rc = collect_devs(b, &o, use, sel, &n);
    uint32_t *ids = xmalloc((b->dev_cap + 1) * sizeof(*ids));
    size_t k = 0;
    for (uint32_t i = 0; i < b->dev_cap; i++)
        if (sel[i])
            ids[k++] = i;
    if (!rc)
        rc = check_devs(b, ids, n, &o, "remove", "Aborting device removals");
    for (size_t i = 0; i < k && !rc; i++) {
        char s[600];
        rb_remove_dev(b, ids[i]);
        rb_format_dev(&b->devs[ids[i]], s, sizeof(s));
        printf("%s marked for removal and will be removed next rebalance.\n", s);
    }
    free(ids);
    free(sel);
    free(o.args);
    if (rc)
        return rc;
    return save_builder(b, g_builder_file) ? EXIT_ERR : EXIT_OK;
}

static void print_rule(void)
{
    printf("-------------------------------------------------------------------"
           "------------\n");
}

static uint64_t seed_of(const char *s)
{
    uint64_t v;
    if (parse_u64(s, &v) == 0)
        return v;
    uint64_t h = 0xcbf29ce484222325ull;     /* FNV-1a of any other string */
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 0x100000001b3ull;
    return h;
}

static int rebalance_error(const char *msg)
{
    fprintf(stderr, "Rebalance failed: %s\n", msg);
    return EXIT_ERR;
}

static int cmd_rebalance(struct rb_builder *b, int argc, const char **argv)
{
    bool force = false;
    const char *seed_s = NULL, *pos_seed = NULL;
    for (int i = 3; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "-f") || !strcmp(a, "--force")) {
            force = true;
        } else if (!strcmp(a, "-d") || !strcmp(a, "--debug")) {
            /* accepted for compatibility; there is no debug log */
        } else if (!strcmp(a, "-s") || !strcmp(a, "--seed")) {
            if (i + 1 >= argc)
                return fail("%s option requires an argument", a);
            seed_s = argv[++i];
        } else if (str_has_prefix(a, "--seed=")) {
            seed_s = a + 7;
        } else if (str_has_prefix(a, "-s") && a[2]) {
            seed_s = a + 2;
        } else if (a[0] == '-' && a[1]) {
            return fail("no such option: %s", a);
        } else if (!pos_seed) {
            pos_seed = a;
        }
    }
    if (!seed_s)
        seed_s = pos_seed;
    uint64_t seed;
    if (seed_s) {
        seed = seed_of(seed_s);
    } else if (getrandom(&seed, sizeof(seed), 0) != (ssize_t)sizeof(seed)) {
        seed = now_mono_ns() ^ (uint64_t)getpid();
    }
    bool devs_changed = b->devs_changed;
    int64_t left_before = rb_min_part_seconds_left(b);
    double last_balance;
    if (rb_balance(b, &last_balance))
        return rebalance_error("There are no devices in this ring, or all "
                               "devices have been deleted");
    double last_dispersion = b->dispersion;
    struct rb_rebalance_result res;
    struct err e;
    err_clear(&e);
    if (rb_rebalance(b, seed, &res, &e))
        return rebalance_error(e.msg);
    if (!(res.changed_parts || force || res.removed_devs)) {
        printf("No partitions could be reassigned.\n");
        if (left_before > 0) {
            char td[64];
            rb_timedelta(rb_min_part_seconds_left(b), td, sizeof(td));
            printf("The time between rebalances must be at least "
                   "min_part_hours: %u hours (%s remaining)\n",
                   b->min_part_hours, td);
        } else {
            printf("There is no need to do so at this time\n");
        }
        return EXIT_WARN;
    }
    if (!force && !devs_changed) {
        bool balance_changed = fabs(last_balance - res.balance) >= 1 ||
                               (last_balance == RB_MAX_BALANCE &&
                                res.balance == RB_MAX_BALANCE);
        bool dispersion_changed = fabs(last_dispersion - b->dispersion) >= 1;
        if (!balance_changed && !dispersion_changed) {
            printf("Cowardly refusing to save rebalance as it did not change "
                   "at least 1%%.\n");
            return EXIT_WARN;
        }
    }
    if (rb_validate(b, &e))
        return rebalance_error(e.msg);
    printf("Reassigned %llu (%.02f%%) partitions. Balance is now %.02f.  "
           "Dispersion is now %.02f\n", (unsigned long long)res.changed_parts,
           100.0 * (double)res.changed_parts / b->parts, res.balance,
           b->dispersion);
    int status = EXIT_OK;
    if (b->dispersion > 0) {
        print_rule();
        printf("NOTE: Dispersion of %.06f indicates some parts are not\n"
               "      optimally dispersed.\n\n"
               "      You may want to adjust some device weights, increase\n"
               "      the overload or review the dispersion report.\n",
               b->dispersion);
        status = EXIT_WARN;
        print_rule();
    } else if (res.balance > 5 && res.balance / 100.0 > b->overload) {
        print_rule();
        printf("NOTE: Balance of %.02f indicates you should push this \n",
               res.balance);
        printf("      ring, wait at least %u hours, and rebalance/repush.\n",
               b->min_part_hours);
        print_rule();
        status = EXIT_WARN;
    }
    fflush(stdout);
    time_t ts = time(NULL);
    int rc = write_ring(b, g_ring_file);
    if (!rc)
        rc = save_builder(b, g_builder_file);
    if (!rc)
        rc = backup_ring(ts);
    if (!rc)
        rc = backup_builder(b, ts);
    return rc ? EXIT_ERR : status;
}

/* Python-flavoured regex to POSIX ERE for the common escapes. */
static char *py_regex(const char *s)
{
    size_t n = strlen(s);
    char *out = xmalloc(n * 12 + 2);
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '\\' && i + 1 < n) {
            const char *rep = NULL;
            switch (s[i + 1]) {
            case 'd': rep = "[0-9]"; break;
            case 'D': rep = "[^0-9]"; break;
            case 'w': rep = "[[:alnum:]_]"; break;
            case 'W': rep = "[^[:alnum:]_]"; break;
            case 's': rep = "[[:space:]]"; break;
            case 'S': rep = "[^[:space:]]"; break;
            default: break;
            }
            if (rep) {
                memcpy(out + k, rep, strlen(rep));
                k += strlen(rep);
                i++;
                continue;
            }
        }
        out[k++] = s[i];
    }
    out[k] = '\0';
    return out;
}

static int cmd_dispersion(struct rb_builder *b, int argc, const char **argv)
{
    if (!b->r2p2d)
        return fail("Specified builder file \"%s\" is not rebalanced yet. "
                    "Please rebalance first.", g_builder_file);
    bool verbose = false, recalc = false;
    const char *filter = NULL;
    for (int i = 3; i < argc; i++) {
        if (!strcmp(argv[i], "-v") || !strcmp(argv[i], "--verbose"))
            verbose = true;
        else if (!strcmp(argv[i], "--recalculate"))
            recalc = true;
        else if (argv[i][0] == '-' && argv[i][1])
            return fail("no such option: %s", argv[i]);
        else if (!filter)
            filter = argv[i];
    }
    regex_t re;
    if (filter) {
        char *pat = py_regex(filter);
        int rc = regcomp(&re, pat, REG_EXTENDED | REG_NOSUB);
        free(pat);
        if (rc)
            return fail("invalid search filter regex: %s", filter);
    }
    struct err e;
    err_clear(&e);
    struct rb_disp_report rep;
    if (rb_dispersion_report(b, &rep, &e)) {
        if (filter)
            regfree(&re);
        return fail("%s", e.msg);
    }
    if (recalc) {
        rb_update_dispersion(b);
        b->version++;
        if (save_builder(b, g_builder_file)) {
            rb_disp_report_release(&rep);
            if (filter)
                regfree(&re);
            return EXIT_ERR;
        }
    }
    double worst = 0;
    const char *worst_name = NULL;
    bool *show = xcalloc(rep.n + 1, sizeof(*show));
    for (size_t i = 0; i < rep.n; i++) {
        if (filter) {
            /* Python's re.match: anchored at the start only */
            regmatch_t m;
            regex_t re2;
            char *pat = py_regex(filter);
            char *anch = xasprintf("^(%s)", pat);
            int ok = regcomp(&re2, anch, REG_EXTENDED) == 0 &&
                     regexec(&re2, rep.rows[i].name, 1, &m, 0) == 0;
            regfree(&re2);
            free(anch);
            free(pat);
            if (!ok)
                continue;
        }
        if (rep.rows[i].dispersion > worst) {
            worst = rep.rows[i].dispersion;
            worst_name = rep.rows[i].name;
        }
        show[i] = verbose;
    }
    double bal = 0, req = 0;
    rb_balance(b, &bal);
    rb_required_overload(b, &req, &e);
    printf("Dispersion is %.06f, Balance is %.06f, Overload is %0.2f%%\n",
           b->dispersion, bal, b->overload * 100);
    printf("Required overload is %.6f%%\n", req * 100);
    int status = EXIT_OK;
    if (worst_name) {
        status = EXIT_WARN;
        printf("Worst tier is %.06f (%s)\n", worst, worst_name);
    }
    bool any = false;
    size_t tw = 30;
    for (size_t i = 0; i < rep.n; i++)
        if (show[i]) {
            any = true;
            if (strlen(rep.rows[i].name) > tw)
                tw = strlen(rep.rows[i].name);
        }
    if (any) {
        char num[32];
        int pcw = snprintf(num, sizeof(num), "%u", b->parts);
        if (pcw < 5)
            pcw = 5;
        char header[1024];
        int hl = snprintf(header, sizeof(header), "%-*s %*s %6s %6s", (int)tw,
                          "Tier", pcw, "Parts", "%", "Max");
        for (uint32_t c = 0; c < rep.ncounts && hl < (int)sizeof(header) - 40;
             c++)
            hl += snprintf(header + hl, sizeof(header) - (size_t)hl, " %*u",
                           pcw, c);
        for (int i = 0; i < hl; i++)
            putchar('-');
        printf("\n%s\n", header);
        for (int i = 0; i < hl; i++)
            putchar('-');
        putchar('\n');
        for (size_t i = 0; i < rep.n; i++) {
            if (!show[i])
                continue;
            const struct rb_disp_row *r = &rep.rows[i];
            printf("%-*s %*llu %6.02f %6u", (int)tw, r->name, pcw,
                   (unsigned long long)r->placed_parts, r->dispersion,
                   r->max_replicas);
            for (uint32_t c = 0; c < rep.ncounts; c++)
                printf(" %*llu", pcw, (unsigned long long)r->replicas[c]);
            putchar('\n');
        }
    }
    free(show);
    rb_disp_report_release(&rep);
    if (filter)
        regfree(&re);
    return status;
}

static int cmd_write_ring(struct rb_builder *b)
{
    if (b->dev_cap == 0)
        return fail("Unable to write empty ring.");
    /* Swift writes an empty ring here; Cairn's ring format needs at least
     * one replica row, so say what to do instead. */
    if (!b->r2p2d)
        return fail("Unable to write a ring with no partition assignments; "
                    "did you forget to run \"rebalance\"?");
    int rc = write_ring(b, g_ring_file);
    if (!rc)
        rc = backup_ring(time(NULL));
    return rc ? EXIT_ERR : EXIT_OK;
}

static int cmd_validate(struct rb_builder *b)
{
    struct err e;
    err_clear(&e);
    if (rb_validate(b, &e))
        return fail("%s", e.msg);
    return EXIT_OK;
}

static int cmd_pretend(struct rb_builder *b)
{
    rb_pretend_min_part_hours_passed(b);
    return save_builder(b, g_builder_file) ? EXIT_ERR : EXIT_OK;
}

static int cmd_set_min_part_hours(struct rb_builder *b, int argc,
                                  const char **argv)
{
    uint64_t h;
    if (argc < 4)
        return usage("cairn-ring-builder <builder_file> set_min_part_hours "
                     "<hours>\n    Changes the <min_part_hours> to the given "
                     "<hours>.");
    if (parse_u64(argv[3], &h) || h > UINT32_MAX)
        return fail("min_part_hours must be a non-negative whole number "
                    "(was %s)", argv[3]);
    b->min_part_hours = (uint32_t)h;
    printf("The minimum number of hours before a partition can be reassigned "
           "is now set to %s\n", argv[3]);
    return save_builder(b, g_builder_file) ? EXIT_ERR : EXIT_OK;
}

static int cmd_set_replicas(struct rb_builder *b, int argc, const char **argv)
{
    static const char use[] =
        "cairn-ring-builder <builder_file> set_replicas <replicas>\n"
        "    Changes the replica count to the given <replicas>. <replicas> may\n"
        "    be a floating-point value. A rebalance is needed to make the\n"
        "    change take effect.";
    double r;
    if (argc < 4)
        return usage(use);
    if (parse_double(argv[3], &r))
        return fail("\"%s\" is not a valid number.", argv[3]);
    if (r < 1)
        return fail("Replica count must be at least 1.");
    if (r > 65535)
        return fail("Replica count must be at most 65535.");
    rb_set_replicas(b, r);
    printf("The replica count is now %.6f.\n", b->replicas);
    printf("The change will take effect after the next rebalance.\n");
    return save_builder(b, g_builder_file) ? EXIT_ERR : EXIT_OK;
}

static int cmd_set_overload(struct rb_builder *b, int argc, const char **argv)
{
    if (argc < 4)
        return usage("cairn-ring-builder <builder_file> set_overload "
                     "<overload>[%]\n    Changes the overload factor to the "
                     "given <overload>.\n    A rebalance is needed to make the "
                     "change take effect.");
    char buf[64];
    if (str_copy(buf, argv[3], sizeof(buf)) >= sizeof(buf))
        return fail("'%s' is not a valid number.", argv[3]);
    size_t n = strlen(buf);
    bool percent = false;
    while (n && buf[n - 1] == '%') {
        buf[--n] = '\0';
        percent = true;
    }
    double v;
    if (parse_double(buf, &v))
        return fail("'%s' is not a valid number.", buf);
    if (percent)
        v *= 0.01;
    if (v < 0)
        return fail("Overload must be non-negative.");
    int status = EXIT_OK;
    if (v > 1 && !percent) {
        printf("!?! Warning overload is greater than 100%% !?!\n");
        status = EXIT_WARN;
    }
    b->overload = v;
    printf("The overload factor is now %0.2f%% (%.6f)\n", b->overload * 100,
           b->overload);
    printf("The change will take effect after the next rebalance.\n");
    return save_builder(b, g_builder_file) ? EXIT_ERR : status;
}

static void print_help(void)
{
    printf("cairn-ring-builder (swift-ring-builder 1.3 compatible)\n\n"
           "cairn-ring-builder <builder_file>\n"
           "    Shows information about the ring and the devices within.\n\n"
           "cairn-ring-builder <builder_file> <command> [args]\n\n"
           "Commands:\n"
           "    create <part_power> <replicas> <min_part_hours>\n"
           "    add [r<region>]z<zone>-<ip>:<port>[R<r_ip>:<r_port>]/<device>"
           "_<meta> <weight> ...\n"
           "    add --region R --zone Z --ip IP --port P [--replication-ip "
           "RIP]\n"
           "        [--replication-port RP] --device D --weight W [--meta M]\n"
           "    search <search-value> | search --region ... --weight ...\n"
           "    list_parts <search-value> [<search-value>] ...\n"
           "    set_weight <search-value> <weight> ... [--yes]\n"
           "    set_region <search-value> <region> ... [--yes]\n"
           "    set_zone <search-value> <zone> ... [--yes]\n"
           "    set_info <search-value> <ip>:<port>[R<r_ip>:<r_port>]/"
           "<device>_<meta> [--yes]\n"
           "    remove <search-value> [<search-value> ...] [--yes]\n"
           "    rebalance [-f|--force] [-s|--seed <seed>]\n"
           "    dispersion [<regex>] [-v|--verbose] [--recalculate]\n"
           "    validate\n"
           "    write_ring\n"
           "    pretend_min_part_hours_passed\n"
           "    set_min_part_hours <hours>\n"
           "    set_replicas <replicas>\n"
           "    set_overload <overload>[%%]\n\n"
           "%s\n\n"
           "The ring file is <name>.ring beside <name>.builder.\n"
           "Exit codes: 0 = operation successful\n"
           "            1 = operation completed with warnings\n"
           "            2 = error\n", SEARCH_HELP);
}

/* object.builder -> object.ring; object.ring or object.ring.gz given as
 * the first argument name the builder object.builder. */
static void file_names(const char *arg, char **builder, char **ring)
{
    size_t n = strlen(arg);
    if (str_has_suffix(arg, ".ring.gz")) {
        *builder = xasprintf("%.*s.builder", (int)(n - 8), arg);
        *ring = xasprintf("%.*s.ring", (int)(n - 8), arg);
    } else if (str_has_suffix(arg, ".ring")) {
        *builder = xasprintf("%.*s.builder", (int)(n - 5), arg);
        *ring = xstrdup(arg);
    } else if (str_has_suffix(arg, ".builder")) {
        *builder = xstrdup(arg);
        *ring = xasprintf("%.*s.ring", (int)(n - 8), arg);
    } else {
        *builder = xstrdup(arg);
        *ring = xasprintf("%s.ring", arg);
    }
}

static int run(int argc, const char **argv)
{
    if (argc < 2) {
        print_help();
        return EXIT_OK;
    }
    char *builder_file, *ring_file;
    file_names(argv[1], &builder_file, &ring_file);
    g_builder_file = builder_file;
    g_ring_file = ring_file;
    if (strcmp(builder_file, argv[1]) != 0)
        printf("Note: using %s instead of %s as builder file\n", builder_file,
               argv[1]);
    const char *slash = strrchr(builder_file, '/');
    g_backup_dir = slash ? xasprintf("%.*s/backups", (int)(slash - builder_file),
                                     builder_file)
                         : xstrdup("backups");
    const char *cmd = argc > 2 ? argv[2] : "default";
    struct rb_builder *b = NULL;
    struct err e;
    err_clear(&e);
    int rc = rb_load(builder_file, &b, &e);
    if (rc == -ENOENT && strcmp(cmd, "create") == 0) {
        rc = cmd_create(argc, argv);
        goto out;
    }
    if (rc) {
        rc = fail("%s", e.msg);
        goto out;
    }
    if (mkdir(g_backup_dir, 0755) != 0 && errno != EEXIST) {
        rc = fail("%s: %s", g_backup_dir, strerror(errno));
        goto out;
    }
    if (!strcmp(cmd, "default"))
        rc = cmd_default(b);
    else if (!strcmp(cmd, "create"))
        rc = cmd_create(argc, argv);
    else if (!strcmp(cmd, "add"))
        rc = cmd_add(b, argc, argv);
    else if (!strcmp(cmd, "search"))
        rc = cmd_search(b, argc, argv);
    else if (!strcmp(cmd, "list_parts"))
        rc = cmd_list_parts(b, argc, argv);
    else if (!strcmp(cmd, "set_weight"))
        rc = cmd_set(b, argc, argv, SET_WEIGHT);
    else if (!strcmp(cmd, "set_region"))
        rc = cmd_set(b, argc, argv, SET_REGION);
    else if (!strcmp(cmd, "set_zone"))
        rc = cmd_set(b, argc, argv, SET_ZONE);
    else if (!strcmp(cmd, "set_info"))
        rc = cmd_set_info(b, argc, argv);
    else if (!strcmp(cmd, "remove"))
        rc = cmd_remove(b, argc, argv);
    else if (!strcmp(cmd, "rebalance"))
        rc = cmd_rebalance(b, argc, argv);
    else if (!strcmp(cmd, "dispersion"))
        rc = cmd_dispersion(b, argc, argv);
    else if (!strcmp(cmd, "validate"))
        rc = cmd_validate(b);
    else if (!strcmp(cmd, "write_ring"))
        rc = cmd_write_ring(b);
    else if (!strcmp(cmd, "pretend_min_part_hours_passed"))
        rc = cmd_pretend(b);
    else if (!strcmp(cmd, "set_min_part_hours"))
        rc = cmd_set_min_part_hours(b, argc, argv);
    else if (!strcmp(cmd, "set_replicas"))
        rc = cmd_set_replicas(b, argc, argv);
    else if (!strcmp(cmd, "set_overload"))
        rc = cmd_set_overload(b, argc, argv);
    else
        rc = fail("Unknown command: %s", cmd);
out:
    rb_free(b);
    free(builder_file);
    free(ring_file);
    free(g_backup_dir);
    return rc;
}

int main(int argc, char **argv)
{
    int rc = run(argc, (const char **)argv);
    if (fflush(stdout) != 0 && rc == EXIT_OK)
        rc = EXIT_ERR;
    return rc;
}
