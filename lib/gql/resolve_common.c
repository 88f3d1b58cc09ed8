/* lib/gql/resolve_common.c — what every resolver needs: auth, args, access, JSON views. */
#include "gql/gql.h"
#include "log/log.h"

#include <stdio.h>
#include <string.h>

ag_status_t
gql_fail(ag_graphql_info_t *info, ag_status_t st, const char *code, const char *msg)
{
    info->message = msg;
    info->code = code;
    return st;
}

ag_status_t
gql_need_user(ag_graphql_info_t *info)
{
    if (GQL_CTX(info)->user_id > 0)
        return AG_OK;
    return gql_fail(info, AG_EUNAUTH, "unauthenticated",
                    "sign in: send Authorization: Bearer <token>");
}

ag_status_t
gql_store_fail(ag_graphql_info_t *info, ag_status_t st)
{
    ag_content_t *c = GQL_CTX(info)->env->content;
    if (st == AG_EUNAVAIL)
        return gql_fail(info, st, "unavailable", "the content store is unavailable; retry shortly");
    if (st == AG_EBADREQ)
        return gql_fail(info, st, "bad_request", ag_arena_strdup(info->arena, ag_content_error(c)));
    if (st == AG_ENOTFOUND)
        return gql_fail(info, st, "not_found", "not found");
    ag_log_error("graphql %s.%s: %s: %s", info->parent_type, info->field_name, ag_status_name(st),
                 ag_content_error(c));
    return gql_fail(info, st, "internal", "internal error");
}

const char *
gql_arg_str(ag_graphql_info_t *info, const char *name)
{
    const char *s = NULL;
    return ag_json_get_str(info->args, name, &s) == AG_OK ? s : NULL;
}

bool
gql_arg_id(ag_graphql_info_t *info, const char *name, int64_t *out)
{
    const char *s = gql_arg_str(info, name);
    return s && ag_parse_i64(s, out) == AG_OK && *out > 0;
}

ag_status_t
gql_page_args(ag_graphql_info_t *info, int *first, const char **after)
{
    int64_t f = 20;
    int     max = GQL_CTX(info)->env->page_max;
    ag_json_get_i64(info->args, "first", &f);
    if (f < 0)
        return gql_fail(info, AG_EBADREQ, "bad_request", "first must not be negative");
    *first = f > max ? max : (int)f;
    *after = gql_arg_str(info, "after");
    return AG_OK;
}

ag_status_t
gql_channel_check(ag_graphql_info_t *info, int64_t channel_id, ag_access_verb_t verb,
                  ag_channel_access_t *out)
{
    ag_channel_access_t acc;
    ag_status_t         st =
        ag_channel_access(GQL_CTX(info)->env->m, info->arena, channel_id, gql_viewer(info), &acc);
    if (st != AG_OK)
        return gql_access_fail(info, st);
    if (out)
        *out = acc;
    return gql_access_verdict(info, &acc, verb);
}

ag_status_t
gql_access_fail(ag_graphql_info_t *info, ag_status_t st)
{
    if (st == AG_EUNAVAIL)
        return gql_fail(info, st, "unavailable", "the database is unavailable; retry shortly");
    return gql_fail(info, st, "internal", "channel lookup failed");
}

ag_status_t
gql_access_verdict(ag_graphql_info_t *info, const ag_channel_access_t *acc, ag_access_verb_t verb)
{
    const char *why = NULL;
    /* every refusal is "forbidden" here, a private channel's content to outsiders too
     * (CONTRACT §5), where REST says 404 */
    if (ag_access_check(acc, verb, &why) != AG_OK)
        return gql_fail(info, AG_EFORBIDDEN, "forbidden", why);
    return AG_OK;
}

const char *
gql_time(ag_arena_t *a, int64_t ms)
{
    char *buf = ag_arena_alloc(a, 32);
    if (buf)
        ag_format_rfc3339(ms, buf, 32);
    return buf;
}

uint64_t
gql_publish_seq(ag_graphql_info_t *info, const ag_content_event_t *ev)
{
    gql_env_t *app = GQL_CTX(info)->env;
    uint64_t   seq = 0;
    if (app->m->events == NULL ||
        ag_events_js_publish(app->m->events, ev->subject, ev->payload, strlen(ev->payload),
                             ev->msg_id, &seq) != AG_OK) {
        /* the write and its outbox row are committed: agora-worker outbox republishes it */
        ag_log_warn("event %s (%s) not published now; left to the outbox", ev->msg_id, ev->subject);
        return 0;
    }
    if (ag_content_outbox_mark_published(app->content, ev->msg_id) != AG_OK)
        ag_log_warn("event %s published but not marked; a republish is deduplicated by "
                    "Nats-Msg-Id within the stream's window",
                    ev->msg_id);
    return seq;
}

void
gql_publish(ag_graphql_info_t *info, const ag_content_event_t *ev)
{
    gql_publish_seq(info, ev);
}

/* Decimal text of an id in a caller's buffer: json-c copies what it is given, so no arena. */
#define DEC(buf, v) (ag_fmt_i64((buf), (v)), (const char *)(buf))
/* RFC 3339 text of a millisecond timestamp in a caller's buffer, for the same reason. */
static const char *
ts(char buf[32], int64_t ms)
{
    ag_format_rfc3339(ms, buf, 32);
    return buf;
}

ag_json_t *
gql_post_json(ag_arena_t *a, const ag_content_post_t *p)
{
    ag_json_t *o = ag_json_on_arena(a, ag_json_obj());
    char       b1[24], b2[24], t1[32], t2[32];
    if (o == NULL)
        return NULL;
    ag_json_set_str(o, "id", p->id);
    ag_json_set_str(o, "channelId", DEC(b1, p->channel_id));
    ag_json_set_str(o, "authorId", DEC(b2, p->author_id));
    ag_json_set_str(o, "body", p->body);
    ag_json_set_str(o, "createdAt", ts(t1, p->created_at));
    ag_json_set_str(o, "editedAt", p->edited_at ? ts(t2, p->edited_at) : NULL);
    ag_json_set_int(o, "commentCount", p->comment_count);
    return o;
}

ag_json_t *
gql_comment_json(ag_arena_t *a, const ag_content_comment_t *c)
{
    ag_json_t *o = ag_json_on_arena(a, ag_json_obj());
    char       b1[24], b2[24], t1[32], t2[32];
    if (o == NULL)
        return NULL;
    ag_json_set_str(o, "id", c->id);
    ag_json_set_str(o, "postId", c->post_id);
    ag_json_set_str(o, "channelId", DEC(b1, c->channel_id));
    ag_json_set_str(o, "authorId", DEC(b2, c->author_id));
    ag_json_set_str(o, "body", c->body);
    ag_json_set_str(o, "createdAt", ts(t1, c->created_at));
    ag_json_set_str(o, "editedAt", c->edited_at ? ts(t2, c->edited_at) : NULL);
    ag_json_set_int(o, "replyCount", c->reply_count);
    return o;
}

ag_json_t *
gql_reply_json(ag_arena_t *a, const ag_content_reply_t *r)
{
    ag_json_t *o = ag_json_on_arena(a, ag_json_obj());
    char       b1[24], b2[24], t1[32], t2[32];
    if (o == NULL)
        return NULL;
    ag_json_set_str(o, "id", r->id);
    ag_json_set_str(o, "commentId", r->comment_id);
    ag_json_set_str(o, "postId", r->post_id);
    ag_json_set_str(o, "channelId", DEC(b1, r->channel_id));
    ag_json_set_str(o, "authorId", DEC(b2, r->author_id));
    ag_json_set_str(o, "body", r->body);
    ag_json_set_str(o, "createdAt", ts(t1, r->created_at));
    ag_json_set_str(o, "editedAt", r->edited_at ? ts(t2, r->edited_at) : NULL);
    return o;
}

ag_json_t *
gql_dm_json(ag_arena_t *a, const ag_content_dm_t *d)
{
    ag_json_t *o = ag_json_on_arena(a, ag_json_obj());
    char       b1[24], b2[24], t1[32], t2[32];
    if (o == NULL)
        return NULL;
    ag_json_set_str(o, "id", d->id);
    ag_json_set_str(o, "fromId", DEC(b1, d->from_id));
    ag_json_set_str(o, "toId", DEC(b2, d->to_id));
    ag_json_set_str(o, "body", d->body);
    ag_json_set_str(o, "createdAt", ts(t1, d->created_at));
    ag_json_set_str(o, "editedAt", d->edited_at ? ts(t2, d->edited_at) : NULL);
    return o;
}

void
gql_memo_authors(ag_graphql_info_t *info, const ag_content_post_t *posts, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        const ag_content_post_t *p = &posts[i];
        char                     key[40];
        if (p->author_username == NULL && !p->author_deleted)
            continue; /* not joined: the author resolver loads it */
        gql_user_key(key, sizeof(key), p->author_id);
        if (ag_graphql_memo_get(info, key))
            continue;
        if (p->author_deleted) {
            ag_graphql_memo_put(info, key, gql_deleted_user_json(info->arena));
            continue;
        }
        ag_user_brief_t u = {.id = p->author_id,
                             .username = p->author_username,
                             .display_name = p->author_display_name,
                             .avatar_url = p->author_avatar_url};
        ag_graphql_memo_put(info, key, gql_user_json(info->arena, &u));
    }
}

void
gql_user_key(char *key, size_t n, int64_t id)
{
    /* n >= 29: "user:" and an int64 */
    memcpy(key, "user:", 5);
    ag_fmt_i64(key + 5, id);
    (void)n;
}

ag_json_t *
gql_user_json(ag_arena_t *a, const ag_user_brief_t *u)
{
    ag_json_t *o = ag_json_on_arena(a, ag_json_obj());
    char       b1[24];
    if (o == NULL)
        return NULL;
    ag_json_set_str(o, "id", DEC(b1, u->id));
    ag_json_set_str(o, "username", u->username);
    ag_json_set_str(o, "displayName", u->display_name);
    ag_json_set_str(o, "avatarUrl", u->avatar_url);
    return o;
}

ag_json_t *
gql_deleted_user_json(ag_arena_t *a)
{
    static const ag_user_brief_t deleted = {
        .id = 0, .username = "deleted", .display_name = "Deleted user"};
    return gql_user_json(a, &deleted);
}

ag_json_t *
gql_connection(ag_arena_t *a, ag_json_t **nodes, const char **cursors, size_t n, bool has_next,
               const char *end_cursor)
{
    ag_json_t *conn = ag_json_on_arena(a, ag_json_obj()), *edges = ag_json_arr(),
              *pi = ag_json_obj();
    if (conn == NULL || edges == NULL || pi == NULL) {
        ag_json_free(edges);
        ag_json_free(pi);
        return NULL;
    }
    for (size_t i = 0; i < n; i++) {
        ag_json_t *e = ag_json_obj();
        ag_json_set_str(e, "cursor", cursors[i]);
        /* the node lives on the arena already: the edge takes a reference of its own */
        ag_json_set(e, "node", ag_json_ref(nodes[i]));
        ag_json_push(edges, e);
    }
    ag_json_set_bool(pi, "hasNextPage", has_next);
    ag_json_set_str(pi, "endCursor", n ? end_cursor : NULL);
    ag_json_set(conn, "edges", edges);
    ag_json_set(conn, "pageInfo", pi);
    return conn;
}

ag_json_t *
gql_post_node(ag_arena_t *a, const void *item)
{
    return gql_post_json(a, item);
}
ag_json_t *
gql_comment_node(ag_arena_t *a, const void *item)
{
    return gql_comment_json(a, item);
}
ag_json_t *
gql_reply_node(ag_arena_t *a, const void *item)
{
    return gql_reply_json(a, item);
}
ag_json_t *
gql_dm_node(ag_arena_t *a, const void *item)
{
    return gql_dm_json(a, item);
}

ag_status_t
gql_page_value(ag_graphql_info_t *info, const void *items, size_t n, size_t size, size_t id_off,
               size_t created_off, gql_node_fn node, bool has_next, const char *end_cursor,
               ag_graphql_value_t *out)
{
    ag_json_t  **nodes = ag_arena_alloc(info->arena, sizeof(*nodes) * (n + 1));
    const char **cur = ag_arena_alloc(info->arena, sizeof(*cur) * (n + 1));
    if (nodes == NULL || cur == NULL)
        return AG_ENOMEM;
    for (size_t i = 0; i < n; i++) {
        const char *item = (const char *)items + i * size;
        int64_t     created;
        memcpy(&created, item + created_off, sizeof(created));
        nodes[i] = node(info->arena, item);
        cur[i] = ag_content_cursor(info->arena, created, item + id_off);
    }
    *out = ag_graphql_json(gql_connection(info->arena, nodes, cur, n, has_next, end_cursor));
    return AG_OK;
}
