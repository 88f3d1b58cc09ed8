/*
 * lib/graphql/request.c — the public entry points: prepare (parse, validate,
 * pick the operation), run (coerce variables, the limits of limits.c, the
 * caller's admission, execute within the memory bound) and the error list
 * shared by every phase. A request and all it
 * allocates belong to the caller's arena and so to one thread.
 */
#include "graphql/graphql_int.h"

#include <stdarg.h>
#include <string.h>

/* ---- errors ------------------------------------------------------------------------- */

void
ag_graphql__err_add(ag_graphql__errlist_t *el, const ag_graphql__loc_t *l1,
                    const ag_graphql__loc_t *l2, const char *code, const char *fmt, ...)
{
    ag_graphql__err_t *e;
    va_list            ap;
    char               msg[1024];

    if (el->n >= AG_GQL_MAX_ERRORS)
        return;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if ((e = ag_arena_calloc(el->arena, sizeof(*e))) == NULL ||
        (e->message = ag_arena_strdup(el->arena, msg)) == NULL) {
        el->nomem = true;
        return;
    }
    e->code = code;
    if (l1)
        e->locs[e->n_locs++] = *l1;
    if (l2)
        e->locs[e->n_locs++] = *l2;
    if (el->tail)
        el->tail->next = e;
    else
        el->head = e;
    el->tail = e;
    el->n++;
}

/* message, locations, path (taken over, may be NULL), extensions — graphql-js's order */
ag_json_t *
ag_graphql__err_json(const ag_graphql__err_t *e, ag_json_t *path)
{
    ag_json_t *o = ag_json_obj(), *locs = NULL, *ext = NULL;

    if (o == NULL || ag_json_set_str(o, "message", e->message) != AG_OK)
        goto fail;
    if (e->n_locs) {
        if ((locs = ag_json_arr()) == NULL || ag_json_set(o, "locations", locs) != AG_OK)
            goto fail;
        for (int i = 0; i < e->n_locs; i++) {
            ag_json_t *l = ag_json_obj();
            if (l == NULL || ag_json_push(locs, l) != AG_OK ||
                ag_json_set_int(l, "line", e->locs[i].line) != AG_OK ||
                ag_json_set_int(l, "column", e->locs[i].col) != AG_OK)
                goto fail;
        }
    }
    if (path) {
        ag_json_t *p = path;
        path = NULL;
        if (ag_json_set(o, "path", p) != AG_OK)
            goto fail;
    }
    if (e->code) {
        if ((ext = ag_json_obj()) == NULL || ag_json_set(o, "extensions", ext) != AG_OK ||
            ag_json_set_str(ext, "code", e->code) != AG_OK)
            goto fail;
    }
    return o;
fail:
    ag_json_free(path);
    ag_json_free(o);
    return NULL;
}

ag_json_t *
ag_graphql__errors_json(const ag_graphql__errlist_t *el)
{
    ag_json_t *res = ag_json_obj(), *arr = ag_json_arr();

    if (res == NULL || arr == NULL || ag_json_set(res, "errors", arr) != AG_OK) {
        ag_json_free(res);
        if (res == NULL)
            ag_json_free(arr);
        return NULL;
    }
    for (const ag_graphql__err_t *e = el->head; e; e = e->next) {
        ag_json_t *ej = ag_graphql__err_json(e, NULL);
        if (ej == NULL || ag_json_push(arr, ej) != AG_OK) {
            ag_json_free(res);
            return NULL;
        }
    }
    return res;
}

/* ---- values and memo ---------------------------------------------------------------- */

ag_status_t
ag_graphql_list(ag_arena_t *arena, size_t n, ag_graphql_value_t *out)
{
    memset(out, 0, sizeof(*out));
    out->kind = AG_GRAPHQL_LIST;
    if (n && (out->items = ag_arena_calloc(arena, n * sizeof(*out->items))) == NULL)
        return AG_ENOMEM;
    out->n = n;
    return AG_OK;
}

#define MEMO_BUCKETS 64

struct memo_entry {
    struct memo_entry *next;
    const char        *key;
    void              *val;
};

struct ag_graphql__memo {
    struct memo_entry *b[MEMO_BUCKETS];
};

static unsigned
hash(const char *s)
{
    unsigned h = 2166136261u; /* FNV-1a */
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 16777619u;
    return h;
}

void *
ag_graphql_memo_get(ag_graphql_info_t *info, const char *key)
{
    ag_graphql__memo_t *m = info->request->memo;
    if (m == NULL)
        return NULL;
    for (struct memo_entry *e = m->b[hash(key) % MEMO_BUCKETS]; e; e = e->next)
        if (strcmp(e->key, key) == 0)
            return e->val;
    return NULL;
}

/* Insert or replace; the key is copied into the request arena. */
ag_status_t
ag_graphql_memo_put(ag_graphql_info_t *info, const char *key, void *val)
{
    ag_graphql_request_t *r = info->request;
    struct memo_entry    *e;
    unsigned              h = hash(key) % MEMO_BUCKETS;

    if (r->memo == NULL && (r->memo = ag_arena_calloc(r->arena, sizeof(*r->memo))) == NULL)
        return AG_ENOMEM;
    for (e = r->memo->b[h]; e; e = e->next)
        if (strcmp(e->key, key) == 0) {
            e->val = val;
            return AG_OK;
        }
    if ((e = ag_arena_alloc(r->arena, sizeof(*e))) == NULL ||
        (e->key = ag_arena_strdup(r->arena, key)) == NULL)
        return AG_ENOMEM;
    e->val = val;
    e->next = r->memo->b[h];
    r->memo->b[h] = e;
    return AG_OK;
}

/* ---- prepare ----------------------------------------------------------------------------- */

static const ag_graphql__operation_t *
select_operation(const ag_graphql__document_t *doc, const char *name, ag_graphql__errlist_t *el)
{
    if (name && *name) {
        for (size_t i = 0; i < doc->n_ops; i++)
            if (doc->ops[i].name && strcmp(doc->ops[i].name, name) == 0)
                return &doc->ops[i];
        ag_graphql__err_add(el, NULL, NULL, "operation_not_found",
                            "Unknown operation named \"%s\".", name);
        return NULL;
    }
    if (doc->n_ops == 1)
        return &doc->ops[0];
    ag_graphql__err_add(el, NULL, NULL, "operation_not_found",
                        doc->n_ops ? "Must provide operation name if query contains multiple "
                                     "operations."
                                   : "Must provide an operation.");
    return NULL;
}

static void
apply_defaults(ag_graphql_options_t *o, const ag_graphql_options_t *given)
{
    memset(o, 0, sizeof(*o));
    if (given)
        *o = *given;
    if (o->max_depth <= 0)
        o->max_depth = AG_GQL_DEFAULT_DEPTH;
    if (o->max_cost <= 0)
        o->max_cost = AG_GQL_DEFAULT_COST;
    if (o->max_doc_bytes == 0)
        o->max_doc_bytes = AG_GQL_DEFAULT_BYTES;
    if (o->max_nesting <= 0)
        o->max_nesting = AG_GQL_DEFAULT_NESTING;
    if (o->max_root_fields <= 0)
        o->max_root_fields = AG_GQL_DEFAULT_ROOTS;
    if (o->max_aliases <= 0)
        o->max_aliases = AG_GQL_DEFAULT_ALIASES;
    if (o->page_max <= 0)
        o->page_max = AG_GQL_DEFAULT_PAGE;
}

/* {"errors":[...]} on the arena, for a request that failed before execution. */
static ag_status_t
fail_request(ag_arena_t *arena, const ag_graphql__errlist_t *el, ag_json_t **errors)
{
    if (el->nomem || (*errors = ag_json_on_arena(arena, ag_graphql__errors_json(el))) == NULL)
        return AG_ENOMEM;
    return AG_EBADREQ;
}

static ag_status_t
prepare(ag_graphql_doc_cache_t *cache, const ag_graphql_schema_t *s, ag_arena_t *arena,
        const char *query, size_t len, const char *operation_name, const ag_graphql_options_t *opts,
        ag_graphql_request_t **out, ag_json_t **errors)
{
    ag_graphql__errlist_t el = {.arena = arena};
    ag_graphql_request_t *r;
    const char           *msg = NULL;
    ag_graphql__loc_t     loc = {0, 0};
    ag_status_t           st;

    *out = NULL;
    *errors = NULL;
    if (!s->finished || (r = ag_arena_calloc(arena, sizeof(*r))) == NULL)
        return s->finished ? AG_ENOMEM : AG_EINTERNAL;
    r->schema = s;
    r->arena = arena;
    apply_defaults(&r->opts, opts);
    if (query == NULL) {
        ag_graphql__err_add(&el, NULL, NULL, "bad_request", "Must provide query string.");
        return fail_request(arena, &el, errors);
    }
    if (len > r->opts.max_doc_bytes) {
        ag_graphql__err_add(&el, NULL, NULL, "query_too_large",
                            "Document is too large: %zu bytes (limit %zu).", len,
                            r->opts.max_doc_bytes);
        return fail_request(arena, &el, errors);
    }
    r->doc = ag_graphql__doc_cache_get(cache, s, query, len, r->opts.max_nesting);
    if (r->doc == NULL) {
        st = ag_graphql__parse(arena, query, len, r->opts.max_nesting, &r->doc, &msg, &loc);
        if (st == AG_EBADREQ) {
            ag_graphql__err_add(&el, &loc, NULL, "syntax_error", "%s", msg);
            return fail_request(arena, &el, errors);
        }
        if (st != AG_OK)
            return st;
        ag_graphql__validate(s, r->doc, &el);
        if (el.nomem)
            return AG_ENOMEM;
        if (el.n)
            return fail_request(arena, &el, errors);
        ag_graphql__doc_cache_put(cache, s, query, len, r->opts.max_nesting);
    }
    if ((r->op = select_operation(r->doc, operation_name, &el)) == NULL)
        return fail_request(arena, &el, errors);
    *out = r;
    return AG_OK;
}

ag_status_t
ag_graphql_prepare(const ag_graphql_schema_t *s, ag_arena_t *arena, const char *query, size_t len,
                   const char *operation_name, const ag_graphql_options_t *opts,
                   ag_graphql_request_t **out, ag_json_t **errors)
{
    return prepare(NULL, s, arena, query, len, operation_name, opts, out, errors);
}

ag_status_t
ag_graphql_prepare_cached(ag_graphql_doc_cache_t *cache, const ag_graphql_schema_t *s,
                          ag_arena_t *arena, const char *query, size_t len,
                          const char *operation_name, const ag_graphql_options_t *opts,
                          ag_graphql_request_t **out, ag_json_t **errors)
{
    return prepare(cache, s, arena, query, len, operation_name, opts, out, errors);
}

ag_graphql_op_t
ag_graphql_request_operation(const ag_graphql_request_t *r)
{
    return r->op->op;
}

ag_graphql_stats_t
ag_graphql_request_stats(const ag_graphql_request_t *r)
{
    return r->stats;
}

/* ---- run --------------------------------------------------------------------------------- */

/* Spec CoerceVariableValues: the coerced values into r->vars, errors into el. */
static ag_status_t
coerce_variables(ag_graphql_request_t *r, const ag_json_t *given, ag_graphql__errlist_t *el)
{
    ag_arena_t *a = r->arena;

    if ((r->vars = ag_json_on_arena(a, ag_json_obj())) == NULL)
        return AG_ENOMEM;
    if (given && ag_json_type(given) != AG_JSON_OBJECT) {
        ag_graphql__err_add(el, NULL, NULL, "bad_variables",
                            "Variables must be provided as an Object.");
        return AG_OK;
    }
    for (size_t i = 0; i < r->op->n_vars; i++) {
        const ag_graphql__vardef_t *vd = &r->op->vars[i];
        const char                 *msg = NULL;
        ag_json_t                  *val = NULL, *v = ag_json_get(given, vd->name);
        bool                        has = ag_json_has(given, vd->name);

        ag_graphql__tref_resolve(r->schema, vd->type);
        if (!has && vd->def) {
            if (ag_graphql__literal_coerce(a, vd->type, vd->def, NULL, &val, &msg) != AG_OK) {
                ag_graphql__err_add(el, &vd->loc, NULL, "bad_variables",
                                    "Variable \"$%s\" has an invalid default value: %s", vd->name,
                                    msg);
                continue;
            }
        } else if (!has && vd->type->kind == T_NONNULL) {
            ag_graphql__err_add(el, &vd->loc, NULL, "bad_variables",
                                "Variable \"$%s\" of required type \"%s\" was not provided.",
                                vd->name, ag_graphql__tref_str(a, vd->type));
            continue;
        } else if (!has) {
            continue;
        } else if (v == NULL && vd->type->kind == T_NONNULL) {
            ag_graphql__err_add(el, &vd->loc, NULL, "bad_variables",
                                "Variable \"$%s\" of non-null type \"%s\" must not be null.",
                                vd->name, ag_graphql__tref_str(a, vd->type));
            continue;
        } else if (ag_graphql__json_coerce(a, vd->type, v, &val, &msg) != AG_OK) {
            const char *shown = ag_json_dump(v, NULL);
            ag_graphql__err_add(el, &vd->loc, NULL, "bad_variables",
                                "Variable \"$%s\" got invalid value %s; %s", vd->name,
                                shown ? shown : "null", msg);
            continue;
        }
        if (ag_json_set(r->vars, vd->name, val) != AG_OK)
            return AG_ENOMEM;
    }
    return el->nomem ? AG_ENOMEM : AG_OK;
}

/* {"data":null,"errors":[...]} in place of what execution wrote past mark. */
static ag_status_t
fail_memory(ag_graphql_request_t *r, ag_buf_t *out, size_t mark)
{
    ag_graphql__errlist_t el = {.arena = r->arena};
    ag_json_t            *errs;
    const char           *s;
    size_t                n;

    out->len = mark;
    out->data[mark] = '\0';
    ag_graphql__err_add(&el, NULL, NULL, "memory_limit",
                        "The response needs more than the %zu MiB a request may use; ask for "
                        "fewer or smaller items.",
                        r->opts.max_memory >> 20);
    if (el.nomem || (errs = ag_json_on_arena(r->arena, ag_graphql__errors_json(&el))) == NULL ||
        (s = ag_json_dump(ag_json_get(errs, "errors"), &n)) == NULL)
        return AG_ENOMEM;
    static const char head[] = "{\"data\":null,\"errors\":";
    ag_status_t       st = ag_buf_append(out, head, sizeof(head) - 1);
    if (st == AG_OK)
        st = ag_buf_append(out, s, n);
    return st == AG_OK ? ag_buf_append(out, "}", 1) : st;
}

/* Variables and limits; el gets what was refused. */
static ag_status_t
check(ag_graphql_request_t *r, const ag_json_t *variables, ag_graphql__errlist_t *el)
{
    ag_status_t st = coerce_variables(r, variables, el);
    if (st != AG_OK || el->n)
        return st;
    return ag_graphql__limits(r, el);
}

/* ,"extensions":{"cost":...} when asked for and the limits walk measured the cost. */
static ag_status_t
cost_extension(const ag_graphql_request_t *r, ag_buf_t *out)
{
    if (!r->opts.cost_extension || !r->have_root)
        return AG_OK;
    return ag_buf_printf(out,
                         ",\"extensions\":{\"cost\":{\"estimated\":%ld,\"actual\":%ld,"
                         "\"limit\":%ld}}",
                         r->stats.cost, r->stats.fields, r->opts.max_cost);
}

ag_status_t
ag_graphql_run_text(ag_graphql_request_t *r, const ag_json_t *variables, void *context,
                    ag_buf_t *out, ag_graphql_phase_t *phase)
{
    ag_graphql__errlist_t el = {.arena = r->arena};
    ag_json_t            *errs = NULL;
    const char           *s;
    size_t                n, mark = out->len;
    ag_status_t           st;

    *phase = AG_GRAPHQL_PHASE_REQUEST;
    r->context = context;
    if ((st = check(r, variables, &el)) != AG_OK)
        return st;
    if (el.n) {
        st = fail_request(r->arena, &el, &errs);
        if (st != AG_EBADREQ)
            return st;
        if ((s = ag_json_dump(errs, &n)) == NULL || n < 2)
            return AG_ENOMEM;
        /* {"errors":[...]} less its closing brace, then the cost the limits measured */
        if ((st = ag_buf_append(out, s, n - 1)) != AG_OK || (st = cost_extension(r, out)) != AG_OK)
            return st;
        return ag_buf_append(out, "}", 1);
    }
    if (r->opts.admit && (st = r->opts.admit(context, r->stats.cost)) != AG_OK)
        return st;
    *phase = AG_GRAPHQL_PHASE_EXECUTED;
    if (r->opts.max_memory)
        r->mem_base = ag_mem_in_use();
    /* {"data":...,"errors":[...]}: the order and spacing json-c would print */
    if ((st = ag_buf_append(out, "{\"data\":", 8)) != AG_OK)
        return st;
    st = ag_graphql__execute_op(r, out);
    if (st == AG_ETOOLARGE && r->over_memory)
        return fail_memory(r, out, mark);
    if (st != AG_OK)
        return st;
    if (r->errors) {
        r->stats.errors = (int)ag_json_len(r->errors);
        if ((s = ag_json_dump(r->errors, &n)) == NULL ||
            (st = ag_buf_append(out, ",\"errors\":", 10)) != AG_OK ||
            (st = ag_buf_append(out, s, n)) != AG_OK)
            return st == AG_OK ? AG_ENOMEM : st;
    }
    if ((st = cost_extension(r, out)) != AG_OK || (st = ag_buf_append(out, "}", 1)) != AG_OK)
        return st;
    return r->nomem ? AG_ENOMEM : AG_OK;
}

ag_status_t
ag_graphql_run(ag_graphql_request_t *r, const ag_json_t *variables, void *context,
               ag_json_t **result, ag_graphql_phase_t *phase)
{
    ag_buf_t    b;
    ag_status_t st;

    *result = NULL;
    ag_buf_init(&b);
    st = ag_graphql_run_text(r, variables, context, &b, phase);
    /* the text is valid JSON by construction (nested at most a few levels per selection
     * level, which the parser bounds): reading it back only fails for want of memory */
    if (st == AG_OK &&
        (*result = ag_json_on_arena(r->arena, ag_json_parse_own(b.data, b.len, 1024))) == NULL)
        st = AG_ENOMEM;
    ag_buf_fini(&b);
    return st;
}

ag_status_t
ag_graphql_execute(const ag_graphql_schema_t *s, ag_arena_t *arena, const char *query, size_t len,
                   const ag_json_t *variables, const char *operation_name, void *context,
                   const ag_graphql_options_t *opts, ag_json_t **result, ag_graphql_phase_t *phase)
{
    ag_graphql_request_t *r = NULL;
    ag_status_t           st;

    *phase = AG_GRAPHQL_PHASE_REQUEST;
    st = ag_graphql_prepare(s, arena, query, len, operation_name, opts, &r, result);
    if (st == AG_EBADREQ)
        return AG_OK;
    if (st != AG_OK)
        return st;
    return ag_graphql_run(r, variables, context, result, phase);
}
