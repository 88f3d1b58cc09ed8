"""tests/integration/mongostack.py — the MongoDB content backend for tests: the
wire peer of tests/peers/mongo, and a second agora.fcgi pool on it behind the
test stack's Apache (its own port), so that GraphQL runs on MongoDB through
Apache as it does on PostgreSQL. Users, channels and Redis are the stack's."""
import os
import shutil
import signal
import socket
import subprocess
import time

from agora_test import ROOT, BUILD, VAR, expect, eventually, on_cleanup, request, svc

PEER_DIR = os.path.join(ROOT, "tests", "peers", "mongo")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_peer():
    """Install (idempotent) and start the wire peer on a free port; stopped after the test."""
    for tool in ("node", "npm"):
        if shutil.which(tool) is None:
            raise AssertionError(f"{tool} is not installed: the MongoDB wire peer needs nodejs and npm")
    r = subprocess.run([os.path.join(PEER_DIR, "setup.sh")], capture_output=True, text=True,
                       timeout=600)
    expect(r.returncode == 0, f"tests/peers/mongo/setup.sh failed:\n{r.stdout}\n{r.stderr}")
    port = free_port()
    proc = subprocess.Popen(["node", os.path.join(PEER_DIR, "server.js"), str(port)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

    def stop():
        proc.terminate()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        for f in (proc.stdout, proc.stderr):
            f.close()

    on_cleanup(stop)
    line = proc.stdout.readline()  # "ready PORT" once it listens, EOF if it died
    expect(line.strip() == f"ready {port}", f"wire peer did not start: {line!r} {proc.stderr.read() if proc.poll() is not None else ''}")
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:  # the listener is up; make sure it accepts
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return port
        except OSError:
            time.sleep(0.05)
    raise AssertionError(f"wire peer on port {port} does not accept connections")


def _stop_pool(pidfile, sock):
    try:
        pids = [int(p) for p in open(pidfile).read().split()]
    except OSError:
        pids = []
    for p in pids:
        try:
            os.kill(p, signal.SIGTERM)
        except ProcessLookupError:
            pass
    deadline = time.monotonic() + 5
    for p in pids:
        while time.monotonic() < deadline:
            try:
                os.kill(p, 0)
                time.sleep(0.05)
            except ProcessLookupError:
                break
    for path in (pidfile, sock):
        if os.path.exists(path):
            os.unlink(path)


def start_api_on_mongodb():
    """The wire peer, an agora.fcgi pool whose content lives there, and an Apache
    virtual host for it; returns the HTTP port. All of it goes after the test."""
    mport = start_peer()
    run = os.path.join(VAR, "run")
    sock, pidfile = os.path.join(run, "fcgi-mongo.sock"), os.path.join(run, "fcgi-mongo.pid")
    _stop_pool(pidfile, sock)
    env = dict(os.environ, AGORA_MONGODB_URI=f"mongodb://127.0.0.1:{mport}/",
               AGORA_MONGODB_DB=f"agora_api_{os.getpid()}")
    own = ["-U", "www-data", "-G", "www-data"] if os.geteuid() == 0 else []
    with open(os.path.join(VAR, "logs", "fcgi-mongo.log"), "ab") as log:
        subprocess.run(["spawn-fcgi", "-s", sock, "-M", "0660", *own, "-F", "1", "-P", pidfile, "--",
                        os.path.join(BUILD, "fcgi", "agora.fcgi")], env=env, check=True, stdout=log,
                       stderr=log)
    on_cleanup(lambda: _stop_pool(pidfile, sock))
    port = free_port()
    conf = os.path.join(VAR, "apache", "extra", "mongo-api.conf")
    os.makedirs(os.path.dirname(conf), exist_ok=True)
    route = ('    <Location "{loc}">\n        ProxyPass "unix:{sock}|fcgi://agora-mongo{loc}"\n'
             '        CGIPassAuth On\n    </Location>\n')
    with open(conf, "w") as f:
        f.write(f"Listen 127.0.0.1:{port}\n<VirtualHost 127.0.0.1:{port}>\n    ServerName 127.0.0.1\n" +
                route.format(loc="/api/", sock=sock) + route.format(loc="/graphql", sock=sock) +
                "</VirtualHost>\n")

    def unroute():
        os.unlink(conf)
        svc("start", "apache")  # a graceful restart without the extra host

    on_cleanup(unroute)
    svc("start", "apache")  # graceful: picks up the extra host
    health = eventually(lambda: (lambda r: r if r is not None and r.status == 200 else None)(
        _try(lambda: request("GET", "/api/v1/health", port=port, timeout=5))),
        timeout=20, what="agora.fcgi on MongoDB behind Apache")
    expect(health.json["checks"]["content"] == "ok", health)
    return port


def _try(fn):
    try:
        return fn()
    except OSError:
        return None
