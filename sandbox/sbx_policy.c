/*
 * sbx_policy.c - the sandbox policy: class defaults, validation, JSON form.
 *
 * The JSON form is what travels on the launcher socket, so parsing is strict:
 * unknown keys and out-of-range numbers are errors, never silently ignored.
 * Pure data; thread-safe.
 */
#include "sandbox/sbx.h"

#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "common/bug.h"
#include "common/xalloc.h"

#define MiB (1024ull * 1024ull)

void sbx_policy_init(struct sbx_policy *p, enum sbx_class class, uint32_t tenant)
{
    memset(p, 0, sizeof(*p));
    p->class = class;
    p->tenant = tenant;
    p->uid_base = SBX_UID_BASE_DEFAULT;
    p->inside_id = SBX_INSIDE_ID;
    if (class == SBX_CLASS_ADMIN) {
        p->cpu_seconds = 300;
        p->as_bytes = 8192 * MiB;
        p->fsize_bytes = 1024 * MiB;
        p->nofile = 1024;
        p->nproc = 1024;
        p->mem_bytes = 2048 * MiB;
        p->pids_max = 512;
        p->cpu_pct = 200;
        p->cpu_weight = 100;
        p->scratch_bytes = 1024 * MiB;
        p->scratch_inodes = 65536;
        p->wall_ms = 600000;
        p->idle_ms = 120000;
        p->output_max = 64ull * 1024 * MiB;
    } else {
        p->cpu_seconds = 30;
        p->as_bytes = 1024 * MiB;
        p->fsize_bytes = 64 * MiB;
        p->nofile = 64;
        p->nproc = 64;
        p->mem_bytes = 256 * MiB;
        p->pids_max = 64;
        p->cpu_pct = 50;
        p->cpu_weight = 100;
        p->scratch_bytes = 64 * MiB;
        p->scratch_inodes = 4096;
        p->wall_ms = 30000;
        p->idle_ms = 10000;
        p->output_max = 1024 * MiB;
    }
}

const char *sbx_class_name(enum sbx_class class)
{
    return class == SBX_CLASS_ADMIN ? "admin" : "user";
}

int sbx_policy_check(const struct sbx_policy *p, struct err *e)
{
    if (p->class != SBX_CLASS_USER && p->class != SBX_CLASS_ADMIN)
        return err_set(e, -EINVAL, "policy: unknown class %d", (int)p->class);
    if (p->tenant >= SBX_TENANT_MAX)
        return err_set(e, -EINVAL, "policy: tenant %u out of range (max %u)",
                       p->tenant, SBX_TENANT_MAX - 1);
    if (p->uid_base < 65536)
        return err_set(e, -EINVAL,
                       "policy: uid_base %u overlaps ordinary host ids (< 65536)",
                       p->uid_base);
    if ((uint64_t)p->uid_base + SBX_TENANT_MAX > UINT32_MAX - 1)
        return err_set(e, -EINVAL, "policy: uid_base %u leaves no room for %u tenants",
                       p->uid_base, SBX_TENANT_MAX);
    if (p->inside_id == 0 || p->inside_id >= 65534)
        return err_set(e, -EINVAL,
                       "policy: inside_id %u must be a non-root, mapped id",
                       p->inside_id);
    if (p->weaken & ~(uint32_t)SBX_WEAKEN_ALL_MASK)
        return err_set(e, -EINVAL, "policy: unknown weaken bits 0x%x", p->weaken);
    if (p->cpu_weight > 10000)
        return err_set(e, -EINVAL, "policy: cpu_weight %u not in 1..10000",
                       p->cpu_weight);
    if (p->cpu_pct > 100000)
        return err_set(e, -EINVAL, "policy: cpu_pct %u too large", p->cpu_pct);
    if (p->nofile > 0 && p->nofile < SBX_FD_MAX)
        return err_set(e, -EINVAL, "policy: nofile %llu below the %d passed fds",
                       (unsigned long long)p->nofile, SBX_FD_MAX);
    return 0;
}

uint32_t sbx_policy_host_id(const struct sbx_policy *p)
{
    if (p->weaken & SBX_WEAKEN_IDENTITY)
        return p->uid_base;
    return p->uid_base + p->tenant;
}

/* The numeric fields, table-driven so to/from JSON cannot drift apart. */
enum fkind { F_U32, F_U64 };
static const struct field {
    const char *name;
    enum fkind kind;
    size_t off;
} fields[] = {
    { "tenant", F_U32, offsetof(struct sbx_policy, tenant) },
    { "uid_base", F_U32, offsetof(struct sbx_policy, uid_base) },
    { "inside_id", F_U32, offsetof(struct sbx_policy, inside_id) },
    { "cpu_seconds", F_U64, offsetof(struct sbx_policy, cpu_seconds) },
    { "as_bytes", F_U64, offsetof(struct sbx_policy, as_bytes) },
    { "fsize_bytes", F_U64, offsetof(struct sbx_policy, fsize_bytes) },
    { "nofile", F_U64, offsetof(struct sbx_policy, nofile) },
    { "nproc", F_U64, offsetof(struct sbx_policy, nproc) },
    { "mem_bytes", F_U64, offsetof(struct sbx_policy, mem_bytes) },
    { "pids_max", F_U64, offsetof(struct sbx_policy, pids_max) },
    { "cpu_pct", F_U32, offsetof(struct sbx_policy, cpu_pct) },
    { "cpu_weight", F_U32, offsetof(struct sbx_policy, cpu_weight) },
    { "scratch_bytes", F_U64, offsetof(struct sbx_policy, scratch_bytes) },
    { "scratch_inodes", F_U64, offsetof(struct sbx_policy, scratch_inodes) },
    { "wall_ms", F_U64, offsetof(struct sbx_policy, wall_ms) },
    { "idle_ms", F_U64, offsetof(struct sbx_policy, idle_ms) },
    { "output_max", F_U64, offsetof(struct sbx_policy, output_max) },
    { "weaken", F_U32, offsetof(struct sbx_policy, weaken) },
};

char *sbx_policy_to_json(const struct sbx_policy *p)
{
    json_t *o = json_object();
    json_object_set_new(o, "class", json_string(sbx_class_name(p->class)));
    for (size_t i = 0; i < ARRAY_SIZE(fields); i++) {
        const char *base = (const char *)p + fields[i].off;
        uint64_t v;
        if (fields[i].kind == F_U32) {
            uint32_t v32;
            memcpy(&v32, base, sizeof(v32));
            v = v32;
        } else {
            memcpy(&v, base, sizeof(v));
        }
        /* json_int_t is signed 64-bit; policy values above 2^63 make no sense */
        json_object_set_new(o, fields[i].name,
                            json_integer(v > INT64_MAX ? INT64_MAX : (json_int_t)v));
    }
    char *s = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(o);
    BUG_ON(s == NULL);
    char *out = xstrdup(s);
    free(s);
    return out;
}

static int policy_from_obj(json_t *o, struct sbx_policy *p, struct err *e)
{
    if (!json_is_object(o))
        return err_set(e, -EINVAL, "policy: not a JSON object");
    enum sbx_class class = SBX_CLASS_USER;
    json_t *c = json_object_get(o, "class");
    if (c) {
        const char *cs = json_string_value(c);
        if (cs && strcmp(cs, "user") == 0)
            class = SBX_CLASS_USER;
        else if (cs && strcmp(cs, "admin") == 0)
            class = SBX_CLASS_ADMIN;
        else
            return err_set(e, -EINVAL, "policy: class must be \"user\" or \"admin\"");
    }
    sbx_policy_init(p, class, 0);
    const char *key;
    json_t *val;
    json_object_foreach(o, key, val) {
        if (strcmp(key, "class") == 0)
            continue;
        size_t i;
        for (i = 0; i < ARRAY_SIZE(fields); i++)
            if (strcmp(fields[i].name, key) == 0)
                break;
        if (i == ARRAY_SIZE(fields))
            return err_set(e, -EINVAL, "policy: unknown key \"%s\"", key);
        if (!json_is_integer(val) || json_integer_value(val) < 0)
            return err_set(e, -EINVAL, "policy: \"%s\" must be a non-negative integer",
                           key);
        uint64_t v = (uint64_t)json_integer_value(val);
        char *base = (char *)p + fields[i].off;
        if (fields[i].kind == F_U32) {
            if (v > UINT32_MAX)
                return err_set(e, -EINVAL, "policy: \"%s\" out of range", key);
            uint32_t v32 = (uint32_t)v;
            memcpy(base, &v32, sizeof(v32));
        } else {
            memcpy(base, &v, sizeof(v));
        }
    }
    return sbx_policy_check(p, e);
}

int sbx_policy_from_json(const char *json, struct sbx_policy *p, struct err *e)
{
    json_error_t je;
    json_t *o = json_loads(json, JSON_REJECT_DUPLICATES, &je);
    if (!o)
        return err_set(e, -EINVAL, "policy: bad JSON at %d:%d: %s", je.line,
                       je.column, je.text);
    int rc = policy_from_obj(o, p, e);
    json_decref(o);
    return rc;
}

static const char *const end_names[] = {
    [SBX_END_EXIT] = "exit",
    [SBX_END_SIGNAL] = "signal",
    [SBX_END_SECCOMP] = "seccomp",
    [SBX_END_TIMEOUT] = "timeout",
    [SBX_END_IDLE] = "idle",
    [SBX_END_OUTPUT_CAP] = "output_cap",
    [SBX_END_OOM] = "oom",
    [SBX_END_CPU_LIMIT] = "cpu_limit",
    [SBX_END_ERROR] = "error",
};

const char *sbx_end_name(enum sbx_end end)
{
    if ((size_t)end < ARRAY_SIZE(end_names) && end_names[end])
        return end_names[end];
    return "unknown";
}

int sbx_end_parse(const char *name)
{
    for (size_t i = 0; i < ARRAY_SIZE(end_names); i++)
        if (end_names[i] && strcmp(end_names[i], name) == 0)
            return (int)i;
    return -1;
}
