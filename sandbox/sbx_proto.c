/*
 * sbx_proto.c - the launcher's wire format: seqpacket messages carrying one
 * JSON document each (requests, events, results), with fds as SCM_RIGHTS.
 *
 * One message is at most SBX_MSG_MAX bytes; a longer one is rejected whole
 * (MSG_TRUNC) and any fds it carried are closed, so a bad peer cannot leak
 * descriptors into the launcher. Thread-safe (no globals).
 */
#include "sandbox/sbx_int.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/bug.h"
#include "common/xalloc.h"

int sbx_send_msg(int sock, const void *msg, size_t len, const int *fds, size_t nfds)
{
    struct iovec iov = { .iov_base = (void *)(uintptr_t)msg, .iov_len = len };
    union {
        char buf[CMSG_SPACE(sizeof(int) * SBX_FD_MAX)];
        struct cmsghdr align;
    } u;
    struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
    if (nfds > SBX_FD_MAX)
        return -EINVAL;
    if (nfds > 0) {
        memset(&u, 0, sizeof(u));
        mh.msg_control = u.buf;
        mh.msg_controllen = CMSG_SPACE(sizeof(int) * nfds);
        struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
        c->cmsg_level = SOL_SOCKET;
        c->cmsg_type = SCM_RIGHTS;
        c->cmsg_len = CMSG_LEN(sizeof(int) * nfds);
        memcpy(CMSG_DATA(c), fds, sizeof(int) * nfds);
    }
    for (;;) {
        ssize_t n = sendmsg(sock, &mh, MSG_NOSIGNAL);
        if (n == (ssize_t)len)
            return 0;
        if (n == -1 && errno == EINTR)
            continue;
        return n == -1 ? -errno : -EIO;
    }
}

ssize_t sbx_recv_msg(int sock, char *buf, size_t bufsz, int *fds, size_t *nfds)
{
    struct iovec iov = { .iov_base = buf, .iov_len = bufsz - 1 };
    union {
        char b[CMSG_SPACE(sizeof(int) * SBX_FD_MAX)];
        struct cmsghdr align;
    } u;
    struct msghdr mh = {
        .msg_iov = &iov, .msg_iovlen = 1,
        .msg_control = u.b, .msg_controllen = sizeof(u.b),
    };
    size_t want = nfds ? *nfds : 0;
    if (nfds)
        *nfds = 0;
    ssize_t n;
    do {
        n = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC);
    } while (n == -1 && errno == EINTR);
    if (n < 0)
        return -errno;
    size_t got = 0;
    bool too_many = false;
    for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
        if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
            continue;
        size_t k = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
        int tmp[SBX_FD_MAX * 2];
        if (k > ARRAY_SIZE(tmp))
            k = ARRAY_SIZE(tmp);
        memcpy(tmp, CMSG_DATA(c), k * sizeof(int));
        for (size_t i = 0; i < k; i++) {
            if (got < want)
                fds[got++] = tmp[i];
            else {
                close(tmp[i]);
                too_many = true;
            }
        }
    }
    if ((mh.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) || too_many) {
        for (size_t i = 0; i < got; i++)
            close(fds[i]);
        return -EMSGSIZE;
    }
    if (nfds)
        *nfds = got;
    buf[n] = '\0';
    return n;
}

char *sbx_result_to_json(uint64_t id, const struct sbx_result *r)
{
    json_t *o = json_pack("{s:s, s:I, s:s, s:i, s:i, s:I, s:I, s:I, s:I, s:I, s:I, "
                          "s:i, s:b, s:s}",
                          "op", "result", "id", (json_int_t)id,
                          "end", sbx_end_name(r->end), "exit_code", r->exit_code,
                          "signal", r->signo, "cpu_us", (json_int_t)r->cpu_us,
                          "max_rss_kb", (json_int_t)r->max_rss_kb,
                          "wall_us", (json_int_t)r->wall_us,
                          "setup_us", (json_int_t)r->setup_us,
                          "output_bytes", (json_int_t)r->output_bytes,
                          "cpu_throttled", (json_int_t)r->cpu_throttled,
                          "pid", r->host_pid, "warm", r->warm, "detail", r->detail);
    BUG_ON(o == NULL);
    char *s = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    BUG_ON(s == NULL);
    char *out = xstrdup(s);
    free(s);
    return out;
}

int sbx_result_from_json(const char *json, struct sbx_result *r, struct err *e)
{
    json_error_t je;
    json_t *o = json_loads(json, 0, &je);
    if (!o)
        return err_set(e, -EPROTO, "launcher reply: bad JSON: %s", je.text);
    memset(r, 0, sizeof(*r));
    const char *end = NULL, *detail = "";
    json_int_t cpu = 0, rss = 0, wall = 0, setup = 0, out = 0, thr = 0;
    int warm = 0;
    int rc = json_unpack_ex(o, &je, 0,
                            "{s:s, s:i, s:i, s:I, s:I, s:I, s:I, s:I, s:I, s:i, s:b, s:s}",
                            "end", &end, "exit_code", &r->exit_code, "signal", &r->signo,
                            "cpu_us", &cpu, "max_rss_kb", &rss, "wall_us", &wall,
                            "setup_us", &setup, "output_bytes", &out,
                            "cpu_throttled", &thr, "pid", &r->host_pid,
                            "warm", &warm, "detail", &detail);
    if (rc < 0) {
        rc = err_set(e, -EPROTO, "launcher reply: %s", je.text);
        goto out;
    }
    int endv = sbx_end_parse(end);
    if (endv < 0) {
        rc = err_set(e, -EPROTO, "launcher reply: unknown end \"%s\"", end);
        goto out;
    }
    r->end = (enum sbx_end)endv;
    r->cpu_us = (uint64_t)cpu;
    r->max_rss_kb = (uint64_t)rss;
    r->wall_us = (uint64_t)wall;
    r->setup_us = (uint64_t)setup;
    r->output_bytes = (uint64_t)out;
    r->cpu_throttled = (uint64_t)thr;
    r->warm = warm != 0;
    snprintf(r->detail, sizeof(r->detail), "%s", detail);
    rc = 0;
out:
    json_decref(o);
    return rc;
}
