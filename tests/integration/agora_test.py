"""tests/integration/agora_test.py — helpers for tests against the stack that
./agora test started: HTTP calls through Apache, service control through
./agora svc, and polling with a deadline (never a fixed sleep as an assertion)."""
import http.client
import json
import os
import subprocess
import time

ROOT = os.environ.get("AGORA_ROOT", os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..")))
HTTP_PORT = int(os.environ.get("AGORA_HTTP_PORT", "18080"))
WS_PORT = int(os.environ.get("AGORA_WS_PORT", "18081"))
NATS_PORT = int(os.environ.get("AGORA_NATS_PORT", "14222"))
REDIS_PORT = int(os.environ.get("AGORA_REDIS_PORT", "16379"))
PG_PORT = int(os.environ.get("AGORA_PG_PORT", "15432"))
VAR = os.environ.get("AGORA_VAR", os.path.join(ROOT, "var", "test"))
BUILD = os.environ.get("AGORA_BUILD", os.path.join(ROOT, "build", "test"))

_cleanups = []


class Skip(Exception):
    """Raised by a test that cannot run here; the reason is printed."""


def on_cleanup(fn):
    """Run fn after the current test, pass or fail (e.g. restart a service it stopped)."""
    _cleanups.append(fn)


def cleanup():
    while _cleanups:
        fn = _cleanups.pop()
        try:
            fn()
        except Exception as e:  # noqa: BLE001
            print(f"    cleanup failed: {e}")


class Response:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers
        self.body = body

    @property
    def json(self):
        return json.loads(self.body) if self.body else None

    def header(self, name):
        for k, v in self.headers:
            if k.lower() == name.lower():
                return v
        return None

    def __repr__(self):
        return f"<{self.status} {self.body[:300]!r}>"


_src = [0]


def fresh_source():
    """A loopback source address of its own (127.0.x.y), so per-IP rate limits of one
    test do not spill into another: Apache sees each as a different client."""
    _src[0] += 1
    n = _src[0]
    return f"127.0.{1 + (n // 250) % 250}.{1 + n % 250}"


def request(method, path, body=None, token=None, headers=None, raw=None, timeout=15, port=None,
            source=None):
    """One HTTP request through Apache; body is JSON-encoded unless raw bytes are given."""
    h = {}
    if body is not None:
        raw = json.dumps(body).encode()
        h["Content-Type"] = "application/json"
    if token:
        h["Authorization"] = "Bearer " + token
    h.update(headers or {})
    c = http.client.HTTPConnection("127.0.0.1", port or HTTP_PORT, timeout=timeout,
                                   source_address=(source, 0) if source else None)
    try:
        c.request(method, path, body=raw, headers=h)
        r = c.getresponse()
        return Response(r.status, r.getheaders(), r.read())
    finally:
        c.close()


def api(method, path, body=None, token=None, **kw):
    return request(method, "/api/v1" + path, body=body, token=token, **kw)


def svc(action, name):
    """Start or stop one service of the test stack the way ./agora does."""
    env = dict(os.environ, AGORA_PROFILE="test")
    subprocess.run([os.path.join(ROOT, "agora"), "svc", action, name], check=True, env=env,
                   stdout=subprocess.DEVNULL)


def eventually(fn, timeout=10.0, interval=0.05, what="condition"):
    """Poll fn until it returns a truthy value; fail with the last value after timeout."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = fn()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError(f"{what} not reached within {timeout}s (last: {last!r})")


def expect(cond, msg):
    if not cond:
        raise AssertionError(msg)


def expect_error(r, status, code):
    """The contract's error envelope with this HTTP status and code."""
    expect(r.status == status, f"want {status}, got {r!r}")
    j = r.json
    expect(isinstance(j, dict) and "error" in j, f"no error envelope: {r!r}")
    expect(j["error"].get("code") == code, f"want code {code}, got {j['error']!r}")
    expect(isinstance(j["error"].get("message"), str) and j["error"]["message"],
           f"error without message: {j!r}")


# ---- accounts --------------------------------------------------------------
_seq = [int(time.time() * 1000) % 1000000]


def unique(prefix="u"):
    """A fresh username-safe name for this run."""
    _seq[0] += 1
    return f"{prefix}{os.getpid() % 1000}_{_seq[0]}"


def register(name=None, password="password123", display=None):
    """Register a user; returns (user, token)."""
    body = {"username": name or unique(), "password": password}
    if display:
        body["displayName"] = display
    r = api("POST", "/auth/register", body, source=fresh_source())
    expect(r.status == 201, f"register: {r!r}")
    return r.json["user"], r.json["token"]


def psql(sql, *files):
    """Run SQL (or the given files) against the test stack's database; the output, trimmed."""
    args = ["psql", "-X", "-q", "-h", "127.0.0.1", "-p", str(PG_PORT), "-U", "agora", "-d", "agora",
            "-At", "-v", "ON_ERROR_STOP=1"]
    args += ["-c", sql] if sql else []
    for f in files:
        args += ["-f", f]
    return subprocess.run(args, check=True, capture_output=True, text=True).stdout.strip()


def redis_cli(*args):
    out = subprocess.run(["redis-cli", "-p", str(REDIS_PORT), *map(str, args)], check=True,
                         capture_output=True, text=True).stdout
    return out.strip()


# ---- a minimal NATS client (core protocol) to observe events --------------
class Nats:
    """Subscribe to subjects and collect (subject, json payload) messages."""

    def __init__(self, *subjects):
        import socket
        self.sock = socket.create_connection(("127.0.0.1", NATS_PORT), timeout=5)
        self.buf = b""
        self._line()  # INFO
        self.sock.sendall(b'CONNECT {"verbose":false,"pedantic":false}\r\n')
        for i, s in enumerate(subjects, 1):
            self.sock.sendall(f"SUB {s} {i}\r\n".encode())
        self.sock.sendall(b"PING\r\n")
        while self._line() != b"PONG":
            pass
        self.msgs = []

    def _line(self):
        while b"\r\n" not in self.buf:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise AssertionError("NATS closed the connection")
            self.buf += chunk
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line

    def _read(self, n):
        while len(self.buf) < n + 2:
            self.buf += self.sock.recv(65536)
        data, self.buf = self.buf[:n], self.buf[n + 2:]
        return data

    def poll(self, timeout=0.2):
        self.sock.settimeout(timeout)
        try:
            while True:
                line = self._line()
                if line.startswith(b"MSG "):
                    parts = line.split()
                    data = self._read(int(parts[-1]))
                    self.msgs.append((parts[1].decode(), json.loads(data) if data else None))
                elif line == b"PING":
                    self.sock.sendall(b"PONG\r\n")
        except OSError:
            pass
        return self.msgs

    def wait_for(self, subject, pred=lambda p: True, timeout=5):
        def found():
            self.poll(0.1)
            for s, p in self.msgs:
                if s == subject and pred(p):
                    return (s, p)
            return None
        return eventually(found, timeout=timeout, what=f"event on {subject}")

    def close(self):
        self.sock.close()
