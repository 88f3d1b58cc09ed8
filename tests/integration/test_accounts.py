"""Deleted accounts (issue 15 items 6 and 10): what the rest of the system
reads after DELETE /users/{id}. Content the account wrote stays readable,
its author a placeholder user; its token dies on every REST and GraphQL
route at once, even when requests race the deletion to re-cache the user.
The MongoDB content backend gets the same reads in test_graphql_mongo."""
import os
import subprocess
import threading
import time

from agora_test import BUILD, api, expect, expect_error, redis_cli, register
from gql import channel, data, gql, gql_get

# the placeholder of a deleted author (README "Deleted accounts", the SDL's User)
DELETED = {"id": "0", "username": "deleted", "displayName": "Deleted user"}
WORKER = os.path.join(BUILD, "workers", "agora-worker")
USER = "{ id username displayName }"


def _written_by_a_deleted_author(gqlf=gql):
    """A public channel where a (then deleted) author posted, commented, replied and
    DMed, beside the same from a live user; returns what the readers need."""
    owner, otok = register(display="Owner")
    gone, gtok = register(display="Soon Gone")
    reader, rtok = register()
    cid = channel(otok)
    api("PUT", f"/channels/{cid}/members/{gone['id']}", {}, token=gtok)
    live_post = data(gqlf("mutation($c: ID!) { createPost(channelId: $c, body: \"live words\") { id } }",
                          {"c": cid}, otok))["createPost"]
    gone_post = data(gqlf("mutation($c: ID!) { createPost(channelId: $c, body: \"ghostly words\") { id } }",
                          {"c": cid}, gtok))["createPost"]
    cm = data(gqlf("mutation($p: ID!) { createComment(postId: $p, body: \"ghost comment\") { id } }",
                   {"p": live_post["id"]}, gtok))["createComment"]
    rp = data(gqlf("mutation($c: ID!) { createReply(commentId: $c, body: \"ghost reply\") { id } }",
                   {"c": cm["id"]}, gtok))["createReply"]
    dm = data(gqlf("mutation($t: ID!) { sendDirectMessage(toUserId: $t, body: \"boo\") { id } }",
                   {"t": reader["id"]}, gtok))["sendDirectMessage"]
    expect(api("DELETE", f"/users/{gone['id']}", token=gtok).status == 204, "account deleted")
    return dict(owner=owner, otok=otok, gone=gone, reader=reader, rtok=rtok, cid=cid,
                live_post=live_post, gone_post=gone_post, comment=cm, reply=rp, dm=dm)


def check_deleted_author_reads(gqlf=gql, w=None):
    """Every read that names the deleted author: data, no error, the placeholder."""
    w = w or _written_by_a_deleted_author(gqlf)
    owner_brief = {"id": w["owner"]["id"], "username": w["owner"]["username"], "displayName": "Owner"}
    reads = {
        "channelPosts": ("query($c: ID!) { channelPosts(channelId: $c, first: 10) { edges { node { id author " +
                         USER + " comments(first: 5) { edges { node { author " + USER +
                         " replies(first: 5) { edges { node { author " +
                         USER + " } } } } } } } } } }", {"c": w["cid"]}),
        "post": ("query($p: ID!) { post(id: $p) { author " + USER + " } }", {"p": w["gone_post"]["id"]}),
        "comment": ("query($c: ID!) { comment(id: $c) { author " + USER + " post { author " + USER + " } } }",
                    {"c": w["comment"]["id"]}),
        "reply": ("query($r: ID!) { reply(id: $r) { author " + USER + " comment { author " + USER + " } } }",
                  {"r": w["reply"]["id"]}),
        "directMessages": ("query($u: ID!) { directMessages(withUserId: $u) { edges { node { from " + USER +
                           " to " + USER + " } } } }", {"u": w["gone"]["id"]}),
        "directMessage": ("query($d: ID!) { directMessage(id: $d) { from " + USER + " } }", {"d": w["dm"]["id"]}),
    }
    got = {}
    for name, (q, v) in reads.items():
        r = gqlf(q, v, w["rtok"])
        expect(r.status == 200 and not r.json.get("errors") and r.json.get("data"),
               f"{name}: data and no error for a deleted author: {r!r}")
        got[name] = r.json["data"]
    edges = got["channelPosts"]["channelPosts"]["edges"]
    by_id = {e["node"]["id"]: e["node"] for e in edges}
    expect(by_id[w["gone_post"]["id"]]["author"] == DELETED, by_id)
    live = by_id[w["live_post"]["id"]]
    expect(live["author"] == owner_brief, f"a live author beside it is itself: {live}")
    c0 = live["comments"]["edges"][0]["node"]
    expect(c0["author"] == DELETED and c0["replies"]["edges"][0]["node"]["author"] == DELETED, c0)
    expect(got["post"]["post"]["author"] == DELETED, got["post"])
    expect(got["comment"]["comment"]["author"] == DELETED and
           got["comment"]["comment"]["post"]["author"] == owner_brief, got["comment"])
    expect(got["reply"]["reply"]["author"] == DELETED and
           got["reply"]["reply"]["comment"]["author"] == DELETED, got["reply"])
    dms = got["directMessages"]["directMessages"]["edges"]
    expect(len(dms) == 1 and dms[0]["node"]["from"] == DELETED and
           dms[0]["node"]["to"]["id"] == w["reader"]["id"], dms)
    expect(got["directMessage"]["directMessage"]["from"] == DELETED, got["directMessage"])
    # the placeholder is no account: user(id: "0") and the old id are null
    d = data(gqlf('query($u: ID!) { a: user(id: "0") { id } b: user(id: $u) { id } }',
                  {"u": w["gone"]["id"]}, w["rtok"]))
    expect(d == {"a": None, "b": None}, d)
    return w


def test_deleted_author_reads_as_placeholder_everywhere_postgres():
    w = check_deleted_author_reads()
    # search: the index job indexes the post, the hit names the placeholder
    p = subprocess.run([WORKER, "index", "--max-seconds", "30"], capture_output=True, text=True,
                       timeout=120)
    expect(p.returncode == 0, p.stderr[-2000:])
    r = gql("query { search(query: \"ghostly\") { edges { node { id author " + USER + " } } } }",
            token=w["rtok"])
    expect(r.status == 200 and not r.json.get("errors"), r)
    hits = [e["node"] for e in r.json["data"]["search"]["edges"] if e["node"]["id"] == w["gone_post"]["id"]]
    expect(len(hits) == 1 and hits[0]["author"] == DELETED, r.json)


# ---- tokens die with their user ---------------------------------------------
def _every_route(u, cid, tok):
    """Every signed REST route and both GraphQL verbs, called with tok."""
    uid = u["id"]
    rest = [("GET", "/users/me", None), ("GET", "/users", None), ("GET", f"/users/{uid}", None),
            ("PATCH", f"/users/{uid}", {"bio": "x"}), ("DELETE", f"/users/{uid}", None),
            ("PUT", f"/users/{uid}/follow", None), ("DELETE", f"/users/{uid}/follow", None),
            ("POST", "/channels", {"name": "x", "visibility": "public"}), ("GET", "/channels", None),
            ("GET", f"/channels/{cid}", None), ("PATCH", f"/channels/{cid}", {"topic": "x"}),
            ("DELETE", f"/channels/{cid}", None), ("POST", f"/channels/{cid}/owner", {"userId": uid}),
            ("GET", f"/channels/{cid}/members", None), ("PUT", f"/channels/{cid}/members/{uid}", {}),
            ("DELETE", f"/channels/{cid}/members/{uid}", None), ("GET", f"/channels/{cid}/stats", None),
            ("GET", "/notifications", None), ("POST", "/notifications/read", {"upTo": "1"})]
    out = {f"{m} {p}": api(m, p, b, token=tok) for m, p, b in rest}
    out["POST /graphql"] = gql("{ me { id } }", token=tok)
    out["GET /graphql"] = gql_get("{ me { id } }", token=tok)
    return out


def test_deleted_users_token_is_401_on_every_rest_route_and_graphql():
    u, tok = register()
    other, otok = register()
    cid = channel(otok)
    # the caches warm: the auth record, the profile JSON, the GraphQL user
    expect(api("GET", "/users/me", token=tok).status == 200, "me")
    expect(api("GET", f"/users/{u['id']}", token=otok).status == 200, "profile")
    expect(data(gql("{ me { id } }", token=tok))["me"]["id"] == u["id"], "graphql me")
    expect(api("DELETE", f"/users/{u['id']}", token=tok).status == 204, "deleted")
    wrong = {k: r.status for k, r in _every_route(u, cid, tok).items() if r.status != 401}
    expect(not wrong, f"not 401 with a deleted user's token: {wrong}")
    expect_error(api("GET", f"/users/{u['id']}", token=otok), 404, "not_found")


class _Loop(threading.Thread):
    """Call fn until stopped; count the calls."""

    def __init__(self, fn):
        super().__init__(daemon=True)
        self.fn, self.stop, self.n, self.error = fn, threading.Event(), 0, None

    def run(self):
        while not self.stop.is_set():
            try:
                self.fn()
                self.n += 1
            except Exception as e:  # noqa: BLE001 — a broken reader is reported, not hidden
                self.error = e
                return


def _race_once(trial):
    """Readers that keep (re)filling the user cache, the user's own PATCHes that keep
    dropping it (each PATCH forgets the cached records), then the deletion in the
    middle. True when the user is still cached or authenticated afterwards."""
    u, tok = register(display=f"racer {trial}")
    _, vtok = register()
    uid = u["id"]
    loops = [_Loop(lambda: api("GET", "/users/me", token=tok)),
             _Loop(lambda: api("GET", f"/users/{uid}", token=vtok)),
             _Loop(lambda: api("GET", f"/users/{uid}", token=vtok)),
             _Loop(lambda: gql("{ me { id } }", token=tok)),
             _Loop(lambda: api("PATCH", f"/users/{uid}", {"bio": str(time.monotonic())}, token=tok)),
             _Loop(lambda: api("PATCH", f"/users/{uid}", {"bio": "b"}, token=tok))]
    for t in loops:
        t.start()
    time.sleep(0.15)
    r = api("DELETE", f"/users/{uid}", token=tok)
    time.sleep(0.15)  # requests that read the user before the commit finish their fills
    for t in loops:
        t.stop.set()
    for t in loops:
        t.join(10)
    expect(r.status == 204, f"delete: {r!r}")
    for t in loops:
        expect(t.error is None, f"a reader failed: {t.error!r}")
    cached = [k for k in (f"user:{uid}", f"user:{uid}:json") if redis_cli("EXISTS", k) == "1"]
    me = api("GET", "/users/me", token=tok).status
    profile = api("GET", f"/users/{uid}", token=vtok).status
    gql_me = gql("{ me { id } }", token=tok).status
    stale = cached or me != 401 or profile != 404 or gql_me != 401
    return stale, dict(cached=cached, me=me, profile=profile, graphql=gql_me,
                       calls=sum(t.n for t in loops))


def test_deleted_user_is_never_recached_by_requests_racing_the_delete():
    # before the tombstone, a request that read the user from PostgreSQL just
    # before the deletion committed wrote it back to Redis after the deletion
    # dropped it: the token then worked for the cache TTL (an hour)
    calls = 0
    for trial in range(30):
        stale, what = _race_once(trial)
        calls += what["calls"]
        expect(not stale, f"trial {trial}: the deleted user survived in the cache: {what}")
    print(f"    30 deletions raced by {calls} requests: none re-cached")
