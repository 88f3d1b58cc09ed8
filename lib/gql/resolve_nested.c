/*
 * lib/gql/resolve_nested.c — fields below the roots: authors (batched:
 * one cache round trip per page, one SQL query for the misses) and the
 * comment/reply connections and parents.
 */
#include "gql/gql.h"

#include <stdio.h>
#include <string.h>


ag_status_t
gql_f_author_prepare(const ag_graphql_value_t *parents, size_t n, ag_graphql_info_t *info)
{
    const char *member = info->field_ud;
    int64_t    *ids = ag_arena_alloc(info->arena, sizeof(int64_t) * (n ? n : 1));
    size_t      k = 0;
    ag_status_t st;

    if (ids == NULL)
        return AG_ENOMEM;
    for (size_t i = 0; i < n; i++) {
        const char *s = NULL;
        int64_t     id;
        if (parents[i].kind == AG_GRAPHQL_JSON &&
            ag_json_get_str(parents[i].json, member, &s) == AG_OK &&
            ag_parse_i64(s, &id) == AG_OK) {
            char key[40];
            bool dup = false;
            for (size_t j = 0; j < k && !dup; j++)
                dup = ids[j] == id;
            gql_user_key(key, sizeof(key), id);
            if (!dup && ag_graphql_memo_get(info, key) == NULL) /* joined by the page already */
                ids[k++] = id;
        }
    }
    if (k == 0)
        return AG_OK;
    ag_user_brief_t **users = ag_arena_alloc(info->arena, sizeof(*users) * k);
    if (users == NULL)
        return AG_ENOMEM;
    if ((st = ag_users_brief(GQL_CTX(info)->env->m, info->arena, ids, k, users)) != AG_OK)
        return st;  /* the resolver falls back to single loads */
    for (size_t i = 0; i < k; i++) {
        char key[40];
        gql_user_key(key, sizeof(key), ids[i]);
        /* no such user: the account was deleted; its content stays, by a placeholder */
        ag_graphql_memo_put(info, key,
                            users[i] ? gql_user_json(info->arena, users[i])
                                     : gql_deleted_user_json(info->arena));
    }
    return AG_OK;
}

ag_status_t
gql_f_author(const ag_graphql_value_t *parent, ag_graphql_info_t *info, ag_graphql_value_t *out)
{
    const char      *s = NULL;
    char             key[40];
    int64_t          id;
    ag_user_brief_t *u = NULL;
    ag_status_t      st;

    if (ag_json_get_str(parent->json, info->field_ud, &s) != AG_OK || ag_parse_i64(s, &id) != AG_OK)
        return AG_OK;
    gql_user_key(key, sizeof(key), id);
    ag_json_t *memo = ag_graphql_memo_get(info, key);
    if (memo) {
        *out = ag_graphql_json(memo);
        return AG_OK;
    }
    if ((st = ag_users_brief(GQL_CTX(info)->env->m, info->arena, &id, 1, &u)) != AG_OK)
        return gql_fail(info, st, "unavailable", "user lookup failed");
    /* the author deleted their account: the content stays readable, by a placeholder */
    *out = ag_graphql_json(u ? gql_user_json(info->arena, u) : gql_deleted_user_json(info->arena));
    return AG_OK;
}

ag_status_t
gql_f_post_comments(const ag_graphql_value_t *parent, ag_graphql_info_t *info,
                    ag_graphql_value_t *out)
{
    ag_content_comment_page_t page;
    const char               *post_id = NULL, *after;
    int                       first;
    ag_status_t               st;

    if ((st = gql_page_args(info, &first, &after)) != AG_OK)
        return st;
    ag_json_get_str(parent->json, "id", &post_id);
    st = ag_content_comment_list(GQL_CTX(info)->env->content, info->arena, post_id, first, after,
                                 &page);
    if (st != AG_OK)
        return gql_store_fail(info, st);
    return GQL_PAGE_VALUE(info, page, gql_comment_node, out);
}

ag_status_t
gql_f_comment_replies(const ag_graphql_value_t *parent, ag_graphql_info_t *info,
                      ag_graphql_value_t *out)
{
    ag_content_reply_page_t page;
    const char             *comment_id = NULL, *after;
    int                     first;
    ag_status_t             st;

    if ((st = gql_page_args(info, &first, &after)) != AG_OK)
        return st;
    ag_json_get_str(parent->json, "id", &comment_id);
    st = ag_content_reply_list(GQL_CTX(info)->env->content, info->arena, comment_id, first, after,
                               &page);
    if (st != AG_OK)
        return gql_store_fail(info, st);
    return GQL_PAGE_VALUE(info, page, gql_reply_node, out);
}

ag_status_t
gql_f_comment_post(const ag_graphql_value_t *parent, ag_graphql_info_t *info,
                   ag_graphql_value_t *out)
{
    ag_content_post_t *p = NULL;
    const char        *post_id = NULL;
    ag_json_get_str(parent->json, "postId", &post_id);
    ag_status_t st = ag_content_post_get(GQL_CTX(info)->env->content, info->arena, post_id, &p);
    if (st != AG_OK)
        return gql_store_fail(info, st);
    *out = ag_graphql_json(gql_post_json(info->arena, p));
    return AG_OK;
}

ag_status_t
gql_f_reply_comment(const ag_graphql_value_t *parent, ag_graphql_info_t *info,
                    ag_graphql_value_t *out)
{
    ag_content_comment_t *c = NULL;
    const char           *comment_id = NULL;
    ag_json_get_str(parent->json, "commentId", &comment_id);
    ag_status_t st =
        ag_content_comment_get(GQL_CTX(info)->env->content, info->arena, comment_id, &c);
    if (st != AG_OK)
        return gql_store_fail(info, st);
    *out = ag_graphql_json(gql_comment_json(info->arena, c));
    return AG_OK;
}
