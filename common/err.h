/*
 * err.h - an error a user must fix, with its context (STYLE R5).
 *
 * Functions that fail for reasons outside the program (a config line, a ring
 * file, a device string on the command line) take a `struct err *` and fill
 * it with a negative errno-style code and one line of text such as
 * "etc/objectd.conf:12: unknown key 'wokers' in [DEFAULT]".
 * The struct is embedded by the caller; nothing to free.
 */
#ifndef CAIRN_ERR_H
#define CAIRN_ERR_H

#define ERR_MSG_MAX 512

struct err {
    int code;                 /* 0 when no error, else a negative errno */
    char msg[ERR_MSG_MAX];    /* NUL-terminated, one line, no trailing '\n' */
};

/* Clears e (code 0, empty message). e may be NULL. */
void err_clear(struct err *e);

/*
 * Sets e->code = code and formats the message. Returns code, so a caller can
 * write `return err_set(e, -EINVAL, "...")`. e may be NULL (then only the
 * code is returned).
 */
int err_set(struct err *e, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
