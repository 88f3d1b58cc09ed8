/*
 * fcgi/routes/graphql.c — GraphQL over HTTP (the GraphQL-over-HTTP spec):
 * POST /graphql with JSON {query, variables?, operationName?}, GET /graphql
 * for queries only, GET /graphql/schema.graphql for the SDL. With
 * Accept: application/graphql-response+json a document that does not parse
 * or validate is 400; with application/json it is 200 with errors.
 */
#include "app.h"
#include "gql/gql.h"
#include "log/log.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define GQL_RESPONSE_TYPE "application/graphql-response+json"

/* Which media type to answer with; NULL when the client accepts neither (406). */
static const char *
negotiate(const char *accept)
{
    if (*accept == '\0')
        return "application/json";
    if (strstr(accept, GQL_RESPONSE_TYPE))
        return GQL_RESPONSE_TYPE;
    if (strstr(accept, "application/json") || strstr(accept, "*/*") ||
        strstr(accept, "application/*"))
        return "application/json";
    return NULL;
}

/* {"errors":[{"message", "extensions":{"code"}}]} with an HTTP status. */
static ag_status_t
http_error(ag_req_t *req, const char *type, int status, const char *code, const char *msg)
{
    ag_json_t *body = ag_json_obj(), *errs = ag_json_arr(), *e = ag_json_obj(),
              *ext = ag_json_obj();
    ag_json_set_str(e, "message", msg);
    ag_json_set_str(ext, "code", code);
    ag_json_set(e, "extensions", ext);
    ag_json_push(errs, e);
    ag_json_set(body, "errors", errs);
    size_t      len;
    const char *s = ag_json_dump(body, &len);
    ag_resp_raw(req, status, type ? type : "application/json", s, len);
    ag_json_free(body);
    return AG_OK;
}

/* Optional bearer token: anonymous without one; a bad one is HTTP 401. */
static ag_status_t
identify(ag_req_t *req, const char *type)
{
    fcgi_app_t      *app = FCGI_APP(req);
    const char      *token = NULL;
    ag_user_brief_t *u = NULL;
    ag_status_t      st = ag_auth_bearer(req->authorization, &token);

    req->user_id = 0;
    if (st == AG_DECLINED)
        return AG_OK;
    if (st != AG_OK ||
        ag_auth_token_verify(app->auth, token, (int64_t)time(NULL), &req->user_id) != AG_OK) {
        ag_resp_header(req, "WWW-Authenticate", "Bearer error=\"invalid_token\"");
        http_error(req, type, 401, "unauthenticated", "invalid or expired token");
        return AG_EUNAUTH;
    }
    st = ag_users_brief(&app->model, req->arena, &req->user_id, 1, &u);
    if (st != AG_OK) {
        http_error(req, type, 503, "unavailable", "the database is unavailable; retry shortly");
        return AG_EUNAVAIL;
    }
    if (u == NULL) {
        req->user_id = 0;
        http_error(req, type, 401, "unauthenticated", "the token's user no longer exists");
        return AG_EUNAUTH;
    }
    return AG_OK;
}

/*
 * The API rate limit (the REST bucket: rate_api_per_sec, rate_api_burst) per
 * user, per client address without a token. A request takes
 *   1 + cost / rate_graphql_cost_unit + document bytes / 4096
 * tokens: { me { id } } one, a 20-post page two, a query at the cost limit
 * (20000) 201, and a document refused before its cost was known by its size,
 * which bounds the work its validation could take.
 */
#define GQL_BYTES_PER_TOKEN 4096

/* The resolvers' context (first, so that GQL_CTX reads it) and this request's rate limit:
 * the document's size, whether the request was charged, and the wait when it was refused. */
typedef struct {
    gql_ctx_t g;
    ag_req_t *req;
    size_t    doc_len;
    bool      charged;
    int64_t   retry_s;
} http_ctx_t;

static http_ctx_t
http_ctx(ag_req_t *req, size_t doc_len)
{
    http_ctx_t c = {
        .g = {.env = &FCGI_APP(req)->gql, .user_id = req->user_id}, .req = req, .doc_len = doc_len};
    return c;
}

static ag_status_t
charge(http_ctx_t *ctx, long cost)
{
    ag_req_t *req = ctx->req;
    char      key[96];
    int64_t   unit = ag_config_int(FCGI_APP(req)->cfg, AG_CFG_rate_graphql_cost_unit);
    int64_t   weight =
        1 + cost / (unit > 0 ? unit : 1) + (int64_t)(ctx->doc_len / GQL_BYTES_PER_TOKEN);

    ctx->charged = true;
    if (ctx->g.user_id > 0)
        snprintf(key, sizeof(key), "rl:api:%lld", (long long)ctx->g.user_id);
    else
        snprintf(key, sizeof(key), "rl:api:ip:%s", req->remote_addr ? req->remote_addr : "");
    return fcgi_rate_take(req, key, weight, &ctx->retry_s);
}

/* The engine's hook: the request passed its limits and is about to run. */
static ag_status_t
admit(void *context, long cost)
{
    return charge(context, cost);
}

static ag_status_t
rate_limited(ag_req_t *req, const char *type, const http_ctx_t *ctx)
{
    char retry[24], msg[96];

    snprintf(retry, sizeof(retry), "%lld", (long long)(ctx->retry_s > 0 ? ctx->retry_s : 1));
    snprintf(msg, sizeof(msg), "too many requests; retry after %s s", retry);
    ag_resp_header(req, "Retry-After", retry);
    return http_error(req, type, 429, "rate_limited", msg);
}

/* A large request's worker gives the memory back once it has answered. */
static void
note_memory(ag_req_t *req, const ag_graphql_request_t *gr, size_t response_len)
{
    ag_graphql_stats_t st = ag_graphql_request_stats(gr);
    if (st.memory > (4u << 20) || response_len > (4u << 20))
        req->heavy = true;
}

/*
 * Cache-Control of a GET answer (POST answers are never cached). Apache's
 * cache (and browsers) may keep an anonymous query's clean result for
 * graphql_get_max_age seconds; what a signed-in user reads depends on who
 * asks, and an error (PersistedQueryNotFound above all) must not outlive the
 * next request, so neither is stored anywhere.
 */
static void
cache_control(ag_req_t *req, bool cacheable)
{
    char    v[48];
    int64_t age = ag_config_int(FCGI_APP(req)->cfg, AG_CFG_graphql_get_max_age);

    ag_resp_header(req, "Vary", "Accept, Authorization");
    if (!cacheable || req->user_id != 0 || *req->authorization) {
        ag_resp_header(req, "Cache-Control", req->user_id ? "private, no-store" : "no-store");
        return;
    }
    if (age <= 0)
        snprintf(v, sizeof(v), "no-cache");
    else
        snprintf(v, sizeof(v), "public, max-age=%lld", (long long)age);
    ag_resp_header(req, "Cache-Control", v);
}

static ag_status_t
run(ag_req_t *req, const char *type, const gql_pq_result_t *pq, const ag_json_t *vars,
    const char *opname, bool is_get)
{
    const char           *query = pq->text;
    fcgi_app_t           *app = FCGI_APP(req);
    ag_graphql_request_t *gr = NULL;
    ag_json_t            *result = NULL;
    ag_graphql_phase_t    phase = AG_GRAPHQL_PHASE_EXECUTED;
    ag_graphql_options_t  opts;
    http_ctx_t            ctx = http_ctx(req, strlen(query));
    bool                  strict = strcmp(type, GQL_RESPONSE_TYPE) == 0;
    ag_status_t           st;

    gql_options(app->cfg, &opts);
    opts.admit = admit;
    opts.cost_extension = true;
    st = ag_graphql_prepare_cached(app->doc_cache, app->schema, req->arena, query, ctx.doc_len,
                                   opname, &opts, &gr, &result);
    if (st == AG_OK)
        gql_pq_keep(app->persisted, app->model.cache, req->arena, pq);
    if (st == AG_EBADREQ) {
        phase = AG_GRAPHQL_PHASE_REQUEST;
    } else if (st != AG_OK) {
        return ag_req_fail(req, st, "graphql prepare");
    } else if (is_get && ag_graphql_request_operation(gr) != AG_GRAPHQL_QUERY) {
        ag_resp_header(req, "Allow", "POST");
        ag_resp_header(req, "Cache-Control", "no-store");
        return http_error(req, type, 405, "method_not_allowed",
                          "mutations are not allowed over GET; use POST");
    } else {
        /* the result is written as JSON text, then handed to the response without a copy */
        ag_buf_t text;
        ag_buf_init(&text);
        st = ag_graphql_run_text(gr, vars, &ctx, &text, &phase);
        if (st == AG_OK && !ctx.charged && charge(&ctx, 0) == AG_ERATE)
            st = AG_ERATE; /* refused by a limit: it still took its share */
        if (st == AG_OK) {
            note_memory(req, gr, text.len);
            if (is_get)
                cache_control(req, phase == AG_GRAPHQL_PHASE_EXECUTED &&
                                       ag_graphql_request_stats(gr).errors == 0);
            st = ag_resp_buf(req, phase == AG_GRAPHQL_PHASE_REQUEST && strict ? 400 : 200, type,
                             &text);
        }
        ag_buf_fini(&text);
        if (st == AG_ERATE)
            return rate_limited(req, type, &ctx);
        return st == AG_OK ? AG_OK : ag_req_fail(req, st, "graphql execution");
    }
    if (charge(&ctx, 0) == AG_ERATE)
        return rate_limited(req, type, &ctx);
    if (is_get)
        cache_control(req, false);
    size_t      len;
    const char *s = ag_json_dump(result, &len);
    return ag_resp_raw(req, phase == AG_GRAPHQL_PHASE_REQUEST && strict ? 400 : 200, type, s, len);
}

/* The document a request names (persisted.c: APQ, trusted documents), then run it. */
static ag_status_t
run_persisted(ag_req_t *req, const char *type, const char *query, const ag_json_t *ext,
              const ag_json_t *vars, const char *opname, bool is_get)
{
    fcgi_app_t     *app = FCGI_APP(req);
    gql_pq_result_t pq;

    if (gql_pq_resolve(app->persisted, app->model.cache, req->arena, query, ext, &pq) != AG_OK) {
        /* a refusal takes its token too: unknown hashes cost a Redis lookup each */
        http_ctx_t ctx = http_ctx(req, query ? strlen(query) : 0);
        if (charge(&ctx, 0) == AG_ERATE)
            return rate_limited(req, type, &ctx);
        if (is_get)
            cache_control(req, false);
        return http_error(req, type, pq.status, pq.code, pq.message);
    }
    return run(req, type, &pq, vars, opname, is_get);
}

ag_status_t
fcgi_graphql_post(ag_req_t *req)
{
    fcgi_app_t *app = FCGI_APP(req);
    const char *type = negotiate(req->accept), *query = NULL, *opname = NULL;
    ag_json_t  *body = NULL, *vars, *ext;
    ag_status_t st;

    if (type == NULL)
        return http_error(req, NULL, 406, "not_acceptable",
                          "accept application/graphql-response+json or application/json");
    if ((st = identify(req, type)) != AG_OK)
        return st;
    st = ag_req_json_body(req, (size_t)ag_config_int(app->cfg, AG_CFG_graphql_body_max), &body);
    if (st != AG_OK)
        return st; /* 400/413/415 with the REST envelope already set */
    ext = ag_json_get(body, "extensions");
    if (ag_json_get_str(body, "query", &query) == AG_EBADREQ || (query == NULL && ext == NULL))
        return http_error(req, type, 400, "bad_request", "the body must have a string \"query\"");
    if (ext && ag_json_type(ext) != AG_JSON_OBJECT)
        return http_error(req, type, 400, "bad_request", "\"extensions\" must be an object");
    vars = ag_json_get(body, "variables");
    if (vars && ag_json_type(vars) != AG_JSON_OBJECT)
        return http_error(req, type, 400, "bad_request", "\"variables\" must be an object");
    if (ag_json_get_str(body, "operationName", &opname) == AG_EBADREQ)
        return http_error(req, type, 400, "bad_request", "\"operationName\" must be a string");
    return run_persisted(req, type, query, ext, vars, opname, false);
}

ag_status_t
fcgi_graphql_get(ag_req_t *req)
{
    const char *type = negotiate(req->accept);
    const char *query = ag_req_query(req, "query"), *vtext = ag_req_query(req, "variables");
    const char *etext = ag_req_query(req, "extensions");
    ag_json_t  *vars = NULL, *ext = NULL;
    char        err[160];
    ag_status_t st;

    if (type == NULL)
        return http_error(req, NULL, 406, "not_acceptable",
                          "accept application/graphql-response+json or application/json");
    if ((st = identify(req, type)) != AG_OK)
        return st;
    if (query && *query == '\0')
        query = NULL;
    if (etext && *etext) {
        ext =
            ag_json_on_arena(req->arena, ag_json_parse(etext, strlen(etext), 8, err, sizeof(err)));
        if (ext == NULL || ag_json_type(ext) != AG_JSON_OBJECT)
            return http_error(req, type, 400, "bad_request", "extensions must be a JSON object");
    }
    if (query == NULL && ext == NULL)
        return http_error(req, type, 400, "bad_request", "the query parameter is required");
    if (vtext && *vtext) {
        vars =
            ag_json_on_arena(req->arena, ag_json_parse(vtext, strlen(vtext), 32, err, sizeof(err)));
        if (vars == NULL || ag_json_type(vars) != AG_JSON_OBJECT)
            return http_error(req, type, 400, "bad_request", "variables must be a JSON object");
    }
    return run_persisted(req, type, query, ext, vars, ag_req_query(req, "operationName"), true);
}

ag_status_t
fcgi_graphql_sdl(ag_req_t *req)
{
    fcgi_app_t *app = FCGI_APP(req);
    return ag_resp_raw(req, 200, "text/plain; charset=utf-8", app->sdl.data, app->sdl.len);
}
