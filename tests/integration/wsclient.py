"""tests/integration/wsclient.py — a small synchronous WebSocket client for the
agora-wsd tests (RFC 6455 over a plain socket), plus helpers to publish the
JetStream events the GraphQL API will publish. Written here rather than using
python3-websockets so that tests control every byte (oversized frames, a
client that never reads, raw handshakes)."""
import base64
import json
import os
import socket
import struct
import time

import agora_test as at


class HandshakeError(Exception):
    def __init__(self, status, head):
        super().__init__(f"handshake refused: HTTP {status}")
        self.status = status
        self.head = head


class Closed(Exception):
    def __init__(self, code, reason):
        super().__init__(f"closed {code} {reason!r}")
        self.code = code
        self.reason = reason


class WS:
    def __init__(self, token=None, port=None, path="/", header_token=False, timeout=5,
                 rcvbuf=None, protocols=None):
        self.port = port or at.WS_PORT
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if rcvbuf:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        self.sock.settimeout(timeout)
        self.sock.connect(("127.0.0.1", self.port))
        self.buf = b""
        self.frames = []       # every JSON frame received, in order
        self.closed = None     # (code, reason) once closed
        key = base64.b64encode(os.urandom(16)).decode()
        if token and not header_token:
            path += ("&" if "?" in path else "?") + "access_token=" + token
        lines = [f"GET {path} HTTP/1.1", f"Host: 127.0.0.1:{self.port}", "Upgrade: websocket",
                 "Connection: Upgrade", f"Sec-WebSocket-Key: {key}", "Sec-WebSocket-Version: 13"]
        if token and header_token:
            lines.append("Authorization: Bearer " + token)
        if protocols:  # Sec-WebSocket-Protocol, e.g. "graphql-transport-ws"
            lines.append("Sec-WebSocket-Protocol: " + protocols)
        self.sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        while b"\r\n\r\n" not in self.buf:
            chunk = self.sock.recv(65536)
            if not chunk:
                break
            self.buf += chunk
        head, _, self.buf = self.buf.partition(b"\r\n\r\n")
        status = int(head.split(b" ", 2)[1]) if head.startswith(b"HTTP/") else 0
        self.head = head.decode(errors="replace")
        if status != 101:
            self.sock.close()
            raise HandshakeError(status, head)

    # ---- sending ----------------------------------------------------------
    def send_raw(self, payload, opcode=1, fin=True):
        mask = os.urandom(4)
        n = len(payload)
        hdr = bytes([(0x80 if fin else 0) | opcode])
        if n < 126:
            hdr += bytes([0x80 | n])
        elif n < 65536:
            hdr += bytes([0x80 | 126]) + struct.pack(">H", n)
        else:
            hdr += bytes([0x80 | 127]) + struct.pack(">Q", n)
        masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        self.sock.sendall(hdr + mask + masked)

    def send(self, obj):
        self.send_raw(json.dumps(obj).encode() if not isinstance(obj, (bytes, str))
                      else (obj.encode() if isinstance(obj, str) else obj))

    # ---- receiving --------------------------------------------------------
    def _need(self, n):
        while len(self.buf) < n:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise Closed(1006, "eof")
            self.buf += chunk

    def _frame(self):
        self._need(2)
        b0, b1 = self.buf[0], self.buf[1]
        n, off = b1 & 0x7F, 2
        if n == 126:
            self._need(4)
            n, off = struct.unpack(">H", self.buf[2:4])[0], 4
        elif n == 127:
            self._need(10)
            n, off = struct.unpack(">Q", self.buf[2:10])[0], 10
        self._need(off + n)
        payload, self.buf = self.buf[off:off + n], self.buf[off + n:]
        return b0 & 0x0F, payload

    def recv(self, timeout=5):
        """Next JSON frame, or None on timeout. Answers pings; raises Closed."""
        if self.closed:
            raise Closed(*self.closed)
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            self.sock.settimeout(left)
            try:
                op, payload = self._frame()
            except socket.timeout:
                return None
            except (ConnectionResetError, BrokenPipeError):
                self.closed = (1006, "reset")
                raise Closed(*self.closed)
            except Closed as e:
                self.closed = (e.code, e.reason)
                raise
            if op == 9:
                self.send_raw(payload, opcode=10)
            elif op == 8:
                code = struct.unpack(">H", payload[:2])[0] if len(payload) >= 2 else 1005
                self.closed = (code, payload[2:].decode(errors="replace"))
                raise Closed(*self.closed)
            elif op == 1:
                f = json.loads(payload)
                self.frames.append(f)
                return f

    def wait(self, pred, timeout=8, what="frame"):
        """The first frame (received from now on) for which pred is true."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            f = self.recv(deadline - time.monotonic())
            if f is not None and pred(f):
                return f
        raise AssertionError(f"no {what} within {timeout}s; got {self.frames[-10:]!r}")

    def wait_type(self, typ, timeout=8, **match):
        return self.wait(lambda f: f.get("type") == typ and
                         all(f.get(k) == v for k, v in match.items()), timeout,
                         f"{typ} {match}")

    def collect(self, seconds):
        """Every frame arriving within the next `seconds`."""
        out = []
        deadline = time.monotonic() + seconds
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return out
            try:
                f = self.recv(left)
            except Closed:
                return out
            if f is not None:
                out.append(f)

    def ready(self, timeout=8):
        return self.wait_type("ready", timeout)

    def header(self, name):
        """A header of the 101 answer (case-insensitive), or None."""
        for line in self.head.split("\r\n")[1:]:
            k, _, v = line.partition(":")
            if k.strip().lower() == name.lower():
                return v.strip()
        return None

    def close(self):
        try:
            self.send_raw(struct.pack(">H", 1000), opcode=8)
        except OSError:
            pass
        self.sock.close()


# ---- JetStream publishing (what the GraphQL API will do) ---------------------
class JS:
    """Publishes with a Nats-Msg-Id header and waits for the stream's ack."""

    def __init__(self, port=None):
        self.sock = socket.create_connection(("127.0.0.1", port or at.NATS_PORT), timeout=5)
        self.buf = b""
        self._line()
        self.sock.sendall(b'CONNECT {"verbose":false,"pedantic":false,"headers":true}\r\n')
        self.inbox = "_INBOX.wsdtest" + os.urandom(6).hex()
        self.sock.sendall(f"SUB {self.inbox}.* 1\r\n".encode())
        self.n = 0

    def _line(self):
        while b"\r\n" not in self.buf:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise AssertionError("NATS closed")
            self.buf += chunk
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line

    def _read(self, n):
        while len(self.buf) < n + 2:
            self.buf += self.sock.recv(65536)
        data, self.buf = self.buf[:n], self.buf[n + 2:]
        return data

    def request(self, subject, payload, headers=None, timeout=5):
        self.n += 1
        reply = f"{self.inbox}.{self.n}"
        body = json.dumps(payload).encode() if not isinstance(payload, bytes) else payload
        if headers:
            h = "NATS/1.0\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers.items()) + "\r\n"
            hb = h.encode()
            self.sock.sendall(f"HPUB {subject} {reply} {len(hb)} {len(hb) + len(body)}\r\n"
                              .encode() + hb + body + b"\r\n")
        else:
            self.sock.sendall(f"PUB {subject} {reply} {len(body)}\r\n".encode() + body + b"\r\n")
        self.sock.settimeout(timeout)
        while True:
            line = self._line()
            if line == b"PING":
                self.sock.sendall(b"PONG\r\n")
            elif line.startswith(b"MSG ") or line.startswith(b"HMSG "):
                parts = line.split()
                data = self._read(int(parts[-1]))
                if parts[1].decode() != reply:
                    continue
                if line.startswith(b"HMSG "):
                    data = data[int(parts[-2]):]
                return json.loads(data) if data.strip() else {}

    def publish(self, subject, payload, msg_id=None):
        """JetStream publish; returns the stream sequence."""
        ack = self.request(subject, payload, {"Nats-Msg-Id": msg_id or os.urandom(8).hex()})
        if "seq" not in ack:
            raise AssertionError(f"publish to {subject} not acked: {ack!r}")
        return ack["seq"]

    def core(self, subject, payload):
        body = json.dumps(payload).encode()
        self.sock.sendall(f"PUB {subject} {len(body)}\r\n".encode() + body + b"\r\n")

    def api(self, subject, payload=b""):
        return self.request(subject, payload)

    def close(self):
        self.sock.close()


def oid():
    """A Mongo-ObjectId-like message id."""
    return os.urandom(12).hex()
