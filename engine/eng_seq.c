/*
 * eng_seq.c - Sequence storlets: the chain as a value, its two request
 * forms (headers and JSON) and the placement planner (engine/eng_seq.h;
 * user contract in docs/compound-storlets.md).
 *
 * Every way in validates fully, so a struct eng_seq that exists is valid;
 * every error is a 400 reason naming the header, stage or key at fault.
 * Pure functions, no globals: thread-safe.
 */
#include "engine/eng_seq.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/http_parser.h"
#include "common/names.h"
#include "common/util.h"
#include "common/xalloc.h"
#include "engine/eng.h"

#define STAGE_HDR "X-Storlet-Stage-"
#define STAGE_PARAM "-Parameter-"

void eng_seq_init(struct eng_seq *s)
{
    memset(s, 0, sizeof(*s));
}

void eng_seq_release(struct eng_seq *s)
{
    for (unsigned i = 0; i < s->n; i++) {
        free(s->st[i].storlet);
        json_decref(s->st[i].params);
    }
    memset(s, 0, sizeof(*s));
}

bool eng_seq_name_ok(const char *name)
{
    size_t len = strlen(name);
    if (len == 0 || len > ENG_SEQ_NAME_MAX || !names_utf8_valid(name, len, 0))
        return false;
    if (name[0] == ' ' || name[len - 1] == ' ' || strcmp(name, ".") == 0 ||
        strcmp(name, "..") == 0)
        return false;
    for (const unsigned char *p = (const unsigned char *)name; *p; p++)
        if (*p < 0x20 || *p == 0x7f || *p == '/' || *p == ',')
            return false;
    return true;
}

int eng_seq_param_check(const char *name, const char *value, struct err *e)
{
    size_t len = strlen(name);
    bool ok = len > 0 && len <= ENG_SEQ_PARAM_NAME_MAX;
    for (const char *p = name; ok && *p; p++)
        ok = isalnum((unsigned char)*p) || *p == '_' || *p == '.' || *p == '-';
    if (!ok)
        return err_set(e, -EINVAL, "parameter name '%.64s': 1-%d bytes of [A-Za-z0-9_.-]", name,
                       ENG_SEQ_PARAM_NAME_MAX);
    if (strncasecmp(name, "storlet_", 8) == 0)
        return err_set(e, -EINVAL, "parameter name '%.64s': names starting storlet_ are reserved",
                       name);
    size_t vlen = strlen(value);
    if (vlen > ENG_SEQ_PARAM_VALUE_MAX)
        return err_set(e, -EINVAL, "parameter '%s': value longer than %d bytes", name,
                       ENG_SEQ_PARAM_VALUE_MAX);
    if (vlen > 0 && !names_utf8_valid(value, vlen, 0))
        return err_set(e, -EINVAL, "parameter '%s': value is not UTF-8", name);
    return 0;
}

int eng_seq_params_check(json_t *params, const char *where, struct err *e)
{
    if (!json_is_object(params))
        return err_set(e, -EINVAL, "%s: expected an object of strings", where);
    if (json_object_size(params) > ENG_SEQ_PARAMS_MAX)
        return err_set(e, -EINVAL, "%s: more than %d parameters", where, ENG_SEQ_PARAMS_MAX);
    const char *k;
    json_t *v;
    json_object_foreach(params, k, v) {
        if (!json_is_string(v))
            return err_set(e, -EINVAL, "%s: parameter '%.64s' is not a string", where, k);
        struct err pe;
        if (eng_seq_param_check(k, json_string_value(v), &pe) < 0)
            return err_set(e, -EINVAL, "%s: %s", where, pe.msg);
    }
    return 0;
}

int eng_seq_append(struct eng_seq *s, const char *storlet, json_t *params, unsigned max,
                   struct err *e)
{
    if (max > ENG_SEQ_MAX)
        max = ENG_SEQ_MAX;
    if (!eng_seq_name_ok(storlet))
        return err_set(e, -EINVAL,
                       "storlet name '%.64s': expected an object name without '/' or ','",
                       storlet);
    if (params && eng_seq_params_check(params, storlet, e) < 0)
        return -EINVAL;
    if (s->n >= max)
        return err_set(e, -E2BIG, "more than %u stages", max);
    s->st[s->n].storlet = xstrdup(storlet);
    s->st[s->n].params = params ? json_deep_copy(params) : json_object();
    s->n++;
    return 0;
}

int eng_seq_extend(struct eng_seq *s, const struct eng_seq *from, unsigned max,
                   struct err *e)
{
    if (max > ENG_SEQ_MAX)
        max = ENG_SEQ_MAX;
    if (s->n + from->n > max)
        return err_set(e, -E2BIG, "more than %u stages", max);
    unsigned n = from->n;   /* from may be s itself */
    for (unsigned i = 0; i < n; i++)
        if (eng_seq_append(s, from->st[i].storlet, from->st[i].params, max, e) < 0)
            return -EINVAL;   /* cannot happen: from is valid */
    return 0;
}

/* ------------------------------------------------------------ header form */

/* %XX-decodes s into a new string ('+' stays), as eng_params does values. */
static char *unquote(const char *s)
{
    size_t n = strlen(s);
    char *out = xmalloc(n + 1);
    names_unquote(s, n, out);
    return out;
}

/* "X-Storlet-Stage-<k>-Parameter-<N>": *k, or 0 when the name is not one,
 * -EINVAL when it starts like one but is malformed. */
static int stage_header(const char *name, size_t name_len, unsigned *k)
{
    size_t plen = strlen(STAGE_HDR);
    if (name_len <= plen || strncasecmp(name, STAGE_HDR, plen) != 0)
        return 0;
    const char *p = name + plen;
    const char *end = name + name_len;
    const char *dash = memchr(p, '-', (size_t)(end - p));
    uint64_t v;
    if (!dash || parse_u64n(p, (size_t)(dash - p), &v) < 0 || v == 0 || v > ENG_SEQ_MAX)
        return -EINVAL;
    size_t sl = strlen(STAGE_PARAM);
    if ((size_t)(end - dash) <= sl || strncasecmp(dash, STAGE_PARAM, sl) != 0)
        return -EINVAL;
    *k = (unsigned)v;
    return 1;
}

static int parse_names(const char *list, struct eng_seq *out, struct err *e)
{
    const char *p = list;
    for (;;) {
        const char *c = strchr(p, ',');
        size_t len = c ? (size_t)(c - p) : strlen(p);
        while (len > 0 && (*p == ' ' || *p == '\t')) {
            p++;
            len--;
        }
        while (len > 0 && (p[len - 1] == ' ' || p[len - 1] == '\t'))
            len--;
        if (len == 0)
            return err_set(e, -EINVAL, "X-Run-Storlet: stage %u is empty", out->n + 1);
        if (out->n >= ENG_SEQ_CLIENT_MAX)
            return err_set(e, -EINVAL, "X-Run-Storlet: more than %d stages",
                           ENG_SEQ_CLIENT_MAX);
        char *name = xstrndup(p, len);
        struct err ae;
        int rc = eng_seq_append(out, name, NULL, ENG_SEQ_CLIENT_MAX, &ae);
        free(name);
        if (rc < 0)
            return err_set(e, -EINVAL, "X-Run-Storlet: stage %u: %s", out->n + 1, ae.msg);
        if (!c)
            return 0;
        p = c + 1;
    }
}

int eng_seq_from_head(const struct http_head *h, const char *query, struct eng_seq *out,
                      struct err *e)
{
    const char *list = http_head_get(h, "X-Run-Storlet");
    if (!list)
        return 1;
    json_t *global = NULL;
    json_t *scoped[ENG_SEQ_MAX] = {NULL};
    int rc = parse_names(list, out, e);
    if (rc < 0)
        goto out;
    global = eng_params(h, query, e);
    if (!global) {
        rc = -EINVAL;
        goto out;
    }
    for (unsigned i = 0; i < h->nheaders; i++) {
        const struct http_header *hd = &h->headers[i];
        unsigned k = 0;
        int sh = stage_header(hd->name, hd->name_len, &k);
        if (sh == 0)
            continue;
        if (sh < 0) {
            rc = err_set(e, -EINVAL, "%.64s: expected X-Storlet-Stage-<k>-Parameter-<N>",
                         hd->name);
            goto out;
        }
        if (k > out->n) {
            rc = err_set(e, -EINVAL, "%.64s: the sequence has %u stage%s", hd->name, out->n,
                         out->n == 1 ? "" : "s");
            goto out;
        }
        const char *colon = strchr(hd->value, ':');
        if (!colon || colon == hd->value) {
            rc = err_set(e, -EINVAL, "%.64s: expected key:value", hd->name);
            goto out;
        }
        char *key = xstrndup(hd->value, (size_t)(colon - hd->value));
        for (char *p = key; *p; p++)
            *p = (char)tolower((unsigned char)*p);
        char *val = unquote(colon + 1);
        struct err pe;
        if (!scoped[k - 1])
            scoped[k - 1] = json_object();
        if (eng_seq_param_check(key, val, &pe) < 0)
            rc = err_set(e, -EINVAL, "%.64s: %s", hd->name, pe.msg);
        else if (json_object_get(scoped[k - 1], key))
            rc = err_set(e, -EINVAL, "%.64s: parameter '%s' given twice for stage %u",
                         hd->name, key, k);
        else
            json_object_set_new(scoped[k - 1], key, json_string(val));
        free(key);
        free(val);
        if (rc < 0)
            goto out;
    }
    for (unsigned i = 0; i < out->n; i++) {
        json_t *p = out->st[i].params;
        json_object_update(p, global);
        if (scoped[i])
            json_object_update(p, scoped[i]);
        if (json_object_size(p) > ENG_SEQ_PARAMS_MAX) {
            rc = err_set(e, -EINVAL, "stage %u: more than %d parameters", i + 1,
                         ENG_SEQ_PARAMS_MAX);
            goto out;
        }
    }
    rc = 0;
out:
    json_decref(global);
    for (unsigned i = 0; i < ENG_SEQ_MAX; i++)
        json_decref(scoped[i]);
    if (rc < 0)
        eng_seq_release(out);
    return rc;
}

/* ------------------------------------------------------------ JSON form */

static int stage_from_json(json_t *o, const char *where, unsigned idx, struct eng_seq *out,
                           unsigned max, struct err *e)
{
    if (!json_is_object(o))
        return err_set(e, -EINVAL, "%s: stage %u: expected an object with \"storlet\"", where,
                       idx);
    const char *k;
    json_t *v;
    json_object_foreach(o, k, v) {
        if (strcmp(k, "storlet") != 0 && strcmp(k, "parameters") != 0)
            return err_set(e, -EINVAL, "%s: stage %u: unknown key \"%.64s\"", where, idx, k);
    }
    json_t *name = json_object_get(o, "storlet");
    if (!json_is_string(name))
        return err_set(e, -EINVAL, "%s: stage %u: \"storlet\" must be a string", where, idx);
    json_t *params = json_object_get(o, "parameters");
    if (params && !json_is_object(params))
        return err_set(e, -EINVAL, "%s: stage %u: \"parameters\" must be an object", where,
                       idx);
    if (out->n >= max)
        return err_set(e, -EINVAL, "%s: more than %u stages", where, max);
    struct err se;
    if (eng_seq_append(out, json_string_value(name), params, max, &se) < 0)
        return err_set(e, -EINVAL, "%s: stage %u: %s", where, idx, se.msg);
    return 0;
}

int eng_seq_from_json(json_t *j, unsigned max, const char *where, struct eng_seq *out,
                      struct err *e)
{
    if (max > ENG_SEQ_MAX)
        max = ENG_SEQ_MAX;
    int rc = 0;
    if (json_is_array(j)) {
        if (json_array_size(j) == 0)
            return err_set(e, -EINVAL, "%s: the sequence is empty", where);
        size_t i;
        json_t *o;
        json_array_foreach(j, i, o) {
            rc = stage_from_json(o, where, (unsigned)i + 1, out, max, e);
            if (rc < 0)
                break;
        }
    } else {
        rc = stage_from_json(j, where, 1, out, max, e);
    }
    if (rc < 0)
        eng_seq_release(out);
    return rc;
}

json_t *eng_seq_to_json(const struct eng_seq *s)
{
    json_t *a = json_array();
    for (unsigned i = 0; i < s->n; i++)
        json_array_append_new(a, json_pack("{s:s, s:O}", "storlet", s->st[i].storlet,
                                           "parameters", s->st[i].params));
    return a;
}

/* ------------------------------------------------------------ placement */

int eng_seq_run_on_parse(const char *v, enum eng_seq_run_on *out)
{
    if (!v || strcasecmp(v, "any") == 0)
        *out = ENG_SEQ_RUN_ANY;
    else if (strcasecmp(v, "object") == 0)
        *out = ENG_SEQ_RUN_OBJECT;
    else if (strcasecmp(v, "proxy") == 0)
        *out = ENG_SEQ_RUN_PROXY;
    else
        return -EINVAL;
    return 0;
}

static bool object_capable(const struct eng_seq_props *p)
{
    return p->run_on != ENG_SEQ_RUN_PROXY && !p->services;
}

int eng_seq_plan(const struct eng_seq *s, const struct eng_seq_props *props,
                 enum eng_seq_input input, struct eng_seq_plan *p, struct err *e)
{
    p->n = s->n;
    p->split = 0;
    if (input == ENG_SEQ_FROM_OBJECT)
        while (p->split < s->n && object_capable(&props[p->split]))
            p->split++;
    for (unsigned i = p->split; i < s->n; i++) {
        if (props[i].run_on != ENG_SEQ_RUN_OBJECT)
            continue;
        const char *why;
        if (input == ENG_SEQ_FROM_PROXY)
            why = "this request's input is on the proxy";
        else if (props[i].services)
            why = "it needs the services channel, which only the proxy gives";
        else
            why = "an earlier stage runs on the proxy";
        return err_set(e, -EINVAL, "stage %u (%.64s) must run on the object node, but %s",
                       i + 1, s->st[i].storlet, why);
    }
    return 0;
}

int eng_seq_plan_describe(const struct eng_seq_plan *p, char *buf, size_t n)
{
    return snprintf(buf, n, "object=%u, proxy=%u", p->split, p->n - p->split);
}

int eng_seq_props_from_head(const struct http_head *h, struct eng_seq_props *p,
                            struct err *e)
{
    memset(p, 0, sizeof(*p));
    const char *ro = http_head_get(h, "X-Object-Meta-Storlet-Run-On");
    if (eng_seq_run_on_parse(ro, &p->run_on) < 0)
        return err_set(e, -EINVAL, "X-Object-Meta-Storlet-Run-On: any, object or proxy");
    const char *sv = http_head_get(h, "X-Object-Meta-Storlet-Services");
    if (sv && strcasecmp(sv, "yes") == 0)
        p->services = true;
    else if (sv && strcasecmp(sv, "no") != 0)
        return err_set(e, -EINVAL, "X-Object-Meta-Storlet-Services: yes or no");
    return 0;
}

char *eng_seq_names(const struct eng_seq *s)
{
    size_t len = 1;
    for (unsigned i = 0; i < s->n; i++)
        len += strlen(s->st[i].storlet) + 1;
    char *out = xmalloc(len);
    size_t at = 0;
    out[0] = '\0';
    for (unsigned i = 0; i < s->n; i++)
        at += (size_t)snprintf(out + at, len - at, "%s%s", i ? "," : "", s->st[i].storlet);
    return out;
}

char *eng_seq_etags_join(char *const *etags, unsigned n)
{
    size_t len = 1;
    for (unsigned k = 0; k < n; k++)
        len += (etags[k] ? strlen(etags[k]) : 0) + 1;
    char *out = xmalloc(len);
    size_t at = 0;
    out[0] = '\0';
    for (unsigned k = 0; k < n; k++)
        at += (size_t)snprintf(out + at, len - at, "%s%s", k ? "," : "",
                               etags[k] ? etags[k] : "");
    return out;
}

char *eng_seq_params_provenance(const struct eng_seq *s)
{
    json_t *pj;
    if (s->n == 1) {
        pj = json_incref(s->st[0].params);
    } else {
        pj = json_array();
        for (unsigned k = 0; k < s->n; k++)
            json_array_append(pj, s->st[k].params);
    }
    char *ps = json_dumps(pj, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(pj);
    char *out = xstrdup(ps ? ps : "{}");
    free(ps);
    if (strlen(out) > ENG_SEQ_PROV_MAX)
        out[ENG_SEQ_PROV_MAX] = '\0';
    return out;
}

int eng_seq_stage_set_parse(const char *v, unsigned n, uint32_t *mask)
{
    uint32_t m = 0;
    const char *p = v;
    for (;;) {
        size_t len = strcspn(p, ",");
        uint64_t k;
        if (parse_u64n(p, len, &k) < 0 || k == 0 || k > n || k > 32)
            return -EINVAL;
        m |= 1u << (k - 1);
        if (p[len] == '\0')
            break;
        p += len + 1;
    }
    *mask = m;
    return 0;
}

unsigned eng_seq_stage_set_format(uint32_t mask, unsigned from, unsigned to, char *buf,
                                  size_t n)
{
    unsigned count = 0;
    size_t at = 0;
    if (n)
        buf[0] = '\0';
    for (unsigned k = from; k < to && k < 32; k++) {
        if (!(mask & (1u << k)))
            continue;
        int w = snprintf(at < n ? buf + at : NULL, at < n ? n - at : 0, "%s%u", count ? "," : "",
                         k - from + 1);
        if (w > 0)
            at += (size_t)w;
        count++;
    }
    return count;
}
