/*
 * lib/content/content_pg.c — the PostgreSQL backend of the content store,
 * tables of sql/002_content.sql on the caller's ag_db_t.
 *
 * Every write is ONE parameterised statement whose data-modifying CTEs also
 * bump the parent's counter and insert the outbox row: a statement is atomic
 * by itself, so the write, its counter and its event commit together without
 * a BEGIN/COMMIT round trip each. The outbox insert selects from the write's
 * CTE, so no event is stored for a write that touched nothing.
 */
#include "content/content_int.h"

#include <stdio.h>
#include <string.h>

/*
 * content_ms(ts) of sql/002_content.sql, written out: that function is
 * declared IMMUTABLE over a STABLE body (extract on a timestamptz), so the
 * planner never inlines it and every row ran it as a SQL function (fmgr_sql,
 * its body parsed per statement). Inline, a 20-post page costs PostgreSQL
 * about half the CPU (pgbench: 12k → 21k pages/s). Same expression, same values.
 */
#define MS(col) "(extract(epoch FROM " col ") * 1000)::bigint"
#define POST_COLS                                                                                  \
    "id, channel_id, author_id, doc->>'body', " MS("created_at") ", " MS("edited_at") ", "         \
    "comment_count"
#define COMMENT_COLS                                                                               \
    "id, post_id, channel_id, author_id, doc->>'body', " MS("created_at") ", reply_count, " MS(    \
        "edited_at")
#define REPLY_COLS                                                                                 \
    "id, comment_id, post_id, channel_id, author_id, doc->>'body', " MS("created_at") ", " MS(     \
        "edited_at")
#define DM_COLS "id, from_id, to_id, doc->>'body', " MS("created_at") ", " MS("edited_at")

/* The outbox CTE of a write whose own CTE is named w; m, s, p: parameter numbers. */
#define OUTBOX_CTE(m, s, p)                                                                        \
    ", o AS (INSERT INTO content_outbox (msg_id, subject, payload) SELECT $" m "::text, $" s       \
    "::text, $" p "::text FROM w WHERE $" m "::text IS NOT NULL) "

static const char *
i64s(ag_arena_t *a, int64_t v)
{
    return ag_arena_printf(a, "%lld", (long long)v);
}

/* A statement on the content connection; generic: planned once per connection
 * (ag_db_exec_generic), for key lookups and keyset pages */
static ag_status_t
exec_plan(ag_content_t *c, ag_arena_t *a, bool generic, const char *sql, int n,
          const char *const *params, ag_db_res_t **out)
{
    ag_status_t st = (generic ? ag_db_exec_generic : ag_db_exec)(c->db, a, sql, n, params, out);
    if (st != AG_OK)
        ag_content__fail(c, st, "postgres: %s", ag_db_error(c->db));
    return st;
}

static ag_status_t
exec(ag_content_t *c, ag_arena_t *a, const char *sql, int n, const char *const *params,
     ag_db_res_t **out)
{
    return exec_plan(c, a, false, sql, n, params, out);
}

static void
copy_id(char dst[AG_CONTENT_ID_LEN + 1], const char *src)
{
    snprintf(dst, AG_CONTENT_ID_LEN + 1, "%s", src ? src : "");
}

/* ---- row readers (column order of the *_COLS lists) ----------------------------- */

static void
read_post(ag_db_res_t *r, int row, ag_content_post_t *p)
{
    copy_id(p->id, ag_db_val(r, row, 0));
    p->channel_id = ag_db_i64(r, row, 1);
    p->author_id = ag_db_i64(r, row, 2);
    p->body = ag_db_val(r, row, 3); /* lives as long as the result, i.e. the arena */
    p->created_at = ag_db_i64(r, row, 4);
    p->edited_at = ag_db_i64(r, row, 5);
    p->comment_count = ag_db_i64(r, row, 6);
}

static void
read_comment(ag_db_res_t *r, int row, ag_content_comment_t *cm)
{
    copy_id(cm->id, ag_db_val(r, row, 0));
    copy_id(cm->post_id, ag_db_val(r, row, 1));
    cm->channel_id = ag_db_i64(r, row, 2);
    cm->author_id = ag_db_i64(r, row, 3);
    cm->body = ag_db_val(r, row, 4);
    cm->created_at = ag_db_i64(r, row, 5);
    cm->reply_count = ag_db_i64(r, row, 6);
    cm->edited_at = ag_db_i64(r, row, 7);
}

static void
read_reply(ag_db_res_t *r, int row, ag_content_reply_t *rp)
{
    copy_id(rp->id, ag_db_val(r, row, 0));
    copy_id(rp->comment_id, ag_db_val(r, row, 1));
    copy_id(rp->post_id, ag_db_val(r, row, 2));
    rp->channel_id = ag_db_i64(r, row, 3);
    rp->author_id = ag_db_i64(r, row, 4);
    rp->body = ag_db_val(r, row, 5);
    rp->created_at = ag_db_i64(r, row, 6);
    rp->edited_at = ag_db_i64(r, row, 7);
}

static void
read_dm(ag_db_res_t *r, int row, ag_content_dm_t *m)
{
    copy_id(m->id, ag_db_val(r, row, 0));
    m->from_id = ag_db_i64(r, row, 1);
    m->to_id = ag_db_i64(r, row, 2);
    m->body = ag_db_val(r, row, 3);
    m->created_at = ag_db_i64(r, row, 4);
    m->edited_at = ag_db_i64(r, row, 5);
}

/*
 * Run a list query and read its rows into page->items. The first-page and
 * after-cursor statements differ only in one condition; both are constant
 * text so that the planner sees the row comparison and uses the index.
 */
#define PG_LIST(c, a, sql_first, sql_after, key_param, limit, after, page, T, reader)              \
    do {                                                                                           \
        ag_db_res_t *r__;                                                                          \
        ag_status_t  st__;                                                                         \
        const char  *p__[4] = {(key_param), i64s((a), (limit)), NULL, NULL};                       \
        if ((after)->set) {                                                                        \
            p__[2] = i64s((a), (after)->ts);                                                       \
            p__[3] = (after)->id;                                                                  \
        }                                                                                          \
        st__ = exec((c), (a), (after)->set ? (sql_after) : (sql_first), (after)->set ? 4 : 2, p__, \
                    &r__);                                                                         \
        if (st__ != AG_OK)                                                                         \
            return st__;                                                                           \
        int rows__ = ag_db_rows(r__);                                                              \
        if (((page)->items = ag_arena_calloc((a), (size_t)(rows__ ? rows__ : 1) * sizeof(T))) ==   \
            NULL)                                                                                  \
            return AG_ENOMEM;                                                                      \
        for (int i__ = 0; i__ < rows__; i__++)                                                     \
            reader(r__, i__, &(page)->items[i__]);                                                 \
        (page)->n = (size_t)rows__;                                                                \
        return AG_OK;                                                                              \
    } while (0)

/*
 * Body of a get-by-id: one row of sql ($1 = id) read by reader into a record
 * of type T from the arena; AG_ENOTFOUND naming what when there is none.
 */
#define PG_GET(c, a, sql, id, what, T, reader, out)                                                \
    do {                                                                                           \
        const char  *p__[1] = {(id)};                                                             \
        ag_db_res_t *r__;                                                                          \
        T           *v__;                                                                          \
        ag_status_t  st__ = exec((c), (a), (sql), 1, p__, &r__);                                   \
        if (st__ != AG_OK)                                                                         \
            return st__;                                                                           \
        if (ag_db_rows(r__) == 0)                                                                  \
            return ag_content__fail((c), AG_ENOTFOUND, what ": no such id");                      \
        if ((v__ = ag_arena_calloc((a), sizeof(*v__))) == NULL)                                    \
            return AG_ENOMEM;                                                                      \
        reader(r__, 0, v__);                                                                       \
        *(out) = v__;                                                                              \
        return AG_OK;                                                                              \
    } while (0)

/* ---- health ------------------------------------------------------------------------ */

static ag_status_t
pg_health(ag_content_t *c)
{
    ag_status_t st = ag_db_health(c->db);
    if (st != AG_OK)
        ag_content__fail(c, AG_EUNAVAIL, "postgres: %s", ag_db_error(c->db));
    return st;
}

static void
pg_close(ag_content_t *c)
{
    c->db = NULL; /* the caller's */
}

/* ---- posts --------------------------------------------------------------------------- */

static ag_status_t
pg_post_insert(ag_content_t *c, ag_arena_t *a, const ag_content_post_t *p,
               const ag_content_event_t *ev)
{
    const char *params[] = {
        p->id,   i64s(a, p->channel_id), i64s(a, p->author_id),   i64s(a, p->created_at),
        p->body, ev ? ev->msg_id : NULL, ev ? ev->subject : NULL, ev ? ev->payload : NULL};
    return exec(c, a,
                "WITH w AS (INSERT INTO posts (id, channel_id, author_id, created_at, doc) "
                "VALUES ($1, $2, $3, content_ts($4), jsonb_build_object('body', $5::text)) "
                "RETURNING id)" OUTBOX_CTE("6", "7", "8") "SELECT id FROM w",
                8, params, NULL);
}

static ag_status_t
pg_post_get(ag_content_t *c, ag_arena_t *a, const char *id, ag_content_post_t **out)
{
    PG_GET(c, a, "SELECT " POST_COLS " FROM posts WHERE id = $1", id, "post",
           ag_content_post_t, read_post, out);
}

static ag_status_t
pg_post_edit(ag_content_t *c, ag_arena_t *a, const char *id, const char *body, int64_t edited_at,
             const ag_content_event_t *ev, ag_content_post_t **out)
{
    const char        *params[] = {id,
                                   body,
                                   i64s(a, edited_at),
                            ev ? ev->msg_id : NULL,
                            ev ? ev->subject : NULL,
                            ev ? ev->payload : NULL};
    ag_db_res_t       *r;
    ag_content_post_t *p;
    ag_status_t        st;

    st = exec(c, a,
              "WITH w AS (UPDATE posts SET doc = jsonb_set(doc, '{body}', to_jsonb($2::text)), "
              "edited_at = content_ts($3) WHERE id = $1 RETURNING *)" OUTBOX_CTE(
                  "4", "5", "6") "SELECT " POST_COLS " FROM w",
              6, params, &r);
    if (st != AG_OK)
        return st;
    if (ag_db_rows(r) == 0)
        return ag_content__fail(c, AG_ENOTFOUND, "post: no such id");
    if ((p = ag_arena_calloc(a, sizeof(*p))) == NULL)
        return AG_ENOMEM;
    read_post(r, 0, p);
    *out = p;
    return AG_OK;
}

static ag_status_t
pg_post_delete(ag_content_t *c, ag_arena_t *a, const char *id, const ag_content_event_t *ev)
{
    const char  *params[] = {id, ev ? ev->msg_id : NULL, ev ? ev->subject : NULL,
                            ev ? ev->payload : NULL};
    ag_db_res_t *r;
    ag_status_t  st;

    /* comments and replies go with it: ON DELETE CASCADE; reactions of all of them by post_id */
    st = exec(c, a,
              "WITH w AS (DELETE FROM posts WHERE id = $1 RETURNING id), "
              "x AS (DELETE FROM reactions WHERE post_id = (SELECT id FROM w))" OUTBOX_CTE(
                  "2", "3", "4") "SELECT id FROM w",
              4, params, &r);
    if (st != AG_OK)
        return st;
    return ag_db_rows(r) ? AG_OK : ag_content__fail(c, AG_ENOTFOUND, "post: no such id");
}

static ag_status_t
pg_post_list(ag_content_t *c, ag_arena_t *a, int64_t channel_id, int limit,
             const ag_content__after_t *after, ag_content_post_page_t *out)
{
    PG_LIST(c, a,
            "SELECT " POST_COLS " FROM posts WHERE channel_id = $1 "
            "ORDER BY created_at DESC, id DESC LIMIT $2",
            "SELECT " POST_COLS " FROM posts WHERE channel_id = $1 "
            "AND (created_at, id) < (content_ts($3), $4) "
            "ORDER BY created_at DESC, id DESC LIMIT $2",
            i64s(a, channel_id), limit, after, out, ag_content_post_t, read_post);
}

/*
 * The reads with access and authors: one statement instead of three round
 * trips (channel access in PostgreSQL, the posts, the authors from Redis).
 * Columns: POST_AS_COLS, then the author's username and display_name; the
 * page adds the access columns first.
 */
#define POST_AS_COLS                                                                               \
    "p.id, p.channel_id, p.author_id, p.doc->>'body', " MS("p.created_at") ", " MS(                \
        "p.edited_at") ", p.comment_count, u.username, u.display_name, u.avatar_url"

static void
read_post_as(ag_db_res_t *r, int row, int col0, ag_content_post_t *p)
{
    copy_id(p->id, ag_db_val(r, row, col0));
    p->channel_id = ag_db_i64(r, row, col0 + 1);
    p->author_id = ag_db_i64(r, row, col0 + 2);
    p->body = ag_db_val(r, row, col0 + 3);
    p->created_at = ag_db_i64(r, row, col0 + 4);
    p->edited_at = ag_db_i64(r, row, col0 + 5);
    p->comment_count = ag_db_i64(r, row, col0 + 6);
    p->author_username = ag_db_val(r, row, col0 + 7);
    p->author_display_name = p->author_username ? ag_db_val(r, row, col0 + 8) : NULL;
    p->author_avatar_url = p->author_username ? ag_db_val(r, row, col0 + 9) : NULL;
    /* users.username is NOT NULL: a NULL is the LEFT JOIN finding no user */
    p->author_deleted = p->author_username == NULL;
}

/*
 * The channel's row with the reader's membership, and the page as a lateral
 * subquery gated on readability, so that a forbidden channel reads no post.
 * No channel: no row. Readable but empty, or not readable: one row whose post
 * columns are NULL. The outer ORDER BY keeps the page's order whatever the
 * join does (a sort of first + 1 rows).
 */
#define PAGE_AS_SQL(after_cond)                                                                    \
    "SELECT c.visibility = 'public', m.role, p.* FROM channels c "                                 \
    "LEFT JOIN memberships m ON m.channel_id = c.id AND m.user_id = $3::bigint "                  \
    "LEFT JOIN LATERAL (SELECT " POST_AS_COLS ", p.created_at AS ts_ FROM posts p "              \
    "LEFT JOIN users u ON u.id = p.author_id "                                                     \
    "WHERE p.channel_id = c.id AND (c.visibility = 'public' OR m.role IS NOT NULL) " after_cond  \
    " ORDER BY p.created_at DESC, p.id DESC LIMIT $2) p ON true "                                 \
    "WHERE c.id = $1::bigint ORDER BY p.ts_ DESC, p.id DESC"

static ag_status_t
pg_post_list_as(ag_content_t *c, ag_arena_t *a, int64_t channel_id, int64_t reader_id, int limit,
                const ag_content__after_t *after, ag_content_access_t *access,
                ag_content_post_page_t *out)
{
    const char  *p[5] = {i64s(a, channel_id), i64s(a, limit), i64s(a, reader_id), NULL, NULL};
    ag_db_res_t *r;
    ag_status_t  st;
    int          rows, n = 0;

    if (after->set) {
        p[3] = i64s(a, after->ts);
        p[4] = after->id;
    }
    st = exec_plan(c, a, true,
              after->set ? PAGE_AS_SQL("AND (p.created_at, p.id) < (content_ts($4), $5)")
                         : PAGE_AS_SQL(""),
              after->set ? 5 : 3, p, &r);
    if (st != AG_OK)
        return st;
    rows = ag_db_rows(r);
    if (rows == 0)
        return AG_OK; /* no such channel: access->exists stays false */
    access->exists = true;
    access->is_public = ag_db_bool(r, 0, 0);
    access->role = ag_db_val(r, 0, 1);
    if ((out->items = ag_arena_calloc(a, (size_t)rows * sizeof(*out->items))) == NULL)
        return AG_ENOMEM;
    for (int i = 0; i < rows; i++)
        if (!ag_db_isnull(r, i, 2))
            read_post_as(r, i, 2, &out->items[n++]);
    out->n = (size_t)n;
    return AG_OK;
}

static ag_status_t
pg_post_get_as(ag_content_t *c, ag_arena_t *a, const char *id, int64_t reader_id,
               ag_content_access_t *access, ag_content_post_t **out)
{
    const char        *p[2] = {id, i64s(a, reader_id)};
    ag_db_res_t       *r;
    ag_content_post_t *v;
    ag_status_t        st;

    st = exec_plan(c, a, true,
              "SELECT " POST_AS_COLS ", ch.id IS NOT NULL, ch.visibility = 'public', m.role "
              "FROM posts p LEFT JOIN users u ON u.id = p.author_id "
              "LEFT JOIN channels ch ON ch.id = p.channel_id "
              "LEFT JOIN memberships m ON m.channel_id = ch.id AND m.user_id = $2::bigint "
              "WHERE p.id = $1",
              2, p, &r);
    if (st != AG_OK)
        return st;
    if (ag_db_rows(r) == 0)
        return ag_content__fail(c, AG_ENOTFOUND, "post: no such id");
    if ((v = ag_arena_calloc(a, sizeof(*v))) == NULL)
        return AG_ENOMEM;
    read_post_as(r, 0, 0, v);
    access->exists = ag_db_bool(r, 0, 10);
    access->is_public = ag_db_bool(r, 0, 11);
    access->role = ag_db_val(r, 0, 12);
    *out = v;
    return AG_OK;
}

static ag_status_t
pg_post_get_many(ag_content_t *c, ag_arena_t *a, const char *const *ids, size_t n,
                 ag_content_post_t **out)
{
    ag_buf_t     arr;
    ag_db_res_t *r;
    ag_status_t  st = AG_OK;
    const char  *params[1];

    /* ids are checked hex, so the array literal needs no quoting */
    ag_buf_init(&arr);
    ag_buf_puts(&arr, "{");
    for (size_t i = 0; i < n; i++)
        if (ids[i])
            ag_buf_printf(&arr, "%s%s", arr.len > 1 ? "," : "", ids[i]);
    if (ag_buf_puts(&arr, "}") != AG_OK || (params[0] = ag_arena_strdup(a, arr.data)) == NULL)
        st = AG_ENOMEM;
    ag_buf_fini(&arr);
    if (st != AG_OK)
        return st;
    st = exec(c, a, "SELECT " POST_COLS " FROM posts WHERE id = ANY ($1::text[])", 1, params, &r);
    if (st != AG_OK)
        return st;
    for (int row = 0; row < ag_db_rows(r); row++) {
        ag_content_post_t *p = ag_arena_calloc(a, sizeof(*p));
        if (p == NULL)
            return AG_ENOMEM;
        read_post(r, row, p);
        for (size_t i = 0; i < n; i++) /* n <= AG_CONTENT_FIRST_MAX: quadratic is fine */
            if (ids[i] && strcmp(ids[i], p->id) == 0)
                out[i] = p;
    }
    return AG_OK;
}

/* ---- comments and replies -------------------------------------------------------------- */

static ag_status_t
pg_comment_insert(ag_content_t *c, ag_arena_t *a, ag_content_comment_t *cm,
                  const ag_content_event_t *ev)
{
    const char  *params[] = {cm->id,
                             cm->post_id,
                             i64s(a, cm->author_id),
                             i64s(a, cm->created_at),
                             cm->body,
                            ev ? ev->msg_id : NULL,
                            ev ? ev->subject : NULL,
                            ev ? ev->payload : NULL};
    ag_db_res_t *r;
    ag_status_t  st;

    st = exec(
        c, a,
        "WITH p AS (UPDATE posts SET comment_count = comment_count + 1 WHERE id = $2 "
        "RETURNING channel_id), "
        "w AS (INSERT INTO comments (id, post_id, channel_id, author_id, created_at, doc) "
        "SELECT $1, $2, p.channel_id, $3, content_ts($4), jsonb_build_object('body', $5::text) "
        "FROM p RETURNING channel_id)" OUTBOX_CTE("6", "7", "8") "SELECT channel_id FROM w",
        8, params, &r);
    if (st != AG_OK)
        return st;
    if (ag_db_rows(r) == 0)
        return ag_content__fail(c, AG_ENOTFOUND, "post: no such id");
    cm->channel_id = ag_db_i64(r, 0, 0);
    return AG_OK;
}

static ag_status_t
pg_comment_get(ag_content_t *c, ag_arena_t *a, const char *id, ag_content_comment_t **out)
{
    PG_GET(c, a, "SELECT " COMMENT_COLS " FROM comments WHERE id = $1", id, "comment",
           ag_content_comment_t, read_comment, out);
}

static ag_status_t
pg_comment_list(ag_content_t *c, ag_arena_t *a, const char *post_id, int limit,
                const ag_content__after_t *after, ag_content_comment_page_t *out)
{
    PG_LIST(c, a,
            "SELECT " COMMENT_COLS " FROM comments WHERE post_id = $1 "
            "ORDER BY created_at, id LIMIT $2",
            "SELECT " COMMENT_COLS " FROM comments WHERE post_id = $1 "
            "AND (created_at, id) > (content_ts($3), $4) ORDER BY created_at, id LIMIT $2",
            post_id, limit, after, out, ag_content_comment_t, read_comment);
}

static ag_status_t
pg_reply_insert(ag_content_t *c, ag_arena_t *a, ag_content_reply_t *rp,
                const ag_content_event_t *ev)
{
    const char *params[] = {
        rp->id,   rp->comment_id,         i64s(a, rp->author_id),  i64s(a, rp->created_at),
        rp->body, ev ? ev->msg_id : NULL, ev ? ev->subject : NULL, ev ? ev->payload : NULL};
    ag_db_res_t *r;
    ag_status_t  st;

    st = exec(
        c, a,
        "WITH p AS (UPDATE comments SET reply_count = reply_count + 1 WHERE id = $2 "
        "RETURNING post_id, channel_id), "
        "w AS (INSERT INTO replies (id, comment_id, post_id, channel_id, author_id, "
        "created_at, doc) SELECT $1, $2, p.post_id, p.channel_id, $3, content_ts($4), "
        "jsonb_build_object('body', $5::text) FROM p RETURNING post_id, channel_id)" OUTBOX_CTE(
            "6", "7", "8") "SELECT post_id, channel_id FROM w",
        8, params, &r);
    if (st != AG_OK)
        return st;
    if (ag_db_rows(r) == 0)
        return ag_content__fail(c, AG_ENOTFOUND, "comment: no such id");
    copy_id(rp->post_id, ag_db_val(r, 0, 0));
    rp->channel_id = ag_db_i64(r, 0, 1);
    return AG_OK;
}

static ag_status_t
pg_reply_get(ag_content_t *c, ag_arena_t *a, const char *id, ag_content_reply_t **out)
{
    PG_GET(c, a, "SELECT " REPLY_COLS " FROM replies WHERE id = $1", id, "reply",
           ag_content_reply_t, read_reply, out);
}

static ag_status_t
pg_reply_list(ag_content_t *c, ag_arena_t *a, const char *comment_id, int limit,
              const ag_content__after_t *after, ag_content_reply_page_t *out)
{
    PG_LIST(c, a,
            "SELECT " REPLY_COLS " FROM replies WHERE comment_id = $1 "
            "ORDER BY created_at, id LIMIT $2",
            "SELECT " REPLY_COLS " FROM replies WHERE comment_id = $1 "
            "AND (created_at, id) > (content_ts($3), $4) ORDER BY created_at, id LIMIT $2",
            comment_id, limit, after, out, ag_content_reply_t, read_reply);
}

/* ---- direct messages ------------------------------------------------------------------ */

static ag_status_t
pg_dm_insert(ag_content_t *c, ag_arena_t *a, const ag_content_dm_t *m, const ag_content_event_t *ev)
{
    const char *params[] = {
        m->id,   i64s(a, m->from_id),    i64s(a, m->to_id),       i64s(a, m->created_at),
        m->body, ev ? ev->msg_id : NULL, ev ? ev->subject : NULL, ev ? ev->payload : NULL};
    return exec(c, a,
                "WITH w AS (INSERT INTO direct_messages (id, from_id, to_id, created_at, doc) "
                "VALUES ($1, $2, $3, content_ts($4), jsonb_build_object('body', $5::text)) "
                "RETURNING id)" OUTBOX_CTE("6", "7", "8") "SELECT id FROM w",
                8, params, NULL);
}

static ag_status_t
pg_dm_get(ag_content_t *c, ag_arena_t *a, const char *id, ag_content_dm_t **out)
{
    PG_GET(c, a, "SELECT " DM_COLS " FROM direct_messages WHERE id = $1", id, "direct message",
           ag_content_dm_t, read_dm, out);
}

static ag_status_t
pg_dm_list(ag_content_t *c, ag_arena_t *a, int64_t lo, int64_t hi, int limit,
           const ag_content__after_t *after, ag_content_dm_page_t *out)
{
    /* the pair is one parameter "lo,hi" so that PG_LIST's shape fits; split in SQL */
    const char *pair = ag_arena_printf(a, "{%lld,%lld}", (long long)lo, (long long)hi);
    PG_LIST(c, a,
            "SELECT " DM_COLS " FROM direct_messages "
            "WHERE user_lo = ($1::bigint[])[1] AND user_hi = ($1::bigint[])[2] "
            "ORDER BY created_at DESC, id DESC LIMIT $2",
            "SELECT " DM_COLS " FROM direct_messages "
            "WHERE user_lo = ($1::bigint[])[1] AND user_hi = ($1::bigint[])[2] "
            "AND (created_at, id) < (content_ts($3), $4) "
            "ORDER BY created_at DESC, id DESC LIMIT $2",
            pair, limit, after, out, ag_content_dm_t, read_dm);
}

/* ---- outbox ------------------------------------------------------------------------------ */

#define OUTBOX_COLS                                                                                \
    "msg_id, subject, payload, " MS("created_at") ", attempts, " MS("next_try_at") ", "           \
    "coalesce(last_error, '')"

static void
read_outbox(ag_db_res_t *r, int row, int col0, ag_content_outbox_t *o)
{
    o->msg_id = ag_db_val(r, row, col0);
    o->subject = ag_db_val(r, row, col0 + 1);
    o->payload = ag_db_val(r, row, col0 + 2);
    o->created_at = ag_db_i64(r, row, col0 + 3);
    o->attempts = ag_db_i64(r, row, col0 + 4);
    o->next_try_at = ag_db_i64(r, row, col0 + 5);
    o->last_error = ag_db_val(r, row, col0 + 6);
}

static ag_status_t
pg_outbox_pending(ag_content_t *c, ag_arena_t *a, int older_than_s, int64_t due_ms, int limit,
                  ag_content_outbox_t **items, size_t *n)
{
    const char          *params[] = {i64s(a, older_than_s), i64s(a, limit), i64s(a, due_ms)};
    ag_db_res_t         *r;
    ag_content_outbox_t *it;
    ag_status_t          st;

    st = exec(c, a,
              "SELECT " OUTBOX_COLS " FROM content_outbox "
              "WHERE published_at IS NULL AND created_at <= now() - make_interval(secs => $1) "
              "AND (next_try_at IS NULL OR next_try_at <= content_ts($3)) "
              "ORDER BY created_at LIMIT $2",
              3, params, &r);
    if (st != AG_OK)
        return st;
    int rows = ag_db_rows(r);
    if ((it = ag_arena_calloc(a, (size_t)(rows ? rows : 1) * sizeof(*it))) == NULL)
        return AG_ENOMEM;
    for (int i = 0; i < rows; i++)
        read_outbox(r, i, 0, &it[i]);
    *items = it;
    *n = (size_t)rows;
    return AG_OK;
}

static ag_status_t
pg_outbox_retry(ag_content_t *c, const char *msg_id, int64_t next_try_ms, const char *why,
                int64_t *attempts)
{
    ag_arena_t  *a = ag_arena_new(1024);
    ag_db_res_t *r;
    ag_status_t  st;

    if (a == NULL)
        return AG_ENOMEM;
    const char *params[] = {msg_id, i64s(a, next_try_ms), why};
    st = exec(c, a,
              "UPDATE content_outbox SET attempts = attempts + 1, next_try_at = content_ts($2), "
              "last_error = $3 WHERE msg_id = $1 RETURNING attempts",
              3, params, &r);
    if (st == AG_OK && ag_db_rows(r) == 0)
        st = ag_content__fail(c, AG_ENOTFOUND, "outbox: no event %s", msg_id);
    else if (st == AG_OK)
        *attempts = ag_db_i64(r, 0, 0);
    ag_arena_free(a);
    return st;
}

static ag_status_t
pg_outbox_backlog(ag_content_t *c, ag_arena_t *a, ag_content_outbox_backlog_t *out)
{
    ag_db_res_t *r;
    ag_status_t  st;

    /* the partial index content_outbox_pending serves both the count and the oldest */
    st = exec(c, a,
              "SELECT count(*) OVER (), " OUTBOX_COLS " FROM content_outbox "
              "WHERE published_at IS NULL ORDER BY created_at LIMIT 1",
              0, NULL, &r);
    if (st != AG_OK || ag_db_rows(r) == 0)
        return st;
    out->n = ag_db_i64(r, 0, 0);
    read_outbox(r, 0, 1, &out->oldest);
    return AG_OK;
}

static ag_status_t
pg_outbox_mark(ag_content_t *c, const char *msg_id)
{
    ag_arena_t  *a = ag_arena_new(1024);
    const char  *params[] = {msg_id};
    ag_db_res_t *r;
    ag_status_t  st;

    if (a == NULL)
        return AG_ENOMEM;
    st = exec(c, a,
              "UPDATE content_outbox SET published_at = coalesce(published_at, now()) "
              "WHERE msg_id = $1 RETURNING msg_id",
              1, params, &r);
    if (st == AG_OK && ag_db_rows(r) == 0)
        st = ag_content__fail(c, AG_ENOTFOUND, "outbox: no event %s", msg_id);
    ag_arena_free(a);
    return st;
}

/* ---- edits and deletes of comments, replies and DMs ------------------------------------ */

/*
 * An edit: one statement that sets body and edited_at, stores the event and
 * reads the record back ($1 id, $2 body, $3 edited_at ms, $4-$6 the event).
 */
#define EDIT_SQL(table, cols)                                                                      \
    "WITH w AS (UPDATE " table " SET doc = jsonb_set(doc, '{body}', to_jsonb($2::text)), "         \
    "edited_at = content_ts($3) WHERE id = $1 RETURNING *)" OUTBOX_CTE(                            \
        "4", "5", "6") "SELECT " cols " FROM w"

static ag_status_t
edit_row(ag_content_t *c, ag_arena_t *a, const char *sql, const char *id, const char *body,
         int64_t edited_at, const ag_content_event_t *ev, const char *what, ag_db_res_t **r)
{
    const char *params[] = {id,
                            body,
                            i64s(a, edited_at),
                            ev ? ev->msg_id : NULL,
                            ev ? ev->subject : NULL,
                            ev ? ev->payload : NULL};
    ag_status_t st = exec(c, a, sql, 6, params, r);
    if (st == AG_OK && ag_db_rows(*r) == 0)
        return ag_content__fail(c, AG_ENOTFOUND, "%s: no such id", what);
    return st;
}

static ag_status_t
pg_comment_edit(ag_content_t *c, ag_arena_t *a, const char *id, const char *body, int64_t edited_at,
                const ag_content_event_t *ev, ag_content_comment_t **out)
{
    ag_db_res_t          *r;
    ag_content_comment_t *cm;
    ag_status_t           st =
        edit_row(c, a, EDIT_SQL("comments", COMMENT_COLS), id, body, edited_at, ev, "comment", &r);
    if (st != AG_OK)
        return st;
    if ((cm = ag_arena_calloc(a, sizeof(*cm))) == NULL)
        return AG_ENOMEM;
    read_comment(r, 0, cm);
    *out = cm;
    return AG_OK;
}

static ag_status_t
pg_reply_edit(ag_content_t *c, ag_arena_t *a, const char *id, const char *body, int64_t edited_at,
              const ag_content_event_t *ev, ag_content_reply_t **out)
{
    ag_db_res_t        *r;
    ag_content_reply_t *rp;
    ag_status_t         st =
        edit_row(c, a, EDIT_SQL("replies", REPLY_COLS), id, body, edited_at, ev, "reply", &r);
    if (st != AG_OK)
        return st;
    if ((rp = ag_arena_calloc(a, sizeof(*rp))) == NULL)
        return AG_ENOMEM;
    read_reply(r, 0, rp);
    *out = rp;
    return AG_OK;
}

static ag_status_t
pg_dm_edit(ag_content_t *c, ag_arena_t *a, const char *id, const char *body, int64_t edited_at,
           const ag_content_event_t *ev, ag_content_dm_t **out)
{
    ag_db_res_t     *r;
    ag_content_dm_t *m;
    ag_status_t st = edit_row(c, a, EDIT_SQL("direct_messages", DM_COLS), id, body, edited_at, ev,
                              "direct message", &r);
    if (st != AG_OK)
        return st;
    if ((m = ag_arena_calloc(a, sizeof(*m))) == NULL)
        return AG_ENOMEM;
    read_dm(r, 0, m);
    *out = m;
    return AG_OK;
}

/* A delete statement ($1 id, $2-$4 the event) whose CTE w returns the deleted row. */
static ag_status_t
delete_row(ag_content_t *c, ag_arena_t *a, const char *sql, const char *id,
           const ag_content_event_t *ev, const char *what)
{
    const char  *params[] = {id, ev ? ev->msg_id : NULL, ev ? ev->subject : NULL,
                            ev ? ev->payload : NULL};
    ag_db_res_t *r;
    ag_status_t  st = exec(c, a, sql, 4, params, &r);
    if (st != AG_OK)
        return st;
    return ag_db_rows(r) ? AG_OK : ag_content__fail(c, AG_ENOTFOUND, "%s: no such id", what);
}

static ag_status_t
pg_comment_delete(ag_content_t *c, ag_arena_t *a, const char *id, const ag_content_event_t *ev)
{
    /* replies go by ON DELETE CASCADE; the reactions of the comment and its replies by comment_id
     */
    return delete_row(
        c, a,
        "WITH w AS (DELETE FROM comments WHERE id = $1 RETURNING id, post_id), "
        "p AS (UPDATE posts SET comment_count = comment_count - 1 "
        "WHERE id = (SELECT post_id FROM w)), "
        "x AS (DELETE FROM reactions WHERE comment_id = (SELECT id FROM w))" OUTBOX_CTE(
            "2", "3", "4") "SELECT id FROM w",
        id, ev, "comment");
}

static ag_status_t
pg_reply_delete(ag_content_t *c, ag_arena_t *a, const char *id, const ag_content_event_t *ev)
{
    return delete_row(
        c, a,
        "WITH w AS (DELETE FROM replies WHERE id = $1 RETURNING id, comment_id), "
        "p AS (UPDATE comments SET reply_count = reply_count - 1 "
        "WHERE id = (SELECT comment_id FROM w)), "
        "x AS (DELETE FROM reactions WHERE target_id = (SELECT id FROM w))" OUTBOX_CTE(
            "2", "3", "4") "SELECT id FROM w",
        id, ev, "reply");
}

static ag_status_t
pg_dm_delete(ag_content_t *c, ag_arena_t *a, const char *id, const ag_content_event_t *ev)
{
    return delete_row(
        c, a,
        "WITH w AS (DELETE FROM direct_messages WHERE id = $1 RETURNING id), "
        "x AS (DELETE FROM reactions WHERE target_id = (SELECT id FROM w))" OUTBOX_CTE(
            "2", "3", "4") "SELECT id FROM w",
        id, ev, "direct message");
}

/* ---- reactions ------------------------------------------------------------------------------ */

static ag_status_t
pg_target_get(ag_content_t *c, ag_arena_t *a, const char *id, ag_content_target_t *out)
{
    const char  *p[] = {id};
    ag_db_res_t *r;
    ag_status_t  st;

    /* four primary-key probes; ids are unique across the four tables by construction */
    st = exec_plan(
        c, a, true,
        "SELECT 1, id, id, NULL, channel_id, author_id, 0::bigint FROM posts WHERE id = $1 "
        "UNION ALL SELECT 2, id, post_id, id, channel_id, author_id, 0 FROM comments "
        "WHERE id = $1 "
        "UNION ALL SELECT 3, id, post_id, comment_id, channel_id, author_id, 0 FROM replies "
        "WHERE id = $1 "
        "UNION ALL SELECT 4, id, NULL, NULL, 0, from_id, to_id FROM direct_messages "
        "WHERE id = $1 LIMIT 1",
        1, p, &r);
    if (st != AG_OK)
        return st;
    if (ag_db_rows(r) == 0)
        return ag_content__fail(c, AG_ENOTFOUND, "target: no such id");
    out->kind = (ag_content_kind_t)ag_db_i64(r, 0, 0);
    copy_id(out->id, ag_db_val(r, 0, 1));
    copy_id(out->post_id, ag_db_val(r, 0, 2));
    copy_id(out->comment_id, ag_db_val(r, 0, 3));
    out->channel_id = ag_db_i64(r, 0, 4);
    out->author_id = ag_db_i64(r, 0, 5);
    out->to_id = ag_db_i64(r, 0, 6);
    return AG_OK;
}

static const char *
target_table(ag_content_kind_t k)
{
    return k == AG_CONTENT_KIND_POST      ? "posts"
           : k == AG_CONTENT_KIND_COMMENT ? "comments"
           : k == AG_CONTENT_KIND_REPLY   ? "replies"
                                          : "direct_messages";
}

/*
 * Adding is a transaction: the target's row is locked first, so that the
 * count of its distinct emojis is read after every other add of the target
 * committed (in one statement all CTEs would share a snapshot taken before
 * the lock, and two new emojis could both pass the cap). The lock also
 * proves the target still exists: no reaction outlives a concurrent delete.
 */
static ag_status_t
pg_reaction_add(ag_content_t *c, ag_arena_t *a, const ag_content_target_t *t, int64_t user_id,
                const char *emoji, int64_t created_at, int max_emojis, const ag_content_event_t *ev,
                bool *changed, bool *capped)
{
    const char  *lock[] = {t->id};
    const char  *p[] = {t->id,
                        emoji,
                        i64s(a, user_id),
                       *t->post_id ? t->post_id : NULL,
                       *t->comment_id ? t->comment_id : NULL,
                        i64s(a, created_at),
                        i64s(a, max_emojis),
                       ev ? ev->msg_id : NULL,
                       ev ? ev->subject : NULL,
                       ev ? ev->payload : NULL};
    ag_db_res_t *r = NULL;
    ag_status_t  st;

    if ((st = ag_db_begin(c->db)) != AG_OK)
        return ag_content__fail(c, st, "postgres: %s", ag_db_error(c->db));
    st =
        exec(c, a,
             ag_arena_printf(a, "SELECT 1 FROM %s WHERE id = $1 FOR UPDATE", target_table(t->kind)),
             1, lock, &r);
    if (st == AG_OK && ag_db_rows(r) == 0)
        st = ag_content__fail(c, AG_ENOTFOUND, "target: no such id");
    if (st == AG_OK)
        st = exec(
            c, a,
            "WITH n AS (SELECT count(DISTINCT emoji) AS n, coalesce(bool_or(emoji = $2), false) "
            "AS has FROM reactions WHERE target_id = $1), "
            "w AS (INSERT INTO reactions (target_id, emoji, user_id, post_id, comment_id, "
            "created_at) SELECT $1, $2, $3::bigint, $4, $5, content_ts($6) FROM n "
            "WHERE n.has OR n.n < $7::int ON CONFLICT DO NOTHING RETURNING target_id)" OUTBOX_CTE(
                "8", "9",
                "10") "SELECT (SELECT has OR n < $7::int FROM n), (SELECT count(*) FROM w)",
            10, p, &r);
    if (st != AG_OK) {
        ag_db_rollback(c->db);
        return st;
    }
    *capped = !ag_db_bool(r, 0, 0);
    *changed = ag_db_i64(r, 0, 1) > 0;
    if ((st = ag_db_commit(c->db)) != AG_OK)
        return ag_content__fail(c, st, "postgres: %s", ag_db_error(c->db));
    return AG_OK;
}

static ag_status_t
pg_reaction_remove(ag_content_t *c, ag_arena_t *a, const ag_content_target_t *t, int64_t user_id,
                   const char *emoji, const ag_content_event_t *ev, bool *changed)
{
    const char  *p[] = {t->id,
                        emoji,
                        i64s(a, user_id),
                       ev ? ev->msg_id : NULL,
                       ev ? ev->subject : NULL,
                       ev ? ev->payload : NULL};
    ag_db_res_t *r;
    ag_status_t  st;

    st = exec(
        c, a,
        "WITH w AS (DELETE FROM reactions WHERE target_id = $1 AND emoji = $2 "
        "AND user_id = $3::bigint RETURNING target_id)" OUTBOX_CTE("4", "5", "6") "SELECT "
                                                                                  "count(*) FROM w",
        6, p, &r);
    if (st != AG_OK)
        return st;
    *changed = ag_db_i64(r, 0, 0) > 0;
    return AG_OK;
}

/* Group rows (target, emoji, count, mine), ordered by target, into out[] by position of ids[]. */
static ag_status_t
group_reactions(ag_arena_t *a, ag_db_res_t *r, const char *const *ids, size_t n,
                ag_content_reactions_t *out)
{
    int rows = ag_db_rows(r);
    for (int row = 0; row < rows;) {
        const char *t = ag_db_val(r, row, 0);
        int         end = row;
        while (end < rows && strcmp(ag_db_val(r, end, 0), t) == 0)
            end++;
        ag_content_reaction_t *g = ag_arena_calloc(a, (size_t)(end - row) * sizeof(*g));
        if (g == NULL)
            return AG_ENOMEM;
        for (int k = row; k < end; k++) {
            g[k - row].emoji = ag_db_val(r, k, 1);
            g[k - row].count = ag_db_i64(r, k, 2);
            g[k - row].mine = ag_db_bool(r, k, 3);
        }
        for (size_t i = 0; i < n; i++) /* the same id twice gets the same groups */
            if (ids[i] && strcmp(ids[i], t) == 0) {
                out[i].items = g;
                out[i].n = (size_t)(end - row);
            }
        row = end;
    }
    return AG_OK;
}

static ag_status_t
pg_reactions(ag_content_t *c, ag_arena_t *a, const char *const *ids, size_t n, int64_t viewer_id,
             ag_content_reactions_t *out)
{
    ag_buf_t     arr;
    ag_db_res_t *r;
    ag_status_t  st = AG_OK;
    const char  *params[2] = {NULL, i64s(a, viewer_id)};

    ag_buf_init(&arr);
    ag_buf_puts(&arr, "{");
    for (size_t i = 0; i < n; i++)
        if (ids[i])
            ag_buf_printf(&arr, "%s%s", arr.len > 1 ? "," : "", ids[i]);
    if (ag_buf_puts(&arr, "}") != AG_OK || (params[0] = ag_arena_strdup(a, arr.data)) == NULL)
        st = AG_ENOMEM;
    ag_buf_fini(&arr);
    if (st != AG_OK)
        return st;
    st = exec_plan(c, a, true,
                   "SELECT target_id, emoji, count(*), bool_or(user_id = $2::bigint), "
                   "min(created_at) AS first FROM reactions WHERE target_id = ANY ($1::text[]) "
                   "GROUP BY target_id, emoji ORDER BY target_id, first, emoji COLLATE \"C\"",
                   2, params, &r);
    if (st != AG_OK)
        return st;
    return group_reactions(a, r, ids, n, out);
}

static const ag_content__ops_t pg_ops = {
    .name = "postgres",
    .health = pg_health,
    .close = pg_close,
    .post_insert = pg_post_insert,
    .post_get = pg_post_get,
    .post_edit = pg_post_edit,
    .post_delete = pg_post_delete,
    .post_list = pg_post_list,
    .post_list_as = pg_post_list_as,
    .post_get_as = pg_post_get_as,
    .post_get_many = pg_post_get_many,
    .comment_insert = pg_comment_insert,
    .comment_get = pg_comment_get,
    .comment_list = pg_comment_list,
    .reply_insert = pg_reply_insert,
    .reply_get = pg_reply_get,
    .reply_list = pg_reply_list,
    .comment_edit = pg_comment_edit,
    .comment_delete = pg_comment_delete,
    .reply_edit = pg_reply_edit,
    .reply_delete = pg_reply_delete,
    .dm_edit = pg_dm_edit,
    .dm_delete = pg_dm_delete,
    .target_get = pg_target_get,
    .reaction_add = pg_reaction_add,
    .reaction_remove = pg_reaction_remove,
    .reactions = pg_reactions,
    .dm_insert = pg_dm_insert,
    .dm_get = pg_dm_get,
    .dm_list = pg_dm_list,
    .outbox_pending = pg_outbox_pending,
    .outbox_mark = pg_outbox_mark,
    .outbox_retry = pg_outbox_retry,
    .outbox_backlog = pg_outbox_backlog,
};

ag_status_t
ag_content__pg_open(ag_content_t *c, ag_db_t *db, char *err, size_t errlen)
{
    (void)err;
    (void)errlen;
    c->ops = &pg_ops;
    c->db = db;
    return AG_OK;
}
