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
 * Nothing is stored (AG_OK, *created false) when user_id has blocked
 * actor_id, or when the notification is about a channel (channel_id > 0)
 * that user_id may not read (private, not a member; or gone) or whose level
 * for user_id refuses its kind: "none" every kind, "mentions" every kind but
 * "mention". The checks and the insert are one statement.
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

/* ---- attention (attention.c): mentions, unread counts, levels, blocks -------------
 *
 * A user's unread count in a channel (GET /channels?member=me, CONTRACT §9)
 * counts the channel's posts that
 *   - were created after the user (last) joined the channel,
 *   - have a CHANNEL_STREAM sequence above the user's read offset
 *     (ws_read_offsets; none = 0), or are not in the stream yet,
 *   - still exist (a deleted post leaves attention_posts), and
 *   - were not written by the user.
 * `mentions` counts those of them that mention the user, by an author the
 * user has not blocked, unless the user's level for the channel is "none".
 * Both stop at AG_ATTENTION_COUNT_MAX.
 */
#define AG_MENTIONS_MAX        50    /* @names per text that notify and count */
#define AG_ATTENTION_COUNT_MAX 1000  /* unread and mentions stop counting here */

/*
 * The distinct @usernames of a text as a PostgreSQL text[] literal ("{ana,bo_b}"),
 * or "" when there are none: '@' starts a word ("a@b" is an address), then 3 to
 * 32 of [A-Za-z0-9_], lower-cased; at most AG_MENTIONS_MAX. In the arena.
 */
const char *ag_mentions_names(ag_arena_t *a, const char *body);
/* The ids of the existing users a text mentions (ids in a; *n = 0 when none). */
ag_status_t ag_mentions_resolve(ag_model_t *m, ag_arena_t *a, const char *body, int64_t **ids,
                                size_t *n);

/* A post as the unread counts see it. */
typedef struct {
    const char *post_id;
    int64_t     channel_id;
    int64_t     author_id;
    const char *body;       /* for its mentions */
    int64_t     created_ms; /* 0: now */
    uint64_t    seq;        /* its created event's CHANNEL_STREAM sequence; 0: not known yet */
} ag_attention_post_t;

/*
 * A new post (idempotent): inserted, or, when it is there already, its mentions
 * read again and its seq set if it had none. AG_ENOTFOUND: the channel is gone.
 * mentioned (may be NULL): the ids of the users it mentions, from a, in the
 * same round trip (*n = 0 when none).
 */
ag_status_t ag_attention_post_put(ag_model_t *m, ag_arena_t *a, const ag_attention_post_t *p,
                                  int64_t **mentioned, size_t *n);
/*
 * The fanout of a post's created event, from the record the writer made: sets
 * its seq (if unset) and fills channel_id, author_id and whom it mentions, in
 * one round trip. *found false when there is no record (the writer failed, or
 * the post was deleted): the caller reads the post and calls _put.
 */
ag_status_t ag_attention_post_claim(ag_model_t *m, ag_arena_t *a, const char *post_id, uint64_t seq,
                                    ag_attention_post_t *out, int64_t **mentioned, size_t *n,
                                    bool *found);
/* Its created event is in the stream at seq (a seq set once is kept). */
ag_status_t ag_attention_post_seq(ag_model_t *m, ag_arena_t *a, const char *post_id, uint64_t seq);
/*
 * An edited post's mentions; a post with no row (older than the counts) stays
 * without one. mentioned, n: as ag_attention_post_put (also for such a post).
 */
ag_status_t ag_attention_post_edit(ag_model_t *m, ag_arena_t *a, const char *post_id,
                                   const char *body, int64_t **mentioned, size_t *n);
/* A deleted post no longer counts. */
ag_status_t ag_attention_post_gone(ag_model_t *m, ag_arena_t *a, const char *post_id);

typedef struct {
    int64_t channel_id;
    int64_t unread;
    int64_t mentions;
    int64_t read_seq; /* the user's read offset; 0: none */
    int64_t last_seq; /* the sequence of the channel's newest post in the stream; 0: none */
} ag_attention_counts_t;

/*
 * The counts of user_id in each of the channels ids[0..n) (a page of the user's
 * channels). out[i] belongs to ids[i]; a channel the user is not a member of
 * reads as all zeros. out is allocated from a.
 */
ag_status_t ag_attention_counts(ag_model_t *m, ag_arena_t *a, int64_t user_id, const int64_t *ids,
                                size_t n, ag_attention_counts_t **out);

/* Which notifications a channel makes for a member (CONTRACT §9). */
typedef enum { AG_LEVEL_ALL = 0, AG_LEVEL_MENTIONS, AG_LEVEL_NONE } ag_notify_level_t;
const char *ag_notify_level_name(ag_notify_level_t level);
/* "all" | "mentions" | "none"; false for anything else. */
bool        ag_notify_level_parse(const char *s, ag_notify_level_t *out);
ag_status_t ag_notify_level_get(ag_model_t *m, ag_arena_t *a, int64_t user_id, int64_t channel_id,
                                ag_notify_level_t *out);
/* AG_ENOTFOUND: the user or the channel is gone. */
ag_status_t ag_notify_level_set(ag_model_t *m, ag_arena_t *a, int64_t user_id, int64_t channel_id,
                                ag_notify_level_t level);

/* A user's public profile (CONTRACT §5), times as RFC 3339 text. */
typedef struct {
    int64_t     id;
    const char *username;
    const char *display_name; /* NULL when unset, as are bio and avatar_url */
    const char *bio;
    const char *avatar_url;
    const char *created_at;
} ag_user_t;

/*
 * blocker blocks (on) or unblocks (!on) blocked; both idempotent.
 * AG_ENOTFOUND: no user `blocked`; AG_EBADREQ: blocker == blocked.
 */
ag_status_t ag_block_set(ag_model_t *m, ag_arena_t *a, int64_t blocker, int64_t blocked, bool on);
/* Whether a has blocked b (*a_blocked_b) and b has blocked a (*b_blocked_a). */
ag_status_t ag_block_between(ag_model_t *m, ag_arena_t *a, int64_t ua, int64_t ub,
                             bool *a_blocked_b, bool *b_blocked_a);
/*
 * A page of the users blocker has blocked, by id after `after` (0: from the
 * start), at most limit + 1 rows (the extra one says a next page exists).
 */
ag_status_t ag_blocks_list(ag_model_t *m, ag_arena_t *a, int64_t blocker, int64_t after, int limit,
                           ag_user_t **out, size_t *n);

/* Publish a small core-NATS event {"k":"v",...} built from key/value pairs (NULL-ended). */
ag_status_t ag_event_emit(ag_model_t *m, const char *subject, ...) __attribute__((sentinel));

#endif
