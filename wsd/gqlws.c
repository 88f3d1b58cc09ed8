/*
 * wsd/gqlws.c — a graphql-transport-ws connection (loop thread): from the
 * upgrade to connection_init (a pre-init record of conn.c's), then as a
 * session: ping/pong, subscribe (checked on a job thread, gqlws_run.c),
 * complete, and the protocol's close codes.
 */
#include "gqlws.h"
#include "log/log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

bool
wsd_gql_is_protocol(struct lws *wsi)
{
    const struct lws_protocols *p = lws_get_protocol(wsi);
    return p && p->name && strcmp(p->name, WSD_GQL_PROTOCOL) == 0;
}

/* ---- before connection_init ------------------------------------------------------- */
static void
pre_unlink(wsd_t *w, wsd_gpre_t *p)
{
    if (p->wsi == NULL)
        return;
    if (p->prev)
        p->prev->next = p->next;
    else
        w->gpre = p->next;
    if (p->next)
        p->next->prev = p->prev;
    p->prev = p->next = NULL;
}

void
wsd_gql_pre_open(wsd_t *w, wsd_gpre_t *p, struct lws *wsi)
{
    memset(p, 0, sizeof(*p));
    p->wsi = wsi;
    p->deadline_ms = ag_now_mono_ms() + w->gql_init_wait_ms;
    p->url_uid = wsd_conn_token_user(w, wsi, &p->url_exp_s); /* 0: none, or not valid */
    p->next = w->gpre;
    if (w->gpre)
        w->gpre->prev = p;
    w->gpre = p;
}

void
wsd_gql_pre_close(wsd_t *w, wsd_gpre_t *p)
{
    pre_unlink(w, p);
    p->wsi = NULL;
    free(p->rx);
    p->rx = NULL;
    p->rxlen = 0;
}

/* Close a connection that has no session yet: the code goes out at its writeable. */
static void
pre_refuse(wsd_gpre_t *p, int code, const char *reason)
{
    if (p->close_code)
        return;
    p->close_code = code;
    p->close_reason = reason;
    lws_callback_on_writable(p->wsi);
    lws_set_timeout(p->wsi, PENDING_TIMEOUT_USER_OK, 2);
}

int
wsd_gql_pre_writeable(wsd_gpre_t *p)
{
    if (p->close_code == 0)
        return 0;
    lws_close_reason(p->wsi, (enum lws_close_status)p->close_code, (unsigned char *)p->close_reason,
                     strlen(p->close_reason));
    return -1;
}

void
wsd_gql_pre_sweep(wsd_t *w, int64_t now_ms)
{
    for (wsd_gpre_t *p = w->gpre; p; p = p->next)
        if (now_ms >= p->deadline_ms)
            pre_refuse(p, WSD_GQL_CLOSE_INIT_WAIT, "Connection initialisation timeout");
}

/* connection_init: the payload's token, else the upgrade's (?access_token=, Bearer). */
static wsd_sess_t *
pre_init(wsd_t *w, wsd_gpre_t *p, const wsd_gmsg_t *msg)
{
    int64_t     uid = 0, exp_s = 0;
    wsd_user_t *u;
    wsd_sess_t *s;

    if (msg->token) {
        if (ag_auth_token_check(w->auth, msg->token, (int64_t)time(NULL), &uid, &exp_s) != AG_OK)
            uid = 0;
    } else if (p->url_exp_s == 0 || p->url_exp_s > (int64_t)time(NULL)) {
        uid = p->url_uid;
        exp_s = p->url_exp_s;
    }
    if (uid == 0) {
        w->m.auth_refused++;
        pre_refuse(p, WSD_GQL_CLOSE_FORBIDDEN, "Forbidden");
        return NULL;
    }
    if ((u = wsd_user_get(w, uid, false)) != NULL && u->n >= (size_t)w->conn_per_user) {
        pre_refuse(p, WSD_CLOSE_POLICY, "too many connections for this user");
        return NULL;
    }
    if ((s = wsd_session_open(w, p->wsi, uid, exp_s)) == NULL)
        return NULL;
    s->gql = true; /* its SUBS job answers with connection_ack (wsd_gql_session_ready) */
    return s;
}

int
wsd_gql_pre_receive(wsd_t *w, wsd_gpre_t *p, const char *in, size_t len, wsd_sess_t **opened)
{
    struct lws *wsi = p->wsi;
    wsd_gmsg_t  msg;

    *opened = NULL;
    if (p->close_code)
        return 0;
    if (p->rxlen + len + lws_remaining_packet_payload(wsi) > (size_t)w->frame_max) {
        w->m.too_big++;
        pre_refuse(p, WSD_CLOSE_TOO_BIG, "message larger than ws_frame_max");
        return 0;
    }
    if (p->rx == NULL && (p->rx = malloc((size_t)w->frame_max + 1)) == NULL)
        return -1;
    memcpy(p->rx + p->rxlen, in, len);
    p->rxlen += len;
    if (!lws_is_final_fragment(wsi) || lws_remaining_packet_payload(wsi))
        return 0;
    w->m.frames_in++;
    wsd_gmsg_parse(p->rx, p->rxlen, &msg);
    free(p->rx);
    p->rx = NULL;
    p->rxlen = 0;
    if (lws_frame_is_binary(wsi)) {
        pre_refuse(p, WSD_GQL_CLOSE_BAD, "messages are JSON text");
    } else if (msg.kind == WSD_GMSG_INIT) {
        *opened = pre_init(w, p, &msg); /* conn.c then ends the pre-init record */
    } else if (msg.kind == WSD_GMSG_SUBSCRIBE) {
        pre_refuse(p, WSD_GQL_CLOSE_UNAUTH, "Unauthorized");
    } else if (msg.kind == WSD_GMSG_BAD) {
        w->m.bad_frames++;
        pre_refuse(p, WSD_GQL_CLOSE_BAD, msg.error);
    } /* ping, pong, complete before connection_init: nothing to answer */
    ag_json_free(msg.root);
    return 0;
}

/* ---- a session ----------------------------------------------------------------------- */
void
wsd_gql_session_ready(wsd_t *w, wsd_sess_t *s)
{
    wsd_msg_t *m = wsd_msg_printf(false, "{\"type\":\"connection_ack\"}");
    wsd_sess_send(w, s, m);
    wsd_msg_unref(m);
    s->gql_acked = true;
}

void
wsd_gql_send_error(wsd_t *w, wsd_sess_t *s, const char *id_json, const char *code,
                   const char *message)
{
    /* code and message are our own literals: no escaping needed */
    wsd_msg_t *m = wsd_msg_printf(false,
                                  "{\"id\":%s,\"type\":\"error\",\"payload\":[{\"message\":\"%s\","
                                  "\"extensions\":{\"code\":\"%s\"}}]}",
                                  id_json, message, code);
    wsd_sess_send(w, s, m);
    wsd_msg_unref(m);
}

static wsd_gsub_t *
sub_find(wsd_sess_t *s, const char *id)
{
    for (size_t i = 0; i < s->ngsubs; i++)
        if (strcmp(s->gsubs[i]->id, id) == 0)
            return s->gsubs[i];
    return NULL;
}

static void
sub_free(wsd_gsub_t *g)
{
    for (size_t i = 0; i < g->nheld; i++)
        wsd_msg_unref(g->held[i].m);
    free(g->held);
    free(g->id);
    free(g->id_json);
    free(g);
}

/* Whether another subscription of the session still needs its attachment to cid. */
static bool
chan_needed(wsd_sess_t *s, int64_t cid)
{
    for (size_t i = 0; i < s->ngsubs; i++)
        if (s->gsubs[i]->cid == cid && s->gsubs[i]->state != WSD_GSUB_PREPARING)
            return true;
    return false;
}

static void
sub_end(wsd_t *w, wsd_gsub_t *g, const char *errors_json, bool detach)
{
    wsd_sess_t *s = g->sess;
    int64_t     cid = g->state == WSD_GSUB_PREPARING ? 0 : g->cid;

    for (size_t i = 0; i < s->ngsubs; i++)
        if (s->gsubs[i] == g) {
            s->gsubs[i] = s->gsubs[--s->ngsubs];
            break;
        }
    wsd_map_del(&w->gsubs, (int64_t)g->gid);
    if (g->group)
        wsd_gql_group_leave(w, g);
    if (errors_json) {
        wsd_msg_t *m = wsd_msg_printf(false, "{\"id\":%s,\"type\":\"error\",\"payload\":%s}",
                                      g->id_json, errors_json);
        wsd_sess_send(w, s, m);
        wsd_msg_unref(m);
    }
    sub_free(g);
    if (detach && cid && !chan_needed(s, cid)) {
        wsd_att_t *att = wsd_sess_att(s, cid);
        if (att)
            wsd_chan_detach(w, att);
    }
}

void
wsd_gql_sub_end(wsd_t *w, wsd_gsub_t *g, const char *errors_json)
{
    sub_end(w, g, errors_json, true);
}

void
wsd_gql_detached(wsd_t *w, wsd_sess_t *s, int64_t cid)
{
    char why[96];

    snprintf(why, sizeof(why),
             "[{\"message\":\"you are no longer a member of channel %lld\","
             "\"extensions\":{\"code\":\"forbidden\"}}]",
             (long long)cid);
    for (size_t i = s->ngsubs; i-- > 0;)
        if (i < s->ngsubs && s->gsubs[i]->cid == cid && s->gsubs[i]->state != WSD_GSUB_PREPARING)
            sub_end(w, s->gsubs[i], why, false);
}

void
wsd_gql_session_closed(wsd_t *w, wsd_sess_t *s)
{
    while (s->ngsubs) {
        wsd_gsub_t *g = s->gsubs[--s->ngsubs];
        wsd_map_del(&w->gsubs, (int64_t)g->gid);
        if (g->group)
            wsd_gql_group_leave(w, g);
        sub_free(g);
    }
    free(s->gsubs);
    s->gsubs = NULL;
    s->capgsubs = 0;
}

/* subscribe: the document, its limits and the membership are checked on a job thread */
static void
subscribe(wsd_t *w, wsd_sess_t *s, const wsd_gmsg_t *msg)
{
    wsd_gsub_t *g = NULL;
    wsd_job_t  *j = NULL;
    ag_buf_t    idj;
    size_t      plen;
    const char *payload;

    if (!s->gql_acked) {
        wsd_sess_close(w, s, WSD_GQL_CLOSE_UNAUTH, "Unauthorized");
        return;
    }
    if (sub_find(s, msg->id)) {
        wsd_sess_close(w, s, WSD_GQL_CLOSE_DUP_ID, "Subscriber for this id already exists");
        return;
    }
    ag_buf_init(&idj);
    if (ag_json_escape(&idj, msg->id, strlen(msg->id)) != AG_OK || idj.data == NULL)
        goto fail;
    if (s->ngsubs >= (size_t)w->gql_subs_max) {
        w->m.gql_refused++;
        wsd_gql_send_error(w, s, idj.data, "bad_request",
                           "too many subscriptions on this connection (ws_gql_subscriptions_max)");
        ag_buf_fini(&idj);
        return;
    }
    payload = ag_json_dump(msg->payload, &plen);
    if ((g = calloc(1, sizeof(*g))) == NULL || (j = wsd_job_new(WSD_JOB_GQL_SUB)) == NULL ||
        (j->gql = calloc(1, sizeof(*j->gql))) == NULL ||
        (j->gql->payload = strndup(payload, plen)) == NULL || (g->id = strdup(msg->id)) == NULL ||
        AG_ARRAY_RESERVE(s->gsubs, s->capgsubs, s->ngsubs + 1, 4) != AG_OK)
        goto fail;
    g->id_json = (char *)idj.data; /* taken from the buffer */
    idj.data = NULL;
    g->gid = ++w->next_gsub;
    g->sess = s;
    g->state = WSD_GSUB_PREPARING;
    if (wsd_map_put(&w->gsubs, (int64_t)g->gid, g) != 0)
        goto fail;
    s->gsubs[s->ngsubs++] = g;
    j->sess_id = s->id;
    j->uid = s->user->id;
    j->gql->gid = g->gid;
    wsd_job_submit(w, j);
    return;
fail:
    if (g) {
        free(g->id);
        free(g->id_json);
        free(g);
    }
    wsd_job_free(j);
    ag_buf_fini(&idj);
    wsd_sess_close(w, s, WSD_CLOSE_UNAVAILABLE, "out of memory");
}

void
wsd_gql_message(wsd_t *w, wsd_sess_t *s, const char *text, size_t len)
{
    wsd_gmsg_t  msg;
    wsd_gsub_t *g;

    wsd_gmsg_parse(text, len, &msg);
    switch (msg.kind) {
    case WSD_GMSG_BAD:
        w->m.bad_frames++;
        wsd_sess_close(w, s, WSD_GQL_CLOSE_BAD, msg.error);
        break;
    case WSD_GMSG_INIT:
        wsd_sess_close(w, s, WSD_GQL_CLOSE_TOO_MANY, "Too many initialisation requests");
        break;
    case WSD_GMSG_PING: {
        wsd_msg_t *m = wsd_msg_printf(false, "{\"type\":\"pong\"}");
        wsd_sess_send(w, s, m);
        wsd_msg_unref(m);
        break;
    }
    case WSD_GMSG_PONG:
        break;
    case WSD_GMSG_SUBSCRIBE:
        subscribe(w, s, &msg);
        break;
    case WSD_GMSG_COMPLETE:
        if ((g = sub_find(s, msg.id)) != NULL)
            sub_end(w, g, NULL, true);
        break;
    }
    ag_json_free(msg.root);
}

/* ---- a subscribe's checks came back ------------------------------------------------- */
void
wsd_gql_sub_job_done(wsd_t *w, wsd_job_t *j)
{
    wsd_gjob_t *gj = j->gql;
    wsd_gsub_t *g = wsd_map_get(&w->gsubs, (int64_t)gj->gid);
    wsd_job_t  *r;

    if (g == NULL)
        return; /* completed or closed meanwhile */
    if (j->st != AG_OK || gj->errors) {
        w->m.gql_refused++;
        sub_end(w, g,
                gj->errors ? gj->errors
                           : "[{\"message\":\"the subscription could not be checked; retry "
                             "shortly\",\"extensions\":{\"code\":\"unavailable\"}}]",
                true);
        return;
    }
    g->cid = gj->cid;
    if (wsd_chan_attach(w, g->sess, g->cid) == NULL || !wsd_gql_group_join(w, g, gj)) {
        sub_end(w, g, "[{\"message\":\"out of memory\",\"extensions\":{\"code\":\"unavailable\"}}]",
                true);
        return;
    }
    if (!gj->has_seq) {
        g->state = WSD_GSUB_LIVE;
        return;
    }
    /* replay first: live events are held meanwhile (gqlws_events.c) */
    g->state = WSD_GSUB_REPLAYING;
    if ((r = wsd_job_new(WSD_JOB_GQL_REPLAY)) == NULL ||
        (r->gql = calloc(1, sizeof(*r->gql))) == NULL ||
        (r->gql->groups = calloc(1, sizeof(*r->gql->groups))) == NULL ||
        (r->gql->viewers = calloc(1, sizeof(*r->gql->viewers))) == NULL ||
        (r->gql->nviewers = calloc(1, sizeof(size_t))) == NULL ||
        (r->gql->viewers[0] = malloc(sizeof(int64_t))) == NULL) {
        wsd_job_free(r);
        sub_end(w, g, "[{\"message\":\"out of memory\",\"extensions\":{\"code\":\"unavailable\"}}]",
                true);
        return;
    }
    r->cid = g->cid;
    r->seq = gj->seq;
    r->uid = g->sess->user->id;
    r->gql->gid = g->gid;
    r->gql->groups[0] = g->group;
    g->group->refs++;
    r->gql->ngroups = 1;
    r->gql->viewers[0][0] = r->uid;
    r->gql->nviewers[0] = 1;
    wsd_job_submit(w, r);
}

void
wsd_gjob_free(wsd_gjob_t *gj)
{
    if (gj == NULL)
        return;
    free(gj->payload);
    free(gj->key);
    free(gj->text);
    free(gj->opname);
    free(gj->vars);
    free(gj->errors);
    if (gj->results)
        for (size_t i = 0; i < gj->nresults; i++) {
            for (size_t k = 0; k < gj->results[i].n; k++)
                free(gj->results[i].text[k]);
            free(gj->results[i].text);
        }
    free(gj->results);
    free(gj->seqs);
    for (size_t i = 0; i < gj->ngroups; i++) {
        if (gj->groups)
            wsd_ggroup_unref(gj->groups[i]); /* loop only: jobs are freed on the loop */
        if (gj->viewers)
            free(gj->viewers[i]);
    }
    free(gj->groups);
    free(gj->viewers);
    free(gj->nviewers);
    for (size_t i = 0; i < gj->nevs; i++)
        wsd_msg_unref(gj->evs[i].m);
    free(gj->evs);
    free(gj);
}
