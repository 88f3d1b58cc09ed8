/*
 * fcgi/graphql/resolve_mutation.c — the writes of flow A: check, store the
 * record with its event in the outbox (one commit), publish the event to
 * JetStream, mark it published. Event ids (Nats-Msg-Id) are the document id
 * plus the verb, so a republish by the outbox worker is deduplicated.
 */
#include "gql.h"

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

ag_status_t
gql_m_create_post(const ag_graphql_value_t *parent, ag_graphql_info_t *info,
                  ag_graphql_value_t *out)
{
    ag_content_post_t *p = NULL;
    ag_content_event_t ev;
    const char        *body, **att = NULL;
    size_t             natt = 0;
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
    if ((st = body_arg(info, &body)) != AG_OK ||
        (st = gql_attachment_ids(info, &att, &natt)) != AG_OK)
        return st;
    ag_content_oid_new(id);
    /* the files first, all or none: a post never names an upload it could not claim */
    if ((st = gql_claim_attachments(info, att, natt, id, cid, 0, 0)) != AG_OK)
        return st;
    event(info, &ev, id, "created",
          ag_arena_printf(info->arena, "channel.%lld.message.created", (long long)cid),
          ag_arena_printf(info->arena, "{\"messageId\":\"%s\"}", id));
    st = ag_content_post_create(GQL_CTX(info)->app->content, info->arena, id, cid,
                                GQL_CTX(info)->user_id, body, &ev, &p);
    if (st != AG_OK) {
        if (natt)
            gql_release_attachments(info, id);
        return gql_store_fail(info, st);
    }
    gql_publish(info, &ev);
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
    gql_publish(info, &ev);
    gql_drop_attachments(info, p->id);
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

ag_status_t
gql_m_send_dm(const ag_graphql_value_t *parent, ag_graphql_info_t *info, ag_graphql_value_t *out)
{
    ag_content_dm_t   *d = NULL;
    ag_content_event_t ev;
    ag_user_brief_t   *to = NULL;
    const char        *body, **att = NULL;
    size_t             natt = 0;
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
    if ((st = body_arg(info, &body)) != AG_OK ||
        (st = gql_attachment_ids(info, &att, &natt)) != AG_OK)
        return st;
    ag_content_oid_new(id);
    if ((st = gql_claim_attachments(info, att, natt, id, 0, me, to_id)) != AG_OK)
        return st;
    event(info, &ev, id, "dm", ag_arena_printf(info->arena, "user.%lld.dm", (long long)to_id),
          ag_arena_printf(info->arena, "{\"messageId\":\"%s\",\"from\":\"%lld\"}", id,
                          (long long)me));
    st = ag_content_dm_send(GQL_CTX(info)->app->content, info->arena, id, me, to_id, body, &ev, &d);
    if (st != AG_OK) {
        if (natt)
            gql_release_attachments(info, id);
        return gql_store_fail(info, st);
    }
    gql_publish(info, &ev);
    *out = ag_graphql_json(gql_dm_json(info->arena, d));
    return AG_OK;
}
