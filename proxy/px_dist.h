/*
 * px_dist.h - Distributed storlet requests on the proxy (px_dist.c):
 * POST /v1/<account> with X-Storlet-Distributed: 1 runs a split storlet
 * on many objects, each as a storlet GET on a node holding it, and a merge
 * storlet here over their outputs (docs/compound-storlets.md section 2).
 * Threading: the worker's loop that owns the request.
 */
#ifndef CAIRN_PX_DIST_H
#define CAIRN_PX_DIST_H

#include <stdbool.h>

#include "proxy/px_int.h"

/*
 * For an account request whose account name has been checked, before the
 * account's own authorization (a Distributed request needs only read
 * access to its resources, which each split's GET checks with the
 * caller's token): takes a POST carrying X-Storlet-Distributed and
 * answers it eventually. Returns true when it took the request, false to
 * go on as usual.
 */
bool px_dist_request(struct px_req *pr);

#endif
