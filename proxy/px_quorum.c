/*
 * px_quorum.c - quorum arithmetic and best-response selection; see
 * px_quorum.h.
 */
#include "proxy/px_quorum.h"

size_t px_quorum_size(size_t n)
{
    return n / 2 + 1;
}

int px_best_status(const int *statuses, size_t n, size_t replicas,
                   bool delete_404_ok)
{
    size_t q = px_quorum_size(replicas);
    for (int hundred = 200; hundred <= 400; hundred += 100) {
        size_t count = 0;
        int best = 0;
        for (size_t i = 0; i < n; i++) {
            if (statuses[i] >= hundred && statuses[i] < hundred + 100) {
                count++;
                if (statuses[i] > best)
                    best = statuses[i];
            }
        }
        if (count >= q)
            return best;
    }
    if (delete_404_ok) {
        size_t ok = 0;
        for (size_t i = 0; i < n; i++)
            if (statuses[i] == 404 || (statuses[i] >= 200 && statuses[i] < 300))
                ok++;
        if (ok >= q)
            return 204;
    }
    return 503;
}

size_t px_update_targets(size_t ncont, size_t nobj, size_t i, size_t *out,
                         size_t cap)
{
    size_t n = 0;
    if (!ncont || !nobj)
        return 0;
    /* Swift's num_container_updates, with its (n + 1) / 2 quorums: enough
     * updates that a quorum of object writes names a quorum of container
     * replicas, and every container replica at least once. */
    size_t qc = (ncont + 1) / 2, qo = (nobj + 1) / 2;
    size_t rounds = qc + nobj - qo;
    if (rounds < ncont)
        rounds = ncont;
    for (size_t j = i; j < rounds && n < cap; j += nobj)
        out[n++] = j % ncont;
    return n;
}
