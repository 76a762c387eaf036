/*
 * check_eng_rules.c - unit tests for storlet rules (engine/eng_rules.h):
 * the document's checks (a table of bad documents, each with the reason it
 * must give), the canonical form and its round trip, matching on every
 * criterion, the precedence of explicit requests, plain and mandatory rules
 * (read side first, write side last, container nearest the data), the
 * researcher de-identification example of issue 7 on every method, the
 * fail-closed subject test for listings, and who may manage rules.
 */
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "engine/eng_rules.h"
#include "engine/eng_seq.h"

static struct eng_rules *parse_ok(const char *doc)
{
    struct err e;
    struct eng_rules *r = eng_rules_parse(doc, strlen(doc), "X-Storlet-Rules", &e);
    ck_assert_msg(r != NULL, "parse failed: %s", e.msg);
    return r;
}

/* ------------------------------------------------------------ documents */

static const struct {
    const char *doc;
    const char *reason;
} bad_docs[] = {
    {"", "X-Storlet-Rules: not JSON"},
    {"[]", "expected an object {\"rules\": [...]}"},
    {"{}", "rules: expected a list"},
    {"{\"rules\": [], \"extra\": 1}", "unknown key \"extra\""},
    {"{\"version\": 2, \"rules\": []}", "version: only 1 is known"},
    {"{\"rules\": [], \"rules\": []}", "not JSON"},   /* duplicate key */
    {"{\"rules\": [5]}", "rule 1: expected an object"},
    {"{\"rules\": [{\"action\": {\"storlet\": \"a\"}, \"mandatroy\": true}]}",
     "rule 1: unknown key \"mandatroy\""},
    {"{\"rules\": [{\"id\": \"x y\", \"action\": {\"storlet\": \"a\"}}]}",
     "rule 1: id: 1-64 bytes"},
    {"{\"rules\": [{\"id\": \"d\", \"mandatory\": \"yes\", \"action\": {\"storlet\": \"a\"}}]}",
     "rule 1 (d): mandatory: expected true or false"},
    {"{\"rules\": [{\"id\": \"d\"}]}", "rule 1 (d): action: missing"},
    {"{\"rules\": [{\"action\": {\"storlet\": \"a/b\"}}]}", "rule 1: action: stage 1: storlet name"},
    {"{\"rules\": [{\"action\": [{\"storlet\": \"a\"}, {\"storlet\": \"b\"}, {\"storlet\": \"c\"},"
     " {\"storlet\": \"d\"}, {\"storlet\": \"e\"}]}]}", "action: more than 4 stages"},
    {"{\"rules\": [{\"action\": {\"storlet\": \"a\", \"parameters\": {\"k\": 3}}}]}",
     "parameter 'k' is not a string"},
    {"{\"rules\": [{\"match\": {\"group\": [\"r\"]}, \"action\": {\"storlet\": \"a\"}}]}",
     "rule 1: match: unknown key \"group\""},
    {"{\"rules\": [{\"match\": [], \"action\": {\"storlet\": \"a\"}}]}",
     "match: expected an object"},
    {"{\"rules\": [{\"match\": {\"groups\": []}, \"action\": {\"storlet\": \"a\"}}]}",
     "match.groups: expected a non-empty list of strings"},
    {"{\"rules\": [{\"match\": {\"groups\": \"researcher\"}, \"action\": {\"storlet\": \"a\"}}]}",
     "match.groups: expected a non-empty list of strings"},
    {"{\"rules\": [{\"match\": {\"groups\": [\"\"]}, \"action\": {\"storlet\": \"a\"}}]}",
     "match.groups[0]: expected a string of 1-256 bytes"},
    {"{\"rules\": [{\"match\": {\"users\": [\"alice\"]}, \"action\": {\"storlet\": \"a\"}}]}",
     "match.users[0]: 'alice' is not account:user"},
    {"{\"rules\": [{\"match\": {\"content_types\": [\"csv\"]}, \"action\": {\"storlet\": \"a\"}}]}",
     "match.content_types[0]: 'csv' is not type/subtype or type/*"},
    {"{\"rules\": [{\"match\": {\"content_types\": [\"text/csv; charset=x\"]},"
     " \"action\": {\"storlet\": \"a\"}}]}", "is not type/subtype"},
    {"{\"rules\": [{\"match\": {\"methods\": [\"HEAD\"]}, \"action\": {\"storlet\": \"a\"}}]}",
     "no storlet runs on HEAD"},
    {"{\"rules\": [{\"match\": {\"methods\": [\"POST\"]}, \"action\": {\"storlet\": \"a\"}}]}",
     "match.methods[0]: 'POST': expected GET, PUT or COPY"},
    {"{\"rules\": [{\"match\": {\"methods\": []}, \"action\": {\"storlet\": \"a\"}}]}",
     "match.methods: expected a non-empty list"},
    {"{\"rules\": [{\"mandatory\": true, \"match\": {\"methods\": [\"COPY\"]},"
     " \"action\": {\"storlet\": \"a\"}}]}", "a mandatory rule covers COPY through GET"},
    {"{\"rules\": [{\"match\": {\"metadata\": {}}, \"action\": {\"storlet\": \"a\"}}]}",
     "match.metadata: expected a non-empty object"},
    {"{\"rules\": [{\"match\": {\"metadata\": {\"X Y\": true}}, \"action\": {\"storlet\": \"a\"}}]}",
     "match.metadata: key 'X Y'"},
    {"{\"rules\": [{\"match\": {\"metadata\": {\"K\": 1}}, \"action\": {\"storlet\": \"a\"}}]}",
     "match.metadata.K: expected a string"},
    {"{\"rules\": [{\"match\": {\"prefix\": \"\"}}, \"action\": {\"storlet\": \"a\"}}]}",
     "not JSON"},
    {"{\"rules\": [{\"match\": {\"prefix\": \"\"}, \"action\": {\"storlet\": \"a\"}}]}",
     "match.prefix: expected a string of 1-1024 bytes"},
    {"{\"rules\": [{\"id\": \"a\", \"action\": {\"storlet\": \"x\"}},"
     " {\"id\": \"a\", \"action\": {\"storlet\": \"y\"}}]}", "rule 2: id 'a' is also rule 1's"},
    {"{\"rules\": [{\"action\": {\"storlet\": \"x\"}},"
     " {\"id\": \"rule1\", \"action\": {\"storlet\": \"y\"}}]}", "id 'rule1' is also rule 1's"},
};

START_TEST(document_errors)
{
    struct err e;
    err_clear(&e);
    struct eng_rules *r =
        eng_rules_parse(bad_docs[_i].doc, strlen(bad_docs[_i].doc), "X-Storlet-Rules", &e);
    ck_assert_msg(r == NULL, "case %d parsed", _i);
    ck_assert_int_eq(e.code, -EINVAL);
    ck_assert_msg(strstr(e.msg, bad_docs[_i].reason), "case %d: '%s' lacks '%s'", _i, e.msg,
                  bad_docs[_i].reason);
}
END_TEST

START_TEST(document_limits)
{
    struct err e;
    /* 33 rules */
    char doc[ENG_RULES_DOC_MAX + 64];
    size_t n = (size_t)snprintf(doc, sizeof(doc), "{\"rules\": [");
    for (int i = 0; i < 33; i++)
        n += (size_t)snprintf(doc + n, sizeof(doc) - n, "%s{\"action\": {\"storlet\": \"s\"}}",
                              i ? "," : "");
    n += (size_t)snprintf(doc + n, sizeof(doc) - n, "]}");
    ck_assert_ptr_null(eng_rules_parse(doc, n, "r", &e));
    ck_assert_str_eq(e.msg, "r: rules: more than 32 rules");
    /* short enough as given, too long once defaults are filled in */
    n = (size_t)snprintf(doc, sizeof(doc), "{\"rules\": [");
    for (int i = 0; i < 32; i++)
        n += (size_t)snprintf(doc + n, sizeof(doc) - n,
                              "%s{\"action\": {\"storlet\": \"s%0200d\"}}", i ? "," : "", i);
    n += (size_t)snprintf(doc + n, sizeof(doc) - n, "]}");
    ck_assert_uint_le(n, ENG_RULES_DOC_MAX);
    ck_assert_ptr_null(eng_rules_parse(doc, n, "r", &e));
    ck_assert_msg(strstr(e.msg, "r: the stored form would be "), "%s", e.msg);
    /* longer than a header line can carry */
    memset(doc, ' ', sizeof(doc));
    memcpy(doc, "{\"rules\": []}", 13);
    ck_assert_ptr_null(eng_rules_parse(doc, ENG_RULES_DOC_MAX + 1, "r", &e));
    ck_assert_str_eq(e.msg, "r: the document is 8001 bytes, at most 8000");
    struct eng_rules *r = eng_rules_parse(doc, ENG_RULES_DOC_MAX, "r", &e);
    ck_assert_ptr_nonnull(r);
    ck_assert_uint_eq(eng_rules_count(r), 0);
    eng_rules_free(r);
}
END_TEST

START_TEST(canonical_form)
{
    struct eng_rules *r = parse_ok(
        "{\"rules\": [{\"match\": {\"groups\": [\"researcher\"]},"
        " \"action\": {\"storlet\": \"deid.py\", \"parameters\": {\"fields\": \"name\"}},"
        " \"mandatory\": true},"
        " {\"id\": \"thumbs\", \"match\": {\"methods\": [\"get\", \"COPY\"],"
        " \"content_types\": [\"image/*\"]},"
        " \"action\": [{\"storlet\": \"image-roi\"}]}]}");
    ck_assert_uint_eq(eng_rules_count(r), 2);
    ck_assert(eng_rules_has_mandatory(r));
    char *s = eng_rules_serialize(r);
    ck_assert_str_eq(s,
                     "{\"rules\":[{\"action\":[{\"parameters\":{\"fields\":\"name\"},"
                     "\"storlet\":\"deid.py\"}],\"id\":\"rule1\",\"mandatory\":true,"
                     "\"match\":{\"groups\":[\"researcher\"],\"methods\":[\"GET\"]}},"
                     "{\"action\":[{\"parameters\":{},\"storlet\":\"image-roi\"}],"
                     "\"id\":\"thumbs\",\"mandatory\":false,\"match\":{\"content_types\":"
                     "[\"image/*\"],\"methods\":[\"GET\",\"COPY\"]}}],\"version\":1}");
    struct eng_rules *back = parse_ok(s);
    char *s2 = eng_rules_serialize(back);
    ck_assert_str_eq(s, s2);
    free(s);
    free(s2);
    eng_rules_free(back);
    eng_rules_free(r);
    eng_rules_free(NULL);
    ck_assert_uint_eq(eng_rules_count(NULL), 0);
    ck_assert(!eng_rules_has_mandatory(NULL));
}
END_TEST

/* ------------------------------------------------------------ matching */

static const char *const researcher_groups[] = {"hosp", "hosp:rita", "researcher"};
static const char *const owner_groups[] = {"hosp", "hosp:olga", "AUTH_hosp"};
static const char *const lab_groups[] = {"lab", "lab:lee", "analyst"};

static struct eng_rules_facts facts(enum eng_rules_method m, const char *acct, const char *user,
                                    const char *const *groups, size_t ng, const char *obj,
                                    const char *ct, json_t *meta)
{
    struct eng_rules_facts f = {m, acct, user, groups, ng, obj, ct, meta};
    return f;
}

#define RITA(m, obj, ct, meta) facts(m, "AUTH_hosp", "hosp:rita", researcher_groups, 3, obj, ct, meta)
#define OLGA(m, obj, ct, meta) facts(m, "AUTH_hosp", "hosp:olga", owner_groups, 3, obj, ct, meta)
#define LEE(m, obj, ct, meta) facts(m, "AUTH_lab", "lab:lee", lab_groups, 3, obj, ct, meta)

/* Runs f against one rule whose match object is `match`; returns whether
 * the rule's storlet runs. */
static bool matches(const char *match, struct eng_rules_facts f)
{
    char doc[2048];
    snprintf(doc, sizeof(doc),
             "{\"rules\": [{\"match\": %s, \"action\": {\"storlet\": \"s\"}}]}", match);
    struct eng_rules *r = parse_ok(doc);
    struct eng_rules_sets sets = {r, NULL};
    struct eng_rules_decision d;
    struct err e;
    ck_assert_int_eq(eng_rules_eval(&f, &sets, NULL, NULL, NULL, &d, &e), 0);
    bool ran = d.chain.n == 1;
    ck_assert(d.main == (ran ? ENG_RULES_MAIN_PLAIN : ENG_RULES_MAIN_NONE));
    eng_rules_decision_release(&d);
    eng_rules_free(r);
    return ran;
}

START_TEST(matching_criteria)
{
    json_t *meta = json_pack("{s:s, s:s}", "Sensitivity", "phi", "Patient", "p1");
    json_t *none = json_object();
    const enum eng_rules_method G = ENG_RULES_GET;
    /* methods: GET is the default */
    ck_assert(matches("{}", RITA(G, "o", "text/csv", meta)));
    ck_assert(!matches("{}", RITA(ENG_RULES_PUT, "o", "text/csv", meta)));
    ck_assert(matches("{\"methods\": [\"PUT\"]}", RITA(ENG_RULES_PUT, "o", "text/csv", meta)));
    ck_assert(!matches("{\"methods\": [\"PUT\"]}", RITA(G, "o", "text/csv", meta)));
    ck_assert(matches("{\"methods\": [\"COPY\"]}", RITA(ENG_RULES_COPY, "o", "text/csv", meta)));
    ck_assert(!matches("{}", RITA(ENG_RULES_COPY, "o", "text/csv", meta)));
    ck_assert(!matches("{}", RITA(ENG_RULES_HEAD, "o", "text/csv", meta)));
    ck_assert(!matches("{}", RITA(ENG_RULES_OTHER, "o", "text/csv", meta)));
    /* users, groups, tenants and their exceptions */
    ck_assert(matches("{\"users\": [\"hosp:rita\"]}", RITA(G, "o", NULL, NULL)));
    ck_assert(!matches("{\"users\": [\"hosp:rita\"]}", OLGA(G, "o", NULL, NULL)));
    ck_assert(matches("{\"groups\": [\"x\", \"researcher\"]}", RITA(G, "o", NULL, NULL)));
    ck_assert(!matches("{\"groups\": [\"researcher\"]}", OLGA(G, "o", NULL, NULL)));
    ck_assert(!matches("{\"except_groups\": [\"AUTH_hosp\"]}", OLGA(G, "o", NULL, NULL)));
    ck_assert(matches("{\"except_groups\": [\"AUTH_hosp\"]}", RITA(G, "o", NULL, NULL)));
    ck_assert(!matches("{\"except_users\": [\"hosp:rita\"]}", RITA(G, "o", NULL, NULL)));
    ck_assert(matches("{\"tenants\": [\"AUTH_lab\"]}", LEE(G, "o", NULL, NULL)));
    ck_assert(!matches("{\"tenants\": [\"AUTH_lab\"]}", RITA(G, "o", NULL, NULL)));
    /* an anonymous caller has no user, account or groups */
    struct eng_rules_facts anon = facts(G, NULL, NULL, NULL, 0, "o", "text/csv", meta);
    ck_assert(!matches("{\"users\": [\"hosp:rita\"]}", anon));
    ck_assert(!matches("{\"tenants\": [\"AUTH_hosp\"]}", anon));
    ck_assert(matches("{\"except_groups\": [\"AUTH_hosp\"]}", anon));
    /* content type: exact or a whole type, any case, parameters ignored */
    ck_assert(matches("{\"content_types\": [\"text/csv\"]}",
                      RITA(G, "o", " Text/CSV ; charset=utf-8", NULL)));
    ck_assert(!matches("{\"content_types\": [\"text/csv\"]}", RITA(G, "o", "text/csvx", NULL)));
    ck_assert(matches("{\"content_types\": [\"image/*\"]}", RITA(G, "o", "image/png", NULL)));
    ck_assert(!matches("{\"content_types\": [\"image/*\"]}", RITA(G, "o", "image/", NULL)));
    ck_assert(!matches("{\"content_types\": [\"image/*\"]}", RITA(G, "o", "imagex/png", NULL)));
    /* metadata: equals (value exact, key any case), present, absent */
    ck_assert(matches("{\"metadata\": {\"sensitivity\": \"phi\"}}", RITA(G, "o", NULL, meta)));
    ck_assert(!matches("{\"metadata\": {\"Sensitivity\": \"PHI\"}}", RITA(G, "o", NULL, meta)));
    ck_assert(matches("{\"metadata\": {\"Patient\": true, \"Deidentified\": false}}",
                      RITA(G, "o", NULL, meta)));
    ck_assert(!matches("{\"metadata\": {\"Patient\": false}}", RITA(G, "o", NULL, meta)));
    ck_assert(!matches("{\"metadata\": {\"Patient\": true}}", RITA(G, "o", NULL, none)));
    /* prefix of the object name */
    ck_assert(matches("{\"prefix\": \"records/\"}", RITA(G, "records/p1.csv", NULL, NULL)));
    ck_assert(!matches("{\"prefix\": \"records/\"}", RITA(G, "scans/p1.pgm", NULL, NULL)));
    /* every criterion must hold */
    ck_assert(!matches("{\"groups\": [\"researcher\"], \"prefix\": \"records/\"}",
                       RITA(G, "scans/p1.pgm", NULL, NULL)));
    /* a plain rule never matches on facts that are not known */
    ck_assert(!matches("{\"content_types\": [\"text/csv\"]}", RITA(G, "o", NULL, NULL)));
    ck_assert(!matches("{\"metadata\": {\"Patient\": false}}", RITA(G, "o", NULL, NULL)));
    ck_assert(!matches("{\"prefix\": \"r\"}", RITA(G, NULL, NULL, NULL)));
    json_decref(meta);
    json_decref(none);
}
END_TEST

/* ------------------------------------------------------------ decisions */

/* The chain as "a(k=v),b" for compact comparisons. */
static void chain_str(const struct eng_seq *s, char *buf, size_t n)
{
    size_t used = 0;
    buf[0] = '\0';
    for (unsigned i = 0; i < s->n; i++) {
        used += (size_t)snprintf(buf + used, n - used, "%s%s", i ? "," : "", s->st[i].storlet);
        const char *k;
        json_t *v;
        bool first = true;
        json_object_foreach(s->st[i].params, k, v) {
            used += (size_t)snprintf(buf + used, n - used, "%s%s=%s", first ? "(" : " ", k,
                                     json_string_value(v));
            first = false;
        }
        if (!first)
            used += (size_t)snprintf(buf + used, n - used, ")");
    }
}

/* The hospital of issue 7: researchers always get de-identified records;
 * a plain rule gives everyone CSV records as-is but runs a converter on
 * .json ones; the account adds a watermark on every upload and audits
 * every read by someone from another tenant. */
static const char *hosp_container =
    "{\"rules\": ["
    " {\"id\": \"deid-researchers\", \"mandatory\": true,"
    "  \"match\": {\"groups\": [\"researcher\"], \"methods\": [\"GET\", \"PUT\"]},"
    "  \"action\": {\"storlet\": \"deid.py\", \"parameters\": {\"fields\": \"name,ssn\"}}},"
    " {\"id\": \"json-lines\", \"match\": {\"content_types\": [\"application/json\"]},"
    "  \"action\": {\"storlet\": \"tojsonl.py\"}},"
    " {\"id\": \"stamp\", \"match\": {\"methods\": [\"PUT\"]},"
    "  \"action\": {\"storlet\": \"stamp\"}}"
    "]}";
static const char *hosp_account =
    "{\"rules\": ["
    " {\"id\": \"audit-foreign\", \"mandatory\": true,"
    "  \"match\": {\"except_groups\": [\"AUTH_hosp\", \"researcher\"]},"
    "  \"action\": {\"storlet\": \"audit\"}},"
    " {\"id\": \"watermark\", \"mandatory\": true, \"match\": {\"methods\": [\"PUT\"]},"
    "  \"action\": {\"storlet\": \"watermark\"}},"
    " {\"id\": \"any-json\", \"match\": {\"content_types\": [\"application/*\"]},"
    "  \"action\": {\"storlet\": \"pretty\"}},"
    " {\"id\": \"deid-again\", \"mandatory\": true, \"match\": {\"groups\": [\"researcher\"]},"
    "  \"action\": {\"storlet\": \"deid.py\", \"parameters\": {\"fields\": \"name,ssn\"}}}"
    "]}";

static const struct {
    const char *who;            /* rita, olga, lee */
    enum eng_rules_method m;
    const char *ct;
    const char *explicit_chain; /* X-Run-Storlet value or NULL */
    const char *chain;          /* expected, as chain_str writes it */
    unsigned n_pre, n_post;
    bool mandatory;
    enum eng_rules_main main;
    const char *applied;
} decisions[] = {
    /* the owner: nothing mandatory; a plain rule when nothing is asked */
    {"olga", ENG_RULES_GET, "text/csv", NULL, "", 0, 0, false, ENG_RULES_MAIN_NONE, ""},
    {"olga", ENG_RULES_GET, "application/json", NULL, "tojsonl.py", 0, 0, false,
     ENG_RULES_MAIN_PLAIN, "json-lines"},
    /* container plain rules before account plain rules */
    {"olga", ENG_RULES_GET, "application/xml", NULL, "pretty", 0, 0, false,
     ENG_RULES_MAIN_PLAIN, "any-json"},
    /* an explicit request beats a plain rule */
    {"olga", ENG_RULES_GET, "application/json", "grep", "grep", 0, 0, false,
     ENG_RULES_MAIN_EXPLICIT, ""},
    /* the researcher: de-identified whatever she asks for, deid first;
     * the account's identical deid is not run twice */
    {"rita", ENG_RULES_GET, "text/csv", NULL, "deid.py(fields=name,ssn)", 1, 0, true,
     ENG_RULES_MAIN_NONE, "deid-researchers"},
    {"rita", ENG_RULES_GET, "text/csv", "grep,wordcount.py",
     "deid.py(fields=name,ssn),grep,wordcount.py", 1, 0, true, ENG_RULES_MAIN_EXPLICIT,
     "deid-researchers"},
    {"rita", ENG_RULES_GET, "text/csv", "identity", "deid.py(fields=name,ssn),identity", 1, 0,
     true, ENG_RULES_MAIN_EXPLICIT, "deid-researchers"},
    {"rita", ENG_RULES_GET, "application/json", NULL, "deid.py(fields=name,ssn),tojsonl.py", 1,
     0, true, ENG_RULES_MAIN_PLAIN, "deid-researchers,json-lines"},
    /* HEAD runs nothing, but the decision says a mandatory rule governs it */
    {"rita", ENG_RULES_HEAD, "text/csv", NULL, "deid.py(fields=name,ssn)", 1, 0, true,
     ENG_RULES_MAIN_NONE, "deid-researchers"},
    {"olga", ENG_RULES_HEAD, "text/csv", NULL, "", 0, 0, false, ENG_RULES_MAIN_NONE, ""},
    /* another tenant: audited, container rule then account rule order */
    {"lee", ENG_RULES_GET, "application/json", "grep", "audit,grep", 1, 0, true,
     ENG_RULES_MAIN_EXPLICIT, "audit-foreign"},
    /* writes: the client's chain, then the account's then the container's
     * mandatory storlets (the container's nearest the stored bytes) */
    {"rita", ENG_RULES_PUT, "text/csv", "grep", "grep,watermark,deid.py(fields=name,ssn)", 0, 2,
     true, ENG_RULES_MAIN_EXPLICIT, "watermark,deid-researchers"},
    {"olga", ENG_RULES_PUT, "text/csv", NULL, "stamp,watermark", 0, 1, true,
     ENG_RULES_MAIN_PLAIN, "stamp,watermark"},
    /* COPY: source read rules, the client's chain, destination write rules */
    {"rita", ENG_RULES_COPY, "text/csv", "grep",
     "deid.py(fields=name,ssn),grep,watermark,deid.py(fields=name,ssn)", 1, 2, true,
     ENG_RULES_MAIN_EXPLICIT, "deid-researchers,watermark,deid-researchers"},
    {"olga", ENG_RULES_COPY, "text/csv", NULL, "watermark", 0, 1, true, ENG_RULES_MAIN_NONE,
     "watermark"},
    /* POST and DELETE run nothing */
    {"rita", ENG_RULES_OTHER, "text/csv", "grep", "", 0, 0, false, ENG_RULES_MAIN_NONE, ""},
};

START_TEST(decisions_table)
{
    struct eng_rules *c = parse_ok(hosp_container);
    struct eng_rules *a = parse_ok(hosp_account);
    struct eng_rules_sets sets = {c, a};
    struct eng_rules_facts f;
    const char *who = decisions[_i].who;
    enum eng_rules_method m = decisions[_i].m;
    const char *ct = decisions[_i].ct;
    if (strcmp(who, "rita") == 0)
        f = RITA(m, "records/p1", ct, NULL);
    else if (strcmp(who, "olga") == 0)
        f = OLGA(m, "records/p1", ct, NULL);
    else
        f = LEE(m, "records/p1", ct, NULL);
    json_t *meta = json_object();
    f.metadata = meta;
    struct eng_seq ex;
    eng_seq_init(&ex);
    struct err e;
    if (decisions[_i].explicit_chain) {
        char *dup = strdup(decisions[_i].explicit_chain);
        for (char *tok = dup, *comma; tok; tok = comma) {
            comma = strchr(tok, ',');
            if (comma)
                *comma++ = '\0';
            ck_assert_int_eq(eng_seq_append(&ex, tok, NULL, ENG_SEQ_MAX, &e), 0);
        }
        free(dup);
    }
    struct eng_rules_decision d;
    ck_assert_int_eq(eng_rules_eval(&f, &sets, &f, &sets, decisions[_i].explicit_chain ? &ex : NULL,
                                    &d, &e),
                     0);
    char got[512];
    chain_str(&d.chain, got, sizeof(got));
    ck_assert_msg(strcmp(got, decisions[_i].chain) == 0, "case %d: chain '%s', want '%s'", _i,
                  got, decisions[_i].chain);
    ck_assert_uint_eq(d.n_pre, decisions[_i].n_pre);
    ck_assert_uint_eq(d.n_post, decisions[_i].n_post);
    ck_assert_int_eq(d.mandatory, decisions[_i].mandatory);
    ck_assert_int_eq(d.main, decisions[_i].main);
    ck_assert_str_eq(d.applied, decisions[_i].applied);
    eng_rules_decision_release(&d);
    eng_seq_release(&ex);
    json_decref(meta);
    eng_rules_free(c);
    eng_rules_free(a);
}
END_TEST

START_TEST(mandatory_fails_closed)
{
    /* a mandatory rule on metadata applies when the metadata is not known;
     * a plain one does not */
    struct eng_rules *r = parse_ok(
        "{\"rules\": [{\"id\": \"m\", \"mandatory\": true,"
        " \"match\": {\"metadata\": {\"Sensitivity\": \"phi\"}, \"prefix\": \"records/\"},"
        " \"action\": {\"storlet\": \"deid.py\"}},"
        " {\"id\": \"p\", \"match\": {\"metadata\": {\"Kind\": \"scan\"}},"
        " \"action\": {\"storlet\": \"image-roi\"}}]}");
    struct eng_rules_sets sets = {NULL, r};
    struct eng_rules_facts f = RITA(ENG_RULES_GET, "records/p1", "text/csv", NULL);
    struct eng_rules_decision d;
    struct err e;
    ck_assert_int_eq(eng_rules_eval(&f, &sets, NULL, NULL, NULL, &d, &e), 0);
    ck_assert_uint_eq(d.chain.n, 1);
    ck_assert_str_eq(d.chain.st[0].storlet, "deid.py");
    eng_rules_decision_release(&d);
    /* known and different: it does not apply */
    json_t *meta = json_pack("{s:s, s:s}", "Sensitivity", "public", "Kind", "scan");
    f.metadata = meta;
    ck_assert_int_eq(eng_rules_eval(&f, &sets, NULL, NULL, NULL, &d, &e), 0);
    ck_assert_uint_eq(d.chain.n, 1);
    ck_assert_str_eq(d.chain.st[0].storlet, "image-roi");
    ck_assert(!d.mandatory);
    eng_rules_decision_release(&d);
    json_decref(meta);

    /* listings: the subject test with the row's facts */
    f = RITA(ENG_RULES_GET, "records/p1", "text/csv", NULL);
    ck_assert(eng_rules_subject(&f, &sets, ENG_RULES_READ));
    ck_assert(!eng_rules_subject(&f, &sets, ENG_RULES_WRITE));
    f.object = "scans/p1";
    ck_assert(!eng_rules_subject(&f, &sets, ENG_RULES_READ));
    f.object = NULL;   /* a request for the whole container */
    ck_assert(eng_rules_subject(&f, &sets, ENG_RULES_READ));
    ck_assert(!eng_rules_subject(&f, NULL, ENG_RULES_READ));
    eng_rules_free(r);

    /* the researcher rule: subject whatever the object; the owner is not */
    struct eng_rules *c = parse_ok(hosp_container);
    struct eng_rules_sets hs = {c, NULL};
    f = RITA(ENG_RULES_GET, NULL, NULL, NULL);
    ck_assert(eng_rules_subject(&f, &hs, ENG_RULES_READ));
    ck_assert(eng_rules_subject(&f, &hs, ENG_RULES_WRITE));
    f = OLGA(ENG_RULES_GET, NULL, NULL, NULL);
    ck_assert(!eng_rules_subject(&f, &hs, ENG_RULES_READ));
    eng_rules_free(c);
}
END_TEST

START_TEST(too_many_stages_fail_closed)
{
    struct eng_rules *r = parse_ok(
        "{\"rules\": ["
        " {\"id\": \"m1\", \"mandatory\": true, \"action\": [{\"storlet\": \"a\"},"
        "  {\"storlet\": \"b\"}, {\"storlet\": \"c\"}, {\"storlet\": \"d\"}]},"
        " {\"id\": \"m2\", \"mandatory\": true, \"action\": [{\"storlet\": \"e\"},"
        "  {\"storlet\": \"f\"}, {\"storlet\": \"g\"}, {\"storlet\": \"h\"}]},"
        " {\"id\": \"m3\", \"mandatory\": true, \"action\": {\"storlet\": \"i\"}}]}");
    struct eng_rules_sets sets = {r, NULL};
    struct eng_seq ex;
    struct err e;
    eng_seq_init(&ex);
    for (int i = 0; i < 8; i++)
        ck_assert_int_eq(eng_seq_append(&ex, "x", NULL, ENG_SEQ_MAX, &e), 0);
    struct eng_rules_facts f = OLGA(ENG_RULES_GET, "o", "text/plain", NULL);
    struct eng_rules_decision d;
    ck_assert_int_eq(eng_rules_eval(&f, &sets, NULL, NULL, &ex, &d, &e), -E2BIG);
    ck_assert_uint_eq(d.chain.n, 0);
    ck_assert_str_eq(e.msg, "the storlet rules and the request together name more than 16 stages");
    /* 9 mandatory + 7 is exactly 16 */
    eng_seq_release(&ex);
    eng_seq_init(&ex);
    for (int i = 0; i < 7; i++)
        ck_assert_int_eq(eng_seq_append(&ex, "x", NULL, ENG_SEQ_MAX, &e), 0);
    ck_assert_int_eq(eng_rules_eval(&f, &sets, NULL, NULL, &ex, &d, &e), 0);
    ck_assert_uint_eq(d.chain.n, 16);
    ck_assert_uint_eq(d.n_pre, 9);
    ck_assert_str_eq(d.applied, "m1,m2,m3");
    eng_rules_decision_release(&d);
    eng_seq_release(&ex);
    eng_rules_free(r);
}
END_TEST

START_TEST(method_names_and_managers)
{
    ck_assert_int_eq(eng_rules_method_of("GET", false), ENG_RULES_GET);
    ck_assert_int_eq(eng_rules_method_of("HEAD", false), ENG_RULES_HEAD);
    ck_assert_int_eq(eng_rules_method_of("PUT", false), ENG_RULES_PUT);
    ck_assert_int_eq(eng_rules_method_of("PUT", true), ENG_RULES_COPY);
    ck_assert_int_eq(eng_rules_method_of("COPY", false), ENG_RULES_COPY);
    ck_assert_int_eq(eng_rules_method_of("POST", false), ENG_RULES_OTHER);
    ck_assert_int_eq(eng_rules_method_of(NULL, false), ENG_RULES_OTHER);

    struct eng_rules *c = parse_ok(hosp_container);
    struct eng_rules *plain = parse_ok("{\"rules\": [{\"match\": {\"groups\": [\"g\"],"
                                       " \"prefix\": \"p\"}, \"action\": {\"storlet\": \"s\"}}]}");
    struct eng_rules_sets s1 = {plain, NULL}, s2 = {plain, c}, s3 = {NULL, NULL};
    ck_assert(!eng_rules_needs_object_facts(&s1));
    ck_assert(eng_rules_needs_object_facts(&s2));   /* json-lines: content type */
    ck_assert(!eng_rules_needs_object_facts(&s3));
    ck_assert(!eng_rules_needs_object_facts(NULL));
    eng_rules_free(plain);
    eng_rules_free(c);

    static const char *const reseller[] = {"r", "r:admin", ".reseller_admin"};
    ck_assert(eng_rules_may_manage("AUTH_hosp", owner_groups, 3));
    ck_assert(!eng_rules_may_manage("AUTH_hosp", researcher_groups, 3));
    ck_assert(!eng_rules_may_manage("AUTH_other", owner_groups, 3));
    ck_assert(eng_rules_may_manage("AUTH_other", reseller, 3));
    ck_assert(!eng_rules_may_manage("AUTH_hosp", NULL, 0));
}
END_TEST

int main(void)
{
    Suite *s = suite_create("eng_rules");
    TCase *td = tcase_create("document");
    tcase_add_loop_test(td, document_errors, 0, (int)(sizeof(bad_docs) / sizeof(bad_docs[0])));
    tcase_add_test(td, document_limits);
    tcase_add_test(td, canonical_form);
    suite_add_tcase(s, td);
    TCase *tm = tcase_create("decisions");
    tcase_add_test(tm, matching_criteria);
    tcase_add_loop_test(tm, decisions_table, 0, (int)(sizeof(decisions) / sizeof(decisions[0])));
    tcase_add_test(tm, mandatory_fails_closed);
    tcase_add_test(tm, too_many_stages_fail_closed);
    tcase_add_test(tm, method_names_and_managers);
    suite_add_tcase(s, tm);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
