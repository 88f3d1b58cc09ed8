/*
 * lib/graphql/validate_int.h — what validate.c (the walk and the
 * document-level rules) shares with validate_overlap.c
 * (OverlappingFieldsCanBeMerged): the validation context, the budget of
 * combinatorial work, and the error macro.
 */
#ifndef AG_GRAPHQL_VALIDATE_INT_H
#define AG_GRAPHQL_VALIDATE_INT_H

#include "graphql/graphql_int.h"

#include <string.h>

typedef struct {
    const char               *name;
    const ag_graphql__tref_t *type;        /* expected at the position */
    bool                      has_default; /* the position has a default value */
    ag_graphql__loc_t         loc;
    const ag_graphql_type_t  *one_of; /* the value of a field of this OneOf input object */
} usage_t;

/* What one definition (operation or fragment) uses. */
typedef struct {
    usage_t *uses;
    size_t   n_uses, cap_uses;
    size_t  *spreads; /* fragment indices */
    size_t   n_spreads, cap_spreads;
} rec_t;

/* A selection set and the static type of its position. */
typedef struct {
    const ag_graphql__selset_t *set;
    const ag_graphql_type_t    *type;
} setref_t;

typedef struct {
    const ag_graphql_schema_t *s;
    ag_graphql__document_t    *doc;
    ag_graphql__errlist_t     *el;
    ag_arena_t                *a;
    rec_t                     *frag_recs;  /* parallel to doc->frags */
    size_t                    *frag_order; /* fragment indices by (name, index) */
    setref_t                  *sets;       /* every selection set the walk visited */
    size_t                     n_sets, cap_sets;
    long                       nodes; /* selections in the document */
    /* per fragment: the last collection (overlap) or operation (variables) that reached it */
    uint32_t *stamp;
    uint32_t  cur;
    /* the work that depends on how the document combines its parts, and its bound */
    long work, budget;
    bool over;
    /* OverlappingFieldsCanBeMerged: the fields of the collections being compared,
     * one segment per collection, nested ones after their callers' */
    struct ent *ents;
    size_t      n_ents, cap_ents;
    uint32_t    next_origin;
} vctx_t;

/*
 * The combinatorial work a document may ask of validation. A real client's
 * document needs about one step per selection (the introspection query 226
 * for 200); a 256 KiB document that needs more than the budget takes about
 * 50 ms to refuse.
 */
#define BUDGET_BASE          20000
#define BUDGET_PER_SELECTION 16

#define ERR(v, l1, l2, ...)                                                                        \
    ag_graphql__err_add((v)->el, (l1), (l2), "validation_failed", __VA_ARGS__)

static inline bool
is_composite(const ag_graphql_type_t *t)
{
    return t->kind == K_OBJECT || t->kind == K_INTERFACE || t->kind == K_UNION;
}

static inline bool
spend(vctx_t *v, long n)
{
    if ((v->work += n) > v->budget)
        v->over = true;
    return !v->over && !v->el->nomem;
}

/* A new collection: each fragment expands at most once in it. */
static inline void
collection_begin(vctx_t *v)
{
    if (++v->cur == 0) {
        memset(v->stamp, 0, v->doc->n_frags * sizeof(*v->stamp));
        v->cur = 1;
    }
}

/* OverlappingFieldsCanBeMerged over every selection set the walk recorded (v->sets). */
void ag_graphql__check_overlaps(vctx_t *v);

#endif
