/*
 * wsd/hub.c — sessions, channels and users, and the fan-out of events to
 * them. Everything here runs on the lws service thread (the loop) except
 * wsd_inbox_push, which any thread calls.
 *
 * DMs and notifications, one durable consumer per user and stream
 * (wsd-dm-<id>, wsd-notify-<id>, queue group "wsd"): the daemon delivers each
 * event to EVERY local session of the user and keeps it (wsd_pend_t) until
 * any one session acks it; then it is acked to JetStream once. A session
 * opening later gets the pending ones too. When the user's last local
 * session closes, the subscriptions are released (the consumers stay on the
 * server) and pending events are nak'ed, so the next connection gets them at
 * once. With sessions of one user on several daemons, each event reaches the
 * daemons in turn (queue group), not all of them: documented limitation.
 */
#include "wsd.h"
#include "protocol.h"
#include "json/json.h"
#include "log/log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- inbox (any thread → loop) ------------------------------------------ */

/*
 * Any thread. ctx is read under wake_mu because main.c clears it (under the same
 * lock) before destroying the context while workers still run. Not under inbox_mu:
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

/* ---- small helpers -------------------------------------------------------- */

/* Ids go into hand-built JSON: accept only the characters ids are made of. */
static bool
id_ok(const char *s)
{
    size_t n = 0;
    if (s == NULL)
        return false;
    for (; s[n]; n++) {
        char c = s[n];
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              c == '-' || c == '_'))
            return false;
    }
    return n > 0 && n <= 64;
}

static const char *
jstr(ag_json_t *o, const char *key)
{
    const char *v = NULL;
    if (o == NULL || ag_json_get_str(o, key, &v) != AG_OK || !id_ok(v))
        return NULL;
    return v;
}

static ag_json_t *
parse(const char *data, size_t len)
{
    char       err[128];
    ag_json_t *j = ag_json_parse(data, len, 8, err, sizeof(err));
    if (j && ag_json_type(j) != AG_JSON_OBJECT) {
        ag_json_free(j);
        return NULL;
    }
    return j;
}

/* "<prefix><id>.<rest>" → id and rest. */
static bool
subject_split(const char *subj, const char *prefix, int64_t *id, const char **rest)
{
    size_t pl = strlen(prefix);
    char  *end;
    if (subj == NULL || strncmp(subj, prefix, pl) != 0)
        return false;
    *id = strtoll(subj + pl, &end, 10);
    if (end == subj + pl || *end != '.' || *id <= 0)
        return false;
    *rest = end + 1;
    return true;
}

/* ---- users ------------------------------------------------------------------ */
wsd_user_t *
wsd_hub_user(wsd_t *w, int64_t uid, bool create)
{
    wsd_user_t *u = wsd_map_get(&w->users, uid);
    if (u || !create)
        return u;
    if ((u = calloc(1, sizeof(*u))) == NULL)
        return NULL;
    u->id = uid;
    u->w = w;
    u->user_sub = wsd_bus_sub_user(w, uid);
    if (wsd_map_put(&w->users, uid, u) != 0) {
        wsd_bus_unsub(u->user_sub);
        free(u);
        return NULL;
    }
    return u;
}

static void
user_release_consumers(wsd_user_t *u)
{
    wsd_bus_consumer_release(u->dm_sub);
    wsd_bus_consumer_release(u->notify_sub);
    u->dm_sub = u->notify_sub = NULL;
    /* nak after the subscriptions are gone: redelivered when a session comes back */
    for (size_t i = 0; i < u->npend; i++) {
        wsd_bus_msg_nak(u->pend[i].nmsg);
        wsd_bus_msg_free(u->pend[i].nmsg);
        wsd_msg_unref(u->pend[i].frame);
    }
    u->npend = 0;
}

static void
user_free(wsd_t *w, wsd_user_t *u)
{
    wsd_map_del(&w->users, u->id);
    if (u->grace_armed)
        lws_sul_cancel(&u->grace);
    user_release_consumers(u);
    wsd_bus_unsub(u->user_sub);
    free(u->pend);
    free(u->sess);
    free(u->typing_cid);
    free(u->typing_ms);
    free(u);
}

/* Shutdown, once the lws context is gone: every user freed, DMs and
 * notifications still waiting for an ack nak'ed (the next connection gets them). */
void
wsd_hub_users_free(wsd_t *w)
{
    size_t n;
    void **us = wsd_map_values(&w->users, &n);
    if (us == NULL)
        return;
    for (size_t i = 0; i < n; i++) {
        wsd_user_t *u = us[i];
        u->grace_armed = false;  /* the context, and its timer list, are gone */
        user_free(w, u);
    }
    free(us);
}

static void
presence_job(wsd_t *w, wsd_user_t *u, bool up)
{
    wsd_job_t *j = wsd_job_new(WSD_JOB_PRESENCE);
    if (j == NULL)
        return;
    j->uid = u->id;
    j->up = up;
    u->online = up;
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
    if (u->consumers_pending) {  /* wait for the job: it owns subscriptions to release */
        u->grace_armed = true;
        lws_sul_schedule(w->ctx, 0, &u->grace, grace_cb, LWS_US_PER_SEC);
        return;
    }
    if (u->online)
        presence_job(w, u, false);
    user_free(w, u);
}

/* ---- channels and attachments ------------------------------------------- */
static wsd_sub_t *
sess_find_sub(wsd_sess_t *s, int64_t cid)
{
    for (size_t i = 0; i < s->nsubs; i++)
        if (s->subs[i]->chan->id == cid)
            return s->subs[i];
    return NULL;
}

static bool
grow_ptrs(void ***arr, size_t *cap, size_t need)
{
    if (need <= *cap)
        return true;
    size_t nc = *cap ? *cap * 2 : 4;
    while (nc < need)
        nc *= 2;
    void **n = realloc(*arr, nc * sizeof(void *));
    if (n == NULL)
        return false;
    *arr = n;
    *cap = nc;
    return true;
}

static wsd_sub_t *
attach(wsd_t *w, wsd_sess_t *s, int64_t cid)
{
    wsd_sub_t  *sub = sess_find_sub(s, cid);
    wsd_chan_t *c;

    if (sub)
        return sub;
    if ((c = wsd_map_get(&w->chans, cid)) == NULL) {
        if ((c = calloc(1, sizeof(*c))) == NULL)
            return NULL;
        c->id = cid;
        if (wsd_map_put(&w->chans, cid, c) != 0) {
            free(c);
            return NULL;
        }
        c->core_sub = wsd_bus_sub_channel(w, cid);  /* first local session of the channel */
    }
    if ((sub = calloc(1, sizeof(*sub))) == NULL ||
        !grow_ptrs((void ***)&c->subs, &c->cap, c->n + 1) ||
        !grow_ptrs((void ***)&s->subs, &s->capsubs, s->nsubs + 1)) {
        free(sub);
        return NULL;
    }
    sub->sess = s;
    sub->chan = c;
    c->subs[c->n++] = sub;
    s->subs[s->nsubs++] = sub;
    return sub;
}

static void
sub_drop_held(wsd_sub_t *sub)
{
    for (size_t i = 0; i < sub->nheld; i++)
        wsd_msg_unref(sub->held[i]);
    free(sub->held);
    free(sub->held_seq);
    sub->held = NULL;
    sub->held_seq = NULL;
    sub->nheld = sub->capheld = 0;
}

static void
detach(wsd_t *w, wsd_sub_t *sub)
{
    wsd_chan_t *c = sub->chan;
    wsd_sess_t *s = sub->sess;

    for (size_t i = 0; i < c->n; i++)
        if (c->subs[i] == sub) {
            c->subs[i] = c->subs[--c->n];
            break;
        }
    for (size_t i = 0; i < s->nsubs; i++)
        if (s->subs[i] == sub) {
            s->subs[i] = s->subs[--s->nsubs];
            break;
        }
    sub_drop_held(sub);
    if (sub->rjob)
        s->nreplays--;
    wsd_job_free(sub->rjob);
    free(sub);
    if (c->n == 0) {  /* last local session left the channel */
        wsd_map_del(&w->chans, c->id);
        wsd_bus_unsub(c->core_sub);
        free(c->subs);
        free(c);
    }
}

/* Deliver a sequenced channel event to one attachment: hold while replaying, dedupe by seq. */
static void
deliver_seq(wsd_t *w, wsd_sub_t *sub, uint64_t seq, wsd_msg_t *m)
{
    if (sub->replaying) {
        if (sub->nheld == sub->capheld) {
            size_t     nc = sub->capheld ? sub->capheld * 2 : 16;
            wsd_msg_t **h = realloc(sub->held, nc * sizeof(*h));
            uint64_t  *hs = h ? realloc(sub->held_seq, nc * sizeof(*hs)) : NULL;
            if (h)
                sub->held = h;
            if (hs == NULL)
                return;  /* ENOMEM: the replay (to the stream's end) still covers it */
            sub->held_seq = hs;
            sub->capheld = nc;
        }
        m->refs++;
        sub->held[sub->nheld] = m;
        sub->held_seq[sub->nheld++] = seq;
        return;
    }
    if (seq <= sub->last_seq)
        return;  /* seen in the replay */
    sub->last_seq = seq;
    wsd_sess_send(w, sub->sess, m);
}

/* The client frame of a CHANNEL_STREAM event, or NULL for an unknown or malformed one. */
static wsd_msg_t *
channel_frame(int64_t cid, const char *ev, uint64_t seq, const char *data, size_t len)
{
    ag_json_t  *p = parse(data, len);
    wsd_msg_t  *m = NULL;
    const char *a, *b;

    if (p == NULL)
        return NULL;
    if (strcmp(ev, "created") == 0 || strcmp(ev, "updated") == 0 || strcmp(ev, "deleted") == 0) {
        const char *type = ev[0] == 'c' ? "channel_message"
                         : ev[0] == 'u' ? "message_updated" : "message_deleted";
        if ((a = jstr(p, "messageId")))
            m = wsd_msg_printf(false,
                               "{\"type\":\"%s\",\"channelId\":\"%lld\",\"messageId\":\"%s\","
                               "\"seq\":%llu}",
                               type, (long long)cid, a, (unsigned long long)seq);
    } else if (strcmp(ev, "commented") == 0) {
        if ((a = jstr(p, "postId")) && (b = jstr(p, "commentId")))
            m = wsd_msg_printf(false,
                               "{\"type\":\"comment_created\",\"channelId\":\"%lld\","
                               "\"postId\":\"%s\",\"commentId\":\"%s\",\"seq\":%llu}",
                               (long long)cid, a, b, (unsigned long long)seq);
    } else if (strcmp(ev, "replied") == 0) {
        if ((a = jstr(p, "commentId")) && (b = jstr(p, "replyId")))
            m = wsd_msg_printf(false,
                               "{\"type\":\"reply_created\",\"channelId\":\"%lld\","
                               "\"commentId\":\"%s\",\"replyId\":\"%s\",\"seq\":%llu}",
                               (long long)cid, a, b, (unsigned long long)seq);
    }
    ag_json_free(p);
    return m;
}

static wsd_msg_t *
channel_frame_of(void *nmsg, uint64_t seq)
{
    const char *subj = wsd_bus_msg_subject(nmsg), *rest;
    int64_t     cid;
    size_t      len;
    const char *data = wsd_bus_msg_data(nmsg, &len);

    if (!subject_split(subj, "channel.", &cid, &rest) || strncmp(rest, "message.", 8) != 0)
        return NULL;
    return channel_frame(cid, rest + 8, seq, data, len);
}

static void
on_channel_js(wsd_t *w, void *nmsg)
{
    const char *rest;
    int64_t     cid;
    wsd_chan_t *c;
    wsd_msg_t  *m;
    uint64_t    seq;

    if (!subject_split(wsd_bus_msg_subject(nmsg), "channel.", &cid, &rest) ||
        (c = wsd_map_get(&w->chans, cid)) == NULL)
        return;  /* no local session in this channel */
    seq = wsd_bus_msg_seq(nmsg);
    if ((m = channel_frame_of(nmsg, seq)) == NULL)
        return;
    /*
     * Memory-bound: each recipient is an attachment, its session and lws's wsi, cold
     * again after the previous event's writes went through the kernel. Fetch them a
     * few recipients ahead.
     */
    for (size_t i = 0; i < c->n; i++) {
        if (i + 8 < c->n)
            __builtin_prefetch(c->subs[i + 8]);
        if (i + 4 < c->n)
            __builtin_prefetch(c->subs[i + 4]->sess);
        if (c->subs[i]->sess->ready)
            deliver_seq(w, c->subs[i], seq, m);
    }
    wsd_msg_unref(m);
}

/* Send m to the ready sessions of channel cid, except those of user `except` and
 * those already stamped by this fan-out. */
static void
fanout(wsd_t *w, int64_t cid, wsd_msg_t *m, int64_t except)
{
    wsd_chan_t *c = wsd_map_get(&w->chans, cid);
    if (c == NULL)
        return;
    for (size_t i = 0; i < c->n; i++) {
        wsd_sess_t *s = c->subs[i]->sess;
        if (!s->ready || s->user->id == except || s->stamp == w->stamp)
            continue;
        s->stamp = w->stamp;
        wsd_sess_send(w, s, m);
    }
}

/*
 * Channel cid attached to (joined) or detached from (left) every local session
 * of user uid. Both user.<id>.subs.changed and channel.<id>.member.joined|left
 * call it: they come on two subscriptions, which nats.c's delivery threads may
 * hand over in either order, and whichever comes first does it.
 */
static void
member_sync(wsd_t *w, int64_t uid, int64_t cid, bool joined)
{
    wsd_user_t *u = wsd_hub_user(w, uid, false);
    for (size_t i = 0; u && i < u->n; i++) {
        wsd_sess_t *s = u->sess[i];
        wsd_sub_t  *sub = sess_find_sub(s, cid);
        if (joined && sub == NULL)
            attach(w, s, cid);   /* live from now on; no offset yet, so no replay */
        else if (!joined && sub)
            detach(w, sub);
    }
}

static void
subs_changed(wsd_t *w, int64_t uid, ag_json_t *p)
{
    const char *action = NULL;
    int64_t     cid;

    if (wsd_json_id(p, "channelId", &cid) && ag_json_get_str(p, "action", &action) == AG_OK &&
        (strcmp(action, "joined") == 0 || strcmp(action, "left") == 0))
        member_sync(w, uid, cid, action[0] == 'j');
}

/* member_joined|left of user uid in channel cid: to the channel's sessions, and to
 * the user's own, attached first (joined) or detached after (left) */
static void
member_event(wsd_t *w, int64_t cid, int64_t uid, bool joined, wsd_msg_t *m)
{
    wsd_user_t *u;

    if (joined)
        member_sync(w, uid, cid, true);
    fanout(w, cid, m, 0);
    if (joined || (u = wsd_hub_user(w, uid, false)) == NULL)
        return;
    for (size_t i = 0; i < u->n; i++) {  /* subs.changed came first: already detached */
        wsd_sess_t *s = u->sess[i];
        if (s->ready && s->stamp != w->stamp) {
            s->stamp = w->stamp;
            wsd_sess_send(w, s, m);
        }
    }
    member_sync(w, uid, cid, false);
}

static void
on_core(wsd_t *w, void *nmsg)
{
    const char *subj = wsd_bus_msg_subject(nmsg), *rest, *a;
    size_t      len;
    const char *data = wsd_bus_msg_data(nmsg, &len);
    ag_json_t  *p = parse(data, len);
    wsd_msg_t  *m = NULL;
    int64_t     id, other;

    if (p == NULL)
        return;
    w->stamp++;
    if (subject_split(subj, "channel.", &id, &rest)) {
        if (strcmp(rest, "typing") == 0 && wsd_json_id(p, "userId", &other)) {
            m = wsd_msg_printf(true, "{\"type\":\"user_typing\",\"channelId\":\"%lld\","
                               "\"userId\":\"%lld\"}", (long long)id, (long long)other);
            fanout(w, id, m, other);
        } else if (strcmp(rest, "updated") == 0) {
            m = wsd_msg_printf(false, "{\"type\":\"channel_updated\",\"channelId\":\"%lld\"}",
                               (long long)id);
            fanout(w, id, m, 0);
        } else if ((strcmp(rest, "member.joined") == 0 || strcmp(rest, "member.left") == 0) &&
                   wsd_json_id(p, "userId", &other)) {
            m = wsd_msg_printf(false, "{\"type\":\"member_%s\",\"channelId\":\"%lld\","
                               "\"userId\":\"%lld\"}", rest + 7, (long long)id,
                               (long long)other);
            if (m)
                member_event(w, id, other, rest[7] == 'j', m);
        }
    } else if (subject_split(subj, "user.", &id, &rest)) {
        if (strcmp(rest, "subs.changed") == 0) {
            subs_changed(w, id, p);
        } else if (strcmp(rest, "presence") == 0 && (a = jstr(p, "status")) &&
                   (strcmp(a, "online") == 0 || strcmp(a, "offline") == 0)) {
            ag_json_t *chans = ag_json_get(p, "channels");
            m = wsd_msg_printf(true, "{\"type\":\"presence\",\"userId\":\"%lld\","
                               "\"status\":\"%s\"}", (long long)id, a);
            for (size_t i = 0; m && chans && i < ag_json_len(chans); i++) {
                int64_t cid;
                const char *cs = ag_json_as_str(ag_json_at(chans, i));
                if (cs && ag_parse_i64(cs, &cid) == AG_OK)
                    fanout(w, cid, m, id);
            }
        } else if (strcmp(rest, "updated") == 0) {
            wsd_job_t *j = wsd_job_new(WSD_JOB_USER_UPDATED);
            if (j) {
                j->uid = id;
                wsd_job_submit(w, j);
            }
        }
    }
    wsd_msg_unref(m);
    ag_json_free(p);
}

/* ---- DMs and notifications ---------------------------------------------- */
static void
user_send_pend(wsd_t *w, wsd_user_t *u, wsd_pend_t *pe)
{
    for (size_t i = 0; i < u->n; i++)
        if (u->sess[i]->ready)
            wsd_sess_send(w, u->sess[i], pe->frame);
}

static void
on_user_js(wsd_t *w, wsd_in_t *it)
{
    wsd_user_t *u = wsd_hub_user(w, it->uid, false);
    int         stream = it->kind == WSD_IN_DM ? 0 : 1;
    uint64_t    seq = wsd_bus_msg_seq(it->nmsg);
    size_t      len;
    const char *data = wsd_bus_msg_data(it->nmsg, &len);
    ag_json_t  *p;
    wsd_msg_t  *m = NULL;
    const char *a, *b;

    if (u == NULL || u->n == 0 || u->dm_sub == NULL) {
        wsd_bus_msg_nak(it->nmsg);  /* no session here any more: the next one gets it */
        return;
    }
    if ((p = parse(data, len)) != NULL) {
        if (stream == 0 && (a = jstr(p, "from")) && (b = jstr(p, "messageId")))
            m = wsd_msg_printf(false, "{\"type\":\"dm\",\"from\":\"%s\",\"messageId\":\"%s\","
                               "\"seq\":%llu}", a, b, (unsigned long long)seq);
        else if (stream == 1 && (a = jstr(p, "kind")) && (b = jstr(p, "userId")))
            m = wsd_msg_printf(false, "{\"type\":\"notification\",\"kind\":\"%s\","
                               "\"userId\":\"%s\",\"seq\":%llu}", a, b,
                               (unsigned long long)seq);
        ag_json_free(p);
    }
    if (m == NULL) {
        ag_log_warn("wsd: malformed event on %s dropped", wsd_bus_msg_subject(it->nmsg));
        wsd_bus_msg_ack(it->nmsg);  /* never deliverable: do not let it come back */
        return;
    }
    for (size_t i = 0; i < u->npend; i++) {
        if (u->pend[i].stream == stream && u->pend[i].seq == seq) {  /* a redelivery */
            wsd_bus_msg_free(u->pend[i].nmsg);
            wsd_msg_unref(u->pend[i].frame);
            u->pend[i].nmsg = it->nmsg;
            u->pend[i].frame = m;
            it->nmsg = NULL;
            user_send_pend(w, u, &u->pend[i]);
            return;
        }
    }
    if (u->npend == u->cappend) {
        size_t      nc = u->cappend ? u->cappend * 2 : 8;
        wsd_pend_t *np = realloc(u->pend, nc * sizeof(*np));
        if (np == NULL) {
            wsd_msg_unref(m);
            return;  /* not acked: redelivered after AckWait */
        }
        u->pend = np;
        u->cappend = nc;
    }
    wsd_pend_t *pe = &u->pend[u->npend++];
    pe->stream = stream;
    pe->seq = seq;
    pe->nmsg = it->nmsg;
    pe->frame = m;
    it->nmsg = NULL;
    user_send_pend(w, u, pe);
}

/* ---- sessions ------------------------------------------------------------------ */
wsd_sess_t *
wsd_hub_session_open(wsd_t *w, struct lws *wsi, int64_t uid)
{
    wsd_sess_t *s = calloc(1, sizeof(*s));
    wsd_user_t *u = wsd_hub_user(w, uid, true);
    wsd_job_t  *j = wsd_job_new(WSD_JOB_SUBS);

    if (s == NULL || u == NULL || j == NULL ||
        !grow_ptrs((void ***)&u->sess, &u->cap, u->n + 1)) {
        free(s);
        wsd_job_free(j);
        if (u && u->n == 0 && !u->grace_armed && !u->consumers_pending)
            user_free(w, u);
        return NULL;
    }
    s->id = ++w->next_sess;
    snprintf(s->sid, sizeof(s->sid), "%08x%016llx", (unsigned)random(),
             (unsigned long long)s->id);
    s->wsi = wsi;
    s->user = u;
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
    if (u->n == 1) {
        if (u->grace_armed) {
            lws_sul_cancel(&u->grace);
            u->grace_armed = false;
        }
        if (!u->online)
            presence_job(w, u, true);
        if (u->dm_sub == NULL && !u->consumers_pending) {
            wsd_job_t *cj = wsd_job_new(WSD_JOB_CONSUMERS);
            if (cj) {
                cj->uid = uid;
                u->consumers_pending = true;
                wsd_job_submit(w, cj);
            }
        }
    }
    j->sess_id = s->id;
    j->uid = uid;
    wsd_job_submit(w, j);
    return s;
}

void
wsd_hub_session_close(wsd_t *w, wsd_sess_t *s)
{
    wsd_user_t *u = s->user;

    while (s->nsubs)
        detach(w, s->subs[s->nsubs - 1]);
    free(s->subs);
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
    if (u->n > 0)
        return;
    user_release_consumers(u);
    if (w->stopping) {
        /* no timers while the context goes away: say offline now */
        if (u->online)
            presence_job(w, u, false);
        if (!u->consumers_pending)
            user_free(w, u);
        return;
    }
    u->grace_armed = true;
    lws_sul_schedule(w->ctx, 0, &u->grace, grace_cb, (lws_usec_t)w->grace_ms * 1000);
}

/* ---- finished jobs ------------------------------------------------------------- */
static void
job_subs_done(wsd_t *w, wsd_job_t *j)
{
    wsd_sess_t *s = wsd_map_get(&w->sessions, (int64_t)j->sess_id);
    wsd_msg_t  *m;

    if (s == NULL)
        return;
    if (j->st != AG_OK) {
        wsd_sess_close(w, s, WSD_CLOSE_UNAVAILABLE, "subscriptions unavailable, retry");
        return;
    }
    for (size_t i = 0; i < j->nids; i++) {
        wsd_sub_t *sub = attach(w, s, j->ids[i]);
        if (sub == NULL || j->offsets[i] < 0)
            continue;
        wsd_job_t *r = wsd_job_new(WSD_JOB_REPLAY);
        if (r == NULL)
            continue;
        sub->replaying = true;
        sub->last_seq = (uint64_t)j->offsets[i];
        r->sess_id = s->id;
        r->uid = s->user->id;
        r->cid = j->ids[i];
        r->seq = (uint64_t)j->offsets[i];
        wsd_job_submit(w, r);
    }
    m = wsd_msg_printf(false, "{\"type\":\"ready\",\"sessionId\":\"%s\",\"heartbeatMs\":%lld}",
                       s->sid, (long long)w->heartbeat_ms);
    wsd_sess_send(w, s, m);
    wsd_msg_unref(m);
    s->ready = true;
    for (size_t i = 0; i < s->user->npend; i++)
        wsd_sess_send(w, s, s->user->pend[i].frame);
}

/*
 * Feed a replay to its session no faster than the session drains: never more
 * than half the queue bound at a time, the rest when the queue runs low
 * (wsd_hub_session_drained). Pushing a long replay at once tripped the
 * slow-consumer close, and the client's reconnect replayed it again
 * (bench replay). Live events stay held until the replay is all queued.
 */
static void
replay_pump(wsd_t *w, wsd_sub_t *sub)
{
    wsd_sess_t *s = sub->sess;
    wsd_job_t  *j = sub->rjob;
    size_t      room = (size_t)w->queue_max / 2;
    wsd_msg_t  *m;

    while (j && sub->rnext < j->nmsgs && s->qlen < room && !s->close_code) {
        size_t i = sub->rnext++;
        if (j->msgs[i].seq <= sub->last_seq)
            continue;
        if ((m = channel_frame_of(j->msgs[i].nmsg, j->msgs[i].seq)) == NULL)
            continue;
        sub->last_seq = j->msgs[i].seq;
        wsd_sess_send(w, s, m);
        wsd_msg_unref(m);
        w->m.replayed++;
    }
    if (j && sub->rnext < j->nmsgs && !s->close_code)
        return;  /* more once the queue drains */
    if (j)
        s->nreplays--;
    wsd_job_free(j);
    sub->rjob = NULL;
    sub->replaying = false;
    /* hand-over: live events held during the replay, minus those it already sent */
    for (size_t i = 0; i < sub->nheld; i++)
        if (sub->held_seq[i] > sub->last_seq) {
            sub->last_seq = sub->held_seq[i];
            wsd_sess_send(w, s, sub->held[i]);
        }
    sub_drop_held(sub);
}

void
wsd_hub_session_drained(wsd_t *w, wsd_sess_t *s)
{
    if (s->nreplays == 0)
        return;   /* the common case: no walk over the attachments per write */
    for (size_t i = 0; i < s->nsubs; i++)
        if (s->subs[i]->rjob)
            replay_pump(w, s->subs[i]);
}

/* The replay job is back. Returns true when the job is no longer the caller's to free. */
static bool
job_replay_done(wsd_t *w, wsd_job_t *j)
{
    wsd_sess_t *s = wsd_map_get(&w->sessions, (int64_t)j->sess_id);
    wsd_sub_t  *sub = s ? sess_find_sub(s, j->cid) : NULL;
    wsd_msg_t  *m;

    if (sub == NULL || !sub->replaying || sub->rjob)
        return false;
    if (j->st != AG_OK) {
        wsd_sess_error(w, s, "unavailable", "replay failed; refetch this channel");
    } else if (j->gap_from) {
        m = wsd_msg_printf(false, "{\"type\":\"gap\",\"channelId\":\"%lld\",\"fromSeq\":%llu,"
                           "\"toSeq\":%llu}", (long long)j->cid,
                           (unsigned long long)j->gap_from, (unsigned long long)j->gap_to);
        wsd_sess_send(w, s, m);
        wsd_msg_unref(m);
        w->m.gaps++;
    }
    if (j->st != AG_OK || j->nmsgs == 0) {
        replay_pump(w, sub);   /* nothing to replay: the hand-over alone */
        return false;
    }
    sub->rjob = j;
    s->nreplays++;
    sub->rnext = 0;
    replay_pump(w, sub);    /* keeps j for later slices, or frees it when it all fit */
    return true;
}

static void
job_user_updated_done(wsd_t *w, wsd_job_t *j)
{
    wsd_user_t *u = wsd_hub_user(w, j->uid, false);
    wsd_msg_t  *m;

    if (j->st != AG_OK)
        return;
    m = wsd_msg_printf(false, "{\"type\":\"user_updated\",\"userId\":\"%lld\"}",
                       (long long)j->uid);
    w->stamp++;
    for (size_t i = 0; u && i < u->n; i++) {
        u->sess[i]->stamp = w->stamp;
        if (u->sess[i]->ready)
            wsd_sess_send(w, u->sess[i], m);
    }
    for (size_t i = 0; i < j->nids; i++)
        fanout(w, j->ids[i], m, 0);
    wsd_msg_unref(m);
}

static void
job_consumers_done(wsd_t *w, wsd_job_t *j)
{
    wsd_user_t *u = wsd_hub_user(w, j->uid, false);

    if (u)
        u->consumers_pending = false;
    if (u == NULL || u->n == 0 || w->stopping || j->st != AG_OK) {
        wsd_bus_consumer_release(j->sub_a);
        wsd_bus_consumer_release(j->sub_b);
        if (u && u->n > 0 && !w->stopping)
            u->consumers_retry_ms = ag_now_mono_ms() + 2000;  /* NATS down: tick retries */
        return;
    }
    u->dm_sub = j->sub_a;
    u->notify_sub = j->sub_b;
}

/*
 * The lease was missing: on the first beat that is expected; later it means Redis
 * lost its data or this daemon stalled past the TTL and was reaped. Either way the
 * users we hold are not counted any more: count them again (each one that nobody
 * else holds is announced online once more, which clients treat as a no-op).
 */
static void
job_heartbeat_done(wsd_t *w, wsd_job_t *j)
{
    size_t n;
    void **us;

    w->hb_pending = false;
    if (j->st != AG_OK)
        return;  /* Redis down: the tick tries again */
    if (j->relost && w->hb_registered && !w->stopping &&
        (us = wsd_map_values(&w->users, &n)) != NULL) {
        ag_log_warn("wsd: presence lease had vanished; counting %zu users again", n);
        for (size_t i = 0; i < n; i++) {
            wsd_user_t *u = us[i];
            if (u->online)
                presence_job(w, u, true);
        }
        free(us);
    }
    w->hb_registered = true;
}

static void
on_job(wsd_t *w, wsd_job_t *j)
{
    switch (j->kind) {
    case WSD_JOB_LIVE:
        if (j->st == AG_OK && !w->stopping) {
            w->live_sub = j->sub_a;
            j->sub_a = NULL;
            ag_log_info("wsd: live consumer on CHANNEL_STREAM started");
        }
        wsd_bus_consumer_release(j->sub_a);
        break;
    case WSD_JOB_SUBS: job_subs_done(w, j); break;
    case WSD_JOB_REPLAY:
        if (job_replay_done(w, j))
            return;  /* the attachment owns it until the replay is all sent */
        break;
    case WSD_JOB_USER_UPDATED: job_user_updated_done(w, j); break;
    case WSD_JOB_CONSUMERS: job_consumers_done(w, j); break;
    case WSD_JOB_HEARTBEAT: job_heartbeat_done(w, j); break;
    case WSD_JOB_READ:
    case WSD_JOB_PRESENCE: break;
    }
    wsd_job_free(j);
}

/* loop: everything other threads handed over since the last wake-up */
void
wsd_hub_drain(wsd_t *w)
{
    wsd_in_t *it, *next;
    int64_t   now = ag_now_mono_ms();

    size_t    k = 0;
    bool      more;

    /* at most 256 items per wake-up, so that sockets are written between batches of a burst */
    pthread_mutex_lock(&w->inbox_mu);
    {
        wsd_in_t *last = NULL;
        w->wake_pending = false;   /* what is pushed from now on needs a new wake-up */
        it = w->in_head;
        for (wsd_in_t *p = it; p && k < 256; p = p->next, k++)
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
        wsd_wake(w);  /* come back after this round of writes */
    for (; it; it = next) {
        next = it->next;
        if ((uint64_t)(now - it->at_ms) > w->m.inbox_lag_ms_max)
            w->m.inbox_lag_ms_max = (uint64_t)(now - it->at_ms);
        w->m.events_in++;
        switch (it->kind) {
        case WSD_IN_CHAN_JS: on_channel_js(w, it->nmsg); break;
        case WSD_IN_CORE: on_core(w, it->nmsg); break;
        case WSD_IN_DM:
        case WSD_IN_NOTIFY: on_user_js(w, it); break;
        case WSD_IN_JOB: on_job(w, it->job); break;
        }
        wsd_bus_msg_free(it->nmsg);
        free(it);
    }
}

/* ---- client actions -------------------------------------------------------- */
static bool
typing_allowed(wsd_t *w, wsd_user_t *u, int64_t cid)
{
    int64_t now = ag_now_mono_ms();
    for (size_t i = 0; i < u->ntyping; i++) {
        if (u->typing_cid[i] != cid)
            continue;
        if (now - u->typing_ms[i] < w->typing_ms)
            return false;
        u->typing_ms[i] = now;
        return true;
    }
    int64_t *c = realloc(u->typing_cid, (u->ntyping + 1) * sizeof(*c));
    if (c == NULL)
        return false;
    u->typing_cid = c;
    int64_t *t = realloc(u->typing_ms, (u->ntyping + 1) * sizeof(*t));
    if (t == NULL)
        return false;
    u->typing_ms = t;
    u->typing_cid[u->ntyping] = cid;
    u->typing_ms[u->ntyping++] = now;
    return true;
}

static void
act_typing(wsd_t *w, wsd_sess_t *s, const wsd_action_t *a)
{
    int64_t cid = a->channel_id;
    char    subj[64], body[96];
    int     n;

    if (sess_find_sub(s, cid) == NULL) {
        wsd_sess_error(w, s, "forbidden", "not a member of this channel");
        return;
    }
    if (!typing_allowed(w, s->user, cid))
        return;  /* at most one per typing_interval_ms: silently coalesced */
    snprintf(subj, sizeof(subj), "channel.%lld.typing", (long long)cid);
    n = snprintf(body, sizeof(body), "{\"channelId\":\"%lld\",\"userId\":\"%lld\"}",
                 (long long)cid, (long long)s->user->id);
    wsd_bus_publish(w, subj, body, (size_t)n);
}

static void
act_read(wsd_t *w, wsd_sess_t *s, const wsd_action_t *a)
{
    wsd_job_t *j;

    if (sess_find_sub(s, a->channel_id) == NULL) {
        wsd_sess_error(w, s, "forbidden", "not a member of this channel");
        return;
    }
    if ((j = wsd_job_new(WSD_JOB_READ)) == NULL)
        return;
    j->uid = s->user->id;
    j->cid = a->channel_id;
    j->seq = (uint64_t)a->seq;
    wsd_job_submit(w, j);
}

static void
act_ack(wsd_t *w, wsd_sess_t *s, const wsd_action_t *a)
{
    wsd_user_t *u = s->user;

    for (size_t i = 0; i < u->npend; i++) {
        if (u->pend[i].stream != a->stream || u->pend[i].seq != (uint64_t)a->seq)
            continue;
        wsd_bus_msg_ack(u->pend[i].nmsg);
        wsd_bus_msg_free(u->pend[i].nmsg);
        wsd_msg_unref(u->pend[i].frame);
        u->pend[i] = u->pend[--u->npend];
        return;
    }
    /* unknown or already acked by another session: nothing to do (at least once) */
}

void
wsd_hub_action(wsd_t *w, wsd_sess_t *s, const char *text, size_t len)
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
        act_ack(w, s, &a);
    }
}

/* ---- housekeeping ----------------------------------------------------------- */
void
wsd_hub_tick(wsd_t *w)
{
    int64_t now = ag_now_mono_ms();
    size_t  n;
    void  **users;

    if (w->live_sub && !wsd_bus_sub_valid(w->live_sub)) {
        ag_log_warn("wsd: live consumer lost; recreating");
        wsd_bus_consumer_release(w->live_sub);
        w->live_sub = NULL;
        wsd_job_submit(w, wsd_job_new(WSD_JOB_LIVE));
    }
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
    for (size_t i = 0; i < n; i++) {
        wsd_user_t *u = users[i];
        if (u->n > 0 && u->dm_sub == NULL && !u->consumers_pending && u->consumers_retry_ms &&
            now >= u->consumers_retry_ms) {
            wsd_job_t *j = wsd_job_new(WSD_JOB_CONSUMERS);
            if (j) {
                j->uid = u->id;
                u->consumers_pending = true;
                u->consumers_retry_ms = 0;
                wsd_job_submit(w, j);
            }
        }
    }
    free(users);
}

/* loop, at SIGTERM: ask every session to close (1001); CLOSED callbacks clean up */
void
wsd_hub_shutdown(wsd_t *w)
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
            presence_job(w, u, false);
    }
    free(ss);
}
