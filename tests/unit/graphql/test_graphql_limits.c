/*
 * tests/unit/graphql/test_graphql_limits.c — the limits of a request measured
 * on what runs (lib/graphql/limits.c): introspection counts like any field
 * and graphql-js's introspection queries still fit the defaults; merged
 * fields cost once and never with arguments other than those that run; root
 * fields and aliases are capped; a request's memory is bounded; and the work
 * of validation and collection stays linear in the document for the shapes
 * an outside review sent (asserted on the engine's work counters, not on
 * time).
 */
#include "graphql/graphql_int.h"
#include "gql_fixture.h"
#include "introspection_queries.h"
#include "tap.h"

static ag_graphql_schema_t *S;
static ag_arena_t          *A;

typedef struct {
    const char        *text; /* the response (or the request errors) as JSON text */
    ag_graphql_phase_t phase;
    ag_graphql_stats_t stats;
    long               work; /* validation steps, when the document was validated here */
} out_t;

/* Prepare and run q on schema s with options o (NULL: defaults). */
static out_t
go_on(ag_graphql_schema_t *s, const char *q, const char *vars, const ag_graphql_options_t *o)
{
    out_t                 r = {NULL, AG_GRAPHQL_PHASE_REQUEST, {0}, 0};
    ag_graphql_request_t *req = NULL;
    ag_json_t            *errs = NULL, *v = NULL;
    ag_buf_t              b;

    ag_arena_reset(A);
    if (vars)
        v = ag_json_on_arena(A, fx_parse(vars));
    ag_status_t st = ag_graphql_prepare(s, A, q, strlen(q), NULL, o, &req, &errs);
    if (st != AG_OK) {
        r.text = errs ? ag_arena_strdup(A, ag_json_dump(errs, NULL)) : "prepare failed";
        return r;
    }
    ag_buf_init(&b);
    st = ag_graphql_run_text(req, v, NULL, &b, &r.phase);
    r.text = st == AG_OK ? ag_arena_strdup(A, b.data) : ag_arena_printf(A, "status %d", st);
    r.stats = ag_graphql_request_stats(req);
    ag_buf_fini(&b);
    return r;
}

static out_t
go(const char *q, const ag_graphql_options_t *o)
{
    return go_on(S, q, NULL, o);
}

static bool
has(const char *text, const char *needle)
{
    return text && strstr(text, needle) != NULL;
}

/* Validation alone: the work it reports, and its first error (NULL: valid). */
static const char *
validate(const char *q, long *work)
{
    ag_graphql__document_t *doc = NULL;
    ag_graphql__errlist_t   el = {.arena = A};
    const char             *msg;
    ag_graphql__loc_t       loc;

    ag_arena_reset(A);
    el.arena = A;
    if (ag_graphql__parse(A, q, strlen(q), 0, &doc, &msg, &loc) != AG_OK)
        return ag_arena_printf(A, "parse failed: %s", msg);
    *work = ag_graphql__validate(S, doc, &el);
    return el.head ? el.head->message : NULL;
}

/* How many selections a document has (its size for the linear bounds). */
static long
selections(const char *q)
{
    long n = 0;
    for (const char *p = q; *p; p++)
        n += *p == '{' || *p == '.' || *p == ' ';
    return n;
}

/* ---- 1. introspection counts like any field ------------------------------------------------ */

static void
test_introspection_queries_fit_the_defaults(void)
{
    static const struct {
        const char *name, *q;
    } Q[] = {{"graphql-js defaults", INTRO_DEFAULT},
             {"GraphiQL 3.8", INTRO_GRAPHIQL},
             {"every option", INTRO_FULL}};

    for (size_t i = 0; i < AG_ARRAY_LEN(Q); i++) {
        out_t r = go(Q[i].q, NULL); /* engine defaults: depth 12, cost 10000 */
        ok(has(r.text, "{\"data\":{\"__schema\":") && !has(r.text, "\"errors\""),
           "%s: the introspection query runs under the default limits", Q[i].name);
        /* 5 levels to __Field.type, then the 3 wrappers of [PostEdge!]! and the null below */
        is_int(r.stats.depth, 9, "%s: depth counts ofType as far as the schema's types wrap",
               Q[i].name);
        ok(r.stats.cost >= r.stats.fields && r.stats.cost < 2 * r.stats.fields,
           "%s: its cost (%ld) bounds what ran (%ld fields) closely", Q[i].name, r.stats.cost,
           r.stats.fields);
    }
}

/* The review's shape: each level spreads the next twice, through fields, type and ofType. */
static char *
doubling(int levels)
{
    ag_buf_t b;
    ag_buf_init(&b);
    ag_buf_puts(&b, "{ __type(name: \"Query\") { ...F0 } }\n");
    for (int k = 0; k < levels; k++)
        ag_buf_printf(&b,
                      "fragment F%d on __Type { name fields { type { ...F%d ofType { ...F%d } } } "
                      "}\n",
                      k, k + 1, k + 1);
    ag_buf_printf(&b, "fragment F%d on __Type { name }\n", levels);
    return b.data;
}

static void
test_introspection_recursion_is_refused(void)
{
    ag_graphql_options_t o = {.max_depth = 12, .max_cost = 20000}; /* agora.fcgi's defaults */

    for (int levels = 10; levels <= 16; levels += 2) {
        char *q = doubling(levels);
        out_t r = go(q, &o);
        ok(r.phase == AG_GRAPHQL_PHASE_REQUEST &&
               (has(r.text, "query_too_deep") || has(r.text, "query_too_costly")),
           "fragments doubling over __type/fields/ofType, %d levels (%zu bytes): refused", levels,
           strlen(q));
        is_int(r.stats.fields, 0, "%d levels: nothing ran", levels);
        ok(r.stats.steps <= 4 * o.max_cost + 1000 + (long)strlen(q),
           "%d levels: the walk stopped within its budget (%ld steps)", levels, r.stats.steps);
        free(q);
    }
    out_t r =
        go("{ __type(name: \"Query\") { fields { type { ofType { fields { type { ofType { "
           "fields { type { ofType { fields { type { ofType { name } } } } } } } } } } } } } }",
           &o);
    ok(has(r.text, "Query is too deep: depth 14 exceeds the limit of 12."),
       "introspection fields count for depth (%s)", r.text);
    o.max_cost = 2000;
    r = go("{ __type(name: \"Query\") { fields { type { ofType { fields { type { ofType { name } } "
           "} } } } } }",
           &o);
    ok(has(r.text, "\"data\""), "two levels of fields { type } cost %ld", r.stats.cost);
    r = go("{ __type(name: \"Query\") { fields { type { ofType { fields { type { ofType { fields "
           "{ type { ofType { name } } } } } } } } } } }",
           &o);
    ok(has(r.text, "query_too_costly"),
       "introspection fields count for cost: a third level pays the most fields of a type again "
       "(%ld)",
       r.stats.cost);
    o.max_cost = 20000;
    r = go("{ __type(name: \"Query\") { name fields { name type { name ofType { name ofType { name "
           "ofType { name ofType { name ofType { name } } } } } } } } }",
           &o);
    ok(has(r.text, "\"data\"") && r.stats.depth == 7,
       "ofType below the schema's deepest wrapper is null: not counted (depth %d)", r.stats.depth);
}

/* ---- 2. merged fields cost once, with the arguments that run -------------------------------- */

static void
test_cost_is_computed_after_merging(void)
{
    ag_graphql_options_t o = {.max_cost = 450};
    out_t                r;

    r = go("{ channelPosts(channelId: \"c1\", first: 100) { edges { node { id } } } "
           "channelPosts(channelId: \"c1\", first: 100) { edges { node { body } } } }",
           &o);
    ok(has(r.text, "\"data\"") && r.stats.cost == 401,
       "one field selected twice runs once: cost 401, not 2 x 301 (%ld: %s)", r.stats.cost, r.text);
    r = go("{ a: channelPosts(channelId: \"c1\", first: 1) { edges { node { id } } } "
           "a: channelPosts(channelId: \"c1\", first: 100) { edges { node { id } } } }",
           &o);
    ok(has(r.text, "Fields \\\"a\\\" conflict because they have differing arguments."),
       "the same response name with another `first` is refused, never run with the first one's");
    r = go("{ ...A ...B } fragment A on Query { channelPosts(channelId: \"c1\") { edges { node { "
           "id } } } } fragment B on Query { channelPosts(channelId: \"c1\", first: 100) { edges { "
           "node { id } } } }",
           &o);
    ok(has(r.text, "conflict because they have differing arguments"),
       "the same through fragments (a default against an explicit 100)");
    o.max_cost = 0;
    static const char *const runs[] = {
        "{ me { id ...U ... on User { username } } } fragment U on User { id displayName }",
        "{ channelPosts(channelId: \"c1\", first: 2) { edges { node { author { id } ...P } } } } "
        "fragment P on Post { author { username } body }",
        "{ node(id: \"p1\") { id ... on Post { author { id } } ... on User { username } } }",
        "{ channelPosts(channelId: \"c1\", first: 3) { edges { node { ... on Post { id } ...on "
        "Node { id } } } } __typename }",
    };
    for (size_t i = 0; i < AG_ARRAY_LEN(runs); i++) {
        r = go(runs[i], &o);
        ok(has(r.text, "\"data\"") && r.stats.fields > 0 && r.stats.fields <= r.stats.cost,
           "what ran (%ld fields) never exceeds the estimate (%ld): %s", r.stats.fields,
           r.stats.cost, runs[i]);
    }
}

/* ---- 3. root fields and aliases ------------------------------------------------------------- */

static void
test_root_fields_and_aliases_are_capped(void)
{
    ag_graphql_options_t big = {.max_doc_bytes = 1u << 20};
    ag_buf_t             b;
    out_t                r;

    ag_buf_init(&b);
    ag_buf_puts(&b, "{");
    for (int i = 0; i < 2000; i++)
        ag_buf_printf(&b, " s%d: search { ... on Post { id } }", i);
    ag_buf_puts(&b, " }");
    r = go(b.data, &big);
    ok(has(r.text, "Query has too many root fields: 2000 exceeds the limit of 32.") &&
           has(r.text, "too_many_root_fields") && r.phase == AG_GRAPHQL_PHASE_REQUEST,
       "2000 aliased root fields are refused before any runs");
    is_int(r.stats.fields, 0, "none of them ran");

    ag_buf_reset(&b);
    ag_buf_puts(&b, "{ me {");
    for (int i = 0; i < 65; i++)
        ag_buf_printf(&b, " a%d: id", i);
    ag_buf_puts(&b, " } }");
    r = go(b.data, NULL);
    ok(has(r.text, "Query has too many aliases: 65 exceeds the limit of 64.") &&
           has(r.text, "too_many_aliases"),
       "65 aliases under one field are refused (%s)", r.text);
    ag_graphql_options_t o = {.max_aliases = 65};
    r = go(b.data, &o);
    ok(has(r.text, "\"a64\":\"u1\""), "at the configured limit they run");

    ag_buf_reset(&b);
    ag_buf_puts(&b, "{ me { ...A ...A2 } } fragment A on User {");
    for (int i = 0; i < 40; i++)
        ag_buf_printf(&b, " a%d: id", i);
    ag_buf_puts(&b, " } fragment A2 on User { ...A }");
    r = go(b.data, NULL);
    ok(has(r.text, "\"data\"") && r.stats.aliases == 40,
       "aliases count as they run: a fragment spread twice in one selection merges (%d)",
       r.stats.aliases);
    ag_buf_fini(&b);
}

/* ---- 4. a request's memory is bounded ------------------------------------------------------- */

static ag_status_t
blob(const ag_graphql_value_t *p, ag_graphql_info_t *info, ag_graphql_value_t *out)
{
    int64_t kb = 1;
    ag_json_get_i64(info->args, "kb", &kb);
    char *s = malloc((size_t)kb * 1024 + 1);
    memset(s, 'a', (size_t)kb * 1024);
    s[kb * 1024] = '\0';
    *out = ag_graphql_json(ag_json_on_arena(info->arena, ag_json_str(s)));
    free(s);
    return AG_OK;
}

static ag_graphql_schema_t *
blob_schema(void)
{
    ag_graphql_schema_t *s = ag_graphql_schema_new(NULL);
    ag_graphql_type_t   *q = ag_graphql_object(s, "Query", NULL);
    ag_graphql_field_t  *f = ag_graphql_field(q, "blob", "String!", NULL, blob, NULL);
    char                 err[128];

    ag_graphql_arg(f, "kb", "Int", "1", NULL);
    if (ag_graphql_schema_finish(s, err, sizeof(err)) != AG_OK) {
        fprintf(stderr, "blob schema: %s\n", err);
        exit(1);
    }
    return s;
}

static void
test_memory_is_bounded(void)
{
    ag_graphql_schema_t *bs = blob_schema();
    ag_graphql_options_t o = {.max_memory = 8u << 20, .max_cost = 100000};
    ag_buf_t             b;

    ag_buf_init(&b);
    ag_buf_puts(&b, "{");
    for (int i = 0; i < 24; i++)
        ag_buf_printf(&b, " b%d: blob(kb: 1024)", i);
    ag_buf_puts(&b, " }");
    if (ag_mem_in_use() == 0) {
        printf("ok %d # SKIP no memory meter on this system\n", ++tap_n);
    } else {
        out_t r = go_on(bs, b.data, NULL, &o);
        ok(has(r.text, "{\"data\":null,\"errors\":[{\"message\":\"The response needs more than the "
                       "8 MiB a request may use") &&
               has(r.text, "\"code\":\"memory_limit\"") && r.phase == AG_GRAPHQL_PHASE_EXECUTED,
           "24 MiB of response with an 8 MiB bound: a clear error instead of the data (%.160s)",
           r.text);
        ok(r.stats.memory > (8u << 20) && r.stats.fields < 24,
           "it stopped soon after the bound (%zu bytes, %ld of 24 fields)", r.stats.memory,
           r.stats.fields);
        o.max_memory = 256u << 20;
        r = go_on(bs, b.data, NULL, &o);
        ok(has(r.text, "\"b23\":\"aaa") && !has(r.text, "errors"),
           "with room for it the same request runs (%zu bytes metered)", r.stats.memory);
    }
    o.max_memory = 0;
    out_t r = go_on(bs, "{ blob }", NULL, &o);
    ok(has(r.text, "{\"data\":{\"blob\":\"a"), "and the engine serves the next request");
    ag_buf_fini(&b);
    ag_graphql_schema_free(bs);
}

/* ---- 5. fragments: linear in the document --------------------------------------------------- */

static void
test_fragment_work_is_linear(void)
{
    ag_buf_t b;
    long     work = 0;
    out_t    r;

    /* one fragment spread 3000 times in one selection set */
    ag_buf_init(&b);
    ag_buf_puts(&b, "{ me {");
    for (int i = 0; i < 3000; i++)
        ag_buf_puts(&b, " ...F");
    ag_buf_puts(&b, " } } fragment F on User { id username }");
    ok(validate(b.data, &work) == NULL && work < 8 * selections(b.data),
       "3000 spreads of one fragment: validation work %ld for %ld selections", work,
       selections(b.data));
    r = go(b.data, NULL);
    ok(has(r.text, "{\"data\":{\"me\":{\"id\":\"u1\",\"username\":\"ada\"}}}") &&
           r.stats.steps < 2 * selections(b.data),
       "and execution expands it once (%ld steps)", r.stats.steps);

    /* a chain of fragments, each spreading the next, spread in 100 places */
    for (int n = 100; n <= 3000; n += 2900) {
        ag_buf_reset(&b);
        ag_buf_puts(&b, "{");
        for (int i = 0; i < 100; i++)
            ag_buf_printf(&b, " u%d: user(id: \"u1\") { ...F0 }", i);
        ag_buf_puts(&b, " }");
        for (int i = 0; i < n; i++)
            ag_buf_printf(&b, " fragment F%d on User { f%d: id ...F%d }", i, i, i + 1);
        ag_buf_printf(&b, " fragment F%d on User { username }", n);
        const char *err = validate(b.data, &work);
        ok(n > 1000 ? err && has(err, "too complex") : err == NULL,
           "a chain of %d fragments spread 100 times: %s", n, err ? err : "valid");
        ok(work <= 2 * (20000 + 16 * selections(b.data)),
           "%d: within the budget linear in the document (%ld steps for %ld selections)", n, work,
           selections(b.data));
    }
    /* the classic bomb: each fragment spreads the next twice (2^30 fields if expanded) */
    ag_buf_reset(&b);
    ag_buf_puts(&b, "{ me { ...F0 } }\n");
    for (int i = 0; i < 30; i++)
        ag_buf_printf(&b, "fragment F%d on User { id ...F%d ...F%d }\n", i, i + 1, i + 1);
    ag_buf_puts(&b, "fragment F30 on User { username }\n");
    ok(validate(b.data, &work) == NULL && work < 64 * selections(b.data),
       "fragment bomb validates in %ld steps", work);
    r = go(b.data, NULL);
    ok(has(r.text, "{\"data\":{\"me\":{\"id\":\"u1\",\"username\":\"ada\"}}}") &&
           r.stats.cost == 3 && r.stats.steps < 4 * selections(b.data),
       "and runs what it means, { me { id username } }: cost %ld, %ld steps", r.stats.cost,
       r.stats.steps);

    /* merges that branch: at each level two response names each merge two fragments */
    ag_buf_reset(&b);
    ag_buf_puts(&b, "{ __type(name: \"Query\") { ...Q0 ...R0 } }\n");
    for (int i = 0; i < 20; i++)
        ag_buf_printf(&b,
                      "fragment Q%d on __Type { a: ofType { ...Q%d } a: ofType { ...R%d } "
                      "b: ofType { ...Q%d } b: ofType { ...R%d } }\n"
                      "fragment R%d on __Type { a: ofType { ...R%d } a: ofType { ...Q%d } "
                      "b: ofType { ...R%d } b: ofType { ...Q%d } }\n",
                      i, i + 1, i + 1, i + 1, i + 1, i, i + 1, i + 1, i + 1, i + 1);
    ag_buf_puts(&b, "fragment Q20 on __Type { name } fragment R20 on __Type { kind }\n");
    const char *err = validate(b.data, &work);
    ok(has(err, "too complex") && work <= 2 * (20000 + 16 * selections(b.data)),
       "fields merged across 2^20 paths: refused (%s) within the budget (%ld steps)",
       err ? err : "valid", work);
    ag_buf_fini(&b);
}

int
main(void)
{
    S = fx_schema();
    A = ag_arena_new(0);
    test_introspection_queries_fit_the_defaults();
    test_introspection_recursion_is_refused();
    test_cost_is_computed_after_merging();
    test_root_fields_and_aliases_are_capped();
    test_memory_is_bounded();
    test_fragment_work_is_linear();
    ag_arena_free(A);
    fx_free(S);
    return done_testing();
}
