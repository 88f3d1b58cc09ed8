"""GraphQL subscriptions (graphql-transport-ws on agora-wsd) through the faults
the §4 sessions survive: a NATS restart under an open subscription, an
agora-wsd restart followed by a NATS restart (the client resumes with seq), a
membership removed while NATS was down. Events are published straight to
JetStream (their posts do not exist: post is null), so only the daemon is
under test."""
import agora_test as at
from agora_test import api, expect, register, svc
from test_wsd_basic import channel, join
from wsclient import JS, WS, Closed, oid

DOC = ("subscription($c: ID!, $s: Int) { channelEvents(channelId: $c, seq: $s) "
       "{ type seq channelId messageId fromSeq toSeq post { id } } }")


class GQLWS(WS):
    """A graphql-transport-ws client over wsclient.WS's framing, acked on return."""

    def __init__(self, token, port=None, timeout=5):
        super().__init__(port=port, path="/graphql", timeout=timeout,
                         protocols="graphql-transport-ws")
        self.send({"type": "connection_init", "payload": {"authorization": "Bearer " + token}})
        self.wait(lambda f: f.get("type") == "connection_ack", what="connection_ack")

    def subscribe(self, sid, cid, seq=None):
        v = {"c": cid} if seq is None else {"c": cid, "s": seq}
        self.send({"id": sid, "type": "subscribe", "payload": {"query": DOC, "variables": v}})

    def event(self, sid, timeout=8, **match):
        """The next channelEvents of subscription sid whose members match."""
        def ok(f):
            if f.get("id") != sid or f.get("type") != "next":
                return False
            e = f["payload"]["data"]["channelEvents"]
            return all(e.get(k) == v for k, v in match.items())
        return self.wait(ok, timeout=timeout, what=f"event {match}")["payload"]["data"][
            "channelEvents"]


def subscribed(ws, sid, cid):
    """Subscribed and live: an event published now arrives (the subscribe's checks ran)."""
    def once():
        mid = publish(cid)
        try:
            ws.event(sid, timeout=1.5, messageId=mid)
            return True
        except AssertionError:
            return False
    at.eventually(once, timeout=15, interval=0.2, what=f"subscription {sid} live")


def publish(cid):
    js = JS()
    try:
        mid = oid()
        js.publish(f"channel.{cid}.message.created", {"messageId": mid})
        return mid
    finally:
        js.close()


def deliver(ws, sid, cid, timeout=20):
    """Publish until the subscription sees one (NATS may still be recovering)."""
    def once():
        try:
            mid = publish(cid)
        except (OSError, AssertionError):
            return False
        try:
            ws.event(sid, timeout=1.5, messageId=mid)
            return True
        except AssertionError:
            return False
    at.eventually(once, timeout=timeout, interval=0.2, what="a subscription event after restart")


def test_gqlws_subscription_keeps_delivering_across_a_nats_restart():
    _, ta = register()
    cid = channel(ta)
    ws = GQLWS(ta)
    ws.subscribe("s", cid)
    subscribed(ws, "s", cid)
    svc("stop", "nats")
    at.on_cleanup(lambda: svc("start", "nats"))
    svc("start", "nats")
    deliver(ws, "s", cid)
    expect(ws.closed is None, f"the subscription's socket stayed open: {ws.closed}")
    ws.close()


def test_gqlws_daemon_restart_then_nats_restart_client_resumes_with_seq():
    _, ta = register()
    cid = channel(ta)
    ws = GQLWS(ta)
    ws.subscribe("s", cid)
    subscribed(ws, "s", cid)
    mid = publish(cid)
    seen = ws.event("s", messageId=mid)["seq"]
    svc("stop", "wsd")
    at.on_cleanup(lambda: svc("start", "wsd"))
    try:
        ws.wait(lambda f: False, timeout=5, what="close")
    except Closed:
        pass
    missed = [publish(cid), publish(cid)]  # while no daemon runs
    svc("start", "wsd")
    ws = GQLWS(ta)
    ws.subscribe("r", cid, seq=seen)
    got = [ws.event("r", messageId=m) for m in missed]
    expect([g["seq"] for g in got] == sorted(g["seq"] for g in got) and got[0]["seq"] > seen,
           f"the missed events, in order, after seq: {got!r}")
    expect(all(g["post"] is None for g in got), "their posts do not exist: null, no error")
    # then NATS restarts under the resumed subscription: it keeps delivering
    svc("stop", "nats")
    svc("start", "nats")
    deliver(ws, "r", cid)
    again = [f for f in ws.frames if f.get("type") == "next"
             and f["payload"]["data"]["channelEvents"]["messageId"] in missed]
    expect(len(again) == 2, f"each missed event exactly once: {again!r}")
    ws.close()


def test_gqlws_membership_removed_while_nats_was_down_ends_the_subscription():
    _, to = register()
    b, tb = register()
    cid = channel(to)
    join(tb, cid, b["id"])
    wb = GQLWS(tb)
    wb.subscribe("s", cid)
    subscribed(wb, "s", cid)
    svc("stop", "nats")
    at.on_cleanup(lambda: svc("start", "nats"))
    r = api("DELETE", f"/channels/{cid}/members/{b['id']}", token=to)
    expect(r.status == 204, f"remove: {r!r}")
    svc("start", "nats")
    # after the reconnect the daemon reads memberships again: the subscription ends
    f = wb.wait(lambda f: f.get("id") == "s" and f.get("type") == "error", timeout=20,
                what="the subscription's error")
    expect(f["payload"][0]["extensions"]["code"] == "forbidden", f"forbidden: {f!r}")
    mid = publish(cid)
    leaked = [x for x in wb.collect(1.5) if x.get("type") == "next"
              and x["payload"]["data"]["channelEvents"]["messageId"] == mid]
    expect(not leaked, f"a removed member still receives the channel: {leaked!r}")
    wb.close()


def test_gqlws_connection_without_connection_init_is_closed_4408():
    # the test stack's ws_gql_init_wait_ms is 2000 (scripts/agora/lib.sh)
    ws = WS(path="/graphql", protocols="graphql-transport-ws")
    try:
        ws.wait(lambda f: False, timeout=8, what="close")
        raise AssertionError("a connection that never said connection_init stayed open")
    except Closed as e:
        expect(e.code == 4408, f"closed 4408: {e.code} {e.reason!r}")
