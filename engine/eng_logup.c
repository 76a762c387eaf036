/*
 * eng_logup.c - storing a storlet's log in the account's `storletlog`
 * container when the request asked for it (X-Storlet-Generate-Log: True).
 *
 * The log (at most the 1 MiB the run kept) is copied, and PUT to the
 * proxy with the caller's token as storletlog/<storlet>.<trans id>.log,
 * after the run; the caller must be allowed to write there (an ACL or the
 * account's own user), as for any other object. Fire and forget: a
 * failure is logged, the invocation's answer does not wait for it.
 *
 * Threading: the loop of the base given; frees itself when done.
 */
#include "engine/eng.h"

#include <event2/buffer.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LOG_COMPONENT "engine"
#include "common/http.h"
#include "common/log.h"
#include "common/xalloc.h"

struct logup {
    struct http_client *c;
    struct evbuffer *body;
    char *what;
    int status;
};

static void lu_response(struct http_client *c, const struct http_head *h, void *arg)
{
    (void)c;
    ((struct logup *)arg)->status = h->status;
}

static void lu_body(struct http_client *c, struct evbuffer *b, void *arg)
{
    (void)c;
    (void)arg;
    evbuffer_drain(b, evbuffer_get_length(b));
}

static void lu_free(struct logup *u)
{
    http_client_free(u->c);
    evbuffer_free(u->body);
    free(u->what);
    free(u);
}

static void lu_drain(struct http_client *c, void *arg)
{
    struct logup *u = arg;
    if (evbuffer_get_length(u->body) == 0)
        return;
    http_client_add_buffer(c, u->body);
    http_client_end(c);
}

static void lu_done(struct http_client *c, int err, void *arg)
{
    (void)c;
    struct logup *u = arg;
    if (err < 0 || u->status < 200 || u->status >= 300)
        log_warn("storing the storlet log %s: %s %d", u->what,
                 err < 0 ? "failed:" : "answered", err < 0 ? err : u->status);
    u->c = NULL;
    http_client_free(c);
    lu_free(u);
}

static const struct http_client_ops lu_ops = {
    .response = lu_response,
    .body = lu_body,
    .drain = lu_drain,
    .done = lu_done,
};

static void name_char(char *p)
{
    for (; *p; p++)
        if ((unsigned char)*p <= ' ' || *p == '%' || *p == '?' || *p == '#' || *p == '/')
            *p = '_';
}

void eng_log_upload(struct event_base *base, const char *host, int port, const char *token,
                    const char *account, const char *storlet, const char *trans_id,
                    const struct eng_outcome *o)
{
    struct logup *u = xcalloc(1, sizeof(*u));
    u->body = evbuffer_new();
    if (o->log) {
        size_t n = evbuffer_get_length(o->log);
        evbuffer_add(u->body, evbuffer_pullup(o->log, -1), n);
    }
    if (o->log_cut)
        evbuffer_add_printf(u->body, "\n[log cut at 1 MiB]\n");
    evbuffer_add_printf(u->body, "[end=%s exit=%d status=%d]\n", o->end, o->exit_code,
                        o->status);
    char *obj = xasprintf("%s.%s.log", storlet, trans_id && *trans_id ? trans_id : "tx");
    name_char(obj);
    char *acct = xstrdup(account);
    name_char(acct);
    char *target = xasprintf("/v1/%s/%s/%s", acct, ENG_LOG_CONTAINER, obj);
    u->what = xstrdup(target);
    u->c = http_client_new(base, host, port, NULL);
    http_client_header(u->c, "X-Auth-Token", token);
    http_client_header(u->c, "Content-Type", "text/plain; charset=utf-8");
    size_t len = evbuffer_get_length(u->body);
    int rc = http_client_start(u->c, "PUT", target, (int64_t)len, &lu_ops, u);
    if (rc == 0 && http_client_wants_more(u->c)) {
        http_client_add_buffer(u->c, u->body);
        rc = http_client_end(u->c);
    }
    if (rc < 0) {
        log_warn("storing the storlet log %s: %s", target, strerror(-rc));
        lu_free(u);
    }
    free(target);
    free(obj);
    free(acct);
}
