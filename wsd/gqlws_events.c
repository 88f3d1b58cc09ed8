/*
 * wsd/gqlws_events.c — a channel's GraphQL subscriptions (loop thread): their
 * groups (one per document, operation and variables), the batches of events
 * that go through the groups' selections on a job thread, one batch per
 * channel at a time, the `next` messages that come of them, the replay of a
 * subscription that gave seq, and the end of those whose session left.
 */
#include "gqlws.h"
#include "log/log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* events waiting for a channel's batch before its subscriptions are told they fell behind */
#define GCHAN_QUEUE_MAX 4096

static const char fell_behind[] =
    "[{\"message\":\"the subscription fell behind its channel's events; subscribe again with "
    "seq\",\"extensions\":{\"code\":\"unavailable\"}}]";

void
wsd_ggroup_unref(wsd_ggroup_t *gr)
{
    if (gr == NULL || --gr->refs > 0)
        return;
    free(gr->key);
    free(gr->text);
    free(gr->opname);
    free(gr->vars);
    free(gr->subs);
    free(gr);
}

static void
gchan_free(wsd_chan_t *c)
{
    wsd_gchan_t *gc = c->gql;
    if (gc == NULL)
        return;
    for (size_t i = 0; i < gc->nqueue; i++)
        wsd_msg_unref(gc->queue[i].m);
    free(gc->queue);
    free(gc->groups);
    free(gc);
    c->gql = NULL;
}

void
wsd_gql_chan_free(wsd_chan_t *c)
{
    wsd_gchan_t *gc = c->gql;
    for (size_t i = 0; gc && i < gc->n; i++) {
        gc->groups[i]->dead = true;
        wsd_ggroup_unref(gc->groups[i]);
    }
    gchan_free(c);
}

bool
wsd_gql_group_join(wsd_t *w, wsd_gsub_t *g, wsd_gjob_t *gj)
{
    wsd_chan_t   *c = wsd_map_get(&w->chans, g->cid);
    wsd_gchan_t  *gc;
    wsd_ggroup_t *gr = NULL;

    if (c == NULL)
        return false;
    if (c->gql == NULL) {
        if ((c->gql = calloc(1, sizeof(*c->gql))) == NULL)
            return false;
        c->gql->gen = ++w->next_gsub;
    }
    gc = c->gql;
    for (size_t i = 0; i < gc->n; i++)
        if (strcmp(gc->groups[i]->key, gj->key) == 0)
            gr = gc->groups[i];
    if (gr == NULL) {
        if (AG_ARRAY_RESERVE(gc->groups, gc->cap, gc->n + 1, 4) != AG_OK ||
            (gr = calloc(1, sizeof(*gr))) == NULL)
            return false;
        gr->refs = 1;
        gr->cid = g->cid;
        gr->key = gj->key;
        gr->text = gj->text;
        gr->opname = gj->opname;
        gr->vars = gj->vars;
        gj->key = gj->text = gj->opname = gj->vars = NULL; /* the group's now */
        gc->groups[gc->n++] = gr;
    }
    if (AG_ARRAY_RESERVE(gr->subs, gr->cap, gr->n + 1, 4) != AG_OK)
        return false;
    gr->subs[gr->n++] = g;
    g->group = gr;
    return true;
}

void
wsd_gql_group_leave(wsd_t *w, wsd_gsub_t *g)
{
    wsd_ggroup_t *gr = g->group;
    wsd_chan_t   *c = wsd_map_get(&w->chans, gr->cid);
    wsd_gchan_t  *gc = c ? c->gql : NULL;

    g->group = NULL;
    for (size_t i = 0; i < gr->n; i++)
        if (gr->subs[i] == g) {
            gr->subs[i] = gr->subs[--gr->n];
            break;
        }
    if (gr->n > 0 || gr->dead)
        return;
    gr->dead = true;
    for (size_t i = 0; gc && i < gc->n; i++)
        if (gc->groups[i] == gr) {
            gc->groups[i] = gc->groups[--gc->n];
            wsd_ggroup_unref(gr);
            break;
        }
    if (gc && gc->n == 0 && !gc->busy)
        gchan_free(c);
}

wsd_msg_t *
wsd_gql_next(const wsd_gsub_t *g, const char *result)
{
    return wsd_msg_printf(false, "{\"id\":%s,\"type\":\"next\",\"payload\":%s}", g->id_json,
                          result);
}

/* One result to one subscription: held while it replays, deduplicated by seq (but the gap
 * of a recreated stream, whose sequences start again, always goes). */
static void
deliver(wsd_t *w, wsd_gsub_t *g, uint64_t seq, const char *result, bool reset)
{
    wsd_msg_t *m;

    if (g->state == WSD_GSUB_PREPARING ||
        (g->state == WSD_GSUB_LIVE && seq <= g->last_seq && !reset))
        return;
    if ((m = wsd_gql_next(g, result)) == NULL)
        return;
    if (g->state == WSD_GSUB_REPLAYING) {
        if (g->nheld >= (size_t)w->queue_max) {
            g->overflow = true; /* ended when its replay comes back */
            wsd_msg_unref(m);
        } else if (AG_ARRAY_RESERVE(g->held, g->capheld, g->nheld + 1, 16) == AG_OK)
            g->held[g->nheld++] = (struct wsd_gheld){.seq = seq, .m = m};
        else
            wsd_msg_unref(m); /* ENOMEM: the replay runs to the stream's end and covers it */
        return;
    }
    g->last_seq = seq;
    wsd_sess_send(w, g->sess, m);
    wsd_msg_unref(m);
}

/* The distinct users of a group's subscriptions: the viewers its results are for. */
static bool
group_viewers(const wsd_ggroup_t *gr, int64_t **out, size_t *n)
{
    *n = 0;
    if ((*out = malloc(sizeof(int64_t) * (gr->n ? gr->n : 1))) == NULL)
        return false;
    for (size_t i = 0; i < gr->n; i++) {
        int64_t uid = gr->subs[i]->sess->user->id;
        size_t  k = 0;
        while (k < *n && (*out)[k] != uid)
            k++;
        if (k == *n)
            (*out)[(*n)++] = uid;
    }
    return true;
}

static void
batch_submit(wsd_t *w, wsd_chan_t *c)
{
    wsd_gchan_t *gc = c->gql;
    wsd_job_t   *j = wsd_job_new(WSD_JOB_GQL_EVENTS);
    wsd_gjob_t  *gj = NULL;

    if (j == NULL || (gj = j->gql = calloc(1, sizeof(*gj))) == NULL ||
        (gj->groups = calloc(gc->n, sizeof(*gj->groups))) == NULL ||
        (gj->viewers = calloc(gc->n, sizeof(*gj->viewers))) == NULL ||
        (gj->nviewers = calloc(gc->n, sizeof(size_t))) == NULL)
        goto fail;
    for (size_t i = 0; i < gc->n; i++) {
        if (!group_viewers(gc->groups[i], &gj->viewers[i], &gj->nviewers[i]))
            goto fail;
        gj->groups[i] = gc->groups[i];
        gc->groups[i]->refs++;
        gj->ngroups++;
    }
    gj->evs = gc->queue; /* the batch: every event queued so far */
    gj->nevs = gc->nqueue;
    gc->queue = NULL;
    gc->nqueue = gc->capqueue = 0;
    j->cid = c->id;
    gj->gid = gc->gen;
    gc->busy = true;
    wsd_job_submit(w, j);
    return;
fail:
    wsd_job_free(j); /* the queue stays: the next event tries again */
}

/* The job threads cannot keep up with this channel: its subscriptions end, and their
 * clients resume with seq rather than silently miss events. By gid: ending one may free
 * the channel's records. */
static void
fall_behind(wsd_t *w, wsd_gchan_t *gc)
{
    size_t    n = 0, k = 0;
    uint64_t *gids;

    for (size_t i = 0; i < gc->n; i++)
        n += gc->groups[i]->n;
    if ((gids = malloc(sizeof(*gids) * (n ? n : 1))) == NULL)
        return;
    for (size_t i = 0; i < gc->n; i++)
        for (size_t s = 0; s < gc->groups[i]->n; s++)
            gids[k++] = gc->groups[i]->subs[s]->gid;
    ag_log_warn("wsd: %zu GraphQL subscriptions fell behind their channel; ended", n);
    for (size_t i = 0; i < k; i++) {
        wsd_gsub_t *g = wsd_map_get(&w->gsubs, (int64_t)gids[i]);
        if (g)
            wsd_gql_sub_end(w, g, fell_behind);
    }
    free(gids);
}

static void
chan_queue(wsd_t *w, wsd_chan_t *c, wsd_msg_t *m, uint64_t seq, bool reset)
{
    wsd_gchan_t *gc = c->gql;

    if (gc == NULL || gc->n == 0)
        return;
    if (gc->nqueue >= GCHAN_QUEUE_MAX) {
        fall_behind(w, gc);
        return;
    }
    if (AG_ARRAY_RESERVE(gc->queue, gc->capqueue, gc->nqueue + 1, 16) != AG_OK)
        return;
    m->refs++;
    gc->queue[gc->nqueue++] = (struct wsd_gev){.seq = seq, .m = m, .reset = reset};
    w->m.gql_events++;
    if (!gc->busy)
        batch_submit(w, c);
}

void
wsd_gql_chan_event(wsd_t *w, wsd_chan_t *c, wsd_msg_t *m, uint64_t seq)
{
    chan_queue(w, c, m, seq, false);
}

void
wsd_gql_chan_gap(wsd_t *w, wsd_chan_t *c, uint64_t from, uint64_t to, bool reset)
{
    wsd_msg_t *m;

    if (c->gql == NULL || c->gql->n == 0)
        return;
    m = wsd_msg_printf(false,
                       "{\"type\":\"gap\",\"channelId\":\"%lld\",\"seq\":%llu,\"fromSeq\":%llu,"
                       "\"toSeq\":%llu}",
                       (long long)c->id, (unsigned long long)to, (unsigned long long)from,
                       (unsigned long long)to);
    if (m == NULL)
        return;
    chan_queue(w, c, m, to, reset);
    wsd_msg_unref(m);
}

/* The text of result r for user uid among a group's viewers; NULL when none. */
static const char *
result_for(const struct wsd_gres *r, const int64_t *viewers, size_t nviewers, int64_t uid)
{
    if (r->n == 1)
        return r->text[0];
    for (size_t k = 0; k < nviewers && k < r->n; k++)
        if (viewers[k] == uid)
            return r->text[k];
    return NULL; /* subscribed after the batch left: from the next one on */
}

void
wsd_gql_events_done(wsd_t *w, wsd_job_t *j)
{
    wsd_gjob_t *gj = j->gql;
    wsd_chan_t *c;

    for (size_t e = 0; gj->results && e < gj->nevs; e++)
        for (size_t gi = 0; gi < gj->ngroups; gi++) {
            wsd_ggroup_t          *gr = gj->groups[gi];
            const struct wsd_gres *r = &gj->results[e * gj->ngroups + gi];
            if (gr->dead)
                continue;
            if (r->n == 0)
                continue;
            /* deliver may end nothing here: a subscription only ends on the loop's own
             * actions, so gr->subs is stable across this walk */
            for (size_t k = 0; k < gr->n; k++) {
                const char *text =
                    result_for(r, gj->viewers[gi], gj->nviewers[gi], gr->subs[k]->sess->user->id);
                if (text)
                    deliver(w, gr->subs[k], gj->evs[e].seq, text, gj->evs[e].reset);
            }
            w->m.gql_executions += r->n;
            w->m.gql_shared += gr->n > r->n ? gr->n - r->n : 0;
        }
    if ((c = wsd_map_get(&w->chans, j->cid)) == NULL || c->gql == NULL || c->gql->gen != gj->gid)
        return; /* the channel's record went, and maybe came anew, meanwhile */
    c->gql->busy = false;
    if (c->gql->nqueue && c->gql->n)
        batch_submit(w, c);
    else if (c->gql->n == 0)
        gchan_free(c);
}

void
wsd_gql_replay_done(wsd_t *w, wsd_job_t *j)
{
    wsd_gjob_t *gj = j->gql;
    wsd_gsub_t *g = wsd_map_get(&w->gsubs, (int64_t)gj->gid);

    if (g == NULL || g->state != WSD_GSUB_REPLAYING)
        return;
    if (j->st != AG_OK) {
        wsd_gql_sub_end(w, g,
                        "[{\"message\":\"the events after seq could not be read; subscribe "
                        "again shortly\",\"extensions\":{\"code\":\"unavailable\"}}]");
        return;
    }
    if (g->overflow) {
        wsd_gql_sub_end(w, g, fell_behind);
        return;
    }
    g->state = WSD_GSUB_LIVE;
    for (size_t i = 0; i < gj->nseqs && i < gj->nresults; i++)
        if (gj->results[i].n && gj->results[i].text[0]) {
            wsd_msg_t *m = wsd_gql_next(g, gj->results[i].text[0]);
            if (m) {
                wsd_sess_send(w, g->sess, m);
                wsd_msg_unref(m);
            }
            if (gj->seqs[i] > g->last_seq)
                g->last_seq = gj->seqs[i];
        }
    for (size_t i = 0; i < g->nheld; i++) {
        if (g->held[i].seq > g->last_seq) {
            g->last_seq = g->held[i].seq;
            wsd_sess_send(w, g->sess, g->held[i].m);
        }
        wsd_msg_unref(g->held[i].m);
    }
    free(g->held);
    g->held = NULL;
    g->nheld = g->capheld = 0;
}
