/*
 * lib/model/members.c — memberships: list, read, add or change a role,
 * remove. A change happens only while the member's role is still the one
 * the access rules (access.c) decided on, so that a concurrent promotion or
 * transfer makes it a conflict, never a change the rules would have refused.
 */
#include "model/model_int.h"

#include <string.h>

#define MEMBER_COLS                                                                                \
    "m.user_id, u.username, u.display_name, m.role, " AG_MODEL__TS("m.joined_at") " AS joined_at"

static void
member_row(const ag_db_res_t *r, int row, ag_member_t *mb)
{
    mb->user_id = ag_db_i64(r, row, 0);
    mb->username = ag_db_val(r, row, 1);
    mb->display_name = ag_db_val(r, row, 2);
    mb->role = ag_db_val(r, row, 3);
    mb->joined_at = ag_db_val(r, row, 4);
}

/* uid joined or left cid: the user's subscriptions, then the channel's member event. */
static void
member_event(ag_model_t *m, int64_t cid, int64_t uid, bool joined)
{
    ag_subs_changed(m, uid, cid, joined);
    ag_model_emit(m, &(ag_ev_t){.subject = AG_EV_MEMBER,
                                .id = cid,
                                .tok = joined ? AG_EV_JOINED : AG_EV_LEFT,
                                .channel_id = cid,
                                .user_id = uid});
}

ag_status_t
ag_member_list(ag_model_t *m, ag_arena_t *a, int64_t channel_id, const ag_page_req_t *pg,
               ag_member_page_t *out)
{
    char         c[24], after[24], fetch[16];
    ag_db_res_t *r = NULL;
    ag_status_t  st;

    memset(out, 0, sizeof(*out));
    ag_model__page_params(pg, after, fetch);
    const char *p[] = {ag_model__id(c, channel_id), after, fetch};
    st = ag_db_exec(m->db, a,
                    "SELECT " MEMBER_COLS " FROM memberships m "
                    "JOIN users u ON u.id = m.user_id WHERE m.channel_id = $1::bigint "
                    "AND m.user_id > $2::bigint ORDER BY m.user_id LIMIT $3::int",
                    3, p, &r);
    if (st != AG_OK)
        return st;
    out->n = ag_model__page_rows(r, pg->limit, &out->has_next);
    if ((out->items = ag_arena_alloc(a, sizeof(*out->items) * (out->n + 1))) == NULL)
        return AG_ENOMEM;
    for (size_t i = 0; i < out->n; i++)
        member_row(r, (int)i, &out->items[i]);
    return AG_OK;
}

ag_status_t
ag_member_get(ag_model_t *m, ag_arena_t *a, int64_t channel_id, int64_t user_id, ag_member_t **out)
{
    char         c[24], u[24];
    ag_db_res_t *r = NULL;
    const char  *p[] = {ag_model__id(c, channel_id), ag_model__id(u, user_id)};
    ag_status_t  st = ag_db_exec(m->db, a,
                                 "SELECT " MEMBER_COLS " FROM memberships m "
                                  "JOIN users u ON u.id = m.user_id "
                                  "WHERE m.channel_id = $1::bigint AND m.user_id = $2::bigint",
                                 2, p, &r);
    if (st != AG_OK)
        return st;
    if (ag_db_rows(r) == 0)
        return AG_ENOTFOUND;
    if ((*out = ag_arena_alloc(a, sizeof(**out))) == NULL)
        return AG_ENOMEM;
    member_row(r, 0, *out);
    return AG_OK;
}

ag_status_t
ag_member_put(ag_model_t *m, ag_arena_t *a, int64_t channel_id, int64_t user_id, const char *role,
              const char *expected_role, bool *inserted)
{
    char         c[24], u[24];
    ag_db_res_t *r = NULL;
    ag_status_t  st;

    *inserted = false;
    /* insert, or change the role of an existing member while it is still $4 */
    const char *p[] = {ag_model__id(c, channel_id), ag_model__id(u, user_id), role, expected_role};
    st = ag_db_exec(m->db, a,
                    "INSERT INTO memberships (channel_id, user_id, role) "
                    "VALUES ($1::bigint, $2::bigint, coalesce($3, 'member')) "
                    "ON CONFLICT (channel_id, user_id) DO UPDATE SET "
                    "role = coalesce($3, memberships.role) "
                    "WHERE memberships.role IS NOT DISTINCT FROM $4::text "
                    "RETURNING (xmax = 0) AS inserted",
                    4, p, &r);
    if (st != AG_OK)
        return st; /* AG_ENOTFOUND: no such user (the foreign key) */
    if (ag_db_rows(r) == 0)
        return AG_ECONFLICT;
    if ((*inserted = ag_db_bool(r, 0, 0)))
        member_event(m, channel_id, user_id, true);
    return AG_OK;
}

ag_status_t
ag_member_remove(ag_model_t *m, ag_arena_t *a, int64_t channel_id, int64_t user_id,
                 const char *expected_role)
{
    char                c[24], u[24];
    ag_db_res_t        *r = NULL;
    ag_channel_access_t now;
    ag_status_t         st;

    const char *p[] = {ag_model__id(c, channel_id), ag_model__id(u, user_id), expected_role};
    st =
        ag_db_exec(m->db, a,
                   "DELETE FROM memberships WHERE channel_id = $1::bigint AND user_id = $2::bigint "
                   "AND role = $3 RETURNING 1",
                   3, p, &r);
    if (st != AG_OK)
        return st;
    if (ag_db_rows(r) == 1) {
        member_event(m, channel_id, user_id, false);
        return AG_OK;
    }
    /* nothing removed: the user left meanwhile (done), or its role changed (conflict) */
    if ((st = ag_channel_access(m, a, channel_id, user_id, &now)) != AG_OK)
        return st;
    return now.role != NULL ? AG_ECONFLICT : AG_OK;
}
