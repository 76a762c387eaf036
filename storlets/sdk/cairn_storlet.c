/*
 * cairn_storlet.c - the C SDK for storlets (see cairn_storlet.h and the ABI
 * in docs/storlets.md).
 *
 * Invariants: the output metadata frame is sent at most once and always
 * before the first byte written to fd 1 (meta_sent); after it, only an error
 * frame may follow on fd 3. Services requests are strictly one at a time:
 * a stream must be closed (its end frame consumed) before the next request,
 * so no reply ever has to be matched out of order.
 *
 * Memory: the invocation document is bounded by STORLET_DOC_MAX; input and
 * output are streamed through the caller's buffers (storlet_copy: the
 * kernel's pipes, or one static 64 KiB buffer).
 */
#include "cairn_storlet.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#define META_KEY_MAX 128
#define META_VALUE_MAX 256
#define META_COUNT_MAX 90
#define META_TOTAL_MAX 4096
#define INPUTS_MAX 8
#define COPY_SPLICE_MAX (1 << 20)   /* the engine's pipes hold 1 MiB */

struct storlet {
    json_t *doc;            /* the invocation document */
    json_t *params;         /* borrowed from doc */
    json_t *meta_out;       /* output metadata being built */
    char *content_type;
    size_t meta_total;      /* bytes of keys + values in meta_out */
    bool meta_sent;
    bool has_services;
    uint64_t next_id;
    int input_fd[INPUTS_MAX];
    FILE *input_file[INPUTS_MAX];
    unsigned ninputs;
    struct merge_state *merge;   /* storlet_merge_next's, made on first use */
};

/* Where a merge storlet is in the merge stream (section 2.3). */
struct merge_state {
    unsigned char seen[STORLET_MERGE_PARTS_MAX / 8 + 1];   /* indexes had */
    size_t count;          /* parts begun */
    size_t max_index;      /* highest index had */
    json_t *frame;         /* the current part's frame */
    uint32_t chunk_left;   /* bytes left of the current chunk */
    bool in_part;          /* inside a part: its zero chunk not read yet */
    bool ended;            /* the end frame was read and checked */
};

/* ------------------------------------------------------------ raw I/O */

static int write_all(int fd, const void *buf, size_t n)
{
    const char *p = buf;
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

static int read_all(int fd, void *buf, size_t n)
{
    char *p = buf;
    while (n > 0) {
        ssize_t r = read(fd, p, n);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        if (r == 0)
            return -EPIPE;
        p += r;
        n -= (size_t)r;
    }
    return 0;
}

/*
 * Reads exactly n bytes from a socket, collecting at most one passed fd
 * into *fd (extra ones are closed: the protocol never sends more).
 */
static int recv_all(int sock, void *buf, size_t n, int *fd)
{
    char *p = buf;
    while (n > 0) {
        union {
            struct cmsghdr h;
            char b[CMSG_SPACE(sizeof(int) * 4)];
        } cbuf;
        struct iovec iov = { .iov_base = p, .iov_len = n };
        struct msghdr msg = {
            .msg_iov = &iov, .msg_iovlen = 1,
            .msg_control = cbuf.b, .msg_controllen = sizeof(cbuf.b),
        };
        ssize_t r = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
            if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
                continue;
            size_t k = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
            for (size_t i = 0; i < k; i++) {
                int got;
                memcpy(&got, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
                if (fd && *fd < 0)
                    *fd = got;
                else
                    close(got);
            }
        }
        if (r == 0)
            return -EPIPE;
        p += r;
        n -= (size_t)r;
    }
    return 0;
}

/* One frame: 4-byte big-endian length, then that many bytes of JSON. */
static int frame_send(int fd, json_t *obj)
{
    char *body = json_dumps(obj, JSON_COMPACT);
    if (!body)
        return -ENOMEM;
    size_t len = strlen(body);
    int rc = -EMSGSIZE;
    if (len <= STORLET_FRAME_MAX) {
        unsigned char hdr[4] = {
            (unsigned char)(len >> 24), (unsigned char)(len >> 16),
            (unsigned char)(len >> 8), (unsigned char)len,
        };
        /* One write for header and body keeps a frame atomic on a socket. */
        size_t tot = 4 + len;
        char *all = malloc(tot);
        if (!all) {
            free(body);
            return -ENOMEM;
        }
        memcpy(all, hdr, 4);
        memcpy(all + 4, body, len);
        rc = write_all(fd, all, tot);
        free(all);
    }
    free(body);
    return rc;
}

/* Reads one frame into a new JSON object; sock: use recvmsg and take an fd. */
static int frame_recv(int fd, bool sock, size_t max, json_t **out, int *passed,
                      char *why, size_t whyn)
{
    unsigned char hdr[4];
    int rc = sock ? recv_all(fd, hdr, 4, passed) : read_all(fd, hdr, 4);
    if (rc < 0) {
        snprintf(why, whyn, "frame header: %s", strerror(-rc));
        return rc;
    }
    size_t len = (size_t)hdr[0] << 24 | (size_t)hdr[1] << 16 | (size_t)hdr[2] << 8 | hdr[3];
    if (len == 0 || len > max) {
        snprintf(why, whyn, "frame length %zu out of range (1..%zu)", len, max);
        return -EPROTO;
    }
    char *body = malloc(len);
    if (!body) {
        snprintf(why, whyn, "out of memory");
        return -ENOMEM;
    }
    rc = sock ? recv_all(fd, body, len, passed) : read_all(fd, body, len);
    if (rc < 0) {
        snprintf(why, whyn, "frame body: %s", strerror(-rc));
        free(body);
        return rc;
    }
    json_error_t je;
    json_t *j = json_loadb(body, len, JSON_REJECT_DUPLICATES, &je);
    free(body);
    if (!j || !json_is_object(j)) {
        snprintf(why, whyn, "frame is not a JSON object: %s", j ? "wrong type" : je.text);
        json_decref(j);
        return -EPROTO;
    }
    *out = j;
    return 0;
}

/* ------------------------------------------------------------ start */

static bool fd_open(int fd)
{
    return fcntl(fd, F_GETFD) != -1;
}

struct storlet *storlet_start(void)
{
    char why[256];
    /*
     * A reader of the output that goes away must show up as -EPIPE from
     * storlet_write(), not kill the storlet before it can log why.
     */
    signal(SIGPIPE, SIG_IGN);
    if (!fd_open(STORLET_FD_META))
        storlet_fail(NULL, STORLET_EXIT_PROTOCOL,
                     "no metadata channel on fd 3: not started by a storlet engine "
                     "(use cairn-storlet-run)");
    json_t *doc = NULL;
    int rc = frame_recv(STORLET_FD_META, false, STORLET_DOC_MAX, &doc, NULL, why, sizeof(why));
    if (rc < 0)
        storlet_fail(NULL, STORLET_EXIT_PROTOCOL, "invocation document: %s", why);
    const char *iv = json_string_value(json_object_get(doc, "interface_version"));
    if (!iv || strcmp(iv, STORLET_INTERFACE_VERSION) != 0)
        storlet_fail(NULL, STORLET_EXIT_PROTOCOL,
                     "invocation document: interface_version %s, this SDK speaks %s",
                     iv ? iv : "(missing)", STORLET_INTERFACE_VERSION);
    const char *t = json_string_value(json_object_get(doc, "type"));
    if (!t || strcmp(t, "invocation") != 0)
        storlet_fail(NULL, STORLET_EXIT_PROTOCOL, "invocation document: type is not \"invocation\"");

    struct storlet *s = calloc(1, sizeof(*s));
    if (!s)
        storlet_fail(NULL, STORLET_EXIT_FAILED, "out of memory");
    s->doc = doc;
    s->params = json_object_get(doc, "parameters");
    if (!json_is_object(s->params))
        storlet_fail(s, STORLET_EXIT_PROTOCOL, "invocation document: parameters is not an object");
    s->meta_out = json_object();
    s->next_id = 1;
    s->has_services = json_is_true(json_object_get(doc, "services")) &&
                      fd_open(STORLET_FD_SERVICES);

    json_t *inputs = json_object_get(doc, "inputs");
    if (!json_is_array(inputs) || json_array_size(inputs) == 0 ||
        json_array_size(inputs) > INPUTS_MAX)
        storlet_fail(s, STORLET_EXIT_PROTOCOL, "invocation document: inputs must list 1..%d inputs",
                     INPUTS_MAX);
    for (size_t i = 0; i < json_array_size(inputs); i++) {
        json_t *fdj = json_object_get(json_array_get(inputs, i), "fd");
        if (!json_is_integer(fdj) || json_integer_value(fdj) < 0 ||
            json_integer_value(fdj) > 1000)
            storlet_fail(s, STORLET_EXIT_PROTOCOL, "invocation document: inputs[%zu].fd invalid", i);
        s->input_fd[i] = (int)json_integer_value(fdj);
    }
    s->ninputs = (unsigned)json_array_size(inputs);
    return s;
}

/* ------------------------------------------------------------ facts */

const char *storlet_param(const struct storlet *s, const char *key)
{
    return json_string_value(json_object_get(s->params, key));
}

const char *storlet_param_or(const struct storlet *s, const char *key, const char *dflt)
{
    const char *v = storlet_param(s, key);
    return v ? v : dflt;
}

int storlet_param_u64(const struct storlet *s, const char *key, uint64_t dflt, uint64_t *out)
{
    const char *v = storlet_param(s, key);
    if (!v) {
        *out = dflt;
        return 0;
    }
    if (!*v || strlen(v) > 20)
        return -EINVAL;
    uint64_t x = 0;
    for (const char *p = v; *p; p++) {
        if (*p < '0' || *p > '9')
            return -EINVAL;
        unsigned d = (unsigned)(*p - '0');
        if (x > (UINT64_MAX - d) / 10)
            return -EINVAL;
        x = x * 10 + d;
    }
    *out = x;
    return 0;
}

int storlet_param_bool(const struct storlet *s, const char *key, bool dflt, bool *out)
{
    static const char *const yes[] = { "true", "yes", "1", "on" };
    static const char *const no[] = { "false", "no", "0", "off" };
    const char *v = storlet_param(s, key);
    if (!v) {
        *out = dflt;
        return 0;
    }
    for (size_t i = 0; i < 4; i++) {
        if (strcasecmp(v, yes[i]) == 0) {
            *out = true;
            return 0;
        }
        if (strcasecmp(v, no[i]) == 0) {
            *out = false;
            return 0;
        }
    }
    return -EINVAL;
}

const char *storlet_input_meta(const struct storlet *s, unsigned idx, const char *key)
{
    json_t *in = json_array_get(json_object_get(s->doc, "inputs"), idx);
    json_t *md = json_object_get(in, "metadata");
    const char *k;
    json_t *v;
    json_object_foreach(md, k, v) {
        if (strcasecmp(k, key) == 0)
            return json_string_value(v);
    }
    return NULL;
}

unsigned storlet_input_count(const struct storlet *s)
{
    return s->ninputs;
}

json_t *storlet_doc(const struct storlet *s)
{
    return s->doc;
}

const char *storlet_request(const struct storlet *s, const char *key)
{
    return json_string_value(json_object_get(json_object_get(s->doc, "request"), key));
}

/* ------------------------------------------------------------ input */

ssize_t storlet_read_input(struct storlet *s, unsigned idx, void *buf, size_t n)
{
    if (idx >= s->ninputs)
        return -EINVAL;
    for (;;) {
        ssize_t r = read(s->input_fd[idx], buf, n);
        if (r >= 0)
            return r;
        if (errno != EINTR)
            return -errno;
    }
}

ssize_t storlet_read(struct storlet *s, void *buf, size_t n)
{
    return storlet_read_input(s, 0, buf, n);
}

FILE *storlet_input_file(struct storlet *s, unsigned idx)
{
    if (idx >= s->ninputs) {
        errno = EINVAL;
        return NULL;
    }
    if (!s->input_file[idx])
        s->input_file[idx] = fdopen(s->input_fd[idx], "r");
    return s->input_file[idx];
}

void storlet_read_exact(struct storlet *s, void *buf, size_t n, const char *what)
{
    size_t got = 0;
    while (got < n) {
        ssize_t r = storlet_read(s, (char *)buf + got, n - got);
        if (r < 0)
            storlet_fail(s, STORLET_EXIT_FAILED, "read input: %s", strerror((int)-r));
        if (r == 0)
            storlet_fail(s, STORLET_EXIT_BAD_INPUT, "merge input ended early, in %s", what);
        got += (size_t)r;
    }
}

uint32_t storlet_read_u32(struct storlet *s, const char *what)
{
    unsigned char b[4];
    storlet_read_exact(s, b, 4, what);
    return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
}

json_t *storlet_merge_frame(struct storlet *s)
{
    uint32_t n = storlet_read_u32(s, "a frame length");
    if (n == 0 || n > STORLET_MERGE_FRAME_MAX)
        storlet_fail(s, STORLET_EXIT_BAD_INPUT, "merge input: frame length %u", n);
    char *buf = malloc(n);
    if (!buf)
        storlet_fail(s, STORLET_EXIT_FAILED, "out of memory");
    storlet_read_exact(s, buf, n, "a frame");
    json_error_t je;
    json_t *o = json_loadb(buf, n, JSON_REJECT_DUPLICATES, &je);
    free(buf);
    if (!json_is_object(o))
        storlet_fail(s, STORLET_EXIT_BAD_INPUT, "merge input: a frame is not a JSON object");
    return o;
}

static const char *merge_path(const struct merge_state *m)
{
    return json_string_value(json_object_get(m->frame, "path"));
}

size_t storlet_merge_read(struct storlet *s, void *buf, size_t n)
{
    struct merge_state *m = s->merge;
    if (!m || !m->in_part)
        return 0;
    while (m->chunk_left == 0) {
        uint32_t len = storlet_read_u32(s, "a chunk length");
        if (len == 0) {
            m->in_part = false;
            return 0;
        }
        if (len > STORLET_MERGE_FRAME_MAX)
            storlet_fail(s, STORLET_EXIT_BAD_INPUT, "part %s: chunk of %u bytes", merge_path(m),
                         len);
        m->chunk_left = len;
    }
    if (n > m->chunk_left)
        n = m->chunk_left;
    storlet_read_exact(s, buf, n, "a chunk");
    m->chunk_left -= (uint32_t)n;
    return n;
}

size_t storlet_merge_read_whole(struct storlet *s, void *buf, size_t cap)
{
    size_t len = 0;
    for (;;) {
        /* One byte of room past cap tells "more than cap" from "exactly". */
        char over;
        size_t r = len < cap ? storlet_merge_read(s, (char *)buf + len, cap - len)
                             : storlet_merge_read(s, &over, 1);
        if (r == 0)
            return len;
        if (len == cap)
            storlet_fail(s, STORLET_EXIT_BAD_INPUT, "part %s: more than %zu bytes",
                         merge_path(s->merge), cap);
        len += r;
    }
}

int storlet_merge_next(struct storlet *s, struct storlet_part *part)
{
    struct merge_state *m = s->merge;
    if (!m) {
        m = s->merge = calloc(1, sizeof(*m));
        if (!m)
            storlet_fail(s, STORLET_EXIT_FAILED, "out of memory");
    }
    if (m->ended)
        return 0;
    char skip[4096];
    while (storlet_merge_read(s, skip, sizeof(skip)) > 0)
        ;
    json_decref(m->frame);
    m->frame = storlet_merge_frame(s);
    const char *type = json_string_value(json_object_get(m->frame, "type"));
    if (type && strcmp(type, "end") == 0) {
        json_t *p = json_object_get(m->frame, "parts");
        if (!json_is_integer(p) || json_integer_value(p) < 0)
            storlet_fail(s, STORLET_EXIT_BAD_INPUT, "merge input: bad end frame");
        size_t parts = (size_t)json_integer_value(p);
        /* Distinct indexes (checked as they came), as many as said, all
         * below that number: exactly 0..parts-1. */
        if (m->count != parts || (parts && m->max_index >= parts))
            storlet_fail(s, STORLET_EXIT_BAD_INPUT,
                         "merge input: %zu parts, the end frame says %zu", m->count, parts);
        m->ended = true;
        return 0;
    }
    json_t *jidx = json_object_get(m->frame, "index");
    const char *path = json_string_value(json_object_get(m->frame, "path"));
    if (!type || strcmp(type, "part") != 0 || !json_is_integer(jidx) || !path ||
        json_integer_value(jidx) < 0 || json_integer_value(jidx) >= STORLET_MERGE_PARTS_MAX)
        storlet_fail(s, STORLET_EXIT_BAD_INPUT, "merge input: bad part frame");
    size_t idx = (size_t)json_integer_value(jidx);
    if (m->seen[idx / 8] & (1u << (idx % 8)))
        storlet_fail(s, STORLET_EXIT_BAD_INPUT, "merge input: part %zu (%s) twice", idx, path);
    m->seen[idx / 8] |= (unsigned char)(1u << (idx % 8));
    if (m->count == 0 || idx > m->max_index)
        m->max_index = idx;
    m->count++;
    m->in_part = true;
    m->chunk_left = 0;
    *part = (struct storlet_part){ .index = idx, .path = path, .frame = m->frame };
    return 1;
}

size_t storlet_merge_count(const struct storlet *s)
{
    return s->merge ? s->merge->count : 0;
}

/* ------------------------------------------------------------ output */

static bool meta_text_ok(const char *v, bool key)
{
    for (const unsigned char *p = (const unsigned char *)v; *p; p++) {
        if (*p < 0x20 || *p == 0x7f)
            return false;
        if (key && (*p == ':' || *p == ' ' || *p >= 0x80))
            return false;
    }
    return true;
}

int storlet_set_meta(struct storlet *s, const char *key, const char *value)
{
    if (s->meta_sent)
        return -EALREADY;
    size_t kl = strlen(key), vl = strlen(value);
    if (kl == 0 || kl > META_KEY_MAX || vl > META_VALUE_MAX || !meta_text_ok(key, true) ||
        !meta_text_ok(value, false))
        return -EINVAL;
    json_t *old = json_object_get(s->meta_out, key);
    size_t oldl = old ? kl + strlen(json_string_value(old)) : 0;
    size_t count = json_object_size(s->meta_out) + (old ? 0 : 1);
    if (count > META_COUNT_MAX || s->meta_total - oldl + kl + vl > META_TOTAL_MAX)
        return -E2BIG;
    json_t *v = json_string(value);
    if (!v)
        return -EINVAL; /* not UTF-8 */
    json_object_set_new(s->meta_out, key, v);
    s->meta_total = s->meta_total - oldl + kl + vl;
    return 0;
}

int storlet_set_content_type(struct storlet *s, const char *content_type)
{
    if (s->meta_sent)
        return -EALREADY;
    if (!*content_type || strlen(content_type) > META_VALUE_MAX ||
        !meta_text_ok(content_type, false))
        return -EINVAL;
    free(s->content_type);
    s->content_type = strdup(content_type);
    return s->content_type ? 0 : -ENOMEM;
}

int storlet_send_meta(struct storlet *s)
{
    if (s->meta_sent)
        return 0;
    json_t *f = json_pack("{s:s, s:O}", "type", "metadata", "metadata", s->meta_out);
    if (s->content_type)
        json_object_set_new(f, "content_type", json_string(s->content_type));
    int rc = frame_send(STORLET_FD_META, f);
    json_decref(f);
    s->meta_sent = true; /* even on failure: never try to send twice */
    return rc;
}

int storlet_write(struct storlet *s, const void *buf, size_t n)
{
    if (!s->meta_sent) {
        int rc = storlet_send_meta(s);
        if (rc < 0)
            return rc;
    }
    return write_all(STORLET_FD_OUTPUT, buf, n);
}

int64_t storlet_copy(struct storlet *s)
{
    int rc = storlet_send_meta(s);
    if (rc < 0)
        return rc;
    int64_t total = 0;
    struct stat st;
    bool spliced = fstat(STORLET_FD_OUTPUT, &st) == 0 && S_ISFIFO(st.st_mode);
    while (spliced) {
        ssize_t n = splice(STORLET_FD_INPUT, NULL, STORLET_FD_OUTPUT, NULL, COPY_SPLICE_MAX,
                           SPLICE_F_MOVE);
        if (n > 0) {
            total += n;
            continue;
        }
        if (n == 0)
            return total;
        if (errno == EINTR)
            continue;
        if (errno != EINVAL && errno != ENOSYS && errno != EPERM)
            return -errno;
        spliced = false;   /* moved nothing this time: read and write on */
    }
    static char buf[64 << 10];
    ssize_t n;
    while ((n = storlet_read(s, buf, sizeof(buf))) > 0) {
        rc = write_all(STORLET_FD_OUTPUT, buf, (size_t)n);
        if (rc < 0)
            return rc;
        total += n;
    }
    return n < 0 ? n : total;
}

int storlet_printf(struct storlet *s, const char *fmt, ...)
{
    char small[512];
    va_list ap;
    va_start(ap, fmt);
    int len = vsnprintf(small, sizeof(small), fmt, ap);
    va_end(ap);
    if (len < 0)
        return -EINVAL;
    if ((size_t)len < sizeof(small))
        return storlet_write(s, small, (size_t)len);
    char *big = malloc((size_t)len + 1);
    if (!big)
        return -ENOMEM;
    va_start(ap, fmt);
    vsnprintf(big, (size_t)len + 1, fmt, ap);
    va_end(ap);
    int rc = storlet_write(s, big, (size_t)len);
    free(big);
    return rc;
}

static void vlog(const char *prefix, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));
static void vlog(const char *prefix, const char *fmt, va_list ap)
{
    char line[1024];
    size_t off = (size_t)snprintf(line, sizeof(line), "%s", prefix);
    int k = vsnprintf(line + off, sizeof(line) - off - 1, fmt, ap);
    size_t len = off + (k < 0 ? 0 : (size_t)k);
    if (len > sizeof(line) - 2)
        len = sizeof(line) - 2;
    line[len++] = '\n';
    (void)write_all(STORLET_FD_LOG, line, len);
}

void storlet_log(struct storlet *s, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vlog("", fmt, ap);
    va_end(ap);
}

static void storlet_free(struct storlet *s)
{
    if (!s)
        return;
    for (unsigned i = 0; i < s->ninputs; i++)
        if (s->input_file[i])
            fclose(s->input_file[i]);
    if (s->merge)
        json_decref(s->merge->frame);
    free(s->merge);
    json_decref(s->meta_out);
    json_decref(s->doc);
    free(s->content_type);
    free(s);
}

int storlet_finish(struct storlet *s)
{
    int code = STORLET_EXIT_OK;
    int rc = storlet_send_meta(s);
    if (rc < 0) {
        storlet_log(s, "error: sending output metadata: %s", strerror(-rc));
        code = STORLET_EXIT_FAILED;
    }
    if (close(STORLET_FD_OUTPUT) == -1 && errno != EBADF) {
        storlet_log(s, "error: closing output: %s", strerror(errno));
        code = STORLET_EXIT_FAILED;
    }
    close(STORLET_FD_META);
    if (s->has_services)
        close(STORLET_FD_SERVICES);
    storlet_free(s);
    return code;
}

void storlet_fail(struct storlet *s, int code, const char *fmt, ...)
{
    char reason[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(reason, sizeof(reason), fmt, ap);
    va_end(ap);
    char line[600];
    snprintf(line, sizeof(line), "error: %s\n", reason);
    (void)write_all(STORLET_FD_LOG, line, strlen(line));
    json_t *f = json_pack("{s:s, s:s%}", "type", "error", "reason", reason, strlen(reason));
    if (f && fd_open(STORLET_FD_META))
        (void)frame_send(STORLET_FD_META, f);
    json_decref(f);
    storlet_free(s);
    _exit(code ? code : STORLET_EXIT_FAILED);
}

/* ------------------------------------------------------------ services */

bool storlet_has_services(const struct storlet *s)
{
    return s->has_services;
}

static int status_errno(json_int_t status)
{
    if (status == 404)
        return -ENOENT;
    if (status == 401 || status == 403)
        return -EACCES;
    if (status >= 400 && status < 500)
        return -EINVAL;
    return -EIO;
}

static int svc_call(struct storlet *s, json_t *req, struct storlet_stream *out,
                    char *reason, size_t n)
{
    char why[256];
    char dummy[1];
    if (!reason) {
        reason = dummy;
        n = sizeof(dummy);
    }
    out->fd = -1;
    out->reply = NULL;
    if (!s->has_services) {
        json_decref(req);
        snprintf(reason, n, "no services channel");
        return -ENOTCONN;
    }
    uint64_t id = s->next_id++;
    json_object_set_new(req, "id", json_integer((json_int_t)id));
    int rc = frame_send(STORLET_FD_SERVICES, req);
    json_decref(req);
    if (rc < 0) {
        snprintf(reason, n, "services request: %s", strerror(-rc));
        return -EIO;
    }
    json_t *rep = NULL;
    int fd = -1;
    rc = frame_recv(STORLET_FD_SERVICES, true, STORLET_DOC_MAX, &rep, &fd, why, sizeof(why));
    if (rc < 0) {
        snprintf(reason, n, "services reply: %s", why);
        if (fd >= 0)
            close(fd);
        return -EIO;
    }
    json_t *rid = json_object_get(rep, "id");
    json_t *st = json_object_get(rep, "status");
    if (!json_is_integer(rid) || (uint64_t)json_integer_value(rid) != id || !json_is_integer(st)) {
        snprintf(reason, n, "services reply: wrong id or no status");
        rc = -EPROTO;
        goto fail;
    }
    json_int_t status = json_integer_value(st);
    if (status < 200 || status > 299) {
        const char *r = json_string_value(json_object_get(rep, "reason"));
        snprintf(reason, n, "%d %s", (int)status, r ? r : "");
        rc = status_errno(status);
        goto fail;
    }
    if (fd < 0) {
        snprintf(reason, n, "services reply: success without a stream");
        rc = -EPROTO;
        goto fail;
    }
    out->fd = fd;
    out->id = id;
    out->reply = rep;
    return 0;
fail:
    if (fd >= 0)
        close(fd);
    json_decref(rep);
    return rc;
}

int storlet_open_object(struct storlet *s, const char *path, const char *range,
                        struct storlet_stream *out, char *reason, size_t n)
{
    json_t *req = json_pack("{s:s, s:s}", "op", "read", "path", path);
    if (!req)
        return -EINVAL;
    if (range)
        json_object_set_new(req, "range", json_string(range));
    return svc_call(s, req, out, reason, n);
}

int storlet_invoke(struct storlet *s, const char *name, const char *path, json_t *params,
                   struct storlet_stream *out, char *reason, size_t n)
{
    json_t *req = json_pack("{s:s, s:s, s:s}", "op", "invoke", "storlet", name, "path", path);
    if (!req)
        return -EINVAL;
    json_object_set_new(req, "parameters", params ? json_incref(params) : json_object());
    return svc_call(s, req, out, reason, n);
}

ssize_t storlet_stream_read(struct storlet_stream *st, void *buf, size_t n)
{
    for (;;) {
        ssize_t r = read(st->fd, buf, n);
        if (r >= 0)
            return r;
        if (errno != EINTR)
            return -errno;
    }
}

int storlet_stream_close(struct storlet *s, struct storlet_stream *st)
{
    char why[256];
    if (st->fd >= 0)
        close(st->fd);
    st->fd = -1;
    json_decref(st->reply);
    st->reply = NULL;
    json_t *end = NULL;
    int fd = -1;
    int rc = frame_recv(STORLET_FD_SERVICES, true, STORLET_FRAME_MAX, &end, &fd, why, sizeof(why));
    if (fd >= 0)
        close(fd);
    if (rc < 0) {
        storlet_log(s, "services end frame: %s", why);
        return -EPROTO;
    }
    json_t *rid = json_object_get(end, "id");
    const char *t = json_string_value(json_object_get(end, "type"));
    if (!json_is_integer(rid) || (uint64_t)json_integer_value(rid) != st->id || !t ||
        strcmp(t, "end") != 0) {
        json_decref(end);
        return -EPROTO;
    }
    rc = json_is_true(json_object_get(end, "ok")) ? 0 : -EIO;
    json_decref(end);
    return rc;
}
