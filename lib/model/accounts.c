/*
 * lib/model/accounts.c — deleting a user account: the channels it owned pass
 * on (CONTRACT §9) and the user cache can never hold it again (model.h,
 * ag_user_delete).
 */
#include "model/model_int.h"
#include "log/log.h"

#include <stdio.h>
#include <string.h>

/*
 * How long the tombstone user:<id>:gone lives: longer than any request that
 * may have read the user before the deletion can take to write it back (the
 * statement timeout is seconds). Ids are never reused, so it may be generous.
 */
#define TOMBSTONE_TTL "86400"

/* Write the tombstone and drop the cached records, in this order, in one round trip. */
static ag_status_t
tombstone(ag_model_t *m, int64_t id, bool on)
{
    char         gone[48], key[40], jkey[48];
    const char  *set[] = {"SET", gone, "1", "EX", TOMBSTONE_TTL};
    const char  *del_gone[] = {"DEL", gone};
    const char  *del[] = {"DEL", key, jkey};
    const char **argvs[] = {on ? set : del_gone, del};
    int          argcs[] = {on ? 5 : 2, 3};

    if (m->cache == NULL)
        return AG_EUNAVAIL;
    snprintf(gone, sizeof(gone), "user:%lld:gone", (long long)id);
    snprintf(key, sizeof(key), "user:%lld", (long long)id);
    snprintf(jkey, sizeof(jkey), "user:%lld:json", (long long)id);
    return ag_cache_pipeline(m->cache, on ? 2 : 1, argcs, argvs);
}

/*
 * The successor of one owned channel: the longest-standing admin, else the
 * longest-standing member (ties by id). The heir's row is locked; when that
 * member left meanwhile the lock finds nothing and the next one is tried.
 * With no other member left the channel is deleted (*heir = 0).
 */
static ag_status_t
succeed(ag_model_t *m, ag_arena_t *a, const char *cid, const char *uid, int64_t *heir)
{
    ag_db_res_t *r = NULL;
    ag_status_t  st;
    const char  *p[] = {cid, uid};

    for (int tries = 0; tries < 5; tries++) {
        st =
            ag_db_exec(m->db, a,
                       "WITH heir AS (SELECT user_id FROM memberships "
                       "WHERE channel_id = $1::bigint AND user_id <> $2::bigint "
                       "ORDER BY role = 'admin' DESC, joined_at, user_id LIMIT 1 FOR UPDATE), "
                       "promoted AS (UPDATE memberships m SET role = 'owner' FROM heir h "
                       "WHERE m.channel_id = $1::bigint AND m.user_id = h.user_id) "
                       "UPDATE channels c SET owner_id = h.user_id, updated_at = now() FROM heir h "
                       "WHERE c.id = $1::bigint RETURNING h.user_id",
                       2, p, &r);
        if (st != AG_OK)
            return st;
        if (ag_db_rows(r) == 1) {
            *heir = ag_db_i64(r, 0, 0);
            return AG_OK;
        }
        st = ag_db_exec(m->db, a,
                        "DELETE FROM channels c WHERE c.id = $1::bigint AND NOT EXISTS "
                        "(SELECT 1 FROM memberships m WHERE m.channel_id = c.id "
                        "AND m.user_id <> $2::bigint) RETURNING c.id",
                        2, p, &r);
        if (st != AG_OK)
            return st;
        if (ag_db_rows(r) == 1) {
            *heir = 0;
            return AG_OK;
        }
        /* someone joined or left between the two statements: choose again */
    }
    return AG_ECONFLICT;
}

/* Inside the transaction: every owned channel passes on, then the user row goes. */
static ag_status_t
delete_tx(ag_model_t *m, ag_arena_t *a, const char *uid, ag_user_deleted_t *out)
{
    ag_db_res_t *r = NULL;
    ag_status_t  st;
    const char  *p[] = {uid};

    /* the owner's memberships locked: a concurrent transfer waits, or has moved them */
    st = ag_db_exec(m->db, a,
                    "SELECT channel_id FROM memberships WHERE user_id = $1::bigint "
                    "AND role = 'owner' ORDER BY channel_id FOR UPDATE",
                    1, p, &r);
    if (st != AG_OK)
        return st;
    out->nowned = (size_t)ag_db_rows(r);
    out->owned = ag_arena_calloc(a, sizeof(*out->owned) * (out->nowned ? out->nowned : 1));
    if (out->owned == NULL)
        return AG_ENOMEM;
    for (size_t i = 0; i < out->nowned; i++) {
        out->owned[i].channel_id = ag_db_i64(r, (int)i, 0);
        if ((st = succeed(m, a, ag_db_val(r, (int)i, 0), uid, &out->owned[i].heir_id)) != AG_OK)
            return st;
    }
    /* memberships, follows and notifications go by ON DELETE CASCADE */
    st = ag_db_exec(m->db, a,
                    "WITH gone AS (DELETE FROM users WHERE id = $1::bigint RETURNING id) "
                    "SELECT m.channel_id FROM memberships m RIGHT JOIN gone ON m.user_id = gone.id",
                    1, p, &r);
    if (st != AG_OK)
        return st;
    if (ag_db_rows(r) == 0)
        return AG_ENOTFOUND;
    out->channels = ag_arena_alloc(a, sizeof(*out->channels) * (size_t)ag_db_rows(r));
    if (out->channels == NULL)
        return AG_ENOMEM;
    for (int i = 0; i < ag_db_rows(r); i++)
        if (!ag_db_isnull(r, i, 0))
            out->channels[out->nchannels++] = ag_db_i64(r, i, 0);
    return AG_OK;
}

/* The events of a deletion: each owned channel's new owner (or its end), then the user. */
static void
deletion_events(ag_model_t *m, int64_t id, const ag_user_deleted_t *d)
{
    for (size_t i = 0; i < d->nowned; i++) {
        const ag_succession_t *s = &d->owned[i];
        ag_model_emit(m, &(ag_ev_t){.subject = AG_EV_CHANNEL_UPDATED,
                                    .id = s->channel_id,
                                    .channel_id = s->channel_id,
                                    .deleted = s->heir_id == 0});
    }
    for (size_t i = 0; i < d->nchannels; i++)
        ag_subs_changed(m, id, d->channels[i], false);
    for (size_t i = 0; i < d->nowned; i++)
        if (d->owned[i].heir_id == 0) /* its membership went with the channel */
            ag_subs_changed(m, id, d->owned[i].channel_id, false);
    ag_model_emit(
        m, &(ag_ev_t){.subject = AG_EV_USER_UPDATED, .id = id, .user_id = id, .deleted = true});
}

ag_status_t
ag_user_delete(ag_model_t *m, ag_arena_t *a, int64_t user_id, ag_user_deleted_t *out)
{
    char        uid[24];
    ag_status_t st;

    memset(out, 0, sizeof(*out));
    snprintf(uid, sizeof(uid), "%lld", (long long)user_id);
    /* first the tombstone: from here on no request can cache this user again */
    if ((st = tombstone(m, user_id, true)) != AG_OK) {
        ag_log_warn("user %s not deleted: the user cache (Redis) is unavailable: %s", uid,
                    m->cache ? ag_cache_error(m->cache) : "no cache");
        return AG_EUNAVAIL;
    }
    if ((st = ag_db_begin(m->db)) == AG_OK) {
        if ((st = delete_tx(m, a, uid, out)) == AG_OK)
            st = ag_db_commit(m->db);
        else
            ag_db_rollback(m->db);
    }
    if (st != AG_OK) {
        /* nothing was deleted: the account may be cached again */
        if (tombstone(m, user_id, false) != AG_OK)
            ag_log_warn("user %s: tombstone left after a failed deletion (expires by TTL)", uid);
        return st;
    }
    /* nothing can have been cached since the tombstone; one more DEL costs one round trip */
    ag_users_cache_forget(m, user_id);
    deletion_events(m, user_id, out);
    return AG_OK;
}
