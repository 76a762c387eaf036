/*
 * px_server.h - cairn-proxy's request entry point and its /info document
 * (px_server.c); the worker threads that run it are started by main.c.
 * Threading: px_handle runs on the worker thread owning the request.
 */
#ifndef CAIRN_PX_SERVER_H
#define CAIRN_PX_SERVER_H

#include "proxy/px_int.h"

/* The http_handler_fn of every worker; arg is the struct px_worker. */
void px_handle(struct http_req *req, void *arg);

/* Builds the GET /info JSON from the configuration: Swift's "swift" section
 * with the constraints of cairn.conf. Returns a new heap string. */
char *px_info_build(const struct px_server *s);

#endif
