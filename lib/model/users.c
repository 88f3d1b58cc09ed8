/*
 * lib/model/users.c — user accounts: profiles, search, sign-up and sign-in
 * records, and the brief records read often (authors, mentions) through the
 * Redis cache.
 *
 * Every fill of the user cache (user:<id>, user:<id>:json) is a script that
 * first checks the tombstone user:<id>:gone, which ag_user_delete writes
 * before it deletes the row: a request that read the user from PostgreSQL
 * just before the deletion committed would otherwise put the record back
 * after the deletion dropped it, and the account's token (checked against
 * this cache) would keep working for the cache TTL.
 */
#include "model/model_int.h"
#include "log/log.h"

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
        return AG_OK; /* Redis down: PostgreSQL answers alone */
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
ag_users_cache_json_key(char *key, size_t n, int64_t id)
{
    snprintf(key, n, "user:%lld:json", (long long)id);
}

ag_status_t
ag_users_cache_get_json(ag_model_t *m, ag_arena_t *a, int64_t id, const char **json, size_t *len)
{
    char              key[48];
    ag_cache_reply_t *hit = NULL;

    *json = NULL;
    ag_users_cache_json_key(key, sizeof(key), id);
    const char *get[] = {"GET", key};
    if (m->cache == NULL || ag_cache_cmd(m->cache, a, &hit, 2, get) != AG_OK)
        return AG_OK; /* a cache is optional: PostgreSQL answers */
    if (ag_cache_reply_type(hit) == AG_CACHE_STR)
        *json = ag_cache_reply_str(hit, len);
    return AG_OK;
}

void
ag_users_cache_put_json(ag_model_t *m, int64_t id, const char *json, int ttl_s)
{
    char gone[48], key[48], ttl[16];
    if (m->cache == NULL)
        return;
    snprintf(gone, sizeof(gone), "user:%lld:gone", (long long)id);
    ag_users_cache_json_key(key, sizeof(key), id);
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
ag_model__user_ids(ag_model_t *m, ag_arena_t *a, const char *names, int64_t **ids, size_t *nids)
{
    ag_db_res_t *r = NULL;
    const char  *p[] = {names};
    ag_status_t  st;

    *ids = NULL;
    *nids = 0;
    st = ag_db_exec(m->db, a, "SELECT id FROM users WHERE username = ANY($1::text[]) ORDER BY id",
                    1, p, &r);
    if (st != AG_OK)
        return st;
    if ((*ids = ag_arena_alloc(a, sizeof(**ids) * (size_t)(ag_db_rows(r) + 1))) == NULL)
        return AG_ENOMEM;
    for (int i = 0; i < ag_db_rows(r); i++)
        (*ids)[(*nids)++] = ag_db_i64(r, i, 0);
    return AG_OK;
}

ag_status_t
ag_users_by_username(ag_model_t *m, ag_arena_t *a, const char *const *names, size_t n,
                     int64_t **ids, size_t *nids)
{
    ag_buf_t    arr;
    ag_status_t st;

    *ids = NULL;
    *nids = 0;
    if (n == 0)
        return AG_OK;
    /* a text[] literal, each name quoted: {"ana","bo\"b"} */
    ag_buf_init(&arr);
    ag_buf_puts(&arr, "{");
    for (size_t i = 0; i < n; i++) {
        ag_buf_puts(&arr, i ? ",\"" : "\"");
        for (const char *c = names[i]; *c; c++)
            ag_buf_printf(&arr, "%s%c", *c == '"' || *c == '\\' ? "\\" : "", *c);
        ag_buf_puts(&arr, "\"");
    }
    ag_buf_puts(&arr, "}");
    st = arr.data ? ag_model__user_ids(m, a, arr.data, ids, nids) : AG_ENOMEM;
    ag_buf_fini(&arr);
    return st;
}

/* The first row of r as a user record from a; AG_ENOTFOUND when there is none. */
static ag_status_t
user_of(ag_arena_t *a, const ag_db_res_t *r, ag_user_t **out)
{
    if (ag_db_rows(r) == 0)
        return AG_ENOTFOUND;
    if ((*out = ag_arena_alloc(a, sizeof(**out))) == NULL)
        return AG_ENOMEM;
    ag_model__user(r, 0, *out);
    return AG_OK;
}

ag_status_t
ag_user_get(ag_model_t *m, ag_arena_t *a, int64_t id, ag_user_t **out)
{
    char         ids[24];
    ag_db_res_t *r = NULL;
    const char  *p[] = {ag_model__id(ids, id)};
    ag_status_t  st = ag_db_exec(
         m->db, a, "SELECT " AG_MODEL__USER_COLS " FROM users u WHERE u.id = $1::bigint", 1, p, &r);
    return st != AG_OK ? st : user_of(a, r, out);
}

/* LIKE pattern text with its metacharacters escaped, so '%' and '_' match literally. */
static char *
like_escape(ag_arena_t *a, const char *s)
{
    char *out = ag_arena_alloc(a, strlen(s) * 2 + 1), *o = out;
    if (out == NULL)
        return NULL;
    for (; *s; s++) {
        if (*s == '%' || *s == '_' || *s == '\\')
            *o++ = '\\';
        *o++ = *s;
    }
    *o = '\0';
    return out;
}

ag_status_t
ag_user_search(ag_model_t *m, ag_arena_t *a, const char *q, const ag_page_req_t *pg,
               ag_user_page_t *out)
{
    char         after[24], fetch[16];
    ag_db_res_t *r = NULL;
    ag_status_t  st;
    char        *pat = q && *q ? like_escape(a, q) : NULL;

    memset(out, 0, sizeof(*out));
    if (q && *q && pat == NULL)
        return AG_ENOMEM;
    ag_model__page_params(pg, after, fetch);
    const char *p[] = {after, fetch, pat};
    /* prefix of the username (lowercase by rule) or substring of the display name */
    st = ag_db_exec(m->db, a,
                    "SELECT " AG_MODEL__USER_COLS " FROM users u WHERE u.id > $1::bigint AND "
                    "($3::text IS NULL OR u.username LIKE lower($3) || '%' "
                    " OR lower(u.display_name) LIKE '%' || lower($3) || '%') "
                    "ORDER BY u.id LIMIT $2::int",
                    3, p, &r);
    return st == AG_OK ? ag_model__user_page(a, r, pg->limit, out) : st;
}

ag_status_t
ag_user_create(ag_model_t *m, ag_arena_t *a, const char *username, const char *password_hash,
               const char *display_name, ag_user_t **out)
{
    ag_db_res_t *r = NULL;
    const char  *p[] = {username, password_hash, display_name};
    ag_status_t  st = ag_db_exec(m->db, a,
                                 "INSERT INTO users AS u (username, password_hash, display_name) "
                                  "VALUES ($1, $2, $3) RETURNING " AG_MODEL__USER_COLS,
                                 3, p, &r);
    return st != AG_OK ? st : user_of(a, r, out);
}

ag_status_t
ag_user_credentials(ag_model_t *m, ag_arena_t *a, const char *username, ag_user_t **out,
                    const char **password_hash)
{
    ag_db_res_t *r = NULL;
    const char  *p[] = {username};
    ag_status_t  st = ag_db_exec(m->db, a,
                                 "SELECT " AG_MODEL__USER_COLS
                                 ", u.password_hash FROM users u WHERE u.username = $1",
                                 1, p, &r);
    if (st != AG_OK || (st = user_of(a, r, out)) != AG_OK)
        return st;
    *password_hash = ag_db_val(r, 0, 6);
    return AG_OK;
}

ag_status_t
ag_user_update(ag_model_t *m, ag_arena_t *a, int64_t id, const ag_user_patch_t *pt, ag_user_t **out)
{
    char         ids[24];
    ag_db_res_t *r = NULL;
    ag_status_t  st;
    const char  *p[] = {ag_model__id(ids, id),
                       pt->set_display_name ? "t" : "f",
                        pt->display_name,
                       pt->set_bio ? "t" : "f",
                        pt->bio,
                       pt->set_avatar_url ? "t" : "f",
                        pt->avatar_url};

    st = ag_db_exec(m->db, a,
                    "UPDATE users u SET "
                    "display_name = CASE WHEN $2::bool THEN $3 ELSE display_name END, "
                    "bio = CASE WHEN $4::bool THEN $5 ELSE bio END, "
                    "avatar_url = CASE WHEN $6::bool THEN $7 ELSE avatar_url END, "
                    "updated_at = now() WHERE u.id = $1::bigint RETURNING " AG_MODEL__USER_COLS,
                    7, p, &r);
    if (st != AG_OK || (st = user_of(a, r, out)) != AG_OK)
        return st;
    ag_users_cache_forget(m, id);
    ag_model_emit(m, &(ag_ev_t){.subject = AG_EV_USER_UPDATED, .id = id, .user_id = id});
    return AG_OK;
}
