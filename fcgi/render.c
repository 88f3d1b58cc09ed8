/* fcgi/render.c — the model's records as the contract's JSON objects (CONTRACT §5). */
#include "app.h"

#include <stdio.h>
#include <string.h>

/* An id as the contract writes it, a decimal string; 0 (none) is null. */
static void
set_id(ag_json_t *o, const char *key, int64_t id)
{
    char buf[24];
    ag_json_set_str(o, key, id ? fcgi_id(buf, id) : NULL);
}

ag_json_t *
fcgi_user_json(const ag_user_t *u)
{
    ag_json_t *o = ag_json_obj();
    set_id(o, "id", u->id);
    ag_json_set_str(o, "username", u->username);
    ag_json_set_str(o, "displayName", u->display_name);
    ag_json_set_str(o, "bio", u->bio);
    ag_json_set_str(o, "avatarUrl", u->avatar_url);
    ag_json_set_str(o, "createdAt", u->created_at);
    return o;
}

ag_json_t *
fcgi_channel_json(const ag_channel_t *c)
{
    ag_json_t *o = ag_json_obj();
    set_id(o, "id", c->id);
    ag_json_set_str(o, "name", c->name);
    ag_json_set_str(o, "topic", c->topic);
    ag_json_set_str(o, "visibility", c->visibility);
    set_id(o, "ownerId", c->owner_id);
    ag_json_set_str(o, "createdAt", c->created_at);
    ag_json_set_int(o, "memberCount", c->member_count);
    ag_json_set_str(o, "myRole", c->my_role);
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
fcgi_member_json(const ag_member_t *m)
{
    ag_json_t *o = ag_json_obj();
    set_id(o, "userId", m->user_id);
    ag_json_set_str(o, "username", m->username);
    ag_json_set_str(o, "displayName", m->display_name);
    ag_json_set_str(o, "role", m->role);
    ag_json_set_str(o, "joinedAt", m->joined_at);
    return o;
}

ag_json_t *
fcgi_notification_json(const ag_notification_t *n)
{
    ag_json_t *o = ag_json_obj();
    set_id(o, "id", n->id);
    ag_json_set_str(o, "kind", n->kind);
    set_id(o, "actorId", n->actor_id);
    if (n->channel_id)
        set_id(o, "channelId", n->channel_id);
    if (n->post_id)
        ag_json_set_str(o, "postId", n->post_id);
    ag_json_set_str(o, "createdAt", n->created_at);
    ag_json_set_bool(o, "read", n->read);
    return o;
}

ag_json_t *
fcgi_day_json(const ag_channel_day_t *d)
{
    ag_json_t *o = ag_json_obj();
    ag_json_set_str(o, "date", d->date);
    ag_json_set_int(o, "posts", d->posts);
    ag_json_set_int(o, "comments", d->comments);
    ag_json_set_int(o, "activePosters", d->active_posters);
    return o;
}

ag_json_t *
fcgi_user_item(const void *it)
{
    return fcgi_user_json(it);
}
ag_json_t *
fcgi_channel_item(const void *it)
{
    return fcgi_channel_json(it);
}
ag_json_t *
fcgi_member_item(const void *it)
{
    return fcgi_member_json(it);
}
ag_json_t *
fcgi_notification_item(const void *it)
{
    return fcgi_notification_json(it);
}

ag_json_t *
fcgi_page_json(const void *items, size_t n, size_t size, bool has_next,
               ag_json_t *(*one)(const void *item), size_t cursor_off)
{
    ag_json_t  *page = ag_json_obj(), *items_json = ag_json_arr();
    const char *last = NULL;
    char        cursor[24];
    int64_t     id;

    for (size_t i = 0; i < n; i++) {
        last = (const char *)items + i * size;
        ag_json_push(items_json, one(last));
    }
    ag_json_set(page, "items", items_json);
    /* the next page starts after the last item shown, by its id */
    if (has_next && last) {
        memcpy(&id, last + cursor_off, sizeof(id));
        ag_json_set_str(page, "next", fcgi_id(cursor, id));
    } else {
        ag_json_set(page, "next", ag_json_null());
    }
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
fcgi_page_params(ag_req_t *req, ag_page_req_t *pg)
{
    const char *v = ag_req_query(req, "after");
    int64_t     id = 0;
    ag_status_t st;

    if ((st = ag_req_limit(req, 20, FCGI_APP(req)->page_max, &pg->limit)) != AG_OK)
        return st;
    if (v && *v && (ag_parse_i64(v, &id) != AG_OK || id < 0))
        return ag_req_fail(req, AG_EBADREQ, "after must be a cursor returned as next");
    pg->after = id;
    return AG_OK;
}

ag_status_t
fcgi_channel_access(ag_req_t *req, const char *param, ag_access_verb_t verb, int64_t *id,
                    ag_channel_access_t *acc)
{
    const char *why = NULL;
    ag_status_t st;

    if ((st = ag_req_param_id(req, param, id)) != AG_OK)
        return st;
    if ((st = ag_channel_access(FCGI_M(req), req->arena, *id, req->user_id, acc)) != AG_OK)
        return fcgi_db_fail(req, st, "channel lookup");
    return fcgi_access_fail(req, ag_access_check(acc, verb, &why), why, *id);
}

ag_status_t
fcgi_access_fail(ag_req_t *req, ag_status_t st, const char *why, int64_t channel_id)
{
    if (st == AG_OK)
        return AG_OK;
    /* not found to an outsider, whatever the verb (CONTRACT §5) */
    if (st == AG_ENOTFOUND)
        return ag_req_fail(req, st, "no channel %lld", (long long)channel_id);
    return ag_req_fail(req, st, "%s", why);
}

const char *
fcgi_id(char out[24], int64_t id)
{
    ag_fmt_i64(out, id);
    return out;
}
