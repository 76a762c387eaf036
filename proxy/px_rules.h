/*
 * px_rules.h - the proxy's side of storlet rules (docs/rules.md): for one
 * request, the rule documents that govern the object or container it names,
 * parsed, with the facts of the caller, so the controllers can ask
 * engine/eng_rules.h what must run and what must not leak.
 *
 * Where the documents come from: the container's document travels with the
 * container info the proxy fetches for ACLs (px_cinfo_get, same cache and
 * lifetime); the account's with the account info this module fetches (a
 * HEAD of the account, cached process-wide for the same lifetime), which
 * also says whether the account is enabled for storlets. Plain rules apply
 * only in an enabled account of a proxy that runs storlets; mandatory
 * rules apply everywhere (a proxy without storlets, or an account with
 * storlets off, refuses what they would run). If either document cannot
 * be had, the request is answered 503 (account info up to ACCT_STALE_MS
 * old stands in for an account whose nodes do not answer): a backend
 * error never reads as "no rules".
 *
 * Parsed documents are cached by their text (an immutable struct
 * eng_rules shared by every worker, reference-counted, released by the
 * request pool), so a request pays a hash lookup, not a parse.
 *
 * Threading: the worker thread owning the request; the two caches are
 * shared by the workers behind one mutex each, held for a lookup.
 */
#ifndef CAIRN_PX_RULES_H
#define CAIRN_PX_RULES_H

#include <jansson.h>
#include <stdbool.h>

#include "engine/eng_rules.h"
#include "proxy/px_int.h"

/* The marks of docs/rules.md 4.12: account sysmeta saying that a
 * container of the account holds a document with a mandatory rule, one
 * key per container: PX_RULES_MARK_PREFIX + the md5 (hex) of its name,
 * valued with the name URL-quoted (px_rules_mark_header). A mark is set
 * before such a document is stored and emptied (removed) after a document
 * without one replaced it, or the container was deleted; both writes
 * carry the request's X-Timestamp, so whatever order concurrent writes
 * land in, the newest write to the container and the newest to its mark
 * agree (last writer wins per key, for the document and the mark alike). */
#define PX_RULES_MARK_PREFIX "X-Account-Sysmeta-Cairn-Storlet-Mandatory-"
/* The one mark for the whole account an older proxy set: still honoured,
 * never set nor removed. */
#define PX_RULES_ACCOUNT_MANDATORY "X-Account-Sysmeta-Cairn-Storlet-Mandatory"
/* The version of the object whose facts a decision used (docs/rules.md 4.1). */
#define PX_RULES_FACTS_HEADER "X-Backend-Storlet-Facts-Timestamp"

/* What governs the request's object or container. Lives in the request
 * pool; the documents are released with it. */
struct cload;
struct http_client;
struct px_rules {
    bool on;                   /* storlets enabled for the account */
    struct eng_rules_sets sets; /* NULL members: no document */
    bool any_mandatory;        /* either document has a mandatory rule */
    /* a COPY or PUT with X-Copy-From (px_rules_load_copy) */
    bool copy;
    struct eng_rules_sets copy_src, copy_dst;
    const char *copy_src_cont, *copy_src_obj, *copy_dst_obj;
    struct cload *cload;       /* px_rules.c: the load in progress */
    /* the object's own facts, read first when a rule matches on them
     * (px_rules_read_facts, docs/rules.md 4.1) */
    bool facts;                /* read (an absent object: none known) */
    bool facts_copy_src;       /* ... of the copy's source (PUT with
                                * X-Copy-From), not of pr->path's object */
    const char *ctype;         /* its content type, NULL: not known */
    json_t *meta;              /* its user metadata, NULL: not known */
    char facts_ts[40];         /* its X-Timestamp, "" when not known */
    unsigned facts_reads;      /* rounds (a changed object: read again once) */
    bool account_mandatory;    /* the account has a mandatory rule
                                * somewhere: its document, or a mark
                                * (PX_RULES_MARK_PREFIX, 4.12) */
};

/* What the account info says (px_rules_account_info); strings live in
 * the request pool. */
struct px_rules_account {
    bool enabled;              /* X-Account-Meta-Storlet-Enabled */
    bool mark;                 /* a container marked, or the old mark */
    const char *rules;         /* the account's document, "" none */
    const char *marks;         /* the marked containers, URL-quoted,
                                * comma-separated; "" none */
};

/*
 * Loads the rules for pr->path (account and container of the request, the
 * container's document `cont_doc` as the container info carried it: NULL
 * or "" for none) and calls then(pr, r) with them; r is also stored in
 * pr->rules. r->on is false when nothing applies: no document, the
 * account not enabled and not marked (PX_RULES_MARK_PREFIX). On a
 * backend error while the account may be enabled it answers 503 itself
 * and never calls then.
 */
void px_rules_load(struct px_req *pr, const char *cont_doc,
                   void (*then)(struct px_req *pr, const struct px_rules *r));

/*
 * As px_rules_load without a container document, and also on a request
 * carrying PX_CAP_RULED: a storlet chain's read of a large object's
 * manifest holds the rules of the manifest, not those of the segments'
 * container, which px_dlo.c must still decide with (px_rules_subject_in).
 * Replaces pr->rules. Same errors as px_rules_load.
 */
void px_rules_load_segments(struct px_req *pr,
                            void (*then)(struct px_req *pr, const struct px_rules *r));

/*
 * The account info of pr->path's account (cached: the one cache of it in
 * the proxy, also for px_storlet.c's "storlets run only in an enabled
 * account"). Calls then(pr, ai, arg), ai valid during the call; answers
 * 503 itself on a backend error.
 */
void px_rules_account_info(struct px_req *pr,
                           void (*then)(struct px_req *pr, const struct px_rules_account *ai,
                                        void *arg),
                           void *arg);

/* As px_rules_account_info, but when the info cannot be had it calls
 * then(pr, NULL, arg) instead of answering 503. */
void px_rules_account_info_or_null(struct px_req *pr,
                                   void (*then)(struct px_req *pr,
                                                const struct px_rules_account *ai, void *arg),
                                   void *arg);

/*
 * Adds the mark of `container` (decoded name) to an account POST: set,
 * or removed (empty value) when !set. The POST must carry the
 * X-Timestamp of the container write it goes with.
 */
void px_rules_mark_header(struct px_req *pr, struct http_client *c, const char *container,
                          bool set);

/* Whether `marks` (struct px_rules_account) names `container`. */
bool px_rules_marked(struct px_req *pr, const char *marks, const char *container);

/* Forgets the cached account info of `account` (storlets enabled, rule
 * document, marks) in this process, for every worker: after this proxy
 * changed the account. */
void px_rules_forget_account(const char *account);

/*
 * Fills *f with the caller of pr (account with the reseller prefix,
 * account:user, groups; an anonymous caller has none) and the given
 * object facts (borrowed; NULL content type or metadata: not known).
 */
void px_rules_facts(const struct px_req *pr, enum eng_rules_method m, const char *object,
                    const char *content_type, json_t *metadata, struct eng_rules_facts *f);

/*
 * Whether r puts a mandatory rule of `side` on `object` for pr's caller,
 * counting unknown facts (NULL content_type / metadata) as matching. False
 * when r is NULL or off. Objects of the storlet and dependency containers
 * are never subject (they are code, guarded by docs/rules.md 4.12).
 */
bool px_rules_subject(const struct px_req *pr, const struct px_rules *r, const char *object,
                      const char *content_type, json_t *metadata, enum eng_rules_side side);

/*
 * A container listing under rules (docs/rules.md 4.10): json[0..len) is
 * the container server's JSON listing; each object row subject to a
 * mandatory read rule for pr's caller (name and content type known,
 * metadata not) gets "hash": "", "bytes": 0 and "storlet_rule": true.
 * Appends the listing to out as JSON, or (xml) as Swift's container XML
 * with a <storlet_rule>true</storlet_rule> element on those rows.
 * Returns 0, or -EINVAL when json is not a listing.
 */
struct evbuffer;
int px_rules_listing(const struct px_req *pr, const struct px_rules *r, const char *json,
                     size_t len, bool xml, struct evbuffer *out);

/*
 * The same for an object of another container of the same account (a DLO
 * segment, a copy source) whose document is cont_doc (as px_cinfo carried
 * it); object NULL: any object of it (unknown name). Returns 1 (subject),
 * 0, or -EIO when the stored document does not parse (answer 503).
 */
int px_rules_subject_in(struct px_req *pr, const char *container, const char *cont_doc,
                        const char *object, enum eng_rules_side side);

/*
 * For a COPY (or PUT with X-Copy-From) in an enabled account: loads the
 * rule document of whichever of the source's and destination's
 * containers (same account, decoded names) is not pr->path's, into
 * pr->rules->copy_src / copy_dst, then calls then(pr). Answers 503 itself
 * on a backend error.
 */
void px_rules_load_copy(struct px_req *pr, const char *src_c, const char *src_o,
                        const char *dst_c, const char *dst_o, void (*then)(struct px_req *pr));

/*
 * The decision (eng_rules_eval) for a request of pr under pr->rules:
 * m GET, HEAD, PUT (facts: the request's Content-Type and user
 * metadata) or COPY (after px_rules_load_copy); client is the client's
 * chain or NULL. Without rules (off, code containers) the decision is
 * the client's chain alone. Returns 0 (release *d) or -E2BIG (e set).
 */
int px_rules_eval(struct px_req *pr, enum eng_rules_method m, const struct eng_seq *client,
                  struct eng_rules_decision *d, struct err *e);

/*
 * Whether the decision for pr can depend on the facts of the object it
 * names (a rule of pr->rules matches on content type or metadata), for a
 * GET, HEAD, POST or COPY of it, and they were not read yet.
 */
bool px_rules_need_facts(const struct px_req *pr);

/*
 * Reads the object's facts with a HEAD on its nodes into pr->rules (an
 * absent object leaves them unknown: fail closed), then calls then(pr).
 * Answers 503 itself when the nodes cannot say.
 */
void px_rules_read_facts(struct px_req *pr, void (*then)(struct px_req *pr));

/*
 * The same for the source of a PUT with X-Copy-From (container, object:
 * decoded names in pr's account), after px_rules_load_copy: the facts
 * then stand for that object in px_rules_eval's COPY decision, and the
 * source's reads insist on that version (px_rules_facts_header).
 */
void px_rules_read_copy_facts(struct px_req *pr, void (*then)(struct px_req *pr));

/*
 * Whether a COPY decision for pr still lacks facts its source's rules
 * match on (px_rules_read_copy_facts would read them).
 */
bool px_rules_need_copy_facts(const struct px_req *pr);

/*
 * Adds X-Backend-Storlet-Facts-Timestamp to a backend read of pr's object
 * when its decision used the object's facts (the node answers 409 when the
 * object it would serve is another version). Returns whether it did.
 */
bool px_rules_facts_header(const struct px_req *pr, struct http_client *c);

/* Whether pr's decision used the facts of a version of its object (or
 * copy source) that its reads insist on (px_rules_facts_header): a 409
 * from such a read means the object changed since (px_ctl_decide_again). */
bool px_rules_facts_used(const struct px_req *pr);

/* Whether the container of pr->path holds storlet code (storlet or
 * dependency container). */
bool px_rules_code_container(const char *container);

#endif
