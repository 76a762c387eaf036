/*
 * pool.h - a request-scoped arena with a cleanup list (STYLE R7).
 *
 * A pool hands out memory with a bump pointer from blocks it owns and keeps
 * a list of cleanup functions. Nothing allocated from a pool is freed
 * individually: pool_clear() runs the cleanups (last added first) and gives
 * back every block but the first, so a connection can reuse one pool for
 * request after request without touching malloc in the steady state;
 * pool_free() does the same and frees the pool itself.
 *
 * Allocation aborts on OOM (xalloc). Sizes that a client controls must be
 * checked against a limit before they reach pool_alloc().
 *
 * Threading: a pool belongs to one thread at a time; no locking.
 */
#ifndef CAIRN_POOL_H
#define CAIRN_POOL_H

#include <stddef.h>

struct pool;

typedef void pool_cleanup_fn(void *arg);

/* New empty pool. Never NULL (aborts on OOM). */
struct pool *pool_new(void);

/* Runs the cleanups (LIFO), frees everything. pool_free(NULL) is a no-op. */
void pool_free(struct pool *p);

/*
 * Runs the cleanups (LIFO) and forgets every allocation, keeping the first
 * block for reuse. Pointers handed out before are invalid afterwards. A
 * cleanup may add further cleanups; they run in the same call.
 */
void pool_clear(struct pool *p);

/* n bytes aligned for any type (max_align_t); n may be 0. Never NULL. */
void *pool_alloc(struct pool *p, size_t n);
/* Like pool_alloc, zero-filled. */
void *pool_calloc(struct pool *p, size_t n);
/* Copies of a C string / of the first n bytes (NUL-terminated). */
char *pool_strdup(struct pool *p, const char *s);
char *pool_strndup(struct pool *p, const char *s, size_t n);

/*
 * Registers fn(arg) to run when the pool is cleared or freed. Used to close
 * fds, unlink temp files, drop references and abort work that belongs to the
 * request. Cleanups run last-added first.
 */
void pool_cleanup_add(struct pool *p, pool_cleanup_fn *fn, void *arg);

/* Bytes handed out since the last clear (for tests and statistics). */
size_t pool_used(const struct pool *p);

#endif
