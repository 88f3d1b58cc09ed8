/*
 * tests/unit/graphql/test_graphql_execute.c — execution against the fixture
 * schema: results are compared as whole JSON texts, so field order, error
 * shape (message, locations, path, extensions.code) and null propagation are
 * all asserted.
 */
#include "gql_fixture.h"
#include "tap.h"

static ag_graphql_schema_t *S;
static ag_arena_t          *A;

/* Execute q with JSON variables text (or NULL); the result as JSON text. */
static const char *
run_opts(const char *q, const char *vars, const char *op, const ag_graphql_options_t *opts,
         ag_graphql_phase_t *phase)
{
    ag_json_t         *res = NULL, *v = NULL;
    ag_graphql_phase_t ph;

    ag_arena_reset(A);
    if (vars)
        v = ag_json_on_arena(A, fx_parse(vars));
    ag_status_t st = ag_graphql_execute(S, A, q, strlen(q), v, op, NULL, opts, &res, &ph);
    if (phase)
        *phase = ph;
    if (st != AG_OK)
        return ag_arena_printf(A, "status %s", ag_status_name(st));
    return ag_arena_strdup(A, ag_json_dump(res, NULL));
}

static const char *
run(const char *q, const char *vars, ag_graphql_phase_t *phase)
{
    return run_opts(q, vars, NULL, NULL, phase);
}

static void
test_fields_and_aliases(void)
{
    ag_graphql_phase_t ph = 0;
    is_str(run("{ me { id username displayName } }", NULL, &ph),
           "{\"data\":{\"me\":{\"id\":\"u1\",\"username\":\"ada\",\"displayName\":\"Ada\"}}}",
           "default resolvers read JSON members");
    is_int(ph, AG_GRAPHQL_PHASE_EXECUTED, "phase: executed");
    is_str(run("{ a: user(id: \"u1\") { name: username } b: user(id: \"u2\") { name: username, "
               "displayName } }",
               NULL, NULL),
           "{\"data\":{\"a\":{\"name\":\"ada\"},\"b\":{\"name\":\"bob\",\"displayName\":null}}}",
           "aliases");
    is_str(run("{ user(id: \"nobody\") { id } }", NULL, NULL), "{\"data\":{\"user\":null}}",
           "a nullable object may be null");
}

static void
test_fragments(void)
{
    is_str(run("query { me { ...F ... on User { displayName } ... { username } id } }\n"
               "fragment F on User { id username }",
               NULL, NULL),
           "{\"data\":{\"me\":{\"id\":\"u1\",\"username\":\"ada\",\"displayName\":\"Ada\"}}}",
           "fragment spreads and inline fragments merge in order");
    is_str(run("{ node(id: \"p1\") { __typename id ... on Post { body } ... on User { username } } "
               "search { __typename ... on User { username } ... on Post { body } } }",
               NULL, NULL),
           "{\"data\":{\"node\":{\"__typename\":\"Post\",\"id\":\"p1\",\"body\":\"hello\"},"
           "\"search\":[{\"__typename\":\"User\",\"username\":\"found\"},"
           "{\"__typename\":\"Post\",\"body\":\"hit\"}]}}",
           "interfaces and unions resolve by type_name and __typename members");
    is_str(run("{ me { __typename } __typename }", NULL, NULL),
           "{\"data\":{\"me\":{\"__typename\":\"User\"},\"__typename\":\"Query\"}}", "__typename");
}

static void
test_variables_and_arguments(void)
{
    ag_graphql_phase_t ph = 0;
    const char        *q = "query Q($id: ID! = \"u2\") { user(id: $id) { username } }";
    is_str(run(q, NULL, NULL), "{\"data\":{\"user\":{\"username\":\"bob\"}}}",
           "variable default used when absent");
    is_str(run(q, "{\"id\":\"u1\"}", NULL), "{\"data\":{\"user\":{\"username\":\"ada\"}}}",
           "variable value used when given");
    is_str(run("{ echo(i: 3, f: 2, s: \"x\", b: true, list: 1, in: {text: \"t\"}) }", NULL, NULL),
           "{\"data\":{\"echo\":\"{\\\"s\\\":\\\"x\\\",\\\"i\\\":3,\\\"f\\\":2.0,\\\"b\\\":true,"
           "\\\"e\\\":\\\"RED\\\",\\\"in\\\":{\\\"text\\\":\\\"t\\\",\\\"limit\\\":5},"
           "\\\"list\\\":[1],\\\"req\\\":7}\"}}",
           "argument coercion: defaults, Int→Float, single value → list, input defaults");
    is_str(
        run("query ($f: Filter, $l: [Int!], $id: ID) { echo(in: $f, list: $l, id: $id, e: BLUE) }",
            "{\"f\":{\"text\":\"q\",\"colors\":[\"RED\"]},\"l\":[1,2],\"id\":12}", NULL),
        "{\"data\":{\"echo\":\"{\\\"id\\\":\\\"12\\\",\\\"e\\\":\\\"BLUE\\\",\\\"in\\\":"
        "{\\\"text\\\":\\\"q\\\",\\\"limit\\\":5,\\\"colors\\\":[\\\"RED\\\"]},"
        "\\\"list\\\":[1,2],\\\"req\\\":7}\"}}",
        "variables coerced from JSON (input object, list, ID from int, enum)");
    is_str(run("query ($x: Int!) { need(x: $x) }", NULL, &ph),
           "{\"errors\":[{\"message\":\"Variable \\\"$x\\\" of required type \\\"Int!\\\" was not "
           "provided.\",\"locations\":[{\"line\":1,\"column\":8}],\"extensions\":{\"code\":"
           "\"bad_variables\"}}]}",
           "missing required variable");
    is_int(ph, AG_GRAPHQL_PHASE_REQUEST, "variable errors are request errors (no data)");
    is_str(run("query ($x: Int!) { need(x: $x) }", "{\"x\":\"abc\"}", NULL),
           "{\"errors\":[{\"message\":\"Variable \\\"$x\\\" got invalid value \\\"abc\\\"; Int "
           "cannot represent non-integer value: \\\"abc\\\"\",\"locations\":[{\"line\":1,"
           "\"column\":8}],\"extensions\":{\"code\":\"bad_variables\"}}]}",
           "invalid variable value");
    is_str(run("query ($x: Int!) { need(x: $x) }", "{\"x\":null}", NULL),
           "{\"errors\":[{\"message\":\"Variable \\\"$x\\\" of non-null type \\\"Int!\\\" must not "
           "be null.\",\"locations\":[{\"line\":1,\"column\":8}],\"extensions\":{\"code\":"
           "\"bad_variables\"}}]}",
           "null for a non-null variable");
    ok(strstr(run("query ($f: Filter) { echo(in: $f) }", "{\"f\":{\"text\":\"a\",\"zz\":1}}", NULL),
              "Field \\\"zz\\\" is not defined by type \\\"Filter\\\".") != NULL,
       "unknown input field in a variable");
    ok(strstr(run("query ($x: Int) { need(x: $x) }", "{}", NULL),
              "Argument \\\"x\\\" of required type \\\"Int!\\\" was not provided.") == NULL,
       "(validation rejects nullable variable in non-null position before execution)");
}

static void
test_null_propagation_and_errors(void)
{
    is_str(run("{ post(id: \"p1\") { id brokenAuthor { id } } me { id } }", NULL, NULL),
           "{\"data\":{\"post\":null,\"me\":{\"id\":\"u1\"}},\"errors\":[{\"message\":\"Cannot "
           "return null for non-nullable field Post.brokenAuthor.\",\"locations\":[{\"line\":1,"
           "\"column\":23}],\"path\":[\"post\",\"brokenAuthor\"],\"extensions\":{\"code\":"
           "\"internal\"}}]}",
           "null in a non-null field nulls the nearest nullable parent");
    is_str(run("{ channelPosts(channelId: \"c1\") { edges { node { id brokenAuthor { id } } } } }",
               NULL, NULL),
           "{\"data\":null,\"errors\":[{\"message\":\"Cannot return null for non-nullable field "
           "Post.brokenAuthor.\",\"locations\":[{\"line\":1,\"column\":53}],\"path\":"
           "[\"channelPosts\",\"edges\",0,\"node\",\"brokenAuthor\"],\"extensions\":{\"code\":"
           "\"internal\"}}]}",
           "propagation through non-null list items up to data: null, path with index");
    is_str(run("{ failing forbidden me { id } }", NULL, NULL),
           "{\"data\":{\"failing\":null,\"forbidden\":null,\"me\":{\"id\":\"u1\"}},\"errors\":["
           "{\"message\":\"sign in first\",\"locations\":[{\"line\":1,\"column\":3}],\"path\":"
           "[\"failing\"],\"extensions\":{\"code\":\"unauthenticated\"}},"
           "{\"message\":\"forbidden\",\"locations\":[{\"line\":1,\"column\":11}],\"path\":"
           "[\"forbidden\"],\"extensions\":{\"code\":\"forbidden\"}}]}",
           "resolver errors: message and code from the resolver or the status table");
    is_str(run("{ me { id } failingNonNull }", NULL, NULL),
           "{\"data\":null,\"errors\":[{\"message\":\"sign in first\",\"locations\":[{\"line\":1,"
           "\"column\":13}],\"path\":[\"failingNonNull\"],\"extensions\":{\"code\":"
           "\"unauthenticated\"}}]}",
           "an error in a non-null root field nulls data");
    is_str(run("{ badInt }", NULL, NULL),
           "{\"data\":{\"badInt\":null},\"errors\":[{\"message\":\"Int cannot represent "
           "non-integer value: \\\"{}\\\"\",\"locations\":[{\"line\":1,\"column\":3}],\"path\":"
           "[\"badInt\"],\"extensions\":{\"code\":\"internal\"}}]}",
           "a value a scalar cannot serialize is a field error");
    is_str(run("{ post(id: \"p1\") { secret } }", NULL, NULL),
           "{\"data\":{\"post\":{\"secret\":null}},\"errors\":[{\"message\":\"sign in first\","
           "\"locations\":[{\"line\":1,\"column\":20}],\"path\":[\"post\",\"secret\"],"
           "\"extensions\":{\"code\":\"unauthenticated\"}}]}",
           "nested error path");
}

static void
test_skip_include(void)
{
    const char *q = "query ($s: Boolean!) { me { id @skip(if: $s) username @include(if: false) "
                    "...F @include(if: $s) ... @skip(if: true) { id } } } "
                    "fragment F on User { displayName }";
    is_str(run(q, "{\"s\":true}", NULL), "{\"data\":{\"me\":{\"displayName\":\"Ada\"}}}",
           "@skip and @include on fields and fragments (true)");
    is_str(run(q, "{\"s\":false}", NULL), "{\"data\":{\"me\":{\"id\":\"u1\"}}}",
           "@skip and @include on fields and fragments (false)");
}

static void
test_mutations_run_serially(void)
{
    fx_counter = 0;
    is_str(run("mutation { a: incr b: incr c: incr }", NULL, NULL),
           "{\"data\":{\"a\":1,\"b\":2,\"c\":3}}", "mutation root fields run in order");
    is_str(run("mutation M($b: String!) { createPost(channelId: \"c1\", body: $b) { id body "
               "author { username } } }",
               "{\"b\":\"hi\"}", NULL),
           "{\"data\":{\"createPost\":{\"id\":\"p-new\",\"body\":\"hi\",\"author\":"
           "{\"username\":\"ada\"}}}}",
           "mutation with variables");
    ag_graphql_request_t *r = NULL;
    ag_json_t            *errs = NULL;
    ag_arena_reset(A);
    const char *q = "query A { me { id } } mutation B { incr }";
    ok(ag_graphql_prepare(S, A, q, strlen(q), "B", NULL, &r, &errs) == AG_OK, "prepare");
    is_int(ag_graphql_request_operation(r), AG_GRAPHQL_MUTATION, "operation kind: mutation");
    ok(ag_graphql_prepare(S, A, q, strlen(q), "A", NULL, &r, &errs) == AG_OK &&
           ag_graphql_request_operation(r) == AG_GRAPHQL_QUERY,
       "operation kind: query");
}

static void
test_opaque_and_batching(void)
{
    is_str(run("{ counter { value } }", NULL, NULL), "{\"data\":{\"counter\":{\"value\":42}}}",
           "opaque C object with a field resolver");
    fx_prepare_calls = fx_author_calls = 0;
    is_str(
        run("{ posts { id author { username } } }", NULL, NULL),
        "{\"data\":{\"posts\":[{\"id\":\"p1\",\"author\":{\"username\":\"ada\"}},{\"id\":\"p2\","
        "\"author\":{\"username\":\"bob\"}},{\"id\":\"p3\",\"author\":{\"username\":\"ada\"}}]}}",
        "list of JSON objects");
    is_int(fx_prepare_calls, 1, "prepare hook ran once for the list");
    is_int(fx_author_calls, 3, "resolver ran per item");
    fx_prepare_calls = 0;
    run("{ channelPosts(channelId: \"c1\", first: 2) { edges { cursor node { author { id } } } "
        "pageInfo { hasNextPage endCursor } } }",
        NULL, NULL);
    is_int(fx_prepare_calls, 1, "prepare reaches Post.author through edges { node }");
    is_str(
        run("{ channelPosts(channelId: \"c1\", first: 2) { edges { cursor node { body "
            "createdAt } } pageInfo { hasNextPage } } }",
            NULL, NULL),
        "{\"data\":{\"channelPosts\":{\"edges\":[{\"cursor\":\"c0\",\"node\":{\"body\":\"hello\","
        "\"createdAt\":\"2026-11-24T10:00:00.000Z\"}},{\"cursor\":\"c1\",\"node\":{\"body\":"
        "\"world\",\"createdAt\":\"2026-11-24T11:00:00.000Z\"}}],\"pageInfo\":"
        "{\"hasNextPage\":true}}}}",
        "connection with custom scalar");
}

static void
test_request_errors_and_limits(void)
{
    ag_graphql_phase_t   ph = 0;
    ag_graphql_options_t o = {0};

    is_str(run("{", NULL, &ph),
           "{\"errors\":[{\"message\":\"Syntax Error: Expected Name, found <EOF>.\",\"locations\":"
           "[{\"line\":1,\"column\":2}],\"extensions\":{\"code\":\"syntax_error\"}}]}",
           "syntax error response");
    is_int(ph, AG_GRAPHQL_PHASE_REQUEST, "syntax error: request phase");
    is_str(run("query A { me { id } } query B { me { id } }", NULL, NULL),
           "{\"errors\":[{\"message\":\"Must provide operation name if query contains multiple "
           "operations.\",\"extensions\":{\"code\":\"operation_not_found\"}}]}",
           "several operations need a name");
    is_str(run_opts("query A { me { id } }", NULL, "Z", NULL, NULL),
           "{\"errors\":[{\"message\":\"Unknown operation named \\\"Z\\\".\",\"extensions\":"
           "{\"code\":\"operation_not_found\"}}]}",
           "unknown operation name");
    is_str(run_opts("query A { me { id } } query B { me { username } }", NULL, "B", NULL, NULL),
           "{\"data\":{\"me\":{\"username\":\"ada\"}}}", "operation selected by name");
    is_str(run("{ nope }", NULL, &ph),
           "{\"errors\":[{\"message\":\"Cannot query field \\\"nope\\\" on type \\\"Query\\\".\","
           "\"locations\":[{\"line\":1,\"column\":3}],\"extensions\":{\"code\":"
           "\"validation_failed\"}}]}",
           "validation error response has no data");
    o.max_depth = 2;
    ok(strstr(run_opts("{ me { id } }", NULL, NULL, &o, NULL), "\"data\"") != NULL,
       "depth 2 allowed at max_depth 2");
    is_str(run_opts("{ post(id: \"p1\") { author { id } } }", NULL, NULL, &o, &ph),
           "{\"errors\":[{\"message\":\"Query is too deep: depth 3 exceeds the limit of 2.\","
           "\"locations\":[{\"line\":1,\"column\":1}],\"extensions\":{\"code\":"
           "\"query_too_deep\"}}]}",
           "too deep");
    o.max_depth = 0;
    o.max_cost = 50;
    ok(strstr(run_opts("{ channelPosts(channelId: \"c1\", first: 100) { edges { node { id } } } }",
                       NULL, NULL, &o, &ph),
              "query_too_costly") != NULL,
       "first: 100 multiplies the cost");
    is_int(ph, AG_GRAPHQL_PHASE_REQUEST, "cost errors are request errors");
    ok(strstr(run_opts("{ channelPosts(channelId: \"c1\", first: 2) { edges { node { id } } } }",
                       NULL, NULL, &o, NULL),
              "\"data\"") != NULL,
       "first: 2 is cheap");
    ok(strstr(run_opts("query ($n: Int) { channelPosts(channelId: \"c1\", first: $n) { edges { "
                       "node { id } } } }",
                       "{\"n\":1000}", NULL, &o, NULL),
              "Query is too costly: estimated cost 301 exceeds the limit of 50.") != NULL,
       "first from a variable, clamped to 100");
    ok(strstr(run_opts("{ channelPosts(channelId: \"c1\") { edges { node { id } } } }", NULL, NULL,
                       &o, NULL),
              "query_too_costly") != NULL,
       "absent first uses its default (20)");
    o.max_cost = 0;
    o.max_doc_bytes = 10;
    is_str(run_opts("{ me { id } }", NULL, NULL, &o, &ph),
           "{\"errors\":[{\"message\":\"Document is too large: 13 bytes (limit 10).\","
           "\"extensions\":{\"code\":\"query_too_large\"}}]}",
           "document size limit");
    char *big = malloc(2u << 20);
    memset(big, ' ', 2u << 20);
    memcpy(big, "{ me { id } }", 13);
    big[(2u << 20) - 1] = '\0';
    int64_t t0 = ag_now_mono_ms();
    ok(strstr(run(big, NULL, &ph), "query_too_large") != NULL && ph == AG_GRAPHQL_PHASE_REQUEST,
       "a 2 MB document is refused by the default limit");
    ok(ag_now_mono_ms() - t0 < 100, "and refused fast");
    free(big);
}

/*
 * The response is written as text, not printed by json-c: it must be what
 * json-c prints of the same values, byte for byte (escapes, numbers, nulls).
 */
static void
test_text_is_what_json_c_prints(void)
{
    static const char *const queries[] = {
        "{ echo(s: \"tab\\t nl\\n cr\\r bs\\\\ q\\\" sl/ bell\\u0007 ff\\f b\\b del\\u007f\") }",
        "{ echo(s: \"unicode \\u00e9 \\u2028 \\ud83d\\ude00 raw \u00c3\u00a9\") }",
        "{ echo(f: 1.5, i: -7, b: false) badInt posts { id author { username } } }",
        "{ me { id username displayName } failing forbidden counter { value } }",
        "{ search { __typename ... on User { username } ... on Post { id } } }",
        "{ __schema { queryType { name } types { name kind } } }",
    };
    for (size_t i = 0; i < sizeof(queries) / sizeof(*queries); i++) {
        ag_graphql_request_t *r = NULL;
        ag_json_t            *res = NULL;
        ag_graphql_phase_t    ph;
        ag_buf_t              text;

        ag_arena_reset(A);
        ag_buf_init(&text);
        ag_status_t st = ag_graphql_prepare(S, A, queries[i], strlen(queries[i]), NULL, NULL, &r,
                                            &res);
        if (st == AG_OK)
            st = ag_graphql_run_text(r, NULL, NULL, &text, &ph);
        ag_json_t  *back = st == AG_OK ? ag_json_parse_own(text.data, text.len, 64) : NULL;
        const char *printed = back ? ag_json_dump(back, NULL) : "(unparsable)";
        is_str(text.data ? text.data : "", printed, "text of query %zu is json-c's printing", i);
        ag_json_free(back);
        ag_buf_fini(&text);
    }
}

int
main(void)
{
    S = fx_schema();
    A = ag_arena_new(0);
    test_fields_and_aliases();
    test_fragments();
    test_variables_and_arguments();
    test_null_propagation_and_errors();
    test_skip_include();
    test_mutations_run_serially();
    test_opaque_and_batching();
    test_request_errors_and_limits();
    test_text_is_what_json_c_prints();
    ag_arena_free(A);
    fx_free(S);
    return done_testing();
}
