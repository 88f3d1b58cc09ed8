/*
 * tests/unit/graphql/test_graphql_introspection.c — graphql-js's full
 * introspection query (getIntrospectionQuery with every option) against the
 * fixture schema, __type lookups, and the SDL printer.
 */
#include "gql_fixture.h"
#include "tap.h"

static ag_graphql_schema_t *S;
static ag_arena_t          *A;

static const char *INTROSPECTION_QUERY = "query IntrospectionQuery {\n"
                                         "  __schema {\n"
                                         "    description\n"
                                         "    queryType { name kind }\n"
                                         "    mutationType { name kind }\n"
                                         "    subscriptionType { name kind }\n"
                                         "    types {\n"
                                         "      ...FullType\n"
                                         "    }\n"
                                         "    directives {\n"
                                         "      name\n"
                                         "      description\n"
                                         "      isRepeatable\n"
                                         "      locations\n"
                                         "      args(includeDeprecated: true) {\n"
                                         "        ...InputValue\n"
                                         "      }\n"
                                         "    }\n"
                                         "  }\n"
                                         "}\n"
                                         "\n"
                                         "fragment FullType on __Type {\n"
                                         "  kind\n"
                                         "  name\n"
                                         "  description\n"
                                         "  specifiedByURL\n"
                                         "  isOneOf\n"
                                         "  fields(includeDeprecated: true) {\n"
                                         "    name\n"
                                         "    description\n"
                                         "    args(includeDeprecated: true) {\n"
                                         "      ...InputValue\n"
                                         "    }\n"
                                         "    type {\n"
                                         "      ...TypeRef\n"
                                         "    }\n"
                                         "    isDeprecated\n"
                                         "    deprecationReason\n"
                                         "  }\n"
                                         "  inputFields(includeDeprecated: true) {\n"
                                         "    ...InputValue\n"
                                         "  }\n"
                                         "  interfaces {\n"
                                         "    ...TypeRef\n"
                                         "  }\n"
                                         "  enumValues(includeDeprecated: true) {\n"
                                         "    name\n"
                                         "    description\n"
                                         "    isDeprecated\n"
                                         "    deprecationReason\n"
                                         "  }\n"
                                         "  possibleTypes {\n"
                                         "    ...TypeRef\n"
                                         "  }\n"
                                         "}\n"
                                         "\n"
                                         "fragment InputValue on __InputValue {\n"
                                         "  name\n"
                                         "  description\n"
                                         "  type { ...TypeRef }\n"
                                         "  defaultValue\n"
                                         "  isDeprecated\n"
                                         "  deprecationReason\n"
                                         "}\n"
                                         "\n"
                                         "fragment TypeRef on __Type {\n"
                                         "  kind\n"
                                         "  name\n"
                                         "  ofType {\n"
                                         "    kind\n"
                                         "    name\n"
                                         "    ofType {\n"
                                         "      kind\n"
                                         "      name\n"
                                         "      ofType {\n"
                                         "        kind\n"
                                         "        name\n"
                                         "        ofType {\n"
                                         "          kind\n"
                                         "          name\n"
                                         "          ofType {\n"
                                         "            kind\n"
                                         "            name\n"
                                         "            ofType {\n"
                                         "              kind\n"
                                         "              name\n"
                                         "              ofType {\n"
                                         "                kind\n"
                                         "                name\n"
                                         "                ofType {\n"
                                         "                  kind\n"
                                         "                  name\n"
                                         "                  ofType {\n"
                                         "                    kind\n"
                                         "                    name\n"
                                         "                  }\n"
                                         "                }\n"
                                         "              }\n"
                                         "            }\n"
                                         "          }\n"
                                         "        }\n"
                                         "      }\n"
                                         "    }\n"
                                         "  }\n"
                                         "}\n";

static ag_json_t *
run(const char *q)
{
    ag_json_t         *res = NULL;
    ag_graphql_phase_t ph;
    if (ag_graphql_execute(S, A, q, strlen(q), NULL, NULL, NULL, NULL, &res, &ph) != AG_OK)
        return NULL;
    return res;
}

/* The element of array arr whose "name" member is name. */
static ag_json_t *
named(ag_json_t *arr, const char *name)
{
    for (size_t i = 0; i < ag_json_len(arr); i++) {
        const char *n = NULL;
        if (ag_json_get_str(ag_json_at(arr, i), "name", &n) == AG_OK && strcmp(n, name) == 0)
            return ag_json_at(arr, i);
    }
    return NULL;
}

static const char *
str(ag_json_t *o, const char *key)
{
    const char *s = NULL;
    ag_json_get_str(o, key, &s);
    return s;
}

static void
test_full_introspection_query(void)
{
    ag_json_t *res = run(INTROSPECTION_QUERY);
    ok(res != NULL, "introspection query executes");
    if (res == NULL)
        return;
    ok(!ag_json_has(res, "errors"), "no errors (%s)",
       ag_json_has(res, "errors") ? ag_json_dump(ag_json_get(res, "errors"), NULL) : "");
    ag_json_t *sc = ag_json_get(ag_json_get(res, "data"), "__schema");
    is_str(str(ag_json_get(sc, "queryType"), "name"), "Query", "queryType");
    is_str(str(ag_json_get(sc, "mutationType"), "name"), "Mutation", "mutationType");
    ok(ag_json_has(sc, "subscriptionType") && ag_json_get(sc, "subscriptionType") == NULL,
       "subscriptionType is null");
    ok(ag_json_has(sc, "description"), "schema description asked and answered");

    ag_json_t *types = ag_json_get(sc, "types");
    ok(named(types, "__Schema") && named(types, "__Type") && named(types, "String"),
       "types include introspection and built-in scalars");
    ag_json_t *post = named(types, "Post");
    is_str(str(post, "kind"), "OBJECT", "Post is an OBJECT");
    is_str(str(post, "description"), "A message in a channel.", "type description");
    ag_json_t *old = named(ag_json_get(post, "fields"), "old");
    ok(old && ag_json_as_bool(ag_json_get(old, "isDeprecated")), "deprecated field listed");
    is_str(str(old, "deprecationReason"), "Use body.", "deprecation reason");
    is_str(str(named(ag_json_get(post, "interfaces"), "Node"), "kind"), "INTERFACE",
           "Post implements Node");
    ok(ag_json_get(post, "enumValues") == NULL && ag_json_get(post, "inputFields") == NULL,
       "enumValues/inputFields null on an object");

    ag_json_t *conn = named(types, "PostConnection");
    ag_json_t *et = ag_json_get(named(ag_json_get(conn, "fields"), "edges"), "type");
    is_str(str(et, "kind"), "NON_NULL", "[PostEdge!]! outer NON_NULL");
    is_str(str(ag_json_get(et, "ofType"), "kind"), "LIST", "then LIST");
    is_str(str(ag_json_get(ag_json_get(et, "ofType"), "ofType"), "kind"), "NON_NULL",
           "then NON_NULL");
    is_str(str(ag_json_get(ag_json_get(ag_json_get(et, "ofType"), "ofType"), "ofType"), "name"),
           "PostEdge", "then PostEdge");

    ag_json_t *q = named(types, "Query");
    ag_json_t *cp = named(ag_json_get(q, "fields"), "channelPosts");
    ag_json_t *first = named(ag_json_get(cp, "args"), "first");
    is_str(str(first, "defaultValue"), "20", "argument default value as GraphQL text");
    is_str(str(first, "description"), "Page size.", "argument description");
    ok(named(ag_json_get(q, "fields"), "__schema") == NULL, "meta fields are not listed");
    is_str(str(named(ag_json_get(named(ag_json_get(q, "fields"), "echo"), "args"), "e"),
               "defaultValue"),
           "RED", "enum default value");

    is_str(str(named(types, "DateTime"), "specifiedByURL"),
           "https://www.rfc-editor.org/rfc/rfc3339", "specifiedByURL");
    ag_json_t *color = named(types, "Color");
    ag_json_t *blue = named(ag_json_get(color, "enumValues"), "BLUE");
    ok(blue && ag_json_as_bool(ag_json_get(blue, "isDeprecated")),
       "deprecated enum value included");
    ag_json_t *filter = named(types, "Filter");
    is_str(str(named(ag_json_get(filter, "inputFields"), "limit"), "defaultValue"), "5",
           "input field default");
    ok(ag_json_has(filter, "isOneOf") && !ag_json_as_bool(ag_json_get(filter, "isOneOf")),
       "isOneOf false on input objects");
    is_int(ag_json_len(ag_json_get(named(types, "Node"), "possibleTypes")), 2,
           "interface possibleTypes");
    is_int(ag_json_len(ag_json_get(named(types, "SearchResult"), "possibleTypes")), 2,
           "union possibleTypes");

    ag_json_t *dirs = ag_json_get(sc, "directives");
    ag_json_t *skip = named(dirs, "skip");
    is_str(ag_json_dump(ag_json_get(skip, "locations"), NULL),
           "[\"FIELD\",\"FRAGMENT_SPREAD\",\"INLINE_FRAGMENT\"]", "@skip locations");
    ag_json_t *ifarg = named(ag_json_get(skip, "args"), "if");
    is_str(str(ag_json_get(ifarg, "type"), "kind"), "NON_NULL", "@skip(if: Boolean!)");
    ok(ag_json_has(skip, "isRepeatable") && !ag_json_as_bool(ag_json_get(skip, "isRepeatable")),
       "isRepeatable");
    is_str(str(named(ag_json_get(named(dirs, "deprecated"), "args"), "reason"), "defaultValue"),
           "\"No longer supported\"", "@deprecated reason default");
    ok(named(dirs, "specifiedBy") != NULL, "@specifiedBy listed");
}

static void
test_type_lookup(void)
{
    ag_json_t *res = run("{ __type(name: \"Post\") { name kind fields { name } } n: __type(name: "
                         "\"Nope\") { name } }");
    ag_json_t *t = ag_json_get(ag_json_get(res, "data"), "__type");
    is_str(str(t, "name"), "Post", "__type(name:)");
    ok(named(ag_json_get(t, "fields"), "old") == NULL, "deprecated fields hidden by default");
    ok(named(ag_json_get(t, "fields"), "body") != NULL, "other fields listed");
    ok(ag_json_has(ag_json_get(res, "data"), "n") &&
           ag_json_get(ag_json_get(res, "data"), "n") == NULL,
       "unknown type is null");
    res = run("{ __type(name: \"Color\") { enumValues { name } } }");
    is_str(ag_json_dump(res, NULL),
           "{\"data\":{\"__type\":{\"enumValues\":[{\"name\":\"RED\"},{\"name\":\"GREEN\"}]}}}",
           "deprecated enum values hidden by default");
    res = run("{ me { __schema { description } } }");
    ok(ag_json_has(res, "errors") && !ag_json_has(res, "data"), "__schema only on the query root");
}

static void
test_schema_print(void)
{
    ag_graphql_schema_t *s = ag_graphql_schema_new("Agora test schema.");
    ag_graphql_type_t   *t;
    ag_graphql_field_t  *f;
    ag_buf_t             b;
    char                 err[128] = "";

    ag_graphql_scalar(s, "DateTime", "RFC 3339 string, UTC", "https://example.com/rfc3339");
    t = ag_graphql_object(s, "User", "A member.\nSecond line.");
    ag_graphql_field(t, "id", "ID!", NULL, NULL, NULL);
    ag_graphql_field(t, "username", "String!", "Unique handle.", NULL, NULL);
    t = ag_graphql_object(s, "Query", NULL);
    ag_graphql_field(t, "me", "User", "The signed-in user.", NULL, NULL);
    f = ag_graphql_field(t, "users", "[User!]!", NULL, NULL, NULL);
    ag_graphql_arg(f, "first", "Int", "20", NULL);
    ag_graphql_arg(f, "after", "String", NULL, NULL);
    f = ag_graphql_field(t, "search", "[User!]!", NULL, NULL, NULL);
    ag_graphql_arg(f, "query", "String!", NULL, "Words to find.");
    f = ag_graphql_field(t, "old", "String", NULL, NULL, NULL);
    ag_graphql_deprecate(f, "Use me.");
    t = ag_graphql_enum(s, "Color", NULL);
    ag_graphql_enum_value(t, "RED", NULL, NULL);
    ag_graphql_enum_value(t, "GREEN", NULL, "No longer supported");
    t = ag_graphql_input(s, "Filter", NULL);
    ag_graphql_input_field(t, "text", "String!", NULL, NULL);
    ag_graphql_input_field(t, "limit", "Int", "5", NULL);
    t = ag_graphql_union(s, "Result", NULL);
    ag_graphql_union_member(t, "User");
    ok(ag_graphql_schema_finish(s, err, sizeof(err)) == AG_OK, "print schema finishes (%s)", err);
    ag_buf_init(&b);
    ok(ag_graphql_schema_print(s, &b) == AG_OK, "schema prints");
    is_str(b.data,
           "\"\"\"Agora test schema.\"\"\"\n"
           "schema {\n  query: Query\n}\n"
           "\n"
           "\"\"\"RFC 3339 string, UTC\"\"\"\n"
           "scalar DateTime @specifiedBy(url: \"https://example.com/rfc3339\")\n"
           "\n"
           "\"\"\"\nA member.\nSecond line.\n\"\"\"\n"
           "type User {\n"
           "  id: ID!\n"
           "  \"\"\"Unique handle.\"\"\"\n"
           "  username: String!\n"
           "}\n"
           "\n"
           "type Query {\n"
           "  \"\"\"The signed-in user.\"\"\"\n"
           "  me: User\n"
           "  users(first: Int = 20, after: String): [User!]!\n"
           "  search(\n"
           "    \"\"\"Words to find.\"\"\"\n"
           "    query: String!\n"
           "  ): [User!]!\n"
           "  old: String @deprecated(reason: \"Use me.\")\n"
           "}\n"
           "\n"
           "enum Color {\n  RED\n  GREEN @deprecated\n}\n"
           "\n"
           "input Filter {\n  text: String!\n  limit: Int = 5\n}\n"
           "\n"
           "union Result = User\n",
           "SDL text");
    ag_buf_fini(&b);
    ag_graphql_schema_free(s);
}

static void
test_schema_errors(void)
{
    ag_graphql_schema_t *s = ag_graphql_schema_new(NULL);
    char                 err[256] = "";
    ag_graphql_type_t   *t = ag_graphql_object(s, "Query", NULL);
    ag_graphql_field(t, "a", "Nope!", NULL, NULL, NULL);
    ok(ag_graphql_schema_finish(s, err, sizeof(err)) == AG_ECONFIG, "unknown type refused");
    is_str(err, "Query.a: unknown type in \"Nope!\"", "message names the field");
    ag_graphql_schema_free(s);

    s = ag_graphql_schema_new(NULL);
    t = ag_graphql_object(s, "Query", NULL);
    ag_graphql_field(t, "a", "[Int", NULL, NULL, NULL);
    ag_graphql_object(s, "Query", NULL);
    ok(ag_graphql_schema_finish(s, err, sizeof(err)) == AG_ECONFIG, "malformed type refused");
    is_str(err, "a: malformed type \"[Int\"", "first error kept");
    ag_graphql_schema_free(s);

    s = ag_graphql_schema_new(NULL);
    t = ag_graphql_object(s, "Query", NULL);
    ag_graphql_arg(ag_graphql_field(t, "a", "Int", NULL, NULL, NULL), "x", "Int", "\"s\"", NULL);
    ok(ag_graphql_schema_finish(s, err, sizeof(err)) == AG_ECONFIG, "bad default refused");
    ag_graphql_schema_free(s);

    s = ag_graphql_schema_new(NULL);
    t = ag_graphql_interface(s, "Node", NULL);
    ag_graphql_field(t, "id", "ID!", NULL, NULL, NULL);
    t = ag_graphql_object(s, "Query", NULL);
    ag_graphql_implements(t, "Node");
    ag_graphql_field(t, "id", "ID", NULL, NULL, NULL);
    ok(ag_graphql_schema_finish(s, err, sizeof(err)) == AG_ECONFIG, "weaker field type refused");
    is_str(err, "Query.id must be of a subtype of Node.id's type", "implementation message");
    ag_graphql_schema_free(s);
}

int
main(void)
{
    S = fx_schema();
    A = ag_arena_new(0);
    test_full_introspection_query();
    test_type_lookup();
    test_schema_print();
    test_schema_errors();
    ag_arena_free(A);
    fx_free(S);
    return done_testing();
}
