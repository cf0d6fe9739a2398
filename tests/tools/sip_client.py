#!/usr/bin/env python3
"""A SIP client over TLS for tests: connections to the edge on
127.0.0.1:PORT for each PORT (its certificate checked against --ca for
sip.edge.example; ours, --cert/--key, presented where asked for: 5061),
requests sent one at a time, each answer's status line printed as it comes
(provisional ones skipped).

  sip_client.py PORT[,PORT...] --ca CA [--cert C --key K] [--ready] options N
      N OPTIONS to the edge on each connection in turn, each sent once the
      previous one's answer came
  sip_client.py PORT --ca CA message URI
      one MESSAGE to URI

--ready: once every connection is up, print "ready" and wait for a line on
stdin before the first request (so that a test can time what it starts
between the two, without counting our start-up and handshakes).
--step: wait for a line on stdin before each request after the first (so
that a test can act on the edge between two requests on one connection).
Exits 1 when a connection fails or closes early, or an answer takes more
than --timeout seconds (10).
"""
import argparse
import re
import socket
import ssl
import sys


class Conn:
    def __init__(self, a, port):
        ctx = ssl.create_default_context(cafile=a.ca)
        if a.cert:
            ctx.load_cert_chain(a.cert, a.key)
        raw = socket.create_connection(("127.0.0.1", port), timeout=a.timeout)
        self.s = ctx.wrap_socket(raw, server_hostname="sip.edge.example")
        self.buf = b""

    def request(self, method, uri, n):
        self.s.sendall((
            "%s %s SIP/2.0\r\nVia: SIP/2.0/TLS 127.0.0.1:5;branch=z9hG4bKsc%d\r\n"
            "Max-Forwards: 70\r\nFrom: <sip:t@partner.example>;tag=1\r\nTo: <%s>\r\n"
            "Call-ID: sc%d@test\r\nCSeq: %d %s\r\nContent-Length: 0\r\n\r\n"
            % (method, uri, n, uri, n, n, method)).encode())
        while True:
            status = self.answer()
            if not status.startswith("SIP/2.0 1"):
                return status

    def answer(self):
        """The next whole message's first line (its header block in
        self.head)."""
        while True:
            head, sep, rest = self.buf.partition(b"\r\n\r\n")
            m = re.search(rb"(?im)^(?:content-length|l)\s*:\s*(\d+)", head)
            n = int(m.group(1)) if m else 0
            if sep and len(rest) >= n:
                self.buf = rest[n:]
                self.head = head
                return head.split(b"\r\n")[0].decode("ascii", "replace")
            d = self.s.recv(65536)
            if not d:
                raise OSError("the edge closed the connection")
            self.buf += d


def main():
    p = argparse.ArgumentParser()
    p.add_argument("ports")
    p.add_argument("--ca", required=True)
    p.add_argument("--cert")
    p.add_argument("--key")
    p.add_argument("--ready", action="store_true")
    p.add_argument("--step", action="store_true")
    p.add_argument("--timeout", type=float, default=10)
    p.add_argument("what", choices=["options", "message"])
    p.add_argument("arg")
    a = p.parse_args()
    conns = [Conn(a, int(port)) for port in a.ports.split(",")]
    if a.ready:
        print("ready", flush=True)
        sys.stdin.readline()
    for c in conns:
        if a.what == "options":
            for i in range(int(a.arg)):
                if a.step and i:
                    sys.stdin.readline()
                print(c.request("OPTIONS", "sip:sip.edge.example", i + 1), flush=True)
        else:
            print(c.request("MESSAGE", a.arg, 1), flush=True)


if __name__ == "__main__":  # tests/soak/sip_load.py imports Conn
    try:
        main()
    except (OSError, ssl.SSLError) as e:
        sys.exit("sip_client: %s" % e)
