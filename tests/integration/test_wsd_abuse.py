"""agora-wsd under abuse: oversized frames, floods, garbage, a client that
never reads. Each is handled as specified; the daemon stays up and other
clients are unaffected."""
import http.client
import json
import socket
import time

import agora_test as at
from agora_test import expect, register
from test_wsd_basic import channel, join
from wsclient import JS, WS, Closed, oid


def healthy():
    c = http.client.HTTPConnection("127.0.0.1", at.WS_PORT, timeout=5)
    c.request("GET", "/healthz")
    r = c.getresponse()
    r.read()
    return r.status == 200


def metric(name):
    c = http.client.HTTPConnection("127.0.0.1", at.WS_PORT, timeout=5)
    c.request("GET", "/metrics")
    for line in c.getresponse().read().decode().splitlines():
        if line.startswith(name + " "):
            return int(line.split()[1])
    return None


def bystander(token, cid):
    """A well-behaved client that must keep working."""
    ws = WS(token=token)
    ws.ready()
    return ws


def check_bystander(ws, cid):
    js = JS()
    mid = oid()
    js.publish(f"channel.{cid}.message.created", {"messageId": mid})
    ws.wait(lambda f: f.get("messageId") == mid, what="bystander's event")
    js.close()


def test_wsd_oversized_frame_closes_with_1009():
    _, ta = register()
    cid = channel(ta)
    ok = bystander(ta, cid)
    ws = WS(token=ta)
    ws.ready()
    ws.send_raw(json.dumps({"action": "ping", "pad": "x" * 5000}).encode())
    try:
        ws.wait(lambda f: False, timeout=3, what="close")
        raise AssertionError("still open after an oversized frame")
    except Closed as e:
        expect(e.code == 1009, f"close code {e.code}")
    expect(healthy(), "daemon unhealthy")
    check_bystander(ok, cid)
    ok.close()


def test_wsd_garbage_json_gets_an_error_and_the_session_lives_on():
    _, ta = register()
    ws = WS(token=ta)
    ws.ready()
    for junk in (b"{not json", b"[1,2,3]", b'{"action":"nope"}', b'"str"', b'{"action":"read"}'):
        ws.send_raw(junk)
        e = ws.wait_type("error")
        expect(e.get("code") == "bad_request", f"{junk!r}: {e!r}")
    ws.send_raw(b"\x00\x01\x02", opcode=2)
    ws.wait_type("error", code="bad_request")
    ws.send({"action": "ping"})
    ws.wait_type("pong")
    ws.close()


def test_wsd_frame_flood_is_rate_limited_and_others_unaffected():
    _, ta = register()
    cid = channel(ta)
    ok = bystander(ta, cid)
    ws = WS(token=ta)
    ws.ready()
    before = metric("agora_wsd_rate_limited_total") or 0
    for _ in range(500):
        ws.send({"action": "ping"})
    frames = ws.collect(1.5)
    pongs = sum(1 for f in frames if f.get("type") == "pong")
    errs = [f for f in frames if f.get("type") == "error" and f.get("code") == "rate_limited"]
    expect(errs, "no rate_limited error after a flood")
    expect(pongs < 100, f"{pongs} pongs answered out of 500: no rate limit")
    expect((metric("agora_wsd_rate_limited_total") or 0) > before, "metric not counted")
    check_bystander(ok, cid)
    time.sleep(1.1)
    ws.send({"action": "ping"})
    ws.wait_type("pong")
    ws.close()
    ok.close()


def test_wsd_client_that_never_reads_is_closed_others_unaffected():
    a, ta = register()
    b, tb = register()
    cid = channel(ta)
    join(tb, cid, b["id"])
    ok = bystander(ta, cid)
    slow = WS(token=tb, rcvbuf=4096)
    slow.ready()
    before = metric("agora_wsd_slow_closes_total") or 0
    # many non-droppable frames in one burst; the slow client reads none of them
    n = 150000
    body = json.dumps({"channelId": cid}).encode()
    one = f"PUB channel.{cid}.updated {len(body)}\r\n".encode() + body + b"\r\n"
    s = socket.create_connection(("127.0.0.1", at.NATS_PORT), timeout=10)
    s.recv(4096)
    s.sendall(b'CONNECT {"verbose":false}\r\n' + one * n + b"PING\r\n")
    got = 0
    deadline = time.monotonic() + 30
    while got < n and time.monotonic() < deadline:
        f = ok.recv(1)
        if f and f.get("type") == "channel_updated":
            got += 1
    s.close()
    expect(got == n, f"the reading client got {got} of {n} frames")
    at.eventually(lambda: (metric("agora_wsd_slow_closes_total") or 0) > before, timeout=10,
                  what="slow consumer closed")
    expect(healthy(), "daemon unhealthy")
    check_bystander(ok, cid)
    ok.close()
    slow.sock.close()
