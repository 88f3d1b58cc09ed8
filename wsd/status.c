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

char *
wsd_status_metrics(wsd_t *w, size_t *len)
{
    ag_buf_t b;
    int64_t  now = ag_now_mono_ms();
    int64_t  since = w->live.last_event_ms ? (now - w->live.last_event_ms) / 1000 : -1;

    ag_buf_init(&b);
#define C(name, type, help, val)                                                                   \
    ag_buf_printf(&b, "# HELP agora_wsd_%s %s\n# TYPE agora_wsd_%s %s\nagora_wsd_%s %lld\n", name, \
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
#undef C
    channel_buckets(w, &b);
    wsd_bus_metrics(w, &b);
    *len = b.len;
    return b.data; /* ownership passes to the caller */
}
