/* tests/unit/core/test_status.c — every status maps to one HTTP status and contract code. */
#include "core/core.h"
#include "tap.h"

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
    return done_testing();
}
