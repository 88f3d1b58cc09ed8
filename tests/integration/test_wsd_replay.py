"""agora-wsd: replay after reconnect from lastRead (flow C), the hand-over to
live delivery without gaps or duplicates, gap frames when the stream lost
events, and two daemons on one NATS."""
import http.client
import os
import signal
import subprocess
import threading
import time

import agora_test as at
from agora_test import eventually, expect, redis_cli, register
from test_wsd_basic import channel
from wsclient import JS, WS, oid


def lastread(uid, cid):
    return redis_cli("GET", f"lastRead:user:{uid}:channel:{cid}")


def test_wsd_replay_after_reconnect_exact_set_then_live():
    a, ta = register()
    cid = channel(ta)
    other = channel(ta)
    js = JS()
    ws = WS(token=ta)
    ws.ready()
    m1 = oid()
    s1 = js.publish(f"channel.{cid}.message.created", {"messageId": m1})
    ws.wait_type("channel_message", messageId=m1)
    ws.send({"action": "read", "channelId": cid, "seq": s1})
    eventually(lambda: lastread(a["id"], cid) == str(s1), what="lastRead stored")
    ws.send({"action": "read", "channelId": cid, "seq": max(1, s1 - 1)})
    time.sleep(0.3)
    expect(lastread(a["id"], cid) == str(s1), "lastRead moved backwards")
    ws.close()
    # missed while offline, interleaved with another channel's events
    missed = []
    for i in range(5):
        m = oid()
        missed.append((js.publish(f"channel.{cid}.message.created", {"messageId": m}), m))
        js.publish(f"channel.{other}.message.created", {"messageId": oid()})
    ws = WS(token=ta)
    ws.ready()
    got = []
    deadline = time.monotonic() + 8
    while len(got) < len(missed) and time.monotonic() < deadline:
        f = ws.recv(0.5)
        if f and f.get("type") == "channel_message" and f.get("channelId") == cid:
            got.append((f["seq"], f["messageId"]))
    expect(got == missed, f"replay: want {missed!r}, got {got!r}")
    extra = [f for f in ws.collect(0.7) if f.get("channelId") == cid]
    expect(extra == [], f"duplicates after replay: {extra!r}")
    m = oid()
    s = js.publish(f"channel.{cid}.message.created", {"messageId": m})
    ws.wait_type("channel_message", messageId=m, seq=s)
    ws.close()
    js.close()


def test_wsd_replay_hands_over_to_live_during_a_burst_without_gap_or_dup():
    a, ta = register()
    cid = channel(ta)
    js = JS()
    s0 = js.publish(f"channel.{cid}.message.created", {"messageId": oid()})
    redis_cli("SET", f"lastRead:user:{a['id']}:channel:{cid}", s0)
    before = [js.publish(f"channel.{cid}.message.created", {"messageId": oid()}) for _ in range(30)]
    during = []

    def burst():
        j2 = JS()
        for _ in range(60):
            during.append(j2.publish(f"channel.{cid}.message.created", {"messageId": oid()}))
        j2.close()

    t = threading.Thread(target=burst)
    t.start()
    ws = WS(token=ta)
    ws.ready()
    t.join()
    want = before + during
    seqs = []
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and len(seqs) < len(want):
        f = ws.recv(0.5)
        if f and f.get("type") == "channel_message" and f.get("channelId") == cid:
            seqs.append(f["seq"])
    seqs += [f["seq"] for f in ws.collect(0.5) if f.get("channelId") == cid]
    expect(len(seqs) == len(set(seqs)), f"duplicates: {sorted(seqs)!r}")
    expect(sorted(seqs) == sorted(want), f"missing {sorted(set(want) - set(seqs))!r}, "
           f"extra {sorted(set(seqs) - set(want))!r}")
    expect(seqs == sorted(seqs), f"out of order: {seqs!r}")
    ws.close()
    js.close()


def test_wsd_gap_when_the_stream_no_longer_holds_events_after_the_offset():
    a, ta = register()
    cid = channel(ta)
    js = JS()
    s1 = js.publish(f"channel.{cid}.message.created", {"messageId": oid()})
    redis_cli("SET", f"lastRead:user:{a['id']}:channel:{cid}", s1)
    lost = [js.publish(f"channel.{cid}.message.created", {"messageId": oid()}) for _ in range(3)]
    # retention caught up: everything before the next sequence is gone
    r = js.api("$JS.API.STREAM.PURGE.CHANNEL_STREAM", {"seq": lost[-1] + 1})
    expect(r.get("success") is True, f"purge: {r!r}")
    kept = oid()
    sk = js.publish(f"channel.{cid}.message.created", {"messageId": kept})
    ws = WS(token=ta)
    ws.ready()
    g = ws.wait_type("gap", channelId=cid)
    expect(g["fromSeq"] == s1 + 1 and g["toSeq"] == lost[-1],
           f"gap {g!r}, want {s1 + 1}..{lost[-1]}")
    ws.wait_type("channel_message", messageId=kept, seq=sk)
    ws.close()
    js.close()


def start_second_daemon(port, env=None, name="wsd2"):
    """Another agora-wsd on the same NATS, Redis and PostgreSQL, on `port`, with extra
    AGORA_* settings from env; stopped (SIGTERM) after the test."""
    pidfile = os.path.join(at.VAR, "run", name + ".pid")
    log = open(os.path.join(at.VAR, "logs", name + ".log"), "ab")
    env = dict(os.environ, AGORA_WS_PORT=str(port), **(env or {}))
    p = subprocess.Popen([os.path.join(at.BUILD, "wsd", "agora-wsd"), "--pidfile", pidfile],
                         env=env, stdout=log, stderr=log, stdin=subprocess.DEVNULL)
    log.close()

    def healthy():
        try:
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
            c.request("GET", "/healthz")
            return c.getresponse().status == 200
        except OSError:
            return False

    def stop():
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
            try:
                p.wait(10)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
    at.on_cleanup(stop)
    eventually(healthy, timeout=15, what="second agora-wsd healthy")
    return p, stop


def test_wsd_two_daemons_on_one_nats():
    port = at.WS_PORT + 5 + 100  # clear of the stack's ports
    p, stop = start_second_daemon(port)
    a, ta = register()
    b, tb = register()
    cid = channel(ta)
    from test_wsd_basic import join
    join(tb, cid, b["id"])
    wa = WS(token=ta)
    wb = WS(token=tb, port=port)
    wa.ready()
    wb.ready()
    js = JS()
    mid = oid()
    js.publish(f"channel.{cid}.message.created", {"messageId": mid})
    wa.wait_type("channel_message", messageId=mid)
    wb.wait_type("channel_message", messageId=mid)
    wa.send({"action": "typing", "channelId": cid})
    wb.wait_type("user_typing", channelId=cid, userId=a["id"])
    wb.close()
    wa.close()
    js.close()
    stop()
    expect(p.returncode == 0, f"second daemon exit status {p.returncode} on SIGTERM")
