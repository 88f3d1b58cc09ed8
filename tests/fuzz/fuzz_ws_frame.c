/*
 * tests/fuzz/fuzz_ws_frame.c — libFuzzer target: arbitrary bytes as a client
 * WebSocket text frame, through agora-wsd's protocol parsers
 * (wsd/protocol.c): the §4 frames and graphql-transport-ws's messages.
 * Whatever it gets, the result must be one of the actions (messages) with
 * arguments in range, or a refusal that says why.
 */
#include "protocol.h"

#include <stdlib.h>

#include <string.h>

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

static void
gql_message(const unsigned char *data, size_t size)
{
    wsd_gmsg_t m;

    wsd_gmsg_parse((const char *)data, size, &m);
    if (m.kind == WSD_GMSG_BAD && m.error == NULL)
        abort(); /* a refusal always explains itself */
    if ((m.kind == WSD_GMSG_SUBSCRIBE || m.kind == WSD_GMSG_COMPLETE) &&
        (m.id == NULL || *m.id == '\0' || strlen(m.id) > WSD_GQL_ID_MAX))
        abort();
    if (m.kind == WSD_GMSG_SUBSCRIBE && m.payload == NULL)
        abort();
    ag_json_free(m.root);
}

int
LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
    wsd_action_t a;

    wsd_action_parse((const char *)data, size, &a);
    switch (a.kind) {
    case WSD_ACT_BAD:
    case WSD_ACT_UNKNOWN:
        if (a.error == NULL)
            abort(); /* a refusal always explains itself */
        break;
    case WSD_ACT_TYPING:
        if (a.channel_id <= 0)
            abort();
        break;
    case WSD_ACT_READ:
        if (a.channel_id <= 0 || a.seq <= 0)
            abort();
        break;
    case WSD_ACT_ACK:
        if (a.stream != 0 && a.stream != 1)
            abort();
        break;
    case WSD_ACT_PING:
        break;
    default:
        abort();
    }
    gql_message(data, size);
    return 0;
}
