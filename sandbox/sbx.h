/*
 * sbx.h - Linux isolation for one storlet process (libcairnsandbox).
 *
 * A sandbox runs one executable (an ELF, or a script whose interpreter is in
 * the sandbox's read-only root, e.g. #!/usr/bin/python3) under a policy:
 * fresh user/mount/pid/net/ipc/uts/cgroup namespaces, a read-only view of the
 * host's /usr (and /bin, /lib, /lib64, an /etc subset) and nothing else of the
 * host, a size-limited private tmpfs at /tmp, a minimal /dev, /proc of its own
 * pid namespace, no network (only a loopback that is down), a per-tenant
 * identity (inside uid/gid 1000 maps to host id uid_base + tenant), a seccomp
 * allowlist, no_new_privs, rlimits, cgroup limits (v1 or v2, detected at start;
 * rlimits only when neither is usable), a wall-clock and a no-output timeout
 * that kill the whole process tree, and an output size cap.
 *
 * Processes: sandboxes are created by a small single-threaded *launcher*
 * (sbx_launcher_serve(), run by tools/sbx-launch or forked by a daemon at
 * start-up with sbx_launcher_fork() before it creates threads). Multi-threaded
 * servers never fork a sandbox themselves; they are *clients*: they send a
 * request (policy + executable + argv/env + fds) over a UNIX seqpacket socket
 * with SCM_RIGHTS and receive a result (how it ended, CPU time, max RSS).
 * The wire protocol and the inside of a sandbox are described in
 * docs/internals/sandbox.md; what it protects against in docs/threat-model.md.
 *
 * Threading: struct sbx_policy and the JSON helpers are plain data, usable
 * from any thread. A struct sbx_client is used by one thread at a time.
 * sbx_launcher_serve() must run in a single-threaded process (it forks).
 */
#ifndef CAIRN_SBX_H
#define CAIRN_SBX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"

/* ------------------------------------------------------------ policy */

enum sbx_class {
    SBX_CLASS_USER = 0,   /* untrusted tenant code: every layer on */
    SBX_CLASS_ADMIN = 1,  /* trusted storlets: larger limits, EPERM not kill */
};

/*
 * File descriptors the storlet finds open, at fixed numbers. The engine
 * passes whichever it needs; every other fd is closed before exec.
 */
enum sbx_fd {
    SBX_FD_INPUT = 0,     /* the object's bytes (stdin) */
    SBX_FD_OUTPUT = 1,    /* the storlet's output (stdout); relayed by the
                           * launcher, which enforces the output cap and the
                           * no-output timeout on it */
    SBX_FD_LOG = 2,       /* the storlet's log (stderr) */
    SBX_FD_META = 3,      /* invocation document in / output metadata out */
    SBX_FD_CONTROL = 4,   /* control channel to the engine (services) */
    SBX_FD_EXTRA = 5,     /* first of the free numbers (second input, ...) */
    SBX_FD_MAX = 8,       /* targets are 0 .. SBX_FD_MAX-1 */
};

/*
 * Test-only switches that remove one layer, so the attack catalog can show
 * each attack *works* without the layer that stops it (the control run).
 * A launcher refuses them unless it was started with allow_weaken.
 */
enum sbx_weaken {
    SBX_WEAKEN_SECCOMP = 1 << 0,   /* no seccomp filter */
    SBX_WEAKEN_NETNS = 1 << 1,     /* share the host's network namespace */
    SBX_WEAKEN_PIDNS = 1 << 2,     /* share the host's pid namespace */
    SBX_WEAKEN_ROOTFS = 1 << 3,    /* keep the host's / (no pivot_root) */
    SBX_WEAKEN_ROOT = 1 << 4,      /* stay uid 0 with caps inside the userns */
    SBX_WEAKEN_RLIMITS = 1 << 5,   /* no rlimits */
    SBX_WEAKEN_CGROUP = 1 << 6,    /* no cgroup */
    SBX_WEAKEN_SCRATCH = 1 << 7,   /* /tmp scratch without size/inode caps,
                                    * and executable */
    SBX_WEAKEN_IDENTITY = 1 << 8,  /* every tenant maps to host id uid_base */
    SBX_WEAKEN_NNP = 1 << 9,       /* no PR_SET_NO_NEW_PRIVS */
    SBX_WEAKEN_NESTED = 1 << 10,   /* nested user namespaces not capped */
    SBX_WEAKEN_DEATHSIG = 1 << 11, /* init does not die with the launcher */
    SBX_WEAKEN_ALL_MASK = (1 << 12) - 1,
};

#define SBX_PATH_MAX 256
#define SBX_NAME_MAX 64

struct sbx_policy {
    enum sbx_class class;
    uint32_t tenant;          /* tenant slot, < SBX_TENANT_MAX */
    uint32_t uid_base;        /* host uid/gid = uid_base + tenant */
    uint32_t inside_id;       /* uid/gid seen inside (1000) */

    /* rlimits; 0 = leave unlimited */
    uint64_t cpu_seconds;     /* RLIMIT_CPU (SIGKILL one second later) */
    uint64_t as_bytes;        /* RLIMIT_AS */
    uint64_t fsize_bytes;     /* RLIMIT_FSIZE (largest file in scratch) */
    uint64_t nofile;          /* RLIMIT_NOFILE */
    uint64_t nproc;           /* RLIMIT_NPROC (backstop; pids.max is the cap) */

    /* cgroup limits (when a cgroup hierarchy is usable); 0 = no limit */
    uint64_t mem_bytes;       /* memory.max / memory.limit_in_bytes */
    uint64_t pids_max;        /* pids.max */
    uint32_t cpu_pct;         /* CPU quota in % of one CPU (cpu.max / cfs) */
    uint32_t cpu_weight;      /* 1..10000, v2 cpu.weight; v1 shares = w*1024/100 */

    /* scratch /tmp */
    uint64_t scratch_bytes;   /* tmpfs size= */
    uint64_t scratch_inodes;  /* tmpfs nr_inodes= */

    /* time and output, enforced by the launcher; 0 = none */
    uint64_t wall_ms;         /* wall-clock deadline from start */
    uint64_t idle_ms;         /* kill if no output for this long */
    uint64_t output_max;      /* bytes allowed on SBX_FD_OUTPUT */

    uint32_t weaken;          /* enum sbx_weaken bits; 0 in production */
};

#define SBX_TENANT_MAX 1000000u
#define SBX_UID_BASE_DEFAULT 200000000u
#define SBX_INSIDE_ID 1000u

/*
 * Fills p with the defaults of `class` for tenant slot `tenant`: user class
 * gets tight limits (256 MiB memory, 64 pids, 50% of a CPU, 64 MiB scratch,
 * 30 s wall, 10 s idle, 1 GiB output), admin class larger ones. Never fails.
 */
void sbx_policy_init(struct sbx_policy *p, enum sbx_class class, uint32_t tenant);

/*
 * Checks p for values the launcher cannot honour (tenant out of range, uid
 * range overflowing 2^32-1, inside_id 0, unknown weaken bits, ...).
 * Returns 0 or -EINVAL with the reason in e.
 */
int sbx_policy_check(const struct sbx_policy *p, struct err *e);

/* Host uid (and gid) of the sandbox for p, honouring SBX_WEAKEN_IDENTITY. */
uint32_t sbx_policy_host_id(const struct sbx_policy *p);

/*
 * JSON form used on the launcher socket. sbx_policy_to_json returns a new
 * heap string (caller frees). sbx_policy_from_json starts from the class
 * defaults named by "class" (default user) and overrides the keys present;
 * unknown keys are an error. Returns 0 or -EINVAL with the reason in e.
 */
char *sbx_policy_to_json(const struct sbx_policy *p);
int sbx_policy_from_json(const char *json, struct sbx_policy *p, struct err *e);

const char *sbx_class_name(enum sbx_class class);

/* ------------------------------------------------------------ host facts */

enum sbx_cgroup_mode {
    SBX_CGROUP_NONE = 0,   /* rlimits only */
    SBX_CGROUP_V1 = 1,     /* separate memory, pids, cpu hierarchies */
    SBX_CGROUP_V2 = 2,     /* unified hierarchy with the controllers enabled */
};

/*
 * What the cgroup hierarchy of this host offers, found from `mountinfo` and
 * `self_cgroup` (the texts of /proc/self/mountinfo and /proc/self/cgroup;
 * passed in so the parser is testable). For v1, the directory of each of the
 * memory, pids and cpu controllers where this process sits; for v2 the one
 * directory. A controller path is "" when that controller is not mounted.
 */
struct sbx_cgroup_host {
    enum sbx_cgroup_mode mode;
    char memory[SBX_PATH_MAX];
    char pids[SBX_PATH_MAX];
    char cpu[SBX_PATH_MAX];
    char unified[SBX_PATH_MAX];
};

/*
 * Parses the two texts into h. Chooses v2 when the unified hierarchy is
 * mounted and its cgroup.controllers (read through `read_controllers`, which
 * gets the directory and fills buf; NULL means read the file) lists memory
 * and pids; else v1 when memory and pids hierarchies are mounted; else NONE.
 * Returns 0 (even for NONE) or -EINVAL if the texts are malformed.
 */
typedef int sbx_read_fn(const char *dir, char *buf, size_t bufsz);
int sbx_cgroup_detect(const char *mountinfo, const char *self_cgroup,
                      sbx_read_fn *read_controllers, struct sbx_cgroup_host *h);

const char *sbx_cgroup_mode_name(enum sbx_cgroup_mode mode);

/* ------------------------------------------------------------ results */

enum sbx_end {
    SBX_END_EXIT = 0,       /* exited; exit_code is valid */
    SBX_END_SIGNAL,         /* killed by a signal it caused (signo valid) */
    SBX_END_SECCOMP,        /* killed by the seccomp filter (policy violation) */
    SBX_END_TIMEOUT,        /* wall-clock deadline */
    SBX_END_IDLE,           /* no output (or no progress) for idle_ms */
    SBX_END_OUTPUT_CAP,     /* wrote more than output_max */
    SBX_END_OOM,            /* killed by the memory cgroup */
    SBX_END_CPU_LIMIT,      /* RLIMIT_CPU */
    SBX_END_ERROR,          /* the sandbox could not be set up or exec failed */
};

struct sbx_result {
    enum sbx_end end;
    int exit_code;           /* SBX_END_EXIT */
    int signo;               /* SBX_END_SIGNAL / SECCOMP / OOM / CPU_LIMIT */
    uint64_t cpu_us;         /* user + system of the whole tree that was reaped */
    uint64_t max_rss_kb;
    uint64_t wall_us;        /* from request received to the end */
    uint64_t setup_us;       /* request received to sandbox released to exec */
    uint64_t output_bytes;   /* bytes relayed on SBX_FD_OUTPUT */
    uint64_t cpu_throttled;  /* cgroup cpu throttling periods (0 if unknown) */
    int host_pid;            /* host pid of the sandbox's init */
    bool warm;               /* served by a pre-built sandbox */
    char detail[160];        /* one line, e.g. "exec /storlet/x: ENOENT" */
};

const char *sbx_end_name(enum sbx_end end);
/* Parses a name of sbx_end_name; returns -1 if unknown. */
int sbx_end_parse(const char *name);

/* ------------------------------------------------------------ client */

/*
 * One run request. `path` and `argv` are as seen inside the sandbox (e.g.
 * "/storlet/main.py" or "/usr/bin/python3"); `code_dir`, if set, is a host
 * directory bound read-only at /storlet. The sandbox opens it already under
 * the tenant's host uid, so every directory on its path must be searchable
 * by others (0755/0711) and its files readable (0644/0755). `env` entries are "K=V"; nothing of
 * the launcher's environment is passed. fds[i] (the caller's fd) becomes fd
 * fd_target[i] in the storlet; the caller keeps its own copies. The fd
 * given for SBX_FD_OUTPUT is not passed in: the launcher relays the
 * storlet's output to it, and sets O_NONBLOCK on it (on the shared file
 * description: give it a pipe or socket end of its own).
 * With `direct_output`, that fd is passed in like the others instead: the
 * launcher neither relays nor counts the output, and enforces neither
 * policy->output_max nor policy->idle_ms; the caller does, and ends the run
 * with sbx_client_send_kill() (the engine does so: it sees input, output
 * and services traffic, the launcher only output).
 * With `warm`, a pre-built sandbox of the same policy is used if one waits.
 */
struct sbx_request {
    const struct sbx_policy *policy;
    const char *path;
    const char *const *argv;      /* NULL-terminated; NULL = { path } */
    const char *const *env;       /* NULL-terminated or NULL */
    const char *code_dir;         /* NULL or host directory */
    const int *fds;
    const int *fd_target;
    size_t nfds;                  /* <= SBX_FD_MAX */
    bool warm;
    bool direct_output;
};

struct sbx_client;

/*
 * Connects to a launcher listening at `socket_path`, or adopts an already
 * connected seqpacket socket (sbx_client_adopt; the client owns fd).
 * Returns a client or NULL with errno set.
 */
struct sbx_client *sbx_client_connect(const char *socket_path);
struct sbx_client *sbx_client_adopt(int fd);
void sbx_client_free(struct sbx_client *c);

/*
 * Runs one request and blocks until it ends; fills r. `on_start`, if not
 * NULL, is called once the sandbox has started, with its host pid (only
 * then does the launcher send its "started" message).
 * Returns 0 (r is valid, whatever the storlet did), or a negative errno if
 * the launcher could not be asked or answered garbage (e says why).
 */
typedef void sbx_started_fn(int host_pid, void *arg);
int sbx_client_run(struct sbx_client *c, const struct sbx_request *req,
                   sbx_started_fn *on_start, void *arg, struct sbx_result *r,
                   struct err *e);

/*
 * The same exchange for a caller's event loop (nothing here blocks once
 * the client's socket is non-blocking; sbx_client_fd() is what to watch
 * for reading):
 *  - sbx_client_send_run() sends the request; the caller may close its
 *    copies of req->fds as soon as it returns. Returns the request's id
 *    (> 0) or a negative errno (e says why).
 *  - sbx_client_send_prewarm() asks as sbx_client_prewarm_dir() but does not
 *    wait; its answer is skipped by sbx_client_poll().
 *  - sbx_client_send_kill() asks the launcher to kill run `id` of this
 *    client now and to report `why` (SBX_END_IDLE, SBX_END_OUTPUT_CAP,
 *    SBX_END_TIMEOUT, or SBX_END_ERROR with detail "ended by the client")
 *    as its end. 0 or -errno.
 *  - sbx_client_poll() reads what has arrived: returns 1 when the result
 *    of run `id` is in r, 0 when there is nothing more to read yet, or a
 *    negative errno when the launcher hung up or answered garbage.
 *  - sbx_client_next() is the same for a connection that carries several
 *    runs at once: returns 1 with the next result in r and its run's id in
 *    *id (0: an error about no run in particular), 0 or a negative errno.
 */
int sbx_client_fd(const struct sbx_client *c);
int64_t sbx_client_send_run(struct sbx_client *c, const struct sbx_request *req,
                            struct err *e);
int sbx_client_send_prewarm(struct sbx_client *c, const struct sbx_policy *p,
                            const char *code_dir, unsigned count, struct err *e);
int sbx_client_send_kill(struct sbx_client *c, uint64_t id, enum sbx_end why,
                         struct err *e);
int sbx_client_poll(struct sbx_client *c, uint64_t id, struct sbx_result *r,
                    struct err *e);
int sbx_client_next(struct sbx_client *c, uint64_t *id, struct sbx_result *r,
                    struct err *e);

/*
 * Asks the launcher to keep `count` pre-built sandboxes of policy p ready
 * (replacing any previous count for an equal policy). Returns 0 or -errno.
 */
int sbx_client_prewarm(struct sbx_client *c, const struct sbx_policy *p,
                       unsigned count, struct err *e);

/*
 * The same for sandboxes that bind `code_dir` at /storlet (the pool key is
 * policy + code_dir, so a run of that storlet version with `warm` takes
 * one). code_dir NULL is sbx_client_prewarm. Returns 0 or -errno.
 */
int sbx_client_prewarm_dir(struct sbx_client *c, const struct sbx_policy *p,
                           const char *code_dir, unsigned count, struct err *e);

/* ------------------------------------------------------------ launcher */

struct sbx_launcher_opts {
    bool allow_weaken;         /* accept SBX_WEAKEN_* (tests only) */
    unsigned max_sandboxes;    /* concurrent running + warm; 0 = 256 */
    unsigned tenant_max;       /* running sandboxes of one tenant; 0 = no cap */
    bool force_no_cgroup;      /* behave as if no cgroup were usable */
};

/* The detail of a run refused for capacity (the launcher's max_sandboxes,
 * a tenant's tenant_max) starts with this: the caller may try again later.
 * Warm sandboxes never make a run busy: a run that finds the launcher full
 * evicts one (the least recently used pool's, which stops refilling). */
#define SBX_DETAIL_BUSY "busy: "

/*
 * Serves clients forever in this (single-threaded) process: `listen_fd` is
 * a listening seqpacket socket (accepts many clients) or -1, `conn_fd` one
 * already connected client or -1; with only conn_fd, returns 0 when that
 * client hangs up (all its sandboxes are killed first), or on SIGTERM/SIGINT
 * (after killing every sandbox and removing its cgroups). Takes over the
 * process: drops its supplementary groups, ignores SIGPIPE, handles
 * SIGTERM/SIGINT, creates its cgroup subtree. Returns -errno on a fatal
 * setup error (no seccomp filter could be built, ...).
 */
int sbx_launcher_serve(int listen_fd, int conn_fd,
                       const struct sbx_launcher_opts *opts);

/*
 * For a daemon, at the very start, before any thread exists: forks a
 * launcher child connected to the caller by a socketpair; the child runs
 * sbx_launcher_serve() and dies with its parent. Returns the client socket
 * (for sbx_client_adopt) and the child's pid in *pid, or -errno.
 */
int sbx_launcher_fork(const struct sbx_launcher_opts *opts, int *pid);

/*
 * For a daemon, at start, before any thread exists: starts the launcher
 * *program* `prog` (cairn-sbx-launch) serving the listening seqpacket
 * socket listen_fd, which it inherits as fd 3 (`--listen-fd 3`). Unlike
 * sbx_launcher_fork(), every clone and fork the launcher makes then copies
 * the small program's address space, not the daemon's. The child dies
 * with the calling thread (PR_SET_PDEATHSIG survives the exec) and
 * inherits only stdin, stdout and stderr (the daemon's log when it logs to
 * a file) and fd 3. log_level is passed on; log_facility, when not NULL or
 * empty, makes it log to syslog as the daemon does. Returns the child's
 * pid (> 0) or -errno (fork failed). An exec failure shows as the child's
 * exit status 127 (waitpid), with a line on stderr.
 */
int sbx_launcher_exec(const char *prog, int listen_fd, const struct sbx_launcher_opts *opts,
                      int log_level, const char *log_facility);

#endif
