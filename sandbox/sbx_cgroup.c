/*
 * sbx_cgroup.c - cgroup limits for sandboxes, on v1 or v2, detected at start.
 *
 * Layout: the launcher creates "cairn-sbx.<launcher pid>" under the cgroup it
 * was started in (per hierarchy on v1), so it stays inside whatever limits
 * its supervisor set, and one child group "i<id>" per sandbox holding the
 * memory, pids and cpu limits. v1 (memory, pids and cpu mounted separately,
 * as on the project's CI hosts) has no cgroup.kill: the tree is killed
 * through its pid namespace, and sbx_cg_kill loops over cgroup.procs for
 * sandboxes whose pid namespace was weakened away. v2 uses cgroup.kill.
 * When neither is usable the launcher runs with rlimits only and says so in
 * its log.
 *
 * CPU weight: the scheduler weighs "cairn-sbx.<pid>" as one entity against
 * the other tasks of the launcher's group (on a host whose daemons run in
 * the root group: against each of their threads), and the sandboxes' own
 * weights only divide that among them. Left at the default, all storlets of
 * a node together would weigh one busy thread. So the parent's weight is
 * kept at the sum of the running sandboxes' weights (never below the
 * default, which the warm builds and teardowns between runs use): each
 * storlet then weighs what its policy's cpu_weight says relative to one
 * ordinary thread, and the sandboxes still share the parent by their own
 * weights, so one tenant's storlets cannot take another's share.
 *
 * Globals are the launcher's (single-threaded); sbx_cgroup_detect is pure.
 */
#include "sandbox/sbx_int.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/bug.h"
#include "common/log.h"
#include "common/util.h"

const char *sbx_cgroup_mode_name(enum sbx_cgroup_mode mode)
{
    switch (mode) {
    case SBX_CGROUP_V1: return "v1";
    case SBX_CGROUP_V2: return "v2";
    default: return "none";
    }
}

/* Field `n` (0-based, space separated) of line into out. */
static bool field(const char *line, int n, char *out, size_t outsz)
{
    const char *p = line;
    for (int i = 0; i < n; i++) {
        p = strchr(p, ' ');
        if (!p)
            return false;
        p++;
    }
    size_t len = strcspn(p, " \n");
    if (len >= outsz)
        return false;
    memcpy(out, p, len);
    out[len] = '\0';
    return true;
}

static bool has_opt(const char *opts, const char *name)
{
    size_t n = strlen(name);
    for (const char *p = opts; *p;) {
        size_t len = strcspn(p, ",");
        if (len == n && strncmp(p, name, n) == 0)
            return true;
        p += len;
        if (*p == ',')
            p++;
    }
    return false;
}

/* Looks up the path of controller `ctl` ("" = v2) in /proc/self/cgroup. */
static bool self_path(const char *self_cgroup, const char *ctl, char *out,
                      size_t outsz)
{
    for (const char *l = self_cgroup; *l;) {
        const char *nl = strchr(l, '\n');
        size_t len = nl ? (size_t)(nl - l) : strlen(l);
        const char *c1 = memchr(l, ':', len);
        const char *c2 = c1 ? memchr(c1 + 1, ':', len - (size_t)(c1 + 1 - l)) : NULL;
        if (c2) {
            size_t clen = (size_t)(c2 - c1 - 1);
            char list[128];
            if (clen < sizeof(list)) {
                memcpy(list, c1 + 1, clen);
                list[clen] = '\0';
                bool match = ctl[0] ? has_opt(list, ctl) : clen == 0;
                size_t plen = len - (size_t)(c2 + 1 - l);
                if (match && plen < outsz) {
                    memcpy(out, c2 + 1, plen);
                    out[plen] = '\0';
                    return true;
                }
            }
        }
        if (!nl)
            break;
        l = nl + 1;
    }
    return false;
}

static int read_file(const char *path, char *buf, size_t bufsz)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd == -1)
        return -errno;
    ssize_t n = read(fd, buf, bufsz - 1);
    int saved = errno;
    close(fd);
    if (n < 0)
        return -saved;
    buf[n] = '\0';
    return 0;
}

static int read_controllers_file(const char *dir, char *buf, size_t bufsz)
{
    char path[SBX_PATH_MAX + 32];
    snprintf(path, sizeof(path), "%s/cgroup.controllers", dir);
    return read_file(path, buf, bufsz);
}

static bool join(char *out, size_t outsz, const char *mnt, const char *rel)
{
    int n = snprintf(out, outsz, "%s%s", mnt, strcmp(rel, "/") == 0 ? "" : rel);
    return n > 0 && (size_t)n < outsz;
}

int sbx_cgroup_detect(const char *mountinfo, const char *self_cgroup,
                      sbx_read_fn *read_controllers, struct sbx_cgroup_host *h)
{
    memset(h, 0, sizeof(*h));
    if (!read_controllers)
        read_controllers = read_controllers_file;
    char mnt_mem[SBX_PATH_MAX] = "", mnt_pids[SBX_PATH_MAX] = "",
         mnt_cpu[SBX_PATH_MAX] = "", mnt_v2[SBX_PATH_MAX] = "";
    for (const char *l = mountinfo; *l;) {
        const char *nl = strchr(l, '\n');
        size_t len = nl ? (size_t)(nl - l) : strlen(l);
        char line[1024];
        if (len < sizeof(line)) {
            memcpy(line, l, len);
            line[len] = '\0';
            /* id parent maj:min root mountpoint opts [tags...] - fstype src superopts */
            const char *dash = strstr(line, " - ");
            char mp[SBX_PATH_MAX], fstype[32], super[512];
            if (!dash || !field(line, 4, mp, sizeof(mp)) ||
                !field(dash + 3, 0, fstype, sizeof(fstype)))
                return -EINVAL;
            if (!field(dash + 3, 2, super, sizeof(super)))
                super[0] = '\0';
            if (strcmp(fstype, "cgroup2") == 0 && !mnt_v2[0]) {
                str_copy(mnt_v2, mp, sizeof(mnt_v2));
            } else if (strcmp(fstype, "cgroup") == 0) {
                if (has_opt(super, "memory"))
                    str_copy(mnt_mem, mp, sizeof(mnt_mem));
                if (has_opt(super, "pids"))
                    str_copy(mnt_pids, mp, sizeof(mnt_pids));
                if (has_opt(super, "cpu"))
                    str_copy(mnt_cpu, mp, sizeof(mnt_cpu));
            }
        }
        if (!nl)
            break;
        l = nl + 1;
    }
    char rel[SBX_PATH_MAX];
    if (mnt_v2[0] && self_path(self_cgroup, "", rel, sizeof(rel)) &&
        join(h->unified, sizeof(h->unified), mnt_v2, rel)) {
        char ctl[512];
        if (read_controllers(h->unified, ctl, sizeof(ctl)) == 0) {
            char *nl = strchr(ctl, '\n');
            if (nl)
                *nl = '\0';
            bool mem = false, pids = false;
            for (char *tok = ctl; *tok;) {
                size_t n = strcspn(tok, " ");
                if (n == 6 && strncmp(tok, "memory", 6) == 0)
                    mem = true;
                if (n == 4 && strncmp(tok, "pids", 4) == 0)
                    pids = true;
                tok += n;
                while (*tok == ' ')
                    tok++;
            }
            if (mem && pids) {
                h->mode = SBX_CGROUP_V2;
                return 0;
            }
        }
    }
    h->unified[0] = '\0';
    if (mnt_mem[0] && self_path(self_cgroup, "memory", rel, sizeof(rel)))
        join(h->memory, sizeof(h->memory), mnt_mem, rel);
    if (mnt_pids[0] && self_path(self_cgroup, "pids", rel, sizeof(rel)))
        join(h->pids, sizeof(h->pids), mnt_pids, rel);
    if (mnt_cpu[0] && self_path(self_cgroup, "cpu", rel, sizeof(rel)))
        join(h->cpu, sizeof(h->cpu), mnt_cpu, rel);
    if (h->memory[0] && h->pids[0])
        h->mode = SBX_CGROUP_V1;
    return 0;
}

/* ---------------------------------------------------------- runtime */

static struct sbx_cgroup_host host;
/* The launcher's base group per hierarchy ("" when not used). */
static char base_mem[SBX_PATH_MAX], base_pids[SBX_PATH_MAX], base_cpu[SBX_PATH_MAX];
/* v2: the cpu controller is enabled for the sandboxes' subtree */
static bool cpu_v2;
/* Sum of the running sandboxes' weights in the parent's unit (v1 shares,
 * v2 cpu.weight), and the value last written to the parent. */
static uint64_t running_weight, parent_weight;

static int write_str(const char *dir, const char *file, const char *val)
{
    char path[SBX_PATH_MAX + 64];
    snprintf(path, sizeof(path), "%s/%s", dir, file);
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd == -1)
        return -errno;
    ssize_t n = write(fd, val, strlen(val));
    int rc = n < 0 ? -errno : 0;
    close(fd);
    return rc;
}

static int write_u64(const char *dir, const char *file, uint64_t v)
{
    char buf[32];
    snprintf(buf, sizeof(buf), "%" PRIu64, v);
    return write_str(dir, file, buf);
}

static int make_dir(char *out, size_t outsz, const char *parent, const char *name)
{
    int n = snprintf(out, outsz, "%s/%s", parent, name);
    if (n < 0 || (size_t)n >= outsz)
        return -ENAMETOOLONG;
    if (mkdir(out, 0700) == -1 && errno != EEXIST)
        return -errno;
    return 0;
}

static void degrade(const char *why, int rc)
{
    cpu_v2 = false;
    log_warn("cgroups not usable (%s: %s): sandboxes get rlimits only",
             why, strerror(-rc));
    host.mode = SBX_CGROUP_NONE;
    base_mem[0] = base_pids[0] = base_cpu[0] = '\0';
}

/* Removes "cairn-sbx.<pid>" groups under parent whose launcher is gone
 * (killed without its teardown); their sandboxes died with it (PDEATHSIG),
 * so they are empty. */
static void remove_stale(const char *parent)
{
    if (!parent[0])
        return;
    DIR *d = opendir(parent);
    if (!d)
        return;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        uint64_t pid;
        if (!str_has_prefix(de->d_name, "cairn-sbx.") ||
            parse_u64(de->d_name + 10, &pid) < 0 || pid > INT32_MAX)
            continue;
        if (kill((pid_t)pid, 0) == 0 || errno != ESRCH)
            continue;
        char dir[SBX_PATH_MAX + 64];
        snprintf(dir, sizeof(dir), "%s/%s", parent, de->d_name);
        DIR *sub = opendir(dir);
        if (sub) {
            struct dirent *se;
            while ((se = readdir(sub)) != NULL) {
                if (se->d_name[0] != 'i' && strcmp(se->d_name, "launcher") != 0)
                    continue;
                char child[SBX_PATH_MAX + 64 + 260];
                snprintf(child, sizeof(child), "%s/%s", dir, se->d_name);
                struct stat st;
                if (stat(child, &st) == 0 && S_ISDIR(st.st_mode))
                    rmdir(child);
            }
            closedir(sub);
        }
        if (rmdir(dir) == 0)
            log_notice("removed stale cgroup %s", dir);
    }
    closedir(d);
}

void sbx_cg_global_init(bool force_none)
{
    static char mi[65536], sc[4096];
    memset(&host, 0, sizeof(host));
    cpu_v2 = false;
    running_weight = parent_weight = 0;
    if (force_none) {
        log_notice("cgroups disabled by option: sandboxes get rlimits only");
        return;
    }
    int rc = read_file("/proc/self/mountinfo", mi, sizeof(mi));
    if (rc == 0)
        rc = read_file("/proc/self/cgroup", sc, sizeof(sc));
    if (rc == 0)
        rc = sbx_cgroup_detect(mi, sc, NULL, &host);
    if (rc < 0) {
        degrade("reading /proc/self", rc);
        return;
    }
    remove_stale(host.unified);
    remove_stale(host.memory);
    remove_stale(host.pids);
    remove_stale(host.cpu);
    char name[64];
    snprintf(name, sizeof(name), "cairn-sbx.%d", (int)getpid());
    if (host.mode == SBX_CGROUP_V2) {
        /* v2 forbids processes in inner groups: move ourselves to a leaf
         * first, then enable the controllers for the sandboxes' subtree. */
        char leaf[SBX_PATH_MAX];
        char pidbuf[24];
        snprintf(pidbuf, sizeof(pidbuf), "%d", (int)getpid());
        if ((rc = make_dir(base_mem, sizeof(base_mem), host.unified, name)) < 0 ||
            (rc = make_dir(leaf, sizeof(leaf), base_mem, "launcher")) < 0 ||
            (rc = write_str(leaf, "cgroup.procs", pidbuf)) < 0 ||
            (rc = write_str(base_mem, "cgroup.subtree_control", "+memory +pids")) < 0) {
            degrade("creating the v2 subtree", rc);
            return;
        }
        if (write_str(base_mem, "cgroup.subtree_control", "+cpu") < 0)
            log_notice("cgroup v2: cpu controller not delegated; no cpu quota");
        else
            cpu_v2 = true;
        log_notice("cgroup v2 at %s", base_mem);
        return;
    }
    if (host.mode == SBX_CGROUP_V1) {
        if ((rc = make_dir(base_mem, sizeof(base_mem), host.memory, name)) < 0 ||
            (rc = make_dir(base_pids, sizeof(base_pids), host.pids, name)) < 0) {
            degrade("creating the v1 groups", rc);
            return;
        }
        /* v1 memory: children must be accounted in their parent */
        write_str(base_mem, "memory.use_hierarchy", "1");
        if (host.cpu[0] && make_dir(base_cpu, sizeof(base_cpu), host.cpu, name) < 0)
            base_cpu[0] = '\0';
        log_notice("cgroup v1: memory %s, pids %s, cpu %s", base_mem, base_pids,
                   base_cpu[0] ? base_cpu : "(none)");
        return;
    }
    log_warn("no usable cgroup hierarchy (neither v2 with memory+pids nor v1 "
             "memory+pids): sandboxes get rlimits only");
}

enum sbx_cgroup_mode sbx_cg_mode(void)
{
    return host.mode;
}

void sbx_cg_global_release(void)
{
    if (host.mode == SBX_CGROUP_V2) {
        char leaf[SBX_PATH_MAX + 16];
        snprintf(leaf, sizeof(leaf), "%s/launcher", base_mem);
        /* our own pid is in the leaf; move it back before removing */
        char pidbuf[24];
        snprintf(pidbuf, sizeof(pidbuf), "%d", (int)getpid());
        write_str(host.unified, "cgroup.procs", pidbuf);
        rmdir(leaf);
    }
    if (base_mem[0])
        rmdir(base_mem);
    if (base_pids[0])
        rmdir(base_pids);
    if (base_cpu[0])
        rmdir(base_cpu);
}

/*
 * A group's files are opened once and kept (struct sbx_cg's fd[]): a group
 * serves many sandboxes of its pool, and the launcher read three of them
 * and opened three more per invocation, each a path walk through cgroupfs.
 * The read-only ones are read again with pread at offset 0 (cgroupfs
 * regenerates them). Closed when the group is removed.
 */
enum { CGF_PROCS0, CGF_PROCS1, CGF_PROCS2, CGF_CPU_STAT, CGF_PIDS_CURRENT, CGF_OOM };

static int cg_file(struct sbx_cg *cg, int which, const char *dir, const char *file,
                   int flags)
{
    if (cg->fd[which] >= 0)
        return cg->fd[which];
    if (!dir[0])
        return -ENOENT;
    char path[SBX_PATH_MAX + 64];
    snprintf(path, sizeof(path), "%s/%s", dir, file);
    int fd = open(path, flags | O_CLOEXEC);
    if (fd == -1)
        return -errno;
    cg->fd[which] = fd;
    return fd;
}

static void cg_close_files(struct sbx_cg *cg)
{
    for (size_t i = 0; i < ARRAY_SIZE(cg->fd); i++) {
        if (cg->fd[i] >= 0)
            close(cg->fd[i]);
        cg->fd[i] = -1;
    }
}

static int cg_read(struct sbx_cg *cg, int which, const char *dir, const char *file,
                   char *buf, size_t bufsz)
{
    int fd = cg_file(cg, which, dir, file, O_RDONLY);
    if (fd < 0)
        return fd;
    ssize_t n = pread(fd, buf, bufsz - 1, 0);
    if (n < 0)
        return -errno;
    buf[n] = '\0';
    return 0;
}

int sbx_cg_procs_fds(struct sbx_cg *cg, int fds[3])
{
    const char *dirs[3] = { cg->memory, cg->pids, cg->cpu };
    for (int i = 0; i < 3; i++) {
        fds[i] = -1;
        if (!dirs[i][0] || (i > 0 && cg->mode == SBX_CGROUP_V2))
            continue;
        int fd = cg_file(cg, CGF_PROCS0 + i, dirs[i], "cgroup.procs", O_WRONLY);
        if (fd < 0)
            return fd;
        fds[i] = fd;
    }
    return 0;
}

static uint64_t read_key(struct sbx_cg *cg, int which, const char *dir, const char *file,
                         const char *key)
{
    char buf[4096];
    if (!dir[0] || cg_read(cg, which, dir, file, buf, sizeof(buf)) < 0)
        return 0;
    size_t klen = strlen(key);
    for (char *l = buf; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
        if (strncmp(l, key, klen) == 0 && l[klen] == ' ') {
            uint64_t v;
            char num[32];
            size_t n = strcspn(l + klen + 1, "\n");
            if (n < sizeof(num)) {
                memcpy(num, l + klen + 1, n);
                num[n] = '\0';
                if (parse_u64(num, &v) == 0)
                    return v;
            }
        }
    }
    return 0;
}

uint64_t sbx_cg_oom_kills(struct sbx_cg *cg)
{
    uint64_t now = 0;
    if (cg->mode == SBX_CGROUP_V2)
        now = read_key(cg, CGF_OOM, cg->memory, "memory.events", "oom_kill");
    else if (cg->mode == SBX_CGROUP_V1)
        now = read_key(cg, CGF_OOM, cg->memory, "memory.oom_control", "oom_kill");
    return now > cg->oom_before ? now - cg->oom_before : 0;
}

static uint64_t throttled_total(struct sbx_cg *cg)
{
    if (cg->mode == SBX_CGROUP_V2)
        return read_key(cg, CGF_CPU_STAT, cg->memory, "cpu.stat", "nr_throttled");
    if (cg->mode == SBX_CGROUP_V1 && cg->cpu[0])
        return read_key(cg, CGF_CPU_STAT, cg->cpu, "cpu.stat", "nr_throttled");
    return 0;
}

uint64_t sbx_cg_throttled(struct sbx_cg *cg)
{
    uint64_t now = throttled_total(cg);
    return now > cg->throttled_before ? now - cg->throttled_before : 0;
}

bool sbx_cg_empty(struct sbx_cg *cg)
{
    char buf[64];
    if (cg->mode == SBX_CGROUP_NONE)
        return true;
    return cg_read(cg, CGF_PIDS_CURRENT, cg->mode == SBX_CGROUP_V1 ? cg->pids : cg->memory,
                   "pids.current", buf, sizeof(buf)) >= 0 && strcmp(buf, "0\n") == 0;
}

void sbx_cg_reuse(struct sbx_cg *cg)
{
    if (cg->mode == SBX_CGROUP_V2)
        cg->oom_before = read_key(cg, CGF_OOM, cg->memory, "memory.events", "oom_kill");
    else if (cg->mode == SBX_CGROUP_V1)
        cg->oom_before = read_key(cg, CGF_OOM, cg->memory, "memory.oom_control", "oom_kill");
    cg->throttled_before = throttled_total(cg);
}

int sbx_cg_create(struct sbx_cg *cg, uint64_t id, const struct sbx_policy *p)
{
    memset(cg, 0, sizeof(*cg));
    for (size_t i = 0; i < ARRAY_SIZE(cg->fd); i++)
        cg->fd[i] = -1;
    cg->mode = host.mode;
    char name[32];
    snprintf(name, sizeof(name), "i%" PRIu64, id);
    int rc;
    if (cg->mode == SBX_CGROUP_V2) {
        if ((rc = make_dir(cg->memory, sizeof(cg->memory), base_mem, name)) < 0)
            goto fail;
        if (p->mem_bytes) {
            if ((rc = write_u64(cg->memory, "memory.max", p->mem_bytes)) < 0)
                goto fail;
            write_str(cg->memory, "memory.swap.max", "0");
            write_str(cg->memory, "memory.oom.group", "1");
        }
        if (p->pids_max && (rc = write_u64(cg->memory, "pids.max", p->pids_max)) < 0)
            goto fail;
        if (p->cpu_pct) {
            char v[48];
            snprintf(v, sizeof(v), "%" PRIu64 " 100000", (uint64_t)p->cpu_pct * 1000);
            write_str(cg->memory, "cpu.max", v);
        }
        if (p->cpu_weight)
            write_u64(cg->memory, "cpu.weight", p->cpu_weight);
        cg->cpu_weight = p->cpu_weight;
        return 0;
    }
    if (cg->mode == SBX_CGROUP_V1) {
        if ((rc = make_dir(cg->memory, sizeof(cg->memory), base_mem, name)) < 0 ||
            (rc = make_dir(cg->pids, sizeof(cg->pids), base_pids, name)) < 0)
            goto fail;
        if (base_cpu[0] && (rc = make_dir(cg->cpu, sizeof(cg->cpu), base_cpu, name)) < 0)
            goto fail;
        if (p->mem_bytes) {
            if ((rc = write_u64(cg->memory, "memory.limit_in_bytes", p->mem_bytes)) < 0)
                goto fail;
            /* memsw exists only with swap accounting; no swap is the intent */
            write_u64(cg->memory, "memory.memsw.limit_in_bytes", p->mem_bytes);
        }
        if (p->pids_max && (rc = write_u64(cg->pids, "pids.max", p->pids_max)) < 0)
            goto fail;
        if (cg->cpu[0]) {
            if (p->cpu_pct) {
                write_str(cg->cpu, "cpu.cfs_period_us", "100000");
                if ((rc = write_u64(cg->cpu, "cpu.cfs_quota_us",
                                    (uint64_t)p->cpu_pct * 1000)) < 0)
                    goto fail;
            }
            if (p->cpu_weight)
                write_u64(cg->cpu, "cpu.shares", (uint64_t)p->cpu_weight * 1024 / 100);
        }
        cg->cpu_weight = p->cpu_weight;
        cg->oom_before = read_key(cg, CGF_OOM, cg->memory, "memory.oom_control", "oom_kill");
        return 0;
    }
    return 0;
fail:
    sbx_cg_destroy(cg);
    return rc;
}

/* Kills every pid listed in dir/cgroup.procs; returns how many were listed. */
static int kill_listed(const char *dir)
{
    char path[SBX_PATH_MAX + 32], buf[16384];
    snprintf(path, sizeof(path), "%s/cgroup.procs", dir);
    if (read_file(path, buf, sizeof(buf)) < 0)
        return 0;
    int n = 0;
    for (char *l = buf; *l;) {
        size_t len = strcspn(l, "\n");
        char num[24];
        uint64_t pid;
        if (len > 0 && len < sizeof(num)) {
            memcpy(num, l, len);
            num[len] = '\0';
            if (parse_u64(num, &pid) == 0 && pid > 1) {
                kill((pid_t)pid, SIGKILL);
                n++;
            }
        }
        l += len;
        if (*l)
            l++;
    }
    return n;
}

void sbx_cg_kill(const struct sbx_cg *cg)
{
    if (cg->mode == SBX_CGROUP_V2) {
        if (write_str(cg->memory, "cgroup.kill", "1") == 0)
            return;
    }
    if (cg->mode == SBX_CGROUP_NONE)
        return;
    /* v1: processes may fork while we kill; pids.max bounds the race, and
     * each pass kills everything listed, so a few passes empty the group. */
    const char *dir = cg->mode == SBX_CGROUP_V1 ? cg->pids : cg->memory;
    for (int pass = 0; pass < 100; pass++) {
        if (kill_listed(dir) == 0)
            return;
        usleep(1000);
    }
    log_warn("cgroup %s still has processes after 100 kill passes", dir);
}

static void remove_dir(char *dir)
{
    if (!dir[0])
        return;
    /* an rmdir right after the last process was reaped can still see it */
    for (int i = 0; i < 200; i++) {
        if (rmdir(dir) == 0 || errno == ENOENT)
            break;
        if (errno != EBUSY) {
            log_warn("rmdir %s: %s", dir, strerror(errno));
            break;
        }
        if (i % 20 == 19)
            kill_listed(dir);
        usleep(1000);
    }
    dir[0] = '\0';
}

void sbx_cg_destroy(struct sbx_cg *cg)
{
    cg_close_files(cg);
    if (cg->mode == SBX_CGROUP_NONE)
        return;
    sbx_cg_set_running(cg, false);
    sbx_cg_kill(cg);
    remove_dir(cg->memory);
    remove_dir(cg->pids);
    remove_dir(cg->cpu);
}

static bool try_rmdir(char *dir)
{
    if (!dir[0])
        return true;
    if (rmdir(dir) == 0 || errno == ENOENT) {
        dir[0] = '\0';
        return true;
    }
    if (errno != EBUSY) {
        log_warn("rmdir %s: %s", dir, strerror(errno));
        dir[0] = '\0';
        return true;
    }
    return false;
}

bool sbx_cg_try_remove(struct sbx_cg *cg)
{
    cg_close_files(cg);
    if (cg->mode == SBX_CGROUP_NONE)
        return true;
    sbx_cg_set_running(cg, false);
    bool a = try_rmdir(cg->memory), b = try_rmdir(cg->pids), c = try_rmdir(cg->cpu);
    return a && b && c;
}

/* The parent's weight unit for one sandbox: v1 shares (the default 1024 for
 * weight 100), v2 cpu.weight (default 100). 0 (not set) is the default. */
static uint64_t weight_in_parent(const struct sbx_cg *cg)
{
    uint64_t w = cg->cpu_weight ? cg->cpu_weight : 100;
    return cg->mode == SBX_CGROUP_V1 ? w * 1024 / 100 : w;
}

static void parent_weight_update(enum sbx_cgroup_mode mode)
{
    const char *dir = mode == SBX_CGROUP_V1 ? base_cpu : cpu_v2 ? base_mem : "";
    if (!dir[0])
        return;
    /* the kernel's ranges: v1 shares 2..262144, v2 weight 1..10000 */
    uint64_t lo = mode == SBX_CGROUP_V1 ? 1024 : 100;
    uint64_t hi = mode == SBX_CGROUP_V1 ? 262144 : 10000;
    uint64_t v = running_weight < lo ? lo : running_weight > hi ? hi : running_weight;
    if (v == parent_weight)
        return;
    int rc = write_u64(dir, mode == SBX_CGROUP_V1 ? "cpu.shares" : "cpu.weight", v);
    if (rc < 0) {
        static bool warned;
        if (!warned)
            log_warn("cannot set the weight of %s: %s; all storlets weigh one "
                     "thread", dir, strerror(-rc));
        warned = true;
        return;
    }
    parent_weight = v;
}

void sbx_cg_set_running(struct sbx_cg *cg, bool on)
{
    if (cg->mode == SBX_CGROUP_NONE || cg->running == on)
        return;
    if (cg->mode == SBX_CGROUP_V1 ? !cg->cpu[0] : !cpu_v2)
        return;
    uint64_t w = weight_in_parent(cg);
    cg->running = on;
    if (on)
        running_weight += w;
    else
        running_weight = running_weight > w ? running_weight - w : 0;
    parent_weight_update(cg->mode);
}
