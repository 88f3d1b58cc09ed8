"""GraphQL over HTTP (CONTRACT §3, §5): every field, auth, authorization, HTTP
semantics, events of each mutation, limits."""
import json
import re

from agora_test import Nats, api, expect, register, request
from gql import channel, data, error_codes, gql, gql_get, post

POST_FIELDS = "id channelId body createdAt editedAt commentCount author { id username displayName }"


def test_create_post_then_read_it_in_channel_posts_with_author():
    u, tok = register(display="Ana")
    cid = channel(tok)
    p = post(tok, cid, "first!")
    expect(re.fullmatch(r"[0-9a-f]{24}", p["id"]), p)
    expect(p["channelId"] == cid and p["author"]["id"] == u["id"], p)
    expect(re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", p["createdAt"]), p["createdAt"])
    d = data(gql(f"query($c: ID!) {{ channelPosts(channelId: $c, first: 5) {{ edges {{ cursor node {{ {POST_FIELDS} }} }} "
                 "pageInfo { hasNextPage endCursor } } }", {"c": cid}, tok))
    edges = d["channelPosts"]["edges"]
    expect(len(edges) == 1 and edges[0]["node"]["body"] == "first!", edges)
    expect(edges[0]["node"]["author"]["displayName"] == "Ana", edges)
    expect(d["channelPosts"]["pageInfo"] == {"hasNextPage": False, "endCursor": edges[0]["cursor"]}, d)


def test_channel_posts_pagination_newest_first_no_dups():
    u, tok = register()
    cid = channel(tok)
    made = [post(tok, cid, f"p{i}")["id"] for i in range(7)]
    seen, after = [], None
    while True:
        d = data(gql("query($c: ID!, $a: String) { channelPosts(channelId: $c, first: 3, after: $a) "
                     "{ edges { node { id } } pageInfo { hasNextPage endCursor } } }", {"c": cid, "a": after}, tok))
        seen += [e["node"]["id"] for e in d["channelPosts"]["edges"]]
        if not d["channelPosts"]["pageInfo"]["hasNextPage"]:
            break
        after = d["channelPosts"]["pageInfo"]["endCursor"]
    expect(seen == list(reversed(made)), f"newest first, complete: {seen} vs {made}")


def test_comments_replies_counts_and_nested_connections():
    u, tok = register()
    cid = channel(tok)
    p = post(tok, cid)
    c = data(gql("mutation($p: ID!) { createComment(postId: $p, body: \"nice\") { id body replyCount post { id } author { id } } }",
                 {"p": p["id"]}, tok))["createComment"]
    expect(c["post"]["id"] == p["id"] and c["replyCount"] == 0, c)
    r = data(gql("mutation($c: ID!) { createReply(commentId: $c, body: \"thanks\") { id body comment { id } author { username } } }",
                 {"c": c["id"]}, tok))["createReply"]
    expect(r["comment"]["id"] == c["id"] and r["author"]["username"] == u["username"], r)
    d = data(gql("query($p: ID!) { post(id: $p) { commentCount comments { edges { node { id replyCount "
                 "replies { edges { node { id body } } } } } } } }", {"p": p["id"]}, tok))
    expect(d["post"]["commentCount"] == 1, d)
    cn = d["post"]["comments"]["edges"][0]["node"]
    expect(cn["replyCount"] == 1 and cn["replies"]["edges"][0]["node"]["body"] == "thanks", cn)
    expect(data(gql("query($c: ID!) { comment(id: $c) { id } }", {"c": c["id"]}, tok))["comment"]["id"] == c["id"], "comment()")
    expect(data(gql("query($r: ID!) { reply(id: $r) { id } }", {"r": r["id"]}, tok))["reply"]["id"] == r["id"], "reply()")


def test_edit_and_delete_rules():
    a, atok = register()
    b, btok = register()
    cid = channel(atok)
    api("PUT", f"/channels/{cid}/members/{b['id']}", {}, token=btok)
    p = post(atok, cid)
    r = gql("mutation($p: ID!) { editPost(id: $p, body: \"hack\") { id } }", {"p": p["id"]}, btok)
    expect("forbidden" in error_codes(r), r)
    e = data(gql("mutation($p: ID!) { editPost(id: $p, body: \"better\") { body editedAt } }", {"p": p["id"]}, atok))
    expect(e["editPost"]["body"] == "better" and e["editPost"]["editedAt"], e)
    bp = post(btok, cid)
    # the owner may delete a member's post; the member may not delete the owner's
    expect("forbidden" in error_codes(gql("mutation($p: ID!) { deletePost(id: $p) }", {"p": p["id"]}, btok)), "member")
    expect(data(gql("mutation($p: ID!) { deletePost(id: $p) }", {"p": bp["id"]}, atok))["deletePost"] is True, "owner")
    expect(data(gql("query($p: ID!) { post(id: $p) { id } }", {"p": bp["id"]}, atok))["post"] is None, "gone")


def test_private_channel_read_and_write_are_forbidden_to_outsiders():
    a, atok = register()
    x, xtok = register()
    cid = channel(atok, "private")
    p = post(atok, cid)
    r = gql("query($c: ID!) { channelPosts(channelId: $c) { edges { node { id } } } }", {"c": cid}, xtok)
    expect(r.status == 200 and r.json["data"] is None and "forbidden" in error_codes(r), r)
    r = gql("query($p: ID!) { post(id: $p) { id } }", {"p": p["id"]}, xtok)
    expect(r.json["data"]["post"] is None and "forbidden" in error_codes(r), r)
    r = gql("mutation($c: ID!) { createPost(channelId: $c, body: \"x\") { id } }", {"c": cid}, xtok)
    expect("forbidden" in error_codes(r), r)
    # a public channel is readable by anyone signed in, writable by members only
    pub = channel(atok)
    post(atok, pub)
    expect(len(data(gql("query($c: ID!) { channelPosts(channelId: $c) { edges { node { id } } } }", {"c": pub}, xtok))
               ["channelPosts"]["edges"]) == 1, "public readable")
    r = gql("mutation($c: ID!) { createPost(channelId: $c, body: \"x\") { id } }", {"c": pub}, xtok)
    expect("forbidden" in error_codes(r), r)


def test_direct_messages_both_ways_and_privacy():
    a, atok = register()
    b, btok = register()
    c, ctok = register()
    d = data(gql("mutation($t: ID!) { sendDirectMessage(toUserId: $t, body: \"hi b\") { id from { id } to { id } body } }",
                 {"t": b["id"]}, atok))["sendDirectMessage"]
    expect(d["from"]["id"] == a["id"] and d["to"]["id"] == b["id"], d)
    data(gql("mutation($t: ID!) { sendDirectMessage(toUserId: $t, body: \"hi a\") { id } }", {"t": a["id"]}, btok))
    conv = data(gql("query($u: ID!) { directMessages(withUserId: $u) { edges { node { body } } } }", {"u": a["id"]}, btok))
    expect([e["node"]["body"] for e in conv["directMessages"]["edges"]] == ["hi a", "hi b"], conv)
    expect(data(gql("query($i: ID!) { directMessage(id: $i) { body } }", {"i": d["id"]}, btok))["directMessage"]["body"] == "hi b", "to")
    r = gql("query($i: ID!) { directMessage(id: $i) { body } }", {"i": d["id"]}, ctok)
    expect(r.json["data"]["directMessage"] is None and "forbidden" in error_codes(r), r)
    r = gql("mutation { sendDirectMessage(toUserId: \"999999999\", body: \"x\") { id } }", token=atok)
    expect("not_found" in error_codes(r), r)


def test_each_mutation_publishes_its_event():
    u, tok = register()
    v, vtok = register()
    cid = channel(tok)
    nats = Nats(f"channel.{cid}.message.*", f"user.{v['id']}.dm")
    p = post(tok, cid)
    nats.wait_for(f"channel.{cid}.message.created", lambda m: m == {"messageId": p["id"]})
    data(gql("mutation($p: ID!) { editPost(id: $p, body: \"e\") { id } }", {"p": p["id"]}, tok))
    nats.wait_for(f"channel.{cid}.message.updated", lambda m: m["messageId"] == p["id"])
    c = data(gql("mutation($p: ID!) { createComment(postId: $p, body: \"c\") { id } }", {"p": p["id"]}, tok))["createComment"]
    nats.wait_for(f"channel.{cid}.message.commented", lambda m: m["postId"] == p["id"] and m["commentId"] == c["id"])
    r = data(gql("mutation($c: ID!) { createReply(commentId: $c, body: \"r\") { id } }", {"c": c["id"]}, tok))["createReply"]
    nats.wait_for(f"channel.{cid}.message.replied", lambda m: m["commentId"] == c["id"] and m["replyId"] == r["id"])
    d = data(gql("mutation($t: ID!) { sendDirectMessage(toUserId: $t, body: \"d\") { id } }", {"t": v["id"]}, tok))
    nats.wait_for(f"user.{v['id']}.dm", lambda m: m["messageId"] == d["sendDirectMessage"]["id"] and m["from"] == u["id"])
    data(gql("mutation($p: ID!) { deletePost(id: $p) }", {"p": p["id"]}, tok))
    nats.wait_for(f"channel.{cid}.message.deleted", lambda m: m["messageId"] == p["id"])
    nats.close()


def test_auth_rules_anonymous_and_bad_token():
    r = gql("{ me { id } }")
    expect(r.status == 200 and r.json["data"]["me"] is None and not r.json.get("errors"), r)
    r = gql("{ __schema { queryType { name } } }")
    expect(data(r)["__schema"]["queryType"]["name"] == "Query", "introspection without a token")
    r = gql("{ post(id: \"6566b1f0c2a4e81d3c9f0a12\") { id } }")
    expect("unauthenticated" in error_codes(r), r)
    r = gql("{ me { id } }", token="not-a-token")
    expect(r.status == 401, r)
    u, tok = register()
    expect(data(gql("{ me { id username } }", token=tok))["me"]["id"] == u["id"], "me")


def test_http_semantics_status_codes_and_get():
    u, tok = register()
    strict = "application/graphql-response+json"
    r = gql("{ me { id ", accept=strict)
    expect(r.status == 400 and r.header("Content-Type").startswith(strict), r)
    expect(r.json["errors"][0]["locations"] == [{"line": 1, "column": 11}], r.json)
    r = gql("{ me { id ", accept="application/json")
    expect(r.status == 200 and "data" not in r.json and r.json["errors"], r)
    r = gql("{ nope }", accept=strict)
    expect(r.status == 400 and "nope" in r.json["errors"][0]["message"], r)
    r = gql_get("{ me { id } }", token=tok)
    expect(data(r)["me"]["id"] == u["id"], r)
    r = gql_get("mutation { deletePost(id: \"6566b1f0c2a4e81d3c9f0a12\") }", token=tok)
    expect(r.status == 405 and r.header("Allow") == "POST", r)
    r = request("POST", "/graphql", raw=b"{bad json", headers={"Content-Type": "application/json"})
    expect(r.status == 400, r)
    r = request("POST", "/graphql", raw=b"query", headers={"Content-Type": "text/plain"})
    expect(r.status == 415, r)
    r = request("GET", "/graphql/schema.graphql")
    sdl = r.body.decode()
    expect(r.status == 200 and "type Query {" in sdl and "scalar DateTime" in sdl, r)
    expect(re.search(r"createPost\([^)]*channelId: ID![^)]*body: String![^)]*\): Post!", sdl), sdl[:2000])
    expect(re.search(r"type PostConnection \{[^}]*edges: \[PostEdge!\]![^}]*pageInfo: PageInfo!", sdl), "connections")


def test_limits_depth_size_and_bad_ids():
    u, tok = register()
    nested = "query { post(id: \"6566b1f0c2a4e81d3c9f0a12\") { " + "comments { edges { node { post { " * 10 + "id" + " } } } }" * 10 + " } }"
    r = gql(nested, token=tok, accept="application/graphql-response+json")
    expect(r.status == 400 and any("depth" in e["message"].lower() for e in r.json["errors"]), r)
    big = "{ me { id } }" + " " * (2 * 1024 * 1024)
    r = request("POST", "/graphql", raw=json.dumps({"query": big}).encode(), headers={"Content-Type": "application/json"})
    expect(r.status == 413, r)
    for bad in ["nope", "6566b1f0c2a4e81d3c9f0a1", "zz66b1f0c2a4e81d3c9f0a12", "' OR 1=1 --"]:
        r = gql("query($i: ID!) { post(id: $i) { id } }", {"i": bad}, tok)
        expect(r.status == 200 and r.json["data"]["post"] is None, f"{bad}: {r!r}")
    r = gql("mutation { createPost(channelId: \"1\", body: \"\") { id } }", token=tok)
    expect(r.json.get("errors"), r)
    cid = channel(tok)
    r = gql("mutation($c: ID!, $b: String!) { createPost(channelId: $c, body: $b) { id } }", {"c": cid, "b": "x" * 10001}, tok)
    expect("bad_request" in error_codes(r), r)


def test_graphiql_is_served_from_npm_builds():
    r = request("GET", "/graphiql")
    expect(r.status in (301, 302) and r.header("Location").endswith("/graphiql/"), r)
    r = request("GET", "/graphiql/")
    expect(r.status == 200 and b"graphiql.min.js" in r.body and b"graphiql-init.js" in r.body, r)
    for f, marker in [("graphiql.min.js", b"webpack"), ("react.production.min.js", b"React"),
                      ("react-dom.production.min.js", b"react"), ("graphiql.min.css", b".graphiql-")]:
        r = request("GET", "/graphiql/" + f)
        expect(r.status == 200 and marker in r.body, f"{f}: {r.status}")
    expect(request("GET", "/graphiql/nope.js").status == 404, "no listing, no fallthrough")


def test_nats_down_write_is_kept_for_the_outbox_and_store_down_is_unavailable():
    from agora_test import eventually, on_cleanup, svc
    u, tok = register()
    cid = channel(tok)
    svc("stop", "nats")
    on_cleanup(lambda: svc("start", "nats"))
    p = post(tok, cid, "written while NATS is down")
    got = data(gql("query($p: ID!) { post(id: $p) { body } }", {"p": p["id"]}, tok))
    expect(got["post"]["body"] == "written while NATS is down", "the write is stored")
    import subprocess
    from agora_test import PG_PORT
    pending = subprocess.run(["psql", "-h", "127.0.0.1", "-p", str(PG_PORT), "-U", "agora", "-d", "agora", "-tAc",
                              f"SELECT count(*) FROM content_outbox WHERE msg_id = '{p['id']}-created' "
                              "AND published_at IS NULL"], capture_output=True, text=True)
    expect(pending.stdout.strip() == "1", f"its event waits in the outbox: {pending.stdout!r} {pending.stderr!r}")
    svc("start", "nats")
    eventually(lambda: api("GET", "/health").status == 200, timeout=15, what="NATS back")
    svc("stop", "postgres")
    on_cleanup(lambda: svc("start", "postgres"))
    r = gql("mutation($c: ID!) { createPost(channelId: $c, body: \"x\") { id } }", {"c": cid}, tok)
    expect(r.status in (200, 503), r)
    expect(r.status == 503 or "unavailable" in error_codes(r), f"store down is 'unavailable': {r!r}")
    svc("start", "postgres")
    eventually(lambda: gql("{ me { id } }", token=tok).status == 200, timeout=15, what="PostgreSQL back")
