/*
 * lib/graphql/print_sdl.c — the schema as SDL (GET /graphql/schema.graphql) and
 * value literals as GraphQL text (defaults in SDL and introspection, messages).
 * The layout follows graphql-js printSchema so diffs against it stay small.
 */
#include "graphql/graphql_int.h"

#include <string.h>

/* A string literal with GraphQL escapes. */
ag_status_t
ag_graphql__print_string(ag_buf_t *b, const char *s, size_t n)
{
    static const char hex[] = "0123456789ABCDEF";
    ag_status_t       st = ag_buf_append(b, "\"", 1);

    for (size_t i = 0; i < n && st == AG_OK; i++) {
        unsigned char c = (unsigned char)s[i];
        switch (c) {
        case '"':
            st = ag_buf_append(b, "\\\"", 2);
            break;
        case '\\':
            st = ag_buf_append(b, "\\\\", 2);
            break;
        case '\n':
            st = ag_buf_append(b, "\\n", 2);
            break;
        case '\r':
            st = ag_buf_append(b, "\\r", 2);
            break;
        case '\t':
            st = ag_buf_append(b, "\\t", 2);
            break;
        case '\b':
            st = ag_buf_append(b, "\\b", 2);
            break;
        case '\f':
            st = ag_buf_append(b, "\\f", 2);
            break;
        default:
            if (c < 0x20) {
                char e[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
                st = ag_buf_append(b, e, 6);
            } else {
                st = ag_buf_append(b, &s[i], 1);
            }
        }
    }
    return st == AG_OK ? ag_buf_append(b, "\"", 1) : st;
}

ag_status_t
ag_graphql__print_value(ag_buf_t *b, const ag_graphql__value_t *v)
{
    ag_status_t st = AG_OK;

    switch (v->kind) {
    case V_VAR:
        return ag_buf_printf(b, "$%s", v->str);
    case V_INT:
    case V_FLOAT:
    case V_ENUM:
        return ag_buf_puts(b, v->str);
    case V_STRING:
        return ag_graphql__print_string(b, v->str, v->len);
    case V_BOOL:
        return ag_buf_puts(b, v->b ? "true" : "false");
    case V_NULL:
        return ag_buf_puts(b, "null");
    case V_LIST:
        st = ag_buf_puts(b, "[");
        for (size_t i = 0; i < v->n && st == AG_OK; i++) {
            if (i)
                st = ag_buf_puts(b, ", ");
            if (st == AG_OK)
                st = ag_graphql__print_value(b, v->u.items[i]);
        }
        return st == AG_OK ? ag_buf_puts(b, "]") : st;
    case V_OBJECT:
        st = ag_buf_puts(b, "{");
        for (size_t i = 0; i < v->n && st == AG_OK; i++) {
            st = ag_buf_printf(b, "%s%s: ", i ? ", " : "", v->u.fields[i].name);
            if (st == AG_OK)
                st = ag_graphql__print_value(b, v->u.fields[i].value);
        }
        return st == AG_OK ? ag_buf_puts(b, "}") : st;
    }
    return AG_EINTERNAL; /* impossible: every kind is handled above */
}

/* A description as a block string, indented like the definition it precedes. */
static void
print_desc(ag_buf_t *b, const char *desc, const char *indent)
{
    if (desc == NULL)
        return;
    ag_buf_puts(b, indent);
    ag_buf_puts(b, "\"\"\"");
    bool multi = strchr(desc, '\n') != NULL;
    if (multi) {
        ag_buf_puts(b, "\n");
        ag_buf_puts(b, indent);
    }
    for (const char *p = desc; *p; p++) {
        if (strncmp(p, "\"\"\"", 3) == 0) {
            ag_buf_puts(b, "\\\"\"\"");
            p += 2;
        } else if (*p == '\n') {
            ag_buf_puts(b, "\n");
            ag_buf_puts(b, indent);
        } else {
            ag_buf_append(b, p, 1);
        }
    }
    if (multi) {
        ag_buf_puts(b, "\n");
        ag_buf_puts(b, indent);
    }
    ag_buf_puts(b, "\"\"\"\n");
}

static void
print_deprecated(ag_buf_t *b, const char *reason)
{
    if (reason == NULL)
        return;
    if (strcmp(reason, "No longer supported") == 0) {
        ag_buf_puts(b, " @deprecated");
        return;
    }
    ag_buf_puts(b, " @deprecated(reason: ");
    ag_graphql__print_string(b, reason, strlen(reason));
    ag_buf_puts(b, ")");
}

static void
print_tref(ag_buf_t *b, const ag_graphql__tref_t *t)
{
    if (t->kind == T_NAMED) {
        ag_buf_puts(b, t->name);
    } else if (t->kind == T_LIST) {
        ag_buf_puts(b, "[");
        print_tref(b, t->of);
        ag_buf_puts(b, "]");
    } else {
        print_tref(b, t->of);
        ag_buf_puts(b, "!");
    }
}

static void
print_input_value(ag_buf_t *b, const ag_graphql__input_value_t *v)
{
    ag_buf_printf(b, "%s: ", v->name);
    print_tref(b, v->type);
    if (v->def) {
        ag_buf_puts(b, " = ");
        ag_graphql__print_value(b, v->def);
    }
    print_deprecated(b, v->deprecation);
}

/* (a: Int, b: String) on one line, or one per line when any has a description. */
static void
print_args(ag_buf_t *b, const ag_graphql__input_value_t *args, size_t n, const char *indent)
{
    bool multi = false;

    if (n == 0)
        return;
    for (size_t i = 0; i < n; i++)
        multi |= args[i].desc != NULL;
    ag_buf_puts(b, "(");
    for (size_t i = 0; i < n; i++) {
        if (multi) {
            char inner[16];
            snprintf(inner, sizeof(inner), "%s  ", indent);
            ag_buf_puts(b, "\n");
            print_desc(b, args[i].desc, inner);
            ag_buf_puts(b, inner);
        } else if (i) {
            ag_buf_puts(b, ", ");
        }
        print_input_value(b, &args[i]);
    }
    if (multi) {
        ag_buf_puts(b, "\n");
        ag_buf_puts(b, indent);
    }
    ag_buf_puts(b, ")");
}

/*
 * The engine's cost model (limits.c) in the IBM directives' terms, where it
 * differs from their defaults: a leaf field costs 1 (their default is 0;
 * objects cost 1 in both), and a field with a `first` argument multiplies
 * its selection by it: by default the field's own list, or with a
 * connection the lists of the type it returns (edges). The engine also
 * multiplies the rest of that selection (pageInfo) and clamps `first` to
 * page_max: its estimate is never below what a gateway computes from these.
 */
static void
print_cost(ag_buf_t *b, const ag_graphql_field_t *f)
{
    const ag_graphql_type_t         *nt = ag_graphql__named(f->type);
    const ag_graphql__input_value_t *first;
    const ag_graphql__tref_t        *t = f->type;
    bool                             sized = false;

    if (!f->schema->publish_cost || nt == NULL)
        return;
    if (ag_graphql__is_leaf(nt)) {
        ag_buf_puts(b, " @cost(weight: 1)");
        return;
    }
    if (!f->has_first)
        return;
    first = ag_graphql__input_lookup(f->args, f->n_args, "first");
    ag_buf_puts(b, " @listSize(");
    if (first && first->def && first->def->kind == V_INT)
        ag_buf_printf(b, "assumedSize: %s, ", first->def->str);
    ag_buf_puts(b, "slicingArguments: [\"first\"]");
    while (t->kind == T_NONNULL)
        t = t->of;
    for (size_t i = 0; t->kind != T_LIST && i < nt->n_fields; i++) {
        const ag_graphql__tref_t *ft = nt->fields[i]->type;
        while (ft->kind == T_NONNULL)
            ft = ft->of;
        if (ft->kind != T_LIST)
            continue;
        ag_buf_printf(b, "%s\"%s\"", sized ? ", " : ", sizedFields: [", nt->fields[i]->name);
        sized = true;
    }
    ag_buf_puts(b, sized ? "], requireOneSlicingArgument: false)"
                         : ", requireOneSlicingArgument: false)");
}

static void
print_fields(ag_buf_t *b, const ag_graphql_type_t *t)
{
    ag_buf_puts(b, " {\n");
    for (size_t i = 0; i < t->n_fields; i++) {
        const ag_graphql_field_t *f = t->fields[i];
        print_desc(b, f->desc, "  ");
        ag_buf_printf(b, "  %s", f->name);
        print_args(b, f->args, f->n_args, "  ");
        ag_buf_puts(b, ": ");
        print_tref(b, f->type);
        print_deprecated(b, f->deprecation);
        print_cost(b, f);
        ag_buf_puts(b, "\n");
    }
    ag_buf_puts(b, "}\n");
}

/* A directive the schema adds to the spec's, as graphql-js printSchema writes it. */
static void
print_directive(ag_buf_t *b, const ag_graphql__directive_def_t *d)
{
    bool first = true;

    print_desc(b, d->desc, "");
    ag_buf_printf(b, "directive @%s", d->name);
    print_args(b, d->args, d->n_args, "");
    ag_buf_puts(b, d->repeatable ? " repeatable on " : " on ");
    for (int i = 0; i < DL_COUNT; i++)
        if (d->locations & (1u << i)) {
            ag_buf_printf(b, "%s%s", first ? "" : " | ", ag_graphql__location_names[i]);
            first = false;
        }
    ag_buf_puts(b, "\n");
}

static void
print_type(ag_buf_t *b, const ag_graphql_type_t *t)
{
    print_desc(b, t->desc, "");
    switch (t->kind) {
    case K_SCALAR:
        ag_buf_printf(b, "scalar %s", t->name);
        if (t->specified_by) {
            ag_buf_puts(b, " @specifiedBy(url: ");
            ag_graphql__print_string(b, t->specified_by, strlen(t->specified_by));
            ag_buf_puts(b, ")");
        }
        ag_buf_puts(b, "\n");
        break;
    case K_OBJECT:
    case K_INTERFACE:
        ag_buf_printf(b, "%s %s", t->kind == K_OBJECT ? "type" : "interface", t->name);
        for (size_t i = 0; i < t->n_ifaces; i++)
            ag_buf_printf(b, "%s%s", i ? " & " : " implements ", t->iface_names[i]);
        print_fields(b, t);
        break;
    case K_UNION:
        ag_buf_printf(b, "union %s", t->name);
        for (size_t i = 0; i < t->n_ifaces; i++)
            ag_buf_printf(b, "%s%s", i ? " | " : " = ", t->iface_names[i]);
        ag_buf_puts(b, "\n");
        break;
    case K_ENUM:
        ag_buf_printf(b, "enum %s {\n", t->name);
        for (size_t i = 0; i < t->n_values; i++) {
            print_desc(b, t->values[i].desc, "  ");
            ag_buf_printf(b, "  %s", t->values[i].name);
            print_deprecated(b, t->values[i].deprecation);
            ag_buf_puts(b, "\n");
        }
        ag_buf_puts(b, "}\n");
        break;
    case K_INPUT_OBJECT:
        ag_buf_printf(b, "input %s%s {\n", t->name, t->one_of ? " @oneOf" : "");
        for (size_t i = 0; i < t->n_inputs; i++) {
            print_desc(b, t->inputs[i].desc, "  ");
            ag_buf_puts(b, "  ");
            print_input_value(b, &t->inputs[i]);
            ag_buf_puts(b, "\n");
        }
        ag_buf_puts(b, "}\n");
        break;
    }
}

/*
 * Print every declared type in declaration order, preceded by a schema
 * block when the schema has a description (roots use the default names).
 */
ag_status_t
ag_graphql_schema_print(const ag_graphql_schema_t *s, ag_buf_t *b)
{
    bool first = true;

    if (!s->finished)
        return AG_EINTERNAL;
    if (s->desc) {
        print_desc(b, s->desc, "");
        ag_buf_printf(b, "schema {\n  query: %s\n", s->query->name);
        if (s->mutation)
            ag_buf_printf(b, "  mutation: %s\n", s->mutation->name);
        if (s->subscription)
            ag_buf_printf(b, "  subscription: %s\n", s->subscription->name);
        ag_buf_puts(b, "}\n");
        first = false;
    }
    for (size_t i = 0; i < s->n_dirs; i++) {
        if (!s->dirs[i].custom)
            continue;
        if (!first)
            ag_buf_puts(b, "\n");
        print_directive(b, &s->dirs[i]);
        first = false;
    }
    for (size_t i = 0; i < s->n_types; i++) {
        if (s->types[i]->builtin)
            continue;
        if (!first)
            ag_buf_puts(b, "\n");
        print_type(b, s->types[i]);
        first = false;
    }
    /* ag_buf_* report ENOMEM per call; a short buffer is the only failure */
    return b->data ? AG_OK : AG_ENOMEM;
}
