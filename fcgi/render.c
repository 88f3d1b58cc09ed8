/* fcgi/render.c — rows to the contract's JSON objects (CONTRACT §5). */
#include "app.h"

#include <stdio.h>
#include <string.h>

static void
set_col(ag_json_t *o, const char *key, const ag_db_res_t *r, int row, const char *col)
{
    int c = ag_db_col(r, col);
    ag_json_set_str(o, key, c >= 0 ? ag_db_val(r, row, c) : NULL);
}

static void
set_int_col(ag_json_t *o, const char *key, const ag_db_res_t *r, int row, const char *col)
{
    ag_json_set_int(o, key, ag_db_i64(r, row, ag_db_col(r, col)));
}

ag_json_t *
fcgi_user_json(const ag_db_res_t *r, int row)
{
    ag_json_t *o = ag_json_obj();
    set_col(o, "id", r, row, "id");
    set_col(o, "username", r, row, "username");
    set_col(o, "displayName", r, row, "display_name");
    set_col(o, "bio", r, row, "bio");
    set_col(o, "avatarUrl", r, row, "avatar_url");
    set_col(o, "createdAt", r, row, "created_at");
    return o;
}

ag_json_t *
fcgi_channel_json(const ag_db_res_t *r, int row)
{
    ag_json_t *o = ag_json_obj();
    set_col(o, "id", r, row, "id");
    set_col(o, "name", r, row, "name");
    set_col(o, "topic", r, row, "topic");
    set_col(o, "visibility", r, row, "visibility");
    set_col(o, "ownerId", r, row, "owner_id");
    set_col(o, "createdAt", r, row, "created_at");
    set_int_col(o, "memberCount", r, row, "member_count");
    int role = ag_db_col(r, "my_role");
    if (role >= 0)
        ag_json_set_str(o, "myRole", ag_db_val(r, row, role));
    return o;
}

ag_json_t *
fcgi_user_record_json(const ag_user_t *u)
{
    ag_json_t *o = ag_json_obj();
    char       id[24];
    ag_fmt_i64(id, u->id);
    ag_json_set_str(o, "id", id);
    ag_json_set_str(o, "username", u->username);
    ag_json_set_str(o, "displayName", u->display_name);
    ag_json_set_str(o, "bio", u->bio);
    ag_json_set_str(o, "avatarUrl", u->avatar_url);
    ag_json_set_str(o, "createdAt", u->created_at);
    return o;
}

/* readSeq and lastSeq let a client that saw no event of the channel yet send `read`. */
void
fcgi_attention_counts_set(ag_json_t *item, const ag_attention_counts_t *c)
{
    ag_json_set_int(item, "unread", c->unread);
    ag_json_set_int(item, "mentions", c->mentions);
    ag_json_set_int(item, "readSeq", c->read_seq);
    ag_json_set_int(item, "lastSeq", c->last_seq);
}

ag_json_t *
fcgi_member_json(const ag_db_res_t *r, int row)
{
    ag_json_t *o = ag_json_obj();
    set_col(o, "userId", r, row, "user_id");
    set_col(o, "username", r, row, "username");
    set_col(o, "displayName", r, row, "display_name");
    set_col(o, "role", r, row, "role");
    set_col(o, "joinedAt", r, row, "joined_at");
    return o;
}

ag_json_t *
fcgi_notification_json(const ag_db_res_t *r, int row)
{
    ag_json_t *o = ag_json_obj();
    set_col(o, "id", r, row, "id");
    set_col(o, "kind", r, row, "kind");
    set_col(o, "actorId", r, row, "actor_id");
    if (!ag_db_isnull(r, row, ag_db_col(r, "channel_id")))
        set_col(o, "channelId", r, row, "channel_id");
    if (!ag_db_isnull(r, row, ag_db_col(r, "post_id")))
        set_col(o, "postId", r, row, "post_id");
    set_col(o, "createdAt", r, row, "created_at");
    ag_json_set_bool(o, "read", ag_db_bool(r, row, ag_db_col(r, "read")));
    return o;
}

ag_json_t *
fcgi_page_json(const ag_db_res_t *r, int limit, ag_json_t *(*one)(const ag_db_res_t *, int),
               const char *cursor_col)
{
    ag_json_t *page = ag_json_obj(), *items = ag_json_arr();
    int        rows = ag_db_rows(r);
    /* the queries fetch limit + 1 rows: the extra row only says a next page exists */
    int        shown = rows > limit ? limit : rows;
    for (int i = 0; i < shown; i++)
        ag_json_push(items, one(r, i));
    ag_json_set(page, "items", items);
    if (rows > limit)
        ag_json_set_str(page, "next", ag_db_val(r, shown - 1, ag_db_col(r, cursor_col)));
    else
        ag_json_set(page, "next", ag_json_null());
    return page;
}

ag_status_t
fcgi_db_fail(ag_req_t *req, ag_status_t st, const char *what)
{
    if (st == AG_EUNAVAIL)
        return ag_req_fail(req, st, "%s: database unavailable, retry shortly", what);
    if (st == AG_EINTERNAL)
        return ag_req_fail(req, st, "%s: %s", what, ag_db_error(FCGI_DB(req)));
    return ag_req_fail(req, st, "%s failed", what);
}

ag_status_t
fcgi_page_params(ag_req_t *req, fcgi_page_t *pg)
{
    const char *v = ag_req_query(req, "after");
    int64_t     id = 0;
    ag_status_t st;

    if ((st = ag_req_limit(req, 20, FCGI_APP(req)->page_max, &pg->limit)) != AG_OK)
        return st;
    if (v && *v && (ag_parse_i64(v, &id) != AG_OK || id < 0))
        return ag_req_fail(req, AG_EBADREQ, "after must be a cursor returned as next");
    snprintf(pg->after, sizeof(pg->after), "%lld", (long long)id);
    snprintf(pg->fetch, sizeof(pg->fetch), "%d", pg->limit + 1);
    return AG_OK;
}

const char *
fcgi_id(char out[24], int64_t id)
{
    snprintf(out, 24, "%lld", (long long)id);
    return out;
}
