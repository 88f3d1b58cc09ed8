/*
 * lib/events/jetstream.c — the JetStream plumbing agora-wsd and agora-worker
 * share (events_nats.h): the JetStream context, the configuration of a
 * durable explicitly-acked consumer, and bringing such a consumer to its
 * configuration whatever state the server holds it in.
 */
#include "events/events_nats.h"
#include "log/log.h"

#include <nats/nats.h>

natsStatus
ag_events_nats_js(natsConnection *nc, int64_t timeout_ms, jsCtx **out)
{
    jsOptions jso;

    jsOptions_Init(&jso);
    jso.Wait = timeout_ms;
    return natsConnection_JetStream(out, nc, &jso);
}

void
ag_events_nats_durable(jsConsumerConfig *cc, const char *durable, const char *filter,
                       const char *deliver, int64_t ack_wait_s, int64_t max_ack_pending)
{
    jsConsumerConfig_Init(cc);
    cc->Durable = durable;
    cc->FilterSubject = filter;
    cc->DeliverSubject = deliver;      /* NULL: a pull consumer */
    cc->DeliverPolicy = js_DeliverAll; /* a new consumer starts from what the stream holds */
    cc->AckPolicy = js_AckExplicit;
    cc->AckWait = ack_wait_s * 1000000000LL;
    cc->MaxAckPending = max_ack_pending;
}

natsStatus
ag_events_nats_consumer_ensure(jsCtx *js, const char *stream, jsConsumerConfig *cc, jsErrCode *jerr)
{
    jsConsumerInfo *ci = NULL, *old = NULL;
    natsStatus      s;

    *jerr = 0;
    /* creating it with the configuration it has already is a no-op on the server */
    if ((s = js_AddConsumer(&ci, js, stream, cc, NULL, jerr)) == NATS_OK)
        goto out;
    if (*jerr == 0)
        return s; /* no answer: NATS or JetStream unavailable */
    /* there with another configuration (an older program's, or other limits) */
    if ((s = js_UpdateConsumer(&ci, js, stream, cc, NULL, jerr)) == NATS_OK)
        goto out;
    /* not updatable in place: recreate it from where its acks stopped, losing nothing unacked */
    if ((s = js_GetConsumerInfo(&old, js, stream, cc->Durable, NULL, jerr)) != NATS_OK)
        return s;
    if (old->AckFloor.Stream > 0) {
        cc->DeliverPolicy = js_DeliverByStartSequence;
        cc->OptStartSeq = old->AckFloor.Stream + 1;
    }
    jsConsumerInfo_Destroy(old);
    ag_log_info("nats: consumer %s recreated (its configuration could not be updated)",
                cc->Durable);
    js_DeleteConsumer(js, stream, cc->Durable, NULL, jerr);
    if ((s = js_AddConsumer(&ci, js, stream, cc, NULL, jerr)) != NATS_OK)
        return s;
out:
    jsConsumerInfo_Destroy(ci);
    return NATS_OK;
}
