/*
 * eng_frame.c - encoding and sending one storlet ABI frame, and checking a
 * storlet's output metadata frame against the ABI's limits (eng_frame.h).
 *
 * Invariant: a frame's length prefix is the exact byte count of the JSON
 * text that follows it, big-endian, so the reader never scans for an end.
 *
 * Threading: no state; callable from any thread.
 */
#include "engine/eng_frame.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
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

/* Printable ASCII but ':' (a header name once prefixed). */
static bool key_ok(const char *k)
{
    for (; *k; k++)
        if (*k <= 0x20 || *k >= 0x7f || *k == ':')
            return false;
    return true;
}

/* No control characters (a header value); UTF-8 passes. */
static bool value_ok(const char *v)
{
    for (; *v; v++)
        if ((unsigned char)*v < 0x20 || *v == 0x7f)
            return false;
    return true;
}

bool eng_frame_meta_ok(const json_t *meta, const json_t *content_type, char *why,
                       size_t whysz)
{
    const char *key;
    json_t *v;
    size_t total = 0;
    json_object_foreach((json_t *)meta, key, v) {
        size_t kl = strlen(key);
        const char *val = json_string_value(v);
        if (!val || kl < 1 || kl > ENG_META_KEY_MAX || !key_ok(key) ||
            strlen(val) > ENG_META_VALUE_MAX || !value_ok(val)) {
            snprintf(why, whysz, "bad output metadata '%.64s'", key);
            return false;
        }
        total += kl + strlen(val);
    }
    size_t n = json_object_size(meta);
    if (n > ENG_META_KEYS_MAX || total > ENG_META_BYTES_MAX) {
        snprintf(why, whysz, "output metadata of %zu keys and %zu bytes (at most %d and %d)",
                 n, total, ENG_META_KEYS_MAX, ENG_META_BYTES_MAX);
        return false;
    }
    if (content_type && (!json_is_string(content_type) ||
                         strlen(json_string_value(content_type)) > ENG_META_CTYPE_MAX ||
                         !value_ok(json_string_value(content_type)))) {
        snprintf(why, whysz, "bad content_type");
        return false;
    }
    return true;
}
