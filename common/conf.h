/*
 * conf.h - Swift-style INI configuration, applied through option tables
 * (STYLE R5, R13).
 *
 * Files follow Python's configparser as Swift reads them:
 *   - `[section]` headers; `key = value` or `key: value` (the first '=' or
 *     ':' on the line separates); key and value are trimmed, keys are
 *     case-insensitive (folded to lower case), section names are not;
 *   - whole-line comments start with '#' or ';' (also when indented); there
 *     are no inline comments: `workers = 4 # four` is the value "4 # four",
 *     exactly as in Swift, and then fails to parse as an integer;
 *   - a line that starts with whitespace continues the previous value (joined
 *     with '\n'); a blank line ends a value;
 *   - `[DEFAULT]` keys are inherited by every section that knows the key; a
 *     section's own value wins over [DEFAULT];
 *   - paste.deploy's `set key = value` is accepted and means `key = value`;
 *   - a duplicate section or a duplicate key in one section is an error
 *     (configparser's strict mode); `%(name)s` interpolation is not supported.
 *
 * What a daemon understands is a table of struct conf_option, one row per
 * key: section, key, type, offsetof() of the field in the daemon's config
 * struct, default (as text, parsed like a file value), bounds, help. Unknown
 * sections and unknown keys are errors (a typo must not pass silently).
 * Every problem is reported as "FILE:LINE: what is wrong, expected what" and
 * all problems of a file are collected in a struct conf_errors before the
 * caller gives up, so one run of --check-config shows them all.
 *
 * Field types by conf_type:
 *   CONF_BOOL      bool      true/1/yes/on/t/y or false/0/no/off/f/n, any case
 *   CONF_INT       int64_t   decimal, optional sign
 *   CONF_SIZE      uint64_t  bytes; suffix k/K M G T (powers of 1000) or
 *                            Ki Mi Gi Ti (powers of 1024)
 *   CONF_DURATION  int64_t   milliseconds; input is a decimal number of
 *                            seconds, fractions allowed, or a number with
 *                            suffix ms, s, m or h ("0.5", "250ms", "2m")
 *   CONF_STRING    char *    any text (may be empty); heap, owned by the struct
 *   CONF_PATH      char *    an absolute path
 *   CONF_ENUM      int       index into option->choices
 *   CONF_LIST      struct conf_list   items separated by commas and/or spaces
 *   CONF_KV        struct conf_kv_list  free-form keys: every key of the
 *                            section that matches option->name ("user_*",
 *                            or "*" for any key) with its value, in file order
 * Bounds (min/max) apply to INT, SIZE (bytes) and DURATION (milliseconds);
 * min == max == 0 means unbounded.
 *
 * Sections may be matched by prefix: a table row whose section ends in '*'
 * ("filter:*", "storage-policy:*") applies to every file section with that
 * prefix. conf_load() validates such sections fully but stores nothing for
 * them (the table has one struct, the file any number of sections); the
 * caller walks them with conf_section_count()/conf_section_name() and fills
 * one struct per instance with conf_load_section().
 *
 * Typical use in a daemon (see common/cluster_conf.c for a complete one):
 *
 *   struct objd_conf { int64_t workers; char *devices; int64_t node_timeout_ms; };
 *   static const struct conf_option objd_table[] = {
 *       {"DEFAULT", "workers", CONF_INT, offsetof(struct objd_conf, workers),
 *        "4", 1, 256, NULL, 0, "Worker threads, each with its own loop."},
 *       ...
 *       CONF_END,
 *   };
 *   struct conf_errors errs;  conf_errors_init(&errs);
 *   struct conf *c = conf_parse_file(path, &errs);
 *   struct objd_conf oc = {0};
 *   if (c) conf_load(c, objd_table, &oc, &errs);
 *   if (check_config_only) exit(conf_check_report(path, &errs, stdout));
 *   if (errs.count) { conf_errors_print(&errs, stderr); exit(2); }
 *
 * Memory: struct conf owns the parsed text. Fields filled by conf_load() and
 * conf_load_section() are independent heap copies, freed by conf_release() /
 * conf_release_section(). Nothing here is shared between threads: parse and
 * load at start-up (or on reload, into a fresh struct) in one thread.
 */
#ifndef CAIRN_CONF_H
#define CAIRN_CONF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

enum conf_type {
    CONF_BOOL,
    CONF_INT,
    CONF_SIZE,
    CONF_DURATION,
    CONF_STRING,
    CONF_PATH,
    CONF_ENUM,
    CONF_LIST,
    CONF_KV,
};

enum conf_flags {
    CONF_REQUIRED = 1 << 0, /* must be set in the file ([DEFAULT] counts) */
};

struct conf_option {
    const char *section; /* "DEFAULT", "swift-hash", or a prefix "filter:*" */
    const char *name;    /* key (lower case); for CONF_KV a pattern "x_*"/"*" */
    enum conf_type type;
    size_t offset;       /* offsetof(struct daemon_conf, field) */
    const char *def;     /* default as file text; NULL = empty/zero/false */
    int64_t min, max;    /* INT/SIZE/DURATION bounds; 0,0 = unbounded */
    const char *const *choices; /* CONF_ENUM: NULL-terminated names */
    unsigned flags;      /* enum conf_flags */
    const char *help;    /* one or more sentences, for the sample file */
};

/* Marks the end of a table. */
#define CONF_END { NULL, NULL, CONF_BOOL, 0, NULL, 0, 0, NULL, 0, NULL }

struct conf_list {
    size_t n;
    char **v; /* n heap strings */
};

struct conf_kv {
    char *key;   /* lower case, as in the file */
    char *value;
    unsigned line;
};

struct conf_kv_list {
    size_t n;
    struct conf_kv *v;
};

/* At most this many messages are kept; `count` keeps counting past it. */
#define CONF_ERRORS_MAX 100

struct conf_errors {
    size_t count;  /* problems found */
    size_t n;      /* messages kept (<= CONF_ERRORS_MAX) */
    char **msgs;   /* "FILE:LINE: what is wrong, expected what" */
};

void conf_errors_init(struct conf_errors *e);
void conf_errors_release(struct conf_errors *e);
/* Adds one message (formatted, no trailing newline). */
void conf_errors_add(struct conf_errors *e, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Writes every kept message, one per line, plus "... and N more" if some
 * were dropped. */
void conf_errors_print(const struct conf_errors *e, FILE *out);

struct conf;

/*
 * Parses the file at path. Returns a new struct conf (free with conf_free)
 * or NULL when the file cannot be read (one error added, with strerror).
 * Syntax errors are added to errs and the offending lines skipped, so a
 * struct conf is returned even then: the caller can go on to conf_load()
 * and report everything at once; it must check errs->count at the end.
 */
struct conf *conf_parse_file(const char *path, struct conf_errors *errs);

/*
 * Same for an in-memory buffer of len bytes (need not be NUL-terminated,
 * may contain anything). `name` stands for the file name in messages.
 * Always returns a new struct conf.
 */
struct conf *conf_parse_buf(const char *name, const char *buf, size_t len,
                            struct conf_errors *errs);

void conf_free(struct conf *c);

/* The name given to conf_parse_*; borrowed. */
const char *conf_name(const struct conf *c);

/* Sections in file order ([DEFAULT] included if present). Borrowed. */
size_t conf_section_count(const struct conf *c);
const char *conf_section_name(const struct conf *c, size_t i);
bool conf_has_section(const struct conf *c, const char *section);

/*
 * Raw lookup: the value of key in section, falling back to [DEFAULT];
 * NULL if neither has it. Borrowed, lives as long as c. If line is not NULL
 * it receives the value's line number.
 */
const char *conf_get(const struct conf *c, const char *section,
                     const char *key, unsigned *line);

/*
 * Applies table to c: every section of c must match a table row's section
 * (exactly, or by a '*' prefix row), every key must be known for its section
 * (a [DEFAULT] key must be known to [DEFAULT] or to some section), every
 * value must parse and be within bounds, every CONF_REQUIRED key present.
 * Rows of exact sections are stored into base (value from the section, else
 * [DEFAULT], else the row's default); rows of prefix sections are only
 * validated. Problems are added to errs. Returns 0, or -EINVAL if this call
 * added any error (base then holds defaults where values were bad; release it
 * all the same). base must be zeroed or released before the call.
 */
int conf_load(const struct conf *c, const struct conf_option *table,
              void *base, struct conf_errors *errs);

/*
 * Fills base from the rows whose section matches `section` (typically one
 * instance of a prefix row, e.g. "storage-policy:1"), with [DEFAULT] and
 * default fallbacks as above. The section need not be present in c (then
 * defaults apply). Returns 0 or -EINVAL (errors added).
 */
int conf_load_section(const struct conf *c, const char *section,
                      const struct conf_option *table, void *base,
                      struct conf_errors *errs);

/* Frees what conf_load() stored in base (strings, lists) and zeroes those
 * fields. Safe on a zeroed base and twice in a row. */
void conf_release(const struct conf_option *table, void *base);
/* Same for what conf_load_section(section) stored. */
void conf_release_section(const struct conf_option *table,
                          const char *section, void *base);

/*
 * Renders the table as a sample file: `intro` (lines prefixed "# "), then
 * every section in table order with each option commented out, showing its
 * help, type, unit, bounds and default:
 *     # Maximum size of one object.
 *     # size in bytes (k, M, G, Ki, Mi, Gi suffixes); default 5368709122
 *     # max_file_size = 5368709122
 * Returns a new heap string (caller frees). The same table always renders
 * the same text, so a test can compare a sample in etc/ byte for byte.
 */
char *conf_render_sample(const struct conf_option *table, const char *intro);

/*
 * Renders the effective values in base as an INI text (for log_debug at
 * start-up and for --check-config -v). Strings are shown as they are; there
 * are no secrets in option tables other than the hash prefix/suffix, which a
 * caller must not log. Returns a new heap string.
 */
char *conf_render_effective(const struct conf_option *table, const void *base);

/*
 * Parsers for single values, as the table uses them; exposed so other code
 * (e.g. query strings, CLI flags) reads sizes and durations the same way.
 * Each returns 0 or -EINVAL (bad syntax) / -ERANGE (overflow).
 */
int conf_parse_bool(const char *s, bool *out);
int conf_parse_size(const char *s, uint64_t *out);
int conf_parse_duration_ms(const char *s, int64_t *out);

/*
 * --check-config: prints every error of errs to out and returns 2, or
 * prints "<path>: configuration OK" and returns 0. Meant as the exit status
 * of a daemon run with --check-config.
 */
int conf_check_report(const char *path, const struct conf_errors *errs,
                      FILE *out);

#endif
