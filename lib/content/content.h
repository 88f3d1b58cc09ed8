/*
 * lib/content/content.h — the content store: posts, comments, replies and
 * direct messages (CONTRACT §3, §5), behind one API with two backends:
 *
 *   - PostgreSQL (default): tables of sql/002_content.sql through lib/db, on
 *     the caller's ag_db_t; every write and its outbox event in one
 *     transaction.
 *   - MongoDB (when config mongodb_uri is non-empty): collections posts,
 *     comments, replies, dms and outbox through mongo-c-driver.
 *
 * Ids are 24-hex ObjectIds generated here in both backends. Timestamps are
 * wall-clock milliseconds since the epoch (RFC 3339 is the caller's format,
 * see ag_format_rfc3339()). Every record, string and array handed back is
 * allocated from the arena the caller passes; nothing needs freeing.
 *
 * Threads: one ag_content_t belongs to one thread (a FastCGI worker process
 * has exactly one). Open it after fork, never before.
 *
 * Statuses common to every operation: AG_EUNAVAIL when the store cannot be
 * reached (it is retried on the next call), AG_ENOTFOUND for an id that is
 * malformed or names nothing (a deleted post names nothing), AG_EBADREQ for
 * an invalid argument (ag_content_error() says which), AG_ENOMEM,
 * AG_EINTERNAL for anything else (the driver's text is in ag_content_error()).
 */
#ifndef AG_CONTENT_H
#define AG_CONTENT_H

#include "core/core.h"
#include "config/config.h"
#include "db/db.h"

#define AG_CONTENT_ID_LEN    24    /* hex digits of an ObjectId */
#define AG_CONTENT_BODY_MAX  10000 /* characters (Unicode code points) of a body */
#define AG_CONTENT_FIRST_MAX 1000  /* largest page; callers clamp lower (page_limit_max) */

typedef struct ag_content ag_content_t;

typedef enum { AG_CONTENT_POSTGRES, AG_CONTENT_MONGODB } ag_content_backend_t;

typedef struct {
    char        id[AG_CONTENT_ID_LEN + 1];
    int64_t     channel_id;
    int64_t     author_id;
    const char *body;
    int64_t     created_at; /* ms */
    int64_t     edited_at;  /* ms; 0 when never edited (GraphQL null) */
    int64_t     comment_count;
    /* the author's brief, set only by the *_as reads below (NULL: not read, or no such user) */
    const char *author_username;
    const char *author_display_name;
    const char *author_avatar_url;
    /* set only by the *_as reads: author_id names no user (the account was deleted) */
    bool        author_deleted;
} ag_content_post_t;

typedef struct {
    char        id[AG_CONTENT_ID_LEN + 1];
    char        post_id[AG_CONTENT_ID_LEN + 1];
    int64_t     channel_id; /* the post's, stored with the comment for authorization */
    int64_t     author_id;
    const char *body;
    int64_t     created_at;
    int64_t     edited_at; /* ms; 0 when never edited */
    int64_t     reply_count;
} ag_content_comment_t;

typedef struct {
    char        id[AG_CONTENT_ID_LEN + 1];
    char        comment_id[AG_CONTENT_ID_LEN + 1];
    char        post_id[AG_CONTENT_ID_LEN + 1];
    int64_t     channel_id;
    int64_t     author_id;
    const char *body;
    int64_t     created_at;
    int64_t     edited_at;
} ag_content_reply_t;

typedef struct {
    char        id[AG_CONTENT_ID_LEN + 1];
    int64_t     from_id;
    int64_t     to_id;
    const char *body;
    int64_t     created_at;
    int64_t     edited_at;
} ag_content_dm_t;

/*
 * A page of a connection. items[i]'s own edge cursor is
 * ag_content_cursor(a, items[i].created_at, items[i].id); end_cursor is the
 * last item's (NULL for an empty page).
 */
#define AG_CONTENT_PAGE(T)                                                                         \
    struct {                                                                                       \
        T          *items;                                                                         \
        size_t      n;                                                                             \
        bool        has_next_page;                                                                 \
        const char *end_cursor;                                                                    \
    }
typedef AG_CONTENT_PAGE(ag_content_post_t) ag_content_post_page_t;
typedef AG_CONTENT_PAGE(ag_content_comment_t) ag_content_comment_page_t;
typedef AG_CONTENT_PAGE(ag_content_reply_t) ag_content_reply_page_t;
typedef AG_CONTENT_PAGE(ag_content_dm_t) ag_content_dm_page_t;

/*
 * An event to publish on JetStream for a write, stored in the outbox with
 * the write (see "Outbox" below). All three strings are required; msg_id is
 * the Nats-Msg-Id and must be unique per event (e.g. "post.created.<id>").
 * Because the event usually names the new record, a caller that wants one
 * generates the id first with ag_content_oid_new() and passes it to create.
 */
typedef struct {
    const char *msg_id;
    const char *subject;
    const char *payload; /* JSON text */
} ag_content_event_t;

typedef struct {
    const char *msg_id;
    const char *subject;
    const char *payload;
    int64_t     created_at;  /* ms */
    int64_t     attempts;    /* failed publishes so far (ag_content_outbox_retry_later) */
    int64_t     next_try_at; /* ms; 0: never deferred */
    const char *last_error;  /* why the last publish failed; "" when none did */
} ag_content_outbox_t;

/* ---- process and handle ------------------------------------------------- */

/* Once per process before any ag_content_open (mongoc_init), and once at exit. */
void ag_content_global_init(void);
void ag_content_global_fini(void);

/*
 * Open the store named by cfg: MongoDB when mongodb_uri is non-empty (db may
 * be NULL then), else PostgreSQL on db, which stays the caller's and must
 * outlive the store. Does not need the store to be up: a store that is down
 * gives AG_EUNAVAIL per call until it is back. MongoDB indexes are created
 * on the first call that reaches the server. AG_ECONFIG with a message in
 * err for a bad URI or a missing db.
 */
ag_status_t ag_content_open(const ag_config_t *cfg, ag_db_t *db, ag_content_t **out, char *err,
                            size_t errlen);
void        ag_content_close(ag_content_t *c); /* accepts NULL */
ag_content_backend_t ag_content_backend(const ag_content_t *c);
const char          *ag_content_backend_name(const ag_content_t *c); /* "postgres" | "mongodb" */
/* One round trip: AG_OK or AG_EUNAVAIL. */
ag_status_t ag_content_health(ag_content_t *c);
/* Why the last call failed (a message fit for a client when it was AG_EBADREQ). */
const char *ag_content_error(const ag_content_t *c);

/* ---- ids, cursors, bodies (pure; also used by the GraphQL layer) --------- */

/* A fresh ObjectId: 4-byte time, 5-byte per-process random, 3-byte counter. */
void ag_content_oid_new(char out[AG_CONTENT_ID_LEN + 1]);
/* Exactly 24 hex digits (either case). */
bool ag_content_oid_valid(const char *s);
/* The opaque cursor of a (created_at, id) position. */
const char *ag_content_cursor(ag_arena_t *a, int64_t created_at, const char *id);
/* AG_OK, or AG_EBADREQ for anything ag_content_cursor() did not produce. */
ag_status_t ag_content_cursor_decode(const char *cursor, int64_t *created_at,
                                     char id[AG_CONTENT_ID_LEN + 1]);
/* 1..AG_CONTENT_BODY_MAX characters of valid UTF-8; else AG_EBADREQ and a message. */
ag_status_t ag_content_body_check(const char *body, const char **why);

/* ---- posts --------------------------------------------------------------- */

/*
 * id: NULL to generate one, else a fresh ag_content_oid_new() value (a
 * reused id is AG_ECONFLICT on PostgreSQL). ev: NULL or the event to store
 * in the outbox with the write.
 */
ag_status_t ag_content_post_create(ag_content_t *c, ag_arena_t *a, const char *id,
                                   int64_t channel_id, int64_t author_id, const char *body,
                                   const ag_content_event_t *ev, ag_content_post_t **out);
ag_status_t ag_content_post_get(ag_content_t *c, ag_arena_t *a, const char *id,
                                ag_content_post_t **out);
/* Replace the body and set edited_at; *out (optional) is the post after the edit. */
ag_status_t ag_content_post_edit(ag_content_t *c, ag_arena_t *a, const char *id, const char *body,
                                 const ag_content_event_t *ev, ag_content_post_t **out);
/* Hard delete, with the post's comments and replies. AG_ENOTFOUND when absent. */
ag_status_t ag_content_post_delete(ag_content_t *c, ag_arena_t *a, const char *id,
                                   const ag_content_event_t *ev);
/* A channel's posts, newest first; after NULL for the first page. */
ag_status_t ag_content_post_list(ag_content_t *c, ag_arena_t *a, int64_t channel_id, int first,
                                 const char *after, ag_content_post_page_t *out);
/*
 * A reader's access to a channel (the `channels` and `memberships` tables of
 * the same PostgreSQL), read in the same statement as the content by the
 * *_as functions below: one round trip for access, posts and their authors.
 */
typedef struct {
    bool        exists;    /* the channel exists */
    bool        is_public;
    const char *role;      /* the reader's role; NULL when not a member */
} ag_content_access_t;

/*
 * ag_content_post_list with reader_id's access to the channel in *access
 * and each post's author_username/author_display_name (author_deleted when
 * author_id names no user). The page is read only when the channel is
 * readable (exists and public, or reader is a member); otherwise it is empty. AG_DECLINED when the backend cannot join (MongoDB)
 * or an argument is invalid: the caller checks access on its own and calls
 * ag_content_post_list, which reports the argument in the usual order.
 */
ag_status_t ag_content_post_list_as(ag_content_t *c, ag_arena_t *a, int64_t channel_id,
                                    int64_t reader_id, int first, const char *after,
                                    ag_content_access_t *access, ag_content_post_page_t *out);
/*
 * ag_content_post_get with reader_id's access to the post's channel and the
 * post's author; AG_ENOTFOUND as there, AG_DECLINED as above.
 */
ag_status_t ag_content_post_get_as(ag_content_t *c, ag_arena_t *a, const char *id,
                                   int64_t reader_id, ag_content_access_t *access,
                                   ag_content_post_t **out);
/*
 * Batch get (GraphQL loaders): (*out)[i] is the post of ids[i], or NULL when
 * that id is malformed or names nothing. n <= AG_CONTENT_FIRST_MAX.
 */
ag_status_t ag_content_post_get_many(ag_content_t *c, ag_arena_t *a, const char *const *ids,
                                     size_t n, ag_content_post_t ***out);

/* ---- comments and replies ------------------------------------------------ */

/* Adds 1 to the post's comment_count. AG_ENOTFOUND when the post is absent. */
ag_status_t ag_content_comment_create(ag_content_t *c, ag_arena_t *a, const char *id,
                                      const char *post_id, int64_t author_id, const char *body,
                                      const ag_content_event_t *ev, ag_content_comment_t **out);
ag_status_t ag_content_comment_get(ag_content_t *c, ag_arena_t *a, const char *id,
                                   ag_content_comment_t **out);
/* A post's comments, oldest first. */
ag_status_t ag_content_comment_list(ag_content_t *c, ag_arena_t *a, const char *post_id, int first,
                                    const char *after, ag_content_comment_page_t *out);

/* Adds 1 to the comment's reply_count. AG_ENOTFOUND when the comment is absent. */
ag_status_t ag_content_reply_create(ag_content_t *c, ag_arena_t *a, const char *id,
                                    const char *comment_id, int64_t author_id, const char *body,
                                    const ag_content_event_t *ev, ag_content_reply_t **out);
ag_status_t ag_content_reply_get(ag_content_t *c, ag_arena_t *a, const char *id,
                                 ag_content_reply_t **out);
/* A comment's replies, oldest first. */
ag_status_t ag_content_reply_list(ag_content_t *c, ag_arena_t *a, const char *comment_id, int first,
                                  const char *after, ag_content_reply_page_t *out);

/*
 * Edits replace the body and set edited_at; *out (optional) is the record
 * after the edit. Deletes are hard: a comment goes with its replies and the
 * post's comment_count drops by one; a reply's comment's reply_count drops
 * by one; reactions on whatever was deleted go too. AG_ENOTFOUND when absent.
 */
ag_status_t ag_content_comment_edit(ag_content_t *c, ag_arena_t *a, const char *id,
                                    const char *body, const ag_content_event_t *ev,
                                    ag_content_comment_t **out);
ag_status_t ag_content_comment_delete(ag_content_t *c, ag_arena_t *a, const char *id,
                                      const ag_content_event_t *ev);
ag_status_t ag_content_reply_edit(ag_content_t *c, ag_arena_t *a, const char *id, const char *body,
                                  const ag_content_event_t *ev, ag_content_reply_t **out);
ag_status_t ag_content_reply_delete(ag_content_t *c, ag_arena_t *a, const char *id,
                                    const ag_content_event_t *ev);

/* ---- direct messages ----------------------------------------------------- */

ag_status_t ag_content_dm_send(ag_content_t *c, ag_arena_t *a, const char *id, int64_t from_id,
                               int64_t to_id, const char *body, const ag_content_event_t *ev,
                               ag_content_dm_t **out);
ag_status_t ag_content_dm_get(ag_content_t *c, ag_arena_t *a, const char *id,
                              ag_content_dm_t **out);
/* The conversation of users u and v (either direction), newest first. */
ag_status_t ag_content_dm_list(ag_content_t *c, ag_arena_t *a, int64_t u, int64_t v, int first,
                               const char *after, ag_content_dm_page_t *out);
/* As the comment and reply edits and deletes above (a DM's reactions go with it). */
ag_status_t ag_content_dm_edit(ag_content_t *c, ag_arena_t *a, const char *id, const char *body,
                               const ag_content_event_t *ev, ag_content_dm_t **out);
ag_status_t ag_content_dm_delete(ag_content_t *c, ag_arena_t *a, const char *id,
                                 const ag_content_event_t *ev);

/*
 * ---- reactions ---------------------------------------------------------------
 * A reaction is (target, emoji, user): adding it twice or removing one that
 * is not there changes nothing (and stores no event). Targets are posts,
 * comments, replies and DMs, named by their ObjectId alone.
 *
 * The emoji rule (ag_content_emoji_check): one emoji, i.e. one short grapheme
 * cluster of at most 64 bytes and 16 code points that is
 *   - a pictograph (the emoji blocks U+1F000..U+1FAFF, U+2600..U+27BF and the
 *     other Extended_Pictographic code points below U+3300), optionally
 *     followed by U+FE0F, a skin tone (U+1F3FB..U+1F3FF) and/or tag
 *     characters (U+E0020..U+E007F, subdivision flags), and joined to more
 *     such pictographs by U+200D (ZWJ sequences: families, professions); or
 *   - two regional indicators (a country flag); or
 *   - a keycap: one of 0-9 # * then optionally U+FE0F, then U+20E3.
 * Anything else (letters, digits alone, spaces, two emojis) is text:
 * AG_EBADREQ.
 */
#define AG_CONTENT_EMOJI_MAX 64 /* bytes */

typedef enum {
    AG_CONTENT_KIND_POST = 1,
    AG_CONTENT_KIND_COMMENT,
    AG_CONTENT_KIND_REPLY,
    AG_CONTENT_KIND_DM
} ag_content_kind_t;

/* What an id names, with what authorizing a write on it needs. */
typedef struct {
    ag_content_kind_t kind;
    char              id[AG_CONTENT_ID_LEN + 1];
    char    post_id[AG_CONTENT_ID_LEN + 1];    /* post: itself; comment, reply: theirs; DM: "" */
    char    comment_id[AG_CONTENT_ID_LEN + 1]; /* comment: itself; reply: its comment */
    int64_t channel_id;                        /* 0 for a DM */
    int64_t author_id;                         /* a DM's sender */
    int64_t to_id;                             /* a DM's recipient; 0 otherwise */
} ag_content_target_t;

/* One emoji of a target: how many users chose it and whether the viewer did. */
typedef struct {
    const char *emoji;
    int64_t     count;
    bool        mine;
} ag_content_reaction_t;

typedef struct {
    ag_content_reaction_t *items; /* oldest emoji first (when it was first chosen) */
    size_t                 n;
} ag_content_reactions_t;

/* AG_OK for one emoji by the rule above, else AG_EBADREQ and *why (may be NULL). */
ag_status_t ag_content_emoji_check(const char *emoji, const char **why);
/* The post, comment, reply or DM of id; AG_ENOTFOUND when none. */
ag_status_t ag_content_target_get(ag_content_t *c, ag_arena_t *a, const char *id,
                                  ag_content_target_t *out);
/*
 * Add user_id's emoji to target t (from ag_content_target_get). A target
 * holds at most max_emojis distinct emojis: a new one beyond is AG_EBADREQ
 * (an emoji already there can always be added to). *changed: whether a
 * reaction was stored (the event is stored only then). AG_ENOTFOUND when the
 * target is gone. On PostgreSQL the cap holds under concurrency (the target
 * row is locked); on MongoDB two concurrent new emojis may pass it by one.
 */
ag_status_t ag_content_reaction_add(ag_content_t *c, ag_arena_t *a, const ag_content_target_t *t,
                                    int64_t user_id, const char *emoji, int max_emojis,
                                    const ag_content_event_t *ev, bool *changed);
ag_status_t ag_content_reaction_remove(ag_content_t *c, ag_arena_t *a, const ag_content_target_t *t,
                                       int64_t user_id, const char *emoji,
                                       const ag_content_event_t *ev, bool *changed);
/*
 * The reactions of n targets as seen by viewer_id, (*out)[i] for ids[i]
 * (empty for an invalid id or a target without reactions), in one round trip.
 * n <= AG_CONTENT_FIRST_MAX.
 */
ag_status_t ag_content_reactions(ag_content_t *c, ag_arena_t *a, const char *const *ids, size_t n,
                                 int64_t viewer_id, ag_content_reactions_t **out);

/*
 * ---- outbox ---------------------------------------------------------------
 * A write that carries an event stores it as pending; the writer publishes
 * it and marks it published; a worker republishes what stays pending.
 * Guarantees:
 *   - PostgreSQL: the event row commits or rolls back with the write.
 *   - MongoDB: without relying on multi-document transactions, the event is
 *     inserted first and the write follows; when the write fails the event
 *     is removed again. A process that dies in between leaves an event for
 *     a write that did not happen: consumers already treat events as hints
 *     (ids only, at least once) and a lookup of that id is not found. A
 *     write is never stored without its event.
 * A duplicate msg_id is AG_ECONFLICT on PostgreSQL (the write is undone);
 * MongoDB cannot promise that on every server (see content_mongo.c).
 */
/*
 * Up to limit pending events created at least older_than_s seconds ago and
 * due at due_ms (never deferred, or deferred to no later than due_ms),
 * oldest first. A worker passes the time its run started, so that an event
 * it deferred is not tried again in the same run.
 */
ag_status_t ag_content_outbox_pending(ag_content_t *c, ag_arena_t *a, int older_than_s,
                                      int64_t due_ms, int limit, ag_content_outbox_t **items,
                                      size_t *n);
/* AG_OK (also when already marked), AG_ENOTFOUND for an unknown msg_id. */
ag_status_t ag_content_outbox_mark_published(ag_content_t *c, const char *msg_id);
/*
 * A publish of msg_id failed for `why`: count the attempt, keep why, and
 * leave the event out of ag_content_outbox_pending until next_try_ms. The
 * event stays pending: an outbox event is never dropped, only deferred.
 * *attempts (optional) is the count including this one. AG_ENOTFOUND for an
 * unknown msg_id.
 */
ag_status_t ag_content_outbox_retry_later(ag_content_t *c, const char *msg_id, int64_t next_try_ms,
                                          const char *why, int64_t *attempts);
/* What waits: how many events are unpublished (due or deferred) and the oldest of them. */
typedef struct {
    int64_t             n;
    ag_content_outbox_t oldest; /* valid when n > 0 */
} ag_content_outbox_backlog_t;
ag_status_t ag_content_outbox_backlog(ag_content_t *c, ag_arena_t *a,
                                      ag_content_outbox_backlog_t *out);

/*
 * ---- search (content_search.c) ---------------------------------------------
 * The full-text index of posts, kept by `agora-worker index`. It lives in
 * PostgreSQL (table post_search) for both backends, so these take the
 * caller's db as well: users, channels and memberships are there too.
 */
/* Index (or re-index) a post as it is now. */
ag_status_t ag_content_search_put(ag_db_t *db, ag_arena_t *a, const ag_content_post_t *p);
/* Drop a post from the index; AG_OK when it was not indexed. */
ag_status_t ag_content_search_remove(ag_db_t *db, ag_arena_t *a, const char *post_id);
/*
 * Posts matching query (web-search syntax: words, "phrases", -not, or) in
 * channels reader_id may read, by relevance then recency, never a deleted
 * post. first is 1..AG_CONTENT_FIRST_MAX; after is NULL or a cursor of this
 * search (not a channelPosts cursor). (*cursors)[i] is items[i]'s cursor.
 * AG_EBADREQ for a query over 500 bytes or a foreign cursor.
 */
ag_status_t ag_content_search(ag_content_t *c, ag_db_t *db, ag_arena_t *a, int64_t reader_id,
                              const char *query, int first, const char *after,
                              ag_content_post_page_t *out, const char ***cursors);

#endif
