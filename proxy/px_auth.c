/*
 * px_auth.c - tempauth users and tokens; see px_auth.h. Behaviour follows
 * Swift's tempauth (handle_get_token, get_groups), restated.
 */
#include "proxy/px_auth.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "common/util.h"
#include "common/xalloc.h"
#include "proxy/px_conf.h"

struct px_user {
    char *account;  /* "test" */
    char *user;     /* "tester" */
    char *key;
    char *url;      /* storage URL override or NULL */
    size_t ngroups;
    char *groups[TOKEN_GROUPS_MAX];
};

struct px_auth {
    char *secret;
    size_t secret_len;
    char prefix[64];   /* "AUTH_" */
    int64_t token_life;
    size_t nusers;
    struct px_user *users;
};

static void user_release(struct px_user *u)
{
    free(u->account);
    free(u->user);
    free(u->key);
    free(u->url);
    for (size_t i = 0; i < u->ngroups; i++)
        free(u->groups[i]);
}

void px_auth_free(struct px_auth *a)
{
    if (!a)
        return;
    for (size_t i = 0; i < a->nusers; i++)
        user_release(&a->users[i]);
    free(a->users);
    free(a->secret);
    free(a);
}

const char *px_auth_reseller_prefix(const struct px_auth *a)
{
    return a->prefix;
}

struct px_auth *px_auth_new(const struct px_conf *c, struct conf_errors *errs)
{
    size_t before = errs->count;
    struct px_auth *a = xcalloc(1, sizeof(*a));
    a->secret = xstrdup(c->auth_secret ? c->auth_secret : "");
    a->secret_len = strlen(a->secret);
    const char *rp = c->reseller_prefix ? c->reseller_prefix : "AUTH";
    snprintf(a->prefix, sizeof(a->prefix), "%s%s", rp,
             rp[0] && rp[strlen(rp) - 1] != '_' ? "_" : "");
    a->token_life = c->token_life;
    a->users = xcalloc(c->users.n ? c->users.n : 1, sizeof(*a->users));
    for (size_t i = 0; i < c->users.n; i++) {
        const struct conf_kv *kv = &c->users.v[i];
        const char *rest = kv->key + strlen("user_");
        const char *us = strchr(rest, '_');
        if (!us || us == rest || !us[1] ||
            (size_t)(us - rest) > TOKEN_NAME_MAX ||
            strlen(us + 1) > TOKEN_NAME_MAX) {
            conf_errors_add(errs, "line %u: %s: expected user_<account>_<user>",
                            kv->line, kv->key);
            continue;
        }
        struct px_user *u = &a->users[a->nusers++];
        u->account = xstrndup(rest, (size_t)(us - rest));
        u->user = xstrdup(us + 1);
        char *words = xstrdup(kv->value);
        char *save = NULL;
        for (char *w = strtok_r(words, " \t\n", &save); w;
             w = strtok_r(NULL, " \t\n", &save)) {
            if (!u->key) {
                u->key = xstrdup(w);
            } else if (strstr(w, "://")) {
                free(u->url);
                u->url = xstrdup(w);
            } else if (u->ngroups < TOKEN_GROUPS_MAX - 1 &&
                       strlen(w) <= TOKEN_NAME_MAX) {
                u->groups[u->ngroups++] = xstrdup(w);
            } else {
                conf_errors_add(errs, "line %u: %s: too many or too long "
                                "groups", kv->line, kv->key);
            }
        }
        free(words);
        if (!u->key)
            conf_errors_add(errs, "line %u: %s: the user has no key",
                            kv->line, kv->key);
    }
    if (errs->count > before) {
        px_auth_free(a);
        return NULL;
    }
    return a;
}

static const struct px_user *find_user(const struct px_auth *a,
                                       const char *account, size_t alen,
                                       const char *user)
{
    for (size_t i = 0; i < a->nusers; i++) {
        const struct px_user *u = &a->users[i];
        if (strlen(u->account) == alen && memcmp(u->account, account, alen) == 0 &&
            strcmp(u->user, user) == 0)
            return u;
    }
    return NULL;
}

/* Constant-time comparison of the key, so timing reveals nothing. */
static bool key_eq(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    unsigned char d = (unsigned char)(la != lb);
    for (size_t i = 0; i < la; i++)
        d |= (unsigned char)(a[i] ^ (i < lb ? b[i] : 0));
    return d == 0;
}

int px_auth_get_token(const struct px_auth *a, const char *method,
                      const char *subpath, const char *user, const char *key,
                      int64_t now, struct px_auth_grant *g)
{
    memset(g, 0, sizeof(*g));
    str_copy(g->realm, "unknown", sizeof(g->realm));
    if (strcmp(method, "GET") != 0) {
        g->status = 405;
        return 0;
    }
    /* The path after the prefix: "v1.0", "auth", or "v1/<acct>/auth". */
    char segs[3][TOKEN_NAME_MAX + 1] = {{0}};
    int nseg = 0;
    const char *p = subpath;
    while (*p == '/')
        p++;
    while (*p && nseg < 3) {
        size_t n = (nseg == 2) ? strlen(p) : strcspn(p, "/");
        if (n > TOKEN_NAME_MAX) {
            g->status = 400;
            return 0;
        }
        memcpy(segs[nseg], p, n);
        segs[nseg][n] = '\0';
        nseg++;
        p += n;
        if (*p == '/')
            p++;
    }
    if (nseg >= 3 && segs[2][strlen(segs[2]) - 1] == '/')
        segs[2][strlen(segs[2]) - 1] = '\0';
    const char *account = NULL;
    size_t alen = 0;
    const char *uname = NULL;
    if (nseg == 3 && strcmp(segs[0], "v1") == 0 && strcmp(segs[2], "auth") == 0) {
        account = segs[1];
        alen = strlen(account);
        uname = user;
        const char *colon = user ? strchr(user, ':') : NULL;
        if (colon) {
            if ((size_t)(colon - user) != alen ||
                memcmp(user, account, alen) != 0) {
                snprintf(g->realm, sizeof(g->realm), "%s%s", a->prefix, account);
                g->status = 401;
                return 0;
            }
            uname = colon + 1;
        }
    } else if (nseg >= 1 && nseg <= 1 &&
               (strcmp(segs[0], "v1.0") == 0 || strcmp(segs[0], "auth") == 0)) {
        const char *colon = user ? strchr(user, ':') : NULL;
        if (!colon) {
            g->status = 401;
            return 0;
        }
        account = user;
        alen = (size_t)(colon - user);
        uname = colon + 1;
    } else {
        g->status = 400;
        return 0;
    }
    const struct px_user *u = uname ? find_user(a, account, alen, uname) : NULL;
    if (!u || !key || !key_eq(u->key, key)) {
        g->status = 401;
        return 0;
    }
    struct token_claims c;
    memset(&c, 0, sizeof(c));
    str_copy(c.account, u->account, sizeof(c.account));
    str_copy(c.user, u->user, sizeof(c.user));
    for (size_t i = 0; i < u->ngroups; i++)
        str_copy(c.groups[c.ngroups++], u->groups[i], sizeof(c.groups[0]));
    /* Expiry rounded up to a minute: a user who authenticates again within
     * that minute gets the same token, as tempauth returns a cached one. */
    int64_t exp = now + a->token_life;
    exp += (60 - exp % 60) % 60;
    c.expires = exp;
    if (token_issue(a->secret, a->secret_len, &c, g->token, sizeof(g->token)) < 0) {
        g->status = 500;
        return 0;
    }
    g->expires_in = exp - now;
    snprintf(g->account, sizeof(g->account), "%s%s", a->prefix, u->account);
    g->storage_url = u->url;
    g->status = 200;
    return 0;
}

int px_auth_groups(const struct px_auth *a, const char *token, int64_t now,
                   const char **groups, size_t maxgroups, size_t *n,
                   char *store, size_t storesz)
{
    struct token_claims c;
    *n = 0;
    int rc = token_verify(a->secret, a->secret_len, token, strlen(token), now,
                          &c);
    if (rc < 0)
        return rc;
    size_t used = 0;
    bool admin = false;
#define ADD(...)                                                           \
    do {                                                                   \
        if (*n >= maxgroups)                                               \
            return -ENOSPC;                                                \
        int k_ = snprintf(store + used, storesz - used, __VA_ARGS__);      \
        if (k_ < 0 || (size_t)k_ >= storesz - used)                        \
            return -ENOSPC;                                                \
        groups[(*n)++] = store + used;                                     \
        used += (size_t)k_ + 1;                                            \
    } while (0)
    ADD("%s", c.account);
    ADD("%s:%s", c.account, c.user);
    for (size_t i = 0; i < c.ngroups; i++) {
        if (strcmp(c.groups[i], ".admin") == 0)
            admin = true;
        else
            ADD("%s", c.groups[i]);
    }
    if (admin)
        ADD("%s%s", a->prefix, c.account);
#undef ADD
    return 0;
}
