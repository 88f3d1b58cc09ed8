/*
 * wsd/replay.c — catch-up from a session's lastRead offset (loop thread).
 *
 * On connect, each channel with an offset replays the events after it from
 * CHANNEL_STREAM (a job on the replay pool, bus.c) while live events for that
 * attachment are held; then the held ones follow, deduplicated by seq.
 * Bounds, so that one user's old offsets never delay other users:
 *   - replays have their own threads (jobs.c): a connect's SUBS job never
 *     waits behind them;
 *   - a user's replays run one at a time, queued in the user record, so a
 *     user with 16 sessions on long channels takes one replay thread at most
 *     and other users' replays interleave with theirs;
 *   - a replay of more than ws_replay_max events is not fetched: the session
 *     gets a `gap` for the range and refetches over GraphQL;
 *   - a replay is fed to the session no faster than it drains (half the queue
 *     bound at a time), so a long one does not trip the slow-consumer close.
 * A replay that fails (NATS down) is retried with backoff, and after the last
 * try the session gets a `gap` for what it could not have: never a silent hole.
 */
#include "wsd.h"
#include "log/log.h"

#include <stdlib.h>

#define REPLAY_TRIES 5

static void
queue_push(wsd_user_t *u, wsd_job_t *j, bool front)
{
    j->next = NULL;
    if (front) {
        j->next = u->rq_head;
        u->rq_head = j;
        if (u->rq_tail == NULL)
            u->rq_tail = j;
        return;
    }
    if (u->rq_tail)
        u->rq_tail->next = j;
    else
        u->rq_head = j;
    u->rq_tail = j;
}

/* The user's next replay to the pool, unless one runs or the next waits for its retry. */
static void
submit_next(wsd_t *w, wsd_user_t *u, int64_t now)
{
    wsd_job_t *j;

    while (!u->replay_running && (j = u->rq_head) != NULL && j->due_ms <= now) {
        u->rq_head = j->next;
        if (u->rq_head == NULL)
            u->rq_tail = NULL;
        if (wsd_map_get(&w->sessions, (int64_t)j->sess_id) == NULL) {
            wsd_job_free(j); /* its session closed while it waited */
            continue;
        }
        u->replay_running = true;
        wsd_job_submit(w, j);
    }
}

void
wsd_replay_request(wsd_t *w, wsd_att_t *att, uint64_t offset)
{
    wsd_sess_t *s = att->sess;
    wsd_job_t  *j = wsd_job_new(WSD_JOB_REPLAY);

    if (j == NULL)
        return; /* ENOMEM: the attachment stays live-only */
    att->replaying = true;
    att->last_seq = offset;
    j->sess_id = s->id;
    j->uid = s->user->id;
    j->cid = att->chan->id;
    j->seq = offset;
    queue_push(s->user, j, false);
    submit_next(w, s->user, ag_now_mono_ms());
}

void
wsd_replay_tick(wsd_t *w, wsd_user_t *u, int64_t now)
{
    if (u->rq_head && !u->replay_running)
        submit_next(w, u, now);
}

void
wsd_replay_user_gone(wsd_t *w, wsd_user_t *u)
{
    (void)w;
    while (u->rq_head) {
        wsd_job_t *j = u->rq_head;
        u->rq_head = j->next;
        wsd_job_free(j);
    }
    u->rq_tail = NULL;
}

static void
send_gap(wsd_t *w, wsd_att_t *att, uint64_t from, uint64_t to)
{
    wsd_msg_t *m =
        wsd_msg_printf(false,
                       "{\"type\":\"gap\",\"channelId\":\"%lld\","
                       "\"fromSeq\":%llu,\"toSeq\":%llu}",
                       (long long)att->chan->id, (unsigned long long)from, (unsigned long long)to);
    wsd_sess_send(w, att->sess, m);
    wsd_msg_unref(m);
    w->m.gaps++;
}

/*
 * Feed a replay to its session no faster than the session drains: never more
 * than half the queue bound at a time, the rest when the queue runs low
 * (wsd_replay_drained). Pushing a long replay at once tripped the slow-consumer
 * close, and the client's reconnect replayed it again (bench replay). Live
 * events stay held until the replay is all queued.
 */
void
wsd_replay_pump(wsd_t *w, wsd_att_t *att)
{
    wsd_sess_t *s = att->sess;
    wsd_job_t  *j = att->rjob;
    size_t      room = (size_t)w->queue_max / 2;
    wsd_msg_t  *m;

    while (j && att->rnext < j->nmsgs && s->qlen < room && !s->close_code) {
        size_t i = att->rnext++;
        if (j->msgs[i].seq <= att->last_seq)
            continue;
        if ((m = wsd_chan_frame(j->msgs[i].ev, j->msgs[i].seq)) == NULL)
            continue;
        att->last_seq = j->msgs[i].seq;
        wsd_sess_send(w, s, m);
        wsd_msg_unref(m);
        w->m.replayed++;
    }
    if (j && att->rnext < j->nmsgs && !s->close_code)
        return; /* more once the queue drains */
    if (j)
        s->nreplays--;
    wsd_job_free(j);
    att->rjob = NULL;
    att->replaying = false;
    /* hand-over: live events held during the replay, minus those it already sent */
    for (size_t i = 0; i < att->nheld; i++)
        if (att->held[i].seq > att->last_seq) {
            att->last_seq = att->held[i].seq;
            wsd_sess_send(w, s, att->held[i].m);
        }
    for (size_t i = 0; i < att->nheld; i++)
        wsd_msg_unref(att->held[i].m);
    free(att->held);
    att->held = NULL;
    att->nheld = att->capheld = 0;
}

void
wsd_replay_drained(wsd_t *w, wsd_sess_t *s)
{
    if (s->nreplays == 0)
        return; /* the common case: no walk over the attachments per write */
    for (size_t i = 0; i < s->natts; i++)
        if (s->atts[i]->rjob)
            wsd_replay_pump(w, s->atts[i]);
}

/* A failed replay: again later (front of the user's queue), or a gap after the last try. */
static bool
failed(wsd_t *w, wsd_att_t *att, wsd_job_t *j)
{
    int64_t now = ag_now_mono_ms();

    if (++j->attempts < REPLAY_TRIES && !w->stopping) {
        w->m.replay_retries++;
        free(j->msgs);
        j->msgs = NULL;
        j->nmsgs = 0;
        j->gap_from = j->gap_to = 0;
        j->st = AG_OK;
        j->due_ms = now + (500LL << (j->attempts - 1));
        queue_push(att->sess->user, j, true);
        return true;
    }
    ag_log_warn("wsd: replay of channel %lld for user %lld failed %d times: gap sent",
                (long long)j->cid, (long long)j->uid, j->attempts);
    /* what it could not have: after the offset up to what live delivery has reached */
    uint64_t from = j->seq + 1, to = w->live.last_seq > from ? w->live.last_seq : from;
    send_gap(w, att, from, to);
    return false;
}

bool
wsd_replay_job_done(wsd_t *w, wsd_job_t *j)
{
    wsd_user_t *u = wsd_user_get(w, j->uid, false);
    wsd_sess_t *s = wsd_map_get(&w->sessions, (int64_t)j->sess_id);
    wsd_att_t  *att = s ? wsd_sess_att(s, j->cid) : NULL;
    bool        kept = false;

    if (u)
        u->replay_running = false;
    if (att == NULL || !att->replaying || att->rjob) {
        /* the session or its attachment is gone */
    } else if (j->st != AG_OK && failed(w, att, j)) {
        kept = true; /* queued again */
    } else if (j->st != AG_OK) {
        wsd_replay_pump(w, att);
    } else {
        if (j->too_long) {
            w->m.replays_refused++;
            send_gap(w, att, j->seq + 1, j->last);
            att->last_seq = j->last; /* the client refetches up to there */
        } else if (j->gap_from) {
            send_gap(w, att, j->gap_from, j->gap_to);
        }
        if (j->too_long || j->nmsgs == 0) {
            wsd_replay_pump(w, att); /* nothing to replay: the hand-over alone */
        } else {
            att->rjob = j;
            s->nreplays++;
            att->rnext = 0;
            kept = true;
            wsd_replay_pump(w, att); /* keeps j for later slices, or frees it */
        }
    }
    if (u)
        submit_next(w, u, ag_now_mono_ms());
    return kept;
}
