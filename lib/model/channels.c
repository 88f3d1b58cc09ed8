/* lib/model/channels.c — who may see and change a channel. */
#include "model/model.h"

#include <stdio.h>
#include <string.h>

ag_status_t
ag_channel_access(ag_model_t *m, ag_arena_t *a, int64_t channel_id, int64_t user_id,
                  ag_channel_access_t *out)
{
    char         cid[24], uid[24];
    ag_db_res_t *r = NULL;
    ag_status_t  st;

    snprintf(cid, sizeof(cid), "%lld", (long long)channel_id);
    snprintf(uid, sizeof(uid), "%lld", (long long)user_id);
    const char *p[] = {cid, uid};
    st = ag_db_exec_generic(
        m->db, a,
        "SELECT c.visibility = 'public', m.role FROM channels c "
        "LEFT JOIN memberships m ON m.channel_id = c.id AND m.user_id = $2::bigint "
        "WHERE c.id = $1::bigint",
        2, p, &r);
    if (st != AG_OK)
        return st;
    out->exists = ag_db_rows(r) == 1;
    out->is_public = out->exists && ag_db_bool(r, 0, 0);
    out->role = out->exists ? ag_db_val(r, 0, 1) : NULL;
    return AG_OK;
}

bool
ag_channel_can_read(const ag_channel_access_t *acc)
{
    return acc->exists && (acc->is_public || acc->role != NULL);
}

/* Inside the transaction: lock both memberships and check the roles. */
static ag_status_t
transfer_check(ag_model_t *m, ag_arena_t *a, const char *const p[3])
{
    ag_db_res_t *r = NULL;
    bool         owner = false, member = false;
    ag_status_t  st;

    /* in user order, as every locker of several memberships of a channel does */
    st = ag_db_exec(
        m->db, a,
        "SELECT user_id = $2::bigint, role FROM memberships WHERE channel_id = $1::bigint "
        "AND user_id IN ($2::bigint, $3::bigint) ORDER BY user_id FOR UPDATE",
        3, p, &r);
    if (st != AG_OK)
        return st;
    for (int i = 0; i < ag_db_rows(r); i++) {
        if (ag_db_bool(r, i, 0))
            owner = strcmp(ag_db_val(r, i, 1), "owner") == 0;
        else
            member = true;
    }
    return !owner ? AG_EFORBIDDEN : !member ? AG_ENOTFOUND : AG_OK;
}

ag_status_t
ag_channel_transfer(ag_model_t *m, ag_arena_t *a, int64_t channel_id, int64_t owner_id,
                    int64_t new_owner_id)
{
    char        cid[24], from[24], to[24];
    ag_status_t st;

    if (owner_id == new_owner_id) {
        ag_channel_access_t acc;
        if ((st = ag_channel_access(m, a, channel_id, owner_id, &acc)) != AG_OK)
            return st;
        return acc.role && strcmp(acc.role, "owner") == 0 ? AG_OK : AG_EFORBIDDEN;
    }
    snprintf(cid, sizeof(cid), "%lld", (long long)channel_id);
    snprintf(from, sizeof(from), "%lld", (long long)owner_id);
    snprintf(to, sizeof(to), "%lld", (long long)new_owner_id);
    const char *p[] = {cid, from, to};
    if ((st = ag_db_begin(m->db)) != AG_OK)
        return st;
    if ((st = transfer_check(m, a, p)) == AG_OK)
        st = ag_db_exec(m->db, a,
                        "WITH roles AS (UPDATE memberships SET role = CASE WHEN user_id = "
                        "$3::bigint THEN 'owner' ELSE 'admin' END WHERE channel_id = $1::bigint "
                        "AND user_id IN ($2::bigint, $3::bigint)) "
                        "UPDATE channels SET owner_id = $3::bigint, updated_at = now() "
                        "WHERE id = $1::bigint",
                        3, p, NULL);
    if (st == AG_OK)
        return ag_db_commit(m->db);
    ag_db_rollback(m->db);
    return st;
}
