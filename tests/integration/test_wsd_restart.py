"""agora-wsd survives restarts of NATS and Redis without being restarted:
it reconnects and resumes delivery (issue 5, robustness)."""
import agora_test as at
from agora_test import expect, register, svc
from test_wsd_basic import channel
from wsclient import JS, WS, Closed, oid


def deliver(ws, cid, timeout=15):
    """Publish until the session sees one (the stream may still be recovering)."""
    def once():
        try:
            js = JS()
            mid = oid()
            js.publish(f"channel.{cid}.message.created", {"messageId": mid})
            js.close()
        except (OSError, AssertionError):
            return False
        try:
            ws.wait(lambda f: f.get("messageId") == mid, timeout=1.5)
            return True
        except AssertionError:
            return False
    at.eventually(once, timeout=timeout, interval=0.2, what="delivery after restart")


def test_wsd_resumes_after_nats_restart():
    _, ta = register()
    cid = channel(ta)
    ws = WS(token=ta)
    ws.ready()
    svc("stop", "nats")
    at.on_cleanup(lambda: svc("start", "nats"))
    svc("start", "nats")
    deliver(ws, cid)
    ws.close()
    ws = WS(token=ta)
    ws.ready()
    deliver(ws, cid)
    ws.close()


def test_wsd_resumes_after_redis_restart():
    _, ta = register()
    cid = channel(ta)
    svc("stop", "redis")
    at.on_cleanup(lambda: svc("start", "redis"))
    # without Redis the subscriptions cannot be read: closed with 1011 (retry), never a hang
    ws = WS(token=ta)
    try:
        ws.wait(lambda f: False, timeout=8, what="close")
        raise AssertionError("session stayed open without its subscriptions")
    except Closed as e:
        expect(e.code == 1011, f"close code {e.code}")
    svc("start", "redis")
    # user:<id>:subs is gone with Redis: rebuilt from PostgreSQL on connect
    ws = WS(token=ta)
    ws.ready(timeout=10)
    deliver(ws, cid)
    ws.close()
