/*
 * px_slo.h - static large objects (Swift's SLO): the manifest PUT
 * (?multipart-manifest=put), GET and HEAD of the assembled object, and
 * DELETE ?multipart-manifest=delete (px_slo.c).
 * Threading: the worker thread owning the request.
 */
#ifndef CAIRN_PX_SLO_H
#define CAIRN_PX_SLO_H

#include <stdbool.h>

#include "proxy/px_int.h"

struct http_head;
struct px_put;

/* Swift's nesting limit: a GET follows at most this many SLO manifests
 * inside one another. */
#define PX_SLO_MAX_DEPTH 10

/* Does the request's query hold exactly the parameter `param` (for
 * example "multipart-manifest=get")? */
bool px_slo_query_has(struct px_req *pr, const char *param);

/* Is this header value one of Swift's true values (true, yes, on, 1)? */
bool px_slo_true(const char *v);

/*
 * h is the answer (200, 304 or 412) to an object GET or HEAD. If the object
 * is an SLO manifest and the request does not ask for the manifest itself
 * (?multipart-manifest=get), takes the request over: reads the manifest,
 * answers with the assembled object's length and ETag and streams the
 * segments; returns true (the caller drops its own read). Returns false
 * for any other object.
 */
bool px_slo_start(struct px_req *pr, const struct http_head *h);

/*
 * The manifest PUT: p (px_put.c) holds the checked request's headers for
 * the object nodes. Reads the client's JSON list (at most
 * max_manifest_size bytes), checks it and every segment (a HEAD with the
 * caller's rights), then stores the manifest through px_put_store, or
 * answers the problems (400) as Swift does.
 */
void px_slo_put(struct px_req *pr, struct px_put *p);

/* DELETE ?multipart-manifest=delete: deletes every segment (those of
 * nested manifests too), then the manifest, each with the caller's
 * rights, and answers 200 with a bulk-delete report. */
void px_slo_delete(struct px_req *pr);

#endif
