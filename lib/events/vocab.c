/* lib/events/vocab.c — see vocab.h: the content events' subjects and payloads. */
#include "events/vocab.h"
#include "json/json.h"

#include <string.h>

const char *
ag_ev_channel_subject(ag_arena_t *a, int64_t channel_id, const char *verb)
{
    return ag_arena_printf(a, "channel.%lld.message.%s", (long long)channel_id, verb);
}

const char *
ag_ev_dm_subject(ag_arena_t *a, int64_t user_id)
{
    return ag_arena_printf(a, "user.%lld.dm", (long long)user_id);
}

/* The buffer's text copied to the arena (NULL for want of memory). */
static const char *
finish(ag_arena_t *a, ag_buf_t *b)
{
    const char *s = ag_buf_puts(b, "}") == AG_OK ? ag_arena_strdup(a, b->data) : NULL;
    ag_buf_fini(b);
    return s;
}

static void
member(ag_buf_t *b, const char *key, const char *val)
{
    if (b->len > 1)
        ag_buf_puts(b, ",");
    ag_json_escape(b, key, strlen(key));
    ag_buf_puts(b, ":");
    ag_json_escape(b, val, strlen(val));
}

const char *
ag_ev_thread_payload(ag_arena_t *a, const char *post_id, const char *comment_id,
                     const char *reply_id)
{
    ag_buf_t b;
    ag_buf_init(&b);
    ag_buf_puts(&b, "{");
    member(&b, "postId", post_id);
    member(&b, "commentId", comment_id);
    if (reply_id)
        member(&b, "replyId", reply_id);
    return finish(a, &b);
}

const char *
ag_ev_reaction_payload(ag_arena_t *a, const char *target_id, const char *emoji, int64_t user_id,
                       bool added)
{
    char     uid[24];
    ag_buf_t b;
    ag_fmt_i64(uid, user_id);
    ag_buf_init(&b);
    ag_buf_puts(&b, "{");
    member(&b, "targetId", target_id);
    member(&b, "emoji", emoji);
    member(&b, "userId", uid);
    member(&b, "op", added ? "added" : "removed");
    return finish(a, &b);
}

const char *
ag_ev_dm_payload(ag_arena_t *a, const char *type, const char *message_id, int64_t from_id)
{
    char     uid[24];
    ag_buf_t b;
    ag_fmt_i64(uid, from_id);
    ag_buf_init(&b);
    ag_buf_puts(&b, "{");
    if (type)
        member(&b, "type", type);
    member(&b, "messageId", message_id);
    member(&b, "from", uid);
    return finish(a, &b);
}

const char *
ag_ev_dm_reaction_payload(ag_arena_t *a, int64_t from_id, const char *target_id, const char *emoji,
                          bool added)
{
    char     uid[24];
    ag_buf_t b;
    ag_fmt_i64(uid, from_id);
    ag_buf_init(&b);
    ag_buf_puts(&b, "{");
    member(&b, "type", AG_EV_REACTION);
    member(&b, "from", uid);
    member(&b, "targetId", target_id);
    member(&b, "emoji", emoji);
    member(&b, "op", added ? "added" : "removed");
    return finish(a, &b);
}
