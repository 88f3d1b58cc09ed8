/*
 * lib/graphql/graphql.h — a GraphQL (September 2025) engine: schemas declared in C,
 * executable documents parsed, validated and executed against them, results as
 * JSON. Everything a request allocates comes from the caller's arena; a schema
 * owns its own memory and is shared read-only by every request of a process.
 *
 * Request flow for an HTTP endpoint:
 *   ag_graphql_prepare()  parse + validate + pick the operation (400 on failure)
 *   ag_graphql_request_operation()  QUERY / MUTATION (GET with a mutation → 405)
 *   ag_graphql_run()      coerce variables, check the limits (depth, cost, root
 *                         fields, aliases), admit, execute (memory bound)
 * ag_graphql_execute() does all three in one call.
 */
#ifndef AG_GRAPHQL_H
#define AG_GRAPHQL_H

#include "core/core.h"
#include "json/json.h"

typedef struct ag_graphql_schema  ag_graphql_schema_t;
typedef struct ag_graphql_type    ag_graphql_type_t;
typedef struct ag_graphql_field   ag_graphql_field_t;
typedef struct ag_graphql_request ag_graphql_request_t;

/* ---- values passed between resolvers ------------------------------------------------ */

typedef enum {
    AG_GRAPHQL_NULL = 0, /* null */
    AG_GRAPHQL_JSON,     /* a JSON value; object fields without resolvers read its members */
    AG_GRAPHQL_PTR,      /* an opaque C object, read by the fields' resolvers */
    AG_GRAPHQL_LIST      /* items[0..n) for a list field */
} ag_graphql_value_kind_t;

/*
 * A resolved value. JSON is borrowed: it must live until the response has been
 * built (register a value you created with ag_json_on_arena(info->arena, v)).
 * The response takes references to leaf values (json-c refcounts are not
 * atomic), so JSON handed to the engine must belong to the request's thread.
 * type_name names the concrete object type when the field's type is an
 * interface or a union (a JSON object may instead carry a "__typename" member).
 */
typedef struct ag_graphql_value {
    ag_graphql_value_kind_t  kind;
    const char              *type_name;
    ag_json_t               *json;
    void                    *ptr;
    struct ag_graphql_value *items; /* LIST: arena memory */
    size_t                   n;
} ag_graphql_value_t;

/* What a resolver gets besides its parent, and where it reports a failure. */
typedef struct ag_graphql_info {
    const char           *parent_type; /* "Post" */
    const char           *field_name;  /* "author" */
    const ag_json_t      *args;        /* coerced arguments with defaults; an object */
    void                 *context;     /* the per-request pointer given to ag_graphql_run() */
    ag_arena_t           *arena;       /* the request's arena */
    void                 *field_ud;    /* user data given when the field was declared */
    ag_graphql_request_t *request;     /* for the per-request memo */
    /* out, when the resolver fails: message (default: the status code) and
     * extensions.code (default: ag_status_code() of the returned status) */
    const char *message;
    const char *code;
} ag_graphql_info_t;

/*
 * Resolve one field of one parent into *out (zeroed = null). A negative status
 * is a field error: the field becomes null (propagating per the non-null rules)
 * and an error with info->message/info->code and the path is reported.
 */
typedef ag_status_t (*ag_graphql_resolve_fn)(const ag_graphql_value_t *parent,
                                             ag_graphql_info_t *info, ag_graphql_value_t *out);
/*
 * Batching hook: called once with all parents of a list before the field is
 * resolved for any of them (e.g. load every Post's author in one query into the
 * memo). It also reaches through fields without resolvers that hold one object,
 * so a list of edges prepares node.author. The status is ignored: the resolver
 * still runs per parent and falls back to single loads on a memo miss.
 */
typedef ag_status_t (*ag_graphql_prepare_fn)(const ag_graphql_value_t *parents, size_t n,
                                             ag_graphql_info_t *info);

static inline ag_graphql_value_t
ag_graphql_json(ag_json_t *v)
{
    ag_graphql_value_t r = {.kind = v ? AG_GRAPHQL_JSON : AG_GRAPHQL_NULL, .json = v};
    return r;
}

static inline ag_graphql_value_t
ag_graphql_ptr(void *p, const char *type_name)
{
    ag_graphql_value_t r = {
        .kind = p ? AG_GRAPHQL_PTR : AG_GRAPHQL_NULL, .ptr = p, .type_name = type_name};
    return r;
}

/* A LIST value with room for n items (all null), from the arena; AG_ENOMEM on failure. */
ag_status_t ag_graphql_list(ag_arena_t *arena, size_t n, ag_graphql_value_t *out);

/* Per-request memo, keyed by a string: NULL when absent. */
void       *ag_graphql_memo_get(ag_graphql_info_t *info, const char *key);
ag_status_t ag_graphql_memo_put(ag_graphql_info_t *info, const char *key, void *val);

/* ---- schema declaration ----------------------------------------------------------------
 * Declare types, then call ag_graphql_schema_finish(). Type references are
 * GraphQL type strings ("[Post!]!") resolved by finish; declaration order is
 * free. Builder calls never fail loudly: the first error (ENOMEM, duplicate or
 * malformed names) is kept and reported by finish, so declarations read as a
 * table. Roots are the object types named Query, Mutation and Subscription.
 */

ag_graphql_schema_t *ag_graphql_schema_new(const char *description);
void                 ag_graphql_schema_free(ag_graphql_schema_t *s); /* accepts NULL */

ag_graphql_type_t *ag_graphql_object(ag_graphql_schema_t *s, const char *name, const char *desc);
ag_graphql_type_t *ag_graphql_interface(ag_graphql_schema_t *s, const char *name, const char *desc);
ag_graphql_type_t *ag_graphql_union(ag_graphql_schema_t *s, const char *name, const char *desc);
ag_graphql_type_t *ag_graphql_enum(ag_graphql_schema_t *s, const char *name, const char *desc);
ag_graphql_type_t *ag_graphql_input(ag_graphql_schema_t *s, const char *name, const char *desc);
/* A custom scalar; values pass through as JSON. specified_by may be NULL. */
ag_graphql_type_t *ag_graphql_scalar(ag_graphql_schema_t *s, const char *name, const char *desc,
                                     const char *specified_by);

/* An output field of an object or interface type. */
ag_graphql_field_t *ag_graphql_field(ag_graphql_type_t *t, const char *name, const char *type,
                                     const char *desc, ag_graphql_resolve_fn resolve, void *ud);
/*
 * An argument of a field; default_value is GraphQL literal text ("20",
 * "\"x\"", "[A, B]") or NULL for none.
 */
void ag_graphql_arg(ag_graphql_field_t *f, const char *name, const char *type,
                    const char *default_value, const char *desc);
void ag_graphql_deprecate(ag_graphql_field_t *f, const char *reason);
void ag_graphql_set_prepare(ag_graphql_field_t *f, ag_graphql_prepare_fn prepare);
/* A field of an input object type. */
void ag_graphql_input_field(ag_graphql_type_t *t, const char *name, const char *type,
                            const char *default_value, const char *desc);
void ag_graphql_enum_value(ag_graphql_type_t *t, const char *name, const char *desc,
                           const char *deprecation_reason);
/*
 * A OneOf input object (@oneOf, spec September 2025): a value gives exactly
 * one of its fields, not null. Its fields must be nullable without defaults.
 */
void ag_graphql_one_of(ag_graphql_type_t *t);
/* @deprecated on an argument of f or an input field of t, by name (not a required one). */
void ag_graphql_arg_deprecate(ag_graphql_field_t *f, const char *name, const char *reason);
void ag_graphql_input_deprecate(ag_graphql_type_t *t, const char *name, const char *reason);
/*
 * Publish the cost model of the limits (limits.c) with the IBM cost
 * directives: @cost and @listSize are declared (introspection lists them)
 * and the SDL applies them where the engine's count differs from their
 * defaults: @cost(weight: 1) on leaf fields (the spec's default is 0, the
 * engine counts every field), @listSize(slicingArguments: ["first"]) on the
 * fields whose `first` multiplies their selection. Before finish.
 */
void ag_graphql_schema_publish_cost(ag_graphql_schema_t *s);
/* t (object or interface) implements interface iface; u gains member type. */
void ag_graphql_implements(ag_graphql_type_t *t, const char *iface);
void ag_graphql_union_member(ag_graphql_type_t *u, const char *member);

/* Resolve references and check the schema; AG_ECONFIG with a message on error. */
ag_status_t ag_graphql_schema_finish(ag_graphql_schema_t *s, char *err, size_t errlen);

/* The schema in SDL (built-in scalars and directives omitted), into b. */
ag_status_t ag_graphql_schema_print(const ag_graphql_schema_t *s, ag_buf_t *b);

/* ---- requests ------------------------------------------------------------------------- */

/*
 * The limits of one request (limits.c explains how depth and cost count).
 * All are checked before execution except max_memory, which execution
 * watches. A field of a list type with a `first` argument multiplies the
 * cost of its sub-selection by `first`; introspection lists by their length
 * in this schema.
 */
typedef struct {
    int    max_depth;       /* field nesting; 0 → 12 */
    long   max_cost;        /* estimated cost; 0 → 10000 */
    size_t max_doc_bytes;   /* query text; 0 → 64 KiB */
    int    max_nesting;     /* parser nesting of selections/values/types; 0 → 64 */
    int    max_root_fields; /* response keys at the root; 0 → 32 */
    int    max_aliases;     /* aliased fields as they run; 0 → 64 */
    int    page_max;        /* the largest `first` resolvers serve (cost clamps to it); 0 → 100 */
    size_t max_memory; /* bytes execution may add to the process (ag_mem_in_use); 0: no bound */
    /*
     * Called with the request's cost after the limits passed, just before
     * execution (a rate limiter weighs the request here); a status other than
     * AG_OK stops the request: ag_graphql_run* return it and write nothing.
     * context is the run's context pointer. May be NULL.
     */
    ag_status_t (*admit)(void *context, long cost);
    void *root_value; /* PTR parent of the root fields; may be NULL */
    /*
     * Add "extensions":{"cost":{"estimated":E,"actual":A,"limit":L}} to the
     * result once the limits were measured: E the estimate checked against
     * max_cost, A the fields execution resolved (the same unit, counted as
     * they ran; 0 when refused before execution), L max_cost.
     */
    bool cost_extension;
} ag_graphql_options_t;

/* What a request measured (zero for what it did not reach). */
typedef struct {
    long   cost;        /* the estimate checked against max_cost */
    int    depth;       /* deepest field as it runs */
    int    root_fields; /* response keys at the root */
    int    aliases;     /* aliased fields as they run */
    long   steps;       /* selections the collections visited (the walk's work) */
    long   fields;      /* fields execution resolved, __typename included */
    size_t memory;      /* most memory execution had added (0 when not metered) */
    int    errors;      /* field errors execution reported */
} ag_graphql_stats_t;

typedef enum { AG_GRAPHQL_QUERY, AG_GRAPHQL_MUTATION, AG_GRAPHQL_SUBSCRIPTION } ag_graphql_op_t;

typedef enum {
    AG_GRAPHQL_PHASE_REQUEST = 1, /* failed before execution: no "data"; HTTP 400 */
    AG_GRAPHQL_PHASE_EXECUTED     /* execution ran: "data" present (maybe null); HTTP 200 */
} ag_graphql_phase_t;

/*
 * Parse and validate query and select the operation. AG_OK with *out; AG_EBADREQ
 * with *errors set to {"errors":[...]} (owned by the arena); AG_ENOMEM.
 * opts may be NULL. operation_name may be NULL.
 */
ag_status_t ag_graphql_prepare(const ag_graphql_schema_t *s, ag_arena_t *arena, const char *query,
                               size_t len, const char *operation_name,
                               const ag_graphql_options_t *opts, ag_graphql_request_t **out,
                               ag_json_t **errors);
ag_graphql_op_t    ag_graphql_request_operation(const ag_graphql_request_t *r);
ag_graphql_stats_t ag_graphql_request_stats(const ag_graphql_request_t *r);

/*
 * A cache of parsed and validated documents by query text (doc_cache.c), for
 * one schema and one thread: ag_graphql_prepare_cached skips parse and
 * validation for a text seen before; operationName, the limits, variables and
 * execution are per request as without it. Only valid documents are kept; at
 * most max_entries of them and max_bytes of their memory (0: no byte bound),
 * least recently used out first.
 */
typedef struct ag_graphql_doc_cache ag_graphql_doc_cache_t;
typedef struct {
    unsigned long hits, misses, evictions;
    size_t        entries, bytes;
} ag_graphql_doc_cache_stats_t;
ag_graphql_doc_cache_t *ag_graphql_doc_cache_new(const ag_graphql_schema_t *s, size_t max_entries,
                                                 size_t max_bytes);
void                    ag_graphql_doc_cache_free(ag_graphql_doc_cache_t *c); /* accepts NULL */
ag_graphql_doc_cache_stats_t ag_graphql_doc_cache_stats(const ag_graphql_doc_cache_t *c);
/* ag_graphql_prepare through the cache (NULL cache: the same as ag_graphql_prepare). */
ag_status_t ag_graphql_prepare_cached(ag_graphql_doc_cache_t *cache, const ag_graphql_schema_t *s,
                                      ag_arena_t *arena, const char *query, size_t len,
                                      const char *operation_name, const ag_graphql_options_t *opts,
                                      ag_graphql_request_t **out, ag_json_t **errors);

/*
 * Coerce variables (a JSON object or NULL), check the limits and execute.
 * AG_OK with *result = {"data":..., "errors":[...]} (errors only when some)
 * or, when variables or a limit were rejected, {"errors":[...]} with *phase =
 * AG_GRAPHQL_PHASE_REQUEST. A request that outgrows max_memory while
 * executing is {"data":null,"errors":[{..."code":"memory_limit"}]}. *result is
 * owned by the arena. The admit hook's status when it refused; AG_ENOMEM.
 */
ag_status_t ag_graphql_run(ag_graphql_request_t *r, const ag_json_t *variables, void *context,
                           ag_json_t **result, ag_graphql_phase_t *phase);

/*
 * ag_graphql_run writing the result's JSON text (what json-c would print of
 * *result) to out instead: no JSON tree is built, which is most of the
 * engine's time on a page of results. The text is appended to out.
 */
ag_status_t ag_graphql_run_text(ag_graphql_request_t *r, const ag_json_t *variables, void *context,
                                ag_buf_t *out, ag_graphql_phase_t *phase);

/* prepare + run; a prepare failure gives AG_OK with phase REQUEST and the errors. */
ag_status_t ag_graphql_execute(const ag_graphql_schema_t *s, ag_arena_t *arena, const char *query,
                               size_t len, const ag_json_t *variables, const char *operation_name,
                               void *context, const ag_graphql_options_t *opts, ag_json_t **result,
                               ag_graphql_phase_t *phase);

#endif
