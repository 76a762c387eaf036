/*
 * sbx_int.h - private interfaces between the files of sandbox/.
 *
 * sbx_seccomp.c builds the BPF program once per launcher; sbx_cgroup.c owns
 * the launcher's cgroup subtree; sbx_spawn.c creates one sandbox (the code
 * that runs between clone and exec); sbx_launcher.c drives them from a poll
 * loop; sbx_proto.c is the JSON wire format shared with sbx_client.c.
 * Everything here runs in the single-threaded launcher unless said otherwise.
 */
#ifndef CAIRN_SBX_INT_H
#define CAIRN_SBX_INT_H

#include <linux/filter.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "sandbox/sbx.h"

#define LOG_COMPONENT "sbx"

/* ---------------------------------------------------------- seccomp */

/*
 * Compiles the allowlist for a class into a BPF program (libseccomp, native
 * arch only; other arches and x32 numbers kill the process). `kill_hostile`:
 * the hostile list (ptrace, mount, bpf, ...) kills instead of EPERM.
 * On success *prog owns a heap filter array; free with sbx_seccomp_free.
 * Returns 0 or -errno.
 */
int sbx_seccomp_build(bool kill_hostile, struct sock_fprog *prog);
void sbx_seccomp_free(struct sock_fprog *prog);

/* ---------------------------------------------------------- cgroups */

/* One invocation's group: a directory per hierarchy (v1) or one (v2). */
struct sbx_cg {
    enum sbx_cgroup_mode mode;
    char memory[SBX_PATH_MAX];
    char pids[SBX_PATH_MAX];
    char cpu[SBX_PATH_MAX];      /* v2: the one directory is in memory[] */
    uint64_t oom_before;
    uint64_t throttled_before;
    uint32_t cpu_weight;         /* the policy's, counted in the parent */
    bool running;                /* counted in the parent's weight now */
    int fd[6];                   /* its files, opened once (sbx_cgroup.c) */
};

/*
 * Detects the host's hierarchy and creates the launcher's subtree
 * ("cairn-sbx.<pid>" under the launcher's own cgroup). On failure the mode
 * degrades to NONE with a warning; never fails hard.
 */
void sbx_cg_global_init(bool force_none);
enum sbx_cgroup_mode sbx_cg_mode(void);
/* Removes the launcher's subtree (groups must be empty). */
void sbx_cg_global_release(void);

/* Creates group `id` with p's limits. Returns 0 or -errno. */
int sbx_cg_create(struct sbx_cg *cg, uint64_t id, const struct sbx_policy *p);
/*
 * The group's cgroup.procs files, one per hierarchy (v1: memory, pids,
 * cpu; v2: the one), opened once and kept with the group (a sandbox's init
 * joins by writing 0 to each); -1 where there is none. Owned by cg.
 * Returns 0 or -errno.
 */
int sbx_cg_procs_fds(struct sbx_cg *cg, int fds[3]);
/* SIGKILLs every process in the group until it is empty (bounded). */
void sbx_cg_kill(const struct sbx_cg *cg);
/* OOM kills and cpu throttled periods since create (or the last reuse). */
uint64_t sbx_cg_oom_kills(struct sbx_cg *cg);
uint64_t sbx_cg_throttled(struct sbx_cg *cg);
/* Kills what is left and removes the group's directories (may wait). */
void sbx_cg_destroy(struct sbx_cg *cg);
/* One non-blocking attempt at removing the group (after a kill). Returns
 * true when every directory is gone. */
bool sbx_cg_try_remove(struct sbx_cg *cg);
/* True when no task is left in the group (its pids count is 0), so that it
 * may serve the next sandbox of the same pool instead of being removed. */
bool sbx_cg_empty(struct sbx_cg *cg);
/* Starts a new use of an empty group: the OOM and throttling counts of
 * the next sandbox start from here. Its limits are those it was made with. */
void sbx_cg_reuse(struct sbx_cg *cg);
/*
 * Counts cg's cpu_weight in the launcher's parent group while its storlet
 * runs (on=true from the run order to the result, then false): the parent
 * weighs the sum of the running sandboxes' weights, at least the default,
 * so each storlet weighs against the host's threads what its policy says
 * however many run at once. Idempotent; destroy and remove uncount too.
 */
void sbx_cg_set_running(struct sbx_cg *cg, bool on);

/* ---------------------------------------------------------- network */

/* Opens the launcher's own network namespace (to return to). 0 or -errno. */
int sbx_netns_init(void);
/* Closes every namespace held (sandboxes in them keep them alive). */
void sbx_netns_release(void);
/*
 * The empty network namespace of tenant slot `tenant` with host id
 * `host_id` (sbx_policy_host_id; both must match to share; made on first use,
 * kept): an fd owned by this module, valid until the next call (a full
 * cache closes its least recently used one). Returns the fd or -errno
 * (not root: the caller then gives the sandbox a namespace of its own).
 */
int sbx_netns_tenant(uint32_t tenant, uint32_t host_id);
/* setns() the launcher into fd / back into its own. 0 or -errno. */
int sbx_netns_enter(int fd);
int sbx_netns_leave(void);

/* ---------------------------------------------------------- root */

/*
 * Makes the sandbox's root tree below `root` (an empty directory on a
 * tmpfs): /usr, /bin.. and /etc entries bound read-only from the host,
 * passwd and group naming inside_id, /dev. Returns 0 or -errno with the
 * failing step's path in *where. Used by a sandbox's init (the slow path)
 * and by the prepared namespace below.
 */
int sbx_root_populate(const char *root, uint32_t inside_id, const char **where);
/* Binds host `src` at `dst` read-only, nosuid (and nodev unless keep_dev).
 * 0 or -errno (*where = dst). */
int sbx_root_bind_ro(const char *src, const char *dst, bool keep_dev, const char **where);

/* Opens the launcher's own mount namespace and working directory (to
 * return to). 0 or -errno. */
int sbx_root_init(void);
void sbx_root_release(void);
/*
 * The prepared mount namespace for sandboxes of inside_id (sbx_root.c):
 * "/root" is the sandbox's read-only root with empty /proc, /tmp and
 * /storlet, "/proc" a proc mount. Built on first use and again once it is
 * a minute old; an fd owned by this module, valid until the next call.
 * Returns the fd or -errno (e.g. not root: after one warning every later
 * call fails at once, and sandboxes build their own root).
 */
int sbx_root_ns(uint32_t inside_id);
/* setns() the launcher into a prepared namespace / back into its own
 * (and its working directory). 0 or -errno. */
int sbx_root_enter(int fd);
int sbx_root_leave(void);

/* ---------------------------------------------------------- spawn */

/* What the launcher gives sbx_spawn for one sandbox. */
struct sbx_spawn_args {
    const struct sbx_policy *policy;
    const struct sock_fprog *seccomp;   /* NULL when weakened away */
    const char *code_dir;               /* NULL or host dir -> /storlet */
    const int *cg_procs;                /* NULL, or 3 cgroup.procs fds (-1:
                                         * none; sbx_cg_procs_fds, borrowed) */
    int netns;                          /* tenant's namespace; -1: a new one */
    int root_ns;                        /* prepared root (sbx_root_ns); -1:
                                         * init builds its root itself */
};

/*
 * A sandbox between clone and the end: `pid` is its init (host pid);
 * `ctl` the launcher's end of a socketpair to init (sends the exec order
 * and fds, receives the storlet's wait status); `out_rd` the read end of the
 * pipe that is the storlet's SBX_FD_OUTPUT.
 */
struct sbx_proc {
    pid_t pid;
    int pidfd;
    int ctl;
    int out_rd;
};

/*
 * Clones init into fresh namespaces, writes its id maps and releases it; it
 * joins cg, builds its root, applies the limits and then sends "R" on
 * sp->ctl (or "E<text>" and exits if a step failed). Does not wait for that:
 * an exec order may be queued at once. Later on ctl: "S" + struct
 * sbx_init_report when the storlet has been reaped.
 * Returns 0 or -errno (and everything is cleaned up).
 */
int sbx_spawn(const struct sbx_spawn_args *a, struct sbx_proc *sp,
              char *detail, size_t detailsz);

/*
 * Tells a ready init to run path/argv/env with fds[i] -> fd_target[i].
 * Returns 0 or -errno.
 */
int sbx_spawn_exec(struct sbx_proc *sp, const char *path,
                   const char *const *argv, const char *const *env,
                   const int *fds, const int *fd_target, size_t nfds);

/* Message init sends when the storlet has been reaped. */
struct sbx_init_report {
    int32_t kind;        /* 0 = wait status, 1 = exec failed (err = errno) */
    int32_t status;
    int32_t err;
    int32_t pad;
    uint64_t cpu_us;     /* getrusage(RUSAGE_CHILDREN) of init: the tree */
    uint64_t max_rss_kb;
};

/* ---------------------------------------------------------- wire */

#define SBX_MSG_MAX 65536

/* Result <-> JSON (reply messages). */
char *sbx_result_to_json(uint64_t id, const struct sbx_result *r);
int sbx_result_from_json(const char *json, struct sbx_result *r, struct err *e);

/* Sends one seqpacket message of len bytes with fds attached.
 * Returns 0 or -errno. */
int sbx_send_msg(int sock, const void *msg, size_t len, const int *fds, size_t nfds);
/*
 * Receives one message into buf (NUL-terminated), and up to *nfds fds
 * (close-on-exec). Returns the length, 0 on hang-up, or -errno
 * (-EMSGSIZE when truncated; received fds are closed then).
 */
ssize_t sbx_recv_msg(int sock, char *buf, size_t bufsz, int *fds, size_t *nfds);

#endif
