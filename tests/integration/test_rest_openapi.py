"""GET /openapi.json: a valid OpenAPI 3 document that describes every endpoint of
CONTRACT §2, and whose schemas match what the API really returns."""
import re

import jsonschema

from agora_test import api, expect, register

CONTRACT = {
    ("post", "/auth/register"), ("post", "/auth/login"), ("get", "/users/me"), ("get", "/users/{id}"),
    ("get", "/users"), ("patch", "/users/{id}"), ("delete", "/users/{id}"), ("put", "/users/{id}/follow"),
    ("delete", "/users/{id}/follow"), ("post", "/channels"), ("get", "/channels"), ("get", "/channels/{id}"),
    ("patch", "/channels/{id}"), ("delete", "/channels/{id}"), ("get", "/channels/{id}/members"),
    ("put", "/channels/{id}/members/{userId}"), ("delete", "/channels/{id}/members/{userId}"),
    ("get", "/notifications"), ("post", "/notifications/read"), ("get", "/openapi.json"), ("get", "/health"),
    ("post", "/channels/{id}/owner"),  # CONTRACT §9
    ("put", "/users/me/avatar"), ("post", "/uploads"), ("options", "/uploads"),  # CONTRACT §9, issue 17
    ("head", "/uploads/{uploadId}"), ("patch", "/uploads/{uploadId}"), ("get", "/files/{fileId}"),
    ("get", "/channels/{id}/notifications"), ("put", "/channels/{id}/notifications"),
    ("put", "/users/{id}/block"), ("delete", "/users/{id}/block"), ("get", "/users/me/blocks"),
}
METHODS = {"get", "put", "post", "delete", "patch", "head", "options", "trace"}


def _doc():
    r = api("GET", "/openapi.json")
    expect(r.status == 200 and r.header("Content-Type").startswith("application/json"), r)
    return r.json


def _resolve(doc, ref):
    expect(ref.startswith("#/"), f"only local refs: {ref}")
    node = doc
    for part in ref[2:].split("/"):
        expect(isinstance(node, dict) and part in node, f"dangling $ref {ref}")
        node = node[part]
    return node


def _walk_refs(doc, node):
    if isinstance(node, dict):
        if "$ref" in node:
            _resolve(doc, node["$ref"])
        for v in node.values():
            _walk_refs(doc, v)
    elif isinstance(node, list):
        for v in node:
            _walk_refs(doc, v)


def test_openapi_structure_is_valid():
    doc = _doc()
    expect(re.match(r"^3\.\d+\.\d+$", doc["openapi"]), doc["openapi"])
    expect(doc["info"]["title"] and doc["info"]["version"], "info")
    _walk_refs(doc, doc)
    op_ids = []
    for path, item in doc["paths"].items():
        expect(path.startswith("/"), path)
        declared = {p["name"] for p in item.get("parameters", []) for p in [_resolve(doc, p["$ref"]) if "$ref" in p else p]
                    if p["in"] == "path"}
        for method, op in item.items():
            if method == "parameters":
                continue
            expect(method in METHODS, f"{path}: {method}")
            expect(op["responses"], f"{method} {path} has responses")
            for code, resp in op["responses"].items():
                resp = _resolve(doc, resp["$ref"]) if "$ref" in resp else resp
                expect(re.match(r"^[1-5]\d\d$", code) and resp.get("description"), f"{method} {path} {code}")
            op_ids.append(op.get("operationId"))
            params = {p["name"] for p in op.get("parameters", []) for p in [_resolve(doc, p["$ref"]) if "$ref" in p else p]
                      if p["in"] == "path"}
            for name in re.findall(r"{(\w+)}", path):
                expect(name in declared | params, f"path parameter {name} of {path} is declared")
    ids = [i for i in op_ids if i]
    expect(len(ids) == len(set(ids)), "operationIds are unique")


def test_openapi_describes_every_contract_endpoint():
    doc = _doc()
    have = {(m, p) for p, item in doc["paths"].items() for m in item if m in METHODS}
    expect(CONTRACT <= have, f"missing: {sorted(CONTRACT - have)}")


def _schema(doc, name):
    """An OpenAPI 3.0 schema as JSON Schema: nullable → type union; refs inlined."""
    return _conv(doc, doc["components"]["schemas"][name])


def _response_schema(doc, path, method, code):
    """The JSON Schema of what `method path` documents for status `code`."""
    resp = doc["paths"][path][method]["responses"][str(code)]
    if "$ref" in resp:
        resp = _resolve(doc, resp["$ref"])
    return _conv(doc, resp["content"]["application/json"]["schema"])


def _conv(doc, schema):
    def conv(s):
        if isinstance(s, dict):
            if "$ref" in s:
                return conv(_resolve(doc, s["$ref"]))
            out = {k: conv(v) for k, v in s.items() if k not in ("nullable", "format")}
            if s.get("nullable") and "type" in s:
                out["type"] = [s["type"], "null"]
            return out
        if isinstance(s, list):
            return [conv(v) for v in s]
        return s
    return conv(schema)


def test_real_responses_match_the_documented_schemas():
    doc = _doc()
    u, tok = register(display="Schema")
    jsonschema.validate(u, _schema(doc, "User"))
    ch = api("POST", "/channels", {"name": "schema", "visibility": "public"}, token=tok).json
    jsonschema.validate(ch, _schema(doc, "Channel"))
    m = api("GET", f"/channels/{ch['id']}/members", token=tok).json["items"][0]
    jsonschema.validate(m, _schema(doc, "Member"))
    jsonschema.validate(api("GET", "/health").json, _schema(doc, "Health"))
    err = api("GET", "/users/999999999", token=tok).json
    jsonschema.validate(err, _schema(doc, "Error"))
    v, vtok = register()
    api("PUT", f"/users/{v['id']}/follow", token=tok)
    n = api("GET", "/notifications", token=vtok).json["items"][0]
    jsonschema.validate(n, _schema(doc, "Notification"))


def test_ownership_transfer_responses_match_the_documented_schemas():
    doc = _doc()
    u, tok = register()
    v, vtok = register()
    ch = api("POST", "/channels", {"name": "owned", "visibility": "private"}, token=tok).json
    api("PUT", f"/channels/{ch['id']}/members/{v['id']}", {}, token=tok)
    path = "/channels/{id}/owner"
    bad = api("POST", f"/channels/{ch['id']}/owner", {"userId": "999999999"}, token=tok)
    expect(bad.status == 400, bad)
    jsonschema.validate(bad.json, _response_schema(doc, path, "post", 400))
    jsonschema.validate(api("POST", f"/channels/{ch['id']}/owner", {"userId": v["id"]}, token=vtok).json,
                        _response_schema(doc, path, "post", 403))
    r = api("POST", f"/channels/{ch['id']}/owner", {"userId": v["id"]}, token=tok)
    expect(r.status == 200 and r.json["ownerId"] == v["id"] and r.json["myRole"] == "admin", r)
    jsonschema.validate(r.json, _response_schema(doc, path, "post", 200))
    schema = _response_schema(doc, path, "post", 200)
    expect(schema.get("required") and "ownerId" in schema["properties"], "the documented schema is a Channel")
    jsonschema.validate({"userId": v["id"]}, _schema(doc, "OwnerTransfer"))


def test_attention_responses_match_the_documented_schemas():
    """CONTRACT §9: unread counts on your channel list, levels, blocks."""
    doc = _doc()
    u, tok = register()
    v, vtok = register()
    ch = api("POST", "/channels", {"name": "counted", "visibility": "public"}, token=tok).json
    items = api("GET", "/channels?member=me", token=tok).json["items"]
    item = next(c for c in items if c["id"] == ch["id"])
    jsonschema.validate(item, _schema(doc, "MemberChannel"))
    jsonschema.validate(api("GET", "/channels?member=me", token=tok).json,
                        _response_schema(doc, "/channels", "get", 200))
    path = "/channels/{id}/notifications"
    r = api("PUT", f"/channels/{ch['id']}/notifications", {"level": "mentions"}, token=tok)
    jsonschema.validate(r.json, _response_schema(doc, path, "put", 200))
    jsonschema.validate(api("GET", f"/channels/{ch['id']}/notifications", token=tok).json,
                        _response_schema(doc, path, "get", 200))
    jsonschema.validate(api("GET", f"/channels/{ch['id']}/notifications", token=vtok).json,
                        _response_schema(doc, path, "get", 403))
    expect(api("PUT", f"/users/{v['id']}/block", token=tok).status == 204, "block")
    jsonschema.validate(api("GET", "/users/me/blocks", token=tok).json,
                        _response_schema(doc, "/users/me/blocks", "get", 200))
