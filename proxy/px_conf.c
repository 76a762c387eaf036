/*
 * px_conf.c - the proxy's option table and loader; see px_conf.h.
 * Defaults are Swift 2.30's proxy-server defaults where Swift has the
 * option (swift/proxy/server.py, common/middleware/tempauth.py).
 */
#include "proxy/px_conf.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stddef.h>
#include <string.h>

#include "common/token.h"
#include "common/util.h"
#include "engine/eng.h"

#define O(f) offsetof(struct px_conf, f)
#define APP "app:proxy-server"
#define TA "filter:tempauth"

const struct conf_option px_conf_table[] = {
    {"DEFAULT", "bind_ip", CONF_STRING, O(bind_ip), "127.0.0.1", 0, 0, NULL,
     0, "Address the proxy listens on (numeric IPv4 or IPv6)."},
    {"DEFAULT", "bind_port", CONF_INT, O(bind_port), "8080", 0, 65535, NULL,
     0, "TCP port of the Swift API (0 picks a free port, for tests)."},
    {"DEFAULT", "workers", CONF_INT, O(workers), "2", 1, 256, NULL, 0,
     "Worker threads, each with its own event loop and its own "
     "SO_REUSEPORT listening socket."},
    {"DEFAULT", "swift_dir", CONF_PATH, O(swift_dir), "/etc/cairn", 0, 0,
     NULL, 0,
     "Directory holding cairn.conf (hash secrets, constraints) and the "
     "account.ring, container.ring and object.ring files."},
    {"DEFAULT", "log_level", CONF_STRING, O(log_level), "notice", 0, 0, NULL,
     0, "Lowest level logged: err, warning, notice, info or debug. Access "
     "log lines are logged at info."},
    {"DEFAULT", "log_facility", CONF_STRING, O(log_facility), NULL, 0, 0,
     NULL, 0, "Syslog facility (LOG_LOCAL0 ...); empty logs to stderr."},

    {APP, "conn_timeout", CONF_DURATION, O(conn_timeout), "0.5", 1,
     600000, NULL, 0, "Time to connect to a storage node."},
    {APP, "node_timeout", CONF_DURATION, O(node_timeout), "10", 1, 3600000,
     NULL, 0,
     "Time a storage node may take to answer, or between two bytes of a "
     "body, before the proxy gives up on it."},
    {APP, "recoverable_node_timeout", CONF_DURATION,
     O(recoverable_node_timeout), "0", 0, 3600000, NULL, 0,
     "node_timeout for GET and HEAD, where another replica can take over; "
     "0 means node_timeout."},
    {APP, "client_timeout", CONF_DURATION, O(client_timeout), "60", 1,
     3600000, NULL, 0,
     "Time without a byte from a client sending a body (408 after it)."},
    {APP, "post_quorum_timeout", CONF_DURATION, O(post_quorum_timeout),
     "0.5", 0, 600000, NULL, 0,
     "After a write reached its quorum, how long to wait for the remaining "
     "storage nodes before answering."},
    {APP, "error_suppression_limit", CONF_INT, O(error_suppression_limit),
     "10", 1, 1000000, NULL, 0,
     "Errors (timeouts, refused connections, 5xx) after which a storage "
     "node is skipped for error_suppression_interval. A 507 skips it at "
     "once."},
    {APP, "error_suppression_interval", CONF_DURATION,
     O(error_suppression_interval), "60", 1, 86400000, NULL, 0,
     "How long an error-limited node is skipped; its error count is "
     "forgotten after this long without errors."},
    {APP, "ring_check_interval", CONF_DURATION, O(ring_check_interval), "15",
     0, 86400000, NULL, 0,
     "How often the ring files are checked for changes (0: never)."},
    {APP, "account_autocreate", CONF_BOOL, O(account_autocreate), "false", 0,
     0, NULL, 0,
     "Create an account on its first write, and answer reads of a missing "
     "account as an empty one (as a Swift all-in-one does)."},
    {APP, "allow_account_management", CONF_BOOL,
     O(allow_account_management), "false", 0, 0, NULL, 0,
     "Allow PUT and DELETE of accounts (by a reseller admin)."},
    {APP, "max_idle_backend_conns", CONF_INT, O(max_idle_backend_conns),
     "64", 0, 100000, NULL, 0,
     "Idle keep-alive connections kept per storage node address, per "
     "worker."},
    {APP, "max_manifest_segments", CONF_INT, O(max_manifest_segments), "1000", 1,
     1000000, NULL, 0,
     "Most segments a static large object's manifest may list (Swift's "
     "slo max_manifest_segments)."},
    {APP, "max_manifest_size", CONF_INT, O(max_manifest_size), "8388608", 1024,
     1073741824, NULL, 0,
     "Most bytes of a static large object's manifest PUT body (Swift's slo "
     "max_manifest_size)."},

    {TA, "reseller_prefix", CONF_STRING, O(reseller_prefix), "AUTH", 0, 0,
     NULL, 0,
     "Prefix of the account names this auth system owns; an underscore is "
     "appended as in tempauth (AUTH -> AUTH_)."},
    {TA, "auth_prefix", CONF_STRING, O(auth_prefix), "/auth/", 0, 0, NULL, 0,
     "Path prefix of the token service (GET <prefix>v1.0)."},
    {TA, "token_life", CONF_INT, O(token_life), "86400", 1, 31536000, NULL, 0,
     "Seconds a token stays valid."},
    {TA, "secret", CONF_STRING, O(auth_secret), NULL, 0, 0, NULL, 0,
     "Key that signs tokens (HMAC-SHA256), at least 16 bytes. Every proxy "
     "of a cluster must have the same one; changing it logs everyone out."},
    {TA, "user_*", CONF_KV, O(users), NULL, 0, 0, NULL, 0,
     "Users as in tempauth: user_<account>_<user> = <key> [group ...] "
     "[storage_url]. The group .admin makes the user an owner of the "
     "account, .reseller_admin an owner of every account."},
    ENG_CONF_ROWS(O)
    {"DEFAULT", "storlet_distributed_concurrency", CONF_INT,
     O(storlet_dist_concurrency), "16", 1, 64, NULL, 0,
     "Most splits of one Distributed request (docs/compound-storlets.md "
     "section 2) running at once; a request asking for more gets this "
     "many."},
    {"DEFAULT", "storlet_distributed_timeout", CONF_DURATION,
     O(storlet_dist_timeout), "600", 1, 86400000, NULL, 0,
     "Longest run of a Distributed request's merge storlet, which waits "
     "for its input as long as the splits run (each split has its wall "
     "budget, docs/storlets.md 3.7); it is killed after that."},
    {"DEFAULT", "storlet_proxy_address", CONF_STRING, O(storlet_proxy_address), NULL, 0,
     0, NULL, 0,
     "Address object nodes use to reach this very proxy process for a "
     "storlet's code and services (X-Backend-Storlet-Proxy): a numeric "
     "IPv4 address or [IPv6] address, optionally with :port (default: "
     "the listening port). Empty: bind_ip, or 127.0.0.1 (::1) when bind_ip "
     "is 0.0.0.0 (::), which only works when every node is on this host: "
     "set it in a multi-host cluster. Not a load balancer: capabilities "
     "minted here verify only here (docs/internals/capabilities.md)."},
    CONF_END,
};

const char px_conf_intro[] =
    "proxy-server.conf.sample - cairn-proxy, the Swift API endpoint.\n"
    "Copy it to proxy-server.conf. Every option is shown with its default;\n"
    "uncomment only what you change. Durations are in seconds unless a\n"
    "suffix (ms, s, m, h) is given. Generated from the option table in\n"
    "proxy/px_conf.c.";

int px_conf_apply(const struct conf *f, struct px_conf *c,
                  struct conf_errors *errs)
{
    size_t before = errs->count;
    conf_load(f, px_conf_table, c, errs);
    size_t n = c->auth_secret ? strlen(c->auth_secret) : 0;
    if (n < TOKEN_SECRET_MIN) {
        unsigned line = 0;
        conf_get(f, TA, "secret", &line);
        conf_errors_add(errs,
                        "%s:%u: [" TA "] secret must be set to at least %d "
                        "bytes (it signs the auth tokens)",
                        conf_name(f), line, TOKEN_SECRET_MIN);
    }
    if (c->storlet_proxy_address && c->storlet_proxy_address[0] &&
        px_conf_parse_address(c->storlet_proxy_address, c->storlet_proxy_host,
                              sizeof(c->storlet_proxy_host), &c->storlet_proxy_port) < 0) {
        unsigned line = 0;
        conf_get(f, "DEFAULT", "storlet_proxy_address", &line);
        conf_errors_add(errs,
                        "%s:%u: storlet_proxy_address '%s': expected a numeric IPv4 "
                        "address or [IPv6] address, optionally with :port",
                        conf_name(f), line, c->storlet_proxy_address);
    }
    for (size_t i = 0; i < c->users.n; i++) {
        const struct conf_kv *kv = &c->users.v[i];
        const char *rest = kv->key + strlen("user_");
        const char *us = strchr(rest, '_');
        if (!us || us == rest || !us[1])
            conf_errors_add(errs,
                            "%s:%u: %s: expected user_<account>_<user>",
                            conf_name(f), kv->line, kv->key);
        if (!kv->value[strspn(kv->value, " \t")])
            conf_errors_add(errs, "%s:%u: %s: the user has no key",
                            conf_name(f), kv->line, kv->key);
    }
    return errs->count > before ? -EINVAL : 0;
}

int px_conf_parse_address(const char *s, char *host, size_t hostsz, int *port)
{
    char h[INET6_ADDRSTRLEN + 2];
    const char *rest;
    *port = 0;
    if (s[0] == '[') {
        const char *e = strchr(s, ']');
        if (!e || (size_t)(e - s - 1) >= sizeof(h))
            return -EINVAL;
        memcpy(h, s + 1, (size_t)(e - s - 1));
        h[e - s - 1] = '\0';
        struct in6_addr a6;
        if (inet_pton(AF_INET6, h, &a6) != 1)
            return -EINVAL;
        rest = e + 1;
    } else {
        size_t n = strcspn(s, ":");
        if (n >= sizeof(h))
            return -EINVAL;
        memcpy(h, s, n);
        h[n] = '\0';
        struct in_addr a4;
        if (inet_pton(AF_INET, h, &a4) != 1)
            return -EINVAL;
        rest = s + n;
    }
    if (*rest) {
        uint64_t p;
        if (rest[0] != ':' || parse_u64(rest + 1, &p) < 0 || p == 0 || p > 65535)
            return -EINVAL;
        *port = (int)p;
    }
    if (strlen(h) >= hostsz)
        return -EINVAL;
    str_copy(host, h, hostsz);
    return 0;
}

int px_conf_load(const char *path, struct px_conf *c, struct conf_errors *errs)
{
    struct conf *f = conf_parse_file(path, errs);
    if (!f)
        return -EINVAL;
    size_t before = errs->count;
    px_conf_apply(f, c, errs);
    conf_free(f);
    return errs->count > before ? -EINVAL : 0;
}

void px_conf_release(struct px_conf *c)
{
    conf_release(px_conf_table, c);
}
