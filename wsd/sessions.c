/*
 * wsd/sessions.c — a session from its upgrade to its close, the client's
 * actions, and what keeps a session honest while it lives (loop thread):
 *   - on open, the user's channels and offsets are loaded (SUBS job); the
 *     session is refused (4001) when the account no longer exists;
 *   - while open, memberships are read again from PostgreSQL every
 *     ws_resync_s and after each reconnect to NATS (RESYNC job), so a removal
 *     whose event was lost still stops delivery; a deleted account's sessions
 *     close with 4001, and so does a session whose token expires.
 */
#include "wsd.h"
#include "gqlws.h"
#include "protocol.h"
#include "log/log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

wsd_sess_t *
wsd_session_open(wsd_t *w, struct lws *wsi, int64_t uid, int64_t exp_s)
{
    wsd_sess_t *s = calloc(1, sizeof(*s));
    wsd_user_t *u = wsd_user_get(w, uid, true);
    wsd_job_t  *j = wsd_job_new(WSD_JOB_SUBS);

    if (s == NULL || u == NULL || j == NULL ||
        AG_ARRAY_RESERVE(u->sess, u->cap, u->n + 1, 4) != AG_OK) {
        free(s);
        wsd_job_free(j);
        if (u && u->n == 0)
            wsd_user_session_removed(w, u); /* frees it after the grace period */
        return NULL;
    }
    s->id = ++w->next_sess;
    snprintf(s->sid, sizeof(s->sid), "%08x%016llx", (unsigned)random(), (unsigned long long)s->id);
    s->wsi = wsi;
    s->user = u;
    s->exp_s = exp_s;
    s->tokens = (double)w->rate_per_sec * 2;
    s->tokens_ms = ag_now_mono_ms();
    s->alive_ms = s->tokens_ms;
    s->all_next = w->sess_all;
    if (w->sess_all)
        w->sess_all->all_prev = s;
    w->sess_all = s;
    u->sess[u->n++] = s;
    wsd_map_put(&w->sessions, (int64_t)s->id, s);
    w->nsess++;
    w->m.connections_total++;
    if (u->n == 1)
        wsd_user_session_added(w, u);
    j->sess_id = s->id;
    j->uid = uid;
    wsd_job_submit(w, j);
    return s;
}

void
wsd_session_close(wsd_t *w, wsd_sess_t *s)
{
    wsd_user_t *u = s->user;

    wsd_sess_forget(w, s);
    wsd_gql_session_closed(w, s); /* before the detaches below: no error frames to a gone peer */
    while (s->natts)
        wsd_chan_detach(w, s->atts[s->natts - 1]);
    free(s->atts);
    while (s->qlen) {
        wsd_msg_unref(s->q[s->qhead]);
        s->qhead = (s->qhead + 1) % s->qcap;
        s->qlen--;
    }
    if (s->q != s->qin)
        free(s->q);
    free(s->rx);
    if (s->all_prev)
        s->all_prev->all_next = s->all_next;
    else
        w->sess_all = s->all_next;
    if (s->all_next)
        s->all_next->all_prev = s->all_prev;
    wsd_map_del(&w->sessions, (int64_t)s->id);
    w->nsess--;
    for (size_t i = 0; i < u->n; i++)
        if (u->sess[i] == s) {
            u->sess[i] = u->sess[--u->n];
            break;
        }
    free(s);
    if (u->n == 0)
        wsd_user_session_removed(w, u);
}

/* ---- finished jobs ------------------------------------------------------------- */
void
wsd_session_subs_done(wsd_t *w, wsd_job_t *j)
{
    wsd_sess_t *s = wsd_map_get(&w->sessions, (int64_t)j->sess_id);
    wsd_msg_t  *m;

    if (s == NULL)
        return;
    if (j->st != AG_OK) {
        wsd_sess_close(w, s, WSD_CLOSE_UNAVAILABLE, "subscriptions unavailable, retry");
        return;
    }
    if (!j->exists) {
        w->m.auth_closes++;
        wsd_sess_close(w, s, WSD_CLOSE_AUTH, "account deleted");
        return;
    }
    if (s->gql) { /* graphql-ws: attached per subscription, never to every channel */
        wsd_gql_session_ready(w, s);
        return;
    }
    for (size_t i = 0; i < j->nids; i++) {
        wsd_att_t *att = wsd_chan_attach(w, s, j->ids[i]);
        if (att && j->offsets[i] >= 0)
            wsd_replay_request(w, att, (uint64_t)j->offsets[i]);
    }
    m = wsd_msg_printf(false, "{\"type\":\"ready\",\"sessionId\":\"%s\",\"heartbeatMs\":%lld}",
                       s->sid, (long long)w->heartbeat_ms);
    wsd_sess_send(w, s, m);
    wsd_msg_unref(m);
    s->ready = true;
    wsd_user_send_pending(w, s);
}

static bool
has_id(const int64_t *ids, size_t n, int64_t id)
{
    for (size_t i = 0; i < n; i++)
        if (ids[i] == id)
            return true;
    return false;
}

/* member_joined|left to one session: its client refetches the channel list */
static void
member_frame(wsd_t *w, wsd_sess_t *s, int64_t cid, bool joined)
{
    wsd_msg_t *m =
        wsd_msg_printf(false,
                       "{\"type\":\"member_%s\",\"channelId\":\"%lld\","
                       "\"userId\":\"%lld\"}",
                       joined ? "joined" : "left", (long long)cid, (long long)s->user->id);
    wsd_sess_send(w, s, m);
    wsd_msg_unref(m);
}

/* Memberships as PostgreSQL has them: attach what is missing, detach what is gone. */
void
wsd_session_resync_done(wsd_t *w, wsd_job_t *j)
{
    wsd_user_t *u = wsd_user_get(w, j->uid, false);
    int64_t     now = ag_now_mono_ms();

    if (u == NULL)
        return;
    u->resync_pending = false;
    if (j->st != AG_OK) {
        u->resync_ms = now + 5000; /* PostgreSQL or Redis down: soon again */
        return;
    }
    u->resync_ms = now + w->resync_ms / 2 + random() % (w->resync_ms / 2 + 1);
    w->m.resyncs++;
    if (!j->exists) {
        wsd_sessions_user_gone(w, u->id);
        return;
    }
    for (size_t i = 0; i < u->n; i++) {
        wsd_sess_t *s = u->sess[i];
        if (s->gql && s->gql_acked) {
            /* graphql-ws: only what it left goes (its subscriptions end: forbidden) */
            for (size_t k = s->natts; k-- > 0;)
                if (k < s->natts && !has_id(j->ids, j->nids, s->atts[k]->chan->id)) {
                    w->m.resync_detached++;
                    wsd_chan_detach(w, s->atts[k]);
                }
            continue;
        }
        if (!s->ready)
            continue; /* its SUBS job is newer than this resync's snapshot */
        for (size_t k = s->natts; k-- > 0;) {
            int64_t cid = s->atts[k]->chan->id;
            if (!has_id(j->ids, j->nids, cid)) {
                ag_log_info("wsd: user %lld is no longer in channel %lld: detached",
                            (long long)u->id, (long long)cid);
                w->m.resync_detached++;
                wsd_chan_detach(w, s->atts[k]);
                member_frame(w, s, cid, false);
            }
        }
        for (size_t k = 0; k < j->nids; k++)
            if (wsd_sess_att(s, j->ids[k]) == NULL && wsd_chan_attach(w, s, j->ids[k]))
                member_frame(w, s, j->ids[k], true);
    }
}

void
wsd_session_user_updated_done(wsd_t *w, wsd_job_t *j)
{
    wsd_user_t *u = wsd_user_get(w, j->uid, false);
    wsd_msg_t  *m;

    if (j->st != AG_OK)
        return;
    m = wsd_msg_printf(false, "{\"type\":\"user_updated\",\"userId\":\"%lld\"}", (long long)j->uid);
    w->stamp++;
    for (size_t i = 0; u && i < u->n; i++) {
        u->sess[i]->stamp = w->stamp;
        if (u->sess[i]->ready)
            wsd_sess_send(w, u->sess[i], m);
    }
    for (size_t i = 0; i < j->nids; i++)
        wsd_chan_fanout(w, j->ids[i], m, 0);
    wsd_msg_unref(m);
}

void
wsd_session_heartbeat_done(wsd_t *w, wsd_job_t *j)
{
    w->hb_pending = false;
    if (j->st != AG_OK)
        return; /* Redis down: the tick tries again */
    if (j->relost && w->hb_registered && !w->stopping)
        wsd_users_relost(w);
    w->hb_registered = true;
}

/* ---- closing sessions ------------------------------------------------------------ */
void
wsd_sessions_user_gone(wsd_t *w, int64_t uid)
{
    wsd_user_t *u = wsd_user_get(w, uid, false);
    for (size_t i = 0; u && i < u->n; i++) {
        w->m.auth_closes++;
        wsd_sess_close(w, u->sess[i], WSD_CLOSE_AUTH, "account deleted");
    }
}

void
wsd_sessions_expire(wsd_t *w, int64_t now_s)
{
    for (wsd_sess_t *s = w->sess_all; s; s = s->all_next)
        if (s->exp_s && s->exp_s <= now_s && !s->close_code) {
            w->m.auth_closes++;
            wsd_sess_close(w, s, WSD_CLOSE_AUTH, "token expired");
        }
}

/* loop, at SIGTERM: ask every session to close (1001); CLOSED callbacks clean up */
void
wsd_sessions_shutdown(wsd_t *w)
{
    size_t n;
    void **ss = wsd_map_values(&w->sessions, &n);
    for (size_t i = 0; ss && i < n; i++)
        wsd_sess_close(w, ss[i], WSD_CLOSE_GOING_AWAY, "server shutting down");
    free(ss);
    /* users in their grace period: offline now, the daemon will not be there to say it */
    if ((ss = wsd_map_values(&w->users, &n)) == NULL)
        return;
    for (size_t i = 0; i < n; i++) {
        wsd_user_t *u = ss[i];
        if (!u->grace_armed)
            continue;
        lws_sul_cancel(&u->grace);
        u->grace_armed = false;
        if (u->online)
            wsd_user_presence(w, u, false);
    }
    free(ss);
}

/* ---- client actions -------------------------------------------------------------- */
static bool
typing_allowed(wsd_t *w, wsd_user_t *u, int64_t cid)
{
    int64_t now = ag_now_mono_ms();
    for (size_t i = 0; i < u->ntyping; i++) {
        if (u->typing[i].cid != cid)
            continue;
        if (now - u->typing[i].ms < w->typing_ms)
            return false;
        u->typing[i].ms = now;
        return true;
    }
    if (AG_ARRAY_RESERVE(u->typing, u->captyping, u->ntyping + 1, 4) != AG_OK)
        return false;
    u->typing[u->ntyping++] = (struct wsd_typing){.cid = cid, .ms = now};
    return true;
}

static void
act_typing(wsd_t *w, wsd_sess_t *s, const wsd_action_t *a)
{
    int64_t cid = a->channel_id;

    if (wsd_sess_att(s, cid) == NULL) {
        wsd_sess_error(w, s, "forbidden", "not a member of this channel");
        return;
    }
    if (!typing_allowed(w, s->user, cid))
        return; /* at most one per typing_interval_ms: silently coalesced */
    wsd_bus_emit(
        w,
        &(ag_ev_t){.subject = AG_EV_TYPING, .id = cid, .channel_id = cid, .user_id = s->user->id});
}

static void
act_read(wsd_t *w, wsd_sess_t *s, const wsd_action_t *a)
{
    wsd_job_t *j;

    if (wsd_sess_att(s, a->channel_id) == NULL) {
        wsd_sess_error(w, s, "forbidden", "not a member of this channel");
        return;
    }
    if ((j = wsd_job_new(WSD_JOB_READ)) == NULL)
        return;
    j->uid = s->user->id;
    j->cid = a->channel_id;
    j->seq = (uint64_t)a->seq;
    memcpy(j->sid, s->sid, sizeof(j->sid));
    wsd_job_submit(w, j);
}

void
wsd_session_action(wsd_t *w, wsd_sess_t *s, const char *text, size_t len)
{
    wsd_action_t a;

    wsd_action_parse(text, len, &a);
    if (a.kind == WSD_ACT_BAD || a.kind == WSD_ACT_UNKNOWN) {
        w->m.bad_frames++;
        wsd_sess_error(w, s, "bad_request", a.error);
    } else if (!s->ready) {
        wsd_sess_error(w, s, "unavailable", "wait for the ready frame");
    } else if (a.kind == WSD_ACT_PING) {
        wsd_msg_t *m = wsd_msg_printf(false, "{\"type\":\"pong\"}");
        wsd_sess_send(w, s, m);
        wsd_msg_unref(m);
    } else if (a.kind == WSD_ACT_TYPING) {
        act_typing(w, s, &a);
    } else if (a.kind == WSD_ACT_READ) {
        act_read(w, s, &a);
    } else {
        wsd_user_ack(w, s, a.stream == 0 ? WSD_DM : WSD_NOTIFY, (uint64_t)a.seq);
    }
}

/* ---- housekeeping ------------------------------------------------------------------ */
void
wsd_tick(wsd_t *w)
{
    int64_t now = ag_now_mono_ms();
    size_t  n;
    void  **users;

    wsd_live_tick(w, now);
    wsd_jobs_tick(w, now);
    wsd_sessions_expire(w, (int64_t)time(NULL));
    if (!w->hb_pending && !w->stopping && now >= w->hb_next_ms) {
        wsd_job_t *j = wsd_job_new(WSD_JOB_HEARTBEAT);
        if (j) {
            j->up = true;
            w->hb_pending = true;
            /* a third of the TTL: two beats may fail before the lease runs out */
            w->hb_next_ms = now + w->instance_ttl_ms / 3;
            wsd_job_submit(w, j);
        }
    }
    if ((users = wsd_map_values(&w->users, &n)) == NULL)
        return;
    for (size_t i = 0; i < n; i++)
        wsd_user_tick(w, users[i], now);
    free(users);
}
