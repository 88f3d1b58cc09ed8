"""agora-wsd when things break: read offsets that survive losing Redis (kept in
PostgreSQL too), presence that survives a crashed daemon (per-instance lease),
the per-user connection limit, heartbeats that drop a dead peer, and a
PostgreSQL restart under open sessions (issue 5 items 3 and 8)."""
import http.client
import os
import signal
import socket
import subprocess
import time

import agora_test as at
from agora_test import eventually, expect, redis_cli, register, svc
from test_wsd_basic import channel, join
from test_wsd_replay import start_second_daemon
from wsclient import JS, WS, HandshakeError, oid

PSQL = "/usr/lib/postgresql/15/bin/psql"


def psql(sql):
    return subprocess.run([PSQL, "-X", "-q", "-h", "127.0.0.1", "-p", str(at.PG_PORT), "-U",
                           "agora", "-d", "agora", "-tAc", sql], check=True,
                          capture_output=True, text=True).stdout.strip()


def db_offset(uid, cid):
    return psql(f"SELECT seq FROM ws_read_offsets WHERE user_id = {int(uid)} "
                f"AND channel_id = {int(cid)}")


def metric(port, name):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
    c.request("GET", "/metrics")
    for line in c.getresponse().read().decode().splitlines():
        if line.startswith(name + " "):
            return int(line.split()[1])
    return None


def channel_messages(ws, cid, want, timeout=8):
    got = []
    deadline = time.monotonic() + timeout
    while len(got) < want and time.monotonic() < deadline:
        f = ws.recv(0.5)
        if f and f.get("type") == "channel_message" and f.get("channelId") == cid:
            got.append((f["seq"], f["messageId"]))
    return got


def test_wsd_read_offsets_survive_a_redis_flush_and_replay_from_postgres():
    a, ta = register()
    cid = channel(ta)
    js = JS()
    ws = WS(token=ta)
    ws.ready()
    m1 = oid()
    s1 = js.publish(f"channel.{cid}.message.created", {"messageId": m1})
    ws.wait_type("channel_message", messageId=m1)
    ws.send({"action": "read", "channelId": cid, "seq": s1})
    eventually(lambda: db_offset(a["id"], cid) == str(s1), what="offset kept in PostgreSQL")
    # monotonic in PostgreSQL as in Redis
    ws.send({"action": "read", "channelId": cid, "seq": max(1, s1 - 1)})
    ws.send({"action": "ping"})
    ws.wait_type("pong")
    time.sleep(0.3)
    expect(db_offset(a["id"], cid) == str(s1), "the PostgreSQL offset moved backwards")
    ws.close()
    # Redis loses everything (the test stack's Redis is not persistent)
    redis_cli("FLUSHALL")
    missed = []
    for _ in range(4):
        m = oid()
        missed.append((js.publish(f"channel.{cid}.message.created", {"messageId": m}), m))
    ws = WS(token=ta)
    ws.ready(timeout=10)
    got = channel_messages(ws, cid, len(missed))
    expect(got == missed, f"replay from the PostgreSQL offset: want {missed!r}, got {got!r}")
    extra = [f for f in ws.collect(0.7) if f.get("channelId") == cid]
    expect(extra == [], f"duplicates after replay: {extra!r}")
    # the offset went back into Redis for the next connect
    expect(redis_cli("GET", f"lastRead:user:{a['id']}:channel:{cid}") == str(s1),
           "offset not restored into Redis")
    ws.close()
    js.close()


def test_wsd_without_any_offset_delivery_starts_live_after_a_redis_flush():
    _, ta = register()
    cid = channel(ta)
    js = JS()
    js.publish(f"channel.{cid}.message.created", {"messageId": oid()})
    redis_cli("FLUSHALL")
    ws = WS(token=ta)
    ws.ready(timeout=10)
    old = [f for f in ws.collect(0.8) if f.get("channelId") == cid]
    expect(old == [], f"no offset anywhere: nothing to replay, got {old!r}")
    m = oid()
    js.publish(f"channel.{cid}.message.created", {"messageId": m})
    ws.wait_type("channel_message", messageId=m)
    ws.close()
    js.close()


def test_wsd_presence_goes_offline_when_a_daemon_is_killed():
    port = at.WS_PORT + 5 + 101
    p, _ = start_second_daemon(port, {"AGORA_WS_INSTANCE_TTL_MS": "2000"}, name="wsd-crash")
    a, ta = register()
    b, tb = register()
    cid = channel(ta)
    join(tb, cid, b["id"])
    wa = WS(token=ta)
    wa.ready()
    wb = WS(token=tb, port=port)
    wb.ready()
    f = wa.wait_type("presence", userId=b["id"], timeout=10)
    expect(f["status"] == "online", f"want online: {f!r}")
    p.send_signal(signal.SIGKILL)   # no close frames, no offline, no lease given back
    p.wait(5)
    t0 = time.monotonic()
    f = wa.wait_type("presence", userId=b["id"], timeout=25)
    expect(f["status"] == "offline", f"want offline after the crash: {f!r}")
    print(f"    offline {time.monotonic() - t0:.1f}s after SIGKILL")
    expect(redis_cli("SCARD", f"presence:user:{b['id']}") == "0", "presence set not emptied")
    # the user comes back on a live daemon: online again
    wb2 = WS(token=tb)
    wb2.ready()
    f = wa.wait_type("presence", userId=b["id"], timeout=10)
    expect(f["status"] == "online", f"want online again: {f!r}")
    wb2.close()
    wa.close()


def test_wsd_connections_per_user_over_the_limit_get_429():
    port = at.WS_PORT + 5 + 102
    start_second_daemon(port, {"AGORA_WS_CONN_PER_USER": "2"}, name="wsd-limit")
    _, ta = register()
    _, tb = register()
    w1, w2 = WS(token=ta, port=port), WS(token=ta, port=port)
    w1.ready()
    w2.ready()
    try:
        WS(token=ta, port=port).close()
        raise AssertionError("a third session of the user was accepted")
    except HandshakeError as e:
        expect(e.status == 429, f"want HTTP 429, got {e.status}")
    # another user is not affected
    wb = WS(token=tb, port=port)
    wb.ready()
    # a slot frees when a session closes
    w1.close()

    def third():
        try:
            w = WS(token=ta, port=port)
        except HandshakeError:
            return None
        w.ready()
        return w
    w3 = eventually(third, timeout=5, interval=0.1, what="a session after one closed")
    w3.close()
    w2.close()
    wb.close()


def test_wsd_heartbeat_drops_a_peer_that_stops_answering_pings():
    port = at.WS_PORT + 5 + 103
    start_second_daemon(port, {"AGORA_WS_HEARTBEAT_MS": "1000"}, name="wsd-hb")
    _, ta = register()
    _, tb = register()
    dead = WS(token=ta, port=port)
    f = dead.ready()
    expect(f.get("heartbeatMs") == 1000, f"heartbeatMs {f!r}")
    live = WS(token=tb, port=port)
    live.ready()
    expect(metric(port, "agora_wsd_connections") == 2, "two sessions open")
    # `dead` never reads again, so never answers a ping; `live` answers them
    t0 = time.monotonic()
    deadline = t0 + 20
    while time.monotonic() < deadline and metric(port, "agora_wsd_connections") != 1:
        live.collect(0.5)
    took = time.monotonic() - t0
    expect(metric(port, "agora_wsd_connections") == 1, "the silent peer was not dropped")
    expect(took > 1.5, f"dropped after {took:.1f}s: before any ping could be missed")
    print(f"    silent peer dropped after {took:.1f}s")
    # the socket of the silent peer is closed by the server
    dead.sock.settimeout(3)
    eof = False
    try:
        while not eof:
            eof = dead.sock.recv(65536) == b""
    except ConnectionResetError:
        eof = True
    except socket.timeout:
        pass
    expect(eof, "the silent peer's socket is still open")
    dead.sock.close()
    live.send({"action": "ping"})
    live.wait_type("pong")
    live.close()


def test_wsd_postgres_restart_with_sessions_open():
    a, ta = register()
    cid = channel(ta)
    js = JS()
    ws = WS(token=ta)
    ws.ready()
    svc("stop", "postgres")
    at.on_cleanup(lambda: svc("start", "postgres"))
    # live delivery needs no database
    m = oid()
    s = js.publish(f"channel.{cid}.message.created", {"messageId": m})
    ws.wait_type("channel_message", messageId=m)
    svc("start", "postgres")
    # the subscriptions must be rebuilt from PostgreSQL through the workers'
    # (reconnected) connections
    redis_cli("DEL", f"user:{a['id']}:subs", f"user:{a['id']}:subs:built")
    ws2 = WS(token=ta)
    ws2.ready(timeout=10)
    m2 = oid()
    s2 = js.publish(f"channel.{cid}.message.created", {"messageId": m2})
    ws2.wait_type("channel_message", messageId=m2, seq=s2)
    ws.wait_type("channel_message", messageId=m2, seq=s2)
    # offsets reach PostgreSQL again
    ws2.send({"action": "read", "channelId": cid, "seq": s2})
    eventually(lambda: db_offset(a["id"], cid) == str(s2), what="offset written after restart")
    expect(s2 > s, "sequence")
    ws2.close()
    ws.close()
    js.close()
