/*
 * cairn-ring-bench - how many ring lookups one core does per second.
 *
 *   cairn-ring-bench [--part-power N] [--devices N] [--replicas N]
 *                    [--seconds S] [--threads T]
 *
 * Builds a ring (default: part power 18, 1000 devices in 2 regions,
 * 10 zones, 100 servers, 3 replicas), writes and loads it through the real
 * file path, then times the whole lookup a proxy does per request: hash the
 * object's path (MD5 with the cluster secrets), take the partition, collect
 * the primaries. Object names (--object-len bytes, default 24) rotate
 * through 4096 distinct paths: hot in cache, as a name the proxy has just
 * parsed is, yet spread over the whole ring so its table is hit all over.
 * MD5 dominates: a path of up to 55 bytes with the secrets is one MD5
 * block, longer ones two or more, so the figure depends on the name length.
 *
 * Prints lookups per second of CPU time per thread ("per core", not lowered
 * by other load on the machine) and the wall-clock total. A measurement,
 * not a test: it never fails on a number.
 */
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/util.h"
#include "common/xalloc.h"
#include "ring/ring.h"

#define NAMES 4096u
#define NAME_MAX_LEN 200u

struct worker {
    pthread_t th;
    const struct ring *ring;
    char (*names)[NAME_MAX_LEN + 1];
    double seconds;
    uint64_t lookups;
    double elapsed;   /* wall seconds */
    double cpu;       /* this thread's CPU seconds */
    uint64_t sink; /* keeps the compiler from dropping the work */
};

static void *bench_main(void *arg)
{
    struct worker *w = arg;
    struct hashpath_secret sec = { .prefix = "bench-prefix",
                                   .suffix = "bench-suffix" };
    const struct ring_dev *out[RING_MAX_REPLICA_ROWS];
    struct timespec c0, c1;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &c0);
    uint64_t start = now_mono_ns(), end = start;
    uint64_t deadline = start + (uint64_t)(w->seconds * 1e9);
    uint64_t n = 0, sink = 0;
    /* Check the clock every 4096 lookups only: reading it costs as much
     * as a lookup. */
    while (end < deadline) {
        for (unsigned i = 0; i < 4096; i++, n++) {
            uint32_t part = ring_partition(w->ring, &sec, "AUTH_bench",
                                           "photos", w->names[n % NAMES]);
            size_t k = ring_primaries(w->ring, part, out,
                                      RING_MAX_REPLICA_ROWS);
            sink += k + out[0]->port;
        }
        end = now_mono_ns();
    }
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &c1);
    w->lookups = n;
    w->elapsed = (double)(end - start) / 1e9;
    w->cpu = (double)(c1.tv_sec - c0.tv_sec) +
             (double)(c1.tv_nsec - c0.tv_nsec) / 1e9;
    w->sink = sink;
    return NULL;
}

static int parse_arg(const char *s, uint64_t min, uint64_t max, uint64_t *v)
{
    if (parse_u64(s, v) != 0 || *v < min || *v > max) {
        fprintf(stderr, "cairn-ring-bench: '%s' must be a number from %llu "
                "to %llu\n", s, (unsigned long long)min,
                (unsigned long long)max);
        return -EINVAL;
    }
    return 0;
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        { "part-power", required_argument, NULL, 'p' },
        { "devices", required_argument, NULL, 'd' },
        { "replicas", required_argument, NULL, 'r' },
        { "seconds", required_argument, NULL, 's' },
        { "threads", required_argument, NULL, 't' },
        { "object-len", required_argument, NULL, 'o' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    uint64_t pp = 18, ndev = 1000, replicas = 3, seconds = 3, threads = 1;
    uint64_t olen = 24;
    int c;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        int rc = 0;
        switch (c) {
        case 'p': rc = parse_arg(optarg, 0, 24, &pp); break;
        case 'd': rc = parse_arg(optarg, 1, RING_MAX_DEVS, &ndev); break;
        case 'r': rc = parse_arg(optarg, 1, 8, &replicas); break;
        case 's': rc = parse_arg(optarg, 1, 600, &seconds); break;
        case 't': rc = parse_arg(optarg, 1, 256, &threads); break;
        case 'o': rc = parse_arg(optarg, 8, NAME_MAX_LEN, &olen); break;
        case 'h':
            puts("usage: cairn-ring-bench [--part-power N] [--devices N] "
                 "[--replicas N] [--seconds S] [--threads T] "
                 "[--object-len N]");
            return 0;
        default: return 2;
        }
        if (rc)
            return 2;
    }
    if (replicas > ndev) {
        fprintf(stderr, "cairn-ring-bench: more replicas than devices\n");
        return 2;
    }

    /* The layout: devices spread over 2 regions, 10 zones, 100 servers;
     * each partition's replicas on distinct devices. */
    uint32_t parts = 1u << pp;
    struct ring_layout l = {
        .part_power = (uint32_t)pp,
        .replica_rows = (uint32_t)replicas,
        .dev_count = (uint32_t)ndev,
        .version = 1,
    };
    l.row_len = xcalloc(replicas, sizeof(*l.row_len));
    l.replica2part2dev = xcalloc(replicas, sizeof(*l.replica2part2dev));
    l.devs = xcalloc(ndev, sizeof(*l.devs));
    l.dev_present = xcalloc(ndev, sizeof(bool));
    for (uint32_t i = 0; i < ndev; i++) {
        struct ring_dev *d = &l.devs[i];
        d->id = i;
        d->region = 1 + i % 2;
        d->zone = 1 + i % 10;
        snprintf(d->ip, sizeof(d->ip), "10.%u.%u.%u", d->region, d->zone,
                 i % 100);
        str_copy(d->replication_ip, d->ip, sizeof(d->replication_ip));
        d->port = d->replication_port = 6200;
        snprintf(d->device, sizeof(d->device), "d%u", i);
        d->weight = 100;
        l.dev_present[i] = true;
    }
    uint32_t stride = (uint32_t)(ndev / replicas);
    for (uint32_t r = 0; r < replicas; r++) {
        l.row_len[r] = parts;
        l.replica2part2dev[r] = xmalloc(parts * sizeof(uint16_t));
        for (uint32_t p = 0; p < parts; p++)
            l.replica2part2dev[r][p] =
                (uint16_t)(((uint64_t)p * 7919 + r * stride) % ndev);
    }
    char dir[] = "/tmp/cairn-ring-bench.XXXXXX";
    if (!mkdtemp(dir)) {
        perror("cairn-ring-bench: mkdtemp");
        return 1;
    }
    char path[sizeof(dir) + 16];
    snprintf(path, sizeof(path), "%s/bench.ring", dir);
    struct err e;
    if (ring_write_file(path, &l, &e) != 0) {
        fprintf(stderr, "cairn-ring-bench: %s\n", e.msg);
        return 1;
    }
    struct ring *ring = ring_load(path, &e);
    unlink(path);
    rmdir(dir);
    if (!ring) {
        fprintf(stderr, "cairn-ring-bench: %s\n", e.msg);
        return 1;
    }

    char (*names)[NAME_MAX_LEN + 1] = xmalloc(NAMES * sizeof(*names));
    for (uint32_t i = 0; i < NAMES; i++) {
        /* "img-<8 hex digits>" padded with 'x' to olen bytes */
        memset(names[i], 'x', olen);
        names[i][olen] = '\0';
        char head[16];
        snprintf(head, sizeof(head), "img-%08x", i * 2654435761u);
        memcpy(names[i], head, olen < 12 ? olen : 12);
    }

    struct worker *w = xcalloc(threads, sizeof(*w));
    for (uint64_t i = 0; i < threads; i++) {
        w[i] = (struct worker){ .ring = ring, .names = names,
                                .seconds = (double)seconds };
        if (pthread_create(&w[i].th, NULL, bench_main, &w[i]) != 0) {
            fprintf(stderr, "cairn-ring-bench: cannot start thread\n");
            return 1;
        }
    }
    double total = 0, per_cpu = 0;
    for (uint64_t i = 0; i < threads; i++) {
        pthread_join(w[i].th, NULL);
        total += (double)w[i].lookups / w[i].elapsed;
        per_cpu += (double)w[i].lookups / w[i].cpu;
    }
    printf("ring: part power %llu, %llu devices, %llu replicas\n",
           (unsigned long long)pp, (unsigned long long)ndev,
           (unsigned long long)replicas);
    printf("lookup = md5 hash path (%llu bytes) + partition + primaries, "
           "%llu thread%s, %llu s\n",
           (unsigned long long)(strlen("bench-prefix/AUTH_bench/photos/") +
                                olen + strlen("bench-suffix")),
           (unsigned long long)threads, threads > 1 ? "s" : "",
           (unsigned long long)seconds);
    /* Per core = per second of the thread's own CPU time, so a busy
     * machine (other processes taking the core away) does not lower it. */
    printf("lookups/s per core: %.0f\n", per_cpu / (double)threads);
    printf("lookups/s wall clock, all threads: %.0f\n", total);

    free(w);
    free(names);
    ring_free(ring);
    for (uint32_t r = 0; r < replicas; r++)
        free(l.replica2part2dev[r]);
    free(l.replica2part2dev);
    free(l.row_len);
    free(l.devs);
    free(l.dev_present);
    return 0;
}
