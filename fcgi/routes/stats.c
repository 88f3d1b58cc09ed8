/*
 * fcgi/routes/stats.c — GET /channels/{id}/stats?days=N: the channel's daily
 * activity as counted by `agora-worker analytics` (table channel_activity).
 * Readable like the channel itself: members, and anyone signed in for a
 * public channel; a private channel is 404 to others (CONTRACT §5).
 */
#include "app.h"

#include <stdio.h>

#define STATS_DAYS_DEFAULT 7
#define STATS_DAYS_MAX 90

/* days= : a whole number, clamped to 1..STATS_DAYS_MAX. */
static ag_status_t
days_param(ag_req_t *req, int *days)
{
    const char *v = ag_req_query(req, "days");
    int64_t     n;

    *days = STATS_DAYS_DEFAULT;
    if (v == NULL || *v == '\0')
        return AG_OK;
    if (ag_parse_i64(v, &n) != AG_OK)
        return ag_req_fail(req, AG_EBADREQ, "days must be a whole number (1..%d)", STATS_DAYS_MAX);
    *days = n < 1 ? 1 : n > STATS_DAYS_MAX ? STATS_DAYS_MAX : (int)n;
    return AG_OK;
}

static ag_json_t *
day_json(const ag_db_res_t *r, int row)
{
    ag_json_t *o = ag_json_obj();
    ag_json_set_str(o, "date", ag_db_val(r, row, 0));
    ag_json_set_int(o, "posts", ag_db_i64(r, row, 1));
    ag_json_set_int(o, "comments", ag_db_i64(r, row, 2));
    ag_json_set_int(o, "activePosters", ag_db_i64(r, row, 3));
    return o;
}

ag_status_t
fcgi_stats_get(ag_req_t *req)
{
    ag_channel_access_t acc;
    ag_db_res_t        *r = NULL;
    ag_json_t          *out = NULL, *arr = NULL;
    int64_t             cid;
    int                 days;
    char                c[24], d[16];
    ag_status_t         st;

    if ((st = ag_req_param_id(req, "id", &cid)) != AG_OK || (st = days_param(req, &days)) != AG_OK)
        return st;
    if ((st = ag_channel_access(FCGI_M(req), req->arena, cid, req->user_id, &acc)) != AG_OK)
        return fcgi_db_fail(req, st, "channel lookup");
    if (!ag_channel_can_read(&acc))
        return ag_req_fail(req, AG_ENOTFOUND, "no channel %lld", (long long)cid);
    snprintf(d, sizeof(d), "%d", days);
    const char *p[] = {fcgi_id(c, cid), d};
    /* every day of the window, oldest first, zeros included: a series ready to plot */
    st = ag_db_exec(FCGI_DB(req), req->arena,
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
        return fcgi_db_fail(req, st, "channel stats");
    out = ag_json_obj();   /* consumed by ag_resp_json */
    arr = ag_json_arr();
    if (out == NULL || arr == NULL) {
        ag_json_free(out);
        ag_json_free(arr);
        return ag_req_fail(req, AG_ENOMEM, "out of memory");
    }
    for (int i = 0; i < ag_db_rows(r); i++)
        ag_json_push(arr, day_json(r, i));
    ag_json_set_str(out, "channelId", c);
    ag_json_set(out, "days", arr);
    return ag_resp_json(req, 200, out);
}
