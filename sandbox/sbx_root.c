/*
 * sbx_root.c - the sandbox's root file system: what it holds, and a
 * prepared mount namespace that holds it ready, so that a sandbox does not
 * assemble it mount by mount.
 *
 * What a sandbox sees (docs/internals/sandbox.md, "Building one sandbox"):
 * a small tmpfs as `/` with read-only, nosuid, nodev binds of the host's
 * /usr, the /bin, /sbin, /lib* symlinks or directories and a few /etc
 * entries, a generated /etc/passwd and /etc/group, /dev with a few device
 * nodes bound from the host, and empty /proc, /tmp and /storlet where the
 * sandbox mounts its own proc, its scratch tmpfs and the storlet's code.
 * sbx_root_populate() makes all of that below a directory.
 *
 * Built in every sandbox, that took ~30 mount calls, as many path look-ups
 * and files, and a tmpfs made and torn down per invocation: the largest
 * part of a sandbox's build. The launcher now builds it once in a mount
 * namespace of its own (the *prepared namespace*): its root is a tiny
 * read-only tmpfs holding `root/` (the tree above, read-only) and `proc/`
 * (a proc mount, which the kernel wants to see before it lets a user
 * namespace mount a proc of its own). A sandbox is cloned while the
 * launcher stands in that namespace (setns, clone, setns back), so its new
 * mount namespace is a copy of it: the kernel copies a dozen mounts, and,
 * the copy crossing into the sandbox's user namespace, locks them (the
 * sandbox can neither make them writable nor unmount one to see below).
 * Its init then binds `root/` onto itself, mounts its proc, scratch and
 * code on that copy, makes it the root (pivot_root) and detaches the rest,
 * the prepared namespace's proc with it. What is shared between sandboxes
 * is read-only and the host's anyway; everything a run can write (scratch,
 * proc, IPC) is its own, as before.
 *
 * Invariants:
 * - the prepared namespace's mounts are private: nothing of it propagates
 *   to the host, and nothing of the host's later mounts reaches it;
 * - the launcher is back in its own mount namespace, at its own working
 *   directory, whenever a function of this file returns;
 * - a prepared namespace is rebuilt after ROOT_MAX_AGE_NS, so that a host
 *   file replaced since (a new ld.so.cache after an upgrade: a bind holds
 *   the inode it was made with) is seen by later sandboxes;
 * - one per inside id (the generated passwd names it).
 * When it cannot be built (the launcher is not root), sandboxes build their
 * root themselves as before (sbx_spawn.c).
 *
 * Threading: the launcher's single thread only.
 */
#include "sandbox/sbx_int.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common/bug.h"
#include "common/log.h"
#include "common/util.h"

/* Host /etc entries a language runtime needs (prefix match for "python3"). */
static const char *const etc_entries[] = {
    "ld.so.cache", "ld.so.conf", "ld.so.conf.d", "localtime", "alternatives",
};
static const char *const top_entries[] = {
    "bin", "sbin", "lib", "lib32", "lib64", "libx32",
};
static const char *const dev_nodes[] = {
    "null", "zero", "full", "random", "urandom",
};

#define ROOT_MAX 4
#define ROOT_MAX_AGE_NS (60ull * 1000000000ull)

static struct {
    int host;                  /* the launcher's own mount namespace, or -1 */
    int cwd;                   /* and its working directory (setns moves it) */
    bool failed;               /* cannot be built here: do not retry */
    struct { uint32_t inside_id; int fd; uint64_t made; } ns[ROOT_MAX];
    unsigned n;
} R = { .host = -1, .cwd = -1 };

/* ------------------------------------------------------------ the tree */

/* Sets *where (for the error message; `what` is often a path on the
 * failing function's stack, so it is copied) and returns -errno. */
static int failed(const char **where, const char *what)
{
    static char buf[2 * SBX_PATH_MAX + 16];
    int err = errno;
    str_copy(buf, what, sizeof(buf));
    *where = buf;
    return -err;
}

#define TRY_R(expr, what)                         \
    do {                                          \
        if ((expr) == -1)                         \
            return failed(where, what);           \
    } while (0)

static unsigned long locked_flags(const char *path)
{
    struct statvfs sv;
    unsigned long f = 0;
    if (statvfs(path, &sv) == -1)
        return 0;
    /* A remount in a user namespace must keep the flags the parent mount
     * had (they are locked); carry them over and add ours. */
    if (sv.f_flag & ST_RDONLY) f |= MS_RDONLY;
    if (sv.f_flag & ST_NOSUID) f |= MS_NOSUID;
    if (sv.f_flag & ST_NODEV) f |= MS_NODEV;
    if (sv.f_flag & ST_NOEXEC) f |= MS_NOEXEC;
    if (sv.f_flag & ST_NOATIME) f |= MS_NOATIME;
    if (sv.f_flag & ST_NODIRATIME) f |= MS_NODIRATIME;
    if (sv.f_flag & ST_RELATIME) f |= MS_RELATIME;
    return f;
}

int sbx_root_bind_ro(const char *src, const char *dst, bool keep_dev, const char **where)
{
    TRY_R(mount(src, dst, NULL, MS_BIND | MS_REC, NULL), dst);
    unsigned long f = MS_REMOUNT | MS_BIND | MS_NOSUID | locked_flags(dst);
    f |= keep_dev ? 0 : (MS_RDONLY | MS_NODEV);
    TRY_R(mount(NULL, dst, NULL, f, NULL), dst);
    return 0;
}

static int touch(const char *path, const char **where)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0444);
    TRY_R(fd, path);
    close(fd);
    return 0;
}

static int write_text(const char *path, const char *text, const char **where)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0444);
    TRY_R(fd, path);
    ssize_t n = write(fd, text, strlen(text));
    close(fd);
    if (n != (ssize_t)strlen(text)) {
        errno = n < 0 ? errno : EIO;
        return failed(where, path);
    }
    return 0;
}

/* Mirrors a host entry: same symlink, or a read-only bind. */
static int mirror(const char *hostpath, const char *dst, const char **where)
{
    struct stat st;
    if (lstat(hostpath, &st) == -1)
        return 0;
    if (S_ISLNK(st.st_mode)) {
        char target[SBX_PATH_MAX];
        ssize_t n = readlink(hostpath, target, sizeof(target) - 1);
        if (n <= 0)
            return 0;
        target[n] = '\0';
        TRY_R(symlink(target, dst), dst);
    } else if (S_ISDIR(st.st_mode)) {
        TRY_R(mkdir(dst, 0755), dst);
        return sbx_root_bind_ro(hostpath, dst, false, where);
    } else if (S_ISREG(st.st_mode)) {
        int rc = touch(dst, where);
        return rc < 0 ? rc : sbx_root_bind_ro(hostpath, dst, false, where);
    }
    return 0;
}

/* Mirrors host "/<dir>/<name>" (dir "" for the top) at "<root>/<dir>/<name>". */
static int mirror_in(const char *root, const char *dir, const char *name, const char **where)
{
    char host[SBX_PATH_MAX + 8], path[2 * SBX_PATH_MAX + 16];
    const char *sep = dir[0] ? "/" : "";
    snprintf(host, sizeof(host), "%s%s/%s", sep, dir, name);
    snprintf(path, sizeof(path), "%s%s%s/%s", root, sep, dir, name);
    return mirror(host, path, where);
}

int sbx_root_populate(const char *root, uint32_t inside_id, const char **where)
{
    char path[SBX_PATH_MAX + 64];
    int rc;

    snprintf(path, sizeof(path), "%s/usr", root);
    TRY_R(mkdir(path, 0755), path);
    if ((rc = sbx_root_bind_ro("/usr", path, false, where)) < 0)
        return rc;
    for (size_t i = 0; i < ARRAY_SIZE(top_entries); i++)
        if ((rc = mirror_in(root, "", top_entries[i], where)) < 0)
            return rc;

    snprintf(path, sizeof(path), "%s/etc", root);
    TRY_R(mkdir(path, 0755), path);
    for (size_t i = 0; i < ARRAY_SIZE(etc_entries); i++)
        if ((rc = mirror_in(root, "etc", etc_entries[i], where)) < 0)
            return rc;
    DIR *d = opendir("/etc");
    if (d) {
        struct dirent *de;
        while ((de = readdir(d)) != NULL) {
            if (strncmp(de->d_name, "python3", 7) != 0)
                continue;
            if ((rc = mirror_in(root, "etc", de->d_name, where)) < 0) {
                closedir(d);
                return rc;
            }
        }
        closedir(d);
    }
    char line[160];
    snprintf(line, sizeof(line), "storlet:x:%u:%u:storlet:/tmp:/usr/sbin/nologin\n",
             inside_id, inside_id);
    snprintf(path, sizeof(path), "%s/etc/passwd", root);
    if ((rc = write_text(path, line, where)) < 0)
        return rc;
    snprintf(line, sizeof(line), "storlet:x:%u:\n", inside_id);
    snprintf(path, sizeof(path), "%s/etc/group", root);
    if ((rc = write_text(path, line, where)) < 0)
        return rc;

    snprintf(path, sizeof(path), "%s/dev", root);
    TRY_R(mkdir(path, 0755), path);
    for (size_t i = 0; i < ARRAY_SIZE(dev_nodes); i++) {
        char host[64];
        snprintf(host, sizeof(host), "/dev/%s", dev_nodes[i]);
        snprintf(path, sizeof(path), "%s/dev/%s", root, dev_nodes[i]);
        if ((rc = touch(path, where)) < 0 ||
            (rc = sbx_root_bind_ro(host, path, true, where)) < 0)
            return rc;
    }
    static const char *const links[][2] = {
        { "/proc/self/fd", "fd" }, { "/proc/self/fd/0", "stdin" },
        { "/proc/self/fd/1", "stdout" }, { "/proc/self/fd/2", "stderr" },
    };
    for (size_t i = 0; i < ARRAY_SIZE(links); i++) {
        snprintf(path, sizeof(path), "%s/dev/%s", root, links[i][1]);
        TRY_R(symlink(links[i][0], path), path);
    }
    return 0;
}

/* ------------------------------------------------------------ the namespace */

/* Back to the launcher's own mount namespace and working directory. */
static int go_home(void)
{
    int rc = setns(R.host, CLONE_NEWNS) == -1 ? -errno : 0;
    if (R.cwd != -1 && fchdir(R.cwd) == -1 && rc == 0)
        rc = -errno;
    return rc;
}

/*
 * Builds the prepared namespace for inside_id in a new mount namespace of
 * the launcher's and returns an fd of it (or -errno). The work area is
 * /tmp of that namespace only: the first thing done is making every mount
 * in it private, so nothing propagates to the host's.
 */
static int build(uint32_t inside_id, const char **where)
{
    if (unshare(CLONE_NEWNS) == -1)
        return failed(where, "unshare");
    int rc = 0, fd = -1;
    if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) == -1) {
        rc = failed(where, "make / private");
        goto out;
    }
#define STEP(expr, what)                      \
    if ((expr) == -1) {                       \
        rc = failed(where, what);             \
        goto out;                             \
    }
    STEP(mount("sbx-base", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC,
               "size=16k,nr_inodes=8,mode=0755"), "mount base tmpfs");
    STEP(mkdir("/tmp/root", 0755), "mkdir root");
    STEP(mkdir("/tmp/proc", 0555), "mkdir proc");
    STEP(mount("sbx-root", "/tmp/root", "tmpfs", MS_NOSUID | MS_NODEV,
               "size=1m,nr_inodes=512,mode=0755"), "mount root tmpfs");
    if ((rc = sbx_root_populate("/tmp/root", inside_id, where)) < 0)
        goto out;
    STEP(mkdir("/tmp/root/proc", 0555), "mkdir /proc");
    STEP(mkdir("/tmp/root/tmp", 01777), "mkdir /tmp");
    STEP(mkdir("/tmp/root/storlet", 0755), "mkdir /storlet");
    STEP(mount(NULL, "/tmp/root", NULL, MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV,
               NULL), "remount root read-only");
    STEP(mount("proc", "/tmp/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL),
         "mount proc");
    STEP(chdir("/tmp"), "chdir");
    STEP((int)syscall(SYS_pivot_root, ".", "."), "pivot_root");
    STEP(umount2(".", MNT_DETACH), "detach the old root");
    STEP(chdir("/"), "chdir /");
    STEP(mount(NULL, "/", NULL, MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC,
               NULL), "remount base read-only");
#undef STEP
    fd = open("/proc/thread-self/ns/mnt", O_RDONLY | O_CLOEXEC);
    if (fd == -1)
        rc = failed(where, "open the namespace");
out:;
    int back = go_home();
    if (back < 0) {
        /* the launcher is stuck in a namespace without the host's files:
         * nothing it does from here would work */
        log_err("cannot return to the launcher's mount namespace: %s", strerror(-back));
        BUG_ON(back < 0);
    }
    if (rc < 0) {
        if (fd != -1)
            close(fd);
        return rc;
    }
    return fd;
}

int sbx_root_init(void)
{
    R.n = 0;
    R.failed = false;
    R.host = open("/proc/thread-self/ns/mnt", O_RDONLY | O_CLOEXEC);
    if (R.host == -1)
        return -errno;
    R.cwd = open(".", O_PATH | O_DIRECTORY | O_CLOEXEC);
    return R.cwd == -1 ? -errno : 0;
}

void sbx_root_release(void)
{
    for (unsigned i = 0; i < R.n; i++)
        close(R.ns[i].fd);
    R.n = 0;
    if (R.host != -1)
        close(R.host);
    if (R.cwd != -1)
        close(R.cwd);
    R.host = R.cwd = -1;
}

int sbx_root_ns(uint32_t inside_id)
{
    if (R.host == -1 || R.cwd == -1 || R.failed)
        return -EPERM;
    uint64_t now = now_mono_ns();
    unsigned slot = R.n;
    for (unsigned i = 0; i < R.n; i++) {
        if (R.ns[i].inside_id != inside_id)
            continue;
        if (now - R.ns[i].made < ROOT_MAX_AGE_NS)
            return R.ns[i].fd;
        slot = i;   /* too old: rebuilt below */
        break;
    }
    if (slot == R.n && R.n == ROOT_MAX)
        slot = 0;   /* unusual inside ids: the first one makes room */
    const char *where = "";
    int fd = build(inside_id, &where);
    if (fd < 0) {
        log_warn("no prepared sandbox root (%s: %s): each sandbox builds its own",
                 where, strerror(-fd));
        R.failed = true;
        return fd;
    }
    if (slot < R.n)
        close(R.ns[slot].fd);
    else
        R.n++;
    R.ns[slot].inside_id = inside_id;
    R.ns[slot].fd = fd;
    R.ns[slot].made = now;
    return fd;
}

int sbx_root_enter(int fd)
{
    return setns(fd, CLONE_NEWNS) == -1 ? -errno : 0;
}

int sbx_root_leave(void)
{
    return go_home();
}
