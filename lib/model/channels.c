/*
 * lib/model/channels.c — channels: read, list, create, change, delete, and
 * the hand-over of ownership. Who may do which is access.c's to say.
 */
#include "model/model_int.h"

#include <stdio.h>
#include <string.h>

/* Inside the transaction: lock both memberships and check the roles. */
static ag_status_t
transfer_check(ag_model_t *m, ag_arena_t *a, const char *const p[3])
{
    ag_db_res_t        *r = NULL;
    ag_channel_access_t caller = {.exists = true}; /* its role as locked, NULL if it left */
    bool                member = false;
    const char         *why;
    ag_status_t         st;

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
            caller.role = ag_db_val(r, i, 1);
        else
            member = true;
    }
    /* the TRANSFER rule on the locked row: the caller may have been demoted meanwhile */
    if (ag_access_check(&caller, AG_ACCESS_TRANSFER, &why) != AG_OK)
        return AG_EFORBIDDEN;
    return member ? AG_OK : AG_ENOTFOUND;
}

ag_status_t
ag_channel_transfer(ag_model_t *m, ag_arena_t *a, int64_t channel_id, int64_t owner_id,
                    int64_t new_owner_id)
{
    char        cid[24], from[24], to[24];
    ag_status_t st;

    if (owner_id == new_owner_id) {
        ag_channel_access_t acc;
        const char         *why;
        if ((st = ag_channel_access(m, a, channel_id, owner_id, &acc)) != AG_OK)
            return st;
        return ag_access_check(&acc, AG_ACCESS_TRANSFER, &why) == AG_OK ? AG_OK : AG_EFORBIDDEN;
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
    if (st != AG_OK) {
        ag_db_rollback(m->db);
        return st;
    }
    if ((st = ag_db_commit(m->db)) != AG_OK)
        return st;
    ag_model_emit(
        m,
        &(ag_ev_t){.subject = AG_EV_CHANNEL_UPDATED, .id = channel_id, .channel_id = channel_id});
    return AG_OK;
}

#define CHANNEL_COLS                                                                               \
    "c.id, c.name, c.topic, c.visibility, c.owner_id, c.member_count, " AG_MODEL__TS(              \
        "c.created_at") " AS created_at"

/* Row `row` of a result of CHANNEL_COLS and my_role. */
static void
channel_row(const ag_db_res_t *r, int row, ag_channel_t *c)
{
    c->id = ag_db_i64(r, row, 0);
    c->name = ag_db_val(r, row, 1);
    c->topic = ag_db_val(r, row, 2);
    c->visibility = ag_db_val(r, row, 3);
    c->owner_id = ag_db_i64(r, row, 4); /* NULL: 0 */
    c->member_count = ag_db_i64(r, row, 5);
    c->created_at = ag_db_val(r, row, 6);
    c->my_role = ag_db_val(r, row, 7);
}

ag_status_t
ag_channel_get(ag_model_t *m, ag_arena_t *a, int64_t id, int64_t viewer, ag_channel_t **out)
{
    char         ids[24], me[24];
    ag_db_res_t *r = NULL;
    const char  *p[] = {ag_model__id(ids, id), ag_model__id(me, viewer)};
    ag_status_t  st = ag_db_exec(m->db, a,
                                 "SELECT " CHANNEL_COLS ", m.role AS my_role FROM channels c "
                                  "LEFT JOIN memberships m ON m.channel_id = c.id "
                                  "AND m.user_id = $2::bigint WHERE c.id = $1::bigint",
                                 2, p, &r);
    if (st != AG_OK)
        return st;
    if (ag_db_rows(r) == 0)
        return AG_ENOTFOUND;
    if ((*out = ag_arena_alloc(a, sizeof(**out))) == NULL)
        return AG_ENOMEM;
    channel_row(r, 0, *out);
    return AG_OK;
}

ag_status_t
ag_channel_list(ag_model_t *m, ag_arena_t *a, int64_t viewer, bool member_only,
                const ag_page_req_t *pg, ag_channel_page_t *out)
{
    char         after[24], fetch[16], me[24];
    ag_db_res_t *r = NULL;
    ag_status_t  st;

    memset(out, 0, sizeof(*out));
    ag_model__page_params(pg, after, fetch);
    const char *p[] = {after, fetch, ag_model__id(me, viewer), member_only ? "t" : "f"};
    if (member_only) {
        /*
         * The viewer's channels, from their memberships in channel order
         * (memberships_by_user). A statement of its own, planned once per connection:
         * in the shared one below the flag made PostgreSQL plan on every execution.
         */
        st = ag_db_exec_generic(m->db, a,
                                "SELECT " CHANNEL_COLS ", m.role AS my_role FROM memberships m "
                                "JOIN channels c ON c.id = m.channel_id "
                                "WHERE m.user_id = $3::bigint AND m.channel_id > $1::bigint "
                                "ORDER BY m.channel_id LIMIT $2::int",
                                3, p, &r);
    } else {
        /* every public channel and the viewer's private ones (the read rule of access.c) */
        st = ag_db_exec(m->db, a,
                        "SELECT " CHANNEL_COLS ", m.role AS my_role FROM channels c "
                        "LEFT JOIN memberships m ON m.channel_id = c.id AND m.user_id = $3::bigint "
                        "WHERE c.id > $1::bigint AND (m.user_id IS NOT NULL OR "
                        "(NOT $4::bool AND c.visibility = 'public')) ORDER BY c.id LIMIT $2::int",
                        4, p, &r);
    }
    if (st != AG_OK)
        return st;
    out->n = ag_model__page_rows(r, pg->limit, &out->has_next);
    if ((out->items = ag_arena_alloc(a, sizeof(*out->items) * (out->n + 1))) == NULL)
        return AG_ENOMEM;
    for (size_t i = 0; i < out->n; i++)
        channel_row(r, (int)i, &out->items[i]);
    return AG_OK;
}

ag_status_t
ag_channel_create(ag_model_t *m, ag_arena_t *a, int64_t owner_id, const char *name,
                  const char *topic, const char *visibility, int64_t *id)
{
    char         me[24];
    ag_db_res_t *r = NULL;
    ag_status_t  st;

    const char *p[] = {name, topic, visibility, ag_model__id(me, owner_id)};
    /* the channel and its owner's membership in one statement: never one without the other */
    st = ag_db_exec(m->db, a,
                    "WITH c AS (INSERT INTO channels (name, topic, visibility, owner_id) "
                    "VALUES ($1, $2, $3, $4::bigint) RETURNING id), "
                    "m AS (INSERT INTO memberships (channel_id, user_id, role) "
                    "SELECT id, $4::bigint, 'owner' FROM c) SELECT id FROM c",
                    4, p, &r);
    if (st != AG_OK)
        return st;
    *id = ag_db_i64(r, 0, 0);
    ag_subs_changed(m, owner_id, *id, true);
    ag_model_emit(m, &(ag_ev_t){.subject = AG_EV_MEMBER,
                                .id = *id,
                                .tok = AG_EV_JOINED,
                                .channel_id = *id,
                                .user_id = owner_id});
    return AG_OK;
}

ag_status_t
ag_channel_update(ag_model_t *m, ag_arena_t *a, int64_t id, const ag_channel_patch_t *pt)
{
    char        ids[24];
    ag_status_t st;

    const char *p[] = {ag_model__id(ids, id), pt->name, pt->set_topic ? "t" : "f", pt->topic,
                       pt->visibility};
    st = ag_db_exec(m->db, a,
                    "UPDATE channels SET name = coalesce($2, name), "
                    "topic = CASE WHEN $3::bool THEN $4 ELSE topic END, "
                    "visibility = coalesce($5, visibility), updated_at = now() "
                    "WHERE id = $1::bigint",
                    5, p, NULL);
    if (st != AG_OK)
        return st;
    ag_model_emit(m, &(ag_ev_t){.subject = AG_EV_CHANNEL_UPDATED, .id = id, .channel_id = id});
    return AG_OK;
}

ag_status_t
ag_channel_delete(ag_model_t *m, ag_arena_t *a, int64_t id)
{
    char         ids[24];
    ag_db_res_t *r = NULL;
    ag_status_t  st;

    const char *p[] = {ag_model__id(ids, id)};
    /* read the members before the cascade removes them: their subscriptions change */
    st = ag_db_exec(m->db, a,
                    "WITH gone AS (DELETE FROM channels WHERE id = $1::bigint RETURNING id) "
                    "SELECT m.user_id FROM memberships m WHERE m.channel_id = $1::bigint",
                    1, p, &r);
    if (st != AG_OK)
        return st;
    for (int i = 0; i < ag_db_rows(r); i++)
        ag_subs_changed(m, ag_db_i64(r, i, 0), id, false);
    ag_model_emit(
        m,
        &(ag_ev_t){.subject = AG_EV_CHANNEL_UPDATED, .id = id, .channel_id = id, .deleted = true});
    return AG_OK;
}
