/*
 * tests/unit/graphql/test_graphql_doc_cache.c — the document cache
 * (lib/graphql/doc_cache.c): a repeated text is a hit and answers exactly as
 * an uncached prepare does, with other variables and other operationNames;
 * invalid documents are never kept; entries and bytes stay bounded (LRU).
 */
#include "gql_fixture.h"
#include "tap.h"

static ag_graphql_schema_t *S;
static ag_arena_t          *A;

/* One request through prepare (cached when c is non-NULL) + run; the result as JSON text. */
static const char *
run(ag_graphql_doc_cache_t *c, const char *q, const char *vars, const char *op)
{
    ag_graphql_request_t *r = NULL;
    ag_json_t            *res = NULL, *v = NULL;
    ag_graphql_phase_t    ph;

    ag_arena_reset(A);
    if (vars)
        v = ag_json_on_arena(A, fx_parse(vars));
    ag_status_t st = ag_graphql_prepare_cached(c, S, A, q, strlen(q), op, NULL, &r, &res);
    if (st == AG_OK)
        st = ag_graphql_run(r, v, NULL, &res, &ph);
    else if (st == AG_EBADREQ)
        st = AG_OK; /* res holds the errors */
    if (st != AG_OK)
        return ag_arena_printf(A, "status %s", ag_status_name(st));
    return ag_arena_strdup(A, ag_json_dump(res, NULL));
}

/* The cached answer equals the uncached one (both texts compared whole). */
static void
same(ag_graphql_doc_cache_t *c, const char *q, const char *vars, const char *op, const char *what)
{
    char *plain = strdup(run(NULL, q, vars, op));
    is_str(run(c, q, vars, op), plain, "%s", what);
    free(plain);
}

static void
test_hits_and_same_answers(void)
{
    ag_graphql_doc_cache_t *c = ag_graphql_doc_cache_new(S, 16, 0);
    const char             *q = "query U($id: ID!) { user(id: $id) { id username } }";

    same(c, q, "{\"id\":\"u1\"}", NULL, "first request (a miss) answers as without the cache");
    ag_graphql_doc_cache_stats_t st = ag_graphql_doc_cache_stats(c);
    ok(st.misses == 1 && st.hits == 0 && st.entries == 1, "the valid document is kept");
    same(c, q, "{\"id\":\"u2\"}", NULL, "a hit with other variables answers with those");
    same(c, q, "{\"id\":\"nobody\"}", NULL, "a hit with variables naming nothing: null");
    same(c, q, "{}", NULL, "a hit with a missing required variable: the same request error");
    st = ag_graphql_doc_cache_stats(c);
    ok(st.hits == 3 && st.entries == 1, "three hits, one entry (hits %lu)", st.hits);

    const char *two = "query A { me { id } } query B { user(id: \"u2\") { username } }";
    same(c, two, NULL, "A", "operationName A of a two-operation document");
    same(c, two, NULL, "B", "operationName B of the same cached document");
    same(c, two, NULL, "C", "an unknown operationName is still an error on a hit");
    same(c, two, NULL, NULL, "no operationName for two operations is still an error on a hit");
    ok(ag_graphql_doc_cache_stats(c).entries == 2, "one entry per text, whatever the operation");

    same(c, "{ me { id", NULL, NULL, "a syntax error is reported");
    same(c, "{ me { nosuchfield } }", NULL, NULL, "a validation error is reported");
    same(c, "{ me { nosuchfield } }", NULL, NULL, "and reported again");
    st = ag_graphql_doc_cache_stats(c);
    ok(st.entries == 2 && st.hits == 6, "invalid documents are never kept (entries %zu)",
       st.entries);
    char       *m1 = strdup(run(c, "mutation { incr }", NULL, NULL));
    const char *m2 = run(c, "mutation { incr }", NULL, NULL);
    ok(strstr(m1, "\"incr\"") && strstr(m2, "\"incr\"") && strcmp(m1, m2) != 0,
       "a cached mutation runs again on a hit: %s then %s", m1, m2);
    free(m1);
    ag_graphql_doc_cache_free(c);
}

static void
test_bounded(void)
{
    ag_graphql_doc_cache_t *c = ag_graphql_doc_cache_new(S, 8, 0);
    char                    q[128];
    int                     wrong = 0;

    for (int i = 0; i < 100; i++) {
        snprintf(q, sizeof(q), "{ a%d: user(id: \"u1\") { username } }", i);
        char *want = ag_arena_printf(A, "{\"data\":{\"a%d\":{\"username\":\"ada\"}}}", i);
        char *w = strdup(want);
        if (strcmp(run(c, q, NULL, NULL), w) != 0)
            wrong++;
        free(w);
    }
    ag_graphql_doc_cache_stats_t st = ag_graphql_doc_cache_stats(c);
    ok(wrong == 0, "100 distinct texts through an 8-entry cache all answer right (%d wrong)",
       wrong);
    ok(st.entries == 8 && st.evictions == 92, "entries stay at 8 (%zu), 92 evicted (%lu)",
       st.entries, st.evictions);
    /* least recently used goes first: touch the oldest survivor, add one, it stays */
    snprintf(q, sizeof(q), "{ a%d: user(id: \"u1\") { username } }", 92);
    run(c, q, NULL, NULL);
    run(c, "{ me { id } }", NULL, NULL);
    unsigned long hits = ag_graphql_doc_cache_stats(c).hits;
    run(c, q, NULL, NULL);
    ok(ag_graphql_doc_cache_stats(c).hits == hits + 1, "a recently used entry survives eviction");
    ag_graphql_doc_cache_free(c);

    /* the byte bound: small enough for a few documents only */
    c = ag_graphql_doc_cache_new(S, 1000, 16384);
    for (int i = 0; i < 200; i++) {
        snprintf(q, sizeof(q), "{ b%d: user(id: \"u2\") { id username displayName } }", i);
        run(c, q, NULL, NULL);
    }
    st = ag_graphql_doc_cache_stats(c);
    ok(st.bytes <= 16384 && st.entries > 0 && st.entries < 200,
       "memory stays under the byte bound (%zu bytes, %zu entries)", st.bytes, st.entries);
    ag_graphql_doc_cache_free(c);

    c = ag_graphql_doc_cache_new(S, 4, 0);
    /* a schema of its own (fx_schema() shares the fixture's data, freed by fx_free) */
    ag_graphql_schema_t *other = ag_graphql_schema_new(NULL);
    char                 serr[128];
    ag_graphql_type_t   *ot = ag_graphql_object(other, "User", NULL);
    ag_graphql_field(ot, "id", "ID!", NULL, NULL, NULL);
    ot = ag_graphql_object(other, "Query", NULL);
    ag_graphql_field(ot, "me", "User", NULL, fx_me, NULL);
    ok(ag_graphql_schema_finish(other, serr, sizeof(serr)) == AG_OK, "another schema built");
    ag_graphql_request_t *r = NULL;
    ag_json_t            *err = NULL;
    const char           *q2 = "{ me { id } }";
    ag_arena_reset(A);
    ag_graphql_prepare_cached(c, other, A, q2, strlen(q2), NULL, NULL, &r, &err);
    ok(ag_graphql_doc_cache_stats(c).entries == 0, "a document of another schema is not kept");
    ag_graphql_schema_free(other);
    ag_graphql_doc_cache_free(c);
    ag_graphql_doc_cache_free(NULL);
    ok(1, "freeing NULL is fine");
}

/* A cached document keeps what validation resolved: its spreads still reach their fragments. */
static void
test_cached_fragments(void)
{
    ag_graphql_doc_cache_t *c = ag_graphql_doc_cache_new(S, 16, 0);

    const char *frags = "{ me { ...F ... on User { displayName } } node(id: \"p1\") { ...P } } "
                        "fragment F on User { id ...G } fragment G on User { username } "
                        "fragment P on Post { body }";
    same(c, frags, NULL, NULL, "fragments: the first answer");
    same(c, frags, NULL, NULL, "fragments from the cached document: the same answer");
    ok(strstr(run(c, frags, NULL, NULL), "\"username\":\"ada\"") != NULL,
       "nested fragments run from the cached document");

    ok(ag_graphql_doc_cache_stats(c).hits == 2, "served from the cache");
    ag_graphql_doc_cache_free(c);
}

int
main(void)
{
    S = fx_schema();
    A = ag_arena_new(0);
    test_hits_and_same_answers();
    test_cached_fragments();
    test_bounded();
    ag_arena_free(A);
    fx_free(S);
    return done_testing();
}
