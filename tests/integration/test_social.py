"""Social basics (issue 17, CONTRACT §9) through Apache: reactions (the emoji
rule, idempotence, the cap, reactedByMe), edits and deletes of comments,
replies and DMs (who may, counts kept right, editedAt), the §9 events on
NATS and as WebSocket frames, uploads (one request, tus with tus-js-client
across a dropped connection, a type spoofed by its header, an oversized
body), attachments on posts and DMs and who may read them, avatars."""
import hashlib
import json
import os
import struct
import subprocess
import zlib

import agora_test as at
from agora_test import Nats, api, expect, expect_error, register, request
from gql import channel, data, error_codes, gql, post
from wsclient import WS

REACT = "mutation($t: ID!, $e: String!) { addReaction(targetId: $t, emoji: $e) { emoji count reactedByMe } }"
UNREACT = "mutation($t: ID!, $e: String!) { removeReaction(targetId: $t, emoji: $e) { emoji count reactedByMe } }"


def _member(owner_tok, cid, user):
    r = api("PUT", f"/channels/{cid}/members/{user['id']}", {}, token=owner_tok)
    expect(r.status in (200, 201), r)


def _comment(tok, pid, body="a comment"):
    return data(gql("mutation($p: ID!, $b: String!) { createComment(postId: $p, body: $b) { id replyCount } }",
                    {"p": pid, "b": body}, tok))["createComment"]


def _reply(tok, cid, body="a reply"):
    return data(gql("mutation($c: ID!, $b: String!) { createReply(commentId: $c, body: $b) { id } }",
                    {"c": cid, "b": body}, tok))["createReply"]


def _dm(tok, to, body="hi", attachments=None):
    v = {"t": to, "b": body}
    q = "mutation($t: ID!, $b: String!) { sendDirectMessage(toUserId: $t, body: $b) { id } }"
    if attachments is not None:
        v["a"] = attachments
        q = ("mutation($t: ID!, $b: String!, $a: [ID!]) { sendDirectMessage(toUserId: $t, body: $b, "
             "attachmentIds: $a) { id attachments { id url } } }")
    return data(gql(q, v, tok))["sendDirectMessage"]


def png(width=3, height=2, text=b"secret location 48.85N 2.35E"):
    """A small RGB PNG with a tEXt chunk (metadata that must not survive the upload)."""
    def chunk(kind, payload):
        return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))
    raw = b"".join(b"\x00" + b"".join(bytes([(x * 40) % 256, (y * 90) % 256, 128]) for x in range(width))
                   for y in range(height))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)) +
            chunk(b"tEXt", b"Comment\x00" + text) + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def upload(tok, body, ctype="image/png"):
    return request("POST", "/api/v1/uploads", raw=body, token=tok, headers={"Content-Type": ctype})


# ---- reactions ---------------------------------------------------------------------------
def test_reactions_idempotent_grouped_with_reacted_by_me_and_the_emoji_rule():
    (a, atok), (b, btok) = register(), register()
    cid = channel(atok)
    _member(atok, cid, b)
    p = post(atok, cid, "react to this")
    got = data(gql(REACT, {"t": p["id"], "e": "👍"}, atok))["addReaction"]
    expect(got == [{"emoji": "👍", "count": 1, "reactedByMe": True}], got)
    again = data(gql(REACT, {"t": p["id"], "e": "👍"}, atok))["addReaction"]
    expect(again == got, f"adding twice changes nothing: {again}")
    data(gql(REACT, {"t": p["id"], "e": "👍"}, btok))
    data(gql(REACT, {"t": p["id"], "e": "🎉"}, btok))
    seen = data(gql("query($p: ID!) { post(id: $p) { reactions { emoji count reactedByMe } } }", {"p": p["id"]}, atok))
    expect(seen["post"]["reactions"] == [{"emoji": "👍", "count": 2, "reactedByMe": True},
                                          {"emoji": "🎉", "count": 1, "reactedByMe": False}], seen)
    # a page of posts reads every post's reactions (batched) the same way
    page = data(gql("query($c: ID!) { channelPosts(channelId: $c) { edges { node { id reactions { emoji count } } } } }",
                    {"c": cid}, btok))
    expect(page["channelPosts"]["edges"][0]["node"]["reactions"][0] == {"emoji": "👍", "count": 2}, page)
    left = data(gql(UNREACT, {"t": p["id"], "e": "👍"}, atok))["removeReaction"]
    expect(left == [{"emoji": "👍", "count": 1, "reactedByMe": False}, {"emoji": "🎉", "count": 1, "reactedByMe": False}], left)
    expect(data(gql(UNREACT, {"t": p["id"], "e": "👍"}, atok))["removeReaction"] == left, "removing twice: no change")
    # the rule: one emoji, never text
    for text in ["ok", "a", "👍👍", " 👍", "+1", "<b>x</b>", ""]:
        r = gql(REACT, {"t": p["id"], "e": text}, atok)
        expect(error_codes(r) == ["bad_request"], f"{text!r}: {r.json}")
    for emoji in ["❤️", "👍🏽", "👩‍💻", "🇫🇷", "1️⃣"]:
        expect(not error_codes(gql(REACT, {"t": p["id"], "e": emoji}, btok)), emoji)
    expect(error_codes(gql(REACT, {"t": "0123456789abcdef01234567", "e": "👍"}, atok)) == ["not_found"], "absent target")


def test_reactions_cap_distinct_emojis_per_target():
    (a, atok) = register()
    cid = channel(atok)
    p = post(atok, cid)
    emojis = [chr(0x1F600 + i) for i in range(21)]
    for e in emojis[:20]:
        expect(not error_codes(gql(REACT, {"t": p["id"], "e": e}, atok)), e)
    r = gql(REACT, {"t": p["id"], "e": emojis[20]}, atok)
    expect(error_codes(r) == ["bad_request"] and "20" in r.json["errors"][0]["message"], r.json)
    u, utok = register()
    _member(atok, cid, u)
    expect(not error_codes(gql(REACT, {"t": p["id"], "e": emojis[0]}, utok)), "an emoji already there is fine")


def test_reactions_on_comments_replies_and_dms_and_their_events():
    (a, atok), (b, btok) = register(), register()
    cid = channel(atok)
    _member(atok, cid, b)
    p = post(atok, cid)
    c = _comment(btok, p["id"])
    r = _reply(atok, c["id"])
    d = _dm(atok, b["id"])
    nats = Nats(f"channel.{cid}.message.reaction", f"user.{a['id']}.dm")
    try:
        for tid in (c["id"], r["id"]):
            expect(data(gql(REACT, {"t": tid, "e": "🔥"}, btok))["addReaction"][0]["count"] == 1, tid)
        _, pl = nats.wait_for(f"channel.{cid}.message.reaction", lambda q: q["targetId"] == r["id"])
        expect(pl == {"targetId": r["id"], "emoji": "🔥", "userId": b["id"], "op": "added"}, pl)
        # b reacts to a's DM: a hears it on a's DM stream
        data(gql(REACT, {"t": d["id"], "e": "👍"}, btok))
        _, pl = nats.wait_for(f"user.{a['id']}.dm", lambda q: q.get("type") == "reaction")
        expect(pl == {"type": "reaction", "from": b["id"], "targetId": d["id"], "emoji": "👍", "op": "added"}, pl)
    finally:
        nats.close()
    q = data(gql("query($c: ID!, $r: ID!, $d: ID!) { comment(id: $c) { reactions { emoji count } } "
                 "reply(id: $r) { reactions { emoji } } directMessage(id: $d) { reactions { emoji reactedByMe } } }",
                 {"c": c["id"], "r": r["id"], "d": d["id"]}, atok))
    expect(q["comment"]["reactions"] == [{"emoji": "🔥", "count": 1}] and q["reply"]["reactions"] == [{"emoji": "🔥"}]
           and q["directMessage"]["reactions"] == [{"emoji": "👍", "reactedByMe": False}], q)
    # a stranger may neither react to the DM nor to a private channel's content
    s, stok = register()
    expect(error_codes(gql(REACT, {"t": d["id"], "e": "👍"}, stok)) == ["forbidden"], "stranger on a DM")


def test_reaction_frames_live_and_replayed_on_the_channel_and_dm_streams():
    (a, atok), (b, btok) = register(), register()
    cid = channel(atok)
    _member(atok, cid, b)
    p = post(atok, cid)
    ws = WS(btok)
    try:
        ws.ready()
        data(gql(REACT, {"t": p["id"], "e": "👍"}, atok))
        f = ws.wait_type("reaction", channelId=cid)
        expect(f["targetId"] == p["id"] and f["emoji"] == "👍" and f["userId"] == a["id"] and f["op"] == "added"
               and isinstance(f["seq"], int), f)
        ws.send({"action": "read", "channelId": cid, "seq": f["seq"]})
        at.eventually(lambda: at.redis_cli("GET", f"lastRead:user:{b['id']}:channel:{cid}") == str(f["seq"]),
                      what="offset stored")
    finally:
        ws.close()
    # while b is away: a removes the reaction; the reconnect replays it after the offset
    data(gql(UNREACT, {"t": p["id"], "e": "👍"}, atok))
    ws = WS(btok)
    try:
        ws.ready()
        g = ws.wait_type("reaction", channelId=cid, op="removed")
        expect(g["seq"] > f["seq"] and g["targetId"] == p["id"], g)
    finally:
        ws.close()
    d = _dm(btok, a["id"])
    wa = WS(atok)
    try:
        wa.ready()
        data(gql(REACT, {"t": d["id"], "e": "❤️"}, btok))
        g = wa.wait_type("reaction", **{"from": b["id"]})
        expect(g["targetId"] == d["id"] and g["emoji"] == "❤️" and g["op"] == "added" and "channelId" not in g, g)
    finally:
        wa.close()


# ---- edits and deletes ---------------------------------------------------------------------
EDIT_C = "mutation($i: ID!, $b: String!) { editComment(id: $i, body: $b) { id body editedAt createdAt } }"
EDIT_R = "mutation($i: ID!, $b: String!) { editReply(id: $i, body: $b) { id body editedAt } }"
EDIT_D = "mutation($i: ID!, $b: String!) { editDirectMessage(id: $i, body: $b) { id body editedAt } }"


def test_edit_and_delete_comments_and_replies_keep_counts_and_emit_events():
    (a, atok), (b, btok), (adm, admtok) = register(), register(), register()
    cid = channel(atok)
    _member(atok, cid, b)
    expect(api("PUT", f"/channels/{cid}/members/{adm['id']}", {"role": "admin"}, token=atok).status in (200, 201), "admin")
    p = post(atok, cid)
    c1, c2 = _comment(btok, p["id"], "first"), _comment(btok, p["id"], "second")
    r1, r2 = _reply(btok, c1["id"]), _reply(atok, c1["id"])
    ws = WS(atok)
    try:
        ws.ready()
        e = data(gql(EDIT_C, {"i": c1["id"], "b": "first, fixed"}, btok))["editComment"]
        expect(e["body"] == "first, fixed" and e["editedAt"] and e["editedAt"] >= e["createdAt"], e)
        f = ws.wait_type("comment_updated", commentId=c1["id"])
        expect(f["postId"] == p["id"] and f["channelId"] == cid, f)
        expect(error_codes(gql(EDIT_C, {"i": c1["id"], "b": "x"}, atok)) == ["forbidden"], "only the author edits")
        expect(error_codes(gql(EDIT_C, {"i": c1["id"], "b": ""}, btok)) == ["bad_request"], "empty body")
        er = data(gql(EDIT_R, {"i": r1["id"], "b": "reply, fixed"}, btok))["editReply"]
        expect(er["body"] == "reply, fixed" and er["editedAt"], er)
        ws.wait_type("reply_updated", replyId=r1["id"], commentId=c1["id"])
        # the channel's owner deletes b's reply; an admin deletes b's comment (with its replies)
        expect(data(gql("mutation($i: ID!) { deleteReply(id: $i) }", {"i": r1["id"]}, atok))["deleteReply"] is True, "owner")
        ws.wait_type("reply_deleted", replyId=r1["id"])
        q = data(gql("query($c: ID!) { comment(id: $c) { replyCount } }", {"c": c1["id"]}, atok))
        expect(q["comment"]["replyCount"] == 1, q)
        expect(error_codes(gql("mutation($i: ID!) { deleteComment(id: $i) }", {"i": c2["id"]}, btok)) == [], "author")
        expect(error_codes(gql("mutation($i: ID!) { deleteReply(id: $i) }", {"i": r2["id"]}, btok)) == ["forbidden"],
               "a member may not delete another's reply")
        expect(data(gql("mutation($i: ID!) { deleteComment(id: $i) }", {"i": c1["id"]}, admtok))["deleteComment"] is True, "admin")
        ws.wait_type("comment_deleted", commentId=c1["id"], postId=p["id"])
    finally:
        ws.close()
    q = data(gql("query($p: ID!, $r: ID!) { post(id: $p) { commentCount comments { edges { node { id } } } } reply(id: $r) { id } }",
                 {"p": p["id"], "r": r2["id"]}, atok))
    expect(q["post"]["commentCount"] == 0 and q["post"]["comments"]["edges"] == [] and q["reply"] is None, q)
    expect(error_codes(gql("mutation($i: ID!) { deleteComment(id: $i) }", {"i": c1["id"]}, atok)) == ["not_found"], "gone")


def test_edit_and_delete_direct_messages_sender_only_with_dm_stream_frames():
    (a, atok), (b, btok), (s, stok) = register(), register(), register()
    d = _dm(atok, b["id"], "helo")
    wb = WS(btok)
    try:
        wb.ready()
        e = data(gql(EDIT_D, {"i": d["id"], "b": "hello"}, atok))["editDirectMessage"]
        expect(e["body"] == "hello" and e["editedAt"], e)
        f = wb.wait_type("dm_updated", messageId=d["id"])
        expect(f["from"] == a["id"] and isinstance(f["seq"], int), f)
        wb.send({"action": "ack", "stream": "dm", "seq": f["seq"]})
        expect(error_codes(gql(EDIT_D, {"i": d["id"], "b": "x"}, btok)) == ["forbidden"], "the recipient may not edit")
        expect(error_codes(gql(EDIT_D, {"i": d["id"], "b": "x"}, stok)) == ["forbidden"], "a stranger may not")
        expect(error_codes(gql("mutation($i: ID!) { deleteDirectMessage(id: $i) }", {"i": d["id"]}, btok)) == ["forbidden"],
               "the recipient may not delete")
        expect(data(gql("mutation($i: ID!) { deleteDirectMessage(id: $i) }", {"i": d["id"]}, atok))["deleteDirectMessage"] is True, "")
        wb.wait_type("dm_deleted", messageId=d["id"])
    finally:
        wb.close()
    q = data(gql("query($i: ID!) { directMessage(id: $i) { id } }", {"i": d["id"]}, btok))
    expect(q["directMessage"] is None, q)


# ---- uploads -------------------------------------------------------------------------------------
def test_upload_one_request_image_sniffed_stripped_thumbnailed_and_served_by_apache():
    u, tok = register()
    img = png(40, 30)
    r = upload(tok, img, "image/gif")  # the header lies: the bytes decide
    expect(r.status == 201, r)
    t = r.json
    expect(t["contentType"] == "image/png" and t["width"] == 40 and t["height"] == 30, t)
    expect(t["url"] == f"/api/v1/files/{t['id']}" and t["thumbnailUrl"] == f"/api/v1/files/{t['id']}/thumbnail", t)
    f = request("GET", t["url"], token=tok)
    expect(f.status == 200 and f.header("Content-Type") == "image/png" and f.body[:8] == b"\x89PNG\r\n\x1a\n", f)
    expect(len(f.body) == t["size"] and f.header("X-Sendfile") is None, "Apache sent the file itself; no header leaks")
    expect(b"secret location" not in f.body, "the PNG's text metadata is gone")
    expect(f.header("X-Content-Type-Options") == "nosniff", "nosniff on files")
    th = request("GET", t["thumbnailUrl"], token=tok)
    expect(th.status == 200 and th.header("Content-Type") == "image/webp" and th.body[8:12] == b"WEBP", th)
    # the files live under the data directory by content hash
    sha = hashlib.sha256(f.body).hexdigest()
    expect(os.path.exists(os.path.join(at.VAR, "data", "files", sha[:2], sha[2:4], sha)), "stored by hash")
    # the same picture again: a new attachment, the same stored bytes
    t2 = upload(tok, img).json
    expect(t2["id"] != t["id"] and hashlib.sha256(request("GET", t2["url"], token=tok).body).hexdigest() == sha, t2)
    # the web client's cookie works where an <img> sends no header
    c = request("GET", t["url"], headers={"Cookie": f"theme=dark; agora_token={tok}"})
    expect(c.status == 200 and c.body == f.body, c)
    expect_error(request("GET", t["url"]), 401, "unauthorized")


def test_upload_type_spoofed_by_its_header_is_refused():
    u, tok = register()
    html = b"<!doctype html><html><script>alert(document.cookie)</script></html>"
    expect_error(upload(tok, html, "image/png"), 415, "unsupported_media_type")
    exe = b"\x7fELF\x02\x01\x01" + b"\x00" * 200
    expect_error(upload(tok, exe, "image/jpeg"), 415, "unsupported_media_type")
    broken = png()[:40] + b"\x00" * 40  # a PNG header over garbage
    expect_error(upload(tok, broken, "image/png"), 400, "bad_request")
    txt = upload(tok, b"plain words that call themselves an image\n" * 10, "image/png")
    expect(txt.status == 201 and txt.json["contentType"] == "text/plain" and txt.json["width"] is None, txt)


def test_upload_oversized_body_is_413_with_the_envelope():
    u, tok = register()
    r = upload(tok, b"a" * (1024 * 1024 + 1), "text/plain")
    expect_error(r, 413, "payload_too_large")
    r = request("POST", "/api/v1/uploads/", token=tok, headers={"Tus-Resumable": "1.0.0", "Upload-Length": str(26214401)})
    expect_error(r, 413, "payload_too_large")
    r = request("POST", "/api/v1/uploads/", token=tok, headers={"Tus-Resumable": "0.2.2", "Upload-Length": "10"})
    expect(r.status == 412 and r.header("Tus-Version") == "1.0.0", r)
    expect_error(request("POST", "/api/v1/uploads/", token=tok, headers={"Tus-Resumable": "1.0.0", "Upload-Length": "-5"}),
                 400, "bad_request")


def test_tus_protocol_core_and_creation_by_hand():
    u, tok = register()
    r = request("OPTIONS", "/api/v1/uploads/")
    expect(r.status == 204 and r.header("Tus-Version") == "1.0.0" and "creation" in r.header("Tus-Extension"), r)
    body = b"resumable text\n" * 100
    r = request("POST", "/api/v1/uploads/", token=tok, headers={
        "Tus-Resumable": "1.0.0", "Upload-Length": str(len(body)), "Upload-Metadata": "filename bm90ZXMudHh0"})
    expect(r.status == 201 and r.header("Location", ) and r.header("Tus-Resumable") == "1.0.0", r)
    loc = r.header("Location")
    h = {"Tus-Resumable": "1.0.0", "Content-Type": "application/offset+octet-stream"}
    r = request("PATCH", loc, token=tok, raw=body[:500], headers=dict(h, **{"Upload-Offset": "0"}))
    expect(r.status == 204 and r.header("Upload-Offset") == "500", r)
    r = request("HEAD", loc, token=tok, headers={"Tus-Resumable": "1.0.0"})
    expect(r.status == 200 and r.header("Upload-Offset") == "500" and r.header("Upload-Length") == str(len(body))
           and r.header("Cache-Control") == "no-store", r)
    expect_error(request("PATCH", loc, token=tok, raw=body[:10], headers=dict(h, **{"Upload-Offset": "0"})), 409, "conflict")
    other, otok = register()
    r = request("HEAD", loc, token=otok, headers={"Tus-Resumable": "1.0.0"})
    expect(r.status == 404, f"another user's upload is not found: {r!r}")
    r = request("PATCH", loc, token=tok, raw=body[500:], headers=dict(h, **{"Upload-Offset": "500"}))
    expect(r.status == 204 and r.header("Upload-Offset") == str(len(body)) and r.header("Agora-Attachment-Id"), r)
    st = request("GET", loc, token=tok).json
    expect(st["attachment"]["id"] == r.header("Agora-Attachment-Id") and st["attachment"]["contentType"] == "text/plain", st)
    expect(request("GET", st["attachment"]["url"], token=tok).body == body, "the bytes arrived whole")


def test_tus_resumes_after_a_dropped_connection_with_tus_js_client():
    u, tok = register()
    script = os.path.join(at.ROOT, "tests", "e2e", "tus_resume.mjs")
    if not os.path.exists(os.path.join(at.ROOT, "web", "node_modules", "tus-js-client")):
        raise AssertionError("web/node_modules/tus-js-client is missing: ./agora did not run npm ci in web/")
    p = subprocess.run(["node", script, str(at.HTTP_PORT), tok], capture_output=True, text=True, timeout=120)
    lines = [l for l in p.stdout.splitlines() if l.startswith("{")]
    expect(lines, f"no result: {p.stdout[-500:]} {p.stderr[-2000:]}")
    res = json.loads(lines[-1])
    print(f"    tus: {res.get('patches')} PATCH, {res.get('heads')} HEAD, {res.get('drops')} dropped connection(s)")
    expect(res["ok"], res)
    expect(res["drops"] == 1 and res["heads"] >= 1, f"the connection was dropped and the client asked where to resume: {res}")
    expect(res["got"]["size"] == 3 * 1024 * 1024 and res["got"]["type"] == "text/plain", res)


# ---- attachments on messages and who may read them ----------------------------------------------
CREATE = ("mutation($c: ID!, $b: String!, $a: [ID!]) { createPost(channelId: $c, body: $b, attachmentIds: $a) "
          "{ id attachments { id url contentType size width height thumbnailUrl } } }")


def test_attachments_on_posts_and_dms_claimed_once_and_limited():
    (a, atok), (b, btok) = register(), register()
    cid = channel(atok)
    ids = [upload(atok, png(4 + i, 4)).json["id"] for i in range(3)]
    p = data(gql(CREATE, {"c": cid, "b": "three pictures", "a": ids}, atok))["createPost"]
    expect([x["id"] for x in p["attachments"]] == ids and p["attachments"][1]["width"] == 5, p)
    page = data(gql("query($c: ID!) { channelPosts(channelId: $c) { edges { node { attachments { id } } } } }", {"c": cid}, atok))
    expect([x["id"] for x in page["channelPosts"]["edges"][0]["node"]["attachments"]] == ids, page)
    expect(error_codes(gql(CREATE, {"c": cid, "b": "again", "a": [ids[0]]}, atok)) == ["bad_request"], "used once")
    theirs = upload(btok, png()).json["id"]
    mine = upload(atok, png()).json["id"]
    expect(error_codes(gql(CREATE, {"c": cid, "b": "x", "a": [mine, theirs]}, atok)) == ["bad_request"], "not mine")
    expect(data(gql(CREATE, {"c": cid, "b": "mine alone", "a": [mine]}, atok))["createPost"]["attachments"][0]["id"] == mine,
           "nothing was claimed by the refused post")
    expect(error_codes(gql(CREATE, {"c": cid, "b": "x", "a": [mine] * 11}, atok)) == ["bad_request"], "more than 10")
    d = _dm(btok, a["id"], "a picture for you", [theirs])
    expect(d["attachments"][0]["id"] == theirs, d)
    expect(request("GET", d["attachments"][0]["url"], token=atok).status == 200, "the recipient reads it")
    s, stok = register()
    expect_error(request("GET", d["attachments"][0]["url"], token=stok), 404, "not_found")
    # deleting the message takes its files out of reach
    data(gql("mutation($i: ID!) { deleteDirectMessage(id: $i) }", {"i": d["id"]}, btok))
    expect_error(request("GET", d["attachments"][0]["url"], token=atok), 404, "not_found")


def test_avatar_upload_sets_avatar_url_served_publicly_by_apache():
    u, tok = register()
    r = request("PUT", "/api/v1/users/me/avatar", raw=png(64, 48), token=tok, headers={"Content-Type": "image/jpeg"})
    expect(r.status == 200 and r.json["id"] == u["id"] and r.json["avatarUrl"].startswith("/avatars/"), r)
    url = r.json["avatarUrl"]
    a = request("GET", url)
    expect(a.status == 200 and a.header("Content-Type") == "image/webp" and a.body[8:12] == b"WEBP"
           and "immutable" in a.header("Cache-Control"), a)
    expect(api("GET", f"/users/{u['id']}", token=tok).json["avatarUrl"] == url, "the profile shows it")
    q = data(gql("{ me { avatarUrl } }", token=tok))
    expect(q["me"]["avatarUrl"] == url, q)
    expect_error(request("PUT", "/api/v1/users/me/avatar", raw=b"%PDF-1.4\n" + b"x" * 100, token=tok,
                         headers={"Content-Type": "image/png"}), 415, "unsupported_media_type")


def test_upload_rate_per_user_is_limited_with_retry_after():
    """upload_rate_per_min (30): the 31st upload of a minute is 429 with Retry-After; tus
    creations count (each reserves its declared length against the quota as well)."""
    u, tok = register()
    h = {"Tus-Resumable": "1.0.0", "Upload-Length": "10"}
    codes = [request("POST", "/api/v1/uploads/", token=tok, headers=h).status for _ in range(30)]
    expect(codes == [201] * 30, f"the first 30 are created: {codes}")
    r = request("POST", "/api/v1/uploads/", token=tok, headers=h)
    expect_error(r, 429, "rate_limited")
    expect(r.header("Retry-After") and int(r.header("Retry-After")) > 0, r)
    other, otok = register()
    expect(request("POST", "/api/v1/uploads/", token=otok, headers=h).status == 201, "per user")
