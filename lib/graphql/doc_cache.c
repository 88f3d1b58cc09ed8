/*
 * lib/graphql/doc_cache.c — parsed and validated documents kept by query
 * text, so that a client sending the same query again (they all do: queries
 * are constants in client code) skips lexing, parsing and validation.
 *
 * Only documents that parsed and validated against the cache's schema are
 * kept; operation selection, the depth and cost limits, variables and
 * execution still run per request, so operationName and variables may differ
 * between requests of one cached text. A document is immutable after
 * validation (execution reads it, and only memoises type lookups that are
 * the same for every request), so requests share it. Bounded by entries and
 * bytes, least recently used out first. One thread, like the schema's users.
 */
#include "graphql/graphql_int.h"

#include <stdlib.h>
#include <string.h>

typedef struct entry {
    struct entry           *next_hash;   /* bucket chain */
    struct entry           *prev, *next; /* LRU list, most recent first */
    uint64_t                hash;
    size_t                  len;
    int                     max_nesting; /* parsed under this limit */
    char                   *text;        /* the query, in arena */
    ag_graphql__document_t *doc;         /* in arena */
    ag_arena_t             *arena;
    size_t                  bytes;
} entry_t;

struct ag_graphql_doc_cache {
    const ag_graphql_schema_t   *schema;
    size_t                       max_entries, max_bytes;
    size_t                       n, bytes;
    size_t                       nbuckets;
    entry_t                    **buckets;
    entry_t                     *head, *tail;
    ag_graphql_doc_cache_stats_t stats;
};

static uint64_t
text_hash(const char *s, size_t n)
{
    uint64_t h = 0xcbf29ce484222325u; /* FNV-1a */
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)s[i]) * 0x100000001b3u;
    return h;
}

ag_graphql_doc_cache_t *
ag_graphql_doc_cache_new(const ag_graphql_schema_t *s, size_t max_entries, size_t max_bytes)
{
    ag_graphql_doc_cache_t *c = calloc(1, sizeof(*c));
    if (c == NULL)
        return NULL;
    c->schema = s;
    c->max_entries = max_entries ? max_entries : 1;
    c->max_bytes = max_bytes;
    c->nbuckets = 64;
    while (c->nbuckets < c->max_entries)
        c->nbuckets *= 2;
    if ((c->buckets = calloc(c->nbuckets, sizeof(*c->buckets))) == NULL) {
        free(c);
        return NULL;
    }
    return c;
}

static void
unlink_lru(ag_graphql_doc_cache_t *c, entry_t *e)
{
    if (e->prev)
        e->prev->next = e->next;
    else
        c->head = e->next;
    if (e->next)
        e->next->prev = e->prev;
    else
        c->tail = e->prev;
    e->prev = e->next = NULL;
}

static void
push_front(ag_graphql_doc_cache_t *c, entry_t *e)
{
    e->next = c->head;
    if (c->head)
        c->head->prev = e;
    c->head = e;
    if (c->tail == NULL)
        c->tail = e;
}

static void
evict(ag_graphql_doc_cache_t *c, entry_t *e)
{
    entry_t **pp = &c->buckets[e->hash & (c->nbuckets - 1)];
    while (*pp != e)
        pp = &(*pp)->next_hash;
    *pp = e->next_hash;
    unlink_lru(c, e);
    c->n--;
    c->bytes -= e->bytes;
    c->stats.evictions++;
    ag_arena_free(e->arena); /* the entry itself lives in its arena */
}

void
ag_graphql_doc_cache_free(ag_graphql_doc_cache_t *c)
{
    if (c == NULL)
        return;
    while (c->tail)
        evict(c, c->tail);
    free(c->buckets);
    free(c);
}

ag_graphql_doc_cache_stats_t
ag_graphql_doc_cache_stats(const ag_graphql_doc_cache_t *c)
{
    ag_graphql_doc_cache_stats_t st = c->stats;
    st.entries = c->n;
    st.bytes = c->bytes;
    return st;
}

ag_graphql__document_t *
ag_graphql__doc_cache_get(ag_graphql_doc_cache_t *c, const ag_graphql_schema_t *s, const char *text,
                          size_t len, int max_nesting)
{
    if (c == NULL || s != c->schema)
        return NULL;
    uint64_t h = text_hash(text, len);
    for (entry_t *e = c->buckets[h & (c->nbuckets - 1)]; e; e = e->next_hash)
        if (e->hash == h && e->len == len && e->max_nesting == max_nesting &&
            memcmp(e->text, text, len) == 0) {
            unlink_lru(c, e);
            push_front(c, e);
            c->stats.hits++;
            return e->doc;
        }
    c->stats.misses++;
    return NULL;
}

/*
 * Validate the copy again (it passed as the request's copy, so no error):
 * validation resolves the names execution follows (a spread's fragment, a
 * field's definition). Its scratch memory is not kept.
 */
static bool
resolve(const ag_graphql_schema_t *s, ag_graphql__document_t *doc)
{
    ag_graphql__errlist_t el = {.arena = ag_arena_new(0)};
    bool                  ok;

    if (el.arena == NULL)
        return false;
    ag_graphql__validate(s, doc, &el);
    ok = el.n == 0 && !el.nomem;
    ag_arena_free(el.arena);
    return ok;
}

/*
 * Keep a valid document: parse text again into an arena of the entry's own
 * (the request's copy dies with the request arena). A document too big for
 * the byte bound is not kept.
 */
void
ag_graphql__doc_cache_put(ag_graphql_doc_cache_t *c, const ag_graphql_schema_t *s, const char *text,
                          size_t len, int max_nesting)
{
    ag_graphql__document_t *doc = NULL;
    const char             *msg = NULL;
    ag_graphql__loc_t       loc;
    ag_arena_t             *a;
    entry_t                *e;

    if (c == NULL || s != c->schema)
        return;
    if ((a = ag_arena_new(len * 8 + 1024)) == NULL)
        return;
    if ((e = ag_arena_calloc(a, sizeof(*e))) == NULL ||
        (e->text = ag_arena_alloc(a, len + 1)) == NULL)
        goto fail;
    memcpy(e->text, text, len);
    e->text[len] = '\0';
    /* parsed from the entry's own copy: every name in the tree points into the arena */
    if (ag_graphql__parse(a, e->text, len, max_nesting, &doc, &msg, &loc) != AG_OK ||
        !resolve(s, doc))
        goto fail;
    e->doc = doc;
    e->len = len;
    e->hash = text_hash(text, len);
    e->max_nesting = max_nesting;
    e->arena = a;
    e->bytes = ag_arena_used(a);
    if (c->max_bytes && e->bytes > c->max_bytes)
        goto fail;
    while (c->n >= c->max_entries || (c->max_bytes && c->bytes + e->bytes > c->max_bytes))
        evict(c, c->tail);
    e->next_hash = c->buckets[e->hash & (c->nbuckets - 1)];
    c->buckets[e->hash & (c->nbuckets - 1)] = e;
    push_front(c, e);
    c->n++;
    c->bytes += e->bytes;
    return;
fail:
    ag_arena_free(a);
}
