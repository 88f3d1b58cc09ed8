/*
 * lib/model/users.c — brief user records through the Redis cache.
 *
 * Every fill of the user cache (user:<id>, user:<id>:json) is a script that
 * first checks the tombstone user:<id>:gone, which ag_user_delete writes
 * before it deletes the row: a request that read the user from PostgreSQL
 * just before the deletion committed would otherwise put the record back
 * after the deletion dropped it, and the account's token (checked against
 * this cache) would keep working for the cache TTL.
 */
#include "model/model.h"
#include "log/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define USER_CACHE_TTL "3600"

/* KEYS[1] the tombstone, KEYS[2] user:<id>; ARGV[1] the TTL, then field/value pairs */
static const char fill_hash_lua[] =
    "if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end "
    "redis.call('HSET', KEYS[2], unpack(ARGV, 2)) redis.call('EXPIRE', KEYS[2], ARGV[1]) "
    "return 1";
/* KEYS[1] the tombstone, KEYS[2] the key; ARGV[1] the TTL, ARGV[2] the value */
static const char fill_str_lua[] = "if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end "
                                   "redis.call('SET', KEYS[2], ARGV[2], 'EX', ARGV[1]) return 1";

/* Every id's cached record in one pipelined round trip; the misses stay NULL. */
static ag_status_t
from_cache(ag_model_t *m, ag_arena_t *a, const int64_t *ids, size_t n, ag_user_brief_t **out,
           size_t *misses)
{
    *misses = n;
    if (m->cache == NULL || n == 0)
        return AG_OK;
    const char      ***argvs = ag_arena_alloc(a, sizeof(*argvs) * n);
    int               *argcs = ag_arena_alloc(a, sizeof(*argcs) * n);
    ag_cache_reply_t **rep = ag_arena_calloc(a, sizeof(*rep) * n);
    if (argvs == NULL || argcs == NULL || rep == NULL)
        return AG_ENOMEM;
    for (size_t i = 0; i < n; i++) {
        const char **argv = ag_arena_alloc(a, sizeof(*argv) * 6);
        if (argv == NULL)
            return AG_ENOMEM;
        argv[0] = "HMGET";
        argv[1] = ag_arena_printf(a, "user:%lld", (long long)ids[i]);
        argv[2] = "username";
        argv[3] = "displayName";
        argv[4] = "hasName";
        argv[5] = "avatarUrl"; /* absent (nil) in entries cached before it existed: no avatar */
        argvs[i] = argv;
        argcs[i] = 6;
    }
    if (ag_cache_pipeline_get(m->cache, a, (int)n, argcs, argvs, rep) != AG_OK)
        return AG_OK;  /* Redis down: PostgreSQL answers alone */
    for (size_t i = 0; i < n; i++) {
        const char *name = rep[i] ? ag_cache_reply_str(ag_cache_reply_at(rep[i], 0), NULL) : NULL;
        if (name == NULL)
            continue;
        ag_user_brief_t *u = ag_arena_calloc(a, sizeof(*u));
        if (u == NULL)
            return AG_ENOMEM;
        u->id = ids[i];
        u->username = name;
        const char *has = ag_cache_reply_str(ag_cache_reply_at(rep[i], 2), NULL);
        u->display_name = has && has[0] == '1'
                              ? ag_cache_reply_str(ag_cache_reply_at(rep[i], 1), NULL) : NULL;
        const char *av = ag_cache_reply_str(ag_cache_reply_at(rep[i], 3), NULL);
        u->avatar_url = av && *av ? av : NULL;
        out[i] = u;
        (*misses)--;
    }
    return AG_OK;
}

/* Write the records loaded from PostgreSQL back to the cache, one round trip for all. */
static void
to_cache(ag_model_t *m, ag_arena_t *a, ag_user_brief_t **users, size_t n)
{
    size_t        k = 0;
    const char ***argvs = ag_arena_alloc(a, sizeof(*argvs) * (n ? n : 1));
    int          *argcs = ag_arena_alloc(a, sizeof(*argcs) * (n ? n : 1));
    if (argvs == NULL || argcs == NULL)
        return;
    for (size_t i = 0; i < n; i++) {
        const ag_user_brief_t *u = users[i];
        const char           **ev = ag_arena_alloc(a, sizeof(*ev) * 14);
        if (u == NULL || ev == NULL)
            continue;
        ev[0] = "EVAL", ev[1] = fill_hash_lua, ev[2] = "2";
        ev[3] = ag_arena_printf(a, "user:%lld:gone", (long long)u->id);
        ev[4] = ag_arena_printf(a, "user:%lld", (long long)u->id);
        ev[5] = USER_CACHE_TTL;
        ev[6] = "username", ev[7] = u->username;
        ev[8] = "displayName", ev[9] = u->display_name ? u->display_name : "";
        ev[10] = "hasName", ev[11] = u->display_name ? "1" : "0";
        ev[12] = "avatarUrl", ev[13] = u->avatar_url ? u->avatar_url : "";
        if (ev[3] == NULL || ev[4] == NULL)
            continue;
        argvs[k] = ev, argcs[k++] = 14;
    }
    if (k && ag_cache_pipeline(m->cache, (int)k, argcs, argvs) != AG_OK)
        ag_log_warn("user cache: cannot store %zu users: %s", k, ag_cache_error(m->cache));
}

void
ag_users_cache_put_json(ag_model_t *m, int64_t id, const char *json, int ttl_s)
{
    char gone[48], key[48], ttl[16];
    if (m->cache == NULL)
        return;
    snprintf(gone, sizeof(gone), "user:%lld:gone", (long long)id);
    snprintf(key, sizeof(key), "user:%lld:json", (long long)id);
    snprintf(ttl, sizeof(ttl), "%d", ttl_s);
    const char *argv[] = {"EVAL", fill_str_lua, "2", gone, key, ttl, json};
    (void)ag_cache_cmd(m->cache, NULL, NULL, 7, argv); /* a cache is optional */
}

ag_status_t
ag_users_brief(ag_model_t *m, ag_arena_t *a, const int64_t *ids, size_t n, ag_user_brief_t **out)
{
    size_t      misses = 0;
    ag_status_t st;
    ag_buf_t    arr;

    memset(out, 0, n * sizeof(*out));
    if ((st = from_cache(m, a, ids, n, out, &misses)) != AG_OK || misses == 0)
        return st;
    ag_buf_init(&arr);
    ag_buf_puts(&arr, "{");
    for (size_t i = 0, k = 0; i < n; i++)
        if (out[i] == NULL)
            ag_buf_printf(&arr, "%s%lld", k++ ? "," : "", (long long)ids[i]);
    ag_buf_puts(&arr, "}");
    ag_db_res_t *r = NULL;
    const char  *params[] = {arr.data};
    st = ag_db_exec_generic(
        m->db, a,
        "SELECT id, username, display_name, avatar_url FROM users WHERE id = ANY($1::bigint[])", 1,
        params, &r);
    ag_buf_fini(&arr);
    if (st != AG_OK)
        return st;
    int               rows = ag_db_rows(r);
    ag_user_brief_t **loaded = ag_arena_calloc(a, sizeof(*loaded) * (size_t)(rows ? rows : 1));
    if (loaded == NULL)
        return AG_ENOMEM;
    for (int row = 0; row < rows; row++) {
        ag_user_brief_t *u = ag_arena_calloc(a, sizeof(*u));
        if (u == NULL)
            return AG_ENOMEM;
        u->id = ag_db_i64(r, row, 0);
        u->username = ag_db_val(r, row, 1);
        u->display_name = ag_db_val(r, row, 2);
        u->avatar_url = ag_db_val(r, row, 3);
        for (size_t i = 0; i < n; i++)
            if (ids[i] == u->id)
                out[i] = u;
        loaded[row] = u;
    }
    if (m->cache)
        to_cache(m, a, loaded, (size_t)rows);
    return AG_OK;
}

void
ag_users_cache_forget(ag_model_t *m, int64_t id)
{
    char key[40], jkey[48];
    snprintf(key, sizeof(key), "user:%lld", (long long)id);
    snprintf(jkey, sizeof(jkey), "user:%lld:json", (long long)id);
    const char *argv[] = {"DEL", key, jkey};
    if (m->cache && ag_cache_cmd(m->cache, NULL, NULL, 3, argv) != AG_OK)
        ag_log_warn("user cache: cannot forget user %lld (entry expires by TTL)", (long long)id);
}

ag_status_t
ag_event_emit(ag_model_t *m, const char *subject, ...)
{
    ag_buf_t    b;
    va_list     ap;
    const char *k;
    ag_status_t st;

    if (m->events == NULL)
        return AG_EUNAVAIL;
    ag_buf_init(&b);
    ag_buf_puts(&b, "{");
    va_start(ap, subject);
    while ((k = va_arg(ap, const char *)) != NULL) {
        const char *v = va_arg(ap, const char *);
        if (b.len > 1)
            ag_buf_puts(&b, ",");
        ag_json_escape(&b, k, strlen(k));
        ag_buf_puts(&b, ":");
        ag_json_escape(&b, v, strlen(v));
    }
    va_end(ap);
    ag_buf_puts(&b, "}");
    st = ag_events_publish(m->events, subject, b.data, b.len);
    if (st != AG_OK)
        ag_log_warn("event %s not published: %s", subject, ag_events_error(m->events));
    ag_buf_fini(&b);
    return st;
}
