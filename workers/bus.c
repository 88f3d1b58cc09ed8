/*
 * workers/bus.c — agora-worker's JetStream side, the only file that sees
 * nats.c types. The durable consumer is created with js_AddConsumer and
 * only bound to by the subscription, and the subscription is released with
 * natsSubscription_Destroy: natsSubscription_Unsubscribe would DELETE the
 * durable consumer, and the next cron run would start over.
 */
#include "worker.h"
#include "events/events_nats.h"
#include "json/json.h"
#include "log/log.h"

#include <nats/nats.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEADLETTER_STREAM "DEADLETTER_STREAM"

struct worker_bus {
    natsConnection   *nc;
    jsCtx            *js;
    natsSubscription *sub;
    natsMsgList       list;      /* the current batch */
    jsMsgMetaData   **meta;      /* per message of the batch, or NULL */
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
    jsOptions     jso;
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
    if (s == NATS_OK) {
        jsOptions_Init(&jso);
        jso.Wait = b->timeout_ms;
        s = natsConnection_JetStream(&b->js, b->nc, &jso);
    }
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
    const char    *subjects[] = {"deadletter.>"};
    natsStatus     s;

    jsStreamConfig_Init(&sc);
    sc.Name = DEADLETTER_STREAM;
    sc.Subjects = subjects;
    sc.SubjectsLen = 1;
    sc.Storage = js_FileStorage;
    sc.Retention = js_LimitsPolicy;
    sc.MaxAge = b->max_age_s * 1000000000LL;
    s = js_AddStream(&si, b->js, &sc, NULL, &jerr);
    if (s != NATS_OK && jerr == JSStreamNameExistErr)
        s = NATS_OK;   /* made by an earlier run (or by an operator, with other limits) */
    jsStreamInfo_Destroy(si);
    return s == NATS_OK ? AG_OK : fail(b, s, jerr, "stream " DEADLETTER_STREAM);
}

ag_status_t
worker_bus_consume(worker_bus_t *b, const char *stream, const char *durable, const char *filter,
                   int64_t ack_wait_s)
{
    jsConsumerConfig cc;
    jsConsumerInfo  *ci = NULL;
    jsSubOptions     so;
    jsErrCode        jerr = 0;
    natsStatus       s;
    ag_status_t      st;

    if ((st = ensure_deadletter_stream(b)) != AG_OK)
        return st;
    jsConsumerConfig_Init(&cc);
    cc.Durable = durable;
    cc.DeliverPolicy = js_DeliverAll;   /* a new job starts from what the stream still holds */
    cc.AckPolicy = js_AckExplicit;
    cc.AckWait = ack_wait_s * 1000000000LL;
    cc.MaxDeliver = -1;                 /* the worker counts failures and dead-letters itself */
    cc.FilterSubject = filter;
    cc.MaxAckPending = 20000;
    s = js_GetConsumerInfo(&ci, b->js, stream, durable, NULL, &jerr);
    jsConsumerInfo_Destroy(ci);
    ci = NULL;
    /* update every run: ack wait and the like follow the configuration */
    if (s == NATS_OK)
        s = js_UpdateConsumer(&ci, b->js, stream, &cc, NULL, &jerr);
    else if (s == NATS_NOT_FOUND)
        s = js_AddConsumer(&ci, b->js, stream, &cc, NULL, &jerr);
    jsConsumerInfo_Destroy(ci);
    if (s != NATS_OK)
        return fail(b, s, jerr, durable);
    jsSubOptions_Init(&so);
    so.Stream = stream;
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
    b->meta = calloc((size_t)b->list.Count + 1, sizeof(*b->meta));
    if (b->meta == NULL)
        return AG_ENOMEM;
    for (int i = 0; i < b->list.Count; i++)
        if (natsMsg_GetMetaData(&b->meta[i], b->list.Msgs[i]) != NATS_OK)
            b->meta[i] = NULL;
    *n = (size_t)b->list.Count;
    return AG_OK;
}

void
worker_bus_msg(const worker_bus_t *b, size_t i, worker_msg_t *out)
{
    natsMsg *msg = b->list.Msgs[i];
    out->subject = natsMsg_GetSubject(msg);
    out->data = natsMsg_GetData(msg);
    out->len = (size_t)natsMsg_GetDataLength(msg);
    if (out->data == NULL)
        out->data = "";
    out->seq = b->meta[i] ? b->meta[i]->Sequence.Stream : 0;
    out->deliveries = b->meta[i] ? b->meta[i]->NumDelivered : 1;
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
    if (b->meta) {
        for (int i = 0; i < b->list.Count; i++)
            jsMsgMetaData_Destroy(b->meta[i]);
        free(b->meta);
        b->meta = NULL;
    }
    natsMsgList_Destroy(&b->list);
    memset(&b->list, 0, sizeof(b->list));
}

ag_status_t
worker_bus_deadletter(worker_bus_t *b, const char *job, const worker_msg_t *m, const char *reason)
{
    ag_json_t  *o = ag_json_obj();
    jsPubOptions po;
    jsPubAck    *pa = NULL;
    jsErrCode    jerr = 0;
    char         subj[80];
    size_t       len = 0;
    natsStatus   s;

    if (o == NULL)
        return AG_ENOMEM;
    ag_json_set_str(o, "job", job);
    ag_json_set_str(o, "subject", m->subject);
    ag_json_set_int(o, "seq", (int64_t)m->seq);
    ag_json_set_int(o, "deliveries", (int64_t)m->deliveries);
    ag_json_set_str(o, "reason", reason);
    ag_json_set(o, "data", ag_json_strn(m->data, m->len));
    const char *text = ag_json_dump(o, &len);
    snprintf(subj, sizeof(subj), "deadletter.%s", job);
    /* no Nats-Msg-Id: the header would turn plain subscribers' MSG into HMSG, and the
     * worker_deadletters row (job, seq) already keeps one record per message */
    jsPubOptions_Init(&po);
    po.MaxWait = b->timeout_ms;
    s = js_Publish(&pa, b->js, subj, text, (int)len, &po, &jerr);
    jsPubAck_Destroy(pa);
    ag_json_free(o);
    return s == NATS_OK ? AG_OK : fail(b, s, jerr, subj);
}

ag_status_t
worker_bus_flush(worker_bus_t *b)
{
    natsStatus s = natsConnection_FlushTimeout(b->nc, b->timeout_ms);
    return s == NATS_OK ? AG_OK : fail(b, s, 0, "flush");
}
