/* admin/streams.c — `agora-admin streams`: create or update the JetStream streams. */
#include "admin.h"
#include "events/events.h"

#include <stdio.h>

int
admin_streams(admin_t *ad)
{
    ag_events_t *ev = NULL;
    int          rc = 1;

    if (ag_events_new(ad->cfg, "agora-admin", &ev) != AG_OK) {
        fprintf(stderr, "streams: cannot connect to NATS\n");
        return 1;
    }
    if (ag_events_health(ev) != AG_OK)
        fprintf(stderr, "streams: NATS unavailable: %s\n", ag_events_error(ev));
    else if (ag_events_ensure_streams(ev, ad->cfg, stdout) != AG_OK)
        fprintf(stderr, "streams: %s\n", ag_events_error(ev));
    else
        rc = 0;
    ag_events_free(ev);
    return rc;
}
