#!/usr/bin/env python3
"""A lock-out attempt on one of the edge's TCP listeners, for tests
(issue 15): N idle TCP connections from SOURCES loopback addresses
(127.0.0.2, 127.0.0.3, ...) that never send a byte, then a real client,
timed; what the edge closed is counted from our side. One line a result:

  lockout.py sip PORT --ca CA --ctl SOCK
      before the flood, a resident TLS connection REGISTERs; after it, a new
      client's TLS handshake and REGISTER ("client: 200 in 0.012 s"), the
      resident's OPTIONS, and 40 connections from one more source
  lockout.py sip-mtls PORT --ca CA --cert C --key K --ctl SOCK
      the same on 5061: a partner's handshake (its certificate) and OPTIONS
  lockout.py stun PORT --ctl SOCK
      a STUN Binding request over TCP from a new client
  lockout.py https PORT --ca CA --ctl SOCK --token TOKEN
      GET /healthz over TLS with the bearer token

--ctl: the edge's control socket, polled (/metrics) until it has accepted
the flood. --hold S: the flood stays S seconds more before it is closed. Every wait is bounded (--timeout, 5 s); exits 1 on a usage or
set-up error only: results are for the test to judge.
"""
import argparse
import os
import socket
import ssl
import struct
import sys
import time

BATCH = 100
# What counts the connections the edge has taken off its listen queue,
# accepted or refused at once.
SEEN = {
    "sip": ['edgelab_sip_connections_total{listener="tls"}',
            'edgelab_sip_refused_total{listener="tls",reason="limit_total"}',
            'edgelab_sip_refused_total{listener="tls",reason="limit_source"}'],
    "sip-mtls": ['edgelab_sip_connections_total{listener="mtls"}',
                 'edgelab_sip_refused_total{listener="mtls",reason="limit_total"}',
                 'edgelab_sip_refused_total{listener="mtls",reason="limit_source"}'],
    "stun": ["edgelab_stun_tcp_accepted_total", "edgelab_stun_tcp_refused_total"],
    "https": [],  # the control API counts no accepted connections
}


def metrics(ctl):
    s = socket.socket(socket.AF_UNIX)
    s.settimeout(2)
    s.connect(ctl)
    s.sendall(b"GET /metrics HTTP/1.0\r\nHost: e\r\n\r\n")
    data = b""
    while True:
        d = s.recv(65536)
        if not d:
            break
        data += d
    s.close()
    out = {}
    for line in data.decode("utf-8", "replace").splitlines():
        parts = line.split()
        if len(parts) == 2 and not line.startswith("#"):
            out[parts[0]] = float(parts[1])
    return out


def seen(a):
    m = metrics(a.ctl)
    return sum(m.get(name, 0) for name in SEEN[a.what])


def wait_seen(a, n):
    """Until the edge has taken n connections in all (bounded)."""
    end = time.time() + 10
    while SEEN[a.what] and time.time() < end:
        if seen(a) >= n:
            return
        time.sleep(0.01)
    if not SEEN[a.what]:
        time.sleep(0.05)


def connect_from(src, port, timeout):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(timeout)
    s.bind((src, 0))
    s.connect(("127.0.0.1", port))
    return s


def flood(a, n, sources, first=2):
    """n connections, in batches that the edge accepts before the next
    (else the listen queue overflows, and a dropped SYN waits 1 s)."""
    socks = []
    before = seen(a)
    for i in range(n):
        socks.append(connect_from("127.0.0.%d" % (first + i % sources), a.port, a.timeout))
        if (i + 1) % BATCH == 0 or i + 1 == n:
            wait_seen(a, before + i + 1)
    return socks


def closed(s):
    """Whether the edge closed s (a FIN or an RST has come), at once."""
    s.settimeout(0)
    try:
        return s.recv(1, socket.MSG_DONTWAIT | socket.MSG_PEEK) == b""
    except BlockingIOError:
        return False
    except OSError:
        return True


def tls(a, raw, cert=None):
    ctx = ssl.create_default_context(cafile=a.ca)
    if cert:
        ctx.load_cert_chain(cert[0], cert[1])
    return ctx.wrap_socket(raw, server_hostname="sip.edge.example")


def read_until(s, pred, limit=65536):
    buf = b""
    while not pred(buf) and len(buf) < limit:
        d = s.recv(4096)
        if not d:
            raise ConnectionError("closed by the edge")
        buf += d
    return buf


def sip_request(s, method, user, n):
    uri = "sip:edge.example" if method == "REGISTER" else "sip:sip.edge.example"
    s.sendall((
        "%s %s SIP/2.0\r\nVia: SIP/2.0/TLS 127.0.0.1:5;branch=z9hG4bKlo%d\r\n"
        "Max-Forwards: 70\r\nFrom: <sip:%s@edge.example>;tag=%d\r\n"
        "To: <sip:%s@edge.example>\r\nCall-ID: lo%d@test\r\nCSeq: %d %s\r\n"
        "Contact: <sip:%s@127.0.0.1:7;transport=tls>\r\nContent-Length: 0\r\n\r\n"
        % (method, uri, n, user, n, user, n, n, method, user)).encode())
    head = read_until(s, lambda b: b"\r\n\r\n" in b)
    return head.split(b"\r\n")[0].decode("ascii", "replace").split(" ")[1]


def timed(label, fn):
    t0 = time.monotonic()
    try:
        result = fn()
        print("%s: %s in %.4f s" % (label, result, time.monotonic() - t0), flush=True)
    except (OSError, ssl.SSLError) as e:
        print("%s: failed after %.3f s: %s" % (label, time.monotonic() - t0, e), flush=True)


def client_register(a):
    s = tls(a, connect_from("127.0.0.1", a.port, a.timeout))
    try:
        return sip_request(s, "REGISTER", "newcomer", 2)
    finally:
        s.close()


def partner_options(a):
    s = tls(a, connect_from("127.0.0.1", a.port, a.timeout), (a.cert, a.key))
    try:
        return sip_request(s, "OPTIONS", "partner", 4)
    finally:
        s.close()


def stun_binding(a):
    s = connect_from("127.0.0.1", a.port, a.timeout)
    tid = os.urandom(12)
    try:
        s.sendall(struct.pack("!HHI", 0x0001, 0, 0x2112A442) + tid)
        hdr = read_until(s, lambda b: len(b) >= 20)
        kind = struct.unpack("!H", hdr[:2])[0]
        if hdr[8:20] != tid:
            return "another transaction"
        return "binding success" if kind == 0x0101 else "type 0x%04x" % kind
    finally:
        s.close()


def https_healthz(a):
    s = tls(a, connect_from("127.0.0.1", a.port, a.timeout))
    try:
        s.sendall(("GET /healthz HTTP/1.1\r\nHost: sip.edge.example\r\n"
                   "Authorization: Bearer %s\r\nConnection: close\r\n\r\n" % a.token).encode())
        head = read_until(s, lambda b: b"\r\n" in b)
        return head.split(b"\r\n")[0].decode("ascii", "replace").split(" ")[1]
    finally:
        s.close()


def report_flood(socks):
    n = sum(closed(s) for s in socks)
    print("flood: %d of %d closed by the edge" % (n, len(socks)), flush=True)


def one_source(a):
    """40 connections from 127.0.0.(2 + sources): beyond the per-source
    limit the edge closes them."""
    src = "127.0.0.%d" % (2 + a.sources)
    socks = [connect_from(src, a.port, a.timeout) for _ in range(40)]
    time.sleep(0.3)
    n = sum(closed(s) for s in socks)
    print("one source: %d of 40 closed by the edge" % n, flush=True)
    return socks


def main():
    p = argparse.ArgumentParser()
    p.add_argument("what", choices=["sip", "sip-mtls", "stun", "https"])
    p.add_argument("port", type=int)
    p.add_argument("--ca")
    p.add_argument("--ctl", required=True)
    p.add_argument("--token")
    p.add_argument("--cert")
    p.add_argument("--key")
    p.add_argument("-n", type=int, default=1100)
    p.add_argument("--sources", type=int, default=37)
    p.add_argument("--timeout", type=float, default=5)
    p.add_argument("--hold", type=float, default=0)
    a = p.parse_args()
    resident = None
    if a.what == "sip":
        resident = tls(a, connect_from("127.0.0.1", a.port, a.timeout))
        print("resident REGISTER: %s" % sip_request(resident, "REGISTER", "resident", 1),
              flush=True)
    t0 = time.monotonic()
    socks = flood(a, a.n, a.sources)
    print("flood: %d connections from %d sources in %.3f s"
          % (len(socks), a.sources, time.monotonic() - t0), flush=True)
    if a.what == "sip":
        timed("client REGISTER", lambda: client_register(a))
        try:
            print("resident OPTIONS: %s" % sip_request(resident, "OPTIONS", "resident", 3),
                  flush=True)
        except (OSError, ssl.SSLError) as e:
            print("resident OPTIONS: failed: %s" % e, flush=True)
        socks += one_source(a)
    elif a.what == "sip-mtls":
        timed("partner OPTIONS", lambda: partner_options(a))
    elif a.what == "stun":
        timed("client Binding", lambda: stun_binding(a))
    else:
        timed("client GET /healthz", lambda: https_healthz(a))
    report_flood(socks[:a.n])
    time.sleep(a.hold)
    for s in socks:
        s.close()


try:
    main()
except (OSError, ssl.SSLError) as e:
    sys.exit("lockout.py: %s" % e)
