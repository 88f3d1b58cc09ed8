/*
 * wsd/status.c — /healthz and /metrics on the WebSocket port (loop thread).
 *
 * /healthz is 200 only while NATS is connected and the live consumer
 * delivers; "degraded" with 503 otherwise, so a balancer sends new sessions
 * elsewhere while open ones wait for the consumer to be recreated (live.c).
 *
 * /metrics is for operators: with ws_metrics_token set, only a request
 * carrying "Authorization: Bearer <token>" reads it; without one, only a
 * direct request from a loopback address (not one relayed by a proxy, which
 * adds X-Forwarded-For: Apache's /ws passes plain requests through too).
 * Labels carry no ids: channel ids are private data.
 */
#include "wsd.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

bool
wsd_status_healthy(wsd_t *w, const char **why)
{
    if (!wsd_bus_connected(w)) {
        *why = "degraded: NATS unavailable";
        return false;
    }
    if (!w->live.up) {
        *why = "degraded: the live consumer of CHANNEL_STREAM is being recreated";
        return false;
    }
    *why = "ok";
    return true;
}

static bool
loopback_peer(struct lws *wsi)
{
    char ip[64] = "";
    lws_get_peer_simple(wsi, ip, sizeof(ip));
    return strcmp(ip, "127.0.0.1") == 0 || strcmp(ip, "::1") == 0 ||
           strncmp(ip, "::ffff:127.", 11) == 0 || strncmp(ip, "127.", 4) == 0;
}

bool
wsd_status_metrics_allowed(wsd_t *w, struct lws *wsi)
{
    char        buf[256];
    const char *tok = NULL;

    if (w->metrics_token && *w->metrics_token) {
        if (lws_hdr_copy(wsi, buf, (int)sizeof(buf), WSI_TOKEN_HTTP_AUTHORIZATION) <= 0 ||
            ag_auth_bearer(buf, &tok) != AG_OK)
            return false;
        size_t        a = strlen(tok), b = strlen(w->metrics_token);
        unsigned char diff = (unsigned char)(a != b);
        for (size_t i = 0; i < a && i < b; i++) /* constant time in the token's length */
            diff |= (unsigned char)(tok[i] ^ w->metrics_token[i]);
        return diff == 0;
    }
    return loopback_peer(wsi) && lws_hdr_total_length(wsi, WSI_TOKEN_X_FORWARDED_FOR) == 0;
}

/* sessions per channel, as a distribution: how fan-out is spread, without the ids */
static void
channel_buckets(wsd_t *w, ag_buf_t *b)
{
    static const size_t le[] = {1, 10, 100, 1000, 10000};
    size_t              n, count[AG_ARRAY_LEN(le) + 1] = {0};
    void              **chans = wsd_map_values(&w->chans, &n);

    for (size_t i = 0; chans && i < n; i++) {
        size_t s = ((wsd_chan_t *)chans[i])->n, k = 0;
        while (k < AG_ARRAY_LEN(le) && s > le[k])
            k++;
        for (; k <= AG_ARRAY_LEN(le); k++)
            count[k]++;
    }
    free(chans);
    ag_buf_puts(b, "# HELP agora_wsd_channel_sessions channels by local sessions attached\n"
                   "# TYPE agora_wsd_channel_sessions histogram\n");
    for (size_t k = 0; k < AG_ARRAY_LEN(le); k++)
        ag_buf_printf(b, "agora_wsd_channel_sessions_bucket{le=\"%zu\"} %zu\n", le[k], count[k]);
    ag_buf_printf(b, "agora_wsd_channel_sessions_bucket{le=\"+Inf\"} %zu\n",
                  count[AG_ARRAY_LEN(le)]);
}

/* This process's series, unlabelled. */
static void
render_own(wsd_t *w, ag_buf_t *b)
{
    int64_t now = ag_now_mono_ms();
    int64_t since = w->live.last_event_ms ? (now - w->live.last_event_ms) / 1000 : -1;

#define C(name, type, help, val)                                                                   \
    ag_buf_printf(b, "# HELP agora_wsd_%s %s\n# TYPE agora_wsd_%s %s\nagora_wsd_%s %lld\n", name,  \
                  help, name, type, name, (long long)(val))
    C("connections", "gauge", "open WebSocket sessions", w->nsess);
    C("connections_total", "counter", "sessions opened", w->m.connections_total);
    C("users", "gauge", "users with a local session or in grace", w->users.n);
    C("channels", "gauge", "channels with a local session", w->chans.n);
    C("frames_out_total", "counter", "frames written", w->m.frames_out);
    C("writes_total", "counter", "sends of queued frames (several frames may share one)",
      w->m.writes);
    C("partial_writes_total", "counter",
      "sends the kernel took only part of (the rest waits for POLLOUT)", w->m.partial_writes);
    C("frames_in_total", "counter", "client frames read", w->m.frames_in);
    C("queue_drops_total", "counter", "frames dropped by the slow-consumer policy",
      w->m.queue_drops);
    C("slow_closes_total", "counter", "sessions closed for a full send queue", w->m.slow_closes);
    C("replayed_events_total", "counter", "channel events sent by replay", w->m.replayed);
    C("replay_retries_total", "counter", "replays tried again after a failure",
      w->m.replay_retries);
    C("replays_refused_total", "counter", "replays over ws_replay_max answered with a gap",
      w->m.replays_refused);
    C("gaps_total", "counter", "gap frames sent", w->m.gaps);
    C("auth_refused_total", "counter", "upgrades refused for a missing or bad token",
      w->m.auth_refused);
    C("auth_closes_total", "counter", "sessions closed: token expired or account deleted",
      w->m.auth_closes);
    C("rate_limited_total", "counter", "client frames over the rate", w->m.rate_limited);
    C("frame_too_big_total", "counter", "sessions closed for an oversized frame", w->m.too_big);
    C("bad_frames_total", "counter", "unparseable or unknown client frames", w->m.bad_frames);
    C("events_in_total", "counter", "items handed to the loop", w->m.events_in);
    C("live_events_total", "counter", "channel events from the live consumer", w->m.live_in);
    C("live_events_unheld_total", "counter",
      "channel events no local session holds (every daemon receives every channel event)",
      w->m.live_unheld);
    C("jobs_pending", "gauge", "jobs queued, running or waiting to be retried",
      wsd_jobs_pending(w));
    C("nats_lag_ms_max", "gauge", "longest wait of an event between nats.c and the loop",
      w->m.inbox_lag_ms_max);
    C("live_consumer_up", "gauge", "the live CHANNEL_STREAM consumer delivers", w->live.up);
    C("live_consumer_restarts_total", "counter", "live consumer recreated (fault, stall, gap)",
      w->m.live_restarts);
    C("live_seconds_since_event", "gauge", "seconds since the last channel event (-1: none)",
      since);
    C("live_lag_sequences", "gauge", "CHANNEL_STREAM's last sequence minus the last delivered",
      w->live.lag);
    C("live_last_sequence", "gauge", "last CHANNEL_STREAM sequence delivered", w->live.last_seq);
    C("user_consumer_restarts_total", "counter", "DM/notify consumers created again (silent)",
      w->m.consumer_restarts);
    C("job_retries_total", "counter", "jobs tried again after a failure", w->m.job_retries);
    C("resyncs_total", "counter", "membership resyncs from PostgreSQL", w->m.resyncs);
    C("resync_detached_total", "counter", "attachments a resync found stale", w->m.resync_detached);
    C("gql_subscriptions", "gauge", "GraphQL subscriptions (graphql-transport-ws)", w->gsubs.n);
    C("gql_refused_total", "counter", "GraphQL subscribes refused (document, limits, membership)",
      w->m.gql_refused);
    C("gql_events_total", "counter", "channel events put through GraphQL subscriptions",
      w->m.gql_events);
    C("gql_executions_total", "counter", "subscription selections executed", w->m.gql_executions);
    C("gql_shared_total", "counter", "next messages that reused another subscription's result",
      w->m.gql_shared);
#undef C
    channel_buckets(w, b);
    wsd_bus_metrics(w, b);
}

/* ---- ws_workers > 1: every worker answers for all ------------------------------------ */
/*
 * The kernel picks the worker that answers a scrape (SO_REUSEPORT), so a scraper could
 * not choose: each worker writes its series, labelled worker="i", into a slot of memory
 * the supervisor mapped shared before the forks, at every tick (1 s) and before it
 * answers; /metrics is then every worker's samples under one HELP/TYPE per family (the
 * text format wants a family's samples together). A seqlock per slot: seq is odd while
 * its worker copies; a reader that sees it change reads again.
 */
#define MSLOT_TEXT (64 * 1024 - 8)
#define FAMILIES   128

struct wsd_mslot {
    uint32_t seq;
    uint32_t len; /* 0: no worker there (not started, or dead) */
    char     text[MSLOT_TEXT];
};

typedef struct {
    const char *name, *head, *smp; /* name, its comment lines, its samples */
    size_t      nlen, hlen, slen;
} family_t;

bool
wsd_status_share_init(wsd_t *w, int n)
{
    void *p = mmap(NULL, (size_t)n * sizeof(struct wsd_mslot), PROT_READ | PROT_WRITE,
                   MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
        return false;
    w->mslots = p; /* zero-filled: every len 0 */
    w->nworkers = n;
    return true;
}

void
wsd_status_share_fini(wsd_t *w)
{
    if (w->mslots)
        munmap(w->mslots, (size_t)w->nworkers * sizeof(struct wsd_mslot));
    w->mslots = NULL;
}

/* src's sample lines with worker="i" as their first label */
static void
label(const ag_buf_t *src, int worker, ag_buf_t *out)
{
    const char *p = src->data, *end = src->data + src->len;

    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t      n = nl ? (size_t)(nl - p) + 1 : (size_t)(end - p);
        size_t      name = strcspn(p, "{ \n");
        if (*p == '#' || name >= n) {
            ag_buf_append(out, p, n);
        } else if (p[name] == '{') {
            ag_buf_printf(out, "%.*s{worker=\"%d\",%.*s", (int)name, p, worker, (int)(n - name - 1),
                          p + name + 1);
        } else {
            ag_buf_printf(out, "%.*s{worker=\"%d\"}%.*s", (int)name, p, worker, (int)(n - name),
                          p + name);
        }
        p += n;
    }
}

void
wsd_status_share(wsd_t *w)
{
    struct wsd_mslot *s;
    ag_buf_t          own, lab;

    if (w->mslots == NULL)
        return;
    s = &w->mslots[w->worker];
    ag_buf_init(&own);
    ag_buf_init(&lab);
    render_own(w, &own);
    label(&own, w->worker, &lab);
    __atomic_add_fetch(&s->seq, 1, __ATOMIC_SEQ_CST);
    if (lab.len <= MSLOT_TEXT) {
        memcpy(s->text, lab.data, lab.len);
        s->len = (uint32_t)lab.len;
    } else {
        s->len = 0; /* impossible with today's few dozen series: one worker missing */
    }
    __atomic_add_fetch(&s->seq, 1, __ATOMIC_SEQ_CST);
    ag_buf_fini(&own);
    ag_buf_fini(&lab);
}

void
wsd_status_share_clear(wsd_t *w, int i)
{
    if (w->mslots == NULL)
        return;
    __atomic_add_fetch(&w->mslots[i].seq, 1, __ATOMIC_SEQ_CST);
    w->mslots[i].len = 0;
    __atomic_add_fetch(&w->mslots[i].seq, 1, __ATOMIC_SEQ_CST);
}

/* A consistent copy of slot i's text into out; false when none (or still being written). */
static bool
read_slot(wsd_t *w, int i, ag_buf_t *out)
{
    struct wsd_mslot *s = &w->mslots[i];

    for (int tries = 0; tries < 3; tries++) {
        uint32_t seq = __atomic_load_n(&s->seq, __ATOMIC_SEQ_CST), len = s->len;
        ag_buf_reset(out);
        if (seq % 2 == 0 && len <= MSLOT_TEXT)
            ag_buf_append(out, s->text, len);
        if (seq % 2 == 0 && __atomic_load_n(&s->seq, __ATOMIC_SEQ_CST) == seq)
            return out->len > 0;
    }
    return false;
}

/* The name a "# HELP name ..." or "# TYPE name ..." line is about. */
static size_t
comment_name(const char *line, const char **name)
{
    if (strncmp(line, "# HELP ", 7) != 0 && strncmp(line, "# TYPE ", 7) != 0)
        return 0;
    *name = line + 7;
    return strcspn(*name, " \n");
}

/* text's families in order: their comment lines, then their samples */
static size_t
families(const ag_buf_t *text, family_t *f)
{
    const char *p = text->data, *end = text->data + text->len;
    size_t      n = 0;

    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p)), *name;
        size_t      len = nl ? (size_t)(nl - p) + 1 : (size_t)(end - p), nlen;
        if ((nlen = comment_name(p, &name)) > 0) {
            if (n == 0 || f[n - 1].nlen != nlen || memcmp(f[n - 1].name, name, nlen) != 0) {
                if (n == FAMILIES)
                    break;
                f[n++] = (family_t){.name = name, .nlen = nlen, .head = p};
            }
            f[n - 1].hlen = (size_t)(p + len - f[n - 1].head);
        } else if (n > 0) {
            if (f[n - 1].smp == NULL)
                f[n - 1].smp = p;
            f[n - 1].slen = (size_t)(p + len - f[n - 1].smp);
        }
        p += len;
    }
    return n;
}

/* Every worker's samples under this worker's HELP/TYPE lines, family by family. */
static char *
merged(wsd_t *w, size_t *len)
{
    ag_buf_t  out, *texts = calloc((size_t)w->nworkers, sizeof(*texts));
    family_t *fam = calloc((size_t)w->nworkers * FAMILIES, sizeof(*fam));
    size_t   *nfam = calloc((size_t)w->nworkers, sizeof(*nfam));

    ag_buf_init(&out);
    ag_buf_reserve(&out, 1); /* an empty answer is still a body */
    if (texts == NULL || fam == NULL || nfam == NULL)
        goto out;
    for (int k = 0; k < w->nworkers; k++) {
        ag_buf_init(&texts[k]);
        if (read_slot(w, k, &texts[k]))
            nfam[k] = families(&texts[k], fam + (size_t)k * FAMILIES);
    }
    for (size_t j = 0; j < nfam[w->worker]; j++) {
        const family_t *f = &fam[(size_t)w->worker * FAMILIES + j];
        ag_buf_append(&out, f->head, f->hlen);
        for (int k = 0; k < w->nworkers; k++)
            for (size_t i = 0; i < nfam[k]; i++) {
                const family_t *g = &fam[(size_t)k * FAMILIES + i];
                if (g->nlen == f->nlen && memcmp(g->name, f->name, f->nlen) == 0 && g->smp)
                    ag_buf_append(&out, g->smp, g->slen);
            }
    }
out:
    for (int k = 0; texts && k < w->nworkers; k++)
        ag_buf_fini(&texts[k]);
    free(texts);
    free(fam);
    free(nfam);
    *len = out.len;
    return out.data;
}

char *
wsd_status_metrics(wsd_t *w, size_t *len)
{
    ag_buf_t b;

    if (w->mslots) {
        wsd_status_share(w); /* this worker's series fresh, the others' from their last tick */
        return merged(w, len);
    }
    ag_buf_init(&b);
    render_own(w, &b);
    *len = b.len;
    return b.data; /* ownership passes to the caller */
}
