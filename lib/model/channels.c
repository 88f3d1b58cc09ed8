/* lib/model/channels.c — who may see and change a channel. */
#include "model/model.h"

#include <stdio.h>

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
