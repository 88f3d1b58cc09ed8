/*
 * tests/unit/graphql/test_graphql_validate.c — one invalid document per
 * validation rule, each failing with graphql-js's message at the right place,
 * and a valid document per rule that passes.
 */
#include "graphql/graphql_int.h"
#include "gql_fixture.h"
#include "tap.h"

static ag_graphql_schema_t *S;
static ag_arena_t          *A;

/* The first validation message for src, or NULL when it is valid. */
static const char *
first_error(const char *src, ag_graphql__loc_t *loc)
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
    if (el.head == NULL)
        return NULL;
    if (loc)
        *loc = el.head->locs[0];
    return el.head->message;
}

struct rule {
    const char *name, *bad, *msg, *good;
    unsigned    line, col;
};

static const struct rule RULES[] = {
    {"UniqueOperationNames", "query A { me { id } } query A { me { id } }",
     "There can be only one operation named \"A\".", "query A { me { id } } query B { me { id } }",
     1, 1},
    {"LoneAnonymousOperation", "{ me { id } } query B { me { id } }",
     "This anonymous operation must be the only defined operation.", "{ me { id } }", 1, 1},
    {"FieldsOnCorrectType", "{ me { email } }", "Cannot query field \"email\" on type \"User\".",
     "{ me { username } }", 1, 8},
    {"ScalarLeafs (leaf with selection)", "{ me { id { x } } }",
     "Field \"id\" must not have a selection since type \"ID!\" has no subfields.", "{ me { id } }",
     1, 11},
    {"ScalarLeafs (object without selection)", "{ me }",
     "Field \"me\" of type \"User\" must have a selection of subfields. Did you mean \"me { ... "
     "}\"?",
     "{ me { id } }", 1, 3},
    {"KnownArgumentNames", "{ user(id: \"1\", name: \"x\") { id } }",
     "Unknown argument \"name\" on field \"Query.user\".", "{ user(id: \"1\") { id } }", 1, 17},
    {"KnownArgumentNames (directive)", "{ me { id @skip(if: true, unless: false) } }",
     "Unknown argument \"unless\" on directive \"@skip\".", "{ me { id @skip(if: true) } }", 1, 27},
    {"UniqueArgumentNames", "{ user(id: \"1\", id: \"2\") { id } }",
     "There can be only one argument named \"id\".", "{ user(id: \"1\") { id } }", 1, 8},
    {"ProvidedRequiredArguments", "{ user { id } }",
     "Field \"user\" argument \"id\" of type \"ID!\" is required, but it was not provided.",
     "{ user(id: 1) { id } }", 1, 3},
    {"ProvidedRequiredArguments (directive)", "{ me { id @include } }",
     "Directive \"@include\" argument \"if\" of type \"Boolean!\" is required, but it was not "
     "provided.",
     "{ me { id @include(if: false) } }", 1, 11},
    {"ValuesOfCorrectType (Int)", "{ echo(i: \"abc\") }",
     "Int cannot represent non-integer value: \"abc\"", "{ echo(i: 12) }", 1, 11},
    {"ValuesOfCorrectType (Int range)", "{ echo(i: 3000000000) }",
     "Int cannot represent non 32-bit signed integer value: 3000000000", "{ echo(i: -2147483648) }",
     1, 11},
    {"ValuesOfCorrectType (String)", "{ echo(s: 1) }",
     "String cannot represent a non string value: 1", "{ echo(s: \"1\") }", 1, 11},
    {"ValuesOfCorrectType (Boolean)", "{ echo(b: \"true\") }",
     "Boolean cannot represent a non boolean value: \"true\"", "{ echo(b: true) }", 1, 11},
    {"ValuesOfCorrectType (Float)", "{ echo(f: true) }",
     "Float cannot represent non numeric value: true", "{ echo(f: 1) }", 1, 11},
    {"ValuesOfCorrectType (ID)", "{ echo(id: 1.5) }",
     "ID cannot represent a non-string and non-integer value: 1.5", "{ echo(id: 15) }", 1, 12},
    {"ValuesOfCorrectType (enum)", "{ echo(e: PINK) }",
     "Value \"PINK\" does not exist in \"Color\" enum.", "{ echo(e: GREEN) }", 1, 11},
    {"ValuesOfCorrectType (enum as string)", "{ echo(e: \"RED\") }",
     "Enum \"Color\" cannot represent non-enum value: \"RED\".", "{ echo(e: RED) }", 1, 11},
    {"ValuesOfCorrectType (null)", "{ user(id: null) { id } }",
     "Expected value of type \"ID!\", found null.", "{ user(id: \"x\") { id } }", 1, 12},
    {"ValuesOfCorrectType (unknown input field)", "{ echo(in: {text: \"a\", nope: 1}) }",
     "Field \"nope\" is not defined by type \"Filter\".", "{ echo(in: {text: \"a\"}) }", 1, 24},
    {"ValuesOfCorrectType (missing input field)", "{ echo(in: {limit: 1}) }",
     "Field \"Filter.text\" of required type \"String!\" was not provided.",
     "{ echo(in: {text: \"a\", limit: 1, colors: [RED, BLUE]}) }", 1, 12},
    {"ValuesOfCorrectType (list item)", "{ echo(list: [1, \"2\"]) }",
     "Int cannot represent non-integer value: \"2\"", "{ echo(list: [1, 2]) }", 1, 18},
    {"UniqueVariableNames", "query ($a: Int, $a: Int) { echo(i: $a) }",
     "There can be only one variable named \"$a\".", "query ($a: Int) { echo(i: $a) }", 1, 8},
    {"VariablesAreInputTypes", "query ($u: User) { me { id } }",
     "Variable \"$u\" cannot be non-input type \"User\".", "query ($u: Filter) { echo(in: $u) }", 1,
     12},
    {"KnownTypeNames (variable)", "query ($u: Nope) { me { id } }", "Unknown type \"Nope\".",
     "query ($u: Color) { echo(e: $u) }", 1, 12},
    {"NoUndefinedVariables", "query Q { echo(i: $x) }",
     "Variable \"$x\" is not defined by operation \"Q\".", "query Q($x: Int) { echo(i: $x) }", 1,
     19},
    {"NoUndefinedVariables (via fragment)", "query Q { ...F } fragment F on Query { echo(i: $x) }",
     "Variable \"$x\" is not defined by operation \"Q\".",
     "query Q($x: Int) { ...F } fragment F on Query { echo(i: $x) }", 1, 48},
    {"NoUnusedVariables", "query Q($x: Int) { me { id } }",
     "Variable \"$x\" is never used in operation \"Q\".", "query Q($x: Int) { echo(i: $x) }", 1, 9},
    {"VariablesInAllowedPosition", "query Q($x: Int) { need(x: $x) }",
     "Variable \"$x\" of type \"Int\" used in position expecting type \"Int!\".",
     "query Q($x: Int = 3) { need(x: $x) }", 1, 9},
    {"VariablesInAllowedPosition (type mismatch)", "query Q($x: String) { echo(i: $x) }",
     "Variable \"$x\" of type \"String\" used in position expecting type \"Int\".",
     "query Q($x: Int!) { echo(i: $x) }", 1, 9},
    {"VariablesInAllowedPosition (list)", "query Q($x: [Int]) { echo(list: $x) }",
     "Variable \"$x\" of type \"[Int]\" used in position expecting type \"[Int!]\".",
     "query Q($x: [Int!]!, $y: Int) { echo(list: $x, req: $y) }", 1, 9},
    {"VariablesInAllowedPosition (nested input)", "query Q($t: String) { echo(in: {text: $t}) }",
     "Variable \"$t\" of type \"String\" used in position expecting type \"String!\".",
     "query Q($t: String!) { echo(in: {text: $t}) }", 1, 9},
    {"UniqueFragmentNames", "{ me { ...F } } fragment F on User { id } fragment F on User { id }",
     "There can be only one fragment named \"F\".", "{ me { ...F } } fragment F on User { id }", 1,
     17},
    {"KnownFragmentNames", "{ me { ...G } }", "Unknown fragment \"G\".",
     "{ me { ...G } } fragment G on User { id }", 1, 8},
    {"NoUnusedFragments", "{ me { id } } fragment F on User { id }",
     "Fragment \"F\" is never used.", "{ me { ...F } } fragment F on User { id }", 1, 15},
    {"PossibleFragmentSpreads", "{ me { ...P } } fragment P on Post { id }",
     "Fragment \"P\" cannot be spread here as objects of type \"User\" can never be of type "
     "\"Post\".",
     "{ node(id: 1) { ...P } } fragment P on Post { id }", 1, 8},
    {"PossibleFragmentSpreads (inline)", "{ me { ... on Post { id } } }",
     "Fragment cannot be spread here as objects of type \"User\" can never be of type \"Post\".",
     "{ search { ... on Post { id } } }", 1, 8},
    {"FragmentsOnCompositeTypes", "{ me { ...F } } fragment F on String { id }",
     "Fragment \"F\" cannot condition on non composite type \"String\".",
     "{ me { ...F } } fragment F on Node { id }", 1, 31},
    {"KnownTypeNames (fragment)", "{ me { ... on Nope { id } } }", "Unknown type \"Nope\".",
     "{ me { ... on User { id } } }", 1, 8},
    {"NoFragmentCycles", "{ me { ...A } } fragment A on User { ...B } fragment B on User { ...A }",
     "Cannot spread fragment \"A\" within itself via \"B\".",
     "{ me { ...A } } fragment A on User { ...B } fragment B on User { id }", 1, 17},
    {"NoFragmentCycles (self)", "{ me { ...A } } fragment A on User { id ...A }",
     "Cannot spread fragment \"A\" within itself.", "{ me { ...A } } fragment A on User { id }", 1,
     17},
    {"KnownDirectives", "{ me { id @nope } }", "Unknown directive \"@nope\".",
     "{ me { id @skip(if: false) } }", 1, 11},
    {"KnownDirectives (location)", "query Q @skip(if: true) { me { id } }",
     "Directive \"@skip\" may not be used on QUERY.", "query Q { me { id @skip(if: true) } }", 1,
     9},
    {"KnownDirectives (@deprecated is SDL-only)", "{ me { id @deprecated } }",
     "Directive \"@deprecated\" may not be used on FIELD.", "{ me { id } }", 1, 11},
    {"UniqueDirectivesPerLocation", "{ me { id @skip(if: true) @skip(if: false) } }",
     "The directive \"@skip\" can only be used once at this location.",
     "{ me { id @skip(if: true) @include(if: true) } }", 1, 11},
    {"OverlappingFieldsCanBeMerged (fields)", "{ me { x: id x: username } }",
     "Fields \"x\" conflict because \"id\" and \"username\" are different fields. Use different "
     "aliases on the fields to fetch both if this was intentional.",
     "{ me { x: id x: id } }", 1, 8},
    {"OverlappingFieldsCanBeMerged (args)", "{ user(id: 1) { id } user(id: 2) { id } }",
     "Fields \"user\" conflict because they have differing arguments. Use different aliases on the "
     "fields to fetch both if this was intentional.",
     "{ user(id: 1) { id } user(id: 1) { username } }", 1, 3},
    {"OverlappingFieldsCanBeMerged (via fragment)",
     "{ me { id ...F } } fragment F on User { id: username }",
     "Fields \"id\" conflict because \"id\" and \"username\" are different fields. Use different "
     "aliases on the fields to fetch both if this was intentional.",
     "{ me { id ...F } } fragment F on User { id }", 1, 8},
    {"OverlappingFieldsCanBeMerged (args through fragments)",
     "{ ...A ...B } fragment A on Query { channelPosts(channelId: \"c1\", first: 1) { edges { "
     "cursor } } } fragment B on Query { channelPosts(channelId: \"c1\", first: 100) { edges { "
     "cursor } } }",
     "Fields \"channelPosts\" conflict because they have differing arguments. Use different "
     "aliases on the fields to fetch both if this was intentional.",
     "{ ...A ...B } fragment A on Query { channelPosts(channelId: \"c1\", first: 100) { edges { "
     "cursor } } } fragment B on Query { channelPosts(first: 100, channelId: \"c1\") { pageInfo "
     "{ hasNextPage } } }",
     1, 37},
    {"OverlappingFieldsCanBeMerged (args: variable against literal)",
     "query Q($n: Int) { channelPosts(channelId: \"c1\", first: $n) { edges { cursor } } "
     "channelPosts(channelId: \"c1\", first: 100) { edges { cursor } } }",
     "Fields \"channelPosts\" conflict because they have differing arguments. Use different "
     "aliases on the fields to fetch both if this was intentional.",
     "query Q($n: Int) { channelPosts(channelId: \"c1\", first: $n) { edges { cursor } } "
     "channelPosts(channelId: \"c1\", first: $n) { pageInfo { hasNextPage } } }",
     1, 20},
    {"OverlappingFieldsCanBeMerged (sub-selections)",
     "{ post(id: 1) { author { x: id } } post(id: 1) { author { x: username } } }",
     "Fields \"post\" conflict because subfields \"author\" conflict because subfields \"x\" "
     "conflict because \"id\" and \"username\" are different fields. Use different aliases on "
     "the fields to fetch both if this was intentional.",
     "{ post(id: 1) { author { x: id } } post(id: 1) { author { y: username } } }", 1, 3},
    {"OverlappingFieldsCanBeMerged (connections nested, the review's shape)",
     "{ a: channelPosts(channelId: \"1\", first: 1) { edges { node { id } } } a: "
     "channelPosts(channelId: \"1\", first: 1) { edges { node { id: body } } } }",
     "Fields \"a\" conflict because subfields \"edges\" conflict because subfields \"node\" "
     "conflict because subfields \"id\" conflict because \"id\" and \"body\" are different "
     "fields. Use different aliases on the fields to fetch both if this was intentional.",
     "{ a: channelPosts(channelId: \"1\", first: 1) { edges { node { id } } } a: "
     "channelPosts(channelId: \"1\", first: 1) { edges { node { body } } } }",
     1, 3},
    {"OverlappingFieldsCanBeMerged (shape: nullability on exclusive parents)",
     "{ node(id: 1) { ... on User { x: displayName } ... on Post { x: body } } }",
     "Fields \"x\" conflict because they return conflicting types \"String\" and \"String!\". "
     "Use different aliases on the fields to fetch both if this was intentional.",
     "{ node(id: 1) { ... on User { x: username } ... on Post { x: body } } }", 1, 31},
    {"OverlappingFieldsCanBeMerged (shape: leaf types on exclusive parents)",
     "{ node(id: 1) { ... on User { x: username } ... on Post { x: commentCount } } }",
     "Fields \"x\" conflict because they return conflicting types \"String!\" and \"Int!\". Use "
     "different aliases on the fields to fetch both if this was intentional.",
     "{ node(id: 1) { ... on User { x: id } ... on Post { x: id } } }", 1, 31},
    {"OverlappingFieldsCanBeMerged (interface against object)",
     "{ node(id: 1) { x: id ... on Post { x: body } } }",
     "Fields \"x\" conflict because \"id\" and \"body\" are different fields. Use different "
     "aliases on the fields to fetch both if this was intentional.",
     "{ node(id: 1) { x: id ... on Post { x: id } } }", 1, 17},
    {"Mutation root", "subscription S { me { id } }",
     "Schema is not configured to execute subscription operation.", "mutation M { incr }", 1, 1},
};

static void
test_rules(void)
{
    for (size_t i = 0; i < AG_ARRAY_LEN(RULES); i++) {
        const struct rule *r = &RULES[i];
        ag_graphql__loc_t  loc = {0, 0};
        const char        *msg = first_error(r->bad, &loc);
        is_str(msg, r->msg, "%s: invalid document rejected", r->name);
        ok(loc.line == r->line && loc.col == r->col, "%s: located at %u:%u (got %u:%u)", r->name,
           r->line, r->col, loc.line, loc.col);
        msg = first_error(r->good, NULL);
        ok(msg == NULL, "%s: valid document passes%s%s", r->name, msg ? " — " : "", msg ? msg : "");
    }
}

static void
test_error_json_has_both_locations(void)
{
    ag_json_t         *res = NULL;
    ag_graphql_phase_t ph;
    const char        *q = "query Q($x: Int) { need(x: $x) }";

    ag_arena_reset(A);
    ok(ag_graphql_execute(S, A, q, strlen(q), NULL, NULL, NULL, NULL, &res, &ph) == AG_OK,
       "execute returns OK for an invalid document");
    is_str(ag_json_dump(res, NULL),
           "{\"errors\":[{\"message\":\"Variable \\\"$x\\\" of type \\\"Int\\\" used in position "
           "expecting type \\\"Int!\\\".\",\"locations\":[{\"line\":1,\"column\":9},{\"line\":1,"
           "\"column\":28}],\"extensions\":{\"code\":\"validation_failed\"}}]}",
           "error JSON lists the variable definition and its use");
    is_int(ph, AG_GRAPHQL_PHASE_REQUEST, "validation failure is a request error");
}

static void
test_fragment_bomb_is_cheap(void)
{
    /* F0 spreads F1 twice, ..., F29: 2^30 fields if expanded naively */
    ag_buf_t b;
    ag_buf_init(&b);
    ag_buf_puts(&b, "{ me { ...F0 } }\n");
    for (int i = 0; i < 30; i++)
        ag_buf_printf(&b, "fragment F%d on User { id ...F%d ...F%d }\n", i, i + 1, i + 1);
    ag_buf_puts(&b, "fragment F30 on User { username }\n");
    ok(first_error(b.data, NULL) == NULL, "fragment bomb validates");
    ag_json_t         *res = NULL;
    ag_graphql_phase_t ph;
    ag_arena_reset(A);
    ok(ag_graphql_execute(S, A, b.data, b.len, NULL, NULL, NULL, NULL, &res, &ph) == AG_OK,
       "fragment bomb runs");
    /* a fragment expands once per collection (spec CollectFields): it means { me { id username } }
     */
    is_str(ag_json_dump(res, NULL), "{\"data\":{\"me\":{\"id\":\"u1\",\"username\":\"ada\"}}}",
           "fragment bomb: runs as the one selection it merges to");
    ag_buf_fini(&b);
}

/* Fields of parents that exclude each other need only the same shape, all the way down. */
static void
test_shapes_below_exclusive_parents(void)
{
    ag_graphql_schema_t *s = ag_graphql_schema_new(NULL), *keep = S;
    ag_graphql_type_t   *t;
    char                 err[128];

    t = ag_graphql_interface(s, "I", NULL);
    ag_graphql_field(t, "id", "ID", NULL, NULL, NULL);
    t = ag_graphql_object(s, "A", NULL);
    ag_graphql_implements(t, "I");
    ag_graphql_field(t, "id", "ID", NULL, NULL, NULL);
    ag_graphql_field(t, "child", "C", NULL, NULL, NULL);
    t = ag_graphql_object(s, "B", NULL);
    ag_graphql_implements(t, "I");
    ag_graphql_field(t, "id", "ID", NULL, NULL, NULL);
    ag_graphql_field(t, "child", "C", NULL, NULL, NULL);
    ag_graphql_field(t, "kids", "[C]", NULL, NULL, NULL);
    t = ag_graphql_object(s, "C", NULL);
    ag_graphql_field(t, "v", "Int", NULL, NULL, NULL);
    ag_graphql_field(t, "s", "String", NULL, NULL, NULL);
    t = ag_graphql_object(s, "Query", NULL);
    ag_graphql_field(t, "i", "I", NULL, NULL, NULL);
    ok(ag_graphql_schema_finish(s, err, sizeof(err)) == AG_OK, "schema with exclusive parents");
    S = s;
    is_str(first_error("{ i { ... on A { child { w: v } } ... on B { child { w: s } } } }", NULL),
           "Fields \"child\" conflict because subfields \"w\" conflict because they return "
           "conflicting types \"Int\" and \"String\". Use different aliases on the fields to "
           "fetch both if this was intentional.",
           "SameResponseShape below fields of exclusive parents");
    ok(first_error("{ i { ... on A { child { w: v } } ... on B { child { w: v } } } }", NULL) ==
           NULL,
       "the same shape passes");
    is_str(first_error("{ i { ... on A { c: child { v } } ... on B { c: kids { v } } } }", NULL),
           "Fields \"c\" conflict because they return conflicting types \"C\" and \"[C]\". Use "
           "different aliases on the fields to fetch both if this was intentional.",
           "a list against a single object");
    S = keep;
    ag_graphql_schema_free(s);
}

int
main(void)
{
    S = fx_schema();
    A = ag_arena_new(0);
    test_rules();
    test_error_json_has_both_locations();
    test_fragment_bomb_is_cheap();
    test_shapes_below_exclusive_parents();
    ag_arena_free(A);
    fx_free(S);
    return done_testing();
}
