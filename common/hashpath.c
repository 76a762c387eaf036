/*
 * hashpath.c - see hashpath.h.
 */
#include "common/hashpath.h"

#include <string.h>

#include "common/bug.h"
#include "common/util.h"

void hashpath_digest(const struct hashpath_secret *s, const char *account,
                     const char *container, const char *object,
                     unsigned char digest[MD5_DIGEST_LEN])
{
    BUG_ON(object && !container);
    struct md5 m;
    md5_init(&m);
    md5_update(&m, s->prefix, strlen(s->prefix));
    md5_update(&m, "/", 1);
    md5_update(&m, account, strlen(account));
    if (container) {
        md5_update(&m, "/", 1);
        md5_update(&m, container, strlen(container));
    }
    if (object) {
        md5_update(&m, "/", 1);
        md5_update(&m, object, strlen(object));
    }
    md5_update(&m, s->suffix, strlen(s->suffix));
    md5_final(&m, digest);
}

void hashpath_hex(const struct hashpath_secret *s, const char *account,
                  const char *container, const char *object,
                  char hex[MD5_HEX_LEN])
{
    unsigned char d[MD5_DIGEST_LEN];
    hashpath_digest(s, account, container, object, d);
    hex_encode(d, sizeof(d), hex);
}

uint32_t hashpath_partition(const unsigned char digest[MD5_DIGEST_LEN],
                            unsigned part_power)
{
    uint32_t top = (uint32_t)digest[0] << 24 | (uint32_t)digest[1] << 16 |
                   (uint32_t)digest[2] << 8 | (uint32_t)digest[3];
    if (part_power == 0)
        return 0;
    return top >> (32 - part_power);
}
