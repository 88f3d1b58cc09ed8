"""bench/benchlib.py — running wrk and reading its numbers; shared by the benchmarks."""
import json
import os
import platform
import re
import subprocess

RESULTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "results")


def _ms(v, unit):
    return float(v) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def wrk(url, conns=32, seconds=10, threads=2, headers=None, script=None, warmup=2):
    """Run wrk after a short warm-up; returns req/s, latency percentiles (ms), errors."""
    args = ["wrk", f"-t{threads}", f"-c{conns}", "--latency"]
    for k, v in (headers or {}).items():
        args += ["-H", f"{k}: {v}"]
    tail = []
    if script:
        # the path goes to the script (it may hold {id}); wrk gets the bare origin
        from urllib.parse import urlsplit
        u = urlsplit(url)
        args += ["-s", script]
        tail = ["--", u.path + (("?" + u.query) if u.query else "")]
        url = f"{u.scheme}://{u.netloc}/"
    if warmup:
        subprocess.run(args + [f"-d{warmup}s", url] + tail, capture_output=True, check=True)
    out = subprocess.run(args + [f"-d{seconds}s", url] + tail, capture_output=True, text=True,
                         check=True).stdout
    res = {"url": url, "connections": conns, "seconds": seconds, "threads": threads}
    res["rps"] = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    for pct in ("50", "75", "90", "99"):
        m = re.search(rf"^\s+{pct}%\s+([\d.]+)(us|ms|s)\s*$", out, re.M)
        res[f"p{pct}_ms"] = _ms(*m.groups()) if m else None
    m = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    res["non_2xx"] = int(m.group(1)) if m else 0
    m = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    res["socket_errors"] = sum(map(int, m.groups())) if m else 0
    res["requests"] = int(re.search(r"(\d+) requests in", out).group(1))
    return res


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
