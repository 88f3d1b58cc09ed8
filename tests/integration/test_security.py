"""Security review as tests: the authorization matrix of every channel
operation (REST and GraphQL) for an outsider, a member, an admin and the
owner, on a public and a private channel; injection attempts; sizes at and
just over each limit; the Apache hardening an operator relies on."""
import json

from agora_test import api, expect, expect_error, register, request, unique
from gql import channel, data, error_codes, gql, post

ROLES = ("outsider", "member", "admin", "owner")

# expected outcome per (operation, visibility) for each role: "ok" or an error code
MATRIX = {
    "GET channel":        {"public": ("ok", "ok", "ok", "ok"), "private": ("not_found", "ok", "ok", "ok")},
    "GET members":        {"public": ("ok", "ok", "ok", "ok"), "private": ("not_found", "ok", "ok", "ok")},
    "PATCH channel":      {"public": ("forbidden", "forbidden", "ok", "ok"),
                           "private": ("not_found", "forbidden", "ok", "ok")},
    "PUT member (other)": {"public": ("forbidden", "forbidden", "ok", "ok"),
                           "private": ("not_found", "forbidden", "ok", "ok")},
    "gql channelPosts":   {"public": ("ok", "ok", "ok", "ok"), "private": ("forbidden", "ok", "ok", "ok")},
    "gql createPost":     {"public": ("forbidden", "ok", "ok", "ok"), "private": ("forbidden", "ok", "ok", "ok")},
    "gql createComment":  {"public": ("forbidden", "ok", "ok", "ok"), "private": ("forbidden", "ok", "ok", "ok")},
    "gql editPost (owner's)": {"public": ("forbidden", "forbidden", "forbidden", "ok"),
                               "private": ("forbidden", "forbidden", "forbidden", "ok")},
    "gql deletePost (member's)": {"public": ("forbidden", "ok", "ok", "ok"),
                                  "private": ("forbidden", "ok", "ok", "ok")},
    "DELETE channel":     {"public": ("forbidden", "forbidden", "ok", "ok"),
                           "private": ("not_found", "forbidden", "ok", "ok")},
    # issue 17: reactions, edits and deletes of comments and replies, attachment reads
    "gql addReaction":    {"public": ("forbidden", "ok", "ok", "ok"), "private": ("forbidden", "ok", "ok", "ok")},
    "gql editComment (member's)": {"public": ("forbidden", "ok", "forbidden", "forbidden"),
                                   "private": ("forbidden", "ok", "forbidden", "forbidden")},
    "gql deleteComment (member's)": {"public": ("forbidden", "ok", "ok", "ok"),
                                     "private": ("forbidden", "ok", "ok", "ok")},
    "gql editReply (member's)": {"public": ("forbidden", "ok", "forbidden", "forbidden"),
                                 "private": ("forbidden", "ok", "forbidden", "forbidden")},
    "gql deleteReply (member's)": {"public": ("forbidden", "ok", "ok", "ok"),
                                   "private": ("forbidden", "ok", "ok", "ok")},
    "read attachment":    {"public": ("ok", "ok", "ok", "ok"), "private": ("not_found", "ok", "ok", "ok")},
}

# The member-role matrix (issue 15 item 7): promote (role admin), demote (role
# member) and remove, each acting on a member, another admin and the owner. A
# role change follows the rule of removal: the owner and admins manage members,
# only the owner manages admins, nobody changes or removes the owner (the owner
# itself: 409, ownership moves with POST /channels/{id}/owner). Every target is
# fresh, so an operation that succeeds spoils nothing for the next one.
def _both(outsider_public, rest):
    return {"public": (outsider_public,) + rest, "private": ("not_found",) + rest}


MATRIX.update({
    "promote member":     _both("forbidden", ("forbidden", "ok", "ok")),
    "demote member":      _both("forbidden", ("forbidden", "ok", "ok")),
    "remove member":      _both("forbidden", ("forbidden", "ok", "ok")),
    "promote admin":      _both("forbidden", ("forbidden", "forbidden", "ok")),
    "demote admin":       _both("forbidden", ("forbidden", "forbidden", "ok")),
    "remove admin":       _both("forbidden", ("forbidden", "forbidden", "ok")),
    "promote owner":      _both("forbidden", ("forbidden", "forbidden", "conflict")),
    "demote owner":       _both("forbidden", ("forbidden", "forbidden", "conflict")),
    "remove owner":       _both("forbidden", ("forbidden", "forbidden", "conflict")),
    # on oneself: an outsider joining a public channel with role member is a join
    "promote self":       _both("forbidden", ("forbidden", "ok", "conflict")),
    "demote self":        _both("ok", ("ok", "ok", "conflict")),
    "remove self":        _both("ok", ("ok", "ok", "conflict")),
    "transfer ownership": _both("forbidden", ("forbidden", "forbidden", "ok")),
})
ROLE_OPS = {"promote": "admin", "demote": "member"}


def _setup(visibility):
    users = {r: register() for r in ROLES}
    otok = users["owner"][1]
    cid = channel(otok, visibility)
    api("PUT", f"/channels/{cid}/members/{users['member'][0]['id']}", {}, token=otok)
    api("PUT", f"/channels/{cid}/members/{users['admin'][0]['id']}", {"role": "admin"}, token=otok)
    return users, cid


def _rest(r):
    if 200 <= r.status < 300:
        return "ok"
    return r.json["error"]["code"]


def _gql(r):
    codes = error_codes(r)
    return codes[0] if codes else "ok"


def _run(op, users, cid, role):
    uid, tok = users[role][0]["id"], users[role][1]
    otok = users["owner"][1]
    if op == "GET channel":
        return _rest(api("GET", f"/channels/{cid}", token=tok))
    if op == "GET members":
        return _rest(api("GET", f"/channels/{cid}/members", token=tok))
    if op == "PATCH channel":
        return _rest(api("PATCH", f"/channels/{cid}", {"topic": role}, token=tok))
    if op == "PUT member (other)":
        newbie, _ = register()
        return _rest(api("PUT", f"/channels/{cid}/members/{newbie['id']}", {}, token=tok))
    if op == "gql channelPosts":
        return _gql(gql("query($c: ID!) { channelPosts(channelId: $c) { edges { node { id } } } }", {"c": cid}, tok))
    if op == "gql createPost":
        return _gql(gql("mutation($c: ID!) { createPost(channelId: $c, body: \"m\") { id } }", {"c": cid}, tok))
    if op == "gql createComment":
        p = post(otok, cid)
        return _gql(gql("mutation($p: ID!) { createComment(postId: $p, body: \"c\") { id } }", {"p": p["id"]}, tok))
    if op == "gql editPost (owner's)":
        p = post(otok, cid)
        return _gql(gql("mutation($p: ID!) { editPost(id: $p, body: \"e\") { id } }", {"p": p["id"]}, tok))
    if op == "gql deletePost (member's)":
        p = post(users["member"][1], cid)
        return _gql(gql("mutation($p: ID!) { deletePost(id: $p) }", {"p": p["id"]}, tok))
    if op == "gql addReaction":
        p = post(otok, cid)
        return _gql(gql("mutation($p: ID!) { addReaction(targetId: $p, emoji: \"👍\") { count } }", {"p": p["id"]}, tok))
    if op in ("gql editComment (member's)", "gql deleteComment (member's)", "gql editReply (member's)",
              "gql deleteReply (member's)"):
        mtok = users["member"][1]
        p = post(otok, cid)
        c = data(gql("mutation($p: ID!) { createComment(postId: $p, body: \"c\") { id } }", {"p": p["id"]}, mtok))
        target = c["createComment"]["id"]
        if "Reply" in op:
            r = data(gql("mutation($c: ID!) { createReply(commentId: $c, body: \"r\") { id } }", {"c": target}, mtok))
            target = r["createReply"]["id"]
        kind = "Comment" if "Comment" in op else "Reply"
        if op.startswith("gql edit"):
            return _gql(gql(f"mutation($i: ID!) {{ edit{kind}(id: $i, body: \"e\") {{ id }} }}", {"i": target}, tok))
        return _gql(gql(f"mutation($i: ID!) {{ delete{kind}(id: $i) }}", {"i": target}, tok))
    if op == "read attachment":
        t = request("POST", "/api/v1/uploads", raw=b"a file for the channel\n", token=otok,
                    headers={"Content-Type": "text/plain"}).json
        data(gql("mutation($c: ID!, $a: [ID!]) { createPost(channelId: $c, body: \"f\", attachmentIds: $a) { id } }",
                 {"c": cid, "a": [t["id"]]}, otok))
        return _rest(request("GET", t["url"], token=tok))
    if op == "DELETE channel":
        mine = _setup_fresh_channel(users, cid)
        return _rest(api("DELETE", f"/channels/{mine}", token=tok))
    if op == "transfer ownership":
        mine = _setup_fresh_channel(users, cid)
        heir, _ = register()
        api("PUT", f"/channels/{mine}/members/{heir['id']}", {}, token=otok)
        return _rest(api("POST", f"/channels/{mine}/owner", {"userId": heir["id"]}, token=tok))
    verb, target = op.split(" ")
    c = cid
    if target == "self":
        c = _setup_fresh_channel(users, cid)  # a self-demotion must not change the next rows
        tid = uid
    elif target == "owner":
        tid = users["owner"][0]["id"]
    else:
        t, _ = register()
        role = {"member": "member", "admin": "admin"}[target]
        r = api("PUT", f"/channels/{cid}/members/{t['id']}", {"role": role}, token=otok)
        expect(r.status == 201 and r.json["role"] == role, f"set-up of a fresh {role}: {r!r}")
        tid = t["id"]
    before = _role_of(c, tid, otok)
    if verb == "remove":
        got = _rest(api("DELETE", f"/channels/{c}/members/{tid}", token=tok))
    else:
        got = _rest(api("PUT", f"/channels/{c}/members/{tid}", {"role": ROLE_OPS[verb]}, token=tok))
    after = _role_of(c, tid, otok)
    # a refusal changes nothing; a success does what it says (else the table shows it)
    if got != "ok":
        return got if after == before else f"{got}+changed"
    if (verb == "remove" and after is not None) or (verb != "remove" and after != ROLE_OPS[verb]):
        return "ok+noeffect"
    return got


def _role_of(cid, uid, otok):
    """The role of uid in channel cid as the owner sees it (None: not a member)."""
    after = None
    while True:
        r = api("GET", f"/channels/{cid}/members?limit=100" + (f"&after={after}" if after else ""),
                token=otok)
        expect(r.status == 200, r)
        for m in r.json["items"]:
            if m["userId"] == uid:
                return m["role"]
        after = r.json["next"]
        if not after:
            return None


def _setup_fresh_channel(users, cid):
    # a fresh channel with the same membership, so a successful delete spoils nothing
    vis = api("GET", f"/channels/{cid}", token=users["owner"][1]).json["visibility"]
    otok = users["owner"][1]
    c = channel(otok, vis)
    api("PUT", f"/channels/{c}/members/{users['member'][0]['id']}", {}, token=otok)
    api("PUT", f"/channels/{c}/members/{users['admin'][0]['id']}", {"role": "admin"}, token=otok)
    return c


def _matrix(visibility):
    users, cid = _setup(visibility)
    wrong = []
    lines = []
    for op, want in MATRIX.items():
        got = tuple(_run(op, users, cid, role) for role in ROLES)
        lines.append(f"    {op:28} {' '.join(f'{g:12}' for g in got)}")
        if got != want[visibility]:
            wrong.append(f"{op}: got {got}, want {want[visibility]}")
    print(f"    {visibility + ' channel:':28} {' '.join(f'{r:12}' for r in ROLES)}")
    print("\n".join(lines))
    expect(not wrong, "\n".join(wrong))


def test_authorization_matrix_public_channel():
    _matrix("public")


def test_authorization_matrix_private_channel():
    _matrix("private")


def test_path_and_header_injection_are_inert():
    u, tok = register()
    # Apache itself refuses a NUL (%00) and a bad escape (%ZZ) before any program runs
    for path, ours in [("/users/..%2f..%2fetc%2fpasswd", True), ("/users/1%00", False), ("/users/%ZZ", False),
                       ("/users/1;DROP%20TABLE%20users", True), ("/channels/1/../../users/x", True),
                       ("/users/" + "9" * 40, True)]:
        r = api("GET", path, token=tok)
        expect(r.status in (400, 404), f"{path}: {r!r}")
        if ours:
            expect("json" in (r.header("Content-Type") or "") and r.json["error"]["code"] in ("not_found", "bad_request"),
                   f"{path}: the API's envelope: {r!r}")
    evil = "x\r\nSet-Cookie: pwned=1"
    r = api("PATCH", f"/users/{u['id']}", {"displayName": evil}, token=tok)
    expect(r.status == 400, f"control characters refused in a display name: {r!r}")
    r = api("GET", "/users/me", token=tok)
    expect(all(k.lower() != "set-cookie" for k, _ in r.headers), "no header injected")
    r = request("GET", "/api/v1/" + "a" * 9000)
    expect(r.status in (404, 414), f"a very long path is refused: {r.status}")


def test_sizes_at_and_over_each_limit():
    # REST body 64 KiB: a body of exactly the limit is read, one byte more is 413
    base = {"username": unique(), "password": "password123", "pad": ""}
    room = 65536 - len(json.dumps(base))
    at = json.dumps(dict(base, pad="x" * room)).encode()
    expect(len(at) == 65536, len(at))
    r = request("POST", "/api/v1/auth/register", raw=at, headers={"Content-Type": "application/json"})
    expect(r.status == 201, f"exactly 64 KiB is accepted: {r!r}")
    over = json.dumps(dict(base, username=unique(), pad="x" * (room + 1))).encode()
    expect_error(request("POST", "/api/v1/auth/register", raw=over, headers={"Content-Type": "application/json"}),
                 413, "payload_too_large")
    # usernames 3..32, passwords 8..128, channel names 1..80
    expect(api("POST", "/auth/register", {"username": unique()[:3] + "x" * 29,
                                          "password": "p" * 128}).status == 201, "32 chars, 128-char password")
    expect_error(api("POST", "/auth/register", {"username": "ab", "password": "p" * 8}), 400, "bad_request")
    expect_error(api("POST", "/auth/register", {"username": unique(), "password": "p" * 7}), 400, "bad_request")
    u, tok = register()
    expect(api("POST", "/channels", {"name": "n" * 80, "visibility": "public"}, token=tok).status == 201, "80")
    expect_error(api("POST", "/channels", {"name": "n" * 81, "visibility": "public"}, token=tok), 400, "bad_request")
    # GraphQL body 256 KiB
    q = "{ me { id } }"
    body = json.dumps({"query": q + " " * (262144 - len(json.dumps({"query": q})))}).encode()
    expect(len(body) == 262144, len(body))
    r = request("POST", "/graphql", raw=body, headers={"Content-Type": "application/json", "Authorization": "Bearer " + tok})
    expect(r.status != 413, f"exactly 256 KiB is read: {r.status}")
    r = request("POST", "/graphql", raw=body + b" ", headers={"Content-Type": "application/json"})
    expect(r.status == 413, f"one byte more is 413: {r.status}")
    # page sizes clamp at 100
    expect(len(api("GET", "/users?limit=101", token=tok).json["items"]) <= 100, "limit clamped")
    cid = channel(tok)
    r = gql("query($c: ID!) { channelPosts(channelId: $c, first: 1000) { edges { node { id } } } }", {"c": cid}, tok)
    expect(r.status == 200 and r.json.get("data"), f"first above 100 is clamped, not refused: {r!r}")


def test_apache_hardening():
    r = request("GET", "/")
    expect(r.header("Server") == "Apache", f"no version in Server: {r.header('Server')}")
    for h, v in [("X-Content-Type-Options", "nosniff"), ("X-Frame-Options", "DENY"), ("Referrer-Policy", "no-referrer")]:
        expect(r.header(h) == v, f"{h}: {r.header(h)}")
    r = api("GET", "/health")
    expect(r.header("X-Content-Type-Options") == "nosniff", "API responses carry the headers too")
    r = request("TRACE", "/")
    expect(r.status in (403, 405), f"TRACE disabled: {r.status}")
    r = request("GET", "/graphiql/")
    expect(b"Index of" not in r.body, "no directory listing")
