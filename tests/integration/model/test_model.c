/*
 * tests/integration/model/test_model.c — lib/db, lib/cache and lib/model
 * against the test stack's PostgreSQL, Redis and NATS (TAP). Needs the
 * servers, hence not in `make check`: tests/integration/test_model_c.py runs
 * it in the integration phase of ./agora test (the harness sets AGORA_*).
 *
 * Every run makes its own users and channels (names carry the run's id), so
 * it runs beside the other tests and again on the same database.
 */
#include "events/events_nats.h"
#include "log/log.h"
#include "model/model.h"
#include "tap.h"

#include <nats/nats.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static ag_config_t  *cfg;
static ag_model_t    M;
static ag_arena_t   *A;
static char          run[24];
static ag_page_req_t all = {.after = 0, .limit = 100};

/* nats.c: a core subscription that records what the model publishes */
static natsConnection   *nc;
static natsSubscription *sub;

static const char *
name(const char *what)
{
    return ag_arena_printf(A, "%s_%s", what, run);
}

static int64_t
new_user(const char *what, const char *display)
{
    ag_user_t *u = NULL;
    return ag_user_create(&M, A, name(what), "not-a-hash", display, &u) == AG_OK ? u->id : 0;
}

/*
 * The next message on the recording subscription whose subject is subj
 * (others skipped), NULL when none came within 3 s: the stack's daemons keep
 * publishing (heartbeats, presence), so the wait has a deadline of its own.
 */
static char *
next_event(const char *subj)
{
    natsMsg *m = NULL;
    char    *out = NULL;
    int64_t  until = ag_now_mono_ms() + 3000, left;

    while ((left = until - ag_now_mono_ms()) > 0 &&
           natsSubscription_NextMsg(&m, sub, left) == NATS_OK) {
        if (strcmp(natsMsg_GetSubject(m), subj) == 0) {
            out = ag_arena_strndup(A, natsMsg_GetData(m), (size_t)natsMsg_GetDataLength(m));
            natsMsg_Destroy(m);
            return out;
        }
        natsMsg_Destroy(m);
    }
    return NULL;
}

/* Forget what was published so far (what the daemons keep publishing included). */
static void
drain_events(void)
{
    natsMsg *m = NULL;
    int64_t  until = ag_now_mono_ms() + 200, left;

    while ((left = until - ag_now_mono_ms()) > 0 &&
           natsSubscription_NextMsg(&m, sub, left) == NATS_OK)
        natsMsg_Destroy(m);
}

/* ---- lib/db ------------------------------------------------------------------------ */

static void
test_db(void)
{
    ag_db_res_t *r = NULL;
    const char  *p[] = {"41", NULL};
    char         sql[64];

    is_int(ag_db_health(M.db), AG_OK, "db: the test PostgreSQL answers");
    is_int(ag_db_exec(M.db, A, "SELECT $1::int + 1 AS n, $2::text AS t, true AS b", 2, p, &r),
           AG_OK, "db: a parameterised statement");
    ok(ag_db_rows(r) == 1 && ag_db_i64(r, 0, ag_db_col(r, "n")) == 42, "db: its value by column");
    ok(ag_db_isnull(r, 0, 1) && ag_db_val(r, 0, 1) == NULL, "db: a NULL parameter is SQL NULL");
    ok(ag_db_bool(r, 0, 2) && ag_db_col(r, "missing") == -1, "db: booleans; unknown columns -1");
    is_int(ag_db_exec(M.db, A, "SELECT $1::int + 1 AS n, $2::text AS t, true AS b", 2, p, &r),
           AG_OK, "db: the same statement again (prepared once, by its address)");

    /* a caller that builds SQL in a buffer: the same address with other text runs as written */
    snprintf(sql, sizeof(sql), "SELECT 1 AS v");
    ag_db_exec(M.db, A, sql, 0, NULL, &r);
    snprintf(sql, sizeof(sql), "SELECT 2 AS v");
    ok(ag_db_exec(M.db, A, sql, 0, NULL, &r) == AG_OK && ag_db_i64(r, 0, 0) == 2,
       "db: a reused address with other text is not taken for the prepared statement");

    const char *bad[] = {"forty-two"};
    is_int(ag_db_exec(M.db, A, "SELECT $1::bigint", 1, bad, NULL), AG_EBADREQ,
           "db: a value of the wrong type is AG_EBADREQ");
    is_int(ag_db_exec(M.db, A, "SELEC nonsense", 0, NULL, NULL), AG_EINTERNAL,
           "db: a broken statement is AG_EINTERNAL");
    ok(strstr(ag_db_error(M.db), "syntax") != NULL, "db: ... with the server's message");

    const char *dup[] = {name("dup")};
    ag_db_exec(M.db, A, "INSERT INTO users (username, password_hash) VALUES ($1, 'x')", 1, dup,
               NULL);
    is_int(ag_db_exec(M.db, A, "INSERT INTO users (username, password_hash) VALUES ($1, 'x')", 1,
                      dup, NULL),
           AG_ECONFLICT, "db: a unique violation is AG_ECONFLICT");
    ok(*ag_db_constraint(M.db) != '\0', "db: ... naming the constraint (%s)",
       ag_db_constraint(M.db));
    const char *fk[] = {"-1"};
    is_int(ag_db_exec(M.db, A,
                      "INSERT INTO follows (follower_id, followee_id) VALUES ($1::bigint, "
                      "$1::bigint - 1)",
                      1, fk, NULL),
           AG_ENOTFOUND, "db: a foreign key to a missing row is AG_ENOTFOUND");

    const char *tx[] = {name("tx")};
    ag_db_begin(M.db);
    ag_db_exec(M.db, A, "INSERT INTO users (username, password_hash) VALUES ($1, 'x')", 1, tx,
               NULL);
    ag_db_rollback(M.db);
    ag_db_exec(M.db, A, "SELECT 1 FROM users WHERE username = $1", 1, tx, &r);
    is_int(ag_db_rows(r), 0, "db: a rolled back insert is gone");
    ag_db_begin(M.db);
    ag_db_exec(M.db, A, "INSERT INTO users (username, password_hash) VALUES ($1, 'x')", 1, tx,
               NULL);
    is_int(ag_db_commit(M.db), AG_OK, "db: commit");
    ag_db_exec(M.db, A, "SELECT 1 FROM users WHERE username = $1", 1, tx, &r);
    is_int(ag_db_rows(r), 1, "db: a committed insert stays");
    ag_db_exec(M.db, A, "UPDATE users SET bio = 'b' WHERE username = $1", 1, tx, &r);
    is_int(ag_db_affected(r), 1, "db: rows affected by an update");

    is_int(ag_db_exec_generic(M.db, A, "SELECT $1::int * 2", 1, p, &r), AG_OK,
           "db: a statement with a generic plan");
    ok(ag_db_i64(r, 0, 0) == 82, "db: ... gives the same answer");

    /* the server ends our session (a restart, an operator): the next calls reconnect */
    ag_db_t     *other = ag_db_new(cfg);
    ag_db_res_t *pid = NULL;
    ag_db_exec(M.db, A, "SELECT pg_backend_pid()::text", 0, NULL, &pid);
    const char *kp[] = {ag_db_val(pid, 0, 0)};
    ag_db_exec(other, A, "SELECT pg_terminate_backend($1::int)", 1, kp, NULL);
    ag_db_free(other);
    ag_status_t st = ag_db_exec(M.db, A, "SELECT 1", 0, NULL, NULL);
    if (st != AG_OK)
        st = ag_db_exec(M.db, A, "SELECT 1", 0, NULL, NULL);
    is_int(st, AG_OK, "db: a dropped connection is made again on the next call");
}

/* ---- lib/cache --------------------------------------------------------------------- */

static void
test_cache(void)
{
    ag_cache_reply_t *r = NULL, *reps[3] = {NULL, NULL, NULL};
    const char       *key = name("cache:k"), *list = name("cache:l");
    const char       *set[] = {"SET", key, "v\0w", "EX", "60"};
    const char       *get[] = {"GET", key};
    const char       *push[] = {"RPUSH", list, "a", "b"};
    const char       *range[] = {"LRANGE", list, "0", "-1"};
    const char       *incr_wrong[] = {"INCR", list};
    const char       *nothing[] = {"GET", name("cache:none")};
    int64_t           count = 0, ttl = 0;
    size_t            len = 0;

    is_int(ag_cache_health(M.cache), AG_OK, "cache: the test Redis answers");
    is_int(ag_cache_cmd(M.cache, A, &r, 5, set), AG_OK, "cache: SET");
    is_int(ag_cache_reply_type(r), AG_CACHE_STATUS, "cache: ... answered with a status");
    ag_cache_cmd(M.cache, A, &r, 2, get);
    ok(ag_cache_reply_type(r) == AG_CACHE_STR && strcmp(ag_cache_reply_str(r, &len), "v") == 0 &&
           len == 1,
       "cache: GET returns the string (argv strings are C strings)");
    ag_cache_cmd(M.cache, A, &r, 4, push);
    ok(ag_cache_reply_type(r) == AG_CACHE_INT && ag_cache_reply_int(r) == 2, "cache: integers");
    ag_cache_cmd(M.cache, A, &r, 4, range);
    ok(ag_cache_reply_type(r) == AG_CACHE_ARR && ag_cache_reply_len(r) == 2 &&
           strcmp(ag_cache_reply_str(ag_cache_reply_at(r, 1), NULL), "b") == 0 &&
           ag_cache_reply_at(r, 2) == NULL,
       "cache: arrays, and no element past the end");
    ag_cache_cmd(M.cache, A, &r, 2, nothing);
    is_int(ag_cache_reply_type(r), AG_CACHE_NIL, "cache: a missing key is nil");
    is_int(ag_cache_cmd(M.cache, A, &r, 2, incr_wrong), AG_EINTERNAL,
           "cache: an error reply is AG_EINTERNAL");
    ok(*ag_cache_error(M.cache) != '\0', "cache: ... with Redis's message (%s)",
       ag_cache_error(M.cache));

    const char **argvs[] = {get, incr_wrong, range};
    int          argcs[] = {2, 2, 4};
    is_int(ag_cache_pipeline_get(M.cache, A, 3, argcs, argvs, reps), AG_OK,
           "cache: a pipeline with an error in the middle");
    ok(reps[0] && ag_cache_reply_type(reps[0]) == AG_CACHE_STR && reps[1] &&
           ag_cache_reply_type(reps[1]) == AG_CACHE_ERR && reps[2] &&
           ag_cache_reply_type(reps[2]) == AG_CACHE_ARR,
       "cache: ... keeps every reply in its place, the error as an error reply");

    const char *rl = name("rl");
    ag_cache_hit(M.cache, rl, 60, &count, &ttl);
    ag_cache_hit(M.cache, rl, 60, &count, &ttl);
    ok(count == 2 && ttl > 0 && ttl <= 60, "cache: a rate-limit window counts and expires");
}

/* ---- lib/model: users -------------------------------------------------------------- */

static void
test_users(int64_t *ana, int64_t *bob)
{
    ag_user_t       *u = NULL;
    ag_user_page_t   page;
    const char      *hash = NULL;
    ag_user_brief_t *briefs[3];

    *ana = new_user("ana", "Ana Lima");
    *bob = new_user("bob", NULL);
    ok(*ana > 0 && *bob > 0, "users: two accounts");
    is_int(ag_user_create(&M, A, name("ana"), "h", NULL, &u), AG_ECONFLICT,
           "users: a taken username is a conflict");
    ok(ag_user_get(&M, A, *ana, &u) == AG_OK && strcmp(u->username, name("ana")) == 0 &&
           strcmp(u->display_name, "Ana Lima") == 0 && u->bio == NULL && u->created_at &&
           strchr(u->created_at, 'T') && u->created_at[strlen(u->created_at) - 1] == 'Z',
       "users: a record with RFC 3339 UTC time and NULL for what is unset");
    is_int(ag_user_get(&M, A, INT64_MAX, &u), AG_ENOTFOUND, "users: no such user");
    ok(ag_user_credentials(&M, A, name("bob"), &u, &hash) == AG_OK && u->id == *bob &&
           strcmp(hash, "not-a-hash") == 0,
       "users: credentials by username");

    char *prefix = ag_arena_strdup(A, name("ana"));
    prefix[strlen(prefix) - 2] = '\0';
    ag_user_search(&M, A, prefix, &all, &page);
    ok(page.n >= 1 && page.items[page.n - 1].id == *ana, "users: search by username prefix");
    ag_user_search(&M, A, "NA LI", &all, &page);
    bool found = false;
    for (size_t i = 0; i < page.n; i++)
        found |= page.items[i].id == *ana;
    ok(found, "users: search by display-name substring, any case");
    ag_user_search(&M, A, ag_arena_printf(A, "%%_%s", run), &all, &page);
    is_int(page.n, 0, "users: %% and _ in a search match only themselves");
    ag_page_req_t one = {.after = *ana - 1, .limit = 1};
    ag_user_search(&M, A, NULL, &one, &page);
    ok(page.n == 1 && page.items[0].id == *ana && page.has_next, "users: keyset pages");

    drain_events();
    ag_user_patch_t patch = {.set_bio = true, .bio = "hello", .set_display_name = true};
    ok(ag_user_update(&M, A, *ana, &patch, &u) == AG_OK && strcmp(u->bio, "hello") == 0 &&
           u->display_name == NULL,
       "users: an update sets and clears what it names");
    char *ev = next_event(ag_arena_printf(A, "user.%lld.updated", (long long)*ana));
    ok(ev && strstr(ev, "\"userId\"") && !strstr(ev, "deleted"), "users: ... and says so (%s)",
       ev ? ev : "nothing");

    int64_t ids[] = {*ana, INT64_MAX, *bob};
    ag_users_cache_forget(&M, *ana);
    ok(ag_users_brief(&M, A, ids, 3, briefs) == AG_OK && briefs[0] && briefs[1] == NULL &&
           briefs[2] && briefs[0]->display_name == NULL && briefs[2]->display_name == NULL,
       "users: brief records, NULL for a missing id");
    ok(ag_users_brief(&M, A, ids, 3, briefs) == AG_OK && briefs[0] &&
           strcmp(briefs[0]->username, name("ana")) == 0,
       "users: ... the same from the cache");

    const char *names[] = {name("ana"), name("bob"), "no\"such\\user", name("nobody")};
    int64_t    *found_ids = NULL;
    size_t      n = 0;
    ok(ag_users_by_username(&M, A, names, 4, &found_ids, &n) == AG_OK && n == 2,
       "users: ids by username, quotes and backslashes in names are data");
}

/* ---- lib/model: channels, members, access ------------------------------------------ */

static void
test_channels(int64_t ana, int64_t bob, int64_t *cid)
{
    ag_channel_t       *c = NULL;
    ag_channel_page_t   cp;
    ag_member_t        *mb = NULL;
    ag_member_page_t    mp;
    ag_channel_access_t acc;
    bool                inserted = false;
    char               *ev;

    drain_events();
    is_int(ag_channel_create(&M, A, ana, name("general"), NULL, "private", cid), AG_OK,
           "channels: create");
    ev = next_event(ag_arena_printf(A, "channel.%lld.member.joined", (long long)*cid));
    ok(ev && strstr(ev, ag_arena_printf(A, "\"userId\":\"%lld\"", (long long)ana)),
       "channels: the owner's member.joined is published");
    ok(ag_channel_get(&M, A, *cid, ana, &c) == AG_OK && c->owner_id == ana &&
           c->member_count == 1 && strcmp(c->my_role, "owner") == 0 && c->topic == NULL,
       "channels: the creator is its owner and first member");
    ok(ag_channel_get(&M, A, *cid, bob, &c) == AG_OK && c->my_role == NULL,
       "channels: read by another user, no role");

    ag_channel_access(&M, A, *cid, bob, &acc);
    ok(acc.exists && !acc.is_public && acc.role == NULL, "access: the facts for an outsider");
    const char *why;
    is_int(ag_access_check(&acc, AG_ACCESS_READ, &why), AG_ENOTFOUND,
           "access: a private channel is not found by an outsider");
    ag_channel_list(&M, A, bob, false, &all, &cp);
    bool seen = false;
    for (size_t i = 0; i < cp.n; i++)
        seen |= cp.items[i].id == *cid;
    ok(!seen, "channels: nor listed to them");

    is_int(ag_member_put(&M, A, *cid, bob, NULL, NULL, &inserted), AG_OK, "members: add bob");
    ok(inserted, "members: ... a new member");
    is_int(ag_member_put(&M, A, *cid, bob, "admin", NULL, &inserted), AG_ECONFLICT,
           "members: a change decided on a stale role is a conflict");
    ok(ag_member_put(&M, A, *cid, bob, "admin", "member", &inserted) == AG_OK && !inserted,
       "members: promoted while still a member");
    ok(ag_member_get(&M, A, *cid, bob, &mb) == AG_OK && strcmp(mb->role, "admin") == 0,
       "members: the role as it is now");
    is_int(ag_member_put(&M, A, *cid, INT64_MAX, NULL, NULL, &inserted), AG_ENOTFOUND,
           "members: no such user");
    ag_member_list(&M, A, *cid, &all, &mp);
    ok(mp.n == 2 && mp.items[0].user_id < mp.items[1].user_id && !mp.has_next,
       "members: listed by user id");
    ag_channel_list(&M, A, bob, true, &all, &cp);
    ok(cp.n >= 1 && cp.items[cp.n - 1].id == *cid &&
           strcmp(cp.items[cp.n - 1].my_role, "admin") == 0,
       "channels: member=me lists it with the caller's role");

    drain_events();
    ag_channel_patch_t patch = {.set_topic = true, .topic = "news", .visibility = "public"};
    is_int(ag_channel_update(&M, A, *cid, &patch), AG_OK, "channels: update");
    ok(ag_channel_get(&M, A, *cid, ana, &c) == AG_OK && strcmp(c->topic, "news") == 0 &&
           strcmp(c->visibility, "public") == 0 && strcmp(c->name, name("general")) == 0,
       "channels: what was named changed, the rest kept");
    ok(next_event(ag_arena_printf(A, "channel.%lld.updated", (long long)*cid)) != NULL,
       "channels: channel.<id>.updated is published");

    is_int(ag_channel_transfer(&M, A, *cid, bob, ana), AG_EFORBIDDEN,
           "channels: only the owner hands it over");
    is_int(ag_channel_transfer(&M, A, *cid, ana, INT64_MAX), AG_ENOTFOUND,
           "channels: only to a member");
    is_int(ag_channel_transfer(&M, A, *cid, ana, bob), AG_OK, "channels: hand over to bob");
    ag_channel_access(&M, A, *cid, ana, &acc);
    ok(ag_channel_get(&M, A, *cid, bob, &c) == AG_OK && c->owner_id == bob &&
           strcmp(c->my_role, "owner") == 0 && strcmp(acc.role, "admin") == 0,
       "channels: bob owns it, ana is an admin");

    is_int(ag_member_remove(&M, A, *cid, ana, "member"), AG_ECONFLICT,
           "members: removing on a stale role is a conflict");
    is_int(ag_member_remove(&M, A, *cid, ana, "admin"), AG_OK, "members: ana removed");
    is_int(ag_member_remove(&M, A, *cid, ana, "admin"), AG_OK,
           "members: removing one who is gone is done, not a conflict");
    ok(next_event(ag_arena_printf(A, "channel.%lld.member.left", (long long)*cid)) != NULL,
       "members: member.left is published");
}

/* ---- lib/model: follows, notifications, subscriptions, activity -------------------- */

static void
test_follows_and_notifications(int64_t ana, int64_t bob, int64_t cid)
{
    ag_notification_page_t np;
    ag_notification_t     *pend = NULL;
    size_t                 n = 0;
    bool                   created = false;

    is_int(ag_follow(&M, A, ana, bob), AG_OK, "follows: ana follows bob");
    ag_unfollow(&M, A, ana, bob);
    ag_follow(&M, A, ana, bob);
    ag_notify_list(&M, A, bob, &all, &np);
    int followers = 0;
    for (size_t i = 0; i < np.n; i++)
        followers += strcmp(np.items[i].kind, "new_follower") == 0 && np.items[i].actor_id == ana;
    is_int(followers, 1, "follows: one new_follower a day, however often it is toggled");
    is_int(ag_follow(&M, A, ana, INT64_MAX), AG_ENOTFOUND, "follows: no such followee");

    ok(ag_notify(&M, A, bob, "mention", ana, cid, "6566b1f0c2a4e81d3c9f0a12", name("k1"),
                 &created) == AG_OK &&
           created,
       "notifications: stored");
    ok(ag_notify(&M, A, bob, "mention", ana, cid, "6566b1f0c2a4e81d3c9f0a12", name("k1"),
                 &created) == AG_OK &&
           !created,
       "notifications: the same dedupe key stores nothing new");
    ag_notify_list(&M, A, bob, &all, &np);
    ok(np.n >= 2 && strcmp(np.items[0].kind, "mention") == 0 && np.items[0].channel_id == cid &&
           np.items[0].id > np.items[1].id && !np.items[0].read,
       "notifications: newest first, unread");
    ag_notify_mark_read(&M, A, bob, np.items[0].id);
    ag_notify_list(&M, A, bob, &all, &np);
    ok(np.items[0].read && np.items[np.n - 1].read, "notifications: read up to an id");

    /* the outbox's view: nothing unpublished of ours while NATS is up */
    ag_notify_pending(&M, A, 0, ag_now_wall_ms() + 1000, 1000, &pend, &n);
    bool ours = false;
    for (size_t i = 0; i < n; i++)
        ours |= pend[i].user_id == bob;
    ok(!ours, "notifications: published at once with NATS up (none pending)");
    ag_notification_t fake = {
        .id = np.items[0].id, .user_id = bob, .kind = "mention", .actor_id = 0};
    drain_events();
    is_int(ag_notify_publish(&M, &fake), AG_OK, "notifications: the outbox's republish");
}

static void
test_subs_and_activity(int64_t bob, int64_t cid)
{
    int64_t          *ids = NULL;
    size_t            n = 0;
    bool              exists = false;
    ag_channel_day_t *days = NULL;
    char              set[64], mark[64];
    const char       *del[] = {"DEL", set, mark};

    snprintf(set, sizeof(set), "user:%lld:subs", (long long)bob);
    snprintf(mark, sizeof(mark), "user:%lld:subs:built", (long long)bob);
    ag_cache_cmd(M.cache, NULL, NULL, 3, del);
    ok(ag_subs_get(&M, A, bob, &ids, &n) == AG_OK && n == 1 && ids[0] == cid,
       "subs: rebuilt from PostgreSQL when Redis lost them");
    ok(ag_subs_load(&M, A, bob, &ids, &n, &exists) == AG_OK && exists && n == 1,
       "subs: loaded from the truth");
    ok(ag_subs_load(&M, A, INT64_MAX, &ids, &n, &exists) == AG_OK && !exists && n == 0,
       "subs: a user that does not exist");

    const char *doc = name("doc");
    ag_activity_record(&M, A, doc, cid, ag_now_wall_ms(), "post", bob);
    ag_activity_record(&M, A, doc, cid, ag_now_wall_ms(), "post", bob);
    ok(ag_activity_days(&M, A, cid, 3, &days, &n) == AG_OK && n == 3 && days[2].posts == 1 &&
           days[2].active_posters == 1 && days[0].posts == 0,
       "activity: every day of the window, a record counted once");
}

static void
test_delete(int64_t bob, int64_t cid)
{
    ag_user_deleted_t d;
    ag_channel_t     *c = NULL;
    int64_t           carl = new_user("carl", NULL), lone;
    bool              inserted;

    ag_member_put(&M, A, cid, carl, NULL, NULL, &inserted);
    ag_channel_create(&M, A, bob, name("lonely"), NULL, "public", &lone);
    drain_events();
    is_int(ag_user_delete(&M, A, bob, &d), AG_OK, "accounts: delete bob");
    ok(d.nowned == 2, "accounts: ... who owned two channels");
    ok(ag_channel_get(&M, A, cid, carl, &c) == AG_OK && c->owner_id == carl &&
           strcmp(c->my_role, "owner") == 0,
       "accounts: the channel passes to its longest-standing member");
    is_int(ag_channel_get(&M, A, lone, carl, &c), AG_ENOTFOUND,
           "accounts: a channel left with no member is deleted");
    char *ev = next_event(ag_arena_printf(A, "channel.%lld.updated", (long long)lone));
    ok(ev && strstr(ev, "\"deleted\":\"true\""), "accounts: ... and says so");
    ev = next_event(ag_arena_printf(A, "user.%lld.updated", (long long)bob));
    ok(ev && strstr(ev, "\"deleted\":\"true\""), "accounts: the user's deletion is published");
    is_int(ag_user_delete(&M, A, bob, &d), AG_ENOTFOUND, "accounts: no such user any more");
}

int
main(void)
{
    char         err[512];
    int64_t      ana = 0, bob = 0, cid = 0;
    natsOptions *opts = NULL;

    ag_log_init("test_model", "warn", "stderr");
    if (ag_config_load(NULL, &cfg, err, sizeof(err)) != AG_OK) {
        printf("Bail out! config: %s\n", err);
        return 1;
    }
    snprintf(run, sizeof(run), "m%lx%x", (unsigned long)time(NULL), (unsigned)getpid());
    A = ag_arena_new(64 * 1024);
    M.db = ag_db_new(cfg);
    M.cache = ag_cache_new(cfg);
    if (ag_events_new(cfg, "test-model", &M.events) != AG_OK ||
        ag_events_nats_options(cfg, "test-model-sub", 0, &opts) != NATS_OK ||
        natsConnection_Connect(&nc, opts) != NATS_OK ||
        natsConnection_SubscribeSync(&sub, nc, ">") != NATS_OK) {
        printf("Bail out! NATS is not reachable\n");
        return 1;
    }
    natsOptions_Destroy(opts);
    /* ag_events connects in the background: wait for it, as a program's health does */
    for (int i = 0; i < 100 && ag_events_health(M.events) != AG_OK; i++)
        usleep(50 * 1000);

    test_db();
    test_cache();
    test_users(&ana, &bob);
    test_channels(ana, bob, &cid);
    test_follows_and_notifications(ana, bob, cid);
    test_subs_and_activity(bob, cid);
    test_delete(bob, cid);

    natsSubscription_Destroy(sub);
    natsConnection_Destroy(nc);
    ag_events_free(M.events);
    ag_events_shutdown();
    ag_cache_free(M.cache);
    ag_db_free(M.db);
    ag_arena_free(A);
    ag_config_free(cfg);
    ag_log_fini();
    return done_testing();
}
