/*
 * lib/content/content_mongo.c — the MongoDB backend of the content store,
 * through mongo-c-driver (pooled client; one ag_content_t per process): the
 * client, the helpers the backend's files share (content_mongo_int.h), posts,
 * comments, replies and DMs, and the backend's table. Edits, deletes and
 * reactions are in content_mongo_edits.c, the outbox in content_mongo_outbox.c.
 *
 * Collections and documents (ids are ObjectIds, times BSON dates in ms,
 * user and channel ids int64):
 *   posts     {_id, channelId, authorId, body, createdAt, editedAt|null, commentCount}
 *   comments  {_id, postId, channelId, authorId, body, createdAt, replyCount}
 *   replies   {_id, commentId, postId, channelId, authorId, body, createdAt}
 *   dms       {_id, fromId, toId, userLo, userHi, body, createdAt}
 *   (comments, replies and dms gain editedAt once edited)
 *   reactions {_id, targetId, emoji, userId, postId|null, commentId|null, createdAt}
 *   outbox    {_id, msgId, subject, payload, createdAt, publishedAt|null,
 *              attempts?, nextTryAt?, lastError?}  (the last three once a publish failed)
 * Indexes (created once per process on first use, createIndexes command)
 * serve each list as a keyset scan on (createdAt, _id).
 *
 * Sharding, for a real deployment: posts on {channelId: 1, createdAt: -1}
 * (a channel's page is one shard's range scan; ag_content__mg_get-by-id is a scatter that
 * stays cheap on the _id index), comments on {postId: 1}, replies on
 * {commentId: 1}, dms on {userLo: 1, userHi: 1}, outbox on {_id: "hashed"}.
 *
 * Consistency without multi-document transactions (the test peer cannot
 * roll them back, and the design must not depend on them):
 *   - a counter ($inc on the parent) is bumped before the child is inserted
 *     and decremented again if the ag_content__mg_insert fails; a process dying in between
 *     leaves a count one too high, never a child the parent does not count
 *     as created;
 *   - the outbox event is inserted before the write and deleted if the write
 *     fails (see content.h for what that guarantees);
 *   - deleting a post removes replies, then comments, then the post, so an
 *     interrupted delete leaves a post that can be deleted again, never
 *     children of a post that is gone.
 * The outbox's unique index on msgId makes a reused msgId a conflict on real
 * MongoDB; the test peer does not enforce it.
 */
#include "content/content_mongo_int.h"
#include "log/log.h"

#include <stdio.h>
#include <string.h>

typedef struct {
    mongoc_uri_t         *uri;
    mongoc_client_pool_t *pool;
    char                  dbname[128];
    bool                  indexed; /* indexes created by this process */
} mongo_t;

#define M(c) ((mongo_t *)(c)->impl)

/* ---- process-wide ------------------------------------------------------------ */

/* mongoc logs through ours: its warnings (e.g. a server unreachable) matter to operators. */
static void
mongo_log(mongoc_log_level_t level, const char *domain, const char *message, void *ud)
{
    (void)ud;
    if (level <= MONGOC_LOG_LEVEL_WARNING)
        ag_log_warn("mongoc %s: %s", domain, message);
    else
        ag_log_debug("mongoc %s: %s", domain, message);
}

void
ag_content__mongo_global_init(void)
{
    mongoc_log_set_handler(mongo_log, NULL);
    mongoc_init();
}

void
ag_content__mongo_global_fini(void)
{
    mongoc_cleanup();
}

/* ---- errors ------------------------------------------------------------------------ */

ag_status_t
ag_content__mg_fail(ag_content_t *c, const bson_error_t *e, const char *what)
{
    ag_status_t st = AG_EINTERNAL;
    switch (e->domain) {
    case MONGOC_ERROR_SERVER_SELECTION:
    case MONGOC_ERROR_STREAM:
        st = AG_EUNAVAIL;
        break;
    case MONGOC_ERROR_CLIENT: /* a refused login is the server not being usable to us */
        if (e->code == MONGOC_ERROR_CLIENT_AUTHENTICATE || e->code == MONGOC_ERROR_CLIENT_NOT_READY)
            st = AG_EUNAVAIL;
        break;
    case MONGOC_ERROR_SERVER:
    case MONGOC_ERROR_WRITE_CONCERN:
        if (e->code == 11000 || e->code == 11001)
            st = AG_ECONFLICT;
        else if (e->code == 91 || e->code == 189 || e->code == 10107 || e->code == 13435 ||
                 e->code == 11600 || e->code == 11602 || e->code == 50 || e->code == 262)
            st = AG_EUNAVAIL; /* shutting down, not primary, time limit exceeded */
        break;
    default:
        break;
    }
    return ag_content__fail(c, st, "mongodb %s: %s", what, e->message);
}

/* ---- small helpers --------------------------------------------------------------------- */

mongoc_collection_t *
ag_content__mg_coll(mongoc_client_t *cl, ag_content_t *c, const char *name)
{
    return mongoc_client_get_collection(cl, M(c)->dbname, name);
}

void
ag_content__mg_oid_of(const char *hex, bson_oid_t *oid)
{
    bson_oid_init_from_string(oid, hex); /* hex is checked by content.c */
}

void
ag_content__mg_hex_of(const bson_iter_t *it, char out[AG_CONTENT_ID_LEN + 1])
{
    if (BSON_ITER_HOLDS_OID(it))
        bson_oid_to_string(bson_iter_oid(it), out);
    else
        out[0] = '\0';
}

/* Integers may come back as int32, int64 or double (the test peer narrows them). */
int64_t
ag_content__mg_i64_at(const bson_t *doc, const char *key)
{
    bson_iter_t it;
    if (!bson_iter_init_find(&it, doc, key))
        return 0;
    if (BSON_ITER_HOLDS_DATE_TIME(&it))
        return bson_iter_date_time(&it);
    return bson_iter_as_int64(&it);
}

static const char *
str_at(ag_arena_t *a, const bson_t *doc, const char *key)
{
    bson_iter_t it;
    uint32_t    len;
    if (!bson_iter_init_find(&it, doc, key) || !BSON_ITER_HOLDS_UTF8(&it))
        return ag_arena_strdup(a, "");
    const char *s = bson_iter_utf8(&it, &len);
    return ag_arena_strndup(a, s, len);
}

static void
oid_at(const bson_t *doc, const char *key, char out[AG_CONTENT_ID_LEN + 1])
{
    bson_iter_t it;
    out[0] = '\0';
    if (bson_iter_init_find(&it, doc, key))
        ag_content__mg_hex_of(&it, out);
}

/* ---- readers: document → record ------------------------------------------------------------ */

bool
ag_content__mg_read_post(ag_arena_t *a, const bson_t *d, void *rec)
{
    ag_content_post_t *p = rec;
    oid_at(d, "_id", p->id);
    p->channel_id = ag_content__mg_i64_at(d, "channelId");
    p->author_id = ag_content__mg_i64_at(d, "authorId");
    p->body = str_at(a, d, "body");
    p->created_at = ag_content__mg_i64_at(d, "createdAt");
    p->edited_at = ag_content__mg_i64_at(d, "editedAt");
    p->comment_count = ag_content__mg_i64_at(d, "commentCount");
    return p->body != NULL;
}

bool
ag_content__mg_read_comment(ag_arena_t *a, const bson_t *d, void *rec)
{
    ag_content_comment_t *cm = rec;
    oid_at(d, "_id", cm->id);
    oid_at(d, "postId", cm->post_id);
    cm->channel_id = ag_content__mg_i64_at(d, "channelId");
    cm->author_id = ag_content__mg_i64_at(d, "authorId");
    cm->body = str_at(a, d, "body");
    cm->created_at = ag_content__mg_i64_at(d, "createdAt");
    cm->reply_count = ag_content__mg_i64_at(d, "replyCount");
    cm->edited_at = ag_content__mg_i64_at(d, "editedAt");
    return cm->body != NULL;
}

bool
ag_content__mg_read_reply(ag_arena_t *a, const bson_t *d, void *rec)
{
    ag_content_reply_t *r = rec;
    oid_at(d, "_id", r->id);
    oid_at(d, "commentId", r->comment_id);
    oid_at(d, "postId", r->post_id);
    r->channel_id = ag_content__mg_i64_at(d, "channelId");
    r->author_id = ag_content__mg_i64_at(d, "authorId");
    r->body = str_at(a, d, "body");
    r->created_at = ag_content__mg_i64_at(d, "createdAt");
    r->edited_at = ag_content__mg_i64_at(d, "editedAt");
    return r->body != NULL;
}

bool
ag_content__mg_read_dm(ag_arena_t *a, const bson_t *d, void *rec)
{
    ag_content_dm_t *m = rec;
    oid_at(d, "_id", m->id);
    m->from_id = ag_content__mg_i64_at(d, "fromId");
    m->to_id = ag_content__mg_i64_at(d, "toId");
    m->body = str_at(a, d, "body");
    m->created_at = ag_content__mg_i64_at(d, "createdAt");
    m->edited_at = ag_content__mg_i64_at(d, "editedAt");
    return m->body != NULL;
}

bool
ag_content__mg_read_outbox(ag_arena_t *a, const bson_t *d, void *rec)
{
    ag_content_outbox_t *o = rec;
    o->msg_id = str_at(a, d, "msgId");
    o->subject = str_at(a, d, "subject");
    o->payload = str_at(a, d, "payload");
    o->created_at = ag_content__mg_i64_at(d, "createdAt");
    o->attempts = ag_content__mg_i64_at(d, "attempts");
    o->next_try_at = ag_content__mg_i64_at(d, "nextTryAt");
    o->last_error = str_at(a, d, "lastError");
    return o->msg_id && o->subject && o->payload && o->last_error;
}

/* ---- client, indexes --------------------------------------------------------------------------
 */

static ag_status_t
create_indexes(ag_content_t *c, mongoc_client_t *cl)
{
    static const struct {
        const char *ag_content__mg_coll, *name;
        bool        unique;
        const char *keys[5]; /* "field" ascending, "-field" descending */
    } ix[] = {
        {"posts", "posts_by_channel", false, {"channelId", "-createdAt", "-_id"}},
        {"comments", "comments_by_post", false, {"postId", "createdAt", "_id"}},
        {"replies", "replies_by_comment", false, {"commentId", "createdAt", "_id"}},
        {"replies", "replies_by_post", false, {"postId"}},
        {"dms", "dms_by_pair", false, {"userLo", "userHi", "-createdAt", "-_id"}},
        {"outbox", "outbox_msg_id", true, {"msgId"}},
        {"reactions", "reactions_once", true, {"targetId", "emoji", "userId"}},
        {"reactions", "reactions_by_post", false, {"postId"}},
        {"reactions", "reactions_by_comment", false, {"commentId"}},
        {"outbox", "outbox_pending", false, {"publishedAt", "createdAt"}},
    };
    mongoc_database_t *db = mongoc_client_get_database(cl, M(c)->dbname);
    ag_status_t        st = AG_OK;

    for (size_t i = 0; i < AG_ARRAY_LEN(ix) && st == AG_OK; i++) {
        bson_t       cmd = BSON_INITIALIZER, arr, spec, key, reply;
        bson_error_t e;
        BSON_APPEND_UTF8(&cmd, "createIndexes", ix[i].ag_content__mg_coll);
        BSON_APPEND_ARRAY_BEGIN(&cmd, "indexes", &arr);
        BSON_APPEND_DOCUMENT_BEGIN(&arr, "0", &spec);
        BSON_APPEND_DOCUMENT_BEGIN(&spec, "key", &key);
        for (int k = 0; k < 5 && ix[i].keys[k]; k++) {
            const char *f = ix[i].keys[k];
            BSON_APPEND_INT32(&key, f[0] == '-' ? f + 1 : f, f[0] == '-' ? -1 : 1);
        }
        bson_append_document_end(&spec, &key);
        BSON_APPEND_UTF8(&spec, "name", ix[i].name);
        if (ix[i].unique)
            BSON_APPEND_BOOL(&spec, "unique", true);
        bson_append_document_end(&arr, &spec);
        bson_append_array_end(&cmd, &arr);
        if (!mongoc_database_write_command_with_opts(db, &cmd, NULL, &reply, &e))
            st = ag_content__mg_fail(c, &e, "createIndexes");
        bson_destroy(&reply);
        bson_destroy(&cmd);
    }
    mongoc_database_destroy(db);
    if (st == AG_OK)
        M(c)->indexed = true;
    return st;
}

/* A client from the pool, with the indexes in place; push it back with ag_content__mg_put(). */
ag_status_t
ag_content__mg_get(ag_content_t *c, mongoc_client_t **out)
{
    mongoc_client_t *cl = mongoc_client_pool_pop(M(c)->pool);
    ag_status_t      st;
    if (cl == NULL)
        return ag_content__fail(c, AG_EUNAVAIL, "mongodb: no client");
    if (!M(c)->indexed && (st = create_indexes(c, cl)) != AG_OK) {
        mongoc_client_pool_push(M(c)->pool, cl);
        return st;
    }
    *out = cl;
    return AG_OK;
}

void
ag_content__mg_put(ag_content_t *c, mongoc_client_t *cl)
{
    if (cl)
        mongoc_client_pool_push(M(c)->pool, cl);
}

/* ---- generic operations
 * -------------------------------------------------------------------------- */

/* find_one by _id into rec; AG_ENOTFOUND (with what) when absent. */
ag_status_t
ag_content__mg_find_by_id(ag_content_t *c, ag_arena_t *a, const char *cname, const char *id,
                          reader_fn rd, void *rec, const char *what)
{
    mongoc_client_t     *cl = NULL;
    mongoc_collection_t *col = NULL;
    mongoc_cursor_t     *cur = NULL;
    const bson_t        *doc;
    bson_oid_t           oid;
    bson_t               filter = BSON_INITIALIZER, opts = BSON_INITIALIZER;
    bson_error_t         e;
    ag_status_t          st;

    if ((st = ag_content__mg_get(c, &cl)) != AG_OK)
        goto out;
    ag_content__mg_oid_of(id, &oid);
    BSON_APPEND_OID(&filter, "_id", &oid);
    BSON_APPEND_INT64(&opts, "limit", 1);
    col = ag_content__mg_coll(cl, c, cname);
    cur = mongoc_collection_find_with_opts(col, &filter, &opts, NULL);
    if (mongoc_cursor_next(cur, &doc))
        st = rd(a, doc, rec) ? AG_OK : AG_ENOMEM;
    else if (mongoc_cursor_error(cur, &e))
        st = ag_content__mg_fail(c, &e, what);
    else
        st = ag_content__fail(c, AG_ENOTFOUND, "%s: no such id", what);
out:
    mongoc_cursor_destroy(cur);
    mongoc_collection_destroy(col);
    ag_content__mg_put(c, cl);
    bson_destroy(&filter);
    bson_destroy(&opts);
    return st;
}

/* Run a find and read up to limit documents into a fresh array of size-byte records. */
ag_status_t
ag_content__mg_find_many(ag_content_t *c, ag_arena_t *a, const char *cname, const bson_t *filter,
                         const bson_t *opts, int limit, reader_fn rd, size_t size, void **items,
                         size_t *n)
{
    mongoc_client_t     *cl = NULL;
    mongoc_collection_t *col = NULL;
    mongoc_cursor_t     *cur = NULL;
    const bson_t        *doc;
    bson_error_t         e;
    char                *arr;
    ag_status_t          st;

    *n = 0;
    if ((arr = ag_arena_calloc(a, (size_t)(limit > 0 ? limit : 1) * size)) == NULL)
        return AG_ENOMEM;
    *items = arr;
    if ((st = ag_content__mg_get(c, &cl)) != AG_OK)
        return st;
    col = ag_content__mg_coll(cl, c, cname);
    cur = mongoc_collection_find_with_opts(col, filter, opts, NULL);
    while (*n < (size_t)limit && mongoc_cursor_next(cur, &doc)) {
        if (!rd(a, doc, arr + *n * size)) {
            st = AG_ENOMEM;
            goto out;
        }
        (*n)++;
    }
    if (mongoc_cursor_error(cur, &e))
        st = ag_content__mg_fail(c, &e, cname);
out:
    mongoc_cursor_destroy(cur);
    mongoc_collection_destroy(col);
    ag_content__mg_put(c, cl);
    return st;
}

/*
 * Keyset condition after (ts, id) in the list's order: for a descending list
 * createdAt < ts OR (createdAt = ts AND _id < id); ascending uses >.
 */
static void
append_after(bson_t *filter, const ag_content__after_t *after, bool desc)
{
    bson_t      arr, c0, c1, d0, d1;
    bson_oid_t  oid;
    const char *op = desc ? "$lt" : "$gt";

    if (!after->set)
        return;
    ag_content__mg_oid_of(after->id, &oid);
    BSON_APPEND_ARRAY_BEGIN(filter, "$or", &arr);
    BSON_APPEND_DOCUMENT_BEGIN(&arr, "0", &c0);
    BSON_APPEND_DOCUMENT_BEGIN(&c0, "createdAt", &d0);
    BSON_APPEND_DATE_TIME(&d0, op, after->ts);
    bson_append_document_end(&c0, &d0);
    bson_append_document_end(&arr, &c0);
    BSON_APPEND_DOCUMENT_BEGIN(&arr, "1", &c1);
    BSON_APPEND_DATE_TIME(&c1, "createdAt", after->ts);
    BSON_APPEND_DOCUMENT_BEGIN(&c1, "_id", &d1);
    BSON_APPEND_OID(&d1, op, &oid);
    bson_append_document_end(&c1, &d1);
    bson_append_document_end(&arr, &c1);
    bson_append_array_end(filter, &arr);
}

/* Sort on (createdAt, _id) and limit, as find options. */
void
ag_content__mg_list_opts(bson_t *opts, bool desc, int limit)
{
    bson_t sort;
    BSON_APPEND_DOCUMENT_BEGIN(opts, "sort", &sort);
    BSON_APPEND_INT32(&sort, "createdAt", desc ? -1 : 1);
    BSON_APPEND_INT32(&sort, "_id", desc ? -1 : 1);
    bson_append_document_end(opts, &sort);
    BSON_APPEND_INT64(opts, "limit", limit);
}

ag_status_t
ag_content__mg_insert(ag_content_t *c, mongoc_client_t *cl, const char *cname, const bson_t *doc)
{
    mongoc_collection_t *col = ag_content__mg_coll(cl, c, cname);
    bson_error_t         e;
    ag_status_t          st = AG_OK;
    if (!mongoc_collection_insert_one(col, doc, NULL, NULL, &e))
        st = ag_content__mg_fail(c, &e, cname);
    mongoc_collection_destroy(col);
    return st;
}

/* Delete by _id; *deleted (optional) is the count. */
ag_status_t
ag_content__mg_delete_where(ag_content_t *c, mongoc_client_t *cl, const char *cname,
                            const bson_t *filter, bool many, int64_t *deleted)
{
    mongoc_collection_t *col = ag_content__mg_coll(cl, c, cname);
    bson_t               reply;
    bson_error_t         e;
    ag_status_t          st = AG_OK;
    bool                 ok = many ? mongoc_collection_delete_many(col, filter, NULL, &reply, &e)
                                   : mongoc_collection_delete_one(col, filter, NULL, &reply, &e);
    if (!ok)
        st = ag_content__mg_fail(c, &e, cname);
    else if (deleted)
        *deleted = ag_content__mg_i64_at(&reply, "deletedCount");
    bson_destroy(&reply);
    mongoc_collection_destroy(col);
    return st;
}

/* The outbox document of ev, inserted before the write it belongs to; *oid names it. */
ag_status_t
ag_content__mg_outbox_add(ag_content_t *c, mongoc_client_t *cl, const ag_content_event_t *ev,
                          bson_oid_t *oid)
{
    bson_t      doc = BSON_INITIALIZER;
    ag_status_t st;
    if (ev == NULL)
        return AG_OK;
    bson_oid_init(oid, NULL);
    BSON_APPEND_OID(&doc, "_id", oid);
    BSON_APPEND_UTF8(&doc, "msgId", ev->msg_id);
    BSON_APPEND_UTF8(&doc, "subject", ev->subject);
    BSON_APPEND_UTF8(&doc, "payload", ev->payload);
    BSON_APPEND_DATE_TIME(&doc, "createdAt", ag_now_wall_ms());
    BSON_APPEND_NULL(&doc, "publishedAt");
    st = ag_content__mg_insert(c, cl, "outbox", &doc);
    bson_destroy(&doc);
    return st;
}

/* Undo ag_content__mg_outbox_add after the write failed; best effort, the write's status stands. */
void
ag_content__mg_outbox_undo(ag_content_t *c, mongoc_client_t *cl, const ag_content_event_t *ev,
                           const bson_oid_t *oid)
{
    char   keep[sizeof(c->err)];
    bson_t filter = BSON_INITIALIZER;
    if (ev == NULL)
        return;
    memcpy(keep, c->err, sizeof(keep));
    BSON_APPEND_OID(&filter, "_id", oid);
    if (ag_content__mg_delete_where(c, cl, "outbox", &filter, false, NULL) != AG_OK)
        ag_log_warn("content: outbox event %s left for a failed write: %s", ev->msg_id, c->err);
    memcpy(c->err, keep, sizeof(keep));
    bson_destroy(&filter);
}

/*
 * findAndModify on one document by _id with update; *found tells whether it
 * existed, and rd (optional) reads the document (after the update).
 */
ag_status_t
ag_content__mg_modify(ag_content_t *c, mongoc_client_t *cl, ag_arena_t *a, const char *cname,
                      const char *id, const bson_t *update, reader_fn rd, void *rec, bool *found)
{
    mongoc_collection_t *col = ag_content__mg_coll(cl, c, cname);
    bson_t               query = BSON_INITIALIZER, reply;
    bson_oid_t           oid;
    bson_iter_t          it;
    bson_error_t         e;
    ag_status_t          st = AG_OK;

    *found = false;
    ag_content__mg_oid_of(id, &oid);
    BSON_APPEND_OID(&query, "_id", &oid);
    if (!mongoc_collection_find_and_modify(col, &query, NULL, update, NULL, false, false, true,
                                           &reply, &e)) {
        st = ag_content__mg_fail(c, &e, cname);
    } else if (bson_iter_init_find(&it, &reply, "value") && BSON_ITER_HOLDS_DOCUMENT(&it)) {
        const uint8_t *data;
        uint32_t       len;
        bson_t         value;
        bson_iter_document(&it, &len, &data);
        if (bson_init_static(&value, data, len)) {
            *found = true;
            if (rd && !rd(a, &value, rec))
                st = AG_ENOMEM;
        }
    }
    bson_destroy(&reply);
    bson_destroy(&query);
    mongoc_collection_destroy(col);
    return st;
}

/* $inc field by delta on the document _id = id of cname (counter repair, best effort). */
void
ag_content__mg_inc_undo(ag_content_t *c, mongoc_client_t *cl, const char *cname, const char *id,
                        const char *field)
{
    char   keep[sizeof(c->err)];
    bson_t update = BSON_INITIALIZER, inc;
    bool   found;
    memcpy(keep, c->err, sizeof(keep));
    BSON_APPEND_DOCUMENT_BEGIN(&update, "$inc", &inc);
    BSON_APPEND_INT64(&inc, field, -1);
    bson_append_document_end(&update, &inc);
    if (ag_content__mg_modify(c, cl, NULL, cname, id, &update, NULL, NULL, &found) != AG_OK)
        ag_log_warn("content: %s.%s of %s is one too high: %s", cname, field, id, c->err);
    memcpy(c->err, keep, sizeof(keep));
    bson_destroy(&update);
}

/* ---- health, close
 * ---------------------------------------------------------------------------------- */

static ag_status_t
mg_health(ag_content_t *c)
{
    mongoc_client_t *cl = mongoc_client_pool_pop(M(c)->pool);
    bson_t           cmd = BSON_INITIALIZER, reply;
    bson_error_t     e;
    ag_status_t      st = AG_OK;

    BSON_APPEND_INT32(&cmd, "ping", 1);
    if (!mongoc_client_command_simple(cl, "admin", &cmd, NULL, &reply, &e))
        st = ag_content__mg_fail(c, &e, "ping");
    bson_destroy(&reply);
    bson_destroy(&cmd);
    mongoc_client_pool_push(M(c)->pool, cl);
    return st;
}

static void
mg_close(ag_content_t *c)
{
    mongo_t *m = M(c);
    if (m == NULL)
        return;
    mongoc_client_pool_destroy(m->pool);
    mongoc_uri_destroy(m->uri);
    bson_free(m);
    c->impl = NULL;
}

/* ---- posts
 * -------------------------------------------------------------------------------------------- */

static ag_status_t
mg_post_insert(ag_content_t *c, ag_arena_t *a, const ag_content_post_t *p,
               const ag_content_event_t *ev)
{
    mongoc_client_t *cl = NULL;
    bson_t           doc = BSON_INITIALIZER;
    bson_oid_t       oid, evoid;
    ag_status_t      st;

    if ((st = ag_content__mg_get(c, &cl)) != AG_OK)
        goto out;
    ag_content__mg_oid_of(p->id, &oid);
    BSON_APPEND_OID(&doc, "_id", &oid);
    BSON_APPEND_INT64(&doc, "channelId", p->channel_id);
    BSON_APPEND_INT64(&doc, "authorId", p->author_id);
    BSON_APPEND_UTF8(&doc, "body", p->body);
    BSON_APPEND_DATE_TIME(&doc, "createdAt", p->created_at);
    BSON_APPEND_NULL(&doc, "editedAt");
    BSON_APPEND_INT64(&doc, "commentCount", 0);
    if ((st = ag_content__mg_outbox_add(c, cl, ev, &evoid)) != AG_OK)
        goto out;
    if ((st = ag_content__mg_insert(c, cl, "posts", &doc)) != AG_OK)
        ag_content__mg_outbox_undo(c, cl, ev, &evoid);
out:
    ag_content__mg_put(c, cl);
    bson_destroy(&doc);
    return st;
}

static ag_status_t
mg_post_get(ag_content_t *c, ag_arena_t *a, const char *id, ag_content_post_t **out)
{
    ag_content_post_t *p = ag_arena_calloc(a, sizeof(*p));
    ag_status_t        st;
    if (p == NULL)
        return AG_ENOMEM;
    if ((st = ag_content__mg_find_by_id(c, a, "posts", id, ag_content__mg_read_post, p, "post")) ==
        AG_OK)
        *out = p;
    return st;
}

static ag_status_t
mg_post_edit(ag_content_t *c, ag_arena_t *a, const char *id, const char *body, int64_t edited_at,
             const ag_content_event_t *ev, ag_content_post_t **out)
{
    mongoc_client_t   *cl = NULL;
    ag_content_post_t *p = ag_arena_calloc(a, sizeof(*p));
    bson_t             update = BSON_INITIALIZER, set;
    bson_oid_t         evoid;
    bool               found = false;
    ag_status_t        st;

    if (p == NULL)
        return AG_ENOMEM;
    if ((st = ag_content__mg_get(c, &cl)) != AG_OK)
        goto out;
    BSON_APPEND_DOCUMENT_BEGIN(&update, "$set", &set);
    BSON_APPEND_UTF8(&set, "body", body);
    BSON_APPEND_DATE_TIME(&set, "editedAt", edited_at);
    bson_append_document_end(&update, &set);
    if ((st = ag_content__mg_outbox_add(c, cl, ev, &evoid)) != AG_OK)
        goto out;
    st = ag_content__mg_modify(c, cl, a, "posts", id, &update, ag_content__mg_read_post, p, &found);
    if (st == AG_OK && !found)
        st = ag_content__fail(c, AG_ENOTFOUND, "post: no such id");
    if (st != AG_OK)
        ag_content__mg_outbox_undo(c, cl, ev, &evoid);
    else
        *out = p;
out:
    ag_content__mg_put(c, cl);
    bson_destroy(&update);
    return st;
}

static ag_status_t
mg_post_delete(ag_content_t *c, ag_arena_t *a, const char *id, const ag_content_event_t *ev)
{
    mongoc_client_t *cl = NULL;
    bson_t           by_post = BSON_INITIALIZER, by_id = BSON_INITIALIZER;
    bson_oid_t       oid, evoid;
    int64_t          n = 0;
    ag_status_t      st;

    if ((st = ag_content__mg_get(c, &cl)) != AG_OK)
        goto out;
    ag_content__mg_oid_of(id, &oid);
    BSON_APPEND_OID(&by_post, "postId", &oid);
    BSON_APPEND_OID(&by_id, "_id", &oid);
    if ((st = ag_content__mg_outbox_add(c, cl, ev, &evoid)) != AG_OK)
        goto out;
    /* children first: an interrupted delete leaves the post, never orphans */
    if ((st = ag_content__mg_delete_where(c, cl, "reactions", &by_post, true, NULL)) != AG_OK ||
        (st = ag_content__mg_delete_where(c, cl, "replies", &by_post, true, NULL)) != AG_OK ||
        (st = ag_content__mg_delete_where(c, cl, "comments", &by_post, true, NULL)) != AG_OK ||
        (st = ag_content__mg_delete_where(c, cl, "posts", &by_id, false, &n)) != AG_OK) {
        ag_content__mg_outbox_undo(c, cl, ev, &evoid);
        goto out;
    }
    if (n == 0) {
        st = ag_content__fail(c, AG_ENOTFOUND, "post: no such id");
        ag_content__mg_outbox_undo(c, cl, ev, &evoid);
    }
out:
    ag_content__mg_put(c, cl);
    bson_destroy(&by_post);
    bson_destroy(&by_id);
    return st;
}

static ag_status_t
mg_post_list(ag_content_t *c, ag_arena_t *a, int64_t channel_id, int limit,
             const ag_content__after_t *after, ag_content_post_page_t *out)
{
    bson_t      filter = BSON_INITIALIZER, opts = BSON_INITIALIZER;
    ag_status_t st;
    BSON_APPEND_INT64(&filter, "channelId", channel_id);
    append_after(&filter, after, true);
    ag_content__mg_list_opts(&opts, true, limit);
    st = ag_content__mg_find_many(c, a, "posts", &filter, &opts, limit, ag_content__mg_read_post,
                                  sizeof(*out->items), (void **)&out->items, &out->n);
    bson_destroy(&filter);
    bson_destroy(&opts);
    return st;
}

static ag_status_t
mg_post_get_many(ag_content_t *c, ag_arena_t *a, const char *const *ids, size_t n,
                 ag_content_post_t **out)
{
    bson_t             filter = BSON_INITIALIZER, in, arr;
    ag_content_post_t *found = NULL;
    size_t             nfound = 0, k = 0;
    ag_status_t        st;

    BSON_APPEND_DOCUMENT_BEGIN(&filter, "_id", &in);
    BSON_APPEND_ARRAY_BEGIN(&in, "$in", &arr);
    for (size_t i = 0; i < n; i++) {
        char        key[16];
        const char *kp;
        bson_oid_t  oid;
        if (ids[i] == NULL)
            continue;
        ag_content__mg_oid_of(ids[i], &oid);
        bson_uint32_to_string((uint32_t)k++, &kp, key, sizeof(key));
        BSON_APPEND_OID(&arr, kp, &oid);
    }
    bson_append_array_end(&in, &arr);
    bson_append_document_end(&filter, &in);
    st = ag_content__mg_find_many(c, a, "posts", &filter, NULL, (int)n, ag_content__mg_read_post,
                                  sizeof(*found), (void **)&found, &nfound);
    bson_destroy(&filter);
    for (size_t j = 0; st == AG_OK && j < nfound; j++)
        for (size_t i = 0; i < n; i++)
            if (ids[i] && strcmp(ids[i], found[j].id) == 0)
                out[i] = &found[j];
    return st;
}

/* ---- comments and replies
 * ------------------------------------------------------------------------------ */

/*
 * Comment and reply creation, step 1: store the event, then $inc the
 * parent's counter and read the parent back (the child copies its channel).
 * On failure nothing is left behind.
 */
static ag_status_t
bump_parent(ag_content_t *c, mongoc_client_t *cl, ag_arena_t *a, const char *pcoll,
            const char *parent_id, const char *counter, reader_fn rd, void *parent,
            const ag_content_event_t *ev, bson_oid_t *evoid, const char *what)
{
    bson_t      update = BSON_INITIALIZER, inc;
    bool        found = false;
    ag_status_t st;

    BSON_APPEND_DOCUMENT_BEGIN(&update, "$inc", &inc);
    BSON_APPEND_INT64(&inc, counter, 1);
    bson_append_document_end(&update, &inc);
    if ((st = ag_content__mg_outbox_add(c, cl, ev, evoid)) == AG_OK) {
        st = ag_content__mg_modify(c, cl, a, pcoll, parent_id, &update, rd, parent, &found);
        if (st == AG_OK && !found)
            st = ag_content__fail(c, AG_ENOTFOUND, "%s: no such id", what);
        if (st != AG_OK)
            ag_content__mg_outbox_undo(c, cl, ev, evoid);
    }
    bson_destroy(&update);
    return st;
}

/* Step 2: ag_content__mg_insert the child; if that fails, take back the $inc and the event. */
static ag_status_t
insert_child(ag_content_t *c, mongoc_client_t *cl, const char *ccoll, const bson_t *child,
             const char *pcoll, const char *parent_id, const char *counter,
             const ag_content_event_t *ev, const bson_oid_t *evoid)
{
    ag_status_t st = ag_content__mg_insert(c, cl, ccoll, child);
    if (st != AG_OK) {
        ag_content__mg_inc_undo(c, cl, pcoll, parent_id, counter);
        ag_content__mg_outbox_undo(c, cl, ev, evoid);
    }
    return st;
}

/* The fields every child document has. */
static void
child_doc(bson_t *doc, const char *id, int64_t author_id, const char *body, int64_t created_at)
{
    bson_oid_t oid;
    ag_content__mg_oid_of(id, &oid);
    BSON_APPEND_OID(doc, "_id", &oid);
    BSON_APPEND_INT64(doc, "authorId", author_id);
    BSON_APPEND_UTF8(doc, "body", body);
    BSON_APPEND_DATE_TIME(doc, "createdAt", created_at);
}

static ag_status_t
mg_comment_insert(ag_content_t *c, ag_arena_t *a, ag_content_comment_t *cm,
                  const ag_content_event_t *ev)
{
    mongoc_client_t  *cl = NULL;
    ag_content_post_t post;
    bson_t            doc = BSON_INITIALIZER;
    bson_oid_t        poid, evoid;
    ag_status_t       st;

    if ((st = ag_content__mg_get(c, &cl)) != AG_OK)
        goto out;
    if ((st = bump_parent(c, cl, a, "posts", cm->post_id, "commentCount", ag_content__mg_read_post,
                          &post, ev, &evoid, "post")) != AG_OK)
        goto out;
    cm->channel_id = post.channel_id;
    child_doc(&doc, cm->id, cm->author_id, cm->body, cm->created_at);
    ag_content__mg_oid_of(cm->post_id, &poid);
    BSON_APPEND_OID(&doc, "postId", &poid);
    BSON_APPEND_INT64(&doc, "channelId", cm->channel_id);
    BSON_APPEND_INT64(&doc, "replyCount", 0);
    st = insert_child(c, cl, "comments", &doc, "posts", cm->post_id, "commentCount", ev, &evoid);
out:
    ag_content__mg_put(c, cl);
    bson_destroy(&doc);
    return st;
}

static ag_status_t
mg_comment_get(ag_content_t *c, ag_arena_t *a, const char *id, ag_content_comment_t **out)
{
    ag_content_comment_t *cm = ag_arena_calloc(a, sizeof(*cm));
    ag_status_t           st;
    if (cm == NULL)
        return AG_ENOMEM;
    if ((st = ag_content__mg_find_by_id(c, a, "comments", id, ag_content__mg_read_comment, cm,
                                        "comment")) == AG_OK)
        *out = cm;
    return st;
}

/* A list of children of parent (field pfield), oldest first. */
static ag_status_t
list_children(ag_content_t *c, ag_arena_t *a, const char *cname, const char *pfield,
              const char *parent_id, int limit, const ag_content__after_t *after, reader_fn rd,
              size_t size, void **items, size_t *n)
{
    bson_t      filter = BSON_INITIALIZER, opts = BSON_INITIALIZER;
    bson_oid_t  oid;
    ag_status_t st;
    ag_content__mg_oid_of(parent_id, &oid);
    BSON_APPEND_OID(&filter, pfield, &oid);
    append_after(&filter, after, false);
    ag_content__mg_list_opts(&opts, false, limit);
    st = ag_content__mg_find_many(c, a, cname, &filter, &opts, limit, rd, size, items, n);
    bson_destroy(&filter);
    bson_destroy(&opts);
    return st;
}

static ag_status_t
mg_comment_list(ag_content_t *c, ag_arena_t *a, const char *post_id, int limit,
                const ag_content__after_t *after, ag_content_comment_page_t *out)
{
    return list_children(c, a, "comments", "postId", post_id, limit, after,
                         ag_content__mg_read_comment, sizeof(*out->items), (void **)&out->items,
                         &out->n);
}

static ag_status_t
mg_reply_insert(ag_content_t *c, ag_arena_t *a, ag_content_reply_t *r, const ag_content_event_t *ev)
{
    mongoc_client_t     *cl = NULL;
    ag_content_comment_t parent;
    bson_t               doc = BSON_INITIALIZER;
    bson_oid_t           oid, evoid;
    ag_status_t          st;

    if ((st = ag_content__mg_get(c, &cl)) != AG_OK)
        goto out;
    if ((st = bump_parent(c, cl, a, "comments", r->comment_id, "replyCount",
                          ag_content__mg_read_comment, &parent, ev, &evoid, "comment")) != AG_OK)
        goto out;
    memcpy(r->post_id, parent.post_id, sizeof(r->post_id));
    r->channel_id = parent.channel_id;
    child_doc(&doc, r->id, r->author_id, r->body, r->created_at);
    ag_content__mg_oid_of(r->comment_id, &oid);
    BSON_APPEND_OID(&doc, "commentId", &oid);
    ag_content__mg_oid_of(r->post_id, &oid);
    BSON_APPEND_OID(&doc, "postId", &oid);
    BSON_APPEND_INT64(&doc, "channelId", r->channel_id);
    st = insert_child(c, cl, "replies", &doc, "comments", r->comment_id, "replyCount", ev, &evoid);
out:
    ag_content__mg_put(c, cl);
    bson_destroy(&doc);
    return st;
}

static ag_status_t
mg_reply_get(ag_content_t *c, ag_arena_t *a, const char *id, ag_content_reply_t **out)
{
    ag_content_reply_t *r = ag_arena_calloc(a, sizeof(*r));
    ag_status_t         st;
    if (r == NULL)
        return AG_ENOMEM;
    if ((st = ag_content__mg_find_by_id(c, a, "replies", id, ag_content__mg_read_reply, r,
                                        "reply")) == AG_OK)
        *out = r;
    return st;
}

static ag_status_t
mg_reply_list(ag_content_t *c, ag_arena_t *a, const char *comment_id, int limit,
              const ag_content__after_t *after, ag_content_reply_page_t *out)
{
    return list_children(c, a, "replies", "commentId", comment_id, limit, after,
                         ag_content__mg_read_reply, sizeof(*out->items), (void **)&out->items,
                         &out->n);
}

/* ---- direct messages
 * ---------------------------------------------------------------------------------- */

static ag_status_t
mg_dm_insert(ag_content_t *c, ag_arena_t *a, const ag_content_dm_t *m, const ag_content_event_t *ev)
{
    mongoc_client_t *cl = NULL;
    bson_t           doc = BSON_INITIALIZER;
    bson_oid_t       oid, evoid;
    ag_status_t      st;

    if ((st = ag_content__mg_get(c, &cl)) != AG_OK)
        goto out;
    ag_content__mg_oid_of(m->id, &oid);
    BSON_APPEND_OID(&doc, "_id", &oid);
    BSON_APPEND_INT64(&doc, "fromId", m->from_id);
    BSON_APPEND_INT64(&doc, "toId", m->to_id);
    BSON_APPEND_INT64(&doc, "userLo", m->from_id < m->to_id ? m->from_id : m->to_id);
    BSON_APPEND_INT64(&doc, "userHi", m->from_id < m->to_id ? m->to_id : m->from_id);
    BSON_APPEND_UTF8(&doc, "body", m->body);
    BSON_APPEND_DATE_TIME(&doc, "createdAt", m->created_at);
    if ((st = ag_content__mg_outbox_add(c, cl, ev, &evoid)) != AG_OK)
        goto out;
    if ((st = ag_content__mg_insert(c, cl, "dms", &doc)) != AG_OK)
        ag_content__mg_outbox_undo(c, cl, ev, &evoid);
out:
    ag_content__mg_put(c, cl);
    bson_destroy(&doc);
    return st;
}

static ag_status_t
mg_dm_get(ag_content_t *c, ag_arena_t *a, const char *id, ag_content_dm_t **out)
{
    ag_content_dm_t *m = ag_arena_calloc(a, sizeof(*m));
    ag_status_t      st;
    if (m == NULL)
        return AG_ENOMEM;
    if ((st = ag_content__mg_find_by_id(c, a, "dms", id, ag_content__mg_read_dm, m,
                                        "direct message")) == AG_OK)
        *out = m;
    return st;
}

static ag_status_t
mg_dm_list(ag_content_t *c, ag_arena_t *a, int64_t lo, int64_t hi, int limit,
           const ag_content__after_t *after, ag_content_dm_page_t *out)
{
    bson_t      filter = BSON_INITIALIZER, opts = BSON_INITIALIZER;
    ag_status_t st;
    BSON_APPEND_INT64(&filter, "userLo", lo);
    BSON_APPEND_INT64(&filter, "userHi", hi);
    append_after(&filter, after, true);
    ag_content__mg_list_opts(&opts, true, limit);
    st = ag_content__mg_find_many(c, a, "dms", &filter, &opts, limit, ag_content__mg_read_dm,
                                  sizeof(*out->items), (void **)&out->items, &out->n);
    bson_destroy(&filter);
    bson_destroy(&opts);
    return st;
}

static const ag_content__ops_t mongo_ops = {
    .name = "mongodb",
    .health = mg_health,
    .close = mg_close,
    .post_insert = mg_post_insert,
    .post_get = mg_post_get,
    .post_edit = mg_post_edit,
    .post_delete = mg_post_delete,
    .post_list = mg_post_list,
    .post_get_many = mg_post_get_many,
    .comment_insert = mg_comment_insert,
    .comment_get = mg_comment_get,
    .comment_list = mg_comment_list,
    .reply_insert = mg_reply_insert,
    .reply_get = mg_reply_get,
    .reply_list = mg_reply_list,
    .comment_edit = ag_content__mg_comment_edit,
    .comment_delete = ag_content__mg_comment_delete,
    .reply_edit = ag_content__mg_reply_edit,
    .reply_delete = ag_content__mg_reply_delete,
    .dm_edit = ag_content__mg_dm_edit,
    .dm_delete = ag_content__mg_dm_delete,
    .target_get = ag_content__mg_target_get,
    .reaction_add = ag_content__mg_reaction_add,
    .reaction_remove = ag_content__mg_reaction_remove,
    .reactions = ag_content__mg_reactions,
    .dm_insert = mg_dm_insert,
    .dm_get = mg_dm_get,
    .dm_list = mg_dm_list,
    .outbox_pending = ag_content__mg_outbox_pending,
    .outbox_mark = ag_content__mg_outbox_mark,
    .outbox_retry = ag_content__mg_outbox_retry,
    .outbox_backlog = ag_content__mg_outbox_backlog,
};

/*
 * Timeouts the URI does not set: a store that is down must ag_content__mg_fail a request
 * in about two seconds, not the driver's default thirty.
 */
#define DEFAULT_TIMEOUT_MS 2000

ag_status_t
ag_content__mongo_open(ag_content_t *c, const ag_config_t *cfg, char *err, size_t errlen)
{
    bson_error_t e;
    mongo_t     *m = bson_malloc0(sizeof(*m));

    c->ops = &mongo_ops;
    c->impl = m;
    snprintf(m->dbname, sizeof(m->dbname), "%s", ag_config_str(cfg, AG_CFG_mongodb_db));
    if ((m->uri = mongoc_uri_new_with_error(ag_config_str(cfg, AG_CFG_mongodb_uri), &e)) == NULL) {
        snprintf(err, errlen, "mongodb_uri: %s", e.message);
        mg_close(c);
        return AG_ECONFIG;
    }
    if (!mongoc_uri_has_option(m->uri, MONGOC_URI_SERVERSELECTIONTIMEOUTMS))
        mongoc_uri_set_option_as_int32(m->uri, MONGOC_URI_SERVERSELECTIONTIMEOUTMS,
                                       DEFAULT_TIMEOUT_MS);
    if (!mongoc_uri_has_option(m->uri, MONGOC_URI_CONNECTTIMEOUTMS))
        mongoc_uri_set_option_as_int32(m->uri, MONGOC_URI_CONNECTTIMEOUTMS, DEFAULT_TIMEOUT_MS);
    if (!mongoc_uri_has_option(m->uri, MONGOC_URI_APPNAME))
        mongoc_uri_set_appname(m->uri, "agora");
    if ((m->pool = mongoc_client_pool_new(m->uri)) == NULL) {
        snprintf(err, errlen, "mongodb_uri: the driver refused it (TLS options?)");
        mg_close(c);
        return AG_ECONFIG;
    }
    mongoc_client_pool_set_error_api(m->pool, MONGOC_ERROR_API_VERSION_2);
    return AG_OK;
}
