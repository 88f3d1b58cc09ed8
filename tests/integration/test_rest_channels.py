"""REST channels and memberships: the authorization table cell by cell, events, Redis subs."""
from agora_test import (Nats, api, expect, expect_error, redis_cli, register, unique)


def make_channel(tok, visibility="public", name=None):
    r = api("POST", "/channels", {"name": name or unique("ch"), "topic": "t", "visibility": visibility}, token=tok)
    expect(r.status == 201, r)
    return r.json


def test_create_channel_owner_is_first_member_with_subs_and_events():
    u, tok = register()
    nats = Nats(f"user.{u['id']}.subs.changed", "channel.*.member.joined")
    ch = make_channel(tok)
    expect(ch["ownerId"] == u["id"] and ch["memberCount"] == 1 and ch["visibility"] == "public", ch)
    expect(set(["id", "name", "topic", "visibility", "ownerId", "createdAt", "memberCount"]) <= set(ch), ch)
    nats.wait_for(f"user.{u['id']}.subs.changed", lambda p: p["channelId"] == ch["id"])
    nats.wait_for(f"channel.{ch['id']}.member.joined", lambda p: p["userId"] == u["id"])
    nats.close()
    expect(ch["id"] in redis_cli("SMEMBERS", f"user:{u['id']}:subs").split(), "owner subscribed in Redis")
    m = api("GET", f"/channels/{ch['id']}/members", token=tok).json["items"]
    expect(len(m) == 1 and m[0]["role"] == "owner" and m[0]["userId"] == u["id"], m)


def test_channel_validation():
    u, tok = register()
    expect_error(api("POST", "/channels", {"name": "x", "visibility": "secret"}, token=tok), 400, "bad_request")
    expect_error(api("POST", "/channels", {"visibility": "public"}, token=tok), 400, "bad_request")
    expect_error(api("POST", "/channels", {"name": "", "visibility": "public"}, token=tok), 400, "bad_request")
    expect_error(api("POST", "/channels", {"name": "n" * 81, "visibility": "public"}, token=tok), 400, "bad_request")


def test_private_channel_is_404_to_outsiders_for_every_verb():
    owner, otok = register()
    out, xtok = register()
    ch = make_channel(otok, "private")
    cid = ch["id"]
    for method, path, body in [("GET", f"/channels/{cid}", None), ("PATCH", f"/channels/{cid}", {"name": "x"}),
                               ("DELETE", f"/channels/{cid}", None), ("GET", f"/channels/{cid}/members", None),
                               ("PUT", f"/channels/{cid}/members/{out['id']}", {}),
                               ("DELETE", f"/channels/{cid}/members/{owner['id']}", None)]:
        expect_error(api(method, path, body, token=xtok), 404, "not_found")
    lst = api("GET", "/channels?limit=100", token=xtok).json["items"]
    expect(cid not in [c["id"] for c in lst], "private channel not listed to outsiders")


def test_authorization_matrix_public_channel():
    owner, otok = register()
    admin, atok = register()
    member, mtok = register()
    out, xtok = register()
    ch = make_channel(otok)
    cid = ch["id"]
    # joining a public channel is self-service; granting roles is not
    expect_error(api("PUT", f"/channels/{cid}/members/{admin['id']}", {"role": "admin"}, token=atok), 403, "forbidden")
    expect(api("PUT", f"/channels/{cid}/members/{member['id']}", {}, token=mtok).status == 201, "self join")
    expect(api("PUT", f"/channels/{cid}/members/{member['id']}", {}, token=mtok).status == 200, "join again is 200")
    expect(api("PUT", f"/channels/{cid}/members/{admin['id']}", {"role": "admin"}, token=otok).status == 201,
           "owner adds an admin")
    expect_error(api("PUT", f"/channels/{cid}/members/{out['id']}", {}, token=mtok), 403, "forbidden")
    # read: anyone signed in
    for tok in (otok, atok, mtok, xtok):
        expect(api("GET", f"/channels/{cid}", token=tok).status == 200, "public channel readable")
        expect(api("GET", f"/channels/{cid}/members", token=tok).status == 200, "members of public readable")
    # update: owner and admin only
    expect_error(api("PATCH", f"/channels/{cid}", {"topic": "no"}, token=mtok), 403, "forbidden")
    expect_error(api("PATCH", f"/channels/{cid}", {"topic": "no"}, token=xtok), 403, "forbidden")
    nats = Nats(f"channel.{cid}.updated")
    r = api("PATCH", f"/channels/{cid}", {"topic": "by admin"}, token=atok)
    expect(r.status == 200 and r.json["topic"] == "by admin", r)
    nats.wait_for(f"channel.{cid}.updated")
    nats.close()
    expect(api("PATCH", f"/channels/{cid}", {"name": "renamed"}, token=otok).json["name"] == "renamed", "owner")
    # removal: self, owner, admin; not others; the owner cannot leave
    expect_error(api("DELETE", f"/channels/{cid}/members/{admin['id']}", token=mtok), 403, "forbidden")
    expect_error(api("DELETE", f"/channels/{cid}/members/{owner['id']}", token=atok), 403, "forbidden")
    expect_error(api("DELETE", f"/channels/{cid}/members/{owner['id']}", token=otok), 409, "conflict")
    nats = Nats(f"channel.{cid}.member.left", f"user.{member['id']}.subs.changed")
    expect(api("DELETE", f"/channels/{cid}/members/{member['id']}", token=atok).status == 204, "admin removes")
    nats.wait_for(f"channel.{cid}.member.left", lambda p: p["userId"] == member["id"])
    nats.wait_for(f"user.{member['id']}.subs.changed", lambda p: p["action"] == "left")
    nats.close()
    expect(cid not in redis_cli("SMEMBERS", f"user:{member['id']}:subs").split(), "unsubscribed in Redis")
    expect(api("GET", f"/channels/{cid}", token=otok).json["memberCount"] == 2, "member count follows")
    # delete: members and outsiders no; admin yes
    expect_error(api("DELETE", f"/channels/{cid}", token=xtok), 403, "forbidden")
    expect(api("DELETE", f"/channels/{cid}", token=atok).status == 204, "admin deletes")
    expect_error(api("GET", f"/channels/{cid}", token=otok), 404, "not_found")
    expect(cid not in redis_cli("SMEMBERS", f"user:{owner['id']}:subs").split(), "owner's subs cleaned")


def test_private_channel_members_managed_by_owner():
    owner, otok = register()
    guest, gtok = register()
    ch = make_channel(otok, "private")
    cid = ch["id"]
    expect_error(api("PUT", f"/channels/{cid}/members/{guest['id']}", {}, token=gtok), 404, "not_found")
    nats = Nats(f"user.{guest['id']}.subs.changed")
    r = api("PUT", f"/channels/{cid}/members/{guest['id']}", {"role": "member"}, token=otok)
    expect(r.status == 201 and r.json["role"] == "member" and r.json["userId"] == guest["id"], r)
    nats.wait_for(f"user.{guest['id']}.subs.changed", lambda p: p["channelId"] == cid and p["action"] == "joined")
    nats.close()
    expect(cid in redis_cli("SMEMBERS", f"user:{guest['id']}:subs").split(), "invited user subscribed")
    expect(api("GET", f"/channels/{cid}", token=gtok).status == 200, "member reads private channel")
    expect_error(api("PATCH", f"/channels/{cid}", {"name": "x"}, token=gtok), 403, "forbidden")
    expect(api("DELETE", f"/channels/{cid}/members/{guest['id']}", token=gtok).status == 204, "leave")
    expect_error(api("GET", f"/channels/{cid}", token=gtok), 404, "not_found")
    expect_error(api("PUT", f"/channels/{cid}/members/999999999", {}, token=otok), 404, "not_found")
    expect_error(api("PUT", f"/channels/{cid}/members/{guest['id']}", {"role": "owner"}, token=otok), 400, "bad_request")


def test_channel_lists_member_me_and_pagination():
    u, tok = register()
    mine = [make_channel(tok, v)["id"] for v in ("public", "private", "public", "private", "public")]
    seen, after = [], None
    while True:
        r = api("GET", "/channels?member=me&limit=2" + (f"&after={after}" if after else ""), token=tok)
        expect(r.status == 200, r)
        seen += [c["id"] for c in r.json["items"]]
        after = r.json["next"]
        if after is None:
            break
    expect(seen == mine, f"exactly my channels in order over 3 pages: {seen} vs {mine}")
    expect_error(api("GET", "/channels?member=you", token=tok), 400, "bad_request")


def test_subs_rebuilt_from_postgres_after_redis_loses_them():
    import os
    import subprocess
    from agora_test import BUILD
    u, tok = register()
    chans = sorted(int(make_channel(tok, v)["id"]) for v in ("public", "private"))
    redis_cli("DEL", f"user:{u['id']}:subs", f"user:{u['id']}:subs:built")
    out = subprocess.run([os.path.join(BUILD, "admin", "agora-admin"), "subs", u["id"]], check=True,
                         capture_output=True, text=True).stdout.split()
    expect(sorted(map(int, out)) == chans, f"rebuilt from memberships: {out} vs {chans}")
    expect(sorted(map(int, redis_cli("SMEMBERS", f"user:{u['id']}:subs").split())) == chans,
           "the Redis set is back")
    expect(redis_cli("EXISTS", f"user:{u['id']}:subs:built") == "1", "marked complete")


def test_unauthenticated_is_401():
    expect_error(api("GET", "/channels"), 401, "unauthorized")
    expect_error(api("POST", "/channels", {"name": "x", "visibility": "public"}), 401, "unauthorized")


def test_postgres_down_is_503_then_served_again():
    from agora_test import eventually, on_cleanup, svc
    u, tok = register()
    make_channel(tok)
    svc("stop", "postgres")
    on_cleanup(lambda: svc("start", "postgres"))
    r = api("GET", "/channels?member=me", token=tok, timeout=10)
    expect_error(r, 503, "unavailable")
    expect(r.header("Retry-After"), "Retry-After on 503")
    svc("start", "postgres")
    r = eventually(lambda: (lambda x: x if x.status == 200 else None)(api("GET", "/channels?member=me", token=tok)),
                   timeout=15, what="the same worker serving again")
    expect(len(r.json["items"]) == 1, r.json)
