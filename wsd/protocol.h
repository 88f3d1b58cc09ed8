/*
 * wsd/protocol.h — the client frames of CONTRACT §4 and the client messages
 * of graphql-transport-ws (§9), parsed without any daemon state, so that the parser can be fuzzed
 * on its own (tests/fuzz/fuzz_ws_frame.c). Any thread; no allocation survives the call.
 */
#ifndef WSD_PROTOCOL_H
#define WSD_PROTOCOL_H

#include "core/core.h"
#include "events/vocab.h"
#include "json/json.h"

typedef enum {
    WSD_ACT_BAD = 0, /* error says why */
    WSD_ACT_PING,
    WSD_ACT_TYPING, /* channel_id */
    WSD_ACT_READ,   /* channel_id, seq > 0 */
    WSD_ACT_ACK,    /* stream (0 dm, 1 notify), seq */
    WSD_ACT_UNKNOWN /* a well-formed frame with an action we do not know */
} wsd_act_kind_t;

typedef struct {
    wsd_act_kind_t kind;
    int64_t        channel_id;
    int64_t        seq;
    int            stream;
    const char    *error; /* a static message for WSD_ACT_BAD */
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

/*
 * The members of a reaction event (channel or DM, CONTRACT §9) that its frame
 * carries, checked: targetId an id (wsd_token_ok), op "added" or "removed", and
 * the emoji, the one member that is not an id, escaped as JSON into emoji_json
 * (initialised here; the caller's to ag_buf_fini) and bounded like the store
 * bounds it, so that a malformed event cannot inflate frames.
 */
bool wsd_reaction_ok(const ag_ev_t *ev, ag_buf_t *emoji_json);

/* ---- graphql-transport-ws: the client's messages (gqlws.h) ------------------------ */
#define WSD_GQL_ID_MAX 128 /* bytes of a subscription id */

typedef enum {
    WSD_GMSG_BAD = 0, /* error says why */
    WSD_GMSG_INIT,    /* connection_init: token (may be NULL) */
    WSD_GMSG_PING,
    WSD_GMSG_PONG,
    WSD_GMSG_SUBSCRIBE, /* id, payload */
    WSD_GMSG_COMPLETE,  /* id */
} wsd_gmsg_kind_t;

typedef struct {
    wsd_gmsg_kind_t kind;
    const char     *id;      /* SUBSCRIBE, COMPLETE: 1..WSD_GQL_ID_MAX bytes */
    const char     *token;   /* INIT: the payload's authorization ("Bearer " stripped) */
    ag_json_t      *payload; /* SUBSCRIBE: {query, variables, operationName, extensions} */
    const char     *error;   /* BAD: a static message */
    ag_json_t      *root;    /* owns the strings above: ag_json_free after use */
} wsd_gmsg_t;

/* Parse one text message (never fails: BAD carries the reason). */
void wsd_gmsg_parse(const char *text, size_t len, wsd_gmsg_t *out);

#endif
