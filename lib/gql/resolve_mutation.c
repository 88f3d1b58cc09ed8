/*
 * lib/gql/resolve_mutation.c — the writes of flow A: check, store the
 * record with its event in the outbox (one commit), publish the event to
 * JetStream, mark it published. Event ids (Nats-Msg-Id) are the document id
 * plus the verb, so a republish by the outbox worker is deduplicated.
 */
#include "gql/gql.h"
#include "log/log.h"

#include <stdio.h>
#include <string.h>

ag_status_t
gql_body_arg(ag_graphql_info_t *info, const char **body)
{
    const char *why = NULL;
    *body = gql_arg_str(info, "body");
    if (*body == NULL || ag_content_body_check(*body, &why) != AG_OK)
        return gql_fail(info, AG_EBADREQ, "bad_request", why ? why : "body is required");
    return AG_OK;
}

ag_status_t
gql_event(ag_graphql_info_t *info, ag_content_event_t *out, const char *doc_id, const char *what,
          const ag_ev_t *ev)
{
    char       *msgid = ag_arena_alloc(info->arena, AG_EV_NAME_MAX);
    ag_status_t st;

    if (msgid == NULL || ag_ev_msgid_doc(msgid, AG_EV_NAME_MAX, doc_id, what) == 0)
        return gql_fail(info, AG_ENOMEM, "internal", "internal error");
    out->msg_id = msgid;
    if ((st = ag_ev_text(ev, info->arena, &out->subject, &out->payload)) != AG_OK)
        return gql_fail(info, st, "internal", "internal error");
    return AG_OK;
}

ag_status_t
gql_message_event(ag_graphql_info_t *info, ag_content_event_t *out, const char *doc_id,
                  const char *what, int64_t cid, ag_ev_verb_t verb, ag_ev_t ids)
{
    ids.subject = AG_EV_MESSAGE;
    ids.id = cid;
    ids.tok = ag_ev_verb_name(verb);
    return gql_event(info, out, doc_id, what, &ids);
}

const char *
gql_edit_what(ag_graphql_info_t *info)
{
    return ag_arena_printf(info->arena, "updated-%lld", (long long)ag_now_wall_ms());
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
                    id, ag_status_name(st), ag_db_error(GQL_CTX(info)->env->m->db));
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
                  ag_attention_post_put(GQL_CTX(info)->env->m, info->arena, &ap, NULL, NULL),
                  "record", p->id);
}

static void
attention_published(ag_graphql_info_t *info, const char *id, uint64_t seq)
{
    if (seq == 0) /* left to the outbox: the fanout job sets it from the event */
        return;
    attention_log(info, ag_attention_post_seq(GQL_CTX(info)->env->m, info->arena, id, seq),
                  "sequence", id);
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
    ag_status_t        st;

    if ((st = gql_need_user(info)) != AG_OK)
        return st;
    if (!gql_arg_id(info, "channelId", &cid))
        return gql_fail(info, AG_EFORBIDDEN, "forbidden", "no such channel");
    if ((st = gql_channel_check(info, cid, AG_ACCESS_POST, NULL)) != AG_OK ||
        (st = gql_body_arg(info, &body)) != AG_OK ||
        (st = gql_attachment_ids(info, &att, &natt)) != AG_OK)
        return st;
    ag_content_oid_new(id);
    if ((st = gql_message_event(info, &ev, id, "created", cid, AG_EV_VERB_CREATED,
                                (ag_ev_t){.message_id = id})) != AG_OK)
        return st;
    /* the files first, all or none: a post never names an upload it could not claim */
    if ((st = gql_claim_attachments(info, att, natt, id, cid, 0, 0)) != AG_OK)
        return st;
    st = ag_content_post_create(GQL_CTX(info)->env->content, info->arena, id, cid,
                                GQL_CTX(info)->user_id, body, &ev, &p);
    if (st != AG_OK) {
        if (natt)
            gql_release_attachments(info, id);
        return gql_store_fail(info, st);
    }
    attention_created(info, p);
    attention_published(info, p->id, gql_publish_seq(info, &ev));
    *out = ag_graphql_json(gql_post_json(info->arena, p));
    return AG_OK;
}

/* The post named by the id argument, in a channel the caller may read (acc: the facts). */
static ag_status_t
own_post(ag_graphql_info_t *info, ag_content_post_t **p, ag_channel_access_t *acc)
{
    ag_status_t st;
    if ((st = gql_need_user(info)) != AG_OK)
        return st;
    st = ag_content_post_get(GQL_CTX(info)->env->content, info->arena, gql_arg_str(info, "id"), p);
    if (st == AG_ENOTFOUND)
        return gql_fail(info, st, "not_found", "no such post");
    if (st != AG_OK)
        return gql_store_fail(info, st);
    return gql_channel_check(info, (*p)->channel_id, AG_ACCESS_READ, acc);
}

ag_status_t
gql_m_edit_post(const ag_graphql_value_t *parent, ag_graphql_info_t *info, ag_graphql_value_t *out)
{
    ag_content_post_t  *p = NULL;
    ag_content_event_t  ev;
    ag_channel_access_t acc;
    const char         *body, *why = NULL;
    ag_status_t         st;

    if ((st = own_post(info, &p, &acc)) != AG_OK)
        return st;
    if (ag_access_post_edit(&acc, p->author_id == GQL_CTX(info)->user_id, &why) != AG_OK)
        return gql_fail(info, AG_EFORBIDDEN, "forbidden", why);
    if ((st = gql_body_arg(info, &body)) != AG_OK)
        return st;
    if ((st = gql_message_event(info, &ev, p->id, gql_edit_what(info), p->channel_id,
                                AG_EV_VERB_UPDATED, (ag_ev_t){.message_id = p->id})) != AG_OK)
        return st;
    st = ag_content_post_edit(GQL_CTX(info)->env->content, info->arena, p->id, body, &ev, &p);
    if (st != AG_OK)
        return gql_store_fail(info, st);
    attention_log(
        info,
        ag_attention_post_edit(GQL_CTX(info)->env->m, info->arena, p->id, body, NULL, NULL),
        "mentions", p->id);
    gql_publish(info, &ev);
    *out = ag_graphql_json(gql_post_json(info->arena, p));
    return AG_OK;
}

ag_status_t
gql_m_delete_post(const ag_graphql_value_t *parent, ag_graphql_info_t *info,
                  ag_graphql_value_t *out)
{
    ag_content_post_t  *p = NULL;
    ag_content_event_t  ev;
    ag_channel_access_t acc;
    const char         *why = NULL;
    ag_status_t         st;

    if ((st = own_post(info, &p, &acc)) != AG_OK)
        return st;
    if (ag_access_post_delete(&acc, p->author_id == GQL_CTX(info)->user_id, &why) != AG_OK)
        return gql_fail(info, AG_EFORBIDDEN, "forbidden", why);
    if ((st = gql_message_event(info, &ev, p->id, "deleted", p->channel_id, AG_EV_VERB_DELETED,
                                (ag_ev_t){.message_id = p->id})) != AG_OK)
        return st;
    st = ag_content_post_delete(GQL_CTX(info)->env->content, info->arena, p->id, &ev);
    if (st != AG_OK)
        return gql_store_fail(info, st);
    attention_log(info, ag_attention_post_gone(GQL_CTX(info)->env->m, info->arena, p->id),
                  "removal", p->id);
    gql_publish(info, &ev);
    gql_drop_attachments(info, p->id);
    *out = ag_graphql_json(ag_json_on_arena(info->arena, ag_json_bool(true)));
    return AG_OK;
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
    st = ag_content_post_get(GQL_CTX(info)->env->content, info->arena, gql_arg_str(info, "postId"),
                             &p);
    if (st == AG_ENOTFOUND)
        return gql_fail(info, st, "not_found", "no such post");
    if (st != AG_OK)
        return gql_store_fail(info, st);
    if ((st = gql_channel_check(info, p->channel_id, AG_ACCESS_ANSWER, NULL)) != AG_OK ||
        (st = gql_body_arg(info, &body)) != AG_OK)
        return st;
    ag_content_oid_new(id);
    if ((st = gql_message_event(info, &ev, id, "commented", p->channel_id, AG_EV_VERB_COMMENTED,
                                (ag_ev_t){.post_id = p->id, .comment_id = id})) != AG_OK)
        return st;
    st = ag_content_comment_create(GQL_CTX(info)->env->content, info->arena, id, p->id,
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
    st = ag_content_comment_get(GQL_CTX(info)->env->content, info->arena,
                                gql_arg_str(info, "commentId"), &c);
    if (st == AG_ENOTFOUND)
        return gql_fail(info, st, "not_found", "no such comment");
    if (st != AG_OK)
        return gql_store_fail(info, st);
    if ((st = gql_channel_check(info, c->channel_id, AG_ACCESS_ANSWER, NULL)) != AG_OK ||
        (st = gql_body_arg(info, &body)) != AG_OK)
        return st;
    ag_content_oid_new(id);
    if ((st = gql_message_event(
             info, &ev, id, "replied", c->channel_id, AG_EV_VERB_REPLIED,
             (ag_ev_t){.post_id = c->post_id, .comment_id = c->id, .reply_id = id})) != AG_OK)
        return st;
    st = ag_content_reply_create(GQL_CTX(info)->env->content, info->arena, id, c->id,
                                 GQL_CTX(info)->user_id, body, &ev, &r);
    if (st != AG_OK)
        return gql_store_fail(info, st);
    gql_publish(info, &ev);
    *out = ag_graphql_json(gql_reply_json(info->arena, r));
    return AG_OK;
}

/* A block either way stops a conversation (CONTRACT §9; the rule: ag_access_dm_send). */
static ag_status_t
dm_allowed(ag_graphql_info_t *info, int64_t me, int64_t to)
{
    bool        i_blocked = false, blocked_me = false;
    ag_status_t st =
        ag_block_between(GQL_CTX(info)->env->m, info->arena, me, to, &i_blocked, &blocked_me);
    if (st != AG_OK)
        return gql_fail(info, st, st == AG_EUNAVAIL ? "unavailable" : NULL, "block lookup failed");
    const char *why = NULL;
    if ((st = ag_access_dm_send(blocked_me, i_blocked, &why)) != AG_OK)
        return gql_fail(info, st, "forbidden", why);
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
    if ((st = ag_users_brief(GQL_CTX(info)->env->m, info->arena, &to_id, 1, &to)) != AG_OK)
        return gql_fail(info, st, "unavailable", "user lookup failed");
    if (to == NULL)
        return gql_fail(info, AG_ENOTFOUND, "not_found", "no such user");
    if ((st = dm_allowed(info, me, to_id)) != AG_OK || (st = gql_body_arg(info, &body)) != AG_OK ||
        (st = gql_attachment_ids(info, &att, &natt)) != AG_OK)
        return st;
    ag_content_oid_new(id);
    if ((st = gql_event(
             info, &ev, id, "dm",
             &(ag_ev_t){.subject = AG_EV_DM, .id = to_id, .message_id = id, .from = me})) !=
            AG_OK ||
        (st = gql_claim_attachments(info, att, natt, id, 0, me, to_id)) != AG_OK)
        return st;
    st = ag_content_dm_send(GQL_CTX(info)->env->content, info->arena, id, me, to_id, body, &ev, &d);
    if (st != AG_OK) {
        if (natt)
            gql_release_attachments(info, id);
        return gql_store_fail(info, st);
    }
    gql_publish(info, &ev);
    *out = ag_graphql_json(gql_dm_json(info->arena, d));
    return AG_OK;
}
