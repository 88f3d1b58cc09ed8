/*
 * lib/graphql/coerce.c — input coercion (spec §3.5, §3.10, §6.4.2): literals
 * checked by validation, literals and JSON variables coerced to JSON for
 * resolvers. Messages follow graphql-js so that clients see familiar text.
 * Recursion is bounded by the parser's nesting limit (literals) and by the
 * JSON parser's depth limit (variables).
 */
#include "graphql/graphql_int.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* A literal as GraphQL text for a message. */
static const char *
vstr(ag_arena_t *a, const ag_graphql__value_t *v)
{
    ag_buf_t    b;
    const char *r;

    ag_buf_init(&b);
    ag_graphql__print_value(&b, v);
    r = b.data ? ag_arena_strdup(a, b.data) : NULL;
    ag_buf_fini(&b);
    return r ? r : "?";
}

/* A JSON value as text for a message. */
static const char *
jstr(ag_arena_t *a, const ag_json_t *v)
{
    const char *s = ag_json_dump((ag_json_t *)v, NULL);
    return ag_arena_strdup(a, s ? s : "null");
}

static bool
int32_text(const char *s, int64_t *out)
{
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || *end || v < INT32_MIN || v > INT32_MAX)
        return false;
    *out = v;
    return true;
}

/*
 * A scalar or enum literal: AG_OK with *out (NULL when only checking), or
 * a message. Variables never reach here.
 */
static const char *
leaf_literal(ag_arena_t *a, const ag_graphql_type_t *t, const ag_graphql__value_t *v,
             ag_json_t **out)
{
    int64_t i;

    if (t->kind == K_ENUM) {
        if (v->kind != V_ENUM)
            return ag_arena_printf(a, "Enum \"%s\" cannot represent non-enum value: %s.", t->name,
                                   vstr(a, v));
        if (!ag_graphql__enum_has(t, v->str))
            return ag_arena_printf(a, "Value \"%s\" does not exist in \"%s\" enum.", v->str,
                                   t->name);
        if (out)
            *out = ag_json_str(v->str);
        return NULL;
    }
    switch (t->scalar) {
    case SC_INT:
        if (v->kind != V_INT)
            return ag_arena_printf(a, "Int cannot represent non-integer value: %s", vstr(a, v));
        if (!int32_text(v->str, &i))
            return ag_arena_printf(a, "Int cannot represent non 32-bit signed integer value: %s",
                                   v->str);
        if (out)
            *out = ag_json_int(i);
        return NULL;
    case SC_FLOAT:
        if (v->kind != V_INT && v->kind != V_FLOAT)
            return ag_arena_printf(a, "Float cannot represent non numeric value: %s", vstr(a, v));
        if (out)
            *out = ag_json_double(strtod(v->str, NULL));
        return NULL;
    case SC_STRING:
        if (v->kind != V_STRING)
            return ag_arena_printf(a, "String cannot represent a non string value: %s", vstr(a, v));
        if (out)
            *out = ag_json_strn(v->str, v->len);
        return NULL;
    case SC_BOOLEAN:
        if (v->kind != V_BOOL)
            return ag_arena_printf(a, "Boolean cannot represent a non boolean value: %s",
                                   vstr(a, v));
        if (out)
            *out = ag_json_bool(v->b);
        return NULL;
    case SC_ID:
        if (v->kind != V_STRING && v->kind != V_INT)
            return ag_arena_printf(a, "ID cannot represent a non-string and non-integer value: %s",
                                   vstr(a, v));
        if (out)
            *out = v->kind == V_STRING ? ag_json_strn(v->str, v->len) : ag_json_str(v->str);
        return NULL;
    case SC_CUSTOM:
    case SC_NONE:
    default:
        if (out) {
            /* custom scalars pass literals through as their JSON counterparts */
            switch (v->kind) {
            case V_INT:
                *out = ag_json_int(strtoll(v->str, NULL, 10));
                break;
            case V_FLOAT:
                *out = ag_json_double(strtod(v->str, NULL));
                break;
            case V_STRING:
                *out = ag_json_strn(v->str, v->len);
                break;
            case V_BOOL:
                *out = ag_json_bool(v->b);
                break;
            case V_ENUM:
                *out = ag_json_str(v->str);
                break;
            default:
                *out = NULL;
                break;
            }
        }
        if (v->kind == V_LIST || v->kind == V_OBJECT)
            return ag_arena_printf(a, "Expected value of type \"%s\", found %s.", t->name,
                                   vstr(a, v));
        return NULL;
    }
}

/* The only member of a coerced object (key, value), counting its members. */
typedef struct {
    size_t      n;
    const char *key;
    ag_json_t  *val;
} members_t;

static bool
count_member(const char *key, ag_json_t *val, void *ud)
{
    members_t *m = ud;
    if (m->n++ == 0) {
        m->key = key;
        m->val = val;
    }
    return true;
}

/*
 * A coerced OneOf input object (spec CoerceInputValues, September 2025):
 * exactly one member, not null. NULL when it is, else graphql-js's message.
 */
static const char *
one_of_coerced(ag_arena_t *a, const ag_graphql_type_t *t, const ag_json_t *obj)
{
    members_t m = {0};

    if (!t->one_of)
        return NULL;
    ag_json_each(obj, count_member, &m);
    if (m.n != 1)
        return ag_arena_printf(a, "Exactly one key must be specified for OneOf type \"%s\".",
                               t->name);
    if (m.val == NULL)
        return ag_arena_printf(a, "Field \"%s.%s\" must be non-null.", t->name, m.key);
    return NULL;
}

/* A OneOf literal (spec: OneOf Input Objects Rules): one field, not the null literal. */
static const char *
one_of_literal(ag_arena_t *a, const ag_graphql_type_t *t, const ag_graphql__value_t *v)
{
    if (!t->one_of)
        return NULL;
    if (v->n != 1)
        return ag_arena_printf(a, "OneOf Input Object \"%s\" must specify exactly one key.",
                               t->name);
    if (v->u.fields[0].value->kind == V_NULL)
        return ag_arena_printf(a, "Field \"%s.%s\" must be non-null.", t->name,
                               v->u.fields[0].name);
    return NULL;
}

/*
 * The one walk over a literal behind both validation (out == NULL: check
 * only, variables accepted) and execution (vars given: variables substituted).
 */
static const char *
literal(ag_arena_t *a, const ag_graphql__tref_t *t, const ag_graphql__value_t *v,
        const ag_json_t *vars, ag_json_t **out, ag_graphql__loc_t *loc)
{
    const char *msg;

    if (out)
        *out = NULL;
    if (loc)
        *loc = v->loc;
    if (v->kind == V_VAR) {
        if (out == NULL)
            return NULL; /* checked by VariablesInAllowedPosition */
        ag_json_t *val = ag_json_get(vars, v->str);
        if (val == NULL && t->kind == T_NONNULL)
            return ag_arena_printf(a, "Expected value of type \"%s\", found null.",
                                   ag_graphql__tref_str(a, t));
        *out = ag_json_ref(val);
        return NULL;
    }
    if (t->kind == T_NONNULL) {
        if (v->kind == V_NULL)
            return ag_arena_printf(a, "Expected value of type \"%s\", found null.",
                                   ag_graphql__tref_str(a, t));
        return literal(a, t->of, v, vars, out, loc);
    }
    if (v->kind == V_NULL)
        return NULL;
    if (t->kind == T_LIST) {
        ag_json_t *arr = NULL, *item = NULL;
        if (v->kind != V_LIST) {
            /* input coercion wraps a single value into a list */
            if ((msg = literal(a, t->of, v, vars, out ? &item : NULL, loc)))
                return msg;
            if (out && ((*out = ag_json_arr()) == NULL || ag_json_push(*out, item) != AG_OK))
                return "out of memory";
            return NULL;
        }
        if (out && (arr = ag_json_arr()) == NULL)
            return "out of memory";
        for (size_t i = 0; i < v->n; i++) {
            const ag_graphql__value_t *iv = v->u.items[i];
            if (out && iv->kind == V_VAR && !ag_json_has(vars, iv->str)) {
                item = NULL; /* an absent variable in a list is null */
            } else if ((msg = literal(a, t->of, iv, vars, out ? &item : NULL, loc))) {
                ag_json_free(arr);
                return msg;
            }
            if (out && ag_json_push(arr, item) != AG_OK) {
                ag_json_free(arr);
                return "out of memory";
            }
        }
        if (out)
            *out = arr;
        return NULL;
    }
    const ag_graphql_type_t *nt = t->type;
    if (nt->kind != K_INPUT_OBJECT)
        return leaf_literal(a, nt, v, out);
    if (v->kind != V_OBJECT)
        return ag_arena_printf(a, "Expected value of type \"%s\", found %s.", nt->name, vstr(a, v));
    ag_json_t *obj = NULL;
    if (out && (obj = ag_json_obj()) == NULL)
        return "out of memory";
    for (size_t i = 0; i < v->n; i++) {
        const ag_graphql__ofield_t *of = &v->u.fields[i];
        for (size_t j = 0; j < i; j++)
            if (strcmp(v->u.fields[j].name, of->name) == 0) {
                ag_json_free(obj);
                if (loc)
                    *loc = of->loc;
                return ag_arena_printf(a, "There can be only one input field named \"%s\".",
                                       of->name);
            }
        if (ag_graphql__input_lookup(nt->inputs, nt->n_inputs, of->name) == NULL) {
            ag_json_free(obj);
            if (loc)
                *loc = of->loc;
            return ag_arena_printf(a, "Field \"%s\" is not defined by type \"%s\".", of->name,
                                   nt->name);
        }
    }
    if (out == NULL && (msg = one_of_literal(a, nt, v))) {
        if (loc)
            *loc = v->loc;
        return msg;
    }
    for (size_t i = 0; i < nt->n_inputs; i++) {
        const ag_graphql__input_value_t *f = &nt->inputs[i];
        const ag_graphql__value_t       *fv = NULL;
        ag_json_t                       *fj = NULL;
        for (size_t j = 0; j < v->n; j++)
            if (strcmp(v->u.fields[j].name, f->name) == 0)
                fv = v->u.fields[j].value;
        if (fv && out && fv->kind == V_VAR && !ag_json_has(vars, fv->str))
            fv = NULL; /* an absent variable leaves the field absent */
        if (fv == NULL && f->def) {
            fv = f->def;
        } else if (fv == NULL) {
            if (f->type->kind == T_NONNULL) {
                ag_json_free(obj);
                return ag_arena_printf(a,
                                       "Field \"%s.%s\" of required type \"%s\" was not "
                                       "provided.",
                                       nt->name, f->name, ag_graphql__tref_str(a, f->type));
            }
            continue;
        }
        if ((msg = literal(a, f->type, fv, vars, out ? &fj : NULL, loc))) {
            ag_json_free(obj);
            return msg;
        }
        if (out && ag_json_set(obj, f->name, fj) != AG_OK) {
            ag_json_free(obj);
            return "out of memory";
        }
    }
    if (out && (msg = one_of_coerced(a, nt, obj))) {
        ag_json_free(obj);
        return msg;
    }
    if (out)
        *out = obj;
    return NULL;
}

const char *
ag_graphql__literal_check(ag_arena_t *a, const ag_graphql__tref_t *t, const ag_graphql__value_t *v,
                          ag_graphql__loc_t *loc)
{
    return literal(a, t, v, NULL, NULL, loc);
}

ag_status_t
ag_graphql__literal_coerce(ag_arena_t *a, const ag_graphql__tref_t *t, const ag_graphql__value_t *v,
                           const ag_json_t *vars, ag_json_t **out, const char **msg)
{
    *msg = literal(a, t, v, vars, out, NULL);
    return *msg ? AG_EBADREQ : AG_OK;
}

/* A scalar or enum from JSON (variables, spec CoerceVariableValues). */
static const char *
leaf_json(ag_arena_t *a, const ag_graphql_type_t *t, const ag_json_t *v, ag_json_t **out)
{
    ag_json_type_t jt = ag_json_type(v);

    if (t->kind == K_ENUM) {
        const char *s = ag_json_as_str(v);
        if (s == NULL)
            return ag_arena_printf(a, "Enum \"%s\" cannot represent non-string value: %s.", t->name,
                                   jstr(a, v));
        if (!ag_graphql__enum_has(t, s))
            return ag_arena_printf(a, "Value \"%s\" does not exist in \"%s\" enum.", s, t->name);
        *out = ag_json_ref((ag_json_t *)v);
        return NULL;
    }
    switch (t->scalar) {
    case SC_INT: {
        double d = jt == AG_JSON_DOUBLE ? ag_json_as_double(v) : 0;
        if (jt == AG_JSON_DOUBLE && d == floor(d) && fabs(d) < 1e18) {
            *out = ag_json_int((int64_t)d);
        } else if (jt != AG_JSON_INT) {
            return ag_arena_printf(a, "Int cannot represent non-integer value: %s", jstr(a, v));
        } else {
            *out = ag_json_int(ag_json_as_i64(v));
        }
        int64_t i = ag_json_as_i64(*out);
        if (i < INT32_MIN || i > INT32_MAX) {
            ag_json_free(*out);
            *out = NULL;
            return ag_arena_printf(a, "Int cannot represent non 32-bit signed integer value: %s",
                                   jstr(a, v));
        }
        return NULL;
    }
    case SC_FLOAT:
        if (jt != AG_JSON_INT && jt != AG_JSON_DOUBLE)
            return ag_arena_printf(a, "Float cannot represent non numeric value: %s", jstr(a, v));
        *out = ag_json_double(ag_json_as_double(v));
        return NULL;
    case SC_STRING:
        if (jt != AG_JSON_STRING)
            return ag_arena_printf(a, "String cannot represent a non string value: %s", jstr(a, v));
        *out = ag_json_ref((ag_json_t *)v);
        return NULL;
    case SC_BOOLEAN:
        if (jt != AG_JSON_BOOL)
            return ag_arena_printf(a, "Boolean cannot represent a non boolean value: %s",
                                   jstr(a, v));
        *out = ag_json_ref((ag_json_t *)v);
        return NULL;
    case SC_ID:
        if (jt == AG_JSON_STRING) {
            *out = ag_json_ref((ag_json_t *)v);
        } else if (jt == AG_JSON_INT) {
            char buf[32];
            snprintf(buf, sizeof(buf), "%lld", (long long)ag_json_as_i64(v));
            *out = ag_json_str(buf);
        } else {
            return ag_arena_printf(a, "ID cannot represent value: %s", jstr(a, v));
        }
        return NULL;
    default:
        *out = ag_json_ref((ag_json_t *)v);
        return NULL;
    }
}

static const char *
json_value(ag_arena_t *a, const ag_graphql__tref_t *t, const ag_json_t *v, ag_json_t **out)
{
    const char *msg;

    *out = NULL;
    if (t->kind == T_NONNULL) {
        if (v == NULL)
            return ag_arena_printf(a, "Expected non-nullable type \"%s\" not to be null.",
                                   ag_graphql__tref_str(a, t));
        return json_value(a, t->of, v, out);
    }
    if (v == NULL)
        return NULL;
    if (t->kind == T_LIST) {
        ag_json_t *arr, *item = NULL;
        if (ag_json_type(v) != AG_JSON_ARRAY) {
            if ((msg = json_value(a, t->of, v, &item)))
                return msg;
            if ((*out = ag_json_arr()) == NULL || ag_json_push(*out, item) != AG_OK)
                return "out of memory";
            return NULL;
        }
        if ((arr = ag_json_arr()) == NULL)
            return "out of memory";
        for (size_t i = 0; i < ag_json_len(v); i++) {
            if ((msg = json_value(a, t->of, ag_json_at(v, i), &item)) ||
                ag_json_push(arr, item) != AG_OK) {
                ag_json_free(arr);
                return msg ? msg : "out of memory";
            }
        }
        *out = arr;
        return NULL;
    }
    const ag_graphql_type_t *nt = t->type;
    if (nt->kind != K_INPUT_OBJECT)
        return leaf_json(a, nt, v, out);
    if (ag_json_type(v) != AG_JSON_OBJECT)
        return ag_arena_printf(a, "Expected type \"%s\" to be an object.", nt->name);
    ag_json_t *obj = ag_json_obj();
    if (obj == NULL)
        return "out of memory";
    for (size_t i = 0; i < nt->n_inputs; i++) {
        const ag_graphql__input_value_t *f = &nt->inputs[i];
        ag_json_t                       *fj = NULL;
        if (!ag_json_has(v, f->name)) {
            if (f->def) {
                if ((msg = literal(a, f->type, f->def, NULL, &fj, NULL)))
                    goto fail;
            } else if (f->type->kind == T_NONNULL) {
                msg = ag_arena_printf(a, "Field \"%s\" of required type \"%s\" was not provided.",
                                      f->name, ag_graphql__tref_str(a, f->type));
                goto fail;
            } else {
                continue;
            }
        } else if ((msg = json_value(a, f->type, ag_json_get(v, f->name), &fj))) {
            goto fail;
        }
        if (ag_json_set(obj, f->name, fj) != AG_OK) {
            msg = "out of memory";
            goto fail;
        }
    }
    if ((msg = one_of_coerced(a, nt, obj)))
        goto fail;
    *out = obj;
    return NULL;
fail:
    ag_json_free(obj);
    return msg;
}

/* Reject members an input object type does not define. */
typedef struct {
    const ag_graphql_type_t *t;
    const char              *bad;
} unknown_ctx_t;

static bool
find_unknown(const char *key, ag_json_t *val, void *ud)
{
    unknown_ctx_t *c = ud;
    (void)val;
    if (ag_graphql__input_lookup(c->t->inputs, c->t->n_inputs, key) == NULL) {
        c->bad = key;
        return false;
    }
    return true;
}

/* Unknown members anywhere in v under t; message or NULL. */
static const char *
json_unknown_fields(ag_arena_t *a, const ag_graphql__tref_t *t, const ag_json_t *v)
{
    const char *msg;

    while (t->kind == T_NONNULL)
        t = t->of;
    if (v == NULL)
        return NULL;
    if (t->kind == T_LIST) {
        if (ag_json_type(v) != AG_JSON_ARRAY)
            return json_unknown_fields(a, t->of, v);
        for (size_t i = 0; i < ag_json_len(v); i++)
            if ((msg = json_unknown_fields(a, t->of, ag_json_at(v, i))))
                return msg;
        return NULL;
    }
    if (t->type->kind != K_INPUT_OBJECT || ag_json_type(v) != AG_JSON_OBJECT)
        return NULL;
    unknown_ctx_t c = {t->type, NULL};
    ag_json_each(v, find_unknown, &c);
    if (c.bad)
        return ag_arena_printf(a, "Field \"%s\" is not defined by type \"%s\".", c.bad,
                               t->type->name);
    for (size_t i = 0; i < t->type->n_inputs; i++)
        if ((msg = json_unknown_fields(a, t->type->inputs[i].type,
                                       ag_json_get(v, t->type->inputs[i].name))))
            return msg;
    return NULL;
}

ag_status_t
ag_graphql__json_coerce(ag_arena_t *a, const ag_graphql__tref_t *t, const ag_json_t *v,
                        ag_json_t **out, const char **msg)
{
    if ((*msg = json_unknown_fields(a, t, v)) == NULL)
        *msg = json_value(a, t, v, out);
    else
        *out = NULL;
    return *msg ? AG_EBADREQ : AG_OK;
}

ag_status_t
ag_graphql__args_coerce(ag_arena_t *a, const ag_graphql__input_value_t *defs, size_t n_defs,
                        const ag_graphql__arg_t *args, size_t n_args, const ag_json_t *vars,
                        ag_json_t **out, const char **msg)
{
    ag_json_t *obj = ag_json_obj();

    *msg = NULL;
    if (obj == NULL)
        return AG_ENOMEM;
    for (size_t i = 0; i < n_defs; i++) {
        const ag_graphql__input_value_t *d = &defs[i];
        const ag_graphql__value_t       *v = NULL;
        ag_json_t                       *val = NULL;
        for (size_t j = 0; j < n_args; j++)
            if (strcmp(args[j].name, d->name) == 0)
                v = args[j].value;
        bool has = v && (v->kind != V_VAR || ag_json_has(vars, v->str));
        if (!has && d->def) {
            v = d->def;
        } else if (!has) {
            if (d->type->kind == T_NONNULL) {
                *msg = ag_arena_printf(a,
                                       "Argument \"%s\" of required type \"%s\" was not "
                                       "provided.",
                                       d->name, ag_graphql__tref_str(a, d->type));
                break;
            }
            continue;
        }
        if ((*msg = literal(a, d->type, v, vars, &val, NULL)))
            break;
        if (ag_json_set(obj, d->name, val) != AG_OK) {
            *msg = "out of memory";
            break;
        }
    }
    if (*msg) {
        ag_json_free(obj);
        return AG_EBADREQ;
    }
    *out = obj;
    return AG_OK;
}
