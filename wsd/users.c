/*
 * wsd/users.c — users with a local session: their DMs and notifications,
 * presence, and what one device tells the others (loop thread).
 *
 * DMs and notifications: one durable consumer per user and stream
 * (wsd-dm-<id>, wsd-notify-<id>) delivering to _wsd.user.<id>.dm|notify with
 * no queue group, so every daemon holding a session of the user gets every
 * event (bus.c). The daemon delivers it to every local session of the user
 * and keeps it (wsd_pend_t) until one session acks it; then it is acked to
 * JetStream and user.<id>.sync.ack tells the other daemons to forget it. When
 * the user's last local session closes, the subscription is released (the
 * consumers stay on the server) and what is pending is nak'ed, so the next
 * connection gets it at once. An open session gets each event once: JetStream's
 * redelivery after ws_ack_wait_s of what nobody acked is kept, not sent again. The consumers' idle
 * heartbeats show that they still exist; silent for three periods while connected, they are created
 * again (deleted by an operator, or their stream recreated).
 *
 * `read` on one session moves the user's offset (store.c); when it moved,
 * user.<id>.sync.read reaches every daemon, which sends read_state to the
 * user's other sessions.
 */
#include "wsd.h"
#include "protocol.h"
#include "json/json.h"
#include "log/log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* unacked events kept per user and daemon: the consumers' MaxAckPending, twice */
#define PEND_MAX 512

wsd_user_t *
wsd_user_get(wsd_t *w, int64_t uid, bool create)
{
    wsd_user_t *u = wsd_map_get(&w->users, uid);
    if (u || !create)
        return u;
    if ((u = calloc(1, sizeof(*u))) == NULL)
        return NULL;
    u->id = uid;
    u->w = w;
    u->core = wsd_bus_sub_user(w, uid);
    if (wsd_map_put(&w->users, uid, u) != 0) {
        wsd_bus_unsub(u->core);
        free(u);
        return NULL;
    }
    return u;
}

static void
pend_free(wsd_pend_t *pe)
{
    wsd_event_free(pe->ev);
    wsd_msg_unref(pe->frame);
}

/* The last local session is gone: no more deliveries here; what is pending goes back. */
static void
release_inbox(wsd_t *w, wsd_user_t *u)
{
    wsd_bus_unsub(u->inbox);
    u->inbox = NULL;
    u->consumers_ok = false;
    for (size_t i = 0; i < u->npend; i++) {
        wsd_event_nak(w, u->pend[i].ev); /* redelivered at once to the next session */
        pend_free(&u->pend[i]);
    }
    u->npend = 0;
}

static void
user_free(wsd_t *w, wsd_user_t *u)
{
    wsd_map_del(&w->users, u->id);
    if (u->grace_armed)
        lws_sul_cancel(&u->grace);
    release_inbox(w, u);
    wsd_replay_user_gone(w, u);
    wsd_bus_unsub(u->core);
    free(u->pend);
    free(u->sess);
    free(u->typing);
    free(u);
}

void
wsd_user_free_all(wsd_t *w)
{
    size_t n;
    void **us = wsd_map_values(&w->users, &n);
    for (size_t i = 0; us && i < n; i++) {
        wsd_user_t *u = us[i];
        u->grace_armed = false; /* the context, and its timer list, are gone */
        user_free(w, u);
    }
    free(us);
}

void
wsd_user_presence(wsd_t *w, wsd_user_t *u, bool up)
{
    wsd_job_t *j = wsd_job_new(WSD_JOB_PRESENCE);
    if (j == NULL)
        return;
    j->uid = u->id;
    j->up = up;
    u->online = up;
    wsd_job_submit(w, j);
}

static void
consumers_job(wsd_t *w, wsd_user_t *u)
{
    wsd_job_t *j = wsd_job_new(WSD_JOB_CONSUMERS);
    if (j == NULL)
        return;
    j->uid = u->id;
    u->consumers_pending = true;
    u->consumers_retry_ms = 0;
    wsd_job_submit(w, j);
}

/* loop: the grace period after a user's last local session ended */
static void
grace_cb(lws_sorted_usec_list_t *sul)
{
    wsd_user_t *u = lws_container_of(sul, wsd_user_t, grace);
    wsd_t      *w = u->w;

    u->grace_armed = false;
    if (u->n > 0)
        return;
    if (u->online)
        wsd_user_presence(w, u, false);
    user_free(w, u);
}

void
wsd_user_session_added(wsd_t *w, wsd_user_t *u)
{
    if (u->grace_armed) {
        lws_sul_cancel(&u->grace);
        u->grace_armed = false;
    }
    if (!u->online)
        wsd_user_presence(w, u, true);
    /* subscribe first: the consumers deliver only where there is interest */
    if (u->inbox == NULL)
        u->inbox = wsd_bus_sub_user_inbox(w, u->id);
    if (!u->consumers_ok && !u->consumers_pending)
        consumers_job(w, u);
    if (u->resync_ms == 0)
        u->resync_ms = ag_now_mono_ms() + w->resync_ms / 2 + random() % (w->resync_ms / 2 + 1);
}

void
wsd_user_session_removed(wsd_t *w, wsd_user_t *u)
{
    release_inbox(w, u);
    wsd_replay_user_gone(w, u);
    if (w->stopping) {
        /* no timers while the context goes away: say offline now */
        if (u->online)
            wsd_user_presence(w, u, false);
        user_free(w, u);
        return;
    }
    u->grace_armed = true;
    lws_sul_schedule(w->ctx, 0, &u->grace, grace_cb, (lws_usec_t)w->grace_ms * 1000);
}

void
wsd_user_consumers_done(wsd_t *w, wsd_job_t *j)
{
    wsd_user_t *u = wsd_user_get(w, j->uid, false);
    int64_t     wait;

    if (u == NULL)
        return;
    u->consumers_pending = false;
    if (u->n == 0 || w->stopping)
        return;
    if (j->st != AG_OK) { /* NATS down or JetStream not ready: the tick tries again */
        wait = 1000LL << (u->consumers_fails < 3 ? u->consumers_fails : 3);
        u->consumers_fails++;
        u->consumers_retry_ms = ag_now_mono_ms() + wait;
        w->m.job_retries++;
        return;
    }
    u->consumers_ok = true;
    u->consumers_ok_ms = ag_now_mono_ms();
    u->consumers_fails = 0;
}

/* ---- deliveries ----------------------------------------------------------------- */
static void
send_pend(wsd_t *w, wsd_user_t *u, wsd_pend_t *pe)
{
    for (size_t i = 0; i < u->n; i++)
        if (u->sess[i]->ready)
            wsd_sess_send(w, u->sess[i], pe->frame);
}

void
wsd_user_send_pending(wsd_t *w, wsd_sess_t *s)
{
    for (size_t i = 0; i < s->user->npend; i++)
        wsd_sess_send(w, s, s->user->pend[i].frame);
}

/*
 * The frame of a DM_STREAM event (CONTRACT §4, §9): a new DM has no type; edits,
 * deletes and reactions say theirs. NULL when malformed.
 */
static wsd_msg_t *
dm_frame(const ag_ev_t *ev, uint64_t seq)
{
    ag_buf_t   emoji;
    wsd_msg_t *m = NULL;

    if (ev->from <= 0)
        return NULL;
    if (ev->type == NULL || strcmp(ev->type, AG_EV_DM_UPDATED) == 0 ||
        strcmp(ev->type, AG_EV_DM_DELETED) == 0)
        return wsd_token_ok(ev->message_id)
                   ? wsd_msg_printf(false,
                                    "{\"type\":\"%s\",\"from\":\"%lld\",\"messageId\":\"%s\","
                                    "\"seq\":%llu}",
                                    ev->type ? ev->type : "dm", (long long)ev->from, ev->message_id,
                                    (unsigned long long)seq)
                   : NULL;
    if (strcmp(ev->type, AG_EV_DM_REACTION) != 0)
        return NULL;
    if (wsd_reaction_ok(ev, &emoji))
        m = wsd_msg_printf(false,
                           "{\"type\":\"reaction\",\"from\":\"%lld\",\"targetId\":\"%s\","
                           "\"emoji\":%s,\"op\":\"%s\",\"seq\":%llu}",
                           (long long)ev->from, ev->target_id, emoji.data, ev->op,
                           (unsigned long long)seq);
    ag_buf_fini(&emoji);
    return m;
}

/* The client frame of a DM or notification delivery (CONTRACT §4), NULL when malformed. */
static wsd_msg_t *
delivery_frame(int stream, uint64_t seq, wsd_event_t *e)
{
    size_t      len;
    const char *data = wsd_event_data(e, &len);
    ag_ev_t     ev;
    wsd_msg_t  *m = NULL;

    if (ag_ev_decode(wsd_event_subject(e), data, len, &ev) != AG_OK) {
        ag_ev_fini(&ev);
        return NULL;
    }
    /* the sender of a DM is a user; the actor of a notification may be "0" (deleted) */
    if (stream == WSD_DM && ev.subject == AG_EV_DM)
        m = dm_frame(&ev, seq);
    else if (stream == WSD_NOTIFY && ev.subject == AG_EV_NOTIFY && wsd_token_ok(ev.kind) &&
             AG_EV_HAS(&ev, user_id))
        m = wsd_msg_printf(false,
                           "{\"type\":\"notification\",\"kind\":\"%s\","
                           "\"userId\":\"%lld\",\"seq\":%llu}",
                           ev.kind, (long long)ev.user_id, (unsigned long long)seq);
    ag_ev_fini(&ev);
    return m;
}

void
wsd_user_delivery(wsd_t *w, wsd_in_t *it)
{
    wsd_user_t *u = wsd_user_get(w, it->uid, false);
    wsd_msg_t  *m;
    wsd_pend_t *pe = NULL;

    if (u == NULL || u->n == 0 || u->inbox == NULL) {
        wsd_event_nak(w, it->ev); /* no session here any more: the next one gets it */
        return;
    }
    for (size_t i = 0; i < u->npend; i++)
        if (u->pend[i].stream == it->stream && u->pend[i].seq == it->sseq) {
            /*
             * JetStream's redelivery after AckWait of what no session acked yet. Every
             * ready session here has had it (it went to each one then, and
             * wsd_user_send_pending gives pending ones to each new session), and an
             * open session loses no frame: sending it again is the duplicate clients
             * saw. Keep the newer message (its reply subject is the one to ack).
             */
            pe = &u->pend[i];
            wsd_event_free(pe->ev);
            pe->ev = it->ev;
            it->ev = NULL;
            return;
        }
    if ((m = delivery_frame(it->stream, it->sseq, it->ev)) == NULL) {
        ag_log_warn("wsd: malformed event on %s dropped", wsd_event_subject(it->ev));
        wsd_event_ack(w, it->ev); /* never deliverable: do not let it come back */
        return;
    }
    if (u->npend == PEND_MAX) {
        /* acked elsewhere and never told, most likely: forget the oldest (not acked:
         * JetStream redelivers it if it was not) */
        pend_free(&u->pend[0]);
        memmove(&u->pend[0], &u->pend[1], (u->npend - 1) * sizeof(*u->pend));
        u->npend--;
    }
    if (AG_ARRAY_RESERVE(u->pend, u->cappend, u->npend + 1, 8) != AG_OK) {
        wsd_msg_unref(m);
        return; /* not acked: redelivered after AckWait */
    }
    pe = &u->pend[u->npend++];
    pe->stream = it->stream;
    pe->seq = it->sseq;
    pe->ev = it->ev;
    pe->frame = m;
    it->ev = NULL; /* kept */
    send_pend(w, u, pe);
}

static bool
pend_remove(wsd_user_t *u, int stream, uint64_t seq, wsd_pend_t *out)
{
    for (size_t i = 0; i < u->npend; i++) {
        if (u->pend[i].stream != stream || u->pend[i].seq != seq)
            continue;
        *out = u->pend[i];
        memmove(&u->pend[i], &u->pend[i + 1], (u->npend - i - 1) * sizeof(*u->pend));
        u->npend--;
        return true;
    }
    return false;
}

void
wsd_user_ack(wsd_t *w, wsd_sess_t *s, int stream, uint64_t seq)
{
    wsd_user_t *u = s->user;
    wsd_pend_t  pe;

    if (!pend_remove(u, stream, seq, &pe))
        return; /* unknown or already acked by another session: nothing to do */
    wsd_event_ack(w, pe.ev);
    pend_free(&pe);
    /* the user's sessions on other daemons: acked for the user */
    wsd_bus_emit(w, &(ag_ev_t){.subject = AG_EV_SYNC,
                               .id = u->id,
                               .tok = AG_EV_SYNC_ACK,
                               .stream = stream == WSD_DM ? AG_EV_INBOX_DM : AG_EV_INBOX_NOTIFY,
                               .seq = seq});
}

/* user.<id>.sync.read from any daemon: read_state to the user's other sessions */
static void
sync_read(wsd_t *w, wsd_user_t *u, const ag_ev_t *ev)
{
    int64_t     cid = ev->channel_id;
    const char *sid = ev->session_id;
    wsd_msg_t  *m;

    if (cid <= 0 || ev->seq == 0)
        return;
    m = wsd_msg_printf(false, "{\"type\":\"read_state\",\"channelId\":\"%lld\",\"seq\":%lld}",
                       (long long)cid, (long long)ev->seq);
    for (size_t i = 0; m && i < u->n; i++) {
        wsd_sess_t *s = u->sess[i];
        if (s->ready && (sid == NULL || strcmp(sid, s->sid) != 0) && wsd_sess_att(s, cid))
            wsd_sess_send(w, s, m);
    }
    wsd_msg_unref(m);
}

static void
sync_ack(wsd_t *w, wsd_user_t *u, const ag_ev_t *ev)
{
    wsd_pend_t pe;

    if (ev->stream == NULL || !AG_EV_HAS(ev, seq))
        return;
    if (pend_remove(u, strcmp(ev->stream, AG_EV_INBOX_NOTIFY) == 0 ? WSD_NOTIFY : WSD_DM, ev->seq,
                    &pe))
        pend_free(&pe); /* acked by the session that read it; nothing to ack here */
    (void)w;
}

static void
presence_frames(wsd_t *w, const ag_ev_t *ev)
{
    const char *st = ev->status;
    wsd_msg_t  *m;

    if (st == NULL || (strcmp(st, AG_EV_ONLINE) != 0 && strcmp(st, AG_EV_OFFLINE) != 0))
        return;
    m = wsd_msg_printf(true, "{\"type\":\"presence\",\"userId\":\"%lld\",\"status\":\"%s\"}",
                       (long long)ev->id, st);
    for (size_t i = 0; m && i < ev->nchannels; i++)
        wsd_chan_fanout(w, ev->channels[i], m, ev->id);
    wsd_msg_unref(m);
}

/* user.<uid>.* (core NATS): presence, updated, subs.changed, sync.read, sync.ack */
void
wsd_user_core(wsd_t *w, const ag_ev_t *ev)
{
    int64_t     uid = ev->id;
    wsd_user_t *u = wsd_user_get(w, uid, false);
    const char *action = ev->action;

    if (ev->subject == AG_EV_PRESENCE) {
        presence_frames(w, ev);
    } else if (ev->subject == AG_EV_USER_UPDATED) {
        if (ev->deleted) {
            wsd_sessions_user_gone(w, uid);
        } else {
            wsd_job_t *j = wsd_job_new(WSD_JOB_USER_UPDATED);
            if (j) {
                j->uid = uid;
                wsd_job_submit(w, j);
            }
        }
    } else if (u == NULL) {
        return;
    } else if (ev->subject == AG_EV_SUBS_CHANGED) {
        if (ev->channel_id > 0 && action &&
            (strcmp(action, AG_EV_JOINED) == 0 || strcmp(action, AG_EV_LEFT) == 0))
            wsd_chan_member_sync(w, uid, ev->channel_id, strcmp(action, AG_EV_JOINED) == 0);
    } else if (ev->subject == AG_EV_SYNC && strcmp(ev->tok, AG_EV_SYNC_READ) == 0) {
        sync_read(w, u, ev);
    } else if (ev->subject == AG_EV_SYNC && strcmp(ev->tok, AG_EV_SYNC_ACK) == 0) {
        sync_ack(w, u, ev);
    }
}

/* ---- housekeeping ------------------------------------------------------------- */
void
wsd_user_tick(wsd_t *w, wsd_user_t *u, int64_t now)
{
    int64_t silent = 3 * w->consumer_hb_ms;

    if (u->n == 0)
        return;
    if (!u->consumers_ok && !u->consumers_pending && u->consumers_retry_ms &&
        now >= u->consumers_retry_ms) {
        consumers_job(w, u);
    } else if (u->consumers_ok && !u->consumers_pending && w->nats_up &&
               now - u->consumers_ok_ms > silent &&
               (wsd_bus_inbox_idle_ms(u->inbox, WSD_DM, now) > silent ||
                wsd_bus_inbox_idle_ms(u->inbox, WSD_NOTIFY, now) > silent)) {
        /* no heartbeat: the consumer was deleted (operator, stream recreated) */
        ag_log_warn("wsd: DM/notify consumers of user %lld silent; creating them again",
                    (long long)u->id);
        w->m.consumer_restarts++;
        u->consumers_ok = false;
        consumers_job(w, u);
    }
    if (!u->resync_pending && u->resync_ms && now >= u->resync_ms) {
        wsd_job_t *j = wsd_job_new(WSD_JOB_RESYNC);
        if (j) {
            j->uid = u->id;
            u->resync_pending = true;
            wsd_job_submit(w, j);
        }
    }
    wsd_replay_tick(w, u, now);
}

/*
 * After a reconnect to NATS: memberships may have changed while core events
 * could not arrive (a removal must still stop delivery), so every user is
 * resynced soon, spread over a few seconds.
 */
void
wsd_users_nats_up(wsd_t *w)
{
    size_t  n;
    void  **us = wsd_map_values(&w->users, &n);
    int64_t now = ag_now_mono_ms();

    for (size_t i = 0; us && i < n; i++) {
        wsd_user_t *u = us[i];
        if (u->n > 0)
            u->resync_ms = now + 500 + random() % 3000;
    }
    free(us);
}

/*
 * The lease was missing: on the first beat that is expected; later it means Redis
 * lost its data or this daemon stalled past the TTL and was reaped. Either way the
 * users we hold are not counted any more: count them again (each one that nobody
 * else holds is announced online once more, which clients treat as a no-op).
 */
void
wsd_users_relost(wsd_t *w)
{
    size_t n;
    void **us = wsd_map_values(&w->users, &n);

    if (us == NULL)
        return;
    ag_log_warn("wsd: presence lease had vanished; counting %zu users again", n);
    for (size_t i = 0; i < n; i++) {
        wsd_user_t *u = us[i];
        if (u->online)
            wsd_user_presence(w, u, true);
    }
    free(us);
}
