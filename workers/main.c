/*
 * workers/main.c — agora-worker JOB: run one cron job once (CONTRACT §7).
 * A PostgreSQL advisory lock per job keeps two runs from overlapping (cron
 * fires every minute; a run stops after worker_max_seconds). Exit status:
 * 0 done (also when another run holds the lock), 1 a dependency was down
 * or the job failed, 2 usage, 78 configuration.
 *
 * --resident (what apache/agora.cron runs for fanout and index): the run
 * drains what is pending, then stays the job's consumer, handing each event
 * on as it is stored, until the next minute's run asks for the lock. That run
 * waits for the lock (pg_advisory_lock: it shows in pg_locks as not granted);
 * the resident run sees it there within RESIDENT_IDLE_MS, settles what it
 * holds, releases the lock and exits, and the waiting run goes on from the
 * durable consumer's ack floor. So notifications and the search index follow
 * the write path within a second while cron still starts (and, after a crash,
 * restarts) every run, and no two runs of a job ever consume at once.
 */
#include "worker.h"
#include "log/log.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const worker_job_t jobs[] = {
    {"fanout", "notifications for mentions, comments and replies", 7411062101, AG_EV_STREAM_CHANNEL,
     worker_fanout_handle, NULL, "notifications created", "skipped (deleted)"},
    {"index", "the full-text search index of posts", 7411062102, AG_EV_STREAM_CHANNEL,
     worker_index_handle, NULL, "posts indexed", "removed"},
    {"analytics", "per-channel daily activity for /channels/{id}/stats", 7411062103,
     AG_EV_STREAM_CHANNEL, worker_analytics_handle, NULL, "records counted", "skipped (deleted)"},
    {"outbox", "republish stored events and notifications JetStream never acked", 7411062104,
     AG_EV_STREAM_NONE, NULL, worker_outbox_run, "events republished", "notifications republished"},
};

static void
usage(FILE *f)
{
    fprintf(f, "usage: agora-worker [options] JOB\n"
               "Runs one background job once, as cron does every minute, and exits when\n"
               "nothing is pending or the time budget is spent.\n"
               "Jobs:\n");
    for (size_t i = 0; i < AG_ARRAY_LEN(jobs); i++)
        fprintf(f, "  %-10s %s\n", jobs[i].name, jobs[i].help);
    fprintf(f,
            "Options:\n"
            "  --max-seconds N  time budget (default worker_max_seconds, 50)\n"
            "  --resident       stay the consumer until the next run takes over (stream jobs)\n"
            "  --batch N        messages per fetch (default worker_batch, 100)\n"
            "  --config FILE    configuration file (default $AGORA_CONFIG or %s)\n"
            "  --check-config   print the effective configuration and exit\n"
            "  --help           this text\n"
            "Configuration keys (each also AGORA_<KEY> in the environment):\n",
            AG_CONFIG_DEFAULT_PATH);
    ag_config_print_keys(f);
}

static const worker_job_t *
find_job(const char *name)
{
    for (size_t i = 0; i < AG_ARRAY_LEN(jobs); i++)
        if (strcmp(jobs[i].name, name) == 0)
            return &jobs[i];
    return NULL;
}

typedef struct {
    const char *config, *job, *max_seconds, *batch;
    bool        check, resident;
} args_t;

/* 0 to go on, else the exit status. */
static int
parse_args(int argc, char **argv, args_t *o)
{
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage(stdout);
            return -1;
        } else if (strcmp(a, "--check-config") == 0) {
            o->check = true;
        } else if (strcmp(a, "--resident") == 0) {
            o->resident = true;
        } else if (strcmp(a, "--config") == 0 && i + 1 < argc) {
            o->config = argv[++i];
        } else if (strcmp(a, "--max-seconds") == 0 && i + 1 < argc) {
            o->max_seconds = argv[++i];
        } else if (strcmp(a, "--batch") == 0 && i + 1 < argc) {
            o->batch = argv[++i];
        } else if (o->job == NULL && a[0] != '-') {
            o->job = a;
        } else {
            fprintf(stderr, "agora-worker: unknown argument '%s' (see --help)\n", a);
            return 2;
        }
    }
    if (o->job == NULL && !o->check) {
        usage(stderr);
        return 2;
    }
    if (o->job && find_job(o->job) == NULL) {
        fprintf(stderr, "agora-worker: unknown job '%s' (fanout, index, analytics, outbox)\n",
                o->job);
        return 2;
    }
    if (o->resident && o->job && find_job(o->job)->stream == AG_EV_STREAM_NONE) {
        fprintf(stderr,
                "agora-worker: --resident is for the stream jobs (fanout, index, "
                "analytics), not '%s'\n",
                o->job);
        return 2;
    }
    return 0;
}

/* Config file, environment, then the command line (which names the key in errors). */
static ag_status_t
load_config(const args_t *o, ag_config_t **cfg)
{
    char err[512];
    if (ag_config_load(o->config, cfg, err, sizeof(err)) != AG_OK ||
        (o->max_seconds && ag_config_set(*cfg, "worker_max_seconds", o->max_seconds,
                                         "--max-seconds", err, sizeof(err)) != AG_OK) ||
        (o->batch &&
         ag_config_set(*cfg, "worker_batch", o->batch, "--batch", err, sizeof(err)) != AG_OK)) {
        fprintf(stderr, "agora-worker: %s\n", err);
        ag_config_free(*cfg); /* accepts NULL (the file itself failed) */
        *cfg = NULL;
        return AG_ECONFIG;
    }
    return AG_OK;
}

/* pg_try_advisory_lock on this run's connection: released when it closes, even on a crash. */
static ag_status_t
lock_job(worker_t *w, ag_arena_t *a, bool take, bool *got)
{
    ag_db_res_t *r = NULL;
    char         id[24];
    ag_status_t  st;

    snprintf(id, sizeof(id), "%lld", (long long)w->job->lock_id);
    const char *p[] = {id};
    st = ag_db_exec(w->m.db, a,
                    take ? "SELECT pg_try_advisory_lock($1::bigint)"
                         : "SELECT pg_advisory_unlock($1::bigint)",
                    1, p, &r);
    if (got)
        *got = st == AG_OK && ag_db_bool(r, 0, 0);
    return st;
}

/* SIGTERM to a resident run (./agora down, an operator): settle what it holds, then exit */
static volatile sig_atomic_t terminated;

static void
on_term(int sig)
{
    (void)sig;
    terminated = 1;
}

/*
 * A resident run whose lock is held waits for it (the previous minute's run hands
 * over when it sees this wait in pg_locks), at most until its own deadline.
 * pg_advisory_lock is given up by statement_timeout every few seconds: ask again.
 */
static void
wait_lock(worker_t *w, ag_arena_t *a, bool *got)
{
    char        id[24];
    ag_status_t st = AG_OK;

    snprintf(id, sizeof(id), "%lld", (long long)w->job->lock_id);
    const char *p[] = {id};
    ag_log_info("%s: another run holds the lock; waiting for it to hand over", w->job->name);
    while (!*got && worker_time_left(w) && !terminated) {
        int64_t t0 = ag_now_mono_ms();
        st = ag_db_exec(w->m.db, a, "SELECT pg_advisory_lock($1::bigint)", 1, p, NULL);
        *got = st == AG_OK;
        if (!*got && ag_now_mono_ms() - t0 < 500) { /* PostgreSQL down: do not spin */
            struct timespec ts = {0, 500 * 1000000L};
            nanosleep(&ts, NULL);
        }
        ag_arena_reset(a);
    }
    if (!*got)
        ag_log_warn("%s: lock not obtained (%s)", w->job->name,
                    terminated    ? "terminated"
                    : st != AG_OK ? ag_db_error(w->m.db)
                                  : "time is up");
}

/* 1 when another session waits for this job's lock, 0 when none, -1 on error. */
static int
successor_waiting(worker_t *w, ag_arena_t *a)
{
    ag_db_res_t *r = NULL;
    char         id[24];

    snprintf(id, sizeof(id), "%lld", (long long)w->job->lock_id);
    const char *p[] = {id};
    /* a bigint advisory key shows as classid (high 32 bits), objid (low), objsubid 1 */
    if (ag_db_exec(w->m.db, a,
                   "SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' "
                   "AND NOT granted AND objsubid = 1 AND database = (SELECT oid FROM "
                   "pg_database WHERE datname = current_database()) AND "
                   "(classid::bigint << 32 | objid::bigint) = $1::bigint)",
                   1, p, &r) != AG_OK)
        return -1;
    return ag_db_bool(r, 0, 0) ? 1 : 0;
}

#define RESIDENT_CHECK_MS 100 /* how often a busy resident run looks for its successor */

bool
worker_handover_due(worker_t *w)
{
    int64_t now = ag_now_mono_ms();
    int     waiting;

    if (w->handing_over || !worker_time_left(w) || terminated)
        return true;
    if (now < w->next_check)
        return false;
    w->next_check = now + RESIDENT_CHECK_MS;
    waiting = successor_waiting(w, w->scratch);
    ag_arena_reset(w->scratch);
    if (waiting == 1) { /* decided: every later call says so too */
        ag_log_info("%s: the next run is waiting; handing over", w->job->name);
        w->handing_over = true;
    }
    /* PostgreSQL unreachable: the successor cannot take the lock either; stay */
    return w->handing_over;
}

/* The stores, NATS and (stream jobs) the bound durable consumer; nothing is fetched yet. */
static ag_status_t
prepare_job(worker_t *w)
{
    char        err[512];
    ag_status_t st;

    if (ag_content_open(w->cfg, w->m.db, &w->content, err, sizeof(err)) != AG_OK) {
        ag_log_error("%s: content store: %s", w->job->name, err);
        return AG_ECONFIG;
    }
    if ((st = ag_events_new(w->cfg, "agora-worker", &w->m.events)) != AG_OK)
        return st;
    if (w->job->stream == AG_EV_STREAM_NONE)
        return AG_OK;
    if ((st = worker_bus_open(w->cfg, w->job->name, &w->bus)) != AG_OK)
        return st;
    st = worker_bus_consume(w->bus, w->job->stream, w->job->name,
                            ag_config_int(w->cfg, AG_CFG_worker_ack_wait_s));
    if (st != AG_OK)
        ag_log_error("%s: %s", w->job->name, worker_bus_error(w->bus));
    return st;
}

static ag_status_t
run_job(worker_t *w)
{
    return w->job->stream == AG_EV_STREAM_NONE ? w->job->run(w) : worker_drain(w);
}

static void
log_summary(const worker_t *w, ag_status_t st, int64_t started)
{
    const worker_job_t *j = w->job;
    if (j->stream != AG_EV_STREAM_NONE)
        ag_log_info("%s: %s; fetched %llu, acked %llu, %s %llu, %s %llu, retried %llu, "
                    "dead-lettered %llu in %lld ms",
                    j->name, st == AG_OK ? "done" : ag_status_name(st),
                    (unsigned long long)w->n.fetched, (unsigned long long)w->n.acked, j->done_what,
                    (unsigned long long)w->n.done, j->skipped_what,
                    (unsigned long long)w->n.skipped, (unsigned long long)w->n.retried,
                    (unsigned long long)w->n.deadlettered, (long long)(ag_now_mono_ms() - started));
    else
        ag_log_info("%s: %s; %s %llu, %s %llu, deferred (retried with backoff) %llu in %lld ms",
                    j->name, st == AG_OK ? "done" : ag_status_name(st), j->done_what,
                    (unsigned long long)w->n.done, j->skipped_what,
                    (unsigned long long)w->n.skipped, (unsigned long long)w->n.retried,
                    (long long)(ag_now_mono_ms() - started));
}

int
main(int argc, char **argv)
{
    args_t       o = {0};
    ag_config_t *cfg = NULL;
    ag_arena_t  *a = NULL;
    worker_t     w = {0};
    bool         locked = false, inited = false;
    int          rc;
    ag_status_t  st;

    if ((rc = parse_args(argc, argv, &o)) != 0)
        return rc < 0 ? 0 : rc;
    if (load_config(&o, &cfg) != AG_OK)
        return 78;
    if (o.check) {
        ag_config_print(cfg, stdout);
        ag_config_free(cfg);
        return 0;
    }
    ag_log_init("agora-worker", ag_config_str(cfg, AG_CFG_log_level),
                ag_config_str(cfg, AG_CFG_log_target));
    int64_t started = ag_now_mono_ms();
    w.cfg = cfg;
    w.job = find_job(o.job);
    w.resident = o.resident;
    if (w.resident) {
        struct sigaction sa = {.sa_handler = on_term};
        sigemptyset(&sa.sa_mask);
        sigaction(SIGTERM, &sa, NULL);
        sigaction(SIGINT, &sa, NULL);
    }
    w.deadline = started + ag_config_int(cfg, o.resident ? AG_CFG_worker_resident_s
                                                         : AG_CFG_worker_max_seconds) *
                               1000;
    w.batch = (int)ag_config_int(cfg, AG_CFG_worker_batch);
    w.max_deliver = ag_config_int(cfg, AG_CFG_worker_max_deliver);
    /* test hook only: exercises a crash between handling and acking */
    w.kill_before_ack = getenv("AGORA_WORKER_TEST_KILL_BEFORE_ACK") != NULL;
    rc = 1;
    a = ag_arena_new(4096);
    w.scratch = ag_arena_new(1024);
    w.m.db = ag_db_new(cfg);
    if (a == NULL || w.scratch == NULL || w.m.db == NULL)
        goto out;
    if ((st = ag_db_connect(w.m.db)) != AG_OK) {
        ag_log_error("%s: PostgreSQL unavailable: %s", o.job, ag_db_error(w.m.db));
        goto out;
    }
    if ((st = lock_job(&w, a, true, &locked)) != AG_OK || (!locked && !w.resident)) {
        if (st == AG_OK)
            ag_log_info("%s: another run holds the lock; nothing to do", o.job);
        rc = st == AG_OK ? 0 : 1;
        goto out;
    }
    ag_content_global_init();
    inited = true;
    /* a resident run that waits for the lock waits ready to fetch (stores open, consumer
     * bound): the handover's gap is only how soon the previous run sees it waiting */
    if ((st = prepare_job(&w)) == AG_OK && !locked)
        wait_lock(&w, a, &locked);
    if (st == AG_OK && locked) {
        st = run_job(&w);
        /* every ack is flushed: the next run may start now, not after our teardown
         * (closing NATS waits for its threads) */
        lock_job(&w, a, false, NULL);
        locked = false;
        log_summary(&w, st, started);
    } else if (st == AG_OK) {
        ag_log_warn("%s: the run holding the lock did not hand over; this one leaves", o.job);
    }
    rc = st == AG_OK ? 0 : 1;
out:
    worker_bus_close(w.bus);
    ag_events_free(w.m.events);
    if (w.bus || w.m.events || w.content)
        ag_events_shutdown();
    ag_content_close(w.content);
    if (inited)
        ag_content_global_fini();
    if (locked)
        lock_job(&w, a, false, NULL);
    ag_db_free(w.m.db);
    ag_arena_free(a);
    ag_arena_free(w.scratch);
    ag_config_free(cfg);
    ag_log_fini();
    return rc;
}
