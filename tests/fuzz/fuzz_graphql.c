/*
 * tests/fuzz/fuzz_graphql.c — libFuzzer target: the input is a GraphQL
 * document run through parse, validation and execution against a tiny
 * in-memory schema (JSON data, a list, an interface, a failing field).
 * Not wired into the build; for example:
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -Ilib tests/fuzz/fuzz_graphql.c \
 *       lib/graphql/[a-z]*.c lib/core/[a-z]*.c lib/json/json.c -ljson-c -lm -o fuzz_graphql
 *   ./fuzz_graphql tests/fuzz/corpus/graphql
 */
#include "graphql/graphql.h"

#include <stdlib.h>
#include <string.h>

static ag_graphql_schema_t *schema;
static ag_json_t           *data;

static ag_status_t
root(const ag_graphql_value_t *p, ag_graphql_info_t *info, ag_graphql_value_t *out)
{
    *out = ag_graphql_json(ag_json_get(data, info->field_name));
    if (strcmp(info->field_name, "node") == 0)
        out->type_name = "Item";
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
    const char *json = "{\"items\":[{\"id\":\"1\",\"n\":1,\"tags\":[\"a\"]},{\"id\":\"2\",\"n\":2,"
                       "\"tags\":[]}],\"node\":{\"id\":\"1\",\"n\":1},\"text\":\"hi\"}";
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
    t = ag_graphql_enum(schema, "Kind", NULL);
    ag_graphql_enum_value(t, "A", NULL, NULL);
    ag_graphql_enum_value(t, "B", NULL, NULL);
    t = ag_graphql_input(schema, "In", NULL);
    ag_graphql_input_field(t, "k", "Kind", "A", NULL);
    t = ag_graphql_object(schema, "Query", NULL);
    f = ag_graphql_field(t, "items", "[Item!]!", NULL, root, NULL);
    ag_graphql_arg(f, "first", "Int", "20", NULL);
    ag_graphql_arg(f, "filter", "In", NULL, NULL);
    f = ag_graphql_field(t, "node", "Node", NULL, root, NULL);
    ag_graphql_arg(f, "id", "ID!", NULL, NULL);
    ag_graphql_field(t, "text", "String", NULL, root, NULL);
    t = ag_graphql_object(schema, "Mutation", NULL);
    ag_graphql_field(t, "text", "String", NULL, root, NULL);
    if (ag_graphql_schema_finish(schema, err, sizeof(err)) != AG_OK)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *buf, size_t len);

int
LLVMFuzzerTestOneInput(const uint8_t *buf, size_t len)
{
    static ag_arena_t   *arena;
    ag_json_t           *res = NULL, *vars;
    ag_graphql_phase_t   phase;
    ag_graphql_options_t opts = {.max_doc_bytes = 1 << 20};
    char                 err[64];

    if (schema == NULL) {
        setup();
        arena = ag_arena_new(0);
    }
    /* a document followed by "\0" and JSON gives variables too */
    const char *nul = memchr(buf, 0, len);
    size_t      qlen = nul ? (size_t)(nul - (const char *)buf) : len;
    vars =
        nul ? ag_json_on_arena(arena, ag_json_parse(nul + 1, len - qlen - 1, 16, err, sizeof(err)))
            : NULL;
    if (ag_graphql_execute(schema, arena, (const char *)buf, qlen, vars, NULL, NULL, &opts, &res,
                           &phase) == AG_OK &&
        res != NULL)
        (void)ag_json_dump(res, NULL);
    ag_arena_reset(arena);
    return 0;
}
