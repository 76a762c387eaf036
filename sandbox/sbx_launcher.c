/*
 * sbx_launcher.c - the launcher: a single-threaded poll loop that creates
 * sandboxes on request, relays their output, enforces the time and output
 * limits, and answers with how each one ended.
 *
 * Why a separate process: the servers are multi-threaded and large; forking
 * them is unsafe and slow (DESIGN §5, sandbox.md §4.5). The launcher holds no
 * object-store state, only its clients' sockets and its sandboxes.
 *
 * Per sandbox ("job") the loop watches: the init's pidfd (the end), the
 * ctl socket (init's report of the storlet's wait status), the output pipe
 * (read side; counted against output_max, resets the idle timer) and the
 * caller's output fd (written non-blocking; while it is full the pipe is not
 * read, so the storlet blocks instead of the launcher buffering). Deadlines
 * (wall, idle) are checked on every wake-up. A job ends when its init has
 * been reaped and its output pipe reached EOF; the kill of init takes the
 * whole pid namespace with it.
 *
 * Warm pool: `prewarm` keeps N ready sandboxes of a (policy, code_dir)
 * key; a run request with warm=true takes one (pool hit) and only sends the
 * exec order; the pool is refilled one sandbox per loop turn.
 *
 * Admission: at most max_sandboxes live sandboxes (running and warm; ended
 * ones being reaped do not count), and at most tenant_max running ones per
 * tenant, so one tenant never holds every sandbox. Warm sandboxes never
 * refuse a run: every storlet version run keeps a pool, so a tenant
 * deploying enough versions (or a busy node, in time) would otherwise fill
 * the launcher with warm sandboxes and refuse every other tenant's runs; a
 * run that finds it full evicts a warm sandbox of the least recently used
 * pool instead, and that pool stops refilling.
 */
#include "sandbox/sbx_int.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <jansson.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/bug.h"
#include "common/log.h"
#include "common/util.h"
#include "common/xalloc.h"

#define RELAY_BUF 65536

struct conn {
    int fd;
    bool dead;
    struct conn *next;
};

/* WARM: built, waiting for an exec order. RUNNING: storlet started.
 * ENDED: result sent (or warm sandbox died); waiting for init to be reaped
 * and the cgroup removed, off the request's critical path. */
enum job_state { JOB_WARM, JOB_RUNNING, JOB_ENDED };

struct job {
    struct job *next;
    enum job_state state;
    uint64_t id;               /* the client's id */
    struct conn *conn;         /* NULL while warm */
    struct sbx_policy pol;
    char *key;                 /* policy JSON + "|" + code_dir: pool key */
    struct sbx_cg cg;
    bool has_cg;
    struct sbx_proc sp;
    int out_caller;            /* caller's output fd, or -1 */
    bool out_eof;
    char *buf;                 /* relay buffer (RELAY_BUF) */
    size_t blen, boff;
    uint64_t t_req, t_exec, t_last_out;
    uint64_t out_bytes;
    bool killed;
    enum sbx_end forced;
    bool reaped;
    int init_status;
    struct rusage ru;
    bool have_rep;
    struct sbx_init_report rep;
    bool warm_hit;
    bool ready;                /* init sent "R" */
    uint64_t t_ready;
    bool setup_failed;
    char path[SBX_PATH_MAX];
    char why[160];             /* detail when ended by an error */
};

struct pool {
    char *key;
    struct sbx_policy pol;
    char *code_dir;
    unsigned want;
    uint64_t used_us;          /* last prewarm or run of this key (eviction) */
    uint64_t retry_at;         /* after a failed build, wait before the next */
    struct conn *waiter;       /* answer "prewarmed" once want are ready */
    /* cgroups of this pool's ended sandboxes, empty, kept for its next
     * ones: removing a group and making one costs the loop milliseconds
     * (a v1 rmdir waits for the kernel); one of the same key has the same
     * limits and only ever held this tenant's sandboxes */
    struct sbx_cg *spare;
    unsigned nspare;
    struct pool *next;
};

static struct {
    struct sbx_launcher_opts opts;
    struct sock_fprog filt_user, filt_admin;
    struct conn *conns;
    struct job *jobs;
    struct pool *pools;
    unsigned njobs;
    uint64_t next_cg_id;
    bool netns_warned;
} L;

/* ------------------------------------------------------------ helpers */

static void reply_json(struct conn *c, json_t *o)
{
    char *s = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    if (!s || !c || c->dead) {
        free(s);
        return;
    }
    if (sbx_send_msg(c->fd, s, strlen(s), NULL, 0) < 0)
        c->dead = true;
    free(s);
}

static void reply_error(struct conn *c, uint64_t id, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void reply_error(struct conn *c, uint64_t id, const char *fmt, ...)
{
    struct sbx_result r;
    memset(&r, 0, sizeof(r));
    r.end = SBX_END_ERROR;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r.detail, sizeof(r.detail), fmt, ap);
    va_end(ap);
    char *s = sbx_result_to_json(id, &r);
    if (!c->dead && sbx_send_msg(c->fd, s, strlen(s), NULL, 0) < 0)
        c->dead = true;
    free(s);
}

static uint64_t now_us(void)
{
    return now_mono_ns() / 1000;
}

static void close_fd(int *fd)
{
    if (*fd != -1) {
        close(*fd);
        *fd = -1;
    }
}

static void job_free(struct job *j)
{
    if (!j)
        return;
    close_fd(&j->sp.pidfd);
    close_fd(&j->sp.ctl);
    close_fd(&j->sp.out_rd);
    close_fd(&j->out_caller);
    if (j->has_cg)
        sbx_cg_destroy(&j->cg);
    free(j->buf);
    free(j->key);
    free(j);
    L.njobs--;
}

static void job_kill(struct job *j, enum sbx_end why)
{
    if (!j->killed) {
        j->killed = true;
        j->forced = why;
    }
    if (!j->reaped && j->sp.pid > 0) {
        kill(j->sp.pid, SIGKILL);
        if (j->pol.weaken & SBX_WEAKEN_PIDNS)
            kill(-j->sp.pid, SIGKILL);
    }
    if (j->has_cg)
        sbx_cg_kill(&j->cg);
}

/* A pool's key: the policy and the code. The wall time is left out: it
 * only bounds a run (each request brings its own, its input's budget) and
 * shapes nothing a warm sandbox is built with. */
static char *make_key(const struct sbx_policy *p, const char *code_dir)
{
    struct sbx_policy kp = *p;
    kp.wall_ms = 0;
    char *pj = sbx_policy_to_json(&kp);
    char *k = xasprintf("%s|%s", pj, code_dir ? code_dir : "");
    free(pj);
    return k;
}

static struct pool *pool_find(const char *key)
{
    for (struct pool *pl = L.pools; pl; pl = pl->next)
        if (strcmp(pl->key, key) == 0)
            return pl;
    return NULL;
}

/* Keeps j's group for its pool's next sandbox when the group is empty and
 * the pool wants one; returns true if kept (j no longer owns it). */
static bool cg_keep_spare(struct job *j)
{
    struct pool *pl = j->has_cg ? pool_find(j->key) : NULL;
    if (!pl || pl->nspare >= pl->want + 1 || !sbx_cg_empty(&j->cg))
        return false;
    pl->spare = xrealloc(pl->spare, (pl->nspare + 1) * sizeof(*pl->spare));
    pl->spare[pl->nspare++] = j->cg;
    j->has_cg = false;
    return true;
}

/* Sandboxes that count against max_sandboxes: all but the ended ones,
 * whose teardown is under way. */
static unsigned live_jobs(void)
{
    unsigned n = 0;
    for (struct job *j = L.jobs; j; j = j->next)
        if (j->state != JOB_ENDED)
            n++;
    return n;
}

/* Makes room for a run: ends one warm sandbox of the least recently used
 * pool that has one, and retires that pool (no more refills). Returns
 * false when no warm sandbox is there to evict. */
static bool evict_warm(void)
{
    struct pool *lru = NULL;
    for (struct pool *pl = L.pools; pl; pl = pl->next) {
        if (lru && pl->used_us >= lru->used_us)
            continue;
        for (struct job *j = L.jobs; j; j = j->next)
            if (j->state == JOB_WARM && !j->reaped && strcmp(j->key, pl->key) == 0) {
                lru = pl;
                break;
            }
    }
    if (!lru)
        return false;
    for (struct job *j = L.jobs; j; j = j->next)
        if (j->state == JOB_WARM && !j->reaped && strcmp(j->key, lru->key) == 0) {
            j->state = JOB_ENDED;
            job_kill(j, SBX_END_ERROR);
            lru->want = 0;
            log_info("launcher full: warm sandbox of tenant %u evicted, its pool retired",
                     j->pol.tenant);
            return true;
        }
    return false;
}

/* Builds a ready sandbox (state WARM); for a run, a full launcher evicts a
 * warm sandbox first. Returns NULL with detail on failure. */
static struct job *job_build(const struct sbx_policy *p, const char *code_dir, bool for_run,
                             char *detail, size_t detailsz)
{
    unsigned live = live_jobs();
    if (live >= L.opts.max_sandboxes && !(for_run && evict_warm())) {
        snprintf(detail, detailsz, SBX_DETAIL_BUSY "launcher holds %u sandboxes", live);
        return NULL;
    }
    struct job *j = xcalloc(1, sizeof(*j));
    L.njobs++;
    j->pol = *p;
    j->sp.pid = -1;
    j->sp.pidfd = j->sp.ctl = j->sp.out_rd = -1;
    j->out_caller = -1;
    j->key = make_key(p, code_dir);
    j->state = JOB_WARM;
    struct pool *pl = pool_find(j->key);
    if (sbx_cg_mode() != SBX_CGROUP_NONE && !(p->weaken & SBX_WEAKEN_CGROUP) &&
        pl && pl->nspare > 0) {
        j->cg = pl->spare[--pl->nspare];
        sbx_cg_reuse(&j->cg);
        j->has_cg = true;
    } else if (sbx_cg_mode() != SBX_CGROUP_NONE && !(p->weaken & SBX_WEAKEN_CGROUP)) {
        int rc = sbx_cg_create(&j->cg, ++L.next_cg_id, p);
        if (rc < 0) {
            snprintf(detail, detailsz, "cgroup: %s", strerror(-rc));
            job_free(j);
            return NULL;
        }
        j->has_cg = true;
    }
    int netns = -1;
    if (!(p->weaken & SBX_WEAKEN_NETNS)) {
        netns = sbx_netns_tenant(p->tenant, sbx_policy_host_id(p));
        if (netns < 0 && !L.netns_warned) {
            log_warn("no network namespace per tenant (%s): each sandbox gets its own",
                     strerror(-netns));
            L.netns_warned = true;
        }
    }
    /* the prepared root, unless a control run wants the host's root or
     * its /proc (sbx_root.c) */
    int root_ns = -1;
    if (!(p->weaken & (SBX_WEAKEN_ROOTFS | SBX_WEAKEN_PIDNS)))
        root_ns = sbx_root_ns(p->inside_id);
    int procs[3] = { -1, -1, -1 };
    if (j->has_cg) {
        int rc = sbx_cg_procs_fds(&j->cg, procs);
        if (rc < 0) {
            snprintf(detail, detailsz, "cgroup.procs: %s", strerror(-rc));
            job_free(j);
            return NULL;
        }
    }
    struct sbx_spawn_args a = {
        .root_ns = root_ns < 0 ? -1 : root_ns,
        .cg_procs = j->has_cg ? procs : NULL,
        .netns = netns,
        .policy = p,
        .seccomp = (p->weaken & SBX_WEAKEN_SECCOMP) ? NULL
                   : p->class == SBX_CLASS_ADMIN ? &L.filt_admin : &L.filt_user,
        .code_dir = code_dir,
    };
    if (sbx_spawn(&a, &j->sp, detail, detailsz) < 0) {
        job_free(j);
        return NULL;
    }
    return j;
}

/* ------------------------------------------------------------ requests */

static const char **str_array(json_t *a, size_t max, bool *ok)
{
    *ok = true;
    if (!a)
        return NULL;
    if (!json_is_array(a) || json_array_size(a) > max) {
        *ok = false;
        return NULL;
    }
    const char **v = xcalloc(json_array_size(a) + 1, sizeof(*v));
    for (size_t i = 0; i < json_array_size(a); i++) {
        v[i] = json_string_value(json_array_get(a, i));
        if (!v[i]) {
            *ok = false;
            free(v);
            return NULL;
        }
    }
    return v;
}

/* Takes a warm sandbox for key out of the list: a ready one if any, else
 * one still being built (its exec order waits in its socket). */
static struct job *pool_take(const char *key)
{
    for (int pass = 0; pass < 2; pass++) {
        for (struct job **pp = &L.jobs; *pp; pp = &(*pp)->next) {
            struct job *j = *pp;
            if (j->state == JOB_WARM && !j->reaped && !j->setup_failed &&
                (j->ready || pass == 1) && strcmp(j->key, key) == 0) {
                *pp = j->next;
                j->next = NULL;
                return j;
            }
        }
    }
    return NULL;
}

static void handle_run(struct conn *c, json_t *o, int *fds, size_t nfds, uint64_t t0)
{
    json_int_t idv = 0;
    json_t *pol = NULL, *argv_j = NULL, *env_j = NULL, *tg_j = NULL;
    const char *path = NULL, *code_dir = NULL;
    int warm = 0, relay = 1, want_started = 0;
    const char **argv = NULL, **env = NULL;
    struct job *j = NULL;
    json_error_t je;
    if (json_unpack_ex(o, &je, 0, "{s:I, s:o, s:s, s?o, s?o, s?s, s?o, s?b, s?b, s?b}",
                       "id", &idv, "policy", &pol, "path", &path, "argv", &argv_j,
                       "env", &env_j, "code_dir", &code_dir, "fd_targets", &tg_j,
                       "warm", &warm, "relay", &relay, "started", &want_started) < 0) {
        reply_error(c, (uint64_t)idv, "bad request: %s", je.text);
        goto out;
    }
    uint64_t id = (uint64_t)idv;
    struct err e;
    err_clear(&e);
    struct sbx_policy p;
    char *pjs = json_dumps(pol, JSON_COMPACT);
    int rc = pjs ? sbx_policy_from_json(pjs, &p, &e) : -EINVAL;
    free(pjs);
    if (rc < 0) {
        reply_error(c, id, "%s", e.msg);
        goto out;
    }
    if (p.weaken && !L.opts.allow_weaken) {
        reply_error(c, id, "policy: weaken is for tests and this launcher refuses it");
        goto out;
    }
    bool ok1, ok2;
    argv = str_array(argv_j, 255, &ok1);
    env = str_array(env_j, 255, &ok2);
    if (!ok1 || !ok2 || path[0] != '/') {
        reply_error(c, id, "bad request: path must be absolute, argv/env arrays of strings");
        goto out;
    }
    int targets[SBX_FD_MAX];
    size_t nt = tg_j ? json_array_size(tg_j) : 0;
    if ((tg_j && !json_is_array(tg_j)) || nt != nfds) {
        reply_error(c, id, "bad request: %zu fds sent, %zu targets named", nfds, nt);
        goto out;
    }
    bool seen[SBX_FD_MAX] = { false };
    for (size_t i = 0; i < nt; i++) {
        json_t *t = json_array_get(tg_j, i);
        json_int_t v = json_is_integer(t) ? json_integer_value(t) : -1;
        if (v < 0 || v >= SBX_FD_MAX || seen[v]) {
            reply_error(c, id, "bad request: fd target %d invalid or repeated", (int)v);
            goto out;
        }
        seen[v] = true;
        targets[i] = (int)v;
    }

    char detail[160] = "";
    if (L.opts.tenant_max) {
        unsigned mine = 0;
        for (struct job *o2 = L.jobs; o2; o2 = o2->next)
            if (o2->state == JOB_RUNNING && o2->pol.tenant == p.tenant &&
                o2->pol.uid_base == p.uid_base)
                mine++;
        if (mine >= L.opts.tenant_max) {
            log_warn("run for tenant %u refused: %u of its sandboxes running", p.tenant, mine);
            reply_error(c, id, SBX_DETAIL_BUSY "tenant %u runs %u sandboxes", p.tenant, mine);
            goto out;
        }
    }
    if (warm) {
        char *key = make_key(&p, code_dir);
        struct pool *upl = pool_find(key);
        if (upl)
            upl->used_us = now_us();
        j = pool_take(key);
        free(key);
    }
    if (!j) {
        j = job_build(&p, code_dir, true, detail, sizeof(detail));
        if (!j) {
            log_warn("sandbox for tenant %u not built: %s", p.tenant, detail);
            reply_error(c, id, "%s", detail);
            goto out;
        }
    } else {
        j->warm_hit = true;
        j->pol.wall_ms = p.wall_ms;   /* this run's budget (make_key) */
    }
    j->state = JOB_RUNNING;
    if (j->has_cg)
        sbx_cg_set_running(&j->cg, true);
    j->id = id;
    j->conn = c;
    j->t_req = t0;
    str_copy(j->path, path, sizeof(j->path));

    /* the storlet's output goes through a pipe we relay and count */
    int pfd[2] = { -1, -1 };
    int send_fds[SBX_FD_MAX];
    for (size_t i = 0; i < nfds; i++) {
        send_fds[i] = fds[i];
        if (targets[i] == SBX_FD_OUTPUT && relay) {
            if (pipe2(pfd, O_CLOEXEC) == -1) {
                snprintf(detail, sizeof(detail), "pipe: %s", strerror(errno));
                goto fail_job;
            }
            fcntl(pfd[0], F_SETFL, O_NONBLOCK);
            fcntl(fds[i], F_SETFL, fcntl(fds[i], F_GETFL) | O_NONBLOCK);
            j->sp.out_rd = pfd[0];
            j->out_caller = fds[i];
            fds[i] = -1;         /* owned by the job now */
            send_fds[i] = pfd[1];
            j->buf = xmalloc(RELAY_BUF);
        }
    }
    if (j->sp.out_rd == -1)
        j->out_eof = true;
    const char *argv0[2] = { path, NULL };
    rc = sbx_spawn_exec(&j->sp, path, argv && argv[0] ? argv : argv0, env,
                        send_fds, targets, nfds);
    if (pfd[1] != -1)
        close(pfd[1]);
    if (rc < 0) {
        snprintf(detail, sizeof(detail), "exec order: %s", strerror(-rc));
        goto fail_job;
    }
    j->t_exec = j->t_last_out = now_us();
    j->next = L.jobs;
    L.jobs = j;
    /* only for a client that asked (tests want the pid): anyone else
     * would be woken for nothing while its storlet starts */
    if (want_started)
        reply_json(c, json_pack("{s:s, s:I, s:i, s:b, s:s}", "op", "started", "id",
                                (json_int_t)id, "pid", (int)j->sp.pid, "warm",
                                j->warm_hit, "cgroup",
                                j->has_cg ? sbx_cgroup_mode_name(j->cg.mode) : "none"));
    goto out;
fail_job:
    job_kill(j, SBX_END_ERROR);
    if (j->sp.pid > 0)
        waitpid(j->sp.pid, NULL, 0);
    j->sp.pid = -1;
    job_free(j);
    reply_error(c, id, "%s", detail);
out:
    free(argv);
    free(env);
}

static void handle_prewarm(struct conn *c, json_t *o)
{
    json_t *pol = NULL;
    const char *code_dir = NULL;
    json_int_t count = 0;
    json_error_t je;
    struct err e;
    struct sbx_policy p;
    err_clear(&e);
    if (json_unpack_ex(o, &je, 0, "{s:o, s:I, s?s}", "policy", &pol, "count", &count,
                       "code_dir", &code_dir) < 0 || count < 0 || count > 64) {
        reply_json(c, json_pack("{s:s, s:s}", "op", "error", "detail",
                                "bad prewarm request"));
        return;
    }
    char *pjs = json_dumps(pol, JSON_COMPACT);
    int rc = pjs ? sbx_policy_from_json(pjs, &p, &e) : -EINVAL;
    free(pjs);
    if (rc == 0 && p.weaken && !L.opts.allow_weaken)
        rc = err_set(&e, -EPERM, "policy: weaken refused");
    if (rc < 0) {
        reply_json(c, json_pack("{s:s, s:s}", "op", "error", "detail", e.msg));
        return;
    }
    char *key = make_key(&p, code_dir);
    struct pool *pl;
    for (pl = L.pools; pl; pl = pl->next)
        if (strcmp(pl->key, key) == 0)
            break;
    if (!pl) {
        pl = xcalloc(1, sizeof(*pl));
        pl->key = key;
        pl->pol = p;
        pl->code_dir = code_dir ? xstrdup(code_dir) : NULL;
        pl->next = L.pools;
        L.pools = pl;
    } else {
        free(key);
    }
    pl->want = (unsigned)count;
    pl->used_us = now_us();
    /* start them all now; the reply goes out once they are ready */
    unsigned have = 0;
    for (struct job *j = L.jobs; j; j = j->next)
        if (j->state == JOB_WARM && strcmp(j->key, pl->key) == 0)
            have++;
    char detail[160] = "";
    while (have < pl->want) {
        struct job *j = job_build(&pl->pol, pl->code_dir, false, detail, sizeof(detail));
        if (!j) {
            reply_json(c, json_pack("{s:s, s:i, s:s}", "op", "prewarmed", "ready",
                                    (int)have, "detail", detail));
            return;
        }
        j->next = L.jobs;
        L.jobs = j;
        have++;
    }
    pl->waiter = c;
}

/* Answers prewarm requests whose sandboxes are all ready (or failed). */
static void answer_prewarms(void)
{
    for (struct pool *pl = L.pools; pl; pl = pl->next) {
        if (!pl->waiter)
            continue;
        unsigned ready = 0, pending = 0;
        for (struct job *j = L.jobs; j; j = j->next) {
            if (j->state != JOB_WARM || strcmp(j->key, pl->key) != 0)
                continue;
            if (j->ready)
                ready++;
            else if (!j->setup_failed && !j->reaped)
                pending++;
        }
        if (pending && ready < pl->want)
            continue;
        if (!pl->waiter->dead)
            reply_json(pl->waiter, json_pack("{s:s, s:i, s:s}", "op", "prewarmed",
                                             "ready", (int)ready, "detail",
                                             ready < pl->want ? "setup failed" : ""));
        pl->waiter = NULL;
    }
}

/* A client ends one of its own runs for a reason only it can see (with
 * "relay": false it enforces the output cap and the idle timeout). */
static void handle_kill(struct conn *c, json_t *o)
{
    json_int_t idv = 0;
    const char *end = NULL;
    if (json_unpack(o, "{s:I, s:s}", "id", &idv, "end", &end) < 0) {
        reply_error(c, 0, "bad kill request");
        return;
    }
    int why = sbx_end_parse(end);
    if (why != SBX_END_IDLE && why != SBX_END_OUTPUT_CAP && why != SBX_END_TIMEOUT &&
        why != SBX_END_ERROR) {
        reply_error(c, (uint64_t)idv, "kill: end must be idle, output_cap, timeout or error");
        return;
    }
    for (struct job *j = L.jobs; j; j = j->next)
        if (j->state == JOB_RUNNING && j->conn == c && j->id == (uint64_t)idv) {
            if (why == SBX_END_ERROR && !j->killed)
                snprintf(j->why, sizeof(j->why), "ended by the client");
            job_kill(j, (enum sbx_end)why);
            return;
        }
    /* already ended: its result is on its way */
}

static void handle_msg(struct conn *c)
{
    static char buf[SBX_MSG_MAX];
    int fds[SBX_FD_MAX];
    size_t nfds = SBX_FD_MAX;
    uint64_t t0 = now_us();
    ssize_t n = sbx_recv_msg(c->fd, buf, sizeof(buf), fds, &nfds);
    if (n == 0 || (n < 0 && n != -EMSGSIZE && n != -EAGAIN)) {
        c->dead = true;
        return;
    }
    if (n < 0) {
        log_warn("client message too large or with too many fds; dropped");
        reply_error(c, 0, "request too large or too many fds");
        return;
    }
    json_error_t je;
    json_t *o = json_loadb(buf, (size_t)n, JSON_REJECT_DUPLICATES, &je);
    const char *op = o ? json_string_value(json_object_get(o, "op")) : NULL;
    if (op && strcmp(op, "run") == 0)
        handle_run(c, o, fds, nfds, t0);
    else if (op && strcmp(op, "prewarm") == 0)
        handle_prewarm(c, o);
    else if (op && strcmp(op, "kill") == 0)
        handle_kill(c, o);
    else
        reply_error(c, 0, "bad request: %s", o ? "unknown op" : je.text);
    json_decref(o);
    for (size_t i = 0; i < nfds; i++)
        if (fds[i] != -1)
            close(fds[i]);
}

/* ------------------------------------------------------------ job events */

static void relay(struct job *j)
{
    for (;;) {
        if (j->blen > j->boff) {
            ssize_t w = write(j->out_caller, j->buf + j->boff, j->blen - j->boff);
            if (w > 0) {
                j->boff += (size_t)w;
                /* time spent waiting for a slow reader is not the
                 * storlet's silence: restart the no-output clock */
                if (j->boff == j->blen)
                    j->t_last_out = now_us();
                continue;
            }
            if (w == -1 && (errno == EAGAIN || errno == EINTR))
                return;
            /* the caller closed its end: nobody wants the output */
            j->blen = j->boff = 0;
            job_kill(j, SBX_END_ERROR);
            snprintf(j->why, sizeof(j->why), "output reader went away");
            j->out_eof = true;
            close_fd(&j->sp.out_rd);
            return;
        }
        if (j->out_eof || j->sp.out_rd == -1)
            return;
        j->blen = j->boff = 0;
        ssize_t r = read(j->sp.out_rd, j->buf, RELAY_BUF);
        if (r > 0) {
            j->t_last_out = now_us();
            j->out_bytes += (uint64_t)r;
            if (j->pol.output_max && j->out_bytes > j->pol.output_max) {
                /* pass on exactly the allowed bytes, then stop it */
                uint64_t over = j->out_bytes - j->pol.output_max;
                j->blen = (size_t)r - (size_t)over;
                j->out_bytes = j->pol.output_max;
                job_kill(j, SBX_END_OUTPUT_CAP);
                close_fd(&j->sp.out_rd);
                j->out_eof = true;
                continue;   /* flush what is allowed */
            }
            j->blen = (size_t)r;
            continue;
        }
        if (r == 0) {
            j->out_eof = true;
            close_fd(&j->sp.out_rd);
            return;
        }
        if (errno == EAGAIN || errno == EINTR)
            return;
        j->out_eof = true;
        close_fd(&j->sp.out_rd);
        return;
    }
}

/* Reads what init sent on ctl: "R" ready, "E<text>" setup failed,
 * "S<report>" the storlet was reaped. */
static void read_ctl(struct job *j)
{
    while (!j->have_rep && j->sp.ctl != -1) {
        char msg[256];
        ssize_t n = recv(j->sp.ctl, msg, sizeof(msg) - 1, MSG_DONTWAIT);
        if (n == -1 && (errno == EAGAIN || errno == EINTR))
            return;
        if (n == 1 && msg[0] == 'R') {
            j->ready = true;
            j->t_ready = now_us();
            continue;
        }
        if (n > 1 && msg[0] == 'E') {
            msg[n] = '\0';
            j->setup_failed = true;
            snprintf(j->why, sizeof(j->why), "sandbox setup: %.140s", msg + 1);
            log_warn("sandbox for tenant %u not built: %s", j->pol.tenant, msg + 1);
        } else if (n == (ssize_t)(1 + sizeof(j->rep)) && msg[0] == 'S') {
            memcpy(&j->rep, msg + 1, sizeof(j->rep));
            j->have_rep = true;
        }
        close_fd(&j->sp.ctl);
        break;
    }
    /* without a pid namespace, leftovers are not killed by init's death */
    if (j->have_rep && (j->pol.weaken & SBX_WEAKEN_PIDNS)) {
        kill(-j->sp.pid, SIGKILL);
        if (j->has_cg)
            sbx_cg_kill(&j->cg);
    }
}

static void reap(struct job *j)
{
    int st;
    pid_t w = wait4(j->sp.pid, &st, WNOHANG, &j->ru);
    if (w != j->sp.pid)
        return;
    j->reaped = true;
    j->init_status = st;
    close_fd(&j->sp.pidfd);
    read_ctl(j);
    close_fd(&j->sp.ctl);
}

/* The OOM count is a cgroup file read: asked only for the ends it can
 * explain, not on the path of every clean exit. */
static uint64_t oom_kills(struct job *j)
{
    return j->has_cg ? sbx_cg_oom_kills(&j->cg) : 0;
}

static void classify(struct job *j, struct sbx_result *r)
{
    if (j->killed) {
        r->end = j->forced;
        if (j->forced == SBX_END_ERROR)
            snprintf(r->detail, sizeof(r->detail), "%s", j->why);
        return;
    }
    if (j->setup_failed) {
        r->end = SBX_END_ERROR;
        snprintf(r->detail, sizeof(r->detail), "%s", j->why);
        return;
    }
    if (!j->have_rep) {
        uint64_t oom = oom_kills(j);
        r->end = oom ? SBX_END_OOM : SBX_END_ERROR;
        if (!oom)
            snprintf(r->detail, sizeof(r->detail), "sandbox init ended without a "
                     "report (status 0x%x)", j->init_status);
        return;
    }
    if (j->rep.kind == 1) {
        r->end = SBX_END_ERROR;
        snprintf(r->detail, sizeof(r->detail), "exec %.100s: %s", j->path,
                 strerror(j->rep.err));
        return;
    }
    int st = j->rep.status;
    if (WIFEXITED(st)) {
        r->end = SBX_END_EXIT;
        r->exit_code = WEXITSTATUS(st);
        return;
    }
    int sig = WIFSIGNALED(st) ? WTERMSIG(st) : 0;
    r->signo = sig;
    if (sig == SIGSYS)
        r->end = SBX_END_SECCOMP;
    else if (sig == SIGKILL && oom_kills(j))
        r->end = SBX_END_OOM;
    else if (sig == SIGXCPU ||
             (sig == SIGKILL && j->pol.cpu_seconds &&
              r->cpu_us >= j->pol.cpu_seconds * 1000000))
        r->end = SBX_END_CPU_LIMIT;
    else
        r->end = SBX_END_SIGNAL;
}

static void job_finish(struct job *j)
{
    struct sbx_result r;
    memset(&r, 0, sizeof(r));
    if (j->have_rep) {
        r.cpu_us = j->rep.cpu_us;
        r.max_rss_kb = j->rep.max_rss_kb;
    } else {
        r.cpu_us = (uint64_t)j->ru.ru_utime.tv_sec * 1000000 +
                   (uint64_t)j->ru.ru_utime.tv_usec +
                   (uint64_t)j->ru.ru_stime.tv_sec * 1000000 +
                   (uint64_t)j->ru.ru_stime.tv_usec;
        r.max_rss_kb = (uint64_t)j->ru.ru_maxrss;
    }
    classify(j, &r);
    r.wall_us = now_us() - j->t_req;
    /* how long the request waited for its sandbox to be ready */
    r.setup_us = j->ready && j->t_ready > j->t_req ? j->t_ready - j->t_req : 0;
    r.output_bytes = j->out_bytes;
    r.cpu_throttled = j->has_cg ? sbx_cg_throttled(&j->cg) : 0;
    if (j->has_cg)
        sbx_cg_set_running(&j->cg, false);
    r.host_pid = j->sp.pid;
    r.warm = j->warm_hit;
    if (r.end != SBX_END_EXIT)
        log_info("sandbox tenant %u pid %d ended: %s %s", j->pol.tenant, (int)j->sp.pid,
                 sbx_end_name(r.end), r.detail);
    if (j->conn && !j->conn->dead) {
        char *s = sbx_result_to_json(j->id, &r);
        if (sbx_send_msg(j->conn->fd, s, strlen(s), NULL, 0) < 0)
            j->conn->dead = true;
        free(s);
    }
    j->state = JOB_ENDED;
    j->conn = NULL;
    close_fd(&j->sp.out_rd);
    close_fd(&j->out_caller);
    free(j->buf);
    j->buf = NULL;
    j->blen = j->boff = 0;
    if (!j->reaped)
        kill(j->sp.pid, SIGKILL);   /* init exits by itself; make sure */
}

/* ------------------------------------------------------------ the loop */

/*
 * When to build a pool's next warm sandbox. Not while a storlet runs, unless
 * the pool is empty: a build is a clone in this loop and a millisecond of
 * CPU in the new init, and on a small host that time came out of the
 * running invocation (its storlet, init's report, this loop's result, the
 * daemon's response), which is the latency a warm sandbox is there to cut.
 * The pool is refilled when no storlet runs: right after a run's result
 * went out, or when the loop has been idle.
 */
static bool runs_active(void)
{
    for (struct job *j = L.jobs; j; j = j->next)
        if (j->state == JOB_RUNNING)
            return true;
    return false;
}

static bool pool_needs(const struct pool *pl, bool running)
{
    unsigned have = 0;
    for (struct job *j = L.jobs; j; j = j->next)
        if (j->state == JOB_WARM && strcmp(j->key, pl->key) == 0)
            have++;
    return have < pl->want && now_us() >= pl->retry_at && (!running || have == 0);
}

/* True when some pool should get a sandbox now. */
static bool refill_wanted(void)
{
    if (live_jobs() >= L.opts.max_sandboxes)
        return false;   /* a run may evict a warm one; a refill waits */
    bool running = runs_active();
    for (struct pool *pl = L.pools; pl; pl = pl->next)
        if (pool_needs(pl, running))
            return true;
    return false;
}

static void refill_pools(void)
{
    if (live_jobs() >= L.opts.max_sandboxes)
        return;
    bool running = runs_active();
    for (struct pool *pl = L.pools; pl; pl = pl->next) {
        if (pool_needs(pl, running)) {
            char detail[160];
            struct job *j = job_build(&pl->pol, pl->code_dir, false, detail, sizeof(detail));
            if (!j) {
                log_warn("warm sandbox not built: %s", detail);
                pl->retry_at = now_us() + 1000000;
                return;
            }
            j->next = L.jobs;
            L.jobs = j;
            return;   /* one per turn keeps the loop responsive */
        }
    }
}

static void drop_dead_conns(void)
{
    for (struct conn **cp = &L.conns; *cp;) {
        struct conn *c = *cp;
        if (!c->dead) {
            cp = &c->next;
            continue;
        }
        for (struct job *j = L.jobs; j; j = j->next)
            if (j->conn == c) {
                job_kill(j, SBX_END_ERROR);
                snprintf(j->why, sizeof(j->why), "client went away");
                j->conn = NULL;
            }
        for (struct pool *pl = L.pools; pl; pl = pl->next)
            if (pl->waiter == c)
                pl->waiter = NULL;
        *cp = c->next;
        close(c->fd);
        free(c);
    }
}

static volatile sig_atomic_t stop_requested;

static void on_stop(int sig)
{
    (void)sig;
    stop_requested = 1;
}

static int setup(const struct sbx_launcher_opts *opts)
{
    memset(&L, 0, sizeof(L));
    if (opts)
        L.opts = *opts;
    if (!L.opts.max_sandboxes)
        L.opts.max_sandboxes = 256;
    signal(SIGPIPE, SIG_IGN);
    /* SIGTERM/SIGINT end the loop cleanly (sandboxes killed, cgroups
     * removed); they are blocked except inside ppoll, so none is lost. */
    stop_requested = 0;
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_stop;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    sigset_t block;
    sigemptyset(&block);
    sigaddset(&block, SIGTERM);
    sigaddset(&block, SIGINT);
    sigprocmask(SIG_BLOCK, &block, NULL);
    /* the launcher's supplementary groups (root's!) would otherwise be
     * inherited by every sandbox, where setgroups is denied */
    if (getuid() == 0 && setgroups(0, NULL) == -1) {
        log_err("setgroups: %s", strerror(errno));
        return -errno;
    }
    /* each sandbox's cgroup keeps up to six files open (sbx_cgroup.c):
     * with --max 256, beyond the common soft limit of 1024 */
    struct rlimit nl;
    if (getrlimit(RLIMIT_NOFILE, &nl) == 0 && nl.rlim_cur < nl.rlim_max) {
        nl.rlim_cur = nl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &nl);
    }
    int rc = sbx_seccomp_build(true, &L.filt_user);
    if (rc == 0)
        rc = sbx_seccomp_build(false, &L.filt_admin);
    if (rc < 0) {
        log_err("cannot build the seccomp filter: %s", strerror(-rc));
        return rc;
    }
    sbx_cg_global_init(L.opts.force_no_cgroup);
    if ((rc = sbx_netns_init()) < 0)
        log_warn("cannot open the launcher's network namespace: %s", strerror(-rc));
    if ((rc = sbx_root_init()) < 0)
        log_warn("cannot open the launcher's mount namespace: %s", strerror(-rc));
    return 0;
}

static void teardown(void)
{
    while (L.jobs) {
        struct job *j = L.jobs;
        L.jobs = j->next;
        job_kill(j, SBX_END_ERROR);
        if (!j->reaped && j->sp.pid > 0)
            waitpid(j->sp.pid, NULL, 0);
        job_free(j);
    }
    while (L.conns) {
        struct conn *c = L.conns;
        L.conns = c->next;
        close(c->fd);
        free(c);
    }
    while (L.pools) {
        struct pool *pl = L.pools;
        L.pools = pl->next;
        for (unsigned i = 0; i < pl->nspare; i++)
            sbx_cg_destroy(&pl->spare[i]);
        free(pl->spare);
        free(pl->key);
        free(pl->code_dir);
        free(pl);
    }
    sbx_cg_global_release();
    sbx_netns_release();
    sbx_root_release();
    sbx_seccomp_free(&L.filt_user);
    sbx_seccomp_free(&L.filt_admin);
}

int sbx_launcher_serve(int listen_fd, int conn_fd, const struct sbx_launcher_opts *opts)
{
    int rc = setup(opts);
    if (rc < 0)
        return rc;
    if (conn_fd != -1) {
        struct conn *c = xcalloc(1, sizeof(*c));
        c->fd = conn_fd;
        L.conns = c;
    }
    size_t cap = 64;
    struct pollfd *pf = xmalloc(cap * sizeof(*pf));
    bool last_idle = true, finished = false;
    while (!stop_requested) {
        answer_prewarms();
        drop_dead_conns();
        if (listen_fd == -1 && !L.conns)
            break;
        /* Refilling costs a clone (copying the mount table): do it only
         * when the last wait saw nothing to do or a run has just ended
         * (its result is out), so it never delays a running sandbox's
         * end or a new request; refill_wanted says when not at all. */
        if (last_idle || finished)
            refill_pools();
        finished = false;
        bool want_refill = refill_wanted();
        /* build the poll set: listener, clients, then per job up to 4 */
        size_t need = 1 + 64 + (size_t)L.njobs * 4;
        for (struct conn *c = L.conns; c; c = c->next)
            need++;
        if (need > cap) {
            cap = need * 2;
            pf = xrealloc(pf, cap * sizeof(*pf));
        }
        size_t n = 0;
        if (listen_fd != -1)
            pf[n++] = (struct pollfd){ listen_fd, POLLIN, 0 };
        size_t conn0 = n;
        for (struct conn *c = L.conns; c; c = c->next)
            pf[n++] = (struct pollfd){ c->fd, POLLIN, 0 };
        size_t job0 = n;
        uint64_t now = now_us(), next = UINT64_MAX;
        for (struct job *j = L.jobs; j; j = j->next) {
            int a = -1, b = -1, d = -1, e = -1;
            /* An ended run's init exits by itself right after its report
             * (and was sent a SIGKILL anyway): it is reaped at the loop's
             * next wake-up, or within 5 ms, instead of waking the loop
             * once more per run for it. */
            if (!j->reaped && j->state != JOB_ENDED)
                a = j->sp.pidfd;
            if (j->state == JOB_WARM && !j->ready)
                e = j->sp.ctl;
            if (j->state == JOB_RUNNING) {
                if (j->blen > j->boff)
                    d = j->out_caller;
                else if (!j->out_eof)
                    b = j->sp.out_rd;
                if (!j->have_rep)
                    e = j->sp.ctl;
                if (j->pol.wall_ms) {
                    uint64_t t = j->t_req + j->pol.wall_ms * 1000;
                    next = next < t ? next : t;
                }
                if (j->pol.idle_ms && j->sp.out_rd != -1) {
                    uint64_t t = j->t_last_out + j->pol.idle_ms * 1000;
                    next = next < t ? next : t;
                }
            } else if (j->state == JOB_ENDED) {
                /* reap, or retry the rmdir */
                next = next < now + 5000 ? next : now + 5000;
            }
            pf[n++] = (struct pollfd){ a, POLLIN, 0 };
            pf[n++] = (struct pollfd){ b, POLLIN, 0 };
            pf[n++] = (struct pollfd){ d, POLLOUT, 0 };
            pf[n++] = (struct pollfd){ e, POLLIN, 0 };
        }
        struct timespec ts, *tsp = NULL;
        if (want_refill && (next == UINT64_MAX || next > now + 1000))
            next = now + 1000;
        if (next != UINT64_MAX) {
            uint64_t wait = next <= now ? 0 : next - now;
            ts.tv_sec = (time_t)(wait / 1000000);
            ts.tv_nsec = (long)(wait % 1000000) * 1000;
            tsp = &ts;
        }
        sigset_t open_mask;
        sigprocmask(SIG_SETMASK, NULL, &open_mask);
        sigdelset(&open_mask, SIGTERM);
        sigdelset(&open_mask, SIGINT);
        if (stop_requested)
            break;
        int pr = ppoll(pf, n, tsp, &open_mask);
        last_idle = pr == 0;
        if (pr == -1 && errno != EINTR) {
            rc = -errno;
            log_err("poll: %s", strerror(errno));
            break;
        }
        if (pr == -1 || stop_requested)
            continue;
        /* jobs first (they index into pf by position) */
        size_t k = job0;
        now = now_us();
        for (struct job *j = L.jobs; j; j = j->next, k += 4) {
            if (j->state == JOB_WARM && pf[k + 3].revents)
                read_ctl(j);
            if (j->state == JOB_RUNNING) {
                if (pf[k + 1].revents || pf[k + 2].revents)
                    relay(j);
                if (pf[k + 3].revents)
                    read_ctl(j);
                if (!j->killed && !(j->have_rep && j->out_eof)) {
                    if (j->pol.wall_ms && now >= j->t_req + j->pol.wall_ms * 1000)
                        job_kill(j, SBX_END_TIMEOUT);
                    else if (j->pol.idle_ms && j->sp.out_rd != -1 &&
                             j->blen == j->boff &&
                             now >= j->t_last_out + j->pol.idle_ms * 1000)
                        job_kill(j, SBX_END_IDLE);
                }
            }
            if (pf[k].revents || (j->state == JOB_ENDED && !j->reaped))
                reap(j);
        }
        for (struct job **jp = &L.jobs; *jp;) {
            struct job *j = *jp;
            if (j->state == JOB_RUNNING) {
                bool ended = (j->have_rep || j->reaped) && j->out_eof &&
                             j->blen == j->boff;
                /* output still unread after the storlet ended and the
                 * deadline passed: the reader is too slow; give up on it */
                if (!ended && (j->have_rep || j->reaped) && j->pol.wall_ms &&
                    now >= j->t_req + j->pol.wall_ms * 1000) {
                    if (!j->killed) {
                        j->killed = true;
                        j->forced = SBX_END_TIMEOUT;
                    }
                    ended = true;
                }
                if (ended) {
                    job_finish(j);
                    finished = true;
                }
            } else if (j->state == JOB_WARM && j->reaped) {
                j->state = JOB_ENDED;   /* died while waiting: back off */
                for (struct pool *pl = L.pools; pl; pl = pl->next)
                    if (strcmp(pl->key, j->key) == 0)
                        pl->retry_at = now_us() + 1000000;
            }
            if (j->state == JOB_ENDED && j->reaped &&
                (!j->has_cg || cg_keep_spare(j) || sbx_cg_try_remove(&j->cg))) {
                j->has_cg = false;
                *jp = j->next;
                job_free(j);
                continue;
            }
            jp = &j->next;
        }
        k = conn0;
        for (struct conn *c = L.conns; c; c = c->next, k++)
            if (!c->dead && pf[k].revents)
                handle_msg(c);
        if (listen_fd != -1 && (pf[0].revents & POLLIN)) {
            int fd = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC);
            if (fd != -1) {
                struct conn *c = xcalloc(1, sizeof(*c));
                c->fd = fd;
                c->next = L.conns;
                L.conns = c;
            }
        }
    }
    free(pf);
    teardown();
    return rc;
}

int sbx_launcher_fork(const struct sbx_launcher_opts *opts, int *pid)
{
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) == -1)
        return -errno;
    pid_t p = fork();
    if (p == -1) {
        int rc = -errno;
        close(sv[0]);
        close(sv[1]);
        return rc;
    }
    if (p == 0) {
        close(sv[0]);
        prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
        int rc = sbx_launcher_serve(-1, sv[1], opts);
        _exit(rc < 0 ? 1 : 0);
    }
    close(sv[1]);
    *pid = (int)p;
    return sv[0];
}

int sbx_launcher_exec(const char *prog, int listen_fd, const struct sbx_launcher_opts *opts,
                      int log_level, const char *log_facility)
{
    /* everything the child needs is made before the fork */
    static const char *const lvl_names[] = { "err", "warning", "notice", "info", "debug" };
    const char *lvl = log_level >= LOG_LVL_ERR && log_level <= LOG_LVL_DEBUG
                      ? lvl_names[log_level - LOG_LVL_ERR] : "notice";
    char max[16], tmax[16];
    snprintf(max, sizeof(max), "%u", opts ? opts->max_sandboxes : 0);
    snprintf(tmax, sizeof(tmax), "%u", opts ? opts->tenant_max : 0);
    const char *argv[18];
    size_t n = 0;
    argv[n++] = prog;
    argv[n++] = "--listen-fd";
    argv[n++] = "3";
    argv[n++] = "--log-level";
    argv[n++] = lvl;
    if (log_facility && log_facility[0]) {
        argv[n++] = "--log-facility";
        argv[n++] = log_facility;
    }
    if (opts && opts->force_no_cgroup)
        argv[n++] = "--no-cgroup";
    if (opts && opts->allow_weaken)
        argv[n++] = "--allow-weaken";
    if (opts && opts->max_sandboxes) {
        argv[n++] = "--max";
        argv[n++] = max;
    }
    if (opts && opts->tenant_max) {
        argv[n++] = "--tenant-max";
        argv[n++] = tmax;
    }
    argv[n] = NULL;
    pid_t parent = getpid();
    pid_t p = fork();
    if (p == -1)
        return -errno;
    if (p > 0)
        return (int)p;
    /* child: only async-signal-safe calls until the exec */
    prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
    if (getppid() != parent)
        _exit(1);   /* the daemon died before the line above */
    if (listen_fd != 3 && dup2(listen_fd, 3) == -1)
        _exit(127);
    if (fcntl(3, F_SETFD, 0) == -1)
        _exit(127);
    syscall(SYS_close_range, 4u, ~0u, 0u);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    signal(SIGPIPE, SIG_DFL);
    execv(prog, (char *const *)argv);
    static const char msg[] = "cannot exec the storlet launcher program\n";
    if (write(STDERR_FILENO, msg, sizeof(msg) - 1) < 0)
        _exit(127);
    _exit(127);
}
