/*
 * opts.c - cairn-bench's command line (see opts.h).
 *
 * Every value is checked here with a reason a user can act on; combination
 * rules (a read-only mix needs --prepopulate, -d excludes -n, ...) are
 * checked once all options are known.
 */
#include "tools/bench/opts.h"

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"

#define DEFAULT_DURATION_NS (30ull * 1000000000ull)

static const char *const op_names[BENCH_NOPS] = {"put", "get", "head", "delete"};
static const char *const op_methods[BENCH_NOPS] = {"PUT", "GET", "HEAD", "DELETE"};

const char *bench_op_name(enum bench_op op)
{
    return op_names[op];
}

const char *bench_op_method(enum bench_op op)
{
    return op_methods[op];
}

int opts_parse_size(const char *s, uint64_t *out)
{
    size_t n = 0;
    while (s[n] >= '0' && s[n] <= '9')
        n++;
    if (n == 0)
        return -EINVAL;
    uint64_t v;
    int rc = parse_u64n(s, n, &v);
    if (rc)
        return rc;
    const char *u = s + n;
    unsigned shift = 0;
    switch (*u) {
    case '\0': break;
    case 'k': case 'K': shift = 10; break;
    case 'm': case 'M': shift = 20; break;
    case 'g': case 'G': shift = 30; break;
    case 't': case 'T': shift = 40; break;
    case 'b': case 'B': break;
    default: return -EINVAL;
    }
    if (*u) {
        u++;
        /* Accept "k", "kB", "KiB" (all binary: object sizes in this tool
         * are always powers of 1024, as in the "4 KiB", "64 MiB"). */
        if (shift && (strcmp(u, "iB") == 0 || strcmp(u, "ib") == 0 ||
                      strcmp(u, "B") == 0 || strcmp(u, "b") == 0))
            u += strlen(u);
        if (*u)
            return -EINVAL;
    }
    if (shift && v > (UINT64_MAX >> shift))
        return -ERANGE;
    *out = v << shift;
    return 0;
}

int opts_parse_duration(const char *s, uint64_t *ns)
{
    size_t n = 0;
    while ((s[n] >= '0' && s[n] <= '9') || s[n] == '.')
        n++;
    if (n == 0 || n >= 64)
        return -EINVAL;
    char num[64];
    memcpy(num, s, n);
    num[n] = '\0';
    double v;
    if (parse_double(num, &v) || v < 0)
        return -EINVAL;
    const char *u = s + n;
    double mult;
    if (*u == '\0' || strcmp(u, "s") == 0)
        mult = 1e9;
    else if (strcmp(u, "ms") == 0)
        mult = 1e6;
    else if (strcmp(u, "us") == 0)
        mult = 1e3;
    else if (strcmp(u, "m") == 0 || strcmp(u, "min") == 0)
        mult = 60e9;
    else if (strcmp(u, "h") == 0)
        mult = 3600e9;
    else
        return -EINVAL;
    double r = v * mult;
    if (r >= 1.8e19)
        return -ERANGE;
    *ns = (uint64_t)llround(r);
    return 0;
}

static int op_by_name(const char *s, size_t len)
{
    for (int i = 0; i < BENCH_NOPS; i++)
        if (strlen(op_names[i]) == len && strncasecmp(s, op_names[i], len) == 0)
            return i;
    return -1;
}

int opts_parse_mix(struct bench_opts *o, const char *s, struct err *e)
{
    uint64_t mix[BENCH_NOPS] = {0};
    bool seen[BENCH_NOPS] = {false};
    const char *p = s;
    if (*p == '\0')
        return err_set(e, -EINVAL, "--mix: empty (e.g. put=20,get=70,head=5,delete=5)");
    for (;;) {
        size_t len = strcspn(p, ",");
        size_t nlen = strcspn(p, "=,");
        int op = op_by_name(p, nlen);
        if (op < 0)
            return err_set(e, -EINVAL, "--mix: '%.*s' is not an operation (put, get, head, delete)",
                           (int)nlen, p);
        if (seen[op])
            return err_set(e, -EINVAL, "--mix: %s given twice", op_names[op]);
        seen[op] = true;
        uint64_t w = 1;
        if (nlen < len) {
            if (parse_u64n(p + nlen + 1, len - nlen - 1, &w) || len - nlen - 1 == 0 ||
                w > 1000000)
                return err_set(e, -EINVAL, "--mix: weight of %s must be a whole number 0..1000000",
                               op_names[op]);
        }
        mix[op] = w;
        if (p[len] == '\0')
            break;
        p += len + 1;
    }
    uint64_t total = 0;
    for (int i = 0; i < BENCH_NOPS; i++)
        total += mix[i];
    if (total == 0)
        return err_set(e, -EINVAL, "--mix: every weight is zero");
    memcpy(o->mix, mix, sizeof(mix));
    o->mix_total = total;
    size_t off = 0;
    o->mix_text[0] = '\0';
    int nonzero = 0;
    for (int i = 0; i < BENCH_NOPS; i++)
        nonzero += mix[i] != 0;
    for (int i = 0; i < BENCH_NOPS; i++) {
        if (!mix[i])
            continue;
        int k = nonzero == 1
                    ? snprintf(o->mix_text, sizeof(o->mix_text), "%s", op_names[i])
                    : snprintf(o->mix_text + off, sizeof(o->mix_text) - off, "%s%s=%llu",
                               off ? "," : "", op_names[i], (unsigned long long)mix[i]);
        if (k > 0 && (size_t)k < sizeof(o->mix_text) - off)
            off += (size_t)k;
    }
    return 0;
}

int opts_parse_size_dist(struct size_dist *d, const char *s, struct err *e)
{
    struct size_dist r;
    memset(&r, 0, sizeof(r));
    const char *p = s;
    bool weighted = false, unweighted = false;
    if (*p == '\0')
        return err_set(e, -EINVAL, "--size: empty (e.g. 4k, 1m-4m, 4k:70,1m:30)");
    for (;;) {
        size_t len = strcspn(p, ",");
        char item[64];
        if (len == 0 || len >= sizeof(item))
            return err_set(e, -EINVAL, "--size: bad entry in '%s' (e.g. 4k, 1m-4m, 4k:70,1m:30)", s);
        if (r.n == OPTS_MAX_SIZES)
            return err_set(e, -EINVAL, "--size: more than %d entries", OPTS_MAX_SIZES);
        memcpy(item, p, len);
        item[len] = '\0';
        struct size_entry *en = &r.e[r.n];
        en->weight = 1;
        char *colon = strchr(item, ':');
        if (colon) {
            *colon = '\0';
            if (parse_u64(colon + 1, &en->weight) || en->weight == 0 || en->weight > 1000000)
                return err_set(e, -EINVAL, "--size: weight '%s' must be a whole number 1..1000000",
                               colon + 1);
            weighted = true;
        } else {
            unweighted = true;
        }
        char *dash = strchr(item, '-');
        if (dash)
            *dash = '\0';
        if (opts_parse_size(item, &en->lo))
            return err_set(e, -EINVAL, "--size: '%s' is not a size (e.g. 4k, 64MiB, 100)", item);
        en->hi = en->lo;
        if (dash) {
            if (opts_parse_size(dash + 1, &en->hi))
                return err_set(e, -EINVAL, "--size: '%s' is not a size (e.g. 4k, 64MiB, 100)",
                               dash + 1);
            if (en->hi < en->lo)
                return err_set(e, -EINVAL, "--size: range %s-%s is backwards", item, dash + 1);
        }
        r.total_weight += en->weight;
        if (en->hi > r.max)
            r.max = en->hi;
        r.n++;
        if (p[len] == '\0')
            break;
        p += len + 1;
    }
    if (weighted && unweighted)
        return err_set(e, -EINVAL, "--size: give a weight to every entry of a list or to none");
    *d = r;
    return 0;
}

void opts_usage(void)
{
    fputs(
"usage: cairn-bench [options]\n"
"Load generator for any OpenStack Swift API endpoint (Swift, Cairn).\n"
"\n"
"Endpoint (one of):\n"
"  -A, --auth URL          auth v1.0 URL (env ST_AUTH),\n"
"                          e.g. http://127.0.0.1:8080/auth/v1.0\n"
"  -U, --user ACCT:USER    auth user (env ST_USER)\n"
"  -K, --key KEY           auth key (env ST_KEY)\n"
"      --os-storage-url URL, --storage-url URL\n"
"                          storage URL (env OS_STORAGE_URL); with -A it overrides\n"
"                          the one auth returns\n"
"      --os-auth-token TOK, --token TOK\n"
"                          token to use with --storage-url, no auth request\n"
"                          (env OS_AUTH_TOKEN)\n"
"      --insecure          do not verify TLS certificates\n"
"\n"
"Workload:\n"
"  -m, --mix SPEC          operations and weights: put=20,get=70,head=5,delete=5;\n"
"                          a single name means only that one (default: put)\n"
"  -s, --size SPEC         object size: 4k | 1m-4m (uniform) | 4k:70,1m-4m:30\n"
"                          (weighted); k/m/g/t are binary (KiB, MiB, ...); a bare\n"
"                          number is bytes (default: 4k)\n"
"  -c, --concurrency N     requests in flight (default: 32)\n"
"  -d, --duration DUR      measure for DUR: 500ms, 30s, 2m, 1h (default: 30s)\n"
"  -n, --count N           measure exactly N operations instead of a duration\n"
"      --containers N      spread objects over N containers, created if missing\n"
"                          (default: 1)\n"
"      --container-prefix P  containers are named P-0, P-1, ...\n"
"                          (default: cairn-bench)\n"
"  -p, --prepopulate N|DUR before measuring, upload until N objects exist (failed\n"
"                          PUTs are replaced, up to N failures) or upload for DUR, so\n"
"                          GET/HEAD/DELETE have objects; not measured\n"
"      --verify            MD5 every GET body against what was PUT and the ETag;\n"
"                          PUT ETags are checked too (costs client CPU)\n"
"      --cleanup           delete every object the run created, then the containers\n"
"                          it created, when done (also after Ctrl-C); a failed DELETE\n"
"                          is sent again up to 3 times, a second apart\n"
"      --timeout DUR       per-request timeout (default: none)\n"
"      --seed N            seed of the operation/size/object choices (default: clock)\n"
"  -H, --header 'N: V'     add a header to GETs, e.g. 'X-Run-Storlet: identity'\n"
"                          (repeatable; PUTs and prepopulation stay plain)\n"
"\n"
"Objects are named <container>/<run-tag>-<n>; bodies are generated while sent\n"
"(never held whole in memory) and GET bodies are counted and discarded.\n"
"\n"
"Output:\n"
"      --json FILE         write all results as JSON\n"
"      --svg FILE          draw per-second p50/p99 latency and the percentile curve\n"
"      --label TEXT        a name for this run, copied into the JSON\n"
"      --phase-cmd CMD     run 'sh -c CMD' with PHASE (prepopulate, measure,\n"
"                          cleanup) and EVENT (start, end) in the environment\n"
"                          before and after each phase, outside its timing (e.g.\n"
"                          to snapshot a server's CPU or syscall counters)\n"
"  -q, --quiet             no progress line (drawn only when stderr is a terminal)\n"
"      --max-errors N|P%   exit 1 when more than N errors (or P% of operations)\n"
"                          happened, in any phase (default: 0)\n"
"  -h, --help              this text\n"
"  -V, --version           version\n"
"\n"
"The table on stdout gives, per operation and in total: ops, ops/s, MB/s\n"
"(10^6 bytes of object bodies per second), latency p50/p90/p99/max in ms\n"
"(whole request, from start to last byte) and errors; errors are broken down\n"
"by HTTP status and by curl error below it.\n"
"\n"
"Exit status: 0 ok; 1 errors above --max-errors, or the run could not start\n"
"(auth or container creation failed); 2 bad arguments.\n",
        stdout);
}

enum {
    OPT_STORAGE_URL = 256, OPT_TOKEN, OPT_INSECURE, OPT_CONTAINERS, OPT_PREFIX,
    OPT_VERIFY, OPT_CLEANUP, OPT_TIMEOUT, OPT_SEED, OPT_JSON, OPT_SVG, OPT_LABEL,
    OPT_MAX_ERRORS, OPT_PHASE_CMD,
};

static const struct option long_opts[] = {
    {"auth", required_argument, NULL, 'A'},
    {"user", required_argument, NULL, 'U'},
    {"key", required_argument, NULL, 'K'},
    {"os-storage-url", required_argument, NULL, OPT_STORAGE_URL},
    {"storage-url", required_argument, NULL, OPT_STORAGE_URL},
    {"os-auth-token", required_argument, NULL, OPT_TOKEN},
    {"token", required_argument, NULL, OPT_TOKEN},
    {"insecure", no_argument, NULL, OPT_INSECURE},
    {"mix", required_argument, NULL, 'm'},
    {"size", required_argument, NULL, 's'},
    {"concurrency", required_argument, NULL, 'c'},
    {"duration", required_argument, NULL, 'd'},
    {"count", required_argument, NULL, 'n'},
    {"containers", required_argument, NULL, OPT_CONTAINERS},
    {"container-prefix", required_argument, NULL, OPT_PREFIX},
    {"prepopulate", required_argument, NULL, 'p'},
    {"verify", no_argument, NULL, OPT_VERIFY},
    {"cleanup", no_argument, NULL, OPT_CLEANUP},
    {"timeout", required_argument, NULL, OPT_TIMEOUT},
    {"seed", required_argument, NULL, OPT_SEED},
    {"header", required_argument, NULL, 'H'},
    {"json", required_argument, NULL, OPT_JSON},
    {"svg", required_argument, NULL, OPT_SVG},
    {"label", required_argument, NULL, OPT_LABEL},
    {"phase-cmd", required_argument, NULL, OPT_PHASE_CMD},
    {"quiet", no_argument, NULL, 'q'},
    {"max-errors", required_argument, NULL, OPT_MAX_ERRORS},
    {"help", no_argument, NULL, 'h'},
    {"version", no_argument, NULL, 'V'},
    {NULL, 0, NULL, 0},
};

static int parse_uint(const char *name, const char *s, uint64_t lo, uint64_t hi,
                      uint64_t *out, struct err *e)
{
    if (parse_u64(s, out) || *out < lo || *out > hi)
        return err_set(e, -EINVAL, "%s: '%s' must be a whole number %llu..%llu", name, s,
                       (unsigned long long)lo, (unsigned long long)hi);
    return 0;
}

static const char *env_or_null(const char *name)
{
    const char *v = getenv(name);
    return v && *v ? v : NULL;
}

int opts_parse(struct bench_opts *o, int argc, char **argv, struct err *e)
{
    memset(o, 0, sizeof(*o));
    o->auth_url = env_or_null("ST_AUTH");
    o->user = env_or_null("ST_USER");
    o->key = env_or_null("ST_KEY");
    o->storage_url = env_or_null("OS_STORAGE_URL");
    o->token = env_or_null("OS_AUTH_TOKEN");
    o->concurrency = 32;
    o->containers = 1;
    o->container_prefix = "cairn-bench";
    o->size_text = "4k";
    bool have_d = false, have_n = false;
    uint64_t v;
    int rc;

    opts_parse_mix(o, "put", NULL);
    opts_parse_size_dist(&o->size, o->size_text, NULL);

    optind = 1;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, ":A:U:K:m:s:c:d:n:p:H:qhV", long_opts, NULL)) != -1) {
        switch (c) {
        case 'A': o->auth_url = optarg; break;
        case 'U': o->user = optarg; break;
        case 'K': o->key = optarg; break;
        case OPT_STORAGE_URL: o->storage_url = optarg; break;
        case OPT_TOKEN: o->token = optarg; break;
        case OPT_INSECURE: o->insecure = true; break;
        case 'm':
            if ((rc = opts_parse_mix(o, optarg, e)))
                return rc;
            break;
        case 's':
            if ((rc = opts_parse_size_dist(&o->size, optarg, e)))
                return rc;
            o->size_text = optarg;
            break;
        case 'c':
            if ((rc = parse_uint("--concurrency", optarg, 1, 4096, &v, e)))
                return rc;
            o->concurrency = (unsigned)v;
            break;
        case 'd':
            if (opts_parse_duration(optarg, &o->duration_ns) || o->duration_ns == 0)
                return err_set(e, -EINVAL, "--duration: '%s' is not a duration > 0 (e.g. 30s, 500ms, 2m)",
                               optarg);
            have_d = true;
            break;
        case 'n':
            if ((rc = parse_uint("--count", optarg, 1, UINT64_MAX / 2, &o->count, e)))
                return rc;
            have_n = true;
            break;
        case OPT_CONTAINERS:
            if ((rc = parse_uint("--containers", optarg, 1, 100000, &v, e)))
                return rc;
            o->containers = (unsigned)v;
            break;
        case OPT_PREFIX:
            if (optarg[0] == '\0' || strchr(optarg, '/') || strlen(optarg) > 200)
                return err_set(e, -EINVAL, "--container-prefix: '%s' must be 1..200 characters without '/'",
                               optarg);
            o->container_prefix = optarg;
            break;
        case 'p':
            if (optarg[0] >= '0' && optarg[0] <= '9' && parse_u64(optarg, &v) == 0) {
                o->prepop_count = v;
                o->prepop_ns = 0;
            } else if (opts_parse_duration(optarg, &o->prepop_ns) == 0) {
                o->prepop_count = 0;
            } else {
                return err_set(e, -EINVAL, "--prepopulate: '%s' is neither a count nor a duration (e.g. 1000, 20s)",
                               optarg);
            }
            break;
        case OPT_VERIFY: o->verify = true; break;
        case OPT_CLEANUP: o->cleanup = true; break;
        case OPT_TIMEOUT:
            if (opts_parse_duration(optarg, &o->timeout_ns))
                return err_set(e, -EINVAL, "--timeout: '%s' is not a duration (e.g. 30s)", optarg);
            break;
        case OPT_SEED:
            if ((rc = parse_uint("--seed", optarg, 0, UINT64_MAX, &o->seed, e)))
                return rc;
            break;
        case 'H': {
            const char *colon = strchr(optarg, ':');
            if (!colon || colon == optarg || strpbrk(optarg, "\r\n"))
                return err_set(e, -EINVAL, "--header: '%s' is not 'Name: value'", optarg);
            if (o->nget_headers == OPTS_MAX_HEADERS)
                return err_set(e, -EINVAL, "--header: at most %d", OPTS_MAX_HEADERS);
            o->get_headers[o->nget_headers++] = optarg;
            break;
        }
        case OPT_JSON: o->json_path = optarg; break;
        case OPT_SVG: o->svg_path = optarg; break;
        case OPT_LABEL: o->label = optarg; break;
        case OPT_PHASE_CMD: o->phase_cmd = optarg; break;
        case 'q': o->quiet = true; break;
        case OPT_MAX_ERRORS: {
            size_t len = strlen(optarg);
            if (len > 1 && optarg[len - 1] == '%') {
                char num[64];
                double pct;
                if (len >= sizeof(num))
                    return err_set(e, -EINVAL, "--max-errors: '%s' is too long", optarg);
                memcpy(num, optarg, len - 1);
                num[len - 1] = '\0';
                if (parse_double(num, &pct) || pct < 0 || pct > 100)
                    return err_set(e, -EINVAL, "--max-errors: '%s' must be N or P%% with 0 <= P <= 100",
                                   optarg);
                o->max_errors = (uint64_t)llround(pct * 100);
                o->max_errors_pct = true;
            } else {
                if ((rc = parse_uint("--max-errors", optarg, 0, UINT64_MAX, &o->max_errors, e)))
                    return rc;
                o->max_errors_pct = false;
            }
            break;
        }
        case 'h': return OPTS_HELP;
        case 'V': return OPTS_VERSION;
        case ':':
            return err_set(e, -EINVAL, "%s needs a value (see --help)", argv[optind - 1]);
        default:
            return err_set(e, -EINVAL, "unknown option '%s' (see --help)", argv[optind - 1]);
        }
    }
    if (optind < argc)
        return err_set(e, -EINVAL, "unexpected argument '%s' (see --help)", argv[optind]);
    if (have_d && have_n)
        return err_set(e, -EINVAL, "give --duration or --count, not both");
    if (!have_d && !have_n)
        o->duration_ns = DEFAULT_DURATION_NS;
    if (o->token) {
        if (!o->storage_url)
            return err_set(e, -EINVAL, "--os-auth-token needs --os-storage-url");
    } else if (!o->auth_url || !o->user || !o->key) {
        return err_set(e, -EINVAL, "no endpoint: give -A URL -U ACCOUNT:USER -K KEY, or --os-storage-url URL --os-auth-token TOKEN");
    }
    if (o->storage_url && !str_has_prefix(o->storage_url, "http://") &&
        !str_has_prefix(o->storage_url, "https://"))
        return err_set(e, -EINVAL, "--os-storage-url: '%s' is not an http(s) URL", o->storage_url);
    if (!o->token && !str_has_prefix(o->auth_url, "http://") &&
        !str_has_prefix(o->auth_url, "https://"))
        return err_set(e, -EINVAL, "--auth: '%s' is not an http(s) URL", o->auth_url);
    if (o->mix[BENCH_PUT] == 0 && o->prepop_count == 0 && o->prepop_ns == 0)
        return err_set(e, -EINVAL, "--mix %s reads or deletes objects but nothing creates them: add --prepopulate N (or a put weight)",
                       o->mix_text);
    return OPTS_RUN;
}
