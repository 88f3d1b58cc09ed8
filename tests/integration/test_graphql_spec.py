"""GraphQL as a graphql-js 16 / Apollo client of 2026 sees it (issue 20, items 3
and 4): the September 2025 edition's OneOf input objects (Query.userBy takes
the @oneOf input UserBy) validated and coerced over HTTP, the introspection
compared by graphql-js itself (buildClientSchema, findBreakingChanges,
findDangerousChanges) with the published SDL, and the cost model published
with the IBM @cost/@listSize directives and returned in extensions.cost."""
import json
import os
import shutil
import subprocess

from agora_test import HTTP_PORT, ROOT, Skip, expect, register, request
from gql import channel, data, gql, post

STRICT = "application/graphql-response+json"
WEB = os.path.join(ROOT, "web")


def _messages(r):
    return [e.get("message") for e in (r.json or {}).get("errors", [])]


def test_introspection_matches_the_published_sdl_in_graphql_js():
    if not shutil.which("node"):
        raise Skip("node is not installed")
    if not os.path.exists(os.path.join(WEB, "node_modules", "graphql", "package.json")):
        raise Skip("web/node_modules/graphql is missing: ./agora did not run npm ci in web/")
    p = subprocess.run(["node", os.path.join(ROOT, "tests", "integration", "js", "schema_compare.cjs"),
                        f"http://127.0.0.1:{HTTP_PORT}", WEB],
                       capture_output=True, text=True, timeout=60)
    expect(p.returncode == 0 and p.stdout.strip(), f"node failed: {p.stderr[-2000:]}")
    out = json.loads(p.stdout)
    expect("crash" not in out, f"graphql-js: {out.get('crash')}")
    expect(out["version"].startswith("16."), f"graphql-js {out['version']}")
    expect(out["validSchema"] == [], f"graphql-js finds the schema invalid: {out['validSchema']}")
    expect(out["introspectionToSdl"] == [] and out["sdlToIntrospection"] == [],
           f"introspection and SDL differ: {out['introspectionToSdl']} / {out['sdlToIntrospection']}")
    if not out["samePrinted"]:
        import difflib
        diff = "\n".join(difflib.unified_diff(out["printedSdl"].splitlines(),
                                              out["printedClient"].splitlines(), lineterm=""))
        expect(False, f"printSchema differs between SDL and introspection:\n{diff[:3000]}")
    expect(out["oneOf"] == {"client": {"isOneOf": True, "directive": True},
                            "sdl": {"isOneOf": True, "directive": True}},
           f"UserBy is @oneOf on both sides: {out['oneOf']}")
    expect(out["argDep"], "graphql-js asked for deprecated arguments (inputValueDeprecation)")
    for d in ("include", "skip", "deprecated", "specifiedBy", "oneOf", "cost", "listSize"):
        expect(d in out["directives"], f"@{d} among the directives: {out['directives']}")


def test_oneof_input_takes_exactly_one_field_literal_or_variable():
    user, tok = register()
    uid, name = user["id"], user["username"]
    q = "query($by: UserBy!) { userBy(by: $by) { id username } }"
    expect(data(gql('{ userBy(by: { id: "%s" }) { username } }' % uid, token=tok))["userBy"]
           == {"username": name}, "by id (literal)")
    expect(data(gql(q, {"by": {"username": name}}, token=tok))["userBy"]
           == {"id": uid, "username": name}, "by username (variable)")
    expect(data(gql(q, {"by": {"username": "nobody_" + name}}, token=tok))["userBy"] is None,
           "an unknown username is null")
    r = gql('{ userBy(by: { id: "%s", username: "%s" }) { id } }' % (uid, name), token=tok,
            accept=STRICT)
    expect(r.status == 400 and _messages(r) == [
        'OneOf Input Object "UserBy" must specify exactly one key.'], f"two fields: {r.body!r}")
    r = gql('{ userBy(by: { id: null }) { id } }', token=tok, accept=STRICT)
    expect(r.status == 400 and _messages(r) == ['Field "UserBy.id" must be non-null.'],
           f"the null literal: {r.body!r}")
    r = gql('query($id: ID) { userBy(by: { id: $id }) { id } }', {"id": uid}, token=tok,
            accept=STRICT)
    expect(r.status == 400 and _messages(r) == [
        'Variable "$id" is of type "ID" but must be non-nullable to be used for OneOf Input '
        'Object "UserBy".'], f"a nullable variable: {r.body!r}")
    expect(data(gql('query($id: ID!) { userBy(by: { id: $id }) { id } }', {"id": uid},
                    token=tok))["userBy"] == {"id": uid}, "a non-null variable")
    for bad in ({"id": uid, "username": name}, {}, {"id": None}):
        r = gql(q, {"by": bad}, token=tok, accept=STRICT)
        expect(r.status == 400 and "errors" in r.json and "data" not in r.json,
               f"variables {bad}: refused as a request error: {r.body!r}")
    r = gql(q, {"by": {"id": uid, "username": name}}, token=tok)
    expect(any("Exactly one key must be specified for OneOf type \"UserBy\"" in m
               for m in _messages(r)), f"graphql-js's message: {r.body!r}")


def test_cost_is_published_and_returned_in_extensions():
    sdl = request("GET", "/graphql/schema.graphql").body.decode()
    expect("directive @cost(weight: Int!) on " in sdl and "directive @listSize(" in sdl,
           "the SDL declares the cost directives")
    expect('@listSize(assumedSize: 20, slicingArguments: ["first"], sizedFields: ["edges"], '
           'requireOneSlicingArgument: false)' in sdl.split("channelPosts(", 1)[1].split("\n")[0]
           or '@listSize(assumedSize: 20, slicingArguments: ["first"], sizedFields: ["edges"], '
           'requireOneSlicingArgument: false)' in sdl, "channelPosts is sized by first")
    expect("  body: String! @cost(weight: 1)\n" in sdl, "a leaf field costs 1")
    _, tok = register()
    cid = channel(tok)
    post(tok, cid, "one")
    post(tok, cid, "two")
    r = gql('{ channelPosts(channelId: "%s", first: 5) { edges { node { id } } } }' % cid,
            token=tok)
    cost = r.json.get("extensions", {}).get("cost")
    # 1 (channelPosts) + 5 x (edges 1 + node 1 + id 1); ran: channelPosts, edges, 2 x (node, id)
    expect(cost == {"estimated": 16, "actual": 6, "limit": 20000}, f"extensions.cost: {r.body!r}")
    r = gql('{ a: channelPosts(channelId: "%s", first: 100) { edges { node { id body author '
            '{ id username } comments(first: 100) { edges { node { id } } } } } } }' % cid,
            token=tok, accept=STRICT)
    cost = r.json.get("extensions", {}).get("cost", {})
    expect(r.status == 400 and cost.get("estimated", 0) > cost.get("limit", 0) > 0
           and cost.get("actual") == 0, f"a refused query says its cost: {r.body[:600]!r}")
