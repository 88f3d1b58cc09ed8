"""agora-worker (CONTRACT §7) end to end on the throw-away stack: each job is
run explicitly, as cron would, against what the API wrote — fanout
notifications (mentions, comments, replies; never yourself, never a
non-reader), the search index behind Query.search, per-channel daily stats,
the outbox after a NATS outage, a crash between processing and ack, and
poison messages in the dead-letter subject."""
import json
import os
import re
import signal
import socket
import subprocess
import time

from agora_test import (BUILD, NATS_PORT, PG_PORT, VAR, Nats, api, eventually, expect,
                        expect_error, on_cleanup, register, svc, unique)
from gql import channel, data, gql, post

WORKER = os.path.join(BUILD, "workers", "agora-worker")


def run(job, *args, env=None, timeout=120):
    """Run one job now; returns (returncode, stderr text)."""
    e = dict(os.environ)
    e.update(env or {})
    p = subprocess.run([WORKER, job, "--max-seconds", "30", *args], env=e, capture_output=True,
                       text=True, timeout=timeout)
    return p.returncode, p.stderr


def run_ok(job, *args, **kw):
    rc, err = run(job, *args, **kw)
    expect(rc == 0, f"agora-worker {job} exited {rc}: {err[-2000:]}")
    return err


def psql(sql):
    out = subprocess.run(["psql", "-X", "-q", "-h", "127.0.0.1", "-p", str(PG_PORT), "-U", "agora",
                          "-d", "agora", "-At", "-v", "ON_ERROR_STOP=1", "-c", sql],
                         check=True, capture_output=True, text=True).stdout
    return out.strip()


class Observer(Nats):
    """The core-protocol observer, also reading HMSG (JetStream publishes carry a
    Nats-Msg-Id header, so plain subscribers receive them with headers)."""

    def poll(self, timeout=0.2):
        self.sock.settimeout(timeout)
        try:
            while True:
                line = self._line()
                parts = line.split()
                if line.startswith(b"MSG "):
                    data_ = self._read(int(parts[-1]))
                    self.msgs.append((parts[1].decode(), json.loads(data_) if data_ else None))
                elif line.startswith(b"HMSG "):
                    hdr, total = int(parts[-2]), int(parts[-1])
                    raw = self._read(total)[hdr:]
                    self.msgs.append((parts[1].decode(), json.loads(raw) if raw else None))
                elif line == b"PING":
                    self.sock.sendall(b"PONG\r\n")
        except (OSError, socket.timeout):
            pass
        return self.msgs

    def count(self, subject, pred=lambda p: True, settle=0.5):
        self.poll(settle)
        return sum(1 for s, p in self.msgs if s == subject and pred(p))


def notifications(token):
    r = api("GET", "/notifications?limit=100", token=token)
    expect(r.status == 200, r)
    return r.json["items"]


def comment(token, post_id, body):
    return data(gql("mutation($p: ID!, $b: String!) { createComment(postId: $p, body: $b) { id } }",
                    {"p": post_id, "b": body}, token))["createComment"]


def reply(token, comment_id, body):
    return data(gql("mutation($c: ID!, $b: String!) { createReply(commentId: $c, body: $b) { id } }",
                    {"c": comment_id, "b": body}, token))["createReply"]


def join(cid, uid, token):
    r = api("PUT", f"/channels/{cid}/members/{uid}", {}, token=token)
    expect(r.status in (200, 201), r)


def search(token, query, first=20, after=None):
    d = data(gql("query($q: String!, $f: Int, $a: String) { search(query: $q, first: $f, after: $a) "
                 "{ edges { cursor node { id channelId body } } pageInfo { hasNextPage endCursor } } }",
                 {"q": query, "f": first, "a": after}, token))
    return d["search"]


# ---- the program ------------------------------------------------------------
def test_workers_cli_help_check_config_and_unknown_job():
    p = subprocess.run([WORKER, "--help"], capture_output=True, text=True)
    expect(p.returncode == 0 and "fanout" in p.stdout and "outbox" in p.stdout, p.stdout[:500])
    p = subprocess.run([WORKER, "--check-config"], capture_output=True, text=True)
    expect(p.returncode == 0 and "worker_max_seconds" in p.stdout, p.stdout[-500:])
    p = subprocess.run([WORKER, "nosuchjob"], capture_output=True, text=True)
    expect(p.returncode == 2 and "unknown job" in p.stderr, p.stderr)
    p = subprocess.run([WORKER, "fanout", "--batch", "0"], capture_output=True, text=True)
    expect(p.returncode == 78 and "worker_batch" in p.stderr, p.stderr)


# ---- fanout ---------------------------------------------------------------
def test_workers_fanout_mention_is_stored_and_published_on_notify_stream():
    alice, atok = register()
    bob, btok = register()
    cid = channel(atok)
    obs = Observer(f"user.{bob['id']}.notify.>", f"user.{alice['id']}.notify.>")
    on_cleanup(obs.close)
    p = post(atok, cid, f"hello @{bob['username']} and @{alice['username']} (myself) a@{bob['username']}")
    err = run_ok("fanout")
    expect("notifications created" in err, err)
    items = [n for n in notifications(btok) if n.get("postId") == p["id"]]
    expect(len(items) == 1, items)
    n = items[0]
    expect(n["kind"] == "mention" and n["actorId"] == alice["id"] and n["channelId"] == cid, n)
    s, payload = obs.wait_for(f"user.{bob['id']}.notify.mention",
                              lambda m: m.get("postId") == p["id"])
    expect(payload["userId"] == alice["id"] and payload["notificationId"] == n["id"], payload)
    # never yourself
    expect(not [x for x in notifications(atok) if x.get("postId") == p["id"]], notifications(atok))
    expect(obs.count(f"user.{alice['id']}.notify.mention") == 0, obs.msgs)
    # a second run finds nothing new: one notification, one event
    run_ok("fanout")
    expect(len([x for x in notifications(btok) if x.get("postId") == p["id"]]) == 1, "duplicate")
    expect(obs.count(f"user.{bob['id']}.notify.mention", lambda m: m.get("postId") == p["id"]) == 1,
           obs.msgs)


def test_workers_fanout_comment_and_reply_notify_authors_never_self_nor_non_readers():
    alice, atok = register()   # owner of a private channel
    carol, ctok = register()   # member
    dave, dtok = register()    # not a member: may not read it
    cid = channel(atok, "private")
    join(cid, carol["id"], atok)
    p = post(atok, cid, f"plans, @{dave['username']} cannot see this; @{carol['username']} can")
    own = comment(atok, p["id"], "my own comment")            # on my own post: nobody
    cm = comment(ctok, p["id"], "carol's comment")            # alice: comment
    reply(ctok, cm["id"], "carol answers herself")            # nobody
    r = reply(atok, cm["id"], f"alice replies, @{dave['username']}")  # carol: reply
    run_ok("fanout")
    a_kinds = sorted(n["kind"] for n in notifications(atok) if n.get("postId") == p["id"])
    expect(a_kinds == ["comment"], a_kinds)
    c_kinds = sorted(n["kind"] for n in notifications(ctok) if n.get("postId") == p["id"])
    # the post mentions carol; alice's reply to carol's comment is a reply (one each)
    expect(c_kinds == ["mention", "reply"], c_kinds)
    expect(notifications(dtok) == [], notifications(dtok))
    expect(own and r, "created")


def test_workers_fanout_killed_before_ack_creates_no_duplicate_on_rerun():
    alice, atok = register()
    bob, btok = register()
    cid = channel(atok)
    obs = Observer(f"user.{bob['id']}.notify.>")
    on_cleanup(obs.close)
    p = post(atok, cid, f"@{bob['username']} once only")
    rc, err = run("fanout", env={"AGORA_WORKER_TEST_KILL_BEFORE_ACK": "1",
                                 "AGORA_WORKER_ACK_WAIT_S": "1"})
    expect(rc == -9, f"want SIGKILL, got {rc}: {err[-1000:]}")
    expect(len([n for n in notifications(btok) if n.get("postId") == p["id"]]) == 1,
           "processed before the kill")
    time.sleep(1.5)   # the unacked message is redelivered after the ack wait
    err = run_ok("fanout", env={"AGORA_WORKER_ACK_WAIT_S": "1"})
    expect("fetched 0," not in err, f"the message was not redelivered: {err}")
    expect(len([n for n in notifications(btok) if n.get("postId") == p["id"]]) == 1, "duplicate")
    expect(obs.count(f"user.{bob['id']}.notify.mention", lambda m: m.get("postId") == p["id"]) == 1,
           obs.msgs)
    run_ok("fanout")   # back to the default ack wait


def test_workers_poison_message_lands_in_dead_letter_subject():
    obs = Observer("deadletter.>")
    on_cleanup(obs.close)
    subject = f"channel.{900000000 + int(time.time()) % 1000000}.message.created"
    raw = socket.create_connection(("127.0.0.1", NATS_PORT), timeout=5)
    on_cleanup(raw.close)
    raw.recv(4096)
    body = b"this is not json {"
    raw.sendall(b'CONNECT {"verbose":false}\r\n' + f"PUB {subject} {len(body)}\r\n".encode() + body
                + b"\r\nPING\r\n")
    eventually(lambda: b"PONG" in raw.recv(4096), what="PONG")
    err = run_ok("fanout")
    s, dl = obs.wait_for("deadletter.fanout", lambda m: m.get("subject") == subject)
    expect(dl["job"] == "fanout" and dl["data"] == body.decode() and dl["reason"], dl)
    expect("dead-lettered 1" in err, err)
    seq = dl["seq"]
    expect(psql(f"SELECT count(*) FROM worker_deadletters WHERE job = 'fanout' AND ref = '{seq}'")
           == "1", "recorded in PostgreSQL")
    # acked: the queue is not blocked and the message does not come back
    err = run_ok("fanout")
    expect("dead-lettered 0" in err, err)
    expect(obs.count("deadletter.fanout", lambda m: m.get("subject") == subject) == 1, obs.msgs)
    # every stream job dead-letters it on its own subject, then carries on
    run_ok("index")
    obs.wait_for("deadletter.index", lambda m: m.get("subject") == subject)


# ---- resident runs (what cron runs for fanout and index) ------------------------
LOCKS = {"fanout": 7411062101, "index": 7411062102}


def resident(job, *args, env=None):
    """`agora-worker --resident JOB [ARGS]` in the background, as cron starts it; stopped
    (SIGTERM) after the test. Returns the process and its log file."""
    log = os.path.join(VAR, "logs", f"resident-{job}-{unique()}.log")
    f = open(log, "wb")
    p = subprocess.Popen([WORKER, "--resident", job, *args], env=dict(os.environ, **(env or {})),
                         stdout=f, stderr=f, stdin=subprocess.DEVNULL)
    f.close()

    def stop():
        if p.poll() is None:
            p.send_signal(signal.SIGCONT)   # a test may have stopped it
            p.send_signal(signal.SIGTERM)
            try:
                p.wait(15)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
    on_cleanup(stop)
    return p, log


def lock_waiting(job):
    """Whether a session waits for the job's lock (what the next cron run does)."""
    return psql("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted "
                f"AND objsubid = 1 AND (classid::bigint << 32 | objid::bigint) = {LOCKS[job]}") != "0"


def fetched(log):
    """What a run's summary line says it fetched."""
    m = re.search(r"fetched (\d+),", open(log).read())
    return int(m.group(1)) if m else None


def lock_holder(job):
    """The PostgreSQL backend pid holding the job's lock, or None."""
    out = psql("SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted AND objsubid = 1 "
               f"AND (classid::bigint << 32 | objid::bigint) = {LOCKS[job]}")
    return int(out) if out else None


def test_workers_resident_fanout_notifies_without_a_new_run_and_hands_over_to_the_next():
    alice, atok = register()
    bob, btok = register()
    cid = channel(atok)
    run_ok("fanout")   # what other tests left, so the resident run starts drained
    # one event a fetch: how far it got through a backlog shows where it handed over
    r1, log1 = resident("fanout", "--batch", "1")
    first = eventually(lambda: lock_holder("fanout"), timeout=15, what="the resident run's lock")
    p = post(atok, cid, f"@{bob['username']} while the resident run waits")
    eventually(lambda: [n for n in notifications(btok) if n.get("postId") == p["id"]], timeout=10,
               what="a notification with no run started after the post")
    # a run started by hand meanwhile finds the lock taken and leaves
    err = run_ok("fanout")
    expect("another run holds the lock" in err, err)
    expect(r1.poll() is None, "the resident run is still there")
    # the next minute's run comes while the first is busy: a backlog waits (the first run
    # is held with SIGSTOP while it piles up) when the next run asks for the lock. The
    # first must hand over between two events, not only once it has drained them all
    # (that is what a run that looked for its successor only when idle did); no mention
    # is lost or told twice across the handover.
    r1.send_signal(signal.SIGSTOP)   # resident()'s cleanup continues it
    posted = [post(atok, cid, f"@{bob['username']} during the handover {i}")["id"]
              for i in range(20)]
    r2, log2 = resident("fanout")
    eventually(lambda: lock_waiting("fanout"), timeout=15, what="the next run waiting for the lock")
    r1.send_signal(signal.SIGCONT)
    try:
        rc1 = r1.wait(15)
    except subprocess.TimeoutExpired:
        rc1 = None
    expect(rc1 == 0, f"the first run did not hand over ({rc1}): {open(log1).read()[-1500:]}")
    expect("handing over" in open(log1).read(), open(log1).read()[-1500:])
    # before the backlog: the post above, and what the hand-started run's consumer may have
    # left; a run that drained the backlog first would have fetched all 20 of it
    expect(fetched(log1) is not None and fetched(log1) < 1 + len(posted) // 2,
           f"the first run handed over only after the backlog: {open(log1).read()[-1500:]}")
    second = eventually(lambda: lock_holder("fanout"), timeout=10, what="the second run's lock")
    expect(second != first, "the lock passed to the second run")
    p2 = post(atok, cid, f"@{bob['username']} after the handover")
    eventually(lambda: [n for n in notifications(btok) if n.get("postId") == p2["id"]], timeout=10,
               what="a notification from the second run")

    def told():
        out, after = [], ""
        while True:
            j = api("GET", f"/notifications?limit=100{after}", token=btok).json
            out += [n["postId"] for n in j["items"] if n.get("postId") in posted]
            if not j["next"]:
                return out
            after = f"&after={j['next']}"
    eventually(lambda: len(told()) == len(posted), timeout=10, what="every mention told")
    expect(sorted(told()) == sorted(posted), f"{len(posted)} posted, told {len(told())}")
    r2.send_signal(signal.SIGTERM)
    expect(r2.wait(15) == 0, f"SIGTERM ends a resident run cleanly: {open(log2).read()[-1500:]}")
    expect(lock_holder("fanout") is None, "and its lock is free")
    # --resident is for the stream jobs
    rc, err = run("outbox", "--resident")
    expect(rc == 2 and "--resident" in err, f"{rc}: {err}")


def test_workers_resident_index_makes_a_post_searchable_without_a_run():
    alice, atok = register()
    word = unique("okapi").replace("_", "")
    cid = channel(atok)
    resident("index")
    eventually(lambda: lock_holder("index"), timeout=15, what="the resident index run")
    p = post(atok, cid, f"{word} in the forest")
    found = eventually(lambda: [e["node"]["id"] for e in search(atok, word)["edges"]], timeout=10,
                       what="the post in search results")
    expect(found == [p["id"]], found)


# ---- index and search --------------------------------------------------------
def test_workers_index_search_readable_only_ranked_paginated_never_deleted():
    alice, atok = register()
    bob, btok = register()
    word = unique("zebra").replace("_", "")
    pub = channel(atok)
    priv = channel(atok, "private")
    p1 = post(atok, pub, f"{word} crossing the savanna")
    p2 = post(atok, pub, f"{word} {word} {word} stripes everywhere")
    p3 = post(atok, priv, f"{word} secret plans")
    expect(search(atok, word)["edges"] == [], "not indexed before the job runs")
    run_ok("index")
    ids = [e["node"]["id"] for e in search(atok, word)["edges"]]
    expect(sorted(ids) == sorted([p1["id"], p2["id"], p3["id"]]), ids)
    expect(ids[0] == p2["id"], f"most relevant first: {ids}")
    bob_ids = [e["node"]["id"] for e in search(btok, word)["edges"]]
    expect(sorted(bob_ids) == sorted([p1["id"], p2["id"]]), f"private post leaked: {bob_ids}")
    # pagination
    page1 = search(atok, word, first=2)
    expect(len(page1["edges"]) == 2 and page1["pageInfo"]["hasNextPage"], page1)
    page2 = search(atok, word, first=2, after=page1["pageInfo"]["endCursor"])
    expect(len(page2["edges"]) == 1 and not page2["pageInfo"]["hasNextPage"], page2)
    seen = [e["node"]["id"] for e in page1["edges"] + page2["edges"]]
    expect(sorted(seen) == sorted(ids), seen)
    # an edit is re-indexed; a deleted post never appears, even before the job runs
    data(gql("mutation($i: ID!) { editPost(id: $i, body: \"nothing to see\") { id } }", {"i": p1["id"]}, atok))
    data(gql("mutation($i: ID!) { deletePost(id: $i) }", {"i": p2["id"]}, atok))
    ids = [e["node"]["id"] for e in search(atok, word)["edges"]]
    expect(p2["id"] not in ids, ids)
    run_ok("index")
    ids = [e["node"]["id"] for e in search(atok, word)["edges"]]
    expect(ids == [p3["id"]], ids)
    expect(psql(f"SELECT count(*) FROM post_search WHERE post_id = '{p2['id']}'") == "0", "unindexed")
    r = gql("{ search(query: \"x\") { edges { cursor } } }")
    expect(r.json.get("errors") and r.json["errors"][0]["extensions"]["code"] == "unauthenticated", r)


# ---- analytics ----------------------------------------------------------------
def test_workers_analytics_stats_count_two_days_and_guard_private_channels():
    alice, atok = register()
    bob, btok = register()
    cid = channel(atok)
    join(cid, bob["id"], btok)
    old = [post(atok, cid, "yesterday one"), post(atok, cid, "yesterday two")]
    new = [post(atok, cid, "today one"), post(btok, cid, "today two by bob")]
    comment(btok, new[0]["id"], "comment one")
    c2 = comment(btok, new[0]["id"], "comment two")
    reply(atok, c2["id"], "a reply is not a comment")
    # the posts of "yesterday": dated back before the analytics job sees them
    ids = ",".join(f"'{p['id']}'" for p in old)
    psql(f"UPDATE posts SET created_at = created_at - interval '1 day' WHERE id IN ({ids})")
    run_ok("analytics")
    r = api("GET", f"/channels/{cid}/stats?days=2", token=btok)
    expect(r.status == 200 and r.json["channelId"] == cid and len(r.json["days"]) == 2, r)
    yday, today = r.json["days"]
    expect(yday["date"] < today["date"], r.json)
    expect((yday["posts"], yday["comments"], yday["activePosters"]) == (2, 0, 1), yday)
    expect((today["posts"], today["comments"], today["activePosters"]) == (2, 2, 2), today)
    # idempotent: running again counts nothing twice
    run_ok("analytics")
    expect(api("GET", f"/channels/{cid}/stats?days=2", token=btok).json == r.json, "changed")
    # days is clamped; a non-number is a 400
    expect(len(api("GET", f"/channels/{cid}/stats?days=1000", token=atok).json["days"]) == 90, "clamp")
    expect(len(api("GET", f"/channels/{cid}/stats?days=0", token=atok).json["days"]) == 1, "clamp")
    expect(len(api("GET", f"/channels/{cid}/stats", token=atok).json["days"]) == 7, "default")
    expect_error(api("GET", f"/channels/{cid}/stats?days=abc", token=atok), 400, "bad_request")
    # public: anyone signed in; private: members only, 404 to others; unsigned: 401
    carol, ctok = register()
    expect(api("GET", f"/channels/{cid}/stats", token=ctok).status == 200, "public")
    priv = channel(atok, "private")
    expect_error(api("GET", f"/channels/{priv}/stats", token=ctok), 404, "not_found")
    expect(api("GET", f"/channels/{priv}/stats", token=atok).status == 200, "owner")
    expect_error(api("GET", f"/channels/{cid}/stats"), 401, "unauthorized")
    expect_error(api("GET", "/channels/999999999/stats", token=atok), 404, "not_found")


# ---- outbox -------------------------------------------------------------------
def test_workers_outbox_republishes_after_nats_outage_exactly_once():
    alice, atok = register()
    bob, _ = register()
    cid = channel(atok)
    on_cleanup(lambda: svc("start", "nats"))
    svc("stop", "nats")
    p = post(atok, cid, "written while NATS was down")
    pending = psql(f"SELECT count(*) FROM content_outbox WHERE msg_id = '{p['id']}-created' "
                   "AND published_at IS NULL")
    expect(pending == "1", f"the event should wait in the outbox: {pending}")
    svc("start", "nats")
    obs = Observer(f"channel.{cid}.message.>", f"user.{bob['id']}.notify.>")
    on_cleanup(obs.close)
    # a notification stored but never published (its publish failed)
    nid = psql(f"INSERT INTO notifications (user_id, kind, actor_id, channel_id, dedupe_key) VALUES "
               f"({bob['id']}, 'mention', {alice['id']}, {cid}, 'test-outbox-{unique()}') RETURNING id")
    # an event no stream captures cannot be published while NATS is fine: it is
    # deferred (never dropped, never dead-lettered) and does not block the others
    bad = f"poison-{unique()}"
    psql(f"INSERT INTO content_outbox (msg_id, subject, payload) VALUES "
         f"('{bad}', 'nostream.{bad}', '{{}}')")
    on_cleanup(lambda: psql(f"UPDATE content_outbox SET published_at = now() WHERE msg_id = '{bad}'"))
    # (a large batch: rows other tests left unpublished come first)
    err = run_ok("outbox", "--batch", "1000",
                 env={"AGORA_WORKER_OUTBOX_AGE_S": "0", "AGORA_WORKER_MAX_DELIVER": "1"})
    expect("events republished" in err, err)
    expect(psql(f"SELECT published_at IS NULL AND attempts = 1 FROM content_outbox WHERE msg_id = '{bad}'")
           == "t", "the poison event is kept, one attempt counted")
    expect(psql(f"SELECT count(*) FROM worker_deadletters WHERE job = 'outbox' AND ref = '{bad}'")
           == "0", "and not dead-lettered")
    obs.wait_for(f"channel.{cid}.message.created", lambda m: m.get("messageId") == p["id"])
    obs.wait_for(f"user.{bob['id']}.notify.mention", lambda m: m.get("notificationId") == nid)
    expect(psql(f"SELECT published_at IS NOT NULL FROM content_outbox WHERE msg_id = '{p['id']}-created'")
           == "t", "marked published")
    expect(psql(f"SELECT published FROM notifications WHERE id = {nid}") == "t", "notification marked")
    # a second run has nothing left: the subscriber saw each event exactly once
    run_ok("outbox", env={"AGORA_WORKER_OUTBOX_AGE_S": "0"})
    expect(obs.count(f"channel.{cid}.message.created", lambda m: m.get("messageId") == p["id"],
                     settle=1.0) == 1, obs.msgs)
    expect(obs.count(f"user.{bob['id']}.notify.mention", lambda m: m.get("notificationId") == nid) == 1,
           obs.msgs)
    # and the stream holds it once: a fanout of the post reaches it (it is in CHANNEL_STREAM)
    run_ok("fanout")


ADMIN = os.path.join(BUILD, "admin", "agora-admin")


def _outbox_rows(tag):
    """msg_id -> (pending, attempts, seconds to the next try, has an error) of this test's events."""
    out = psql("SELECT msg_id, published_at IS NULL, attempts, "
               "round(extract(epoch FROM next_try_at - now())), coalesce(last_error, '') <> '' "
               f"FROM content_outbox WHERE msg_id LIKE 'poison-{tag}-%' ORDER BY msg_id")
    rows = {}
    for line in out.splitlines():
        m, pending, attempts, delay, err = line.split("|")
        rows[m] = (pending == "t", int(attempts), int(float(delay)) if delay else None, err == "t")
    return rows


def test_workers_outbox_never_drops_retries_with_persisted_bounded_backoff_and_alerts():
    # issue 15 item 14: the outbox gave up after worker_max_deliver failed publishes
    alice, atok = register()
    cid = channel(atok)
    p = post(atok, cid, "a post whose update event waits behind three poison events")
    env = {"AGORA_WORKER_OUTBOX_AGE_S": "0", "AGORA_WORKER_MAX_DELIVER": "1",
           "AGORA_WORKER_OUTBOX_BACKOFF_S": "60", "AGORA_WORKER_OUTBOX_BACKOFF_MAX_S": "600",
           "AGORA_WORKER_OUTBOX_ALERT_S": "300"}
    run_ok("outbox", "--batch", "1000", env=env)  # what other tests left is published first
    tag = unique()
    poison = [f"poison-{tag}-{i}" for i in range(3)]
    on_cleanup(lambda: psql("UPDATE content_outbox SET published_at = now() "
                            f"WHERE msg_id LIKE 'poison-{tag}-%'"))
    for i, m in enumerate(poison):
        psql(f"INSERT INTO content_outbox (msg_id, subject, payload, created_at) VALUES "
             f"('{m}', 'nostream.{m}', '{{}}', now() - interval '1 minute' + interval '{i} ms')")
    good = f"good-{tag}"
    psql(f"INSERT INTO content_outbox (msg_id, subject, payload) VALUES ('{good}', "
         f"'channel.{cid}.message.updated', '{{\"messageId\":\"{p['id']}\"}}')")
    obs = Observer(f"channel.{cid}.message.updated")
    on_cleanup(obs.close)
    # pages of 2: the poison events fill the first page and must not hold up the good one
    err = run_ok("outbox", "--batch", "2", env=env)
    rows = _outbox_rows(tag)
    for m in poison:
        pending, attempts, delay, has_err = rows[m]
        expect(pending and attempts == 1 and has_err and 55 <= delay <= 60,
               f"{m}: kept, one attempt, next try in ~60 s, its error kept: {rows[m]}")
    expect(psql(f"SELECT count(*) FROM worker_deadletters WHERE job = 'outbox' "
                f"AND ref LIKE 'poison-{tag}-%'") == "0", "nothing dead-lettered")
    obs.wait_for(f"channel.{cid}.message.updated", lambda m: m.get("messageId") == p["id"])
    expect(psql(f"SELECT published_at IS NOT NULL FROM content_outbox WHERE msg_id = '{good}'") == "t",
           "the event behind them was published")
    # the next cron run respects the persisted next try time: no attempt before it
    run_ok("outbox", env=env)
    expect(all(r[1] == 1 for r in _outbox_rows(tag).values()), _outbox_rows(tag))
    # once due it is tried again, and the delay doubles
    psql(f"UPDATE content_outbox SET next_try_at = now() - interval '1 s' WHERE msg_id = '{poison[0]}'")
    run_ok("outbox", env=env)
    r = _outbox_rows(tag)[poison[0]]
    expect(r[0] and r[1] == 2 and 115 <= r[2] <= 120, f"second attempt, next in ~120 s: {r}")
    # bounded: however many failures, the delay stops at worker_outbox_backoff_max_s
    psql("UPDATE content_outbox SET attempts = 40, next_try_at = now() - interval '1 s' "
         f"WHERE msg_id = '{poison[1]}'")
    run_ok("outbox", env=env)
    r = _outbox_rows(tag)[poison[1]]
    expect(r[0] and r[1] == 41 and 595 <= r[2] <= 600, f"41st attempt, next in the maximum: {r}")
    # undelivered past the alert threshold: an error line at the try and one for the run
    psql("UPDATE content_outbox SET created_at = now() - interval '1 hour', "
         f"next_try_at = now() - interval '1 s' WHERE msg_id = '{poison[2]}'")
    err = run_ok("outbox", env=env)
    errors = [l for l in err.splitlines() if " error agora-worker" in l]
    expect(any(poison[2] in l and "undelivered for" in l and "attempts" in l for l in errors),
           f"an error line names the event: {err[-3000:]}")
    expect(any("events undelivered, the oldest " + poison[2] in l for l in errors),
           f"the run's backlog alert names the oldest: {err[-3000:]}")
    # operators see it: agora-admin outbox is degraded (exit 1) and names the oldest event
    a = subprocess.run([ADMIN, "outbox"], env=dict(os.environ, **env), capture_output=True, text=True)
    first = a.stdout.splitlines()[0] if a.stdout else ""
    expect(a.returncode == 1 and first.startswith("outbox: degraded events_pending=") and
           poison[2] in a.stdout, f"agora-admin outbox: {a.returncode} {a.stdout} {a.stderr}")
    # still there after all this: an operator resolves them (here: marks them handled)
    expect(all(r[0] for r in _outbox_rows(tag).values()), _outbox_rows(tag))
    psql(f"UPDATE content_outbox SET published_at = now() WHERE msg_id LIKE 'poison-{tag}-%'")
    a = subprocess.run([ADMIN, "outbox"], env=dict(os.environ, **env), capture_output=True, text=True)
    expect(a.returncode == 0 and a.stdout.startswith("outbox: ok "), f"{a.returncode} {a.stdout} {a.stderr}")
