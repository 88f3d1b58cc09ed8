/*
 * lib/model/notify.c — notifications: store one, publish it to NOTIFY_STREAM
 * (the one function the writers and the outbox worker share), list them, mark
 * them read, and what the outbox worker needs to retry the unpublished.
 */
#include "model/model_int.h"
#include "log/log.h"

#include <stdio.h>
#include <string.h>

ag_status_t
ag_notify_publish(ag_model_t *m, const ag_notification_t *n)
{
    char    msgid[48];
    ag_ev_t ev = {.subject = AG_EV_NOTIFY,
                  .id = n->user_id,
                  .tok = n->kind,
                  .kind = n->kind,
                  .user_id = n->actor_id,
                  .notification_id = n->id,
                  .channel_id = n->channel_id,
                  .post_id = n->post_id};

    if (m->events == NULL)
        return AG_EUNAVAIL;
    ag_ev_msgid_notify(msgid, sizeof(msgid), n->id);
    return ag_events_js_emit(m->events, &ev, msgid, NULL);
}

ag_status_t
ag_notify_mark_published(ag_model_t *m, ag_arena_t *a, int64_t id)
{
    char        nid[24];
    const char *p[] = {ag_model__id(nid, id)};
    return ag_db_exec(m->db, a, "UPDATE notifications SET published = true WHERE id = $1::bigint",
                      1, p, NULL);
}

ag_status_t
ag_notify(ag_model_t *m, ag_arena_t *a, int64_t user_id, const char *kind, int64_t actor_id,
          int64_t channel_id, const char *post_id, const char *dedupe_key, bool *created)
{
    char              uid[24], actor[24], cid[24];
    ag_db_res_t      *r = NULL;
    ag_notification_t n = {.user_id = user_id,
                           .kind = kind,
                           .actor_id = actor_id,
                           .channel_id = channel_id,
                           .post_id = post_id};
    ag_status_t       st;

    *created = false;
    const char *p[] = {ag_model__id(uid, user_id),
                       kind,
                       ag_model__id(actor, actor_id),
                       channel_id ? ag_model__id(cid, channel_id) : NULL,
                       post_id,
                       dedupe_key};
    /* who may be told is decided in the same statement (AG_ACCESS__NOTIFY_SQL): a block, a
     * level or a membership changed a moment ago is never overtaken by a notification
     * checked before it, and the fanout job pays one round trip per recipient */
    st = ag_db_exec(m->db, a,
                    "INSERT INTO notifications (user_id, kind, actor_id, channel_id, post_id, "
                    "dedupe_key) SELECT $1::bigint, $2, $3::bigint, $4::bigint, $5, $6 "
                    "WHERE " AG_ACCESS__NOTIFY_SQL " "
                    "ON CONFLICT (dedupe_key) DO NOTHING RETURNING id",
                    6, p, &r);
    if (st != AG_OK || ag_db_rows(r) == 0)
        return st; /* a duplicate (same dedupe_key), or refused: success without a new row */
    *created = true;
    n.id = ag_db_i64(r, 0, 0);
    if (ag_notify_publish(m, &n) == AG_OK) {
        if (ag_notify_mark_published(m, a, n.id) != AG_OK)
            ag_log_warn("notification %lld published but not marked; outbox will dedupe",
                        (long long)n.id);
    } else {
        ag_log_warn("notification %lld stored, publish failed (outbox retries): %s",
                    (long long)n.id, m->events ? ag_events_error(m->events) : "no NATS");
    }
    return AG_OK;
}

ag_status_t
ag_notify_list(ag_model_t *m, ag_arena_t *a, int64_t user_id, const ag_page_req_t *pg,
               ag_notification_page_t *out)
{
    char         me[24], after[24], fetch[16];
    ag_db_res_t *r = NULL;
    ag_status_t  st;

    memset(out, 0, sizeof(*out));
    ag_model__page_params(pg, after, fetch);
    const char *p[] = {ag_model__id(me, user_id), after, fetch};
    /* newest first: the cursor is the last id shown, the next page has smaller ids */
    st = ag_db_exec(
        m->db, a,
        "SELECT id, kind, actor_id, channel_id, post_id, read, " AG_MODEL__TS(
            "created_at") " AS created_at FROM notifications "
                          "WHERE user_id = $1::bigint AND ($2::bigint = 0 OR id < $2::bigint) "
                          "ORDER BY id DESC LIMIT $3::int",
        3, p, &r);
    if (st != AG_OK)
        return st;
    out->n = ag_model__page_rows(r, pg->limit, &out->has_next);
    if ((out->items = ag_arena_calloc(a, sizeof(*out->items) * (out->n + 1))) == NULL)
        return AG_ENOMEM;
    for (size_t i = 0; i < out->n; i++) {
        ag_notification_t *n = &out->items[i];
        n->id = ag_db_i64(r, (int)i, 0);
        n->user_id = user_id;
        n->kind = ag_db_val(r, (int)i, 1);
        n->actor_id = ag_db_i64(r, (int)i, 2);
        n->channel_id = ag_db_i64(r, (int)i, 3);
        n->post_id = ag_db_val(r, (int)i, 4);
        n->read = ag_db_bool(r, (int)i, 5);
        n->created_at = ag_db_val(r, (int)i, 6);
    }
    return AG_OK;
}

ag_status_t
ag_notify_mark_read(ag_model_t *m, ag_arena_t *a, int64_t user_id, int64_t up_to)
{
    char        me[24], up[24];
    const char *p[] = {ag_model__id(me, user_id), ag_model__id(up, up_to)};
    return ag_db_exec(m->db, a,
                      "UPDATE notifications SET read = true WHERE user_id = $1::bigint "
                      "AND id <= $2::bigint AND NOT read",
                      2, p, NULL);
}

ag_status_t
ag_notify_pending(ag_model_t *m, ag_arena_t *a, int older_than_s, int64_t due_ms, int limit,
                  ag_notification_t **items, size_t *n)
{
    char         age[16], lim[16], due[24];
    ag_db_res_t *r = NULL;
    ag_status_t  st;

    *items = NULL;
    *n = 0;
    snprintf(age, sizeof(age), "%d", older_than_s);
    snprintf(lim, sizeof(lim), "%d", limit);
    const char *p[] = {age, lim, ag_model__id(due, due_ms)};
    st = ag_db_exec(m->db, a,
                    "SELECT id, user_id, kind, actor_id, channel_id, post_id, "
                    "(extract(epoch FROM created_at) * 1000)::bigint, publish_attempts "
                    "FROM notifications WHERE NOT published "
                    "AND created_at <= now() - make_interval(secs => $1::int) "
                    "AND (next_try_at IS NULL OR next_try_at <= to_timestamp($3::bigint / "
                    "1000.0)) ORDER BY id LIMIT $2::int",
                    3, p, &r);
    if (st != AG_OK)
        return st;
    if ((*items = ag_arena_calloc(a, sizeof(**items) * (size_t)(ag_db_rows(r) + 1))) == NULL)
        return AG_ENOMEM;
    for (int i = 0; i < ag_db_rows(r); i++) {
        ag_notification_t *e = &(*items)[(*n)++];
        e->id = ag_db_i64(r, i, 0);
        e->user_id = ag_db_i64(r, i, 1);
        e->kind = ag_db_val(r, i, 2);
        e->actor_id = ag_db_i64(r, i, 3); /* NULL (the actor is gone): 0 */
        e->channel_id = ag_db_i64(r, i, 4);
        e->post_id = ag_db_val(r, i, 5);
        e->created_ms = ag_db_i64(r, i, 6);
        e->attempts = ag_db_i64(r, i, 7);
    }
    return AG_OK;
}

ag_status_t
ag_notify_backlog(ag_model_t *m, ag_arena_t *a, ag_notify_backlog_t *out)
{
    ag_db_res_t *r = NULL;
    ag_status_t  st;

    memset(out, 0, sizeof(*out));
    out->last_error = "";
    /* notifications_unpublished (a partial index on id) holds exactly these rows */
    st = ag_db_exec(m->db, a,
                    "SELECT count(*) OVER (), id, (extract(epoch FROM created_at) * 1000)::bigint, "
                    "publish_attempts, coalesce(last_error, '') FROM notifications "
                    "WHERE NOT published ORDER BY id LIMIT 1",
                    0, NULL, &r);
    if (st != AG_OK || ag_db_rows(r) == 0)
        return st;
    out->n = ag_db_i64(r, 0, 0);
    out->oldest_id = ag_db_i64(r, 0, 1);
    out->oldest_ms = ag_db_i64(r, 0, 2);
    out->attempts = ag_db_i64(r, 0, 3);
    out->last_error = ag_db_val(r, 0, 4);
    return AG_OK;
}

ag_status_t
ag_notify_retry_later(ag_model_t *m, ag_arena_t *a, int64_t id, int64_t next_try_ms,
                      const char *why, int64_t *attempts)
{
    char         nid[24], next[24];
    ag_db_res_t *r = NULL;
    ag_status_t  st;

    snprintf(nid, sizeof(nid), "%lld", (long long)id);
    snprintf(next, sizeof(next), "%lld", (long long)next_try_ms);
    const char *p[] = {nid, next, why};
    st = ag_db_exec(m->db, a,
                    "UPDATE notifications SET publish_attempts = publish_attempts + 1, "
                    "next_try_at = to_timestamp($2::bigint / 1000.0), last_error = $3 "
                    "WHERE id = $1::bigint RETURNING publish_attempts",
                    3, p, &r);
    if (st != AG_OK)
        return st;
    if (ag_db_rows(r) == 0)
        return AG_ENOTFOUND;
    *attempts = ag_db_i64(r, 0, 0);
    return AG_OK;
}
