#!/usr/bin/python3
"""bench/fanout.py — `./agora bench fanout`: 10k WebSocket subscribers over 100
channels, events published at fixed rates, end-to-end latency from publish to
receipt (p50/p99/max) measured by bench/loadgen (C, epoll), and the CPU, RSS and
system calls of the server; agora-wsd (events published to JetStream,
CHANNEL_STREAM) beside nginx + nchan carrying the same pattern (subscribers over
WebSocket, publishes over HTTP, pipelined so that the publisher keeps the rate),
in the same run, and agora-wsd again with two worker processes (ws_workers = 2).
Beside each agora-wsd row, the broker's own floor: the same events from a JetStream
push consumer of the load generator's (publish to delivery, timed in the same process).
Each server gets its subscribers once and then every rate in turn. The server
under test is pinned to core 0 (the two-process one to cores 0 and 1, a worker
on each), the load generator to core 1 (ENVIRONMENT.md): on a two-core machine the
two-process row shares a core with the load generator. Then idle memory per
session at 19,000 connections (bench/connections.py's measure). Issue 14's goals:
at 100k deliveries/s p99 and CPU no worse than nchan's at the same achieved rate;
200k deliveries/s all delivered with p99 under 50 ms; two processes at least 1.8x
the deliveries/s of one at p99 <= 50 ms; idle <= 3.5 KiB per session. A row whose
achieved publish rate differs from its peer's by more than 2 % is marked as no
comparison. Reports; never fails the suite.

Knobs: AGORA_BENCH_FANOUT_SUBS (10000), AGORA_BENCH_FANOUT_CHANNELS (100),
AGORA_BENCH_FANOUT_RATES (1000,2000,3000,4000 events/s: x100 deliveries/s),
AGORA_BENCH_SECONDS (10), AGORA_BENCH_WARMUP (3), AGORA_BENCH_FANOUT_TARGETS
(nchan,wsd,wsd2), AGORA_BENCH_FANOUT_REPEAT (1: rounds, each row the round with the
median p99), AGORA_BENCH_FANOUT_IDLE (19000; 0 skips the idle rows),
AGORA_BENCH_SERVER_CPU (0), AGORA_BENCH_SERVER2_CPUS (0,1), AGORA_BENCH_LOADGEN_CPU
(1), AGORA_BENCH_FANOUT_SYSCALLS (1: count the server's system calls with perf stat),
AGORA_BENCH_FANOUT_BASELINE (unset; another agora-wsd binary, e.g. an older
commit's build, measured in the same run as "agora-wsd baseline"),
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
# the stack's ports are AGORA_BENCH_PORT_BASE (AGORA_HTTP_PORT) + 0..5, the Node peers
# + 10..14; the daemons under test and nginx here: + 20.. (several wsd for `cluster`)
PORT_BASE = int(os.environ.get("AGORA_HTTP_PORT", "28080"))
WSD_PORT = int(os.environ.get("AGORA_BENCH_WSD_PORT", str(PORT_BASE + 21)))
NCHAN_PORT = int(os.environ.get("AGORA_BENCH_NCHAN_PORT", str(PORT_BASE + 22)))
SERVER_CPU = os.environ.get("AGORA_BENCH_SERVER_CPU", "0")
SERVER2_CPUS = os.environ.get("AGORA_BENCH_SERVER2_CPUS", "0,1")
LOADGEN_CPU = os.environ.get("AGORA_BENCH_LOADGEN_CPU", "1")
NCHAN_MODULE = "/usr/lib/nginx/modules/ngx_nchan_module.so"
# another agora-wsd binary (an older commit's build) measured in the same run: "before"
BASELINE = os.environ.get("AGORA_BENCH_FANOUT_BASELINE")


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
    # memberships in one statement (idempotent), and none other between these users and the
    # benchmark channels: e2e (1,000 users over 10 channels) and fanout (10,000 over 100)
    # map the same users to channels differently, and a subscriber in two channels would
    # get events the count does not expect
    bl.psql(f"""
DELETE FROM memberships m
  USING (SELECT id, row_number() OVER (ORDER BY id) - 1 AS k FROM users
         WHERE username LIKE 'wsb\\_%' ORDER BY id LIMIT {users}) u,
        (SELECT id, row_number() OVER (ORDER BY id) - 1 AS k FROM channels
         WHERE name LIKE 'wsbench %') c
  WHERE m.user_id = u.id AND m.channel_id = c.id AND c.k <> u.k % {channels};
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

    def __init__(self, name, args, env=None, port=None, cpus=SERVER_CPU):
        self.name, self.port = name, port
        log = open(os.path.join(VAR, "logs", f"bench-{name}.log"), "ab")
        self.proc = subprocess.Popen(["taskset", "-c", cpus] + args,
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

    def connections_per_worker(self):
        """Established connections to our port held by each worker process (inode match
        of /proc/<pid>/fd against /proc/net/tcp*): how evenly the kernel spread them."""
        owner = {}
        for pid in self.worker_pids():
            try:
                for fd in os.listdir(f"/proc/{pid}/fd"):
                    link = os.readlink(f"/proc/{pid}/fd/{fd}")
                    if link.startswith("socket:["):
                        owner[link[8:-1]] = pid
            except OSError:
                pass
        n = {pid: 0 for pid in self.worker_pids()}
        for table in ("/proc/net/tcp", "/proc/net/tcp6"):
            try:
                with open(table) as f:
                    next(f)
                    for line in f:
                        c = line.split()
                        if (c[3] == "01" and int(c[1].rsplit(":", 1)[1], 16) == self.port
                                and c[9] in owner):
                            n[owner[c[9]]] += 1
            except OSError:
                pass
        return sorted(n.values(), reverse=True)

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


def start_wsd(extra_env=None, workers=1, binary=None):
    """agora-wsd (or another build of it: binary) on WSD_PORT pinned to SERVER_CPU; with
    workers > 1 (ws_workers), each worker process pinned to one of SERVER2_CPUS."""
    env = {"AGORA_WS_PORT": str(WSD_PORT), "AGORA_WS_CONN_PER_USER": "100000",
           "AGORA_LOG_LEVEL": "warn", "AGORA_WS_WORKERS": str(workers)}
    env.update(extra_env or {})
    cpus = SERVER_CPU if workers == 1 else SERVER2_CPUS
    s = Server("wsd" if workers == 1 else f"wsd{workers}", [binary or WSD], env, WSD_PORT, cpus)
    _wait_port(WSD_PORT, s.proc, "agora-wsd", path="/healthz")
    if workers > 1:
        deadline = time.monotonic() + 20
        while len(s.worker_pids()) < workers and time.monotonic() < deadline:
            time.sleep(0.1)
        for i, pid in enumerate(sorted(s.worker_pids())):
            cpu = cpus.split(",")[i % len(cpus.split(","))]
            subprocess.run(["taskset", "-a", "-cp", cpu, str(pid)], capture_output=True)
        # every worker's /healthz: each has its own live consumer to come up
        for _ in range(workers * 4):
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
    s = Server("nchan", ["nginx", "-p", prefix, "-c", os.path.join(prefix, "nginx.conf")],
               port=NCHAN_PORT)
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
def metric(port, name):
    """A value of agora-wsd's /metrics, summed over its workers (with ws_workers > 1 any
    worker answers with every worker's samples, labelled worker="i"), or None."""
    total = None
    try:
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
        c.request("GET", "/metrics")
        for line in c.getresponse().read().decode().splitlines():
            if line.startswith(name + " ") or line.startswith(name + "{"):
                total = (total or 0.0) + float(line.split()[-1])
    except (OSError, ValueError, http.client.HTTPException):
        pass
    return total


def quiet(server, below=10.0, limit=180):
    """Wait until the server uses less than `below`% of a core over a second and, for
    agora-wsd, has no job left: after 10k connects it still creates two durable
    consumers per user on JetStream and announces presence (jobs_pending of /metrics, of
    every worker)."""
    t0 = time.monotonic()
    while time.monotonic() - t0 < limit:
        s = bl.Sampler({"server": server.worker_pids})
        time.sleep(1)
        busy = s.stop()["cpu_pct"]["server"] >= below
        if not busy and getattr(server, "port", None) == WSD_PORT:
            busy = (metric(WSD_PORT, "agora_wsd_jobs_pending") or 0) > 0
        if not busy:
            break
    print(f"  server quiet after {time.monotonic() - t0:.0f}s", file=sys.stderr, flush=True)


def perf_start(server, rate):
    """`perf record -g` of the server over the measured seconds (AGORA_BENCH_FANOUT_PERF),
    on the load generator's core so that it costs the server's core nothing."""
    d = os.environ.get("AGORA_BENCH_FANOUT_PERF")
    if not d:
        return None
    os.makedirs(d, exist_ok=True)
    out = os.path.join(d, f"{server.name}-{rate}.data")
    pids = ",".join(str(x) for x in server.worker_pids())
    return subprocess.Popen(["taskset", "-c", LOADGEN_CPU, "perf", "record", "-q", "-g", "-F",
                             "999", "-p", pids, "-o", out], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)


def perf_stop(perf):
    if perf is not None:
        perf.send_signal(signal.SIGINT)
        try:
            perf.wait(30)
        except subprocess.TimeoutExpired:
            perf.kill()


SYSCALLS = ("sendto", "write", "writev", "read", "recvfrom", "epoll_wait", "epoll_ctl", "poll",
            "futex")


def syscalls_start(server):
    """Count the server's system calls over the measured seconds: every one
    (raw_syscalls:sys_enter) and the usual suspects by name, with `perf stat` on
    in-kernel tracepoint counters (no per-call stop as under strace), running on the
    load generator's core. AGORA_BENCH_FANOUT_SYSCALLS=0 turns it off."""
    if os.environ.get("AGORA_BENCH_FANOUT_SYSCALLS", "1") == "0" or not shutil.which("perf"):
        return None
    events = ["raw_syscalls:sys_enter"] + [f"syscalls:sys_enter_{s}" for s in SYSCALLS]
    pids = ",".join(str(x) for x in server.worker_pids())
    try:
        return subprocess.Popen(["taskset", "-c", LOADGEN_CPU, "perf", "stat", "-I", "500", "-x",
                                 ",", "-e", ",".join(events), "-p", pids],
                                stdout=subprocess.DEVNULL,
                                stderr=subprocess.PIPE, text=True)
    except OSError:
        return None


def syscalls_stop(p):
    """System calls per second since syscalls_start, {"total": n, "sendto": n, ...}, or
    None. perf prints counts every 500 ms: the rate is taken over those whole intervals,
    so that a perf that attached late (a loaded machine) does not read as fewer calls."""
    if p is None:
        return None
    p.send_signal(signal.SIGINT)
    try:
        _, err = p.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        p.kill()
        return None
    sums, stamps = {}, []
    for line in err.splitlines():
        f = line.split(",")
        if len(f) < 4 or not f[1].strip().isdigit():
            continue
        t, name = float(f[0]), f[3].strip()
        key = "total" if name == "raw_syscalls:sys_enter" else name.replace(
            "syscalls:sys_enter_", "")
        if not stamps or stamps[-1] != t:
            stamps.append(t)
        sums.setdefault(key, []).append((t, int(f[1])))
    if len(stamps) < 2:
        return None
    whole = stamps[:-1]  # perf's clock starts at 0; the last interval ended with SIGINT
    span = whole[-1]
    return {k: round(sum(c for t, c in v if t in whole) / span, 1) for k, v in sums.items()}


def _merge(results):
    """One phase's results of several loadgen processes (the first one published) as one:
    counts summed, percentiles from the summed histograms."""
    if len(results) == 1:
        return results[0]
    m = dict(results[0])
    for k in ("subscribers", "open", "failed", "closed", "received", "counted", "duplicates",
              "reordered", "foreign"):
        m[k] = sum(r.get(k, 0) for r in results)
    m["max_ms"] = max(r["max_ms"] for r in results)
    hist = {}
    for r in results:
        for us, n in r.get("hist", []):
            hist[us] = hist.get(us, 0) + n
    total, acc, keys = sum(hist.values()), 0, sorted(hist)
    for name, p in (("p50_ms", 50), ("p90_ms", 90), ("p99_ms", 99), ("p999_ms", 99.9)):
        want, acc, m[name] = int(total * p / 100), 0, -1
        for us in keys:
            acc += hist[us]
            if acc > want:
                m[name] = us / 1000.0 + 0.0005
                break
    m["loadgen_procs"] = len(results)
    return m


def loadgen(args, server, groups=None, hook=None):
    """Run bench/loadgen pinned to LOADGEN_CPU (args: one argument list, or several for
    several processes, the first of which publishes); for each phase (one per rate),
    sample the server (and any other process `groups`, name -> callable giving pids)
    between the publisher's MEASURE and MEASURED lines and count the server's system
    calls (hook, when given, is called with "MEASURE" and "MEASURED" there too); returns a
    list of (result json, sampler result) in phase order."""
    import queue
    import threading
    arglists = args if isinstance(args[0], list) else [args]
    cpus = LOADGEN_CPU.split(",")
    ps, q = [], queue.Queue()
    for i, a in enumerate(arglists):
        p = subprocess.Popen(["taskset", "-c", cpus[i % len(cpus)], LOADGEN] + a,
                             stdout=subprocess.PIPE, stdin=subprocess.PIPE, stderr=subprocess.PIPE,
                             text=True, preexec_fn=_raise_nofile)
        ps.append(p)

        def pump(i=i, p=p):
            for line in p.stdout:
                q.put((i, line.strip()))
            q.put((i, None))
        threading.Thread(target=pump, daemon=True).start()
    sampler, sampled, perf, sc, spread = None, None, None, None, None
    ramped, ended, phases, got = 0, 0, [], {}
    while ended < len(ps):
        i, line = q.get()
        if line is None:
            ended += 1
        elif line == "RAMPED":
            ramped += 1
            if ramped == len(ps):
                quiet(server)
                spread = getattr(server, "connections_per_worker", lambda: None)()
                # every process starts its phases at the same moment (CLOCK_MONOTONIC)
                t0 = time.clock_gettime_ns(time.CLOCK_MONOTONIC) + 300_000_000
                for p in ps:
                    p.stdin.write(f"go {t0}\n")
                    p.stdin.close()
        elif i == 0 and line.startswith("MEASURE "):
            sampler = bl.Sampler({"server": server.worker_pids, **(groups or {}),
                                  "loadgen": lambda: [p.pid for p in ps]})
            perf = perf_start(server, line.split()[1])
            sc = syscalls_start(server)
            if hook:
                hook("MEASURE")
        elif i == 0 and line.startswith("MEASURED") and sampler:
            sampled = sampler.stop()
            sampled["rss_kib_end"] = server.rss_kib()
            sampled["syscalls"] = syscalls_stop(sc)
            sampled["loadavg"] = [round(x, 2) for x in os.getloadavg()]
            if hook:
                hook("MEASURED")
            perf_stop(perf)
            sampler = None
            phases.append(sampled)
        elif line.startswith("{"):
            got.setdefault(i, []).append(json.loads(line))
    for p in ps:
        p.wait()
    n = min((len(v) for v in got.values()), default=0) if len(got) == len(ps) else 0
    if n == 0:
        raise RuntimeError(f"loadgen failed: {ps[0].stderr.read().strip()[-400:]}")
    out = []
    for k in range(n):
        r = _merge([got[i][k] for i in range(len(ps))])
        r.pop("hist", None)
        r["connections_per_worker"] = spread
        out.append((r, phases[k] if k < len(phases) else None))
    return out


def loadgen_one(args, server, groups=None):
    """One phase (one rate): (result json, sampler result)."""
    return loadgen(args, server, groups)[0]


def row_of(name, procs, r, s, subs, per_channel, seconds):
    expected = r["published_measured"] * per_channel
    deliveries = r["counted"] / seconds if seconds else 0
    cpu = s["cpu_pct"]["server"] if s else None
    sc = (s or {}).get("syscalls") or {}
    row = {"server": name, "processes": procs, "subscribers": subs, "rate": r["rate"],
           "achieved_rate": round(r["published_measured"] / seconds, 1),
           "deliveries_per_s": round(deliveries),
           "p50_ms": r["p50_ms"], "p90_ms": r["p90_ms"], "p99_ms": r["p99_ms"],
           "p999_ms": r["p999_ms"], "max_ms": r["max_ms"],
           "delivered_pct": round(100.0 * r["counted"] / expected, 2) if expected else None,
           "duplicates": r.get("duplicates"), "reordered": r.get("reordered"),
           "closed": r.get("closed"),
           "connections_per_worker": r.get("connections_per_worker"),
           "pub_skipped": r.get("pub_skipped"), "pub_behind_max_ms": r.get("pub_behind_max_ms"),
           "server_cpu_pct": cpu,
           "cpu_us_per_delivery": round(cpu / 100.0 * 1e6 / deliveries, 2)
           if cpu is not None and deliveries else None,
           "server_rss_mib": round(s["rss_kib_end"] / 1024.0, 1) if s else None,
           "loadgen_cpu_pct": s["cpu_pct"]["loadgen"] if s else None,
           "nats_cpu_pct": (s["cpu_pct"].get("nats") if s else None),
           "loadavg": (s or {}).get("loadavg"),
           "jetstream_floor_p50_ms": r.get("floor_p50_ms"),
           "jetstream_floor_p99_ms": r.get("floor_p99_ms"),
           "syscalls_per_delivery": round(sc["total"] / deliveries, 2)
           if sc.get("total") and deliveries else None,
           "syscalls_by_name_per_delivery": {k: round(v / deliveries, 3) for k, v in sc.items()
                                             if k != "total" and v} if deliveries else None,
           "loadgen": r}
    # a figure taken while the load generator had no CPU left measures the load generator
    row["loadgen_bound"] = bool(row["loadgen_cpu_pct"] and row["loadgen_cpu_pct"] >= 90)
    print(f"  {name:<10} {r['rate']:>5}/s (got {row['achieved_rate']}/s)  p50 {row['p50_ms']:.2f}  "
          f"p99 {row['p99_ms']:.2f}  max {row['max_ms']:.1f} ms  delivered "
          f"{row['delivered_pct']}%  dups {row['duplicates']}  cpu {cpu}%  "
          f"syscalls/delivery {row['syscalls_per_delivery']}  loadgen {row['loadgen_cpu_pct']}%  "
          f"jetstream floor p99 {row['jetstream_floor_p99_ms']}  "
          f"load {row['loadavg']}", file=sys.stderr, flush=True)
    return row


def run_fanout(name, procs, server, paths, targets, pub, pub_addr, subs, rates, seconds, warmup,
               want_frame, per_channel):
    common = ["fanout", "--ws", f"127.0.0.1:{server.port}", "--paths", paths, "--targets",
              targets, "--rate", ",".join(str(r) for r in rates), "--warmup", str(warmup),
              "--seconds", str(seconds)]
    if want_frame:
        common.append("--want-frame")
    # AGORA_BENCH_LOADGEN_PROCS processes share the subscribers (one source address each):
    # one process is one core, and one core's worth of reading is ~200k frames/s
    k = max(1, int(os.environ.get("AGORA_BENCH_LOADGEN_PROCS", "1")))
    arglists, floor = [], None
    for i in range(k):
        n = subs // k + (1 if i < subs % k else 0)
        first = sum(subs // k + (1 if j < subs % k else 0) for j in range(i))
        a = common + ["--n", str(n), "--src", f"127.0.0.{2 + i}", "--first", str(first)]
        if i == 0:
            a += ["--pub", pub, "--pub-addr", pub_addr]
            floor = floor_consumer() if pub == "nats" else None
            if floor:
                a += ["--floor", floor[0]]
            if pub == "http":
                # pipelined: nchan answers a publish only when its loop gets to it, and with
                # one request in flight per connection the publisher fell behind (4,536 of
                # 13,000 publishes skipped in an earlier run: a lighter load than agora-wsd's)
                a += ["--pipeline", "256"]
        else:
            a += ["--pub", "none"]
        if k > 1:
            a.append("--hist")
        arglists.append(a)
    groups = {"nats": bl.pidfile("nats")} if pub == "nats" else {}
    try:
        return [row_of(name, procs, r, s, subs, per_channel, seconds)
                for r, s in loadgen(arglists, server, groups)]
    finally:
        floor_delete(floor)


def nats_request(subject, body, timeout=10):
    """One NATS request (the JetStream API) on a connection of its own; the reply's JSON."""
    s = socket.create_connection(("127.0.0.1", int(os.environ["AGORA_NATS_PORT"])), timeout)
    try:
        s.recv(4096)
        b = json.dumps(body).encode()
        s.sendall(b'CONNECT {"verbose":false}\r\nSUB _INBOX.fl 1\r\n' +
                  f"PUB {subject} _INBOX.fl {len(b)}\r\n".encode() + b + b"\r\n")
        buf = b""
        while True:
            buf += s.recv(65536)
            i = buf.find(b"MSG _INBOX.fl ")
            if i >= 0 and b"\r\n" in buf[i:]:
                line, rest = buf[i:].split(b"\r\n", 1)
                n = int(line.split()[-1])
                if len(rest) >= n:
                    return json.loads(rest[:n])
    finally:
        s.close()


def floor_consumer():
    """An ephemeral push consumer of every new CHANNEL_STREAM event for the load generator
    itself (loadgen --floor): the broker's publish-to-delivery latency of the same events,
    in the same process that times the WebSocket deliveries, the floor under agora-wsd's.
    Returns (deliver subject, consumer name), deleted by floor_delete; the server drops it
    anyway 10 minutes after its subscription goes."""
    subj = "_bench.floor." + os.urandom(4).hex()
    r = nats_request("$JS.API.CONSUMER.CREATE.CHANNEL_STREAM",
                     {"stream_name": "CHANNEL_STREAM",
                      "config": {"deliver_subject": subj, "deliver_policy": "new",
                                 "ack_policy": "none", "filter_subject": "channel.*.message.*",
                                 "inactive_threshold": 600_000_000_000}})
    if "error" in r:
        print(f"  no floor consumer: {r['error']}", file=sys.stderr)
        return None
    return subj, r["name"]


def floor_delete(floor):
    if floor:
        nats_request(f"$JS.API.CONSUMER.DELETE.CHANNEL_STREAM.{floor[1]}", {})


# ---- one table: agora-wsd beside nchan at the same achieved load ------------------------
def compare(rows):
    """Mark each agora-wsd row with its nchan peer at the same rate (same round) and
    whether they are a comparison at all: achieved rates within 2 % of each other."""
    for r in rows:
        if r["server"] == "nchan":
            continue
        peer = next((n for n in rows if n["server"] == "nchan" and n["rate"] == r["rate"]
                     and n.get("round") == r.get("round")), None)
        if peer is None:
            r["comparable"] = None
            continue
        a, b = r["achieved_rate"], peer["achieved_rate"]
        r["peer_achieved_rate"] = b
        r["comparable"] = bool(a and b and abs(a - b) / max(a, b) <= 0.02)


def capacity(rows, name, p99_max=50.0):
    """The highest deliveries/s of a server whose p99 stayed within p99_max ms with every
    event delivered (>= 99.9 %, no duplicates, no session closed) and the publisher on
    rate: the figure the two-core goal is stated in."""
    best = None
    for r in rows:
        if r["server"] != name:
            continue
        ok = (r["p99_ms"] is not None and 0 <= r["p99_ms"] <= p99_max and
              (r["delivered_pct"] or 0) >= 99.9 and not r["duplicates"] and not r["closed"] and
              r["achieved_rate"] >= 0.98 * r["rate"])
        if ok and (best is None or r["deliveries_per_s"] > best["deliveries_per_s"]):
            best = r
    return best


def median_rows(rows):
    """Per server and rate, the round with the median p99 (all rounds stay in the JSON)."""
    out = []
    keys = []
    for r in rows:
        k = (r["server"], r["rate"])
        if k not in keys:
            keys.append(k)
    for k in keys:
        rs = sorted((r for r in rows if (r["server"], r["rate"]) == k), key=lambda r: r["p99_ms"])
        m = dict(rs[len(rs) // 2])
        m["p99_all_rounds"] = [r["p99_ms"] for r in rs]
        out.append(m)
    return out


def idle_rows(uids):
    """Idle memory per session at AGORA_BENCH_FANOUT_IDLE connections (19,000: the fd
    limit of one process), agora-wsd beside nchan: bench/connections.py's measure."""
    n = int(os.environ.get("AGORA_BENCH_FANOUT_IDLE", "19000"))
    if n <= 0:
        return []
    import connections
    rows = connections.measure("agora-wsd", start_wsd, WSD_PORT, wsd_paths(uids), [n], 2, True)
    paths = write_lines("nchan-paths.txt", [f"/sub/c{i % 100}" for i in range(10000)])
    try:
        rows += connections.measure("nchan", start_nchan, NCHAN_PORT, paths, [n], 2, False)
    except RuntimeError as e:
        print(f"  nchan: {e}", file=sys.stderr)
    return rows


def main():
    subs = int(os.environ.get("AGORA_BENCH_FANOUT_SUBS", "10000"))
    nch = int(os.environ.get("AGORA_BENCH_FANOUT_CHANNELS", "100"))
    rates = [int(x) for x in os.environ.get("AGORA_BENCH_FANOUT_RATES",
                                            "1000,2000,3000,4000").split(",")]
    seconds = int(os.environ.get("AGORA_BENCH_SECONDS", "10"))
    warmup = int(os.environ.get("AGORA_BENCH_WARMUP", "3"))
    repeat = int(os.environ.get("AGORA_BENCH_FANOUT_REPEAT", "1"))
    # nchan first: agora-wsd leaves two durable JetStream consumers per user behind (their
    # idle heartbeats keep nats-server busy), which nchan's run should not share the box with
    which = os.environ.get("AGORA_BENCH_FANOUT_TARGETS", "nchan,wsd,wsd2").split(",")
    if BASELINE and "base" not in which:
        which.append("base")
    if not os.path.exists(LOADGEN):
        raise SystemExit(f"{LOADGEN} is not built")
    per_channel = subs // nch
    uids, cids = seed_ws(subs, nch)
    wpaths = wsd_paths(uids)
    wtargets = write_lines("wsd-targets.txt", [f"channel.{c}.message.created" for c in cids])
    npaths = write_lines("nchan-paths.txt", [f"/sub/c{i % nch}" for i in range(subs)])
    ntargets = write_lines("nchan-targets.txt", [f"/pub/c{k}" for k in range(nch)])
    nats = f"127.0.0.1:{os.environ['AGORA_NATS_PORT']}"
    rows = []
    for rnd in range(repeat):
        for t in which:
            try:
                if t in ("wsd", "wsd2", "base"):
                    procs = 2 if t == "wsd2" else 1
                    name = {"wsd": "agora-wsd", "wsd2": "agora-wsd x2",
                            "base": "agora-wsd baseline"}[t]
                    with StackWsdPaused():
                        s = start_wsd(workers=procs, binary=BASELINE if t == "base" else None)
                        try:
                            got = run_fanout(name, procs,
                                             s, wpaths, wtargets, "nats", nats, subs, rates,
                                             seconds, warmup, True, per_channel)
                        finally:
                            s.stop()
                else:
                    s = start_nchan()
                    try:
                        got = run_fanout("nchan", 1, s, npaths, ntargets, "http",
                                         f"127.0.0.1:{NCHAN_PORT}", subs, rates, seconds, warmup,
                                         False, per_channel)
                    finally:
                        s.stop()
            except RuntimeError as e:
                print(f"  {t}: {e}", file=sys.stderr)
                continue
            for g in got:
                g["round"] = rnd
            rows += got
    compare(rows)
    med = median_rows(rows) if repeat > 1 else rows
    caps = {}
    for name in ("agora-wsd", "agora-wsd x2", "nchan"):
        c = capacity(med, name)
        if any(r["server"] == name for r in med):
            caps[name] = {"deliveries_per_s": c["deliveries_per_s"] if c else 0,
                          "rate": c["rate"] if c else None, "p99_ms": c["p99_ms"] if c else None,
                          "highest_rate_tried": max(r["rate"] for r in med
                                                    if r["server"] == name) * per_channel}
    idle = idle_rows(uids)
    data = {"benchmark": "fanout", "subscribers": subs, "channels": nch, "seconds": seconds,
            "warmup": warmup, "repeat": repeat,
            "pinning": {"server": SERVER_CPU, "server_x2": SERVER2_CPUS, "loadgen": LOADGEN_CPU},
            "nginx": nginx_version(), "runs": med, "all_runs": rows if repeat > 1 else None,
            "capacity_p99_50ms": caps, "idle": idle,
            "anchor": "ENVIRONMENT.md: nchan 10k subs/100 ch/1,000 msg/s p50 0.43 ms p99 2.1 ms "
                      "at 76% of a core"}
    path = bl.save("fanout", data)
    print(f"fanout: {subs} subscribers over {nch} channels, {seconds} s after {warmup} s warm-up "
          f"per rate (server on cpu {SERVER_CPU}, two-process agora-wsd on {SERVER2_CPUS}, "
          f"loadgen on {LOADGEN_CPU}) -> {path}")
    bl.table([{k: (f"{v:.2f}" if isinstance(v, float) else v) for k, v in r.items()
               if k not in ("loadgen", "syscalls_by_name_per_delivery", "all_rounds")}
              for r in med],
             ["server", "rate", "achieved_rate", "comparable", "deliveries_per_s", "p50_ms",
              "p99_ms", "p999_ms", "max_ms", "delivered_pct", "duplicates", "server_cpu_pct",
              "cpu_us_per_delivery", "syscalls_per_delivery", "server_rss_mib",
              "loadgen_cpu_pct", "loadgen_bound", "jetstream_floor_p99_ms"])
    for name, c in caps.items():
        print(f"  {name}: {c['deliveries_per_s']} deliveries/s at p99 <= 50 ms "
              f"(highest tried {c['highest_rate_tried']})")


if __name__ == "__main__":
    main()
