/*
 * lib/graphql/validate.c — the validation rules of spec §5 that matter for an
 * API server. One typed walk per operation and fragment checks fields,
 * arguments, values, directives and spreads, resolves every name the later
 * passes need (a spread's fragment, a field's definition, a type condition)
 * and records variable usages and spreads; document-level passes then check
 * names, fragment use and cycles, overlapping fields and variables per
 * operation through the fragments it reaches. Messages are graphql-js's.
 *
 * Linear in the document: fragments are found through a sorted index and
 * referred to by position, each fragment's facts (usages, spreads) are
 * recorded once by its own walk, cycles are found in one depth-first pass,
 * and duplicate names are found by sorting when a list is long. Variables are
 * checked per operation over the fragments it reaches (a visited stamp per
 * fragment, no per-operation allocation). OverlappingFieldsCanBeMerged
 * (validate_overlap.c) compares fields across the parts of a selection set,
 * not every pair, and stops with an error past a budget proportional to the
 * document.
 */
#include "graphql/validate_int.h"

#include <stdlib.h>
#include <string.h>

static bool
push(vctx_t *v, void **items, size_t *n, size_t *cap, size_t sz, const void *el)
{
    if (*n == *cap) {
        size_t ncap = *cap ? *cap * 2 : 8;
        void  *nv = ag_arena_alloc(v->a, ncap * sz);
        if (nv == NULL) {
            v->el->nomem = true;
            return false;
        }
        if (*n)
            memcpy(nv, *items, *n * sz);
        *items = nv;
        *cap = ncap;
    }
    memcpy((char *)*items + (*n)++ * sz, el, sz);
    return true;
}

#define PUSH(v, arr, n, cap, elp) push((v), (void **)&(arr), &(n), &(cap), sizeof(*(arr)), (elp))

/* Whether some object type can be both a and b (PossibleFragmentSpreads). */
static bool
types_overlap(const ag_graphql_type_t *a, const ag_graphql_type_t *b)
{
    if (a == b)
        return true;
    if (a->kind == K_OBJECT)
        return ag_graphql__possible(b, a);
    if (b->kind == K_OBJECT)
        return ag_graphql__possible(a, b);
    for (size_t i = 0; i < a->n_possible; i++)
        if (ag_graphql__possible(b, a->possible[i]))
            return true;
    return false;
}

/* ---- names: duplicates and the fragment index ------------------------------------------------ */

typedef struct {
    const char              *name;
    const ag_graphql__loc_t *loc;
    size_t                   i;
} named_t;

static int
named_cmp(const void *x, const void *y)
{
    const named_t *a = x, *b = y;
    int            c = strcmp(a->name, b->name);
    return c ? c : a->i < b->i ? -1 : a->i > b->i;
}

typedef enum { DUP_ARG, DUP_DIRECTIVE, DUP_VAR, DUP_FRAGMENT, DUP_OPERATION } dup_t;

static void
dup_error(vctx_t *v, dup_t kind, const named_t *first, const named_t *again)
{
    const char *n = again->name;
    switch (kind) {
    case DUP_ARG:
        ERR(v, first->loc, again->loc, "There can be only one argument named \"%s\".", n);
        break;
    case DUP_DIRECTIVE:
        ERR(v, first->loc, again->loc,
            "The directive \"@%s\" can only be used once at this location.", n);
        break;
    case DUP_VAR:
        ERR(v, first->loc, again->loc, "There can be only one variable named \"$%s\".", n);
        break;
    case DUP_FRAGMENT:
        ERR(v, first->loc, again->loc, "There can be only one fragment named \"%s\".", n);
        break;
    case DUP_OPERATION:
        ERR(v, first->loc, again->loc, "There can be only one operation named \"%s\".", n);
        break;
    }
}

/*
 * Report each item whose name an earlier item has, against the earliest.
 * Short lists (the usual case) are scanned; long ones sorted, so that ten
 * thousand arguments on one field cost n log n, not n².
 */
static void
report_dups(vctx_t *v, named_t *items, size_t n, dup_t kind)
{
    if (n <= 8) {
        for (size_t i = 1; i < n; i++)
            for (size_t j = 0; j < i; j++)
                if (strcmp(items[j].name, items[i].name) == 0) {
                    dup_error(v, kind, &items[j], &items[i]);
                    break;
                }
        return;
    }
    qsort(items, n, sizeof(*items), named_cmp);
    for (size_t i = 0, j; i < n; i = j)
        for (j = i + 1; j < n && strcmp(items[j].name, items[i].name) == 0; j++)
            dup_error(v, kind, &items[i], &items[j]);
}

static named_t *
named_new(vctx_t *v, size_t n)
{
    named_t *items = ag_arena_alloc(v->a, (n ? n : 1) * sizeof(*items));
    if (items == NULL)
        v->el->nomem = true;
    return items;
}

/* UniqueFragmentNames, and the index fragments are found by. */
static void
index_fragments(vctx_t *v)
{
    size_t   nf = v->doc->n_frags;
    named_t *items = named_new(v, nf);

    if (items == NULL ||
        (v->frag_order = ag_arena_alloc(v->a, (nf + 1) * sizeof(size_t))) == NULL) {
        v->el->nomem = true;
        return;
    }
    for (size_t i = 0; i < nf; i++)
        items[i] = (named_t){v->doc->frags[i].name, &v->doc->frags[i].loc, i};
    qsort(items, nf, sizeof(*items), named_cmp);
    for (size_t i = 0, run = 0; i < nf; i++) {
        v->frag_order[i] = items[i].i;
        if (i && strcmp(items[run].name, items[i].name) == 0)
            dup_error(v, DUP_FRAGMENT, &items[run], &items[i]);
        else
            run = i;
    }
}

/* The first fragment named name (binary search), or SIZE_MAX. */
static size_t
frag_index(const vctx_t *v, const char *name)
{
    size_t lo = 0, hi = v->doc->n_frags;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (strcmp(v->doc->frags[v->frag_order[mid]].name, name) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo < v->doc->n_frags && strcmp(v->doc->frags[v->frag_order[lo]].name, name) == 0)
        return v->frag_order[lo];
    return SIZE_MAX;
}

/* UniqueOperationNames. */
static void
unique_operations(vctx_t *v)
{
    size_t   k = 0;
    named_t *items = named_new(v, v->doc->n_ops);

    for (size_t i = 0; items && i < v->doc->n_ops; i++)
        if (v->doc->ops[i].name)
            items[k++] = (named_t){v->doc->ops[i].name, &v->doc->ops[i].loc, i};
    if (items)
        report_dups(v, items, k, DUP_OPERATION);
}

/* ---- values and arguments -------------------------------------------------------------- */

/* Record the variables in a value with the type expected where each occurs. */
static void
value_usages_in(vctx_t *v, rec_t *rec, const ag_graphql__tref_t *t, bool has_default,
                const ag_graphql__value_t *val, const ag_graphql_type_t *one_of)
{
    const ag_graphql__tref_t *u = t;

    if (val->kind == V_VAR) {
        usage_t us = {val->str, t, has_default, val->loc, one_of};
        PUSH(v, rec->uses, rec->n_uses, rec->cap_uses, &us);
        return;
    }
    if (t == NULL)
        return;
    while (u->kind == T_NONNULL)
        u = u->of;
    if (val->kind == V_LIST) {
        for (size_t i = 0; i < val->n; i++)
            value_usages_in(v, rec, u->kind == T_LIST ? u->of : NULL, false, val->u.items[i], NULL);
    } else if (val->kind == V_OBJECT) {
        const ag_graphql_type_t *nt = u->kind == T_NAMED ? u->type : NULL;
        for (size_t i = 0; i < val->n; i++) {
            const ag_graphql__input_value_t *fd =
                nt && nt->kind == K_INPUT_OBJECT
                    ? ag_graphql__input_lookup(nt->inputs, nt->n_inputs, val->u.fields[i].name)
                    : NULL;
            value_usages_in(v, rec, fd ? fd->type : NULL, fd && fd->def, val->u.fields[i].value,
                            nt && nt->one_of ? nt : NULL);
        }
    }
}

static void
value_usages(vctx_t *v, rec_t *rec, const ag_graphql__tref_t *t, bool has_default,
             const ag_graphql__value_t *val)
{
    value_usages_in(v, rec, t, has_default, val, NULL);
}

/* UniqueArgumentNames. */
static void
unique_args(vctx_t *v, const ag_graphql__arg_t *args, size_t n)
{
    named_t *items;

    if (n < 2 || (items = named_new(v, n)) == NULL)
        return;
    for (size_t i = 0; i < n; i++)
        items[i] = (named_t){args[i].name, &args[i].loc, i};
    report_dups(v, items, n, DUP_ARG);
}

/*
 * KnownArgumentNames, UniqueArgumentNames, ProvidedRequiredArguments and
 * ValuesOfCorrectType for the arguments of a field or a directive. kind is
 * "field" or "directive", owner "T.f" or "@skip".
 */
static void
check_args(vctx_t *v, rec_t *rec, const ag_graphql__input_value_t *defs, size_t n_defs,
           const ag_graphql__arg_t *args, size_t n_args, bool is_field, const char *owner,
           const char *short_name, const ag_graphql__loc_t *node_loc)
{
    unique_args(v, args, n_args);
    for (size_t i = 0; i < n_args; i++) {
        const ag_graphql__arg_t         *arg = &args[i];
        const ag_graphql__input_value_t *d = ag_graphql__input_lookup(defs, n_defs, arg->name);
        ag_graphql__loc_t                loc;
        const char                      *msg;

        if (d == NULL) {
            ERR(v, &arg->loc, NULL, "Unknown argument \"%s\" on %s \"%s\".", arg->name,
                is_field ? "field" : "directive", owner);
            value_usages(v, rec, NULL, false, arg->value);
            continue;
        }
        if ((msg = ag_graphql__literal_check(v->a, d->type, arg->value, &loc)))
            ERR(v, &loc, NULL, "%s", msg);
        value_usages(v, rec, d->type, d->def != NULL, arg->value);
    }
    for (size_t i = 0; i < n_defs; i++) {
        const ag_graphql__input_value_t *d = &defs[i];
        bool                             given = false;
        if (d->type->kind != T_NONNULL || d->def)
            continue;
        for (size_t j = 0; j < n_args && !given; j++)
            given = strcmp(args[j].name, d->name) == 0;
        if (!given)
            ERR(v, node_loc, NULL,
                "%s \"%s\" argument \"%s\" of type \"%s\" is required, but it was not provided.",
                is_field ? "Field" : "Directive", short_name, d->name,
                ag_graphql__tref_str(v->a, d->type));
    }
}

/* KnownDirectives, UniqueDirectivesPerLocation and the directives' arguments. */
static void
check_directives(vctx_t *v, rec_t *rec, const ag_graphql__directive_t *dirs, size_t n,
                 unsigned loc_bit, const char *loc_name)
{
    named_t *once = n > 1 ? named_new(v, n) : NULL;
    size_t   n_once = 0;

    for (size_t i = 0; i < n; i++) {
        const ag_graphql__directive_t     *d = &dirs[i];
        const ag_graphql__directive_def_t *def = ag_graphql__directive_lookup(v->s, d->name);
        const char                        *at = ag_arena_printf(v->a, "@%s", d->name);

        if (def == NULL) {
            ERR(v, &d->loc, NULL, "Unknown directive \"@%s\".", d->name);
            continue;
        }
        if (!(def->locations & loc_bit))
            ERR(v, &d->loc, NULL, "Directive \"@%s\" may not be used on %s.", d->name, loc_name);
        if (once && !def->repeatable)
            once[n_once++] = (named_t){d->name, &d->loc, i};
        check_args(v, rec, def->args, def->n_args, d->args, d->n_args, false, at ? at : "",
                   at ? at : "", &d->loc);
    }
    if (once)
        report_dups(v, once, n_once, DUP_DIRECTIVE);
}

/* ---- the typed walk ---------------------------------------------------------------------- */

static void visit_selset(vctx_t *v, rec_t *rec, const ag_graphql_type_t *parent,
                         ag_graphql__selset_t *set);

static void
visit_field(vctx_t *v, rec_t *rec, const ag_graphql_type_t *parent, ag_graphql__selection_t *sel)
{
    const ag_graphql_field_t *f = ag_graphql__field_lookup(v->s, parent, sel->name);
    const ag_graphql_type_t  *nt;
    const char               *owner;

    check_directives(v, rec, sel->dirs, sel->n_dirs, DL(FIELD), "FIELD");
    if (f == NULL) {
        ERR(v, &sel->loc, NULL, "Cannot query field \"%s\" on type \"%s\".", sel->name,
            parent->name);
        return;
    }
    sel->def = f;
    owner = ag_arena_printf(v->a, "%s.%s", parent->name, f->name);
    check_args(v, rec, f->args, f->n_args, sel->args, sel->n_args, true, owner ? owner : "",
               f->name, &sel->loc);
    nt = ag_graphql__named(f->type);
    if (ag_graphql__is_leaf(nt)) {
        if (sel->sel)
            ERR(v, &sel->sel->loc, NULL,
                "Field \"%s\" must not have a selection since type \"%s\" has no subfields.",
                sel->name, ag_graphql__tref_str(v->a, f->type));
    } else if (sel->sel == NULL) {
        const char *ts = ag_graphql__tref_str(v->a, f->type);
        ERR(v, &sel->loc, NULL,
            "Field \"%s\" of type \"%s\" must have a selection of subfields. Did you mean \"%s "
            "{ ... }\"?",
            sel->name, ts, sel->name);
    } else {
        visit_selset(v, rec, nt, sel->sel);
    }
}

static void
visit_inline(vctx_t *v, rec_t *rec, const ag_graphql_type_t *parent, ag_graphql__selection_t *sel)
{
    const ag_graphql_type_t *t = parent;

    check_directives(v, rec, sel->dirs, sel->n_dirs, DL(INLINE_FRAGMENT), "INLINE_FRAGMENT");
    if (sel->type_cond) {
        if ((t = ag_graphql__type_lookup(v->s, sel->type_cond)) == NULL) {
            ERR(v, &sel->loc, NULL, "Unknown type \"%s\".", sel->type_cond);
            return;
        }
        if (!is_composite(t)) {
            ERR(v, &sel->loc, NULL, "Fragment cannot condition on non composite type \"%s\".",
                t->name);
            return;
        }
        sel->cond = t;
        if (!types_overlap(t, parent))
            ERR(v, &sel->loc, NULL,
                "Fragment cannot be spread here as objects of type \"%s\" can never be of type "
                "\"%s\".",
                parent->name, t->name);
    }
    visit_selset(v, rec, t, sel->sel);
}

static void
visit_spread(vctx_t *v, rec_t *rec, const ag_graphql_type_t *parent, ag_graphql__selection_t *sel)
{
    size_t                        k = frag_index(v, sel->name);
    const ag_graphql__fragment_t *fr = k == SIZE_MAX ? NULL : &v->doc->frags[k];
    const ag_graphql_type_t      *t;

    check_directives(v, rec, sel->dirs, sel->n_dirs, DL(FRAGMENT_SPREAD), "FRAGMENT_SPREAD");
    if (fr == NULL) {
        ERR(v, &sel->loc, NULL, "Unknown fragment \"%s\".", sel->name);
        return;
    }
    sel->frag = fr;
    PUSH(v, rec->spreads, rec->n_spreads, rec->cap_spreads, &k);
    t = ag_graphql__type_lookup(v->s, fr->type_cond);
    if (t && is_composite(t) && !types_overlap(t, parent))
        ERR(v, &sel->loc, NULL,
            "Fragment \"%s\" cannot be spread here as objects of type \"%s\" can never be of "
            "type \"%s\".",
            sel->name, parent->name, t->name);
}

static void
visit_selset(vctx_t *v, rec_t *rec, const ag_graphql_type_t *parent, ag_graphql__selset_t *set)
{
    setref_t ref = {set, parent};

    PUSH(v, v->sets, v->n_sets, v->cap_sets, &ref); /* for OverlappingFieldsCanBeMerged */
    for (size_t i = 0; i < set->n && v->el->n < AG_GQL_MAX_ERRORS; i++) {
        ag_graphql__selection_t *sel = &set->items[i];
        v->nodes++;
        if (sel->kind == S_FIELD)
            visit_field(v, rec, parent, sel);
        else if (sel->kind == S_INLINE)
            visit_inline(v, rec, parent, sel);
        else
            visit_spread(v, rec, parent, sel);
    }
}

/* ---- document-level rules ---------------------------------------------------------------- */

static const char *const op_locs[] = {"QUERY", "MUTATION", "SUBSCRIPTION"};

static void
check_variable_defs(vctx_t *v, rec_t *rec, const ag_graphql__operation_t *op)
{
    named_t *items = op->n_vars > 1 ? named_new(v, op->n_vars) : NULL;

    for (size_t i = 0; items && i < op->n_vars; i++)
        items[i] = (named_t){op->vars[i].name, &op->vars[i].loc, i};
    if (items)
        report_dups(v, items, op->n_vars, DUP_VAR);
    for (size_t i = 0; i < op->n_vars; i++) {
        const ag_graphql__vardef_t *vd = &op->vars[i];
        const char                 *msg;
        ag_graphql__loc_t           loc;

        check_directives(v, rec, vd->dirs, vd->n_dirs, DL(VARIABLE_DEFINITION),
                         "VARIABLE_DEFINITION");
        if (!ag_graphql__tref_resolve(v->s, vd->type)) {
            const ag_graphql__tref_t *n = vd->type;
            while (n->kind != T_NAMED)
                n = n->of;
            ERR(v, &n->loc, NULL, "Unknown type \"%s\".", n->name);
            continue;
        }
        if (!ag_graphql__is_input_type(vd->type)) {
            ERR(v, &vd->type->loc, NULL, "Variable \"$%s\" cannot be non-input type \"%s\".",
                vd->name, ag_graphql__tref_str(v->a, vd->type));
            continue;
        }
        if (vd->def && (msg = ag_graphql__literal_check(v->a, vd->type, vd->def, &loc)))
            ERR(v, &loc, NULL, "%s", msg);
    }
}

/* Whether a variable of type vt may be used where lt is expected (spec 5.8.5). */
static bool
allowed(const ag_graphql__vardef_t *vd, const usage_t *u)
{
    const ag_graphql__tref_t *vt = vd->type, *lt = u->type;
    if (lt->kind == T_NONNULL && vt->kind != T_NONNULL) {
        bool var_default = vd->def && vd->def->kind != V_NULL;
        if (!var_default && !u->has_default)
            return false;
        return ag_graphql__tref_subtype(vt, lt->of);
    }
    return ag_graphql__tref_subtype(vt, lt);
}

/* The operation's variable of this name (by index), or SIZE_MAX. sorted: its vars by name. */
static size_t
var_index(const ag_graphql__operation_t *op, const named_t *sorted, const char *name)
{
    if (sorted == NULL) {
        for (size_t j = 0; j < op->n_vars; j++)
            if (strcmp(op->vars[j].name, name) == 0)
                return j;
        return SIZE_MAX;
    }
    size_t lo = 0, hi = op->n_vars;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (strcmp(sorted[mid].name, name) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < op->n_vars && strcmp(sorted[lo].name, name) == 0 ? sorted[lo].i : SIZE_MAX;
}

static void
check_usages(vctx_t *v, const ag_graphql__operation_t *op, const rec_t *rec, const named_t *sorted,
             bool *used)
{
    for (size_t i = 0; i < rec->n_uses && v->el->n < AG_GQL_MAX_ERRORS; i++) {
        const usage_t *u = &rec->uses[i];
        size_t         j = var_index(op, sorted, u->name);

        if (j == SIZE_MAX) {
            if (op->name)
                ERR(v, &u->loc, &op->loc, "Variable \"$%s\" is not defined by operation \"%s\".",
                    u->name, op->name);
            else
                ERR(v, &u->loc, &op->loc, "Variable \"$%s\" is not defined.", u->name);
            continue;
        }
        const ag_graphql__vardef_t *vd = &op->vars[j];
        used[j] = true;
        if (u->type && ag_graphql__named(vd->type) && !allowed(vd, u))
            ERR(v, &vd->loc, &u->loc,
                "Variable \"$%s\" of type \"%s\" used in position expecting type \"%s\".", u->name,
                ag_graphql__tref_str(v->a, vd->type), ag_graphql__tref_str(v->a, u->type));
        /* a OneOf field's variable must be non-null: null would leave no field set */
        if (u->one_of && vd->type->kind != T_NONNULL)
            ERR(v, &vd->loc, &u->loc,
                "Variable \"$%s\" is of type \"%s\" but must be non-nullable to be used for "
                "OneOf Input Object \"%s\".",
                u->name, ag_graphql__tref_str(v->a, vd->type), u->one_of->name);
    }
}

/*
 * NoUndefinedVariables, NoUnusedVariables, VariablesInAllowedPosition over
 * the operation and the fragments it reaches (stack: room for every fragment).
 */
static void
check_variables(vctx_t *v, const ag_graphql__operation_t *op, const rec_t *oprec, size_t *stack)
{
    bool    *used = ag_arena_calloc(v->a, op->n_vars + 1);
    named_t *sorted = op->n_vars > 8 ? named_new(v, op->n_vars) : NULL;
    size_t   sp = 0;

    if (used == NULL || (op->n_vars > 8 && sorted == NULL)) {
        v->el->nomem = true;
        return;
    }
    for (size_t i = 0; sorted && i < op->n_vars; i++)
        sorted[i] = (named_t){op->vars[i].name, &op->vars[i].loc, i};
    if (sorted)
        qsort(sorted, op->n_vars, sizeof(*sorted), named_cmp);
    collection_begin(v); /* the stamp now marks "reached by this operation" */
    check_usages(v, op, oprec, sorted, used);
    for (size_t i = 0; i < oprec->n_spreads; i++)
        if (v->stamp[oprec->spreads[i]] != v->cur) {
            v->stamp[oprec->spreads[i]] = v->cur;
            stack[sp++] = oprec->spreads[i];
        }
    while (sp && spend(v, 1)) {
        const rec_t *fr = &v->frag_recs[stack[--sp]];
        spend(v, (long)fr->n_uses + (long)fr->n_spreads);
        check_usages(v, op, fr, sorted, used);
        for (size_t i = 0; i < fr->n_spreads; i++)
            if (v->stamp[fr->spreads[i]] != v->cur) {
                v->stamp[fr->spreads[i]] = v->cur;
                stack[sp++] = fr->spreads[i];
            }
    }
    for (size_t j = 0; j < op->n_vars; j++) {
        if (used[j])
            continue;
        if (op->name)
            ERR(v, &op->vars[j].loc, NULL, "Variable \"$%s\" is never used in operation \"%s\".",
                op->vars[j].name, op->name);
        else
            ERR(v, &op->vars[j].loc, NULL, "Variable \"$%s\" is never used.", op->vars[j].name);
    }
}

/* NoFragmentCycles: depth-first over spreads with an explicit path. */
static void
check_cycles(vctx_t *v)
{
    size_t  nf = v->doc->n_frags;
    int    *state = ag_arena_calloc(v->a, nf * sizeof(int) + 1); /* 0 new, 1 on path, 2 done */
    size_t *path = ag_arena_alloc(v->a, nf * sizeof(size_t) + 1);
    size_t *next = ag_arena_calloc(v->a, nf * sizeof(size_t) + 1);

    if (state == NULL || path == NULL || next == NULL) {
        v->el->nomem = true;
        return;
    }
    for (size_t root = 0; root < nf; root++) {
        size_t depth = 0;
        if (state[root])
            continue;
        path[depth++] = root;
        state[root] = 1;
        while (depth) {
            size_t       cur = path[depth - 1];
            const rec_t *rec = &v->frag_recs[cur];
            if (next[cur] >= rec->n_spreads) {
                state[cur] = 2;
                depth--;
                continue;
            }
            size_t k = rec->spreads[next[cur]++];
            v->work++;
            if (state[k] == 2)
                continue;
            if (state[k] == 1) {
                if (v->el->n >= AG_GQL_MAX_ERRORS)
                    continue; /* no room to say it: do not spend the path walk */
                ag_buf_t via;
                size_t   from = 0;
                ag_buf_init(&via);
                while (path[from] != k)
                    from++;
                for (size_t i = from + 1; i < depth; i++)
                    ag_buf_printf(&via, "%s\"%s\"", i > from + 1 ? ", " : "",
                                  v->doc->frags[path[i]].name);
                if (via.len)
                    ERR(v, &v->doc->frags[k].loc, NULL,
                        "Cannot spread fragment \"%s\" within itself via %s.",
                        v->doc->frags[k].name, via.data);
                else
                    ERR(v, &v->doc->frags[k].loc, NULL,
                        "Cannot spread fragment \"%s\" within itself.", v->doc->frags[k].name);
                ag_buf_fini(&via);
                continue;
            }
            state[k] = 1;
            path[depth++] = k;
        }
    }
}

static void
check_operation(vctx_t *v, ag_graphql__operation_t *op, rec_t *rec)
{
    const ag_graphql_type_t *root;

    if (op->name == NULL && v->doc->n_ops > 1)
        ERR(v, &op->loc, NULL, "This anonymous operation must be the only defined operation.");
    check_directives(v, rec, op->dirs, op->n_dirs, 1u << (DL_QUERY_BIT + op->op), op_locs[op->op]);
    check_variable_defs(v, rec, op);
    root = op->op == AG_GRAPHQL_QUERY      ? v->s->query
           : op->op == AG_GRAPHQL_MUTATION ? v->s->mutation
                                           : v->s->subscription;
    if (root == NULL) {
        ERR(v, &op->loc, NULL, "Schema is not configured to execute %s operation.",
            op->op == AG_GRAPHQL_MUTATION ? "mutation" : "subscription");
        return;
    }
    if (op->op == AG_GRAPHQL_SUBSCRIPTION && op->sel->n != 1) {
        if (op->name)
            ERR(v, &op->loc, NULL, "Subscription \"%s\" must select only one top level field.",
                op->name);
        else
            ERR(v, &op->loc, NULL, "Anonymous Subscription must select only one top level field.");
    }
    visit_selset(v, rec, root, op->sel);
}

static void
check_fragment(vctx_t *v, size_t idx)
{
    ag_graphql__fragment_t  *fr = &v->doc->frags[idx];
    const ag_graphql_type_t *t;

    check_directives(v, &v->frag_recs[idx], fr->dirs, fr->n_dirs, DL(FRAGMENT_DEFINITION),
                     "FRAGMENT_DEFINITION");
    if ((t = ag_graphql__type_lookup(v->s, fr->type_cond)) == NULL) {
        ERR(v, &fr->type_loc, NULL, "Unknown type \"%s\".", fr->type_cond);
        return;
    }
    if (!is_composite(t)) {
        ERR(v, &fr->type_loc, NULL,
            "Fragment \"%s\" cannot condition on non composite type "
            "\"%s\".",
            fr->name, t->name);
        return;
    }
    fr->type = t;
    visit_selset(v, &v->frag_recs[idx], t, fr->sel);
}

/* NoUnusedFragments: every fragment reachable from some operation (stack: room for all). */
static void
check_unused_fragments(vctx_t *v, const rec_t *op_recs, size_t *stack)
{
    size_t nf = v->doc->n_frags, sp = 0;
    bool  *reach = ag_arena_calloc(v->a, nf + 1);

    if (reach == NULL) {
        v->el->nomem = true;
        return;
    }
    for (size_t o = 0; o < v->doc->n_ops; o++)
        for (size_t i = 0; i < op_recs[o].n_spreads; i++) {
            size_t k = op_recs[o].spreads[i];
            if (!reach[k]) {
                reach[k] = true;
                stack[sp++] = k;
            }
        }
    while (sp) {
        const rec_t *fr = &v->frag_recs[stack[--sp]];
        for (size_t i = 0; i < fr->n_spreads; i++) {
            size_t k = fr->spreads[i];
            if (!reach[k]) {
                reach[k] = true;
                stack[sp++] = k;
            }
        }
    }
    for (size_t k = 0; k < nf; k++)
        if (!reach[k])
            ERR(v, &v->doc->frags[k].loc, NULL, "Fragment \"%s\" is never used.",
                v->doc->frags[k].name);
}

/* Run every rule; errors are appended to el (at most AG_GQL_MAX_ERRORS). The work done. */
long
ag_graphql__validate(const ag_graphql_schema_t *s, ag_graphql__document_t *doc,
                     ag_graphql__errlist_t *el)
{
    vctx_t  v = {.s = s, .doc = doc, .el = el, .a = el->arena};
    rec_t  *op_recs;
    size_t *stack;

    v.frag_recs = ag_arena_calloc(v.a, (doc->n_frags + 1) * sizeof(rec_t));
    op_recs = ag_arena_calloc(v.a, (doc->n_ops + 1) * sizeof(rec_t));
    stack = ag_arena_alloc(v.a, (doc->n_frags + 1) * sizeof(*stack));
    v.stamp = ag_arena_calloc(v.a, (doc->n_frags + 1) * sizeof(*v.stamp));
    if (v.frag_recs == NULL || op_recs == NULL || stack == NULL || v.stamp == NULL) {
        el->nomem = true;
        return 0;
    }
    unique_operations(&v);
    index_fragments(&v);
    if (el->nomem)
        return v.work;
    for (size_t i = 0; i < doc->n_frags; i++)
        check_fragment(&v, i);
    for (size_t i = 0; i < doc->n_ops; i++)
        check_operation(&v, &doc->ops[i], &op_recs[i]);
    if (el->nomem)
        return v.work;
    /* what follows depends on how the parts combine: bounded by the document's size */
    v.work = v.nodes + (long)doc->n_frags + (long)doc->n_ops;
    v.budget = BUDGET_BASE + BUDGET_PER_SELECTION * v.nodes;
    check_unused_fragments(&v, op_recs, stack);
    check_cycles(&v);
    ag_graphql__check_overlaps(&v);
    for (size_t i = 0; i < doc->n_ops && !el->nomem && !v.over; i++)
        check_variables(&v, &doc->ops[i], &op_recs[i], stack);
    if (v.over)
        ag_graphql__err_add(el, NULL, NULL, "query_too_complex",
                            "Document is too complex to validate: it takes more than %ld steps.",
                            v.budget);
    return v.work;
}
