/*
 * bench/graphql_engine_bench.c — parse + validate + execute of a typical
 * channel page against in-memory resolvers, reported as ns per request.
 * The arena is reset per request as a FastCGI worker does. Two lines: with
 * the document cache agora.fcgi uses (the query text repeats, as clients
 * send it), then without it (parse and validate every time).
 *   usage: graphql_engine_bench [iterations]
 */
#include "graphql/graphql.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static ag_json_t *posts, *users;

static ag_status_t
channel_posts(const ag_graphql_value_t *p, ag_graphql_info_t *info, ag_graphql_value_t *out)
{
    int64_t    first = 20;
    ag_json_t *conn = ag_json_on_arena(info->arena, ag_json_obj());
    ag_json_t *edges = ag_json_arr();

    ag_json_get_i64(info->args, "first", &first);
    for (int64_t i = 0; i < first && (size_t)i < ag_json_len(posts); i++) {
        ag_json_t *e = ag_json_obj();
        ag_json_set_str(e, "cursor", "c");
        ag_json_set(e, "node", ag_json_ref(ag_json_at(posts, (size_t)i)));
        ag_json_push(edges, e);
    }
    ag_json_set(conn, "edges", edges);
    *out = ag_graphql_json(conn);
    return AG_OK;
}

/* authors come from a per-request memo, as the real resolver will batch them */
static ag_status_t
author(const ag_graphql_value_t *p, ag_graphql_info_t *info, ag_graphql_value_t *out)
{
    int64_t id = 0;
    char    key[32];
    ag_json_get_i64(p->json, "authorId", &id);
    snprintf(key, sizeof(key), "u%lld", (long long)id);
    ag_json_t *u = ag_graphql_memo_get(info, key);
    if (u == NULL) {
        u = ag_json_at(users, (size_t)id % ag_json_len(users));
        ag_graphql_memo_put(info, key, u);
    }
    *out = ag_graphql_json(u);
    return AG_OK;
}

static ag_graphql_schema_t *
build(void)
{
    ag_graphql_schema_t *s = ag_graphql_schema_new(NULL);
    ag_graphql_type_t   *t;
    ag_graphql_field_t  *f;
    char                 err[128];

    t = ag_graphql_object(s, "User", NULL);
    ag_graphql_field(t, "id", "ID!", NULL, NULL, NULL);
    ag_graphql_field(t, "username", "String!", NULL, NULL, NULL);
    t = ag_graphql_object(s, "Post", NULL);
    ag_graphql_field(t, "id", "ID!", NULL, NULL, NULL);
    ag_graphql_field(t, "body", "String!", NULL, NULL, NULL);
    ag_graphql_field(t, "author", "User!", NULL, author, NULL);
    t = ag_graphql_object(s, "PostEdge", NULL);
    ag_graphql_field(t, "cursor", "String!", NULL, NULL, NULL);
    ag_graphql_field(t, "node", "Post!", NULL, NULL, NULL);
    t = ag_graphql_object(s, "PostConnection", NULL);
    ag_graphql_field(t, "edges", "[PostEdge!]!", NULL, NULL, NULL);
    t = ag_graphql_object(s, "Query", NULL);
    f = ag_graphql_field(t, "channelPosts", "PostConnection!", NULL, channel_posts, NULL);
    ag_graphql_arg(f, "channelId", "ID!", NULL, NULL);
    ag_graphql_arg(f, "first", "Int", "20", NULL);
    ag_graphql_arg(f, "after", "String", NULL, NULL);
    if (ag_graphql_schema_finish(s, err, sizeof(err)) != AG_OK) {
        fprintf(stderr, "schema: %s\n", err);
        exit(1);
    }
    return s;
}

static void
make_data(void)
{
    posts = ag_json_arr();
    users = ag_json_arr();
    for (int i = 0; i < 5; i++) {
        ag_json_t *u = ag_json_obj();
        char       id[32], name[32];
        snprintf(id, sizeof(id), "%024d", i);
        snprintf(name, sizeof(name), "user%d", i);
        ag_json_set_str(u, "id", id);
        ag_json_set_str(u, "username", name);
        ag_json_push(users, u);
    }
    for (int i = 0; i < 20; i++) {
        ag_json_t *p = ag_json_obj();
        char       id[32];
        snprintf(id, sizeof(id), "%024x", i);
        ag_json_set_str(p, "id", id);
        ag_json_set_str(p, "body", "Hello from the benchmark, a post body of typical length.");
        ag_json_set_int(p, "authorId", i % 5);
        ag_json_push(posts, p);
    }
}

int
main(int argc, char **argv)
{
    static const char    q[] = "query Page($c: ID!) { channelPosts(channelId: $c, first: 20) { "
                               "edges { node { id body author { id username } } } } }";
    long                 iters = argc > 1 ? atol(argv[1]) : 20000;
    ag_graphql_schema_t *s;
    ag_arena_t          *a = ag_arena_new(65536);
    ag_json_t           *vars, *res = NULL;
    ag_graphql_phase_t   phase;
    struct timespec      t0, t1;
    size_t               out_len = 0;
    char                 err[64];

    make_data();
    s = build();
    vars = ag_json_parse("{\"c\":\"c1\"}", 10, 8, err, sizeof(err));
    ag_graphql_doc_cache_t *cache = ag_graphql_doc_cache_new(s, 256, 4u << 20);
    ag_buf_t text;
    ag_buf_init(&text);
    for (int cached = 1; cached >= 0; cached--) {
        clock_gettime(CLOCK_MONOTONIC, &t0);
        for (long i = 0; i < iters; i++) {
            ag_graphql_request_t *r = NULL;
            ag_buf_reset(&text); /* the response body, as agora.fcgi keeps it */
            if (ag_graphql_prepare_cached(cached ? cache : NULL, s, a, q, sizeof(q) - 1, NULL,
                                          NULL, &r, &res) != AG_OK ||
                ag_graphql_run_text(r, vars, NULL, &text, &phase) != AG_OK ||
                phase != AG_GRAPHQL_PHASE_EXECUTED) {
                fprintf(stderr, "execution failed\n");
                return 1;
            }
            out_len = text.len;
            ag_arena_reset(a);
        }
        clock_gettime(CLOCK_MONOTONIC, &t1);
        double ns = (double)(t1.tv_sec - t0.tv_sec) * 1e9 + (double)(t1.tv_nsec - t0.tv_nsec);
        printf("graphql %s+execute+serialize (20 posts, %zu bytes of JSON): %.0f ns/op over %ld "
               "iterations\n",
               cached ? "cached document" : "parse+validate", out_len, ns / (double)iters, iters);
    }
    ag_graphql_doc_cache_free(cache);
    ag_buf_fini(&text);
    ag_json_free(vars);
    ag_arena_free(a);
    ag_graphql_schema_free(s);
    ag_json_free(posts);
    ag_json_free(users);
    return 0;
}
