/*
 * cairn-storlet-run - run a storlet on a local file as the engine would.
 *
 *   cairn-storlet-run [options] STORLET [INPUT]
 *
 * STORLET is a native executable or a Python storlet (*.py); INPUT is the
 * object's bytes (default stdin). The runner does what docs/storlets.md
 * says the engine does: it builds the storlet's code directory (the storlet,
 * its dependencies and, for Python, the SDK), opens the fixed descriptors
 * (0 input, 1 output, 2 log, 3 metadata channel, 4 services channel, 5..
 * extra inputs), sends the invocation document, waits for the output
 * metadata before it takes any output, serves services requests (objects
 * from --objects DIR, storlets from --storlets DIR), and reports how the run
 * ended and what the engine would have answered. By default the storlet runs
 * as a plain child process (quick development), with the policy's wall
 * clock and output cap enforced by the runner (no other limit); --sandbox
 * runs it in the real sandbox through a launcher forked at start (root).
 *
 * Output: the storlet's output to -o FILE (default stdout); its log to
 * --log FILE (default stderr); one JSON result object to --result FILE
 * (default: a line on stderr). Exit status: 0 the storlet succeeded, 1 it
 * failed (the result says how), 2 usage or setup error.
 *
 * Single-threaded, except that --sandbox runs the blocking sandbox client
 * call on a second thread while this one relays the channels.
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <getopt.h>
#include <jansson.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/log.h"
#include "common/md5.h"
#include "common/util.h"
#include "common/xalloc.h"
#include "engine/eng_frame.h"
#include "engine/eng_tail.h"
#include "sandbox/sbx.h"

#define FRAME_IN_MAX (64u << 10)   /* storlet -> engine */
#define DOC_MAX (1u << 20)         /* engine -> storlet */
#define EXTRA_MAX 3                /* fds 5, 6, 7 */
#define PUMP_MAX 8
#define LOG_TAIL 512

struct opts {
    const char *storlet;
    const char *input;
    json_t *params;            /* object of strings */
    json_t *meta;              /* object metadata */
    const char *main_name;
    const char *language;      /* native | python */
    const char *deps[16];
    unsigned ndeps;
    const char *extra[EXTRA_MAX];
    unsigned nextra;
    const char *account, *container, *object, *method, *user;
    char *path_copy;           /* owns account/container/object from --path */
    const char *content_type;
    bool has_range;
    uint64_t range_first, range_last;
    bool run_on_proxy;
    const char *output, *result, *log;
    int meta_fd;               /* --meta-fd: copy of the metadata frame */
    const char *objects_dir, *storlets_dir;
    bool sandbox;
    const char *policy_json;
    const char *python_sdk;
};

/* Bytes copied from a file to a pipe, for ranges and services reads. */
struct pump {
    int src, dst;
    uint64_t left;             /* bytes still to send */
    uint64_t id;               /* services request id (0 = the input) */
    char buf[65536];
    size_t blen, boff;
};

/* A storlet invoked through services: a nested cairn-storlet-run. */
struct child_run {
    pid_t pid;
    int pidfd;
    int meta_rd;               /* its --meta-fd */
    int out_rd;                /* handed to the storlet in the reply */
    uint64_t id;
    bool replied;
    char mbuf[FRAME_IN_MAX + 4];
    size_t mlen;
};

struct run {
    struct opts *o;
    const struct sbx_policy *pol;
    /* plain mode enforces the policy's wall clock and output cap itself */
    uint64_t deadline_ns;      /* 0 = none */
    const char *killed_for;    /* sandbox end name of a kill by the runner */
    int meta, svc;             /* our ends of fds 3 and 4 */
    int out_rd, log_rd;
    int out_dst, log_dst;
    /* fd 3 */
    char *doc;
    size_t doc_len, doc_off;
    char *min;                 /* bytes from the storlet on fd 3 */
    size_t min_len;
    bool meta_got, meta_eof, proto_err;
    char proto_why[512];
    json_t *out_meta;
    char *content_type;
    char *err_reason;
    int meta_copy_fd;
    /* fd 4 */
    char *sin;
    size_t sin_len;
    bool svc_eof;
    struct pump *pumps[PUMP_MAX];
    struct child_run *kids[PUMP_MAX];
    /* output and log */
    uint64_t out_bytes;
    bool out_eof, log_eof, out_before_meta;
    char log_tail[LOG_TAIL];
    size_t tail_len;
    /* the storlet */
    pid_t pid;
    int pidfd;
    int wake_rd;               /* sandbox thread: readable when done */
    bool done;
    int wstatus;
    struct sbx_result sres;
    int sres_rc;
    char sres_err[600];
};

static void usage(void) __attribute__((noreturn));
static void usage(void)
{
    fprintf(stderr,
            "usage: cairn-storlet-run [options] STORLET [INPUT]\n"
            "  -p, --param K=V        storlet parameter (repeatable)\n"
            "  -m, --meta K=V         the object's user metadata (repeatable)\n"
            "      --main NAME        Python: module.function (default <file>.main)\n"
            "      --language L       native | python (default: python for *.py)\n"
            "      --dep FILE         dependency, put beside the storlet (repeatable)\n"
            "      --extra FILE       extra input on fd 5, 6, 7 (repeatable)\n"
            "      --path A/C/O       account/container/object (default AUTH_dev/dev/<INPUT>)\n"
            "      --method M         GET | PUT | COPY (default GET)\n"
            "      --user U           the caller (default dev:dev)\n"
            "      --content-type T   the object's content type\n"
            "      --range A-B        X-Storlet-Range: only bytes A..B of INPUT\n"
            "      --run-on-proxy     say so in the invocation document\n"
            "  -o, --output FILE      output (default, or -: stdout)\n"
            "      --log FILE         the storlet's log (default stderr)\n"
            "      --result FILE      result JSON (default: one line on stderr)\n"
            "      --objects DIR      services: object C/O is DIR/C/O\n"
            "      --storlets DIR     services: storlet NAME is DIR/NAME\n"
            "      --sandbox          run in the sandbox (root; forks a launcher)\n"
            "      --policy JSON      sandbox policy (default: user class; plain runs\n"
            "                         honour its wall_ms and output_max only)\n"
            "      --python-sdk FILE  cairn_storlet.py (default: beside this program)\n");
    exit(2);
}

/* Temporary directories made by main(), removed by die() too. */
static const char *tmp_dirs[2];
static void rm_rf(const char *dir);

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void die(const char *fmt, ...)
{
    for (size_t i = 0; i < 2; i++)
        rm_rf(tmp_dirs[i]);
    va_list ap;
    va_start(ap, fmt);
    fputs("cairn-storlet-run: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    exit(2);
}

/* ------------------------------------------------------------ helpers */

static int write_all(int fd, const void *buf, size_t n)
{
    const char *p = buf;
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

static void set_nonblock(int fd)
{
    int fl = fcntl(fd, F_GETFL);
    if (fl != -1)
        fcntl(fd, F_SETFL, fl | O_NONBLOCK);
}

static void kv_add(json_t *obj, const char *arg, const char *what)
{
    const char *eq = strchr(arg, '=');
    if (!eq || eq == arg)
        die("%s %s: expected KEY=VALUE", what, arg);
    char *k = xstrndup(arg, (size_t)(eq - arg));
    json_t *v = json_string(eq + 1);
    if (!v)
        die("%s %s: value is not UTF-8", what, arg);
    json_object_set_new(obj, k, v);
    free(k);
}

/*
 * Takes one complete frame off the front of buf if there is one: returns 1
 * and the parsed object, 0 if more bytes are needed, -1 on a bad frame.
 */
static int frame_take(char *buf, size_t *len, size_t max, json_t **out, char *why, size_t n)
{
    if (*len < 4)
        return 0;
    const unsigned char *u = (const unsigned char *)buf;
    size_t fl = (size_t)u[0] << 24 | (size_t)u[1] << 16 | (size_t)u[2] << 8 | u[3];
    if (fl == 0 || fl > max) {
        snprintf(why, n, "frame length %zu out of range (1..%zu)", fl, max);
        return -1;
    }
    if (*len < fl + 4)
        return 0;
    json_error_t je;
    json_t *j = json_loadb(buf + 4, fl, JSON_REJECT_DUPLICATES, &je);
    memmove(buf, buf + 4 + fl, *len - fl - 4);
    *len -= fl + 4;
    if (!j || !json_is_object(j)) {
        snprintf(why, n, "frame is not a JSON object%s%s", j ? "" : ": ", j ? "" : je.text);
        json_decref(j);
        return -1;
    }
    *out = j;
    return 1;
}

static int send_frame_fd(int sock, json_t *obj, int fd)
{
    size_t len;
    char *f = eng_frame_of(obj, &len);
    /* the socket is blocking for sends: frames are small */
    ssize_t w = eng_frame_sendmsg(sock, f, len, fd, MSG_NOSIGNAL);
    int rc = 0;
    if (w < 0)
        rc = -errno;
    else if ((size_t)w < len)
        rc = write_all(sock, f + w, len - (size_t)w);
    free(f);
    return rc;
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    remove(path);
    return 0;
}

static void rm_rf(const char *dir)
{
    if (dir)
        nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static int copy_file(const char *from, const char *dir, const char *name, mode_t mode)
{
    char to[4096];
    snprintf(to, sizeof(to), "%s/%s", dir, name);
    int in = open(from, O_RDONLY | O_CLOEXEC);
    if (in == -1)
        return -errno;
    int out = open(to, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
    if (out == -1) {
        int e = -errno;
        close(in);
        return e;
    }
    char buf[65536];
    ssize_t r;
    int rc = 0;
    while ((r = read(in, buf, sizeof(buf))) > 0)
        if ((rc = write_all(out, buf, (size_t)r)) < 0)
            break;
    if (r < 0)
        rc = -errno;
    close(in);
    if (close(out) == -1 && rc == 0)
        rc = -errno;
    fchmodat(AT_FDCWD, to, mode, 0);
    return rc;
}

static const char *base_name(const char *p)
{
    const char *s = strrchr(p, '/');
    return s ? s + 1 : p;
}

/* The storlet's ETag, as the engine names the version it ran. */
static void file_md5(const char *path, char hex[MD5_HEX_LEN])
{
    struct md5 m;
    md5_init(&m);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    char buf[65536];
    ssize_t r;
    while (fd != -1 && (r = read(fd, buf, sizeof(buf))) > 0)
        md5_update(&m, buf, (size_t)r);
    if (fd != -1)
        close(fd);
    md5_final_hex(&m, hex);
}

/* ------------------------------------------------------------ the document */

static json_t *input_info(int fd, const char *path, json_t *meta, int64_t len,
                          const char *ctype)
{
    json_t *in = json_pack("{s:i, s:s, s:O}", "fd", fd, "path", path, "metadata", meta);
    json_object_set_new(in, "content_length", len >= 0 ? json_integer(len) : json_null());
    json_object_set_new(in, "content_type", json_string(ctype ? ctype : "application/octet-stream"));
    return in;
}

static json_t *build_doc(struct opts *o, const struct sbx_policy *pol, int64_t in_len,
                         int64_t total_len, bool services)
{
    char etag[MD5_HEX_LEN];
    file_md5(o->storlet, etag);
    char path[1024];
    snprintf(path, sizeof(path), "/v1/%s/%s/%s", o->account, o->container, o->object);
    char cobj[1024];
    snprintf(cobj, sizeof(cobj), "%s/%s", o->container, o->object);
    char txn[64];
    snprintf(txn, sizeof(txn), "tx%016llx-dev", (unsigned long long)now_mono_ns());

    json_t *req = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "method", o->method,
                            "account", o->account, "container", o->container, "object",
                            o->object, "path", path, "trans_id", txn, "run_on",
                            o->run_on_proxy ? "proxy" : "object");
    if (o->has_range)
        json_object_set_new(req, "range",
                            json_pack("{s:I, s:I, s:I}", "first", (json_int_t)o->range_first,
                                      "last", (json_int_t)o->range_last, "size",
                                      (json_int_t)total_len));
    else
        json_object_set_new(req, "range", json_null());

    json_t *inputs = json_array();
    json_array_append_new(inputs, input_info(0, cobj, o->meta, in_len, o->content_type));
    for (unsigned i = 0; i < o->nextra; i++) {
        struct stat st;
        int64_t l = stat(o->extra[i], &st) == 0 && S_ISREG(st.st_mode) ? (int64_t)st.st_size : -1;
        char p[1024];
        snprintf(p, sizeof(p), "%s/%s", o->container, base_name(o->extra[i]));
        json_t *empty = json_object();
        json_array_append_new(inputs, input_info(5 + (int)i, p, empty, l, NULL));
        json_decref(empty);
    }
    json_t *limits = json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I}",
                               "wall_ms", (json_int_t)pol->wall_ms,
                               "idle_ms", (json_int_t)pol->idle_ms,
                               "output_max", (json_int_t)pol->output_max,
                               "memory_bytes", (json_int_t)pol->mem_bytes,
                               "scratch_bytes", (json_int_t)pol->scratch_bytes,
                               "cpu_seconds", (json_int_t)pol->cpu_seconds,
                               "pids_max", (json_int_t)pol->pids_max);
    return json_pack("{s:s, s:s, s:{s:s, s:s, s:s, s:s}, s:O, s:o, s:{s:s, s:s, s:[]}, "
                     "s:o, s:o, s:b}",
                     "type", "invocation", "interface_version", "1.0",
                     "storlet", "name", base_name(o->storlet), "language", o->language,
                     "main", o->main_name, "etag", etag,
                     "parameters", o->params, "request", req,
                     "caller", "account", o->account, "user", o->user, "roles",
                     "inputs", inputs, "limits", limits, "services", services);
}

/* ------------------------------------------------------------ fd 3 */

static void meta_frames(struct run *r)
{
    json_t *f;
    int k;
    while ((k = frame_take(r->min, &r->min_len, FRAME_IN_MAX, &f, r->proto_why,
                           sizeof(r->proto_why))) == 1) {
        const char *t = json_string_value(json_object_get(f, "type"));
        if (t && strcmp(t, "error") == 0 && json_is_string(json_object_get(f, "reason")) &&
            r->err_reason) {
            snprintf(r->proto_why, sizeof(r->proto_why), "a second error frame");
            r->proto_err = true;
        } else if (t && strcmp(t, "error") == 0 &&
                   json_is_string(json_object_get(f, "reason"))) {
            r->err_reason = xstrdup(json_string_value(json_object_get(f, "reason")));
        } else if (t && strcmp(t, "metadata") == 0 && !r->meta_got &&
                   json_is_object(json_object_get(f, "metadata"))) {
            /* the engine's checks: what runs here runs in the cluster */
            json_t *ct = json_object_get(f, "content_type");
            if (!eng_frame_meta_ok(json_object_get(f, "metadata"), ct, r->proto_why,
                                   sizeof(r->proto_why)))
                r->proto_err = true;
            if (!r->proto_err) {
                r->out_meta = json_incref(json_object_get(f, "metadata"));
                r->content_type = ct ? xstrdup(json_string_value(ct)) : NULL;
                r->meta_got = true;
                if (r->meta_copy_fd >= 0) {
                    size_t len;
                    char *fr = eng_frame_of(f, &len);
                    (void)write_all(r->meta_copy_fd, fr, len);
                    free(fr);
                    close(r->meta_copy_fd);
                    r->meta_copy_fd = -1;
                }
            }
        } else {
            snprintf(r->proto_why, sizeof(r->proto_why),
                     "unexpected frame on fd 3 (type %s%s)", t ? t : "missing",
                     r->meta_got && t && strcmp(t, "metadata") == 0 ? ", sent twice" : "");
            r->proto_err = true;
        }
        json_decref(f);
    }
    if (k < 0)
        r->proto_err = true;
}

static void meta_readable(struct run *r)
{
    for (;;) {
        if (r->min_len >= FRAME_IN_MAX + 4) {
            snprintf(r->proto_why, sizeof(r->proto_why), "frame on fd 3 over %u bytes",
                     FRAME_IN_MAX);
            r->proto_err = true;
            r->meta_eof = true;
            return;
        }
        ssize_t n = read(r->meta, r->min + r->min_len, FRAME_IN_MAX + 4 - r->min_len);
        if (n > 0) {
            r->min_len += (size_t)n;
            meta_frames(r);
            continue;
        }
        if (n == 0 || (errno != EAGAIN && errno != EINTR))
            r->meta_eof = true;
        return;
    }
}

static void meta_writable(struct run *r)
{
    while (r->doc_off < r->doc_len) {
        ssize_t w = send(r->meta, r->doc + r->doc_off, r->doc_len - r->doc_off, MSG_NOSIGNAL);
        if (w > 0) {
            r->doc_off += (size_t)w;
            continue;
        }
        if (w < 0 && (errno == EAGAIN || errno == EINTR))
            return;
        r->doc_off = r->doc_len;   /* storlet gone; it will say so by exiting */
    }
}

/* ------------------------------------------------------------ output, log */

static void log_readable(struct run *r)
{
    char buf[65536];
    ssize_t n = read(r->log_rd, buf, sizeof(buf));
    if (n <= 0) {
        if (n == 0 || (errno != EAGAIN && errno != EINTR))
            r->log_eof = true;
        return;
    }
    (void)write_all(r->log_dst, buf, (size_t)n);
    /* keep the tail: the last line is the reason when no error frame came */
    size_t k = (size_t)n;
    eng_tail_keep(r->log_tail, LOG_TAIL, &r->tail_len, buf, k);
}

static void out_readable(struct run *r)
{
    char buf[65536];
    ssize_t n = read(r->out_rd, buf, sizeof(buf));
    if (n <= 0) {
        if (n == 0 || (errno != EAGAIN && errno != EINTR))
            r->out_eof = true;
        return;
    }
    if (!r->meta_got)
        r->out_before_meta = true;
    if (!r->o->sandbox && r->pol->output_max &&
        r->out_bytes + (uint64_t)n > r->pol->output_max) {
        /* as the launcher does: pass on exactly the cap, then kill */
        n = (ssize_t)(r->pol->output_max - r->out_bytes);
        kill(r->pid, SIGKILL);
        r->killed_for = sbx_end_name(SBX_END_OUTPUT_CAP);
        r->out_eof = true;
    }
    r->out_bytes += (uint64_t)n;
    if (write_all(r->out_dst, buf, (size_t)n) < 0)
        die("writing the output: %s", strerror(errno));
}

/* ------------------------------------------------------------ services */

static struct pump *pump_new(int src, int dst, uint64_t len, uint64_t id)
{
    struct pump *p = xcalloc(1, sizeof(*p));
    p->src = src;
    p->dst = dst;
    p->left = len;
    p->id = id;
    set_nonblock(dst);
    return p;
}

static bool slot_free(struct run *r, unsigned *i)
{
    for (*i = 0; *i < PUMP_MAX; (*i)++)
        if (!r->pumps[*i] && !r->kids[*i])
            return true;
    return false;
}

static void svc_reply(struct run *r, uint64_t id, int status, const char *reason)
{
    json_t *rep = json_pack("{s:s, s:I, s:i, s:s}", "type", "reply", "id", (json_int_t)id,
                            "status", status, "reason", reason);
    (void)send_frame_fd(r->svc, rep, -1);
    json_decref(rep);
}

static void svc_end(struct run *r, uint64_t id, bool ok, uint64_t bytes, const char *reason)
{
    json_t *end = json_pack("{s:s, s:I, s:b, s:I, s:s}", "type", "end", "id", (json_int_t)id,
                            "ok", ok, "bytes", (json_int_t)bytes, "reason", reason);
    (void)send_frame_fd(r->svc, end, -1);
    json_decref(end);
}

/*
 * "container/object" in the caller's account, or "/account/container/object";
 * fills the file path under dir. Returns 0, -EACCES (other account), -EINVAL.
 */
static int svc_path(struct run *r, const char *dir, const char *p, char *out, size_t n,
                    char *cobj, size_t cn)
{
    if (p[0] == '/') {
        size_t al = strlen(r->o->account);
        if (strncmp(p + 1, r->o->account, al) != 0 || p[1 + al] != '/')
            return -EACCES;
        p += 2 + al;
    }
    /* exactly two non-empty components, neither "." nor ".." */
    const char *slash = strchr(p, '/');
    if (!slash || slash == p || !slash[1] || strchr(slash + 1, '/') ||
        strcmp(slash + 1, ".") == 0 || strcmp(slash + 1, "..") == 0 ||
        strncmp(p, "./", 2) == 0 || strncmp(p, "../", 3) == 0)
        return -EINVAL;
    snprintf(out, n, "%s/%s", dir, p);
    snprintf(cobj, cn, "%s", p);
    return 0;
}

static void svc_read(struct run *r, json_t *req, uint64_t id)
{
    const char *p = json_string_value(json_object_get(req, "path"));
    char file[4096], cobj[1024];
    unsigned slot;
    if (!r->o->objects_dir) {
        svc_reply(r, id, 404, "no --objects directory");
        return;
    }
    int rc = p ? svc_path(r, r->o->objects_dir, p, file, sizeof(file), cobj, sizeof(cobj))
               : -EINVAL;
    if (rc == -EACCES) {
        svc_reply(r, id, 403, "another account");
        return;
    }
    if (rc < 0) {
        svc_reply(r, id, 400, "path must be container/object");
        return;
    }
    int fd = open(file, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (fd == -1 || fstat(fd, &st) == -1 || !S_ISREG(st.st_mode)) {
        if (fd != -1)
            close(fd);
        svc_reply(r, id, 404, "not found");
        return;
    }
    uint64_t first = 0, len = (uint64_t)st.st_size;
    const char *range = json_string_value(json_object_get(req, "range"));
    if (range) {
        uint64_t a, b;
        const char *dash = strchr(range, '-');
        if (!str_has_prefix(range, "bytes=") || !dash ||
            parse_u64n(range + 6, (size_t)(dash - range - 6), &a) < 0 ||
            parse_u64(dash + 1, &b) < 0 || b < a || a >= (uint64_t)st.st_size) {
            close(fd);
            svc_reply(r, id, 416, "range not satisfiable");
            return;
        }
        if (b >= (uint64_t)st.st_size)
            b = (uint64_t)st.st_size - 1;
        first = a;
        len = b - a + 1;
    }
    int pp[2];
    if (!slot_free(r, &slot) || pipe2(pp, O_CLOEXEC) == -1) {
        close(fd);
        svc_reply(r, id, 503, "too many open streams");
        return;
    }
    lseek(fd, (off_t)first, SEEK_SET);
    json_t *rep = json_pack("{s:s, s:I, s:i, s:s, s:{}, s:s, s:I}", "type", "reply", "id",
                            (json_int_t)id, "status", 200, "reason", "OK", "metadata",
                            "content_type", "application/octet-stream", "content_length",
                            (json_int_t)len);
    (void)send_frame_fd(r->svc, rep, pp[0]);
    json_decref(rep);
    close(pp[0]);
    r->pumps[slot] = pump_new(fd, pp[1], len, id);
}

static void svc_invoke(struct run *r, json_t *req, uint64_t id, const char *self)
{
    const char *name = json_string_value(json_object_get(req, "storlet"));
    const char *p = json_string_value(json_object_get(req, "path"));
    json_t *params = json_object_get(req, "parameters");
    char file[4096], cobj[1024], storlet[4096];
    unsigned slot;
    if (!r->o->storlets_dir || !r->o->objects_dir) {
        svc_reply(r, id, 404, "no --storlets or --objects directory");
        return;
    }
    if (!name || !*name || strchr(name, '/') || strcmp(name, "..") == 0 ||
        (params && !json_is_object(params))) {
        svc_reply(r, id, 400, "bad storlet name or parameters");
        return;
    }
    snprintf(storlet, sizeof(storlet), "%s/%s", r->o->storlets_dir, name);
    int rc = p ? svc_path(r, r->o->objects_dir, p, file, sizeof(file), cobj, sizeof(cobj))
               : -EINVAL;
    if (rc < 0) {
        svc_reply(r, id, rc == -EACCES ? 403 : 400, "bad object path");
        return;
    }
    if (access(storlet, R_OK) != 0 || access(file, R_OK) != 0) {
        svc_reply(r, id, 404, "storlet or object not found");
        return;
    }
    int op[2], mp[2];
    if (!slot_free(r, &slot) || pipe2(op, O_CLOEXEC) == -1) {
        svc_reply(r, id, 503, "too many open streams");
        return;
    }
    if (pipe2(mp, O_CLOEXEC) == -1) {
        close(op[0]);
        close(op[1]);
        svc_reply(r, id, 503, "pipe failed");
        return;
    }
    /* argv of the nested runner: same account and caller, its own object */
    const char *argv[64 + 2 * 64];
    char pathopt[1100], metafd[32];
    char *kv[64];
    unsigned nkv = 0, a = 0;
    snprintf(pathopt, sizeof(pathopt), "%s/%s", r->o->account, cobj);
    snprintf(metafd, sizeof(metafd), "%d", 3);
    argv[a++] = self;
    argv[a++] = "--path";
    argv[a++] = pathopt;
    argv[a++] = "--user";
    argv[a++] = r->o->user;
    argv[a++] = "--meta-fd";
    argv[a++] = metafd;
    argv[a++] = "--result";
    argv[a++] = "/dev/null";
    if (r->o->python_sdk) {
        argv[a++] = "--python-sdk";
        argv[a++] = r->o->python_sdk;
    }
    if (r->o->sandbox) {
        argv[a++] = "--sandbox";
        if (r->o->policy_json) {
            argv[a++] = "--policy";
            argv[a++] = r->o->policy_json;
        }
    }
    const char *k;
    json_t *v;
    json_object_foreach(params, k, v) {
        if (nkv >= 60 || !json_is_string(v))
            break;
        kv[nkv] = xasprintf("%s=%s", k, json_string_value(v));
        argv[a++] = "-p";
        argv[a++] = kv[nkv++];
    }
    argv[a++] = "--";
    argv[a++] = storlet;
    argv[a++] = file;
    argv[a] = NULL;
    pid_t pid = fork();
    if (pid == 0) {
        dup2(op[1], 1);
        dup2(r->log_dst, 2);
        dup2(mp[1], 3);
        execv(self, (char *const *)argv);
        _exit(127);
    }
    for (unsigned i = 0; i < nkv; i++)
        free(kv[i]);
    close(op[1]);
    close(mp[1]);
    if (pid < 0) {
        close(op[0]);
        close(mp[0]);
        svc_reply(r, id, 503, "fork failed");
        return;
    }
    struct child_run *c = xcalloc(1, sizeof(*c));
    c->pid = pid;
    c->pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
    c->meta_rd = mp[0];
    c->out_rd = op[0];
    c->id = id;
    set_nonblock(c->meta_rd);
    r->kids[slot] = c;
}

static void svc_readable(struct run *r, const char *self)
{
    char tmp[65536];
    ssize_t n = read(r->svc, tmp, sizeof(tmp));
    if (n <= 0) {
        if (n == 0 || (errno != EAGAIN && errno != EINTR))
            r->svc_eof = true;
        return;
    }
    if (r->sin_len + (size_t)n > FRAME_IN_MAX + 4) {
        r->proto_err = true;
        snprintf(r->proto_why, sizeof(r->proto_why), "services frame too long");
        r->svc_eof = true;
        return;
    }
    r->sin = xrealloc(r->sin, r->sin_len + (size_t)n);
    memcpy(r->sin + r->sin_len, tmp, (size_t)n);
    r->sin_len += (size_t)n;
    json_t *req;
    int k;
    char why[256];
    while ((k = frame_take(r->sin, &r->sin_len, FRAME_IN_MAX, &req, why, sizeof(why))) == 1) {
        json_t *idj = json_object_get(req, "id");
        const char *op = json_string_value(json_object_get(req, "op"));
        uint64_t id = json_is_integer(idj) ? (uint64_t)json_integer_value(idj) : 0;
        if (!id || !op)
            svc_reply(r, id, 400, "request needs id and op");
        else if (strcmp(op, "read") == 0)
            svc_read(r, req, id);
        else if (strcmp(op, "invoke") == 0)
            svc_invoke(r, req, id, self);
        else
            svc_reply(r, id, 400, "unknown op");
        json_decref(req);
    }
    if (k < 0) {
        r->proto_err = true;
        snprintf(r->proto_why, sizeof(r->proto_why), "services: %s", why);
        r->svc_eof = true;
    }
}

/* Moves bytes of one pump; returns true when it finished (and is freed). */
static bool pump_step(struct run *r, struct pump *p)
{
    for (;;) {
        if (p->boff < p->blen) {
            ssize_t w = write(p->dst, p->buf + p->boff, p->blen - p->boff);
            if (w > 0) {
                p->boff += (size_t)w;
                continue;
            }
            if (w < 0 && (errno == EAGAIN || errno == EINTR))
                return false;
            break;   /* reader closed */
        }
        if (p->left == 0)
            break;
        size_t want = p->left < sizeof(p->buf) ? (size_t)p->left : sizeof(p->buf);
        ssize_t n = read(p->src, p->buf, want);
        if (n <= 0)
            break;   /* file shrank: short body */
        p->blen = (size_t)n;
        p->boff = 0;
        p->left -= (uint64_t)n;
    }
    bool ok = p->left == 0 && p->boff == p->blen;
    close(p->src);
    close(p->dst);
    if (p->id)
        svc_end(r, p->id, ok, 0, ok ? "" : "reader closed the stream early");
    free(p);
    return true;
}

/* A nested run: relay its metadata into the reply, then wait for its end. */
static bool kid_meta(struct run *r, struct child_run *c)
{
    ssize_t n = read(c->meta_rd, c->mbuf + c->mlen, sizeof(c->mbuf) - c->mlen);
    if (n > 0) {
        c->mlen += (size_t)n;
        json_t *f;
        char why[256];
        if (frame_take(c->mbuf, &c->mlen, FRAME_IN_MAX, &f, why, sizeof(why)) == 1) {
            json_t *rep = json_pack("{s:s, s:I, s:i, s:s, s:O, s:n}", "type", "reply", "id",
                                    (json_int_t)c->id, "status", 200, "reason", "OK",
                                    "metadata", json_object_get(f, "metadata"),
                                    "content_length");
            json_t *ct = json_object_get(f, "content_type");
            if (ct)
                json_object_set(rep, "content_type", ct);
            (void)send_frame_fd(r->svc, rep, c->out_rd);
            json_decref(rep);
            json_decref(f);
            c->replied = true;
            close(c->meta_rd);
            c->meta_rd = -1;
            close(c->out_rd);
            c->out_rd = -1;
        }
        return false;
    }
    if (n < 0 && (errno == EAGAIN || errno == EINTR))
        return false;
    close(c->meta_rd);
    c->meta_rd = -1;
    return false;
}

static bool kid_exited(struct run *r, struct child_run *c)
{
    int st = 0;
    if (waitpid(c->pid, &st, WNOHANG) != c->pid)
        return false;
    bool ok = WIFEXITED(st) && WEXITSTATUS(st) == 0;
    if (c->replied)
        svc_end(r, c->id, ok, 0, ok ? "" : "the storlet failed");
    else
        svc_reply(r, c->id, 500, "the invoked storlet failed before its output");
    if (c->meta_rd >= 0)
        close(c->meta_rd);
    if (c->out_rd >= 0)
        close(c->out_rd);
    if (c->pidfd >= 0)
        close(c->pidfd);
    free(c);
    return true;
}

/* ------------------------------------------------------------ the loop */

static void loop(struct run *r, const char *self)
{
    struct pollfd pf[8 + 2 * PUMP_MAX];
    set_nonblock(r->meta);
    set_nonblock(r->out_rd);
    set_nonblock(r->log_rd);
    if (r->svc >= 0)
        set_nonblock(r->svc);
    for (;;) {
        bool meta_settled = r->meta_got || r->meta_eof || r->err_reason || r->proto_err;
        if (r->done && r->out_eof && r->log_eof)
            break;
        nfds_t n = 0;
        int i_meta = -1, i_out = -1, i_log = -1, i_svc = -1, i_done = -1;
        int i_pump[PUMP_MAX], i_kmeta[PUMP_MAX], i_kpid[PUMP_MAX];
        if (!r->meta_eof) {
            pf[n] = (struct pollfd){ r->meta, POLLIN | (r->doc_off < r->doc_len ? POLLOUT : 0), 0 };
            i_meta = (int)n++;
        }
        if (!r->out_eof && meta_settled) {
            pf[n] = (struct pollfd){ r->out_rd, POLLIN, 0 };
            i_out = (int)n++;
        }
        if (!r->log_eof) {
            pf[n] = (struct pollfd){ r->log_rd, POLLIN, 0 };
            i_log = (int)n++;
        }
        if (r->svc >= 0 && !r->svc_eof) {
            pf[n] = (struct pollfd){ r->svc, POLLIN, 0 };
            i_svc = (int)n++;
        }
        if (!r->done) {
            pf[n] = (struct pollfd){ r->o->sandbox ? r->wake_rd : r->pidfd, POLLIN, 0 };
            i_done = (int)n++;
        }
        for (unsigned k = 0; k < PUMP_MAX; k++) {
            i_pump[k] = i_kmeta[k] = i_kpid[k] = -1;
            if (r->pumps[k]) {
                pf[n] = (struct pollfd){ r->pumps[k]->dst, POLLOUT, 0 };
                i_pump[k] = (int)n++;
            }
            if (r->kids[k] && r->kids[k]->meta_rd >= 0) {
                pf[n] = (struct pollfd){ r->kids[k]->meta_rd, POLLIN, 0 };
                i_kmeta[k] = (int)n++;
            }
            if (r->kids[k] && r->kids[k]->meta_rd < 0) {
                pf[n] = (struct pollfd){ r->kids[k]->pidfd, POLLIN, 0 };
                i_kpid[k] = (int)n++;
            }
        }
        if (n == 0)
            break;
        int wait_ms = -1;
        if (r->deadline_ns && !r->done) {
            uint64_t now = now_mono_ns();
            wait_ms = now >= r->deadline_ns ? 0 : (int)((r->deadline_ns - now) / 1000000 + 1);
        }
        int pr = poll(pf, n, wait_ms);
        if (pr < 0) {
            if (errno == EINTR)
                continue;
            die("poll: %s", strerror(errno));
        }
        if (r->deadline_ns && !r->done && now_mono_ns() >= r->deadline_ns && !r->killed_for) {
            kill(r->pid, SIGKILL);
            r->killed_for = sbx_end_name(SBX_END_TIMEOUT);
            r->deadline_ns = 0;
        }
        if (i_meta >= 0 && pf[i_meta].revents) {
            if (pf[i_meta].revents & POLLOUT)
                meta_writable(r);
            if (pf[i_meta].revents & (POLLIN | POLLHUP | POLLERR))
                meta_readable(r);
        }
        if (i_log >= 0 && pf[i_log].revents)
            log_readable(r);
        if (i_out >= 0 && pf[i_out].revents)
            out_readable(r);
        if (i_svc >= 0 && pf[i_svc].revents)
            svc_readable(r, self);
        for (unsigned k = 0; k < PUMP_MAX; k++) {
            if (i_pump[k] >= 0 && pf[i_pump[k]].revents && pump_step(r, r->pumps[k]))
                r->pumps[k] = NULL;
            if (i_kmeta[k] >= 0 && pf[i_kmeta[k]].revents)
                kid_meta(r, r->kids[k]);
            if (i_kpid[k] >= 0 && pf[i_kpid[k]].revents && kid_exited(r, r->kids[k]))
                r->kids[k] = NULL;
        }
        if (i_done >= 0 && pf[i_done].revents) {
            if (r->o->sandbox) {
                char c;
                if (read(r->wake_rd, &c, 1) == 1)
                    r->done = true;
            } else if (waitpid(r->pid, &r->wstatus, WNOHANG) == r->pid) {
                r->done = true;
            }
        }
        if (r->proto_err && !r->done) {
            /* the engine stops a storlet that breaks the protocol */
            if (r->o->sandbox)
                kill(r->sres.host_pid > 0 ? r->sres.host_pid : r->pid, SIGKILL);
            else
                kill(r->pid, SIGKILL);
        }
        if (r->done) {
            /* everything the storlet wrote is in the pipes now */
            if (!r->meta_eof)
                meta_readable(r);
        }
    }
    /* streams still being served belong to a storlet that is gone */
    for (unsigned k = 0; k < PUMP_MAX; k++) {
        if (r->pumps[k]) {
            close(r->pumps[k]->src);
            close(r->pumps[k]->dst);
            free(r->pumps[k]);
        }
        if (r->kids[k]) {
            kill(r->kids[k]->pid, SIGKILL);
            waitpid(r->kids[k]->pid, NULL, 0);
            if (r->kids[k]->meta_rd >= 0)
                close(r->kids[k]->meta_rd);
            if (r->kids[k]->out_rd >= 0)
                close(r->kids[k]->out_rd);
            if (r->kids[k]->pidfd >= 0)
                close(r->kids[k]->pidfd);
            free(r->kids[k]);
        }
    }
}

/* ------------------------------------------------------------ sandbox */

struct sbx_job {
    struct run *r;
    struct sbx_client *client;
    struct sbx_request req;
    int theirs[5 + EXTRA_MAX];
    unsigned ntheirs;
    int wake_wr;
};

static void sbx_started(int host_pid, void *arg)
{
    struct sbx_job *j = arg;
    j->r->sres.host_pid = host_pid;
    /*
     * The launcher holds its own copies now: drop ours, so the channels see
     * EOF when the storlet closes them, as they would with the engine.
     */
    for (unsigned i = 0; i < j->ntheirs; i++) {
        if (j->theirs[i] >= 0)
            close(j->theirs[i]);
        j->theirs[i] = -1;
    }
}

static void *sbx_thread(void *arg)
{
    struct sbx_job *j = arg;
    struct err e;
    err_clear(&e);
    j->r->sres_rc = sbx_client_run(j->client, &j->req, sbx_started, j, &j->r->sres, &e);
    if (j->r->sres_rc < 0)
        snprintf(j->r->sres_err, sizeof(j->r->sres_err), "%s", e.msg);
    sbx_started(0, j);
    (void)!write(j->wake_wr, "x", 1);
    return NULL;
}

/* ------------------------------------------------------------ main */

static void parse_path(struct opts *o, const char *arg)
{
    char *s = xstrdup(arg);
    char *c1 = strchr(s, '/');
    char *c2 = c1 ? strchr(c1 + 1, '/') : NULL;
    if (!c1 || !c2 || c1 == s || c2 == c1 + 1 || !c2[1])
        die("--path %s: expected ACCOUNT/CONTAINER/OBJECT", arg);
    *c1 = *c2 = '\0';
    o->path_copy = s;
    o->account = s;
    o->container = c1 + 1;
    o->object = c2 + 1;
}

static const char *default_sdk(void)
{
    static char path[4200];
    char exe[4096];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
    if (n <= 0)
        return NULL;
    exe[n] = '\0';
    char *slash = strrchr(exe, '/');
    if (!slash)
        return NULL;
    *slash = '\0';
    snprintf(path, sizeof(path), "%s/storlets/sdk/cairn_storlet.py", exe);
    return path;
}

static void parse_args(struct opts *o, int argc, char **argv)
{
    enum { OPT_MAIN = 256, OPT_LANG, OPT_DEP, OPT_EXTRA, OPT_PATH, OPT_METHOD, OPT_USER, OPT_CT, OPT_RANGE,
           OPT_PROXY, OPT_LOG, OPT_RESULT, OPT_OBJECTS, OPT_STORLETS, OPT_SANDBOX, OPT_POLICY, OPT_SDK,
           OPT_METAFD };
    static const struct option lo[] = {
        { "param", required_argument, NULL, 'p' },
        { "meta", required_argument, NULL, 'm' },
        { "output", required_argument, NULL, 'o' },
        { "main", required_argument, NULL, OPT_MAIN },
        { "language", required_argument, NULL, OPT_LANG },
        { "dep", required_argument, NULL, OPT_DEP },
        { "extra", required_argument, NULL, OPT_EXTRA },
        { "path", required_argument, NULL, OPT_PATH },
        { "method", required_argument, NULL, OPT_METHOD },
        { "user", required_argument, NULL, OPT_USER },
        { "content-type", required_argument, NULL, OPT_CT },
        { "range", required_argument, NULL, OPT_RANGE },
        { "run-on-proxy", no_argument, NULL, OPT_PROXY },
        { "log", required_argument, NULL, OPT_LOG },
        { "result", required_argument, NULL, OPT_RESULT },
        { "objects", required_argument, NULL, OPT_OBJECTS },
        { "storlets", required_argument, NULL, OPT_STORLETS },
        { "sandbox", no_argument, NULL, OPT_SANDBOX },
        { "policy", required_argument, NULL, OPT_POLICY },
        { "python-sdk", required_argument, NULL, OPT_SDK },
        { "meta-fd", required_argument, NULL, OPT_METAFD },
        { NULL, 0, NULL, 0 },
    };
    o->params = json_object();
    o->meta = json_object();
    o->method = "GET";
    o->user = "dev:dev";
    o->meta_fd = -1;
    const char *path = NULL;
    int c;
    while ((c = getopt_long(argc, argv, "p:m:o:", lo, NULL)) != -1) {
        switch (c) {
        case 'p': kv_add(o->params, optarg, "--param"); break;
        case 'm': kv_add(o->meta, optarg, "--meta"); break;
        case 'o': o->output = strcmp(optarg, "-") == 0 ? NULL : optarg; break;   /* "-": stdout */
        case OPT_MAIN: o->main_name = optarg; break;
        case OPT_LANG: o->language = optarg; break;
        case OPT_DEP:
            if (o->ndeps >= 16)
                die("at most 16 --dep");
            o->deps[o->ndeps++] = optarg;
            break;
        case OPT_EXTRA:
            if (o->nextra >= EXTRA_MAX)
                die("at most %d --extra inputs (fds 5..7)", EXTRA_MAX);
            o->extra[o->nextra++] = optarg;
            break;
        case OPT_PATH: path = optarg; break;
        case OPT_METHOD: o->method = optarg; break;
        case OPT_USER: o->user = optarg; break;
        case OPT_CT: o->content_type = optarg; break;
        case OPT_RANGE: {
            const char *dash = strchr(optarg, '-');
            if (!dash || parse_u64n(optarg, (size_t)(dash - optarg), &o->range_first) < 0 ||
                parse_u64(dash + 1, &o->range_last) < 0 || o->range_last < o->range_first)
                die("--range %s: expected FIRST-LAST", optarg);
            o->has_range = true;
            break;
        }
        case OPT_PROXY: o->run_on_proxy = true; break;
        case OPT_LOG: o->log = optarg; break;
        case OPT_RESULT: o->result = optarg; break;
        case OPT_OBJECTS: o->objects_dir = optarg; break;
        case OPT_STORLETS: o->storlets_dir = optarg; break;
        case OPT_SANDBOX: o->sandbox = true; break;
        case OPT_POLICY: o->policy_json = optarg; break;
        case OPT_SDK: o->python_sdk = optarg; break;
        case OPT_METAFD: {
            uint64_t v;
            if (parse_u64(optarg, &v) < 0 || v < 3 || v > 1000)
                die("--meta-fd %s: not a descriptor number", optarg);
            o->meta_fd = (int)v;
            if (fcntl(o->meta_fd, F_SETFD, FD_CLOEXEC) == -1)
                die("--meta-fd %s: %s", optarg, strerror(errno));
            break;
        }
        default: usage();
        }
    }
    if (optind >= argc || argc - optind > 2)
        usage();
    o->storlet = argv[optind];
    o->input = optind + 1 < argc ? argv[optind + 1] : NULL;
    if (!o->language)
        o->language = str_has_suffix(o->storlet, ".py") ? "python" : "native";
    if (strcmp(o->language, "native") != 0 && strcmp(o->language, "python") != 0)
        die("--language %s: native or python", o->language);
    if (strcmp(o->method, "GET") != 0 && strcmp(o->method, "PUT") != 0 &&
        strcmp(o->method, "COPY") != 0)
        die("--method %s: GET, PUT or COPY", o->method);
    const char *k;
    json_t *v;
    json_object_foreach(o->params, k, v) {
        if (str_has_prefix(k, "storlet_"))
            die("--param %s: names starting with storlet_ are reserved", k);
    }
    if (path) {
        parse_path(o, path);
    } else {
        o->account = "AUTH_dev";
        o->container = "dev";
        o->object = o->input ? base_name(o->input) : "stdin";
    }
    const char *b = base_name(o->storlet);
    if (strcmp(o->language, "python") == 0) {
        if (!str_has_suffix(b, ".py"))
            die("%s: a Python storlet's name ends in .py", o->storlet);
        if (!o->main_name) {
            static char m[300];
            snprintf(m, sizeof(m), "%.*s.main", (int)(strlen(b) - 3), b);
            o->main_name = m;
        }
        if (!o->python_sdk)
            o->python_sdk = getenv("CAIRN_STORLET_PY_SDK");
        if (!o->python_sdk)
            o->python_sdk = default_sdk();
        if (!o->python_sdk || access(o->python_sdk, R_OK) != 0)
            die("Python SDK %s not found (--python-sdk)", o->python_sdk ? o->python_sdk : "");
    } else if (!o->main_name) {
        o->main_name = b;
    }
}

int main(int argc, char **argv)
{
    struct opts o = { 0 };
    struct run r = { .o = &o, .meta = -1, .svc = -1, .pidfd = -1, .wake_rd = -1,
                     .meta_copy_fd = -1 };
    char self[4096];
    ssize_t sl = readlink("/proc/self/exe", self, sizeof(self) - 1);
    if (sl <= 0)
        die("readlink /proc/self/exe: %s", strerror(errno));
    self[sl] = '\0';
    signal(SIGPIPE, SIG_IGN);
    parse_args(&o, argc, argv);
    r.meta_copy_fd = o.meta_fd;

    struct sbx_policy pol;
    struct err e;
    err_clear(&e);
    sbx_policy_init(&pol, SBX_CLASS_USER, 0);
    if (o.policy_json && sbx_policy_from_json(o.policy_json, &pol, &e) < 0)
        die("--policy: %s", e.msg);
    r.pol = &pol;

    /* The launcher is forked before any thread exists, as it must be; its
     * notices (cgroup mode) would only mix with the storlet's log. */
    log_set_level(LOG_LVL_WARNING);
    struct sbx_client *client = NULL;
    int launcher_pid = -1;
    if (o.sandbox) {
        if (geteuid() != 0)
            die("--sandbox needs root (user namespaces with id maps, cgroups)");
        struct sbx_launcher_opts lo = { 0 };
        int fd = sbx_launcher_fork(&lo, &launcher_pid);
        if (fd < 0)
            die("forking the sandbox launcher: %s", strerror(-fd));
        client = sbx_client_adopt(fd);
    }

    /* the code directory, as the engine lays it out at /storlet */
    char codedir[] = "/tmp/cairn-storlet-run.XXXXXX";
    char scratch[] = "/tmp/cairn-storlet-tmp.XXXXXX";
    if (!mkdtemp(codedir))
        die("mkdtemp: %s", strerror(errno));
    tmp_dirs[0] = codedir;
    if (!mkdtemp(scratch))
        die("mkdtemp: %s", strerror(errno));
    tmp_dirs[1] = scratch;
    chmod(codedir, 0755);
    chmod(scratch, 01777);
    bool py = strcmp(o.language, "python") == 0;
    int rc = copy_file(o.storlet, codedir, base_name(o.storlet), py ? 0644 : 0755);
    if (rc < 0)
        die("%s: %s", o.storlet, strerror(-rc));
    for (unsigned i = 0; i < o.ndeps; i++)
        if ((rc = copy_file(o.deps[i], codedir, base_name(o.deps[i]), 0755)) < 0)
            die("--dep %s: %s", o.deps[i], strerror(-rc));
    if (py && (rc = copy_file(o.python_sdk, codedir, "cairn_storlet.py", 0644)) < 0)
        die("%s: %s (a storlet or dependency may not be named cairn_storlet.py)",
            o.python_sdk, strerror(-rc));

    /* the input: the file itself, or a pipe fed with the range */
    int in_fd = 0;
    int64_t in_len = -1, total_len = -1;
    struct pump *range_pump = NULL;
    if (o.input) {
        in_fd = open(o.input, O_RDONLY | O_CLOEXEC);
        if (in_fd == -1)
            die("%s: %s", o.input, strerror(errno));
    }
    struct stat st;
    if (fstat(in_fd, &st) == 0 && S_ISREG(st.st_mode))
        total_len = in_len = (int64_t)st.st_size;
    if (o.has_range) {
        if (total_len < 0)
            die("--range needs a regular file as INPUT");
        if (o.range_first >= (uint64_t)total_len)
            die("--range: first byte %llu is past the end (%lld bytes): 416",
                (unsigned long long)o.range_first, (long long)total_len);
        if (o.range_last >= (uint64_t)total_len)
            o.range_last = (uint64_t)total_len - 1;
        in_len = (int64_t)(o.range_last - o.range_first + 1);
        int pp[2];
        if (pipe2(pp, O_CLOEXEC) == -1)
            die("pipe: %s", strerror(errno));
        lseek(in_fd, (off_t)o.range_first, SEEK_SET);
        range_pump = pump_new(in_fd, pp[1], (uint64_t)in_len, 0);
        in_fd = pp[0];
    }
    int extra_fd[EXTRA_MAX];
    for (unsigned i = 0; i < o.nextra; i++)
        if ((extra_fd[i] = open(o.extra[i], O_RDONLY | O_CLOEXEC)) == -1)
            die("--extra %s: %s", o.extra[i], strerror(errno));

    /* channels */
    int msp[2], ssp[2] = { -1, -1 }, outp[2], logp[2];
    bool services = o.objects_dir || o.storlets_dir;
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, msp) == -1 ||
        (services && socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, ssp) == -1) ||
        pipe2(outp, O_CLOEXEC) == -1 || pipe2(logp, O_CLOEXEC) == -1)
        die("channels: %s", strerror(errno));
    r.meta = msp[0];
    r.svc = ssp[0];
    r.out_rd = outp[0];
    r.log_rd = logp[0];
    r.out_dst = 1;
    r.log_dst = 2;
    if (o.output && (r.out_dst = open(o.output, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644)) == -1)
        die("%s: %s", o.output, strerror(errno));
    if (o.log && (r.log_dst = open(o.log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644)) == -1)
        die("%s: %s", o.log, strerror(errno));

    json_t *doc = build_doc(&o, &pol, in_len, total_len, services);
    r.doc = eng_frame_of(doc, &r.doc_len);
    json_decref(doc);
    if (r.doc_len - 4 > DOC_MAX)
        die("the invocation document is over %u bytes", DOC_MAX);
    r.min = xmalloc(FRAME_IN_MAX + 4);

    /* what the storlet gets, at its fixed numbers */
    int fds[8], tg[8];
    size_t nfds = 0;
    fds[nfds] = in_fd, tg[nfds++] = SBX_FD_INPUT;
    fds[nfds] = outp[1], tg[nfds++] = SBX_FD_OUTPUT;
    fds[nfds] = logp[1], tg[nfds++] = SBX_FD_LOG;
    fds[nfds] = msp[1], tg[nfds++] = SBX_FD_META;
    if (services)
        fds[nfds] = ssp[1], tg[nfds++] = SBX_FD_CONTROL;
    for (unsigned i = 0; i < o.nextra; i++)
        fds[nfds] = extra_fd[i], tg[nfds++] = SBX_FD_EXTRA + (int)i;

    const char *dir = o.sandbox ? "/storlet" : codedir;
    char exe[4200], sdk[4200], envdir[4200], envtmp[4200], envhome[4200];
    snprintf(exe, sizeof(exe), "%s/%s", dir, base_name(o.storlet));
    snprintf(sdk, sizeof(sdk), "%s/cairn_storlet.py", dir);
    snprintf(envdir, sizeof(envdir), "CAIRN_STORLET_DIR=%s", dir);
    snprintf(envtmp, sizeof(envtmp), "TMPDIR=%s", o.sandbox ? "/tmp" : scratch);
    snprintf(envhome, sizeof(envhome), "HOME=%s", o.sandbox ? "/tmp" : scratch);
    const char *env[] = { "PATH=/usr/bin:/bin", "LANG=C.UTF-8", envhome, envtmp, envdir,
                          "CAIRN_STORLET_INTERFACE=1.0", NULL };
    const char *py_argv[] = { "/usr/bin/python3", "-I", "-B", sdk, o.main_name, NULL };
    const char *nat_argv[] = { exe, NULL };
    const char *const *sargv = py ? py_argv : nat_argv;

    struct sbx_job job = { 0 };
    if (o.sandbox) {
        int wp[2];
        if (pipe2(wp, O_CLOEXEC) == -1)
            die("pipe: %s", strerror(errno));
        r.wake_rd = wp[0];
        job.r = &r;
        job.client = client;
        job.wake_wr = wp[1];
        job.req = (struct sbx_request){
            .policy = &pol, .path = sargv[0], .argv = sargv, .env = env, .code_dir = codedir,
            .fds = fds, .fd_target = tg, .nfds = nfds,
        };
        job.theirs[job.ntheirs++] = outp[1];
        job.theirs[job.ntheirs++] = logp[1];
        job.theirs[job.ntheirs++] = msp[1];
        if (services)
            job.theirs[job.ntheirs++] = ssp[1];
        if (in_fd != 0)
            job.theirs[job.ntheirs++] = in_fd;
        for (unsigned i = 0; i < o.nextra; i++)
            job.theirs[job.ntheirs++] = extra_fd[i];
        pthread_t th;
        if (pthread_create(&th, NULL, sbx_thread, &job) != 0)
            die("pthread_create failed");
        pthread_detach(th);
    } else {
        pid_t pid = fork();
        if (pid < 0)
            die("fork: %s", strerror(errno));
        if (pid == 0) {
            /* everything to high numbers first, then down to its target */
            int hi[8];
            for (size_t i = 0; i < nfds; i++)
                hi[i] = fcntl(fds[i], F_DUPFD_CLOEXEC, 100);
            for (size_t i = 0; i < nfds; i++)
                dup2(hi[i], tg[i]);
            for (int fd = 3; fd < 100; fd++) {
                bool keep = false;
                for (size_t i = 0; i < nfds; i++)
                    keep |= tg[i] == fd;
                if (!keep)
                    close(fd);
            }
            if (chdir(scratch) == -1)
                _exit(127);
            signal(SIGPIPE, SIG_DFL);
            execve(sargv[0], (char *const *)sargv, (char *const *)env);
            fprintf(stderr, "exec %s: %s\n", sargv[0], strerror(errno));
            _exit(127);
        }
        r.pid = pid;
        if (pol.wall_ms)
            r.deadline_ns = now_mono_ns() + pol.wall_ms * 1000000;
        r.pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
        if (r.pidfd < 0)
            die("pidfd_open: %s", strerror(errno));
        close(outp[1]);
        close(logp[1]);
        close(msp[1]);
        if (services)
            close(ssp[1]);
    }
    if (!o.sandbox) {
        if (in_fd != 0)
            close(in_fd);
        for (unsigned i = 0; i < o.nextra; i++)
            close(extra_fd[i]);
    }
    if (range_pump)
        r.pumps[0] = range_pump;

    loop(&r, self);

    /* how it ended, and what the engine would answer */
    json_t *res = json_object();
    bool exited_ok = false;
    int code = -1;
    if (o.sandbox) {
        if (r.sres_rc < 0)
            die("sandbox: %s", r.sres_err);
        json_object_set_new(res, "end", json_string(sbx_end_name(r.sres.end)));
        if (r.sres.end == SBX_END_EXIT)
            code = r.sres.exit_code;
        json_object_set_new(res, "signal", json_integer(r.sres.signo));
        json_object_set_new(res, "cpu_us", json_integer((json_int_t)r.sres.cpu_us));
        json_object_set_new(res, "max_rss_kb", json_integer((json_int_t)r.sres.max_rss_kb));
        json_object_set_new(res, "wall_us", json_integer((json_int_t)r.sres.wall_us));
        json_object_set_new(res, "detail", json_string(r.sres.detail));
    } else if (r.killed_for) {
        json_object_set_new(res, "end", json_string(r.killed_for));
    } else if (WIFEXITED(r.wstatus)) {
        json_object_set_new(res, "end", json_string("exit"));
        code = WEXITSTATUS(r.wstatus);
    } else {
        json_object_set_new(res, "end", json_string("signal"));
        json_object_set_new(res, "signal", json_integer(WTERMSIG(r.wstatus)));
    }
    exited_ok = code == 0 && !r.proto_err;
    json_object_set_new(res, "exit_code", code >= 0 ? json_integer(code) : json_null());
    json_object_set_new(res, "ok", json_boolean(exited_ok));
    int status = 200;
    const char *reason = NULL;
    char tail[LOG_TAIL + 1];
    const char *end = json_string_value(json_object_get(res, "end"));
    char killed[200];
    if (!exited_ok) {
        if (strcmp(end, "exit") != 0 && strcmp(end, "signal") != 0) {
            /* a kill by the sandbox (or the runner in its place) says why */
            snprintf(killed, sizeof(killed), "killed by the sandbox: %s%s%s", end,
                     o.sandbox && r.sres.detail[0] ? ": " : "", o.sandbox ? r.sres.detail : "");
            reason = killed;
        } else if (r.proto_err)
            reason = r.proto_why;
        else if (r.err_reason)
            reason = r.err_reason;
        else {
            /* the last non-empty line of the log */
            size_t l = r.tail_len;
            while (l && (r.log_tail[l - 1] == '\n' || r.log_tail[l - 1] == '\r'))
                l--;
            size_t s0 = l;
            while (s0 && r.log_tail[s0 - 1] != '\n')
                s0--;
            memcpy(tail, r.log_tail + s0, l - s0);
            tail[l - s0] = '\0';
            reason = tail[0] ? tail : "storlet execution failed";
        }
        if (r.out_bytes > 0)
            status = 0;   /* the response was under way: it ends abnormally */
        else if (code == 64)
            status = 400;
        else if (code == 65)
            status = 422;
        else
            status = 500;
    }
    json_object_set_new(res, "status", status ? json_integer(status) : json_string("aborted"));
    json_object_set_new(res, "reason", reason ? json_string(reason) : json_null());
    json_object_set_new(res, "metadata", r.out_meta ? json_incref(r.out_meta) : json_object());
    json_object_set_new(res, "content_type",
                        r.content_type ? json_string(r.content_type) : json_null());
    json_object_set_new(res, "output_bytes", json_integer((json_int_t)r.out_bytes));
    char *rs = json_dumps(res, JSON_COMPACT | JSON_SORT_KEYS);
    if (o.result) {
        FILE *f = fopen(o.result, "w");
        if (!f)
            die("%s: %s", o.result, strerror(errno));
        fprintf(f, "%s\n", rs);
        fclose(f);
    } else {
        fprintf(stderr, "%s\n", rs);
    }
    free(rs);
    json_decref(res);
    if (r.out_dst != 1 && close(r.out_dst) == -1)
        die("%s: %s", o.output, strerror(errno));
    if (client) {
        sbx_client_free(client);
        waitpid(launcher_pid, NULL, 0);
    }
    rm_rf(codedir);
    rm_rf(scratch);
    free(r.doc);
    free(r.min);
    free(r.sin);
    free(r.content_type);
    free(r.err_reason);
    json_decref(r.out_meta);
    json_decref(o.params);
    json_decref(o.meta);
    free(o.path_copy);
    return exited_ok ? 0 : 1;
}
