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


def _f(v, nd=1):
    return "-" if v is None else f"{v:.{nd}f}"


def _fan_cell(r):
    if not r:
        return ""
    return (f"p50 {_f(r['p50_ms'])} p99 {_f(r['p99_ms'])} ms, {r.get('delivered_pct')}% "
            f"delivered, cpu {r.get('server_cpu_pct')}%, "
            f"{_f(r.get('syscalls_per_delivery'), 2)} syscalls/delivery"
            + (f", JetStream alone p99 {_f(r['jetstream_floor_p99_ms'])} ms"
               if r.get("jetstream_floor_p99_ms") else "")
            + (" (loadgen-bound)" if r.get("loadgen_bound") else ""))


def fanout(d):
    """Issue 14's figures: each rate against nchan at the same achieved rate, the
    deliveries/s at p99 <= 50 ms of one and two agora-wsd processes, idle memory."""
    out = []
    runs = d["runs"]
    per = d["subscribers"] // d["channels"]
    for w in _by(runs, "server", "agora-wsd") + _by(runs, "server", "agora-wsd x2"):
        n = next((r for r in _by(runs, "server", "nchan") if r["rate"] == w["rate"]), {})
        if "comparable" not in w:  # results of the older script
            same = ""
        elif w.get("comparable"):
            same = "same achieved rate"
        else:
            same = (f"NOT comparable: {w['achieved_rate']}/s vs nchan "
                    f"{w.get('peer_achieved_rate')}/s")
        ratio = (_ratio(w["p99_ms"], n.get("p99_ms")) + " p99, " +
                 _ratio(w["server_cpu_pct"], n.get("server_cpu_pct")) + " cpu; " + same) if n else same
        out.append((f"{w['server']}, {w['rate'] * per // 1000}k deliveries/s "
                    f"({w['deliveries_per_s']} got)", _fan_cell(w),
                    ("nchan " + _fan_cell(n)) if n else "", ratio))
    caps = d.get("capacity_p99_50ms") or {}
    one, two = caps.get("agora-wsd"), caps.get("agora-wsd x2")
    if one:
        out.append(("deliveries/s at p99 <= 50 ms",
                    f"1 process {one['deliveries_per_s']}, 2 processes "
                    f"{two['deliveries_per_s'] if two else '-'}",
                    f"nchan {caps['nchan']['deliveries_per_s']}" if caps.get("nchan") else "",
                    (_ratio(two["deliveries_per_s"], one["deliveries_per_s"]) + " (goal 1.8x)")
                    if two else ""))
    for w in _by(d.get("idle") or [], "server", "agora-wsd"):
        n = next((r for r in _by(d.get("idle") or [], "server", "nchan")
                  if r["wanted"] == w["wanted"]), {})
        out.append((f"{w['wanted']} idle sessions", f"{w['open']} open, {w['kib_per_conn']} KiB each",
                    f"nchan {n.get('kib_per_conn')} KiB" if n else "",
                    _ratio(w["kib_per_conn"], n.get("kib_per_conn"))))
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
        j = next((r for r in _by(d["runs"], "path", "jetstream")
                  if r["rate"] == e["rate"] and r.get("via") == e.get("via")), {})
        via = f" via {e['via']}" if e.get("via") else ""
        out.append((f"{e['rate']} posts/s to {d['subscribers'] // d['channels']} subs each{via}",
                    f"p50 {e['p50_ms']:.1f} p99 {e['p99_ms']:.1f} ms, {e['delivered_pct']}% delivered",
                    f"JetStream->wsd p50 {j.get('p50_ms', 0):.1f} p99 {j.get('p99_ms', 0):.1f} ms"
                    if j else "", ""))
    return out


def interest(d):
    t, i, c = d["today"], d["interest"], d["costs"]
    per = [r for r in d["runs"] if str(r["daemon"]).isdigit()]
    today = [r["events_in_per_s"] for r in per if r["design"].startswith("today")]
    inter = [r["events_in_per_s"] for r in per if "by channel" in r["design"]]
    scat = [r["events_in_per_s"] for r in per if "at random" in r["design"]]
    rnd = d.get("interest_random") or {}
    return [(f"{d['daemons']} daemons, {d['rate']} ev/s over 100 channels",
             f"today {max(today)} events/s in per daemon, NATS out {t['nats_out_msgs_per_s']}/s",
             f"interest: {max(inter) if inter else '-'}/s per daemon (sessions by channel), "
             f"{max(scat) if scat else '-'}/s (at random); NATS out "
             f"{i['nats_out_msgs_per_s']}/s, {rnd.get('nats_out_msgs_per_s', '-')}/s",
             _ratio(max(today), max(inter)) if inter else ""),
            ("interest's costs", f"first join p50 {c['first_join_us_p50']} us "
             f"p99 {c['first_join_us_p99']} us", f"churn {c['churn_pairs_per_s']} SUB+UNSUB/s at "
             f"{c['churn_nats_cpu_pct']}% of a core", "")]


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


def uploads(d):
    out = []
    runs = {r["load"]: r for r in d.get("runs", [])}
    hello, static = runs.get("limit: hello", {}), runs.get("limit: static", {})
    for load in ("one-request", "tus 8 MiB", "image 1 MP"):
        r = runs.get(load)
        if r:
            out.append((f"{load}, {d['conns']} clients",
                        f"{r['mib_per_s']} MiB/s, {r['cpu_s_per_mib']} cpu-s/MiB, p99 {r['p99_ms']} ms",
                        f"1 MiB to fcgi hello {hello.get('mib_per_s')} MiB/s, "
                        f"{hello.get('cpu_s_per_mib')} cpu-s/MiB",
                        _ratio(r["mib_per_s"], hello.get("mib_per_s"))))
    r = runs.get("read (xsendfile)")
    if r:
        out.append((f"file read, {d['conns']} clients", f"{r['mib_per_s']} MiB/s, p99 {r['p99_ms']} ms",
                    f"static file {static.get('mib_per_s')} MiB/s", _ratio(r["mib_per_s"], static.get("mib_per_s"))))
    return out


def reactions(d):
    runs = {r["event"]: r for r in d.get("runs", [])}
    r, p = runs.get("reaction", {}), runs.get("post", {})
    if not r:
        return []
    return [(f"{d['rate']} reactions/s to {d['subscribers']} subs",
             f"p50 {r['p50_ms']} p99 {r['p99_ms']} ms, {r['delivered_pct']}% delivered",
             f"createPost->channel_message p50 {p.get('p50_ms')} p99 {p.get('p99_ms')} ms" if p else "",
             _ratio(r["p99_ms"], p.get("p99_ms")) + " p99" if p else "")]


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
                          "interest", "uploads", "reactions", "notify"])
