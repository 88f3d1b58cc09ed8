"""Chaos, short form (tests/chaos/chaos.py): members keep their sockets open while
each server behind agora-wsd is killed and held down 5 s, then killed in pairs
(agora-wsd then NATS among them), then frozen past the heartbeats (agora-wsd too); a post every
100 ms, a DM and a mention per fault, a new session after each. `./agora bench
chaos` runs the long form (a random fault every 20 s for 10 minutes)."""
import os
import sys

from agora_test import BUILD, Skip, expect

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "chaos"))
import chaos  # noqa: E402


def test_chaos_open_sessions_lose_nothing_through_every_single_fault():
    if not os.path.exists(os.path.join(BUILD, "workers", "agora-worker")):
        raise Skip("agora-worker is not built: posts made while NATS is down need the outbox job")
    r = chaos.run(chaos.SHORT, log=lambda s: print("    " + s, flush=True))
    chaos.print_report(r, log=lambda s: print("    " + s))
    expect(r["rows"][-1]["posts"] > 200, f"the poster kept working: {r['rows'][-1]['posts']} acked")
    problems = chaos.check(r)
    expect(not problems, "; ".join(problems))
