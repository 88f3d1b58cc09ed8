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
 *     connection, which lives until shutdown).
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

/*
 * One or two core subscriptions and the closure their callbacks see. The
 * closure is freed by the subscriptions' completion callbacks (nats.c calls them
 * on the delivery thread once no callback can run any more), never by the loop.
 */
struct wsd_coresub {
    wsd_t            *w;
    int               kind;
    int64_t           id;  /* channel or user id */
    uint32_t          gen; /* CS_LIVE */
    natsSubscription *a, *b;
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
 * The stream and consumer sequences from a JetStream reply subject:
 * $JS.ACK.<stream>.<consumer>.<delivered>.<sseq>.<cseq>.<ts>.<pending> (v1) or
 * $JS.ACK.<domain>.<hash>.<stream>.<consumer>.<delivered>.<sseq>.<cseq>.<ts>.<pending>.<r>
 * (v2). Parsed here on the nats.c thread: natsMsg_GetMetaData allocates five strings.
 */
static bool
ack_seqs(const char *reply, uint64_t *sseq, uint64_t *cseq)
{
    const char *tok[13];
    int         n = 0;

    if (reply == NULL || strncmp(reply, "$JS.ACK.", 8) != 0)
        return false;
    for (const char *p = reply; p && n < 13; p = strchr(p, '.'), p = p ? p + 1 : NULL)
        tok[n++] = p;
    int base = n == 9 ? 5 : n >= 12 ? 7 : -1;
    if (base < 0)
        return false;
    *sseq = strtoull(tok[base], NULL, 10);
    *cseq = strtoull(tok[base + 1], NULL, 10);
    return *sseq > 0;
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
    wsd_coresub_t *cs = closure;
    const char    *subj = natsMsg_GetSubject(msg);
    /* a delivery keeps its own subject (user.<id>.dm, user.<id>.notify.<kind>); a
     * heartbeat comes on the deliver subject (_wsd.user.<id>.dm|notify) */
    int      stream = subj && strstr(subj, ".notify") ? WSD_NOTIFY : WSD_DM;
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
coresub_new(wsd_t *w, int kind, int64_t id, uint32_t gen, natsMsgHandler cb, const char *sa,
            const char *sb)
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
    if (subscribe_one(cs, &cs->a, sa, cb) != NATS_OK ||
        (sb && subscribe_one(cs, &cs->b, sb, cb) != NATS_OK)) {
        wsd_bus_unsub(cs);
        return NULL;
    }
    return cs;
}

/* loop */
void
wsd_bus_unsub(wsd_coresub_t *cs)
{
    natsSubscription *a, *b;

    if (cs == NULL)
        return;
    a = cs->a;
    b = cs->b;
    if (atomic_load(&cs->open) == 0) { /* no completion will come: ours to free */
        natsSubscription_Destroy(a);
        natsSubscription_Destroy(b);
        free(cs);
        return;
    }
    /* from here the completion callbacks own cs: touch only the locals */
    if (a) {
        natsSubscription_Unsubscribe(a);
        natsSubscription_Destroy(a);
    }
    if (b) {
        natsSubscription_Unsubscribe(b);
        natsSubscription_Destroy(b);
    }
}

wsd_coresub_t *
wsd_bus_sub_channel(wsd_t *w, int64_t cid)
{
    char a[64], b[64];
    snprintf(a, sizeof(a), "channel.%lld.*", (long long)cid);        /* typing, updated */
    snprintf(b, sizeof(b), "channel.%lld.member.*", (long long)cid); /* joined, left */
    return coresub_new(w, CS_CHANNEL, cid, 0, on_core, a, b);
}

wsd_coresub_t *
wsd_bus_sub_user(wsd_t *w, int64_t uid)
{
    char a[64], b[64];
    snprintf(a, sizeof(a), "user.%lld.subs.changed", (long long)uid);
    snprintf(b, sizeof(b), "user.%lld.sync.*", (long long)uid); /* read, ack: other devices */
    return coresub_new(w, CS_USER, uid, 0, on_core, a, b);
}

wsd_coresub_t *
wsd_bus_sub_user_inbox(wsd_t *w, int64_t uid)
{
    char a[64], b[64];
    /* the exact subjects: nats-server 2.9 sees no interest for a push consumer in a
     * wildcard subscription, and delivers nothing */
    snprintf(a, sizeof(a), "_wsd.user.%lld.dm", (long long)uid);
    snprintf(b, sizeof(b), "_wsd.user.%lld.notify", (long long)uid);
    return coresub_new(w, CS_INBOX, uid, 0, on_inbox, a, b);
}

int64_t
wsd_bus_inbox_idle_ms(wsd_coresub_t *h, int stream, int64_t now_ms)
{
    return h ? now_ms - atomic_load(&h->seen_ms[stream]) : 0;
}

wsd_coresub_t *
wsd_bus_live_sub(wsd_t *w, uint32_t gen)
{
    char a[96];
    snprintf(a, sizeof(a), "_wsd.live.%s.%u", w->iid, gen);
    return coresub_new(w, CS_LIVE, 0, gen, on_live, a, NULL);
}

/* ---- connection -------------------------------------------------------------------- */
ag_status_t
wsd_bus_open(wsd_t *w)
{
    wsd_bus_t   *b = calloc(1, sizeof(*b));
    natsOptions *opts = NULL;
    natsStatus   s;
    jsOptions    jso;

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
    if (s == NATS_OK) {
        jsOptions_Init(&jso);
        jso.Wait = b->timeout_ms;
        s = natsConnection_JetStream(&b->js, b->nc, &jso);
    }
    /* daemon-wide core subjects: presence carries its channels, updated is looked up */
    if (s == NATS_OK)
        s = subscribe_one(&b->daemon, &b->daemon.a, "user.*.presence", on_core);
    if (s == NATS_OK)
        s = subscribe_one(&b->daemon, &b->daemon.b, "user.*.updated", on_core);
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
    char             subj[64];
    int              n = 0;
    struct timespec  until;

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
    if (b->daemon.a) {
        natsSubscription_Unsubscribe(b->daemon.a);
        natsSubscription_Destroy(b->daemon.a);
    }
    if (b->daemon.b) {
        natsSubscription_Unsubscribe(b->daemon.b);
        natsSubscription_Destroy(b->daemon.b);
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
    snprintf(name, n, "wsd-live-%s-%u", w->iid, gen);
}

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
    char             name[96], subj[96];
    uint64_t         first, start;
    int64_t          known_created = j->created;

    if (!wsd_bus_connected(w))
        return AG_EUNAVAIL;
    if ((s = js_GetStreamInfo(&si, w->bus->js, "CHANNEL_STREAM", NULL, &jerr)) != NATS_OK) {
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
    snprintf(subj, sizeof(subj), "_wsd.live.%s.%u", w->iid, j->gen);
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
    if ((s = js_AddConsumer(&ci, w->bus->js, "CHANNEL_STREAM", &cc, NULL, &jerr)) != NATS_OK) {
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
        js_GetStreamInfo(&si, w->bus->js, "CHANNEL_STREAM", NULL, &jerr) != NATS_OK)
        return AG_EUNAVAIL;
    *last = si->State.LastSeq;
    jsStreamInfo_Destroy(si);
    return AG_OK;
}

void
wsd_bus_live_delete(wsd_t *w, uint32_t gen)
{
    char      name[96];
    jsErrCode jerr = 0;

    if (!wsd_bus_connected(w))
        return; /* the server drops it after InactiveThreshold anyway */
    live_name(w, gen, name, sizeof(name));
    js_DeleteConsumer(w->bus->js, "CHANNEL_STREAM", name, NULL, &jerr);
}

/* ---- the per-user durable consumers (worker) ------------------------------------- */
static natsStatus
user_consumer(wsd_t *w, int64_t uid, int stream, jsErrCode *jerr)
{
    const char      *sname = stream == WSD_DM ? "DM_STREAM" : "NOTIFY_STREAM";
    const char      *what = stream == WSD_DM ? "dm" : "notify";
    char             name[64], filter[64], deliver[64];
    jsConsumerConfig cc;
    jsConsumerInfo  *ci = NULL, *old = NULL;
    natsStatus       s;

    snprintf(name, sizeof(name), "wsd-%s-%lld", what, (long long)uid);
    snprintf(filter, sizeof(filter), stream == WSD_DM ? "user.%lld.dm" : "user.%lld.notify.*",
             (long long)uid);
    snprintf(deliver, sizeof(deliver), "_wsd.user.%lld.%s", (long long)uid, what);
    jsConsumerConfig_Init(&cc);
    cc.Durable = name;
    cc.DeliverSubject = deliver; /* no queue group: every daemon with a session gets it */
    cc.FilterSubject = filter;
    cc.AckPolicy = js_AckExplicit;
    cc.AckWait = w->ack_wait_s * 1000000000LL;
    cc.MaxAckPending = 256;
    cc.DeliverPolicy = js_DeliverAll;
    cc.InactiveThreshold = w->consumer_idle_s * 1000000000LL;
    cc.Heartbeat = w->consumer_hb_ms * 1000000LL;
    if ((s = js_AddConsumer(&ci, w->bus->js, sname, &cc, NULL, jerr)) == NATS_OK)
        goto out;
    if (*jerr == 0)
        return s; /* no answer: NATS or JetStream unavailable */
    /* there with another configuration (an older daemon's, with a queue group) */
    if ((s = js_UpdateConsumer(&ci, w->bus->js, sname, &cc, NULL, jerr)) == NATS_OK)
        goto out;
    /* not updatable: recreate it from where its acks stopped, so nothing unacked is lost */
    if ((s = js_GetConsumerInfo(&old, w->bus->js, sname, name, NULL, jerr)) != NATS_OK)
        return s;
    if (old->AckFloor.Stream > 0) {
        cc.DeliverPolicy = js_DeliverByStartSequence;
        cc.OptStartSeq = old->AckFloor.Stream + 1;
    }
    jsConsumerInfo_Destroy(old);
    ag_log_info("nats: consumer %s recreated (its configuration could not be updated)", name);
    js_DeleteConsumer(w->bus->js, sname, name, NULL, jerr);
    if ((s = js_AddConsumer(&ci, w->bus->js, sname, &cc, NULL, jerr)) != NATS_OK)
        return s;
out:
    jsConsumerInfo_Destroy(ci);
    return NATS_OK;
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
    if (j->nmsgs == *cap) {
        size_t      nc = *cap ? *cap * 2 : 64;
        wsd_rmsg_t *nm = realloc(j->msgs, nc * sizeof(*nm));
        if (nm == NULL)
            return false;
        j->msgs = nm;
        *cap = nc;
    }
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
    char              subj[64];
    ag_status_t       st = AG_OK;

    if (!wsd_bus_connected(w))
        return AG_EUNAVAIL;
    if (js_GetStreamInfo(&si, w->bus->js, "CHANNEL_STREAM", NULL, &jerr) != NATS_OK)
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
wsd_bus_publish(wsd_t *w, const char *subject, const char *data, size_t len)
{
    natsStatus s = natsConnection_Publish(w->bus->nc, subject, data, (int)len);
    return s == NATS_OK ? AG_OK : AG_EUNAVAIL;
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
