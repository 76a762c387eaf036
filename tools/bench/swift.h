/*
 * swift.h - the few blocking Swift requests cairn-bench makes outside the
 * measured load: auth v1.0 and container create/delete.
 *
 * Each call performs one request on its own curl easy handle and returns when
 * it is answered; none is on the measured path. Thread-safe once
 * curl_global_init() has run.
 */
#ifndef CAIRN_BENCH_SWIFT_H
#define CAIRN_BENCH_SWIFT_H

#include <stdbool.h>

#include "common/err.h"

/*
 * Auth v1.0: GET auth_url with X-Auth-User / X-Auth-Key. On a 2xx answer that
 * carries X-Storage-Url and X-Auth-Token, stores new heap copies of both
 * (caller frees) and returns 0. Otherwise returns -EACCES (401/403), -EIO
 * (other status, missing headers, transport error) with the reason in e.
 */
int swift_auth_v1(const char *auth_url, const char *user, const char *key, bool insecure,
                  char **storage_url, char **token, struct err *e);

/*
 * One bodiless request (method "PUT" sends Content-Length: 0) to
 * <storage_url>/<name>, name URL-escaped. Returns the HTTP status (> 0), or
 * -EIO with the curl error in e when there was no answer.
 */
long swift_request(const char *method, const char *storage_url, const char *name,
                   const char *token, bool insecure, struct err *e);

#endif
