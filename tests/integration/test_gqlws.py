"""GraphQL over WebSocket (CONTRACT §9): Apollo Client with GraphQLWsLink and
the npm graphql-ws client (tests/integration/js/gqlws/apollo_ws.cjs) against
agora-wsd's `channelEvents` subscription, through Apache's /graphql and direct
on ws_port; then the graphql-transport-ws protocol's edges with a raw socket.

Synchronisation: graphql-ws has no answer to `subscribe`, so a test waits for
agora-wsd's gauge `agora_wsd_gql_subscriptions` (/metrics) to count the new
subscription before it posts: from then on the subscription gets every event.
Absence ("nothing more arrives") is checked after a positive event that came
later on another subscription of the same channel, plus a short wait."""
import http.client
import json
import os
import queue
import subprocess
import threading
import time

import agora_test as at
from agora_test import ROOT, api, eventually, expect, register
from gql import channel, data, error_codes, gql, post
from wsclient import WS, Closed
from test_rest_auth import _key, _sign
from test_wsd_basic import join

JS_DIR = os.path.join(ROOT, "tests", "integration", "js", "gqlws")
SCRIPT = os.path.join(JS_DIR, "apollo_ws.cjs")
PROTOCOL = "graphql-transport-ws"
GAUGE = "agora_wsd_gql_subscriptions"


def apache_url():
    return f"ws://127.0.0.1:{at.HTTP_PORT}/graphql"


def direct_url():
    return f"ws://127.0.0.1:{at.WS_PORT}/graphql"


# what a chat client's list view asks for: the event and the post it is about
EVENTS = """subscription Events($c: ID!, $s: Int) {
  channelEvents(channelId: $c, seq: $s) {
    type seq channelId messageId
    post { id channelId body author { id username } }
  }
}"""

# a second selection on the same stream: ids only
IDS = "subscription Ids($c: ID!) { channelEvents(channelId: $c) { type seq messageId } }"

# per viewer: reactedByMe differs between two subscribers of one event
REACTIONS = """subscription Reactions($c: ID!) {
  channelEvents(channelId: $c) {
    type seq targetId emoji op userId
    post { id reactions { emoji count reactedByMe } }
  }
}"""

REACT = "mutation($t: ID!, $e: String!) { addReaction(targetId: $t, emoji: $e) { emoji count } }"


# ---- agora-wsd's gauge of live GraphQL subscriptions -------------------------
def gauge():
    """agora_wsd_gql_subscriptions summed over its series (one per ws worker), or
    None when /metrics does not have it."""
    c = http.client.HTTPConnection("127.0.0.1", at.WS_PORT, timeout=5)
    try:
        c.request("GET", "/metrics")
        body = c.getresponse().read().decode()
    finally:
        c.close()
    total = None
    for line in body.splitlines():
        if line.startswith(GAUGE + " ") or line.startswith(GAUGE + "{"):
            total = (total or 0) + int(float(line.rsplit(None, 1)[1]))
    return total


def baseline():
    n = gauge()
    expect(n is not None, f"{GAUGE} is missing from agora-wsd's /metrics")
    return n


def wait_gauge(n, what="live GraphQL subscriptions"):
    eventually(lambda: gauge() == n, timeout=10, what=f"{GAUGE} == {n} ({what})")


# ---- the Node client ----------------------------------------------------------
_installed = []


def ensure_client():
    """npm ci of the client when ./agora test has not done it (a run by hand)."""
    if _installed:
        return
    if not os.path.isfile(os.path.join(JS_DIR, "node_modules", ".package-lock.json")):
        r = subprocess.run([os.path.join(JS_DIR, "setup.sh")], capture_output=True, text=True,
                           timeout=600)
        expect(r.returncode == 0, f"tests/integration/js/gqlws/setup.sh failed:\n{r.stdout}\n{r.stderr}")
    _installed.append(True)


class Apollo:
    """One Node process: an ApolloClient on GraphQLWsLink over one graphql-ws client
    (so one socket). Every line it prints is kept in self.log, in order."""

    def __init__(self, token=None, url=None, **config):
        ensure_client()
        config = dict(config, url=url or apache_url())
        if token:
            config["token"] = token
        config.setdefault("lifeMs", 120000)
        self.proc = subprocess.Popen(["node", SCRIPT, json.dumps(config)], cwd=JS_DIR,
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True)
        self.q = queue.Queue()
        self.log = []
        self.stderr = []
        self.eof = False
        threading.Thread(target=self._read, args=(self.proc.stdout, self.q.put), daemon=True).start()
        threading.Thread(target=self._read, args=(self.proc.stderr, self.stderr.append),
                         daemon=True).start()
        at.on_cleanup(self.close)
        self.wait(lambda e: e["ev"] == "ready", 30, "the Node client's ready line")

    @staticmethod
    def _read(stream, put):
        for line in stream:
            try:
                put(json.loads(line))
            except ValueError:
                put({"ev": "unparsed", "line": line.rstrip()})
        put(None)

    def _pump(self, timeout):
        try:
            e = self.q.get(timeout=max(timeout, 0))
        except queue.Empty:
            return
        if e is None:
            self.eof = True
        else:
            self.log.append(e)

    def _stderr_tail(self):
        return "".join(str(x) for x in self.stderr[-5:])[-1500:]

    def wait(self, pred, timeout=10, what="event"):
        """The first line (from the start of the log) for which pred holds."""
        deadline = time.monotonic() + timeout
        i = 0
        while True:
            while i < len(self.log):
                if pred(self.log[i]):
                    return self.log[i]
                i += 1
            left = deadline - time.monotonic()
            if left <= 0 or (self.eof and self.q.empty()):
                raise AssertionError(f"no {what} within {timeout}s; the client printed "
                                     f"{self.log[-12:]!r}; stderr {self._stderr_tail()!r}")
            self._pump(min(left, 0.2))

    def settle(self, seconds):
        """Read whatever arrives in the next `seconds`."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline and not (self.eof and self.q.empty()):
            self._pump(deadline - time.monotonic())

    def send(self, **cmd):
        self.proc.stdin.write(json.dumps(cmd) + "\n")
        self.proc.stdin.flush()

    def subscribe(self, sid, query, variables=None, **kw):
        self.send(op="subscribe", id=sid, query=query, variables=variables or {}, **kw)

    def unsubscribe(self, sid):
        self.send(op="unsubscribe", id=sid)
        self.wait(lambda e: e["ev"] == "unsubscribed" and e["id"] == sid, 5, f"unsubscribe {sid}")

    def events(self, ev, sid=None):
        return [e for e in self.log if e["ev"] == ev and (sid is None or e.get("id") == sid)]

    def data(self, sid):
        """The channelEvents payloads of subscription sid, in arrival order."""
        return [e["data"]["channelEvents"] for e in self.events("data", sid)]

    def event_for(self, sid, message_id, timeout=10, typ="channel_message"):
        e = self.wait(lambda e: e["ev"] == "data" and e.get("id") == sid and
                      (e.get("data") or {}).get("channelEvents", {}).get("messageId") == message_id
                      and e["data"]["channelEvents"].get("type") == typ,
                      timeout, f"{typ} {message_id} on subscription {sid}")
        return e["data"]["channelEvents"]

    def error_of(self, sid, timeout=10, after_data=False):
        """The error that ended subscription (or operation) sid; unless after_data,
        with no data (or result) before it."""
        kinds = ("error",) if after_data else ("error", "data", "result")
        e = self.wait(lambda e: e["ev"] in kinds and e.get("id") == sid, timeout, f"an error on {sid}")
        expect(e["ev"] == "error", f"{sid} got {e!r} where an error was due")
        return e

    def close(self):
        if self.proc.poll() is None:
            try:
                self.send(op="exit")
                self.proc.stdin.close()
            except OSError:
                pass
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        for f in (self.proc.stdin, self.proc.stdout, self.proc.stderr):
            try:
                f.close()
            except OSError:
                pass


def codes(err):
    return [(g.get("extensions") or {}).get("code") for g in err.get("graphQLErrors") or []]


def traced_next(client, message_id):
    """The `next` messages the server sent this client about message_id (any id)."""
    return [e["message"] for e in client.events("trace")
            if e["message"].get("type") == "next" and
            ((e["message"].get("payload") or {}).get("data") or {})
            .get("channelEvents", {}).get("messageId") == message_id]


def two_members(visibility="public"):
    """An owner and a member of a new channel: (owner, owner token, member, member token, cid)."""
    a, ta = register()
    b, tb = register()
    cid = channel(ta, visibility)
    join(ta, cid, b["id"])
    return a, ta, b, tb, cid


# ---- Apache routing (passes with or without GraphQL subscriptions served) ------
def test_gqlws_apache_sends_graphql_upgrades_to_wsd_and_queries_to_fastcgi():
    u, tok = register()
    # a WebSocket upgrade on /graphql: a 101 from agora-wsd (FastCGI never
    # switches protocols), whichever of the two subprotocols it chose
    ws = WS(token=tok, port=at.HTTP_PORT, path="/graphql", protocols=f"{PROTOCOL}, agora")
    chosen = ws.header("Sec-WebSocket-Protocol")
    ws.close()
    expect(chosen in (PROTOCOL, "agora"), f"subprotocol of the 101: {chosen!r}\n{ws.head}")
    # the same path without the upgrade: GraphQL over HTTP, POST and GET, as before
    r = gql("{ me { username } }", token=tok)
    expect(data(r)["me"]["username"] == u["username"], r)
    r = at.request("GET", "/graphql?query=%7B__typename%7D", headers={"Accept": "application/json"})
    expect(r.status == 200 and r.json["data"] == {"__typename": "Query"}, r)
    # a POST that carries an Upgrade header is not a WebSocket: FastCGI answers it
    r = at.request("POST", "/graphql", raw=json.dumps({"query": "{ me { id } }"}).encode(),
                   headers={"Content-Type": "application/json", "Upgrade": "websocket",
                            "Authorization": "Bearer " + tok})
    expect(r.status == 200 and r.json["data"]["me"]["id"] == u["id"], r)
    r = at.request("GET", "/graphql/schema.graphql")
    expect(r.status == 200 and b"type Query" in r.body, r)


# ---- Apollo Client with GraphQLWsLink ------------------------------------------
def test_gqlws_apollo_receives_a_post_through_apache():
    a, ta, b, tb, cid = two_members()
    base = baseline()
    sub = Apollo(tb)
    sub.subscribe("a", EVENTS, {"c": cid})
    sub.wait(lambda e: e["ev"] == "connected", 10, "connection_ack")
    wait_gauge(base + 1, "the new subscription")
    p = post(ta, cid, "hello over graphql-transport-ws")
    ev = sub.event_for("a", p["id"])
    expect(ev["__typename"] == "ChannelEvent" and ev["channelId"] == cid, ev)
    expect(isinstance(ev["seq"], int) and ev["seq"] > 0, f"seq: {ev!r}")
    expect(ev["post"]["id"] == p["id"] and ev["post"]["channelId"] == cid, ev)
    expect(ev["post"]["body"] == "hello over graphql-transport-ws", ev)
    expect(ev["post"]["author"] == {"__typename": "User", "id": a["id"], "username": a["username"]}, ev)
    expect(sub.events("error") == [] and sub.events("closed") == [], sub.log)
    sub.close()
    wait_gauge(base, "a closed socket ends its subscriptions")


def test_gqlws_apollo_unsubscribe_stops_the_events_of_that_subscription_only():
    a, ta, b, tb, cid = two_members()
    base = baseline()
    sub = Apollo(tb, trace=True)
    sub.subscribe("a", EVENTS, {"c": cid})
    sub.subscribe("b", IDS, {"c": cid})
    wait_gauge(base + 2, "two subscriptions on one socket")
    p1 = post(ta, cid, "both")
    sub.event_for("a", p1["id"])
    sub.event_for("b", p1["id"])
    sub.unsubscribe("a")  # graphql-ws sends `complete` for a's id; the socket stays
    wait_gauge(base + 1, "after Apollo unsubscribed one of two")
    p2 = post(ta, cid, "only b")
    sub.event_for("b", p2["id"])
    sub.settle(0.7)
    expect(not [e for e in sub.data("a") if e["messageId"] == p2["id"]], sub.data("a"))
    # not only Apollo dropping it: the server sent p2 once, for b
    sent = traced_next(sub, p2["id"])
    expect(len(sent) == 1, f"the server sent {len(sent)} next messages for p2: {sent!r}")
    expect(len(sub.events("connected")) == 1 and sub.events("closed") == [],
           f"one socket throughout: {sub.log!r}")
    sub.unsubscribe("b")
    wait_gauge(base, "after the last unsubscribe")
    sub.close()


def test_gqlws_max_events_then_unsubscribe():
    # the client's own "after N events" unsubscribes like a user's
    a, ta, b, tb, cid = two_members()
    base = baseline()
    sub = Apollo(tb)
    sub.subscribe("a", IDS, {"c": cid}, max=1)
    wait_gauge(base + 1)
    p1 = post(ta, cid, "one")
    sub.event_for("a", p1["id"])
    sub.wait(lambda e: e["ev"] == "unsubscribed" and e["id"] == "a", 5, "unsubscribe after 1")
    wait_gauge(base, "after the unsubscribe")
    sub.close()


def test_gqlws_leaving_the_channel_ends_the_subscription_forbidden():
    a, ta, b, tb, cid = two_members("private")
    base = baseline()
    leaver = Apollo(tb, trace=True)
    owner = Apollo(ta)
    leaver.subscribe("a", EVENTS, {"c": cid})
    owner.subscribe("w", IDS, {"c": cid})
    wait_gauge(base + 2)
    p1 = post(ta, cid, "before leaving")
    leaver.event_for("a", p1["id"])
    r = api("DELETE", f"/channels/{cid}/members/{b['id']}", token=tb)
    expect(r.status == 204, f"leave: {r!r}")
    err = leaver.error_of("a", after_data=True)
    expect(codes(err) == ["forbidden"], f"the subscription ends with forbidden: {err!r}")
    wait_gauge(base + 1, "the leaver's subscription is gone")
    p2 = post(ta, cid, "after leaving")
    owner.event_for("w", p2["id"])
    leaver.settle(0.7)
    expect(traced_next(leaver, p2["id"]) == [], f"the leaver was sent p2: {leaver.log[-5:]!r}")
    expect(not [e for e in leaver.data("a") if e["messageId"] == p2["id"]], leaver.data("a"))
    owner.close()
    leaver.close()
    wait_gauge(base)


def test_gqlws_bad_expired_or_missing_token_is_closed_4403_and_never_data():
    a, ta, b, tb, cid = two_members()
    now = int(time.time())
    claims = {"sub": b["id"], "iat": now - 100, "exp": now - 1, "iss": "agora"}
    cases = {
        "garbage": {"token": "abc.def.ghi"},
        "other key": {"token": _sign({"alg": "HS256", "typ": "JWT"}, dict(claims, exp=now + 600), b"k" * 40)},
        "expired": {"token": _sign({"alg": "HS256", "typ": "JWT"}, claims, _key())},
        "missing": {},
        "not a Bearer": {"connectionParams": {"authorization": "Basic Zm9vOmJhcg=="}},
    }
    clients = {}
    for what, cfg in cases.items():
        c = Apollo(trace=True, **cfg)
        c.subscribe("a", EVENTS, {"c": cid})
        clients[what] = c
    p = post(ta, cid, "nobody unauthenticated sees this")
    for what, c in clients.items():
        err = c.error_of("a")
        closed = c.wait(lambda e: e["ev"] == "closed", 10, f"{what}: the close")
        expect(closed["code"] == 4403, f"{what}: close {closed!r}, want 4403")
        expect("4403" in err["message"], f"{what}: Apollo's error {err!r}")
        expect(c.events("connected") == [], f"{what}: connection_ack for a bad token: {c.log!r}")
        c.settle(0.2)
        expect(c.events("data") == [] and traced_next(c, p["id"]) == [],
               f"{what}: data with a bad token: {c.log!r}")
        c.close()


def test_gqlws_access_token_in_the_url_authenticates():
    a, ta, b, tb, cid = two_members()
    base = baseline()
    ok = Apollo(url=apache_url() + "?access_token=" + tb)
    ok.subscribe("a", IDS, {"c": cid})
    ok.wait(lambda e: e["ev"] == "connected", 10, "connection_ack")
    wait_gauge(base + 1)
    p = post(ta, cid, "token in the url")
    ok.event_for("a", p["id"])
    ok.close()
    # a bad token in the URL: refused (at the upgrade or with 4403), never data
    bad = Apollo(url=apache_url() + "?access_token=abc.def.ghi")
    bad.subscribe("a", IDS, {"c": cid})
    bad.error_of("a")
    expect(bad.events("connected") == [], f"connection_ack for a bad URL token: {bad.log!r}")
    bad.close()
    wait_gauge(base)


def test_gqlws_non_member_of_a_private_channel_is_forbidden_at_subscribe():
    a, ta, b, tb, cid = two_members("private")
    outsider, to = register()
    base = baseline()
    c = Apollo(to)
    c.subscribe("private", EVENTS, {"c": cid})
    c.subscribe("nowhere", EVENTS, {"c": "999999999"})
    for sid in ("private", "nowhere"):
        err = c.error_of(sid)
        expect(codes(err) == ["forbidden"], f"{sid}: {err!r}")
        expect(all(isinstance(g.get("message"), str) and g["message"] for g in err["graphQLErrors"]), err)
    p = post(ta, cid, "members only")
    c.settle(0.5)
    expect(c.events("data") == [], f"an outsider got events: {c.data('private')!r} ({p['id']})")
    expect(gauge() == base, f"a refused subscription is not counted: {gauge()} != {base}")
    c.close()


def test_gqlws_replay_from_seq_then_live_each_once_in_order():
    a, ta, b, tb, cid = two_members()
    base = baseline()
    first = Apollo(tb)
    first.subscribe("a", EVENTS, {"c": cid})
    wait_gauge(base + 1)
    p1 = post(ta, cid, "one")
    s1 = first.event_for("a", p1["id"])["seq"]
    first.close()
    wait_gauge(base)
    p2 = post(ta, cid, "two")
    p3 = post(ta, cid, "three")
    again = Apollo(tb)
    again.subscribe("a", EVENTS, {"c": cid, "s": s1})
    again.event_for("a", p3["id"])  # the replay has reached the end
    wait_gauge(base + 1)
    p4 = post(ta, cid, "four")
    again.event_for("a", p4["id"])
    again.settle(0.7)
    got = again.data("a")
    expect([e["messageId"] for e in got] == [p2["id"], p3["id"], p4["id"]],
           f"want p2, p3 (replayed), p4 (live), each once: {[(e['messageId'], e['seq']) for e in got]}"
           f" (p1 {p1['id']} seq {s1}, p2 {p2['id']}, p3 {p3['id']}, p4 {p4['id']})")
    seqs = [e["seq"] for e in got]
    expect(s1 < seqs[0] < seqs[1] < seqs[2], f"seqs after {s1} in order: {seqs}")
    expect([e["post"]["body"] for e in got] == ["two", "three", "four"], got)
    expect(all(e["type"] == "channel_message" for e in got), got)
    again.close()
    wait_gauge(base)


def test_gqlws_invalid_and_too_deep_documents_are_errors_and_the_socket_stays():
    a, ta, b, tb, cid = two_members()
    base = baseline()
    c = Apollo(tb, lazy=False)  # one socket for the whole test, errors or not
    c.wait(lambda e: e["ev"] == "connected", 10, "connection_ack")
    c.subscribe("unknown", "subscription($c: ID!) { channelEvents(channelId: $c) { type nope } }",
                {"c": cid})
    err = c.error_of("unknown")
    expect(codes(err) == ["validation_failed"], f"unknown field: {err!r}")
    expect("nope" in err["graphQLErrors"][0]["message"], err)
    # deeper than graphql_max_depth (12), as over HTTP (test_graphql_api)
    deep = ("subscription($c: ID!) { channelEvents(channelId: $c) { post { " +
            "comments { edges { node { post { " * 4 + "id" + " } } } }" * 4 + " } } }")
    c.subscribe("deep", deep, {"c": cid})
    err = c.error_of("deep")
    expect(codes(err) == ["query_too_deep"] and "depth" in err["graphQLErrors"][0]["message"].lower(),
           f"too deep: {err!r}")
    # over the cost limit (graphql_max_cost 20000): a selection HTTP refuses too
    heavy = "comments(first: 100) { edges { node { replies(first: 100) { edges { node { id } } } } } }"
    r = gql("query($p: ID!) { post(id: $p) { " + heavy + " } }", {"p": "6566b1f0c2a4e81d3c9f0a12"}, tb)
    expect(error_codes(r) == ["query_too_costly"], f"over HTTP (the premise): {r!r}")
    c.subscribe("heavy", "subscription($c: ID!) { channelEvents(channelId: $c) { post { " + heavy + " } } }",
                {"c": cid})
    err = c.error_of("heavy")
    expect(codes(err) == ["query_too_costly"], f"too costly: {err!r}")
    expect(gauge() == base, f"refused documents are not counted: {gauge()} != {base}")
    # the same socket still serves a good subscription
    c.subscribe("good", IDS, {"c": cid})
    wait_gauge(base + 1)
    p = post(ta, cid, "after three refusals")
    c.event_for("good", p["id"])
    expect(len(c.events("connected")) == 1 and c.events("closed") == [],
           f"errors must not close the socket: {c.log!r}")
    c.close()
    wait_gauge(base)


def test_gqlws_query_or_mutation_over_the_socket_is_bad_request():
    a, ta, b, tb, cid = two_members()
    c = Apollo(tb, lazy=False)
    c.wait(lambda e: e["ev"] == "connected", 10, "connection_ack")
    c.send(op="query", id="q", query="query { me { id username } }")
    err = c.error_of("q")
    expect(codes(err) == ["bad_request"], f"a query over the socket: {err!r}")
    c.send(op="mutate", id="m", query="mutation($c: ID!) { createPost(channelId: $c, body: \"via ws\") { id } }",
           variables={"c": cid})
    err = c.error_of("m")
    expect(codes(err) == ["bad_request"], f"a mutation over the socket: {err!r}")
    posts = data(gql("query($c: ID!) { channelPosts(channelId: $c) { edges { node { body } } } }",
                     {"c": cid}, ta))["channelPosts"]["edges"]
    expect(posts == [], f"the mutation over the socket ran: {posts!r}")
    expect(c.events("closed") == [], f"the socket stays: {c.log!r}")
    c.close()


def test_gqlws_same_selection_same_payload_and_reactedByMe_per_viewer():
    a, ta, b, tb, cid = two_members()
    base = baseline()
    ca, cb = Apollo(ta), Apollo(tb)
    for c in (ca, cb):
        c.subscribe("e", EVENTS, {"c": cid})
        c.subscribe("r", REACTIONS, {"c": cid})
    wait_gauge(base + 4)
    p = post(ta, cid, "react to me")
    ea, eb = ca.event_for("e", p["id"]), cb.event_for("e", p["id"])
    expect(ea == eb, f"one selection, two viewers, one payload:\n{ea!r}\n{eb!r}")
    d = data(gql(REACT, {"t": p["id"], "e": "👍"}, tb))
    expect(d["addReaction"] == [{"emoji": "👍", "count": 1}], d)

    def reaction(c):
        e = c.wait(lambda e: e["ev"] == "data" and e["id"] == "r" and
                   e["data"]["channelEvents"]["type"] == "reaction" and
                   e["data"]["channelEvents"]["targetId"] == p["id"], 10, "the reaction event")
        return e["data"]["channelEvents"]

    ra, rb = reaction(ca), reaction(cb)
    for r in (ra, rb):
        expect(r["emoji"] == "👍" and r["op"] == "added" and r["userId"] == b["id"], r)
        expect(r["post"]["id"] == p["id"], r)
    expect(rb["post"]["reactions"] == [{"__typename": "ReactionGroup", "emoji": "👍", "count": 1,
                                        "reactedByMe": True}], f"the reactor's view: {rb!r}")
    expect(ra["post"]["reactions"] == [{"__typename": "ReactionGroup", "emoji": "👍", "count": 1,
                                        "reactedByMe": False}], f"the other member's view: {ra!r}")
    ca.close()
    cb.close()
    wait_gauge(base)


def test_gqlws_direct_to_wsd_receives_a_post():
    a, ta, b, tb, cid = two_members("private")
    base = baseline()
    sub = Apollo(tb, url=direct_url())
    sub.subscribe("a", EVENTS, {"c": cid})
    sub.wait(lambda e: e["ev"] == "connected", 10, "connection_ack")
    wait_gauge(base + 1)
    p = post(ta, cid, "straight to agora-wsd")
    ev = sub.event_for("a", p["id"])
    expect(ev["post"]["body"] == "straight to agora-wsd" and ev["post"]["author"]["username"] == a["username"], ev)
    sub.close()
    wait_gauge(base)


# ---- the protocol's edges, with a raw socket -------------------------------------
def raw(token=None, port=None, init=True):
    """A graphql-transport-ws socket (direct unless port says otherwise), acknowledged
    when init and a token are given."""
    ws = WS(port=port or at.WS_PORT, path="/graphql", protocols=PROTOCOL)
    at.on_cleanup(ws.close)
    expect(ws.header("Sec-WebSocket-Protocol") == PROTOCOL, f"subprotocol: {ws.head}")
    if init and token:
        ws.send({"type": "connection_init", "payload": {"authorization": "Bearer " + token}})
        ack = ws.wait(lambda m: m.get("type") != "ping", 5, "connection_ack")
        expect(ack["type"] == "connection_ack", f"want connection_ack, got {ack!r}")
    return ws


def close_code(ws, timeout=5):
    """The code the server closes ws with (messages before it are kept in ws.frames)."""
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            ws.recv(deadline - time.monotonic())
    except Closed as e:
        return e.code
    return None


def sub_msg(sid, cid, query=IDS):
    return {"id": sid, "type": "subscribe", "payload": {"query": query, "variables": {"c": cid}}}


def test_gqlws_protocol_ping_pong_next_and_error_messages():
    a, ta, b, tb, cid = two_members()
    outsider, to = register()
    private = channel(ta, "private")
    base = baseline()
    ws = raw(tb, port=at.HTTP_PORT)  # through Apache
    ws.send({"type": "ping"})
    pong = ws.wait(lambda m: m.get("type") == "pong", 5, "pong")
    expect(set(pong) <= {"type", "payload"}, pong)
    ws.send({"type": "ping", "payload": {"t": 1}})
    ws.wait(lambda m: m.get("type") == "pong", 5, "pong to a ping with a payload")
    ws.send(sub_msg("s1", cid))
    wait_gauge(base + 1)
    p = post(ta, cid, "raw")
    m = ws.wait(lambda m: m.get("type") == "next" and m.get("id") == "s1", 10, "next")
    ev = (m.get("payload") or {}).get("data", {}).get("channelEvents") or {}
    expect(ev == {"type": "channel_message", "seq": ev.get("seq"), "messageId": p["id"]} and
           isinstance(ev["seq"], int) and "errors" not in m["payload"], f"next: {m!r}")
    ws.send({"id": "s1", "type": "complete"})
    wait_gauge(base, "after the client's complete")
    # an error message for a refused subscription: a list of GraphQL errors
    wo = raw(to)
    wo.send(sub_msg("x", private))
    e = wo.wait(lambda m: m.get("id") == "x", 10, "the error for x")
    expect(e["type"] == "error" and isinstance(e["payload"], list) and
           e["payload"][0]["extensions"]["code"] == "forbidden" and e["payload"][0]["message"], e)
    # the id is free again: the same id may subscribe anew on the same socket
    wo.send(sub_msg("x", channel(to)))
    wait_gauge(base + 1, "the same id, after its error, on the outsider's own channel")
    wo.close()
    ws.close()
    wait_gauge(base)


def test_gqlws_protocol_subscribe_before_connection_init_closes_4401():
    a, ta, b, tb, cid = two_members()
    ws = raw(tb, init=False)
    ws.send(sub_msg("1", cid))
    expect(close_code(ws) == 4401, f"want 4401, got {ws.closed!r} after {ws.frames!r}")


def test_gqlws_protocol_second_connection_init_closes_4429():
    _, tb = register()
    ws = raw(tb)
    ws.send({"type": "connection_init", "payload": {"authorization": "Bearer " + tb}})
    expect(close_code(ws) == 4429, f"want 4429, got {ws.closed!r} after {ws.frames!r}")


def test_gqlws_protocol_duplicate_subscription_id_closes_4409():
    a, ta, b, tb, cid = two_members()
    base = baseline()
    ws = raw(tb)
    ws.send(sub_msg("same", cid))
    ws.send(sub_msg("same", cid, EVENTS))
    expect(close_code(ws) == 4409, f"want 4409, got {ws.closed!r} after {ws.frames!r}")
    wait_gauge(base, "the closed socket's subscription")


def test_gqlws_protocol_malformed_messages_close_4400():
    _, tb = register()
    cases = {
        "not JSON": b"{nope",
        "not an object": b"[1,2]",
        "unknown type": json.dumps({"type": "hello"}).encode(),
        "subscribe without id": json.dumps({"type": "subscribe", "payload": {"query": IDS}}).encode(),
        "subscribe without payload": json.dumps({"type": "subscribe", "id": "1"}).encode(),
        "query not a string": json.dumps({"type": "subscribe", "id": "1", "payload": {"query": 5}}).encode(),
    }
    for what, msg in cases.items():
        ws = raw(tb)
        ws.send_raw(msg)
        code = close_code(ws)
        expect(code == 4400, f"{what}: want 4400, got {ws.closed!r} after {ws.frames!r}")
    # before connection_init too
    ws = raw(tb, init=False)
    ws.send_raw(b"{nope")
    expect(close_code(ws) == 4400, f"malformed first message: {ws.closed!r}")
