/*
 * hashpath.h - Swift's hash path: where a name lives.
 *
 *   digest = md5(prefix + "/" + account [+ "/" + container [+ "/" + object]] + suffix)
 *
 * exactly as Swift's hash_path(), so the same prefix/suffix place the same
 * names on the same partitions as a Swift cluster. The partition is the top
 * part_power bits of the digest's first four bytes (big-endian).
 *
 * The prefix and suffix are the cluster's secrets (etc/cairn.conf,
 * swift_hash_path_prefix / swift_hash_path_suffix); they are passed in, never
 * global, so tests and tools can use several. Thread-safe, no allocation.
 */
#ifndef CAIRN_HASHPATH_H
#define CAIRN_HASHPATH_H

#include <stdint.h>

#include "common/md5.h"

struct hashpath_secret {
    const char *prefix; /* may be "" */
    const char *suffix; /* may be "" */
};

/*
 * Digest of the path. container and object may be NULL or "" (account or
 * container paths: an empty name is left out, as Swift's hash_path does);
 * an object without a container is a caller bug.
 */
void hashpath_digest(const struct hashpath_secret *s, const char *account,
                     const char *container, const char *object,
                     unsigned char digest[MD5_DIGEST_LEN]);

/* Lower-case hex of hashpath_digest (the on-disk <hash> directory name). */
void hashpath_hex(const struct hashpath_secret *s, const char *account,
                  const char *container, const char *object,
                  char hex[MD5_HEX_LEN]);

/* Top part_power bits (0..32) of the digest's first 4 bytes, big-endian. */
uint32_t hashpath_partition(const unsigned char digest[MD5_DIGEST_LEN],
                            unsigned part_power);

#endif
