/*
 * fuzz_ring.c - libFuzzer target for the ring file reader (ring/ring_file.c).
 *
 * Each input is loaded twice with ring_load_mem(): as it is, which mostly
 * exercises the header and checksum checks, and "resealed", with the
 * header's file length set to the input's size and a fresh SHA-256 in the
 * last 32 bytes, so that mutations reach the row, device and assignment
 * validation behind the checksum. A ring that loads is then used the way a
 * server would (primaries, every handoff of a few partitions, devices by
 * id), so a validation gap shows up as an ASan/UBSan report there.
 */
#include <openssl/evp.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/bug.h"
#include "ring/ring.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct ring_handoff_iter it; /* 32 KiB: not on the fuzzer's stack */

static void exercise(const struct ring *r)
{
    uint32_t parts = ring_partition_count(r);
    const struct ring_dev *out[RING_MAX_REPLICA_ROWS];
    uint32_t probe[] = { 0, 1, parts / 2, parts - 1, parts };
    for (size_t i = 0; i < ARRAY_SIZE(probe); i++) {
        size_t n = ring_primaries(r, probe[i], out, RING_MAX_REPLICA_ROWS);
        for (size_t k = 0; k < n; k++)
            BUG_ON(ring_dev_by_id(r, out[k]->id) != out[k]);
        ring_handoffs_begin(r, probe[i], &it);
        uint32_t count = 0;
        const struct ring_dev *d;
        while ((d = ring_handoff_next(&it)) != NULL) {
            BUG_ON(ring_dev_by_id(r, d->id) != d);
            BUG_ON(++count > ring_dev_id_limit(r));
        }
    }
    for (uint32_t id = 0; id <= ring_dev_id_limit(r); id++)
        (void)ring_dev_by_id(r, id);
    for (uint32_t row = 0; row <= ring_replica_count(r); row++)
        (void)ring_assignment(r, row, parts - 1);
    (void)ring_replicas(r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct err e;
    struct ring *r = ring_load_mem(data, size, "fuzz", &e);
    if (r) {
        exercise(r);
        ring_free(r);
    }
    if (size < 64 + 32)
        return 0;
    unsigned char *b = malloc(size);
    if (!b)
        return 0;
    memcpy(b, data, size);
    uint64_t len = size;
    for (int i = 0; i < 8; i++)
        b[40 + i] = (unsigned char)(len >> (8 * i));
    unsigned int outlen;
    EVP_Digest(b, size - 32, b + size - 32, &outlen, EVP_sha256(), NULL);
    r = ring_load_mem(b, size, "fuzz", &e);
    if (r) {
        exercise(r);
        ring_free(r);
    }
    free(b);
    return 0;
}
