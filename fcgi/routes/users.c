/* fcgi/routes/users.c — /users: profiles, search, updates, deletion, follows. */
#include "app.h"
#include "validate.h"

#include <string.h>

#define PROFILE_TTL 300 /* seconds */

/*
 * A public profile, served from its cached JSON (user:<id>:json, dropped on
 * every change by lib/model) or rendered from the user record and cached.
 */
static ag_status_t
send_user(ag_req_t *req, int64_t id)
{
    char        key[48];
    ag_user_t  *u = NULL;
    const char *json = NULL;
    size_t      len = 0;
    ag_status_t st;

    ag_users_cache_json_key(key, sizeof(key), id);
    if (req->cache_key && strcmp(req->cache_key, key) == 0) {
        /* fetched with the auth checks (see dispatch.c) */
        if (req->prefetched && ag_cache_reply_type(req->prefetched) == AG_CACHE_STR)
            json = ag_cache_reply_str(req->prefetched, &len);
    } else {
        ag_users_cache_get_json(FCGI_M(req), req->arena, id, &json, &len);
    }
    if (json)
        return ag_resp_raw(req, 200, "application/json", json, len);
    if ((st = ag_user_get(FCGI_M(req), req->arena, id, &u)) == AG_ENOTFOUND)
        return ag_req_fail(req, st, "no user %lld", (long long)id);
    if (st != AG_OK)
        return fcgi_db_fail(req, st, "user lookup");
    json = ag_json_dump(ag_json_on_arena(req->arena, fcgi_user_json(u)), &len);
    ag_users_cache_put_json(FCGI_M(req), id, json, PROFILE_TTL);
    return ag_resp_raw(req, 200, "application/json", json, len);
}

ag_status_t
fcgi_users_me(ag_req_t *req)
{
    return send_user(req, req->user_id);
}

ag_status_t
fcgi_users_get(ag_req_t *req)
{
    int64_t     id;
    ag_status_t st;
    if ((st = ag_req_param_id(req, "id", &id)) != AG_OK)
        return st;
    return send_user(req, id);
}

ag_status_t
fcgi_users_list(ag_req_t *req)
{
    const char    *q = ag_req_query(req, "q");
    ag_page_req_t  pg;
    ag_user_page_t page;
    ag_status_t    st;

    if ((st = fcgi_page_params(req, &pg)) != AG_OK)
        return st;
    if (q && strlen(q) > 64)
        return ag_req_fail(req, AG_EBADREQ, "q must be at most 64 characters");
    if ((st = ag_user_search(FCGI_M(req), req->arena, q, &pg, &page)) != AG_OK)
        return fcgi_db_fail(req, st, "user search");
    return ag_resp_json(req, 200, FCGI_PAGE_JSON(page, fcgi_user_item, id));
}

static ag_status_t
self_only(ag_req_t *req, int64_t *id, const char *verb)
{
    ag_status_t st;
    if ((st = ag_req_param_id(req, "id", id)) != AG_OK)
        return st;
    if (*id != req->user_id)
        return ag_req_fail(req, AG_EFORBIDDEN, "you may %s only your own account", verb);
    return AG_OK;
}

ag_status_t
fcgi_users_patch(ag_req_t *req)
{
    fcgi_app_t     *app = FCGI_APP(req);
    ag_json_t      *body = NULL;
    ag_user_patch_t p = {false};
    ag_user_t      *u = NULL;
    const char     *why = NULL;
    char            msg[96];
    int64_t         id;
    ag_status_t     st;

    if ((st = self_only(req, &id, "update")) != AG_OK ||
        (st = ag_req_json_body(req, app->body_max, &body)) != AG_OK ||
        (st = fcgi_opt_str(req, body, "displayName", &p.display_name, &p.set_display_name)) !=
            AG_OK ||
        (st = fcgi_opt_str(req, body, "bio", &p.bio, &p.set_bio)) != AG_OK ||
        (st = fcgi_opt_str(req, body, "avatarUrl", &p.avatar_url, &p.set_avatar_url)) != AG_OK)
        return st;
    /* unknown members are ignored, like every REST body here */
    if ((p.display_name &&
         (why = fcgi_check_text("displayName", p.display_name, 1, 64, msg, sizeof(msg)))) ||
        (p.bio && (why = fcgi_check_text("bio", p.bio, 0, 1000, msg, sizeof(msg)))))
        return ag_req_fail(req, AG_EBADREQ, "%s", why);
    if (p.avatar_url &&
        (strlen(p.avatar_url) > 2048 ||
         (strncmp(p.avatar_url, "https://", 8) != 0 && strncmp(p.avatar_url, "http://", 7) != 0)))
        return ag_req_fail(req, AG_EBADREQ, "avatarUrl must be an http(s) URL of at most 2048 bytes");
    if ((st = ag_user_update(&app->model, req->arena, id, &p, &u)) == AG_ENOTFOUND)
        return ag_req_fail(req, st, "no user %lld", (long long)id);
    if (st != AG_OK)
        return fcgi_db_fail(req, st, "user update");
    return ag_resp_json(req, 200, fcgi_user_json(u));
}

ag_status_t
fcgi_users_delete(ag_req_t *req)
{
    ag_user_deleted_t d;
    int64_t           id;
    ag_status_t       st;

    if ((st = self_only(req, &id, "delete")) != AG_OK)
        return st;
    /* owned channels pass on, the rest cascades; the user cache can never hold it again */
    st = ag_user_delete(FCGI_M(req), req->arena, id, &d);
    if (st == AG_ENOTFOUND)
        return ag_req_fail(req, AG_ENOTFOUND, "no user %lld", (long long)id);
    if (st == AG_ECONFLICT)
        return ag_req_fail(req, AG_ECONFLICT, "a channel you own changed meanwhile; retry");
    if (st == AG_EUNAVAIL)
        return ag_req_fail(req, st,
                           "user deletion: PostgreSQL or Redis unavailable; nothing "
                           "was deleted, retry shortly");
    if (st != AG_OK)
        return fcgi_db_fail(req, st, "user deletion");
    return ag_resp_empty(req, 204);
}

static ag_status_t
follow_target(ag_req_t *req, int64_t *id)
{
    ag_status_t st;
    if ((st = ag_req_param_id(req, "id", id)) != AG_OK)
        return st;
    if (*id == req->user_id)
        return ag_req_fail(req, AG_EBADREQ, "you cannot follow yourself");
    return AG_OK;
}

ag_status_t
fcgi_follow_put(ag_req_t *req)
{
    int64_t     id;
    ag_status_t st;

    if ((st = follow_target(req, &id)) != AG_OK)
        return st;
    /* a new follow notifies (new_follower), at most once a day per pair: lib/model */
    if ((st = ag_follow(FCGI_M(req), req->arena, req->user_id, id)) == AG_ENOTFOUND)
        return ag_req_fail(req, AG_ENOTFOUND, "no user %lld", (long long)id);
    if (st != AG_OK)
        return fcgi_db_fail(req, st, "follow");
    return ag_resp_empty(req, 204);
}

ag_status_t
fcgi_follow_delete(ag_req_t *req)
{
    int64_t     id;
    ag_status_t st;

    if ((st = follow_target(req, &id)) != AG_OK)
        return st;
    if ((st = ag_unfollow(FCGI_M(req), req->arena, req->user_id, id)) != AG_OK)
        return fcgi_db_fail(req, st, "unfollow");
    return ag_resp_empty(req, 204);
}
