/*
 * fcgi/routes/members.c — /channels/{id}/members. Who may add, change and
 * remove whom is lib/model's (access.c: joining a public channel is
 * self-service; the owner and admins manage members, only the owner manages
 * admins, the owner's role moves only with the ownership, POST
 * /channels/{id}/owner); the change happens only while the target's role is
 * still the one the rules decided on (members.c), else 409.
 */
#include "app.h"

#include <string.h>

static ag_status_t
send_member(ag_req_t *req, int status, int64_t cid, int64_t uid)
{
    ag_member_t *mb = NULL;
    ag_status_t  st = ag_member_get(FCGI_M(req), req->arena, cid, uid, &mb);

    if (st == AG_ENOTFOUND)
        return ag_req_fail(req, st, "no such member");
    if (st != AG_OK)
        return fcgi_db_fail(req, st, "member lookup");
    return ag_resp_json(req, status, fcgi_member_json(mb));
}

ag_status_t
fcgi_members_list(ag_req_t *req)
{
    ag_channel_access_t acc;
    int64_t             cid;
    ag_page_req_t       pg;
    ag_member_page_t    page;
    ag_status_t         st;

    if ((st = fcgi_channel_access(req, "id", AG_ACCESS_READ, &cid, &acc)) != AG_OK ||
        (st = fcgi_page_params(req, &pg)) != AG_OK)
        return st;
    if ((st = ag_member_list(FCGI_M(req), req->arena, cid, &pg, &page)) != AG_OK)
        return fcgi_db_fail(req, st, "member list");
    return ag_resp_json(req, 200, FCGI_PAGE_JSON(page, fcgi_member_item, user_id));
}

ag_status_t
fcgi_members_put(ag_req_t *req)
{
    ag_channel_access_t acc, target;
    ag_json_t          *body = NULL;
    const char         *role = NULL, *why = NULL;
    int64_t             cid, uid;
    bool                inserted;
    ag_status_t         st;

    if ((st = fcgi_channel_access(req, "id", AG_ACCESS_READ, &cid, &acc)) != AG_OK ||
        (st = ag_req_param_id(req, "userId", &uid)) != AG_OK)
        return st;
    /* the body is optional ({} or none); when present it must be JSON */
    if (req->content_length > 0 &&
        (st = ag_req_json_body(req, FCGI_APP(req)->body_max, &body)) != AG_OK)
        return st;
    if (body && ag_json_get_str(body, "role", &role) == AG_EBADREQ)
        return ag_req_fail(req, AG_EBADREQ, "role must be a string");
    if (role && strcmp(role, "member") != 0 && strcmp(role, "admin") != 0)
        return ag_req_fail(req, AG_EBADREQ, "role must be \"member\" or \"admin\"");
    if ((st = ag_channel_access(FCGI_M(req), req->arena, cid, uid, &target)) != AG_OK)
        return fcgi_db_fail(req, st, "member lookup");
    st = ag_access_member_set(&acc, target.role, uid == req->user_id, role, &why);
    if (st != AG_OK)
        return fcgi_access_fail(req, st, why, cid);
    st = ag_member_put(FCGI_M(req), req->arena, cid, uid, role, target.role, &inserted);
    if (st == AG_ENOTFOUND)
        return ag_req_fail(req, AG_ENOTFOUND, "no user %lld", (long long)uid);
    if (st == AG_ECONFLICT)
        return ag_req_fail(req, st, "the membership changed meanwhile; read it and retry");
    if (st != AG_OK)
        return fcgi_db_fail(req, st, "membership");
    return send_member(req, inserted ? 201 : 200, cid, uid);
}

ag_status_t
fcgi_members_delete(ag_req_t *req)
{
    ag_channel_access_t acc, target;
    const char         *why = NULL;
    int64_t             cid, uid;
    ag_status_t         st;

    if ((st = fcgi_channel_access(req, "id", AG_ACCESS_READ, &cid, &acc)) != AG_OK ||
        (st = ag_req_param_id(req, "userId", &uid)) != AG_OK)
        return st;
    if ((st = ag_channel_access(FCGI_M(req), req->arena, cid, uid, &target)) != AG_OK)
        return fcgi_db_fail(req, st, "member lookup");
    st = ag_access_member_remove(&acc, target.role, uid == req->user_id, &why);
    if (st != AG_OK)
        return fcgi_access_fail(req, st, why, cid);
    if (target.role == NULL)
        return ag_resp_empty(req, 204); /* not a member: nothing to remove */
    st = ag_member_remove(FCGI_M(req), req->arena, cid, uid, target.role);
    if (st == AG_ECONFLICT)
        return ag_req_fail(req, st, "the membership changed meanwhile; read it and retry");
    if (st != AG_OK)
        return fcgi_db_fail(req, st, "membership removal");
    return ag_resp_empty(req, 204);
}
