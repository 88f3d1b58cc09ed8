/*
 * fcgi/graphql/resolve_mutation.c — the writes of flow A: check, store the
 * record with its event in the outbox (one commit), publish the event to
 * JetStream, mark it published. Event ids (Nats-Msg-Id) are the document id
 * plus the verb, so a republish by the outbox worker is deduplicated.
 */
#include "gql.h"
#include "log/log.h"

#include <stdio.h>
#include <string.h>

/* The body argument, checked; a field error when it breaks the rules. */
static ag_status_t
body_arg(ag_graphql_info_t *info, const char **body)
{
    const char *why = NULL;
    *body = gql_arg_str(info, "body");
    if (*body == NULL || ag_content_body_check(*body, &why) != AG_OK)
        return gql_fail(info, AG_EBADREQ, "bad_request", why ? why : "body is required");
    return AG_OK;
}

static void
event(ag_graphql_info_t *info, ag_content_event_t *ev, const char *id, const char *verb,
      const char *subject, const char *payload)
{
    ev->msg_id = ag_arena_printf(info->arena, "%s-%s", id, verb);
    ev->subject = subject;
    ev->payload = payload;
}

/*
 * The unread counts' side of a post write (lib/model/attention.c), best effort:
 * the post is committed whatever happens here, and the fanout job repairs what
 * failed from the event. The row goes in before the event is published, so a
 * client that sees the event and asks for its counts finds the post counted.
 */
static void
attention_log(ag_graphql_info_t *info, ag_status_t st, const char *what, const char *id)
{
    if (st != AG_OK && st != AG_ENOTFOUND) /* not found: the channel went meanwhile */
        ag_log_warn("unread counts: %s of post %s failed (%s): %s; the fanout job repairs it", what,
                    id, ag_status_name(st), ag_db_error(GQL_CTX(info)->app->model.db));
}

static void
attention_created(ag_graphql_info_t *info, const ag_content_post_t *p)
{
    ag_attention_post_t ap = {.post_id = p->id,
                              .channel_id = p->channel_id,
                              .author_id = p->author_id,
                              .body = p->body,
                              .created_ms = p->created_at};
    attention_log(info,
                  ag_attention_post_put(FCGI_M(GQL_CTX(info)->req), info->arena, &ap, NULL, NULL),
                  "record", p->id);
}

static void
attention_published(ag_graphql_info_t *info, const char *id, uint64_t seq)
{
    if (seq == 0) /* left to the outbox: the fanout job sets it from the event */
        return;
    attention_log(info, ag_attention_post_seq(FCGI_M(GQL_CTX(info)->req), info->arena, id, seq),
                  "sequence", id);
}

ag_status_t
gql_m_create_post(const ag_graphql_value_t *parent, ag_graphql_info_t *info,
                  ag_graphql_value_t *out)
{
    ag_content_post_t *p = NULL;
    ag_content_event_t ev;
    const char        *body;
    char               id[AG_CONTENT_ID_LEN + 1];
    int64_t            cid;
    bool               member = false;
    ag_status_t        st;

    if ((st = gql_need_user(info)) != AG_OK)
        return st;
    if (!gql_arg_id(info, "channelId", &cid))
        return gql_fail(info, AG_EFORBIDDEN, "forbidden", "no such channel");
    if ((st = gql_channel_read(info, cid, &member, NULL)) != AG_OK)
        return st;
    if (!member)
        return gql_fail(info, AG_EFORBIDDEN, "forbidden", "only members may post in a channel");
    if ((st = body_arg(info, &body)) != AG_OK)
        return st;
    ag_content_oid_new(id);
    event(info, &ev, id, "created",
          ag_arena_printf(info->arena, "channel.%lld.message.created", (long long)cid),
          ag_arena_printf(info->arena, "{\"messageId\":\"%s\"}", id));
    st = ag_content_post_create(GQL_CTX(info)->app->content, info->arena, id, cid,
                                GQL_CTX(info)->user_id, body, &ev, &p);
    if (st != AG_OK)
        return gql_store_fail(info, st);
    attention_created(info, p);
    attention_published(info, p->id, gql_publish_seq(info, &ev));
    *out = ag_graphql_json(gql_post_json(info->arena, p));
    return AG_OK;
}

/* The post named by the id argument, with the caller's role in its channel. */
static ag_status_t
own_post(ag_graphql_info_t *info, ag_content_post_t **p, const char **role)
{
    ag_status_t st;
    if ((st = gql_need_user(info)) != AG_OK)
        return st;
    st = ag_content_post_get(GQL_CTX(info)->app->content, info->arena, gql_arg_str(info, "id"), p);
    if (st == AG_ENOTFOUND)
        return gql_fail(info, st, "not_found", "no such post");
    if (st != AG_OK)
        return gql_store_fail(info, st);
    return gql_channel_read(info, (*p)->channel_id, NULL, role);
}

ag_status_t
gql_m_edit_post(const ag_graphql_value_t *parent, ag_graphql_info_t *info,
                ag_graphql_value_t *out)
{
    ag_content_post_t *p = NULL;
    ag_content_event_t ev;
    const char        *body, *role = NULL;
    ag_status_t        st;

    if ((st = own_post(info, &p, &role)) != AG_OK)
        return st;
    if (p->author_id != GQL_CTX(info)->user_id)
        return gql_fail(info, AG_EFORBIDDEN, "forbidden", "only the author may edit a post");
    if ((st = body_arg(info, &body)) != AG_OK)
        return st;
    /* every edit is its own event: the verb carries the time so that two
     * edits within the dedupe window are not taken for one */
    event(info, &ev, p->id, ag_arena_printf(info->arena, "updated-%lld", (long long)ag_now_wall_ms()),
          ag_arena_printf(info->arena, "channel.%lld.message.updated", (long long)p->channel_id),
          ag_arena_printf(info->arena, "{\"messageId\":\"%s\"}", p->id));
    st = ag_content_post_edit(GQL_CTX(info)->app->content, info->arena, p->id, body, &ev, &p);
    if (st != AG_OK)
        return gql_store_fail(info, st);
    attention_log(
        info,
        ag_attention_post_edit(FCGI_M(GQL_CTX(info)->req), info->arena, p->id, body, NULL, NULL),
        "mentions", p->id);
    gql_publish(info, &ev);
    *out = ag_graphql_json(gql_post_json(info->arena, p));
    return AG_OK;
}

ag_status_t
gql_m_delete_post(const ag_graphql_value_t *parent, ag_graphql_info_t *info,
                  ag_graphql_value_t *out)
{
    ag_content_post_t *p = NULL;
    ag_content_event_t ev;
    const char        *role = NULL;
    ag_status_t        st;

    if ((st = own_post(info, &p, &role)) != AG_OK)
        return st;
    bool manager = role && (strcmp(role, "owner") == 0 || strcmp(role, "admin") == 0);
    if (p->author_id != GQL_CTX(info)->user_id && !manager)
        return gql_fail(info, AG_EFORBIDDEN, "forbidden",
                        "only the author, the channel's owner or an admin may delete a post");
    event(info, &ev, p->id, "deleted",
          ag_arena_printf(info->arena, "channel.%lld.message.deleted", (long long)p->channel_id),
          ag_arena_printf(info->arena, "{\"messageId\":\"%s\"}", p->id));
    st = ag_content_post_delete(GQL_CTX(info)->app->content, info->arena, p->id, &ev);
    if (st != AG_OK)
        return gql_store_fail(info, st);
    attention_log(info, ag_attention_post_gone(FCGI_M(GQL_CTX(info)->req), info->arena, p->id),
                  "removal", p->id);
    gql_publish(info, &ev);
    *out = ag_graphql_json(ag_json_on_arena(info->arena, ag_json_bool(true)));
    return AG_OK;
}

/* Members of the channel of channel_id may comment and reply. */
static ag_status_t
need_member(ag_graphql_info_t *info, int64_t channel_id)
{
    bool        member = false;
    ag_status_t st = gql_channel_read(info, channel_id, &member, NULL);
    if (st != AG_OK)
        return st;
    return member ? AG_OK
                  : gql_fail(info, AG_EFORBIDDEN, "forbidden", "only members may write here");
}

ag_status_t
gql_m_create_comment(const ag_graphql_value_t *parent, ag_graphql_info_t *info,
                     ag_graphql_value_t *out)
{
    ag_content_post_t    *p = NULL;
    ag_content_comment_t *c = NULL;
    ag_content_event_t    ev;
    const char           *body;
    char                  id[AG_CONTENT_ID_LEN + 1];
    ag_status_t           st;

    if ((st = gql_need_user(info)) != AG_OK)
        return st;
    st = ag_content_post_get(GQL_CTX(info)->app->content, info->arena,
                             gql_arg_str(info, "postId"), &p);
    if (st == AG_ENOTFOUND)
        return gql_fail(info, st, "not_found", "no such post");
    if (st != AG_OK)
        return gql_store_fail(info, st);
    if ((st = need_member(info, p->channel_id)) != AG_OK || (st = body_arg(info, &body)) != AG_OK)
        return st;
    ag_content_oid_new(id);
    event(info, &ev, id, "commented",
          ag_arena_printf(info->arena, "channel.%lld.message.commented", (long long)p->channel_id),
          ag_arena_printf(info->arena, "{\"postId\":\"%s\",\"commentId\":\"%s\"}", p->id, id));
    st = ag_content_comment_create(GQL_CTX(info)->app->content, info->arena, id, p->id,
                                   GQL_CTX(info)->user_id, body, &ev, &c);
    if (st != AG_OK)
        return gql_store_fail(info, st);
    gql_publish(info, &ev);
    *out = ag_graphql_json(gql_comment_json(info->arena, c));
    return AG_OK;
}

ag_status_t
gql_m_create_reply(const ag_graphql_value_t *parent, ag_graphql_info_t *info,
                   ag_graphql_value_t *out)
{
    ag_content_comment_t *c = NULL;
    ag_content_reply_t   *r = NULL;
    ag_content_event_t    ev;
    const char           *body;
    char                  id[AG_CONTENT_ID_LEN + 1];
    ag_status_t           st;

    if ((st = gql_need_user(info)) != AG_OK)
        return st;
    st = ag_content_comment_get(GQL_CTX(info)->app->content, info->arena,
                                gql_arg_str(info, "commentId"), &c);
    if (st == AG_ENOTFOUND)
        return gql_fail(info, st, "not_found", "no such comment");
    if (st != AG_OK)
        return gql_store_fail(info, st);
    if ((st = need_member(info, c->channel_id)) != AG_OK || (st = body_arg(info, &body)) != AG_OK)
        return st;
    ag_content_oid_new(id);
    event(info, &ev, id, "replied",
          ag_arena_printf(info->arena, "channel.%lld.message.replied", (long long)c->channel_id),
          ag_arena_printf(info->arena,
                          "{\"postId\":\"%s\",\"commentId\":\"%s\",\"replyId\":\"%s\"}",
                          c->post_id, c->id, id));
    st = ag_content_reply_create(GQL_CTX(info)->app->content, info->arena, id, c->id,
                                 GQL_CTX(info)->user_id, body, &ev, &r);
    if (st != AG_OK)
        return gql_store_fail(info, st);
    gql_publish(info, &ev);
    *out = ag_graphql_json(gql_reply_json(info->arena, r));
    return AG_OK;
}

/* A block either way stops a conversation (CONTRACT §9: the blocked user's DMs are refused). */
static ag_status_t
dm_allowed(ag_graphql_info_t *info, int64_t me, int64_t to)
{
    bool        i_blocked = false, blocked_me = false;
    ag_status_t st =
        ag_block_between(FCGI_M(GQL_CTX(info)->req), info->arena, me, to, &i_blocked, &blocked_me);
    if (st != AG_OK)
        return gql_fail(info, st, st == AG_EUNAVAIL ? "unavailable" : NULL, "block lookup failed");
    if (blocked_me)
        return gql_fail(info, AG_EFORBIDDEN, "forbidden",
                        "this user does not accept your messages");
    if (i_blocked)
        return gql_fail(info, AG_EFORBIDDEN, "forbidden",
                        "you blocked this user: unblock them to send a message");
    return AG_OK;
}

ag_status_t
gql_m_send_dm(const ag_graphql_value_t *parent, ag_graphql_info_t *info, ag_graphql_value_t *out)
{
    ag_content_dm_t   *d = NULL;
    ag_content_event_t ev;
    ag_user_brief_t   *to = NULL;
    const char        *body;
    char               id[AG_CONTENT_ID_LEN + 1];
    int64_t            to_id, me = GQL_CTX(info)->user_id;
    ag_status_t        st;

    if ((st = gql_need_user(info)) != AG_OK)
        return st;
    if (!gql_arg_id(info, "toUserId", &to_id))
        return gql_fail(info, AG_ENOTFOUND, "not_found", "no such user");
    if (to_id == me)
        return gql_fail(info, AG_EBADREQ, "bad_request", "you cannot message yourself");
    if ((st = ag_users_brief(FCGI_M(GQL_CTX(info)->req), info->arena, &to_id, 1, &to)) != AG_OK)
        return gql_fail(info, st, "unavailable", "user lookup failed");
    if (to == NULL)
        return gql_fail(info, AG_ENOTFOUND, "not_found", "no such user");
    if ((st = dm_allowed(info, me, to_id)) != AG_OK || (st = body_arg(info, &body)) != AG_OK)
        return st;
    ag_content_oid_new(id);
    event(info, &ev, id, "dm", ag_arena_printf(info->arena, "user.%lld.dm", (long long)to_id),
          ag_arena_printf(info->arena, "{\"messageId\":\"%s\",\"from\":\"%lld\"}", id,
                          (long long)me));
    st = ag_content_dm_send(GQL_CTX(info)->app->content, info->arena, id, me, to_id, body, &ev, &d);
    if (st != AG_OK)
        return gql_store_fail(info, st);
    gql_publish(info, &ev);
    *out = ag_graphql_json(gql_dm_json(info->arena, d));
    return AG_OK;
}
