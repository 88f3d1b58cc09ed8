/*
 * lib/content/content_mongo_outbox.c — the MongoDB backend's outbox: the
 * events still to publish, retries with backoff, the backlog, marks.
 */
#include "content/content_mongo_int.h"
#include "log/log.h"

#include <stdio.h>
#include <string.h>

/* ---- outbox
 * --------------------------------------------------------------------------------------------- */

ag_status_t
ag_content__mg_outbox_pending(ag_content_t *c, ag_arena_t *a, int older_than_s, int64_t due_ms,
                              int limit, ag_content_outbox_t **items, size_t *n)
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
    ag_content__mg_list_opts(&opts, false, limit);
    st = ag_content__mg_find_many(c, a, "outbox", &filter, &opts, limit, ag_content__mg_read_outbox,
                                  sizeof(**items), (void **)items, n);
    bson_destroy(&filter);
    bson_destroy(&opts);
    return st;
}

ag_status_t
ag_content__mg_outbox_retry(ag_content_t *c, const char *msg_id, int64_t next_try_ms,
                            const char *why, int64_t *attempts)
{
    mongoc_client_t     *cl = NULL;
    mongoc_collection_t *col = NULL;
    bson_t               query = BSON_INITIALIZER, update = BSON_INITIALIZER, inc, set, reply;
    bson_iter_t          it;
    bson_error_t         e;
    ag_status_t          st;

    bson_init(&reply); /* find_and_modify initializes it again: destroyed just before */
    if ((st = ag_content__mg_get(c, &cl)) != AG_OK)
        goto out;
    col = ag_content__mg_coll(cl, c, "outbox");
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
        st = ag_content__mg_fail(c, &e, "outbox");
    } else if (bson_iter_init_find(&it, &reply, "value") && BSON_ITER_HOLDS_DOCUMENT(&it)) {
        const uint8_t *data;
        uint32_t       len;
        bson_t         value;
        bson_iter_document(&it, &len, &data);
        if (bson_init_static(&value, data, len))
            *attempts = ag_content__mg_i64_at(&value, "attempts");
    } else {
        st = ag_content__fail(c, AG_ENOTFOUND, "outbox: no event %s", msg_id);
    }
out:
    bson_destroy(&reply);
    mongoc_collection_destroy(col);
    ag_content__mg_put(c, cl);
    bson_destroy(&query);
    bson_destroy(&update);
    return st;
}

ag_status_t
ag_content__mg_outbox_backlog(ag_content_t *c, ag_arena_t *a, ag_content_outbox_backlog_t *out)
{
    mongoc_client_t     *cl = NULL;
    mongoc_collection_t *col = NULL;
    ag_content_outbox_t *first = NULL;
    bson_t               filter = BSON_INITIALIZER, opts = BSON_INITIALIZER;
    bson_error_t         e;
    size_t               n = 0;
    ag_status_t          st;

    BSON_APPEND_NULL(&filter, "publishedAt");
    if ((st = ag_content__mg_get(c, &cl)) != AG_OK)
        goto out;
    col = ag_content__mg_coll(cl, c, "outbox");
    out->n = mongoc_collection_count_documents(col, &filter, NULL, NULL, NULL, &e);
    if (out->n < 0) {
        out->n = 0;
        st = ag_content__mg_fail(c, &e, "outbox");
        goto out;
    }
    mongoc_collection_destroy(col);
    col = NULL;
    ag_content__mg_put(c, cl); /* ag_content__mg_find_many takes a client of its own */
    cl = NULL;
    ag_content__mg_list_opts(&opts, false, 1);
    st = ag_content__mg_find_many(c, a, "outbox", &filter, &opts, 1, ag_content__mg_read_outbox,
                                  sizeof(*first), (void **)&first, &n);
    if (st == AG_OK && n == 1)
        out->oldest = *first;
    else if (st == AG_OK)
        out->n = 0; /* published between the two reads */
out:
    mongoc_collection_destroy(col);
    ag_content__mg_put(c, cl);
    bson_destroy(&filter);
    bson_destroy(&opts);
    return st;
}

ag_status_t
ag_content__mg_outbox_mark(ag_content_t *c, const char *msg_id)
{
    mongoc_client_t     *cl = NULL;
    mongoc_collection_t *col = NULL;
    bson_t               filter = BSON_INITIALIZER, update = BSON_INITIALIZER, set, reply;
    bson_error_t         e;
    ag_status_t          st;

    if ((st = ag_content__mg_get(c, &cl)) != AG_OK)
        goto out;
    col = ag_content__mg_coll(cl, c, "outbox");
    /* only the unmarked: a second mark keeps the first publishedAt */
    BSON_APPEND_UTF8(&filter, "msgId", msg_id);
    BSON_APPEND_NULL(&filter, "publishedAt");
    BSON_APPEND_DOCUMENT_BEGIN(&update, "$set", &set);
    BSON_APPEND_DATE_TIME(&set, "publishedAt", ag_now_wall_ms());
    bson_append_document_end(&update, &set);
    if (!mongoc_collection_update_many(col, &filter, &update, NULL, &reply, &e)) {
        st = ag_content__mg_fail(c, &e, "outbox");
    } else if (ag_content__mg_i64_at(&reply, "matchedCount") == 0) {
        bson_t  q = BSON_INITIALIZER;
        int64_t n;
        BSON_APPEND_UTF8(&q, "msgId", msg_id);
        n = mongoc_collection_count_documents(col, &q, NULL, NULL, NULL, &e);
        if (n < 0)
            st = ag_content__mg_fail(c, &e, "outbox");
        else if (n == 0)
            st = ag_content__fail(c, AG_ENOTFOUND, "outbox: no event %s", msg_id);
        bson_destroy(&q);
    }
    bson_destroy(&reply);
out:
    mongoc_collection_destroy(col);
    ag_content__mg_put(c, cl);
    bson_destroy(&filter);
    bson_destroy(&update);
    return st;
}
