/*
 * wsd/gqlws_run.c — GraphQL subscriptions on the job threads: each thread has
 * its own content store, document cache and persisted-document store over its
 * wsd_store_t's PostgreSQL and Redis (lib/gql's gql_env_t); the schema is the
 * daemon's, read-only.
 *
 *   - subscribe: the document (persisted documents and the trusted manifest as
 *     over HTTP), parse and validation, a probe run that coerces the variables,
 *     checks the limits of graphql_* and reads channelEvents' arguments, then
 *     the membership;
 *   - a batch of events: per event, per group, one execution for the group's
 *     first viewer, and one more per viewer only when a field read who asks
 *     (gql_viewer); the post of an event is loaded once for every group;
 *   - a replay: the events after seq from JetStream (wsd_bus_replay, as §4
 *     replays), each executed for the one subscription; a range the stream no
 *     longer holds is one event of type gap.
 */
#include "gqlws.h"
#include "gql/gql.h"
#include "log/log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct wsd_grun {
    wsd_t                  *w;
    gql_env_t               env;
    ag_graphql_doc_cache_t *dc;
    gql_pq_t               *pq;
    ag_arena_t             *a;  /* one execution */
    ag_arena_t             *ev; /* one event: its root value and its post */
    ag_graphql_options_t    opts;
};

wsd_grun_t *
wsd_grun_new(wsd_t *w, ag_model_t *m)
{
    wsd_grun_t *r = calloc(1, sizeof(*r));
    char        err[256];

    if (r == NULL)
        return NULL;
    r->w = w;
    r->env.cfg = w->cfg;
    r->env.m = m;
    r->env.page_max = (int)ag_config_int(w->cfg, AG_CFG_page_limit_max);
    gql_options(w->cfg, &r->opts);
    r->dc = ag_graphql_doc_cache_new(w->schema, 64, 1u << 20);
    r->a = ag_arena_new(16384);
    r->ev = ag_arena_new(4096);
    if ((r->pq = gql_pq_new(w->cfg, err, sizeof(err))) == NULL)
        ag_log_error("wsd: persisted documents: %s", err);
    if (r->dc == NULL || r->a == NULL || r->ev == NULL || r->pq == NULL) {
        wsd_grun_free(r);
        return NULL;
    }
    return r;
}

void
wsd_grun_free(wsd_grun_t *r)
{
    if (r == NULL)
        return;
    ag_content_close(r->env.content);
    ag_graphql_doc_cache_free(r->dc);
    gql_pq_free(r->pq);
    ag_arena_free(r->a);
    ag_arena_free(r->ev);
    free(r);
}

/* The content store of this thread, opened at first use (and again after a failure). */
static bool
content(wsd_grun_t *r)
{
    char err[256];
    if (r->env.content)
        return true;
    if (ag_content_open(r->w->cfg, r->env.m->db, &r->env.content, err, sizeof(err)) != AG_OK) {
        ag_log_warn("wsd: content store: %s", err);
        r->env.content = NULL;
        return false;
    }
    return true;
}

/* [{"message": message, "extensions": {"code": code}}] as malloc'd text */
static char *
errors_one(const char *code, const char *message)
{
    ag_json_t  *arr = ag_json_arr(), *e = ag_json_obj(), *ext = ag_json_obj();
    const char *s;
    char       *out = NULL;

    if (arr && e && ext) {
        ag_json_set_str(e, "message", message);
        ag_json_set_str(ext, "code", code);
        ag_json_set(e, "extensions", ext);
        ext = NULL;
        ag_json_push(arr, e);
        e = NULL;
        if ((s = ag_json_dump(arr, NULL)) != NULL)
            out = strdup(s);
    }
    ag_json_free(ext);
    ag_json_free(e);
    ag_json_free(arr);
    return out;
}

/* The errors member of a {"errors": [...]} result, as malloc'd text. */
static char *
errors_of(ag_json_t *result)
{
    ag_json_t  *errs = result ? ag_json_get(result, "errors") : NULL;
    const char *s = errs ? ag_json_dump(errs, NULL) : NULL;
    return s ? strdup(s) : errors_one("bad_request", "the document was refused");
}

static ag_json_t *
parse_vars(wsd_grun_t *r, const char *vars)
{
    return vars ? ag_json_on_arena(r->a, ag_json_parse_own(vars, strlen(vars), 64)) : NULL;
}

/* ---- subscribe -------------------------------------------------------------------------- */
/* The probe run (ctx.event->probe): variables coerced, limits checked, arguments read. */
static ag_status_t
probe(wsd_grun_t *r, wsd_job_t *j, ag_graphql_request_t *gr, ag_json_t *vars)
{
    wsd_gjob_t        *gj = j->gql;
    gql_event_t        ev = {.probe = true};
    gql_ctx_t          ctx = {.env = &r->env, .user_id = j->uid, .event = &ev};
    ag_buf_t           out;
    ag_graphql_phase_t phase = AG_GRAPHQL_PHASE_EXECUTED;
    ag_status_t        st;

    ag_buf_init(&out);
    st = ag_graphql_run_text(gr, vars, &ctx, &out, &phase);
    if (st == AG_OK && (phase == AG_GRAPHQL_PHASE_REQUEST || !ev.probe_ok)) {
        ag_json_t *res = out.data ? ag_json_parse_own((char *)out.data, out.len, 64) : NULL;
        gj->errors = errors_of(res);
        ag_json_free(res);
    } else if (st == AG_OK) {
        gj->cid = ev.channel_id;
        gj->has_seq = ev.has_seq;
        gj->seq = (uint64_t)ev.seq;
    }
    ag_buf_fini(&out);
    return st;
}

/* Only members: leaving is what ends a subscription, and only members leave. */
static ag_status_t
membership(wsd_grun_t *r, wsd_job_t *j)
{
    ag_channel_access_t acc;
    char                msg[96];
    ag_status_t         st = ag_channel_access(r->env.m, r->a, j->gql->cid, j->uid, &acc);

    if (st != AG_OK)
        return st;
    if (!acc.exists || acc.role == NULL) {
        snprintf(msg, sizeof(msg), "you are not a member of channel %lld", (long long)j->gql->cid);
        j->gql->errors = errors_one("forbidden", msg);
    }
    return AG_OK;
}

/* What makes two subscriptions of a channel share results: the same text, operation and
 * variables (as sent: the same keys in another order make another group). */
static bool
group_fields(wsd_gjob_t *gj, const char *text, const char *opname, ag_json_t *vars)
{
    char        hash[65];
    const char *vtext = vars ? ag_json_dump(vars, NULL) : NULL;
    size_t      klen;

    ag_sha256_hex(text, strlen(text), hash);
    klen = 64 + 2 + (opname ? strlen(opname) : 0) + (vtext ? strlen(vtext) : 0) + 1;
    if ((gj->key = malloc(klen)) == NULL || (gj->text = strdup(text)) == NULL ||
        (opname && (gj->opname = strdup(opname)) == NULL) ||
        (vtext && (gj->vars = strdup(vtext)) == NULL))
        return false;
    snprintf(gj->key, klen, "%s\037%s\037%s", hash, opname ? opname : "", vtext ? vtext : "");
    return true;
}

void
wsd_grun_sub(wsd_grun_t *r, wsd_job_t *j)
{
    wsd_gjob_t           *gj = j->gql;
    char                  err[128];
    const char           *query = NULL, *opname = NULL;
    ag_json_t            *p, *vars, *ext, *errs = NULL;
    gql_pq_result_t       res;
    ag_graphql_request_t *gr = NULL;
    ag_status_t           st;

    j->st = AG_OK;
    ag_arena_reset(r->a);
    p = ag_json_on_arena(r->a,
                         ag_json_parse(gj->payload, strlen(gj->payload), 64, err, sizeof(err)));
    if (p == NULL) {
        gj->errors = errors_one("bad_request", "the subscribe payload is not JSON");
        return;
    }
    ag_json_get_str(p, "query", &query);
    ag_json_get_str(p, "operationName", &opname);
    ext = ag_json_get(p, "extensions");
    vars = ag_json_get(p, "variables");
    if (vars && ag_json_type(vars) == AG_JSON_NULL)
        vars = NULL;
    if (vars && ag_json_type(vars) != AG_JSON_OBJECT) {
        gj->errors = errors_one("bad_request", "variables must be an object");
        return;
    }
    if (gql_pq_resolve(r->pq, r->env.m->cache, r->a, query, ext, &res) != AG_OK) {
        gj->errors = errors_one(res.code, res.message);
        return;
    }
    st = ag_graphql_prepare_cached(r->dc, r->w->schema, r->a, res.text, strlen(res.text), opname,
                                   &r->opts, &gr, &errs);
    if (st == AG_EBADREQ) {
        gj->errors = errors_of(errs);
        return;
    }
    if (st != AG_OK) {
        j->st = st;
        return;
    }
    gql_pq_keep(r->pq, r->env.m->cache, r->a, &res);
    if (ag_graphql_request_operation(gr) != AG_GRAPHQL_SUBSCRIPTION) {
        gj->errors = errors_one("bad_request",
                                "only subscriptions are served on this socket; send queries and "
                                "mutations to POST /graphql");
        return;
    }
    if ((j->st = probe(r, j, gr, vars)) != AG_OK || gj->errors)
        return;
    if ((j->st = membership(r, j)) != AG_OK || gj->errors)
        return;
    if (!group_fields(gj, res.text, opname, vars))
        j->st = AG_ENOMEM;
}

/* ---- executions ----------------------------------------------------------------------- */
/* One execution of a group's selection on an event for a viewer: the result's text. */
static char *
execute(wsd_grun_t *r, const wsd_ggroup_t *gr, int64_t viewer, gql_event_t *ev, bool *viewer_read)
{
    gql_ctx_t             ctx = {.env = &r->env, .user_id = viewer, .event = ev};
    ag_graphql_request_t *req = NULL;
    ag_json_t            *errs = NULL;
    ag_graphql_phase_t    phase;
    ag_buf_t              out;
    char                 *text = NULL;

    *viewer_read = false;
    ag_arena_reset(r->a);
    if (!content(r))
        return strdup("{\"data\":null,\"errors\":[{\"message\":\"the content store is "
                      "unavailable\",\"extensions\":{\"code\":\"unavailable\"}}]}");
    if (ag_graphql_prepare_cached(r->dc, r->w->schema, r->a, gr->text, strlen(gr->text), gr->opname,
                                  &r->opts, &req, &errs) != AG_OK)
        return NULL; /* it validated at subscribe: only ENOMEM gets here */
    ag_buf_init(&out);
    if (ag_graphql_run_text(req, parse_vars(r, gr->vars), &ctx, &out, &phase) == AG_OK && out.data)
        text = strndup((char *)out.data, out.len);
    ag_buf_fini(&out);
    *viewer_read = ctx.viewer_read;
    return text;
}

/* Results of one group for one event: shared unless a field read who asks. */
static void
group_results(wsd_grun_t *r, const wsd_ggroup_t *gr, const int64_t *viewers, size_t nviewers,
              gql_event_t *ev, struct wsd_gres *res)
{
    bool  per_viewer;
    char *first;

    if (nviewers == 0)
        return;
    first = execute(r, gr, viewers[0], ev, &per_viewer);
    if (!per_viewer || nviewers == 1) {
        if ((res->text = malloc(sizeof(char *))) == NULL) {
            free(first);
            return;
        }
        res->text[0] = first;
        res->n = 1;
        return;
    }
    if ((res->text = calloc(nviewers, sizeof(char *))) == NULL) {
        free(first);
        return;
    }
    res->text[0] = first;
    res->n = nviewers;
    for (size_t k = 1; k < nviewers; k++)
        res->text[k] = execute(r, gr, viewers[k], ev, &per_viewer);
}

/* The root value of an event: its §4 frame, parsed into the event's arena. */
static bool
event_open(wsd_grun_t *r, gql_event_t *ev, const char *json, size_t len)
{
    ag_arena_reset(r->ev);
    memset(ev, 0, sizeof(*ev));
    ev->arena = r->ev;
    ev->event = ag_json_on_arena(r->ev, ag_json_parse_own(json, len, 16));
    return ev->event != NULL;
}

void
wsd_grun_events(wsd_grun_t *r, wsd_job_t *j)
{
    wsd_gjob_t *gj = j->gql;
    gql_event_t ev;

    j->st = AG_OK;
    if (gj->nevs == 0 || gj->ngroups == 0)
        return;
    if ((gj->results = calloc(gj->nevs * gj->ngroups, sizeof(*gj->results))) == NULL) {
        j->st = AG_ENOMEM;
        return;
    }
    gj->nresults = gj->nevs * gj->ngroups;
    for (size_t e = 0; e < gj->nevs; e++) {
        wsd_msg_t *m = gj->evs[e].m;
        if (!event_open(r, &ev, (const char *)m->buf + LWS_PRE, m->len))
            continue;
        for (size_t g = 0; g < gj->ngroups; g++)
            group_results(r, gj->groups[g], gj->viewers[g], gj->nviewers[g], &ev,
                          &gj->results[e * gj->ngroups + g]);
    }
    ag_arena_reset(r->ev);
}

/* ---- replay ----------------------------------------------------------------------------- */
static void
replay_one(wsd_grun_t *r, wsd_job_t *j, uint64_t seq, const char *json, size_t len)
{
    wsd_gjob_t      *gj = j->gql;
    gql_event_t      ev;
    struct wsd_gres *res = &gj->results[gj->nresults];

    if (!event_open(r, &ev, json, len))
        return;
    group_results(r, gj->groups[0], gj->viewers[0], 1, &ev, res);
    gj->seqs[gj->nresults++] = seq;
    gj->nseqs = gj->nresults;
}

void
wsd_grun_replay(wsd_grun_t *r, wsd_job_t *j)
{
    wsd_gjob_t *gj = j->gql;
    char        gap[160];
    size_t      n;

    if ((j->st = wsd_bus_replay(r->w, j)) != AG_OK)
        return;
    n = j->nmsgs + 1;
    if ((gj->results = calloc(n, sizeof(*gj->results))) == NULL ||
        (gj->seqs = calloc(n, sizeof(*gj->seqs))) == NULL) {
        j->st = AG_ENOMEM;
        return;
    }
    if (j->too_long || j->gap_from) {
        uint64_t from = j->too_long ? j->seq + 1 : j->gap_from;
        uint64_t to = j->too_long ? j->last : j->gap_to;
        int      len = snprintf(gap, sizeof(gap),
                                "{\"type\":\"gap\",\"channelId\":\"%lld\",\"seq\":%llu,"
                                     "\"fromSeq\":%llu,\"toSeq\":%llu}",
                                (long long)j->cid, (unsigned long long)to, (unsigned long long)from,
                                (unsigned long long)to);
        replay_one(r, j, to, gap, (size_t)len);
    }
    for (size_t i = 0; i < j->nmsgs; i++) {
        wsd_msg_t *m = wsd_chan_frame(j->msgs[i].ev, j->msgs[i].seq);
        if (m == NULL)
            continue; /* not an event of the vocabulary */
        replay_one(r, j, j->msgs[i].seq, (const char *)m->buf + LWS_PRE, m->len);
        wsd_msg_unref(m);
    }
    ag_arena_reset(r->ev);
}
