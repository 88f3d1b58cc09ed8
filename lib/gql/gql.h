/*
 * lib/gql/gql.h — Agora's GraphQL API (CONTRACT §3, §9): the schema declared
 * with the engine of lib/graphql (agora_schema.c), resolvers over the content
 * store and lib/model, the events each mutation publishes (flow A of
 * DESIGN.md), persisted documents, and the channelEvents subscription's
 * fields. "gql" names this API, prefix gql_; "graphql" names the engine.
 * agora.fcgi runs queries and mutations (fcgi/routes/graphql.c), agora-wsd
 * subscriptions (wsd/gql_*.c); each thread has its own gql_env_t.
 */
#ifndef AG_GQL_H
#define AG_GQL_H

#include "config/config.h"
#include "content/content.h"
#include "graphql/graphql.h"
#include "model/model.h"

#include <stddef.h>

/* The connections of one thread of a program (none of it locked). */
typedef struct {
    const ag_config_t *cfg;
    ag_model_t        *m;       /* db, cache, events (events may be NULL: nothing is published) */
    ag_content_t      *content; /* posts, comments, replies, DMs */
    int                page_max;
} gql_env_t;

/*
 * What one subscription event shares across the executions of every
 * selection that reads it (agora-wsd): the post it names, loaded once.
 */
typedef struct {
    ag_json_t         *event; /* the §4/§9 frame of the event: the root value of channelEvents */
    bool               post_loaded;
    ag_status_t        post_st;
    ag_content_post_t *post;  /* NULL: none or gone */
    ag_arena_t        *arena; /* lives as long as the event: holds the post */
    /* probe: a run at subscribe time with no event, which coerces the variables, checks
     * the limits and reads channelEvents' arguments (probe_ok when they are valid) */
    bool    probe, probe_ok, has_seq;
    int64_t channel_id, seq;
} gql_event_t;

/* Per request: who is asking (0 = anonymous) and the thread's connections. */
typedef struct {
    gql_env_t   *env;
    int64_t      user_id;
    gql_event_t *event;       /* a subscription event being executed; NULL otherwise */
    bool         viewer_read; /* some field's value depended on user_id (gql_viewer) */
} gql_ctx_t;

#define GQL_CTX(info) ((gql_ctx_t *)(info)->context)

/* ---- persisted documents (persisted.c): APQ and trusted documents ---- */
typedef struct gql_pq gql_pq_t;
/* What a request's document is, or why it is refused. */
typedef struct {
    const char *text;      /* the document to run (the request's, the store's or the manifest's) */
    bool        persisted; /* named by a hash (extensions.persistedQuery) or the manifest */
    const char *register_hash; /* APQ registration: keep text under this hash once valid */
    int         status;        /* refused: the HTTP status, extensions.code and message */
    const char *code, *message;
} gql_pq_result_t;
/* The store of one worker (graphql_apq_*) and the manifest (graphql_trusted_documents). */
gql_pq_t *gql_pq_new(const ag_config_t *cfg, char *err, size_t errlen);
void      gql_pq_free(gql_pq_t *pq); /* accepts NULL */
bool      gql_pq_trusted_mode(const gql_pq_t *pq);
size_t    gql_pq_manifest_size(const gql_pq_t *pq);
/*
 * The document of a request from its query (may be NULL) and extensions (may
 * be NULL): AG_OK with res->text, or AG_EBADREQ with res->status/code/message
 * (PersistedQueryNotFound, a hash mismatch, not in the trusted manifest, ...).
 */
ag_status_t gql_pq_resolve(gql_pq_t *pq, ag_cache_t *cache, ag_arena_t *a, const char *query,
                           const ag_json_t *ext, gql_pq_result_t *res);
/* Keep a registered text (res->register_hash) now that it proved a valid document. */
void gql_pq_keep(gql_pq_t *pq, ag_cache_t *cache, ag_arena_t *a, const gql_pq_result_t *res);

/* Build the schema once per process; *err names what is wrong. */
ag_graphql_schema_t *gql_schema_new(char *err, size_t errlen);

/* ---- helpers shared by the resolvers (resolve_common.c) ---- */
/* AG_EUNAUTH with code "unauthenticated" unless signed in. */
ag_status_t gql_need_user(ag_graphql_info_t *info);
/* Fail a field with a status, a message and optionally a code (NULL: the status's). */
ag_status_t gql_fail(ag_graphql_info_t *info, ag_status_t st, const char *code, const char *msg);
/* A store failure as a field error ("unavailable" when the store is down). */
ag_status_t gql_store_fail(ag_graphql_info_t *info, ag_status_t st);
/* Parse an ID argument that must be a positive decimal (user, channel ids). */
bool        gql_arg_id(ag_graphql_info_t *info, const char *name, int64_t *out);
const char *gql_arg_str(ag_graphql_info_t *info, const char *name);
/* first/after arguments: first clamped to 1..page_limit_max; negative is an error. */
ag_status_t gql_page_args(ag_graphql_info_t *info, int *first, const char **after);
/*
 * May the caller `verb` on the channel (lib/model's rules)? AG_OK, else a
 * field error "forbidden" with the rule's reason. *acc (may be NULL): the facts.
 */
ag_status_t gql_channel_check(ag_graphql_info_t *info, int64_t channel_id, ag_access_verb_t verb,
                              ag_channel_access_t *acc);
/* The verdict on facts already read (the content store's joined read): as gql_channel_check. */
ag_status_t gql_access_verdict(ag_graphql_info_t *info, const ag_channel_access_t *acc,
                               ag_access_verb_t verb);
/* The field error of a failed access lookup, as gql_channel_check reports it. */
ag_status_t gql_access_fail(ag_graphql_info_t *info, ag_status_t st);
/* Put the authors the content store joined to posts in the memo (key gql_user_key). */
void gql_memo_authors(ag_graphql_info_t *info, const ag_content_post_t *posts, size_t n);
/* The memo key of a user's JSON view, "user:<id>", into key (n >= 29 bytes). */
void gql_user_key(char *key, size_t n, int64_t id);
/* RFC 3339 text of a millisecond timestamp, in the arena. */
const char *gql_time(ag_arena_t *a, int64_t ms);
/* Publish a write's event to JetStream and mark its outbox row; a failure is left to the outbox
 * worker. */
void gql_publish(ag_graphql_info_t *info, const ag_content_event_t *ev);
/* resolve_mutation.c: what every write shares */
/* The body argument, checked; a field error when it breaks the rules. */
ag_status_t gql_body_arg(ag_graphql_info_t *info, const char **body);
/*
 * The event of a write (lib/events' vocabulary) as the content store keeps it
 * in its outbox until published; its Nats-Msg-Id is the document id and
 * `what` (the verb), so that the outbox's republish is deduplicated.
 */
ag_status_t gql_event(ag_graphql_info_t *info, ag_content_event_t *out, const char *doc_id,
                      const char *what, const ag_ev_t *ev);
/* A CHANNEL_STREAM event: channel.<cid>.message.<verb> with the ids of what was written. */
ag_status_t gql_message_event(ag_graphql_info_t *info, ag_content_event_t *out, const char *doc_id,
                              const char *what, int64_t cid, ag_ev_verb_t verb, ag_ev_t ids);
/*
 * The `what` of an edit's event: "updated-<ms>". Every edit is its own event,
 * so that two edits within the dedupe window are not taken for one.
 */
const char *gql_edit_what(ag_graphql_info_t *info);
/* gql_publish, returning the event's stream sequence (0: left to the outbox). */
uint64_t gql_publish_seq(ag_graphql_info_t *info, const ag_content_event_t *ev);

/* JSON views of records (registered on the arena) */
ag_json_t *gql_post_json(ag_arena_t *a, const ag_content_post_t *p);
ag_json_t *gql_comment_json(ag_arena_t *a, const ag_content_comment_t *c);
ag_json_t *gql_reply_json(ag_arena_t *a, const ag_content_reply_t *r);
ag_json_t *gql_dm_json(ag_arena_t *a, const ag_content_dm_t *d);
ag_json_t *gql_user_json(ag_arena_t *a, const ag_user_brief_t *u);
/*
 * The author (or DM party) whose account was deleted, as every field that
 * names one reads it (CONTRACT §9): {id: "0", username: "deleted",
 * displayName: "Deleted user"}. One placeholder for all of them: no account
 * has id 0, so user(id: "0") is null, and posts of different deleted authors
 * are not linked to each other.
 */
ag_json_t *gql_deleted_user_json(ag_arena_t *a);
/* {edges:[{cursor,node}], pageInfo:{hasNextPage,endCursor}}; nodes and cursors given. */
ag_json_t *gql_connection(ag_arena_t *a, ag_json_t **nodes, const char **cursors, size_t n,
                          bool has_next, const char *end_cursor);

/*
 * A connection over one page of the content store: each item becomes a node
 * through node() and gets the cursor of its (created_at, id). Items are records
 * of size bytes whose id (char[25]) and created_at sit at the given offsets;
 * GQL_PAGE_VALUE fills those in from the page's type.
 */
typedef ag_json_t *(*gql_node_fn)(ag_arena_t *a, const void *item);
ag_status_t gql_page_value(ag_graphql_info_t *info, const void *items, size_t n, size_t size,
                           size_t id_off, size_t created_off, gql_node_fn node, bool has_next,
                           const char *end_cursor, ag_graphql_value_t *out);
#define GQL_PAGE_VALUE(info, page, node, out)                                                      \
    gql_page_value((info), (page).items, (page).n, sizeof(*(page).items),                          \
                   offsetof(__typeof__(*(page).items), id),                                        \
                   offsetof(__typeof__(*(page).items), created_at), (node), (page).has_next_page,  \
                   (page).end_cursor, (out))
/* Adapters of the JSON views above to gql_node_fn. */
ag_json_t *gql_post_node(ag_arena_t *a, const void *item);
ag_json_t *gql_comment_node(ag_arena_t *a, const void *item);
ag_json_t *gql_reply_node(ag_arena_t *a, const void *item);
ag_json_t *gql_dm_node(ag_arena_t *a, const void *item);

/* ---- resolvers ---- */
ag_status_t gql_q_me(const ag_graphql_value_t *, ag_graphql_info_t *, ag_graphql_value_t *);
ag_status_t gql_q_user(const ag_graphql_value_t *, ag_graphql_info_t *, ag_graphql_value_t *);
ag_status_t gql_q_user_by(const ag_graphql_value_t *, ag_graphql_info_t *, ag_graphql_value_t *);
ag_status_t gql_q_post(const ag_graphql_value_t *, ag_graphql_info_t *, ag_graphql_value_t *);
ag_status_t gql_q_comment(const ag_graphql_value_t *, ag_graphql_info_t *, ag_graphql_value_t *);
ag_status_t gql_q_reply(const ag_graphql_value_t *, ag_graphql_info_t *, ag_graphql_value_t *);
ag_status_t gql_q_dm(const ag_graphql_value_t *, ag_graphql_info_t *, ag_graphql_value_t *);
ag_status_t gql_q_channel_posts(const ag_graphql_value_t *, ag_graphql_info_t *,
                                ag_graphql_value_t *);
ag_status_t gql_q_dms(const ag_graphql_value_t *, ag_graphql_info_t *, ag_graphql_value_t *);
ag_status_t gql_q_search(const ag_graphql_value_t *, ag_graphql_info_t *, ag_graphql_value_t *);
ag_status_t gql_m_create_post(const ag_graphql_value_t *, ag_graphql_info_t *,
                              ag_graphql_value_t *);
ag_status_t gql_m_edit_post(const ag_graphql_value_t *, ag_graphql_info_t *, ag_graphql_value_t *);
ag_status_t gql_m_delete_post(const ag_graphql_value_t *, ag_graphql_info_t *,
                              ag_graphql_value_t *);
ag_status_t gql_m_create_comment(const ag_graphql_value_t *, ag_graphql_info_t *,
                                 ag_graphql_value_t *);
ag_status_t gql_m_create_reply(const ag_graphql_value_t *, ag_graphql_info_t *,
                               ag_graphql_value_t *);
ag_status_t gql_m_send_dm(const ag_graphql_value_t *, ag_graphql_info_t *, ag_graphql_value_t *);
ag_status_t gql_m_edit_comment(const ag_graphql_value_t *, ag_graphql_info_t *,
                               ag_graphql_value_t *);
ag_status_t gql_m_delete_comment(const ag_graphql_value_t *, ag_graphql_info_t *,
                                 ag_graphql_value_t *);
ag_status_t gql_m_edit_reply(const ag_graphql_value_t *, ag_graphql_info_t *, ag_graphql_value_t *);
ag_status_t gql_m_delete_reply(const ag_graphql_value_t *, ag_graphql_info_t *,
                               ag_graphql_value_t *);
ag_status_t gql_m_edit_dm(const ag_graphql_value_t *, ag_graphql_info_t *, ag_graphql_value_t *);
ag_status_t gql_m_delete_dm(const ag_graphql_value_t *, ag_graphql_info_t *, ag_graphql_value_t *);
ag_status_t gql_m_add_reaction(const ag_graphql_value_t *, ag_graphql_info_t *,
                               ag_graphql_value_t *);
ag_status_t gql_m_remove_reaction(const ag_graphql_value_t *, ag_graphql_info_t *,
                                  ag_graphql_value_t *);
/* resolve_social.c: reactions and attachments of any parent with an "id", batched per page */
ag_status_t gql_f_reactions(const ag_graphql_value_t *, ag_graphql_info_t *, ag_graphql_value_t *);
ag_status_t gql_f_reactions_prepare(const ag_graphql_value_t *, size_t, ag_graphql_info_t *);
ag_status_t gql_f_attachments(const ag_graphql_value_t *, ag_graphql_info_t *,
                              ag_graphql_value_t *);
ag_status_t gql_f_attachments_prepare(const ag_graphql_value_t *, size_t, ag_graphql_info_t *);
ag_json_t  *gql_attachment_json(ag_arena_t *a, const ag_attachment_t *t);
/* The attachmentIds argument (none: *n = 0); more than attachments_per_message_max: bad_request. */
ag_status_t gql_attachment_ids(ag_graphql_info_t *info, const char ***ids, size_t *n);
/* Claim them for a new message, all or none (a field error otherwise). */
ag_status_t gql_claim_attachments(ag_graphql_info_t *info, const char **ids, size_t n,
                                  const char *message_id, int64_t channel_id, int64_t dm_from,
                                  int64_t dm_to);
/* The message was not stored: free them again. Best effort (logged). */
void gql_release_attachments(ag_graphql_info_t *info, const char *message_id);
/* The message was deleted: its attachments go. Best effort (logged). */
void gql_drop_attachments(ag_graphql_info_t *info, const char *message_id);
/* nested fields */
ag_status_t gql_f_author(const ag_graphql_value_t *, ag_graphql_info_t *, ag_graphql_value_t *);
ag_status_t gql_f_author_prepare(const ag_graphql_value_t *, size_t, ag_graphql_info_t *);
ag_status_t gql_f_post_comments(const ag_graphql_value_t *, ag_graphql_info_t *,
                                ag_graphql_value_t *);
ag_status_t gql_f_comment_post(const ag_graphql_value_t *, ag_graphql_info_t *,
                               ag_graphql_value_t *);
ag_status_t gql_f_comment_replies(const ag_graphql_value_t *, ag_graphql_info_t *,
                                  ag_graphql_value_t *);
ag_status_t gql_f_reply_comment(const ag_graphql_value_t *, ag_graphql_info_t *,
                                ag_graphql_value_t *);

/* The viewer of a field whose value differs by who asks (reactedByMe): marks the request
 * (ctx->viewer_read), so that agora-wsd shares a result only among equal viewers. */
int64_t gql_viewer(ag_graphql_info_t *info);

/* The engine's limits of the configuration (graphql_max_depth, ...), for every program. */
void gql_options(const ag_config_t *cfg, ag_graphql_options_t *opts);

/* Subscription.channelEvents and ChannelEvent.post (resolve_subscription.c). */
ag_status_t gql_s_channel_events(const ag_graphql_value_t *, ag_graphql_info_t *,
                                 ag_graphql_value_t *);
ag_status_t gql_f_event_post(const ag_graphql_value_t *, ag_graphql_info_t *, ag_graphql_value_t *);

#endif
