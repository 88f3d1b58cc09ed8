#!/usr/bin/python3
"""tests/run_integration.py — runs tests/integration/test_*.py against the
throw-away stack that ./agora test started. Each module's test_* functions run
in file order; a test fails by raising, skips by raising Skip (with the reason,
which is printed). Ends with 'integration: N passed, N failed, N skipped'."""
import argparse
import importlib.util
import json
import inspect
import os
import sys
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "integration"))

import agora_test  # noqa: E402  (helpers shared by the tests)


def load(path):
    name = os.path.splitext(os.path.basename(path))[0]
    spec = importlib.util.spec_from_file_location(name, path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--filter", default="", help="run only tests whose name contains this")
    ap.add_argument("--json", help="write each test's result and the totals here (./agora test counts them)")
    args = ap.parse_args()
    results = []
    files = sorted(f for f in os.listdir(os.path.join(HERE, "integration"))
                   if f.startswith("test_") and f.endswith(".py"))
    passed = failed = skipped = 0
    for f in files:
        mod = load(os.path.join(HERE, "integration", f))
        tests = [(n, fn) for n, fn in vars(mod).items()
                 if n.startswith("test_") and inspect.isfunction(fn)]
        tests.sort(key=lambda t: t[1].__code__.co_firstlineno)
        for name, fn in tests:
            full = f"{f[:-3]}::{name}"
            if args.filter and args.filter not in full:
                continue
            t0 = time.monotonic()
            try:
                fn()
            except agora_test.Skip as e:
                skipped += 1
                results.append({"name": full, "result": "skip", "reason": str(e)})
                print(f"skip {full}: {e}", flush=True)
                continue
            except Exception:  # noqa: BLE001 — every failure is reported, none stops the run
                failed += 1
                results.append({"name": full, "result": "fail", "ms": round((time.monotonic() - t0) * 1000)})
                print(f"not ok {full}", flush=True)
                print("".join("    " + l for l in traceback.format_exc().splitlines(True)), flush=True)
                continue
            finally:
                agora_test.cleanup()
            passed += 1
            results.append({"name": full, "result": "pass", "ms": round((time.monotonic() - t0) * 1000)})
            print(f"ok {full} ({(time.monotonic() - t0) * 1000:.0f} ms)", flush=True)
    print(f"integration: {passed} passed, {failed} failed, {skipped} skipped", flush=True)
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"passed": passed, "failed": failed, "skipped": skipped, "tests": results}, f, indent=1)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
