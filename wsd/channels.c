/*
 * wsd/channels.c — channels with a local session, the attachments of sessions
 * to them, and the fan-out of channel events (loop thread).
 *
 * A channel record exists while at least one local session is attached; it
 * holds the core subscriptions of channel.<id>.* (typing, updated) and
 * channel.<id>.member.*. Sequenced events (CHANNEL_STREAM, from live.c) go to
 * each attachment at most once, by stream sequence; while an attachment
 * replays (replay.c) they are held and handed over after it.
 */
#include "wsd.h"
#include "protocol.h"
#include "json/json.h"
#include "log/log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
        !wsd_grow((void ***)&c->atts, &c->cap, c->n + 1) ||
        !wsd_grow((void ***)&s->atts, &s->capatts, s->natts + 1)) {
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
        wsd_msg_unref(att->held[i]);
    free(att->held);
    free(att->held_seq);
    att->held = NULL;
    att->held_seq = NULL;
    att->nheld = att->capheld = 0;
}

void
wsd_chan_detach(wsd_t *w, wsd_att_t *att)
{
    wsd_chan_t *c = att->chan;
    wsd_sess_t *s = att->sess;

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
        if (att->nheld == att->capheld) {
            size_t      nc = att->capheld ? att->capheld * 2 : 16;
            wsd_msg_t **h = realloc(att->held, nc * sizeof(*h));
            uint64_t   *hs = h ? realloc(att->held_seq, nc * sizeof(*hs)) : NULL;
            if (h)
                att->held = h;
            if (hs == NULL)
                return; /* ENOMEM: the replay (to the stream's end) still covers it */
            att->held_seq = hs;
            att->capheld = nc;
        }
        m->refs++;
        att->held[att->nheld] = m;
        att->held_seq[att->nheld++] = seq;
        return;
    }
    if (seq <= att->last_seq)
        return; /* seen in the replay */
    att->last_seq = seq;
    wsd_sess_send(w, att->sess, m);
}

/* "channel.<id>.message.<verb>" → id and verb */
static bool
message_subject(const char *subj, int64_t *cid, const char **verb)
{
    char *end;
    if (subj == NULL || strncmp(subj, "channel.", 8) != 0)
        return false;
    *cid = strtoll(subj + 8, &end, 10);
    if (end == subj + 8 || *cid <= 0 || strncmp(end, ".message.", 9) != 0)
        return false;
    *verb = end + 9;
    return true;
}

/*
 * {"type":"reaction","channelId","targetId","emoji","userId","op","seq"} (CONTRACT §9). The
 * emoji is the one field that is not an id: it is escaped as JSON, and bounded like the
 * store bounds it, so a malformed event cannot inflate frames.
 */
static wsd_msg_t *
reaction_frame(int64_t cid, uint64_t seq, ag_json_t *p)
{
    const char *t = jstr(p, "targetId"), *op = jstr(p, "op"), *emoji = NULL;
    int64_t     uid;
    ag_buf_t    b;
    wsd_msg_t  *m = NULL;

    if (t == NULL || op == NULL || (strcmp(op, "added") != 0 && strcmp(op, "removed") != 0) ||
        !wsd_json_id(p, "userId", &uid) || ag_json_get_str(p, "emoji", &emoji) != AG_OK ||
        emoji == NULL || *emoji == '\0' || strlen(emoji) > 64)
        return NULL;
    ag_buf_init(&b);
    ag_json_escape(&b, emoji, strlen(emoji));
    if (b.data)
        m = wsd_msg_printf(false,
                           "{\"type\":\"reaction\",\"channelId\":\"%lld\",\"targetId\":\"%s\","
                           "\"emoji\":%s,\"userId\":\"%lld\",\"op\":\"%s\",\"seq\":%llu}",
                           (long long)cid, t, b.data, (long long)uid, op, (unsigned long long)seq);
    ag_buf_fini(&b);
    return m;
}

static wsd_msg_t *
frame_of(int64_t cid, const char *ev, uint64_t seq, ag_json_t *p)
{
    const char *a, *b;

    if (strcmp(ev, "created") == 0 || strcmp(ev, "updated") == 0 || strcmp(ev, "deleted") == 0) {
        const char *type = ev[0] == 'c'   ? "channel_message"
                           : ev[0] == 'u' ? "message_updated"
                                          : "message_deleted";
        if ((a = jstr(p, "messageId")))
            return wsd_msg_printf(false,
                                  "{\"type\":\"%s\",\"channelId\":\"%lld\",\"messageId\":\"%s\","
                                  "\"seq\":%llu}",
                                  type, (long long)cid, a, (unsigned long long)seq);
    } else if (strcmp(ev, "commented") == 0) {
        if ((a = jstr(p, "postId")) && (b = jstr(p, "commentId")))
            return wsd_msg_printf(false,
                                  "{\"type\":\"comment_created\",\"channelId\":\"%lld\","
                                  "\"postId\":\"%s\",\"commentId\":\"%s\",\"seq\":%llu}",
                                  (long long)cid, a, b, (unsigned long long)seq);
    } else if (strcmp(ev, "replied") == 0 || strcmp(ev, "reply_updated") == 0 ||
               strcmp(ev, "reply_deleted") == 0) {
        const char *type = strcmp(ev, "replied") == 0 ? "reply_created" : ev;
        if ((a = jstr(p, "commentId")) && (b = jstr(p, "replyId")))
            return wsd_msg_printf(false,
                                  "{\"type\":\"%s\",\"channelId\":\"%lld\","
                                  "\"commentId\":\"%s\",\"replyId\":\"%s\",\"seq\":%llu}",
                                  type, (long long)cid, a, b, (unsigned long long)seq);
    } else if (strcmp(ev, "comment_updated") == 0 || strcmp(ev, "comment_deleted") == 0) {
        if ((a = jstr(p, "postId")) && (b = jstr(p, "commentId")))
            return wsd_msg_printf(false,
                                  "{\"type\":\"%s\",\"channelId\":\"%lld\","
                                  "\"postId\":\"%s\",\"commentId\":\"%s\",\"seq\":%llu}",
                                  ev, (long long)cid, a, b, (unsigned long long)seq);
    } else if (strcmp(ev, "reaction") == 0) {
        return reaction_frame(cid, seq, p);
    }
    return NULL;
}

wsd_msg_t *
wsd_chan_frame(wsd_event_t *ev, uint64_t seq)
{
    const char *verb;
    int64_t     cid;
    size_t      len;
    const char *data = wsd_event_data(ev, &len);
    char        err[128];
    ag_json_t  *p;
    wsd_msg_t  *m = NULL;

    if (!message_subject(wsd_event_subject(ev), &cid, &verb))
        return NULL;
    if ((p = ag_json_parse(data, len, 8, err, sizeof(err))) == NULL)
        return NULL;
    if (ag_json_type(p) == AG_JSON_OBJECT)
        m = frame_of(cid, verb, seq, p);
    ag_json_free(p);
    return m;
}

void
wsd_chan_deliver(wsd_t *w, wsd_event_t *ev, uint64_t seq)
{
    const char *verb;
    int64_t     cid;
    wsd_chan_t *c;
    wsd_msg_t  *m;

    if (!message_subject(wsd_event_subject(ev), &cid, &verb) ||
        (c = wsd_map_get(&w->chans, cid)) == NULL)
        return; /* no local session in this channel */
    if ((m = wsd_chan_frame(ev, seq)) == NULL)
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
        if (joined && att == NULL)
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

/* channel.<cid>.<rest>: typing, updated, member.joined|left (core NATS) */
void
wsd_chan_core(wsd_t *w, int64_t cid, const char *rest, ag_json_t *p)
{
    wsd_msg_t *m = NULL;
    int64_t    other;

    if (strcmp(rest, "typing") == 0 && wsd_json_id(p, "userId", &other)) {
        m = wsd_msg_printf(true,
                           "{\"type\":\"user_typing\",\"channelId\":\"%lld\","
                           "\"userId\":\"%lld\"}",
                           (long long)cid, (long long)other);
        wsd_chan_fanout(w, cid, m, other);
    } else if (strcmp(rest, "updated") == 0) {
        m = wsd_msg_printf(false, "{\"type\":\"channel_updated\",\"channelId\":\"%lld\"}",
                           (long long)cid);
        wsd_chan_fanout(w, cid, m, 0);
    } else if ((strcmp(rest, "member.joined") == 0 || strcmp(rest, "member.left") == 0) &&
               wsd_json_id(p, "userId", &other)) {
        m = wsd_msg_printf(false,
                           "{\"type\":\"member_%s\",\"channelId\":\"%lld\","
                           "\"userId\":\"%lld\"}",
                           rest + 7, (long long)cid, (long long)other);
        if (m)
            member_event(w, cid, other, rest[7] == 'j', m);
    }
    wsd_msg_unref(m);
}
