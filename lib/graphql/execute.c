/*
 * lib/graphql/execute.c — execution (spec §6) over the fields collect.c
 * gathered (the limits walk collected most of them already): argument
 * coercion, resolvers, value completion with null propagation, errors with
 * path, and the request's memory bound. Runs on the thread that
 * owns the request's arena; root fields run in document order, which is the
 * serial execution that mutations require (queries may run the same way).
 *
 * Null propagation: a completion returns AG_DECLINED when a non-null position
 * got null; the nearest nullable position turns it into null, so that error
 * is reported once and the bubbling stays a return-value convention.
 *
 * The response is written as JSON text as it is completed, into one buffer,
 * not built as a tree of json-c objects and then printed: the tree cost a
 * malloc per value and per object's hash table, a print and as many frees
 * (most of the engine's time on a 20-post page). A position that turns null
 * after part of it was written is cut back to where it began. The text is
 * byte for byte what json-c prints (JSON_C_TO_STRING_PLAIN|NOSLASHESCAPE).
 */
#include "graphql/graphql_int.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

typedef struct path {
    const struct path *prev;
    const char        *key; /* NULL for a list index */
    size_t             index;
} path_t;

typedef ag_graphql__group_t  group_t;
typedef ag_graphql__groups_t groups_t;

typedef struct {
    ag_graphql_request_t      *r;
    const ag_graphql_schema_t *s;
    ag_arena_t                *a;
    ag_json_t                 *empty_args; /* shared by fields without arguments */
    ag_buf_t                  *w;          /* the response text being written */
    long                       mem_fields; /* meter the memory again at this many fields */
    size_t                     mem_len;    /* ... or at this much text */
} exec_t;

static ag_status_t complete_value(exec_t *x, const ag_graphql__tref_t *t,
                                  const ag_graphql_field_t *f, const group_t *g,
                                  const ag_graphql_value_t *v, const path_t *path, bool *is_null);

/* ---- writing ----------------------------------------------------------------------------- */

#define W(x, lit) w_lit((x), (lit), sizeof(lit) - 1)

/* A short constant: copied in place when it fits (most do), else through ag_buf_append. */
static inline ag_status_t
w_lit(exec_t *x, const char *s, size_t n)
{
    ag_buf_t *b = x->w;
    if (b->len + n + 1 > b->cap)
        return ag_buf_append(b, s, n);
    memcpy(b->data + b->len, s, n);
    b->len += n;
    b->data[b->len] = '\0';
    return AG_OK;
}

/* Cut the text back to mark: the position that began there turns null or fails. */
static void
w_cut(exec_t *x, size_t mark)
{
    x->w->len = mark;
    x->w->data[mark] = '\0';
}

/* Bit tricks on 8 bytes (bytes < 0x80 for HAS_LESS; a false "yes" only ends the fast path). */
#define ONES            0x0101010101010101ull
#define HIGHS           0x8080808080808080ull
#define HAS_ZERO(v)     (((v) - ONES) & ~(v) & HIGHS)
#define HAS_LESS(v, n)  (((v) - ONES * (n)) & ~(v) & HIGHS)

/*
 * A JSON string as json-c prints it with JSON_C_TO_STRING_NOSLASHESCAPE:
 * room for the worst case is reserved once and runs of plain bytes are
 * copied whole (most strings have nothing to escape).
 */
static ag_status_t
w_str(exec_t *x, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    ag_buf_t         *b = x->w;
    size_t            run = 0;

    if (n > (SIZE_MAX - 3) / 6 || ag_buf_reserve(b, n * 6 + 2) != AG_OK)
        return AG_ENOMEM;
    char *o = b->data + b->len;
    *o++ = '"';
    for (size_t i = 0; i < n; i++) {
        /* eight bytes at a time while none is < 0x20, '"' or '\\' */
        while (i + 8 <= n) {
            uint64_t v;
            memcpy(&v, s + i, 8);
            if (HAS_LESS(v, 0x20) || HAS_ZERO(v ^ (ONES * '"')) || HAS_ZERO(v ^ (ONES * '\\')))
                break;
            i += 8;
        }
        if (i >= n)
            break;
        unsigned char c = (unsigned char)s[i];
        char          e;
        if (c >= 0x20 && c != '"' && c != '\\')
            continue;
        memcpy(o, s + run, i - run);
        o += i - run;
        run = i + 1;
        switch (c) {
        case '\b': e = 'b'; break;
        case '\n': e = 'n'; break;
        case '\r': e = 'r'; break;
        case '\t': e = 't'; break;
        case '\f': e = 'f'; break;
        case '"': e = '"'; break;
        case '\\': e = '\\'; break;
        default:
            memcpy(o, "\\u00", 4);
            o[4] = hex[c >> 4];
            o[5] = hex[c & 15];
            o += 6;
            continue;
        }
        o[0] = '\\';
        o[1] = e;
        o += 2;
    }
    memcpy(o, s + run, n - run);
    o += n - run;
    *o++ = '"';
    *o = '\0';
    b->len = (size_t)(o - b->data);
    return AG_OK;
}

static ag_status_t
w_cstr(exec_t *x, const char *s)
{
    return w_str(x, s, strlen(s));
}

static ag_status_t
w_i64(exec_t *x, int64_t v)
{
    char buf[24];
    return w_lit(x, buf, ag_fmt_i64(buf, v));
}

/* Any JSON value as json-c prints it (strings without json-c's own buffer). */
static ag_status_t
w_json(exec_t *x, ag_json_t *j)
{
    size_t      n = 0;
    const char *s;
    switch (ag_json_type(j)) {
    case AG_JSON_NULL:
        return W(x, "null");
    case AG_JSON_STRING:
        return w_str(x, ag_json_as_str(j), ag_json_str_len(j));
    case AG_JSON_INT:
        return w_i64(x, ag_json_as_i64(j));
    case AG_JSON_BOOL:
        return ag_json_as_bool(j) ? W(x, "true") : W(x, "false");
    default:
        s = ag_json_dump(j, &n);
        return s ? ag_buf_append(x->w, s, n) : AG_ENOMEM;
    }
}

/* A double as json-c prints it. */
static ag_status_t
w_double(exec_t *x, double d)
{
    ag_json_t  *j = ag_json_double(d);
    ag_status_t st = j ? w_json(x, j) : AG_ENOMEM;
    ag_json_free(j);
    return st;
}

/* ---- errors ------------------------------------------------------------------------------ */

static ag_json_t *
path_json(const path_t *p)
{
    size_t        n = 0;
    const path_t *q;
    ag_json_t    *arr = ag_json_arr();

    for (q = p; q; q = q->prev)
        n++;
    for (size_t i = n; arr && i > 0; i--) {
        q = p;
        for (size_t k = 1; k < i; k++)
            q = q->prev;
        ag_json_t *el = q->key ? ag_json_str(q->key) : ag_json_int((int64_t)q->index);
        if (ag_json_push(arr, el) != AG_OK) {
            ag_json_free(arr);
            return NULL;
        }
    }
    return arr;
}

/* A field error at the field node's location with the current path. */
static void
field_error(exec_t *x, const group_t *g, const path_t *path, const char *code, const char *msg)
{
    ag_graphql__err_t e = {.message = msg, .code = code, .n_locs = 1};
    ag_json_t        *ej;

    e.locs[0] = g->nodes[0]->loc;
    if (x->r->errors == NULL && (x->r->errors = ag_json_on_arena(x->a, ag_json_arr())) == NULL) {
        x->r->nomem = true;
        return;
    }
    if ((ej = ag_graphql__err_json(&e, path_json(path))) == NULL ||
        ag_json_push(x->r->errors, ej) != AG_OK)
        x->r->nomem = true;
}

/* ---- field collection ---------------------------------------------------------------------- */

static bool
directive_if(const ag_graphql__directive_t *d, const ag_json_t *vars)
{
    for (size_t i = 0; i < d->n_args; i++) {
        const ag_graphql__value_t *v = d->args[i].value;
        if (strcmp(d->args[i].name, "if") != 0)
            continue;
        if (v->kind == V_BOOL)
            return v->b;
        if (v->kind == V_VAR)
            return ag_json_as_bool(ag_json_get(vars, v->str));
    }
    return false;
}

bool
ag_graphql__included(const ag_graphql__directive_t *dirs, size_t n, const ag_json_t *vars)
{
    for (size_t i = 0; i < n; i++) {
        if (strcmp(dirs[i].name, "skip") == 0 && directive_if(&dirs[i], vars))
            return false;
        if (strcmp(dirs[i].name, "include") == 0 && !directive_if(&dirs[i], vars))
            return false;
    }
    return true;
}

/* ---- fields ------------------------------------------------------------------------------- */

/* Coerced arguments of the first node of a group (validation made all nodes agree). */
static ag_status_t
field_args(exec_t *x, const ag_graphql_field_t *f, const group_t *g, ag_json_t **out,
           const char **msg)
{
    const ag_graphql__selection_t *n = g->nodes[0];
    ag_status_t                    st;

    if (f->n_args == 0) {
        *out = x->empty_args;
        return AG_OK;
    }
    st =
        ag_graphql__args_coerce(x->a, f->args, f->n_args, n->args, n->n_args, x->r->vars, out, msg);
    if (st == AG_OK && ag_json_on_arena(x->a, *out) == NULL)
        return AG_ENOMEM;
    return st;
}

static void
info_init(exec_t *x, ag_graphql_info_t *info, const ag_graphql_type_t *t,
          const ag_graphql_field_t *f, const ag_json_t *args)
{
    memset(info, 0, sizeof(*info));
    info->parent_type = t->name;
    info->field_name = f->name;
    info->args = args;
    info->context = x->r->context;
    info->arena = x->a;
    info->field_ud = f->ud;
    info->request = x->r;
}

/*
 * The request's memory bound: the meter (~2 µs) is read every 256 fields,
 * after each field that fetched a page (those allocate the most) and every
 * MiB of response text; past opts.max_memory execution stops with
 * AG_ETOOLARGE and the caller answers with an error instead of the data.
 */
#define MEM_EVERY_FIELDS 256
#define MEM_EVERY_BYTES  (1u << 20)

/* Only while metering (r->mem_base set); now: whatever the counters say. */
static ag_status_t
memory_check(exec_t *x, bool now)
{
    ag_graphql_request_t *r = x->r;
    size_t                used, cur;

    if (!now && r->stats.fields < x->mem_fields && x->w->len < x->mem_len)
        return AG_OK;
    cur = ag_mem_in_use();
    used = cur > r->mem_base ? cur - r->mem_base : 0;
    if (used > r->stats.memory)
        r->stats.memory = used;
    x->mem_fields = r->stats.fields + MEM_EVERY_FIELDS;
    x->mem_len = x->w->len + MEM_EVERY_BYTES;
    if (used <= r->opts.max_memory)
        return AG_OK;
    r->over_memory = true;
    return AG_ETOOLARGE;
}

/*
 * Spec ExecuteField: resolve, then complete, writing the value (or null);
 * AG_DECLINED propagates a null (what was written is the caller's to cut).
 */
static ag_status_t
execute_field(exec_t *x, const ag_graphql_type_t *t, const ag_graphql_value_t *parent,
              const group_t *g, const path_t *path)
{
    const ag_graphql_field_t *f = ag_graphql__group_field(x->r, t, g);
    ag_graphql_value_t        v = {0};
    ag_graphql_info_t         info;
    ag_json_t                *args = NULL;
    const char               *msg = NULL;
    bool                      is_null;
    ag_status_t               st;

    if (f == NULL)
        return W(x, "null"); /* impossible after validation */
    x->r->stats.fields++;
    if (x->r->mem_base && (st = memory_check(x, false)) != AG_OK)
        return st;
    if (f == x->s->typename_field)
        return w_cstr(x, t->name);
    st = field_args(x, f, g, &args, &msg);
    if (st == AG_ENOMEM)
        return st;
    if (st != AG_OK) {
        field_error(x, g, path, "bad_request", msg);
        return f->type->kind == T_NONNULL ? AG_DECLINED : W(x, "null");
    }
    info_init(x, &info, t, f, args);
    if (f->resolve) {
        st = f->resolve(parent, &info, &v);
    } else if (parent->kind == AG_GRAPHQL_JSON) {
        v = ag_graphql_json(ag_json_get(parent->json, f->name)); /* default: property */
    } else if (parent->kind == AG_GRAPHQL_PTR) {
        info.message = ag_arena_printf(x->a, "Field %s.%s has no resolver.", t->name, f->name);
        st = AG_EINTERNAL;
    }
    if (st < 0) {
        const char *code = info.code ? info.code : ag_status_code(st);
        field_error(x, g, path, code, info.message ? info.message : code);
        return f->type->kind == T_NONNULL ? AG_DECLINED : W(x, "null");
    }
    if (f->has_first && x->r->mem_base && (st = memory_check(x, true)) != AG_OK)
        return st;
    return complete_value(x, f->type, f, g, &v, path, &is_null);
}

/*
 * "key": of a group. Groups of a list's items are shared by all of them, so
 * the text is made once (keys are names: nothing to escape, but w_str says so).
 */
static ag_status_t
w_key(exec_t *x, group_t *g)
{
    if (g->key_json == NULL) {
        size_t      mark = x->w->len;
        ag_status_t st = w_cstr(x, g->key);
        if (st == AG_OK)
            st = W(x, ":");
        if (st != AG_OK)
            return st;
        g->key_json_len = x->w->len - mark;
        if ((g->key_json = ag_arena_strndup(x->a, x->w->data + mark, g->key_json_len)) == NULL)
            return AG_ENOMEM;
        return AG_OK;
    }
    return w_lit(x, g->key_json, g->key_json_len);
}

/*
 * Spec ExecuteSelectionSet for object type t: writes the object, or returns
 * AG_DECLINED when a non-null field was null (the caller writes null instead
 * of what was begun).
 */
static ag_status_t
execute_groups(exec_t *x, const ag_graphql_type_t *t, const ag_graphql_value_t *parent,
               groups_t *gs, const path_t *path)
{
    ag_status_t st = W(x, "{");

    for (size_t i = 0; i < gs->n && st == AG_OK; i++) {
        path_t p = {path, gs->g[i].key, 0};
        if (i)
            st = W(x, ",");
        if (st == AG_OK)
            st = w_key(x, &gs->g[i]);
        if (st == AG_OK)
            st = execute_field(x, t, parent, &gs->g[i], &p);
    }
    return st == AG_OK ? W(x, "}") : st;
}

/* ---- completion ------------------------------------------------------------------------- */

static const char *
jshow(exec_t *x, const ag_graphql_value_t *v)
{
    const char *s = v->kind == AG_GRAPHQL_JSON ? ag_json_dump(v->json, NULL) : "<opaque>";
    return ag_arena_strdup(x->a, s ? s : "null");
}

/*
 * Spec CompleteValue for scalars and enums ("serialize"): writes the value;
 * a message (nothing written) when it cannot be represented, with *failed.
 */
static const char *
serialize(exec_t *x, const ag_graphql_type_t *t, const ag_graphql_value_t *v, ag_status_t *st)
{
    ag_json_t     *j = v->json;
    ag_json_type_t jt = ag_json_type(j);
    char           buf[32];

    *st = AG_OK;
    if (v->kind != AG_GRAPHQL_JSON)
        return ag_arena_printf(x->a, "%s cannot represent an opaque value", t->name);
    if (t->kind == K_ENUM) {
        if (jt != AG_JSON_STRING || !ag_graphql__enum_has(t, ag_json_as_str(j)))
            return ag_arena_printf(x->a, "Enum \"%s\" cannot represent value: %s", t->name,
                                   jshow(x, v));
        *st = w_json(x, j);
        return NULL;
    }
    switch (t->scalar) {
    case SC_INT: {
        int64_t i;
        if (jt == AG_JSON_INT) {
            i = ag_json_as_i64(j);
        } else if (jt == AG_JSON_DOUBLE && ag_json_as_double(j) == floor(ag_json_as_double(j)) &&
                   fabs(ag_json_as_double(j)) < 1e15) {
            i = (int64_t)ag_json_as_double(j);
        } else if (jt == AG_JSON_BOOL) {
            i = ag_json_as_bool(j);
        } else {
            return ag_arena_printf(x->a, "Int cannot represent non-integer value: %s", jshow(x, v));
        }
        if (i < INT32_MIN || i > INT32_MAX)
            return ag_arena_printf(x->a,
                                   "Int cannot represent non 32-bit signed integer value: "
                                   "%s",
                                   jshow(x, v));
        *st = w_i64(x, i);
        return NULL;
    }
    case SC_FLOAT:
        if (jt == AG_JSON_DOUBLE)
            *st = w_json(x, j);
        else if (jt == AG_JSON_INT || jt == AG_JSON_BOOL)
            *st = w_double(x, ag_json_as_double(j));
        else
            return ag_arena_printf(x->a, "Float cannot represent non numeric value: %s",
                                   jshow(x, v));
        return NULL;
    case SC_STRING:
    case SC_ID:
        if (jt == AG_JSON_STRING) {
            *st = w_json(x, j);
        } else if (jt == AG_JSON_INT) {
            snprintf(buf, sizeof(buf), "%lld", (long long)ag_json_as_i64(j));
            *st = w_cstr(x, buf);
        } else if (jt == AG_JSON_BOOL && t->scalar == SC_STRING) {
            *st = w_cstr(x, ag_json_as_bool(j) ? "true" : "false");
        } else if (jt == AG_JSON_DOUBLE && t->scalar == SC_STRING) {
            const char *d = ag_json_dump(j, NULL);
            *st = d ? w_cstr(x, d) : AG_ENOMEM;
        } else {
            return ag_arena_printf(x->a, "%s cannot represent value: %s", t->name, jshow(x, v));
        }
        return NULL;
    case SC_BOOLEAN:
        if (jt == AG_JSON_BOOL)
            *st = w_json(x, j);
        else if (jt == AG_JSON_INT || jt == AG_JSON_DOUBLE)
            *st = ag_json_as_double(j) != 0 ? W(x, "true") : W(x, "false");
        else
            return ag_arena_printf(x->a, "Boolean cannot represent a non boolean value: %s",
                                   jshow(x, v));
        return NULL;
    default:
        *st = w_json(x, j);
        return NULL;
    }
}

/* The object type of a value in an abstract position, or NULL. */
static const ag_graphql_type_t *
resolve_type(exec_t *x, const ag_graphql_type_t *abstract, const ag_graphql_value_t *v)
{
    const char              *name = v->type_name;
    const ag_graphql_type_t *t;

    if (name == NULL && v->kind == AG_GRAPHQL_JSON)
        name = ag_json_as_str(ag_json_get(v->json, "__typename"));
    if (name == NULL || (t = ag_graphql__type_lookup(x->s, name)) == NULL || t->kind != K_OBJECT ||
        !ag_graphql__possible(abstract, t))
        return NULL;
    return t;
}

/*
 * Run the batching hooks of the sub-fields of a list of objects, once each.
 * Through sub-fields that read a JSON member (no resolver) and hold a single
 * object, the hooks of the next level run too, so that
 * edges { node { author } } loads every author in one go.
 */
static void
run_prepare(exec_t *x, const ag_graphql_type_t *t, const groups_t *gs,
            const ag_graphql_value_t *items, size_t n, int depth)
{
    for (size_t i = 0; i < gs->n && depth < 8; i++) {
        const ag_graphql_field_t *f = ag_graphql__field_lookup(x->s, t, gs->g[i].nodes[0]->name);
        ag_graphql_info_t         info;
        ag_json_t                *args = NULL;
        const char               *msg;
        bool                      dup = false;

        if (f == NULL)
            continue;
        for (size_t k = 0; k < i && !dup; k++) /* aliases of one field prepare once */
            dup = strcmp(gs->g[k].nodes[0]->name, f->name) == 0;
        if (dup)
            continue;
        if (f->prepare && field_args(x, f, &gs->g[i], &args, &msg) == AG_OK) {
            info_init(x, &info, t, f, args);
            f->prepare(items, n, &info);
            continue;
        }
        const ag_graphql__tref_t *ft = f->type->kind == T_NONNULL ? f->type->of : f->type;
        if (f->resolve || ft->kind != T_NAMED || ft->type->kind != K_OBJECT)
            continue;
        ag_graphql_value_t kids;
        groups_t           sub;
        size_t             k = 0;
        if (ag_graphql_list(x->a, n, &kids) != AG_OK ||
            ag_graphql__collect_sub(x->r, ft->type, &gs->g[i], &sub) != AG_OK)
            return;
        for (size_t j = 0; j < n; j++)
            if (items[j].kind == AG_GRAPHQL_JSON) {
                ag_json_t *c = ag_json_get(items[j].json, f->name);
                if (c)
                    kids.items[k++] = ag_graphql_json(c);
            }
        if (k)
            run_prepare(x, ft->type, &sub, kids.items, k, depth + 1);
    }
}

static ag_status_t
complete_list(exec_t *x, const ag_graphql__tref_t *t, const ag_graphql_field_t *f, const group_t *g,
              const ag_graphql_value_t *v, const path_t *path)
{
    ag_graphql_value_t      *items = v->items, tmp;
    size_t                   n = v->n;
    const ag_graphql_type_t *it = ag_graphql__named(t->of);
    groups_t                 sub = {0};
    ag_status_t              st;

    if (v->kind == AG_GRAPHQL_JSON) {
        n = ag_json_len(v->json);
        if (ag_graphql_list(x->a, n, &tmp) != AG_OK)
            return AG_ENOMEM;
        for (size_t i = 0; i < n; i++)
            tmp.items[i] = ag_graphql_json(ag_json_at(v->json, i));
        items = tmp.items;
    }
    /* items of one object type share one field collection and one prepare pass */
    if (it->kind == K_OBJECT && n > 0) {
        if ((st = ag_graphql__collect_sub(x->r, it, g, &sub)) != AG_OK)
            return st;
        run_prepare(x, it, &sub, items, n, 0);
    }
    if ((st = W(x, "[")) != AG_OK)
        return st;
    for (size_t i = 0; i < n; i++) {
        path_t                    p = {path, NULL, i};
        const ag_graphql__tref_t *et = t->of;
        bool                      nonnull = et->kind == T_NONNULL, is_null;

        if (i && (st = W(x, ",")) != AG_OK)
            return st;
        size_t mark = x->w->len;
        if (it->kind == K_OBJECT && items[i].kind != AG_GRAPHQL_NULL &&
            (nonnull ? et->of : et)->kind == T_NAMED) {
            /* object items: reuse the shared collection */
            st = execute_groups(x, it, &items[i], &sub, &p);
            if (st == AG_DECLINED && !nonnull) {
                w_cut(x, mark);
                st = W(x, "null");
            }
        } else {
            st = complete_value(x, et, f, g, &items[i], &p, &is_null);
        }
        if (st != AG_OK)
            return st;
    }
    return W(x, "]");
}

/*
 * Spec CompleteValue: writes the value (null included, *is_null then), or
 * returns AG_DECLINED when a non-null position got null (the error is
 * already reported; the caller cuts what was written), or AG_ENOMEM.
 */
static ag_status_t
complete_value(exec_t *x, const ag_graphql__tref_t *t, const ag_graphql_field_t *f,
               const group_t *g, const ag_graphql_value_t *v, const path_t *path, bool *is_null)
{
    const char *msg = NULL;
    size_t      mark = x->w->len;
    ag_status_t st;

    *is_null = false;
    if (t->kind == T_NONNULL) {
        bool inner_null = false;
        st = complete_value(x, t->of, f, g, v, path, &inner_null);
        if (st != AG_OK)
            return st;
        if (inner_null) {
            if (v->kind == AG_GRAPHQL_NULL || (v->kind == AG_GRAPHQL_JSON && v->json == NULL))
                field_error(x, g, path, "internal",
                            ag_arena_printf(x->a,
                                            "Cannot return null for non-nullable field "
                                            "%s.%s.",
                                            f->owner ? f->owner->name : "Query", f->name));
            w_cut(x, mark);
            return AG_DECLINED;
        }
        return AG_OK;
    }
    if (v->kind == AG_GRAPHQL_NULL || (v->kind == AG_GRAPHQL_JSON && v->json == NULL)) {
        *is_null = true;
        return W(x, "null");
    }
    if (t->kind == T_LIST) {
        if (v->kind != AG_GRAPHQL_LIST &&
            !(v->kind == AG_GRAPHQL_JSON && ag_json_type(v->json) == AG_JSON_ARRAY)) {
            msg = ag_arena_printf(x->a,
                                  "Expected Iterable, but did not find one for field "
                                  "\"%s.%s\".",
                                  f->owner ? f->owner->name : "Query", f->name);
            goto fail;
        }
        st = complete_list(x, t, f, g, v, path);
        goto object_done;
    }
    const ag_graphql_type_t *nt = t->type;
    if (ag_graphql__is_leaf(nt)) {
        if ((msg = serialize(x, nt, v, &st)) != NULL)
            goto fail;
        if (st == AG_OK && ag_json_type(v->json) == AG_JSON_NULL)
            *is_null = true;
        return st;
    }
    if (ag_graphql__is_abstract(nt)) {
        const ag_graphql_type_t *ot = resolve_type(x, nt, v);
        if (ot == NULL) {
            msg = ag_arena_printf(x->a,
                                  "Abstract type \"%s\" must resolve to an Object type at "
                                  "runtime for field \"%s.%s\".",
                                  nt->name, f->owner ? f->owner->name : "Query", f->name);
            goto fail;
        }
        nt = ot;
    }
    groups_t sub;
    if ((st = ag_graphql__collect_sub(x->r, nt, g, &sub)) != AG_OK)
        return st;
    st = execute_groups(x, nt, v, &sub, path);
object_done:
    if (st == AG_DECLINED) { /* a non-null member was null: this position is null */
        w_cut(x, mark);
        *is_null = true;
        return W(x, "null");
    }
    return st;
fail:
    field_error(x, g, path, "internal", msg ? msg : "out of memory");
    w_cut(x, mark);
    *is_null = true;
    return W(x, "null"); /* a non-null wrapper above reports nothing more */
}

ag_status_t
ag_graphql__execute_op(ag_graphql_request_t *r, ag_buf_t *out)
{
    exec_t                   x = {.r = r, .s = r->schema, .a = r->arena, .w = out};
    const ag_graphql_type_t *root;
    groups_t                 gs = {0};
    ag_graphql_value_t       parent = ag_graphql_ptr(r->opts.root_value, NULL);
    size_t                   mark = out->len;
    ag_status_t              st;

    root = r->op->op == AG_GRAPHQL_QUERY      ? r->schema->query
           : r->op->op == AG_GRAPHQL_MUTATION ? r->schema->mutation
                                              : r->schema->subscription;
    if (root == NULL)
        return AG_EINTERNAL; /* impossible after validation */
    if ((x.empty_args = ag_json_on_arena(r->arena, ag_json_obj())) == NULL)
        return AG_ENOMEM;
    /* the limits walk collected the root already; run what it measured */
    if (r->have_root)
        gs = r->root;
    else if ((st = ag_graphql__collect(r, root, r->op->sel, &gs)) != AG_OK)
        return st;
    x.mem_fields = MEM_EVERY_FIELDS;
    x.mem_len = out->len + MEM_EVERY_BYTES;
    st = execute_groups(&x, root, &parent, &gs, NULL);
    if (st == AG_DECLINED) { /* data: null */
        w_cut(&x, mark);
        st = W(&x, "null");
    }
    return r->nomem ? AG_ENOMEM : st;
}
