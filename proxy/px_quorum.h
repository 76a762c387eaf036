/*
 * px_quorum.h - how the proxy turns the answers of several storage nodes
 * into one answer (Swift's quorum_size and best_response, restated).
 * Pure and thread-safe.
 */
#ifndef CAIRN_PX_QUORUM_H
#define CAIRN_PX_QUORUM_H

#include <stdbool.h>
#include <stddef.h>

/* Successful answers a write needs from n replicas: n / 2 + 1 (DESIGN.md:
 * 2 of 3, 3 of 4, 1 of 1). */
size_t px_quorum_size(size_t n);

/*
 * Picks the client status from the backend statuses[0..n) of one request
 * sent to `replicas` nodes (n may be smaller: a node that gave no answer
 * counts as 503). The 2xx, 3xx and 4xx classes are looked at in that
 * order; the first with at least px_quorum_size(replicas) members wins and
 * its highest status is returned (201 + 201 + 202 -> 202). With no class at
 * quorum: when delete_404_ok and 404s plus 2xxs reach the quorum, 204 (a
 * DELETE that found the object on some nodes only); else 503.
 */
int px_best_status(const int *statuses, size_t n, size_t replicas,
                   bool delete_404_ok);

/*
 * Container updates of an object write, spread as Swift spreads them: which
 * of the ncont container replicas object node slot i (of nobj) names in its
 * X-Container-* headers. There are U = max(Qc + nobj - Qo, ncont) updates
 * (Q = (n + 1) / 2, Swift's num_container_updates); update j goes to slot
 * j mod nobj and names container replica j mod ncont. So every container
 * replica is named, and any quorum of object nodes names a quorum of
 * container replicas. Writes the replica indexes to out[0..cap) and
 * returns how many (0 for a slot that sends no update).
 */
size_t px_update_targets(size_t ncont, size_t nobj, size_t i, size_t *out,
                         size_t cap);

#endif
