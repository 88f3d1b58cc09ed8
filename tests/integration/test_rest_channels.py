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
    # nor may a member touch another member's membership, even without a role
    expect_error(api("PUT", f"/channels/{cid}/members/{admin['id']}", {}, token=mtok), 403, "forbidden")
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


def roles(cid, tok):
    items = api("GET", f"/channels/{cid}/members?limit=100", token=tok).json["items"]
    return {m["userId"]: m["role"] for m in items}


def test_ownership_transfer_owner_only_to_a_member_old_owner_becomes_admin():
    owner, otok = register()
    admin, atok = register()
    member, mtok = register()
    out, xtok = register()
    ch = make_channel(otok, "private")
    cid = ch["id"]
    api("PUT", f"/channels/{cid}/members/{admin['id']}", {"role": "admin"}, token=otok)
    api("PUT", f"/channels/{cid}/members/{member['id']}", {}, token=otok)
    before = roles(cid, otok)
    # not the owner: 404 to an outsider of a private channel, 403 to the others
    expect_error(api("POST", f"/channels/{cid}/owner", {"userId": out["id"]}, token=xtok), 404, "not_found")
    for tok in (atok, mtok):
        expect_error(api("POST", f"/channels/{cid}/owner", {"userId": member["id"]}, token=tok), 403, "forbidden")
    # the named user must be a member; the body must name one
    expect_error(api("POST", f"/channels/{cid}/owner", {"userId": out["id"]}, token=otok), 400, "bad_request")
    expect_error(api("POST", f"/channels/{cid}/owner", {"userId": "999999999"}, token=otok), 400, "bad_request")
    for bad in ({}, {"userId": 5}, {"userId": "x1"}, {"userId": None}):
        expect_error(api("POST", f"/channels/{cid}/owner", bad, token=otok), 400, "bad_request")
    expect(roles(cid, otok) == before, "refusals changed nothing")
    nats = Nats(f"channel.{cid}.updated")
    r = api("POST", f"/channels/{cid}/owner", {"userId": member["id"]}, token=otok)
    expect(r.status == 200 and r.json["ownerId"] == member["id"] and r.json["id"] == cid, r)
    nats.wait_for(f"channel.{cid}.updated", lambda p: p["channelId"] == cid)
    nats.close()
    expect(roles(cid, mtok) == {owner["id"]: "admin", admin["id"]: "admin", member["id"]: "owner"},
           roles(cid, mtok))
    expect(api("GET", f"/channels/{cid}", token=mtok).json["ownerId"] == member["id"], "ownerId")
    # the old owner is an admin now: it may not hand the channel on again, nor leave as owner
    expect_error(api("POST", f"/channels/{cid}/owner", {"userId": admin["id"]}, token=otok), 403, "forbidden")
    expect_error(api("DELETE", f"/channels/{cid}/members/{member['id']}", token=mtok), 409, "conflict")
    # naming oneself is a no-op
    r = api("POST", f"/channels/{cid}/owner", {"userId": member["id"]}, token=mtok)
    expect(r.status == 200 and r.json["ownerId"] == member["id"], r)
    # and back: the new owner hands it on, the old owner (an admin now) may leave
    r = api("POST", f"/channels/{cid}/owner", {"userId": admin["id"]}, token=mtok)
    expect(r.status == 200 and r.json["ownerId"] == admin["id"], r)
    expect(api("DELETE", f"/channels/{cid}/members/{owner['id']}", token=otok).status == 204, "leaves")


def test_deleting_an_owner_passes_each_channel_to_its_longest_standing_admin_else_member():
    u, utok = register()
    late_admin, _ = register()   # a smaller id than early_admin, but joins later
    early_admin, _ = register()
    first_member, fmtok = register()
    second_member, _ = register()
    with_admins = make_channel(utok)["id"]
    members_only = make_channel(utok, "private")["id"]
    alone = make_channel(utok)["id"]
    not_mine_owner, notok = register()
    not_mine = make_channel(notok)["id"]
    add = lambda cid, who, role="member": api("PUT", f"/channels/{cid}/members/{who['id']}", {"role": role},
                                              token=utok)
    add(with_admins, first_member)
    add(with_admins, early_admin, "admin")
    add(with_admins, late_admin, "admin")
    add(members_only, first_member)
    add(members_only, second_member)
    api("PUT", f"/channels/{not_mine}/members/{u['id']}", {}, token=utok)
    nats = Nats("channel.*.updated")
    expect(api("DELETE", f"/users/{u['id']}", token=utok).status == 204, "account deleted")
    # the longest-standing admin, not an earlier member nor an admin with a smaller id
    ch = api("GET", f"/channels/{with_admins}", token=fmtok).json
    expect(ch["ownerId"] == early_admin["id"] and ch["memberCount"] == 3, ch)
    expect(roles(with_admins, fmtok) == {first_member["id"]: "member", early_admin["id"]: "owner",
                                         late_admin["id"]: "admin"}, roles(with_admins, fmtok))
    # no admin: the longest-standing member
    ch = api("GET", f"/channels/{members_only}", token=fmtok).json
    expect(ch["ownerId"] == first_member["id"], ch)
    expect(roles(members_only, fmtok)[first_member["id"]] == "owner", "promoted")
    r = api("PATCH", f"/channels/{members_only}", {"topic": "mine now"}, token=fmtok)
    expect(r.status == 200, f"the new owner manages it: {r!r}")
    # no other member: the channel is gone
    expect_error(api("GET", f"/channels/{alone}", token=fmtok), 404, "not_found")
    # a channel the user merely belonged to is untouched, minus the user
    ch = api("GET", f"/channels/{not_mine}", token=notok).json
    expect(ch["ownerId"] == not_mine_owner["id"] and ch["memberCount"] == 1, ch)
    nats.wait_for(f"channel.{with_admins}.updated", lambda p: p["channelId"] == with_admins)
    nats.wait_for(f"channel.{members_only}.updated", lambda p: p["channelId"] == members_only)
    nats.wait_for(f"channel.{alone}.updated", lambda p: p.get("deleted") == "true")
    nats.close()
    # no channel is left without an owner
    for cid in (with_admins, members_only):
        expect(list(roles(cid, fmtok).values()).count("owner") == 1, roles(cid, fmtok))


def test_migration_005_gives_ownerless_channels_an_owner():
    import os
    from agora_test import ROOT, psql
    # what DELETE /users/{id} left before succession: no owner row, owner_id NULL
    u, utok = register()
    admin, atok = register()
    member, _ = register()
    cid = make_channel(utok)["id"]
    lonely = make_channel(utok)["id"]
    api("PUT", f"/channels/{cid}/members/{member['id']}", {}, token=utok)
    api("PUT", f"/channels/{cid}/members/{admin['id']}", {"role": "admin"}, token=utok)
    psql(f"DELETE FROM memberships WHERE user_id = {u['id']}; "
         f"UPDATE channels SET owner_id = NULL WHERE id IN ({cid}, {lonely})")
    psql(None, os.path.join(ROOT, "sql", "005_owner_succession.sql"))
    ch = api("GET", f"/channels/{cid}", token=atok).json
    expect(ch["ownerId"] == admin["id"], ch)
    expect(roles(cid, atok)[admin["id"]] == "owner", roles(cid, atok))
    expect_error(api("GET", f"/channels/{lonely}", token=atok), 404, "not_found")


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
