/*
 * lib/graphql/validate_overlap.c — OverlappingFieldsCanBeMerged, the one
 * validation rule whose work depends on how a document combines its parts;
 * run by validate.c over the selection sets its walk recorded.
 */
#include "graphql/validate_int.h"

#include <stdlib.h>
#include <string.h>

/* ---- OverlappingFieldsCanBeMerged --------------------------------------------------------
 * Spec 5.3.2 in full: fields with one response name in a selection set (its
 * fragments expanded) must be the same field with identical arguments unless
 * their parents are different object types, must have the same response
 * shape, and their sub-selections merged must satisfy the rule again (only
 * the shape where the parents exclude each other).
 *
 * Rather than every pair, each set is split into parts (each field of the set
 * itself, each inline fragment, each fragment spread with all it spreads),
 * and only fields of different parts are compared: a part's own fields are
 * the business of that part's own check (every selection set and fragment
 * of the document is checked once). Within a response name every field is
 * compared with the first and with the first of its parent type, which is
 * equivalent because "same name and arguments" and "same shape" are
 * equivalences. Merged sub-selections are checked the same way, each field's
 * sub-selection being a part. The comparisons are counted, and a document
 * that needs more than a budget proportional to its size is refused.
 */

typedef struct ent {
    const char                    *key;
    const ag_graphql__selection_t *sel;
    const ag_graphql_type_t       *parent;
    uint32_t                       part;
    uint32_t                       seq;
} ent_t;

/* The list grows in the arena (it lives as long as the validation). */
static void
ent_push(vctx_t *v, const ent_t *e)
{
    if (v->n_ents == v->cap_ents) {
        size_t ncap = v->cap_ents ? v->cap_ents * 2 : 64;
        ent_t *n = ag_arena_alloc(v->a, ncap * sizeof(*n));
        if (n == NULL) {
            v->el->nomem = true;
            return;
        }
        if (v->n_ents)
            memcpy(n, v->ents, v->n_ents * sizeof(*n));
        v->ents = n;
        v->cap_ents = ncap;
    }
    v->ents[v->n_ents++] = *e;
}

typedef struct {
    const ag_graphql__selset_t *set;
    const ag_graphql_type_t    *type;
} src_t;

/* The fields of set with its fragments expanded; each item a part of its own when own_parts. */
static void
expand(vctx_t *v, const ag_graphql__selset_t *set, const ag_graphql_type_t *parent, uint32_t part,
       bool own_parts, size_t start)
{
    for (size_t i = 0; i < set->n && spend(v, 1); i++) {
        const ag_graphql__selection_t *sel = &set->items[i];
        uint32_t                       p = own_parts ? v->next_origin++ : part;

        if (sel->kind == S_FIELD) {
            ent_t e = {sel->alias ? sel->alias : sel->name, sel, parent, p,
                       (uint32_t)(v->n_ents - start)};
            if (sel->def) /* an unknown field was reported already */
                ent_push(v, &e);
        } else if (sel->kind == S_INLINE) {
            const ag_graphql_type_t *t = sel->type_cond ? sel->cond : parent;
            if (t)
                expand(v, sel->sel, t, p, false, start);
        } else if (sel->frag && sel->frag->type && is_composite(sel->frag->type)) {
            size_t k = (size_t)(sel->frag - v->doc->frags);
            if (v->stamp[k] == v->cur)
                continue;
            v->stamp[k] = v->cur;
            expand(v, sel->frag->sel, sel->frag->type, p, false, start);
        }
    }
}

static int
ent_cmp(const void *x, const void *y)
{
    const ent_t *a = x, *b = y;
    int          c = strcmp(a->key, b->key);
    return c ? c : a->seq < b->seq ? -1 : a->seq > b->seq;
}

static bool
value_equal(const ag_graphql__value_t *a, const ag_graphql__value_t *b)
{
    if (a->kind != b->kind)
        return false;
    switch (a->kind) {
    case V_BOOL:
        return a->b == b->b;
    case V_NULL:
        return true;
    case V_STRING:
        return a->len == b->len && memcmp(a->str, b->str, a->len) == 0;
    case V_LIST:
        if (a->n != b->n)
            return false;
        for (size_t i = 0; i < a->n; i++)
            if (!value_equal(a->u.items[i], b->u.items[i]))
                return false;
        return true;
    case V_OBJECT: /* as printed: the same fields in the same order */
        if (a->n != b->n)
            return false;
        for (size_t i = 0; i < a->n; i++)
            if (strcmp(a->u.fields[i].name, b->u.fields[i].name) != 0 ||
                !value_equal(a->u.fields[i].value, b->u.fields[i].value))
                return false;
        return true;
    default: /* variables, numbers and enums: their text */
        return strcmp(a->str, b->str) == 0;
    }
}

static int
arg_cmp(const void *x, const void *y)
{
    return strcmp((*(const ag_graphql__arg_t *const *)x)->name,
                  (*(const ag_graphql__arg_t *const *)y)->name);
}

/* The same arguments, in any order (UniqueArgumentNames holds for both). */
static bool
same_args(vctx_t *v, const ag_graphql__selection_t *a, const ag_graphql__selection_t *b)
{
    size_t n = a->n_args;

    if (n != b->n_args)
        return false;
    if (n <= 8) {
        for (size_t i = 0; i < n; i++) {
            const ag_graphql__arg_t *m = NULL;
            for (size_t j = 0; j < n && !m; j++)
                if (strcmp(a->args[i].name, b->args[j].name) == 0)
                    m = &b->args[j];
            if (m == NULL || !value_equal(a->args[i].value, m->value))
                return false;
        }
        return true;
    }
    const ag_graphql__arg_t **x = ag_arena_alloc(v->a, 2 * n * sizeof(*x)), **y = x + n;
    if (x == NULL) {
        v->el->nomem = true;
        return true;
    }
    spend(v, (long)n);
    for (size_t i = 0; i < n; i++) {
        x[i] = &a->args[i];
        y[i] = &b->args[i];
    }
    qsort(x, n, sizeof(*x), arg_cmp);
    qsort(y, n, sizeof(*y), arg_cmp);
    for (size_t i = 0; i < n; i++)
        if (strcmp(x[i]->name, y[i]->name) != 0 || !value_equal(x[i]->value, y[i]->value))
            return false;
    return true;
}

/* SameResponseShape of the two fields' types (sub-selections aside), or a reason. */
static const char *
shape_conflict(vctx_t *v, const ag_graphql__tref_t *ta, const ag_graphql__tref_t *tb)
{
    const ag_graphql__tref_t *a = ta, *b = tb;

    while (a->kind != T_NAMED || b->kind != T_NAMED) {
        if ((a->kind == T_NONNULL) != (b->kind == T_NONNULL) ||
            (a->kind == T_LIST) != (b->kind == T_LIST))
            goto conflict;
        a = a->of;
        b = b->of;
    }
    if ((ag_graphql__is_leaf(a->type) || ag_graphql__is_leaf(b->type)) && a->type != b->type)
        goto conflict;
    return NULL;
conflict:
    return ag_arena_printf(v->a, "they return conflicting types \"%s\" and \"%s\"",
                           ag_graphql__tref_str(v->a, ta), ag_graphql__tref_str(v->a, tb));
}

/* Parents that can never be the same object: only the shapes must agree. */
static bool
exclusive(const ent_t *a, const ent_t *b)
{
    return a->parent != b->parent && a->parent->kind == K_OBJECT && b->parent->kind == K_OBJECT;
}

/* The conflict of one pair of fields (not their sub-selections), or NULL. */
static const char *
pair_conflict(vctx_t *v, const ent_t *a, const ent_t *b, bool shape_only)
{
    if (!shape_only && !exclusive(a, b)) {
        if (strcmp(a->sel->name, b->sel->name) != 0)
            return ag_arena_printf(v->a, "\"%s\" and \"%s\" are different fields", a->sel->name,
                                   b->sel->name);
        if (!same_args(v, a->sel, b->sel))
            return "they have differing arguments";
    }
    return shape_conflict(v, a->sel->def->type, b->sel->def->type);
}

static const char *merged_conflict(vctx_t *v, const src_t *srcs, size_t n, bool shape_only);

/* The sub-selections of the group's fields that pass keep() as parts of one merged set. */
static const char *
subs_conflict(vctx_t *v, const ent_t *e, size_t m, bool shape_only, const ag_graphql_type_t *only,
              bool with_abstract)
{
    src_t *srcs = ag_arena_alloc(v->a, m * sizeof(*srcs));
    size_t n = 0;

    if (srcs == NULL) {
        v->el->nomem = true;
        return NULL;
    }
    for (size_t i = 0; i < m; i++) {
        const ag_graphql_type_t *nt = ag_graphql__named(e[i].sel->def->type);
        bool                     keep =
            only == NULL || e[i].parent == only || (with_abstract && e[i].parent->kind != K_OBJECT);
        if (keep && e[i].sel->sel && nt && is_composite(nt))
            srcs[n++] = (src_t){e[i].sel->sel, nt};
    }
    return n > 1 ? merged_conflict(v, srcs, n, shape_only) : NULL;
}

/* The distinct object types among the fields' parents (at most the schema's types). */
typedef struct {
    const ag_graphql_type_t **t;
    size_t                   *first; /* the first field of each */
    size_t                    n;
} parents_t;

static bool
parents_of(vctx_t *v, const ent_t *e, size_t m, parents_t *p)
{
    p->n = 0;
    p->t = ag_arena_alloc(v->a, m * sizeof(*p->t));
    p->first = ag_arena_alloc(v->a, m * sizeof(*p->first));
    if (p->t == NULL || p->first == NULL) {
        v->el->nomem = true;
        return false;
    }
    for (size_t i = 0; i < m; i++) {
        size_t k = 0;
        if (e[i].parent->kind != K_OBJECT)
            continue;
        while (k < p->n && p->t[k] != e[i].parent)
            k++;
        if (k == p->n) {
            p->t[p->n] = e[i].parent;
            p->first[p->n++] = i;
        }
    }
    return true;
}

/*
 * The fields of one response name, e[0..m) in document order: the reason of
 * the first conflict with the pair in *a, *b, or NULL.
 */
static const char *
group_conflict(vctx_t *v, const ent_t *in, size_t m, bool shape_only, size_t *a, size_t *b)
{
    size_t      u = SIZE_MAX; /* a field of an interface or union: all must match it */
    parents_t   p;
    const char *why;
    size_t      other = 0;
    ent_t      *e;

    for (size_t i = 1; i < m && !other; i++)
        if (in[i].part != in[0].part)
            other = i;
    if (other == 0)
        return NULL; /* one part: its own check covers it */
    /* a copy: the comparisons of sub-selections below grow the shared list */
    if ((e = ag_arena_alloc(v->a, m * sizeof(*e))) == NULL) {
        v->el->nomem = true;
        return NULL;
    }
    memcpy(e, in, m * sizeof(*e));
    *a = 0;
    *b = other;
    for (size_t i = 0; i < m && u == SIZE_MAX; i++)
        if (e[i].parent->kind != K_OBJECT)
            u = i;
    if (!parents_of(v, e, m, &p))
        return NULL;
    for (size_t i = 1; i < m && spend(v, 1); i++) {
        size_t rep = u;
        for (size_t k = 0; rep == SIZE_MAX && k < p.n; k++)
            if (p.t[k] == e[i].parent)
                rep = p.first[k];
        /* the name and arguments against those it must merge with, then the shape */
        if (!shape_only && rep != i && (why = pair_conflict(v, &e[rep], &e[i], false)) != NULL)
            return *a = rep, *b = i, why;
        if ((shape_only || rep != 0) && (why = pair_conflict(v, &e[0], &e[i], true)) != NULL)
            return *b = i, why; /* (unless the check above was this pair's) */
    }
    if (shape_only || (p.n <= 1 && (u == SIZE_MAX || p.n == 0)))
        return subs_conflict(v, e, m, shape_only, NULL, false);
    /* merge what must merge: each object type's fields with the abstract ones ... */
    for (size_t k = 0; k < p.n; k++)
        if ((why = subs_conflict(v, e, m, false, p.t[k], true)) != NULL)
            return why;
    /* ... and only the shapes across object types that exclude each other */
    return p.n > 1 ? subs_conflict(v, e, m, true, NULL, false) : NULL;
}

/* By key, then in document order: a few by insertion (most sets are small), else qsort. */
static void
sort_ents(ent_t *e, size_t n)
{
    if (n > 16) {
        qsort(e, n, sizeof(*e), ent_cmp);
        return;
    }
    for (size_t i = 1; i < n; i++) {
        ent_t  x = e[i];
        size_t j = i;
        for (; j > 0 && ent_cmp(&e[j - 1], &x) > 0; j--)
            e[j] = e[j - 1];
        e[j] = x;
    }
}

/* The fields of a collection appended to v->ents, sorted; where they start. */
static size_t
collect_parts(vctx_t *v, const src_t *srcs, size_t n, bool own_parts)
{
    size_t start = v->n_ents;

    collection_begin(v);
    for (size_t i = 0; i < n && !v->over && !v->el->nomem; i++)
        expand(v, srcs[i].set, srcs[i].type, (uint32_t)i, own_parts, start);
    size_t n_ents = v->n_ents - start;
    if (n_ents > 1 && spend(v, (long)n_ents))
        sort_ents(v->ents + start, n_ents);
    return start;
}

/*
 * Each response name of the collection at v->ents[start..]: the reason of its
 * first conflict, with the key and the pair (indices into v->ents). The
 * comparisons may grow v->ents: it is read by index.
 */
static const char *
first_conflict(vctx_t *v, size_t start, bool shape_only, const char **key, size_t *a, size_t *b)
{
    for (size_t i = start, j; i < v->n_ents && !v->over; i = j) {
        const char *k = v->ents[i].key, *why;
        for (j = i + 1; j < v->n_ents && strcmp(v->ents[j].key, k) == 0; j++)
            ;
        size_t end = j, x = 0, y = 0;
        if ((why = group_conflict(v, &v->ents[i], end - i, shape_only, &x, &y)) != NULL) {
            *key = k;
            *a = i + x;
            *b = i + y;
            return why;
        }
        j = end;
    }
    return NULL;
}

/* FieldsInSetCanMerge (or only the shapes) of merged selection sets, each a part. */
static const char *
merged_conflict(vctx_t *v, const src_t *srcs, size_t n, bool shape_only)
{
    size_t      start = collect_parts(v, srcs, n, false), a, b;
    const char *key = NULL, *why = first_conflict(v, start, shape_only, &key, &a, &b);

    if (why)
        why = ag_arena_printf(v->a, "subfields \"%s\" conflict because %s", key, why);
    v->n_ents = start;
    return why;
}

/* The rule for one selection set of the document, its parts being its items. */
static void
check_overlap(vctx_t *v, const setref_t *ref)
{
    src_t  src = {ref->set, ref->type};
    size_t start, a, b;

    if (ref->set->n < 2)
        return; /* one part: a field, or a fragment its own check covers */
    v->next_origin = 0;
    start = collect_parts(v, &src, 1, true);
    for (size_t from = start; from < v->n_ents && !v->over;) {
        const char *key = NULL, *why = first_conflict(v, from, false, &key, &a, &b);
        if (why == NULL || v->over)
            break;
        ERR(v, &v->ents[a].sel->loc, &v->ents[b].sel->loc,
            "Fields \"%s\" conflict because %s. Use different aliases on the fields to fetch "
            "both if this was intentional.",
            key, why);
        for (from = a; from < v->n_ents && strcmp(v->ents[from].key, key) == 0; from++)
            ; /* on to the next response name */
    }
    v->n_ents = start;
}

void
ag_graphql__check_overlaps(vctx_t *v)
{
    for (size_t i = 0; i < v->n_sets && !v->over && v->el->n < AG_GQL_MAX_ERRORS; i++)
        check_overlap(v, &v->sets[i]);
}
