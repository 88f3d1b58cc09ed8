/* lib/core/util.c — number parsing and clocks. */
#include "core/core.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

ag_status_t
ag_parse_i64(const char *s, int64_t *out)
{
    char *end = NULL;
    if (s == NULL || *s == '\0')
        return AG_EBADREQ;
    /* strtoll accepts leading spaces and '+'; an id or a number in config must not */
    if (!(*s == '-' || (*s >= '0' && *s <= '9')))
        return AG_EBADREQ;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno != 0 || *end != '\0' || end == s)
        return AG_EBADREQ;
    *out = (int64_t)v;
    return AG_OK;
}

int64_t
ag_now_mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t
ag_now_wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The formatting of the C library, kept for what the fast path below does not cover. */
static void
rfc3339_libc(int64_t wall_ms, char *buf, size_t n)
{
    time_t    secs = (time_t)(wall_ms / 1000);
    struct tm tm;
    gmtime_r(&secs, &tm);
    snprintf(buf, n, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
             tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(wall_ms % 1000));
}

static char *
digits(char *p, unsigned v, int width)
{
    for (int i = width - 1; i >= 0; i--, v /= 10)
        p[i] = (char)('0' + v % 10);
    return p + width;
}

/*
 * Every timestamp of a page goes through here (a GraphQL page formats 20 or
 * more), so the common case, 1970..9999, is done by arithmetic: days to a
 * civil date (Howard Hinnant's days_from_civil inverse), no gmtime_r and no
 * snprintf. The unit test compares it with the C library's over a wide range.
 */
void
ag_format_rfc3339(int64_t wall_ms, char *buf, size_t n)
{
    if (wall_ms < 0 || wall_ms >= 253402300800000LL || n < 25) {
        rfc3339_libc(wall_ms, buf, n);
        return;
    }
    int64_t  secs = wall_ms / 1000;
    unsigned ms = (unsigned)(wall_ms % 1000), sod = (unsigned)(secs % 86400);
    int64_t  z = secs / 86400 + 719468;
    int64_t  era = z / 146097;
    unsigned doe = (unsigned)(z - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;
    unsigned d = doy - (153 * mp + 2) / 5 + 1;
    unsigned m = mp < 10 ? mp + 3 : mp - 9;
    unsigned y = (unsigned)(yoe + era * 400) + (m <= 2);
    char    *p = buf;

    p = digits(p, y, 4);
    *p++ = '-';
    p = digits(p, m, 2);
    *p++ = '-';
    p = digits(p, d, 2);
    *p++ = 'T';
    p = digits(p, sod / 3600, 2);
    *p++ = ':';
    p = digits(p, sod / 60 % 60, 2);
    *p++ = ':';
    p = digits(p, sod % 60, 2);
    *p++ = '.';
    p = digits(p, ms, 3);
    *p++ = 'Z';
    *p = '\0';
}

size_t
ag_fmt_i64(char buf[24], int64_t v)
{
    char     tmp[24];
    size_t   n = 0, k = 0;
    uint64_t u = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;
    do
        tmp[n++] = (char)('0' + u % 10);
    while ((u /= 10) != 0);
    if (v < 0)
        buf[k++] = '-';
    while (n)
        buf[k++] = tmp[--n];
    buf[k] = '\0';
    return k;
}
