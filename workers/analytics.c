/*
 * workers/analytics.c — `agora-worker analytics`: one channel_activity row
 * per post, comment and reply (lib/model, ag_activity_record), dated by the
 * record's own created_at in UTC. The document id is the key, so a
 * redelivered event adds nothing; GET /channels/{id}/stats sums the rows per day.
 */
#include "worker.h"

#include <stdio.h>
#include <string.h>

static ag_status_t
record(worker_t *w, ag_arena_t *a, const char *doc_id, int64_t channel_id, int64_t created_at,
       const char *kind, int64_t author_id)
{
    ag_status_t st = ag_activity_record(&w->m, a, doc_id, channel_id, created_at, kind, author_id);
    if (st != AG_OK)
        return worker_fail(w, st, "activity: %s", ag_db_error(w->m.db));
    w->n.done++;
    return AG_OK;
}

ag_status_t
worker_analytics_handle(worker_t *w, const worker_msg_t *m, ag_arena_t *a)
{
    worker_event_t        ev;
    ag_content_post_t    *p = NULL;
    ag_content_comment_t *cm = NULL;
    ag_content_reply_t   *r = NULL;
    ag_status_t           st;

    if ((st = worker_event_parse(w, m, a, &ev)) != AG_OK)
        return st;
    if (ev.verb == AG_EV_VERB_CREATED) {
        if ((st = ag_content_post_get(w->content, a, ev.message_id, &p)) == AG_OK)
            return record(w, a, p->id, p->channel_id, p->created_at, "post", p->author_id);
    } else if (ev.verb == AG_EV_VERB_COMMENTED) {
        if ((st = ag_content_comment_get(w->content, a, ev.comment_id, &cm)) == AG_OK)
            return record(w, a, cm->id, cm->channel_id, cm->created_at, "comment", cm->author_id);
    } else if (ev.verb == AG_EV_VERB_REPLIED) {
        if ((st = ag_content_reply_get(w->content, a, ev.reply_id, &r)) == AG_OK)
            return record(w, a, r->id, r->channel_id, r->created_at, "reply", r->author_id);
    } else {
        return AG_OK;   /* edits and deletions do not change what happened that day */
    }
    if (st == AG_ENOTFOUND) {
        w->n.skipped++;   /* deleted before it was counted */
        return AG_OK;
    }
    return worker_fail(w, st == AG_EUNAVAIL ? st : AG_EINTERNAL, "%s: %s", ag_ev_verb_name(ev.verb),
                       ag_content_error(w->content));
}
