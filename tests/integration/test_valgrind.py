"""Leaks and memory errors under valgrind: agora-wsd under a short load of real
clients and events, and a worker draining real events, both from the release
build (valgrind cannot run sanitizer builds), both ending with no definite or
indirect leak and no invalid access."""
import os
import re
import signal
import subprocess
import time
import urllib.request

from agora_test import BUILD, WS_PORT, Skip, api, eventually, expect, register
from gql import channel, post

RELEASE = os.environ.get("AGORA_RELEASE_BUILD", "")
SUPP = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "valgrind.supp")
VALGRIND = ["valgrind", "--leak-check=full", "--errors-for-leak-kinds=definite,indirect",
            "--show-leak-kinds=definite,indirect", "--error-exitcode=42", "--track-fds=no",
            f"--suppressions={SUPP}"]


def _release(prog):
    path = os.path.join(RELEASE, prog)
    if not RELEASE or not os.path.exists(path):
        raise Skip(f"no release build of {prog} (AGORA_RELEASE_BUILD unset): ./agora test builds it")
    return path


def _summary(log):
    text = open(log).read()
    errors = re.search(r"ERROR SUMMARY: (\d+) errors", text)
    return text, int(errors.group(1)) if errors else -1


def test_worker_drains_under_valgrind_without_leaks(tmp=None):
    worker = _release("workers/agora-worker")
    u, tok = register()
    cid = channel(tok)
    other, otok = register()
    api("PUT", f"/channels/{cid}/members/{other['id']}", {}, token=otok)
    for i in range(5):
        post(tok, cid, f"hello @{other['username']} number {i}")
    log = os.path.join(os.environ.get("AGORA_VAR", "/tmp"), "logs", "valgrind-worker.log")
    r = subprocess.run(VALGRIND + [f"--log-file={log}", worker, "fanout", "--max-seconds", "30"],
                       capture_output=True, text=True, timeout=300)
    text, errors = _summary(log)
    expect(r.returncode == 0, f"worker exit {r.returncode}: {r.stderr[-2000:]}\n{text[-3000:]}")
    expect(errors == 0, f"valgrind errors: {text[-3000:]}")
    n = api("GET", "/notifications", token=otok).json["items"]
    expect(sum(1 for x in n if x["kind"] == "mention") == 5, f"the run did its work: {n}")


def test_wsd_under_load_under_valgrind_without_leaks():
    wsd = _release("wsd/agora-wsd")
    from wsclient import WS
    port = WS_PORT + 200
    log = os.path.join(os.environ.get("AGORA_VAR", "/tmp"), "logs", "valgrind-wsd.log")
    env = dict(os.environ, AGORA_WS_PORT=str(port))
    proc = subprocess.Popen(VALGRIND + [f"--log-file={log}", wsd], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        def healthy():
            try:
                return urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2).status == 200
            except OSError:
                return False
        eventually(healthy, timeout=60, interval=0.5, what="agora-wsd under valgrind")
        u, tok = register()
        cid = channel(tok)
        clients = []
        for _ in range(3):
            v, vtok = register()
            api("PUT", f"/channels/{cid}/members/{v['id']}", {}, token=vtok)
            ws = WS(vtok, port=port, timeout=20)
            ws.ready(timeout=30)
            clients.append(ws)
        p = post(tok, cid, "under valgrind")
        for ws in clients:
            f = ws.wait_type("channel_message", timeout=30, messageId=p["id"])
            ws.send({"action": "read", "channelId": cid, "seq": f["seq"]})
            ws.send({"action": "typing", "channelId": cid})
            ws.send("{not json")
        for ws in clients[:2]:
            ws.close()
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            code = proc.wait(timeout=120)
        except subprocess.TimeoutExpired:
            proc.kill()
            code = -9
    text, errors = _summary(log)
    expect(code == 0, f"agora-wsd exit {code} under valgrind:\n{text[-3000:]}")
    expect(errors == 0, f"valgrind errors:\n{text[-4000:]}")
