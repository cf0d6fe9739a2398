#!/usr/bin/env python3
"""SIP clients over TLS that stop reading, for tests/cli/test_faults_slow.sh:
one connection to 127.0.0.1:PORT (the edge's certificate checked against
--ca for sip.edge.example), with a receive buffer of 4 KiB so that what the
edge sends piles up on its side, not in our kernel.

  sip_stall.py PORT --ca CA options N
      sends N OPTIONS to the edge and reads none of the answers
  sip_stall.py PORT --ca CA register AOR
      REGISTERs AOR, reads the 200, then reads nothing more
  sip_stall.py PORT --ca CA message AOR N SIZE
      sends N MESSAGEs of SIZE bytes to AOR, reading nothing

Prints "sent K" once done, or once a send has waited 2 s (the edge stopped
reading us: K is how many went), then holds the connection until killed.
"""
import argparse
import socket
import ssl
import sys
import time


def request(method, uri, n, body=b""):
    return (
        "%s %s SIP/2.0\r\nVia: SIP/2.0/TLS 127.0.0.1:5;branch=z9hG4bKst%d\r\n"
        "Max-Forwards: 70\r\nFrom: <sip:t@edge.example>;tag=%d\r\nTo: <%s>\r\n"
        "Call-ID: st%d@test\r\nCSeq: %d %s\r\nContact: <sip:t@127.0.0.1:5;transport=tls>\r\n"
        "Content-Type: text/plain\r\nContent-Length: %d\r\n\r\n"
        % (method, uri, n, n, uri, n, n, method, len(body))).encode() + body


def main():
    p = argparse.ArgumentParser()
    p.add_argument("port", type=int)
    p.add_argument("--ca", required=True)
    p.add_argument("what", choices=["options", "register", "message"])
    p.add_argument("args", nargs="+")
    a = p.parse_args()
    raw = socket.socket()
    raw.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    raw.settimeout(10)
    raw.connect(("127.0.0.1", a.port))
    s = ssl.create_default_context(cafile=a.ca).wrap_socket(
        raw, server_hostname="sip.edge.example")
    if a.what == "register":
        s.sendall(request("REGISTER", "sip:edge.example", 1).replace(
            b"To: <sip:edge.example>", ("To: <sip:%s>" % a.args[0]).encode()))
        print(s.recv(4096).split(b"\r\n")[0].decode(), flush=True)
        msgs = []
    elif a.what == "options":
        msgs = (request("OPTIONS", "sip:sip.edge.example", i)
                for i in range(int(a.args[0])))
    else:
        body = b"x" * int(a.args[2])
        msgs = (request("MESSAGE", "sip:" + a.args[0], i, body)
                for i in range(int(a.args[1])))
    s.settimeout(2)
    sent = 0
    try:
        for m in msgs:
            s.sendall(m)
            sent += 1
    except (socket.timeout, OSError) as e:
        print("blocked: %s" % e, flush=True)
    print("sent %d" % sent, flush=True)
    while True:
        time.sleep(60)


try:
    main()
except (OSError, ssl.SSLError) as e:
    sys.exit("sip_stall: %s" % e)
