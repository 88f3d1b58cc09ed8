/* lib/model/users.c — brief user records through the Redis cache. */
#include "model/model.h"
#include "log/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define USER_CACHE_TTL "3600"

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
        const char **argv = ag_arena_alloc(a, sizeof(*argv) * 5);
        if (argv == NULL)
            return AG_ENOMEM;
        argv[0] = "HMGET";
        argv[1] = ag_arena_printf(a, "user:%lld", (long long)ids[i]);
        argv[2] = "username";
        argv[3] = "displayName";
        argv[4] = "hasName";
        argvs[i] = argv;
        argcs[i] = 5;
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
    const char ***argvs = ag_arena_alloc(a, sizeof(*argvs) * 2 * (n ? n : 1));
    int          *argcs = ag_arena_alloc(a, sizeof(*argcs) * 2 * (n ? n : 1));
    if (argvs == NULL || argcs == NULL)
        return;
    for (size_t i = 0; i < n; i++) {
        const ag_user_brief_t *u = users[i];
        const char           **set = ag_arena_alloc(a, sizeof(*set) * 8);
        const char           **exp = ag_arena_alloc(a, sizeof(*exp) * 3);
        if (u == NULL || set == NULL || exp == NULL)
            continue;
        const char *key = ag_arena_printf(a, "user:%lld", (long long)u->id);
        set[0] = "HSET", set[1] = key, set[2] = "username", set[3] = u->username;
        set[4] = "displayName", set[5] = u->display_name ? u->display_name : "";
        set[6] = "hasName", set[7] = u->display_name ? "1" : "0";
        exp[0] = "EXPIRE", exp[1] = key, exp[2] = USER_CACHE_TTL;
        argvs[k] = set, argcs[k++] = 8;
        argvs[k] = exp, argcs[k++] = 3;
    }
    if (k && ag_cache_pipeline(m->cache, (int)k, argcs, argvs) != AG_OK)
        ag_log_warn("user cache: cannot store %zu users: %s", k / 2, ag_cache_error(m->cache));
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
        m->db, a, "SELECT id, username, display_name FROM users WHERE id = ANY($1::bigint[])", 1,
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
