/*
 * conf.c - Swift-style INI parser and table-driven loader; see conf.h.
 *
 * Two stages. conf_parse_*() turns text into sections of (key, value, line)
 * entries and checks only syntax. conf_load() then walks the file against a
 * table: it rejects what the table does not know and converts values into the
 * caller's struct. Both stages keep going after an error so that one run
 * reports every problem of a file.
 *
 * Memory is proportional to the input text (a fuzzed buffer included);
 * error messages are capped at CONF_ERRORS_MAX. Single-threaded by contract.
 */
#include "common/conf.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "common/xalloc.h"

struct conf_entry {
    char *key;
    char *value;
    unsigned line;
};

struct conf_section {
    char *name;
    unsigned line;
    size_t n, cap;
    struct conf_entry *e;
};

struct conf {
    char *name;
    size_t n, cap;
    struct conf_section *s;
};

/* ---------------------------------------------------------------- errors */

void conf_errors_init(struct conf_errors *e)
{
    memset(e, 0, sizeof(*e));
}

void conf_errors_release(struct conf_errors *e)
{
    if (!e)
        return;
    for (size_t i = 0; i < e->n; i++)
        free(e->msgs[i]);
    free(e->msgs);
    memset(e, 0, sizeof(*e));
}

void conf_errors_add(struct conf_errors *e, const char *fmt, ...)
{
    e->count++;
    if (e->n >= CONF_ERRORS_MAX)
        return;
    va_list ap;
    va_start(ap, fmt);
    char *msg = xvasprintf(fmt, ap);
    va_end(ap);
    e->msgs = xrealloc(e->msgs, (e->n + 1) * sizeof(*e->msgs));
    e->msgs[e->n++] = msg;
}

void conf_errors_print(const struct conf_errors *e, FILE *out)
{
    for (size_t i = 0; i < e->n; i++)
        fprintf(out, "%s\n", e->msgs[i]);
    if (e->count > e->n)
        fprintf(out, "... and %zu more errors\n", e->count - e->n);
}

int conf_check_report(const char *path, const struct conf_errors *errs,
                      FILE *out)
{
    if (errs->count) {
        conf_errors_print(errs, out);
        return 2;
    }
    fprintf(out, "%s: configuration OK\n", path);
    return 0;
}

/* ---------------------------------------------------------------- buffer */

/* A growable string for rendering; private, abort-on-OOM like xalloc. */
struct sbuf {
    char *p;
    size_t len, cap;
};

static void sb_add(struct sbuf *b, const char *s, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 256;
        while (cap < b->len + n + 1)
            cap *= 2;
        b->p = xrealloc(b->p, cap);
        b->cap = cap;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

static void sb_puts(struct sbuf *b, const char *s)
{
    sb_add(b, s, strlen(s));
}

__attribute__((format(printf, 2, 3)))
static void sb_printf(struct sbuf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *s = xvasprintf(fmt, ap);
    va_end(ap);
    sb_puts(b, s);
    free(s);
}

static char *sb_steal(struct sbuf *b)
{
    if (!b->p)
        return xstrdup("");
    char *p = b->p;
    b->p = NULL;
    b->len = b->cap = 0;
    return p;
}

/* ---------------------------------------------------------------- parsing */

static bool is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\f' || c == '\v';
}

/* Trims [*s, *e) in place. */
static void trim(const char **s, const char **e)
{
    while (*s < *e && is_space(**s))
        (*s)++;
    while (*e > *s && is_space((*e)[-1]))
        (*e)--;
}

static struct conf_section *find_section(const struct conf *c,
                                         const char *name)
{
    for (size_t i = 0; i < c->n; i++)
        if (strcmp(c->s[i].name, name) == 0)
            return &c->s[i];
    return NULL;
}

static struct conf_entry *find_entry(const struct conf_section *s,
                                     const char *key)
{
    if (!s)
        return NULL;
    for (size_t i = 0; i < s->n; i++)
        if (strcmp(s->e[i].key, key) == 0)
            return &s->e[i];
    return NULL;
}

static struct conf_section *add_section(struct conf *c, const char *name,
                                        size_t len, unsigned line)
{
    if (c->n == c->cap) {
        c->cap = c->cap ? c->cap * 2 : 8;
        c->s = xrealloc(c->s, c->cap * sizeof(*c->s));
    }
    struct conf_section *s = &c->s[c->n++];
    memset(s, 0, sizeof(*s));
    s->name = xstrndup(name, len);
    s->line = line;
    return s;
}

static struct conf_entry *add_entry(struct conf_section *s, char *key,
                                    const char *val, size_t vlen,
                                    unsigned line)
{
    if (s->n == s->cap) {
        s->cap = s->cap ? s->cap * 2 : 8;
        s->e = xrealloc(s->e, s->cap * sizeof(*s->e));
    }
    struct conf_entry *e = &s->e[s->n++];
    e->key = key;
    e->value = xstrndup(val, vlen);
    e->line = line;
    return e;
}

static void append_continuation(struct conf_entry *e, const char *s,
                                size_t len)
{
    size_t old = strlen(e->value);
    e->value = xrealloc(e->value, old + 1 + len + 1);
    e->value[old] = '\n';
    memcpy(e->value + old + 1, s, len);
    e->value[old + 1 + len] = '\0';
}

/* Checks a key's bytes; returns the offending byte or 0 when fine. */
static int bad_key_char(const char *k, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        unsigned char ch = (unsigned char)k[i];
        if (ch <= 0x20 || ch >= 0x7f)
            return ch ? ch : 0x100;
    }
    return 0;
}

/* Quoted, truncated, printable rendering of user text for messages. */
static void show(char *out, size_t outsz, const char *s, size_t len)
{
    size_t o = 0;
    for (size_t i = 0; i < len; i++) {
        if (o + 8 >= outsz) {
            memcpy(out + o, "...", 3);
            o += 3;
            break;
        }
        unsigned char ch = (unsigned char)s[i];
        if (ch >= 0x20 && ch < 0x7f && ch != '\\')
            out[o++] = (char)ch;
        else
            o += (size_t)snprintf(out + o, outsz - o, "\\x%02x", ch);
    }
    out[o] = '\0';
}

static bool has_control(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (ch < 0x20 || ch >= 0x7f)
            return true;
    }
    return false;
}

/* Sentinel for "inside a section whose header was rejected". */
static struct conf_section skip_section;
#define SKIP_SECTION (&skip_section)

static void parse_line(struct conf *c, const char *name, const char *ln,
                       size_t len, unsigned lineno,
                       struct conf_section **cur, struct conf_entry **ent,
                       struct conf_errors *errs)
{
    char shown[96];
    if (memchr(ln, '\0', len)) {
        conf_errors_add(errs, "%s:%u: NUL byte in line, expected text",
                        name, lineno);
        *ent = NULL;
        return;
    }
    const char *s = ln, *e = ln + len;
    bool indented = len > 0 && is_space(ln[0]);
    trim(&s, &e);
    if (s == e) {
        *ent = NULL; /* a blank line ends a continued value */
        return;
    }
    if (*s == '#' || *s == ';')
        return;
    if (indented && *ent) {
        append_continuation(*ent, s, (size_t)(e - s));
        return;
    }
    *ent = NULL;
    if (*s == '[') {
        if (e[-1] != ']') {
            show(shown, sizeof(shown), s, (size_t)(e - s));
            conf_errors_add(errs, "%s:%u: section header '%s' has no closing "
                            "']', expected [name]", name, lineno, shown);
            *cur = SKIP_SECTION;
            return;
        }
        const char *ns = s + 1, *ne = e - 1;
        trim(&ns, &ne);
        if (ns == ne) {
            conf_errors_add(errs, "%s:%u: empty section name, expected "
                            "[name]", name, lineno);
            *cur = SKIP_SECTION;
            return;
        }
        if (has_control(ns, (size_t)(ne - ns))) {
            show(shown, sizeof(shown), ns, (size_t)(ne - ns));
            conf_errors_add(errs, "%s:%u: section name '%s' has a control or "
                            "non-ASCII byte, expected printable ASCII",
                            name, lineno, shown);
            *cur = SKIP_SECTION;
            return;
        }
        char *sname = xstrndup(ns, (size_t)(ne - ns));
        struct conf_section *old = find_section(c, sname);
        if (old) {
            conf_errors_add(errs, "%s:%u: section [%s] already defined at "
                            "line %u, expected each section once",
                            name, lineno, sname, old->line);
            *cur = SKIP_SECTION;
        } else {
            *cur = add_section(c, ns, (size_t)(ne - ns), lineno);
        }
        free(sname);
        return;
    }
    const char *d = s;
    while (d < e && *d != '=' && *d != ':')
        d++;
    if (d == e) {
        show(shown, sizeof(shown), s, (size_t)(e - s));
        conf_errors_add(errs, "%s:%u: '%s' is not an option line, expected "
                        "key = value, [section] or a # comment",
                        name, lineno, shown);
        return;
    }
    const char *ks = s, *ke = d, *vs = d + 1, *ve = e;
    trim(&ks, &ke);
    trim(&vs, &ve);
    /* paste.deploy's "set key = value" overrides [DEFAULT]; here a
     * section's own value always does, so "set" is just accepted. */
    if (ke - ks > 4 && memcmp(ks, "set", 3) == 0 && is_space(ks[3])) {
        ks += 4;
        trim(&ks, &ke);
    }
    if (ks == ke) {
        conf_errors_add(errs, "%s:%u: missing key before '%c', expected "
                        "key = value", name, lineno, *d);
        return;
    }
    int bad = bad_key_char(ks, (size_t)(ke - ks));
    if (bad) {
        show(shown, sizeof(shown), ks, (size_t)(ke - ks));
        conf_errors_add(errs, "%s:%u: key '%s' contains %s, expected a key "
                        "of printable ASCII without spaces",
                        name, lineno, shown,
                        bad == ' ' || bad == '\t' ? "a space"
                                                  : "a control or non-ASCII byte");
        return;
    }
    if (*cur == NULL) {
        show(shown, sizeof(shown), ks, (size_t)(ke - ks));
        conf_errors_add(errs, "%s:%u: key '%s' before any section, expected "
                        "a [section] header first", name, lineno, shown);
        return;
    }
    if (*cur == SKIP_SECTION)
        return;
    char *key = xstrndup(ks, (size_t)(ke - ks));
    for (char *p = key; *p; p++)
        *p = (char)tolower((unsigned char)*p);
    struct conf_entry *old = find_entry(*cur, key);
    if (old) {
        conf_errors_add(errs, "%s:%u: key '%s' already set in [%s] at line "
                        "%u, expected each key once per section",
                        name, lineno, key, (*cur)->name, old->line);
        free(key);
        return;
    }
    *ent = add_entry(*cur, key, vs, (size_t)(ve - vs), lineno);
}

struct conf *conf_parse_buf(const char *name, const char *buf, size_t len,
                            struct conf_errors *errs)
{
    struct conf *c = xcalloc(1, sizeof(*c));
    c->name = xstrdup(name);
    const char *p = buf, *end = buf + len;
    if (len >= 3 && memcmp(p, "\xef\xbb\xbf", 3) == 0)
        p += 3; /* UTF-8 byte order mark, as editors on other systems add */
    struct conf_section *cur = NULL;
    struct conf_entry *ent = NULL;
    unsigned lineno = 0;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *le = nl ? nl : end;
        size_t l = (size_t)(le - p);
        if (l && p[l - 1] == '\r')
            l--;
        if (lineno < UINT32_MAX)
            lineno++;
        parse_line(c, c->name, p, l, lineno, &cur, &ent, errs);
        p = nl ? nl + 1 : end;
    }
    return c;
}

struct conf *conf_parse_file(const char *path, struct conf_errors *errs)
{
    FILE *fp = fopen(path, "rb");
    if (!fp) {
        conf_errors_add(errs, "%s: cannot open: %s, expected a readable "
                        "config file", path, strerror(errno));
        return NULL;
    }
    struct sbuf b = {0};
    char chunk[8192];
    size_t n;
    while ((n = fread(chunk, 1, sizeof(chunk), fp)) > 0)
        sb_add(&b, chunk, n);
    int failed = ferror(fp);
    int saved = errno;
    fclose(fp);
    if (failed) {
        free(b.p);
        conf_errors_add(errs, "%s: read error: %s, expected a readable "
                        "config file", path, strerror(saved));
        return NULL;
    }
    struct conf *c = conf_parse_buf(path, b.p ? b.p : "", b.len, errs);
    free(b.p);
    return c;
}

void conf_free(struct conf *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < c->n; i++) {
        struct conf_section *s = &c->s[i];
        for (size_t j = 0; j < s->n; j++) {
            free(s->e[j].key);
            free(s->e[j].value);
        }
        free(s->e);
        free(s->name);
    }
    free(c->s);
    free(c->name);
    free(c);
}

const char *conf_name(const struct conf *c)
{
    return c->name;
}

size_t conf_section_count(const struct conf *c)
{
    return c->n;
}

const char *conf_section_name(const struct conf *c, size_t i)
{
    return i < c->n ? c->s[i].name : NULL;
}

bool conf_has_section(const struct conf *c, const char *section)
{
    return find_section(c, section) != NULL;
}

const char *conf_get(const struct conf *c, const char *section,
                     const char *key, unsigned *line)
{
    struct conf_entry *e = find_entry(find_section(c, section), key);
    if (!e)
        e = find_entry(find_section(c, "DEFAULT"), key);
    if (!e)
        return NULL;
    if (line)
        *line = e->line;
    return e->value;
}

/* ---------------------------------------------------------------- values */

int conf_parse_bool(const char *s, bool *out)
{
    static const char *const yes[] = {"true", "1", "yes", "on", "t", "y"};
    static const char *const no[] = {"false", "0", "no", "off", "f", "n"};
    for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
        if (strcasecmp(s, yes[i]) == 0) {
            *out = true;
            return 0;
        }
        if (strcasecmp(s, no[i]) == 0) {
            *out = false;
            return 0;
        }
    }
    return -EINVAL;
}

int conf_parse_size(const char *s, uint64_t *out)
{
    size_t n = 0;
    while (s[n] >= '0' && s[n] <= '9')
        n++;
    uint64_t v, mul;
    int rc = parse_u64n(s, n, &v);
    if (rc)
        return rc;
    const char *suf = s + n;
    if (*suf == '\0')
        mul = 1;
    else if (strcmp(suf, "k") == 0 || strcmp(suf, "K") == 0)
        mul = 1000;
    else if (strcmp(suf, "M") == 0)
        mul = 1000000;
    else if (strcmp(suf, "G") == 0)
        mul = 1000000000;
    else if (strcmp(suf, "T") == 0)
        mul = 1000000000000ULL;
    else if (strcmp(suf, "Ki") == 0)
        mul = 1ULL << 10;
    else if (strcmp(suf, "Mi") == 0)
        mul = 1ULL << 20;
    else if (strcmp(suf, "Gi") == 0)
        mul = 1ULL << 30;
    else if (strcmp(suf, "Ti") == 0)
        mul = 1ULL << 40;
    else
        return -EINVAL;
    if (v > UINT64_MAX / mul)
        return -ERANGE;
    *out = v * mul;
    return 0;
}

int conf_parse_duration_ms(const char *s, int64_t *out)
{
    size_t n = 0, digits = 0;
    bool dot = false;
    for (;; n++) {
        if (s[n] >= '0' && s[n] <= '9')
            digits++;
        else if (s[n] == '.' && !dot)
            dot = true;
        else
            break;
    }
    if (digits == 0 || n > 40)
        return -EINVAL;
    char num[48];
    memcpy(num, s, n);
    num[n] = '\0';
    double v;
    int rc = parse_double(num, &v);
    if (rc)
        return rc;
    const char *suf = s + n;
    double ms;
    if (*suf == '\0' || strcmp(suf, "s") == 0)
        ms = v * 1000.0;
    else if (strcmp(suf, "ms") == 0)
        ms = v;
    else if (strcmp(suf, "m") == 0)
        ms = v * 60000.0;
    else if (strcmp(suf, "h") == 0)
        ms = v * 3600000.0;
    else
        return -EINVAL;
    ms = round(ms);
    if (!(ms < 9.2e18))
        return -ERANGE;
    *out = (int64_t)ms;
    return 0;
}

union conf_val {
    bool b;
    int64_t i;
    uint64_t u;
    char *s;
    int e;
    struct conf_list l;
};

static bool bounded(const struct conf_option *o)
{
    return o->min != 0 || o->max != 0;
}

/* Describes what a row expects, for messages and the sample file. */
static void describe_type(const struct conf_option *o, struct sbuf *b)
{
    switch (o->type) {
    case CONF_BOOL:
        sb_puts(b, "boolean (true/yes/on/1 or false/no/off/0)");
        break;
    case CONF_INT:
        sb_puts(b, "integer");
        if (bounded(o))
            sb_printf(b, " from %" PRId64 " to %" PRId64, o->min, o->max);
        break;
    case CONF_SIZE:
        sb_puts(b, "size in bytes (suffix k, M, G, T or Ki, Mi, Gi, Ti "
                   "allowed)");
        if (bounded(o))
            sb_printf(b, " from %" PRId64 " to %" PRId64, o->min, o->max);
        break;
    case CONF_DURATION:
        sb_puts(b, "duration in seconds (fraction or suffix ms, s, m, h "
                   "allowed)");
        if (bounded(o))
            sb_printf(b, " from %" PRId64 "ms to %" PRId64 "ms",
                      o->min, o->max);
        break;
    case CONF_STRING:
        sb_puts(b, "text");
        break;
    case CONF_PATH:
        sb_puts(b, "absolute path");
        break;
    case CONF_ENUM:
        sb_puts(b, "one of ");
        for (size_t i = 0; o->choices && o->choices[i]; i++)
            sb_printf(b, "%s%s", i ? ", " : "", o->choices[i]);
        break;
    case CONF_LIST:
        sb_puts(b, "list of words separated by commas or spaces");
        break;
    case CONF_KV:
        sb_printf(b, "any number of %s = value lines", o->name);
        break;
    }
}

static void val_release(const struct conf_option *o, union conf_val *v)
{
    if (o->type == CONF_STRING || o->type == CONF_PATH) {
        free(v->s);
        v->s = NULL;
    } else if (o->type == CONF_LIST) {
        for (size_t i = 0; i < v->l.n; i++)
            free(v->l.v[i]);
        free(v->l.v);
        v->l.v = NULL;
        v->l.n = 0;
    }
}

static void split_list(const char *s, struct conf_list *l)
{
    l->n = 0;
    l->v = NULL;
    while (*s) {
        while (*s == ',' || isspace((unsigned char)*s))
            s++;
        const char *w = s;
        while (*s && *s != ',' && !isspace((unsigned char)*s))
            s++;
        if (s > w) {
            l->v = xrealloc(l->v, (l->n + 1) * sizeof(*l->v));
            l->v[l->n++] = xstrndup(w, (size_t)(s - w));
        }
    }
}

/*
 * Converts text for row o into *v. On failure returns -EINVAL or -ERANGE
 * and writes what went wrong into why (without the "expected" part, which
 * the caller derives from describe_type).
 */
static int parse_val(const struct conf_option *o, const char *text,
                     union conf_val *v, char *why, size_t whysz)
{
    int rc = 0;
    memset(v, 0, sizeof(*v));
    why[0] = '\0';
    switch (o->type) {
    case CONF_BOOL:
        rc = conf_parse_bool(text, &v->b);
        break;
    case CONF_INT:
        rc = parse_i64(text, &v->i);
        if (rc == 0 && bounded(o) && (v->i < o->min || v->i > o->max)) {
            snprintf(why, whysz, "out of range");
            rc = -ERANGE;
        }
        break;
    case CONF_SIZE:
        rc = conf_parse_size(text, &v->u);
        if (rc == 0 && bounded(o) &&
            (v->u < (uint64_t)o->min || v->u > (uint64_t)o->max)) {
            snprintf(why, whysz, "out of range");
            rc = -ERANGE;
        }
        break;
    case CONF_DURATION:
        rc = conf_parse_duration_ms(text, &v->i);
        if (rc == 0 && bounded(o) && (v->i < o->min || v->i > o->max)) {
            snprintf(why, whysz, "out of range");
            rc = -ERANGE;
        }
        break;
    case CONF_STRING:
        v->s = xstrdup(text);
        break;
    case CONF_PATH:
        if (text[0] != '/') {
            snprintf(why, whysz, "not an absolute path");
            rc = -EINVAL;
        } else {
            v->s = xstrdup(text);
        }
        break;
    case CONF_ENUM:
        rc = -EINVAL;
        for (int i = 0; o->choices && o->choices[i]; i++) {
            if (strcmp(o->choices[i], text) == 0) {
                v->e = i;
                rc = 0;
                break;
            }
        }
        break;
    case CONF_LIST:
        split_list(text, &v->l);
        break;
    case CONF_KV:
        break;
    }
    if (rc && !why[0])
        snprintf(why, whysz, rc == -ERANGE ? "too large" : "bad value");
    return rc;
}

/* Moves v into its field of base; with no base (a pass that only checks)
 * releases v instead. */
static void store(const struct conf_option *o, void *base, union conf_val *v)
{
    if (!base) {
        val_release(o, v);
        return;
    }
    char *f = (char *)base + o->offset;
    switch (o->type) {
    case CONF_BOOL:
        memcpy(f, &v->b, sizeof(v->b));
        break;
    case CONF_INT:
    case CONF_DURATION:
        memcpy(f, &v->i, sizeof(v->i));
        break;
    case CONF_SIZE:
        memcpy(f, &v->u, sizeof(v->u));
        break;
    case CONF_STRING:
    case CONF_PATH:
        memcpy(f, &v->s, sizeof(v->s));
        break;
    case CONF_ENUM:
        memcpy(f, &v->e, sizeof(v->e));
        break;
    case CONF_LIST:
        memcpy(f, &v->l, sizeof(v->l));
        break;
    case CONF_KV:
        break;
    }
}

/* ---------------------------------------------------------------- matching */

static bool is_pattern(const char *s)
{
    size_t n = strlen(s);
    return n > 0 && s[n - 1] == '*';
}

/* Does pattern (exact, or "prefix*") match s? A prefix pattern needs at
 * least one character after the prefix unless it is "*" alone. */
static bool pattern_match(const char *pat, const char *s)
{
    size_t n = strlen(pat);
    if (n == 0 || pat[n - 1] != '*')
        return strcmp(pat, s) == 0;
    if (n == 1)
        return true;
    return strncmp(pat, s, n - 1) == 0 && s[n - 1] != '\0';
}

static bool row_is_default(const struct conf_option *o)
{
    return strcmp(o->section, "DEFAULT") == 0;
}

/* The rows that govern file section `name`: exact rows win over prefix rows
 * (so "[filter:tempauth]" can have its own rows beside "[filter:*]"). */
static bool section_has_exact_rows(const struct conf_option *t,
                                   const char *name)
{
    for (; t->section; t++)
        if (!is_pattern(t->section) && strcmp(t->section, name) == 0)
            return true;
    return false;
}

static bool row_governs(const struct conf_option *o, const char *name,
                        bool exact)
{
    return exact ? !is_pattern(o->section) && strcmp(o->section, name) == 0
                 : is_pattern(o->section) && pattern_match(o->section, name);
}

static bool key_matches_row(const struct conf_option *o, const char *key)
{
    if (o->type == CONF_KV)
        return pattern_match(o->name, key);
    return strcmp(o->name, key) == 0;
}

/* Edit distance, capped inputs; used only for "did you mean". */
static size_t edit_distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la > 63 || lb > 63)
        return 99;
    size_t d[64][64];
    for (size_t i = 0; i <= la; i++)
        d[i][0] = i;
    for (size_t j = 0; j <= lb; j++)
        d[0][j] = j;
    for (size_t i = 1; i <= la; i++) {
        for (size_t j = 1; j <= lb; j++) {
            size_t best = d[i - 1][j - 1] + (a[i - 1] != b[j - 1]);
            if (d[i - 1][j] + 1 < best)
                best = d[i - 1][j] + 1;
            if (d[i][j - 1] + 1 < best)
                best = d[i][j - 1] + 1;
            d[i][j] = best;
        }
    }
    return d[la][lb];
}

/* Appends ", did you mean 'x'?" when some known key is close to key. */
static void suggest(const struct conf_option *t, const char *section,
                    bool exact, bool any_section, const char *key,
                    char *out, size_t outsz)
{
    const char *best = NULL;
    size_t bestd = 3;
    for (; t->section; t++) {
        if (t->type == CONF_KV)
            continue;
        if (!any_section && !row_governs(t, section, exact))
            continue;
        size_t d = edit_distance(t->name, key);
        if (d < bestd) {
            bestd = d;
            best = t->name;
        }
    }
    if (best)
        snprintf(out, outsz, "; did you mean '%s'?", best);
    else
        out[0] = '\0';
}

/* Whether a row before t in table has t's section: the walks over a
 * table's sections act on a section at its first row only. */
static bool section_seen_before(const struct conf_option *table, const struct conf_option *t)
{
    for (const struct conf_option *u = table; u < t; u++)
        if (strcmp(u->section, t->section) == 0)
            return true;
    return false;
}

static void list_sections(const struct conf_option *table, struct sbuf *b)
{
    bool first = true;
    for (const struct conf_option *t = table; t->section; t++) {
        if (section_seen_before(table, t) || row_is_default(t))
            continue;
        sb_printf(b, "%s[%s]", first ? "" : ", ", t->section);
        first = false;
    }
    if (first)
        sb_puts(b, "no section but [DEFAULT]");
}

/* ---------------------------------------------------------------- loading */

/* Resolves, parses, and (if base) stores one non-KV row for section sec. */
static int apply_row(const struct conf *c, const struct conf_option *o,
                     const char *sec, void *base, struct conf_errors *errs)
{
    struct conf_section *own = find_section(c, sec);
    struct conf_section *dflt = find_section(c, "DEFAULT");
    struct conf_entry *e = find_entry(own, o->name);
    if (!e && own != dflt)
        e = find_entry(dflt, o->name);
    union conf_val v;
    char why[64];
    int rc = 0;
    if (e) {
        rc = parse_val(o, e->value, &v, why, sizeof(why));
        if (rc == 0) {
            store(o, base, &v);
            return 0;
        }
        struct sbuf exp = {0};
        describe_type(o, &exp);
        char shown[96];
        show(shown, sizeof(shown), e->value, strlen(e->value));
        conf_errors_add(errs, "%s:%u: %s '%s' for %s in [%s], expected %s",
                        c->name, e->line, why, shown, o->name, sec, exp.p);
        free(exp.p);
        rc = -EINVAL;
    } else if (o->flags & CONF_REQUIRED) {
        if (own)
            conf_errors_add(errs, "%s:%u: [%s] has no %s, expected it to be "
                            "set", c->name, own->line, sec, o->name);
        else
            conf_errors_add(errs, "%s: no section [%s], expected it with "
                            "%s set", c->name, sec, o->name);
        rc = -EINVAL;
    }
    if (o->type == CONF_STRING && !o->def) {
        v.s = xstrdup("");
    } else if (!o->def) {
        memset(&v, 0, sizeof(v));
    } else if (parse_val(o, o->def, &v, why, sizeof(why)) != 0) {
        conf_errors_add(errs, "option table: default '%s' of %s in [%s] is "
                        "invalid (%s)", o->def, o->name, o->section, why);
        memset(&v, 0, sizeof(v));
        rc = -EINVAL;
    }
    store(o, base, &v);
    return rc;
}

static void apply_kv(const struct conf *c, const struct conf_option *o,
                     const char *sec, void *base)
{
    struct conf_section *own = find_section(c, sec);
    struct conf_kv_list l = {0, NULL};
    for (size_t i = 0; own && i < own->n; i++) {
        if (!pattern_match(o->name, own->e[i].key))
            continue;
        l.v = xrealloc(l.v, (l.n + 1) * sizeof(*l.v));
        l.v[l.n].key = xstrdup(own->e[i].key);
        l.v[l.n].value = xstrdup(own->e[i].value);
        l.v[l.n].line = own->e[i].line;
        l.n++;
    }
    memcpy((char *)base + o->offset, &l, sizeof(l));
}

/* Checks that every key of file section s is known; returns errors added. */
static int check_keys(const struct conf *c, const struct conf_section *s,
                      const struct conf_option *table, bool exact,
                      struct conf_errors *errs)
{
    int bad = 0;
    bool is_dflt = strcmp(s->name, "DEFAULT") == 0;
    for (size_t i = 0; i < s->n; i++) {
        const char *key = s->e[i].key;
        bool known = false;
        bool only_default = false;
        for (const struct conf_option *t = table; t->section && !known; t++) {
            if (!key_matches_row(t, key))
                continue;
            if (is_dflt)
                known = row_is_default(t) || t->type != CONF_KV;
            else if (row_governs(t, s->name, exact))
                known = true;
            else if (row_is_default(t))
                only_default = true;
        }
        if (known)
            continue;
        bad++;
        char hint[96];
        if (only_default) {
            conf_errors_add(errs, "%s:%u: key '%s' is not valid in [%s], "
                            "expected it in [DEFAULT]",
                            c->name, s->e[i].line, key, s->name);
            continue;
        }
        suggest(table, s->name, exact, is_dflt, key, hint, sizeof(hint));
        char shown[96];
        show(shown, sizeof(shown), key, strlen(key));
        conf_errors_add(errs, "%s:%u: unknown key '%s' in [%s], expected a "
                        "key this %s knows%s",
                        c->name, s->e[i].line, shown, s->name,
                        is_dflt ? "program" : "section", hint);
    }
    return bad;
}

int conf_load(const struct conf *c, const struct conf_option *table,
              void *base, struct conf_errors *errs)
{
    size_t before = errs->count;
    for (size_t i = 0; i < c->n; i++) {
        const struct conf_section *s = &c->s[i];
        if (strcmp(s->name, "DEFAULT") == 0) {
            check_keys(c, s, table, true, errs);
            continue;
        }
        bool exact = section_has_exact_rows(table, s->name);
        bool governed = exact;
        for (const struct conf_option *t = table; t->section && !governed;
             t++)
            governed = row_governs(t, s->name, false);
        if (!governed) {
            struct sbuf b = {0};
            list_sections(table, &b);
            char shown[96];
            show(shown, sizeof(shown), s->name, strlen(s->name));
            conf_errors_add(errs, "%s:%u: unknown section [%s], expected "
                            "one of %s", c->name, s->line, shown, b.p);
            free(b.p);
            continue;
        }
        check_keys(c, s, table, exact, errs);
        if (exact)
            continue;
        /* An instance of a prefix section: validate its values now so that
         * --check-config reports them; the caller stores them later with
         * conf_load_section(). */
        for (const struct conf_option *t = table; t->section; t++)
            if (t->type != CONF_KV && row_governs(t, s->name, false))
                apply_row(c, t, s->name, NULL, errs);
    }
    for (const struct conf_option *t = table; t->section; t++) {
        if (is_pattern(t->section))
            continue;
        if (t->type == CONF_KV)
            apply_kv(c, t, t->section, base);
        else
            apply_row(c, t, t->section, base, errs);
    }
    return errs->count > before ? -EINVAL : 0;
}

int conf_load_section(const struct conf *c, const char *section,
                      const struct conf_option *table, void *base,
                      struct conf_errors *errs)
{
    size_t before = errs->count;
    bool exact = section_has_exact_rows(table, section);
    for (const struct conf_option *t = table; t->section; t++) {
        if (!row_governs(t, section, exact))
            continue;
        if (t->type == CONF_KV)
            apply_kv(c, t, section, base);
        else
            apply_row(c, t, section, base, errs);
    }
    return errs->count > before ? -EINVAL : 0;
}

static void release_row(const struct conf_option *o, void *base)
{
    char *f = (char *)base + o->offset;
    if (o->type == CONF_STRING || o->type == CONF_PATH) {
        char *s;
        memcpy(&s, f, sizeof(s));
        free(s);
        s = NULL;
        memcpy(f, &s, sizeof(s));
    } else if (o->type == CONF_LIST) {
        struct conf_list l;
        memcpy(&l, f, sizeof(l));
        for (size_t i = 0; i < l.n; i++)
            free(l.v[i]);
        free(l.v);
        memset(f, 0, sizeof(l));
    } else if (o->type == CONF_KV) {
        struct conf_kv_list l;
        memcpy(&l, f, sizeof(l));
        for (size_t i = 0; i < l.n; i++) {
            free(l.v[i].key);
            free(l.v[i].value);
        }
        free(l.v);
        memset(f, 0, sizeof(l));
    }
}

void conf_release(const struct conf_option *table, void *base)
{
    for (const struct conf_option *t = table; t->section; t++)
        if (!is_pattern(t->section))
            release_row(t, base);
}

void conf_release_section(const struct conf_option *table,
                          const char *section, void *base)
{
    bool exact = section_has_exact_rows(table, section);
    for (const struct conf_option *t = table; t->section; t++)
        if (row_governs(t, section, exact))
            release_row(t, base);
}

/* ---------------------------------------------------------------- render */

/* Writes text as "# "-prefixed lines wrapped before 78 columns. */
static void wrap_comment(struct sbuf *b, const char *text)
{
    const char *p = text;
    while (*p) {
        while (*p == ' ')
            p++;
        if (!*p)
            break;
        const char *line = p, *brk = NULL;
        size_t col = 0;
        while (p[col] && p[col] != '\n' && col < 76) {
            if (p[col] == ' ')
                brk = p + col;
            col++;
        }
        const char *end;
        if (!p[col] || p[col] == '\n' || !brk)
            end = p + col;
        else
            end = brk;
        sb_puts(b, "# ");
        sb_add(b, line, (size_t)(end - line));
        sb_puts(b, "\n");
        p = end;
        if (*p == '\n')
            p++;
    }
}

char *conf_render_sample(const struct conf_option *table, const char *intro)
{
    struct sbuf b = {0};
    if (intro && *intro) {
        wrap_comment(&b, intro);
        sb_puts(&b, "\n");
    }
    for (const struct conf_option *t = table; t->section; t++) {
        if (section_seen_before(table, t))
            continue;
        if (is_pattern(t->section))
            sb_printf(&b, "# [%.*s<name>]\n", (int)strlen(t->section) - 1,
                      t->section);
        else
            sb_printf(&b, "[%s]\n", t->section);
        for (const struct conf_option *o = t; o->section; o++) {
            if (strcmp(o->section, t->section) != 0)
                continue;
            if (o->help)
                wrap_comment(&b, o->help);
            struct sbuf d = {0};
            describe_type(o, &d);
            if (o->type == CONF_KV)
                sb_printf(&d, "; none by default");
            else if (o->flags & CONF_REQUIRED)
                sb_printf(&d, "; required");
            else if (o->def && *o->def)
                sb_printf(&d, "; default %s", o->def);
            else
                sb_printf(&d, "; default empty");
            wrap_comment(&b, d.p);
            free(d.p);
            sb_printf(&b, "# %s =%s%s\n\n", o->name,
                      o->def && *o->def ? " " : "", o->def ? o->def : "");
        }
    }
    if (b.len >= 2 && b.p[b.len - 2] == '\n')
        b.p[--b.len] = '\0'; /* no blank line at the end of the file */
    return sb_steal(&b);
}

static void render_value(const struct conf_option *o, const void *base,
                         struct sbuf *b)
{
    const char *f = (const char *)base + o->offset;
    switch (o->type) {
    case CONF_BOOL: {
        bool v;
        memcpy(&v, f, sizeof(v));
        sb_puts(b, v ? "true" : "false");
        break;
    }
    case CONF_INT: {
        int64_t v;
        memcpy(&v, f, sizeof(v));
        sb_printf(b, "%" PRId64, v);
        break;
    }
    case CONF_DURATION: {
        int64_t v;
        memcpy(&v, f, sizeof(v));
        sb_printf(b, "%" PRId64 "ms", v);
        break;
    }
    case CONF_SIZE: {
        uint64_t v;
        memcpy(&v, f, sizeof(v));
        sb_printf(b, "%" PRIu64, v);
        break;
    }
    case CONF_STRING:
    case CONF_PATH: {
        const char *s;
        memcpy(&s, f, sizeof(s));
        for (; s && *s; s++) {
            if (*s == '\n')
                sb_puts(b, "\n    ");
            else
                sb_add(b, s, 1);
        }
        break;
    }
    case CONF_ENUM: {
        int v;
        memcpy(&v, f, sizeof(v));
        sb_puts(b, o->choices ? o->choices[v] : "?");
        break;
    }
    case CONF_LIST: {
        struct conf_list l;
        memcpy(&l, f, sizeof(l));
        for (size_t i = 0; i < l.n; i++)
            sb_printf(b, "%s%s", i ? ", " : "", l.v[i]);
        break;
    }
    case CONF_KV:
        break;
    }
}

char *conf_render_effective(const struct conf_option *table, const void *base)
{
    struct sbuf b = {0};
    for (const struct conf_option *t = table; t->section; t++) {
        if (is_pattern(t->section))
            continue;
        if (section_seen_before(table, t))
            continue;
        sb_printf(&b, "[%s]\n", t->section);
        for (const struct conf_option *o = t; o->section; o++) {
            if (strcmp(o->section, t->section) != 0)
                continue;
            if (o->type == CONF_KV) {
                struct conf_kv_list l;
                memcpy(&l, (const char *)base + o->offset, sizeof(l));
                for (size_t i = 0; i < l.n; i++)
                    sb_printf(&b, "%s = %s\n", l.v[i].key, l.v[i].value);
                continue;
            }
            sb_printf(&b, "%s = ", o->name);
            render_value(o, base, &b);
            sb_puts(&b, "\n");
        }
        sb_puts(&b, "\n");
    }
    return sb_steal(&b);
}
