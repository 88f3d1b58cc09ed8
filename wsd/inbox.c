/*
 * wsd/inbox.c — how other threads hand work to the loop: nats.c's callbacks
 * (bus.c) and finished jobs (jobs.c) push an item and wake the loop once; the
 * loop drains a batch per wake-up and dispatches each item to its module.
 */
#include "wsd.h"
#include "gqlws.h"
#include "json/json.h"
#include "log/log.h"

#include <stdlib.h>
#include <string.h>

/* items handled per wake-up, so that sockets are written between batches of a burst */
#define WSD_DRAIN_BATCH 256

/*
 * Any thread. ctx is read under wake_mu because main.c clears it (under the same
 * lock) before destroying the context while jobs still run. Not under inbox_mu:
 * the pipe write can switch to the loop on the same core, which would then block on
 * inbox_mu held here (a context switch each way for nothing).
 */
static void
wake_now(wsd_t *w)
{
    pthread_mutex_lock(&w->wake_mu);
    {
        if (w->ctx)
            lws_cancel_service(w->ctx);
    }
    pthread_mutex_unlock(&w->wake_mu);
}

void
wsd_inbox_push(wsd_t *w, wsd_in_t *it)
{
    bool wake;

    it->at_ms = ag_now_mono_ms();
    pthread_mutex_lock(&w->inbox_mu);
    {
        it->next = NULL;
        if (w->in_tail)
            w->in_tail->next = it;
        else
            w->in_head = it;
        w->in_tail = it;
        w->in_len++;
        /* one wake-up until the loop drains: at 1,000 events/s a pipe write per event
         * was a syscall and a context switch each, most of them for nothing */
        wake = !w->wake_pending;
        w->wake_pending = true;
    }
    pthread_mutex_unlock(&w->inbox_mu);
    if (wake)
        wake_now(w);
}

/* any thread: wake the loop (once until it drains) */
void
wsd_wake(wsd_t *w)
{
    bool wake;

    pthread_mutex_lock(&w->inbox_mu);
    {
        wake = !w->wake_pending;
        w->wake_pending = true;
    }
    pthread_mutex_unlock(&w->inbox_mu);
    if (wake)
        wake_now(w);
}

/* A core NATS message: channel events to channels.c, user events to users.c. */
static void
on_core(wsd_t *w, wsd_event_t *e)
{
    size_t      len;
    const char *data = wsd_event_data(e, &len);
    ag_ev_t     ev;

    if (ag_ev_decode(wsd_event_subject(e), data, len, &ev) == AG_OK) {
        w->stamp++;
        switch (ev.subject) {
        case AG_EV_TYPING:
        case AG_EV_CHANNEL_UPDATED:
        case AG_EV_MEMBER:
            wsd_chan_core(w, &ev);
            break;
        case AG_EV_PRESENCE:
        case AG_EV_USER_UPDATED:
        case AG_EV_SUBS_CHANGED:
        case AG_EV_SYNC:
            wsd_user_core(w, &ev);
            break;
        default:
            break; /* not a core event of ours */
        }
    }
    ag_ev_fini(&ev);
}

static void
on_job(wsd_t *w, wsd_job_t *j)
{
    switch (j->kind) {
    case WSD_JOB_LIVE:
        wsd_live_job_done(w, j);
        break;
    case WSD_JOB_SUBS:
        wsd_session_subs_done(w, j);
        break;
    case WSD_JOB_REPLAY:
        if (wsd_replay_job_done(w, j))
            return; /* the attachment owns it until the replay is all sent */
        break;
    case WSD_JOB_READ:
    case WSD_JOB_PRESENCE:
        /* an offset or a presence change must not be lost while Redis is down */
        if (j->st != AG_OK && wsd_job_retry(w, j, 0))
            return;
        break;
    case WSD_JOB_USER_UPDATED:
        if (j->st != AG_OK && wsd_job_retry(w, j, 5))
            return;
        wsd_session_user_updated_done(w, j);
        break;
    case WSD_JOB_CONSUMERS:
        wsd_user_consumers_done(w, j);
        break;
    case WSD_JOB_HEARTBEAT:
        wsd_session_heartbeat_done(w, j);
        break;
    case WSD_JOB_RESYNC:
        wsd_session_resync_done(w, j);
        break;
    case WSD_JOB_STREAM_INFO:
        wsd_live_info_done(w, j);
        break;
    case WSD_JOB_GQL_SUB:
        wsd_gql_sub_job_done(w, j);
        break;
    case WSD_JOB_GQL_EVENTS:
        wsd_gql_events_done(w, j);
        break;
    case WSD_JOB_GQL_REPLAY:
        wsd_gql_replay_done(w, j);
        break;
    }
    wsd_job_free(j);
}

static void
dispatch(wsd_t *w, wsd_in_t *it)
{
    switch (it->kind) {
    case WSD_IN_LIVE:
    case WSD_IN_LIVE_HB:
        wsd_live_event(w, it);
        break;
    case WSD_IN_CORE:
        on_core(w, it->ev);
        break;
    case WSD_IN_USER:
        wsd_user_delivery(w, it);
        break;
    case WSD_IN_NATS:
        w->nats_up = it->up;
        wsd_live_nats(w, it->up);
        if (it->up)
            wsd_users_nats_up(w);
        break;
    case WSD_IN_JOB:
        on_job(w, it->job);
        break;
    }
}

/* loop: everything other threads handed over since the last wake-up (a batch of it) */
void
wsd_inbox_drain(wsd_t *w)
{
    wsd_in_t *it, *next;
    int64_t   now = ag_now_mono_ms();
    size_t    k = 0;
    bool      more;

    pthread_mutex_lock(&w->inbox_mu);
    {
        wsd_in_t *last = NULL;
        w->wake_pending = false; /* what is pushed from now on needs a new wake-up */
        it = w->in_head;
        for (wsd_in_t *p = it; p && k < WSD_DRAIN_BATCH; p = p->next, k++)
            last = p;
        if (last) {
            w->in_head = last->next;
            last->next = NULL;
            if (w->in_head == NULL)
                w->in_tail = NULL;
            w->in_len -= k;
        }
        more = w->in_head != NULL;
    }
    pthread_mutex_unlock(&w->inbox_mu);
    if (more)
        wsd_wake(w); /* come back after this round of writes */
    for (; it; it = next) {
        next = it->next;
        if ((uint64_t)(now - it->at_ms) > w->m.inbox_lag_ms_max)
            w->m.inbox_lag_ms_max = (uint64_t)(now - it->at_ms);
        w->m.events_in++;
        dispatch(w, it);
        wsd_event_free(it->ev); /* NULL when a module kept it */
        free(it);
    }
}

/* Drop whatever other threads left in the inbox after the loop stopped. */
void
wsd_inbox_discard(wsd_t *w)
{
    wsd_in_t *it, *nx;

    /* under the lock: nats.c threads still push until nats_CloseAndWait (an item
     * linked to one being freed here leaked, found by LeakSanitizer) */
    pthread_mutex_lock(&w->inbox_mu);
    {
        it = w->in_head;
        w->in_head = w->in_tail = NULL;
        w->in_len = 0;
    }
    pthread_mutex_unlock(&w->inbox_mu);
    for (; it; it = nx) {
        nx = it->next;
        wsd_job_free(it->job);
        wsd_event_free(it->ev);
        free(it);
    }
}
