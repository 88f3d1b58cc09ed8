/*
 * fcgi/routes/stats.c — GET /channels/{id}/stats?days=N: the channel's daily
 * activity as counted by `agora-worker analytics` (table channel_activity).
 * Readable like the channel itself: members, and anyone signed in for a
 * public channel; a private channel is 404 to others (CONTRACT §5).
 */
#include "app.h"

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

ag_status_t
fcgi_stats_get(ag_req_t *req)
{
    ag_channel_access_t acc;
    ag_channel_day_t   *d = NULL;
    ag_json_t          *out = NULL, *arr = NULL;
    int64_t             cid;
    size_t              n = 0;
    int                 days;
    char                c[24];
    ag_status_t         st;

    if ((st = ag_req_param_id(req, "id", &cid)) != AG_OK || (st = days_param(req, &days)) != AG_OK)
        return st;
    if ((st = fcgi_channel_access(req, "id", AG_ACCESS_READ, &cid, &acc)) != AG_OK)
        return st;
    if ((st = ag_activity_days(FCGI_M(req), req->arena, cid, days, &d, &n)) != AG_OK)
        return fcgi_db_fail(req, st, "channel stats");
    out = ag_json_obj(); /* consumed by ag_resp_json */
    arr = ag_json_arr();
    if (out == NULL || arr == NULL) {
        ag_json_free(out);
        ag_json_free(arr);
        return ag_req_fail(req, AG_ENOMEM, "out of memory");
    }
    for (size_t i = 0; i < n; i++)
        ag_json_push(arr, fcgi_day_json(&d[i]));
    ag_json_set_str(out, "channelId", fcgi_id(c, cid));
    ag_json_set(out, "days", arr);
    return ag_resp_json(req, 200, out);
}
