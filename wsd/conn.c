/*
 * wsd/conn.c — the libwebsockets protocol callback (loop thread): the token
 * check at upgrade, /healthz and /metrics on the same port (status.c), inbound
 * frames and the per-session send queue, written only from SERVER_WRITEABLE.
 */
#include "wsd.h"
#include "gqlws.h"
#include "log/log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* lws per-connection user space; the session itself is ours (sessions.c). */
typedef struct {
    wsd_sess_t *s;
    char       *body; /* HTTP response body waiting for HTTP_WRITEABLE */
    size_t      body_len;
    bool        gql; /* graphql-transport-ws: no session until connection_init (gqlws.c) */
    wsd_gpre_t *pre; /* meanwhile (its own allocation: pss stays small for every session) */
} pss_t;

static void
gql_pre_end(wsd_t *w, pss_t *p)
{
    if (p->pre) {
        wsd_gql_pre_close(w, p->pre);
        free(p->pre);
        p->pre = NULL;
    }
}

/* Whether the upgrade asks for graphql-transport-ws (its token comes in connection_init). */
static bool
wants_gql(struct lws *wsi)
{
    char buf[256];
    return lws_hdr_copy(wsi, buf, (int)sizeof(buf), WSI_TOKEN_PROTOCOL) > 0 &&
           strstr(buf, WSD_GQL_PROTOCOL) != NULL;
}

int64_t
wsd_conn_token_user(wsd_t *w, struct lws *wsi, int64_t *exp_s)
{
    char        buf[AG_AUTH_TOKEN_MAX + 16];
    const char *tok = NULL, *v;
    int64_t     uid = 0;

    if ((v = lws_get_urlarg_by_name(wsi, "access_token=", buf, (int)sizeof(buf))) != NULL) {
        tok = (*v == '=') ? v + 1 : v;
    } else if (lws_hdr_copy(wsi, buf, (int)sizeof(buf), WSI_TOKEN_HTTP_AUTHORIZATION) > 0) {
        if (ag_auth_bearer(buf, &tok) != AG_OK)
            tok = NULL;
    }
    if (tok == NULL || *tok == '\0' ||
        ag_auth_token_check(w->auth, tok, (int64_t)time(NULL), &uid, exp_s) != AG_OK)
        return 0;
    return uid;
}

static int
http_reply(struct lws *wsi, pss_t *p, unsigned int status, const char *ctype, char *body,
           size_t len)
{
    unsigned char hdr[LWS_PRE + 512], *start = hdr + LWS_PRE, *pos = start,
                                      *end = hdr + sizeof(hdr) - 1;

    p->body = body;
    p->body_len = len;
    if (lws_add_http_common_headers(wsi, status, ctype, (lws_filepos_t)len, &pos, end) ||
        lws_add_http_header_by_token(wsi, WSI_TOKEN_HTTP_CACHE_CONTROL,
                                     (const unsigned char *)"no-store", 8, &pos, end) ||
        lws_finalize_write_http_header(wsi, start, &pos, end))
        return 1;
    lws_callback_on_writable(wsi);
    return 0;
}

static int
on_http(wsd_t *w, struct lws *wsi, pss_t *p, const char *path)
{
    char       *body;
    const char *why;
    size_t      len;

    if (strcmp(path, "/healthz") == 0) {
        bool ok = wsd_status_healthy(w, &why);
        if ((body = malloc(strlen(why) + 2)) == NULL)
            return 1;
        snprintf(body, strlen(why) + 2, "%s\n", why);
        return http_reply(wsi, p, ok ? 200 : 503, "text/plain", body, strlen(body));
    }
    if (strcmp(path, "/metrics") == 0) {
        if (!wsd_status_metrics_allowed(w, wsi)) {
            body = strdup("forbidden: ws_metrics_token, or a direct request from loopback\n");
            return body ? http_reply(wsi, p, 403, "text/plain", body, strlen(body)) : 1;
        }
        body = wsd_status_metrics(w, &len);
        return body ? http_reply(wsi, p, 200, "text/plain; version=0.0.4", body, len) : 1;
    }
    body = strdup("not found\n");
    return body ? http_reply(wsi, p, 404, "text/plain", body, strlen(body)) : 1;
}

void
wsd_sess_close(wsd_t *w, wsd_sess_t *s, int code, const char *reason)
{
    if (s->close_code)
        return;
    s->close_code = code;
    s->close_reason = reason;
    lws_callback_on_writable(s->wsi);
    /* a peer that never reads never becomes writeable: drop it after 2 s anyway */
    lws_set_timeout(s->wsi, PENDING_TIMEOUT_USER_OK, 2);
}

/*
 * The send ring grows on demand (4, 8, ... up to ws_queue_max) and is freed when
 * it drains: an idle session holds no ring at all. A fixed ring of ws_queue_max
 * pointers would cost 8 KiB per idle connection, most of the daemon's RSS per
 * connection (bench/connections.py). Not ag_array_reserve: a ring that wrapped
 * is unwrapped into the new storage, and the first two slots live in the session.
 */
static bool
queue_grow(wsd_sess_t *s, size_t max)
{
    size_t      nc = s->qcap * 2;
    wsd_msg_t **q;

    if (s->qcap == 0) { /* the two slots in the session: no allocation per live frame */
        s->q = s->qin;
        s->qcap = sizeof(s->qin) / sizeof(s->qin[0]);
        s->qhead = 0;
        return true;
    }
    if (nc > max)
        nc = max;
    if ((q = malloc(nc * sizeof(*q))) == NULL)
        return false;
    for (size_t i = 0; i < s->qlen; i++)
        q[i] = s->q[(s->qhead + i) % s->qcap];
    if (s->q != s->qin)
        free(s->q);
    s->q = q;
    s->qcap = nc;
    s->qhead = 0;
    return true;
}

void
wsd_sess_send(wsd_t *w, wsd_sess_t *s, wsd_msg_t *m)
{
    size_t cap = (size_t)w->queue_max;

    if (m == NULL || s->close_code)
        return;
    if (s->qlen >= cap) {
        w->m.queue_drops++;
        w->m.slow_closes++;
        wsd_sess_close(w, s, WSD_CLOSE_SLOW, "slow consumer: reconnect and replay");
        return;
    }
    if (m->droppable && s->qlen >= cap / 2) {
        w->m.queue_drops++; /* typing and presence are the first to go */
        return;
    }
    if (s->qlen == s->qcap && !queue_grow(s, cap)) {
        w->m.queue_drops++; /* ENOMEM: as if the queue were full */
        wsd_sess_close(w, s, WSD_CLOSE_SLOW, "slow consumer: reconnect and replay");
        return;
    }
    m->refs++;
    s->q[(s->qhead + s->qlen) % s->qcap] = m;
    s->qlen++;
    if (!s->dirty && !s->wait_writable) {
        /* written by wsd_flush before the loop sleeps: no POLLOUT round trip */
        s->dirty = true;
        s->dirty_prev = NULL;
        s->dirty_next = w->dirty;
        if (w->dirty)
            w->dirty->dirty_prev = s;
        w->dirty = s;
    }
}

/* Off the list of sessions with frames to write (a closing session, or its turn). */
static void
dirty_unlink(wsd_t *w, wsd_sess_t *s)
{
    if (s->dirty_prev)
        s->dirty_prev->dirty_next = s->dirty_next;
    else if (w->dirty == s)
        w->dirty = s->dirty_next;
    if (s->dirty_next)
        s->dirty_next->dirty_prev = s->dirty_prev;
    s->dirty_prev = s->dirty_next = NULL;
}

void
wsd_sess_forget(wsd_t *w, wsd_sess_t *s)
{
    if (s->dirty)
        dirty_unlink(w, s);
    s->dirty = false;
}

void
wsd_sess_error(wsd_t *w, wsd_sess_t *s, const char *code, const char *message)
{
    /* code and message are our own literals: no escaping needed */
    wsd_msg_t *m = wsd_msg_printf(false, "{\"type\":\"error\",\"code\":\"%s\",\"message\":\"%s\"}",
                                  code, message);
    wsd_sess_send(w, s, m);
    wsd_msg_unref(m);
}

/*
 * The heartbeat. lws's own (retry_and_idle_policy) keeps a validity timer per
 * connection in its one sorted timer list and re-inserts it on every ping and pong:
 * an O(sessions) walk each time, 800 walks of 10k entries a second at 10k sessions.
 * One pass over the sessions a second does the same job: ping a session idle for
 * heartbeat_ms (again every heartbeat_ms while it stays silent), drop one silent for
 * twice that + 5 s, without a close handshake (it is not reading).
 */
void
wsd_heartbeat_sweep(wsd_t *w, int64_t now)
{
    int64_t ping_after = w->heartbeat_ms, drop_after = 2 * w->heartbeat_ms + 5000;

    for (wsd_sess_t *s = w->sess_all; s; s = s->all_next) {
        int64_t idle = now - s->alive_ms;
        if (idle >= drop_after) {
            if (!s->hb_killed) {
                s->hb_killed = true; /* closed at the next service: CLOSED unlinks it */
                lws_set_timeout(s->wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
            }
        } else if (idle >= ping_after && now - s->ping_ms >= ping_after && !s->close_code) {
            s->ping_ms = now;
            s->ping_due = true;
            lws_callback_on_writable(s->wsi);
        }
    }
}

/*
 * The frames at the head of the queue as one buffer: a single frame as it is (no copy),
 * several copied into w->wbuf up to WSD_WBUF bytes ("corked", as uWebSockets does: all a
 * session has at the end of a loop pass goes out in one send). Returns how many.
 */
static size_t
cork(wsd_t *w, wsd_sess_t *s, unsigned char **buf, size_t *len)
{
    wsd_msg_t     *m = s->q[s->qhead];
    unsigned char *p;
    size_t         k, n = 0;

    *buf = WSD_MSG_WIRE(m);
    *len = WSD_MSG_WIRE_LEN(m);
    if (s->qlen == 1 || w->wbuf == NULL || *len > WSD_WBUF)
        return 1;
    p = w->wbuf + LWS_PRE;
    for (k = 0; k < s->qlen; k++) {
        wsd_msg_t *x = s->q[(s->qhead + k) % s->qcap];
        if (n + WSD_MSG_WIRE_LEN(x) > WSD_WBUF)
            break;
        memcpy(p + n, WSD_MSG_WIRE(x), WSD_MSG_WIRE_LEN(x));
        n += WSD_MSG_WIRE_LEN(x);
    }
    *buf = p;
    *len = n;
    return k;
}

/*
 * Write queued frames until the queue is empty, the kernel took less than a whole write,
 * or `budget` bytes went (the other sessions' turn). Frames carry their WebSocket header
 * (frame.c): LWS_WRITE_RAW, nothing for lws to frame (no extensions are negotiated).
 * What the kernel did not take lws keeps (its buflist_out; we stop writing then) and
 * sends first when the socket is writeable again, before any frame of its own (a PONG,
 * a close) and before our SERVER_WRITEABLE, so the stream stays in order (4.1.6:
 * lib/core-net/output.c lws_issue_raw, lib/core-net/service.c lws_handle_POLLOUT_event).
 * -1: the socket failed.
 */
static int
write_queue(wsd_t *w, wsd_sess_t *s, size_t budget)
{
    while (s->qlen && budget) {
        unsigned char *p;
        size_t         len, k = cork(w, s, &p, &len);
        int            n = lws_write(s->wsi, p, len, LWS_WRITE_RAW);

        for (size_t i = 0; i < k; i++) {
            wsd_msg_unref(s->q[s->qhead]);
            s->qhead = (s->qhead + 1) % s->qcap;
            s->qlen--;
        }
        w->m.frames_out += k;
        w->m.writes++;
        if (n < 0)
            return -1;
        if (lws_partial_buffered(s->wsi)) {
            w->m.partial_writes++; /* lws keeps the rest and asked for POLLOUT */
            return 0;
        }
        budget = len < budget ? budget - len : 0;
    }
    return 0;
}

/*
 * After writing: feed a paced replay, then either wait for the socket (frames left, or
 * lws holding a partial write) or drop the ring (drained: an idle session keeps none).
 */
static void
after_write(wsd_t *w, wsd_sess_t *s)
{
    /* a quarter full or less: room for the next slice of a paced replay */
    if (s->qlen <= (size_t)w->queue_max / 4)
        wsd_replay_drained(w, s);
    if (s->qlen || lws_partial_buffered(s->wsi)) {
        s->wait_writable = true;
        lws_callback_on_writable(s->wsi);
    } else {
        if (s->q != s->qin)
            free(s->q);
        s->q = NULL;
        s->qcap = s->qhead = 0;
    }
}

/*
 * One session's frames, written from the loop outside SERVER_WRITEABLE, as Redis does
 * before it sleeps (handleClientsWithPendingWrites): one send per session and loop pass,
 * where lws's writable round trip cost a POLLOUT request, an epoll_ctl each way, a
 * wake-up and a dispatch per delivery. A socket that cannot take it all falls back to
 * SERVER_WRITEABLE.
 */
static void
flush_one(wsd_t *w, wsd_sess_t *s)
{
    /* s->dirty stays set until the end: frames a replay queues meanwhile do not put the
     * session back on the list being walked */
    if (s->close_code || s->wait_writable || s->hb_killed) {
        /* closing: SERVER_WRITEABLE sends the close; waiting: it continues there */
    } else if (lws_partial_buffered(s->wsi)) {
        s->wait_writable = true;
        lws_callback_on_writable(s->wsi);
    } else if (write_queue(w, s, WSD_FLUSH_BUDGET) < 0) {
        /* outside a callback nothing can return -1 for lws: it closes the connection at
         * the next service; the session takes no frames meanwhile */
        s->close_code = WSD_CLOSE_GOING_AWAY;
        s->close_reason = "write failed";
        s->hb_killed = true;
        lws_set_timeout(s->wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
    } else {
        after_write(w, s);
    }
    s->dirty = false;
}

void
wsd_flush(wsd_t *w)
{
    wsd_sess_t *s;

    while ((s = w->dirty) != NULL) {
        dirty_unlink(w, s);
        flush_one(w, s);
    }
}

static int
on_writeable(wsd_t *w, struct lws *wsi, wsd_sess_t *s)
{
    s->wait_writable = false;
    if (s->close_code) {
        lws_close_reason(wsi, (enum lws_close_status)s->close_code,
                         (unsigned char *)s->close_reason, strlen(s->close_reason));
        return -1;
    }
    if (s->ping_due) {
        /* with a payload: lws 4.1 does not pass an empty PONG up to RECEIVE_PONG */
        unsigned char ping[LWS_PRE + 8];
        memcpy(ping + LWS_PRE, "agora-hb", 8);
        s->ping_due = false;
        if (lws_write(wsi, ping + LWS_PRE, 8, LWS_WRITE_PING) < 0)
            return -1;
        if (lws_partial_buffered(wsi)) {
            s->wait_writable = true; /* lws asked for POLLOUT: the frames after it */
            return 0;
        }
    }
    /* on the dirty list: wsd_flush writes it before the loop sleeps */
    if (s->dirty)
        return 0;
    if (write_queue(w, s, WSD_FLUSH_BUDGET) < 0)
        return -1;
    after_write(w, s);
    return 0;
}

/* Token bucket: rate_per_sec, burst twice that. */
static bool
rate_ok(wsd_t *w, wsd_sess_t *s)
{
    int64_t now = ag_now_mono_ms();
    double  burst = (double)w->rate_per_sec * 2;

    s->tokens += (double)(now - s->tokens_ms) * (double)w->rate_per_sec / 1000.0;
    if (s->tokens > burst)
        s->tokens = burst;
    s->tokens_ms = now;
    if (s->tokens >= 1.0) {
        s->tokens -= 1.0;
        return true;
    }
    w->m.rate_limited++;
    if (s->gql) { /* graphql-ws has no error frame outside a subscription */
        wsd_sess_close(w, s, WSD_GQL_CLOSE_TOO_MANY, "too many messages; slow down");
        return false;
    }
    if (now - s->last_rate_err_ms >= 1000) { /* one error a second, not one per frame */
        s->last_rate_err_ms = now;
        wsd_sess_error(w, s, "rate_limited", "too many frames; slow down");
    }
    return false;
}

static int
on_receive(wsd_t *w, struct lws *wsi, wsd_sess_t *s, const char *in, size_t len)
{
    if (s->close_code)
        return 0;
    if (s->rxlen + len + lws_remaining_packet_payload(wsi) > (size_t)w->frame_max) {
        static const char why[] = "frame larger than ws_frame_max";
        w->m.too_big++;
        lws_close_reason(wsi, (enum lws_close_status)WSD_CLOSE_TOO_BIG, (unsigned char *)why,
                         sizeof(why) - 1);
        return -1;
    }
    bool        whole = lws_is_final_fragment(wsi) && !lws_remaining_packet_payload(wsi);
    const char *msg = in;
    size_t      mlen = len;
    if (!whole || s->rxlen) {
        /* a message over several callbacks: assembled in a buffer that exists only
         * meanwhile (most client frames fit one callback and never need it) */
        if (s->rx == NULL && (s->rx = malloc((size_t)w->frame_max + 1)) == NULL)
            return -1;
        memcpy(s->rx + s->rxlen, in, len);
        s->rxlen += len;
        if (!whole)
            return 0;
        msg = s->rx;
        mlen = s->rxlen;
    }
    w->m.frames_in++;
    if (rate_ok(w, s)) {
        if (lws_frame_is_binary(wsi)) {
            w->m.bad_frames++;
            if (s->gql)
                wsd_sess_close(w, s, WSD_GQL_CLOSE_BAD, "messages are JSON text");
            else
                wsd_sess_error(w, s, "bad_request", "frames are JSON text");
        } else if (s->gql) {
            wsd_gql_message(w, s, msg, mlen);
        } else {
            wsd_session_action(w, s, msg, mlen);
        }
    }
    free(s->rx);
    s->rx = NULL;
    s->rxlen = 0;
    return 0;
}

static void
tick_cb(lws_sorted_usec_list_t *sul)
{
    wsd_t *w = lws_container_of(sul, wsd_t, tick);
    wsd_tick(w);
    wsd_heartbeat_sweep(w, ag_now_mono_ms());
    wsd_gql_pre_sweep(w, ag_now_mono_ms()); /* graphql-ws: no connection_init in time */
    wsd_status_share(w); /* ws_workers > 1: this worker's series for the others' /metrics */
    lws_sul_schedule(w->ctx, 0, &w->tick, tick_cb, LWS_US_PER_SEC);
}

int
wsd_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in, size_t len)
{
    wsd_t  *w;
    pss_t  *p = user;
    int64_t uid, exp_s = 0;

    switch (reason) {
    case LWS_CALLBACK_LOCK_POLL:
    case LWS_CALLBACK_UNLOCK_POLL:
    case LWS_CALLBACK_CHANGE_MODE_POLL_FD:
        /* three of these around every POLLOUT change, two per delivery: nothing to do
         * (one service thread, lws's own loop), so return before any lookup */
        return 0;
    default:
        break;
    }
    w = lws_context_user(lws_get_context(wsi));
    switch (reason) {
    case LWS_CALLBACK_PROTOCOL_INIT:
        lws_sul_schedule(w->ctx ? w->ctx : lws_get_context(wsi), 0, &w->tick, tick_cb,
                         LWS_US_PER_SEC);
        return 0;
    case LWS_CALLBACK_EVENT_WAIT_CANCELLED:
        wsd_inbox_drain(w);
        return 0;
    case LWS_CALLBACK_HTTP:
        return on_http(w, wsi, p, in ? (const char *)in : "/");
    case LWS_CALLBACK_HTTP_WRITEABLE: {
        int n = 0;
        if (p->body) {
            /* bodies are small (metrics of a few KiB): one write, copied for LWS_PRE room */
            unsigned char *buf = malloc(LWS_PRE + p->body_len + 1);
            if (buf == NULL)
                return -1;
            memcpy(buf + LWS_PRE, p->body, p->body_len);
            n = lws_write(wsi, buf + LWS_PRE, p->body_len, LWS_WRITE_HTTP_FINAL);
            free(buf);
            free(p->body);
            p->body = NULL;
        }
        if (n < 0 || lws_http_transaction_completed(wsi))
            return -1;
        return 0;
    }
    case LWS_CALLBACK_CLOSED_HTTP:
        free(p->body);
        p->body = NULL;
        return 0;
    case LWS_CALLBACK_HTTP_CONFIRM_UPGRADE: {
        wsd_user_t *u;
        if (w->stopping)
            return -1;
        if (wants_gql(wsi))
            return 0; /* the token comes in connection_init (or ?access_token=): gqlws.c */
        if ((uid = wsd_conn_token_user(w, wsi, &exp_s)) == 0) {
            w->m.auth_refused++;
            /* refused before any event: a plain 401, no WebSocket */
            lws_return_http_status(wsi, HTTP_STATUS_UNAUTHORIZED, NULL);
            return 1;
        }
        u = wsd_user_get(w, uid, false);
        if (u && u->n >= (size_t)w->conn_per_user) {
            lws_return_http_status(wsi, 429, NULL);
            return 1;
        }
        return 0;
    }
    case LWS_CALLBACK_ESTABLISHED:
        if (wsd_gql_is_protocol(wsi)) {
            p->gql = true;
            if ((p->pre = malloc(sizeof(*p->pre))) == NULL)
                return -1;
            wsd_gql_pre_open(w, p->pre, wsi);
            return 0;
        }
        /* the headers are still attached: check the token again rather than carry it */
        if ((uid = wsd_conn_token_user(w, wsi, &exp_s)) == 0 ||
            (p->s = wsd_session_open(w, wsi, uid, exp_s)) == NULL)
            return -1;
        return 0;
    case LWS_CALLBACK_SERVER_WRITEABLE:
        if (p->s)
            return on_writeable(w, wsi, p->s);
        return p->pre ? wsd_gql_pre_writeable(p->pre) : 0;
    case LWS_CALLBACK_RECEIVE:
        if (p->s) {
            p->s->alive_ms = ag_now_mono_ms(); /* a peer that talks is alive */
            return on_receive(w, wsi, p->s, in, len);
        }
        if (p->pre) {
            int rc = wsd_gql_pre_receive(w, p->pre, in, len, &p->s);
            if (p->s)
                gql_pre_end(w, p); /* a session now */
            return rc;
        }
        return -1;
    case LWS_CALLBACK_RECEIVE_PONG:
        if (p->s)
            p->s->alive_ms = ag_now_mono_ms();
        return 0;
    case LWS_CALLBACK_CLOSED:
        gql_pre_end(w, p);
        if (p->s) {
            wsd_session_close(w, p->s);
            p->s = NULL;
        }
        return 0;
    case LWS_CALLBACK_PROTOCOL_DESTROY:
        lws_sul_cancel(&w->tick);
        return 0;
    default:
        break;
    }
    return lws_callback_http_dummy(wsi, reason, user, in, len);
}
