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
 * X-Object-Meta-Sha256), so a stored checksum is checked in place. The
 * engine passes the object's metadata only to a storlet deployed with
 * X-Object-Meta-Storlet-Object-Metadata: yes; with `no` nothing is checked
 * ("computed").
 * Output metadata: the same digests, keys "Md5", "Sha256", ..., and
 * "Fixity" = "ok" | "mismatch" | "computed". Content-Type application/json.
 * Exit 64 for an unknown algorithm. Memory: one 256 KiB buffer.
 *
 * Why libcrypto's low-level MD5/SHA interfaces and not EVP: OpenSSL 3's EVP
 * layer initialises its provider machinery (library context, algorithm
 * tables, the config file) on the first fetch, about 1 ms of CPU, which a
 * storlet pays on every invocation because each one is a fresh process.
 * The low-level calls run the same assembly (SHA-NI, AVX2, chosen by the
 * CPU-capability probe libcrypto runs at start-up) without any of that,
 * and they pull far less of libcrypto into the static binary, so exec
 * maps fewer pages. OpenSSL 3 marks them deprecated but still supports
 * them; common/md5.c opts in for the same reason.
 */
#define OPENSSL_SUPPRESS_DEPRECATED 1
#include <ctype.h>
#include <errno.h>
#include <openssl/md5.h>
#include <openssl/sha.h>
#include <string.h>
#include <strings.h>

#include "cairn_storlet.h"

#define MAX_MD_SIZE SHA512_DIGEST_LENGTH

/* One context of any of the algorithms; each entry of algs[] knows which. */
union md_ctx {
    MD5_CTX md5;
    SHA_CTX sha1;
    SHA256_CTX sha256;
    SHA512_CTX sha512;
};

/* Adapters from the uniform signatures below to each algorithm's own. */
static void md5_init(union md_ctx *c) { MD5_Init(&c->md5); }
static void md5_update(union md_ctx *c, const void *p, size_t n) { MD5_Update(&c->md5, p, n); }
static void md5_final(union md_ctx *c, unsigned char *md) { MD5_Final(md, &c->md5); }
static void sha1_init(union md_ctx *c) { SHA1_Init(&c->sha1); }
static void sha1_update(union md_ctx *c, const void *p, size_t n) { SHA1_Update(&c->sha1, p, n); }
static void sha1_final(union md_ctx *c, unsigned char *md) { SHA1_Final(md, &c->sha1); }
static void sha256_init(union md_ctx *c) { SHA256_Init(&c->sha256); }
static void sha256_update(union md_ctx *c, const void *p, size_t n) { SHA256_Update(&c->sha256, p, n); }
static void sha256_final(union md_ctx *c, unsigned char *md) { SHA256_Final(md, &c->sha256); }
static void sha512_init(union md_ctx *c) { SHA512_Init(&c->sha512); }
static void sha512_update(union md_ctx *c, const void *p, size_t n) { SHA512_Update(&c->sha512, p, n); }
static void sha512_final(union md_ctx *c, unsigned char *md) { SHA512_Final(md, &c->sha512); }

struct alg {
    const char *name;      /* parameter and JSON name */
    const char *meta;      /* output metadata key */
    unsigned len;          /* digest length in bytes */
    void (*init)(union md_ctx *c);
    void (*update)(union md_ctx *c, const void *p, size_t n);
    void (*final)(union md_ctx *c, unsigned char *md);
    union md_ctx ctx;
    bool on;
};

static struct alg algs[] = {
    { "md5", "Md5", MD5_DIGEST_LENGTH, md5_init, md5_update, md5_final, { { 0 } }, false },
    { "sha1", "Sha1", SHA_DIGEST_LENGTH, sha1_init, sha1_update, sha1_final, { { 0 } }, false },
    { "sha256", "Sha256", SHA256_DIGEST_LENGTH, sha256_init, sha256_update, sha256_final,
      { { 0 } }, false },
    { "sha512", "Sha512", SHA512_DIGEST_LENGTH, sha512_init, sha512_update, sha512_final,
      { { 0 } }, false },
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
    for (size_t i = 0; i < NALG; i++)
        if (algs[i].on)
            algs[i].init(&algs[i].ctx);
    uint64_t total = 0;
    ssize_t n;
    while ((n = storlet_read(s, buf, sizeof(buf))) > 0) {
        total += (uint64_t)n;
        for (size_t i = 0; i < NALG; i++)
            if (algs[i].on)
                algs[i].update(&algs[i].ctx, buf, (size_t)n);
    }
    if (n < 0)
        storlet_fail(s, STORLET_EXIT_FAILED, "reading the input: %s", strerror((int)-n));

    json_t *out = json_object(), *verified = json_object();
    json_object_set_new(out, "bytes", json_integer((json_int_t)total));
    bool mismatch = false;
    for (size_t i = 0; i < NALG; i++) {
        if (!algs[i].on)
            continue;
        unsigned char md[MAX_MD_SIZE];
        char hex[2 * MAX_MD_SIZE + 1];
        algs[i].final(&algs[i].ctx, md);
        for (unsigned j = 0; j < algs[i].len; j++)
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
