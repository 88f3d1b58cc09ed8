/*
 * lib/graphql/collect.c — spec CollectFields, shared by the limits walk and
 * execution: the limits walk collects every selection set once for the
 * static type of its position and execution runs the same groups, so what
 * was measured is what runs. Everything is request memory (the arena).
 *
 * Linear in what is collected: a spread names its fragment directly (the
 * validator resolved it), a fragment is expanded at most once per
 * collection (a stamp per fragment, not a list of names searched each
 * time), and groups are found by a hash of their key once there are more
 * than a few.
 */
#include "graphql/graphql_int.h"

#include <string.h>

#define INDEX_FROM 8 /* below this many groups a scan is faster than hashing */

static unsigned
key_hash(const char *s)
{
    unsigned h = 2166136261u; /* FNV-1a */
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 16777619u;
    return h;
}

/* (Re)build the key index with room for twice the groups. */
static ag_status_t
index_build(ag_graphql_request_t *r, ag_graphql__groups_t *gs)
{
    size_t n = 16;
    while (n < gs->n * 2 + 2)
        n *= 2;
    uint32_t *slots = ag_arena_calloc(r->arena, n * sizeof(*slots));
    if (slots == NULL)
        return AG_ENOMEM;
    for (size_t i = 0; i < gs->n; i++) {
        size_t j = gs->g[i].hash & (n - 1);
        while (slots[j])
            j = (j + 1) & (n - 1);
        slots[j] = (uint32_t)i + 1;
    }
    gs->slots = slots;
    gs->n_slots = n;
    return AG_OK;
}

static ag_graphql__group_t *
group_find(ag_graphql__groups_t *gs, const char *key, unsigned h)
{
    if (gs->slots == NULL) {
        for (size_t i = 0; i < gs->n; i++)
            if (gs->g[i].hash == h && strcmp(gs->g[i].key, key) == 0)
                return &gs->g[i];
        return NULL;
    }
    for (size_t j = h & (gs->n_slots - 1); gs->slots[j]; j = (j + 1) & (gs->n_slots - 1)) {
        ag_graphql__group_t *g = &gs->g[gs->slots[j] - 1];
        if (g->hash == h && strcmp(g->key, key) == 0)
            return g;
    }
    return NULL;
}

static ag_graphql__group_t *
group_new(ag_graphql_request_t *r, ag_graphql__groups_t *gs, const char *key, unsigned h)
{
    if (gs->n == gs->cap) {
        size_t               ncap = gs->cap ? gs->cap * 2 : 8;
        ag_graphql__group_t *ng = ag_arena_alloc(r->arena, ncap * sizeof(*ng));
        if (ng == NULL)
            return NULL;
        if (gs->n)
            memcpy(ng, gs->g, gs->n * sizeof(*ng));
        gs->g = ng;
        gs->cap = ncap;
    }
    ag_graphql__group_t *g = &gs->g[gs->n++];
    memset(g, 0, sizeof(*g));
    g->key = key;
    g->hash = h;
    if (gs->n <= INDEX_FROM)
        return g;
    if (gs->n * 2 > gs->n_slots) /* none yet, or too full: rebuilt with the new group */
        return index_build(r, gs) == AG_OK ? g : NULL;
    size_t j = h & (gs->n_slots - 1);
    while (gs->slots[j])
        j = (j + 1) & (gs->n_slots - 1);
    gs->slots[j] = (uint32_t)gs->n;
    return g;
}

static ag_status_t
group_add(ag_graphql_request_t *r, ag_graphql__groups_t *gs, const ag_graphql__selection_t *sel)
{
    const char          *key = sel->alias ? sel->alias : sel->name;
    unsigned             h = key_hash(key);
    ag_graphql__group_t *g = group_find(gs, key, h);

    if (g == NULL && (g = group_new(r, gs, key, h)) == NULL)
        return AG_ENOMEM;
    if (g->n == g->cap) {
        size_t                          ncap = g->cap ? g->cap * 2 : 2;
        const ag_graphql__selection_t **nn = ag_arena_alloc(r->arena, ncap * sizeof(*nn));
        if (nn == NULL)
            return AG_ENOMEM;
        if (g->n)
            memcpy(nn, g->nodes, g->n * sizeof(*nn));
        g->nodes = nn;
        g->cap = ncap;
    }
    g->nodes[g->n++] = sel;
    return AG_OK;
}

/* DoesFragmentTypeApply with the condition the validator resolved. */
static bool
applies(const ag_graphql_schema_t *s, const ag_graphql_type_t *obj, const ag_graphql_type_t *cond,
        const char *cond_name)
{
    if (cond == NULL && cond_name)
        cond = ag_graphql__type_lookup(s, cond_name); /* not validated: impossible */
    return cond_name == NULL || (cond && ag_graphql__possible(cond, obj));
}

static ag_status_t
collect(ag_graphql_request_t *r, const ag_graphql_type_t *t, const ag_graphql__selset_t *set,
        ag_graphql__groups_t *gs)
{
    for (size_t i = 0; i < set->n; i++) {
        const ag_graphql__selection_t *sel = &set->items[i];
        ag_status_t                    st = AG_OK;

        r->stats.steps++;
        if (!ag_graphql__included(sel->dirs, sel->n_dirs, r->vars))
            continue;
        if (sel->kind == S_FIELD) {
            st = group_add(r, gs, sel);
        } else if (sel->kind == S_INLINE) {
            if (applies(r->schema, t, sel->cond, sel->type_cond))
                st = collect(r, t, sel->sel, gs);
        } else {
            const ag_graphql__fragment_t *fr = sel->frag;
            size_t                        k = fr ? (size_t)(fr - r->doc->frags) : 0;
            if (fr == NULL || r->frag_stamp[k] == r->stamp)
                continue; /* expanded already in this collection (spec: visitedFragments) */
            r->frag_stamp[k] = r->stamp;
            if (applies(r->schema, t, fr->type, fr->type_cond))
                st = collect(r, t, fr->sel, gs);
        }
        if (st != AG_OK)
            return st;
    }
    return AG_OK;
}

/* A new collection: fragments may be expanded again. */
static ag_status_t
begin(ag_graphql_request_t *r)
{
    size_t nf = r->doc->n_frags;
    if (nf && r->frag_stamp == NULL &&
        (r->frag_stamp = ag_arena_calloc(r->arena, nf * sizeof(*r->frag_stamp))) == NULL)
        return AG_ENOMEM;
    if (++r->stamp == 0 && nf) { /* wrapped after 4 billion collections: start over */
        memset(r->frag_stamp, 0, nf * sizeof(*r->frag_stamp));
        r->stamp = 1;
    }
    return AG_OK;
}

ag_status_t
ag_graphql__collect(ag_graphql_request_t *r, const ag_graphql_type_t *t,
                    const ag_graphql__selset_t *set, ag_graphql__groups_t *gs)
{
    ag_status_t st = begin(r);
    return st == AG_OK ? collect(r, t, set, gs) : st;
}

/*
 * The merged sub-selections of every node of a group, for object type t.
 * They depend only on the document, the variables and t, all fixed for the
 * request, so they are kept on the group: the `node` group of a list's edges
 * is one group for all its items, and each item's node reuses the collection
 * (and the "key": texts made for it) instead of collecting it again.
 */
ag_status_t
ag_graphql__collect_sub(ag_graphql_request_t *r, const ag_graphql_type_t *t,
                        const ag_graphql__group_t *g_in, ag_graphql__groups_t *out)
{
    ag_graphql__group_t *g = (ag_graphql__group_t *)g_in; /* request memory; memo fields only */
    ag_status_t          st;

    if (g->sub && g->sub_type == t) {
        *out = *g->sub;
        return AG_OK;
    }
    memset(out, 0, sizeof(*out));
    if ((st = begin(r)) != AG_OK)
        return st;
    for (size_t i = 0; i < g->n; i++)
        if (g->nodes[i]->sel && (st = collect(r, t, g->nodes[i]->sel, out)) != AG_OK)
            return st;
    if (g->sub == NULL && (g->sub = ag_arena_alloc(r->arena, sizeof(*g->sub))) == NULL)
        return AG_ENOMEM;
    *g->sub = *out;
    g->sub_type = t;
    return AG_OK;
}

const ag_graphql_field_t *
ag_graphql__group_lookup(ag_graphql_request_t *r, const ag_graphql_type_t *t,
                         const ag_graphql__group_t *g_in)
{
    ag_graphql__group_t      *g = (ag_graphql__group_t *)g_in; /* request memory; memo fields */
    const ag_graphql_field_t *d = g->nodes[0]->def;

    /* the validator's definition holds when t is the node's static type */
    g->field = d && d->owner == t ? d : ag_graphql__field_lookup(r->schema, t, g->nodes[0]->name);
    g->field_type = t;
    return g->field;
}
