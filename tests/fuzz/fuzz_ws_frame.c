/*
 * tests/fuzz/fuzz_ws_frame.c — libFuzzer target: arbitrary bytes as a client
 * WebSocket text frame, through agora-wsd's protocol parser
 * (wsd/protocol.c). Whatever it gets, the result must be one of the actions
 * with arguments in range, or a refusal that says why.
 */
#include "protocol.h"

#include <stdlib.h>

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

int
LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
    wsd_action_t a;

    wsd_action_parse((const char *)data, size, &a);
    switch (a.kind) {
    case WSD_ACT_BAD:
    case WSD_ACT_UNKNOWN:
        if (a.error == NULL)
            abort();  /* a refusal always explains itself */
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
    return 0;
}
