"""A 3-node NATS cluster with JetStream replicas 3 on loopback: Agora's streams
are created replicated, and losing one node loses no event: publishes keep
being acknowledged and every acknowledged event stays readable."""
import json
import os
import subprocess
import time

from agora_test import BUILD, WS_PORT, eventually, expect, on_cleanup
from natscluster import Cluster


def _admin_streams(cluster):
    env = dict(os.environ, AGORA_NATS_URLS=cluster.urls(), AGORA_STREAM_REPLICAS="3")
    return subprocess.run([os.path.join(BUILD, "admin", "agora-admin"), "streams"], env=env,
                          capture_output=True, text=True, timeout=60)


def test_streams_replicated_on_a_3_node_cluster_survive_a_node_loss():
    from wsclient import JS
    c = Cluster(WS_PORT + 400)
    on_cleanup(c.stop)
    c.start_all()
    # the meta leader needs a moment after the nodes are up: retry until created
    r = eventually(lambda: (lambda x: x if x.returncode == 0 else None)(_admin_streams(c)),
                   timeout=60, interval=1.0, what="agora-admin streams on the cluster")
    expect("CHANNEL_STREAM" in r.stdout, r.stdout)
    info = JS(port=c.client_port(1)).api("$JS.API.STREAM.INFO.CHANNEL_STREAM")
    expect(info["config"]["num_replicas"] == 3, f"replicas: {info['config'].get('num_replicas')}")
    js = JS(port=c.client_port(2))
    acked, retries = [], 0
    for i in range(50):
        if i == 20:
            c.kill(0)           # one node of three gone: JetStream keeps a quorum of 2
        # while the cluster elects new stream leaders a publish may go unanswered:
        # a client retries with the same Nats-Msg-Id, which the stream deduplicates
        deadline = time.monotonic() + 30
        while True:
            try:
                acked.append(js.publish("channel.999.message.created", {"messageId": f"{i:024x}"},
                                        msg_id=f"cl-{i}"))
                break
            except (OSError, AssertionError):
                expect(time.monotonic() < deadline, f"publish {i} never acknowledged")
                retries += 1
                js.close()
                time.sleep(0.5)
                js = JS(port=c.client_port(2))
    print(f"    {retries} publishes retried during the leader election")
    expect(len(set(acked)) == 50, f"every publish acknowledged once, under its own sequence: {acked}")
    info = JS(port=c.client_port(1)).api("$JS.API.STREAM.INFO.CHANNEL_STREAM")
    expect(info["state"]["messages"] >= 50 and info["state"]["last_seq"] >= max(acked),
           f"the surviving nodes hold every acknowledged event: {info['state']}")
    # and republishing the same ids is deduplicated by the cluster too
    again = js.request("channel.999.message.created", {"messageId": f"{1:024x}"}, {"Nats-Msg-Id": "cl-1"})
    expect(again.get("duplicate") is True, f"duplicate detected: {again}")


def test_two_daemons_on_the_cluster_lose_nothing_when_a_node_dies():
    import sys
    from agora_test import api, register
    from gql import channel
    from wsclient import JS, WS, oid
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from test_wsd_replay import start_second_daemon
    c = Cluster(WS_PORT + 400)
    on_cleanup(c.stop)
    c.start_all()
    eventually(lambda: (lambda x: x if x.returncode == 0 else None)(_admin_streams(c)),
               timeout=60, interval=1.0, what="agora-admin streams on the cluster")
    a_port, b_port = WS_PORT + 430, WS_PORT + 431   # above the cluster's own ports (+400..+422)
    start_second_daemon(a_port, {"AGORA_NATS_URLS": c.urls((0, 1, 2))}, name="wsd-cl-a")
    start_second_daemon(b_port, {"AGORA_NATS_URLS": c.urls((1, 2, 0))}, name="wsd-cl-b")
    owner, otok = register()
    cid = channel(otok)
    u, utok = register()
    api("PUT", f"/channels/{cid}/members/{u['id']}", {}, token=utok)
    clients = [WS(otok, port=a_port), WS(utok, port=b_port)]
    for ws in clients:
        ws.ready()
    time.sleep(1.0)          # subscriptions attached: delivery starts live
    js, sent = JS(port=c.client_port(2)), []
    for i in range(30):
        if i == 10:
            c.kill(0)        # daemon A's first server, and maybe a stream leader
        mid = oid()
        deadline = time.monotonic() + 30
        while True:
            try:
                js.publish(f"channel.{cid}.message.created", {"messageId": mid}, msg_id=f"{mid}-created")
                break
            except (OSError, AssertionError):
                expect(time.monotonic() < deadline, f"publish {i} never acknowledged")
                js.close()
                time.sleep(0.5)
                js = JS(port=c.client_port(2))
        sent.append(mid)
    for n, ws in enumerate(clients):
        got, seqs = set(), set()
        deadline = time.monotonic() + 40
        while set(sent) - got and time.monotonic() < deadline:
            f = ws.recv(timeout=1)
            if f and f.get("type") == "channel_message" and f["seq"] not in seqs:
                seqs.add(f["seq"])
                got.add(f["messageId"])
        expect(not set(sent) - got, f"client {n} missed {len(set(sent) - got)} of {len(sent)} events")


def _publish_retrying(js_port, subject, payload, msg_id, c):
    """A JetStream publish through node js_port, retried (same Nats-Msg-Id) while the
    cluster elects new leaders after a node loss."""
    from wsclient import JS
    deadline = time.monotonic() + 30
    while True:
        try:
            js = JS(port=js_port)
            try:
                return js.publish(subject, payload, msg_id=msg_id)
            finally:
                js.close()
        except (OSError, AssertionError):
            expect(time.monotonic() < deadline, f"publish {msg_id} never acknowledged")
            time.sleep(0.5)


def test_user_on_two_daemons_gets_every_dm_and_notification_on_both_through_a_node_kill():
    import sys
    from agora_test import register
    from wsclient import WS, oid
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from test_wsd_replay import start_second_daemon
    c = Cluster(WS_PORT + 400)
    on_cleanup(c.stop)
    c.start_all()
    eventually(lambda: (lambda x: x if x.returncode == 0 else None)(_admin_streams(c)),
               timeout=60, interval=1.0, what="agora-admin streams on the cluster")
    a_port, b_port = WS_PORT + 432, WS_PORT + 433
    start_second_daemon(a_port, {"AGORA_NATS_URLS": c.urls((0, 1, 2))}, name="wsd-cl-dm-a")
    start_second_daemon(b_port, {"AGORA_NATS_URLS": c.urls((1, 2, 0))}, name="wsd-cl-dm-b")
    sender, _ = register()
    u, tu = register()
    devices = [WS(tu, port=a_port), WS(tu, port=b_port)]
    for ws in devices:
        ws.ready()
    time.sleep(1.0)   # both daemons subscribed to the user's consumers
    sent = []         # (stream, seq)
    for i in range(20):
        if i == 8:
            c.kill(0)  # daemon A's server, and perhaps a stream or consumer leader
        if i % 2 == 0:
            seq = _publish_retrying(c.client_port(2), f"user.{u['id']}.dm",
                                    {"messageId": oid(), "from": sender["id"]}, f"cl-dm-{u['id']}-{i}", c)
            sent.append(("dm", seq))
        else:
            seq = _publish_retrying(c.client_port(2), f"user.{u['id']}.notify.new_follower",
                                    {"kind": "new_follower", "userId": sender["id"],
                                     "notificationId": str(i)}, f"cl-nt-{u['id']}-{i}", c)
            sent.append(("notification", seq))
    for n, ws in enumerate(devices):
        got = set()
        deadline = time.monotonic() + 45
        while set(sent) - got and time.monotonic() < deadline:
            f = ws.recv(timeout=1)
            if f and f.get("type") in ("dm", "notification"):
                got.add((f["type"], f["seq"]))
        missing = set(sent) - got
        expect(not missing, f"device on daemon {'AB'[n]} missed {len(missing)} of {len(sent)}: {sorted(missing)[:5]}")
    for ws in devices:
        ws.close()
