/*
 * eng_frame.c - encoding and sending one storlet ABI frame (eng_frame.h).
 *
 * Invariant: a frame's length prefix is the exact byte count of the JSON
 * text that follows it, big-endian, so the reader never scans for an end.
 *
 * Threading: no state; callable from any thread.
 */
#include "engine/eng_frame.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include "common/xalloc.h"

char *eng_frame_of(const json_t *obj, size_t *len)
{
    char *body = json_dumps(obj, JSON_COMPACT);
    if (!body)
        return NULL;
    size_t n = strlen(body);
    char *f = xmalloc(n + 4);
    f[0] = (char)(n >> 24);
    f[1] = (char)(n >> 16);
    f[2] = (char)(n >> 8);
    f[3] = (char)n;
    memcpy(f + 4, body, n);
    free(body);
    *len = n + 4;
    return f;
}

ssize_t eng_frame_sendmsg(int sock, const char *f, size_t len, int fd, int flags)
{
    union {
        struct cmsghdr h;
        char b[CMSG_SPACE(sizeof(int))];
    } cbuf;
    /* sendmsg does not write through iov_base; the cast only drops const */
    struct iovec iov = { .iov_base = (void *)(uintptr_t)f, .iov_len = len };
    struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };
    if (fd >= 0) {
        memset(&cbuf, 0, sizeof(cbuf));
        msg.msg_control = cbuf.b;
        msg.msg_controllen = sizeof(cbuf.b);
        struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
        c->cmsg_level = SOL_SOCKET;
        c->cmsg_type = SCM_RIGHTS;
        c->cmsg_len = CMSG_LEN(sizeof(int));
        memcpy(CMSG_DATA(c), &fd, sizeof(int));
    }
    ssize_t w;
    do
        w = sendmsg(sock, &msg, flags);
    while (w < 0 && errno == EINTR);
    return w;
}
