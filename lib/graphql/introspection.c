/*
 * lib/graphql/introspection.c — the introspection system (spec §4): __Schema,
 * __Type, __Field, __InputValue, __EnumValue, __Directive, declared with the
 * public builder and resolved from the schema's own structures, so they go
 * through the same validation and execution as user types. Parents are PTR
 * values: __Type points at a type reference (a named type's `self`, or a list
 * or non-null wrapper), the others at the schema's field/argument/value structs.
 */
#include "graphql/graphql_int.h"

#include <string.h>

static bool
is(const ag_graphql_info_t *info, const char *name)
{
    return strcmp(info->field_name, name) == 0;
}

/* A string leaf, or null for NULL; the JSON lives on the request arena. */
static ag_status_t
str(ag_graphql_info_t *info, const char *s, ag_graphql_value_t *out)
{
    if (s == NULL)
        return AG_OK;
    ag_json_t *j = ag_json_on_arena(info->arena, ag_json_str(s));
    if (j == NULL)
        return AG_ENOMEM;
    *out = ag_graphql_json(j);
    return AG_OK;
}

static ag_status_t
boolean(ag_graphql_info_t *info, bool b, ag_graphql_value_t *out)
{
    ag_json_t *j = ag_json_on_arena(info->arena, ag_json_bool(b));
    if (j == NULL)
        return AG_ENOMEM;
    *out = ag_graphql_json(j);
    return AG_OK;
}

static bool
include_deprecated(const ag_graphql_info_t *info)
{
    bool b = false;
    ag_json_get_bool(info->args, "includeDeprecated", &b);
    return b;
}

static const ag_graphql_schema_t *
schema_of(const ag_graphql_info_t *info)
{
    return info->request->schema;
}

/* A list of PTR values from an array of n elements of size sz. */
static ag_status_t
ptr_list(ag_graphql_info_t *info, const void *base, size_t n, size_t sz, bool by_ref,
         bool (*keep)(const void *el, bool incl), ag_graphql_value_t *out)
{
    size_t k = 0;
    bool   incl = include_deprecated(info);

    if (ag_graphql_list(info->arena, n, out) != AG_OK)
        return AG_ENOMEM;
    for (size_t i = 0; i < n; i++) {
        const void *el = by_ref ? ((void *const *)base)[i] : (const char *)base + i * sz;
        if (keep && !keep(el, incl))
            continue;
        out->items[k++] = ag_graphql_ptr((void *)el, NULL);
    }
    out->n = k;
    return AG_OK;
}

static bool
keep_field(const void *el, bool incl)
{
    const ag_graphql_field_t *f = el;
    return incl || f->deprecation == NULL;
}

static bool
keep_input(const void *el, bool incl)
{
    const ag_graphql__input_value_t *v = el;
    return incl || v->deprecation == NULL;
}

static bool
keep_enum(const void *el, bool incl)
{
    const ag_graphql__enum_value_t *v = el;
    return incl || v->deprecation == NULL;
}

static bool
keep_directive(const void *el, bool incl)
{
    const ag_graphql__directive_def_t *d = el;
    return incl || d->deprecation == NULL;
}

/* __Type of a named type, as a PTR value */
static ag_graphql_value_t
type_val(const ag_graphql_type_t *t)
{
    return t ? ag_graphql_ptr((void *)&t->self, NULL) : ag_graphql_ptr(NULL, NULL);
}

static ag_status_t
resolve_schema(const ag_graphql_value_t *parent, ag_graphql_info_t *info, ag_graphql_value_t *out)
{
    const ag_graphql_schema_t *s = parent->ptr;

    if (is(info, "description"))
        return str(info, s->desc, out);
    if (is(info, "types")) {
        size_t k = 0;
        if (ag_graphql_list(info->arena, s->n_types, out) != AG_OK)
            return AG_ENOMEM;
        for (size_t i = 0; i < s->n_types; i++)
            if (!s->types[i]->unused)
                out->items[k++] = type_val(s->types[i]);
        out->n = k;
        return AG_OK;
    }
    if (is(info, "queryType"))
        *out = type_val(s->query);
    else if (is(info, "mutationType"))
        *out = type_val(s->mutation);
    else if (is(info, "subscriptionType"))
        *out = type_val(s->subscription);
    else if (is(info, "directives"))
        return ptr_list(info, s->dirs, s->n_dirs, sizeof(*s->dirs), false, keep_directive, out);
    return AG_OK;
}

static const char *const kind_names[] = {"SCALAR", "OBJECT", "INTERFACE",
                                         "UNION",  "ENUM",   "INPUT_OBJECT"};

static ag_status_t
resolve_type(const ag_graphql_value_t *parent, ag_graphql_info_t *info, ag_graphql_value_t *out)
{
    const ag_graphql__tref_t *r = parent->ptr;
    const ag_graphql_type_t  *t = r->kind == T_NAMED ? r->type : NULL;

    if (is(info, "kind"))
        return str(info,
                   r->kind == T_LIST      ? "LIST"
                   : r->kind == T_NONNULL ? "NON_NULL"
                                          : kind_names[t->kind],
                   out);
    if (is(info, "ofType")) {
        if (r->kind != T_NAMED)
            *out = r->of->kind == T_NAMED ? type_val(r->of->type) : ag_graphql_ptr(r->of, NULL);
        return AG_OK;
    }
    if (t == NULL)
        return AG_OK; /* wrappers have no name, fields, ... */
    if (is(info, "name"))
        return str(info, t->name, out);
    if (is(info, "description"))
        return str(info, t->desc, out);
    if (is(info, "specifiedByURL"))
        return str(info, t->specified_by, out);
    if (is(info, "isOneOf"))
        return t->kind == K_INPUT_OBJECT ? boolean(info, t->one_of, out) : AG_OK;
    if (is(info, "fields") && (t->kind == K_OBJECT || t->kind == K_INTERFACE))
        return ptr_list(info, t->fields, t->n_fields, 0, true, keep_field, out);
    if (is(info, "interfaces") && (t->kind == K_OBJECT || t->kind == K_INTERFACE))
        return ptr_list(info, t->ifaces, t->ifaces ? t->n_ifaces : 0, 0, true, NULL, out) == AG_OK
                   ? AG_OK
                   : AG_ENOMEM;
    if (is(info, "possibleTypes") && ag_graphql__is_abstract(t)) {
        if (ag_graphql_list(info->arena, t->n_possible, out) != AG_OK)
            return AG_ENOMEM;
        for (size_t i = 0; i < t->n_possible; i++)
            out->items[i] = type_val(t->possible[i]);
        return AG_OK;
    }
    if (is(info, "enumValues") && t->kind == K_ENUM)
        return ptr_list(info, t->values, t->n_values, sizeof(*t->values), false, keep_enum, out);
    if (is(info, "inputFields") && t->kind == K_INPUT_OBJECT)
        return ptr_list(info, t->inputs, t->n_inputs, sizeof(*t->inputs), false, keep_input, out);
    return AG_OK;
}

/* __Type.interfaces stores resolved pointers to types; map them to their refs. */
static ag_status_t
fix_type_list(ag_graphql_value_t *out)
{
    for (size_t i = 0; i < out->n; i++)
        out->items[i] = type_val(out->items[i].ptr);
    return AG_OK;
}

static ag_status_t
resolve_type_entry(const ag_graphql_value_t *parent, ag_graphql_info_t *info,
                   ag_graphql_value_t *out)
{
    ag_status_t st = resolve_type(parent, info, out);
    if (st == AG_OK && is(info, "interfaces") && out->kind == AG_GRAPHQL_LIST)
        st = fix_type_list(out);
    return st;
}

/* A __Type value for a type reference: named types through their self ref. */
static ag_graphql_value_t
tref_val(const ag_graphql__tref_t *r)
{
    return r->kind == T_NAMED ? type_val(r->type) : ag_graphql_ptr((void *)r, NULL);
}

static ag_status_t
resolve_field(const ag_graphql_value_t *parent, ag_graphql_info_t *info, ag_graphql_value_t *out)
{
    const ag_graphql_field_t *f = parent->ptr;

    if (is(info, "name"))
        return str(info, f->name, out);
    if (is(info, "description"))
        return str(info, f->desc, out);
    if (is(info, "args"))
        return ptr_list(info, f->args, f->n_args, sizeof(*f->args), false, keep_input, out);
    if (is(info, "type"))
        *out = tref_val(f->type);
    else if (is(info, "isDeprecated"))
        return boolean(info, f->deprecation != NULL, out);
    else if (is(info, "deprecationReason"))
        return str(info, f->deprecation, out);
    return AG_OK;
}

static ag_status_t
resolve_input_value(const ag_graphql_value_t *parent, ag_graphql_info_t *info,
                    ag_graphql_value_t *out)
{
    const ag_graphql__input_value_t *v = parent->ptr;

    if (is(info, "name"))
        return str(info, v->name, out);
    if (is(info, "description"))
        return str(info, v->desc, out);
    if (is(info, "type")) {
        *out = tref_val(v->type);
        return AG_OK;
    }
    if (is(info, "defaultValue")) {
        ag_buf_t    b;
        ag_status_t st;
        if (v->def == NULL)
            return AG_OK;
        ag_buf_init(&b);
        st = ag_graphql__print_value(&b, v->def);
        if (st == AG_OK)
            st = str(info, b.data, out);
        ag_buf_fini(&b);
        return st;
    }
    if (is(info, "isDeprecated"))
        return boolean(info, v->deprecation != NULL, out);
    if (is(info, "deprecationReason"))
        return str(info, v->deprecation, out);
    return AG_OK;
}

static ag_status_t
resolve_enum_value(const ag_graphql_value_t *parent, ag_graphql_info_t *info,
                   ag_graphql_value_t *out)
{
    const ag_graphql__enum_value_t *v = parent->ptr;

    if (is(info, "name"))
        return str(info, v->name, out);
    if (is(info, "description"))
        return str(info, v->desc, out);
    if (is(info, "isDeprecated"))
        return boolean(info, v->deprecation != NULL, out);
    if (is(info, "deprecationReason"))
        return str(info, v->deprecation, out);
    return AG_OK;
}

static ag_status_t
resolve_directive(const ag_graphql_value_t *parent, ag_graphql_info_t *info,
                  ag_graphql_value_t *out)
{
    const ag_graphql__directive_def_t *d = parent->ptr;

    if (is(info, "name"))
        return str(info, d->name, out);
    if (is(info, "description"))
        return str(info, d->desc, out);
    if (is(info, "isRepeatable"))
        return boolean(info, d->repeatable, out);
    if (is(info, "isDeprecated"))
        return boolean(info, d->deprecation != NULL, out);
    if (is(info, "deprecationReason"))
        return str(info, d->deprecation, out);
    if (is(info, "args"))
        return ptr_list(info, d->args, d->n_args, sizeof(*d->args), false, keep_input, out);
    if (is(info, "locations")) {
        size_t k = 0;
        if (ag_graphql_list(info->arena, DL_COUNT, out) != AG_OK)
            return AG_ENOMEM;
        for (int i = 0; i < DL_COUNT; i++)
            if (d->locations & (1u << i))
                if (str(info, ag_graphql__location_names[i], &out->items[k++]) != AG_OK)
                    return AG_ENOMEM;
        out->n = k;
    }
    return AG_OK;
}

static ag_status_t
resolve_meta_schema(const ag_graphql_value_t *parent, ag_graphql_info_t *info,
                    ag_graphql_value_t *out)
{
    *out = ag_graphql_ptr((void *)schema_of(info), NULL);
    return AG_OK;
}

static ag_status_t
resolve_meta_type(const ag_graphql_value_t *parent, ag_graphql_info_t *info,
                  ag_graphql_value_t *out)
{
    const char              *name = NULL;
    const ag_graphql_type_t *t;
    if (ag_json_get_str(info->args, "name", &name) == AG_OK &&
        (t = ag_graphql__type_lookup(schema_of(info), name)) != NULL && !t->unused)
        *out = type_val(t);
    return AG_OK;
}

/* A field that lives outside any type's field list (__typename, __schema, __type). */
static ag_graphql_field_t *
meta_field(ag_graphql_schema_t *s, const char *name, const char *type, const char *desc,
           ag_graphql_resolve_fn resolve)
{
    ag_graphql_field_t *f = ag_arena_calloc(s->arena, sizeof(*f));
    if (f == NULL)
        return NULL;
    f->name = name;
    f->desc = desc;
    f->type_text = type;
    f->type = ag_graphql__parse_type(s->arena, type);
    f->resolve = resolve;
    f->schema = s;
    return f;
}

static const char *const INCL = "includeDeprecated";

void
ag_graphql__introspection_declare(ag_graphql_schema_t *s)
{
    ag_graphql_type_t  *t, *first = NULL;
    ag_graphql_field_t *f;
    size_t              from = s->n_types;

    t = ag_graphql_object(s, "__Schema",
                          "A GraphQL Schema defines the capabilities of a GraphQL server. It "
                          "exposes all available types and directives on the server, as well as "
                          "the entry points for query, mutation, and subscription operations.");
    first = t;
    ag_graphql_field(t, "description", "String", NULL, resolve_schema, NULL);
    ag_graphql_field(t, "types", "[__Type!]!", "A list of all types supported by this server.",
                     resolve_schema, NULL);
    ag_graphql_field(t, "queryType", "__Type!", "The type that query operations will be rooted at.",
                     resolve_schema, NULL);
    ag_graphql_field(t, "mutationType", "__Type",
                     "If this server supports mutation, the type that mutation operations will "
                     "be rooted at.",
                     resolve_schema, NULL);
    ag_graphql_field(t, "subscriptionType", "__Type",
                     "If this server support subscription, the type that subscription operations "
                     "will be rooted at.",
                     resolve_schema, NULL);
    f = ag_graphql_field(t, "directives", "[__Directive!]!",
                         "A list of all directives supported by this server.", resolve_schema,
                         NULL);
    ag_graphql_arg(f, INCL, "Boolean", "false", NULL);

    t = ag_graphql_object(s, "__Type",
                          "The fundamental unit of any GraphQL Schema is the type. There are many "
                          "kinds of types in GraphQL as represented by the `__TypeKind` enum.");
    ag_graphql_field(t, "kind", "__TypeKind!", NULL, resolve_type_entry, NULL);
    ag_graphql_field(t, "name", "String", NULL, resolve_type_entry, NULL);
    ag_graphql_field(t, "description", "String", NULL, resolve_type_entry, NULL);
    ag_graphql_field(t, "specifiedByURL", "String", NULL, resolve_type_entry, NULL);
    f = ag_graphql_field(t, "fields", "[__Field!]", NULL, resolve_type_entry, NULL);
    ag_graphql_arg(f, INCL, "Boolean", "false", NULL);
    ag_graphql_field(t, "interfaces", "[__Type!]", NULL, resolve_type_entry, NULL);
    ag_graphql_field(t, "possibleTypes", "[__Type!]", NULL, resolve_type_entry, NULL);
    f = ag_graphql_field(t, "enumValues", "[__EnumValue!]", NULL, resolve_type_entry, NULL);
    ag_graphql_arg(f, INCL, "Boolean", "false", NULL);
    f = ag_graphql_field(t, "inputFields", "[__InputValue!]", NULL, resolve_type_entry, NULL);
    ag_graphql_arg(f, INCL, "Boolean", "false", NULL);
    ag_graphql_field(t, "ofType", "__Type", NULL, resolve_type_entry, NULL);
    ag_graphql_field(t, "isOneOf", "Boolean", NULL, resolve_type_entry, NULL);

    t = ag_graphql_enum(s, "__TypeKind",
                        "An enum describing what kind of type a given `__Type` is.");
    ag_graphql_enum_value(t, "SCALAR", "Indicates this type is a scalar.", NULL);
    ag_graphql_enum_value(t, "OBJECT",
                          "Indicates this type is an object. `fields` and "
                          "`interfaces` are valid fields.",
                          NULL);
    ag_graphql_enum_value(t, "INTERFACE",
                          "Indicates this type is an interface. `fields`, "
                          "`interfaces`, and `possibleTypes` are valid fields.",
                          NULL);
    ag_graphql_enum_value(t, "UNION",
                          "Indicates this type is a union. `possibleTypes` is a "
                          "valid field.",
                          NULL);
    ag_graphql_enum_value(t, "ENUM",
                          "Indicates this type is an enum. `enumValues` is a valid "
                          "field.",
                          NULL);
    ag_graphql_enum_value(t, "INPUT_OBJECT",
                          "Indicates this type is an input object. "
                          "`inputFields` is a valid field.",
                          NULL);
    ag_graphql_enum_value(t, "LIST", "Indicates this type is a list. `ofType` is a valid field.",
                          NULL);
    ag_graphql_enum_value(t, "NON_NULL",
                          "Indicates this type is a non-null. `ofType` is a valid "
                          "field.",
                          NULL);

    t = ag_graphql_object(s, "__Field",
                          "Object and Interface types are described by a list of Fields, each of "
                          "which has a name, potentially a list of arguments, and a return type.");
    ag_graphql_field(t, "name", "String!", NULL, resolve_field, NULL);
    ag_graphql_field(t, "description", "String", NULL, resolve_field, NULL);
    f = ag_graphql_field(t, "args", "[__InputValue!]!", NULL, resolve_field, NULL);
    ag_graphql_arg(f, INCL, "Boolean", "false", NULL);
    ag_graphql_field(t, "type", "__Type!", NULL, resolve_field, NULL);
    ag_graphql_field(t, "isDeprecated", "Boolean!", NULL, resolve_field, NULL);
    ag_graphql_field(t, "deprecationReason", "String", NULL, resolve_field, NULL);

    t = ag_graphql_object(s, "__InputValue",
                          "Arguments provided to Fields or Directives and the input fields of an "
                          "InputObject are represented as Input Values which describe their type "
                          "and optionally a default value.");
    ag_graphql_field(t, "name", "String!", NULL, resolve_input_value, NULL);
    ag_graphql_field(t, "description", "String", NULL, resolve_input_value, NULL);
    ag_graphql_field(t, "type", "__Type!", NULL, resolve_input_value, NULL);
    ag_graphql_field(t, "defaultValue", "String",
                     "A GraphQL-formatted string representing the default value for this input "
                     "value.",
                     resolve_input_value, NULL);
    ag_graphql_field(t, "isDeprecated", "Boolean!", NULL, resolve_input_value, NULL);
    ag_graphql_field(t, "deprecationReason", "String", NULL, resolve_input_value, NULL);

    t = ag_graphql_object(s, "__EnumValue",
                          "One possible value for a given Enum. Enum values are unique values, "
                          "not a placeholder for a string or numeric value. However an Enum value "
                          "is returned in a JSON response as a string.");
    ag_graphql_field(t, "name", "String!", NULL, resolve_enum_value, NULL);
    ag_graphql_field(t, "description", "String", NULL, resolve_enum_value, NULL);
    ag_graphql_field(t, "isDeprecated", "Boolean!", NULL, resolve_enum_value, NULL);
    ag_graphql_field(t, "deprecationReason", "String", NULL, resolve_enum_value, NULL);

    t = ag_graphql_object(s, "__Directive",
                          "A Directive provides a way to describe alternate runtime execution and "
                          "type validation behavior in a GraphQL document.");
    ag_graphql_field(t, "name", "String!", NULL, resolve_directive, NULL);
    ag_graphql_field(t, "description", "String", NULL, resolve_directive, NULL);
    ag_graphql_field(t, "isRepeatable", "Boolean!", NULL, resolve_directive, NULL);
    ag_graphql_field(t, "isDeprecated", "Boolean!", NULL, resolve_directive, NULL);
    ag_graphql_field(t, "deprecationReason", "String", NULL, resolve_directive, NULL);
    ag_graphql_field(t, "locations", "[__DirectiveLocation!]!", NULL, resolve_directive, NULL);
    f = ag_graphql_field(t, "args", "[__InputValue!]!", NULL, resolve_directive, NULL);
    ag_graphql_arg(f, INCL, "Boolean", "false", NULL);

    t = ag_graphql_enum(s, "__DirectiveLocation",
                        "A Directive can be adjacent to many parts of the GraphQL language, a "
                        "__DirectiveLocation describes one such possible adjacencies.");
    for (int i = 0; i < DL_COUNT; i++)
        ag_graphql_enum_value(t, ag_graphql__location_names[i], NULL, NULL);

    for (size_t i = from; first && i < s->n_types; i++)
        s->types[i]->builtin = true;

    s->typename_field = meta_field(s, "__typename", "String!",
                                   "The name of the current Object type at runtime.", NULL);
    s->schema_field =
        meta_field(s, "__schema", "__Schema!", "Access the current type schema of this server.",
                   resolve_meta_schema);
    s->type_field = meta_field(s, "__type", "__Type",
                               "Request the type information of a single "
                               "type.",
                               resolve_meta_type);
    if (s->type_field)
        ag_graphql_arg(s->type_field, "name", "String!", NULL, NULL);
}

/* ---- what the limits need to know ----------------------------------------------------------
 * Introspection values are the schema itself, so the schema bounds them: a
 * list is at most as long as the longest such list of this schema, and a
 * chain of ofType ends (null) after the most wrappers any type reference
 * has. limits.c counts introspection fields like any other with these
 * facts, so that graphql-js's introspection query fits the default limits
 * while a query that recurses through __Type does not.
 */

static int
wraps(const ag_graphql__tref_t *t)
{
    int n = 0;
    for (; t && t->kind != T_NAMED; t = t->of)
        n++;
    return n;
}

static int
max_wrap_of(const ag_graphql__input_value_t *v, size_t n, int best)
{
    for (size_t i = 0; i < n; i++)
        if (wraps(v[i].type) > best)
            best = wraps(v[i].type);
    return best;
}

/* How many members of each kind __Type lists for t (0 where it answers null). */
static void
members_of(const ag_graphql_type_t *t, long out[AG_GQL_PT_COUNT])
{
    bool fields = t->kind == K_OBJECT || t->kind == K_INTERFACE;
    out[AG_GQL_PT_FIELDS] = fields ? (long)t->n_fields : 0;
    out[AG_GQL_PT_IFACES] = fields && t->ifaces ? (long)t->n_ifaces : 0;
    out[AG_GQL_PT_POSSIBLE] = ag_graphql__is_abstract(t) ? (long)t->n_possible : 0;
    out[AG_GQL_PT_ENUMS] = t->kind == K_ENUM ? (long)t->n_values : 0;
    out[AG_GQL_PT_INPUTS] = t->kind == K_INPUT_OBJECT ? (long)t->n_inputs : 0;
}

static void
mark(ag_graphql_schema_t *s, const char *type, const char *field, ag_graphql__intro_t kind,
     int per_type, long list_max)
{
    ag_graphql_type_t  *t = ag_graphql__type_lookup(s, type);
    ag_graphql_field_t *f = t ? ag_graphql__field_lookup(s, t, field) : NULL;
    if (f == NULL)
        return; /* impossible: introspection_declare made them */
    f->intro = kind;
    f->per_type = (uint8_t)per_type;
    f->list_max = list_max;
}

static void
refer(const ag_graphql__tref_t *t)
{
    ag_graphql_type_t *n = (ag_graphql_type_t *)ag_graphql__named(t);
    if (n)
        n->unused = false;
}

static void
refer_inputs(const ag_graphql__input_value_t *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        refer(v[i].type);
}

/*
 * A built-in scalar that no field, argument or input field refers to is not
 * listed (graphql-js's schemas hold only the standard scalars they use), so
 * that a client comparing introspection with the SDL sees the same types.
 */
static void
mark_unused_scalars(ag_graphql_schema_t *s)
{
    for (size_t i = 0; i < s->n_types; i++)
        s->types[i]->unused = s->types[i]->kind == K_SCALAR && s->types[i]->scalar != SC_CUSTOM;
    for (size_t i = 0; i < s->n_types; i++) {
        const ag_graphql_type_t *t = s->types[i];
        for (size_t j = 0; j < t->n_fields; j++) {
            refer(t->fields[j]->type);
            refer_inputs(t->fields[j]->args, t->fields[j]->n_args);
        }
        refer_inputs(t->inputs, t->n_inputs);
    }
    for (size_t i = 0; i < s->n_dirs; i++)
        refer_inputs(s->dirs[i].args, s->dirs[i].n_args);
    if (s->type_field)
        refer_inputs(s->type_field->args, s->type_field->n_args);
}

void
ag_graphql__introspection_finish(ag_graphql_schema_t *s)
{
    long most[AG_GQL_PT_COUNT] = {0}, n[AG_GQL_PT_COUNT];
    long args = s->type_field ? (long)s->type_field->n_args : 0, dir_args = 0;
    int  w = 0;

    mark_unused_scalars(s);
    memset(s->member_total, 0, sizeof(s->member_total));
    s->field_args = 0;
    for (size_t i = 0; i < s->n_types; i++) {
        const ag_graphql_type_t *t = s->types[i];
        members_of(t, n);
        for (int k = 0; k < AG_GQL_PT_COUNT; k++) {
            s->member_total[k] += n[k];
            most[k] = n[k] > most[k] ? n[k] : most[k];
        }
        for (size_t j = 0; j < t->n_fields; j++) {
            const ag_graphql_field_t *f = t->fields[j];
            s->field_args += (long)f->n_args;
            w = wraps(f->type) > w ? wraps(f->type) : w;
            w = max_wrap_of(f->args, f->n_args, w);
            args = (long)f->n_args > args ? (long)f->n_args : args;
        }
        w = max_wrap_of(t->inputs, t->n_inputs, w);
    }
    for (size_t i = 0; i < s->n_dirs; i++) {
        w = max_wrap_of(s->dirs[i].args, s->dirs[i].n_args, w);
        dir_args = (long)s->dirs[i].n_args > dir_args ? (long)s->dirs[i].n_args : dir_args;
    }
    s->max_wrap = w;
    mark(s, "__Schema", "types", AG_GQL_INTRO_TYPES, 0, (long)s->n_types);
    mark(s, "__Schema", "directives", AG_GQL_INTRO_LIST, 0, (long)s->n_dirs);
    mark(s, "__Type", "fields", AG_GQL_INTRO_MEMBERS, AG_GQL_PT_FIELDS, most[AG_GQL_PT_FIELDS]);
    mark(s, "__Type", "interfaces", AG_GQL_INTRO_MEMBERS, AG_GQL_PT_IFACES, most[AG_GQL_PT_IFACES]);
    mark(s, "__Type", "possibleTypes", AG_GQL_INTRO_MEMBERS, AG_GQL_PT_POSSIBLE,
         most[AG_GQL_PT_POSSIBLE]);
    mark(s, "__Type", "enumValues", AG_GQL_INTRO_MEMBERS, AG_GQL_PT_ENUMS, most[AG_GQL_PT_ENUMS]);
    mark(s, "__Type", "inputFields", AG_GQL_INTRO_MEMBERS, AG_GQL_PT_INPUTS,
         most[AG_GQL_PT_INPUTS]);
    mark(s, "__Type", "ofType", AG_GQL_INTRO_OFTYPE, 0, 0);
    mark(s, "__Field", "args", AG_GQL_INTRO_ARGS, 0, args);
    mark(s, "__Field", "type", AG_GQL_INTRO_TYPEREF, 0, 0);
    mark(s, "__InputValue", "type", AG_GQL_INTRO_TYPEREF, 0, 0);
    mark(s, "__Directive", "args", AG_GQL_INTRO_LIST, 0, dir_args);
}
