/*
 * lib/model/stats.c — channel activity: one row per post, comment and reply
 * (channel_activity, sql/003_workers.sql), written by `agora-worker
 * analytics` and summed per UTC day for GET /channels/{id}/stats.
 */
#include "model/model_int.h"

#include <stdio.h>

ag_status_t
ag_activity_record(ag_model_t *m, ag_arena_t *a, const char *doc_id, int64_t channel_id,
                   int64_t created_ms, const char *kind, int64_t author_id)
{
    char cid[24], ts[24], aid[24];

    const char *p[] = {doc_id, ag_model__id(cid, channel_id), ag_model__id(ts, created_ms), kind,
                       ag_model__id(aid, author_id)};
    return ag_db_exec(m->db, a,
                      "INSERT INTO channel_activity (doc_id, channel_id, day, kind, author_id) "
                      "VALUES ($1, $2::bigint, (content_ts($3::bigint) AT TIME ZONE 'UTC')::date, "
                      "$4, $5::bigint) ON CONFLICT (doc_id) DO NOTHING",
                      5, p, NULL);
}

ag_status_t
ag_activity_days(ag_model_t *m, ag_arena_t *a, int64_t channel_id, int days, ag_channel_day_t **out,
                 size_t *n)
{
    char         c[24], d[16];
    ag_db_res_t *r = NULL;
    ag_status_t  st;

    *out = NULL;
    *n = 0;
    snprintf(d, sizeof(d), "%d", days);
    const char *p[] = {ag_model__id(c, channel_id), d};
    /* every day of the window, oldest first, zeros included: a series ready to plot */
    st = ag_db_exec(m->db, a,
                    "SELECT to_char(g.day, 'YYYY-MM-DD'), "
                    "count(a.doc_id) FILTER (WHERE a.kind = 'post'), "
                    "count(a.doc_id) FILTER (WHERE a.kind = 'comment'), "
                    "count(DISTINCT a.author_id) "
                    "FROM generate_series((now() AT TIME ZONE 'UTC')::date - ($2::int - 1), "
                    "(now() AT TIME ZONE 'UTC')::date, interval '1 day') AS g(day) "
                    "LEFT JOIN channel_activity a ON a.channel_id = $1::bigint "
                    "AND a.day = g.day::date GROUP BY g.day ORDER BY g.day",
                    2, p, &r);
    if (st != AG_OK)
        return st;
    if ((*out = ag_arena_alloc(a, sizeof(**out) * (size_t)(ag_db_rows(r) + 1))) == NULL)
        return AG_ENOMEM;
    for (int i = 0; i < ag_db_rows(r); i++)
        (*out)[(*n)++] = (ag_channel_day_t){.date = ag_db_val(r, i, 0),
                                            .posts = ag_db_i64(r, i, 1),
                                            .comments = ag_db_i64(r, i, 2),
                                            .active_posters = ag_db_i64(r, i, 3)};
    return AG_OK;
}
