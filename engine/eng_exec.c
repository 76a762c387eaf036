/*
 * eng_exec.c - the execution service: the launcher, and one storlet
 * invocation driven by the daemon's event loop.
 *
 * The launcher is the cairn-sbx-launch program next to the daemon's binary,
 * started by eng_start() before the daemon makes threads (a fork and an
 * exec: every sandbox it clones then copies its small address space, not
 * the daemon's), listening on a seqpacket socket in a private directory. An invocation makes
 * its pipes and the metadata socket and sends the run request with the
 * storlet's ends attached on its thread's launcher connection (one per
 * thread, shared by its runs: "launcher connections" below), closing its
 * own copies at once; the result arrives on the same connection, and a run
 * freed before it is cancelled with a kill. Everything - the request, writing the invocation document,
 * reading the output metadata, output with back-pressure, feeding input,
 * keeping the log, the result - happens on the run's event_base,
 * non-blocking; no thread is made per run.
 *
 * The storlet writes its output straight into our pipe (the launcher's
 * "relay": false): we count it against output_max and keep the no-progress
 * clock, because only here are all of a storlet's kinds of progress seen -
 * input consumed, output produced, services requests - and ask the launcher
 * to kill the sandbox when a limit is crossed. The wall clock stays the
 * launcher's: it kills a run at its wall budget, the configured wall time
 * plus the time the run's input takes at the minimum input rate
 * (eng_wall_budget_ms). Here a run given input is also held to that rate
 * as it goes: once it has lasted longer than the configured wall time plus
 * the time the input it has consumed so far takes at the rate, it is
 * killed as if at its deadline - a large input earns time only by being
 * read, so a runaway storlet on one is stopped at the base.
 *
 * Memory per run is bounded: the output buffer takes one pipe read (64 KiB)
 * at a time and stops while the consumer pauses; the log keeps 1 MiB; the
 * metadata frame is at most 64 KiB.
 *
 * Threading: a run belongs to its base's thread and is touched by no other.
 */
#include "engine/eng.h"
#include "engine/eng_frame.h"
#include "engine/eng_int.h"
#include "engine/eng_slot.h"
#include "engine/eng_tail.h"

#include <errno.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#define LOG_COMPONENT "engine"
#include "common/log.h"
#include "common/bug.h"
#include "common/md5.h"
#include "common/names.h"
#include "common/util.h"
#include "common/xalloc.h"
#include "sandbox/sbx.h"

#define FRAME_IN_MAX 65536
#define LOG_KEEP (1024 * 1024)
#define LOG_TAIL 1024
/* Most log bytes read from one storlet: every byte costs this daemon's
 * thread a copy, outside the sandbox's CPU quota (a storlet writing its log
 * flat out kept a fifth of a CPU of the object server busy), so a log
 * beyond this ends the run. */
#define LOG_READ_MAX (16 * 1024 * 1024)
#define OUT_CHUNK 65536

/* ------------------------------------------------------------ engine */

#define LAUNCHER_PROG "cairn-sbx-launch"

/* The launcher program lies next to the daemon's own binary (build/ in a
 * source tree, BINDIR once installed). Returns 0 with its path, or -errno
 * (-ENOENT: not there). */
static int launcher_prog(char *buf, size_t sz)
{
    char exe[4096];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
    if (n <= 0)
        return -errno;
    exe[n] = '\0';
    char *slash = strrchr(exe, '/');
    if (!slash)
        return -ENOENT;
    *slash = '\0';
    int w = snprintf(buf, sz, "%s/%s", exe, LAUNCHER_PROG);
    if (w < 0 || (size_t)w >= sz)
        return -ENAMETOOLONG;
    return access(buf, X_OK) == 0 ? 0 : -errno;
}

/*
 * The launcher's socket lives in a private directory under $TMPDIR, as a
 * user would expect of any temporary file (a test points it into its own
 * directory, so that a daemon it kills with SIGKILL leaves nothing behind;
 * systemd's PrivateTmp does the same for the units), or under /tmp when
 * TMPDIR is unset, relative, or too long for a socket's path.
 */
static void make_run_template(char *out, size_t n)
{
    static const char leaf[] = "/cairn-eng.XXXXXX";
    const char *t = getenv("TMPDIR");
    size_t tl = t ? strlen(t) : 0;
    while (tl > 1 && t[tl - 1] == '/')
        tl--;
    /* the socket's path adds "/launcher" to the directory's */
    size_t room = sizeof(((struct eng *)NULL)->sock_path) - sizeof("/launcher");
    if (!t || t[0] != '/' || tl + sizeof(leaf) > n || tl + sizeof(leaf) > room) {
        t = "/tmp";
        tl = 4;
    }
    snprintf(out, n, "%.*s%s", (int)tl, t, leaf);
}

/* This thread's connection to the launcher: see "launcher connections". */
struct eng_lconn {
    struct eng_lconn *next;
    pthread_t owner;
    struct sbx_client *cl;     /* NULL once closed */
    bool broken;               /* a send failed: no new runs */
    struct event *ev;          /* storage for event_assign */
    bool ev_added;
    struct eng_run **runs;     /* runs waiting for their results */
    size_t nruns, cap;
};

struct eng *eng_start(const struct eng_config *cfg, struct err *e)
{
    struct eng *g = xcalloc(1, sizeof(*g));
    g->cache_dir = xstrdup(cfg->cache_dir);
    g->sdk_path = cfg->sdk_path ? xstrdup(cfg->sdk_path) : NULL;
    g->wall_ms = cfg->wall_ms;
    g->min_input_rate = cfg->min_input_rate;
    g->idle_ms = cfg->idle_ms;
    g->output_max = cfg->output_max;
    g->admin_cpu_weight = cfg->admin_cpu_weight;
    g->uid_base = cfg->uid_base ? cfg->uid_base : SBX_UID_BASE_DEFAULT;
    g->warm = cfg->warm;
    g->cache_max = cfg->cache_max;
    g->launcher_pid = -1;
    pthread_mutex_init(&g->lock, NULL);
    int lfd = -1;

    if (eng_cache_init(g, e) < 0)
        goto fail;
    {
        char sp[4096];
        snprintf(sp, sizeof(sp), "%s/tenant-slots", g->cache_dir);
        g->slots = eng_slots_open(sp, SBX_TENANT_MAX, e);
        if (!g->slots)
            goto fail;
    }
    make_run_template(g->run_dir, sizeof(g->run_dir));
    if (!mkdtemp(g->run_dir)) {
        err_set(e, -errno, "engine: mkdtemp %s: %s", g->run_dir, strerror(errno));
        g->run_dir[0] = '\0';
        goto fail;
    }
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    snprintf(g->sock_path, sizeof(g->sock_path), "%s/launcher", g->run_dir);
    str_copy(sa.sun_path, g->sock_path, sizeof(sa.sun_path));
    lfd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
    if (lfd == -1 || bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) == -1 ||
        listen(lfd, 128) == -1) {
        err_set(e, -errno, "engine: launcher socket %s: %s", g->sock_path, strerror(errno));
        goto fail;
    }
    struct sbx_launcher_opts lo = { .force_no_cgroup = cfg->no_cgroup,
                                    .tenant_max = cfg->tenant_max ? cfg->tenant_max
                                                                  : ENG_TENANT_RUNS_MAX };
    char prog[4096];
    pid_t p;
    if (launcher_prog(prog, sizeof(prog)) == 0) {
        p = sbx_launcher_exec(prog, lfd, &lo, (int)log_get_level(), cfg->log_facility);
        if (p < 0) {
            err_set(e, p, "engine: fork: %s", strerror(-p));
            goto fail;
        }
    } else {
        /* a binary that is not one of the daemons (unit tests) */
        log_notice("no %s next to this program: the storlet launcher is a fork of it",
                   LAUNCHER_PROG);
        pid_t parent = getpid();
        p = fork();
        if (p == -1) {
            err_set(e, -errno, "engine: fork: %s", strerror(errno));
            goto fail;
        }
        if (p == 0) {
            prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
            if (getppid() != parent)
                _exit(1);
            signal(SIGPIPE, SIG_IGN);
            int rc = sbx_launcher_serve(lfd, -1, &lo);
            _exit(rc < 0 ? 1 : 0);
        }
    }
    g->launcher_pid = (int)p;
    close(lfd);
    log_info("storlet launcher pid %d at %s", (int)p, g->sock_path);
    return g;
fail:
    if (lfd >= 0)
        close(lfd);
    eng_free(g);
    return NULL;
}

void eng_free(struct eng *g)
{
    if (!g)
        return;
    if (g->launcher_pid > 0) {
        kill(g->launcher_pid, SIGKILL);
        while (waitpid(g->launcher_pid, NULL, 0) == -1 && errno == EINTR)
            ;
    }
    if (g->sock_path[0])
        unlink(g->sock_path);
    if (g->run_dir[0])
        rmdir(g->run_dir);
    /* no libevent call: the daemons' bases are gone by now */
    while (g->lconns) {
        struct eng_lconn *lc = g->lconns;
        g->lconns = lc->next;
        sbx_client_free(lc->cl);
        free(lc->ev);
        free(lc->runs);
        free(lc);
    }
    eng_slots_free(g->slots);
    eng_cache_release_all(g);
    for (size_t i = 0; i < g->nwarmed; i++)
        free(g->warmed[i]);
    free(g->warmed);
    pthread_mutex_destroy(&g->lock);
    free(g->cache_dir);
    free(g->sdk_path);
    free(g);
}

/* ------------------------------------------------------------ the run */

struct eng_run {
    struct eng *g;
    struct event_base *base;
    const struct eng_run_ops *ops;
    void *arg;
    /* the sandbox: its launcher connection and how it ended */
    struct sbx_policy pol;
    struct eng_lconn *lc;      /* this thread's launcher connection */
    bool waiting;              /* in lc's list: its result is still to come */
    uint64_t run_id;
    int rc;                    /* < 0: no result (err says why) */
    char err[ERR_MSG_MAX];
    struct sbx_result res;
    bool kill_sent;
    /* limits enforced here (see the file comment) */
    uint64_t out_max;          /* 0 = none */
    uint64_t idle_ns;          /* 0 = none */
    uint64_t last_progress;    /* now_mono_ns() of the last progress seen */
    struct event *ev_tick;
    /* input consumption as the tick sees it: bytes we wrote and bytes
     * still unread in the pipe at the last tick; after the input's end a
     * read-only reopening of the pipe (in_probe) still shows what is
     * unread; an input given as a file shows its offset (in_file) */
    uint64_t in_seen;
    int in_unread;
    int in_probe, in_file;
    off_t in_pos;
    /* the wall budget earned by reading (file comment): base_ms before
     * any input is consumed; rate 0 when it does not apply */
    uint64_t base_ms, rate, consumed;
    char *account, *storlet, *etag;
    char *txn;                 /* for the accounting line */
    int code_hold;             /* the code directory, held in use */
    enum eng_op op;
    bool on_proxy;
    uint64_t t0;

    int in_wr, out_rd, log_rd, meta_fd;
    struct eng_svc *svc;
    struct event *ev_in, *ev_out, *ev_log, *ev_meta, *ev_doc;

    char *doc;
    size_t doc_len, doc_off;

    char *min;
    size_t min_len;
    bool meta_got, meta_eof, proto_err;
    char proto_why[256];
    char *err_reason;
    json_t *out_meta;
    char *content_type;

    struct evbuffer *outbuf;
    bool out_eof, out_paused, started, in_broken, in_ended;
    uint64_t bytes_in, bytes_out;

    struct evbuffer *log;
    bool log_cut, log_eof;
    uint64_t log_read;
    char tail[LOG_TAIL];
    size_t tail_len;

    bool result_got, finished;
    /* Frames of eng_exec.c on the stack that still use r (event callbacks,
     * eng_run_resume_output): a user callback they call may cancel r, so
     * run_free then only marks it and the outermost frame frees it. */
    unsigned busy;
    bool free_pending;
};

/* ------------------------------------------------------------ launcher connections */

/*
 * One connection to the launcher per thread (and engine), shared by that
 * thread's runs and told apart by request id: a connect and an accept per
 * run cost the daemon and the launcher a wake-up and a few syscalls each,
 * and the launcher one more for the hang-up. A run ended before its result
 * came is cancelled with a kill (the launcher then kills its sandbox), no
 * longer by closing its own connection.
 *
 * The engine's list (under g->lock) only finds a thread's connection; once
 * found, only that thread touches it. Its read event exists while runs wait
 * for results, on the base of the run that made the first of them wait (a
 * thread runs one base at a time): the daemons free their bases before the
 * engine, so no event may outlive its base, and eng_free() makes no
 * libevent call. A connection that failed a send is not given new runs and
 * is closed once its last run has its result; one the launcher hung up on
 * ends all its runs with that error.
 */

static void set_nonblock(int fd);
static void lconn_cb(evutil_socket_t fd, short what, void *arg);

/* This thread's connection to the launcher (made on first use), or NULL
 * with e set. */
static struct eng_lconn *lconn_get(struct eng *g, struct err *e)
{
    pthread_t self = pthread_self();
    pthread_mutex_lock(&g->lock);
    struct eng_lconn *lc = g->lconns;
    while (lc && !(pthread_equal(lc->owner, self) && lc->cl && !lc->broken))
        lc = lc->next;
    pthread_mutex_unlock(&g->lock);
    if (lc)
        return lc;
    struct sbx_client *cl = sbx_client_connect(g->sock_path);
    if (!cl) {
        err_set(e, -errno, "storlet launcher %s: %s", g->sock_path, strerror(errno));
        return NULL;
    }
    set_nonblock(sbx_client_fd(cl));
    lc = xcalloc(1, sizeof(*lc));
    lc->owner = self;
    lc->cl = cl;
    lc->ev = xcalloc(1, event_get_struct_event_size());
    pthread_mutex_lock(&g->lock);
    lc->next = g->lconns;
    g->lconns = lc;
    pthread_mutex_unlock(&g->lock);
    return lc;
}

/* r's result is now awaited on lc (its request went out). */
static void lconn_wait(struct eng_lconn *lc, struct eng_run *r)
{
    if (lc->nruns == lc->cap) {
        lc->cap = lc->cap ? lc->cap * 2 : 8;
        lc->runs = xrealloc(lc->runs, lc->cap * sizeof(*lc->runs));
    }
    lc->runs[lc->nruns++] = r;
    r->waiting = true;
    if (!lc->ev_added) {
        event_assign(lc->ev, r->base, sbx_client_fd(lc->cl), EV_READ | EV_PERSIST,
                     lconn_cb, lc);
        event_add(lc->ev, NULL);
        lc->ev_added = true;
    }
}

/* r waits no longer (its result came, or it was freed before). */
static void lconn_unwait(struct eng_lconn *lc, struct eng_run *r)
{
    if (!r->waiting)
        return;
    r->waiting = false;
    for (size_t i = 0; i < lc->nruns; i++)
        if (lc->runs[i] == r) {
            lc->runs[i] = lc->runs[--lc->nruns];
            break;
        }
    if (lc->nruns == 0 && lc->ev_added) {
        event_del(lc->ev);
        lc->ev_added = false;
    }
    if (lc->nruns == 0 && lc->broken && lc->cl) {
        sbx_client_free(lc->cl);
        lc->cl = NULL;
    }
}

/* Sends a kill for run id on lc. A full socket gets a short wait (the
 * launcher reads all the time); when the kill cannot be sent at all, the
 * connection is shut down, which makes the launcher kill every sandbox of
 * it: the runs sharing it end with an error, but no sandbox outlives the
 * reason it was to be killed for. */
static void lconn_kill(struct eng_lconn *lc, uint64_t id, enum sbx_end why, const char *name)
{
    if (!lc->cl)
        return;
    struct err e;
    err_clear(&e);
    int rc = sbx_client_send_kill(lc->cl, id, why, &e);
    if (rc == -EAGAIN || rc == -EWOULDBLOCK) {
        struct pollfd pf = { .fd = sbx_client_fd(lc->cl), .events = POLLOUT };
        if (poll(&pf, 1, 1000) == 1) {
            err_clear(&e);
            rc = sbx_client_send_kill(lc->cl, id, why, &e);
        }
    }
    if (rc < 0) {
        log_warn("storlet %s: kill (%s): %s", name, sbx_end_name(why), e.msg);
        shutdown(sbx_client_fd(lc->cl), SHUT_RDWR);
        lc->broken = true;
    }
}

static void set_nonblock(int fd)
{
    int fl = fcntl(fd, F_GETFL);
    if (fl != -1)
        fcntl(fd, F_SETFL, fl | O_NONBLOCK);
}

static const char *op_name(enum eng_op op)
{
    return op == ENG_OP_GET ? "GET" : op == ENG_OP_PUT ? "PUT" : "COPY";
}

static json_t *build_doc(const struct eng_invocation *inv, const struct sbx_policy *pol)
{
    const struct eng_code *c = inv->code;
    char path[2048], cobj[2048];
    snprintf(path, sizeof(path), "/v1/%s/%s/%s", inv->account, inv->container, inv->object);
    snprintf(cobj, sizeof(cobj), "%s/%s", inv->container, inv->object);
    json_t *req = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "method", op_name(inv->op),
                            "account", inv->account, "container", inv->container, "object",
                            inv->object, "path", path, "trans_id",
                            inv->trans_id ? inv->trans_id : "", "run_on",
                            inv->on_proxy ? "proxy" : "object");
    if (!req)
        return NULL;
    if (inv->has_range)
        json_object_set_new(req, "range",
                            json_pack("{s:I, s:I, s:I}", "first", (json_int_t)inv->range_first,
                                      "last", (json_int_t)inv->range_last, "size",
                                      (json_int_t)inv->range_size));
    else
        json_object_set_new(req, "range", json_null());
    json_t *in = json_pack("{s:i, s:s}", "fd", 0, "path", cobj);
    json_object_set_new(in, "content_length", inv->content_length >= 0
                                                  ? json_integer(inv->content_length)
                                                  : json_null());
    json_object_set_new(in, "content_type",
                        json_string(inv->content_type ? inv->content_type
                                                      : "application/octet-stream"));
    json_object_set_new(in, "metadata", c->object_metadata && inv->metadata
                                            ? json_deep_copy(inv->metadata)
                                            : json_object());
    json_t *limits = json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I}",
                               "wall_ms", (json_int_t)pol->wall_ms,
                               "idle_ms", (json_int_t)pol->idle_ms,
                               "output_max", (json_int_t)pol->output_max,
                               "memory_bytes", (json_int_t)pol->mem_bytes,
                               "scratch_bytes", (json_int_t)pol->scratch_bytes,
                               "cpu_seconds", (json_int_t)pol->cpu_seconds,
                               "pids_max", (json_int_t)pol->pids_max);
    json_t *caller = json_pack("{s:s, s:s}", "account",
                               inv->caller_account ? inv->caller_account : inv->account,
                               "user", inv->caller_user ? inv->caller_user : "");
    json_object_set_new(caller, "roles", inv->caller_roles ? json_deep_copy(inv->caller_roles)
                                                           : json_array());
    json_t *st = json_pack("{s:s, s:s, s:s, s:s}", "name", c->name, "language", c->language,
                           "main", c->main, "etag", c->etag);
    json_t *params = inv->parameters ? json_deep_copy(inv->parameters) : json_object();
    json_t *doc = json_pack("{s:s, s:s, s:o, s:o, s:o, s:o, s:[o], s:o, s:b}", "type",
                            "invocation", "interface_version", "1.0", "storlet", st,
                            "parameters", params, "request", req, "caller", caller,
                            "inputs", in, "limits", limits, "services",
                            inv->svc_host != NULL);
    return doc;
}

static void finish(struct eng_run *r);

/* Asks the launcher to end the sandbox now, reporting `why`. Once only;
 * if the launcher cannot be told, closing the connection makes it kill the
 * sandbox anyway (the run then ends with "no sandbox"; lconn_kill). */
static void kill_run(struct eng_run *r, enum sbx_end why)
{
    if (r->kill_sent || r->result_got || !r->waiting)
        return;
    r->kill_sent = true;
    lconn_kill(r->lc, r->run_id, why, r->storlet);
}

static void progress(struct eng_run *r)
{
    r->last_progress = now_mono_ns();
}

static void check_end(struct eng_run *r)
{
    if (r->finished || !r->result_got)
        return;
    bool ok = r->rc == 0 && r->res.end == SBX_END_EXIT && r->res.exit_code == 0 &&
              !r->proto_err;
    if (ok && (!r->out_eof || evbuffer_get_length(r->outbuf) > 0))
        return;   /* output still to relay */
    finish(r);
}

static void offer_output(struct eng_run *r)
{
    if (!r->started) {
        r->started = true;
        struct eng_meta m = { .metadata = r->out_meta, .content_type = r->content_type };
        r->ops->start(r, &m, r->arg);
        if (r->finished)
            return;
    }
    while (evbuffer_get_length(r->outbuf) > 0 && !r->out_paused) {
        size_t before = evbuffer_get_length(r->outbuf);
        r->ops->output(r, r->outbuf, r->arg);
        if (r->finished || evbuffer_get_length(r->outbuf) == before)
            break;
    }
}

/*
 * out_io for a consumer that moves the output itself (ops->output_fd): the
 * bytes go from the pipe to it without being read here. The pipe's end and
 * the output cap are seen with FIONREAD and poll: the pipe is readable but
 * empty only at its end (POLLHUP), and the consumer is never offered more
 * than the cap allows, so a pipe holding bytes at the cap is over it.
 */
static void out_move(struct eng_run *r, int fd)
{
    int avail = 0;
    if (ioctl(fd, FIONREAD, &avail) == -1) {
        snprintf(r->proto_why, sizeof(r->proto_why), "output pipe: %s", strerror(errno));
        r->proto_err = true;
        avail = 0;
    }
    if (avail <= 0) {
        struct pollfd pf = { .fd = fd, .events = POLLIN };
        if (!r->proto_err && (poll(&pf, 1, 0) != 1 || !(pf.revents & POLLHUP)))
            return;   /* not the end: a wakeup with nothing to move */
        r->out_eof = true;
        event_del(r->ev_out);
        if (r->proto_err)
            kill_run(r, SBX_END_ERROR);
        check_end(r);
        return;
    }
    size_t want = (size_t)avail;
    if (r->out_max && r->bytes_out + want > r->out_max)
        want = (size_t)(r->out_max - r->bytes_out);
    if (want == 0) {
        r->out_eof = true;
        event_del(r->ev_out);
        kill_run(r, SBX_END_OUTPUT_CAP);
        check_end(r);
        return;
    }
    if (!r->started) {
        offer_output(r);   /* start the response before the first byte */
        if (r->finished || r->out_paused)
            return;
    }
    ssize_t n = r->ops->output_fd(r, fd, want, r->arg);
    if (r->finished)
        return;
    if (n > 0) {
        r->bytes_out += (uint64_t)n;
        progress(r);
        return;
    }
    r->out_paused = true;   /* the consumer resumes us */
    event_del(r->ev_out);
}

static void out_io(evutil_socket_t fd, short what, void *arg)
{
    struct eng_run *r = arg;
    (void)what;
    if (r->ops->output_fd) {
        out_move(r, fd);
        return;
    }
    if (evbuffer_get_length(r->outbuf) >= OUT_CHUNK) {
        event_del(r->ev_out);
        return;
    }
    size_t want = OUT_CHUNK;
    char probe;
    int n;
    if (r->out_max && r->bytes_out + want > r->out_max)
        want = (size_t)(r->out_max - r->bytes_out);
    if (want > 0) {
        n = evbuffer_read(r->outbuf, fd, (int)want);
    } else {
        /* at the cap: one byte more is over it, end of file is not */
        n = (int)read(fd, &probe, 1);
        if (n > 0) {
            r->out_eof = true;
            event_del(r->ev_out);
            kill_run(r, SBX_END_OUTPUT_CAP);
            check_end(r);
            return;
        }
    }
    if (n > 0) {
        r->bytes_out += (uint64_t)n;
        progress(r);
        offer_output(r);
        if (r->finished)
            return;
        if (r->out_paused || evbuffer_get_length(r->outbuf) >= OUT_CHUNK)
            event_del(r->ev_out);
        return;
    }
    if (n < 0 && (errno == EAGAIN || errno == EINTR))
        return;
    r->out_eof = true;
    event_del(r->ev_out);
    check_end(r);
}

/* Output is read once the metadata is known; never after a protocol
 * error (the storlet is being killed, and a run that has not started its
 * response then fails before output, with the reason). */
static void enable_output(struct eng_run *r)
{
    if (!r->out_eof && !r->out_paused && !r->proto_err && (r->meta_got || r->meta_eof))
        event_add(r->ev_out, NULL);
}

static void meta_frames(struct eng_run *r)
{
    while (r->min_len >= 4) {
        const unsigned char *u = (const unsigned char *)r->min;
        size_t fl = (size_t)u[0] << 24 | (size_t)u[1] << 16 | (size_t)u[2] << 8 | u[3];
        if (fl == 0 || fl > FRAME_IN_MAX) {
            snprintf(r->proto_why, sizeof(r->proto_why), "frame length %zu out of range", fl);
            r->proto_err = true;
            return;
        }
        if (r->min_len < fl + 4)
            return;
        json_error_t je;
        json_t *f = json_loadb(r->min + 4, fl, JSON_REJECT_DUPLICATES, &je);
        memmove(r->min, r->min + 4 + fl, r->min_len - fl - 4);
        r->min_len -= fl + 4;
        const char *t = json_string_value(json_object_get(f, "type"));
        if (t && strcmp(t, "error") == 0 && json_is_string(json_object_get(f, "reason"))) {
            /* the storlet's last word: a second one is a flood (each
             * frame is parsed on this daemon's thread, and counted as
             * progress) */
            if (r->err_reason) {
                snprintf(r->proto_why, sizeof(r->proto_why), "a second error frame");
                r->proto_err = true;
            } else {
                r->err_reason = xstrndup(json_string_value(json_object_get(f, "reason")),
                                         1024);
            }
        } else if (t && strcmp(t, "metadata") == 0 && !r->meta_got &&
                   json_is_object(json_object_get(f, "metadata"))) {
            json_t *ct = json_object_get(f, "content_type");
            if (!eng_frame_meta_ok(json_object_get(f, "metadata"), ct, r->proto_why,
                                   sizeof(r->proto_why)))
                r->proto_err = true;
            if (!r->proto_err) {
                r->out_meta = json_incref(json_object_get(f, "metadata"));
                r->content_type = ct ? xstrdup(json_string_value(ct)) : NULL;
                r->meta_got = true;
            }
        } else {
            snprintf(r->proto_why, sizeof(r->proto_why), "unexpected frame on fd 3 (%s)",
                     !f ? "not JSON" : t ? t : "no type");
            r->proto_err = true;
        }
        json_decref(f);
        if (r->proto_err)
            return;
    }
}

static void meta_io(evutil_socket_t fd, short what, void *arg)
{
    struct eng_run *r = arg;
    (void)what;
    for (;;) {
        if (r->proto_err || r->min_len >= FRAME_IN_MAX + 4) {
            if (!r->proto_err)
                snprintf(r->proto_why, sizeof(r->proto_why), "frame on fd 3 too long");
            r->proto_err = true;
            break;
        }
        ssize_t n = read(fd, r->min + r->min_len, FRAME_IN_MAX + 4 - r->min_len);
        if (n > 0) {
            r->min_len += (size_t)n;
            progress(r);
            meta_frames(r);
            continue;
        }
        if (n < 0 && (errno == EAGAIN || errno == EINTR))
            break;
        r->meta_eof = true;
        break;
    }
    if (r->meta_eof || r->proto_err)
        event_del(r->ev_meta);
    if (r->proto_err)
        kill_run(r, SBX_END_ERROR);   /* kill the storlet: ABI broken */
    enable_output(r);
}

static void doc_cb(evutil_socket_t fd, short what, void *arg)
{
    struct eng_run *r = arg;
    (void)what;
    while (r->doc_off < r->doc_len) {
        ssize_t w = send(fd, r->doc + r->doc_off, r->doc_len - r->doc_off, MSG_NOSIGNAL);
        if (w > 0) {
            r->doc_off += (size_t)w;
            progress(r);
            continue;
        }
        if (w < 0 && (errno == EAGAIN || errno == EINTR))
            return;
        r->doc_off = r->doc_len;   /* storlet gone: its exit says why */
    }
    event_del(r->ev_doc);
}

static void log_cb(evutil_socket_t fd, short what, void *arg)
{
    struct eng_run *r = arg;
    (void)what;
    char buf[16384];
    ssize_t n = read(fd, buf, sizeof(buf));
    if (n <= 0) {
        if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
            r->log_eof = true;
            event_del(r->ev_log);
        }
        return;
    }
    size_t k = (size_t)n, have = evbuffer_get_length(r->log);
    r->log_read += k;
    if (r->log_read > LOG_READ_MAX) {
        r->log_eof = true;   /* read no more of it */
        event_del(r->ev_log);
        if (!r->proto_err) {
            snprintf(r->proto_why, sizeof(r->proto_why), "log larger than %d MiB",
                     LOG_READ_MAX >> 20);
            r->proto_err = true;
        }
        kill_run(r, SBX_END_ERROR);
    }
    if (have < LOG_KEEP)
        evbuffer_add(r->log, buf, k < LOG_KEEP - have ? k : LOG_KEEP - have);
    if (have + k > LOG_KEEP)
        r->log_cut = true;
    eng_tail_keep(r->tail, LOG_TAIL, &r->tail_len, buf, k);
}

static void in_io(evutil_socket_t fd, short what, void *arg)
{
    struct eng_run *r = arg;
    (void)fd;
    (void)what;
    if (r->ops->input_drain)
        r->ops->input_drain(r, r->arg);
}

/* r's result is in r->res (or r->rc < 0: the launcher hung up). */
static void result_in(struct eng_run *r)
{
    if (r->ev_tick)
        event_del(r->ev_tick);
    r->result_got = true;
    /* the storlet is gone: take what is left of the log and the metadata */
    while (!r->log_eof) {
        size_t before = evbuffer_get_length(r->log) + r->tail_len;
        log_cb(r->log_rd, EV_READ, r);
        if (evbuffer_get_length(r->log) + r->tail_len == before && !r->log_eof)
            break;
    }
    if (!r->meta_eof && !r->proto_err)
        meta_io(r->meta_fd, EV_READ, r);
    check_end(r);
}

static void hold(struct eng_run *r);
static void release(struct eng_run *r);

/* The launcher's connection: results for this thread's runs (or the
 * launcher hung up: every run waiting on it ends with that error). A
 * result for a run no longer waiting (freed, cancelled) is dropped. */
static void lconn_cb(evutil_socket_t fd, short what, void *arg)
{
    struct eng_lconn *lc = arg;
    (void)fd;
    (void)what;
    while (lc->cl) {
        struct err e;
        err_clear(&e);
        struct sbx_result res;
        uint64_t id = 0;
        int rc = sbx_client_next(lc->cl, &id, &res, &e);
        if (rc == 0)
            return;
        if (rc > 0) {
            struct eng_run *r = NULL;
            for (size_t i = 0; i < lc->nruns && !r; i++)
                if (lc->runs[i]->run_id == id)
                    r = lc->runs[i];
            if (!r)
                continue;
            lconn_unwait(lc, r);
            hold(r);
            r->res = res;
            result_in(r);
            release(r);
            continue;
        }
        /* the connection is gone: all its runs end (a callback below may
         * start a run, which then gets a connection of its own) */
        size_t n = lc->nruns;
        struct eng_run **runs = lc->runs;
        lc->runs = NULL;
        lc->nruns = lc->cap = 0;
        lc->broken = true;
        if (lc->ev_added) {
            event_del(lc->ev);
            lc->ev_added = false;
        }
        sbx_client_free(lc->cl);
        lc->cl = NULL;
        for (size_t i = 0; i < n; i++) {
            struct eng_run *r = runs[i];
            r->waiting = false;
            hold(r);
            r->rc = rc;
            str_copy(r->err, e.msg, sizeof(r->err));
            result_in(r);
            release(r);
        }
        free(runs);
        return;
    }
}

/* Every tick of the no-progress clock: progress that no event reports, then
 * the verdict. Progress is the storlet consuming its input, producing
 * output (or metadata), or using services; time it spends waiting for us -
 * its input pipe empty while more input is to come, its output not taken
 * because the consumer is slow, a services request being served - is
 * never its silence. */
static void tick_io(evutil_socket_t fd, short what, void *arg)
{
    struct eng_run *r = arg;
    (void)fd;
    (void)what;
    if (r->result_got || r->kill_sent)
        return;
    int pipe_fd = r->in_wr >= 0 ? r->in_wr : r->in_probe;
    int unread;
    if (pipe_fd >= 0 && ioctl(pipe_fd, FIONREAD, &unread) == 0) {
        /* consumed since the last tick = written since - growth of unread */
        int64_t consumed = (int64_t)(r->bytes_in - r->in_seen) - (unread - r->in_unread);
        if (consumed > 0 || (unread == 0 && r->in_wr >= 0))
            progress(r);   /* it read, or it has read all we had: waiting for us */
        if (consumed > 0)
            r->consumed += (uint64_t)consumed;
        r->in_seen = r->bytes_in;
        r->in_unread = unread;
        if (unread == 0 && r->in_probe >= 0) {
            close(r->in_probe);   /* all of it consumed: nothing more to see */
            r->in_probe = -1;
        }
    }
    if (r->in_file >= 0) {
        off_t pos = lseek(r->in_file, 0, SEEK_CUR);
        if (pos != (off_t)-1 && pos != r->in_pos)
            progress(r);
        if (pos != (off_t)-1 && r->in_pos != (off_t)-1 && pos > r->in_pos)
            r->consumed += (uint64_t)(pos - r->in_pos);
        r->in_pos = pos;
    }
    if (r->out_paused || evbuffer_get_length(r->outbuf) > 0)
        progress(r);   /* our consumer is the slow one */
    if (r->svc && eng_svc_progressed(r->svc))
        progress(r);
    uint64_t now = now_mono_ns();
    if (r->idle_ns && now - r->last_progress >= r->idle_ns)
        kill_run(r, SBX_END_IDLE);
    else if (r->rate &&
             (now - r->t0) / 1000000 > eng_wall_budget_ms(r->base_ms, (int64_t)r->consumed,
                                                          r->rate))
        kill_run(r, SBX_END_TIMEOUT);   /* reads slower than the rate it was given time for */
}

/* The reason from the log's last non-empty line. */
static void tail_reason(struct eng_run *r, char *out, size_t n)
{
    size_t end = r->tail_len;
    while (end > 0 && (r->tail[end - 1] == '\n' || r->tail[end - 1] == '\r' ||
                       r->tail[end - 1] == ' '))
        end--;
    size_t start = end;
    while (start > 0 && r->tail[start - 1] != '\n')
        start--;
    size_t len = end - start < n - 1 ? end - start : n - 1;
    memcpy(out, r->tail + start, len);
    out[len] = '\0';
}

/* A run freed while its sandbox may still run: the launcher kills it (its
 * result, when it comes, is dropped). */
static void run_cancel(struct eng_run *r)
{
    if (!r->lc || !r->waiting)
        return;
    lconn_unwait(r->lc, r);
    if (!r->kill_sent) {
        r->kill_sent = true;
        lconn_kill(r->lc, r->run_id, SBX_END_ERROR, r->storlet ? r->storlet : "?");
    }
}

static void run_free_now(struct eng_run *r)
{
    eng_svc_free(r->svc);
    struct event *evs[] = { r->ev_in, r->ev_out, r->ev_log, r->ev_meta, r->ev_doc, r->ev_tick };
    for (size_t i = 0; i < ARRAY_SIZE(evs); i++)
        if (evs[i])
            event_free(evs[i]);
    int fds[] = { r->in_wr, r->out_rd, r->log_rd, r->meta_fd, r->in_probe, r->in_file };
    for (size_t i = 0; i < ARRAY_SIZE(fds); i++)
        if (fds[i] >= 0)
            close(fds[i]);
    run_cancel(r);
    if (r->outbuf)
        evbuffer_free(r->outbuf);
    if (r->log)
        evbuffer_free(r->log);
    json_decref(r->out_meta);
    free(r->content_type);
    free(r->err_reason);
    free(r->doc);
    free(r->min);
    free(r->account);
    free(r->storlet);
    free(r->etag);
    free(r->txn);
    eng_cache_release(r->code_hold);
    free(r);
}

/* Frees r, or, while a frame of this file still uses it (r->busy), stops
 * its events and leaves the free to that frame's release(). */
static void run_free(struct eng_run *r)
{
    if (!r->busy) {
        run_free_now(r);
        return;
    }
    r->finished = true;
    r->free_pending = true;
    run_cancel(r);
    struct event *evs[] = { r->ev_in, r->ev_out, r->ev_log, r->ev_meta, r->ev_doc, r->ev_tick };
    for (size_t i = 0; i < ARRAY_SIZE(evs); i++)
        if (evs[i])
            event_del(evs[i]);
}

static void hold(struct eng_run *r)
{
    r->busy++;
}

static void release(struct eng_run *r)
{
    if (--r->busy == 0 && r->free_pending)
        run_free_now(r);
}

/* The event callbacks: each runs its _io with r held (see run_free). */
static void held(void (*fn)(evutil_socket_t, short, void *), evutil_socket_t fd, short what,
                 void *arg)
{
    struct eng_run *r = arg;
    hold(r);
    fn(fd, what, arg);
    release(r);
}

static void out_cb(evutil_socket_t fd, short what, void *arg)
{
    held(out_io, fd, what, arg);
}

static void meta_cb(evutil_socket_t fd, short what, void *arg)
{
    held(meta_io, fd, what, arg);
}

static void in_cb(evutil_socket_t fd, short what, void *arg)
{
    held(in_io, fd, what, arg);
}

static void tick_cb(evutil_socket_t fd, short what, void *arg)
{
    held(tick_io, fd, what, arg);
}

/* s percent-encoded for the accounting line (new string). */
static char *acct_quote(const char *s)
{
    size_t n = strlen(s);
    char *out = xmalloc(3 * n + 1);
    names_quote(s, n, "/:", out);
    return out;
}

/*
 * The accounting line, one per invocation (docs/storlets.md section 8): a
 * stable key=value format, the documented keys in this order (others may
 * be added between them), reason last, to the end of the line. Names are
 * percent-encoded and control characters in the reason become spaces, so
 * a value never holds a space (but reason) and a line never breaks.
 */
static void acct_line(const struct eng_run *r, const struct eng_outcome *o, int status,
                      const char *outcome, bool warm)
{
    double ms = (double)(now_mono_ns() - r->t0) / 1e6;
    char *qa = acct_quote(r->account), *qs = acct_quote(r->storlet);
    char *qt = acct_quote(r->txn);
    char why[sizeof(o->reason)];
    str_copy(why, o->reason, sizeof(why));
    for (char *c = why; *c; c++)
        if ((unsigned char)*c < 0x20 || *c == 0x7f)
            *c = ' ';
    log_notice("storlet account=%s storlet=%s etag=%s op=%s run_on=%s status=%d end=%s "
               "exit=%d duration_ms=%.3f sandbox_ms=%.3f cpu_us=%llu bytes_in=%llu bytes_out=%llu "
               "warm=%d txn=%s outcome=%s%s%s",
               qa, qs, r->etag, op_name(r->op), r->on_proxy ? "proxy" : "object", status,
               o->end, o->exit_code, ms, (double)o->wall_us / 1e3,
               (unsigned long long)o->cpu_us, (unsigned long long)o->bytes_in,
               (unsigned long long)o->bytes_out, warm ? 1 : 0, qt[0] ? qt : "-", outcome,
               why[0] ? " reason=" : "", why);
    free(qa);
    free(qs);
    free(qt);
}

static void finish(struct eng_run *r)
{
    r->finished = true;
    struct eng_outcome o = { .status = 200, .end = "error", .exit_code = -1 };
    if (r->rc == 0) {
        o.end = sbx_end_name(r->res.end);
        o.exit_code = r->res.end == SBX_END_EXIT ? r->res.exit_code : -1;
        o.cpu_us = r->res.cpu_us;
        o.wall_us = r->res.wall_us;
    }
    o.bytes_in = r->bytes_in;
    o.bytes_out = r->bytes_out;
    o.log = r->log;
    o.log_cut = r->log_cut;
    bool ok = r->rc == 0 && r->res.end == SBX_END_EXIT && r->res.exit_code == 0 &&
              !r->proto_err;
    if (ok) {
        o.kind = ENG_OK;
    } else {
        /* Room for the "Storlet execution timed out: " prefix below, so
         * the status reason is never cut. */
        char why[sizeof(o.reason) - 64] = "";
        if (r->rc < 0)
            snprintf(why, sizeof(why), "no sandbox: %s", r->err);
        else if (r->proto_err)
            snprintf(why, sizeof(why), "protocol error: %s", r->proto_why);
        else if (r->err_reason)
            str_copy(why, r->err_reason, sizeof(why));
        else if (r->res.end != SBX_END_EXIT)
            snprintf(why, sizeof(why), "%s%s%s", sbx_end_name(r->res.end),
                     r->res.detail[0] ? ": " : "", r->res.detail);
        if (!why[0])
            tail_reason(r, why, sizeof(why));
        bool timeout = r->rc == 0 && (r->res.end == SBX_END_TIMEOUT ||
                                      r->res.end == SBX_END_IDLE);
        if (r->rc < 0 || (r->res.end == SBX_END_ERROR &&
                          strncmp(r->res.detail, SBX_DETAIL_BUSY, strlen(SBX_DETAIL_BUSY)) == 0))
            o.status = 503;
        else if (timeout)
            o.status = 500;
        else if (r->res.end == SBX_END_EXIT && r->res.exit_code == 64 && !r->proto_err)
            o.status = 400;
        else if (r->res.end == SBX_END_EXIT && r->res.exit_code == 65 && !r->proto_err)
            o.status = 422;
        else
            o.status = 500;
        if (o.status == 500)
            snprintf(o.reason, sizeof(o.reason), "Storlet execution %s: %s",
                     timeout ? "timed out" : "failed", why[0] ? why : "no reason given");
        else
            str_copy(o.reason, why[0] ? why : "Storlet execution failed", sizeof(o.reason));
        o.kind = r->started ? ENG_FAILED_AFTER : ENG_FAILED_BEFORE;
    }
    if (ok && !r->started) {
        offer_output(r);   /* an empty output: start the response now */
        r->finished = true;
    }
    acct_line(r, &o, o.kind == ENG_FAILED_AFTER ? 0 : o.status,
              o.kind == ENG_OK ? "ok" : o.kind == ENG_FAILED_BEFORE ? "failed_before"
                                                                   : "failed_after",
              r->rc == 0 && r->res.warm);
    r->ops->done(r, &o, r->arg);
    run_free(r);
}

static int mkpipe(int p[2])
{
    return pipe2(p, O_CLOEXEC) == -1 ? -errno : 0;
}

static bool warm_first_use(struct eng *g, const char *key)
{
    bool first = true;
    pthread_mutex_lock(&g->lock);
    for (size_t i = 0; i < g->nwarmed && first; i++)
        if (strcmp(g->warmed[i], key) == 0)
            first = false;
    if (first) {
        g->warmed = xrealloc(g->warmed, (g->nwarmed + 1) * sizeof(*g->warmed));
        g->warmed[g->nwarmed++] = xstrdup(key);
    }
    pthread_mutex_unlock(&g->lock);
    return first;
}

struct eng_run *eng_run_start(struct eng *g, struct event_base *base,
                              const struct eng_invocation *inv,
                              const struct eng_run_ops *ops, void *arg, struct err *e)
{
    struct eng_run *r = xcalloc(1, sizeof(*r));
    int in_p[2] = { -1, -1 }, out_p[2] = { -1, -1 }, log_p[2] = { -1, -1 };
    int meta_sp[2] = { -1, -1 }, svc_sp[2] = { -1, -1 };
    int theirs[5] = { -1, -1, -1, -1, -1 };
    int targets[5] = { SBX_FD_INPUT, SBX_FD_OUTPUT, SBX_FD_LOG, SBX_FD_META,
                       SBX_FD_CONTROL };
    size_t nfds = 4;
    r->g = g;
    r->base = base;
    r->ops = ops;
    r->arg = arg;
    r->t0 = now_mono_ns();
    r->last_progress = r->t0;
    r->in_wr = r->out_rd = r->log_rd = r->meta_fd = r->in_probe = r->in_file = -1;
    /* the cache must not evict the code while the sandbox binds it (a
     * directory outside the cache, or one gone, is the sandbox's error) */
    r->code_hold = eng_cache_hold(g, inv->code_dir);
    r->account = xstrdup(inv->code->account);
    r->storlet = xstrdup(inv->code->name);
    r->etag = xstrdup(inv->code->etag);
    r->txn = xstrdup(inv->trans_id ? inv->trans_id : "");
    r->op = inv->op;
    r->on_proxy = inv->on_proxy;
    r->outbuf = evbuffer_new();
    r->log = evbuffer_new();
    r->min = xmalloc(FRAME_IN_MAX + 4);

    const struct eng_code *c = inv->code;
    /* each account its own host identity: slots are never shared */
    uint32_t slot;
    if (eng_slots_get(g->slots, c->account, &slot, e) < 0)
        goto fail;
    sbx_policy_init(&r->pol, c->admin ? SBX_CLASS_ADMIN : SBX_CLASS_USER, slot);
    r->pol.uid_base = g->uid_base;
    if (g->wall_ms)
        r->pol.wall_ms = g->wall_ms;
    if (g->idle_ms)
        r->pol.idle_ms = g->idle_ms;
    if (g->output_max)
        r->pol.output_max = g->output_max;
    if (c->admin && g->admin_cpu_weight)
        r->pol.cpu_weight = g->admin_cpu_weight;
    if (inv->wall_ms)
        r->pol.wall_ms = inv->wall_ms;
    if (inv->idle_ms)
        r->pol.idle_ms = inv->idle_ms;
    {
        /* the budget grows with the run's own input, or with a chain's
         * (budget_len): a later stage's input is an earlier one's output,
         * whose rate says nothing, so only the static budget holds it */
        int64_t len = eng_budget_input(inv);
        uint64_t budget = eng_wall_budget_ms(r->pol.wall_ms, len, g->min_input_rate);
        if (r->pol.wall_ms && budget > r->pol.wall_ms) {
            if (inv->budget_len <= 0) {
                r->base_ms = r->pol.wall_ms;
                r->rate = g->min_input_rate;
            }
            r->pol.wall_ms = budget;
        }
    }
    r->out_max = r->pol.output_max;
    r->idle_ns = r->pol.idle_ms * 1000000;

    json_t *doc = build_doc(inv, &r->pol);
    if (!doc) {
        err_set(e, -EINVAL, "storlet %s: invocation document not encodable", c->name);
        goto fail;
    }
    r->doc = eng_frame_of(doc, &r->doc_len);
    json_decref(doc);

    if (mkpipe(out_p) < 0 || mkpipe(log_p) < 0 ||
        socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, meta_sp) == -1 ||
        (inv->input_fd < 0 && mkpipe(in_p) < 0) ||
        (inv->svc_host && socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, svc_sp) == -1)) {
        err_set(e, -errno, "storlet %s: pipes: %s", c->name, strerror(errno));
        goto fail;
    }
    /* storlet side; fd 1 is our pipe itself (the launcher does not relay) */
    theirs[0] = inv->input_fd >= 0 ? fcntl(inv->input_fd, F_DUPFD_CLOEXEC, 0) : in_p[0];
    in_p[0] = -1;
    theirs[1] = out_p[1];
    theirs[2] = log_p[1];
    theirs[3] = meta_sp[1];
    out_p[1] = log_p[1] = meta_sp[1] = -1;
    if (inv->svc_host) {
        theirs[4] = svc_sp[1];
        svc_sp[1] = -1;
        nfds = 5;
        r->svc = eng_svc_new(base, svc_sp[0], inv->svc_host, inv->svc_port,
                             inv->svc_token ? inv->svc_token : "", inv->account,
                             inv->svc_depth, r->pol.wall_ms);
        svc_sp[0] = -1;
    }
    if (theirs[0] < 0) {
        err_set(e, -errno, "storlet %s: dup input: %s", c->name, strerror(errno));
        goto fail;
    }
    /* our side */
    r->in_wr = in_p[1];
    r->out_rd = out_p[0];
    r->log_rd = log_p[0];
    r->meta_fd = meta_sp[0];
    in_p[1] = out_p[0] = log_p[0] = meta_sp[0] = -1;
    if (r->in_wr >= 0) {
        set_nonblock(r->in_wr);
        fcntl(r->in_wr, F_SETPIPE_SZ, 1 << 20);
    } else {
        r->in_ended = true;
        r->bytes_in = inv->content_length > 0 ? (uint64_t)inv->content_length : 0;
        r->in_seen = r->bytes_in;
        r->in_file = fcntl(inv->input_fd, F_DUPFD_CLOEXEC, 0);   /* shares the offset */
        r->in_pos = r->in_file >= 0 ? lseek(r->in_file, 0, SEEK_CUR) : 0;
    }
    fcntl(r->out_rd, F_SETPIPE_SZ, 1 << 20);
    set_nonblock(r->out_rd);
    set_nonblock(r->log_rd);
    set_nonblock(r->meta_fd);

    /* the sandbox request */
    bool py = strcmp(c->language, "python") == 0;
    char *main_path = py ? xstrdup("/usr/bin/python3") : xasprintf("/storlet/%s", c->main);
    const char *argv_py[] = { "/usr/bin/python3", "-I", "-B", "/storlet/cairn_storlet.py",
                              c->main, NULL };
    const char *argv_native[] = { main_path, NULL };
    const char *env[] = { "PATH=/usr/bin:/bin", "LANG=C.UTF-8", "HOME=/tmp", "TMPDIR=/tmp",
                          "CAIRN_STORLET_DIR=/storlet", "CAIRN_STORLET_INTERFACE=1.0", NULL };
    struct sbx_request req = {
        .policy = &r->pol, .path = main_path, .argv = py ? argv_py : argv_native,
        .env = env, .code_dir = inv->code_dir, .fds = theirs, .fd_target = targets,
        .nfds = nfds, .warm = g->warm > 0, .direct_output = true,
    };
    struct eng_lconn *lc = lconn_get(g, e);
    if (!lc) {
        free(main_path);
        goto fail;
    }
    if (g->warm > 0) {
        /* the pool does not depend on the run's wall budget (the
         * launcher's key leaves it out too) */
        struct sbx_policy kp = r->pol;
        kp.wall_ms = 0;
        char *pj = sbx_policy_to_json(&kp);
        char *key = xasprintf("%s|%s", pj, inv->code_dir);
        free(pj);
        if (warm_first_use(g, key)) {
            eng_cache_pin(g, inv->code_dir);   /* warm sandboxes bind it while they wait */
            /* its answer comes when they are built; sbx_client_next skips it */
            struct err pe;
            err_clear(&pe);
            if (sbx_client_send_prewarm(lc->cl, &r->pol, inv->code_dir, g->warm, &pe) < 0)
                log_warn("prewarm %s: %s", inv->code_dir, pe.msg);
        }
        free(key);
    }
    int64_t id = sbx_client_send_run(lc->cl, &req, e);
    free(main_path);
    if (id < 0) {
        lc->broken = true;   /* whatever failed, the next run gets a new one */
        if (lc->nruns == 0) {
            sbx_client_free(lc->cl);
            lc->cl = NULL;
        }
        goto fail;
    }
    r->run_id = (uint64_t)id;
    r->lc = lc;
    lconn_wait(lc, r);
    /* the launcher holds its copies now (in flight or received): our
     * copies go, so we see end of file when the storlet is done */
    for (size_t i = 0; i < ARRAY_SIZE(theirs); i++)
        if (theirs[i] >= 0)
            close(theirs[i]);

    r->ev_out = event_new(base, r->out_rd, EV_READ | EV_PERSIST, out_cb, r);
    r->ev_log = event_new(base, r->log_rd, EV_READ | EV_PERSIST, log_cb, r);
    r->ev_meta = event_new(base, r->meta_fd, EV_READ | EV_PERSIST, meta_cb, r);
    r->ev_doc = event_new(base, r->meta_fd, EV_WRITE | EV_PERSIST, doc_cb, r);
    if (r->in_wr >= 0)
        r->ev_in = event_new(base, r->in_wr, EV_WRITE, in_cb, r);
    event_add(r->ev_log, NULL);
    event_add(r->ev_meta, NULL);
    event_add(r->ev_doc, NULL);
    if (r->idle_ns || r->rate) {
        /* checked eight times per period: a kill comes between one and
         * 1.125 periods after the last progress (the earned wall budget
         * is checked as often, or every second without an idle limit) */
        uint64_t us = r->idle_ns ? r->pol.idle_ms * 1000 / 8 : 1000000;
        struct timeval tv = { .tv_sec = (time_t)(us / 1000000),
                              .tv_usec = (suseconds_t)(us % 1000000) };
        if (us < 1000)
            tv.tv_usec = 1000;
        r->ev_tick = event_new(base, -1, EV_PERSIST, tick_cb, r);
        event_add(r->ev_tick, &tv);
    }
    return r;
fail:
    for (size_t i = 0; i < ARRAY_SIZE(theirs); i++)
        if (theirs[i] >= 0)
            close(theirs[i]);
    {
        int fds[] = { in_p[0], in_p[1], out_p[0], out_p[1], log_p[0], log_p[1],
                      meta_sp[0], meta_sp[1], svc_sp[0], svc_sp[1] };
        for (size_t i = 0; i < ARRAY_SIZE(fds); i++)
            if (fds[i] >= 0)
                close(fds[i]);
    }
    run_free(r);
    return NULL;
}

bool eng_run_write(struct eng_run *r, struct evbuffer *b)
{
    if (r->in_wr < 0 || r->in_broken) {
        evbuffer_drain(b, evbuffer_get_length(b));
        return true;
    }
    while (evbuffer_get_length(b) > 0) {
        int n = evbuffer_write(b, r->in_wr);
        if (n > 0) {
            r->bytes_in += (uint64_t)n;
            continue;
        }
        if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
            event_add(r->ev_in, NULL);
            return false;
        }
        r->in_broken = true;   /* the storlet stopped reading */
        evbuffer_drain(b, evbuffer_get_length(b));
        close(r->in_wr);
        r->in_wr = -1;
        return true;
    }
    return true;
}

/* Takes up to len bytes out of the pipe fd and drops them (the storlet
 * they were for stopped reading). Returns len, or fewer if fd had fewer. */
static ssize_t drop_from_pipe(int fd, size_t len)
{
    char sink[16384];
    size_t done = 0;
    while (done < len) {
        size_t want = len - done < sizeof(sink) ? len - done : sizeof(sink);
        ssize_t n = read(fd, sink, want);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        done += (size_t)n;
    }
    return (ssize_t)done;
}

ssize_t eng_run_splice(struct eng_run *r, int fd, uint64_t *off, size_t len)
{
    size_t moved = 0;
    if (r->in_wr < 0 || r->in_broken)
        return off ? (ssize_t)len : drop_from_pipe(fd, len);   /* dropped */
    while (moved < len) {
        loff_t o = off ? (loff_t)*off : 0;
        ssize_t n = splice(fd, off ? &o : NULL, r->in_wr, NULL, len - moved,
                           SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
        if (n > 0) {
            if (off)
                *off = (uint64_t)o;
            moved += (size_t)n;
            r->bytes_in += (uint64_t)n;
            continue;
        }
        if (n == 0)
            return -EIO;   /* fd ended before len: shorter than it said */
        if (errno == EINTR)
            continue;
        if (errno == EAGAIN) {
            event_add(r->ev_in, NULL);
            return (ssize_t)moved;
        }
        if (errno != EPIPE)
            return -errno;
        r->in_broken = true;   /* the storlet stopped reading */
        close(r->in_wr);
        r->in_wr = -1;
        return off ? (ssize_t)len : (ssize_t)moved + drop_from_pipe(fd, len - moved);
    }
    return (ssize_t)moved;
}

void eng_run_input_end(struct eng_run *r)
{
    r->in_ended = true;
    if (r->ev_in)
        event_del(r->ev_in);
    if (r->in_wr >= 0) {
        /* the storlet may still be reading what the pipe holds: a read-only
         * reopening (no writer, so its end of file still comes) lets the
         * no-progress clock see it consume the rest */
        if (r->idle_ns && !r->result_got) {
            char path[64];
            snprintf(path, sizeof(path), "/proc/self/fd/%d", r->in_wr);
            r->in_probe = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
        }
        close(r->in_wr);
    }
    r->in_wr = -1;
}

void eng_run_pause_output(struct eng_run *r)
{
    r->out_paused = true;
    event_del(r->ev_out);
}

void eng_run_resume_output(struct eng_run *r)
{
    if (!r->out_paused || r->finished)
        return;
    r->out_paused = false;
    hold(r);
    offer_output(r);
    if (!r->finished && !r->out_paused) {
        enable_output(r);
        check_end(r);
    }
    release(r);
}

uint64_t eng_wall_budget_ms(uint64_t base_ms, int64_t input_len, uint64_t rate)
{
    if (base_ms >= ENG_WALL_MAX_MS)
        return ENG_WALL_MAX_MS;
    if (rate == 0 || input_len <= 0)
        return base_ms;
    uint64_t len = (uint64_t)input_len;
    uint64_t whole = len / rate, rem = len % rate;   /* seconds, and a part */
    if (whole > ENG_WALL_MAX_MS / 1000)
        return ENG_WALL_MAX_MS;
    /* rem < rate: rem * 1000 + rate fits unless rate is absurdly large */
    uint64_t part = rate <= UINT64_MAX / 1001 ? (rem * 1000 + rate - 1) / rate
                                              : rem / (rate / 1000) + 1;
    uint64_t add = whole * 1000 + part;
    return add >= ENG_WALL_MAX_MS - base_ms ? ENG_WALL_MAX_MS : base_ms + add;
}

int64_t eng_budget_input(const struct eng_invocation *inv)
{
    if (inv->budget_len > 0)
        return inv->budget_len;
    if (inv->content_length >= 0)
        return inv->content_length;
    if (inv->has_range && inv->range_last >= inv->range_first &&
        inv->range_last - inv->range_first < (uint64_t)INT64_MAX)
        return (int64_t)(inv->range_last - inv->range_first + 1);
    return 0;
}

uint64_t eng_run_wall_ms(const struct eng_run *r)
{
    return r->pol.wall_ms;
}

void eng_run_cancel(struct eng_run *r)
{
    if (!r)
        return;
    if (!r->finished) {
        /* the caller gave up (the client went away): still one accounting
         * line, with what is known now (CPU time only once the sandbox
         * has ended, else 0) */
        struct eng_outcome o = { .end = "cancelled", .exit_code = -1,
                                 .bytes_in = r->bytes_in, .bytes_out = r->bytes_out };
        if (r->result_got && r->rc == 0) {
            o.cpu_us = r->res.cpu_us;
            o.wall_us = r->res.wall_us;
        }
        acct_line(r, &o, 0, "cancelled", false);
    }
    r->finished = true;
    run_free(r);   /* closes the launcher connection: it kills the sandbox */
}
