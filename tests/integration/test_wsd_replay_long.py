"""A replay longer than the session's send queue (ws_queue_max, 1024 frames) is
paced by the queue: every missed event arrives, in order, and the session is
not closed as a slow consumer (bench replay found the opposite)."""
import time

from agora_test import expect, register
from gql import channel
from wsclient import JS, WS, Closed, oid


def test_wsd_replay_longer_than_the_queue_is_paced_not_closed():
    u, tok = register()
    cid = channel(tok)
    js = JS()
    ws = WS(tok)
    ws.ready()
    first = js.publish(f"channel.{cid}.message.created", {"messageId": oid()})
    ws.wait_type("channel_message", seq=first)
    ws.send({"action": "read", "channelId": cid, "seq": first})
    time.sleep(0.3)
    ws.close()
    sent = [js.publish(f"channel.{cid}.message.created", {"messageId": oid()}) for _ in range(2500)]
    ws = WS(tok, timeout=20)
    ws.ready()
    got = []
    try:
        while len(got) < len(sent):
            f = ws.recv(timeout=10)
            expect(f is not None, f"replay stalled after {len(got)} of {len(sent)}")
            if f.get("type") == "channel_message":
                got.append(f["seq"])
    except Closed as e:
        raise AssertionError(f"session closed during the replay ({e.code} {e.reason}) after {len(got)}")
    expect(got == sent, f"every missed event, in order, once: {len(got)} vs {len(sent)}")
    ws.close()
