/*
 * fcgi/routes/health.c — GET /api/v1/health: one round trip to each
 * dependency; 503 naming every failing check. Never blocks longer than the
 * configured connect timeouts.
 */
#include "app.h"

#include <stdio.h>

ag_status_t
fcgi_health_get(ag_req_t *req)
{
    fcgi_app_t *app = FCGI_APP(req);
    ag_json_t  *body = ag_json_obj(), *checks = ag_json_obj();
    const char *failed[4];
    int         nfailed = 0;

    struct { const char *name; ag_status_t st; } c[] = {
        {"postgres", ag_db_health(app->model.db)},
        {"redis", ag_cache_health(app->model.cache)},
        {"nats", app->model.events ? ag_events_health(app->model.events) : AG_EUNAVAIL},
        {"content", AG_OK},
    };
    c[3].st = app->content ? ag_content_health(app->content) : AG_EUNAVAIL;
    for (size_t i = 0; i < AG_ARRAY_LEN(c); i++) {
        ag_json_set_str(checks, c[i].name, c[i].st == AG_OK ? "ok" : "unavailable");
        if (c[i].st != AG_OK)
            failed[nfailed++] = c[i].name;
    }
    ag_json_set_str(body, "status", nfailed ? "unavailable" : "ok");
    ag_json_set(body, "checks", checks);
    if (nfailed) {
        char msg[128];
        int  n = snprintf(msg, sizeof(msg), "unavailable:");
        for (int i = 0; i < nfailed && n < (int)sizeof(msg); i++)
            n += snprintf(msg + n, sizeof(msg) - (size_t)n, " %s", failed[i]);
        /* the envelope carries the error; checks say which service, as the contract shows */
        ag_json_t *err = ag_json_obj();
        ag_json_set_str(err, "code", "unavailable");
        ag_json_set(err, "message", ag_json_str(msg));
        ag_json_set(body, "error", err);
        ag_resp_header(req, "Retry-After", "1");
        return ag_resp_json(req, 503, body);
    }
    return ag_resp_json(req, 200, body);
}
