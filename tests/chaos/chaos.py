"""tests/chaos/chaos.py — members of a channel keep their WebSockets open while
the servers behind agora-wsd fail, as users' clients do: they reconnect only
when their own socket closes (which only agora-wsd's own death should cause).
A poster posts every 100 ms through Apache; each fault also sends a DM and a
mention, and opens a new session once the fault is over.

Faults: `kill` (SIGKILL, held down for `hold` seconds, restarted the way
./agora does), `freeze` (SIGSTOP for `hold` seconds, then SIGCONT) and
sequences of them (agora-wsd then NATS: the order that once stopped delivery
to every open socket). Services: wsd, nats, redis, postgres, fcgi (the whole
FastCGI pool), apache-worker (one Apache child: the posting path only, since
members connect to agora-wsd directly, as behind an L4 balancer).

What a run proves, per fault and in total:
  - every post the API acknowledged reached every member, under one stream
    sequence, exactly once per connection (a frame repeated on one socket is
    counted as a duplicate), with no reconnect except after agora-wsd died;
  - every acknowledged DM reached its recipient, every mention became a
    notification at the mentioned member;
  - a new session after each fault got `ready` and the next post;
  - API calls during an outage answered (503 `unavailable` or success) and
    never hung.
Used by tests/integration/test_chaos.py (short form) and `./agora bench chaos`
(this file run as a program: random faults one after the other for 10 minutes,
each server held down 5, 15 or 60 s).
"""
import json
import os
import random
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

SERVICES = ("wsd", "nats", "redis", "postgres", "fcgi", "apache-worker")
RECOVER_S = 10.0   # what "within a few seconds" allows, with room for a loaded machine


class Member(threading.Thread):
    """A client that keeps its socket, acks DMs and notifications, and moves its read
    offset as it reads; reconnects (with backoff) only when its socket closes."""

    def __init__(self, name, user, token, cid):
        super().__init__(daemon=True, name=name)
        self.user, self.token, self.cid = user, token, cid
        self.chan = {}            # seq -> (messageId, monotonic time of first receipt)
        self.dup_frames = 0       # a seq received again on the same socket
        self.dms = {}             # messageId -> seq
        self.notifs = []          # (kind, seq)
        self.gaps = []
        self.connects = 0
        self.ws = None
        self.stop = threading.Event()
        self.lock = threading.Lock()

    def run(self):
        backoff = 0.2
        while not self.stop.is_set():
            try:
                ws = WS(self.token, timeout=3)
                ws.ready(timeout=10)
            except (OSError, HandshakeError, Closed, AssertionError):
                time.sleep(backoff)
                backoff = min(backoff * 2, 2.0)
                continue
            backoff = 0.2
            with self.lock:
                self.connects += 1
                self.ws = ws
            seen_here = set()
            try:
                while not self.stop.is_set():
                    f = ws.recv(timeout=0.5)
                    if f is not None:
                        self._frame(ws, f, seen_here)
            except (OSError, Closed):
                pass
            finally:
                try:
                    ws.close()
                except OSError:
                    pass

    def _frame(self, ws, f, seen_here):
        t = f.get("type")
        now = time.monotonic()
        with self.lock:
            if t == "channel_message" and f.get("channelId") == self.cid:
                if f["seq"] in seen_here:
                    self.dup_frames += 1
                seen_here.add(f["seq"])
                self.chan.setdefault(f["seq"], (f["messageId"], now))
            elif t == "dm":
                self.dms.setdefault(f["messageId"], f["seq"])
            elif t == "notification":
                self.notifs.append((f.get("kind"), f["seq"]))
            elif t == "gap":
                self.gaps.append(f)
        if t == "channel_message":
            ws.send({"action": "read", "channelId": self.cid, "seq": f["seq"]})
        elif t in ("dm", "notification"):
            ws.send({"action": "ack", "stream": "dm" if t == "dm" else "notify", "seq": f["seq"]})

    def received(self):
        """messageId -> set of seqs it arrived under, and first arrival time per messageId."""
        with self.lock:
            by_id, first = {}, {}
            for seq, (mid, t) in self.chan.items():
                by_id.setdefault(mid, set()).add(seq)
                first[mid] = min(first.get(mid, t), t)
            return by_id, first


class Poster(threading.Thread):
    """Posts every `interval` seconds through Apache; remembers what was acknowledged
    (id, time) and every refusal (time, status, codes, seconds it took)."""

    def __init__(self, token, cid, interval=0.1):
        super().__init__(daemon=True, name="poster")
        self.token, self.cid, self.interval = token, cid, interval
        self.acked = []
        self.sent_at = {}    # id -> when its request left
        self.failures = []
        self.stop = threading.Event()
        self.lock = threading.Lock()

    def run(self):
        n = 0
        while not self.stop.is_set():
            n += 1
            sent = time.monotonic()
            r = call(self.failures, "mutation($c: ID!, $b: String!) { createPost(channelId: $c, body: $b) { id } }",
                     {"c": self.cid, "b": f"chaos {n}"}, self.token, "createPost")
            if r:
                with self.lock:
                    self.acked.append((r["id"], time.monotonic()))
                    self.sent_at[r["id"]] = sent
            time.sleep(self.interval)

    def acked_between(self, t0, t1):
        with self.lock:
            return [mid for mid, t in self.acked if t0 <= t < t1]


def call(failures, query, variables, token, field):
    """One GraphQL mutation; the result's field, or None after recording the refusal."""
    t0 = time.monotonic()
    try:
        r = gql(query, variables, token)
        took = time.monotonic() - t0
        CALLS.append(took)
        try:
            j = (r.json if r.body else None) or {}
        except ValueError:        # not JSON: a proxy's own error page
            failures.append((t0, r.status, [f"non-JSON body {r.body[:60]!r}"], took))
            return None
        if r.status == 200 and j.get("data") and j["data"].get(field):
            return j["data"][field]
        codes = [e.get("extensions", {}).get("code") for e in j.get("errors", [])]
        failures.append((t0, r.status, codes, took))
    except OSError as e:
        failures.append((t0, 0, [str(e)], time.monotonic() - t0))
    return None


CALLS = []   # the duration of every API call of a run


# ---- services -----------------------------------------------------------------
def pids_of(svc):
    if svc == "apache-worker":
        master = pids_of("apache")[0]
        kids = subprocess.run(["pgrep", "-P", str(master)], capture_output=True, text=True).stdout.split()
        return [int(kids[0])] if kids else []
    with open(os.path.join(at.VAR, "run", f"{svc}.pid")) as f:
        return [int(p) for p in f.read().split()]


def signal_svc(svc, sig):
    for pid in pids_of(svc):
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            pass


def restart(svc):
    if svc == "apache-worker":
        return                       # the Apache parent replaces its child
    if svc == "fcgi":
        os.unlink(os.path.join(at.VAR, "run", "fcgi.pid"))
    at.svc("start", svc)


def run_job(job, seconds=10):
    worker = os.path.join(at.BUILD, "workers", "agora-worker")
    subprocess.run([worker, job, "--max-seconds", str(seconds)], capture_output=True, timeout=60)


# ---- one run ---------------------------------------------------------------------
class Run:
    def __init__(self, members=4, log=print):
        self.log = log
        self.owner, self.otok = at.register()
        self.cid = channel(self.otok)
        self.members = []
        for i in range(members):
            u, tok = at.register()
            r = at.api("PUT", f"/channels/{self.cid}/members/{u['id']}", {}, token=tok)
            at.expect(r.status in (200, 201), f"join: {r!r}")
            self.members.append(Member(f"member{i}", u, tok, self.cid))
        for m in self.members:
            m.start()
        at.eventually(lambda: all(m.connects for m in self.members), timeout=20, what="members connected")
        time.sleep(0.5)              # attached: delivery starts live for them
        self.poster = Poster(self.otok, self.cid)
        self.side_failures = []      # DMs and mentions that were refused
        self.dms, self.mentions = [], []
        self.faults = []             # dicts, one per fault
        self.new_sessions = []       # (fault label, ok, detail)
        self.wsd_deaths = 0

    def start(self):
        self.poster.start()
        threading.Thread(target=self._cron, daemon=True).start()
        time.sleep(1.0)

    def _cron(self):
        """What cron does each minute, every 5 s here: the outbox publishes the events of
        writes made while NATS was down."""
        while not self.poster.stop.is_set():
            time.sleep(5)
            try:
                run_job("outbox", 4)
            except subprocess.TimeoutExpired:
                pass

    def _side_traffic(self):
        """A DM to member0 and a mention of member1; retried until acknowledged."""
        target, mentioned = self.members[0], self.members[1 % len(self.members)]
        deadline = time.monotonic() + 60
        dm = men = None
        while (dm is None or men is None) and time.monotonic() < deadline:
            if dm is None:
                dm = call(self.side_failures, "mutation($t: ID!, $b: String!) { sendDirectMessage(toUserId: $t, body: $b) { id } }",
                          {"t": target.user["id"], "b": "chaos dm"}, self.otok, "sendDirectMessage")
            if men is None:
                men = call(self.side_failures, "mutation($c: ID!, $b: String!) { createPost(channelId: $c, body: $b) { id } }",
                           {"c": self.cid, "b": f"hey @{mentioned.user['username']}"}, self.otok, "createPost")
            if dm is None or men is None:
                time.sleep(0.5)
        if dm:
            self.dms.append(dm["id"])
        if men:
            self.mentions.append(men["id"])
            with self.poster.lock:
                self.poster.acked.append((men["id"], time.monotonic()))

    def _new_session(self, label):
        """A second device of member2's user, opened after the fault: ready, then the next post."""
        m = self.members[2 % len(self.members)]
        try:
            ws = WS(m.token, timeout=5)
            ws.ready(timeout=15)
            t_ready = time.monotonic()

            def posted_after():   # a post whose request left after the session was ready
                with self.poster.lock:
                    return next((mid for mid, _ in self.poster.acked
                                 if self.poster.sent_at.get(mid, 0) > t_ready), None)
            mid = at.eventually(posted_after, timeout=30, what="a post after the fault")
            ws.wait_type("channel_message", timeout=30, messageId=mid)
            ws.close()
            self.new_sessions.append((label, True, ""))
        except (OSError, HandshakeError, Closed, AssertionError) as e:
            self.new_sessions.append((label, False, str(e)))

    def fault(self, steps, settle=3.0):
        """steps: [(kind, svc, hold)], run one after the other, `settle` s apart."""
        label = " then ".join(f"{k} {s} {h:g}s" for k, s, h in steps)
        self.log(f"chaos: {label}")
        t0 = time.monotonic()
        restarts = []
        for kind, svc, hold in steps:
            if kind == "kill":
                signal_svc(svc, signal.SIGKILL)
                self.wsd_deaths += svc == "wsd"
            else:
                signal_svc(svc, signal.SIGSTOP)
            if svc in ("nats", "postgres", "fcgi"):
                threading.Thread(target=self._side_traffic, daemon=True).start()
            time.sleep(hold)
            if kind == "kill":
                restart(svc)
            else:
                signal_svc(svc, signal.SIGCONT)
            restarts.append(time.monotonic())
            time.sleep(settle)
        if not any(svc in ("nats", "postgres", "fcgi") for _, svc, _ in steps):
            self._side_traffic()
        self._new_session(label)
        self.faults.append({"label": label, "t0": t0, "t1": time.monotonic(), "restart": restarts[-1]})

    def finish(self, timeout=45):
        self.poster.stop.set()
        self.poster.join()
        deadline = time.monotonic() + timeout
        want = {mid for mid, _ in self.poster.acked}
        while time.monotonic() < deadline:
            run_job("outbox")
            if all(want <= set(m.received()[0]) for m in self.members):
                break
            time.sleep(1.0)
        deadline = time.monotonic() + 20
        while self.mentions and not self._notified() and time.monotonic() < deadline:
            run_job("fanout")      # cron's job, run now: mentions become notifications
            time.sleep(1.0)
        for m in self.members:
            m.stop.set()
        self.vanished = self._vanished()
        return self.report()

    def _vanished(self):
        """Acknowledged posts that no longer exist (a write acknowledged, then lost)."""
        ids = [mid for mid, _ in self.poster.acked]
        gone = []
        for i in range(0, len(ids), 20):   # under graphql_max_root_fields (32)
            chunk = ids[i:i + 20]
            q = "{ " + " ".join(f'p{k}: post(id: "{mid}") {{ id }}' for k, mid in enumerate(chunk)) + " }"
            for _ in range(20):
                r = gql(q, None, self.otok)
                j = r.json or {}
                if r.status == 200 and not j.get("errors"):
                    break
                time.sleep(0.5)    # rate limited, or a worker still recovering: ask again
            else:
                raise AssertionError(f"cannot read posts back: {r.status} {r.body[:300]!r}")
            d = j.get("data") or {}
            gone += [mid for k, mid in enumerate(chunk) if not d.get(f"p{k}")]
        return gone

    def _notified(self):
        m = self.members[1 % len(self.members)]
        with m.lock:
            return sum(1 for k, _ in m.notifs if k == "mention") >= len(self.mentions)

    def report(self):
        got = [m.received() for m in self.members]
        rows = []
        for f in self.faults + [{"label": "total", "t0": 0, "t1": float("inf"), "restart": None}]:
            posts = self.poster.acked_between(f["t0"], f["t1"])
            lost = sum(1 for by_id, _ in got for mid in posts if mid not in by_id)
            twice = sum(1 for by_id, _ in got for mid in posts if len(by_id.get(mid, ())) > 1)
            rec = None
            if f["restart"] is not None:
                # delivery resumed: the first post acknowledged after the restart that
                # reached every member (one whose event waited for the outbox comes later)
                done = [max(first[mid] for _, first in got) for mid, t in self.poster.acked
                        if f["restart"] <= t < f["t1"] and all(mid in first for _, first in got)]
                if done:
                    rec = max(0.0, min(done) - f["restart"])
            rows.append({"fault": f["label"], "posts": len(posts),
                         "deliveries": len(posts) * len(self.members) - lost, "lost": lost,
                         "stored_twice": twice, "recover_s": rec})
        dm_target, men_target = self.members[0], self.members[1 % len(self.members)]
        return {
            "rows": rows,
            "dup_frames": [m.dup_frames for m in self.members],
            "connects": [m.connects for m in self.members],
            "wsd_deaths": self.wsd_deaths,
            "dms_sent": len(self.dms), "dms_missing": [d for d in self.dms if d not in dm_target.dms],
            "mentions_sent": len(self.mentions),
            "mention_notifs": sum(1 for k, _ in men_target.notifs if k == "mention"),
            "gaps": sum(len(m.gaps) for m in self.members),
            "new_sessions": self.new_sessions,
            "vanished": getattr(self, "vanished", []),
            "calls": list(CALLS),
            "failures": self.poster.failures + self.side_failures,
        }


def print_report(r, log=print):
    log(f"{'fault':<44} {'posts':>5} {'deliv':>6} {'lost':>5} {'twice':>5} {'recover':>8}")
    for row in r["rows"]:
        rec = "-" if row["recover_s"] is None else f"{row['recover_s']:.2f}s"
        log(f"{row['fault'][:44]:<44} {row['posts']:>5} {row['deliveries']:>6} {row['lost']:>5} "
            f"{row['stored_twice']:>5} {rec:>8}")
    log(f"connects per member {r['connects']} (agora-wsd died {r['wsd_deaths']}x), duplicate frames "
        f"{r['dup_frames']}, gaps {r['gaps']}, DMs {r['dms_sent'] - len(r['dms_missing'])}/{r['dms_sent']}, "
        f"mention notifications {r['mention_notifs']}/{r['mentions_sent']}, refusals {len(r['failures'])}, "
        f"API calls {len(r['calls'])}, longest {max(r['calls'], default=0):.1f}s, "
        f"over 2 s {sum(1 for c in r['calls'] if c > 2)}")


def check(r):
    """The assertions of a run; returns a list of problems (empty when all held)."""
    bad = []
    total = r["rows"][-1]
    for row in r["rows"][:-1]:
        # "notices within a few seconds": delivery resumed within RECOVER_S of the restart
        # (the members' own sockets; the old nats.c consumer took 10-30 s, or never)
        if row["recover_s"] is None or row["recover_s"] > RECOVER_S:
            bad.append(f"'{row['fault']}': delivery did not resume within {RECOVER_S} s "
                       f"of the restart ({row['recover_s']})")
    if total["lost"]:
        bad.append(f"{total['lost']} deliveries of acknowledged posts never arrived")
    if total["stored_twice"]:
        bad.append(f"{total['stored_twice']} posts arrived under two sequences")
    if any(r["dup_frames"]):
        bad.append(f"the same frame twice on one socket: {r['dup_frames']}")
    if any(c != 1 + r["wsd_deaths"] for c in r["connects"]):
        bad.append(f"members reconnected though only agora-wsd's death should close sockets: "
                   f"{r['connects']} (agora-wsd died {r['wsd_deaths']}x)")
    if r["vanished"]:
        bad.append(f"acknowledged posts that no longer exist: {r['vanished'][:5]}")
    if r["dms_missing"]:
        bad.append(f"DMs never delivered: {r['dms_missing']}")
    if r["mention_notifs"] < r["mentions_sent"]:
        bad.append(f"mention notifications {r['mention_notifs']} of {r['mentions_sent']}")
    for label, ok, why in r["new_sessions"]:
        if not ok:
            bad.append(f"new session after '{label}': {why}")
    for t, status, codes, took in r["failures"]:
        # bounded by the timeouts: connect 3 s, a statement 5 s + 1 s (a frozen server)
        if took >= 8:
            bad.append(f"a call hung {took:.1f}s ({status} {codes})")
        elif not (status == 503 or (status == 200 and "unavailable" in codes)):
            bad.append(f"a refusal that is not 'unavailable': {status} {codes}")
    return bad


# the short form (./agora test): each service killed and held down 5 s, then the
# pairs (each service followed by another, covering every service once as first and
# as second, agora-wsd then NATS among them), then each server frozen past the
# heartbeats (agora-wsd too: its sessions wait, its consumer is recreated after)
SHORT = (
    [[("kill", s, 5.0)] for s in ("nats", "redis", "postgres", "fcgi", "apache-worker", "wsd")]
    + [[("kill", a, 2.0), ("kill", b, 2.0)] for a, b in
       (("wsd", "nats"), ("nats", "redis"), ("redis", "postgres"), ("postgres", "fcgi"),
        ("fcgi", "wsd"))]
    + [[("freeze", s, 8.0)] for s in ("nats", "redis", "postgres", "wsd")]
)


def run(plan, members=4, settle=3.0, log=print):
    CALLS.clear()
    r = Run(members=members, log=log)
    r.start()
    for steps in plan:
        r.fault(steps, settle=settle)
    return r.finish()


def long_plan(minutes=10.0, settle=5.0, seed=None):
    """Faults one after the other until `minutes` are used: a random service killed (or,
    for the servers, sometimes frozen) and held down 5, 15 or 60 s; now and then two in
    a row, agora-wsd then NATS among them."""
    rnd = random.Random(seed)
    plan, used = [], 0.0
    while used < minutes * 60:
        svc = rnd.choice(SERVICES)
        hold = rnd.choices((5.0, 15.0, 60.0), weights=(5, 3, 1))[0]
        kind = "freeze" if svc in ("nats", "redis", "postgres", "wsd") and rnd.random() < 0.25 else "kill"
        steps = [(kind, svc, hold)]
        if rnd.random() < 0.2:
            steps = [("kill", rnd.choice(SERVICES), 5.0), ("kill", rnd.choice(SERVICES), 5.0)]
        plan.append(steps)
        used += sum(h for _, _, h in steps) + settle * len(steps) + 5
    return plan


if __name__ == "__main__":
    import argparse
    ap = argparse.ArgumentParser(description="long chaos run against the running test stack")
    ap.add_argument("--minutes", type=float, default=10)
    ap.add_argument("--settle", type=float, default=5, help="seconds after each restart")
    ap.add_argument("--seed", type=int, default=None)
    ap.add_argument("--json", help="write the report here")
    a = ap.parse_args()
    seed = a.seed if a.seed is not None else random.randrange(1 << 30)
    print(f"chaos: seed {seed}", flush=True)
    rep = run(long_plan(a.minutes, a.settle, seed), settle=a.settle,
              log=lambda x: print(x, flush=True))
    print_report(rep)
    problems = check(rep)
    for p in problems:
        print("chaos: FAIL " + p)
    if a.json:
        with open(a.json, "w") as f:
            rep.pop("calls", None)
            json.dump({"seed": seed, "problems": problems, **rep}, f, indent=1, default=str)
    sys.exit(1 if problems else 0)
