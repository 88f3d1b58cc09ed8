/*
 * wsd/store.c — what jobs do (on the job threads, jobs.c): Redis and PostgreSQL
 * through this thread's own ag_cache_t and ag_db_t (both reconnect by
 * themselves after a restart), and JetStream API requests through bus.c.
 */
#include "wsd.h"
#include "gqlws.h"
#include "db/db.h"
#include "log/log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct wsd_store {
    wsd_t      *w;
    ag_model_t  m;
    ag_arena_t *a;
    wsd_grun_t *g; /* GraphQL subscriptions' work (gqlws_run.c) */
};

wsd_store_t *
wsd_store_new(wsd_t *w)
{
    wsd_store_t *k = calloc(1, sizeof(*k));
    if (k == NULL)
        return NULL;
    k->w = w;
    k->m.db = ag_db_new(w->cfg);
    k->m.cache = ag_cache_new(w->cfg);
    k->a = ag_arena_new(16384);
    k->g = wsd_grun_new(w, &k->m);
    if (k->m.db == NULL || k->m.cache == NULL || k->a == NULL || k->g == NULL) {
        wsd_store_free(k);
        return NULL;
    }
    return k;
}

void
wsd_store_free(wsd_store_t *k)
{
    if (k == NULL)
        return;
    wsd_grun_free(k->g); /* before the connections it uses */
    ag_db_free(k->m.db);
    ag_cache_free(k->m.cache);
    ag_arena_free(k->a);
    free(k);
}

static ag_status_t
copy_ids(wsd_job_t *j, const int64_t *ids, size_t n)
{
    j->ids = malloc(sizeof(int64_t) * (n ? n : 1));
    if (j->ids == NULL)
        return AG_ENOMEM;
    memcpy(j->ids, ids, sizeof(int64_t) * n);
    j->nids = n;
    return AG_OK;
}

/* Offsets only move forward: compare and set in one Lua step. */
static const char read_lua[] =
    "local v = tonumber(redis.call('GET', KEYS[1]) or '0') "
    "if tonumber(ARGV[1]) > v then redis.call('SET', KEYS[1], ARGV[1]) return 1 end return 0";

/*
 * Offsets missing from Redis (flushed, failed over to an empty replica, evicted)
 * are looked up in ws_read_offsets, the copy every `read` also writes, and put
 * back into Redis. Without this, a lost Redis would make every reconnect start
 * live and lose the missed events silently. A PostgreSQL failure here fails
 * the job (the session closes with 1011, retry) rather than guess "no offset".
 */
static ag_status_t
offsets_from_db(wsd_store_t *k, wsd_job_t *j)
{
    ag_buf_t     arr;
    ag_db_res_t *r = NULL;
    size_t       missing = 0;
    char         uid[24];
    ag_status_t  st;

    for (size_t i = 0; i < j->nids; i++)
        missing += j->offsets[i] < 0;
    if (missing == 0)
        return AG_OK;
    ag_buf_init(&arr);
    ag_buf_puts(&arr, "{");
    for (size_t i = 0, n = 0; i < j->nids; i++)
        if (j->offsets[i] < 0)
            ag_buf_printf(&arr, "%s%lld", n++ ? "," : "", (long long)j->ids[i]);
    if (ag_buf_puts(&arr, "}") != AG_OK) {
        ag_buf_fini(&arr);
        return AG_ENOMEM;
    }
    snprintf(uid, sizeof(uid), "%lld", (long long)j->uid);
    const char *params[] = {uid, arr.data};
    st = ag_db_exec(k->m.db, k->a,
                    "SELECT channel_id, seq FROM ws_read_offsets "
                    "WHERE user_id = $1 AND channel_id = ANY($2::bigint[])",
                    2, params, &r);
    ag_buf_fini(&arr);
    if (st != AG_OK)
        return st;
    for (int row = 0; row < ag_db_rows(r); row++) {
        int64_t cid = ag_db_i64(r, row, 0), seq = ag_db_i64(r, row, 1);
        for (size_t i = 0; i < j->nids; i++) {
            if (j->ids[i] != cid || j->offsets[i] >= 0)
                continue;
            j->offsets[i] = seq;
            /* best effort: the next connect reads it from Redis again */
            char key[96], sq[24];
            snprintf(key, sizeof(key), "lastRead:user:%lld:channel:%lld", (long long)j->uid,
                     (long long)cid);
            snprintf(sq, sizeof(sq), "%lld", (long long)seq);
            const char *argv[] = {"EVAL", read_lua, "1", key, sq};
            ag_cache_cmd(k->m.cache, k->a, NULL, 5, argv);
        }
    }
    return AG_OK;
}

static ag_status_t
job_subs(wsd_store_t *k, wsd_job_t *j)
{
    int64_t          *ids = NULL;
    size_t            n = 0;
    ag_cache_reply_t *r = NULL;
    ag_status_t       st;

    ag_user_brief_t *u = NULL;

    /* a deleted account's token must not open a session (refused before any event) */
    if ((st = ag_users_brief(&k->m, k->a, &j->uid, 1, &u)) != AG_OK)
        return st;
    if ((j->exists = u != NULL) == false)
        return AG_OK;
    if ((st = ag_subs_get(&k->m, k->a, j->uid, &ids, &n)) != AG_OK ||
        (st = copy_ids(j, ids, n)) != AG_OK)
        return st;
    if ((j->offsets = malloc(sizeof(int64_t) * (n ? n : 1))) == NULL)
        return AG_ENOMEM;
    if (n == 0)
        return AG_OK;
    const char **argv = ag_arena_alloc(k->a, sizeof(char *) * (n + 1));
    if (argv == NULL)
        return AG_ENOMEM;
    argv[0] = "MGET";
    for (size_t i = 0; i < n; i++)
        argv[i + 1] = ag_arena_printf(k->a, "lastRead:user:%lld:channel:%lld", (long long)j->uid,
                                      (long long)ids[i]);
    if ((st = ag_cache_cmd(k->m.cache, k->a, &r, (int)n + 1, argv)) != AG_OK)
        return st;
    for (size_t i = 0; i < n; i++) {
        ag_cache_reply_t *e = ag_cache_reply_at(r, i);
        int64_t           v = -1;
        if (e == NULL || ag_cache_reply_type(e) != AG_CACHE_STR ||
            ag_parse_i64(ag_cache_reply_str(e, NULL), &v) != AG_OK || v < 0)
            v = -1;
        j->offsets[i] = v;
    }
    return offsets_from_db(k, j);
}

/* The user's other sessions, on every daemon, hear that the offset moved (read_state). */
static void
read_moved(wsd_store_t *k, wsd_job_t *j)
{
    if (j->moved)
        return; /* told already, by an earlier try of this job */
    j->moved = true;
    wsd_bus_emit(k->w, &(ag_ev_t){.subject = AG_EV_SYNC,
                                  .id = j->uid,
                                  .tok = AG_EV_SYNC_READ,
                                  .channel_id = j->cid,
                                  .seq = j->seq,
                                  .session_id = j->sid});
}

/*
 * A `read`: Redis (the hot copy, read at every connect) and PostgreSQL (the
 * copy that survives losing Redis, and the one the unread counts of
 * GET /channels?member=me read), both forward only. Both are attempted
 * whatever the other did; the job fails when either failed (and is retried).
 * read_state goes out after both: a device that refetches its counts when it
 * hears it finds the new offset there.
 */
static ag_status_t
job_read(wsd_store_t *k, wsd_job_t *j)
{
    char              key[96], seq[24], uid[24], cid[24];
    ag_status_t       st, st_db;
    ag_cache_reply_t *r = NULL;
    ag_db_res_t      *res = NULL;

    snprintf(key, sizeof(key), "lastRead:user:%lld:channel:%lld", (long long)j->uid,
             (long long)j->cid);
    snprintf(seq, sizeof(seq), "%llu", (unsigned long long)j->seq);
    snprintf(uid, sizeof(uid), "%lld", (long long)j->uid);
    snprintf(cid, sizeof(cid), "%lld", (long long)j->cid);
    const char *argv[] = {"EVAL", read_lua, "1", key, seq};
    st = ag_cache_cmd(k->m.cache, k->a, &r, 5, argv);
    bool        moved = st == AG_OK && ag_cache_reply_int(r) == 1;
    const char *params[] = {uid, cid, seq};
    st_db = ag_db_exec(k->m.db, k->a,
                       "INSERT INTO ws_read_offsets (user_id, channel_id, seq) "
                       "VALUES ($1, $2, $3) ON CONFLICT (user_id, channel_id) DO UPDATE "
                       "SET seq = EXCLUDED.seq, updated_at = now() "
                       "WHERE ws_read_offsets.seq < EXCLUDED.seq",
                       3, params, &res);
    if ((st_db == AG_OK && ag_db_affected(res) > 0) || moved)
        read_moved(k, j);
    if (st_db == AG_ENOTFOUND)
        st_db = AG_OK; /* the user or the channel was deleted meanwhile: nothing to keep */
    return st != AG_OK ? st : st_db;
}

/*
 * Presence across daemons. presence:user:<id> is the SET of daemon instances
 * holding a session of the user; each daemon also lists the users it counted
 * in wsd:instance:<iid>:users and holds a lease wsd:instance:<iid> (TTL
 * ws_instance_ttl_ms, renewed by HEARTBEAT jobs). When a daemon dies without
 * saying offline (SIGKILL, OOM, host loss) its lease expires and the next
 * heartbeat of any live daemon removes it from its users' sets (reap_lua):
 * users left with no daemon go offline. The transitions empty→one and
 * one→empty publish user.<id>.presence with the user's channels, so that
 * receivers fan out without a lookup. The scripts build key names, which
 * suits one Redis (not Redis Cluster).
 */
/* also takes the lease if this daemon has not beaten yet: a daemon killed before
 * its first heartbeat must still be found by the reaper */
static const char presence_up_lua[] =
    "if redis.call('TYPE', KEYS[1]).ok == 'string' then redis.call('DEL', KEYS[1]) end "
    "redis.call('SET', KEYS[3], '1', 'PX', ARGV[3], 'NX') "
    "redis.call('SADD', 'wsd:instances', ARGV[1]) "
    "local a = redis.call('SADD', KEYS[1], ARGV[1]) "
    "redis.call('SADD', KEYS[2], ARGV[2]) "
    "if a == 1 and redis.call('SCARD', KEYS[1]) == 1 then return 1 end return 0";
static const char presence_down_lua[] =
    "if redis.call('TYPE', KEYS[1]).ok == 'string' then redis.call('DEL', KEYS[1]) end "
    "local r = redis.call('SREM', KEYS[1], ARGV[1]) "
    "redis.call('SREM', KEYS[2], ARGV[2]) "
    "if r == 1 and redis.call('SCARD', KEYS[1]) == 0 then return 1 end return 0";
/* renew the lease; returns 0 when it had vanished (first beat, Redis lost, or a stall) */
static const char lease_lua[] = "local had = redis.call('EXISTS', KEYS[1]) "
                                "redis.call('SET', KEYS[1], '1', 'PX', ARGV[2]) "
                                "redis.call('SADD', 'wsd:instances', ARGV[1]) return had";
/* dead instances: their users leave the presence sets; returns who went offline */
static const char reap_lua[] =
    "local out = {} "
    "for _, iid in ipairs(redis.call('SMEMBERS', 'wsd:instances')) do "
    "  if redis.call('EXISTS', 'wsd:instance:' .. iid) == 0 then "
    "    local uk = 'wsd:instance:' .. iid .. ':users' "
    "    for _, u in ipairs(redis.call('SMEMBERS', uk)) do "
    "      local pk = 'presence:user:' .. u "
    "      if redis.call('TYPE', pk).ok == 'set' and redis.call('SREM', pk, iid) == 1 "
    "         and redis.call('SCARD', pk) == 0 then out[#out + 1] = u end "
    "    end "
    "    redis.call('DEL', uk) redis.call('SREM', 'wsd:instances', iid) "
    "  end "
    "end return out";

static ag_status_t
presence_publish(wsd_store_t *k, int64_t user, bool up)
{
    int64_t    *ids = NULL;
    size_t      n = 0;
    ag_status_t st;

    if ((st = ag_subs_get(&k->m, k->a, user, &ids, &n)) != AG_OK)
        return st;
    return wsd_bus_emit(k->w, &(ag_ev_t){.subject = AG_EV_PRESENCE,
                                         .id = user,
                                         .user_id = user,
                                         .status = up ? AG_EV_ONLINE : AG_EV_OFFLINE,
                                         .channels = ids,
                                         .nchannels = n});
}

static ag_status_t
job_presence(wsd_store_t *k, wsd_job_t *j)
{
    char              key[64], ukey[96], lkey[64], uid[24], ttl[24];
    ag_cache_reply_t *r = NULL;
    ag_status_t       st;

    snprintf(key, sizeof(key), "presence:user:%lld", (long long)j->uid);
    snprintf(ukey, sizeof(ukey), "wsd:instance:%s:users", k->w->iid);
    snprintf(lkey, sizeof(lkey), "wsd:instance:%s", k->w->iid);
    snprintf(uid, sizeof(uid), "%lld", (long long)j->uid);
    snprintf(ttl, sizeof(ttl), "%lld", (long long)k->w->instance_ttl_ms);
    const char *argv[] = {
        "EVAL", j->up ? presence_up_lua : presence_down_lua, "3", key, ukey, lkey, k->w->iid, uid,
        ttl};
    if ((st = ag_cache_cmd(k->m.cache, k->a, &r, 9, argv)) != AG_OK)
        return st;
    if (ag_cache_reply_int(r) != 1)
        return AG_OK; /* another daemon still holds (or already held) a session */
    return presence_publish(k, j->uid, j->up);
}

static ag_status_t
job_heartbeat(wsd_store_t *k, wsd_job_t *j)
{
    char              key[64], ttl[24];
    ag_cache_reply_t *r = NULL;
    ag_status_t       st;

    snprintf(key, sizeof(key), "wsd:instance:%s", k->w->iid);
    if (!j->up) { /* shutdown: give the lease back; the reaper finishes what is left */
        const char *argv[] = {"DEL", key};
        return ag_cache_cmd(k->m.cache, k->a, NULL, 2, argv);
    }
    snprintf(ttl, sizeof(ttl), "%lld", (long long)k->w->instance_ttl_ms);
    const char *lease[] = {"EVAL", lease_lua, "1", key, k->w->iid, ttl};
    if ((st = ag_cache_cmd(k->m.cache, k->a, &r, 6, lease)) != AG_OK)
        return st;
    j->relost = ag_cache_reply_int(r) == 0;
    const char *reap[] = {"EVAL", reap_lua, "0"};
    if ((st = ag_cache_cmd(k->m.cache, k->a, &r, 3, reap)) != AG_OK)
        return st;
    for (size_t i = 0; i < ag_cache_reply_len(r); i++) {
        int64_t     user;
        const char *us = ag_cache_reply_str(ag_cache_reply_at(r, i), NULL);
        if (us && ag_parse_i64(us, &user) == AG_OK) {
            ag_log_info("wsd: user %lld offline (its daemon's lease expired)", (long long)user);
            presence_publish(k, user, false);
        }
    }
    return AG_OK;
}

static ag_status_t
job_user_updated(wsd_store_t *k, wsd_job_t *j)
{
    int64_t    *ids = NULL;
    size_t      n = 0;
    ag_status_t st = ag_subs_get(&k->m, k->a, j->uid, &ids, &n);
    return st == AG_OK ? copy_ids(j, ids, n) : st;
}

/* Memberships from PostgreSQL (the truth: a removal whose event was lost, a Redis set
 * left stale by an outage), and whether the account still exists. */
static ag_status_t
job_resync(wsd_store_t *k, wsd_job_t *j)
{
    int64_t    *ids = NULL;
    size_t      n = 0;
    ag_status_t st = ag_subs_load(&k->m, k->a, j->uid, &ids, &n, &j->exists);
    return st == AG_OK ? copy_ids(j, ids, n) : st;
}

void
wsd_store_run(wsd_store_t *k, wsd_job_t *j)
{
    wsd_t *w = k->w;

    switch (j->kind) {
    case WSD_JOB_LIVE:
        j->st = wsd_bus_live_create(w, j);
        break;
    case WSD_JOB_STREAM_INFO:
        j->st = wsd_bus_stream_last(w, &j->last);
        break;
    case WSD_JOB_SUBS:
        /* a connection broken by a restart fails once before it reconnects: one retry */
        if ((j->st = job_subs(k, j)) == AG_EUNAVAIL) {
            free(j->ids);
            free(j->offsets);
            j->ids = NULL;
            j->offsets = NULL;
            j->nids = 0;
            j->st = job_subs(k, j);
        }
        break;
    case WSD_JOB_REPLAY:
        j->st = wsd_bus_replay(w, j);
        break;
    case WSD_JOB_READ:
        j->st = job_read(k, j);
        break;
    case WSD_JOB_PRESENCE:
        j->st = job_presence(k, j);
        break;
    case WSD_JOB_USER_UPDATED:
        j->st = job_user_updated(k, j);
        break;
    case WSD_JOB_CONSUMERS:
        j->st = wsd_bus_user_consumers(w, j->uid);
        break;
    case WSD_JOB_HEARTBEAT:
        if ((j->st = job_heartbeat(k, j)) == AG_EUNAVAIL)
            j->st = job_heartbeat(k, j);
        break;
    case WSD_JOB_RESYNC:
        j->st = job_resync(k, j);
        break;
    case WSD_JOB_GQL_SUB:
        wsd_grun_sub(k->g, j);
        break;
    case WSD_JOB_GQL_EVENTS:
        wsd_grun_events(k->g, j);
        break;
    case WSD_JOB_GQL_REPLAY:
        wsd_grun_replay(k->g, j);
        break;
    }
    ag_arena_reset(k->a);
}
