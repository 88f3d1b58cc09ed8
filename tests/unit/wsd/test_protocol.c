/*
 * tests/unit/wsd/test_protocol.c — agora-wsd's pure parsers (wsd/protocol.c):
 * the client frames of CONTRACT §4, the id rule of frames and events, and
 * the characters a hand-built frame may carry. The reply-subject parser of
 * JetStream deliveries is lib/events' (tests/unit/events).
 */
#include "protocol.h"
#include "tap.h"

#include <string.h>

static wsd_action_t
parse(const char *text)
{
    wsd_action_t a;
    wsd_action_parse(text, strlen(text), &a);
    return a;
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
    return done_testing();
}
