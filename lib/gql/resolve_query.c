/* lib/gql/resolve_query.c — the root fields of Query. */
#include "gql/gql.h"

#include <stdio.h>
#include <string.h>

ag_status_t
gql_q_me(const ag_graphql_value_t *parent, ag_graphql_info_t *info, ag_graphql_value_t *out)
{
    ag_user_brief_t *u = NULL;
    int64_t          id = GQL_CTX(info)->user_id;
    ag_status_t      st;
    if (id == 0)
        return AG_OK; /* anonymous: me is null, not an error (CONTRACT §5) */
    if ((st = ag_users_brief(GQL_CTX(info)->env->m, info->arena, &id, 1, &u)) != AG_OK)
        return gql_fail(info, st, "unavailable", "user lookup failed");
    *out = ag_graphql_json(u ? gql_user_json(info->arena, u) : NULL);
    return AG_OK;
}

ag_status_t
gql_q_user(const ag_graphql_value_t *parent, ag_graphql_info_t *info, ag_graphql_value_t *out)
{
    ag_user_brief_t *u = NULL;
    int64_t          id;
    ag_status_t      st;
    if ((st = gql_need_user(info)) != AG_OK)
        return st;
    if (!gql_arg_id(info, "id", &id))
        return AG_OK; /* no such user: null */
    if ((st = ag_users_brief(GQL_CTX(info)->env->m, info->arena, &id, 1, &u)) != AG_OK)
        return gql_fail(info, st, "unavailable", "user lookup failed");
    *out = ag_graphql_json(u ? gql_user_json(info->arena, u) : NULL);
    return AG_OK;
}

/* userBy(by: {id} | {username}): UserBy is @oneOf, so the engine let exactly one through. */
ag_status_t
gql_q_user_by(const ag_graphql_value_t *parent, ag_graphql_info_t *info, ag_graphql_value_t *out)
{
    ag_model_t      *m = GQL_CTX(info)->env->m;
    ag_json_t       *by = ag_json_get(info->args, "by");
    ag_user_brief_t *u = NULL;
    const char      *s = NULL, *name = NULL;
    int64_t          id = 0, *ids = NULL;
    size_t           n = 0;
    ag_status_t      st;

    if ((st = gql_need_user(info)) != AG_OK)
        return st;
    if (ag_json_get_str(by, "username", &name) == AG_OK) {
        if ((st = ag_users_by_username(m, info->arena, &name, 1, &ids, &n)) != AG_OK)
            return gql_fail(info, st, "unavailable", "user lookup failed");
        id = n ? ids[0] : 0;
    } else if (ag_json_get_str(by, "id", &s) == AG_OK && ag_parse_i64(s, &id) != AG_OK) {
        id = 0;
    }
    if (id <= 0)
        return AG_OK; /* no such user: null */
    if ((st = ag_users_brief(m, info->arena, &id, 1, &u)) != AG_OK)
        return gql_fail(info, st, "unavailable", "user lookup failed");
    *out = ag_graphql_json(u ? gql_user_json(info->arena, u) : NULL);
    return AG_OK;
}

/* Load an item by id, null when absent or malformed, forbidden when its channel is not readable. */
#define LOAD_BY_ID(getter, type, to_json)                                                          \
    do {                                                                                           \
        type       *item = NULL;                                                                   \
        const char *id = gql_arg_str(info, "id");                                                  \
        ag_status_t st;                                                                            \
        if ((st = gql_need_user(info)) != AG_OK)                                                   \
            return st;                                                                             \
        st = getter(GQL_CTX(info)->env->content, info->arena, id, &item);                          \
        if (st == AG_ENOTFOUND)                                                                    \
            return AG_OK;                                                                          \
        if (st != AG_OK)                                                                           \
            return gql_store_fail(info, st);                                                       \
        if ((st = gql_channel_check(info, item->channel_id, AG_ACCESS_READ, NULL)) != AG_OK)       \
            return st;                                                                             \
        *out = ag_graphql_json(to_json(info->arena, item));                                        \
        return AG_OK;                                                                              \
    } while (0)

/* post(id): the post, its channel's access and its author in one statement where the store can. */
ag_status_t
gql_q_post(const ag_graphql_value_t *parent, ag_graphql_info_t *info, ag_graphql_value_t *out)
{
    ag_content_post_t  *p = NULL;
    ag_content_access_t acc;
    bool                acc_read = false;
    ag_status_t         st;

    if ((st = gql_need_user(info)) != AG_OK)
        return st;
    st = ag_content_post_get_as(GQL_CTX(info)->env->content, info->arena, gql_arg_str(info, "id"),
                                GQL_CTX(info)->user_id, &acc, &p);
    if (st == AG_DECLINED) /* the store cannot join: post, then its channel's access */
        st = ag_content_post_get(GQL_CTX(info)->env->content, info->arena, gql_arg_str(info, "id"),
                                 &p);
    else if (st == AG_OK)
        acc_read = true;
    if (st == AG_ENOTFOUND)
        return AG_OK;
    if (st != AG_OK)
        return gql_store_fail(info, st);
    ag_channel_access_t a = {.exists = acc.exists, .is_public = acc.is_public, .role = acc.role};
    st = acc_read ? gql_access_verdict(info, &a, AG_ACCESS_READ)
                  : gql_channel_check(info, p->channel_id, AG_ACCESS_READ, NULL);
    if (st != AG_OK)
        return st;
    gql_memo_authors(info, p, 1);
    *out = ag_graphql_json(gql_post_json(info->arena, p));
    return AG_OK;
}

ag_status_t
gql_q_comment(const ag_graphql_value_t *parent, ag_graphql_info_t *info, ag_graphql_value_t *out)
{
    LOAD_BY_ID(ag_content_comment_get, ag_content_comment_t, gql_comment_json);
}

ag_status_t
gql_q_reply(const ag_graphql_value_t *parent, ag_graphql_info_t *info, ag_graphql_value_t *out)
{
    LOAD_BY_ID(ag_content_reply_get, ag_content_reply_t, gql_reply_json);
}

ag_status_t
gql_q_dm(const ag_graphql_value_t *parent, ag_graphql_info_t *info, ag_graphql_value_t *out)
{
    ag_content_dm_t *d = NULL;
    int64_t          me = GQL_CTX(info)->user_id;
    ag_status_t      st;
    if ((st = gql_need_user(info)) != AG_OK)
        return st;
    st = ag_content_dm_get(GQL_CTX(info)->env->content, info->arena, gql_arg_str(info, "id"), &d);
    if (st == AG_ENOTFOUND)
        return AG_OK;
    if (st != AG_OK)
        return gql_store_fail(info, st);
    if (d->from_id != me && d->to_id != me)
        return gql_fail(info, AG_EFORBIDDEN, "forbidden", "not your message");
    *out = ag_graphql_json(gql_dm_json(info->arena, d));
    return AG_OK;
}

ag_status_t
gql_q_channel_posts(const ag_graphql_value_t *parent, ag_graphql_info_t *info,
                    ag_graphql_value_t *out)
{
    ag_content_post_page_t page;
    ag_content_access_t    acc;
    int64_t                cid;
    int                    first;
    const char            *after;
    ag_status_t            st;

    if ((st = gql_need_user(info)) != AG_OK || (st = gql_page_args(info, &first, &after)) != AG_OK)
        return st;
    if (!gql_arg_id(info, "channelId", &cid))
        return gql_fail(info, AG_EFORBIDDEN, "forbidden", "no such channel");
    /* access, page and authors in one statement where the store can (PostgreSQL) */
    st = ag_content_post_list_as(GQL_CTX(info)->env->content, info->arena, cid,
                                 GQL_CTX(info)->user_id, first, after, &acc, &page);
    if (st == AG_OK) {
        ag_channel_access_t a = {
            .exists = acc.exists, .is_public = acc.is_public, .role = acc.role};
        if ((st = gql_access_verdict(info, &a, AG_ACCESS_READ)) != AG_OK)
            return st;
        gql_memo_authors(info, page.items, page.n);
        return GQL_PAGE_VALUE(info, page, gql_post_node, out);
    }
    if (st != AG_DECLINED)
        return gql_access_fail(info, st); /* the access check is what failed first before */
    if ((st = gql_channel_check(info, cid, AG_ACCESS_READ, NULL)) != AG_OK)
        return st;
    st = ag_content_post_list(GQL_CTX(info)->env->content, info->arena, cid, first, after, &page);
    if (st != AG_OK)
        return gql_store_fail(info, st);
    return GQL_PAGE_VALUE(info, page, gql_post_node, out);
}

ag_status_t
gql_q_dms(const ag_graphql_value_t *parent, ag_graphql_info_t *info, ag_graphql_value_t *out)
{
    ag_content_dm_page_t page;
    int64_t              other;
    int                  first;
    const char          *after;
    ag_status_t          st;

    if ((st = gql_need_user(info)) != AG_OK || (st = gql_page_args(info, &first, &after)) != AG_OK)
        return st;
    if (!gql_arg_id(info, "withUserId", &other))
        other = -1; /* an id that is no user: an empty conversation */
    st = ag_content_dm_list(GQL_CTX(info)->env->content, info->arena, GQL_CTX(info)->user_id, other,
                            first, after, &page);
    if (st != AG_OK)
        return gql_store_fail(info, st);
    return GQL_PAGE_VALUE(info, page, gql_dm_node, out);
}

ag_status_t
gql_q_search(const ag_graphql_value_t *parent, ag_graphql_info_t *info, ag_graphql_value_t *out)
{
    ag_content_post_page_t page;
    const char           **cur = NULL;
    const char            *after, *query;
    int                    first;
    ag_status_t            st;

    if ((st = gql_need_user(info)) != AG_OK || (st = gql_page_args(info, &first, &after)) != AG_OK)
        return st;
    query = gql_arg_str(info, "query");
    /* the index (post_search) is kept by `agora-worker index`; readable channels only */
    st = ag_content_search(GQL_CTX(info)->env->content, GQL_CTX(info)->env->m->db, info->arena,
                           GQL_CTX(info)->user_id, query ? query : "", first, after, &page, &cur);
    if (st != AG_OK)
        return gql_store_fail(info, st); /* AG_EBADREQ: a long query or a foreign cursor */
    ag_json_t **nodes = ag_arena_alloc(info->arena, sizeof(*nodes) * (page.n + 1));
    if (nodes == NULL)
        return AG_ENOMEM;
    for (size_t i = 0; i < page.n; i++)
        nodes[i] = gql_post_json(info->arena, &page.items[i]);
    *out = ag_graphql_json(
        gql_connection(info->arena, nodes, cur, page.n, page.has_next_page, page.end_cursor));
    return AG_OK;
}
