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

#endif
