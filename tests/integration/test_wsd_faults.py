"""agora-wsd keeps open sessions whole when what is behind it fails (issue: open
sessions survive any single server fault): the live consumer deleted under it,
a replay that cannot run, a membership removal whose event was lost, a token
that expires or an account deleted while its sessions are open, a user with
sessions on two daemons (DMs, notifications, acks and read_state reach both),
and one user's replays never holding up another user's connect."""
import http.client
import os
import sys
import time

import agora_test as at
from agora_test import api, eventually, expect, on_cleanup, register
from test_rest_auth import _key, _sign
from test_wsd_basic import channel, join
from wsclient import JS, WS, Closed, oid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from test_wsd_replay import start_second_daemon  # noqa: E402


def metric(name, port=None):
    c = http.client.HTTPConnection("127.0.0.1", port or at.WS_PORT, timeout=5)
    c.request("GET", "/metrics")
    for line in c.getresponse().read().decode().splitlines():
        if line.startswith(name + " "):
            return int(float(line.split()[1]))
    return None


def live_consumers(js):
    """The push consumers of CHANNEL_STREAM that are not durable: the daemons' live ones."""
    r = js.api("$JS.API.CONSUMER.LIST.CHANNEL_STREAM", {})
    return [c["name"] for c in r.get("consumers") or []
            if not c["config"].get("durable_name") and c["config"].get("deliver_subject")]


def messages(ws, cid, want, timeout):
    """channel_message frames of cid until `want` message ids are in, or timeout: {id: seq}."""
    got = {}
    deadline = time.monotonic() + timeout
    while set(want) - set(got) and time.monotonic() < deadline:
        f = ws.recv(0.5)
        if f and f.get("type") == "channel_message" and f["channelId"] == cid:
            expect(f["messageId"] not in got, f"the same message twice: {f!r}")
            got[f["messageId"]] = f["seq"]
    return got


def test_wsd_live_consumer_deleted_under_it_is_recreated_within_seconds_without_loss():
    a, ta = register()
    cid = channel(ta)
    ws = WS(token=ta)
    ws.ready()
    js = JS()
    restarts = metric("agora_wsd_live_consumer_restarts_total")
    before = [oid() for _ in range(3)]
    for mid in before:
        js.publish(f"channel.{cid}.message.created", {"messageId": mid})
    expect(len(messages(ws, cid, before, 5)) == 3, "delivery before the fault")
    names = live_consumers(js)
    expect(names, "the daemon's live consumer is on CHANNEL_STREAM")
    for n in names:   # an operator (or a lost server) removes it
        js.api(f"$JS.API.CONSUMER.DELETE.CHANNEL_STREAM.{n}", {})
    after = []
    for _ in range(10):
        mid = oid()
        js.publish(f"channel.{cid}.message.created", {"messageId": mid})
        after.append(mid)
        time.sleep(0.1)
    # a few seconds: three missed heartbeats of ws_live_heartbeat_ms (1 s), then recreated
    got = messages(ws, cid, after, 8)
    expect(set(after) <= set(got), f"{len(set(after) - set(got))} of {len(after)} events never "
           f"arrived on the open session after the live consumer was deleted")
    seqs = [got[m] for m in after]
    expect(seqs == sorted(seqs), f"in order: {seqs}")
    expect(metric("agora_wsd_live_consumer_restarts_total") > restarts, "the restart is counted")
    ws.close()
    js.close()


def test_wsd_replay_that_cannot_run_ends_in_a_gap_not_a_silent_hole():
    a, ta = register()
    cid = channel(ta)
    js = JS()
    s1 = js.publish(f"channel.{cid}.message.created", {"messageId": oid()})
    at.redis_cli("SET", f"lastRead:user:{a['id']}:channel:{cid}", s1)
    js.publish(f"channel.{cid}.message.created", {"messageId": oid()})
    js.close()
    at.svc("stop", "nats")
    on_cleanup(lambda: at.svc("start", "nats"))
    ws = WS(token=ta)
    ws.ready()   # subscriptions and offsets come from Redis and PostgreSQL: no NATS needed
    # the replay is retried while NATS is down (0.5 + 1 + 2 + 4 s), then the client is told
    g = ws.wait_type("gap", timeout=20, channelId=cid)
    expect(g["fromSeq"] == s1 + 1 and g["toSeq"] >= g["fromSeq"], f"gap from the offset on: {g!r}")
    at.svc("start", "nats")
    ws.close()


def test_wsd_membership_removed_while_nats_was_down_still_stops_delivery():
    owner, to = register()
    b, tb = register()
    cid = channel(to)
    join(tb, cid, b["id"])
    wo, wb = WS(token=to), WS(token=tb)
    wo.ready()
    wb.ready()
    at.svc("stop", "nats")
    on_cleanup(lambda: at.svc("start", "nats"))
    # the owner removes b: PostgreSQL and Redis change, the core NATS events are lost
    r = api("DELETE", f"/channels/{cid}/members/{b['id']}", token=to)
    expect(r.status == 204, f"remove: {r!r}")
    at.svc("start", "nats")
    # after the reconnect the daemon reads memberships again and detaches b
    f = wb.wait_type("member_left", timeout=15, channelId=cid, userId=b["id"])
    expect(f, "b is told")
    js = JS()
    mid = oid()
    js.publish(f"channel.{cid}.message.created", {"messageId": mid})
    wo.wait_type("channel_message", messageId=mid)
    leaked = [x for x in wb.collect(1.0) if x.get("type") == "channel_message"]
    expect(not leaked, f"a removed member still receives the channel: {leaked!r}")
    js.close()
    wo.close()
    wb.close()


def test_wsd_session_closes_when_its_token_expires():
    u, _ = register()
    now = int(time.time())
    tok = _sign({"alg": "HS256", "typ": "JWT"},
                {"sub": u["id"], "iat": now, "exp": now + 3, "iss": "agora"}, _key())
    ws = WS(token=tok)
    ws.ready()
    try:
        ws.wait(lambda f: False, timeout=8, what="close")
    except Closed as e:
        expect(e.code == 4001, f"closed with 4001 (sign in again): {e.code} {e.reason!r}")
        return
    except AssertionError:
        pass
    raise AssertionError("a session outlived its token")


def test_wsd_deleted_account_sessions_close_and_its_token_opens_none():
    u, tok = register()
    ws = WS(token=tok)
    ws.ready()
    r = api("DELETE", f"/users/{u['id']}", token=tok)
    expect(r.status == 204, f"delete: {r!r}")
    try:
        ws.wait(lambda f: False, timeout=8, what="close")
        raise AssertionError("the deleted account's session stayed open")
    except Closed as e:
        expect(e.code == 4001, f"closed with 4001: {e.code}")
    # the token is still well signed and unexpired: the daemon checks the account
    ws = WS(token=tok)
    try:
        f = ws.recv(timeout=8)
        raise AssertionError(f"a deleted account's token opened a session: {f!r}")
    except Closed as e:
        expect(e.code == 4001, f"refused with 4001 before any event: {e.code}")


def test_wsd_user_with_sessions_on_two_daemons_gets_every_dm_on_both_and_one_ack_is_enough():
    port = at.WS_PORT + 5 + 110
    start_second_daemon(port, name="wsd-2dev")
    a, _ = register()
    b, tb = register()
    w1, w2 = WS(token=tb), WS(token=tb, port=port)
    w1.ready()
    w2.ready()
    time.sleep(0.5)  # the durable consumers are created by a job after connect
    js = JS()
    for k in range(3):
        mid = oid()
        seq = js.publish(f"user.{b['id']}.dm", {"messageId": mid, "from": a["id"]})
        for w in (w1, w2):
            w.wait_type("dm", messageId=mid, seq=seq)
    nseq = js.publish(f"user.{b['id']}.notify.new_follower",
                      {"kind": "new_follower", "userId": a["id"], "notificationId": "1"})
    for w in (w1, w2):
        w.wait_type("notification", seq=nseq)
    # acked on the first device only: acked for the user
    for f in w1.frames:
        if f.get("type") in ("dm", "notification"):
            w1.send({"action": "ack", "stream": "dm" if f["type"] == "dm" else "notify", "seq": f["seq"]})
    time.sleep(0.5)
    w1.close()
    w2.close()
    w3 = WS(token=tb, port=port)
    w3.ready()
    again = [f for f in w3.collect(2.0) if f.get("type") in ("dm", "notification")]
    expect(not again, f"acked on one device, redelivered to another: {again!r}")
    mid = oid()
    seq = js.publish(f"user.{b['id']}.dm", {"messageId": mid, "from": a["id"]})
    w3.wait_type("dm", messageId=mid, seq=seq)
    w3.close()
    js.close()


def test_wsd_read_on_one_device_reaches_the_other_as_read_state_across_daemons():
    port = at.WS_PORT + 5 + 111
    start_second_daemon(port, name="wsd-rs")
    u, tu = register()
    cid = channel(tu)
    w1, w2 = WS(token=tu), WS(token=tu, port=port)
    w1.ready()
    w2.ready()
    js = JS()
    mid = oid()
    seq = js.publish(f"channel.{cid}.message.created", {"messageId": mid})
    w1.wait_type("channel_message", messageId=mid)
    w2.wait_type("channel_message", messageId=mid)
    w1.send({"action": "read", "channelId": cid, "seq": seq})
    f = w2.wait_type("read_state", channelId=cid)
    expect(f == {"type": "read_state", "channelId": cid, "seq": seq}, f"read_state {f!r}")
    mine = [x for x in w1.collect(1.0) if x.get("type") == "read_state"]
    expect(not mine, f"the reading session is not told its own read: {mine!r}")
    # an older offset is not news: offsets only move forward
    w2.send({"action": "read", "channelId": cid, "seq": seq - 1 if seq > 1 else seq})
    old = [x for x in w1.collect(1.0) if x.get("type") == "read_state"]
    expect(not old, f"read_state for an offset that did not move: {old!r}")
    js.close()
    w1.close()
    w2.close()


def test_wsd_one_users_long_replays_do_not_hold_up_another_users_connect():
    """A user whose 16 sessions each replay two long channels must not make another
    user's connect wait for them: when the other user's ready arrives, most of the first
    user's replay must still be ahead (the daemon's own counter, not a clock)."""
    import threading
    a, ta = register()
    js = JS()
    per_channel = 1500
    for _ in range(2):
        cid = channel(ta)
        first = None
        for _ in range(per_channel):
            s = js.publish(f"channel.{cid}.message.created", {"messageId": oid()})
            first = first or s
        at.redis_cli("SET", f"lastRead:user:{a['id']}:channel:{cid}", first - 1)
    js.close()
    total = 16 * 2 * per_channel
    before = metric("agora_wsd_replayed_events_total")
    socks = [WS(token=ta) for _ in range(16)]
    for s in socks:
        s.ready(timeout=30)    # each session's replays are queued by now
    stop = threading.Event()

    def drain(ws):             # read like a client, so pacing does not hold replays back
        while not stop.is_set():
            try:
                ws.recv(0.2)
                ws.frames.clear()
            except (OSError, Closed):
                return
    readers = [threading.Thread(target=drain, args=(s,), daemon=True) for s in socks]
    for t in readers:
        t.start()
    b, tb = register()
    wb = WS(token=tb)
    wb.ready(timeout=60)
    done = metric("agora_wsd_replayed_events_total") - before
    stop.set()
    print(f"    at the other user's ready: {done} of {total} replay frames sent")
    expect(done < total / 2, f"the other user's connect waited for {done} of {total} replayed events")
    for t in readers:
        t.join()
    for s in socks:
        s.close()
    wb.close()


def test_wsd_metrics_are_for_operators_only():
    # through Apache (what the internet reaches): never the metrics
    r = at.request("GET", "/ws/metrics")
    expect(b"agora_wsd_" not in (r.body or b""), f"/metrics through Apache: {r.status}")
    # a request a proxy relayed (X-Forwarded-For) is not a local operator's
    c = http.client.HTTPConnection("127.0.0.1", at.WS_PORT, timeout=5)
    c.request("GET", "/metrics", headers={"X-Forwarded-For": "203.0.113.9"})
    r0 = c.getresponse()
    expect(r0.status == 403 and b"agora_wsd_" not in r0.read(), f"relayed request: {r0.status}")
    c.close()
    # with a token configured: only the bearer of it
    port = at.WS_PORT + 5 + 112
    start_second_daemon(port, {"AGORA_WS_METRICS_TOKEN": "s3cret-metrics"}, name="wsd-mt")
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    c.request("GET", "/metrics")
    r1 = c.getresponse()
    r1.read()
    expect(r1.status == 403, f"no token: {r1.status}")
    c.request("GET", "/metrics", headers={"Authorization": "Bearer wrong"})
    r2 = c.getresponse()
    r2.read()
    expect(r2.status == 403, f"wrong token: {r2.status}")
    c.request("GET", "/metrics", headers={"Authorization": "Bearer s3cret-metrics"})
    r3 = c.getresponse()
    body = r3.read().decode()
    expect(r3.status == 200 and "agora_wsd_connections" in body, f"with the token: {r3.status}")
    c.close()
