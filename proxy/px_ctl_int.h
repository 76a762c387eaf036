/*
 * px_ctl_int.h - what the controller files (px_ctl.c, px_put.c) share.
 * Threading: the worker thread owning the request.
 */
#ifndef CAIRN_PX_CTL_INT_H
#define CAIRN_PX_CTL_INT_H

#include "proxy/px_backend.h"
#include "proxy/px_int.h"

struct http_head;

/*
 * Provenance of storlet outputs (docs/storlets.md section 2). Clients see,
 * and the storlet write path sends, X-Object-Meta-Storlet-Generated-*; it
 * is stored as object sysmeta, so that no client can set it (the proxy
 * drops those headers from clients; only a PUT holding a PX_CAP_OUTPUT
 * capability stores them) and a POST, which replaces user metadata,
 * keeps it. GET and HEAD show the sysmeta under the user-metadata name.
 */
#define PX_PROV_META "X-Object-Meta-Storlet-Generated-"
#define PX_PROV_SYSMETA "X-Object-Sysmeta-Storlet-Generated-"
#define PX_PROV_META_LEN (sizeof(PX_PROV_META) - 1)
#define PX_PROV_SYSMETA_LEN (sizeof(PX_PROV_SYSMETA) - 1)

/* Facts about a container from a HEAD to its nodes (possibly cached). */
struct px_cinfo {
    int status;        /* 2xx: exists; 404; 503 */
    const char *read_acl; /* pool copies, "" when unset */
    const char *write_acl;
    const char *rules;    /* the container's storlet rule document
                           * (docs/rules.md), "" when none */
};

typedef void px_cinfo_fn(struct px_req *pr, const struct px_cinfo *ci);

/* Gets the container's info (the cache, else a HEAD), then calls fn. */
void px_cinfo_get(struct px_req *pr, px_cinfo_fn *fn);
/* Forgets the cached info of account/container (after a change). */
void px_cinfo_forget(struct px_worker *w, const char *a, const char *c);

/* Copies the backend answer's headers a client may see onto the response
 * (not hop-by-hop, not X-Backend-*, not sysmeta; ACL headers only for an
 * owner). */
void px_relay_headers(struct px_req *pr, const struct http_head *h);
/* The Content-Length of a backend answer, or HTTP_LENGTH_UNKNOWN. */
int64_t px_head_length(const struct http_head *h);

/* Checks X-Delete-At / X-Delete-After and writes the X-Delete-At to send
 * (or "" for none) into out. Returns 0, or answers 400 and returns -1. */
int px_delete_at(struct px_req *pr, char *out, size_t outsz);

/* Adds the client headers that go to an object node on PUT/POST: user
 * metadata, the allowed headers, Content-Type if given. */
void px_obj_forward_headers(struct px_req *pr, struct http_client *c);

/* Object metadata checks (names_check_metadata over the request). Returns
 * 0, or answers 400 and returns -1. */
int px_check_meta(struct px_req *pr, int target);

/* May the request's caller read through this container ACL (owner, or the
 * ACL grants it)? */
bool px_ctl_may_read(struct px_req *pr, const char *acl);
/* The same for writing (PUT, POST, DELETE of objects). The decision uses
 * the ACL string and the request's identity and method. */
bool px_ctl_may_write(struct px_req *pr, const char *acl);
/* Answers 401 (no valid token) or 403. */
void px_ctl_deny(struct px_req *pr);

/* X-Newest: HEADs every primary of nodes (in parallel), moves the one
 * with the newest timestamp to the front of nodes, then calls then(pr,
 * arg). */
void px_newest_first(struct px_req *pr, struct px_nodes *nodes, const char *a,
                     const char *c, const char *o,
                     void (*then)(struct px_req *pr, void *arg), void *arg);

/*
 * docs/rules.md 4.1: a node answered 409 to a read of pr that insisted on
 * the version whose facts decided its storlet rules (the object changed
 * since the proxy's facts HEAD). Reads the facts again and decides the
 * request again from there, as a fresh request would be, once per
 * request. Returns true when it took the request over: the caller drops
 * its own state and answers nothing. False when it may not (the decision
 * used no facts, or they were read twice already): the caller answers
 * 503 with PX_RULES_CHANGED_TWICE. The caller must not have begun an
 * answer.
 */
bool px_ctl_decide_again(struct px_req *pr);
#define PX_RULES_CHANGED_TWICE "The object changed twice while the proxy read it under " \
                               "storlet rules; try again"

/* The object controller's PUT and COPY (px_put.c). */
void px_obj_put(struct px_req *pr);
void px_obj_copy(struct px_req *pr);

struct px_put;
struct evbuffer;
/* Stores body (taken over) as the object of the PUT p (px_obj_put handed
 * p to px_slo_put): p's headers plus extra (replacing same-named ones),
 * ct_params (may be NULL) appended to the Content-Type; on success the
 * client is answered with ETag resp_etag (pool string) when not NULL. */
void px_put_store(struct px_put *p, struct evbuffer *body, const struct px_hdr *extra,
                  size_t nextra, const char *ct_params, const char *resp_etag);

/* X-Container-Host/-Partition/-Device for object node slot i of nobj. */
void px_container_update_headers(struct px_req *pr, struct http_client *c,
                                 const struct px_nodes *cont, size_t i,
                                 size_t nobj);

#endif
