"""Content store conformance: the same C suite (tests/integration/content/conformance,
TAP) against every backend — the test stack's PostgreSQL, the MongoDB wire peer
of tests/peers/mongo started here, and a real MongoDB when AGORA_MONGODB_URI is set."""
import os
import subprocess

from agora_test import BUILD, Skip, expect
from mongostack import free_port, start_peer

CONFORMANCE = os.path.join(BUILD, "tests", "integration", "content", "conformance")


def _run_conformance(env_extra, backend):
    """Run the suite with these AGORA_* settings; fail on any 'not ok' or a short plan."""
    expect(os.access(CONFORMANCE, os.X_OK), f"conformance program not built: {CONFORMANCE}")
    env = dict(os.environ, CONTENT_EXPECT_BACKEND=backend, CONTENT_DOWN_PORT=str(free_port()))
    env.update(env_extra)
    p = subprocess.run([CONFORMANCE], env=env, capture_output=True, text=True, timeout=120)
    lines = p.stdout.splitlines()
    failed = [l for l in lines if l.startswith("not ok") or l.startswith("Bail out!")]
    plan = [l for l in lines if l.startswith("1..")]
    passed = sum(1 for l in lines if l.startswith("ok "))
    detail = "\n".join(failed[:20]) + "\n" + p.stderr[-2000:]
    expect(not failed, f"{backend}: {len(failed)} checks failed:\n{detail}")
    expect(plan and int(plan[0][3:]) == passed and passed > 100,
           f"{backend}: incomplete run ({passed} ok, plan {plan}, rc {p.returncode}):\n{detail}")
    expect(p.returncode == 0, f"{backend}: exit status {p.returncode}:\n{detail}")
    print(f"    {backend}: {passed} checks passed")


def test_content_store_conformance_on_postgres():
    # empty mongodb_uri selects PostgreSQL (the stack's, from AGORA_PG_* set by the harness)
    _run_conformance({"AGORA_MONGODB_URI": ""}, "postgres")


def test_content_store_conformance_on_mongodb_wire_peer():
    port = start_peer()
    _run_conformance({"AGORA_MONGODB_URI": f"mongodb://127.0.0.1:{port}/",
                      "AGORA_MONGODB_DB": "agora_conformance"}, "mongodb")


def test_content_store_conformance_on_real_mongodb():
    uri = os.environ.get("AGORA_MONGODB_URI", "")
    if not uri:
        raise Skip("AGORA_MONGODB_URI is not set: no real MongoDB to run the conformance suite on")
    _run_conformance({"AGORA_MONGODB_URI": uri, "AGORA_MONGODB_DB": "agora_conformance"}, "mongodb")
