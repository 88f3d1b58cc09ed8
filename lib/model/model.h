/*
 * lib/model/model.h — the relational domain shared by every program: user
 * records and their Redis cache, channel access, subscription sets in Redis
 * (user:<id>:subs), notifications, and the small JSON events published on
 * each change. Layered above db, cache and events.
 */
#ifndef AG_MODEL_H
#define AG_MODEL_H

#include "cache/cache.h"
#include "db/db.h"
#include "events/events.h"
#include "json/json.h"

/* The parts of a user that are read often (authors, mentions): cached in Redis. */
typedef struct {
    int64_t     id;
    const char *username;
    const char *display_name;   /* NULL when unset */
    const char *avatar_url;     /* NULL when unset */
} ag_user_brief_t;

/* Shared handles; any may be NULL where a program has no use for it. */
typedef struct {
    ag_db_t     *db;
    ag_cache_t  *cache;
    ag_events_t *events;
} ag_model_t;

/*
 * Brief records by id, cache first (one pipelined round trip), then one SQL
 * query for the misses, which are written back with a TTL. out[i] is NULL for
 * an id that does not exist. Redis down: falls back to PostgreSQL alone.
 */
ag_status_t ag_users_brief(ag_model_t *m, ag_arena_t *a, const int64_t *ids, size_t n,
                           ag_user_brief_t **out);
/*
 * Forget a cached user (after an update or a deletion): the brief record
 * user:<id> and the public profile user:<id>:json. Errors are logged only.
 */
void        ag_users_cache_forget(ag_model_t *m, int64_t id);
/*
 * Cache a user's public profile JSON as user:<id>:json for ttl_s seconds,
 * unless the user is being or was deleted (see ag_user_delete): every fill
 * of the user cache checks the tombstone user:<id>:gone in the same Redis
 * script, so a request that read the user before the deletion cannot put it
 * back after. Best effort: errors are ignored (a cache is optional).
 */
void        ag_users_cache_put_json(ag_model_t *m, int64_t id, const char *json, int ttl_s);

/*
 * Delete a user account (DELETE /users/{id}) with everything that hangs on it:
 *   - each channel the user owns passes to its longest-standing admin, else
 *     its longest-standing member (CONTRACT §9); a channel left with no other
 *     member is deleted;
 *   - memberships, follows and notifications go by ON DELETE CASCADE;
 *   - the user cache: the tombstone user:<id>:gone is written *before* the
 *     database changes and the cached records are dropped before and after,
 *     so no concurrent request can cache the user again (a token of a
 *     deleted user is refused everywhere at once).
 * One transaction. AG_ENOTFOUND when there is no such user, AG_EUNAVAIL when
 * PostgreSQL or Redis cannot be reached (nothing is deleted then: without
 * the tombstone a racing request could keep the account's token alive for
 * the cache TTL). Events are the caller's to publish from *out.
 */
typedef struct {
    int64_t channel_id;
    int64_t heir_id;   /* the new owner; 0: no other member, the channel was deleted */
} ag_succession_t;

typedef struct {
    int64_t         *channels;    /* every channel the user was a member of */
    size_t           nchannels;
    ag_succession_t *owned;       /* what became of each channel the user owned */
    size_t           nowned;
} ag_user_deleted_t;

ag_status_t ag_user_delete(ag_model_t *m, ag_arena_t *a, int64_t user_id, ag_user_deleted_t *out);

/* Role of user in channel: "owner", "admin", "member", or NULL when not a member. */
typedef struct {
    bool        exists;
    bool        is_public;
    const char *role;           /* NULL: not a member */
} ag_channel_access_t;
ag_status_t ag_channel_access(ag_model_t *m, ag_arena_t *a, int64_t channel_id, int64_t user_id,
                              ag_channel_access_t *out);
/* True when the user may read the channel's content (public, or a member). */
bool        ag_channel_can_read(const ag_channel_access_t *acc);
/*
 * Hand a channel from its owner to new_owner_id, a member: the new owner's
 * role becomes "owner", the old owner's "admin", and channels.owner_id
 * follows, in one transaction that locks both memberships.
 * AG_EFORBIDDEN: owner_id is not (or no longer) the owner. AG_ENOTFOUND:
 * new_owner_id is not a member. The same user twice is AG_OK, no change.
 */
ag_status_t ag_channel_transfer(ag_model_t *m, ag_arena_t *a, int64_t channel_id, int64_t owner_id,
                                int64_t new_owner_id);

/*
 * Subscriptions: user:<id>:subs is the set of the user's channel ids, with
 * user:<id>:subs:built marking that the set is complete (Redis keeps no empty
 * sets). ag_subs_get rebuilds from PostgreSQL when the mark is missing
 * (Redis restarted or evicted). ids are allocated from a.
 */
ag_status_t ag_subs_get(ag_model_t *m, ag_arena_t *a, int64_t user_id, int64_t **ids, size_t *n);
ag_status_t ag_subs_rebuild(ag_model_t *m, ag_arena_t *a, int64_t user_id);
/* The user's channels from PostgreSQL (the truth), the Redis set rewritten to match;
 * *exists false when the account no longer exists. */
ag_status_t ag_subs_load(ag_model_t *m, ag_arena_t *a, int64_t user_id, int64_t **ids,
                         size_t *n, bool *exists);
/* Add or remove one channel and publish user.<id>.subs.changed. */
ag_status_t ag_subs_changed(ag_model_t *m, int64_t user_id, int64_t channel_id, bool joined);

/*
 * Store a notification for user_id (deduplicated by dedupe_key when given)
 * and publish it on user.<id>.notify.<kind> (NOTIFY_STREAM) with Nats-Msg-Id
 * "notify-<id>". A failed publish leaves it unpublished for the outbox
 * worker; the stored notification is never lost. *created tells whether a
 * new row was written.
 */
ag_status_t ag_notify(ag_model_t *m, ag_arena_t *a, int64_t user_id, const char *kind,
                      int64_t actor_id, int64_t channel_id, const char *post_id,
                      const char *dedupe_key, bool *created);

/*
 * Notifications stored but not published yet (what the outbox job retries):
 * how many, and the oldest of them (valid when n > 0).
 */
typedef struct {
    int64_t     n;
    int64_t     oldest_id;
    int64_t     oldest_ms;   /* created_at, ms */
    int64_t     attempts;    /* failed publishes of the oldest */
    const char *last_error;  /* "" when none */
} ag_notify_backlog_t;
ag_status_t ag_notify_backlog(ag_model_t *m, ag_arena_t *a, ag_notify_backlog_t *out);
/*
 * The publish of notification id failed for `why`: count it and defer the
 * next try to next_try_ms (never dropped). *attempts: the count now.
 */
ag_status_t ag_notify_retry_later(ag_model_t *m, ag_arena_t *a, int64_t id, int64_t next_try_ms,
                                  const char *why, int64_t *attempts);

/* Publish a small core-NATS event {"k":"v",...} built from key/value pairs (NULL-ended). */
ag_status_t ag_event_emit(ag_model_t *m, const char *subject, ...) __attribute__((sentinel));

/*
 * ---- attachments and resumable uploads (media.c; issue 17, CONTRACT §9) ----
 * An attachment is one upload by one user: its bytes live under the data
 * directory by content hash (lib/media), its row here says who may read it.
 * Free until a post or a DM claims it; then readable by whoever may read
 * that message (ag_authz_attachment_read). Ids are 24-hex ObjectIds.
 */
typedef struct {
    char        id[25];
    int64_t     owner_id;
    const char *sha256;       /* 64 hex digits */
    const char *content_type; /* sniffed from the bytes */
    int64_t     size;
    int         width, height; /* 0 unless an image */
    const char *thumb_sha256;  /* NULL unless an image with a thumbnail */
    const char *name;          /* the client's file name, or NULL */
    int64_t     created_ms;
    const char *message_id; /* NULL while free */
    int64_t     channel_id; /* a post's channel */
    int64_t     dm_from, dm_to;
} ag_attachment_t;

typedef struct {
    ag_attachment_t *items;
    size_t           n;
} ag_attachment_list_t;

ag_status_t ag_attachment_insert(ag_model_t *m, ag_arena_t *a, const ag_attachment_t *att);
/* AG_ENOTFOUND when there is no such attachment (or the id is malformed). */
ag_status_t ag_attachment_get(ag_model_t *m, ag_arena_t *a, const char *id, ag_attachment_t **out);
/* The attachments of n messages, (*out)[i] for message_ids[i], oldest first. */
ag_status_t ag_attachments_of(ag_model_t *m, ag_arena_t *a, const char *const *message_ids,
                              size_t n, ag_attachment_list_t **out);
/*
 * Claim n free attachments of owner_id for a message (a post in channel_id,
 * or a DM between dm_from and dm_to), all or none: AG_EBADREQ when one of
 * them is not the owner's, not free, or does not exist.
 */
ag_status_t ag_attachments_claim(ag_model_t *m, ag_arena_t *a, const char *const *ids, size_t n,
                                 int64_t owner_id, const char *message_id, int64_t channel_id,
                                 int64_t dm_from, int64_t dm_to);
/* Free them again (the message was not stored after all). */
ag_status_t ag_attachments_release(ag_model_t *m, ag_arena_t *a, const char *message_id);
/* The message was deleted: its attachments go (the files stay for other references). */
ag_status_t ag_attachments_drop(ag_model_t *m, ag_arena_t *a, const char *message_id);
/* The contract's Attachment {id, url, contentType, size, width, height, thumbnailUrl}. */
ag_json_t *ag_attachment_json(const ag_attachment_t *att);
/* Set a user's avatar_url (NULL: none) and forget the cached user. */
ag_status_t ag_user_set_avatar(ag_model_t *m, ag_arena_t *a, int64_t user_id, const char *url);
/* Bytes a user holds: attachments plus the declared length of unfinished uploads. */
ag_status_t ag_media_usage(ag_model_t *m, ag_arena_t *a, int64_t owner_id, int64_t *bytes);

/* A resumable (tus) upload: length declared at creation, offset so far. */
typedef struct {
    char        id[25];
    int64_t     owner_id;
    int64_t     length;
    int64_t     offset;
    const char *name;          /* from Upload-Metadata filename, or NULL */
    const char *attachment_id; /* set once complete */
} ag_upload_t;

ag_status_t ag_upload_create(ag_model_t *m, ag_arena_t *a, const ag_upload_t *u);
/* AG_ENOTFOUND unless it exists and belongs to owner_id (another's upload is not found). */
ag_status_t ag_upload_get(ag_model_t *m, ag_arena_t *a, const char *id, int64_t owner_id,
                          ag_upload_t **out);
/* Move the offset from `from` to `to`; AG_ECONFLICT when it is no longer `from`. */
ag_status_t ag_upload_advance(ag_model_t *m, ag_arena_t *a, const char *id, int64_t from,
                              int64_t to);
ag_status_t ag_upload_finish(ag_model_t *m, ag_arena_t *a, const char *id,
                             const char *attachment_id);

/*
 * ---- authorization (authz.c): who may do what to content, in one place ----
 * Channel content (posts, comments, replies): members write and react; the
 * author edits; the author, the channel's owner or an admin delete. DMs: the
 * sender edits and deletes, either party reacts and reads.
 */
typedef enum {
    AG_AUTHZ_READ,
    AG_AUTHZ_WRITE,
    AG_AUTHZ_REACT,
    AG_AUTHZ_EDIT,
    AG_AUTHZ_DELETE
} ag_authz_verb_t;
/* role: the user's role in the channel (NULL: not a member); is_public: the channel is public. */
bool ag_authz_channel_content(ag_authz_verb_t verb, int64_t user_id, int64_t author_id,
                              bool is_public, const char *role);
bool ag_authz_dm(ag_authz_verb_t verb, int64_t user_id, int64_t from_id, int64_t to_id);
/* May user_id read att? A free attachment: its owner only; a post's: the channel's readers. */
ag_status_t ag_authz_attachment_read(ag_model_t *m, ag_arena_t *a, const ag_attachment_t *att,
                                     int64_t user_id, bool *allowed);

#endif
