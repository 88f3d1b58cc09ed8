/*
 * workers/worker.h — agora-worker, the cron jobs of CONTRACT §7. One process
 * runs one job once and exits: fanout, index and analytics drain a durable
 * JetStream pull consumer on CHANNEL_STREAM; outbox republishes what the
 * writers could not publish. Single-threaded (nats.c's own threads only
 * deliver fetch replies), so nothing here is locked.
 */
#ifndef WORKER_H
#define WORKER_H

#include "config/config.h"
#include "content/content.h"
#include "model/model.h"

/* ---- the NATS side (bus.c, the only file that sees nats.c types) -------- */

typedef struct worker_bus worker_bus_t;

/* One fetched message, borrowed from the bus until worker_bus_release(). */
typedef struct {
    const char *subject;
    const char *data; /* not NUL-terminated in general: use len */
    size_t      len;
    uint64_t    seq;        /* stream sequence */
    uint64_t    deliveries; /* 1 on the first delivery */
} worker_msg_t;

/* Connect (failing fast when NATS is down: a cron run just ends). */
ag_status_t worker_bus_open(const ag_config_t *cfg, const char *job, worker_bus_t **out);
void        worker_bus_close(worker_bus_t *b); /* accepts NULL; keeps the durable consumer */
const char *worker_bus_error(const worker_bus_t *b);
/*
 * Create or update the job's durable pull consumer (worker-<job>) on the
 * whole of stream, and bind to it; also makes sure DEADLETTER_STREAM exists.
 */
ag_status_t worker_bus_consume(worker_bus_t *b, ag_ev_stream_t stream, const char *job,
                               int64_t ack_wait_s);
/*
 * Fetch up to batch messages that are pending now. With idle_ms > 0 and none
 * pending, wait up to idle_ms for the next one (returned alone, at once: a
 * resident run hands each event on as it comes). *n = 0: nothing came.
 */
ag_status_t worker_bus_fetch(worker_bus_t *b, int batch, int64_t wait_ms, int64_t idle_ms,
                             size_t *n);
void        worker_bus_msg(const worker_bus_t *b, size_t i, worker_msg_t *out);
ag_status_t worker_bus_ack(worker_bus_t *b, size_t i);
ag_status_t worker_bus_nak(worker_bus_t *b, size_t i, int64_t delay_ms);
void        worker_bus_release(worker_bus_t *b); /* drop the fetched batch */
/* JetStream publish on deadletter.<job> (DEADLETTER_STREAM), JSON with the original. */
ag_status_t worker_bus_deadletter(worker_bus_t *b, const char *job, const worker_msg_t *m,
                                  const char *reason);
/* Wait until the server has seen every ack sent so far. */
ag_status_t worker_bus_flush(worker_bus_t *b);

/* ---- a run --------------------------------------------------------------- */

typedef struct worker worker_t;

/*
 * A job's handler for one message, with an arena reset after each message.
 * AG_OK: done (acked). AG_EBADREQ: poison, dead-lettered at once.
 * AG_EUNAVAIL: a dependency is down: the message is retried later and the
 * run stops. Anything else: retried, dead-lettered once it has failed
 * worker_max_deliver times.
 */
typedef ag_status_t (*worker_handle_fn)(worker_t *w, const worker_msg_t *m, ag_arena_t *a);

typedef struct {
    const char      *name;
    const char      *help;
    int64_t          lock_id; /* pg_advisory lock: one run of a job at a time */
    ag_ev_stream_t   stream;  /* the stream it drains; AG_EV_STREAM_NONE: none (outbox) */
    worker_handle_fn handle;
    ag_status_t (*run)(worker_t *w); /* when it drains no stream */
    const char *done_what;           /* what worker_counts_t.done and .skipped count, for logs */
    const char *skipped_what;
} worker_job_t;

/* What a run did, logged at its end. */
typedef struct {
    uint64_t fetched, acked, retried, deadlettered;
    uint64_t done, skipped; /* job-specific meaning, named by the job's log line */
} worker_counts_t;

struct worker {
    const ag_config_t  *cfg;
    const worker_job_t *job;
    ag_model_t          m; /* db, events (ag_notify publishes); no cache */
    ag_content_t       *content;
    worker_bus_t       *bus;
    int64_t             deadline;     /* monotonic ms */
    bool                resident;     /* --resident: consume until the next run takes over */
    int64_t             next_check;   /* resident: monotonic ms of the next look for a successor */
    ag_arena_t         *scratch;      /* resident: for that look, between batches */
    bool                handing_over; /* resident: the next run waits; settle and exit */
    int                 batch;
    int64_t             max_deliver;
    bool                kill_before_ack; /* tests: die between processing and ack */
    worker_counts_t     n;
    char                why[256]; /* why the last message failed, for logs and dead letters */
};

/* Record why a message is poison or failed; returns st (AG_EBADREQ: poison). */
ag_status_t worker_fail(worker_t *w, ag_status_t st, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static inline bool
worker_time_left(const worker_t *w)
{
    return ag_now_mono_ms() < w->deadline;
}

/*
 * drain.c — fetch, handle, ack until nothing is pending or the budget is spent;
 * a resident run goes on waiting for events until worker_handover_due().
 */
ag_status_t worker_drain(worker_t *w);
/*
 * main.c — resident runs only: true once the next cron run of this job waits
 * for the job's lock (checked at most every 100 ms), or the run's
 * time is up. The caller settles what it fetched, then the run ends and the
 * lock passes to the waiting run.
 */
bool worker_handover_due(worker_t *w);
/* A row of worker_deadletters (ref: stream sequence or outbox msg_id); once per (job, ref). */
ag_status_t worker_deadletter_record(worker_t *w, ag_arena_t *a, const char *ref,
                                     const char *subject, int64_t deliveries, const char *why,
                                     const char *payload);

/* The jobs (one file each). */
ag_status_t worker_fanout_handle(worker_t *w, const worker_msg_t *m, ag_arena_t *a);
ag_status_t worker_index_handle(worker_t *w, const worker_msg_t *m, ag_arena_t *a);
ag_status_t worker_analytics_handle(worker_t *w, const worker_msg_t *m, ag_arena_t *a);
ag_status_t worker_outbox_run(worker_t *w);

/* event.c — a CHANNEL_STREAM event: channel.<cid>.message.<verb> and its ids. */
typedef struct {
    int64_t      channel_id;
    ag_ev_verb_t verb;       /* one of AG_EV_MESSAGE_VERBS */
    const char  *message_id; /* created, updated, deleted */
    const char  *post_id;    /* commented, replied */
    const char  *comment_id; /* commented, replied */
    const char  *reply_id;   /* replied */
} worker_event_t;

/* AG_EBADREQ (poison) when the subject or the payload is not one of ours. */
ag_status_t worker_event_parse(worker_t *w, const worker_msg_t *m, ag_arena_t *a,
                               worker_event_t *ev);

#endif
