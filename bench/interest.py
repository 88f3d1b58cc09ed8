#!/usr/bin/python3
"""bench/interest.py — `./agora bench interest`: what each agora-wsd takes in from
NATS when several share the load (issue 14, "past one host"), today's design beside
the interest-based one it would move to, on loopback.

1. Today: AGORA_BENCH_INTEREST_DAEMONS (4) agora-wsd on one NATS, the subscribers of
   channel k on daemon k mod 4 (so each holds a quarter of the channels), and one more
   daemon with no session at all; events published to JetStream at
   AGORA_BENCH_INTEREST_RATE (1000/s) over 100 channels. Per daemon: channel events
   received (live_events_total) and of those none of its sessions holds
   (live_events_unheld_total), its CPU; nats-server's messages out and CPU.
2. Interest-based transport, at the NATS level: a stream like CHANNEL_STREAM with
   RePublish (every stored event also published, with its stream sequence in the
   Nats-Sequence header, to _rp.<channel>.<verb>), and 4 connections each subscribed
   to the republished subjects of the channels its sessions hold: the server routes a
   message only where there is interest. Twice: sessions placed by channel (each holds
   a quarter of the channels, the best case) and at random as an L4 balancer places
   them (then nearly every daemon holds nearly every channel of 10 members). Same rate;
   per connection the messages received, nats-server's CPU.
3. The costs that come with interest: a first join (SUB, then a PING/PONG round trip
   after which the server routes the channel's events to us: the window in which an
   event could be missed) and churn (SUB+UNSUB pairs per second, nats-server CPU).

Reports; never fails a suite. Knobs: AGORA_BENCH_INTEREST_DAEMONS (4),
AGORA_BENCH_INTEREST_RATE (1000), AGORA_BENCH_INTEREST_SUBS (1000),
AGORA_BENCH_SECONDS (10), AGORA_BENCH_WARMUP (3)."""
import http.client
import json
import os
import socket
import statistics
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchlib as bl  # noqa: E402
import fanout as fo  # noqa: E402

NATS_PORT = int(os.environ.get("AGORA_NATS_PORT", "28084"))
NATS_HTTP = int(os.environ.get("AGORA_NATS_HTTP_PORT", "28085"))


def varz():
    c = http.client.HTTPConnection("127.0.0.1", NATS_HTTP, timeout=5)
    c.request("GET", "/varz")
    return json.loads(c.getresponse().read())


def metrics(port):
    out = {}
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    c.request("GET", "/metrics")
    for line in c.getresponse().read().decode().splitlines():
        if line.startswith("agora_wsd_") and " " in line:
            k, v = line.split(" ", 1)
            try:
                out[k] = float(v)
            except ValueError:
                pass
    return out


class Nats:
    """A raw NATS client connection (enough for SUB, PUB, PING and reading)."""

    def __init__(self, name):
        self.s = socket.create_connection(("127.0.0.1", NATS_PORT), timeout=10)
        # SUB then PING are two writes: with Nagle the PING waits for the SUB's delayed ACK
        self.s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.s.recv(4096)
        self.s.sendall(b"CONNECT " + json.dumps({"verbose": False, "headers": True,
                                                 "name": name}).encode() + b"\r\n")
        self.buf, self.msgs, self.stop = b"", 0, False

    def send(self, data):
        self.s.sendall(data)

    def flush(self):
        """PING and wait for its PONG: the server has processed everything before."""
        self.s.sendall(b"PING\r\n")
        while b"PONG\r\n" not in self.buf:
            self.buf += self.s.recv(65536)
        self.buf = self.buf.replace(b"PONG\r\n", b"", 1)

    def request(self, subj, body):
        inbox = "_INBOX.ib" + os.urandom(4).hex()
        b = json.dumps(body).encode()
        self.s.sendall(f"SUB {inbox} 999\r\nPUB {subj} {inbox} {len(b)}\r\n".encode() + b +
                       b"\r\n")
        while True:
            while b"\r\n" not in self.buf:
                self.buf += self.s.recv(65536)
            line, rest = self.buf.split(b"\r\n", 1)
            if line.startswith(b"MSG ") and line.split()[1].decode() == inbox:
                n = int(line.split()[-1])
                while len(rest) < n + 2:
                    rest += self.s.recv(65536)
                self.buf = rest[n + 2:]
                self.s.sendall(b"UNSUB 999\r\n")
                return json.loads(rest[:n])
            self.buf = rest

    def count(self):
        """Read and count messages until stop (a thread)."""
        self.s.settimeout(0.5)
        while not self.stop:
            try:
                data = self.s.recv(1 << 20)
            except socket.timeout:
                continue
            except OSError:
                return
            self.msgs += data.count(b"MSG ")  # HMSG too
            if b"PING\r\n" in data:
                self.s.sendall(b"PONG\r\n")

    def close(self):
        self.stop = True
        self.s.close()


def cpu_of(pids, seconds_fn):
    s = bl.Sampler({"g": lambda: pids})
    seconds_fn()
    return s.stop()["cpu_pct"]["g"]


# ---- 1. today's design: every daemon takes in every channel event -------------------
def today(n_daemons, rate, subs, seconds, warmup):
    uids, cids = fo.seed_ws(subs, 100)
    targets = fo.write_lines("interest-targets.txt",
                             [f"channel.{c}.message.created" for c in cids])
    servers, arglists = [], []
    nats_pid = bl.pidfile("nats")
    try:
        # one more daemon without any session: what the intake alone costs
        for d in range(n_daemons + 1):
            port = fo.PORT_BASE + 30 + d
            env = {"AGORA_WS_PORT": str(port), "AGORA_WS_CONN_PER_USER": "100000",
                   "AGORA_LOG_LEVEL": "warn"}
            s = fo.Server(f"wsd-i{d}", [fo.WSD], env, port, "0,1")
            fo._wait_port(port, s.proc, f"agora-wsd {d}", path="/healthz")
            servers.append(s)
            if d == n_daemons:
                break
            mine = [u for i, u in enumerate(uids) if (i % 100) % n_daemons == d]
            paths = fo.write_lines(f"interest-paths-{d}.txt",
                                   [f"/?access_token={bl.mint_token(u)}" for u in mine])
            a = ["fanout", "--ws", f"127.0.0.1:{port}", "--paths", paths, "--n", str(len(mine)),
                 "--src", f"127.0.0.{2 + d}", "--targets", targets, "--rate", str(rate),
                 "--warmup", str(warmup), "--seconds", str(seconds), "--want-frame", "--hist"]
            a += (["--pub", "nats", "--pub-addr", f"127.0.0.1:{NATS_PORT}"] if d == 0
                  else ["--pub", "none"])
            arglists.append(a)

        class All:
            name, port = "wsd-interest", None

            def worker_pids(self):
                return [p for s in servers for p in s.worker_pids()]

            def rss_kib(self):
                return sum(s.rss_kib() for s in servers)

            def connections_per_worker(self):
                return None

        snap = {}

        def hook(what):  # the daemons' counters and NATS's over the measured seconds
            snap[what] = ([metrics(s.port) for s in servers], varz(), time.monotonic())
        groups = {f"wsd{d}": (lambda s=s: s.worker_pids()) for d, s in enumerate(servers)}
        groups["nats"] = nats_pid
        (r, samp), = fo.loadgen(arglists, All(), groups, hook)
    finally:
        for s in servers:
            s.stop()
    (before, v0, t0), (after, v1, t1) = snap["MEASURE"], snap["MEASURED"]
    dt = t1 - t0
    rows = []
    for d in range(n_daemons + 1):
        got = after[d]["agora_wsd_live_events_total"] - before[d]["agora_wsd_live_events_total"]
        unheld = (after[d]["agora_wsd_live_events_unheld_total"] -
                  before[d]["agora_wsd_live_events_unheld_total"])
        rows.append({"design": "today: one consumer of every event per daemon",
                     "daemon": d if d < n_daemons else f"{d} (no session)",
                     "events_in_per_s": round(got / dt),
                     "unheld_pct": round(100 * unheld / got, 1) if got else None,
                     "cpu_pct": (samp or {}).get("cpu_pct", {}).get(f"wsd{d}")})
    # out: each event to every daemon (the one without sessions too), the publisher's acks,
    # and whatever else flows (the per-user consumers' heartbeats)
    summary = {"design": "today", "daemons": n_daemons, "rate": rate,
               "nats_out_msgs_per_s": round((v1["out_msgs"] - v0["out_msgs"]) / dt),
               "of_which_publisher_acks_per_s": rate,
               "nats_cpu_pct": (samp or {}).get("cpu_pct", {}).get("nats"),
               "deliveries_p99_ms": r["p99_ms"], "delivered": r["counted"],
               "published_measured": r["published_measured"]}
    return rows, summary


# ---- 2. interest-based transport: RePublish + a core SUB per held channel -------------
def interest(n_conns, rate, seconds, held, label):
    """held[d]: the channels connection d subscribes to (those its sessions hold)."""
    admin = Nats("interest-admin")
    cfg = {"name": "WSD_INTEREST_PROBE", "subjects": ["probe.*.message.*"], "storage": "file",
           "max_age": 600_000_000_000,
           "republish": {"src": "probe.*.message.*",
                         "dest": "_rp.probe.{{wildcard(1)}}.{{wildcard(2)}}"}}
    admin.request("$JS.API.STREAM.DELETE.WSD_INTEREST_PROBE", {})
    made = admin.request("$JS.API.STREAM.CREATE.WSD_INTEREST_PROBE", cfg)
    if "error" in made:
        raise RuntimeError(f"stream with RePublish: {made['error']}")
    conns = []
    for d in range(n_conns):
        c = Nats(f"interest-{d}")
        c.send(b"".join(f"SUB _rp.probe.{k}.* {k + 1}\r\n".encode() for k in sorted(held[d])))
        c.flush()
        conns.append(c)
        threading.Thread(target=c.count, daemon=True).start()
    pub = Nats("interest-pub")  # publishes without a reply subject: no acks to count out
    v0 = varz()
    nats_pids = bl.pidfile("nats")()
    sampler = bl.Sampler({"nats": lambda: nats_pids})
    t0, n, body = time.monotonic(), 0, b'{"messageId":"000000000000000000000000"}'
    while time.monotonic() - t0 < seconds:
        due = int((time.monotonic() - t0) * rate)
        batch = []
        while n < due:
            batch.append(f"PUB probe.{n % 100}.message.created {len(body)}\r\n".encode() +
                         body + b"\r\n")
            n += 1
        if batch:
            pub.send(b"".join(batch))
        time.sleep(0.002)
    time.sleep(0.5)
    dt = time.monotonic() - t0
    cpu = sampler.stop()["cpu_pct"]["nats"]
    v1 = varz()
    rows = [{"design": f"interest ({label})", "daemon": d, "channels_held": len(held[d]),
             "events_in_per_s": round(c.msgs / n * rate), "unheld_pct": 0.0, "cpu_pct": None}
            for d, c in enumerate(conns)]
    summary = {"design": f"interest ({label})", "connections": n_conns, "rate": rate,
               "published": n, "channels_held": [len(h) for h in held],
               "nats_out_msgs_per_s": round((v1["out_msgs"] - v0["out_msgs"]) / n * rate),
               "nats_cpu_pct": cpu}
    for c in conns:
        c.close()
    pub.s.close()
    return rows, summary, admin


def join_and_churn(admin, seconds):
    """A first join: SUB, then PING/PONG (from then on the server routes the channel's
    events to us). Churn: SUB+UNSUB pairs as fast as one connection sends them."""
    c = Nats("interest-join")
    lat = []
    for i in range(2000):
        t = time.perf_counter()
        c.send(f"SUB _rp.probe.{i % 100}.* {10_000 + i}\r\n".encode())
        c.flush()
        lat.append((time.perf_counter() - t) * 1e6)
        c.send(f"UNSUB {10_000 + i}\r\n".encode())
    nats_pids = bl.pidfile("nats")()
    sampler = bl.Sampler({"nats": lambda: nats_pids})
    t0, pairs = time.monotonic(), 0
    while time.monotonic() - t0 < seconds:
        c.send(b"".join(f"SUB _rp.probe.{(pairs + k) % 100}.* {50_000 + k}\r\nUNSUB {50_000 + k}\r\n"
                        .encode() for k in range(500)))
        pairs += 500
        c.flush()
    dt = time.monotonic() - t0
    cpu = sampler.stop()["cpu_pct"]["nats"]
    c.s.close()
    admin.request("$JS.API.STREAM.DELETE.WSD_INTEREST_PROBE", {})
    admin.s.close()
    lat.sort()
    return {"first_join_us_p50": round(statistics.median(lat)),
            "first_join_us_p99": round(lat[int(len(lat) * 0.99)]),
            "churn_pairs_per_s": round(pairs / dt), "churn_nats_cpu_pct": cpu}


def main():
    n = int(os.environ.get("AGORA_BENCH_INTEREST_DAEMONS", "4"))
    rate = int(os.environ.get("AGORA_BENCH_INTEREST_RATE", "1000"))
    subs = int(os.environ.get("AGORA_BENCH_INTEREST_SUBS", "1000"))
    seconds = int(os.environ.get("AGORA_BENCH_SECONDS", "10"))
    warmup = int(os.environ.get("AGORA_BENCH_WARMUP", "3"))
    with fo.StackWsdPaused():  # the stack's own daemon would take every event too
        rows, s_today = today(n, rate, subs, seconds, warmup)
    print(f"  today: {s_today}", file=sys.stderr, flush=True)
    # sessions placed by channel (each daemon a quarter of the channels: the best case) and
    # placed at random, as an L4 balancer does (a channel of 10 members is then held by a
    # daemon with probability 1 - (1 - 1/4)^10 = 94 %)
    import random
    rnd = random.Random(14)
    affine = [{k for k in range(100) if k % n == d} for d in range(n)]
    scattered = [set() for _ in range(n)]
    for i in range(subs):
        scattered[rnd.randrange(n)].add(i % 100)
    irows, s_int, admin = interest(n, rate, seconds, affine, "sessions placed by channel")
    admin.s.close()
    print(f"  interest: {s_int}", file=sys.stderr, flush=True)
    rrows, s_rnd, admin = interest(n, rate, seconds, scattered, "sessions placed at random")
    print(f"  interest: {s_rnd}", file=sys.stderr, flush=True)
    irows += rrows
    costs = join_and_churn(admin, 5)
    print(f"  join/churn: {costs}", file=sys.stderr, flush=True)
    data = {"benchmark": "interest", "daemons": n, "rate": rate, "channels": 100,
            "subscribers": subs, "seconds": seconds, "runs": rows + irows,
            "today": s_today, "interest": s_int, "interest_random": s_rnd, "costs": costs,
            "loadavg": [round(x, 2) for x in os.getloadavg()]}
    path = bl.save("interest", data)
    print(f"interest: {n} daemons, each holding a quarter of 100 channels, {rate} events/s -> "
          f"{path}")
    bl.table(rows + irows, ["design", "daemon", "channels_held", "events_in_per_s", "unheld_pct",
                            "cpu_pct"])
    print(f"  NATS out: today {s_today['nats_out_msgs_per_s']}/s ({s_today['nats_cpu_pct']}% cpu), "
          f"interest by channel {s_int['nats_out_msgs_per_s']}/s ({s_int['nats_cpu_pct']}% cpu), "
          f"at random {s_rnd['nats_out_msgs_per_s']}/s; first join "
          f"p50 {costs['first_join_us_p50']} us, p99 {costs['first_join_us_p99']} us; churn "
          f"{costs['churn_pairs_per_s']} SUB+UNSUB/s at {costs['churn_nats_cpu_pct']}% of a core")


if __name__ == "__main__":
    main()
