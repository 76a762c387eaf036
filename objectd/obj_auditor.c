/*
 * obj_auditor.c - the object auditor: re-reads every object on every
 * device of the node and checks its body against its MD5, so bit rot is
 * found before a client asks for the object. A corrupt object is moved to
 * quarantined/ (obj_df_verify does it); the suffix hash of its partition
 * changes with it, so the next replication pass of another primary
 * pushes a good copy back.
 *
 * The pass walks each device with obj_df_walk and reads at most
 * auditor_bytes_per_second (the budget is kept over the whole pass, so a
 * big object is followed by a proportional pause, never a busy loop).
 * Every device directory is audited, whether or not a ring names it.
 *
 * Threading: blocking; one pass at a time per process (obj_repl.h).
 */
#define LOG_COMPONENT "objectd"

#include "objectd/obj_repl_int.h"

#include <dirent.h>
#include <errno.h>
#include <string.h>

#include "common/log.h"
#include "common/util.h"
#include "objectd/obj_diskfile.h"
#include "objectd/obj_server.h"

struct audit {
    struct obj_bg *bg;
    struct obj_bg_stats *st;
    const char *dev;
    uint64_t t0_ns;
};

/* Sleeps until the bytes read so far fit the configured rate. */
static bool throttle(struct audit *a)
{
    uint64_t rate = a->bg->srv->conf.auditor_bytes_per_second;
    if (rate == 0)
        return atomic_load(&a->bg->stopping);
    uint64_t due_ms = a->st->bytes * 1000 / rate;
    uint64_t spent_ms = (now_mono_ns() - a->t0_ns) / 1000000;
    if (due_ms > spent_ms)
        return obj_bg_sleep(a->bg, due_ms - spent_ms);
    return atomic_load(&a->bg->stopping);
}

static int audit_one(uint32_t part, const char *suffix, const char *hash,
                     void *arg)
{
    struct audit *a = arg;
    (void)suffix;
    struct obj_df_reader *rd = NULL;
    int rc = obj_df_open(a->bg->srv->devs, a->dev, part, hash, 0, &rd);
    if (rc != 0) {
        log_warn("audit %s/%u/%s: %s", a->dev, part, hash, strerror(-rc));
        return 0;
    }
    const struct obj_df_info *in = obj_df_info(rd);
    if (in->state == OBJ_DF_EXISTS || in->state == OBJ_DF_EXPIRED) {
        a->st->checked++;
        rc = obj_df_verify(rd);
        a->st->bytes += in->content_length;
        if (rc == -EUCLEAN) {
            a->st->quarantined++;
            log_warn("audit %s/%u/%s: body does not match its ETag; "
                     "quarantined", a->dev, part, hash);
        } else if (rc != 0 && rc != -ENOENT) {
            log_warn("audit %s/%u/%s: %s", a->dev, part, hash, strerror(-rc));
        }
    }
    obj_df_reader_free(rd);
    return throttle(a) ? -ECANCELED : 0;
}

int obj_auditor_once(struct obj_bg *bg, struct obj_bg_stats *st)
{
    DIR *d = opendir(bg->srv->conf.devices);
    if (!d)
        return -errno;
    struct audit a = { .bg = bg, .st = st, .t0_ns = now_mono_ns() };
    struct dirent *de;
    int rc = 0;
    while ((de = readdir(d)) != NULL) {
        if (de->d_name[0] == '.' ||
            obj_devices_check(bg->srv->devs, de->d_name) != 0)
            continue;
        a.dev = de->d_name;
        rc = obj_df_walk(bg->srv->devs, de->d_name, NULL, NULL, audit_one, &a);
        if (rc == -ECANCELED) {
            rc = 0;
            break;
        }
        if (rc != 0)
            log_warn("audit %s: %s", de->d_name, strerror(-rc));
        rc = 0;
    }
    closedir(d);
    return rc;
}
