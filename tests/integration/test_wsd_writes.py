"""agora-wsd's write path and its worker processes: frames are written from the
loop before it sleeps, and a socket that takes only part of a write leaves the
rest with lws until it drains (wsd/conn.c); ws_workers processes share one
listening socket under a supervisor (wsd/listen.c)."""
import http.client
import json
import os
import signal
import socket
import struct
import time

import agora_test as at
from agora_test import eventually, expect, register
from test_wsd_basic import channel, join
from test_wsd_replay import start_second_daemon
from wsclient import WS, Closed, oid


def metric(port, name):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    c.request("GET", "/metrics")
    for line in c.getresponse().read().decode().splitlines():
        if line.startswith(name + " "):
            return int(float(line.split()[1]))
    return None


def bulk_publish(cid, mids):
    """Every event of mids to CHANNEL_STREAM in one pipelined burst, then the stream's
    acks of all of them; returns their sequences in publish order."""
    s = socket.create_connection(("127.0.0.1", at.NATS_PORT), timeout=30)
    s.recv(4096)
    inbox = "_INBOX.bulk" + os.urandom(6).hex()
    out = [b'CONNECT {"verbose":false,"pedantic":false}\r\n', f"SUB {inbox}.* 1\r\n".encode()]
    for i, m in enumerate(mids):
        body = json.dumps({"messageId": m}).encode()
        out.append(f"PUB channel.{cid}.message.created {inbox}.{i} {len(body)}\r\n".encode()
                   + body + b"\r\n")
    s.sendall(b"".join(out))
    seqs, buf = {}, b""
    while len(seqs) < len(mids):
        chunk = s.recv(1 << 20)
        expect(chunk, "NATS closed during the burst")
        buf += chunk
        while b"\r\n" in buf:
            line, rest = buf.split(b"\r\n", 1)
            if not line.startswith(b"MSG "):
                buf = rest
                continue
            parts = line.split()
            n = int(parts[-1])
            if len(rest) < n + 2:
                break
            ack = json.loads(rest[:n])
            expect("seq" in ack, f"publish not acked: {ack!r}")
            seqs[int(parts[1].rsplit(b".", 1)[1])] = ack["seq"]
            buf = rest[n + 2:]
    s.close()
    return [seqs[i] for i in range(len(mids))]


def test_wsd_slow_reader_gets_every_frame_in_order_across_partial_writes():
    # a daemon of its own whose queue holds the whole burst: what is measured is the write
    # path, not the slow-consumer policy (test_wsd_abuse has that)
    port = at.WS_PORT + 106
    start_second_daemon(port, {"AGORA_WS_QUEUE_MAX": "100000"}, name="wsd-writes")
    a, ta = register()
    b, tb = register()
    cid = channel(ta)
    join(tb, cid, b["id"])
    slow = WS(token=tb, port=port, rcvbuf=4096, timeout=30)
    slow.ready()
    other = WS(token=ta, port=port)
    other.ready()
    partial0 = metric(port, "agora_wsd_partial_writes_total")
    expect(partial0 is not None, "no agora_wsd_partial_writes_total in /metrics")
    # ~100-byte frames: 40,000 are ~4 MB, past what a loopback socket takes before a send
    # comes back short (~2.8 MB with the peer's 4 KiB receive buffer)
    mids = [oid() for _ in range(40000)]
    seqs = bulk_publish(cid, mids)
    # the reader that keeps up gets everything while the slow one reads nothing: a full
    # socket holds up no one else
    got = []
    deadline = time.monotonic() + 60
    while len(got) < len(mids) and time.monotonic() < deadline:
        f = other.recv(1)
        if f and f.get("type") == "channel_message":
            got.append(f["messageId"])
    expect(got == mids, f"the reading session got {len(got)} of {len(mids)} (or out of order)")
    # sends the kernel took only part of: lws holds the rest
    eventually(lambda: metric(port, "agora_wsd_partial_writes_total") > partial0, timeout=10,
               what="a partial write counted")
    # now it reads: every frame, whole, in publish order (a frame cut by a partial write and
    # continued out of order would not even parse)
    frames = []
    deadline = time.monotonic() + 60
    while len(frames) < len(mids) and time.monotonic() < deadline:
        try:
            f = slow.recv(2)
        except Closed as e:
            raise AssertionError(f"the slow reader was closed ({e})") from None
        if f and f.get("type") == "channel_message":
            frames.append(f)
    expect([f["messageId"] for f in frames] == mids,
           f"slow reader got {len(frames)} of {len(mids)} frames or not in publish order")
    expect([f["seq"] for f in frames] == seqs, "sequences differ from the stream's acks")
    slow.close()
    other.close()


def children(pid):
    """Pids whose parent is pid."""
    out = []
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                with open(f"/proc/{d}/stat") as f:
                    if int(f.read().rsplit(")", 1)[1].split()[1]) == pid:
                        out.append(int(d))
            except (OSError, ValueError, IndexError):
                pass
    return out


def connections_on(pid, port):
    """Established TCP connections to local `port` whose socket pid holds."""
    mine = set()
    try:
        for fd in os.listdir(f"/proc/{pid}/fd"):
            link = os.readlink(f"/proc/{pid}/fd/{fd}")
            if link.startswith("socket:["):
                mine.add(link[8:-1])
    except OSError:
        return 0
    n = 0
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(table) as f:
                next(f)
                for line in f:
                    c = line.split()
                    if int(c[1].rsplit(":", 1)[1], 16) == port and c[3] == "01" and c[9] in mine:
                        n += 1
        except OSError:
            pass
    return n


def alive(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def test_wsd_workers_share_the_port_survive_a_killed_worker_and_stop_together():
    port = at.WS_PORT + 107
    p, stop = start_second_daemon(port, {"AGORA_WS_WORKERS": "2"}, name="wsd-workers")
    eventually(lambda: len(children(p.pid)) == 2, timeout=10, what="two worker processes")
    first = sorted(children(p.pid))
    users = [register() for _ in range(12)]
    cid = channel(users[0][1])
    for u, t in users[1:]:
        join(t, cid, u["id"])
    sessions = [WS(token=t, port=port) for _, t in users]
    for s in sessions:
        s.ready()
    # both workers hold sessions (the kernel spreads connections over their sockets)
    per = {w: connections_on(w, port) for w in first}
    expect(sum(per.values()) == len(sessions) and all(per.values()),
           f"connections per worker {per} for {len(sessions)} sessions")
    from wsclient import JS
    js = JS()
    mid = oid()
    js.publish(f"channel.{cid}.message.created", {"messageId": mid})
    for s in sessions:
        s.wait_type("channel_message", messageId=mid)
    # a worker killed: the supervisor starts another; its clients reconnect and are served
    os.kill(first[0], signal.SIGKILL)
    eventually(lambda: len(children(p.pid)) == 2 and first[0] not in children(p.pid),
               timeout=10, what="the killed worker replaced")
    for i, s in enumerate(sessions):
        try:
            s.send({"action": "ping"})
            s.wait_type("pong", timeout=3)
        except (Closed, OSError, AssertionError):
            s.sock.close()
            sessions[i] = WS(token=users[i][1], port=port)
            sessions[i].ready()
    mid = oid()
    js.publish(f"channel.{cid}.message.created", {"messageId": mid})
    for s in sessions:
        s.wait_type("channel_message", messageId=mid)
    js.close()
    # SIGTERM to the supervisor: every worker ends (close frames first), then it does
    workers = children(p.pid)
    t0 = time.monotonic()
    stop()
    expect(p.returncode == 0, f"supervisor exit status {p.returncode} on SIGTERM")
    expect(not any(alive(w) for w in workers), f"workers left behind: {workers}")
    expect(time.monotonic() - t0 < 10, "the workers took over 10 s to stop")
    for s in sessions:
        try:
            s.wait(lambda f: False, timeout=3, what="close")
        except Closed as e:
            expect(e.code in (1001, 1006), f"close code {e.code}")
        s.sock.close()


def read_raw(ws, want, seconds):
    """Frames off the wire until `want` text frames or a close: (opcode, payload) pairs.
    Answers the daemon's pings, as a browser does; a frame cut by another would not
    parse here (or its JSON would not)."""
    out, texts = [], 0
    deadline = time.monotonic() + seconds
    while texts < want and time.monotonic() < deadline:
        ws.sock.settimeout(max(0.1, deadline - time.monotonic()))
        try:
            op, payload = ws._frame()
        except socket.timeout:
            break
        except (Closed, ConnectionResetError):
            out.append((-1, b""))  # the connection ended without a close frame
            break
        out.append((op, payload))
        if op == 9:
            ws.send_raw(payload, opcode=10)
        elif op == 8:
            break
        elif op == 1:
            texts += 1
    return out


def test_wsd_pings_and_pongs_wait_for_a_partial_write_and_never_cut_a_frame():
    # the heartbeat pings every 2 s of silence and the client pings too, while the socket
    # is full and lws holds part of a corked write: lws's own frames must come between
    # whole frames, after the held bytes
    port = at.WS_PORT + 108
    start_second_daemon(port, {"AGORA_WS_QUEUE_MAX": "100000", "AGORA_WS_HEARTBEAT_MS": "2000"},
                        name="wsd-writes-ping")
    a, ta = register()
    b, tb = register()
    cid = channel(ta)
    join(tb, cid, b["id"])
    slow = WS(token=tb, port=port, rcvbuf=4096, timeout=30)
    slow.ready()
    partial0 = metric(port, "agora_wsd_partial_writes_total")
    mids = [oid() for _ in range(40000)]
    bulk_publish(cid, mids)
    eventually(lambda: metric(port, "agora_wsd_partial_writes_total") > partial0, timeout=20,
               what="a partial write held by lws")
    for i in range(3):
        slow.send_raw(b"client-%d" % i, opcode=9)
    time.sleep(3)  # past the heartbeat: a ping is due while the write is held
    frames = read_raw(slow, len(mids), 60)
    ops = [op for op, _ in frames]
    texts = [json.loads(p) for op, p in frames if op == 1]
    expect(-1 not in ops and 8 not in ops, f"the session ended: {ops[-3:]}")
    expect([f["messageId"] for f in texts if f.get("type") == "channel_message"] == mids,
           f"got {len(texts)} frames of {len(mids)}, or out of order")
    expect(9 in ops, "no heartbeat ping from the daemon while the reader was stalled")
    pongs = [p for op, p in frames if op == 10]
    expect(pongs and all(p.startswith(b"client-") for p in pongs),
           f"no pong to the client's ping, or a wrong payload: {pongs!r}")
    slow.close()


def test_wsd_slow_reader_gets_a_whole_prefix_then_close_4008():
    # a reader stalled past ws_queue_max is closed as a slow consumer (wsd/README.md: 4008,
    # reconnect and replay); what it had been sent arrives first, whole and in order, and
    # the close frame after it, not inside a frame lws still held
    port = at.WS_PORT + 109
    # a queue longer than one inbox drain (256 events, inbox.c): the queue fills only once
    # the socket is full, not within the first loop pass
    start_second_daemon(port, {"AGORA_WS_QUEUE_MAX": "512"}, name="wsd-writes-slow")
    a, ta = register()
    b, tb = register()
    cid = channel(ta)
    join(tb, cid, b["id"])
    slow = WS(token=tb, port=port, rcvbuf=4096, timeout=30)
    slow.ready()
    closes0 = metric(port, "agora_wsd_slow_closes_total")
    mids = [oid() for _ in range(40000)]
    bulk_publish(cid, mids)
    eventually(lambda: metric(port, "agora_wsd_slow_closes_total") > closes0, timeout=20,
               what="the stalled reader closed as slow")
    frames = read_raw(slow, len(mids), 30)
    texts = [json.loads(p) for op, p in frames if op == 1]
    got = [f["messageId"] for f in texts if f.get("type") == "channel_message"]
    expect(0 < len(got) < len(mids) and got == mids[:len(got)],
           f"{len(got)} frames, not a prefix of the {len(mids)} published in order")
    expect(frames and frames[-1][0] == 8, f"no close frame after the frames: {frames[-1:]}")
    code = struct.unpack(">H", frames[-1][1][:2])[0]
    expect(code == 4008, f"close code {code}, not 4008 (slow consumer)")
    slow.sock.close()


def worker_of(ws, port, pids):
    """Which of pids holds the daemon's end of ws's connection (by the client's port)."""
    mine = ws.sock.getsockname()[1]
    inode = None
    for table in ("/proc/net/tcp6", "/proc/net/tcp"):
        with open(table) as f:
            next(f)
            for line in f:
                c = line.split()
                if (int(c[1].rsplit(":", 1)[1], 16) == port and
                        int(c[2].rsplit(":", 1)[1], 16) == mine):
                    inode = c[9]
    for pid in pids:
        try:
            for fd in os.listdir(f"/proc/{pid}/fd"):
                if os.readlink(f"/proc/{pid}/fd/{fd}") == f"socket:[{inode}]":
                    return pid
        except OSError:
            pass
    return None


def sessions_on_each_worker(token, port, pids):
    """One session of the user on each worker: {pid: WS}; the extra ones closed."""
    held, extra = {}, []
    for _ in range(12):
        ws = WS(token=token, port=port)
        ws.ready()
        pid = worker_of(ws, port, pids)
        (extra if pid in held or pid is None else []).append(ws)
        if pid not in held and pid is not None:
            held[pid] = ws
        if len(held) == len(pids):
            break
    for ws in extra:
        ws.close()
    expect(len(held) == len(pids),
           f"the user's sessions reached {len(held)} of {len(pids)} workers")
    return held


def no_offline(watcher, uid, seconds):
    frames = watcher.collect(seconds)
    bad = [f for f in frames if f.get("type") == "presence" and f.get("userId") == uid and
           f.get("status") == "offline"]
    expect(not bad, f"user {uid} reported offline while a session of theirs is open: {bad!r}")


def test_wsd_workers_hold_presence_each_a_session_on_one_keeps_the_user_online():
    # each worker is a daemon with its own presence lease (its own instance id): a user is
    # online while a session is open on any worker, through another worker's session closing
    # and through another worker dying (its lease expires, only its sessions are counted out)
    port = at.WS_PORT + 110
    env = {"AGORA_WS_WORKERS": "2", "AGORA_WS_INSTANCE_TTL_MS": "2000",
           "AGORA_WS_PRESENCE_GRACE_MS": "0"}
    p, stop = start_second_daemon(port, env, name="wsd-workers-presence")
    eventually(lambda: len(children(p.pid)) == 2, timeout=10, what="two worker processes")
    a, ta = register()
    b, tb = register()
    cid = channel(ta)
    join(tb, cid, b["id"])
    wa = WS(token=ta)
    wa.ready()
    pids = sorted(children(p.pid))
    held = sessions_on_each_worker(tb, port, pids)
    f = wa.wait_type("presence", userId=b["id"], timeout=10)
    expect(f["status"] == "online", f"want online: {f!r}")
    eventually(lambda: len(redis_members(b["id"])) == 2, timeout=10,
               what=f"presence:user:{b['id']} holding one instance per worker")
    # one worker dies: its lease runs out and it is counted out; the other still holds the user
    os.kill(pids[0], signal.SIGKILL)
    no_offline(wa, b["id"], 6)
    eventually(lambda: len(redis_members(b["id"])) == 1, timeout=10,
               what="the dead worker's instance reaped from the presence set")
    # a session on the restarted worker, closed again: the other worker's session still counts
    eventually(lambda: len(children(p.pid)) == 2, timeout=10, what="the worker restarted")
    pids = sorted(children(p.pid))
    survivor = next(ws for pid, ws in held.items() if pid in pids)
    for ws in sessions_on_each_worker(tb, port, pids).values():
        ws.close()  # the new worker's session closes (and a second one on the survivor)
    no_offline(wa, b["id"], 3)
    # the last one closes: offline
    survivor.close()
    f = wa.wait_type("presence", userId=b["id"], status="offline", timeout=10)
    wa.close()
    stop()


def redis_members(uid):
    out = at.redis_cli("SMEMBERS", f"presence:user:{uid}")
    return [x for x in out.split() if x]


def scrape(port):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    c.request("GET", "/metrics")
    r = c.getresponse()
    body = r.read().decode()
    c.close()
    expect(r.status == 200, f"/metrics: HTTP {r.status}")
    return body


def test_wsd_workers_metrics_any_scrape_answers_for_every_worker():
    # the kernel picks the worker a scrape reaches: whichever it is, /metrics has every
    # worker's series, labelled worker="i", each family once (the text format's rule)
    port = at.WS_PORT + 111
    p, stop = start_second_daemon(port, {"AGORA_WS_WORKERS": "2"}, name="wsd-workers-metrics")
    eventually(lambda: len(children(p.pid)) == 2, timeout=10, what="two worker processes")
    pids = sorted(children(p.pid))
    # the kernel's SO_REUSEPORT hash places each connection: six land on one worker
    # one time in 32, so connect until both have some (at most 40)
    sessions = []
    while True:
        _, t = register()
        sessions.append(WS(token=t, port=port))
        sessions[-1].ready()
        per = {w: connections_on(w, port) for w in pids}
        if (len(sessions) >= 6 and all(per.values())) or len(sessions) >= 40:
            break
    expect(all(per.values()), f"connections per worker {per}: want sessions on both")
    total = len(sessions)

    def connections_by_worker(body):
        out = {}
        for line in body.splitlines():
            if line.startswith('agora_wsd_connections{worker="'):
                out[int(line.split('"')[1])] = int(line.split()[-1])
        return out

    def agrees(body):
        counts = connections_by_worker(body)
        return sorted(counts.values()) == sorted(per.values()) and sum(counts.values()) == total

    # the other worker's series are as of its last tick (1 s)
    eventually(lambda: agrees(scrape(port)), timeout=5, what="/metrics agreeing with the sockets")
    # ten scrapes, each on a new connection (the kernel spreads them over both workers): each
    # answer holds both workers' counts
    for _ in range(10):
        body = scrape(port)
        types = [line.split()[2] for line in body.splitlines() if line.startswith("# TYPE ")]
        expect(len(types) == len(set(types)), "a metric family written twice")
        expect(agrees(body), f"/metrics says {connections_by_worker(body)} sessions per "
               f"worker, the sockets say {per}")
        expect('agora_wsd_channel_sessions_bucket{worker="0",le="1"}' in body and
               'agora_wsd_channel_sessions_bucket{worker="1",le="1"}' in body,
               "histogram samples without the worker label")
    # a worker killed leaves /metrics until it is back; then it counts again from zero
    os.kill(pids[0], signal.SIGKILL)
    eventually(lambda: len(children(p.pid)) == 2 and pids[0] not in children(p.pid),
               timeout=10, what="the killed worker replaced")
    survivor = pids[1]
    eventually(lambda: sum(connections_by_worker(scrape(port)).values()) == per[survivor],
               timeout=10, what="the dead worker's sessions gone from /metrics")
    for s in sessions:
        s.sock.close()
    stop()
