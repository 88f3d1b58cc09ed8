/*
 * lib/content/content_mongo_int.h — what the files of the MongoDB backend share:
 * content_mongo.c (client, helpers, posts, comments, replies, DMs, the
 * backend's table), content_mongo_edits.c (edits and deletes of comments,
 * replies and DMs; reactions), content_mongo_outbox.c (the outbox's reads
 * and marks).
 */
#ifndef AG_CONTENT_MONGO_INT_H
#define AG_CONTENT_MONGO_INT_H

#include "content/content_int.h"

#include <mongoc/mongoc.h>

typedef bool (*reader_fn)(ag_arena_t *a, const bson_t *doc, void *rec);

/* helpers (content_mongo.c) */
mongoc_collection_t *ag_content__mg_coll(mongoc_client_t *cl, ag_content_t *c, const char *name);
ag_status_t ag_content__mg_delete_where(ag_content_t *c, mongoc_client_t *cl, const char *cname,
                                        const bson_t *filter, bool many, int64_t *deleted);
ag_status_t ag_content__mg_fail(ag_content_t *c, const bson_error_t *e, const char *what);
ag_status_t ag_content__mg_find_by_id(ag_content_t *c, ag_arena_t *a, const char *cname,
                                      const char *id, reader_fn rd, void *rec, const char *what);
ag_status_t ag_content__mg_find_many(ag_content_t *c, ag_arena_t *a, const char *cname,
                                     const bson_t *filter, const bson_t *opts, int limit,
                                     reader_fn rd, size_t size, void **items, size_t *n);
ag_status_t ag_content__mg_get(ag_content_t *c, mongoc_client_t **out);
void        ag_content__mg_hex_of(const bson_iter_t *it, char out[AG_CONTENT_ID_LEN + 1]);
int64_t     ag_content__mg_i64_at(const bson_t *doc, const char *key);
void        ag_content__mg_inc_undo(ag_content_t *c, mongoc_client_t *cl, const char *cname,
                                    const char *id, const char *field);
ag_status_t ag_content__mg_insert(ag_content_t *c, mongoc_client_t *cl, const char *cname,
                                  const bson_t *doc);
void        ag_content__mg_list_opts(bson_t *opts, bool desc, int limit);
ag_status_t ag_content__mg_modify(ag_content_t *c, mongoc_client_t *cl, ag_arena_t *a,
                                  const char *cname, const char *id, const bson_t *update,
                                  reader_fn rd, void *rec, bool *found);
void        ag_content__mg_oid_of(const char *hex, bson_oid_t *oid);
ag_status_t ag_content__mg_outbox_add(ag_content_t *c, mongoc_client_t *cl,
                                      const ag_content_event_t *ev, bson_oid_t *oid);
void ag_content__mg_outbox_undo(ag_content_t *c, mongoc_client_t *cl, const ag_content_event_t *ev,
                                const bson_oid_t *oid);
void ag_content__mg_put(ag_content_t *c, mongoc_client_t *cl);
bool ag_content__mg_read_comment(ag_arena_t *a, const bson_t *d, void *rec);
bool ag_content__mg_read_dm(ag_arena_t *a, const bson_t *d, void *rec);
bool ag_content__mg_read_outbox(ag_arena_t *a, const bson_t *d, void *rec);
bool ag_content__mg_read_post(ag_arena_t *a, const bson_t *d, void *rec);
bool ag_content__mg_read_reply(ag_arena_t *a, const bson_t *d, void *rec);

/* operations of the other files, for the backend's table */
ag_status_t ag_content__mg_comment_delete(ag_content_t *c, ag_arena_t *a, const char *id,
                                          const ag_content_event_t *ev);
ag_status_t ag_content__mg_comment_edit(ag_content_t *c, ag_arena_t *a, const char *id,
                                        const char *body, int64_t edited_at,
                                        const ag_content_event_t *ev, ag_content_comment_t **out);
ag_status_t ag_content__mg_dm_delete(ag_content_t *c, ag_arena_t *a, const char *id,
                                     const ag_content_event_t *ev);
ag_status_t ag_content__mg_dm_edit(ag_content_t *c, ag_arena_t *a, const char *id, const char *body,
                                   int64_t edited_at, const ag_content_event_t *ev,
                                   ag_content_dm_t **out);
ag_status_t ag_content__mg_outbox_backlog(ag_content_t *c, ag_arena_t *a,
                                          ag_content_outbox_backlog_t *out);
ag_status_t ag_content__mg_outbox_mark(ag_content_t *c, const char *msg_id);
ag_status_t ag_content__mg_outbox_pending(ag_content_t *c, ag_arena_t *a, int older_than_s,
                                          int64_t due_ms, int limit, ag_content_outbox_t **items,
                                          size_t *n);
ag_status_t ag_content__mg_outbox_retry(ag_content_t *c, const char *msg_id, int64_t next_try_ms,
                                        const char *why, int64_t *attempts);
ag_status_t ag_content__mg_reaction_add(ag_content_t *c, ag_arena_t *a,
                                        const ag_content_target_t *t, int64_t user_id,
                                        const char *emoji, int64_t created_at, int max_emojis,
                                        const ag_content_event_t *ev, bool *changed, bool *capped);
ag_status_t ag_content__mg_reaction_remove(ag_content_t *c, ag_arena_t *a,
                                           const ag_content_target_t *t, int64_t user_id,
                                           const char *emoji, const ag_content_event_t *ev,
                                           bool *changed);
ag_status_t ag_content__mg_reactions(ag_content_t *c, ag_arena_t *a, const char *const *ids,
                                     size_t n, int64_t viewer_id, ag_content_reactions_t *out);
ag_status_t ag_content__mg_reply_delete(ag_content_t *c, ag_arena_t *a, const char *id,
                                        const ag_content_event_t *ev);
ag_status_t ag_content__mg_reply_edit(ag_content_t *c, ag_arena_t *a, const char *id,
                                      const char *body, int64_t edited_at,
                                      const ag_content_event_t *ev, ag_content_reply_t **out);
ag_status_t ag_content__mg_target_get(ag_content_t *c, ag_arena_t *a, const char *id,
                                      ag_content_target_t *t);

#endif
