/*
 * tests/unit/wsd/test_protocol.c — agora-wsd's pure parsers (wsd/protocol.c):
 * the client frames of CONTRACT §4, the id rule of frames and events, and
 * the characters a hand-built frame may carry; the client messages of
 * graphql-transport-ws. The reply-subject parser of
 * JetStream deliveries is lib/events' (tests/unit/events).
 */
#include "protocol.h"
#include "tap.h"

#include <stdio.h>
#include <string.h>

static wsd_action_t
parse(const char *text)
{
    wsd_action_t a;
    wsd_action_parse(text, strlen(text), &a);
    return a;
}

static wsd_gmsg_kind_t
gparse(const char *text, wsd_gmsg_t *m)
{
    wsd_gmsg_parse(text, strlen(text), m);
    return m->kind;
}

/* graphql-transport-ws (gqlws.h): what each message of the client becomes */
static void
gql_messages(void)
{
    wsd_gmsg_t m;
    char       big[300];

    is_int(gparse("{\"type\":\"connection_init\",\"payload\":{\"authorization\":\"Bearer a.b.c\"}}",
                  &m),
           WSD_GMSG_INIT, "connection_init");
    ok(m.token && strcmp(m.token, "a.b.c") == 0, "its token, Bearer stripped");
    ag_json_free(m.root);
    gparse("{\"type\":\"connection_init\",\"payload\":{\"authorization\":\"a.b.c\"}}", &m);
    ok(m.token && strcmp(m.token, "a.b.c") == 0, "or given bare");
    ag_json_free(m.root);
    gparse("{\"type\":\"connection_init\"}", &m);
    ok(m.kind == WSD_GMSG_INIT && m.token == NULL, "no payload: no token (the URL's may serve)");
    ag_json_free(m.root);
    is_int(gparse("{\"type\":\"ping\"}", &m), WSD_GMSG_PING, "ping");
    ag_json_free(m.root);
    is_int(gparse("{\"type\":\"pong\",\"payload\":{}}", &m), WSD_GMSG_PONG, "pong");
    ag_json_free(m.root);
    is_int(gparse("{\"id\":\"1\",\"type\":\"subscribe\",\"payload\":{\"query\":\"q\"}}", &m),
           WSD_GMSG_SUBSCRIBE, "subscribe");
    ok(strcmp(m.id, "1") == 0 && m.payload != NULL, "with its id and payload");
    ag_json_free(m.root);
    gparse("{\"type\":\"subscribe\",\"payload\":{}}", &m);
    ok(m.kind == WSD_GMSG_BAD && m.error && strstr(m.error, "id"), "subscribe needs an id");
    ag_json_free(m.root);
    gparse("{\"id\":\"1\",\"type\":\"subscribe\",\"payload\":\"q\"}", &m);
    ok(m.kind == WSD_GMSG_BAD && strstr(m.error, "payload"), "and a payload object");
    ag_json_free(m.root);
    gparse("{\"id\":\"1\",\"type\":\"subscribe\",\"payload\":{\"query\":5}}", &m);
    ok(m.kind == WSD_GMSG_BAD && strstr(m.error, "query"), "a query that is not a string");
    ag_json_free(m.root);
    gparse("{\"id\":\"1\",\"type\":\"subscribe\",\"payload\":{\"variables\":[1]}}", &m);
    ok(m.kind == WSD_GMSG_BAD && strstr(m.error, "variables"), "variables that are not an object");
    ag_json_free(m.root);
    is_int(gparse("{\"id\":\"1\",\"type\":\"subscribe\",\"payload\":{\"extensions\":{},"
                  "\"variables\":null,\"operationName\":null}}",
                  &m),
           WSD_GMSG_SUBSCRIBE, "no query: a persisted document's hash may name it");
    ag_json_free(m.root);
    memset(big, 'i', sizeof(big));
    snprintf(big, sizeof(big), "{\"id\":\"%0129d\",\"type\":\"complete\"}", 7);
    is_int(gparse(big, &m), WSD_GMSG_BAD, "an id of over 128 characters is refused");
    ag_json_free(m.root);
    gparse("{\"id\":\"x\",\"type\":\"complete\"}", &m);
    ok(m.kind == WSD_GMSG_COMPLETE && strcmp(m.id, "x") == 0, "complete");
    ag_json_free(m.root);
    is_int(gparse("{\"type\":\"next\"}", &m), WSD_GMSG_BAD, "a server's message from a client");
    ag_json_free(m.root);
    is_int(gparse("[1]", &m), WSD_GMSG_BAD, "not an object");
    ag_json_free(m.root);
    gparse("{\"type\":", &m);
    ok(m.kind == WSD_GMSG_BAD && m.error != NULL, "not JSON, with a reason");
    ag_json_free(m.root);
}

int
main(void)
{
    wsd_action_t a;

    a = parse("{\"action\":\"ping\"}");
    is_int(a.kind, WSD_ACT_PING, "ping");
    a = parse("{\"action\":\"typing\",\"channelId\":\"45\"}");
    ok(a.kind == WSD_ACT_TYPING && a.channel_id == 45, "typing with a string id");
    a = parse("{\"action\":\"typing\",\"channelId\":45}");
    ok(a.kind == WSD_ACT_TYPING && a.channel_id == 45, "typing with a number id");
    a = parse("{\"action\":\"typing\"}");
    ok(a.kind == WSD_ACT_BAD && a.error && strstr(a.error, "channelId"), "typing needs channelId");
    a = parse("{\"action\":\"typing\",\"channelId\":\"0\"}");
    is_int(a.kind, WSD_ACT_BAD, "channel 0 is no channel");
    a = parse("{\"action\":\"typing\",\"channelId\":\"-4\"}");
    is_int(a.kind, WSD_ACT_BAD, "nor is a negative id");
    a = parse("{\"action\":\"typing\",\"channelId\":\"4x\"}");
    is_int(a.kind, WSD_ACT_BAD, "nor a string with junk after the digits");
    a = parse("{\"action\":\"read\",\"channelId\":\"45\",\"seq\":1024}");
    ok(a.kind == WSD_ACT_READ && a.channel_id == 45 && a.seq == 1024, "read");
    a = parse("{\"action\":\"read\",\"channelId\":\"45\",\"seq\":0}");
    is_int(a.kind, WSD_ACT_BAD, "read needs a positive seq");
    a = parse("{\"action\":\"read\",\"channelId\":\"45\",\"seq\":\"9\"}");
    is_int(a.kind, WSD_ACT_BAD, "seq is a number, not a string");
    a = parse("{\"action\":\"ack\",\"stream\":\"dm\",\"seq\":88}");
    ok(a.kind == WSD_ACT_ACK && a.stream == 0 && a.seq == 88, "ack of a DM");
    a = parse("{\"action\":\"ack\",\"stream\":\"notify\",\"seq\":12}");
    ok(a.kind == WSD_ACT_ACK && a.stream == 1 && a.seq == 12, "ack of a notification");
    a = parse("{\"action\":\"ack\",\"stream\":\"mail\",\"seq\":12}");
    is_int(a.kind, WSD_ACT_BAD, "ack of an unknown stream");
    a = parse("{\"action\":\"dance\"}");
    ok(a.kind == WSD_ACT_UNKNOWN && a.error, "an action we do not know, said so");
    a = parse("[\"action\",\"ping\"]");
    is_int(a.kind, WSD_ACT_BAD, "an array is not a frame");
    a = parse("{\"action\":7}");
    is_int(a.kind, WSD_ACT_BAD, "action must be a string");
    a = parse("{\"action\":\"ping\"");
    is_int(a.kind, WSD_ACT_BAD, "truncated JSON");
    wsd_action_parse("", 0, &a);
    is_int(a.kind, WSD_ACT_BAD, "an empty frame");
    wsd_action_parse("{\"action\":\"ping\"}{\"junk", 17, &a);
    is_int(a.kind, WSD_ACT_PING, "the length bounds the frame: what follows is not read");
    a = parse("[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]");
    is_int(a.kind, WSD_ACT_BAD, "deep nesting is refused, not recursed into");

    ok(wsd_token_ok("6566b1f0c2a4e81d3c9f0a12"), "an ObjectId may go into a frame");
    ok(wsd_token_ok("new_follower") && wsd_token_ok("a-b"), "so may kinds and instance ids");
    ok(!wsd_token_ok("a\"b"), "a quote may not");
    ok(!wsd_token_ok("a\\b") && !wsd_token_ok("a b") && !wsd_token_ok("<x>"),
       "nor a backslash, a space or markup");
    ok(!wsd_token_ok("") && !wsd_token_ok(NULL), "nor nothing");
    char long_id[66];
    memset(long_id, 'a', 65);
    long_id[65] = '\0';
    ok(!wsd_token_ok(long_id), "nor more than 64 characters");
    long_id[64] = '\0';
    ok(wsd_token_ok(long_id), "64 are fine");

    /* a reaction event's members, for its channel and DM frames (CONTRACT §9) */
    ag_buf_t emoji;
    ag_ev_t  r = {.target_id = "6566b1f0c2a4e81d3c9f0a12", .emoji = "\"x", .op = AG_EV_OP_ADDED};
    ok(wsd_reaction_ok(&r, &emoji) && strcmp(emoji.data, "\"\\\"x\"") == 0,
       "a reaction passes, its emoji escaped as JSON");
    ag_buf_fini(&emoji);
    r.op = "exploded";
    ok(!wsd_reaction_ok(&r, &emoji), "an op that is neither added nor removed does not");
    ag_buf_fini(&emoji);
    r.op = AG_EV_OP_REMOVED;
    r.target_id = "a\"b";
    ok(!wsd_reaction_ok(&r, &emoji), "nor a target that is not an id");
    ag_buf_fini(&emoji);
    r.target_id = "t";
    long_id[64] = 'a'; /* 65 bytes again */
    r.emoji = long_id;
    ok(!wsd_reaction_ok(&r, &emoji), "nor an emoji of over 64 bytes");
    ag_buf_fini(&emoji);
    r.emoji = "";
    ok(!wsd_reaction_ok(&r, &emoji), "nor an empty one");
    ag_buf_fini(&emoji);
    gql_messages();
    return done_testing();
}
