/*
 * px_cap.c - capabilities for the proxy's internal requests; see px_cap.h
 * and docs/internals/capabilities.md.
 *
 * A value reads
 *
 *     v1;<purpose>;<expires>;<p|x>;<mac>;<scope>
 *
 * with expires in Unix seconds, p for a prefix scope and x for an exact
 * one, mac the 64 hex digits of HMAC-SHA256(key, "cairn-cap v1\n" purpose
 * "\n" expires "\n" p|x "\n" scope), and scope the decoded path
 * percent-encoded (names_quote, "/" kept) so that the value is plain ASCII
 * whatever the names hold. Scope comes last, so the decoded text never
 * needs a delimiter of its own. Every field is covered by the MAC: a
 * changed purpose, expiry, flag or path fails it.
 *
 * Invariant: the key never leaves this process (not logged, not written,
 * not sent); a value is only ever sent to this proxy or to object nodes.
 */
#define LOG_COMPONENT "proxy"
#include "proxy/px_cap.h"

#include <errno.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <time.h>

#include "common/http.h"
#include "common/log.h"
#include "common/names.h"
#include "common/pool.h"
#include "common/util.h"
#include "common/xalloc.h"
#include "engine/eng.h"
#include "proxy/px_int.h"

#define MAC_LEN 32
#define MAC_HEX (2 * MAC_LEN)
#define VALUE_MAX 16384

/* What each purpose lets a request do beyond the scope check. */
struct purpose {
    const char *name;
    unsigned methods;            /* 1 << enum http_method */
    bool code_containers;        /* only `storlet` and `dependency` */
};

static const struct purpose purposes[] = {
    { PX_CAP_CODE, 1u << HTTP_M_GET | 1u << HTTP_M_HEAD, true },
    { PX_CAP_OUTPUT, 1u << HTTP_M_PUT, false },
    { PX_CAP_RULED, 1u << HTTP_M_GET | 1u << HTTP_M_HEAD | 1u << HTTP_M_PUT, false },
};

static const struct purpose *purpose_find(const char *name, size_t len)
{
    for (size_t i = 0; i < sizeof(purposes) / sizeof(purposes[0]); i++)
        if (strlen(purposes[i].name) == len && memcmp(purposes[i].name, name, len) == 0)
            return &purposes[i];
    return NULL;
}

int px_cap_key_init(struct px_cap_key *key)
{
    size_t got = 0;
    while (got < sizeof(key->k)) {
        ssize_t n = getrandom(key->k + got, sizeof(key->k) - got, 0);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        got += (size_t)n;
    }
    return 0;
}

static void mac_of(const struct px_cap_key *key, const char *purpose, long long expires,
                   bool prefix, const char *scope, size_t scope_len, unsigned char out[MAC_LEN])
{
    char head[128];
    int n = snprintf(head, sizeof(head), "cairn-cap v1\n%s\n%lld\n%c\n", purpose, expires,
                     prefix ? 'p' : 'x');
    unsigned char *msg = xmalloc((size_t)n + scope_len);
    memcpy(msg, head, (size_t)n);
    memcpy(msg + n, scope, scope_len);
    unsigned len = 0;
    if (!HMAC(EVP_sha256(), key->k, (int)sizeof(key->k), msg, (size_t)n + scope_len, out,
              &len) || len != MAC_LEN) {
        /* OpenSSL failing on SHA-256 is an environment fault; a zero MAC
         * can never match a real one (mint refuses to use it either). */
        memset(out, 0, MAC_LEN);
    }
    free(msg);
}

/* Is path "/v1/<account>" or inside it? */
static bool in_account(const char *path, const char *account)
{
    size_t al = strlen(account);
    if (strncmp(path, "/v1/", 4) != 0 || al == 0 || strchr(account, '/') ||
        strncmp(path + 4, account, al) != 0)
        return false;
    return path[4 + al] == '\0' || path[4 + al] == '/';
}

char *px_cap_mint(const struct px_cap_key *key, const char *purpose, const char *account,
                  const char *path, bool prefix, int64_t expires)
{
    if (!purpose || !account || !path || !purpose_find(purpose, strlen(purpose)) ||
        !in_account(path, account) || expires <= 0)
        return NULL;
    size_t pl = strlen(path);
    if (prefix && (path[pl - 1] != '/' || pl < 5 + strlen(account)))
        return NULL;
    unsigned char mac[MAC_LEN];
    static const unsigned char zero[MAC_LEN];
    mac_of(key, purpose, (long long)expires, prefix, path, pl, mac);
    if (memcmp(mac, zero, MAC_LEN) == 0)
        return NULL;
    char hex[MAC_HEX + 1];
    hex_encode(mac, MAC_LEN, hex);
    char *q = xmalloc(3 * pl + 1);
    names_quote(path, pl, "/", q);
    char *v = xasprintf("v1;%s;%lld;%c;%s;%s", purpose, (long long)expires,
                        prefix ? 'p' : 'x', hex, q);
    free(q);
    if (strlen(v) >= VALUE_MAX) {
        free(v);
        return NULL;
    }
    return v;
}

/* The value's fields; pointers into the value, scope decoded into buf. */
struct parsed {
    const char *purpose;
    size_t purpose_len;
    long long expires;
    bool prefix;
    const char *mac_hex;
    char *scope;
    size_t scope_len;
};

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

/* Splits value; returns false when it is not a well-formed v1 value. On
 * true, p->scope is a malloc'd decoded copy (free it). */
static bool parse(const char *value, struct parsed *p)
{
    memset(p, 0, sizeof(*p));
    size_t vl = strlen(value);
    if (vl >= VALUE_MAX || strncmp(value, "v1;", 3) != 0)
        return false;
    const char *s = value + 3;
    const char *e = strchr(s, ';');
    if (!e || e == s)
        return false;
    p->purpose = s;
    p->purpose_len = (size_t)(e - s);
    s = e + 1;
    e = strchr(s, ';');
    if (!e || e == s || e - s > 19)
        return false;
    char num[20];
    memcpy(num, s, (size_t)(e - s));
    num[e - s] = '\0';
    int64_t x;
    if (parse_i64(num, &x) < 0 || x <= 0)
        return false;
    p->expires = (long long)x;
    s = e + 1;
    if ((s[0] != 'p' && s[0] != 'x') || s[1] != ';')
        return false;
    p->prefix = s[0] == 'p';
    s += 2;
    for (int i = 0; i < MAC_HEX; i++)
        if (hexval(s[i]) < 0)
            return false;
    if (s[MAC_HEX] != ';')
        return false;
    p->mac_hex = s;
    s += MAC_HEX + 1;
    size_t ql = strlen(s);
    if (ql == 0)
        return false;
    p->scope = xmalloc(ql + 1);
    p->scope_len = names_unquote(s, ql, p->scope);
    if (memchr(p->scope, '\0', p->scope_len)) {
        free(p->scope);
        p->scope = NULL;
        return false;
    }
    return true;
}

static bool path_in_scope(const struct parsed *p, const char *path)
{
    size_t pl = strlen(path);
    if (p->prefix)
        return pl >= p->scope_len && memcmp(path, p->scope, p->scope_len) == 0;
    return pl == p->scope_len && memcmp(path, p->scope, pl) == 0;
}

static bool verify(const struct px_cap_key *key, const struct parsed *p, const char *path,
                   int64_t now)
{
    if (now > p->expires || !path_in_scope(p, path))
        return false;
    if (p->prefix && (p->scope_len == 0 || p->scope[p->scope_len - 1] != '/'))
        return false;
    char purpose[64];
    if (p->purpose_len >= sizeof(purpose))
        return false;
    memcpy(purpose, p->purpose, p->purpose_len);
    purpose[p->purpose_len] = '\0';
    unsigned char want[MAC_LEN], got[MAC_LEN];
    mac_of(key, purpose, p->expires, p->prefix, p->scope, p->scope_len, want);
    for (int i = 0; i < MAC_LEN; i++)
        got[i] = (unsigned char)(hexval(p->mac_hex[2 * i]) << 4 | hexval(p->mac_hex[2 * i + 1]));
    return CRYPTO_memcmp(want, got, MAC_LEN) == 0;
}

bool px_cap_check(const struct px_cap_key *key, const char *value, const char *purpose,
                  const char *path, int64_t now)
{
    if (!value || !purpose || !path)
        return false;
    struct parsed p;
    if (!parse(value, &p))
        return false;
    bool ok = p.purpose_len == strlen(purpose) &&
              memcmp(p.purpose, purpose, p.purpose_len) == 0 && verify(key, &p, path, now);
    free(p.scope);
    return ok;
}

/* ------------------------------------------------------------ requests */

static char *req_path(struct pool *pool, const char *a, const char *c, const char *o)
{
    size_t n = 8 + strlen(a) + (c ? strlen(c) + 1 : 0) + (o ? strlen(o) + 1 : 0);
    char *p = pool_alloc(pool, n);
    snprintf(p, n, "/v1/%s%s%s%s%s", a, c ? "/" : "", c ? c : "", o ? "/" : "", o ? o : "");
    return p;
}

void px_cap_admit(struct px_req *pr)
{
    const struct http_head *h = http_req_head(pr->req);
    unsigned idx = 0;
    const char *v = http_head_next(h, PX_CAP_HEADER, &idx);
    if (!v)
        return;
    char *path = req_path(pr->pool, pr->path.account, pr->path.container, pr->path.object);
    enum http_method m = http_req_method(pr->req);
    int64_t now = (int64_t)time(NULL);
    bool bad = false;
    for (; v; v = http_head_next(h, PX_CAP_HEADER, &idx)) {
        struct parsed p;
        if (!parse(v, &p))
            continue;
        const struct purpose *pu = purpose_find(p.purpose, p.purpose_len);
        bool ok = pu && (unsigned)m < 32 && (pu->methods & (1u << m)) &&
                  (!pu->code_containers ||
                   (pr->path.object && pr->path.container &&
                    (strcmp(pr->path.container, ENG_STORLET_CONTAINER) == 0 ||
                     strcmp(pr->path.container, ENG_DEPENDENCY_CONTAINER) == 0))) &&
                  verify(&pr->srv->cap_key, &p, path, now);
        free(p.scope);
        if (ok) {
            /* every verified purpose counts: a storlet's output PUT is
             * both provenance and already decided by the rules */
            pr->caps |= 1u << (pu - purposes);
            if (!pr->cap)
                pr->cap = pu->name;
            continue;
        }
        bad = true;
    }
    if (!bad)
        return;
    log_set_txn(pr->txn);
    log_warn("ignoring an %s that does not verify for %s %s", PX_CAP_HEADER,
             http_req_method_str(pr->req), http_req_target(pr->req));
    log_set_txn(NULL);
}

bool px_cap_granted(const struct px_req *pr, const char *purpose)
{
    for (size_t i = 0; i < sizeof(purposes) / sizeof(purposes[0]); i++)
        if ((pr->caps & (1u << i)) && strcmp(purposes[i].name, purpose) == 0)
            return true;
    return false;
}

const char *px_cap_mint_for(struct px_req *pr, const char *purpose, const char *container,
                            const char *object, bool prefix, unsigned ttl)
{
    char *path = req_path(pr->pool, pr->path.account, container, object);
    if (prefix && path[strlen(path) - 1] != '/') {
        size_t n = strlen(path) + 2;
        char *p2 = pool_alloc(pr->pool, n);
        snprintf(p2, n, "%s/", path);
        path = p2;
    }
    char *v = px_cap_mint(&pr->srv->cap_key, purpose, pr->path.account, path, prefix,
                          (int64_t)time(NULL) + (ttl ? ttl : PX_CAP_TTL));
    if (!v)
        return NULL;
    char *out = pool_strdup(pr->pool, v);
    free(v);
    return out;
}

const char *px_cap_mint_target(struct px_req *pr, const char *purpose, const char *target)
{
    struct names_api_path ap;
    struct names_verdict v;
    if (names_parse_api_path(target, strcspn(target, "?"), &pr->srv->cluster.constraints, &ap,
                             &v) < 0)
        return NULL;
    char *path = req_path(pr->pool, ap.account, ap.container, ap.object);
    char *m = px_cap_mint(&pr->srv->cap_key, purpose, ap.account, path, false,
                          (int64_t)time(NULL) + PX_CAP_TTL);
    names_api_path_release(&ap);
    if (!m)
        return NULL;
    char *out = pool_strdup(pr->pool, m);
    free(m);
    return out;
}
