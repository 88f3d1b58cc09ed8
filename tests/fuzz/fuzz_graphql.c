/*
 * tests/fuzz/fuzz_graphql.c — libFuzzer target: the input is a GraphQL
 * document (optionally "\0" and JSON variables) run through parse,
 * validation, the limits walk and execution against a small in-memory schema
 * with a recursive type, an interface, lists with `first`, a failing field
 * and introspection, the paths the review of issue 15 attacked. Besides the
 * sanitizers, each input is held to the engine's own budgets:
 *   - validation does at most its budget (linear in the document) of work;
 *   - execution resolves no more fields than the cost estimate allowed;
 *   - the same text served again from the document cache answers the same.
 * ./agora test runs it with -timeout and -rss_limit_mb, so an input that
 * takes seconds or hundreds of megabytes is a finding too.
 */
#include "graphql/graphql_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static ag_graphql_schema_t    *schema;
static ag_graphql_doc_cache_t *cache;
static ag_json_t              *data;

static ag_status_t
root(const ag_graphql_value_t *p, ag_graphql_info_t *info, ag_graphql_value_t *out)
{
    *out = ag_graphql_json(ag_json_get(data, info->field_name));
    if (strcmp(info->field_name, "node") == 0)
        out->type_name = "Item";
    return AG_OK;
}

/* A list field with `first`: at most that many items, as the cost model assumes. */
static ag_status_t
page(const ag_graphql_value_t *p, ag_graphql_info_t *info, ag_graphql_value_t *out)
{
    ag_json_t *all = p->kind == AG_GRAPHQL_JSON && strcmp(info->field_name, "children") == 0
                         ? ag_json_get(p->json, "children")
                         : ag_json_get(data, "items");
    int64_t    first = 20;
    size_t     n = ag_json_len(all);

    ag_json_get_i64(info->args, "first", &first);
    if (first < 0)
        return AG_EBADREQ;
    if ((size_t)first < n)
        n = (size_t)first;
    if (ag_graphql_list(info->arena, n, out) != AG_OK)
        return AG_ENOMEM;
    for (size_t i = 0; i < n; i++)
        out->items[i] = ag_graphql_json(ag_json_at(all, i));
    return AG_OK;
}

static ag_status_t
parent(const ag_graphql_value_t *p, ag_graphql_info_t *info, ag_graphql_value_t *out)
{
    *out = ag_graphql_json(ag_json_get(data, "node"));
    return AG_OK;
}

static ag_status_t
fail(const ag_graphql_value_t *p, ag_graphql_info_t *info, ag_graphql_value_t *out)
{
    info->message = "nope";
    return AG_EFORBIDDEN;
}

static void
setup(void)
{
    const char *json = "{\"items\":[{\"id\":\"1\",\"n\":1,\"tags\":[\"a\"],\"children\":[{\"id\":"
                       "\"3\",\"n\":3,\"tags\":[],\"children\":[]}]},{\"id\":\"2\",\"n\":2,"
                       "\"tags\":[],\"children\":[]}],\"node\":{\"id\":\"1\",\"n\":1,\"tags\":[],"
                       "\"children\":[{\"id\":\"4\",\"n\":4,\"tags\":[]}]},\"text\":\"hi\"}";
    char        err[128];
    ag_graphql_type_t  *t;
    ag_graphql_field_t *f;

    data = ag_json_parse(json, strlen(json), 16, err, sizeof(err));
    schema = ag_graphql_schema_new("fuzz");
    t = ag_graphql_interface(schema, "Node", NULL);
    ag_graphql_field(t, "id", "ID!", NULL, NULL, NULL);
    t = ag_graphql_object(schema, "Item", NULL);
    ag_graphql_implements(t, "Node");
    ag_graphql_field(t, "id", "ID!", NULL, NULL, NULL);
    ag_graphql_field(t, "n", "Int", NULL, NULL, NULL);
    ag_graphql_field(t, "tags", "[String!]!", NULL, NULL, NULL);
    ag_graphql_field(t, "secret", "String!", NULL, fail, NULL);
    f = ag_graphql_field(t, "children", "[Item!]!", NULL, page, NULL);
    ag_graphql_arg(f, "first", "Int", "2", NULL);
    ag_graphql_field(t, "parent", "Item", NULL, parent, NULL);
    t = ag_graphql_enum(schema, "Kind", NULL);
    ag_graphql_enum_value(t, "A", NULL, NULL);
    ag_graphql_enum_value(t, "B", NULL, NULL);
    t = ag_graphql_input(schema, "In", NULL);
    ag_graphql_input_field(t, "k", "Kind", "A", NULL);
    t = ag_graphql_input(schema, "Pick", NULL);
    ag_graphql_one_of(t);
    ag_graphql_input_field(t, "a", "String", NULL, NULL);
    ag_graphql_input_field(t, "b", "In", NULL, NULL);
    t = ag_graphql_object(schema, "Query", NULL);
    f = ag_graphql_field(t, "pick", "String", NULL, root, NULL);
    ag_graphql_arg(f, "p", "Pick", NULL, NULL);
    f = ag_graphql_field(t, "items", "[Item!]!", NULL, page, NULL);
    ag_graphql_arg(f, "first", "Int", "20", NULL);
    ag_graphql_arg(f, "filter", "In", NULL, NULL);
    f = ag_graphql_field(t, "node", "Node", NULL, root, NULL);
    ag_graphql_arg(f, "id", "ID!", NULL, NULL);
    ag_graphql_field(t, "text", "String", NULL, root, NULL);
    t = ag_graphql_object(schema, "Mutation", NULL);
    ag_graphql_field(t, "text", "String", NULL, root, NULL);
    ag_graphql_schema_publish_cost(schema);
    if (ag_graphql_schema_finish(schema, err, sizeof(err)) != AG_OK)
        abort();
    cache = ag_graphql_doc_cache_new(schema, 16, 1u << 20);
}

/* The response to q, prepared through the document cache; stats of what ran. */
static char *
answer(ag_arena_t *a, const char *q, size_t len, const ag_json_t *vars,
       const ag_graphql_options_t *o, ag_graphql_stats_t *st)
{
    ag_graphql_request_t *r = NULL;
    ag_json_t            *errs = NULL;
    ag_graphql_phase_t    ph;
    ag_buf_t              b;
    char                 *s;

    memset(st, 0, sizeof(*st));
    if (ag_graphql_prepare_cached(cache, schema, a, q, len, NULL, o, &r, &errs) != AG_OK)
        return strdup(errs ? ag_json_dump(errs, NULL) : "prepare failed");
    ag_buf_init(&b);
    if (ag_graphql_run_text(r, vars, NULL, &b, &ph) != AG_OK)
        ag_buf_puts(&b, "run failed");
    *st = ag_graphql_request_stats(r);
    s = strdup(b.data ? b.data : "");
    ag_buf_fini(&b);
    return s;
}

/* Validation's work stays within its budget, however the fragments combine. */
static void
check_validation(ag_arena_t *a, const char *q, size_t len)
{
    ag_graphql__document_t *doc = NULL;
    ag_graphql__errlist_t   el = {.arena = a};
    const char             *msg;
    ag_graphql__loc_t       loc;

    if (ag_graphql__parse(a, q, len, 0, &doc, &msg, &loc) != AG_OK)
        return;
    long work = ag_graphql__validate(schema, doc, &el);
    if (work > 2 * (20000 + 16 * (long)len)) {
        fprintf(stderr, "validation did %ld steps for %zu bytes\n", work, len);
        abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *buf, size_t len);

int
LLVMFuzzerTestOneInput(const uint8_t *buf, size_t len)
{
    static ag_arena_t   *arena;
    ag_json_t           *vars;
    ag_graphql_options_t opts = {
        .max_doc_bytes = 1 << 20, .max_cost = 2000, .max_memory = 256u << 20};
    ag_graphql_stats_t st1, st2;
    char               err[64];

    if (schema == NULL) {
        setup();
        arena = ag_arena_new(0);
    }
    /* a document followed by "\0" and JSON gives variables too */
    const char *q = (const char *)buf, *nul = memchr(buf, 0, len);
    size_t      qlen = nul ? (size_t)(nul - q) : len;
    check_validation(arena, q, qlen);
    ag_arena_reset(arena);
    vars =
        nul ? ag_json_on_arena(arena, ag_json_parse(nul + 1, len - qlen - 1, 16, err, sizeof(err)))
            : NULL;
    char *first = answer(arena, q, qlen, vars, &opts, &st1);
    if (st1.fields > st1.cost) {
        fprintf(stderr, "resolved %ld fields with an estimated cost of %ld\n", st1.fields,
                st1.cost);
        abort();
    }
    char *again = answer(arena, q, qlen, vars, &opts, &st2); /* a cache hit when it was valid */
    if (strcmp(first, again) != 0) {
        fprintf(stderr, "the cached document answered differently:\n%s\n%s\n", first, again);
        abort();
    }
    free(first);
    free(again);
    ag_arena_reset(arena);
    return 0;
}
