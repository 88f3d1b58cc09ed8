"""lib/db, lib/cache and lib/model against the test stack (TAP): the C program
tests/integration/model/test_model, registered in tests/local.mk with the other
C tests and run here because it needs PostgreSQL, Redis and NATS."""
import os
import subprocess

from agora_test import BUILD, expect

PROGRAM = os.path.join(BUILD, "tests", "integration", "model", "test_model")


def test_model_db_and_cache_against_the_stack():
    expect(os.access(PROGRAM, os.X_OK), f"program not built: {PROGRAM}")
    p = subprocess.run([PROGRAM], env=dict(os.environ), capture_output=True, text=True, timeout=120)
    lines = p.stdout.splitlines()
    failed = [l for l in lines if l.startswith("not ok") or l.startswith("Bail out!")]
    plan = [l for l in lines if l.startswith("1..")]
    passed = sum(1 for l in lines if l.startswith("ok "))
    detail = "\n".join(failed[:20]) + "\n" + "\n".join(l for l in lines if l.startswith("#"))[:2000] \
        + "\n" + p.stderr[-2000:]
    expect(not failed, f"{len(failed)} checks failed:\n{detail}")
    expect(plan and int(plan[0][3:]) == passed and passed > 60,
           f"incomplete run ({passed} ok, plan {plan}, rc {p.returncode}):\n{detail}")
    expect(p.returncode == 0, f"exit status {p.returncode}:\n{detail}")
    print(f"    {passed} checks passed")
