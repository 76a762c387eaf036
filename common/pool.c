/*
 * pool.c - bump allocator over a chain of blocks plus a LIFO cleanup list.
 *
 * Invariants: p->head is the block being carved (never NULL); the first
 * block ever allocated is p->first and survives pool_clear(). Allocations
 * larger than a quarter of the block size get a block of their own, so a
 * big allocation never wastes the remainder of the current block. Cleanup
 * records live in the pool's own memory.
 */
#include "common/pool.h"

#include <stdalign.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/xalloc.h"

#define POOL_BLOCK 4096
#define POOL_ALIGN alignof(max_align_t)

struct pool_block {
    struct pool_block *next;
    size_t size; /* usable bytes after the header */
    size_t used;
    alignas(max_align_t) unsigned char data[];
};

struct pool_cleanup {
    struct pool_cleanup *next;
    pool_cleanup_fn *fn;
    void *arg;
};

struct pool {
    struct pool_block *head;   /* block being carved */
    struct pool_block *first;  /* kept across pool_clear */
    struct pool_block *extra;  /* every other block, freed by pool_clear */
    struct pool_cleanup *cleanups;
    size_t used;
};

static struct pool_block *block_new(size_t size)
{
    struct pool_block *b = xmalloc(sizeof(*b) + size);
    b->next = NULL;
    b->size = size;
    b->used = 0;
    return b;
}

struct pool *pool_new(void)
{
    struct pool *p = xcalloc(1, sizeof(*p));
    p->first = p->head = block_new(POOL_BLOCK);
    return p;
}

static void run_cleanups(struct pool *p)
{
    /* A cleanup may register another one; keep popping until empty. */
    while (p->cleanups) {
        struct pool_cleanup *c = p->cleanups;
        p->cleanups = c->next;
        c->fn(c->arg);
    }
}

void pool_clear(struct pool *p)
{
    run_cleanups(p);
    while (p->extra) {
        struct pool_block *next = p->extra->next;
        free(p->extra);
        p->extra = next;
    }
    p->first->used = 0;
    p->head = p->first;
    p->used = 0;
}

void pool_free(struct pool *p)
{
    if (!p)
        return;
    pool_clear(p);
    free(p->first);
    free(p);
}

void *pool_alloc(struct pool *p, size_t n)
{
    size_t need = (n + POOL_ALIGN - 1) & ~(POOL_ALIGN - 1);
    if (need < n)
        abort(); /* size overflow: a caller skipped its limit check */
    p->used += n;
    struct pool_block *b = p->head;
    if (b->size - b->used >= need) {
        void *r = b->data + b->used;
        b->used += need;
        return r;
    }
    /* A big allocation gets a block of its own and the current block keeps
     * serving small ones; a small one starts a fresh carving block. */
    struct pool_block *nb = block_new(need > POOL_BLOCK / 4 ? need : POOL_BLOCK);
    nb->next = p->extra;
    p->extra = nb;
    nb->used = need;
    if (nb->size == POOL_BLOCK)
        p->head = nb;
    return nb->data;
}

void *pool_calloc(struct pool *p, size_t n)
{
    void *r = pool_alloc(p, n);
    memset(r, 0, n);
    return r;
}

char *pool_strndup(struct pool *p, const char *s, size_t n)
{
    char *r = pool_alloc(p, n + 1);
    memcpy(r, s, n);
    r[n] = '\0';
    return r;
}

char *pool_strdup(struct pool *p, const char *s)
{
    return pool_strndup(p, s, strlen(s));
}

void pool_cleanup_add(struct pool *p, pool_cleanup_fn *fn, void *arg)
{
    struct pool_cleanup *c = pool_alloc(p, sizeof(*c));
    c->fn = fn;
    c->arg = arg;
    c->next = p->cleanups;
    p->cleanups = c;
}

size_t pool_used(const struct pool *p)
{
    return p->used;
}
