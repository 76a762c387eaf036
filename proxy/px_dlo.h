/*
 * px_dlo.h - dynamic large objects (X-Object-Manifest): GET and HEAD of a
 * manifest answer the concatenation of its segments (px_dlo.c).
 * Threading: the worker thread owning the request.
 */
#ifndef CAIRN_PX_DLO_H
#define CAIRN_PX_DLO_H

#include <stdbool.h>

#include "proxy/px_int.h"

struct http_head;

/*
 * h is the answer to an object GET or HEAD. If it is a DLO manifest (and
 * the request did not ask for the manifest itself with
 * ?multipart-manifest=get), takes the request over: lists the segments,
 * answers the client and streams them; returns true (the caller drops its
 * own read of the manifest). Returns false for any other object.
 */
bool px_dlo_start(struct px_req *pr, const struct http_head *h);

#endif
