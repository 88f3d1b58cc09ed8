"""Persisted documents (issue 20, item 2): Apollo's automatic persisted queries
(extensions.persistedQuery, version 1) over GET and POST, with the hash
checked, the texts kept per worker and in Redis, GET answers that Apache's
cache may keep (anonymous and clean only), and the trusted-documents mode
where only the web client's build manifest runs."""
import hashlib
import json
import os
import shutil
import subprocess
import urllib.parse

from agora_test import (HTTP_PORT, ROOT, Skip, VAR, expect, fresh_source, on_cleanup,
                        redis_cli, register, request)
from gql import channel, data, gql, post

STRICT = "application/graphql-response+json"
WEB = os.path.join(ROOT, "web")
MANIFEST = os.path.join(WEB, "dist", "persisted-query-manifest.json")


def _sha(text):
    return hashlib.sha256(text.encode()).hexdigest()


def _ext(h):
    return {"persistedQuery": {"version": 1, "sha256Hash": h}}


def _get(h, query=None, variables=None, token=None, accept="application/json"):
    q = {"extensions": json.dumps(_ext(h))}
    if query is not None:
        q["query"] = query
    if variables is not None:
        q["variables"] = json.dumps(variables)
    h = {"Accept": accept}
    if token:
        h["Authorization"] = "Bearer " + token
    return request("GET", "/graphql?" + urllib.parse.urlencode(q), headers=h,
                   source=fresh_source())


def _post(h, query=None, variables=None, token=None, accept="application/json"):
    body = {"extensions": _ext(h)}
    if query is not None:
        body["query"] = query
    if variables is not None:
        body["variables"] = variables
    hd = {"Content-Type": "application/json", "Accept": accept}
    if token:
        hd["Authorization"] = "Bearer " + token
    return request("POST", "/graphql", raw=json.dumps(body).encode(), headers=hd,
                   source=fresh_source())


def _codes(r):
    return [e.get("extensions", {}).get("code") for e in (r.json or {}).get("errors", [])]


def test_apq_round_trip_over_get_cacheable_by_apache():
    # a text of this run only: neither this worker's LRU nor Redis has seen it
    text = "query Anon%s { me { id } }" % os.urandom(4).hex()
    h = _sha(text)
    r = _get(h)
    expect(r.status == 200 and _codes(r) == ["PERSISTED_QUERY_NOT_FOUND"]
           and r.json["errors"][0]["message"] == "PersistedQueryNotFound",
           f"an unknown hash: PersistedQueryNotFound, HTTP 200: {r.status} {r.body!r}")
    expect(r.header("Cache-Control") == "no-store", "a miss is never cached")
    r = _get(h, query=text)
    expect(r.status == 200 and r.json.get("data") == {"me": None}, f"registered: {r.body!r}")
    expect(r.header("Cache-Control") == "public, max-age=60"
           and "Authorization" in (r.header("Vary") or ""),
           f"an anonymous clean GET answer is public: {r.headers}")
    expect(redis_cli("GET", "gql:apq:" + h) == text, "the text is kept in Redis for the pool")
    first = _get(h)
    expect(first.status == 200 and first.json.get("data") == {"me": None},
           f"the hash alone runs it now: {first.body!r}")
    second = _get(h)
    expect(second.json.get("data") == {"me": None}
           and "HIT" in (second.header("X-Cache") or ""),
           f"Apache's cache answers the same GET: X-Cache {second.header('X-Cache')!r}")
    r = _get(_sha(text + " "), query=text)
    expect(r.status == 400 and _codes(r) == ["PERSISTED_QUERY_HASH_MISMATCH"],
           f"a hash that is not the text's: {r.status} {r.body!r}")
    junk = "query Junk%s { nope }" % os.urandom(4).hex()
    r = _get(_sha(junk), query=junk)
    expect(r.status == 200 and r.json.get("errors") and "data" not in r.json,
           f"an invalid document with its hash: {r.body!r}")
    expect(redis_cli("GET", "gql:apq:" + _sha(junk)) == ""
           and _codes(_get(_sha(junk))) == ["PERSISTED_QUERY_NOT_FOUND"],
           "an invalid document is never kept")
    bad = request("GET", "/graphql?" + urllib.parse.urlencode(
        {"extensions": json.dumps({"persistedQuery": {"version": 2, "sha256Hash": h}})}))
    expect(bad.status == 400 and _codes(bad) == ["bad_request"], f"version 2: {bad.body!r}")


def test_apq_signed_in_post_and_get_never_shared_mutation_refused_over_get():
    user, tok = register()
    cid = channel(tok)
    post(tok, cid, "persisted")
    text = ("query Posts%s($c: ID!) { channelPosts(channelId: $c, first: 5) { edges { node "
            "{ body } } } }" % os.urandom(4).hex())
    h = _sha(text)
    r = _post(h, variables={"c": cid}, token=tok, accept=STRICT)
    expect(r.status == 200 and _codes(r) == ["PERSISTED_QUERY_NOT_FOUND"],
           f"POST, unknown hash: 200 even with graphql-response+json: {r.status} {r.body!r}")
    expect(data(_post(h, text, {"c": cid}, tok))["channelPosts"]["edges"][0]["node"]["body"]
           == "persisted", "POST registers and runs")
    r = _get(h, variables={"c": cid}, token=tok)
    expect(data(r)["channelPosts"]["edges"][0]["node"]["body"] == "persisted",
           "GET by hash with variables")
    expect(r.header("Cache-Control") == "private, no-store",
           f"a signed-in answer is never stored: {r.header('Cache-Control')!r}")
    m = "mutation Del%s($id: ID!) { deletePost(id: $id) }" % os.urandom(4).hex()
    r = _post(_sha(m), m, {"id": "0" * 24}, tok)
    expect(r.status == 200, f"a mutation registers over POST: {r.body!r}")
    r = _get(_sha(m), variables={"id": "0" * 24}, token=tok)
    expect(r.status == 405 and r.header("Allow") == "POST"
           and r.header("Cache-Control") == "no-store",
           f"the mutation's hash over GET: 405, not stored: {r.status} {r.headers}")


def _fcgi_with(env):
    """Restart the FastCGI pool with extra environment (the config keys)."""
    base = dict(os.environ, AGORA_PROFILE="test")
    agora = os.path.join(ROOT, "agora")
    subprocess.run([agora, "svc", "stop", "fcgi"], check=True, env=base, stdout=subprocess.DEVNULL)
    subprocess.run([agora, "svc", "start", "fcgi"], check=True, env=dict(base, **env),
                   stdout=subprocess.DEVNULL)


def test_trusted_documents_only_the_manifest_runs():
    if not os.path.exists(MANIFEST):
        raise Skip("web/dist/persisted-query-manifest.json is missing: ./agora did not build web/")
    if not shutil.which("node"):
        raise Skip("node is not installed")
    with open(MANIFEST) as f:
        ops = {o["name"]: o for o in json.load(f)["operations"]}
    expect({"ChannelPosts", "CreatePost", "Post"} <= set(ops), f"the manifest: {sorted(ops)}")
    user, tok = register()
    cid = channel(tok)
    post(tok, cid, "before")
    on_cleanup(lambda: _fcgi_with({}))
    _fcgi_with({"AGORA_GRAPHQL_TRUSTED_DOCUMENTS": MANIFEST})

    r = gql("{ me { id username } }", token=tok, accept=STRICT)
    expect(r.status == 400 and _codes(r) == ["QUERY_NOT_IN_SAFELIST"] and "data" not in r.json,
           f"an unknown document is refused: {r.status} {r.body!r}")
    r = _get(_sha("{ me { id } }"), token=tok)
    expect(r.status == 400 and _codes(r) == ["PERSISTED_QUERY_NOT_IN_LIST"],
           f"an unknown hash is refused: {r.status} {r.body!r}")
    r = _post(_sha("{ me { id } }"), "{ me { id } }", token=tok)
    expect(r.status == 400 and _codes(r) == ["QUERY_NOT_IN_SAFELIST"],
           f"no registration in trusted mode: {r.body!r}")
    cp = ops["ChannelPosts"]
    r = _get(cp["id"], variables={"channelId": cid, "first": 5}, token=tok)
    expect(data(r)["channelPosts"]["edges"][0]["node"]["body"] == "before",
           "a manifest document by its hash")
    expect(data(gql(cp["body"], {"channelId": cid}, token=tok))["channelPosts"]["edges"],
           "a manifest document sent in full")

    p = subprocess.run(["node", os.path.join(ROOT, "tests", "integration", "js", "apollo_trusted.cjs"),
                        f"http://127.0.0.1:{HTTP_PORT}", WEB, tok, cid],
                       capture_output=True, text=True, timeout=60)
    out = json.loads(p.stdout or '{"crash": "no output"}')
    expect("crash" not in out, f"Apollo Client: {out.get('crash')} {p.stderr[-1500:]}")
    expect(out["created"] == "trusted" and out["bodies"][:2] == ["trusted", "before"],
           f"the web client's documents run as Apollo Client sends them: {out}")
    expect(out["unknown"] == "QUERY_NOT_IN_SAFELIST",
           f"Apollo Client gets the refusal of a document outside the manifest: {out['unknown']}")
