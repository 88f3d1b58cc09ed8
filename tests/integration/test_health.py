"""Health: 200 with every dependency up, 503 naming the one that is down, no crash."""
from agora_test import api, eventually, expect, on_cleanup, svc


def test_health_all_ok():
    r = api("GET", "/health")
    expect(r.status == 200, f"health: {r!r}")
    j = r.json
    expect(j["status"] == "ok", j)
    expect(j["checks"] == {"postgres": "ok", "redis": "ok", "nats": "ok", "content": "ok"}, j)


def _down_then_back(name):
    svc("stop", name)
    on_cleanup(lambda: svc("start", name))
    r = eventually(lambda: (lambda x: x if x.status == 503 else None)(api("GET", "/health")),
                   what=f"503 with {name} down")
    j = r.json
    expect(j["checks"][name] == "unavailable", f"{name} not named: {j}")
    others = {k: v for k, v in j["checks"].items() if k != name and not (name == "postgres" and k == "content")}
    expect(all(v == "ok" for v in others.values()), f"only {name} should fail: {j}")
    expect(j["error"]["code"] == "unavailable", j)
    svc("start", name)
    eventually(lambda: api("GET", "/health").status == 200, timeout=15, what=f"health back after {name}")


def test_health_503_when_redis_down_and_recovers():
    _down_then_back("redis")


def test_health_503_when_nats_down_and_recovers():
    _down_then_back("nats")


def test_health_503_when_postgres_down_and_recovers():
    _down_then_back("postgres")


def test_unknown_route_is_404_envelope():
    r = api("GET", "/no/such/route")
    expect(r.status == 404, r)
    expect(r.json["error"]["code"] == "not_found", r)


def test_wrong_method_is_405_with_allow():
    r = api("POST", "/health", body={})
    expect(r.status == 405, r)
    expect(r.header("Allow") == "GET", f"Allow: {r.header('Allow')}")
    expect(r.json["error"]["code"] == "method_not_allowed", r)


def test_every_worker_serves_right_after_a_database_and_redis_restart():
    """Idle connections broken by a restart are re-dialled on first use: no 503 after recovery."""
    from agora_test import register
    u, tok = register()
    for name in ("postgres", "redis"):
        svc("stop", name)
        on_cleanup(lambda n=name: svc("start", n))
        svc("start", name)
        # health dials its own checks; then every request must succeed at once, on every worker
        eventually(lambda: api("GET", "/health").status == 200, timeout=15, what=f"{name} back")
        codes = [api("GET", "/users/me", token=tok).status for _ in range(16)]
        expect(codes == [200] * 16, f"after a {name} restart: {codes}")
