/*
 * attack.h - shared by the malicious storlets of the sandbox attack catalog.
 *
 * Every attack ends with one JSON line on stderr (fd 2, the storlet log):
 *   {"attack":"<name>","escaped":true|false,"detail":"..."}
 * and exits 0 when the attack was blocked, 1 when it escaped, 2 when the
 * test itself is broken. A sandbox may also kill the attack (seccomp,
 * timeout, OOM...); the runner reads that from the launcher's result.
 * Attacks are bounded (they stop by themselves after a limit) so that the
 * control runs, without the protection, end too.
 */
#ifndef ATTACK_H
#define ATTACK_H

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *attack_name = "?";

__attribute__((noreturn, format(printf, 2, 3)))
static void verdict(int escaped, const char *fmt, ...)
{
    char detail[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(detail, sizeof(detail), fmt, ap);
    va_end(ap);
    for (char *p = detail; *p; p++)
        if (*p == '"' || *p == '\\' || (unsigned char)*p < 0x20)
            *p = ' ';
    dprintf(2, "{\"attack\":\"%s\",\"escaped\":%s,\"detail\":\"%s\"}\n", attack_name,
            escaped == 1 ? "true" : "false", detail);
    _exit(escaped);
}

#define BROKEN(...) verdict(2, __VA_ARGS__)

__attribute__((unused))
static long arg_long(int argc, char **argv, int i, long dflt)
{
    if (argc <= i)
        return dflt;
    char *end;
    long v = strtol(argv[i], &end, 10);
    if (*end)
        BROKEN("bad number %s", argv[i]);
    return v;
}

#endif
