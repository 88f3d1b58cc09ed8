/* lib/events/events.c — nats.c wrapper: connection, publishes, stream set-up. */
#include "events/events.h"
#include "events/events_nats.h"
#include "log/log.h"

#include <nats/nats.h>
#include <stdlib.h>
#include <string.h>

struct ag_events {
    natsConnection *nc;
    jsCtx          *js;
    int64_t         timeout_ms;
    char            err[256];
};

static ag_status_t
nats_fail(ag_events_t *ev, natsStatus s, const char *what)
{
    snprintf(ev->err, sizeof(ev->err), "%s: %s", what, natsStatus_GetText(s));
    return s == NATS_NO_MEMORY ? AG_ENOMEM : AG_EUNAVAIL;
}

natsStatus
ag_events_nats_options(const ag_config_t *cfg, const char *name, int max_reconnect,
                       natsOptions **out)
{
    natsOptions *opts = NULL;
    const char  *list = ag_config_str(cfg, AG_CFG_nats_urls);
    char         one[300], copy[2048];
    const char  *urls[16];
    int          n = 0;
    natsStatus   s = natsOptions_Create(&opts);

    if (*list) {
        snprintf(copy, sizeof(copy), "%s", list);
        for (char *save = NULL, *u = strtok_r(copy, ", ", &save); u && n < 16;
             u = strtok_r(NULL, ", ", &save))
            urls[n++] = u;
    } else {
        snprintf(one, sizeof(one), "nats://%s:%lld", ag_config_str(cfg, AG_CFG_nats_host),
                 (long long)ag_config_int(cfg, AG_CFG_nats_port));
        urls[n++] = one;
    }
    if (s == NATS_OK) s = natsOptions_SetServers(opts, urls, n);
    if (s == NATS_OK) s = natsOptions_SetName(opts, name);
    if (s == NATS_OK) s = natsOptions_SetTimeout(opts, ag_config_int(cfg, AG_CFG_nats_timeout_ms));
    if (s == NATS_OK) s = natsOptions_SetMaxReconnect(opts, max_reconnect);
    if (s == NATS_OK) s = natsOptions_SetReconnectWait(opts, 250);
    if (s != NATS_OK) {
        natsOptions_Destroy(opts);
        return s;
    }
    *out = opts;
    return NATS_OK;
}

/* nats.c thread: the first connect came through after all (the health check says so) */
static void
on_connected(natsConnection *nc, void *closure)
{
    (void)nc;
    (void)closure;
}

ag_status_t
ag_events_new(const ag_config_t *cfg, const char *name, ag_events_t **out)
{
    natsOptions *opts = NULL;
    ag_events_t *ev = calloc(1, sizeof(*ev));
    natsStatus   s;

    if (ev == NULL)
        return AG_ENOMEM;
    ev->timeout_ms = ag_config_int(cfg, AG_CFG_nats_timeout_ms);
    s = ag_events_nats_options(cfg, name, -1, &opts);   /* reconnect forever */
    /* with no callback nats.c retries the first connect in place, forever: a program
     * started while NATS is down never got past its set-up. With one, the connect
     * returns at once and nats.c keeps trying in the background. */
    if (s == NATS_OK) s = natsOptions_SetRetryOnFailedConnect(opts, true, on_connected, NULL);
    if (s == NATS_OK) {
        s = natsConnection_Connect(&ev->nc, opts);
        if (s == NATS_NOT_YET_CONNECTED)
            s = NATS_OK;  /* retried in the background; health says unavailable meanwhile */
    }
    natsOptions_Destroy(opts);
    if (s == NATS_OK)
        s = ag_events_nats_js(ev->nc, ev->timeout_ms, &ev->js);
    if (s != NATS_OK) {
        ag_log_error("nats: cannot set up a connection: %s", natsStatus_GetText(s));
        ag_events_free(ev);
        return AG_EUNAVAIL;
    }
    *out = ev;
    return AG_OK;
}

void
ag_events_free(ag_events_t *ev)
{
    if (ev == NULL)
        return;
    jsCtx_Destroy(ev->js);
    natsConnection_Destroy(ev->nc);
    free(ev);
}

void
ag_events_shutdown(void)
{
    natsStatus s = nats_CloseAndWait(2000);
    if (s != NATS_OK)  /* a connection or subscription still alive: nats.c keeps its threads */
        ag_log_warn("nats: library shutdown: %s", natsStatus_GetText(s));
}

const char *ag_events_error(const ag_events_t *ev) { return ev->err; }

ag_status_t
ag_events_health(ag_events_t *ev)
{
    natsStatus s;
    if (natsConnection_Status(ev->nc) != NATS_CONN_STATUS_CONNECTED)
        return nats_fail(ev, NATS_NOT_YET_CONNECTED, "status");
    s = natsConnection_FlushTimeout(ev->nc, ev->timeout_ms);
    if (s != NATS_OK)
        return nats_fail(ev, s, "flush");
    jsAccountInfo *ai = NULL;
    jsErrCode      jerr = 0;
    s = js_GetAccountInfo(&ai, ev->js, NULL, &jerr);
    jsAccountInfo_Destroy(ai);
    return s == NATS_OK ? AG_OK : nats_fail(ev, s, "jetstream");
}

ag_status_t
ag_events_publish(ag_events_t *ev, const char *subject, const char *data, size_t len)
{
    if (natsConnection_Status(ev->nc) != NATS_CONN_STATUS_CONNECTED)
        return nats_fail(ev, NATS_NOT_YET_CONNECTED, subject);
    natsStatus s = natsConnection_Publish(ev->nc, subject, data, (int)len);
    return s == NATS_OK ? AG_OK : nats_fail(ev, s, subject);
}

ag_status_t
ag_events_js_publish(ag_events_t *ev, const char *subject, const char *data, size_t len,
                     const char *msg_id, uint64_t *seq)
{
    jsPubOptions po;
    jsPubAck    *pa = NULL;
    jsErrCode    jerr = 0;
    natsStatus   s;

    /* a disconnected client would buffer and then time out: fail fast instead */
    if (natsConnection_Status(ev->nc) != NATS_CONN_STATUS_CONNECTED)
        return nats_fail(ev, NATS_NOT_YET_CONNECTED, subject);
    jsPubOptions_Init(&po);
    po.MsgId = msg_id;
    po.MaxWait = ev->timeout_ms;
    s = js_Publish(&pa, ev->js, subject, data, (int)len, &po, &jerr);
    if (s != NATS_OK)
        return nats_fail(ev, s, subject);
    if (seq)
        *seq = pa->Sequence;
    jsPubAck_Destroy(pa);
    return AG_OK;
}

/* Publish an event of the vocabulary: its subject and its payload, built here. */
static ag_status_t
emit(ag_events_t *ev, const ag_ev_t *e, bool js, const char *msg_id, uint64_t *seq)
{
    char        subj[AG_EV_NAME_MAX];
    ag_buf_t    b;
    ag_status_t st;

    if (ag_ev_subject_of(e, subj, sizeof(subj)) == 0) {
        snprintf(ev->err, sizeof(ev->err), "event %d: no subject", (int)e->subject);
        return AG_EBADREQ;
    }
    ag_buf_init(&b);
    if ((st = ag_ev_payload(e, &b)) == AG_OK)
        st = js ? ag_events_js_publish(ev, subj, b.data, b.len, msg_id, seq)
                : ag_events_publish(ev, subj, b.data, b.len);
    else
        snprintf(ev->err, sizeof(ev->err), "%s: payload: %s", subj, ag_status_name(st));
    ag_buf_fini(&b);
    return st;
}

ag_status_t
ag_events_emit(ag_events_t *ev, const ag_ev_t *e)
{
    return emit(ev, e, false, NULL, NULL);
}

ag_status_t
ag_events_js_emit(ag_events_t *ev, const ag_ev_t *e, const char *msg_id, uint64_t *seq)
{
    return emit(ev, e, true, msg_id, seq);
}

/* The streams the writers publish to; DEADLETTER_STREAM is agora-worker's (workers/bus.c). */
static const ag_ev_stream_t streams[] = {AG_EV_STREAM_CHANNEL, AG_EV_STREAM_DM,
                                         AG_EV_STREAM_NOTIFY};

ag_status_t
ag_events_ensure_streams(ag_events_t *ev, const ag_config_t *cfg, FILE *report)
{
    for (size_t i = 0; i < AG_ARRAY_LEN(streams); i++) {
        jsStreamConfig sc;
        jsStreamInfo  *si = NULL;
        jsErrCode      jerr = 0;
        char           filter[AG_EV_NAME_MAX];
        const char    *subjects[1] = {filter};
        const char    *name = ag_ev_stream_name(streams[i]);
        natsStatus     s;
        const char    *verb = "created";

        ag_ev_stream_filter(streams[i], filter, sizeof(filter));
        jsStreamConfig_Init(&sc);
        sc.Name = name;
        sc.Subjects = subjects;
        sc.SubjectsLen = 1;
        sc.Storage = js_FileStorage;
        sc.Retention = js_LimitsPolicy;
        sc.MaxAge = ag_config_int(cfg, AG_CFG_stream_max_age_s) * 1000000000LL;
        sc.MaxBytes = ag_config_int(cfg, AG_CFG_stream_max_bytes);
        sc.Duplicates = 120LL * 1000000000LL;  /* Nats-Msg-Id dedupe window: 2 min */
        sc.Replicas = ag_config_int(cfg, AG_CFG_stream_replicas);
        s = js_AddStream(&si, ev->js, &sc, NULL, &jerr);
        if (s != NATS_OK && jerr == JSStreamNameExistErr) {
            verb = "updated";
            s = js_UpdateStream(&si, ev->js, &sc, NULL, &jerr);
        }
        if (s != NATS_OK) {
            snprintf(ev->err, sizeof(ev->err), "stream %s: %s (jetstream error %d)", name,
                     nats_GetLastError(NULL), (int)jerr);
            jsStreamInfo_Destroy(si);
            return AG_EUNAVAIL;
        }
        if (report)
            fprintf(report, "stream %s (%s) %s, %llu messages\n", name, filter, verb,
                    (unsigned long long)si->State.Msgs);
        jsStreamInfo_Destroy(si);
    }
    return AG_OK;
}
