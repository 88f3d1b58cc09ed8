/*
 * wsd/live.c — the daemon-wide consumer of CHANNEL_STREAM and its supervision
 * (loop thread).
 *
 * One ephemeral push consumer per daemon delivers every channel event; the
 * loop fans it out by channel id (channels.c). It is recreated — as a new
 * "generation" with its own deliver subject, starting at the sequence after
 * the last one handed to the sessions — whenever it may have stopped:
 *   - after every reconnect to NATS (the server may have restarted and lost an
 *     in-memory consumer, or a cluster node that held it is gone);
 *   - when neither an event nor an idle heartbeat came for three heartbeat
 *     periods while connected (deleted, or stalled);
 *   - when a delivery or a heartbeat shows consumer sequences we never got;
 *   - when the stream kept growing past us for two lag checks in a row;
 *   - when creating it failed (retried with backoff until it works).
 * Deliveries of older generations are dropped: the new one starts where the
 * sessions are, so every open session gets each event once, in order. When
 * the stream no longer holds what comes next (retention) or was recreated
 * (sequences restarted), every attached channel gets a gap frame.
 */
#include "wsd.h"
#include "log/log.h"

#include <stdlib.h>

#define LIVE_RETRY_MAX_MS  2000
#define LIVE_INFO_EVERY_MS 5000

static void
early_drop(wsd_live_t *l)
{
    for (wsd_in_t *it = l->early, *nx; it; it = nx) {
        nx = it->next;
        wsd_event_free(it->ev);
        free(it);
    }
    l->early = l->early_tail = NULL;
}

static void
restart(wsd_t *w, const char *why)
{
    wsd_live_t *l = &w->live;
    wsd_job_t  *j;

    if (w->stopping)
        return;
    if (l->pending) {
        l->redo = true; /* after the job in flight: one at a time */
        return;
    }
    if (l->gen) {
        ag_log_warn("wsd: live consumer %s; recreating it from sequence %llu", why,
                    (unsigned long long)l->last_seq + 1);
        w->m.live_restarts++;
    }
    (void)why;
    wsd_bus_unsub(l->sub);
    early_drop(l);
    l->up = false;
    l->gen++;
    l->last_cseq = 0;
    l->lag_checks = 0;
    /* the SUB goes out before the consumer is created (one connection: in order), so
     * the server has our interest before its first delivery */
    l->sub = wsd_bus_live_sub(w, l->gen);
    if (l->sub == NULL || (j = wsd_job_new(WSD_JOB_LIVE)) == NULL) {
        l->retry_ms = ag_now_mono_ms() + 500;
        return;
    }
    j->gen = l->gen;
    j->seq = l->last_seq ? l->last_seq + 1 : 0;
    j->created = l->created;
    l->pending = true;
    l->retry_ms = 0;
    wsd_job_submit(w, j);
}

/* Hand one delivery of the current generation to the channels. */
static void
deliver(wsd_t *w, wsd_in_t *it)
{
    wsd_live_t *l = &w->live;

    if (l->last_cseq && it->cseq != l->last_cseq + 1) {
        if (it->cseq <= l->last_cseq)
            return; /* delivered twice: already handed over */
        restart(w, "lost deliveries (consumer sequence jumped)");
        return;
    }
    l->last_cseq = it->cseq;
    if (it->sseq <= l->last_seq)
        return;
    l->last_seq = it->sseq;
    l->last_event_ms = ag_now_mono_ms();
    wsd_chan_deliver(w, it->ev, it->sseq);
}

void
wsd_live_event(wsd_t *w, wsd_in_t *it)
{
    wsd_live_t *l = &w->live;

    if (it->gen != l->gen || w->stopping)
        return; /* a replaced consumer: its successor starts where the sessions are */
    l->alive_ms = ag_now_mono_ms();
    if (it->kind == WSD_IN_LIVE_HB) {
        /* the server says it sent up to cseq: more than we got means a loss */
        if (l->up && it->cseq > l->last_cseq)
            restart(w, "lost deliveries (heartbeat ahead of us)");
        return;
    }
    if (!l->up) {
        /* the job has not come back yet: where the sessions stand may still change (a
         * recreated stream resets it), so keep these until then */
        wsd_in_t *c = malloc(sizeof(*c));
        if (c == NULL) {
            restart(w, "out of memory");
            return;
        }
        *c = *it;
        c->next = NULL;
        it->ev = NULL; /* kept */
        if (l->early_tail)
            l->early_tail->next = c;
        else
            l->early = c;
        l->early_tail = c;
        return;
    }
    deliver(w, it);
}

void
wsd_live_job_done(wsd_t *w, wsd_job_t *j)
{
    wsd_live_t *l = &w->live;
    int64_t     now = ag_now_mono_ms();

    l->pending = false;
    if (w->stopping || j->gen != l->gen)
        return;
    if (l->redo) {
        l->redo = false;
        restart(w, "needed again while it was being created");
        return;
    }
    if (j->st != AG_OK) {
        int64_t wait = 250LL << (l->fails < 4 ? l->fails : 4);
        l->fails++;
        l->retry_ms = now + (wait < LIVE_RETRY_MAX_MS ? wait : LIVE_RETRY_MAX_MS);
        return;
    }
    if (j->reset) {
        ag_log_warn("wsd: CHANNEL_STREAM was recreated: sequences restart at %llu",
                    (unsigned long long)j->seq);
        wsd_chan_gap_all(w, 1, j->last, true);
    } else if (j->gap_from) {
        ag_log_warn("wsd: CHANNEL_STREAM no longer holds %llu..%llu",
                    (unsigned long long)j->gap_from, (unsigned long long)j->gap_to);
        wsd_chan_gap_all(w, j->gap_from, j->gap_to, false);
    }
    l->last_seq = j->seq - 1;
    l->created = j->created;
    l->fails = 0;
    l->up = true;
    l->alive_ms = now;
    l->info_ms = now + LIVE_INFO_EVERY_MS;
    if (l->gen == 1 || j->reset || j->gap_from)
        ag_log_info("wsd: live consumer on CHANNEL_STREAM from sequence %llu (generation %u)",
                    (unsigned long long)j->seq, l->gen);
    else
        ag_log_info("wsd: live consumer recreated from sequence %llu (generation %u)",
                    (unsigned long long)j->seq, l->gen);
    /* what arrived before this came back, in order */
    wsd_in_t *it = l->early;
    l->early = l->early_tail = NULL;
    for (wsd_in_t *nx; it; it = nx) {
        nx = it->next;
        if (l->up && it->gen == l->gen)
            deliver(w, it);
        wsd_event_free(it->ev);
        free(it);
    }
}

void
wsd_live_nats(wsd_t *w, bool up)
{
    wsd_live_t *l = &w->live;

    if (!up) {
        l->up = false; /* /healthz: degraded until the consumer is back */
        return;
    }
    /* the server may have restarted (an ephemeral consumer does not survive that) or
     * another node may now serve us: always start a new generation from where we are */
    restart(w, l->gen ? "reconnected to NATS" : "starting");
}

void
wsd_live_info_done(wsd_t *w, wsd_job_t *j)
{
    wsd_live_t *l = &w->live;

    l->info_pending = false;
    if (j->st != AG_OK || !l->up)
        return;
    l->lag = j->last > l->last_seq ? j->last - l->last_seq : 0;
    /* behind and not moving at two checks in a row: heartbeats may still come from a
     * consumer that delivers nothing */
    if (l->lag > 0 && l->last_seq == l->lag_seen_seq) {
        if (++l->lag_checks >= 2)
            restart(w, "stalled (the stream moved on, we did not)");
    } else {
        l->lag_checks = 0;
    }
    l->lag_seen_seq = l->last_seq;
}

void
wsd_live_tick(wsd_t *w, int64_t now)
{
    wsd_live_t *l = &w->live;

    if (w->stopping || l->pending)
        return;
    if (!l->up) {
        if (l->retry_ms && now >= l->retry_ms)
            restart(w, "could not be created");
        return;
    }
    if (w->nats_up && now - l->alive_ms > 3 * w->live_hb_ms) {
        restart(w, "silent (no event and no heartbeat)");
        return;
    }
    if (w->nats_up && !l->info_pending && now >= l->info_ms) {
        wsd_job_t *j = wsd_job_new(WSD_JOB_STREAM_INFO);
        l->info_ms = now + LIVE_INFO_EVERY_MS;
        if (j) {
            l->info_pending = true;
            wsd_job_submit(w, j);
        }
    }
}

void
wsd_live_stop(wsd_t *w)
{
    wsd_live_t *l = &w->live;
    wsd_bus_unsub(l->sub);
    l->sub = NULL;
    l->up = false;
    early_drop(l);
}
