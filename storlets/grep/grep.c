/*
 * grep - the lines of an object that match a pattern.
 *
 * Parameters:
 *   pattern       what to look for (required)
 *   mode          fixed (default: the pattern is a plain string) or regex
 *                 (POSIX extended regular expression)
 *   ignore-case   true|false (default false)
 *   invert        true|false: the lines that do not match (default false)
 *   count         true|false: output only the number of selected lines
 *   line-number   true|false: prefix each line with its number and ':'
 * Output: the selected lines, byte for byte (the last one without a newline
 * if the input ended so), or "<count>\n". Output metadata: Matches (only
 * with count=true, since it is known before output then), Pattern-Mode.
 * Exit 64 for a missing or invalid pattern. Lines are at most 1 MiB (exit
 * 65 beyond): memory is one line.
 */
#include <errno.h>
#include <regex.h>
#include <string.h>
#include <strings.h>

#include "cairn_storlet.h"

#define LINE_MAX_BYTES (1u << 20)

static bool flag(struct storlet *s, const char *key)
{
    bool v;
    if (storlet_param_bool(s, key, false, &v) < 0)
        storlet_fail(s, STORLET_EXIT_BAD_PARAM, "%s=%s: true or false", key, storlet_param(s, key));
    return v;
}

/* memmem, case-folded for ASCII when asked */
static bool contains(const char *hay, size_t n, const char *needle, size_t m, bool icase)
{
    if (m == 0)
        return true;
    if (!icase)
        return memmem(hay, n, needle, m) != NULL;
    for (size_t i = 0; i + m <= n; i++)
        if (strncasecmp(hay + i, needle, m) == 0)
            return true;
    return false;
}

int main(void)
{
    struct storlet *s = storlet_start();
    const char *pat = storlet_param(s, "pattern");
    if (!pat)
        storlet_fail(s, STORLET_EXIT_BAD_PARAM, "the parameter pattern is required");
    const char *mode = storlet_param_or(s, "mode", "fixed");
    bool regex = strcmp(mode, "regex") == 0;
    if (!regex && strcmp(mode, "fixed") != 0)
        storlet_fail(s, STORLET_EXIT_BAD_PARAM, "mode=%s: fixed or regex", mode);
    bool icase = flag(s, "ignore-case"), invert = flag(s, "invert");
    bool count = flag(s, "count"), number = flag(s, "line-number");
    regex_t re;
    if (regex) {
        int rc = regcomp(&re, pat, REG_EXTENDED | REG_NOSUB | (icase ? REG_ICASE : 0));
        if (rc != 0) {
            char why[256];
            regerror(rc, &re, why, sizeof(why));
            storlet_fail(s, STORLET_EXIT_BAD_PARAM, "pattern: not a regular expression: %s", why);
        }
    }
    storlet_set_meta(s, "Pattern-Mode", regex ? "regex" : "fixed");
    FILE *in = storlet_input_file(s, 0);
    char *line = NULL;
    size_t cap = 0, plen = strlen(pat);
    ssize_t n;
    uint64_t lineno = 0, matches = 0;
    while ((n = getline(&line, &cap, in)) > 0) {
        lineno++;
        if ((size_t)n > LINE_MAX_BYTES)
            storlet_fail(s, STORLET_EXIT_BAD_INPUT, "line %llu is over %u bytes",
                         (unsigned long long)lineno, LINE_MAX_BYTES);
        size_t body = (size_t)n - (line[n - 1] == '\n');
        bool hit;
        if (regex) {
            /* the regex sees the line without its newline, as grep does */
            char save = line[body];
            line[body] = '\0';
            hit = memchr(line, '\0', body) == NULL ? regexec(&re, line, 0, NULL, 0) == 0
                                                   : false;
            line[body] = save;
        } else {
            hit = contains(line, body, pat, plen, icase);
        }
        if (hit == invert)
            continue;
        matches++;
        if (count)
            continue;
        if (number && storlet_printf(s, "%llu:", (unsigned long long)lineno) < 0)
            storlet_fail(s, STORLET_EXIT_FAILED, "writing the output failed");
        if (storlet_write(s, line, (size_t)n) < 0)
            storlet_fail(s, STORLET_EXIT_FAILED, "writing the output failed");
    }
    if (ferror(in))
        storlet_fail(s, STORLET_EXIT_FAILED, "reading the input: %s", strerror(errno));
    free(line);
    if (regex)
        regfree(&re);
    if (count) {
        char v[32];
        snprintf(v, sizeof(v), "%llu", (unsigned long long)matches);
        storlet_set_meta(s, "Matches", v);
        if (storlet_printf(s, "%s\n", v) < 0)
            storlet_fail(s, STORLET_EXIT_FAILED, "writing the output failed");
    }
    return storlet_finish(s);
}
