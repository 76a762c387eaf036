/*
 * ring_watch.c - a ring file that is reloaded when it changes on disk,
 * published to readers through RCU (liburcu, memb flavour).
 *
 * Readers: rcu_read_lock(); ring_watch_get(); ...; rcu_read_unlock(). They
 * never block and never see a half-built ring: a new ring is loaded and
 * validated completely before rcu_assign_pointer() publishes it, and the old
 * one is freed only after synchronize_rcu() has waited out every reader that
 * could still hold it.
 *
 * Writer side: ring_watch_check() (called by the optional watcher thread or
 * by the owner) is serialised by `lock`; it is the only code that changes
 * `cur`. A file that fails validation is logged once per distinct file
 * identity (inode, size, mtime) and the old ring keeps serving, so a torn
 * copy or a bad push does not take a server down and does not flood the log
 * while the operator fixes it.
 */
#define LOG_COMPONENT "ring"
#include "ring/ring_int.h"

#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <urcu.h>

#include "common/bug.h"
#include "common/log.h"
#include "common/xalloc.h"

/*
 * ThreadSanitizer does not understand liburcu 0.13's publication barriers
 * (volatile accesses and hand-written fences in an uninstrumented library),
 * so under TSan the pointer is published with the equivalent C11
 * release/acquire builtins, which it does model. Every other build uses
 * liburcu's own rcu_assign_pointer / rcu_dereference.
 */
#if defined(__SANITIZE_THREAD__)
#define RW_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define RW_TSAN 1
#endif
#endif
#ifdef RW_TSAN
#define rw_publish(p, v) __atomic_store_n(&(p), (v), __ATOMIC_RELEASE)
#define rw_fetch(p) __atomic_load_n(&(p), __ATOMIC_ACQUIRE)
#else
#define rw_publish(p, v) rcu_assign_pointer((p), (v))
#define rw_fetch(p) rcu_dereference(p)
#endif

struct ring_watch {
    struct ring *cur;             /* RCU-published; never NULL */
    char *path;
    unsigned interval_ms;

    pthread_mutex_t lock;         /* serialises checks; guards below */
    struct ring_file_id loaded;   /* identity of the file `cur` came from */
    struct ring_file_id rejected; /* last file refused (logged once) */
    bool have_rejected;
    int rejected_rc;
    uint64_t reloads;             /* also read with __atomic by readers */

    /* the watcher thread, when interval_ms > 0 */
    pthread_t thread;
    bool thread_started;
    pthread_cond_t cond;          /* signalled to stop the thread */
    bool stop;
};

static bool same_file(const struct ring_file_id *a,
                      const struct ring_file_id *b)
{
    return a->dev == b->dev && a->ino == b->ino && a->size == b->size &&
           a->mtime_ns == b->mtime_ns;
}

int ring_watch_check(struct ring_watch *w)
{
    int rc = 0;
    struct err e;
    struct stat st;
    struct ring *old = NULL;

    pthread_mutex_lock(&w->lock);
    if (stat(w->path, &st) == -1) {
        rc = -errno;
        /* A missing file is "rejected" too; remember it as an identity of
         * zeros so the line is logged once, not at every check. */
        struct ring_file_id none = { 0 };
        if (!w->have_rejected || !same_file(&w->rejected, &none) ||
            w->rejected_rc != rc) {
            log_err("%s: cannot stat: %s; keeping ring version %llu",
                    w->path, strerror(-rc),
                    (unsigned long long)w->cur->version);
            w->rejected = none;
            w->have_rejected = true;
            w->rejected_rc = rc;
        }
        goto out;
    }
    struct ring_file_id now = {
        .dev = st.st_dev, .ino = st.st_ino, .size = st.st_size,
        .mtime_ns = (int64_t)st.st_mtim.tv_sec * 1000000000 +
                    st.st_mtim.tv_nsec,
    };
    if (same_file(&now, &w->loaded))
        goto out;
    if (w->have_rejected && same_file(&now, &w->rejected)) {
        rc = w->rejected_rc;
        goto out;
    }
    struct ring_file_id got = now;
    struct ring *r = ring_load_id(w->path, &got, &e);
    if (!r) {
        rc = e.code;
        log_err("%s; keeping ring version %llu", e.msg,
                (unsigned long long)w->cur->version);
        w->rejected = got;
        w->have_rejected = true;
        w->rejected_rc = rc;
        goto out;
    }
    old = w->cur;
    rw_publish(w->cur, r);
    w->loaded = got;
    w->have_rejected = false;
    __atomic_store_n(&w->reloads, w->reloads + 1, __ATOMIC_RELAXED);
    log_notice("%s: loaded ring version %llu (%u partitions, %u devices)",
               w->path, (unsigned long long)r->version,
               (uint32_t)r->parts, r->present_count);
    /* Readers that fetched `old` before the swap may still use it. */
    synchronize_rcu();
    ring_free(old);
    rc = 1;
out:
    pthread_mutex_unlock(&w->lock);
    return rc;
}

static void *watch_main(void *arg)
{
    struct ring_watch *w = arg;
    pthread_mutex_lock(&w->lock);
    while (!w->stop) {
        struct timespec t;
        clock_gettime(CLOCK_MONOTONIC, &t);
        uint64_t ns = (uint64_t)t.tv_nsec + (uint64_t)w->interval_ms * 1000000;
        t.tv_sec += (time_t)(ns / 1000000000);
        t.tv_nsec = (long)(ns % 1000000000);
        int rc = 0;
        while (!w->stop && rc != ETIMEDOUT)
            rc = pthread_cond_timedwait(&w->cond, &w->lock, &t);
        if (w->stop)
            break;
        pthread_mutex_unlock(&w->lock);
        ring_watch_check(w);
        pthread_mutex_lock(&w->lock);
    }
    pthread_mutex_unlock(&w->lock);
    return NULL;
}

struct ring_watch *ring_watch_new(const char *path, unsigned check_interval_ms,
                                  struct err *e)
{
    struct ring_file_id id;
    struct ring *r = ring_load_id(path, &id, e);
    if (!r)
        return NULL;
    struct ring_watch *w = xcalloc(1, sizeof(*w));
    w->cur = r;
    w->path = xstrdup(path);
    w->interval_ms = check_interval_ms;
    w->loaded = id;
    pthread_mutex_init(&w->lock, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&w->cond, &ca);
    pthread_condattr_destroy(&ca);
    if (check_interval_ms > 0) {
        int rc = pthread_create(&w->thread, NULL, watch_main, w);
        if (rc) {
            err_set(e, -rc, "%s: cannot start the ring watcher thread: %s",
                    path, strerror(rc));
            ring_watch_free(w);
            return NULL;
        }
        w->thread_started = true;
    }
    return w;
}

void ring_watch_free(struct ring_watch *w)
{
    if (!w)
        return;
    if (w->thread_started) {
        pthread_mutex_lock(&w->lock);
        w->stop = true;
        pthread_cond_signal(&w->cond);
        pthread_mutex_unlock(&w->lock);
        pthread_join(w->thread, NULL);
    }
    /* The contract says no reader remains, so no grace period is due. */
    ring_free(w->cur);
    pthread_cond_destroy(&w->cond);
    pthread_mutex_destroy(&w->lock);
    free(w->path);
    free(w);
}

const struct ring *ring_watch_get(struct ring_watch *w)
{
    return rw_fetch(w->cur);
}

uint64_t ring_watch_reloads(struct ring_watch *w)
{
    return __atomic_load_n(&w->reloads, __ATOMIC_RELAXED);
}
