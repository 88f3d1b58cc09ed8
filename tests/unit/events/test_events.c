/*
 * tests/unit/events/test_events.c — the event vocabulary (lib/events/vocab.h):
 * the names CONTRACT §6 fixes, subjects and filters built from the table,
 * payloads byte for byte as the writers published them before the table
 * existed, decoding, and the JetStream reply-subject parser. No server.
 */
#include "events/vocab.h"
#include "tap.h"

#include <stdio.h>
#include <string.h>

static char out[AG_EV_NAME_MAX];

static const char *
subj(ag_ev_subject_t s, int64_t id, const char *tok)
{
    return ag_ev_subject(out, sizeof(out), s, id, tok) ? out : "(none)";
}

static const char *
filt(ag_ev_subject_t s, int64_t id, const char *tok)
{
    return ag_ev_filter(out, sizeof(out), s, id, tok) ? out : "(none)";
}

static const char *
payload(const ag_ev_t *ev, ag_buf_t *b)
{
    ag_buf_reset(b);
    return ag_ev_payload(ev, b) == AG_OK ? b->data : "(failed)";
}

static void
test_contract_names(void)
{
    static const struct {
        ag_ev_stream_t s;
        const char    *name, *filter;
    } want[] = {
        {AG_EV_STREAM_CHANNEL, "CHANNEL_STREAM", "channel.*.message.*"},
        {AG_EV_STREAM_DM, "DM_STREAM", "user.*.dm"},
        {AG_EV_STREAM_NOTIFY, "NOTIFY_STREAM", "user.*.notify.*"},
        {AG_EV_STREAM_DEADLETTER, "DEADLETTER_STREAM", "deadletter.>"},
    };
    for (size_t i = 0; i < AG_ARRAY_LEN(want); i++) {
        is_str(ag_ev_stream_name(want[i].s), want[i].name, "stream %s", want[i].name);
        ag_ev_stream_filter(want[i].s, out, sizeof(out));
        is_str(out, want[i].filter, "%s captures %s", want[i].name, want[i].filter);
    }
    ok(ag_ev_stream_name(AG_EV_STREAM_NONE) == NULL, "core NATS has no stream name");
    is_int(ag_ev_stream_of(AG_EV_MESSAGE), AG_EV_STREAM_CHANNEL, "channel messages are stored");
    is_int(ag_ev_stream_of(AG_EV_TYPING), AG_EV_STREAM_NONE, "typing is core NATS");
    is_int(ag_ev_stream_of(AG_EV_NOTIFY), AG_EV_STREAM_NOTIFY, "notifications are stored");
}

static void
test_subjects(void)
{
    is_str(subj(AG_EV_MESSAGE, 45, "created"), "channel.45.message.created", "message subject");
    is_str(subj(AG_EV_TYPING, 45, NULL), "channel.45.typing", "typing");
    is_str(subj(AG_EV_CHANNEL_UPDATED, 45, NULL), "channel.45.updated", "channel updated");
    is_str(subj(AG_EV_MEMBER, 45, AG_EV_JOINED), "channel.45.member.joined", "member joined");
    is_str(subj(AG_EV_DM, 12, NULL), "user.12.dm", "dm");
    is_str(subj(AG_EV_NOTIFY, 12, AG_EV_KIND_FOLLOWER), "user.12.notify.new_follower", "notify");
    is_str(subj(AG_EV_USER_UPDATED, 12, NULL), "user.12.updated", "user updated");
    is_str(subj(AG_EV_PRESENCE, 12, NULL), "user.12.presence", "presence");
    is_str(subj(AG_EV_SUBS_CHANGED, 12, NULL), "user.12.subs.changed", "subs changed");
    is_str(subj(AG_EV_SYNC, 12, AG_EV_SYNC_ACK), "user.12.sync.ack", "sync ack");
    is_str(subj(AG_EV_DEADLETTER, 0, "fanout"), "deadletter.fanout", "dead letter");
    is_str(subj(AG_EV_WSD_INBOX, 9, AG_EV_INBOX_NOTIFY), "_wsd.user.9.notify", "wsd inbox");
    is_str(subj(AG_EV_WSD_LIVE, 3, "a1b2"), "_wsd.live.a1b2.3", "wsd live generation");

    ok(ag_ev_subject(out, sizeof(out), AG_EV_MESSAGE, 0, "created") == 0, "id 0 is refused");
    ok(ag_ev_subject(out, sizeof(out), AG_EV_MESSAGE, -4, "created") == 0, "a negative id too");
    ok(ag_ev_subject(out, sizeof(out), AG_EV_MESSAGE, 45, NULL) == 0, "a missing verb too");
    ok(ag_ev_subject(out, sizeof(out), AG_EV_MESSAGE, 45, "a.b") == 0,
       "a token with a dot would be another subject: refused");
    ok(ag_ev_subject(out, sizeof(out), AG_EV_MESSAGE, 45, "") == 0, "an empty token too");
    ok(ag_ev_subject(out, 10, AG_EV_MESSAGE, 45, "created") == 0, "a short buffer gives 0");
    ok(ag_ev_subject(out, sizeof(out), AG_EV_UNKNOWN, 45, NULL) == 0, "no such subject");

    is_str(filt(AG_EV_MESSAGE, 45, NULL), "channel.45.message.*", "one channel's messages");
    is_str(filt(AG_EV_NOTIFY, 12, NULL), "user.12.notify.*", "one user's notifications");
    is_str(filt(AG_EV_SYNC, 12, NULL), "user.12.sync.*", "one user's sync events");
    is_str(filt(AG_EV_PRESENCE, 0, NULL), "user.*.presence", "everyone's presence");
    is_str(filt(AG_EV_USER_UPDATED, 0, NULL), "user.*.updated", "every user update");
    is_str(filt(AG_EV_MEMBER, 45, NULL), "channel.45.member.*", "one channel's members");

    ag_ev_consumer(out, sizeof(out), AG_EV_CONSUMER_WSD_DM, 12, NULL);
    is_str(out, "wsd-dm-12", "a user's DM consumer");
    ag_ev_consumer(out, sizeof(out), AG_EV_CONSUMER_WSD_NOTIFY, 12, NULL);
    is_str(out, "wsd-notify-12", "a user's notification consumer");
    ag_ev_consumer(out, sizeof(out), AG_EV_CONSUMER_WSD_LIVE, 2, "f00d");
    is_str(out, "wsd-live-f00d-2", "a daemon's live consumer");
    ag_ev_consumer(out, sizeof(out), AG_EV_CONSUMER_WORKER, 0, "fanout");
    is_str(out, "worker-fanout", "a job's durable consumer");

    ag_ev_msgid_doc(out, sizeof(out), "6566b1f0c2a4e81d3c9f0a12", "created");
    is_str(out, "6566b1f0c2a4e81d3c9f0a12-created", "Nats-Msg-Id of a write");
    ag_ev_msgid_notify(out, sizeof(out), 77);
    is_str(out, "notify-77", "Nats-Msg-Id of a notification");
}

static void
test_payloads(void)
{
    ag_buf_t b;
    ag_buf_init(&b);
    int64_t chans[] = {4, 5};

    /* each as the writer built it by hand before vocab.h */
    is_str(payload(&(ag_ev_t){.subject = AG_EV_MESSAGE, .message_id = "ab"}, &b),
           "{\"messageId\":\"ab\"}", "a post event");
    is_str(payload(
               &(ag_ev_t){
                   .subject = AG_EV_MESSAGE, .post_id = "p", .comment_id = "c", .reply_id = "r"},
               &b),
           "{\"postId\":\"p\",\"commentId\":\"c\",\"replyId\":\"r\"}", "a reply event");
    is_str(payload(&(ag_ev_t){.subject = AG_EV_DM, .message_id = "m", .from = 7}, &b),
           "{\"messageId\":\"m\",\"from\":\"7\"}", "a DM event");
    is_str(payload(&(ag_ev_t){.subject = AG_EV_NOTIFY,
                              .kind = "mention",
                              .user_id = 3,
                              .notification_id = 17,
                              .channel_id = 5,
                              .post_id = "p"},
                   &b),
           "{\"kind\":\"mention\",\"userId\":\"3\",\"notificationId\":\"17\",\"channelId\":\"5\","
           "\"postId\":\"p\"}",
           "a mention");
    is_str(
        payload(&(ag_ev_t){.subject = AG_EV_NOTIFY, .kind = "new_follower", .notification_id = 18},
                &b),
        "{\"kind\":\"new_follower\",\"userId\":\"0\",\"notificationId\":\"18\"}",
        "a required id is written even when 0 (a deleted actor), optional ones are not");
    is_str(payload(&(ag_ev_t){.subject = AG_EV_TYPING, .channel_id = 45, .user_id = 9}, &b),
           "{\"channelId\":\"45\",\"userId\":\"9\"}", "typing");
    is_str(payload(&(ag_ev_t){.subject = AG_EV_CHANNEL_UPDATED, .channel_id = 45, .deleted = true},
                   &b),
           "{\"channelId\":\"45\",\"deleted\":\"true\"}", "a deleted channel");
    is_str(payload(&(ag_ev_t){.subject = AG_EV_USER_UPDATED, .user_id = 12}, &b),
           "{\"userId\":\"12\"}", "a profile change");
    is_str(payload(&(ag_ev_t){.subject = AG_EV_PRESENCE,
                              .user_id = 12,
                              .status = AG_EV_ONLINE,
                              .channels = chans,
                              .nchannels = 2},
                   &b),
           "{\"userId\":\"12\",\"status\":\"online\",\"channels\":[\"4\",\"5\"]}", "presence");
    is_str(
        payload(&(ag_ev_t){.subject = AG_EV_PRESENCE, .user_id = 12, .status = AG_EV_OFFLINE}, &b),
        "{\"userId\":\"12\",\"status\":\"offline\",\"channels\":[]}",
        "presence of a user in no channel still lists its channels");
    is_str(
        payload(&(ag_ev_t){.subject = AG_EV_SUBS_CHANGED, .channel_id = 45, .action = AG_EV_LEFT},
                &b),
        "{\"channelId\":\"45\",\"action\":\"left\"}", "subs changed");
    is_str(payload(
               &(ag_ev_t){.subject = AG_EV_SYNC, .channel_id = 45, .seq = 1024, .session_id = "s1"},
               &b),
           "{\"channelId\":\"45\",\"seq\":1024,\"sessionId\":\"s1\"}", "sync.read");
    is_str(payload(&(ag_ev_t){.subject = AG_EV_SYNC, .stream = "dm", .seq = 88}, &b),
           "{\"stream\":\"dm\",\"seq\":88}", "sync.ack");
    is_str(
        payload(
            &(ag_ev_t){.subject = AG_EV_NOTIFY, .kind = "a\"b", .user_id = 1, .notification_id = 2},
            &b),
        "{\"kind\":\"a\\\"b\",\"userId\":\"1\",\"notificationId\":\"2\"}", "strings are escaped");
    is_str(payload(&(ag_ev_t){.subject = AG_EV_DEADLETTER,
                              .job = "fanout",
                              .dead_subject = "channel.1.message.x",
                              .seq = 0,
                              .deliveries = 1,
                              .reason = "poison",
                              .data = "{\"a\":\n1}",
                              .data_len = 8},
                   &b),
           "{\"job\":\"fanout\",\"subject\":\"channel.1.message.x\",\"seq\":0,\"deliveries\":1,"
           "\"reason\":\"poison\",\"data\":\"{\\\"a\\\":\\u000a1}\"}",
           "a dead letter carries the original as a string");

    ag_buf_reset(&b);
    is_int(ag_ev_payload(&(ag_ev_t){.subject = AG_EV_DM, .from = 7}, &b), AG_EBADREQ,
           "a required string left NULL is refused");
    is_int(ag_ev_payload(&(ag_ev_t){.subject = AG_EV_WSD_LIVE}, &b), AG_EBADREQ,
           "a transport subject has no payload");
    ag_buf_fini(&b);
}

static void
test_decode(void)
{
    ag_ev_t ev;
    char    tok[16];
    int64_t id;

    is_int(ag_ev_match("channel.45.message.replied", &id, tok, sizeof(tok)), AG_EV_MESSAGE,
           "a message subject is recognised");
    ok(id == 45 && strcmp(tok, "replied") == 0, "... with its channel and verb");
    is_int(ag_ev_verb(tok), AG_EV_VERB_REPLIED, "the verb is one of the table");
    is_int(ag_ev_verb("exploded"), AG_EV_VERB_NONE, "an unknown verb is none");
    is_str(ag_ev_verb_name(AG_EV_VERB_COMMENTED), "commented", "verbs have their names");
    is_int(ag_ev_match("channel.45.member.left", &id, tok, sizeof(tok)), AG_EV_MEMBER, "member");
    is_int(ag_ev_match("user.7.sync.read", &id, tok, sizeof(tok)), AG_EV_SYNC, "sync");
    is_int(ag_ev_match("user.7.subs.changed", &id, tok, sizeof(tok)), AG_EV_SUBS_CHANGED,
           "subs.changed is not taken for another subject");
    is_int(ag_ev_match("_wsd.user.7.notify", &id, tok, sizeof(tok)), AG_EV_WSD_INBOX, "inbox");
    ok(id == 7 && strcmp(tok, "notify") == 0, "... of user 7, notify");
    is_int(ag_ev_match("deadletter.index", &id, tok, sizeof(tok)), AG_EV_DEADLETTER, "dead letter");
    is_int(ag_ev_match("channel.0.message.created", &id, tok, sizeof(tok)), AG_EV_UNKNOWN,
           "channel 0 is no channel");
    is_int(ag_ev_match("channel.x.typing", &id, tok, sizeof(tok)), AG_EV_UNKNOWN,
           "an id must be decimal");
    is_int(ag_ev_match("channel.1.message.a.b", &id, tok, sizeof(tok)), AG_EV_UNKNOWN,
           "a verb is one token");
    is_int(ag_ev_match("channel.1.typing.x", &id, tok, sizeof(tok)), AG_EV_UNKNOWN,
           "trailing tokens do not match");
    is_int(ag_ev_match("channel.99999999999999999999.typing", &id, tok, sizeof(tok)), AG_EV_UNKNOWN,
           "an id past int64 does not match");
    is_int(ag_ev_match("", &id, tok, sizeof(tok)), AG_EV_UNKNOWN, "the empty subject");

    const char *n = "{\"kind\":\"reply\",\"userId\":\"0\",\"notificationId\":19,\"postId\":\"p\"}";
    is_int(ag_ev_decode("user.3.notify.reply", n, strlen(n), &ev), AG_OK, "a notification decodes");
    ok(ev.subject == AG_EV_NOTIFY && ev.id == 3 && strcmp(ev.tok, "reply") == 0,
       "its subject's parts");
    ok(AG_EV_HAS(&ev, user_id) && ev.user_id == 0, "userId \"0\" (a deleted actor) is present");
    ok(AG_EV_HAS(&ev, notification_id) && ev.notification_id == 19, "ids may come as numbers");
    ok(!AG_EV_HAS(&ev, channel_id) && ev.channel_id == 0, "an absent member is not set");
    is_str(ev.post_id, "p", "strings point into the payload");
    ag_ev_fini(&ev);

    const char *p = "{\"userId\":\"12\",\"status\":\"online\",\"channels\":[\"4\",5,\"x\",\"-1\"]}";
    is_int(ag_ev_decode("user.12.presence", p, strlen(p), &ev), AG_OK, "presence decodes");
    ok(ev.nchannels == 2 && ev.channels[0] == 4 && ev.channels[1] == 5,
       "the channels, malformed entries skipped");
    ag_ev_fini(&ev);

    const char *bad = "{\"userId\":\"-3\",\"seq\":-1,\"sessionId\":5}";
    is_int(ag_ev_decode("user.12.sync.read", bad, strlen(bad), &ev), AG_OK,
           "a payload with ill-typed members still decodes");
    ok(!AG_EV_HAS(&ev, seq) && !AG_EV_HAS(&ev, session_id) && ev.session_id == NULL,
       "... and those members are absent");
    ag_ev_fini(&ev);

    is_int(ag_ev_decode("user.12.sync.read", "[1]", 3, &ev), AG_EBADREQ, "not an object");
    ag_ev_fini(&ev);
    is_int(ag_ev_decode("user.12.sync.read", "{", 1, &ev), AG_EBADREQ, "not JSON");
    ag_ev_fini(&ev);
    is_int(ag_ev_decode("elsewhere.1", "{}", 2, &ev), AG_EBADREQ, "not our subject");
    ag_ev_fini(&ev);

    /* what a writer builds, a reader gets back */
    ag_buf_t b;
    ag_buf_init(&b);
    ag_ev_t w = {.subject = AG_EV_MESSAGE,
                 .id = 45,
                 .tok = "commented",
                 .post_id = "p1",
                 .comment_id = "c1"};
    ag_ev_subject_of(&w, out, sizeof(out));
    ag_ev_payload(&w, &b);
    is_int(ag_ev_decode(out, b.data, b.len, &ev), AG_OK, "a built event decodes");
    ok(ev.id == 45 && ag_ev_verb(ev.tok) == AG_EV_VERB_COMMENTED && strcmp(ev.post_id, "p1") == 0 &&
           strcmp(ev.comment_id, "c1") == 0 && ev.message_id == NULL,
       "... to what was built");
    ag_ev_fini(&ev);
    ag_buf_fini(&b);
}

static void
test_jsack(void)
{
    ag_ev_jsack_t m;

    ok(ag_ev_jsack_parse("$JS.ACK.CHANNEL_STREAM.wsd-live-x-1.3.1024.17.1700000000000000000.5", &m),
       "a v1 reply subject parses");
    ok(m.delivered == 3 && m.stream_seq == 1024 && m.consumer_seq == 17,
       "... delivered, stream and consumer sequence");
    ok(ag_ev_jsack_parse("$JS.ACK.hub.ACCHASH.DM_STREAM.wsd-dm-9.1.88.2.1700000000000000000.0.r4nd",
                         &m),
       "a v2 reply subject (domain, account hash, random token) parses");
    ok(m.delivered == 1 && m.stream_seq == 88 && m.consumer_seq == 2, "... its sequences");
    ok(!ag_ev_jsack_parse("_INBOX.abc.def", &m), "not a JetStream ack subject");
    ok(!ag_ev_jsack_parse("$JS.ACK.S.C.1.2", &m), "too few tokens");
    ok(!ag_ev_jsack_parse("$JS.ACK.S.C.1.0.1.1.0", &m), "stream sequence 0 is no delivery");
    ok(!ag_ev_jsack_parse(NULL, &m), "no reply subject (core NATS)");
}

int
main(void)
{
    test_contract_names();
    test_subjects();
    test_payloads();
    test_decode();
    test_jsack();
    return done_testing();
}
