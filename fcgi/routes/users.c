/* fcgi/routes/users.c — /users: profiles, search, updates, deletion, follows. */
#include "app.h"
#include "validate.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#define PROFILE_TTL 300 /* seconds */

/*
 * A public profile, served from its cached JSON (user:<id>:json, dropped on
 * every change by ag_users_cache_forget) or built from PostgreSQL and cached.
 * Profiles are read far more often than written: the hit costs one Redis
 * round trip and no JSON work.
 */
static ag_status_t
send_user(ag_req_t *req, int64_t id)
{
    char              ids[24], key[48];
    ag_db_res_t      *r = NULL;
    ag_cache_reply_t *hit = NULL;
    const char       *p[] = {fcgi_id(ids, id)};
    size_t            len = 0;

    snprintf(key, sizeof(key), "user:%s:json", ids);
    const char *get[] = {"GET", key};
    if (req->cache_key && strcmp(req->cache_key, key) == 0)
        hit = req->prefetched;  /* fetched with the auth checks (see dispatch.c) */
    else if (ag_cache_cmd(FCGI_M(req)->cache, req->arena, &hit, 2, get) != AG_OK)
        hit = NULL;
    if (hit && ag_cache_reply_type(hit) == AG_CACHE_STR) {
        const char *json = ag_cache_reply_str(hit, &len);
        return ag_resp_raw(req, 200, "application/json", json, len);
    }
    ag_status_t st = ag_db_exec(FCGI_DB(req), req->arena,
                                "SELECT " FCGI_USER_COLS " FROM users u WHERE u.id = $1::bigint",
                                1, p, &r);
    if (st != AG_OK)
        return fcgi_db_fail(req, st, "user lookup");
    if (ag_db_rows(r) == 0)
        return ag_req_fail(req, AG_ENOTFOUND, "no user %s", ids);
    ag_json_t  *u = ag_json_on_arena(req->arena, fcgi_user_json(r, 0));
    const char *json = ag_json_dump(u, &len);
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

/* LIKE pattern text with its metacharacters escaped, so '%' and '_' match literally. */
static char *
like_escape(ag_arena_t *a, const char *s)
{
    char  *out = ag_arena_alloc(a, strlen(s) * 2 + 1), *o = out;
    if (out == NULL)
        return NULL;
    for (; *s; s++) {
        if (*s == '%' || *s == '_' || *s == '\\')
            *o++ = '\\';
        *o++ = *s;
    }
    *o = '\0';
    return out;
}

ag_status_t
fcgi_users_list(ag_req_t *req)
{
    const char  *q = ag_req_query(req, "q");
    fcgi_page_t  pg;
    ag_db_res_t *r = NULL;
    ag_status_t  st;

    if ((st = fcgi_page_params(req, &pg)) != AG_OK)
        return st;
    if (q && strlen(q) > 64)
        return ag_req_fail(req, AG_EBADREQ, "q must be at most 64 characters");
    char       *pat = q && *q ? like_escape(req->arena, q) : NULL;
    const char *p[] = {pg.after, pg.fetch, pat};
    /* prefix of the username (lowercase by rule) or substring of the display name */
    st = ag_db_exec(FCGI_DB(req), req->arena,
                    "SELECT " FCGI_USER_COLS " FROM users u WHERE u.id > $1::bigint AND "
                    "($3::text IS NULL OR u.username LIKE lower($3) || '%' "
                    " OR lower(u.display_name) LIKE '%' || lower($3) || '%') "
                    "ORDER BY u.id LIMIT $2::int",
                    3, p, &r);
    if (st != AG_OK)
        return fcgi_db_fail(req, st, "user search");
    return ag_resp_json(req, 200, fcgi_page_json(r, pg.limit, fcgi_user_json, "id"));
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
    fcgi_app_t  *app = FCGI_APP(req);
    ag_json_t   *body = NULL;
    const char  *dn, *bio, *av, *why = NULL;
    bool         has_dn, has_bio, has_av;
    char         ids[24], msg[96], subj[64];
    int64_t      id;
    ag_db_res_t *r = NULL;
    ag_status_t  st;

    if ((st = self_only(req, &id, "update")) != AG_OK ||
        (st = ag_req_json_body(req, app->body_max, &body)) != AG_OK ||
        (st = fcgi_opt_str(req, body, "displayName", &dn, &has_dn)) != AG_OK ||
        (st = fcgi_opt_str(req, body, "bio", &bio, &has_bio)) != AG_OK ||
        (st = fcgi_opt_str(req, body, "avatarUrl", &av, &has_av)) != AG_OK)
        return st;
    /* unknown members are ignored, like every REST body here */
    if ((dn && (why = fcgi_check_text("displayName", dn, 1, 64, msg, sizeof(msg)))) ||
        (bio && (why = fcgi_check_text("bio", bio, 0, 1000, msg, sizeof(msg)))))
        return ag_req_fail(req, AG_EBADREQ, "%s", why);
    if (av && (strlen(av) > 2048 ||
               (strncmp(av, "https://", 8) != 0 && strncmp(av, "http://", 7) != 0)))
        return ag_req_fail(req, AG_EBADREQ, "avatarUrl must be an http(s) URL of at most 2048 bytes");
    const char *p[] = {fcgi_id(ids, id), has_dn ? "t" : "f", dn, has_bio ? "t" : "f", bio,
                       has_av ? "t" : "f", av};
    st = ag_db_exec(app->model.db, req->arena,
                    "UPDATE users u SET "
                    "display_name = CASE WHEN $2::bool THEN $3 ELSE display_name END, "
                    "bio = CASE WHEN $4::bool THEN $5 ELSE bio END, "
                    "avatar_url = CASE WHEN $6::bool THEN $7 ELSE avatar_url END, "
                    "updated_at = now() WHERE u.id = $1::bigint RETURNING " FCGI_USER_COLS,
                    7, p, &r);
    if (st != AG_OK)
        return fcgi_db_fail(req, st, "user update");
    if (ag_db_rows(r) == 0)
        return ag_req_fail(req, AG_ENOTFOUND, "no user %s", ids);
    ag_users_cache_forget(&app->model, id);
    snprintf(subj, sizeof(subj), "user.%s.updated", ids);
    ag_event_emit(&app->model, subj, "userId", ids, NULL);
    return ag_resp_json(req, 200, fcgi_user_json(r, 0));
}

/* The events of a deletion: each owned channel's new owner (or its end), then the user. */
static void
deletion_events(fcgi_app_t *app, int64_t id, const ag_user_deleted_t *d)
{
    char subj[64], ids[24], cid[24];

    fcgi_id(ids, id);
    for (size_t i = 0; i < d->nowned; i++) {
        const ag_succession_t *s = &d->owned[i];
        snprintf(subj, sizeof(subj), "channel.%lld.updated", (long long)s->channel_id);
        fcgi_id(cid, s->channel_id);
        if (s->heir_id)
            ag_event_emit(&app->model, subj, "channelId", cid, NULL);
        else
            ag_event_emit(&app->model, subj, "channelId", cid, "deleted", "true", NULL);
    }
    for (size_t i = 0; i < d->nchannels; i++)
        ag_subs_changed(&app->model, id, d->channels[i], false);
    for (size_t i = 0; i < d->nowned; i++)
        if (d->owned[i].heir_id == 0) /* its membership went with the channel */
            ag_subs_changed(&app->model, id, d->owned[i].channel_id, false);
    snprintf(subj, sizeof(subj), "user.%s.updated", ids);
    ag_event_emit(&app->model, subj, "userId", ids, "deleted", "true", NULL);
}

ag_status_t
fcgi_users_delete(ag_req_t *req)
{
    fcgi_app_t       *app = FCGI_APP(req);
    ag_user_deleted_t d;
    int64_t           id;
    ag_status_t       st;

    if ((st = self_only(req, &id, "delete")) != AG_OK)
        return st;
    /* owned channels pass on, the rest cascades; the user cache can never hold it again */
    st = ag_user_delete(&app->model, req->arena, id, &d);
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
    deletion_events(app, id, &d);
    return ag_resp_empty(req, 204);
}

static ag_status_t
follow_target(ag_req_t *req, int64_t *id, char ids[24])
{
    ag_status_t st;
    if ((st = ag_req_param_id(req, "id", id)) != AG_OK)
        return st;
    if (*id == req->user_id)
        return ag_req_fail(req, AG_EBADREQ, "you cannot follow yourself");
    fcgi_id(ids, *id);
    return AG_OK;
}

/* "follow:<follower>:<followee>:<YYYY-MM-DD UTC>", the once-a-day key of a new_follower */
static const char *
follow_dedupe_key(ag_arena_t *a, int64_t follower, int64_t followee)
{
    time_t    now = time(NULL);
    struct tm tm;
    char      day[16];

    gmtime_r(&now, &tm);
    strftime(day, sizeof(day), "%Y-%m-%d", &tm);
    return ag_arena_printf(a, "follow:%lld:%lld:%s", (long long)follower, (long long)followee, day);
}

ag_status_t
fcgi_follow_put(ag_req_t *req)
{
    fcgi_app_t  *app = FCGI_APP(req);
    char         ids[24], me[24];
    int64_t      id;
    bool         created;
    ag_db_res_t *r = NULL;
    ag_status_t  st;

    if ((st = follow_target(req, &id, ids)) != AG_OK)
        return st;
    const char *p[] = {fcgi_id(me, req->user_id), ids};
    st = ag_db_exec(app->model.db, req->arena,
                    "INSERT INTO follows (follower_id, followee_id) VALUES ($1::bigint, $2::bigint) "
                    "ON CONFLICT DO NOTHING RETURNING 1",
                    2, p, &r);
    if (st == AG_ENOTFOUND)
        return ag_req_fail(req, AG_ENOTFOUND, "no user %s", ids);
    if (st != AG_OK)
        return fcgi_db_fail(req, st, "follow");
    if (ag_db_rows(r) == 1) {
        /*
         * Only a new follow notifies (repeating PUT is a no-op), and at most once per
         * follower, followee and UTC day: unfollowing and following again makes a new
         * row each time, and the unique dedupe_key in PostgreSQL holds across workers.
         */
        if ((st = ag_notify(&app->model, req->arena, id, "new_follower", req->user_id, 0, NULL,
                            follow_dedupe_key(req->arena, req->user_id, id), &created)) != AG_OK)
            return fcgi_db_fail(req, st, "follow notification");
    }
    return ag_resp_empty(req, 204);
}

ag_status_t
fcgi_follow_delete(ag_req_t *req)
{
    char        ids[24], me[24];
    int64_t     id;
    ag_status_t st;

    if ((st = follow_target(req, &id, ids)) != AG_OK)
        return st;
    const char *p[] = {fcgi_id(me, req->user_id), ids};
    st = ag_db_exec(FCGI_DB(req), req->arena,
                    "DELETE FROM follows WHERE follower_id = $1::bigint AND followee_id = $2::bigint",
                    2, p, NULL);
    if (st != AG_OK)
        return fcgi_db_fail(req, st, "unfollow");
    return ag_resp_empty(req, 204);
}
