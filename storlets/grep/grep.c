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
 * 65 beyond, found before more than that is read: a huge object without
 * newlines, such as minified JSON, fails at once instead of filling the
 * sandbox's memory): memory is one fixed buffer of a line and a read.
 */
#include <errno.h>
#include <regex.h>
#include <string.h>
#include <strings.h>

#include "cairn_storlet.h"

#define LINE_MAX_BYTES (1u << 20)
#define READ_BYTES (64u << 10)

/*
 * The input's lines, from one buffer: a line (at most LINE_MAX_BYTES), a
 * read beyond it, and one spare byte so the caller may put a '\0' after
 * the line's last byte (the regex wants a string).
 */
struct lines {
    struct storlet *s;
    char buf[LINE_MAX_BYTES + READ_BYTES + 1];
    size_t start, end;
    uint64_t no;          /* the number of the line last returned */
    bool eof;
};

/* The next line with its newline (none for a last line without one) in
 * *line, its length returned; 0 at the end. Fails the run for a line over
 * LINE_MAX_BYTES or a read error. */
static size_t next_line(struct lines *l, char **line)
{
    for (;;) {
        size_t have = l->end - l->start;
        char *nl = memchr(l->buf + l->start, '\n', have);
        size_t n = nl ? (size_t)(nl - (l->buf + l->start)) + 1 : have;
        if (n > LINE_MAX_BYTES)
            storlet_fail(l->s, STORLET_EXIT_BAD_INPUT, "line %llu is over %u bytes",
                         (unsigned long long)l->no + 1, LINE_MAX_BYTES);
        if (nl || (l->eof && have)) {
            *line = l->buf + l->start;
            l->start += n;
            l->no++;
            return n;
        }
        if (l->eof)
            return 0;
        memmove(l->buf, l->buf + l->start, have);
        l->start = 0;
        l->end = have;
        ssize_t k = storlet_read(l->s, l->buf + l->end, sizeof(l->buf) - 1 - l->end);
        if (k < 0)
            storlet_fail(l->s, STORLET_EXIT_FAILED, "reading the input: %s", strerror((int)-k));
        if (k == 0)
            l->eof = true;
        l->end += (size_t)k;
    }
}

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
    static struct lines in;
    in.s = s;
    char *line;
    size_t n, plen = strlen(pat);
    uint64_t matches = 0;
    while ((n = next_line(&in, &line)) > 0) {
        size_t body = n - (line[n - 1] == '\n');
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
        if (number && storlet_printf(s, "%llu:", (unsigned long long)in.no) < 0)
            storlet_fail(s, STORLET_EXIT_FAILED, "writing the output failed");
        if (storlet_write(s, line, n) < 0)
            storlet_fail(s, STORLET_EXIT_FAILED, "writing the output failed");
    }
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
