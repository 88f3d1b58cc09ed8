#!/usr/bin/python3
"""bench/summary.py — the one table `./agora bench` prints at the end: for each
benchmark's bench/results/<name>.json, its headline figures beside the peer or
limit measured in the same run. `python3 bench/summary.py [name...]` (default:
every result there is)."""
import json
import os
import sys

RESULTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "results")


def _num(v):
    try:
        return float(v)
    except (TypeError, ValueError):
        return None


def _ratio(a, b):
    a, b = _num(a), _num(b)
    return f"{a / b:.2f}x" if a is not None and b else ""


def _row(table, conns, target):
    for r in table:
        if str(r.get("conns")) == str(conns) and r.get("target") == target:
            return r
    return {}


def rest(d):
    out = []
    conns = sorted({r["conns"] for r in d.get("table", [])})
    c = 32 if 32 in conns else (conns[0] if conns else None)
    hello = _row(d["table"], c, "fcgi hello-world")
    for ep in ("users/{id}", "channels?member=me"):
        a, f = _row(d["table"], c, f"agora {ep}"), _row(d["table"], c, f"fastify-1p {ep}")
        out.append((f"GET {ep}, {c} conns", f"{a.get('req/s')} req/s, p99 {a.get('p99 ms')} ms",
                    f"fastify {f.get('req/s')}, hello {hello.get('req/s')}",
                    f"{_ratio(a.get('req/s'), f.get('req/s'))} fastify, "
                    f"{_ratio(a.get('req/s'), hello.get('req/s'))} hello"))
    return out


def graphql(d):
    out = []
    for q in ("channelPosts", "post(id)"):
        rows = [r for r in d.get("table", []) if q in r.get("target", "")]
        a = next((r for r in rows if r["target"] == f"agora {q}"), {})
        m = next((r for r in rows if r["target"].startswith("mercurius")), {})
        p = next((r for r in rows if r["target"].startswith("pgbench")), {})
        out.append((f"{q}, {a.get('conns')} conns", f"{a.get('req/s')} req/s, p99 {a.get('p99 ms')} ms",
                    f"mercurius {m.get('req/s')}, pgbench {p.get('req/s')}",
                    f"{_ratio(a.get('req/s'), m.get('req/s'))} mercurius, "
                    f"{_ratio(a.get('req/s'), p.get('req/s'))} pgbench"))
    return out


def _by(runs, key, name):
    return [r for r in runs if r.get(key) == name]


def fanout(d):
    out = []
    for w in _by(d["runs"], "server", "agora-wsd"):
        n = next((r for r in _by(d["runs"], "server", "nchan") if r["rate"] == w["rate"]), {})
        out.append((f"{d['subscribers']} subs, {w['deliveries_per_s']} deliveries/s",
                    f"p50 {w['p50_ms']:.1f} p99 {w['p99_ms']:.1f} ms, cpu {w['server_cpu_pct']}%",
                    f"nchan p50 {n.get('p50_ms', 0):.1f} p99 {n.get('p99_ms', 0):.1f} ms, "
                    f"cpu {n.get('server_cpu_pct')}%" if n else "", _ratio(w["p99_ms"], n.get("p99_ms"))
                    + " p99" if n else ""))
    return out


def connections(d):
    out = []
    for w in _by(d["runs"], "server", "agora-wsd"):
        n = next((r for r in _by(d["runs"], "server", "nchan")
                  if r["wanted"] == w["wanted"]), {})
        out.append((f"{w['wanted']} idle", f"{w['open']} open, {w['kib_per_conn']} KiB each",
                    f"nchan {n.get('kib_per_conn')} KiB" if n else "",
                    _ratio(w["kib_per_conn"], n.get("kib_per_conn"))))
    return out


def replay(d):
    return [(f"{d['events']} events behind", f"caught up in {d['caught_up_s']} s",
             f"JetStream push consumer {d['limit_jetstream_push_consumer_s']} s",
             _ratio(d["caught_up_s"], d["limit_jetstream_push_consumer_s"]))]


def e2e(d):
    out = []
    for e in _by(d["runs"], "path", "e2e"):
        j = next((r for r in _by(d["runs"], "path", "jetstream") if r["rate"] == e["rate"]), {})
        out.append((f"{e['rate']} posts/s to {d['subscribers'] // d['channels']} subs each",
                    f"p50 {e['p50_ms']:.1f} p99 {e['p99_ms']:.1f} ms, {e['delivered_pct']}% delivered",
                    f"JetStream->wsd p50 {j.get('p50_ms', 0):.1f} p99 {j.get('p99_ms', 0):.1f} ms"
                    if j else "", ""))
    return out


def notify(d):
    out = []
    for r in d.get("runs", []):
        out.append((f"{r['rate']} posts/s, mention -> notification",
                    f"p50 {r['notify_p50_ms']} p99 {r['notify_p99_ms']} ms, {r['delivered_pct']}%, "
                    f"handover max {r['handover_max_ms']} ms",
                    f"channel_message p99 {r['limit_channel_message_p99_ms']} ms; goal 1000 ms",
                    _ratio(r["notify_p99_ms"], 1000) + " of the goal"))
    s = d.get("search_idle", {})
    out.append((f"search freshness ({s.get('samples')} posts)",
                f"p50 {s.get('p50_ms')} p99 {s.get('p99_ms')} ms", "goal 2000 ms",
                _ratio(s.get("p99_ms"), 2000) + " of the goal"))
    return out


def workers(d):
    return [(f"{j['job']}, {d['load']['events']} events", f"drained in {j['seconds']} s", "", "")
            for j in d.get("jobs", [])]


def main(names):
    rows = []
    for n in names:
        path = os.path.join(RESULTS, f"{n}.json")
        fn = globals().get(n)
        if not os.path.exists(path) or fn is None:
            continue
        try:
            with open(path) as f:
                for r in fn(json.load(f)):
                    rows.append((n,) + r)
        except (KeyError, TypeError, ValueError, IndexError) as e:
            rows.append((n, "unreadable result", repr(e), "", ""))
    cols = ("benchmark", "measure", "agora", "peer / limit (same run)", "ratio")
    widths = [max(len(c), *(len(str(r[i])) for r in rows)) if rows else len(c)
              for i, c in enumerate(cols)]
    print("  ".join(c.ljust(w) for c, w in zip(cols, widths)))
    print("  ".join("-" * w for w in widths))
    for r in rows:
        print("  ".join(str(v).ljust(w) for v, w in zip(r, widths)))


if __name__ == "__main__":
    main(sys.argv[1:] or ["rest", "graphql", "workers", "fanout", "connections", "replay", "e2e",
                          "notify"])
