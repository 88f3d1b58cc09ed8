/*
 * fcgi/routes/members.c — /channels/{id}/members. Joining a public channel
 * is self-service; adding to a private one, choosing roles and removing
 * others is for the owner and admins. The owner cannot leave (delete the
 * channel instead) and cannot be removed or demoted.
 */
#include "app.h"

#include <stdio.h>
#include <string.h>

static ag_status_t
access_of(ag_req_t *req, int64_t *cid, ag_channel_access_t *acc)
{
    ag_status_t st;
    if ((st = ag_req_param_id(req, "id", cid)) != AG_OK)
        return st;
    if ((st = ag_channel_access(FCGI_M(req), req->arena, *cid, req->user_id, acc)) != AG_OK)
        return fcgi_db_fail(req, st, "channel lookup");
    if (!acc->exists || (!acc->is_public && acc->role == NULL))
        return ag_req_fail(req, AG_ENOTFOUND, "no channel %lld", (long long)*cid);
    return AG_OK;
}

static bool
manages(const ag_channel_access_t *acc)
{
    return acc->role && (strcmp(acc->role, "owner") == 0 || strcmp(acc->role, "admin") == 0);
}

static void
member_event(ag_req_t *req, int64_t cid, int64_t uid, bool joined)
{
    char subj[80], c[24], u[24];
    snprintf(subj, sizeof(subj), "channel.%lld.member.%s", (long long)cid, joined ? "joined" : "left");
    ag_subs_changed(FCGI_M(req), uid, cid, joined);
    ag_event_emit(FCGI_M(req), subj, "channelId", fcgi_id(c, cid), "userId", fcgi_id(u, uid), NULL);
}

ag_status_t
fcgi_members_list(ag_req_t *req)
{
    ag_channel_access_t acc;
    int64_t             cid;
    fcgi_page_t         pg;
    char                c[24];
    ag_db_res_t        *r = NULL;
    ag_status_t         st;

    if ((st = access_of(req, &cid, &acc)) != AG_OK || (st = fcgi_page_params(req, &pg)) != AG_OK)
        return st;
    const char *p[] = {fcgi_id(c, cid), pg.after, pg.fetch};
    st = ag_db_exec(FCGI_DB(req), req->arena,
                    "SELECT m.user_id, u.username, u.display_name, m.role, "
                    FCGI_TS("m.joined_at") " AS joined_at FROM memberships m "
                    "JOIN users u ON u.id = m.user_id WHERE m.channel_id = $1::bigint "
                    "AND m.user_id > $2::bigint ORDER BY m.user_id LIMIT $3::int",
                    3, p, &r);
    if (st != AG_OK)
        return fcgi_db_fail(req, st, "member list");
    return ag_resp_json(req, 200, fcgi_page_json(r, pg.limit, fcgi_member_json, "user_id"));
}

static ag_status_t
send_member(ag_req_t *req, int status, int64_t cid, int64_t uid)
{
    char         c[24], u[24];
    ag_db_res_t *r = NULL;
    const char  *p[] = {fcgi_id(c, cid), fcgi_id(u, uid)};
    ag_status_t  st = ag_db_exec(FCGI_DB(req), req->arena,
                                 "SELECT m.user_id, u.username, u.display_name, m.role, "
                                 FCGI_TS("m.joined_at") " AS joined_at FROM memberships m "
                                 "JOIN users u ON u.id = m.user_id "
                                 "WHERE m.channel_id = $1::bigint AND m.user_id = $2::bigint",
                                 2, p, &r);
    if (st != AG_OK)
        return fcgi_db_fail(req, st, "member lookup");
    if (ag_db_rows(r) == 0)
        return ag_req_fail(req, AG_ENOTFOUND, "no such member");
    return ag_resp_json(req, status, fcgi_member_json(r, 0));
}

ag_status_t
fcgi_members_put(ag_req_t *req)
{
    ag_channel_access_t acc;
    ag_json_t          *body = NULL;
    const char         *role = NULL;
    int64_t             cid, uid;
    char                c[24], u[24];
    ag_db_res_t        *r = NULL;
    ag_status_t         st;

    if ((st = access_of(req, &cid, &acc)) != AG_OK ||
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
    bool self = uid == req->user_id;
    if (!manages(&acc)) {
        if (!self || !acc.is_public)
            return ag_req_fail(req, AG_EFORBIDDEN,
                               "only the owner or an admin may add members to this channel");
        if (role && strcmp(role, "member") != 0)
            return ag_req_fail(req, AG_EFORBIDDEN, "only the owner or an admin may grant roles");
    }
    const char *p[] = {fcgi_id(c, cid), fcgi_id(u, uid), role};
    /* insert, or change the role of an existing member (never the owner's) */
    st = ag_db_exec(FCGI_DB(req), req->arena,
                    "INSERT INTO memberships (channel_id, user_id, role) "
                    "VALUES ($1::bigint, $2::bigint, coalesce($3, 'member')) "
                    "ON CONFLICT (channel_id, user_id) DO UPDATE SET role = "
                    "CASE WHEN memberships.role = 'owner' OR $3 IS NULL THEN memberships.role "
                    "ELSE $3 END RETURNING (xmax = 0) AS inserted",
                    3, p, &r);
    if (st == AG_ENOTFOUND)
        return ag_req_fail(req, AG_ENOTFOUND, "no user %s", u);
    if (st != AG_OK)
        return fcgi_db_fail(req, st, "membership");
    bool inserted = ag_db_bool(r, 0, 0);
    if (inserted)
        member_event(req, cid, uid, true);
    return send_member(req, inserted ? 201 : 200, cid, uid);
}

ag_status_t
fcgi_members_delete(ag_req_t *req)
{
    ag_channel_access_t acc, target;
    int64_t             cid, uid;
    char                c[24], u[24];
    ag_db_res_t        *r = NULL;
    ag_status_t         st;

    if ((st = access_of(req, &cid, &acc)) != AG_OK ||
        (st = ag_req_param_id(req, "userId", &uid)) != AG_OK)
        return st;
    if (uid != req->user_id && !manages(&acc))
        return ag_req_fail(req, AG_EFORBIDDEN, "only the owner or an admin may remove others");
    if ((st = ag_channel_access(FCGI_M(req), req->arena, cid, uid, &target)) != AG_OK)
        return fcgi_db_fail(req, st, "member lookup");
    if (target.role && strcmp(target.role, "owner") == 0)
        return ag_req_fail(req, uid == req->user_id ? AG_ECONFLICT : AG_EFORBIDDEN,
                           "the owner cannot leave or be removed; delete the channel instead");
    if (target.role && strcmp(target.role, "admin") == 0 && uid != req->user_id &&
        strcmp(acc.role, "owner") != 0)
        return ag_req_fail(req, AG_EFORBIDDEN, "only the owner may remove an admin");
    const char *p[] = {fcgi_id(c, cid), fcgi_id(u, uid)};
    st = ag_db_exec(FCGI_DB(req), req->arena,
                    "DELETE FROM memberships WHERE channel_id = $1::bigint AND user_id = $2::bigint "
                    "RETURNING 1",
                    2, p, &r);
    if (st != AG_OK)
        return fcgi_db_fail(req, st, "membership removal");
    if (ag_db_rows(r) == 1)
        member_event(req, cid, uid, false);
    return ag_resp_empty(req, 204);
}
