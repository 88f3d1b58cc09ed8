/*
 * workers/bus.c — agora-worker's JetStream side, the only file that sees
 * nats.c types. The durable consumer is created (or brought to its
 * configuration) by lib/events' ag_events_nats_consumer_ensure, which
 * agora-wsd's consumers share, and only bound to by the subscription; the
 * subscription is released with natsSubscription_Destroy:
 * natsSubscription_Unsubscribe would DELETE the durable consumer, and the
 * next cron run would start over.
 */
#include "worker.h"
#include "events/events_nats.h"
#include "log/log.h"

#include <nats/nats.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct worker_bus {
    natsConnection   *nc;
    jsCtx            *js;
    natsSubscription *sub;
    natsMsgList       list; /* the current batch */
    int64_t           timeout_ms;
    int64_t           max_age_s;
    char              err[512];
};

static ag_status_t
fail(worker_bus_t *b, natsStatus s, jsErrCode jerr, const char *what)
{
    const char *last = nats_GetLastError(NULL);
    snprintf(b->err, sizeof(b->err), "%.120s: %.80s%s%.200s (jetstream error %d)", what,
             natsStatus_GetText(s), last ? ": " : "", last ? last : "", (int)jerr);
    return s == NATS_NO_MEMORY ? AG_ENOMEM : AG_EUNAVAIL;
}

const char *
worker_bus_error(const worker_bus_t *b)
{
    return b->err;
}

ag_status_t
worker_bus_open(const ag_config_t *cfg, const char *job, worker_bus_t **out)
{
    natsOptions  *opts = NULL;
    worker_bus_t *b = calloc(1, sizeof(*b));
    natsStatus    s;
    char          url[300], name[64];

    *out = NULL;
    if (b == NULL)
        return AG_ENOMEM;
    b->timeout_ms = ag_config_int(cfg, AG_CFG_nats_timeout_ms);
    b->max_age_s = ag_config_int(cfg, AG_CFG_stream_max_age_s);
    snprintf(name, sizeof(name), "agora-worker-%s", job);
    snprintf(url, sizeof(url), "connect %s", name);
    /* a run lasts under a minute: reconnect briefly, then let the next run try */
    s = ag_events_nats_options(cfg, name, 10, &opts);
    if (s == NATS_OK) s = natsConnection_Connect(&b->nc, opts);
    natsOptions_Destroy(opts);
    if (s == NATS_OK)
        s = ag_events_nats_js(b->nc, b->timeout_ms, &b->js);
    if (s != NATS_OK) {
        ag_status_t st = fail(b, s, 0, url);
        ag_log_error("nats: %s", b->err);
        worker_bus_close(b);
        return st;
    }
    *out = b;
    return AG_OK;
}

void
worker_bus_close(worker_bus_t *b)
{
    if (b == NULL)
        return;
    worker_bus_release(b);
    natsSubscription_Destroy(b->sub);   /* never Unsubscribe: that deletes the durable */
    jsCtx_Destroy(b->js);
    natsConnection_Destroy(b->nc);
    free(b);
}

static ag_status_t
ensure_deadletter_stream(worker_bus_t *b)
{
    jsStreamConfig sc;
    jsStreamInfo  *si = NULL;
    jsErrCode      jerr = 0;
    char           filter[AG_EV_NAME_MAX];
    const char    *subjects[] = {filter};
    const char    *name = ag_ev_stream_name(AG_EV_STREAM_DEADLETTER);
    natsStatus     s;

    ag_ev_stream_filter(AG_EV_STREAM_DEADLETTER, filter, sizeof(filter));
    jsStreamConfig_Init(&sc);
    sc.Name = name;
    sc.Subjects = subjects;
    sc.SubjectsLen = 1;
    sc.Storage = js_FileStorage;
    sc.Retention = js_LimitsPolicy;
    sc.MaxAge = b->max_age_s * 1000000000LL;
    s = js_AddStream(&si, b->js, &sc, NULL, &jerr);
    if (s != NATS_OK && jerr == JSStreamNameExistErr)
        s = NATS_OK;   /* made by an earlier run (or by an operator, with other limits) */
    jsStreamInfo_Destroy(si);
    char what[AG_EV_NAME_MAX + 8];
    snprintf(what, sizeof(what), "stream %s", name);
    return s == NATS_OK ? AG_OK : fail(b, s, jerr, what);
}

ag_status_t
worker_bus_consume(worker_bus_t *b, ag_ev_stream_t stream, const char *job, int64_t ack_wait_s)
{
    jsConsumerConfig cc;
    jsSubOptions     so;
    jsErrCode        jerr = 0;
    char             durable[AG_EV_NAME_MAX], filter[AG_EV_NAME_MAX];
    const char      *sname = ag_ev_stream_name(stream);
    natsStatus       s;
    ag_status_t      st;

    if ((st = ensure_deadletter_stream(b)) != AG_OK)
        return st;
    if (ag_ev_consumer(durable, sizeof(durable), AG_EV_CONSUMER_WORKER, 0, job) == 0 ||
        ag_ev_stream_filter(stream, filter, sizeof(filter)) == 0)
        return fail(b, NATS_INVALID_ARG, 0, job);
    ag_events_nats_durable(&cc, durable, filter, NULL, ack_wait_s, 20000);
    cc.MaxDeliver = -1; /* the worker counts failures and dead-letters itself */
    /* every run: ack wait and the like follow the configuration */
    if ((s = ag_events_nats_consumer_ensure(b->js, sname, &cc, &jerr)) != NATS_OK)
        return fail(b, s, jerr, durable);
    jsSubOptions_Init(&so);
    so.Stream = sname;
    so.Consumer = durable;
    so.ManualAck = true;
    s = js_PullSubscribe(&b->sub, b->js, filter, durable, NULL, &so, &jerr);
    return s == NATS_OK ? AG_OK : fail(b, s, jerr, "pull subscribe");
}

/* One pull request; NATS_TIMEOUT and NATS_NOT_FOUND mean nothing came. */
static natsStatus
pull(worker_bus_t *b, int batch, int64_t wait_ms, bool no_wait)
{
    jsFetchRequest req;
    jsFetchRequest_Init(&req);
    req.Batch = batch;
    req.Expires = wait_ms * 1000000LL;
    req.NoWait = no_wait;
    return natsSubscription_FetchRequest(&b->list, b->sub, &req);
}

ag_status_t
worker_bus_fetch(worker_bus_t *b, int batch, int64_t wait_ms, int64_t idle_ms, size_t *n)
{
    natsStatus s;

    worker_bus_release(b);
    *n = 0;
    /* what is pending now, or nothing: a drained queue ends a run that is not resident */
    s = pull(b, batch, wait_ms, true);
    if ((s == NATS_TIMEOUT || s == NATS_NOT_FOUND) && idle_ms > 0)
        /* a waiting pull returns only when its batch is full: a batch of one hands the
         * next event over the moment it is stored, and the next no-wait pull takes what
         * piled up behind it. A delivery that races the expiry waits in the
         * subscription, where the next pull finds it. */
        s = pull(b, 1, idle_ms, false);
    if (s == NATS_TIMEOUT || s == NATS_NOT_FOUND)
        return AG_OK;
    if (s != NATS_OK)
        return fail(b, s, 0, "fetch");
    *n = (size_t)b->list.Count;
    return AG_OK;
}

void
worker_bus_msg(const worker_bus_t *b, size_t i, worker_msg_t *out)
{
    natsMsg      *msg = b->list.Msgs[i];
    ag_ev_jsack_t js;
    out->subject = natsMsg_GetSubject(msg);
    out->data = natsMsg_GetData(msg);
    out->len = (size_t)natsMsg_GetDataLength(msg);
    if (out->data == NULL)
        out->data = "";
    /* the stream position from the reply subject, as agora-wsd reads it */
    bool known = ag_ev_jsack_parse(natsMsg_GetReply(msg), &js);
    out->seq = known ? js.stream_seq : 0;
    out->deliveries = known ? js.delivered : 1;
}

ag_status_t
worker_bus_ack(worker_bus_t *b, size_t i)
{
    natsStatus s = natsMsg_Ack(b->list.Msgs[i], NULL);
    return s == NATS_OK ? AG_OK : fail(b, s, 0, "ack");
}

ag_status_t
worker_bus_nak(worker_bus_t *b, size_t i, int64_t delay_ms)
{
    natsStatus s = natsMsg_NakWithDelay(b->list.Msgs[i], delay_ms, NULL);
    return s == NATS_OK ? AG_OK : fail(b, s, 0, "nak");
}

void
worker_bus_release(worker_bus_t *b)
{
    natsMsgList_Destroy(&b->list);
    memset(&b->list, 0, sizeof(b->list));
}

ag_status_t
worker_bus_deadletter(worker_bus_t *b, const char *job, const worker_msg_t *m, const char *reason)
{
    ag_ev_t      ev = {.subject = AG_EV_DEADLETTER,
                       .tok = job,
                       .job = job,
                       .dead_subject = m->subject,
                       .seq = m->seq,
                       .deliveries = m->deliveries,
                       .reason = reason,
                       .data = m->data,
                       .data_len = m->len};
    jsPubOptions po;
    jsPubAck    *pa = NULL;
    jsErrCode    jerr = 0;
    char         subj[AG_EV_NAME_MAX];
    ag_buf_t     text;
    ag_status_t  st;
    natsStatus   s;

    if (ag_ev_subject_of(&ev, subj, sizeof(subj)) == 0)
        return fail(b, NATS_INVALID_ARG, 0, job);
    ag_buf_init(&text);
    if ((st = ag_ev_payload(&ev, &text)) != AG_OK) {
        ag_buf_fini(&text);
        return st;
    }
    /* no Nats-Msg-Id: the header would turn plain subscribers' MSG into HMSG, and the
     * worker_deadletters row (job, seq) already keeps one record per message */
    jsPubOptions_Init(&po);
    po.MaxWait = b->timeout_ms;
    s = js_Publish(&pa, b->js, subj, text.data, (int)text.len, &po, &jerr);
    jsPubAck_Destroy(pa);
    ag_buf_fini(&text);
    return s == NATS_OK ? AG_OK : fail(b, s, jerr, subj);
}

ag_status_t
worker_bus_flush(worker_bus_t *b)
{
    natsStatus s = natsConnection_FlushTimeout(b->nc, b->timeout_ms);
    return s == NATS_OK ? AG_OK : fail(b, s, 0, "flush");
}
