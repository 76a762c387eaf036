/* A07/A08: reach the host's network. Modes:
 *   tcp PORT TOKEN       connect to 127.0.0.1:PORT and send TOKEN
 *   udp PORT TOKEN       send TOKEN in a datagram to 127.0.0.1:PORT
 *   abstract NAME TOKEN  connect to the host's abstract unix socket @NAME
 * Escaped if the bytes left; the runner also checks its server got them. */
#include <arpa/inet.h>
#include <stddef.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/un.h>
#include "attack.h"

int main(int argc, char **argv)
{
    attack_name = "net";
    if (argc < 4)
        BROKEN("usage: net tcp|udp|abstract PORT|NAME TOKEN");
    const char *tok = argv[3];
    if (strcmp(argv[1], "abstract") == 0) {
        int fd = socket(AF_UNIX, SOCK_STREAM, 0);
        if (fd < 0)
            verdict(0, "socket(AF_UNIX): %s", strerror(errno));
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        size_t n = strlen(argv[2]);
        if (n + 1 > sizeof(sa.sun_path))
            BROKEN("name too long");
        memcpy(sa.sun_path + 1, argv[2], n);
        if (connect(fd, (struct sockaddr *)&sa, (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + n)) < 0)
            verdict(0, "connect(@%s): %s", argv[2], strerror(errno));
        if (write(fd, tok, strlen(tok)) < 0)
            verdict(0, "write: %s", strerror(errno));
        verdict(1, "talked to the host's abstract socket @%s", argv[2]);
    }
    bool udp = strcmp(argv[1], "udp") == 0;
    struct sockaddr_in sin = { .sin_family = AF_INET,
                               .sin_port = htons((uint16_t)arg_long(argc, argv, 2, 0)) };
    inet_pton(AF_INET, "127.0.0.1", &sin.sin_addr);
    int fd = socket(AF_INET, udp ? SOCK_DGRAM : SOCK_STREAM, 0);
    if (fd < 0)
        verdict(0, "socket(AF_INET): %s", strerror(errno));
    if (udp) {
        if (sendto(fd, tok, strlen(tok), 0, (struct sockaddr *)&sin, sizeof(sin)) < 0)
            verdict(0, "sendto: %s", strerror(errno));
        verdict(1, "sent a datagram to the host");
    }
    if (connect(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0)
        verdict(0, "connect: %s", strerror(errno));
    if (write(fd, tok, strlen(tok)) < 0)
        verdict(0, "write: %s", strerror(errno));
    verdict(1, "connected to the host's 127.0.0.1:%s", argv[2]);
}
