/*
 * eng_rules.h - storlet rules: storlets that run without the client asking
 * (implicit) or whatever the client asks (mandatory), per account and per
 * container. The user contract (document format, who may set rules, where
 * they are stored, what every request path must do) is docs/rules.md; this
 * header is the pure part the daemons call: parse and check a rule
 * document, and decide, for one request, which chain of storlets runs.
 *
 * Decisions in short (docs/rules.md section 3):
 *  - a request's own X-Run-Storlet (explicit) beats plain rules; among
 *    plain rules the first match wins, container rules before account
 *    rules, each in document order;
 *  - every matching mandatory rule applies, whatever the client asked;
 *  - mandatory storlets sit next to the stored bytes: on a read (GET, HEAD,
 *    the source of COPY) they run first, container rules before account
 *    rules, then the client's chain; on a write (PUT, the destination of
 *    COPY) they run last, account rules before container rules;
 *  - a mandatory rule fails closed: a fact it matches on that the caller
 *    cannot give (metadata not known yet) counts as matching.
 *
 * A struct eng_rules is immutable after eng_rules_parse and may be shared
 * by threads (read-only). Functions are pure and thread-safe.
 */
#ifndef CAIRN_ENG_RULES_H
#define CAIRN_ENG_RULES_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "common/err.h"
#include "engine/eng_seq.h"

/* A stored rule document fits one header line (8192 bytes with the name). */
#define ENG_RULES_DOC_MAX 8000
#define ENG_RULES_MAX 32            /* rules in one document */
#define ENG_RULES_ACTION_MAX 4      /* stages in one rule's action */
#define ENG_RULES_LIST_MAX 32       /* entries in one match list */
#define ENG_RULES_ID_MAX 64

/* The sysmeta keys holding the documents, and the admin API header. */
#define ENG_RULES_ACCOUNT_SYSMETA "X-Account-Sysmeta-Cairn-Storlet-Rules"
#define ENG_RULES_CONTAINER_SYSMETA "X-Container-Sysmeta-Cairn-Storlet-Rules"
#define ENG_RULES_HEADER "X-Storlet-Rules"

struct eng_rules;

/*
 * Parses and fully checks a rule document (docs/rules.md section 2):
 * text[0..len) is JSON, at most ENG_RULES_DOC_MAX bytes, and so must be
 * its canonical form (eng_rules_serialize, which fills in defaults and
 * can be longer). Unknown keys,
 * wrong types, empty lists, bad names, duplicate ids, a mandatory rule
 * naming COPY, methods other than GET, PUT, COPY: all errors. `where`
 * prefixes reasons ("X-Storlet-Rules"). Returns the rules (free with
 * eng_rules_free) or NULL with the 400 reason in e, naming the rule by
 * index and id ("X-Storlet-Rules: rule 2 (deid): match.groups: ...").
 */
struct eng_rules *eng_rules_parse(const char *text, size_t len, const char *where,
                                  struct err *e);

/* NULL is a no-op. */
void eng_rules_free(struct eng_rules *r);

/* Number of rules; whether any is mandatory. NULL counts as no rules. */
size_t eng_rules_count(const struct eng_rules *r);
bool eng_rules_has_mandatory(const struct eng_rules *r);

/*
 * The document in its canonical form (compact JSON, keys sorted, defaults
 * filled in: every rule has id, mandatory, match.methods): what the proxy
 * stores in sysmeta and shows an admin. New heap string; eng_rules_parse
 * reads it back to an equal document.
 */
char *eng_rules_serialize(const struct eng_rules *r);

enum eng_rules_method {
    ENG_RULES_GET = 0,
    ENG_RULES_HEAD,
    ENG_RULES_PUT,
    ENG_RULES_COPY,      /* COPY, or PUT with X-Copy-From */
    ENG_RULES_OTHER,     /* POST, DELETE, OPTIONS: no storlet runs */
};

/* The method of a request: method name and whether X-Copy-From is set. */
enum eng_rules_method eng_rules_method_of(const char *method, bool copy_from);

/*
 * What a rule can match on. Strings and json are borrowed. A NULL
 * object, content_type or metadata is "not known" (a listing has no
 * metadata); unknown facts match mandatory rules (fail closed) and never
 * match plain ones. The caller facts are always known; an anonymous
 * caller has NULL user and account and no groups.
 */
struct eng_rules_facts {
    enum eng_rules_method method;
    const char *caller_account;   /* the account the token is for */
    const char *caller_user;      /* "account:user" */
    const char *const *groups;    /* the caller's groups / roles */
    size_t ngroups;
    const char *object;           /* object name within its container */
    const char *content_type;     /* parameters after ';' are ignored */
    json_t *metadata;             /* object of user metadata, keys without
                                   * X-Object-Meta- */
};

/* The rule documents that govern one object (either may be NULL). */
struct eng_rules_sets {
    const struct eng_rules *container;
    const struct eng_rules *account;
};

enum eng_rules_main {
    ENG_RULES_MAIN_NONE = 0,     /* nothing between the mandatory parts */
    ENG_RULES_MAIN_EXPLICIT,     /* the client's X-Run-Storlet chain */
    ENG_RULES_MAIN_PLAIN,        /* a plain rule's action */
};

struct eng_rules_decision {
    struct eng_seq chain;     /* what runs, in order; n == 0: nothing */
    unsigned n_pre;           /* chain[0, n_pre): mandatory read rules */
    unsigned n_post;          /* the last n_post: mandatory write rules */
    bool mandatory;           /* a mandatory rule applied (then the
                               * bypass policy of docs/rules.md holds) */
    enum eng_rules_main main;
    char applied[256];        /* ids of the rules applied, in chain order,
                               * comma-separated (cut at 255 bytes) */
};

/* Releases d->chain. */
void eng_rules_decision_release(struct eng_rules_decision *d);

/*
 * Decides what runs on one request. f and src describe the object the
 * request names (for COPY: the source); for COPY, dst_f and dst describe
 * the destination (NULL: no write-side rules). explicit_chain is the
 * client's X-Run-Storlet chain (eng_seq_from_head) or NULL.
 *   GET:  mandatory read rules (GET) ++ (explicit | first plain GET rule)
 *   HEAD: mandatory read rules only (nothing runs on HEAD; the decision
 *         tells the daemon to answer as docs/rules.md says)
 *   PUT:  (explicit | first plain PUT rule) ++ mandatory write rules (PUT)
 *   COPY: mandatory read rules of the source ++ (explicit | first plain
 *         COPY rule of the source) ++ mandatory write rules of dst
 *   OTHER: nothing.
 * An action identical to one already in the chain (same stages and
 * parameters) is not added twice. Returns 0 with *d filled (release it),
 * or -E2BIG when the chain would exceed ENG_SEQ_MAX stages (e says so; a
 * 400, and nothing runs: mandatory rules fail closed).
 */
int eng_rules_eval(const struct eng_rules_facts *f, const struct eng_rules_sets *src,
                   const struct eng_rules_facts *dst_f, const struct eng_rules_sets *dst,
                   const struct eng_seq *explicit_chain, struct eng_rules_decision *d,
                   struct err *e);

enum eng_rules_side {
    ENG_RULES_READ,     /* mandatory rules naming GET */
    ENG_RULES_WRITE,    /* mandatory rules naming PUT */
};

/*
 * Whether a mandatory rule of `side` could apply to a request with facts
 * f, counting unknown facts as matching (f->method is not used). The
 * daemons ask this where they cannot run a storlet but must not leak what
 * one would hide: a listing row (object and content type known, metadata
 * not), a HEAD, a request for a path before the object is read. NULL
 * object/content_type/metadata are unknown.
 */
bool eng_rules_subject(const struct eng_rules_facts *f, const struct eng_rules_sets *sets,
                       enum eng_rules_side side);

/*
 * Whether a decision over sets can depend on facts only the object holds
 * (some rule matches on content type or metadata). When false, the proxy
 * can decide from the caller and the name alone, without first asking an
 * object node for the object's metadata. NULL sets: false.
 */
bool eng_rules_needs_object_facts(const struct eng_rules_sets *sets);

/*
 * Whether the caller may set or read the rule documents of storage account
 * `account` ("AUTH_test"): a reseller admin (group ".reseller_admin") or
 * the account's owner, i.e. a tempauth user with .admin, whose groups hold
 * the storage account itself (px_auth's group list). Container ACLs never
 * grant it.
 */
bool eng_rules_may_manage(const char *account, const char *const *groups, size_t ngroups);

#endif
