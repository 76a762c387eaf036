/*
 * eng.h - the storlet engine (libcairnengine): the extension service, which
 * decides whether and where a storlet runs on a request, and the execution
 * service, which runs one in the sandbox and streams its input and output on
 * the daemon's event loop. The user-facing contract (headers, statuses, the
 * storlet ABI) is docs/storlets.md; this header is the daemons' side of it.
 *
 * Extension service: pure functions over a request head (method, headers,
 * query) and the daemon's role. Thread-safe, no allocation outside what the
 * caller passes (except the parameters object, a new Jansson reference).
 *
 * Execution service: one struct eng per process, made by eng_start() at the
 * very start of the daemon, before any thread exists, because it forks the
 * sandbox launcher (sandbox/sbx.h); the launcher listens on a socket in a
 * private 0700 directory and each invocation connects to it. A run
 * (struct eng_run) belongs to the thread whose event_base it was made on;
 * its callbacks run from that loop. struct eng itself is read-only after
 * eng_start and may be shared by all threads. The process must ignore
 * SIGPIPE, as the daemons do: a storlet that exits without reading its
 * input is an EPIPE for eng_run_write and eng_run_splice. Design notes:
 * docs/internals/engine.md.
 */
#ifndef CAIRN_ENG_H
#define CAIRN_ENG_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "common/err.h"

struct http_head;
struct event_base;
struct evbuffer;

/* ------------------------------------------------------- extension service */

enum eng_role {
    ENG_ROLE_PROXY = 0,   /* interface node */
    ENG_ROLE_OBJECT = 1,  /* local node holding a replica */
};

enum eng_where {
    ENG_NONE = 0,     /* no storlet on this request */
    ENG_RUN_HERE,     /* this daemon runs it */
    ENG_FORWARD,      /* the proxy forwards the storlet headers to an object
                       * node, which runs it next to the data */
    ENG_REJECT,       /* answer status/reason, run nothing */
};

enum eng_op {
    ENG_OP_GET = 0,
    ENG_OP_PUT,
    ENG_OP_COPY,      /* COPY, or PUT with X-Copy-From */
};

struct eng_decision {
    enum eng_where where;
    enum eng_op op;
    int status;              /* ENG_REJECT: the HTTP status */
    char reason[256];        /* ENG_REJECT: the body */
    const char *storlet;     /* borrowed from the head: X-Run-Storlet */
    bool on_proxy;           /* the storlet runs on the proxy */
    bool has_range;          /* X-Storlet-Range given (one range) */
    uint64_t range_first;    /* inclusive; a suffix range "-n" has */
    uint64_t range_last;     /* range_suffix set and range_last = n */
    bool range_suffix;
    bool range_open;         /* "a-": to the end */
    bool generate_log;       /* X-Storlet-Generate-Log: True */
};

/*
 * Decides for one request what the engine does, by docs/storlets.md section
 * 2 and these rules: no X-Run-Storlet -> NONE; GET runs on the object node
 * (proxy: FORWARD, object: RUN_HERE) unless X-Storlet-Run-On-Proxy (empty
 * value; non-empty is 400) puts it on the proxy; PUT runs on the proxy;
 * COPY and PUT + X-Copy-From read the source as a storlet GET would (so
 * FORWARD by default) and store the output; HEAD, POST, DELETE run nothing.
 * A plain Range with X-Run-Storlet is 400, so is a bad or multiple
 * X-Storlet-Range, a COPY naming another account or X-Fresh-Metadata.
 * On the object role a storlet runs only on GET (the proxy strips the
 * storlet headers on what it runs itself). Never fails; d is filled.
 */
void eng_decide(enum eng_role role, const struct http_head *h, struct eng_decision *d);

/*
 * Whether the request stores a large object's manifest: a DLO's
 * X-Object-Manifest or an SLO's ?multipart-manifest=put (any value, the
 * name quoted or not). Its body is the manifest, and the data went up in
 * segments before it, so no storlet can transform it: eng_decide refuses
 * X-Run-Storlet on it, and the proxy refuses a write rule's stages.
 */
bool eng_manifest_put(const struct http_head *h);

/*
 * Parses an X-Storlet-Range value (exactly one range: "bytes=a-b",
 * "bytes=a-" or "bytes=-n") into d's range fields (has_range and the
 * rest), as eng_decide does; the object node reads the proxy's
 * X-Backend-Storlet-Range with it. Returns 0 or -EINVAL (d unchanged but
 * for its range fields).
 */
int eng_storlet_range_parse(const char *v, struct eng_decision *d);

/*
 * The storlet's parameters: X-Storlet-Parameter-<N>: key:value headers
 * (split at the first ':', value URL-unquoted) merged with the query string
 * (key and value URL-decoded, '+' is a space), leaving out the names Swift
 * reads itself. Limits: names 1..128 bytes of [A-Za-z0-9_.-], values at
 * most 1024 bytes, 64 parameters; names starting "storlet_" are reserved; a
 * name given twice is an error. Returns a new reference to a JSON object of
 * strings, or NULL with the reason (a 400 body) in e.
 */
json_t *eng_params(const struct http_head *h, const char *query, struct err *e);

/*
 * Deployment checks (docs/storlets.md section 1) on a PUT or POST into the
 * `storlet` container: object name `name`, the request head h, whether the
 * caller is a reseller admin (who alone may deploy an admin-class storlet).
 * Returns 0, or -EINVAL with the 400 body in e ("Mandatory parameter is
 * missing: X-Object-Meta-Storlet-Main").
 */
int eng_validate_storlet(const char *name, const struct http_head *h, bool reseller_admin,
                         struct err *e);

/* The same for a PUT or POST into the `dependency` container. */
int eng_validate_dependency(const char *name, const struct http_head *h, struct err *e);

/* Is an account enabled for storlets (X-Account-Meta-Storlet-Enabled is a
 * true value: "true", "yes", "on", "1", any case)? value may be NULL. */
bool eng_account_enabled(const char *value);

/* Container names (fixed, as in OpenStack Storlets' defaults). */
#define ENG_STORLET_CONTAINER "storlet"
#define ENG_DEPENDENCY_CONTAINER "dependency"
#define ENG_LOG_CONTAINER "storletlog"
#define ENG_SVC_DEPTH_MAX 4
/* Most storlets of one account running at once in a daemon when the
 * configuration does not say (storlet_tenant_max): more answer 503. An
 * eighth of the launcher's 256 sandboxes, so that one tenant cannot hold
 * every sandbox of a node and starve the others (threat-model.md). */
#define ENG_TENANT_RUNS_MAX 32

/* ------------------------------------------------------- execution service */

struct eng_config {
    const char *cache_dir;    /* storlet code cache (created) */
    const char *sdk_path;     /* cairn_storlet.py for python storlets */
    uint64_t wall_ms;         /* 0 = the sandbox class default */
    uint64_t min_input_rate;  /* bytes/s: the wall budget grows by the
                               * input length / this (eng_wall_budget_ms);
                               * 0 = no growth */
    uint64_t idle_ms;
    uint64_t output_max;
    unsigned admin_cpu_weight; /* admin-class sandboxes; 0 = the class default */
    uint32_t uid_base;        /* 0 = SBX_UID_BASE_DEFAULT */
    unsigned warm;            /* warm sandboxes kept per storlet version */
    unsigned tenant_max;      /* running storlets per account; 0 = ENG_TENANT_RUNS_MAX */
    uint64_t cache_max;       /* code cache bound in bytes; 0 = none */
    bool no_cgroup;           /* launcher: behave as if no cgroup (tests) */
    const char *log_facility; /* launcher logs to syslog as the daemon; NULL: stderr */
};

struct eng;

/*
 * Starts the launcher (before threads!): the cairn-sbx-launch program found
 * next to the running binary, or, when there is none (test programs), a
 * fork of this process. Prepares the cache. cfg's strings
 * are copied. Returns the engine or NULL with the reason in e.
 */
struct eng *eng_start(const struct eng_config *cfg, struct err *e);

/* Kills the launcher (and with it every sandbox), frees. NULL is a no-op. */
void eng_free(struct eng *g);

/*
 * A storlet version as the daemon found it by a HEAD with the caller's
 * credentials (never older: the cache is keyed by ETags, so a stale copy
 * can never be used).
 */
struct eng_dep {
    const char *name;
    const char *etag;
    unsigned mode;            /* 0644 default, 0755 executable */
};

struct eng_code {
    const char *account;
    const char *name;         /* object name in `storlet` */
    const char *etag;
    const char *language;     /* "native" | "python" */
    const char *main;
    bool object_metadata;     /* pass input metadata in the document */
    bool admin;               /* X-Object-Meta-Storlet-Sandbox: admin */
    const struct eng_dep *deps;
    size_t ndeps;
};

/* Reads the storlet-related headers of a HEAD/GET of the storlet object
 * (X-Object-Meta-Storlet-*, ETag) into c, strings borrowed from h. Deps are
 * only counted (c->ndeps; names in the Dependency header). Returns 0 or
 * -EINVAL when the object is not a deployed storlet (e says why). */
int eng_code_from_head(struct eng_code *c, const char *account, const char *name,
                       const struct http_head *h, struct err *e);

/*
 * Code cache. A file is cached as (account, name, etag); eng_cache_has()
 * says whether it is there. To fill, eng_cache_begin() gives an fd to write
 * the object's bytes to, eng_cache_commit() checks their MD5 against etag
 * and publishes the file atomically (-EBADMSG if they differ); abort
 * discards. Blocking file I/O: small files only, or from a worker thread.
 */
struct eng_fill;
bool eng_cache_has(struct eng *g, const char *account, const char *name, const char *etag);
struct eng_fill *eng_cache_begin(struct eng *g, const char *account, const char *name,
                                 const char *etag, struct err *e);
/* -EFBIG once the file passes cache_max (it could never fit), or -errno of
 * the write. */
int eng_cache_write(struct eng_fill *f, const void *buf, size_t len);
int eng_cache_commit(struct eng_fill *f, struct err *e);   /* frees f */
void eng_cache_abort(struct eng_fill *f);                  /* frees f; NULL ok */

/*
 * Builds (or finds) the code directory for c from cached files: the storlet
 * under its name, each dependency with its mode, the SDK for python. All
 * files must be cached. Writes the directory path into out. Returns 0,
 * -ENOENT when a file is not cached, or another -errno (e says why).
 */
int eng_code_dir(struct eng *g, const struct eng_code *c, char *out, size_t outsz,
                 struct err *e);

/*
 * Bounding the cache (cache_max, storlet_cache_size): after each new file
 * or directory, and at eng_start, the least recently used files and code
 * directories are deleted until the rest fits; one in use never is, in
 * this or another process sharing cache_dir (flock-based, eng_cache.c).
 *
 * eng_code_dir_hold is eng_code_dir returning the directory held in use
 * (*hold, release with eng_cache_release) so that nothing evicts it before
 * the run holds it itself. eng_cache_hold holds a code directory of this
 * cache (eng_run_start does, until the run ends): returns a handle >= 0,
 * -ENOENT when it is gone, -EINVAL when dir is not one of the cache's.
 * eng_cache_pin holds it for the engine's life (warm sandboxes bind it).
 * eng_cache_bytes is what files and directories take now. Thread-safe.
 */
int eng_code_dir_hold(struct eng *g, const struct eng_code *c, char *out, size_t outsz,
                      int *hold, struct err *e);
int eng_cache_hold(struct eng *g, const char *code_dir);
/* eng_cache_has that also holds the file in use (eng_prep, from finding
 * or fetching it until the code directory is built): a handle >= 0 for
 * eng_cache_release, or -ENOENT when it is not cached. */
int eng_cache_hold_file(struct eng *g, const char *account, const char *name,
                        const char *etag);
void eng_cache_release(int hold);   /* a negative hold is a no-op */
int eng_cache_pin(struct eng *g, const char *code_dir);
uint64_t eng_cache_bytes(struct eng *g);

/*
 * Getting a storlet ready (eng_prep.c): HEAD of the storlet and of each
 * dependency, then GET of whatever the cache lacks, all sent to the proxy
 * at host:port with the caller's token, so the proxy's ACLs decide who may
 * run what. cb runs once from the loop (never from inside eng_prep_start)
 * with status 0 and the code and its directory (valid only during cb: start
 * the run there), or the status to answer: 401 "Failed to verify access to
 * the storlet ..." (missing or not readable), 400 (not a deployed storlet),
 * 503 (the proxy or the cache failed). The prep is freed after cb.
 */
struct eng_prep;
struct eng_prep_result {
    int status;
    char reason[1024];
    struct eng_code code;
    char code_dir[4096];
};
typedef void eng_prep_fn(struct eng_prep *p, const struct eng_prep_result *r, void *arg);
struct eng_prep *eng_prep_start(struct eng *g, struct event_base *base, const char *host,
                                int port, const char *token, const char *account,
                                const char *storlet, const char *trans_id, eng_prep_fn *cb,
                                void *arg);
/*
 * The same, and every request also carries cap (when not NULL or empty)
 * as ENG_CAP_HEADER: a capability the proxy minted (proxy/px_cap.h,
 * purpose "storlet-code") that lets these reads of the account's `storlet`
 * and `dependency` containers succeed with the account owner's rights
 * whatever the caller may read. cap is copied.
 */
struct eng_prep *eng_prep_start_cap(struct eng *g, struct event_base *base, const char *host,
                                    int port, const char *token, const char *cap,
                                    const char *account, const char *storlet,
                                    const char *trans_id, eng_prep_fn *cb, void *arg);
/* The header a proxy capability travels in (docs/internals/capabilities.md). */
#define ENG_CAP_HEADER "X-Cairn-Capability"
/*
 * The same, with what the proxy's own HEAD of the storlet, made with the
 * same token (or cap) at most FACTS_TTL (10 s) ago, said: verified is a
 * JSON object of that answer's ETag and X-Object-Meta-Storlet-* headers
 * (one element of ENG_VERIFIED_HEADER), or NULL. When it is given the
 * storlet's HEAD is skipped (the proxy's answer stands for it: object
 * nodes trust their proxies, docs/rules.md 4.11); dependencies are HEADed
 * and anything the cache lacks is fetched as always (a GET whose ETag is
 * not the verified one fails the prep). A verified text that does not
 * parse is ignored (the HEAD is made). verified is copied.
 */
struct eng_prep *eng_prep_start_known(struct eng *g, struct event_base *base,
                                      const char *host, int port, const char *token,
                                      const char *cap, const char *verified,
                                      const char *account, const char *storlet,
                                      const char *trans_id, eng_prep_fn *cb, void *arg);
/* Proxy -> object node: a JSON array, one element per stage of
 * X-Backend-Storlet-Chain, each the verified object above or null. */
#define ENG_VERIFIED_HEADER "X-Backend-Storlet-Verified"
/* Stops a prep without calling cb. NULL is a no-op. */
void eng_prep_cancel(struct eng_prep *p);

struct eng_invocation {
    const struct eng_code *code;
    const char *code_dir;         /* from eng_code_dir */
    json_t *parameters;           /* borrowed */
    enum eng_op op;
    const char *account, *container, *object;
    const char *trans_id;
    bool on_proxy;
    bool has_range;
    uint64_t range_first, range_last, range_size;
    const char *caller_user;      /* "account:user" */
    const char *caller_account;
    json_t *caller_roles;         /* borrowed array or NULL */
    int64_t content_length;       /* of the input, -1 unknown */
    const char *content_type;
    json_t *metadata;             /* borrowed: the input's user metadata */
    /* services (fd 4): requests go to the proxy at svc_host:svc_port with
     * svc_token (the caller's); svc_host NULL = no services channel.
     * svc_depth: how deep in a chain of invocations this one is (0 for a
     * client's request); at ENG_SVC_DEPTH_MAX - 1 it may not invoke. */
    const char *svc_host;
    int svc_port;
    const char *svc_token;
    unsigned svc_depth;
    uint64_t wall_ms, idle_ms;    /* 0: the engine's configured limits;
                                   * else this run's (a Distributed merge
                                   * waits for its input as long as its
                                   * splits run); the wall budget grows
                                   * from either with the input length */
    int64_t budget_len;           /* > 0: the input length the wall budget
                                   * grows with (a chain's later stages
                                   * carry the chain's input length); else
                                   * content_length, else the range's */
    int input_fd;                 /* >= 0: given to the storlet as fd 0
                                   * (the engine dups it); -1: the caller
                                   * feeds input with eng_run_write */
};

/* Output metadata of the storlet (valid until done returns). */
struct eng_meta {
    json_t *metadata;             /* borrowed object of strings */
    const char *content_type;     /* NULL if not given */
};

enum eng_outcome_kind {
    ENG_OK = 0,            /* exit 0, output complete */
    ENG_FAILED_BEFORE,     /* failed before the first output byte: status */
    ENG_FAILED_AFTER,      /* failed mid-stream: abort the response */
};

struct eng_outcome {
    enum eng_outcome_kind kind;
    int status;            /* 200, or the answer for FAILED_BEFORE */
    char reason[1024];     /* the storlet's reason ("" when ok) */
    const char *end;       /* sandbox end name: "exit", "timeout", ... */
    int exit_code;
    uint64_t bytes_in, bytes_out, cpu_us, wall_us;
    struct evbuffer *log;  /* first 1 MiB of the log (borrowed) */
    bool log_cut;
};

struct eng_run;

struct eng_run_ops {
    /* The first output byte (or a successful end with no output) is there:
     * start the response with this metadata. Called at most once, before
     * any output callback. */
    void (*start)(struct eng_run *r, const struct eng_meta *m, void *arg);
    /* Output bytes: take them (evbuffer_remove_buffer); to apply
     * back-pressure call eng_run_pause_output and resume later. */
    void (*output)(struct eng_run *r, struct evbuffer *b, void *arg);
    /* The input pipe can take more (after eng_run_write said full). */
    void (*input_drain)(struct eng_run *r, void *arg);
    /* The run is over. After this returns the run is freed. */
    void (*done)(struct eng_run *r, const struct eng_outcome *o, void *arg);
    /* Optional: output without a copy. When set, the engine hands over the
     * output pipe itself instead of reading it: move at most len bytes out
     * of fd (those it holds; splice(2) to a socket, http_resp_splice) and
     * return how many moved. 0 or a negative errno: nothing can move now;
     * the engine pauses the output (resume it with eng_run_resume_output;
     * after an error, end the request). output is then never called and
     * may be NULL. */
    ssize_t (*output_fd)(struct eng_run *r, int fd, size_t len, void *arg);
};

/*
 * Starts an invocation on `base`. Returns the run, or NULL when no sandbox
 * could be asked for (e says why; answer 503). Callbacks never run from
 * inside this call.
 */
struct eng_run *eng_run_start(struct eng *g, struct event_base *base,
                              const struct eng_invocation *inv,
                              const struct eng_run_ops *ops, void *arg, struct err *e);

/*
 * Input (when inv->input_fd was -1): eng_run_write moves as much of b into
 * the storlet's input as the pipe takes now; returns true while it could
 * take everything (write more), false when it is full (wait for
 * input_drain) or the storlet stopped reading (then the rest is dropped and
 * true is returned: the storlet may stop early). eng_run_input_end closes
 * the input.
 */
bool eng_run_write(struct eng_run *r, struct evbuffer *b);
void eng_run_input_end(struct eng_run *r);
/*
 * Input without copying it: moves up to len bytes of fd into the storlet's
 * input pipe with splice(2), as much as the pipe takes now; the pipe then
 * holds references to fd's pages, which the storlet can read or splice on.
 * fd is a regular file read from byte *off on (*off advances by what
 * moved), or, with off NULL, a pipe holding at least len bytes (another
 * run's output: output_fd). For a caller that feeds the input itself
 * (inv->input_fd -1), mixed freely with eng_run_write. Runs on the loop: a
 * file's pages should be in the page cache already (read, verified or
 * readahead(2) on a disk thread), and the file must not change while the
 * storlet may read them. Returns the bytes moved; fewer than len when the
 * pipe is full (input_drain follows); len when the storlet stopped reading
 * (the rest is dropped, as eng_run_write does: taken out of a pipe fd);
 * -EIO when fd ended first, another -errno on a read error.
 */
ssize_t eng_run_splice(struct eng_run *r, int fd, uint64_t *off, size_t len);

void eng_run_pause_output(struct eng_run *r);
void eng_run_resume_output(struct eng_run *r);

/*
 * Stores o's log (call from the done callback) as storletlog/<storlet>.
 * <trans_id>.log through the proxy at host:port with the caller's token.
 * Asynchronous on base, fire and forget (a failure is logged).
 */
void eng_log_upload(struct event_base *base, const char *host, int port, const char *token,
                    const char *account, const char *storlet, const char *trans_id,
                    const struct eng_outcome *o);

/* Kills the storlet and frees the run without calling done (the request it
 * served went away). NULL is a no-op. */
void eng_run_cancel(struct eng_run *r);

/*
 * The wall budget of a run (docs/storlets.md 3.7): base_ms plus the time
 * input_len bytes take at rate bytes/s (rounded up to the millisecond),
 * capped at ENG_WALL_MAX_MS. rate 0 or input_len <= 0 (unknown: a chunked
 * PUT, a merge's input): base_ms alone. Pure arithmetic, any thread.
 */
#define ENG_WALL_MAX_MS (30ULL * 86400 * 1000)
uint64_t eng_wall_budget_ms(uint64_t base_ms, int64_t input_len, uint64_t rate);

/* The input length a run's budget grows with: inv->budget_len when > 0
 * (a chain's later stage), else its content_length when known, else its
 * range's length, else 0 (a chunked PUT: the base alone). */
int64_t eng_budget_input(const struct eng_invocation *inv);

/* The run's wall budget in ms (what the launcher enforces at most). */
uint64_t eng_run_wall_ms(const struct eng_run *r);

/*
 * Interim answers. A proxy that sends ENG_INTERIM_HEADER (any value) with
 * a request that runs storlets on an object node may be sent "102
 * Processing" responses before the final one, each when a stage starts,
 * with ENG_BUDGET_HEADER: that stage's wall budget in ms, counted from
 * then. The node ends the stage within it, so the proxy may wait that long
 * (plus its own read timeout) for any byte. Without ENG_INTERIM_HEADER no
 * 1xx is sent (many clients take any status for the final one).
 */
#define ENG_INTERIM_HEADER "X-Backend-Storlet-Interim"
#define ENG_BUDGET_HEADER "X-Storlet-Wall-Budget"
struct http_req;
/* Tells req's client a stage's budget (ms) in a 102 when it asked with
 * ENG_INTERIM_HEADER and no answer has started; else does nothing. The
 * thread of req's loop. */
void eng_tell_budget(struct http_req *req, uint64_t ms);
/* The budget an interim answer h says, at most ENG_WALL_MAX_MS: 0 with
 * *ms, or -ENOENT when it says none (or nothing readable). */
int eng_budget_of(const struct http_head *h, uint64_t *ms);


/*
 * The storlet options of both daemons' config tables (common/conf.h rows),
 * one source for their defaults and help. OFF(field) is the daemon's
 * offsetof macro; its config struct has a field of each name below, of
 * the type its row declares.
 */
#define ENG_CONF_ROWS(OFF) \
    {"DEFAULT", "storlets", CONF_BOOL, OFF(storlets), "false", 0, 0, NULL, 0, \
     "Run storlets (X-Run-Storlet): forks the sandbox launcher at start " \
     "(docs/storlets.md)."}, \
    {"DEFAULT", "storlet_cache_dir", CONF_PATH, OFF(storlet_cache_dir), \
     "/var/cache/cairn/storlets", 0, 0, NULL, 0, \
     "Where storlet code is cached, by ETag; its parents must be " \
     "searchable by others (the sandbox opens code directories there)."}, \
    {"DEFAULT", "storlet_cache_size", CONF_SIZE, OFF(storlet_cache_size), "1G", 0, \
     1000000000000000, NULL, 0, \
     "Most bytes of storlet code the cache keeps (fetched files and the " \
     "code directories built from them); the least recently used go " \
     "first, never one in use. A storlet or dependency larger than it " \
     "does not run here (500). 0: no bound."}, \
    {"DEFAULT", "storlet_sdk", CONF_PATH, OFF(storlet_sdk), \
     "/usr/share/cairn/cairn_storlet.py", 0, 0, NULL, 0, \
     "The Python storlet SDK, put beside each python storlet."}, \
    {"DEFAULT", "storlet_warm", CONF_INT, OFF(storlet_warm), "2", 0, 64, NULL, 0, \
     "Warm sandboxes kept ready per storlet version and tenant (0: start " \
     "each sandbox on demand)."}, \
    {"DEFAULT", "storlet_wall_timeout", CONF_DURATION, OFF(storlet_wall_timeout), \
     "30", 1, 86400000, NULL, 0, \
     "Base wall-clock budget of a storlet run: a run may last this long " \
     "plus its input length divided by storlet_min_input_rate, and is " \
     "killed after that (docs/storlets.md 3.7)."}, \
    {"DEFAULT", "storlet_min_input_rate", CONF_SIZE, OFF(storlet_min_input_rate), \
     "16Mi", 0, 1000000000000000, NULL, 0, \
     "Bytes per second a storlet is expected to consume its input at, at " \
     "least: each run's wall budget grows by its input length divided by " \
     "this (a 10 GiB fixity at 16Mi gets 640 s more), and a run is killed " \
     "once it has lasted longer than storlet_wall_timeout plus the time " \
     "the input it consumed so far takes at this rate. 0: no growth."}, \
    {"DEFAULT", "storlet_idle_timeout", CONF_DURATION, OFF(storlet_idle_timeout), \
     "10", 1, 86400000, NULL, 0, \
     "A storlet that makes no progress for this long is killed: it neither " \
     "consumes input nor writes output nor uses services."}, \
    {"DEFAULT", "storlet_output_max", CONF_SIZE, OFF(storlet_output_max), "5G", 1, \
     1000000000000000, NULL, 0, "Most output bytes one storlet may write."}, \
    {"DEFAULT", "storlet_admin_cpu_weight", CONF_INT, OFF(storlet_admin_cpu_weight), \
     "100", 1, 10000, NULL, 0, \
     "CPU weight of one running admin-sandbox storlet (a reseller admin's: " \
     "fixity, de-identification) against one busy thread of this daemon, " \
     "which weighs 100. Raise it to let such jobs win over the node's own " \
     "request load; user-sandbox storlets always weigh 100."}, \
    {"DEFAULT", "storlet_tenant_max", CONF_INT, OFF(storlet_tenant_max), "32", 1, 256, \
     NULL, 0, \
     "Most storlets of one account running at once in this daemon; more " \
     "answer 503. Its launcher holds 256 sandboxes: this keeps one tenant " \
     "from taking them all and starving the others."},

#endif
