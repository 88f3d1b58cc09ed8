/*
 * lib/media/tus.c — parsers of the tus 1.0 request headers (Upload-Length,
 * Upload-Offset, Upload-Metadata). Untrusted input of every tus request:
 * fuzzed by tests/fuzz/fuzz_upload.c.
 */
#include "media/media.h"

#include <string.h>

#define META_MAX       4096
#define META_PAIRS_MAX 32
#define KEY_MAX        64
#define VALUE_MAX      1024

ag_status_t
ag_tus_parse_u64(const char *s, int64_t *out)
{
    int64_t v = 0;
    size_t  n = 0;
    if (s == NULL || *s == '\0')
        return AG_EBADREQ;
    for (; s[n]; n++) {
        if (s[n] < '0' || s[n] > '9' || n >= 16)
            return AG_EBADREQ;
        v = v * 10 + (s[n] - '0');
    }
    if (v > (INT64_C(1) << 53))
        return AG_EBADREQ;
    *out = v;
    return AG_OK;
}

static int
b64val(char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+')
        return 62;
    if (c == '/')
        return 63;
    return -1;
}

/* Standard base64 with padding; NULL for anything else, a decoded NUL or too long a value. */
static char *
b64decode(ag_arena_t *a, const char *s, size_t n)
{
    char  *out;
    size_t o = 0;

    if (n % 4 != 0 || n / 4 * 3 > VALUE_MAX + 2 || (out = ag_arena_alloc(a, n / 4 * 3 + 1)) == NULL)
        return NULL;
    for (size_t i = 0; i < n; i += 4) {
        int v[4], pad = 0;
        for (int k = 0; k < 4; k++) {
            if (s[i + k] == '=' && i + 4 == n && k >= 2) {
                v[k] = 0;
                pad++;
            } else if (pad || (v[k] = b64val(s[i + k])) < 0) {
                return NULL; /* data after padding, or not base64 */
            }
        }
        uint32_t w =
            (uint32_t)v[0] << 18 | (uint32_t)v[1] << 12 | (uint32_t)v[2] << 6 | (uint32_t)v[3];
        char b[3] = {(char)(w >> 16), (char)(w >> 8), (char)w};
        for (int k = 0; k < 3 - pad; k++) {
            if (b[k] == '\0')
                return NULL;
            out[o++] = b[k];
        }
    }
    if (o > VALUE_MAX)
        return NULL;
    out[o] = '\0';
    return out;
}

static bool
key_char(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '_' || c == '-';
}

ag_status_t
ag_tus_metadata_get(ag_arena_t *a, const char *header, const char *want, const char **value)
{
    size_t len = header ? strlen(header) : 0;
    int    pairs = 0;

    *value = NULL;
    if (len == 0)
        return AG_OK;
    if (len > META_MAX)
        return AG_EBADREQ;
    for (const char *p = header; p <= header + len;) {
        const char *end = strchr(p, ','), *k, *v = NULL;
        size_t      n, kn = 0, vn = 0;
        if (end == NULL)
            end = header + len;
        n = (size_t)(end - p);
        while (n && *p == ' ') /* optional white space after a comma */
            p++, n--;
        if (++pairs > META_PAIRS_MAX || n == 0)
            return AG_EBADREQ;
        k = p;
        while (kn < n && key_char(k[kn]))
            kn++;
        if (kn == 0 || kn > KEY_MAX)
            return AG_EBADREQ;
        if (kn < n) {
            if (k[kn] != ' ')
                return AG_EBADREQ;
            v = k + kn + 1;
            vn = n - kn - 1;
        }
        char *dec = v ? b64decode(a, v, vn) : ag_arena_strdup(a, "");
        if (dec == NULL)
            return AG_EBADREQ;
        if (strlen(want) == kn && memcmp(want, k, kn) == 0 && *value == NULL)
            *value = dec;
        p = end + 1;
    }
    return AG_OK;
}
