"""tests/integration/gql.py — GraphQL calls for the tests."""
import json
import urllib.parse

from agora_test import expect, register, request, api


def gql(query, variables=None, token=None, accept="application/json", op=None):
    body = {"query": query}
    if variables is not None:
        body["variables"] = variables
    if op:
        body["operationName"] = op
    h = {"Content-Type": "application/json", "Accept": accept}
    if token:
        h["Authorization"] = "Bearer " + token
    return request("POST", "/graphql", raw=json.dumps(body).encode(), headers=h)


def gql_get(query, variables=None, token=None, accept="application/json"):
    q = {"query": query}
    if variables is not None:
        q["variables"] = json.dumps(variables)
    h = {"Accept": accept}
    if token:
        h["Authorization"] = "Bearer " + token
    return request("GET", "/graphql?" + urllib.parse.urlencode(q), headers=h)


def data(r):
    """The data of a successful response (no errors)."""
    expect(r.status == 200, f"HTTP {r.status}: {r.body[:400]!r}")
    j = r.json
    expect(not j.get("errors"), f"errors: {j.get('errors')}")
    return j["data"]


def error_codes(r):
    return [e.get("extensions", {}).get("code") for e in r.json.get("errors", [])]


def channel(token, visibility="public"):
    from agora_test import unique
    r = api("POST", "/channels", {"name": unique("c"), "visibility": visibility}, token=token)
    expect(r.status == 201, r)
    return r.json["id"]


def post(token, channel_id, body="hello"):
    d = data(gql("mutation($c: ID!, $b: String!) { createPost(channelId: $c, body: $b) "
                 "{ id channelId body createdAt author { id username } } }",
                 {"c": channel_id, "b": body}, token))
    return d["createPost"]
