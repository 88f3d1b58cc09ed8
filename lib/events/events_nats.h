/*
 * lib/events/events_nats.h — the one place where nats.c types cross a module
 * boundary, on purpose: agora-wsd and agora-worker drive subscriptions and
 * consumers themselves (callbacks on nats.c threads, pull fetches), which
 * ag_events_t does not wrap. What must be the same for every connection of
 * the system — which servers, timeouts, the client name — is built here once.
 */
#ifndef AG_EVENTS_NATS_H
#define AG_EVENTS_NATS_H

#include "config/config.h"

#include <nats/nats.h>

/*
 * Connection options from the configuration: the servers of nats_urls (a
 * cluster, tried in random order, failing over on disconnect) or else
 * nats://nats_host:nats_port, the connect timeout nats_timeout_ms, the given
 * client name, reconnects every 250 ms, max_reconnect times (-1: forever).
 * The caller adds its callbacks, connects and destroys *out.
 */
natsStatus ag_events_nats_options(const ag_config_t *cfg, const char *name, int max_reconnect,
                                  natsOptions **out);

/*
 * JetStream consumers, as agora-wsd (push: DM and notify per user) and
 * agora-worker (pull: one per job) both use them. What they share ends here:
 * how messages then arrive differs in kind (wsd: core subscriptions on a
 * deliver subject, callbacks on nats.c threads handing over to the loop, acks
 * published to the reply subject; worker: a synchronous pull fetch on one
 * thread, acked through the message), and so does what each does when the
 * consumer disappears. The reply subject of a delivery is parsed by
 * ag_ev_jsack_parse (vocab.h) for both.
 */
/* A JetStream context on nc whose API requests wait at most timeout_ms. */
natsStatus ag_events_nats_js(natsConnection *nc, int64_t timeout_ms, jsCtx **out);
/*
 * A durable, explicitly acked consumer named durable on filter, starting with
 * what the stream holds: a push consumer delivering to deliver, or (NULL) a
 * pull consumer. The caller adds what is its own (heartbeats, MaxDeliver).
 */
void ag_events_nats_durable(jsConsumerConfig *cc, const char *durable, const char *filter,
                            const char *deliver, int64_t ack_wait_s, int64_t max_ack_pending);
/*
 * Make the durable consumer of cc exist on stream with cc's configuration:
 * create it (the same configuration again is a no-op), else update it, else
 * (a change JetStream cannot make in place) delete it and create it again
 * from its ack floor, so that nothing unacked is lost. *jerr: JetStream's
 * error code of the last request; 0 with a failure means no answer came
 * (NATS or JetStream unavailable).
 */
natsStatus ag_events_nats_consumer_ensure(jsCtx *js, const char *stream, jsConsumerConfig *cc,
                                          jsErrCode *jerr);

#endif
