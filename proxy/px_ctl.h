/*
 * px_ctl.h - the account, container and object controllers: authorization
 * with container ACLs, validation of Swift's constraints, and the requests
 * to the storage nodes (px_backend.h) that answer the client.
 * Threading: the worker thread owning the request.
 */
#ifndef CAIRN_PX_CTL_H
#define CAIRN_PX_CTL_H

#include "proxy/px_int.h"

/* Handles an API request whose path has been parsed into pr->path and
 * whose token (if any) has been verified. Answers the client eventually. */
void px_ctl_dispatch(struct px_req *pr);

/* The container info cache, one per process, shared by the workers
 * (thread-safe). */
struct px_cinfo_cache *px_cinfo_new(void);
void px_cinfo_free(struct px_cinfo_cache *c);

#endif
