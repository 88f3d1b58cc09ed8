/* lib/model/notify.c — store a notification, then publish it to NOTIFY_STREAM. */
#include "model/model.h"
#include "log/log.h"

#include <stdio.h>
#include <string.h>

ag_status_t
ag_notify(ag_model_t *m, ag_arena_t *a, int64_t user_id, const char *kind, int64_t actor_id,
          int64_t channel_id, const char *post_id, const char *dedupe_key, bool *created)
{
    char         uid[24], actor[24], cid[24], subj[96], msgid[48];
    ag_db_res_t *r = NULL;
    ag_status_t  st;

    *created = false;
    snprintf(uid, sizeof(uid), "%lld", (long long)user_id);
    snprintf(actor, sizeof(actor), "%lld", (long long)actor_id);
    snprintf(cid, sizeof(cid), "%lld", (long long)channel_id);
    const char *p[] = {uid, kind, actor, channel_id ? cid : NULL, post_id, dedupe_key};
    /* who may be told decides in the same statement: a block, a level or a membership
     * changed a moment ago is never overtaken by a notification checked before it, and
     * the fanout job pays one round trip per recipient */
    st = ag_db_exec(m->db, a,
                    "INSERT INTO notifications (user_id, kind, actor_id, channel_id, post_id, "
                    "dedupe_key) SELECT $1::bigint, $2, $3::bigint, $4::bigint, $5, $6 "
                    "WHERE NOT EXISTS (SELECT 1 FROM user_blocks WHERE blocker_id = $1::bigint "
                    "AND blocked_id = $3::bigint) AND ($4::bigint IS NULL OR EXISTS (SELECT 1 "
                    "FROM channels c WHERE c.id = $4::bigint AND (c.visibility = 'public' OR "
                    "EXISTS (SELECT 1 FROM memberships mb WHERE mb.channel_id = c.id AND "
                    "mb.user_id = $1::bigint)))) AND coalesce((SELECT level FROM "
                    "channel_notify_levels WHERE user_id = $1::bigint AND channel_id = "
                    "$4::bigint), 'all') IN ('all', CASE WHEN $2 = 'mention' THEN 'mentions' END) "
                    "ON CONFLICT (dedupe_key) DO NOTHING RETURNING id",
                    6, p, &r);
    if (st != AG_OK || ag_db_rows(r) == 0)
        return st; /* a duplicate (same dedupe_key), or refused: success without a new row */
    *created = true;
    const char *nid = ag_db_val(r, 0, 0);
    ag_buf_t    b;
    ag_buf_init(&b);
    ag_buf_puts(&b, "{\"kind\":");
    ag_json_escape(&b, kind, strlen(kind));
    ag_buf_printf(&b, ",\"userId\":\"%s\",\"notificationId\":\"%s\"", actor, nid);
    if (channel_id)
        ag_buf_printf(&b, ",\"channelId\":\"%s\"", cid);
    if (post_id) {
        ag_buf_puts(&b, ",\"postId\":");
        ag_json_escape(&b, post_id, strlen(post_id));
    }
    ag_buf_puts(&b, "}");
    snprintf(subj, sizeof(subj), "user.%s.notify.%s", uid, kind);
    snprintf(msgid, sizeof(msgid), "notify-%s", nid);
    if (m->events && ag_events_js_publish(m->events, subj, b.data, b.len, msgid, NULL) == AG_OK) {
        const char *p2[] = {nid};
        if (ag_db_exec(m->db, a, "UPDATE notifications SET published = true WHERE id = $1::bigint",
                       1, p2, NULL) != AG_OK)
            ag_log_warn("notification %s published but not marked; outbox will dedupe", nid);
    } else {
        ag_log_warn("notification %s stored, publish failed (outbox retries): %s", nid,
                    m->events ? ag_events_error(m->events) : "no NATS");
    }
    ag_buf_fini(&b);
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
