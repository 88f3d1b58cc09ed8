"""agora-wsd: typing (flow D), presence, member and entity events, DMs and
notifications with acks (CONTRACT §4)."""
import time

from agora_test import api, expect, register
from test_wsd_basic import channel, join
from wsclient import JS, WS, oid


def test_wsd_typing_reaches_others_not_self_and_is_rate_limited():
    a, ta = register()
    b, tb = register()
    _, tc = register()
    cid = channel(ta)
    join(tb, cid, b["id"])
    wa, wb, wc = WS(token=ta), WS(token=tb), WS(token=tc)
    for w in (wa, wb, wc):
        w.ready()
    wa.send({"action": "typing", "channelId": cid})
    f = wb.wait_type("user_typing", channelId=cid)
    expect(f == {"type": "user_typing", "channelId": cid, "userId": a["id"]}, f"frame {f!r}")
    # a second one within typing_interval_ms is coalesced
    wa.send({"action": "typing", "channelId": cid})
    more = [f for f in wb.collect(0.8) if f.get("type") == "user_typing"]
    expect(more == [], f"rate limit let through {more!r}")
    own = [f for f in wa.collect(0.1) if f.get("type") == "user_typing"]
    expect(own == [], f"the typist got its own typing: {own!r}")
    time.sleep(1.4)
    wa.send({"action": "typing", "channelId": cid})
    wb.wait_type("user_typing", channelId=cid, timeout=3)
    # a non-member gets an error and nobody hears it
    wc.send({"action": "typing", "channelId": cid})
    e = wc.wait_type("error")
    expect(e.get("code") == "forbidden", f"non-member typing: {e!r}")
    leaked = [f for f in wb.collect(0.5) if f.get("type") == "user_typing"]
    expect(leaked == [], f"non-member typing delivered: {leaked!r}")
    for w in (wa, wb, wc):
        w.close()


def test_wsd_presence_online_then_offline_after_grace():
    a, ta = register()
    b, tb = register()
    cid = channel(ta)
    join(tb, cid, b["id"])
    wa = WS(token=ta)
    wa.ready()
    wb = WS(token=tb)
    wb.ready()
    f = wa.wait_type("presence", userId=b["id"])
    expect(f["status"] == "online", f"want online: {f!r}")
    wb.close()
    t0 = time.monotonic()
    f = wa.wait_type("presence", userId=b["id"], timeout=20)
    expect(f["status"] == "offline", f"want offline: {f!r}")
    waited = time.monotonic() - t0
    expect(waited > 5, f"offline after {waited:.1f}s: the grace period (10 s) was not kept")
    wa.close()


def test_wsd_member_join_and_leave_take_effect_without_reconnect():
    a, ta = register()
    b, tb = register()
    cid = channel(ta)
    wb = WS(token=tb)
    wb.ready()
    wa = WS(token=ta)
    wa.ready()
    js = JS()
    join(tb, cid, b["id"])
    f = wa.wait_type("member_joined", channelId=cid)
    expect(f["userId"] == b["id"], f"member_joined: {f!r}")
    wb.wait_type("member_joined", channelId=cid, userId=b["id"])
    mid = oid()
    js.publish(f"channel.{cid}.message.created", {"messageId": mid})
    wb.wait_type("channel_message", messageId=mid)
    # channel_updated and user_updated
    r = api("PATCH", f"/channels/{cid}", {"topic": "new topic"}, token=ta)
    expect(r.status == 200, f"patch channel: {r!r}")
    wb.wait_type("channel_updated", channelId=cid)
    r = api("PATCH", f"/users/{a['id']}", {"bio": "hello"}, token=ta)
    expect(r.status == 200, f"patch user: {r!r}")
    wb.wait_type("user_updated", userId=a["id"])
    wa.wait_type("user_updated", userId=a["id"])
    r = api("DELETE", f"/channels/{cid}/members/{b['id']}", token=tb)
    expect(r.status == 204, f"leave: {r!r}")
    wa.wait_type("member_left", channelId=cid, userId=b["id"])
    mid2 = oid()
    js.publish(f"channel.{cid}.message.created", {"messageId": mid2})
    wa.wait_type("channel_message", messageId=mid2)
    got = [f for f in wb.collect(0.7) if f.get("messageId") == mid2]
    expect(got == [], f"after leaving, still delivered: {got!r}")
    js.close()
    wa.close()
    wb.close()


def test_wsd_dm_to_offline_user_delivered_on_connect_and_not_again_after_ack():
    a, _ = register()
    b, tb = register()
    js = JS()
    mid = oid()
    seq = js.publish(f"user.{b['id']}.dm", {"messageId": mid, "from": a["id"]})
    wb = WS(token=tb)
    wb.ready()
    f = wb.wait_type("dm", messageId=mid)
    expect(f == {"type": "dm", "from": a["id"], "messageId": mid, "seq": seq}, f"dm {f!r}")
    wb.send({"action": "ack", "stream": "dm", "seq": seq})
    time.sleep(0.3)
    wb.close()
    wb = WS(token=tb)
    wb.ready()
    again = [f for f in wb.collect(1.5) if f.get("type") == "dm"]
    expect(again == [], f"acked DM delivered again: {again!r}")
    # unacked: redelivered on the next connection
    mid2 = oid()
    seq2 = js.publish(f"user.{b['id']}.dm", {"messageId": mid2, "from": a["id"]})
    wb.wait_type("dm", messageId=mid2, seq=seq2)
    wb.close()
    wb = WS(token=tb)
    wb.ready()
    wb.wait_type("dm", messageId=mid2, seq=seq2)
    wb.send({"action": "ack", "stream": "dm", "seq": seq2})
    wb.close()
    js.close()


def test_wsd_dm_and_notification_reach_both_sessions_of_a_user():
    a, _ = register()
    b, tb = register()
    w1, w2 = WS(token=tb), WS(token=tb)
    w1.ready()
    w2.ready()
    time.sleep(0.5)  # the durable consumers are bound on a worker after connect
    js = JS()
    mid = oid()
    seq = js.publish(f"user.{b['id']}.dm", {"messageId": mid, "from": a["id"]})
    w1.wait_type("dm", messageId=mid, seq=seq)
    w2.wait_type("dm", messageId=mid, seq=seq)
    nseq = js.publish(f"user.{b['id']}.notify.new_follower",
                      {"kind": "new_follower", "userId": a["id"], "notificationId": "1"})
    for w in (w1, w2):
        f = w.wait_type("notification", seq=nseq)
        expect(f == {"type": "notification", "kind": "new_follower", "userId": a["id"],
                     "seq": nseq}, f"notification {f!r}")
    w1.send({"action": "ack", "stream": "dm", "seq": seq})
    w1.send({"action": "ack", "stream": "notify", "seq": nseq})
    js.close()
    w1.close()
    w2.close()
