/*
 * fuzz_timestamp.c - libFuzzer target for common/timestamp: X-Timestamp,
 * If-Modified-Since and listing dates arrive from the network. Besides
 * memory safety it checks round trips: a parsed timestamp's internal form
 * parses back to the same timestamp, and a parsed HTTP date formats and
 * parses back to the same second.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/timestamp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(x)                                                          \
    do {                                                                  \
        if (!(x))                                                         \
            abort();                                                      \
    } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 256)
        return 0;
    char s[257];
    memcpy(s, data, size);
    s[size] = '\0';

    struct ts t, back;
    if (ts_parse_n((const char *)data, size, &t) == 0) {
        char in[TS_INTERNAL_LEN], iso[TS_ISO_LEN];
        ts_internal(&t, in);
        ts_isoformat(&t, iso);
        if (t.units < 10000000000LL * TS_UNITS_PER_SEC) {
            CHECK(ts_parse(in, &back) == 0 && ts_cmp(&t, &back) == 0);
            CHECK(ts_parse_iso(iso, &back) == 0 && back.units == t.units);
        }
    }
    if (ts_parse_iso(s, &t) == 0) {
        char iso[TS_ISO_LEN];
        ts_isoformat(&t, iso);
    }
    int64_t secs, again;
    if (ts_parse_http_date(s, &secs) == 0) {
        char http[TS_HTTP_DATE_LEN];
        ts_http_date(secs, http);
        CHECK(ts_parse_http_date(http, &again) == 0 && again == secs);
    }
    return 0;
}
