/* A26: leave something for the next invocation. "write TOKEN" leaves the
 * token in /tmp/cairn-persist and in a SysV shared memory segment;
 * "read TOKEN" looks for either. Escaped (read) if found. */
#include <fcntl.h>
#include <sys/ipc.h>
#include <sys/shm.h>
#include "attack.h"

#define KEY 0x5eed5eed

int main(int argc, char **argv)
{
    attack_name = "persist";
    if (argc < 3)
        BROKEN("usage: persist write|read TOKEN");
    const char *tok = argv[2];
    size_t n = strlen(tok);
    if (strcmp(argv[1], "write") == 0) {
        int fd = open("/tmp/cairn-persist", O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (fd < 0 || write(fd, tok, n) != (ssize_t)n)
            BROKEN("write: %s", strerror(errno));
        close(fd);
        int id = shmget(KEY, 4096, IPC_CREAT | 0666);
        if (id >= 0) {
            char *p = shmat(id, NULL, 0);
            if (p != (void *)-1)
                memcpy(p, tok, n + 1);
        }
        verdict(0, "left the token behind (file, shm %s)", id >= 0 ? "yes" : "no");
    }
    char buf[128] = "";
    int fd = open("/tmp/cairn-persist", O_RDONLY);
    if (fd >= 0) {
        ssize_t r = read(fd, buf, sizeof(buf) - 1);
        buf[r > 0 ? r : 0] = '\0';
        if (strcmp(buf, tok) == 0)
            verdict(1, "found the token in /tmp");
    }
    int id = shmget(KEY, 4096, 0);
    if (id >= 0) {
        char *p = shmat(id, NULL, SHM_RDONLY);
        if (p != (void *)-1 && strncmp(p, tok, n) == 0)
            verdict(1, "found the token in SysV shm");
    }
    verdict(0, "nothing of the previous invocation left");
}
