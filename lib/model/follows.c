/* lib/model/follows.c — who follows whom, and the new_follower notification. */
#include "model/model_int.h"

#include <time.h>

/* "follow:<follower>:<followee>:<YYYY-MM-DD UTC>", the once-a-day key of a new_follower */
static const char *
follow_dedupe_key(ag_arena_t *a, int64_t follower, int64_t followee)
{
    time_t    now = time(NULL);
    struct tm tm;
    char      day[16];

    gmtime_r(&now, &tm);
    strftime(day, sizeof(day), "%Y-%m-%d", &tm);
    return ag_arena_printf(a, "follow:%lld:%lld:%s", (long long)follower, (long long)followee, day);
}

ag_status_t
ag_follow(ag_model_t *m, ag_arena_t *a, int64_t follower, int64_t followee)
{
    char         me[24], them[24];
    ag_db_res_t *r = NULL;
    bool         created;
    ag_status_t  st;

    const char *p[] = {ag_model__id(me, follower), ag_model__id(them, followee)};
    st =
        ag_db_exec(m->db, a,
                   "INSERT INTO follows (follower_id, followee_id) VALUES ($1::bigint, $2::bigint) "
                   "ON CONFLICT DO NOTHING RETURNING 1",
                   2, p, &r);
    if (st != AG_OK || ag_db_rows(r) == 0)
        return st; /* AG_ENOTFOUND: no such followee; no row: followed already */
    /*
     * Only a new follow notifies (repeating it is a no-op), and at most once per
     * follower, followee and UTC day: unfollowing and following again makes a new
     * row each time, and the unique dedupe_key in PostgreSQL holds across workers.
     */
    return ag_notify(m, a, followee, AG_EV_KIND_FOLLOWER, follower, 0, NULL,
                     follow_dedupe_key(a, follower, followee), &created);
}

ag_status_t
ag_unfollow(ag_model_t *m, ag_arena_t *a, int64_t follower, int64_t followee)
{
    char        me[24], them[24];
    const char *p[] = {ag_model__id(me, follower), ag_model__id(them, followee)};

    return ag_db_exec(
        m->db, a, "DELETE FROM follows WHERE follower_id = $1::bigint AND followee_id = $2::bigint",
        2, p, NULL);
}
