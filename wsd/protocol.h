/*
 * wsd/protocol.h — the client frames of CONTRACT §4, parsed without any
 * daemon state, so that the parser can be fuzzed on its own
 * (tests/fuzz/fuzz_ws_frame.c). Any thread; no allocation survives the call.
 */
#ifndef WSD_PROTOCOL_H
#define WSD_PROTOCOL_H

#include "core/core.h"
#include "json/json.h"

typedef enum {
    WSD_ACT_BAD = 0,   /* error says why */
    WSD_ACT_PING,
    WSD_ACT_TYPING,    /* channel_id */
    WSD_ACT_READ,      /* channel_id, seq > 0 */
    WSD_ACT_ACK,       /* stream (0 dm, 1 notify), seq */
    WSD_ACT_UNKNOWN    /* a well-formed frame with an action we do not know */
} wsd_act_kind_t;

typedef struct {
    wsd_act_kind_t kind;
    int64_t        channel_id;
    int64_t        seq;
    int            stream;
    const char    *error;   /* a static message for WSD_ACT_BAD */
} wsd_action_t;

/* Parse one text frame of len bytes into *out (never fails: BAD carries the reason). */
void wsd_action_parse(const char *text, size_t len, wsd_action_t *out);

/* A positive id given as "45" or 45 in member key of object o (NULL: false);
 * the rule of client frames, and of lib/events for the events of NATS. */
bool wsd_json_id(ag_json_t *o, const char *key, int64_t *out);

/*
 * Whether s may be written as it is into a hand-built JSON frame: 1 to 64 of
 * the characters ids are made of ([0-9A-Za-z_-]); false for NULL.
 */
bool wsd_token_ok(const char *s);

#endif
