"""GraphQL cost and abuse, through Apache: the shapes an outside review sent
(issue 15, items 1-5) and what each must now get. Introspection counts like
any field yet graphql-js's and GraphiQL's introspection queries still run;
fields merged under one response name cannot change their arguments; the
API rate limit applies to /graphql, weighted by cost (per IP without a
token); root fields and aliases are capped; a request's memory is bounded
and a worker gives a large request's memory back right after it."""
import json
import os
from concurrent.futures import ThreadPoolExecutor

from agora_test import (HTTP_PORT, ROOT, VAR, eventually, expect, fresh_source, register,
                        request)
from gql import channel, data, gql

STRICT = "application/graphql-response+json"


def _corpus(name):
    with open(os.path.join(ROOT, "tests", "fuzz", "corpus", "graphql", name)) as f:
        return f.read()


def _post(query, token=None, source=None, accept=STRICT, variables=None):
    body = {"query": query}
    if variables is not None:
        body["variables"] = variables
    h = {"Content-Type": "application/json", "Accept": accept}
    if token:
        h["Authorization"] = "Bearer " + token
    return request("POST", "/graphql", raw=json.dumps(body).encode(), headers=h,
                   source=source or fresh_source(), timeout=60)


def _codes(r):
    return [e.get("extensions", {}).get("code") for e in (r.json or {}).get("errors", [])]


def _doubling(levels, outer_of_type):
    """The review's 1.3 KB documents: each fragment spreads the next twice (three
    times with outer_of_type) through __Type.fields { type } and ofType, so the
    work doubles at every level."""
    q = '{ __type(name: "Query") { ...F0 } }\n'
    for k in range(levels):
        more = f" ofType {{ ...F{k + 1} }}" if outer_of_type else ""
        q += (f"fragment F{k} on __Type {{ name fields {{ type {{ ...F{k + 1} ofType {{ "
              f"...F{k + 1} }} }} }}{more} }}\n")
    return q + f"fragment F{levels} on __Type {{ name kind }}\n"


REFUSED = ("query_too_deep", "query_too_costly", "query_too_complex")


def test_introspection_counts_like_any_field_and_clients_still_introspect():
    for name in ("introspection-graphql-js.graphql", "introspection-graphiql.graphql"):
        r = _post(_corpus(name))
        d = data(r)
        expect(d["__schema"]["queryType"]["name"] == "Query" and len(d["__schema"]["types"]) > 20,
               f"{name}: the introspection query runs under the default limits")
    for outer in (False, True):
        for levels in (10, 12, 14, 16):
            q = _doubling(levels, outer)
            expect(len(q) < 1600, f"a {len(q)}-byte document")
            r = _post(q)
            expect(r.status == 400 and set(_codes(r)) & set(REFUSED),
                   f"fragments doubling over __type/fields/ofType, {levels} levels: refused "
                   f"before running: {r!r}")


def _channel_with_posts(n, body="x"):
    u, tok = register()
    cid = channel(tok)
    for i in range(n):
        data(gql("mutation($c: ID!, $b: String!) { createPost(channelId: $c, body: $b) { id } }",
                 {"c": cid, "b": body}, tok))
    return tok, cid


def test_merged_fields_cannot_change_their_arguments():
    tok, cid = _channel_with_posts(3)
    shapes = [
        # the review's: one response name, first: 1 then first: 100
        ('{ a: channelPosts(channelId: "%s", first: 1) { edges { node { id } } } '
         'a: channelPosts(channelId: "%s", first: 100) { edges { node { id } } } }' % (cid, cid),
         'Fields "a" conflict because they have differing arguments'),
        # nested: the connections agree, the comments below them do not
        ('{ channelPosts(channelId: "%s", first: 20) { edges { node { comments(first: 20) '
         '{ edges { node { id } } } } } } channelPosts(channelId: "%s", first: 20) { edges { '
         'node { comments(first: 1) { edges { node { id } } } } } } }' % (cid, cid),
         'subfields "comments" conflict because they have differing arguments'),
        # through fragments, with a default against an explicit value
        ('{ ...A ...B } fragment A on Query { channelPosts(channelId: "%s") { edges { cursor } } } '
         'fragment B on Query { channelPosts(channelId: "%s", first: 100) { edges { cursor } } }'
         % (cid, cid),
         "they have differing arguments"),
    ]
    for q, why in shapes:
        r = _post(q, tok)
        expect(r.status == 400 and why in r.json["errors"][0]["message"],
               f"refused with '{why}': {r!r}")
    r = _post('{ channelPosts(channelId: "%s", first: 2) { edges { node { id } } } '
              'channelPosts(channelId: "%s", first: 2) { edges { node { body } } } }' % (cid, cid), tok)
    edges = data(r)["channelPosts"]["edges"]
    expect(len(edges) == 2 and all(set(e["node"]) == {"id", "body"} for e in edges),
           f"the same field twice merges and runs once: {edges}")


def test_root_fields_and_aliases_are_capped():
    u, tok = register()
    q = "{ " + " ".join(f's{i}: search(query: "x", first: 1) {{ pageInfo {{ hasNextPage }} }}'
                        for i in range(2000)) + " }"
    r = _post(q, tok)
    expect(r.status == 400 and "too_many_root_fields" in _codes(r)
           and "2000 exceeds the limit of 32" in r.body.decode(), f"2000 aliased searches: {r!r}")
    q = "{ me { " + " ".join(f"a{i}: id" for i in range(100)) + " } }"
    r = _post(q, tok)
    expect(r.status == 400 and "too_many_aliases" in _codes(r), f"100 aliases: {r!r}")
    q = "{ " + " ".join(f"a{i}: me {{ id }}" for i in range(32)) + " }"
    expect(len(data(_post(q, tok))) == 32, "32 root fields, at the limit, run")


def test_graphql_is_rate_limited_per_user_like_rest():
    u, tok = register()

    def burst(n):
        import http.client
        c = http.client.HTTPConnection("127.0.0.1", HTTP_PORT, timeout=10)
        out = []
        for _ in range(n):
            c.request("POST", "/graphql", body=json.dumps({"query": "{ me { id } }"}),
                      headers={"Authorization": "Bearer " + tok, "Content-Type": "application/json"})
            r = c.getresponse()
            body = r.read()
            out.append((r.status, r.getheader("Retry-After"), body))
        c.close()
        return out

    with ThreadPoolExecutor(8) as ex:
        results = [x for part in ex.map(burst, [150] * 8) for x in part]
    ok = sum(1 for s, _, _ in results if s == 200)
    limited = [(ra, b) for s, ra, b in results if s == 429]
    expect(limited, f"1200 {{ me {{ id }} }} in about a second must pass the burst of 400: {ok} ok")
    expect(ok >= 400, f"the burst is served: {ok}")
    for ra, b in limited:
        expect(ra and int(ra) >= 1, "Retry-After on every 429")
        j = json.loads(b)
        expect(j["errors"][0]["extensions"]["code"] == "rate_limited", f"GraphQL error shape: {j}")
    other, otok = register()
    expect(data(_post("{ me { id } }", otok))["me"]["id"] == other["id"], "another user is not limited")


def test_graphql_rate_limit_weighs_the_cost():
    u, tok = register()
    cid = channel(tok)  # empty: the queries cost much and run fast
    one = ('channelPosts(channelId: "%s", first: 100) { edges { node { id channelId body createdAt '
           'editedAt commentCount author { id username displayName } } } }' % cid)
    q = "{ " + " ".join(f"c{i}: {one}" for i in range(16)) + " }"
    statuses = [_post(q, tok).status for _ in range(3)]
    expect(statuses[:2] == [200, 200] and statuses[2] == 429,
           f"a query of cost ~19000 takes ~190 tokens of the burst of 400: {statuses}")
    r = _post("{ me { id } }", tok)
    expect(r.status == 200, f"a cheap request still fits where the costly one did not: {r!r}")


def test_anonymous_graphql_is_rate_limited_per_address():
    src = fresh_source()
    q = _corpus("introspection-graphql-js.graphql")
    statuses = []
    while 429 not in statuses and len(statuses) < 100:
        statuses.append(_post(q, source=src).status)
    expect(statuses[:2] == [200, 200] and statuses[-1] == 429 and len(statuses) < 60,
           f"introspection from one address, weighed by its cost: {statuses}")
    expect(_post(q, source=fresh_source()).status == 200, "another address is not limited")


def _pool():
    with open(os.path.join(VAR, "run", "fcgi.pid")) as f:
        return [int(x) for x in f.read().split()]


def _status(pid):
    out = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            k, _, v = line.partition(":")
            if k in ("VmRSS", "VmHWM"):
                out[k] = int(v.split()[0]) * 1024
    return out


def _big_page_query(cid, aliases):
    return "{ " + " ".join(f'p{i}: channelPosts(channelId: "{cid}", first: 100) '
                           f'{{ edges {{ node {{ body }} }} }}' for i in range(aliases)) + " }"


def test_worker_memory_is_bounded_and_given_back():
    tok, cid = _channel_with_posts(100, "m" * 10000)
    pids = _pool()
    for pid in pids:  # VmHWM from now on: which worker served the large request
        with open(f"/proc/{pid}/clear_refs", "w") as f:
            f.write("5")
    before = {pid: _status(pid)["VmRSS"] for pid in pids}

    # 6 x 100 posts of 10 KB (~6 MB of response, several times that while building it)
    r = _post(_big_page_query(cid, 6), tok, accept="application/json")
    d = data(r)
    expect(all(len(d[f"p{i}"]["edges"]) == 100 for i in range(6)), "the large request is served")
    peak = {pid: _status(pid)["VmHWM"] - before[pid] for pid in pids}
    served = max(peak, key=peak.get)
    expect(peak[served] > 16 << 20, f"one worker grew by {peak[served] >> 20} MiB serving it")
    bound = 12 << 20

    def back_near_baseline():
        now = _status(served)["VmRSS"]
        return now if now <= before[served] + bound else None

    back = eventually(back_near_baseline, timeout=10,
                      what=f"worker {served} back within {bound >> 20} MiB of its "
                           f"{before[served] >> 20} MiB baseline (peak +{peak[served] >> 20} MiB)")
    print(f"    worker {served}: {before[served] >> 20} MiB before, peak +{peak[served] >> 20} MiB, "
          f"{back >> 20} MiB after")

    # 32 x 100 posts of 10 KB: more than graphql_memory_max (64 MiB) to build
    r = _post(_big_page_query(cid, 32), tok, accept="application/json")
    expect(r.status == 200 and r.json.get("data") is None and "memory_limit" in _codes(r),
           f"past the memory bound: a clear error, not the data: {r.body[:300]!r}")
    expect(_pool() == pids and all(os.path.exists(f"/proc/{p}") for p in pids),
           "no worker died")
    expect(data(_post("{ me { id } }", tok))["me"], "the pool serves the next request")
