/* workers/event.c — read a CHANNEL_STREAM event (subjects and payloads of CONTRACT §6). */
#include "worker.h"
#include "json/json.h"

#include <string.h>

/* An id member of the payload: a 24-hex ObjectId, copied to the arena. */
static ag_status_t
oid_member(worker_t *w, const ag_json_t *o, const char *key, ag_arena_t *a, const char **out)
{
    const char *s = NULL;
    if (ag_json_get_str(o, key, &s) != AG_OK || !ag_content_oid_valid(s))
        return worker_fail(w, AG_EBADREQ, "payload: %s is not an ObjectId", key);
    *out = ag_arena_strdup(a, s);
    return *out ? AG_OK : AG_ENOMEM;
}

ag_status_t
worker_event_parse(worker_t *w, const worker_msg_t *m, ag_arena_t *a, worker_event_t *ev)
{
    const char *s = m->subject, *dot;
    char        cid[24], err[128];
    ag_json_t  *o = NULL;
    ag_status_t st = AG_OK;

    memset(ev, 0, sizeof(*ev));
    /* channel.<cid>.message.<verb> */
    if (strncmp(s, "channel.", 8) != 0 || (dot = strchr(s + 8, '.')) == NULL ||
        (size_t)(dot - s - 8) >= sizeof(cid) || strncmp(dot, ".message.", 9) != 0)
        return worker_fail(w, AG_EBADREQ, "subject %s is not channel.<id>.message.<verb>", s);
    memcpy(cid, s + 8, (size_t)(dot - s - 8));
    cid[dot - s - 8] = '\0';
    if (ag_parse_i64(cid, &ev->channel_id) != AG_OK || ev->channel_id <= 0)
        return worker_fail(w, AG_EBADREQ, "subject %s: bad channel id", s);
    ev->verb = dot + 9;
    o = ag_json_parse(m->data, m->len, 8, err, sizeof(err));
    if (o == NULL || ag_json_type(o) != AG_JSON_OBJECT) {
        ag_json_free(o);
        return worker_fail(w, AG_EBADREQ, "payload is not a JSON object%s%s", o ? "" : ": ",
                           o ? "" : err);
    }
    if (strcmp(ev->verb, "created") == 0 || strcmp(ev->verb, "deleted") == 0 ||
        strcmp(ev->verb, "updated") == 0) {
        st = oid_member(w, o, "messageId", a, &ev->message_id);
    } else if (strcmp(ev->verb, "commented") == 0) {
        if ((st = oid_member(w, o, "postId", a, &ev->post_id)) == AG_OK)
            st = oid_member(w, o, "commentId", a, &ev->comment_id);
    } else if (strcmp(ev->verb, "comment_updated") == 0 ||
               strcmp(ev->verb, "comment_deleted") == 0) {
        if ((st = oid_member(w, o, "postId", a, &ev->post_id)) == AG_OK)
            st = oid_member(w, o, "commentId", a, &ev->comment_id);
    } else if (strcmp(ev->verb, "reply_updated") == 0 || strcmp(ev->verb, "reply_deleted") == 0) {
        if ((st = oid_member(w, o, "commentId", a, &ev->comment_id)) == AG_OK)
            st = oid_member(w, o, "replyId", a, &ev->reply_id);
    } else if (strcmp(ev->verb, "reaction") == 0) {
        const char *target; /* checked, but no job has anything to do with a reaction */
        st = oid_member(w, o, "targetId", a, &target);
    } else if (strcmp(ev->verb, "replied") == 0) {
        if ((st = oid_member(w, o, "postId", a, &ev->post_id)) == AG_OK &&
            (st = oid_member(w, o, "commentId", a, &ev->comment_id)) == AG_OK)
            st = oid_member(w, o, "replyId", a, &ev->reply_id);
    } else {
        st = worker_fail(w, AG_EBADREQ, "unknown verb in %s", s);
    }
    ag_json_free(o);
    return st;
}
