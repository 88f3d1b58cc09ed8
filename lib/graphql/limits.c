/*
 * lib/graphql/limits.c — depth and cost of an operation, checked before
 * execution so that an expensive query is refused rather than run.
 *
 * Depth counts nested fields. Cost counts 1 per field; a field that declares a
 * `first` argument (a connection or a paged list) multiplies the cost of its
 * sub-selection by the value of `first` (its default when absent, else 20,
 * clamped to 0..100). List fields without `first` do not multiply: their size
 * is governed by the connection above them (edges under channelPosts(first:)).
 * Introspection fields (__schema, __type) are exempt from both: graphql-js's
 * introspection query alone is 13 levels deep and its cost is bounded by the
 * schema. Fragments are computed once each (validation rejected cycles), so a
 * fragment spread many times costs no more to evaluate than once.
 */
#include "graphql/graphql_int.h"

#include <stdlib.h>
#include <string.h>

#define COST_CAP 1000000000000L /* saturate instead of overflowing */

typedef struct {
    const ag_graphql_schema_t    *s;
    const ag_graphql__document_t *doc;
    const ag_json_t              *vars;
    long                         *memo; /* per fragment; -1 = not computed */
} lim_t;

static bool
exempt(const char *name)
{
    return strcmp(name, "__schema") == 0 || strcmp(name, "__type") == 0;
}

static long
frag_memo_index(const lim_t *l, const char *name)
{
    for (size_t i = 0; i < l->doc->n_frags; i++)
        if (strcmp(l->doc->frags[i].name, name) == 0)
            return (long)i;
    return -1;
}

static long
depth_of(lim_t *l, const ag_graphql__selset_t *set)
{
    long best = 0;

    for (size_t i = 0; set && i < set->n; i++) {
        const ag_graphql__selection_t *sel = &set->items[i];
        long                           d = 0;
        if (sel->kind == S_FIELD) {
            d = exempt(sel->name) ? 0 : 1 + depth_of(l, sel->sel);
        } else if (sel->kind == S_INLINE) {
            d = depth_of(l, sel->sel);
        } else {
            long k = frag_memo_index(l, sel->name);
            if (k < 0)
                continue;
            if (l->memo[k] < 0)
                l->memo[k] = depth_of(l, l->doc->frags[k].sel);
            d = l->memo[k];
        }
        if (d > best)
            best = d;
    }
    return best;
}

int
ag_graphql__depth(const ag_graphql_schema_t *s, const ag_graphql__document_t *doc,
                  const ag_graphql__operation_t *op, ag_arena_t *a)
{
    lim_t l = {s, doc, NULL, ag_arena_alloc(a, (doc->n_frags + 1) * sizeof(long))};

    if (l.memo == NULL)
        return INT32_MAX; /* out of memory: refuse rather than run unchecked */
    for (size_t i = 0; i < doc->n_frags; i++)
        l.memo[i] = -1;
    long d = depth_of(&l, op->sel);
    return d > INT32_MAX ? INT32_MAX : (int)d;
}

/* The multiplier of a field: its `first` argument, else 1. */
static long
multiplier(const lim_t *l, const ag_graphql_field_t *f, const ag_graphql__selection_t *sel)
{
    long n = 20;

    if (!f->has_first)
        return 1;
    const ag_graphql__input_value_t *d = ag_graphql__input_lookup(f->args, f->n_args, "first");
    if (d && d->def && d->def->kind == V_INT)
        n = strtol(d->def->str, NULL, 10);
    for (size_t i = 0; i < sel->n_args; i++) {
        const ag_graphql__value_t *v = sel->args[i].value;
        if (strcmp(sel->args[i].name, "first") != 0)
            continue;
        if (v->kind == V_INT)
            n = strtol(v->str, NULL, 10);
        else if (v->kind == V_VAR && ag_json_get(l->vars, v->str))
            n = (long)ag_json_as_i64(ag_json_get(l->vars, v->str));
    }
    return n < 0 ? 0 : n > 100 ? 100 : n;
}

static long
sat_add(long a, long b)
{
    return a + b > COST_CAP ? COST_CAP : a + b;
}

static long
cost_of(lim_t *l, const ag_graphql_type_t *t, const ag_graphql__selset_t *set)
{
    long total = 0;

    for (size_t i = 0; t && set && i < set->n; i++) {
        const ag_graphql__selection_t *sel = &set->items[i];
        if (sel->kind == S_FIELD) {
            const ag_graphql_field_t *f = ag_graphql__field_lookup(l->s, t, sel->name);
            if (f == NULL || exempt(sel->name))
                continue;
            long sub = sel->sel ? cost_of(l, ag_graphql__named(f->type), sel->sel) : 0;
            long m = multiplier(l, f, sel);
            total = sat_add(total, m && sub > COST_CAP / m ? COST_CAP : 1 + m * sub);
        } else if (sel->kind == S_INLINE) {
            const ag_graphql_type_t *ct =
                sel->type_cond ? ag_graphql__type_lookup(l->s, sel->type_cond) : t;
            total = sat_add(total, cost_of(l, ct, sel->sel));
        } else {
            long k = frag_memo_index(l, sel->name);
            if (k < 0)
                continue;
            if (l->memo[k] < 0)
                l->memo[k] = cost_of(l, ag_graphql__type_lookup(l->s, l->doc->frags[k].type_cond),
                                     l->doc->frags[k].sel);
            total = sat_add(total, l->memo[k]);
        }
    }
    return total;
}

long
ag_graphql__cost(const ag_graphql_schema_t *s, const ag_graphql__document_t *doc,
                 const ag_graphql__operation_t *op, const ag_json_t *vars, ag_arena_t *a)
{
    lim_t l = {s, doc, vars, ag_arena_alloc(a, (doc->n_frags + 1) * sizeof(long))};
    const ag_graphql_type_t *root = op->op == AG_GRAPHQL_QUERY      ? s->query
                                    : op->op == AG_GRAPHQL_MUTATION ? s->mutation
                                                                    : s->subscription;

    if (l.memo == NULL)
        return COST_CAP;
    for (size_t i = 0; i < doc->n_frags; i++)
        l.memo[i] = -1;
    return cost_of(&l, root, op->sel);
}
