/*
 * workers/outbox.c — `agora-worker outbox`: publish what the writers stored
 * but could not publish (NATS down, a crash after the commit). Two sources:
 * the content store's outbox (every post, comment, reply and DM event) and
 * notifications with published = false. Each is republished with its own
 * Nats-Msg-Id, so one that did reach the stream after all is dropped by
 * JetStream's duplicate window, then marked published. Only rows older than
 * worker_outbox_age_s are taken: a younger one may still be in its writer's
 * hands, about to be published and marked.
 *
 * An event is never dropped. A publish that fails while NATS answers (a
 * subject no stream captures, a stream at its limits) defers the event with
 * a bounded exponential backoff: worker_outbox_backoff_s after the first
 * failure, doubling, at most worker_outbox_backoff_max_s. The attempt count,
 * the next try time and the last error live with the event (content store,
 * notifications table), so every cron run on any host respects them, and a
 * deferred event no longer holds up the ones behind it. An event still
 * undelivered worker_outbox_alert_s after it was written is logged as an
 * error at each failed try, and every run that ends with such a backlog
 * says so in one error line; `agora-admin outbox` shows the backlog to
 * operators (exit status 1 when it is past the threshold).
 */
#include "worker.h"
#include "log/log.h"

#include <stdio.h>
#include <string.h>

/* The retry policy of one run, from the configuration. */
typedef struct {
    int64_t started_ms; /* wall clock: an event deferred by this run is not due again in it */
    int64_t base_s, max_s, alert_s;
} policy_t;

/* Seconds to wait after the attempts-th failure: base, doubling, capped at max. */
static int64_t
backoff_s(const policy_t *p, int64_t attempts)
{
    int64_t d = p->base_s;
    for (int64_t i = 1; i < attempts && d < p->max_s; i++)
        d *= 2;
    return d < p->max_s ? d : p->max_s;
}

/* One log line for a failed try: an error once the event is older than the alert threshold. */
static void
log_failed_try(const policy_t *p, const char *what, const char *id, const char *subject,
               int64_t created_ms, int64_t attempts, int64_t delay_s, const char *why)
{
    int64_t age_s = (ag_now_wall_ms() - created_ms) / 1000;
    if (age_s >= p->alert_s)
        ag_log_error("outbox: %s %s (%s) undelivered for %lld s after %lld attempts; "
                     "next try in %lld s: %s",
                     what, id, subject, (long long)age_s, (long long)attempts, (long long)delay_s,
                     why);
    else
        ag_log_warn("outbox: %s %s (%s) not published (attempt %lld); next try in %lld s: %s", what,
                    id, subject, (long long)attempts, (long long)delay_s, why);
}

/* A publish of a content event failed while NATS answers: defer it, never drop it. */
static ag_status_t
content_failed(worker_t *w, const policy_t *p, const ag_content_outbox_t *e)
{
    const char *why = ag_events_error(w->m.events);
    int64_t     tries = 0, delay = backoff_s(p, e->attempts + 1);
    ag_status_t st;

    st = ag_content_outbox_retry_later(w->content, e->msg_id, ag_now_wall_ms() + delay * 1000, why,
                                       &tries);
    if (st != AG_OK)
        return worker_fail(w, st, "outbox retry of %s: %s", e->msg_id,
                           ag_content_error(w->content));
    log_failed_try(p, "event", e->msg_id, e->subject, e->created_at, tries, delay, why);
    w->n.retried++;
    return AG_OK;
}

static ag_status_t
content_events(worker_t *w, ag_arena_t *a, const policy_t *p, int age_s)
{
    ag_content_outbox_t *items = NULL;
    size_t               n = 0;
    /* the store pages at most AG_CONTENT_FIRST_MAX rows at a time */
    int                  page = w->batch < AG_CONTENT_FIRST_MAX ? w->batch : AG_CONTENT_FIRST_MAX;
    ag_status_t          st;

    do {
        ag_arena_reset(a);
        st = ag_content_outbox_pending(w->content, a, age_s, p->started_ms, page, &items, &n);
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
                if ((st = content_failed(w, p, e)) != AG_OK)
                    return st;
                continue;
            }
            if ((st = ag_content_outbox_mark_published(w->content, e->msg_id)) != AG_OK)
                return worker_fail(w, st, "mark %s: %s", e->msg_id, ag_content_error(w->content));
            ag_log_debug("outbox: republished %s on %s", e->msg_id, e->subject);
            w->n.done++;
        }
        /* published rows left the outbox and deferred ones are not due: the next page is new */
    } while (n == (size_t)page && worker_time_left(w));
    return AG_OK;
}

/* A notification's publish failed while NATS answers: defer it, as content_failed does. */
static ag_status_t
notification_failed(worker_t *w, ag_arena_t *a, const policy_t *p, const ag_notification_t *n)
{
    const char *why = ag_events_error(w->m.events);
    int64_t     tries = 0, delay = backoff_s(p, n->attempts + 1);
    char        id[24];
    ag_status_t st;

    st = ag_notify_retry_later(&w->m, a, n->id, ag_now_wall_ms() + delay * 1000, why, &tries);
    if (st != AG_OK)
        return worker_fail(w, st, "notification retry: %s", ag_db_error(w->m.db));
    ag_fmt_i64(id, n->id);
    log_failed_try(p, "notification", id, n->kind, n->created_ms, tries, delay, why);
    w->n.retried++;
    return AG_OK;
}

static ag_status_t
notifications(worker_t *w, ag_arena_t *a, const policy_t *p, int age_s)
{
    ag_notification_t *items = NULL;
    size_t             n = 0;
    ag_status_t        st;

    do {
        ag_arena_reset(a);
        st = ag_notify_pending(&w->m, a, age_s, p->started_ms, w->batch, &items, &n);
        if (st != AG_OK)
            return worker_fail(w, st, "notifications: %s", ag_db_error(w->m.db));
        for (size_t i = 0; i < n; i++) {
            /* the one publish of a notification, the writers' too (lib/model) */
            if (ag_notify_publish(&w->m, &items[i]) != AG_OK) {
                if (ag_events_health(w->m.events) != AG_OK)
                    return worker_fail(w, AG_EUNAVAIL, "publish notification %lld: %s",
                                       (long long)items[i].id, ag_events_error(w->m.events));
                if ((st = notification_failed(w, a, p, &items[i])) != AG_OK)
                    return st;
                continue;
            }
            if ((st = ag_notify_mark_published(&w->m, a, items[i].id)) != AG_OK)
                return worker_fail(w, st, "mark notification: %s", ag_db_error(w->m.db));
            w->n.skipped++; /* counted apart from content events in the summary */
        }
    } while (n == (size_t)w->batch && worker_time_left(w));
    return AG_OK;
}

/*
 * The alert of a run: one error line when the oldest undelivered event or
 * notification is older than worker_outbox_alert_s (whatever the reason:
 * NATS down, a poison event), so that it is in the log every minute until
 * someone acts. A store that cannot be read is logged by its caller.
 */
static void
alert_backlog(worker_t *w, ag_arena_t *a, const policy_t *p)
{
    ag_content_outbox_backlog_t cb;
    ag_notify_backlog_t         nb;
    int64_t                     now = ag_now_wall_ms();

    ag_arena_reset(a);
    if (ag_content_outbox_backlog(w->content, a, &cb) == AG_OK && cb.n > 0 &&
        (now - cb.oldest.created_at) / 1000 >= p->alert_s)
        ag_log_error("outbox: %lld events undelivered, the oldest %s (%s) for %lld s after "
                     "%lld attempts (last error: %s)",
                     (long long)cb.n, cb.oldest.msg_id, cb.oldest.subject,
                     (long long)((now - cb.oldest.created_at) / 1000),
                     (long long)cb.oldest.attempts,
                     *cb.oldest.last_error ? cb.oldest.last_error : "none");
    if (ag_notify_backlog(&w->m, a, &nb) == AG_OK && nb.n > 0 &&
        (now - nb.oldest_ms) / 1000 >= p->alert_s)
        ag_log_error("outbox: %lld notifications undelivered, the oldest %lld for %lld s after "
                     "%lld attempts (last error: %s)",
                     (long long)nb.n, (long long)nb.oldest_id,
                     (long long)((now - nb.oldest_ms) / 1000), (long long)nb.attempts,
                     *nb.last_error ? nb.last_error : "none");
}

ag_status_t
worker_outbox_run(worker_t *w)
{
    ag_arena_t *a = ag_arena_new(64 * 1024);
    int         age = (int)ag_config_int(w->cfg, AG_CFG_worker_outbox_age_s);
    policy_t    p = {.started_ms = ag_now_wall_ms(),
                     .base_s = ag_config_int(w->cfg, AG_CFG_worker_outbox_backoff_s),
                     .max_s = ag_config_int(w->cfg, AG_CFG_worker_outbox_backoff_max_s),
                     .alert_s = ag_config_int(w->cfg, AG_CFG_worker_outbox_alert_s)};
    ag_status_t st;

    if (a == NULL)
        return AG_ENOMEM;
    if (ag_events_health(w->m.events) != AG_OK) {
        ag_log_warn("outbox: NATS unavailable (%s); nothing republished",
                    ag_events_error(w->m.events));
        alert_backlog(w, a, &p);
        ag_arena_free(a);
        return AG_EUNAVAIL;
    }
    st = content_events(w, a, &p, age);
    if (st == AG_OK)
        st = notifications(w, a, &p, age);
    if (st != AG_OK)
        ag_log_warn("outbox: %s", w->why);
    alert_backlog(w, a, &p);
    ag_arena_free(a);
    return st;
}
