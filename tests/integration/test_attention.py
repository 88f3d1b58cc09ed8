"""Attention (issue 16, CONTRACT §9): the unread and mentions counts of
GET /channels?member=me as README defines them — posts by others, created
after you joined, above your read offset, that still exist; mentions of you
among them — and how they stay right after a read on another session, a
replay, a gap, deletes, edits, a publish left to the outbox and membership
changes; per-channel notification levels; blocks; and the redelivery policy
for open sessions (a notification is sent to an open session once)."""
import os
import subprocess
import time

import agora_test as at
from agora_test import api, eventually, expect, expect_error, on_cleanup, psql, register, svc
from gql import channel, data, error_codes, gql, post
from test_wsd_basic import join
from wsclient import JS, WS

WORKER = os.path.join(at.BUILD, "workers", "agora-worker")


def counts(token, cid):
    """(unread, mentions) of one of the caller's channels, and the item itself."""
    r = api("GET", "/channels?member=me&limit=100", token=token)
    expect(r.status == 200, r)
    item = next((c for c in r.json["items"] if c["id"] == cid), None)
    expect(item is not None, f"channel {cid} is not in the caller's list: {r.json}")
    for k in ("unread", "mentions", "readSeq", "lastSeq"):
        expect(isinstance(item.get(k), int), f"item without an integer {k}: {item}")
    return (item["unread"], item["mentions"]), item


def listed(token, cid):
    r = api("GET", "/channels?member=me&limit=100", token=token)
    expect(r.status == 200, r)
    return any(c["id"] == cid for c in r.json["items"])


def worker(job, *args, env=None):
    p = subprocess.run([WORKER, job, "--max-seconds", "30", *args], capture_output=True,
                       text=True, timeout=120, env=dict(os.environ, **(env or {})))
    expect(p.returncode == 0, f"agora-worker {job}: {p.returncode} {p.stderr[-1500:]}")
    return p.stderr


def notifications(token):
    r = api("GET", "/notifications?limit=100", token=token)
    expect(r.status == 200, r)
    return r.json["items"]


def delete_post(token, pid):
    return data(gql("mutation($i: ID!) { deletePost(id: $i) }", {"i": pid}, token))


def edit_post(token, pid, body):
    return data(gql("mutation($i: ID!, $b: String!) { editPost(id: $i, body: $b) { id } }",
                    {"i": pid, "b": body}, token))


def comment(token, pid, body):
    return data(gql("mutation($p: ID!, $b: String!) { createComment(postId: $p, body: $b) { id } }",
                    {"p": pid, "b": body}, token))["createComment"]


def send_dm(token, to, body="hi"):
    return gql("mutation($t: ID!, $b: String!) { sendDirectMessage(toUserId: $t, body: $b) { id } }",
               {"t": to, "b": body}, token)


def pair():
    """alice owns a public channel that bob joined."""
    alice, ta = register()
    bob, tb = register()
    cid = channel(ta)
    join(tb, cid, bob["id"])
    return alice, ta, bob, tb, cid


def seqs_of(ws, ids, timeout=8):
    """{post id: seq} from channel_message frames, once every id arrived."""
    got = {}
    deadline = time.monotonic() + timeout
    while set(ids) - set(got) and time.monotonic() < deadline:
        f = ws.recv(0.5)
        if f and f.get("type") == "channel_message" and f["messageId"] in ids:
            got[f["messageId"]] = f["seq"]
    expect(not set(ids) - set(got), f"no channel_message for {set(ids) - set(got)}")
    return got


# ---- the counts ------------------------------------------------------------------
def test_attention_member_list_counts_others_posts_and_mentions_of_you():
    alice, ta, bob, tb, cid = pair()
    expect(counts(ta, cid)[0] == (0, 0), "a new channel has nothing unread")
    post(tb, cid, "one")
    post(tb, cid, f"two, @{alice['username']} look")
    post(tb, cid, f"three @{alice['username'].upper()} @{alice['username']} (one mention)")
    post(ta, cid, f"alice's own post, @{bob['username']}")
    # right after the mutations' responses: the write path counted them
    expect(counts(ta, cid)[0] == (3, 2), f"alice: {counts(ta, cid)}")
    expect(counts(tb, cid)[0] == (1, 1), f"bob: {counts(tb, cid)}")
    # counts are per channel
    other = channel(ta)
    expect(counts(ta, other)[0] == (0, 0), "another channel")
    # the list of every public channel does not carry them; a member's list does
    r = api("GET", "/channels?limit=100", token=ta)
    expect(r.status == 200, r)


def test_attention_read_on_one_session_clears_the_counts_and_tells_the_other():
    alice, ta, bob, tb, cid = pair()
    w1, w2 = WS(token=ta), WS(token=ta)
    w1.ready()
    w2.ready()
    p1 = post(tb, cid, "first")
    p2 = post(tb, cid, f"second @{alice['username']}")
    s = seqs_of(w1, [p1["id"], p2["id"]])
    expect(counts(ta, cid)[0] == (2, 1), counts(ta, cid))
    # half way: what is after the offset is left
    w1.send({"action": "read", "channelId": cid, "seq": s[p1["id"]]})
    f = w2.wait_type("read_state", channelId=cid)
    expect(f["seq"] == s[p1["id"]], f)
    # read_state goes out once the offset is stored: the counts already follow it
    (unread, mentions), item = counts(ta, cid)
    expect((unread, mentions) == (1, 1) and item["readSeq"] == s[p1["id"]], item)
    expect(item["lastSeq"] == s[p2["id"]], f"lastSeq is the newest post's sequence: {item}")
    w1.send({"action": "read", "channelId": cid, "seq": s[p2["id"]]})
    w2.wait_type("read_state", channelId=cid, seq=s[p2["id"]])
    expect(counts(ta, cid)[0] == (0, 0), counts(ta, cid))
    post(tb, cid, "after the read")
    expect(counts(ta, cid)[0] == (1, 0), counts(ta, cid))
    w1.close()
    w2.close()


def test_attention_deleted_and_edited_posts():
    alice, ta, bob, tb, cid = pair()
    p1 = post(tb, cid, f"hey @{alice['username']}")
    p2 = post(tb, cid, "plain")
    expect(counts(ta, cid)[0] == (2, 1), counts(ta, cid))
    delete_post(tb, p1["id"])
    expect(counts(ta, cid)[0] == (1, 0), f"a deleted post no longer counts: {counts(ta, cid)}")
    edit_post(tb, p2["id"], f"plain, now for @{alice['username']}")
    expect(counts(ta, cid)[0] == (1, 1), f"an edit that mentions you: {counts(ta, cid)}")
    edit_post(tb, p2["id"], "plain again")
    expect(counts(ta, cid)[0] == (1, 0), f"an edit that drops the mention: {counts(ta, cid)}")
    # the owner deletes a member's post
    p3 = post(tb, cid, "to be removed by the owner")
    expect(counts(ta, cid)[0] == (2, 0), counts(ta, cid))
    delete_post(ta, p3["id"])
    expect(counts(ta, cid)[0] == (1, 0), counts(ta, cid))
    # and the fanout job, seeing the same events later, agrees
    worker("fanout")
    expect(counts(ta, cid)[0] == (1, 0), f"after the fanout job: {counts(ta, cid)}")


def test_attention_counts_match_what_a_reconnect_replays():
    alice, ta, bob, tb, cid = pair()
    w = WS(token=ta)
    w.ready()
    p0 = post(tb, cid, "read before going away")
    s0 = seqs_of(w, [p0["id"]])[p0["id"]]
    w.send({"action": "read", "channelId": cid, "seq": s0})
    eventually(lambda: counts(ta, cid)[0] == (0, 0), what="read stored")
    w.close()
    away = [post(tb, cid, f"while away {i} @{alice['username']}" if i == 1 else f"while away {i}")
            for i in range(3)]
    post(ta, cid, "alice on another device, not a session here")
    expect(counts(ta, cid)[0] == (3, 1), counts(ta, cid))
    w = WS(token=ta)
    w.ready()
    got = seqs_of(w, [p["id"] for p in away])
    # what the replay brought from others is what the count said; reading its last clears it
    w.send({"action": "read", "channelId": cid, "seq": max(got.values())})
    eventually(lambda: counts(ta, cid)[0] == (0, 0), what="counts after reading the replay")
    w.close()


def test_attention_counts_stay_right_across_a_gap_and_clear_when_it_is_read():
    alice, ta, bob, tb, cid = pair()
    w = WS(token=ta)
    w.ready()
    p0 = post(tb, cid, "before")
    s0 = seqs_of(w, [p0["id"]])[p0["id"]]
    w.send({"action": "read", "channelId": cid, "seq": s0})
    eventually(lambda: counts(ta, cid)[0] == (0, 0), what="read stored")
    w.close()
    for i in range(2):
        post(tb, cid, f"lost {i} @{alice['username']}")
    (before, _), item = counts(ta, cid)
    expect(before == 2, item)
    js = JS()
    # retention caught up: the stream no longer holds the posts, they still exist
    r = js.api("$JS.API.STREAM.PURGE.CHANNEL_STREAM", {"seq": item["lastSeq"] + 1})
    expect(r.get("success") is True, f"purge: {r!r}")
    js.close()
    expect(counts(ta, cid)[0] == (2, 2), f"after the gap: {counts(ta, cid)}")
    w = WS(token=ta)
    w.ready()
    g = w.wait_type("gap", channelId=cid)
    expect(g["toSeq"] >= item["lastSeq"], f"gap {g} covers the posts (lastSeq {item['lastSeq']})")
    w.send({"action": "read", "channelId": cid, "seq": g["toSeq"]})
    eventually(lambda: counts(ta, cid)[0] == (0, 0), what="counts after reading the gap")
    w.close()


def test_attention_membership_changes():
    alice, ta, bob, tb, cid = pair()
    carol, tc = register()
    post(tb, cid, "before carol joined")
    join(tc, cid, carol["id"])
    expect(counts(tc, cid)[0] == (0, 0), f"what came before joining is not unread: {counts(tc, cid)}")
    post(tb, cid, f"welcome @{carol['username']}")
    expect(counts(tc, cid)[0] == (1, 1), counts(tc, cid))
    r = api("DELETE", f"/channels/{cid}/members/{carol['id']}", token=tc)
    expect(r.status == 204, r)
    expect(not listed(tc, cid), "a channel left is not listed")
    post(tb, cid, f"while carol is out @{carol['username']}")
    join(tc, cid, carol["id"])
    expect(counts(tc, cid)[0] == (0, 0), f"after rejoining, only what comes next: {counts(tc, cid)}")
    post(tb, cid, "after the rejoin")
    expect(counts(tc, cid)[0] == (1, 0), counts(tc, cid))
    # removed by the owner: same
    r = api("DELETE", f"/channels/{cid}/members/{carol['id']}", token=ta)
    expect(r.status == 204, r)
    expect(not listed(tc, cid), "removed: not listed")
    # a deleted channel takes its counts along (nothing left to list or count)
    r = api("DELETE", f"/channels/{cid}", token=ta)
    expect(r.status == 204, r)
    expect(psql(f"SELECT count(*) FROM attention_posts WHERE channel_id = {cid}") == "0",
           "rows of a deleted channel")


def test_attention_post_published_later_by_the_outbox_counts_and_clears():
    alice, ta, bob, tb, cid = pair()
    on_cleanup(lambda: svc("start", "nats"))
    svc("stop", "nats")
    p = post(tb, cid, f"while NATS is down @{alice['username']}")
    # not in the stream yet, but it is a post alice has not read
    (c, item) = counts(ta, cid)
    expect(c == (1, 1), f"counted before it is in the stream: {item}")
    svc("start", "nats")
    worker("outbox", "--batch", "1000", env={"AGORA_WORKER_OUTBOX_AGE_S": "0"})
    # the fanout job gives it the sequence the writer could not
    worker("fanout")
    seq = psql(f"SELECT seq FROM attention_posts WHERE post_id = '{p['id']}'")
    expect(seq.isdigit(), f"the post has its stream sequence: {seq!r}")
    (c, item) = counts(ta, cid)
    expect(item["lastSeq"] == int(seq), item)
    w = WS(token=ta)
    w.ready()
    w.send({"action": "read", "channelId": cid, "seq": item["lastSeq"]})
    eventually(lambda: counts(ta, cid)[0] == (0, 0), what="counts after reading it")
    w.close()


def test_attention_the_fanout_job_records_a_post_the_writer_could_not():
    alice, ta, bob, tb, cid = pair()
    worker("fanout")
    p = post(tb, cid, f"the writer's record of this is lost @{alice['username']}")
    # as if the write path's insert had failed after the post was stored
    psql(f"DELETE FROM attention_posts WHERE post_id = '{p['id']}'")
    expect(counts(ta, cid)[0] == (0, 0), "without a record the post is not counted")
    worker("fanout")
    row = psql(f"SELECT seq IS NOT NULL, cardinality(mentioned) FROM attention_posts "
               f"WHERE post_id = '{p['id']}'")
    expect(row == "t|1", f"recorded again, with its sequence and mention: {row!r}")
    expect(counts(ta, cid)[0] == (1, 1), counts(ta, cid))
    expect([n["kind"] for n in notifications(ta) if n.get("postId") == p["id"]] == ["mention"],
           "and the mention notified")


# ---- notification levels ------------------------------------------------------------
def test_attention_level_get_put_default_and_errors():
    alice, ta, bob, tb, cid = pair()
    r = api("GET", f"/channels/{cid}/notifications", token=tb)
    expect(r.status == 200 and r.json == {"level": "all"}, f"default: {r!r}")
    for level in ("mentions", "none", "all", "none"):
        r = api("PUT", f"/channels/{cid}/notifications", {"level": level}, token=tb)
        expect(r.status == 200 and r.json == {"level": level}, f"PUT {level}: {r!r}")
        r = api("GET", f"/channels/{cid}/notifications", token=tb)
        expect(r.json == {"level": level}, f"GET after PUT {level}: {r!r}")
    expect(api("GET", f"/channels/{cid}/notifications", token=ta).json == {"level": "all"},
           "levels are per member")
    for bad in ({"level": "some"}, {"level": 1}, {}, {"level": None}):
        expect_error(api("PUT", f"/channels/{cid}/notifications", bad, token=tb), 400, "bad_request")
    expect(api("GET", f"/channels/{cid}/notifications", token=tb).json == {"level": "none"},
           "a refused PUT changes nothing")
    carol, tc = register()
    expect_error(api("GET", f"/channels/{cid}/notifications", token=tc), 403, "forbidden")
    expect_error(api("PUT", f"/channels/{cid}/notifications", {"level": "none"}, token=tc), 403,
                 "forbidden")
    priv = channel(ta, "private")
    expect_error(api("GET", f"/channels/{priv}/notifications", token=tc), 404, "not_found")
    expect_error(api("PUT", f"/channels/{priv}/notifications", {"level": "all"}, token=tc), 404,
                 "not_found")
    expect_error(api("GET", "/channels/999999999/notifications", token=tc), 404, "not_found")
    expect_error(api("GET", f"/channels/{cid}/notifications"), 401, "unauthorized")


def test_attention_levels_decide_which_notifications_and_mentions_a_channel_makes():
    alice, ta, bob, tb, cid = pair()
    worker("fanout")  # what earlier tests left
    mine = post(ta, cid, "alice's post, to be commented")

    def made(body_tag):
        """bob mentions alice and comments on her post; the kinds alice is told of."""
        p = post(tb, cid, f"{body_tag} @{alice['username']}")
        comment(tb, mine["id"], f"{body_tag} comment")
        worker("fanout")
        return sorted(n["kind"] for n in notifications(ta)
                      if n.get("postId") in (p["id"], mine["id"]) and not n["read"]), p

    def read_all():
        items = notifications(ta)
        if items:
            api("POST", "/notifications/read", {"upTo": items[0]["id"]}, token=ta)

    kinds, _ = made("all")
    expect(kinds == ["comment", "mention"], f"level all: {kinds}")
    read_all()
    api("PUT", f"/channels/{cid}/notifications", {"level": "mentions"}, token=ta)
    kinds, _ = made("mentions")
    expect(kinds == ["mention"], f"level mentions: {kinds}")
    read_all()
    before = counts(ta, cid)[0]
    api("PUT", f"/channels/{cid}/notifications", {"level": "none"}, token=ta)
    kinds, _ = made("none")
    expect(kinds == [], f"level none makes no notification: {kinds}")
    (unread, mentions), _ = counts(ta, cid)
    expect(mentions == 0 and unread == before[0] + 1,
           f"level none: no mentions count, unread still counted: {(unread, mentions)}")
    api("PUT", f"/channels/{cid}/notifications", {"level": "all"}, token=ta)
    expect(counts(ta, cid)[0][1] == before[1] + 1, "back to all: the mentions count again")


# ---- blocks -----------------------------------------------------------------------
def test_attention_block_put_delete_list_and_errors():
    alice, ta = register()
    bob, tb = register()
    carol, _ = register()
    for _ in range(2):  # idempotent
        r = api("PUT", f"/users/{bob['id']}/block", token=ta)
        expect(r.status == 204 and not r.body, f"block: {r!r}")
    api("PUT", f"/users/{carol['id']}/block", token=ta)
    r = api("GET", "/users/me/blocks", token=ta)
    expect(r.status == 200 and r.json["next"] is None, r)
    ids = [u["id"] for u in r.json["items"]]
    expect(sorted(ids, key=int) == sorted([bob["id"], carol["id"]], key=int), f"blocks: {ids}")
    u = next(u for u in r.json["items"] if u["id"] == bob["id"])
    expect(u["username"] == bob["username"] and "createdAt" in u and "passwordHash" not in u, u)
    r = api("GET", "/users/me/blocks?limit=1", token=ta)
    expect(len(r.json["items"]) == 1 and r.json["next"], f"paged: {r.json}")
    r2 = api("GET", f"/users/me/blocks?limit=1&after={r.json['next']}", token=ta)
    expect(len(r2.json["items"]) == 1 and r2.json["items"][0]["id"] != r.json["items"][0]["id"],
           r2.json)
    expect(api("GET", "/users/me/blocks", token=tb).json["items"] == [], "bob blocked nobody")
    for _ in range(2):
        r = api("DELETE", f"/users/{bob['id']}/block", token=ta)
        expect(r.status == 204, f"unblock: {r!r}")
    expect([u["id"] for u in api("GET", "/users/me/blocks", token=ta).json["items"]] == [carol["id"]],
           "unblocked")
    expect_error(api("PUT", f"/users/{alice['id']}/block", token=ta), 400, "bad_request")
    expect_error(api("PUT", "/users/999999999/block", token=ta), 404, "not_found")
    expect_error(api("PUT", "/users/abc/block", token=ta), 404, "not_found")  # as every {id}
    expect_error(api("PUT", f"/users/{bob['id']}/block"), 401, "unauthorized")


def test_attention_a_blocked_users_dms_are_refused_both_ways_until_unblocked():
    alice, ta = register()
    bob, tb = register()
    r = send_dm(tb, alice["id"], "before")
    expect(not r.json.get("errors"), r)
    api("PUT", f"/users/{bob['id']}/block", token=ta)
    r = send_dm(tb, alice["id"], "after the block")
    expect(error_codes(r) == ["forbidden"] and r.json["data"] is None, f"bob to alice: {r.json}")
    r = send_dm(ta, bob["id"], "alice to the user she blocked")
    expect(error_codes(r) == ["forbidden"], f"alice to bob: {r.json}")
    d = data(gql("query($u: ID!) { directMessages(withUserId: $u, first: 10) { edges { node { body } } } }",
                 {"u": bob["id"]}, ta))
    expect([e["node"]["body"] for e in d["directMessages"]["edges"]] == ["before"],
           f"nothing was stored: {d}")
    api("DELETE", f"/users/{bob['id']}/block", token=ta)
    expect(not send_dm(tb, alice["id"], "after unblocking").json.get("errors"), "unblocked")


def test_attention_a_blocked_user_makes_no_notification_and_no_mentions_count():
    alice, ta, bob, tb, cid = pair()
    carol, tc = register()
    join(tc, cid, carol["id"])
    worker("fanout")
    mine = post(ta, cid, "alice's post")
    api("PUT", f"/users/{bob['id']}/block", token=ta)
    r = api("PUT", f"/users/{alice['id']}/follow", token=tb)
    expect(r.status == 204, r)
    pb = post(tb, cid, f"bob says @{alice['username']}")
    comment(tb, mine["id"], f"bob's comment @{alice['username']}")
    pc = post(tc, cid, f"carol says @{alice['username']}")
    worker("fanout")
    got = [(n["kind"], n["actorId"]) for n in notifications(ta)]
    expect(all(actor != bob["id"] for _, actor in got), f"bob made notifications: {got}")
    expect(("mention", carol["id"]) in got, f"carol's mention: {got}")
    # bob's post is unread (posts are shown), his mention is not counted
    expect(counts(ta, cid)[0] == (2, 1), f"{counts(ta, cid)} ({pb['id']}, {pc['id']})")
    api("DELETE", f"/users/{bob['id']}/block", token=ta)
    expect(counts(ta, cid)[0] == (2, 2), f"unblocked, his mention counts: {counts(ta, cid)}")


# ---- the redelivery policy for open sessions ------------------------------------------
def test_attention_an_open_session_gets_each_notification_once_until_acked():
    from test_wsd_replay import start_second_daemon
    port = at.WS_PORT + 5 + 150
    start_second_daemon(port, {"AGORA_WS_ACK_WAIT_S": "1"}, name="wsd-ackwait")
    u, tu = register()
    w1 = WS(token=tu, port=port)
    w1.ready()
    time.sleep(0.5)  # the durable consumers are created by a job after connect
    js = JS()
    seq = js.publish(f"user.{u['id']}.notify.new_follower",
                     {"kind": "new_follower", "userId": "1", "notificationId": "1"})
    w1.wait_type("notification", seq=seq)
    # not acked: JetStream redelivers to the daemon every second; the open session is not
    # sent it again
    again = [f for f in w1.collect(4.0) if f.get("type") == "notification"]
    expect(not again, f"an open session got the same notification again: {again}")
    # a session that opens while it is unacked gets it (once), and its ack acks for all
    w2 = WS(token=tu, port=port)
    w2.ready()
    f = w2.wait_type("notification", seq=seq)
    more = [x for x in w2.collect(3.0) if x.get("type") == "notification"]
    expect(not more, f"the new session got it twice: {[f] + more}")
    w2.send({"action": "ack", "stream": "notify", "seq": seq})
    # the ack is a publish from the daemon's job thread: wait until JetStream has it
    deadline = time.time() + 15
    while True:
        info = js.api(f"$JS.API.CONSUMER.INFO.NOTIFY_STREAM.wsd-notify-{u['id']}")
        if info.get("ack_floor", {}).get("stream_seq", 0) >= seq:
            break
        expect(time.time() < deadline, f"the ack never reached JetStream: {info}")
        time.sleep(0.1)
    w1.close()
    w2.close()
    w3 = WS(token=tu, port=port)
    w3.ready()
    late = [x for x in w3.collect(3.0) if x.get("type") == "notification"]
    expect(not late, f"acked, yet delivered again: {late}")
    w3.close()
    js.close()
