#!/usr/bin/python3
"""tests/totals.py — the totals of `./agora test`, counted from each phase's own
result records, not from the lines the phases print:
  unit         automake's .trs files under the build (one :test-result: per TAP
               test point; `make check`'s own failure counts when no record says why)
  integration  the JSON tests/run_integration.py --json writes
  fuzz         one line per target in LOGS/fuzz/results (pass|fail NAME)
  sanitizers   every ASan/UBSan report file under LOGS (each one a failure)
Prints a line per phase and last `N passed, N failed, N skipped`; exits 1 when
anything failed (or a phase that should have run left no record)."""
import argparse
import glob
import json
import os
import sys


def unit(build, make_failed):
    counts = {"PASS": 0, "FAIL": 0, "ERROR": 0, "XPASS": 0, "SKIP": 0, "XFAIL": 0}
    bad = []
    for trs in glob.glob(os.path.join(build, "**", "*.trs"), recursive=True):
        with open(trs) as f:
            for line in f:
                if line.startswith(":test-result: "):
                    r = line.split()[1]
                    counts[r] = counts.get(r, 0) + 1
                    if r in ("FAIL", "ERROR", "XPASS"):
                        bad.append(os.path.relpath(trs, build)[:-4])
    failed = counts["FAIL"] + counts["ERROR"] + counts["XPASS"]
    if make_failed and failed == 0:
        failed = 1          # the build of the tests, or the harness, failed
        bad.append("make check (see check.log)")
    return counts["PASS"] + counts["XFAIL"], failed, counts["SKIP"], sorted(set(bad))


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--build", required=True)
    ap.add_argument("--logs", required=True)
    ap.add_argument("--make-check-failed", action="store_true")
    ap.add_argument("--fuzz", action="store_true", help="the fuzz phase ran")
    a = ap.parse_args()
    total = [0, 0, 0]
    up, uf, us, ubad = unit(a.build, a.make_check_failed)
    print(f"unit: {up} passed, {uf} failed" + (f" ({', '.join(ubad)})" if ubad else ""))
    ip, if_, is_ = 0, 1, 0
    path = os.path.join(a.logs, "integration.json")
    if os.path.exists(path):
        with open(path) as f:
            r = json.load(f)
        ip, if_, is_ = r["passed"], r["failed"], r["skipped"]
    else:
        print("integration: no results (the runner did not finish)")
    print(f"integration: {ip} passed, {if_} failed, {is_} skipped")
    fp = ff = 0
    if a.fuzz:
        path = os.path.join(a.logs, "fuzz", "results")
        lines = open(path).read().split() if os.path.exists(path) else []
        fp, ff = lines[0::2].count("pass"), lines[0::2].count("fail")
        if not lines:
            ff = 1
        print(f"fuzz: {fp} passed, {ff} failed")
    san = sorted(glob.glob(os.path.join(a.logs, "asan.*")) + glob.glob(os.path.join(a.logs, "ubsan.*")))
    for s in san:
        print(f"sanitizer report: {s}")
    passed, failed, skipped = up + ip + fp, uf + if_ + ff + len(san), us + is_
    print(f"{passed} passed, {failed} failed, {skipped} skipped")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
