/*
 * token.h - self-validating auth tokens for tempauth v1.0 (prefix token_).
 *
 * Swift's tempauth keeps tokens in memcached, so every proxy must share it.
 * Cairn's tokens carry their own claims instead, signed with a secret that
 * every proxy of the cluster has in its config: any proxy verifies any
 * token with no shared state and no network round trip.
 *
 *   token  = "AUTH_tk" base64url(payload) "." base64url(mac)
 *   mac    = HMAC-SHA256(secret, payload)
 *   payload (version 1) = 0x01, expires (u64 big-endian, Unix seconds),
 *            account, user, group count (u8), groups; each string a u16
 *            big-endian length and its bytes.
 * base64url has no padding; the whole token is ASCII letters, digits, '-',
 * '_' and one '.', so it is a valid HTTP header value and URL component.
 *
 * Claims are readable by whoever holds the token (they are not encrypted):
 * put nothing secret in them. Revocation before expiry is done by changing
 * the secret (which logs everyone out).
 *
 * Thread-safe, no global state; verify does no allocation.
 */
#ifndef CAIRN_TOKEN_H
#define CAIRN_TOKEN_H

#include <stddef.h>
#include <stdint.h>

#define TOKEN_PREFIX "AUTH_tk"
#define TOKEN_NAME_MAX 256   /* bytes in account, user, each group */
#define TOKEN_GROUPS_MAX 32
#define TOKEN_SECRET_MIN 16  /* bytes; shorter secrets are refused */
/* Longest token (with NUL): prefix + base64 of the largest payload + mac. */
#define TOKEN_MAX_LEN                                                     \
    (sizeof(TOKEN_PREFIX) + 4 * ((10 + (2 + TOKEN_NAME_MAX) *             \
                                        (2 + TOKEN_GROUPS_MAX)) + 2) / 3 + \
     1 + 43 + 1)

struct token_claims {
    char account[TOKEN_NAME_MAX + 1]; /* e.g. "test" (tempauth's account) */
    char user[TOKEN_NAME_MAX + 1];    /* e.g. "tester" */
    size_t ngroups;
    char groups[TOKEN_GROUPS_MAX][TOKEN_NAME_MAX + 1]; /* ".admin", ... */
    int64_t expires;                  /* Unix seconds */
};

/*
 * Writes a signed token for *c into out (outsz >= TOKEN_MAX_LEN always
 * suffices). Strings in c must be NUL-terminated, at most TOKEN_NAME_MAX
 * bytes; account and user non-empty. Returns the token length, or -EINVAL
 * (bad claims or secret shorter than TOKEN_SECRET_MIN), -ENOSPC (outsz too
 * small), -EIO (OpenSSL failed).
 */
int token_issue(const void *secret, size_t secret_len,
                const struct token_claims *c, char *out, size_t outsz);

/*
 * Checks token[0..len) against secret at time `now` (Unix seconds) and on
 * success fills *c. The MAC is compared in constant time before anything
 * in the payload is trusted. Returns 0, or:
 *   -EINVAL        not a token of this shape (or secret too short)
 *   -EKEYREJECTED  the signature does not match (tampered, other secret)
 *   -EKEYEXPIRED   valid but expires <= now
 * *c is cleared on every failure.
 */
int token_verify(const void *secret, size_t secret_len, const char *token,
                 size_t len, int64_t now, struct token_claims *c);

#endif
