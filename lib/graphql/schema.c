/*
 * lib/graphql/schema.c — schemas declared in C. A schema owns an arena with all
 * its types; builder calls keep the first error and ag_graphql_schema_finish()
 * reports it, so a schema reads as a table of declarations. Once finished a
 * schema is immutable and may be shared by every request of a process.
 */
#include "graphql/graphql_int.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

const char *const ag_graphql__location_names[DL_COUNT] = {
#define AG__LOC_NAME(n) #n,
    AG_GQL_LOCATIONS(AG__LOC_NAME)
#undef AG__LOC_NAME
};

static void set_err(ag_graphql_schema_t *s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Keep the first builder error; later ones are usually consequences. */
static void
set_err(ag_graphql_schema_t *s, const char *fmt, ...)
{
    char    msg[256];
    va_list ap;

    if (s->err)
        return;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    s->err = ag_arena_strdup(s->arena, msg);
    if (s->err == NULL)
        s->err = "out of memory";
}

/* Grow an arena array of elements of size sz to hold one more. */
static bool
grow(ag_graphql_schema_t *s, void **items, size_t n, size_t *cap, size_t sz)
{
    if (n < *cap)
        return true;
    size_t ncap = *cap ? *cap * 2 : 8;
    void  *nv = ag_arena_calloc(s->arena, ncap * sz);
    if (nv == NULL) {
        set_err(s, "out of memory");
        return false;
    }
    if (n)
        memcpy(nv, *items, n * sz);
    *items = nv;
    *cap = ncap;
    return true;
}

#define GROW(s, arr, n, cap) grow((s), (void **)&(arr), (n), &(cap), sizeof(*(arr)))

static bool
valid_name(const char *n)
{
    if (n == NULL || !(*n == '_' || (*n >= 'a' && *n <= 'z') || (*n >= 'A' && *n <= 'Z')))
        return false;
    for (n++; *n; n++)
        if (!(*n == '_' || (*n >= 'a' && *n <= 'z') || (*n >= 'A' && *n <= 'Z') ||
              (*n >= '0' && *n <= '9')))
            return false;
    return true;
}

static const char *
dup(ag_graphql_schema_t *s, const char *str)
{
    char *d;
    if (str == NULL)
        return NULL;
    if ((d = ag_arena_strdup(s->arena, str)) == NULL)
        set_err(s, "out of memory");
    return d;
}

ag_graphql_type_t *
ag_graphql__type_lookup(const ag_graphql_schema_t *s, const char *name)
{
    for (size_t i = 0; i < s->n_types; i++)
        if (strcmp(s->types[i]->name, name) == 0)
            return s->types[i];
    return NULL;
}

static ag_graphql_type_t *
new_type(ag_graphql_schema_t *s, ag_graphql__kind_t kind, const char *name, const char *desc)
{
    ag_graphql_type_t *t;

    if (s == NULL)
        return NULL;
    if (!valid_name(name)) {
        set_err(s, "invalid type name \"%s\"", name ? name : "(null)");
        return NULL;
    }
    if (ag_graphql__type_lookup(s, name)) {
        set_err(s, "type \"%s\" declared twice", name);
        return NULL;
    }
    if (!GROW(s, s->types, s->n_types, s->cap_types))
        return NULL;
    if ((t = ag_arena_calloc(s->arena, sizeof(*t))) == NULL) {
        set_err(s, "out of memory");
        return NULL;
    }
    t->kind = kind;
    t->name = dup(s, name);
    t->desc = dup(s, desc);
    t->schema = s;
    t->self.kind = T_NAMED;
    t->self.name = t->name;
    t->self.type = t;
    s->types[s->n_types++] = t;
    return t;
}

ag_graphql_type_t *
ag_graphql_object(ag_graphql_schema_t *s, const char *name, const char *desc)
{
    return new_type(s, K_OBJECT, name, desc);
}

ag_graphql_type_t *
ag_graphql_interface(ag_graphql_schema_t *s, const char *name, const char *desc)
{
    return new_type(s, K_INTERFACE, name, desc);
}

ag_graphql_type_t *
ag_graphql_union(ag_graphql_schema_t *s, const char *name, const char *desc)
{
    return new_type(s, K_UNION, name, desc);
}

ag_graphql_type_t *
ag_graphql_enum(ag_graphql_schema_t *s, const char *name, const char *desc)
{
    return new_type(s, K_ENUM, name, desc);
}

ag_graphql_type_t *
ag_graphql_input(ag_graphql_schema_t *s, const char *name, const char *desc)
{
    return new_type(s, K_INPUT_OBJECT, name, desc);
}

ag_graphql_type_t *
ag_graphql_scalar(ag_graphql_schema_t *s, const char *name, const char *desc,
                  const char *specified_by)
{
    ag_graphql_type_t *t = new_type(s, K_SCALAR, name, desc);
    if (t) {
        t->scalar = SC_CUSTOM;
        t->specified_by = dup(s, specified_by);
    }
    return t;
}

/* Parse a declared type reference; NULL (with the schema error set) when malformed. */
static ag_graphql__tref_t *
type_ref(ag_graphql_schema_t *s, const char *text, const char *what)
{
    ag_graphql__tref_t *t = text ? ag_graphql__parse_type(s->arena, text) : NULL;
    if (t == NULL)
        set_err(s, "%s: malformed type \"%s\"", what, text ? text : "(null)");
    return t;
}

ag_graphql_field_t *
ag_graphql_field(ag_graphql_type_t *t, const char *name, const char *type, const char *desc,
                 ag_graphql_resolve_fn resolve, void *ud)
{
    ag_graphql_schema_t *s;
    ag_graphql_field_t  *f;

    if (t == NULL)
        return NULL;
    s = t->schema;
    if (t->kind != K_OBJECT && t->kind != K_INTERFACE) {
        set_err(s, "%s is not an object or interface type", t->name);
        return NULL;
    }
    if (!valid_name(name)) {
        set_err(s, "%s: invalid field name", t->name);
        return NULL;
    }
    for (size_t i = 0; i < t->n_fields; i++)
        if (strcmp(t->fields[i]->name, name) == 0) {
            set_err(s, "field %s.%s declared twice", t->name, name);
            return NULL;
        }
    if (!GROW(s, t->fields, t->n_fields, t->cap_fields))
        return NULL;
    if ((f = ag_arena_calloc(s->arena, sizeof(*f))) == NULL) {
        set_err(s, "out of memory");
        return NULL;
    }
    f->name = dup(s, name);
    f->desc = dup(s, desc);
    f->type_text = dup(s, type);
    f->type = type_ref(s, type, name);
    f->resolve = resolve;
    f->ud = ud;
    f->owner = t;
    f->schema = s;
    t->fields[t->n_fields++] = f;
    return f;
}

/* Fill an input value (argument or input field) from its declaration. */
static void
input_value(ag_graphql_schema_t *s, ag_graphql__input_value_t *v, const char *name,
            const char *type, const char *def, const char *desc)
{
    if (!valid_name(name))
        set_err(s, "invalid argument name \"%s\"", name ? name : "(null)");
    v->name = dup(s, name);
    v->desc = dup(s, desc);
    v->type = type_ref(s, type, name ? name : "?");
    v->def_text = dup(s, def);
    if (def && (v->def = ag_graphql__parse_const_value(s->arena, def)) == NULL)
        set_err(s, "%s: malformed default value %s", name ? name : "?", def);
}

void
ag_graphql_arg(ag_graphql_field_t *f, const char *name, const char *type, const char *default_value,
               const char *desc)
{
    if (f == NULL || !GROW(f->schema, f->args, f->n_args, f->cap_args))
        return;
    input_value(f->schema, &f->args[f->n_args++], name, type, default_value, desc);
    if (name && strcmp(name, "first") == 0)
        f->has_first = true;
}

void
ag_graphql_deprecate(ag_graphql_field_t *f, const char *reason)
{
    if (f)
        f->deprecation = dup(f->schema, reason ? reason : "No longer supported");
}

void
ag_graphql_set_prepare(ag_graphql_field_t *f, ag_graphql_prepare_fn prepare)
{
    if (f)
        f->prepare = prepare;
}

void
ag_graphql_input_field(ag_graphql_type_t *t, const char *name, const char *type,
                       const char *default_value, const char *desc)
{
    if (t == NULL)
        return;
    if (t->kind != K_INPUT_OBJECT) {
        set_err(t->schema, "%s is not an input type", t->name);
        return;
    }
    if (!GROW(t->schema, t->inputs, t->n_inputs, t->cap_inputs))
        return;
    input_value(t->schema, &t->inputs[t->n_inputs++], name, type, default_value, desc);
}

void
ag_graphql_one_of(ag_graphql_type_t *t)
{
    if (t && t->kind != K_INPUT_OBJECT)
        set_err(t->schema, "%s: only an input object type can be @oneOf", t->name);
    else if (t)
        t->one_of = true;
}

/* The input value of this name among v[0..n), with the schema error set when absent. */
static ag_graphql__input_value_t *
input_named(ag_graphql_schema_t *s, ag_graphql__input_value_t *v, size_t n, const char *owner,
            const char *name)
{
    for (size_t i = 0; name && i < n; i++)
        if (strcmp(v[i].name, name) == 0)
            return &v[i];
    set_err(s, "%s: no argument or input field %s to deprecate", owner, name ? name : "(null)");
    return NULL;
}

void
ag_graphql_arg_deprecate(ag_graphql_field_t *f, const char *name, const char *reason)
{
    ag_graphql__input_value_t *v =
        f ? input_named(f->schema, f->args, f->n_args, f->name, name) : NULL;
    if (v)
        v->deprecation = dup(f->schema, reason ? reason : "No longer supported");
}

void
ag_graphql_input_deprecate(ag_graphql_type_t *t, const char *name, const char *reason)
{
    ag_graphql__input_value_t *v =
        t ? input_named(t->schema, t->inputs, t->n_inputs, t->name, name) : NULL;
    if (v)
        v->deprecation = dup(t->schema, reason ? reason : "No longer supported");
}

void
ag_graphql_enum_value(ag_graphql_type_t *t, const char *name, const char *desc,
                      const char *deprecation_reason)
{
    if (t == NULL)
        return;
    if (t->kind != K_ENUM || !valid_name(name) || strcmp(name, "true") == 0 ||
        strcmp(name, "false") == 0 || strcmp(name, "null") == 0) {
        set_err(t->schema, "%s: invalid enum value %s", t->name, name ? name : "(null)");
        return;
    }
    if (!GROW(t->schema, t->values, t->n_values, t->cap_values))
        return;
    ag_graphql__enum_value_t *v = &t->values[t->n_values++];
    v->name = dup(t->schema, name);
    v->desc = dup(t->schema, desc);
    v->deprecation = dup(t->schema, deprecation_reason);
}

static void
add_iface_name(ag_graphql_type_t *t, const char *name)
{
    if (t == NULL || !GROW(t->schema, t->iface_names, t->n_ifaces, t->cap_ifaces))
        return;
    t->iface_names[t->n_ifaces++] = dup(t->schema, name);
}

void
ag_graphql_implements(ag_graphql_type_t *t, const char *iface)
{
    if (t && t->kind != K_OBJECT && t->kind != K_INTERFACE)
        set_err(t->schema, "%s cannot implement an interface", t->name);
    else
        add_iface_name(t, iface);
}

void
ag_graphql_union_member(ag_graphql_type_t *u, const char *member)
{
    if (u && u->kind != K_UNION)
        set_err(u->schema, "%s is not a union", u->name);
    else
        add_iface_name(u, member);
}

/* ---- built-ins ---------------------------------------------------------------------- */

static void
builtin_scalar(ag_graphql_schema_t *s, const char *name, ag_graphql__scalar_t sc, const char *desc)
{
    ag_graphql_type_t *t = new_type(s, K_SCALAR, name, desc);
    if (t) {
        t->scalar = sc;
        t->builtin = true;
    }
}

/* A directive of the schema (its arguments follow with directive_arg); NULL on ENOMEM. */
static ag_graphql__directive_def_t *
add_directive(ag_graphql_schema_t *s, const char *name, const char *desc, unsigned locs,
              bool custom)
{
    ag_graphql__directive_def_t *d;

    if (!GROW(s, s->dirs, s->n_dirs, s->cap_dirs))
        return NULL;
    d = &s->dirs[s->n_dirs++];
    d->name = name;
    d->desc = desc;
    d->locations = locs;
    d->custom = custom;
    return d;
}

/* One more argument of d (arguments are few: the array is copied each time). */
static void
directive_arg(ag_graphql_schema_t *s, ag_graphql__directive_def_t *d, const char *name,
              const char *type, const char *def, const char *desc)
{
    ag_graphql__input_value_t *args;

    if (d == NULL)
        return;
    if ((args = ag_arena_calloc(s->arena, sizeof(*args) * (d->n_args + 1))) == NULL) {
        set_err(s, "out of memory");
        return;
    }
    if (d->n_args)
        memcpy(args, d->args, sizeof(*args) * d->n_args);
    input_value(s, &args[d->n_args], name, type, def, desc);
    d->args = args;
    d->n_args++;
}

/* @include, @skip, @deprecated, @specifiedBy and @oneOf (spec §3.13, September 2025). */
static void
builtin_directives(ag_graphql_schema_t *s)
{
    static const struct {
        const char *name, *desc, *arg, *arg_type, *arg_def, *arg_desc;
        unsigned    locs;
    } defs[] = {
        {"include",
         "Directs the executor to include this field or fragment only when the `if` "
         "argument is true.",
         "if", "Boolean!", NULL, "Included when true.",
         DL(FIELD) | DL(FRAGMENT_SPREAD) | DL(INLINE_FRAGMENT)},
        {"skip",
         "Directs the executor to skip this field or fragment when the `if` argument "
         "is true.",
         "if", "Boolean!", NULL, "Skipped when true.",
         DL(FIELD) | DL(FRAGMENT_SPREAD) | DL(INLINE_FRAGMENT)},
        {"deprecated", "Marks an element of a GraphQL schema as no longer supported.", "reason",
         "String", "\"No longer supported\"",
         "Explains why this element was deprecated, usually also including a suggestion for "
         "how to access supported similar data. Formatted using the Markdown syntax, as "
         "specified by [CommonMark](https://commonmark.org/).",
         DL(FIELD_DEFINITION) | DL(ARGUMENT_DEFINITION) | DL(INPUT_FIELD_DEFINITION) |
             DL(ENUM_VALUE) | DL(DIRECTIVE_DEFINITION)},
        {"specifiedBy", "Exposes a URL that specifies the behavior of this scalar.", "url",
         "String!", NULL, "The URL that specifies the behavior of this scalar.", DL(SCALAR)},
        {"oneOf", "Indicates exactly one field must be supplied and this field must not be `null`.",
         NULL, NULL, NULL, NULL, DL(INPUT_OBJECT)},
    };
    for (size_t i = 0; i < AG_ARRAY_LEN(defs); i++) {
        ag_graphql__directive_def_t *d =
            add_directive(s, defs[i].name, defs[i].desc, defs[i].locs, false);
        if (defs[i].arg)
            directive_arg(s, d, defs[i].arg, defs[i].arg_type, defs[i].arg_def, defs[i].arg_desc);
    }
}

/*
 * The IBM GraphQL cost directives as Apollo Router and Hive read them
 * (weight an Int). print_sdl.c applies them to the fields as limits.c counts.
 */
void
ag_graphql_schema_publish_cost(ag_graphql_schema_t *s)
{
    ag_graphql__directive_def_t *d;

    if (s == NULL || s->publish_cost)
        return;
    s->publish_cost = true;
    d = add_directive(s, "cost",
                      "The estimated cost of a field, an argument, or every field of a type "
                      "(IBM GraphQL Cost Directives).",
                      DL(ARGUMENT_DEFINITION) | DL(ENUM) | DL(FIELD_DEFINITION) |
                          DL(INPUT_FIELD_DEFINITION) | DL(OBJECT) | DL(SCALAR),
                      true);
    directive_arg(s, d, "weight", "Int!", NULL, NULL);
    d = add_directive(s, "listSize",
                      "How many items a list field returns, for the cost of its selection "
                      "(IBM GraphQL Cost Directives).",
                      DL(FIELD_DEFINITION), true);
    directive_arg(s, d, "assumedSize", "Int", NULL, NULL);
    directive_arg(s, d, "slicingArguments", "[String!]", NULL, NULL);
    directive_arg(s, d, "sizedFields", "[String!]", NULL, NULL);
    directive_arg(s, d, "requireOneSlicingArgument", "Boolean", "true", NULL);
}

ag_graphql_schema_t *
ag_graphql_schema_new(const char *description)
{
    ag_graphql_schema_t *s = calloc(1, sizeof(*s));
    if (s == NULL)
        return NULL;
    if ((s->arena = ag_arena_new(32768)) == NULL) {
        free(s);
        return NULL;
    }
    s->desc = dup(s, description);
    builtin_scalar(s, "Int", SC_INT,
                   "The `Int` scalar type represents non-fractional signed whole numeric "
                   "values. Int can represent values between -(2^31) and 2^31 - 1.");
    builtin_scalar(
        s, "Float", SC_FLOAT,
        "The `Float` scalar type represents signed double-precision fractional "
        "values as specified by [IEEE 754](https://en.wikipedia.org/wiki/IEEE_floating_point).");
    builtin_scalar(s, "String", SC_STRING,
                   "The `String` scalar type represents textual data, represented as UTF-8 "
                   "character sequences. The String type is most often used by GraphQL to "
                   "represent free-form human-readable text.");
    builtin_scalar(s, "Boolean", SC_BOOLEAN,
                   "The `Boolean` scalar type represents `true` or `false`.");
    builtin_scalar(s, "ID", SC_ID,
                   "The `ID` scalar type represents a unique identifier, often used to refetch "
                   "an object or as key for a cache. The ID type appears in a JSON response as a "
                   "String; however, it is not intended to be human-readable. When expected as an "
                   "input type, any string (such as `\"4\"`) or integer (such as `4`) input value "
                   "will be accepted as an ID.");
    s->t_string = ag_graphql__type_lookup(s, "String");
    s->t_boolean = ag_graphql__type_lookup(s, "Boolean");
    builtin_directives(s);
    ag_graphql__introspection_declare(s);
    return s;
}

void
ag_graphql_schema_free(ag_graphql_schema_t *s)
{
    if (s == NULL)
        return;
    ag_arena_free(s->arena);
    free(s);
}

/* ---- finishing ------------------------------------------------------------------------ */

bool
ag_graphql__tref_resolve(const ag_graphql_schema_t *s, ag_graphql__tref_t *t)
{
    while (t->kind != T_NAMED)
        t = t->of;
    if (t->type == NULL)
        t->type = ag_graphql__type_lookup(s, t->name);
    return t->type != NULL;
}

/* Covariant output subtyping: same wrappers, or a stricter non-null, or an
 * object for one of its interfaces. */
static bool
out_subtype(const ag_graphql__tref_t *sub, const ag_graphql__tref_t *super)
{
    if (super->kind == T_NONNULL)
        return sub->kind == T_NONNULL && out_subtype(sub->of, super->of);
    if (sub->kind == T_NONNULL)
        return out_subtype(sub->of, super);
    if (super->kind == T_LIST)
        return sub->kind == T_LIST && out_subtype(sub->of, super->of);
    if (sub->kind == T_LIST)
        return false;
    return sub->type == super->type ||
           (sub->type && super->type && ag_graphql__is_abstract(super->type) &&
            super->type->possible && ag_graphql__possible(super->type, sub->type));
}

static bool
is_output(const ag_graphql__tref_t *t)
{
    ag_graphql__kind_t k = ag_graphql__named(t)->kind;
    return k != K_INPUT_OBJECT;
}

static void
finish_inputs(ag_graphql_schema_t *s, const char *owner, ag_graphql__input_value_t *v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        const char *msg;
        if (v[i].type == NULL)
            continue;
        if (!ag_graphql__tref_resolve(s, v[i].type)) {
            set_err(s, "%s(%s:): unknown type", owner, v[i].name);
            continue;
        }
        if (!ag_graphql__is_input_type(v[i].type))
            set_err(s, "%s(%s:): not an input type", owner, v[i].name);
        else if (v[i].deprecation && v[i].type->kind == T_NONNULL && v[i].def == NULL)
            set_err(s, "%s(%s:): a required argument or input field cannot be deprecated", owner,
                    v[i].name);
        else if (v[i].def && (msg = ag_graphql__literal_check(s->arena, v[i].type, v[i].def, NULL)))
            set_err(s, "%s(%s:): bad default: %s", owner, v[i].name, msg);
    }
}

static void
finish_type(ag_graphql_schema_t *s, ag_graphql_type_t *t)
{
    for (size_t i = 0; i < t->n_fields; i++) {
        ag_graphql_field_t *f = t->fields[i];
        if (f->type == NULL)
            continue;
        if (!ag_graphql__tref_resolve(s, f->type))
            set_err(s, "%s.%s: unknown type in \"%s\"", t->name, f->name, f->type_text);
        else if (!is_output(f->type))
            set_err(s, "%s.%s: not an output type", t->name, f->name);
        finish_inputs(s, f->name, f->args, f->n_args);
    }
    finish_inputs(s, t->name, t->inputs, t->n_inputs);
    for (size_t i = 0; t->one_of && i < t->n_inputs; i++)
        if ((t->inputs[i].type && t->inputs[i].type->kind == T_NONNULL) || t->inputs[i].def)
            set_err(s, "OneOf input field %s.%s must be nullable and have no default value",
                    t->name, t->inputs[i].name);
    if (t->n_ifaces &&
        (t->ifaces = ag_arena_calloc(s->arena, sizeof(*t->ifaces) * t->n_ifaces)) == NULL)
        set_err(s, "out of memory");
    for (size_t i = 0; i < t->n_ifaces && t->ifaces; i++) {
        ag_graphql_type_t *o = ag_graphql__type_lookup(s, t->iface_names[i]);
        ag_graphql__kind_t want = t->kind == K_UNION ? K_OBJECT : K_INTERFACE;
        if (o == NULL || o->kind != want)
            set_err(s, "%s: %s is not %s", t->name, t->iface_names[i],
                    want == K_OBJECT ? "an object type" : "an interface");
        t->ifaces[i] = o;
    }
    if ((t->kind == K_OBJECT || t->kind == K_INTERFACE) && t->n_fields == 0)
        set_err(s, "%s declares no fields", t->name);
    if (t->kind == K_ENUM && t->n_values == 0)
        set_err(s, "%s declares no values", t->name);
}

/*
 * An object or interface must declare every field of the interfaces it
 * implements, with a type that is a subtype (spec IsValidImplementation;
 * arguments are not compared).
 */
static void
check_implementation(ag_graphql_schema_t *s, const ag_graphql_type_t *t)
{
    if (t->kind == K_UNION || t->ifaces == NULL)
        return;
    for (size_t i = 0; i < t->n_ifaces; i++) {
        const ag_graphql_type_t *iface = t->ifaces[i];
        if (iface == NULL || iface->kind != K_INTERFACE)
            continue;
        for (size_t j = 0; j < iface->n_fields; j++) {
            const ag_graphql_field_t *want = iface->fields[j];
            const ag_graphql_field_t *have = NULL;
            for (size_t k = 0; k < t->n_fields && !have; k++)
                if (strcmp(t->fields[k]->name, want->name) == 0)
                    have = t->fields[k];
            if (have == NULL)
                set_err(s, "%s.%s expected by interface %s is not provided", t->name, want->name,
                        iface->name);
            else if (have->type && want->type && !out_subtype(have->type, want->type))
                set_err(s, "%s.%s must be of a subtype of %s.%s's type", t->name, want->name,
                        iface->name, want->name);
        }
    }
}

/* Possible types of an abstract type: union members, or implementers. */
static void
finish_possible(ag_graphql_schema_t *s, ag_graphql_type_t *t)
{
    size_t n = 0;

    if (t->kind == K_UNION) {
        t->possible = t->ifaces;
        t->n_possible = t->ifaces ? t->n_ifaces : 0;
        return;
    }
    if (t->kind != K_INTERFACE)
        return;
    t->possible = ag_arena_calloc(s->arena, sizeof(*t->possible) * (s->n_types + 1));
    if (t->possible == NULL) {
        set_err(s, "out of memory");
        return;
    }
    for (size_t i = 0; i < s->n_types; i++) {
        ag_graphql_type_t *o = s->types[i];
        if (o->kind != K_OBJECT || o->ifaces == NULL)
            continue;
        for (size_t j = 0; j < o->n_ifaces; j++)
            if (o->ifaces[j] == t)
                t->possible[n++] = o;
    }
    t->n_possible = n;
}

ag_status_t
ag_graphql_schema_finish(ag_graphql_schema_t *s, char *err, size_t errlen)
{
    if (s == NULL) {
        snprintf(err, errlen, "out of memory");
        return AG_ENOMEM;
    }
    for (size_t i = 0; i < s->n_types; i++)
        finish_type(s, s->types[i]);
    for (size_t i = 0; i < s->n_types; i++)
        finish_possible(s, s->types[i]);
    for (size_t i = 0; i < s->n_types && s->err == NULL; i++)
        check_implementation(s, s->types[i]);
    for (size_t i = 0; i < s->n_dirs; i++)
        finish_inputs(s, s->dirs[i].name, s->dirs[i].args, s->dirs[i].n_args);
    ag_graphql_field_t *meta[] = {s->typename_field, s->schema_field, s->type_field};
    for (size_t i = 0; i < AG_ARRAY_LEN(meta); i++) {
        if (meta[i] == NULL || meta[i]->type == NULL ||
            !ag_graphql__tref_resolve(s, meta[i]->type)) {
            set_err(s, "out of memory");
            continue;
        }
        finish_inputs(s, meta[i]->name, meta[i]->args, meta[i]->n_args);
    }
    s->query = ag_graphql__type_lookup(s, "Query");
    s->mutation = ag_graphql__type_lookup(s, "Mutation");
    s->subscription = ag_graphql__type_lookup(s, "Subscription");
    if (s->query == NULL || s->query->kind != K_OBJECT)
        set_err(s, "the schema needs an object type named Query");
    if ((s->mutation && s->mutation->kind != K_OBJECT) ||
        (s->subscription && s->subscription->kind != K_OBJECT))
        set_err(s, "Mutation and Subscription must be object types");
    if (s->err == NULL)
        ag_graphql__introspection_finish(s);
    if (s->err) {
        snprintf(err, errlen, "%s", s->err);
        return AG_ECONFIG;
    }
    s->finished = true;
    return AG_OK;
}

/* ---- lookups ------------------------------------------------------------------------- */

ag_graphql_field_t *
ag_graphql__field_lookup(const ag_graphql_schema_t *s, const ag_graphql_type_t *t, const char *name)
{
    if (name[0] == '_' && name[1] == '_') {
        if (strcmp(name, "__typename") == 0)
            return t->kind == K_INPUT_OBJECT ? NULL : s->typename_field;
        if (t == s->query && strcmp(name, "__schema") == 0)
            return s->schema_field;
        if (t == s->query && strcmp(name, "__type") == 0)
            return s->type_field;
    }
    for (size_t i = 0; i < t->n_fields; i++)
        if (strcmp(t->fields[i]->name, name) == 0)
            return t->fields[i];
    return NULL;
}

const ag_graphql__directive_def_t *
ag_graphql__directive_lookup(const ag_graphql_schema_t *s, const char *name)
{
    for (size_t i = 0; i < s->n_dirs; i++)
        if (strcmp(s->dirs[i].name, name) == 0)
            return &s->dirs[i];
    return NULL;
}

const ag_graphql__input_value_t *
ag_graphql__input_lookup(const ag_graphql__input_value_t *v, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(v[i].name, name) == 0)
            return &v[i];
    return NULL;
}

/* The named type under list and non-null wrappers (NULL when unresolved). */
const ag_graphql_type_t *
ag_graphql__named(const ag_graphql__tref_t *t)
{
    while (t && t->kind != T_NAMED)
        t = t->of;
    return t ? t->type : NULL;
}

bool
ag_graphql__is_input_type(const ag_graphql__tref_t *t)
{
    const ag_graphql_type_t *n = ag_graphql__named(t);
    return n && (n->kind == K_SCALAR || n->kind == K_ENUM || n->kind == K_INPUT_OBJECT);
}

bool
ag_graphql__is_leaf(const ag_graphql_type_t *t)
{
    return t->kind == K_SCALAR || t->kind == K_ENUM;
}

bool
ag_graphql__is_abstract(const ag_graphql_type_t *t)
{
    return t->kind == K_INTERFACE || t->kind == K_UNION;
}

/* Whether object type obj is a possible type of t (t itself when an object). */
bool
ag_graphql__possible(const ag_graphql_type_t *t, const ag_graphql_type_t *obj)
{
    if (t == obj)
        return true;
    for (size_t i = 0; i < t->n_possible; i++)
        if (t->possible[i] == obj)
            return true;
    return false;
}

bool
ag_graphql__enum_has(const ag_graphql_type_t *t, const char *name)
{
    for (size_t i = 0; i < t->n_values; i++)
        if (strcmp(t->values[i].name, name) == 0)
            return true;
    return false;
}

bool
ag_graphql__tref_equal(const ag_graphql__tref_t *a, const ag_graphql__tref_t *b)
{
    while (a && b && a->kind == b->kind && a->kind != T_NAMED) {
        a = a->of;
        b = b->of;
    }
    return a && b && a->kind == T_NAMED && b->kind == T_NAMED && strcmp(a->name, b->name) == 0;
}

/* Spec IsTypeSubTypeOf / graphql-js isTypeSubTypeOf, for input positions. */
bool
ag_graphql__tref_subtype(const ag_graphql__tref_t *sub, const ag_graphql__tref_t *super)
{
    if (super->kind == T_NONNULL)
        return sub->kind == T_NONNULL && ag_graphql__tref_subtype(sub->of, super->of);
    if (sub->kind == T_NONNULL)
        return ag_graphql__tref_subtype(sub->of, super);
    if (super->kind == T_LIST)
        return sub->kind == T_LIST && ag_graphql__tref_subtype(sub->of, super->of);
    if (sub->kind == T_LIST)
        return false;
    return strcmp(sub->name, super->name) == 0;
}

static void
tref_print(ag_buf_t *b, const ag_graphql__tref_t *t)
{
    if (t->kind == T_NAMED) {
        ag_buf_puts(b, t->name);
    } else if (t->kind == T_LIST) {
        ag_buf_puts(b, "[");
        tref_print(b, t->of);
        ag_buf_puts(b, "]");
    } else {
        tref_print(b, t->of);
        ag_buf_puts(b, "!");
    }
}

const char *
ag_graphql__tref_str(ag_arena_t *a, const ag_graphql__tref_t *t)
{
    ag_buf_t    b;
    const char *r;

    ag_buf_init(&b);
    tref_print(&b, t);
    r = b.data ? ag_arena_strdup(a, b.data) : NULL;
    ag_buf_fini(&b);
    return r ? r : "?";
}
