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
