/*
 * lib/gql/resolve_social.c — reactions, edits and deletes of comments,
 * replies and DMs, and attachments (issue 17, CONTRACT §9). Writes follow
 * flow A like the others (resolve_mutation.c): check, store with the event
 * in the outbox, publish, mark. Who may do what is lib/model's access.c.
 */
#include "gql/gql.h"
#include "log/log.h"

#include <stdio.h>
#include <string.h>

/* ---- reading: reactions and attachments of a page, batched ---------------------------------- */

static ag_json_t *
reactions_json(ag_arena_t *a, const ag_content_reactions_t *r)
{
    ag_json_t *arr = ag_json_on_arena(a, ag_json_arr());
    for (size_t i = 0; arr && r && i < r->n; i++) {
        ag_json_t *g = ag_json_obj();
        ag_json_set_str(g, "emoji", r->items[i].emoji);
        ag_json_set_int(g, "count", r->items[i].count);
        ag_json_set_bool(g, "reactedByMe", r->items[i].mine);
        ag_json_push(arr, g);
    }
    return arr;
}

/* The "id" member of each JSON parent, into ids (k of them, repeats dropped). */
static size_t
parent_ids(const ag_graphql_value_t *parents, size_t n, const char **ids, const char *prefix,
           ag_graphql_info_t *info)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        const char *id = NULL;
        char        key[64];
        if (parents[i].kind != AG_GRAPHQL_JSON ||
            ag_json_get_str(parents[i].json, "id", &id) != AG_OK || id == NULL)
            continue;
        snprintf(key, sizeof(key), "%s%s", prefix, id);
        if (ag_graphql_memo_get(info, key))
            continue;
        bool dup = false;
        for (size_t j = 0; j < k && !dup; j++)
            dup = strcmp(ids[j], id) == 0;
        if (!dup)
            ids[k++] = id;
    }
    return k;
}

ag_status_t
gql_f_reactions_prepare(const ag_graphql_value_t *parents, size_t n, ag_graphql_info_t *info)
{
    const char            **ids = ag_arena_alloc(info->arena, sizeof(*ids) * (n ? n : 1));
    ag_content_reactions_t *rs = NULL;
    size_t                  k;
    ag_status_t             st;

    if (ids == NULL)
        return AG_ENOMEM;
    if ((k = parent_ids(parents, n, ids, "reactions:", info)) == 0)
        return AG_OK;
    st = ag_content_reactions(GQL_CTX(info)->env->content, info->arena, ids, k, gql_viewer(info),
                              &rs);
    if (st != AG_OK)
        return st; /* the resolver loads one by one and reports the failure */
    for (size_t i = 0; i < k; i++) {
        char key[64];
        snprintf(key, sizeof(key), "reactions:%s", ids[i]);
        ag_graphql_memo_put(info, key, reactions_json(info->arena, &rs[i]));
    }
    return AG_OK;
}

ag_status_t
gql_f_reactions(const ag_graphql_value_t *parent, ag_graphql_info_t *info, ag_graphql_value_t *out)
{
    const char             *id = NULL;
    ag_content_reactions_t *rs = NULL;
    char                    key[64];
    ag_status_t             st;

    ag_json_get_str(parent->json, "id", &id);
    snprintf(key, sizeof(key), "reactions:%s", id ? id : "");
    ag_json_t *memo = ag_graphql_memo_get(info, key);
    if (memo) {
        *out = ag_graphql_json(memo);
        return AG_OK;
    }
    st = ag_content_reactions(GQL_CTX(info)->env->content, info->arena, &id, 1, gql_viewer(info),
                              &rs);
    if (st != AG_OK)
        return gql_store_fail(info, st);
    *out = ag_graphql_json(reactions_json(info->arena, &rs[0]));
    return AG_OK;
}

ag_json_t *
gql_attachment_json(ag_arena_t *a, const ag_attachment_t *t)
{
    return ag_json_on_arena(a, ag_attachment_json(t));
}

static ag_json_t *
attachments_json(ag_arena_t *a, const ag_attachment_list_t *l)
{
    ag_json_t *arr = ag_json_on_arena(a, ag_json_arr());
    for (size_t i = 0; arr && l && i < l->n; i++)
        ag_json_push(arr, ag_json_ref(gql_attachment_json(a, &l->items[i])));
    return arr;
}

ag_status_t
gql_f_attachments_prepare(const ag_graphql_value_t *parents, size_t n, ag_graphql_info_t *info)
{
    const char          **ids = ag_arena_alloc(info->arena, sizeof(*ids) * (n ? n : 1));
    ag_attachment_list_t *ls = NULL;
    size_t                k;
    ag_status_t           st;

    if (ids == NULL)
        return AG_ENOMEM;
    if ((k = parent_ids(parents, n, ids, "attachments:", info)) == 0)
        return AG_OK;
    if ((st = ag_attachments_of(GQL_CTX(info)->env->m, info->arena, ids, k, &ls)) != AG_OK)
        return st;
    for (size_t i = 0; i < k; i++) {
        char key[64];
        snprintf(key, sizeof(key), "attachments:%s", ids[i]);
        ag_graphql_memo_put(info, key, attachments_json(info->arena, &ls[i]));
    }
    return AG_OK;
}

ag_status_t
gql_f_attachments(const ag_graphql_value_t *parent, ag_graphql_info_t *info,
                  ag_graphql_value_t *out)
{
    const char           *id = NULL;
    ag_attachment_list_t *ls = NULL;
    char                  key[64];
    ag_status_t           st;

    ag_json_get_str(parent->json, "id", &id);
    snprintf(key, sizeof(key), "attachments:%s", id ? id : "");
    ag_json_t *memo = ag_graphql_memo_get(info, key);
    if (memo) {
        *out = ag_graphql_json(memo);
        return AG_OK;
    }
    if (id == NULL)
        return AG_OK;
    if ((st = ag_attachments_of(GQL_CTX(info)->env->m, info->arena, &id, 1, &ls)) != AG_OK)
        return gql_fail(info, st, "unavailable", "attachment lookup failed");
    *out = ag_graphql_json(attachments_json(info->arena, &ls[0]));
    return AG_OK;
}

/* ---- writing: who may, then the write with its event --------------------------------------- */

/*
 * May the caller change content by author_id in channel_id: edit it
 * (ag_access_post_edit) or delete it (ag_access_post_delete)? A channel the
 * caller may not read is "forbidden" (CONTRACT §5), as every refusal here.
 */
static ag_status_t
may_change(ag_graphql_info_t *info, int64_t channel_id, int64_t author_id, bool edit)
{
    ag_channel_access_t acc;
    const char         *why = NULL;
    bool                author = author_id == gql_viewer(info);
    ag_status_t         st;

    if ((st = gql_channel_check(info, channel_id, AG_ACCESS_READ, &acc)) != AG_OK)
        return st;
    st = edit ? ag_access_post_edit(&acc, author, &why) : ag_access_post_delete(&acc, author, &why);
    return st == AG_OK ? AG_OK : gql_fail(info, AG_EFORBIDDEN, "forbidden", why);
}

/* A comment or a reply named by the id argument, as changing it needs it. */
typedef struct {
    ag_content_comment_t *cm; /* one of the two */
    ag_content_reply_t   *r;
    const char           *id;
    int64_t               channel_id, author_id;
    ag_ev_t               ids; /* what its events carry */
} answer_t;

static ag_status_t
answer_get(ag_graphql_info_t *info, bool reply, answer_t *an)
{
    ag_content_t *cs = GQL_CTX(info)->env->content;
    const char   *id = gql_arg_str(info, "id");
    ag_status_t   st;

    memset(an, 0, sizeof(*an));
    st = reply ? ag_content_reply_get(cs, info->arena, id, &an->r)
               : ag_content_comment_get(cs, info->arena, id, &an->cm);
    if (st != AG_OK)
        return st == AG_ENOTFOUND
                   ? gql_fail(info, st, "not_found", reply ? "no such reply" : "no such comment")
                   : gql_store_fail(info, st);
    if (reply) {
        an->id = an->r->id, an->channel_id = an->r->channel_id, an->author_id = an->r->author_id;
        an->ids = (ag_ev_t){
            .post_id = an->r->post_id, .comment_id = an->r->comment_id, .reply_id = an->r->id};
    } else {
        an->id = an->cm->id, an->channel_id = an->cm->channel_id, an->author_id = an->cm->author_id;
        an->ids = (ag_ev_t){.post_id = an->cm->post_id, .comment_id = an->cm->id};
    }
    return AG_OK;
}

/*
 * The comment (reply) of the id argument, when the caller may edit it (edit)
 * or delete it, with the event of that change and, for an edit, the body.
 */
static ag_status_t
answer_change(ag_graphql_info_t *info, bool reply, bool edit, answer_t *an, ag_content_event_t *ev,
              const char **body)
{
    static const ag_ev_verb_t verbs[2][2] = {
        {AG_EV_VERB_COMMENT_DELETED, AG_EV_VERB_COMMENT_UPDATED},
        {AG_EV_VERB_REPLY_DELETED, AG_EV_VERB_REPLY_UPDATED}};
    ag_status_t st;

    if ((st = gql_need_user(info)) != AG_OK || (st = answer_get(info, reply, an)) != AG_OK ||
        (st = may_change(info, an->channel_id, an->author_id, edit)) != AG_OK ||
        (edit && (st = gql_body_arg(info, body)) != AG_OK))
        return st;
    return gql_message_event(info, ev, an->id, edit ? gql_edit_what(info) : "deleted",
                             an->channel_id, verbs[reply][edit], an->ids);
}

ag_status_t
gql_m_edit_comment(const ag_graphql_value_t *parent, ag_graphql_info_t *info,
                   ag_graphql_value_t *out)
{
    answer_t           an;
    ag_content_event_t ev;
    const char        *body = NULL;
    ag_status_t        st;

    if ((st = answer_change(info, false, true, &an, &ev, &body)) != AG_OK)
        return st;
    st =
        ag_content_comment_edit(GQL_CTX(info)->env->content, info->arena, an.id, body, &ev, &an.cm);
    if (st != AG_OK)
        return gql_store_fail(info, st);
    gql_publish(info, &ev);
    *out = ag_graphql_json(gql_comment_json(info->arena, an.cm));
    return AG_OK;
}

ag_status_t
gql_m_edit_reply(const ag_graphql_value_t *parent, ag_graphql_info_t *info, ag_graphql_value_t *out)
{
    answer_t           an;
    ag_content_event_t ev;
    const char        *body = NULL;
    ag_status_t        st;

    if ((st = answer_change(info, true, true, &an, &ev, &body)) != AG_OK)
        return st;
    st = ag_content_reply_edit(GQL_CTX(info)->env->content, info->arena, an.id, body, &ev, &an.r);
    if (st != AG_OK)
        return gql_store_fail(info, st);
    gql_publish(info, &ev);
    *out = ag_graphql_json(gql_reply_json(info->arena, an.r));
    return AG_OK;
}

static ag_status_t
delete_answer(ag_graphql_info_t *info, bool reply, ag_graphql_value_t *out)
{
    ag_content_t      *cs = GQL_CTX(info)->env->content;
    answer_t           an;
    ag_content_event_t ev;
    ag_status_t        st;

    if ((st = answer_change(info, reply, false, &an, &ev, NULL)) != AG_OK)
        return st;
    st = reply ? ag_content_reply_delete(cs, info->arena, an.id, &ev)
               : ag_content_comment_delete(cs, info->arena, an.id, &ev);
    if (st != AG_OK)
        return gql_store_fail(info, st);
    gql_publish(info, &ev);
    *out = ag_graphql_json(ag_json_on_arena(info->arena, ag_json_bool(true)));
    return AG_OK;
}

ag_status_t
gql_m_delete_comment(const ag_graphql_value_t *parent, ag_graphql_info_t *info,
                     ag_graphql_value_t *out)
{
    return delete_answer(info, false, out);
}

ag_status_t
gql_m_delete_reply(const ag_graphql_value_t *parent, ag_graphql_info_t *info,
                   ag_graphql_value_t *out)
{
    return delete_answer(info, true, out);
}

/* The DM named by the id argument, when the caller may change it (ag_access_dm). */
static ag_status_t
own_dm(ag_graphql_info_t *info, ag_content_dm_t **d)
{
    const char *why = NULL;
    ag_status_t st;
    if ((st = gql_need_user(info)) != AG_OK)
        return st;
    st = ag_content_dm_get(GQL_CTX(info)->env->content, info->arena, gql_arg_str(info, "id"), d);
    if (st != AG_OK)
        return st == AG_ENOTFOUND ? gql_fail(info, st, "not_found", "no such direct message")
                                  : gql_store_fail(info, st);
    if (ag_access_dm(GQL_CTX(info)->user_id, (*d)->from_id, (*d)->to_id, true, &why) != AG_OK)
        return gql_fail(info, AG_EFORBIDDEN, "forbidden", why);
    return AG_OK;
}

/* A DM_STREAM event about d, to its recipient. */
static ag_status_t
dm_event(ag_graphql_info_t *info, ag_content_event_t *ev, const ag_content_dm_t *d,
         const char *what, const char *type)
{
    return gql_event(info, ev, d->id, what,
                     &(ag_ev_t){.subject = AG_EV_DM,
                                .id = d->to_id,
                                .type = type,
                                .message_id = d->id,
                                .from = d->from_id});
}

ag_status_t
gql_m_edit_dm(const ag_graphql_value_t *parent, ag_graphql_info_t *info, ag_graphql_value_t *out)
{
    ag_content_dm_t   *d = NULL;
    ag_content_event_t ev;
    const char        *body;
    ag_status_t        st;

    if ((st = own_dm(info, &d)) != AG_OK || (st = gql_body_arg(info, &body)) != AG_OK ||
        (st = dm_event(info, &ev, d, gql_edit_what(info), AG_EV_DM_UPDATED)) != AG_OK)
        return st;
    st = ag_content_dm_edit(GQL_CTX(info)->env->content, info->arena, d->id, body, &ev, &d);
    if (st != AG_OK)
        return gql_store_fail(info, st);
    gql_publish(info, &ev);
    *out = ag_graphql_json(gql_dm_json(info->arena, d));
    return AG_OK;
}

ag_status_t
gql_m_delete_dm(const ag_graphql_value_t *parent, ag_graphql_info_t *info, ag_graphql_value_t *out)
{
    ag_content_dm_t   *d = NULL;
    ag_content_event_t ev;
    ag_status_t        st;

    if ((st = own_dm(info, &d)) != AG_OK ||
        (st = dm_event(info, &ev, d, "deleted", AG_EV_DM_DELETED)) != AG_OK)
        return st;
    if ((st = ag_content_dm_delete(GQL_CTX(info)->env->content, info->arena, d->id, &ev)) != AG_OK)
        return gql_store_fail(info, st);
    gql_publish(info, &ev);
    gql_drop_attachments(info, d->id);
    *out = ag_graphql_json(ag_json_on_arena(info->arena, ag_json_bool(true)));
    return AG_OK;
}

/* ---- reactions ---------------------------------------------------------------------------- */

/* The target of the targetId argument, when the caller may react to it. */
static ag_status_t
reaction_target(ag_graphql_info_t *info, ag_content_target_t *t)
{
    const char *why = NULL;
    ag_status_t st;
    st = ag_content_target_get(GQL_CTX(info)->env->content, info->arena,
                               gql_arg_str(info, "targetId"), t);
    if (st != AG_OK)
        return st == AG_ENOTFOUND ? gql_fail(info, st, "not_found",
                                             "no such post, comment, "
                                             "reply or message")
                                  : gql_store_fail(info, st);
    if (t->kind != AG_CONTENT_KIND_DM)
        return gql_channel_check(info, t->channel_id, AG_ACCESS_REACT, NULL);
    if (ag_access_dm(GQL_CTX(info)->user_id, t->author_id, t->to_id, false, &why) != AG_OK)
        return gql_fail(info, AG_EFORBIDDEN, "forbidden", why);
    return AG_OK;
}

static ag_status_t
react(ag_graphql_info_t *info, bool add, ag_graphql_value_t *out)
{
    gql_env_t              *app = GQL_CTX(info)->env;
    ag_content_target_t     t;
    ag_content_event_t      ev;
    ag_content_reactions_t *rs = NULL;
    const char             *emoji = gql_arg_str(info, "emoji"), *why = NULL, *tid;
    int64_t                 me = GQL_CTX(info)->user_id;
    char                    oid[AG_CONTENT_ID_LEN + 1];
    bool                    changed = false;
    ag_status_t             st;

    if ((st = gql_need_user(info)) != AG_OK)
        return st;
    if (ag_content_emoji_check(emoji, &why) != AG_OK)
        return gql_fail(info, AG_EBADREQ, "bad_request", why);
    if ((st = reaction_target(info, &t)) != AG_OK)
        return st;
    ag_content_oid_new(oid); /* a toggle may repeat: each event gets an id of its own */
    ag_ev_t e = {.target_id = t.id, .emoji = emoji, .op = add ? AG_EV_OP_ADDED : AG_EV_OP_REMOVED};
    if (t.kind == AG_CONTENT_KIND_DM) {
        e.subject = AG_EV_DM; /* to the other party */
        e.id = me == t.author_id ? t.to_id : t.author_id;
        e.type = AG_EV_DM_REACTION;
        e.from = me;
        st = gql_event(info, &ev, oid, "reaction", &e);
    } else {
        e.user_id = me;
        st = gql_message_event(info, &ev, oid, "reaction", t.channel_id, AG_EV_VERB_REACTION, e);
    }
    if (st != AG_OK)
        return st;
    st = add ? ag_content_reaction_add(app->content, info->arena, &t, me, emoji,
                                       (int)ag_config_int(app->cfg, AG_CFG_reaction_emojis_max),
                                       &ev, &changed)
             : ag_content_reaction_remove(app->content, info->arena, &t, me, emoji, &ev, &changed);
    if (st != AG_OK)
        return gql_store_fail(info, st);
    if (changed)
        gql_publish(info, &ev);
    tid = t.id;
    if ((st = ag_content_reactions(app->content, info->arena, &tid, 1, me, &rs)) != AG_OK)
        return gql_store_fail(info, st);
    *out = ag_graphql_json(reactions_json(info->arena, &rs[0]));
    return AG_OK;
}

ag_status_t
gql_m_add_reaction(const ag_graphql_value_t *parent, ag_graphql_info_t *info,
                   ag_graphql_value_t *out)
{
    return react(info, true, out);
}

ag_status_t
gql_m_remove_reaction(const ag_graphql_value_t *parent, ag_graphql_info_t *info,
                      ag_graphql_value_t *out)
{
    return react(info, false, out);
}

/* ---- attachments of new messages ----------------------------------------------------------------
 */

ag_status_t
gql_attachment_ids(ag_graphql_info_t *info, const char ***ids, size_t *n)
{
    ag_json_t *arr = ag_json_get(info->args, "attachmentIds");
    int64_t    max = ag_config_int(GQL_CTX(info)->env->cfg, AG_CFG_attachments_per_message_max);

    *ids = NULL;
    *n = 0;
    if (arr == NULL || ag_json_type(arr) != AG_JSON_ARRAY || ag_json_len(arr) == 0)
        return AG_OK;
    if ((int64_t)ag_json_len(arr) > max)
        return gql_fail(
            info, AG_EBADREQ, "bad_request",
            ag_arena_printf(info->arena, "at most %lld attachments per message", (long long)max));
    if ((*ids = ag_arena_calloc(info->arena, ag_json_len(arr) * sizeof(**ids))) == NULL)
        return AG_ENOMEM;
    for (size_t i = 0; i < ag_json_len(arr); i++)
        (*ids)[i] = ag_json_as_str(ag_json_at(arr, i));
    *n = ag_json_len(arr);
    return AG_OK;
}

ag_status_t
gql_claim_attachments(ag_graphql_info_t *info, const char **ids, size_t n, const char *message_id,
                      int64_t channel_id, int64_t dm_from, int64_t dm_to)
{
    ag_status_t st;
    if (n == 0)
        return AG_OK;
    st = ag_attachments_claim(GQL_CTX(info)->env->m, info->arena, ids, n, GQL_CTX(info)->user_id,
                              message_id, channel_id, dm_from, dm_to);
    if (st == AG_EBADREQ)
        return gql_fail(info, st, "bad_request",
                        "attachmentIds must name your own uploads, each used once");
    if (st != AG_OK)
        return gql_fail(info, st, "unavailable", "attachments could not be attached; retry");
    return AG_OK;
}

void
gql_release_attachments(ag_graphql_info_t *info, const char *message_id)
{
    if (ag_attachments_release(GQL_CTX(info)->env->m, info->arena, message_id) != AG_OK)
        ag_log_warn("attachments of %s stay claimed by a message that was not stored", message_id);
}

void
gql_drop_attachments(ag_graphql_info_t *info, const char *message_id)
{
    if (ag_attachments_drop(GQL_CTX(info)->env->m, info->arena, message_id) != AG_OK)
        ag_log_warn("attachments of deleted message %s not dropped (unreadable: no message)",
                    message_id);
}
