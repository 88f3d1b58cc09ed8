/*
 * wsd/channels.c — channels with a local session, the attachments of sessions
 * to them, and the fan-out of channel events (loop thread).
 *
 * A channel record exists while at least one local session is attached; it
 * holds the core subscriptions of channel.<id>.typing, .updated and
 * .member.* (lib/events' vocabulary). Sequenced events (CHANNEL_STREAM, from live.c) go to
 * each attachment at most once, by stream sequence; while an attachment
 * replays (replay.c) they are held and handed over after it.
 */
#include "wsd.h"
#include "gqlws.h"
#include "protocol.h"
#include "json/json.h"
#include "log/log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A string member that goes into a hand-built frame, if it is an id (wsd_token_ok). */
static const char *
tok(const char *s)
{
    return wsd_token_ok(s) ? s : NULL;
}

wsd_att_t *
wsd_sess_att(wsd_sess_t *s, int64_t cid)
{
    for (size_t i = 0; i < s->natts; i++)
        if (s->atts[i]->chan->id == cid)
            return s->atts[i];
    return NULL;
}

wsd_att_t *
wsd_chan_attach(wsd_t *w, wsd_sess_t *s, int64_t cid)
{
    wsd_att_t  *att = wsd_sess_att(s, cid);
    wsd_chan_t *c;

    if (att)
        return att;
    if ((c = wsd_map_get(&w->chans, cid)) == NULL) {
        if ((c = calloc(1, sizeof(*c))) == NULL)
            return NULL;
        c->id = cid;
        if (wsd_map_put(&w->chans, cid, c) != 0) {
            free(c);
            return NULL;
        }
        c->core = wsd_bus_sub_channel(w, cid); /* first local session of the channel */
    }
    if ((att = calloc(1, sizeof(*att))) == NULL ||
        AG_ARRAY_RESERVE(c->atts, c->cap, c->n + 1, 4) != AG_OK ||
        AG_ARRAY_RESERVE(s->atts, s->capatts, s->natts + 1, 4) != AG_OK) {
        free(att);
        return NULL;
    }
    att->sess = s;
    att->chan = c;
    c->atts[c->n++] = att;
    s->atts[s->natts++] = att;
    return att;
}

static void
att_drop_held(wsd_att_t *att)
{
    for (size_t i = 0; i < att->nheld; i++)
        wsd_msg_unref(att->held[i].m);
    free(att->held);
    att->held = NULL;
    att->nheld = att->capheld = 0;
}

void
wsd_chan_detach(wsd_t *w, wsd_att_t *att)
{
    wsd_chan_t *c = att->chan;
    wsd_sess_t *s = att->sess;

    if (s->gql)
        wsd_gql_detached(w, s, c->id); /* its subscriptions there end: forbidden */
    for (size_t i = 0; i < c->n; i++)
        if (c->atts[i] == att) {
            c->atts[i] = c->atts[--c->n];
            break;
        }
    for (size_t i = 0; i < s->natts; i++)
        if (s->atts[i] == att) {
            s->atts[i] = s->atts[--s->natts];
            break;
        }
    att_drop_held(att);
    if (att->rjob)
        s->nreplays--;
    wsd_job_free(att->rjob);
    free(att);
    if (c->n == 0) { /* last local session left the channel */
        wsd_map_del(&w->chans, c->id);
        wsd_gql_chan_free(c);
        wsd_bus_unsub(c->core);
        free(c->atts);
        free(c);
    }
}

/* A sequenced channel event to one attachment: held while replaying, deduped by seq. */
static void
deliver_seq(wsd_t *w, wsd_att_t *att, uint64_t seq, wsd_msg_t *m)
{
    if (att->replaying) {
        if (AG_ARRAY_RESERVE(att->held, att->capheld, att->nheld + 1, 16) != AG_OK)
            return; /* ENOMEM: the replay (to the stream's end) still covers it */
        m->refs++;
        att->held[att->nheld++] = (struct wsd_held){.m = m, .seq = seq};
        return;
    }
    if (seq <= att->last_seq)
        return; /* seen in the replay */
    att->last_seq = seq;
    wsd_sess_send(w, att->sess, m);
}

/* {"type":"reaction","channelId","targetId","emoji","userId","op","seq"} (CONTRACT §9) */
static wsd_msg_t *
reaction_frame(const ag_ev_t *ev, uint64_t seq)
{
    ag_buf_t   emoji;
    wsd_msg_t *m = NULL;

    if (wsd_reaction_ok(ev, &emoji) && ev->user_id > 0)
        m = wsd_msg_printf(false,
                           "{\"type\":\"reaction\",\"channelId\":\"%lld\",\"targetId\":\"%s\","
                           "\"emoji\":%s,\"userId\":\"%lld\",\"op\":\"%s\",\"seq\":%llu}",
                           (long long)ev->id, ev->target_id, emoji.data, (long long)ev->user_id,
                           ev->op, (unsigned long long)seq);
    ag_buf_fini(&emoji);
    return m;
}

/* The client frame of a decoded CHANNEL_STREAM event (CONTRACT §4, §9), NULL when malformed. */
static wsd_msg_t *
frame_of(const ag_ev_t *ev, uint64_t seq)
{
    const char  *a, *b;
    ag_ev_verb_t verb = ag_ev_verb(ev->tok);

    switch (verb) {
    case AG_EV_VERB_CREATED:
    case AG_EV_VERB_UPDATED:
    case AG_EV_VERB_DELETED:
        if ((a = tok(ev->message_id)))
            return wsd_msg_printf(false,
                                  "{\"type\":\"%s\",\"channelId\":\"%lld\",\"messageId\":\"%s\","
                                  "\"seq\":%llu}",
                                  verb == AG_EV_VERB_CREATED   ? "channel_message"
                                  : verb == AG_EV_VERB_UPDATED ? "message_updated"
                                                               : "message_deleted",
                                  (long long)ev->id, a, (unsigned long long)seq);
        break;
    case AG_EV_VERB_COMMENTED:
    case AG_EV_VERB_COMMENT_UPDATED:
    case AG_EV_VERB_COMMENT_DELETED:
        if ((a = tok(ev->post_id)) && (b = tok(ev->comment_id)))
            return wsd_msg_printf(false,
                                  "{\"type\":\"%s\",\"channelId\":\"%lld\","
                                  "\"postId\":\"%s\",\"commentId\":\"%s\",\"seq\":%llu}",
                                  verb == AG_EV_VERB_COMMENTED ? "comment_created" : ev->tok,
                                  (long long)ev->id, a, b, (unsigned long long)seq);
        break;
    case AG_EV_VERB_REPLIED:
    case AG_EV_VERB_REPLY_UPDATED:
    case AG_EV_VERB_REPLY_DELETED:
        if ((a = tok(ev->comment_id)) && (b = tok(ev->reply_id)))
            return wsd_msg_printf(false,
                                  "{\"type\":\"%s\",\"channelId\":\"%lld\","
                                  "\"commentId\":\"%s\",\"replyId\":\"%s\",\"seq\":%llu}",
                                  verb == AG_EV_VERB_REPLIED ? "reply_created" : ev->tok,
                                  (long long)ev->id, a, b, (unsigned long long)seq);
        break;
    case AG_EV_VERB_REACTION:
        return reaction_frame(ev, seq);
    case AG_EV_VERB_NONE:
        break;
    }
    return NULL;
}

/* Decode a CHANNEL_STREAM event; false when it is not one (ag_ev_fini either way). */
static bool
decode_message(wsd_event_t *e, ag_ev_t *ev)
{
    size_t      len;
    const char *data = wsd_event_data(e, &len);
    return ag_ev_decode(wsd_event_subject(e), data, len, ev) == AG_OK &&
           ev->subject == AG_EV_MESSAGE;
}

wsd_msg_t *
wsd_chan_frame(wsd_event_t *e, uint64_t seq)
{
    ag_ev_t    ev;
    wsd_msg_t *m = decode_message(e, &ev) ? frame_of(&ev, seq) : NULL;

    ag_ev_fini(&ev);
    return m;
}

void
wsd_chan_deliver(wsd_t *w, wsd_event_t *e, uint64_t seq)
{
    int64_t     cid = 0;
    wsd_chan_t *c;
    wsd_msg_t  *m;

    w->m.live_in++;
    /* the subject names the channel: an event no local session holds is not decoded */
    if (ag_ev_match(wsd_event_subject(e), &cid, NULL, 0) != AG_EV_MESSAGE ||
        (c = wsd_map_get(&w->chans, cid)) == NULL) {
        w->m.live_unheld++; /* no local session in this channel: intake for nothing */
        return;
    }
    if ((m = wsd_chan_frame(e, seq)) == NULL)
        return;
    /*
     * Memory-bound: each recipient is an attachment, its session and lws's wsi, cold
     * again after the previous event's writes went through the kernel. Fetch them a
     * few recipients ahead.
     */
    for (size_t i = 0; i < c->n; i++) {
        if (i + 8 < c->n)
            __builtin_prefetch(c->atts[i + 8]);
        if (i + 4 < c->n)
            __builtin_prefetch(c->atts[i + 4]->sess);
        if (c->atts[i]->sess->ready)
            deliver_seq(w, c->atts[i], seq, m);
    }
    if (c->gql)
        wsd_gql_chan_event(w, c, m, seq); /* GraphQL subscriptions (gqlws_events.c) */
    wsd_msg_unref(m);
}

void
wsd_chan_fanout(wsd_t *w, int64_t cid, wsd_msg_t *m, int64_t except)
{
    wsd_chan_t *c = wsd_map_get(&w->chans, cid);
    if (c == NULL || m == NULL)
        return;
    for (size_t i = 0; i < c->n; i++) {
        wsd_sess_t *s = c->atts[i]->sess;
        if (!s->ready || s->user->id == except || s->stamp == w->stamp)
            continue;
        s->stamp = w->stamp;
        wsd_sess_send(w, s, m);
    }
}

void
wsd_chan_gap_all(wsd_t *w, uint64_t from, uint64_t to, bool reset)
{
    size_t n;
    void **cs = wsd_map_values(&w->chans, &n);

    for (size_t i = 0; cs && i < n; i++) {
        wsd_chan_t *c = cs[i];
        wsd_msg_t  *m =
            wsd_msg_printf(false,
                           "{\"type\":\"gap\",\"channelId\":\"%lld\","
                           "\"fromSeq\":%llu,\"toSeq\":%llu}",
                           (long long)c->id, (unsigned long long)from, (unsigned long long)to);
        for (size_t k = 0; k < c->n; k++) {
            wsd_att_t *att = c->atts[k];
            if (reset)
                att->last_seq = 0;
            if (att->sess->ready) {
                wsd_sess_send(w, att->sess, m);
                w->m.gaps++;
            }
        }
        wsd_msg_unref(m);
        wsd_gql_chan_gap(w, c, from, to, reset);
    }
    free(cs);
}

void
wsd_chan_member_sync(wsd_t *w, int64_t uid, int64_t cid, bool joined)
{
    wsd_user_t *u = wsd_user_get(w, uid, false);
    for (size_t i = 0; u && i < u->n; i++) {
        wsd_sess_t *s = u->sess[i];
        wsd_att_t  *att = wsd_sess_att(s, cid);
        if (joined && att == NULL && !s->gql)
            wsd_chan_attach(w, s, cid); /* live from now on; no offset yet, so no replay */
        else if (!joined && att)
            wsd_chan_detach(w, att);
    }
}

/* member_joined|left of user uid in channel cid: to the channel's sessions, and to
 * the user's own, attached first (joined) or detached after (left). Both
 * user.<id>.subs.changed and channel.<id>.member.* attach or detach: they come on two
 * subscriptions, which nats.c may hand over in either order, and whichever is first
 * does it. */
static void
member_event(wsd_t *w, int64_t cid, int64_t uid, bool joined, wsd_msg_t *m)
{
    wsd_user_t *u;

    if (joined)
        wsd_chan_member_sync(w, uid, cid, true);
    wsd_chan_fanout(w, cid, m, 0);
    if (joined || (u = wsd_user_get(w, uid, false)) == NULL)
        return;
    for (size_t i = 0; i < u->n; i++) { /* subs.changed came first: already detached */
        wsd_sess_t *s = u->sess[i];
        if (s->ready && s->stamp != w->stamp) {
            s->stamp = w->stamp;
            wsd_sess_send(w, s, m);
        }
    }
    wsd_chan_member_sync(w, uid, cid, false);
}

/* channel.<cid>.typing, .updated, .member.joined|left (core NATS) */
void
wsd_chan_core(wsd_t *w, const ag_ev_t *ev)
{
    wsd_msg_t *m = NULL;
    int64_t    cid = ev->id, other = ev->user_id;
    bool       joined = ev->tok && strcmp(ev->tok, AG_EV_JOINED) == 0;

    if (ev->subject == AG_EV_TYPING && other > 0) {
        m = wsd_msg_printf(true,
                           "{\"type\":\"user_typing\",\"channelId\":\"%lld\","
                           "\"userId\":\"%lld\"}",
                           (long long)cid, (long long)other);
        wsd_chan_fanout(w, cid, m, other);
    } else if (ev->subject == AG_EV_CHANNEL_UPDATED) {
        m = wsd_msg_printf(false, "{\"type\":\"channel_updated\",\"channelId\":\"%lld\"}",
                           (long long)cid);
        wsd_chan_fanout(w, cid, m, 0);
    } else if (ev->subject == AG_EV_MEMBER && other > 0 &&
               (joined || strcmp(ev->tok, AG_EV_LEFT) == 0)) {
        m = wsd_msg_printf(false,
                           "{\"type\":\"member_%s\",\"channelId\":\"%lld\","
                           "\"userId\":\"%lld\"}",
                           ev->tok, (long long)cid, (long long)other);
        if (m)
            member_event(w, cid, other, joined, m);
    }
    wsd_msg_unref(m);
}
