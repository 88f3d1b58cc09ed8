/*
 * tests/unit/graphql/test_graphql_overlap.c — OverlappingFieldsCanBeMerged
 * against the reference: overlap/cases.txt holds random documents (aliases,
 * arguments, inline and named fragments over interfaces, unions and objects,
 * overlap/schema.graphql) with graphql-js 16.15's verdict on each, made by
 * overlap/generate.py and overlap/verdicts.js. The engine must reach the
 * same verdict on every one.
 */
#include "graphql/graphql_int.h"
#include "tap.h"

#include <stdlib.h>

static ag_graphql_schema_t *
schema(void)
{
    ag_graphql_schema_t *s = ag_graphql_schema_new(NULL);
    ag_graphql_type_t   *t;
    char                 err[128];

    t = ag_graphql_interface(s, "I", NULL);
    ag_graphql_field(t, "id", "ID", NULL, NULL, NULL);
    for (int k = 0; k < 2; k++) { /* A and B: the same fields but n's type and a/b */
        t = ag_graphql_object(s, k ? "B" : "A", NULL);
        ag_graphql_implements(t, "I");
        ag_graphql_field(t, "id", "ID", NULL, NULL, NULL);
        ag_graphql_field(t, "child", "C", NULL, NULL, NULL);
        ag_graphql_field(t, "kids", "[C]", NULL, NULL, NULL);
        ag_graphql_field(t, "n", k ? "String" : "Int", NULL, NULL, NULL);
        ag_graphql_field(t, "s", "String", NULL, NULL, NULL);
        ag_graphql_field(t, k ? "b" : "a", k ? "B" : "A", NULL, NULL, NULL);
        ag_graphql_arg(ag_graphql_field(t, "f", "Int", NULL, NULL, NULL), "x", "Int", NULL, NULL);
    }
    t = ag_graphql_object(s, "C", NULL);
    ag_graphql_field(t, "v", "Int", NULL, NULL, NULL);
    ag_graphql_field(t, "s", "String", NULL, NULL, NULL);
    ag_graphql_field(t, "c", "C", NULL, NULL, NULL);
    ag_graphql_arg(ag_graphql_field(t, "f", "Int", NULL, NULL, NULL), "x", "Int", NULL, NULL);
    t = ag_graphql_union(s, "U", NULL);
    ag_graphql_union_member(t, "A");
    ag_graphql_union_member(t, "B");
    t = ag_graphql_object(s, "Query", NULL);
    ag_graphql_field(t, "i", "I", NULL, NULL, NULL);
    ag_graphql_field(t, "a", "A", NULL, NULL, NULL);
    ag_graphql_field(t, "b", "B", NULL, NULL, NULL);
    ag_graphql_field(t, "u", "U", NULL, NULL, NULL);
    ag_graphql_field(t, "c", "C", NULL, NULL, NULL);
    if (ag_graphql_schema_finish(s, err, sizeof(err)) != AG_OK) {
        fprintf(stderr, "overlap schema: %s\n", err);
        exit(1);
    }
    return s;
}

/* "conflict" or "ok" for a document; another error than a conflict or an unused fragment: it. */
static const char *
verdict(ag_graphql_schema_t *s, ag_arena_t *a, const char *q)
{
    ag_graphql__document_t *doc = NULL;
    ag_graphql__errlist_t   el = {.arena = a};
    const char             *msg, *other = NULL;
    ag_graphql__loc_t       loc;
    bool                    conflict = false;

    if (ag_graphql__parse(a, q, strlen(q), 0, &doc, &msg, &loc) != AG_OK)
        return msg;
    ag_graphql__validate(s, doc, &el);
    for (const ag_graphql__err_t *e = el.head; e; e = e->next) {
        if (strstr(e->message, " conflict because "))
            conflict = true;
        else if (strstr(e->message, "is never used") == NULL)
            other = e->message;
    }
    return other ? other : conflict ? "conflict" : "ok";
}

int
main(void)
{
    ag_graphql_schema_t *s = schema();
    ag_arena_t          *a = ag_arena_new(0);
    FILE                *f = fopen(OVERLAP_CASES, "r");
    char                 line[4096];
    int                  n[2] = {0, 0}, wrong[2] = {0, 0};

    ok(f != NULL, "the cases: %s", OVERLAP_CASES);
    while (f && fgets(line, sizeof(line), f)) {
        char *tab = strchr(line, '\t'), *nl = strchr(line, '\n');
        if (tab == NULL)
            continue;
        *tab = '\0';
        if (nl)
            *nl = '\0';
        int         k = strcmp(line, "conflict") == 0;
        const char *got = verdict(s, a, tab + 1);
        n[k]++;
        if (strcmp(got, line) != 0 && wrong[0] + wrong[1] < 10)
            printf("# want %s, got %s: %s\n", line, got, tab + 1);
        wrong[k] += strcmp(got, line) != 0;
        ag_arena_reset(a);
    }
    ok(n[1] > 100 && wrong[1] == 0, "%d of %d documents graphql-js refuses are refused",
       n[1] - wrong[1], n[1]);
    ok(n[0] > 100 && wrong[0] == 0, "%d of %d documents graphql-js accepts are accepted",
       n[0] - wrong[0], n[0]);
    if (f)
        fclose(f);
    ag_arena_free(a);
    ag_graphql_schema_free(s);
    return done_testing();
}
