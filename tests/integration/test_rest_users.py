"""REST users: profiles, search with pagination, updates, follows and notifications."""
from agora_test import (Nats, api, eventually, expect, expect_error, redis_cli, register, unique)


def test_get_user_and_404():
    u, tok = register()
    r = api("GET", f"/users/{u['id']}", token=tok)
    expect(r.status == 200 and r.json["username"] == u["username"], r)
    expect_error(api("GET", "/users/999999999", token=tok), 404, "not_found")
    expect_error(api("GET", "/users/abc", token=tok), 404, "not_found")


def test_patch_self_updates_publishes_and_invalidates_cache():
    u, tok = register(display="Before")
    other, otok = register()
    nats = Nats(f"user.{u['id']}.updated")
    r = api("PATCH", f"/users/{u['id']}", {"displayName": "After", "bio": "hi", "avatarUrl": "https://x.example/a.png",
                                           "unknownField": 1}, token=tok)
    expect(r.status == 200, r)
    expect(r.json["displayName"] == "After" and r.json["bio"] == "hi", r.json)
    nats.wait_for(f"user.{u['id']}.updated", lambda p: p["userId"] == u["id"])
    nats.close()
    expect(redis_cli("HGET", f"user:{u['id']}", "displayName") in ("", "After"), "cache not stale")
    expect(api("GET", f"/users/{u['id']}", token=otok).json["displayName"] == "After", "others see it")
    # null clears a field, absent keeps it
    r = api("PATCH", f"/users/{u['id']}", {"bio": None}, token=tok)
    expect(r.json["bio"] is None and r.json["displayName"] == "After", r.json)


def test_patch_validation_and_forbidden():
    u, tok = register()
    other, otok = register()
    expect_error(api("PATCH", f"/users/{u['id']}", {"displayName": "x"}, token=otok), 403, "forbidden")
    expect_error(api("PATCH", f"/users/{u['id']}", {"displayName": 5}, token=tok), 400, "bad_request")
    expect_error(api("PATCH", f"/users/{u['id']}", {"avatarUrl": "javascript:alert(1)"}, token=tok), 400, "bad_request")
    expect_error(api("PATCH", f"/users/{u['id']}", {"displayName": "d" * 65}, token=tok), 400, "bad_request")


def test_delete_other_is_403_self_is_204():
    u, tok = register()
    other, otok = register()
    expect_error(api("DELETE", f"/users/{u['id']}", token=otok), 403, "forbidden")
    expect(api("DELETE", f"/users/{u['id']}", token=tok).status == 204, "self delete")
    expect_error(api("GET", f"/users/{u['id']}", token=otok), 404, "not_found")


def test_sql_metacharacters_are_data():
    u, tok = register()
    evil = "Robert'); DROP TABLE users;-- %_\\"
    r = api("PATCH", f"/users/{u['id']}", {"displayName": evil}, token=tok)
    expect(r.status == 200 and r.json["displayName"] == evil, r)
    expect(api("GET", "/users/me", token=tok).json["displayName"] == evil, "stored verbatim")
    # a LIKE wildcard in q matches literally, not everything
    r = api("GET", "/users?q=%25&limit=100", token=tok)
    expect(r.status == 200 and all("%" in (x["displayName"] or "") or x["username"].startswith("%")
                                   for x in r.json["items"]), r.json)


def test_search_prefix_substring_and_pagination_over_pages():
    tag = unique("s")
    made = []
    for i in range(7):
        u, tok = register(f"{tag}_{i}", display=f"Person {i}")
        made.append(u["id"])
    _, dtok = register(unique(), display=f"The {tag.upper()} fan")  # display-name substring, other case
    seen, after, pages = [], None, 0
    while True:
        q = f"/users?q={tag}&limit=3" + (f"&after={after}" if after else "")
        r = api("GET", q, token=tok)
        expect(r.status == 200, r)
        seen += [x["id"] for x in r.json["items"]]
        pages += 1
        after = r.json["next"]
        if after is None:
            break
    expect(pages == 3, f"8 matches at 3 per page is 3 pages, got {pages}")
    expect(len(seen) == len(set(seen)) == 8, f"no duplicates, none missing: {seen}")
    expect(set(made) <= set(seen), "every prefix match found")
    r = api("GET", "/users?limit=100000", token=tok)
    expect(r.status == 200 and len(r.json["items"]) <= 100, "limit clamped to 100")
    expect_error(api("GET", "/users?limit=abc", token=tok), 400, "bad_request")


def test_follow_notifies_new_follower_once():
    a, atok = register()
    b, btok = register()
    nats = Nats(f"user.{b['id']}.notify.>")
    expect(api("PUT", f"/users/{b['id']}/follow", token=atok).status == 204, "follow")
    expect(api("PUT", f"/users/{b['id']}/follow", token=atok).status == 204, "follow again is idempotent")
    _, p = nats.wait_for(f"user.{b['id']}.notify.new_follower")
    expect(p["kind"] == "new_follower" and p["userId"] == a["id"], p)
    nats.close()
    r = api("GET", "/notifications", token=btok)
    items = [n for n in r.json["items"] if n["kind"] == "new_follower"]
    expect(len(items) == 1 and items[0]["actorId"] == a["id"] and items[0]["read"] is False, r.json)
    expect(api("POST", "/notifications/read", {"upTo": items[0]["id"]}, token=btok).status == 204, "read")
    expect(api("GET", "/notifications", token=btok).json["items"][0]["read"] is True, "marked read")
    expect_error(api("PUT", f"/users/{a['id']}/follow", token=atok), 400, "bad_request")
    expect_error(api("PUT", "/users/999999999/follow", token=atok), 404, "not_found")
    expect(api("DELETE", f"/users/{b['id']}/follow", token=atok).status == 204, "unfollow")


def test_notifications_pagination_newest_first():
    b, btok = register()
    for _ in range(5):
        a, atok = register()
        api("PUT", f"/users/{b['id']}/follow", token=atok)
    ids, after = [], None
    while True:
        r = api("GET", "/notifications?limit=2" + (f"&after={after}" if after else ""), token=btok)
        ids += [int(n["id"]) for n in r.json["items"]]
        after = r.json["next"]
        if not after:
            break
    expect(ids == sorted(ids, reverse=True) and len(ids) == 5 == len(set(ids)), ids)
    expect_error(api("POST", "/notifications/read", {"upTo": "x"}, token=btok), 400, "bad_request")


def test_follow_toggled_50_times_notifies_once_per_follower_a_day():
    # issue 15 item 9: unfollow + follow again is a new follow row each time; the
    # notification is deduplicated per (follower, followee, UTC day) in PostgreSQL
    victim, vtok = register()
    a, atok = register()
    b, btok = register()
    nats = Nats(f"user.{victim['id']}.notify.new_follower")
    for _ in range(50):
        expect(api("PUT", f"/users/{victim['id']}/follow", token=atok).status == 204, "follow")
        expect(api("DELETE", f"/users/{victim['id']}/follow", token=atok).status == 204, "unfollow")
    expect(api("PUT", f"/users/{victim['id']}/follow", token=btok).status == 204, "b follows")
    nats.wait_for(f"user.{victim['id']}.notify.new_follower", lambda p: p["userId"] == b["id"])
    nats.poll(0.5)
    published = [p["userId"] for s, p in nats.msgs]
    nats.close()
    expect(sorted(published) == sorted([a["id"], b["id"]]), f"one event per follower: {published}")
    items = [n for n in api("GET", "/notifications?limit=100", token=vtok).json["items"]
             if n["kind"] == "new_follower"]
    expect(sorted(n["actorId"] for n in items) == sorted([a["id"], b["id"]]),
           f"one notification per follower, not 50: {len(items)}")
