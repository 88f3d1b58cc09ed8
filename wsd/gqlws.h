/*
 * wsd/gqlws.h — GraphQL subscriptions over graphql-transport-ws (CONTRACT §9):
 * the protocol of the npm graphql-ws client, on the same daemon, sessions and
 * limits as the §4 frames.
 *
 * A graphql-ws connection is a wsd_sess_t like any other once connection_init
 * carried a valid token: heartbeat, send queue and its slow-reader close, frame
 * size and rate, token expiry, account deletion and connections per user all
 * apply. It is never `ready`, so none of the §4 frames reach it; what it gets
 * are its subscriptions' `next` messages.
 *
 * Each subscription attaches its session to the channel (channels.c), so that
 * leaving the channel (member events, resync) detaches it as it does a §4
 * session: the subscription then ends with an error, code forbidden.
 * Subscriptions of a channel with the same document, operation and variables
 * form a group; an event is executed once per group (and once per viewer when
 * a field read who asks, gql_viewer), its post loaded once for all groups, on a
 * job thread (gqlws_run.c), one batch of events per channel at a time so that
 * each subscription sees its channel's order.
 *
 * Files: protocol.c (the client's messages, parsed without daemon state, with
 * the §4 frames), gqlws.c (connection_init, ping, subscribe, complete; loop), gqlws_events.c
 * (groups, event batches, replay from seq, leave; loop), gqlws_run.c (the
 * engine on the job threads).
 */
#ifndef WSD_GQLWS_H
#define WSD_GQLWS_H

#include "wsd.h"
#include "protocol.h"
#include "json/json.h"

#define WSD_GQL_PROTOCOL "graphql-transport-ws"

/* graphql-ws close codes */
#define WSD_GQL_CLOSE_BAD       4400 /* invalid message */
#define WSD_GQL_CLOSE_UNAUTH    4401 /* subscribe before connection_ack */
#define WSD_GQL_CLOSE_FORBIDDEN 4403 /* connection_init's token refused */
#define WSD_GQL_CLOSE_INIT_WAIT 4408 /* no connection_init in time */
#define WSD_GQL_CLOSE_DUP_ID    4409 /* a subscription id already in use */
#define WSD_GQL_CLOSE_TOO_MANY  4429 /* a second connection_init; too many messages */

/* ---- subscriptions (loop) ------------------------------------------------------------- */
typedef struct wsd_ggroup wsd_ggroup_t;

typedef enum {
    WSD_GSUB_PREPARING, /* the GQL_SUB job checks the document and the membership */
    WSD_GSUB_REPLAYING, /* the GQL_REPLAY job reads the events after seq; live ones held */
    WSD_GSUB_LIVE,
} wsd_gsub_state_t;

typedef struct wsd_gsub {
    uint64_t         gid; /* daemon-wide key (w->gsubs): jobs name it, not point at it */
    wsd_sess_t      *sess;
    char            *id_json; /* the client's id, as a JSON string */
    char            *id;
    wsd_gsub_state_t state;
    int64_t          cid;
    wsd_ggroup_t    *group;
    uint64_t         last_seq; /* highest event sent: replay and live overlap */
    bool             overflow; /* more live events came during its replay than ws_queue_max */
    struct wsd_gheld {
        uint64_t   seq;
        wsd_msg_t *m;
    } * held; /* live events while replaying */
    size_t nheld, capheld;
} wsd_gsub_t;

/* One document + operation + variables in one channel, and its subscriptions. */
struct wsd_ggroup {
    int          refs; /* the channel's list and each job that carries it (loop only) */
    bool         dead; /* left its channel's list */
    int64_t      cid;
    char        *key; /* sha256(text) opname variables: what makes two selections equal */
    char        *text, *opname, *vars; /* immutable: read by job threads */
    wsd_gsub_t **subs;
    size_t       n, cap;
};

/* The GraphQL side of a channel with subscriptions (wsd_chan_t.gql). */
typedef struct wsd_gchan {
    wsd_ggroup_t **groups;
    size_t         n, cap;
    bool           busy; /* a GQL_EVENTS batch is on a job thread */
    uint64_t       gen;  /* which record a batch belongs to (the channel's may be made anew) */
    struct wsd_gev {
        uint64_t   seq;
        wsd_msg_t *m;     /* the §4 frame: the root value of channelEvents */
        bool       reset; /* a gap because the stream was recreated: sequences restart */
    } * queue;
    size_t nqueue, capqueue;
} wsd_gchan_t;

/* What a GQL_* job carries (wsd_job_t.gql). */
typedef struct wsd_gjob {
    uint64_t gid; /* GQL_SUB, GQL_REPLAY: the subscription; GQL_EVENTS: the wsd_gchan gen */
    /* GQL_SUB in: the subscribe payload as JSON text; out: the group's fields, or errors */
    char    *payload;
    int64_t  cid;
    bool     has_seq;
    uint64_t seq;
    char    *key, *text, *opname, *vars;
    char    *errors; /* a JSON array: the subscription's `error` payload */
    /* GQL_EVENTS and GQL_REPLAY */
    wsd_ggroup_t  **groups; /* each with a reference */
    size_t          ngroups;
    int64_t       **viewers; /* per group: distinct user ids of its subscriptions */
    size_t         *nviewers;
    struct wsd_gev *evs; /* GQL_EVENTS: the batch, each frame with a reference */
    size_t          nevs;
    /* out: results[e * ngroups + g] is one text when shared (nres 1), else one per viewer */
    struct wsd_gres {
        char **text; /* ExecutionResult JSON, or NULL: this viewer got nothing */
        size_t n;
    } * results;
    size_t nresults;
    /* GQL_REPLAY out: the sequences the results belong to (a gap is one event) */
    uint64_t *seqs;
    size_t    nseqs;
} wsd_gjob_t;

/* gqlws.c */
/* A pre-init connection of the subprotocol (conn.c's pss): the loop's own list. */
typedef struct wsd_gpre {
    struct wsd_gpre *prev, *next;
    struct lws      *wsi;
    int64_t          deadline_ms;
    int              close_code; /* nonzero: closing with it at the next writeable */
    const char      *close_reason;
    char            *rx; /* a message over several callbacks */
    size_t           rxlen;
    int64_t          url_uid, url_exp_s; /* the upgrade's token (read while its headers exist) */
} wsd_gpre_t;

bool wsd_gql_is_protocol(struct lws *wsi);
void wsd_gql_pre_open(wsd_t *w, wsd_gpre_t *p, struct lws *wsi);
void wsd_gql_pre_close(wsd_t *w, wsd_gpre_t *p);
/* A message (or its part) before connection_init: -1 to drop the connection; *opened set
 * when it became a session. */
int wsd_gql_pre_receive(wsd_t *w, wsd_gpre_t *p, const char *in, size_t len, wsd_sess_t **opened);
/* The pre-init connection may write (its close). -1: close now. */
int  wsd_gql_pre_writeable(wsd_gpre_t *p);
void wsd_gql_pre_sweep(wsd_t *w, int64_t now_ms); /* 4408 past the init wait */
/* A whole message of a graphql-ws session. */
void wsd_gql_message(wsd_t *w, wsd_sess_t *s, const char *text, size_t len);
/* The SUBS job of a graphql-ws session came back: connection_ack. */
void wsd_gql_session_ready(wsd_t *w, wsd_sess_t *s);
/* The session is going: its subscriptions end without a word. */
void wsd_gql_session_closed(wsd_t *w, wsd_sess_t *s);
void wsd_gql_sub_job_done(wsd_t *w, wsd_job_t *j);
/* End one subscription: with an error payload (JSON array) sent, or silently (NULL). */
void wsd_gql_sub_end(wsd_t *w, wsd_gsub_t *g, const char *errors_json);
/* `{"id":...,"type":"error","payload":[{"message":..,"extensions":{"code":..}}]}` */
void wsd_gql_send_error(wsd_t *w, wsd_sess_t *s, const char *id_json, const char *code,
                        const char *message);
void wsd_gjob_free(wsd_gjob_t *g);

/* gqlws_events.c */
/* Put a subscription that passed its checks into its channel's group. */
bool wsd_gql_group_join(wsd_t *w, wsd_gsub_t *g, wsd_gjob_t *gj);
void wsd_gql_group_leave(wsd_t *w, wsd_gsub_t *g);
void wsd_ggroup_unref(wsd_ggroup_t *gr);
/* The channel record goes (its last attachment left): its GraphQL side with it. */
void wsd_gql_chan_free(wsd_chan_t *c);
/* A sequenced event of channel c (its §4 frame m) for the channel's subscriptions. */
void wsd_gql_chan_event(wsd_t *w, wsd_chan_t *c, wsd_msg_t *m, uint64_t seq);
/* The live stream lost from..to, or (reset) was recreated: a gap event for the channel's
 * subscriptions, in order with its other events (wsd_chan_gap_all). */
void wsd_gql_chan_gap(wsd_t *w, wsd_chan_t *c, uint64_t from, uint64_t to, bool reset);
void wsd_gql_events_done(wsd_t *w, wsd_job_t *j);
void wsd_gql_replay_done(wsd_t *w, wsd_job_t *j);
/* The session was detached from channel cid (it left): its subscriptions there end. */
void wsd_gql_detached(wsd_t *w, wsd_sess_t *s, int64_t cid);
/* The `next` message of subscription g with an ExecutionResult text. */
wsd_msg_t *wsd_gql_next(const wsd_gsub_t *g, const char *result);

/* gqlws_run.c (job threads) */
typedef struct wsd_grun wsd_grun_t;
wsd_grun_t             *wsd_grun_new(wsd_t *w, ag_model_t *m);
void                    wsd_grun_free(wsd_grun_t *r);
void                    wsd_grun_sub(wsd_grun_t *r, wsd_job_t *j);
void                    wsd_grun_events(wsd_grun_t *r, wsd_job_t *j);
void                    wsd_grun_replay(wsd_grun_t *r, wsd_job_t *j);

#endif
