/*
 * lib/model/subs.c — user:<id>:subs in Redis, rebuilt from PostgreSQL
 * memberships when missing. PostgreSQL is the truth; Redis is the fast copy
 * the realtime daemon reads on every connect.
 */
#include "model/model_int.h"
#include "log/log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void
keys(int64_t user_id, char *set, char *mark, size_t n)
{
    snprintf(set, n, "user:%lld:subs", (long long)user_id);
    snprintf(mark, n, "user:%lld:subs:built", (long long)user_id);
}

/* The set from the rows' first column, replaced in one MULTI/EXEC (a reader never sees
 * it half built), with the mark that says it is complete. */
static ag_status_t
write_set(ag_model_t *m, ag_arena_t *a, int64_t user_id, ag_db_res_t *r, int col)
{
    char         set[64], mark[64];
    int          rows = ag_db_rows(r), k = 0;
    const char **sadd = ag_arena_alloc(a, sizeof(char *) * (size_t)(rows + 2));

    if (sadd == NULL)
        return AG_ENOMEM;
    keys(user_id, set, mark, sizeof(set));
    sadd[0] = "SADD";
    sadd[1] = set;
    for (int i = 0; i < rows; i++)
        if (!ag_db_isnull(r, i, col))
            sadd[2 + k++] = ag_db_val(r, i, col);
    const char *multi[] = {"MULTI"}, *del[] = {"DEL", set}, *mk[] = {"SET", mark, "1"},
               *exec[] = {"EXEC"};
    const char **argvs[] = {multi, del, sadd, mk, exec};
    int          argcs[] = {1, 2, k + 2, 3, 1};
    if (k == 0) {
        argvs[2] = mk; /* SADD with no members is an error: set only the mark */
        argcs[2] = 3;
    }
    return ag_cache_pipeline(m->cache, 5, argcs, argvs);
}

ag_status_t
ag_subs_rebuild(ag_model_t *m, ag_arena_t *a, int64_t user_id)
{
    char         uid[24];
    ag_db_res_t *r = NULL;
    ag_status_t  st;

    snprintf(uid, sizeof(uid), "%lld", (long long)user_id);
    const char *p[] = {uid};
    if ((st = ag_db_exec(m->db, a, "SELECT channel_id FROM memberships WHERE user_id = $1::bigint",
                         1, p, &r)) != AG_OK)
        return st;
    return write_set(m, a, user_id, r, 0);
}

ag_status_t
ag_subs_load(ag_model_t *m, ag_arena_t *a, int64_t user_id, int64_t **ids, size_t *n, bool *exists)
{
    char         uid[24];
    ag_db_res_t *r = NULL;
    ag_status_t  st;
    int          rows;

    snprintf(uid, sizeof(uid), "%lld", (long long)user_id);
    const char *p[] = {uid};
    if ((st = ag_db_exec(m->db, a,
                         "SELECT u.id, ms.channel_id FROM users u "
                         "LEFT JOIN memberships ms ON ms.user_id = u.id WHERE u.id = $1::bigint",
                         1, p, &r)) != AG_OK)
        return st;
    rows = ag_db_rows(r);
    *exists = rows > 0;
    *n = 0;
    if ((*ids = ag_arena_alloc(a, sizeof(int64_t) * (size_t)(rows ? rows : 1))) == NULL)
        return AG_ENOMEM;
    for (int i = 0; i < rows; i++)
        if (!ag_db_isnull(r, i, 1))
            (*ids)[(*n)++] = ag_db_i64(r, i, 1);
    if (*exists && write_set(m, a, user_id, r, 1) != AG_OK)
        ag_log_warn("subs: user %lld: Redis unavailable; its set is rebuilt on next read",
                    (long long)user_id);
    return AG_OK;
}

ag_status_t
ag_subs_get(ag_model_t *m, ag_arena_t *a, int64_t user_id, int64_t **ids, size_t *n)
{
    char              set[64], mark[64];
    ag_cache_reply_t *r = NULL;
    ag_status_t       st;

    keys(user_id, set, mark, sizeof(set));
    const char *ex[] = {"EXISTS", mark};
    if ((st = ag_cache_cmd(m->cache, a, &r, 2, ex)) != AG_OK)
        return st;
    if (ag_cache_reply_int(r) == 0 && (st = ag_subs_rebuild(m, a, user_id)) != AG_OK)
        return st;
    const char *sm[] = {"SMEMBERS", set};
    if ((st = ag_cache_cmd(m->cache, a, &r, 2, sm)) != AG_OK)
        return st;
    size_t cnt = ag_cache_reply_len(r);
    *ids = ag_arena_alloc(a, sizeof(int64_t) * (cnt ? cnt : 1));
    if (*ids == NULL)
        return AG_ENOMEM;
    *n = 0;
    for (size_t i = 0; i < cnt; i++) {
        int64_t id;
        if (ag_parse_i64(ag_cache_reply_str(ag_cache_reply_at(r, i), NULL), &id) == AG_OK)
            (*ids)[(*n)++] = id;
    }
    return AG_OK;
}

ag_status_t
ag_subs_changed(ag_model_t *m, int64_t user_id, int64_t channel_id, bool joined)
{
    char set[64], mark[64], cid[24];
    keys(user_id, set, mark, sizeof(set));
    ag_model__id(cid, channel_id);
    const char *argv[] = {joined ? "SADD" : "SREM", set, cid};
    ag_status_t st = ag_cache_cmd(m->cache, NULL, NULL, 3, argv);
    if (st != AG_OK) {
        /* the set is now stale: drop the mark so the next reader rebuilds it */
        const char *del[] = {"DEL", mark};
        if (ag_cache_cmd(m->cache, NULL, NULL, 2, del) != AG_OK)
            ag_log_warn("subs: user %lld: Redis unavailable; set rebuilt on next connect",
                        (long long)user_id);
    }
    ag_model_emit(m, &(ag_ev_t){.subject = AG_EV_SUBS_CHANGED,
                                .id = user_id,
                                .channel_id = channel_id,
                                .action = joined ? AG_EV_JOINED : AG_EV_LEFT});
    return AG_OK;
}
