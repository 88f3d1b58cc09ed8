/*
 * fcgi/routes/members.c — /channels/{id}/members. Joining a public channel
 * is self-service; adding to a private one, choosing roles and removing
 * others is for the owner and admins; only the owner changes or removes an
 * admin. The owner cannot leave, be removed or be demoted: the ownership
 * moves with POST /channels/{id}/owner (channels.c) or, when the owner's
 * account is deleted, to a successor (lib/model, ag_user_delete).
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

/*
 * May the caller give `target_role`'s holder the role `role` (NULL: keep it)?
 * A role change follows the rule of removal (fcgi_members_delete): the owner
 * and admins manage members, only the owner manages admins, and the owner's
 * own role moves only with the ownership (POST /channels/{id}/owner). On
 * oneself: an admin may step down to member, nobody may promote themselves.
 * Answers the refusal itself; AG_OK when allowed.
 */
static ag_status_t
role_change_allowed(ag_req_t *req, const ag_channel_access_t *acc, const char *target_role,
                    bool self, const char *role)
{
    bool by_owner = acc->role && strcmp(acc->role, "owner") == 0;

    if (!self && !manages(acc))
        return ag_req_fail(req, AG_EFORBIDDEN, "only the owner or an admin may change members");
    if (role == NULL || (self && strcmp(role, target_role) == 0))
        return AG_OK; /* no change: PUT is idempotent for a member */
    if (strcmp(target_role, "owner") == 0)
        return ag_req_fail(req, self ? AG_ECONFLICT : AG_EFORBIDDEN,
                           "the owner's role changes only with the ownership: "
                           "POST /channels/{id}/owner names the new owner");
    if (self)
        return strcmp(role, "member") == 0
                   ? AG_OK
                   : ag_req_fail(req, AG_EFORBIDDEN, "only the owner or an admin may grant roles");
    if (strcmp(target_role, "admin") == 0 && !by_owner)
        return ag_req_fail(req, AG_EFORBIDDEN, "only the owner may change an admin's role");
    return AG_OK;
}

/* May the caller add uid (not a member yet) with `role`? Answers the refusal itself. */
static ag_status_t
add_allowed(ag_req_t *req, const ag_channel_access_t *acc, bool self, const char *role)
{
    if (manages(acc))
        return AG_OK;
    if (!self || !acc->is_public)
        return ag_req_fail(req, AG_EFORBIDDEN,
                           "only the owner or an admin may add members to this channel");
    if (role && strcmp(role, "member") != 0)
        return ag_req_fail(req, AG_EFORBIDDEN, "only the owner or an admin may grant roles");
    return AG_OK;
}

ag_status_t
fcgi_members_put(ag_req_t *req)
{
    ag_channel_access_t acc, target;
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
    if ((st = ag_channel_access(FCGI_M(req), req->arena, cid, uid, &target)) != AG_OK)
        return fcgi_db_fail(req, st, "member lookup");
    st = target.role ? role_change_allowed(req, &acc, target.role, self, role)
                     : add_allowed(req, &acc, self, role);
    if (st != AG_OK)
        return st;
    /*
     * Insert, or change the role of an existing member, only if the target's role
     * is still the one the decision above was made on ($4; NULL: not a member):
     * a concurrent change (a promotion, a transfer) makes this a 409, never a
     * change the rules would have refused.
     */
    const char *p[] = {fcgi_id(c, cid), fcgi_id(u, uid), role, target.role};
    st = ag_db_exec(FCGI_DB(req), req->arena,
                    "INSERT INTO memberships (channel_id, user_id, role) "
                    "VALUES ($1::bigint, $2::bigint, coalesce($3, 'member')) "
                    "ON CONFLICT (channel_id, user_id) DO UPDATE SET "
                    "role = coalesce($3, memberships.role) "
                    "WHERE memberships.role IS NOT DISTINCT FROM $4::text "
                    "RETURNING (xmax = 0) AS inserted",
                    4, p, &r);
    if (st == AG_ENOTFOUND)
        return ag_req_fail(req, AG_ENOTFOUND, "no user %s", u);
    if (st != AG_OK)
        return fcgi_db_fail(req, st, "membership");
    if (ag_db_rows(r) == 0)
        return ag_req_fail(req, AG_ECONFLICT,
                           "the membership changed meanwhile; read it and retry");
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
    if (target.role == NULL)
        return ag_resp_empty(req, 204); /* not a member: nothing to remove */
    if (strcmp(target.role, "owner") == 0)
        return ag_req_fail(req, uid == req->user_id ? AG_ECONFLICT : AG_EFORBIDDEN,
                           "the owner cannot leave or be removed; transfer the ownership "
                           "(POST /channels/{id}/owner) or delete the channel");
    if (strcmp(target.role, "admin") == 0 && uid != req->user_id && strcmp(acc.role, "owner") != 0)
        return ag_req_fail(req, AG_EFORBIDDEN, "only the owner may remove an admin");
    /* only while the role is still the one decided on (see fcgi_members_put) */
    const char *p[] = {fcgi_id(c, cid), fcgi_id(u, uid), target.role};
    st =
        ag_db_exec(FCGI_DB(req), req->arena,
                   "DELETE FROM memberships WHERE channel_id = $1::bigint AND user_id = $2::bigint "
                   "AND role = $3 RETURNING 1",
                   3, p, &r);
    if (st != AG_OK)
        return fcgi_db_fail(req, st, "membership removal");
    if (ag_db_rows(r) == 1) {
        member_event(req, cid, uid, false);
        return ag_resp_empty(req, 204);
    }
    if ((st = ag_channel_access(FCGI_M(req), req->arena, cid, uid, &target)) != AG_OK)
        return fcgi_db_fail(req, st, "member lookup");
    if (target.role != NULL)
        return ag_req_fail(req, AG_ECONFLICT,
                           "the membership changed meanwhile; read it and retry");
    return ag_resp_empty(req, 204); /* left meanwhile */
}
