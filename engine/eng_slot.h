/*
 * eng_slot.h - collision-free tenant slots: account -> sandbox identity.
 *
 * The sandbox's host uid is uid_base + slot, so two accounts must never
 * share a slot (they could read or signal each other's storlets). Slots
 * are handed out in order from 1 and recorded durably in a per-node table
 * file (one "slot account" line per account, appended and fsynced before
 * the slot is used); a slot is never given to another account, even after
 * a restart. Processes sharing the file serialise with flock; threads of
 * one process with the table's mutex.
 */
#ifndef CAIRN_ENG_SLOT_H
#define CAIRN_ENG_SLOT_H

#include <stdint.h>

#include "common/err.h"

struct eng_slots;

/* Opens (creating when absent) the table at path; slots are 1..max-1.
 * Returns the table (free with eng_slots_free) or NULL with e set when the
 * file cannot be created or is malformed (e names file:line). */
struct eng_slots *eng_slots_open(const char *path, uint32_t max, struct err *e);

/* The slot of account in *slot, allocating and recording one if the account
 * has none. Returns 0, -ENOSPC when every slot is taken (the caller answers
 * 503), or another -errno on I/O failure (e says why). Thread-safe. */
int eng_slots_get(struct eng_slots *t, const char *account, uint32_t *slot, struct err *e);

/* NULL is a no-op. */
void eng_slots_free(struct eng_slots *t);

#endif
