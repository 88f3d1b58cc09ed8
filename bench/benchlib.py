"""bench/benchlib.py — running wrk and reading its numbers; shared by the benchmarks."""
import json
import os
import platform
import re
import subprocess

HERE = os.path.dirname(os.path.abspath(__file__))
RESULTS = os.path.join(HERE, "results")
PGBIN = "/usr/lib/postgresql/15/bin"
PGBENCH = PGBIN + "/pgbench"
PSQL = PGBIN + "/psql"


def _ms(v, unit):
    return float(v) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def wrk(url, conns=32, seconds=10, threads=2, headers=None, script=None, warmup=2, procs=None):
    """Run wrk after a short warm-up; returns req/s, latency percentiles (ms), errors.
    procs: {group: callable returning pids} sampled for CPU and RSS during the run."""
    args = ["wrk", f"-t{threads}", f"-c{conns}", "--latency", "--timeout", "5s"]
    for k, v in (headers or {}).items():
        args += ["-H", f"{k}: {v}"]
    # every script prints p99.9 (PCT lines); plain GETs get the one that only does that
    script = script or os.path.join(HERE, "pct.lua")
    # the path goes to the script (it may hold {id}); wrk gets the bare origin
    from urllib.parse import urlsplit
    u = urlsplit(url)
    args += ["-s", script]
    tail = ["--", u.path + (("?" + u.query) if u.query else "")]
    origin = f"{u.scheme}://{u.netloc}/"
    if warmup:
        subprocess.run(args + [f"-d{warmup}s", origin] + tail, capture_output=True, check=True)
    sampler = Sampler(procs or {})
    out = subprocess.run(args + [f"-d{seconds}s", origin] + tail, capture_output=True, text=True,
                         check=True).stdout
    res = {"url": url, "connections": conns, "seconds": seconds, "threads": threads}
    res.update(sampler.stop())
    res["rps"] = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    for pct in ("50", "75", "90", "99"):
        m = re.search(rf"^\s+{pct}%\s+([\d.]+)(us|ms|s)\s*$", out, re.M)
        res[f"p{pct}_ms"] = _ms(*m.groups()) if m else None
    for p, us in re.findall(r"^PCT ([\d.]+) (\d+)$", out, re.M):
        res["p" + p.replace(".", "") + "_ms"] = int(us) / 1000.0
    m = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    res["non_2xx"] = int(m.group(1)) if m else 0
    m = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    res["socket_errors"] = sum(map(int, m.groups())) if m else 0
    res["requests"] = int(re.search(r"(\d+) requests in", out).group(1))
    return res


def _run(args, cwd=None):
    r = subprocess.run(args, capture_output=True, text=True, cwd=cwd)
    if r.returncode != 0:
        raise RuntimeError(f"{os.path.basename(args[0])} failed: {r.stderr.strip()[-400:]}")
    return r.stdout


def pgbench(sql, conns=32, seconds=10, warmup=2, jobs=2, procs=None):
    """pgbench with one custom script (prepared statements) on the bench database:
    the database's own ceiling for that SQL. Latency percentiles come from the
    per-transaction log (-l)."""
    import tempfile
    port = os.environ["AGORA_PG_PORT"]
    with tempfile.TemporaryDirectory(prefix="agora-pgbench-") as d:
        f = os.path.join(d, "script.sql")
        with open(f, "w") as fh:
            fh.write(sql)
        base = [PGBENCH, "-n", "-M", "prepared", "-c", str(conns), "-j", str(min(jobs, conns)),
                "-f", f, "-h", "127.0.0.1", "-p", port, "-U", "agora", "agora"]
        if warmup:
            _run(base + ["-T", str(warmup)], d)
        # pgbench's backends exit with it: sample the server's CPU just before the end
        import time
        p = subprocess.Popen(base + ["-T", str(seconds), "-l", "--log-prefix", os.path.join(d, "log")],
                             cwd=d, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        sampler = Sampler(dict(procs or {}, loadgen=lambda: [p.pid]))
        time.sleep(max(0.5, seconds - 0.3))
        usage = sampler.stop()
        usage["loadgen_cpu_pct"] = usage["cpu_pct"].pop("loadgen")
        usage["rss_mib"].pop("loadgen")
        out, err = p.communicate()
        if p.returncode != 0:
            raise RuntimeError(f"pgbench failed: {err.strip()[-400:]}")
        res = {"sql": sql, "connections": conns, "seconds": seconds, "jobs": min(jobs, conns)}
        res.update(usage)
        res["rps"] = float(re.search(r"tps = ([\d.]+) \(without initial", out).group(1))
        lat = []
        for name in os.listdir(d):
            if name.startswith("log"):
                with open(os.path.join(d, name)) as fh:
                    lat.extend(int(line.split()[2]) for line in fh if line.strip())
        lat.sort()
        for p in (50, 75, 90, 99, 99.9):
            key = "p" + str(p).replace(".", "") + "_ms"
            res[key] = lat[min(len(lat) - 1, int(len(lat) * p / 100))] / 1000.0 if lat else None
        m = re.search(r"number of failed transactions: (\d+)", out)
        res["non_2xx"] = int(m.group(1)) if m else 0
        res["socket_errors"] = 0
        res["requests"] = len(lat)
    return res


# ---- CPU and RSS of the server processes, from /proc ------------------------
CLK = os.sysconf("SC_CLK_TCK")


def _children():
    kids = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/stat") as f:
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        kids.setdefault(ppid, []).append(int(d))
    return kids


def tree(*roots):
    """The pids and all their descendants (alive now)."""
    kids, out, stack = _children(), [], [p for p in roots if p]
    while stack:
        p = stack.pop()
        if p in out or not os.path.exists(f"/proc/{p}"):
            continue
        out.append(p)
        stack.extend(kids.get(p, []))
    return out


def pidfile(name):
    """A callable for Sampler: the pids in var/run/<name>.pid and their descendants."""
    def pids():
        try:
            with open(os.path.join(os.environ["AGORA_VAR"], "run", f"{name}.pid")) as f:
                return tree(*(int(x) for x in f.read().split()))
        except (OSError, ValueError):
            return []
    return pids


def _ticks(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            v = f.read().rsplit(")", 1)[1].split()
        return int(v[11]) + int(v[12])
    except (OSError, IndexError, ValueError):
        return None


def _rss_kib(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


class Sampler:
    """CPU (% of one core) and summed RSS of process groups over an interval;
    the load generator's own CPU comes from this process's children rusage."""

    def __init__(self, groups):
        import resource
        import time
        self.groups, self.t0 = groups, time.monotonic()
        self.ru0 = resource.getrusage(resource.RUSAGE_CHILDREN)
        self.start = {g: {p: _ticks(p) for p in f()} for g, f in groups.items()}

    def stop(self):
        import resource
        import time
        dt = time.monotonic() - self.t0
        ru = resource.getrusage(resource.RUSAGE_CHILDREN)
        out = {"loadgen_cpu_pct": round(100 * ((ru.ru_utime - self.ru0.ru_utime) +
                                               (ru.ru_stime - self.ru0.ru_stime)) / dt, 1),
               "cpu_pct": {}, "rss_mib": {}}
        for g, f in self.groups.items():
            pids, ticks, rss = f(), 0, 0
            for p in pids:
                t = _ticks(p)
                if t is not None:
                    ticks += t - (self.start[g].get(p) or 0)
                rss += _rss_kib(p)
            out["cpu_pct"][g] = round(100.0 * ticks / CLK / dt, 1)
            out["rss_mib"][g] = round(rss / 1024.0, 1)
        return out


# ---- seed data and tokens ----------------------------------------------------
def psql(sql):
    r = subprocess.run([PSQL, "-X", "-q", "-tA", "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1",
                        "-p", os.environ["AGORA_PG_PORT"], "-U", "agora", "-d", "agora", "-c", sql],
                       capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError(f"psql: {r.stderr.strip()}")
    return r.stdout.strip()


SEED_USERS, SEED_CHANNELS, SEED_POSTS, TOKEN_USERS = 10000, 100, 100000, 100

SEED_SQL = f"""
BEGIN;
INSERT INTO users (username, password_hash, display_name)
  SELECT 'seed_' || lpad(i::text, 5, '0'), 'seeded-by-bench-no-login', 'Seed User ' || i
  FROM generate_series(0, {SEED_USERS - 1}) i;
INSERT INTO channels (name, topic, visibility, owner_id)
  SELECT 'seed channel ' || i, 'benchmark channel ' || i, 'public',
         (SELECT id FROM users WHERE username = 'seed_' || lpad((i % {TOKEN_USERS})::text, 5, '0'))
  FROM generate_series(0, {SEED_CHANNELS - 1}) i;
-- every token user (the first {TOKEN_USERS}) is a member of 10 channels
INSERT INTO memberships (channel_id, user_id, role)
  SELECT c.id, u.id, CASE WHEN c.owner_id = u.id THEN 'owner' ELSE 'member' END
  FROM (SELECT id, row_number() OVER (ORDER BY id) - 1 AS k FROM users
        WHERE username LIKE 'seed\_%' ORDER BY id LIMIT {TOKEN_USERS}) u
  JOIN (SELECT id, owner_id, row_number() OVER (ORDER BY id) - 1 AS k FROM channels
        WHERE name LIKE 'seed channel %') c
    ON (c.k - u.k * 7 + {SEED_CHANNELS * 10}) % {SEED_CHANNELS} < 10 OR c.owner_id = u.id
  ON CONFLICT DO NOTHING;
-- posts: ids are 24-hex (lpad of the post number), {SEED_POSTS // SEED_CHANNELS} per channel,
-- one a second back from now, authors spread over all users
INSERT INTO posts (id, channel_id, author_id, created_at, doc)
  SELECT lpad(to_hex(i), 24, '0'),
         (SELECT min(id) FROM channels WHERE name LIKE 'seed channel %') + i % {SEED_CHANNELS},
         (SELECT min(id) FROM users WHERE username LIKE 'seed\_%') + (i * 7919) % {SEED_USERS},
         date_trunc('milliseconds', now()) - i * interval '1 second',
         jsonb_build_object('body', 'Benchmark post ' || i || ': ' ||
                            repeat('lorem ipsum dolor sit amet ', 2 + i % 5))
  FROM generate_series(1, {SEED_POSTS}) i;
COMMIT;
ANALYZE;
"""


def seed():
    """The data set every benchmark of this run shares (SEED_USERS users, SEED_CHANNELS
    public channels, SEED_POSTS posts), inserted by SQL once per stack; returns the token
    users' ids and the id ranges."""
    if psql("SELECT count(*) FROM users WHERE username = 'seed_00000'") == "0":
        psql(SEED_SQL)
    ids = psql(f"SELECT string_agg(id::text, ' ' ORDER BY id) FROM (SELECT id FROM users "
               f"WHERE username LIKE 'seed\_%' ORDER BY id LIMIT {TOKEN_USERS}) t").split()
    lo, hi = psql("SELECT min(id) || ' ' || max(id) FROM users WHERE username LIKE 'seed\_%'").split()
    clo, chi = psql("SELECT min(id) || ' ' || max(id) FROM channels WHERE name LIKE 'seed channel %'").split()
    return {"token_users": ids, "user_range": (int(lo), int(hi)), "channel_range": (int(clo), int(chi)),
            "posts": SEED_POSTS}


def _b64url(b):
    import base64
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def mint_token(user_id, ttl=86400):
    """An HS256 JWT as lib/auth issues it (sub, iss "agora", iat, exp), signed with
    the bench stack's key: the tokens every server of the benchmark checks."""
    import hashlib
    import hmac
    import time
    with open(os.path.join(os.environ["AGORA_VAR"], "secrets", "jwt.key"), "rb") as f:
        key = f.read().rstrip(b"\r\n ")
    now = int(time.time())
    h = _b64url(json.dumps({"alg": "HS256", "typ": "JWT"}, separators=(",", ":")).encode())
    p = _b64url(json.dumps({"sub": str(user_id), "iss": "agora", "iat": now, "exp": now + ttl},
                           separators=(",", ":")).encode())
    sig = _b64url(hmac.new(key, f"{h}.{p}".encode(), hashlib.sha256).digest())
    return f"{h}.{p}.{sig}"


def token_file(ids):
    """ "id token" lines for tokens.lua and gql.lua; sets AGORA_BENCH_TOKENS."""
    path = os.path.join(os.environ["AGORA_VAR"], "bench-tokens.txt")
    with open(path, "w") as f:
        f.writelines(f"{i} {mint_token(i)}\n" for i in ids)
    os.environ["AGORA_BENCH_TOKENS"] = path
    return path


# ---- Node peers ----------------------------------------------------------------
PEERS = os.path.join(HERE, "peers")


class Peer:
    """A Node peer server (bench/peers/<script>) in its own process group; its
    pid goes to var/run/peers.pid so ./agora bench stops it even after a crash."""

    def __init__(self, name, script, port, workers=1, env=None):
        self.name, self.port, self.url = name, port, f"http://127.0.0.1:{port}"
        e = dict(os.environ, PORT=str(port), WORKERS=str(workers), PGHOST="127.0.0.1",
                 PGPORT=os.environ["AGORA_PG_PORT"], PGUSER="agora", PGDATABASE="agora",
                 JWT_KEY_FILE=os.path.join(os.environ["AGORA_VAR"], "secrets", "jwt.key"),
                 NODE_ENV="production", **(env or {}))
        log = open(os.path.join(os.environ["AGORA_VAR"], "logs", f"peer-{name}.log"), "ab")
        self.proc = subprocess.Popen(["node", os.path.join(PEERS, script)], env=e, stdout=log,
                                     stderr=subprocess.STDOUT, start_new_session=True)
        with open(os.path.join(os.environ["AGORA_VAR"], "run", "peers.pid"), "a") as f:
            f.write(f"{self.proc.pid}\n")
        self._wait()

    def _wait(self):
        import socket
        import time
        for _ in range(100):
            if self.proc.poll() is not None:
                raise RuntimeError(f"peer {self.name} exited; see var/bench/logs/peer-{self.name}.log")
            try:
                socket.create_connection(("127.0.0.1", self.port), 0.2).close()
                time.sleep(0.3)   # a cluster's workers come up after the primary listens
                return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError(f"peer {self.name} did not listen on {self.port}")

    def pids(self):
        return tree(self.proc.pid)

    def stop(self):
        import signal
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGTERM)
                self.proc.wait(5)
            except (OSError, subprocess.TimeoutExpired):
                os.killpg(self.proc.pid, signal.SIGKILL)


# ---- versions ----------------------------------------------------------------
def _first_line(cmd):
    try:
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=5)
        return (r.stdout or r.stderr).strip().splitlines()[0]
    except (OSError, IndexError, subprocess.SubprocessError):
        return None


def versions():
    v = {"apache": _first_line(["apache2", "-v"]), "postgres": _first_line([PGBIN + "/postgres", "--version"]),
         "pgbench": _first_line([PGBENCH, "--version"]), "redis": _first_line(["redis-server", "--version"]),
         "wrk": _first_line(["wrk", "-v"]), "node": _first_line(["node", "--version"])}
    for p in ("fastify", "pg", "graphql", "graphql-http", "mercurius", "graphql-jit"):
        try:
            with open(os.path.join(PEERS, "node_modules", p, "package.json")) as f:
                v["npm " + p] = json.load(f)["version"]
        except OSError:
            pass
    return v


def median_run(runs):
    """The run with the median req/s of several (its own percentiles kept together)."""
    s = sorted(runs, key=lambda r: r["rps"])
    m = dict(s[len(s) // 2])
    m["rps_all"] = [round(r["rps"]) for r in runs]
    return m


def rounds(targets, conns, repeat, key):
    """Every target at every load, round after round (interleaved, so a burst of
    noise from elsewhere on the machine hits all of them alike); per target and
    load the run with the median req/s. targets: (name, tag, fn(conns)) tuples."""
    import sys
    got = {}
    for rnd in range(repeat):
        for c in conns:
            for name, tag, fn in targets:
                r = fn(c)
                got.setdefault((name, c), []).append(r)
                print(f"  round {rnd + 1}/{repeat} {c:>4} conns  {name:<34} {r['rps']:>9.0f} req/s  "
                      f"p99 {fmt(r['p99_ms'])} ms", file=sys.stderr, flush=True)
    runs = []
    for c in conns:
        for name, tag, fn in targets:
            r = median_run(got[(name, c)])
            r["name"], r[key] = name, tag
            runs.append(r)
    return runs


def fmt(v, nd=2):
    return "" if v is None else f"{v:.{nd}f}"


def machine():
    cpu = "unknown"
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {"cpu": cpu, "cores": os.cpu_count(), "kernel": platform.release()}


def save(name, data):
    os.makedirs(RESULTS, exist_ok=True)
    data["machine"] = machine()
    data["versions"] = versions()
    path = os.path.join(RESULTS, f"{name}.json")
    with open(path, "w") as f:
        json.dump(data, f, indent=1)
    return path


def table(rows, cols):
    widths = [max(len(str(c)), *(len(str(r.get(c, ""))) for r in rows)) for c in cols]
    line = "  ".join(str(c).ljust(w) for c, w in zip(cols, widths))
    print(line)
    print("  ".join("-" * w for w in widths))
    for r in rows:
        print("  ".join(str(r.get(c, "")).ljust(w) for c, w in zip(cols, widths)))
