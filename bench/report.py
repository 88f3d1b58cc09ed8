#!/usr/bin/python3
"""bench/report.py — the tables of bench/results/*.json as Markdown, for
BENCHMARKS.md: `python3 bench/report.py [name...]` (default: rest graphql)."""
import json
import os
import sys

RESULTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "results")


def md(rows, cols):
    cols = [c for c in cols if any(r.get(c) not in (None, "") for r in rows)]
    out = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    out += ["| " + " | ".join(str(r.get(c, "")) for c in cols) + " |" for r in rows]
    return "\n".join(out)


def main(names):
    for n in names:
        path = os.path.join(RESULTS, f"{n}.json")
        if not os.path.exists(path):
            print(f"## {n}\n\nno results yet ({path})\n")
            continue
        with open(path) as f:
            d = json.load(f)
        print(f"## {n}\n\nLoad: {d.get('load')}\n\nGoal: {d.get('goal')}\n")
        rows = d.get("table", [])
        if rows:
            cols = []
            for r in rows:
                cols += [k for k in r if k not in cols]
            print(md(rows, cols))
        if d.get("engine_micro"):
            m = d["engine_micro"]
            if "uncached_ns_per_op" in m:
                print(f"\nEngine micro-benchmark (bench/graphql_engine_bench, 20-post page, in-memory "
                      f"resolvers): {m['ns_per_op'] / 1000:.1f} us per request with the document "
                      f"cache (execute+serialize), {m['uncached_ns_per_op'] / 1000:.1f} us with "
                      f"parse+validate, median of {len(m['all'])} runs of 20,000")
            else:
                print(f"\nEngine micro-benchmark (bench/graphql_engine_bench, 20-post page, in-memory "
                      f"resolvers): {m['ns_per_op'] / 1000:.1f} us per parse+validate+execute+serialize, "
                      f"median of {len(m['all'])} runs of 20,000")
        print(f"\nMachine: {d.get('machine')}\n\nVersions: {d.get('versions')}\n")


if __name__ == "__main__":
    main(sys.argv[1:] or ["rest", "graphql"])
