/*
 * tests/unit/graphql/gql_fixture.h — a small in-memory schema shaped like
 * Agora's (users, posts, connections) plus types that exercise the engine:
 * an interface, a union, an enum, an input object, an opaque C object, a
 * failing resolver and a non-null field that returns null. Data is JSON.
 */
#ifndef GQL_FIXTURE_H
#define GQL_FIXTURE_H

#include "graphql/graphql.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static ag_json_t *fx_users, *fx_posts;
static int        fx_author_calls, fx_prepare_calls, fx_counter;

typedef struct {
    int value;
} fx_counter_t;
static fx_counter_t fx_opaque = {42};

static ag_json_t *
fx_find(ag_json_t *arr, const char *id)
{
    for (size_t i = 0; i < ag_json_len(arr); i++) {
        const char *x = NULL;
        if (ag_json_get_str(ag_json_at(arr, i), "id", &x) == AG_OK && strcmp(x, id) == 0)
            return ag_json_at(arr, i);
    }
    return NULL;
}

static ag_status_t
fx_me(const ag_graphql_value_t *p, ag_graphql_info_t *info, ag_graphql_value_t *out)
{
    *out = ag_graphql_json(ag_json_at(fx_users, 0));
    return AG_OK;
}

static ag_status_t
fx_user(const ag_graphql_value_t *p, ag_graphql_info_t *info, ag_graphql_value_t *out)
{
    const char *id = NULL;
    ag_json_get_str(info->args, "id", &id);
    *out = ag_graphql_json(id ? fx_find(fx_users, id) : NULL);
    return AG_OK;
}

static ag_status_t
fx_post(const ag_graphql_value_t *p, ag_graphql_info_t *info, ag_graphql_value_t *out)
{
    const char *id = NULL;
    ag_json_get_str(info->args, "id", &id);
    *out = ag_graphql_json(id ? fx_find(fx_posts, id) : NULL);
    return AG_OK;
}

/* {edges:[{cursor, node}], pageInfo:{hasNextPage, endCursor}} over fx_posts */
static ag_status_t
fx_channel_posts(const ag_graphql_value_t *p, ag_graphql_info_t *info, ag_graphql_value_t *out)
{
    int64_t    first = 0;
    ag_json_t *conn = ag_json_on_arena(info->arena, ag_json_obj());
    ag_json_t *edges = ag_json_arr(), *pi = ag_json_obj();
    size_t     n = ag_json_len(fx_posts);

    ag_json_get_i64(info->args, "first", &first);
    if ((size_t)first < n)
        n = (size_t)first;
    for (size_t i = 0; i < n; i++) {
        ag_json_t *e = ag_json_obj();
        char       c[32];
        snprintf(c, sizeof(c), "c%zu", i);
        ag_json_set_str(e, "cursor", c);
        ag_json_set(e, "node", ag_json_ref(ag_json_at(fx_posts, i)));
        ag_json_push(edges, e);
    }
    ag_json_set_bool(pi, "hasNextPage", n < ag_json_len(fx_posts));
    ag_json_set_str(pi, "endCursor", n ? "c-end" : NULL);
    ag_json_set(conn, "edges", edges);
    ag_json_set(conn, "pageInfo", pi);
    *out = ag_graphql_json(conn);
    return AG_OK;
}

/* Post.author: from the memo filled by the prepare hook, else a lookup. */
static ag_status_t
fx_author(const ag_graphql_value_t *p, ag_graphql_info_t *info, ag_graphql_value_t *out)
{
    const char *aid = NULL;
    char        key[64];
    fx_author_calls++;
    ag_json_get_str(p->json, "authorId", &aid);
    snprintf(key, sizeof(key), "user:%s", aid ? aid : "");
    ag_json_t *u = ag_graphql_memo_get(info, key);
    *out = ag_graphql_json(u ? u : fx_find(fx_users, aid ? aid : ""));
    return AG_OK;
}

static ag_status_t
fx_author_prepare(const ag_graphql_value_t *parents, size_t n, ag_graphql_info_t *info)
{
    fx_prepare_calls++;
    for (size_t i = 0; i < n; i++) {
        const char *aid = NULL;
        char        key[64];
        if (ag_json_get_str(parents[i].json, "authorId", &aid) != AG_OK)
            continue;
        snprintf(key, sizeof(key), "user:%s", aid);
        ag_graphql_memo_put(info, key, fx_find(fx_users, aid));
    }
    return AG_OK;
}

static ag_status_t
fx_null(const ag_graphql_value_t *p, ag_graphql_info_t *info, ag_graphql_value_t *out)
{
    return AG_OK; /* *out stays null */
}

static ag_status_t
fx_fail(const ag_graphql_value_t *p, ag_graphql_info_t *info, ag_graphql_value_t *out)
{
    info->message = "sign in first";
    info->code = "unauthenticated";
    return AG_EUNAUTH;
}

static ag_status_t
fx_forbidden(const ag_graphql_value_t *p, ag_graphql_info_t *info, ag_graphql_value_t *out)
{
    return AG_EFORBIDDEN; /* message and code from the status table */
}

/* echo: the coerced arguments as compact JSON text */
static ag_status_t
fx_echo(const ag_graphql_value_t *p, ag_graphql_info_t *info, ag_graphql_value_t *out)
{
    const char *s = ag_json_dump((ag_json_t *)info->args, NULL);
    *out = ag_graphql_json(ag_json_on_arena(info->arena, ag_json_str(s)));
    return AG_OK;
}

static ag_status_t
fx_node(const ag_graphql_value_t *p, ag_graphql_info_t *info, ag_graphql_value_t *out)
{
    const char *id = NULL;
    ag_json_t  *v;
    ag_json_get_str(info->args, "id", &id);
    if ((v = fx_find(fx_users, id)) != NULL) {
        *out = ag_graphql_json(v);
        out->type_name = "User";
    } else if ((v = fx_find(fx_posts, id)) != NULL) {
        *out = ag_graphql_json(v);
        out->type_name = "Post";
    }
    return AG_OK;
}

static ag_status_t
fx_search(const ag_graphql_value_t *p, ag_graphql_info_t *info, ag_graphql_value_t *out)
{
    /* JSON objects carrying __typename resolve the union themselves */
    ag_json_t *arr = ag_json_on_arena(info->arena, ag_json_arr());
    ag_json_t *u = ag_json_obj(), *po = ag_json_obj();
    ag_json_set_str(u, "__typename", "User");
    ag_json_set_str(u, "id", "u9");
    ag_json_set_str(u, "username", "found");
    ag_json_set_str(po, "__typename", "Post");
    ag_json_set_str(po, "id", "p9");
    ag_json_set_str(po, "body", "hit");
    ag_json_push(arr, u);
    ag_json_push(arr, po);
    *out = ag_graphql_json(arr);
    return AG_OK;
}

static ag_status_t
fx_all_posts(const ag_graphql_value_t *p, ag_graphql_info_t *info, ag_graphql_value_t *out)
{
    *out = ag_graphql_json(fx_posts);
    return AG_OK;
}

static ag_status_t
fx_counter_obj(const ag_graphql_value_t *p, ag_graphql_info_t *info, ag_graphql_value_t *out)
{
    *out = ag_graphql_ptr(&fx_opaque, NULL);
    return AG_OK;
}

static ag_status_t
fx_counter_value(const ag_graphql_value_t *p, ag_graphql_info_t *info, ag_graphql_value_t *out)
{
    const fx_counter_t *c = p->ptr;
    *out = ag_graphql_json(ag_json_on_arena(info->arena, ag_json_int(c->value)));
    return AG_OK;
}

static ag_status_t
fx_incr(const ag_graphql_value_t *p, ag_graphql_info_t *info, ag_graphql_value_t *out)
{
    *out = ag_graphql_json(ag_json_on_arena(info->arena, ag_json_int(++fx_counter)));
    return AG_OK;
}

static ag_status_t
fx_create_post(const ag_graphql_value_t *p, ag_graphql_info_t *info, ag_graphql_value_t *out)
{
    const char *body = NULL, *ch = NULL;
    ag_json_t  *o = ag_json_on_arena(info->arena, ag_json_obj());
    ag_json_get_str(info->args, "body", &body);
    ag_json_get_str(info->args, "channelId", &ch);
    ag_json_set_str(o, "id", "p-new");
    ag_json_set_str(o, "body", body);
    ag_json_set_str(o, "channelId", ch);
    ag_json_set_str(o, "authorId", "u1");
    *out = ag_graphql_json(o);
    return AG_OK;
}

static ag_json_t *
fx_parse(const char *s)
{
    char err[128];
    return ag_json_parse(s, strlen(s), 32, err, sizeof(err));
}

static ag_graphql_schema_t *
fx_schema(void)
{
    ag_graphql_schema_t *s = ag_graphql_schema_new(NULL);
    ag_graphql_type_t   *t;
    ag_graphql_field_t  *f;
    char                 err[256];

    fx_users = fx_parse("[{\"id\":\"u1\",\"username\":\"ada\",\"displayName\":\"Ada\"},"
                        "{\"id\":\"u2\",\"username\":\"bob\",\"displayName\":null}]");
    fx_posts =
        fx_parse("[{\"id\":\"p1\",\"channelId\":\"c1\",\"authorId\":\"u1\",\"body\":\"hello\","
                 "\"createdAt\":\"2026-11-24T10:00:00.000Z\",\"commentCount\":2,"
                 "\"old\":\"legacy\"},"
                 "{\"id\":\"p2\",\"channelId\":\"c1\",\"authorId\":\"u2\",\"body\":\"world\","
                 "\"createdAt\":\"2026-11-24T11:00:00.000Z\",\"commentCount\":0},"
                 "{\"id\":\"p3\",\"channelId\":\"c1\",\"authorId\":\"u1\",\"body\":\"again\","
                 "\"createdAt\":\"2026-11-24T12:00:00.000Z\",\"commentCount\":1}]");

    ag_graphql_scalar(s, "DateTime", "RFC 3339 string, UTC",
                      "https://www.rfc-editor.org/rfc/rfc3339");
    t = ag_graphql_interface(s, "Node", "An object with an ID.");
    ag_graphql_field(t, "id", "ID!", NULL, NULL, NULL);

    t = ag_graphql_object(s, "User", "A member.");
    ag_graphql_implements(t, "Node");
    ag_graphql_field(t, "id", "ID!", NULL, NULL, NULL);
    ag_graphql_field(t, "username", "String!", "Unique handle.", NULL, NULL);
    ag_graphql_field(t, "displayName", "String", NULL, NULL, NULL);

    t = ag_graphql_object(s, "Post", "A message in a channel.");
    ag_graphql_implements(t, "Node");
    ag_graphql_field(t, "id", "ID!", NULL, NULL, NULL);
    ag_graphql_field(t, "channelId", "ID!", NULL, NULL, NULL);
    f = ag_graphql_field(t, "author", "User!", NULL, fx_author, NULL);
    ag_graphql_set_prepare(f, fx_author_prepare);
    ag_graphql_field(t, "body", "String!", NULL, NULL, NULL);
    ag_graphql_field(t, "createdAt", "DateTime!", NULL, NULL, NULL);
    ag_graphql_field(t, "commentCount", "Int!", NULL, NULL, NULL);
    ag_graphql_field(t, "brokenAuthor", "User!", "Always null: tests propagation.", fx_null, NULL);
    ag_graphql_field(t, "secret", "String", NULL, fx_fail, NULL);
    f = ag_graphql_field(t, "old", "String", NULL, NULL, NULL);
    ag_graphql_deprecate(f, "Use body.");

    t = ag_graphql_object(s, "PageInfo", NULL);
    ag_graphql_field(t, "hasNextPage", "Boolean!", NULL, NULL, NULL);
    ag_graphql_field(t, "endCursor", "String", NULL, NULL, NULL);
    t = ag_graphql_object(s, "PostEdge", NULL);
    ag_graphql_field(t, "cursor", "String!", NULL, NULL, NULL);
    ag_graphql_field(t, "node", "Post!", NULL, NULL, NULL);
    t = ag_graphql_object(s, "PostConnection", NULL);
    ag_graphql_field(t, "edges", "[PostEdge!]!", NULL, NULL, NULL);
    ag_graphql_field(t, "pageInfo", "PageInfo!", NULL, NULL, NULL);

    t = ag_graphql_enum(s, "Color", "A color.");
    ag_graphql_enum_value(t, "RED", "Red.", NULL);
    ag_graphql_enum_value(t, "GREEN", NULL, NULL);
    ag_graphql_enum_value(t, "BLUE", NULL, "Too cold.");
    t = ag_graphql_input(s, "Filter", "Search filter.");
    ag_graphql_input_field(t, "text", "String!", NULL, NULL);
    ag_graphql_input_field(t, "limit", "Int", "5", "At most this many.");
    ag_graphql_input_field(t, "colors", "[Color!]", NULL, NULL);
    t = ag_graphql_union(s, "SearchResult", NULL);
    ag_graphql_union_member(t, "User");
    ag_graphql_union_member(t, "Post");
    t = ag_graphql_object(s, "Counter", "An opaque C object.");
    ag_graphql_field(t, "value", "Int!", NULL, fx_counter_value, NULL);

    t = ag_graphql_object(s, "Query", "The root of reads.");
    ag_graphql_field(t, "me", "User", "The signed-in user.", fx_me, NULL);
    f = ag_graphql_field(t, "user", "User", NULL, fx_user, NULL);
    ag_graphql_arg(f, "id", "ID!", NULL, NULL);
    f = ag_graphql_field(t, "post", "Post", NULL, fx_post, NULL);
    ag_graphql_arg(f, "id", "ID!", NULL, NULL);
    f = ag_graphql_field(t, "channelPosts", "PostConnection!", NULL, fx_channel_posts, NULL);
    ag_graphql_arg(f, "channelId", "ID!", NULL, NULL);
    ag_graphql_arg(f, "first", "Int", "20", "Page size.");
    ag_graphql_arg(f, "after", "String", NULL, NULL);
    f = ag_graphql_field(t, "node", "Node", NULL, fx_node, NULL);
    ag_graphql_arg(f, "id", "ID!", NULL, NULL);
    ag_graphql_field(t, "search", "[SearchResult!]!", NULL, fx_search, NULL);
    f = ag_graphql_field(t, "echo", "String", NULL, fx_echo, NULL);
    ag_graphql_arg(f, "s", "String", NULL, NULL);
    ag_graphql_arg(f, "i", "Int", NULL, NULL);
    ag_graphql_arg(f, "f", "Float", NULL, NULL);
    ag_graphql_arg(f, "b", "Boolean", NULL, NULL);
    ag_graphql_arg(f, "id", "ID", NULL, NULL);
    ag_graphql_arg(f, "e", "Color", "RED", NULL);
    ag_graphql_arg(f, "in", "Filter", NULL, NULL);
    ag_graphql_arg(f, "list", "[Int!]", NULL, NULL);
    ag_graphql_arg(f, "req", "Int!", "7", NULL);
    f = ag_graphql_field(t, "need", "String", NULL, fx_echo, NULL);
    ag_graphql_arg(f, "x", "Int!", NULL, NULL);
    ag_graphql_field(t, "failing", "String", NULL, fx_fail, NULL);
    ag_graphql_field(t, "forbidden", "String", NULL, fx_forbidden, NULL);
    ag_graphql_field(t, "failingNonNull", "String!", NULL, fx_fail, NULL);
    ag_graphql_field(t, "counter", "Counter", NULL, fx_counter_obj, NULL);
    ag_graphql_field(t, "badInt", "Int", NULL, fx_echo, NULL);
    ag_graphql_field(t, "posts", "[Post]", NULL, fx_all_posts, NULL);

    t = ag_graphql_object(s, "Mutation", NULL);
    f = ag_graphql_field(t, "createPost", "Post!", NULL, fx_create_post, NULL);
    ag_graphql_arg(f, "channelId", "ID!", NULL, NULL);
    ag_graphql_arg(f, "body", "String!", NULL, NULL);
    ag_graphql_field(t, "incr", "Int!", NULL, fx_incr, NULL);

    if (ag_graphql_schema_finish(s, err, sizeof(err)) != AG_OK) {
        fprintf(stderr, "fixture schema: %s\n", err);
        exit(1);
    }
    return s;
}

static void
fx_free(ag_graphql_schema_t *s)
{
    ag_graphql_schema_free(s);
    ag_json_free(fx_users);
    ag_json_free(fx_posts);
}

#endif
