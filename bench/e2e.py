#!/usr/bin/python3
"""bench/e2e.py — `./agora bench e2e`: the whole path of a message. `createPost`
is POSTed over GraphQL through Apache (keep-alive connections, each post as one
of its channel's members with their JWT), the FastCGI worker writes the post and
its outbox event and publishes to JetStream, and agora-wsd delivers
`channel_message` to every subscriber of the channel. bench/loadgen holds the
subscribers (authenticated WebSocket sessions to the stack's own agora-wsd) and
times each delivery from the moment the request left to the moment the frame
arrived, matching the post id of the response with the frame's messageId (a
frame may arrive before the response). Also the createPost response time.

The subscribers connect two ways, each rate measured both: through Apache's /ws
(mod_proxy_wstunnel, as browsers connect) and straight to agora-wsd's port.

The stack is the bench stack as deployed on one host (Apache, the FastCGI pool,
PostgreSQL, Redis, NATS, agora-wsd), unpinned; the load generator runs on core 1.
The limit beside each rate, in the same run with the same subscribers: the same
events published straight to JetStream (what agora-wsd alone adds, and with /ws
what the proxy adds; the rest of an e2e figure is Apache, the FastCGI worker and
the database write), and the CPU each tier used. Reports; never fails the suite.

Knobs: AGORA_BENCH_E2E_SUBS (1000), AGORA_BENCH_E2E_CHANNELS (10),
AGORA_BENCH_E2E_RATES (50,200,500 posts/s), AGORA_BENCH_E2E_POSTERS (5 per
channel), AGORA_BENCH_E2E_VIA (apache,direct), AGORA_BENCH_SECONDS (10),
AGORA_BENCH_WARMUP (3)."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchlib as bl  # noqa: E402
import fanout as fo  # noqa: E402

TIERS = ("apache", "fcgi", "wsd", "postgres", "redis", "nats")


class StackWsd:
    """The stack's own agora-wsd (var/bench/run/wsd.pid), as fanout's Server."""
    name = "stack-wsd"

    def worker_pids(self):
        return bl.pidfile("wsd")()

    def rss_kib(self):
        return sum(bl._rss_kib(p) for p in self.worker_pids())


def main():
    subs = int(os.environ.get("AGORA_BENCH_E2E_SUBS", "1000"))
    nch = int(os.environ.get("AGORA_BENCH_E2E_CHANNELS", "10"))
    rates = [int(x) for x in os.environ.get("AGORA_BENCH_E2E_RATES", "50,200,500").split(",")]
    posters = int(os.environ.get("AGORA_BENCH_E2E_POSTERS", "5"))
    seconds = int(os.environ.get("AGORA_BENCH_SECONDS", "10"))
    warmup = int(os.environ.get("AGORA_BENCH_WARMUP", "3"))
    if not os.path.exists(fo.LOADGEN):
        raise SystemExit(f"{fo.LOADGEN} is not built")
    vias = os.environ.get("AGORA_BENCH_E2E_VIA", "apache,direct").split(",")
    uids, cids = fo.seed_ws(subs, nch)
    paths = {"direct": fo.wsd_paths(uids),
             "apache": fo.write_lines("wsd-apache-paths.txt",
                                      [f"/ws?access_token={bl.mint_token(u)}" for u in uids])}
    # user i is a member of channel i % nch: the first `posters` members of each
    # channel post in it, in turn (10 posts/s per user at 500/s: under the API limit)
    targets = fo.write_lines("e2e-targets.txt", [
        f"{cids[k]} {bl.mint_token(uids[k + nch * j])}"
        for j in range(posters) for k in range(nch) if k + nch * j < len(uids)])
    per_channel = subs // nch
    server = StackWsd()
    groups = {t: bl.pidfile(t) for t in TIERS}
    nats_targets = fo.write_lines("e2e-nats-targets.txt",
                                  [f"channel.{c}.message.created" for c in cids])
    rows = []
    for via in vias:
        for rate in rates:
            for kind in ("e2e", "jetstream"):
                row = run(kind, via, rate, paths[via], targets if kind == "e2e" else nats_targets,
                          subs, per_channel, seconds, warmup, server, groups)
                if row:
                    rows.append(row)
    data = {"benchmark": "e2e", "subscribers": subs, "channels": nch, "via": vias,
            "posters_per_channel": posters, "seconds": seconds, "warmup": warmup,
            "loadgen_cpu": fo.LOADGEN_CPU, "runs": rows}
    path = bl.save("e2e", data)
    print(f"e2e: createPost through Apache -> channel_message, {subs} subscribers over {nch} "
          f"channels ({per_channel} per post), {seconds} s after {warmup} s warm-up, subscribers "
          f"through Apache's /ws and direct; beside it the same events published straight to "
          f"JetStream -> {path}")
    bl.table([{**{k: (f"{v:.2f}" if isinstance(v, float) else v) for k, v in r.items()
                  if k not in ("loadgen", "cpu_pct")},
               **{f"{t} cpu%": r["cpu_pct"].get(t) for t in TIERS}} for r in rows],
             ["via", "path", "rate", "posts_per_s", "p50_ms", "p99_ms", "p999_ms", "resp_p50_ms",
              "resp_p99_ms", "delivered_pct", "posts_failed"] + [f"{t} cpu%" for t in TIERS])


def run(kind, via, rate, paths, targets, subs, per_channel, seconds, warmup, server, groups):
    """One rate, one path: "e2e" (createPost over GraphQL through Apache) or
    "jetstream" (the same channel events published straight to the stream); the
    subscribers through Apache's /ws (via "apache") or on agora-wsd's port ("direct")."""
    pub = (["--pub", "graphql", "--pub-addr", f"127.0.0.1:{os.environ['AGORA_HTTP_PORT']}",
            "--pub-conns", "32"] if kind == "e2e" else
           ["--pub", "nats", "--pub-addr", f"127.0.0.1:{os.environ['AGORA_NATS_PORT']}"])
    port = os.environ["AGORA_HTTP_PORT"] if via == "apache" else os.environ["AGORA_WS_PORT"]
    args = ["fanout", "--ws", f"127.0.0.1:{port}", "--paths", paths,
            "--n", str(subs), "--want-frame", "--targets", targets, "--rate", str(rate),
            "--warmup", str(warmup), "--seconds", str(seconds)] + pub
    try:
        r, s = fo.loadgen_one(args, server, groups)
    except RuntimeError as e:
        print(f"  {kind} at {rate}/s: {e}", file=sys.stderr)
        return None
    published = r["posts_measured"] if kind == "e2e" else r["published_measured"]
    expected = published * per_channel
    cpu = (s or {}).get("cpu_pct", {})
    row = {"via": via, "path": kind, "rate": rate, "posts_per_s": round(published / seconds, 1),
           "posts_failed": r.get("posts_failed", 0), "pub_skipped": r["pub_skipped"],
           "deliveries_per_s": round(r["counted"] / seconds),
           "delivered_pct": round(100.0 * r["counted"] / expected, 2) if expected else None,
           "p50_ms": r["p50_ms"], "p99_ms": r["p99_ms"], "p999_ms": r["p999_ms"],
           "max_ms": r["max_ms"], "resp_p50_ms": r.get("resp_p50_ms"),
           "resp_p99_ms": r.get("resp_p99_ms"),
           "cpu_pct": cpu, "cpu_total_pct": round(sum(cpu.get(t, 0) for t in TIERS), 1) if cpu else None,
           "loadgen": r}
    print(f"  {via:<6} {kind:<9} {rate:>4}/s: got {row['posts_per_s']}/s, deliveries p50 "
          f"{row['p50_ms']:.2f} p99 {row['p99_ms']:.2f} ms, delivered {row['delivered_pct']}%, "
          f"cpu {row['cpu_total_pct']}%", file=sys.stderr, flush=True)
    return row


if __name__ == "__main__":
    main()
