#!/usr/bin/env python3
"""WebSocket load client for tests/bench/ws.sh: holds many authenticated /ws/notifications sockets
in one process and times the events pushed to them.

Standard library only (epoll, non-blocking sockets, a minimal RFC 6455 client: handshake, masked
client frames, pings answered, close frames honoured), so it is independent of Qt and costs far
less CPU per socket than a general-purpose library. Arrival times are the kernel's receive
timestamps (SO_TIMESTAMPNS), taken when the host's bytes reach this socket on loopback, so the
latency does not include the time this client takes to get round to reading 10,000 sockets; the
client's own read lag (user-space read time minus kernel time) is reported separately.

Driven by files in a control directory (ws.sh writes them):
  users.tsv      one "user_id<TAB>sign-in id<TAB>email" per line; access tokens are minted here with the
                 host's HS256 secret (YIELDHOST_JWT_SECRET in the environment)
  ready.json     written here once every socket is open and authenticated (or failed)
  published      written by ws.sh after the publishing transaction committed:
                 "<statement start µs> <after commit µs> <rows>"; events are then awaited for
                 --wait seconds at most (all of them normally arrive well before)
  result.json    written here when every socket has its event or the wait ran out
  stop           written by ws.sh (after reading the host's RSS): close everything and exit
"""
import argparse
import base64
import errno
import hashlib
import hmac
import json
import os
import select
import socket
import struct
import sys
import time
import uuid

SO_TIMESTAMPNS = getattr(socket, "SO_TIMESTAMPNS", 35)  # Linux: SCM_TIMESTAMPNS carries a struct timespec
GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
EVENT = "wallet.updated"

CONNECTING, HANDSHAKE, AUTHENTICATING, OPEN, CLOSED = range(5)


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=")


def access_token(secret, user_id, sign_in, email, now, ttl):
    # The claims plugins/users/src/AuthRoutes.cpp::accessToken() signs and UserAuthenticator checks.
    claims = {"sub": user_id, "email": email, "sid": sign_in, "ver": 0, "iat": now, "exp": now + ttl,
              "jti": str(uuid.uuid4()), "typ": "access", "iss": "yieldhost"}
    signing_input = b64url(b'{"alg":"HS256","typ":"JWT"}') + b"." + b64url(json.dumps(claims, separators=(",", ":")).encode())
    return (signing_input + b"." + b64url(hmac.new(secret, signing_input, hashlib.sha256).digest())).decode()


def client_frame(opcode, payload):
    mask = os.urandom(4)
    n = len(payload)
    if n < 126:
        head = struct.pack("!BB", 0x80 | opcode, 0x80 | n)
    elif n < 65536:
        head = struct.pack("!BBH", 0x80 | opcode, 0x80 | 126, n)
    else:
        head = struct.pack("!BBQ", 0x80 | opcode, 0x80 | 127, n)
    key = int.from_bytes((mask * (n // 4 + 1))[:n], "big")
    return head + mask + (int.from_bytes(payload, "big") ^ key).to_bytes(n, "big")


def pct(values, p):
    if not values:
        return float("nan")
    s = sorted(values)
    return s[min(len(s) - 1, max(0, int(round(p / 100 * len(s) + 0.5)) - 1))]


class Conn:
    __slots__ = ("sock", "idx", "user", "state", "buf", "key", "frag", "kernel_ns", "started", "opened", "event", "extra",
                 "close_code", "why")

    def __init__(self, idx, user):
        self.idx, self.user = idx, user
        self.state, self.buf, self.frag = CONNECTING, bytearray(), None
        self.kernel_ns = self.started = self.opened = self.key = None
        self.event = None  # (sent_at_us, kernel_ns, read_ns)
        self.extra = 0  # events after the first
        self.close_code, self.why = None, None


class Client:
    def __init__(self, args, users):
        self.args, self.users = args, users
        self.ep = select.epoll()
        self.by_fd = {}
        self.conns = []
        self.open = 0
        self.in_flight = 0
        self.failed = {}  # reason -> count, before authentication
        self.dropped = {}  # close code -> count, after authentication
        self.misdelivered = 0
        self.errors = 0
        self.received = 0

    # -- sockets ---------------------------------------------------------------------------------
    def start(self, idx):
        c = Conn(idx, self.users[idx][0])
        c.started = time.monotonic()
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setblocking(False)
        s.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        c.sock = s
        self.conns.append(c)
        self.in_flight += 1
        err = s.connect_ex((self.args.host, self.args.port))
        if err not in (0, errno.EINPROGRESS):
            self.fail(c, "connect: " + errno.errorcode.get(err, str(err)))
            return
        self.by_fd[s.fileno()] = c
        self.ep.register(s.fileno(), select.EPOLLOUT)

    def send(self, c, data):
        try:
            if c.sock.send(data) != len(data):
                raise BlockingIOError
        except OSError as e:
            self.fail(c, "send: " + (errno.errorcode.get(e.errno, str(e)) if e.errno else "short write"))
            return False
        return True

    def fail(self, c, why, code=None):
        if c.state == CLOSED:
            return
        if c.state == OPEN:
            self.open -= 1
            key = f"{code}" if code is not None else why
            self.dropped[key] = self.dropped.get(key, 0) + 1
        else:
            self.in_flight -= 1
            key = f"close {code}: {why}" if code is not None else why
            self.failed[key] = self.failed.get(key, 0) + 1
        c.state, c.close_code, c.why = CLOSED, code, why
        fd = c.sock.fileno()
        if fd in self.by_fd:
            del self.by_fd[fd]
            try:
                self.ep.unregister(fd)
            except OSError:
                pass
        c.sock.close()

    def writable(self, c):
        err = c.sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
        if err:
            self.fail(c, "connect: " + errno.errorcode.get(err, str(err)))
            return
        c.key = base64.b64encode(os.urandom(16))
        request = (f"GET /ws/notifications?token={self.users[c.idx][2]} HTTP/1.1\r\nHost: {self.args.host}:{self.args.port}\r\n"
                   f"Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: {c.key.decode()}\r\nSec-WebSocket-Version: 13\r\n\r\n")
        c.state = HANDSHAKE
        self.ep.modify(c.sock.fileno(), select.EPOLLIN)
        self.send(c, request.encode())

    def readable(self, c):
        try:
            data, ancillary, _, _ = c.sock.recvmsg(65536, 64)
        except BlockingIOError:
            return
        except OSError as e:
            self.fail(c, "recv: " + errno.errorcode.get(e.errno, str(e)))
            return
        read_ns = time.time_ns()
        if not data:
            self.fail(c, "EOF")
            return
        c.kernel_ns = None
        for level, kind, payload in ancillary:
            if level == socket.SOL_SOCKET and kind == SO_TIMESTAMPNS and len(payload) >= 16:
                sec, nsec = struct.unpack_from("qq", payload)
                c.kernel_ns = sec * 1_000_000_000 + nsec
        c.buf += data
        if c.state == HANDSHAKE:
            end = c.buf.find(b"\r\n\r\n")
            if end < 0:
                return
            head = bytes(c.buf[:end]).decode("latin-1").split("\r\n")
            del c.buf[:end + 4]
            accept = base64.b64encode(hashlib.sha1(c.key + GUID).digest()).decode()
            fields = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in head[1:])}
            if head[0].split(" ")[1:2] != ["101"] or fields.get("sec-websocket-accept") != accept:
                self.fail(c, "handshake: " + head[0])
                return
            # Its reply (after the token was checked) says the socket is authenticated and subscribed.
            c.state = AUTHENTICATING
            if not self.send(c, client_frame(0x1, b'{"command":"ping"}')):
                return
        self.frames(c, read_ns)

    def frames(self, c, read_ns):
        buf = c.buf
        while len(buf) >= 2 and c.state != CLOSED:
            b0, b1 = buf[0], buf[1]
            n, off = b1 & 0x7F, 2
            if n == 126:
                if len(buf) < 4:
                    return
                n, off = struct.unpack_from("!H", buf, 2)[0], 4
            elif n == 127:
                if len(buf) < 10:
                    return
                n, off = struct.unpack_from("!Q", buf, 2)[0], 10
            if b1 & 0x80:
                self.fail(c, "protocol: a masked server frame")
                return
            if len(buf) < off + n:
                return
            payload = bytes(buf[off:off + n])
            del buf[:off + n]
            opcode, fin = b0 & 0x0F, b0 & 0x80
            if opcode in (0x1, 0x0):
                c.frag = payload if opcode == 0x1 else (c.frag or b"") + payload
                if fin:
                    message, c.frag = c.frag, None
                    self.message(c, message, read_ns)
            elif opcode == 0x8:
                code = struct.unpack_from("!H", payload)[0] if len(payload) >= 2 else 1005
                self.send(c, client_frame(0x8, payload[:2]))
                self.fail(c, payload[2:].decode("utf-8", "replace"), code)
            elif opcode == 0x9:
                self.send(c, client_frame(0xA, payload))
            elif opcode != 0xA:
                self.fail(c, f"protocol: opcode {opcode}")

    def message(self, c, message, read_ns):
        try:
            m = json.loads(message)
        except ValueError:
            self.errors += 1
            return
        kind = m.get("type")
        if kind == "pong" and c.state == AUTHENTICATING:
            c.state, c.opened = OPEN, time.monotonic()
            self.open += 1
            self.in_flight -= 1
        elif kind == EVENT:
            data = m.get("data") or {}
            if data.get("wallet_id") != c.user:
                self.misdelivered += 1
            elif c.event is None:
                c.event = (int(data.get("sent_at_us", 0)), c.kernel_ns, read_ns)
                self.received += 1
            else:
                c.extra += 1
        elif kind == "error":
            self.errors += 1

    def poll(self, timeout):
        for fd, mask in self.ep.poll(timeout, 1024):
            c = self.by_fd.get(fd)
            if c is None:
                continue
            if c.state == CONNECTING:
                self.writable(c)
            elif mask & (select.EPOLLIN | select.EPOLLERR | select.EPOLLHUP):
                self.readable(c)

    # -- phases ----------------------------------------------------------------------------------
    def connect_all(self):
        t0, cpu0 = time.monotonic(), os.times()
        nxt, n = 0, len(self.users)
        while nxt < n or self.in_flight > 0:
            while nxt < n and self.in_flight < self.args.in_flight:
                self.start(nxt)
                nxt += 1
            self.poll(0.5)
            if time.monotonic() - t0 > self.args.connect_timeout:
                for c in self.conns:
                    if c.state in (CONNECTING, HANDSHAKE, AUTHENTICATING):
                        self.fail(c, "connect timeout")
                break
        t1, cpu1 = time.monotonic(), os.times()
        times = [c.opened - c.started for c in self.conns if c.state == OPEN]
        return {"requested": n, "open": self.open, "failed": self.failed, "seconds": t1 - t0,
                "per_socket_ms_p50": pct(times, 50) * 1000, "per_socket_ms_p99": pct(times, 99) * 1000,
                "per_socket_ms_max": max(times, default=float("nan")) * 1000,
                "client_cpu_s": (cpu1.user - cpu0.user) + (cpu1.system - cpu0.system)}

    def wait_for_file(self, path):
        while not os.path.exists(path):
            self.poll(0.2)

    def await_events(self, published):
        """Until every open socket has its event, or --wait seconds after publishing."""
        cpu0 = os.times()
        self.wait_for_file(published)
        deadline = time.monotonic() + self.args.wait
        while time.monotonic() < deadline:
            self.poll(0.05)
            if self.received >= self.open and not any(c.state == OPEN and c.event is None for c in self.conns):
                break
        cpu1 = os.times()
        return (cpu1.user - cpu0.user) + (cpu1.system - cpu0.system)


def write_json(path, value):
    with open(path + ".tmp", "w") as f:
        json.dump(value, f)
    os.replace(path + ".tmp", path)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--control", required=True, help="the control directory (see the module's comment)")
    p.add_argument("--in-flight", type=int, default=100, help="handshakes in progress at once")
    p.add_argument("--connect-timeout", type=float, default=300)
    p.add_argument("--wait", type=float, default=30, help="seconds to wait for the events after publishing")
    args = p.parse_args()
    secret = os.environ["YIELDHOST_JWT_SECRET"].encode()
    control = args.control

    t = time.monotonic()
    now = int(time.time())
    users = []
    with open(os.path.join(control, "users.tsv")) as f:
        for line in f:
            user_id, sign_in, email = line.split()
            users.append((user_id, sign_in, access_token(secret, user_id, sign_in, email, now, 3600)))
    mint_s = time.monotonic() - t

    client = Client(args, users)
    connected = client.connect_all()
    connected["mint_s"] = mint_s
    write_json(os.path.join(control, "ready.json"), connected)

    cpu = client.await_events(os.path.join(control, "published"))
    with open(os.path.join(control, "published")) as f:
        start_us, commit_us, rows = (int(x) for x in f.read().split())
    got = [c.event for c in client.conns if c.event]
    kernel = [e for e in got if e[1] is not None]
    from_insert = [(k / 1000 - s) / 1000 for s, k, _ in kernel]
    from_commit = [(k / 1000 - commit_us) / 1000 for _, k, _ in kernel]
    read_lag = [(r - k) / 1e6 for _, k, r in kernel]
    open_without = [c.idx for c in client.conns if c.state == OPEN and not c.event]
    # Authenticated once, closed since (by the host: a close frame, a reset) and without the event.
    closed_without = [(c.idx, c.close_code, c.why) for c in client.conns if c.state == CLOSED and c.opened and not c.event]
    result = {
        "rows": rows, "statement_ms": (commit_us - start_us) / 1000, "received": client.received,
        "without_kernel_timestamp": len(got) - len(kernel), "duplicates": sum(c.extra for c in client.conns),
        "misdelivered": client.misdelivered, "errors": client.errors, "open": client.open, "dropped": client.dropped,
        "missing_open": len(open_without), "missing_open_sample": open_without[:10],
        "missing_closed": len(closed_without), "missing_closed_sample": closed_without[:10],
        "from_insert_ms": [pct(from_insert, 50), pct(from_insert, 99), max(from_insert, default=float("nan"))],
        "from_commit_ms": [pct(from_commit, 50), pct(from_commit, 99), max(from_commit, default=float("nan")),
                           min(from_commit, default=float("nan"))],
        "read_lag_ms": [pct(read_lag, 50), pct(read_lag, 99), max(read_lag, default=float("nan"))],
        "client_cpu_s": cpu,
        # arrivals per 100 ms after the commit: when the events came
        "timeline": [sum(1 for x in from_commit if i * 100 <= x < (i + 1) * 100) for i in range(int(max(from_commit, default=0) // 100) + 1)],
    }
    write_json(os.path.join(control, "result.json"), result)
    client.wait_for_file(os.path.join(control, "stop"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
