#!/usr/bin/env python3
"""SIP churn for the soak (tests/soak/soak.sh), against the edge on
127.0.0.1, for --seconds:

  bob    one TLS connection on 443, registered as bob@edge.example, that
         answers 200 to every MESSAGE the edge forwards to it
  tls    connection after connection on 443: REGISTER uN@edge.example,
         MESSAGE to bob (bob's 200 comes back through the edge), OPTIONS,
         REGISTER Expires 0, close
  mtls   connection after connection on 5061 with the partner's
         certificate: OPTIONS, MESSAGE from carol@partner.example to bob

Each churn thread runs --rate rounds a second at most. Every answer that
is not 200 (or none within 10 s) is unexpected: printed as it happens
("unexpected: ..."). At the end one line: "sip_load: tls N mtls M bob K
unexpected U"; exit 1 when U > 0.
"""
import argparse
import os
import re
import socket
import ssl
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tools"))
import sip_client  # noqa: E402

lock = threading.Lock()
counts = {"tls": 0, "mtls": 0, "bob": 0, "unexpected": 0}


def count(key, what=None):
    """One more of key; or, with what, one more unexpected thing, said."""
    with lock:
        if what:
            counts["unexpected"] += 1
            print("unexpected: %s" % what, flush=True)
        else:
            counts[key] += 1


class Conn(sip_client.Conn):
    """sip_client's connection (127.0.0.1:port, the edge's certificate
    checked), with the partner's certificate when cert, and requests of any
    kind."""

    def __init__(self, a, port, cert=False):
        super().__init__(argparse.Namespace(ca=a.ca, cert=a.cert if cert else None, key=a.key,
                                            timeout=10), port)

    def message(self):
        first = self.answer()
        return first, self.head

    def request(self, method, uri, frm, to, tag, extra="", body=b""):
        self.send(method, uri, frm, to, tag, extra, body)
        while True:
            status = self.answer()
            if not status.startswith("SIP/2.0 1"):
                return status

    def send(self, method, uri, frm, to, tag, extra="", body=b""):
        self.s.sendall((
            "%s %s SIP/2.0\r\nVia: SIP/2.0/TLS 127.0.0.1:5;branch=z9hG4bKsl%s\r\n"
            "Max-Forwards: 70\r\nFrom: <%s>;tag=%s\r\nTo: <%s>\r\nCall-ID: %s@soak\r\n"
            "CSeq: 1 %s\r\n%sContent-Length: %d\r\n\r\n"
            % (method, uri, tag, frm, tag, to, tag, method, extra, len(body))).encode() + body)


# bob's registration, and how often bob renews it on its connection: well
# inside it, as a client does (the edge's default is 600 s).
BOB_EXPIRES = 600
BOB_RENEW = float(os.environ.get("SOAK_BOB_RENEW", "240"))


def bob(a, ready, deadline):
    c = Conn(a, a.tls)
    reg = ("REGISTER", "sip:edge.example", "sip:bob@edge.example", "sip:bob@edge.example")
    contact = "Contact: <sip:bob@127.0.0.1:5;transport=tls>\r\nExpires: %d\r\n" % BOB_EXPIRES
    st = c.request(*reg, "bobreg", contact)
    if not st.startswith("SIP/2.0 200"):
        count("bob", "bob's REGISTER: " + st)
    ready.set()
    c.s.settimeout(1)
    renewed, n = time.time(), 0
    while time.time() < deadline + 5:
        if time.time() - renewed > BOB_RENEW:  # its answer comes in the loop below
            n += 1
            c.send(*reg, "bobreg%d" % n, contact)
            renewed = time.time()
        try:
            first, head = c.message()
        except socket.timeout:
            continue
        if first.startswith("SIP/2.0 "):
            if not first.startswith("SIP/2.0 200"):
                count("bob", "bob's renewed REGISTER: " + first)
            continue
        if not first.startswith("MESSAGE "):
            continue
        keep = [ln for ln in head.split(b"\r\n")[1:]
                if re.match(rb"(?i)(via|from|to|call-id|cseq)\s*:", ln)]
        c.s.sendall(b"SIP/2.0 200 OK\r\n" + b"\r\n".join(keep)
                    + b"\r\nContent-Length: 0\r\n\r\n")
        count("bob")


def churn(a, name, deadline):
    n = 0
    while time.time() < deadline:
        start = time.time()
        n += 1
        tag = "%s%d" % (name, n)
        try:
            if name == "tls":
                c = Conn(a, a.tls)
                aor = "sip:u%d@edge.example" % n
                contact = "Contact: <sip:u%d@127.0.0.1:5;transport=tls>\r\n" % n
                steps = [
                    ("REGISTER", "sip:edge.example", aor, aor, contact),
                    ("MESSAGE", "sip:bob@edge.example", aor, "sip:bob@edge.example", ""),
                    ("OPTIONS", "sip:sip.edge.example", aor, "sip:sip.edge.example", ""),
                    ("REGISTER", "sip:edge.example", aor, aor, contact + "Expires: 0\r\n"),
                ]
            else:
                c = Conn(a, a.mtls, cert=True)
                carol = "sip:carol@partner.example"
                steps = [
                    ("OPTIONS", "sip:sip.edge.example", carol, "sip:sip.edge.example", ""),
                    ("MESSAGE", "sip:bob@edge.example", carol, "sip:bob@edge.example", ""),
                ]
            for i, (method, uri, frm, to, extra) in enumerate(steps):
                body = b"soak" if method == "MESSAGE" else b""
                if body:
                    extra += "Content-Type: text/plain\r\n"
                st = c.request(method, uri, frm, to, "%s-%d" % (tag, i), extra, body)
                if not st.startswith("SIP/2.0 200"):
                    count(name, "%s %s on %s: %s" % (method, uri, name, st))
            c.s.close()
            count(name)
        except (OSError, ssl.SSLError) as e:
            count(name, "%s round %d: %s" % (name, n, e))
        time.sleep(max(0, 1 / a.rate - (time.time() - start)))


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--tls", type=int, required=True)
    p.add_argument("--mtls", type=int, required=True)
    p.add_argument("--ca", required=True)
    p.add_argument("--cert", required=True)
    p.add_argument("--key", required=True)
    p.add_argument("--seconds", type=float, required=True)
    p.add_argument("--rate", type=float, default=5)
    a = p.parse_args()
    deadline = time.time() + a.seconds
    ready = threading.Event()
    threads = [threading.Thread(target=bob, args=(a, ready, deadline), daemon=True)]
    threads[0].start()
    if not ready.wait(10):
        sys.exit("sip_load: bob could not register")
    for name in ("tls", "mtls"):
        threads.append(threading.Thread(target=churn, args=(a, name, deadline), daemon=True))
        threads[-1].start()
    for t in threads:
        t.join()
    print("sip_load: tls %(tls)d mtls %(mtls)d bob %(bob)d unexpected %(unexpected)d"
          % counts, flush=True)
    sys.exit(1 if counts["unexpected"] else 0)


main()
