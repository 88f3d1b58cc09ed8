"""Chaos, short form: posting and receiving while agora-wsd, NATS, Redis,
PostgreSQL and an Apache worker are SIGKILLed and restarted one at a time
(tests/chaos/chaos.py; `./agora bench chaos` runs the long form)."""
import os
import sys
import time

from agora_test import BUILD, Skip, expect

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "chaos"))
import chaos  # noqa: E402


def test_chaos_every_acknowledged_post_reaches_every_client_once():
    if not os.path.exists(os.path.join(BUILD, "workers", "agora-worker")):
        raise Skip("agora-worker is not built: posts made while NATS is down need the outbox job")
    r = chaos.scenario()
    acked, fails = r["acked"], r["failures"]
    print(f"    acked {len(acked)} posts, {len(fails)} refused during outages, "
          f"reconnects {[s.reconnects for s in r['subs']]}, dropped by seq {[s.dups_dropped for s in r['subs']]}")
    expect(len(acked) > 50, f"the poster kept working: {len(acked)} acked")
    expect(not any(r["missing"]), f"acknowledged posts missing at a client: {[sorted(m)[:5] for m in r['missing']]}")
    expect(not r["multi"], f"posts stored under two sequences: {list(r['multi'].items())[:3]}")
    # every refusal was a clean 503 / "unavailable", never a hang
    for t, status, codes, took in fails:
        expect(status in (200, 503) and (status == 503 or "unavailable" in codes),
               f"a refusal that is not 'unavailable': {status} {codes}")
        expect(took < 10, f"a request hung for {took:.1f}s")
    # after PostgreSQL came back, the API served again within 5 s
    t_pg = dict(r["kills"])["postgres"]
    late = [t for t, *_ in fails if t - t_pg > 5]
    expect(not late, f"refusals more than 5 s after PostgreSQL returned: {len(late)}")
