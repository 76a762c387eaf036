/*
 * rb.h - cairn-ring-builder's private model: the builder state, the
 * placement algorithm, the builder file and the parsers of the command line.
 *
 * The builder (struct rb_builder) is what a builder file holds: the
 * partition power, the (possibly fractional) replica count, min_part_hours,
 * overload, the devices indexed by id (holes where an id is free), and once
 * rebalanced the replica-to-partition-to-device table with, per partition,
 * the hours since one of its replicas last moved. The algorithm follows the
 * one OpenStack Swift's RingBuilder uses (see docs/ring-builder.md): a
 * replica plan per tier (region, zone, server = ip, device), then gathering
 * replicas that must or should move and placing each on the roomiest tier
 * that still has room under the plan.
 *
 * Invariants kept by every function here:
 *  - devs[i].present implies devs[i].id == i; ids are < dev_cap <= 65535.
 *  - when r2p2d != NULL: every slot holds a present device's id (after a
 *    rebalance), no partition holds the same device twice, and the sum of
 *    devs[].parts equals the number of slots.
 * Errors that a user must fix come back as a negative errno with a
 * one-line message in a struct err; nothing here prints.
 * Single-threaded: the tool is one short-lived process.
 */
#ifndef CAIRN_RB_H
#define CAIRN_RB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "ring/ring.h"

#define RB_NONE_DEV 0xffffu
#define RB_MAX_BALANCE 999.99

struct rb_dev {
    bool present;
    bool removing;            /* marked by `remove`, gone at next rebalance */
    uint32_t id;
    uint32_t region;
    uint32_t zone;
    char ip[64];
    uint32_t port;
    char replication_ip[64];
    uint32_t replication_port;
    char device[64];
    double weight;
    char meta[256];
    int64_t parts;            /* slots of the table that name this device */
    /* Scratch of one rebalance (not saved). */
    int64_t parts_wanted;
    uint32_t tier[4];         /* region, zone, server, device tier indices */
    uint32_t sort_rand;
};

struct rb_builder {
    char id[33];              /* hex uuid, "" until first saved */
    uint64_t version;
    uint32_t part_power;
    uint32_t parts;           /* 2^part_power */
    double replicas;
    uint32_t min_part_hours;
    double overload;
    bool devs_changed;
    double dispersion;
    int64_t last_part_moves_epoch;  /* unix seconds */
    uint32_t last_part_gather_start;

    struct rb_dev *devs;      /* dev_cap entries, indexed by id */
    uint32_t dev_cap;

    /* NULL until the first rebalance. */
    uint16_t **r2p2d;
    uint32_t rows;
    uint32_t *row_len;
    uint8_t *last_part_moves; /* parts entries, hours, saturating at 255 */
};

/* ------------------------------------------------------------ model */

/* A new empty builder; part_power 1..32, replicas >= 1. */
int rb_new(uint32_t part_power, double replicas, uint32_t min_part_hours,
           struct rb_builder **out, struct err *e);
void rb_free(struct rb_builder *b);
/* Frees what b owns (rows, devices, move times) but not b itself, leaving
 * b's fields dangling: for a caller about to overwrite *b. */
void rb_release(struct rb_builder *b);

/* The number of present devices / distinct regions / zones. */
uint32_t rb_dev_count(const struct rb_builder *b);
uint32_t rb_region_count(const struct rb_builder *b);
uint32_t rb_zone_count(const struct rb_builder *b);

/* Adds a device (id chosen as the lowest free one); returns its id >= 0 or
 * a negative errno (duplicate ip:port/device, too many devices). */
int rb_add_dev(struct rb_builder *b, const struct rb_dev *d, struct err *e);
int rb_set_weight(struct rb_builder *b, uint32_t id, double w, struct err *e);
int rb_set_region(struct rb_builder *b, uint32_t id, uint32_t r, struct err *e);
int rb_set_zone(struct rb_builder *b, uint32_t id, uint32_t z, struct err *e);
void rb_remove_dev(struct rb_builder *b, uint32_t id);
void rb_set_replicas(struct rb_builder *b, double replicas);
void rb_pretend_min_part_hours_passed(struct rb_builder *b);
int64_t rb_min_part_seconds_left(const struct rb_builder *b);

/* Balance of one device (percent over or under its weight's share, 999.99
 * for a zero-weight device holding parts) and of the ring. -ENODATA when
 * no device has weight. */
int rb_balance_per_dev(const struct rb_builder *b, double *out_by_id);
int rb_balance(const struct rb_builder *b, double *out);

/* The result of a rebalance. */
struct rb_rebalance_result {
    uint64_t changed_parts;
    double balance;
    uint32_t removed_devs;
};

/* Rebalances with a seeded generator (deterministic for one seed).
 * Returns 0 or a negative errno with e filled ("Replica count of 3.0
 * requires more than 2 devices"). */
int rb_rebalance(struct rb_builder *b, uint64_t seed,
                 struct rb_rebalance_result *res, struct err *e);

/* Swift's validate(): 0 or -EINVAL with the reason. */
int rb_validate(const struct rb_builder *b, struct err *e);

/* Recomputes b->dispersion from the table (no version change). */
void rb_update_dispersion(struct rb_builder *b);

/* Required overload (a fraction) for full dispersion. */
int rb_required_overload(const struct rb_builder *b, double *out,
                         struct err *e);

/* Dispersion report: one row per tier of the weighted tree, sorted. */
struct rb_disp_row {
    char name[200];
    uint32_t max_replicas;
    uint64_t placed_parts;
    double dispersion;
    uint64_t *replicas;       /* counts for 0..ceil(replicas) replicas */
};
struct rb_disp_report {
    struct rb_disp_row *rows;
    size_t n;
    uint32_t ncounts;
};
int rb_dispersion_report(const struct rb_builder *b,
                         struct rb_disp_report *out, struct err *e);
void rb_disp_report_release(struct rb_disp_report *r);

/* Search: fields a search value sets; unset fields match anything. */
struct rb_search {
    bool has_id, has_region, has_zone, has_ip, has_port, has_rip, has_rport;
    bool has_device, has_meta, has_weight;
    uint32_t id, region, zone, port, rport;
    char ip[64], rip[64], device[64], meta[256];
    double weight;
};
/* Fills ids (dev_cap entries) with matching ids in id order; returns n. */
size_t rb_search(const struct rb_builder *b, const struct rb_search *s,
                 uint32_t *ids);

/* The layout handed to ring_write_file(); borrowed pointers into b plus
 * allocations released by rb_layout_release(). */
void rb_layout(const struct rb_builder *b, struct ring_layout *l);
void rb_layout_release(struct ring_layout *l);

/* ------------------------------------------------------------ file */

/* Loads a builder file. -ENOENT when missing, -EINVAL when corrupt,
 * with e filled. */
int rb_load(const char *path, struct rb_builder **out, struct err *e);
/* The file's bytes (assigning an id first if there is none); caller frees. */
char *rb_serialize(struct rb_builder *b, size_t *len);
/* Writes the builder file atomically and durably. */
int rb_save(struct rb_builder *b, const char *path, struct err *e);

/* ------------------------------------------------------------ parsing */

/* "[r<region>]z<zone>-<ip>:<port>[R<rip>:<rport>]/<device>[_<meta>]".
 * has_region tells whether r<region> was given. */
int rb_parse_add_value(const char *s, struct rb_dev *d, bool *has_region,
                       struct err *e);
/* "d<id>r<region>z<zone>-<ip>:<port>R<rip>:<rport>/<device>_<meta>". */
int rb_parse_search_value(const char *s, struct rb_search *out,
                          struct err *e);
/* Normalizes an IPv4/IPv6 address (IPv6 to inet_ntop's canonical form). */
int rb_normalize_ip(const char *in, char *out, size_t outsz);
/* Copies the ip text at *s (digits and dots, or what is inside [ipv6]) into
 * buf (NUL-terminated, cut at bufsz - 1) and moves *s past it; returns its
 * length. *s does not move when no ip starts there ("[]" moves it, length
 * 0). Does not check the text: see rb_normalize_ip. */
size_t rb_scan_ip(const char **s, char *buf, size_t bufsz);
/* Same, but a host name (RFC 1123 labels) is also accepted, lower-cased. */
int rb_normalize_address(const char *in, char *out, size_t outsz);

/* Python's repr() of a float ("100.0", "0.1", "1e+16"). */
void rb_py_float(double v, char *out, size_t outsz);
/* Python's str(timedelta(seconds=s)) ("0:59:59", "1 day, 0:00:00"). */
void rb_timedelta(int64_t s, char *out, size_t outsz);
/* d<id>r<r>z<z>-<ip>:<port>R<rip>:<rport>/<dev>_"<meta>" (IPv6 bracketed). */
void rb_format_dev(const struct rb_dev *d, char *out, size_t outsz);

#endif
