/*
 * tests/unit/graphql/test_graphql_parse.c — the lexer and parser: a corpus of
 * valid documents (kitchen sink, block strings, escapes), invalid ones with
 * graphql-js's messages and exact locations, and the size/nesting limits.
 */
#include "graphql/graphql_int.h"
#include "tap.h"

#include <stdlib.h>
#include <string.h>

static ag_arena_t *A;

static ag_graphql__document_t *
parse(const char *src, const char **msg, ag_graphql__loc_t *loc)
{
    ag_graphql__document_t *doc = NULL;
    const char             *m = NULL;
    ag_graphql__loc_t       l = {0, 0};
    ag_status_t             st = ag_graphql__parse(A, src, strlen(src), 0, &doc, &m, &l);
    if (msg)
        *msg = m;
    if (loc)
        *loc = l;
    return st == AG_OK ? doc : NULL;
}

static const char *KITCHEN_SINK =
    "# Copyright (c) 2015-present, Facebook, Inc.\n"
    "query queryName($foo: ComplexType, $site: Site = MOBILE) @onQuery {\n"
    "  whoever123is: node(id: [123, 456]) {\n"
    "    id ,\n"
    "    ... on User @onInlineFragment {\n"
    "      field2 {\n"
    "        id ,\n"
    "        alias: field1(first:10, after:$foo,) @include(if: $foo) {\n"
    "          id,\n"
    "          ...frag @onFragmentSpread\n"
    "        }\n"
    "      }\n"
    "    }\n"
    "    ... @skip(unless: $foo) {\n"
    "      id\n"
    "    }\n"
    "    ... {\n"
    "      id\n"
    "    }\n"
    "  }\n"
    "}\n"
    "\n"
    "mutation likeStory @onMutation {\n"
    "  like(story: 123) @onField {\n"
    "    story {\n"
    "      id @onField\n"
    "    }\n"
    "  }\n"
    "}\n"
    "\n"
    "subscription StoryLikeSubscription($input: StoryLikeSubscribeInput @onVariableDefinition)\n"
    "  @onSubscription {\n"
    "  storyLikeSubscribe(input: $input) {\n"
    "    story {\n"
    "      likers {\n"
    "        count\n"
    "      }\n"
    "      likeSentence {\n"
    "        text\n"
    "      }\n"
    "    }\n"
    "  }\n"
    "}\n"
    "\n"
    "fragment frag on Friend @onFragmentDefinition {\n"
    "  foo(size: $size, bar: $b, obj: {key: \"value\", block: \"\"\"\n"
    "      block string uses \\\"\"\"\n"
    "  \"\"\"})\n"
    "}\n"
    "\n"
    "{\n"
    "  unnamed(truthy: true, falsy: false, nullish: null),\n"
    "  query\n"
    "}\n"
    "\n"
    "query { __typename }\n";

static void
test_kitchen_sink_parses_with_locations(void)
{
    const char             *msg = NULL;
    ag_graphql__document_t *doc = parse(KITCHEN_SINK, &msg, NULL);

    ok(doc != NULL, "kitchen sink parses (%s)", msg ? msg : "ok");
    if (doc == NULL)
        return;
    is_int(doc->n_ops, 5, "kitchen sink: five operations");
    is_int(doc->n_frags, 1, "kitchen sink: one fragment");
    const ag_graphql__operation_t *q = &doc->ops[0];
    is_str(q->name, "queryName", "operation name");
    is_int(q->n_vars, 2, "two variable definitions");
    is_str(q->vars[1].type->name, "Site", "variable type");
    is_int(q->vars[1].def->kind, V_ENUM, "default value is an enum");
    is_int(q->loc.line, 2, "operation line");
    is_int(q->loc.col, 1, "operation column");
    const ag_graphql__selection_t *node = &q->sel->items[0];
    is_str(node->alias, "whoever123is", "alias");
    is_str(node->name, "node", "field name");
    is_int(node->loc.line, 3, "field line");
    is_int(node->loc.col, 3, "field column");
    is_int(node->args[0].value->kind, V_LIST, "list argument");
    is_int(node->args[0].value->n, 2, "list of two");
    is_int(node->sel->items[1].kind, S_INLINE, "inline fragment");
    is_str(node->sel->items[1].type_cond, "User", "type condition");
    is_int(node->sel->items[2].kind, S_INLINE, "inline fragment without condition");
    is_int(doc->ops[1].op, AG_GRAPHQL_MUTATION, "mutation");
    is_int(doc->ops[2].op, AG_GRAPHQL_SUBSCRIPTION, "subscription");
    is_int(doc->ops[2].vars[0].n_dirs, 1, "directive on a variable definition");
    ok(doc->ops[3].name == NULL, "shorthand query is anonymous");
    const ag_graphql__value_t *obj = doc->frags[0].sel->items[0].args[2].value;
    is_int(obj->kind, V_OBJECT, "object value");
    is_str(obj->u.fields[1].value->str, "block string uses \"\"\"", "block string with escape");
    const ag_graphql__selection_t *un = &doc->ops[3].sel->items[0];
    is_int(un->args[0].value->kind, V_BOOL, "true");
    is_int(un->args[2].value->kind, V_NULL, "null");
    is_str(doc->ops[3].sel->items[1].name, "query", "keyword as field name");
}

static void
test_block_string_indentation(void)
{
    const char *src =
        "{ f(a: \"\"\"\n\n    Hello,\n      World!\n\n    Yours,\n      GraphQL.\n  \"\"\") }";
    ag_graphql__document_t *doc = parse(src, NULL, NULL);
    ok(doc != NULL, "block string document parses");
    if (doc)
        is_str(doc->ops[0].sel->items[0].args[0].value->str,
               "Hello,\n  World!\n\nYours,\n  GraphQL.",
               "block string: spec indentation algorithm");
    doc = parse("{ f(a: \"\"\"  first line kept\n    second\n  \"\"\") }", NULL, NULL);
    if (doc)
        is_str(doc->ops[0].sel->items[0].args[0].value->str, "  first line kept\nsecond",
               "block string: first line keeps its indentation");
    doc = parse("{ f(a: \"\"\"\r\n  a\r\n  b\r\n\"\"\") }", NULL, NULL);
    if (doc)
        is_str(doc->ops[0].sel->items[0].args[0].value->str, "a\nb",
               "block string: CRLF normalized");
}

static void
test_string_escapes(void)
{
    ag_graphql__document_t *doc = parse(
        "{ f(a: \"q\\\"b\\\\s\\/n\\nt\\tu\\u00e9x\\uD83D\\uDE00y\\u{1F600}z\") }", NULL, NULL);
    ok(doc != NULL, "escapes parse");
    if (doc) {
        const ag_graphql__value_t *v = doc->ops[0].sel->items[0].args[0].value;
        is_str(v->str, "q\"b\\s/n\nt\tu\xC3\xA9x\xF0\x9F\x98\x80y\xF0\x9F\x98\x80z",
               "escapes decode (incl. surrogate pair and \\u{...})");
    }
    doc = parse("{ f(a: \"\xC3\xA9t\xC3\xA9\") { g } }", NULL, NULL);
    ok(doc != NULL, "raw UTF-8 in strings");
}

static void
test_numbers(void)
{
    ag_graphql__document_t *doc =
        parse("{ f(a: -0, b: 1.5e10, c: 0.25, d: -12, e: 6E-2) }", NULL, NULL);
    ok(doc != NULL, "numbers parse");
    if (doc) {
        const ag_graphql__selection_t *f = &doc->ops[0].sel->items[0];
        is_int(f->args[0].value->kind, V_INT, "-0 is an Int");
        is_int(f->args[1].value->kind, V_FLOAT, "1.5e10 is a Float");
        is_str(f->args[4].value->str, "6E-2", "float text kept");
    }
}

struct bad {
    const char *src, *msg;
    unsigned    line, col;
};

static const struct bad BAD[] = {
    {"{", "Syntax Error: Expected Name, found <EOF>.", 1, 2},
    {"{ a(b: ) }", "Syntax Error: Unexpected \")\".", 1, 8},
    {"{ }", "Syntax Error: Expected Name, found \"}\".", 1, 3},
    {"query { a }}", "Syntax Error: Unexpected \"}\".", 1, 12},
    {"\n\n  query Q { ...on }", "Syntax Error: Expected Name, found \"}\".", 3, 19},
    {"fragment on on T { a }", "Syntax Error: Unexpected Name \"on\".", 1, 10},
    {"fragment F T { a }", "Syntax Error: Expected \"on\", found Name \"T\".", 1, 12},
    {"{ a(s: \"abc) }", "Syntax Error: Unterminated string.", 1, 15},
    {"{ a(s: \"a\nb\") }", "Syntax Error: Unterminated string.", 1, 10},
    {"{ a(s: \"\\x\") }", "Syntax Error: Invalid character escape sequence: \"\\x\".", 1, 9},
    {"{ a(s: \"\\uD83D\") }", "Syntax Error: Invalid Unicode escape sequence: \"\\uD83D\".", 1, 9},
    {"{ a(s: \"\\u{110000}\") }", "Syntax Error: Invalid Unicode escape sequence: \"\\u{110000}\".",
     1, 9},
    {"{ a(n: 01) }", "Syntax Error: Invalid number, unexpected digit after 0: \"1\".", 1, 9},
    {"{ a(n: 1.) }", "Syntax Error: Invalid number, expected digit but got: \")\".", 1, 10},
    {"{ a(n: 1x) }", "Syntax Error: Invalid number, expected digit but got: \"x\".", 1, 9},
    {"{ a ? }", "Syntax Error: Unexpected character: \"?\".", 1, 5},
    {"{ ..a }", "Syntax Error: Unexpected character: \".\".", 1, 3},
    {"", "Syntax Error: Unexpected <EOF>.", 1, 1},
    {"type Foo { a: Int }", "Syntax Error: Unexpected Name \"type\".", 1, 1},
    {"query Q($v: Int = $x) { a }", "Syntax Error: Unexpected variable \"$x\" in constant value.",
     1, 19},
    {"query Q() { a }", "Syntax Error: Expected \"$\", found \")\".", 1, 9},
    {"{ a(b: \"\"\"x) }", "Syntax Error: Unterminated string.", 1, 15},
    {"{ \xC3\xA9 }", "Syntax Error: Unexpected character: U+00C3.", 1, 3},
    {"# only a comment", "Syntax Error: Unexpected <EOF>.", 1, 17},
};

static void
test_invalid_documents(void)
{
    for (size_t i = 0; i < AG_ARRAY_LEN(BAD); i++) {
        const char       *msg = NULL;
        ag_graphql__loc_t loc = {0, 0};
        ok(parse(BAD[i].src, &msg, &loc) == NULL, "invalid #%zu rejected", i);
        is_str(msg, BAD[i].msg, "invalid #%zu message", i);
        ok(loc.line == BAD[i].line && loc.col == BAD[i].col, "invalid #%zu at %u:%u (got %u:%u)", i,
           BAD[i].line, BAD[i].col, loc.line, loc.col);
    }
}

static void
test_columns_count_code_points(void)
{
    const char       *msg = NULL;
    ag_graphql__loc_t loc;
    ok(parse("{ a(s: \"\xC3\xA9\xC3\xA9\") ? }", &msg, &loc) == NULL, "error after UTF-8 text");
    is_int(loc.col, 14, "column counts code points, not bytes");
}

static void
test_nesting_limit_fails_fast(void)
{
    char             *deep = malloc(100 * 4 + 16);
    size_t            n = 0;
    const char       *msg = NULL;
    ag_graphql__loc_t loc;

    for (int i = 0; i < 100; i++)
        n += (size_t)sprintf(deep + n, "{a ");
    for (int i = 0; i < 100; i++)
        deep[n++] = '}';
    deep[n] = '\0';
    ok(parse(deep, &msg, &loc) == NULL, "100-level selection nesting rejected");
    is_str(msg, "Syntax Error: Document is nested too deeply (limit 64).", "nesting message");

    /* 1 MiB of '[' must not recurse a million levels */
    size_t big = 1 << 20;
    char  *lists = malloc(big + 16);
    memcpy(lists, "{a(b:", 5);
    memset(lists + 5, '[', big);
    lists[big + 5] = '\0';
    ok(parse(lists, &msg, &loc) == NULL, "1 MiB of nested lists rejected without a crash");
    free(lists);
    free(deep);
}

static void
test_const_value_and_type_helpers(void)
{
    ag_graphql__tref_t *t = ag_graphql__parse_type(A, "[Post!]!");
    ok(t && t->kind == T_NONNULL && t->of->kind == T_LIST && t->of->of->kind == T_NONNULL,
       "type reference [Post!]! parses");
    ok(ag_graphql__parse_type(A, "[Post") == NULL, "malformed type reference rejected");
    ag_graphql__value_t *v = ag_graphql__parse_const_value(A, "{a: [1, \"x\"], b: RED}");
    ok(v && v->kind == V_OBJECT && v->n == 2, "constant object value parses");
    ag_buf_t b;
    ag_buf_init(&b);
    if (v)
        ag_graphql__print_value(&b, v);
    is_str(b.data, "{a: [1, \"x\"], b: RED}", "value prints back");
    ag_buf_fini(&b);
    ok(ag_graphql__parse_const_value(A, "$x") == NULL, "variables are not constants");
}

int
main(void)
{
    A = ag_arena_new(0);
    test_kitchen_sink_parses_with_locations();
    test_block_string_indentation();
    test_string_escapes();
    test_numbers();
    test_invalid_documents();
    test_columns_count_code_points();
    test_nesting_limit_fails_fast();
    test_const_value_and_type_helpers();
    ag_arena_free(A);
    return done_testing();
}
