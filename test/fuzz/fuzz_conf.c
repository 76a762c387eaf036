/*
 * fuzz_conf.c - libFuzzer target for common/conf: any byte string is parsed
 * as a config file, then applied to the cluster table and to a table with a
 * prefix section and free-form keys, rendered back, and released. Finds
 * crashes, leaks (ASan) and undefined behaviour in the parser and loader.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "common/cluster_conf.h"
#include "common/conf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct fz {
    struct conf_kv_list any;
    int64_t n;
    char *path;
};

static const char *const kinds[] = {"a", "b", NULL};

static const struct conf_option fz_table[] = {
    {"free", "*", CONF_KV, offsetof(struct fz, any), NULL, 0, 0, NULL, 0,
     NULL},
    {"sec:*", "n", CONF_DURATION, offsetof(struct fz, n), "1", 0, 0, NULL, 0,
     NULL},
    {"sec:*", "kind", CONF_ENUM, 0, "a", 0, 0, kinds, 0, NULL},
    {"DEFAULT", "path", CONF_PATH, offsetof(struct fz, path), "/x", 0, 0,
     NULL, 0, NULL},
    CONF_END,
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct conf_errors errs;
    conf_errors_init(&errs);
    struct conf *c = conf_parse_buf("fuzz.conf", (const char *)data, size,
                                    &errs);

    struct cluster_conf cc = {0};
    cluster_conf_apply(c, &cc, &errs);
    char *eff = conf_render_effective(cluster_conf_table, &cc);
    free(eff);
    cluster_conf_release(&cc);

    struct fz f = {0};
    conf_load(c, fz_table, &f, &errs);
    for (size_t i = 0; i < conf_section_count(c); i++) {
        const char *name = conf_section_name(c, i);
        if (name[0] == 's') {
            struct fz g = {0};
            conf_load_section(c, name, fz_table, &g, &errs);
            conf_release_section(fz_table, name, &g);
        }
        conf_get(c, name, "n", NULL);
    }
    eff = conf_render_effective(fz_table, &f);
    free(eff);
    conf_release(fz_table, &f);
    conf_free(c);
    conf_errors_release(&errs);
    return 0;
}
