/*
 * sbx_netns.c - one empty network namespace per tenant, made once by the
 * launcher and kept, which that tenant's sandboxes are cloned into.
 *
 * Why: a new network namespace per sandbox cost the node more CPU than
 * anything else a warm invocation does (its creation on every clone, and
 * the kernel's workers freeing it after every run, serialised behind RCU
 * grace periods). A sandbox needs no network: it needs to be cut off from
 * the host's, and from other tenants'. An empty namespace per tenant gives
 * both: only a loopback device, down, and the abstract unix socket names
 * of that tenant's sandboxes alone.
 *
 * Invariants:
 * - a namespace serves one tenant only, ever: the cache maps (tenant slot,
 *   host id) -> fd, so two clients of one launcher that number tenants
 *   from different uid bases never share one, and an evicted entry's
 *   next namespace is a new one;
 * - the namespaces are made by the launcher (host root), so they belong to
 *   the initial user namespace: a sandbox, root only in its own user
 *   namespace and with every capability dropped, can change nothing in it
 *   (no interface up, no address, no route, no sysctl);
 * - the launcher returns to its own namespace after every creation and
 *   every clone; the sandbox's clone happens while the launcher is in the
 *   tenant's namespace (clone without CLONE_NEWNET inherits it), because a
 *   sandbox cannot setns into a namespace its user namespace does not own.
 *
 * At most NETNS_MAX namespaces are held; the least recently used one is
 * closed to make room (sandboxes still in it keep it alive; the tenant's
 * next sandboxes get a new one).
 *
 * Threading: the launcher's single thread only.
 */
#include "sandbox/sbx_int.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"

#define NETNS_MAX 128

static struct {
    int host;                  /* the launcher's own namespace, or -1 */
    struct { uint32_t tenant, host_id; int fd; uint64_t used; } ns[NETNS_MAX];
    unsigned n;
    uint64_t clock;
} N = { .host = -1 };

int sbx_netns_init(void)
{
    N.n = 0;
    N.clock = 0;
    N.host = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
    return N.host == -1 ? -errno : 0;
}

void sbx_netns_release(void)
{
    for (unsigned i = 0; i < N.n; i++)
        close(N.ns[i].fd);
    N.n = 0;
    if (N.host != -1)
        close(N.host);
    N.host = -1;
}

int sbx_netns_leave(void)
{
    if (N.host == -1)
        return -EBADF;
    return setns(N.host, CLONE_NEWNET) == -1 ? -errno : 0;
}

int sbx_netns_enter(int fd)
{
    return setns(fd, CLONE_NEWNET) == -1 ? -errno : 0;
}

int sbx_netns_tenant(uint32_t tenant, uint32_t host_id)
{
    if (N.host == -1)
        return -EBADF;
    unsigned lru = 0;
    for (unsigned i = 0; i < N.n; i++) {
        if (N.ns[i].tenant == tenant && N.ns[i].host_id == host_id) {
            N.ns[i].used = ++N.clock;
            return N.ns[i].fd;
        }
        if (N.ns[i].used < N.ns[lru].used)
            lru = i;
    }
    if (unshare(CLONE_NEWNET) == -1)
        return -errno;
    int fd = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
    int err = errno;
    int rc = sbx_netns_leave();
    if (rc < 0) {
        /* Still in the new namespace. Nothing here uses the network and
         * every clone enters its tenant's namespace first, so this is not
         * a leak between tenants; but say it. */
        log_err("cannot return to the launcher's network namespace: %s", strerror(-rc));
    }
    if (fd == -1)
        return -err;
    unsigned slot = N.n;
    if (N.n == NETNS_MAX) {
        close(N.ns[lru].fd);
        slot = lru;
    } else {
        N.n++;
    }
    N.ns[slot].tenant = tenant;
    N.ns[slot].host_id = host_id;
    N.ns[slot].fd = fd;
    N.ns[slot].used = ++N.clock;
    return fd;
}
