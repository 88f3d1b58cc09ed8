/*
 * lib/graphql/limits.c — the limits of an operation, measured on what will
 * run and checked before anything runs.
 *
 * The walk collects the operation's fields exactly as execution will
 * (collect.c: merged by response key, each fragment once per collection,
 * @skip/@include with the request's variables) and keeps the collections for
 * execution. Over that merged tree:
 *
 * - Depth counts nested fields, introspection included.
 * - Cost counts 1 per field, per parent object it runs on. A field with a
 *   `first` argument multiplies the cost of its sub-selection by `first` (its
 *   default when absent, clamped to 0..page_max); an introspection list by
 *   its longest length in this schema (__Type.fields: the most fields any type
 *   has); other list fields do not multiply, their length is governed by the
 *   connection above them (edges under channelPosts(first:)). Merged fields
 *   count once: validation made their arguments identical.
 * - Two schema facts make introspection exact where it is regular: under
 *   __Schema.types a selection runs on all the schema's types at once, so the
 *   lists of those types count their total over the schema (all types'
 *   fields, then all those fields' arguments), not types x the longest; and
 *   __Type.ofType is null after as many levels as the deepest type reference
 *   has wrappers (W, 3 for `[PostEdge!]!`), so what is selected below that
 *   never runs and counts for neither depth nor cost. graphql-js's
 *   introspection query then has depth 5 + W + 1 = 9 and costs about 1.5 per
 *   field it returns, while a query that recurses through fields { type {
 *   fields ... } } pays the most fields any type has at every level.
 * - The estimate bounds the fields execution resolves as long as every list
 *   of objects either has a `first` argument or sits under one (a
 *   connection's edges), as in Agora's schema, or is introspection.
 * - Root fields and aliases are counted as they run (a fragment spread in
 *   three places counts its aliases three times).
 *
 * The walk's own work is bounded: collections and groups are counted in
 * stats.steps and the walk stops (refusing the query) past 4 x max_cost +
 * 1000 steps, so that a document whose merged tree is exponential is refused
 * after a bounded effort. A legitimate query visits each of its fields once,
 * far below its cost.
 */
#include "graphql/graphql_int.h"

#include <stdlib.h>
#include <string.h>

#define COST_CAP 1000000000000L /* saturate instead of overflowing */

typedef struct {
    ag_graphql_request_t      *r;
    const ag_graphql_schema_t *s;
    long                       max_steps;
    bool                       stopped; /* past max_steps: refused */
    bool                       nomem;
} walk_t;

/*
 * Where a collection runs. Usually on one value per parent (size 1). Under
 * __Schema.types it runs on all the schema's types at once (size n_types), and
 * what their lists hold is known in total: under types { fields } on all
 * fields of all types, under types { fields { args } } on all their
 * arguments. The walk then returns the cost over all of them.
 */
typedef enum { POP_ONE, POP_TYPES, POP_FIELDS } pop_t;

typedef struct {
    pop_t pop;  /* which values: one, all types, all fields of all types */
    long  size; /* how many */
    int   wrap; /* __Type values: ofType levels that can still be non-null */
} place_t;

static long
sat_add(long a, long b)
{
    return a + b > COST_CAP ? COST_CAP : a + b;
}

static long
sat_mul(long a, long b)
{
    return a && b > COST_CAP / a ? COST_CAP : a * b;
}

/* A field's `first`: the argument (literal or variable), else its default, else 20. */
static long
first_of(const walk_t *w, const ag_graphql_field_t *f, const ag_graphql__selection_t *sel)
{
    const ag_graphql__input_value_t *d = ag_graphql__input_lookup(f->args, f->n_args, "first");
    long                             n = 20, max = w->r->opts.page_max;
    const ag_json_t                 *given;

    if (d && d->def && d->def->kind == V_INT)
        n = strtol(d->def->str, NULL, 10);
    for (size_t i = 0; i < sel->n_args; i++) {
        const ag_graphql__value_t *v = sel->args[i].value;
        if (strcmp(sel->args[i].name, "first") != 0)
            continue;
        if (v->kind == V_INT)
            n = strtol(v->str, NULL, 10);
        else if (v->kind == V_VAR && (given = ag_json_get(w->r->vars, v->str)) != NULL)
            n = (long)ag_json_as_i64(given);
    }
    return n < 0 ? 0 : n > max ? max : n;
}

/* How many times a field's sub-selection runs per parent. */
static long
multiplier(const walk_t *w, const ag_graphql_field_t *f, const ag_graphql__selection_t *sel)
{
    if (f->has_first)
        return first_of(w, f, sel);
    if (f->intro == AG_GQL_INTRO_LIST || f->intro == AG_GQL_INTRO_MEMBERS ||
        f->intro == AG_GQL_INTRO_ARGS)
        return f->list_max;
    return 1; /* single values; __Schema.types sums its types itself */
}

static long walk(walk_t *w, const ag_graphql_type_t *t, const ag_graphql__groups_t *gs, int depth,
                 place_t at);

/* The cost of a group's sub-selection on one value of the field's type. */
static long
sub_cost(walk_t *w, const ag_graphql__group_t *g, const ag_graphql_field_t *f, int depth,
         place_t in)
{
    const ag_graphql_type_t *nt = ag_graphql__named(f->type);
    ag_graphql__groups_t     sub;
    long                     best = 0;

    if (nt == NULL || ag_graphql__is_leaf(nt))
        return 0;
    if (!ag_graphql__is_abstract(nt)) {
        if (ag_graphql__collect_sub(w->r, nt, g, &sub) != AG_OK) {
            w->nomem = true;
            return 0;
        }
        return walk(w, nt, &sub, depth, in);
    }
    /* an interface or union runs as one of its object types: the dearest counts */
    for (size_t i = 0; i < nt->n_possible && !w->stopped; i++) {
        if (ag_graphql__collect_sub(w->r, nt->possible[i], g, &sub) != AG_OK) {
            w->nomem = true;
            return 0;
        }
        long c = walk(w, nt->possible[i], &sub, depth, in);
        best = c > best ? c : best;
    }
    return best;
}

/*
 * Whether the items of list field f, over all values of place at, are known
 * in total; *in the place of those items when they are.
 */
static bool
items_known(const walk_t *w, const ag_graphql_field_t *f, place_t at, place_t *in)
{
    const ag_graphql_schema_t *s = w->s;

    if (f->intro == AG_GQL_INTRO_TYPES) {
        *in = (place_t){POP_TYPES, (long)s->n_types, 0};
    } else if (at.pop == POP_TYPES && f->intro == AG_GQL_INTRO_MEMBERS) {
        pop_t p = f->per_type == AG_GQL_PT_FIELDS ? POP_FIELDS : POP_ONE;
        *in = (place_t){p, s->member_total[f->per_type], 0};
    } else if (at.pop == POP_FIELDS && f->intro == AG_GQL_INTRO_ARGS) {
        *in = (place_t){POP_ONE, s->field_args, 0};
    } else {
        return false;
    }
    return true;
}

/* The cost of one group on the values of its place. */
static long
group_cost(walk_t *w, const ag_graphql__group_t *g, const ag_graphql_field_t *f, int depth,
           place_t at)
{
    place_t in = {POP_ONE, 1, 0};
    bool    runs = g->nodes[0]->sel != NULL;

    if (items_known(w, f, at, &in)) /* the field once per value, its items as many as there are */
        return sat_add(at.size, runs ? sub_cost(w, g, f, depth, in) : 0);
    if (f->intro == AG_GQL_INTRO_OFTYPE) {
        runs = runs && at.wrap > 0; /* on a named type ofType is null: nothing below runs */
        in.wrap = at.wrap - 1;
    } else if (f->intro == AG_GQL_INTRO_TYPEREF) {
        in.wrap = w->s->max_wrap;
    }
    long sub = runs ? sub_cost(w, g, f, depth, in) : 0;
    return sat_mul(at.size, sat_add(1, sat_mul(multiplier(w, f, g->nodes[0]), sub)));
}

static long
walk(walk_t *w, const ag_graphql_type_t *t, const ag_graphql__groups_t *gs, int depth, place_t at)
{
    ag_graphql_request_t *r = w->r;
    long                  total = 0;

    if (depth + 1 > r->stats.depth && gs->n)
        r->stats.depth = depth + 1;
    for (size_t i = 0; i < gs->n && !w->stopped && !w->nomem; i++) {
        const ag_graphql__group_t *g = &gs->g[i];
        const ag_graphql_field_t  *f = ag_graphql__group_field(r, t, g);

        if (++r->stats.steps > w->max_steps) {
            w->stopped = true;
            break;
        }
        if (f == NULL)
            continue; /* impossible after validation */
        if (g->nodes[0]->alias && strcmp(g->nodes[0]->alias, g->nodes[0]->name) != 0)
            r->stats.aliases++;
        total = sat_add(total, group_cost(w, g, f, depth + 1, at));
    }
    return total;
}

/* The first limit the walk found exceeded, as a request error. */
static void
report(const ag_graphql_request_t *r, const walk_t *w, ag_graphql__errlist_t *el)
{
    const ag_graphql_options_t *o = &r->opts;
    const ag_graphql_stats_t   *st = &r->stats;
    const ag_graphql__loc_t    *loc = &r->op->loc;

    if (st->root_fields > o->max_root_fields)
        ag_graphql__err_add(el, loc, NULL, "too_many_root_fields",
                            "Query has too many root fields: %d exceeds the limit of %d.",
                            st->root_fields, o->max_root_fields);
    else if (st->aliases > o->max_aliases)
        ag_graphql__err_add(el, loc, NULL, "too_many_aliases",
                            "Query has too many aliases: %d exceeds the limit of %d.", st->aliases,
                            o->max_aliases);
    else if (st->depth > o->max_depth)
        ag_graphql__err_add(el, loc, NULL, "query_too_deep",
                            "Query is too deep: depth %d exceeds the limit of %d.", st->depth,
                            o->max_depth);
    else if (w->stopped)
        ag_graphql__err_add(el, loc, NULL, "query_too_costly",
                            "Query is too costly: collecting its fields takes more than %ld "
                            "steps.",
                            w->max_steps);
    else if (st->cost > o->max_cost)
        ag_graphql__err_add(el, loc, NULL, "query_too_costly",
                            "Query is too costly: estimated cost %ld exceeds the limit of %ld.",
                            st->cost, o->max_cost);
}

ag_status_t
ag_graphql__limits(ag_graphql_request_t *r, ag_graphql__errlist_t *el)
{
    const ag_graphql_schema_t *s = r->schema;
    const ag_graphql_type_t   *root = r->op->op == AG_GRAPHQL_QUERY      ? s->query
                                      : r->op->op == AG_GRAPHQL_MUTATION ? s->mutation
                                                                         : s->subscription;
    walk_t                     w = {.r = r, .s = s};
    ag_status_t                st;

    if (root == NULL)
        return AG_EINTERNAL; /* impossible after validation */
    w.max_steps = sat_add(sat_mul(4, r->opts.max_cost), 1000);
    memset(&r->root, 0, sizeof(r->root));
    if ((st = ag_graphql__collect(r, root, r->op->sel, &r->root)) != AG_OK)
        return st;
    r->have_root = true;
    r->stats.root_fields = r->root.n > INT32_MAX ? INT32_MAX : (int)r->root.n;
    if (r->stats.root_fields <= r->opts.max_root_fields) {
        place_t top = {POP_ONE, 1, 0};
        r->stats.cost = walk(&w, root, &r->root, 0, top);
    }
    if (w.nomem)
        return AG_ENOMEM;
    report(r, &w, el);
    return el->nomem ? AG_ENOMEM : AG_OK;
}
