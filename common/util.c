/*
 * util.c - see util.h.
 */
#include "common/util.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

int parse_u64n(const char *s, size_t len, uint64_t *out)
{
    if (len == 0)
        return -EINVAL;
    uint64_t v = 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -EINVAL;
        unsigned d = (unsigned)(s[i] - '0');
        if (v > (UINT64_MAX - d) / 10)
            return -ERANGE;
        v = v * 10 + d;
    }
    *out = v;
    return 0;
}

int parse_u64(const char *s, uint64_t *out)
{
    return parse_u64n(s, strlen(s), out);
}

int parse_i64(const char *s, int64_t *out)
{
    int neg = (s[0] == '-');
    uint64_t v;
    int rc = parse_u64(s + neg, &v);
    if (rc)
        return rc;
    if (neg) {
        if (v > (uint64_t)INT64_MAX + 1)
            return -ERANGE;
        *out = v == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)v;
    } else {
        if (v > (uint64_t)INT64_MAX)
            return -ERANGE;
        *out = (int64_t)v;
    }
    return 0;
}

int parse_double(const char *s, double *out)
{
    if (!*s || *s == ' ' || *s == '\t')
        return -EINVAL;
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (*end != '\0')
        return -EINVAL;
    if (errno == ERANGE || !isfinite(v))
        return -ERANGE;
    *out = v;
    return 0;
}

size_t str_copy(char *dst, const char *src, size_t dstsz)
{
    size_t n = strlen(src);
    if (dstsz) {
        size_t c = n < dstsz - 1 ? n : dstsz - 1;
        memcpy(dst, src, c);
        dst[c] = '\0';
    }
    return n;
}

bool str_has_prefix(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

bool str_has_suffix(const char *s, const char *suffix)
{
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && memcmp(s + a - b, suffix, b) == 0;
}

void hex_encode(const unsigned char *in, size_t len, char *out)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < len; i++) {
        out[2 * i] = digits[in[i] >> 4];
        out[2 * i + 1] = digits[in[i] & 15];
    }
    out[2 * len] = '\0';
}

uint64_t now_mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

double now_real(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int fsync_parent_dir(const char *path)
{
    char dir[PATH_MAX];
    if (str_copy(dir, path, sizeof(dir)) >= sizeof(dir))
        return -ENAMETOOLONG;
    char *slash = strrchr(dir, '/');
    if (!slash)
        str_copy(dir, ".", sizeof(dir));
    else if (slash == dir)
        dir[1] = '\0';
    else
        *slash = '\0';
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd == -1)
        return -errno;
    int rc = fsync(fd) == -1 ? -errno : 0;
    close(fd);
    return rc;
}

int file_write_atomic(const char *path, const void *data, size_t len)
{
    /* Unique per call, not just per process: two threads of a daemon may
     * rewrite the same file at once, and a shared temp name makes one's
     * rename take the other's half-written file, or fail. */
    static atomic_uint seq;
    char tmp[PATH_MAX];
    int n = snprintf(tmp, sizeof(tmp), "%s.tmp.%d.%u", path, (int)getpid(),
                     atomic_fetch_add(&seq, 1));
    if (n < 0 || (size_t)n >= sizeof(tmp))
        return -ENAMETOOLONG;
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd == -1)
        return -errno;
    const char *p = data;
    size_t left = len;
    int rc = 0;
    while (left > 0) {
        ssize_t w = write(fd, p, left);
        if (w == -1) {
            if (errno == EINTR)
                continue;
            rc = -errno;
            break;
        }
        p += w;
        left -= (size_t)w;
    }
    if (rc == 0 && fsync(fd) == -1)
        rc = -errno;
    if (close(fd) == -1 && rc == 0)
        rc = -errno;
    if (rc == 0 && rename(tmp, path) == -1)
        rc = -errno;
    if (rc) {
        unlink(tmp);
        return rc;
    }
    return fsync_parent_dir(path);
}

int mkdir_p(const char *path)
{
    char buf[PATH_MAX];
    if (str_copy(buf, path, sizeof(buf)) >= sizeof(buf))
        return -ENAMETOOLONG;
    for (char *p = buf + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(buf, 0755) == -1 && errno != EEXIST)
            return -errno;
        *p = '/';
    }
    if (mkdir(buf, 0755) == -1 && errno != EEXIST)
        return -errno;
    return 0;
}
