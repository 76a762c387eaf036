/*
 * rb_parse.c - the textual forms of swift-ring-builder's command line:
 * device strings for `add`, search values, addresses, and Python's way of
 * printing floats and durations (the output shapes operators' scripts
 * parse). Pure functions; nothing here prints.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "tools/ring-builder/rb.h"

static void lower(char *s)
{
    for (; *s; s++)
        *s = (char)tolower((unsigned char)*s);
}

int rb_normalize_ip(const char *in, char *out, size_t outsz)
{
    char tmp[128];
    unsigned char bin[16];
    if (str_copy(tmp, in, sizeof(tmp)) >= sizeof(tmp))
        return -EINVAL;
    lower(tmp);
    if (inet_pton(AF_INET, tmp, bin) == 1)
        return str_copy(out, tmp, outsz) < outsz ? 0 : -EINVAL;
    if (inet_pton(AF_INET6, tmp, bin) == 1) {
        char buf[INET6_ADDRSTRLEN];
        if (!inet_ntop(AF_INET6, bin, buf, sizeof(buf)))
            return -EINVAL;
        return str_copy(out, buf, outsz) < outsz ? 0 : -EINVAL;
    }
    return -EINVAL;
}

static bool valid_hostname(const char *h)
{
    size_t n = strlen(h);
    if (n < 1 || n > 255)
        return false;
    if (h[n - 1] == '.')
        n--;
    size_t label = 0;
    for (size_t i = 0; i <= n; i++) {
        if (i == n || h[i] == '.') {
            if (label < 1 || label > 63 || h[i - label] == '-' ||
                h[i - 1] == '-')
                return false;
            label = 0;
        } else if (isalnum((unsigned char)h[i]) || h[i] == '-') {
            label++;
        } else {
            return false;
        }
    }
    return true;
}

int rb_normalize_address(const char *in, char *out, size_t outsz)
{
    char tmp[300];
    size_t n = strlen(in);
    bool bracketed = n >= 2 && in[0] == '[' && in[n - 1] == ']';
    while (*in == '[')
        in++;
    if (str_copy(tmp, in, sizeof(tmp)) >= sizeof(tmp))
        return -EINVAL;
    n = strlen(tmp);
    while (n && tmp[n - 1] == ']')
        tmp[--n] = '\0';
    if (bracketed)
        return rb_normalize_ip(tmp, out, outsz);
    lower(tmp);
    if (rb_normalize_ip(tmp, out, outsz) == 0)
        return 0;
    if (valid_hostname(tmp))
        return str_copy(out, tmp, outsz) < outsz ? 0 : -EINVAL;
    return -EINVAL;
}

/* Reads decimal digits at *s (at least one); advances *s. */
static int take_uint(const char **s, uint32_t max, uint32_t *out)
{
    const char *p = *s;
    uint64_t v = 0;
    if (!isdigit((unsigned char)*p))
        return -EINVAL;
    while (isdigit((unsigned char)*p)) {
        v = v * 10 + (uint64_t)(*p - '0');
        if (v > max)
            return -ERANGE;
        p++;
    }
    *s = p;
    *out = (uint32_t)v;
    return 0;
}

/* "<ip>:<port>" or "[<ipv6>]:<port>" up to 'R' or '/'. */
static int parse_address(const char **s, char *ip, size_t ipsz, uint32_t *port,
                         const char *whole, struct err *e)
{
    char buf[300];
    const char *p = *s;
    size_t n = 0;
    bool br_open = false, br_closed = false;
    while (*p && *p != 'R' && *p != '/') {
        /* the first '[' and the first ']' are dropped, as Swift does */
        if (*p == '[' && !br_open && n == 0) {
            br_open = true;
        } else if (*p == ']' && br_open && !br_closed) {
            br_closed = true;
        } else {
            if (n + 1 >= sizeof(buf))
                return err_set(e, -EINVAL, "Invalid add value: %s", whole);
            buf[n++] = *p;
        }
        p++;
    }
    buf[n] = '\0';
    char *colon = strrchr(buf, ':');
    if (!colon)
        return err_set(e, -EINVAL, "Invalid port in add value: %s", whole);
    *colon = '\0';
    uint64_t v;
    if (parse_u64(colon + 1, &v) || v > 65535)
        return err_set(e, -EINVAL, "Invalid port :%s in add value: %s",
                       colon + 1, whole);
    if (rb_normalize_ip(buf, ip, ipsz))
        return err_set(e, -EINVAL, "Invalid ip %s in add value: %s", buf,
                       whole);
    *port = (uint32_t)v;
    *s = p;
    return 0;
}

int rb_parse_add_value(const char *s, struct rb_dev *d, bool *has_region,
                       struct err *e)
{
    const char *p = s;
    memset(d, 0, sizeof(*d));
    *has_region = false;
    if (*p == 'r') {
        p++;
        if (take_uint(&p, UINT32_MAX, &d->region))
            return err_set(e, -EINVAL, "Invalid add value: %s", s);
        *has_region = true;
    }
    if (*p != 'z')
        return err_set(e, -EINVAL, "Invalid add value: %s", s);
    p++;
    if (take_uint(&p, UINT32_MAX, &d->zone) || *p != '-')
        return err_set(e, -EINVAL, "Invalid add value: %s", s);
    p++;
    int rc = parse_address(&p, d->ip, sizeof(d->ip), &d->port, s, e);
    if (rc)
        return rc;
    if (*p == 'R') {
        p++;
        rc = parse_address(&p, d->replication_ip, sizeof(d->replication_ip),
                           &d->replication_port, s, e);
        if (rc)
            return rc;
    } else {
        str_copy(d->replication_ip, d->ip, sizeof(d->replication_ip));
        d->replication_port = d->port;
    }
    if (*p != '/')
        return err_set(e, -EINVAL, "Invalid add value: %s", s);
    p++;
    const char *end = strchr(p, '_');
    size_t n = end ? (size_t)(end - p) : strlen(p);
    if (n == 0 || p[0] == ' ' || p[n - 1] == ' ')
        return err_set(e, -EINVAL, "Invalid device name in: %s", s);
    if (n >= sizeof(d->device))
        return err_set(e, -EINVAL, "Device name longer than %zu bytes in: %s",
                       sizeof(d->device) - 1, s);
    memcpy(d->device, p, n);
    d->device[n] = '\0';
    if (end && str_copy(d->meta, end + 1, sizeof(d->meta)) >= sizeof(d->meta))
        return err_set(e, -EINVAL, "Meta longer than %zu bytes in: %s",
                       sizeof(d->meta) - 1, s);
    return 0;
}

size_t rb_scan_ip(const char **s, char *buf, size_t bufsz)
{
    const char *p = *s;
    size_t n = 0;
    if (isdigit((unsigned char)*p)) {
        while ((isdigit((unsigned char)*p) || *p == '.') && n + 1 < bufsz)
            buf[n++] = *p++;
    } else if (*p == '[') {
        p++;
        while (*p && *p != ']' && n + 1 < bufsz)
            buf[n++] = *p++;
        if (*p == ']')
            p++;
    }
    buf[n] = '\0';
    *s = p;
    return n;
}

/* An ip in a search value: digits and dots, or [ipv6]. */
static int take_search_ip(const char **s, char *out, size_t outsz)
{
    const char *p = *s;
    char buf[128];
    rb_scan_ip(&p, buf, sizeof(buf));
    if (p == *s)
        return 1;               /* no ip here */
    if (rb_normalize_ip(buf, out, outsz))
        return -EINVAL;
    *s = p;
    return 0;
}

int rb_parse_search_value(const char *s, struct rb_search *m, struct err *e)
{
    const char *p = s;
    memset(m, 0, sizeof(*m));
#define BAD() err_set(e, -EINVAL, "Invalid <search-value>: '%s'", s)
    if (!*p)
        return BAD();
    if (*p == 'd') {
        p++;
        if (take_uint(&p, UINT32_MAX, &m->id))
            return BAD();
        m->has_id = true;
    }
    if (*p == 'r') {
        p++;
        if (take_uint(&p, UINT32_MAX, &m->region))
            return BAD();
        m->has_region = true;
    }
    if (*p == 'z') {
        p++;
        if (take_uint(&p, UINT32_MAX, &m->zone))
            return BAD();
        m->has_zone = true;
    }
    if (*p == '-')
        p++;
    int rc = take_search_ip(&p, m->ip, sizeof(m->ip));
    if (rc < 0)
        return err_set(e, -EINVAL, "Invalid ip in <search-value>: '%s'", s);
    m->has_ip = rc == 0;
    if (*p == ':') {
        p++;
        if (take_uint(&p, 65535, &m->port))
            return BAD();
        m->has_port = true;
    }
    if (*p == 'R') {
        p++;
        rc = take_search_ip(&p, m->rip, sizeof(m->rip));
        if (rc < 0)
            return err_set(e, -EINVAL, "Invalid ip in <search-value>: '%s'",
                           s);
        m->has_rip = rc == 0;
        if (*p == ':') {
            p++;
            if (take_uint(&p, 65535, &m->rport))
                return BAD();
            m->has_rport = true;
        }
    }
    if (*p == '/') {
        p++;
        const char *end = strchr(p, '_');
        size_t n = end ? (size_t)(end - p) : strlen(p);
        if (n >= sizeof(m->device))
            return BAD();
        memcpy(m->device, p, n);
        m->device[n] = '\0';
        m->has_device = true;
        p += n;
    }
    if (*p == '_') {
        if (str_copy(m->meta, p + 1, sizeof(m->meta)) >= sizeof(m->meta))
            return BAD();
        m->has_meta = true;
        p += strlen(p);
    }
    if (*p)
        return BAD();
#undef BAD
    return 0;
}

void rb_py_float(double v, char *out, size_t outsz)
{
    if (isnan(v)) {
        snprintf(out, outsz, "nan");
        return;
    }
    if (isinf(v)) {
        snprintf(out, outsz, v < 0 ? "-inf" : "inf");
        return;
    }
    /* the shortest %e form that reads back as v */
    char buf[64];
    int prec;
    for (prec = 0; prec < 17; prec++) {
        snprintf(buf, sizeof(buf), "%.*e", prec, v);
        if (strtod(buf, NULL) == v)
            break;
    }
    snprintf(buf, sizeof(buf), "%.*e", prec, v);
    /* split into sign, digits and exponent */
    char digits[32];
    size_t nd = 0;
    const char *p = buf;
    bool neg = *p == '-';
    if (neg)
        p++;
    for (; *p && *p != 'e'; p++)
        if (isdigit((unsigned char)*p))
            digits[nd++] = *p;
    digits[nd] = '\0';
    int exp10 = (int)strtol(p + 1, NULL, 10);
    while (nd > 1 && digits[nd - 1] == '0')
        digits[--nd] = '\0';
    int decpt = exp10 + 1;   /* digits before the point */
    char res[64];
    size_t n = 0;
    if (neg)
        res[n++] = '-';
    if (exp10 >= 16 || exp10 < -4) {
        res[n++] = digits[0];
        if (nd > 1) {
            res[n++] = '.';
            for (size_t i = 1; i < nd; i++)
                res[n++] = digits[i];
        }
        n += (size_t)snprintf(res + n, sizeof(res) - n, "e%c%02d",
                              exp10 < 0 ? '-' : '+', abs(exp10));
    } else if (decpt <= 0) {
        res[n++] = '0';
        res[n++] = '.';
        for (int i = 0; i < -decpt; i++)
            res[n++] = '0';
        for (size_t i = 0; i < nd; i++)
            res[n++] = digits[i];
    } else {
        for (int i = 0; i < decpt; i++)
            res[n++] = (size_t)i < nd ? digits[i] : '0';
        res[n++] = '.';
        if ((size_t)decpt < nd)
            for (size_t i = (size_t)decpt; i < nd; i++)
                res[n++] = digits[i];
        else
            res[n++] = '0';
    }
    res[n] = '\0';
    str_copy(out, res, outsz);
}

void rb_timedelta(int64_t s, char *out, size_t outsz)
{
    int64_t days = s / 86400, rem = s % 86400;
    int h = (int)(rem / 3600), m = (int)(rem % 3600 / 60), sec = (int)(rem % 60);
    if (days)
        snprintf(out, outsz, "%lld day%s, %d:%02d:%02d", (long long)days,
                 days == 1 ? "" : "s", h, m, sec);
    else
        snprintf(out, outsz, "%d:%02d:%02d", h, m, sec);
}

void rb_format_dev(const struct rb_dev *d, char *out, size_t outsz)
{
    bool v6 = strchr(d->ip, ':') != NULL;
    bool rv6 = strchr(d->replication_ip, ':') != NULL;
    snprintf(out, outsz, "d%ur%uz%u-%s%s%s:%uR%s%s%s:%u/%s_\"%s\"", d->id,
             d->region, d->zone, v6 ? "[" : "", d->ip, v6 ? "]" : "", d->port,
             rv6 ? "[" : "", d->replication_ip, rv6 ? "]" : "",
             d->replication_port, d->device, d->meta);
}
