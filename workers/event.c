/* workers/event.c — read a CHANNEL_STREAM event (lib/events' vocabulary, CONTRACT §6). */
#include "worker.h"

#include <string.h>

/* An id member of the payload: a 24-hex ObjectId, copied to the arena. */
static ag_status_t
oid_member(worker_t *w, const char *s, const char *key, ag_arena_t *a, const char **out)
{
    if (s == NULL || !ag_content_oid_valid(s))
        return worker_fail(w, AG_EBADREQ, "payload: %s is not an ObjectId", key);
    *out = ag_arena_strdup(a, s);
    return *out ? AG_OK : AG_ENOMEM;
}

/* The ids the verb's event must carry (what the writers put in, resolve_mutation.c). */
static ag_status_t
ids_of(worker_t *w, const ag_ev_t *e, ag_arena_t *a, worker_event_t *ev)
{
    ag_status_t st;

    switch (ev->verb) {
    case AG_EV_VERB_CREATED:
    case AG_EV_VERB_UPDATED:
    case AG_EV_VERB_DELETED:
        return oid_member(w, e->message_id, "messageId", a, &ev->message_id);
    case AG_EV_VERB_COMMENTED:
        if ((st = oid_member(w, e->post_id, "postId", a, &ev->post_id)) != AG_OK)
            return st;
        return oid_member(w, e->comment_id, "commentId", a, &ev->comment_id);
    case AG_EV_VERB_REPLIED:
        if ((st = oid_member(w, e->post_id, "postId", a, &ev->post_id)) != AG_OK ||
            (st = oid_member(w, e->comment_id, "commentId", a, &ev->comment_id)) != AG_OK)
            return st;
        return oid_member(w, e->reply_id, "replyId", a, &ev->reply_id);
    case AG_EV_VERB_NONE:
        break;
    }
    return worker_fail(w, AG_EBADREQ, "unknown verb in %s", e->tok ? e->tok : "");
}

ag_status_t
worker_event_parse(worker_t *w, const worker_msg_t *m, ag_arena_t *a, worker_event_t *ev)
{
    ag_ev_t     e;
    ag_status_t st;

    memset(ev, 0, sizeof(*ev));
    st = ag_ev_decode(m->subject, m->data, m->len, &e);
    if (e.subject != AG_EV_MESSAGE)
        st =
            worker_fail(w, AG_EBADREQ, "subject %s is not channel.<id>.message.<verb>", m->subject);
    else if (st != AG_OK)
        st = worker_fail(w, AG_EBADREQ, "payload is not a JSON object");
    else {
        ev->channel_id = e.id;
        ev->verb = ag_ev_verb(e.tok);
        st = ids_of(w, &e, a, ev);
    }
    ag_ev_fini(&e);
    return st;
}
