/*
 * fcgi/routes/channels.c — /channels: create, list, read, update, delete.
 * A private channel is 404 to a non-member for every verb (CONTRACT §5).
 */
#include "app.h"
#include "validate.h"

#include <stdio.h>
#include <string.h>

#define CHANNEL_COLS "c.id, c.name, c.topic, c.visibility, c.owner_id, c.member_count, " \
    FCGI_TS("c.created_at") " AS created_at"

/*
 * Load the caller's access to {id}. Sets *acc; answers 404 itself when the
 * channel is missing or private to a non-member.
 */
static ag_status_t
load_access(ag_req_t *req, int64_t *id, ag_channel_access_t *acc)
{
    ag_status_t st;
    if ((st = ag_req_param_id(req, "id", id)) != AG_OK)
        return st;
    if ((st = ag_channel_access(FCGI_M(req), req->arena, *id, req->user_id, acc)) != AG_OK)
        return fcgi_db_fail(req, st, "channel lookup");
    if (!ag_channel_can_read(acc))
        return ag_req_fail(req, AG_ENOTFOUND, "no channel %lld", (long long)*id);
    return AG_OK;
}

static bool
is_manager(const ag_channel_access_t *acc)
{
    return acc->role && (strcmp(acc->role, "owner") == 0 || strcmp(acc->role, "admin") == 0);
}

static ag_status_t
check_visibility(ag_req_t *req, const char *v)
{
    if (v && strcmp(v, "public") != 0 && strcmp(v, "private") != 0)
        return ag_req_fail(req, AG_EBADREQ, "visibility must be \"public\" or \"private\"");
    return AG_OK;
}

static ag_status_t
send_channel(ag_req_t *req, int status, int64_t id)
{
    char         ids[24], me[24];
    ag_db_res_t *r = NULL;
    const char  *p[] = {fcgi_id(ids, id), fcgi_id(me, req->user_id)};
    ag_status_t  st = ag_db_exec(FCGI_DB(req), req->arena,
                                 "SELECT " CHANNEL_COLS ", m.role AS my_role FROM channels c "
                                 "LEFT JOIN memberships m ON m.channel_id = c.id "
                                 "AND m.user_id = $2::bigint WHERE c.id = $1::bigint",
                                 2, p, &r);
    if (st != AG_OK)
        return fcgi_db_fail(req, st, "channel lookup");
    if (ag_db_rows(r) == 0)
        return ag_req_fail(req, AG_ENOTFOUND, "no channel %s", ids);
    return ag_resp_json(req, status, fcgi_channel_json(r, 0));
}

ag_status_t
fcgi_channels_create(ag_req_t *req)
{
    fcgi_app_t  *app = FCGI_APP(req);
    ag_json_t   *body = NULL;
    const char  *name = NULL, *topic = NULL, *vis = NULL, *why = NULL;
    bool         has_topic;
    char         me[24], msg[96], subj[64];
    ag_db_res_t *r = NULL;
    ag_status_t  st;

    if ((st = ag_req_json_body(req, app->body_max, &body)) != AG_OK)
        return st;
    if (ag_json_get_str(body, "name", &name) != AG_OK)
        return ag_req_fail(req, AG_EBADREQ, "name is required and must be a string");
    if (ag_json_get_str(body, "visibility", &vis) != AG_OK)
        return ag_req_fail(req, AG_EBADREQ, "visibility is required: \"public\" or \"private\"");
    if ((st = fcgi_opt_str(req, body, "topic", &topic, &has_topic)) != AG_OK ||
        (st = check_visibility(req, vis)) != AG_OK)
        return st;
    if ((why = fcgi_check_text("name", name, 1, 80, msg, sizeof(msg))) ||
        (topic && (why = fcgi_check_text("topic", topic, 0, 500, msg, sizeof(msg)))))
        return ag_req_fail(req, AG_EBADREQ, "%s", why);
    const char *p[] = {name, topic, vis, fcgi_id(me, req->user_id)};
    /* the channel and its owner's membership in one statement: never one without the other */
    st = ag_db_exec(app->model.db, req->arena,
                    "WITH c AS (INSERT INTO channels (name, topic, visibility, owner_id) "
                    "VALUES ($1, $2, $3, $4::bigint) RETURNING id), "
                    "m AS (INSERT INTO memberships (channel_id, user_id, role) "
                    "SELECT id, $4::bigint, 'owner' FROM c) SELECT id FROM c",
                    4, p, &r);
    if (st != AG_OK)
        return fcgi_db_fail(req, st, "channel creation");
    int64_t id = ag_db_i64(r, 0, 0);
    ag_subs_changed(&app->model, req->user_id, id, true);
    snprintf(subj, sizeof(subj), "channel.%lld.member.joined", (long long)id);
    ag_event_emit(&app->model, subj, "channelId", ag_db_val(r, 0, 0), "userId", me, NULL);
    return send_channel(req, 201, id);
}

ag_status_t
fcgi_channels_list(ag_req_t *req)
{
    const char  *member = ag_req_query(req, "member");
    char         me[24];
    fcgi_page_t  pg;
    ag_db_res_t *r = NULL;
    ag_status_t  st;

    if ((st = fcgi_page_params(req, &pg)) != AG_OK)
        return st;
    if (member && strcmp(member, "me") != 0)
        return ag_req_fail(req, AG_EBADREQ, "member accepts only \"me\"");
    const char *p[] = {pg.after, pg.fetch, fcgi_id(me, req->user_id), member ? "t" : "f"};
    if (member) {
        /*
         * member=me: the caller's channels, from their memberships in channel order
         * (memberships_by_user). A statement of its own, planned once per connection:
         * in the shared one below the flag made PostgreSQL plan on every execution.
         */
        st = ag_db_exec_generic(FCGI_DB(req), req->arena,
                                "SELECT " CHANNEL_COLS ", m.role AS my_role FROM memberships m "
                                "JOIN channels c ON c.id = m.channel_id "
                                "WHERE m.user_id = $3::bigint AND m.channel_id > $1::bigint "
                                "ORDER BY m.channel_id LIMIT $2::int",
                                3, p, &r);
    } else {
        /* every public channel and the caller's private ones */
        st = ag_db_exec(FCGI_DB(req), req->arena,
                        "SELECT " CHANNEL_COLS ", m.role AS my_role FROM channels c "
                        "LEFT JOIN memberships m ON m.channel_id = c.id AND m.user_id = $3::bigint "
                        "WHERE c.id > $1::bigint AND (m.user_id IS NOT NULL OR "
                        "(NOT $4::bool AND c.visibility = 'public')) ORDER BY c.id LIMIT $2::int",
                        4, p, &r);
    }
    if (st != AG_OK)
        return fcgi_db_fail(req, st, "channel list");
    ag_json_t *page = fcgi_page_json(r, pg.limit, fcgi_channel_json, "id");
    /* your own channels carry your unread and mentions counts (CONTRACT §9) */
    if (member && (st = fcgi_attention_add_counts(req, page)) != AG_OK) {
        ag_json_free(page);
        return st;
    }
    return ag_resp_json(req, 200, page);
}

ag_status_t
fcgi_channels_get(ag_req_t *req)
{
    ag_channel_access_t acc;
    int64_t             id;
    ag_status_t         st;
    if ((st = load_access(req, &id, &acc)) != AG_OK)
        return st;
    return send_channel(req, 200, id);
}

ag_status_t
fcgi_channels_patch(ag_req_t *req)
{
    fcgi_app_t         *app = FCGI_APP(req);
    ag_channel_access_t acc;
    ag_json_t          *body = NULL;
    const char         *name, *topic, *vis, *why = NULL;
    bool                has_name, has_topic, has_vis;
    char                ids[24], msg[96], subj[64];
    int64_t             id;
    ag_status_t         st;

    if ((st = load_access(req, &id, &acc)) != AG_OK)
        return st;
    if (!is_manager(&acc))
        return ag_req_fail(req, AG_EFORBIDDEN, "only the channel's owner or an admin may change it");
    if ((st = ag_req_json_body(req, app->body_max, &body)) != AG_OK ||
        (st = fcgi_opt_str(req, body, "name", &name, &has_name)) != AG_OK ||
        (st = fcgi_opt_str(req, body, "topic", &topic, &has_topic)) != AG_OK ||
        (st = fcgi_opt_str(req, body, "visibility", &vis, &has_vis)) != AG_OK ||
        (st = check_visibility(req, vis)) != AG_OK)
        return st;
    if ((has_name && !name) || (has_vis && !vis))
        return ag_req_fail(req, AG_EBADREQ, "name and visibility cannot be null");
    if ((name && (why = fcgi_check_text("name", name, 1, 80, msg, sizeof(msg)))) ||
        (topic && (why = fcgi_check_text("topic", topic, 0, 500, msg, sizeof(msg)))))
        return ag_req_fail(req, AG_EBADREQ, "%s", why);
    const char *p[] = {fcgi_id(ids, id), name, has_topic ? "t" : "f", topic, vis};
    st = ag_db_exec(app->model.db, req->arena,
                    "UPDATE channels SET name = coalesce($2, name), "
                    "topic = CASE WHEN $3::bool THEN $4 ELSE topic END, "
                    "visibility = coalesce($5, visibility), updated_at = now() "
                    "WHERE id = $1::bigint",
                    5, p, NULL);
    if (st != AG_OK)
        return fcgi_db_fail(req, st, "channel update");
    snprintf(subj, sizeof(subj), "channel.%s.updated", ids);
    ag_event_emit(&app->model, subj, "channelId", ids, NULL);
    return send_channel(req, 200, id);
}

ag_status_t
fcgi_channels_delete(ag_req_t *req)
{
    fcgi_app_t         *app = FCGI_APP(req);
    ag_channel_access_t acc;
    ag_db_res_t        *r = NULL;
    char                ids[24], subj[64];
    int64_t             id;
    ag_status_t         st;

    if ((st = load_access(req, &id, &acc)) != AG_OK)
        return st;
    if (!is_manager(&acc))
        return ag_req_fail(req, AG_EFORBIDDEN, "only the channel's owner or an admin may delete it");
    const char *p[] = {fcgi_id(ids, id)};
    /* read the members before the cascade removes them: their subscriptions change */
    st = ag_db_exec(app->model.db, req->arena,
                    "WITH gone AS (DELETE FROM channels WHERE id = $1::bigint RETURNING id) "
                    "SELECT m.user_id FROM memberships m WHERE m.channel_id = $1::bigint",
                    1, p, &r);
    if (st != AG_OK)
        return fcgi_db_fail(req, st, "channel deletion");
    for (int i = 0; i < ag_db_rows(r); i++)
        ag_subs_changed(&app->model, ag_db_i64(r, i, 0), id, false);
    snprintf(subj, sizeof(subj), "channel.%s.updated", ids);
    ag_event_emit(&app->model, subj, "channelId", ids, "deleted", "true", NULL);
    return ag_resp_empty(req, 204);
}

/*
 * POST /channels/{id}/owner {userId} (CONTRACT §9): the owner hands the
 * channel to a member, who becomes owner; the old owner becomes an admin.
 */
ag_status_t
fcgi_channels_owner(ag_req_t *req)
{
    fcgi_app_t         *app = FCGI_APP(req);
    ag_channel_access_t acc;
    ag_json_t          *body = NULL;
    const char         *to_s = NULL;
    char                ids[24], subj[64];
    int64_t             id, to;
    ag_status_t         st;

    if ((st = load_access(req, &id, &acc)) != AG_OK)
        return st;
    if (acc.role == NULL || strcmp(acc.role, "owner") != 0)
        return ag_req_fail(req, AG_EFORBIDDEN, "only the channel's owner may hand it over");
    if ((st = ag_req_json_body(req, app->body_max, &body)) != AG_OK)
        return st;
    if (ag_json_get_str(body, "userId", &to_s) != AG_OK || ag_parse_i64(to_s, &to) != AG_OK ||
        to <= 0)
        return ag_req_fail(req, AG_EBADREQ, "userId is required: a user id as a decimal string");
    st = ag_channel_transfer(&app->model, req->arena, id, req->user_id, to);
    if (st == AG_ENOTFOUND)
        return ag_req_fail(req, AG_EBADREQ, "the new owner must be a member of the channel");
    if (st == AG_EFORBIDDEN) /* handed over meanwhile */
        return ag_req_fail(req, st, "only the channel's owner may hand it over");
    if (st != AG_OK)
        return fcgi_db_fail(req, st, "ownership transfer");
    if (to != req->user_id) {
        fcgi_id(ids, id);
        snprintf(subj, sizeof(subj), "channel.%s.updated", ids);
        ag_event_emit(&app->model, subj, "channelId", ids, NULL);
    }
    return send_channel(req, 200, id);
}
