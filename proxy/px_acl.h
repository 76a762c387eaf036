/*
 * px_acl.h - container ACLs (X-Container-Read / X-Container-Write, Swift's
 * "V1" syntax) and the tempauth authorization decision built on them.
 *
 * An ACL is a comma-separated list of elements: a group name ("test" for
 * everyone of tempauth account test, "test:tester" for one user, or any
 * configured group) or a referrer designation ".r:<host>" (".r:*" anyone,
 * ".r:.example.com" a domain, ".r:-host" a denial), plus ".rlistings",
 * which lets a referrer grant cover container listings too. Write ACLs may
 * not hold referrer designations.
 *
 * Everything here is pure (no allocation, no globals) and thread-safe.
 */
#ifndef CAIRN_PX_ACL_H
#define CAIRN_PX_ACL_H

#include <stdbool.h>
#include <stddef.h>

/*
 * Swift's clean_acl: validates an ACL header value and writes its stored
 * form to out (at most outsz bytes with the NUL; an out as large as the
 * input always suffices): elements trimmed, empty ones dropped, ".ref:",
 * ".referer:", ".referrer:" shortened to ".r:", "*.x" to ".x". header is
 * the header name ("X-Container-Write" forbids referrers). Returns 0, or
 * -EINVAL with why (Swift's message, for the 400 body) filled, or -ENOSPC.
 */
int px_acl_clean(const char *header, const char *value, char *out,
                 size_t outsz, char *why, size_t whysz);

/*
 * Swift's referrer_allowed: does the ACL's referrer list let a request
 * with this Referer header (NULL when absent) through? Rules apply in
 * order; a later match overrides an earlier one.
 */
bool px_acl_referrer_allowed(const char *acl, const char *referer);

/* Does the ACL name one of groups[0..n) (exact match, after the stored
 * form's percent-decoding) or, when want_rlistings, hold ".rlistings"? */
bool px_acl_has_group(const char *acl, const char *const *groups, size_t n);
bool px_acl_has_rlistings(const char *acl);

/* Who is asking, as tempauth sees it. */
struct px_identity {
    bool authenticated;        /* a valid token came with the request */
    const char *const *groups; /* account, account:user, then the user's
                                  groups with .admin replaced by the
                                  owned storage account (AUTH_<account>) */
    size_t ngroups;
};

enum px_authz {
    PX_AUTHZ_ALLOW,   /* go on, not an owner */
    PX_AUTHZ_OWNER,   /* go on as owner (may see and set ACLs) */
    PX_AUTHZ_DENY,    /* 401 when !authenticated, else 403 */
};

/* Facts of the request the decision needs. */
struct px_authz_req {
    const char *account;   /* storage account, e.g. "AUTH_test" */
    bool has_container;
    bool has_object;
    bool method_put_or_delete; /* PUT or DELETE */
    bool method_options;
    const char *reseller_prefix; /* "AUTH_" */
    const char *acl;       /* the container ACL that applies, or NULL */
    const char *referer;   /* Referer header or NULL */
};

/*
 * tempauth's authorize: reseller admin -> owner of every account with the
 * prefix; a user holding the account's group -> owner (except account PUT
 * and DELETE); OPTIONS -> allow; a referrer grant -> allow for objects, and
 * for containers with .rlistings; a group in the ACL -> allow; else deny.
 * An account outside the reseller prefix is always denied.
 */
enum px_authz px_acl_authorize(const struct px_identity *id,
                               const struct px_authz_req *r);

#endif
