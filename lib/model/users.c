/* lib/model/users.c — brief user records through the Redis cache. */
#include "model/model.h"
#include "log/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define USER_CACHE_TTL "3600"

static ag_status_t
from_cache(ag_model_t *m, ag_arena_t *a, const int64_t *ids, size_t n, ag_user_brief_t **out,
           size_t *misses)
{
    *misses = n;
    if (m->cache == NULL)
        return AG_OK;
    for (size_t i = 0; i < n; i++) {
        char key[40];
        snprintf(key, sizeof(key), "user:%lld", (long long)ids[i]);
        const char *argv[] = {"HMGET", key, "username", "displayName", "hasName"};
        ag_cache_reply_t *r = NULL;
        /* one round trip per id keeps the code simple; pages are ≤ 100 distinct authors */
        if (ag_cache_cmd(m->cache, a, &r, 5, argv) != AG_OK)
            return AG_OK;  /* Redis down: PostgreSQL answers alone */
        const char *name = ag_cache_reply_str(ag_cache_reply_at(r, 0), NULL);
        if (name == NULL)
            continue;
        ag_user_brief_t *u = ag_arena_calloc(a, sizeof(*u));
        if (u == NULL)
            return AG_ENOMEM;
        u->id = ids[i];
        u->username = name;
        const char *has = ag_cache_reply_str(ag_cache_reply_at(r, 2), NULL);
        u->display_name = has && has[0] == '1'
                              ? ag_cache_reply_str(ag_cache_reply_at(r, 1), NULL) : NULL;
        out[i] = u;
        (*misses)--;
    }
    return AG_OK;
}

static void
to_cache(ag_model_t *m, const ag_user_brief_t *u)
{
    char key[40];
    snprintf(key, sizeof(key), "user:%lld", (long long)u->id);
    const char *set[] = {"HSET", key, "username", u->username, "displayName",
                         u->display_name ? u->display_name : "", "hasName",
                         u->display_name ? "1" : "0"};
    const char *exp[] = {"EXPIRE", key, USER_CACHE_TTL};
    const int   argcs[] = {8, 3};
    const char **argvs[] = {set, exp};
    if (ag_cache_pipeline(m->cache, 2, argcs, argvs) != AG_OK)
        ag_log_warn("user cache: cannot store user %lld: %s", (long long)u->id,
                    ag_cache_error(m->cache));
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
    st = ag_db_exec(m->db, a,
                    "SELECT id, username, display_name FROM users WHERE id = ANY($1::bigint[])", 1,
                    params, &r);
    ag_buf_fini(&arr);
    if (st != AG_OK)
        return st;
    for (int row = 0; row < ag_db_rows(r); row++) {
        ag_user_brief_t *u = ag_arena_calloc(a, sizeof(*u));
        if (u == NULL)
            return AG_ENOMEM;
        u->id = ag_db_i64(r, row, 0);
        u->username = ag_db_val(r, row, 1);
        u->display_name = ag_db_val(r, row, 2);
        for (size_t i = 0; i < n; i++)
            if (ids[i] == u->id)
                out[i] = u;
        if (m->cache)
            to_cache(m, u);
    }
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
