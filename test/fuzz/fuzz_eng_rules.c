/*
 * fuzz_eng_rules.c - libFuzzer target for the storlet rule document
 * (engine/eng_rules.h) and the Distributed request (engine/eng_dist.h),
 * the two JSON documents a client sends to the engine. The first byte
 * picks the parser. A rule document that parses is serialized, parsed
 * again (the canonical form must be accepted and stable) and evaluated
 * for a few callers, so crashes, leaks and undefined behaviour in
 * matching and composition show up too.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/bug.h"
#include "engine/eng_dist.h"
#include "engine/eng_rules.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void evaluate(const struct eng_rules *r)
{
    static const char *const groups[] = {"hosp", "hosp:rita", "researcher", "AUTH_hosp"};
    json_t *meta = json_pack("{s:s}", "Sensitivity", "phi");
    struct eng_rules_sets sets = {r, r};
    for (int m = ENG_RULES_GET; m <= ENG_RULES_OTHER; m++) {
        struct eng_rules_facts f = {(enum eng_rules_method)m, "AUTH_hosp", "hosp:rita", groups,
                                    (size_t)(m % 5), "records/p1.csv", "text/csv", m % 2 ? meta
                                                                                         : NULL};
        struct eng_rules_decision d;
        struct err e;
        if (eng_rules_eval(&f, &sets, &f, &sets, NULL, &d, &e) == 0) {
            BUG_ON(d.chain.n > ENG_SEQ_MAX || d.n_pre + d.n_post > d.chain.n);
            eng_rules_decision_release(&d);
        }
        (void)eng_rules_subject(&f, &sets, ENG_RULES_READ);
    }
    json_decref(meta);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    struct err e;
    const char *text = (const char *)data + 1;
    if (data[0] & 1) {
        eng_dist_free(eng_dist_parse(text, size - 1, &e));
        return 0;
    }
    struct eng_rules *r = eng_rules_parse(text, size - 1, "fuzz", &e);
    if (!r)
        return 0;
    char *s = eng_rules_serialize(r);
    struct eng_rules *back = eng_rules_parse(s, strlen(s), "fuzz", &e);
    BUG_ON(!back);
    char *s2 = eng_rules_serialize(back);
    BUG_ON(strcmp(s, s2) != 0);
    evaluate(r);
    free(s);
    free(s2);
    eng_rules_free(back);
    eng_rules_free(r);
    return 0;
}
