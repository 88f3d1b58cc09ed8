"""tests/integration/natscluster.py — a 3-node NATS cluster with JetStream on
loopback, started and stopped by a test (each node its own process, store and
pid; SIGKILL one to test fail-over)."""
import os
import shutil
import signal
import subprocess
import time
import urllib.request

import agora_test as at


class Cluster:
    def __init__(self, base):
        self.base = base
        self.dir = os.path.join(at.VAR, "nats-cluster")
        self.procs = {}
        shutil.rmtree(self.dir, ignore_errors=True)
        os.makedirs(self.dir)

    def client_port(self, i):
        return self.base + i

    def urls(self, order=(0, 1, 2)):
        return ",".join(f"nats://127.0.0.1:{self.client_port(i)}" for i in order)

    def _conf(self, i):
        routes = ", ".join(f"nats-route://127.0.0.1:{self.base + 20 + j}" for j in range(3) if j != i)
        path = os.path.join(self.dir, f"n{i}.conf")
        with open(path, "w") as f:
            f.write(f"""server_name: n{i}
listen: 127.0.0.1:{self.client_port(i)}
http: 127.0.0.1:{self.base + 10 + i}
jetstream {{ store_dir: "{self.dir}/store{i}" }}
cluster {{ name: agora-test, listen: 127.0.0.1:{self.base + 20 + i}, routes: [{routes}] }}
""")
        return path

    def start(self, i):
        log = open(os.path.join(self.dir, f"n{i}.log"), "a")
        self.procs[i] = subprocess.Popen(["nats-server", "-c", self._conf(i)], stdout=log, stderr=log,
                                         start_new_session=True)

    def start_all(self):
        for i in range(3):
            self.start(i)

        def healthy():
            for i in range(3):
                try:
                    urllib.request.urlopen(f"http://127.0.0.1:{self.base + 10 + i}/healthz", timeout=2)
                except OSError:
                    return False
            return True
        at.eventually(healthy, timeout=30, interval=0.2, what="3 NATS nodes healthy")

    def kill(self, i):
        self.procs[i].send_signal(signal.SIGKILL)
        self.procs[i].wait()

    def stop(self):
        for p in self.procs.values():
            if p.poll() is None:
                p.terminate()
        for p in self.procs.values():
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()
