/*
 * px_rules.c - loads the rule documents governing one request, the
 * caller's facts and (when a rule matches on them) the object's, and
 * turns them into decisions (px_rules.h): the request's own container
 * and account, the other side of a copy, a DLO's segment container, the
 * object's facts by a HEAD whose version the read then insists on, and
 * the listing rewrite of docs/rules.md 4.10. Two process-wide caches,
 * each behind its own mutex held only for a slot lookup and a copy:
 *
 *  - account info (enabled for storlets, the account's rule document,
 *    the marks of 4.12) for ACCT_TTL_MS, as Swift caches get_account_info
 *    and as the container info cache keeps ACLs: a change applies within
 *    that time on every proxy, at once on the proxy that made it. It is
 *    the proxy's only account cache: px_storlet.c asks it whether the
 *    account runs storlets (px_rules_account_info), so one forget
 *    (px_rules_forget_account) reaches the rules and the engine alike;
 *  - parsed documents by their text: a struct eng_rules is immutable, so
 *    requests on every worker share one, counted; a slot replaced while a
 *    request still holds its document is freed by the last holder.
 */
#define LOG_COMPONENT "proxy"
#include "proxy/px_rules.h"

#include <errno.h>
#include <event2/buffer.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/http.h"
#include "common/log.h"
#include "common/md5.h"
#include "common/names.h"
#include "common/pool.h"
#include "common/util.h"
#include "common/xalloc.h"
#include "engine/eng.h"
#include "proxy/px_auth.h"
#include "proxy/px_backend.h"
#include "proxy/px_cap.h"
#include "proxy/px_ctl_int.h"

#define ACCT_SLOTS 256
#define ACCT_TTL_MS 10000
/* How long past its lifetime account info still answers when the
 * account's nodes do not (stale-if-error): a backend outage does not turn
 * every object request of a known account into a 503, and a document
 * older than this is never trusted. */
#define ACCT_STALE_MS 300000
#define DOC_SLOTS 256

/* ------------------------------------------------------------ documents */

struct doc {
    char *text;
    struct eng_rules *r;
    unsigned refs;
    bool cached;      /* still in its slot (else the last holder frees it) */
};

static pthread_mutex_t doc_lock = PTHREAD_MUTEX_INITIALIZER;
static struct doc *doc_slots[DOC_SLOTS];

static uint64_t fnv(const char *s)
{
    uint64_t h = 1469598103934665603ull;
    for (const char *p = s; *p; p++)
        h = (h ^ (unsigned char)*p) * 1099511628211ull;
    return h;
}

static void doc_free(struct doc *d)
{
    if (!d)
        return;
    eng_rules_free(d->r);
    free(d->text);
    free(d);
}

static void doc_release(void *arg)
{
    struct doc *d = arg;
    pthread_mutex_lock(&doc_lock);
    bool last = --d->refs == 0 && !d->cached;
    pthread_mutex_unlock(&doc_lock);
    if (last)
        doc_free(d);
}

/* The parsed document of `text`, held by pr's pool. NULL with *bad set
 * when the stored text does not parse (a corrupt or foreign value). */
static const struct eng_rules *doc_get(struct px_req *pr, const char *text, bool *bad)
{
    *bad = false;
    struct doc **slot = &doc_slots[fnv(text) % DOC_SLOTS];
    pthread_mutex_lock(&doc_lock);
    struct doc *d = *slot;
    if (d && strcmp(d->text, text) == 0) {
        d->refs++;
        pthread_mutex_unlock(&doc_lock);
        pool_cleanup_add(pr->pool, doc_release, d);
        return d->r;
    }
    pthread_mutex_unlock(&doc_lock);

    struct err e;
    err_clear(&e);
    struct eng_rules *r = eng_rules_parse(text, strlen(text), "stored rules", &e);
    if (!r) {
        log_err("%s/%s: stored storlet rule document does not parse: %s", pr->path.account,
                pr->path.container ? pr->path.container : "", e.msg);
        *bad = true;
        return NULL;
    }
    d = xcalloc(1, sizeof(*d));
    d->text = xstrdup(text);
    d->r = r;
    d->refs = 1;
    d->cached = true;
    struct doc *old = NULL;
    pthread_mutex_lock(&doc_lock);
    old = *slot;
    *slot = d;
    if (old) {
        old->cached = false;
        if (old->refs)
            old = NULL;   /* its last holder frees it */
    }
    pthread_mutex_unlock(&doc_lock);
    doc_free(old);
    pool_cleanup_add(pr->pool, doc_release, d);
    return r;
}

/* ------------------------------------------------------------ account info */

struct acct_slot {
    char name[256];
    bool enabled;
    bool mark;          /* a container marked, or the old mark */
    char *rules;        /* "" when none */
    char *marks;        /* struct px_rules_account's */
    uint64_t expires_ms;
};

static pthread_mutex_t acct_lock = PTHREAD_MUTEX_INITIALIZER;
static struct acct_slot acct_slots[ACCT_SLOTS];
/* Counts px_rules_forget_account calls: an answer to a HEAD sent before
 * a forget may hold what the change replaced, so it is not cached. */
static uint64_t acct_gen;

static bool acct_lookup(struct px_req *pr, const char *a, uint64_t grace_ms,
                        struct px_rules_account *out)
{
    struct acct_slot *s = &acct_slots[fnv(a) % ACCT_SLOTS];
    bool hit = false;
    pthread_mutex_lock(&acct_lock);
    if (s->name[0] && strcmp(s->name, a) == 0 && px_now_ms() < s->expires_ms + grace_ms) {
        out->enabled = s->enabled;
        out->mark = s->mark;
        out->rules = pool_strdup(pr->pool, s->rules);
        out->marks = pool_strdup(pr->pool, s->marks);
        hit = true;
    }
    pthread_mutex_unlock(&acct_lock);
    return hit;
}

static bool acct_cached(struct px_req *pr, const char *a, struct px_rules_account *out)
{
    return acct_lookup(pr, a, 0, out);
}

static uint64_t acct_generation(void)
{
    pthread_mutex_lock(&acct_lock);
    uint64_t g = acct_gen;
    pthread_mutex_unlock(&acct_lock);
    return g;
}

/* Caches what a HEAD sent at sent_ms (px_now_ms) in generation gen
 * said. It lives ACCT_TTL_MS from the sending, not the answer: a proxy
 * holds nothing older than that, whatever the network's delays. */
static void acct_store(const char *a, const struct px_rules_account *ai, uint64_t sent_ms,
                       uint64_t gen)
{
    if (strlen(a) >= sizeof(acct_slots[0].name))
        return;
    struct acct_slot *s = &acct_slots[fnv(a) % ACCT_SLOTS];
    char *rules = xstrdup(ai->rules ? ai->rules : "");
    char *marks = xstrdup(ai->marks ? ai->marks : "");
    pthread_mutex_lock(&acct_lock);
    if (gen != acct_gen) {
        pthread_mutex_unlock(&acct_lock);
        free(rules);
        free(marks);
        return;
    }
    char *old_rules = s->rules, *old_marks = s->marks;
    str_copy(s->name, a, sizeof(s->name));
    s->enabled = ai->enabled;
    s->mark = ai->mark;
    s->rules = rules;
    s->marks = marks;
    s->expires_ms = sent_ms + ACCT_TTL_MS;
    pthread_mutex_unlock(&acct_lock);
    free(old_rules);
    free(old_marks);
}

void px_rules_forget_account(const char *account)
{
    struct acct_slot *s = &acct_slots[fnv(account) % ACCT_SLOTS];
    pthread_mutex_lock(&acct_lock);
    acct_gen++;
    if (strcmp(s->name, account) == 0)
        s->name[0] = '\0';   /* not even stale: this proxy changed it */
    pthread_mutex_unlock(&acct_lock);
}

struct aload {
    struct px_nodes nodes;
    struct px_rules_account ai;
    int status;          /* of the chosen answer; 0 none */
    uint64_t sent_ms, gen;  /* when the HEAD left, acct_gen then */
    bool or_null;           /* no info: then(.., NULL), not a 503 */
    void (*then)(struct px_req *pr, struct aload *al, const struct px_rules_account *ai);
    /* what the caller of px_rules_load / _account_info wants */
    const char *cont_doc;
    void (*rules_then)(struct px_req *pr, const struct px_rules *r);
    void (*info_then)(struct px_req *pr, const struct px_rules_account *ai, void *arg);
    void *info_arg;
};

/* An account or object HEAD: only a 2xx answer tells anything. */
static bool usable_2xx(int status, const struct http_head *h, void *arg)
{
    (void)h;
    (void)arg;
    return status >= 200 && status < 300;
}

static void aload_response(struct px_req *pr, struct px_read *rd, const struct http_head *h,
                           void *arg)
{
    (void)rd;
    struct aload *al = arg;
    al->status = h->status;
    al->ai.enabled = eng_account_enabled(http_head_get(h, "X-Account-Meta-Storlet-Enabled"));
    al->ai.mark = http_head_get(h, PX_RULES_ACCOUNT_MANDATORY) != NULL;
    const char *r = http_head_get(h, ENG_RULES_ACCOUNT_SYSMETA);
    al->ai.rules = pool_strdup(pr->pool, r ? r : "");
    /* the marks of 4.12, one key per container (a removed one is not
     * shown by the account server) */
    struct evbuffer *marks = evbuffer_new();
    size_t plen = strlen(PX_RULES_MARK_PREFIX);
    for (unsigned i = 0; i < h->nheaders; i++) {
        const char *v = h->headers[i].value;
        if (strncasecmp(h->headers[i].name, PX_RULES_MARK_PREFIX, plen) != 0 || !v[0])
            continue;
        al->ai.mark = true;
        evbuffer_add_printf(marks, "%s%s", evbuffer_get_length(marks) ? "," : "", v);
    }
    size_t n = evbuffer_get_length(marks);
    char *m = pool_alloc(pr->pool, n + 1);
    evbuffer_remove(marks, m, n);
    m[n] = '\0';
    evbuffer_free(marks);
    al->ai.marks = m;
}

/* The account's nodes gave no usable answer: recent info, else 503. */
static void aload_stale(struct px_req *pr, struct aload *al)
{
    struct px_rules_account ai;
    if (!acct_lookup(pr, pr->path.account, ACCT_STALE_MS, &ai)) {
        if (al->or_null)
            al->then(pr, al, NULL);
        else
            px_reply(pr, 503);
        return;
    }
    log_warn("%s: account info for storlet rules: using the last known", pr->path.account);
    al->then(pr, al, &ai);
}

static void aload_end(struct px_req *pr, int err, void *arg)
{
    struct aload *al = arg;
    if (err < 0 || !al->status) {
        aload_stale(pr, al);
        return;
    }
    acct_store(pr->path.account, &al->ai, al->sent_ms, al->gen);
    al->then(pr, al, &al->ai);
}

static void aload_failed(struct px_req *pr, int status, const struct px_hdrs *hdrs, void *arg)
{
    (void)hdrs;
    struct aload *al = arg;
    if (status != 404) {
        /* The account may be enabled and hold rules: never "no rules". */
        log_warn("%s: account info for storlet rules: %d", pr->path.account, status);
        aload_stale(pr, al);
        return;
    }
    /* No account: not enabled, no document (autocreate makes it later). */
    al->ai.enabled = false;
    al->ai.rules = "";
    al->ai.marks = "";
    al->then(pr, al, &al->ai);
}

static const struct px_read_ops aload_ops = {
    .usable = usable_2xx,
    .response = aload_response,
    .failed = aload_failed,
    .end = aload_end,
};

static void ainfo_get(struct px_req *pr, struct aload *al)
{
    struct px_rules_account ai;
    if (acct_cached(pr, pr->path.account, &ai)) {
        al->then(pr, al, &ai);
        return;
    }
    al->sent_ms = px_now_ms();
    al->gen = acct_generation();
    px_nodes_get(pr, PX_RING_ACCOUNT, pr->path.account, NULL, NULL, 3, &al->nodes);
    px_read_start(pr, "HEAD", &al->nodes, pr->path.account, NULL, NULL, NULL, &aload_ops, al);
}

/* ------------------------------------------------------------ loading */

bool px_rules_code_container(const char *container)
{
    return container && (strcmp(container, ENG_STORLET_CONTAINER) == 0 ||
                         strcmp(container, ENG_DEPENDENCY_CONTAINER) == 0);
}

static void rules_have_account(struct px_req *pr, struct aload *al,
                               const struct px_rules_account *ai)
{
    struct px_rules *r = pr->rules;
    bool docs = (ai->rules && ai->rules[0]) || (al->cont_doc && al->cont_doc[0]);
    /* plain rules are defaults for running storlets: they apply only
     * where storlets run (an enabled account, a proxy with an engine) */
    bool plain = ai->enabled && pr->srv->eng;
    if (ai->enabled || docs || ai->mark) {
        bool bad = false;
        if (ai->rules && ai->rules[0])
            r->sets.account = doc_get(pr, ai->rules, &bad);
        if (!bad && al->cont_doc && al->cont_doc[0])
            r->sets.container = doc_get(pr, al->cont_doc, &bad);
        if (bad) {
            px_reply(pr, 503);
            return;
        }
        r->any_mandatory = eng_rules_has_mandatory(r->sets.account) ||
                           eng_rules_has_mandatory(r->sets.container);
        r->account_mandatory = ai->mark || eng_rules_has_mandatory(r->sets.account);
        /* Storlets turned off under a mandatory rule, for the account or
         * on this proxy: the rule still holds (reads it covers cannot run,
         * so they fail: 400 Account disabled for storlets, or 503 from a
         * proxy without storlets), never raw data. The mark keeps rules
         * on for the account's other containers too: a copy's source, a
         * DLO's segments and the code containers (4.12) are judged by
         * documents other than this request's. Plain rules lapse. */
        r->on = plain || r->any_mandatory || r->account_mandatory;
        if (!plain && r->on) {
            r->sets.account = eng_rules_has_mandatory(r->sets.account) ? r->sets.account : NULL;
            r->sets.container =
                eng_rules_has_mandatory(r->sets.container) ? r->sets.container : NULL;
        }
    }
    al->rules_then(pr, r);
}

void px_rules_load(struct px_req *pr, const char *cont_doc,
                   void (*then)(struct px_req *pr, const struct px_rules *r))
{
    struct px_rules *r = pool_calloc(pr->pool, sizeof(*r));
    pr->rules = r;
    /* the proxy's own chain already holds this read's or write's rules
     * (a proxy without storlets mints no such capability, but still
     * loads the rules: it must refuse what it cannot run) */
    if (px_cap_granted(pr, PX_CAP_RULED)) {
        then(pr, r);
        return;
    }
    struct aload *al = pool_calloc(pr->pool, sizeof(*al));
    al->cont_doc = cont_doc ? pool_strdup(pr->pool, cont_doc) : NULL;
    al->rules_then = then;
    al->then = rules_have_account;
    ainfo_get(pr, al);
}

void px_rules_load_segments(struct px_req *pr,
                            void (*then)(struct px_req *pr, const struct px_rules *r))
{
    struct px_rules *r = pool_calloc(pr->pool, sizeof(*r));
    pr->rules = r;
    if (!pr->srv->eng) {
        then(pr, r);
        return;
    }
    struct aload *al = pool_calloc(pr->pool, sizeof(*al));
    al->rules_then = then;
    al->then = rules_have_account;
    ainfo_get(pr, al);
}

static void info_have_account(struct px_req *pr, struct aload *al,
                              const struct px_rules_account *ai)
{
    al->info_then(pr, ai, al->info_arg);
}

static void account_info(struct px_req *pr,
                         void (*then)(struct px_req *pr, const struct px_rules_account *ai,
                                      void *arg),
                         void *arg, bool or_null)
{
    struct aload *al = pool_calloc(pr->pool, sizeof(*al));
    al->info_then = then;
    al->info_arg = arg;
    al->or_null = or_null;
    al->then = info_have_account;
    ainfo_get(pr, al);
}

void px_rules_account_info(struct px_req *pr,
                           void (*then)(struct px_req *pr, const struct px_rules_account *ai,
                                        void *arg),
                           void *arg)
{
    account_info(pr, then, arg, false);
}

void px_rules_account_info_or_null(struct px_req *pr,
                                   void (*then)(struct px_req *pr,
                                                const struct px_rules_account *ai, void *arg),
                                   void *arg)
{
    account_info(pr, then, arg, true);
}

/* The quoted name of a container, as its mark holds it. */
static char *mark_value(struct px_req *pr, const char *container)
{
    size_t n = strlen(container);
    char *q = pool_alloc(pr->pool, 3 * n + 1);
    names_quote(container, n, "", q);
    return q;
}

void px_rules_mark_header(struct px_req *pr, struct http_client *c, const char *container,
                          bool set)
{
    char hex[MD5_HEX_LEN];
    struct md5 m;
    md5_init(&m);
    md5_update(&m, container, strlen(container));
    md5_final_hex(&m, hex);
    char name[sizeof(PX_RULES_MARK_PREFIX) + MD5_HEX_LEN];
    snprintf(name, sizeof(name), "%s%s", PX_RULES_MARK_PREFIX, hex);
    http_client_header(c, name, set ? mark_value(pr, container) : "");
}

bool px_rules_marked(struct px_req *pr, const char *marks, const char *container)
{
    const char *q = mark_value(pr, container);
    size_t n = strlen(q);
    for (const char *p = marks; p && *p;) {
        size_t len = strcspn(p, ",");
        if (len == n && strncmp(p, q, n) == 0)
            return true;
        p += len;
        if (*p == ',')
            p++;
    }
    return false;
}

/* ------------------------------------------------------------ facts */

void px_rules_facts(const struct px_req *pr, enum eng_rules_method m, const char *object,
                    const char *content_type, json_t *metadata, struct eng_rules_facts *f)
{
    memset(f, 0, sizeof(*f));
    f->method = m;
    f->object = object;
    f->content_type = content_type;
    f->metadata = metadata;
    if (!pr->authenticated || pr->ngroups < 2)
        return;   /* anonymous: no user, no account, no groups */
    /* px_auth's list: account, account:user, then the groups */
    const char *pfx = px_auth_reseller_prefix(pr->srv->auth);
    size_t n = strlen(pfx) + strlen(pr->groups[0]) + 1;
    char *acct = pool_alloc(pr->pool, n);
    snprintf(acct, n, "%s%s", pfx, pr->groups[0]);
    f->caller_account = acct;
    f->caller_user = pr->groups[1];
    f->groups = pr->groups;
    f->ngroups = pr->ngroups;
}

bool px_rules_subject(const struct px_req *pr, const struct px_rules *r, const char *object,
                      const char *content_type, json_t *metadata, enum eng_rules_side side)
{
    if (!r || !r->on || !r->any_mandatory || px_rules_code_container(pr->path.container))
        return false;
    struct eng_rules_facts f;
    if (r->facts && object == pr->path.object && !content_type && !metadata) {
        content_type = r->ctype;
        metadata = r->meta;
    }
    px_rules_facts(pr, side == ENG_RULES_READ ? ENG_RULES_GET : ENG_RULES_PUT, object,
                   content_type, metadata, &f);
    return eng_rules_subject(&f, &r->sets, side);
}

/* ------------------------------------------------------------ listings */

static void xml_text(struct evbuffer *out, const char *s, bool attr)
{
    for (const char *p = s; *p; p++) {
        switch (*p) {
        case '&': evbuffer_add(out, "&amp;", 5); break;
        case '<': evbuffer_add(out, "&lt;", 4); break;
        case '>': evbuffer_add(out, "&gt;", 4); break;
        case '"': attr ? evbuffer_add(out, "&quot;", 6) : evbuffer_add(out, p, 1); break;
        case '\r': attr ? evbuffer_add(out, "&#13;", 5) : evbuffer_add(out, p, 1); break;
        case '\n': attr ? evbuffer_add(out, "&#10;", 5) : evbuffer_add(out, p, 1); break;
        case '\t': attr ? evbuffer_add(out, "&#09;", 5) : evbuffer_add(out, p, 1); break;
        default: evbuffer_add(out, p, 1); break;
        }
    }
}

static void xml_elem(struct evbuffer *out, const char *tag, const char *text)
{
    evbuffer_add_printf(out, "<%s>", tag);
    xml_text(out, text, false);
    evbuffer_add_printf(out, "</%s>", tag);
}

static const char *str_of(json_t *row, const char *key, char *num, size_t numsz)
{
    json_t *v = json_object_get(row, key);
    if (json_is_string(v))
        return json_string_value(v);
    if (json_is_integer(v)) {
        snprintf(num, numsz, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
        return num;
    }
    return "";
}

int px_rules_listing(const struct px_req *pr, const struct px_rules *r, const char *json,
                     size_t len, bool xml, struct evbuffer *out)
{
    json_error_t je;
    json_t *rows = json_loadb(json, len, 0, &je);
    if (!json_is_array(rows)) {
        json_decref(rows);
        return -EINVAL;
    }
    size_t i;
    json_t *row;
    json_array_foreach(rows, i, row) {
        json_t *name = json_object_get(row, "name");
        if (!json_is_object(row) || !json_is_string(name))
            continue;   /* a subdir row: a name only */
        json_t *ct = json_object_get(row, "content_type");
        if (!px_rules_subject(pr, r, json_string_value(name),
                              json_is_string(ct) ? json_string_value(ct) : NULL, NULL,
                              ENG_RULES_READ))
            continue;
        /* the keys stay (clients expect them); their values say nothing */
        json_object_set_new(row, "hash", json_string(""));
        json_object_set_new(row, "bytes", json_integer(0));
        json_object_set_new(row, "storlet_rule", json_true());
    }
    if (!xml) {
        char *s = json_dumps(rows, JSON_PRESERVE_ORDER | JSON_ENSURE_ASCII);
        json_decref(rows);
        if (!s)
            return -ENOMEM;
        evbuffer_add(out, s, strlen(s));
        free(s);
        return 0;
    }
    /* Swift's container XML (ElementTree's tostring), as the container
     * server writes it (objectd/obj_listing.c) */
    const char *cont = pr->path.container;
    evbuffer_add_printf(out, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<container name=\"");
    xml_text(out, cont, true);
    if (json_array_size(rows) == 0) {
        evbuffer_add(out, "\" />", 4);
        json_decref(rows);
        return 0;
    }
    evbuffer_add(out, "\">", 2);
    json_array_foreach(rows, i, row) {
        char num[32];
        json_t *sub = json_object_get(row, "subdir");
        if (json_is_string(sub)) {
            evbuffer_add(out, "<subdir name=\"", 14);
            xml_text(out, json_string_value(sub), true);
            evbuffer_add(out, "\">", 2);
            xml_elem(out, "name", json_string_value(sub));
            evbuffer_add(out, "</subdir>", 9);
            continue;
        }
        evbuffer_add(out, "<object>", 8);
        static const char *const keys[] = {"name", "hash", "bytes", "content_type",
                                           "last_modified"};
        for (size_t k = 0; k < sizeof(keys) / sizeof(keys[0]); k++)
            xml_elem(out, keys[k], str_of(row, keys[k], num, sizeof(num)));
        if (json_is_true(json_object_get(row, "storlet_rule")))
            xml_elem(out, "storlet_rule", "true");
        evbuffer_add(out, "</object>", 9);
    }
    evbuffer_add(out, "</container>", 12);
    json_decref(rows);
    return 0;
}

int px_rules_subject_in(struct px_req *pr, const char *container, const char *cont_doc,
                        const char *object, enum eng_rules_side side)
{
    const struct px_rules *r = pr->rules;
    if (!r || !r->on || px_rules_code_container(container))
        return 0;
    struct eng_rules_sets sets = {NULL, r->sets.account};
    bool bad = false;
    if (cont_doc && cont_doc[0])
        sets.container = doc_get(pr, cont_doc, &bad);
    if (bad)
        return -EIO;
    if (!eng_rules_has_mandatory(sets.container) && !eng_rules_has_mandatory(sets.account))
        return 0;
    struct eng_rules_facts f;
    px_rules_facts(pr, side == ENG_RULES_READ ? ENG_RULES_GET : ENG_RULES_PUT, object, NULL,
                   NULL, &f);
    return eng_rules_subject(&f, &sets, side) ? 1 : 0;
}

/* ------------------------------------------------------------ copies */

struct cload {
    const char *other;           /* container whose document is loaded */
    const char *saved;           /* pr->path.container */
    bool is_src;
    void (*then)(struct px_req *pr);
};

static void copy_other_loaded(struct px_req *pr, const struct px_cinfo *ci)
{
    struct px_rules *r = pr->rules;
    struct cload *cl = r->cload;
    pr->path.container = cl->saved;
    if (ci->status >= 500) {
        px_reply(pr, 503);
        return;
    }
    bool bad = false;
    const struct eng_rules *doc = NULL;
    if (ci->status < 300 && ci->rules && ci->rules[0])
        doc = doc_get(pr, ci->rules, &bad);
    if (bad) {
        px_reply(pr, 503);
        return;
    }
    struct eng_rules_sets *side = cl->is_src ? &r->copy_src : &r->copy_dst;
    side->container = px_rules_code_container(cl->other) ? NULL : doc;
    cl->then(pr);
}

void px_rules_load_copy(struct px_req *pr, const char *src_c, const char *src_o,
                        const char *dst_c, const char *dst_o, void (*then)(struct px_req *pr))
{
    struct px_rules *r = pr->rules;
    r->copy = true;
    r->copy_src_cont = src_c;
    r->copy_src_obj = src_o;
    r->copy_dst_obj = dst_o;
    const char *here = pr->path.container;
    const struct eng_rules *mine = px_rules_code_container(here) ? NULL : r->sets.container;
    r->copy_src.account = r->sets.account;
    r->copy_dst.account = r->sets.account;
    bool src_here = strcmp(src_c, here) == 0, dst_here = strcmp(dst_c, here) == 0;
    if (src_here)
        r->copy_src.container = mine;
    if (dst_here)
        r->copy_dst.container = mine;
    if (src_here && dst_here) {
        then(pr);
        return;
    }
    struct cload *cl = pool_calloc(pr->pool, sizeof(*cl));
    cl->is_src = !src_here;
    cl->other = cl->is_src ? src_c : dst_c;
    cl->saved = here;
    cl->then = then;
    r->cload = cl;
    pr->path.container = cl->other;
    px_cinfo_get(pr, copy_other_loaded);
}

/* ------------------------------------------------------------ chains */

static void json_put(void *arg)
{
    json_decref(arg);
}

static void facts_for(struct px_req *pr, enum eng_rules_method m, struct eng_rules_facts *f,
                      const char *object)
{
    if (m == ENG_RULES_PUT) {
        const struct http_head *h = http_req_head(pr->req);
        json_t *meta = json_object();
        for (unsigned i = 0; i < h->nheaders; i++)
            if (strncasecmp(h->headers[i].name, "X-Object-Meta-", 14) == 0)
                json_object_set_new(meta, h->headers[i].name + 14,
                                    json_string(h->headers[i].value));
        pool_cleanup_add(pr->pool, json_put, meta);
        px_rules_facts(pr, m, object, http_req_header(pr->req, "Content-Type"), meta, f);
        return;
    }
    const struct px_rules *r = pr->rules;
    bool mine = r && r->facts &&
                object == (r->facts_copy_src ? r->copy_src_obj : pr->path.object);
    px_rules_facts(pr, m, object, mine ? r->ctype : NULL, mine ? r->meta : NULL, f);
}

int px_rules_eval(struct px_req *pr, enum eng_rules_method m, const struct eng_seq *client,
                  struct eng_rules_decision *d, struct err *e)
{
    const struct px_rules *r = pr->rules;
    memset(d, 0, sizeof(*d));
    eng_seq_init(&d->chain);
    if (!r || !r->on || (m != ENG_RULES_COPY && px_rules_code_container(pr->path.container)) ||
        (m == ENG_RULES_COPY && !r->copy)) {
        if (client && eng_seq_extend(&d->chain, client, ENG_SEQ_MAX, e) < 0)
            return -E2BIG;
        d->main = client ? ENG_RULES_MAIN_EXPLICIT : ENG_RULES_MAIN_NONE;
        return 0;
    }
    struct eng_rules_facts f, df;
    if (m == ENG_RULES_COPY) {
        facts_for(pr, ENG_RULES_COPY, &f, r->copy_src_obj);
        facts_for(pr, ENG_RULES_PUT, &df, r->copy_dst_obj);
        df.method = ENG_RULES_PUT;
        return eng_rules_eval(&f, &r->copy_src, &df, &r->copy_dst, client, d, e);
    }
    facts_for(pr, m, &f, pr->path.object);
    return eng_rules_eval(&f, &r->sets, NULL, NULL, client, d, e);
}

/* ------------------------------------------------------------ object facts */

bool px_rules_need_facts(const struct px_req *pr)
{
    const struct px_rules *r = pr->rules;
    if (!r || !r->on || r->facts || px_rules_code_container(pr->path.container) ||
        !pr->path.object || !eng_rules_needs_object_facts(&r->sets))
        return false;
    enum http_method m = http_req_method(pr->req);
    return m == HTTP_M_GET || m == HTTP_M_HEAD || m == HTTP_M_POST || m == HTTP_M_COPY;
}

struct fread {
    struct px_nodes nodes;
    void (*then)(struct px_req *pr);
    int status;
};

static void fread_response(struct px_req *pr, struct px_read *rd, const struct http_head *h,
                           void *arg)
{
    (void)rd;
    struct fread *fr = arg;
    struct px_rules *r = pr->rules;
    fr->status = h->status;
    const char *ct = http_head_get(h, "Content-Type");
    const char *ts = http_head_get(h, "X-Timestamp");
    if (!ts || strlen(ts) >= sizeof(r->facts_ts))
        return;   /* facts without their version are not usable */
    r->ctype = ct ? pool_strdup(pr->pool, ct) : NULL;
    json_t *meta = json_object();
    for (unsigned i = 0; i < h->nheaders; i++)
        if (strncasecmp(h->headers[i].name, "X-Object-Meta-", 14) == 0)
            json_object_set_new(meta, h->headers[i].name + 14,
                                json_string(h->headers[i].value));
    pool_cleanup_add(pr->pool, json_put, meta);
    r->meta = meta;
    str_copy(r->facts_ts, ts, sizeof(r->facts_ts));
}

static void fread_end(struct px_req *pr, int err, void *arg)
{
    struct fread *fr = arg;
    if (err < 0 || !fr->status) {
        px_reply(pr, 503);
        return;
    }
    pr->rules->facts = true;
    fr->then(pr);
}

static void fread_failed(struct px_req *pr, int status, const struct px_hdrs *hdrs, void *arg)
{
    (void)hdrs;
    struct fread *fr = arg;
    if (status != 404) {
        px_reply(pr, 503);
        return;
    }
    pr->rules->facts = true;   /* none known: mandatory rules match */
    fr->then(pr);
}

static const struct px_read_ops fread_ops = {
    .usable = usable_2xx,
    .response = fread_response,
    .failed = fread_failed,
    .end = fread_end,
};

static void read_facts_of(struct px_req *pr, const char *c, const char *o,
                          void (*then)(struct px_req *pr))
{
    struct px_rules *r = pr->rules;
    r->facts = false;
    r->ctype = NULL;
    r->meta = NULL;
    r->facts_ts[0] = '\0';
    r->facts_reads++;
    struct fread *fr = pool_calloc(pr->pool, sizeof(*fr));
    fr->then = then;
    px_nodes_get(pr, PX_RING_OBJECT, pr->path.account, c, o, 3 * 2, &fr->nodes);
    px_read_start(pr, "HEAD", &fr->nodes, pr->path.account, c, o, NULL, &fread_ops, fr);
}

void px_rules_read_facts(struct px_req *pr, void (*then)(struct px_req *pr))
{
    pr->rules->facts_copy_src = false;
    read_facts_of(pr, pr->path.container, pr->path.object, then);
}

bool px_rules_need_copy_facts(const struct px_req *pr)
{
    const struct px_rules *r = pr->rules;
    return r && r->on && r->copy && !r->facts && r->copy_src_cont && r->copy_src_obj &&
           !px_rules_code_container(r->copy_src_cont) &&
           eng_rules_needs_object_facts(&r->copy_src);
}

void px_rules_read_copy_facts(struct px_req *pr, void (*then)(struct px_req *pr))
{
    struct px_rules *r = pr->rules;
    r->facts_copy_src = r->copy_src_obj != pr->path.object;
    read_facts_of(pr, r->copy_src_cont, r->copy_src_obj, then);
}

bool px_rules_facts_header(const struct px_req *pr, struct http_client *c)
{
    const struct px_rules *r = pr->rules;
    const char *v = NULL;
    if (r && r->facts && r->facts_ts[0])
        v = r->facts_ts;
    else if (px_cap_granted(pr, PX_CAP_RULED))
        /* the proxy's own read for a chain decided with these facts */
        v = http_req_header(pr->req, PX_RULES_FACTS_HEADER);
    if (v)
        http_client_header(c, PX_RULES_FACTS_HEADER, v);
    return v != NULL;
}

bool px_rules_facts_used(const struct px_req *pr)
{
    const struct px_rules *r = pr->rules;
    return r && r->facts && r->facts_ts[0];
}
