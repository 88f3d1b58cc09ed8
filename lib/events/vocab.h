/*
 * lib/events/vocab.h — the subjects and payloads of the content events
 * (CONTRACT §6, §9), built in one place so that the writers (GraphQL), the
 * readers (agora-wsd, agora-worker) and the tests agree on every name.
 *
 * CHANNEL_STREAM, subject channel.<cid>.message.<verb>:
 *   created|updated|deleted  {"messageId"}
 *   commented                {"postId","commentId"}
 *   replied                  {"postId","commentId","replyId"}
 *   comment_updated|comment_deleted  {"postId","commentId"}
 *   reply_updated|reply_deleted      {"postId","commentId","replyId"}
 *   reaction                 {"targetId","emoji","userId","op":"added"|"removed"}
 * DM_STREAM, subject user.<uid>.dm (uid: who receives it):
 *   a new DM                 {"messageId","from"}
 *   {"type":"dm_updated"|"dm_deleted","messageId","from"}
 *   {"type":"reaction","from","targetId","emoji","op"}
 * Payloads hold ids (and an emoji), never bodies. Every string is JSON-escaped.
 */
#ifndef AG_EVENTS_VOCAB_H
#define AG_EVENTS_VOCAB_H

#include "core/core.h"

#define AG_EV_CREATED         "created"
#define AG_EV_UPDATED         "updated"
#define AG_EV_DELETED         "deleted"
#define AG_EV_COMMENTED       "commented"
#define AG_EV_REPLIED         "replied"
#define AG_EV_COMMENT_UPDATED "comment_updated"
#define AG_EV_COMMENT_DELETED "comment_deleted"
#define AG_EV_REPLY_UPDATED   "reply_updated"
#define AG_EV_REPLY_DELETED   "reply_deleted"
#define AG_EV_REACTION        "reaction"
#define AG_EV_DM_UPDATED      "dm_updated"
#define AG_EV_DM_DELETED      "dm_deleted"

/* channel.<cid>.message.<verb> */
const char *ag_ev_channel_subject(ag_arena_t *a, int64_t channel_id, const char *verb);
/* user.<uid>.dm */
const char *ag_ev_dm_subject(ag_arena_t *a, int64_t user_id);
/* {"postId","commentId"[,"replyId"]}: reply_id NULL for a comment's event */
const char *ag_ev_thread_payload(ag_arena_t *a, const char *post_id, const char *comment_id,
                                 const char *reply_id);
/* {"targetId","emoji","userId","op"} */
const char *ag_ev_reaction_payload(ag_arena_t *a, const char *target_id, const char *emoji,
                                   int64_t user_id, bool added);
/* {"type","messageId","from"}: type NULL for a new DM ({"messageId","from"}) */
const char *ag_ev_dm_payload(ag_arena_t *a, const char *type, const char *message_id,
                             int64_t from_id);
/* {"type":"reaction","from","targetId","emoji","op"} */
const char *ag_ev_dm_reaction_payload(ag_arena_t *a, int64_t from_id, const char *target_id,
                                      const char *emoji, bool added);

#endif
