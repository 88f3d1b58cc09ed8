/*
 * lib/model/model.h — the relational domain shared by every program: users,
 * channels, members, follows, notifications and channel activity in
 * PostgreSQL; their Redis copies (user records, user:<id>:subs); who may do
 * what on a channel (the access rules); and the events each change publishes
 * (built with lib/events' vocabulary). Layered above db, cache and events.
 *
 * Every SQL statement on these tables is here. Functions take the program's
 * handles (ag_model_t), allocate records from the arena they are given, and
 * return typed records and a status: AG_ENOTFOUND, AG_ECONFLICT and the like
 * for what the caller tells its user, AG_EUNAVAIL when a server is down,
 * AG_EINTERNAL otherwise (the text in ag_db_error). Timestamps are RFC 3339
 * UTC text with milliseconds, as the contract shows them.
 */
#ifndef AG_MODEL_H
#define AG_MODEL_H

#include "cache/cache.h"
#include "db/db.h"
#include "events/events.h"
#include "json/json.h"

/* Shared handles; any may be NULL where a program has no use for it. */
typedef struct {
    ag_db_t     *db;
    ag_cache_t  *cache;
    ag_events_t *events;
} ag_model_t;

/* A keyset page request: items after the cursor `after` (0: from the start), at most limit. */
typedef struct {
    int64_t after;
    int     limit;
} ag_page_req_t;

/* ---- events ------------------------------------------------------------------------ */

/*
 * Publish ev on core NATS (vocab.h). A failure is logged and returned: core
 * events are best effort (the realtime daemon's resync makes up for a lost one).
 */
ag_status_t ag_model_emit(ag_model_t *m, const ag_ev_t *ev);

/* ---- users (users.c) --------------------------------------------------------------- */

/* The parts of a user that are read often (authors, mentions): cached in Redis. */
typedef struct {
    int64_t     id;
    const char *username;
    const char *display_name; /* NULL when unset */
    const char *avatar_url;   /* NULL when unset */
} ag_user_brief_t;

/* A user as the API shows it (CONTRACT §5); never the password hash. */
typedef struct {
    int64_t     id;
    const char *username;
    const char *display_name; /* NULL when unset, as bio and avatar_url */
    const char *bio;
    const char *avatar_url;
    const char *created_at;
} ag_user_t;

typedef struct {
    ag_user_t *items;
    size_t     n;
    bool       has_next;
} ag_user_page_t;

/* What PATCH /users/{id} changes: each member whose set_ flag is true (NULL clears it). */
typedef struct {
    bool        set_display_name, set_bio, set_avatar_url;
    const char *display_name, *bio, *avatar_url;
} ag_user_patch_t;

/*
 * Brief records by id, cache first (one pipelined round trip), then one SQL
 * query for the misses, which are written back with a TTL. out[i] is NULL for
 * an id that does not exist. Redis down: falls back to PostgreSQL alone.
 */
ag_status_t ag_users_brief(ag_model_t *m, ag_arena_t *a, const int64_t *ids, size_t n,
                           ag_user_brief_t **out);
/* Ids of the users with these usernames (unknown names are left out), in no order. */
ag_status_t ag_users_by_username(ag_model_t *m, ag_arena_t *a, const char *const *names, size_t n,
                                 int64_t **ids, size_t *nids);
/* One user; AG_ENOTFOUND. */
ag_status_t ag_user_get(ag_model_t *m, ag_arena_t *a, int64_t id, ag_user_t **out);
/*
 * Users whose username starts with q or whose display name contains q, both
 * case-insensitively (q NULL or "": everyone), by id.
 */
ag_status_t ag_user_search(ag_model_t *m, ag_arena_t *a, const char *q, const ag_page_req_t *pg,
                           ag_user_page_t *out);
/* A new account (the hash from lib/auth); AG_ECONFLICT when the username is taken. */
ag_status_t ag_user_create(ag_model_t *m, ag_arena_t *a, const char *username,
                           const char *password_hash, const char *display_name, ag_user_t **out);
/* The user of a username and its password hash, for signing in; AG_ENOTFOUND. */
ag_status_t ag_user_credentials(ag_model_t *m, ag_arena_t *a, const char *username, ag_user_t **out,
                                const char **password_hash);
/*
 * Change a profile; *out the user as it is now. The cached records are
 * dropped and user.<id>.updated is published. AG_ENOTFOUND.
 */
ag_status_t ag_user_update(ag_model_t *m, ag_arena_t *a, int64_t id, const ag_user_patch_t *p,
                           ag_user_t **out);

/*
 * The public profile's JSON as cached (user:<id>:json), *json NULL on a
 * miss (or Redis down). A profile is read far more often than written: a hit
 * costs one Redis round trip and no JSON work. ag_users_cache_put_json fills
 * it for ttl_s seconds unless the user is being or was deleted: every fill of
 * the user cache checks the tombstone user:<id>:gone in the same Redis script,
 * so a request that read the user before the deletion cannot put it back
 * after (see ag_user_delete). Best effort: errors are ignored.
 */
ag_status_t ag_users_cache_get_json(ag_model_t *m, ag_arena_t *a, int64_t id, const char **json,
                                    size_t *len);
void        ag_users_cache_put_json(ag_model_t *m, int64_t id, const char *json, int ttl_s);
/* The key ag_users_cache_get_json reads, "user:<id>:json" (n >= 48). */
void ag_users_cache_json_key(char *key, size_t n, int64_t id);
/*
 * Forget a cached user (after an update or a deletion): the brief record
 * user:<id> and the public profile user:<id>:json. Errors are logged only.
 */
void ag_users_cache_forget(ag_model_t *m, int64_t id);

/* ---- accounts (accounts.c) --------------------------------------------------------- */

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
 * One transaction. After it commits the events are published: each owned
 * channel's channel.<id>.updated (with "deleted" when it went), the user's
 * subscription changes, then user.<id>.updated with "deleted". AG_ENOTFOUND
 * when there is no such user, AG_ECONFLICT when an owned channel changed
 * members too often meanwhile, AG_EUNAVAIL when PostgreSQL or Redis cannot
 * be reached (nothing is deleted then: without the tombstone a racing request
 * could keep the account's token alive for the cache TTL).
 */
typedef struct {
    int64_t channel_id;
    int64_t heir_id; /* the new owner; 0: no other member, the channel was deleted */
} ag_succession_t;

typedef struct {
    int64_t         *channels; /* every channel the user was a member of */
    size_t           nchannels;
    ag_succession_t *owned; /* what became of each channel the user owned */
    size_t           nowned;
} ag_user_deleted_t;

ag_status_t ag_user_delete(ag_model_t *m, ag_arena_t *a, int64_t user_id, ag_user_deleted_t *out);

/* ---- who may do what on a channel (access.c) --------------------------------------- */

/* One user's standing in one channel: the facts every rule below reads. */
typedef struct {
    bool        exists;
    bool        is_public;
    const char *role; /* "owner", "admin", "member"; NULL: not a member */
} ag_channel_access_t;

/* The facts, in one query (for a user who is not a member, role is NULL). */
ag_status_t ag_channel_access(ag_model_t *m, ag_arena_t *a, int64_t channel_id, int64_t user_id,
                              ag_channel_access_t *out);

/*
 * The rules, for REST, GraphQL, agora-wsd and the workers alike. Each answers
 * AG_OK when the user may, else a refusal and, in *why, a static sentence
 * for the user:
 *   AG_ENOTFOUND   the channel does not exist, or is private and the user is
 *                  not a member: such a channel is not found for every verb
 *                  (CONTRACT §5; GraphQL reports it as forbidden);
 *   AG_EFORBIDDEN  the user sees the channel but may not do this;
 *   AG_ECONFLICT   the request contradicts itself (the owner leaving).
 * X(VERB, who may: READER (public, or a member), MEMBER, MANAGER (the owner
 * or an admin), OWNER, the refusal)
 */
#define AG_ACCESS_VERBS(X)                                                                         \
    X(READ, READER, "no such channel")                                                             \
    X(POST, MEMBER, "only members may post in a channel")                                          \
    X(ANSWER, MEMBER, "only members may write here") /* comment, reply */                          \
    X(REACT, MEMBER, "only members may react here")  /* to a post, comment or reply */             \
    X(UPDATE, MANAGER, "only the channel's owner or an admin may change it")                       \
    X(DELETE, MANAGER, "only the channel's owner or an admin may delete it")                       \
    X(TRANSFER, OWNER, "only the channel's owner may hand it over")                                \
    X(LEVEL, MEMBER, "only members have a notification level") /* GET/PUT its notifications */

typedef enum {
#define AG__ACCESS_ENUM(v, who, refusal) AG_ACCESS_##v,
    AG_ACCESS_VERBS(AG__ACCESS_ENUM)
#undef AG__ACCESS_ENUM
} ag_access_verb_t;

ag_status_t ag_access_check(const ag_channel_access_t *acc, ag_access_verb_t verb,
                            const char **why);
/* The sentence of a refusal of verb by a reader of the channel (AG_EFORBIDDEN). */
const char *ag_access_refusal(ag_access_verb_t verb);
/*
 * PUT /channels/{id}/members/{userId} {role?}: may the caller (acc) give the
 * user whose role is target_role (NULL: not a member yet; self: the caller)
 * the role `role` (NULL: keep it, or "member" for a new one)? The owner and
 * admins manage members, only the owner manages admins, the owner's own role
 * moves only with the ownership; joining a public channel is self-service, an
 * admin may step down, nobody promotes themselves.
 */
ag_status_t ag_access_member_set(const ag_channel_access_t *acc, const char *target_role, bool self,
                                 const char *role, const char **why);
/* DELETE /channels/{id}/members/{userId}: the rule of removal, as above (target_role NULL:
 * not a member, nothing to remove: AG_OK). */
ag_status_t ag_access_member_remove(const ag_channel_access_t *acc, const char *target_role,
                                    bool self, const char **why);
/* Delete a post (comment, reply) in the channel: its author, the owner or an admin. */
ag_status_t ag_access_post_delete(const ag_channel_access_t *acc, bool author, const char **why);
/*
 * Edit a post (comment, reply) in the channel: its author alone, while they
 * may read the channel (a former member keeps no right over what they wrote
 * in a private channel).
 */
ag_status_t ag_access_post_edit(const ag_channel_access_t *acc, bool author, const char **why);
/*
 * A direct message from from_id to to_id: its two parties read it and react to
 * it (AG_ENOTFOUND for anyone else); only its sender changes (edits, deletes)
 * it (AG_EFORBIDDEN for the recipient). No channel is involved.
 */
ag_status_t ag_access_dm(int64_t user_id, int64_t from_id, int64_t to_id, bool change,
                         const char **why);

/*
 * Who may reach whom (CONTRACT §9, blocks). Sending a DM: refused (AG_EFORBIDDEN) when
 * the recipient has blocked the sender or the sender the recipient (facts:
 * ag_block_between). Who may be told of something is ag_notify's rule: the
 * recipient may read the channel (the READ rule), has not blocked the actor,
 * and the recipient's level of the channel admits the kind ("all" every kind,
 * "mentions" only mentions, "none" nothing). That rule is SQL
 * (AG_ACCESS__NOTIFY_SQL, access.c's part of model_int.h) so that it and the
 * insert are one statement.
 */
ag_status_t ag_access_dm_send(bool recipient_blocked_sender, bool sender_blocked_recipient,
                              const char **why);

/* ---- channels (channels.c) --------------------------------------------------------- */

typedef struct {
    int64_t     id;
    const char *name;
    const char *topic;      /* NULL when unset */
    const char *visibility; /* "public" or "private" */
    int64_t     owner_id;   /* 0: none */
    int64_t     member_count;
    const char *created_at;
    const char *my_role; /* the viewer's role; NULL when not a member */
} ag_channel_t;

typedef struct {
    ag_channel_t *items;
    size_t        n;
    bool          has_next;
} ag_channel_page_t;

/* What PATCH /channels/{id} changes: name and visibility unless NULL, topic when set_topic. */
typedef struct {
    const char *name, *visibility;
    bool        set_topic;
    const char *topic;
} ag_channel_patch_t;

/* One channel as `viewer` sees it (my_role); AG_ENOTFOUND. Access is the caller's to check. */
ag_status_t ag_channel_get(ag_model_t *m, ag_arena_t *a, int64_t id, int64_t viewer,
                           ag_channel_t **out);
/* The viewer's channels (member_only), or every public channel and the viewer's, by id. */
ag_status_t ag_channel_list(ag_model_t *m, ag_arena_t *a, int64_t viewer, bool member_only,
                            const ag_page_req_t *pg, ag_channel_page_t *out);
/*
 * A channel with its owner as first member (one statement: never one without
 * the other); publishes the owner's subscription change and member.joined.
 */
ag_status_t ag_channel_create(ag_model_t *m, ag_arena_t *a, int64_t owner_id, const char *name,
                              const char *topic, const char *visibility, int64_t *id);
/* Change it and publish channel.<id>.updated. */
ag_status_t ag_channel_update(ag_model_t *m, ag_arena_t *a, int64_t id,
                              const ag_channel_patch_t *p);
/* Delete it (memberships cascade); every member's subscriptions change, then
 * channel.<id>.updated with "deleted". */
ag_status_t ag_channel_delete(ag_model_t *m, ag_arena_t *a, int64_t id);
/*
 * Hand a channel from its owner to new_owner_id, a member: the new owner's
 * role becomes "owner", the old owner's "admin", and channels.owner_id
 * follows, in one transaction that locks both memberships; then
 * channel.<id>.updated. AG_EFORBIDDEN: owner_id is not (or no longer) the
 * owner. AG_ENOTFOUND: new_owner_id is not a member. The same user twice is
 * AG_OK, no change and no event.
 */
ag_status_t ag_channel_transfer(ag_model_t *m, ag_arena_t *a, int64_t channel_id, int64_t owner_id,
                                int64_t new_owner_id);

/* ---- members (members.c) ----------------------------------------------------------- */

typedef struct {
    int64_t     user_id;
    const char *username;
    const char *display_name; /* NULL when unset */
    const char *role;
    const char *joined_at;
} ag_member_t;

typedef struct {
    ag_member_t *items;
    size_t       n;
    bool         has_next;
} ag_member_page_t;

/* A channel's members by user id. */
ag_status_t ag_member_list(ag_model_t *m, ag_arena_t *a, int64_t channel_id,
                           const ag_page_req_t *pg, ag_member_page_t *out);
/* One membership; AG_ENOTFOUND. */
ag_status_t ag_member_get(ag_model_t *m, ag_arena_t *a, int64_t channel_id, int64_t user_id,
                          ag_member_t **out);
/*
 * Add user_id with `role` (NULL: "member"), or change an existing member's
 * role (NULL: keep it), only if the user's role is still `expected_role` (the
 * one the access rules decided on; NULL: not a member): a concurrent change is
 * AG_ECONFLICT, never a change the rules would have refused. *inserted: a new
 * member, whose subscription change and member.joined are published.
 * AG_ENOTFOUND: no such user.
 */
ag_status_t ag_member_put(ag_model_t *m, ag_arena_t *a, int64_t channel_id, int64_t user_id,
                          const char *role, const char *expected_role, bool *inserted);
/*
 * Remove user_id if its role is still expected_role (not NULL); publishes the
 * subscription change and member.left. AG_OK also when the user left
 * meanwhile; AG_ECONFLICT when its role changed.
 */
ag_status_t ag_member_remove(ag_model_t *m, ag_arena_t *a, int64_t channel_id, int64_t user_id,
                             const char *expected_role);

/* ---- follows (follows.c) ----------------------------------------------------------- */

/*
 * follower follows followee (the same twice is a no-op). A new follow makes a
 * new_follower notification, at most one per follower, followee and UTC day
 * (unfollowing and following again makes a new row each time). AG_ENOTFOUND:
 * no such followee.
 */
ag_status_t ag_follow(ag_model_t *m, ag_arena_t *a, int64_t follower, int64_t followee);
ag_status_t ag_unfollow(ag_model_t *m, ag_arena_t *a, int64_t follower, int64_t followee);

/* ---- subscriptions (subs.c) -------------------------------------------------------- */

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
ag_status_t ag_subs_load(ag_model_t *m, ag_arena_t *a, int64_t user_id, int64_t **ids, size_t *n,
                         bool *exists);
/* Add or remove one channel and publish user.<id>.subs.changed. */
ag_status_t ag_subs_changed(ag_model_t *m, int64_t user_id, int64_t channel_id, bool joined);

/* ---- notifications (notify.c) ------------------------------------------------------ */

typedef struct {
    int64_t     id;
    int64_t     user_id;    /* the recipient */
    const char *kind;       /* mention, comment, reply, new_follower */
    int64_t     actor_id;   /* 0: none (the actor's account is gone) */
    int64_t     channel_id; /* 0: none */
    const char *post_id;    /* NULL: none */
    const char *created_at; /* lists */
    bool        read;
    int64_t     created_ms; /* ag_notify_pending */
    int64_t     attempts;   /* ag_notify_pending: failed publishes so far */
} ag_notification_t;

typedef struct {
    ag_notification_t *items;
    size_t             n;
    bool               has_next;
} ag_notification_page_t;

/*
 * Store a notification for user_id (deduplicated by dedupe_key when given)
 * and publish it (ag_notify_publish). A failed publish leaves it unpublished
 * for the outbox worker; the stored notification is never lost. *created
 * tells whether a new row was written.
 * Nothing is stored (AG_OK, *created false) when the rule of who may be told
 * refuses (access.c, AG_ACCESS__NOTIFY_SQL): user_id has blocked actor_id, or
 * the notification is about a channel (channel_id > 0) that user_id may not
 * read (private, not a member; or gone) or whose level for user_id refuses
 * its kind. The rule and the insert are one statement.
 */
ag_status_t ag_notify(ag_model_t *m, ag_arena_t *a, int64_t user_id, const char *kind,
                      int64_t actor_id, int64_t channel_id, const char *post_id,
                      const char *dedupe_key, bool *created);
/*
 * The one way a notification reaches NOTIFY_STREAM: user.<id>.notify.<kind>
 * with Nats-Msg-Id "notify-<id>" (a republish is deduplicated). AG_EUNAVAIL
 * (or the publish's failure) when JetStream did not ack it.
 */
ag_status_t ag_notify_publish(ag_model_t *m, const ag_notification_t *n);
ag_status_t ag_notify_mark_published(ag_model_t *m, ag_arena_t *a, int64_t id);
/* The user's notifications, newest first (the cursor is the last id shown). */
ag_status_t ag_notify_list(ag_model_t *m, ag_arena_t *a, int64_t user_id, const ag_page_req_t *pg,
                           ag_notification_page_t *out);
/* Mark read every notification of the user whose id is <= up_to. */
ag_status_t ag_notify_mark_read(ag_model_t *m, ag_arena_t *a, int64_t user_id, int64_t up_to);
/*
 * For the outbox worker: up to limit unpublished notifications created at
 * least older_than_s ago and due by due_ms (not deferred past it), oldest first.
 */
ag_status_t ag_notify_pending(ag_model_t *m, ag_arena_t *a, int older_than_s, int64_t due_ms,
                              int limit, ag_notification_t **items, size_t *n);

/*
 * Notifications stored but not published yet (what the outbox job retries):
 * how many, and the oldest of them (valid when n > 0).
 */
typedef struct {
    int64_t     n;
    int64_t     oldest_id;
    int64_t     oldest_ms;  /* created_at, ms */
    int64_t     attempts;   /* failed publishes of the oldest */
    const char *last_error; /* "" when none */
} ag_notify_backlog_t;
ag_status_t ag_notify_backlog(ag_model_t *m, ag_arena_t *a, ag_notify_backlog_t *out);
/*
 * The publish of notification id failed for `why`: count it and defer the
 * next try to next_try_ms (never dropped). *attempts: the count now.
 */
ag_status_t ag_notify_retry_later(ag_model_t *m, ag_arena_t *a, int64_t id, int64_t next_try_ms,
                                  const char *why, int64_t *attempts);

/* ---- channel activity (stats.c) ---------------------------------------------------- */

typedef struct {
    const char *date; /* YYYY-MM-DD, UTC */
    int64_t     posts, comments, active_posters;
} ag_channel_day_t;

/*
 * Count one post, comment or reply (kind) on the UTC day of created_ms; the
 * document id is the key, so counting it again adds nothing.
 */
ag_status_t ag_activity_record(ag_model_t *m, ag_arena_t *a, const char *doc_id, int64_t channel_id,
                               int64_t created_ms, const char *kind, int64_t author_id);
/* The channel's last `days` UTC days, oldest first, every day present (zeros included). */
ag_status_t ag_activity_days(ag_model_t *m, ag_arena_t *a, int64_t channel_id, int days,
                             ag_channel_day_t **out, size_t *n);

/*
 * ---- attachments and resumable uploads (media.c; issue 17, CONTRACT §9) ----
 * An attachment is one upload by one user: its bytes live under the data
 * directory by content hash (lib/media), its row here says who may read it.
 * Free until a post or a DM claims it; then readable by whoever may read
 * that message (ag_access_attachment_read). Ids are 24-hex ObjectIds.
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

/* {id, url, contentType, size, width, height, thumbnailUrl} (CONTRACT §9); NULL on ENOMEM. */
struct json_object *ag_attachment_json(const ag_attachment_t *t);
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
/*
 * May user_id read att (GET /files/{id})? Free: its uploader alone; a post's:
 * whoever may read the channel (AG_ACCESS_READ); a DM's: its two parties
 * (ag_access_dm). The status is the channel lookup's. Written in access.c.
 */
ag_status_t ag_access_attachment_read(ag_model_t *m, ag_arena_t *a, const ag_attachment_t *att,
                                      int64_t user_id, bool *allowed);
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
#define AG_MENTIONS_MAX        50   /* @names per text that notify and count */
#define AG_ATTENTION_COUNT_MAX 1000 /* unread and mentions stop counting here */

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

/*
 * blocker blocks (on) or unblocks (!on) blocked; both idempotent.
 * AG_ENOTFOUND: no user `blocked`; AG_EBADREQ: blocker == blocked.
 */
ag_status_t ag_block_set(ag_model_t *m, ag_arena_t *a, int64_t blocker, int64_t blocked, bool on);
/* Whether a has blocked b (*a_blocked_b) and b has blocked a (*b_blocked_a). */
ag_status_t ag_block_between(ag_model_t *m, ag_arena_t *a, int64_t ua, int64_t ub,
                             bool *a_blocked_b, bool *b_blocked_a);
/* A page of the users blocker has blocked, by id. */
ag_status_t ag_blocks_list(ag_model_t *m, ag_arena_t *a, int64_t blocker, const ag_page_req_t *pg,
                           ag_user_page_t *out);

#endif
