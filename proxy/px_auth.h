/*
 * px_auth.h - tempauth-compatible authentication: the users of
 * [filter:tempauth], GET <auth_prefix>v1.0 issuing tokens, and turning a
 * request's token into the group list px_acl_authorize() works on.
 *
 * Tokens are common/token.h's HMAC-signed claims, so any proxy holding the
 * same secret accepts them without shared state. The claims carry the
 * account, the user and the user's configured groups; the group list is
 * rebuilt from them on every request exactly as tempauth builds it:
 * account, account:user, then the groups with .admin replaced by the owned
 * storage account (reseller prefix + account).
 *
 * struct px_auth is built at start-up and read-only afterwards; every
 * function is thread-safe.
 */
#ifndef CAIRN_PX_AUTH_H
#define CAIRN_PX_AUTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/conf.h"
#include "common/token.h"

struct px_auth;
struct px_conf;

/* Builds the user table from c (which must outlive nothing: strings are
 * copied). Problems are added to errs. Returns a new px_auth, or NULL when
 * errs got something. */
struct px_auth *px_auth_new(const struct px_conf *c, struct conf_errors *errs);
void px_auth_free(struct px_auth *a);

/* "AUTH_": the reseller prefix with its underscore. Borrowed. */
const char *px_auth_reseller_prefix(const struct px_auth *a);

/* The outcome of a token request. */
struct px_auth_grant {
    int status;                   /* 200, 401, 400 or 405 */
    char realm[TOKEN_NAME_MAX + 80]; /* for Www-Authenticate on 401 */
    char token[TOKEN_MAX_LEN];
    int64_t expires_in;           /* seconds */
    char account[TOKEN_NAME_MAX + 80]; /* storage account "AUTH_test" */
    const char *storage_url;      /* configured override, or NULL */
};

/*
 * Handles a request under the auth prefix: method, the path after the
 * prefix ("v1.0", "v1/<account>/auth", "auth"), and the X-Auth-User /
 * X-Auth-Key (or X-Storage-User / X-Storage-Pass) values (NULL if absent).
 * now is Unix seconds. Fills *g. Returns 0.
 */
int px_auth_get_token(const struct px_auth *a, const char *method,
                      const char *subpath, const char *user, const char *key,
                      int64_t now, struct px_auth_grant *g);

/*
 * Verifies a token and writes the group list: groups[0..*n) point into
 * store (storesz bytes). Returns 0, -EKEYREJECTED / -EKEYEXPIRED /
 * -EINVAL (not a valid token: answer 401), or -ENOSPC.
 */
int px_auth_groups(const struct px_auth *a, const char *token, int64_t now,
                   const char **groups, size_t maxgroups, size_t *n,
                   char *store, size_t storesz);

#endif
