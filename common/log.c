/*
 * log.c - see log.h.
 */
#include "common/log.h"

#include <errno.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "common/bug.h"

static enum log_level cur_level = LOG_LVL_NOTICE;
static log_sink_fn *sink_fn;
static void *sink_arg;
static char ident[32] = "cairn";
static int use_syslog;
static _Thread_local char txn_id[64];

static const char *level_names[] = {
    [LOG_LVL_ERR] = "ERR",         [LOG_LVL_WARNING] = "WARNING",
    [LOG_LVL_NOTICE] = "NOTICE",   [LOG_LVL_INFO] = "INFO",
    [LOG_LVL_DEBUG] = "DEBUG",
};

void log_set_ident(const char *name)
{
    snprintf(ident, sizeof(ident), "%s", name);
}

void log_set_level(enum log_level level)
{
    cur_level = level;
}

enum log_level log_get_level(void)
{
    return cur_level;
}

int log_level_parse(const char *name)
{
    static const struct { const char *name; enum log_level lvl; } tab[] = {
        {"err", LOG_LVL_ERR},         {"error", LOG_LVL_ERR},
        {"warning", LOG_LVL_WARNING}, {"warn", LOG_LVL_WARNING},
        {"notice", LOG_LVL_NOTICE},   {"info", LOG_LVL_INFO},
        {"debug", LOG_LVL_DEBUG},
    };
    for (size_t i = 0; i < ARRAY_SIZE(tab); i++)
        if (strcasecmp(name, tab[i].name) == 0)
            return (int)tab[i].lvl;
    return -1;
}

void log_set_sink(log_sink_fn *fn, void *arg)
{
    sink_fn = fn;
    sink_arg = arg;
}

int log_use_syslog(const char *facility)
{
    static const struct { const char *name; int fac; } tab[] = {
        {"LOG_LOCAL0", LOG_LOCAL0}, {"LOG_LOCAL1", LOG_LOCAL1},
        {"LOG_LOCAL2", LOG_LOCAL2}, {"LOG_LOCAL3", LOG_LOCAL3},
        {"LOG_LOCAL4", LOG_LOCAL4}, {"LOG_LOCAL5", LOG_LOCAL5},
        {"LOG_LOCAL6", LOG_LOCAL6}, {"LOG_LOCAL7", LOG_LOCAL7},
        {"LOG_DAEMON", LOG_DAEMON}, {"LOG_USER", LOG_USER},
    };
    for (size_t i = 0; i < ARRAY_SIZE(tab); i++) {
        if (strcasecmp(facility, tab[i].name) == 0) {
            openlog(ident, LOG_PID | LOG_NDELAY, tab[i].fac);
            use_syslog = 1;
            return 0;
        }
    }
    return -EINVAL;
}

void log_set_txn(const char *txn)
{
    snprintf(txn_id, sizeof(txn_id), "%s", txn ? txn : "");
}

const char *log_get_txn(void)
{
    return txn_id;
}

void log_vmsg(enum log_level level, const char *component, const char *fmt,
              va_list ap)
{
    if (level > cur_level)
        return;
    char msg[2048];
    vsnprintf(msg, sizeof(msg), fmt, ap);
    if (sink_fn) {
        sink_fn(level, component, txn_id, msg, sink_arg);
        return;
    }
    if (use_syslog) {
        if (txn_id[0])
            syslog((int)level, "%s txn=%s %s", component, txn_id, msg);
        else
            syslog((int)level, "%s %s", component, msg);
        return;
    }
    struct timespec ts;
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    char when[32];
    strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", &tm);
    /* One fprintf per line: stdio locks the stream, so lines never interleave. */
    fprintf(stderr, "%s.%03ldZ %s[%d] %s %s%s%s %s\n", when,
            ts.tv_nsec / 1000000, ident, (int)getpid(), level_names[level],
            component, txn_id[0] ? " txn=" : "", txn_id, msg);
}

void log_msg(enum log_level level, const char *component, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    log_vmsg(level, component, fmt, ap);
    va_end(ap);
}

void log_raw_from_signal(const char *msg)
{
    size_t n = strlen(msg);
    ssize_t w = write(STDERR_FILENO, msg, n);
    w = write(STDERR_FILENO, "\n", 1);
    (void)w;
}

void bug_fail(const char *file, int line, const char *cond)
{
    log_msg(LOG_LVL_ERR, "bug", "BUG at %s:%d: %s", file, line, cond);
    abort();
}
