/*
 * tests/fuzz/fuzz_rest_body.c — libFuzzer target: the untrusted input of a
 * REST request as the router and handlers see it. The first line is the
 * path (routed through a table shaped like agora.fcgi's), the rest is the
 * JSON body: parsed with the REST depth limit, then its members read the way
 * handlers read them, then re-serialised and parsed again (round trip).
 */
#include "http/http.h"
#include "json/json.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

static ag_status_t
handler(ag_req_t *req)
{
    int64_t id;
    for (int i = 0; i < req->nparams; i++)
        if (req->pval[i] == NULL || req->pname[i] == NULL)
            abort();
    (void)ag_parse_i64(ag_req_param(req, "id") ? ag_req_param(req, "id") : "", &id);
    req->responded = true;
    return AG_OK;
}

static const ag_route_t routes[] = {
    {"GET", "/api/v1/users/{id}", handler, false, NULL},
    {"PUT", "/api/v1/channels/{id}/members/{userId}", handler, false, NULL},
    {"POST", "/api/v1/channels", handler, false, NULL},
};

static void
read_members(ag_json_t *v)
{
    const char *s;
    int64_t     n;
    bool        b;
    static const char *keys[] = {"username", "password", "displayName", "name", "visibility",
                                 "topic", "role", "upTo", "bio", "avatarUrl"};
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
        if (ag_json_get_str(v, keys[i], &s) == AG_OK && s == NULL)
            abort();
        (void)ag_json_get_i64(v, keys[i], &n);
        (void)ag_json_get_bool(v, keys[i], &b);
    }
}

int
LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
    const char *text = (const char *)data;
    const char *nl = memchr(text, '\n', size);
    size_t      plen = nl ? (size_t)(nl - text) : size;
    ag_arena_t *a = ag_arena_new(4096);
    ag_req_t    req;
    char        err[160];

    memset(&req, 0, sizeof(req));
    req.arena = a;
    req.method = (plen % 3 == 0) ? "GET" : (plen % 3 == 1) ? "PUT" : "POST";
    req.path = ag_http_urldecode(a, text, plen);
    req.query = "";
    if (req.path)
        (void)ag_http_route(&req, routes, sizeof(routes) / sizeof(routes[0]), NULL);
    ag_buf_fini(&req.headers);
    ag_buf_fini(&req.body);

    if (nl) {
        const char *body = nl + 1;
        size_t      blen = size - plen - 1;
        ag_json_t  *v = ag_json_parse(body, blen, 32, err, sizeof(err));
        if (v) {
            read_members(v);
            size_t      len;
            const char *out = ag_json_dump(v, &len);
            ag_json_t  *again = ag_json_parse(out, len, 64, err, sizeof(err));
            if (again == NULL && ag_json_type(v) != AG_JSON_NULL)
                abort();  /* what we print, we must read back */
            ag_json_free(again);
            ag_json_free(v);
        } else if (err[0] == '\0') {
            abort();  /* a rejection always says why */
        }
    }
    ag_arena_free(a);
    return 0;
}
