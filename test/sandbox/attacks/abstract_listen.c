/* The victim of A07e (abstract unix sockets between tenants): binds the
 * abstract unix socket @NAME in its network namespace, then copies what
 * every connection sends to stdout until stdin closes. The runner checks
 * whether another sandbox's bytes arrived. */
#include <poll.h>
#include <stddef.h>
#include <sys/socket.h>
#include <sys/un.h>
#include "attack.h"

int main(int argc, char **argv)
{
    attack_name = "abstract_listen";
    if (argc < 2)
        BROKEN("usage: abstract_listen NAME");
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    if (fd < 0)
        BROKEN("socket: %s", strerror(errno));
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    size_t n = strlen(argv[1]);
    if (n + 1 > sizeof(sa.sun_path))
        BROKEN("name too long");
    memcpy(sa.sun_path + 1, argv[1], n);
    if (bind(fd, (struct sockaddr *)&sa,
             (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + n)) < 0 ||
        listen(fd, 8) < 0)
        BROKEN("bind/listen @%s: %s", argv[1], strerror(errno));
    unsigned got = 0;
    for (;;) {
        struct pollfd pf[2] = { { 0, POLLIN, 0 }, { fd, POLLIN, 0 } };
        if (poll(pf, 2, -1) < 0)
            BROKEN("poll: %s", strerror(errno));
        if (pf[1].revents) {
            int c = accept(fd, NULL, NULL);
            if (c >= 0) {
                char buf[256];
                ssize_t r = read(c, buf, sizeof(buf));
                if (r > 0 && write(1, buf, (size_t)r) == r)
                    got++;
                close(c);
            }
        }
        if (pf[0].revents) {
            char buf[64];
            if (read(0, buf, sizeof(buf)) <= 0)
                break;
        }
    }
    verdict(0, "stdin closed after %u connection(s) with bytes", got);
}
