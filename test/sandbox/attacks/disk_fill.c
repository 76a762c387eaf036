/* A06: exhaust the scratch space. Modes:
 *   bytes MiB   write 4 MiB files into /tmp until MiB are written
 *   inodes N    create N empty files in /tmp
 *   bigfile MiB one file of MiB mebibytes (RLIMIT_FSIZE)
 * Escaped if the whole amount fit. */
#include <fcntl.h>
#include <signal.h>
#include "attack.h"

int main(int argc, char **argv)
{
    attack_name = "disk_fill";
    if (argc < 3)
        BROKEN("usage: disk_fill bytes|inodes|bigfile N");
    long n = arg_long(argc, argv, 2, 0);
    signal(SIGXFSZ, SIG_IGN);   /* see EFBIG instead of dying */
    static char buf[1 << 16];
    memset(buf, 'd', sizeof(buf));
    char path[64];
    if (strcmp(argv[1], "inodes") == 0) {
        for (long i = 0; i < n; i++) {
            snprintf(path, sizeof(path), "/tmp/i%ld", i);
            int fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
            if (fd < 0)
                verdict(0, "file %ld: %s", i, strerror(errno));
            close(fd);
        }
        verdict(1, "created %ld files", n);
    }
    bool big = strcmp(argv[1], "bigfile") == 0;
    long long want = (long long)n << 20, done = 0;
    int fd = -1, file = 0;
    while (done < want) {
        if (fd < 0 || (!big && done % (4 << 20) == 0)) {
            if (fd >= 0)
                close(fd);
            snprintf(path, sizeof(path), "/tmp/f%d", file++);
            fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
            if (fd < 0)
                verdict(0, "open after %lld bytes: %s", done, strerror(errno));
        }
        ssize_t w = write(fd, buf, sizeof(buf));
        if (w < (ssize_t)sizeof(buf))
            verdict(0, "write after %lld bytes: %s", done, w < 0 ? strerror(errno) : "short");
        done += w;
    }
    verdict(1, "wrote %lld bytes to scratch", done);
}
