/*
 * lib/content/content_mongo_edits.c — the MongoDB backend's edits and deletes
 * of comments, replies and DMs, and reactions (content_mongo.c has the rest).
 */
#include "content/content_mongo_int.h"
#include "log/log.h"

#include <stdio.h>
#include <string.h>

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

    if ((st = ag_content__mg_get(c, &cl)) != AG_OK)
        goto out;
    BSON_APPEND_DOCUMENT_BEGIN(&update, "$set", &set);
    BSON_APPEND_UTF8(&set, "body", body);
    BSON_APPEND_DATE_TIME(&set, "editedAt", edited_at);
    bson_append_document_end(&update, &set);
    if ((st = ag_content__mg_outbox_add(c, cl, ev, &evoid)) != AG_OK)
        goto out;
    st = ag_content__mg_modify(c, cl, a, cname, id, &update, rd, rec, &found);
    if (st == AG_OK && !found)
        st = ag_content__fail(c, AG_ENOTFOUND, "%s: no such id", what);
    if (st != AG_OK)
        ag_content__mg_outbox_undo(c, cl, ev, &evoid);
out:
    ag_content__mg_put(c, cl);
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

ag_status_t
ag_content__mg_comment_edit(ag_content_t *c, ag_arena_t *a, const char *id, const char *body,
                            int64_t edited_at, const ag_content_event_t *ev,
                            ag_content_comment_t **out)
{
    MG_EDIT("comments", ag_content_comment_t, ag_content__mg_read_comment, "comment");
}

ag_status_t
ag_content__mg_reply_edit(ag_content_t *c, ag_arena_t *a, const char *id, const char *body,
                          int64_t edited_at, const ag_content_event_t *ev, ag_content_reply_t **out)
{
    MG_EDIT("replies", ag_content_reply_t, ag_content__mg_read_reply, "reply");
}

ag_status_t
ag_content__mg_dm_edit(ag_content_t *c, ag_arena_t *a, const char *id, const char *body,
                       int64_t edited_at, const ag_content_event_t *ev, ag_content_dm_t **out)
{
    MG_EDIT("dms", ag_content_dm_t, ag_content__mg_read_dm, "direct message");
}

/* A filter {field: ObjectId(id)}. */
static void
by_oid(bson_t *filter, const char *field, const char *id)
{
    bson_oid_t oid;
    ag_content__mg_oid_of(id, &oid);
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

    if ((st = ag_content__mg_get(c, &cl)) != AG_OK)
        goto out;
    by_oid(&reacts, d->react_field, id);
    by_oid(&self, "_id", id);
    if ((st = ag_content__mg_outbox_add(c, cl, ev, &evoid)) != AG_OK)
        goto out;
    if (d->child_coll) {
        by_oid(&children, d->child_field, id);
        st = ag_content__mg_delete_where(c, cl, d->child_coll, &children, true, NULL);
    }
    if (st == AG_OK)
        st = ag_content__mg_delete_where(c, cl, "reactions", &reacts, true, NULL);
    if (st == AG_OK)
        st = ag_content__mg_delete_where(c, cl, d->cname, &self, false, &n);
    if (st == AG_OK && n == 0)
        st = ag_content__fail(c, AG_ENOTFOUND, "%s: no such id", d->what);
    if (st != AG_OK) {
        ag_content__mg_outbox_undo(c, cl, ev, &evoid);
        goto out;
    }
    if (d->pcoll && parent_id && *parent_id)
        ag_content__mg_inc_undo(c, cl, d->pcoll, parent_id,
                                d->counter); /* the -1 of a child gone */
out:
    ag_content__mg_put(c, cl);
    bson_destroy(&children);
    bson_destroy(&reacts);
    bson_destroy(&self);
    return st;
}

ag_status_t
ag_content__mg_comment_delete(ag_content_t *c, ag_arena_t *a, const char *id,
                              const ag_content_event_t *ev)
{
    static const delete_plan_t d = {"comments",  "comment", "replies",     "commentId",
                                    "commentId", "posts",   "commentCount"};
    ag_content_comment_t       cm;
    ag_status_t st = ag_content__mg_find_by_id(c, a, "comments", id, ag_content__mg_read_comment,
                                               &cm, "comment");
    return st != AG_OK ? st : delete_doc(c, &d, id, cm.post_id, ev);
}

ag_status_t
ag_content__mg_reply_delete(ag_content_t *c, ag_arena_t *a, const char *id,
                            const ag_content_event_t *ev)
{
    static const delete_plan_t d = {"replies",  "reply",    NULL,        NULL,
                                    "targetId", "comments", "replyCount"};
    ag_content_reply_t         r;
    ag_status_t                st =
        ag_content__mg_find_by_id(c, a, "replies", id, ag_content__mg_read_reply, &r, "reply");
    return st != AG_OK ? st : delete_doc(c, &d, id, r.comment_id, ev);
}

ag_status_t
ag_content__mg_dm_delete(ag_content_t *c, ag_arena_t *a, const char *id,
                         const ag_content_event_t *ev)
{
    static const delete_plan_t d = {"dms", "direct message", NULL, NULL, "targetId", NULL, NULL};
    (void)a;
    return delete_doc(c, &d, id, NULL, ev);
}

/* ---- reactions --------------------------------------------------------------------------------
 */

ag_status_t
ag_content__mg_target_get(ag_content_t *c, ag_arena_t *a, const char *id, ag_content_target_t *t)
{
    ag_content_post_t    p;
    ag_content_comment_t cm;
    ag_content_reply_t   r;
    ag_content_dm_t      m;
    ag_status_t          st;

    /* ids are unique across the collections by construction: the first hit is the one */
    if ((st = ag_content__mg_find_by_id(c, a, "posts", id, ag_content__mg_read_post, &p,
                                        "target")) == AG_OK) {
        *t = (ag_content_target_t){
            .kind = AG_CONTENT_KIND_POST, .channel_id = p.channel_id, .author_id = p.author_id};
        memcpy(t->post_id, p.id, sizeof(t->post_id));
    } else if (st == AG_ENOTFOUND &&
               (st = ag_content__mg_find_by_id(c, a, "comments", id, ag_content__mg_read_comment,
                                               &cm, "target")) == AG_OK) {
        *t = (ag_content_target_t){.kind = AG_CONTENT_KIND_COMMENT,
                                   .channel_id = cm.channel_id,
                                   .author_id = cm.author_id};
        memcpy(t->post_id, cm.post_id, sizeof(t->post_id));
        memcpy(t->comment_id, cm.id, sizeof(t->comment_id));
    } else if (st == AG_ENOTFOUND &&
               (st = ag_content__mg_find_by_id(c, a, "replies", id, ag_content__mg_read_reply, &r,
                                               "target")) == AG_OK) {
        *t = (ag_content_target_t){
            .kind = AG_CONTENT_KIND_REPLY, .channel_id = r.channel_id, .author_id = r.author_id};
        memcpy(t->post_id, r.post_id, sizeof(t->post_id));
        memcpy(t->comment_id, r.comment_id, sizeof(t->comment_id));
    } else if (st == AG_ENOTFOUND &&
               (st = ag_content__mg_find_by_id(c, a, "dms", id, ag_content__mg_read_dm, &m,
                                               "target")) == AG_OK) {
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
    static const reader_fn rds[] = {NULL, ag_content__mg_read_post, ag_content__mg_read_comment,
                                    ag_content__mg_read_reply, ag_content__mg_read_dm};
    static const size_t    sizes[] = {0, sizeof(ag_content_post_t), sizeof(ag_content_comment_t),
                                      sizeof(ag_content_reply_t), sizeof(ag_content_dm_t)};
    void                  *rec = ag_arena_calloc(a, sizes[t->kind]);
    if (rec == NULL)
        return AG_ENOMEM;
    return ag_content__mg_find_by_id(c, a, colls[t->kind], t->id, rds[t->kind], rec, "target");
}

/* The distinct emojis of a target: whether emoji is one of them, and how many there are. */
static ag_status_t
emojis_of(ag_content_t *c, mongoc_client_t *cl, const char *target, const char *emoji, bool *has,
          int64_t *n)
{
    mongoc_collection_t *col = ag_content__mg_coll(cl, c, "reactions");
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
        st = ag_content__mg_fail(c, &e, "reactions");
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

ag_status_t
ag_content__mg_reaction_add(ag_content_t *c, ag_arena_t *a, const ag_content_target_t *t,
                            int64_t user_id, const char *emoji, int64_t created_at, int max_emojis,
                            const ag_content_event_t *ev, bool *changed, bool *capped)
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
    if ((st = ag_content__mg_get(c, &cl)) != AG_OK ||
        (st = emojis_of(c, cl, t->id, emoji, &has, &n)) != AG_OK)
        goto out;
    if (!has && n >= max_emojis) {
        *capped = true;
        goto out;
    }
    reaction_key(&key, t, emoji, user_id);
    col = ag_content__mg_coll(cl, c, "reactions");
    if (has && (n = mongoc_collection_count_documents(col, &key, NULL, NULL, NULL, &e)) != 0) {
        st = n < 0 ? ag_content__mg_fail(c, &e, "reactions") : AG_OK; /* there already: no change */
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
    if ((st = ag_content__mg_outbox_add(c, cl, ev, &evoid)) != AG_OK)
        goto out;
    st = ag_content__mg_insert(c, cl, "reactions", &doc);
    if (st != AG_OK)
        ag_content__mg_outbox_undo(c, cl, ev, &evoid);
    if (st == AG_ECONFLICT) /* a concurrent add of the same reaction won (unique index) */
        st = AG_OK;
    else if (st == AG_OK)
        *changed = true;
out:
    mongoc_collection_destroy(col);
    ag_content__mg_put(c, cl);
    bson_destroy(&key);
    bson_destroy(&doc);
    return st;
}

ag_status_t
ag_content__mg_reaction_remove(ag_content_t *c, ag_arena_t *a, const ag_content_target_t *t,
                               int64_t user_id, const char *emoji, const ag_content_event_t *ev,
                               bool *changed)
{
    mongoc_client_t *cl = NULL;
    bson_t           key = BSON_INITIALIZER;
    bson_oid_t       evoid;
    int64_t          n = 0;
    ag_status_t      st;

    (void)a;
    if ((st = ag_content__mg_get(c, &cl)) != AG_OK)
        goto out;
    reaction_key(&key, t, emoji, user_id);
    if ((st = ag_content__mg_outbox_add(c, cl, ev, &evoid)) != AG_OK)
        goto out;
    st = ag_content__mg_delete_where(c, cl, "reactions", &key, false, &n);
    if (st != AG_OK || n == 0)
        ag_content__mg_outbox_undo(c, cl, ev, &evoid); /* nothing removed: no event */
    *changed = st == AG_OK && n > 0;
out:
    ag_content__mg_put(c, cl);
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
            ag_content__mg_hex_of(&id, target);
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
        items[g->n] = (ag_content_reaction_t){emoji, ag_content__mg_i64_at(d, "n"),
                                              ag_content__mg_i64_at(d, "mine") > 0};
        g->items = items;
        g->n++;
    }
    return true;
}

ag_status_t
ag_content__mg_reactions(ag_content_t *c, ag_arena_t *a, const char *const *ids, size_t n,
                         int64_t viewer_id, ag_content_reactions_t *out)
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
        ag_content__mg_oid_of(ids[i], &oid);
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
    if ((st = ag_content__mg_get(c, &cl)) != AG_OK)
        goto out;
    col = ag_content__mg_coll(cl, c, "reactions");
    cur = mongoc_collection_aggregate(col, MONGOC_QUERY_NONE, pipe, NULL, NULL);
    while (mongoc_cursor_next(cur, &doc))
        if (!read_group(a, doc, ids, n, viewer_id, out)) {
            st = AG_ENOMEM;
            goto out;
        }
    if (mongoc_cursor_error(cur, &e))
        st = ag_content__mg_fail(c, &e, "reactions");
out:
    mongoc_cursor_destroy(cur);
    mongoc_collection_destroy(col);
    ag_content__mg_put(c, cl);
    bson_destroy(pipe);
    bson_destroy(&in);
    return st;
}
