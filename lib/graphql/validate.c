/*
 * lib/graphql/validate.c — the validation rules of spec §5 that matter for an
 * API server. One typed walk per operation and fragment checks fields,
 * arguments, values, directives and spreads and records variable usages and
 * spreads; document-level passes then check names, fragment use and cycles,
 * and variables per operation through the fragments it reaches. Messages are
 * graphql-js's. OverlappingFieldsCanBeMerged is simplified: fields under one
 * response name in one selection set must be the same field with the same
 * arguments (sub-selections are not merged across fragments).
 */
#include "graphql/graphql_int.h"

#include <stdlib.h>
#include <string.h>

typedef struct {
    const char               *name;
    const ag_graphql__tref_t *type;        /* expected at the position */
    bool                      has_default; /* the position has a default value */
    ag_graphql__loc_t         loc;
} usage_t;

/* What one definition (operation or fragment) uses. */
typedef struct {
    usage_t     *uses;
    size_t       n_uses, cap_uses;
    const char **spreads;
    size_t       n_spreads, cap_spreads;
} rec_t;

typedef struct {
    const ag_graphql_schema_t *s;
    ag_graphql__document_t    *doc;
    ag_graphql__errlist_t     *el;
    ag_arena_t                *a;
    rec_t                     *frag_recs; /* parallel to doc->frags */
} vctx_t;

#define ERR(v, l1, l2, ...)                                                                        \
    ag_graphql__err_add((v)->el, (l1), (l2), "validation_failed", __VA_ARGS__)

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

const ag_graphql__fragment_t *
ag_graphql__fragment_find(const ag_graphql__document_t *doc, const char *name)
{
    for (size_t i = 0; i < doc->n_frags; i++)
        if (strcmp(doc->frags[i].name, name) == 0)
            return &doc->frags[i];
    return NULL;
}

static size_t
frag_index(const vctx_t *v, const char *name)
{
    for (size_t i = 0; i < v->doc->n_frags; i++)
        if (strcmp(v->doc->frags[i].name, name) == 0)
            return i;
    return SIZE_MAX;
}

static bool
is_composite(const ag_graphql_type_t *t)
{
    return t->kind == K_OBJECT || t->kind == K_INTERFACE || t->kind == K_UNION;
}

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

/* ---- values and arguments -------------------------------------------------------------- */

/* Record the variables in a value with the type expected where each occurs. */
static void
value_usages(vctx_t *v, rec_t *rec, const ag_graphql__tref_t *t, bool has_default,
             const ag_graphql__value_t *val)
{
    const ag_graphql__tref_t *u = t;

    if (val->kind == V_VAR) {
        usage_t us = {val->str, t, has_default, val->loc};
        PUSH(v, rec->uses, rec->n_uses, rec->cap_uses, &us);
        return;
    }
    if (t == NULL)
        return;
    while (u->kind == T_NONNULL)
        u = u->of;
    if (val->kind == V_LIST) {
        for (size_t i = 0; i < val->n; i++)
            value_usages(v, rec, u->kind == T_LIST ? u->of : NULL, false, val->u.items[i]);
    } else if (val->kind == V_OBJECT) {
        const ag_graphql_type_t *nt = u->kind == T_NAMED ? u->type : NULL;
        for (size_t i = 0; i < val->n; i++) {
            const ag_graphql__input_value_t *fd =
                nt && nt->kind == K_INPUT_OBJECT
                    ? ag_graphql__input_lookup(nt->inputs, nt->n_inputs, val->u.fields[i].name)
                    : NULL;
            value_usages(v, rec, fd ? fd->type : NULL, fd && fd->def, val->u.fields[i].value);
        }
    }
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
    for (size_t i = 0; i < n_args; i++) {
        const ag_graphql__arg_t         *arg = &args[i];
        const ag_graphql__input_value_t *d = ag_graphql__input_lookup(defs, n_defs, arg->name);
        ag_graphql__loc_t                loc;
        const char                      *msg;

        for (size_t j = 0; j < i; j++)
            if (strcmp(args[j].name, arg->name) == 0) {
                ERR(v, &args[j].loc, &arg->loc, "There can be only one argument named \"%s\".",
                    arg->name);
                break;
            }
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
        for (size_t j = 0; j < i && !def->repeatable; j++)
            if (strcmp(dirs[j].name, d->name) == 0) {
                ERR(v, &dirs[j].loc, &d->loc,
                    "The directive \"@%s\" can only be used once at this location.", d->name);
                break;
            }
        check_args(v, rec, def->args, def->n_args, d->args, d->n_args, false, at ? at : "",
                   at ? at : "", &d->loc);
    }
}

/* ---- overlapping fields (simplified) ------------------------------------------------------ */

typedef struct {
    const char                    *key;
    const ag_graphql__selection_t *sel;
    const ag_graphql_type_t       *parent;
} flat_t;

typedef struct {
    flat_t *items;
    size_t  n, cap;
} flats_t;

typedef struct seen_frag {
    const struct seen_frag *prev;
    const char             *name;
} seen_frag_t;

/*
 * The fields of a selection set with fragments expanded in place. Each
 * fragment is expanded once per collection (*seen is shared), which keeps a
 * fragment spread twice at every level from growing exponentially.
 */
static void
flatten(vctx_t *v, const ag_graphql_type_t *parent, const ag_graphql__selset_t *set, flats_t *out,
        seen_frag_t **seen)
{
    for (size_t i = 0; i < set->n; i++) {
        const ag_graphql__selection_t *sel = &set->items[i];
        if (sel->kind == S_FIELD) {
            flat_t f = {sel->alias ? sel->alias : sel->name, sel, parent};
            PUSH(v, out->items, out->n, out->cap, &f);
        } else if (sel->kind == S_INLINE) {
            const ag_graphql_type_t *t =
                sel->type_cond ? ag_graphql__type_lookup(v->s, sel->type_cond) : parent;
            if (t)
                flatten(v, t, sel->sel, out, seen);
        } else {
            const ag_graphql__fragment_t *fr = ag_graphql__fragment_find(v->doc, sel->name);
            bool                          dup = false;
            for (const seen_frag_t *s = *seen; s && !dup; s = s->prev)
                dup = strcmp(s->name, sel->name) == 0;
            const ag_graphql_type_t *t = fr ? ag_graphql__type_lookup(v->s, fr->type_cond) : NULL;
            seen_frag_t             *ns;
            if (dup || t == NULL)
                continue;
            if ((ns = ag_arena_alloc(v->a, sizeof(*ns))) == NULL) {
                v->el->nomem = true;
                return;
            }
            ns->prev = *seen;
            ns->name = sel->name;
            *seen = ns;
            flatten(v, t, fr->sel, out, seen);
        }
    }
}

static int
flat_cmp(const void *a, const void *b)
{
    return strcmp(((const flat_t *)a)->key, ((const flat_t *)b)->key);
}

static bool
same_args(vctx_t *v, const ag_graphql__selection_t *a, const ag_graphql__selection_t *b)
{
    if (a->n_args != b->n_args)
        return false;
    for (size_t i = 0; i < a->n_args; i++) {
        const ag_graphql__arg_t *m = NULL;
        for (size_t j = 0; j < b->n_args && !m; j++)
            if (strcmp(a->args[i].name, b->args[j].name) == 0)
                m = &b->args[j];
        if (m == NULL)
            return false;
        ag_buf_t x, y;
        ag_buf_init(&x);
        ag_buf_init(&y);
        ag_graphql__print_value(&x, a->args[i].value);
        ag_graphql__print_value(&y, m->value);
        bool eq = x.data && y.data && strcmp(x.data, y.data) == 0;
        ag_buf_fini(&x);
        ag_buf_fini(&y);
        if (!eq)
            return false;
    }
    return true;
}

static void
check_overlap(vctx_t *v, const ag_graphql_type_t *parent, const ag_graphql__selset_t *set)
{
    flats_t      fl = {0};
    seen_frag_t *seen = NULL;

    flatten(v, parent, set, &fl, &seen);
    if (fl.n < 2)
        return;
    qsort(fl.items, fl.n, sizeof(*fl.items), flat_cmp);
    for (size_t i = 0; i < fl.n;) {
        size_t j = i + 1;
        bool   reported = false;
        for (; j < fl.n && strcmp(fl.items[j].key, fl.items[i].key) == 0; j++) {
            const flat_t *a = &fl.items[i], *b = &fl.items[j];
            if (reported || (a->parent != b->parent && a->parent->kind == K_OBJECT &&
                             b->parent->kind == K_OBJECT))
                continue;
            if (strcmp(a->sel->name, b->sel->name) != 0) {
                ERR(v, &a->sel->loc, &b->sel->loc,
                    "Fields \"%s\" conflict because \"%s\" and \"%s\" are different fields. Use "
                    "different aliases on the fields to fetch both if this was intentional.",
                    a->key, a->sel->name, b->sel->name);
                reported = true;
            } else if (!same_args(v, a->sel, b->sel)) {
                ERR(v, &a->sel->loc, &b->sel->loc,
                    "Fields \"%s\" conflict because they have differing arguments. Use "
                    "different aliases on the fields to fetch both if this was intentional.",
                    a->key);
                reported = true;
            }
        }
        i = j;
    }
}

/* ---- the typed walk ---------------------------------------------------------------------- */

static void visit_selset(vctx_t *v, rec_t *rec, const ag_graphql_type_t *parent,
                         const ag_graphql__selset_t *set);

static void
visit_field(vctx_t *v, rec_t *rec, const ag_graphql_type_t *parent,
            const ag_graphql__selection_t *sel)
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
visit_inline(vctx_t *v, rec_t *rec, const ag_graphql_type_t *parent,
             const ag_graphql__selection_t *sel)
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
        if (!types_overlap(t, parent))
            ERR(v, &sel->loc, NULL,
                "Fragment cannot be spread here as objects of type \"%s\" can never be of type "
                "\"%s\".",
                parent->name, t->name);
    }
    visit_selset(v, rec, t, sel->sel);
}

static void
visit_spread(vctx_t *v, rec_t *rec, const ag_graphql_type_t *parent,
             const ag_graphql__selection_t *sel)
{
    const ag_graphql__fragment_t *fr = ag_graphql__fragment_find(v->doc, sel->name);
    const ag_graphql_type_t      *t;

    check_directives(v, rec, sel->dirs, sel->n_dirs, DL(FRAGMENT_SPREAD), "FRAGMENT_SPREAD");
    if (fr == NULL) {
        ERR(v, &sel->loc, NULL, "Unknown fragment \"%s\".", sel->name);
        return;
    }
    PUSH(v, rec->spreads, rec->n_spreads, rec->cap_spreads, &sel->name);
    t = ag_graphql__type_lookup(v->s, fr->type_cond);
    if (t && is_composite(t) && !types_overlap(t, parent))
        ERR(v, &sel->loc, NULL,
            "Fragment \"%s\" cannot be spread here as objects of type \"%s\" can never be of "
            "type \"%s\".",
            sel->name, parent->name, t->name);
}

static void
visit_selset(vctx_t *v, rec_t *rec, const ag_graphql_type_t *parent,
             const ag_graphql__selset_t *set)
{
    for (size_t i = 0; i < set->n && v->el->n < AG_GQL_MAX_ERRORS; i++) {
        const ag_graphql__selection_t *sel = &set->items[i];
        if (sel->kind == S_FIELD)
            visit_field(v, rec, parent, sel);
        else if (sel->kind == S_INLINE)
            visit_inline(v, rec, parent, sel);
        else
            visit_spread(v, rec, parent, sel);
    }
    check_overlap(v, parent, set);
}

/* ---- document-level rules ---------------------------------------------------------------- */

static const char *const op_locs[] = {"QUERY", "MUTATION", "SUBSCRIPTION"};

static void
check_variable_defs(vctx_t *v, rec_t *rec, const ag_graphql__operation_t *op)
{
    for (size_t i = 0; i < op->n_vars; i++) {
        const ag_graphql__vardef_t *vd = &op->vars[i];
        const char                 *msg;
        ag_graphql__loc_t           loc;

        for (size_t j = 0; j < i; j++)
            if (strcmp(op->vars[j].name, vd->name) == 0) {
                ERR(v, &op->vars[j].loc, &vd->loc, "There can be only one variable named \"$%s\".",
                    vd->name);
                break;
            }
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

/* NoUndefinedVariables, NoUnusedVariables, VariablesInAllowedPosition. */
static void
check_variables(vctx_t *v, const ag_graphql__operation_t *op, rec_t *oprec)
{
    size_t  nf = v->doc->n_frags;
    bool   *reach = nf ? ag_arena_calloc(v->a, nf) : NULL;
    size_t *stack = nf ? ag_arena_alloc(v->a, nf * sizeof(*stack)) : NULL;
    bool   *used = op->n_vars ? ag_arena_calloc(v->a, op->n_vars) : NULL;
    size_t  sp = 0;

    if ((nf && (reach == NULL || stack == NULL)) || (op->n_vars && used == NULL)) {
        v->el->nomem = true;
        return;
    }
    /* fragments reachable from the operation */
    for (size_t i = 0; i < oprec->n_spreads; i++) {
        size_t k = frag_index(v, oprec->spreads[i]);
        if (k != SIZE_MAX && !reach[k]) {
            reach[k] = true;
            stack[sp++] = k;
        }
    }
    while (sp) {
        const rec_t *fr = &v->frag_recs[stack[--sp]];
        for (size_t i = 0; i < fr->n_spreads; i++) {
            size_t k = frag_index(v, fr->spreads[i]);
            if (k != SIZE_MAX && !reach[k]) {
                reach[k] = true;
                stack[sp++] = k;
            }
        }
    }
    for (size_t r = 0; r <= nf; r++) {
        const rec_t *rec = r == nf ? oprec : reach[r] ? &v->frag_recs[r] : NULL;
        for (size_t i = 0; rec && i < rec->n_uses; i++) {
            const usage_t              *u = &rec->uses[i];
            const ag_graphql__vardef_t *vd = NULL;
            for (size_t j = 0; j < op->n_vars && !vd; j++)
                if (strcmp(op->vars[j].name, u->name) == 0) {
                    vd = &op->vars[j];
                    used[j] = true;
                }
            if (vd == NULL) {
                if (op->name)
                    ERR(v, &u->loc, &op->loc,
                        "Variable \"$%s\" is not defined by operation \"%s\".", u->name, op->name);
                else
                    ERR(v, &u->loc, &op->loc, "Variable \"$%s\" is not defined.", u->name);
            } else if (u->type && ag_graphql__named(vd->type) && !allowed(vd, u)) {
                ERR(v, &vd->loc, &u->loc,
                    "Variable \"$%s\" of type \"%s\" used in position expecting type \"%s\".",
                    u->name, ag_graphql__tref_str(v->a, vd->type),
                    ag_graphql__tref_str(v->a, u->type));
            }
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
            size_t k = frag_index(v, rec->spreads[next[cur]++]);
            if (k == SIZE_MAX || state[k] == 2)
                continue;
            if (state[k] == 1) {
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
check_operation(vctx_t *v, const ag_graphql__operation_t *op, size_t idx, rec_t *rec)
{
    const ag_graphql_type_t *root;

    for (size_t j = 0; j < idx && op->name; j++)
        if (v->doc->ops[j].name && strcmp(v->doc->ops[j].name, op->name) == 0) {
            ERR(v, &v->doc->ops[j].loc, &op->loc, "There can be only one operation named \"%s\".",
                op->name);
            break;
        }
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
    const ag_graphql__fragment_t *fr = &v->doc->frags[idx];
    const ag_graphql_type_t      *t;

    for (size_t j = 0; j < idx; j++)
        if (strcmp(v->doc->frags[j].name, fr->name) == 0) {
            ERR(v, &v->doc->frags[j].loc, &fr->loc, "There can be only one fragment named \"%s\".",
                fr->name);
            break;
        }
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
    visit_selset(v, &v->frag_recs[idx], t, fr->sel);
}

/* NoUnusedFragments: every fragment reachable from some operation. */
static void
check_unused_fragments(vctx_t *v, rec_t *op_recs)
{
    size_t  nf = v->doc->n_frags, sp = 0;
    bool   *reach = ag_arena_calloc(v->a, nf + 1);
    size_t *stack = ag_arena_alloc(v->a, (nf + 1) * sizeof(*stack));

    if (reach == NULL || stack == NULL) {
        v->el->nomem = true;
        return;
    }
    for (size_t o = 0; o < v->doc->n_ops; o++)
        for (size_t i = 0; i < op_recs[o].n_spreads; i++) {
            size_t k = frag_index(v, op_recs[o].spreads[i]);
            if (k != SIZE_MAX && !reach[k]) {
                reach[k] = true;
                stack[sp++] = k;
            }
        }
    while (sp) {
        const rec_t *fr = &v->frag_recs[stack[--sp]];
        for (size_t i = 0; i < fr->n_spreads; i++) {
            size_t k = frag_index(v, fr->spreads[i]);
            if (k != SIZE_MAX && !reach[k]) {
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

/* Run every rule; errors are appended to el (at most AG_GQL_MAX_ERRORS). */
void
ag_graphql__validate(const ag_graphql_schema_t *s, ag_graphql__document_t *doc,
                     ag_graphql__errlist_t *el)
{
    vctx_t v = {.s = s, .doc = doc, .el = el, .a = el->arena};
    rec_t *op_recs;

    v.frag_recs = ag_arena_calloc(v.a, (doc->n_frags + 1) * sizeof(rec_t));
    op_recs = ag_arena_calloc(v.a, (doc->n_ops + 1) * sizeof(rec_t));
    if (v.frag_recs == NULL || op_recs == NULL) {
        el->nomem = true;
        return;
    }
    for (size_t i = 0; i < doc->n_frags; i++)
        check_fragment(&v, i);
    for (size_t i = 0; i < doc->n_ops; i++)
        check_operation(&v, &doc->ops[i], i, &op_recs[i]);
    check_unused_fragments(&v, op_recs);
    check_cycles(&v);
    for (size_t i = 0; i < doc->n_ops && !el->nomem; i++)
        check_variables(&v, &doc->ops[i], &op_recs[i]);
}
