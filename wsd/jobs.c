/*
 * wsd/jobs.c — the job pools: threads that run what may block on the network
 * (store.c: Redis and PostgreSQL; bus.c: JetStream API requests), so that the
 * loop never does. Two pools: replays run on their own threads (ws_replay_threads),
 * so that a long replay never delays another user's connect, which needs a SUBS
 * job on the main pool. A finished job goes back to the loop as a WSD_IN_JOB
 * inbox item; the loop owns it from then on and frees it (or retries it).
 */
#include "wsd.h"
#include "gqlws.h"
#include "log/log.h"

#include <stdlib.h>
#include <string.h>

#define WSD_POOL_MAX_THREADS 8

struct wsd_pool {
    wsd_t          *w;
    const char     *name;
    pthread_mutex_t mu;
    pthread_cond_t  cv;
    wsd_job_t      *head, *tail;
    size_t          pending; /* queued or running (/metrics: is the daemon still busy?) */
    bool            stop;
    int             n;
    pthread_t       threads[WSD_POOL_MAX_THREADS];
    wsd_store_t    *stores[WSD_POOL_MAX_THREADS];
};

typedef struct {
    struct wsd_pool *p;
    wsd_store_t     *k;
} thread_arg_t;

wsd_job_t *
wsd_job_new(wsd_job_kind_t kind)
{
    wsd_job_t *j = calloc(1, sizeof(*j));
    if (j)
        j->kind = kind;
    return j;
}

void
wsd_job_free(wsd_job_t *j)
{
    if (j == NULL)
        return;
    for (size_t i = 0; i < j->nmsgs; i++)
        wsd_event_free(j->msgs[i].ev);
    free(j->msgs);
    free(j->ids);
    free(j->offsets);
    wsd_gjob_free(j->gql);
    free(j);
}

/* any thread */
void
wsd_job_submit(wsd_t *w, wsd_job_t *j)
{
    struct wsd_pool *p;

    if (j == NULL)
        return;
    p = j->kind == WSD_JOB_REPLAY || j->kind == WSD_JOB_GQL_REPLAY ? w->rpool : w->pool;
    if (p == NULL) { /* stopped (teardown drains what came back): nothing runs it */
        wsd_job_free(j);
        return;
    }
    pthread_mutex_lock(&p->mu);
    {
        /* the live consumer first: every open session waits for it, and after a NATS
         * restart the queue fills with per-user work that times out while JetStream
         * recovers */
        bool first = j->kind == WSD_JOB_LIVE || j->kind == WSD_JOB_STREAM_INFO;
        j->next = first ? p->head : NULL;
        if (first)
            p->head = j;
        else if (p->tail)
            p->tail->next = j;
        else
            p->head = j;
        if (j->next == NULL)
            p->tail = j;
        p->pending++;
        pthread_cond_signal(&p->cv);
    }
    pthread_mutex_unlock(&p->mu);
}

void
wsd_job_submit_later(wsd_t *w, wsd_job_t *j, int64_t delay_ms)
{
    j->due_ms = ag_now_mono_ms() + delay_ms;
    j->next = w->later;
    w->later = j;
}

bool
wsd_job_retry(wsd_t *w, wsd_job_t *j, int max_attempts)
{
    if (w->stopping || (max_attempts && j->attempts + 1 >= max_attempts))
        return false;
    if (j->kind == WSD_JOB_PRESENCE) {
        /* the user's state now, not when the job was made: an up and a down both
         * retried must not land in the other order */
        wsd_user_t *u = wsd_user_get(w, j->uid, false);
        j->up = u ? u->online : false;
    }
    j->attempts++;
    j->st = AG_OK;
    w->m.job_retries++;
    if (j->attempts == 1 || j->attempts % 10 == 0)
        ag_log_warn("wsd: job %d for user %lld failed (try %d); trying again", (int)j->kind,
                    (long long)j->uid, j->attempts);
    wsd_job_submit_later(w, j, 500LL << (j->attempts < 5 ? j->attempts - 1 : 4));
    return true;
}

/* loop */
void
wsd_jobs_tick(wsd_t *w, int64_t now)
{
    wsd_job_t **pp = &w->later;
    while (*pp) {
        wsd_job_t *j = *pp;
        if (j->due_ms <= now) {
            *pp = j->next;
            wsd_job_submit(w, j);
        } else {
            pp = &j->next;
        }
    }
}

/* what is worth a round trip once the daemon is stopping: state that outlives us */
static bool
wanted_when_stopping(wsd_job_kind_t k)
{
    return k == WSD_JOB_PRESENCE || k == WSD_JOB_READ || k == WSD_JOB_HEARTBEAT;
}

static void *
thread_main(void *arg)
{
    thread_arg_t    *ta = arg;
    struct wsd_pool *p = ta->p;
    wsd_store_t     *k = ta->k;

    free(ta);
    for (;;) {
        wsd_job_t *j;
        pthread_mutex_lock(&p->mu);
        {
            while (p->head == NULL && !p->stop)
                pthread_cond_wait(&p->cv, &p->mu);
            j = p->head;
            if (j) {
                p->head = j->next;
                if (p->head == NULL)
                    p->tail = NULL;
            }
        }
        pthread_mutex_unlock(&p->mu);
        if (j == NULL)
            break; /* stopping and nothing left */
        bool skip = p->stop && !wanted_when_stopping(j->kind);
        if (!skip)
            wsd_store_run(k, j);
        pthread_mutex_lock(&p->mu);
        {
            p->pending--;
        }
        pthread_mutex_unlock(&p->mu);
        if (skip) {
            wsd_job_free(j);
            continue;
        }
        wsd_in_t *it = calloc(1, sizeof(*it));
        if (it == NULL) {
            wsd_job_free(j); /* the session waits for its close; nothing else to do */
            continue;
        }
        it->kind = WSD_IN_JOB;
        it->job = j;
        wsd_inbox_push(p->w, it);
    }
    return NULL;
}

static struct wsd_pool *
pool_new(wsd_t *w, const char *name, int n)
{
    struct wsd_pool *p = calloc(1, sizeof(*p));

    if (p == NULL)
        return NULL;
    p->w = w;
    p->name = name;
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->cv, NULL);
    for (int i = 0; i < n && i < WSD_POOL_MAX_THREADS; i++) {
        thread_arg_t *ta = calloc(1, sizeof(*ta));
        if (ta == NULL || (p->stores[i] = wsd_store_new(w)) == NULL) {
            free(ta);
            break;
        }
        ta->p = p;
        ta->k = p->stores[i];
        if (pthread_create(&p->threads[i], NULL, thread_main, ta) != 0) {
            free(ta);
            wsd_store_free(p->stores[i]);
            p->stores[i] = NULL;
            break;
        }
        p->n++;
    }
    if (p->n == 0)
        ag_log_error("wsd: no %s thread could be started", name);
    return p;
}

static void
pool_stop(struct wsd_pool *p)
{
    if (p == NULL)
        return;
    pthread_mutex_lock(&p->mu);
    {
        p->stop = true;
        pthread_cond_broadcast(&p->cv);
    }
    pthread_mutex_unlock(&p->mu);
    for (int i = 0; i < p->n; i++)
        pthread_join(p->threads[i], NULL);
    for (int i = 0; i < p->n; i++)
        wsd_store_free(p->stores[i]);
    for (wsd_job_t *j = p->head, *nx; j; j = nx) {
        nx = j->next;
        wsd_job_free(j);
    }
    pthread_mutex_destroy(&p->mu);
    pthread_cond_destroy(&p->cv);
    free(p);
}

static size_t
pool_pending(struct wsd_pool *p)
{
    size_t n = 0;
    if (p == NULL)
        return 0;
    pthread_mutex_lock(&p->mu);
    {
        n = p->pending;
    }
    pthread_mutex_unlock(&p->mu);
    return n;
}

size_t
wsd_jobs_pending(wsd_t *w)
{
    size_t n = pool_pending(w->pool) + pool_pending(w->rpool);
    for (wsd_job_t *j = w->later; j; j = j->next)
        n++;
    return n;
}

ag_status_t
wsd_jobs_start(wsd_t *w)
{
    w->pool = pool_new(w, "job", (int)ag_config_int(w->cfg, AG_CFG_ws_job_threads));
    w->rpool = pool_new(w, "replay", (int)ag_config_int(w->cfg, AG_CFG_ws_replay_threads));
    if (w->pool == NULL || w->rpool == NULL || w->pool->n == 0 || w->rpool->n == 0)
        return AG_ENOMEM;
    return AG_OK;
}

/* After the loop: the queued presence, read and lease jobs still run, then join. */
void
wsd_jobs_stop(wsd_t *w)
{
    pool_stop(w->rpool);
    pool_stop(w->pool);
    w->rpool = w->pool = NULL;
    for (wsd_job_t *j = w->later, *nx; j; j = nx) {
        nx = j->next;
        wsd_job_free(j);
    }
    w->later = NULL;
}
