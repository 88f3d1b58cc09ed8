"""REST auth: register, login, tokens, validation, rate limits (CONTRACT §2, §5)."""
import base64
import hashlib
import hmac
import json
import os
import time

from agora_test import (VAR, api, expect, expect_error, fresh_source, register, request, unique)


def test_register_returns_user_and_token_without_secrets():
    name = unique()
    r = api("POST", "/auth/register", {"username": name, "password": "password123", "displayName": "Ana"})
    expect(r.status == 201, r)
    u = r.json["user"]
    expect(u["username"] == name and u["displayName"] == "Ana", u)
    expect(set(u) == {"id", "username", "displayName", "bio", "avatarUrl", "createdAt"}, u)
    expect(u["id"].isdigit(), f"id is a decimal string: {u['id']!r}")
    expect(u["createdAt"].endswith("Z") and "T" in u["createdAt"], u["createdAt"])
    expect("password" not in r.body.decode() and "argon2" not in r.body.decode(), "no hash leaked")
    me = api("GET", "/users/me", token=r.json["token"])
    expect(me.status == 200 and me.json["id"] == u["id"], me)


def test_register_duplicate_is_409():
    name = unique()
    register(name)
    expect_error(api("POST", "/auth/register", {"username": name, "password": "password123"}), 409, "conflict")


def test_username_rules_name_the_rule():
    for bad, word in [("ab", "3 to 32"), ("x" * 33, "3 to 32"), ("Ana", "lowercase"), ("a-b", "lowercase"),
                      ("a b", "lowercase"), ("ü_user", "lowercase")]:
        r = api("POST", "/auth/register", {"username": bad, "password": "password123"})
        expect_error(r, 400, "bad_request")
        expect(word in r.json["error"]["message"], f"{bad!r}: {r.json}")


def test_password_length_rules():
    r = api("POST", "/auth/register", {"username": unique(), "password": "short"})
    expect_error(r, 400, "bad_request")
    expect("at least 8" in r.json["error"]["message"], r.json)
    r = api("POST", "/auth/register", {"username": unique(), "password": "p" * 129})
    expect_error(r, 400, "bad_request")


def test_login_ok_and_wrong_password_401():
    u, _ = register(password="password123")
    r = api("POST", "/auth/login", {"username": u["username"], "password": "password123"})
    expect(r.status == 200 and r.json["user"]["id"] == u["id"] and r.json["token"], r)
    expect_error(api("POST", "/auth/login", {"username": u["username"], "password": "wrong-password"}),
                 401, "unauthorized")
    expect_error(api("POST", "/auth/login", {"username": unique(), "password": "whatever1"}),
                 401, "unauthorized")


def _b64(d):
    return base64.urlsafe_b64encode(d).rstrip(b"=").decode()


def _sign(header, claims, key):
    h = _b64(json.dumps(header).encode())
    c = _b64(json.dumps(claims).encode())
    alg = {"HS256": hashlib.sha256, "HS512": hashlib.sha512}.get(header["alg"])
    sig = _b64(hmac.new(key, f"{h}.{c}".encode(), alg).digest()) if alg else ""
    return f"{h}.{c}.{sig}"


def _key():
    with open(os.path.join(VAR, "secrets", "jwt.key"), "rb") as f:
        return f.read().strip()


def test_forged_and_expired_tokens_are_401():
    u, good = register()
    now = int(time.time())
    claims = {"sub": u["id"], "iat": now, "exp": now + 600, "iss": "agora"}
    expect(api("GET", "/users/me", token=_sign({"alg": "HS256", "typ": "JWT"}, claims, _key())).status == 200,
           "a token we sign with the real key works (the test's signer is right)")
    cases = {
        "HS512": _sign({"alg": "HS512", "typ": "JWT"}, claims, _key()),
        "none": _sign({"alg": "none", "typ": "JWT"}, claims, b""),
        "other key": _sign({"alg": "HS256", "typ": "JWT"}, claims, b"k" * 40),
        "expired": _sign({"alg": "HS256", "typ": "JWT"}, dict(claims, exp=now - 1), _key()),
        "future iat": _sign({"alg": "HS256", "typ": "JWT"}, dict(claims, iat=now + 3600, exp=now + 7200), _key()),
        "garbage": "abc.def.ghi",
    }
    for what, tok in cases.items():
        r = api("GET", "/users/me", token=tok)
        expect(r.status == 401, f"{what}: {r!r}")
        expect(r.json["error"]["code"] == "unauthorized", r)
    expect_error(api("GET", "/users/me"), 401, "unauthorized")
    expect_error(api("GET", "/users/me", headers={"Authorization": "Basic Zm9vOmJhcg=="}), 401, "unauthorized")


def test_deleted_users_token_is_401():
    u, tok = register()
    expect(api("DELETE", f"/users/{u['id']}", token=tok).status == 204, "self delete")
    expect_error(api("GET", "/users/me", token=tok), 401, "unauthorized")


def test_malformed_json_wrong_type_and_oversize():
    expect_error(request("POST", "/api/v1/auth/register", raw=b"{nope", headers={"Content-Type": "application/json"}),
                 400, "bad_request")
    expect_error(request("POST", "/api/v1/auth/register", raw=b'{"username":"abc"}',
                         headers={"Content-Type": "text/plain"}), 415, "unsupported_media_type")
    expect_error(request("POST", "/api/v1/auth/register", raw=b"[1,2]", headers={"Content-Type": "application/json"}),
                 400, "bad_request")
    big = json.dumps({"username": unique(), "password": "password123", "pad": "x" * 70000}).encode()
    expect_error(request("POST", "/api/v1/auth/register", raw=big, headers={"Content-Type": "application/json"}),
                 413, "payload_too_large")


def test_login_rate_limit_per_username_with_retry_after():
    u, _ = register()
    codes = []
    for _ in range(22):
        # a new source address each time: only the per-username counter can trip
        r = api("POST", "/auth/login", {"username": u["username"], "password": "wrong-password"},
                headers={"X-Forwarded-For": "1.2.3.4"}, source=fresh_source())
        codes.append(r.status)
        if r.status == 429:
            expect(r.json["error"]["code"] == "rate_limited", r)
            expect(r.header("Retry-After") and int(r.header("Retry-After")) >= 1, r.headers)
            break
    expect(429 in codes, f"no 429 after 22 logins: {codes}")
    expect(codes.count(401) == 20, f"exactly 20 attempts allowed per minute: {codes}")


def test_register_rate_limit_per_ip():
    ip = fresh_source()
    codes = [api("POST", "/auth/register", {"username": "x", "password": "p"}, source=ip).status
             for _ in range(62)]
    expect(codes[:60] == [400] * 60, f"the first 60 attempts are served: {codes}")
    expect(codes[60] == 429, f"the 61st in a minute is refused: {codes}")


def test_login_rate_limit_per_ip():
    ip = fresh_source()
    codes = [api("POST", "/auth/login", {"username": unique(), "password": "wrong-pass"}, source=ip).status
             for _ in range(21)]
    expect(codes[:20] == [401] * 20 and codes[20] == 429, codes)


def test_api_rate_limit_per_user_token_bucket():
    import http.client
    from concurrent.futures import ThreadPoolExecutor
    from agora_test import HTTP_PORT
    u, tok = register()

    def burst(n):
        c = http.client.HTTPConnection("127.0.0.1", HTTP_PORT, timeout=10)
        out = []
        for _ in range(n):
            c.request("GET", "/api/v1/users/me", headers={"Authorization": "Bearer " + tok})
            r = c.getresponse()
            r.read()
            out.append((r.status, r.getheader("Retry-After")))
        c.close()
        return out

    with ThreadPoolExecutor(8) as ex:
        results = [x for part in ex.map(burst, [125] * 8) for x in part]
    ok = sum(1 for s, _ in results if s == 200)
    limited = [(s, ra) for s, ra in results if s == 429]
    expect(limited, f"1000 requests in about a second must pass the burst of 400: {ok} ok")
    expect(ok >= 400, f"the burst is served: {ok}")
    expect(all(ra and int(ra) >= 1 for _, ra in limited), "Retry-After on every 429")
    other, otok = register()
    expect(api("GET", "/users/me", token=otok).status == 200, "another user is not limited")
