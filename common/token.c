/*
 * token.c - HMAC-signed tempauth tokens; see token.h.
 *
 * Verification order matters: shape, then MAC (constant time), and only
 * then the payload is parsed, so nothing a forger controls is interpreted
 * before the signature has been checked.
 */
#include "common/token.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#define MAC_LEN 32
#define MAC_B64_LEN 43
#define PAYLOAD_VERSION 1
#define PAYLOAD_MAX (10 + (2 + TOKEN_NAME_MAX) * (2 + TOKEN_GROUPS_MAX))

static const char b64[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

static size_t b64_encode(const unsigned char *in, size_t len, char *out)
{
    size_t o = 0, i = 0;
    for (; i + 3 <= len; i += 3) {
        uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
        out[o++] = b64[v >> 18];
        out[o++] = b64[(v >> 12) & 63];
        out[o++] = b64[(v >> 6) & 63];
        out[o++] = b64[v & 63];
    }
    if (len - i == 1) {
        uint32_t v = (uint32_t)in[i] << 16;
        out[o++] = b64[v >> 18];
        out[o++] = b64[(v >> 12) & 63];
    } else if (len - i == 2) {
        uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8;
        out[o++] = b64[v >> 18];
        out[o++] = b64[(v >> 12) & 63];
        out[o++] = b64[(v >> 6) & 63];
    }
    return o;
}

static int b64_val(char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '-')
        return 62;
    if (c == '_')
        return 63;
    return -1;
}

/* Decodes unpadded base64url; rejects bad characters, impossible lengths
 * and non-zero trailing bits (so each byte string has one encoding and a
 * token cannot be varied without changing its bytes). Returns the decoded
 * length or -1. */
static long b64_decode(const char *in, size_t len, unsigned char *out,
                       size_t outsz)
{
    if (len % 4 == 1 || (len / 4) * 3 + (len % 4 ? len % 4 - 1 : 0) > outsz)
        return -1;
    size_t o = 0;
    uint32_t acc = 0;
    int bits = 0;
    for (size_t i = 0; i < len; i++) {
        int v = b64_val(in[i]);
        if (v < 0)
            return -1;
        acc = (acc << 6) | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[o++] = (unsigned char)(acc >> bits);
            acc &= (1u << bits) - 1;
        }
    }
    if (acc != 0)
        return -1;
    return (long)o;
}

static bool mac(const void *secret, size_t secret_len,
                const unsigned char *data, size_t len,
                unsigned char out[MAC_LEN])
{
    unsigned int outlen = 0;
    if (!HMAC(EVP_sha256(), secret, (int)secret_len, data, len, out,
              &outlen))
        return false;
    return outlen == MAC_LEN;
}

static size_t put_str(unsigned char *p, const char *s, size_t n)
{
    p[0] = (unsigned char)(n >> 8);
    p[1] = (unsigned char)n;
    memcpy(p + 2, s, n);
    return n + 2;
}

static bool name_ok(const char *s, bool nonempty)
{
    size_t n = strnlen(s, TOKEN_NAME_MAX + 1);
    return n <= TOKEN_NAME_MAX && (n > 0 || !nonempty);
}

int token_issue(const void *secret, size_t secret_len,
                const struct token_claims *c, char *out, size_t outsz)
{
    if (secret_len < TOKEN_SECRET_MIN || !name_ok(c->account, true) ||
        !name_ok(c->user, true) || c->ngroups > TOKEN_GROUPS_MAX)
        return -EINVAL;
    for (size_t i = 0; i < c->ngroups; i++)
        if (!name_ok(c->groups[i], false))
            return -EINVAL;
    unsigned char pl[PAYLOAD_MAX];
    size_t n = 0;
    pl[n++] = PAYLOAD_VERSION;
    uint64_t exp = (uint64_t)c->expires;
    for (int i = 7; i >= 0; i--)
        pl[n++] = (unsigned char)(exp >> (8 * i));
    n += put_str(pl + n, c->account, strlen(c->account));
    n += put_str(pl + n, c->user, strlen(c->user));
    pl[n++] = (unsigned char)c->ngroups;
    for (size_t i = 0; i < c->ngroups; i++)
        n += put_str(pl + n, c->groups[i], strlen(c->groups[i]));
    unsigned char m[MAC_LEN];
    if (!mac(secret, secret_len, pl, n, m))
        return -EIO;
    size_t need = strlen(TOKEN_PREFIX) + (4 * n + 2) / 3 + 1 + MAC_B64_LEN + 1;
    if (outsz < need)
        return -ENOSPC;
    size_t o = strlen(TOKEN_PREFIX);
    memcpy(out, TOKEN_PREFIX, o);
    o += b64_encode(pl, n, out + o);
    out[o++] = '.';
    o += b64_encode(m, MAC_LEN, out + o);
    out[o] = '\0';
    return (int)o;
}

/* Reads a u16-length string into dst; returns false when malformed. */
static bool get_str(const unsigned char *p, size_t len, size_t *off,
                    char dst[TOKEN_NAME_MAX + 1])
{
    if (len - *off < 2)
        return false;
    size_t n = (size_t)p[*off] << 8 | p[*off + 1];
    *off += 2;
    if (n > TOKEN_NAME_MAX || len - *off < n || memchr(p + *off, '\0', n))
        return false;
    memcpy(dst, p + *off, n);
    dst[n] = '\0';
    *off += n;
    return true;
}

int token_verify(const void *secret, size_t secret_len, const char *token,
                 size_t len, int64_t now, struct token_claims *c)
{
    memset(c, 0, sizeof(*c));
    size_t plen = strlen(TOKEN_PREFIX);
    if (secret_len < TOKEN_SECRET_MIN || len < plen + 1 + MAC_B64_LEN ||
        len >= TOKEN_MAX_LEN || memcmp(token, TOKEN_PREFIX, plen) != 0)
        return -EINVAL;
    const char *body = token + plen;
    size_t blen = len - plen;
    if (body[blen - MAC_B64_LEN - 1] != '.')
        return -EINVAL;
    unsigned char pl[PAYLOAD_MAX], m[MAC_LEN], want[MAC_LEN];
    long n = b64_decode(body, blen - MAC_B64_LEN - 1, pl, sizeof(pl));
    if (n < 10 ||
        b64_decode(body + blen - MAC_B64_LEN, MAC_B64_LEN, m, sizeof(m)) !=
            MAC_LEN)
        return -EINVAL;
    if (!mac(secret, secret_len, pl, (size_t)n, want))
        return -EINVAL;
    if (CRYPTO_memcmp(m, want, MAC_LEN) != 0)
        return -EKEYREJECTED;
    /* Signed by us; a malformed payload now means a bug or an old format,
     * still rejected as not-a-token. */
    size_t off = 0, len_pl = (size_t)n;
    if (pl[off++] != PAYLOAD_VERSION)
        goto bad;
    uint64_t exp = 0;
    for (int i = 0; i < 8; i++)
        exp = exp << 8 | pl[off++];
    c->expires = (int64_t)exp;
    if (!get_str(pl, len_pl, &off, c->account) ||
        !get_str(pl, len_pl, &off, c->user) || off >= len_pl)
        goto bad;
    c->ngroups = pl[off++];
    if (c->ngroups > TOKEN_GROUPS_MAX)
        goto bad;
    for (size_t i = 0; i < c->ngroups; i++)
        if (!get_str(pl, len_pl, &off, c->groups[i]))
            goto bad;
    if (off != len_pl)
        goto bad;
    if (c->expires <= now) {
        memset(c, 0, sizeof(*c));
        return -EKEYEXPIRED;
    }
    return 0;
bad:
    memset(c, 0, sizeof(*c));
    return -EINVAL;
}
