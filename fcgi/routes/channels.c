/*
 * fcgi/routes/channels.c — /channels: create, list, read, update, delete,
 * hand over. A private channel is 404 to a non-member for every verb
 * (CONTRACT §5); who may do what is lib/model's (access.c).
 */
#include "app.h"
#include "validate.h"

#include <string.h>

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
    ag_channel_t *c = NULL;
    ag_status_t   st = ag_channel_get(FCGI_M(req), req->arena, id, req->user_id, &c);

    if (st == AG_ENOTFOUND)
        return ag_req_fail(req, st, "no channel %lld", (long long)id);
    if (st != AG_OK)
        return fcgi_db_fail(req, st, "channel lookup");
    return ag_resp_json(req, status, fcgi_channel_json(c));
}

ag_status_t
fcgi_channels_create(ag_req_t *req)
{
    fcgi_app_t *app = FCGI_APP(req);
    ag_json_t  *body = NULL;
    const char *name = NULL, *topic = NULL, *vis = NULL, *why = NULL;
    bool        has_topic;
    char        msg[96];
    int64_t     id;
    ag_status_t st;

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
    if ((st = ag_channel_create(&app->model, req->arena, req->user_id, name, topic, vis, &id)) !=
        AG_OK)
        return fcgi_db_fail(req, st, "channel creation");
    return send_channel(req, 201, id);
}

ag_status_t
fcgi_channels_list(ag_req_t *req)
{
    const char       *member = ag_req_query(req, "member");
    ag_page_req_t     pg;
    ag_channel_page_t page;
    ag_status_t       st;

    if ((st = fcgi_page_params(req, &pg)) != AG_OK)
        return st;
    if (member && strcmp(member, "me") != 0)
        return ag_req_fail(req, AG_EBADREQ, "member accepts only \"me\"");
    st = ag_channel_list(FCGI_M(req), req->arena, req->user_id, member != NULL, &pg, &page);
    if (st != AG_OK)
        return fcgi_db_fail(req, st, "channel list");
    ag_json_t *out = FCGI_PAGE_JSON(page, fcgi_channel_item, id);
    /* your own channels carry your unread and mentions counts (CONTRACT §9) */
    if (member && (st = fcgi_attention_add_counts(req, &page, out)) != AG_OK) {
        ag_json_free(out);
        return st;
    }
    return ag_resp_json(req, 200, out);
}

ag_status_t
fcgi_channels_get(ag_req_t *req)
{
    ag_channel_access_t acc;
    int64_t             id;
    ag_status_t         st;

    if ((st = fcgi_channel_access(req, "id", AG_ACCESS_READ, &id, &acc)) != AG_OK)
        return st;
    return send_channel(req, 200, id);
}

ag_status_t
fcgi_channels_patch(ag_req_t *req)
{
    fcgi_app_t         *app = FCGI_APP(req);
    ag_channel_access_t acc;
    ag_json_t          *body = NULL;
    ag_channel_patch_t  p = {NULL};
    const char         *why = NULL;
    bool                has_name, has_vis;
    char                msg[96];
    int64_t             id;
    ag_status_t         st;

    if ((st = fcgi_channel_access(req, "id", AG_ACCESS_UPDATE, &id, &acc)) != AG_OK)
        return st;
    if ((st = ag_req_json_body(req, app->body_max, &body)) != AG_OK ||
        (st = fcgi_opt_str(req, body, "name", &p.name, &has_name)) != AG_OK ||
        (st = fcgi_opt_str(req, body, "topic", &p.topic, &p.set_topic)) != AG_OK ||
        (st = fcgi_opt_str(req, body, "visibility", &p.visibility, &has_vis)) != AG_OK ||
        (st = check_visibility(req, p.visibility)) != AG_OK)
        return st;
    if ((has_name && !p.name) || (has_vis && !p.visibility))
        return ag_req_fail(req, AG_EBADREQ, "name and visibility cannot be null");
    if ((p.name && (why = fcgi_check_text("name", p.name, 1, 80, msg, sizeof(msg)))) ||
        (p.topic && (why = fcgi_check_text("topic", p.topic, 0, 500, msg, sizeof(msg)))))
        return ag_req_fail(req, AG_EBADREQ, "%s", why);
    if ((st = ag_channel_update(&app->model, req->arena, id, &p)) != AG_OK)
        return fcgi_db_fail(req, st, "channel update");
    return send_channel(req, 200, id);
}

ag_status_t
fcgi_channels_delete(ag_req_t *req)
{
    ag_channel_access_t acc;
    int64_t             id;
    ag_status_t         st;

    if ((st = fcgi_channel_access(req, "id", AG_ACCESS_DELETE, &id, &acc)) != AG_OK)
        return st;
    if ((st = ag_channel_delete(FCGI_M(req), req->arena, id)) != AG_OK)
        return fcgi_db_fail(req, st, "channel deletion");
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
    int64_t             id, to;
    ag_status_t         st;

    if ((st = fcgi_channel_access(req, "id", AG_ACCESS_TRANSFER, &id, &acc)) != AG_OK)
        return st;
    if ((st = ag_req_json_body(req, app->body_max, &body)) != AG_OK)
        return st;
    if (ag_json_get_str(body, "userId", &to_s) != AG_OK || ag_parse_i64(to_s, &to) != AG_OK ||
        to <= 0)
        return ag_req_fail(req, AG_EBADREQ, "userId is required: a user id as a decimal string");
    st = ag_channel_transfer(&app->model, req->arena, id, req->user_id, to);
    if (st == AG_ENOTFOUND)
        return ag_req_fail(req, AG_EBADREQ, "the new owner must be a member of the channel");
    if (st == AG_EFORBIDDEN) /* handed over meanwhile */
        return ag_req_fail(req, st, "%s", ag_access_refusal(AG_ACCESS_TRANSFER));
    if (st != AG_OK)
        return fcgi_db_fail(req, st, "ownership transfer");
    return send_channel(req, 200, id);
}
