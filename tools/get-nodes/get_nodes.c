/*
 * cairn-get-nodes - where does a name live? The counterpart of Swift's
 * swift-get-nodes, for Cairn ring files (docs/ring-format.md).
 *
 *   cairn-get-nodes [-a] [-Q] [--hash-prefix P] [--hash-suffix S]
 *                   [--swift-conf etc/cairn.conf] RING ACCOUNT [CONTAINER [OBJECT]]
 *   cairn-get-nodes [-a] RING -p PARTITION
 *
 * Prints the partition, the hash, the primaries and the handoffs (as many
 * handoffs as primaries, or all with -a), curl commands that HEAD the item
 * on each node, and for object rings where the item sits on a node's disk,
 * in the shape swift-get-nodes uses so an operator's habits carry over.
 * ACCOUNT/CONTAINER/OBJECT may also be one argument separated by '/'.
 *
 * The hash secrets come from --swift-conf (common/cluster_conf.h, the
 * [swift-hash] section of etc/cairn.conf) and/or --hash-prefix and
 * --hash-suffix, which override the file. Bad input exits 2 with one line
 * on stderr saying why; success exits 0.
 */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/cluster_conf.h"
#include "common/conf.h"
#include "common/err.h"
#include "common/hashpath.h"
#include "common/names.h"
#include "common/util.h"
#include "common/xalloc.h"
#include "ring/ring.h"

#define EXIT_USAGE 2

static const char usage[] =
    "usage: cairn-get-nodes [-a] [-Q] [--hash-prefix P] [--hash-suffix S]\n"
    "                       [--swift-conf FILE] RING ACCOUNT [CONTAINER [OBJECT]]\n"
    "       cairn-get-nodes [-a] RING -p PARTITION\n"
    "  -a, --all           show every handoff, not as many as primaries\n"
    "  -p, --partition N   show the nodes of partition N\n"
    "  -Q, --quoted        the names are %%-quoted; unquote them first\n"
    "  --swift-conf FILE   read the hash secrets from FILE (etc/cairn.conf)\n"
    "  --hash-prefix P     the hash path prefix (overrides the file)\n"
    "  --hash-suffix S     the hash path suffix (overrides the file)\n"
    "  ACCOUNT/CONTAINER/OBJECT may also be given as one argument a/c/o\n";

static void die_usage(const char *fmt, ...)
    __attribute__((format(printf, 1, 2), noreturn));
static void die_usage(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("cairn-get-nodes: ", stderr);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    exit(EXIT_USAGE);
}

/* Python's urllib.parse.quote with safe='/', as swift-get-nodes prints. */
static void print_quoted(const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
            (*p >= '0' && *p <= '9') || strchr("_.-~/", *p))
            putchar(*p);
        else
            printf("%%%02X", *p);
    }
}

/* "account", "container", "object" or "object-N" from a ring path:
 * the basename without ".ring.gz" or ".ring". Caller frees. */
static char *ring_name_of(const char *path)
{
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    char *name = xstrdup(base);
    size_t n = strlen(name);
    if (str_has_suffix(name, ".ring.gz"))
        name[n - 8] = '\0';
    else if (str_has_suffix(name, ".ring"))
        name[n - 5] = '\0';
    return name;
}

static bool is_ipv6(const char *ip)
{
    return strchr(ip, ':') != NULL;
}

static void print_curl(const struct ring_dev *d, uint32_t part,
                       const char *target, bool handoff)
{
    printf("curl -g -I -XHEAD \"http://%s%s%s:%u/%s/%u/", is_ipv6(d->ip) ?
           "[" : "", d->ip, is_ipv6(d->ip) ? "]" : "", d->port, d->device,
           part);
    print_quoted(target);
    printf("\" --path-as-is%s\n", handoff ? " # [Handoff]" : "");
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        { "all", no_argument, NULL, 'a' },
        { "partition", required_argument, NULL, 'p' },
        { "quoted", no_argument, NULL, 'Q' },
        { "swift-conf", required_argument, NULL, 'c' },
        { "hash-prefix", required_argument, NULL, 'P' },
        { "hash-suffix", required_argument, NULL, 'S' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    bool all = false, quoted = false, have_part = false;
    uint64_t part_arg = 0;
    const char *conf_path = NULL, *prefix = NULL, *suffix = NULL;
    int c;
    while ((c = getopt_long(argc, argv, "ap:Qh", opts, NULL)) != -1) {
        switch (c) {
        case 'a': all = true; break;
        case 'Q': quoted = true; break;
        case 'c': conf_path = optarg; break;
        case 'P': prefix = optarg; break;
        case 'S': suffix = optarg; break;
        case 'p':
            if (parse_u64(optarg, &part_arg) != 0 || part_arg > UINT32_MAX)
                die_usage("partition '%s' is not a number", optarg);
            have_part = true;
            break;
        case 'h': fputs(usage, stdout); return 0;
        default: fputs(usage, stderr); return EXIT_USAGE;
        }
    }
    if (optind >= argc)
        die_usage("no ring file given (try --help)");
    const char *ring_path = argv[optind++];
    char *names[3] = { NULL, NULL, NULL };
    int nnames = argc - optind;
    if (nnames > 3)
        die_usage("too many arguments: at most ACCOUNT CONTAINER OBJECT");
    if (nnames == 1) {
        /* One argument a/c/o: strip slashes at both ends, split twice.
         * Done in place: argv strings are ours to modify. */
        char *s = argv[optind];
        while (*s == '/')
            s++;
        size_t n = strlen(s);
        while (n > 0 && s[n - 1] == '/')
            s[--n] = '\0';
        names[0] = s;
        char *slash = strchr(s, '/');
        if (slash) {
            *slash = '\0';
            names[1] = slash + 1;
            slash = strchr(names[1], '/');
            if (slash) {
                *slash = '\0';
                names[2] = slash + 1;
            }
        }
    } else {
        for (int i = 0; i < nnames; i++)
            names[i] = argv[optind + i];
    }
    for (int i = 0; i < 3; i++)
        if (names[i] && quoted)
            names_unquote(names[i], strlen(names[i]), names[i]); /* Python's unquote */
    const char *account = names[0] && *names[0] ? names[0] : NULL;
    const char *container = names[1] && *names[1] ? names[1] : NULL;
    const char *object = names[2] && *names[2] ? names[2] : NULL;
    if (!account && !have_part)
        die_usage("no target: give ACCOUNT [CONTAINER [OBJECT]] or -p N");
    if (object && !container)
        die_usage("object given without a container");

    if (account && !have_part && !conf_path && !prefix && !suffix)
        die_usage("need --swift-conf FILE or --hash-prefix/--hash-suffix "
                  "to hash a name");

    /* From here on resources are held: errors go through `out`. */
    int rc = EXIT_USAGE;
    struct cluster_conf cc = { 0 };
    bool have_conf = false;
    struct ring *r = NULL;
    char *ring_name = NULL, *target = NULL;
    const struct ring_dev **hand = NULL;
    struct hashpath_secret sec = { .prefix = "", .suffix = "" };
    if (conf_path) {
        struct conf_errors errs;
        conf_errors_init(&errs);
        int crc = cluster_conf_load(conf_path, &cc, &errs);
        have_conf = true;
        if (crc != 0 || errs.count) {
            fprintf(stderr, "cairn-get-nodes: %s\n",
                    errs.n ? errs.msgs[0] : "cannot read the config");
            conf_errors_release(&errs);
            goto out;
        }
        conf_errors_release(&errs);
        sec = cluster_conf_secret(&cc);
    }
    if (prefix)
        sec.prefix = prefix;
    if (suffix)
        sec.suffix = suffix;

    struct err e;
    r = ring_load(ring_path, &e);
    if (!r) {
        fprintf(stderr, "cairn-get-nodes: %s\n", e.msg);
        goto out;
    }
    if (have_part && part_arg >= ring_partition_count(r)) {
        fprintf(stderr, "cairn-get-nodes: partition %llu is outside the ring "
                "(0..%u)\n", (unsigned long long)part_arg,
                ring_partition_count(r) - 1);
        goto out;
    }

    /* Which kind of ring, for the warnings and the on-disk directory. */
    ring_name = ring_name_of(ring_path);
    bool object_ring = str_has_prefix(ring_name, "object");
    if (account && container && !object &&
        strcmp(ring_name, "container") != 0)
        printf("Warning: account/container specified but ring not named "
               "\"container\"\n");
    if (account && !container && strcmp(ring_name, "account") != 0)
        printf("Warning: account specified but ring not named \"account\"\n");
    /* Objects of policy N live in objects-N, as in Swift. */
    char datadir[80] = "objects";
    if (object_ring && ring_name[strlen("object")] == '-')
        snprintf(datadir, sizeof(datadir), "objects%s",
                 ring_name + strlen("object"));

    if (account) {
        printf("\nAccount  \t");
        print_quoted(account);
        putchar('\n');
    }
    if (container) {
        printf("Container\t");
        print_quoted(container);
        putchar('\n');
    }
    if (object) {
        printf("Object   \t");
        print_quoted(object);
        printf("\n\n\n");
    }

    uint32_t part;
    char hex[MD5_HEX_LEN] = "None";
    if (have_part)
        part = (uint32_t)part_arg;
    else
        part = ring_partition(r, &sec, account, container, object);
    if (account && !have_part)
        hashpath_hex(&sec, account, container, object, hex);
    printf("Partition\t%u\n", part);
    printf("Hash     \t%s\n\n", hex);

    const struct ring_dev *prim[RING_MAX_REPLICA_ROWS];
    size_t np = ring_primaries(r, part, prim, RING_MAX_REPLICA_ROWS);
    size_t cap = all ? ring_dev_id_limit(r) : np;
    hand = xcalloc(cap ? cap : 1, sizeof(*hand));
    struct ring_handoff_iter *it = xmalloc(sizeof(*it));
    ring_handoffs_begin(r, part, it);
    size_t nh = 0;
    const struct ring_dev *d;
    while (nh < cap && (d = ring_handoff_next(it)) != NULL)
        hand[nh++] = d;
    free(it);

    for (size_t i = 0; i < np; i++)
        printf("Server:Port Device\t%s:%u %s\n", prim[i]->ip, prim[i]->port,
               prim[i]->device);
    for (size_t i = 0; i < nh; i++)
        printf("Server:Port Device\t%s:%u %s\t [Handoff]\n", hand[i]->ip,
               hand[i]->port, hand[i]->device);
    printf("\n\n");

    /* The target as swift-get-nodes builds it ("None" without account). */
    if (object)
        target = xasprintf("%s/%s/%s", account, container, object);
    else if (container)
        target = xasprintf("%s/%s", account, container);
    else
        target = xstrdup(account ? account : "None");
    for (size_t i = 0; i < np; i++)
        print_curl(prim[i], part, target, false);
    for (size_t i = 0; i < nh; i++)
        print_curl(hand[i], part, target, true);

    /* Only objects sit in a directory per hash on a Cairn node; accounts
     * and containers live in the device's RocksDB (DESIGN.md section 4). */
    if (object && !have_part) {
        printf("\n\nUse your own device location of servers:\n");
        printf("such as \"export DEVICE=/srv/node\"\n");
        for (size_t i = 0; i < np + nh; i++) {
            const struct ring_dev *n = i < np ? prim[i] : hand[i - np];
            printf("ssh %s \"ls -lah ${DEVICE:-/srv/node*}/%s/%s/%u/%s/%s\"%s\n",
                   n->ip, n->device, datadir, part, hex + 29, hex,
                   i < np ? "" : " # [Handoff]");
        }
        printf("\nnote: `/srv/node*` is used as default value of `devices`, "
               "the real value is set in the config file on each storage "
               "node.\n");
    }

    rc = 0;
out:
    free(target);
    free(hand);
    free(ring_name);
    ring_free(r);
    if (have_conf)
        cluster_conf_release(&cc);
    return rc;
}
