/* tests/unit/core/test_status.c — every status maps to one HTTP status and contract code. */
#include "core/core.h"
#include "tap.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include <errno.h>

int
main(void)
{
    is_int(ag_status_http(AG_OK), 200, "AG_OK is HTTP 200");
    is_int(ag_status_http(AG_EBADREQ), 400, "bad request is 400");
    is_str(ag_status_code(AG_EBADREQ), "bad_request", "bad request code");
    is_int(ag_status_http(AG_EUNAUTH), 401, "unauthorized is 401");
    is_str(ag_status_code(AG_EUNAUTH), "unauthorized", "unauthorized code");
    is_int(ag_status_http(AG_EFORBIDDEN), 403, "forbidden is 403");
    is_int(ag_status_http(AG_ENOTFOUND), 404, "not found is 404");
    is_str(ag_status_code(AG_ENOTFOUND), "not_found", "not_found code");
    is_int(ag_status_http(AG_ECONFLICT), 409, "conflict is 409");
    is_int(ag_status_http(AG_ETOOLARGE), 413, "too large is 413");
    is_str(ag_status_code(AG_ETOOLARGE), "payload_too_large", "payload_too_large code");
    is_int(ag_status_http(AG_EMEDIA), 415, "media type is 415");
    is_str(ag_status_code(AG_EMEDIA), "unsupported_media_type", "unsupported_media_type code");
    is_int(ag_status_http(AG_ERATE), 429, "rate limited is 429");
    is_str(ag_status_code(AG_ERATE), "rate_limited", "rate_limited code");
    is_int(ag_status_http(AG_EUNAVAIL), 503, "unavailable is 503");
    is_str(ag_status_code(AG_EUNAVAIL), "unavailable", "unavailable code");
    is_int(ag_status_http(AG_ENOMEM), 500, "out of memory is 500");
    is_str(ag_status_code(AG_ENOMEM), "internal", "out of memory is reported as internal");
    is_int(ag_status_http((ag_status_t)-999), 500, "an unknown status is 500, not a crash");
    is_str(ag_status_code((ag_status_t)-999), "internal", "an unknown status is internal");
    is_str(ag_status_name(AG_ENOTFOUND), "AG_ENOTFOUND", "status names come from the same table");
    ok(AG_DECLINED > 0, "AG_DECLINED is not a failure (positive)");
    is_int(ag_status_from_errno(ECONNREFUSED), AG_EUNAVAIL, "ECONNREFUSED is unavailable");
    is_int(ag_status_from_errno(ENOMEM), AG_ENOMEM, "ENOMEM maps to AG_ENOMEM");
    is_int(ag_status_from_errno(0), AG_OK, "errno 0 is AG_OK");

    int64_t v = 0;
    ok(ag_parse_i64("45", &v) == AG_OK && v == 45, "parse_i64 reads a decimal id");
    ok(ag_parse_i64("-7", &v) == AG_OK && v == -7, "parse_i64 reads a negative number");
    ok(ag_parse_i64("4x", &v) == AG_EBADREQ, "parse_i64 rejects trailing junk");
    ok(ag_parse_i64(" 4", &v) == AG_EBADREQ, "parse_i64 rejects leading space");
    ok(ag_parse_i64("+4", &v) == AG_EBADREQ, "parse_i64 rejects a plus sign");
    ok(ag_parse_i64("", &v) == AG_EBADREQ, "parse_i64 rejects the empty string");
    ok(ag_parse_i64("99999999999999999999", &v) == AG_EBADREQ, "parse_i64 rejects overflow");

    char ts[40];
    ag_format_rfc3339(1764000000123LL, ts, sizeof(ts));
    is_str(ts, "2025-11-24T16:00:00.123Z", "RFC 3339 UTC with milliseconds");
    /* the arithmetic path agrees with gmtime_r + snprintf: leap years, centuries, ends */
    int     bad = 0;
    int64_t first_bad = 0;
    for (int64_t ms = 0; ms < 253402300800000LL; ms += 86399999LL * 7 + 12345) {
        char      want[64];
        time_t    secs = (time_t)(ms / 1000);
        struct tm tm;
        gmtime_r(&secs, &tm);
        snprintf(want, sizeof(want), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(ms % 1000));
        ag_format_rfc3339(ms, ts, sizeof(ts));
        if (strcmp(ts, want) != 0 && bad++ == 0)
            first_bad = ms;
    }
    ok(bad == 0, "RFC 3339 by arithmetic equals gmtime_r from 1970 to 9999 (%d differ, first %lld)",
       bad, (long long)first_bad);
    ag_format_rfc3339(951782400000LL, ts, sizeof(ts));
    is_str(ts, "2000-02-29T00:00:00.000Z", "a leap day");
    ag_format_rfc3339(-1, ts, sizeof(ts));
    ok(strlen(ts) > 0, "a negative time still formats (the C library's way): %s", ts);
    char num[24];
    ok(ag_fmt_i64(num, 0) == 1 && strcmp(num, "0") == 0, "fmt_i64 0");
    ok(ag_fmt_i64(num, -45) == 3 && strcmp(num, "-45") == 0, "fmt_i64 -45");
    ok(ag_fmt_i64(num, INT64_MIN) == 20 && strcmp(num, "-9223372036854775808") == 0,
       "fmt_i64 INT64_MIN");
    ok(ag_fmt_i64(num, INT64_MAX) == 19 && strcmp(num, "9223372036854775807") == 0,
       "fmt_i64 INT64_MAX");
    return done_testing();
}
