/*
 * lib/events/events.h — NATS and JetStream through nats.c. The connection
 * reconnects by itself (nats.c's own threads); a server that is down at start
 * is retried in the background, so programs start and report 503 until it
 * is back. Subjects, streams and payloads are those of vocab.h (CONTRACT §6).
 */
#ifndef AG_EVENTS_H
#define AG_EVENTS_H

#include "core/core.h"
#include "config/config.h"
#include "events/vocab.h"

#include <stdio.h>

typedef struct ag_events ag_events_t;

/* name appears in the server's connection list (e.g. "agora-fcgi"). */
ag_status_t ag_events_new(const ag_config_t *cfg, const char *name, ag_events_t **out);
void        ag_events_free(ag_events_t *ev);          /* accepts NULL; drains nothing */
/* AG_OK when connected to a server with JetStream enabled, else AG_EUNAVAIL. */
ag_status_t ag_events_health(ag_events_t *ev);
/* Fire-and-forget core NATS publish (typing, presence, *.updated, subs.changed). */
ag_status_t ag_events_publish(ag_events_t *ev, const char *subject, const char *data, size_t len);
/*
 * JetStream publish that waits for the stream's ack. msg_id becomes the
 * Nats-Msg-Id header so that a retry is not stored twice. *seq (optional)
 * receives the stream sequence. AG_EUNAVAIL when no ack came in time.
 */
ag_status_t ag_events_js_publish(ag_events_t *ev, const char *subject, const char *data,
                                 size_t len, const char *msg_id, uint64_t *seq);
/*
 * Publish an event of the vocabulary (vocab.h): its subject and payload are
 * built from e. ag_events_emit is core NATS, ag_events_js_emit JetStream as
 * ag_events_js_publish. AG_EBADREQ when e has no subject or lacks a member.
 */
ag_status_t ag_events_emit(ag_events_t *ev, const ag_ev_t *e);
ag_status_t ag_events_js_emit(ag_events_t *ev, const ag_ev_t *e, const char *msg_id, uint64_t *seq);
/* Create or update CHANNEL_STREAM, DM_STREAM and NOTIFY_STREAM; one line each to report. */
ag_status_t ag_events_ensure_streams(ag_events_t *ev, const ag_config_t *cfg, FILE *report);
/* Last error text of this connection, for logs. */
const char *ag_events_error(const ag_events_t *ev);
/* Release nats.c's global state at program exit (after every ag_events_free). */
void        ag_events_shutdown(void);

#endif
