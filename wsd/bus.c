/*
 * wsd/bus.c — the daemon's NATS side, the only file that sees nats.c types.
 *
 * Callbacks run on nats.c's threads: they wrap the natsMsg in an inbox item
 * and hand it to the loop (wsd_inbox_push), nothing more. Functions marked
 * "worker" issue JetStream API requests (a round trip) and are never called
 * on the loop; "loop" ones only buffer protocol lines (SUB/UNSUB/PUB) and
 * return at once.
 *
 * Every JetStream consumer of the daemon is a plain push consumer created
 * through the JetStream API, delivering to a subject the daemon subscribes to
 * with a core subscription. nats.c's own consumer machinery (ordered
 * consumers, js_Subscribe) is not used for live delivery, because its
 * recovery is the library's and not ours: after agora-wsd then nats-server
 * restarted, its ordered consumer stalled until two heartbeat periods passed
 * (16 s measured), and a nats.c-bound subscription cannot be acked once it is
 * destroyed (natsMsg_Ack follows msg->sub: a use after free, the "segfault at
 * 100 in libnats" of the review). Here:
 *   - the live consumer of CHANNEL_STREAM is ephemeral, one per daemon and
 *     "generation", starting at an exact stream sequence chosen by live.c;
 *     its deliver subject carries the generation, so that deliveries of a
 *     replaced consumer are told apart and dropped; idle heartbeats tell a
 *     stalled or deleted consumer from a quiet stream;
 *   - the durable DM and notify consumers of a user deliver to a fixed subject
 *     per user (_wsd.user.<id>.dm|notify) with no queue group, so that every
 *     daemon holding a session of the user gets every event; any daemon may
 *     ack (an ack is a publish to the message's reply subject, on the
 *     connection, which lives until shutdown). Their configuration and the
 *     way they are created or repaired are lib/events' (events_nats.h), which
 *     agora-worker's pull consumers share.
 * Every subject, stream and consumer name comes from lib/events' vocabulary.
 */
#include "wsd.h"
#include "events/events_nats.h"
#include "log/log.h"

#include <nats/nats.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* nats.c threads delivering every subscription's messages to the inbox */
#define WSD_NATS_DELIVERY_THREADS 2

#define EV(e)  ((natsMsg *)(e))
#define WSD(m) ((wsd_event_t *)(m))

enum { CS_DAEMON, CS_CHANNEL, CS_USER, CS_INBOX, CS_LIVE };

/* the most subscriptions one wsd_coresub_t holds (a channel's typing, updated, member.*) */
#define CS_SUBS 3

/*
 * A few core subscriptions and the closure their callbacks see. The closure
 * is freed by the subscriptions' completion callbacks (nats.c calls them on
 * the delivery thread once no callback can run any more), never by the loop.
 */
struct wsd_coresub {
    wsd_t            *w;
    int               kind;
    int64_t           id;  /* channel or user id */
    uint32_t          gen; /* CS_LIVE */
    natsSubscription *subs[CS_SUBS];
    int               nsubs;
    atomic_int        open;       /* subscriptions whose completion is still to come */
    _Atomic int64_t   seen_ms[2]; /* CS_INBOX: last heartbeat or delivery per stream */
};

struct wsd_bus {
    natsConnection *nc;
    jsCtx          *js;
    wsd_coresub_t   daemon; /* user.*.presence and user.*.updated; lives with the bus */
    int64_t         timeout_ms;
};

/* ---- messages ---------------------------------------------------------------------- */

/*
 * The stream and consumer sequences of a JetStream delivery, from its reply
 * subject (lib/events, ag_ev_jsack_parse), on the nats.c thread:
 * natsMsg_GetMetaData allocates five strings.
 */
static bool
ack_seqs(const char *reply, uint64_t *sseq, uint64_t *cseq)
{
    ag_ev_jsack_t js;
    if (!ag_ev_jsack_parse(reply, &js))
        return false;
    *sseq = js.stream_seq;
    *cseq = js.consumer_seq;
    return true;
}

/* A status message ("NATS/1.0 100 Idle Heartbeat", flow control) rather than an event. */
static bool
is_status(natsMsg *m)
{
    const char *v = NULL;
    return natsMsg_GetDataLength(m) == 0 && natsMsgHeader_Get(m, "Status", &v) == NATS_OK;
}

static void
push(wsd_t *w, wsd_in_t *proto, natsMsg *msg)
{
    wsd_in_t *it = malloc(sizeof(*it));
    if (it == NULL) {
        natsMsg_Destroy(msg); /* JetStream redelivers; core events are best effort */
        return;
    }
    *it = *proto;
    it->ev = WSD(msg);
    wsd_inbox_push(w, it);
}

/* nats.c thread */
static void
on_core(natsConnection *nc, natsSubscription *sub, natsMsg *msg, void *closure)
{
    wsd_coresub_t *cs = closure;
    push(cs->w, &(wsd_in_t){.kind = WSD_IN_CORE}, msg);
}

/* nats.c thread: the live consumer's deliveries and heartbeats */
static void
on_live(natsConnection *nc, natsSubscription *sub, natsMsg *msg, void *closure)
{
    wsd_coresub_t *cs = closure;
    wsd_in_t       p = {.gen = cs->gen};
    const char    *v = NULL;

    if (is_status(msg)) {
        p.kind = WSD_IN_LIVE_HB;
        if (natsMsgHeader_Get(msg, "Nats-Last-Consumer", &v) == NATS_OK && v)
            p.cseq = strtoull(v, NULL, 10);
        natsMsg_Destroy(msg);
        push(cs->w, &p, NULL);
        return;
    }
    p.kind = WSD_IN_LIVE;
    if (!ack_seqs(natsMsg_GetReply(msg), &p.sseq, &p.cseq)) {
        natsMsg_Destroy(msg);
        return;
    }
    push(cs->w, &p, msg);
}

/* nats.c thread: a user's DM and notify deliveries; heartbeats only mark the time */
static void
on_inbox(natsConnection *nc, natsSubscription *sub, natsMsg *msg, void *closure)
{
    wsd_coresub_t  *cs = closure;
    char            tok[16];
    int64_t         id;
    ag_ev_subject_t s = ag_ev_match(natsMsg_GetSubject(msg), &id, tok, sizeof(tok));
    /* a delivery keeps its own subject (user.<id>.dm, user.<id>.notify.<kind>); a
     * heartbeat comes on the deliver subject (_wsd.user.<id>.dm|notify) */
    int stream = s == AG_EV_NOTIFY || (s == AG_EV_WSD_INBOX && strcmp(tok, AG_EV_INBOX_NOTIFY) == 0)
                     ? WSD_NOTIFY
                     : WSD_DM;
    wsd_in_t p = {.kind = WSD_IN_USER, .uid = cs->id, .stream = stream};
    uint64_t cseq;

    atomic_store(&cs->seen_ms[stream], ag_now_mono_ms());
    if (is_status(msg) || !ack_seqs(natsMsg_GetReply(msg), &p.sseq, &cseq)) {
        natsMsg_Destroy(msg);
        return;
    }
    push(cs->w, &p, msg);
}

/* nats.c thread: connection state changes reach the loop (live.c, users.c, /healthz) */
static void
on_disconnected(natsConnection *nc, void *closure)
{
    ag_log_warn("nats: disconnected");
    push(closure, &(wsd_in_t){.kind = WSD_IN_NATS, .up = false}, NULL);
}

static void
on_reconnected(natsConnection *nc, void *closure)
{
    ag_log_info("nats: connected");
    push(closure, &(wsd_in_t){.kind = WSD_IN_NATS, .up = true}, NULL);
}

static void
on_error(natsConnection *nc, natsSubscription *sub, natsStatus err, void *closure)
{
    ag_log_warn("nats: %s", natsStatus_GetText(err));
}

/* ---- core subscriptions -------------------------------------------------------- */

/* nats.c delivery thread, once a subscription is closed and no callback can run */
static void
on_complete(void *closure)
{
    wsd_coresub_t *cs = closure;
    if (atomic_fetch_sub(&cs->open, 1) == 1 && cs->kind != CS_DAEMON)
        free(cs);
}

static natsStatus
subscribe_one(wsd_coresub_t *cs, natsSubscription **out, const char *subj, natsMsgHandler cb)
{
    natsStatus s = natsConnection_Subscribe(out, cs->w->bus->nc, subj, cb, cs);
    if (s != NATS_OK) {
        ag_log_warn("nats: subscribe %s: %s", subj, natsStatus_GetText(s));
        *out = NULL;
        return s;
    }
    /* the loop drains in batches: a burst must wait in nats.c, not be dropped */
    natsSubscription_SetPendingLimits(*out, -1, -1);
    atomic_fetch_add(&cs->open, 1);
    if ((s = natsSubscription_SetOnCompleteCB(*out, on_complete, cs)) != NATS_OK)
        atomic_fetch_sub(&cs->open, 1); /* closed already: nothing will call us */
    return NATS_OK;
}

/* loop: SUB is buffered by nats.c while disconnected and sent again after a reconnect */
static wsd_coresub_t *
coresub_new(wsd_t *w, int kind, int64_t id, uint32_t gen, natsMsgHandler cb,
            const char *const *subjects, int n)
{
    wsd_coresub_t *cs = calloc(1, sizeof(*cs));

    if (cs == NULL)
        return NULL;
    cs->w = w;
    cs->kind = kind;
    cs->id = id;
    cs->gen = gen;
    atomic_init(&cs->open, 0);
    atomic_init(&cs->seen_ms[0], ag_now_mono_ms());
    atomic_init(&cs->seen_ms[1], ag_now_mono_ms());
    for (cs->nsubs = 0; cs->nsubs < n && cs->nsubs < CS_SUBS; cs->nsubs++) {
        if (subjects[cs->nsubs][0] == '\0' ||
            subscribe_one(cs, &cs->subs[cs->nsubs], subjects[cs->nsubs], cb) != NATS_OK) {
            wsd_bus_unsub(cs);
            return NULL;
        }
    }
    return cs;
}

/* loop */
void
wsd_bus_unsub(wsd_coresub_t *cs)
{
    natsSubscription *subs[CS_SUBS];
    int               n;

    if (cs == NULL)
        return;
    n = cs->nsubs;
    memcpy(subs, cs->subs, sizeof(subs));
    if (atomic_load(&cs->open) == 0) { /* no completion will come: ours to free */
        for (int i = 0; i < n; i++)
            natsSubscription_Destroy(subs[i]);
        free(cs);
        return;
    }
    /* from here the completion callbacks own cs: touch only the locals */
    for (int i = 0; i < n; i++) {
        if (subs[i] == NULL)
            continue;
        natsSubscription_Unsubscribe(subs[i]);
        natsSubscription_Destroy(subs[i]);
    }
}

wsd_coresub_t *
wsd_bus_sub_channel(wsd_t *w, int64_t cid)
{
    char s[3][AG_EV_NAME_MAX];
    ag_ev_filter(s[0], sizeof(s[0]), AG_EV_TYPING, cid, NULL);
    ag_ev_filter(s[1], sizeof(s[1]), AG_EV_CHANNEL_UPDATED, cid, NULL);
    ag_ev_filter(s[2], sizeof(s[2]), AG_EV_MEMBER, cid, NULL); /* joined, left */
    return coresub_new(w, CS_CHANNEL, cid, 0, on_core, (const char *const[]){s[0], s[1], s[2]}, 3);
}

wsd_coresub_t *
wsd_bus_sub_user(wsd_t *w, int64_t uid)
{
    char s[2][AG_EV_NAME_MAX];
    ag_ev_filter(s[0], sizeof(s[0]), AG_EV_SUBS_CHANGED, uid, NULL);
    ag_ev_filter(s[1], sizeof(s[1]), AG_EV_SYNC, uid, NULL); /* read, ack: other devices */
    return coresub_new(w, CS_USER, uid, 0, on_core, (const char *const[]){s[0], s[1]}, 2);
}

wsd_coresub_t *
wsd_bus_sub_user_inbox(wsd_t *w, int64_t uid)
{
    char s[2][AG_EV_NAME_MAX];
    /* the exact subjects: nats-server 2.9 sees no interest for a push consumer in a
     * wildcard subscription, and delivers nothing */
    ag_ev_subject(s[0], sizeof(s[0]), AG_EV_WSD_INBOX, uid, AG_EV_INBOX_DM);
    ag_ev_subject(s[1], sizeof(s[1]), AG_EV_WSD_INBOX, uid, AG_EV_INBOX_NOTIFY);
    return coresub_new(w, CS_INBOX, uid, 0, on_inbox, (const char *const[]){s[0], s[1]}, 2);
}

int64_t
wsd_bus_inbox_idle_ms(wsd_coresub_t *h, int stream, int64_t now_ms)
{
    return h ? now_ms - atomic_load(&h->seen_ms[stream]) : 0;
}

wsd_coresub_t *
wsd_bus_live_sub(wsd_t *w, uint32_t gen)
{
    char s[AG_EV_NAME_MAX];
    ag_ev_subject(s, sizeof(s), AG_EV_WSD_LIVE, gen, w->iid);
    return coresub_new(w, CS_LIVE, 0, gen, on_live, (const char *const[]){s}, 1);
}

/* ---- connection -------------------------------------------------------------------- */
ag_status_t
wsd_bus_open(wsd_t *w)
{
    wsd_bus_t   *b = calloc(1, sizeof(*b));
    natsOptions *opts = NULL;
    natsStatus   s;
    char         presence[AG_EV_NAME_MAX], updated[AG_EV_NAME_MAX];

    if (b == NULL)
        return AG_ENOMEM;
    w->bus = b;
    b->timeout_ms = ag_config_int(w->cfg, AG_CFG_nats_timeout_ms);
    b->daemon.w = w;
    b->daemon.kind = CS_DAEMON;
    atomic_init(&b->daemon.open, 0);
    /*
     * Every user with a session has core subscriptions of its own: with nats.c's
     * default of one delivery thread per subscription, 10k users meant 20k threads.
     * The callbacks only queue for the loop, so a small shared pool delivers them
     * all; each subscription stays on one pool thread, which keeps its order.
     */
    nats_SetMessageDeliveryPoolSize(WSD_NATS_DELIVERY_THREADS);
    s = ag_events_nats_options(w->cfg, "agora-wsd", -1, &opts);
    if (s == NATS_OK)
        s = natsOptions_UseGlobalMessageDelivery(opts, true);
    if (s == NATS_OK)
        s = natsOptions_SetRetryOnFailedConnect(opts, true, on_reconnected, w);
    if (s == NATS_OK)
        s = natsOptions_SetReconnectedCB(opts, on_reconnected, w);
    if (s == NATS_OK)
        s = natsOptions_SetDisconnectedCB(opts, on_disconnected, w);
    if (s == NATS_OK)
        s = natsOptions_SetErrorHandler(opts, on_error, w);
    /* fan-out happens on the loop: let nats.c buffer bursts rather than drop them */
    if (s == NATS_OK)
        s = natsOptions_SetMaxPendingMsgs(opts, 1000000);
    if (s == NATS_OK) {
        s = natsConnection_Connect(&b->nc, opts);
        if (s == NATS_OK)
            push(w, &(wsd_in_t){.kind = WSD_IN_NATS, .up = true}, NULL);
        else if (s == NATS_NOT_YET_CONNECTED)
            s = NATS_OK; /* on_reconnected, as the connected callback, says when */
    }
    natsOptions_Destroy(opts);
    if (s == NATS_OK)
        s = ag_events_nats_js(b->nc, b->timeout_ms, &b->js);
    /* daemon-wide core subjects: presence carries its channels, updated is looked up */
    ag_ev_filter(presence, sizeof(presence), AG_EV_PRESENCE, 0, NULL);
    ag_ev_filter(updated, sizeof(updated), AG_EV_USER_UPDATED, 0, NULL);
    if (s == NATS_OK)
        s = subscribe_one(&b->daemon, &b->daemon.subs[0], presence, on_core);
    if (s == NATS_OK)
        s = subscribe_one(&b->daemon, &b->daemon.subs[1], updated, on_core);
    b->daemon.nsubs = 2;
    if (s != NATS_OK) {
        ag_log_error("nats: cannot set up the connection: %s", natsStatus_GetText(s));
        return AG_EUNAVAIL;
    }
    return AG_OK;
}

/*
 * Closing a subscription queues a control message on its delivery thread, and
 * nats.c 3.4's delivery threads stop at library close without draining what is
 * queued: those messages leaked (LeakSanitizer, natsLib_msgDeliveryPostControlMsg
 * under natsSub_close), and so would the closures our completion callbacks free.
 * A barrier: one throwaway subscription per delivery thread (the pool assigns
 * them in turn), closed after every other; when the completion callbacks of all
 * of them have run, each thread is past everything queued before. Bounded by the
 * bus timeout.
 */
typedef struct {
    pthread_mutex_t mu;
    pthread_cond_t  cv;
    int             done;
} barrier_t;

static void
on_barrier_msg(natsConnection *nc, natsSubscription *sub, natsMsg *msg, void *closure)
{
    natsMsg_Destroy(msg); /* nobody publishes there */
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
delivery_barrier(wsd_bus_t *b)
{
    natsSubscription *subs[WSD_NATS_DELIVERY_THREADS] = {NULL};
    /* static: after a timeout a late completion callback still finds it */
    static barrier_t bar = {.mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER};
    char             subj[AG_EV_NAME_MAX], rnd[24];
    int              n = 0;
    struct timespec  until;

    pthread_mutex_lock(&bar.mu);
    bar.done = 0;
    pthread_mutex_unlock(&bar.mu);
    ag_fmt_i64(rnd, (int64_t)random());
    ag_ev_subject(subj, sizeof(subj), AG_EV_WSD_BARRIER, (int64_t)getpid(), rnd);
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
    if (timed_out) { /* a callback may still come: the barrier must outlive it */
        ag_log_warn("nats: delivery threads did not drain at shutdown");
        return;
    }
    for (int i = 0; i < n; i++)
        natsSubscription_Destroy(subs[i]);
}

void
wsd_bus_close(wsd_t *w)
{
    wsd_bus_t *b = w->bus;
    if (b == NULL)
        return;
    for (int i = 0; i < b->daemon.nsubs; i++) {
        if (b->daemon.subs[i] == NULL)
            continue;
        natsSubscription_Unsubscribe(b->daemon.subs[i]);
        natsSubscription_Destroy(b->daemon.subs[i]);
    }
    delivery_barrier(b); /* after every other subscription of ours is closed */
    jsCtx_Destroy(b->js);
    natsConnection_Destroy(b->nc);
    free(b);
    w->bus = NULL;
}

bool
wsd_bus_connected(wsd_t *w)
{
    return w->bus && w->bus->nc && natsConnection_Status(w->bus->nc) == NATS_CONN_STATUS_CONNECTED;
}

/* ---- the live consumer (worker) -------------------------------------------------- */
static void
live_name(wsd_t *w, uint32_t gen, char *name, size_t n)
{
    ag_ev_consumer(name, n, AG_EV_CONSUMER_WSD_LIVE, gen, w->iid);
}

/* The stream of channel events, by its name in lib/events' vocabulary. */
#define CHANNEL_STREAM ag_ev_stream_name(AG_EV_STREAM_CHANNEL)

/*
 * Where the new consumer starts: j->seq, the sequence after the last one the
 * sessions got (0 on the first start: after the stream's last). The stream may
 * have lost what comes after it (retention: j->gap_*), or have been deleted and
 * created again since (another creation time, or a last sequence below ours:
 * j->reset; sequences restarted, so the sessions are told with a gap and the
 * new stream is followed from its end).
 */
static uint64_t
live_start(wsd_job_t *j, uint64_t first, uint64_t last, int64_t known_created)
{
    uint64_t start = j->seq;

    if ((known_created && j->created != known_created) || (start > 0 && start - 1 > last)) {
        j->reset = true;
        return last + 1;
    }
    if (start == 0)
        return last + 1;
    if (start < first) {
        j->gap_from = start;
        j->gap_to = first - 1;
        return first;
    }
    return start;
}

ag_status_t
wsd_bus_live_create(wsd_t *w, wsd_job_t *j)
{
    jsStreamInfo    *si = NULL;
    jsConsumerInfo  *ci = NULL;
    jsConsumerConfig cc;
    jsErrCode        jerr = 0;
    natsStatus       s;
    char             name[AG_EV_NAME_MAX], subj[AG_EV_NAME_MAX];
    uint64_t         first, start;
    int64_t          known_created = j->created;

    if (!wsd_bus_connected(w))
        return AG_EUNAVAIL;
    if ((s = js_GetStreamInfo(&si, w->bus->js, CHANNEL_STREAM, NULL, &jerr)) != NATS_OK) {
        ag_log_warn("nats: CHANNEL_STREAM info: %s (jetstream error %d)", natsStatus_GetText(s),
                    (int)jerr);
        return AG_EUNAVAIL;
    }
    first = si->State.FirstSeq;
    j->last = si->State.LastSeq;
    j->created = si->Created;
    jsStreamInfo_Destroy(si);
    start = live_start(j, first, j->last, known_created);
    live_name(w, j->gen, name, sizeof(name));
    ag_ev_subject(subj, sizeof(subj), AG_EV_WSD_LIVE, j->gen, w->iid);
    jsConsumerConfig_Init(&cc);
    cc.Name = name;
    cc.DeliverSubject = subj;
    cc.DeliverPolicy = js_DeliverByStartSequence;
    cc.OptStartSeq = start;
    cc.AckPolicy = js_AckNone;
    cc.Heartbeat = w->live_hb_ms * 1000000LL;
    /* ours alone, in memory; the server drops it this long after our interest ends */
    cc.InactiveThreshold = 30LL * 1000000000LL;
    cc.MemoryStorage = true;
    if ((s = js_AddConsumer(&ci, w->bus->js, CHANNEL_STREAM, &cc, NULL, &jerr)) != NATS_OK) {
        ag_log_warn("nats: live consumer %s: %s (jetstream error %d)", name, natsStatus_GetText(s),
                    (int)jerr);
        return AG_EUNAVAIL;
    }
    jsConsumerInfo_Destroy(ci);
    j->seq = start;
    if (j->gen > 1)
        wsd_bus_live_delete(w, j->gen - 1);
    return AG_OK;
}

ag_status_t
wsd_bus_stream_last(wsd_t *w, uint64_t *last)
{
    jsStreamInfo *si = NULL;
    jsErrCode     jerr = 0;

    if (!wsd_bus_connected(w) ||
        js_GetStreamInfo(&si, w->bus->js, CHANNEL_STREAM, NULL, &jerr) != NATS_OK)
        return AG_EUNAVAIL;
    *last = si->State.LastSeq;
    jsStreamInfo_Destroy(si);
    return AG_OK;
}

void
wsd_bus_live_delete(wsd_t *w, uint32_t gen)
{
    char      name[AG_EV_NAME_MAX];
    jsErrCode jerr = 0;

    if (!wsd_bus_connected(w))
        return; /* the server drops it after InactiveThreshold anyway */
    live_name(w, gen, name, sizeof(name));
    js_DeleteConsumer(w->bus->js, CHANNEL_STREAM, name, NULL, &jerr);
}

/* ---- the per-user durable consumers (worker) ------------------------------------- */
static natsStatus
user_consumer(wsd_t *w, int64_t uid, int stream, jsErrCode *jerr)
{
    bool             dm = stream == WSD_DM;
    const char      *sname = ag_ev_stream_name(dm ? AG_EV_STREAM_DM : AG_EV_STREAM_NOTIFY);
    char             name[AG_EV_NAME_MAX], filter[AG_EV_NAME_MAX], deliver[AG_EV_NAME_MAX];
    jsConsumerConfig cc;

    ag_ev_consumer(name, sizeof(name), dm ? AG_EV_CONSUMER_WSD_DM : AG_EV_CONSUMER_WSD_NOTIFY, uid,
                   NULL);
    ag_ev_filter(filter, sizeof(filter), dm ? AG_EV_DM : AG_EV_NOTIFY, uid, NULL);
    ag_ev_subject(deliver, sizeof(deliver), AG_EV_WSD_INBOX, uid,
                  dm ? AG_EV_INBOX_DM : AG_EV_INBOX_NOTIFY);
    /* no queue group: every daemon with a session of the user gets every event */
    ag_events_nats_durable(&cc, name, filter, deliver, w->ack_wait_s, 256);
    cc.InactiveThreshold = w->consumer_idle_s * 1000000000LL;
    cc.Heartbeat = w->consumer_hb_ms * 1000000LL;
    /* there with another configuration: an older daemon's, with a queue group */
    return ag_events_nats_consumer_ensure(w->bus->js, sname, &cc, jerr);
}

ag_status_t
wsd_bus_user_consumers(wsd_t *w, int64_t uid)
{
    jsErrCode  jerr = 0;
    natsStatus s;

    if (!wsd_bus_connected(w))
        return AG_EUNAVAIL;
    for (int stream = WSD_DM; stream <= WSD_NOTIFY; stream++) {
        if ((s = user_consumer(w, uid, stream, &jerr)) != NATS_OK) {
            ag_log_warn("nats: %s consumer of user %lld: %s (jetstream error %d)",
                        stream == WSD_DM ? "DM" : "notify", (long long)uid, natsStatus_GetText(s),
                        (int)jerr);
            return AG_EUNAVAIL;
        }
    }
    return AG_OK;
}

/* ---- replay (worker) ------------------------------------------------------------- */
static bool
replay_add(wsd_job_t *j, size_t *cap, natsMsg *m, uint64_t seq)
{
    if (AG_ARRAY_RESERVE(j->msgs, *cap, j->nmsgs + 1, 64) != AG_OK)
        return false;
    j->msgs[j->nmsgs].seq = seq;
    j->msgs[j->nmsgs++].ev = WSD(m);
    return true;
}

/*
 * Replays channel.<cid>.message.* after j->seq with an ordered consumer, up to
 * the stream's last sequence when the job started (later events arrive live and
 * are deduplicated by seq). When the stream's first sequence is past offset + 1,
 * the events in between are gone: j->gap_*. More than ws_replay_max events behind:
 * none are fetched (j->too_long), the session gets a gap to refetch instead, so
 * that one user's old offsets cannot hold a replay thread for long.
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
    uint64_t          first, start = j->seq + 1;
    size_t            cap = 0;
    char              subj[AG_EV_NAME_MAX];
    ag_status_t       st = AG_OK;

    if (!wsd_bus_connected(w))
        return AG_EUNAVAIL;
    if (js_GetStreamInfo(&si, w->bus->js, CHANNEL_STREAM, NULL, &jerr) != NATS_OK)
        return AG_EUNAVAIL;
    first = si->State.FirstSeq;
    j->last = si->State.LastSeq;
    jsStreamInfo_Destroy(si);
    if (first > start) {
        j->gap_from = start;
        j->gap_to = first - 1;
        start = first;
    }
    if (start > j->last)
        return AG_OK;
    ag_ev_filter(subj, sizeof(subj), AG_EV_MESSAGE, j->cid, NULL);
    jsSubOptions_Init(&so);
    so.Stream = CHANNEL_STREAM;
    so.Ordered = true;
    so.Config.DeliverPolicy = js_DeliverByStartSequence;
    so.Config.OptStartSeq = start;
    if ((s = js_SubscribeSync(&sub, w->bus->js, subj, NULL, &so, &jerr)) != NATS_OK) {
        ag_log_warn("nats: replay consumer %s: %s", subj, natsStatus_GetText(s));
        return AG_EUNAVAIL;
    }
    natsSubscription_SetPendingLimits(sub, -1, -1);
    if (natsSubscription_GetConsumerInfo(&ci, sub, NULL, &jerr) == NATS_OK) {
        uint64_t pending = ci->NumPending + ci->Delivered.Consumer;
        jsConsumerInfo_Destroy(ci);
        if (pending == 0)
            goto out; /* no event of this channel after the offset */
        if (pending > (uint64_t)w->replay_max) {
            j->too_long = true;
            goto out;
        }
    }
    for (;;) {
        natsMsg *m = NULL;
        uint64_t seq, cseq;

        if ((s = natsSubscription_NextMsg(&m, sub, (int64_t)w->bus->timeout_ms)) != NATS_OK) {
            if (s != NATS_TIMEOUT)
                st = AG_EUNAVAIL;
            break; /* timeout: nothing more pending for this filter */
        }
        if (!ack_seqs(natsMsg_GetReply(m), &seq, &cseq)) {
            natsMsg_Destroy(m);
            continue;
        }
        if (!replay_add(j, &cap, m, seq)) {
            natsMsg_Destroy(m);
            st = AG_ENOMEM;
            break;
        }
        if (seq >= j->last || j->nmsgs > (size_t)w->replay_max)
            break;
    }
out:
    natsSubscription_Unsubscribe(sub); /* ephemeral: delete it now */
    natsSubscription_Destroy(sub);
    return st;
}

/* ---- publishing and messages ---------------------------------------------------- */
ag_status_t
wsd_bus_emit(wsd_t *w, const ag_ev_t *ev)
{
    char        subj[AG_EV_NAME_MAX];
    ag_buf_t    b;
    ag_status_t st;

    if (ag_ev_subject_of(ev, subj, sizeof(subj)) == 0)
        return AG_EBADREQ;
    ag_buf_init(&b);
    if ((st = ag_ev_payload(ev, &b)) == AG_OK &&
        natsConnection_Publish(w->bus->nc, subj, b.data, (int)b.len) != NATS_OK)
        st = AG_EUNAVAIL;
    ag_buf_fini(&b);
    return st;
}

const char *
wsd_event_subject(wsd_event_t *ev)
{
    return natsMsg_GetSubject(EV(ev));
}

const char *
wsd_event_data(wsd_event_t *ev, size_t *len)
{
    *len = (size_t)natsMsg_GetDataLength(EV(ev));
    return natsMsg_GetData(EV(ev));
}

static void
reply(wsd_t *w, wsd_event_t *ev, const char *what)
{
    const char *to = natsMsg_GetReply(EV(ev));
    /* fire and forget: a lost ack means one redelivery (at least once) */
    if (to && *to && w->bus && w->bus->nc)
        natsConnection_PublishString(w->bus->nc, to, what);
}

void
wsd_event_ack(wsd_t *w, wsd_event_t *ev)
{
    reply(w, ev, "+ACK");
}

void
wsd_event_nak(wsd_t *w, wsd_event_t *ev)
{
    reply(w, ev, "-NAK");
}

void
wsd_event_free(wsd_event_t *ev)
{
    natsMsg_Destroy(EV(ev));
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
