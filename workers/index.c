/*
 * workers/index.c — `agora-worker index`: the full-text index of posts
 * behind Query.search. Each event re-reads the post as it is now, so the
 * order of events and their redelivery do not matter: a post that exists is
 * (re)indexed, a post that does not is removed.
 */
#include "worker.h"

#include <string.h>

ag_status_t
worker_index_handle(worker_t *w, const worker_msg_t *m, ag_arena_t *a)
{
    worker_event_t     ev;
    ag_content_post_t *p = NULL;
    ag_status_t        st;

    if ((st = worker_event_parse(w, m, a, &ev)) != AG_OK)
        return st;
    if (ev.message_id == NULL)
        return AG_OK;   /* commented, replied: the index holds posts only */
    st = ev.verb == AG_EV_VERB_DELETED ? AG_ENOTFOUND
                                       : ag_content_post_get(w->content, a, ev.message_id, &p);
    if (st == AG_ENOTFOUND) {
        if ((st = ag_content_search_remove(w->m.db, a, ev.message_id)) != AG_OK)
            return worker_fail(w, st, "unindex: %s", ag_db_error(w->m.db));
        w->n.skipped++;
        return AG_OK;
    }
    if (st != AG_OK)
        return worker_fail(w, st == AG_EUNAVAIL ? st : AG_EINTERNAL, "post: %s",
                           ag_content_error(w->content));
    if ((st = ag_content_search_put(w->m.db, a, p)) != AG_OK)
        return worker_fail(w, st, "index: %s", ag_db_error(w->m.db));
    w->n.done++;
    return AG_OK;
}
