/*
 * lib/graphql/graphql_int.h — the engine's internals: AST, schema structures and
 * the functions the files of lib/graphql share. Not for other modules.
 */
#ifndef AG_GRAPHQL_INT_H
#define AG_GRAPHQL_INT_H

#include "graphql/graphql.h"

#include <stdio.h>

#define AG_GQL_DEFAULT_DEPTH   12
#define AG_GQL_DEFAULT_COST    10000L
#define AG_GQL_DEFAULT_BYTES   (64u * 1024u)
#define AG_GQL_DEFAULT_NESTING 64
#define AG_GQL_DEFAULT_ROOTS   32  /* root fields (response keys) of an operation */
#define AG_GQL_DEFAULT_ALIASES 64  /* aliased fields of an operation, as they run */
#define AG_GQL_DEFAULT_PAGE    100 /* the largest `first` a resolver honours */
#define AG_GQL_MAX_ERRORS      100 /* validation stops collecting after this many */

typedef struct {
    uint32_t line, col;
} ag_graphql__loc_t;

/* ---- lexer -------------------------------------------------------------------------- */

typedef enum {
    TK_SOF,
    TK_EOF,
    TK_BANG,
    TK_DOLLAR,
    TK_AMP,
    TK_PAREN_L,
    TK_PAREN_R,
    TK_SPREAD,
    TK_COLON,
    TK_EQUALS,
    TK_AT,
    TK_BRACKET_L,
    TK_BRACKET_R,
    TK_BRACE_L,
    TK_PIPE,
    TK_BRACE_R,
    TK_NAME,
    TK_INT,
    TK_FLOAT,
    TK_STRING,
    TK_BLOCK_STRING
} ag_graphql__tok_kind_t;

typedef struct {
    ag_graphql__tok_kind_t kind;
    const char            *start; /* raw text in the source */
    size_t                 len;
    char                  *value; /* NAME/INT/FLOAT: copy; STRING: decoded (arena) */
    size_t                 value_len;
    ag_graphql__loc_t      loc;
} ag_graphql__token_t;

typedef struct {
    const char         *src, *end, *p;
    const char         *line_start;
    uint32_t            line;
    ag_arena_t         *arena;
    ag_graphql__token_t tok;
    char               *err; /* "Syntax Error: ..." (arena) once failed */
    ag_graphql__loc_t   err_loc;
    const char         *col_ptr; /* last position whose column was computed */
    uint32_t            col_val;
} ag_graphql__lexer_t;

void ag_graphql__lex_init(ag_graphql__lexer_t *lx, ag_arena_t *a, const char *src, size_t len);
ag_status_t ag_graphql__lex_next(ag_graphql__lexer_t *lx);
/* How graphql-js names a token in messages: "}" / Name "foo" / <EOF>. */
const char *ag_graphql__tok_desc(ag_arena_t *a, const ag_graphql__token_t *t);
const char *ag_graphql__tok_kind_name(ag_graphql__tok_kind_t k);

/* ---- AST ------------------------------------------------------------------------------- */

typedef enum {
    V_VAR,
    V_INT,
    V_FLOAT,
    V_STRING,
    V_BOOL,
    V_NULL,
    V_ENUM,
    V_LIST,
    V_OBJECT
} ag_graphql__vkind_t;

typedef struct ag_graphql__value ag_graphql__value_t;
typedef struct {
    const char          *name;
    ag_graphql__value_t *value;
    ag_graphql__loc_t    loc;
} ag_graphql__ofield_t;

struct ag_graphql__value {
    ag_graphql__vkind_t kind;
    ag_graphql__loc_t   loc;
    const char         *str; /* VAR name, INT/FLOAT text, STRING, ENUM name */
    size_t              len; /* STRING length */
    bool                b;
    union {
        ag_graphql__value_t **items;  /* LIST */
        ag_graphql__ofield_t *fields; /* OBJECT */
    } u;
    size_t n;
};

typedef enum { T_NAMED, T_LIST, T_NONNULL } ag_graphql__tkind_t;

/* A type reference, in a document or in the schema. */
typedef struct ag_graphql__tref {
    ag_graphql__tkind_t      kind;
    const char              *name; /* NAMED */
    struct ag_graphql__tref *of;   /* LIST, NONNULL */
    ag_graphql_type_t       *type; /* NAMED: resolved (schema refs always, AST on lookup) */
    ag_graphql__loc_t        loc;
} ag_graphql__tref_t;

typedef struct {
    const char          *name;
    ag_graphql__value_t *value;
    ag_graphql__loc_t    loc;
} ag_graphql__arg_t;

typedef struct {
    const char        *name;
    ag_graphql__arg_t *args;
    size_t             n_args;
    ag_graphql__loc_t  loc;
} ag_graphql__directive_t;

typedef struct ag_graphql__selset   ag_graphql__selset_t;
typedef struct ag_graphql__fragment ag_graphql__fragment_t;

typedef enum { S_FIELD, S_SPREAD, S_INLINE } ag_graphql__skind_t;

typedef struct {
    ag_graphql__skind_t      kind;
    ag_graphql__loc_t        loc;
    const char              *alias;     /* FIELD, may be NULL */
    const char              *name;      /* FIELD name, SPREAD fragment name */
    const char              *type_cond; /* INLINE, may be NULL */
    ag_graphql__arg_t       *args;
    size_t                   n_args;
    ag_graphql__directive_t *dirs;
    size_t                   n_dirs;
    ag_graphql__selset_t    *sel; /* FIELD (may be NULL), INLINE */
    /* resolved by validation, so that later passes never look a name up:
     * FIELD: its definition in the static parent type; SPREAD: the fragment
     * (and its type); INLINE: the type condition's type (NULL without one) */
    const ag_graphql_field_t     *def;
    const ag_graphql__fragment_t *frag;
    const ag_graphql_type_t      *cond;
} ag_graphql__selection_t;

struct ag_graphql__selset {
    ag_graphql__selection_t *items;
    size_t                   n;
    ag_graphql__loc_t        loc;
};

typedef struct {
    const char              *name;
    ag_graphql__tref_t      *type;
    ag_graphql__value_t     *def;
    ag_graphql__directive_t *dirs;
    size_t                   n_dirs;
    ag_graphql__loc_t        loc;
} ag_graphql__vardef_t;

typedef struct {
    ag_graphql_op_t          op;
    const char              *name; /* NULL when anonymous */
    ag_graphql__vardef_t    *vars;
    size_t                   n_vars;
    ag_graphql__directive_t *dirs;
    size_t                   n_dirs;
    ag_graphql__selset_t    *sel;
    ag_graphql__loc_t        loc;
} ag_graphql__operation_t;

struct ag_graphql__fragment {
    const char              *name;
    const char              *type_cond;
    ag_graphql__loc_t        type_loc;
    ag_graphql__directive_t *dirs;
    size_t                   n_dirs;
    ag_graphql__selset_t    *sel;
    ag_graphql__loc_t        loc;
    const ag_graphql_type_t *type; /* type_cond resolved by validation (NULL: unknown) */
};

typedef struct {
    ag_graphql__operation_t *ops;
    size_t                   n_ops;
    ag_graphql__fragment_t  *frags;
    size_t                   n_frags;
} ag_graphql__document_t;

/*
 * Parse an executable document. AG_OK with *out; AG_EBADREQ with *msg
 * ("Syntax Error: ...") and *loc; AG_ENOMEM. max_nesting bounds recursion.
 */
ag_status_t ag_graphql__parse(ag_arena_t *a, const char *src, size_t len, int max_nesting,
                              ag_graphql__document_t **out, const char **msg,
                              ag_graphql__loc_t *loc);
/* Parse one constant value (schema default values). NULL on error. */
ag_graphql__value_t *ag_graphql__parse_const_value(ag_arena_t *a, const char *src);
/* Parse a type reference ("[Post!]!"). NULL on error. */
ag_graphql__tref_t *ag_graphql__parse_type(ag_arena_t *a, const char *src);

/* ---- schema ------------------------------------------------------------------------------ */

typedef enum {
    K_SCALAR,
    K_OBJECT,
    K_INTERFACE,
    K_UNION,
    K_ENUM,
    K_INPUT_OBJECT
} ag_graphql__kind_t;

typedef enum {
    SC_NONE,
    SC_INT,
    SC_FLOAT,
    SC_STRING,
    SC_BOOLEAN,
    SC_ID,
    SC_CUSTOM
} ag_graphql__scalar_t;

typedef struct {
    const char          *name;
    const char          *desc;
    ag_graphql__tref_t  *type;
    const char          *def_text; /* literal as declared, for SDL/introspection */
    ag_graphql__value_t *def;      /* parsed */
    const char          *deprecation;
} ag_graphql__input_value_t;

typedef struct {
    const char *name;
    const char *desc;
    const char *deprecation;
} ag_graphql__enum_value_t;

/*
 * Introspection fields whose values the schema bounds: the cost and depth walk
 * (limits.c) counts them like any field, with list lengths and wrapper depths
 * taken from the schema instead of a `first` argument.
 */
typedef enum {
    AG_GQL_INTRO_NONE = 0,
    AG_GQL_INTRO_LIST,    /* a list as long as list_max at most (directives, their args) */
    AG_GQL_INTRO_ARGS,    /* __Field.args: list_max at most, field_args over all fields */
    AG_GQL_INTRO_TYPES,   /* __Schema.types: one __Type per type of the schema */
    AG_GQL_INTRO_MEMBERS, /* a named type's fields, interfaces, ... (per_type says which) */
    AG_GQL_INTRO_TYPEREF, /* __Field.type, __InputValue.type: maybe list or non-null */
    AG_GQL_INTRO_OFTYPE   /* __Type.ofType: one wrapper less, null on a named type */
} ag_graphql__intro_t;

/* the members of a named type that __Type lists */
enum {
    AG_GQL_PT_FIELDS,
    AG_GQL_PT_IFACES,
    AG_GQL_PT_POSSIBLE,
    AG_GQL_PT_ENUMS,
    AG_GQL_PT_INPUTS,
    AG_GQL_PT_COUNT
};

struct ag_graphql_field {
    const char                *name;
    const char                *desc;
    ag_graphql__tref_t        *type;
    const char                *type_text;
    ag_graphql__input_value_t *args;
    size_t                     n_args, cap_args;
    const char                *deprecation;
    ag_graphql_resolve_fn      resolve;
    ag_graphql_prepare_fn      prepare;
    void                      *ud;
    ag_graphql_type_t         *owner;
    ag_graphql_schema_t       *schema;
    bool                       has_first; /* declares a `first` argument (cost) */
    /* how limits.c counts an introspection field (schema finish sets them) */
    ag_graphql__intro_t intro;
    uint8_t             per_type; /* INTRO_MEMBERS: which AG_GQL_PT_* */
    long                list_max; /* a list bounded by the schema: its longest */
};

struct ag_graphql_type {
    ag_graphql__kind_t         kind;
    ag_graphql__scalar_t       scalar;
    const char                *name;
    const char                *desc;
    const char                *specified_by;
    ag_graphql_field_t       **fields; /* OBJECT, INTERFACE */
    size_t                     n_fields, cap_fields;
    ag_graphql__input_value_t *inputs; /* INPUT_OBJECT */
    size_t                     n_inputs, cap_inputs;
    ag_graphql__enum_value_t  *values; /* ENUM */
    size_t                     n_values, cap_values;
    const char               **iface_names; /* OBJECT/INTERFACE implements, UNION members */
    size_t                     n_ifaces, cap_ifaces;
    ag_graphql_type_t        **ifaces;   /* resolved */
    ag_graphql_type_t        **possible; /* INTERFACE/UNION: object types; OBJECT: itself */
    size_t                     n_possible;
    ag_graphql__tref_t         self; /* NAMED ref to this type (for __Type) */
    ag_graphql_schema_t       *schema;
    bool                       builtin; /* not printed in SDL */
    bool                       one_of;  /* INPUT_OBJECT: @oneOf, exactly one field given */
    bool                       unused;  /* a built-in scalar nothing refers to: not listed */
};

/* Directive locations, as bits. */
/* clang-format off */
#define AG_GQL_LOCATIONS(X) \
    X(QUERY) \
    X(MUTATION) \
    X(SUBSCRIPTION) \
    X(FIELD) \
    X(FRAGMENT_DEFINITION) \
    X(FRAGMENT_SPREAD) \
    X(INLINE_FRAGMENT) \
    X(VARIABLE_DEFINITION) \
    X(SCHEMA) \
    X(SCALAR) \
    X(OBJECT) \
    X(FIELD_DEFINITION) \
    X(ARGUMENT_DEFINITION) \
    X(INTERFACE) \
    X(UNION) \
    X(ENUM) \
    X(ENUM_VALUE) \
    X(INPUT_OBJECT) \
    X(INPUT_FIELD_DEFINITION) \
    X(DIRECTIVE_DEFINITION)
/* clang-format on */
enum {
#define AG__LOC_ENUM(n) DL_##n##_BIT,
    AG_GQL_LOCATIONS(AG__LOC_ENUM)
#undef AG__LOC_ENUM
        DL_COUNT
};
#define DL(n) (1u << DL_##n##_BIT)
extern const char *const ag_graphql__location_names[DL_COUNT];

typedef struct {
    const char                *name;
    const char                *desc;
    unsigned                   locations;
    bool                       repeatable;
    ag_graphql__input_value_t *args;
    size_t                     n_args;
    bool                       custom; /* not specified by the spec: its definition is in SDL */
    const char                *deprecation; /* graphql-js 16.15's experimental directive deprecation */
} ag_graphql__directive_def_t;

struct ag_graphql_schema {
    ag_arena_t                  *arena;
    const char                  *desc;
    ag_graphql_type_t          **types;
    size_t                       n_types, cap_types;
    ag_graphql_type_t           *query, *mutation, *subscription;
    ag_graphql__directive_def_t *dirs;
    size_t                       n_dirs, cap_dirs;
    bool                         publish_cost; /* @cost/@listSize in SDL (print_sdl.c) */
    ag_graphql_field_t          *typename_field, *schema_field, *type_field;
    ag_graphql_type_t           *t_string, *t_boolean;
    char                        *err; /* first builder error */
    bool                         finished;
    /* schema facts for the limits of introspection (introspection.c at finish) */
    int  max_wrap;                      /* most list/non-null wrappers of a type reference */
    long member_total[AG_GQL_PT_COUNT]; /* fields, interfaces, ... over all types */
    long field_args;                    /* arguments over all those fields */
};

ag_graphql_type_t *ag_graphql__type_lookup(const ag_graphql_schema_t *s, const char *name);

/* A field of an object/interface type, including __typename and the root's
 * __schema/__type meta fields. NULL when absent. */
ag_graphql_field_t *ag_graphql__field_lookup(const ag_graphql_schema_t *s,
                                             const ag_graphql_type_t *t, const char *name);

const ag_graphql__directive_def_t *ag_graphql__directive_lookup(const ag_graphql_schema_t *s,
                                                                const char                *name);
const ag_graphql__input_value_t   *ag_graphql__input_lookup(const ag_graphql__input_value_t *v,
                                                            size_t n, const char *name);
const ag_graphql_type_t           *ag_graphql__named(const ag_graphql__tref_t *t);
/* Resolve the named types of an AST type reference; false when unknown. */
bool ag_graphql__tref_resolve(const ag_graphql_schema_t *s, ag_graphql__tref_t *t);
bool ag_graphql__is_input_type(const ag_graphql__tref_t *t);
bool ag_graphql__is_leaf(const ag_graphql_type_t *t);
bool ag_graphql__is_abstract(const ag_graphql_type_t *t);
bool ag_graphql__possible(const ag_graphql_type_t *abstract, const ag_graphql_type_t *obj);
bool ag_graphql__tref_equal(const ag_graphql__tref_t *a, const ag_graphql__tref_t *b);
bool ag_graphql__tref_subtype(const ag_graphql__tref_t *sub, const ag_graphql__tref_t *super);
/* "[Post!]!" */
const char *ag_graphql__tref_str(ag_arena_t *a, const ag_graphql__tref_t *t);
bool        ag_graphql__enum_has(const ag_graphql_type_t *t, const char *name);

/* introspection.c: declares __Schema, __Type, ... and the meta fields */
void ag_graphql__introspection_declare(ag_graphql_schema_t *s);
/* introspection.c: the schema facts limits.c needs (bounds of introspection lists) */
void ag_graphql__introspection_finish(ag_graphql_schema_t *s);

/* print_sdl.c: a value literal as GraphQL text */
ag_status_t ag_graphql__print_value(ag_buf_t *b, const ag_graphql__value_t *v);
ag_status_t ag_graphql__print_string(ag_buf_t *b, const char *s, size_t n);

/* ---- coercion (coerce.c) ------------------------------------------------------------------ */

/*
 * Check a literal against an input type without variables' values (validation).
 * NULL when valid, else a message (arena). Variables are accepted anywhere.
 */
const char *ag_graphql__literal_check(ag_arena_t *a, const ag_graphql__tref_t *t,
                                      const ag_graphql__value_t *v, ag_graphql__loc_t *loc);
/*
 * Coerce a literal to JSON with variables' coerced values (object, may be NULL).
 * AG_OK with *out (caller owns; NULL means null); AG_EBADREQ with *msg.
 */
ag_status_t ag_graphql__literal_coerce(ag_arena_t *a, const ag_graphql__tref_t *t,
                                       const ag_graphql__value_t *v, const ag_json_t *vars,
                                       ag_json_t **out, const char **msg);
/* Coerce a JSON variable value; same contract. */
ag_status_t ag_graphql__json_coerce(ag_arena_t *a, const ag_graphql__tref_t *t, const ag_json_t *v,
                                    ag_json_t **out, const char **msg);
/* Coerce the arguments of a field/directive into a new JSON object (caller owns). */
ag_status_t ag_graphql__args_coerce(ag_arena_t *a, const ag_graphql__input_value_t *defs,
                                    size_t n_defs, const ag_graphql__arg_t *args, size_t n_args,
                                    const ag_json_t *vars, ag_json_t **out, const char **msg);

/* ---- errors ---------------------------------------------------------------------------- */

typedef struct ag_graphql__err {
    struct ag_graphql__err *next;
    const char             *message;
    const char             *code; /* extensions.code, may be NULL */
    ag_graphql__loc_t       locs[2];
    int                     n_locs;
} ag_graphql__err_t;

typedef struct {
    ag_arena_t        *arena;
    ag_graphql__err_t *head, *tail;
    int                n;
    bool               nomem;
} ag_graphql__errlist_t;

void ag_graphql__err_add(ag_graphql__errlist_t *el, const ag_graphql__loc_t *l1,
                         const ag_graphql__loc_t *l2, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
/* {"errors":[...]} from an error list (new JSON, caller owns). */
ag_json_t *ag_graphql__errors_json(const ag_graphql__errlist_t *el);
ag_json_t *ag_graphql__err_json(const ag_graphql__err_t *e, ag_json_t *path);

/* ---- validation and limits ---------------------------------------------------------------- */

/*
 * Run every rule and resolve the document's names (selection.def/frag/cond,
 * fragment.type); errors are appended to el. Returns the work done, in
 * steps: a pass over the selections, and the comparisons and fragment visits
 * that depend on how the document combines them, which stop with an error
 * ("query_too_complex") past 100000 + 64 steps per selection.
 */
long ag_graphql__validate(const ag_graphql_schema_t *s, ag_graphql__document_t *doc,
                          ag_graphql__errlist_t *el);

/* ---- field collection (collect.c), shared by the limits walk and execution ---------------- */

/* One response key and the field nodes merged under it (spec CollectFields). */
typedef struct ag_graphql__group {
    const char                     *key;
    unsigned                        hash;
    const ag_graphql__selection_t **nodes;
    size_t                          n, cap;
    char                           *key_json; /* "key": as written, made on first use */
    size_t                          key_json_len;
    const ag_graphql_type_t        *sub_type; /* sub is the collection for this type */
    struct ag_graphql__groups      *sub;
    const ag_graphql_type_t        *field_type; /* field is the group's field in this type */
    const ag_graphql_field_t       *field;
} ag_graphql__group_t;

/* The groups of one collection, in document order; indexed by key hash when many. */
typedef struct ag_graphql__groups {
    ag_graphql__group_t *g;
    size_t               n, cap;
    uint32_t            *slots; /* open addressing: group index + 1, 0 = empty */
    size_t               n_slots;
} ag_graphql__groups_t;

/* CollectFields of set for object type t into gs (fresh or being filled). */
ag_status_t ag_graphql__collect(ag_graphql_request_t *r, const ag_graphql_type_t *t,
                                const ag_graphql__selset_t *set, ag_graphql__groups_t *gs);
/* The merged sub-selections of a group's nodes for object type t, kept on the group. */
ag_status_t ag_graphql__collect_sub(ag_graphql_request_t *r, const ag_graphql_type_t *t,
                                    const ag_graphql__group_t *g, ag_graphql__groups_t *out);
/* The group's field in type t (looked up once per type: list items share it). */
const ag_graphql_field_t *ag_graphql__group_lookup(ag_graphql_request_t      *r,
                                                   const ag_graphql_type_t   *t,
                                                   const ag_graphql__group_t *g);
static inline const ag_graphql_field_t *
ag_graphql__group_field(ag_graphql_request_t *r, const ag_graphql_type_t *t,
                        const ag_graphql__group_t *g)
{
    return g->field_type == t ? g->field : ag_graphql__group_lookup(r, t, g);
}

/*
 * The limits walk (limits.c): collects the operation's fields as execution
 * will (merged by response key, fragments once per collection, @skip and
 * @include with the coerced variables) into r->root, and measures what will
 * run: depth, cost, root fields, aliases. Errors into el. AG_ENOMEM only.
 */
ag_status_t ag_graphql__limits(ag_graphql_request_t *r, ag_graphql__errlist_t *el);

/* ---- execution ------------------------------------------------------------------------------ */

typedef struct ag_graphql__memo ag_graphql__memo_t;

struct ag_graphql_request {
    const ag_graphql_schema_t     *schema;
    ag_arena_t                    *arena;
    ag_graphql__document_t        *doc;
    const ag_graphql__operation_t *op;
    ag_graphql_options_t           opts;
    ag_json_t                     *vars; /* coerced */
    void                          *context;
    ag_graphql__memo_t            *memo;
    ag_json_t                     *errors; /* execution errors array, lazily */
    bool                           nomem;
    /* field collection: the root's groups (the limits walk fills them and
     * execution runs them) and which fragments this collection expanded */
    ag_graphql__groups_t root;
    bool                 have_root;
    uint32_t            *frag_stamp; /* per fragment: the collection that expanded it */
    uint32_t             stamp;
    /* what the request measured (ag_graphql_request_stats) */
    ag_graphql_stats_t stats;
    /* memory while executing: the meter's reading at the start (0: unbounded) */
    size_t mem_base;
    bool   over_memory;
};

/* doc_cache.c: a cached document of this text (NULL: none, or no cache), and keeping one. */
ag_graphql__document_t *ag_graphql__doc_cache_get(ag_graphql_doc_cache_t    *c,
                                                  const ag_graphql_schema_t *s, const char *text,
                                                  size_t len, int max_nesting);
void ag_graphql__doc_cache_put(ag_graphql_doc_cache_t *c, const ag_graphql_schema_t *s,
                               const char *text, size_t len, int max_nesting);

/* Execute r->op with coerced r->vars; the data object's JSON text (or null) appended to out.
 * AG_ETOOLARGE (r->over_memory) when the request outgrew opts.max_memory. */
ag_status_t ag_graphql__execute_op(ag_graphql_request_t *r, ag_buf_t *out);
/* Evaluate @skip/@include; false when the selection is skipped. */
bool ag_graphql__included(const ag_graphql__directive_t *dirs, size_t n, const ag_json_t *vars);

#endif
