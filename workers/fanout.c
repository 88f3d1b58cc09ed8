/*
 * workers/fanout.c — `agora-worker fanout`: notifications from channel
 * events. A new post, comment or reply notifies every @username it mentions
 * (kind mention); a comment notifies the post's author (comment), a reply
 * the comment's author (reply). Never the actor; who else may be told (the
 * channel readable to them, no block, the channel's level) ag_notify decides
 * in its insert. Each notification has a dedupe key of event, recipient and
 * kind, so a redelivered event stores and publishes nothing new (ag_notify).
 * An edited post notifies users newly mentioned by the edit: the mention key
 * names the post, not the event, so those mentioned before are not told twice.
 * It also keeps the unread counts' record of each post (attention_posts) as
 * the stream has it: the stream sequence of its created event, its mentions
 * after an edit, its removal after a deletion.
 */
#include "worker.h"
#include "log/log.h"

/* Who already got a notification for this message (the author of what was answered); a wall
 * of @names notifies the first AG_MENTIONS_MAX. */
typedef struct {
    int64_t done[AG_MENTIONS_MAX + 2];
    size_t  n;
} sent_t;

static bool
sent_has(const sent_t *s, int64_t uid)
{
    for (size_t i = 0; i < s->n; i++)
        if (s->done[i] == uid)
            return true;
    return false;
}

static ag_status_t
store_fail(worker_t *w, ag_status_t st, const char *what)
{
    if (st == AG_EUNAVAIL)
        return worker_fail(w, st, "%s: store unavailable: %s", what, ag_content_error(w->content));
    return worker_fail(w, st == AG_EBADREQ ? AG_EINTERNAL : st, "%s: %s", what,
                       ag_content_error(w->content));
}

/* One notification, unless uid is the actor or was told already; ag_notify applies who may
 * read the channel, blocks and levels. */
static ag_status_t
notify(worker_t *w, ag_arena_t *a, sent_t *sent, int64_t uid, const char *kind, int64_t actor,
       int64_t channel_id, const char *post_id, const char *key_doc)
{
    bool        created = false;
    ag_status_t st;

    if (uid == actor || sent_has(sent, uid))
        return AG_OK;
    if (sent->n < AG_ARRAY_LEN(sent->done))
        sent->done[sent->n++] = uid;
    const char *key = ag_arena_printf(a, "%s:%s:%lld", kind, key_doc, (long long)uid);
    st = ag_notify(&w->m, a, uid, kind, actor, channel_id, post_id, key, &created);
    if (st != AG_OK)
        return worker_fail(w, st, "notify: %s", ag_db_error(w->m.db));
    if (created)
        w->n.done++;
    return AG_OK;
}

static ag_status_t
notify_mentioned(worker_t *w, ag_arena_t *a, sent_t *sent, const int64_t *ids, size_t n,
                 int64_t actor, int64_t channel_id, const char *post_id, const char *key_doc)
{
    ag_status_t st = AG_OK;
    for (size_t i = 0; i < n && st == AG_OK; i++)
        st = notify(w, a, sent, ids[i], AG_EV_KIND_MENTION, actor, channel_id, post_id, key_doc);
    return st;
}

/* The @mentions of a comment or a reply. */
static ag_status_t
mentions(worker_t *w, ag_arena_t *a, sent_t *sent, const char *body, int64_t actor,
         int64_t channel_id, const char *post_id, const char *key_doc)
{
    int64_t    *ids = NULL;
    size_t      n = 0;
    ag_status_t st = ag_mentions_resolve(&w->m, a, body, &ids, &n);

    if (st != AG_OK)
        return worker_fail(w, st, "mentioned users: %s", ag_db_error(w->m.db));
    return notify_mentioned(w, a, sent, ids, n, actor, channel_id, post_id, key_doc);
}

/*
 * The unread counts' record of the post (lib/model/attention.c), as the event
 * says: a created event gives the post its stream sequence (the writer could
 * not when its publish was left to the outbox), an edit its mentions again.
 * The same round trip returns whom the post mentions.
 */
static ag_status_t
attention(worker_t *w, ag_arena_t *a, const ag_content_post_t *p, const worker_event_t *ev,
          uint64_t seq, int64_t **ids, size_t *n)
{
    ag_attention_post_t ap = {.post_id = p->id,
                              .channel_id = p->channel_id,
                              .author_id = p->author_id,
                              .body = p->body,
                              .created_ms = p->created_at,
                              .seq = seq};
    ag_status_t         st = ev->verb == AG_EV_VERB_CREATED
                                 ? ag_attention_post_put(&w->m, a, &ap, ids, n)
                                 : ag_attention_post_edit(&w->m, a, p->id, p->body, ids, n);
    if (st == AG_ENOTFOUND) {
        *n = 0;
        return AG_OK; /* the channel is gone, and its posts with it: nobody to tell */
    }
    return st == AG_OK ? AG_OK : worker_fail(w, st, "unread counts: %s", ag_db_error(w->m.db));
}

/* A deleted post leaves the unread counts (the writer did it too, unless it failed). */
static ag_status_t
on_deleted(worker_t *w, ag_arena_t *a, const worker_event_t *ev)
{
    ag_status_t st = ag_attention_post_gone(&w->m, a, ev->message_id);
    return st == AG_OK ? AG_OK : worker_fail(w, st, "unread counts: %s", ag_db_error(w->m.db));
}

/*
 * A created event of a post the writer recorded (almost all of them): who it
 * mentions is in that record, so the post itself need not be read. *done
 * false: no record, the caller reads the post. (A post whose deletion could not
 * remove its record notifies its mentions once more; its deleted event removes
 * the record next.)
 */
static ag_status_t
on_created(worker_t *w, ag_arena_t *a, const worker_event_t *ev, uint64_t seq, bool *done)
{
    ag_attention_post_t ap;
    sent_t              sent = {.n = 0};
    int64_t            *ids = NULL;
    size_t              n = 0;
    ag_status_t st = ag_attention_post_claim(&w->m, a, ev->message_id, seq, &ap, &ids, &n, done);

    if (st != AG_OK)
        return worker_fail(w, st, "unread counts: %s", ag_db_error(w->m.db));
    if (!*done)
        return AG_OK;
    return notify_mentioned(w, a, &sent, ids, n, ap.author_id, ap.channel_id, ev->message_id,
                            ev->message_id);
}

static ag_status_t
on_post(worker_t *w, ag_arena_t *a, const worker_event_t *ev, uint64_t seq)
{
    ag_content_post_t *p = NULL;
    sent_t             sent = {.n = 0};
    int64_t           *ids = NULL;
    size_t             n = 0;
    bool               done = false;
    ag_status_t        st;

    if (ev->verb == AG_EV_VERB_CREATED &&
        ((st = on_created(w, a, ev, seq, &done)) != AG_OK || done))
        return st;
    if ((st = ag_content_post_get(w->content, a, ev->message_id, &p)) == AG_ENOTFOUND) {
        w->n.skipped++; /* deleted since: nothing to tell, nothing to count */
        return on_deleted(w, a, ev);
    }
    if (st != AG_OK)
        return store_fail(w, st, "post");
    if ((st = attention(w, a, p, ev, seq, &ids, &n)) != AG_OK)
        return st;
    return notify_mentioned(w, a, &sent, ids, n, p->author_id, p->channel_id, p->id, p->id);
}

static ag_status_t
on_comment(worker_t *w, ag_arena_t *a, const worker_event_t *ev)
{
    ag_content_comment_t *cm = NULL;
    ag_content_post_t    *p = NULL;
    sent_t                sent = {.n = 0};
    ag_status_t           st;

    st = ag_content_comment_get(w->content, a, ev->comment_id, &cm);
    if (st == AG_OK)
        st = ag_content_post_get(w->content, a, cm->post_id, &p);
    if (st == AG_ENOTFOUND) {
        w->n.skipped++;
        return AG_OK;
    }
    if (st != AG_OK)
        return store_fail(w, st, "comment");
    st = notify(w, a, &sent, p->author_id, AG_EV_KIND_COMMENT, cm->author_id, cm->channel_id, p->id,
                cm->id);
    if (st == AG_OK)
        st = mentions(w, a, &sent, cm->body, cm->author_id, cm->channel_id, p->id, cm->id);
    return st;
}

static ag_status_t
on_reply(worker_t *w, ag_arena_t *a, const worker_event_t *ev)
{
    ag_content_reply_t   *r = NULL;
    ag_content_comment_t *cm = NULL;
    sent_t                sent = {.n = 0};
    ag_status_t           st;

    st = ag_content_reply_get(w->content, a, ev->reply_id, &r);
    if (st == AG_OK)
        st = ag_content_comment_get(w->content, a, r->comment_id, &cm);
    if (st == AG_ENOTFOUND) {
        w->n.skipped++;
        return AG_OK;
    }
    if (st != AG_OK)
        return store_fail(w, st, "reply");
    st = notify(w, a, &sent, cm->author_id, AG_EV_KIND_REPLY, r->author_id, r->channel_id,
                r->post_id, r->id);
    if (st == AG_OK)
        st = mentions(w, a, &sent, r->body, r->author_id, r->channel_id, r->post_id, r->id);
    return st;
}

ag_status_t
worker_fanout_handle(worker_t *w, const worker_msg_t *m, ag_arena_t *a)
{
    worker_event_t ev;
    ag_status_t    st;

    if ((st = worker_event_parse(w, m, a, &ev)) != AG_OK)
        return st;
    switch (ev.verb) {
    case AG_EV_VERB_CREATED:
    case AG_EV_VERB_UPDATED:
        return on_post(w, a, &ev, m->seq);
    case AG_EV_VERB_COMMENTED:
        return on_comment(w, a, &ev);
    case AG_EV_VERB_REPLIED:
        return on_reply(w, a, &ev);
    case AG_EV_VERB_DELETED:
        return on_deleted(w, a, &ev);
    default:
        return AG_OK;
    }
}
