/*
 * px_cap.h - capabilities: authority that the proxy hands to its own
 * internal requests and that no client can forge. Design notes and the
 * header contract: docs/internals/capabilities.md.
 *
 * The proxy makes requests to itself (loopback requests of the storlet
 * engine) and has object nodes make requests back to it (fetching storlet
 * code). Some of these must carry more authority than the caller's token:
 * "this PUT is the output of a storlet, its provenance metadata is true",
 * "fetch this storlet's code with the account's rights". Such a request
 * carries X-Cairn-Capability: a value the proxy minted with a secret that
 * lives only in this process (random, read with getrandom() at start,
 * never written anywhere), naming a purpose, a path (or a path prefix)
 * inside one account, and an expiry, sealed with HMAC-SHA256.
 *
 * Every request entering the proxy goes through px_cap_admit() before
 * anything reads a header: a capability that verifies for that very
 * request (purpose known, method allowed by the purpose, path in scope,
 * not expired, MAC right) is recorded in the request; anything else is
 * ignored as if the header were absent (and never forwarded: the proxy
 * forwards only headers it lists). Code asks px_cap_granted(), never the
 * header.
 *
 * Paths are the decoded API path, "/v1/<account>[/<container>[/<object>]]",
 * as names_parse_api_path() gives its parts; a prefix scope must end in
 * "/" and lie inside the account.
 *
 * Threading: the key is written once at start and read-only afterwards;
 * every function is thread-safe. Return conventions per function.
 */
#ifndef CAIRN_PX_CAP_H
#define CAIRN_PX_CAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PX_CAP_HEADER "X-Cairn-Capability"
#define PX_CAP_KEY_LEN 32
/* Seconds a capability minted by px_cap_mint_for() stays valid. */
#define PX_CAP_TTL 120

/*
 * Purposes. Each names what a verified capability allows, and only that:
 *
 *   PX_CAP_CODE    GET or HEAD of an object in the account's `storlet` or
 *                  `dependency` container, authorized as the account's
 *                  owner (a rule's storlet runs with code the caller may
 *                  not read).
 *   PX_CAP_OUTPUT  PUT of a storlet's output: its
 *                  X-Object-Meta-Storlet-Generated-* headers are stored
 *                  as provenance (docs/storlets.md section 2); without it
 *                  those headers are dropped.
 */
#define PX_CAP_CODE "storlet-code"
#define PX_CAP_OUTPUT "storlet-output"
/*
 *   PX_CAP_RULED   GET, HEAD or PUT of exactly this object, made by the
 *                  proxy's storlet chain whose stages already hold the
 *                  storlet rules of this read or write (docs/rules.md):
 *                  the request is not decided by the rules again (no
 *                  second run of a mandatory storlet). It grants no
 *                  access: the caller's token is judged as ever.
 */
#define PX_CAP_RULED "storlet-ruled"

struct px_cap_key {
    unsigned char k[PX_CAP_KEY_LEN];
};

struct px_req;

/* Fills the key from getrandom(). Returns 0 or a negative errno. */
int px_cap_key_init(struct px_cap_key *key);

/*
 * Mints a capability: purpose (one of PX_CAP_*), account, and path, the
 * decoded "/v1/<account>/..." it is good for; prefix makes it good for
 * every path starting with path (which must then end in "/"). expires is
 * Unix seconds. Returns a new string (free() it), the header value, or
 * NULL when the arguments are invalid (unknown purpose, path outside the
 * account, a prefix without its "/").
 */
char *px_cap_mint(const struct px_cap_key *key, const char *purpose, const char *account,
                  const char *path, bool prefix, int64_t expires);

/*
 * Does value grant purpose for path at time now (Unix seconds)? True only
 * when value is well-formed, names this purpose, is not expired, path is
 * its path (or inside its prefix) and the MAC verifies (constant-time
 * compare). Methods are not judged here (px_cap_admit does).
 */
bool px_cap_check(const struct px_cap_key *key, const char *value, const char *purpose,
                  const char *path, int64_t now);

/*
 * Entry of every API request (px_server.c): looks at each X-Cairn-Capability
 * header of pr and records the purpose of the first one that verifies for
 * pr's method and decoded path. Unverified ones are logged at info and
 * otherwise ignored. Never answers.
 */
void px_cap_admit(struct px_req *pr);

/* Did px_cap_admit record purpose for this request? (A request may carry
 * several capabilities; every one that verifies is recorded.) */
bool px_cap_granted(const struct px_req *pr, const char *purpose);

/*
 * Mints, for a request the proxy is about to make on pr's behalf, a
 * capability for purpose on "/v1/<pr's account>/<container>/<object>"
 * (object NULL and prefix: the container's prefix; container NULL too:
 * the account's), valid ttl seconds (0: PX_CAP_TTL; a capability used
 * late in a long chain needs longer). The string is in pr's pool.
 * Returns NULL only for invalid arguments.
 */
const char *px_cap_mint_for(struct px_req *pr, const char *purpose, const char *container,
                            const char *object, bool prefix, unsigned ttl);

/*
 * The same for a request target the proxy sends to itself ("/v1/a/c/o",
 * percent-encoded, no query): parsed as px_handle will parse it, so the
 * capability names exactly the path the receiving side computes; exact
 * scope. Returns a pool string, or NULL when target is not an API path.
 */
const char *px_cap_mint_target(struct px_req *pr, const char *purpose, const char *target);

#endif
