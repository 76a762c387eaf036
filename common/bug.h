/*
 * bug.h - intent macros for invariants (STYLE R10).
 *
 * BUG_ON(cond): always compiled; logs the location and aborts. For invariants
 *   whose violation would corrupt data.
 * ALWAYS(x) / NEVER(x): defensive branches that "cannot happen": checked with
 *   assert() in debug builds, plain pass-through in release builds.
 */
#ifndef CAIRN_BUG_H
#define CAIRN_BUG_H

#include <assert.h>

/* Prints "BUG at file:line: cond" to stderr and aborts. Never returns. */
void bug_fail(const char *file, int line, const char *cond)
    __attribute__((noreturn));

#define BUG_ON(cond)                                                      \
    do {                                                                  \
        if (__builtin_expect(!!(cond), 0))                                \
            bug_fail(__FILE__, __LINE__, #cond);                          \
    } while (0)

#ifdef NDEBUG
#define ALWAYS(x) (x)
#define NEVER(x) (x)
#else
#define ALWAYS(x) ((x) ? 1 : (assert(0), 0))
#define NEVER(x) ((x) ? (assert(0), 1) : 0)
#endif

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#endif
