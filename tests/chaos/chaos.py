"""tests/chaos/chaos.py — clients posting and receiving while the stack's
processes are killed (SIGKILL) and restarted one at a time. Used by the short
test in tests/integration/test_chaos.py and by the long form (run this file:
/usr/bin/python3 tests/chaos/chaos.py --seconds-per-kill 20).

What it proves, after each kill and at the end:
  - every post the API acknowledged reached every subscribed client (after
    the client's reconnect and replay), and each under exactly one stream
    sequence (no event stored twice);
  - API calls during a PostgreSQL outage failed with 503/"unavailable", never
    hung, and succeeded again within 5 s of the database returning;
  - after Redis lost everything, subscriptions were rebuilt from PostgreSQL.
"""
import os
import signal
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))

import agora_test as at  # noqa: E402
from gql import channel, gql  # noqa: E402
from wsclient import WS, Closed, HandshakeError  # noqa: E402


class Subscriber(threading.Thread):
    """A client that stays connected: reconnects with backoff, acks what it reads."""

    def __init__(self, token, cid):
        super().__init__(daemon=True)
        self.token, self.cid = token, cid
        self.seen_seq = set()
        self.by_message = {}          # messageId -> set of seqs seen for it
        self.reconnects = 0
        self.dups_dropped = 0
        self.stop = threading.Event()
        self.lock = threading.Lock()

    def run(self):
        while not self.stop.is_set():
            try:
                ws = WS(self.token, timeout=3)
                ws.ready(timeout=5)
            except (OSError, HandshakeError, Closed, AssertionError):
                time.sleep(0.2)
                continue
            try:
                while not self.stop.is_set():
                    f = ws.recv(timeout=0.5)
                    if f is None or f.get("type") != "channel_message" or f.get("channelId") != self.cid:
                        continue
                    with self.lock:
                        if f["seq"] in self.seen_seq:
                            self.dups_dropped += 1      # at-least-once: dropped by seq, as a client does
                            continue
                        self.seen_seq.add(f["seq"])
                        self.by_message.setdefault(f["messageId"], set()).add(f["seq"])
                    ws.send({"action": "read", "channelId": self.cid, "seq": f["seq"]})
            except (OSError, Closed):
                pass
            finally:
                try:
                    ws.close()
                except OSError:
                    pass
            self.reconnects += 1
            time.sleep(0.1)

    def messages(self):
        with self.lock:
            return dict(self.by_message)


class Poster(threading.Thread):
    """Posts every `interval` seconds; remembers what the API acknowledged and every failure."""

    def __init__(self, token, cid, interval=0.05):
        super().__init__(daemon=True)
        self.token, self.cid, self.interval = token, cid, interval
        self.acked = []
        self.failures = []           # (time, status, codes)
        self.stop = threading.Event()

    def run(self):
        n = 0
        while not self.stop.is_set():
            n += 1
            t0 = time.monotonic()
            try:
                r = gql("mutation($c: ID!, $b: String!) { createPost(channelId: $c, body: $b) { id } }",
                        {"c": self.cid, "b": f"chaos {n}"}, self.token)
                j = r.json if r.body else {}
                if r.status == 200 and j.get("data") and j["data"].get("createPost"):
                    self.acked.append(j["data"]["createPost"]["id"])
                else:
                    codes = [e.get("extensions", {}).get("code") for e in (j or {}).get("errors", [])]
                    self.failures.append((time.monotonic(), r.status, codes, time.monotonic() - t0))
            except OSError as e:
                self.failures.append((time.monotonic(), 0, [str(e)], time.monotonic() - t0))
            time.sleep(self.interval)


def pid_of(svc):
    with open(os.path.join(at.VAR, "run", f"{svc}.pid")) as f:
        return int(f.read().split()[0])


def kill(svc):
    """SIGKILL a service (for apache: one child process, which the parent replaces)."""
    if svc == "apache-worker":
        master = pid_of("apache")
        kids = subprocess.run(["pgrep", "-P", str(master)], capture_output=True, text=True).stdout.split()
        if kids:
            os.kill(int(kids[0]), signal.SIGKILL)
        return
    os.kill(pid_of(svc), signal.SIGKILL)


def restart(svc):
    if svc == "apache-worker":
        return
    if svc == "postgres":
        # a killed postmaster leaves its pid file: pg_ctl start recovers the cluster
        pass
    at.svc("start", svc)


def run_outbox():
    worker = os.path.join(at.BUILD, "workers", "agora-worker")
    if os.path.exists(worker):
        subprocess.run([worker, "outbox", "--max-seconds", "10"], capture_output=True, timeout=60)


def check_delivery(subs, acked, timeout):
    """Every acked post at every subscriber, each under one seq; returns the missing per subscriber."""
    want = set(acked)
    deadline = time.monotonic() + timeout
    while True:
        missing = [want - set(s.messages()) for s in subs]
        if not any(missing) or time.monotonic() > deadline:
            break
        run_outbox()
        time.sleep(0.5)
    multi = {m: seqs for s in subs for m, seqs in s.messages().items() if len(seqs) > 1}
    return missing, multi


def scenario(kills=("wsd", "nats", "redis", "postgres", "apache-worker"), seconds_per_kill=3.0,
             outage=1.0, log=print):
    owner, otok = at.register()
    cid = channel(otok)
    subs = []
    for _ in range(3):
        u, tok = at.register()
        at.api("PUT", f"/channels/{cid}/members/{u['id']}", {}, token=tok)
        subs.append(Subscriber(tok, cid))
    for s in subs:
        s.start()
    time.sleep(1.0)                   # connected before the first post: delivery starts live
    poster = Poster(otok, cid)
    poster.start()
    report = []
    try:
        for svc in kills:
            time.sleep(seconds_per_kill / 2)
            log(f"chaos: SIGKILL {svc}")
            kill(svc)
            time.sleep(outage)
            t_back = time.monotonic()
            restart(svc)
            if svc == "nats":
                run_outbox()
            time.sleep(seconds_per_kill / 2)
            report.append((svc, t_back))
    finally:
        poster.stop.set()
        poster.join()
    run_outbox()
    missing, multi = check_delivery(subs, poster.acked, timeout=30)
    for s in subs:
        s.stop.set()
    return {"acked": poster.acked, "failures": poster.failures, "missing": missing, "multi": multi,
            "subs": subs, "kills": report}


if __name__ == "__main__":
    import argparse
    ap = argparse.ArgumentParser(description="long chaos run against the running test stack")
    ap.add_argument("--seconds-per-kill", type=float, default=20)
    a = ap.parse_args()
    r = scenario(seconds_per_kill=a.seconds_per_kill)
    print(f"acked {len(r['acked'])} posts, {len(r['failures'])} refused during outages, "
          f"missing {[len(m) for m in r['missing']]}, stored twice {len(r['multi'])}")
    sys.exit(1 if any(r["missing"]) or r["multi"] else 0)
