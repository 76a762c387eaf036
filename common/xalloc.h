/*
 * xalloc.h - allocation that never returns NULL (STYLE R7).
 *
 * On allocation failure these log one line and abort(): a storage daemon out
 * of memory restarts (systemd does it) rather than limp. Callers must still
 * check client-controlled sizes against a configured limit *before*
 * allocating.
 *
 * Fault injection for tests: xalloc_fail_after(n) makes the n-th following
 * allocation (1-based) fail as if the system were out of memory, so a Check
 * test (fork mode) can assert that the process aborts cleanly with the log
 * line. Thread-safe.
 */
#ifndef CAIRN_XALLOC_H
#define CAIRN_XALLOC_H

#include <stdarg.h>
#include <stddef.h>

void *xmalloc(size_t n);
void *xcalloc(size_t nmemb, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
/* Formats into a new heap string (caller frees). */
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
char *xvasprintf(const char *fmt, va_list ap) __attribute__((format(printf, 1, 0)));

/* Test hook: fail the n-th next allocation (0 disables). */
void xalloc_fail_after(unsigned long n);

#endif
