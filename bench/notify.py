#!/usr/bin/python3
"""bench/notify.py — `./agora bench notify`: how soon a notification and a search
result follow the write that caused them (issue 16, CONTRACT §9), with the
workers as cron runs them: `agora-worker --resident fanout` and `... index`.

Load: posters create posts over GraphQL through Apache (keep-alive), each post
mentioning one target user; every target holds a WebSocket session to the
stack's agora-wsd and acks each notification at once, as the web client does.
Measured per post, from the moment the createPost response arrived:
  - the `notification` (kind mention) at the mentioned user's session: the
    whole path of the design (JetStream -> the resident fanout run -> the
    notification row and its NOTIFY_STREAM event -> the user's durable
    consumer in agora-wsd -> the frame);
  - the `channel_message` of the same post at the same session: the limit, what
    JetStream -> agora-wsd takes without the worker (a frame that arrives
    before the response counts 0).
Half way through each rate the next minute's cron run is started (a second
resident fanout and index): the first hands over to it under the lock, and the
latencies around that moment are reported on their own (`handover_max_ms`).
Search freshness: while the load runs and then idle, a post with a word of its
own is written and Query.search is polled every 20 ms until it finds it.
Reports; never fails the suite.

Knobs: AGORA_BENCH_NOTIFY_RATES (10,100 posts/s), AGORA_BENCH_NOTIFY_TARGETS (40),
AGORA_BENCH_NOTIFY_CHANNELS (8), AGORA_BENCH_SECONDS (10, at least 10 here),
AGORA_BENCH_WARMUP (3), AGORA_BENCH_NOTIFY_SEARCH (20 idle samples)."""
import http.client
import json
import os
import queue
import selectors
import signal
import struct
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "tests", "integration"))
import benchlib as bl  # noqa: E402
from wsclient import WS  # noqa: E402

HTTP_PORT = int(os.environ["AGORA_HTTP_PORT"])
WORKER = os.path.join(os.environ["AGORA_BUILD"], "workers", "agora-worker")
TIERS = ("wsd", "fcgi", "postgres", "nats")
POST = "mutation($c: ID!, $b: String!) { createPost(channelId: $c, body: $b) { id } }"
SEARCH = "query($q: String!) { search(query: $q, first: 5) { edges { node { id } } } }"


def pct(xs, p):
    if not xs:
        return None
    xs = sorted(xs)
    return round(xs[min(len(xs) - 1, int(len(xs) * p / 100))], 2)


# ---- the seed: targets, posters and their channels ------------------------------
def seed(targets, channels):
    """Users ntb_* (targets first, then one poster per channel) and channels ntbench k;
    target t and poster k are members of channel t % channels and k."""
    n = targets + channels
    bl.psql(f"""
BEGIN;
INSERT INTO users (username, password_hash, display_name)
  SELECT 'ntb_' || lpad(i::text, 6, '0'), 'seeded-by-bench-no-login', 'Notify bench ' || i
  FROM generate_series(0, {n - 1}) i ON CONFLICT (username) DO NOTHING;
INSERT INTO channels (name, topic, visibility, owner_id)
  SELECT 'ntbench ' || k, 'notification benchmark', 'public',
         (SELECT min(id) FROM users WHERE username LIKE 'ntb\\_%')
  FROM generate_series(0, {channels - 1}) k
  WHERE NOT EXISTS (SELECT 1 FROM channels WHERE name = 'ntbench ' || k);
COMMIT;""")
    users = bl.psql(f"SELECT string_agg(id || ':' || username, ' ' ORDER BY id) FROM (SELECT id, "
                    f"username FROM users WHERE username LIKE 'ntb\\_%' ORDER BY id LIMIT {n}) t")
    users = [(int(u.split(":")[0]), u.split(":")[1]) for u in users.split()]
    cids = [int(x) for x in bl.psql(
        f"SELECT string_agg(id::text, ' ' ORDER BY id) FROM (SELECT id FROM channels "
        f"WHERE name LIKE 'ntbench %' ORDER BY id LIMIT {channels}) t").split()]
    rows = [(cids[t % channels], users[t][0]) for t in range(targets)]
    rows += [(cids[k], users[targets + k][0]) for k in range(channels)]
    bl.psql("INSERT INTO memberships (channel_id, user_id, role) VALUES "
            + ",".join(f"({c}, {u}, 'member')" for c, u in rows) + " ON CONFLICT DO NOTHING")
    cmds = "".join(f"DEL user:{u}:subs user:{u}:subs:built\n" for u, _ in users)
    subprocess.run(["redis-cli", "-p", os.environ["AGORA_REDIS_PORT"]], input=cmds, text=True,
                   capture_output=True)
    return users[:targets], users[targets:], cids


# ---- the workers, as cron starts them ------------------------------------------------
class Residents:
    """The resident fanout and index runs of one "minute"."""

    def __init__(self, tag):
        self.procs = []
        log = open(os.path.join(os.environ["AGORA_VAR"], "logs", "bench-notify-workers.log"), "ab")
        env = dict(os.environ, AGORA_WORKER_RESIDENT_S="600")
        for job in ("fanout", "index"):
            self.procs.append(subprocess.Popen([WORKER, "--resident", job], env=env, stdout=log,
                                               stderr=log, stdin=subprocess.DEVNULL))
        log.close()
        self.tag = tag

    def pids(self):
        return [p.pid for p in self.procs if p.poll() is None]

    def stop(self):
        for p in self.procs:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        for p in self.procs:
            try:
                p.wait(20)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()


# ---- sessions: one thread reads every target's socket --------------------------------
class Sessions:
    def __init__(self, targets):
        self.sel = selectors.DefaultSelector()
        self.events = queue.Queue()   # (kind, user id, frame, monotonic time)
        self.stop = threading.Event()
        self.ready = set()
        self.ws = {}
        for uid, _ in targets:
            w = WS(token=bl.mint_token(uid), timeout=10)
            w.uid = uid
            w.sock.setblocking(False)
            self.sel.register(w.sock, selectors.EVENT_READ, w)
            self.ws[uid] = w
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()
        deadline = time.monotonic() + 30
        while len(self.ready) < len(targets) and time.monotonic() < deadline:
            time.sleep(0.05)

    def frames(self, w):
        out = []
        while len(w.buf) >= 2:
            b1 = w.buf[1]
            n, off = b1 & 0x7F, 2
            if n == 126:
                if len(w.buf) < 4:
                    break
                n, off = struct.unpack(">H", w.buf[2:4])[0], 4
            elif n == 127:
                if len(w.buf) < 10:
                    break
                n, off = struct.unpack(">Q", w.buf[2:10])[0], 10
            if len(w.buf) < off + n:
                break
            op, payload = w.buf[0] & 0x0F, w.buf[off:off + n]
            w.buf = w.buf[off + n:]
            out.append((op, payload))
        return out

    def send(self, w, obj):
        w.sock.setblocking(True)
        try:
            w.send(obj)
        finally:
            w.sock.setblocking(False)

    def run(self):
        while not self.stop.is_set():
            for key, _ in self.sel.select(0.1):
                w = key.data
                try:
                    chunk = w.sock.recv(65536)
                except BlockingIOError:
                    continue
                if not chunk:
                    self.sel.unregister(w.sock)
                    continue
                now = time.monotonic()
                w.buf += chunk
                for op, payload in self.frames(w):
                    if op == 9:
                        w.sock.setblocking(True)
                        w.send_raw(payload, opcode=10)
                        w.sock.setblocking(False)
                    if op != 1:
                        continue
                    f = json.loads(payload)
                    if f.get("type") == "ready":
                        self.ready.add(w.uid)
                    elif f.get("type") == "notification":
                        self.send(w, {"action": "ack", "stream": "notify", "seq": f["seq"]})
                        self.events.put(("notification", w.uid, f, now))
                    elif f.get("type") == "channel_message":
                        self.events.put(("channel_message", w.uid, f, now))

    def close(self):
        self.stop.set()
        self.thread.join()
        for w in self.ws.values():
            w.sock.setblocking(True)
            w.close()


# ---- posting -------------------------------------------------------------------
class Poster:
    """Keep-alive GraphQL createPost calls through Apache."""

    def __init__(self):
        self.c = http.client.HTTPConnection("127.0.0.1", HTTP_PORT, timeout=10)

    def call(self, token, query, variables):
        body = json.dumps({"query": query, "variables": variables}).encode()
        for attempt in (0, 1):
            try:
                self.c.request("POST", "/graphql", body=body, headers={
                    "Content-Type": "application/json", "Authorization": "Bearer " + token})
                r = self.c.getresponse()
                return r.status, json.loads(r.read() or b"{}")
            except (OSError, http.client.HTTPException):
                self.c.close()
                self.c = http.client.HTTPConnection("127.0.0.1", HTTP_PORT, timeout=10)
                if attempt:
                    raise
        return None, None


def ticks(pids):
    return sum(bl._ticks(p) or 0 for p in pids)


def run_rate(rate, seconds, warmup, targets, posters, cids, current, groups):
    """Posts at `rate` for warmup + seconds; the next cron run starts half way through.
    Returns what was sent, failures, CPU of the tiers and of the resident workers, the
    moment of the handover and the successor runs."""
    nch = len(cids)
    by_channel = {c: [t for i, t in enumerate(targets) if i % nch == k] for k, c in enumerate(cids)}
    tokens = {uid: bl.mint_token(uid) for uid, _ in posters}
    total = int(rate * (warmup + seconds))
    jobs = queue.Queue()
    sent = {}           # post id -> (t_response, target uid, measured)
    failed = [0]
    lock = threading.Lock()
    t0 = time.monotonic() + 0.5
    for i in range(total):
        jobs.put(i)

    def worker():
        p = Poster()
        while True:
            try:
                i = jobs.get_nowait()
            except queue.Empty:
                return
            delay = t0 + i / rate - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            k = i % nch
            cid = cids[k]
            tuid, tname = by_channel[cid][(i // nch) % len(by_channel[cid])]
            status, j = p.call(tokens[posters[k][0]], POST,
                               {"c": str(cid), "b": f"@{tname} bench post {i}"})
            now = time.monotonic()
            with lock:
                if status != 200 or not j or j.get("errors"):
                    failed[0] += 1
                else:
                    sent[j["data"]["createPost"]["id"]] = (now, tuid, now >= t0 + warmup)

    threads = [threading.Thread(target=worker, daemon=True) for _ in range(max(4, rate // 10))]
    handover_at = t0 + warmup + seconds / 2
    for t in threads:
        t.start()
    time.sleep(max(0, t0 + warmup - time.monotonic()))
    sampler = bl.Sampler(groups)
    t_start, cpu0 = time.monotonic(), ticks(current.pids())
    time.sleep(max(0, handover_at - time.monotonic()))
    cpu1 = ticks(current.pids())
    successor = Residents("successor")   # the next minute's cron run
    for t in threads:
        t.join()
    usage = sampler.stop()
    cpu2 = ticks(successor.pids())
    usage["cpu_pct"]["workers"] = round(100.0 * ((cpu1 - cpu0) + cpu2) / bl.CLK
                                        / (time.monotonic() - t_start), 1)
    time.sleep(3)   # the last notifications
    return sent, failed[0], usage, handover_at, successor


def match(sessions, sent, handover_at):
    """Latencies (ms) of notifications and channel_messages per post, by FIFO per target."""
    notif, chan, around = [], [], []
    expect = {}   # target uid -> [(t_response, post id)] in post order
    for pid, (t, tuid, measured) in sorted(sent.items(), key=lambda kv: kv[1][0]):
        expect.setdefault(tuid, []).append((t, pid, measured))
    pending_frames = []
    while True:
        try:
            pending_frames.append(sessions.events.get_nowait())
        except queue.Empty:
            break
    seen_notif = {}
    for kind, uid, f, t in sorted(pending_frames, key=lambda e: e[3]):
        if kind == "channel_message":
            s = sent.get(f["messageId"])
            if s and s[1] == uid and s[2]:
                chan.append(max(0.0, (t - s[0]) * 1000))
        elif kind == "notification" and f.get("kind") == "mention":
            k = seen_notif.get(uid, 0)
            seen_notif[uid] = k + 1
            q = expect.get(uid, [])
            if k < len(q):
                tr, _, measured = q[k]
                if measured:
                    ms = max(0.0, (t - tr) * 1000)
                    notif.append(ms)
                    if handover_at - 1 <= tr <= handover_at + 2:
                        around.append(ms)
    return notif, chan, around


def search_freshness(n, token, cid, sink, stop=None):
    """Post a word of its own, poll search every 20 ms until it is found; ms per sample."""
    p, q = Poster(), Poster()
    for i in range(n):
        if stop is not None and stop.is_set():
            return
        word = f"fresh{os.getpid()}x{int(time.time() * 1000) % 10**9}x{i}"
        status, j = p.call(token, POST, {"c": str(cid), "b": f"{word} freshness probe"})
        if status != 200 or j.get("errors"):
            continue
        t = time.monotonic()
        pid = j["data"]["createPost"]["id"]
        while time.monotonic() - t < 15:
            _, r = q.call(token, SEARCH, {"q": word})
            edges = ((r or {}).get("data") or {}).get("search", {}).get("edges", [])
            if any(e["node"]["id"] == pid for e in edges):
                sink.append((time.monotonic() - t) * 1000)
                break
            time.sleep(0.02)
        time.sleep(0.3 if stop is None else 1.0)


def main():
    rates = [int(x) for x in os.environ.get("AGORA_BENCH_NOTIFY_RATES", "10,100").split(",")]
    ntargets = int(os.environ.get("AGORA_BENCH_NOTIFY_TARGETS", "40"))
    nch = int(os.environ.get("AGORA_BENCH_NOTIFY_CHANNELS", "8"))
    seconds = max(10, int(os.environ.get("AGORA_BENCH_SECONDS", "10")))
    warmup = int(os.environ.get("AGORA_BENCH_WARMUP", "3"))
    nsearch = int(os.environ.get("AGORA_BENCH_NOTIFY_SEARCH", "20"))
    targets, posters, cids = seed(ntargets, nch)
    # what earlier benchmarks left in the streams, drained as the previous minutes would have
    for job in ("fanout", "index"):
        subprocess.run([WORKER, job, "--max-seconds", "300"], capture_output=True)
    runs, current = [], Residents("first")
    sessions = Sessions(targets)
    time.sleep(1)
    idle = bl.Sampler({"resident workers": current.pids})
    time.sleep(5)
    idle_cpu = idle.stop()["cpu_pct"].get("resident workers")
    probe_token = bl.mint_token(posters[0][0])
    try:
        for rate in rates:
            groups = {t: bl.pidfile(t) for t in TIERS}
            fresh, stop = [], threading.Event()
            prober = threading.Thread(target=search_freshness,
                                      args=(10**6, probe_token, cids[0], fresh, stop), daemon=True)
            prober.start()
            sent, failed, usage, handover_at, succ = run_rate(
                rate, seconds, warmup, targets, posters, cids, current, groups)
            stop.set()
            prober.join()
            notif, chan, around = match(sessions, sent, handover_at)
            measured = sum(1 for s in sent.values() if s[2])
            handed = current.procs[0].poll() is not None
            runs.append({
                "rate": rate, "posts_per_s": round(measured / seconds, 1), "posts_failed": failed,
                "notifications": len(notif),
                "delivered_pct": round(100.0 * len(notif) / measured, 2) if measured else None,
                "notify_p50_ms": pct(notif, 50), "notify_p99_ms": pct(notif, 99),
                "notify_max_ms": pct(notif, 100),
                "limit_channel_message_p50_ms": pct(chan, 50),
                "limit_channel_message_p99_ms": pct(chan, 99),
                "handover": "done" if handed else "not seen",
                "handover_samples": len(around), "handover_max_ms": pct(around, 100),
                "search_fresh_samples": len(fresh), "search_fresh_p50_ms": pct(fresh, 50),
                "search_fresh_max_ms": pct(fresh, 100),
                "cpu_pct": usage.get("cpu_pct", {})})
            r = runs[-1]
            print(f"  {rate:>4}/s: notification p50 {r['notify_p50_ms']} p99 {r['notify_p99_ms']} "
                  f"max {r['notify_max_ms']} ms ({r['delivered_pct']}%), channel_message p99 "
                  f"{r['limit_channel_message_p99_ms']} ms, handover {r['handover']} "
                  f"(max {r['handover_max_ms']} ms), search p50 {r['search_fresh_p50_ms']} ms",
                  file=sys.stderr, flush=True)
            current.stop()
            current = succ
        idle_fresh = []
        search_freshness(nsearch, probe_token, cids[0], idle_fresh)
    finally:
        sessions.close()
        current.stop()
    data = {"benchmark": "notify", "targets": ntargets, "channels": nch, "seconds": seconds,
            "warmup": warmup, "runs": runs, "resident_idle_cpu_pct": idle_cpu,
            "search_idle": {"samples": len(idle_fresh), "p50_ms": pct(idle_fresh, 50),
                            "p99_ms": pct(idle_fresh, 99), "max_ms": pct(idle_fresh, 100)}}
    path = bl.save("notify", data)
    print(f"notify: createPost mentioning a user -> the notification frame at the user's "
          f"session, {ntargets} targets over {nch} channels, {seconds} s after {warmup} s warm-up, "
          f"fanout and index --resident with a handover half way; beside it the channel_message "
          f"of the same posts (JetStream -> agora-wsd) -> {path}")
    bl.table([{k: v for k, v in r.items() if k != "cpu_pct"} | {f"{t} cpu%": r["cpu_pct"].get(t)
              for t in TIERS + ("workers",)} for r in runs],
             ["rate", "posts_per_s", "delivered_pct", "notify_p50_ms", "notify_p99_ms",
              "notify_max_ms", "limit_channel_message_p50_ms", "limit_channel_message_p99_ms",
              "handover", "handover_max_ms", "search_fresh_p50_ms", "search_fresh_max_ms",
              "workers cpu%"])
    s = data["search_idle"]
    print(f"search freshness, idle: {s['samples']} samples, p50 {s['p50_ms']} ms, "
          f"p99 {s['p99_ms']} ms, max {s['max_ms']} ms; resident fanout+index idle: "
          f"{idle_cpu}% of a core")


if __name__ == "__main__":
    main()
