/*
 * wsd/wsd.h — agora-wsd, the realtime WebSocket daemon (CONTRACT §4, §9).
 *
 * Threads and who owns what:
 *   - the lws service thread ("loop") owns every session, channel and user
 *     record, the send queues, the live-consumer state and the metrics
 *     counters; nothing else touches them.
 *   - nats.c's threads run the message callbacks in bus.c; they only build an
 *     inbox item (inbox.c) and wake the loop with lws_cancel_service(), which
 *     raises LWS_CALLBACK_EVENT_WAIT_CANCELLED on the loop.
 *   - the job threads (jobs.c) run everything that may block on the network:
 *     Redis and PostgreSQL (each thread has its own ag_cache_t and ag_db_t)
 *     and JetStream API requests. Replays have threads of their own, so that
 *     a long replay never delays another user's connect. A finished job goes
 *     back to the loop through the inbox.
 * Frames are immutable, reference-counted wsd_msg_t with LWS_PRE headroom,
 * built once and shared by every queue they are put on.
 *
 * Files: main.c (options, loop), conn.c (lws callback, send queues), status.c
 * (/healthz, /metrics), inbox.c (hand-over to the loop), live.c (the
 * daemon-wide channel consumer and its supervision), channels.c (attachments,
 * channel fan-out), replay.c (catch-up from lastRead), users.c (DMs,
 * notifications, presence, read_state across devices), sessions.c (open,
 * close, client actions, membership resync), jobs.c (the job pools),
 * store.c (the Redis/PostgreSQL work of jobs), bus.c (nats.c), map.c, frame.c.
 */
#ifndef WSD_H
#define WSD_H

#include "auth/auth.h"
#include "config/config.h"
#include "core/core.h"
#include "model/model.h"

#include <libwebsockets.h>
#include <pthread.h>

/* Close codes sent to clients (documented in wsd/README.md). */
#define WSD_CLOSE_GOING_AWAY  1001 /* daemon shutting down: reconnect elsewhere/later */
#define WSD_CLOSE_POLICY      1008 /* protocol abuse */
#define WSD_CLOSE_TOO_BIG     1009 /* inbound frame over ws_frame_max */
#define WSD_CLOSE_UNAVAILABLE 1011 /* could not load subscriptions: retry with backoff */
#define WSD_CLOSE_AUTH        4001 /* token expired or account deleted: sign in again */
#define WSD_CLOSE_SLOW        4008 /* send queue overflow: reconnect, replay from lastRead */

/* The streams of the per-user durable consumers. */
enum { WSD_DM = 0, WSD_NOTIFY = 1 };

/* ---- handles of the NATS side (bus.c owns their insides) ---------------- */
typedef struct wsd_event   wsd_event_t;   /* one message from NATS */
typedef struct wsd_coresub wsd_coresub_t; /* core subscriptions of one channel or user */
typedef struct wsd_bus     wsd_bus_t;

/* ---- int64-keyed hash map (map.c; loop thread only) ---------------------- */
typedef struct wsd_map_ent wsd_map_ent_t;
typedef struct {
    wsd_map_ent_t **b;
    size_t          nb, n;
} wsd_map_t;

void  wsd_map_init(wsd_map_t *m);
void  wsd_map_fini(wsd_map_t *m); /* frees entries, not values */
void *wsd_map_get(const wsd_map_t *m, int64_t key);
int   wsd_map_put(wsd_map_t *m, int64_t key, void *val); /* 0 ok, -1 ENOMEM */
void *wsd_map_del(wsd_map_t *m, int64_t key);
/* Values into a freshly malloc'd array (caller frees); safe against changes while used. */
void **wsd_map_values(const wsd_map_t *m, size_t *n);

/* ---- frames (frame.c) ----------------------------------------------------- */
typedef struct {
    int           refs;      /* loop thread only: no atomics needed */
    bool          droppable; /* typing/presence: first to go when a queue fills */
    unsigned char hlen;      /* WebSocket header, built once, at buf + LWS_PRE - hlen */
    size_t        len;
    unsigned char buf[]; /* LWS_PRE bytes of headroom (ending with the header), then
                          * len bytes of JSON */
} wsd_msg_t;

/* The frame as it goes on the wire: header and payload (written with LWS_WRITE_RAW). */
#define WSD_MSG_WIRE(m)     ((m)->buf + LWS_PRE - (m)->hlen)
#define WSD_MSG_WIRE_LEN(m) ((size_t)(m)->hlen + (m)->len)

wsd_msg_t *wsd_msg_new(const char *json, size_t len, bool droppable);
wsd_msg_t *wsd_msg_printf(bool droppable, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void wsd_msg_unref(wsd_msg_t *m);

/* ---- sessions, channels, users (loop thread only) ---------------------- */
typedef struct wsd_sess wsd_sess_t;
typedef struct wsd_chan wsd_chan_t;
typedef struct wsd_user wsd_user_t;
typedef struct wsd_job  wsd_job_t;

/* One session's attachment to one channel. */
typedef struct {
    wsd_sess_t *sess;
    wsd_chan_t *chan;
    uint64_t    last_seq;  /* highest stream seq delivered: dedupe across replay→live */
    bool        replaying; /* live events are held until the replay has been sent */
    wsd_job_t  *rjob;      /* a replay still being fed to the queue as it drains */
    size_t      rnext;     /* next of rjob's messages to send */
    struct wsd_held {
        wsd_msg_t *m;
        uint64_t   seq;
    } * held; /* live events that came during the replay */
    size_t nheld, capheld;
} wsd_att_t;

struct wsd_chan {
    int64_t        id;
    wsd_att_t    **atts;
    size_t         n, cap;
    wsd_coresub_t *core; /* channel.<id>.typing, .updated, .member.* */
    struct wsd_gchan *gql; /* GraphQL subscriptions of the channel (gqlws_events.c); NULL none */
};

/* An unacked DM or notification, kept until a session of the user acks it (on any daemon). */
typedef struct {
    int          stream; /* WSD_DM, WSD_NOTIFY */
    uint64_t     seq;
    wsd_event_t *ev; /* acked or nak'ed through its reply subject (bus.c) */
    wsd_msg_t   *frame;
} wsd_pend_t;

struct wsd_user {
    struct wsd    *w; /* back pointer for the grace timer */
    int64_t        id;
    wsd_sess_t   **sess;
    size_t         n, cap;
    wsd_coresub_t *core;                       /* user.<id>.subs.changed and user.<id>.sync.* */
    wsd_coresub_t *inbox;                      /* the deliveries of the user's durable DM and notify
                                                * consumers (_wsd.user.<id>.dm|notify), heartbeats too */
    bool                   consumers_ok;       /* both durable consumers exist on the server */
    bool                   consumers_pending;  /* a CONSUMERS job is in flight */
    int64_t                consumers_retry_ms; /* when to try again after a failure; 0 none */
    int64_t                consumers_ok_ms;    /* when they were last found to exist */
    int                    consumers_fails;
    wsd_pend_t            *pend;
    size_t                 npend, cappend;
    bool                   online; /* this daemon counted the user in Redis */
    bool                   grace_armed;
    lws_sorted_usec_list_t grace;
    struct wsd_typing {
        int64_t cid, ms; /* the user's last typing event published for channel cid */
    } * typing;
    size_t ntyping, captyping;
    /* membership resync: memberships read again from PostgreSQL, the user checked to exist */
    int64_t resync_ms; /* next resync */
    bool    resync_pending;
    /* replays of this user's sessions run one at a time (replay.c) */
    wsd_job_t *rq_head, *rq_tail;
    bool       replay_running;
};

struct wsd_sess {
    uint64_t    id;
    char        sid[40];
    struct lws *wsi;
    wsd_user_t *user;
    bool        ready;
    int64_t     exp_s; /* the token's expiry: closed with 4001 past it */
    wsd_att_t **atts;
    size_t      natts, capatts;
    wsd_msg_t **q;     /* ring of qcap frames: qin, then grown on the heap up to
                        * ws_queue_max; NULL when empty (conn.c) */
    wsd_msg_t *qin[2]; /* the ring of a session that keeps up: a live frame
                        * costs no malloc/free */
    size_t      qhead, qlen, qcap;
    size_t      nreplays;   /* attachments with a paced replay (att->rjob) */
    int         close_code; /* nonzero: closing with this code */
    const char *close_reason;
    char       *rx; /* a message over several callbacks, up to ws_frame_max;
                     * NULL otherwise */
    size_t   rxlen;
    double   tokens; /* client frame rate bucket */
    int64_t  tokens_ms, last_rate_err_ms;
    uint32_t stamp; /* dedupe of one fan-out over several channels */
    /* heartbeat (conn.c): our own ping/pong, swept once a second, instead of lws's
     * per-connection validity timer (an O(sessions) sorted insert per ping and pong) */
    wsd_sess_t *all_prev, *all_next; /* w->sess_all */
    int64_t     alive_ms;            /* the upgrade, or the last pong or frame from the peer */
    int64_t     ping_ms;             /* our last ping, 0 none yet */
    bool        ping_due;            /* write a ping at the next SERVER_WRITEABLE */
    bool        hb_killed;           /* silent past the hang-up time: being dropped */
    /* writes (conn.c): a session with new frames goes on w->dirty and is written by
     * wsd_flush before the loop sleeps; one whose socket could not take everything waits
     * for SERVER_WRITEABLE instead (wait_writable) and stays off the list meanwhile */
    bool        dirty, wait_writable;
    wsd_sess_t *dirty_prev, *dirty_next;
    /* graphql-transport-ws (gqlws.h): such a session is never `ready` (no §4 frame reaches
     * it); gql_acked once connection_ack went out; its subscriptions */
    bool              gql, gql_acked;
    struct wsd_gsub **gsubs;
    size_t            ngsubs, capgsubs;
};

/* ---- the inbox: nats.c threads and jobs → loop (inbox.c) ---------------- */
typedef enum {
    WSD_IN_LIVE,    /* CHANNEL_STREAM message of the live consumer generation `gen` */
    WSD_IN_LIVE_HB, /* its idle heartbeat; cseq = the consumer's last sequence */
    WSD_IN_CORE,    /* core NATS message (typing, member, updated, subs.changed, sync, presence) */
    WSD_IN_USER,    /* DM_STREAM / NOTIFY_STREAM delivery for user uid (stream) */
    WSD_IN_NATS,    /* the connection went up (up) or down */
    WSD_IN_JOB,     /* a finished job */
} wsd_in_kind_t;

typedef struct wsd_in {
    struct wsd_in *next;
    wsd_in_kind_t  kind;
    int64_t        uid;
    int            stream;     /* USER: WSD_DM or WSD_NOTIFY */
    bool           up;         /* NATS */
    uint32_t       gen;        /* LIVE, LIVE_HB */
    uint64_t       sseq, cseq; /* stream and consumer sequence of a JetStream delivery */
    wsd_event_t   *ev;
    wsd_job_t     *job;
    int64_t        at_ms; /* enqueue time, for the lag metric */
} wsd_in_t;

/* Any thread: hand an item to the loop (and wake it, once until it drains). */
void wsd_inbox_push(struct wsd *w, wsd_in_t *item);
void wsd_wake(struct wsd *w);
/* Loop: process what other threads handed over (at most a batch per wake-up). */
void wsd_inbox_drain(struct wsd *w);
/* After the loop stopped: free whatever is left. */
void wsd_inbox_discard(struct wsd *w);

/* ---- jobs (jobs.c runs them, store.c and bus.c do the work) ------------- */
typedef enum {
    WSD_JOB_LIVE,         /* (re)create the daemon-wide CHANNEL_STREAM consumer */
    WSD_JOB_SUBS,         /* user's channels + lastRead offsets for a new session */
    WSD_JOB_REPLAY,       /* channel events after an offset, for one session (replay pool) */
    WSD_JOB_READ,         /* move lastRead forward; tell the user's other sessions */
    WSD_JOB_PRESENCE,     /* count the user on/offline in Redis, publish on change */
    WSD_JOB_USER_UPDATED, /* channels of a user whose profile changed */
    WSD_JOB_CONSUMERS,    /* create (or check) the user's durable DM and notify consumers */
    WSD_JOB_HEARTBEAT,    /* renew this daemon's presence lease, reap dead daemons' (up=false:
                           * give the lease back at shutdown) */
    WSD_JOB_RESYNC,       /* memberships from PostgreSQL; does the user still exist? */
    WSD_JOB_STREAM_INFO,  /* CHANNEL_STREAM's last sequence: the live consumer's lag */
    WSD_JOB_GQL_SUB,      /* a GraphQL subscription's document, limits and membership */
    WSD_JOB_GQL_EVENTS,   /* a batch of a channel's events through its subscriptions' selections */
    WSD_JOB_GQL_REPLAY,   /* the events after a subscription's seq, executed (replay pool) */
} wsd_job_kind_t;

typedef struct {
    uint64_t     seq;
    wsd_event_t *ev;
} wsd_rmsg_t;

struct wsd_job {
    struct wsd_job *next;
    wsd_job_kind_t  kind;
    uint64_t        sess_id;
    int64_t         uid, cid;
    uint64_t        seq;      /* READ: new offset; REPLAY: the offset; LIVE: start seq */
    bool            up;       /* PRESENCE; HEARTBEAT: false = deregister */
    bool            relost;   /* HEARTBEAT: the lease had vanished (Redis lost, or we stalled) */
    bool            moved;    /* READ: the offset moved forward */
    bool            exists;   /* SUBS, RESYNC: the user still exists */
    int             attempts; /* runs so far (retries of a failed job) */
    int64_t         due_ms;   /* a retry waits until then */
    ag_status_t     st;
    int64_t        *ids;     /* SUBS, USER_UPDATED, RESYNC: channel ids */
    int64_t        *offsets; /* SUBS: lastRead per id, -1 when none */
    size_t          nids;
    wsd_rmsg_t     *msgs; /* REPLAY */
    size_t          nmsgs;
    uint64_t        gap_from, gap_to; /* REPLAY, LIVE: events the stream no longer holds */
    uint64_t        last;             /* REPLAY, LIVE: the stream's last sequence */
    bool            too_long;         /* REPLAY: more than ws_replay_max events: a gap instead */
    bool            reset;            /* LIVE: the stream was recreated (sequences restarted) */
    uint32_t        gen;              /* LIVE: the consumer generation created */
    int64_t         created;          /* LIVE: in, the creation time the loop knows (0: none); out,
                                       * the stream's (ns) */
    char sid[40];                     /* READ: the session that read */
    struct wsd_gjob *gql;             /* GQL_*: what the job carries (gqlws.h) */
};

ag_status_t wsd_jobs_start(struct wsd *w);
void        wsd_jobs_stop(struct wsd *w);
wsd_job_t  *wsd_job_new(wsd_job_kind_t kind);
void        wsd_job_submit(struct wsd *w, wsd_job_t *j); /* any thread; NULL ok */
/* Loop: submit after delay_ms (the tick submits what came due). */
void wsd_job_submit_later(struct wsd *w, wsd_job_t *j, int64_t delay_ms);
/* Loop: a failed job again later, with backoff, unless the daemon stops or it ran
 * max_attempts times (0: no limit); true when the job was taken (do not free it). */
bool wsd_job_retry(struct wsd *w, wsd_job_t *j, int max_attempts);
void wsd_jobs_tick(struct wsd *w, int64_t now);
/* Loop: jobs queued, running or waiting for a retry (/metrics). */
size_t wsd_jobs_pending(struct wsd *w);
void   wsd_job_free(wsd_job_t *j);
/* Worker threads: the work of each kind (store.c). */
typedef struct wsd_store wsd_store_t;
wsd_store_t             *wsd_store_new(struct wsd *w);
void                     wsd_store_free(wsd_store_t *k);
void                     wsd_store_run(wsd_store_t *k, wsd_job_t *j);

/* ---- metrics (loop thread only) ------------------------------------------ */
typedef struct {
    uint64_t connections_total, frames_out, frames_in, queue_drops, slow_closes;
    uint64_t replayed, gaps, auth_refused, rate_limited, too_big, bad_frames;
    uint64_t events_in, inbox_lag_ms_max;
    uint64_t live_restarts, consumer_restarts, job_retries, replay_retries, replays_refused;
    uint64_t resyncs, resync_detached, auth_closes;
    uint64_t writes, partial_writes; /* sends; those the kernel took only part of */
    uint64_t live_in, live_unheld;   /* channel events received; those no local session holds */
    /* GraphQL subscriptions: subscribes refused (document, limits, membership); events put
     * through selections; executions run, and those a shared result saved */
    uint64_t gql_refused, gql_events, gql_executions, gql_shared;
} wsd_metrics_t;

/* The daemon-wide live consumer on CHANNEL_STREAM (live.c, loop thread). */
typedef struct {
    uint32_t       gen;      /* current generation; items of older ones are dropped */
    bool           up;       /* a consumer of gen exists and delivers */
    bool           pending;  /* a LIVE job is in flight */
    int64_t        retry_ms; /* when to try again after a failure; 0 none */
    int            fails;
    uint64_t       last_seq;      /* last stream sequence handed to the sessions */
    uint64_t       last_cseq;     /* its consumer sequence: a jump means a lost delivery */
    int64_t        alive_ms;      /* last message or heartbeat of gen */
    int64_t        last_event_ms; /* last channel event (metrics: seconds since) */
    int64_t        created;       /* the stream's creation time: another means it was recreated */
    uint64_t       lag;           /* stream last - last_seq at the last check */
    int            lag_checks;    /* checks in a row that found a lag and no progress */
    uint64_t       lag_seen_seq;  /* last_seq at the previous check */
    int64_t        info_ms;       /* next STREAM_INFO job */
    bool           info_pending;
    bool           redo;               /* restart again once the pending job is back */
    wsd_in_t      *early, *early_tail; /* deliveries of gen before its job came back */
    wsd_coresub_t *sub;                /* the deliver subject of gen */
} wsd_live_t;

typedef struct wsd {
    ag_config_t *cfg;
    int          listen_fd; /* bound by the first process, shared by its workers */
    /* ws_workers > 1: this worker's index, and every worker's /metrics (status.c) in
     * memory the supervisor mapped shared before the forks; NULL with one process */
    int                 worker, nworkers;
    struct wsd_mslot   *mslots;
    ag_auth_t          *auth;
    struct lws_context *ctx;
    volatile int        stop;     /* set by the SIGTERM handler */
    bool                stopping; /* loop: closing sessions */
    /* limits from config */
    int64_t     frame_max, queue_max, conn_per_user, rate_per_sec;
    int64_t     heartbeat_ms, grace_ms, typing_ms, consumer_idle_s;
    int64_t     instance_ttl_ms, replay_max, resync_ms, live_hb_ms, consumer_hb_ms, ack_wait_s;
    const char *metrics_token;
    /* presence lease: wsd:instance:<iid> in Redis with a TTL, renewed by the loop's tick
     * through a HEARTBEAT job; users this daemon counted online are in
     * wsd:instance:<iid>:users, so that a live daemon can count them offline after a crash */
    char    iid[40];
    bool    hb_pending, hb_registered;
    int64_t hb_next_ms;
    /* loop-owned registries */
    wsd_map_t              sessions, chans, users;
    uint64_t               next_sess;
    uint32_t               stamp;
    size_t                 nsess;
    unsigned char         *wbuf;     /* LWS_PRE + WSD_WBUF: several queued frames, one write */
    wsd_sess_t            *sess_all; /* every session, for the heartbeat sweep */
    wsd_sess_t            *dirty;    /* sessions with frames queued since the last flush */
    wsd_metrics_t          m;
    wsd_live_t             live;
    bool                   nats_up; /* loop's view of the connection (WSD_IN_NATS) */
    lws_sorted_usec_list_t tick;
    /* inbox: any thread pushes, the loop drains (lock: inbox_mu) */
    pthread_mutex_t inbox_mu;
    pthread_mutex_t wake_mu; /* ctx for lws_cancel_service from other threads */
    wsd_in_t       *in_head, *in_tail;
    size_t          in_len;
    bool            wake_pending; /* lws_cancel_service done, the loop has not drained yet */
    /* job pools (jobs.c): pool for everything, rpool for replays only */
    struct wsd_pool *pool, *rpool;
    wsd_job_t       *later; /* loop: jobs waiting for their due_ms */
    /* NATS (bus.c) */
    wsd_bus_t *bus;
    /* graphql-transport-ws (gqlws.h): the schema (read-only, shared by the job threads),
     * subscriptions by gid, connections waiting for connection_init */
    struct ag_graphql_schema *schema;
    wsd_map_t                 gsubs;
    uint64_t                  next_gsub;
    struct wsd_gpre          *gpre;
    int64_t                   gql_init_wait_ms, gql_subs_max;
} wsd_t;

/* the frames a session has queued go out corked, up to WSD_WBUF bytes a send, at most
 * WSD_FLUSH_BUDGET bytes per session and loop pass (then the others' turn) (conn.c) */
#define WSD_WBUF         16384
#define WSD_FLUSH_BUDGET 65536

/* conn.c — the lws protocol callback and the send queues */
int wsd_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                 size_t len);
/* The user id of the token in ?access_token= or Authorization: Bearer of the upgrade, and its
 * expiry; 0 when none is valid. */
int64_t wsd_conn_token_user(wsd_t *w, struct lws *wsi, int64_t *exp_s);
/* Queue a frame (takes a reference); applies the slow-consumer policy. The frame goes
 * out at the next wsd_flush. */
void wsd_sess_send(wsd_t *w, wsd_sess_t *s, wsd_msg_t *m);
/* Loop, before it sleeps (main.c): write what every session queued since the last time,
 * straight from the loop; a socket that cannot take it all continues at SERVER_WRITEABLE. */
void wsd_flush(wsd_t *w);
/* A session being freed: off the flush list. */
void wsd_sess_forget(wsd_t *w, wsd_sess_t *s);
/* Start closing a session with a code; never blocks on the peer. */
void wsd_sess_close(wsd_t *w, wsd_sess_t *s, int code, const char *reason);
void wsd_sess_error(wsd_t *w, wsd_sess_t *s, const char *code, const char *message);
/* Once a second: ping sessions idle for ws_heartbeat_ms, drop those silent for twice
 * that + 5 s. */
void wsd_heartbeat_sweep(wsd_t *w, int64_t now_ms);

/* listen.c — the listening socket (ours: lws sets no SO_REUSEPORT with one service thread)
 * and the ws_workers processes that share it */
#define WSD_WORKERS_MAX 64
/* n listening sockets on port (IPv6 any with IPv4 mapped, else IPv4) into fds: one plain,
 * or n with SO_REUSEPORT when nobody else listens there; -1 logged. */
int wsd_listen_open(int port, int n, int *fds);
/* Loop: accept from fd and hand each connection to lws; -1 logged. */
int  wsd_listen_start(wsd_t *w, void *ev_loop, int fd);
void wsd_listen_stop(void);
/* The supervisor: n workers each running run(w) in a process of its own with
 * w->listen_fd = fds[i], restarted when one dies, all stopped on SIGTERM; returns when
 * they are gone. */
int wsd_workers_run(int n, int *fds, wsd_t *w, int (*run)(wsd_t *));

/* status.c — /healthz and /metrics */
bool wsd_status_healthy(wsd_t *w, const char **why);
/* malloc'd text; with ws_workers > 1 every worker's series, labelled worker="i" */
char *wsd_status_metrics(wsd_t *w, size_t *len);
/* ws_workers > 1: the shared slots (supervisor, before the forks; unmapped by _fini), this
 * worker's text into its slot (loop: each tick), a dead worker's slot emptied (supervisor) */
bool wsd_status_share_init(wsd_t *w, int n);
void wsd_status_share_fini(wsd_t *w);
void wsd_status_share(wsd_t *w);
void wsd_status_share_clear(wsd_t *w, int i);
/* Whether the request may read /metrics (ws_metrics_token, when set). */
bool wsd_status_metrics_allowed(wsd_t *w, struct lws *wsi);

/* live.c — the daemon-wide CHANNEL_STREAM consumer */
void wsd_live_event(wsd_t *w, wsd_in_t *it); /* WSD_IN_LIVE, WSD_IN_LIVE_HB */
void wsd_live_job_done(wsd_t *w, wsd_job_t *j);
void wsd_live_nats(wsd_t *w, bool up);
void wsd_live_tick(wsd_t *w, int64_t now);
void wsd_live_info_done(wsd_t *w, wsd_job_t *j);
void wsd_live_stop(wsd_t *w);

/* channels.c — attachments and channel fan-out */
wsd_att_t *wsd_chan_attach(wsd_t *w, wsd_sess_t *s, int64_t cid);
void       wsd_chan_detach(wsd_t *w, wsd_att_t *att);
wsd_att_t *wsd_sess_att(wsd_sess_t *s, int64_t cid);
/* A sequenced channel event to every attachment of its channel. */
void wsd_chan_deliver(wsd_t *w, wsd_event_t *ev, uint64_t seq);
/* The same frame to the ready sessions of a channel, except user `except` and those
 * already stamped by this fan-out (callers bump w->stamp first). */
void wsd_chan_fanout(wsd_t *w, int64_t cid, wsd_msg_t *m, int64_t except);
/* A gap frame to every attachment of every channel: the live stream lost from..to, or
 * (reset) it was recreated and its sequences restarted (every attachment forgets the
 * sequences it has seen; the frame says 1..the new stream's last, possibly 0). */
void wsd_chan_gap_all(wsd_t *w, uint64_t from, uint64_t to, bool reset);
/* The client frame of a CHANNEL_STREAM event, or NULL for an unknown or malformed one. */
wsd_msg_t *wsd_chan_frame(wsd_event_t *ev, uint64_t seq);
/* A core event of a channel (TYPING, CHANNEL_UPDATED, MEMBER), decoded. */
void wsd_chan_core(wsd_t *w, const ag_ev_t *ev);
/* Every local session of user uid attached to (joined) or detached from channel cid. */
void wsd_chan_member_sync(wsd_t *w, int64_t uid, int64_t cid, bool joined);

/* replay.c — catch-up from lastRead, paced by the session's queue */
void wsd_replay_request(wsd_t *w, wsd_att_t *att, uint64_t offset);
bool wsd_replay_job_done(wsd_t *w, wsd_job_t *j); /* true: the attachment kept the job */
void wsd_replay_pump(wsd_t *w, wsd_att_t *att);
void wsd_replay_drained(wsd_t *w, wsd_sess_t *s);           /* a session's queue ran low */
void wsd_replay_user_gone(wsd_t *w, wsd_user_t *u);         /* drop the user's queued replays */
void wsd_replay_tick(wsd_t *w, wsd_user_t *u, int64_t now); /* a retry that came due */

/* users.c — user records, DMs and notifications, presence, read_state */
wsd_user_t *wsd_user_get(wsd_t *w, int64_t uid, bool create);
void        wsd_user_session_added(wsd_t *w, wsd_user_t *u);
void        wsd_user_session_removed(wsd_t *w, wsd_user_t *u);
void        wsd_user_delivery(wsd_t *w, wsd_in_t *it); /* WSD_IN_USER */
void        wsd_user_ack(wsd_t *w, wsd_sess_t *s, int stream, uint64_t seq);
/* A core event of a user (PRESENCE, USER_UPDATED, SUBS_CHANGED, SYNC), decoded. */
void        wsd_user_core(wsd_t *w, const ag_ev_t *ev);
void        wsd_user_send_pending(wsd_t *w, wsd_sess_t *s);
void        wsd_user_consumers_done(wsd_t *w, wsd_job_t *j);
void        wsd_user_tick(wsd_t *w, wsd_user_t *u, int64_t now);
void        wsd_user_presence(wsd_t *w, wsd_user_t *u, bool up);
void        wsd_user_free_all(wsd_t *w); /* shutdown, after the lws context is gone */
void        wsd_users_relost(wsd_t *w);  /* the presence lease vanished: count again */
void        wsd_users_nats_up(wsd_t *w); /* after a reconnect: check consumers, resync */

/* sessions.c — open, close, actions, resync */
wsd_sess_t *wsd_session_open(wsd_t *w, struct lws *wsi, int64_t uid, int64_t exp_s);
void        wsd_session_close(wsd_t *w, wsd_sess_t *s);
void        wsd_session_action(wsd_t *w, wsd_sess_t *s, const char *text, size_t len);
void        wsd_session_subs_done(wsd_t *w, wsd_job_t *j);
void        wsd_session_resync_done(wsd_t *w, wsd_job_t *j);
void        wsd_session_user_updated_done(wsd_t *w, wsd_job_t *j);
void        wsd_session_heartbeat_done(wsd_t *w, wsd_job_t *j);
void        wsd_sessions_expire(wsd_t *w, int64_t now_s);  /* close sessions past exp */
void        wsd_sessions_user_gone(wsd_t *w, int64_t uid); /* account deleted */
void        wsd_sessions_shutdown(wsd_t *w);

/* The loop's once-a-second housekeeping (sessions.c). */
void wsd_tick(wsd_t *w);

/* bus.c — nats.c behind small functions */
ag_status_t wsd_bus_open(wsd_t *w);
void        wsd_bus_close(wsd_t *w);
bool        wsd_bus_connected(wsd_t *w);
/* worker: create generation gen of the live consumer from start (0: after the stream's
 * last); fills j->gap_*, j->last, j->reset, j->created; the loop subscribes first */
ag_status_t    wsd_bus_live_create(wsd_t *w, wsd_job_t *j);
ag_status_t    wsd_bus_stream_last(wsd_t *w, uint64_t *last); /* worker */
void           wsd_bus_live_delete(wsd_t *w, uint32_t gen);   /* worker, best effort */
wsd_coresub_t *wsd_bus_live_sub(wsd_t *w, uint32_t gen);      /* loop */
wsd_coresub_t *wsd_bus_sub_channel(wsd_t *w, int64_t cid);    /* loop */
wsd_coresub_t *wsd_bus_sub_user(wsd_t *w, int64_t uid);       /* loop */
wsd_coresub_t *wsd_bus_sub_user_inbox(wsd_t *w, int64_t uid); /* loop */
/* ms since the last heartbeat or delivery on a user's inbox for stream (any thread) */
int64_t     wsd_bus_inbox_idle_ms(wsd_coresub_t *h, int stream, int64_t now_ms);
void        wsd_bus_unsub(wsd_coresub_t *h);               /* loop; NULL ok */
ag_status_t wsd_bus_user_consumers(wsd_t *w, int64_t uid); /* worker */
ag_status_t wsd_bus_replay(wsd_t *w, wsd_job_t *j);        /* worker */
/* Publish an event of the vocabulary on core NATS (any thread). */
ag_status_t wsd_bus_emit(wsd_t *w, const ag_ev_t *ev);
const char *wsd_event_subject(wsd_event_t *ev);
const char *wsd_event_data(wsd_event_t *ev, size_t *len);
/* Ack or nak by publishing to the event's reply subject on the connection: never through
 * the nats.c subscription, which may be gone by then (a use after free in nats.c 3.4). */
void wsd_event_ack(wsd_t *w, wsd_event_t *ev);
void wsd_event_nak(wsd_t *w, wsd_event_t *ev);
void wsd_event_free(wsd_event_t *ev); /* NULL ok */
void wsd_bus_metrics(wsd_t *w, ag_buf_t *b);

#endif
