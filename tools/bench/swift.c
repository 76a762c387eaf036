/*
 * swift.c - blocking auth and container requests (see swift.h).
 */
#include "tools/bench/swift.h"

#include <ctype.h>
#include <curl/curl.h>
#include <errno.h>
#include <string.h>

#include "common/xalloc.h"

struct auth_hdrs {
    char *storage_url;
    char *token;
};

static size_t discard_cb(char *p, size_t sz, size_t n, void *arg)
{
    return sz * n;
}

/* Copies the value of header `name` out of one header line, trimmed. */
static char *header_value(const char *line, size_t len, const char *name)
{
    size_t nl = strlen(name);
    if (len <= nl || strncasecmp(line, name, nl) != 0 || line[nl] != ':')
        return NULL;
    const char *v = line + nl + 1;
    const char *end = line + len;
    while (v < end && (*v == ' ' || *v == '\t'))
        v++;
    while (end > v && isspace((unsigned char)end[-1]))
        end--;
    return xstrndup(v, (size_t)(end - v));
}

static size_t auth_header_cb(char *p, size_t sz, size_t n, void *arg)
{
    struct auth_hdrs *h = arg;
    size_t len = sz * n;
    char *v;
    if ((v = header_value(p, len, "X-Storage-Url"))) {
        free(h->storage_url);
        h->storage_url = v;
    } else if ((v = header_value(p, len, "X-Auth-Token"))) {
        free(h->token);
        h->token = v;
    }
    return len;
}

static void common_opts(CURL *c, bool insecure)
{
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard_cb);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 10L);
    curl_easy_setopt(c, CURLOPT_PROXY, "");
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 60L);
    if (insecure) {
        curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 0L);
        curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 0L);
    }
}

int swift_auth_v1(const char *auth_url, const char *user, const char *key, bool insecure,
                  char **storage_url, char **token, struct err *e)
{
    struct auth_hdrs h = {NULL, NULL};
    struct curl_slist *hdrs = NULL;
    char *u = xasprintf("X-Auth-User: %s", user);
    char *k = xasprintf("X-Auth-Key: %s", key);
    int rc = -EIO;
    CURL *c = curl_easy_init();
    if (!c) {
        err_set(e, -EIO, "auth: curl_easy_init failed");
        goto out;
    }
    hdrs = curl_slist_append(hdrs, u);
    hdrs = curl_slist_append(hdrs, k);
    common_opts(c, insecure);
    curl_easy_setopt(c, CURLOPT_URL, auth_url);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, auth_header_cb);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, &h);
    CURLcode cc = curl_easy_perform(c);
    if (cc != CURLE_OK) {
        err_set(e, -EIO, "auth %s: %s", auth_url, curl_easy_strerror(cc));
        goto out;
    }
    long status = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    if (status == 401 || status == 403) {
        rc = err_set(e, -EACCES, "auth %s: %ld: user '%s' or its key refused", auth_url, status, user);
        goto out;
    }
    if (status < 200 || status > 299) {
        err_set(e, -EIO, "auth %s: answered %ld", auth_url, status);
        goto out;
    }
    if (!h.storage_url || !h.token) {
        err_set(e, -EIO, "auth %s: answer lacks X-Storage-Url or X-Auth-Token", auth_url);
        goto out;
    }
    *storage_url = h.storage_url;
    *token = h.token;
    h.storage_url = h.token = NULL;
    rc = 0;
out:
    free(h.storage_url);
    free(h.token);
    curl_slist_free_all(hdrs);
    if (c)
        curl_easy_cleanup(c);
    free(u);
    free(k);
    return rc;
}

long swift_request(const char *method, const char *storage_url, const char *name,
                   const char *token, bool insecure, struct err *e)
{
    long status = -EIO;
    struct curl_slist *hdrs = NULL;
    char *tok = xasprintf("X-Auth-Token: %s", token);
    char *esc = NULL, *url = NULL;
    CURL *c = curl_easy_init();
    if (!c) {
        err_set(e, -EIO, "%s: curl_easy_init failed", method);
        goto out;
    }
    esc = curl_easy_escape(c, name, 0);
    url = xasprintf("%s/%s", storage_url, esc ? esc : name);
    hdrs = curl_slist_append(hdrs, tok);
    if (strcmp(method, "PUT") == 0)
        hdrs = curl_slist_append(hdrs, "Content-Length: 0");
    common_opts(c, insecure);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    if (strcmp(method, "HEAD") == 0)
        curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
    CURLcode cc = curl_easy_perform(c);
    if (cc != CURLE_OK) {
        err_set(e, -EIO, "%s: %s", url, curl_easy_strerror(cc));
        goto out;
    }
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
out:
    curl_slist_free_all(hdrs);
    curl_free(esc);
    if (c)
        curl_easy_cleanup(c);
    free(url);
    free(tok);
    return status;
}
