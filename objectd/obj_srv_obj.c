/*
 * obj_srv_obj.c - the object role of cairn-objectd: PUT, GET, HEAD, DELETE
 * and POST on /<dev>/<part>/<account>/<container>/<object>, answering as
 * Swift's object server does (docs/backend-api.md).
 *
 * Every disk access is a job on the disk pool (obj_rq_submit); the loop
 * only parses, decides and moves bytes. A PUT streams: the body callback
 * moves what arrived into a pending buffer, one write job at a time hands
 * a chunk to obj_df_write, and the client is paused while the pending
 * buffer is over its limit, so a slow disk slows the client instead of
 * filling memory. A GET streams the other way: one read job at a time,
 * the next only while the connection's output is below its watermark.
 *
 * Invariants: a response is sent only after the disk state it reports is
 * durable (commit, tombstone, .meta); a whole-object GET whose checksum
 * fails ends the connection short (obj_df_read withholds the last bytes),
 * so the client never receives a complete corrupt body.
 *
 * Threading: handlers and continuations on the worker's loop; *_work
 * functions on disk threads, touching only the state's own fields.
 */
#define LOG_COMPONENT "objectd"

#include <errno.h>
#include <event2/buffer.h>
#include <fcntl.h>
#include <sys/uio.h>
#include <unistd.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/bug.h"
#include "common/log.h"
#include "common/md5.h"
#include "common/pool.h"
#include "common/preconds.h"
#include "common/range.h"
#include "common/util.h"
#include "common/xalloc.h"
#include "objectd/obj_diskfile.h"
#include "objectd/obj_srv_int.h"

/* What a read job of a whole-object GET sent with sendfile hashes. Not
 * more than the server's write_high (256 KiB by default): the next job
 * starts when the output drains below write_low, and hashing a bigger
 * step took longer than the socket's buffers lasted (c=1 GETs through
 * the proxy were slower with 1 MiB steps). */
#define GET_HASH_CHUNK (256 * 1024)

/* Pending PUT body above which the client is paused. */
#define PUT_PENDING_MAX (1024 * 1024)
/* Most body bytes one write job takes. */
#define PUT_JOB_MAX (1024 * 1024)

struct oreq {
    struct obj_rq rq;
    struct obj_server *srv;
    enum http_method meth;
    char dev[256];
    uint32_t part;
    char hash[MD5_HEX_LEN];
    char *name;                 /* "/a/c/o", heap */
    struct ts ts;               /* the request's X-Timestamp */

    /* job results */
    int status;                 /* HTTP status decided by a job, 0 = go on */
    struct ts orig_ts;          /* X-Backend-Timestamp for 404/409 */
    bool have_orig;

    struct obj_df_reader *rd;
    struct obj_df_writer *wr;
    json_t *meta;               /* PUT/POST metadata to store */

    /* PUT */
    char *if_none_match;
    char *expect_etag;
    struct evbuffer *pend;
    struct evbuffer *wbuf;      /* the write job's bytes (its thread's) */
    char *buf;                  /* disk chunk (GET) */
    size_t buflen;
    bool body_ended, writing, answered, paused;
    int werr;
    char etag[MD5_HEX_LEN];
    uint64_t size;
    char *ctype;                /* Content-Type (PUT: for the update) */

    /* GET */
    struct range_set rs;
    size_t ri;
    uint64_t pos, end;
    bool ranged, multipart, eof, have_data, headonly;
    ssize_t nread;
    char boundary[RANGE_BOUNDARY_LEN + 1];
    int64_t if_delete_at;
    bool have_if_delete_at;
    bool storlet;               /* GET through a storlet (obj_srv_storlet.c) */
    /* A whole-object GET larger than one chunk sends the checked bytes
     * from the file (sendfile) instead of from buf: body bytes up to
     * sent went out, the read jobs only hash ahead (obj_df_read). */
    struct evbuffer_file_segment *seg;
    uint64_t sent;

    /* container updates */
    struct obj_upd_target tg[OBJ_UPD_MAX_TARGETS];
    int ntg;
    int32_t policy;
    char *trans_id;

    /* POST: what the container row needs */
    struct ts data_ts;
    char *post_ctype;
};

/* ------------------------------------------------------------ life cycle */

static void oreq_free(struct oreq *st)
{
    if (st->seg)
        evbuffer_file_segment_free(st->seg); /* queued ranges keep theirs */
    obj_df_reader_free(st->rd);
    obj_df_writer_free(st->wr);
    json_decref(st->meta);
    if (st->pend)
        evbuffer_free(st->pend);
    if (st->wbuf)
        evbuffer_free(st->wbuf);
    free(st->buf);
    free(st->name);
    free(st->if_none_match);
    free(st->expect_etag);
    free(st->ctype);
    free(st->trans_id);
    free(st->post_ctype);
    free(st);
}

static int free_work(void *arg)
{
    struct oreq *st = arg;
    /* unlinking a temp file and closing files are disk work */
    obj_df_reader_free(st->rd);
    st->rd = NULL;
    obj_df_writer_free(st->wr);
    st->wr = NULL;
    return 0;
}

static void free_done(void *arg, int status)
{
    (void)status;
    oreq_free(arg);
}

static void oreq_release(struct obj_rq *rq)
{
    struct oreq *st = (struct oreq *)rq;
    if ((st->rd || st->wr) &&
        workq_submit(st->rq.w->port, free_work, free_done, st) == 0)
        return;
    oreq_free(st);
}

static int df_status(int rc)
{
    switch (rc) {
    case -ENODEV:
    case -ENOSPC:
        return 507;
    case -EBADMSG:
        return 422;
    case -EFBIG:
        return 413;
    case -E2BIG:
    case -EINVAL:
        return 400;
    default:
        return 500;
    }
}

static void reply_status(struct oreq *st, int status)
{
    struct http_req *req = st->rq.req;
    if (st->have_orig) {
        char b[TS_INTERNAL_LEN];
        ts_internal(&st->orig_ts, b);
        http_resp_header(req, "X-Backend-Timestamp", b);
    }
    obj_srv_reply(req, status, NULL);
}

static void submit_or_503(struct oreq *st, workq_work_fn *work,
                          obj_rq_cont_fn *cont)
{
    if (obj_rq_submit(&st->rq, work, cont) != 0)
        obj_srv_reply(st->rq.req, 503, "Disk queue full");
}

/* ------------------------------------------------------------ metadata */

static bool is_allowed_header(struct obj_server *srv, const char *name)
{
    const struct conf_list *l = &srv->conf.allowed_headers;
    for (size_t i = 0; i < l->n; i++)
        if (strcasecmp(l->v[i], name) == 0)
            return true;
    return false;
}

/* The request headers an object keeps (Swift's object server rules). */
static json_t *request_meta(struct oreq *st, bool put)
{
    struct http_req *req = st->rq.req;
    const struct http_head *h = http_req_head(req);
    json_t *m = json_object();
    for (unsigned i = 0; i < h->nheaders; i++) {
        const char *n = h->headers[i].name;
        bool keep = obj_srv_hdr_prefix(n, "X-Object-Meta-") ||
                    obj_srv_hdr_prefix(n, "X-Object-Transient-Sysmeta-") ||
                    strcasecmp(n, "X-Delete-At") == 0 ||
                    strcasecmp(n, "Content-Type") == 0 ||
                    is_allowed_header(st->srv, n);
        if (put && obj_srv_hdr_prefix(n, "X-Object-Sysmeta-"))
            keep = true;
        if (!keep)
            continue;
        json_object_set_new(m, obj_srv_title(req, n),
                            json_string(h->headers[i].value));
    }
    if (put)
        json_object_set_new(m, "name", json_string(st->name));
    return m;
}

/* X-Delete-At must be an integer not before the request's timestamp. */
static int check_delete_at(struct oreq *st)
{
    const char *v = http_req_header(st->rq.req, "X-Delete-At");
    if (v == NULL || v[0] == '\0')
        return 0;
    int64_t at;
    if (parse_i64(v, &at) != 0) {
        obj_srv_reply(st->rq.req, 400, "Non-integer X-Delete-At");
        return -EINVAL;
    }
    if ((double)at < ts_to_double(&st->ts)) {
        obj_srv_reply(st->rq.req, 400, "X-Delete-At in past");
        return -EINVAL;
    }
    return 0;
}

/*
 * Swift's X-Backend-Ignore-Range-If-Metadata-Present: a comma-separated
 * list of metadata names. When the object carries any of them (names
 * compared without case), the proxy wants the whole object (a DLO or SLO
 * manifest, whose Range applies to the assembled object), so the Range is
 * ignored and the answer is a plain 200.
 */
static bool ignore_range(struct http_req *req, const struct obj_df_info *in)
{
    const char *list =
        http_req_header(req, "X-Backend-Ignore-Range-If-Metadata-Present");
    if (!list || !in->meta)
        return false;
    for (const char *p = list; *p;) {
        while (*p == ' ' || *p == '\t' || *p == ',')
            p++;
        size_t n = strcspn(p, ",");
        while (n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\t'))
            n--;
        if (n > 0) {
            const char *k;
            json_t *v;
            json_object_foreach(in->meta, k, v) {
                if (strlen(k) == n && strncasecmp(k, p, n) == 0)
                    return true;
            }
        }
        p += strcspn(p, ",");
    }
    return false;
}

/* Response headers of an existing object (GET/HEAD/304/412). */
static void object_headers(struct oreq *st, const struct obj_df_info *in)
{
    struct http_req *req = st->rq.req;
    const char *ctype = "application/octet-stream";
    const char *k;
    json_t *v;
    json_object_foreach(in->meta, k, v) {
        if (!json_is_string(v))
            continue;
        if (strcasecmp(k, "Content-Type") == 0) {
            ctype = json_string_value(v);
            continue;
        }
        if (obj_srv_hdr_prefix(k, "X-Object-Meta-") ||
            obj_srv_hdr_prefix(k, "X-Object-Sysmeta-") ||
            obj_srv_hdr_prefix(k, "X-Object-Transient-Sysmeta-") ||
            strcasecmp(k, "X-Delete-At") == 0 ||
            is_allowed_header(st->srv, k))
            http_resp_header(req, k, json_string_value(v));
    }
    http_resp_header(req, "Content-Type", ctype);
    http_resp_headerf(req, "ETag", "\"%s\"", in->etag);
    char d[TS_HTTP_DATE_LEN];
    ts_http_date(ts_ceil_seconds(&in->ts), d);
    http_resp_header(req, "Last-Modified", d);
    char n[TS_NORMAL_LEN], b[TS_INTERNAL_LEN];
    ts_normal(&in->ts, n);
    http_resp_header(req, "X-Timestamp", n);
    ts_internal(&in->ts, b);
    http_resp_header(req, "X-Backend-Timestamp", b);
    ts_internal(&in->data_ts, b);
    http_resp_header(req, "X-Backend-Data-Timestamp", b);
    http_resp_header(req, "X-Backend-Durable-Timestamp", b);
    http_resp_header(req, "Accept-Ranges", "bytes");
}

static const char *info_ctype(const struct obj_df_info *in)
{
    json_t *v = json_object_get(in->meta, "Content-Type");
    return json_is_string(v) ? json_string_value(v) : "application/octet-stream";
}

/* ------------------------------------------------------------ GET / HEAD */

static int get_open_work(void *arg)
{
    struct oreq *st = arg;
    int rc = obj_df_open(st->srv->devs, st->dev, st->part, st->hash, 0,
                         &st->rd);
    if (rc != 0)
        return rc;
    /* A whole-body GET reads its first chunk in the same job: small
     * objects then cost one trip to the disk pool. */
    if (!st->headonly && !st->ranged && !st->storlet &&
        obj_df_info(st->rd)->state == OBJ_DF_EXISTS) {
        st->nread = obj_df_read(st->rd, st->buf, st->buflen);
        st->have_data = st->nread > 0;
        st->eof = st->nread == 0;
    }
    return 0;
}

static int get_read_work(void *arg)
{
    struct oreq *st = arg;
    if (st->ranged) {
        uint64_t want = st->end - st->pos;
        if (want > st->buflen)
            want = st->buflen;
        st->nread = obj_df_pread(st->rd, st->buf, want, st->pos);
        if (st->nread == 0)
            st->nread = -EIO; /* the file is shorter than it said */
    } else {
        st->nread = obj_df_read(st->rd, st->buf, st->buflen);
    }
    if (st->nread > 0) {
        st->have_data = true;
        st->pos += (uint64_t)st->nread;
    } else if (st->nread == 0) {
        st->eof = true;
    }
    return 0;
}

static void get_pump(struct oreq *st);

static void get_read_done(struct obj_rq *rq, int status)
{
    (void)status;
    get_pump((struct oreq *)rq);
}

static void write_part_header(struct oreq *st, const char *ctype,
                              uint64_t length)
{
    char hdr[512];
    size_t n = range_part_header(hdr, sizeof(hdr), st->boundary, ctype,
                                 &st->rs.r[st->ri], length);
    if (n < sizeof(hdr)) {
        http_resp_write(st->rq.req, hdr, n);
    } else {
        char *big = xmalloc(n + 1);
        range_part_header(big, n + 1, st->boundary, ctype, &st->rs.r[st->ri],
                          length);
        http_resp_write(st->rq.req, big, n);
        free(big);
    }
}

/* Moves the body along: writes what was read, queues the next read while
 * the output has room, finishes at the end. */
static void get_pump(struct oreq *st)
{
    struct http_req *req = st->rq.req;
    const struct obj_df_info *in = obj_df_info(st->rd);
    while (!st->rq.busy) {
        if (st->nread < 0) {
            /* -EUCLEAN (quarantined) or a read error: end short, so the
             * connection closes and the client sees a broken body */
            if (st->nread == -EUCLEAN)
                log_warn("GET %s: read failed: body corrupt, quarantined",
                         st->name);
            else
                log_err("GET %s: read failed: %s", st->name,
                        strerror((int)-st->nread));
            http_resp_end(req);
            return;
        }
        if (st->have_data) {
            if (st->seg) {
                http_resp_add_file(req, st->seg, st->sent, (size_t)st->nread);
                st->sent += (uint64_t)st->nread;
            } else {
                http_resp_write(req, st->buf, (size_t)st->nread);
            }
            st->have_data = false;
            st->nread = 0;
            continue;
        }
        if (!http_resp_wants_more(req))
            return; /* the drain callback resumes */
        if (!st->ranged) {
            if (st->eof) {
                http_resp_end(req);
                return;
            }
        } else if (st->pos >= st->end) {
            if (!st->multipart) {
                http_resp_end(req);
                return;
            }
            http_resp_write(req, RANGE_PART_TRAILER, 2);
            if (++st->ri < st->rs.n) {
                st->pos = st->rs.r[st->ri].start;
                st->end = st->rs.r[st->ri].end;
                write_part_header(st, info_ctype(in), in->content_length);
                continue;
            }
            char tail[RANGE_BOUNDARY_LEN + 8];
            size_t n = range_multipart_end(tail, sizeof(tail), st->boundary);
            http_resp_write(req, tail, n);
            http_resp_end(req);
            return;
        }
        if (obj_rq_submit(&st->rq, get_read_work, get_read_done) != 0) {
            http_resp_end(req); /* short: the client sees the failure */
            return;
        }
    }
}

static void get_drain(struct http_req *req, void *arg)
{
    (void)req;
    get_pump(arg);
}

static const struct http_req_ops get_ops = {
    .drain = get_drain,
    .done = obj_rq_http_done,
};

/*
 * The body of an open object as a file segment over a duplicate of its
 * descriptor (the segment closes it when the last queued range is sent:
 * the reader may be gone by then). Ranges of it are sent with sendfile,
 * without copying the body into user space and out again. NULL (send
 * from the buffer) if the descriptor cannot be duplicated.
 */
static struct evbuffer_file_segment *body_segment(struct obj_df_reader *rd)
{
    int fd;
    uint64_t off;
    if (obj_df_body_fd(rd, &fd, &off) != 0)
        return NULL;
    int d = fcntl(fd, F_DUPFD_CLOEXEC, 0);
    if (d == -1)
        return NULL;
    struct evbuffer_file_segment *seg = evbuffer_file_segment_new(
        d, (ev_off_t)off, (ev_off_t)obj_df_info(rd)->content_length,
        EVBUF_FS_CLOSE_ON_FREE | EVBUF_FS_DISABLE_LOCKING);
    if (!seg)
        close(d);
    return seg;
}

static void get_open_done(struct obj_rq *rq, int status)
{
    struct oreq *st = (struct oreq *)rq;
    struct http_req *req = rq->req;
    if (status != 0) {
        obj_srv_reply(req, status == -EINVAL ? 400 : df_status(status), NULL);
        return;
    }
    const struct obj_df_info *in = obj_df_info(st->rd);
    bool exists = in->state == OBJ_DF_EXISTS;
    struct preconds_req pr = {
        .if_match = http_req_header(req, "If-Match"),
        .if_none_match = http_req_header(req, "If-None-Match"),
        .if_modified_since = http_req_header(req, "If-Modified-Since"),
        .if_unmodified_since = http_req_header(req, "If-Unmodified-Since"),
    };
    struct preconds_obj po = {
        .exists = exists,
        .etag = exists ? in->etag : NULL,
        .last_modified = exists ? ts_ceil_seconds(&in->ts) : 0,
    };
    int pc = preconds_eval_read(&pr, &po);
    /* The proxy decided storlet rules with the facts (content type,
     * metadata) of the object as of this timestamp (docs/rules.md 4.1):
     * serving another version, even one only POSTed to, would apply that
     * decision to facts it was not made for. 409: the proxy decides again. */
    const char *fts = http_req_header(req, "X-Backend-Storlet-Facts-Timestamp");
    if (fts) {
        struct ts want;
        if (ts_parse(fts, &want) < 0 || !exists || ts_cmp(&in->ts, &want) != 0) {
            obj_srv_reply(req, 409, NULL);
            return;
        }
    }
    if (!exists) {
        if (in->state == OBJ_DF_DELETED) {
            st->orig_ts = in->ts_ts;
            st->have_orig = true;
        } else if (in->state == OBJ_DF_EXPIRED) {
            st->orig_ts = in->ts;
            st->have_orig = true;
        }
        reply_status(st, pc ? pc : 404);
        return;
    }
    if (st->storlet && obj_storlet_manifest(req, in))
        return;
    if (st->storlet && !pc) {
        struct obj_df_reader *rd = st->rd;
        st->rd = NULL;
        obj_storlet_get(&st->rq, rd, st->dev, st->name);
        return;
    }
    object_headers(st, in);
    if (pc) {
        http_resp_start(req, pc, 0);
        http_resp_end(req);
        return;
    }
    if (st->headonly) {
        http_resp_start(req, 200, (int64_t)in->content_length);
        http_resp_end(req);
        return;
    }
    if (st->ranged && ignore_range(req, in))
        st->ranged = false;
    if (st->ranged) {
        /* ranged was a guess from the header; now decide with the length */
        enum range_outcome ro = range_resolve(
            http_req_header(req, "Range"), in->content_length, &st->rs);
        if (ro == RANGE_UNSATISFIABLE) {
            char cr[64];
            range_content_range_unsatisfied(cr, sizeof(cr), in->content_length);
            http_resp_header(req, "Content-Range", cr);
            http_resp_start(req, 416, 0);
            http_resp_end(req);
            return;
        }
        if (ro == RANGE_WHOLE) {
            st->ranged = false;
            http_req_set_ops(req, &get_ops, st);
            http_resp_start(req, 200, (int64_t)in->content_length);
            get_pump(st);
            return;
        }
        st->ri = 0;
        st->pos = st->rs.r[0].start;
        st->end = st->rs.r[0].end;
        http_req_set_ops(req, &get_ops, st);
        if (st->rs.n == 1) {
            char cr[96];
            range_content_range(cr, sizeof(cr), &st->rs.r[0],
                                in->content_length);
            http_resp_header(req, "Content-Range", cr);
            http_resp_start(req, 206, (int64_t)(st->end - st->pos));
            get_pump(st);
            return;
        }
        st->multipart = true;
        range_boundary_new(st->boundary);
        const char *ctype = info_ctype(in);
        uint64_t total = range_multipart_length(&st->rs, st->boundary, ctype,
                                                in->content_length);
        char ct[128];
        range_multipart_content_type(ct, sizeof(ct), st->boundary);
        /* the multipart body replaces the object's own Content-Type */
        http_resp_header(req, "Content-Type", ct);
        http_resp_start(req, 206, (int64_t)total);
        write_part_header(st, ctype, in->content_length);
        get_pump(st);
        return;
    }
    if (in->content_length > st->buflen) {
        st->seg = body_segment(st->rd);
        /* The read jobs now only hash ahead of what sendfile sends, so
         * they can take bigger steps: a disk-pool round trip per 64 KiB
         * cost more than copying the bytes. */
        if (st->seg && st->buflen < GET_HASH_CHUNK) {
            st->buf = xrealloc(st->buf, GET_HASH_CHUNK);
            st->buflen = GET_HASH_CHUNK;
        }
    }
    http_req_set_ops(req, &get_ops, st);
    http_resp_start(req, 200, (int64_t)in->content_length);
    get_pump(st);
}

/* ------------------------------------------------------------ PUT */

static void put_finish(struct oreq *st);

static int put_open_work(void *arg)
{
    struct oreq *st = arg;
    struct obj_df_reader *rd = NULL;
    int rc = obj_df_open(st->srv->devs, st->dev, st->part, st->hash, 0, &rd);
    if (rc != 0)
        return rc;
    const struct obj_df_info *in = obj_df_info(rd);
    if (st->if_none_match) {
        struct preconds_req pr = { .if_none_match = st->if_none_match };
        struct preconds_obj po = { .exists = in->state == OBJ_DF_EXISTS,
                                   .etag = in->etag };
        if (preconds_eval_write(&pr, &po) == 412) {
            st->status = 412;
            goto out;
        }
    }
    const struct ts *newest = ts_cmp(&in->data_ts, &in->ts_ts) >= 0
                                  ? &in->data_ts : &in->ts_ts;
    if ((newest->units || newest->offset) && ts_cmp(newest, &st->ts) >= 0) {
        st->status = 409;
        st->orig_ts = *newest;
        st->have_orig = true;
        goto out;
    }
    rc = obj_df_create(st->srv->devs, st->dev, st->part, st->hash, &st->ts,
                       st->meta, st->size, st->srv->cluster.constraints.max_file_size,
                       &st->wr);
out:
    obj_df_reader_free(rd);
    return rc;
}

/* Writes wbuf's pieces where they lie (no copy into a flat buffer). */
static int put_write_work(void *arg)
{
    struct oreq *st = arg;
    int rc = 0;
    while (rc == 0 && evbuffer_get_length(st->wbuf) > 0) {
        struct evbuffer_iovec v[64];
        int n = evbuffer_peek(st->wbuf, -1, NULL, v, (int)ARRAY_SIZE(v));
        if (n > (int)ARRAY_SIZE(v))
            n = (int)ARRAY_SIZE(v);
        struct iovec io[ARRAY_SIZE(v)];
        size_t len = 0;
        for (int i = 0; i < n; i++) {
            io[i].iov_base = v[i].iov_base;
            io[i].iov_len = v[i].iov_len;
            len += v[i].iov_len;
        }
        rc = obj_df_writev(st->wr, io, n);
        evbuffer_drain(st->wbuf, len);
    }
    return rc;
}

static int put_commit_work(void *arg)
{
    struct oreq *st = arg;
    int rc = obj_df_commit(st->wr, st->expect_etag, st->etag);
    st->size = obj_df_writer_bytes(st->wr);
    obj_df_writer_free(st->wr);
    st->wr = NULL;
    return rc;
}

/* The body's last piece and the commit in one disk job: a body that fits
 * one chunk (every small PUT) then costs two trips to the disk pool (open,
 * write+commit) instead of three. A failed write skips the commit; the
 * writer is freed with the request, which unlinks its temp file. */
static int put_last_work(void *arg)
{
    int rc = put_write_work(arg);
    return rc != 0 ? rc : put_commit_work(arg);
}

static void put_commit_done(struct obj_rq *rq, int status);

static void put_pump(struct oreq *st);

static void put_fail(struct oreq *st, int status)
{
    if (st->answered)
        return;
    st->answered = true;
    obj_srv_reply(st->rq.req, status, NULL);
}

static void put_write_done(struct obj_rq *rq, int status)
{
    struct oreq *st = (struct oreq *)rq;
    st->writing = false;
    if (status != 0) {
        st->werr = status;
        put_fail(st, df_status(status));
        return;
    }
    put_pump(st);
}

static void put_update_done(void *arg)
{
    struct oreq *st = arg;
    st->rq.busy = false;
    if (st->rq.req == NULL) {
        st->rq.release(&st->rq);
        return;
    }
    put_finish(st);
}

/* Sends the container row update of every object verb: adds the policy and
 * transaction headers to h (consumed), quotes the row path /a/c/o as the
 * proxy quotes paths, and marks the request busy until done runs. */
static void send_row(struct oreq *st, const char *method, json_t *h,
                     obj_upd_done_fn *done)
{
    if (st->policy >= 0)
        json_object_set_new(h, "X-Backend-Storage-Policy-Index",
                            json_sprintf("%d", st->policy));
    if (st->trans_id)
        json_object_set_new(h, "X-Trans-Id", json_string(st->trans_id));
    size_t nlen = strlen(st->name);
    char *q = xmalloc(3 * nlen + 1);
    names_quote(st->name, nlen, "/", q);
    st->rq.busy = true;
    obj_upd_send(st->rq.w, method, q, h, st->tg, st->ntg, st->dev, st->hash,
                 &st->ts, done, st);
    free(q);
    json_decref(h);
}

static void send_update(struct oreq *st, const char *method)
{
    json_t *h = json_object();
    char b[TS_INTERNAL_LEN];
    ts_internal(&st->ts, b);
    json_object_set_new(h, "X-Timestamp", json_string(b));
    if (strcmp(method, "PUT") == 0) {
        json_object_set_new(h, "X-Size", json_sprintf("%llu",
                                                      (unsigned long long)st->size));
        json_object_set_new(h, "X-Content-Type", json_string(st->ctype));
        json_object_set_new(h, "X-Etag", json_string(st->etag));
    }
    send_row(st, method, h, put_update_done);
}

static void put_commit_done(struct obj_rq *rq, int status)
{
    struct oreq *st = (struct oreq *)rq;
    if (status != 0) {
        put_fail(st, df_status(status));
        return;
    }
    if (st->ntg > 0) {
        send_update(st, "PUT");
        return;
    }
    put_finish(st);
}

static void put_finish(struct oreq *st)
{
    st->answered = true;
    http_resp_headerf(st->rq.req, "ETag", "\"%s\"", st->etag);
    obj_srv_reply(st->rq.req, 201, NULL);
}

/* Starts the next write or the commit when nothing is in flight. */
static void put_pump(struct oreq *st)
{
    if (st->answered || st->rq.busy)
        return;
    size_t have = evbuffer_get_length(st->pend);
    size_t cap = (size_t)st->srv->conf.disk_chunk_size;
    /* Whole chunks only until the body ends: writing whatever one socket
     * read brought (often one TCP segment) cost a disk-thread round trip
     * (two context switches) per 1-2 KiB under load. A job takes all
     * that arrived meanwhile, up to PUT_JOB_MAX: a body that arrives
     * faster than one chunk per round trip takes fewer round trips. The
     * pieces move to wbuf without a copy (the job owns wbuf meanwhile). */
    size_t take = have < PUT_JOB_MAX ? have : PUT_JOB_MAX;
    if (!st->wbuf)
        st->wbuf = evbuffer_new();
    if (have > 0 && have <= PUT_JOB_MAX && st->body_ended) {
        evbuffer_remove_buffer(st->pend, st->wbuf, have);
        st->writing = true;
        if (obj_rq_submit(&st->rq, put_last_work, put_commit_done) != 0) {
            st->writing = false;
            put_fail(st, 503);
        }
        return;
    }
    if (have >= cap || (have > 0 && st->body_ended)) {
        evbuffer_remove_buffer(st->pend, st->wbuf, take);
        st->writing = true;
        if (obj_rq_submit(&st->rq, put_write_work, put_write_done) != 0) {
            st->writing = false;
            put_fail(st, 503);
            return;
        }
        if (st->paused && evbuffer_get_length(st->pend) < PUT_PENDING_MAX) {
            st->paused = false;
            http_req_resume(st->rq.req);
        }
        return;
    }
    if (st->body_ended) {
        if (obj_rq_submit(&st->rq, put_commit_work, put_commit_done) != 0)
            put_fail(st, 503);
        return;
    }
    if (st->paused) {
        st->paused = false;
        http_req_resume(st->rq.req);
    }
}

static void put_body(struct http_req *req, struct evbuffer *body, void *arg)
{
    struct oreq *st = arg;
    if (st->answered) {
        evbuffer_drain(body, evbuffer_get_length(body));
        return;
    }
    evbuffer_remove_buffer(body, st->pend, evbuffer_get_length(body));
    if (evbuffer_get_length(st->pend) >= PUT_PENDING_MAX && !st->paused) {
        st->paused = true;
        http_req_pause(req);
    }
    put_pump(st);
}

static void put_body_end(struct http_req *req, void *arg)
{
    struct oreq *st = arg;
    (void)req;
    st->body_ended = true;
    put_pump(st);
}

static const struct http_req_ops put_ops = {
    .body = put_body,
    .body_end = put_body_end,
    .done = obj_rq_http_done,
};

static void put_open_done(struct obj_rq *rq, int status)
{
    struct oreq *st = (struct oreq *)rq;
    if (status != 0) {
        put_fail(st, df_status(status));
        return;
    }
    if (st->status) {
        st->answered = true;
        reply_status(st, st->status);
        return;
    }
    st->pend = evbuffer_new();
    http_req_set_ops(rq->req, &put_ops, st);
}

/* ------------------------------------------------------------ DELETE */

static int delete_work(void *arg)
{
    struct oreq *st = arg;
    struct obj_df_reader *rd = NULL;
    int rc = obj_df_open(st->srv->devs, st->dev, st->part, st->hash, 0, &rd);
    if (rc != 0)
        return rc;
    const struct obj_df_info *in = obj_df_info(rd);
    struct ts orig = { 0, 0 };
    int64_t orig_delete_at = 0;
    switch (in->state) {
    case OBJ_DF_EXISTS:
        orig = in->data_ts;
        st->status = ts_cmp(&orig, &st->ts) < 0 ? 204 : 409;
        orig_delete_at = in->delete_at;
        break;
    case OBJ_DF_EXPIRED:
        orig = in->ts;
        orig_delete_at = in->delete_at;
        st->status = 404;
        break;
    case OBJ_DF_DELETED:
        orig = in->ts_ts;
        st->status = 404;
        break;
    default:
        st->status = 404;
        break;
    }
    bool have_orig = orig.units || orig.offset;
    if (st->have_if_delete_at) {
        if (!have_orig) {
            st->status = 404;
            goto out;
        }
        if (ts_cmp(&orig, &st->ts) >= 0) {
            st->status = 409;
            goto out;
        }
        if (orig_delete_at != st->if_delete_at) {
            st->status = 412;
            goto out;
        }
        st->status = 204;
    }
    st->orig_ts = ts_cmp(&orig, &st->ts) > 0 ? orig : st->ts;
    st->have_orig = true;
    if (ts_cmp(&orig, &st->ts) < 0) {
        /* the name travels with the tombstone, so the replicator can
         * push it through the backend API */
        json_t *tm = json_pack("{s:s}", "name", st->name);
        rc = obj_df_delete(st->srv->devs, st->dev, st->part, st->hash,
                           &st->ts, tm);
        json_decref(tm);
        st->have_data = rc == 0; /* a tombstone was written: update */
    }
out:
    obj_df_reader_free(rd);
    return rc;
}

/* DELETE and POST answer the same way once their container row is sent:
 * release a request whose client went away, else reply the status the
 * worker settled on. */
static void update_reply_done(void *arg)
{
    struct oreq *st = arg;
    st->rq.busy = false;
    if (st->rq.req == NULL) {
        st->rq.release(&st->rq);
        return;
    }
    reply_status(st, st->status);
}

static void delete_done(struct obj_rq *rq, int status)
{
    struct oreq *st = (struct oreq *)rq;
    if (status != 0) {
        obj_srv_reply(rq->req, df_status(status), NULL);
        return;
    }
    if (st->have_data && st->ntg > 0) {
        json_t *h = json_object();
        char b[TS_INTERNAL_LEN];
        ts_internal(&st->ts, b);
        json_object_set_new(h, "X-Timestamp", json_string(b));
        send_row(st, "DELETE", h, update_reply_done);
        return;
    }
    reply_status(st, st->status);
}

/* ------------------------------------------------------------ POST */

static int post_work(void *arg)
{
    struct oreq *st = arg;
    struct obj_df_reader *rd = NULL;
    int rc = obj_df_open(st->srv->devs, st->dev, st->part, st->hash, 0, &rd);
    if (rc != 0)
        return rc;
    const struct obj_df_info *in = obj_df_info(rd);
    if (in->state != OBJ_DF_EXISTS) {
        st->status = 404;
        if (in->state == OBJ_DF_DELETED) {
            st->orig_ts = in->ts_ts;
            st->have_orig = true;
        } else if (in->state == OBJ_DF_EXPIRED) {
            st->orig_ts = in->ts;
            st->have_orig = true;
        }
        goto out;
    }
    if (ts_cmp(&in->ts, &st->ts) >= 0) {
        st->status = 409;
        st->orig_ts = in->ts;
        st->have_orig = true;
        goto out;
    }
    rc = obj_df_post(st->srv->devs, st->dev, st->part, st->hash, &st->ts,
                     st->meta);
    st->status = 202;
    st->data_ts = in->data_ts;
    st->size = in->content_length;
    memcpy(st->etag, in->etag, sizeof(st->etag));
    json_t *nct = json_object_get(st->meta, "Content-Type");
    st->post_ctype = xstrdup(json_is_string(nct) ? json_string_value(nct)
                                                 : info_ctype(in));
    st->have_data = json_is_string(nct); /* the POST sets the type */
out:
    obj_df_reader_free(rd);
    return rc;
}

static void post_done(struct obj_rq *rq, int status)
{
    struct oreq *st = (struct oreq *)rq;
    if (status != 0) {
        obj_srv_reply(rq->req, df_status(status), NULL);
        return;
    }
    if (st->status != 202 || st->ntg == 0) {
        reply_status(st, st->status);
        return;
    }
    /* As Swift: the row gets the data's timestamp, the content type with
     * its own timestamp (this POST's when it set one, else the data's, so
     * a newer type set by an earlier POST still wins) and this POST's
     * metadata time. */
    json_t *h = json_object();
    char b[TS_INTERNAL_LEN];
    ts_internal(&st->data_ts, b);
    json_object_set_new(h, "X-Timestamp", json_string(b));
    json_object_set_new(h, "X-Content-Type-Timestamp",
                        json_string(b));
    if (st->have_data) {
        ts_internal(&st->ts, b);
        json_object_set_new(h, "X-Content-Type-Timestamp", json_string(b));
    }
    ts_internal(&st->ts, b);
    json_object_set_new(h, "X-Meta-Timestamp", json_string(b));
    json_object_set_new(h, "X-Size", json_sprintf("%llu",
                                                  (unsigned long long)st->size));
    json_object_set_new(h, "X-Content-Type", json_string(st->post_ctype));
    json_object_set_new(h, "X-Etag", json_string(st->etag));
    send_row(st, "PUT", h, update_reply_done);
}

/* ------------------------------------------------------------ dispatch */

static char *xstrdup_or_null(const char *s)
{
    return s ? xstrdup(s) : NULL;
}

void obj_srv_handle_object(struct http_req *req, void *arg)
{
    struct obj_worker *w = arg;
    struct obj_server *srv = w->srv;
    atomic_fetch_add(&srv->n_requests, 1);
    if (obj_srv_healthcheck(req, w))
        return;
    if (obj_repl_srv_handle(req, w))
        return;
    enum http_method m = http_req_method(req);
    if (m != HTTP_M_GET && m != HTTP_M_HEAD && m != HTTP_M_PUT &&
        m != HTTP_M_DELETE && m != HTTP_M_POST) {
        http_resp_header(req, "Allow", "DELETE, GET, HEAD, POST, PUT");
        obj_srv_reply(req, 405, NULL);
        return;
    }
    char *segs[5];
    if (obj_srv_split(req, 5, 5, true, segs) != 0)
        return;
    uint32_t part;
    if (obj_srv_partition(req, segs[1], &part) != 0)
        return;
    struct ts ts = { 0, 0 };
    if (m == HTTP_M_PUT || m == HTTP_M_DELETE || m == HTTP_M_POST) {
        if (obj_srv_timestamp(req, &ts) != 0)
            return;
    }
    if (strlen(segs[0]) >= 256) {
        obj_srv_reply(req, 400, "Invalid device");
        return;
    }

    struct oreq *st = xcalloc(1, sizeof(*st));
    st->rq.w = w;
    st->rq.req = req;
    st->rq.release = oreq_release;
    st->srv = srv;
    st->meth = m;
    str_copy(st->dev, segs[0], sizeof(st->dev));
    st->part = part;
    st->ts = ts;
    st->name = xasprintf("/%s/%s/%s", segs[2], segs[3], segs[4]);
    hashpath_hex(&srv->secret, segs[2], segs[3], segs[4], st->hash);
    st->policy = -1;
    st->trans_id = xstrdup_or_null(http_req_header(req, "X-Trans-Id"));
    const char *pol = http_req_header(req, "X-Backend-Storage-Policy-Index");
    int64_t pv;
    if (pol && parse_i64(pol, &pv) == 0 && pv >= 0 && pv < INT32_MAX)
        st->policy = (int32_t)pv;
    http_req_set_ops(req, &obj_rq_ops_nobody, st);
    st->buflen = (size_t)srv->conf.disk_chunk_size;
    st->buf = xmalloc(st->buflen);

    if (m == HTTP_M_GET || m == HTTP_M_HEAD) {
        st->headonly = m == HTTP_M_HEAD;
        st->storlet = obj_storlet_wanted(req, srv);
        st->ranged = !st->headonly && !st->storlet &&
                     http_req_header(req, "Range") != NULL;
        submit_or_503(st, get_open_work, get_open_done);
        return;
    }

    int nt = obj_upd_parse_targets(req, "X-Container-", st->tg,
                                   OBJ_UPD_MAX_TARGETS);
    if (nt < 0) {
        log_warn("%s %s: container update headers do not match; no update",
                 http_req_method_str(req), st->name);
        nt = 0;
    }
    st->ntg = nt;

    if (m == HTTP_M_DELETE) {
        const char *ida = http_req_header(req, "X-If-Delete-At");
        if (ida) {
            struct ts t;
            if (ts_parse(ida, &t) != 0) {
                obj_srv_reply(req, 400, "Bad X-If-Delete-At header value");
                return;
            }
            st->have_if_delete_at = true;
            st->if_delete_at = (int64_t)ts_to_double(&t);
        }
        submit_or_503(st, delete_work, delete_done);
        return;
    }
    if (check_delete_at(st) != 0)
        return;
    if (m == HTTP_M_POST) {
        struct names_header *hv;
        size_t nh = obj_srv_names_headers(req, &hv);
        struct names_verdict v;
        if (names_check_metadata(hv, nh, NAMES_T_OBJECT,
                                 &srv->cluster.constraints, &v) != 0) {
            obj_srv_reply(req, v.status, v.body);
            return;
        }
        st->meta = request_meta(st, false);
        submit_or_503(st, post_work, post_done);
        return;
    }

    /* PUT */
    struct names_header *hv;
    size_t nh = obj_srv_names_headers(req, &hv);
    enum http_body_kind bk = http_req_body_kind(req);
    const struct http_head *head = http_req_head(req);
    struct names_object_put op = {
        .content_length = bk == HTTP_BODY_LENGTH ? (int64_t)head->content_length
                          : http_req_header(req, "Content-Length") ? 0 : -1,
        .chunked = bk == HTTP_BODY_CHUNKED,
        .content_type = http_req_header(req, "Content-Type"),
        .object = segs[4],
        .object_len = strlen(segs[4]),
    };
    struct names_verdict v;
    if (names_check_object_creation(&op, hv, nh, &srv->cluster.constraints,
                                    &v) != 0) {
        obj_srv_reply(req, v.status, v.body);
        return;
    }
    st->size = op.content_length > 0 ? (uint64_t)op.content_length : 0;
    st->ctype = xstrdup(op.content_type);
    st->if_none_match = xstrdup_or_null(http_req_header(req, "If-None-Match"));
    st->expect_etag = xstrdup_or_null(http_req_header(req, "ETag"));
    st->meta = request_meta(st, true);
    submit_or_503(st, put_open_work, put_open_done);
}
