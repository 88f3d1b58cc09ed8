/*
 * lib/graphql/parser.c — recursive descent over the executable-document grammar
 * (spec §2). Every recursion (selection sets, list and object values, type
 * references) passes through nest(), so a hostile document fails with a syntax
 * error instead of exhausting the stack. All nodes live in the caller's arena.
 */
#include "graphql/graphql_int.h"

#include <stdarg.h>
#include <string.h>

typedef struct {
    ag_graphql__lexer_t lx;
    ag_arena_t         *a;
    int                 depth, max_depth;
    const char         *msg;
    ag_graphql__loc_t   loc;
} parser_t;

#define TRY(x)                                                                                     \
    do {                                                                                           \
        ag_status_t st__ = (x);                                                                    \
        if (st__ != AG_OK)                                                                         \
            return st__;                                                                           \
    } while (0)

static ag_status_t fail(parser_t *p, const ag_graphql__loc_t *loc, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Record a syntax error at loc (the first one wins). */
static ag_status_t
fail(parser_t *p, const ag_graphql__loc_t *loc, const char *fmt, ...)
{
    char    msg[512];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    p->msg = ag_arena_printf(p->a, "Syntax Error: %s", msg);
    p->loc = *loc;
    return p->msg ? AG_EBADREQ : AG_ENOMEM;
}

static ag_status_t
advance(parser_t *p)
{
    ag_status_t st = ag_graphql__lex_next(&p->lx);
    if (st == AG_EBADREQ) {
        p->msg = p->lx.err;
        p->loc = p->lx.err_loc;
    }
    return st;
}

static bool
peek(const parser_t *p, ag_graphql__tok_kind_t k)
{
    return p->lx.tok.kind == k;
}

static bool
peek_keyword(const parser_t *p, const char *kw)
{
    return p->lx.tok.kind == TK_NAME && strcmp(p->lx.tok.value, kw) == 0;
}

static ag_status_t
unexpected(parser_t *p)
{
    return fail(p, &p->lx.tok.loc, "Unexpected %s.", ag_graphql__tok_desc(p->a, &p->lx.tok));
}

/* Consume a token of kind k or fail with "Expected k, found ...". */
static ag_status_t
expect(parser_t *p, ag_graphql__tok_kind_t k)
{
    if (!peek(p, k))
        return fail(p, &p->lx.tok.loc, "Expected %s, found %s.",
                    k < TK_NAME ? ag_arena_printf(p->a, "\"%s\"", ag_graphql__tok_kind_name(k))
                                : ag_graphql__tok_kind_name(k),
                    ag_graphql__tok_desc(p->a, &p->lx.tok));
    return advance(p);
}

/* Consume k when present; *found tells whether it was. */
static ag_status_t
optional(parser_t *p, ag_graphql__tok_kind_t k, bool *found)
{
    *found = peek(p, k);
    return *found ? advance(p) : AG_OK;
}

static ag_status_t
expect_keyword(parser_t *p, const char *kw)
{
    if (!peek_keyword(p, kw))
        return fail(p, &p->lx.tok.loc, "Expected \"%s\", found %s.", kw,
                    ag_graphql__tok_desc(p->a, &p->lx.tok));
    return advance(p);
}

static ag_status_t
parse_name(parser_t *p, const char **out, ag_graphql__loc_t *loc)
{
    if (!peek(p, TK_NAME))
        return expect(p, TK_NAME);
    *out = p->lx.tok.value;
    if (loc)
        *loc = p->lx.tok.loc;
    return advance(p);
}

/* Enter one level of nesting; fails once max_depth is exceeded. */
static ag_status_t
nest(parser_t *p)
{
    if (++p->depth > p->max_depth)
        return fail(p, &p->lx.tok.loc, "Document is nested too deeply (limit %d).", p->max_depth);
    return AG_OK;
}

/*
 * Append one element of size sz to an arena vector, doubling it when full;
 * the old copy stays in the arena until it is reset, which is the price of
 * not knowing counts ahead of time.
 */
static void *
vec_push(ag_arena_t *a, void **items, size_t *n, size_t *cap, size_t sz)
{
    if (*n == *cap) {
        size_t ncap = *cap ? *cap * 2 : 4;
        void  *nv = ag_arena_alloc(a, ncap * sz);
        if (nv == NULL)
            return NULL;
        if (*n)
            memcpy(nv, *items, *n * sz);
        *items = nv;
        *cap = ncap;
    }
    void *slot = (char *)*items + (*n)++ * sz;
    memset(slot, 0, sz);
    return slot;
}

#define PUSH(p, arr, n, cap) vec_push((p)->a, (void **)&(arr), &(n), &(cap), sizeof(*(arr)))

static ag_status_t parse_value(parser_t *p, bool is_const, ag_graphql__value_t **out);
static ag_status_t parse_selection_set(parser_t *p, ag_graphql__selset_t **out);

static ag_status_t
parse_list_value(parser_t *p, bool is_const, ag_graphql__value_t *v)
{
    size_t cap = 0;

    v->kind = V_LIST;
    TRY(nest(p));
    TRY(advance(p));
    while (!peek(p, TK_BRACKET_R)) {
        ag_graphql__value_t **slot = PUSH(p, v->u.items, v->n, cap);
        if (slot == NULL)
            return AG_ENOMEM;
        TRY(parse_value(p, is_const, slot));
    }
    TRY(advance(p));
    p->depth--;
    return AG_OK;
}

static ag_status_t
parse_object_value(parser_t *p, bool is_const, ag_graphql__value_t *v)
{
    size_t cap = 0;

    v->kind = V_OBJECT;
    TRY(nest(p));
    TRY(advance(p));
    while (!peek(p, TK_BRACE_R)) {
        ag_graphql__ofield_t *f = PUSH(p, v->u.fields, v->n, cap);
        if (f == NULL)
            return AG_ENOMEM;
        TRY(parse_name(p, &f->name, &f->loc));
        TRY(expect(p, TK_COLON));
        TRY(parse_value(p, is_const, &f->value));
    }
    TRY(advance(p));
    p->depth--;
    return AG_OK;
}

/* Value[Const] (spec §2.9); variables are refused when is_const. */
static ag_status_t
parse_value(parser_t *p, bool is_const, ag_graphql__value_t **out)
{
    ag_graphql__value_t       *v = ag_arena_calloc(p->a, sizeof(*v));
    const ag_graphql__token_t *t = &p->lx.tok;

    if (v == NULL)
        return AG_ENOMEM;
    *out = v;
    v->loc = t->loc;
    switch (t->kind) {
    case TK_BRACKET_L:
        return parse_list_value(p, is_const, v);
    case TK_BRACE_L:
        return parse_object_value(p, is_const, v);
    case TK_DOLLAR:
        if (is_const) {
            TRY(advance(p));
            if (peek(p, TK_NAME))
                return fail(p, &v->loc, "Unexpected variable \"$%s\" in constant value.",
                            p->lx.tok.value);
            return unexpected(p);
        }
        v->kind = V_VAR;
        TRY(advance(p));
        return parse_name(p, &v->str, NULL);
    case TK_INT:
    case TK_FLOAT:
        v->kind = t->kind == TK_INT ? V_INT : V_FLOAT;
        v->str = t->value;
        return advance(p);
    case TK_STRING:
    case TK_BLOCK_STRING:
        v->kind = V_STRING;
        v->str = t->value;
        v->len = t->value_len;
        return advance(p);
    case TK_NAME:
        if (strcmp(t->value, "true") == 0 || strcmp(t->value, "false") == 0) {
            v->kind = V_BOOL;
            v->b = t->value[0] == 't';
        } else if (strcmp(t->value, "null") == 0) {
            v->kind = V_NULL;
        } else {
            v->kind = V_ENUM;
            v->str = t->value;
        }
        return advance(p);
    default:
        return unexpected(p);
    }
}

/* Arguments: "(" Argument+ ")" when present. */
static ag_status_t
parse_arguments(parser_t *p, bool is_const, ag_graphql__arg_t **args, size_t *n)
{
    size_t cap = 0;
    bool   has;

    *n = 0;
    TRY(optional(p, TK_PAREN_L, &has));
    if (!has)
        return AG_OK;
    do {
        ag_graphql__arg_t *arg = PUSH(p, *args, *n, cap);
        if (arg == NULL)
            return AG_ENOMEM;
        TRY(parse_name(p, &arg->name, &arg->loc));
        TRY(expect(p, TK_COLON));
        TRY(parse_value(p, is_const, &arg->value));
    } while (!peek(p, TK_PAREN_R));
    TRY(advance(p));
    return AG_OK;
}

static ag_status_t
parse_directives(parser_t *p, bool is_const, ag_graphql__directive_t **dirs, size_t *n)
{
    size_t cap = 0;

    *n = 0;
    while (peek(p, TK_AT)) {
        ag_graphql__directive_t *d = PUSH(p, *dirs, *n, cap);
        if (d == NULL)
            return AG_ENOMEM;
        d->loc = p->lx.tok.loc;
        TRY(advance(p));
        TRY(parse_name(p, &d->name, NULL));
        TRY(parse_arguments(p, is_const, &d->args, &d->n_args));
    }
    return AG_OK;
}

/* Type: NamedType | "[" Type "]" | Type "!" */
static ag_status_t
parse_type_ref(parser_t *p, ag_graphql__tref_t **out)
{
    ag_graphql__tref_t *t = ag_arena_calloc(p->a, sizeof(*t));
    bool                bang;

    if (t == NULL)
        return AG_ENOMEM;
    t->loc = p->lx.tok.loc;
    if (peek(p, TK_BRACKET_L)) {
        TRY(nest(p));
        TRY(advance(p));
        t->kind = T_LIST;
        TRY(parse_type_ref(p, &t->of));
        TRY(expect(p, TK_BRACKET_R));
        p->depth--;
    } else {
        t->kind = T_NAMED;
        TRY(parse_name(p, &t->name, NULL));
    }
    TRY(optional(p, TK_BANG, &bang));
    if (bang) {
        ag_graphql__tref_t *nn = ag_arena_calloc(p->a, sizeof(*nn));
        if (nn == NULL)
            return AG_ENOMEM;
        nn->kind = T_NONNULL;
        nn->of = t;
        nn->loc = t->loc;
        t = nn;
    }
    *out = t;
    return AG_OK;
}

static ag_status_t skip_description(parser_t *p, bool definition);

static ag_status_t
parse_variable_definitions(parser_t *p, ag_graphql__operation_t *op)
{
    size_t cap = 0;
    bool   has, eq;

    TRY(optional(p, TK_PAREN_L, &has));
    if (!has)
        return AG_OK;
    do {
        ag_graphql__vardef_t *vd = PUSH(p, op->vars, op->n_vars, cap);
        if (vd == NULL)
            return AG_ENOMEM;
        TRY(skip_description(p, false));
        vd->loc = p->lx.tok.loc;
        TRY(expect(p, TK_DOLLAR));
        TRY(parse_name(p, &vd->name, NULL));
        TRY(expect(p, TK_COLON));
        TRY(parse_type_ref(p, &vd->type));
        TRY(optional(p, TK_EQUALS, &eq));
        if (eq)
            TRY(parse_value(p, true, &vd->def));
        TRY(parse_directives(p, true, &vd->dirs, &vd->n_dirs));
    } while (!peek(p, TK_PAREN_R));
    TRY(advance(p));
    return AG_OK;
}

static ag_status_t
parse_field(parser_t *p, ag_graphql__selection_t *s)
{
    bool colon;

    s->kind = S_FIELD;
    TRY(parse_name(p, &s->name, NULL));
    TRY(optional(p, TK_COLON, &colon));
    if (colon) {
        s->alias = s->name;
        TRY(parse_name(p, &s->name, NULL));
    }
    TRY(parse_arguments(p, false, &s->args, &s->n_args));
    TRY(parse_directives(p, false, &s->dirs, &s->n_dirs));
    if (peek(p, TK_BRACE_L))
        TRY(parse_selection_set(p, &s->sel));
    return AG_OK;
}

/* "..." FragmentName Directives? | "..." TypeCondition? Directives? SelectionSet */
static ag_status_t
parse_fragment_selection(parser_t *p, ag_graphql__selection_t *s)
{
    TRY(advance(p));
    if (peek(p, TK_NAME) && !peek_keyword(p, "on")) {
        s->kind = S_SPREAD;
        TRY(parse_name(p, &s->name, NULL));
        return parse_directives(p, false, &s->dirs, &s->n_dirs);
    }
    s->kind = S_INLINE;
    if (peek_keyword(p, "on")) {
        TRY(advance(p));
        TRY(parse_name(p, &s->type_cond, NULL));
    }
    TRY(parse_directives(p, false, &s->dirs, &s->n_dirs));
    return parse_selection_set(p, &s->sel);
}

/* "{" Selection+ "}" */
static ag_status_t
parse_selection_set(parser_t *p, ag_graphql__selset_t **out)
{
    ag_graphql__selset_t *set = ag_arena_calloc(p->a, sizeof(*set));
    size_t                cap = 0;

    if (set == NULL)
        return AG_ENOMEM;
    *out = set;
    set->loc = p->lx.tok.loc;
    TRY(nest(p));
    TRY(expect(p, TK_BRACE_L));
    do {
        ag_graphql__selection_t *s = PUSH(p, set->items, set->n, cap);
        if (s == NULL)
            return AG_ENOMEM;
        s->loc = p->lx.tok.loc;
        if (peek(p, TK_SPREAD))
            TRY(parse_fragment_selection(p, s));
        else
            TRY(parse_field(p, s));
    } while (!peek(p, TK_BRACE_R));
    TRY(advance(p));
    p->depth--;
    return AG_OK;
}

static ag_status_t
parse_operation(parser_t *p, ag_graphql__operation_t *op)
{
    op->loc = p->lx.tok.loc;
    if (peek(p, TK_BRACE_L)) {
        op->op = AG_GRAPHQL_QUERY;
        return parse_selection_set(p, &op->sel);
    }
    if (peek_keyword(p, "query"))
        op->op = AG_GRAPHQL_QUERY;
    else if (peek_keyword(p, "mutation"))
        op->op = AG_GRAPHQL_MUTATION;
    else if (peek_keyword(p, "subscription"))
        op->op = AG_GRAPHQL_SUBSCRIPTION;
    else
        return unexpected(p);
    TRY(advance(p));
    if (peek(p, TK_NAME))
        TRY(parse_name(p, &op->name, NULL));
    TRY(parse_variable_definitions(p, op));
    TRY(parse_directives(p, false, &op->dirs, &op->n_dirs));
    return parse_selection_set(p, &op->sel);
}

static ag_status_t
parse_fragment(parser_t *p, ag_graphql__fragment_t *f)
{
    f->loc = p->lx.tok.loc;
    TRY(advance(p));
    if (peek_keyword(p, "on"))
        return unexpected(p);
    TRY(parse_name(p, &f->name, NULL));
    TRY(expect_keyword(p, "on"));
    TRY(parse_name(p, &f->type_cond, &f->type_loc));
    TRY(parse_directives(p, false, &f->dirs, &f->n_dirs));
    return parse_selection_set(p, &f->sel);
}

/*
 * A description (September 2025: operations, fragments and variable
 * definitions may have one, as type system definitions do). It documents the
 * document and changes nothing: skipped. Not before a shorthand query.
 */
static ag_status_t
skip_description(parser_t *p, bool definition)
{
    if (!peek(p, TK_STRING) && !peek(p, TK_BLOCK_STRING))
        return AG_OK;
    TRY(advance(p));
    if (definition && peek(p, TK_BRACE_L))
        return fail(p, &p->lx.tok.loc,
                    "Unexpected description, descriptions are not supported on shorthand "
                    "queries.");
    return AG_OK;
}

static ag_status_t
parse_document(parser_t *p, ag_graphql__document_t *doc)
{
    size_t ops_cap = 0, frags_cap = 0;

    TRY(advance(p));
    if (peek(p, TK_EOF))
        return unexpected(p); /* a document holds at least one definition */
    while (!peek(p, TK_EOF)) {
        TRY(skip_description(p, true));
        if (peek_keyword(p, "fragment")) {
            ag_graphql__fragment_t *f = PUSH(p, doc->frags, doc->n_frags, frags_cap);
            if (f == NULL)
                return AG_ENOMEM;
            TRY(parse_fragment(p, f));
        } else if (peek(p, TK_BRACE_L) || peek_keyword(p, "query") || peek_keyword(p, "mutation") ||
                   peek_keyword(p, "subscription")) {
            ag_graphql__operation_t *op = PUSH(p, doc->ops, doc->n_ops, ops_cap);
            if (op == NULL)
                return AG_ENOMEM;
            TRY(parse_operation(p, op));
        } else {
            return unexpected(p);
        }
    }
    return AG_OK;
}

ag_status_t
ag_graphql__parse(ag_arena_t *a, const char *src, size_t len, int max_nesting,
                  ag_graphql__document_t **out, const char **msg, ag_graphql__loc_t *loc)
{
    parser_t                p;
    ag_graphql__document_t *doc = ag_arena_calloc(a, sizeof(*doc));
    ag_status_t             st;

    if (doc == NULL)
        return AG_ENOMEM;
    memset(&p, 0, sizeof(p));
    p.a = a;
    p.max_depth = max_nesting > 0 ? max_nesting : AG_GQL_DEFAULT_NESTING;
    ag_graphql__lex_init(&p.lx, a, src, len);
    st = parse_document(&p, doc);
    if (st == AG_EBADREQ) {
        *msg = p.msg;
        *loc = p.loc;
        return st;
    }
    *out = st == AG_OK ? doc : NULL;
    return st;
}

/* Parse src as exactly one constant value; NULL on any error. */
ag_graphql__value_t *
ag_graphql__parse_const_value(ag_arena_t *a, const char *src)
{
    parser_t             p;
    ag_graphql__value_t *v = NULL;

    memset(&p, 0, sizeof(p));
    p.a = a;
    p.max_depth = AG_GQL_DEFAULT_NESTING;
    ag_graphql__lex_init(&p.lx, a, src, strlen(src));
    if (advance(&p) != AG_OK || parse_value(&p, true, &v) != AG_OK || !peek(&p, TK_EOF))
        return NULL;
    return v;
}

/* Parse src as exactly one type reference; NULL on any error. */
ag_graphql__tref_t *
ag_graphql__parse_type(ag_arena_t *a, const char *src)
{
    parser_t            p;
    ag_graphql__tref_t *t = NULL;

    memset(&p, 0, sizeof(p));
    p.a = a;
    p.max_depth = AG_GQL_DEFAULT_NESTING;
    ag_graphql__lex_init(&p.lx, a, src, strlen(src));
    if (advance(&p) != AG_OK || parse_type_ref(&p, &t) != AG_OK || !peek(&p, TK_EOF))
        return NULL;
    return t;
}
