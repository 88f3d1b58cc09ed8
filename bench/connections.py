#!/usr/bin/python3
"""bench/connections.py — `./agora bench connections`: N idle WebSocket
connections held open by bench/loadgen, and the server's RSS per connection
(RSS with N open minus RSS before, over N), agora-wsd (authenticated sessions
that got their `ready` frame, i.e. with their channel subscriptions attached)
beside nginx + nchan (subscribers of 100 channels), in the same run, up to the
machine's limits: 20,000 fds per process (so ~19,900 sockets per server) and
~28k ephemeral ports per source address (the load is spread over 127.0.0.2,
127.0.0.3, ... and over several loadgen processes). Goal (issues 5 and 8): RSS
per idle connection no more than nchan's (10.2 KiB in ENVIRONMENT.md). Reports;
never fails the suite.

Knobs: AGORA_BENCH_CONN_LEVELS (5000,19000), AGORA_BENCH_CONN_PROCS (2),
AGORA_BENCH_FANOUT_TARGETS (wsd,nchan)."""
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchlib as bl  # noqa: E402
import fanout as fo  # noqa: E402


def hold(server, port, paths, n, procs, want_frame):
    """Open n connections with `procs` loadgen processes (one source address each);
    returns (ready, failed, ramp seconds, RSS KiB with them open)."""
    per = [n // procs + (1 if i < n % procs else 0) for i in range(procs)]
    ps = []
    for i, k in enumerate(per):
        args = ["taskset", "-c", fo.LOADGEN_CPU, fo.LOADGEN, "idle", "--ws", f"127.0.0.1:{port}",
                "--paths", paths, "--n", str(k), "--src", f"127.0.0.{2 + i}", "--hold", "120"]
        if want_frame:
            args.append("--want-frame")
        ps.append(subprocess.Popen(args, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                   stderr=subprocess.PIPE, text=True, preexec_fn=fo._raise_nofile))
    ready = failed = 0
    ramp = 0.0
    import json
    for p in ps:
        line = p.stdout.readline().strip()
        if not line.startswith("READY "):
            failed += per[ps.index(p)]
            continue
        r = json.loads(line[6:])
        ready += r["ready"]
        failed += r["failed"] + r["closed"]
        ramp = max(ramp, r["ramp_s"])
    time.sleep(2)   # let allocations settle (lws frees the handshake's header table)
    rss = server.rss_kib()
    for p in ps:
        try:
            p.stdin.close()
        except OSError:
            pass
    for p in ps:
        try:
            p.wait(20)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
    return ready, failed, ramp, rss


def measure(name, start, port, paths, levels, procs, want_frame):
    rows = []
    for n in levels:
        s = start()
        try:
            time.sleep(1)
            base = s.rss_kib()
            ready, failed, ramp, rss = hold(s, port, paths, n, procs, want_frame)
            per = (rss - base) / ready if ready else None
            row = {"server": name, "wanted": n, "open": ready, "failed": failed,
                   "ramp_s": round(ramp, 2), "rss_base_mib": round(base / 1024, 1),
                   "rss_mib": round(rss / 1024, 1),
                   "kib_per_conn": round(per, 2) if per is not None else None}
            print(f"  {name:<9} {n:>6} wanted  {ready:>6} open  {row['kib_per_conn']} KiB/conn "
                  f"(ramp {ramp:.1f}s)", file=sys.stderr, flush=True)
            rows.append(row)
        finally:
            s.stop()
    return rows


def main():
    levels = [int(x) for x in os.environ.get("AGORA_BENCH_CONN_LEVELS", "5000,19000").split(",")]
    procs = int(os.environ.get("AGORA_BENCH_CONN_PROCS", "2"))
    which = os.environ.get("AGORA_BENCH_FANOUT_TARGETS", "wsd,nchan").split(",")
    rows = []
    if "wsd" in which:
        uids, _ = fo.seed_ws(10000, 100)
        paths = fo.wsd_paths(uids)
        rows += measure("agora-wsd", fo.start_wsd, fo.WSD_PORT, paths, levels, procs, True)
    if "nchan" in which:
        paths = fo.write_lines("nchan-paths.txt", [f"/sub/c{i % 100}" for i in range(10000)])
        try:
            rows += measure("nchan", fo.start_nchan, fo.NCHAN_PORT, paths, levels, procs, False)
        except RuntimeError as e:
            print(f"  nchan: {e}", file=sys.stderr)
    data = {"benchmark": "connections", "levels": levels, "loadgen_procs": procs,
            "nginx": fo.nginx_version(), "runs": rows,
            "anchor": "ENVIRONMENT.md: nchan 10.2 KiB of nginx RSS per idle WebSocket"}
    path = bl.save("connections", data)
    print(f"connections: idle WebSockets, RSS per connection -> {path}")
    bl.table(rows, ["server", "wanted", "open", "failed", "ramp_s", "rss_base_mib", "rss_mib",
                    "kib_per_conn"])


if __name__ == "__main__":
    main()
