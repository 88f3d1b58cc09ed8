/*
 * lib/events/vocab.h — the vocabulary of Agora's events (CONTRACT §6): every
 * NATS subject, JetStream stream and consumer name, and every event payload,
 * each written once in the tables below, with the builders and the parsers
 * that agora.fcgi, agora-wsd, agora-worker and agora-admin all use. A new
 * event is one line in AG_EV_SUBJECTS (and, when its payload has a new member,
 * one in AG_EV_FIELDS); nothing else names a subject.
 *
 * Pure: no connection, no global state, any thread. Publishing is
 * ag_events_emit (events.h); decoding allocates only what ag_ev_fini frees.
 */
#ifndef AG_EVENTS_VOCAB_H
#define AG_EVENTS_VOCAB_H

#include "core/core.h"

/*
 * Streams: X(ENUM, name, the subject it captures). Its subject filter is that
 * subject's pattern with every placeholder a wildcard ("channel.*.message.*").
 */
#define AG_EV_STREAMS(X)                                                                           \
    X(CHANNEL, "CHANNEL_STREAM", MESSAGE)                                                          \
    X(DM, "DM_STREAM", DM)                                                                         \
    X(NOTIFY, "NOTIFY_STREAM", NOTIFY)                                                             \
    X(DEADLETTER, "DEADLETTER_STREAM", DEADLETTER)

/*
 * Subjects: X(ENUM, pattern, stream (NONE: core NATS), payload). In a pattern
 * {id} is a positive decimal id (channel, user, generation, pid), {tok} one
 * token (a verb, a kind, an instance id), {rest} the rest of the subject
 * (">" as a wildcard). The payload lists the JSON members in the order they
 * are written; "?" marks one written only when set (an id not 0, a string not
 * NULL, a flag true). Subjects with an empty payload are transport only.
 */
#define AG_EV_SUBJECTS(X)                                                                          \
    /* CHANNEL_STREAM: what was written in a channel (workers, live and replayed frames) */        \
    X(MESSAGE, "channel.{id}.message.{tok}", CHANNEL, "messageId? postId? commentId? replyId?")    \
    /* core, per channel */                                                                        \
    X(TYPING, "channel.{id}.typing", NONE, "channelId userId")                                     \
    X(CHANNEL_UPDATED, "channel.{id}.updated", NONE, "channelId deleted?")                         \
    X(MEMBER, "channel.{id}.member.{tok}", NONE, "channelId userId")                               \
    /* DM_STREAM and NOTIFY_STREAM: per recipient, acked by a session */                           \
    X(DM, "user.{id}.dm", DM, "messageId from")                                                    \
    X(NOTIFY, "user.{id}.notify.{tok}", NOTIFY, "kind userId notificationId channelId? postId?")   \
    /* core, per user */                                                                           \
    X(USER_UPDATED, "user.{id}.updated", NONE, "userId deleted?")                                  \
    X(PRESENCE, "user.{id}.presence", NONE, "userId status channels")                              \
    X(SUBS_CHANGED, "user.{id}.subs.changed", NONE, "channelId action")                            \
    X(SYNC, "user.{id}.sync.{tok}", NONE, "channelId? stream? seq sessionId?")                     \
    /* agora-worker: a message a job gave up on, with the original */                              \
    X(DEADLETTER, "deadletter.{rest}", DEADLETTER, "job subject seq deliveries reason data")       \
    /* agora-wsd's deliver subjects: the live consumer's generations, a user's DM and              \
     * notify consumers ({tok}: "dm" or "notify"), the shutdown barrier */                         \
    X(WSD_LIVE, "_wsd.live.{tok}.{id}", NONE, "")                                                  \
    X(WSD_INBOX, "_wsd.user.{id}.{tok}", NONE, "")                                                 \
    X(WSD_BARRIER, "_wsd.barrier.{tok}.{id}", NONE, "")

/* JetStream consumers: X(ENUM, name pattern (placeholders as above), stream). */
#define AG_EV_CONSUMERS(X)                                                                         \
    X(WORKER, "worker-{tok}", CHANNEL)          /* a cron job's durable pull consumer */           \
    X(WSD_LIVE, "wsd-live-{tok}-{id}", CHANNEL) /* a daemon's live consumer, per generation */     \
    X(WSD_DM, "wsd-dm-{id}", DM)                /* a user's durable DM consumer */                 \
    X(WSD_NOTIFY, "wsd-notify-{id}", NOTIFY)    /* a user's durable notification consumer */

/*
 * Payload members: X(member of ag_ev_t, JSON key, type). ID: an int64 written
 * as a decimal string ("45"; read from "45" or 45, >= 0); STR: a string; NUM:
 * a uint64 written as a number; FLAG: true written as "true"; IDS: ids as an
 * array of decimal strings; TEXT: a string of data_len bytes.
 */
#define AG_EV_FIELDS(X)                                                                            \
    X(channel_id, "channelId", ID)                                                                 \
    X(user_id, "userId", ID)                                                                       \
    X(from, "from", ID)                                                                            \
    X(notification_id, "notificationId", ID)                                                       \
    X(message_id, "messageId", STR)                                                                \
    X(post_id, "postId", STR)                                                                      \
    X(comment_id, "commentId", STR)                                                                \
    X(reply_id, "replyId", STR)                                                                    \
    X(kind, "kind", STR)                                                                           \
    X(status, "status", STR)                                                                       \
    X(action, "action", STR)                                                                       \
    X(stream, "stream", STR)                                                                       \
    X(session_id, "sessionId", STR)                                                                \
    X(job, "job", STR)                                                                             \
    X(dead_subject, "subject", STR)                                                                \
    X(reason, "reason", STR)                                                                       \
    X(seq, "seq", NUM)                                                                             \
    X(deliveries, "deliveries", NUM)                                                               \
    X(deleted, "deleted", FLAG)                                                                    \
    X(channels, "channels", IDS)                                                                   \
    X(data, "data", TEXT)

/* The tokens of the subjects and payloads above. */
#define AG_EV_MESSAGE_VERBS(X)                                                                     \
    X(CREATED, "created")                                                                          \
    X(UPDATED, "updated")                                                                          \
    X(DELETED, "deleted")                                                                          \
    X(COMMENTED, "commented")                                                                      \
    X(REPLIED, "replied")
#define AG_EV_JOINED        "joined" /* MEMBER {tok}, SUBS_CHANGED action */
#define AG_EV_LEFT          "left"
#define AG_EV_SYNC_READ     "read" /* SYNC {tok}: an offset moved on one session */
#define AG_EV_SYNC_ACK      "ack"  /* SYNC {tok}: a DM or notification was acked */
#define AG_EV_INBOX_DM      "dm"   /* WSD_INBOX {tok}, SYNC stream */
#define AG_EV_INBOX_NOTIFY  "notify"
#define AG_EV_ONLINE        "online" /* PRESENCE status */
#define AG_EV_OFFLINE       "offline"
#define AG_EV_KIND_MENTION  "mention" /* NOTIFY {tok} and kind (CONTRACT §7, §2) */
#define AG_EV_KIND_COMMENT  "comment"
#define AG_EV_KIND_REPLY    "reply"
#define AG_EV_KIND_FOLLOWER "new_follower"

typedef enum {
    AG_EV_STREAM_NONE = 0,
#define AG__EV_STREAM_ENUM(e, name, subj) AG_EV_STREAM_##e,
    AG_EV_STREAMS(AG__EV_STREAM_ENUM)
#undef AG__EV_STREAM_ENUM
} ag_ev_stream_t;

typedef enum {
    AG_EV_UNKNOWN = 0,
#define AG__EV_SUBJECT_ENUM(e, pattern, stream, payload) AG_EV_##e,
    AG_EV_SUBJECTS(AG__EV_SUBJECT_ENUM)
#undef AG__EV_SUBJECT_ENUM
} ag_ev_subject_t;

typedef enum {
#define AG__EV_CONSUMER_ENUM(e, pattern, stream) AG_EV_CONSUMER_##e,
    AG_EV_CONSUMERS(AG__EV_CONSUMER_ENUM)
#undef AG__EV_CONSUMER_ENUM
} ag_ev_consumer_t;

typedef enum {
#define AG__EV_FIELD_ENUM(m, key, type) AG_EVF_##m,
    AG_EV_FIELDS(AG__EV_FIELD_ENUM)
#undef AG__EV_FIELD_ENUM
        AG_EVF__COUNT
} ag_ev_field_t;

typedef enum {
    AG_EV_VERB_NONE = 0,
#define AG__EV_VERB_ENUM(e, name) AG_EV_VERB_##e,
    AG_EV_MESSAGE_VERBS(AG__EV_VERB_ENUM)
#undef AG__EV_VERB_ENUM
} ag_ev_verb_t;

/* Longest subject or consumer name the builders write (ids, an instance id). */
#define AG_EV_NAME_MAX 128

/*
 * One event: which subject, its placeholders, its payload. Builders read the
 * members the subject's payload lists; ag_ev_decode fills them (strings point
 * into the decoded payload and live until ag_ev_fini).
 */
typedef struct {
    ag_ev_subject_t subject;
    int64_t         id;  /* {id} */
    const char     *tok; /* {tok} or {rest} */
    /* payload (AG_EV_FIELDS) */
    int64_t        channel_id, user_id, from, notification_id;
    const char    *message_id, *post_id, *comment_id, *reply_id;
    const char    *kind, *status, *action, *stream, *session_id;
    const char    *job, *dead_subject, *reason;
    uint64_t       seq, deliveries;
    bool           deleted;
    const int64_t *channels;
    size_t         nchannels;
    const char    *data;
    size_t         data_len;
    /* decoded: bit (1 << AG_EVF_x) set for every member present and well typed */
    uint32_t has;
    /* ag_ev_decode's own storage, released by ag_ev_fini */
    void *json__;
    void *ids__;
    char  tok__[64];
} ag_ev_t;

/* The stream's name ("CHANNEL_STREAM"); NULL for AG_EV_STREAM_NONE. */
const char *ag_ev_stream_name(ag_ev_stream_t s);
/* The stream that captures a subject (AG_EV_STREAM_NONE: core NATS). */
ag_ev_stream_t ag_ev_stream_of(ag_ev_subject_t s);
/* The stream's subject filter ("channel.*.message.*") into out; its length, 0 if n is short. */
size_t ag_ev_stream_filter(ag_ev_stream_t s, char *out, size_t n);
/* The subject's pattern as written in the table ("channel.{id}.message.{tok}"). */
const char *ag_ev_pattern(ag_ev_subject_t s);

/*
 * The subject s with {id} = id and {tok}/{rest} = tok into out (n bytes).
 * Returns its length; 0 when out is too small or a placeholder has no value
 * (id <= 0, tok NULL, empty or, for {tok}, holding a '.').
 */
size_t ag_ev_subject(char *out, size_t n, ag_ev_subject_t s, int64_t id, const char *tok);
/* The subject of ev (ev->subject, ev->id, ev->tok). */
size_t ag_ev_subject_of(const ag_ev_t *ev, char *out, size_t n);
/*
 * A subscription filter on subject s: {id} = id, or "*" when id is 0; {tok}
 * = tok, or "*" when tok is NULL; {rest} = tok, or ">" when NULL.
 */
size_t ag_ev_filter(char *out, size_t n, ag_ev_subject_t s, int64_t id, const char *tok);
/* A consumer name ("wsd-dm-45") into out; 0 as for ag_ev_subject. */
size_t ag_ev_consumer(char *out, size_t n, ag_ev_consumer_t c, int64_t id, const char *tok);

/*
 * Append ev's payload to out: the JSON members its subject lists, in order.
 * AG_EBADREQ for a subject with no payload or a required member missing
 * (a NULL string), AG_ENOMEM.
 */
ag_status_t ag_ev_payload(const ag_ev_t *ev, ag_buf_t *out);

/*
 * ev's subject and payload as text allocated from a, for an event stored
 * before it is published (the content store's outbox). AG_EBADREQ as
 * ag_ev_payload, or when ev has no subject.
 */
ag_status_t ag_ev_text(const ag_ev_t *ev, ag_arena_t *a, const char **subject,
                       const char **payload);

/*
 * Which subject `subject` is, and its placeholders: *id, and tok copied into
 * tok (toklen bytes; may be NULL). AG_EV_UNKNOWN when it is none of ours.
 */
ag_ev_subject_t ag_ev_match(const char *subject, int64_t *id, char *tok, size_t toklen);
/*
 * Decode a message: its subject (one of ours, else AG_EBADREQ) and its payload
 * (a JSON object, else AG_EBADREQ). Members of the subject's payload that are
 * present and well typed are set, with their bit in ev->has; the others are
 * left 0/NULL: what a consumer requires, it checks. Call ag_ev_fini after any
 * return (it accepts a failed or zeroed ev).
 */
ag_status_t ag_ev_decode(const char *subject, const char *data, size_t len, ag_ev_t *ev);
void        ag_ev_fini(ag_ev_t *ev);
/* Whether the decoded ev had member f. */
#define AG_EV_HAS(ev, f) (((ev)->has >> AG_EVF_##f) & 1u)

/* The verb of a MESSAGE subject's {tok} (AG_EV_VERB_NONE: not one of ours), and back. */
ag_ev_verb_t ag_ev_verb(const char *tok);
const char  *ag_ev_verb_name(ag_ev_verb_t v);

/*
 * Nats-Msg-Id of a stored write's event: "<document id>-<what>" (what: the
 * verb, "dm", or "updated-<ms>" for an edit), and of a notification:
 * "notify-<id>". JetStream drops a republish with the same id within the
 * stream's duplicate window. Length returned; 0 when out is too small.
 */
size_t ag_ev_msgid_doc(char *out, size_t n, const char *doc_id, const char *what);
size_t ag_ev_msgid_notify(char *out, size_t n, int64_t notification_id);

/*
 * The stream position of a JetStream delivery, from its reply subject
 * $JS.ACK.<stream>.<consumer>.<delivered>.<sseq>.<cseq>.<ts>.<pending> (v1)
 * or $JS.ACK.<domain>.<hash>.<stream>.<consumer>.<delivered>.<sseq>.<cseq>.
 * <ts>.<pending>.<random> (v2). No allocation (nats.c's natsMsg_GetMetaData
 * allocates five strings), so it may run on a delivery thread per message.
 * false when reply is not such a subject or the stream sequence is 0.
 */
typedef struct {
    uint64_t stream_seq, consumer_seq, delivered;
} ag_ev_jsack_t;
bool ag_ev_jsack_parse(const char *reply, ag_ev_jsack_t *out);

#endif
