/*
 * wsd/wsd.h — agora-wsd, the realtime WebSocket daemon (CONTRACT §4).
 *
 * Threads and who owns what:
 *   - the lws service thread ("loop") owns every session, channel and user
 *     record, the send queues and the metrics counters; nothing else touches
 *     them.
 *   - nats.c's threads run the message callbacks in bus.c; they only build an
 *     inbox item and push it onto w->inbox (locked) and call
 *     lws_cancel_service(), which raises LWS_CALLBACK_EVENT_WAIT_CANCELLED on
 *     the loop, where hub.c drains the inbox.
 *   - the worker threads (worker.c) run everything that may block on the
 *     network: Redis and PostgreSQL (each worker has its own ag_cache_t and
 *     ag_db_t) and JetStream API requests (consumer creation, replay). A
 *     finished job goes back to the loop through the same inbox.
 * Frames are immutable, reference-counted wsd_msg_t with LWS_PRE headroom,
 * built once and shared by every queue they are put on.
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
#define WSD_CLOSE_GOING_AWAY  1001  /* daemon shutting down: reconnect elsewhere/later */
#define WSD_CLOSE_POLICY      1008  /* protocol abuse */
#define WSD_CLOSE_TOO_BIG     1009  /* inbound frame over ws_frame_max */
#define WSD_CLOSE_UNAVAILABLE 1011  /* could not load subscriptions: retry with backoff */
#define WSD_CLOSE_SLOW        4008  /* send queue overflow: reconnect, replay from lastRead */

/* ---- int64-keyed hash map (loop thread only) ---------------------------- */
typedef struct wsd_map_ent wsd_map_ent_t;
typedef struct {
    wsd_map_ent_t **b;
    size_t          nb, n;
} wsd_map_t;

void  wsd_map_init(wsd_map_t *m);
void  wsd_map_fini(wsd_map_t *m);                  /* frees entries, not values */
void *wsd_map_get(const wsd_map_t *m, int64_t key);
int   wsd_map_put(wsd_map_t *m, int64_t key, void *val);   /* 0 ok, -1 ENOMEM */
void *wsd_map_del(wsd_map_t *m, int64_t key);
/* Values into a freshly malloc'd array (caller frees); safe against changes while used. */
void **wsd_map_values(const wsd_map_t *m, size_t *n);

/* ---- frames ------------------------------------------------------------- */
typedef struct {
    int           refs;       /* loop thread only: no atomics needed */
    bool          droppable;  /* typing/presence: first to go when a queue fills */
    unsigned char hlen;       /* WebSocket header, built once, at buf + LWS_PRE - hlen */
    size_t        len;
    unsigned char buf[];      /* LWS_PRE bytes of headroom (ending with the header), then
                               * len bytes of JSON */
} wsd_msg_t;

/* The frame as it goes on the wire: header and payload (written with LWS_WRITE_RAW). */
#define WSD_MSG_WIRE(m)     ((m)->buf + LWS_PRE - (m)->hlen)
#define WSD_MSG_WIRE_LEN(m) ((size_t)(m)->hlen + (m)->len)

wsd_msg_t *wsd_msg_new(const char *json, size_t len, bool droppable);
wsd_msg_t *wsd_msg_printf(bool droppable, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void       wsd_msg_unref(wsd_msg_t *m);

/* ---- sessions, channels, users (loop thread only) ---------------------- */
typedef struct wsd_sess wsd_sess_t;
typedef struct wsd_chan wsd_chan_t;
typedef struct wsd_user wsd_user_t;

/* One session's attachment to one channel. */
typedef struct {
    wsd_sess_t *sess;
    wsd_chan_t *chan;
    uint64_t    last_seq;    /* highest stream seq delivered: dedupe across replay→live */
    bool        replaying;   /* live events are held until the replay has been sent */
    struct wsd_job *rjob;    /* a replay still being fed to the queue as it drains */
    size_t      rnext;       /* next of rjob's messages to send */
    wsd_msg_t **held;
    uint64_t   *held_seq;
    size_t      nheld, capheld;
} wsd_sub_t;

struct wsd_chan {
    int64_t     id;
    wsd_sub_t **subs;
    size_t      n, cap;
    void       *core_sub;    /* bus handle: channel.<id>.* and channel.<id>.member.* */
};

/* An unacked DM or notification, kept until a session of the user acks it. */
typedef struct {
    int        stream;       /* 0 dm, 1 notify */
    uint64_t   seq;
    void      *nmsg;         /* natsMsg, acked through bus.c */
    wsd_msg_t *frame;
} wsd_pend_t;

struct wsd_user {
    struct wsd  *w;                 /* back pointer for the grace timer */
    int64_t      id;
    wsd_sess_t **sess;
    size_t       n, cap;
    void        *user_sub;          /* bus handle: user.<id>.subs.changed */
    void        *dm_sub, *notify_sub;  /* durable push consumers' subscriptions */
    bool         consumers_pending; /* a JOB_CONSUMERS is in flight */
    int64_t      consumers_retry_ms;
    wsd_pend_t  *pend;
    size_t       npend, cappend;
    bool         online;            /* this daemon counted the user in Redis */
    bool         grace_armed;
    lws_sorted_usec_list_t grace;
    int64_t     *typing_cid, *typing_ms;
    size_t       ntyping;
    int          upgrading;         /* upgrades accepted but not yet established */
};

struct wsd_sess {
    uint64_t     id;
    char         sid[40];
    struct lws  *wsi;
    wsd_user_t  *user;
    bool         ready;
    wsd_sub_t  **subs;
    size_t       nsubs, capsubs;
    wsd_msg_t  **q;                 /* ring of qcap frames: qin, then grown on the heap up to
                                     * ws_queue_max; NULL when empty (conn.c) */
    wsd_msg_t   *qin[2];            /* the ring of a session that keeps up: a live frame
                                     * costs no malloc/free */
    size_t       qhead, qlen, qcap;
    size_t       nreplays;          /* attachments with a paced replay (sub->rjob) */
    int          close_code;        /* nonzero: closing with this code */
    const char  *close_reason;
    char        *rx;                /* a message over several callbacks, up to ws_frame_max;
                                     * NULL otherwise */
    size_t       rxlen;
    double       tokens;            /* client frame rate bucket */
    int64_t      tokens_ms, last_rate_err_ms;
    uint32_t     stamp;             /* dedupe of one fan-out over several channels */
    /* heartbeat (conn.c): our own ping/pong, swept once a second, instead of lws's
     * per-connection validity timer (an O(sessions) sorted insert per ping and pong) */
    wsd_sess_t  *all_prev, *all_next;   /* w->sess_all */
    int64_t      alive_ms;          /* the upgrade, or the last pong or frame from the peer */
    int64_t      ping_ms;           /* our last ping, 0 none yet */
    bool         ping_due;          /* write a ping at the next SERVER_WRITEABLE */
    bool         hb_killed;         /* silent past the hang-up time: being dropped */
};

/* ---- the inbox: nats.c threads and workers → loop ----------------------- */
typedef enum {
    WSD_IN_CHAN_JS,   /* CHANNEL_STREAM message from the daemon-wide live consumer */
    WSD_IN_CORE,      /* core NATS message (typing, member, updated, subs.changed, presence) */
    WSD_IN_DM,        /* DM_STREAM message for user uid */
    WSD_IN_NOTIFY,    /* NOTIFY_STREAM message for user uid */
    WSD_IN_JOB,       /* a finished worker job */
} wsd_in_kind_t;

typedef struct wsd_job wsd_job_t;

typedef struct wsd_in {
    struct wsd_in *next;
    wsd_in_kind_t  kind;
    int64_t        uid;
    void          *nmsg;      /* natsMsg */
    wsd_job_t     *job;
    int64_t        at_ms;     /* enqueue time, for the lag metric */
} wsd_in_t;

typedef enum {
    WSD_JOB_LIVE,        /* start the daemon-wide CHANNEL_STREAM consumer (retries) */
    WSD_JOB_SUBS,        /* user's channels + lastRead offsets for a new session */
    WSD_JOB_REPLAY,      /* channel events after an offset, for one session */
    WSD_JOB_READ,        /* move lastRead forward */
    WSD_JOB_PRESENCE,    /* count the user on/offline in Redis, publish on change */
    WSD_JOB_USER_UPDATED,/* channels of a user whose profile changed */
    WSD_JOB_CONSUMERS,   /* bind the user's durable DM and notify consumers */
    WSD_JOB_HEARTBEAT,   /* renew this daemon's presence lease, reap dead daemons' (up=false:
                          * give the lease back at shutdown) */
} wsd_job_kind_t;

typedef struct {
    uint64_t seq;
    void    *nmsg;
} wsd_rmsg_t;

struct wsd_job {
    struct wsd_job *next;
    wsd_job_kind_t  kind;
    uint64_t        sess_id;
    int64_t         uid, cid;
    uint64_t        seq;        /* READ: new offset; REPLAY: the offset */
    bool            up;         /* PRESENCE; HEARTBEAT: false = deregister */
    bool            relost;     /* HEARTBEAT: the lease had vanished (Redis lost, or we stalled) */
    ag_status_t     st;
    int64_t        *ids;        /* SUBS, USER_UPDATED: channel ids */
    int64_t        *offsets;    /* SUBS: lastRead per id, -1 when none */
    size_t          nids;
    wsd_rmsg_t     *msgs;       /* REPLAY */
    size_t          nmsgs;
    uint64_t        gap_from, gap_to;   /* REPLAY: 0 when no gap */
    void           *sub_a, *sub_b;      /* CONSUMERS; LIVE */
};

/* ---- metrics (loop thread only, except where noted) --------------------- */
typedef struct {
    uint64_t connections_total, frames_out, frames_in, queue_drops, slow_closes;
    uint64_t replayed, gaps, auth_refused, rate_limited, too_big, bad_frames;
    uint64_t events_in, inbox_lag_ms_max;
} wsd_metrics_t;

typedef struct wsd {
    ag_config_t       *cfg;
    ag_auth_t         *auth;
    struct lws_context *ctx;
    volatile int       stop;        /* set by the SIGTERM handler */
    bool               stopping;    /* loop: closing sessions */
    /* limits from config */
    int64_t            frame_max, queue_max, conn_per_user, rate_per_sec;
    int64_t            heartbeat_ms, grace_ms, typing_ms, consumer_idle_s;
    int64_t            instance_ttl_ms;
    /* presence lease: wsd:instance:<iid> in Redis with a TTL, renewed by the loop's tick
     * through a HEARTBEAT job; users this daemon counted online are in
     * wsd:instance:<iid>:users, so that a live daemon can count them offline after a crash */
    char               iid[40];
    bool               hb_pending, hb_registered;
    int64_t            hb_next_ms;
    /* loop-owned registries */
    wsd_map_t          sessions, chans, users;
    uint64_t           next_sess;
    uint32_t           stamp;
    size_t             nsess;
    unsigned char     *wbuf;        /* LWS_PRE + WSD_WBUF: several queued frames, one write */
    wsd_sess_t        *sess_all;    /* every session, for the heartbeat sweep */
    wsd_metrics_t      m;
    lws_sorted_usec_list_t tick;
    /* inbox: any thread pushes, the loop drains (lock: inbox_mu) */
    pthread_mutex_t    inbox_mu;
    pthread_mutex_t    wake_mu;       /* ctx for lws_cancel_service from other threads */
    wsd_in_t          *in_head, *in_tail;
    size_t             in_len;
    bool               wake_pending;  /* lws_cancel_service done, the loop has not drained yet */
    /* worker pool (lock: job_mu) */
    pthread_mutex_t    job_mu;
    pthread_cond_t     job_cv;
    wsd_job_t         *job_head, *job_tail;
    pthread_t          workers[2];
    int                nworkers;
    bool               workers_stop;
    /* NATS (bus.c); live_sub is written by a worker, read by the loop under inbox_mu */
    struct wsd_bus    *bus;
    void              *live_sub;
} wsd_t;

/* a session with 2..WSD_BATCH_MAX frames queued gets them in one write (conn.c) */
#define WSD_BATCH_MAX 8
#define WSD_WBUF      16384   /* bytes: more than WSD_BATCH_MAX frames of any size we send */

/* conn.c — the lws protocol callback */
int  wsd_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                  size_t len);
/* Queue a frame (takes a reference); applies the slow-consumer policy. */
void wsd_sess_send(wsd_t *w, wsd_sess_t *s, wsd_msg_t *m);
/* Start closing a session with a code; never blocks on the peer. */
void wsd_sess_close(wsd_t *w, wsd_sess_t *s, int code, const char *reason);
void wsd_sess_error(wsd_t *w, wsd_sess_t *s, const char *code, const char *message);
/* Once a second: ping sessions idle for ws_heartbeat_ms, drop those silent for twice
 * that + 5 s. */
void wsd_heartbeat_sweep(wsd_t *w, int64_t now_ms);

/* hub.c — registries and fan-out */
void        wsd_hub_drain(wsd_t *w);
wsd_sess_t *wsd_hub_session_open(wsd_t *w, struct lws *wsi, int64_t uid);
void        wsd_hub_session_close(wsd_t *w, wsd_sess_t *s);
wsd_user_t *wsd_hub_user(wsd_t *w, int64_t uid, bool create);
void        wsd_hub_action(wsd_t *w, wsd_sess_t *s, const char *text, size_t len);
void        wsd_hub_shutdown(wsd_t *w);
void        wsd_hub_users_free(wsd_t *w);   /* after the context is destroyed */
void        wsd_hub_tick(wsd_t *w);

/* inbox.c-like helpers in hub.c, any thread */
void wsd_inbox_push(wsd_t *w, wsd_in_t *item);
void wsd_wake(wsd_t *w);

/* worker.c */
ag_status_t wsd_workers_start(wsd_t *w, int n);
void        wsd_workers_stop(wsd_t *w);
wsd_job_t  *wsd_job_new(wsd_job_kind_t kind);
void        wsd_job_submit(wsd_t *w, wsd_job_t *j);
void        wsd_job_free(wsd_job_t *j);
/* Loop thread: a session's send queue ran low; feed it any paced replay (hub.c). */
void        wsd_hub_session_drained(wsd_t *w, wsd_sess_t *s);   /* releases unconsumed replay messages too */

/* bus.c — nats.c behind small functions; handles are opaque */
ag_status_t wsd_bus_open(wsd_t *w);
void        wsd_bus_close(wsd_t *w);
bool        wsd_bus_connected(wsd_t *w);
ag_status_t wsd_bus_live_start(wsd_t *w, void **sub);                    /* worker */
bool        wsd_bus_sub_valid(void *sub);
void       *wsd_bus_sub_channel(wsd_t *w, int64_t cid);                  /* loop */
void       *wsd_bus_sub_user(wsd_t *w, int64_t uid);                     /* loop */
void        wsd_bus_unsub(void *handle);                                 /* loop; NULL ok */
ag_status_t wsd_bus_user_consumers(wsd_t *w, int64_t uid, void **dm, void **notify); /* worker */
void        wsd_bus_consumer_release(void *sub);   /* destroy, consumer kept on the server */
ag_status_t wsd_bus_replay(wsd_t *w, wsd_job_t *j);                      /* worker */
ag_status_t wsd_bus_publish(wsd_t *w, const char *subject, const char *data, size_t len);
const char *wsd_bus_msg_subject(void *nmsg);
const char *wsd_bus_msg_data(void *nmsg, size_t *len);
uint64_t    wsd_bus_msg_seq(void *nmsg);     /* stream sequence, 0 when none */
void        wsd_bus_msg_ack(void *nmsg);
void        wsd_bus_msg_nak(void *nmsg);
void        wsd_bus_msg_free(void *nmsg);    /* NULL ok */
void        wsd_bus_metrics(wsd_t *w, ag_buf_t *b);

#endif
