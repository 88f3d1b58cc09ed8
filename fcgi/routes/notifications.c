/* fcgi/routes/notifications.c — GET /notifications, POST /notifications/read. */
#include "app.h"

#include <stdio.h>

ag_status_t
fcgi_notifications_list(ag_req_t *req)
{
    char         me[24];
    fcgi_page_t  pg;
    ag_db_res_t *r = NULL;
    ag_status_t  st;

    if ((st = fcgi_page_params(req, &pg)) != AG_OK)
        return st;
    const char *p[] = {fcgi_id(me, req->user_id), pg.after, pg.fetch};
    /* newest first: the cursor is the last id shown, the next page has smaller ids */
    st = ag_db_exec(FCGI_DB(req), req->arena,
                    "SELECT id, kind, actor_id, channel_id, post_id, read, "
                    FCGI_TS("created_at") " AS created_at FROM notifications "
                    "WHERE user_id = $1::bigint AND ($2::bigint = 0 OR id < $2::bigint) "
                    "ORDER BY id DESC LIMIT $3::int",
                    3, p, &r);
    if (st != AG_OK)
        return fcgi_db_fail(req, st, "notifications");
    return ag_resp_json(req, 200, fcgi_page_json(r, pg.limit, fcgi_notification_json, "id"));
}

ag_status_t
fcgi_notifications_read(ag_req_t *req)
{
    ag_json_t  *body = NULL;
    const char *s = NULL;
    int64_t     upto = 0;
    char        up[24], me[24];
    ag_status_t st;

    if ((st = ag_req_json_body(req, FCGI_APP(req)->body_max, &body)) != AG_OK)
        return st;
    /* ids are strings in this API; a number is accepted too */
    if (!(ag_json_get_str(body, "upTo", &s) == AG_OK && ag_parse_i64(s, &upto) == AG_OK) &&
        ag_json_get_i64(body, "upTo", &upto) != AG_OK)
        return ag_req_fail(req, AG_EBADREQ, "upTo is required: a notification id");
    const char *p[] = {fcgi_id(me, req->user_id), fcgi_id(up, upto)};
    st = ag_db_exec(FCGI_DB(req), req->arena,
                    "UPDATE notifications SET read = true WHERE user_id = $1::bigint "
                    "AND id <= $2::bigint AND NOT read",
                    2, p, NULL);
    if (st != AG_OK)
        return fcgi_db_fail(req, st, "mark read");
    return ag_resp_empty(req, 204);
}
