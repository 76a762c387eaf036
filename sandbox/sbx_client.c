/*
 * sbx_client.c - the engine's side of the launcher socket.
 *
 * Two ways to use it: synchronous (sbx_client_run, one request in flight,
 * blocks until the result), or from an event loop (sbx_client_send_run /
 * sbx_client_poll on a non-blocking socket, as the engine does, one run per
 * connection). The wire format is in sbx_proto.c and
 * docs/internals/sandbox.md. A client is used by one thread at a time.
 */
#include "sandbox/sbx_int.h"

#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "common/util.h"
#include "common/xalloc.h"

struct sbx_client {
    int fd;
    uint64_t next_id;
};

struct sbx_client *sbx_client_adopt(int fd)
{
    struct sbx_client *c = xcalloc(1, sizeof(*c));
    c->fd = fd;
    c->next_id = 1;
    return c;
}

struct sbx_client *sbx_client_connect(const char *socket_path)
{
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    if (str_copy(sa.sun_path, socket_path, sizeof(sa.sun_path)) >= sizeof(sa.sun_path)) {
        errno = ENAMETOOLONG;
        return NULL;
    }
    int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
    if (fd == -1)
        return NULL;
    if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == -1) {
        int saved = errno;
        close(fd);
        errno = saved;
        return NULL;
    }
    return sbx_client_adopt(fd);
}

void sbx_client_free(struct sbx_client *c)
{
    if (!c)
        return;
    close(c->fd);
    free(c);
}

static json_t *policy_obj(const struct sbx_policy *p)
{
    char *s = sbx_policy_to_json(p);
    json_t *o = json_loads(s, 0, NULL);
    free(s);
    return o;
}

static json_t *str_list(const char *const *v)
{
    json_t *a = json_array();
    for (; v && *v; v++)
        json_array_append_new(a, json_string(*v));
    return a;
}

static int send_json(struct sbx_client *c, json_t *o, const int *fds, size_t nfds,
                     struct err *e)
{
    char *s = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    if (!s)
        return err_set(e, -EINVAL, "request: not encodable (bad UTF-8 in a string?)");
    if (strlen(s) >= SBX_MSG_MAX) {
        free(s);
        return err_set(e, -E2BIG, "request larger than %d bytes", SBX_MSG_MAX);
    }
    int rc = sbx_send_msg(c->fd, s, strlen(s), fds, nfds);
    free(s);
    if (rc < 0)
        return err_set(e, rc, "sending to the launcher: %s", strerror(-rc));
    return 0;
}

/* Receives one JSON message; returns a new reference or NULL (e set). */
static json_t *recv_json(struct sbx_client *c, struct err *e, char **raw)
{
    static _Thread_local char buf[SBX_MSG_MAX];
    ssize_t n = sbx_recv_msg(c->fd, buf, sizeof(buf), NULL, NULL);
    if (n <= 0) {
        err_set(e, n == 0 ? -ECONNRESET : (int)n, "launcher: %s",
                n == 0 ? "hung up" : strerror((int)-n));
        return NULL;
    }
    json_error_t je;
    json_t *o = json_loadb(buf, (size_t)n, 0, &je);
    if (!o)
        err_set(e, -EPROTO, "launcher: bad JSON: %s", je.text);
    *raw = buf;
    return o;
}

int sbx_client_fd(const struct sbx_client *c)
{
    return c->fd;
}

static int64_t send_run(struct sbx_client *c, const struct sbx_request *req, bool started,
                        struct err *e)
{
    if (req->nfds > SBX_FD_MAX)
        return err_set(e, -EINVAL, "request: %zu fds (max %d)", req->nfds, SBX_FD_MAX);
    uint64_t id = c->next_id++;
    json_t *tg = json_array();
    for (size_t i = 0; i < req->nfds; i++)
        json_array_append_new(tg, json_integer(req->fd_target[i]));
    json_t *o = json_pack("{s:s, s:I, s:o, s:s, s:o, s:o, s:o, s:b}",
                          "op", "run", "id", (json_int_t)id,
                          "policy", policy_obj(req->policy), "path", req->path,
                          "argv", str_list(req->argv), "env", str_list(req->env),
                          "fd_targets", tg, "warm", req->warm);
    if (!o)
        return err_set(e, -EINVAL, "request: not encodable");
    if (req->code_dir)
        json_object_set_new(o, "code_dir", json_string(req->code_dir));
    if (req->direct_output)
        json_object_set_new(o, "relay", json_false());
    if (started)
        json_object_set_new(o, "started", json_true());
    int rc = send_json(c, o, req->fds, req->nfds, e);
    return rc < 0 ? rc : (int64_t)id;
}

int64_t sbx_client_send_run(struct sbx_client *c, const struct sbx_request *req,
                            struct err *e)
{
    return send_run(c, req, false, e);
}

int sbx_client_send_prewarm(struct sbx_client *c, const struct sbx_policy *p,
                            const char *code_dir, unsigned count, struct err *e)
{
    json_t *o = json_pack("{s:s, s:o, s:I}", "op", "prewarm", "policy", policy_obj(p),
                          "count", (json_int_t)count);
    if (o && code_dir)
        json_object_set_new(o, "code_dir", json_string(code_dir));
    return send_json(c, o, NULL, 0, e);
}

int sbx_client_send_kill(struct sbx_client *c, uint64_t id, enum sbx_end why,
                         struct err *e)
{
    json_t *o = json_pack("{s:s, s:I, s:s}", "op", "kill", "id", (json_int_t)id,
                          "end", sbx_end_name(why));
    return send_json(c, o, NULL, 0, e);
}

int sbx_client_next(struct sbx_client *c, uint64_t *id, struct sbx_result *r,
                    struct err *e)
{
    static _Thread_local char buf[SBX_MSG_MAX];
    for (;;) {
        ssize_t n = sbx_recv_msg(c->fd, buf, sizeof(buf), NULL, NULL);
        if (n == -EAGAIN || n == -EWOULDBLOCK)
            return 0;
        if (n <= 0)
            return err_set(e, n == 0 ? -ECONNRESET : (int)n, "launcher: %s",
                           n == 0 ? "hung up" : strerror((int)-n));
        json_error_t je;
        json_t *m = json_loadb(buf, (size_t)n, 0, &je);
        if (!m)
            return err_set(e, -EPROTO, "launcher: bad JSON: %s", je.text);
        const char *op = json_string_value(json_object_get(m, "op"));
        json_int_t mid = json_integer_value(json_object_get(m, "id"));
        bool result = op && strcmp(op, "result") == 0;
        json_decref(m);
        if (result) {
            *id = (uint64_t)mid;
            return sbx_result_from_json(buf, r, e) < 0 ? e->code : 1;
        }
    }
}

int sbx_client_poll(struct sbx_client *c, uint64_t id, struct sbx_result *r,
                    struct err *e)
{
    for (;;) {
        uint64_t got;
        int rc = sbx_client_next(c, &got, r, e);
        if (rc <= 0 || got == id || got == 0)
            return rc;
    }
}

int sbx_client_run(struct sbx_client *c, const struct sbx_request *req,
                   sbx_started_fn *on_start, void *arg, struct sbx_result *r,
                   struct err *e)
{
    int64_t sent = send_run(c, req, on_start != NULL, e);
    if (sent < 0)
        return (int)sent;
    uint64_t id = (uint64_t)sent;
    for (;;) {
        char *raw;
        json_t *m = recv_json(c, e, &raw);
        if (!m)
            return e->code;
        const char *op = json_string_value(json_object_get(m, "op"));
        json_int_t mid = json_integer_value(json_object_get(m, "id"));
        if (op && strcmp(op, "started") == 0 && (uint64_t)mid == id) {
            if (on_start)
                on_start((int)json_integer_value(json_object_get(m, "pid")), arg);
            json_decref(m);
            continue;
        }
        if (op && strcmp(op, "result") == 0 && ((uint64_t)mid == id || mid == 0)) {
            json_decref(m);
            return sbx_result_from_json(raw, r, e);
        }
        json_decref(m);
    }
}

int sbx_client_prewarm(struct sbx_client *c, const struct sbx_policy *p,
                       unsigned count, struct err *e)
{
    return sbx_client_prewarm_dir(c, p, NULL, count, e);
}

int sbx_client_prewarm_dir(struct sbx_client *c, const struct sbx_policy *p,
                           const char *code_dir, unsigned count, struct err *e)
{
    int rc = sbx_client_send_prewarm(c, p, code_dir, count, e);
    if (rc < 0)
        return rc;
    char *raw;
    json_t *m = recv_json(c, e, &raw);
    if (!m)
        return e->code;
    const char *op = json_string_value(json_object_get(m, "op"));
    int ready = (int)json_integer_value(json_object_get(m, "ready"));
    if (!op || strcmp(op, "prewarmed") != 0 || ready < (int)count) {
        const char *d = json_string_value(json_object_get(m, "detail"));
        rc = err_set(e, -EIO, "prewarm: %d of %u ready: %s", ready, count, d ? d : "?");
    }
    json_decref(m);
    return rc;
}
