/*
 * fcgi/routes/attention.c — what decides what a user is told (CONTRACT §9):
 * the unread and mentions counts on GET /channels?member=me, a member's
 * notification level of a channel (GET/PUT /channels/{id}/notifications)
 * and blocks (PUT/DELETE /users/{id}/block, GET /users/me/blocks). The counts,
 * levels and blocks live in lib/model/attention.c, who may set a level in
 * lib/model/access.c; this file parses, calls and renders.
 */
#include "app.h"

#include <stdio.h>
#include <string.h>

ag_status_t
fcgi_attention_add_counts(ag_req_t *req, const ag_channel_page_t *page, ag_json_t *json)
{
    ag_json_t             *items = ag_json_get(json, "items");
    int64_t               *ids = ag_arena_alloc(req->arena, sizeof(int64_t) * (page->n + 1));
    ag_attention_counts_t *counts = NULL;
    ag_status_t            st;

    if (ids == NULL)
        return ag_req_fail(req, AG_ENOMEM, "out of memory");
    for (size_t i = 0; i < page->n; i++)
        ids[i] = page->items[i].id;
    st = ag_attention_counts(FCGI_M(req), req->arena, req->user_id, ids, page->n, &counts);
    if (st != AG_OK)
        return fcgi_db_fail(req, st, "unread counts");
    for (size_t i = 0; i < page->n; i++)
        fcgi_attention_counts_set(ag_json_at(items, i), &counts[i]);
    return AG_OK;
}

/* {id} of a channel whose level the caller may see and set (AG_ACCESS_LEVEL); the
 * response is set otherwise. */
static ag_status_t
member_channel(ag_req_t *req, int64_t *id)
{
    ag_channel_access_t acc;
    return fcgi_channel_access(req, "id", AG_ACCESS_LEVEL, id, &acc);
}

static ag_status_t
send_level(ag_req_t *req, ag_notify_level_t level)
{
    ag_json_t *o = ag_json_obj();
    ag_json_set_str(o, "level", ag_notify_level_name(level));
    return ag_resp_json(req, 200, o);
}

ag_status_t
fcgi_channel_level_get(ag_req_t *req)
{
    ag_notify_level_t level;
    int64_t           id;
    ag_status_t       st;

    if ((st = member_channel(req, &id)) != AG_OK)
        return st;
    if ((st = ag_notify_level_get(FCGI_M(req), req->arena, req->user_id, id, &level)) != AG_OK)
        return fcgi_db_fail(req, st, "notification level");
    return send_level(req, level);
}

ag_status_t
fcgi_channel_level_put(ag_req_t *req)
{
    ag_json_t        *body = NULL;
    const char       *s = NULL;
    ag_notify_level_t level;
    int64_t           id;
    ag_status_t       st;

    if ((st = member_channel(req, &id)) != AG_OK ||
        (st = ag_req_json_body(req, FCGI_APP(req)->body_max, &body)) != AG_OK)
        return st;
    if (ag_json_get_str(body, "level", &s) != AG_OK || !ag_notify_level_parse(s, &level))
        return ag_req_fail(req, AG_EBADREQ, "level is required: \"all\", \"mentions\" or \"none\"");
    st = ag_notify_level_set(FCGI_M(req), req->arena, req->user_id, id, level);
    if (st == AG_ENOTFOUND) /* the channel was deleted meanwhile */
        return ag_req_fail(req, st, "no channel %lld", (long long)id);
    if (st != AG_OK)
        return fcgi_db_fail(req, st, "notification level");
    return send_level(req, level);
}

static ag_status_t
block(ag_req_t *req, bool on)
{
    int64_t     id;
    ag_status_t st;

    if ((st = ag_req_param_id(req, "id", &id)) != AG_OK)
        return st;
    if (id == req->user_id)
        return ag_req_fail(req, AG_EBADREQ, "you cannot block yourself");
    st = ag_block_set(FCGI_M(req), req->arena, req->user_id, id, on);
    if (st == AG_ENOTFOUND)
        return ag_req_fail(req, st, "no user %lld", (long long)id);
    if (st != AG_OK)
        return fcgi_db_fail(req, st, on ? "block" : "unblock");
    return ag_resp_empty(req, 204);
}

ag_status_t
fcgi_block_put(ag_req_t *req)
{
    return block(req, true);
}

ag_status_t
fcgi_block_delete(ag_req_t *req)
{
    return block(req, false);
}

ag_status_t
fcgi_blocks_list(ag_req_t *req)
{
    ag_page_req_t  pg;
    ag_user_page_t page;
    ag_status_t    st;

    if ((st = fcgi_page_params(req, &pg)) != AG_OK)
        return st;
    if ((st = ag_blocks_list(FCGI_M(req), req->arena, req->user_id, &pg, &page)) != AG_OK)
        return fcgi_db_fail(req, st, "blocks");
    return ag_resp_json(req, 200, FCGI_PAGE_JSON(page, fcgi_user_item, id));
}
