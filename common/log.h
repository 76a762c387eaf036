/*
 * log.h - the one logging facility (STYLE R12).
 *
 * Levels are syslog's. Every line carries the component ("proxy", "objectd",
 * "engine", "sbx", "ring", ...) and, inside a request, the transaction id
 * (Swift's X-Trans-Id) that the request's thread set with log_set_txn().
 * Output goes to stderr (journald picks it up) unless a sink callback is
 * installed: libraries never print on their own, they go through this.
 *
 * Line shape on stderr:
 *   2026-11-21T09:41:07.123Z objectd[1234] NOTICE txn=tx3f... message
 *
 * Thread-safety: every function may be called from any thread; the level and
 * sink are set once at start-up, before threads exist. The transaction id is
 * per thread.
 */
#ifndef CAIRN_LOG_H
#define CAIRN_LOG_H

#include <stdarg.h>
#include <stdbool.h>

enum log_level {
    LOG_LVL_ERR = 3,      /* an operator should look */
    LOG_LVL_WARNING = 4,
    LOG_LVL_NOTICE = 5,
    LOG_LVL_INFO = 6,
    LOG_LVL_DEBUG = 7,
};

/* A sink receives every line at or above the level, already formatted. */
typedef void log_sink_fn(enum log_level level, const char *component,
                         const char *txn, const char *msg, void *arg);

/* Sets the process name shown on every line (default "cairn"). */
void log_set_ident(const char *ident);
/* Lines below `level` are dropped before formatting. Default NOTICE. */
void log_set_level(enum log_level level);
enum log_level log_get_level(void);
/* Parses "err|error|warning|warn|notice|info|debug"; returns -1 if unknown. */
int log_level_parse(const char *name);
/* Installs a sink (NULL restores stderr). */
void log_set_sink(log_sink_fn *fn, void *arg);
/* Sends lines to syslog(3) with the given facility name ("LOG_LOCAL0"...);
 * returns 0, or -EINVAL for an unknown facility name. */
int log_use_syslog(const char *facility);

/* Per-thread transaction id; NULL or "" clears it. Copied (max 63 bytes). */
void log_set_txn(const char *txn);
const char *log_get_txn(void);

void log_msg(enum log_level level, const char *component, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void log_vmsg(enum log_level level, const char *component, const char *fmt,
              va_list ap) __attribute__((format(printf, 3, 0)));

/* Modules define LOG_COMPONENT before including this header, or get "cairn". */
#ifndef LOG_COMPONENT
#define LOG_COMPONENT "cairn"
#endif

#define log_err(...) log_msg(LOG_LVL_ERR, LOG_COMPONENT, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_LVL_WARNING, LOG_COMPONENT, __VA_ARGS__)
#define log_notice(...) log_msg(LOG_LVL_NOTICE, LOG_COMPONENT, __VA_ARGS__)
#define log_info(...) log_msg(LOG_LVL_INFO, LOG_COMPONENT, __VA_ARGS__)
#ifdef DEBUG_LOG
#define log_debug(...) log_msg(LOG_LVL_DEBUG, LOG_COMPONENT, __VA_ARGS__)
#else
#define log_debug(...) ((void)0)
#endif

/*
 * The only logging allowed in a signal handler: writes `msg` and a newline to
 * stderr with write(2). Async-signal-safe.
 */
void log_raw_from_signal(const char *msg);

#endif
