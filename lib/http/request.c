/* lib/http/request.c — query strings, bodies, limits. */
#include "http/http.h"
#include "http/http_int.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

static int
hexval(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

char *
ag_http_urldecode(ag_arena_t *a, const char *s, size_t n)
{
    char  *out = ag_arena_alloc(a, n + 1);
    size_t o = 0;
    if (out == NULL)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '%') {
            int h, l;
            if (i + 2 >= n || (h = hexval(s[i + 1])) < 0 || (l = hexval(s[i + 2])) < 0)
                return NULL;
            char c = (char)(h * 16 + l);
            if (c == '\0')
                return NULL;  /* an embedded NUL would truncate silently */
            out[o++] = c;
            i += 2;
        } else if (s[i] == '+') {
            out[o++] = ' ';
        } else {
            out[o++] = s[i];
        }
    }
    out[o] = '\0';
    return out;
}

const char *
ag_req_query(ag_req_t *req, const char *name)
{
    size_t      nl = strlen(name);
    const char *p = req->query;

    while (p && *p) {
        const char *amp = strchr(p, '&');
        size_t      len = amp ? (size_t)(amp - p) : strlen(p);
        const char *eq = memchr(p, '=', len);
        size_t      klen = eq ? (size_t)(eq - p) : len;
        if (klen == nl && strncmp(p, name, nl) == 0) {
            if (eq == NULL)
                return "";
            return ag_http_urldecode(req->arena, eq + 1, len - klen - 1);
        }
        p = amp ? amp + 1 : NULL;
    }
    return NULL;
}

ag_status_t
ag_req_limit(ag_req_t *req, int def, int max, int *out)
{
    const char *v = ag_req_query(req, "limit");
    int64_t     n;
    if (v == NULL || *v == '\0') {
        *out = def;
        return AG_OK;
    }
    if (ag_parse_i64(v, &n) != AG_OK)
        return ag_req_fail(req, AG_EBADREQ, "limit must be an integer");
    *out = n < 1 ? 1 : n > max ? max : (int)n;  /* clamped, as the contract says */
    return AG_OK;
}

static bool
is_json_type(const char *ct)
{
    size_t n = strlen("application/json");
    return strncasecmp(ct, "application/json", n) == 0 && (ct[n] == '\0' || ct[n] == ';' ||
                                                           ct[n] == ' ');
}

ag_status_t
ag_req_read(ag_req_t *req, char *dst, size_t n, size_t *got)
{
    return ag_http__read(req, dst, n, got);
}

ag_status_t
ag_req_body(ag_req_t *req, size_t max, const char **out, size_t *len)
{
    size_t got = 0;
    if (req->content_length < 0)
        return ag_req_fail(req, AG_EBADREQ, "invalid Content-Length");
    if ((uint64_t)req->content_length > max)
        return ag_req_fail(req, AG_ETOOLARGE, "body is larger than %lu bytes",
                           (unsigned long)max);
    char *buf = ag_arena_alloc(req->arena, (size_t)req->content_length + 1);
    if (buf == NULL)
        return ag_req_fail(req, AG_ENOMEM, "out of memory reading body");
    ag_http__read(req, buf, (size_t)req->content_length, &got);
    if (got != (size_t)req->content_length)
        return ag_req_fail(req, AG_EBADREQ, "body shorter than Content-Length");
    buf[got] = '\0';
    *out = buf;
    *len = got;
    return AG_OK;
}

ag_status_t
ag_req_json_body(ag_req_t *req, size_t max, ag_json_t **out)
{
    const char *body;
    size_t      len;
    char        err[160];
    ag_status_t st;

    if (!is_json_type(req->content_type))
        return ag_req_fail(req, AG_EMEDIA, "Content-Type must be application/json");
    if ((st = ag_req_body(req, max, &body, &len)) != AG_OK)
        return st;
    ag_json_t *v = ag_json_on_arena(req->arena, ag_json_parse(body, len, 32, err, sizeof(err)));
    if (v == NULL)
        return ag_req_fail(req, AG_EBADREQ, "malformed JSON body: %s", err);
    if (ag_json_type(v) != AG_JSON_OBJECT)
        return ag_req_fail(req, AG_EBADREQ, "body must be a JSON object");
    *out = v;
    return AG_OK;
}
