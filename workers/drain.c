/*
 * workers/drain.c — the loop every stream job shares: fetch a batch, handle
 * each message, then settle the batch (ack, retry, or dead-letter). Handling
 * and settling are two passes so that a crash between them — the case the
 * handlers' dedupe keys exist for — is one well-defined point
 * (kill_before_ack, used by the tests).
 */
#include "worker.h"
#include "log/log.h"

#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define FETCH_WAIT_MS 1000
#define RETRY_DELAY_MS 2000
#define RESIDENT_IDLE_MS  250  /* a resident run's wait per idle pull (and handover delay) */
#define RESIDENT_PAUSE_MS 1000 /* a resident run after NATS or a dependency failed: retry then */

ag_status_t
worker_fail(worker_t *w, ag_status_t st, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(w->why, sizeof(w->why), fmt, ap);
    va_end(ap);
    return st;
}

/* The outcome of one message between the two passes. */
typedef struct {
    ag_status_t st;
    char       *why;   /* heap; NULL for AG_OK */
} outcome_t;

ag_status_t
worker_deadletter_record(worker_t *w, ag_arena_t *a, const char *ref, const char *subject,
                         int64_t deliveries, const char *why, const char *payload)
{
    char dl[24];
    snprintf(dl, sizeof(dl), "%lld", (long long)deliveries);
    const char *p[] = {w->job->name, ref, subject, dl, why, payload};
    return ag_db_exec(w->m.db, a,
                      "INSERT INTO worker_deadletters (job, ref, subject, deliveries, reason, "
                      "payload) VALUES ($1, $2, $3, $4::int, $5, $6) "
                      "ON CONFLICT (job, ref) DO NOTHING",
                      6, p, NULL);
}

/* Keep a copy of the dead letter in PostgreSQL; the publish is what counts. */
static void
record_deadletter(worker_t *w, ag_arena_t *a, const worker_msg_t *m, const char *why)
{
    char seq[24];
    snprintf(seq, sizeof(seq), "%llu", (unsigned long long)m->seq);
    const char *data = ag_arena_strndup(a, m->data, m->len);
    if (worker_deadletter_record(w, a, seq, m->subject, (int64_t)m->deliveries, why,
                                 data ? data : "") != AG_OK)
        ag_log_warn("%s: dead letter seq %s not recorded in PostgreSQL: %s", w->job->name, seq,
                    ag_db_error(w->m.db));
}

static void
deadletter(worker_t *w, ag_arena_t *a, size_t i, const worker_msg_t *m, const char *why)
{
    if (worker_bus_deadletter(w->bus, w->job->name, m, why) != AG_OK) {
        /* never drop it: try again next run */
        ag_log_error("%s: seq %llu could not be dead-lettered (%s), retried later", w->job->name,
                     (unsigned long long)m->seq, worker_bus_error(w->bus));
        worker_bus_nak(w->bus, i, RETRY_DELAY_MS);
        w->n.retried++;
        return;
    }
    record_deadletter(w, a, m, why);
    ag_log_warn("%s: dead-lettered seq %llu (%s) after %llu deliveries: %s", w->job->name,
                (unsigned long long)m->seq, m->subject, (unsigned long long)m->deliveries, why);
    worker_bus_ack(w->bus, i);
    w->n.deadlettered++;
}

static void
settle(worker_t *w, ag_arena_t *a, size_t i, const outcome_t *o)
{
    worker_msg_t m;
    worker_bus_msg(w->bus, i, &m);
    if (o->st == AG_OK) {
        worker_bus_ack(w->bus, i);
        w->n.acked++;
    } else if (o->st == AG_EBADREQ) {
        deadletter(w, a, i, &m, o->why ? o->why : "unparseable");
    } else if (o->st != AG_EUNAVAIL && (int64_t)m.deliveries >= w->max_deliver) {
        deadletter(w, a, i, &m, o->why ? o->why : ag_status_name(o->st));
    } else {
        /* a dependency down or a transient failure: the next run (or this one) retries */
        worker_bus_nak(w->bus, i, RETRY_DELAY_MS);
        w->n.retried++;
    }
}

/* Handle a fetched batch; false when the run must stop (a dependency is down). */
static bool
handle_batch(worker_t *w, ag_arena_t *a, size_t n, outcome_t *out)
{
    bool go_on = true;
    for (size_t i = 0; i < n; i++) {
        worker_msg_t m;
        if (!go_on) {
            out[i].st = AG_EUNAVAIL;   /* not tried: retried later, no failure counted */
            continue;
        }
        worker_bus_msg(w->bus, i, &m);
        w->why[0] = '\0';
        ag_arena_reset(a);
        out[i].st = w->job->handle(w, &m, a);
        if (out[i].st != AG_OK) {
            out[i].why = strdup(w->why[0] ? w->why : ag_status_name(out[i].st));
            ag_log_debug("%s: seq %llu %s: %s", w->job->name, (unsigned long long)m.seq,
                         ag_status_name(out[i].st), out[i].why ? out[i].why : "");
        }
        if (out[i].st == AG_EUNAVAIL) {
            ag_log_warn("%s: %s; stopping this run", w->job->name, w->why);
            go_on = false;
        }
    }
    return go_on;
}

/* Handle and settle one fetched batch; false when a dependency is down. */
static bool
run_batch(worker_t *w, ag_arena_t *a, size_t n, outcome_t *out)
{
    w->n.fetched += n;
    bool go_on = handle_batch(w, a, n, out);
    if (w->kill_before_ack) {
        ag_log_warn("%s: killed before acking %zu messages (test hook)", w->job->name, n);
        raise(SIGKILL);
    }
    for (size_t i = 0; i < n; i++) {
        ag_arena_reset(a);
        settle(w, a, i, &out[i]);
        free(out[i].why);
        out[i].why = NULL;
        out[i].st = AG_OK;
    }
    if (worker_bus_flush(w->bus) != AG_OK)
        ag_log_warn("%s: acks not confirmed: %s", w->job->name, worker_bus_error(w->bus));
    return go_on;
}

/*
 * A resident run does not end when the queue is empty or something failed: the
 * next cron run would only start it again up to a minute later. It pauses and
 * goes on until worker_handover_due() says the next run is waiting (or its
 * time is up). Its status then is that of the whole run: OK.
 */
static bool
resident_goes_on(worker_t *w, bool failed)
{
    if (!w->resident || worker_handover_due(w))
        return false;
    if (failed) {
        struct timespec ts = {RESIDENT_PAUSE_MS / 1000, (RESIDENT_PAUSE_MS % 1000) * 1000000L};
        nanosleep(&ts, NULL);
    }
    return true;
}

ag_status_t
worker_drain(worker_t *w)
{
    ag_arena_t *a = ag_arena_new(64 * 1024);
    outcome_t  *out = calloc((size_t)w->batch, sizeof(*out));
    ag_status_t st = AG_OK;
    size_t      n = 0;
    int64_t     idle = w->resident ? RESIDENT_IDLE_MS : 0;

    if (a == NULL || out == NULL) {
        st = AG_ENOMEM;
        goto out;
    }
    while (worker_time_left(w)) {
        st = worker_bus_fetch(w->bus, w->batch, FETCH_WAIT_MS, idle, &n);
        if (st != AG_OK)
            ag_log_error("%s: %s", w->job->name, worker_bus_error(w->bus));
        else if (n > 0 && !run_batch(w, a, n, out))
            st = AG_EUNAVAIL;
        if (st == AG_OK && n > 0 && !(w->resident && worker_handover_due(w)))
            continue;
        if (!resident_goes_on(w, st != AG_OK))
            break; /* drained, failed, or handing over */
        st = AG_OK;
    }
    if (worker_time_left(w) == false && st == AG_OK && n > 0)
        ag_log_info("%s: time budget spent; the next run continues", w->job->name);
out:
    worker_bus_release(w->bus);
    free(out);
    ag_arena_free(a);
    return st;
}
