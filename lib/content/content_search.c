/*
 * lib/content/content_search.c — the full-text index of posts (table
 * post_search of sql/003_workers.sql) and the search over it. The index is
 * in PostgreSQL for both content backends (see the migration for why); the
 * matching posts are read back through the content store, so a post deleted
 * after it was indexed never appears.
 */
#include "content/content_int.h"

#include <stdio.h>
#include <string.h>

/* 'english': stemming lets "posts" find "post"; a query of stop words matches nothing. */
#define SEARCH_TSCONFIG "'english'"
#define SEARCH_QUERY_MAX 500

ag_status_t
ag_content_search_put(ag_db_t *db, ag_arena_t *a, const ag_content_post_t *p)
{
    char cid[24], aid[24], ts[24];

    snprintf(cid, sizeof(cid), "%lld", (long long)p->channel_id);
    snprintf(aid, sizeof(aid), "%lld", (long long)p->author_id);
    snprintf(ts, sizeof(ts), "%lld", (long long)p->created_at);
    const char *prm[] = {p->id, cid, aid, ts, p->body};
    return ag_db_exec(db, a,
                      "INSERT INTO post_search (post_id, channel_id, author_id, created_at, tsv) "
                      "VALUES ($1, $2::bigint, $3::bigint, content_ts($4::bigint), "
                      "to_tsvector(" SEARCH_TSCONFIG ", $5)) "
                      "ON CONFLICT (post_id) DO UPDATE SET tsv = EXCLUDED.tsv, "
                      "channel_id = EXCLUDED.channel_id",
                      5, prm, NULL);
}

ag_status_t
ag_content_search_remove(ag_db_t *db, ag_arena_t *a, const char *post_id)
{
    const char *prm[] = {post_id};
    return ag_db_exec(db, a, "DELETE FROM post_search WHERE post_id = $1", 1, prm, NULL);
}

/* Search cursors are offsets into the ranked result ("s" + decimal): rank is
 * a float, so a keyset on it would be fragile, and a search is read a few
 * pages deep at most. */
static ag_status_t
offset_decode(const char *after, int *offset)
{
    int64_t v;
    *offset = 0;
    if (after == NULL || *after == '\0')
        return AG_OK;
    if (after[0] != 's' || ag_parse_i64(after + 1, &v) != AG_OK || v < 0 || v > 1000000)
        return AG_EBADREQ;
    *offset = (int)v;
    return AG_OK;
}

ag_status_t
ag_content_search(ag_content_t *c, ag_db_t *db, ag_arena_t *a, int64_t reader_id,
                  const char *query, int first, const char *after, ag_content_post_page_t *out,
                  const char ***cursors)
{
    ag_db_res_t        *r = NULL;
    ag_content_post_t **posts = NULL;
    char                rid[24], off[16], lim[16];
    int                 offset, rows;
    ag_status_t         st;

    memset(out, 0, sizeof(*out));
    *cursors = NULL;
    if (query == NULL || strlen(query) > SEARCH_QUERY_MAX)
        return ag_content__fail(c, AG_EBADREQ, "query must be at most %d bytes", SEARCH_QUERY_MAX);
    if (offset_decode(after, &offset) != AG_OK)
        return ag_content__fail(c, AG_EBADREQ, "after is not a cursor of this search");
    if (first < 1 || first > AG_CONTENT_FIRST_MAX)
        return ag_content__fail(c, AG_EBADREQ, "first must be 1..%d", AG_CONTENT_FIRST_MAX);
    snprintf(rid, sizeof(rid), "%lld", (long long)reader_id);
    snprintf(off, sizeof(off), "%d", offset);
    snprintf(lim, sizeof(lim), "%d", first + 1);
    const char *prm[] = {query, rid, off, lim};
    st = ag_db_exec(db, a,
                    "SELECT s.post_id FROM post_search s "
                    "CROSS JOIN websearch_to_tsquery(" SEARCH_TSCONFIG ", $1) q "
                    "JOIN channels ch ON ch.id = s.channel_id "
                    "WHERE s.tsv @@ q AND (ch.visibility = 'public' OR EXISTS "
                    "(SELECT 1 FROM memberships m WHERE m.channel_id = s.channel_id "
                    "AND m.user_id = $2::bigint)) "
                    "ORDER BY ts_rank(s.tsv, q) DESC, s.created_at DESC, s.post_id DESC "
                    "OFFSET $3::int LIMIT $4::int",
                    4, prm, &r);
    if (st != AG_OK)
        return ag_content__fail(c, st, "search: %s", ag_db_error(db));
    rows = ag_db_rows(r);
    out->has_next_page = rows > first;
    if (rows > first)
        rows = first;
    if (rows == 0)
        return AG_OK;
    const char **ids = ag_arena_alloc(a, sizeof(*ids) * (size_t)rows);
    out->items = ag_arena_alloc(a, sizeof(*out->items) * (size_t)rows);
    *cursors = ag_arena_alloc(a, sizeof(**cursors) * (size_t)rows);
    if (ids == NULL || out->items == NULL || *cursors == NULL)
        return AG_ENOMEM;
    for (int i = 0; i < rows; i++)
        ids[i] = ag_db_val(r, i, 0);
    if ((st = ag_content_post_get_many(c, a, ids, (size_t)rows, &posts)) != AG_OK)
        return st;
    /* a post deleted since it was indexed is skipped; the offsets stay those of the index */
    for (int i = 0; i < rows; i++) {
        if (posts[i] == NULL)
            continue;
        out->items[out->n] = *posts[i];
        (*cursors)[out->n] = ag_arena_printf(a, "s%d", offset + i + 1);
        out->n++;
    }
    out->end_cursor = out->n ? (*cursors)[out->n - 1] : NULL;
    if (out->n == 0 && out->has_next_page)
        out->end_cursor = ag_arena_printf(a, "s%d", offset + rows);
    return AG_OK;
}
