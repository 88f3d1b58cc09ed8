/* fcgi/routes/notifications.c — GET /notifications, POST /notifications/read. */
#include "app.h"

ag_status_t
fcgi_notifications_list(ag_req_t *req)
{
    ag_page_req_t          pg;
    ag_notification_page_t page;
    ag_status_t            st;

    if ((st = fcgi_page_params(req, &pg)) != AG_OK)
        return st;
    /* newest first: the cursor is the last id shown, the next page has smaller ids */
    if ((st = ag_notify_list(FCGI_M(req), req->arena, req->user_id, &pg, &page)) != AG_OK)
        return fcgi_db_fail(req, st, "notifications");
    return ag_resp_json(req, 200, FCGI_PAGE_JSON(page, fcgi_notification_item, id));
}

ag_status_t
fcgi_notifications_read(ag_req_t *req)
{
    ag_json_t  *body = NULL;
    const char *s = NULL;
    int64_t     upto = 0;
    ag_status_t st;

    if ((st = ag_req_json_body(req, FCGI_APP(req)->body_max, &body)) != AG_OK)
        return st;
    /* ids are strings in this API; a number is accepted too */
    if (!(ag_json_get_str(body, "upTo", &s) == AG_OK && ag_parse_i64(s, &upto) == AG_OK) &&
        ag_json_get_i64(body, "upTo", &upto) != AG_OK)
        return ag_req_fail(req, AG_EBADREQ, "upTo is required: a notification id");
    if ((st = ag_notify_mark_read(FCGI_M(req), req->arena, req->user_id, upto)) != AG_OK)
        return fcgi_db_fail(req, st, "mark read");
    return ag_resp_empty(req, 204);
}
