/*
 * fcgi/middleware.c — authentication and rate limits, run before handlers.
 * Rate-limit counters live in Redis so every worker process shares them.
 * When Redis is down the limits fail open (logged): refusing every request
 * because a protective counter is unreachable would turn a Redis outage
 * into an API outage.
 */
#include "app.h"
#include "log/log.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

/*
 * Token bucket (GCRA) per user: rate per second with a burst, one EVAL round
 * trip. ARGV[4], when given, is how many tokens the request takes (GraphQL
 * weighs a request by its cost); REST takes one. Returns 0 when allowed, else
 * the seconds to wait.
 */
static const char gcra_lua[] =
    "local now = tonumber(ARGV[1]) local interval = 1000 / tonumber(ARGV[2]) "
    "local burst = tonumber(ARGV[3]) local n = tonumber(ARGV[4] or '1') "
    "local tat = tonumber(redis.call('GET', KEYS[1]) or now) "
    "if tat < now then tat = now end "
    "local allow_at = tat + n * interval - burst * interval "
    "if allow_at > now then return math.ceil((allow_at - now) / 1000) end "
    "redis.call('SET', KEYS[1], tostring(tat + n * interval), 'PX', math.ceil(burst * interval) + "
    "1000) "
    "return 0";

/*
 * One Redis round trip for the two checks every signed-in request needs:
 * the cached user record (a deleted account's token must stop working) and
 * the token bucket. A cache miss falls back to PostgreSQL through lib/model.
 */
ag_status_t
fcgi_authenticate(ag_req_t *req)
{
    fcgi_app_t       *app = FCGI_APP(req);
    const char       *token = NULL;
    ag_user_brief_t  *u = NULL;
    ag_cache_reply_t *rep[3] = {NULL, NULL, NULL};
    int64_t           rate = ag_config_int(app->cfg, AG_CFG_rate_api_per_sec);
    int64_t           burst = ag_config_int(app->cfg, AG_CFG_rate_api_burst);
    char              ukey[40], rkey[48], now[24], r_s[24], b_s[24];
    ag_status_t       st;

    st = ag_auth_bearer(req->authorization, &token);
    if (st == AG_DECLINED)
        return ag_req_fail(req, AG_EUNAUTH, "missing Authorization: Bearer token");
    if (st != AG_OK ||
        ag_auth_token_verify(app->auth, token, (int64_t)time(NULL), &req->user_id) != AG_OK) {
        ag_resp_header(req, "WWW-Authenticate", "Bearer error=\"invalid_token\"");
        return ag_req_fail(req, AG_EUNAUTH, "invalid or expired token");
    }
    snprintf(ukey, sizeof(ukey), "user:%lld", (long long)req->user_id);
    snprintf(rkey, sizeof(rkey), "rl:api:%lld", (long long)req->user_id);
    snprintf(now, sizeof(now), "%lld", (long long)ag_now_wall_ms());
    snprintf(r_s, sizeof(r_s), "%lld", (long long)rate);
    snprintf(b_s, sizeof(b_s), "%lld", (long long)(burst > 0 ? burst : rate));
    const char  *hm[] = {"HMGET", ukey, "username"};
    const char  *get[] = {"GET", req->cache_key};
    const char  *ev[] = {"EVAL", gcra_lua, "1", rkey, now, r_s, b_s};
    const char **argvs[] = {hm, get, ev};
    int          argcs[] = {3, 2, 7};
    int          n = 1;
    if (req->cache_key)
        n = 2;  /* the route's cached answer rides along (rep[1]) */
    else
        argvs[1] = ev, argcs[1] = 7;
    int ev_at = n;
    if (rate > 0) {
        argvs[n] = ev, argcs[n] = 7;
        n++;
    }
    /* Redis down: the user check falls back to PostgreSQL, the limit fails open */
    if (ag_cache_pipeline_get(app->model.cache, req->arena, n, argcs, argvs, rep) != AG_OK)
        ag_log_debug("auth: Redis unavailable; user checked in PostgreSQL, no rate limit");
    bool cached = rep[0] && ag_cache_reply_str(ag_cache_reply_at(rep[0], 0), NULL) != NULL;
    if (!cached) {
        if ((st = ag_users_brief(&app->model, req->arena, &req->user_id, 1, &u)) != AG_OK)
            return fcgi_db_fail(req, st, "user lookup");
        if (u == NULL) {
            req->user_id = 0;
            return ag_req_fail(req, AG_EUNAUTH, "the token's user no longer exists");
        }
    }
    if (req->cache_key)
        req->prefetched = rep[1];
    ag_cache_reply_t *lim = rate > 0 ? rep[ev_at] : NULL;
    if (lim && ag_cache_reply_type(lim) == AG_CACHE_INT && ag_cache_reply_int(lim) > 0) {
        char retry[24];
        snprintf(retry, sizeof(retry), "%lld", (long long)ag_cache_reply_int(lim));
        ag_resp_header(req, "Retry-After", retry);
        return ag_req_fail(req, AG_ERATE, "too many requests; retry after %s s", retry);
    }
    return AG_OK;
}

ag_status_t
fcgi_rate_limit(ag_req_t *req, const char *key, int64_t max, int window_s)
{
    int64_t count = 0, ttl = 0;
    if (max <= 0)
        return AG_OK;
    if (ag_cache_hit(FCGI_M(req)->cache, key, window_s, &count, &ttl) != AG_OK) {
        ag_log_warn("rate limit %s: Redis unavailable, not enforced", key);
        return AG_OK;
    }
    if (count > max) {
        char retry[24];
        snprintf(retry, sizeof(retry), "%lld", (long long)(ttl > 0 ? ttl : 1));
        ag_resp_header(req, "Retry-After", retry);
        return ag_req_fail(req, AG_ERATE, "too many attempts; retry after %s s", retry);
    }
    return AG_OK;
}

ag_status_t
fcgi_rate_take(ag_req_t *req, const char *key, int64_t weight, int64_t *retry_s)
{
    fcgi_app_t       *app = FCGI_APP(req);
    int64_t           rate = ag_config_int(app->cfg, AG_CFG_rate_api_per_sec);
    int64_t           burst = ag_config_int(app->cfg, AG_CFG_rate_api_burst);
    ag_cache_reply_t *rep = NULL;
    char              now[24], r_s[24], b_s[24], n_s[24];

    *retry_s = 0;
    if (rate <= 0)
        return AG_OK;
    if (burst <= 0)
        burst = rate;
    /* a request dearer than the whole burst takes the burst: it can pass once the bucket is full */
    if (weight > burst)
        weight = burst;
    snprintf(now, sizeof(now), "%lld", (long long)ag_now_wall_ms());
    snprintf(r_s, sizeof(r_s), "%lld", (long long)rate);
    snprintf(b_s, sizeof(b_s), "%lld", (long long)burst);
    snprintf(n_s, sizeof(n_s), "%lld", (long long)(weight > 0 ? weight : 1));
    const char *ev[] = {"EVAL", gcra_lua, "1", key, now, r_s, b_s, n_s};
    if (ag_cache_cmd(app->model.cache, req->arena, &rep, 8, ev) != AG_OK) {
        /* as for REST's per-user limit: every request would log it during an outage */
        ag_log_debug("rate limit %s: Redis unavailable, not enforced", key);
        return AG_OK;
    }
    if (ag_cache_reply_type(rep) == AG_CACHE_INT && ag_cache_reply_int(rep) > 0) {
        *retry_s = ag_cache_reply_int(rep);
        return AG_ERATE;
    }
    return AG_OK;
}
