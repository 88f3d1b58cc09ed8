"""Deleted accounts (issue 15 items 6 and 10): what the rest of the system
reads after DELETE /users/{id}. Content the account wrote stays readable,
its author a placeholder user; its token dies on every REST and GraphQL
route at once, even when requests race the deletion to re-cache the user.
The MongoDB content backend gets the same reads in test_graphql_mongo."""
import threading
import time

from agora_test import api, expect, expect_error, redis_cli, register
from gql import channel, data, gql, gql_get


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
