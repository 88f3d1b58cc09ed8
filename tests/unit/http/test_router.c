/*
 * tests/unit/http/test_router.c — lib/http's router and request helpers
 * without a FastCGI server: a request is a struct with an arena, routed
 * through a table like fcgi/dispatch.c's.
 */
#include "http/http.h"
#include "json/json.h"
#include "tap.h"

#include <string.h>

static const char *called;   /* the handler that ran */
static int         guards;   /* guard runs */
static bool        guard_ok; /* what the guard answers */

static ag_status_t
h_user(ag_req_t *req)
{
    called = "user";
    return ag_resp_empty(req, 200);
}

static ag_status_t
h_user_put(ag_req_t *req)
{
    called = "user_put";
    return ag_resp_empty(req, 204);
}

static ag_status_t
h_member(ag_req_t *req)
{
    called = "member";
    return ag_resp_empty(req, 200);
}

static ag_status_t
h_me(ag_req_t *req)
{
    called = "me";
    return ag_resp_empty(req, 200);
}

static ag_status_t
guard(ag_req_t *req)
{
    guards++;
    return guard_ok ? AG_OK : ag_req_fail(req, AG_EUNAUTH, "no token");
}

static const ag_route_t table[] = {
    {"GET", "/api/v1/users/me", h_me, true, NULL},
    {"GET", "/api/v1/users/{id}", h_user, true, "user:{id}:json"},
    {"PUT", "/api/v1/users/{id}", h_user_put, false, NULL},
    {"GET", "/api/v1/channels/{id}/members/{userId}", h_member, false, NULL},
};

typedef struct {
    ag_req_t    req;
    ag_arena_t *a;
} fake_t;

static ag_req_t *
request(fake_t *f, const char *method, const char *path, const char *query)
{
    ag_arena_reset(f->a);
    ag_buf_fini(&f->req.headers);
    ag_buf_fini(&f->req.body);
    memset(&f->req, 0, sizeof(f->req));
    f->req.arena = f->a;
    f->req.method = method;
    f->req.path = path;
    f->req.query = query ? query : "";
    f->req.content_type = f->req.accept = f->req.authorization = "";
    f->req.remote_addr = "127.0.0.1";
    ag_buf_init(&f->req.headers);
    ag_buf_init(&f->req.body);
    called = NULL;
    guards = 0;
    return &f->req;
}

static ag_status_t
route(ag_req_t *req)
{
    return ag_http_route(req, table, AG_ARRAY_LEN(table), guard);
}

/* The error envelope's code of the response body. */
static const char *
error_code(ag_req_t *req, char *buf, size_t n)
{
    char        err[64];
    const char *code = NULL;
    ag_json_t  *o =
        ag_json_parse(req->body.data ? req->body.data : "", req->body.len, 8, err, sizeof(err));
    buf[0] = '\0';
    if (o && ag_json_get_str(ag_json_get(o, "error"), "code", &code) == AG_OK)
        snprintf(buf, n, "%s", code);
    ag_json_free(o);
    return buf;
}

int
main(void)
{
    fake_t      f = {.a = ag_arena_new(4096)};
    ag_req_t   *req;
    ag_status_t st;
    int64_t     id = 0;
    int         limit = 0;
    char        code[32];

    ag_buf_init(&f.req.headers);
    ag_buf_init(&f.req.body);
    guard_ok = true;

    req = request(&f, "GET", "/api/v1/users/45", NULL);
    is_int(route(req), AG_OK, "GET /users/45 is routed");
    is_str(called, "user", "... to the {id} handler");
    is_str(ag_req_param(req, "id"), "45", "the {id} segment is captured");
    ok(ag_req_param(req, "nope") == NULL, "an unknown parameter is NULL");
    is_str(req->cache_key, "user:45:json", "the route's cache key has {id} filled in");
    is_int(guards, 1, "a guarded route runs the guard once");
    ok(ag_req_param_id(req, "id", &id) == AG_OK && id == 45, "the id parses as a positive id");

    req = request(&f, "GET", "/api/v1/users/me", NULL);
    route(req);
    is_str(called, "me", "a literal segment wins over {id} when listed first");

    req = request(&f, "GET", "/api/v1/users/45/", NULL);
    route(req);
    is_str(called, "user", "one trailing slash is tolerated");

    req = request(&f, "HEAD", "/api/v1/users/45", NULL);
    route(req);
    is_str(called, "user", "HEAD is served by the GET route");

    req = request(&f, "GET", "/api/v1/channels/7/members/9", NULL);
    route(req);
    ok(called && strcmp(called, "member") == 0 && strcmp(ag_req_param(req, "id"), "7") == 0 &&
           strcmp(ag_req_param(req, "userId"), "9") == 0,
       "two parameters in one pattern");
    is_int(guards, 0, "an unguarded route skips the guard");
    ok(req->cache_key == NULL, "no cache key when the route has none");

    req = request(&f, "PUT", "/api/v1/users/45", NULL);
    route(req);
    is_str(called, "user_put", "the same path under another method is another route");

    req = request(&f, "DELETE", "/api/v1/users/45", NULL);
    st = route(req);
    is_int(st, AG_EMETHOD, "a path known under other methods only: 405");
    is_int(req->status, 405, "... answered as 405");
    ok(called == NULL, "... without running a handler");
    ok(req->headers.data && strstr(req->headers.data, "Allow: GET, PUT\r\n") != NULL,
       "... with Allow listing the methods that exist");
    is_str(error_code(req, code, sizeof(code)), "method_not_allowed", "... in the error envelope");

    req = request(&f, "GET", "/api/v1/nowhere", NULL);
    is_int(route(req), AG_DECLINED, "no pattern matches: declined, for the caller's 404");
    ok(!req->responded, "... and nothing was answered");

    req = request(&f, "GET", "/api/v1/users", NULL);
    is_int(route(req), AG_DECLINED, "a pattern's prefix is not a match");
    req = request(&f, "GET", "/api/v1/users/45/follow", NULL);
    is_int(route(req), AG_DECLINED, "nor is a longer path");
    req = request(&f, "GET", "/api/v1/channels/7/members/", NULL);
    is_int(route(req), AG_DECLINED, "an empty {param} segment does not match");

    guard_ok = false;
    req = request(&f, "GET", "/api/v1/users/45", NULL);
    is_int(route(req), AG_EUNAUTH, "a refusing guard stops the route");
    ok(called == NULL && req->status == 401, "... 401, the handler never runs");
    is_str(error_code(req, code, sizeof(code)), "unauthorized", "... with the contract's code");
    guard_ok = true;

    req = request(&f, "GET", "/api/v1/users/abc", NULL);
    route(req);
    is_int(ag_req_param_id(req, "id", &id), AG_ENOTFOUND, "a non-numeric id is not found");
    is_int(req->status, 404, "... as 404");
    req = request(&f, "GET", "/api/v1/users/-3", NULL);
    route(req);
    is_int(ag_req_param_id(req, "id", &id), AG_ENOTFOUND, "a negative id too");

    req = request(&f, "GET", "/x", "q=a%20b%2Bc&limit=500&empty=&after=9");
    is_str(ag_req_query(req, "q"), "a b+c", "query values are URL-decoded");
    is_str(ag_req_query(req, "empty"), "", "an empty value is \"\"");
    ok(ag_req_query(req, "missing") == NULL, "an absent key is NULL");
    ok(ag_req_limit(req, 20, 100, &limit) == AG_OK && limit == 100, "limit is clamped to max");
    req = request(&f, "GET", "/x", "limit=0");
    ok(ag_req_limit(req, 20, 100, &limit) == AG_OK && limit == 1, "limit 0 is clamped to 1");
    req = request(&f, "GET", "/x", "");
    ok(ag_req_limit(req, 20, 100, &limit) == AG_OK && limit == 20, "no limit is the default");
    req = request(&f, "GET", "/x", "limit=ten");
    is_int(ag_req_limit(req, 20, 100, &limit), AG_EBADREQ, "a limit that is no number is 400");

    req = request(&f, "GET", "/x", NULL);
    ag_resp_header(req, "X-Evil", "a\r\nSet-Cookie: x=1");
    ok(req->headers.len == 0, "a header value with CR LF is refused (no header injection)");
    ag_req_fail(req, AG_EUNAVAIL, "database down");
    ok(req->status == 503 && strstr(req->headers.data, "Retry-After: 1\r\n") != NULL,
       "an unavailable failure is 503 with Retry-After");
    ag_req_fail(req, AG_EINTERNAL, "secret detail");
    ok(req->status == 500 && strstr(req->body.data, "secret detail") == NULL,
       "a 500 keeps its details in the log, not the body");

    ag_buf_fini(&f.req.headers);
    ag_buf_fini(&f.req.body);
    ag_arena_free(f.a);
    return done_testing();
}
