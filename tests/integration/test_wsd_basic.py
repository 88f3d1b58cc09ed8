"""agora-wsd: upgrade auth, ready, channel events over JetStream, non-members,
Apache's /ws proxy, /healthz and /metrics (CONTRACT §4)."""
import http.client

import agora_test as at
from agora_test import api, expect, register, unique
from wsclient import JS, WS, HandshakeError, oid


def channel(token, visibility="public"):
    r = api("POST", "/channels", {"name": unique("c"), "visibility": visibility}, token=token)
    expect(r.status == 201, f"create channel: {r!r}")
    return r.json["id"]


def join(token, cid, uid):
    r = api("PUT", f"/channels/{cid}/members/{uid}", {}, token=token)
    expect(r.status in (200, 201), f"join: {r!r}")


def refused(**kw):
    try:
        WS(**kw).close()
    except HandshakeError as e:
        return e.status
    return 101


def test_wsd_refuses_missing_bad_and_expired_tokens_with_401():
    _, tok = register()
    expect(refused() == 401, "no token must be 401")
    expect(refused(token="garbage.token.here") == 401, "garbage token must be 401")
    expect(refused(token=tok[:-3] + ("AAA" if not tok.endswith("AAA") else "BBB")) == 401,
           "bad signature must be 401")


def test_wsd_ready_frame_with_query_token_and_bearer_header():
    _, tok = register()
    for hdr in (False, True):
        ws = WS(token=tok, header_token=hdr)
        f = ws.ready()
        expect(isinstance(f.get("sessionId"), str) and f["sessionId"], f"sessionId: {f!r}")
        expect(f.get("heartbeatMs") == 25000, f"heartbeatMs: {f!r}")
        expect(ws.frames[0]["type"] == "ready", f"ready must be the first frame: {ws.frames!r}")
        ws.send({"action": "ping"})
        ws.wait_type("pong")
        ws.close()


def test_wsd_channel_message_reaches_members_not_others():
    a, ta = register()
    _, tb = register()
    cid = channel(ta)
    wa, wb = WS(token=ta), WS(token=tb)
    wa.ready()
    wb.ready()
    js = JS()
    mid = oid()
    seq = js.publish(f"channel.{cid}.message.created", {"messageId": mid})
    f = wa.wait_type("channel_message", messageId=mid)
    expect(f == {"type": "channel_message", "channelId": cid, "messageId": mid, "seq": seq},
           f"frame: {f!r} (seq {seq})")
    # the other kinds, with their own payloads
    pid, cmt, rep = oid(), oid(), oid()
    s2 = js.publish(f"channel.{cid}.message.updated", {"messageId": mid})
    s3 = js.publish(f"channel.{cid}.message.commented", {"postId": pid, "commentId": cmt})
    s4 = js.publish(f"channel.{cid}.message.replied", {"commentId": cmt, "replyId": rep})
    s5 = js.publish(f"channel.{cid}.message.deleted", {"messageId": mid})
    wa.wait_type("message_updated", messageId=mid, seq=s2)
    wa.wait_type("comment_created", postId=pid, commentId=cmt, seq=s3)
    wa.wait_type("reply_created", commentId=cmt, replyId=rep, seq=s4)
    wa.wait_type("message_deleted", messageId=mid, seq=s5)
    got = [f for f in wb.collect(0.7) if f.get("channelId") == cid]
    expect(got == [], f"a non-member received channel events: {got!r}")
    js.close()
    wa.close()
    wb.close()


def test_wsd_through_apache_ws_path():
    _, ta = register()
    cid = channel(ta)
    ws = WS(token=ta, port=at.HTTP_PORT, path="/ws")
    ws.ready()
    js = JS()
    mid = oid()
    js.publish(f"channel.{cid}.message.created", {"messageId": mid})
    ws.wait_type("channel_message", messageId=mid, channelId=cid)
    js.close()
    ws.close()
    try:
        WS(port=at.HTTP_PORT, path="/ws")
        raise AssertionError("Apache /ws accepted a client without a token")
    except HandshakeError as e:
        expect(e.status == 401, f"want 401 through Apache, got {e.status}")


def test_wsd_healthz_and_metrics():
    c = http.client.HTTPConnection("127.0.0.1", at.WS_PORT, timeout=5)
    c.request("GET", "/healthz")
    r = c.getresponse()
    expect(r.status == 200, f"healthz {r.status}")
    r.read()
    _, ta = register()
    cid = channel(ta)
    ws = WS(token=ta)
    ws.ready()
    c.request("GET", "/metrics")
    r = c.getresponse()
    body = r.read().decode()
    expect(r.status == 200, f"metrics {r.status}")
    for name in ("agora_wsd_connections ", "agora_wsd_queue_drops_total",
                 "agora_wsd_replayed_events_total", "agora_wsd_nats_lag_ms_max",
                 "agora_wsd_live_consumer_up 1", "agora_wsd_live_consumer_restarts_total",
                 "agora_wsd_live_lag_sequences", "agora_wsd_live_seconds_since_event",
                 'agora_wsd_channel_sessions_bucket{le="1"} '):
        expect(name in body, f"{name!r} missing from /metrics:\n{body[:2000]}")
    # channel ids are private data: never in a label
    expect(f'"{cid}"' not in body and "channel=" not in body, f"a channel id in /metrics:\n{body}")
    ws.close()
    c.close()
