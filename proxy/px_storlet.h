/*
 * px_storlet.h - the proxy's storlet hooks (px_storlet.c): deployment
 * checks, where a storlet runs, and the headers an object node needs to
 * run one. All are no-ops when the proxy runs no storlets (srv->eng NULL).
 * Threading: the worker's loop.
 */
#ifndef CAIRN_PX_STORLET_H
#define CAIRN_PX_STORLET_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "proxy/px_int.h"

struct http_client;
struct http_head;
struct px_read;

/*
 * For an authorized object request: checks uploads into the storlet and
 * dependency containers, and takes requests that run a storlet. Returns
 * true when it took the request (it answers), false to go on as usual.
 */
bool px_storlet_object(struct px_req *pr);

/* For a storlet GET whose chain runs wholly on the object node (pr->stl
 * set by px_storlet.c before px_obj_read): adds X-Backend-Storlet-Chain
 * and the other backend storlet headers (caller's token, this proxy's
 * address, range, logs) to the backend GET and returns true: only a
 * px_storlet_usable answer may then be relayed. No-op (false) for any
 * other read. */
bool px_storlet_forward_headers(struct px_req *pr, struct http_client *c);

/*
 * An interim answer h on c, a backend request of pr that runs storlets
 * (it carries ENG_INTERIM_HEADER): when it says a stage's wall budget
 * (ENG_BUDGET_HEADER, engine/eng.h), c waits for the rest of this request
 * at least that long plus the proxy's read timeout for any byte (the node
 * is silent at most that long while a stage runs), and pr's own client
 * is told the budget in a 102 if it asked for one. Else a no-op.
 */
void px_storlet_interim(struct px_req *pr, struct http_client *c, const struct http_head *h);

/* The reason of the 503 when every node answered such a read with the
 * plain object (none ran the chain: storlets are off there). */
#define PX_STORLET_UNRUN "No object node could run the storlet chain"

/* The X-Object-Meta-* values of h without their prefix, a new JSON object;
 * provenance (X-Object-Meta-Storlet-Generated-*) left out: it describes
 * stored bytes, not a storlet's output, and is not a storlet's to see. */
json_t *px_storlet_user_meta(const struct http_head *h);

/* Who asked, as an invocation document's caller says it (docs/storlets.md
 * section 3): *user "account:user" ("" when anonymous), *account the
 * account the token is for (a pool string), NULL when anonymous. */
void px_storlet_caller(struct px_req *pr, const char **user, const char **account);

/* Is a backend answer a storlet's (relay it whatever its status), or an
 * object node's refusal to run a chain over a large object's manifest
 * (px_storlet_manifest takes that one)? */
bool px_storlet_usable(const struct http_head *h);

/*
 * For the object read of a storlet GET whose chain went to the node with
 * it (pr->stl): when the node's answer h says the object is a large
 * object's manifest and nothing ran (X-Backend-Storlet-Manifest), aborts
 * rd, runs the whole chain here over the assembled object (a loopback GET
 * with the caller's token) and returns true: the request is then
 * px_storlet.c's to answer. Returns false for any other answer or read.
 */
bool px_storlet_manifest(struct px_req *pr, struct px_read *rd, const struct http_head *h);

/* This proxy's own address for loopback requests. */
void px_storlet_self(struct px_req *pr, char *host, size_t n, int *port);

/* The address object nodes are told to reach this proxy at
 * (X-Backend-Storlet-Proxy): storlet_proxy_address, else px_storlet_self. */
void px_storlet_advertised(struct px_req *pr, char *host, size_t n, int *port);

/* px_ctl.c: the plain object read (GET/HEAD) of pr. */
void px_obj_read(struct px_req *pr);

#endif
