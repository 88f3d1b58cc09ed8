/*
 * wsd/bus.c — the daemon's NATS side, the only file that sees nats.c types.
 *
 * Callbacks run on nats.c's threads: they wrap the natsMsg in an inbox item
 * and hand it to the loop (wsd_inbox_push), nothing more. Functions marked
 * "worker" issue JetStream API requests (a round trip) and are never called
 * on the loop; "loop" ones only buffer protocol lines (SUB/UNSUB/PUB) and
 * return at once.
 *
 * Live channel events: ONE ordered push consumer per daemon on CHANNEL_STREAM
 * filtered channel.*.message.*, DeliverNew, fanned out in-process by channel
 * id. Why not one consumer per channel: creating a JetStream consumer is an
 * API round trip, which would have to happen off the loop on every first
 * join of a channel and delay it; a daemon-wide consumer costs one consumer
 * regardless of the number of channels, never churns, and frames carry the
 * stream sequence that replay dedupes against. The cost — events of channels
 * with no local session are received and dropped on a map miss — is small
 * next to fan-out (nats-server 2.9 has no multi-subject filters either).
 * Core subjects (typing, member.*, updated) are per channel and per user,
 * ref-counted by local sessions (hub.c).
 */
#include "wsd.h"
#include "events/events_nats.h"
#include "log/log.h"

#include <nats/nats.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* nats.c threads delivering every subscription's messages to the inbox */
#define WSD_NATS_DELIVERY_THREADS 2

struct wsd_bus {
    natsConnection   *nc;
    jsCtx            *js;
    natsSubscription *presence_sub, *updated_sub;
    int64_t           timeout_ms;
};

/* Two core subscriptions as one handle (a channel needs two subjects). */
typedef struct {
    natsSubscription *a, *b;
} pair_t;

static void
push(wsd_t *w, wsd_in_kind_t kind, int64_t uid, natsMsg *msg)
{
    wsd_in_t *it = calloc(1, sizeof(*it));
    if (it == NULL) {
        natsMsg_Destroy(msg);  /* JetStream redelivers; core events are best effort */
        return;
    }
    it->kind = kind;
    it->uid = uid;
    it->nmsg = msg;
    wsd_inbox_push(w, it);
}

/* nats.c thread */
static void
on_live(natsConnection *nc, natsSubscription *sub, natsMsg *msg, void *closure)
{
    push(closure, WSD_IN_CHAN_JS, 0, msg);
}

/* nats.c thread */
static void
on_core(natsConnection *nc, natsSubscription *sub, natsMsg *msg, void *closure)
{
    push(closure, WSD_IN_CORE, 0, msg);
}

/* The user id rides in the subject (user.<id>.dm), so the closure is just w. */
static int64_t
subject_uid(natsMsg *msg)
{
    const char *s = natsMsg_GetSubject(msg);
    return (s && strncmp(s, "user.", 5) == 0) ? strtoll(s + 5, NULL, 10) : 0;
}

/* nats.c thread */
static void
on_dm(natsConnection *nc, natsSubscription *sub, natsMsg *msg, void *closure)
{
    push(closure, WSD_IN_DM, subject_uid(msg), msg);
}

/* nats.c thread */
static void
on_notify(natsConnection *nc, natsSubscription *sub, natsMsg *msg, void *closure)
{
    push(closure, WSD_IN_NOTIFY, subject_uid(msg), msg);
}

/* nats.c thread: connection state changes wake the loop so /healthz is current. */
static void
on_conn_event(natsConnection *nc, void *closure)
{
    wsd_t *w = closure;
    ag_log_info("nats: %s", natsConnection_Status(nc) == NATS_CONN_STATUS_CONNECTED
                                ? "connected" : "disconnected");
    wsd_wake(w);
}

ag_status_t
wsd_bus_open(wsd_t *w)
{
    struct wsd_bus *b = calloc(1, sizeof(*b));
    natsOptions    *opts = NULL;
    natsStatus      s;
    char            url[300];
    jsOptions       jso;

    if (b == NULL)
        return AG_ENOMEM;
    w->bus = b;
    b->timeout_ms = ag_config_int(w->cfg, AG_CFG_nats_timeout_ms);
    snprintf(url, sizeof(url), "NATS (%s)", *ag_config_str(w->cfg, AG_CFG_nats_urls)
                                                 ? ag_config_str(w->cfg, AG_CFG_nats_urls)
                                                 : "nats_host:nats_port");
    /*
     * Every user with a session has two durable consumers (DM, notify): with
     * nats.c's default of one delivery thread per subscription, 10k users
     * meant 20k threads (bench fanout: 22k threads, most of a core spent
     * switching between them). The callbacks only queue for the loop, so a
     * small shared pool delivers them all; each subscription stays on one
     * pool thread, which keeps its messages in order.
     */
    nats_SetMessageDeliveryPoolSize(WSD_NATS_DELIVERY_THREADS);
    s = ag_events_nats_options(w->cfg, "agora-wsd", -1, &opts);
    if (s == NATS_OK) s = natsOptions_UseGlobalMessageDelivery(opts, true);
    if (s == NATS_OK) s = natsOptions_SetRetryOnFailedConnect(opts, true, NULL, NULL);
    if (s == NATS_OK) s = natsOptions_SetReconnectedCB(opts, on_conn_event, w);
    if (s == NATS_OK) s = natsOptions_SetDisconnectedCB(opts, on_conn_event, w);
    /* fan-out happens on the loop: let nats.c buffer bursts rather than drop them */
    if (s == NATS_OK) s = natsOptions_SetMaxPendingMsgs(opts, 1000000);
    if (s == NATS_OK) {
        s = natsConnection_Connect(&b->nc, opts);
        if (s == NATS_NOT_YET_CONNECTED)
            s = NATS_OK;
    }
    natsOptions_Destroy(opts);
    if (s == NATS_OK) {
        jsOptions_Init(&jso);
        jso.Wait = b->timeout_ms;
        s = natsConnection_JetStream(&b->js, b->nc, &jso);
    }
    /* daemon-wide core subjects: presence carries its channels, updated is looked up */
    if (s == NATS_OK)
        s = natsConnection_Subscribe(&b->presence_sub, b->nc, "user.*.presence", on_core, w);
    if (s == NATS_OK)
        s = natsConnection_Subscribe(&b->updated_sub, b->nc, "user.*.updated", on_core, w);
    if (s == NATS_OK) {
        natsSubscription_SetPendingLimits(b->presence_sub, -1, -1);
        natsSubscription_SetPendingLimits(b->updated_sub, -1, -1);
    }
    if (s != NATS_OK) {
        ag_log_error("nats: cannot set up %s: %s", url, natsStatus_GetText(s));
        return AG_EUNAVAIL;
    }
    return AG_OK;
}

/*
 * Closing a subscription queues a control message on its delivery thread, and
 * nats.c 3.4's delivery threads stop at library close without draining what is
 * queued: those messages leaked (LeakSanitizer, natsLib_msgDeliveryPostControlMsg
 * under natsSub_close). A barrier: one throwaway subscription per delivery thread
 * (the pool assigns them in turn), closed after every other; when the completion
 * callbacks of all of them have run, each thread is past everything queued
 * before. Bounded by the bus timeout; skipped when NATS is unreachable.
 */
typedef struct {
    pthread_mutex_t mu;
    pthread_cond_t  cv;
    int             done;
} barrier_t;

static void
on_barrier_msg(natsConnection *nc, natsSubscription *sub, natsMsg *msg, void *closure)
{
    natsMsg_Destroy(msg);  /* nobody publishes there */
}

static void
on_barrier_done(void *closure)
{
    barrier_t *bar = closure;
    pthread_mutex_lock(&bar->mu);
    bar->done++;
    pthread_cond_signal(&bar->cv);
    pthread_mutex_unlock(&bar->mu);
}

static void
delivery_barrier(struct wsd_bus *b)
{
    natsSubscription *subs[WSD_NATS_DELIVERY_THREADS] = {NULL};
    /* static: after a timeout a late completion callback still finds it */
    static barrier_t  bar = {.mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER};
    char              subj[64];
    int               n = 0;
    struct timespec   until;

    pthread_mutex_lock(&bar.mu);
    bar.done = 0;
    pthread_mutex_unlock(&bar.mu);
    snprintf(subj, sizeof(subj), "_wsd.barrier.%ld.%d", (long)random(), (int)getpid());
    for (; n < WSD_NATS_DELIVERY_THREADS; n++) {
        if (natsConnection_Subscribe(&subs[n], b->nc, subj, on_barrier_msg, NULL) != NATS_OK)
            break;
        if (natsSubscription_SetOnCompleteCB(subs[n], on_barrier_done, &bar) != NATS_OK) {
            natsSubscription_Destroy(subs[n]);
            break;
        }
    }
    for (int i = 0; i < n; i++)
        natsSubscription_Unsubscribe(subs[i]);
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += (time_t)(b->timeout_ms / 1000) + 1;
    pthread_mutex_lock(&bar.mu);
    while (bar.done < n && pthread_cond_timedwait(&bar.cv, &bar.mu, &until) == 0)
        ;
    bool timed_out = bar.done < n;
    pthread_mutex_unlock(&bar.mu);
    if (timed_out) {  /* a callback may still come: the barrier must outlive it */
        ag_log_warn("nats: delivery threads did not drain at shutdown");
        return;
    }
    for (int i = 0; i < n; i++)
        natsSubscription_Destroy(subs[i]);
}

void
wsd_bus_close(wsd_t *w)
{
    struct wsd_bus *b = w->bus;
    if (b == NULL)
        return;
    natsSubscription_Destroy(b->presence_sub);
    natsSubscription_Destroy(b->updated_sub);
    delivery_barrier(b);  /* after every other subscription of ours is closed */
    jsCtx_Destroy(b->js);
    natsConnection_Destroy(b->nc);
    free(b);
    w->bus = NULL;
}

bool
wsd_bus_connected(wsd_t *w)
{
    return w->bus && w->bus->nc &&
           natsConnection_Status(w->bus->nc) == NATS_CONN_STATUS_CONNECTED;
}

/* worker */
ag_status_t
wsd_bus_live_start(wsd_t *w, void **out)
{
    natsSubscription *sub = NULL;
    jsSubOptions      so;
    jsErrCode         jerr = 0;
    natsStatus        s;

    if (!wsd_bus_connected(w))
        return AG_EUNAVAIL;
    jsSubOptions_Init(&so);
    so.Stream = "CHANNEL_STREAM";
    so.Ordered = true;
    so.Config.DeliverPolicy = js_DeliverNew;
    s = js_Subscribe(&sub, w->bus->js, "channel.*.message.*", on_live, w, NULL, &so, &jerr);
    if (s != NATS_OK) {
        ag_log_warn("nats: live consumer on CHANNEL_STREAM: %s (jetstream error %d)",
                    natsStatus_GetText(s), (int)jerr);
        return AG_EUNAVAIL;
    }
    /* the loop drains as fast as it can; never let nats.c drop live events */
    natsSubscription_SetPendingLimits(sub, -1, -1);
    *out = sub;
    return AG_OK;
}

bool
wsd_bus_sub_valid(void *sub)
{
    return sub && natsSubscription_IsValid(sub);
}

static void *
sub_pair(wsd_t *w, const char *sa, const char *sb)
{
    pair_t *p = calloc(1, sizeof(*p));
    if (p == NULL)
        return NULL;
    /* SUB is buffered by nats.c while disconnected and replayed on reconnect */
    if (natsConnection_Subscribe(&p->a, w->bus->nc, sa, on_core, w) != NATS_OK ||
        (sb && natsConnection_Subscribe(&p->b, w->bus->nc, sb, on_core, w) != NATS_OK)) {
        ag_log_warn("nats: subscribe %s: %s", sa, nats_GetLastError(NULL));
        wsd_bus_unsub(p);
        return NULL;
    }
    /* the loop drains in batches: a burst must wait in nats.c, not be dropped */
    natsSubscription_SetPendingLimits(p->a, -1, -1);
    if (p->b)
        natsSubscription_SetPendingLimits(p->b, -1, -1);
    return p;
}

/* loop */
void *
wsd_bus_sub_channel(wsd_t *w, int64_t cid)
{
    char a[64], b[64];
    snprintf(a, sizeof(a), "channel.%lld.*", (long long)cid);         /* typing, updated */
    snprintf(b, sizeof(b), "channel.%lld.member.*", (long long)cid);  /* joined, left */
    return sub_pair(w, a, b);
}

/* loop */
void *
wsd_bus_sub_user(wsd_t *w, int64_t uid)
{
    char a[64];
    snprintf(a, sizeof(a), "user.%lld.subs.changed", (long long)uid);
    return sub_pair(w, a, NULL);
}

/* loop */
void
wsd_bus_unsub(void *handle)
{
    pair_t *p = handle;
    if (p == NULL)
        return;
    /* core subscriptions: Unsubscribe is right here (no JetStream consumer behind) */
    if (p->a) {
        natsSubscription_Unsubscribe(p->a);
        natsSubscription_Destroy(p->a);
    }
    if (p->b) {
        natsSubscription_Unsubscribe(p->b);
        natsSubscription_Destroy(p->b);
    }
    free(p);
}

static natsSubscription *
durable(wsd_t *w, const char *stream, const char *subject, const char *name, natsMsgHandler cb,
        natsStatus *s, jsErrCode *jerr)
{
    natsSubscription *sub = NULL;
    jsSubOptions      so;

    jsSubOptions_Init(&so);
    so.Stream = stream;
    /*
     * A queue group, so that daemons holding sessions of the same user can
     * all bind the one durable consumer; each event then reaches one daemon.
     */
    so.Queue = "wsd";
    so.ManualAck = true;
    so.Config.Durable = name;
    so.Config.AckPolicy = js_AckExplicit;
    so.Config.AckWait = 30LL * 1000000000LL;
    so.Config.MaxAckPending = 256;
    so.Config.DeliverPolicy = js_DeliverAll;
    so.Config.InactiveThreshold = w->consumer_idle_s * 1000000000LL;
    *s = js_Subscribe(&sub, w->bus->js, subject, cb, w, NULL, &so, jerr);
    if (*s == NATS_OK)
        natsSubscription_SetPendingLimits(sub, -1, -1);
    return *s == NATS_OK ? sub : NULL;
}

/* worker */
ag_status_t
wsd_bus_user_consumers(wsd_t *w, int64_t uid, void **dm, void **notify)
{
    char       subj[64], name[64];
    natsStatus s = NATS_OK;
    jsErrCode  jerr = 0;

    if (!wsd_bus_connected(w))
        return AG_EUNAVAIL;
    snprintf(subj, sizeof(subj), "user.%lld.dm", (long long)uid);
    snprintf(name, sizeof(name), "wsd-dm-%lld", (long long)uid);
    *dm = durable(w, "DM_STREAM", subj, name, on_dm, &s, &jerr);
    if (*dm == NULL) {
        ag_log_warn("nats: consumer %s: %s (jetstream error %d)", name, natsStatus_GetText(s),
                    (int)jerr);
        return AG_EUNAVAIL;
    }
    snprintf(subj, sizeof(subj), "user.%lld.notify.*", (long long)uid);
    snprintf(name, sizeof(name), "wsd-notify-%lld", (long long)uid);
    *notify = durable(w, "NOTIFY_STREAM", subj, name, on_notify, &s, &jerr);
    if (*notify == NULL) {
        ag_log_warn("nats: consumer %s: %s (jetstream error %d)", name, natsStatus_GetText(s),
                    (int)jerr);
        wsd_bus_consumer_release(*dm);
        *dm = NULL;
        return AG_EUNAVAIL;
    }
    return AG_OK;
}

void
wsd_bus_consumer_release(void *sub)
{
    /* Destroy only: since nats.c 3.4 this keeps the durable consumer (ENVIRONMENT.md) */
    natsSubscription_Destroy(sub);
}

/*
 * worker. Replays channel.<cid>.message.* after j->seq with an ordered
 * consumer, up to the stream's last sequence when the job started (later
 * events arrive live and are deduplicated by seq). When the stream's first
 * sequence is past offset + 1, the events in between are gone: j->gap_*.
 */
ag_status_t
wsd_bus_replay(wsd_t *w, wsd_job_t *j)
{
    jsStreamInfo     *si = NULL;
    jsConsumerInfo   *ci = NULL;
    natsSubscription *sub = NULL;
    jsSubOptions      so;
    jsErrCode         jerr = 0;
    natsStatus        s;
    uint64_t          first, last, start = j->seq + 1;
    size_t            cap = 0;
    char              subj[64];
    ag_status_t       st = AG_OK;

    if (!wsd_bus_connected(w))
        return AG_EUNAVAIL;
    if (js_GetStreamInfo(&si, w->bus->js, "CHANNEL_STREAM", NULL, &jerr) != NATS_OK)
        return AG_EUNAVAIL;
    first = si->State.FirstSeq;
    last = si->State.LastSeq;
    jsStreamInfo_Destroy(si);
    if (first > start) {
        j->gap_from = start;
        j->gap_to = first - 1;
        start = first;
    }
    if (start > last)
        return AG_OK;
    snprintf(subj, sizeof(subj), "channel.%lld.message.*", (long long)j->cid);
    jsSubOptions_Init(&so);
    so.Stream = "CHANNEL_STREAM";
    so.Ordered = true;
    so.Config.DeliverPolicy = js_DeliverByStartSequence;
    so.Config.OptStartSeq = start;
    if ((s = js_SubscribeSync(&sub, w->bus->js, subj, NULL, &so, &jerr)) != NATS_OK) {
        ag_log_warn("nats: replay consumer %s: %s", subj, natsStatus_GetText(s));
        return AG_EUNAVAIL;
    }
    natsSubscription_SetPendingLimits(sub, -1, -1);
    if (natsSubscription_GetConsumerInfo(&ci, sub, NULL, &jerr) == NATS_OK) {
        bool none = ci->NumPending == 0 && ci->Delivered.Stream < start;
        jsConsumerInfo_Destroy(ci);
        if (none)
            goto out;  /* no event of this channel after the offset */
    }
    for (;;) {
        natsMsg       *m = NULL;
        jsMsgMetaData *meta = NULL;
        uint64_t       seq;
        bool           done;

        if ((s = natsSubscription_NextMsg(&m, sub, (int64_t)w->bus->timeout_ms)) != NATS_OK) {
            if (s != NATS_TIMEOUT)
                st = AG_EUNAVAIL;
            break;  /* timeout: nothing more pending for this filter */
        }
        if (natsMsg_GetMetaData(&meta, m) != NATS_OK) {
            natsMsg_Destroy(m);
            continue;
        }
        seq = meta->Sequence.Stream;
        done = meta->NumPending == 0 || seq >= last;
        jsMsgMetaData_Destroy(meta);
        if (j->nmsgs == cap) {
            size_t      nc = cap ? cap * 2 : 64;
            wsd_rmsg_t *nm = realloc(j->msgs, nc * sizeof(*nm));
            if (nm == NULL) {
                natsMsg_Destroy(m);
                st = AG_ENOMEM;
                break;
            }
            j->msgs = nm;
            cap = nc;
        }
        j->msgs[j->nmsgs].seq = seq;
        j->msgs[j->nmsgs++].nmsg = m;
        if (done)
            break;
    }
out:
    natsSubscription_Unsubscribe(sub);  /* ephemeral: delete it now */
    natsSubscription_Destroy(sub);
    return st;
}

ag_status_t
wsd_bus_publish(wsd_t *w, const char *subject, const char *data, size_t len)
{
    natsStatus s = natsConnection_Publish(w->bus->nc, subject, data, (int)len);
    return s == NATS_OK ? AG_OK : AG_EUNAVAIL;
}

const char *
wsd_bus_msg_subject(void *nmsg)
{
    return natsMsg_GetSubject(nmsg);
}

const char *
wsd_bus_msg_data(void *nmsg, size_t *len)
{
    *len = (size_t)natsMsg_GetDataLength(nmsg);
    return natsMsg_GetData(nmsg);
}

uint64_t
wsd_bus_msg_seq(void *nmsg)
{
    jsMsgMetaData *meta = NULL;
    uint64_t       seq = 0;
    if (natsMsg_GetMetaData(&meta, nmsg) == NATS_OK) {
        seq = meta->Sequence.Stream;
        jsMsgMetaData_Destroy(meta);
    }
    return seq;
}

void
wsd_bus_msg_ack(void *nmsg)
{
    natsMsg_Ack(nmsg, NULL);   /* fire and forget: a lost ack means one redelivery */
}

void
wsd_bus_msg_nak(void *nmsg)
{
    natsMsg_Nak(nmsg, NULL);
}

void
wsd_bus_msg_free(void *nmsg)
{
    natsMsg_Destroy(nmsg);
}

void
wsd_bus_metrics(wsd_t *w, ag_buf_t *b)
{
    natsStatistics *st = NULL;
    uint64_t        in_msgs = 0, in_bytes = 0, out_msgs = 0, out_bytes = 0, reconnects = 0;

    if (w->bus == NULL || natsStatistics_Create(&st) != NATS_OK)
        return;
    if (natsConnection_GetStats(w->bus->nc, st) == NATS_OK)
        natsStatistics_GetCounts(st, &in_msgs, &in_bytes, &out_msgs, &out_bytes, &reconnects);
    natsStatistics_Destroy(st);
    ag_buf_printf(b,
                  "# TYPE agora_wsd_nats_connected gauge\nagora_wsd_nats_connected %d\n"
                  "# TYPE agora_wsd_nats_in_msgs_total counter\nagora_wsd_nats_in_msgs_total %llu\n"
                  "# TYPE agora_wsd_nats_reconnects_total counter\n"
                  "agora_wsd_nats_reconnects_total %llu\n",
                  wsd_bus_connected(w) ? 1 : 0, (unsigned long long)in_msgs,
                  (unsigned long long)reconnects);
}
