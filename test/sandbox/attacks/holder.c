/* The victim of the cross-tenant read test: writes SECRET to its scratch
 * (/tmp/secret.txt), then holds until stdin closes. It makes itself as
 * exposed as a process can be: dumpable again (the kernel made it
 * non-dumpable at exec, since its binary's owner is not mapped in its user
 * namespace), so only the namespaces and the uid stand in the way. */
#include <fcntl.h>
#include <sys/prctl.h>
#include "attack.h"

int main(int argc, char **argv)
{
    attack_name = "holder";
    if (argc < 2)
        BROKEN("usage: holder SECRET");
    if (prctl(PR_SET_DUMPABLE, 1, 0, 0, 0) < 0)
        BROKEN("dumpable: %s", strerror(errno));
    int fd = open("/tmp/secret.txt", O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0 || write(fd, argv[1], strlen(argv[1])) < 0)
        BROKEN("write: %s", strerror(errno));
    close(fd);
    char buf[256];
    while (read(0, buf, sizeof(buf)) > 0)
        ;
    verdict(0, "stdin closed; still alive");
}
