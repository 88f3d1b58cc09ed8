/*
 * lib/http/http.h — the request/response layer of the FastCGI programs:
 * an accept loop over libfcgi (which also runs a program as plain CGI),
 * a router with {param} path segments and 404/405 handling, body and query
 * parsing with size limits, and JSON responses with the contract's error
 * envelope. Everything a request allocates comes from req->arena, which is
 * reset after the response.
 */
#ifndef AG_HTTP_H
#define AG_HTTP_H

#include "core/core.h"
#include "json/json.h"

#define AG_HTTP_MAX_PARAMS 4

typedef struct ag_req ag_req_t;
typedef ag_status_t (*ag_handler_fn)(ag_req_t *req);

struct ag_req {
    ag_arena_t *arena;
    void       *app;           /* the program's shared state (connections, config) */
    const char *method;        /* "GET", ... */
    const char *path;          /* decoded path without the query */
    const char *query;         /* raw query string, "" when none */
    const char *content_type;  /* "" when none */
    const char *accept;        /* "" when none */
    const char *authorization; /* "" when none */
    const char *remote_addr;
    int64_t     content_length;
    int64_t     user_id;       /* set by the auth step; 0 when anonymous */
    /* path parameters captured by the router */
    const char *pname[AG_HTTP_MAX_PARAMS];
    const char *pval[AG_HTTP_MAX_PARAMS];
    int         nparams;
    /* the matched route's cache key with its {params} filled in, or NULL; a
     * guard may fetch it in the same round trip as its own checks and leave
     * what it got in prefetched for the handler */
    const char *cache_key;
    void       *prefetched;
    /* response */
    int         status;
    ag_buf_t    headers;       /* extra header lines, each ending in \r\n */
    ag_buf_t    body;
    const char *resp_type;
    bool        responded;
    /* the handler used a lot of memory: the worker gives it back to the OS
     * once the response is sent (also done when the arena or the body grew big) */
    bool        heavy;
    void       *io__;          /* the libfcgi streams; private to lib/http */
};

typedef struct {
    const char    *method;
    const char    *pattern;    /* "/api/v1/users/{id}/follow" */
    ag_handler_fn  fn;
    bool           guarded;    /* run the router's guard (e.g. authentication) first */
    const char    *cache_key;  /* optional: "user:{id}:json", see ag_req_t.cache_key */
} ag_route_t;

/*
 * Accept requests until a signal or accept failure, calling dispatch for
 * each. In CGI mode (not started by a FastCGI manager) serves one request.
 * before_each, when set, runs before dispatch (e.g. to reconnect lazily).
 */
int ag_http_serve(ag_handler_fn dispatch, void *app);

/*
 * Route req through table (n entries): AG_DECLINED when no pattern matched,
 * 405 with Allow when the path matched under other methods. For a guarded
 * route, guard runs first and the handler only when it returns AG_OK.
 */
ag_status_t ag_http_route(ag_req_t *req, const ag_route_t *table, size_t n, ag_handler_fn guard);

/* Path parameter by name (NULL when absent) and as a positive int64 id. */
const char *ag_req_param(const ag_req_t *req, const char *name);
ag_status_t ag_req_param_id(ag_req_t *req, const char *name, int64_t *out);
/* Query parameter, URL-decoded into the arena; NULL when absent. */
const char *ag_req_query(ag_req_t *req, const char *name);
/* limit= with default and the clamp of CONTRACT §5 (1..max). AG_EBADREQ if not a number. */
ag_status_t ag_req_limit(ag_req_t *req, int def, int max, int *out);
/* Header by CGI name ("HTTP_X_FOO"), "" when absent. */
const char *ag_req_header(ag_req_t *req, const char *cgi_name);

/*
 * Read the body as a JSON object: 415 unless Content-Type is JSON, 413 over
 * max bytes, 400 when malformed or not an object. On failure the error
 * response is already set and the status is returned.
 */
ag_status_t ag_req_json_body(ag_req_t *req, size_t max, ag_json_t **out);
/* Read the raw body (any type), bounded by max; 413 beyond. */
ag_status_t ag_req_body(ag_req_t *req, size_t max, const char **out, size_t *len);

/* Responses. The json value is consumed (freed after sending). */
ag_status_t ag_resp_json(ag_req_t *req, int status, ag_json_t *json);
ag_status_t ag_resp_raw(ag_req_t *req, int status, const char *type, const char *body, size_t len);
/* The body taken over from *b without a copy (*b is left empty, to be finished by the caller). */
ag_status_t ag_resp_buf(ag_req_t *req, int status, const char *type, ag_buf_t *b);
ag_status_t ag_resp_empty(ag_req_t *req, int status);
void        ag_resp_header(ag_req_t *req, const char *name, const char *value);
/*
 * The contract's error envelope {"error":{"code","message"}} with the HTTP
 * status of st; logs server-side failures (5xx) once. Returns st.
 */
ag_status_t ag_req_fail(ag_req_t *req, ag_status_t st, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* URL-decode in place-safe copy into the arena (NULL on bad escapes). */
char *ag_http_urldecode(ag_arena_t *a, const char *s, size_t n);

#endif
