#!/usr/bin/python3
"""bench/fanout.py — `./agora bench fanout`: 10k WebSocket subscribers over 100
channels, events published at a fixed rate, end-to-end latency from publish to
receipt (p50/p99/max) measured by bench/loadgen (C, epoll), and the CPU and RSS
of the server; agora-wsd (events published to JetStream, CHANNEL_STREAM) beside
nginx + nchan carrying the same pattern (subscribers over WebSocket, publishes
over HTTP), in the same run. The server under test is pinned to core 0, the
load generator to core 1 (ENVIRONMENT.md). Goals (issues 5 and 8): p99 and CPU
no worse than nchan's at 100k deliveries/s. Reports; never fails the suite.

Knobs: AGORA_BENCH_FANOUT_SUBS (10000), AGORA_BENCH_FANOUT_CHANNELS (100),
AGORA_BENCH_FANOUT_RATES (1000; e.g. 100,1000), AGORA_BENCH_SECONDS (10),
AGORA_BENCH_WARMUP (3), AGORA_BENCH_FANOUT_TARGETS (wsd,nchan),
AGORA_BENCH_FANOUT_PERF (unset; a directory: `perf record -g` of the server over the
measured seconds goes to <dir>/<server>-<rate>.data, for profiling only)."""
import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchlib as bl  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
VAR = os.environ.get("AGORA_VAR", os.path.join(HERE, "..", "var", "bench"))
BUILD = os.environ.get("AGORA_BUILD", os.path.join(HERE, "..", "build", "release"))
LOADGEN = os.path.join(BUILD, "bench", "loadgen")
WSD = os.path.join(BUILD, "wsd", "agora-wsd")
WSD_PORT = int(os.environ.get("AGORA_BENCH_WSD_PORT", "29101"))     # our own daemon, pinned
NCHAN_PORT = int(os.environ.get("AGORA_BENCH_NCHAN_PORT", "29102"))
SERVER_CPU, LOADGEN_CPU = "0", "1"
NCHAN_MODULE = "/usr/lib/nginx/modules/ngx_nchan_module.so"


# ---- data: users wsb_<i>, channels "wsbench <k>", user i a member of channel i % C ----
def seed_ws(users, channels):
    """Users and memberships of the realtime benchmarks (their own, beside the shared
    seed); returns (user ids, channel ids), user i a member of channel i % channels."""
    have = bl.psql("SELECT count(*) FROM users WHERE username LIKE 'wsb\\_%'")
    if int(have) < users:
        bl.psql(f"""
BEGIN;
INSERT INTO users (username, password_hash, display_name)
  SELECT 'wsb_' || lpad(i::text, 6, '0'), 'seeded-by-bench-no-login', 'WS bench ' || i
  FROM generate_series({int(have)}, {users - 1}) i;
INSERT INTO channels (name, topic, visibility, owner_id)
  SELECT 'wsbench ' || k, 'realtime benchmark', 'public',
         (SELECT min(id) FROM users WHERE username LIKE 'wsb\\_%')
  FROM generate_series(0, {channels - 1}) k
  WHERE NOT EXISTS (SELECT 1 FROM channels WHERE name = 'wsbench ' || k);
COMMIT;""")
    uids = [int(x) for x in bl.psql(
        f"SELECT string_agg(id::text, ' ' ORDER BY id) FROM (SELECT id FROM users "
        f"WHERE username LIKE 'wsb\\_%' ORDER BY id LIMIT {users}) t").split()]
    cids = [int(x) for x in bl.psql(
        f"SELECT string_agg(id::text, ' ' ORDER BY id) FROM (SELECT id FROM channels "
        f"WHERE name LIKE 'wsbench %' ORDER BY id LIMIT {channels}) t").split()]
    # memberships in one statement (idempotent)
    bl.psql(f"""
INSERT INTO memberships (channel_id, user_id, role)
  SELECT c.id, u.id, 'member'
  FROM (SELECT id, row_number() OVER (ORDER BY id) - 1 AS k FROM users
        WHERE username LIKE 'wsb\\_%' ORDER BY id LIMIT {users}) u
  JOIN (SELECT id, row_number() OVER (ORDER BY id) - 1 AS k FROM channels
        WHERE name LIKE 'wsbench %' ORDER BY id LIMIT {channels}) c ON c.k = u.k % {channels}
  ON CONFLICT DO NOTHING;""")
    # subscription sets cached before these memberships existed: rebuilt on connect
    cmds = "".join(f"DEL user:{u}:subs user:{u}:subs:built\n" for u in uids)
    subprocess.run(["redis-cli", "-p", os.environ["AGORA_REDIS_PORT"]], input=cmds, text=True,
                   capture_output=True)
    return uids, cids


def write_lines(name, lines):
    d = os.path.join(VAR, "realtime")
    os.makedirs(d, exist_ok=True)
    p = os.path.join(d, name)
    with open(p, "w") as f:
        f.writelines(line + "\n" for line in lines)
    return p


def wsd_paths(uids):
    return write_lines("wsd-paths.txt", [f"/?access_token={bl.mint_token(u)}" for u in uids])


# ---- servers ------------------------------------------------------------------
def _raise_nofile():
    import resource
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def _wait_port(port, proc, what, path=None, timeout=20):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{what} exited (status {proc.returncode}); see {VAR}/logs")
        try:
            if path:
                c = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
                c.request("GET", path)
                if c.getresponse().status == 200:
                    return
            else:
                socket.create_connection(("127.0.0.1", port), 0.5).close()
                return
        except OSError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"{what} did not come up on port {port}")


class Server:
    """A server process of ours, pinned to SERVER_CPU, stopped with SIGTERM."""

    def __init__(self, name, args, env=None):
        self.name = name
        log = open(os.path.join(VAR, "logs", f"bench-{name}.log"), "ab")
        self.proc = subprocess.Popen(["taskset", "-c", SERVER_CPU] + args,
                                     env=dict(os.environ, **(env or {})), stdout=log,
                                     stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                     preexec_fn=_raise_nofile, start_new_session=True)
        log.close()
        # ./agora bench stops whatever is listed there, even after a crash of this script
        with open(os.path.join(VAR, "run", "peers.pid"), "a") as f:
            f.write(f"{self.proc.pid}\n")

    def pids(self):
        return bl.tree(self.proc.pid)

    def worker_pids(self):
        """The processes doing the work: nginx's worker (not its master), or the daemon."""
        kids = [p for p in self.pids() if p != self.proc.pid]
        return kids or [self.proc.pid]

    def rss_kib(self):
        return sum(bl._rss_kib(p) for p in self.worker_pids())

    def stop(self):
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGTERM)
                self.proc.wait(10)
            except (OSError, subprocess.TimeoutExpired):
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()


class StackWsdPaused:
    """The stack's own agora-wsd (var/bench/run/wsd.pid) is not the server under test,
    yet its live consumer receives every event of the run: 5% of a core, plus
    nats-server delivering each event twice, on a box whose two cores are both full.
    Stopped (SIGSTOP) while agora-wsd is measured, resumed after; nchan's run never
    had that load (no NATS events then)."""

    def __enter__(self):
        self.pid = None
        try:
            with open(os.path.join(VAR, "run", "wsd.pid")) as f:
                self.pid = int(f.read().split()[0])
            os.kill(self.pid, signal.SIGSTOP)
        except (OSError, ValueError, IndexError):
            self.pid = None
        return self

    def __exit__(self, *exc):
        if self.pid:
            try:
                os.kill(self.pid, signal.SIGCONT)
            except OSError:
                pass


def start_wsd(extra_env=None):
    env = {"AGORA_WS_PORT": str(WSD_PORT), "AGORA_WS_CONN_PER_USER": "100000",
           "AGORA_LOG_LEVEL": "warn"}
    env.update(extra_env or {})
    s = Server("wsd", [WSD], env)
    _wait_port(WSD_PORT, s.proc, "agora-wsd", path="/healthz")
    return s


def start_nchan():
    if not os.path.exists(NCHAN_MODULE) or shutil.which("nginx") is None:
        raise RuntimeError("nginx + nchan missing (Debian: nginx libnginx-mod-nchan)")
    prefix = os.path.join(VAR, "nchan")
    os.makedirs(os.path.join(prefix, "tmp"), exist_ok=True)
    with open(os.path.join(HERE, "peers", "nchan", "nginx.conf.in")) as f:
        conf = (f.read().replace("@PREFIX@", prefix).replace("@PORT@", str(NCHAN_PORT))
                .replace("@MODULE@", NCHAN_MODULE))
    with open(os.path.join(prefix, "nginx.conf"), "w") as f:
        f.write(conf)
    s = Server("nchan", ["nginx", "-p", prefix, "-c", os.path.join(prefix, "nginx.conf")])
    _wait_port(NCHAN_PORT, s.proc, "nginx")
    time.sleep(0.3)  # the worker comes up after the master listens
    return s


def nginx_version():
    try:
        r = subprocess.run(["nginx", "-v"], capture_output=True, text=True)
        v = r.stderr.strip()
        pkg = subprocess.run(["dpkg-query", "-W", "-f=${Version}", "libnginx-mod-nchan"],
                             capture_output=True, text=True).stdout.strip()
        return f"{v}; nchan {pkg}"
    except OSError:
        return None


# ---- the load generator ------------------------------------------------------------
def quiet(server, below=10.0, limit=120):
    """Wait until the server uses less than `below`% of a core over a second: after
    10k connects agora-wsd still creates durable consumers and announces presence."""
    t0 = time.monotonic()
    while time.monotonic() - t0 < limit:
        s = bl.Sampler({"server": server.worker_pids})
        time.sleep(1)
        if s.stop()["cpu_pct"]["server"] < below:
            break
    print(f"  server quiet after {time.monotonic() - t0:.0f}s", file=sys.stderr, flush=True)


def perf_start(server):
    """`perf record -g` of the server over the measured seconds (AGORA_BENCH_FANOUT_PERF),
    on the load generator's core so that it costs the server's core nothing."""
    d = os.environ.get("AGORA_BENCH_FANOUT_PERF")
    if not d:
        return None
    os.makedirs(d, exist_ok=True)
    out = os.path.join(d, f"{server.name}-{getattr(server, 'rate', 0)}.data")
    pids = ",".join(str(x) for x in server.worker_pids())
    return subprocess.Popen(["taskset", "-c", LOADGEN_CPU, "perf", "record", "-q", "-g", "-F",
                             "999", "-p", pids, "-o", out], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)


def perf_stop(perf):
    if perf is not None:
        perf.send_signal(signal.SIGINT)
        perf.wait(30)


def loadgen(args, server, groups=None):
    """Run bench/loadgen pinned to LOADGEN_CPU; sample the server (and any other
    process `groups`, name -> callable giving pids) between its MEASURE and
    MEASURED lines; returns (result json, sampler result)."""
    p = subprocess.Popen(["taskset", "-c", LOADGEN_CPU, LOADGEN] + args, stdout=subprocess.PIPE,
                         stdin=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                         preexec_fn=_raise_nofile)
    sampler, sampled, result, perf = None, None, None, None
    for line in p.stdout:
        line = line.strip()
        if line == "RAMPED":
            quiet(server)
            p.stdin.write("go\n")   # loadgen reads stdin: a line wakes it, EOF stops waiting
            p.stdin.close()
        elif line == "MEASURE":
            sampler = bl.Sampler({"server": server.worker_pids, **(groups or {}),
                                  "loadgen": lambda: [p.pid]})
            perf = perf_start(server)
        elif line == "MEASURED" and sampler:
            sampled = sampler.stop()
            sampled["rss_kib_end"] = server.rss_kib()
            perf_stop(perf)
        elif line.startswith("{"):
            result = json.loads(line)
    p.wait()
    if result is None:
        raise RuntimeError(f"loadgen failed: {p.stderr.read().strip()[-400:]}")
    return result, sampled


def run_fanout(name, server, paths, targets, pub, pub_addr, subs, rate, seconds, warmup,
               want_frame, per_channel):
    args = ["fanout", "--ws", f"127.0.0.1:{server_port(name)}", "--paths", paths, "--n",
            str(subs), "--src", "127.0.0.2", "--pub", pub, "--pub-addr", pub_addr, "--targets",
            targets, "--rate", str(rate), "--warmup", str(warmup), "--seconds", str(seconds)]
    if want_frame:
        args.append("--want-frame")
    server.rate = rate
    r, s = loadgen(args, server)
    expected = r["published_measured"] * per_channel
    row = {"server": name, "subscribers": subs, "rate": rate,
           "deliveries_per_s": round(r["counted"] / seconds) if seconds else 0,
           "p50_ms": r["p50_ms"], "p90_ms": r["p90_ms"], "p99_ms": r["p99_ms"],
           "p999_ms": r["p999_ms"], "max_ms": r["max_ms"],
           "delivered_pct": round(100.0 * r["counted"] / expected, 2) if expected else None,
           "server_cpu_pct": s["cpu_pct"]["server"] if s else None,
           "server_rss_mib": round(s["rss_kib_end"] / 1024.0, 1) if s else None,
           "loadgen_cpu_pct": s["cpu_pct"]["loadgen"] if s else None, "loadgen": r}
    print(f"  {name:<6} {rate:>5} msg/s  p50 {row['p50_ms']:.2f}  p99 {row['p99_ms']:.2f}  "
          f"max {row['max_ms']:.1f} ms  delivered {row['delivered_pct']}%  cpu "
          f"{row['server_cpu_pct']}%", file=sys.stderr, flush=True)
    return row


def server_port(name):
    return WSD_PORT if name == "agora-wsd" else NCHAN_PORT


def main():
    subs = int(os.environ.get("AGORA_BENCH_FANOUT_SUBS", "10000"))
    nch = int(os.environ.get("AGORA_BENCH_FANOUT_CHANNELS", "100"))
    rates = [int(x) for x in os.environ.get("AGORA_BENCH_FANOUT_RATES", "1000").split(",")]
    seconds = int(os.environ.get("AGORA_BENCH_SECONDS", "10"))
    warmup = int(os.environ.get("AGORA_BENCH_WARMUP", "3"))
    which = os.environ.get("AGORA_BENCH_FANOUT_TARGETS", "wsd,nchan").split(",")
    if not os.path.exists(LOADGEN):
        raise SystemExit(f"{LOADGEN} is not built")
    rows = []
    per_channel = subs // nch
    if "wsd" in which:
        uids, cids = seed_ws(subs, nch)
        paths = wsd_paths(uids)
        targets = write_lines("wsd-targets.txt", [f"channel.{c}.message.created" for c in cids])
        for rate in rates:
            with StackWsdPaused():
                s = start_wsd()
                try:
                    rows.append(run_fanout("agora-wsd", s, paths, targets, "nats",
                                           f"127.0.0.1:{os.environ['AGORA_NATS_PORT']}", subs,
                                           rate, seconds, warmup, True, per_channel))
                finally:
                    s.stop()
    if "nchan" in which:
        paths = write_lines("nchan-paths.txt", [f"/sub/c{i % nch}" for i in range(subs)])
        targets = write_lines("nchan-targets.txt", [f"/pub/c{k}" for k in range(nch)])
        for rate in rates:
            try:
                s = start_nchan()
            except RuntimeError as e:
                print(f"  nchan: {e}", file=sys.stderr)
                break
            try:
                rows.append(run_fanout("nchan", s, paths, targets, "http",
                                       f"127.0.0.1:{NCHAN_PORT}", subs, rate, seconds, warmup,
                                       False, per_channel))
            finally:
                s.stop()
    data = {"benchmark": "fanout", "subscribers": subs, "channels": nch, "seconds": seconds,
            "warmup": warmup, "pinning": {"server": SERVER_CPU, "loadgen": LOADGEN_CPU},
            "nginx": nginx_version(), "runs": rows,
            "anchor": "ENVIRONMENT.md: nchan 10k subs/100 ch/1,000 msg/s p50 0.43 ms p99 2.1 ms "
                      "at 76% of a core"}
    path = bl.save("fanout", data)
    print(f"fanout: {subs} subscribers over {nch} channels, {seconds} s after {warmup} s warm-up "
          f"(server on core {SERVER_CPU}, loadgen on core {LOADGEN_CPU}) -> {path}")
    bl.table([{k: (f"{v:.2f}" if isinstance(v, float) else v) for k, v in r.items()
               if k != "loadgen"} for r in rows],
             ["server", "rate", "deliveries_per_s", "p50_ms", "p99_ms", "p999_ms", "max_ms",
              "delivered_pct", "server_cpu_pct", "server_rss_mib", "loadgen_cpu_pct"])


if __name__ == "__main__":
    main()
