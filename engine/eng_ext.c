/*
 * eng_ext.c - the extension service: which storlet runs on a request and
 * where, its parameters, and the deployment checks on uploads into the
 * `storlet` and `dependency` containers, and the interim answers that
 * carry a run's wall budget (eng_tell_budget, eng_budget_of).
 *
 * Everything here is a pure function of a request head (docs/storlets.md
 * sections 1 and 2 are the rules); the daemons call it before they touch a
 * backend, so a rejected request costs nothing. Reentrant, thread-safe.
 */
#include "engine/eng.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "common/http.h"
#include "common/http_parser.h"
#include "common/names.h"
#include "common/util.h"
#include "common/xalloc.h"
#include "engine/eng_seq.h"

#define PARAM_NAME_MAX 128
#define PARAM_VALUE_MAX 1024
#define PARAMS_MAX 64
#define DEPS_MAX 16
#define PARAM_HDR "X-Storlet-Parameter-"

static void reject(struct eng_decision *d, int status, const char *reason)
{
    d->where = ENG_REJECT;
    d->status = status;
    str_copy(d->reason, reason, sizeof(d->reason));
}

/* "bytes=a-b", "bytes=a-", "bytes=-n": exactly one range. */
int eng_storlet_range_parse(const char *v, struct eng_decision *d)
{
    if (strncasecmp(v, "bytes=", 6) != 0)
        return -EINVAL;
    v += 6;
    if (strchr(v, ','))
        return -EINVAL;
    const char *dash = strchr(v, '-');
    if (!dash)
        return -EINVAL;
    uint64_t a = 0, b = 0;
    if (dash == v) {
        if (parse_u64(dash + 1, &b) < 0 || b == 0)
            return -EINVAL;
        d->range_suffix = true;
        d->range_last = b;
    } else {
        if (parse_u64n(v, (size_t)(dash - v), &a) < 0)
            return -EINVAL;
        d->range_first = a;
        if (dash[1] == '\0') {
            d->range_open = true;
        } else {
            if (parse_u64(dash + 1, &b) < 0 || b < a)
                return -EINVAL;
            d->range_last = b;
        }
    }
    d->has_range = true;
    return 0;
}

static bool truthy(const char *v)
{
    return v && (strcasecmp(v, "true") == 0 || strcasecmp(v, "yes") == 0 ||
                 strcasecmp(v, "on") == 0 || strcmp(v, "1") == 0 ||
                 strcasecmp(v, "t") == 0 || strcasecmp(v, "y") == 0);
}

bool eng_account_enabled(const char *value)
{
    return truthy(value);
}

static bool query_has_manifest(const char *query);

bool eng_manifest_put(const struct http_head *h)
{
    if (http_head_get(h, "X-Object-Manifest"))
        return true;
    const char *q = h->target ? strchr(h->target, '?') : NULL;
    return q && query_has_manifest(q + 1);
}

void eng_decide(enum eng_role role, const struct http_head *h, struct eng_decision *d)
{
    memset(d, 0, sizeof(*d));
    const char *name = http_head_get(h, "X-Run-Storlet");
    if (!name)
        return;
    d->storlet = name;
    if (!*name || strchr(name, '/')) {
        reject(d, 400, "X-Run-Storlet: expected the name of an object in the storlet container");
        return;
    }
    const char *m = h->method ? h->method : "";
    bool copy_from = http_head_get(h, "X-Copy-From") != NULL;
    if (strcmp(m, "GET") == 0)
        d->op = ENG_OP_GET;
    else if (strcmp(m, "PUT") == 0)
        d->op = copy_from ? ENG_OP_COPY : ENG_OP_PUT;
    else if (strcmp(m, "COPY") == 0)
        d->op = ENG_OP_COPY;
    else
        return;   /* HEAD, POST, DELETE, OPTIONS: nothing runs */

    const char *rop = http_head_get(h, "X-Storlet-Run-On-Proxy");
    if (rop && *rop) {
        reject(d, 400, "X-Storlet-Run-On-Proxy: must be empty");
        return;
    }
    d->on_proxy = rop != NULL || d->op == ENG_OP_PUT;
    if (http_head_get(h, "Range")) {
        reject(d, 400, "Range is not allowed with X-Run-Storlet: use X-Storlet-Range");
        return;
    }
    const char *sr = http_head_get(h, "X-Storlet-Range");
    if (sr && eng_storlet_range_parse(sr, d) < 0) {
        reject(d, 400, "X-Storlet-Range: expected one range, bytes=first-last");
        return;
    }
    if (sr && d->op == ENG_OP_PUT) {
        reject(d, 400, "X-Storlet-Range: not allowed on PUT");
        return;
    }
    if (d->op == ENG_OP_PUT && eng_manifest_put(h)) {
        reject(d, 400, "X-Run-Storlet: not on a large object's manifest PUT (the storlet "
                       "would read the manifest; the segments went up without it): upload "
                       "unsegmented, or COPY the assembled object through the storlet");
        return;
    }
    if (d->op == ENG_OP_COPY &&
        (http_head_get(h, "X-Copy-From-Account") || http_head_get(h, "Destination-Account") ||
         truthy(http_head_get(h, "X-Fresh-Metadata")))) {
        reject(d, 400, "a storlet on COPY works within one account and keeps metadata");
        return;
    }
    if (http_head_get(h, "X-Storlet-Extra-Resources")) {
        reject(d, 400, "X-Storlet-Extra-Resources: not supported");
        return;
    }
    d->generate_log = truthy(http_head_get(h, "X-Storlet-Generate-Log"));

    if (role == ENG_ROLE_OBJECT) {
        /* The proxy strips the headers of what it runs itself. */
        d->where = d->op == ENG_OP_GET && !d->on_proxy ? ENG_RUN_HERE : ENG_NONE;
        return;
    }
    d->where = d->on_proxy ? ENG_RUN_HERE : ENG_FORWARD;
}

/* ------------------------------------------------------------ parameters */

/* URL-decodes s[0..n) into a new string; plus_space turns '+' into ' '. */
static char *unquote(const char *s, size_t n, bool plus_space)
{
    char *out = xmalloc(n + 1);
    if (plus_space)
        names_unquote_plus(s, n, out);
    else
        names_unquote(s, n, out);
    return out;
}

static bool name_ok(const char *n)
{
    size_t len = strlen(n);
    if (len == 0 || len > PARAM_NAME_MAX)
        return false;
    for (const char *p = n; *p; p++)
        if (!isalnum((unsigned char)*p) && *p != '_' && *p != '.' && *p != '-')
            return false;
    return true;
}

static int param_add(json_t *o, char *k, char *v, struct err *e)
{
    int rc = 0;
    if (!name_ok(k))
        rc = err_set(e, -EINVAL, "parameter name '%.64s': 1-%d bytes of [A-Za-z0-9_.-]", k,
                     PARAM_NAME_MAX);
    else if (strncasecmp(k, "storlet_", 8) == 0)
        rc = err_set(e, -EINVAL, "parameter name '%.64s': names starting storlet_ are reserved",
                     k);
    else if (strlen(v) > PARAM_VALUE_MAX)
        rc = err_set(e, -EINVAL, "parameter '%s': value longer than %d bytes", k,
                     PARAM_VALUE_MAX);
    else if (json_object_get(o, k))
        rc = err_set(e, -EINVAL, "parameter '%s' given twice", k);
    else if (json_object_size(o) >= PARAMS_MAX)
        rc = err_set(e, -EINVAL, "more than %d parameters", PARAMS_MAX);
    else {
        json_t *s = json_string(v);
        if (!s)
            rc = err_set(e, -EINVAL, "parameter '%s': value is not UTF-8", k);
        else
            json_object_set_new(o, k, s);
    }
    free(k);
    free(v);
    return rc;
}

/* Query names Swift reads itself on an object request: never storlet
 * parameters. `format` is Swift's only beside multipart-manifest (an SLO's
 * `?multipart-manifest=get&format=raw`); alone, Swift reads it on listings
 * only, so on an object it is the storlet's (image-roi, deid and partlist
 * take one). */
static bool swift_query_name(const char *k, bool manifest)
{
    static const char *const names[] = {
        "multipart-manifest", "symlink", "temp_url_sig", "temp_url_expires",
        "temp_url_prefix", "filename", "inline",
    };
    if (strcmp(k, "format") == 0)
        return manifest;
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (strcmp(k, names[i]) == 0)
            return true;
    return false;
}

/* Whether the query names multipart-manifest (quoted or not). */
static bool query_has_manifest(const char *query)
{
    bool found = false;
    for (const char *q = query; q && *q && !found;) {
        const char *amp = strchr(q, '&');
        size_t n = amp ? (size_t)(amp - q) : strlen(q);
        const char *eq = memchr(q, '=', n);
        char *k = unquote(q, eq ? (size_t)(eq - q) : n, true);
        found = strcmp(k, "multipart-manifest") == 0;
        free(k);
        q += n + (amp ? 1 : 0);
    }
    return found;
}

json_t *eng_params(const struct http_head *h, const char *query, struct err *e)
{
    json_t *o = json_object();
    bool manifest = query_has_manifest(query);
    size_t plen = strlen(PARAM_HDR);
    for (unsigned i = 0; i < h->nheaders; i++) {
        const struct http_header *hd = &h->headers[i];
        if (hd->name_len <= plen || strncasecmp(hd->name, PARAM_HDR, plen) != 0)
            continue;
        const char *colon = strchr(hd->value, ':');
        if (!colon || colon == hd->value) {
            err_set(e, -EINVAL, "%s: expected key:value", hd->name);
            goto fail;
        }
        char *k = xstrndup(hd->value, (size_t)(colon - hd->value));
        /* keys are case-insensitive in Storlets (lower-cased) */
        for (char *p = k; *p; p++)
            *p = (char)tolower((unsigned char)*p);
        char *v = unquote(colon + 1, strlen(colon + 1), false);
        if (param_add(o, k, v, e) < 0)
            goto fail;
    }
    for (const char *q = query; q && *q;) {
        const char *amp = strchr(q, '&');
        size_t n = amp ? (size_t)(amp - q) : strlen(q);
        if (n > 0) {
            const char *eq = memchr(q, '=', n);
            size_t kn = eq ? (size_t)(eq - q) : n;
            char *k = unquote(q, kn, true);
            if (swift_query_name(k, manifest)) {
                free(k);
            } else {
                char *v = eq ? unquote(eq + 1, n - kn - 1, true) : xstrdup("");
                if (param_add(o, k, v, e) < 0)
                    goto fail;
            }
        }
        q += n + (amp ? 1 : 0);
    }
    return o;
fail:
    json_decref(o);
    return NULL;
}

/* ------------------------------------------------------------ deployment */

static const char *meta(const struct http_head *h, const char *key, struct err *e)
{
    const char *v = http_head_get(h, key);
    if (!v || !*v) {
        err_set(e, -EINVAL, "Mandatory parameter is missing: %s", key);
        return NULL;
    }
    return v;
}

static bool file_name_ok(const char *n)
{
    return *n && strlen(n) <= 255 && !strchr(n, '/') && strcmp(n, ".") != 0 &&
           strcmp(n, "..") != 0 && strcmp(n, "cairn_storlet.py") != 0;
}

/* Checks the comma-separated dependency list; counts into *n. */
static int check_deps(const char *name, const char *list, size_t *n, struct err *e)
{
    *n = 0;
    if (!list || !*list)
        return 0;
    char seen[DEPS_MAX][256];
    const char *p = list;
    for (;;) {
        while (*p == ' ')
            p++;
        const char *c = strchr(p, ',');
        size_t len = c ? (size_t)(c - p) : strlen(p);
        while (len > 0 && p[len - 1] == ' ')
            len--;
        if (len == 0 || len >= 256)
            return err_set(e, -EINVAL, "X-Object-Meta-Storlet-Dependency: empty or too long name");
        if (*n == DEPS_MAX)
            return err_set(e, -EINVAL,
                           "X-Object-Meta-Storlet-Dependency: more than %d dependencies",
                           DEPS_MAX);
        memcpy(seen[*n], p, len);
        seen[*n][len] = '\0';
        if (!file_name_ok(seen[*n]))
            return err_set(e, -EINVAL, "X-Object-Meta-Storlet-Dependency: bad name '%s'",
                           seen[*n]);
        if (strcmp(seen[*n], name) == 0)
            return err_set(e, -EINVAL,
                           "X-Object-Meta-Storlet-Dependency: a storlet cannot depend on itself");
        for (size_t i = 0; i < *n; i++)
            if (strcmp(seen[i], seen[*n]) == 0)
                return err_set(e, -EINVAL,
                               "X-Object-Meta-Storlet-Dependency: '%s' is listed twice",
                               seen[i]);
        (*n)++;
        if (!c)
            return 0;
        p = c + 1;
    }
}

int eng_validate_storlet(const char *name, const struct http_head *h, bool reseller_admin,
                         struct err *e)
{
    if (!file_name_ok(name))
        return err_set(e, -EINVAL, "storlet name '%.128s' is not allowed", name);
    const char *lang = meta(h, "X-Object-Meta-Storlet-Language", e);
    if (!lang)
        return -EINVAL;
    bool py = strcasecmp(lang, "python") == 0;
    if (!py && strcasecmp(lang, "native") != 0)
        return err_set(e, -EINVAL, "Unsupported Language: %.64s (native or python)", lang);
    const char *ver = meta(h, "X-Object-Meta-Storlet-Interface-Version", e);
    if (!ver)
        return -EINVAL;
    if (strcmp(ver, "1.0") != 0)
        return err_set(e, -EINVAL, "X-Object-Meta-Storlet-Interface-Version: only 1.0 exists");
    const char *om = meta(h, "X-Object-Meta-Storlet-Object-Metadata", e);
    if (!om)
        return -EINVAL;
    if (strcasecmp(om, "yes") != 0 && strcasecmp(om, "no") != 0)
        return err_set(e, -EINVAL, "X-Object-Meta-Storlet-Object-Metadata: yes or no");
    const char *mainv = meta(h, "X-Object-Meta-Storlet-Main", e);
    if (!mainv)
        return -EINVAL;
    size_t ndeps;
    const char *deps = http_head_get(h, "X-Object-Meta-Storlet-Dependency");
    if (check_deps(name, deps, &ndeps, e) < 0)
        return -EINVAL;
    struct eng_seq_props props;   /* placement (docs/compound-storlets.md 1.2) */
    if (eng_seq_props_from_head(h, &props, e) < 0)
        return -EINVAL;
    if (py) {
        if (!str_has_suffix(name, ".py") || strlen(name) < 4)
            return err_set(e, -EINVAL, "a python storlet's name must end in .py");
        const char *dot = strchr(mainv, '.');
        size_t modlen = strlen(name) - 3;
        if (!dot || strchr(dot + 1, '.'))
            return err_set(e, -EINVAL,
                           "X-Object-Meta-Storlet-Main: expected <module>.<function> "
                           "(Submodule is currently not supported)");
        if ((size_t)(dot - mainv) != modlen || strncmp(mainv, name, modlen) != 0)
            return err_set(e, -EINVAL,
                           "X-Object-Meta-Storlet-Main: the module must be the object name "
                           "without .py");
        if (!dot[1])
            return err_set(e, -EINVAL, "X-Object-Meta-Storlet-Main: function name missing");
    } else if (strcmp(mainv, name) != 0) {
        bool found = false;
        for (const char *p = deps; p && *p && !found;) {
            while (*p == ' ')
                p++;
            const char *c = strchr(p, ',');
            size_t len = c ? (size_t)(c - p) : strlen(p);
            while (len > 0 && p[len - 1] == ' ')
                len--;
            found = len == strlen(mainv) && strncmp(p, mainv, len) == 0;
            p = c ? c + 1 : p + strlen(p);
        }
        if (!found)
            return err_set(e, -EINVAL,
                           "X-Object-Meta-Storlet-Main: a native storlet's main must be its "
                           "own name or one of its dependencies");
    }
    const char *sb = http_head_get(h, "X-Object-Meta-Storlet-Sandbox");
    if (sb && strcasecmp(sb, "user") != 0 && strcasecmp(sb, "admin") != 0)
        return err_set(e, -EINVAL, "X-Object-Meta-Storlet-Sandbox: user or admin");
    if (sb && strcasecmp(sb, "admin") == 0 && !reseller_admin)
        return err_set(e, -EPERM, "X-Object-Meta-Storlet-Sandbox: only a reseller admin "
                                  "may deploy an admin storlet");
    return 0;
}

static int parse_mode(const char *v, unsigned *mode)
{
    if (!v || !*v) {
        *mode = 0644;
        return 0;
    }
    unsigned m = 0;
    size_t n = strlen(v);
    if (n > 4)
        return -EINVAL;
    for (const char *p = v; *p; p++) {
        if (*p < '0' || *p > '7')
            return -EINVAL;
        m = m * 8 + (unsigned)(*p - '0');
    }
    if ((m & 0400) == 0 || m > 0777)
        return -EINVAL;
    *mode = m;
    return 0;
}

int eng_validate_dependency(const char *name, const struct http_head *h, struct err *e)
{
    if (!file_name_ok(name))
        return err_set(e, -EINVAL, "dependency name '%.128s' is not allowed", name);
    if (!meta(h, "X-Object-Meta-Storlet-Dependency-Version", e))
        return -EINVAL;
    unsigned mode;
    if (parse_mode(http_head_get(h, "X-Object-Meta-Storlet-Dependency-Permissions"), &mode) < 0)
        return err_set(e, -EINVAL, "X-Object-Meta-Storlet-Dependency-Permissions: octal, "
                                   "the owner must have read (e.g. 0755)");
    return 0;
}

int eng_code_from_head(struct eng_code *c, const char *account, const char *name,
                       const struct http_head *h, struct err *e)
{
    memset(c, 0, sizeof(*c));
    c->account = account;
    c->name = name;
    c->etag = http_head_get(h, "ETag");
    c->language = http_head_get(h, "X-Object-Meta-Storlet-Language");
    c->main = http_head_get(h, "X-Object-Meta-Storlet-Main");
    const char *om = http_head_get(h, "X-Object-Meta-Storlet-Object-Metadata");
    const char *sb = http_head_get(h, "X-Object-Meta-Storlet-Sandbox");
    if (!c->etag || !c->language || !c->main || !om)
        return err_set(e, -EINVAL, "storlet %s: not deployed (storlet metadata missing)", name);
    if (strcasecmp(c->language, "python") == 0)
        c->language = "python";
    else if (strcasecmp(c->language, "native") == 0)
        c->language = "native";
    else
        return err_set(e, -EINVAL, "storlet %s: unsupported language", name);
    c->object_metadata = strcasecmp(om, "yes") == 0;
    c->admin = sb && strcasecmp(sb, "admin") == 0;
    size_t n;
    if (check_deps(name, http_head_get(h, "X-Object-Meta-Storlet-Dependency"), &n, e) < 0)
        return -EINVAL;
    c->ndeps = n;
    return 0;
}

void eng_tell_budget(struct http_req *req, uint64_t ms)
{
    if (!http_req_header(req, ENG_INTERIM_HEADER))
        return;
    char b[24];
    snprintf(b, sizeof(b), "%llu", (unsigned long long)ms);
    (void)http_resp_interim(req, 102, ENG_BUDGET_HEADER, b);
}

int eng_budget_of(const struct http_head *h, uint64_t *ms)
{
    const char *v = http_head_get(h, ENG_BUDGET_HEADER);
    if (!v || parse_u64(v, ms) < 0)
        return -ENOENT;
    if (*ms > ENG_WALL_MAX_MS)
        *ms = ENG_WALL_MAX_MS;
    return 0;
}
