/*
 * eng_int.h - private to engine/: the engine object shared by the
 * execution service (eng_exec.c) and the code cache (eng_cache.c).
 * Read-only after eng_start except the warm-key list (under lock).
 */
#ifndef CAIRN_ENG_INT_H
#define CAIRN_ENG_INT_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "engine/eng.h"

struct eng {
    char *cache_dir;
    char *sdk_path;
    uint64_t wall_ms, idle_ms, output_max;
    uint64_t min_input_rate;   /* bytes/s; 0: the wall budget never grows */
    unsigned admin_cpu_weight; /* 0: the admin class default */
    uint32_t uid_base;
    unsigned warm;
    int launcher_pid;
    char run_dir[64];
    char sock_path[108];
    pthread_mutex_t lock;      /* guards warmed, lconns */
    char **warmed;             /* keys already prewarmed */
    size_t nwarmed;
    struct eng_lconn *lconns;  /* launcher connections, one per thread
                                * (eng_exec.c) */
    struct eng_slots *slots;   /* account -> tenant slot (own lock) */
    /* code cache (eng_cache.c) */
    uint64_t cache_max;        /* bytes; 0 = unbounded */
    bool cache_ready;          /* eng_cache_init done */
    pthread_mutex_t cache_lock; /* one eviction pass at a time; pins */
    struct eng_cache_pins *pins;
};

/* The services channel of one run (eng_svc.c): serves requests arriving
 * on fd (our end of the storlet's fd 4; taken over) through the proxy at
 * host:port with token. A request may stay silent for up to wall_ms (an
 * invoked storlet's run; the default client timeout when smaller). Freed
 * with eng_svc_free (NULL is a no-op). */
struct eng_svc;
struct event_base;
struct eng_svc *eng_svc_new(struct event_base *base, int fd, const char *host, int port,
                            const char *token, const char *account, unsigned depth,
                            uint64_t wall_ms);
void eng_svc_free(struct eng_svc *s);
/* True when the storlet made progress on its services channel since the
 * last call (a request, bytes of a stream taken), or is waiting for the
 * engine to answer one: the no-progress clock must not run then. */
bool eng_svc_progressed(struct eng_svc *s);

/* Creates the cache directories and trims the cache to g->cache_max.
 * Returns 0 or -errno (e says why). */
int eng_cache_init(struct eng *g, struct err *e);
/* Drops every pin (eng_free). A no-op before eng_cache_init. */
void eng_cache_release_all(struct eng *g);

#endif
