/*
 * tests/unit/graphql/test_graphql_oneof.c — what the September 2025 edition
 * of the spec added that a graphql-js 16 client sees: OneOf input objects
 * (@oneOf: the schema's rules, validation, coercion of literals and of
 * variables, with the spec's own examples and its coercion table),
 * descriptions on executable definitions,
 * @deprecated on arguments and input fields, and the cost directives
 * (@cost, @listSize) with the cost returned in extensions.
 */
#include "graphql/graphql_int.h"
#include "tap.h"

#include <stdlib.h>

static ag_graphql_schema_t *S;
static ag_arena_t          *A;

/* Every resolver answers with its coerced arguments as JSON text. */
static ag_status_t
echo_args(const ag_graphql_value_t *parent, ag_graphql_info_t *info, ag_graphql_value_t *out)
{
    (void)parent;
    const char *s = ag_json_dump((ag_json_t *)info->args, NULL);
    ag_json_t  *j = ag_json_on_arena(info->arena, ag_json_str(s ? s : "?"));
    if (j == NULL)
        return AG_ENOMEM;
    *out = ag_graphql_json(j);
    return AG_OK;
}

static ag_status_t
posts(const ag_graphql_value_t *parent, ag_graphql_info_t *info, ag_graphql_value_t *out)
{
    (void)parent;
    ag_json_t *conn = ag_json_on_arena(info->arena, ag_json_obj());
    if (conn == NULL)
        return AG_ENOMEM;
    ag_json_set(conn, "edges", ag_json_arr());
    *out = ag_graphql_json(conn);
    return AG_OK;
}

/*
 * The spec's examples: PetInput (§3.10, OneOf Input Objects) and
 * ExampleOneOfInputObject (its coercion table), a deprecated argument and
 * input field, and a connection for the cost directives.
 */
static ag_graphql_schema_t *
schema(bool publish_cost)
{
    ag_graphql_schema_t *s = ag_graphql_schema_new(NULL);
    ag_graphql_type_t   *t;
    ag_graphql_field_t  *f;
    char                 err[256];

    t = ag_graphql_input(s, "PetInput", NULL);
    ag_graphql_one_of(t);
    ag_graphql_input_field(t, "cat", "CatInput", NULL, NULL);
    ag_graphql_input_field(t, "dog", "DogInput", NULL, NULL);
    ag_graphql_input_field(t, "fish", "FishInput", NULL, NULL);
    t = ag_graphql_input(s, "CatInput", NULL);
    ag_graphql_input_field(t, "name", "String!", NULL, NULL);
    ag_graphql_input_field(t, "numberOfLives", "Int", NULL, NULL);
    ag_graphql_input_field(t, "nickname", "String", NULL, NULL);
    ag_graphql_input_deprecate(t, "nickname", "Use name.");
    t = ag_graphql_input(s, "DogInput", NULL);
    ag_graphql_input_field(t, "name", "String!", NULL, NULL);
    ag_graphql_input_field(t, "wagsTail", "Boolean", NULL, NULL);
    t = ag_graphql_input(s, "FishInput", NULL);
    ag_graphql_input_field(t, "name", "String!", NULL, NULL);
    ag_graphql_input_field(t, "bodyLengthInMm", "Int", NULL, NULL);
    t = ag_graphql_input(s, "ExampleOneOfInputObject", NULL);
    ag_graphql_one_of(t);
    ag_graphql_input_field(t, "a", "String", NULL, NULL);
    ag_graphql_input_field(t, "b", "Int", NULL, NULL);

    t = ag_graphql_object(s, "Post", NULL);
    ag_graphql_field(t, "id", "ID!", NULL, NULL, NULL);
    t = ag_graphql_object(s, "PostEdge", NULL);
    ag_graphql_field(t, "node", "Post!", NULL, NULL, NULL);
    t = ag_graphql_object(s, "PostConnection", NULL);
    ag_graphql_field(t, "edges", "[PostEdge!]!", NULL, NULL, NULL);

    t = ag_graphql_object(s, "Query", NULL);
    f = ag_graphql_field(t, "example", "String", NULL, echo_args, NULL);
    ag_graphql_arg(f, "input", "ExampleOneOfInputObject", NULL, NULL);
    f = ag_graphql_field(t, "search", "String", NULL, echo_args, NULL);
    ag_graphql_arg(f, "q", "String", NULL, NULL);
    ag_graphql_arg(f, "text", "String", NULL, NULL);
    ag_graphql_arg_deprecate(f, "text", "Use q.");
    f = ag_graphql_field(t, "posts", "PostConnection!", NULL, posts, NULL);
    ag_graphql_arg(f, "first", "Int", "20", NULL);
    t = ag_graphql_object(s, "Mutation", NULL);
    f = ag_graphql_field(t, "addPet", "String", NULL, echo_args, NULL);
    ag_graphql_arg(f, "pet", "PetInput!", NULL, NULL);
    if (publish_cost)
        ag_graphql_schema_publish_cost(s);
    if (ag_graphql_schema_finish(s, err, sizeof(err)) != AG_OK) {
        printf("# schema: %s\n", err);
        ag_graphql_schema_free(s);
        return NULL;
    }
    return s;
}

/* The first validation message for src, or NULL when it is valid. */
static const char *
invalid(const char *src)
{
    ag_graphql__document_t *doc = NULL;
    ag_graphql__errlist_t   el = {.arena = A};
    const char             *msg;
    ag_graphql__loc_t       l;

    ag_arena_reset(A);
    el.arena = A;
    if (ag_graphql__parse(A, src, strlen(src), 0, &doc, &msg, &l) != AG_OK)
        return ag_arena_printf(A, "parse failed: %s", msg);
    ag_graphql__validate(S, doc, &el);
    return el.head ? el.head->message : NULL;
}

/* Execute q with JSON variables text (or NULL); the result as JSON text. */
static const char *
run_opts(const char *q, const char *vars, const ag_graphql_options_t *opts)
{
    ag_json_t         *res = NULL, *v = NULL;
    ag_graphql_phase_t ph;
    char               err[64];

    ag_arena_reset(A);
    if (vars)
        v = ag_json_on_arena(A, ag_json_parse(vars, strlen(vars), 32, err, sizeof(err)));
    if (ag_graphql_execute(S, A, q, strlen(q), v, NULL, NULL, opts, &res, &ph) != AG_OK)
        return "status";
    return ag_arena_strdup(A, ag_json_dump(res, NULL));
}

static const char *
run(const char *q, const char *vars)
{
    return run_opts(q, vars, NULL);
}

/* The spec's §5.6.3 examples: valid and invalid addPet mutations. */
static void
test_validation_examples(void)
{
    ok(invalid("mutation { addPet(pet: { cat: { name: \"Brontie\" } }) }") == NULL,
       "valid: one field given");
    ok(invalid("mutation addCat($cat: CatInput!) { addPet(pet: { cat: $cat }) }") == NULL,
       "valid: a non-null variable for the field");
    ok(invalid("mutation addCatWithDefault($cat: CatInput! = { name: \"Brontie\" }) "
               "{ addPet(pet: { cat: $cat }) }") == NULL,
       "valid: a non-null variable with a default");
    ok(invalid("mutation addPet($pet: PetInput!) { addPet(pet: $pet) }") == NULL,
       "valid: the whole OneOf object from a variable");
    is_str(invalid("mutation { addPet(pet: { cat: { name: \"Brontie\" }, "
                   "dog: { name: \"Noodles\" } }) }"),
           "OneOf Input Object \"PetInput\" must specify exactly one key.",
           "invalid: two fields given");
    is_str(invalid("mutation { addPet(pet: {}) }"),
           "OneOf Input Object \"PetInput\" must specify exactly one key.",
           "invalid: no field given");
    is_str(invalid("mutation { addPet(pet: { cat: null }) }"),
           "Field \"PetInput.cat\" must be non-null.", "invalid: the null literal");
    is_str(invalid("mutation addCat($cat: CatInput) { addPet(pet: { cat: $cat }) }"),
           "Variable \"$cat\" is of type \"CatInput\" but must be non-nullable to be used for "
           "OneOf Input Object \"PetInput\".",
           "invalid: a nullable variable for the field");
    ok(invalid("mutation addCatWithDefault($cat: CatInput = { name: \"Brontie\" }) "
               "{ addPet(pet: { cat: $cat }) }") != NULL,
       "invalid: a nullable variable even with a default");
    is_str(invalid("mutation { addPet(pet: { cat: { name: \"Brontie\" }, parrot: {} }) }"),
           "Field \"parrot\" is not defined by type \"PetInput\".", "invalid: an unknown field");
    is_str(invalid("{ example(input: \"abc123\") }"),
           "Expected value of type \"ExampleOneOfInputObject\", found \"abc123\".",
           "invalid: not an object");
}

/* The spec's coercion table for ExampleOneOfInputObject (§3.10, Input Coercion). */
static void
test_coercion_table(void)
{
    static const struct {
        const char *query, *vars, *want; /* want NULL: an error */
    } rows[] = {
        {"{ example(input: { a: \"abc\", b: 123 }) }", "{}", NULL},
        {"{ example(input: { a: null, b: 123 }) }", "{}", NULL},
        {"{ example(input: { b: 123 }) }", "{}", "{\"input\":{\"b\":123}}"},
        {"query($var: String!) { example(input: { a: $var, b: 123 }) }", "{\"var\": null}", NULL},
        {"query($var: String!) { example(input: { a: $var, b: 123 }) }", "{}", NULL},
        {"query($var: Int!) { example(input: { b: $var }) }", "{\"var\": 123}",
         "{\"input\":{\"b\":123}}"},
        {"query($var: ExampleOneOfInputObject) { example(input: $var) }", "{\"var\": {\"b\": 123}}",
         "{\"input\":{\"b\":123}}"},
        {"{ example(input: \"abc123\") }", "{}", NULL},
        {"query($var: ExampleOneOfInputObject) { example(input: $var) }", "{\"var\": \"abc123\"}",
         NULL},
        {"query($var: ExampleOneOfInputObject) { example(input: $var) }",
         "{\"var\": {\"a\": \"abc\", \"b\": 123}}", NULL},
        {"query($var: ExampleOneOfInputObject) { example(input: $var) }",
         "{\"var\": {\"a\": \"abc\", \"b\": null}}", NULL},
        {"query($var: ExampleOneOfInputObject) { example(input: $var) }",
         "{\"var\": {\"a\": null}}", NULL},
        {"query($var: ExampleOneOfInputObject) { example(input: $var) }", "{\"var\": {}}", NULL},
        {"query($var: ExampleOneOfInputObject) { example(input: $var) }",
         "{\"var\": {\"b\": 123, \"c\": \"xyz\"}}", NULL},
        {"query($varA: String!, $varB: Int!) { example(input: { a: $varA, b: $varB }) }",
         "{\"varB\": 123}", NULL},
        {"query($varA: String!, $varB: Int!) { example(input: { a: $varA, b: $varB }) }",
         "{\"varA\": null, \"varB\": 123}", NULL},
    };
    for (size_t i = 0; i < AG_ARRAY_LEN(rows); i++) {
        const char *got = run(rows[i].query, rows[i].vars);
        if (rows[i].want) {
            char want[160];
            snprintf(want, sizeof(want), "{\"data\":{\"example\":\"%s\"}}", rows[i].want);
            /* the resolver's text is itself JSON inside a string: compare unescaped */
            ag_json_t  *res = ag_json_on_arena(A, ag_json_parse(got, strlen(got), 8, NULL, 0));
            const char *s = NULL;
            ag_json_t  *data = ag_json_get(res, "data");
            ag_json_get_str(data, "example", &s);
            is_str(s, rows[i].want, "coercion row %zu: %s with %s", i + 1, rows[i].query,
                   rows[i].vars);
        } else {
            ok(got && strstr(got, "\"errors\"") && !strstr(got, "\"example\":\"{"),
               "coercion row %zu refused: %s with %s -> %s", i + 1, rows[i].query, rows[i].vars,
               got);
        }
    }
    is_str(run("query($var: ExampleOneOfInputObject) { example(input: $var) }",
               "{\"var\": {\"a\": \"abc\", \"b\": 123}}"),
           "{\"errors\":[{\"message\":\"Variable \\\"$var\\\" got invalid value {\\\"a\\\":"
           "\\\"abc\\\",\\\"b\\\":123}; Exactly one key must be specified for OneOf type "
           "\\\"ExampleOneOfInputObject\\\".\",\"locations\":[{\"line\":1,\"column\":7}],"
           "\"extensions\":{\"code\":\"bad_variables\"}}]}",
           "a variable with two keys: graphql-js's message, a request error");
}

/* September 2025: descriptions on operations, fragments and variable definitions. */
static void
test_executable_descriptions(void)
{
    ok(invalid("\"\"\"Find a pet.\"\"\"\nquery Find(\"what\" $v: ExampleOneOfInputObject!) "
               "{ example(input: $v) ...F }\n\"A fragment.\" fragment F on Query { search }") ==
           NULL,
       "descriptions on an operation, a variable and a fragment");
    is_str(invalid("\"Shorthand.\" { search }"),
           "parse failed: Syntax Error: Unexpected description, descriptions are not supported "
           "on shorthand queries.",
           "no description on a shorthand query");
    is_str(invalid("\"Stray.\""), "parse failed: Syntax Error: Unexpected <EOF>.",
           "a description alone is no definition");
}

/* The schema's own rules for @oneOf and for deprecating arguments and input fields. */
static void
test_schema_rules(void)
{
    static const struct {
        const char *what, *field_type, *def;
        bool        deprecate_required;
    } bad[] = {
        {"a non-null OneOf field", "String!", NULL, false},
        {"a OneOf field with a default", "String", "\"x\"", false},
        {"a deprecated required argument", "String", NULL, true},
    };
    for (size_t i = 0; i < AG_ARRAY_LEN(bad); i++) {
        ag_graphql_schema_t *s = ag_graphql_schema_new(NULL);
        ag_graphql_type_t   *t = ag_graphql_input(s, "In", NULL);
        char                 err[256] = "";
        ag_graphql_one_of(t);
        ag_graphql_input_field(t, "a", bad[i].field_type, bad[i].def, NULL);
        ag_graphql_input_field(t, "b", "Int", NULL, NULL);
        ag_graphql_field_t *f =
            ag_graphql_field(ag_graphql_object(s, "Query", NULL), "q", "String", NULL, NULL, NULL);
        ag_graphql_arg(f, "in", "In", NULL, NULL);
        ag_graphql_arg(f, "need", bad[i].deprecate_required ? "Int!" : "Int", NULL, NULL);
        if (bad[i].deprecate_required)
            ag_graphql_arg_deprecate(f, "need", NULL);
        is_int(ag_graphql_schema_finish(s, err, sizeof(err)), AG_ECONFIG, "%s is refused: %s",
               bad[i].what, err);
        ag_graphql_schema_free(s);
    }
    ag_graphql_schema_t *s = ag_graphql_schema_new(NULL);
    char                 err[256] = "";
    ag_graphql_one_of(ag_graphql_object(s, "Query", NULL));
    is_int(ag_graphql_schema_finish(s, err, sizeof(err)), AG_ECONFIG,
           "@oneOf on an object type is refused: %s", err);
    ag_graphql_schema_free(s);
}

static void
test_introspection(void)
{
    const char *got = run("{ __type(name: \"PetInput\") { isOneOf } c: __type(name: \"CatInput\") "
                          "{ isOneOf inputFields { name } all: inputFields(includeDeprecated: "
                          "true) { name isDeprecated deprecationReason } } }",
                          NULL);
    is_str(got,
           "{\"data\":{\"__type\":{\"isOneOf\":true},\"c\":{\"isOneOf\":false,\"inputFields\":[{"
           "\"name\":\"name\"},{\"name\":\"numberOfLives\"}],\"all\":[{\"name\":\"name\","
           "\"isDeprecated\":false,\"deprecationReason\":null},{\"name\":\"numberOfLives\","
           "\"isDeprecated\":false,\"deprecationReason\":null},{\"name\":\"nickname\","
           "\"isDeprecated\":true,\"deprecationReason\":\"Use name.\"}]}}}",
           "isOneOf, and a deprecated input field only with includeDeprecated");
    got = run("{ __type(name: \"Query\") { fields { name args { name } all: args("
              "includeDeprecated: true) { name isDeprecated } } } }",
              NULL);
    ok(strstr(got, "{\"name\":\"search\",\"args\":[{\"name\":\"q\"}],\"all\":[{\"name\":\"q\","
                   "\"isDeprecated\":false},{\"name\":\"text\",\"isDeprecated\":true}]}") != NULL,
       "a deprecated argument only with includeDeprecated: %s", got);
    got = run("{ __schema { directives { name args { name } locations } } }", NULL);
    ok(strstr(got, "{\"name\":\"oneOf\",\"args\":[],\"locations\":[\"INPUT_OBJECT\"]}") != NULL,
       "@oneOf is among the directives: %s", got);
}

static const char *
sdl(const ag_graphql_schema_t *s)
{
    ag_buf_t b;
    ag_buf_init(&b);
    ag_graphql_schema_print(s, &b);
    const char *r = ag_arena_strdup(A, b.data ? b.data : "");
    ag_buf_fini(&b);
    return r;
}

static void
test_sdl(void)
{
    const char *text = sdl(S);
    ok(strstr(text, "input PetInput @oneOf {\n  cat: CatInput\n") != NULL, "SDL: @oneOf");
    ok(strstr(text, "  nickname: String @deprecated(reason: \"Use name.\")\n") != NULL,
       "SDL: a deprecated input field");
    ok(strstr(text, "search(q: String, text: String @deprecated(reason: \"Use q.\")): String") !=
           NULL,
       "SDL: a deprecated argument");
    ok(strstr(text, "@cost") == NULL && strstr(text, "directive @") == NULL,
       "SDL: no cost directives unless published");
}

/* The cost model in SDL and introspection, and the cost in extensions. */
static void
test_cost(void)
{
    ag_graphql_schema_t *c = schema(true);
    const char          *text;

    ok(c != NULL, "a schema that publishes its cost model finishes");
    if (c == NULL)
        return;
    text = sdl(c);
    ok(strstr(text, "directive @cost(weight: Int!) on SCALAR | OBJECT | FIELD_DEFINITION | "
                    "ARGUMENT_DEFINITION | ENUM | INPUT_FIELD_DEFINITION\n") != NULL,
       "SDL: directive @cost");
    ok(strstr(text, "directive @listSize(assumedSize: Int, slicingArguments: [String!], "
                    "sizedFields: [String!], requireOneSlicingArgument: Boolean = true) on "
                    "FIELD_DEFINITION\n") != NULL,
       "SDL: directive @listSize");
    ok(strstr(text, "  posts(first: Int = 20): PostConnection! @listSize(assumedSize: 20, "
                    "slicingArguments: [\"first\"], sizedFields: [\"edges\"], "
                    "requireOneSlicingArgument: false)\n") != NULL,
       "SDL: @listSize on a connection sized by first");
    ok(strstr(text, "  id: ID! @cost(weight: 1)\n") != NULL, "SDL: a leaf field costs 1");
    ok(strstr(text, "  node: Post!\n") != NULL, "SDL: an object field keeps the default");
    ag_graphql_schema_t *plain = S;
    S = c;
    ag_graphql_options_t opts = {.cost_extension = true, .max_cost = 500};
    text = run_opts("{ posts(first: 3) { edges { node { id } } } }", NULL, &opts);
    is_str(text,
           "{\"data\":{\"posts\":{\"edges\":[]}},\"extensions\":{\"cost\":{\"estimated\":10,"
           "\"actual\":2,\"limit\":500}}}",
           "extensions.cost: 1 + 3 x (edges + node + id) estimated, 2 fields resolved");
    text = run_opts("{ posts(first: 100) { edges { node { id } } } a: posts(first: 100) { edges "
                    "{ node { id } } } }",
                    NULL, &opts);
    ok(strstr(text, "\"errors\":[") && strstr(text, "\"code\":\"query_too_costly\"") &&
           strstr(text, ",\"extensions\":{\"cost\":{\"estimated\":602,\"actual\":0,\"limit\":"
                        "500}}}"),
       "a refused query says its cost too: %s", text);
    text = run_opts("{ __schema { directives { name } } }", NULL, &opts);
    ok(strstr(text, "{\"name\":\"cost\"},{\"name\":\"listSize\"}"),
       "introspection lists @cost and @listSize: %s", text);
    S = plain;
    ag_graphql_schema_free(c);
}

int
main(void)
{
    A = ag_arena_new(16384);
    S = schema(false);
    ok(S != NULL, "the spec's example schema finishes");
    if (S == NULL)
        return done_testing();
    test_validation_examples();
    test_coercion_table();
    test_executable_descriptions();
    test_schema_rules();
    test_introspection();
    test_sdl();
    test_cost();
    ag_graphql_schema_free(S);
    ag_arena_free(A);
    return done_testing();
}
