/*
 * lib/content/content_mongo.c — the MongoDB backend of the content store,
 * through mongo-c-driver (pooled client; one ag_content_t per process).
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
 * (a channel's page is one shard's range scan; get-by-id is a scatter that
 * stays cheap on the _id index), comments on {postId: 1}, replies on
 * {commentId: 1}, dms on {userLo: 1, userHi: 1}, outbox on {_id: "hashed"}.
 *
 * Consistency without multi-document transactions (the test peer cannot
 * roll them back, and the design must not depend on them):
 *   - a counter ($inc on the parent) is bumped before the child is inserted
 *     and decremented again if the insert fails; a process dying in between
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
#include "content/content_int.h"
#include "log/log.h"

#include <mongoc/mongoc.h>
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

static ag_status_t
fail(ag_content_t *c, const bson_error_t *e, const char *what)
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

static mongoc_collection_t *
coll(mongoc_client_t *cl, ag_content_t *c, const char *name)
{
    return mongoc_client_get_collection(cl, M(c)->dbname, name);
}

static void
oid_of(const char *hex, bson_oid_t *oid)
{
    bson_oid_init_from_string(oid, hex); /* hex is checked by content.c */
}

static void
hex_of(const bson_iter_t *it, char out[AG_CONTENT_ID_LEN + 1])
{
    if (BSON_ITER_HOLDS_OID(it))
        bson_oid_to_string(bson_iter_oid(it), out);
    else
        out[0] = '\0';
}

/* Integers may come back as int32, int64 or double (the test peer narrows them). */
static int64_t
i64_at(const bson_t *doc, const char *key)
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
        hex_of(&it, out);
}

/* ---- readers: document → record ------------------------------------------------------------ */

typedef bool (*reader_fn)(ag_arena_t *a, const bson_t *doc, void *rec);

static bool
read_post(ag_arena_t *a, const bson_t *d, void *rec)
{
    ag_content_post_t *p = rec;
    oid_at(d, "_id", p->id);
    p->channel_id = i64_at(d, "channelId");
    p->author_id = i64_at(d, "authorId");
    p->body = str_at(a, d, "body");
    p->created_at = i64_at(d, "createdAt");
    p->edited_at = i64_at(d, "editedAt");
    p->comment_count = i64_at(d, "commentCount");
    return p->body != NULL;
}

static bool
read_comment(ag_arena_t *a, const bson_t *d, void *rec)
{
    ag_content_comment_t *cm = rec;
    oid_at(d, "_id", cm->id);
    oid_at(d, "postId", cm->post_id);
    cm->channel_id = i64_at(d, "channelId");
    cm->author_id = i64_at(d, "authorId");
    cm->body = str_at(a, d, "body");
    cm->created_at = i64_at(d, "createdAt");
    cm->reply_count = i64_at(d, "replyCount");
    cm->edited_at = i64_at(d, "editedAt");
    return cm->body != NULL;
}

static bool
read_reply(ag_arena_t *a, const bson_t *d, void *rec)
{
    ag_content_reply_t *r = rec;
    oid_at(d, "_id", r->id);
    oid_at(d, "commentId", r->comment_id);
    oid_at(d, "postId", r->post_id);
    r->channel_id = i64_at(d, "channelId");
    r->author_id = i64_at(d, "authorId");
    r->body = str_at(a, d, "body");
    r->created_at = i64_at(d, "createdAt");
    r->edited_at = i64_at(d, "editedAt");
    return r->body != NULL;
}

static bool
read_dm(ag_arena_t *a, const bson_t *d, void *rec)
{
    ag_content_dm_t *m = rec;
    oid_at(d, "_id", m->id);
    m->from_id = i64_at(d, "fromId");
    m->to_id = i64_at(d, "toId");
    m->body = str_at(a, d, "body");
    m->created_at = i64_at(d, "createdAt");
    m->edited_at = i64_at(d, "editedAt");
    return m->body != NULL;
}

static bool
read_outbox(ag_arena_t *a, const bson_t *d, void *rec)
{
    ag_content_outbox_t *o = rec;
    o->msg_id = str_at(a, d, "msgId");
    o->subject = str_at(a, d, "subject");
    o->payload = str_at(a, d, "payload");
    o->created_at = i64_at(d, "createdAt");
    o->attempts = i64_at(d, "attempts");
    o->next_try_at = i64_at(d, "nextTryAt");
    o->last_error = str_at(a, d, "lastError");
    return o->msg_id && o->subject && o->payload && o->last_error;
}

/* ---- client, indexes --------------------------------------------------------------------------
 */

static ag_status_t
create_indexes(ag_content_t *c, mongoc_client_t *cl)
{
    static const struct {
        const char *coll, *name;
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
        BSON_APPEND_UTF8(&cmd, "createIndexes", ix[i].coll);
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
            st = fail(c, &e, "createIndexes");
        bson_destroy(&reply);
        bson_destroy(&cmd);
    }
    mongoc_database_destroy(db);
    if (st == AG_OK)
        M(c)->indexed = true;
    return st;
}

/* A client from the pool, with the indexes in place; push it back with put(). */
static ag_status_t
get(ag_content_t *c, mongoc_client_t **out)
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

static void
put(ag_content_t *c, mongoc_client_t *cl)
{
    if (cl)
        mongoc_client_pool_push(M(c)->pool, cl);
}

/* ---- generic operations
 * -------------------------------------------------------------------------- */

/* find_one by _id into rec; AG_ENOTFOUND (with what) when absent. */
static ag_status_t
find_by_id(ag_content_t *c, ag_arena_t *a, const char *cname, const char *id, reader_fn rd,
           void *rec, const char *what)
{
    mongoc_client_t     *cl = NULL;
    mongoc_collection_t *col = NULL;
    mongoc_cursor_t     *cur = NULL;
    const bson_t        *doc;
    bson_oid_t           oid;
    bson_t               filter = BSON_INITIALIZER, opts = BSON_INITIALIZER;
    bson_error_t         e;
    ag_status_t          st;

    if ((st = get(c, &cl)) != AG_OK)
        goto out;
    oid_of(id, &oid);
    BSON_APPEND_OID(&filter, "_id", &oid);
    BSON_APPEND_INT64(&opts, "limit", 1);
    col = coll(cl, c, cname);
    cur = mongoc_collection_find_with_opts(col, &filter, &opts, NULL);
    if (mongoc_cursor_next(cur, &doc))
        st = rd(a, doc, rec) ? AG_OK : AG_ENOMEM;
    else if (mongoc_cursor_error(cur, &e))
        st = fail(c, &e, what);
    else
        st = ag_content__fail(c, AG_ENOTFOUND, "%s: no such id", what);
out:
    mongoc_cursor_destroy(cur);
    mongoc_collection_destroy(col);
    put(c, cl);
    bson_destroy(&filter);
    bson_destroy(&opts);
    return st;
}

/* Run a find and read up to limit documents into a fresh array of size-byte records. */
static ag_status_t
find_many(ag_content_t *c, ag_arena_t *a, const char *cname, const bson_t *filter,
          const bson_t *opts, int limit, reader_fn rd, size_t size, void **items, size_t *n)
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
    if ((st = get(c, &cl)) != AG_OK)
        return st;
    col = coll(cl, c, cname);
    cur = mongoc_collection_find_with_opts(col, filter, opts, NULL);
    while (*n < (size_t)limit && mongoc_cursor_next(cur, &doc)) {
        if (!rd(a, doc, arr + *n * size)) {
            st = AG_ENOMEM;
            goto out;
        }
        (*n)++;
    }
    if (mongoc_cursor_error(cur, &e))
        st = fail(c, &e, cname);
out:
    mongoc_cursor_destroy(cur);
    mongoc_collection_destroy(col);
    put(c, cl);
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
    oid_of(after->id, &oid);
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
static void
list_opts(bson_t *opts, bool desc, int limit)
{
    bson_t sort;
    BSON_APPEND_DOCUMENT_BEGIN(opts, "sort", &sort);
    BSON_APPEND_INT32(&sort, "createdAt", desc ? -1 : 1);
    BSON_APPEND_INT32(&sort, "_id", desc ? -1 : 1);
    bson_append_document_end(opts, &sort);
    BSON_APPEND_INT64(opts, "limit", limit);
}

static ag_status_t
insert(ag_content_t *c, mongoc_client_t *cl, const char *cname, const bson_t *doc)
{
    mongoc_collection_t *col = coll(cl, c, cname);
    bson_error_t         e;
    ag_status_t          st = AG_OK;
    if (!mongoc_collection_insert_one(col, doc, NULL, NULL, &e))
        st = fail(c, &e, cname);
    mongoc_collection_destroy(col);
    return st;
}

/* Delete by _id; *deleted (optional) is the count. */
static ag_status_t
delete_where(ag_content_t *c, mongoc_client_t *cl, const char *cname, const bson_t *filter,
             bool many, int64_t *deleted)
{
    mongoc_collection_t *col = coll(cl, c, cname);
    bson_t               reply;
    bson_error_t         e;
    ag_status_t          st = AG_OK;
    bool                 ok = many ? mongoc_collection_delete_many(col, filter, NULL, &reply, &e)
                                   : mongoc_collection_delete_one(col, filter, NULL, &reply, &e);
    if (!ok)
        st = fail(c, &e, cname);
    else if (deleted)
        *deleted = i64_at(&reply, "deletedCount");
    bson_destroy(&reply);
    mongoc_collection_destroy(col);
    return st;
}

/* The outbox document of ev, inserted before the write it belongs to; *oid names it. */
static ag_status_t
outbox_add(ag_content_t *c, mongoc_client_t *cl, const ag_content_event_t *ev, bson_oid_t *oid)
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
    st = insert(c, cl, "outbox", &doc);
    bson_destroy(&doc);
    return st;
}

/* Undo outbox_add after the write failed; best effort, the write's status stands. */
static void
outbox_undo(ag_content_t *c, mongoc_client_t *cl, const ag_content_event_t *ev,
            const bson_oid_t *oid)
{
    char   keep[sizeof(c->err)];
    bson_t filter = BSON_INITIALIZER;
    if (ev == NULL)
        return;
    memcpy(keep, c->err, sizeof(keep));
    BSON_APPEND_OID(&filter, "_id", oid);
    if (delete_where(c, cl, "outbox", &filter, false, NULL) != AG_OK)
        ag_log_warn("content: outbox event %s left for a failed write: %s", ev->msg_id, c->err);
    memcpy(c->err, keep, sizeof(keep));
    bson_destroy(&filter);
}

/*
 * findAndModify on one document by _id with update; *found tells whether it
 * existed, and rd (optional) reads the document (after the update).
 */
static ag_status_t
modify(ag_content_t *c, mongoc_client_t *cl, ag_arena_t *a, const char *cname, const char *id,
       const bson_t *update, reader_fn rd, void *rec, bool *found)
{
    mongoc_collection_t *col = coll(cl, c, cname);
    bson_t               query = BSON_INITIALIZER, reply;
    bson_oid_t           oid;
    bson_iter_t          it;
    bson_error_t         e;
    ag_status_t          st = AG_OK;

    *found = false;
    oid_of(id, &oid);
    BSON_APPEND_OID(&query, "_id", &oid);
    if (!mongoc_collection_find_and_modify(col, &query, NULL, update, NULL, false, false, true,
                                           &reply, &e)) {
        st = fail(c, &e, cname);
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
static void
inc_undo(ag_content_t *c, mongoc_client_t *cl, const char *cname, const char *id, const char *field)
{
    char   keep[sizeof(c->err)];
    bson_t update = BSON_INITIALIZER, inc;
    bool   found;
    memcpy(keep, c->err, sizeof(keep));
    BSON_APPEND_DOCUMENT_BEGIN(&update, "$inc", &inc);
    BSON_APPEND_INT64(&inc, field, -1);
    bson_append_document_end(&update, &inc);
    if (modify(c, cl, NULL, cname, id, &update, NULL, NULL, &found) != AG_OK)
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
        st = fail(c, &e, "ping");
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

    if ((st = get(c, &cl)) != AG_OK)
        goto out;
    oid_of(p->id, &oid);
    BSON_APPEND_OID(&doc, "_id", &oid);
    BSON_APPEND_INT64(&doc, "channelId", p->channel_id);
    BSON_APPEND_INT64(&doc, "authorId", p->author_id);
    BSON_APPEND_UTF8(&doc, "body", p->body);
    BSON_APPEND_DATE_TIME(&doc, "createdAt", p->created_at);
    BSON_APPEND_NULL(&doc, "editedAt");
    BSON_APPEND_INT64(&doc, "commentCount", 0);
    if ((st = outbox_add(c, cl, ev, &evoid)) != AG_OK)
        goto out;
    if ((st = insert(c, cl, "posts", &doc)) != AG_OK)
        outbox_undo(c, cl, ev, &evoid);
out:
    put(c, cl);
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
    if ((st = find_by_id(c, a, "posts", id, read_post, p, "post")) == AG_OK)
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
    if ((st = get(c, &cl)) != AG_OK)
        goto out;
    BSON_APPEND_DOCUMENT_BEGIN(&update, "$set", &set);
    BSON_APPEND_UTF8(&set, "body", body);
    BSON_APPEND_DATE_TIME(&set, "editedAt", edited_at);
    bson_append_document_end(&update, &set);
    if ((st = outbox_add(c, cl, ev, &evoid)) != AG_OK)
        goto out;
    st = modify(c, cl, a, "posts", id, &update, read_post, p, &found);
    if (st == AG_OK && !found)
        st = ag_content__fail(c, AG_ENOTFOUND, "post: no such id");
    if (st != AG_OK)
        outbox_undo(c, cl, ev, &evoid);
    else
        *out = p;
out:
    put(c, cl);
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

    if ((st = get(c, &cl)) != AG_OK)
        goto out;
    oid_of(id, &oid);
    BSON_APPEND_OID(&by_post, "postId", &oid);
    BSON_APPEND_OID(&by_id, "_id", &oid);
    if ((st = outbox_add(c, cl, ev, &evoid)) != AG_OK)
        goto out;
    /* children first: an interrupted delete leaves the post, never orphans */
    if ((st = delete_where(c, cl, "reactions", &by_post, true, NULL)) != AG_OK ||
        (st = delete_where(c, cl, "replies", &by_post, true, NULL)) != AG_OK ||
        (st = delete_where(c, cl, "comments", &by_post, true, NULL)) != AG_OK ||
        (st = delete_where(c, cl, "posts", &by_id, false, &n)) != AG_OK) {
        outbox_undo(c, cl, ev, &evoid);
        goto out;
    }
    if (n == 0) {
        st = ag_content__fail(c, AG_ENOTFOUND, "post: no such id");
        outbox_undo(c, cl, ev, &evoid);
    }
out:
    put(c, cl);
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
    list_opts(&opts, true, limit);
    st = find_many(c, a, "posts", &filter, &opts, limit, read_post, sizeof(*out->items),
                   (void **)&out->items, &out->n);
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
        oid_of(ids[i], &oid);
        bson_uint32_to_string((uint32_t)k++, &kp, key, sizeof(key));
        BSON_APPEND_OID(&arr, kp, &oid);
    }
    bson_append_array_end(&in, &arr);
    bson_append_document_end(&filter, &in);
    st = find_many(c, a, "posts", &filter, NULL, (int)n, read_post, sizeof(*found), (void **)&found,
                   &nfound);
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
    if ((st = outbox_add(c, cl, ev, evoid)) == AG_OK) {
        st = modify(c, cl, a, pcoll, parent_id, &update, rd, parent, &found);
        if (st == AG_OK && !found)
            st = ag_content__fail(c, AG_ENOTFOUND, "%s: no such id", what);
        if (st != AG_OK)
            outbox_undo(c, cl, ev, evoid);
    }
    bson_destroy(&update);
    return st;
}

/* Step 2: insert the child; if that fails, take back the $inc and the event. */
static ag_status_t
insert_child(ag_content_t *c, mongoc_client_t *cl, const char *ccoll, const bson_t *child,
             const char *pcoll, const char *parent_id, const char *counter,
             const ag_content_event_t *ev, const bson_oid_t *evoid)
{
    ag_status_t st = insert(c, cl, ccoll, child);
    if (st != AG_OK) {
        inc_undo(c, cl, pcoll, parent_id, counter);
        outbox_undo(c, cl, ev, evoid);
    }
    return st;
}

/* The fields every child document has. */
static void
child_doc(bson_t *doc, const char *id, int64_t author_id, const char *body, int64_t created_at)
{
    bson_oid_t oid;
    oid_of(id, &oid);
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

    if ((st = get(c, &cl)) != AG_OK)
        goto out;
    if ((st = bump_parent(c, cl, a, "posts", cm->post_id, "commentCount", read_post, &post, ev,
                          &evoid, "post")) != AG_OK)
        goto out;
    cm->channel_id = post.channel_id;
    child_doc(&doc, cm->id, cm->author_id, cm->body, cm->created_at);
    oid_of(cm->post_id, &poid);
    BSON_APPEND_OID(&doc, "postId", &poid);
    BSON_APPEND_INT64(&doc, "channelId", cm->channel_id);
    BSON_APPEND_INT64(&doc, "replyCount", 0);
    st = insert_child(c, cl, "comments", &doc, "posts", cm->post_id, "commentCount", ev, &evoid);
out:
    put(c, cl);
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
    if ((st = find_by_id(c, a, "comments", id, read_comment, cm, "comment")) == AG_OK)
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
    oid_of(parent_id, &oid);
    BSON_APPEND_OID(&filter, pfield, &oid);
    append_after(&filter, after, false);
    list_opts(&opts, false, limit);
    st = find_many(c, a, cname, &filter, &opts, limit, rd, size, items, n);
    bson_destroy(&filter);
    bson_destroy(&opts);
    return st;
}

static ag_status_t
mg_comment_list(ag_content_t *c, ag_arena_t *a, const char *post_id, int limit,
                const ag_content__after_t *after, ag_content_comment_page_t *out)
{
    return list_children(c, a, "comments", "postId", post_id, limit, after, read_comment,
                         sizeof(*out->items), (void **)&out->items, &out->n);
}

static ag_status_t
mg_reply_insert(ag_content_t *c, ag_arena_t *a, ag_content_reply_t *r, const ag_content_event_t *ev)
{
    mongoc_client_t     *cl = NULL;
    ag_content_comment_t parent;
    bson_t               doc = BSON_INITIALIZER;
    bson_oid_t           oid, evoid;
    ag_status_t          st;

    if ((st = get(c, &cl)) != AG_OK)
        goto out;
    if ((st = bump_parent(c, cl, a, "comments", r->comment_id, "replyCount", read_comment, &parent,
                          ev, &evoid, "comment")) != AG_OK)
        goto out;
    memcpy(r->post_id, parent.post_id, sizeof(r->post_id));
    r->channel_id = parent.channel_id;
    child_doc(&doc, r->id, r->author_id, r->body, r->created_at);
    oid_of(r->comment_id, &oid);
    BSON_APPEND_OID(&doc, "commentId", &oid);
    oid_of(r->post_id, &oid);
    BSON_APPEND_OID(&doc, "postId", &oid);
    BSON_APPEND_INT64(&doc, "channelId", r->channel_id);
    st = insert_child(c, cl, "replies", &doc, "comments", r->comment_id, "replyCount", ev, &evoid);
out:
    put(c, cl);
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
    if ((st = find_by_id(c, a, "replies", id, read_reply, r, "reply")) == AG_OK)
        *out = r;
    return st;
}

static ag_status_t
mg_reply_list(ag_content_t *c, ag_arena_t *a, const char *comment_id, int limit,
              const ag_content__after_t *after, ag_content_reply_page_t *out)
{
    return list_children(c, a, "replies", "commentId", comment_id, limit, after, read_reply,
                         sizeof(*out->items), (void **)&out->items, &out->n);
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

    if ((st = get(c, &cl)) != AG_OK)
        goto out;
    oid_of(m->id, &oid);
    BSON_APPEND_OID(&doc, "_id", &oid);
    BSON_APPEND_INT64(&doc, "fromId", m->from_id);
    BSON_APPEND_INT64(&doc, "toId", m->to_id);
    BSON_APPEND_INT64(&doc, "userLo", m->from_id < m->to_id ? m->from_id : m->to_id);
    BSON_APPEND_INT64(&doc, "userHi", m->from_id < m->to_id ? m->to_id : m->from_id);
    BSON_APPEND_UTF8(&doc, "body", m->body);
    BSON_APPEND_DATE_TIME(&doc, "createdAt", m->created_at);
    if ((st = outbox_add(c, cl, ev, &evoid)) != AG_OK)
        goto out;
    if ((st = insert(c, cl, "dms", &doc)) != AG_OK)
        outbox_undo(c, cl, ev, &evoid);
out:
    put(c, cl);
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
    if ((st = find_by_id(c, a, "dms", id, read_dm, m, "direct message")) == AG_OK)
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
    list_opts(&opts, true, limit);
    st = find_many(c, a, "dms", &filter, &opts, limit, read_dm, sizeof(*out->items),
                   (void **)&out->items, &out->n);
    bson_destroy(&filter);
    bson_destroy(&opts);
    return st;
}

/* ---- edits and deletes of comments, replies and DMs --------------------------------------- */

/* $set body and editedAt on cname's document id, with the event; read it back into rec. */
static ag_status_t
edit_doc(ag_content_t *c, ag_arena_t *a, const char *cname, const char *id, const char *body,
         int64_t edited_at, const ag_content_event_t *ev, reader_fn rd, void *rec, const char *what)
{
    mongoc_client_t *cl = NULL;
    bson_t           update = BSON_INITIALIZER, set;
    bson_oid_t       evoid;
    bool             found = false;
    ag_status_t      st;

    if ((st = get(c, &cl)) != AG_OK)
        goto out;
    BSON_APPEND_DOCUMENT_BEGIN(&update, "$set", &set);
    BSON_APPEND_UTF8(&set, "body", body);
    BSON_APPEND_DATE_TIME(&set, "editedAt", edited_at);
    bson_append_document_end(&update, &set);
    if ((st = outbox_add(c, cl, ev, &evoid)) != AG_OK)
        goto out;
    st = modify(c, cl, a, cname, id, &update, rd, rec, &found);
    if (st == AG_OK && !found)
        st = ag_content__fail(c, AG_ENOTFOUND, "%s: no such id", what);
    if (st != AG_OK)
        outbox_undo(c, cl, ev, &evoid);
out:
    put(c, cl);
    bson_destroy(&update);
    return st;
}

#define MG_EDIT(cname, T, rd, what)                                                                \
    do {                                                                                           \
        T          *rec__ = ag_arena_calloc(a, sizeof(*rec__));                                    \
        ag_status_t st__;                                                                          \
        if (rec__ == NULL)                                                                         \
            return AG_ENOMEM;                                                                      \
        st__ = edit_doc(c, a, cname, id, body, edited_at, ev, rd, rec__, what);                    \
        if (st__ == AG_OK)                                                                         \
            *out = rec__;                                                                          \
        return st__;                                                                               \
    } while (0)

static ag_status_t
mg_comment_edit(ag_content_t *c, ag_arena_t *a, const char *id, const char *body, int64_t edited_at,
                const ag_content_event_t *ev, ag_content_comment_t **out)
{
    MG_EDIT("comments", ag_content_comment_t, read_comment, "comment");
}

static ag_status_t
mg_reply_edit(ag_content_t *c, ag_arena_t *a, const char *id, const char *body, int64_t edited_at,
              const ag_content_event_t *ev, ag_content_reply_t **out)
{
    MG_EDIT("replies", ag_content_reply_t, read_reply, "reply");
}

static ag_status_t
mg_dm_edit(ag_content_t *c, ag_arena_t *a, const char *id, const char *body, int64_t edited_at,
           const ag_content_event_t *ev, ag_content_dm_t **out)
{
    MG_EDIT("dms", ag_content_dm_t, read_dm, "direct message");
}

/* A filter {field: ObjectId(id)}. */
static void
by_oid(bson_t *filter, const char *field, const char *id)
{
    bson_oid_t oid;
    oid_of(id, &oid);
    BSON_APPEND_OID(filter, field, &oid);
}

/*
 * Delete a comment, a reply or a DM: store the event, delete what hangs on it
 * (children), then the document itself, then take one off the parent's
 * counter. Dying in between leaves a counter one too high (as an interrupted
 * create does), never children of a deleted document.
 */
typedef struct {
    const char *cname, *what;
    const char *child_coll, *child_field; /* replies of a comment (or NULL) */
    const char *react_field;              /* reactions by this field = id */
    const char *pcoll, *counter;          /* the parent's counter (or NULL) */
} delete_plan_t;

static ag_status_t
delete_doc(ag_content_t *c, const delete_plan_t *d, const char *id, const char *parent_id,
           const ag_content_event_t *ev)
{
    mongoc_client_t *cl = NULL;
    bson_t      children = BSON_INITIALIZER, reacts = BSON_INITIALIZER, self = BSON_INITIALIZER;
    bson_oid_t  evoid;
    int64_t     n = 0;
    ag_status_t st;

    if ((st = get(c, &cl)) != AG_OK)
        goto out;
    by_oid(&reacts, d->react_field, id);
    by_oid(&self, "_id", id);
    if ((st = outbox_add(c, cl, ev, &evoid)) != AG_OK)
        goto out;
    if (d->child_coll) {
        by_oid(&children, d->child_field, id);
        st = delete_where(c, cl, d->child_coll, &children, true, NULL);
    }
    if (st == AG_OK)
        st = delete_where(c, cl, "reactions", &reacts, true, NULL);
    if (st == AG_OK)
        st = delete_where(c, cl, d->cname, &self, false, &n);
    if (st == AG_OK && n == 0)
        st = ag_content__fail(c, AG_ENOTFOUND, "%s: no such id", d->what);
    if (st != AG_OK) {
        outbox_undo(c, cl, ev, &evoid);
        goto out;
    }
    if (d->pcoll && parent_id && *parent_id)
        inc_undo(c, cl, d->pcoll, parent_id, d->counter); /* the -1 of a child gone */
out:
    put(c, cl);
    bson_destroy(&children);
    bson_destroy(&reacts);
    bson_destroy(&self);
    return st;
}

static ag_status_t
mg_comment_delete(ag_content_t *c, ag_arena_t *a, const char *id, const ag_content_event_t *ev)
{
    static const delete_plan_t d = {"comments",  "comment", "replies",     "commentId",
                                    "commentId", "posts",   "commentCount"};
    ag_content_comment_t       cm;
    ag_status_t                st = find_by_id(c, a, "comments", id, read_comment, &cm, "comment");
    return st != AG_OK ? st : delete_doc(c, &d, id, cm.post_id, ev);
}

static ag_status_t
mg_reply_delete(ag_content_t *c, ag_arena_t *a, const char *id, const ag_content_event_t *ev)
{
    static const delete_plan_t d = {"replies",  "reply",    NULL,        NULL,
                                    "targetId", "comments", "replyCount"};
    ag_content_reply_t         r;
    ag_status_t                st = find_by_id(c, a, "replies", id, read_reply, &r, "reply");
    return st != AG_OK ? st : delete_doc(c, &d, id, r.comment_id, ev);
}

static ag_status_t
mg_dm_delete(ag_content_t *c, ag_arena_t *a, const char *id, const ag_content_event_t *ev)
{
    static const delete_plan_t d = {"dms", "direct message", NULL, NULL, "targetId", NULL, NULL};
    (void)a;
    return delete_doc(c, &d, id, NULL, ev);
}

/* ---- reactions --------------------------------------------------------------------------------
 */

static ag_status_t
mg_target_get(ag_content_t *c, ag_arena_t *a, const char *id, ag_content_target_t *t)
{
    ag_content_post_t    p;
    ag_content_comment_t cm;
    ag_content_reply_t   r;
    ag_content_dm_t      m;
    ag_status_t          st;

    /* ids are unique across the collections by construction: the first hit is the one */
    if ((st = find_by_id(c, a, "posts", id, read_post, &p, "target")) == AG_OK) {
        *t = (ag_content_target_t){
            .kind = AG_CONTENT_KIND_POST, .channel_id = p.channel_id, .author_id = p.author_id};
        memcpy(t->post_id, p.id, sizeof(t->post_id));
    } else if (st == AG_ENOTFOUND &&
               (st = find_by_id(c, a, "comments", id, read_comment, &cm, "target")) == AG_OK) {
        *t = (ag_content_target_t){.kind = AG_CONTENT_KIND_COMMENT,
                                   .channel_id = cm.channel_id,
                                   .author_id = cm.author_id};
        memcpy(t->post_id, cm.post_id, sizeof(t->post_id));
        memcpy(t->comment_id, cm.id, sizeof(t->comment_id));
    } else if (st == AG_ENOTFOUND &&
               (st = find_by_id(c, a, "replies", id, read_reply, &r, "target")) == AG_OK) {
        *t = (ag_content_target_t){
            .kind = AG_CONTENT_KIND_REPLY, .channel_id = r.channel_id, .author_id = r.author_id};
        memcpy(t->post_id, r.post_id, sizeof(t->post_id));
        memcpy(t->comment_id, r.comment_id, sizeof(t->comment_id));
    } else if (st == AG_ENOTFOUND &&
               (st = find_by_id(c, a, "dms", id, read_dm, &m, "target")) == AG_OK) {
        *t = (ag_content_target_t){
            .kind = AG_CONTENT_KIND_DM, .author_id = m.from_id, .to_id = m.to_id};
    }
    if (st == AG_OK)
        snprintf(t->id, sizeof(t->id), "%s", id);
    return st;
}

static ag_status_t
target_exists(ag_content_t *c, ag_arena_t *a, const ag_content_target_t *t)
{
    static const char     *colls[] = {"", "posts", "comments", "replies", "dms"};
    static const reader_fn rds[] = {NULL, read_post, read_comment, read_reply, read_dm};
    static const size_t    sizes[] = {0, sizeof(ag_content_post_t), sizeof(ag_content_comment_t),
                                      sizeof(ag_content_reply_t), sizeof(ag_content_dm_t)};
    void                  *rec = ag_arena_calloc(a, sizes[t->kind]);
    if (rec == NULL)
        return AG_ENOMEM;
    return find_by_id(c, a, colls[t->kind], t->id, rds[t->kind], rec, "target");
}

/* The distinct emojis of a target: whether emoji is one of them, and how many there are. */
static ag_status_t
emojis_of(ag_content_t *c, mongoc_client_t *cl, const char *target, const char *emoji, bool *has,
          int64_t *n)
{
    mongoc_collection_t *col = coll(cl, c, "reactions");
    bson_t               cmd = BSON_INITIALIZER, q, reply;
    bson_iter_t          it, arr;
    bson_error_t         e;
    ag_status_t          st = AG_OK;

    *has = false;
    *n = 0;
    BSON_APPEND_UTF8(&cmd, "distinct", "reactions");
    BSON_APPEND_UTF8(&cmd, "key", "emoji");
    BSON_APPEND_DOCUMENT_BEGIN(&cmd, "query", &q);
    by_oid(&q, "targetId", target);
    bson_append_document_end(&cmd, &q);
    if (!mongoc_collection_read_command_with_opts(col, &cmd, NULL, NULL, &reply, &e)) {
        st = fail(c, &e, "reactions");
    } else if (bson_iter_init_find(&it, &reply, "values") && BSON_ITER_HOLDS_ARRAY(&it) &&
               bson_iter_recurse(&it, &arr)) {
        while (bson_iter_next(&arr)) {
            (*n)++;
            if (BSON_ITER_HOLDS_UTF8(&arr) && strcmp(bson_iter_utf8(&arr, NULL), emoji) == 0)
                *has = true;
        }
    }
    bson_destroy(&reply);
    bson_destroy(&cmd);
    mongoc_collection_destroy(col);
    return st;
}

static void
reaction_key(bson_t *filter, const ag_content_target_t *t, const char *emoji, int64_t user_id)
{
    by_oid(filter, "targetId", t->id);
    BSON_APPEND_UTF8(filter, "emoji", emoji);
    BSON_APPEND_INT64(filter, "userId", user_id);
}

static ag_status_t
mg_reaction_add(ag_content_t *c, ag_arena_t *a, const ag_content_target_t *t, int64_t user_id,
                const char *emoji, int64_t created_at, int max_emojis, const ag_content_event_t *ev,
                bool *changed, bool *capped)
{
    mongoc_client_t     *cl = NULL;
    mongoc_collection_t *col = NULL;
    bson_t               key = BSON_INITIALIZER, doc = BSON_INITIALIZER;
    bson_oid_t           oid, evoid;
    bson_error_t         e;
    bool                 has = false;
    int64_t              n = 0;
    ag_status_t          st;

    /* the target must still be there (no reaction outlives a delete that came first) */
    if ((st = target_exists(c, a, t)) != AG_OK)
        return st;
    if ((st = get(c, &cl)) != AG_OK || (st = emojis_of(c, cl, t->id, emoji, &has, &n)) != AG_OK)
        goto out;
    if (!has && n >= max_emojis) {
        *capped = true;
        goto out;
    }
    reaction_key(&key, t, emoji, user_id);
    col = coll(cl, c, "reactions");
    if (has && (n = mongoc_collection_count_documents(col, &key, NULL, NULL, NULL, &e)) != 0) {
        st = n < 0 ? fail(c, &e, "reactions") : AG_OK; /* there already: no change */
        goto out;
    }
    bson_oid_init(&oid, NULL);
    BSON_APPEND_OID(&doc, "_id", &oid);
    bson_concat(&doc, &key);
    if (*t->post_id)
        by_oid(&doc, "postId", t->post_id);
    else
        BSON_APPEND_NULL(&doc, "postId");
    if (*t->comment_id)
        by_oid(&doc, "commentId", t->comment_id);
    else
        BSON_APPEND_NULL(&doc, "commentId");
    BSON_APPEND_DATE_TIME(&doc, "createdAt", created_at);
    if ((st = outbox_add(c, cl, ev, &evoid)) != AG_OK)
        goto out;
    st = insert(c, cl, "reactions", &doc);
    if (st != AG_OK)
        outbox_undo(c, cl, ev, &evoid);
    if (st == AG_ECONFLICT) /* a concurrent add of the same reaction won (unique index) */
        st = AG_OK;
    else if (st == AG_OK)
        *changed = true;
out:
    mongoc_collection_destroy(col);
    put(c, cl);
    bson_destroy(&key);
    bson_destroy(&doc);
    return st;
}

static ag_status_t
mg_reaction_remove(ag_content_t *c, ag_arena_t *a, const ag_content_target_t *t, int64_t user_id,
                   const char *emoji, const ag_content_event_t *ev, bool *changed)
{
    mongoc_client_t *cl = NULL;
    bson_t           key = BSON_INITIALIZER;
    bson_oid_t       evoid;
    int64_t          n = 0;
    ag_status_t      st;

    (void)a;
    if ((st = get(c, &cl)) != AG_OK)
        goto out;
    reaction_key(&key, t, emoji, user_id);
    if ((st = outbox_add(c, cl, ev, &evoid)) != AG_OK)
        goto out;
    st = delete_where(c, cl, "reactions", &key, false, &n);
    if (st != AG_OK || n == 0)
        outbox_undo(c, cl, ev, &evoid); /* nothing removed: no event */
    *changed = st == AG_OK && n > 0;
out:
    put(c, cl);
    bson_destroy(&key);
    return st;
}

/* One group of the aggregation below into its target's list. */
static bool
read_group(ag_arena_t *a, const bson_t *d, const char *const *ids, size_t n, int64_t viewer,
           ag_content_reactions_t *out)
{
    bson_iter_t it, id;
    char        target[AG_CONTENT_ID_LEN + 1] = "";
    const char *emoji = NULL;
    (void)viewer;
    if (!bson_iter_init_find(&it, d, "_id") || !BSON_ITER_HOLDS_DOCUMENT(&it) ||
        !bson_iter_recurse(&it, &id))
        return true;
    while (bson_iter_next(&id)) {
        if (strcmp(bson_iter_key(&id), "t") == 0)
            hex_of(&id, target);
        else if (strcmp(bson_iter_key(&id), "e") == 0 && BSON_ITER_HOLDS_UTF8(&id))
            emoji = ag_arena_strdup(a, bson_iter_utf8(&id, NULL));
    }
    if (emoji == NULL || !*target)
        return true;
    for (size_t i = 0; i < n; i++) {
        if (ids[i] == NULL || strcmp(ids[i], target) != 0)
            continue;
        ag_content_reactions_t *g = &out[i];
        ag_content_reaction_t  *items = ag_arena_alloc(a, (g->n + 1) * sizeof(*items));
        if (items == NULL)
            return false;
        if (g->n)
            memcpy(items, g->items, g->n * sizeof(*items));
        items[g->n] = (ag_content_reaction_t){emoji, i64_at(d, "n"), i64_at(d, "mine") > 0};
        g->items = items;
        g->n++;
    }
    return true;
}

static ag_status_t
mg_reactions(ag_content_t *c, ag_arena_t *a, const char *const *ids, size_t n, int64_t viewer_id,
             ag_content_reactions_t *out)
{
    mongoc_client_t     *cl = NULL;
    mongoc_collection_t *col = NULL;
    mongoc_cursor_t     *cur = NULL;
    const bson_t        *doc;
    bson_error_t         e;
    bson_t              *pipe = NULL;
    bson_t               in = BSON_INITIALIZER;
    ag_status_t          st;
    size_t               k = 0;

    for (size_t i = 0; i < n; i++) {
        char        key[16];
        const char *kp;
        bson_oid_t  oid;
        if (ids[i] == NULL)
            continue;
        oid_of(ids[i], &oid);
        bson_uint32_to_string((uint32_t)k++, &kp, key, sizeof(key));
        BSON_APPEND_OID(&in, kp, &oid);
    }
    /* per (target, emoji): how many, when first chosen, and whether the viewer is among them */
    pipe = BCON_NEW("pipeline", "[", "{", "$match", "{", "targetId", "{", "$in", BCON_ARRAY(&in),
                    "}", "}", "}", "{", "$group", "{", "_id", "{", "t", BCON_UTF8("$targetId"), "e",
                    BCON_UTF8("$emoji"), "}", "n", "{", "$sum", BCON_INT32(1), "}", "first", "{",
                    "$min", BCON_UTF8("$createdAt"), "}", "mine", "{", "$max", "{", "$cond", "[",
                    "{", "$eq", "[", BCON_UTF8("$userId"), BCON_INT64(viewer_id), "]", "}",
                    BCON_INT32(1), BCON_INT32(0), "]", "}", "}", "}", "}", "{", "$sort", "{",
                    "first", BCON_INT32(1), "_id.e", BCON_INT32(1), "}", "}", "]");
    if ((st = get(c, &cl)) != AG_OK)
        goto out;
    col = coll(cl, c, "reactions");
    cur = mongoc_collection_aggregate(col, MONGOC_QUERY_NONE, pipe, NULL, NULL);
    while (mongoc_cursor_next(cur, &doc))
        if (!read_group(a, doc, ids, n, viewer_id, out)) {
            st = AG_ENOMEM;
            goto out;
        }
    if (mongoc_cursor_error(cur, &e))
        st = fail(c, &e, "reactions");
out:
    mongoc_cursor_destroy(cur);
    mongoc_collection_destroy(col);
    put(c, cl);
    bson_destroy(pipe);
    bson_destroy(&in);
    return st;
}

/* ---- outbox
 * --------------------------------------------------------------------------------------------- */

static ag_status_t
mg_outbox_pending(ag_content_t *c, ag_arena_t *a, int older_than_s, int64_t due_ms, int limit,
                  ag_content_outbox_t **items, size_t *n)
{
    bson_t      filter = BSON_INITIALIZER, opts = BSON_INITIALIZER, lte, arr, c0, c1, due;
    ag_status_t st;
    BSON_APPEND_NULL(&filter, "publishedAt");
    BSON_APPEND_DOCUMENT_BEGIN(&filter, "createdAt", &lte);
    BSON_APPEND_DATE_TIME(&lte, "$lte", ag_now_wall_ms() - (int64_t)older_than_s * 1000);
    bson_append_document_end(&filter, &lte);
    /* due: never deferred (no nextTryAt, or null) or deferred to due_ms at the latest */
    BSON_APPEND_ARRAY_BEGIN(&filter, "$or", &arr);
    BSON_APPEND_DOCUMENT_BEGIN(&arr, "0", &c0);
    BSON_APPEND_NULL(&c0, "nextTryAt");
    bson_append_document_end(&arr, &c0);
    BSON_APPEND_DOCUMENT_BEGIN(&arr, "1", &c1);
    BSON_APPEND_DOCUMENT_BEGIN(&c1, "nextTryAt", &due);
    BSON_APPEND_DATE_TIME(&due, "$lte", due_ms);
    bson_append_document_end(&c1, &due);
    bson_append_document_end(&arr, &c1);
    bson_append_array_end(&filter, &arr);
    list_opts(&opts, false, limit);
    st = find_many(c, a, "outbox", &filter, &opts, limit, read_outbox, sizeof(**items),
                   (void **)items, n);
    bson_destroy(&filter);
    bson_destroy(&opts);
    return st;
}

static ag_status_t
mg_outbox_retry(ag_content_t *c, const char *msg_id, int64_t next_try_ms, const char *why,
                int64_t *attempts)
{
    mongoc_client_t     *cl = NULL;
    mongoc_collection_t *col = NULL;
    bson_t               query = BSON_INITIALIZER, update = BSON_INITIALIZER, inc, set, reply;
    bson_iter_t          it;
    bson_error_t         e;
    ag_status_t          st;

    bson_init(&reply); /* find_and_modify initializes it again: destroyed just before */
    if ((st = get(c, &cl)) != AG_OK)
        goto out;
    col = coll(cl, c, "outbox");
    BSON_APPEND_UTF8(&query, "msgId", msg_id);
    BSON_APPEND_DOCUMENT_BEGIN(&update, "$inc", &inc);
    BSON_APPEND_INT64(&inc, "attempts", 1);
    bson_append_document_end(&update, &inc);
    BSON_APPEND_DOCUMENT_BEGIN(&update, "$set", &set);
    BSON_APPEND_DATE_TIME(&set, "nextTryAt", next_try_ms);
    BSON_APPEND_UTF8(&set, "lastError", why);
    bson_append_document_end(&update, &set);
    bson_destroy(&reply);
    if (!mongoc_collection_find_and_modify(col, &query, NULL, &update, NULL, false, false, true,
                                           &reply, &e)) {
        st = fail(c, &e, "outbox");
    } else if (bson_iter_init_find(&it, &reply, "value") && BSON_ITER_HOLDS_DOCUMENT(&it)) {
        const uint8_t *data;
        uint32_t       len;
        bson_t         value;
        bson_iter_document(&it, &len, &data);
        if (bson_init_static(&value, data, len))
            *attempts = i64_at(&value, "attempts");
    } else {
        st = ag_content__fail(c, AG_ENOTFOUND, "outbox: no event %s", msg_id);
    }
out:
    bson_destroy(&reply);
    mongoc_collection_destroy(col);
    put(c, cl);
    bson_destroy(&query);
    bson_destroy(&update);
    return st;
}

static ag_status_t
mg_outbox_backlog(ag_content_t *c, ag_arena_t *a, ag_content_outbox_backlog_t *out)
{
    mongoc_client_t     *cl = NULL;
    mongoc_collection_t *col = NULL;
    ag_content_outbox_t *first = NULL;
    bson_t               filter = BSON_INITIALIZER, opts = BSON_INITIALIZER;
    bson_error_t         e;
    size_t               n = 0;
    ag_status_t          st;

    BSON_APPEND_NULL(&filter, "publishedAt");
    if ((st = get(c, &cl)) != AG_OK)
        goto out;
    col = coll(cl, c, "outbox");
    out->n = mongoc_collection_count_documents(col, &filter, NULL, NULL, NULL, &e);
    if (out->n < 0) {
        out->n = 0;
        st = fail(c, &e, "outbox");
        goto out;
    }
    mongoc_collection_destroy(col);
    col = NULL;
    put(c, cl); /* find_many takes a client of its own */
    cl = NULL;
    list_opts(&opts, false, 1);
    st = find_many(c, a, "outbox", &filter, &opts, 1, read_outbox, sizeof(*first), (void **)&first,
                   &n);
    if (st == AG_OK && n == 1)
        out->oldest = *first;
    else if (st == AG_OK)
        out->n = 0; /* published between the two reads */
out:
    mongoc_collection_destroy(col);
    put(c, cl);
    bson_destroy(&filter);
    bson_destroy(&opts);
    return st;
}

static ag_status_t
mg_outbox_mark(ag_content_t *c, const char *msg_id)
{
    mongoc_client_t     *cl = NULL;
    mongoc_collection_t *col = NULL;
    bson_t               filter = BSON_INITIALIZER, update = BSON_INITIALIZER, set, reply;
    bson_error_t         e;
    ag_status_t          st;

    if ((st = get(c, &cl)) != AG_OK)
        goto out;
    col = coll(cl, c, "outbox");
    /* only the unmarked: a second mark keeps the first publishedAt */
    BSON_APPEND_UTF8(&filter, "msgId", msg_id);
    BSON_APPEND_NULL(&filter, "publishedAt");
    BSON_APPEND_DOCUMENT_BEGIN(&update, "$set", &set);
    BSON_APPEND_DATE_TIME(&set, "publishedAt", ag_now_wall_ms());
    bson_append_document_end(&update, &set);
    if (!mongoc_collection_update_many(col, &filter, &update, NULL, &reply, &e)) {
        st = fail(c, &e, "outbox");
    } else if (i64_at(&reply, "matchedCount") == 0) {
        bson_t  q = BSON_INITIALIZER;
        int64_t n;
        BSON_APPEND_UTF8(&q, "msgId", msg_id);
        n = mongoc_collection_count_documents(col, &q, NULL, NULL, NULL, &e);
        if (n < 0)
            st = fail(c, &e, "outbox");
        else if (n == 0)
            st = ag_content__fail(c, AG_ENOTFOUND, "outbox: no event %s", msg_id);
        bson_destroy(&q);
    }
    bson_destroy(&reply);
out:
    mongoc_collection_destroy(col);
    put(c, cl);
    bson_destroy(&filter);
    bson_destroy(&update);
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
    .comment_edit = mg_comment_edit,
    .comment_delete = mg_comment_delete,
    .reply_edit = mg_reply_edit,
    .reply_delete = mg_reply_delete,
    .dm_edit = mg_dm_edit,
    .dm_delete = mg_dm_delete,
    .target_get = mg_target_get,
    .reaction_add = mg_reaction_add,
    .reaction_remove = mg_reaction_remove,
    .reactions = mg_reactions,
    .dm_insert = mg_dm_insert,
    .dm_get = mg_dm_get,
    .dm_list = mg_dm_list,
    .outbox_pending = mg_outbox_pending,
    .outbox_mark = mg_outbox_mark,
    .outbox_retry = mg_outbox_retry,
    .outbox_backlog = mg_outbox_backlog,
};

/*
 * Timeouts the URI does not set: a store that is down must fail a request
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
