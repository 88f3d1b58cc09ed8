"""CHANNEL_STREAM deleted and created again under open sessions (an operator, a
restore): sequences restart, so agora-wsd tells every attached session with a gap
and follows the new stream. Runs last among the agora-wsd tests: it replaces the
stream the others use (the workers' durable consumers on it go with it)."""
import os
import subprocess

import agora_test as at
from agora_test import expect, register
from test_wsd_basic import channel
from wsclient import JS, WS, oid


def test_wsd_stream_deleted_and_recreated_gives_a_gap_then_the_new_stream():
    a, ta = register()
    cid = channel(ta)
    ws = WS(token=ta)
    ws.ready()
    js = JS()
    s1 = js.publish(f"channel.{cid}.message.created", {"messageId": oid()})
    ws.wait_type("channel_message", seq=s1)
    r = js.api("$JS.API.STREAM.DELETE.CHANNEL_STREAM", {})
    expect(r.get("success") is True, f"delete: {r!r}")
    out = subprocess.run([os.path.join(at.BUILD, "admin", "agora-admin"), "streams"],
                         capture_output=True, text=True, timeout=60)
    expect(out.returncode == 0, f"agora-admin streams: {out.stderr}")
    # the daemon's consumer went with the stream: its heartbeats stop, it is recreated,
    # and the new stream's creation time says sequences restarted
    g = ws.wait_type("gap", timeout=20, channelId=cid)
    expect(g["fromSeq"] == 1 and g["toSeq"] < s1, f"a gap saying sequences restarted: {g!r}")
    mid = oid()
    s2 = js.publish(f"channel.{cid}.message.created", {"messageId": mid})
    expect(s2 <= s1, f"the new stream numbers from 1 again ({s2} after {s1})")
    f = ws.wait_type("channel_message", messageId=mid)
    expect(f["seq"] == s2, f"delivered under the new stream's sequence: {f!r}")
    js.close()
    ws.close()


def test_gqlws_stream_recreated_gives_a_gap_event_then_the_new_streams_events():
    from test_gqlws_faults import GQLWS, publish, subscribed
    _, ta = register()
    cid = channel(ta)
    ws = GQLWS(ta)
    ws.subscribe("s", cid)
    subscribed(ws, "s", cid)
    s1 = ws.event("s", messageId=publish(cid))["seq"]
    js = JS()
    r = js.api("$JS.API.STREAM.DELETE.CHANNEL_STREAM", {})
    expect(r.get("success") is True, f"delete: {r!r}")
    js.close()
    out = subprocess.run([os.path.join(at.BUILD, "admin", "agora-admin"), "streams"],
                         capture_output=True, text=True, timeout=60)
    expect(out.returncode == 0, f"agora-admin streams: {out.stderr}")
    g = ws.event("s", timeout=20, type="gap")
    expect(g["fromSeq"] == 1 and g["toSeq"] < s1, f"a gap saying sequences restarted: {g!r}")
    mid = publish(cid)
    e = ws.event("s", messageId=mid)
    expect(e["seq"] <= s1, f"delivered under the new stream's (restarted) sequence: {e!r}")
    ws.close()
