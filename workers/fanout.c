/*
 * workers/fanout.c — `agora-worker fanout`: notifications from channel
 * events. A new post, comment or reply notifies every @username it mentions
 * (kind mention); a comment notifies the post's author (comment), a reply
 * the comment's author (reply). Never the actor, only users who may read the
 * channel. Each notification has a dedupe key of event, recipient and kind,
 * so a redelivered event stores and publishes nothing new (ag_notify).
 * An edited post notifies users newly mentioned by the edit: the mention key
 * names the post, not the event, so those mentioned before are not told twice.
 */
#include "worker.h"
#include "log/log.h"

#include <ctype.h>
#include <string.h>

#define MENTIONS_MAX 50    /* per message: a wall of @names notifies the first 50 */

/* Who already got a notification for this message (the author of what was answered). */
typedef struct {
    int64_t done[MENTIONS_MAX + 2];
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
        return worker_fail(w, st, "%s: store unavailable: %s", what,
                           ag_content_error(w->content));
    return worker_fail(w, st == AG_EBADREQ ? AG_EINTERNAL : st, "%s: %s", what,
                       ag_content_error(w->content));
}

/* One notification, unless uid is the actor or may not read the channel. */
static ag_status_t
notify(worker_t *w, ag_arena_t *a, sent_t *sent, int64_t uid, const char *kind, int64_t actor,
       int64_t channel_id, const char *post_id, const char *key_doc)
{
    ag_channel_access_t acc;
    bool                created = false;
    const char         *why;
    ag_status_t         st;

    if (uid == actor || sent_has(sent, uid))
        return AG_OK;
    if (sent->n < AG_ARRAY_LEN(sent->done))
        sent->done[sent->n++] = uid;
    if ((st = ag_channel_access(&w->m, a, channel_id, uid, &acc)) != AG_OK)
        return worker_fail(w, st, "channel access: %s", ag_db_error(w->m.db));
    if (ag_access_check(&acc, AG_ACCESS_READ, &why) != AG_OK) {
        w->n.skipped++;
        return AG_OK;
    }
    const char *key = ag_arena_printf(a, "%s:%s:%lld", kind, key_doc, (long long)uid);
    st = ag_notify(&w->m, a, uid, kind, actor, channel_id, post_id, key, &created);
    if (st != AG_OK)
        return worker_fail(w, st, "notify: %s", ag_db_error(w->m.db));
    if (created)
        w->n.done++;
    return AG_OK;
}

/* The @usernames of body (at most MENTIONS_MAX), lowercased, into names; their count. */
static size_t
mentioned(ag_arena_t *a, const char *body, const char **names)
{
    size_t found = 0;

    for (const char *p = body; (p = strchr(p, '@')) != NULL && found < MENTIONS_MAX;) {
        /* "a@b" is an address, not a mention: '@' must start a word */
        bool starts = p == body || !(isalnum((unsigned char)p[-1]) || p[-1] == '_');
        size_t n = 0;
        char   name[33];
        p++;
        while (n < 33 && (isalnum((unsigned char)p[n]) || p[n] == '_'))
            n++;
        if (!starts || n < 3 || n > 32)
            continue;
        for (size_t i = 0; i < n; i++)
            name[i] = (char)tolower((unsigned char)p[i]);
        name[n] = '\0';
        if ((names[found] = ag_arena_strdup(a, name)) != NULL)
            found++;
        p += n;
    }
    return found;
}

static ag_status_t
mentions(worker_t *w, ag_arena_t *a, sent_t *sent, const char *body, int64_t actor,
         int64_t channel_id, const char *post_id, const char *key_doc)
{
    const char *names[MENTIONS_MAX];
    int64_t    *ids = NULL;
    size_t      n = mentioned(a, body, names), nids = 0;
    ag_status_t st;

    if (n == 0)
        return AG_OK;
    if ((st = ag_users_by_username(&w->m, a, names, n, &ids, &nids)) != AG_OK)
        return worker_fail(w, st, "mentioned users: %s", ag_db_error(w->m.db));
    for (size_t i = 0; i < nids; i++) {
        st = notify(w, a, sent, ids[i], AG_EV_KIND_MENTION, actor, channel_id, post_id, key_doc);
        if (st != AG_OK)
            return st;
    }
    return AG_OK;
}

static ag_status_t
on_post(worker_t *w, ag_arena_t *a, const worker_event_t *ev)
{
    ag_content_post_t *p = NULL;
    sent_t             sent = {.n = 0};
    ag_status_t        st = ag_content_post_get(w->content, a, ev->message_id, &p);

    if (st == AG_ENOTFOUND) {
        w->n.skipped++;   /* deleted since: nothing to tell */
        return AG_OK;
    }
    if (st != AG_OK)
        return store_fail(w, st, "post");
    return mentions(w, a, &sent, p->body, p->author_id, p->channel_id, p->id, p->id);
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
        return on_post(w, a, &ev);
    case AG_EV_VERB_COMMENTED:
        return on_comment(w, a, &ev);
    case AG_EV_VERB_REPLIED:
        return on_reply(w, a, &ev);
    default:
        return AG_OK; /* deleted: nothing to notify */
    }
}
