/*
 * fixity - digests of an object, as in the Storlet Engine paper's fixity
 * study: the object is read where it lies and only the digests travel.
 *
 * Parameters:
 *   algorithms  comma-separated subset of md5,sha1,sha256,sha512
 *               (default md5,sha256)
 * Output: a JSON object {"bytes": N, "md5": "<hex>", "sha256": "<hex>", ...},
 * plus "verified": {"<alg>": true|false} for each algorithm whose digest the
 * object's metadata already holds (key = the algorithm name, any case, e.g.
 * X-Object-Meta-Sha256), so a stored checksum is checked in place.
 * Output metadata: the same digests, keys "Md5", "Sha256", ..., and
 * "Fixity" = "ok" | "mismatch" | "computed". Content-Type application/json.
 * Exit 64 for an unknown algorithm. Memory: one 256 KiB buffer.
 */
#include <ctype.h>
#include <errno.h>
#include <openssl/evp.h>
#include <string.h>
#include <strings.h>

#include "cairn_storlet.h"

struct alg {
    const char *name;      /* parameter and JSON name */
    const char *meta;      /* output metadata key */
    const EVP_MD *(*md)(void);
    EVP_MD_CTX *ctx;
    bool on;
};

static struct alg algs[] = {
    { "md5", "Md5", EVP_md5, NULL, false },
    { "sha1", "Sha1", EVP_sha1, NULL, false },
    { "sha256", "Sha256", EVP_sha256, NULL, false },
    { "sha512", "Sha512", EVP_sha512, NULL, false },
};
#define NALG (sizeof(algs) / sizeof(algs[0]))

static void choose(struct storlet *s, const char *list)
{
    char buf[256];
    if (strlen(list) >= sizeof(buf))
        storlet_fail(s, STORLET_EXIT_BAD_PARAM, "algorithms: list too long");
    snprintf(buf, sizeof(buf), "%s", list);
    char *save = NULL;
    int n = 0;
    for (char *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        while (isspace((unsigned char)*tok))
            tok++;
        size_t l = strlen(tok);
        while (l && isspace((unsigned char)tok[l - 1]))
            tok[--l] = '\0';
        size_t i;
        for (i = 0; i < NALG; i++)
            if (strcasecmp(tok, algs[i].name) == 0)
                break;
        if (i == NALG)
            storlet_fail(s, STORLET_EXIT_BAD_PARAM,
                         "algorithms: unknown algorithm '%s' (md5, sha1, sha256, sha512)", tok);
        algs[i].on = true;
        n++;
    }
    if (n == 0)
        storlet_fail(s, STORLET_EXIT_BAD_PARAM, "algorithms: empty list");
}

int main(void)
{
    static unsigned char buf[256 << 10];
    struct storlet *s = storlet_start();
    choose(s, storlet_param_or(s, "algorithms", "md5,sha256"));
    for (size_t i = 0; i < NALG; i++) {
        if (!algs[i].on)
            continue;
        algs[i].ctx = EVP_MD_CTX_new();
        if (!algs[i].ctx || EVP_DigestInit_ex(algs[i].ctx, algs[i].md(), NULL) != 1)
            storlet_fail(s, STORLET_EXIT_FAILED, "%s: cannot initialise the digest", algs[i].name);
    }
    uint64_t total = 0;
    ssize_t n;
    while ((n = storlet_read(s, buf, sizeof(buf))) > 0) {
        total += (uint64_t)n;
        for (size_t i = 0; i < NALG; i++)
            if (algs[i].on)
                EVP_DigestUpdate(algs[i].ctx, buf, (size_t)n);
    }
    if (n < 0)
        storlet_fail(s, STORLET_EXIT_FAILED, "reading the input: %s", strerror((int)-n));

    json_t *out = json_object(), *verified = json_object();
    json_object_set_new(out, "bytes", json_integer((json_int_t)total));
    bool mismatch = false;
    for (size_t i = 0; i < NALG; i++) {
        if (!algs[i].on)
            continue;
        unsigned char md[EVP_MAX_MD_SIZE];
        unsigned int len = 0;
        char hex[2 * EVP_MAX_MD_SIZE + 1];
        EVP_DigestFinal_ex(algs[i].ctx, md, &len);
        EVP_MD_CTX_free(algs[i].ctx);
        for (unsigned j = 0; j < len; j++)
            snprintf(hex + 2 * j, 3, "%02x", md[j]);
        json_object_set_new(out, algs[i].name, json_string(hex));
        storlet_set_meta(s, algs[i].meta, hex);
        const char *stored = storlet_input_meta(s, 0, algs[i].name);
        if (stored) {
            bool ok = strcasecmp(stored, hex) == 0;
            mismatch |= !ok;
            json_object_set_new(verified, algs[i].name, json_boolean(ok));
        }
    }
    const char *verdict = json_object_size(verified) ? (mismatch ? "mismatch" : "ok") : "computed";
    if (json_object_size(verified))
        json_object_set(out, "verified", verified);
    json_object_set_new(out, "fixity", json_string(verdict));
    json_decref(verified);
    storlet_set_meta(s, "Fixity", verdict);
    storlet_set_content_type(s, "application/json");
    char *text = json_dumps(out, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(out);
    if (!text || storlet_write(s, text, strlen(text)) < 0 || storlet_write(s, "\n", 1) < 0)
        storlet_fail(s, STORLET_EXIT_FAILED, "writing the output failed");
    free(text);
    return storlet_finish(s);
}
