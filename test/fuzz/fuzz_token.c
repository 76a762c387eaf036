/*
 * fuzz_token.c - libFuzzer target for common/token: X-Auth-Token values
 * come from anyone. No input may verify (the fuzzer does not know the
 * secret); and claims built from the input must survive issue + verify
 * unchanged.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/token.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(x)                                                          \
    do {                                                                  \
        if (!(x))                                                         \
            abort();                                                      \
    } while (0)

static const char secret[] = "fuzzing-secret-0123456789";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct token_claims c, got;
    int rc = token_verify(secret, sizeof(secret) - 1, (const char *)data,
                          size, 0, &got);
    CHECK(rc == -EINVAL || rc == -EKEYREJECTED);

    /* Claims from the input: fields separated by NUL bytes. */
    memset(&c, 0, sizeof(c));
    char *fields[2 + TOKEN_GROUPS_MAX] = {c.account, c.user};
    for (int i = 0; i < TOKEN_GROUPS_MAX; i++)
        fields[2 + i] = c.groups[i];
    size_t f = 0, o = 0;
    for (size_t i = 0; i < size && f < 2 + TOKEN_GROUPS_MAX; i++) {
        if (data[i] == 0 || o == TOKEN_NAME_MAX) {
            f++;
            o = 0;
            continue;
        }
        fields[f][o++] = (char)data[i];
    }
    c.ngroups = f > 2 ? f - 2 : 0;
    c.expires = (int64_t)size + 1;
    char tok[TOKEN_MAX_LEN];
    int n = token_issue(secret, sizeof(secret) - 1, &c, tok, sizeof(tok));
    if (n < 0) {
        CHECK(n == -EINVAL && (!c.account[0] || !c.user[0]));
        return 0;
    }
    CHECK(token_verify(secret, sizeof(secret) - 1, tok, (size_t)n, 0,
                       &got) == 0);
    CHECK(strcmp(got.account, c.account) == 0);
    CHECK(strcmp(got.user, c.user) == 0);
    CHECK(got.ngroups == c.ngroups);
    for (size_t i = 0; i < c.ngroups; i++)
        CHECK(strcmp(got.groups[i], c.groups[i]) == 0);
    CHECK(got.expires == c.expires);
    return 0;
}
