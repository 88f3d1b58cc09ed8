/*
 * workers/outbox.c — `agora-worker outbox`: publish what the writers stored
 * but could not publish (NATS down, a crash after the commit). Two sources:
 * the content store's outbox (every post, comment, reply and DM event) and
 * notifications with published = false. Each is republished with its own
 * Nats-Msg-Id, so one that did reach the stream after all is dropped by
 * JetStream's duplicate window, then marked published. Only rows older than
 * worker_outbox_age_s are taken: a younger one may still be in its writer's
 * hands, about to be published and marked.
 */
#include "worker.h"
#include "log/log.h"

#include <stdio.h>
#include <string.h>

/*
 * A publish failed while NATS answers: the event itself is at fault (a
 * subject no stream captures). Count the attempt; at worker_max_deliver,
 * dead-letter it (logged, worker_deadletters, core deadletter.outbox) and
 * mark it published so that it stops holding up the rows behind it.
 */
static ag_status_t
event_failed(worker_t *w, ag_arena_t *a, const ag_content_outbox_t *e)
{
    ag_db_res_t *r = NULL;
    ag_status_t  st;
    const char  *p[] = {e->msg_id, ag_events_error(w->m.events)};

    st = ag_db_exec(w->m.db, a,
                    "INSERT INTO worker_outbox_attempts (msg_id, attempts, last_error) "
                    "VALUES ($1, 1, $2) ON CONFLICT (msg_id) DO UPDATE SET "
                    "attempts = worker_outbox_attempts.attempts + 1, last_error = $2, "
                    "updated_at = now() RETURNING attempts",
                    2, p, &r);
    if (st != AG_OK)
        return worker_fail(w, st, "outbox attempts: %s", ag_db_error(w->m.db));
    int64_t tries = ag_db_i64(r, 0, 0);
    if (tries < w->max_deliver) {
        ag_log_warn("outbox: %s on %s failed (attempt %lld): %s", e->msg_id, e->subject,
                    (long long)tries, p[1]);
        w->n.retried++;
        return AG_OK;
    }
    const char *why = ag_arena_printf(a, "publish failed %lld times: %s", (long long)tries, p[1]);
    if ((st = worker_deadletter_record(w, a, e->msg_id, e->subject, tries, why, e->payload)) != AG_OK)
        return worker_fail(w, st, "dead letter: %s", ag_db_error(w->m.db));
    ag_json_t *o = ag_json_obj();
    size_t     len = 0;
    ag_json_set_str(o, "job", "outbox");
    ag_json_set_str(o, "subject", e->subject);
    ag_json_set_str(o, "msgId", e->msg_id);
    ag_json_set_str(o, "reason", why);
    ag_json_set_str(o, "data", e->payload);
    const char *text = ag_json_dump(o, &len);
    ag_events_publish(w->m.events, "deadletter.outbox", text, len);   /* best effort */
    ag_json_free(o);
    ag_log_warn("outbox: dead-lettered %s (%s): %s", e->msg_id, e->subject, why);
    w->n.deadlettered++;
    if ((st = ag_content_outbox_mark_published(w->content, e->msg_id)) != AG_OK)
        return worker_fail(w, st, "mark %s: %s", e->msg_id, ag_content_error(w->content));
    return AG_OK;
}

static ag_status_t
content_events(worker_t *w, ag_arena_t *a, int age_s)
{
    ag_content_outbox_t *items = NULL;
    size_t               n = 0;
    bool                 failed = false;
    /* the store pages at most AG_CONTENT_FIRST_MAX rows at a time */
    int                  page = w->batch < AG_CONTENT_FIRST_MAX ? w->batch : AG_CONTENT_FIRST_MAX;
    ag_status_t          st;

    do {
        ag_arena_reset(a);
        st = ag_content_outbox_pending(w->content, a, age_s, page, &items, &n);
        if (st != AG_OK)
            return worker_fail(w, st, "content outbox: %s", ag_content_error(w->content));
        for (size_t i = 0; i < n; i++) {
            const ag_content_outbox_t *e = &items[i];
            st = ag_events_js_publish(w->m.events, e->subject, e->payload, strlen(e->payload),
                                      e->msg_id, NULL);
            if (st != AG_OK) {
                if (ag_events_health(w->m.events) != AG_OK)
                    return worker_fail(w, AG_EUNAVAIL, "publish %s: %s", e->msg_id,
                                       ag_events_error(w->m.events));
                if ((st = event_failed(w, a, e)) != AG_OK)
                    return st;
                failed = true;
                continue;
            }
            if ((st = ag_content_outbox_mark_published(w->content, e->msg_id)) != AG_OK)
                return worker_fail(w, st, "mark %s: %s", e->msg_id, ag_content_error(w->content));
            ag_log_debug("outbox: republished %s on %s", e->msg_id, e->subject);
            w->n.done++;
        }
        /* rows that failed come first again: the next page would be this one; next run */
    } while (!failed && n == (size_t)page && worker_time_left(w));
    return AG_OK;
}

/* The event ag_notify() publishes; keep the two in step (lib/model/notify.c). */
static ag_status_t
publish_notification(worker_t *w, const ag_db_res_t *r, int row)
{
    const char *nid = ag_db_val(r, row, 0), *uid = ag_db_val(r, row, 1);
    const char *kind = ag_db_val(r, row, 2), *actor = ag_db_val(r, row, 3);
    const char *cid = ag_db_val(r, row, 4), *post = ag_db_val(r, row, 5);
    char        subj[96], msgid[48];
    ag_buf_t    b;
    ag_status_t st;

    ag_buf_init(&b);
    ag_buf_puts(&b, "{\"kind\":");
    ag_json_escape(&b, kind, strlen(kind));
    ag_buf_printf(&b, ",\"userId\":\"%s\",\"notificationId\":\"%s\"", actor ? actor : "0", nid);
    if (cid)
        ag_buf_printf(&b, ",\"channelId\":\"%s\"", cid);
    if (post) {
        ag_buf_puts(&b, ",\"postId\":");
        ag_json_escape(&b, post, strlen(post));
    }
    ag_buf_puts(&b, "}");
    snprintf(subj, sizeof(subj), "user.%s.notify.%s", uid, kind);
    snprintf(msgid, sizeof(msgid), "notify-%s", nid);
    st = ag_events_js_publish(w->m.events, subj, b.data, b.len, msgid, NULL);
    ag_buf_fini(&b);
    if (st != AG_OK)
        return worker_fail(w, st, "publish %s: %s", msgid, ag_events_error(w->m.events));
    return AG_OK;
}

static ag_status_t
notifications(worker_t *w, ag_arena_t *a, int age_s)
{
    ag_db_res_t *r = NULL;
    char         age[16], lim[16];
    int          rows;
    ag_status_t  st;

    snprintf(age, sizeof(age), "%d", age_s);
    snprintf(lim, sizeof(lim), "%d", w->batch);
    do {
        ag_arena_reset(a);
        const char *p[] = {age, lim};
        st = ag_db_exec(w->m.db, a,
                        "SELECT id, user_id, kind, actor_id, channel_id, post_id FROM notifications "
                        "WHERE NOT published AND created_at <= now() - make_interval(secs => $1::int) "
                        "ORDER BY id LIMIT $2::int",
                        2, p, &r);
        if (st != AG_OK)
            return worker_fail(w, st, "notifications: %s", ag_db_error(w->m.db));
        rows = ag_db_rows(r);
        for (int i = 0; i < rows; i++) {
            if ((st = publish_notification(w, r, i)) != AG_OK)
                return st;
            const char *id[] = {ag_db_val(r, i, 0)};
            st = ag_db_exec(w->m.db, a, "UPDATE notifications SET published = true "
                            "WHERE id = $1::bigint", 1, id, NULL);
            if (st != AG_OK)
                return worker_fail(w, st, "mark notification: %s", ag_db_error(w->m.db));
            w->n.skipped++;   /* counted apart from content events in the summary */
        }
    } while (rows == w->batch && worker_time_left(w));
    return AG_OK;
}

ag_status_t
worker_outbox_run(worker_t *w)
{
    ag_arena_t *a = ag_arena_new(64 * 1024);
    int         age = (int)ag_config_int(w->cfg, AG_CFG_worker_outbox_age_s);
    ag_status_t st;

    if (a == NULL)
        return AG_ENOMEM;
    if (ag_events_health(w->m.events) != AG_OK) {
        ag_log_warn("outbox: NATS unavailable (%s); nothing republished",
                    ag_events_error(w->m.events));
        ag_arena_free(a);
        return AG_EUNAVAIL;
    }
    st = content_events(w, a, age);
    if (st == AG_OK)
        st = notifications(w, a, age);
    if (st != AG_OK)
        ag_log_warn("outbox: %s", w->why);
    ag_arena_free(a);
    return st;
}
