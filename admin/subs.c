/*
 * admin/subs.c — `agora-admin subs USER_ID`: print a user's channel
 * subscriptions as the realtime daemon sees them (user:<id>:subs), rebuilding
 * the Redis set from PostgreSQL memberships when it is missing.
 */
#include "admin.h"
#include "cache/cache.h"
#include "model/model.h"

#include <stdio.h>

int
admin_subs(admin_t *ad, const char *user)
{
    ag_model_t  m = {ad->db, ag_cache_new(ad->cfg), NULL};
    ag_arena_t *a = ag_arena_new(0);
    int64_t     uid, *ids = NULL;
    size_t      n = 0;
    int         rc = 1;
    ag_status_t st;

    if (user == NULL || ag_parse_i64(user, &uid) != AG_OK || uid <= 0) {
        fprintf(stderr, "subs: usage: agora-admin subs USER_ID\n");
        rc = 2;
    } else if (m.cache == NULL || a == NULL) {
        fprintf(stderr, "subs: out of memory\n");
    } else if ((st = ag_subs_get(&m, a, uid, &ids, &n)) != AG_OK) {
        fprintf(stderr, "subs: %s (%s%s)\n", ag_status_name(st), ag_db_error(ad->db),
                ag_cache_error(m.cache));
    } else {
        for (size_t i = 0; i < n; i++)
            printf("%lld\n", (long long)ids[i]);
        rc = 0;
    }
    ag_arena_free(a);
    ag_cache_free(m.cache);
    return rc;
}
