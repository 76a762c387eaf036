/*
 * check_storlet_sdk.c - unit tests for the storlet C SDK
 * (storlets/sdk/cairn_storlet.h) against the ABI of docs/storlets.md.
 *
 * Each case forks a "storlet" child whose fds 0-4 are pipes and sockets
 * held by the test, which plays the engine: it writes the invocation
 * document, reads the frames and output back, and answers services
 * requests. The child reports by its exit status (the SDK's own exits:
 * 70 for a bad document, the code given to storlet_fail). Check's own
 * descriptors are never touched: only the grandchild moves fds.
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#include "storlets/sdk/cairn_storlet.h"

struct kid {
    pid_t pid;
    int meta;     /* our end of fd 3 */
    int svc;      /* our end of fd 4 */
    int out;      /* read end of fd 1 */
    int log;      /* read end of fd 2 */
};

typedef int storlet_body_fn(void);

static void frame_write(int fd, const char *json, size_t len)
{
    unsigned char h[4] = { (unsigned char)(len >> 24), (unsigned char)(len >> 16),
                           (unsigned char)(len >> 8), (unsigned char)len };
    ck_assert_int_eq(write(fd, h, 4), 4);
    if (len)
        ck_assert_int_eq(write(fd, json, len), (ssize_t)len);
}

static void frame_write_fd(int sock, const char *json, int fd)
{
    size_t len = strlen(json);
    char *buf = malloc(len + 4);
    buf[0] = (char)(len >> 24);
    buf[1] = (char)(len >> 16);
    buf[2] = (char)(len >> 8);
    buf[3] = (char)len;
    memcpy(buf + 4, json, len);
    union {
        struct cmsghdr h;
        char b[CMSG_SPACE(sizeof(int))];
    } c;
    memset(&c, 0, sizeof(c));
    struct iovec iov = { .iov_base = buf, .iov_len = len + 4 };
    struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1 };
    if (fd >= 0) {
        m.msg_control = c.b;
        m.msg_controllen = sizeof(c.b);
        struct cmsghdr *h = CMSG_FIRSTHDR(&m);
        h->cmsg_level = SOL_SOCKET;
        h->cmsg_type = SCM_RIGHTS;
        h->cmsg_len = CMSG_LEN(sizeof(int));
        memcpy(CMSG_DATA(h), &fd, sizeof(int));
    }
    ck_assert_int_eq(sendmsg(sock, &m, 0), (ssize_t)(len + 4));
    free(buf);
}

static int read_full(int fd, void *buf, size_t n)
{
    size_t got = 0;
    while (got < n) {
        ssize_t r = read(fd, (char *)buf + got, n - got);
        if (r <= 0)
            return -1;
        got += (size_t)r;
    }
    return 0;
}

/* Next frame from fd, as a new JSON object, or NULL at end of file. */
static json_t *frame_read(int fd)
{
    unsigned char h[4];
    if (read_full(fd, h, 4) < 0)
        return NULL;
    size_t len = (size_t)h[0] << 24 | (size_t)h[1] << 16 | (size_t)h[2] << 8 | h[3];
    ck_assert(len > 0 && len <= 65536);
    char *b = malloc(len);
    ck_assert_int_eq(read_full(fd, b, len), 0);
    json_t *j = json_loadb(b, len, 0, NULL);
    free(b);
    ck_assert_ptr_nonnull(j);
    return j;
}

static char *slurp(int fd)
{
    size_t cap = 4096, len = 0;
    char *b = malloc(cap);
    ssize_t r;
    while ((r = read(fd, b + len, cap - len - 1)) > 0) {
        len += (size_t)r;
        if (cap - len < 2)
            b = realloc(b, cap *= 2);
    }
    b[len] = '\0';
    return b;
}

/* A storlet child whose input (fd 0) is in[0..inlen) then end of file. */
static struct kid spawn_input(storlet_body_fn *body, bool services, const void *input,
                              size_t inlen)
{
    int in[2], out[2], log[2], meta[2], svc[2] = { -1, -1 };
    ck_assert_int_eq(pipe(in), 0);
    ck_assert_int_eq(pipe(out), 0);
    ck_assert_int_eq(pipe(log), 0);
    ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, meta), 0);
    if (services)
        ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, svc), 0);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        int want[5] = { in[0], out[1], log[1], meta[1], svc[1] };
        int hi[5];
        for (int i = 0; i < 5; i++)
            hi[i] = want[i] >= 0 ? fcntl(want[i], F_DUPFD, 100) : -1;
        for (int i = 0; i < 5; i++) {
            if (hi[i] >= 0)
                dup2(hi[i], i);
            else
                close(i);
        }
        for (int fd = 5; fd < 1024; fd++)
            close(fd);
        _exit(body());
    }
    close(in[0]);
    if (inlen)
        ck_assert_int_eq(write(in[1], input, inlen), (ssize_t)inlen);
    close(in[1]);
    close(out[1]);
    close(log[1]);
    close(meta[1]);
    if (services)
        close(svc[1]);
    return (struct kid){ pid, meta[0], svc[0], out[0], log[0] };
}

static struct kid spawn(storlet_body_fn *body, bool services)
{
    return spawn_input(body, services, NULL, 0);
}

static int reap(struct kid *k)
{
    int st = 0;
    ck_assert_int_eq(waitpid(k->pid, &st, 0), k->pid);
    close(k->meta);
    if (k->svc >= 0)
        close(k->svc);
    close(k->out);
    close(k->log);
    ck_assert(WIFEXITED(st));
    return WEXITSTATUS(st);
}

static const char DOC[] =
    "{\"type\":\"invocation\",\"interface_version\":\"1.0\","
    "\"parameters\":{\"a\":\"1\",\"max\":\"18446744073709551615\","
    "\"over\":\"18446744073709551616\",\"neg\":\"-1\",\"b\":\"Yes\",\"c\":\"off\",\"d\":\"maybe\"},"
    "\"request\":{\"method\":\"GET\",\"object\":\"o\"},"
    "\"inputs\":[{\"fd\":0,\"metadata\":{\"Color\":\"blue\"}}],\"services\":true}";

static void send_doc(struct kid *k)
{
    frame_write(k->meta, DOC, strlen(DOC));
}

/* ------------------------------------------------------------ facts */

static int body_facts(void)
{
    struct storlet *s = storlet_start();
    uint64_t u;
    bool b;
    if (strcmp(storlet_param(s, "a"), "1") != 0 || storlet_param(s, "zz") ||
        strcmp(storlet_param_or(s, "zz", "d"), "d") != 0)
        return 10;
    if (storlet_param_u64(s, "max", 0, &u) != 0 || u != UINT64_MAX)
        return 11;
    if (storlet_param_u64(s, "over", 0, &u) != -EINVAL || storlet_param_u64(s, "neg", 0, &u) != -EINVAL)
        return 12;
    if (storlet_param_u64(s, "absent", 7, &u) != 0 || u != 7)
        return 13;
    if (storlet_param_bool(s, "b", false, &b) != 0 || !b || storlet_param_bool(s, "c", true, &b) != 0 ||
        b || storlet_param_bool(s, "d", false, &b) != -EINVAL)
        return 14;
    if (strcmp(storlet_input_meta(s, 0, "color"), "blue") != 0 || storlet_input_meta(s, 1, "color"))
        return 15;
    if (strcmp(storlet_request(s, "method"), "GET") != 0 || storlet_input_count(s) != 1)
        return 16;
    char buf[8];
    if (storlet_read(s, buf, sizeof(buf)) != 0 || storlet_read_input(s, 3, buf, 1) != -EINVAL)
        return 17;
    return storlet_finish(s);
}

START_TEST(start_reads_document_and_parameters)
{
    struct kid k = spawn(body_facts, false);
    send_doc(&k);
    json_t *m = frame_read(k.meta);
    ck_assert_str_eq(json_string_value(json_object_get(m, "type")), "metadata");
    json_decref(m);
    ck_assert_int_eq(reap(&k), 0);
}
END_TEST

/* ------------------------------------------------------------ bad documents */

static int body_start_only(void)
{
    storlet_start();
    return 0;
}

START_TEST(bad_documents_exit_70_with_an_error_frame)
{
    static const char *const bad[] = {
        "[1,2]", "{\"type\":\"invocation\"}", "not json",
        "{\"type\":\"invocation\",\"interface_version\":\"2.0\",\"parameters\":{},\"inputs\":[{\"fd\":0}]}",
        "{\"type\":\"x\",\"interface_version\":\"1.0\",\"parameters\":{},\"inputs\":[{\"fd\":0}]}",
        "{\"type\":\"invocation\",\"interface_version\":\"1.0\",\"parameters\":[],\"inputs\":[{\"fd\":0}]}",
        "{\"type\":\"invocation\",\"interface_version\":\"1.0\",\"parameters\":{},\"inputs\":[]}",
        "{\"type\":\"invocation\",\"interface_version\":\"1.0\",\"parameters\":{},\"inputs\":[{\"fd\":-1}]}",
        "{\"a\":1,\"a\":2}",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct kid k = spawn(body_start_only, false);
        frame_write(k.meta, bad[i], strlen(bad[i]));
        json_t *e = frame_read(k.meta);
        ck_assert_msg(e != NULL, "case %zu: no error frame", i);
        ck_assert_str_eq(json_string_value(json_object_get(e, "type")), "error");
        json_decref(e);
        char *log = slurp(k.log);
        ck_assert_msg(strstr(log, "error: invocation document") != NULL, "case %zu log: %s", i, log);
        free(log);
        ck_assert_int_eq(reap(&k), STORLET_EXIT_PROTOCOL);
    }
    /* a zero length, and a length over the 1 MiB limit */
    struct kid k = spawn(body_start_only, false);
    frame_write(k.meta, NULL, 0);
    ck_assert_int_eq(reap(&k), STORLET_EXIT_PROTOCOL);
    k = spawn(body_start_only, false);
    unsigned char h[4] = { 0, 0x10, 0, 1 };
    ck_assert_int_eq(write(k.meta, h, 4), 4);
    ck_assert_int_eq(reap(&k), STORLET_EXIT_PROTOCOL);
    /* the engine closes fd 3 before the document is whole */
    k = spawn(body_start_only, false);
    unsigned char h2[4] = { 0, 0, 0, 50 };
    ck_assert_int_eq(write(k.meta, h2, 4), 4);
    shutdown(k.meta, SHUT_WR);
    ck_assert_int_eq(reap(&k), STORLET_EXIT_PROTOCOL);
}
END_TEST

/* ------------------------------------------------------------ metadata */

static int body_meta_limits(void)
{
    struct storlet *s = storlet_start();
    char key[200], val[300];
    if (storlet_set_meta(s, "", "x") != -EINVAL || storlet_set_meta(s, "a:b", "x") != -EINVAL ||
        storlet_set_meta(s, "a b", "x") != -EINVAL || storlet_set_meta(s, "k", "x\ny") != -EINVAL)
        return 10;
    memset(key, 'k', 129);
    key[129] = '\0';
    if (storlet_set_meta(s, key, "x") != -EINVAL)
        return 11;
    key[128] = '\0';
    if (storlet_set_meta(s, key, "x") != 0)
        return 12;
    memset(val, 'v', 257);
    val[257] = '\0';
    if (storlet_set_meta(s, "V", val) != -EINVAL)
        return 13;
    /* 4096 bytes of keys and values in all: 128 + 1 so far */
    val[256] = '\0';
    int i;
    for (i = 0; i < 15; i++) {   /* 15 * (2 + 256) = 3870, total 3999 */
        snprintf(key, sizeof(key), "%02d", i);
        if (storlet_set_meta(s, key, val) != 0)
            return 14;
    }
    val[100] = '\0';
    if (storlet_set_meta(s, "big", val) != -E2BIG)   /* 3999 + 103 > 4096 */
        return 15;
    val[90] = '\0';
    if (storlet_set_meta(s, "ok", val) != 0)   /* 3999 + 92 = 4091 */
        return 16;
    if (storlet_set_meta(s, "ok", "short") != 0)   /* replacing does not count twice */
        return 17;
    if (storlet_set_content_type(s, "text/plain") != 0)
        return 18;
    if (storlet_write(s, "abc", 3) != 0 || storlet_write(s, "def", 3) != 0)
        return 19;
    if (storlet_set_meta(s, "late", "x") != -EALREADY ||
        storlet_set_content_type(s, "text/html") != -EALREADY)
        return 20;
    return storlet_finish(s);
}

START_TEST(metadata_limits_and_one_frame_before_output)
{
    struct kid k = spawn(body_meta_limits, false);
    send_doc(&k);
    json_t *m = frame_read(k.meta);
    ck_assert_ptr_nonnull(m);
    ck_assert_str_eq(json_string_value(json_object_get(m, "type")), "metadata");
    ck_assert_str_eq(json_string_value(json_object_get(m, "content_type")), "text/plain");
    json_t *md = json_object_get(m, "metadata");
    ck_assert_uint_eq(json_object_size(md), 17);
    ck_assert_str_eq(json_string_value(json_object_get(md, "ok")), "short");
    json_decref(m);
    ck_assert_ptr_null(frame_read(k.meta));   /* exactly one frame */
    char *out = slurp(k.out);
    ck_assert_str_eq(out, "abcdef");
    free(out);
    ck_assert_int_eq(reap(&k), 0);
}
END_TEST

/* storlet_copy after a plain read: the rest of fd 0, spliced into fd 1 */
#define COPY_LEN 40000

static int body_copy(void)
{
    struct storlet *s = storlet_start();
    char head[3];
    if (storlet_read(s, head, sizeof(head)) != 3 || storlet_write(s, head, 3) != 0)
        return 10;
    if (storlet_copy(s) != COPY_LEN - 3)
        return 11;
    if (storlet_copy(s) != 0)   /* at the end: nothing more */
        return 12;
    return storlet_finish(s);
}

START_TEST(copy_moves_the_rest_of_the_input_after_the_metadata)
{
    char *in = malloc(COPY_LEN);
    for (size_t i = 0; i < COPY_LEN; i++)
        in[i] = (char)(i * 7 + i / 251);
    struct kid k = spawn_input(body_copy, false, in, COPY_LEN);
    send_doc(&k);
    json_t *m = frame_read(k.meta);
    ck_assert_ptr_nonnull(m);
    ck_assert_str_eq(json_string_value(json_object_get(m, "type")), "metadata");
    json_decref(m);
    size_t len = 0;
    char *out = malloc(COPY_LEN + 1);
    ssize_t r;
    while (len <= COPY_LEN && (r = read(k.out, out + len, COPY_LEN + 1 - len)) > 0)
        len += (size_t)r;
    ck_assert_uint_eq(len, COPY_LEN);
    ck_assert(memcmp(in, out, COPY_LEN) == 0);
    free(out);
    free(in);
    ck_assert_int_eq(reap(&k), 0);
}
END_TEST

static int body_meta_count(void)
{
    struct storlet *s = storlet_start();
    char key[16];
    for (int i = 0; i < 90; i++) {
        snprintf(key, sizeof(key), "k%d", i);
        if (storlet_set_meta(s, key, "v") != 0)
            return 10;
    }
    if (storlet_set_meta(s, "one-more", "v") != -E2BIG)
        return 11;
    return storlet_finish(s);
}

START_TEST(metadata_at_most_90_keys)
{
    struct kid k = spawn(body_meta_count, false);
    send_doc(&k);
    json_decref(frame_read(k.meta));
    ck_assert_int_eq(reap(&k), 0);
}
END_TEST

/* ------------------------------------------------------------ failure */

static int body_fail(void)
{
    struct storlet *s = storlet_start();
    storlet_fail(s, STORLET_EXIT_BAD_PARAM, "width=%s: not a number", "abc");
}

START_TEST(fail_logs_sends_error_frame_and_exits_with_code)
{
    struct kid k = spawn(body_fail, false);
    send_doc(&k);
    json_t *e = frame_read(k.meta);
    ck_assert_str_eq(json_string_value(json_object_get(e, "type")), "error");
    ck_assert_str_eq(json_string_value(json_object_get(e, "reason")), "width=abc: not a number");
    json_decref(e);
    char *log = slurp(k.log);
    ck_assert_str_eq(log, "error: width=abc: not a number\n");
    free(log);
    ck_assert_int_eq(reap(&k), STORLET_EXIT_BAD_PARAM);
}
END_TEST

/* ------------------------------------------------------------ services */

static int body_services(void)
{
    struct storlet *s = storlet_start();
    if (!storlet_has_services(s))
        return 10;
    struct storlet_stream st;
    char why[128], buf[64];
    if (storlet_open_object(s, "c/o", "bytes=0-4", &st, why, sizeof(why)) != 0)
        return 11;
    ssize_t n = storlet_stream_read(&st, buf, sizeof(buf));
    if (n != 5 || memcmp(buf, "hello", 5) != 0 || storlet_stream_read(&st, buf, 1) != 0)
        return 12;
    if (json_integer_value(json_object_get(st.reply, "content_length")) != 5)
        return 13;
    if (storlet_stream_close(s, &st) != 0)
        return 14;
    if (storlet_open_object(s, "c/missing", NULL, &st, why, sizeof(why)) != -ENOENT ||
        strcmp(why, "404 Not Found") != 0)
        return 15;
    json_t *params = json_pack("{s:s}", "k", "v");
    if (storlet_invoke(s, "other", "c/o", params, &st, why, sizeof(why)) != 0)
        return 16;
    json_decref(params);
    while (storlet_stream_read(&st, buf, sizeof(buf)) > 0)
        ;
    if (storlet_stream_close(s, &st) != -EIO)   /* the engine says it ended short */
        return 17;
    if (storlet_open_object(s, "c/o", NULL, &st, why, sizeof(why)) != -EACCES)
        return 18;
    return storlet_finish(s);
}

START_TEST(services_requests_replies_streams_and_end_frames)
{
    struct kid k = spawn(body_services, true);
    send_doc(&k);
    /* 1: read with a range, a stream, a good end */
    json_t *r = frame_read(k.svc);
    ck_assert_str_eq(json_string_value(json_object_get(r, "op")), "read");
    ck_assert_str_eq(json_string_value(json_object_get(r, "path")), "c/o");
    ck_assert_str_eq(json_string_value(json_object_get(r, "range")), "bytes=0-4");
    ck_assert_int_eq(json_integer_value(json_object_get(r, "id")), 1);
    json_decref(r);
    int p[2];
    ck_assert_int_eq(pipe(p), 0);
    frame_write_fd(k.svc, "{\"type\":\"reply\",\"id\":1,\"status\":200,\"content_length\":5}", p[0]);
    close(p[0]);
    ck_assert_int_eq(write(p[1], "hello", 5), 5);
    close(p[1]);
    frame_write_fd(k.svc, "{\"type\":\"end\",\"id\":1,\"ok\":true,\"bytes\":5}", -1);
    /* 2: 404, no stream */
    r = frame_read(k.svc);
    ck_assert_int_eq(json_integer_value(json_object_get(r, "id")), 2);
    ck_assert_ptr_null(json_object_get(r, "range"));
    json_decref(r);
    frame_write_fd(k.svc, "{\"type\":\"reply\",\"id\":2,\"status\":404,\"reason\":\"Not Found\"}", -1);
    /* 3: invoke, a stream that ends short */
    r = frame_read(k.svc);
    ck_assert_str_eq(json_string_value(json_object_get(r, "op")), "invoke");
    ck_assert_str_eq(json_string_value(json_object_get(r, "storlet")), "other");
    ck_assert_str_eq(json_string_value(json_object_get(json_object_get(r, "parameters"), "k")), "v");
    json_decref(r);
    ck_assert_int_eq(pipe(p), 0);
    frame_write_fd(k.svc, "{\"type\":\"reply\",\"id\":3,\"status\":200,\"metadata\":{}}", p[0]);
    close(p[0]);
    ck_assert_int_eq(write(p[1], "part", 4), 4);
    close(p[1]);
    frame_write_fd(k.svc, "{\"type\":\"end\",\"id\":3,\"ok\":false,\"reason\":\"storlet failed\"}", -1);
    /* 4: forbidden */
    json_decref(frame_read(k.svc));
    frame_write_fd(k.svc, "{\"type\":\"reply\",\"id\":4,\"status\":403,\"reason\":\"Forbidden\"}", -1);
    json_decref(frame_read(k.meta));
    ck_assert_int_eq(reap(&k), 0);
}
END_TEST

/* ------------------------------------------------------------ merge stream */

/* A merge stream being built: part frames, chunks, zero, end. */
struct mstream {
    unsigned char b[8192];
    size_t len;
};

static void ms_u32(struct mstream *m, uint32_t n)
{
    ck_assert(m->len + 4 <= sizeof(m->b));
    m->b[m->len++] = (unsigned char)(n >> 24);
    m->b[m->len++] = (unsigned char)(n >> 16);
    m->b[m->len++] = (unsigned char)(n >> 8);
    m->b[m->len++] = (unsigned char)n;
}

static void ms_bytes(struct mstream *m, const char *p, size_t n)
{
    ck_assert(m->len + n <= sizeof(m->b));
    memcpy(m->b + m->len, p, n);
    m->len += n;
}

static void ms_frame(struct mstream *m, const char *json)
{
    ms_u32(m, (uint32_t)strlen(json));
    ms_bytes(m, json, strlen(json));
}

/* A part with index idx, path "c/o<idx>", and body split in chunks of 2. */
static void ms_part(struct mstream *m, unsigned idx, const char *body)
{
    char f[128];
    snprintf(f, sizeof(f), "{\"type\":\"part\",\"index\":%u,\"path\":\"c/o%u\",\"metadata\":{}}",
             idx, idx);
    ms_frame(m, f);
    for (size_t i = 0; i < strlen(body); i += 2) {
        size_t n = strlen(body) - i < 2 ? strlen(body) - i : 2;
        ms_u32(m, (uint32_t)n);
        ms_bytes(m, body + i, n);
    }
    ms_u32(m, 0);
}

static void ms_end(struct mstream *m, unsigned parts)
{
    char f[64];
    snprintf(f, sizeof(f), "{\"type\":\"end\",\"parts\":%u}", parts);
    ms_frame(m, f);
}

/* Writes "<index> <path> <bytes>\n" per part, reading 3 bytes at a time,
 * but only the first byte of index 1's part (the rest must be skipped);
 * then "count <n>". */
static int body_merge(void)
{
    struct storlet *s = storlet_start();
    struct storlet_part p;
    while (storlet_merge_next(s, &p)) {
        char buf[64];
        size_t len = 0, r;
        if (p.index == 1) {
            len = storlet_merge_read(s, buf, 1);
        } else {
            while ((r = storlet_merge_read(s, buf + len, 3)) > 0)
                len += r;
        }
        if (!json_is_object(json_object_get(p.frame, "metadata")))
            return 20;
        storlet_printf(s, "%zu %s %.*s\n", p.index, p.path, (int)len, buf);
    }
    if (storlet_merge_next(s, &p) != 0)
        return 21;
    storlet_printf(s, "count %zu\n", storlet_merge_count(s));
    return storlet_finish(s);
}

/* Runs body over the stream m; returns its output, sets its exit code and
 * the reason of its error frame (NULL if none). */
static char *run_merge(const struct mstream *m, storlet_body_fn *body, int *code, char **reason)
{
    struct kid k = spawn_input(body, false, m->b, m->len);
    send_doc(&k);
    char *out = slurp(k.out);
    *reason = NULL;
    json_t *f;
    while ((f = frame_read(k.meta)) != NULL) {
        const char *r = json_string_value(json_object_get(f, "reason"));
        if (r && !*reason)
            *reason = strdup(r);
        json_decref(f);
    }
    *code = reap(&k);
    return out;
}

START_TEST(merge_parts_in_any_order_with_partial_reads_skipped)
{
    struct mstream m = { .len = 0 };
    ms_part(&m, 2, "three");
    ms_part(&m, 0, "");
    ms_part(&m, 1, "skipped mostly");
    ms_end(&m, 3);
    int code;
    char *reason;
    char *out = run_merge(&m, body_merge, &code, &reason);
    ck_assert_msg(code == 0, "exit %d: %s", code, reason ? reason : "");
    ck_assert_str_eq(out, "2 c/o2 three\n0 c/o0 \n1 c/o1 s\ncount 3\n");
    free(out);
    free(reason);
    /* no parts at all */
    m.len = 0;
    ms_end(&m, 0);
    out = run_merge(&m, body_merge, &code, &reason);
    ck_assert_int_eq(code, 0);
    ck_assert_str_eq(out, "count 0\n");
    free(out);
    free(reason);
}
END_TEST

static int body_merge_whole(void)
{
    struct storlet *s = storlet_start();
    struct storlet_part p;
    char buf[4];
    while (storlet_merge_next(s, &p))
        storlet_printf(s, "%zu:%.*s\n", p.index, (int)storlet_merge_read_whole(s, buf, 4), buf);
    return storlet_finish(s);
}

START_TEST(merge_refuses_every_stream_that_is_not_whole)
{
    static const struct {
        const char *what, *reason;
    } cases[] = {
        { "a part twice", "merge input: part 0 (c/o0) twice" },
        { "a part missing", "merge input: 1 parts, the end frame says 2" },
        { "an index beyond the end frame", "merge input: 2 parts, the end frame says 2" },
        { "more parts than said", "merge input: 2 parts, the end frame says 1" },
        { "cut in a chunk", "merge input ended early, in a chunk" },
        { "cut before the end frame", "merge input ended early, in a frame length" },
        { "a part frame without a path", "merge input: bad part frame" },
        { "an index over the limit", "merge input: bad part frame" },
        { "a bad end frame", "merge input: bad end frame" },
        { "a part over the cap", "part c/o0: more than 4 bytes" },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct mstream m = { .len = 0 };
        switch (i) {
        case 0: ms_part(&m, 0, "a"); ms_part(&m, 0, "b"); ms_end(&m, 2); break;
        case 1: ms_part(&m, 1, "a"); ms_end(&m, 2); break;
        case 2: ms_part(&m, 0, "a"); ms_part(&m, 2, "b"); ms_end(&m, 2); break;
        case 3: ms_part(&m, 0, "a"); ms_part(&m, 1, "b"); ms_end(&m, 1); break;
        case 4: ms_part(&m, 0, "abcd"); m.len -= 5; break;
        case 5: ms_part(&m, 0, "a"); break;
        case 6: ms_frame(&m, "{\"type\":\"part\",\"index\":0}"); ms_end(&m, 1); break;
        case 7: ms_part(&m, 100000, "a"); ms_end(&m, 1); break;
        case 8: ms_frame(&m, "{\"type\":\"end\",\"parts\":-1}"); break;
        case 9: ms_part(&m, 0, "abcde"); ms_end(&m, 1); break;
        }
        int code;
        char *reason;
        char *out = run_merge(&m, body_merge_whole, &code, &reason);
        ck_assert_msg(code == STORLET_EXIT_BAD_INPUT, "%s: exit %d", cases[i].what, code);
        ck_assert_msg(reason && strcmp(reason, cases[i].reason) == 0, "%s: reason %s",
                      cases[i].what, reason ? reason : "(none)");
        free(out);
        free(reason);
    }
    /* exactly the cap is fine */
    struct mstream m = { .len = 0 };
    ms_part(&m, 0, "abcd");
    ms_end(&m, 1);
    int code;
    char *reason;
    char *out = run_merge(&m, body_merge_whole, &code, &reason);
    ck_assert_int_eq(code, 0);
    ck_assert_str_eq(out, "0:abcd\n");
    free(out);
    free(reason);
}
END_TEST

/* ------------------------------------------------------------ PNM header */

/* Prints "<kind> <w>x<h> <maxval> <channels> <bps> <first sample byte>". */
static int body_pnm(void)
{
    struct storlet *s = storlet_start();
    FILE *in = storlet_input_file(s, 0);
    struct storlet_pnm img;
    storlet_pnm_header(s, in, &img);
    storlet_printf(s, "%d %llux%llu %llu %u %u %d", img.kind, (unsigned long long)img.width,
                   (unsigned long long)img.height, (unsigned long long)img.maxval,
                   img.channels, img.bytes_per_sample, getc(in));
    return storlet_finish(s);
}

START_TEST(pnm_header_reads_up_to_the_first_sample_or_says_what_is_wrong)
{
    static const struct {
        const char *in, *out, *reason;
    } cases[] = {
        { "P5\n3 2\n255\nA", "5 3x2 255 1 1 65", NULL },
        { "P6 # rgb\n# two lines\n1\t1 # size\n65535\rZ", "6 1x1 65535 3 2 90", NULL },
        { "P5\n3 2\n255\n\n", "5 3x2 255 1 1 10", NULL },   /* one whitespace only */
        { "P4\n3 2\n", NULL, "not a binary PGM/PPM image (P5 or P6 expected)" },
        { "P5\n3", NULL, "not a PNM image: the header ends early" },
        { "P5\nx 2\n255\n", NULL, "not a PNM image: the width is not a number" },
        { "P5\n3 2\n255x", NULL, "not a PNM image: junk after the maxval" },
        { "P5\n0 2\n255\n", NULL, "PNM image of size 0x2" },
        { "P5\n3 2\n65536\n", NULL, "PNM maxval 65536 not in 1..65535" },
        { "P5\n3 2000000001\n1\n", NULL, "PNM height too large" },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct mstream m = { .len = 0 };
        ms_bytes(&m, cases[i].in, strlen(cases[i].in));
        int code;
        char *reason;
        char *out = run_merge(&m, body_pnm, &code, &reason);
        if (cases[i].out) {
            ck_assert_msg(code == 0, "case %zu: exit %d %s", i, code, reason ? reason : "");
            ck_assert_str_eq(out, cases[i].out);
        } else {
            ck_assert_msg(code == STORLET_EXIT_BAD_INPUT, "case %zu: exit %d", i, code);
            ck_assert_msg(reason && strcmp(reason, cases[i].reason) == 0, "case %zu: %s", i,
                          reason ? reason : "(none)");
        }
        free(out);
        free(reason);
    }
}
END_TEST

static Suite *sdk_suite(void)
{
    Suite *s = suite_create("storlet_sdk");
    TCase *tc = tcase_create("document");
    tcase_add_test(tc, start_reads_document_and_parameters);
    tcase_add_test(tc, bad_documents_exit_70_with_an_error_frame);
    suite_add_tcase(s, tc);
    tc = tcase_create("output");
    tcase_add_test(tc, metadata_limits_and_one_frame_before_output);
    tcase_add_test(tc, metadata_at_most_90_keys);
    tcase_add_test(tc, copy_moves_the_rest_of_the_input_after_the_metadata);
    tcase_add_test(tc, fail_logs_sends_error_frame_and_exits_with_code);
    suite_add_tcase(s, tc);
    tc = tcase_create("services");
    tcase_add_test(tc, services_requests_replies_streams_and_end_frames);
    suite_add_tcase(s, tc);
    tc = tcase_create("merge");
    tcase_add_test(tc, merge_parts_in_any_order_with_partial_reads_skipped);
    tcase_add_test(tc, merge_refuses_every_stream_that_is_not_whole);
    suite_add_tcase(s, tc);
    tc = tcase_create("pnm");
    tcase_add_test(tc, pnm_header_reads_up_to_the_first_sample_or_says_what_is_wrong);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    SRunner *sr = srunner_create(sdk_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
