/*
 * admin/outbox.c — `agora-admin outbox`: what waits to be published. The
 * outbox never drops an event (workers/outbox.c): one it cannot publish is
 * retried with backoff, so a backlog that only grows older is the operator's
 * signal. First line, for monitoring (stable keys):
 *   outbox: ok|degraded events_pending=N events_oldest_age_s=S
 *           notifications_pending=N notifications_oldest_age_s=S alert_s=A
 * then one line about the oldest of each kind. Exit status 0 ok, 1 degraded
 * (something is undelivered longer than worker_outbox_alert_s), 69 when the
 * stores cannot be read.
 */
#include "admin.h"
#include "content/content.h"
#include "model/model.h"

#include <stdio.h>

#define EX_UNAVAILABLE 69

static int64_t
age_s(int64_t ms, int64_t now)
{
    return ms ? (now - ms) / 1000 : 0;
}

static void
print_oldest_event(const ag_content_outbox_backlog_t *b, int64_t now)
{
    const ag_content_outbox_t *o = &b->oldest;
    if (b->n == 0)
        return;
    printf("oldest event: %s on %s, %lld s old, %lld failed attempts", o->msg_id, o->subject,
           (long long)age_s(o->created_at, now), (long long)o->attempts);
    if (o->next_try_at > now)
        printf(", next try in %lld s", (long long)((o->next_try_at - now + 999) / 1000));
    printf("%s%s\n", *o->last_error ? ", last error: " : "", o->last_error);
}

static void
print_oldest_notification(const ag_notify_backlog_t *b, int64_t now)
{
    if (b->n == 0)
        return;
    printf("oldest notification: %lld, %lld s old, %lld failed attempts%s%s\n",
           (long long)b->oldest_id, (long long)age_s(b->oldest_ms, now), (long long)b->attempts,
           *b->last_error ? ", last error: " : "", b->last_error);
}

int
admin_outbox(admin_t *ad)
{
    ag_model_t                  m = {ad->db, NULL, NULL};
    ag_content_t               *c = NULL;
    ag_arena_t                 *a = ag_arena_new(0);
    ag_content_outbox_backlog_t cb;
    ag_notify_backlog_t         nb;
    char                        err[512];
    int                         rc = EX_UNAVAILABLE;
    int64_t                     alert = ag_config_int(ad->cfg, AG_CFG_worker_outbox_alert_s);

    ag_content_global_init();
    if (a == NULL) {
        fprintf(stderr, "outbox: out of memory\n");
        goto out;
    }
    if (ag_content_open(ad->cfg, ad->db, &c, err, sizeof(err)) != AG_OK) {
        fprintf(stderr, "outbox: content store: %s\n", err);
        goto out;
    }
    if (ag_content_outbox_backlog(c, a, &cb) != AG_OK) {
        fprintf(stderr, "outbox: content store unavailable: %s\n", ag_content_error(c));
        goto out;
    }
    if (ag_notify_backlog(&m, a, &nb) != AG_OK) {
        fprintf(stderr, "outbox: PostgreSQL unavailable: %s\n", ag_db_error(ad->db));
        goto out;
    }
    int64_t now = ag_now_wall_ms();
    int64_t ev_age = cb.n ? age_s(cb.oldest.created_at, now) : 0;
    int64_t nt_age = nb.n ? age_s(nb.oldest_ms, now) : 0;
    bool    degraded = (cb.n && ev_age >= alert) || (nb.n && nt_age >= alert);
    printf("outbox: %s events_pending=%lld events_oldest_age_s=%lld notifications_pending=%lld "
           "notifications_oldest_age_s=%lld alert_s=%lld\n",
           degraded ? "degraded" : "ok", (long long)cb.n, (long long)ev_age, (long long)nb.n,
           (long long)nt_age, (long long)alert);
    print_oldest_event(&cb, now);
    print_oldest_notification(&nb, now);
    rc = degraded ? 1 : 0;
out:
    ag_content_close(c);
    ag_content_global_fini();
    ag_arena_free(a);
    return rc;
}
