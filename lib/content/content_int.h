/*
 * lib/content/content_int.h — what content.c (validation, ids, cursors,
 * paging) shares with the backends content_pg.c and content_mongo.c.
 * The common layer checks every argument, generates ids and timestamps and
 * trims pages; a backend only stores and fetches records it is handed in
 * canonical form (lowercase ids, checked bodies, decoded cursors).
 */
#ifndef AG_CONTENT_INT_H
#define AG_CONTENT_INT_H

#include "content/content.h"

#include <stdarg.h>

/* A decoded `after` cursor; set false for a first page. */
typedef struct {
    bool    set;
    int64_t ts;
    char    id[AG_CONTENT_ID_LEN + 1];
} ag_content__after_t;

/*
 * A backend's list functions store up to first + 1 items in out->items (the
 * extra one tells that a next page exists); content.c trims it.
 */
typedef struct {
    const char *name;
    ag_status_t (*health)(ag_content_t *c);
    void (*close)(ag_content_t *c);

    ag_status_t (*post_insert)(ag_content_t *c, ag_arena_t *a, const ag_content_post_t *p,
                               const ag_content_event_t *ev);
    ag_status_t (*post_get)(ag_content_t *c, ag_arena_t *a, const char *id,
                            ag_content_post_t **out);
    ag_status_t (*post_edit)(ag_content_t *c, ag_arena_t *a, const char *id, const char *body,
                             int64_t edited_at, const ag_content_event_t *ev,
                             ag_content_post_t **out);
    ag_status_t (*post_delete)(ag_content_t *c, ag_arena_t *a, const char *id,
                               const ag_content_event_t *ev);
    ag_status_t (*post_list)(ag_content_t *c, ag_arena_t *a, int64_t channel_id, int limit,
                             const ag_content__after_t *after, ag_content_post_page_t *out);
    /* optional (NULL: AG_DECLINED): the reads with access and authors, see content.h */
    ag_status_t (*post_list_as)(ag_content_t *c, ag_arena_t *a, int64_t channel_id,
                                int64_t reader_id, int limit, const ag_content__after_t *after,
                                ag_content_access_t *access, ag_content_post_page_t *out);
    ag_status_t (*post_get_as)(ag_content_t *c, ag_arena_t *a, const char *id, int64_t reader_id,
                               ag_content_access_t *access, ag_content_post_t **out);
    /* ids are valid and lowercase; fills out[i] or leaves it NULL */
    ag_status_t (*post_get_many)(ag_content_t *c, ag_arena_t *a, const char *const *ids, size_t n,
                                 ag_content_post_t **out);

    /* fills cm->channel_id from the post */
    ag_status_t (*comment_insert)(ag_content_t *c, ag_arena_t *a, ag_content_comment_t *cm,
                                  const ag_content_event_t *ev);
    ag_status_t (*comment_get)(ag_content_t *c, ag_arena_t *a, const char *id,
                               ag_content_comment_t **out);
    ag_status_t (*comment_list)(ag_content_t *c, ag_arena_t *a, const char *post_id, int limit,
                                const ag_content__after_t *after, ag_content_comment_page_t *out);

    /* fills r->post_id and r->channel_id from the comment */
    ag_status_t (*reply_insert)(ag_content_t *c, ag_arena_t *a, ag_content_reply_t *r,
                                const ag_content_event_t *ev);
    ag_status_t (*reply_get)(ag_content_t *c, ag_arena_t *a, const char *id,
                             ag_content_reply_t **out);
    ag_status_t (*reply_list)(ag_content_t *c, ag_arena_t *a, const char *comment_id, int limit,
                              const ag_content__after_t *after, ag_content_reply_page_t *out);

    /* edits set body and edited_at and read the record back; deletes as content.h says */
    ag_status_t (*comment_edit)(ag_content_t *c, ag_arena_t *a, const char *id, const char *body,
                                int64_t edited_at, const ag_content_event_t *ev,
                                ag_content_comment_t **out);
    ag_status_t (*comment_delete)(ag_content_t *c, ag_arena_t *a, const char *id,
                                  const ag_content_event_t *ev);
    ag_status_t (*reply_edit)(ag_content_t *c, ag_arena_t *a, const char *id, const char *body,
                              int64_t edited_at, const ag_content_event_t *ev,
                              ag_content_reply_t **out);
    ag_status_t (*reply_delete)(ag_content_t *c, ag_arena_t *a, const char *id,
                                const ag_content_event_t *ev);
    ag_status_t (*dm_edit)(ag_content_t *c, ag_arena_t *a, const char *id, const char *body,
                           int64_t edited_at, const ag_content_event_t *ev, ag_content_dm_t **out);
    ag_status_t (*dm_delete)(ag_content_t *c, ag_arena_t *a, const char *id,
                             const ag_content_event_t *ev);

    /* reactions: emoji checked; *capped set when a new emoji would pass max */
    ag_status_t (*target_get)(ag_content_t *c, ag_arena_t *a, const char *id,
                              ag_content_target_t *out);
    ag_status_t (*reaction_add)(ag_content_t *c, ag_arena_t *a, const ag_content_target_t *t,
                                int64_t user_id, const char *emoji, int64_t created_at,
                                int max_emojis, const ag_content_event_t *ev, bool *changed,
                                bool *capped);
    ag_status_t (*reaction_remove)(ag_content_t *c, ag_arena_t *a, const ag_content_target_t *t,
                                   int64_t user_id, const char *emoji, const ag_content_event_t *ev,
                                   bool *changed);
    /* ids valid and lowercase (NULL entries skipped); out[i] zeroed by the caller */
    ag_status_t (*reactions)(ag_content_t *c, ag_arena_t *a, const char *const *ids, size_t n,
                             int64_t viewer_id, ag_content_reactions_t *out);

    ag_status_t (*dm_insert)(ag_content_t *c, ag_arena_t *a, const ag_content_dm_t *m,
                             const ag_content_event_t *ev);
    ag_status_t (*dm_get)(ag_content_t *c, ag_arena_t *a, const char *id, ag_content_dm_t **out);
    ag_status_t (*dm_list)(ag_content_t *c, ag_arena_t *a, int64_t lo, int64_t hi, int limit,
                           const ag_content__after_t *after, ag_content_dm_page_t *out);

    ag_status_t (*outbox_pending)(ag_content_t *c, ag_arena_t *a, int older_than_s,
                                  int64_t due_ms, int limit, ag_content_outbox_t **items,
                                  size_t *n);
    ag_status_t (*outbox_mark)(ag_content_t *c, const char *msg_id);
    /* why is non-NULL; *attempts always set on AG_OK */
    ag_status_t (*outbox_retry)(ag_content_t *c, const char *msg_id, int64_t next_try_ms,
                                const char *why, int64_t *attempts);
    ag_status_t (*outbox_backlog)(ag_content_t *c, ag_arena_t *a,
                                  ag_content_outbox_backlog_t *out);
} ag_content__ops_t;

struct ag_content {
    const ag_content__ops_t *ops;
    ag_content_backend_t     backend;
    ag_db_t                 *db;   /* PostgreSQL: the caller's connection */
    void                    *impl; /* MongoDB: the backend's state */
    char                     err[512];
};

/* Record why a call failed; returns st so that `return ag_content__fail(...)` reads well. */
ag_status_t ag_content__fail(ag_content_t *c, ag_status_t st, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

ag_status_t ag_content__pg_open(ag_content_t *c, ag_db_t *db, char *err, size_t errlen);
ag_status_t ag_content__mongo_open(ag_content_t *c, const ag_config_t *cfg, char *err,
                                   size_t errlen);
void        ag_content__mongo_global_init(void);
void        ag_content__mongo_global_fini(void);

#endif
