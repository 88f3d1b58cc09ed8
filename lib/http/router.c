/*
 * lib/http/router.c — match "/a/{x}/b" patterns segment by segment. A path
 * that matches some pattern under another method is 405 with Allow.
 */
#include "http/http.h"

#include <stdio.h>
#include <string.h>

/* Match path against pattern, capturing {params} into req when capture is set. */
static bool
match(ag_req_t *req, const char *pattern, const char *path, bool capture)
{
    const char *p = pattern, *s = path;
    int         np = 0;

    while (*p && *s) {
        if (*p == '{') {
            const char *pe = strchr(p, '}');
            const char *se = strchr(s, '/');
            size_t      slen = se ? (size_t)(se - s) : strlen(s);
            if (pe == NULL || slen == 0 || np >= AG_HTTP_MAX_PARAMS)
                return false;
            if (capture) {
                req->pname[np] = ag_arena_strndup(req->arena, p + 1, (size_t)(pe - p - 1));
                req->pval[np] = ag_arena_strndup(req->arena, s, slen);
            }
            np++;
            p = pe + 1;
            s += slen;
            continue;
        }
        if (*p != *s)
            return false;
        p++;
        s++;
    }
    /* tolerate one trailing slash on the request path */
    if (*p == '\0' && (*s == '\0' || (s[0] == '/' && s[1] == '\0'))) {
        if (capture)
            req->nparams = np;
        return true;
    }
    return false;
}

/* A cache key template with {name} replaced by the captured path parameter. */
static const char *
expand(ag_req_t *req, const char *tmpl)
{
    ag_buf_t    b;
    const char *out = NULL;
    ag_buf_init(&b);
    for (const char *p = tmpl; *p;) {
        const char *open = strchr(p, '{'), *close = open ? strchr(open, '}') : NULL;
        if (open == NULL || close == NULL) {
            ag_buf_puts(&b, p);
            break;
        }
        ag_buf_append(&b, p, (size_t)(open - p));
        char name[32];
        snprintf(name, sizeof(name), "%.*s", (int)(close - open - 1), open + 1);
        const char *v = ag_req_param(req, name);
        ag_buf_puts(&b, v ? v : "");
        p = close + 1;
    }
    if (b.data)
        out = ag_arena_strdup(req->arena, b.data);
    ag_buf_fini(&b);
    return out;
}

ag_status_t
ag_http_route(ag_req_t *req, const ag_route_t *table, size_t n, ag_handler_fn guard)
{
    char   allow[128] = "";
    size_t alen = 0;
    const char *method = req->method;

    if (strcmp(method, "HEAD") == 0)
        method = "GET";
    for (size_t i = 0; i < n; i++) {
        if (!match(req, table[i].pattern, req->path, false))
            continue;
        if (strcmp(table[i].method, method) == 0) {
            ag_status_t st;
            match(req, table[i].pattern, req->path, true);
            req->cache_key = table[i].cache_key ? expand(req, table[i].cache_key) : NULL;
            if (table[i].guarded && guard && (st = guard(req)) != AG_OK)
                return st;
            return table[i].fn(req);
        }
        if (strstr(allow, table[i].method) == NULL && alen + 10 < sizeof(allow))
            alen += (size_t)snprintf(allow + alen, sizeof(allow) - alen, "%s%s", alen ? ", " : "",
                                     table[i].method);
    }
    if (alen) {
        ag_resp_header(req, "Allow", allow);
        return ag_req_fail(req, AG_EMETHOD, "method %s is not allowed here; allowed: %s",
                           req->method, allow);
    }
    return AG_DECLINED;
}

const char *
ag_req_param(const ag_req_t *req, const char *name)
{
    for (int i = 0; i < req->nparams; i++)
        if (strcmp(req->pname[i], name) == 0)
            return req->pval[i];
    return NULL;
}

ag_status_t
ag_req_param_id(ag_req_t *req, const char *name, int64_t *out)
{
    const char *v = ag_req_param(req, name);
    if (v == NULL || ag_parse_i64(v, out) != AG_OK || *out <= 0)
        return ag_req_fail(req, AG_ENOTFOUND, "%s '%s' is not a valid id", name, v ? v : "");
    return AG_OK;
}
