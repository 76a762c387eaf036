/*
 * eng_rules.c - storlet rules: the rule document's parser and checks, the
 * matcher and the decision of which chain runs (engine/eng_rules.h; user
 * contract in docs/rules.md).
 *
 * A parsed document keeps its canonical JSON (what is stored and shown)
 * and, per rule, borrowed pointers into it for matching plus the action as
 * a struct eng_seq. Rules are access control when mandatory, so the parser
 * refuses anything it does not understand (unknown keys, wrong types,
 * empty lists) instead of ignoring it: a typo must never silently widen
 * access. Immutable after parsing; pure functions; thread-safe.
 */
#include "engine/eng_rules.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/util.h"
#include "common/xalloc.h"

#define STR_MAX 256
#define PREFIX_MAX 1024
#define META_KEY_MAX 128
#define META_VALUE_MAX 256

enum { M_GET = 1 << 0, M_PUT = 1 << 1, M_COPY = 1 << 2 };

struct rule {
    const char *id;            /* into doc */
    bool mandatory;
    unsigned methods;
    json_t *users, *groups, *except_users, *except_groups, *tenants, *content_types;
    json_t *metadata;          /* object: string | true | false */
    const char *prefix;
    struct eng_seq action;
    json_t *action_json;       /* borrowed: the canonical action list */
};

struct eng_rules {
    json_t *doc;               /* canonical document */
    size_t n;
    struct rule *r;
};

/* ------------------------------------------------------------ parsing */

static bool id_ok(const char *s)
{
    size_t len = strlen(s);
    if (len == 0 || len > ENG_RULES_ID_MAX)
        return false;
    for (; *s; s++)
        if (!isalnum((unsigned char)*s) && *s != '_' && *s != '.' && *s != '-')
            return false;
    return true;
}

static bool token_ok(const char *s, size_t n)
{
    if (n == 0)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!isalnum((unsigned char)s[i]) && !strchr("!#$&^_.+-", s[i]))
            return false;
    return true;
}

/* "type/subtype", or "type/" and a star for a whole type */
static bool content_type_ok(const char *s)
{
    const char *slash = strchr(s, '/');
    if (!slash || !token_ok(s, (size_t)(slash - s)))
        return false;
    const char *sub = slash + 1;
    return strcmp(sub, "*") == 0 || token_ok(sub, strlen(sub));
}

static bool user_ok(const char *s)
{
    const char *c = strchr(s, ':');
    return c && c != s && c[1] && !strchr(c + 1, ':');
}

static bool any_ok(const char *s)
{
    (void)s;
    return true;
}

static bool meta_key_ok(const char *k)
{
    size_t len = strlen(k);
    if (len == 0 || len > META_KEY_MAX)
        return false;
    for (; *k; k++)
        if (*k <= ' ' || *k >= 0x7f || *k == ':')
            return false;
    return true;
}

/* A list of 1..ENG_RULES_LIST_MAX strings of 1..STR_MAX bytes. */
static int str_list(json_t *v, const char *key, bool (*ok)(const char *), const char *expect,
                    const char *where, struct err *e)
{
    if (!json_is_array(v) || json_array_size(v) == 0)
        return err_set(e, -EINVAL, "%s: match.%s: expected a non-empty list of strings", where,
                       key);
    if (json_array_size(v) > ENG_RULES_LIST_MAX)
        return err_set(e, -EINVAL, "%s: match.%s: more than %d entries", where, key,
                       ENG_RULES_LIST_MAX);
    size_t i;
    json_t *s;
    json_array_foreach(v, i, s) {
        const char *t = json_string_value(s);
        if (!t || !*t || strlen(t) > STR_MAX)
            return err_set(e, -EINVAL, "%s: match.%s[%zu]: expected a string of 1-%d bytes",
                           where, key, i, STR_MAX);
        if (!ok(t))
            return err_set(e, -EINVAL, "%s: match.%s[%zu]: '%.64s' is not %s", where, key, i, t,
                           expect);
    }
    return 0;
}

static int parse_methods(json_t *v, bool mandatory, unsigned *out, const char *where,
                         struct err *e)
{
    if (!json_is_array(v) || json_array_size(v) == 0)
        return err_set(e, -EINVAL, "%s: match.methods: expected a non-empty list", where);
    *out = 0;
    size_t i;
    json_t *s;
    json_array_foreach(v, i, s) {
        const char *m = json_string_value(s);
        if (!m)
            return err_set(e, -EINVAL, "%s: match.methods[%zu]: expected a string", where, i);
        if (strcasecmp(m, "GET") == 0) {
            *out |= M_GET;
        } else if (strcasecmp(m, "PUT") == 0) {
            *out |= M_PUT;
        } else if (strcasecmp(m, "COPY") == 0) {
            if (mandatory)
                return err_set(e, -EINVAL,
                               "%s: match.methods: a mandatory rule covers COPY through GET "
                               "(reading the source) and PUT (storing the destination); "
                               "name those",
                               where);
            *out |= M_COPY;
        } else if (strcasecmp(m, "HEAD") == 0) {
            return err_set(e, -EINVAL,
                           "%s: match.methods: no storlet runs on HEAD (a mandatory GET rule "
                           "governs HEAD too)",
                           where);
        } else {
            return err_set(e, -EINVAL,
                           "%s: match.methods[%zu]: '%.16s': expected GET, PUT or COPY", where,
                           i, m);
        }
    }
    return 0;
}

static int parse_metadata(json_t *v, const char *where, struct err *e)
{
    if (!json_is_object(v) || json_object_size(v) == 0)
        return err_set(e, -EINVAL, "%s: match.metadata: expected a non-empty object", where);
    if (json_object_size(v) > ENG_RULES_LIST_MAX)
        return err_set(e, -EINVAL, "%s: match.metadata: more than %d keys", where,
                       ENG_RULES_LIST_MAX);
    const char *k;
    json_t *x;
    json_object_foreach(v, k, x) {
        if (!meta_key_ok(k))
            return err_set(e, -EINVAL,
                           "%s: match.metadata: key '%.64s': 1-%d printable bytes without "
                           "':' or space (no X-Object-Meta- prefix)",
                           where, k, META_KEY_MAX);
        if (json_is_string(x) ? strlen(json_string_value(x)) > META_VALUE_MAX
                              : !json_is_boolean(x))
            return err_set(e, -EINVAL,
                           "%s: match.metadata.%.64s: expected a string of at most %d bytes "
                           "(equals), true (present) or false (absent)",
                           where, k, META_VALUE_MAX);
    }
    return 0;
}

static const char *const match_keys[] = {
    "methods", "users", "groups", "except_users", "except_groups", "tenants",
    "content_types", "metadata", "prefix",
};

/* Checks rule `src` (index i, 1-based) and builds its canonical form. */
static int parse_rule(json_t *src, size_t i, json_t **canon, const char *where0, struct err *e)
{
    char where[160];
    snprintf(where, sizeof(where), "%s: rule %zu", where0, i);
    if (!json_is_object(src))
        return err_set(e, -EINVAL, "%s: expected an object", where);
    const char *k;
    json_t *v;
    json_object_foreach(src, k, v) {
        if (strcmp(k, "id") != 0 && strcmp(k, "mandatory") != 0 && strcmp(k, "match") != 0 &&
            strcmp(k, "action") != 0)
            return err_set(e, -EINVAL,
                           "%s: unknown key \"%.64s\" (expected id, mandatory, match, action)",
                           where, k);
    }
    json_t *id = json_object_get(src, "id");
    char idbuf[ENG_RULES_ID_MAX + 1];
    if (id) {
        if (!json_is_string(id) || !id_ok(json_string_value(id)))
            return err_set(e, -EINVAL, "%s: id: 1-%d bytes of [A-Za-z0-9_.-]", where,
                           ENG_RULES_ID_MAX);
        str_copy(idbuf, json_string_value(id), sizeof(idbuf));
        snprintf(where, sizeof(where), "%s: rule %zu (%s)", where0, i, idbuf);
    } else {
        snprintf(idbuf, sizeof(idbuf), "rule%zu", i);
    }
    json_t *mand = json_object_get(src, "mandatory");
    if (mand && !json_is_boolean(mand))
        return err_set(e, -EINVAL, "%s: mandatory: expected true or false", where);
    bool mandatory = mand && json_is_true(mand);

    json_t *match = json_object_get(src, "match");
    if (match && !json_is_object(match))
        return err_set(e, -EINVAL, "%s: match: expected an object", where);
    json_t *cm = json_object();
    if (match) {
        json_object_foreach(match, k, v) {
            bool known = false;
            for (size_t j = 0; j < sizeof(match_keys) / sizeof(match_keys[0]); j++)
                known = known || strcmp(k, match_keys[j]) == 0;
            if (!known) {
                json_decref(cm);
                return err_set(e, -EINVAL, "%s: match: unknown key \"%.64s\"", where, k);
            }
        }
    }
    int rc = 0;
    unsigned methods = M_GET;
    json_t *mv = match ? json_object_get(match, "methods") : NULL;
    if (mv && (rc = parse_methods(mv, mandatory, &methods, where, e)) < 0)
        goto fail;
    json_t *ml = json_array();
    if (methods & M_GET)
        json_array_append_new(ml, json_string("GET"));
    if (methods & M_PUT)
        json_array_append_new(ml, json_string("PUT"));
    if (methods & M_COPY)
        json_array_append_new(ml, json_string("COPY"));
    json_object_set_new(cm, "methods", ml);

    static const struct {
        const char *key;
        bool (*ok)(const char *);
        const char *expect;
    } lists[] = {
        {"users", user_ok, "account:user"},
        {"except_users", user_ok, "account:user"},
        {"groups", any_ok, ""},
        {"except_groups", any_ok, ""},
        {"tenants", any_ok, ""},
        {"content_types", content_type_ok, "type/subtype or type/*"},
    };
    for (size_t j = 0; j < sizeof(lists) / sizeof(lists[0]); j++) {
        v = match ? json_object_get(match, lists[j].key) : NULL;
        if (!v)
            continue;
        if ((rc = str_list(v, lists[j].key, lists[j].ok, lists[j].expect, where, e)) < 0)
            goto fail;
        json_object_set(cm, lists[j].key, v);
    }
    v = match ? json_object_get(match, "metadata") : NULL;
    if (v) {
        if ((rc = parse_metadata(v, where, e)) < 0)
            goto fail;
        json_object_set(cm, "metadata", v);
    }
    v = match ? json_object_get(match, "prefix") : NULL;
    if (v) {
        if (!json_is_string(v) || !*json_string_value(v) ||
            strlen(json_string_value(v)) > PREFIX_MAX) {
            rc = err_set(e, -EINVAL, "%s: match.prefix: expected a string of 1-%d bytes", where,
                         PREFIX_MAX);
            goto fail;
        }
        json_object_set(cm, "prefix", v);
    }

    json_t *action = json_object_get(src, "action");
    if (!action) {
        rc = err_set(e, -EINVAL, "%s: action: missing (a storlet or a list of them)", where);
        goto fail;
    }
    struct eng_seq seq;
    eng_seq_init(&seq);
    char awhere[200];
    snprintf(awhere, sizeof(awhere), "%s: action", where);
    if ((rc = eng_seq_from_json(action, ENG_RULES_ACTION_MAX, awhere, &seq, e)) < 0)
        goto fail;
    *canon = json_pack("{s:s, s:b, s:o, s:o}", "id", idbuf, "mandatory", mandatory, "match", cm,
                       "action", eng_seq_to_json(&seq));
    eng_seq_release(&seq);
    return 0;
fail:
    json_decref(cm);
    return rc;
}

static const char *sv(json_t *o, const char *k)
{
    return json_string_value(json_object_get(o, k));
}

static json_t *list_or_null(json_t *o, const char *k)
{
    return json_object_get(o, k);
}

/* Fills r (already sized) from the canonical document. */
static void index_rules(struct eng_rules *r)
{
    json_t *rules = json_object_get(r->doc, "rules");
    r->n = json_array_size(rules);
    r->r = xcalloc(r->n ? r->n : 1, sizeof(*r->r));
    for (size_t i = 0; i < r->n; i++) {
        json_t *c = json_array_get(rules, i);
        json_t *m = json_object_get(c, "match");
        struct rule *x = &r->r[i];
        x->id = sv(c, "id");
        x->mandatory = json_is_true(json_object_get(c, "mandatory"));
        size_t j;
        json_t *mm;
        json_array_foreach(json_object_get(m, "methods"), j, mm) {
            const char *s = json_string_value(mm);
            x->methods |= strcmp(s, "GET") == 0 ? M_GET : strcmp(s, "PUT") == 0 ? M_PUT : M_COPY;
        }
        x->users = list_or_null(m, "users");
        x->groups = list_or_null(m, "groups");
        x->except_users = list_or_null(m, "except_users");
        x->except_groups = list_or_null(m, "except_groups");
        x->tenants = list_or_null(m, "tenants");
        x->content_types = list_or_null(m, "content_types");
        x->metadata = json_object_get(m, "metadata");
        x->prefix = sv(m, "prefix");
        x->action_json = json_object_get(c, "action");
        eng_seq_init(&x->action);
        struct err e;
        int rc = eng_seq_from_json(x->action_json, ENG_RULES_ACTION_MAX, "action", &x->action,
                                   &e);
        (void)rc;   /* checked when the canonical form was built */
    }
}

struct eng_rules *eng_rules_parse(const char *text, size_t len, const char *where,
                                  struct err *e)
{
    if (len > ENG_RULES_DOC_MAX) {
        err_set(e, -EINVAL, "%s: the document is %zu bytes, at most %d", where, len,
                ENG_RULES_DOC_MAX);
        return NULL;
    }
    json_error_t je;
    json_t *src = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
    json_t *out = NULL;
    struct eng_rules *r = NULL;
    if (!src) {
        err_set(e, -EINVAL, "%s: not JSON: %s at character %d", where, je.text, je.position);
        goto out;
    }
    if (!json_is_object(src)) {
        err_set(e, -EINVAL, "%s: expected an object {\"rules\": [...]}", where);
        goto out;
    }
    const char *k;
    json_t *v;
    json_object_foreach(src, k, v) {
        if (strcmp(k, "rules") != 0 && strcmp(k, "version") != 0) {
            err_set(e, -EINVAL, "%s: unknown key \"%.64s\" (expected version, rules)", where, k);
            goto out;
        }
    }
    v = json_object_get(src, "version");
    if (v && !(json_is_integer(v) && json_integer_value(v) == 1)) {
        err_set(e, -EINVAL, "%s: version: only 1 is known", where);
        goto out;
    }
    json_t *rules = json_object_get(src, "rules");
    if (!json_is_array(rules)) {
        err_set(e, -EINVAL, "%s: rules: expected a list", where);
        goto out;
    }
    if (json_array_size(rules) > ENG_RULES_MAX) {
        err_set(e, -EINVAL, "%s: rules: more than %d rules", where, ENG_RULES_MAX);
        goto out;
    }
    json_t *canon = json_array();
    out = json_pack("{s:i, s:o}", "version", 1, "rules", canon);
    size_t i;
    json_array_foreach(rules, i, v) {
        json_t *c = NULL;
        if (parse_rule(v, i + 1, &c, where, e) < 0)
            goto out;
        const char *id = sv(c, "id");
        for (size_t j = 0; j < i; j++) {
            if (strcmp(sv(json_array_get(canon, j), "id"), id) == 0) {
                err_set(e, -EINVAL, "%s: rule %zu: id '%s' is also rule %zu's", where, i + 1,
                        id, j + 1);
                json_decref(c);
                goto out;
            }
        }
        json_array_append_new(canon, c);
    }
    /* defaults filled in make the stored form longer than the input: it
     * must still fit the sysmeta header */
    char *stored = json_dumps(out, JSON_COMPACT | JSON_SORT_KEYS);
    size_t slen = strlen(stored);
    free(stored);
    if (slen > ENG_RULES_DOC_MAX) {
        err_set(e, -EINVAL, "%s: the stored form would be %zu bytes, at most %d", where, slen,
                ENG_RULES_DOC_MAX);
        goto out;
    }
    r = xcalloc(1, sizeof(*r));
    r->doc = out;
    out = NULL;
    index_rules(r);
    err_clear(e);
out:
    json_decref(src);
    json_decref(out);
    return r;
}

void eng_rules_free(struct eng_rules *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->n; i++)
        eng_seq_release(&r->r[i].action);
    free(r->r);
    json_decref(r->doc);
    free(r);
}

size_t eng_rules_count(const struct eng_rules *r)
{
    return r ? r->n : 0;
}

bool eng_rules_has_mandatory(const struct eng_rules *r)
{
    for (size_t i = 0; r && i < r->n; i++)
        if (r->r[i].mandatory)
            return true;
    return false;
}

char *eng_rules_serialize(const struct eng_rules *r)
{
    return json_dumps(r->doc, JSON_COMPACT | JSON_SORT_KEYS);
}

/* ------------------------------------------------------------ matching */

enum eng_rules_method eng_rules_method_of(const char *method, bool copy_from)
{
    if (!method)
        return ENG_RULES_OTHER;
    if (strcmp(method, "GET") == 0)
        return ENG_RULES_GET;
    if (strcmp(method, "HEAD") == 0)
        return ENG_RULES_HEAD;
    if (strcmp(method, "PUT") == 0)
        return copy_from ? ENG_RULES_COPY : ENG_RULES_PUT;
    if (strcmp(method, "COPY") == 0)
        return ENG_RULES_COPY;
    return ENG_RULES_OTHER;
}

static bool in_list(json_t *list, const char *s)
{
    if (!s)
        return false;
    size_t i;
    json_t *x;
    json_array_foreach(list, i, x)
        if (strcmp(json_string_value(x), s) == 0)
            return true;
    return false;
}

static bool any_group_in(json_t *list, const struct eng_rules_facts *f)
{
    for (size_t i = 0; i < f->ngroups; i++)
        if (in_list(list, f->groups[i]))
            return true;
    return false;
}

/* "text/CSV; charset=utf-8" against "text/csv", or "text/" and a star. */
static bool content_type_match(json_t *list, const char *ct)
{
    while (*ct == ' ' || *ct == '\t')
        ct++;
    size_t n = strcspn(ct, ";");
    while (n > 0 && (ct[n - 1] == ' ' || ct[n - 1] == '\t'))
        n--;
    size_t i;
    json_t *x;
    json_array_foreach(list, i, x) {
        const char *p = json_string_value(x);
        size_t pl = strlen(p);
        if (pl >= 2 && strcmp(p + pl - 2, "/*") == 0) {
            if (n > pl - 1 && strncasecmp(ct, p, pl - 1) == 0)
                return true;
        } else if (n == pl && strncasecmp(ct, p, n) == 0) {
            return true;
        }
    }
    return false;
}

static json_t *meta_get(json_t *meta, const char *key)
{
    const char *k;
    json_t *v;
    json_object_foreach(meta, k, v)
        if (strcasecmp(k, key) == 0)
            return v;
    return NULL;
}

static bool metadata_match(json_t *want, json_t *meta)
{
    const char *k;
    json_t *w;
    json_object_foreach(want, k, w) {
        json_t *have = meta_get(meta, k);
        if (json_is_true(w) ? !have
            : json_is_false(w) ? have != NULL
            : !(json_is_string(have) &&
                strcmp(json_string_value(have), json_string_value(w)) == 0))
            return false;
    }
    return true;
}

/*
 * Whether rule x matches f. The caller's facts are always known; object,
 * content type and metadata may not be: then `unknown` is the answer for
 * that criterion (true for mandatory rules: fail closed).
 */
static bool rule_match(const struct rule *x, const struct eng_rules_facts *f, bool unknown)
{
    if (x->users && !in_list(x->users, f->caller_user))
        return false;
    if (x->except_users && in_list(x->except_users, f->caller_user))
        return false;
    if (x->groups && !any_group_in(x->groups, f))
        return false;
    if (x->except_groups && any_group_in(x->except_groups, f))
        return false;
    if (x->tenants && !in_list(x->tenants, f->caller_account))
        return false;
    if (x->prefix && !(f->object ? str_has_prefix(f->object, x->prefix) : unknown))
        return false;
    if (x->content_types &&
        !(f->content_type ? content_type_match(x->content_types, f->content_type) : unknown))
        return false;
    if (x->metadata && !(f->metadata ? metadata_match(x->metadata, f->metadata) : unknown))
        return false;
    return true;
}

/* ------------------------------------------------------------ decisions */

void eng_rules_decision_release(struct eng_rules_decision *d)
{
    eng_seq_release(&d->chain);
}

struct builder {
    struct eng_rules_decision *d;
    json_t *seen;           /* mandatory actions already in the chain */
    int rc;
    struct err *e;
};

static void note_id(struct eng_rules_decision *d, const char *id)
{
    size_t used = strlen(d->applied);
    snprintf(d->applied + used, sizeof(d->applied) - used, "%s%s", used ? "," : "", id);
}

static void add(struct builder *b, const struct rule *x, bool dedupe)
{
    if (b->rc < 0)
        return;
    if (dedupe) {
        size_t i;
        json_t *a;
        json_array_foreach(b->seen, i, a)
            if (json_equal(a, x->action_json))
                return;
        json_array_append(b->seen, x->action_json);
    }
    if (eng_seq_extend(&b->d->chain, &x->action, ENG_SEQ_MAX, b->e) < 0) {
        b->rc = err_set(b->e, -E2BIG,
                        "the storlet rules and the request together name more than %d stages",
                        ENG_SEQ_MAX);
        return;
    }
    if (x->mandatory)
        b->d->mandatory = true;
    note_id(b->d, x->id);
}

static void add_mandatory(struct builder *b, const struct eng_rules *r,
                          const struct eng_rules_facts *f, unsigned bit)
{
    for (size_t i = 0; r && i < r->n; i++)
        if (r->r[i].mandatory && (r->r[i].methods & bit) && rule_match(&r->r[i], f, true))
            add(b, &r->r[i], true);
}

static const struct rule *first_plain(const struct eng_rules_sets *s,
                                      const struct eng_rules_facts *f, unsigned bit)
{
    const struct eng_rules *order[2] = {s ? s->container : NULL, s ? s->account : NULL};
    for (int k = 0; k < 2; k++)
        for (size_t i = 0; order[k] && i < order[k]->n; i++) {
            const struct rule *x = &order[k]->r[i];
            if (!x->mandatory && (x->methods & bit) && rule_match(x, f, false))
                return x;
        }
    return NULL;
}

int eng_rules_eval(const struct eng_rules_facts *f, const struct eng_rules_sets *src,
                   const struct eng_rules_facts *dst_f, const struct eng_rules_sets *dst,
                   const struct eng_seq *explicit_chain, struct eng_rules_decision *d,
                   struct err *e)
{
    memset(d, 0, sizeof(*d));
    eng_seq_init(&d->chain);
    struct builder b = {d, json_array(), 0, e};
    const struct eng_rules *sc = src ? src->container : NULL;
    const struct eng_rules *sa = src ? src->account : NULL;
    enum eng_rules_method m = f->method;

    /* reads: the container's mandatory storlets nearest the stored bytes */
    if (m == ENG_RULES_GET || m == ENG_RULES_HEAD || m == ENG_RULES_COPY) {
        add_mandatory(&b, sc, f, M_GET);
        add_mandatory(&b, sa, f, M_GET);
        d->n_pre = d->chain.n;
    }
    if (m == ENG_RULES_GET || m == ENG_RULES_PUT || m == ENG_RULES_COPY) {
        if (explicit_chain && explicit_chain->n > 0) {
            if (b.rc == 0 && eng_seq_extend(&d->chain, explicit_chain, ENG_SEQ_MAX, e) < 0)
                b.rc = err_set(e, -E2BIG,
                               "the storlet rules and the request together name more than %d "
                               "stages",
                               ENG_SEQ_MAX);
            d->main = ENG_RULES_MAIN_EXPLICIT;
        } else {
            unsigned bit = m == ENG_RULES_GET ? M_GET : m == ENG_RULES_PUT ? M_PUT : M_COPY;
            const struct rule *x = first_plain(src, f, bit);
            if (x) {
                add(&b, x, false);
                d->main = ENG_RULES_MAIN_PLAIN;
            }
        }
    }
    /* writes: the container's mandatory storlets nearest the stored bytes,
     * so they run last */
    const struct eng_rules_facts *wf = m == ENG_RULES_PUT ? f : m == ENG_RULES_COPY ? dst_f : NULL;
    const struct eng_rules_sets *ws = m == ENG_RULES_PUT ? src : m == ENG_RULES_COPY ? dst : NULL;
    if (wf && ws) {
        unsigned before = d->chain.n;
        json_array_clear(b.seen);
        add_mandatory(&b, ws->account, wf, M_PUT);
        add_mandatory(&b, ws->container, wf, M_PUT);
        d->n_post = d->chain.n - before;
    }
    json_decref(b.seen);
    if (b.rc < 0) {
        eng_rules_decision_release(d);
        memset(d, 0, sizeof(*d));
        return b.rc;
    }
    return 0;
}

bool eng_rules_subject(const struct eng_rules_facts *f, const struct eng_rules_sets *sets,
                       enum eng_rules_side side)
{
    unsigned bit = side == ENG_RULES_READ ? M_GET : M_PUT;
    const struct eng_rules *order[2] = {sets ? sets->container : NULL,
                                        sets ? sets->account : NULL};
    for (int k = 0; k < 2; k++)
        for (size_t i = 0; order[k] && i < order[k]->n; i++) {
            const struct rule *x = &order[k]->r[i];
            if (x->mandatory && (x->methods & bit) && rule_match(x, f, true))
                return true;
        }
    return false;
}

bool eng_rules_needs_object_facts(const struct eng_rules_sets *sets)
{
    const struct eng_rules *order[2] = {sets ? sets->container : NULL,
                                        sets ? sets->account : NULL};
    for (int k = 0; k < 2; k++)
        for (size_t i = 0; order[k] && i < order[k]->n; i++)
            if (order[k]->r[i].content_types || order[k]->r[i].metadata)
                return true;
    return false;
}

bool eng_rules_may_manage(const char *account, const char *const *groups, size_t ngroups)
{
    for (size_t i = 0; i < ngroups; i++)
        if (strcmp(groups[i], ".reseller_admin") == 0 || (account && strcmp(groups[i], account) == 0))
            return true;
    return false;
}
