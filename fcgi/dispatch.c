/* fcgi/dispatch.c — the route table of agora.fcgi. */
#include "app.h"

static const ag_route_t routes[] = {
    {"GET", "/api/v1/health", fcgi_health_get},
};

ag_status_t
fcgi_dispatch(ag_req_t *req)
{
    ag_status_t st = ag_http_route(req, routes, AG_ARRAY_LEN(routes));
    if (st == AG_DECLINED)
        return ag_req_fail(req, AG_ENOTFOUND, "no route for %s %s", req->method, req->path);
    return st;
}
